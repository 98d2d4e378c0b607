"""Alert snoozes (revision 0028): an operator's "no alerts from this camera until …". Written
by :class:`engine.alerts.snoozes.SnoozeCamera` and :class:`~engine.alerts.snoozes.
UnsnoozeCamera`; read by the alert list (sequences whose latest activity falls in a snooze
are hidden) and by the sequence commands (a snoozed camera's sequence notifies nobody).

One row per snooze, kept after it ends: the alert list reads them to know which stored
sequences were snoozed. A snooze is active from ``snoozed_at`` until ``until`` or, when it
was ended early (or replaced by a new snooze of the camera), ``ended_at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId


class AlertSnooze(Base):
    __tablename__ = "alert_snoozes"
    __table_args__ = (
        CheckConstraint("until > snoozed_at", name="ck_alert_snoozes_span"),
        Index("ix_alert_snoozes_camera_until", "camera_id", "until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    snoozed_at: Mapped[datetime]
    until: Mapped[datetime]
    snoozed_by: Mapped[str] = mapped_column(String(200))  # the actor's label: kind:name
    ended_at: Mapped[datetime | None]  # ended early (unsnoozed or replaced); None: at until
    ended_by: Mapped[str | None] = mapped_column(String(200))
