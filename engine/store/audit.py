"""The audit trail: who did what, when, to what, and whether it was allowed, as a hash chain.

Every sensitive action appends one entry in the same transaction as the change it records
(:func:`append_audit`, called from the action's store command), so the trail never says
something happened that did not, nor misses something that did. A refusal is appended on
its own (:class:`AppendAudit`). Entry ``n`` stores ``prev_hash`` (entry ``n - 1``'s hash)
and ``hash`` = SHA-256 of its canonical JSON (sequence number, time, actor, action,
target, outcome, detail, prev_hash). :func:`verify_audit` recomputes the chain and names
the first entry that was altered, removed or inserted; the head row (the newest seq and
hash) also catches entries cut off the end.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand
from engine.store.audit_models import AUDIT_OUTCOMES, AuditEntry, AuditHead
from engine.store.commands import StoreCommand
from engine.store.database import Store

GENESIS_HASH = "0" * 64  # prev_hash of the first entry
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
VERIFY_BATCH = 20_000  # rows fetched per round trip while verifying


def entry_hash(
    seq: int,
    ts_us: int,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    detail_json: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an entry: its fields joined by the unit separator (U+001F), which
    none of them can hold (text fields refuse control characters; JSON escapes them)."""
    line = "\x1f".join(
        (str(seq), str(ts_us), actor, action, target, outcome, detail_json, prev_hash)
    )
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def canonical_json(detail: dict[str, Any]) -> str:
    """The detail as stored and hashed: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_us(ts: datetime) -> int:
    """UTC microseconds since 1970 of an aware datetime."""
    if ts.tzinfo is None:
        raise ValueError("naive datetime given to the audit trail; use the engine clock (UTC)")
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(ts_us: int) -> datetime:
    """The aware UTC datetime of ``ts_us`` microseconds since 1970."""
    return EPOCH + timedelta(microseconds=ts_us)


def _checked_text(name: str, value: str) -> str:
    if CONTROL.search(value):
        raise ValueError(f"audit {name} holds a control character: {value!r}")
    return value


def append_audit(
    session: Session,
    *,
    at: datetime,
    actor: Actor | str,
    action: str,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in ``session`` (the caller's transaction). Locks the chain's head
    row until the transaction ends, so concurrent appenders queue instead of forking."""
    if outcome not in AUDIT_OUTCOMES:
        raise ValueError(f"audit outcome must be one of {AUDIT_OUTCOMES}, not {outcome!r}")
    who = _checked_text("actor", actor.label if isinstance(actor, Actor) else actor)
    _checked_text("action", action)
    _checked_text("target", target)
    body = canonical_json(detail or {})
    ts_us = to_us(at)
    # Take the head's row lock first (an UPDATE), then read it: two transactions cannot
    # both read the same head.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    seq, prev_hash = int(head.seq), str(head.hash)
    digest = entry_hash(seq, ts_us, who, action, target, outcome, body, prev_hash)
    entry = AuditEntry(
        seq=seq,
        ts_us=ts_us,
        actor=who,
        action=action,
        target=target,
        outcome=outcome,
        detail=body,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    session.flush()
    return entry


def audit_command(
    session: Session,
    command: GuardedCommand,
    detail: dict[str, Any],
    *,
    target: str | None = None,
) -> AuditEntry:
    """Append the entry of a guarded command that was carried out: its actor, action and
    time, to ``target`` (default: the command's own :meth:`~GuardedCommand.audit_target`).
    Call it from the command's ``apply``, in its transaction."""
    return append_audit(
        session,
        at=command.at,
        actor=command.actor,
        action=command.action,
        target=command.audit_target() if target is None else target,
        detail=detail,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendAudit(StoreCommand):
    """An entry on its own: a refusal, a failed login, a question asked of the history."""

    at: datetime
    actor: Actor | str
    action: str
    target: str = ""
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)

    def apply(self, session: Session) -> int:
        entry = append_audit(
            session,
            at=self.at,
            actor=self.actor,
            action=self.action,
            target=self.target,
            outcome=self.outcome,
            detail=self.detail,
        )
        return entry.seq


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """Entry ``seq`` is not what was written: ``reason`` says how."""

    seq: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class AuditVerification:
    entries: int
    head_seq: int
    problems: tuple[AuditProblem, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "problems": [p.as_dict() for p in self.problems],
            "seconds": round(self.seconds, 3),
        }


def verify_audit(store: Store, max_problems: int = 20) -> AuditVerification:
    """Recompute the whole chain (streamed, in batches of VERIFY_BATCH) and report every
    entry whose hash does not match its fields, whose ``prev_hash`` is not its
    predecessor's hash, or whose seq leaves a gap; and a head that does not match the
    newest entry (entries cut off the end). Runs on the caller's thread: not the GUI's."""
    started = time.perf_counter()
    problems: list[AuditProblem] = []
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    with store.sessions() as session:
        head = session.execute(select(AuditHead.seq, AuditHead.hash)).one_or_none()
        for row in _stream(session):
            count += 1
            seq = row[0]
            if seq != expected_seq:
                problems.append(
                    AuditProblem(expected_seq, f"entries {expected_seq}–{seq - 1} are missing")
                )
            elif row[7] != expected_prev:
                problems.append(AuditProblem(seq, "does not follow the entry before it"))
            if entry_hash(*row[:8]) != row[8]:
                problems.append(AuditProblem(seq, "was altered: its hash does not match"))
            if len(problems) >= max_problems:
                break
            expected_prev, expected_seq = row[8], seq + 1
    head_seq = int(head.seq) if head is not None else 0
    if len(problems) < max_problems:
        if head is None:
            problems.append(AuditProblem(0, "the chain's head row is missing"))
        elif head_seq != expected_seq - 1 or (head_seq and head.hash != expected_prev):
            problems.append(
                AuditProblem(
                    head_seq,
                    f"the newest entry should be {head_seq}; the chain ends at "
                    f"{expected_seq - 1} (entries removed from the end, or the head altered)",
                )
            )
    return AuditVerification(count, head_seq, tuple(problems), time.perf_counter() - started)


def _stream(session: Session) -> Iterator[Any]:
    """Every entry in seq order, by keyset pages (constant memory, any database)."""
    last = 0
    columns = (
        AuditEntry.seq,
        AuditEntry.ts_us,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.target,
        AuditEntry.outcome,
        AuditEntry.detail,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    )
    connection = session.connection()
    while True:
        rows = connection.execute(
            select(*columns)
            .where(AuditEntry.seq > last)
            .order_by(AuditEntry.seq)
            .limit(VERIFY_BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        last = int(rows[-1][0])


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    ts: datetime
    actor: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class AuditListRequest:
    """A page of the trail, newest first: entries with seq below ``before`` (None: from
    the newest), optionally one actor's or one action's. A query-service request."""

    limit: int = 100
    before: int | None = None
    actor: str | None = None
    action: str | None = None

    def run(self, store: Store) -> list[AuditRecord]:
        query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(self.limit)
        if self.before is not None:
            query = query.where(AuditEntry.seq < self.before)
        if self.actor is not None:
            query = query.where(AuditEntry.actor == self.actor)
        if self.action is not None:
            query = query.where(AuditEntry.action == self.action)
        with store.sessions() as session:
            return [
                AuditRecord(
                    e.seq,
                    from_us(e.ts_us),
                    e.actor,
                    e.action,
                    e.target,
                    e.outcome,
                    json.loads(e.detail),
                )
                for e in session.scalars(query)
            ]
