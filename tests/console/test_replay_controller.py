"""The replay controller over a real query service and store (SQLite and PostgreSQL) with
real clips: the tiles show the replayed moment in the REPLAY state, a missing clip is named
and the rest plays, seeking and event jumps move everything, and stopping goes live again.
With a sensing recording, the sensing pane shows the replayed room."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.clock import REAL_CLOCK
from engine.frames import Frame
from engine.history.query_service import QueryService
from engine.history.replay import ReplayPlan, SensingComparison, SensingTimeline
from engine.sensing.recording.replay import ReplaySettings
from engine.store import Store
from tests.engine.sensing.test_service import ROOM
from tests.engine.test_history_events import seed_clip, seed_events, seed_site
from tests.engine.test_replay import frame_number, recorded_range, write_clip
from widgets.cameras.tile import CameraTile
from widgets.cameras.view import CameraGrid
from widgets.sensing.view import SensingPane
from widgets.timeline.api import MessageLevel
from widgets.timeline.replay import NOT_IN_REPLAY, ReplayController
from widgets.timeline.replay_bar import ReplayBar

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
LIVE = Frame(1, np.zeros((90, 160, 3), np.uint8), 0.0, 10.0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def live_frame() -> Frame:
    return LIVE


@pytest.fixture
def media(store: Store, tmp_path: Path, vtest_avi: Path) -> Path:
    """``gate``: clips 0–5 s (kept) and 5–10 s (deleted); ``yard``: 2–7 s; ``door`` has
    no clip. Events at 3 s and 8 s."""
    root = tmp_path / "media"
    ids = seed_site(store)
    write_clip(root / "clips/gate/a.mp4", vtest_avi, 0, 50)
    write_clip(root / "clips/gate/b.mp4", vtest_avi, 50, 50)
    write_clip(root / "clips/yard/c.mp4", vtest_avi, 20, 50)
    seed_clip(store, ids["gate"], "clips/gate/a.mp4", at(0), 5)
    seed_clip(store, ids["gate"], "clips/gate/b.mp4", at(5), 5)
    seed_clip(store, ids["yard"], "clips/yard/c.mp4", at(2), 5)
    (root / "clips/gate/b.mp4").unlink()
    seed_events(
        store,
        [
            {"ts": at(3), "kind": "person.appeared", "source": "camera:yard", "detail": {}},
            {"ts": at(8), "kind": "motion.started", "source": "camera:gate", "detail": {}},
        ],
    )
    return root


@pytest.fixture
def queries(store: Store) -> Iterator[QtQueryClient]:
    client = QtQueryClient(QueryService(store))
    yield client
    client.close()


def console_parts(qtbot: QtBot) -> tuple[CameraGrid, ReplayBar]:
    from widgets.cameras.api import CameraFeed

    grid = CameraGrid(
        [
            CameraFeed("gate", "Gate", live_frame),
            CameraFeed("yard", "Yard", live_frame),
            CameraFeed("door", "Door", live_frame),
        ]
    )
    bar = ReplayBar()
    for widget in (grid, bar):
        qtbot.addWidget(widget)
        widget.show()
    qtbot.waitUntil(lambda: all(t.isVisible() for t in grid.tiles))
    return grid, bar


def tile(grid: CameraGrid, camera: str) -> CameraTile:
    return next(t for t in grid.tiles if t.camera_id == camera)


def shown_number(grid: CameraGrid, camera: str) -> int | None:
    frame = tile(grid, camera)._frame
    return None if frame is None or frame is LIVE else frame_number(frame)


@pytest.fixture
def controller(qtbot: QtBot, queries: QtQueryClient, media: Path) -> Iterator[Any]:
    grid, bar = console_parts(qtbot)
    made = ReplayController(queries, REAL_CLOCK, media, grid, bar)
    yield made, grid, bar
    made.close()


def test_start_shows_the_replayed_moment_names_the_missing_clip_and_stop_goes_live(
    qtbot: QtBot, controller: Any
) -> None:
    replay, grid, bar = controller
    grid.refresh_tiles()
    assert tile(grid, "gate")._frame is LIVE
    positions: list[datetime] = []
    replay.sig_position_changed.connect(positions.append)
    with qtbot.waitSignal(replay.sig_replay_started, timeout=10_000) as started:
        replay.start(at(0), at(12), ("gate", "yard"), at=at(2.35))
    plan = started.args[0]
    assert isinstance(plan, ReplayPlan)
    qtbot.waitUntil(lambda: shown_number(grid, "gate") == 23, timeout=5000)
    qtbot.waitUntil(lambda: shown_number(grid, "yard") == 23, timeout=5000)
    assert tile(grid, "gate").replay_label == "REPLAY 12:00:02 ×1"
    assert tile(grid, "door").replay_status == NOT_IN_REPLAY
    # Site time (the tests show UTC): a plain time, as every pane shows it.
    assert bar.badge_text() == "REPLAY 2026-03-01 12:00:02 ×1"
    assert bar.message_label.text() == (
        "1 clip missing: gate 12:00:05–12:00:10 (clips/gate/b.mp4); playing the rest"
    )
    assert bar.message_level is MessageLevel.WARNING
    assert positions and positions[-1] == at(2.35)

    replay.seek(at(6.04))  # the timeline scrubs into the missing clip
    qtbot.waitUntil(lambda: shown_number(grid, "yard") == 60, timeout=5000)
    qtbot.waitUntil(lambda: tile(grid, "gate")._frame is None, timeout=5000)
    qtbot.waitUntil(
        lambda: tile(grid, "gate").replay_status == "Clip missing: clips/gate/b.mp4",
        timeout=5000,
    )
    assert positions[-1] == at(6.04)

    bar.next_event_button.click()  # the event at 8 s
    assert replay.playback.position() == at(8)
    bar.previous_event_button.click()
    assert replay.playback.position() == at(3)
    qtbot.waitUntil(lambda: shown_number(grid, "yard") == 30, timeout=5000)
    bar.step_forward_button.click()
    assert replay.playback.position() == at(3.1)
    qtbot.waitUntil(lambda: shown_number(grid, "yard") == 31, timeout=5000)

    bar.speed_actions[4].trigger()
    bar.play_button.click()
    assert replay.playback.playing and bar.playing
    qtbot.waitUntil(lambda: (shown_number(grid, "yard") or 0) >= 40, timeout=5000)
    assert "×4" in bar.badge_text()
    bar.play_button.click()
    assert not replay.playback.playing

    decoder = replay.decoder
    with qtbot.waitSignal(replay.sig_replay_stopped):
        bar.live_button.click()
    assert not replay.active and replay.decoder is None
    assert decoder is not None and decoder._thread is None  # joined
    grid.refresh_tiles()
    for camera in ("gate", "yard", "door"):
        assert tile(grid, camera)._frame is LIVE
        assert tile(grid, camera).replay_label is None
    assert not bar.message_label.isVisible()


def test_a_range_without_clips_says_so_and_every_tile_says_why(
    qtbot: QtBot, controller: Any
) -> None:
    replay, grid, bar = controller
    with qtbot.waitSignal(replay.sig_replay_started, timeout=10_000):
        replay.start(at(100), at(160), None)
    assert bar.message_label.text() == "No clips recorded in this range"
    qtbot.waitUntil(
        lambda: tile(grid, "yard").replay_status == "No recording at 12:01:40", timeout=5000
    )
    replay.stop()
    assert tile(grid, "yard").replay_label is None


def sensing_replay(
    qtbot: QtBot, queries: QtQueryClient, media: Path, directory: Path
) -> tuple[CameraGrid, ReplayBar, SensingPane, ReplayController]:
    """A replay into a shown Sensing pane of the room recorded in ``directory``."""
    grid, bar = console_parts(qtbot)
    pane = SensingPane()
    qtbot.addWidget(pane)
    pane.show()
    replay = ReplayController(
        queries,
        REAL_CLOCK,
        media,
        grid,
        bar,
        sensing_pane=pane,
        sensing_directory=directory,
        room=ROOM,
    )
    return grid, bar, pane, replay


@pytest.mark.slow
def test_the_sensing_pane_shows_the_replayed_room(
    qtbot: QtBot,
    queries: QtQueryClient,
    media: Path,
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, _ = live_run
    start, end = recorded_range(directory)
    _grid, bar, pane, replay = sensing_replay(qtbot, queries, media, directory)
    try:
        with qtbot.waitSignal(replay.sig_sensing_loaded, timeout=60_000) as loaded:
            replay.start(start, end, None, at=start + (end - start) / 2)
        timeline = loaded.args[0]
        assert isinstance(timeline, SensingTimeline) and len(timeline) > 0
        assert pane.replaying and pane.replay_label.text().startswith("REPLAY ")
        qtbot.waitUntil(lambda: pane.view.snapshot is not None, timeout=5000)
        assert pane.view.snapshot is not None and pane.view.snapshot.room_id == ROOM.room_id
        assert pane.current_room_id == ROOM.room_id

        # A click on a replayed blob explains it from the replayed tick, not the live one.
        index = next(i for i in range(len(timeline)) if timeline.snapshot(i).blobs)
        replay.seek(timeline.times[index])
        qtbot.waitUntil(lambda: bool(pane.view.snapshot and pane.view.snapshot.blobs), timeout=5000)
        track = pane.view.snapshot.blobs[0].track_id
        assert not replay.explain_blob("another-room", track)  # the live engine's
        assert replay.explain_blob(ROOM.room_id, track)
        shown = pane.view.explanation
        assert shown is not None and shown.track_id == track
        assert shown == timeline.explain(index, track)
        assert pane.explanation_table.explanation_model.rowCount() == len(shown.shares) > 0
        gone = next(
            i
            for i in range(len(timeline))
            if track not in {b.track_id for b in timeline.snapshot(i).blobs}
        )
        replay.seek(timeline.times[gone])  # a moment without the blob: nothing explained
        qtbot.waitUntil(lambda: pane.view.explanation is None, timeout=5000)

        with qtbot.waitSignal(replay.sig_sensing_loaded, timeout=60_000) as rerun:
            replay.rerun_sensing(ReplaySettings(motion_threshold=5.0))
        deaf = rerun.args[0]
        assert deaf.report is not None and deaf.report.blobs == []
        qtbot.waitUntil(lambda: "motion threshold 5" in pane.replay_label.text(), timeout=5000)
        with qtbot.waitSignal(replay.sig_sensing_compared, timeout=60_000) as compared:
            replay.compare_sensing(ReplaySettings(motion_threshold=5.0))
        comparison = compared.args[0]
        assert isinstance(comparison, SensingComparison)
        assert comparison.counts["other"] == 0 and comparison.counts["baseline"] > 0
        assert bar.message_label.text() == comparison.summary()
        replay.stop()
        assert not pane.replaying and not pane.replay_label.isVisible()
    finally:
        replay.close()


@pytest.mark.slow
def test_the_replay_follows_the_room_the_sensing_pane_shows(
    qtbot: QtBot,
    queries: QtQueryClient,
    media: Path,
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, _ = live_run
    start, end = recorded_range(directory)
    _grid, _bar, pane, replay = sensing_replay(qtbot, queries, media, directory)
    office = replace(ROOM, room_id="office", name="Front office")
    pane.set_rooms([(ROOM.room_id, ROOM.name), ("office", "Front office")])
    try:
        with qtbot.waitSignal(replay.sig_sensing_loaded, timeout=60_000):
            replay.start(start, end, None, at=start + (end - start) / 2)
        qtbot.waitUntil(lambda: pane.view.snapshot is not None, timeout=5000)
        assert pane.view.snapshot is not None and pane.view.snapshot.room_id == ROOM.room_id

        # The operator picks the other room: the replay re-runs that room's recording (here
        # the same folder, under the other room's id) and the pane draws it.
        assert pane.select_room("office")
        with qtbot.waitSignal(replay.sig_sensing_loaded, timeout=60_000) as loaded:
            replay.set_room(office, directory)
        assert loaded.args[0].room_id == "office"
        qtbot.waitUntil(
            lambda: pane.view.snapshot is not None and pane.view.snapshot.room_id == "office",
            timeout=5000,
        )
        assert pane.replaying
    finally:
        replay.close()


@pytest.mark.slow
def test_the_rerun_dialog_compares_with_progress_lists_blobs_and_cancels(
    qtbot: QtBot,
    queries: QtQueryClient,
    media: Path,
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    from widgets.sensing.compare import MATCHED, ONLY_ROOM
    from widgets.timeline.sensing_rerun import SensingRerun

    directory, _ = live_run
    start, end = recorded_range(directory)
    grid, bar = console_parts(qtbot)
    pane = SensingPane()
    qtbot.addWidget(pane)
    replay = ReplayController(
        queries,
        REAL_CLOCK,
        media,
        grid,
        bar,
        sensing_pane=pane,
        sensing_directory=directory,
        room=ROOM,
    )
    rerun = SensingRerun(replay, grid)
    try:
        assert rerun.open() is None  # nothing replayed yet
        with qtbot.waitSignal(replay.sig_sensing_loaded, timeout=60_000):
            replay.start(start, end, None)
        assert not bar.sensing_button.isHidden()
        with qtbot.waitSignal(bar.sig_sensing_requested):
            bar.sensing_button.click()
        dialog = rerun.open()
        assert dialog is not None and dialog.isVisible()
        assert dialog.settings() == ReplaySettings(
            motion_threshold=ROOM.motion_threshold, voxel_m=ROOM.voxel_m, max_zone=ROOM.max_zone
        )

        # Compare the room's settings with a deaf threshold: progress, then every blob
        # only with the room's settings.
        progress: list[tuple[str, float | None]] = []
        replay.sig_sensing_progress.connect(lambda text, f: progress.append((text, f)))
        dialog.threshold.setValue(500.0)
        with qtbot.waitSignal(replay.sig_sensing_compared, timeout=60_000) as compared:
            dialog.compare_button.click()
        comparison = compared.args[0]
        assert comparison.counts["baseline"] > 0 and comparison.counts["other"] == 0
        assert any(text.startswith("Comparing: replaying") for text, _ in progress)
        assert any(f is not None and 0 < f <= 1 for _, f in progress)
        assert dialog.table.rowCount() == comparison.counts["baseline"]
        assert dialog.table.item(0, 0).text() == ONLY_ROOM
        assert dialog.compare_button.isEnabled() and not dialog.strip.busy_bar.isVisible()

        # The same settings find the same blobs: all matched, none apart.
        dialog.reset_button.click()
        with qtbot.waitSignal(replay.sig_sensing_compared, timeout=60_000) as same:
            dialog.compare_button.click()
        assert same.args[0].counts["matched"] == comparison.counts["baseline"]
        assert dialog.table.item(0, 0).text() == MATCHED
        first = same.args[0].matches[0].baseline.appeared
        dialog.table.itemActivated.emit(dialog.table.item(0, 0))
        assert replay.playback is not None
        assert abs((replay.playback.position() - first).total_seconds()) < 0.5

        # Cancelled at once: said so, and the late result is dropped.
        with qtbot.waitSignal(replay.sig_sensing_compare_failed) as failed:
            replay.compare_sensing(ReplaySettings(motion_threshold=0.5))
            dialog.strip.cancel_button.click()
        assert failed.args == ["Comparison cancelled", True]
        assert dialog.strip.status() == "Comparison cancelled"
        with qtbot.assertNotEmitted(replay.sig_sensing_compared, wait=1500):
            pass

        # Replaying with other settings says what the 3D view now shows.
        dialog.threshold.setValue(5.0)
        with qtbot.waitSignal(replay.sig_sensing_loaded, timeout=60_000):
            dialog.rerun_button.click()
        qtbot.waitUntil(lambda: "motion threshold 0.05" in dialog.strip.status(), timeout=5000)

        replay.stop()
        assert rerun.dialog is None  # the dialog goes with the replay
    finally:
        rerun.close()
        replay.close()
