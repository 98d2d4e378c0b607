"""Immutable events that travel on the bus.

Every event is a frozen dataclass stamped with the clock's UTC time. Events that belong in
the history have a :meth:`Event.record` that says how the store writer files them. A kind
the console shows says so where it is declared (:func:`to_console`, or
:func:`to_console_newest` for one coalesced per key): the console's bridge takes those, and
only those, to the GUI thread, where panes subscribe by class.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from engine.media import MediaFile


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of all bus events."""

    at: datetime

    def record(self) -> EventRecord | None:
        """How this event is stored in the ``events`` table, or None if it is not history."""
        return None


E = TypeVar("E", bound=Event)


@dataclass(frozen=True, slots=True)
class ConsoleDelivery:
    """How the console's bridge takes one event kind to the GUI thread: every event, in
    the order published (``newest_per`` None), or, for a frequent kind, coalesced: when the
    GUI thread is behind it gets only the newest event per ``newest_per(event)`` key, never
    a backlog."""

    kind: type[Event]
    newest_per: Callable[[Any], Hashable] | None = None


_TO_CONSOLE: dict[type[Event], ConsoleDelivery] = {}


class _Declares(Protocol):
    def __call__(self, kind: type[E], /) -> type[E]: ...


def _declare(delivery: ConsoleDelivery) -> None:
    kind = delivery.kind
    if not issubclass(kind, Event):
        raise TypeError(f"{kind.__qualname__} is not an Event: the bus does not carry it")
    if kind in _TO_CONSOLE:
        raise ValueError(f"{kind.__qualname__} is already declared to the console")
    _TO_CONSOLE[kind] = delivery


def to_console(kind: type[E]) -> type[E]:
    """Class decorator (above ``@dataclass``): every event of this kind reaches the console's
    panes, on the GUI thread, in the order published (``ctx.events.on(kind, handler)``)."""
    _declare(ConsoleDelivery(kind))
    return kind


def to_console_newest(per: Callable[[Any], Hashable]) -> _Declares:
    """Class decorator (above ``@dataclass``) for a frequent kind: it reaches the console's
    panes coalesced, the newest event per key ``per(event)`` (a room, a camera) when the GUI
    thread is behind."""

    def declare(kind: type[E], /) -> type[E]:
        _declare(ConsoleDelivery(kind, newest_per=per))
        return kind

    return declare


def console_delivery(kind: type[Event]) -> ConsoleDelivery | None:
    """How the console takes events of exactly this class to its panes; None: they stay in
    the engine (the bus's other subscribers: rules, the store writer…). Only declared
    kinds are forwarded: a kind's module declares it when it is imported, before any of its
    events can be published. Safe on any thread."""
    return _TO_CONSOLE.get(kind)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One row for the events table: ``kind`` like ``camera.offline`` (dotted
    ``<noun>.<verb>``, lower case), ``source`` like ``camera:plaza``, JSON-serialisable
    ``detail``, and finished media files (snapshots) whose rows are stored with the event and
    linked to it. ``track_id`` (unique per camera across runs) and ``person`` (a person's
    public id, ``Person_…``) fill the event's identity columns."""

    kind: str
    source: str
    detail: dict[str, Any]
    media: tuple[MediaFile, ...] = ()
    track_id: int | None = None
    person: str | None = None


@dataclass(frozen=True, slots=True)
class Sighting:
    """One tracked person found by the detector in a frame: the track, its detection's box
    (x, y, w, h in pixels) and confidence, the snapshot written when the track was
    confirmed (on that frame only; data-dir relative), and ``look``: what the person wears,
    the track's colour histogram (hue × saturation of torso and legs, from its first
    sighting and then a running mean of those where nobody overlapped them; L1-normalised,
    flattened; None while unknown)."""

    track_id: int
    box: tuple[float, float, float, float]
    confidence: float
    snapshot: str | None = None
    look: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PeopleDetected(Event):
    """The detector ran on a frame of ``camera`` (``frame_size``: width, height in pixels)
    and confirmed these tracked people in it. Published on the camera's worker thread after
    every detector run that found someone; not history (the alert rules consume it)."""

    camera: str
    frame_size: tuple[int, int]
    sightings: tuple[Sighting, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeoplePlaced(Event):
    """People a camera calibrated to the floor places inside sensing room ``room`` while
    the room itself does not sense them (weak sensing there, a still body): ``people`` are
    the fusion's person keys. Published by the fusion service on each tick where there are
    any; not history (the alert rules of a room consume it, so that a room rule fires on
    either sense)."""

    room: str
    people: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeopleSeenInRoom(Event):
    """Where calibrated camera ``camera`` places the people of one picture (taken at ``at``)
    who stand inside sensing room ``room``: each as (the camera's track id, x, y in the
    room's own metres, the feet). The room's tracker takes the camera's place for someone
    its links sense there (two people a metre apart make one blob to the links, two feet to
    a camera). Published by the fusion service for each such picture; not history."""

    room: str
    camera: str
    camera_name: str
    places: tuple[tuple[int, float, float], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeopleSensedInView(Event):
    """People the sensing rooms place where calibrated camera ``camera``'s picture shows the
    floor while the camera does not see them (a privacy mask, someone in the way, the dark):
    each as (track id, foot point in fractions of the picture). The track id is the camera's
    own track of them where it had one (so a rule's run carries on), else the negated fusion
    person key. Published by the fusion service each tick where there are any; not history
    (a camera's rules consume it, so that they fire on either sense)."""

    camera: str
    people: tuple[tuple[int, tuple[float, float]], ...]


class CameraStatus(enum.StrEnum):
    """Life cycle of one camera source as the operator sees it."""

    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"  # was delivering frames, stopped; reconnecting with backoff
    ERROR = "error"  # cannot be opened at all (bad URL, unreadable file); retrying
    NO_FOOTAGE = "no_footage"  # the configured file does not exist
    STOPPED = "stopped"  # source finished (non-looping file) or engine stopping


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class CameraStatusChanged(Event):
    """A camera source changed status. Published from the camera's worker thread or watchdog.

    ``handed_over``: the camera stopped here because another engine of a shared site takes
    it over (its status there is that engine's to say): this engine's panes and report see
    it stop, but what speaks for the whole site (the MQTT state, the live notes to attached
    consoles, the camera's offline alert) does not take it as the camera's state."""

    camera_id: str
    status: CameraStatus
    detail: str = ""
    since: datetime
    retry_in_s: float | None = None
    handed_over: bool = False

    def record(self) -> EventRecord:
        detail: dict[str, Any] = {"detail": self.detail, "since": self.since.isoformat()}
        if self.retry_in_s is not None:
            detail["retry_in_s"] = round(self.retry_in_s, 3)
        if self.handed_over:
            detail["handed_over"] = True
        return EventRecord(f"camera.{self.status.value}", f"camera:{self.camera_id}", detail)


class HealthState(enum.StrEnum):
    """Health of one subsystem, shown in the console's status bar."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    OFF = "off"  # not configured on this site


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class SubsystemHealth(Event):
    """Current health of one subsystem (``store``, ``cameras``, ``engine`` …)."""

    subsystem: str
    state: HealthState
    detail: str


def recording_source(camera: str | None, room: str | None) -> str:
    """The events table's source of a recording's place: ``camera:<key>`` for a camera's
    clips and snapshots, ``sensing:<room id>`` for a sensing room's recording (as its
    sensing events are named). Exactly one of ``camera`` and ``room`` is given."""
    if (camera is None) == (room is None):
        raise ValueError("a recording's place is a camera or a sensing room, not both or neither")
    return f"camera:{camera}" if camera is not None else f"sensing:{room}"


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class MediaWriteFailed(Event):
    """Recording data of a place could not be written (disk full, an I/O error, a
    permission refused…). The place is a ``camera`` or a sensing ``room`` (exactly one).

    A camera's clips or snapshots are then lost: nothing of them is left on disk and no row
    names them. ``paths`` are the data-dir relative names the files this event covers would
    have had (``path`` the first): the first loss of a failing spell alone, later ones
    gathered and published at most once a minute (see :mod:`engine.record.losses`), so each
    lost file is in exactly one event. ``media`` is their kind, ``clip`` or ``snapshot``
    (``media`` when the event covers both); ``lost`` counts the camera's files lost since
    its media began failing, at ``since``; ``at`` is the first covered footage's own time
    (the clip's first frame, the snapshot's frame). Published on the writing thread (clip
    writer, camera worker, face worker), or the stopping engine's.

    A room's recording (``media`` ``csi``, ``path`` its ring's folder) keeps what it could
    not write in memory and retries, so a failing spell starts with nothing lost; it is
    published again when records are dropped (past its pending cap, or unwritable when it
    closes), ``lost`` then counting the records lost since ``since``. Published on the
    ``sensing-recorder`` thread.

    ``reason`` is the cause as a person says it ("disk full"), ``error`` the full message.
    Stored as a ``recording.failed`` event."""

    camera: str | None = None
    room: str | None = None
    media: str
    path: str
    paths: tuple[str, ...] = ()  # a camera's files (default: ``path`` alone); a room's: none
    reason: str
    error: str
    lost: int
    since: datetime

    def __post_init__(self) -> None:
        recording_source(self.camera, self.room)  # exactly one place
        if self.camera is not None and not self.paths:
            object.__setattr__(self, "paths", (self.path,))

    @property
    def source(self) -> str:
        """``camera:<key>`` or ``sensing:<room id>``."""
        return recording_source(self.camera, self.room)

    def record(self) -> EventRecord:
        # A camera's event lists the files it covers; a room's names its ring's folder.
        not_written: list[str] | str = list(self.paths) if self.camera is not None else self.path
        return EventRecord(
            "recording.failed",
            self.source,
            {
                "media": self.media,
                "not_written": not_written,
                "reason": self.reason,
                "error": self.error,
                "lost": self.lost,
                "since": self.since.isoformat(),
            },
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingGap(Event):
    """No continuous recording of ``camera`` from ``started_at`` to ``ended_at`` (UTC),
    ``reason`` saying why as a person would ("the camera's stream restarted", "the engine
    was not recording", "a segment could not be written: disk full"). ``at`` is
    ``ended_at``: when the recording resumed. ``alert_after_s``: the camera's
    ``gap_alert_s``; a gap at least this long raises an alert (None: never). Published
    by :class:`~engine.record.segments.SegmentRecorder`; stored as ``recording.gap``."""

    camera: str
    camera_id: int | None
    started_at: datetime
    ended_at: datetime
    reason: str
    alert_after_s: float | None = None

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    def record(self) -> EventRecord:
        return EventRecord(
            "recording.gap",
            f"camera:{self.camera}",
            {
                "started_at": self.started_at.isoformat(),
                "ended_at": self.ended_at.isoformat(),
                "seconds": round(self.seconds, 1),
                "reason": self.reason,
            },
        )


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class MediaWriteRecovered(Event):
    """A place's recording is written again: a ``camera``'s clips and snapshots after
    ``lost`` files were lost since ``since``, or a sensing ``room``'s recording after
    ``lost`` records were lost (exactly one place). Published on the thread of the first
    write that succeeded; stored as a ``recording.recovered`` event."""

    camera: str | None = None
    room: str | None = None
    lost: int
    since: datetime

    def __post_init__(self) -> None:
        recording_source(self.camera, self.room)  # exactly one place

    @property
    def source(self) -> str:
        """``camera:<key>`` or ``sensing:<room id>``."""
        return recording_source(self.camera, self.room)

    def record(self) -> EventRecord:
        return EventRecord(
            "recording.recovered",
            self.source,
            {"lost": self.lost, "since": self.since.isoformat()},
        )
