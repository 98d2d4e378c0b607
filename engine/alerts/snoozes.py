"""Snoozing a camera's alerts: "no alerts from this camera for N minutes", e.g. while a
cleaning crew works in its view.

While a camera is snoozed its detections and sequences are stored as always (evidence is
never lost), but none of its sequences notifies anybody: no ``AlertRaised`` (chime, desktop
notification, MQTT, a shared site's consoles), no webhook, no escalation; and the alert
list hides a sequence whose latest activity fell within a snooze of its camera (as the
low-risk gate hides one), so an alert made only of snoozed sequences is not listed. Health
alerts (a camera offline, its recording failing) are not snoozed: they are not about what
the camera sees. When the snooze ends, a sequence still going on notifies at its next
extension, and a new one at once.

A snooze is a row of ``alert_snoozes`` (:class:`~engine.store.snooze_models.AlertSnooze`),
so it survives a restart and every engine of a shared site reads the same one; the sequence
commands check it in their own transaction at the time of the detections (the engine
clock's), so it ends by itself at ``until`` with nothing to wake. Snoozing a snoozed camera
again replaces its snooze; ``unsnooze`` ends it early. Both need the acknowledge permission
(what an operator does with the camera's alerts) and are audited (``alert.snooze``,
``alert.unsnooze``) with the camera and the until-time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.sitetime import SiteTime
from engine.store.alert_models import AlertSequence
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Camera
from engine.store.snooze_models import AlertSnooze
from engine.text import printable

MIN_MINUTES: Final = 1
MAX_MINUTES: Final = 1440  # a day: a longer silence is a rule to disarm, not a snooze


class SnoozeError(ValueError):
    """A snooze that cannot be: minutes out of range, or a camera the site does not have."""


class NotSnoozedError(LookupError):
    """Unsnoozing a camera whose alerts are not snoozed."""


def snooze_minutes(value: object) -> int:
    """``value`` as a snooze's length in whole minutes, 1 to 1440; :class:`SnoozeError`
    naming what was wrong otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SnoozeError(f"minutes must be a whole number from 1 to 1440, got {value!r}")
    try:
        minutes = int(value)
    except ValueError:
        raise SnoozeError(
            f"minutes must be a whole number from 1 to 1440, got {printable(str(value))!r}"
        ) from None
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise SnoozeError(
            f"minutes must be from {MIN_MINUTES} to {MAX_MINUTES} (a day), got {minutes}"
        )
    return minutes


@dataclass(frozen=True, slots=True)
class SnoozeView:
    """One snooze of camera ``camera`` (its key; ``name`` as people call it): who snoozed
    it and when, until when, and, once ended early, when and by whom."""

    camera: str
    name: str
    snoozed_at: datetime
    until: datetime
    snoozed_by: str
    ended_at: datetime | None = None
    ended_by: str | None = None

    def active(self, at: datetime) -> bool:
        """Whether it holds back the camera's alerts at ``at``."""
        end = self.until if self.ended_at is None else min(self.until, self.ended_at)
        return self.snoozed_at <= at < end

    def until_text(self, site_time: SiteTime, now: datetime | None = None) -> str:
        """``alerts snoozed until 14:30`` in site time, with the date when it ends on
        another day of the site than ``now``'s (a snooze may last until tomorrow)."""
        same_day = now is None or site_time.day_of(self.until) == site_time.day_of(now)
        when = site_time.minutes(self.until) if same_day else site_time.full_minutes(self.until)
        return f"alerts snoozed until {when}"

    def as_json(self) -> dict[str, Any]:
        return {
            "camera": self.camera,
            "name": self.name,
            "snoozed_at": self.snoozed_at.isoformat(),
            "until": self.until.isoformat(),
            "snoozed_by": self.snoozed_by,
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "ended_by": self.ended_by,
        }


def _camera_id(session: Session, site_id: int, camera: str) -> int:
    camera_id = session.scalar(
        select(Camera.id).where(Camera.site_id == site_id, Camera.key == camera)
    )
    if camera_id is None:
        keys = session.scalars(
            select(Camera.key).where(Camera.site_id == site_id).order_by(Camera.key)
        ).all()
        raise SnoozeError(
            f"no camera {printable(camera)!r} on this site (cameras: {', '.join(keys) or 'none'})"
        )
    return int(camera_id)


def _active_at(at: datetime) -> ColumnElement[bool]:
    return and_(
        AlertSnooze.snoozed_at <= at,
        AlertSnooze.until > at,
        (AlertSnooze.ended_at.is_(None)) | (AlertSnooze.ended_at > at),
    )


def _active_row(session: Session, camera_id: int, at: datetime) -> AlertSnooze | None:
    return session.scalar(
        select(AlertSnooze)
        .where(AlertSnooze.camera_id == camera_id, _active_at(at))
        .order_by(AlertSnooze.id.desc())
        .limit(1)
    )


def _view(row: AlertSnooze, camera: str, name: str) -> SnoozeView:
    return SnoozeView(
        camera=camera,
        name=name,
        snoozed_at=row.snoozed_at,
        until=row.until,
        snoozed_by=row.snoozed_by,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SnoozeCamera(GuardedCommand, StoreCommand):
    """``actor`` (acknowledge permission) snoozes the alerts of camera ``camera`` (its
    key) of site ``site_id`` for ``minutes`` (1-1440) from ``at``, replacing a snooze of
    it still running. Audited as ``alert.snooze`` with the camera, the until-time and the
    replaced snooze's. Returns the :class:`SnoozeView`; :class:`SnoozeError` for bad
    minutes or an unknown camera."""

    permission: ClassVar[Permission] = Permission.ACKNOWLEDGE
    action: ClassVar[str] = "alert.snooze"

    site_id: int
    camera: str
    minutes: int
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"camera {self.camera}"

    def apply(self, session: Session) -> SnoozeView:
        minutes = snooze_minutes(self.minutes)
        camera_id = _camera_id(session, self.site_id, self.camera)
        replaced = _active_row(session, camera_id, self.at)
        if replaced is not None:
            replaced.ended_at, replaced.ended_by = self.at, self.actor.label
        row = AlertSnooze(
            camera_id=camera_id,
            snoozed_at=self.at,
            until=self.at + timedelta(minutes=minutes),
            snoozed_by=self.actor.label,
        )
        session.add(row)
        session.flush()
        audit_command(
            session,
            self,
            {
                "camera": self.camera,
                "minutes": minutes,
                "until": row.until.isoformat(),
                "replaced_until": None if replaced is None else replaced.until.isoformat(),
            },
        )
        name = session.scalar(select(Camera.name).where(Camera.id == camera_id)) or self.camera
        return _view(row, self.camera, name)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsnoozeCamera(GuardedCommand, StoreCommand):
    """``actor`` (acknowledge permission) ends the running snooze of camera ``camera`` of
    site ``site_id`` at ``at``. Audited as ``alert.unsnooze`` with the camera and the
    until-time it had. Returns the ended :class:`SnoozeView`; :class:`NotSnoozedError`
    when none runs, :class:`SnoozeError` for an unknown camera."""

    permission: ClassVar[Permission] = Permission.ACKNOWLEDGE
    action: ClassVar[str] = "alert.unsnooze"

    site_id: int
    camera: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"camera {self.camera}"

    def apply(self, session: Session) -> SnoozeView:
        camera_id = _camera_id(session, self.site_id, self.camera)
        row = _active_row(session, camera_id, self.at)
        if row is None:
            raise NotSnoozedError(f"camera {printable(self.camera)}'s alerts are not snoozed")
        row.ended_at, row.ended_by = self.at, self.actor.label
        session.flush()
        audit_command(
            session,
            self,
            {"camera": self.camera, "until": row.until.isoformat(), "snoozed_by": row.snoozed_by},
        )
        name = session.scalar(select(Camera.name).where(Camera.id == camera_id)) or self.camera
        return _view(row, self.camera, name)


def active_snoozes(store: Store, site_id: int, at: datetime) -> list[SnoozeView]:
    """The snoozes of site ``site_id`` running at ``at``, soonest to end first."""
    stmt = (
        select(AlertSnooze, Camera.key, Camera.name)
        .join(Camera, Camera.id == AlertSnooze.camera_id)
        .where(Camera.site_id == site_id, _active_at(at))
        .order_by(AlertSnooze.until, Camera.key)
    )
    with store.sessions() as session:
        return [_view(row, key, name) for row, key, name in session.execute(stmt).all()]


def snoozed_until(session: Session, camera_id: int | None, at: datetime) -> datetime | None:
    """Until when camera ``camera_id``'s alerts are snoozed at ``at`` (None: they are not,
    or no camera). For the sequence commands, in their transaction."""
    if camera_id is None:
        return None
    until: datetime | None = session.scalar(
        select(func.max(AlertSnooze.until)).where(
            AlertSnooze.camera_id == camera_id, _active_at(at)
        )
    )
    return until


def snoozed_sequence() -> ColumnElement[bool]:
    """SQL: the alert sequence's latest activity fell within a snooze of its camera (what
    the alert list hides)."""
    return exists(
        select(AlertSnooze.id).where(
            AlertSnooze.camera_id == AlertSequence.camera_id,
            AlertSnooze.snoozed_at <= AlertSequence.last_seen_at,
            AlertSnooze.until > AlertSequence.last_seen_at,
            (AlertSnooze.ended_at.is_(None)) | (AlertSnooze.ended_at > AlertSequence.last_seen_at),
        )
    )
