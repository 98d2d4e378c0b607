"""Reading sensing history back from the store: a blob's stored explanation, the last blob id.

Blob events (``sensing.blob_appeared`` and ``sensing.blob_left``) carry the blob id in the
event's ``track_id`` column and the blob's explanation in their detail (see
:mod:`engine.sensing.service`), so a blob can be explained after the engine that saw it has
stopped: ``watchfloor sense explain BLOB_ID``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Event
from engine.store.sites import last_blob_id

BLOB_KINDS = ("sensing.blob_appeared", "sensing.blob_left")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """The latest stored event of one blob: when, what (appeared or left), where, and the
    explanation then (links, shares, zones, ellipsoids), as stored."""

    blob_id: int
    event_id: int
    ts: datetime
    kind: str
    source: str
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "blob": self.blob_id,
            "event_id": self.event_id,
            "ts": self.ts.isoformat(),
            "kind": self.kind,
            "room": self.source.removeprefix("sensing:"),
            "position": self.detail.get("position"),
            "duration_s": self.detail.get("duration_s"),
            "path_m": self.detail.get("path_m"),
            "explanation": self.detail.get("explanation") or [],
        }


def stored_blob(store: Store, blob_id: int) -> StoredBlob | None:
    """The latest stored event of blob ``blob_id`` (None if no sensing event names it)."""
    with store.transaction() as session:
        row = session.execute(
            select(Event.id, Event.ts, Event.kind, Event.source, Event.detail)
            .where(
                Event.track_id == blob_id,
                Event.camera_id.is_(None),
                Event.kind.in_(BLOB_KINDS),
            )
            .order_by(Event.ts.desc(), Event.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return StoredBlob(blob_id, int(row.id), row.ts, row.kind, row.source, dict(row.detail))


@dataclass(frozen=True, slots=True, kw_only=True)
class LastBlobId(StoreCommand):
    """The highest blob id stored (0 if none), read in the writer's order."""

    def apply(self, session: Session) -> int:
        return last_blob_id(session)
