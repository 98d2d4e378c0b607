"""Typed models of what investigators keep (revision ``0014``): bookmarks, evidence locks and
chat conversations. See :mod:`engine.history`.

A *bookmark* marks a moment (``marked_at``) with a title and a note, on one camera, one
sensing room or the whole site, and the range around it that matters (``started_at`` –
``ended_at``, the moment padded by ``pre_s`` before and ``post_s`` after).

An *evidence lock* keeps a time range of chosen sources from retention: while it is active
(``released_at`` is None) the clips and snapshots of its cameras that overlap the range are
marked ``media.locked`` and the events of its sources in the range are not purged. Its
sources are rows of ``evidence_lock_sources`` (a camera or a room each); a lock without
sources covers the whole site. Locking and unlocking are audited; a released lock stays as
the record of who released it.

A *chat message* is one turn of a user's conversation with the chat pane: the question or the
answer, which mode answered (``llm`` or ``offline``) and the events the answer cited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId

CHAT_ROLES = ("user", "assistant")
CHAT_MODES = ("llm", "offline")


class Bookmark(Base):
    __tablename__ = "bookmarks"
    __table_args__ = (
        CheckConstraint("ended_at >= started_at", name="ck_bookmarks_range"),
        CheckConstraint("pre_s >= 0 AND post_s >= 0", name="ck_bookmarks_padding"),
        Index("ix_bookmarks_started_at", "started_at", "ended_at"),
        Index("ix_bookmarks_author", "author"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    marked_at: Mapped[datetime]
    pre_s: Mapped[float] = mapped_column(Float)
    post_s: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime]  # marked_at - pre_s
    ended_at: Mapped[datetime]  # marked_at + post_s
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="SET NULL"))
    room: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class EvidenceLock(Base):
    __tablename__ = "evidence_locks"
    __table_args__ = (
        CheckConstraint("ended_at >= started_at", name="ck_evidence_locks_range"),
        Index("ix_evidence_locks_active", "released_at", "started_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500))
    bookmark_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("bookmarks.id", ondelete="SET NULL")
    )
    export_path: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    released_by: Mapped[str | None] = mapped_column(String(100))
    released_at: Mapped[datetime | None]


class EvidenceLockSource(Base):
    """One source an evidence lock covers: a camera (``camera_id``) or a room (``room``)."""

    __tablename__ = "evidence_lock_sources"
    __table_args__ = (
        CheckConstraint(
            "(camera_id IS NULL) <> (room IS NULL)", name="ck_evidence_lock_sources_one"
        ),
        Index("ix_evidence_lock_sources_lock", "lock_id"),
        Index("ix_evidence_lock_sources_camera", "camera_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lock_id: Mapped[int] = mapped_column(BigId, ForeignKey("evidence_locks.id", ondelete="CASCADE"))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    room: Mapped[str | None] = mapped_column(String(64))


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'assistant')", name="ck_chat_messages_role"),
        CheckConstraint("mode IS NULL OR mode IN ('llm', 'offline')", name="ck_chat_messages_mode"),
        Index("ix_chat_messages_account_id", "account", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(100))  # the signed-in user's name
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    mode: Mapped[str | None] = mapped_column(String(16))  # answers only
    # The answer's citations as shown (event ids and clip paths), never searched.
    cited: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    turns: Mapped[int] = mapped_column(Integer, default=0)  # tool-loop steps the answer took
