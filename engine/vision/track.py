"""Multi-object tracking with stable IDs: a constant-velocity Kalman filter per track,
Hungarian association on IoU with gating, and coasting through missed detections.

Between detector runs the motion gate's regions keep confirmed tracks alive and correct their
position, so a track follows a pedestrian every frame although HOG runs only every few frames.
All times are in seconds of the stream (video time for files, monotonic time live).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from engine.vision.detect import Detection
from engine.vision.geometry import Box, iou_matrix

Vector = npt.NDArray[np.float64]

MIN_IOU_DETECTION = 0.2  # detection ↔ predicted box gate
MIN_IOU_MOTION = 0.25  # motion region ↔ predicted box gate
MOTION_AREA_RATIO = (0.3, 3.0)  # a merged group blob is not evidence for one person
CONFIRM_HITS = 2  # detections before a track is announced
TENTATIVE_MAX_MISSES = 2  # detector runs a tentative track may miss
COAST_S = 1.0  # a confirmed track survives this long with no evidence at all
MAX_UNDETECTED_S = 6.0  # ...and this long on motion support alone
PATH_MAX_POINTS = 2000


@dataclass(slots=True)
class Track:
    """One tracked person. ``path`` holds (t, x, y) of the box's foot point."""

    track_id: int
    state: Vector  # cx, cy, w, h, vx, vy (pixels, pixels per frame)
    covariance: Vector
    first_seen_s: float
    last_seen_s: float
    last_detected_s: float
    first_frame: int
    last_frame: int
    hits: int = 1
    misses: int = 0
    confirmed: bool = False
    best_confidence: float = 0.0
    best_box: Box | None = None
    best_frame: int = -1
    path: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def box(self) -> Box:
        cx, cy, w, h = (float(v) for v in self.state[:4])
        return Box(cx - w / 2, cy - h / 2, w, h)


@dataclass(frozen=True, slots=True)
class TrackUpdate:
    """What one frame changed: tracks newly confirmed, ended, and all live confirmed tracks."""

    appeared: tuple[Track, ...]
    ended: tuple[Track, ...]
    active: tuple[Track, ...]


class KalmanBoxFilter:
    """Constant-velocity model on the box centre; width and height follow a random walk."""

    def __init__(self) -> None:
        self.transition = np.eye(6)
        self.transition[0, 4] = self.transition[1, 5] = 1.0
        self.observe = np.eye(4, 6)
        self.observe_centre = np.eye(2, 6)
        self.process_noise = np.diag([1.0, 1.0, 2.0, 2.0, 0.3, 0.3])
        self.detection_noise = np.diag([16.0, 16.0, 64.0, 64.0])
        self.motion_noise = np.diag([36.0, 36.0])

    def initial(self, box: Box) -> tuple[Vector, Vector]:
        cx, cy = box.center
        state = np.array([cx, cy, box.w, box.h, 0.0, 0.0])
        return state, np.diag([16.0, 16.0, 64.0, 64.0, 25.0, 25.0])

    def predict(self, track: Track) -> None:
        f = self.transition
        track.state = f @ track.state
        track.covariance = f @ track.covariance @ f.T + self.process_noise

    def update(self, track: Track, box: Box) -> None:
        cx, cy = box.center
        self._correct(track, np.array([cx, cy, box.w, box.h]), self.observe, self.detection_noise)

    def update_centre(self, track: Track, box: Box) -> None:
        self._correct(track, np.array(box.center), self.observe_centre, self.motion_noise)

    @staticmethod
    def _correct(track: Track, z: Vector, h: Vector, r: Vector) -> None:
        innovation = z - h @ track.state
        s = h @ track.covariance @ h.T + r
        gain = track.covariance @ h.T @ np.linalg.inv(s)
        track.state = track.state + gain @ innovation
        track.covariance = (np.eye(6) - gain @ h) @ track.covariance


class MultiTracker:
    """Keeps track identities for one camera. Not thread-safe (one per camera worker)."""

    def __init__(self, first_id: int = 1) -> None:
        self.kalman = KalmanBoxFilter()
        self.tracks: list[Track] = []
        self._next_id = max(1, first_id)

    def number_after(self, last_id: int) -> None:
        """New tracks get ids above ``last_id`` (the highest this camera ever stored), so a
        camera's track id names one track across runs."""
        self._next_id = max(self._next_id, last_id + 1)

    def step(
        self,
        frame_index: int,
        t: float,
        detections: list[Detection] | None,
        motion_regions: tuple[Box, ...],
    ) -> TrackUpdate:
        """Advance one frame. ``detections`` is None on frames where the detector did not
        run; ``motion_regions`` come from the motion gate every frame."""
        for track in self.tracks:
            self.kalman.predict(track)
        appeared: list[Track] = []
        updated: set[int] = set()
        if detections is not None:
            updated = self._associate_detections(frame_index, t, detections, appeared)
        self._apply_motion(frame_index, t, motion_regions, updated)
        ended = self._retire(t)
        for track in self.tracks:
            if track.track_id in updated or track.last_seen_s == t:
                foot = track.box
                track.path.append((t, foot.x + foot.w / 2, foot.y + foot.h))
                if len(track.path) > PATH_MAX_POINTS:
                    del track.path[::2]
        active = tuple(tr for tr in self.tracks if tr.confirmed)
        return TrackUpdate(tuple(appeared), tuple(ended), active)

    def finish(self) -> tuple[Track, ...]:
        """End every track (stream over); returns the confirmed ones."""
        ended = tuple(tr for tr in self.tracks if tr.confirmed)
        self.tracks = []
        return ended

    def _associate_detections(
        self, frame_index: int, t: float, detections: list[Detection], appeared: list[Track]
    ) -> set[int]:
        predicted = [tr.box for tr in self.tracks]
        overlap = iou_matrix(predicted, [d.box for d in detections])
        matched_tracks: set[int] = set()
        matched_dets: set[int] = set()
        if overlap.size:
            cost = np.where(overlap >= MIN_IOU_DETECTION, 1.0 - overlap, 1e6)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] >= 1e6:
                    continue
                track, det = self.tracks[r], detections[c]
                self.kalman.update(track, det.box)
                track.hits += 1
                track.misses = 0
                track.last_seen_s = track.last_detected_s = t
                track.last_frame = frame_index
                if det.confidence > track.best_confidence:
                    track.best_confidence, track.best_box = det.confidence, det.box
                    track.best_frame = frame_index
                if not track.confirmed and track.hits >= CONFIRM_HITS:
                    track.confirmed = True
                    appeared.append(track)
                matched_tracks.add(track.track_id)
                matched_dets.add(c)
        for track in self.tracks:
            if track.track_id not in matched_tracks:
                track.misses += 1
        for index, det in enumerate(detections):
            if index not in matched_dets:
                self.tracks.append(self._new_track(frame_index, t, det))
        return matched_tracks

    def _apply_motion(
        self, frame_index: int, t: float, regions: tuple[Box, ...], updated: set[int]
    ) -> None:
        waiting = [tr for tr in self.tracks if tr.confirmed and tr.track_id not in updated]
        if not waiting or not regions:
            return
        overlap = iou_matrix([tr.box for tr in waiting], list(regions))
        cost = np.where(overlap >= MIN_IOU_MOTION, 1.0 - overlap, 1e6)
        rows, cols = linear_sum_assignment(cost)
        low, high = MOTION_AREA_RATIO
        for r, c in zip(rows, cols, strict=True):
            track, region = waiting[r], regions[c]
            ratio = region.area / max(track.box.area, 1.0)
            if cost[r, c] < 1e6 and low <= ratio <= high:
                self.kalman.update_centre(track, region)
                track.last_seen_s = t
                track.last_frame = frame_index

    def _retire(self, t: float) -> list[Track]:
        ended: list[Track] = []
        alive: list[Track] = []
        for track in self.tracks:
            if not track.confirmed:
                keep = track.misses <= TENTATIVE_MAX_MISSES
            else:
                keep = (
                    t - track.last_seen_s <= COAST_S
                    and t - track.last_detected_s <= MAX_UNDETECTED_S
                )
            if keep:
                alive.append(track)
            elif track.confirmed:
                ended.append(track)
        self.tracks = alive
        return ended

    def _new_track(self, frame_index: int, t: float, det: Detection) -> Track:
        state, covariance = self.kalman.initial(det.box)
        track = Track(
            track_id=self._next_id,
            state=state,
            covariance=covariance,
            first_seen_s=t,
            last_seen_s=t,
            last_detected_s=t,
            first_frame=frame_index,
            last_frame=frame_index,
            best_confidence=det.confidence,
            best_box=det.box,
            best_frame=frame_index,
        )
        self._next_id += 1
        return track
