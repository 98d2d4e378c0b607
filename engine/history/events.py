"""Reading the event history for lists and timelines (newest first, filtered).

Runs on the caller's thread with its own session; the console calls it from a worker, never
on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from engine.events import Event as StoreEvent
from engine.store.database import Store
from engine.store.models import Camera, Event, Media

CLIP_SLACK_S = 1.0  # an event this close to a clip's ends still opens that clip


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to list. ``person`` matches a person id (``Person_…``) or a name,
    case-insensitively, anywhere in the event's detail."""

    camera: str | None = None  # camera key as in the site file
    kind: str | None = None
    person: str | None = None
    before: datetime | None = None
    limit: int = 500


@dataclass(frozen=True, slots=True)
class EventView:
    """One event as a list shows it, with the clip that covers it (if any)."""

    id: int
    ts: datetime
    kind: str
    source: str
    camera: str | None
    detail: dict[str, Any]
    clip_path: str | None  # relative to the data dir
    clip_offset_s: float | None  # where in the clip the event happens

    @property
    def summary(self) -> str:
        detail = self.detail
        for key in ("detail", "name", "person_id"):
            if detail.get(key):
                return str(detail[key])
        if "track_id" in detail:
            return f"track {detail['track_id']}"
        return ", ".join(f"{k}={v}" for k, v in list(detail.items())[:3])


def query_events(store: Store, flt: EventFilter) -> list[EventView]:
    """Events matching ``flt``, newest first, each with its covering clip."""
    stmt = select(Event, Camera.key).outerjoin(Camera, Camera.id == Event.camera_id)
    if flt.camera:
        stmt = stmt.where(or_(Camera.key == flt.camera, Event.source == f"camera:{flt.camera}"))
    if flt.kind:
        stmt = stmt.where(Event.kind == flt.kind)
    if flt.before:
        stmt = stmt.where(Event.ts < flt.before)
    if flt.person:
        # JSON stored as text on both backends; a LIKE over it finds ids and names.
        needle = f"%{flt.person.lower()}%"
        stmt = stmt.where(func.lower(func.cast(Event.detail, _text_type())).like(needle))
    stmt = stmt.order_by(Event.ts.desc(), Event.id.desc()).limit(max(1, flt.limit))
    with store.sessions() as session:
        rows = session.execute(stmt).all()
        views = []
        for event, camera_key in rows:
            key = camera_key or (
                event.source.removeprefix("camera:") if event.source.startswith("camera:") else None
            )
            clip = _covering_clip(session, event) if event.camera_id else None
            views.append(
                EventView(
                    id=event.id,
                    ts=event.ts,
                    kind=event.kind,
                    source=event.source,
                    camera=key,
                    detail=dict(event.detail),
                    clip_path=clip[0] if clip else None,
                    clip_offset_s=clip[1] if clip else None,
                )
            )
    return views


def event_kinds(store: Store) -> list[str]:
    """Every event kind in the history, for filter menus."""
    with store.sessions() as session:
        return list(session.scalars(select(Event.kind).distinct().order_by(Event.kind)))


def _covering_clip(session: Any, event: Event) -> tuple[str, float] | None:
    slack = timedelta(seconds=CLIP_SLACK_S)
    media = session.scalars(
        select(Media)
        .where(
            Media.kind == "clip",
            Media.camera_id == event.camera_id,
            Media.started_at.is_not(None),
            and_(Media.started_at <= event.ts + slack, Media.ended_at >= event.ts - slack),
        )
        .order_by(Media.started_at.desc())
        .limit(1)
    ).first()
    if media is None or media.started_at is None:
        return None
    return media.path, max(0.0, (event.ts - media.started_at).total_seconds())


def _text_type() -> Any:
    from sqlalchemy import Text

    return Text()


def live_event_view(event: StoreEvent) -> EventView | None:
    """A bus event as the event list shows it before the store has given it an id
    (``id`` is 0 and no clip is attached yet); None for events that are not history."""
    record = event.record()
    if record is None:
        return None
    camera = record.source.removeprefix("camera:") if record.source.startswith("camera:") else None
    return EventView(
        id=0,
        ts=event.at,
        kind=record.kind,
        source=record.source,
        camera=camera,
        detail=dict(record.detail),
        clip_path=None,
        clip_offset_s=None,
    )
