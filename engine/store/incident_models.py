"""Typed models of incidents, their reports, training labels and the risk grid (revision
``0012``). See :mod:`engine.incidents`.

An *incident* is one real-world event; each *report* of it (from the console's form, an
imported file, an operator escalating an engine event, the CLI) is kept whole in
``incident_reports`` with its own classification, and the incident carries what its reports
add up to: where and when it was first reported, how many reporters, the consensus category
and the classifier that decided it. Correlation searches reports by time, then by a
latitude/longitude box (``ix_incident_reports_at_lat_lon`` covers both), then by exact
great-circle distance. Operators' validations and corrections are kept in
``incident_labels`` with the text they label, so they outlive the incident as training data.
``risk_cells`` holds the live risk level of each H3 cell (``level`` as of ``as_of``; it decays
with the configured half-life from then on); ``risk_models`` logs every nightly refit, and
``camera_risk_days`` the daily risk class it gives each camera.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy import Text as TextColumn
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId
from engine.vocabulary import INCIDENT_CATEGORIES, RISK_CLASSES

_CATEGORY_LIST = ", ".join(f"'{c}'" for c in INCIDENT_CATEGORIES)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(f"category IN ({_CATEGORY_LIST})", name="ck_incidents_category"),
        CheckConstraint("severity BETWEEN 1 AND 5", name="ck_incidents_severity"),
        Index("ix_incidents_occurred_at_id", "occurred_at", "id"),
        Index("ix_incidents_category_occurred_at", "category", "occurred_at"),
        Index("ix_incidents_llm_pending", "llm_pending"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime]  # the earliest report's time
    last_report_at: Mapped[datetime]
    latitude: Mapped[float] = mapped_column(Float)  # the first report's place
    longitude: Mapped[float] = mapped_column(Float)
    cell: Mapped[int] = mapped_column(BigInteger)  # H3 cell of that place (risk grid)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[int]
    confidence: Mapped[float] = mapped_column(Float)
    classifier: Mapped[str] = mapped_column(String(100))  # who decided: keywords, llm:…
    category_basis: Mapped[str] = mapped_column(String(32))  # single, majority, …, corrected
    llm_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    report_count: Mapped[int]
    reporter_count: Mapped[int]
    validated_by: Mapped[str | None] = mapped_column(String(100))
    validated_at: Mapped[datetime | None]


class IncidentReport(Base):
    __tablename__ = "incident_reports"
    __table_args__ = (
        CheckConstraint(f"category IN ({_CATEGORY_LIST})", name="ck_incident_reports_category"),
        CheckConstraint("severity BETWEEN 1 AND 5", name="ck_incident_reports_severity"),
        Index("ix_incident_reports_at_lat_lon", "at", "latitude", "longitude"),
        Index("ix_incident_reports_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(TextColumn)
    reporter: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(64))  # form, import, cli, escalation
    event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="SET NULL")
    )
    received_at: Mapped[datetime]
    filed_by: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[int]
    confidence: Mapped[float] = mapped_column(Float)
    classifier: Mapped[str] = mapped_column(String(100))
    fallback_reason: Mapped[str | None] = mapped_column(String(300))
    llm_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    merge: Mapped[dict[str, Any]] = mapped_column(default=dict)  # how it joined its incident


class IncidentMedia(Base):
    """A photo or video attached to a report, with what the camera pipeline found in it and
    the signature correlation compares (see :mod:`engine.incidents.media`)."""

    __tablename__ = "incident_media"
    __table_args__ = (CheckConstraint("kind IN ('photo', 'video')", name="ck_incident_media_kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("incident_reports.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    thumbnail_path: Mapped[str | None] = mapped_column(String(1000))
    analysis: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signature: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class IncidentLabel(Base):
    """An operator's validation or correction of an incident's category: kept with the text
    it labels (the incident's reports), so it stays training data after the incident goes."""

    __tablename__ = "incident_labels"
    __table_args__ = (
        CheckConstraint(f"category IN ({_CATEGORY_LIST})", name="ck_incident_labels_category"),
        CheckConstraint("kind IN ('validated', 'corrected')", name="ck_incident_labels_kind"),
        Index("ix_incident_labels_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(TextColumn)
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[int]
    previous_category: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class RiskCell(Base):
    """The live risk of one H3 cell: ``level`` as of ``as_of``, decaying from then on."""

    __tablename__ = "risk_cells"

    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    level: Mapped[float] = mapped_column(Float)
    as_of: Mapped[datetime]


class RiskModel(Base):
    """One run of the nightly risk refit: when, on what, how long, how good, where saved."""

    __tablename__ = "risk_models"
    __table_args__ = (
        CheckConstraint("status IN ('ok', 'failed')", name="ck_risk_models_status"),
        Index("ix_risk_models_slot", "slot"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    slot: Mapped[datetime]  # the 02:00 UTC run this was (a caught-up run keeps its slot)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    incidents: Mapped[int]
    path: Mapped[str | None] = mapped_column(String(1000))
    quality: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(String(500))


_CLASS_LIST = ", ".join(f"'{c}'" for c in RISK_CLASSES)


class CameraRiskDay(Base):
    """A camera's risk class for one UTC day, from the risk model fitted before it (kept per
    day, so a list of a past date uses that date's class)."""

    __tablename__ = "camera_risk_days"
    __table_args__ = (
        UniqueConstraint("camera_id", "day", name="uq_camera_risk_days_camera_day"),
        CheckConstraint(f"risk_class IN ({_CLASS_LIST})", name="ck_camera_risk_days_class"),
        Index("ix_camera_risk_days_day", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    risk_class: Mapped[str] = mapped_column(String(16))
    expected: Mapped[float] = mapped_column(Float)  # incidents expected near it that day
    model_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("risk_models.id", ondelete="SET NULL")
    )
