"""The fusion service: joins what the cameras and sensing rooms report into people, live.

It listens on the bus for what the camera workers, the sensing rooms, the face worker and
the introductions publish (:class:`~engine.events.PeopleDetected`,
:class:`~engine.sensing.service.SensingUpdated`,
:class:`~engine.vision.face_worker.FaceRecognised`,
:meth:`FusionService.name_track` for an introduced name), only appending them to a queue on
the publisher's thread; its own thread (``fusion``) feeds them to the
:class:`~engine.fusion.associate.Associator` every :data:`TICK_S`, publishes
:class:`FusionUpdated` (the people across senses now; not history) and a
:class:`FusionRecord` for each join, parting, handover and finished path, which the store
writer files as ``person.joined``, ``person.parted``, ``person.handed_over`` and
``person.path`` events.

A camera takes part once it is calibrated to the floor (:mod:`engine.fusion.floor`); a
sensing room always does, placed on the floor plan by its ``origin``. A camera's track is
placed by its feet (the bottom centre of its box). Times are the events' own (the frame's
capture time, the sensing tick's), as seconds of the clock's UTC time.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import CameraConfig, SensingRoomConfig
from engine.events import (
    Event,
    EventRecord,
    PeopleDetected,
    PeoplePlaced,
    PeopleSeenInRoom,
    PeopleSensedInView,
    to_console,
)
from engine.fusion.associate import (
    Associator,
    Device,
    FusionChange,
    Heard,
    LinkView,
    MemberKey,
    PersonView,
    Room,
    Segment,
)
from engine.fusion.floor import FloorCalibration
from engine.sensing.service import SensingUpdated
from engine.supervise import SupervisedThread
from engine.vision.face_worker import FaceRecognised

log = logging.getLogger(__name__)

TICK_S: Final = 0.2
SEEN_NOW_S: Final = 0.6  # a camera that saw someone this recently sees them now
QUEUE_MAX: Final = 10_000  # about 30 s of two cameras and two rooms; past it the oldest go


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class FusionUpdated(Event):
    """The people across senses after a fusion tick (not history): everyone in view or
    waiting for a handover, and the camera tracks and blobs joined now."""

    people: tuple[PersonView, ...]
    links: tuple[LinkView, ...]
    # Rooms nothing can name anyone in (no camera, no tag heard) → the names of the tags
    # that went in and have not come out.
    inside: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def tags_inside(self, room: str) -> tuple[str, ...]:
        """The names of the tags room ``room`` holds unseen (empty: none, or the room can
        name people itself)."""
        return next((names for where, names in self.inside if where == room), ())

    def names_on(self, kind: str, where: str) -> dict[int, str]:
        """The names of the people camera (``kind`` ``camera``) or room (``sensing``)
        ``where`` sees now, by track or blob id: whichever sense named them."""
        names: dict[int, str] = {}
        for person in self.people:
            if person.name is None:
                continue
            for member_kind, member_where, ident in person.members:
                if member_kind == kind and member_where == where:
                    names[ident] = person.name
        return names

    def label_of(self, key: MemberKey) -> tuple[str | None, int] | None:
        """The name (None: nobody known) and person key of the person member ``key`` is."""
        for person in self.people:
            if key in person.members:
                return person.name, person.person_key
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class FusionRecord(Event):
    """A join, parting, handover or finished path for the history (see the module)."""

    change: FusionChange
    names: Mapping[str, str]  # camera and room ids to their names at the time

    def record(self) -> EventRecord:
        change, person = self.change, self.change.person
        detail: dict[str, Any] = {
            "person_key": person.person_key,
            "name": person.name,
            "named_by": person.name_source,
        }
        source, track_id = self._source()
        if change.kind in ("joined", "parted"):
            assert change.track is not None and change.blob is not None
            detail |= {
                "camera": self.names.get(change.track[1], change.track[1]),
                "track_id": change.track[2],
                "room": self.names.get(change.blob[1], change.blob[1]),
                "blob": change.blob[2],
            }
            if change.confidence is not None:
                detail["certainty"] = round(change.confidence, 3)
        elif change.kind == "handed_over":
            assert change.member is not None
            kind, where, ident = change.member
            before = _last_before(person.segments, change.member)
            detail |= {
                "sense": kind,
                "into": self.names.get(where, where),
                "member": ident,
                "from": before.label if before is not None else None,
            }
        else:  # ended: the whole path
            detail |= {
                "segments": [_segment_json(s) for s in person.segments],
                "started_at": _iso(min((s.start for s in person.segments), default=None)),
                "ended_at": _iso(max((s.end for s in person.segments), default=None)),
            }
        return EventRecord(
            f"person.{'path' if change.kind == 'ended' else change.kind}",
            source,
            detail,
            track_id=track_id,
            person=person.person_id,
        )

    def _source(self) -> tuple[str, int | None]:
        change = self.change
        if change.track is not None:
            return f"camera:{change.track[1]}", change.track[2]
        if change.member is not None:
            kind, where, ident = change.member
            if kind == "camera":
                return f"camera:{where}", ident
            return f"sensing:{where}", None
        places = [s for s in change.person.segments if s.sense in ("camera", "sensing")]
        if not places:
            return "fusion:site", None
        last = max(places, key=lambda s: s.end)
        if last.sense == "camera":
            return f"camera:{last.source}", last.member_id
        return f"sensing:{last.source}", None


def _iso(t: float | None) -> str | None:
    if t is None or not math.isfinite(t):
        return None
    return datetime.fromtimestamp(t, UTC).isoformat()


def _segment_json(segment: Segment) -> dict[str, Any]:
    return {
        "sense": segment.sense,
        "source": segment.source,
        "label": segment.label,
        "id": segment.member_id,
        "from": _iso(segment.start),
        "to": _iso(segment.end),
    }


def _last_before(segments: Sequence[Segment], member: MemberKey) -> Segment | None:
    mine = next((s for s in segments if (s.sense, s.source, s.member_id) == member), None)
    earlier = [
        s
        for s in segments
        if s.sense in ("camera", "sensing")
        and (s.sense, s.source, s.member_id) != member
        and (mine is None or s.start <= mine.start)
    ]
    return max(earlier, key=lambda s: s.end, default=None)


class FusionService:
    """Runs the association on its own thread (see the module docstring). ``cameras`` and
    ``rooms`` are the site's; ``calibrations`` the cameras calibrated so far (changed at run
    time with :meth:`set_calibration`)."""

    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        *,
        cameras: Sequence[CameraConfig],
        rooms: Sequence[SensingRoomConfig],
        calibrations: Mapping[str, FloorCalibration],
        tick_s: float = TICK_S,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self._tick_s = tick_s
        self._cameras = {cam.id: cam for cam in cameras}
        self._rooms = {room.id: room for room in rooms}
        self._names = {cam.id: cam.name for cam in cameras} | {r.id: r.name for r in rooms}
        self._calibrations = dict(calibrations)
        self._associator = Associator(
            [
                Room(
                    r.id,
                    (r.origin.x_m, r.origin.y_m),
                    (r.origin.x_m + r.box.width_m, r.origin.y_m + r.box.depth_m),
                )
                for r in rooms
            ]
        )
        self._inbox: queue.Queue[Callable[[], None]] = queue.Queue(QUEUE_MAX)
        self._dropped = 0
        self._lock = threading.Lock()
        self._latest: FusionUpdated | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: list[Callable[[], None]] = []

    # -- life ------------------------------------------------------------------------------

    def start(self, *, run: bool = True) -> None:
        """Listen on the bus and (``run``) tick on a thread of its own; without ``run`` the
        caller ticks with :meth:`tick` (a replay, a test)."""
        self._unsubscribe = [
            self._bus.subscribe(PeopleDetected, self._on_people),
            self._bus.subscribe(SensingUpdated, self._on_sensing),
            self._bus.subscribe(FaceRecognised, self._on_face),
        ]
        if run:
            self._thread = SupervisedThread(
                self._run, name="fusion", stop=self._stop, clock=self._clock
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop, first filing every path still open (their last sighting ends them)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._drain()
        self._publish(self._associator.finish(self._clock.now().timestamp()))

    # -- any thread ------------------------------------------------------------------------

    def set_calibration(self, camera: str, calibration: FloorCalibration | None) -> None:
        """Camera ``camera`` was calibrated anew (None: its calibration removed)."""
        with self._lock:
            if calibration is None:
                self._calibrations.pop(camera, None)
            else:
                self._calibrations[camera] = calibration

    def calibration_of(self, camera: str) -> FloorCalibration | None:
        with self._lock:
            return self._calibrations.get(camera)

    def calibrated(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._calibrations)

    def latest(self) -> FusionUpdated | None:
        with self._lock:
            return self._latest

    @property
    def dropped(self) -> int:
        return self._dropped

    def nearest_track(self, camera: str, floor: tuple[float, float]) -> int | None:
        """The track of ``camera`` whose person is placed nearest ``floor`` now (by the
        camera and the room together), or None."""
        latest = self.latest()
        if latest is None:
            return None
        best: tuple[float, int] | None = None
        for person in latest.people:
            if person.waiting:
                continue
            for kind, where, ident in person.members:
                if kind == "camera" and where == camera:
                    d = math.hypot(person.position[0] - floor[0], person.position[1] - floor[1])
                    if best is None or d < best[0]:
                        best = (d, ident)
        return best[1] if best is not None else None

    # -- bus handlers (publishers' threads: only queue) ------------------------------------

    def _put(self, work: Callable[[], None]) -> None:
        try:
            self._inbox.put_nowait(work)
        except queue.Full:
            try:
                self._inbox.get_nowait()
                self._dropped += 1
            except queue.Empty:
                pass
            try:
                self._inbox.put_nowait(work)
            except queue.Full:
                self._dropped += 1

    def _on_people(self, event: PeopleDetected) -> None:
        with self._lock:
            calibration = self._calibrations.get(event.camera)
        if calibration is None or event.camera not in self._cameras:
            return
        t = event.at.timestamp()
        scale = _scale(calibration, event.frame_size)
        feet = []
        for sighting in event.sightings:
            x, y, w, h = sighting.box
            foot = calibration.to_floor((x + w / 2.0) * scale[0], (y + h) * scale[1])
            if foot is not None:
                feet.append((sighting.track_id, foot, sighting.look))
        label = self._names.get(event.camera, event.camera)

        def work() -> None:
            for track_id, foot, look in feet:
                self._associator.see_track(event.camera, track_id, t, foot, label, look)

        self._put(work)
        # The rooms' trackers take the camera's places for the people their links sense.
        for room in self._rooms.values():
            places = tuple(
                (track_id, *room.from_floor(*foot))
                for track_id, foot, _ in feet
                if room.contains_floor(*foot)
            )
            if places:
                self._bus.publish(
                    PeopleSeenInRoom(
                        at=event.at,
                        room=room.id,
                        camera=event.camera,
                        camera_name=label,
                        places=places,
                    )
                )

    def _on_sensing(self, event: SensingUpdated) -> None:
        snapshot = event.snapshot
        room = self._rooms.get(snapshot.room_id)
        if room is None:
            return
        t = event.at.timestamp()
        blobs = []
        for blob in snapshot.blobs:
            if blob.coasting:
                continue  # a prediction, not a sighting
            identity = blob.identity
            device = (
                Device(identity.address, identity.label, identity.name, identity.person_id)
                if identity is not None
                else None
            )
            blobs.append((blob.track_id, room.to_floor(blob.position[0], blob.position[1]), device))
        label = room.name
        heard = tuple(
            Heard(d.address, d.label, d.name, d.person_id, d.readings) for d in snapshot.devices
        )
        offset = t - snapshot.t_s  # the room's engine seconds to event seconds

        def work() -> None:
            for blob_id, floor, device in blobs:
                self._associator.see_blob(room.id, blob_id, t, floor, label, device)
            if heard:
                self._associator.hear_devices(
                    room.id, room.from_floor, room.contains_floor, offset, heard
                )

        self._put(work)

    def _on_face(self, event: FaceRecognised) -> None:
        if event.track_id <= 0:
            return  # a whole-scene scan: no track to name

        def work() -> None:
            self._associator.name_track(
                event.camera, event.track_id, event.name, event.person_id, "face"
            )

        self._put(work)

    def name_track(
        self, camera: str, track_id: int, name: str | None, person_id: str, source: str
    ) -> None:
        """Track ``track_id`` of ``camera`` was named by ``source`` (``introduced``: the
        runtime passes on the introductions' given names, which live above this package)."""

        def work() -> None:
            self._associator.name_track(camera, track_id, name, person_id, source)

        self._put(work)

    # -- the fusion thread -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._clock.wait(self._stop, self._tick_s):
            try:
                self.tick()
            except Exception:  # one bad tick must not end the fusion
                log.exception("fusion tick failed")

    def tick(self) -> FusionUpdated:
        """Fuse what has arrived, as of the clock's now; publish and return the result."""
        self._drain()
        now = self._clock.now().timestamp()
        changes = self._associator.update(now)
        update = FusionUpdated(
            at=self._clock.now(),
            people=tuple(self._associator.people()),
            links=tuple(self._associator.links()),
            inside=tuple(sorted(self._associator.inside().items())),
        )
        with self._lock:
            self._latest = update
        self._publish(changes)
        self._bus.publish(update)
        self._place_in_rooms(update, now)
        self._sense_in_view(update, now)
        return update

    def _place_in_rooms(self, update: FusionUpdated, now: float) -> None:
        """Tell each room's rules about the people only a camera places in it now."""
        placed: dict[str, list[int]] = {}
        for person in update.people:
            if person.waiting or now - person.last_t > 1.0:
                continue
            kinds = {kind for kind, _, _ in person.members}
            if "camera" not in kinds:
                continue
            sensed_in = {where for kind, where, _ in person.members if kind == "sensing"}
            for room in self._rooms.values():
                if room.id not in sensed_in and room.contains_floor(*person.position):
                    placed.setdefault(room.id, []).append(person.person_key)
        for room_id, keys in placed.items():
            self._bus.publish(PeoplePlaced(at=update.at, room=room_id, people=tuple(keys)))

    def _sense_in_view(self, update: FusionUpdated, now: float) -> None:
        """Tell each calibrated camera's rules about the people only the rooms sense where
        its picture shows the floor."""
        with self._lock:
            calibrations = dict(self._calibrations)
        for camera, calibration in calibrations.items():
            width, height = calibration.image_size
            feet = []
            for person in update.people:
                if person.waiting or now - person.last_t > 1.0:
                    continue
                if not any(kind == "sensing" for kind, _, _ in person.members):
                    continue
                if any(
                    s.sense == "camera" and s.source == camera and now - s.end <= SEEN_NOW_S
                    for s in person.segments
                ):
                    continue  # the camera sees them: its own detections go to its rules
                at = calibration.to_picture(*person.position)
                if at is None or not (0.0 <= at[0] < width and 0.0 <= at[1] < height):
                    continue
                feet.append((_track_on(person, camera), (at[0] / width, at[1] / height)))
            if feet:
                self._bus.publish(
                    PeopleSensedInView(at=update.at, camera=camera, people=tuple(feet))
                )

    def _drain(self) -> None:
        while True:
            try:
                work = self._inbox.get_nowait()
            except queue.Empty:
                return
            work()

    def _publish(self, changes: Sequence[FusionChange]) -> None:
        for change in changes:
            if change.kind == "named":
                continue  # live only: the name shows in FusionUpdated and in the path
            if change.kind == "ended" and not _worth_a_path(change.person):
                continue
            at = datetime.fromtimestamp(change.t, UTC) if math.isfinite(change.t) else None
            self._bus.publish(
                FusionRecord(at=at or self._clock.now(), change=change, names=self._names)
            )


def _track_on(person: PersonView, camera: str) -> int:
    """The id ``camera``'s tracker last gave ``person``, else their negated person key (which
    never meets a track id)."""
    seen = [s for s in person.segments if s.sense == "camera" and s.source == camera]
    latest = max(seen, key=lambda s: s.end, default=None)
    if latest is None or latest.member_id is None:
        return -person.person_key
    return latest.member_id


def _worth_a_path(person: PersonView) -> bool:
    """A path is filed when it crossed senses or places (a camera track and a blob, two
    rooms, a device carried): one sense's lone track is that sense's own history already."""
    return len(person.segments) > 1


def _scale(calibration: FloorCalibration, frame_size: tuple[int, int]) -> tuple[float, float]:
    """Pixels of a frame of ``frame_size`` to pixels of the calibrated picture (a camera
    may be analysed at another size than it was calibrated at)."""
    width, height = frame_size
    cal_w, cal_h = calibration.image_size
    if width <= 0 or height <= 0:
        return (1.0, 1.0)
    return (cal_w / width, cal_h / height)
