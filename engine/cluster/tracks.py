"""The tracks a stopped engine left open, ended by the engine that takes its camera over.

An engine handing a camera over on purpose records everyone in view as leaving before it
lets the lease go. One that is killed (or hangs) cannot: its people stay "appeared" for ever,
and who-is-here counts, dwell times and activities built on the history never close. So
when an engine starts a camera another engine ran, it ends each track that engine left open
(a ``person.appeared`` with no ``person.left``) with a ``person.left`` of its own, at the
track's last stored sighting, saying why (``ended``). Only tracks of engines no longer
running are ended: a live engine ends its own. Should an engine that hung for longer than
its lease wake up and end them too, its ``person.left`` is not stored: a track leaves once
(:class:`~engine.store.commands.InsertEvent`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from engine.store.commands import InsertEvent
from engine.store.database import Store
from engine.store.models import Event

LOOK_BACK: Final = timedelta(days=2)  # older open tracks are not a takeover's to end


@dataclass(frozen=True, slots=True)
class OpenTrack:
    """A track ``engine`` left open on the camera: its id, first and last sighting."""

    track_id: int
    engine: str
    first_seen: datetime
    last_seen: datetime
    best_confidence: float


def open_tracks(
    store: Store, camera_id: int, *, me: str, running: set[str], now: datetime
) -> list[OpenTrack]:
    """The tracks of camera ``camera_id`` (database id) that engines other than ``me`` and
    not ``running`` left open, seen within :data:`LOOK_BACK` of ``now``."""
    left = aliased(Event)
    seen = aliased(Event)
    with store.transaction() as session:
        rows = session.execute(
            select(
                Event.track_id,
                Event.engine,
                Event.ts,
                Event.detail,
                select(func.max(seen.ts))
                .where(seen.camera_id == camera_id, seen.track_id == Event.track_id)
                .scalar_subquery(),
            ).where(
                Event.camera_id == camera_id,
                Event.kind == "person.appeared",
                Event.engine.is_not(None),
                Event.engine != me,
                Event.engine.not_in(running or {""}),
                Event.ts > now - LOOK_BACK,
                ~exists().where(
                    and_(
                        left.camera_id == camera_id,
                        left.track_id == Event.track_id,
                        left.kind == "person.left",
                    )
                ),
            )
        ).all()
    return [
        OpenTrack(
            track_id=int(track_id),
            engine=str(engine),
            first_seen=first,
            last_seen=last or first,
            best_confidence=float((detail or {}).get("confidence") or 0.0),
        )
        for track_id, engine, first, detail, last in rows
        if track_id is not None
    ]


def ended(track: OpenTrack, *, camera: str, camera_id: int, site_id: int, me: str) -> InsertEvent:
    """The ``person.left`` that ends ``track`` (as :class:`~engine.vision.analysis.
    PersonLeft` records one, with why it ended)."""
    return InsertEvent(
        ts=track.last_seen,
        kind="person.left",
        source=f"camera:{camera}",
        detail={
            "track_id": track.track_id,
            "first_seen": track.first_seen.isoformat(),
            "last_seen": track.last_seen.isoformat(),
            "duration_s": round((track.last_seen - track.first_seen).total_seconds(), 2),
            "best_confidence": round(track.best_confidence, 3),
            "path_points": 0,
            "snapshot": None,
            "ended": f"engine {track.engine} stopped while the person was in view; "
            f"{me} took the camera over",
        },
        site_id=site_id,
        camera_id=camera_id,
        track_id=track.track_id,
    )
