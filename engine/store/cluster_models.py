"""Typed models of a site shared by several engines (revision ``0021``).

An *engine* row is one running ``watchfloor engine`` process of a site, by its ``name``
(unique per site, chosen by the admin: ``server-a``), with the machine and process it runs
as, how many cameras it may analyse (``capacity``), when it started, its last heartbeat
(``heartbeat_at``, the **database's** clock, so machines whose clocks disagree still agree
on who is late) and how far its own clock was from the database's at that heartbeat
(``clock_offset_ms``: engine minus database). ``stopped_at`` is set when it stopped cleanly;
``health`` is what it said of its subsystems and cameras at that heartbeat. ``instance``
(revision ``0026``) is the random id of the process that holds the name now: its heartbeat
and lease writes are conditional on it, so a process whose name another took over (it was
paused or cut off past its lease) cannot write as that engine any more. ``replaced`` says
which process held the name before, when it was taken over from one that had not stopped
(``{"host", "pid", "last_heard_at"}``), else None.

A *lease* row is one thing of the site that exactly one engine may run at a time: a
``camera`` or a sensing ``room`` by its key in the site file, or the site-wide ``service``
(``site``: the incident model's refit and meaning search's indexer). ``engine`` names the
holder (None: nobody), ``heartbeat_at`` its last renewal (database clock) and ``epoch``
counts the hand-overs: an engine renews only the epoch it acquired, so one that stalled past
its lease and then woke up finds it gone instead of running it beside the new holder.
``pinned`` names the engine the site file gives the camera to, if any. See
:mod:`engine.cluster`.

A *live room* row (revision ``0022``) is the latest picture of a sensing room, written by the
engine holding the room's lease a few times a second (:mod:`engine.cluster.live`) so that
consoles attached from other machines draw it: ``snapshot`` is
:func:`engine.cluster.snapshots.encode_snapshot`'s bytes. Live state, not history: one row per
room, overwritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base

LEASE_KINDS = ("camera", "room", "service")


class EngineRow(Base):
    __tablename__ = "engines"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_engines_site_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    clock_offset_ms: Mapped[float] = mapped_column(Float)
    stopped_at: Mapped[datetime | None]
    # At its last heartbeat: its subsystems' health and its cameras' state, as JSON
    # (see engine.cluster.status), so that other machines see how it is doing.
    health: Mapped[dict[str, Any]] = mapped_column(default=dict)
    instance: Mapped[str] = mapped_column(String(32), default="")
    replaced: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Lease(Base):
    __tablename__ = "leases"
    __table_args__ = (
        UniqueConstraint("site_id", "kind", "key", name="uq_leases_site_kind_key"),
        CheckConstraint("kind IN ('camera', 'room', 'service')", name="ck_leases_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str | None] = mapped_column(String(64))
    pinned: Mapped[str | None] = mapped_column(String(64))
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    acquired_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]


class LiveRoom(Base):
    __tablename__ = "live_rooms"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    room: Mapped[str] = mapped_column(String(64), primary_key=True)
    engine: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)
