"""Evidence locks: a time range of chosen sources kept from retention until released.

While a lock is active, the clips and snapshots of its cameras that overlap its range are
marked ``media.locked`` (retention, disk-pressure relief and erasure never delete those), and
the events of its sources in the range are not purged by age. A lock without sources
covers the whole site, media with no camera included. Media recorded later inside an active
lock's range (a range still being recorded when it was locked) are stored locked by the
store's insert commands. What "covers" means is defined once, in SQL, in
:mod:`engine.store.evidence_locks`.

:class:`LockEvidence` and :class:`UnlockEvidence` are guarded, audited store commands (the
lock-evidence permission: investigators and admins); releasing a lock needs a reason (kept in
the audit trail) and unlocks its media unless another active lock still covers them. A
released lock stays as the record of who locked and who released it.
:class:`EvidenceLockListRequest` lists locks on a query-service worker; the commands are
applied on the store writer's thread (one transaction each, with their audit entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from engine.access import Actor, GuardedCommand, Permission
from engine.history.bookmarks import MAX_ROOM, camera_ids
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.evidence_locks import (
    lock_covers_media,
    media_covered_by_active_lock,
    recording_covered_by_active_lock,
)
from engine.store.history_models import Bookmark, EvidenceLock, EvidenceLockSource
from engine.store.models import Camera, Media

MAX_REASON: Final = 500  # characters (the column's size)
MAX_EXPORT_PATH: Final = 1000  # characters (the column's size)
MAX_LIST: Final = 1000  # locks in one list


def recording_is_locked(store: Store, room: str, first_wall_s: float, last_wall_s: float) -> bool:
    """Whether an active evidence lock covers ``room``'s sensing recording between these
    wall times (epoch seconds): the sensing recorder's ``keep`` (on its thread) and
    retention's check of kept segments. One short read."""
    first = datetime.fromtimestamp(first_wall_s, UTC)
    last = datetime.fromtimestamp(last_wall_s, UTC)
    with store.sessions() as session:
        return recording_covered_by_active_lock(session, room, first, last)


class LockError(ValueError):
    """A lock or release was refused; the message names the field and what was wrong."""


class UnknownLockError(LookupError):
    """No evidence lock has that id."""


@dataclass(frozen=True, slots=True)
class LockView:
    """One evidence lock as shown: its range ``started_at``–``ended_at`` (UTC), ``reason``,
    sources (``cameras`` as keys and ``rooms``; both empty: the whole site), the bookmark
    it was made from and the export folder it protects (if any), who locked it and when,
    who released it and when (None while active), and ``media_locked``: how many media
    rows it covers that are locked now (all it covers while it is active)."""

    id: int
    started_at: datetime
    ended_at: datetime
    reason: str
    cameras: tuple[str, ...]
    rooms: tuple[str, ...]
    bookmark_id: int | None
    export_path: str | None
    created_by: str
    created_at: datetime
    released_by: str | None
    released_at: datetime | None
    media_locked: int

    @property
    def active(self) -> bool:
        """Whether the lock still keeps its range (not released)."""
        return self.released_at is None

    @property
    def whole_site(self) -> bool:
        """Whether the lock covers every source (it names none)."""
        return not self.cameras and not self.rooms

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "reason": self.reason,
            "cameras": list(self.cameras),
            "rooms": list(self.rooms),
            "bookmark_id": self.bookmark_id,
            "export_path": self.export_path,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "released_by": self.released_by,
            "released_at": None if self.released_at is None else self.released_at.isoformat(),
            "media_locked": self.media_locked,
            "active": self.active,
        }


def _covered_by(lock_id: int) -> ColumnElement[bool]:
    """The ``media`` rows lock ``lock_id`` covers (correlated with Media)."""
    lock = aliased(EvidenceLock)
    return exists(
        select(lock.id)
        .where(lock.id == lock_id, lock_covers_media(lock, Media))
        .correlate_except(lock)
    )


def lock_view(session: Session, lock_id: int) -> LockView | None:
    """Lock ``lock_id`` as a view, or None if there is none."""
    row = session.get(EvidenceLock, lock_id)
    if row is None:
        return None
    sources = session.execute(
        select(Camera.key, EvidenceLockSource.room)
        .select_from(EvidenceLockSource)
        .outerjoin(Camera, Camera.id == EvidenceLockSource.camera_id)
        .where(EvidenceLockSource.lock_id == lock_id)
        .order_by(EvidenceLockSource.id)
    ).all()
    cameras = tuple(dict.fromkeys(str(key) for key, _ in sources if key is not None))
    rooms = tuple(dict.fromkeys(str(room) for _, room in sources if room is not None))
    locked = session.scalar(
        select(func.count()).select_from(Media).where(Media.locked, _covered_by(lock_id))
    )
    return LockView(
        id=int(row.id),
        started_at=row.started_at,
        ended_at=row.ended_at,
        reason=row.reason,
        cameras=cameras,
        rooms=rooms,
        bookmark_id=None if row.bookmark_id is None else int(row.bookmark_id),
        export_path=row.export_path,
        created_by=row.created_by,
        created_at=row.created_at,
        released_by=row.released_by,
        released_at=row.released_at,
        media_locked=int(locked or 0),
    )


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise LockError("reason: empty; say why (a case number, an incident)")
    if len(reason) > MAX_REASON:
        raise LockError(f"reason: {len(reason)} characters, at most {MAX_REASON}")
    return reason


def _keys(name: str, values: Sequence[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    keys = tuple(dict.fromkeys(v.strip() for v in values))
    if not keys:
        raise LockError(f"{name}: empty; name at least one, or leave it out for every source")
    if any(not key or len(key) > MAX_ROOM for key in keys):
        raise LockError(f"{name}: each must be a name of 1–{MAX_ROOM} characters")
    return keys


@dataclass(frozen=True, slots=True, kw_only=True)
class LockEvidence(GuardedCommand, StoreCommand):
    """``actor`` locks ``start``–``end`` (UTC) of ``cameras`` (keys) and ``rooms`` — or
    the range and source of bookmark ``bookmark_id`` — because of ``reason`` (required).
    As in an export, leaving out both ``cameras`` and ``rooms`` locks the whole site;
    naming only rooms locks no camera's media. ``export_path``: the exported folder this
    lock protects. Marks every media row the lock covers ``locked``. Needs the
    lock-evidence permission; audited as ``evidence.lock``. :class:`LockError` names the
    field that was wrong. Returns the :class:`LockView` (``media_locked``: rows it covers)."""

    permission: ClassVar[Permission] = Permission.LOCK_EVIDENCE
    action: ClassVar[str] = "evidence.lock"

    reason: str
    start: datetime | None = None
    end: datetime | None = None
    cameras: tuple[str, ...] | None = None
    rooms: tuple[str, ...] | None = None
    bookmark_id: int | None = None
    export_path: str | None = None
    at: datetime
    actor: Actor

    def apply(self, session: Session) -> LockView:
        reason = _reason(self.reason)
        if self.export_path is not None and not 1 <= len(self.export_path) <= MAX_EXPORT_PATH:
            raise LockError(f"export_path: give a path of 1–{MAX_EXPORT_PATH} characters")
        cameras = _keys("cameras", self.cameras)
        rooms = _keys("rooms", self.rooms)
        if self.bookmark_id is not None:
            if self.start is not None or self.end is not None or cameras or rooms:
                raise LockError(
                    "bookmark: give a bookmark or a range with its sources, not both "
                    "(the lock takes the bookmark's range and source)"
                )
            bookmark = session.get(Bookmark, self.bookmark_id)
            if bookmark is None:
                raise LockError(f"bookmark: no bookmark {self.bookmark_id}")
            start, end = bookmark.started_at, bookmark.ended_at
            ids = [] if bookmark.camera_id is None else [int(bookmark.camera_id)]
            room_names = [] if bookmark.room is None else [bookmark.room]
        else:
            if self.start is None or self.end is None:
                raise LockError("start/end: give the range's start and end, or a bookmark")
            if self.start.tzinfo is None or self.end.tzinfo is None:
                raise LockError("start/end: give times with their zone (UTC)")
            if self.end <= self.start:
                raise LockError(
                    f"end: the range ends ({self.end.isoformat()}) before it starts "
                    f"({self.start.isoformat()})"
                )
            start, end = self.start, self.end
            ids = camera_ids(session, cameras, "cameras", LockError) if cameras else []
            room_names = list(rooms or ())
        row = EvidenceLock(
            started_at=start,
            ended_at=end,
            reason=reason,
            bookmark_id=self.bookmark_id,
            export_path=self.export_path,
            created_by=self.actor.label,
            created_at=self.at,
        )
        session.add(row)
        session.flush()
        lock_id = int(row.id)
        session.add_all(
            [EvidenceLockSource(lock_id=lock_id, camera_id=camera_id) for camera_id in ids]
            + [EvidenceLockSource(lock_id=lock_id, room=room) for room in room_names]
        )
        session.flush()
        session.execute(
            update(Media)
            .where(_covered_by(lock_id))
            .values(locked=True)
            .execution_options(synchronize_session=False)
        )
        view = lock_view(session, lock_id)
        assert view is not None
        audit_command(
            session,
            self,
            {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "cameras": list(view.cameras),
                "rooms": list(view.rooms),
                "reason": reason,
                "bookmark_id": self.bookmark_id,
                "export_path": self.export_path,
                "media_locked": view.media_locked,
            },
            target=f"evidence_lock:{lock_id}",
        )
        return view


@dataclass(frozen=True, slots=True, kw_only=True)
class UnlockEvidence(GuardedCommand, StoreCommand):
    """``actor`` releases evidence lock ``lock_id`` because of ``reason`` (required; kept
    in the audit trail). Its media are unlocked unless another active lock still covers
    them. Needs the lock-evidence permission; audited as ``evidence.unlock``.
    :class:`UnknownLockError` for an unknown id, :class:`LockError` for a lock released
    already or a missing reason. Returns the released :class:`LockView` (``media_locked``:
    its media that other locks keep locked)."""

    permission: ClassVar[Permission] = Permission.LOCK_EVIDENCE
    action: ClassVar[str] = "evidence.unlock"

    lock_id: int
    reason: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"evidence_lock:{self.lock_id}"

    def apply(self, session: Session) -> LockView:
        reason = _reason(self.reason)
        row = session.get(EvidenceLock, self.lock_id)
        if row is None:
            raise UnknownLockError(f"no evidence lock {self.lock_id}")
        if row.released_at is not None:
            raise LockError(
                f"evidence lock {self.lock_id} was released already, by {row.released_by} at "
                f"{row.released_at.isoformat()}"
            )
        row.released_by = self.actor.label
        row.released_at = self.at
        session.flush()
        result = session.execute(
            update(Media)
            .where(
                Media.locked,
                _covered_by(self.lock_id),
                ~media_covered_by_active_lock(Media, except_lock_id=self.lock_id),
            )
            .values(locked=False)
            .execution_options(synchronize_session=False)
        )
        unlocked = int(result.rowcount or 0)  # type: ignore[attr-defined]
        view = lock_view(session, self.lock_id)
        assert view is not None
        audit_command(
            session,
            self,
            {"reason": reason, "media_unlocked": unlocked, "still_locked": view.media_locked},
        )
        return view


@dataclass(frozen=True, slots=True)
class EvidenceLockListRequest:
    """Evidence locks, newest first: only active ones with ``active_only``, at most
    ``limit`` (1–1000). Run on a query-service worker (opens its own session)."""

    active_only: bool = True
    limit: int = 200

    def run(self, store: Store) -> tuple[LockView, ...]:
        if not 1 <= self.limit <= MAX_LIST:
            raise ValueError(f"limit must be 1-{MAX_LIST}, got {self.limit}")
        query = select(EvidenceLock.id)
        if self.active_only:
            query = query.where(EvidenceLock.released_at.is_(None))
        query = query.order_by(EvidenceLock.created_at.desc(), EvidenceLock.id.desc())
        with store.sessions() as session:
            ids = session.scalars(query.limit(self.limit)).all()
            views = (lock_view(session, int(lock_id)) for lock_id in ids)
            return tuple(view for view in views if view is not None)
