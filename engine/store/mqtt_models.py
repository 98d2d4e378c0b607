"""MQTT command grants (revision ``0027``): which broker user may send commands, as which
Watchfloor service account. Written by the commands of :mod:`engine.mqtt.grants`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId


class MqttGrant(Base):
    """Broker user ``broker_user`` may send commands as the service account ``account_id``
    (each command still carries that account's token: the grant says whose token counts
    from that user, the token proves it). Granted by an admin (``granted_by``, an audit
    label) at ``granted_at`` (UTC). A broker user without a row may send nothing."""

    __tablename__ = "mqtt_grants"

    broker_user: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime]
