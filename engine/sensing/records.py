"""Reading sensing history back from the store: a blob's stored explanation, the last blob id.

Blob events (``sensing.blob_appeared`` and ``sensing.blob_left``) carry the blob id in the
event's ``track_id`` column and the blob's explanation in their detail (see
:mod:`engine.sensing.service`), so a blob can be explained after the engine that saw it has
stopped: ``watchfloor sense explain BLOB_ID``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.store.audit import append_audit
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
            # None, not an empty list, when the event stored no explanation: "no link
            # explains it" is not what an absent explanation means.
            "explanation": self.detail.get("explanation") or None,
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


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenNodePairing(GuardedCommand, StoreCommand):
    """An admin opens the pairing window of ``room`` for ``seconds``: while it is open the
    node server answers ``POST /api/provision`` with node tokens. Needs the nodes
    permission (the writer refuses and audits anyone else); audited as
    ``node.pairing_opened`` before the window opens (the caller opens it once this commits).
    Returns the audit entry's sequence number."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_NODES
    action: ClassVar[str] = "node.pairing_opened"

    room: str
    seconds: float
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"sensing:{self.room}"

    def apply(self, session: Session) -> int:
        entry = append_audit(
            session,
            at=self.at,
            actor=self.actor,
            action=self.action,
            target=self.audit_target(),
            detail={"seconds": self.seconds},
        )
        return entry.seq
