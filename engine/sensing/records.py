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
from engine.store.audit_models import AuditEntry
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Event, Setting
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
        return self._audited(session).seq

    def _audited(self, session: Session, **detail: object) -> AuditEntry:
        """The audit entry of this pairing (its seconds and ``detail``), appended."""
        return append_audit(
            session,
            at=self.at,
            actor=self.actor,
            action=self.action,
            target=self.audit_target(),
            detail={"seconds": self.seconds, **detail},
        )


# --- pairing from another process --------------------------------------------------------
#
# ``watchfloor sense pair`` runs in its own process; the engine (or ``sense serve``) that
# holds the node server runs in another. The store is the one thing both share, so the
# request travels through it: one settings row per room (``sensing.pairing_request:ROOM``)
# holding the latest request, which a running node server polls for (PairingDesk in
# :mod:`engine.sensing.nodes.pairing`) and answers in the same row. No socket of our own to
# secure, and the request is checked and audited by the store writer like any command.

PAIRING_REQUEST_KEY = "sensing.pairing_request:"


def pairing_request_key(room: str) -> str:
    """The settings row holding ``room``'s latest pairing request."""
    return f"{PAIRING_REQUEST_KEY}{room}"


@dataclass(frozen=True, slots=True)
class PairingRequest:
    """The latest pairing request of a room: its audit sequence number (the request's id),
    the window's length in seconds, when it was made (UTC), who made it (an audit label)
    and who answered it (each answer ``{"by": ..., "until": ISO UTC}``)."""

    seq: int
    seconds: float
    requested_at: datetime
    actor: str
    answers: tuple[dict[str, Any], ...]


def pairing_request(store: Store, room: str) -> PairingRequest | None:
    """``room``'s latest pairing request as stored (None if none was ever made)."""
    with store.transaction() as session:
        row = session.get(Setting, pairing_request_key(room))
        value = None if row is None else dict(row.value)
    if value is None:
        return None
    return PairingRequest(
        seq=int(value["seq"]),
        seconds=float(value["seconds"]),
        requested_at=datetime.fromisoformat(str(value["requested_at"])),
        actor=str(value["actor"]),
        answers=tuple(dict(a) for a in value.get("answers", ())),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestNodePairing(OpenNodePairing):
    """An admin asks whichever engine or ``sense serve`` runs ``room`` to open its pairing
    window for ``seconds``: audited as ``node.pairing_opened`` (detail ``"requested":
    true``), and stored as the room's latest pairing request in the same transaction.
    Needs the nodes permission (the writer refuses and audits anyone else). Returns the
    audit entry's sequence number, the request's id."""

    action: ClassVar[str] = "node.pairing_opened"  # a command of its own, audited alike

    def apply(self, session: Session) -> int:
        entry = self._audited(session, requested=True)
        value = {
            "seq": entry.seq,
            "seconds": self.seconds,
            "requested_at": self.at.isoformat(),
            "actor": self.actor.label,
            "answers": [],
        }
        key = pairing_request_key(self.room)
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value, updated_at=self.at))
        else:
            row.value, row.updated_at = value, self.at
        return entry.seq


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerPairingRequest(StoreCommand):
    """A node server opened its window for request ``seq`` of ``room``: ``by`` (where it
    listens) is added to the request's answers, with ``until``, when its window closes.
    Does nothing if a newer request replaced it. Returns whether it was recorded."""

    room: str
    seq: int
    by: str
    until: datetime
    at: datetime

    def apply(self, session: Session) -> bool:
        row = session.get(Setting, pairing_request_key(self.room))
        if row is None or int(row.value.get("seq", -1)) != self.seq:
            return False
        value = dict(row.value)
        answer = {"by": self.by, "until": self.until.isoformat()}
        value["answers"] = [*value.get("answers", ()), answer]
        row.value, row.updated_at = value, self.at  # a new dict: the JSON column sees it
        return True
