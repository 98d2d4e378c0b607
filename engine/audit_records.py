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
class AuditVerification:
    """``entries`` verified (those kept: after ``anchor_seq``, the newest pruned entry, 0
    if none was), the head's ``seq``, what is wrong, and how long it took (seconds)."""

    entries: int
    head_seq: int
    problems: tuple[AuditProblem, ...]
    seconds: float
    anchor_seq: int = 0

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
