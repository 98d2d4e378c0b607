"""Alerts in the store: raise, acknowledge, escalate, record a webhook delivery, list.

Every change is a store command run by the store writer: the engine raises and escalates
alerts (plain commands), a person acknowledges one (:class:`AcknowledgeAlert`, a guarded
command needing the acknowledge permission, audited as ``alert.acknowledge``). Reads are plain
queries for the console's query service and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.alerts.snoozes import snoozed_sequence
from engine.store.alert_models import Alert, AlertDelivery, AlertSequence
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Event
from engine.store.person_models import Person


class UnknownAlertError(LookupError):
    """No alert has that id."""


@dataclass(frozen=True, slots=True)
class AlertView:
    """One alert as a list shows it: what (kind, title, severity, source, detail), when it was
    raised, who it concerns (a person's public id, if known), the event that caused it,
    whether and by whom it was acknowledged, when it was escalated, and its webhook
    deliveries so far (delivered / failed)."""

    alert_id: int
    raised_at: datetime
    kind: str
    source: str
    severity: str
    title: str
    detail: dict[str, Any]
    person: str | None
    event_id: int | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    deliveries_ok: int = 0
    deliveries_failed: int = 0

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None

    def as_json(self) -> dict[str, Any]:
        return {
            "alert": self.alert_id,
            "raised_at": self.raised_at.isoformat(),
            "kind": self.kind,
            "source": self.source,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "person": self.person,
            "event_id": self.event_id,
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "escalated_at": _iso(self.escalated_at),
            "deliveries_ok": self.deliveries_ok,
            "deliveries_failed": self.deliveries_failed,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def alert_view(session: Session, alert: Alert) -> AlertView:
    """The :class:`AlertView` of a stored alert (its person and delivery counts read)."""
    person = (
        session.scalar(select(Person.public_id).where(Person.id == alert.person_id))
        if alert.person_id is not None
        else None
    )
    outcomes = session.scalars(
        select(AlertDelivery.delivered).where(AlertDelivery.alert_id == alert.id)
    ).all()
    return AlertView(
        alert_id=alert.id,
        raised_at=alert.raised_at,
        kind=alert.kind,
        source=alert.source,
        severity=alert.severity,
        title=alert.title,
        detail=dict(alert.detail),
        person=person,
        event_id=alert.event_id,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
        escalated_at=alert.escalated_at,
        deliveries_ok=sum(1 for ok in outcomes if ok),
        deliveries_failed=sum(1 for ok in outcomes if not ok),
    )


def _alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise UnknownAlertError(f"no alert {alert_id}")
    return alert


@dataclass(frozen=True, slots=True, kw_only=True)
class RaiseAlert(StoreCommand):
    """Store a new alert raised at ``raised_at`` because of the latest stored event of
    ``event_kind`` from ``source`` about ``track_id`` (linked when the writer has stored it:
    it is queued first); ``person`` is a public id. Returns the :class:`AlertView`."""

    raised_at: datetime
    kind: str
    source: str
    severity: str
    title: str
    detail: dict[str, Any]
    event_kind: str | None = None
    track_id: int | None = None
    person: str | None = None

    def apply(self, session: Session) -> AlertView:
        event_id = site_id = None
        if self.event_kind is not None:
            row = session.execute(
                select(Event.id, Event.site_id)
                .where(
                    Event.kind == self.event_kind,
                    Event.source == self.source,
                    Event.track_id == self.track_id,
                )
                .order_by(Event.id.desc())
                .limit(1)
            ).first()
            if row is not None:
                event_id, site_id = int(row.id), row.site_id
        person_id = (
            session.scalar(select(Person.id).where(Person.public_id == self.person))
            if self.person
            else None
        )
        alert_id = session.execute(
            insert(Alert).returning(Alert.id),
            [
                {
                    "raised_at": self.raised_at,
                    "kind": self.kind,
                    "source": self.source,
                    "severity": self.severity,
                    "title": self.title[:300],
                    "site_id": site_id,
                    "event_id": event_id,
                    "person_id": person_id,
                    "detail": self.detail,
                    "last_seen_at": self.raised_at,
                }
            ],
        ).scalar_one()
        # An alert of one sequence whose confidence is unknown: the risk-class filter,
        # which looks at sequences, never hides it.
        session.execute(
            insert(AlertSequence),
            [
                {
                    "seq_key": f"alert-{alert_id}",
                    "alert_id": alert_id,
                    "source": self.source,
                    "trigger": self.kind[:16],
                    "track_id": self.track_id,
                    "started_at": self.raised_at,
                    "last_seen_at": self.raised_at,
                    "detections": 1,
                }
            ],
        )
        return alert_view(session, _alert(session, int(alert_id)))


@dataclass(frozen=True, slots=True)
class RaisedOnce:
    """What :class:`RaiseAlertOnce` did: ``new`` is False when ``alert`` was already open."""

    alert: AlertView
    new: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RaiseAlertOnce(RaiseAlert):
    """:class:`RaiseAlert` for a condition that lasts (a camera down): when an open alert of
    the same kind from the same source is stored, raised by another engine of the site or by
    an earlier run, it is the same condition and is returned instead of a second one. Checked
    and inserted in one transaction. Returns :class:`RaisedOnce`."""

    def apply(self, session: Session) -> RaisedOnce:  # type: ignore[override]
        open_id = session.scalar(
            select(Alert.id)
            .where(
                Alert.kind == self.kind,
                Alert.source == self.source,
                Alert.acknowledged_at.is_(None),
            )
            .order_by(Alert.id.desc())
            .limit(1)
        )
        if open_id is not None:
            return RaisedOnce(alert_view(session, _alert(session, int(open_id))), new=False)
        return RaisedOnce(RaiseAlert.apply(self, session), new=True)


MAX_NOTE_CHARS = 500  # an acknowledgement's note: a sentence or two


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgeAlert(GuardedCommand, StoreCommand):
    """``actor`` acknowledges alert ``alert_id`` at ``at``: who and when are stored (the
    first acknowledgement counts; a later one changes nothing). Needs the acknowledge
    permission; audited. Returns the :class:`AlertView`; :class:`UnknownAlertError` for an
    unknown id."""

    permission: ClassVar[Permission] = Permission.ACKNOWLEDGE
    action: ClassVar[str] = "alert.acknowledge"

    alert_id: int
    at: datetime
    actor: Actor
    note: str = ""  # the operator's words (what they saw, what they did), in the audit trail

    def __post_init__(self) -> None:
        if len(self.note) > MAX_NOTE_CHARS:
            raise ValueError(f"note: at most {MAX_NOTE_CHARS} characters, got {len(self.note)}")

    def audit_target(self) -> str:
        return f"alert:{self.alert_id}"

    def apply(self, session: Session) -> AlertView:
        alert = _alert(session, self.alert_id)
        if alert.acknowledged_at is None:
            alert.acknowledged_at = self.at
            alert.acknowledged_by = self.actor.label
            detail = {"kind": alert.kind, "title": alert.title}
            if self.note.strip():
                detail["note"] = self.note.strip()
            audit_command(session, self, detail)
            session.flush()
        return alert_view(session, alert)


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalateAlert(StoreCommand):
    """Mark alert ``alert_id`` escalated at ``at`` unless it has been acknowledged or
    escalated already; returns the :class:`AlertView` when it escalated it, else None."""

    alert_id: int
    at: datetime

    def apply(self, session: Session) -> AlertView | None:
        alert = _alert(session, self.alert_id)
        if alert.acknowledged_at is not None or alert.escalated_at is not None:
            return None
        alert.escalated_at = self.at
        session.flush()
        return alert_view(session, alert)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDelivery(StoreCommand):
    """The outcome of one webhook delivery of alert ``alert_id`` (its escalation when
    ``escalation``); ``url`` masked."""

    alert_id: int
    escalation: bool
    url: str
    attempts: int
    delivered: bool
    status_code: int | None
    error: str | None
    started_at: datetime
    finished_at: datetime

    def apply(self, session: Session) -> None:
        if session.get(Alert, self.alert_id) is None:
            return  # deleted meanwhile (retention): nothing to attach the outcome to
        session.add(
            AlertDelivery(
                alert_id=self.alert_id,
                escalation=self.escalation,
                url=self.url[:500],
                attempts=self.attempts,
                delivered=self.delivered,
                status_code=self.status_code,
                error=None if self.error is None else self.error[:500],
                started_at=self.started_at,
                finished_at=self.finished_at,
            )
        )


def list_alerts(
    store: Store, *, open_only: bool = False, limit: int = 100, awake_only: bool = False
) -> list[AlertView]:
    """The newest alerts first (only unacknowledged ones with ``open_only``; with
    ``awake_only`` not those a snooze keeps quiet: every sequence of theirs snoozed, as the
    alert service never notified them)."""
    stmt = select(Alert).order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(Alert.acknowledged_at.is_(None))
    if awake_only:
        of_alert = AlertSequence.alert_id == Alert.id
        stmt = stmt.where(
            ~exists(select(AlertSequence.id).where(of_alert))
            | exists(select(AlertSequence.id).where(of_alert, ~snoozed_sequence()))
        )
    with store.sessions() as session:
        return [alert_view(session, alert) for alert in session.scalars(stmt).all()]


def alerts_by_id(store: Store, ids: list[int]) -> list[AlertView]:
    """The alerts with these ids, newest first (unknown ids are left out)."""
    if not ids:
        return []
    stmt = select(Alert).where(Alert.id.in_(ids)).order_by(Alert.raised_at.desc(), Alert.id.desc())
    with store.sessions() as session:
        return [alert_view(session, alert) for alert in session.scalars(stmt).all()]


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One stored webhook delivery of an alert."""

    escalation: bool
    url: str
    attempts: int
    delivered: bool
    status_code: int | None
    error: str | None
    started_at: datetime
    finished_at: datetime


def deliveries_of(store: Store, alert_id: int) -> list[DeliveryView]:
    """The webhook deliveries of alert ``alert_id``, oldest first."""
    with store.sessions() as session:
        rows = session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.alert_id == alert_id)
            .order_by(AlertDelivery.id)
        ).all()
        return [
            DeliveryView(
                r.escalation,
                r.url,
                r.attempts,
                r.delivered,
                r.status_code,
                r.error,
                r.started_at,
                r.finished_at,
            )
            for r in rows
        ]
