"""Replay of a recorded range: the playback clock, the plan of clips (one deleted: listed
missing, the rest plays at the right offset), event jumps on SQLite and PostgreSQL, the
decoder thread, and recorded sensing replayed as a 3D timeline and compared."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.clock import SimulatedClock
from engine.cv import import_cv2
from engine.frames import Frame
from engine.history.replay import (
    SPEEDS,
    ClipFrameReader,
    NextEventRequest,
    PlaybackClock,
    ReplayCancelledError,
    ReplayDecoder,
    ReplayPlan,
    ReplayPlanRequest,
    SensingReplayRequest,
    SensingTimeline,
    compare_sensing,
    timeline_interval_s,
)
from engine.sensing.recording.recorder import RecordingReader
from engine.sensing.recording.replay import ReplaySettings, replay_recording
from engine.sensing.view import SensingSnapshot, VoxelView
from engine.store import Store
from tests.engine.sensing.test_service import ROOM
from tests.engine.test_history_events import seed_clip, seed_events, seed_site
from tests.waiting import wait_until

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
FPS = 10.0
TENS = (slice(8, 40), slice(8, 40))  # two blocks whose grey levels number the frame
UNITS = (slice(8, 40), slice(48, 80))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# ---------------------------------------------------------------------------- playback clock


def test_playback_moves_at_the_chosen_speed_pauses_and_stops_at_the_end() -> None:
    clock = SimulatedClock()
    playback = PlaybackClock(at(0), at(60), clock)
    assert playback.position() == at(0) and not playback.playing
    clock.advance(5)
    assert playback.position() == at(0)  # paused until played
    playback.play()
    clock.advance(2)
    assert playback.position() == at(2)
    playback.set_speed(4)
    clock.advance(2.5)
    assert playback.position() == at(12) and playback.speed == 4
    playback.set_speed(0.25)
    clock.advance(4)
    assert playback.position() == at(13)
    assert playback.position(clock.monotonic() + 4) == at(14)  # at a given monotonic time
    playback.pause()
    clock.advance(10)
    assert playback.position() == at(13) and not playback.playing
    playback.set_speed(16)
    playback.play()
    clock.advance(10)
    assert playback.position() == at(60) and not playback.playing  # stopped at the end
    playback.play()
    assert not playback.playing  # nothing left to play


def test_speeds_are_limited_and_a_wrong_one_names_the_allowed_values() -> None:
    playback = PlaybackClock(at(0), at(10), SimulatedClock())
    for speed in SPEEDS:
        playback.set_speed(speed)
    with pytest.raises(ValueError, match=r"0\.25×, 0\.5×, 1×, 2×, 4×, 8×, 16×; got 3"):
        playback.set_speed(3)
    assert playback.speed == 16


def test_seek_and_step_are_clamped_and_a_step_pauses() -> None:
    clock = SimulatedClock()
    playback = PlaybackClock(at(0), at(10), clock, at=at(5))
    assert playback.position() == at(5)
    assert playback.seek(at(-3)) == at(0)
    assert playback.seek(at(99)) == at(10)
    playback.seek(at(4))
    playback.play()
    clock.advance(1)
    assert playback.step(1, FPS) == at(5.1) and not playback.playing
    assert playback.step(-3, FPS) == at(4.8)
    assert playback.step(-1000, FPS) == at(0)
    playback.seek(at(3))
    playback.play()
    clock.advance(0.5)
    assert playback.seek(at(7)) == at(7) and playback.playing  # playing goes on playing
    clock.advance(1)
    assert playback.position() == at(8)
    with pytest.raises(ValueError, match="ends before it starts"):
        PlaybackClock(at(5), at(5), clock)


# ------------------------------------------------------------------------------------ clips


def write_clip(path: Path, vtest: Path, first: int, count: int) -> None:
    """``count`` frames of vtest.avi at 10 fps, frame ``n = first + i`` marked by two grey
    blocks, its tens and its units (level 30 + 20·digit: far apart, so compression cannot
    confuse them)."""
    cv2 = import_cv2()
    source = cv2.VideoCapture(str(vtest))
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (768, 576))
    try:
        for index in range(first, first + count):
            ok, image = source.read()
            assert ok
            image[TENS] = 30 + 20 * (index // 10)
            image[UNITS] = 30 + 20 * (index % 10)
            writer.write(image)
    finally:
        writer.release()
        source.release()


def frame_number(frame: Frame | None) -> int:
    assert frame is not None
    tens, units = (round((float(np.mean(frame.image[b])) - 30) / 20) for b in (TENS, UNITS))
    return 10 * tens + units


@pytest.fixture
def recorded(store: Store, tmp_path: Path, vtest_avi: Path) -> tuple[Store, Path]:
    """Cameras ``gate`` (clips 0–5 s and 5–10 s, the second deleted) and ``yard`` (2–7 s),
    frames numbered by their second × 10 from 12:00:00; events at 1, 3, 3, 8 and 30 s."""
    media = tmp_path / "media"
    ids = seed_site(store)
    write_clip(media / "clips/gate/a.mp4", vtest_avi, 0, 50)
    write_clip(media / "clips/gate/b.mp4", vtest_avi, 50, 50)
    write_clip(media / "clips/yard/c.mp4", vtest_avi, 20, 50)
    seed_clip(store, ids["gate"], "clips/gate/a.mp4", at(0), 5)
    seed_clip(store, ids["gate"], "clips/gate/b.mp4", at(5), 5)
    seed_clip(store, ids["yard"], "clips/yard/c.mp4", at(2), 5)
    (media / "clips/gate/b.mp4").unlink()
    seed_events(
        store,
        [
            {"ts": at(1), "kind": "motion.started", "source": "camera:gate"},
            {"ts": at(3), "kind": "person.appeared", "source": "camera:yard"},
            {"ts": at(3), "kind": "motion.started", "source": "camera:yard"},
            {"ts": at(8), "kind": "sensing.blob_appeared", "source": "sensing:hall"},
            {"ts": at(30), "kind": "motion.started", "source": "camera:gate"},
        ],
    )
    return store, media


@pytest.mark.sql
def test_a_plan_lists_clips_missing_files_gaps_and_event_times(
    recorded: tuple[Store, Path],
) -> None:
    store, media = recorded
    plan = ReplayPlanRequest(at(0), at(12), None, media).run(store)
    assert plan.cameras == ("gate", "yard")
    assert [(c.path, c.present) for c in plan.clips["gate"]] == [
        ("clips/gate/a.mp4", True),
        ("clips/gate/b.mp4", False),
    ]
    assert [m.path for m in plan.missing] == ["clips/gate/b.mp4"]
    assert plan.describe_missing() == (
        "1 clip missing: gate 12:00:05–12:00:10 (clips/gate/b.mp4); playing the rest"
    )
    assert [(g.camera, g.start, g.end) for g in plan.gaps] == [
        ("gate", at(10), at(12)),
        ("yard", at(0), at(2)),
        ("yard", at(7), at(12)),
    ]
    assert plan.event_times == (at(1), at(3), at(3), at(8)) and not plan.events_truncated
    assert plan.next_event_time(at(1)) == at(3)
    assert plan.next_event_time(at(3), backwards=True) == at(1)
    assert plan.next_event_time(at(8)) is None
    only_yard = ReplayPlanRequest(at(0), at(12), ("yard", "nowhere"), media, 2).run(store)
    assert only_yard.cameras == ("yard",) and only_yard.missing == ()
    assert only_yard.event_times == (at(1), at(3)) and only_yard.events_truncated


@pytest.mark.sql
def test_continuous_recording_plays_any_moment_and_clips_fill_only_what_it_lacks(
    store: Store, tmp_path: Path, vtest_avi: Path
) -> None:
    """A camera with an event clip from before continuous recording began (0-4 s), then
    segments (4-8 s, 8-12 s) and an event clip inside them (5-7 s, the same footage):
    the plan plays the old clip, then the segments without switching to the inner clip,
    and only 12-14 s is a stretch nobody recorded. Playback crosses each boundary on the
    right frame."""
    media = tmp_path / "media"
    gate = seed_site(store)["gate"]
    for path, first, count, start, kind in (
        ("clips/gate/old.mp4", 0, 40, 0.0, "clip"),
        ("recordings/gate/s1.mp4", 40, 40, 4.0, "segment"),
        ("recordings/gate/s2.mp4", 80, 40, 8.0, "segment"),
        ("clips/gate/inside.mp4", 50, 20, 5.0, "clip"),
    ):
        write_clip(media / path, vtest_avi, first, count)
        seed_clip(store, gate, path, at(start), count / FPS, kind)
    plan = ReplayPlanRequest(at(0), at(14), ("gate",), media).run(store)
    assert [c.path for c in plan.clips["gate"]] == [
        "clips/gate/old.mp4",
        "recordings/gate/s1.mp4",
        "recordings/gate/s2.mp4",
    ]
    assert [(g.start, g.end) for g in plan.gaps] == [(at(12), at(14))]
    clock = SimulatedClock()
    playback = PlaybackClock(plan.start, plan.end, clock, at=at(3.85))
    decoder = ReplayDecoder(plan, playback, clock)
    try:
        seen = []
        for _ in range(90):  # 3.85 s to 12.75 s, a tenth at a time
            decoder.decode_once()
            seen.append(
                frame_number(decoder.frame_getter("gate")())
                if playback.position() < at(12)
                else None
            )
            playback.seek(playback.position() + timedelta(seconds=0.1))
        played = [n for n in seen if n is not None]
        assert played == list(range(38, 120))  # every frame, in order, across both joins
        assert decoder.status("gate") == "No recording at 12:00:12"
    finally:
        decoder.close()


@pytest.mark.sql
def test_an_attached_console_fetches_each_segment_when_playback_reaches_it(
    store: Store, tmp_path: Path, vtest_avi: Path
) -> None:
    """Continuous recording kept on an engine's machine: the plan of a range fetches none
    of its segments (a day is thousands of files); the replay fetches each as it plays it."""
    media, cache = tmp_path / "engine", tmp_path / "from-engines"
    gate = seed_site(store)["gate"]
    for path, first, start in (
        ("recordings/gate/s1.mp4", 0, 0.0),
        ("recordings/gate/s2.mp4", 40, 4.0),
    ):
        write_clip(media / path, vtest_avi, first, 40)
        seed_clip(store, gate, path, at(start), 4.0, "segment")
    asked: list[str] = []

    def fetch(file: Path) -> Path:
        asked.append(file.relative_to(cache).as_posix())
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes((media / file.relative_to(cache)).read_bytes())
        return file

    plan = ReplayPlanRequest(at(0), at(8), ("gate",), cache, fetch=fetch).run(store)
    assert asked == [] and plan.missing == ()
    clock = SimulatedClock()
    playback = PlaybackClock(plan.start, plan.end, clock, at=at(1.05))
    decoder = ReplayDecoder(plan, playback, clock)
    try:
        decoder.decode_once()
        assert frame_number(decoder.frame_getter("gate")()) == 10
        assert asked == ["recordings/gate/s1.mp4"]
        playback.seek(at(5.05))
        decoder.decode_once()
        assert frame_number(decoder.frame_getter("gate")()) == 50
        assert asked == ["recordings/gate/s1.mp4", "recordings/gate/s2.mp4"]
    finally:
        decoder.close()


def test_an_attached_consoles_plan_fetches_clips_other_machines_keep(
    recorded: tuple[Store, Path], tmp_path: Path
) -> None:
    """A console attached to a shared site has an empty cache: the plan fetches each clip
    (with the console's fetch) and counts only those it could not get as missing."""
    store, media = recorded
    cache = tmp_path / "from-engines"
    asked: list[Path] = []

    def fetch(file: Path) -> Path:
        asked.append(file)
        kept = media / file.relative_to(cache)
        if not kept.is_file():
            raise RuntimeError("the engine no longer has it")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(kept.read_bytes())
        return file

    plan = ReplayPlanRequest(at(0), at(12), None, cache, fetch=fetch).run(store)
    assert sorted(p.relative_to(cache).as_posix() for p in asked) == [
        "clips/gate/a.mp4",
        "clips/gate/b.mp4",
        "clips/yard/c.mp4",
    ]
    assert [(c.path, c.present) for c in plan.clips["gate"]] == [
        ("clips/gate/a.mp4", True),
        ("clips/gate/b.mp4", False),
    ]
    assert [m.path for m in plan.missing] == ["clips/gate/b.mp4"]
    assert (cache / "clips/yard/c.mp4").read_bytes() == (media / "clips/yard/c.mp4").read_bytes()


def test_the_rest_plays_at_the_right_offset_and_missing_or_unrecorded_moments_say_why(
    recorded: tuple[Store, Path],
) -> None:
    store, media = recorded
    plan = ReplayPlanRequest(at(0), at(12), None, media).run(store)
    clock = SimulatedClock()
    playback = PlaybackClock(plan.start, plan.end, clock, at=at(2.35))
    decoder = ReplayDecoder(plan, playback, clock)
    try:
        decoder.decode_once()
        gate, yard = decoder.frame_getter("gate")(), decoder.frame_getter("yard")()
        assert frame_number(gate) == 23 and frame_number(yard) == 23
        assert gate is not None and gate.wall_at == at(2.3)
        assert yard is not None and yard.wall_at == at(2.3)
        assert decoder.status("gate") == ""
        decoder.decode_once()  # the same moment: the same frame, the same seq
        assert decoder.frame_getter("gate")() is gate
        playback.seek(at(6.04))
        decoder.decode_once()
        assert decoder.frame_getter("gate")() is None
        assert decoder.status("gate") == "Clip missing: clips/gate/b.mp4"
        assert frame_number(decoder.frame_getter("yard")()) == 60  # plays on
        playback.seek(at(11))
        decoder.decode_once()
        assert decoder.status("gate") == "No recording at 12:00:11"
        assert decoder.status("yard") == "No recording at 12:00:11"
    finally:
        decoder.close()


def test_a_reader_decodes_on_when_moving_forward_and_seeks_on_jumps(
    recorded: tuple[Store, Path],
) -> None:
    store, media = recorded
    plan = ReplayPlanRequest(at(0), at(12), ("gate",), media).run(store)
    reader = ClipFrameReader("gate", plan.clips["gate"], media, SimulatedClock())
    try:
        numbers = [frame_number(reader.frame_at(at(s / 10 + 0.01)).frame) for s in range(0, 20)]
        assert numbers == list(range(20))
        assert reader.seeks == 1 and reader.decoded == 20
        # 2 s on: decoding on costs less than a seek at these costs…
        reader.grab_cost_s, reader.seek_cost_s = 0.0005, 0.03
        assert frame_number(reader.frame_at(at(4.0)).frame) == 40 and reader.seeks == 1
        assert frame_number(reader.frame_at(at(1.05)).frame) == 10  # back: a seek
        assert reader.seeks == 2
        reader.grab_cost_s, reader.seek_cost_s = 0.05, 0.03  # …with a slow decoder, a seek
        assert frame_number(reader.frame_at(at(3.5)).frame) == 35
        assert reader.seeks == 3
        assert frame_number(reader.frame_at(at(4.99)).frame) == 49
        assert reader.frame_at(at(5.2)).reason == "clip missing: clips/gate/b.mp4"
    finally:
        reader.close()
    yard = ClipFrameReader("yard", plan_yard(store, media).clips["yard"], media, SimulatedClock())
    try:
        last = yard.frame_at(at(7.3))  # past its last frame (6.9 s), within the slack
        assert frame_number(last.frame) == 69
        assert yard.frame_at(at(7.6)).reason == "no recording at 12:00:07"
    finally:
        yard.close()


def plan_yard(store: Store, media: Path) -> ReplayPlan:
    return ReplayPlanRequest(at(0), at(12), ("yard",), media).run(store)


def test_the_decoder_thread_follows_playback_and_stops_on_close(
    recorded: tuple[Store, Path],
) -> None:
    store, media = recorded
    plan = ReplayPlanRequest(at(0), at(12), ("yard",), media).run(store)
    clock = SimulatedClock()
    playback = PlaybackClock(plan.start, plan.end, clock, at=at(2))
    decoder = ReplayDecoder(plan, playback, clock)
    decoder.start()
    try:
        assert clock.wait_for_waiters(1)
        assert frame_number(decoder.frame_getter("yard")()) == 20
        playback.set_speed(4)
        playback.play()
        seen = []
        for _ in range(10):
            clock.advance(0.04)  # one decoder period: 0.16 s of replay at 4×
            assert clock.wait_for_waiters(1)
            seen.append(frame_number(decoder.frame_getter("yard")()))
        assert seen == sorted(seen) and seen[-1] == 36  # 2 s + 10 × 0.16 s
        playback.pause()
        playback.seek(at(6))
        decoder.wake()  # at once, not at the next period
        assert wait_until(lambda: decoder.position == at(6))
        assert frame_number(decoder.frame_getter("yard")()) == 60
    finally:
        decoder.close()
    assert decoder.passes > 10


@pytest.mark.sql
def test_next_event_forwards_backwards_and_by_source(recorded: tuple[Store, Path]) -> None:
    store, _ = recorded
    ahead = NextEventRequest(at(1)).run(store)
    assert ahead is not None and ahead.ts == at(3) and ahead.kind == "person.appeared"
    tie = NextEventRequest(at(3)).run(store)
    assert tie is not None and tie.ts == at(8) and tie.source == "sensing:hall"
    back = NextEventRequest(at(3), backwards=True).run(store)
    assert back is not None and back.ts == at(1)
    assert NextEventRequest(at(1), backwards=True).run(store) is None
    assert NextEventRequest(at(30)).run(store) is None
    gate = NextEventRequest(at(1), sources=("camera:gate",)).run(store)
    assert gate is not None and gate.ts == at(30)


def test_a_plan_refuses_naive_or_reversed_ranges(recorded: tuple[Store, Path]) -> None:
    store, media = recorded
    with pytest.raises(ValueError, match="ends before it starts"):
        ReplayPlanRequest(at(5), at(1), None, media).run(store)
    with pytest.raises(ValueError, match="timezone-aware"):
        ReplayPlanRequest(datetime(2026, 3, 1), at(1), None, media).run(store)


def _empty_plan(media: Path) -> ReplayPlan:
    return ReplayPlan(at(0), at(1), media, (), {}, (), (), ())


def test_a_plan_with_nothing_missing_says_nothing(tmp_path: Path) -> None:
    assert _empty_plan(tmp_path).describe_missing() == ""


# ---------------------------------------------------------------------------------- sensing


def recorded_range(directory: Path) -> tuple[datetime, datetime]:
    """The first and last record's wall times (UTC) of a sensing recording."""
    extent = RecordingReader(directory).extent()
    assert extent is not None
    return datetime.fromtimestamp(extent[0], UTC), datetime.fromtimestamp(extent[1], UTC)


@pytest.mark.slow
def test_a_sensing_timeline_hands_out_the_3d_snapshot_of_each_moment(
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, _ = live_run
    start, end = recorded_range(directory)
    timeline = SensingReplayRequest(directory, ROOM, start, end).run()
    span_s = (end - start).total_seconds()
    assert abs(len(timeline) - span_s / 0.5) <= 3  # one per half second
    assert timeline.times == sorted(timeline.times)
    assert timeline.at(start - timedelta(seconds=1)) is None
    assert timeline.at(end + timedelta(seconds=60)) is None  # nothing recorded after
    middle = timeline.times[len(timeline) // 2]
    snapshot = timeline.at(middle + timedelta(seconds=0.2))
    assert snapshot is not None and snapshot.room_id == ROOM.room_id
    assert snapshot is not None and any(n.online for n in snapshot.nodes)
    with_blobs = [timeline.at(ts) for ts in timeline.times]
    assert any(s is not None and s.blobs for s in with_blobs)
    voxels = snapshot.voxels
    assert voxels is not None and voxels.values.size == int(np.prod(voxels.shape))
    # The same blobs as a replay that hands out nothing: snapshots do not change results.
    plain = replay_recording(
        directory, ROOM, from_wall_s=start.timestamp(), to_wall_s=end.timestamp()
    )
    assert timeline.report is not None and timeline.report.blobs == plain.blobs
    assert timeline.nbytes() / len(timeline) < 40_000


def test_long_ranges_thin_the_snapshots_to_a_bound() -> None:
    assert timeline_interval_s(at(0), at(60), 0.5) == 0.5
    assert timeline_interval_s(at(0), at(3600), 0.5) == 0.5
    assert timeline_interval_s(at(0), at(4 * 3600), 0.5) == 2.0
    values = np.zeros(1000, np.float32)
    values[:100] = np.linspace(0.0, 0.5, 100)  # 60 voxels over 20 % of the 0.5 peak
    snapshot = SensingSnapshot(
        "hall",
        "Hall",
        (10.0, 10.0, 1.0),
        False,
        0.0,
        (),
        (),
        (),
        VoxelView((0.0, 0.0, 0.0), 1.0, (10, 10, 10), values),
        6,
        0.123,
    )
    one = SensingTimeline("hall")
    one.add(at(0), snapshot)
    one.add(at(0.2), snapshot)  # sooner than the interval: skipped
    assert len(one) == 1
    restored = one.at(at(0.3))
    assert restored is not None and restored.voxels is not None
    shown = restored.voxels.values
    assert np.count_nonzero(shown) == 80 and np.allclose(shown[20:100], values[20:100], atol=1e-3)
    timeline = SensingTimeline("hall", max_bytes=4 * one.nbytes())
    for step in range(40):
        timeline.add(at(step * 0.5), snapshot)
    assert timeline.nbytes() <= timeline.max_bytes and timeline.thinned >= 3
    assert timeline.interval_s == 0.5 * 2**timeline.thinned
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(timeline.times)}
    assert min(gaps) >= timeline.interval_s * 0.999


def test_compare_sensing_with_another_motion_threshold_finds_other_blobs(
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, _ = live_run
    start, end = recorded_range(directory)
    same = compare_sensing(directory, ROOM, start, end, ReplaySettings())
    assert same.counts["baseline"] > 0
    assert same.counts["matched"] == same.counts["baseline"] == same.counts["other"]
    assert all(m.distance_m == 0.0 for m in same.matches)
    deaf = compare_sensing(directory, ROOM, start, end, ReplaySettings(motion_threshold=5.0))
    assert deaf.other_settings["motion_threshold"] == 5.0
    assert deaf.counts["other"] != deaf.counts["baseline"]
    assert deaf.counts["only_baseline"] == deaf.counts["baseline"] and deaf.matches == ()
    assert "0 matched" in deaf.summary()


def test_compare_sensing_reports_progress_over_both_replays_and_can_be_cancelled(
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, _ = live_run
    start, end = recorded_range(directory)
    fractions: list[float] = []
    compare_sensing(directory, ROOM, start, end, ReplaySettings(), progress=fractions.append)
    # The first replay ends at one half, the second at the whole (a replay this short
    # reports only its end; longer ones also every quarter second on the way).
    assert fractions == sorted(fractions) and all(0.0 <= f <= 1.0 for f in fractions)
    assert 0.5 in fractions and fractions[-1] == 1.0

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ReplayCancelledError, match="cancelled"):
        compare_sensing(directory, ROOM, start, end, ReplaySettings(), cancel=cancel)


def test_a_replayed_blob_is_explained_from_its_replayed_tick(
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, _ = live_run
    start, end = recorded_range(directory)
    timeline = SensingReplayRequest(directory, ROOM, start, end).run()
    index = next(i for i in range(len(timeline)) if timeline.snapshot(i).blobs)
    blob = timeline.snapshot(index).blobs[0]
    explanation = timeline.explain(index, blob.track_id)
    assert explanation is not None
    assert explanation.room_id == ROOM.room_id and explanation.track_id == blob.track_id
    assert explanation.position == blob.position and explanation.value == blob.value
    assert explanation.shares and abs(sum(s.share for s in explanation.shares) - 1.0) < 1e-6
    nodes = {node.node_id for node in ROOM.nodes}
    assert all({s.node_a, s.node_b} <= nodes and s.activation > 0 for s in explanation.shares)
    # A blob that snapshot does not hold, or a moment outside the range: nothing.
    assert timeline.explain(index, 999_999) is None
    assert timeline.explain(len(timeline), blob.track_id) is None
    assert timeline.explain(-1, blob.track_id) is None
