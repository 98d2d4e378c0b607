"""What a person reads of the audit trail: an entry, and the result of checking the chain.

Kept apart from the store (which writes and reads the trail) so the console's audit pane
shows them without depending on the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """Entry ``seq`` is not what was written: ``reason`` says how."""

    seq: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class CheckpointCheck:
    """The chain checked against a signed checkpoint of its head, kept outside the
    database: entry ``seq`` with ``head_hash``, signed at ``at`` (UTC) by key ``key_id``
    (SHA-256 of its public PEM), read from ``source``; ``problem`` says why the chain does
    not match it (None: it does, so the entries up to ``seq`` were not rewritten)."""

    source: str
    seq: int
    head_hash: str
    at: datetime
    key_id: str
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "at": self.at.isoformat(),
            "key_id": self.key_id,
            "ok": self.problem is None,
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """``entries`` verified (those kept: after ``anchor_seq``, the newest pruned entry, 0
    if none was), the head's ``seq``, what is wrong, and how long it took (seconds);
    ``checkpoint``: the check against a signed checkpoint, when one was made (its
    problem, if any, is among ``problems`` too)."""

    entries: int
    head_seq: int
    problems: tuple[AuditProblem, ...]
    seconds: float
    anchor_seq: int = 0
    checkpoint: CheckpointCheck | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "anchor_seq": self.anchor_seq,
            "problems": [p.as_dict() for p in self.problems],
            "seconds": round(self.seconds, 3),
            "checkpoint": None if self.checkpoint is None else self.checkpoint.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of the trail as read back: who (``actor``, ``kind:name``) did what to
    what, when (UTC), how it went, and its details."""

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
