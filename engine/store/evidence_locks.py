"""What an evidence lock covers, as SQL: the one definition retention, the media insert
path and the lock commands of :mod:`engine.history.locks` share.

A lock (:class:`~engine.store.history_models.EvidenceLock`) covers

- a *media row* (clip, snapshot, CSI recording) when the row's span overlaps the lock's
  range (both ends inclusive) and the row's camera is one of the lock's camera sources, or
  the lock has no sources at all (the whole site, which also covers media with no camera).
  A row's span is ``started_at``–``ended_at`` for footage that says what it covers, else
  the single instant ``created_at`` (snapshots, and clips without a recorded span);
- an *event* when its ``ts`` lies in the lock's range and it came from one of the lock's
  sources (a camera source by ``events.camera_id`` or by ``source = 'camera:KEY'``, a room
  source by ``source = 'sensing:ROOM'``), or the lock has no sources.

- a *room's sensing recording* (segments of :mod:`engine.sensing.recording.recorder`, files with no
  row) when the segment's recorded span overlaps the lock's range and the room is one of
  the lock's room sources, or the lock has no sources. Rooms are compared by their
  recording directory's name (:func:`~engine.data_dirs.path_safe_name`), since a kept segment
  knows its room only by its directory.

Only *active* locks (``released_at IS NULL``) keep anything. The functions here build
SQLAlchemy expressions and run no query themselves, except :func:`new_media_is_locked`,
which the store writer's insert commands call in their transaction, and
:func:`recording_covered_by_active_lock`, which the sensing recorder and retention call.
Everything is plain SQL that runs the same on SQLite and PostgreSQL. The subqueries
correlate explicitly (``correlate_except``): the media or event row they test lies two
levels out, beyond the reach of SQLAlchemy's automatic correlation. Pure functions; any
thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from engine.data_dirs import path_safe_name
from engine.store.history_models import EvidenceLock, EvidenceLockSource
from engine.store.models import Camera, Event, Media, UTCDateTime

__all__ = [
    "event_covered_by_active_lock",
    "lock_covers_event",
    "lock_covers_media",
    "media_covered_by_active_lock",
    "new_media_is_locked",
    "recording_covered_by_active_lock",
]


def _lock_has_no_sources(lock: Any) -> ColumnElement[bool]:
    source = aliased(EvidenceLockSource)
    return ~exists(select(source.id).where(source.lock_id == lock.id).correlate_except(source))


def _covers_span(lock: Any, camera_id: Any, span_start: Any, span_end: Any) -> ColumnElement[bool]:
    """``lock`` (EvidenceLock or an alias of it) covers footage of camera ``camera_id``
    (a column or bound value; NULL: no camera) spanning ``span_start``–``span_end``."""
    source = aliased(EvidenceLockSource)
    camera_source = exists(
        select(source.id)
        .where(source.lock_id == lock.id, source.camera_id == camera_id)
        .correlate_except(source)
    )
    return and_(
        span_start <= lock.ended_at,
        span_end >= lock.started_at,
        or_(_lock_has_no_sources(lock), camera_source),
    )


def _media_span(media: Any) -> tuple[ColumnElement[datetime], ColumnElement[datetime]]:
    start = func.coalesce(media.started_at, media.created_at, type_=UTCDateTime())
    end = func.coalesce(media.ended_at, media.started_at, media.created_at, type_=UTCDateTime())
    return start, end


def lock_covers_media(lock: Any, media: Any = Media) -> ColumnElement[bool]:
    """True where ``lock`` (EvidenceLock or an alias) covers the ``media`` row (Media or an
    alias), whether or not the lock is active. Correlates with both in the enclosing
    query, e.g. ``update(Media).where(lock_covers_media(EvidenceLock))`` with the lock
    picked by ``EvidenceLock.id == …`` inside an EXISTS."""
    start, end = _media_span(media)
    return _covers_span(lock, media.camera_id, start, end)


def media_covered_by_active_lock(
    media: Any = Media, *, except_lock_id: int | None = None
) -> ColumnElement[bool]:
    """EXISTS an active lock (other than ``except_lock_id``) covering the ``media`` row of
    the enclosing query (Media or an alias)."""
    lock = aliased(EvidenceLock)
    where = [lock.released_at.is_(None), lock_covers_media(lock, media)]
    if except_lock_id is not None:
        where.append(lock.id != except_lock_id)
    return exists(select(lock.id).where(*where).correlate_except(lock))


def lock_covers_event(lock: Any, event: Any = Event) -> ColumnElement[bool]:
    """True where ``lock`` (EvidenceLock or an alias) covers the ``event`` row (Event or an
    alias): its time in the range, its source among the lock's sources (or no sources)."""
    source = aliased(EvidenceLockSource)
    camera = aliased(Camera)
    from_source = exists(
        select(source.id)
        .select_from(source)
        .outerjoin(camera, camera.id == source.camera_id)
        .where(
            source.lock_id == lock.id,
            or_(
                and_(
                    source.camera_id.is_not(None),
                    or_(
                        event.camera_id == source.camera_id,
                        event.source == literal("camera:") + camera.key,
                    ),
                ),
                and_(source.room.is_not(None), event.source == literal("sensing:") + source.room),
            ),
        )
        .correlate_except(source, camera)
    )
    return and_(
        event.ts >= lock.started_at,
        event.ts <= lock.ended_at,
        or_(_lock_has_no_sources(lock), from_source),
    )


def event_covered_by_active_lock(event: Any = Event) -> ColumnElement[bool]:
    """EXISTS an active lock covering the ``event`` row of the enclosing query (Event or an
    alias); retention keeps such events."""
    lock = aliased(EvidenceLock)
    return exists(
        select(lock.id)
        .where(lock.released_at.is_(None), lock_covers_event(lock, event))
        .correlate_except(lock)
    )


def new_media_is_locked(
    session: Session,
    *,
    camera_id: int | None,
    created_at: datetime,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> bool:
    """Whether a media row about to be inserted with these values (UTC) falls under an
    active lock, so it is stored locked: a lock placed on a range that is still being
    recorded keeps what is recorded later. One indexed query in ``session`` (the store
    writer's transaction)."""
    span_start = started_at if started_at is not None else created_at
    span_end = ended_at if ended_at is not None else span_start
    lock = aliased(EvidenceLock)
    covered = exists(
        select(lock.id).where(
            lock.released_at.is_(None),
            _covers_span(
                lock,
                literal(camera_id, Integer()),  # NULL matches no camera source
                literal(span_start, UTCDateTime()),
                literal(span_end, UTCDateTime()),
            ),
        )
    )
    return bool(session.scalar(select(covered)))


def recording_covered_by_active_lock(
    session: Session, room: str, first: datetime, last: datetime
) -> bool:
    """Whether an active lock covers room ``room``'s sensing recording between ``first``
    and ``last`` (UTC, both inclusive): a lock of the whole site, or one naming the room,
    whose range overlaps that span. ``room`` is the room's id or its recording directory's
    name (compared reduced, see the module docstring). One query in ``session`` over the
    active locks that overlap the span (few), matched here."""
    source = aliased(EvidenceLockSource)
    rows = session.execute(
        select(EvidenceLock.id, source.room, source.camera_id)
        .outerjoin(source, source.lock_id == EvidenceLock.id)
        .where(
            EvidenceLock.released_at.is_(None),
            EvidenceLock.started_at <= last,
            EvidenceLock.ended_at >= first,
        )
    ).all()
    wanted = path_safe_name(room)
    for _lock_id, locked_room, camera_id in rows:
        if locked_room is None and camera_id is None:
            return True  # a lock without sources: the whole site
        if locked_room is not None and path_safe_name(locked_room) == wanted:
            return True
    return False
