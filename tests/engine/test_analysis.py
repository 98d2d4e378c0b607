"""Motion gate, person detection, tracking and whole-video analysis on real footage."""

from __future__ import annotations

import hashlib
import math
import os
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import select

from engine.analyze import (
    VideoAnalysisError,
    analyze_video,
    container_creation_time,
    recording_time,
)
from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.cv import import_cv2
from engine.events import PeopleDetected
from engine.store import Store
from engine.store.models import Event, Media
from engine.vision.analysis import (
    RECENT_TRACKS,
    STILL_GATE_EVERY,
    CameraAnalyzer,
    DetectorSlots,
)
from engine.vision.detect import Detection, HogPersonDetector, _merge_crops, hog_confidence
from engine.vision.geometry import Box, iou, iou_matrix
from engine.vision.motion import MotionGate
from engine.vision.track import COAST_S, LOST_S, MultiTracker

ANALYSIS_KINDS = ("person.appeared", "person.left", "face.recognised", "analysis.error")


def frames(path: Path, count: int) -> list[np.ndarray]:
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(path))
    out = []
    for _ in range(count):
        ok, image = capture.read()
        assert ok
        out.append(image)
    capture.release()
    return out


def test_iou_and_its_matrix_agree() -> None:
    a, b, c = Box(0, 0, 10, 10), Box(5, 5, 10, 10), Box(50, 50, 5, 5)
    assert iou(a, a) == 1.0 and iou(a, c) == 0.0
    assert iou(a, b) == pytest.approx(25 / 175)
    matrix = iou_matrix([a, b], [a, b, c])
    assert matrix.shape == (2, 3)
    assert matrix[0, 1] == pytest.approx(iou(a, b)) and matrix[1, 2] == 0.0


def test_motion_gate_ignores_a_still_scene_and_finds_a_moving_object() -> None:
    gate = MotionGate()
    background = np.full((240, 320, 3), 90, np.uint8)
    for _ in range(30):
        assert gate.apply(background).regions == ()
    moving = background.copy()
    moving[100:160, 200:230] = 220
    result = gate.apply(moving)
    assert len(result.regions) == 1
    region = result.regions[0]
    assert iou(region, Box(200, 100, 30, 60)) > 0.4
    assert 0 < result.moving_fraction < 0.1


def test_an_empty_scene_is_gated_on_every_third_frame_until_something_moves(
    vtest_avi: Path,
) -> None:
    """An empty scene (the plaza without its walkers, with sensor noise) rests the motion
    gate: it looks at one frame in three. Walkers coming in are seen within that, and while
    anyone moves or is tracked every frame is gated."""
    plaza = frames(vtest_avi, 120)
    empty = np.median(np.stack(plaza[::8]), axis=0).astype(np.uint8)
    rng = np.random.default_rng(3)
    analyzer = CameraAnalyzer("plaza", EventBus(), REAL_CLOCK)
    for i in range(60):
        noise = rng.normal(0.0, 3.0, empty.shape)
        still = np.clip(empty + noise, 0, 255).astype(np.uint8)
        assert analyzer.process(still, i, i / 10).motion_regions == ()
    assert analyzer.stats.frames == 60 and analyzer.stats.gate_runs == 20
    assert not analyzer.tracker.tracks
    seen_at = None
    for i, image in enumerate(plaza[:60]):
        if analyzer.process(image, 60 + i, 6 + i / 10).motion_regions and seen_at is None:
            seen_at = i
    assert seen_at is not None and seen_at < STILL_GATE_EVERY
    assert analyzer.tracker.tracks
    assert analyzer.stats.gate_runs >= 20 + 60 - STILL_GATE_EVERY


def test_motion_gate_works_on_a_small_frame_and_answers_in_the_cameras_pixels() -> None:
    """A 1080p camera's motion is analysed about 180 px high (its cost was 0.2 of a core
    per 15 fps camera at half resolution), and the regions come back in 1080p pixels."""
    gate = MotionGate()
    rng = np.random.default_rng(7)
    background = np.full((1080, 1920, 3), 90, np.uint8)

    def noisy(image: np.ndarray) -> np.ndarray:  # a camera's sensor noise
        noise = rng.normal(0, 3, image.shape[:2])[..., None]
        return np.clip(image + noise, 0, 255).astype(np.uint8)

    for _ in range(40):
        assert gate.apply(noisy(background)).regions == ()
    person = background.copy()
    person[500:800, 1200:1320] = 200  # 120 × 300 px: a person 15 m away
    result = gate.apply(noisy(person))
    assert len(result.regions) == 1
    region = result.regions[0]
    assert iou(region, Box(1200, 500, 120, 300)) > 0.5
    assert region.x <= 1200 and region.x + region.w >= 1320  # it covers the whole person
    assert gate.working_size((1080, 1920)) == (320, 180)
    assert gate.working_size((576, 768)) == (240, 180)  # vtest
    assert gate.working_size((144, 176)) == (176, 144)  # never scaled up


def test_hog_finds_pedestrians_in_moving_regions_of_vtest(vtest_avi: Path) -> None:
    images = frames(vtest_avi, 120)
    gate = MotionGate()
    for image in images:
        motion = gate.apply(image)
    detections = HogPersonDetector().detect(images[-1], motion.regions)
    assert len(detections) >= 3
    for det in detections:
        assert 0.0 <= det.confidence <= 1.0
        assert 1.3 < det.box.h / det.box.w < 3.0  # upright people, not blobs
        assert any(iou(det.box, r) > 0.1 for r in motion.regions)


def test_hog_confidence_is_monotone_in_the_svm_margin() -> None:
    values = [hog_confidence(m) for m in (-1.0, 0.0, 0.5, 1.0, 2.0)]
    assert values == sorted(values) and values[2] == 0.5
    assert values[0] > 0.0 and values[-1] < 1.0


def walker(x0: float, step: float, frame: int) -> Box:
    return Box(x0 + step * frame, 100, 40, 100)


def test_tracker_keeps_ids_through_detector_gaps_and_ends_lost_tracks() -> None:
    fps = 10.0
    tracker = MultiTracker()
    ids: dict[int, set[int]] = {0: set(), 1: set()}
    appeared, ended = [], []
    for frame in range(60):
        boxes = [walker(20, 4, frame), walker(300, 3, frame)]  # side by side, never touching
        detect = frame % 3 == 0
        update = tracker.step(
            frame, frame / fps, [Detection(b, 0.8) for b in boxes] if detect else None, tuple(boxes)
        )
        appeared += update.appeared
        ended += update.ended
        for track in update.active:
            person = int(np.argmin([abs(track.box.center[0] - b.center[0]) for b in boxes]))
            ids[person].add(track.track_id)
    assert len(appeared) == 2 and ended == []
    assert len(ids[0]) == 1 and len(ids[1]) == 1 and ids[0] != ids[1]
    # Both walk out of view: no detections, no motion. The tracks are drawn for the coast
    # time, then hidden (lost, re-findable), and end LOST_S after they were last seen.
    frame, hidden_at = 60, None
    while not ended and frame < 150:
        update = tracker.step(frame, frame / fps, None, ())
        ended += update.ended
        if hidden_at is None and not update.active:
            hidden_at = frame
        frame += 1
    assert hidden_at is not None and (hidden_at - 60) / fps == pytest.approx(
        COAST_S + 0.1, abs=0.15
    )
    assert len(ended) == 2
    assert (frame - 60) / fps == pytest.approx(LOST_S + 0.2, abs=0.15)
    assert all(len(t.path) >= 55 for t in ended)


def dressed(
    boxes: list[tuple[Box, tuple[int, int, int]]], size: tuple[int, int] = (480, 640)
) -> np.ndarray:
    """A grey frame with each box filled in its (BGR) colour: people in different clothes."""
    image = np.full((*size, 3), 128, np.uint8)
    for box, colour in boxes:
        x, y, w, h = box.as_ints()
        image[y : y + h, x : x + w] = colour
    return image


RED, BLUE = (30, 30, 200), (200, 60, 30)


def test_a_person_lost_for_a_few_seconds_gets_their_id_back() -> None:
    tracker = MultiTracker()
    person = Box(200, 100, 40, 100)
    for frame in range(10):
        tracker.step(frame, frame / 10, [Detection(person, 0.9)], (), dressed([(person, RED)]))
    (track,) = tracker.tracks
    # Hidden behind a pillar for 2.5 s (no detections), then seen again a little further on.
    for frame in range(10, 35):
        tracker.step(frame, frame / 10, [], (), dressed([]))
    assert tracker.tracks == [] and [tr.track_id for tr in tracker.lost] == [track.track_id]
    back = Box(230, 102, 40, 100)
    update = tracker.step(35, 3.5, [Detection(back, 0.9)], (), dressed([(back, RED)]))
    assert [tr.track_id for tr in tracker.tracks] == [track.track_id] and update.appeared == ()
    # Someone else in other clothes at the same place is a new person.
    tracker.step(36, 3.6, [], (), dressed([]))
    for frame in range(37, 80):
        tracker.step(frame, frame / 10, [], (), dressed([]))
    assert tracker.tracks == []
    stranger = Box(232, 102, 40, 100)
    tracker.step(80, 8.0, [Detection(stranger, 0.9)], (), dressed([(stranger, BLUE)]))
    assert all(tr.track_id != track.track_id for tr in tracker.tracks)


def test_two_people_crossing_keep_their_ids_by_their_clothes() -> None:
    """Red walks right, blue walks left; they pass each other with boxes overlapping.
    The detector sees them every 3rd frame."""
    tracker = MultiTracker()
    seen: dict[str, set[int]] = {"red": set(), "blue": set()}
    for frame in range(60):
        red = Box(100 + 6 * frame, 150, 40, 100)
        blue = Box(460 - 6 * frame, 154, 40, 100)
        image = dressed([(red, RED), (blue, BLUE)])
        detect = frame % 3 == 0
        dets = [Detection(red, 0.9), Detection(blue, 0.9)] if detect else None
        update = tracker.step(frame, frame / 10, dets, (), image)
        if detect:
            for tr in update.active:
                if tr.last_detected_s == frame / 10:
                    who = (
                        "red"
                        if abs(tr.box.center[0] - red.center[0])
                        < abs(tr.box.center[0] - blue.center[0])
                        else "blue"
                    )
                    seen[who].add(tr.track_id)
    assert len(seen["red"]) == 1 and len(seen["blue"]) == 1 and seen["red"] != seen["blue"]


def test_a_single_false_detection_never_becomes_a_person() -> None:
    tracker = MultiTracker()
    update = tracker.step(0, 0.0, [Detection(Box(10, 10, 30, 80), 0.4)], ())
    for frame in range(1, 30):
        update = tracker.step(frame, frame / 10, [] if frame % 3 == 0 else None, ())
        assert update.appeared == () and update.ended == ()
    assert tracker.tracks == []


@pytest.mark.slow
def test_whole_video_analysis_follows_the_plazas_pedestrians(
    vtest_avi: Path, tmp_path: Path
) -> None:
    """The whole 80 s sample, once (on SQLite): what is found. What is stored, on both
    backends, is the next test's, on 15 s of it."""
    store = Store(f"sqlite:///{tmp_path / 'plaza.db'}")
    report = analyze_video(vtest_avi, clock=REAL_CLOCK, store=store, camera="plaza")
    store.close()
    assert report["frames"] == 795 and report["error"] is None
    tracks = report["tracks"]
    durations = [t["last_s"] - t["first_s"] for t in tracks]
    # About 30 pedestrians cross the plaza in 80 s; most are followed for several seconds.
    assert 15 <= len(tracks) <= 60
    assert statistics.median(durations) >= 4.0
    assert sum(d >= 10 for d in durations) >= 8
    assert_people_and_snapshots_stored(store.url, tracks)


def test_an_analysis_stores_people_and_snapshots(plaza_15s: Path, db_url: str) -> None:
    store = Store(db_url)
    report = analyze_video(plaza_15s, clock=REAL_CLOCK, store=store, camera="plaza")
    store.close()
    assert report["frames"] == 150 and report["error"] is None
    assert len(report["tracks"]) >= 3
    assert_people_and_snapshots_stored(db_url, report["tracks"])


def assert_people_and_snapshots_stored(db_url: str, tracks: list[dict[str, Any]]) -> None:
    """Each track appeared and left, with a snapshot when it appeared and its best
    sighting when it left, each file whole and matching its stored hash."""
    store = Store(db_url)
    with store.sessions() as session:
        kinds = session.scalars(select(Event.kind)).all()
        snapshots = session.scalars(select(Media).where(Media.kind == "snapshot")).all()
        appeared = session.scalars(select(Event).where(Event.kind == "person.appeared")).all()
        left = session.scalars(select(Event).where(Event.kind == "person.left")).all()
    store.close()
    assert kinds.count("person.appeared") == kinds.count("person.left") == len(tracks)
    assert len(snapshots) == 2 * len(tracks)
    assert all(e.detail["snapshot"] and "_best_" in e.detail["snapshot"] for e in left)
    data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    for media in snapshots:
        content = (data / media.path).read_bytes()
        assert hashlib.sha256(content).hexdigest() == media.sha256
        assert media.event_id in {e.id for e in appeared} | {e.id for e in left}
    assert not list(data.rglob("*.partial"))


@pytest.mark.slow
def test_truncated_video_stops_cleanly_and_keeps_what_came_before(
    plaza_15s: Path, tmp_path: Path
) -> None:
    """15 s of the plaza with its last third cut off (its 150 frames declared, 101 left)."""
    truncated = tmp_path / "cut.avi"
    whole = plaza_15s.read_bytes()
    truncated.write_bytes(whole[: len(whole) * 2 // 3])
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    report = analyze_video(truncated, clock=REAL_CLOCK, store=store)
    assert report["error"] is not None and "truncated or corrupt" in report["error"]
    assert "of 15.0 s" in report["error"]
    assert 60 < report["frames"] < 150
    with store.sessions() as session:
        kinds = session.scalars(
            select(Event.kind)
            .where(Event.kind.in_(ANALYSIS_KINDS))  # camera status is stamped with the clock
            .order_by(Event.ts, Event.id)
        ).all()
    assert kinds[-1] == "analysis.error"
    assert kinds.count("person.appeared") >= 5
    assert kinds.count("person.appeared") == kinds.count("person.left")
    store.close()


def test_missing_or_undecodable_video_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VideoAnalysisError, match="video file not found"):
        analyze_video(tmp_path / "none.mp4", clock=REAL_CLOCK)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01" * 5000)
    with pytest.raises(VideoAnalysisError, match="cannot decode video file"):
        analyze_video(junk, clock=REAL_CLOCK)


def test_analyzer_reports_tracks_to_viewers_every_frame(vtest_avi: Path) -> None:
    analyzer = CameraAnalyzer("plaza", EventBus(), REAL_CLOCK)
    results = [analyzer.process(image, i, i / 10) for i, image in enumerate(frames(vtest_avi, 90))]
    ran = [r for r in results if r.detections is not None]
    assert 20 <= len(ran) <= 31  # every third frame while something moves
    assert results[-1].tracks and all(t.track_id > 0 for t in results[-1].tracks)


def test_a_sighting_carries_what_its_track_s_person_wears(vtest_avi: Path) -> None:
    """The people the detector found in a frame go out (PeopleDetected) with each track's
    colour histogram, the one its tracker learnt: the fusion tells people apart by it."""
    bus = EventBus()
    published: list[PeopleDetected] = []
    bus.subscribe(PeopleDetected, published.append)
    analyzer = CameraAnalyzer("plaza", bus, REAL_CLOCK)
    checked = 0
    for i, image in enumerate(frames(vtest_avi, 60)):
        before = len(published)
        analyzer.process(image, i, i / 10)
        tracks = {t.track_id: t for t in analyzer.tracker.tracks}
        for event in published[before:]:
            for sighting in event.sightings:
                assert sighting.look is not None and len(sighting.look) == 64
                assert math.isclose(sum(sighting.look), 1.0, rel_tol=1e-4)
                appearance = tracks[sighting.track_id].appearance
                assert appearance is not None
                assert np.allclose(sighting.look, appearance.ravel(), atol=1e-6)
                checked += 1
    assert checked >= 10


def test_detector_cadence_is_in_seconds_whatever_the_frame_rate(vtest_avi: Path) -> None:
    """A 30 fps camera costs the detector what a 10 fps one does: the same 60 frames
    stamped at 30 fps (2 s) get a third of the detector runs they get at 10 fps (6 s)."""
    images = frames(vtest_avi, 60)
    runs = {}
    for fps in (10, 15, 30):
        analyzer = CameraAnalyzer("plaza", EventBus(), REAL_CLOCK)
        for i, image in enumerate(images):
            analyzer.process(image, i, i / fps)
        runs[fps] = analyzer.stats.detector_runs
    assert runs == {10: 20, 15: 12, 30: 7}  # every 0.3 s: every 3rd, 5th, 9th frame


def test_a_due_detector_run_with_no_slot_free_is_put_off_to_the_next_frame(
    vtest_avi: Path,
) -> None:
    """A live engine's cameras share its detector slots: a camera whose run falls due while
    the slots are taken (other cameras' runs) does not wait for one and does not skip to its
    next cadence: it tracks the frame on without a run and tries again at the next frame.
    Without slots (a file analysis) every due run runs."""
    images = frames(vtest_avi, 41)
    slots = DetectorSlots(1)
    shared = CameraAnalyzer("plaza", EventBus(), REAL_CLOCK, slots=slots)
    alone = CameraAnalyzer("plaza", EventBus(), REAL_CLOCK)
    for i, image in enumerate(images[:30]):
        shared.process(image, i, i / 10)
        alone.process(image, i, i / 10)
    assert shared.stats.detector_runs == alone.stats.detector_runs == 10
    assert shared.stats.detector_deferred == 0 and shared.tracker.tracks
    assert slots.try_take()  # another camera's run holds the only slot
    held = [shared.process(images[i], i, i / 10) for i in range(30, 34)]
    assert all(analysis.detections is None for analysis in held)
    assert all(analysis.tracks for analysis in held)  # the people are followed on
    assert shared.stats.detector_runs == 10
    assert shared.stats.detector_deferred == 4  # due at frame 30, and tried at each after
    assert not slots.try_take()  # put off, never queued for: the slot is still the other's
    slots.give_back()
    analysis = shared.process(images[34], 34, 3.4)
    assert analysis.detections is not None and shared.stats.detector_runs == 11
    # Put off for a frame or two, a run keeps the cadence it was due on: due at 3.7, run
    # at 3.8, the next is due at 4.0 (after a long put-off, 3.0 → 3.4, it starts again).
    ran = {}
    for i in range(35, 41):
        holding = i == 37 and slots.try_take()
        ran[i] = shared.process(images[i], i, i / 10).detections is not None
        if holding:
            slots.give_back()
    assert ran == {35: False, 36: False, 37: False, 38: True, 39: False, 40: True}
    for i in range(30, 41):
        alone.process(images[i], i, i / 10)
    assert alone.stats.detector_runs == 14 and alone.stats.detector_deferred == 0
    with pytest.raises(ValueError, match="at least 1"):
        DetectorSlots(0)


def test_live_analyzer_keeps_a_bounded_list_of_finished_tracks(vtest_avi: Path) -> None:
    analyzer = CameraAnalyzer("plaza", EventBus(), REAL_CLOCK, keep_tracks=2)
    for i, image in enumerate(frames(vtest_avi, 200)):
        analyzer.process(image, i, i / 10)
    analyzer.finish()
    assert analyzer.stats.tracks_finished > 2
    assert len(analyzer.stats.finished_tracks) == 2  # the most recent ones only
    assert analyzer.stats.finished_tracks[-1]["path"]
    assert CameraAnalyzer("x", EventBus(), REAL_CLOCK).stats.finished_tracks.maxlen == (
        RECENT_TRACKS
    )


def _event_times(store: Store) -> list[datetime]:
    with store.sessions() as session:
        rows = session.scalars(select(Event.ts).where(Event.kind.in_(ANALYSIS_KINDS))).all()
    return [ts if ts.tzinfo else ts.replace(tzinfo=UTC) for ts in rows]


def test_analysed_file_times_come_from_start_option(hamilton_clip: Path, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    start = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    report = analyze_video(
        hamilton_clip, clock=REAL_CLOCK, store=store, start=start, faces=False, clips=False
    )
    assert report["recording_time"] == {
        "start": start.isoformat(),
        "source": "option",
        "clamped_to_now": False,
    }
    times = _event_times(store)
    assert times and all(start <= ts <= start + timedelta(seconds=9.2) for ts in times)
    store.close()


def test_analysed_file_times_are_never_in_the_future(hamilton_clip: Path, tmp_path: Path) -> None:
    video = tmp_path / "tomorrow.mp4"
    video.write_bytes(hamilton_clip.read_bytes())
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).timestamp()
    os.utime(video, (tomorrow, tomorrow))  # a camera with its clock set wrong
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    before = datetime.now(UTC)
    report = analyze_video(video, clock=REAL_CLOCK, store=store, faces=False, clips=False)
    assert report["recording_time"]["source"] == "mtime"
    assert report["recording_time"]["clamped_to_now"] is True
    times = _event_times(store)
    assert times and max(times) <= before + timedelta(seconds=1)
    store.close()


def test_recording_start_from_creation_time_else_mtime(hamilton_clip: Path, tmp_path: Path) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    created = datetime(2025, 10, 11, 8, 30, tzinfo=UTC)
    tagged = tmp_path / "tagged.mp4"
    with av.open(str(hamilton_clip)) as source, av.open(str(tagged), "w") as target:
        target.metadata["creation_time"] = "2025-10-11T08:30:00.000000Z"
        stream_in = source.streams.video[0]
        stream_out = target.add_stream_from_template(stream_in)
        for packet in source.demux(stream_in):
            if packet.dts is not None:
                packet.stream = stream_out
                target.mux(packet)
    assert container_creation_time(tagged) == created
    found = recording_time(tagged, 9.2, now)
    assert (found.start, found.source, found.clamped) == (created, "container", False)

    plain = tmp_path / "plain.avi"
    plain.write_bytes(b"not inspected")
    mtime = datetime(2025, 12, 24, 18, 0, tzinfo=UTC)
    os.utime(plain, (mtime.timestamp(), mtime.timestamp()))
    found = recording_time(plain, 80.0, now)
    assert (found.start, found.source) == (mtime - timedelta(seconds=80), "mtime")
    late = recording_time(plain, 80.0, now, start=now - timedelta(seconds=10))
    assert late.clamped and late.start == now - timedelta(seconds=80)


def test_hog_searches_overlapping_crops_once_when_that_is_not_dearer() -> None:
    side_by_side = _merge_crops([(Box(0, 0, 100, 100), 1.0), (Box(50, 0, 100, 100), 1.0)])
    assert side_by_side == [(Box(0, 0, 150, 100), 1.0)]  # 15,000 pixels instead of 20,000
    apart = [(Box(0, 0, 100, 100), 1.0), (Box(200, 0, 100, 100), 1.0)]
    assert _merge_crops(apart) == apart
    # A small upscaled crop touching a big one: their union at 2.5x would cost far more.
    mixed = [(Box(0, 0, 100, 100), 1.0), (Box(90, 0, 20, 20), 2.5)]
    assert _merge_crops(mixed) == mixed
    chain = [(Box(0, 0, 60, 100), 1.0), (Box(50, 0, 60, 100), 1.0), (Box(100, 0, 60, 100), 1.0)]
    assert _merge_crops(chain) == [(Box(0, 0, 160, 100), 1.0)]


# -- which camera an analysed recording is filed under -------------------------------------


@pytest.fixture(scope="module")
def vtest_5s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 5 s (50 frames) of the shared pedestrian sample, named ``vtest.avi``
    (read-only: a test that needs it elsewhere copies it)."""
    from tests.conftest import TESTDATA, cut_video

    folder = tmp_path_factory.mktemp("a")
    return cut_video(TESTDATA / "video" / "vtest.avi", folder / "vtest.avi", 50)


def _camera_rows(store: Store) -> list[tuple[str, str, str, str, bool]]:
    """(site name, key, name, kind, enabled) of every camera row, in row order."""
    from engine.store.models import Camera, Site

    with store.sessions() as session:
        rows = session.execute(
            select(Site.name, Camera.key, Camera.name, Camera.source_kind, Camera.enabled)
            .join(Site, Site.id == Camera.site_id)
            .order_by(Camera.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_analysis_with_a_site_camera_files_everything_under_it(vtest_5s: Path, db_url: str) -> None:
    """``--camera plaza``: events and clips are the demo site's plaza camera's, the one the
    console's plaza tile, lane and filter show (before, a made-up ``file-…`` camera)."""
    from engine.config import load_site
    from engine.store.models import Camera
    from resources import DEMO_SITE
    from tests.store_helpers import sync_site

    site = load_site(DEMO_SITE)
    store = Store(db_url)
    try:
        ids = sync_site(store, site, REAL_CLOCK)  # the site's engine has run on this store
        report = analyze_video(
            vtest_5s, clock=REAL_CLOCK, store=store, site=site, camera="plaza", faces=False
        )
        assert report["error"] is None and report["camera"] == "plaza"
        assert report["camera_name"] == "Plaza east" and report["site"] == site.name
        assert report["tracks"] and report["clips"]
        with store.sessions() as session:
            cameras = {e.camera_id for e in session.scalars(select(Event))}
            clip_cameras = {m.camera_id for m in session.scalars(select(Media))}
            plaza = session.get(Camera, ids.cameras["plaza"])
            assert plaza is not None
            assert (plaza.name, plaza.source_kind, plaza.enabled) == ("Plaza east", "file", True)
        assert cameras == clip_cameras == {ids.cameras["plaza"]}
        assert [row[1] for row in _camera_rows(store)] == ["plaza"]  # no camera added
    finally:
        store.close()


def test_an_unknown_camera_is_refused_naming_the_sites_cameras(vtest_5s: Path) -> None:
    from engine.analyze import UnknownCameraError
    from engine.config import load_site
    from resources import DEMO_SITE

    site = load_site(DEMO_SITE)
    with pytest.raises(UnknownCameraError) as refused:
        analyze_video(vtest_5s, clock=REAL_CLOCK, site=site, camera="lobby")
    assert str(refused.value) == (
        f"site {site.name} has no camera 'lobby': its cameras are plaza (Plaza east)"
    )


def test_a_recording_gets_a_camera_the_console_lists_and_its_clips_play(
    vtest_5s: Path, db_url: str
) -> None:
    """Without --camera: camera ``vtest`` named ``vtest.avi``, at the demo site. The
    timeline has its lane, the site's stored cameras (the Events filter's list) and Ask
    have it, its events filter by it and a cited clip's path is a file under the data
    dir. Before: ``file-vtest-8afc315b``, disabled, in a site of its own: no lane, not in
    the filter, and its clips replayed as 'No recording'."""
    from engine.config import load_site
    from engine.history.chat.tools import search_events
    from engine.history.events import EventFilter, EventPageRequest
    from engine.history.timeline import TimelineRequest
    from resources import DEMO_SITE
    from tests.store_helpers import sync_site

    site = load_site(DEMO_SITE)
    store = Store(db_url)
    try:
        report = analyze_video(vtest_5s, clock=REAL_CLOCK, store=store, site=site, faces=False)
        assert (report["camera"], report["camera_name"]) == ("vtest", "vtest.avi")
        assert report["error"] is None and report["tracks"] and report["clips"]
        # The console starts: the site is synced from its file, which does not name vtest.
        ids = sync_site(store, site, REAL_CLOCK)
        assert ids.recordings == {"vtest": "vtest.avi"}
        assert set(ids.cameras) == {"plaza", "vtest"}
        assert _camera_rows(store)[0] == (site.name, "vtest", "vtest.avi", "recording", True)

        start = datetime.fromisoformat(report["recording_time"]["start"])
        window = TimelineRequest(start - timedelta(minutes=1), start + timedelta(minutes=1), 800)
        lane = window.run(store).lane("camera:vtest")
        assert lane is not None and lane.label == "vtest.avi" and lane.total > 0

        page = EventPageRequest(EventFilter(camera="vtest")).run(store)
        kinds = [row.kind for row in page.rows]
        assert kinds.count("person.appeared") == kinds.count("person.left") == len(report["tracks"])

        found = search_events(
            store,
            start + timedelta(minutes=1),
            camera="vtest.avi",
            kind="person.appeared",
            start=(start - timedelta(seconds=1)).isoformat(),
        )
        cited = [e["clip_path"] for e in found["events"] if e["clip_path"]]
        assert cited and all(e["camera_name"] == "vtest.avi" for e in found["events"])
        data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
        assert all((data / path).is_file() for path in cited)
    finally:
        store.close()


def test_the_same_file_keeps_its_camera_and_a_namesake_gets_its_own(
    vtest_5s: Path, tmp_path: Path, db_url: str
) -> None:
    from engine.config import load_site
    from resources import DEMO_SITE

    site = load_site(DEMO_SITE)
    namesake = tmp_path / "b" / "vtest.avi"
    namesake.parent.mkdir()
    namesake.write_bytes(vtest_5s.read_bytes())
    store = Store(db_url)
    try:
        quick = {"faces": False, "clips": False, "snapshots": False, "gestures": False}
        first = analyze_video(vtest_5s, clock=REAL_CLOCK, store=store, site=site, **quick)
        again = analyze_video(vtest_5s, clock=REAL_CLOCK, store=store, site=site, **quick)
        other = analyze_video(namesake, clock=REAL_CLOCK, store=store, site=site, **quick)
        assert (first["camera"], again["camera"]) == ("vtest", "vtest")
        assert (other["camera"], other["camera_name"]) == ("vtest-2", "vtest.avi in b")
        assert [row[1:3] for row in _camera_rows(store)] == [
            ("vtest", "vtest.avi"),
            ("vtest-2", "vtest.avi in b"),
        ]
        with store.sessions() as session:
            tracks = session.execute(
                select(Event.camera_id, Event.track_id).where(Event.kind == "person.appeared")
            ).all()
        assert len(tracks) == len(set(tracks)) > 0  # the second run numbered on
    finally:
        store.close()


def test_a_live_engine_short_of_processor_time_says_whose_detection_is_slowed(
    tmp_path: Path, vtest_avi: Path
) -> None:
    """The live cameras share one bound on detector runs; when most of a camera's due runs
    find it taken, the analytics health line names the camera and the share put off (and
    is OK again once runs go through). A file analysis has no bound."""
    from engine.config import CameraConfig, GeoPoint, SiteConfig, SourceKind
    from engine.events import HealthState
    from engine.runtime import EngineRuntime

    site = SiteConfig(
        name="live",
        file=tmp_path / "site.toml",
        geo_origin=GeoPoint(0.0, 0.0),
        rooms=(),
        cameras=(
            CameraConfig("plaza", "Plaza", str(vtest_avi), SourceKind.FILE, True, None, None),
        ),
        sensing_nodes=(),
    )
    runtime = EngineRuntime(site, None)
    slots = runtime.cameras.detector_slots
    assert slots is not None and slots.slots >= 1
    analyzer = runtime.cameras.pipelines["plaza"].analyzer

    def analytics() -> tuple[HealthState, str]:
        (line,) = [h for h in runtime.health() if h.subsystem == "analytics"]
        return line.state, line.detail

    images = frames(vtest_avi, 60)
    for i in range(30):
        analyzer.process(images[i], i, i / 10)
    assert analytics()[0] is HealthState.OK
    taken = [slots.try_take() for _ in range(slots.slots)]  # other cameras' runs
    assert all(taken)
    for i in range(30, 60):
        analyzer.process(images[i], i, i / 10)
    state, detail = analytics()
    assert state is HealthState.DEGRADED
    assert "short of processor time" in detail and "Plaza (100% put off)" in detail
    for _ in taken:
        slots.give_back()
    for i in range(60):
        analyzer.process(images[i], 60 + i, 6 + i / 10)
    assert analytics()[0] is HealthState.OK


def test_the_people_in_view_are_every_track_of_the_frame_seen_or_followed(
    vtest_avi: Path,
) -> None:
    """Before, Ask's "how many now" counted only the tracks the detector saw in the newest
    frame; it runs on one frame in three, so "Nobody is in view" was said beside a tile
    drawing six people."""
    analyzer = CameraAnalyzer("plaza", EventBus(), REAL_CLOCK)
    between_runs = [
        result
        for i, image in enumerate(frames(vtest_avi, 60))
        if (result := analyzer.process(image, i, i / 10)).detections is None and result.tracks
    ]
    assert between_runs
    for result in between_runs:
        assert result.people_in_view == len(result.tracks) > 0  # the boxes a tile draws
    # Most of them followed, not seen, in such a frame: they are in view all the same.
    assert any(
        result.people_in_view > sum(not track.coasting for track in result.tracks)
        for result in between_runs
    )
