"""Face recognition for tracked people, off the camera threads.

Camera analyzers submit a head-and-shoulders crop of a tracked person; one worker thread
finds the face, embeds it (dlib, about 70 ms a face here), asks the face memory who it is
(creating ``Person_XXXXXXXX`` for a stranger) and publishes ``face.recognised``. Each track
is matched to a person at most once; its label is then available to viewers.

Whole-scene scans (for close-up cameras, where people's bodies are cut off) are adaptive:
each camera scans every ``SCENE_SCAN_S`` while its scans find faces, and each scan that
finds none doubles the wait, up to ``SCENE_SCAN_MAX_S``. A camera overlooking a plaza from
above (faces too small to recognise) thus stops paying for scans within a minute, and a
door camera keeps scanning every two seconds. A person recognised again on the same camera
within ``REVISIT_S`` of their last sighting there is the same visit, not another appearance.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from engine.bus import EventBus
from engine.events import Event, EventRecord
from engine.identity.faces_store import FaceMemory
from engine.media import MediaFile
from engine.store.commands import InsertMedia
from engine.store.writer import StoreWriter
from engine.supervise import SupervisedThread
from engine.vision.geometry import Box
from engine.vision.snapshots import save_snapshot, snapshot_path

if TYPE_CHECKING:  # the watch is handed in by the runtime: no dependency on record
    from engine.record.losses import MediaWriteWatch

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
QUEUE_CROPS = 8  # live: a busy worker drops new crops rather than fall behind
SMALL_CROP_PX = 160  # crops shorter than this are upsampled for the face detector
SCENE_TRACK = -1  # track id of a whole-scene scan (close-up cameras where bodies are cut off)
REVISIT_S = 30.0  # a person seen again on a camera within this is the same appearance
SCENE_SCAN_S = 2.0  # whole-scene scans this often while they find faces
SCENE_SCAN_MAX_S = 60.0  # ...and at most this far apart while they find none


@dataclass(frozen=True, slots=True, kw_only=True)
class FaceRecognised(Event):
    """A tracked person's face matched someone (or became a new unknown person)."""

    camera: str
    track_id: int
    person_id: str
    name: str | None
    distance: float | None  # to the nearest known face before this one; None: memory empty
    new_person: bool
    snapshot: str | None = None  # the face as seen, relative to the data dir
    # The snapshot's file when it belongs to this event alone (a sighting during a visit,
    # not kept with the person's face data): stored with the event, erased with it.
    snapshot_file: MediaFile | None = None

    def record(self) -> EventRecord:
        return EventRecord(
            "face.recognised",
            f"camera:{self.camera}",
            {
                "track_id": self.track_id,
                "person_id": self.person_id,
                "name": self.name,
                "distance": round(self.distance, 4) if self.distance is not None else None,
                "new_person": self.new_person,
                "snapshot": self.snapshot,
            },
            (self.snapshot_file,) if self.snapshot_file else (),
            track_id=self.track_id or None,
            person=self.person_id,
        )


@dataclass(frozen=True, slots=True)
class _Crop:
    camera: str
    track_id: int
    image: Image
    seen_at: datetime


class FaceWorker:
    """Recognises faces on person crops from every camera, one at a time.

    ``submit`` is called from camera workers; ``label`` from any thread. ``blocking=True``
    (file analysis) waits for room instead of dropping crops, so results are complete.
    """

    def __init__(
        self,
        memory: FaceMemory,
        bus: EventBus,
        *,
        blocking: bool = False,
        writer: StoreWriter | None = None,
        snapshot_dir: Path | None = None,
        media_watch: MediaWriteWatch | None = None,
    ) -> None:
        """With ``writer`` and ``snapshot_dir`` (the data dir), the face of each new sighting
        is kept as a JPEG snapshot and becomes the person's picture if they have none;
        ``media_watch`` is told of each snapshot written or lost (a face whose snapshot is
        lost is still recognised, without a picture)."""
        self._memory = memory
        self._media_watch = media_watch
        self._bus = bus
        self._writer = writer
        self._snapshot_dir = snapshot_dir
        self._blocking = blocking
        self._queue: queue.Queue[_Crop | None] = queue.Queue(maxsize=QUEUE_CROPS)
        self._lock = threading.Lock()
        self._labels: dict[tuple[str, int], tuple[str, str | None]] = {}
        self._pending: set[tuple[str, int]] = set()
        self._forgotten: set[tuple[str, int]] = set()  # ended tracks with a crop in flight
        # (camera, person id) → (last seen there, public id, name): the visit in progress
        self._scene_seen: dict[tuple[str, int], tuple[datetime, str, str | None]] = {}
        self._scan_interval: dict[str, float] = {}  # camera → seconds between scene scans
        self._recognised: dict[str, str | None] = {}  # every person id seen → name
        self._thread = SupervisedThread(self._run, name="face-worker")
        self.crops_dropped = 0
        self.crops_done = 0
        self.faces_found = 0
        self.failures = 0

    @property
    def memory(self) -> FaceMemory:
        return self._memory

    def start(self) -> None:
        self._memory.encoder.load()
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the queued crops, then end the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout_s)

    def wants(self, camera: str, track_id: int) -> bool:
        """True while the track has no person and no crop of it is waiting (a scene scan,
        ``SCENE_TRACK``, is wanted whenever none is waiting)."""
        with self._lock:
            key = (camera, track_id)
            if track_id == SCENE_TRACK:
                return key not in self._pending
            return key not in self._labels and key not in self._pending

    def submit(self, camera: str, track_id: int, crop: Image, seen_at: datetime) -> bool:
        """Queue a crop (copied); False if the worker is busy and it was dropped."""
        key = (camera, track_id)
        with self._lock:
            self._pending.add(key)
        item = _Crop(camera, track_id, crop.copy(), seen_at)
        try:
            self._queue.put(item, block=self._blocking)
        except queue.Full:
            with self._lock:
                self._pending.discard(key)
            self.crops_dropped += 1
            return False
        return True

    def scene_scan_interval(self, camera: str) -> float:
        """Seconds the camera should wait between whole-scene scans now (any thread)."""
        with self._lock:
            return self._scan_interval.get(camera, SCENE_SCAN_S)

    def _scene_scanned(self, camera: str, found: bool) -> None:
        with self._lock:
            if found:
                self._scan_interval[camera] = SCENE_SCAN_S
            else:
                interval = self._scan_interval.get(camera, SCENE_SCAN_S)
                self._scan_interval[camera] = min(SCENE_SCAN_MAX_S, 2 * interval)

    def label(self, camera: str, track_id: int) -> tuple[str, str | None] | None:
        """(person id, name) recognised for the track, if any."""
        with self._lock:
            return self._labels.get((camera, track_id))

    def forget_track(self, camera: str, track_id: int) -> None:
        """The track ended: drop its label (also once a crop of it still in the queue is
        done), so per-track state does not grow in a 24/7 run. Any thread."""
        key = (camera, track_id)
        with self._lock:
            self._labels.pop(key, None)
            if key in self._pending:
                self._forgotten.add(key)

    def renamed(self, public_id: str, name: str | None) -> None:
        """Person ``public_id`` was given ``name``: tracks labelled with them show it from
        now on (any thread)."""
        with self._lock:
            for key, (labelled, _) in list(self._labels.items()):
                if labelled == public_id:
                    self._labels[key] = (public_id, name)
            if public_id in self._recognised:
                self._recognised[public_id] = name

    def tracks_of(self, camera: str) -> dict[int, tuple[str, str | None]]:
        """Track id → (person id, name) of the tracks on ``camera`` recognised so far."""
        with self._lock:
            return {track: label for (cam, track), label in self._labels.items() if cam == camera}

    def persons(self) -> dict[str, str | None]:
        """Every person recognised so far: person id → name."""
        with self._lock:
            return dict(self._recognised)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._recognise(item)
            except Exception:
                self.failures += 1
                log.exception("face recognition failed on %s track %d", item.camera, item.track_id)
            finally:
                with self._lock:
                    key = (item.camera, item.track_id)
                    self._pending.discard(key)
                    if key in self._forgotten:
                        self._forgotten.discard(key)
                        self._labels.pop(key, None)
                self.crops_done += 1

    def _recognise(self, item: _Crop) -> None:
        upsample = 2 if item.image.shape[0] < SMALL_CROP_PX else 1
        faces = self._memory.encoder.encode(item.image, upsample=upsample)
        if item.track_id == SCENE_TRACK:
            self._scene_scanned(item.camera, bool(faces))
        if not faces:
            return
        self.faces_found += len(faces)
        if item.track_id != SCENE_TRACK:  # a person crop: the largest face is theirs
            faces = [max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))]
        for face in faces:
            nearest = self._memory.gallery.nearest(face.embedding)
            known = nearest is not None and nearest.distance < self._memory.threshold
            if known and nearest is not None:
                visit = self._scene_seen.get((item.camera, nearest.person_id))
                if visit is not None and (item.seen_at - visit[0]).total_seconds() < REVISIT_S:
                    self._scene_seen[(item.camera, nearest.person_id)] = (item.seen_at, *visit[1:])
                    if item.track_id != SCENE_TRACK:  # the track is theirs; same visit
                        self._label_revisit(item, face.box, visit[1:], nearest.distance)
                    continue
            left, top, right, bottom = face.box
            stored = self._store_face(item, Box(left, top, right - left, bottom - top))
            person = self._memory.observe(
                face.embedding, item.seen_at, stored[0] if stored else None
            )
            self._scene_seen[(item.camera, person.id)] = (
                item.seen_at,
                person.public_id,
                person.name,
            )
            self._forget_old_scene_visits(item.seen_at)
            with self._lock:
                self._labels[(item.camera, item.track_id)] = (person.public_id, person.name)
                self._recognised[person.public_id] = person.name
            self._bus.publish(
                FaceRecognised(
                    at=item.seen_at,
                    camera=item.camera,
                    track_id=max(item.track_id, 0),  # 0: found by a scene scan
                    person_id=person.public_id,
                    name=person.name,
                    distance=nearest.distance if nearest is not None else None,
                    new_person=not known,
                    snapshot=stored[1] if stored else None,
                )
            )

    def _label_revisit(
        self,
        item: _Crop,
        face: tuple[int, int, int, int],
        person: tuple[str, str | None],
        distance: float,
    ) -> None:
        """A track shows someone already seen on this camera during this visit: name the
        track (viewers, ``person.left``) and say so with the face as seen, without counting
        an appearance."""
        public_id, name = person
        left, top, right, bottom = face
        file = self._face_file(item, Box(left, top, right - left, bottom - top))
        with self._lock:
            self._labels[(item.camera, item.track_id)] = (public_id, name)
            self._recognised[public_id] = name
        self._bus.publish(
            FaceRecognised(
                at=item.seen_at,
                camera=item.camera,
                track_id=item.track_id,
                person_id=public_id,
                name=name,
                distance=distance,
                new_person=False,
                snapshot=file.path if file else None,
                snapshot_file=file,
            )
        )

    def _forget_old_scene_visits(self, now: datetime) -> None:
        """Visits older than REVISIT_S no longer matter (worker thread)."""
        for key in [
            k
            for k, (at, _, _) in self._scene_seen.items()
            if (now - at).total_seconds() >= REVISIT_S
        ]:
            del self._scene_seen[key]

    def _face_file(self, item: _Crop, face: Box) -> MediaFile | None:
        """The face as a JPEG snapshot under the data dir (None when nothing is stored)."""
        if self._writer is None or self._snapshot_dir is None:
            return None
        return save_snapshot(
            item.image,
            face,
            self._snapshot_dir,
            snapshot_path(item.camera, item.seen_at, "face"),
            camera=item.camera,
            at=item.seen_at,
            watch=self._media_watch,
        )

    def _store_face(self, item: _Crop, face: Box) -> tuple[int, str] | None:
        """Keep the face as a JPEG snapshot with its media row: (media id, path)."""
        file = self._face_file(item, face)
        if file is None or self._writer is None:
            return None
        media_id: int = self._writer.execute(InsertMedia(file=file, created_at=item.seen_at))
        return media_id, file.path
