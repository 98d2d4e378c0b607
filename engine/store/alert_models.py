"""Typed models of alerts and their webhook deliveries (revision ``0011``). See
:mod:`engine.alerts`.

An alert is something an operator must see and acknowledge (for now: a fall in a sensing
room). It is raised by the engine with the event that caused it, acknowledged by someone (who
and when), escalated when nobody acknowledged it in time, and delivered to the configured
webhooks, each attempt's outcome kept in ``alert_deliveries``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId

ALERT_SEVERITIES = ("info", "warning", "critical")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("severity IN ('info', 'warning', 'critical')", name="ck_alerts_severity"),
        Index("ix_alerts_raised_at_id", "raised_at", "id"),
        Index("ix_alerts_open", "acknowledged_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    raised_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))  # "fall", …
    source: Mapped[str] = mapped_column(String(128))  # "sensing:room"
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="SET NULL")
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True
    )
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    escalated_at: Mapped[datetime | None]


class AlertDelivery(Base):
    """One webhook delivery of an alert (``escalation``: the delivery of its escalation)."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str] = mapped_column(String(500))  # masked: no secret in the database
    attempts: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
