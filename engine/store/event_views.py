"""Events as lists show them, and the store writer's announcement of newly stored ones.

An :class:`EventView` is one stored row of the event history joined to its camera, its
person and the clip that covers it. The history's pages (:mod:`engine.history.events`) and
the store writer's :class:`EventsStored` announcement build it from the same columns, so a
row announced live is the row a refresh lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, FunctionElement, Row, Select, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler

from engine.events import Event as BusEvent
from engine.events import to_console
from engine.store.models import Camera, Event, Media
from engine.store.person_models import Person

CLIP_SLACK_S = 1.0  # an event this close to a clip's ends still opens that clip
CLIP_SPAN_BOUND_S = 120.0  # longer than any clip (the recorder caps one file at 30 s)


@dataclass(frozen=True, slots=True, order=True)
class EventCursor:
    """Where a page ends: the ``ts`` (UTC) and ``id`` of its last (oldest) row."""

    ts: datetime
    id: int


@dataclass(frozen=True, slots=True)
class EventView:
    """One stored event as a list shows it, with the clip that covers it (if any).

    ``id`` is the row's database id (always > 0). ``person`` is the person's name, else
    their public id, read from the persons table (so a rename or merge shows at once)."""

    id: int
    ts: datetime
    kind: str
    source: str
    camera: str | None
    detail: dict[str, Any]
    clip_path: str | None  # relative to the data dir
    clip_offset_s: float | None  # where in the clip the event happens, seconds
    person: str | None = None
    person_public_id: str | None = None
    track_id: int | None = None
    engine: str | None = None  # the engine that stored it, in a shared site

    @property
    def summary(self) -> str:
        detail = self.detail
        for key in ("detail", "name", "person_id"):
            if detail.get(key):
                return str(detail[key])
        if "track_id" in detail:
            return f"track {detail['track_id']}"
        return ", ".join(f"{k}={v}" for k, v in list(detail.items())[:3])

    @property
    def cursor(self) -> EventCursor:
        return EventCursor(self.ts, self.id)


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class EventsStored(BusEvent):
    """History events whose transaction has committed, in commit order, with their ids.

    Published by the :class:`~engine.store.writer.StoreWriter` on its ``store-writer``
    thread once per committed transaction that inserted events (never for a rolled-back
    one), after the rows are readable by any other session. Each view is read back after
    the commit, so it carries what the commit attached: the id, the person (name and public
    id) and the clip when one already covers the event. Handlers must not wait on the
    writer (it is the thread running them). Not history itself."""

    views: tuple[EventView, ...]


class shifted_time(FunctionElement[datetime]):  # noqa: N801 - a SQL function's name
    """``ts`` moved by ``seconds`` (a literal), in SQL, on SQLite and PostgreSQL alike."""

    type = DateTime()
    name = "shifted_time"
    inherit_cache = True


@compiles(shifted_time, "sqlite")
def _shifted_time_sqlite(element: shifted_time, compiler: SQLCompiler, **kw: Any) -> str:
    ts, seconds = (compiler.process(clause, **kw) for clause in element.clauses)
    # Text like the stored values (milliseconds; the clip slack is a second).
    return f"strftime('%Y-%m-%d %H:%M:%f', {ts}, ({seconds}) || ' seconds')"


@compiles(shifted_time)
def _shifted_time_default(element: shifted_time, compiler: SQLCompiler, **kw: Any) -> str:
    ts, seconds = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({ts} + ({seconds}) * INTERVAL '1 second')"


CLIP = aliased(Media, name="clip")
"""The clip joined to an event row by :func:`covering_clip_id`."""
_PROBE = aliased(Media, name="probe")


def covering_clip_id() -> Any:
    """Correlated to the statement's event: the id of the newest clip of its camera covering
    its time (± :data:`CLIP_SLACK_S`), found by one bounded range on ``ix_media_camera_span``."""
    return (
        select(_PROBE.id)
        .where(
            _PROBE.camera_id == Event.camera_id,
            _PROBE.started_at <= shifted_time(Event.ts, literal(CLIP_SLACK_S)),
            _PROBE.started_at
            >= shifted_time(Event.ts, literal(-(CLIP_SPAN_BOUND_S + CLIP_SLACK_S))),
            _PROBE.ended_at >= shifted_time(Event.ts, literal(-CLIP_SLACK_S)),
            _PROBE.kind == "clip",
        )
        .order_by(_PROBE.started_at.desc())
        .limit(1)
        .correlate(Event)
        .scalar_subquery()
    )


def event_view_select() -> Select[Any]:
    """Events joined to their camera, person and covering clip: the columns
    :func:`event_view_of_row` reads. Callers add the conditions, order and limit."""
    return (
        select(
            Event.id,
            Event.ts,
            Event.kind,
            Event.source,
            Event.camera_id,
            Event.track_id,
            Event.detail,
            Event.engine,
            Camera.key,
            Person.public_id,
            Person.name,
            CLIP.path.label("clip_path"),
            CLIP.started_at.label("clip_started_at"),
        )
        .outerjoin(Camera, Camera.id == Event.camera_id)
        .outerjoin(Person, Person.id == Event.person_id)
        .outerjoin(CLIP, CLIP.id == covering_clip_id())
    )


def event_view_of_row(row: Row[Any]) -> EventView:
    """A row of :func:`event_view_select` as the list shows it."""
    return EventView(
        id=row.id,
        ts=row.ts,
        kind=row.kind,
        source=row.source,
        camera=row.key or camera_of_source(row.source),
        detail=dict(row.detail or {}),
        clip_path=row.clip_path,
        clip_offset_s=(
            None
            if row.clip_started_at is None
            else max(0.0, (row.ts - row.clip_started_at).total_seconds())
        ),
        person=row.name or row.public_id,
        person_public_id=row.public_id,
        track_id=row.track_id,
        engine=row.engine,
    )


def read_event_views(connection: Connection, ids: Sequence[int]) -> tuple[EventView, ...]:
    """The events ``ids`` as lists show them, in the order of ``ids`` (one statement; ids
    not found are left out). Caller's thread and connection."""
    if not ids:
        return ()
    rows = connection.execute(event_view_select().where(Event.id.in_(list(ids)))).all()
    by_id = {row.id: event_view_of_row(row) for row in rows}
    return tuple(by_id[event_id] for event_id in ids if event_id in by_id)


def camera_of_source(source: str) -> str | None:
    """The camera key of a ``camera:<key>`` source, else None."""
    return source.removeprefix("camera:") if source.startswith("camera:") else None
