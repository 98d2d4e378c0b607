"""Typed models of the audit trail (revision ``0008_audit_trail``).

``audit_entries`` is a hash chain: entry ``seq`` carries the hash of entry ``seq - 1``
(``prev_hash``) and its own ``hash`` over its fields and ``prev_hash``, so changing,
removing or inserting any entry breaks the chain from there on (see :mod:`engine.store.audit`).
``audit_head`` is one row holding the newest ``seq`` and ``hash``: every append updates it
in the same transaction, which serialises appenders on PostgreSQL (row lock) as SQLite's
single writer does, so two processes never extend the chain from the same entry.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId

AUDIT_OUTCOMES = ("ok", "denied", "failed")


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'denied', 'failed')", name="ck_audit_outcome"),
        Index("ix_audit_entries_ts_us", "ts_us"),
        Index("ix_audit_entries_actor_seq", "actor", "seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Time as integer microseconds since 1970 (UTC) and the detail as its canonical JSON
    # text: exactly what was hashed, the same on SQLite and PostgreSQL, and nothing to
    # convert when a million entries are verified.
    ts_us: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(400))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's newest entry (one row, ``id`` 1)."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_head_single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    # The newest entry retention has pruned (revision 0009): the oldest kept entry's
    # prev_hash must equal anchor_hash. 0 and the genesis hash while nothing was pruned.
    anchor_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    anchor_hash: Mapped[str] = mapped_column(String(64), server_default="0" * 64)
