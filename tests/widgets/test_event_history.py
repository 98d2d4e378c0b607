"""Events pane and clip player, rendered for real, playing a real H.264 clip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer
from pytestqt.qtbot import QtBot

from engine.history.events import EventFilter, EventView
from widgets.clip_player import ClipPlayer
from widgets.event_history import MAX_ROWS, NO_CLIP_TEXT, Column, EventHistoryPane

T0 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
CAMERAS = [("gate", "Front gate"), ("yard", "Yard")]
CLIP_REL = "clips/gate/clip.mp4"
CLIP_FPS, CLIP_FRAMES = 10, 40  # a 4.0 s clip
CLIP_OFFSET_S = 2.5
READY = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia)


def write_h264_clip(path: Path) -> None:
    """A real MP4 the way the recorder writes them: libx264, yuv420p, a moving rectangle."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=CLIP_FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(CLIP_FRAMES):
            image = np.zeros((240, 320, 3), np.uint8)
            image[100:140, i * 7 : i * 7 + 40] = (255, 120, 0)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    write_h264_clip(root / CLIP_REL)
    return root


def event(
    id: int,
    kind: str,
    camera: str | None,
    *,
    seconds: int,
    clip: str | None = None,
    **detail: Any,
) -> EventView:
    return EventView(
        id=id,
        ts=T0 + timedelta(seconds=seconds),
        kind=kind,
        source=f"camera:{camera}" if camera else "engine",
        camera=camera,
        detail=detail,
        clip_path=clip,
        clip_offset_s=CLIP_OFFSET_S if clip else None,
    )


STORED = [  # newest first, as the engine's query returns them
    event(
        6,
        "face.recognised",
        "gate",
        seconds=60,
        clip=CLIP_REL,
        name="Alice Ward",
        person_id="Person_0001",
    ),
    event(5, "person.entered", "yard", seconds=50, track_id=7),
    event(
        4, "face.unknown", "gate", seconds=40, clip="clips/gate/gone.mp4", person_id="Person_0042"
    ),
    event(3, "camera.offline", "yard", seconds=30, detail="no frames for 10 s"),
    event(2, "face.recognised", "yard", seconds=20, name="Bob Stone", person_id="Person_0002"),
    event(1, "engine.started", None, seconds=10, version="0.1.0"),
]


class FakeHistory:
    """Stands in for the engine's history query: filters a list, records every filter."""

    def __init__(self, events: list[EventView]) -> None:
        self.events = events
        self.filters: list[EventFilter] = []
        self.kinds = sorted({e.kind for e in events})

    def query(self, flt: EventFilter) -> list[EventView]:
        self.filters.append(flt)
        rows = [
            e
            for e in self.events
            if (flt.camera is None or e.camera == flt.camera)
            and (flt.kind is None or e.kind == flt.kind)
            and (flt.person is None or flt.person.lower() in str(e.detail).lower())
        ]
        return rows[: flt.limit]

    def event_kinds(self) -> list[str]:
        return list(self.kinds)


def make_pane(
    qtbot: QtBot, media_root: Path, events: list[EventView] = STORED
) -> tuple[EventHistoryPane, FakeHistory]:
    history = FakeHistory(events)
    pane = EventHistoryPane(history.query, history.event_kinds, CAMERAS, media_root)
    qtbot.addWidget(pane)
    pane.resize(900, 600)
    pane.show()
    return pane, history


def texts(pane: EventHistoryPane, row: int) -> list[str]:
    model = pane.table.model()
    return [model.index(row, column).data() for column in Column]


def ids(pane: EventHistoryPane) -> list[int]:
    return [view.id for row in range(pane.row_count()) if (view := pane.event_at(row))]


def test_rows_are_newest_first_with_readable_columns(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    assert history.filters == [EventFilter(limit=500)]
    assert ids(pane) == [6, 5, 4, 3, 2, 1]
    local = (T0 + timedelta(seconds=60)).astimezone()
    assert texts(pane, 0) == [
        f"{local:%H:%M:%S}",
        "face.recognised",
        "Front gate",
        "Alice Ward",
        "Alice Ward",
        "▶",
    ]
    assert texts(pane, 1) == [texts(pane, 1)[0], "person.entered", "Yard", "", "track 7", ""]
    assert texts(pane, 2)[3:] == ["Person_0042", "Person_0042", "▶"]
    assert texts(pane, 3)[4] == "no frames for 10 s"
    assert texts(pane, 5)[1:4] == ["engine.started", "", ""]
    time_tip = pane.table.model().index(0, Column.TIME).data(Qt.ItemDataRole.ToolTipRole)
    assert f"{local:%Y-%m-%d %H:%M:%S}" in time_tip
    assert pane.status_text() == "6 events"


def test_camera_and_type_filters_query_and_narrow_rows(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    assert [pane.kind_combo.itemText(i) for i in range(pane.kind_combo.count())] == [
        "All types",
        *history.kinds,
    ]
    pane.camera_combo.setCurrentIndex(pane.camera_combo.findText("Front gate"))
    assert history.filters[-1] == EventFilter(camera="gate", limit=500)
    assert ids(pane) == [6, 4]

    pane.kind_combo.setCurrentIndex(pane.kind_combo.findText("face.unknown"))
    assert history.filters[-1] == EventFilter(camera="gate", kind="face.unknown", limit=500)
    assert pane.current_filter() == history.filters[-1]
    assert ids(pane) == [4]

    pane.camera_combo.setCurrentIndex(0)
    pane.kind_combo.setCurrentIndex(0)
    assert history.filters[-1] == EventFilter(limit=500)
    assert pane.row_count() == 6


def test_person_filter_waits_for_typing_to_pause(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    queries_before = len(history.filters)
    qtbot.keyClicks(pane.person_edit, "alice")
    assert len(history.filters) == queries_before  # not once per key
    qtbot.waitUntil(lambda: len(history.filters) == queries_before + 1, timeout=2000)
    assert history.filters[-1] == EventFilter(person="alice", limit=500)
    assert ids(pane) == [6]

    # Enter applies at once, without waiting for the timer.
    pane.person_edit.clear()
    qtbot.keyClicks(pane.person_edit, "person_0042")
    qtbot.keyClick(pane.person_edit, Qt.Key.Key_Return)
    assert history.filters[-1] == EventFilter(person="person_0042", limit=500)
    assert ids(pane) == [4]
    queries = len(history.filters)
    qtbot.wait(400)  # the pending timer was cancelled: no second identical query
    assert len(history.filters) == queries


def test_set_filter_and_refresh(qtbot: QtBot, media_root: Path) -> None:
    pane, history = make_pane(qtbot, media_root)
    pane.set_filter(camera="yard", kind="face.recognised", person="BOB")
    assert history.filters[-1] == EventFilter(
        camera="yard", kind="face.recognised", person="BOB", limit=500
    )
    assert pane.camera_combo.currentText() == "Yard"
    assert pane.person_edit.text() == "BOB"
    assert ids(pane) == [2]
    pane.set_filter(person="nobody")
    assert pane.row_count() == 0
    assert pane.status_text() == "No events match"
    with pytest.raises(ValueError, match="unknown camera"):
        pane.set_filter(camera="attic")

    pane.set_filter()
    history.events = [event(7, "door.forced", "gate", seconds=70), *STORED]
    history.kinds.append("door.forced")
    queries = len(history.filters)
    pane.refresh_button.click()
    assert len(history.filters) == queries + 1
    assert ids(pane)[0] == 7
    assert pane.kind_combo.findText("door.forced") > 0


def test_live_events_respect_the_filter(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    pane.set_filter(camera="gate", person="alice")
    assert ids(pane) == [6]
    pane.on_event_added(event(10, "face.recognised", "yard", seconds=80, name="Alice Ward"))
    pane.on_event_added(event(11, "face.recognised", "gate", seconds=81, name="Bob Stone"))
    pane.on_event_added(event(12, "person.entered", "gate", seconds=82, track_id=3))
    assert ids(pane) == [6]
    pane.on_event_added(
        event(13, "face.recognised", "gate", seconds=83, person_id="x", name="ALICE Ward")
    )
    pane.on_event_added(event(14, "face.unknown", "gate", seconds=84, person_id="Alice_9"))
    assert ids(pane) == [14, 13, 6]
    pane.on_event_added(event(14, "face.unknown", "gate", seconds=84, person_id="Alice_9"))
    assert ids(pane) == [14, 13, 6]  # already listed (a refresh raced the live event)

    pane.set_filter(kind="tick")
    for i in range(MAX_ROWS + 5):
        pane.on_event_added(event(100 + i, "tick", None, seconds=100 + i))
    assert pane.row_count() == MAX_ROWS
    assert ids(pane)[0] == 100 + MAX_ROWS + 4  # newest on top, oldest dropped


def test_opening_a_clip_emits_and_plays_from_the_event(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    assert pane.player is None  # created on first use
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000) as blocker:
        assert pane.open_row(0) is True
    assert blocker.args == [str(media_root / CLIP_REL), CLIP_OFFSET_S]
    player = pane.player
    assert isinstance(player, ClipPlayer) and player.isVisible()
    media = player.media_player
    qtbot.waitUntil(lambda: media.mediaStatus() in READY, timeout=5000)
    qtbot.waitUntil(lambda: abs(media.duration() - 4000) <= 300, timeout=5000)
    qtbot.waitUntil(lambda: media.position() >= CLIP_OFFSET_S * 1000, timeout=5000)
    assert player.error_text() == ""
    assert player.duration_label.text() == "00:04"
    assert player.slider.maximum() == media.duration()

    with qtbot.waitSignal(player.sig_position_changed, timeout=3000) as moved:
        player.slider.setValue(1000)  # what a drag on the slider does
    assert moved.args[0] == pytest.approx(1.0, abs=0.3)
    player.close_clip()
    assert media.mediaStatus() == QMediaPlayer.MediaStatus.NoMedia


def test_double_click_and_enter_open_the_clip(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    requests: list[tuple[str, float]] = []
    pane.sig_clip_requested.connect(lambda path, offset: requests.append((path, offset)))
    view = pane.table
    rect = view.visualRect(pane.model.index(0, Column.DETAIL))
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000):
        # A real double-click is press, release, double-click; QTest's DClick alone lacks
        # the first press, which QAbstractItemView needs to know the pressed row.
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(requests) == 1  # once per double-click, not once per click
    assert pane.player is not None
    pane.player.close_clip()

    view.setFocus()
    view.setCurrentIndex(pane.model.index(0, 0))
    assert pane.open_button.isEnabled()
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000):
        pane.open_button.click()
    # Re-opening while a load is under way cancels it quietly: the last clip plays, no error.
    player = pane.player
    qtbot.waitUntil(lambda: player.media_player.mediaStatus() in READY, timeout=5000)
    assert player.error_text() == ""
    assert len(requests) == 3


def test_missing_clip_file_is_explained(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    missing = pane.event_at(2)
    assert missing is not None and missing.clip_path == "clips/gate/gone.mp4"
    with qtbot.waitSignal(pane.sig_clip_requested, timeout=1000):
        assert pane.open_row(2) is False
    assert pane.player is not None and pane.player.isVisible()
    assert pane.player.error_text() == f"clip file missing: {media_root / 'clips/gate/gone.mp4'}"
    assert not pane.player.play_button.isEnabled()


def test_row_without_clip_says_so(qtbot: QtBot, media_root: Path) -> None:
    pane, _ = make_pane(qtbot, media_root)
    with qtbot.assertNotEmitted(pane.sig_clip_requested):
        assert pane.open_row(1) is False
    assert pane.status_text() == NO_CLIP_TEXT
    assert pane.player is None
    pane.table.setCurrentIndex(pane.model.index(1, 0))
    assert not pane.open_button.isEnabled()


def test_undecodable_clip_reports_the_backend_error(qtbot: QtBot, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"not really a video" * 50)
    player = ClipPlayer()
    qtbot.addWidget(player)
    player.show()
    with qtbot.waitSignal(player.sig_error, timeout=5000) as error:
        assert player.open(broken) is True
    assert error.args[0].startswith("cannot play clip")
    assert player.error_text() == error.args[0]

    # The same player recovers with a good clip afterwards.
    good = tmp_path / "good.mp4"
    write_h264_clip(good)
    player.open(good, 1.0)
    qtbot.waitUntil(lambda: player.media_player.mediaStatus() in READY, timeout=5000)
    assert player.error_text() == ""


def test_live_events_not_yet_stored_are_all_listed(qtbot) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from engine.history.events import EventView

    pane = EventHistoryPane(
        query=lambda _f: [], kinds=lambda: [], cameras=[("a", "A")], media_root=Path(".")
    )
    qtbot.addWidget(pane)
    for second in range(3):
        pane.on_event_added(
            EventView(
                id=0,
                ts=datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC),
                kind="camera.online",
                source="camera:a",
                camera="a",
                detail={},
                clip_path=None,
                clip_offset_s=None,
            )
        )
    assert pane.row_count() == 3
