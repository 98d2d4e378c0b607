"""Recording that could not be written: every lost clip, snapshot and sensing record
counted, said and cleared.

A clip writer, a camera's analysis (person snapshots) and the face worker (face snapshots)
tell one :class:`MediaWriteWatch` per engine how each write ended; a sensing room's
recorder tells it through the :class:`RoomRecordingWatch` the watch gives it. Losses
become :class:`~engine.events.MediaWriteFailed` events on the bus, the first of a failing
spell at once and the rest gathered and published at most once a minute
(:data:`LOSS_EVERY_S`; a camera's event names every file it covers). The store writer files
each as a ``recording.failed`` event, the alert service raises "Recording failing on camera
…" or "… in sensing room …", the console's tile, Sensing pane and status bar show it. Every
loss is kept in memory too, so that it is reported even when the store sits on the same
full disk and cannot take the event. When every kind of media that failed at a place is
written again, :class:`~engine.events.MediaWriteRecovered` says so.

A place is keyed by its events' source: ``camera:<key>`` or ``sensing:<room id>``
(:func:`~engine.events.recording_source`).
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from engine.bus import EventBus
from engine.clock import Clock
from engine.events import MediaWriteFailed, MediaWriteRecovered, recording_source

log = logging.getLogger(__name__)

LOST_KEPT: Final = 1000  # lost files remembered by name (all are counted)
# Each published loss is a stored ``recording.failed`` row in the operator's Events pane and
# timeline, while the place's one alert already says its recording is failing. A camera with
# people in view loses a clip every ~2 s on a full disk, and a failing sensing recording drops
# records every few tenths of a second: a place's losses are published at most this often,
# the first of a spell at once, the rest gathered (a camera's event names every file it
# covers); the recovery and the stop publish what is still gathered.
LOSS_EVERY_S: Final = 60.0
ROOM_LOSS_EVERY_S: Final = LOSS_EVERY_S
SENSING_MEDIA: Final = "csi"  # a room's recording: the kind of its media rows
MIXED_MEDIA: Final = "media"  # a camera's event covering both clips and snapshots
_REASONS: Final = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "disk I/O error",
    errno.EROFS: "disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def loss_reason(error: BaseException) -> str:
    """Why a write failed, as a person says it: "disk full", "permission denied", else the
    system's words for the error (or the error's own message)."""
    code = error.errno if isinstance(error, OSError) else None
    if code is not None:
        return _REASONS.get(code) or os.strerror(code).lower()
    return str(error) or type(error).__name__


@dataclass(frozen=True, slots=True)
class LostMedia:
    """One file that was not written: ``media`` (``clip``/``snapshot``) of ``camera`` at
    ``at`` (its footage's UTC time), the data-dir relative ``path`` it would have had."""

    camera: str
    media: str
    path: str
    at: datetime
    reason: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "camera": self.camera,
            "media": self.media,
            "path": self.path,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "error": self.error,
        }


@dataclass(slots=True)
class PlaceLosses:
    """A place (camera or sensing room) whose recording is failing: since when, the kinds
    still failing, what was lost since then (``lost`` files of a camera, records of a
    room: ``unit``) and the latest reason."""

    since: datetime
    reason: str
    lost: int = 0
    media: set[str] = field(default_factory=set)
    unit: str = "file"
    error: str = ""  # the latest write error, in full
    announced_at: datetime | None = None  # its loss last published (None: not yet)
    pending: list[LostMedia] = field(default_factory=list)  # a camera's, not yet published


class MediaWriteWatch:
    """Counts lost media per place and publishes the failures and recoveries on ``bus``.

    Thread-safe: called from clip writers, camera workers, the face worker and sensing
    recorders. Events are published after the lock is released, on the caller's thread."""

    def __init__(self, bus: EventBus, clock: Clock) -> None:
        self._bus = bus
        self._clock = clock
        self._lock = threading.Lock()
        self._failing: dict[str, PlaceLosses] = {}
        self._lost: collections.deque[LostMedia] = collections.deque(maxlen=LOST_KEPT)
        self._total = 0
        self._rooms_lost: dict[str, list[int]] = {}  # room → [records, blocks] lost

    def failed(
        self,
        camera: str,
        media: str,
        path: str,
        error: BaseException,
        at: datetime | None = None,
    ) -> LostMedia:
        """``media`` of ``camera`` meant for ``path`` (data-dir relative) is lost because of
        ``error``; ``at``: its footage's time (default: now). The caller has removed any
        temp file it left."""
        when = at if at is not None else self._clock.now()
        reason = loss_reason(error)
        lost = LostMedia(camera, media, path, when, reason, f"{type(error).__name__}: {error}")
        with self._lock:
            self._total += 1
            self._lost.append(lost)
            key = recording_source(camera, None)
            state = self._failing.get(key)
            if state is None:
                state = self._failing[key] = PlaceLosses(when, reason)
            state.lost += 1
            state.reason, state.error = reason, lost.error
            state.media.add(media)
            state.pending.append(lost)
            due = (
                state.announced_at is None
                or (when - state.announced_at).total_seconds() >= LOSS_EVERY_S
            )
            event = self._take_pending(camera, state, when) if due else None
        log.error("camera %s: %s %s not written: %s", camera, media, path, lost.error)
        if event is not None:
            self._bus.publish(event)
        return lost

    @staticmethod
    def _take_pending(camera: str, state: PlaceLosses, at: datetime) -> MediaWriteFailed | None:
        """The event naming ``camera``'s gathered losses (None: none gathered), which are
        then published; ``at``: the latest loss's time. Called holding the lock."""
        batch, state.pending = state.pending, []
        if not batch:
            return None
        state.announced_at = at
        kinds = {lost.media for lost in batch}
        return MediaWriteFailed(
            at=batch[0].at,  # the first lost footage the event covers
            camera=camera,
            media=kinds.pop() if len(kinds) == 1 else MIXED_MEDIA,
            path=batch[0].path,
            paths=tuple(lost.path for lost in batch),
            reason=batch[-1].reason,
            error=batch[-1].error,
            lost=state.lost,
            since=state.since,
        )

    def flush(self, due_at: datetime | None = None) -> None:
        """Publish every camera's gathered losses now (the engine or analysis is stopping:
        call before the store writer stops, so each lost file is in a stored event). With
        ``due_at`` (the live engine's watchdog, on the engine clock): only those whose last
        event is :data:`LOSS_EVERY_S` or more before it, so losses gathered just before the
        camera stopped losing files (nobody in view any more) are stored within a minute
        or so, not only when the next loss, the recovery or the stop comes."""
        events: list[MediaWriteFailed] = []
        with self._lock:
            for state in self._failing.values():
                if state.pending and (
                    due_at is None
                    or state.announced_at is None
                    or (due_at - state.announced_at).total_seconds() >= LOSS_EVERY_S
                ):
                    camera = state.pending[0].camera
                    event = self._take_pending(camera, state, state.pending[-1].at)
                    if event is not None:
                        events.append(event)
        for event in events:
            self._bus.publish(event)

    def written(self, camera: str, media: str, at: datetime | None = None) -> None:
        """A ``media`` file of ``camera`` was written whole; when it was the last kind
        failing there, the camera has recovered."""
        key = recording_source(camera, None)
        with self._lock:
            state = self._failing.get(key)
            if state is None or media not in state.media:
                return
            state.media.discard(media)
            if state.media:
                return
            del self._failing[key]
            # What was gathered is said before the recovery, so the spell's events name
            # every file it lost.
            batch = (
                self._take_pending(camera, state, state.pending[-1].at) if state.pending else None
            )
        if batch is not None:
            self._bus.publish(batch)
        log.warning(
            "camera %s: media are written again (%d lost since %s)",
            camera,
            state.lost,
            state.since.isoformat(),
        )
        self._bus.publish(
            MediaWriteRecovered(
                at=at if at is not None else self._clock.now(),
                camera=camera,
                lost=state.lost,
                since=state.since,
            )
        )

    def room(self, room: str, path: str) -> RoomRecordingWatch:
        """What sensing ``room``'s recorder (its ring in ``path``, data-dir relative where
        it lies in the data dir) tells this watch."""
        with self._lock:
            self._rooms_lost.setdefault(room, [0, 0])
        return RoomRecordingWatch(self, room, path)

    # --- a sensing room's recording (its RoomRecordingWatch calls these) -------------------

    def _room_failed(self, room: str, path: str, error: BaseException) -> None:
        now = self._clock.now()
        reason = loss_reason(error)
        message = f"{type(error).__name__}: {error}"
        key = recording_source(None, room)
        with self._lock:
            state = self._failing.get(key)
            if state is not None:
                state.reason, state.error = reason, message
                return  # said when the spell began (and when records are lost)
            state = self._failing[key] = PlaceLosses(
                now, reason, media={SENSING_MEDIA}, unit="record", error=message
            )
        log.error("sensing room %s: recording not written (kept to retry): %s", room, message)
        self._publish_room_failure(room, path, state, now, lost=0)

    def _room_lost(self, room: str, path: str, records: int, blocks: int, *, closing: bool) -> None:
        if records <= 0 and blocks <= 0:
            return
        now = self._clock.now()
        key = recording_source(None, room)
        with self._lock:
            totals = self._rooms_lost.setdefault(room, [0, 0])
            totals[0] += records
            totals[1] += blocks
            state = self._failing.get(key)
            if state is None:  # no write failed, yet the pending data overflowed: too slow
                state = self._failing[key] = PlaceLosses(
                    now,
                    "recording fell behind",
                    media={SENSING_MEDIA},
                    unit="record",
                    error="pending data past its cap while writes were slow",
                )
            first = state.lost == 0
            state.lost += records
            due = (
                closing
                or first
                or state.announced_at is None
                or (now - state.announced_at).total_seconds() >= ROOM_LOSS_EVERY_S
            )
            count = state.lost
        if due:  # the log says what the events say, not every dropped block
            log.error(
                "sensing room %s: %d records of its recording lost since %s%s",
                room,
                count,
                state.since.isoformat(),
                " (at close)" if closing else "",
            )
            self._publish_room_failure(room, path, state, now, lost=count)

    def _publish_room_failure(
        self, room: str, path: str, state: PlaceLosses, now: datetime, *, lost: int
    ) -> None:
        with self._lock:
            state.announced_at = now
            reason, error, since = state.reason, state.error, state.since
        self._bus.publish(
            MediaWriteFailed(
                at=now,
                room=room,
                media=SENSING_MEDIA,
                path=path,
                reason=reason,
                error=error,
                lost=lost,
                since=since,
            )
        )

    def _room_written(self, room: str) -> None:
        key = recording_source(None, room)
        with self._lock:
            state = self._failing.pop(key, None)
        if state is None:
            return
        log.warning(
            "sensing room %s: recording written again (%d records lost since %s)",
            room,
            state.lost,
            state.since.isoformat(),
        )
        self._bus.publish(
            MediaWriteRecovered(at=self._clock.now(), room=room, lost=state.lost, since=state.since)
        )

    # --- figures ---------------------------------------------------------------------------

    @property
    def total_lost(self) -> int:
        """Clips and snapshots lost since this watch was made."""
        with self._lock:
            return self._total

    def lost(self) -> list[LostMedia]:
        """The lost files, oldest first (the newest :data:`LOST_KEPT`)."""
        with self._lock:
            return list(self._lost)

    def rooms_lost(self) -> dict[str, tuple[int, int]]:
        """Each watched sensing room's records and blocks lost since this watch was made."""
        with self._lock:
            return {room: (lost[0], lost[1]) for room, lost in self._rooms_lost.items()}

    def failing(self) -> dict[str, PlaceLosses]:
        """The places whose recording is failing now, by source (``camera:<key>``,
        ``sensing:<room id>``; copies), oldest spell first."""
        with self._lock:
            return {
                key: PlaceLosses(
                    s.since,
                    s.reason,
                    s.lost,
                    set(s.media),
                    s.unit,
                    s.error,
                    s.announced_at,
                    list(s.pending),
                )
                for key, s in self._failing.items()
            }


class RoomRecordingWatch:
    """A sensing room's recorder's view of the :class:`MediaWriteWatch`: it says, on its
    ``sensing-recorder`` thread, when a write fails (:meth:`failed`: the data is kept to
    retry), when records are dropped (:meth:`lost`) and when a write works again
    (:meth:`written`). Satisfies :class:`engine.sensing.recording.recorder.RecordingWatch`."""

    def __init__(self, watch: MediaWriteWatch, room: str, path: str) -> None:
        self._watch = watch
        self.room = room
        self.path = path

    def failed(self, error: BaseException) -> None:
        """A write of the recording failed with ``error``; its data is kept to retry."""
        self._watch._room_failed(self.room, self.path, error)

    def lost(self, records: int, blocks: int, *, closing: bool = False) -> None:
        """``records`` in ``blocks`` were dropped, never to be written (``closing``: at the
        recorder's close, so the count is published now)."""
        self._watch._room_lost(self.room, self.path, records, blocks, closing=closing)

    def written(self) -> None:
        """A write of the recording succeeded (after failures: the room has recovered)."""
        self._watch._room_written(self.room)
