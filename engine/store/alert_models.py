"""Typed models of alerts, their sequences, the rules that raise them, and webhook deliveries
(revisions ``0011``, ``0013``, ``0030`` and ``0031``). See :mod:`engine.alerts`.

An alert is something an operator must see and acknowledge. It groups the *sequences* of one
site that overlap in time: a sequence is a run of triggering detections on one camera (or
sensing room) that belong together, with ``max_conf``, the highest confidence among its own
detections, only ever raised. Sequences are made by the admin's ``alert_rules`` (camera or
room, optional zone, trigger, armed schedule); a fall makes an alert of one sequence whose
confidence is unknown. An alert is *new* until an operator takes it (*in progress*: who and
when, ``taken_*``) and *closed* when someone closes it (who and when: the ``acknowledged_*``
columns, which predate the states; closing is what acknowledging was). Its history (taken,
notes, closed with a comment, escalated to an incident) is ``alert_notes``. It is escalated
when nobody took or closed it in time, and delivered to the configured webhooks, each
attempt's outcome kept in ``alert_deliveries``. Operators label sequences true or false alarms; the
labels stay with the sequence for training.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("severity IN ('info', 'warning', 'critical')", name="ck_alerts_severity"),
        Index("ix_alerts_raised_at_id", "raised_at", "id"),
        Index("ix_alerts_open", "acknowledged_at", "raised_at"),
        Index("ix_alerts_site_last_seen", "site_id", "last_seen_at"),
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
    # In progress: the operator who took it and when (the latest to take it; revision 0030).
    taken_at: Mapped[datetime | None]
    taken_by: Mapped[str | None] = mapped_column(String(100))
    # The latest activity of any of its sequences: a new sequence of the site within the
    # grouping window of it joins this alert.
    last_seen_at: Mapped[datetime | None]


class AlertRule(Base):
    """What raises an alert, set by an admin: on camera ``camera_id`` (or in sensing room
        ``room``), inside ``zone`` (a polygon of [x, y] in fractions of the frame; None: the
        whole view), which ``trigger`` (a person; loitering longer than ``loiter_s``; a sensing
        blob in a room that should be empty; gesture ``gesture``), armed on ``days`` (bit 0 =
        Monday) from ``armed_from_min`` to ``armed_until_min`` (minutes of the UTC day; a span
        past midnight wraps). How its alerts are handled (revision 0030): ``instructions``, what
    the operator should do (shown with the alert), and ``comment_required``: an alert of the
    rule is closed only with a comment."""

    __tablename__ = "alert_rules"
    __table_args__ = (
        CheckConstraint(
            "trigger IN ('person', 'loitering', 'sensing_blob', 'gesture')",
            name="ck_alert_rules_trigger",
        ),
        CheckConstraint(
            "(camera_id IS NULL) <> (room IS NULL)", name="ck_alert_rules_camera_or_room"
        ),
        CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name="ck_alert_rules_severity"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    camera_id: Mapped[int | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), index=True
    )
    room: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16))
    loiter_s: Mapped[float | None] = mapped_column(Float)
    gesture: Mapped[str | None] = mapped_column(String(100))
    zone: Mapped[list[list[float]] | None] = mapped_column(JSON)
    days: Mapped[int] = mapped_column(Integer, default=127)
    armed_from_min: Mapped[int] = mapped_column(Integer, default=0)
    armed_until_min: Mapped[int] = mapped_column(Integer, default=1440)
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    instructions: Mapped[str | None] = mapped_column(String(2000))
    comment_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AlertRuleDefaults(Base):
    """A camera that was given the default alert rules (revision 0031): when the site was
    first mirrored into the store, or when the camera was added to it later. Kept apart
    from the rules so that rules an admin removed are not given again; a camera's row goes
    with the camera. Cameras stored before revision 0031 count as given (their sites were
    set up without defaults)."""

    __tablename__ = "alert_rule_defaults"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    given_at: Mapped[datetime]


class AlertSequence(Base):
    """Consecutive triggering detections on one camera (or room) that belong together,
    stored once there are enough of them, grouped into alert ``alert_id``. ``max_conf`` is
    the highest confidence of its own detections (None: unknown, e.g. a fall), raised in SQL
    as detections arrive and never lowered. ``seq_key`` is the engine's name for it, so
    extensions queued behind its creation find it."""

    __tablename__ = "alert_sequences"
    __table_args__ = (
        CheckConstraint(
            "label IS NULL OR label IN ('true_alarm', 'false_alarm')",
            name="ck_alert_sequences_label",
        ),
        Index("ix_alert_sequences_alert", "alert_id", "max_conf"),
        Index("ix_alert_sequences_camera_started", "camera_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq_key: Mapped[str] = mapped_column(String(40), unique=True)
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alerts.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(128))  # "camera:plaza", "sensing:lab"
    trigger: Mapped[str] = mapped_column(String(16))  # "person", …, "fall"
    track_id: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    detections: Mapped[int] = mapped_column(Integer)
    max_conf: Mapped[float | None] = mapped_column(Float)
    snapshot: Mapped[str | None] = mapped_column(String(1000))  # data-dir relative path
    label: Mapped[str | None] = mapped_column(String(16))
    labelled_by: Mapped[str | None] = mapped_column(String(100))
    labelled_at: Mapped[datetime | None]


class AlertNote(Base):
    """One entry of an alert's history (revision 0030): at ``at``, ``author`` (an actor's
    label) ``took`` it, wrote a ``note``, ``closed`` it (``text``: the closing comment, may
    be empty) or ``escalated`` it to an incident (``text`` names the incident). Closings
    acknowledged before revision 0030 were copied in from the audit trail, notes and all."""

    __tablename__ = "alert_notes"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('took', 'note', 'closed', 'escalated')", name="ck_alert_notes_kind"
        ),
        Index("ix_alert_notes_alert_at", "alert_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(2000), default="")


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
