"""Alerts in the store: raise, take, note, close, escalate, record a webhook delivery, list.

An alert is in one of three states, as in a control room's alarm manager: **new** (nobody has
it yet), **in progress** (an operator took it: :class:`TakeAlert`, who and when) and
**closed** (:class:`AcknowledgeAlert`: who, when and a closing comment, which the alert's rule
may require). Closing is what acknowledging was: the command keeps its name and its audit
action (``alert.acknowledge``), the engine's own acknowledgements (a camera back online, a
recording written again) are closings with their notes, and ``acknowledged_at``/``_by`` are
the closing's who and when. Escalation (nobody took or closed it in time) is a flag beside
the state. Every step a person takes is kept in the alert's history (:class:`AlertNoteView`),
with notes written on the way (:class:`NoteAlert`).

Every change is a store command run by the store writer: the engine raises and escalates
alerts (plain commands), a person takes, notes or closes one (guarded commands needing the
acknowledge permission, audited). Reads are plain queries for the console's query service and
the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.alerts.snoozes import snoozed_sequence
from engine.store.alert_models import Alert, AlertDelivery, AlertNote, AlertRule, AlertSequence
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Camera, Event
from engine.store.person_models import Person
from engine.wording import display_actor


class UnknownAlertError(LookupError):
    """No alert has that id."""


class AlertStateError(ValueError):
    """The alert cannot be changed so (closed already, a comment missing); the message says
    why in words an operator reads."""


STATE_NEW: Final = "new"
STATE_IN_PROGRESS: Final = "in_progress"
STATE_CLOSED: Final = "closed"
STATE_WORDS: Final = {STATE_NEW: "New", STATE_IN_PROGRESS: "In progress", STATE_CLOSED: "Closed"}
SEVERITY_RANK: Final = {"critical": 0, "warning": 1, "info": 2}  # most urgent first


@dataclass(frozen=True, slots=True)
class AlertNoteView:
    """One entry of an alert's history: at ``at`` (UTC), ``author`` (an actor's label)
    ``kind`` (``took``, ``note``, ``closed``, ``escalated``) with ``text`` (a note, a closing
    comment, the incident it was escalated to; may be empty)."""

    at: datetime
    author: str
    kind: str
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "by": self.author, "kind": self.kind, "text": self.text}


@dataclass(frozen=True, slots=True)
class AlertView:
    """One alert as a list shows it: what (kind, title, severity, source, detail), when it was
    raised, who it concerns (a person's public id, if known), the event that caused it,
    who took it and when (in progress), who closed it and when (``acknowledged_*``: closing
    is what acknowledging was), when it was escalated, and its webhook deliveries so far
    (delivered / failed). Read from the store it also carries its highest confidence over
    all its sequences (:func:`alert_confidences`; None: unknown, e.g. a fall), the cameras
    of its sequences (keys), its history (notes, oldest first), its rules' operating
    instructions, and whether one of its rules requires a comment to close it."""

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
    taken_at: datetime | None = None
    taken_by: str | None = None
    max_conf: float | None = None
    cameras: tuple[str, ...] = ()
    notes: tuple[AlertNoteView, ...] = ()
    instructions: tuple[str, ...] = ()
    comment_required: bool = False

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def state(self) -> str:
        """``new``, ``in_progress`` (someone took it) or ``closed``."""
        if self.acknowledged_at is not None:
            return STATE_CLOSED
        return STATE_IN_PROGRESS if self.taken_at is not None else STATE_NEW

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
            "state": self.state,
            "taken_at": _iso(self.taken_at),
            "taken_by": self.taken_by,
            "max_conf": None if self.max_conf is None else round(self.max_conf, 4),
            "cameras": list(self.cameras),
            "notes": [n.as_json() for n in self.notes],
            "instructions": list(self.instructions),
            "comment_required": self.comment_required,
        }


def priority_key(alert: AlertView) -> tuple[int, int, float, int]:
    """How an operator works through alerts: open ones first, the most severe first, then the
    newest; closed ones after, the newest first. Sort ascending by this key."""
    raised = alert.raised_at if alert.raised_at.tzinfo else alert.raised_at.replace(tzinfo=UTC)
    severity = SEVERITY_RANK.get(alert.severity, len(SEVERITY_RANK)) if alert.open else 0
    return (0 if alert.open else 1, severity, -raised.timestamp(), -alert.alert_id)


def alert_confidences(session: Session, alert_ids: Sequence[int]) -> dict[int, float | None]:
    """The highest confidence of each alert: the largest ``max_conf`` over *all* its
    sequences (None where none is known, as a fall's). One rule for every pane and the CLI:
    the low-risk filter hides sequences from a list but does not change what the detector
    saw, so an alert's confidence never depends on the view it is read in."""
    if not alert_ids:
        return {}
    rows = session.execute(
        select(AlertSequence.alert_id, func.max(AlertSequence.max_conf))
        .where(AlertSequence.alert_id.in_(list(alert_ids)))
        .group_by(AlertSequence.alert_id)
    ).all()
    found = {int(a): (None if m is None else float(m)) for a, m in rows}
    return {alert_id: found.get(alert_id) for alert_id in alert_ids}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def alert_view(session: Session, alert: Alert) -> AlertView:
    """The :class:`AlertView` of a stored alert (its person, deliveries, confidence,
    handling and history read)."""
    return alert_views(session, [alert])[0]


def alert_views(session: Session, alerts: Sequence[Alert]) -> list[AlertView]:
    """The :class:`AlertView` of each stored alert, in order: five reads for all of them
    (persons, deliveries, confidences, handling, histories), not five per alert."""
    ids = [alert.id for alert in alerts]
    if not ids:
        return []
    person_ids = {a.person_id for a in alerts if a.person_id is not None}
    persons: dict[int, str] = {}
    if person_ids:
        for person_id, public_id in session.execute(
            select(Person.id, Person.public_id).where(Person.id.in_(person_ids))
        ).all():
            persons[int(person_id)] = str(public_id)
    delivered: dict[int, list[bool]] = {}
    for alert_id, ok in session.execute(
        select(AlertDelivery.alert_id, AlertDelivery.delivered).where(
            AlertDelivery.alert_id.in_(ids)
        )
    ).all():
        delivered.setdefault(int(alert_id), []).append(bool(ok))
    confidences = alert_confidences(session, ids)
    handling = _handlings(session, ids)
    notes = _notes(session, ids)
    none = _Handling((), (), False, ())
    views = []
    for alert in alerts:
        outcomes = delivered.get(alert.id, [])
        handled = handling.get(alert.id, none)
        views.append(
            AlertView(
                alert_id=alert.id,
                raised_at=alert.raised_at,
                kind=alert.kind,
                source=alert.source,
                severity=alert.severity,
                title=alert.title,
                detail=dict(alert.detail),
                person=persons.get(alert.person_id) if alert.person_id is not None else None,
                event_id=alert.event_id,
                acknowledged_at=alert.acknowledged_at,
                acknowledged_by=alert.acknowledged_by,
                escalated_at=alert.escalated_at,
                deliveries_ok=sum(1 for ok in outcomes if ok),
                deliveries_failed=sum(1 for ok in outcomes if not ok),
                taken_at=alert.taken_at,
                taken_by=alert.taken_by,
                max_conf=confidences[alert.id],
                cameras=handled.cameras,
                notes=notes.get(alert.id, ()),
                instructions=handled.instructions,
                comment_required=handled.comment_required,
            )
        )
    return views


@dataclass(frozen=True, slots=True)
class _Handling:
    cameras: tuple[str, ...]
    instructions: tuple[str, ...]
    comment_required: bool
    rules: tuple[str, ...]


def _handling(session: Session, alert_id: int) -> _Handling:
    return _handlings(session, [alert_id]).get(alert_id, _Handling((), (), False, ()))


def _handlings(session: Session, alert_ids: Sequence[int]) -> dict[int, _Handling]:
    """What the rules of each alert's sequences say of handling it: their operating
    instructions (each once, in the order its sequences started), whether one requires a
    comment to close, their names; and the cameras of its sequences (keys)."""
    rows = session.execute(
        select(
            AlertSequence.alert_id,
            Camera.key,
            AlertRule.name,
            AlertRule.instructions,
            AlertRule.comment_required,
        )
        .select_from(AlertSequence)
        .outerjoin(Camera, Camera.id == AlertSequence.camera_id)
        .outerjoin(AlertRule, AlertRule.id == AlertSequence.rule_id)
        .where(AlertSequence.alert_id.in_(list(alert_ids)))
        .order_by(AlertSequence.alert_id, AlertSequence.started_at, AlertSequence.id)
    ).all()
    by_alert: dict[int, list[Any]] = {}
    for row in rows:
        by_alert.setdefault(int(row.alert_id), []).append(row)
    out = {}
    for alert_id, of_alert in by_alert.items():
        cameras = tuple(dict.fromkeys(str(r.key) for r in of_alert if r.key is not None))
        texts = (str(r.instructions).strip() for r in of_alert if r.instructions)
        instructions = tuple(dict.fromkeys(t for t in texts if t))
        requiring = tuple(dict.fromkeys(str(r.name) for r in of_alert if r.comment_required))
        out[alert_id] = _Handling(cameras, instructions, bool(requiring), requiring)
    return out


def notes_of(session: Session, alert_id: int) -> tuple[AlertNoteView, ...]:
    """Alert ``alert_id``'s history, oldest first."""
    return _notes(session, [alert_id]).get(alert_id, ())


def _notes(session: Session, alert_ids: Sequence[int]) -> dict[int, tuple[AlertNoteView, ...]]:
    rows = session.scalars(
        select(AlertNote)
        .where(AlertNote.alert_id.in_(list(alert_ids)))
        .order_by(AlertNote.alert_id, AlertNote.at, AlertNote.id)
    ).all()
    out: dict[int, list[AlertNoteView]] = {}
    for r in rows:
        out.setdefault(int(r.alert_id), []).append(AlertNoteView(r.at, r.author, r.kind, r.text))
    return {alert_id: tuple(notes) for alert_id, notes in out.items()}


def _add_note(
    session: Session, alert_id: int, at: datetime, actor: Actor, kind: str, text: str
) -> None:
    session.add(AlertNote(alert_id=alert_id, at=at, author=actor.label[:200], kind=kind, text=text))


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


MAX_NOTE_CHARS = 500  # a note or a closing comment: a sentence or two


def _checked_text(text: str, what: str) -> None:
    if len(text) > MAX_NOTE_CHARS:
        raise ValueError(f"{what}: at most {MAX_NOTE_CHARS} characters, got {len(text)}")


def _closed_text(alert: Alert) -> str:
    who = display_actor(alert.acknowledged_by) if alert.acknowledged_by else "someone"
    return f"alert {alert.id}: {who} closed it already"


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeAlert(GuardedCommand, StoreCommand):
    """``actor`` takes alert ``alert_id`` at ``at``: it is in progress, theirs (who and when
    stored; taking one another person has takes it over, and the history says from whom). A
    taken alert no longer escalates. Refused (:class:`AlertStateError`) for a closed alert.
    Needs the acknowledge permission; audited as ``alert.take``. Returns the
    :class:`AlertView`."""

    permission: ClassVar[Permission] = Permission.ACKNOWLEDGE
    action: ClassVar[str] = "alert.take"

    alert_id: int
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"alert:{self.alert_id}"

    def apply(self, session: Session) -> AlertView:
        alert = _alert(session, self.alert_id)
        if alert.acknowledged_at is not None:
            raise AlertStateError(f"Cannot take {_closed_text(alert)}.")
        if alert.taken_by == self.actor.label:
            return alert_view(session, alert)  # theirs already: nothing changes
        previous = alert.taken_by
        alert.taken_at = self.at
        alert.taken_by = self.actor.label
        text = f"from {display_actor(previous)}" if previous else ""
        _add_note(session, alert.id, self.at, self.actor, "took", text)
        audit_command(session, self, {"kind": alert.kind, "title": alert.title, "from": previous})
        session.flush()
        return alert_view(session, alert)


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteAlert(GuardedCommand, StoreCommand):
    """``actor`` writes ``text`` (1-500 characters) on alert ``alert_id`` at ``at``, in any
    state (a closed alert may get a late note): kept in its history. Needs the acknowledge
    permission; audited as ``alert.note``. Returns the :class:`AlertView`."""

    permission: ClassVar[Permission] = Permission.ACKNOWLEDGE
    action: ClassVar[str] = "alert.note"

    alert_id: int
    at: datetime
    actor: Actor
    text: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("note: write something (what you saw, what you did)")
        _checked_text(self.text.strip(), "note")

    def audit_target(self) -> str:
        return f"alert:{self.alert_id}"

    def apply(self, session: Session) -> AlertView:
        alert = _alert(session, self.alert_id)
        _add_note(session, alert.id, self.at, self.actor, "note", self.text.strip())
        audit_command(session, self, {"kind": alert.kind, "note": self.text.strip()})
        session.flush()
        return alert_view(session, alert)


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgeAlert(GuardedCommand, StoreCommand):
    """``actor`` closes alert ``alert_id`` at ``at`` with their ``note`` (the closing
    comment): who and when are stored and the comment goes into its history (the first
    closing counts; a later one changes nothing). Where a rule of the alert requires a
    comment to close, an empty one is refused (:class:`AlertStateError`, saying which rule).
    Needs the acknowledge permission; audited as ``alert.acknowledge`` (closing is what
    acknowledging was; the engine closes a camera's or a recording's alert with a note when
    it works again). Returns the :class:`AlertView`; :class:`UnknownAlertError` for an
    unknown id."""

    permission: ClassVar[Permission] = Permission.ACKNOWLEDGE
    action: ClassVar[str] = "alert.acknowledge"

    alert_id: int
    at: datetime
    actor: Actor
    note: str = ""  # the closing comment: what they saw, what they did

    def __post_init__(self) -> None:
        _checked_text(self.note, "note")

    def audit_target(self) -> str:
        return f"alert:{self.alert_id}"

    def apply(self, session: Session) -> AlertView:
        alert = _alert(session, self.alert_id)
        if alert.acknowledged_at is None:
            comment = self.note.strip()
            if not comment:
                rules = _handling(session, alert.id).rules
                if rules:
                    raise AlertStateError(
                        f"Alert {alert.id} needs a closing comment: its rule "
                        f"{', '.join(repr(r) for r in rules)} asks for one. Say what you found "
                        "and what you did, then close it."
                    )
            alert.acknowledged_at = self.at
            alert.acknowledged_by = self.actor.label
            detail = {"kind": alert.kind, "title": alert.title}
            if comment:
                detail["note"] = comment
            _add_note(session, alert.id, self.at, self.actor, "closed", comment)
            audit_command(session, self, detail)
            session.flush()
        return alert_view(session, alert)


CloseAlert = AcknowledgeAlert  # the name the states use; acknowledging is closing


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordEscalation(GuardedCommand, StoreCommand):
    """Alert ``alert_id`` was escalated to incident ``incident_id`` by ``actor`` at ``at``:
    kept in its history (the report itself is filed by the incident desk). Needs the
    file-report permission; audited as ``alert.escalate``."""

    permission: ClassVar[Permission] = Permission.FILE_REPORT
    action: ClassVar[str] = "alert.escalate"

    alert_id: int
    at: datetime
    actor: Actor
    incident_id: int

    def audit_target(self) -> str:
        return f"alert:{self.alert_id}"

    def apply(self, session: Session) -> AlertView:
        alert = _alert(session, self.alert_id)
        _add_note(
            session, alert.id, self.at, self.actor, "escalated", f"incident {self.incident_id}"
        )
        audit_command(session, self, {"incident": self.incident_id})
        session.flush()
        return alert_view(session, alert)


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalateAlert(StoreCommand):
    """Mark alert ``alert_id`` escalated at ``at`` unless someone took or closed it, or it
    was escalated already; returns the :class:`AlertView` when it escalated it, else None."""

    alert_id: int
    at: datetime

    def apply(self, session: Session) -> AlertView | None:
        alert = _alert(session, self.alert_id)
        if (
            alert.acknowledged_at is not None
            or alert.taken_at is not None
            or alert.escalated_at is not None
        ):
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
        return alert_views(session, session.scalars(stmt).all())


def alerts_by_id(store: Store, ids: list[int]) -> list[AlertView]:
    """The alerts with these ids, newest first (unknown ids are left out)."""
    if not ids:
        return []
    stmt = select(Alert).where(Alert.id.in_(ids)).order_by(Alert.raised_at.desc(), Alert.id.desc())
    with store.sessions() as session:
        return alert_views(session, session.scalars(stmt).all())


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


ALERT_EVENT_SLACK_S: Final = 60.0  # an event this long before an alert's sequence belongs to it


def alert_event_id(store: Store, alert_id: int) -> int | None:
    """The stored event an alert stands for, to file it as an incident: its own event, else
    the latest event of its first sequence's track (or, for a sequence of no track, the
    latest on its camera or room) from a minute before the sequence to its end; None when no
    event is stored (the report is then filed at its place without one)."""
    with store.sessions() as session:
        alert = _alert(session, alert_id)
        if alert.event_id is not None:
            return int(alert.event_id)
        first = session.execute(
            select(
                AlertSequence.source,
                AlertSequence.track_id,
                AlertSequence.started_at,
                AlertSequence.last_seen_at,
            )
            .where(AlertSequence.alert_id == alert_id)
            .order_by(AlertSequence.started_at, AlertSequence.id)
            .limit(1)
        ).first()
        if first is None:
            return None
        stmt = select(Event.id).where(
            Event.source == first.source,
            Event.ts >= first.started_at - timedelta(seconds=ALERT_EVENT_SLACK_S),
            Event.ts <= first.last_seen_at,
        )
        if first.track_id is not None:
            stmt = stmt.where(Event.track_id == first.track_id)
        found = session.scalar(stmt.order_by(Event.ts.desc(), Event.id.desc()).limit(1))
        return None if found is None else int(found)
