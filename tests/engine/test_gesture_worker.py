"""The gesture worker on real video: poses of a tracked person, windows matched against
templates taught from landmark sequences, one event per gesture within the cooldown; and
the engine analysing videos with gestures taught (poses reported, detections stored)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from engine.analyze import analyze_video
from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.config import CameraConfig, GeoPoint, SiteConfig, SourceKind
from engine.cv import import_cv2
from engine.events import HealthState
from engine.gestures.library import TeachGesture
from engine.gestures.pose import PoseEstimator, crop_around
from engine.gestures.sequence import Landmarks, normalise
from engine.gestures.templates import GestureSet, GestureTemplate
from engine.gestures.worker import (
    COOLDOWN_S,
    GestureDetected,
    GestureWorker,
    window_frames,
)
from engine.runtime import EngineRuntime, FileAnalysis
from engine.store import Store
from engine.store.gesture_models import Gesture
from engine.store.models import Event
from engine.store.writer import StoreWriter
from engine.vision.detect import make_detector
from engine.vision.geometry import Box
from tests.actors import ADMIN
from tests.conftest import TESTDATA
from tests.gesture_motions import motion3d

HAMILTON = TESTDATA / "video" / "short_hamilton_clip.mp4"  # 640×360, 29.97 fps
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FPS = 29.97
ON_STAGE = (3.0, 9.1)  # seconds of the clip with one person large in view
GESTURE_END = 5.0  # the taught motion: the second of the clip that ends here


@dataclass(frozen=True, slots=True)
class Sample:
    t: float
    frame: np.ndarray
    box: Box


@pytest.fixture(scope="module")
def person() -> list[Sample]:
    """The clip's largest person at 10 Hz while on stage (the detector's boxes)."""
    cv2 = import_cv2()
    detector = make_detector(None)
    capture = cv2.VideoCapture(str(HAMILTON))
    samples: list[Sample] = []
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        t = index / FPS
        index += 1
        if (index - 1) % 3 or not ON_STAGE[0] <= t <= ON_STAGE[1]:
            continue
        boxes = [d.box for d in detector.detect(frame, None)]
        if boxes:
            samples.append(Sample(t, frame, max(boxes, key=lambda b: b.area)))
    capture.release()
    assert len(samples) > 50
    return samples


@pytest.fixture(scope="module")
def landmarks(person: list[Sample]) -> list[tuple[float, Landmarks]]:
    """The person's poses as a fresh per-track landmarker sees them (frame pixels)."""
    poses = []
    with PoseEstimator(video=True) as estimator:
        for sample in person:
            (left, top), crop = crop_around(sample.frame, sample.box)
            box = Box(sample.box.x - left, sample.box.y - top, sample.box.w, sample.box.h)
            pose = estimator.estimate(crop, box, at_s=sample.t)
            if pose is not None:
                found = pose.landmarks.copy()
                found[:, :2] += (left, top)
                poses.append((sample.t, found))
    assert len(poses) > 40
    return poses


def taught(
    landmarks: list[tuple[float, Landmarks]], ends: tuple[float, ...], alerting: bool = True
) -> GestureSet:
    """A one-second gesture taught from the person's own motion ending at ``ends``."""
    examples = []
    for end in ends:
        frames = window_frames(landmarks, end, 1.0)
        assert frames is not None
        examples.append(normalise(frames))
    template = GestureTemplate("bow", alerting, False, tuple(examples), (1.0,) * len(ends))
    return GestureSet([template])


@pytest.fixture
def run(
    landmarks: list[tuple[float, Landmarks]],
) -> Iterator[tuple[GestureWorker, list[GestureDetected], dict[str, GestureSet]]]:
    """A started blocking worker whose gesture set the test picks (``sets["now"]``)."""
    sets = {"now": taught(landmarks, (GESTURE_END - 0.1, GESTURE_END, GESTURE_END + 0.1))}
    bus = EventBus()
    seen: list[GestureDetected] = []
    bus.subscribe(GestureDetected, seen.append)
    worker = GestureWorker(lambda: sets["now"], bus, blocking=True)
    worker.start()
    yield worker, seen, sets
    worker.stop()


def settle(worker: GestureWorker, submitted: int) -> None:
    deadline = time.monotonic() + 30
    # Dropped crops never reach the queue; the others are done once matched and reported.
    while worker.crops_done + worker.crops_dropped < submitted:
        assert time.monotonic() < deadline, "the gesture worker did not finish its crops"
        time.sleep(0.01)


def feed(
    worker: GestureWorker, person: list[Sample], track_id: int = 1, until: float = 99.0
) -> int:
    count = 0
    for sample in person:
        if sample.t > until:
            break
        at = T0 + timedelta(seconds=sample.t)
        worker.submit("stage", track_id, sample.frame, sample.box, sample.t, at, "Person_ab12cd34")
        count += 1
    return count


@pytest.mark.slow
def test_a_taught_motion_is_detected_once_when_its_window_ends(
    run: tuple[GestureWorker, list[GestureDetected], dict[str, GestureSet]],
    person: list[Sample],
) -> None:
    worker, seen, _ = run
    settle(worker, feed(worker, person))
    assert worker.poses_found > 40
    (event,) = seen
    assert (event.camera, event.track_id, event.gesture) == ("stage", 1, "bow")
    assert event.person == "Person_ab12cd34" and event.alerting
    assert event.confidence >= 0.7
    assert abs((event.at - T0).total_seconds() - GESTURE_END) <= 0.35
    record = event.record()
    assert (record.kind, record.source, record.track_id, record.person) == (
        "gesture.detected",
        "camera:stage",
        1,
        "Person_ab12cd34",
    )
    assert record.detail == {
        "gesture": "bow",
        "confidence": round(event.confidence, 3),
        "track_id": 1,
        "person": "Person_ab12cd34",
        "alerting": True,
    }


def test_a_gesture_repeated_is_one_event_per_cooldown_and_per_track(
    run: tuple[GestureWorker, list[GestureDetected], dict[str, GestureSet]],
    person: list[Sample],
) -> None:
    worker, seen, _ = run
    # The taught second and a little before it, performed four times in a row (1.5 s each),
    # by two tracks interleaved as a camera does: 3 s of cooldown lets through every other.
    take = [s for s in person if GESTURE_END - 1.3 <= s.t <= GESTURE_END + 0.2]
    length = 1.5
    submitted = 0
    for repeat in range(4):
        for sample in take:
            t = sample.t + repeat * length
            for track_id in (1, 2):
                at = T0 + timedelta(seconds=t)
                worker.submit("stage", track_id, sample.frame, sample.box, t, at)
                submitted += 1
    settle(worker, submitted)
    for track_id in (1, 2):
        times = [(e.at - T0).total_seconds() for e in seen if e.track_id == track_id]
        assert len(times) >= 2, times  # four repetitions over 6 s: at least twice
        assert all(b - a >= COOLDOWN_S for a, b in itertools.pairwise(times))
    assert all(e.alerting for e in seen)


def test_a_person_leaving_the_frame_mid_window_gives_nothing_and_is_forgotten(
    run: tuple[GestureWorker, list[GestureDetected], dict[str, GestureSet]],
    person: list[Sample],
) -> None:
    worker, seen, _ = run
    submitted = feed(worker, person, until=GESTURE_END - 0.35)
    empty = np.full_like(person[0].frame, 90)  # the stage without them: no body found
    for sample in person:
        if GESTURE_END - 0.35 < sample.t <= GESTURE_END + 0.5:
            at = T0 + timedelta(seconds=sample.t)
            worker.submit("stage", 1, empty, sample.box, sample.t, at)
            submitted += 1
    settle(worker, submitted)
    assert seen == []
    assert worker.tracks_followed == 1
    worker.forget_track("stage", 1)
    # The next crop (of another track) lets the worker drop the ended track's state.
    settle(worker, submitted + feed(worker, person[:1], track_id=2))
    assert worker.tracks_followed == 1  # track 2 only
    assert seen == []


def test_a_forgotten_track_with_crops_still_queued_does_not_match(
    landmarks: list[tuple[float, Landmarks]], person: list[Sample]
) -> None:
    """Crops of an ended track still in the queue are skipped, not half-matched."""
    bus = EventBus()
    seen: list[GestureDetected] = []
    bus.subscribe(GestureDetected, seen.append)
    gestures = taught(landmarks, (GESTURE_END - 0.1, GESTURE_END, GESTURE_END + 0.1))
    worker = GestureWorker(lambda: gestures, bus, blocking=True)
    submitted = feed(worker, person[:8])  # queued before the thread starts
    worker.forget_track("stage", 1)
    worker.start()
    try:
        settle(worker, submitted)
        assert worker.crops_skipped == 8 and worker.poses_estimated == 0
    finally:
        worker.stop()
    assert seen == []


def test_nothing_is_estimated_while_no_gesture_is_taught(
    run: tuple[GestureWorker, list[GestureDetected], dict[str, GestureSet]],
    person: list[Sample],
) -> None:
    worker, seen, sets = run
    sets["now"] = GestureSet(())
    assert not worker.active()
    settle(worker, feed(worker, person[:5]))
    assert worker.poses_estimated == 0 and worker.crops_skipped == 5 and seen == []
    assert worker.wants(Box(0, 0, 50, 200)) and not worker.wants(Box(0, 0, 50, 60))


def teach(store: Store, name: str, examples: list[Landmarks], alerting: bool = False) -> None:
    with StoreWriter.running(store) as writer:
        writer.execute(
            TeachGesture(
                name=name,
                examples=tuple(examples),
                durations_s=(1.0,) * len(examples),
                sources=tuple(f"{name}-{n}.mp4" for n in range(len(examples))),
                at=T0,
                actor=ADMIN,
                alerting=alerting,
            )
        )


def excerpt(video: Path, out: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``video`` as an MJPEG AVI at the same rate."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(frames):
        ok, frame = capture.read()
        assert ok
        if writer is None:
            size = (frame.shape[1], frame.shape[0])
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
        writer.write(frame)
    capture.release()
    assert writer is not None
    writer.release()
    return out


@pytest.mark.slow
def test_analysing_vtest_with_gestures_taught_poses_the_tracked_people(
    vtest_avi: Path, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        for kind in ("wave", "raise"):
            teach(store, kind, [normalise(motion3d(kind, seed)) for seed in (1, 2, 3)])
        video = excerpt(vtest_avi, tmp_path / "vtest-10s.avi", 100)  # 10 s of the plaza
        report = analyze_video(video, clock=REAL_CLOCK, store=store, faces=False, clips=False)
    finally:
        store.close()
    gestures = report["gestures"]
    assert gestures["taught"] == ["raise", "wave"]
    # People taller than the minimum, posed at most 10 times a second each.
    assert 20 < gestures["poses_estimated"] <= 10 * 10 * len(report["tracks"])
    assert gestures["poses_found"] >= 0.8 * gestures["poses_estimated"]
    assert gestures["pose_ms_per_crop"] > 0 and gestures["windows_matched"] > 0
    assert gestures["crops_dropped"] == 0  # a file loses no crop
    assert gestures["detections"] == []  # walking is neither a wave nor a raised arm


@pytest.mark.slow
def test_an_analysed_gesture_is_stored_with_its_track_and_counted(
    landmarks: list[tuple[float, Landmarks]], tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        examples = []
        for end in (GESTURE_END - 0.1, GESTURE_END, GESTURE_END + 0.1):
            frames = window_frames(landmarks, end, 1.0)
            assert frames is not None
            examples.append(normalise(frames))
        teach(store, "bow", examples, alerting=True)
        report = analyze_video(HAMILTON, clock=REAL_CLOCK, store=store, faces=False, clips=False)
        with store.sessions() as session:
            rows = session.scalars(select(Event).where(Event.kind == "gesture.detected")).all()
            stored = [
                (r.track_id, r.source, r.detail["gesture"], r.detail["alerting"]) for r in rows
            ]
            usage = session.scalars(select(Gesture.detections)).one()
    finally:
        store.close()
    detections = report["gestures"]["detections"]
    assert detections and all(d["gesture"] == "bow" and d["confidence"] >= 0.7 for d in detections)
    camera = f"camera:{report['camera']}"
    assert sorted(stored) == sorted((d["track_id"], camera, "bow", True) for d in detections)
    assert usage == len(detections)


def test_without_the_pose_model_people_are_still_tracked_and_health_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vtest_avi: Path
) -> None:
    missing = tmp_path / "pose_landmarker.task"
    monkeypatch.setattr("engine.gestures.worker.POSE_LANDMARKER_TASK", missing)
    store = Store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        video = excerpt(vtest_avi, tmp_path / "vtest-3s.avi", 30)
        site = SiteConfig(
            name="analysed",
            file=video,
            geo_origin=GeoPoint(0.0, 0.0),
            rooms=(),
            cameras=(
                CameraConfig("plaza", "plaza", str(video), SourceKind.FILE, False, None, None),
            ),
            sensing_nodes=(),
        )
        runtime = EngineRuntime(
            site, store, file_analysis=FileAnalysis(recording_start=T0, faces=False, clips=False)
        )
        assert runtime.gestures.worker is None
        (analytics,) = [h for h in runtime.health() if h.subsystem == "analytics"]
        assert analytics.state is HealthState.DEGRADED
        assert f"gestures unavailable: pose model missing: {missing}" in analytics.detail
        assert runtime.cameras.pipelines["plaza"].analyzer is not None
        assert runtime.gestures.reload() == 0
    finally:
        store.close()


def test_an_unreadable_model_stops_the_worker_asking_for_crops_and_says_why(
    tmp_path: Path, person: list[Sample], landmarks: list[tuple[float, Landmarks]]
) -> None:
    model = tmp_path / "pose_landmarker.task"
    model.write_bytes(b"not a model bundle" * 100)
    gestures = taught(landmarks, (GESTURE_END - 0.1, GESTURE_END, GESTURE_END + 0.1))
    worker = GestureWorker(lambda: gestures, EventBus(), blocking=True, model=model)
    assert worker.active() and worker.problem is None  # nothing loaded until a pose is wanted
    worker.start()
    try:
        settle(worker, feed(worker, person[:3]))
    finally:
        worker.stop()
    assert worker.problem is not None
    assert worker.problem.startswith(f"gestures unavailable: pose model unreadable: {model}")
    assert not worker.active() and worker.poses_estimated == 0 and worker.crops_skipped == 3
