"""Per-camera analysis: motion gate → person detection where and when needed → tracking,
with person.appeared / person.left events (and snapshots) on the bus.

One :class:`CameraAnalyzer` per camera, called from that camera's worker thread.
"""

from __future__ import annotations

import collections
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from engine.bus import EventBus
from engine.clock import Clock
from engine.cv import import_cv2
from engine.events import Event, EventRecord, PeopleDetected, Sighting
from engine.gestures.worker import POSE_INTERVAL_S, GestureWorker
from engine.media import MediaFile
from engine.vision.appearance import AppearanceCollector, AppearanceSeen
from engine.vision.detect import Detection, HogPersonDetector, PersonDetector
from engine.vision.face_worker import SCENE_TRACK, FaceWorker
from engine.vision.geometry import Box, intersection, iou_matrix
from engine.vision.motion import NO_MOTION, MotionGate, MotionResult
from engine.vision.snapshots import save_snapshot, snapshot_path
from engine.vision.track import MultiTracker, Track

if TYPE_CHECKING:  # the watch is handed in by the runtime: no dependency on record
    from engine.record.losses import MediaWriteWatch

Image = npt.NDArray[np.uint8]

# Detector cadence while something moves or anyone is tracked, in seconds so a 30 fps camera
# costs what a 10 fps one does: every 3rd frame of vtest (10 fps), where the tracker was
# measured; every 5th frame at 15 fps, every 9th at 30 fps.
DETECT_INTERVAL_S = 0.3
CADENCE_SLACK_S = 0.01  # frame times jitter: 0.299 s after the last run counts as 0.3 s
FULL_SCAN_S = 2.0  # the detector looks at the whole frame at least this often: still people
# ... and this often while nobody is tracked and nothing moves: an empty scene (most cameras,
# most of the time) costs a detector run a minute, not every 2 s (0.05 of a core per
# camera, measured: 20 runs in 40 s of an empty 1080p15 scene). Whoever comes in moves.
FULL_SCAN_IDLE_S = 30.0
# While nothing moves and nobody is tracked the motion gate looks at every this many
# frames (5 a second at 15 fps, as Frigate's detect stream runs): whoever comes in is seen
# within that many frames, and from then on every frame is gated. The gate is most of an
# empty scene's cost on a sub stream (MOG2 1.4 ms of ~3.5 ms a frame).
STILL_GATE_EVERY = 3
TRACK_REGION_MARGIN = 0.3  # a region detector also looks around each live track (box fraction)
MOVING_COVERS = 0.8  # ... unless this much of the track's box is inside a moving region
FACE_MIN_PERSON_HEIGHT_PX = 120  # smaller people have faces too small to recognise
FACE_RETRY_S = 1.0  # per track, how often to try again until a face is found
HEAD_FRACTION = 0.45  # the top part of a person box that holds head and shoulders
FACE_SCAN_MAX_WIDTH_PX = 640  # scene scans are downscaled to this width
RECENT_TRACKS = 200  # finished tracks (with paths) a live analyzer keeps for reports


def default_detector_slots() -> int:
    """Detector runs a live engine lets go at once: one core in two, at least one. A
    detector run takes one core for 30–60 ms; the other cores decode, gate, track and
    record every camera's frames."""
    return max(1, (os.cpu_count() or 2) // 2)


class DetectorSlots:
    """The person-detector runs one engine's live cameras may have going at once.

    A camera whose detector is due takes a slot if one is free, else puts the run off to
    its next frame (counted in :attr:`AnalysisStats.detector_deferred`): it never waits.
    (Waiting up to 20 ms for a slot was measured worse: 16 cameras, 4 with people, on 2
    cores: detection reached 71 % of its rate instead of 68 %, but the cameras kept 88 % of
    their frames
    instead of 95 %, and the 20-camera run fell to half its frames.)
    Without a bound, a busy machine's cameras ran their detectors all at once, each run
    took several frame times, every late frame was due again, and every camera fell
    behind (measured: 24 cameras, 6 with people, on 2 cores: busy cameras analysed 2.2 of
    15 fps, idle ones 10). With it, people detection slows evenly where the machine
    cannot keep up, and every camera's frames, motion gate, tracker and recording keep
    their pace. File analysis (``watchfloor analyze``) has none: it runs every due run."""

    def __init__(self, slots: int | None = None) -> None:
        self.slots = slots if slots is not None else default_detector_slots()
        if self.slots < 1:
            raise ValueError(f"detector slots must be at least 1, not {self.slots}")
        self._free = threading.BoundedSemaphore(self.slots)

    def try_take(self) -> bool:
        """A slot if one is free now (give it back with :meth:`give_back`)."""
        return self._free.acquire(blocking=False)

    def give_back(self) -> None:
        self._free.release()


@dataclass(frozen=True, slots=True)
class TrackView:
    """A confirmed track as viewers draw it."""

    track_id: int
    box: Box
    confidence: float
    coasting: bool  # no evidence this frame: the box is the filter's prediction
    person: str | None = None  # name, else Person_XXXXXXXX, once the face is recognised


@dataclass(frozen=True, slots=True)
class FrameAnalysis:
    """The result for one frame, handed to viewers with the frame."""

    frame_index: int
    t: float
    tracks: tuple[TrackView, ...]
    motion_regions: tuple[Box, ...]
    detections: tuple[Detection, ...] | None  # None: the detector did not run

    @property
    def people_in_view(self) -> int:
        """The people in view in this frame: every confirmed track in it, the boxes a
        tile draws (solid where the detector saw them in this very frame, dashed where
        they are followed between its runs, which is most frames)."""
        return len(self.tracks)


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonAppeared(Event):
    """A tracked person was confirmed on a camera."""

    camera: str
    track_id: int
    box: Box
    confidence: float
    snapshot: MediaFile | None = None

    def record(self) -> EventRecord:
        return EventRecord(
            "person.appeared",
            f"camera:{self.camera}",
            {
                "track_id": self.track_id,
                "box": list(self.box.as_ints()),
                "confidence": round(self.confidence, 3),
                "snapshot": self.snapshot.path if self.snapshot else None,
            },
            (self.snapshot,) if self.snapshot else (),
            track_id=self.track_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonLeft(Event):
    """A track ended: the person left the view (or was lost for longer than the coast time)."""

    camera: str
    track_id: int
    first_seen: datetime
    last_seen: datetime
    best_confidence: float
    path_points: int
    best_snapshot: MediaFile | None = None  # the track's most confident sighting
    person: str | None = None  # public id of the person recognised on the track, if any

    def record(self) -> EventRecord:
        return EventRecord(
            "person.left",
            f"camera:{self.camera}",
            {
                "track_id": self.track_id,
                "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat(),
                "duration_s": round((self.last_seen - self.first_seen).total_seconds(), 2),
                "best_confidence": round(self.best_confidence, 3),
                "path_points": self.path_points,
                "snapshot": self.best_snapshot.path if self.best_snapshot else None,
            },
            (self.best_snapshot,) if self.best_snapshot else (),
            track_id=self.track_id,
            person=self.person,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisError(Event):
    """The analysis of a stream stopped at a bad point (corrupt or truncated video)."""

    camera: str
    frame_index: int
    message: str

    def record(self) -> EventRecord:
        return EventRecord(
            "analysis.error",
            f"camera:{self.camera}",
            {"frame_index": self.frame_index, "detail": self.message},
        )


@dataclass(slots=True)
class AnalysisStats:
    """Counters of one analyzer. ``finished_tracks`` holds the most recent finished tracks
    with their paths (bounded: a 24/7 camera must not grow without end; unbounded only
    when the analyzer was made with ``keep_tracks=None``, for the report of a file)."""

    frames: int = 0
    gate_runs: int = 0  # frames the motion gate looked at (an empty scene: 1 in 3)
    detector_runs: int = 0
    detector_deferred: int = 0  # due runs put off to the next frame: no detector slot free
    detections: int = 0
    tracks_confirmed: int = 0
    tracks_finished: int = 0
    finished_tracks: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=RECENT_TRACKS)
    )


class CameraAnalyzer:
    """Analyses one camera's frames in order; publishes person events on ``bus``.

    Called from the camera's worker thread. ``t`` passed to :meth:`process` is the frame's
    ``captured_at`` (monotonic seconds live, recording time for analysed files) and
    ``wall_at`` its UTC wall time, read together by the source: events, snapshots, face
    sightings and track first/last seen are stamped with the ``wall_at`` of the frames
    they come from, so they line up with the clip of those frames.
    ``snapshot_dir`` (the data dir) enables JPEG snapshots of each person when confirmed.
    ``keep_tracks`` bounds :attr:`AnalysisStats.finished_tracks` (None: keep all).
    ``media_watch`` is told of every snapshot written or lost: a snapshot that cannot be
    written is published as lost and its event goes on without one.
    """

    def __init__(
        self,
        camera: str,
        bus: EventBus,
        clock: Clock,
        *,
        detector: PersonDetector | None = None,
        detect_interval_s: float = DETECT_INTERVAL_S,
        snapshot_dir: Path | None = None,
        faces: FaceWorker | None = None,
        gestures: GestureWorker | None = None,
        keep_tracks: int | None = RECENT_TRACKS,
        media_watch: MediaWriteWatch | None = None,
        slots: DetectorSlots | None = None,
    ) -> None:
        self.camera = camera
        self._slots = slots
        self._media_watch = media_watch
        self._bus = bus
        self._clock = clock
        self.detector = detector or HogPersonDetector()
        self.detect_interval_s = max(0.0, detect_interval_s)
        self._gate = MotionGate()
        self._gate_rest = 0  # frames still to pass without the gate (a still scene)
        self.tracker = MultiTracker(motion_support=not self.detector.whole_frame)
        self._snapshot_dir = snapshot_dir
        self._track_walls: dict[int, list[datetime]] = {}  # track id → [first, last] seen
        self._last_frame: tuple[int, datetime] | None = None  # (index, wall time)
        # The newest frame's analysis, for other threads (who is in view when a name is
        # heard); None before the first frame.
        self.latest: FrameAnalysis | None = None
        self._last_detect_t = -1e9
        self._due_since: float | None = None  # a due run put off since then (no slot)
        self._last_full_scan = -1e9
        self._faces = faces
        self._face_tried: dict[int, float] = {}
        self._gestures = gestures
        self._pose_tried: dict[int, float] = {}
        self._best_sightings: dict[int, tuple[Image, Box]] = {}
        # The best crops of each live track, made into its appearance when it ends.
        self._appearance = AppearanceCollector()
        self._last_scene_scan = -1e9
        self.stats = AnalysisStats(finished_tracks=collections.deque(maxlen=keep_tracks))

    @property
    def last_seen_at(self) -> datetime | None:
        """The wall time of the newest analysed frame (None before the first)."""
        last = self._last_frame
        return last[1] if last is not None else None

    def process(
        self, image: Image, frame_index: int, t: float, wall_at: datetime | None = None
    ) -> FrameAnalysis:
        """Analyse one frame (BGR) captured at ``t`` seconds and ``wall_at`` (UTC; None:
        read from the clock now, for frames that come without one)."""
        wall = wall_at if wall_at is not None else self._clock.now()
        self._last_frame = (frame_index, wall)
        self.stats.frames += 1
        motion = self._motion(image)
        detections: list[Detection] | None = None
        regions, full_scan = self._where_to_look(image, motion.regions, t)
        if regions is not None:
            detections = self._detect(image, regions, t, full_scan)
        update = self.tracker.step(frame_index, t, detections, motion.regions, image)
        self._note_track_times(t, wall)
        if detections:
            self._keep_best_sightings(image, tuple(self.tracker.tracks), frame_index)
            self._keep_appearance_crops(image, update.active, detections, t)
        snapshots: dict[int, str] = {}
        for track in update.appeared:
            snapshot = self._announce(track, image, wall)
            if snapshot is not None:
                snapshots[track.track_id] = snapshot.path
        if detections:
            self._report_sightings(image, update.active, t, wall, snapshots)
        for track in update.ended:
            self._farewell(track)
        if len(self._track_walls) > len(self.tracker.tracks):  # tentative tracks that died
            alive = self.tracker.track_ids()
            for track_id in [k for k in self._track_walls if k not in alive]:
                del self._track_walls[track_id]
            self._appearance.retain(alive)
        if self._faces is not None:
            self._look_for_faces(image, update.active, t, wall)
            if motion.regions:
                self._scan_scene(image, t, wall)
        if self._gestures is not None and update.active and self._gestures.active():
            self._look_for_gestures(image, update.active, t, wall)
        views = tuple(
            TrackView(
                tr.track_id,
                tr.box,
                tr.best_confidence,
                tr.last_seen_s < t,
                self._person_label(tr.track_id),
            )
            for tr in update.active
        )
        analysis = FrameAnalysis(
            frame_index,
            t,
            views,
            motion.regions,
            tuple(detections) if detections is not None else None,
        )
        self.latest = analysis  # one reference swap: other threads read it whole
        return analysis

    def _motion(self, image: Image) -> MotionResult:
        """The motion gate's answer for this frame: none while a still scene rests it (see
        :data:`STILL_GATE_EVERY`); anyone tracked or lost keeps it on every frame."""
        watching = self.tracker.tracks or self.tracker.lost
        if self._gate_rest > 0 and not watching:
            self._gate_rest -= 1
            return NO_MOTION
        motion = self._gate.apply(image)
        self.stats.gate_runs += 1
        self._gate_rest = 0 if motion.regions or watching else STILL_GATE_EVERY - 1
        return motion

    def _detect(
        self, image: Image, regions: tuple[Box, ...], t: float, full_scan: bool
    ) -> list[Detection] | None:
        """Run the detector on ``regions`` (empty: the whole frame), or put the run off
        (None) when :class:`DetectorSlots` has no slot free; ``full_scan``: the run is the
        periodic whole-frame scan, whose time is kept once it has run."""
        slots = self._slots
        if slots is not None and not slots.try_take():
            self.stats.detector_deferred += 1
            if self._due_since is None:
                self._due_since = t
            return None
        try:
            detections = self.detector.detect(image, regions or None)
        finally:
            if slots is not None:
                slots.give_back()
        # A run put off by a frame or two keeps the cadence it was due on, so occasional
        # waits for a slot do not slow the camera's detection; one put off for longer than
        # an interval starts the cadence again from now.
        due = self._due_since
        self._due_since = None
        self._last_detect_t = due if due is not None and t - due < self.detect_interval_s else t
        if full_scan:
            self._last_full_scan = t
        self.stats.detector_runs += 1
        self.stats.detections += len(detections)
        return detections

    def _where_to_look(
        self, image: Image, moving: tuple[Box, ...], t: float
    ) -> tuple[tuple[Box, ...] | None, bool]:
        """(None, False): no detector run this frame. Else the regions for the detector
        (empty: the whole frame) and whether this is the periodic full scan. It runs every
        ``detect_interval_s`` while something moves or anyone is tracked (live or lost),
        and on the whole frame every ``FULL_SCAN_S`` whatever the motion gate says, so
        people standing still are found and kept (every ``FULL_SCAN_IDLE_S`` while nobody
        is tracked and nothing moves)."""
        if t - self._last_detect_t < self.detect_interval_s - CADENCE_SLACK_S:
            return None, False
        tracks = self.tracker.tracks
        idle = not moving and not tracks and not self.tracker.lost
        if t - self._last_full_scan >= (FULL_SCAN_IDLE_S if idle else FULL_SCAN_S):
            return (), True
        if idle:
            return None, False
        if self.detector.whole_frame:
            return (), False
        height, width = image.shape[:2]
        around = [
            Box(
                tr.box.x - TRACK_REGION_MARGIN * tr.box.w,
                tr.box.y - TRACK_REGION_MARGIN * tr.box.h,
                tr.box.w * (1 + 2 * TRACK_REGION_MARGIN),
                tr.box.h * (1 + 2 * TRACK_REGION_MARGIN),
            ).clipped(width, height)
            for tr in tracks
            if not any(
                intersection(tr.box, m) >= MOVING_COVERS * tr.box.area for m in moving
            )  # a person inside a moving region is searched there already
        ]
        regions = (*moving, *(box for box in around if box.area > 0))
        return (regions, False) if regions else (None, False)

    def _note_track_times(self, t: float, wall: datetime) -> None:
        """Remember the wall time of each track's first and latest sighting: the ``wall_at``
        of the frames it was seen in."""
        for track in self.tracker.tracks:
            walls = self._track_walls.get(track.track_id)
            if walls is None:
                first = wall - timedelta(seconds=max(0.0, t - track.first_seen_s))
                self._track_walls[track.track_id] = [first, wall]
            elif track.last_seen_s == t:
                walls[1] = wall

    def _seen_between(self, track: Track) -> tuple[datetime, datetime]:
        walls = self._track_walls.pop(track.track_id, None)
        if walls is not None:
            return walls[0], walls[1]
        # Not seen through process() (cannot happen in order); fall back to the last frame.
        at = self._last_frame[1] if self._last_frame else self._clock.now()
        return at, at

    def _look_for_faces(
        self, image: Image, tracks: tuple[Track, ...], t: float, wall: datetime
    ) -> None:
        """Send head crops of tracked people, at most once per FACE_RETRY_S per track,
        until their face is recognised."""
        assert self._faces is not None
        height, width = image.shape[:2]
        for track in tracks:
            box = track.box
            if track.last_seen_s < t or box.h < FACE_MIN_PERSON_HEIGHT_PX:
                continue
            if t - self._face_tried.get(track.track_id, -1e9) < FACE_RETRY_S:
                continue
            if not self._faces.wants(self.camera, track.track_id):
                continue
            head = Box(
                box.x - 0.1 * box.w, box.y - 0.05 * box.h, box.w * 1.2, box.h * HEAD_FRACTION
            ).clipped(width, height)
            x, y, w, h = head.as_ints()
            if w < 24 or h < 24:
                continue
            self._face_tried[track.track_id] = t
            self._faces.submit(self.camera, track.track_id, image[y : y + h, x : x + w], wall)

    def _look_for_gestures(
        self, image: Image, tracks: tuple[Track, ...], t: float, wall: datetime
    ) -> None:
        """Send crops of tracked people to the gesture worker, each at most every
        ``POSE_INTERVAL_S``: people seen at the last chance the tracker had (a detector run,
        or motion), not those coasting on the tracker's prediction after a miss, and tall
        enough to pose. The pose itself runs on the worker's thread."""
        assert self._gestures is not None
        fresh_s = self.detect_interval_s + CADENCE_SLACK_S
        for track in tracks:
            if t - track.last_seen_s > fresh_s or not self._gestures.wants(track.box):
                continue
            if t - self._pose_tried.get(track.track_id, -1e9) < POSE_INTERVAL_S - CADENCE_SLACK_S:
                continue
            self._pose_tried[track.track_id] = t
            label = self._faces.label(self.camera, track.track_id) if self._faces else None
            self._gestures.submit(
                self.camera, track.track_id, image, track.box, t, wall, label[0] if label else None
            )

    def _scan_scene(self, image: Image, t: float, wall: datetime) -> None:
        """Close-up cameras cut bodies off, so the person detector misses people whose
        faces fill the frame: while something moves, the face worker scans the whole scene
        as often as its adaptive interval for this camera says (2 s while scans find faces,
        backing off to a minute while they find none)."""
        assert self._faces is not None
        if t - self._last_scene_scan < self._faces.scene_scan_interval(self.camera):
            return
        if not self._faces.wants(self.camera, SCENE_TRACK):
            return
        self._last_scene_scan = t
        width = image.shape[1]
        if width > FACE_SCAN_MAX_WIDTH_PX:
            cv2 = import_cv2()
            scale = FACE_SCAN_MAX_WIDTH_PX / width
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        self._faces.submit(self.camera, SCENE_TRACK, image, wall)

    def _person_label(self, track_id: int) -> str | None:
        if self._faces is None:
            return None
        label = self._faces.label(self.camera, track_id)
        return (label[1] or label[0]) if label else None

    def finish(self) -> None:
        """The stream ended: close every open track."""
        for track in self.tracker.finish():
            self._farewell(track)
        self._track_walls.clear()

    def _report_sightings(
        self,
        image: Image,
        tracks: tuple[Track, ...],
        t: float,
        wall: datetime,
        snapshots: dict[int, str],
    ) -> None:
        """Tell the alert rules which tracked people the detector found in this frame, each
        with the confidence of its own detection."""
        sightings = tuple(
            Sighting(
                tr.track_id,
                (tr.box.x, tr.box.y, tr.box.w, tr.box.h),
                tr.last_confidence,
                snapshots.get(tr.track_id),
                None if tr.appearance is None else tuple(tr.appearance.ravel().tolist()),
            )
            for tr in tracks
            if tr.last_detected_s == t
        )
        if sightings:
            height, width = image.shape[:2]
            self._bus.publish(
                PeopleDetected(
                    at=wall, camera=self.camera, frame_size=(width, height), sightings=sightings
                )
            )

    def _announce(self, track: Track, image: Image, at: datetime) -> MediaFile | None:
        self.stats.tracks_confirmed += 1
        snapshot = None
        if self._snapshot_dir is not None:
            snapshot = save_snapshot(
                image,
                track.box,
                self._snapshot_dir,
                snapshot_path(self.camera, at, f"t{track.track_id}"),
                camera=self.camera,
                at=at,
                watch=self._media_watch,
            )
        self._bus.publish(
            PersonAppeared(
                at=at,
                camera=self.camera,
                track_id=track.track_id,
                box=track.box,
                confidence=track.best_confidence,
                snapshot=snapshot,
            )
        )
        return snapshot

    def _farewell(self, track: Track) -> None:
        self._face_tried.pop(track.track_id, None)
        self._pose_tried.pop(track.track_id, None)
        if self._gestures is not None:
            self._gestures.forget_track(self.camera, track.track_id)
        first, last = self._seen_between(track)
        person = None
        if self._faces is not None:
            label = self._faces.label(self.camera, track.track_id)
            person = label[0] if label else None
            self._faces.forget_track(self.camera, track.track_id)
        self.stats.tracks_finished += 1
        best_snapshot = self._write_best_snapshot(track, last)
        self.stats.finished_tracks.append(
            {
                "track_id": track.track_id,
                "first_frame": track.first_frame,
                "last_frame": track.last_frame,
                "first_s": round(track.first_seen_s, 3),
                "last_s": round(track.last_seen_s, 3),
                "best_confidence": round(track.best_confidence, 3),
                "path": [[round(t, 2), round(x, 1), round(y, 1)] for t, x, y in track.path],
            }
        )
        self._bus.publish(
            PersonLeft(
                at=last,
                camera=self.camera,
                track_id=track.track_id,
                first_seen=first,
                last_seen=last,
                best_confidence=track.best_confidence,
                path_points=len(track.path),
                best_snapshot=best_snapshot,
                person=person,
            )
        )
        appearance = self._appearance.finish(track.track_id)
        if appearance is not None:
            self._bus.publish(
                AppearanceSeen(
                    at=last,
                    camera=self.camera,
                    track_id=track.track_id,
                    first_seen=first,
                    last_seen=last,
                    snapshot=best_snapshot.path if best_snapshot else None,
                    appearance=appearance,
                )
            )

    def _keep_appearance_crops(
        self, image: Image, tracks: tuple[Track, ...], detections: list[Detection], t: float
    ) -> None:
        """Offer the appearance collector a crop of each confirmed track the detector found
        in this frame: the detection's own box (the track's box is the filter's estimate)."""
        found = [tr for tr in tracks if tr.last_detected_s == t]
        if not found:
            return
        boxes = [d.box for d in detections]
        overlap = iou_matrix([tr.box for tr in found], boxes)
        people = []
        for row, track in zip(overlap, found, strict=True):
            best = int(np.argmax(row))
            if row[best] > 0.3:
                people.append((track.track_id, boxes[best], detections[best].confidence))
        self._appearance.observe(image, people, boxes)

    def _keep_best_sightings(self, image: Image, tracks: tuple[Track, ...], frame: int) -> None:
        """Remember a crop of each track's most confident detection (a few tens of kB
        each) so its best snapshot can be stored when the track ends."""
        if self._snapshot_dir is None:
            return
        height, width = image.shape[:2]
        for track in tracks:
            if track.best_frame != frame or track.best_box is None:
                continue
            box = track.best_box
            margin = Box(box.x - box.w * 0.2, box.y - box.h * 0.2, box.w * 1.4, box.h * 1.4)
            x, y, w, h = margin.clipped(width, height).as_ints()
            if w > 0 and h > 0:
                crop = image[y : y + h, x : x + w].copy()
                self._best_sightings[track.track_id] = (
                    crop,
                    Box(box.x - x, box.y - y, box.w, box.h),
                )

    def _write_best_snapshot(self, track: Track, at: datetime) -> MediaFile | None:
        sighting = self._best_sightings.pop(track.track_id, None)
        if sighting is None or self._snapshot_dir is None:
            return None
        crop, box = sighting
        return save_snapshot(
            crop,
            box,
            self._snapshot_dir,
            snapshot_path(self.camera, at, f"t{track.track_id}_best"),
            camera=self.camera,
            at=at,
            watch=self._media_watch,
        )

    def fail(self, message: str) -> None:
        """Report that the stream broke after the last frame analysed (its index and wall
        time stamp the error); tracks so far are closed first."""
        self.finish()
        frame_index, at = self._last_frame or (0, self._clock.now())
        self._bus.publish(
            AnalysisError(at=at, camera=self.camera, frame_index=frame_index, message=message)
        )
