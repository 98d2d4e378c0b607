"""Bookmarks: moments an investigator marks on the timeline, with a title, a note and the
range around the moment that matters.

A bookmark is on one camera, one sensing room or the whole site. Its range is the moment
padded by ``pre_s`` seconds before and ``post_s`` after (each 0–3600 s). Adding and removing
bookmarks are guarded, audited store commands (:class:`AddBookmark`,
:class:`RemoveBookmark`); only a bookmark's author or an admin may remove it. Listing and
searching is a frozen query request (:class:`BookmarkListRequest`) that the query service
runs on a worker thread; the commands are applied on the store writer's thread, and their
errors reach the caller through the writer's future. An evidence lock can take its range and
source from a bookmark (see :mod:`engine.history.locks`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission, Role
from engine.inbound import implausible_time
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.history_models import Bookmark, EvidenceLock
from engine.store.models import Camera

DEFAULT_PRE_S: Final = 10.0  # seconds of the timeline kept before the marked moment
DEFAULT_POST_S: Final = 20.0  # and after it
MAX_PADDING_S: Final = 3600.0  # an hour either side at most
MAX_TITLE: Final = 200  # characters (the column's size)
MAX_NOTE: Final = 10_000  # characters
MAX_ROOM: Final = 64  # characters (the column's size)
MAX_LIST: Final = 1000  # bookmarks in one list


class BookmarkError(ValueError):
    """A bookmark was refused; the message names the field and what was wrong."""


class UnknownBookmarkError(LookupError):
    """No bookmark has that id."""


class BookmarkOwnerError(PermissionError):
    """Someone other than a bookmark's author (and not an admin) tried to remove it."""


@dataclass(frozen=True, slots=True)
class BookmarkView:
    """One bookmark as shown: its ``id``, ``title`` and ``note``, the moment ``marked_at``
    and the range ``started_at``–``ended_at`` (UTC) it pads by ``pre_s`` and ``post_s``
    seconds, its ``camera`` (a key) or ``room`` (None for both: the whole site), its
    ``author`` (an actor label, ``account:ian``) and when it was made."""

    id: int
    title: str
    note: str
    marked_at: datetime
    pre_s: float
    post_s: float
    started_at: datetime
    ended_at: datetime
    camera: str | None
    room: str | None
    author: str
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "note": self.note,
            "marked_at": self.marked_at.isoformat(),
            "pre_s": self.pre_s,
            "post_s": self.post_s,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "camera": self.camera,
            "room": self.room,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
        }


def _views(session: Session, query: Select[Bookmark, str]) -> list[BookmarkView]:
    return [
        BookmarkView(
            id=int(b.id),
            title=b.title,
            note=b.note,
            marked_at=b.marked_at,
            pre_s=float(b.pre_s),
            post_s=float(b.post_s),
            started_at=b.started_at,
            ended_at=b.ended_at,
            camera=key,
            room=b.room,
            author=b.author,
            created_at=b.created_at,
        )
        for b, key in session.execute(query).all()
    ]


def _with_camera() -> Select[Bookmark, str]:
    return select(Bookmark, Camera.key).outerjoin(Camera, Camera.id == Bookmark.camera_id)


def bookmark_view(session: Session, bookmark_id: int) -> BookmarkView | None:
    """The bookmark ``bookmark_id`` as a view, or None if there is none."""
    found = _views(session, _with_camera().where(Bookmark.id == bookmark_id))
    return found[0] if found else None


def camera_ids(
    session: Session,
    keys: tuple[str, ...],
    field: str,
    error: type[ValueError] = BookmarkError,
) -> list[int]:
    """The ids of the cameras with these keys (a key may name one camera per site), or
    ``error`` saying ``"<field>: no camera 'x' (known: a, b)"``."""
    rows = session.execute(select(Camera.id, Camera.key).where(Camera.key.in_(keys))).all()
    found = {str(key) for _, key in rows}
    missing = [key for key in keys if key not in found]
    if missing:
        known = session.scalars(select(Camera.key).distinct().order_by(Camera.key)).all()
        raise error(f"{field}: no camera {missing[0]!r} (known: {', '.join(known) or 'none'})")
    return sorted({int(camera_id) for camera_id, _ in rows})


def check_padding(name: str, value: float) -> float:
    """``value`` (seconds) if it is a number from 0 to 3600, else :class:`BookmarkError`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_PADDING_S
    ):
        raise BookmarkError(
            f"{name}: {value!r} seconds must be 0–{MAX_PADDING_S:.0f} (a number of seconds)"
        )
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddBookmark(GuardedCommand, StoreCommand):
    """``actor`` marks ``marked_at`` (UTC) with ``title`` and ``note`` on ``camera`` (a
    key) or ``room`` (neither: the whole site), keeping ``pre_s`` seconds before and
    ``post_s`` after (0–3600 each). The author is the actor's label. Needs the bookmark
    permission; audited as ``bookmark.add``. :class:`BookmarkError` names the field that
    was wrong. Returns the :class:`BookmarkView`."""

    permission: ClassVar[Permission] = Permission.BOOKMARK
    action: ClassVar[str] = "bookmark.add"

    title: str
    marked_at: datetime
    note: str = ""
    pre_s: float = DEFAULT_PRE_S
    post_s: float = DEFAULT_POST_S
    camera: str | None = None
    room: str | None = None
    at: datetime
    actor: Actor

    def apply(self, session: Session) -> BookmarkView:
        title = self.title.strip()
        if not title:
            raise BookmarkError("title: empty; give the bookmark a title")
        if len(title) > MAX_TITLE:
            raise BookmarkError(f"title: {len(title)} characters, at most {MAX_TITLE}")
        if len(self.note) > MAX_NOTE:
            raise BookmarkError(f"note: {len(self.note)} characters, at most {MAX_NOTE}")
        if self.marked_at.tzinfo is None:
            raise BookmarkError("marked_at: give a time with its zone (UTC)")
        if (why := implausible_time(self.marked_at, self.at)) is not None:
            raise BookmarkError(f"marked_at: {why}")  # and its padded range fits a datetime
        pre_s = check_padding("pre_s", self.pre_s)
        post_s = check_padding("post_s", self.post_s)
        if self.camera is not None and self.room is not None:
            raise BookmarkError("camera/room: give a camera or a room (or neither), not both")
        camera_id = None
        if self.camera is not None:
            camera_id = camera_ids(session, (self.camera,), "camera")[0]
        room = None
        if self.room is not None:
            room = self.room.strip()
            if not room or len(room) > MAX_ROOM:
                raise BookmarkError(f"room: give a room name of 1–{MAX_ROOM} characters")
        row = Bookmark(
            title=title,
            note=self.note,
            marked_at=self.marked_at,
            pre_s=pre_s,
            post_s=post_s,
            started_at=self.marked_at - timedelta(seconds=pre_s),
            ended_at=self.marked_at + timedelta(seconds=post_s),
            camera_id=camera_id,
            room=room,
            author=self.actor.label,
            created_at=self.at,
        )
        session.add(row)
        session.flush()
        audit_command(
            session,
            self,
            {
                "title": title,
                "marked_at": self.marked_at.isoformat(),
                "pre_s": pre_s,
                "post_s": post_s,
                "camera": self.camera,
                "room": room,
            },
            target=f"bookmark:{row.id}",
        )
        view = bookmark_view(session, int(row.id))
        assert view is not None
        return view


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveBookmark(GuardedCommand, StoreCommand):
    """``actor`` removes bookmark ``bookmark_id``: only its author or an admin may
    (:class:`BookmarkOwnerError` otherwise). Evidence locks made from it keep their range
    and sources. Needs the bookmark permission; audited as ``bookmark.remove``.
    :class:`UnknownBookmarkError` for an unknown id. Returns the removed bookmark."""

    permission: ClassVar[Permission] = Permission.BOOKMARK
    action: ClassVar[str] = "bookmark.remove"

    bookmark_id: int
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"bookmark:{self.bookmark_id}"

    def apply(self, session: Session) -> BookmarkView:
        view = bookmark_view(session, self.bookmark_id)
        if view is None:
            raise UnknownBookmarkError(f"no bookmark {self.bookmark_id}")
        if view.author != self.actor.label and Role.ADMIN not in self.actor.roles:
            raise BookmarkOwnerError(
                f"bookmark {self.bookmark_id} is {view.author}'s: only its author or an "
                f"admin may remove it"
            )
        session.execute(
            update(EvidenceLock)
            .where(EvidenceLock.bookmark_id == self.bookmark_id)
            .values(bookmark_id=None)
            .execution_options(synchronize_session=False)
        )
        row = session.get(Bookmark, self.bookmark_id)
        assert row is not None
        session.delete(row)
        audit_command(session, self, {"title": view.title, "author": view.author})
        session.flush()
        return view


def like_pattern(text: str) -> str:
    """``text`` lower-cased as a LIKE pattern that matches it anywhere, its ``%``, ``_``
    and ``\\`` taken literally (use with ``escape="\\\\"``)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class BookmarkListRequest:
    """Bookmarks whose range overlaps ``start``–``end`` (UTC; None: open-ended), newest
    moment first, at most ``limit`` (1–1000). ``text``: only those whose title or note
    contains it, case-insensitively (ASCII case on SQLite), ``%`` and ``_`` taken
    literally. Run on a query-service worker (opens its own session)."""

    start: datetime | None = None
    end: datetime | None = None
    text: str | None = None
    limit: int = 200

    def run(self, store: Store) -> tuple[BookmarkView, ...]:
        if not 1 <= self.limit <= MAX_LIST:
            raise ValueError(f"limit must be 1-{MAX_LIST}, got {self.limit}")
        query = _with_camera()
        if self.start is not None:
            query = query.where(Bookmark.ended_at >= self.start)
        if self.end is not None:
            query = query.where(Bookmark.started_at <= self.end)
        needle = (self.text or "").strip()
        if needle:
            pattern = like_pattern(needle)
            query = query.where(
                or_(
                    func.lower(Bookmark.title).like(pattern, escape="\\"),
                    func.lower(Bookmark.note).like(pattern, escape="\\"),
                )
            )
        query = query.order_by(Bookmark.marked_at.desc(), Bookmark.id.desc()).limit(self.limit)
        with store.sessions() as session:
            return tuple(_views(session, query))
