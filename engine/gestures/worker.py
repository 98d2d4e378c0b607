"""Gesture recognition for tracked people, off the camera threads.

Camera analyzers submit a crop of each tracked person at most :data:`POSE_RATE_HZ` times a
second, and only while gestures are taught. One worker thread estimates each crop's pose
(:class:`~engine.gestures.pose.PoseEstimator`, one per followed track so MediaPipe can track
the body from its previous pose; MediaPipe is loaded with the first one, so a site with no
gesture taught never pays for it), keeps each track's recent poses (time, landmarks), and on
every new pose matches the windows of the taught gestures that end now
(:attr:`GestureSet.windows_s <engine.gestures.templates.GestureSet.windows_s>`). A window is
matched only when the track's poses cover it: most of its length, enough poses, no long gap
(a person who left the frame, or whose body was not found, part way through gives nothing).
A match publishes ``gesture.detected``; the same gesture of the same track is not reported
again for :data:`COOLDOWN_S`, so one wave is one event.
"""

from __future__ import annotations

import collections
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.bus import EventBus
from engine.events import Event, EventRecord
from engine.gestures.pose import PixelBox, PoseEstimator, PoseUnavailableError, crop_around
from engine.gestures.sequence import SEQUENCE_FRAMES, LandmarkError, Landmarks
from engine.gestures.templates import GestureSet
from engine.supervise import SupervisedThread
from resources import POSE_LANDMARKER_TASK

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
Key = tuple[str, int]  # (camera, track id)

POSE_RATE_HZ: Final = 10.0  # poses per second per tracked person: a wave (~2 Hz) stays visible
POSE_INTERVAL_S: Final = 1.0 / POSE_RATE_HZ
POSE_MIN_PERSON_HEIGHT_PX: Final = 96  # smaller people's arms are a few pixels: no pose
QUEUE_CROPS: Final = 8  # live: a busy worker drops new crops rather than fall behind
POSE_TRACKERS: Final = 8  # per-track landmarkers kept (about 100 ms to create one)
COOLDOWN_S: Final = 3.0  # the same gesture of the same track is one event within this
WINDOW_COVERAGE: Final = 0.8  # the poses in a window must span this share of it
WINDOW_FILL: Final = 0.5  # ...and be at least this share of the poses the rate would give
MIN_WINDOW_POSES: Final = 4
MAX_POSE_GAP_S: Final = 0.35  # a longer gap between poses breaks a window (3.5 intervals)
HISTORY_SLACK_S: Final = 1.0  # poses kept beyond the longest window


@dataclass(frozen=True, slots=True, kw_only=True)
class GestureDetected(Event):
    """A tracked person made a taught gesture (``confidence`` ≥ the set's minimum).
    Published on the gesture worker's thread."""

    camera: str
    track_id: int
    gesture: str
    confidence: float
    alerting: bool  # the gesture is marked as alerting (feeds the alert rules)
    person: str | None = None  # public id of the person recognised on the track, if any

    def record(self) -> EventRecord:
        return EventRecord(
            "gesture.detected",
            f"camera:{self.camera}",
            {
                "gesture": self.gesture,
                "confidence": round(self.confidence, 3),
                "track_id": self.track_id,
                "person": self.person,
                "alerting": self.alerting,
            },
            track_id=self.track_id,
            person=self.person,
        )


@dataclass(frozen=True, slots=True)
class _Crop:
    camera: str
    track_id: int
    image: Image  # the person's box with the estimator's margin, copied
    box: tuple[float, float, float, float]  # the person's box within ``image``
    offset: tuple[int, int]  # where ``image`` starts in the frame
    t: float  # the frame's time (seconds, the camera's own clock)
    seen_at: datetime
    person: str | None


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    y: float
    w: float
    h: float


class _Track:
    """A followed track's landmarker and recent poses (worker thread only)."""

    __slots__ = ("estimator", "poses")

    def __init__(self, estimator: PoseEstimator) -> None:
        self.estimator = estimator
        self.poses: collections.deque[tuple[float, Landmarks]] = collections.deque()


class GestureWorker:
    """Estimates poses of tracked people and recognises taught gestures, one crop at a time.

    ``gestures`` is asked for the current :class:`GestureSet` on every pose, so the runtime
    can swap it when templates change. ``active``, ``wants``, ``submit`` and ``forget_track``
    are called from camera threads. ``blocking=True`` (file analysis) waits for room instead
    of dropping crops. :class:`~engine.gestures.pose.PoseUnavailableError` when the model is
    missing; if mediapipe or the model cannot be loaded when the first pose is wanted,
    :attr:`problem` says why and the worker stops asking for crops.
    """

    def __init__(
        self,
        gestures: Callable[[], GestureSet],
        bus: EventBus,
        *,
        blocking: bool = False,
        model: Path | None = None,
    ) -> None:
        """``model``: the pose landmarker bundle (default: the shipped one)."""
        self._gestures = gestures
        self._bus = bus
        self._blocking = blocking
        self._model = model if model is not None else POSE_LANDMARKER_TASK
        if not self._model.is_file():  # said now; the landmarkers are made when needed
            raise PoseUnavailableError(f"pose model missing: {self._model}")
        self._spare: list[PoseEstimator] = []
        self.problem: str | None = None  # why no pose can be estimated, once found out
        self._queue: queue.Queue[_Crop | None] = queue.Queue(maxsize=QUEUE_CROPS)
        self._lock = threading.Lock()
        self._pending: collections.Counter[Key] = collections.Counter()
        self._ended: set[Key] = set()
        self._tracks: collections.OrderedDict[Key, _Track] = collections.OrderedDict()
        self._reported: dict[tuple[str, int, str], float] = {}  # last detection's time
        self._thread = SupervisedThread(self._run, name="gesture-worker")
        self.crops_dropped = 0  # live: the worker was busy
        self.crops_skipped = 0  # of ended tracks, or while no gesture is taught
        self.poses_estimated = 0  # crops looked at
        self.crops_done = 0  # taken off the queue and done with: posed, matched, reported
        self.poses_found = 0
        self.pose_seconds = 0.0  # spent estimating, for reports
        self.landmarkers_created = 0
        self.landmarker_seconds = 0.0  # spent creating them (the first loads mediapipe)
        self.windows_tried = 0
        self.detections = 0
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the queued crops, end the thread and close every landmarker."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self._close_all()

    def active(self) -> bool:
        """True while gestures are taught and poses can be estimated (camera threads skip
        their crops otherwise)."""
        return self.problem is None and bool(self._gestures())

    def wants(self, box: PixelBox) -> bool:
        """True for a person tall enough (:data:`POSE_MIN_PERSON_HEIGHT_PX`) to pose."""
        return box.h >= POSE_MIN_PERSON_HEIGHT_PX

    def submit(
        self,
        camera: str,
        track_id: int,
        frame: Image,
        box: PixelBox,
        t: float,
        seen_at: datetime,
        person: str | None = None,
    ) -> bool:
        """Queue the person in ``box`` of ``frame`` (cropped and copied here), seen at
        ``t`` (the frame's time in seconds) and ``seen_at`` (UTC); ``person``, their public
        id if recognised. False if the worker was busy and the crop was dropped, or the box
        has no pixels in the frame."""
        try:
            (left, top), crop = crop_around(frame, box)
        except ValueError:
            return False
        key = (camera, track_id)
        item = _Crop(
            camera,
            track_id,
            crop.copy(),
            (box.x - left, box.y - top, box.w, box.h),
            (left, top),
            t,
            seen_at,
            person,
        )
        with self._lock:
            self._pending[key] += 1
        try:
            self._queue.put(item, block=self._blocking)
        except queue.Full:
            with self._lock:
                self._release(key)
            self.crops_dropped += 1
            return False
        return True

    def forget_track(self, camera: str, track_id: int) -> None:
        """The track ended: its poses, landmarker and cooldowns go (once any crop of it
        still queued is skipped), so a window it left half done never matches and state
        does not grow in a 24/7 run. Any thread."""
        with self._lock:
            self._ended.add((camera, track_id))

    @property
    def tracks_followed(self) -> int:
        """Tracks whose poses the worker keeps now."""
        return len(self._tracks)

    def _release(self, key: Key) -> None:
        self._pending[key] -= 1
        if self._pending[key] <= 0:
            del self._pending[key]

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._drop_ended()
                return
            key = (item.camera, item.track_id)
            with self._lock:
                self._release(key)
                ended = key in self._ended
            try:
                if ended:
                    self.crops_skipped += 1
                else:
                    self._recognise(item)
            except Exception:
                self.failures += 1
                log.exception("gesture recognition failed on %s track %d", *key)
            finally:
                self._drop_ended()
                self.crops_done += 1

    def _drop_ended(self) -> None:
        """Forget ended tracks with no crop left in the queue (worker thread)."""
        with self._lock:
            done = [key for key in self._ended if key not in self._pending]
            self._ended.difference_update(done)
        for key in done:
            track = self._tracks.pop(key, None)
            if track is not None:
                self._spare.append(track.estimator)
            for reported in [r for r in self._reported if r[:2] == key]:
                del self._reported[reported]

    def _track(self, key: Key) -> _Track:
        """The track's state, with a landmarker: a spare one, a new one, or that of the
        track posed longest ago when :data:`POSE_TRACKERS` are in use."""
        track = self._tracks.get(key)
        if track is not None:
            self._tracks.move_to_end(key)
            return track
        if self._spare:
            estimator = self._spare.pop()
            estimator.follow_new_person()
        elif len(self._tracks) < POSE_TRACKERS:
            started = time.perf_counter()
            estimator = PoseEstimator(self._model, video=True)
            self.landmarker_seconds += time.perf_counter() - started
            self.landmarkers_created += 1
        else:
            _, oldest = self._tracks.popitem(last=False)
            estimator = oldest.estimator
            estimator.follow_new_person()
        track = _Track(estimator)
        self._tracks[key] = track
        return track

    def _recognise(self, item: _Crop) -> None:
        gestures = self._gestures()
        if not gestures or self.problem is not None:
            self.crops_skipped += 1
            return
        key = (item.camera, item.track_id)
        try:
            track = self._track(key)
        except PoseUnavailableError as exc:
            self.problem = f"gestures unavailable: {exc}"
            log.error("%s", self.problem)
            self.crops_skipped += 1
            return
        started = time.perf_counter()
        pose = track.estimator.estimate(item.image, _Box(*item.box), at_s=item.t)
        self.pose_seconds += time.perf_counter() - started
        self.poses_estimated += 1
        if pose is None:
            return  # no body: the gap this leaves keeps windows across it from matching
        self.poses_found += 1
        landmarks = pose.landmarks.copy()
        landmarks[:, 0] += item.offset[0]
        landmarks[:, 1] += item.offset[1]
        poses = track.poses
        poses.append((item.t, landmarks))
        horizon = item.t - max(gestures.windows_s, default=0.0) - HISTORY_SLACK_S
        while poses and poses[0][0] < horizon:
            poses.popleft()
        for window_s in gestures.windows_s:
            frames = window_frames(poses, item.t, window_s)
            if frames is None:
                continue
            self.windows_tried += 1
            try:
                match = gestures.match(frames, window_s)
            except LandmarkError:
                continue
            if match is None:
                continue
            last = self._reported.get((*key, match.gesture))
            if last is not None and item.t - last < COOLDOWN_S:
                continue
            self._reported[(*key, match.gesture)] = item.t
            self.detections += 1
            self._bus.publish(
                GestureDetected(
                    at=item.seen_at,
                    camera=item.camera,
                    track_id=item.track_id,
                    gesture=match.gesture,
                    confidence=match.confidence,
                    alerting=gestures.is_alerting(match.gesture),
                    person=item.person,
                )
            )

    def _close_all(self) -> None:
        for track in self._tracks.values():
            track.estimator.close()
        for estimator in self._spare:
            estimator.close()
        self._tracks.clear()
        self._spare.clear()


def window_frames(
    poses: collections.deque[tuple[float, Landmarks]] | list[tuple[float, Landmarks]],
    end_s: float,
    window_s: float,
) -> Landmarks | None:
    """The poses of the ``window_s`` seconds ending at ``end_s``, interpolated to
    :data:`SEQUENCE_FRAMES` evenly timed frames, or None when they do not cover the window:
    spanning less than :data:`WINDOW_COVERAGE` of it, fewer than the rate's
    :data:`WINDOW_FILL` (at least :data:`MIN_WINDOW_POSES`), or a gap over
    :data:`MAX_POSE_GAP_S` (the body was lost part way)."""
    start_s = end_s - window_s
    inside = [(t, lm) for t, lm in poses if start_s - 1e-6 <= t <= end_s + 1e-6]
    needed = max(MIN_WINDOW_POSES, math.floor(WINDOW_FILL * window_s * POSE_RATE_HZ))
    if len(inside) < needed:
        return None
    times = np.array([t for t, _ in inside])
    if times[-1] - times[0] < WINDOW_COVERAGE * window_s:
        return None
    if times[0] - start_s > MAX_POSE_GAP_S or end_s - times[-1] > MAX_POSE_GAP_S:
        return None
    if np.diff(times).max(initial=0.0) > MAX_POSE_GAP_S:
        return None
    stacked = np.stack([lm for _, lm in inside]).reshape(len(inside), -1)
    grid = np.linspace(times[0], times[-1], SEQUENCE_FRAMES)
    out = np.empty((SEQUENCE_FRAMES, stacked.shape[1]), dtype=np.float32)
    for column in range(stacked.shape[1]):
        out[:, column] = np.interp(grid, times, stacked[:, column])
    frames: Landmarks = out.reshape(SEQUENCE_FRAMES, *inside[0][1].shape)
    return frames
