"""Typed model of meaning search's index (revision ``0020``): one sentence vector per text.

Each row is the vector of one searchable text, named by typed columns, never by text: its
``kind`` (``incident``: an incident report's text; ``bookmark``: a bookmark's title and
note; ``event``: a stored event's summary) and exactly the one foreign key of that kind
(``incident_report_id``, ``bookmark_id`` or ``event_id``). The foreign keys cascade, so a
row deleted by anyone (retention's purge, a bookmark's removal, an erasure) takes its vector
with it in the same transaction. ``vector`` is the L2-normalised embedding as little-endian
float16 (384 values: 768 bytes for all-MiniLM-L6-v2); ``model`` names the model that made
it, so a later model can re-index what an older one made. See :mod:`engine.text_search`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId

TEXT_KINDS = ("incident", "bookmark", "event")


class TextVector(Base):
    __tablename__ = "text_vectors"
    __table_args__ = (
        CheckConstraint("kind IN ('incident', 'bookmark', 'event')", name="ck_text_vectors_kind"),
        CheckConstraint(
            "(kind = 'incident' AND incident_report_id IS NOT NULL AND bookmark_id IS NULL"
            " AND event_id IS NULL)"
            " OR (kind = 'bookmark' AND bookmark_id IS NOT NULL AND incident_report_id IS NULL"
            " AND event_id IS NULL)"
            " OR (kind = 'event' AND event_id IS NOT NULL AND incident_report_id IS NULL"
            " AND bookmark_id IS NULL)",
            name="ck_text_vectors_one_source",
        ),
        Index("ix_text_vectors_incident_report", "incident_report_id", unique=True),
        Index("ix_text_vectors_bookmark", "bookmark_id", unique=True),
        Index("ix_text_vectors_event", "event_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    incident_report_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("incident_reports.id", ondelete="CASCADE")
    )
    bookmark_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("bookmarks.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    indexed_at: Mapped[datetime]
