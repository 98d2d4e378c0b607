"""Reading the event history for lists and timelines: newest first, filtered, paged by keyset.

A page is ordered by ``(ts desc, id desc)`` and continues after a cursor, the ``(ts, id)`` of
the previous page's last row, so pages never overlap or skip rows even when many events
share a timestamp. A page with its cameras, persons and covering clips costs a constant
number of statements: at most two, the lookup of the camera and persons a filter names, and
the page joined to its cameras, persons and covering clips (each clip found by one probe of
``ix_media_camera_span`` per row, inside the same statement).

Every function here runs on the caller's thread with its own session; the console runs the
requests on the query service's pool (:mod:`engine.history.query_service`), never on the GUI
thread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from engine.store.database import Store
from engine.store.event_views import CLIP, covering_clip_id, event_view_of_row, event_view_select
from engine.store.event_views import CLIP_SLACK_S as CLIP_SLACK_S
from engine.store.event_views import CLIP_SPAN_BOUND_S as CLIP_SPAN_BOUND_S
from engine.store.event_views import EventCursor as EventCursor
from engine.store.event_views import EventsStored as EventsStored
from engine.store.event_views import EventView as EventView
from engine.store.event_views import shifted_time as shifted_time
from engine.store.models import Camera, Event, Media
from engine.store.person_models import Person

PAGE_SIZE = 500  # rows per page: enough for a shift, quick to draw
MAX_PAGE_SIZE = 5000


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to list. ``person`` names people by public id (``Person_…``) or name,
    case-insensitively: an exact match if there is one, else every person whose id or name
    contains the text. ``before`` (UTC) keeps events strictly older, ``after`` those at or
    after it; ``source`` one place (``camera:KEY``, ``sensing:ROOM``); ``hidden`` leaves
    kinds out (the Events pane's summary). ``limit`` is the row count for
    :func:`query_events` (pages carry their own)."""

    camera: str | None = None  # camera key as in the site file
    kind: str | None = None
    person: str | None = None
    before: datetime | None = None
    limit: int = PAGE_SIZE
    after: datetime | None = None
    source: str | None = None
    hidden: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class EventPage:
    """Rows newest first; ``next_cursor`` continues after the last row, None at the end."""

    rows: tuple[EventView, ...]
    next_cursor: EventCursor | None


@dataclass(frozen=True, slots=True)
class EventPageRequest:
    """One page of events matching ``filter``, after ``cursor`` (None: the newest)."""

    filter: EventFilter = field(default_factory=EventFilter)
    cursor: EventCursor | None = None
    limit: int = PAGE_SIZE

    def run(self, store: Store) -> EventPage:
        """Read the page (caller's thread, its own session; at most three statements)."""
        return query_event_page(store, self.filter, self.cursor, self.limit)


@dataclass(frozen=True, slots=True)
class EventKindsRequest:
    """Every event kind in the history, sorted, for filter menus."""

    def run(self, store: Store) -> list[str]:
        return event_kinds(store)


@dataclass(frozen=True, slots=True)
class ClipProbe:
    """An event whose clip is sought: its list key, camera key and time (UTC)."""

    key: Any
    camera: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class CoveringClipsRequest:
    """The clips covering ``probes`` (one statement), for rows listed before their clip was
    finalised. Result maps each covered probe's ``key`` to ``(clip path, offset seconds)``."""

    probes: tuple[ClipProbe, ...]

    def run(self, store: Store) -> dict[Any, tuple[str, float]]:
        if not self.probes:
            return {}
        spans = [(probe.key, probe.camera, probe.ts) for probe in self.probes]
        with store.sessions() as session:
            return _covering_clips(session, spans, by_key=True)


def query_event_page(
    store: Store, flt: EventFilter, cursor: EventCursor | None = None, limit: int = PAGE_SIZE
) -> EventPage:
    """Events matching ``flt`` after ``cursor``, newest first, each with its covering clip.

    ``limit`` rows at most (1…:data:`MAX_PAGE_SIZE`). Caller's thread, own session.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    # A Core connection, not an ORM session: plain rows cost the worker (and the GIL the
    # GUI thread needs) less Python per row.
    with store.engine.connect() as connection:
        camera_ids, person_ids = _resolve_filter_ids(connection, flt)
        if camera_ids == [] or person_ids == []:
            return EventPage((), None)  # names a camera or person the store does not know
        stmt = page_statement(flt, cursor, limit + 1, person_ids, camera_ids)
        rows = connection.execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    views = tuple(event_view_of_row(row) for row in rows)
    return EventPage(views, views[-1].cursor if more and views else None)


def page_statement(
    flt: EventFilter,
    cursor: EventCursor | None,
    limit: int,
    person_ids: Sequence[int] | None = None,
    camera_ids: Sequence[int] | None = None,
) -> Select[Any]:
    """The one statement that reads a page: events matching ``flt`` (person and camera
    given as resolved ``person_ids`` and ``camera_ids``) after ``cursor``, joined to their
    camera and person, ordered ``(ts desc, id desc)``, ``limit`` rows. Every filter is served
    by an index that ends in ``(ts, id)``, so the database walks it backwards and stops after
    ``limit`` rows.
    """
    conditions: list[ColumnElement[bool]] = []
    # One id is an equality, so the (id, ts, id) index gives the order without a sort.
    if person_ids is not None:
        conditions.append(
            Event.person_id == person_ids[0]
            if len(person_ids) == 1
            else Event.person_id.in_(person_ids)
        )
    if camera_ids is not None:
        conditions.append(
            Event.camera_id == camera_ids[0]
            if len(camera_ids) == 1
            else Event.camera_id.in_(camera_ids)
        )
    elif flt.camera:
        conditions.append(Event.camera_id.in_(select(Camera.id).where(Camera.key == flt.camera)))
    if flt.kind:
        conditions.append(Event.kind == flt.kind)
    if flt.before:
        conditions.append(Event.ts < flt.before)
    if flt.after:
        conditions.append(Event.ts >= flt.after)
    if flt.source:
        conditions.append(Event.source == flt.source)
    if flt.hidden and not flt.kind:
        conditions.append(Event.kind.not_in(sorted(flt.hidden)))
    if cursor is not None:
        # ``ts <= :ts`` is a plain index range on both SQLite and PostgreSQL; the tie-break
        # on id is a filter over the few rows sharing the cursor's ts. (A row value
        # ``(ts, id) < (:ts, :id)`` becomes an index condition on PostgreSQL only.)
        conditions.append(Event.ts <= cursor.ts)
        conditions.append(or_(Event.ts < cursor.ts, Event.id < cursor.id))
    return (
        event_view_select()
        .where(*conditions)
        .order_by(Event.ts.desc(), Event.id.desc())
        .limit(limit)
    )


# Older names, used by the timeline and the chat's tools.
_CLIP = CLIP
_covering_clip_id = covering_clip_id


def query_events(store: Store, flt: EventFilter) -> list[EventView]:
    """The newest ``flt.limit`` events matching ``flt`` (one page; see
    :func:`query_event_page`). Caller's thread."""
    return list(query_event_page(store, flt, None, flt.limit).rows)


def event_kinds(store: Store) -> list[str]:
    """Every event kind in the history, sorted, for filter menus. Caller's thread.

    A loose index scan over ``ix_events_kind_ts_id`` (one probe per kind), so it stays
    quick with millions of events on both backends."""
    with store.sessions() as session:
        kinds = session.execute(
            text(
                "WITH RECURSIVE k(kind) AS ("
                " SELECT min(kind) FROM events"
                " UNION ALL"
                " SELECT (SELECT min(e.kind) FROM events e WHERE e.kind > k.kind)"
                " FROM k WHERE k.kind IS NOT NULL)"
                " SELECT kind FROM k WHERE kind IS NOT NULL"
            )
        ).scalars()
        return [str(kind) for kind in kinds]


def _resolve_filter_ids(
    session: Session | Connection, flt: EventFilter
) -> tuple[list[int] | None, list[int] | None]:
    """The database ids ``flt`` names, as ``(camera ids, person ids)``; None for a filter
    that is not set, ``[]`` for one that names nobody. At most one statement.

    A camera is named by its key (one per site). A person is named by public id or name,
    case-insensitively: those equal to the text, else those containing it.
    """
    parts: list[Any] = []  # Select[str, int, bool] each
    if flt.camera:
        parts.append(
            select(
                literal("camera").label("what"), Camera.id.label("id"), true().label("exact")
            ).where(Camera.key == flt.camera)
        )
    needle = (flt.person or "").strip().lower()
    if needle:
        public_id, name = func.lower(Person.public_id), func.lower(Person.name)
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        parts.append(
            select(
                literal("person").label("what"),
                Person.id.label("id"),
                or_(public_id == needle, name == needle).label("exact"),
            ).where(or_(public_id.like(pattern, escape="\\"), name.like(pattern, escape="\\")))
        )
    if not parts:
        return None, None
    stmt: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    found: dict[str, list[tuple[int, bool]]] = {"camera": [], "person": []}
    for what, row_id, exact in session.execute(stmt).all():
        found[str(what)].append((int(row_id), bool(exact)))
    cameras = [row_id for row_id, _ in found["camera"]] if flt.camera else None
    persons = None
    if needle:
        exact_ids = [row_id for row_id, exact in found["person"] if exact]
        persons = exact_ids or [row_id for row_id, _ in found["person"]]
    return cameras, persons


def _covering_clips(
    session: Session,
    spans: Sequence[tuple[Any, Any, datetime]],
    *,
    by_key: bool,
) -> dict[Any, tuple[str, float]]:
    """For each ``(key, camera, ts)`` (camera: its key if ``by_key``, else its database
    id) the newest clip of that camera
    covering ``ts`` (± :data:`CLIP_SLACK_S`), as ``key -> (path, offset seconds)``.

    One statement: the events' times are merged per camera into a few windows, the clips
    overlapping any window are read (each window a bounded range on
    ``ix_media_camera_span``), and events are matched to clips here.
    """
    slack = timedelta(seconds=CLIP_SLACK_S)
    bound = timedelta(seconds=CLIP_SPAN_BOUND_S)
    by_camera: dict[Any, list[datetime]] = defaultdict(list)
    for _key, camera, ts in spans:
        by_camera[camera].append(ts)
    camera_column: Any = Camera.key if by_key else Media.camera_id
    windows: list[ColumnElement[bool]] = []
    for camera, times in by_camera.items():
        for low, high in _merge_windows(sorted(times), bound):
            windows.append(
                and_(
                    camera_column == camera,
                    Media.started_at >= low - bound - slack,
                    Media.started_at <= high + slack,
                    Media.ended_at >= low - slack,
                )
            )
    if not windows:
        return {}
    stmt = select(camera_column, Media.path, Media.started_at, Media.ended_at).where(
        Media.kind == "clip",
        Media.started_at.is_not(None),
        Media.ended_at.is_not(None),
        or_(false(), *windows),
    )
    if by_key:
        stmt = stmt.join(Camera, Camera.id == Media.camera_id)
    clips: dict[Any, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for camera, path, started_at, ended_at in session.execute(stmt).all():
        clips[camera].append((started_at, ended_at, path))
    for found in clips.values():
        found.sort(reverse=True)  # newest start first, as the list prefers it
    covered: dict[Any, tuple[str, float]] = {}
    for key, camera, ts in spans:
        for started_at, ended_at, path in clips.get(camera, ()):
            if started_at <= ts + slack and ended_at >= ts - slack:
                covered[key] = (path, max(0.0, (ts - started_at).total_seconds()))
                break
    return covered


def _merge_windows(times: Iterable[datetime], gap: timedelta) -> list[tuple[datetime, datetime]]:
    """Sorted times grouped into ``(first, last)`` windows; a new window starts after a gap
    longer than ``gap``."""
    windows: list[tuple[datetime, datetime]] = []
    for ts in times:
        if windows and ts - windows[-1][1] <= gap:
            windows[-1] = (windows[-1][0], ts)
        else:
            windows.append((ts, ts))
    return windows
