"""The low-risk filter and the alert list: exact pages of alerts with their passing sequences.

On a low-risk day, low-confidence sequences are hidden (shadows, reflections, animals and
cleaners make many of them): a sequence on a camera whose class that day is ``very_low``
needs ``max_conf`` ≥ 0.60, on a ``low`` camera ≥ 0.45 (inclusive); every other class, a
camera with no class, and a sequence whose confidence is unknown (NULL: a fall, a sensing
blob) are kept. The rule is one SQL condition, a per-camera ``CASE``::

    max_conf IS NULL OR max_conf >= CASE camera_id WHEN 3 THEN 0.45 WHEN 7 THEN 0.6 ELSE 0 END

so the database filters before ``LIMIT``/``OFFSET``: pages are full and exact and a count
equals the length of the list. An alert is listed when at least one of its sequences passes
(``EXISTS``), and shows only those. With no provider, or one that never answered, nothing
is hidden (fail open) and :class:`RiskGate` says so. An operator's override gives every
camera one class: ``moderate`` and above show everything, ``low`` previews a low day.

Pages are newest first by (raised_at, id). :class:`AlertListRequest` takes ``offset``
(exact at any depth, for the CLI) or a keyset cursor ``before`` (the last row of the
previous page: constant time at any depth, for the console's scrolling list).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from engine.alerts.records import (
    STATE_CLOSED,
    STATE_IN_PROGRESS,
    STATE_NEW,
    alert_confidences,
)
from engine.alerts.snoozes import snoozed_sequence
from engine.incidents.risk import normalise_risk_class
from engine.sitetime import UTC_TIME, SiteTime
from engine.store.alert_models import Alert, AlertDelivery, AlertSequence
from engine.store.database import Store
from engine.store.models import Camera
from engine.store.person_models import Person
from engine.vocabulary import RISK_CLASSES

# Minimum max_conf by daily class (Pyronear pyro-api PR #583: the thresholds that cut their
# false alerts on low fire-risk days without losing true ones).
MIN_CONFIDENCE: Final[Mapping[str, float]] = {"very_low": 0.60, "low": 0.45}
MAX_PAGE: Final = 10_000


def threshold_for(risk_class: str | None) -> float | None:
    """The minimum confidence a sequence needs on a camera of ``risk_class`` (None: no
    filter)."""
    return None if risk_class is None else MIN_CONFIDENCE.get(risk_class)


def passes(max_conf: float | None, risk_class: str | None) -> bool:
    """The filter for one sequence, as the SQL condition decides it (for notifications)."""
    threshold = threshold_for(risk_class)
    return threshold is None or max_conf is None or max_conf >= threshold


def parse_override(text: str | None) -> str | None:
    """An operator's override class ("Low", "very low") in canonical form; None for none.
    ``ValueError`` listing the valid classes for anything else."""
    if text is None or not str(text).strip():
        return None
    return normalise_risk_class(text)


@dataclass(frozen=True, slots=True)
class RiskGate:
    """What decides which sequences a list shows: each camera's class (by camera key) for
    the list's day, or None when no classes are known (fail open: nothing hidden); an
    operator's ``override`` (one class for every camera); and ``note``, a sentence saying
    where the classes come from (or why there are none), for the UI."""

    classes: Mapping[str, str] | None = None
    override: str | None = None
    note: str = ""

    @property
    def active(self) -> bool:
        """Whether anything can be hidden."""
        if self.override is not None:
            return self.override in MIN_CONFIDENCE
        return self.classes is not None and any(c in MIN_CONFIDENCE for c in self.classes.values())

    def class_of(self, camera_key: str | None) -> str | None:
        if camera_key is None:
            return None
        if self.override is not None:
            return self.override
        return None if self.classes is None else self.classes.get(camera_key)

    def describe(self) -> str:
        if self.override is not None:
            what = f"override: every camera treated as {self.override}" + (
                "" if self.override in MIN_CONFIDENCE else " (nothing hidden)"
            )
            return f"{what}; {self.note}" if self.note else what
        if self.classes is None:
            return self.note or "no risk classes: nothing is hidden"
        return self.note or f"risk classes of {len(self.classes)} cameras"

    def condition(
        self, session: Session, cameras: Mapping[int, str] | None = None
    ) -> ColumnElement[bool] | None:
        """The SQL condition a sequence must meet, or None when nothing is hidden.
        ``cameras``: every camera's key by id, when the caller has read them already."""
        if self.override is not None:
            threshold = MIN_CONFIDENCE.get(self.override)
            if threshold is None:
                return None
            return or_(
                AlertSequence.camera_id.is_(None),
                AlertSequence.max_conf.is_(None),
                AlertSequence.max_conf >= threshold,
            )
        if not self.classes:
            return None
        by_class = {k: MIN_CONFIDENCE[c] for k, c in self.classes.items() if c in MIN_CONFIDENCE}
        if not by_class:
            return None
        if cameras is None:
            cameras = camera_keys(session)
        thresholds = {
            camera_id: by_class[key] for camera_id, key in cameras.items() if key in by_class
        }
        if not thresholds:
            return None
        return or_(
            AlertSequence.max_conf.is_(None),
            AlertSequence.max_conf >= case(thresholds, value=AlertSequence.camera_id, else_=0.0),
        )


def camera_keys(session: Session) -> dict[int, str]:
    """Every camera's key by id (a site has tens of cameras: one small read)."""
    return {int(i): str(k) for i, k in session.execute(select(Camera.id, Camera.key)).all()}


@dataclass(frozen=True, slots=True)
class SequenceView:
    """One sequence of an alert as the list shows it."""

    sequence_id: int
    alert_id: int
    camera: str | None  # camera key, None for a sensing room
    source: str
    trigger: str
    track_id: int | None
    started_at: datetime
    last_seen_at: datetime
    detections: int
    max_conf: float | None
    risk_class: str | None  # the camera's class in the list's view
    snapshot: str | None
    label: str | None
    labelled_by: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence_id,
            "camera": self.camera,
            "source": self.source,
            "trigger": self.trigger,
            "track_id": self.track_id,
            "started_at": self.started_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "detections": self.detections,
            "max_conf": None if self.max_conf is None else round(self.max_conf, 4),
            "risk_class": self.risk_class,
            "snapshot": self.snapshot,
            "label": self.label,
            "labelled_by": self.labelled_by,
        }


def first_sequence(store: Store, alert_id: int) -> SequenceView | None:
    """The sequence that raised alert ``alert_id`` (its earliest; None: it has none, as a
    fall's alert), unfiltered. Caller's thread, its own session."""
    with store.sessions() as session:
        row = session.execute(
            select(*_SEQUENCE_COLUMNS, Camera.key.label("camera_key"))
            .outerjoin(Camera, Camera.id == AlertSequence.camera_id)
            .where(AlertSequence.alert_id == alert_id)
            .order_by(AlertSequence.started_at, AlertSequence.id)
            .limit(1)
        ).first()
    if row is None:
        return None
    return SequenceView(
        sequence_id=row.sequence_id,
        alert_id=alert_id,
        camera=row.camera_key,
        source=row.source,
        trigger=row.trigger,
        track_id=row.track_id,
        started_at=row.started_at,
        last_seen_at=row.last_seen_at,
        detections=row.detections,
        max_conf=row.max_conf,
        risk_class=None,
        snapshot=row.snapshot,
        label=row.label,
        labelled_by=row.labelled_by,
    )


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert of a list with the sequences that pass the filter (all of them when none is
    active)."""

    alert_id: int
    raised_at: datetime
    last_seen_at: datetime | None
    kind: str
    source: str
    severity: str
    title: str
    person: str | None
    event_id: int | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    deliveries_ok: int
    deliveries_failed: int
    sequences: tuple[SequenceView, ...]
    confidence: float | None = None  # over all its sequences (records.alert_confidences)
    taken_at: datetime | None = None
    taken_by: str | None = None

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def state(self) -> str:
        """``new``, ``in_progress`` or ``closed`` (as :attr:`AlertView.state`)."""
        if self.acknowledged_at is not None:
            return STATE_CLOSED
        return STATE_IN_PROGRESS if self.taken_at is not None else STATE_NEW

    @property
    def max_conf(self) -> float | None:
        """The alert's highest confidence over all its sequences, shown or hidden by the
        filter: what the Alerts pane and the CLI say of it too (one function,
        :func:`engine.alerts.records.alert_confidences`)."""
        return self.confidence

    @property
    def cameras(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.camera or s.source for s in self.sequences))

    @property
    def risk_class(self) -> str | None:
        """The lowest class among its sequences' cameras (what decided what is shown)."""
        classes = [s.risk_class for s in self.sequences if s.risk_class is not None]
        return min(classes, key=RISK_CLASSES.index) if classes else None

    @property
    def snapshot(self) -> str | None:
        best = max(
            (s for s in self.sequences if s.snapshot),
            key=lambda s: -1.0 if s.max_conf is None else s.max_conf,
            default=None,
        )
        return None if best is None else best.snapshot

    @property
    def cursor(self) -> tuple[datetime, int]:
        return self.raised_at, self.alert_id

    def as_json(self) -> dict[str, Any]:
        return {
            "alert": self.alert_id,
            "raised_at": self.raised_at.isoformat(),
            "last_seen_at": None if self.last_seen_at is None else self.last_seen_at.isoformat(),
            "kind": self.kind,
            "source": self.source,
            "severity": self.severity,
            "title": self.title,
            "person": self.person,
            "event_id": self.event_id,
            "cameras": list(self.cameras),
            "max_conf": None if self.max_conf is None else round(self.max_conf, 4),
            "risk_class": self.risk_class,
            "snapshot": self.snapshot,
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "escalated_at": _iso(self.escalated_at),
            "deliveries_ok": self.deliveries_ok,
            "deliveries_failed": self.deliveries_failed,
            "state": self.state,
            "taken_at": _iso(self.taken_at),
            "taken_by": self.taken_by,
            "sequences": [s.as_json() for s in self.sequences],
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class AlertListRequest:
    """A page of alerts, newest first: those raised on the site's calendar ``day`` in
    ``site_time`` (None: any day; from local midnight to the next, 23 or 25 hours when
    clocks change), only
    unacknowledged ones with ``open_only``; ``limit`` rows from ``offset``, or the rows
    after keyset cursor ``before`` (raised_at, id) of the previous page's last row. ``gate``
    decides which sequences show (see :class:`RiskGate`). ``with_counts`` also counts the
    alerts shown and hidden in the whole view (a second and third query)."""

    gate: RiskGate = field(default_factory=RiskGate)
    day: date | None = None
    open_only: bool = False
    limit: int = 50
    offset: int = 0
    before: tuple[datetime, int] | None = None
    with_counts: bool = False
    site_time: SiteTime = UTC_TIME

    def run(self, store: Store) -> AlertPage:
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValueError(f"limit must be 1-{MAX_PAGE}, got {self.limit}")
        if self.offset < 0:
            raise ValueError(f"offset must be 0 or more, got {self.offset}")
        with store.sessions() as session:
            return list_page(session, self)


@dataclass(frozen=True, slots=True)
class AlertPage:
    """One page: ``rows``; with counts, ``shown`` (alerts in the view that pass), ``hidden``
    (alerts in the view the low-risk filter hides) and ``snoozed`` (alerts the filter passes
    but a snooze of their camera hides); ``gate`` as applied."""

    rows: tuple[AlertRow, ...]
    gate: RiskGate
    offset: int
    shown: int | None = None
    hidden: int | None = None
    snoozed: int | None = None


def _scope(request: AlertListRequest) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if request.day is not None:
        start, end = request.site_time.day_bounds(request.day)
        where += [Alert.raised_at >= start, Alert.raised_at < end]
    if request.open_only:
        where.append(Alert.acknowledged_at.is_(None))
    return where


def shown_condition(gate: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """What a listed sequence must meet: the risk ``gate``'s condition (None: nothing
    hidden by it) and not snoozed: its latest activity fell outside every snooze of its
    camera (see :mod:`engine.alerts.snoozes`)."""
    awake = ~snoozed_sequence()
    return awake if gate is None else and_(gate, awake)


def _passing(condition: ColumnElement[bool] | None) -> ColumnElement[bool]:
    inner = AlertSequence.alert_id == Alert.id
    if condition is not None:
        inner = and_(inner, condition)
    return exists(select(AlertSequence.id).where(inner))


def list_page(session: Session, request: AlertListRequest) -> AlertPage:
    """See :class:`AlertListRequest` (runs on the caller's session). Two reads: the
    cameras, then one statement that picks the page of alert ids (the filter, the order,
    LIMIT and OFFSET or the cursor) and joins each to its passing sequences; the person and
    delivery counts are computed for the page's rows only, not for the rows OFFSET skips."""
    cameras = camera_keys(session)
    gate = request.gate.condition(session, cameras)
    condition = shown_condition(gate)
    where = [*_scope(request), _passing(condition)]
    if request.before is not None:
        at, alert_id = request.before
        # "<=" on its own first: the index range starts at the cursor (the OR alone made
        # SQLite scan the index from the newest row down to it).
        where += [Alert.raised_at <= at, or_(Alert.raised_at < at, Alert.id < alert_id)]
    picked = (
        select(Alert.id.label("id"), Alert.raised_at.label("raised_at"))
        .where(*where)
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
        .limit(request.limit)
    )
    if request.before is None and request.offset:
        picked = picked.offset(request.offset)
    page = picked.subquery("page")
    joined = AlertSequence.alert_id == page.c.id
    if condition is not None:
        joined = and_(joined, condition)
    stmt = (
        select(*_ALERT_COLUMNS, *_SEQUENCE_COLUMNS)
        .select_from(page)
        .join(Alert, Alert.id == page.c.id)
        .join(AlertSequence, joined)
        .order_by(
            page.c.raised_at.desc(),
            page.c.id.desc(),
            AlertSequence.started_at,
            AlertSequence.id,
        )
    )
    rows = _rows(session.execute(stmt).all(), request.gate, cameras)
    confidences = alert_confidences(session, [row.alert_id for row in rows])
    rows = [replace(row, confidence=confidences[row.alert_id]) for row in rows]
    counts = count_in(session, request, gate) if request.with_counts else None
    if counts is None:
        return AlertPage(tuple(rows), request.gate, request.offset)
    return AlertPage(tuple(rows), request.gate, request.offset, *counts)


def count_in(
    session: Session, request: AlertListRequest, gate: ColumnElement[bool] | None
) -> tuple[int, int, int]:
    """The request's view counted: (alerts shown, alerts the low-risk ``gate`` hides, alerts
    it passes that a snooze hides). An alert passes when one of its sequences does."""
    scope = _scope(request)

    def passing(condition: ColumnElement[bool] | None) -> int:
        counted = select(func.count()).select_from(Alert).where(*scope, _passing(condition))
        return int(session.scalar(counted) or 0)

    total = passing(None)
    gated = total if gate is None else passing(gate)
    shown = passing(shown_condition(gate))
    return shown, total - gated, gated - shown


def hidden_text(hidden: int, snoozed: int) -> str:
    """What hid a view's other alerts: "3 hidden by the low-risk filter", and ", 2 snoozed"
    when a snooze of their camera hid some (the filter did not)."""
    text = f"{hidden} hidden by the low-risk filter"
    return f"{text}, {snoozed} snoozed" if snoozed else text


@dataclass(frozen=True, slots=True)
class AlertCountRequest:
    """How many alerts :class:`AlertListRequest` with the same view would list in all:
    (shown, hidden by the low-risk filter, snoozed)."""

    gate: RiskGate = field(default_factory=RiskGate)
    day: date | None = None
    open_only: bool = False
    site_time: SiteTime = UTC_TIME

    def run(self, store: Store) -> tuple[int, int, int]:
        listing = AlertListRequest(
            gate=self.gate, day=self.day, open_only=self.open_only, site_time=self.site_time
        )
        with store.sessions() as session:
            return count_in(session, listing, self.gate.condition(session))


_DELIVERED = (
    select(func.count())
    .where(AlertDelivery.alert_id == Alert.id, AlertDelivery.delivered.is_(True))
    .correlate(Alert)
    .scalar_subquery()
    .label("deliveries_ok")
)
_FAILED = (
    select(func.count())
    .where(AlertDelivery.alert_id == Alert.id, AlertDelivery.delivered.is_(False))
    .correlate(Alert)
    .scalar_subquery()
    .label("deliveries_failed")
)
_PERSON = (
    select(Person.public_id)
    .where(Person.id == Alert.person_id)
    .correlate(Alert)
    .scalar_subquery()
    .label("person")
)
# Selected for the page's rows only (after LIMIT): the person's public id and how the
# webhook deliveries went, so a page is two reads (cameras; alerts with their sequences).
_ALERT_COLUMNS = (
    _PERSON,
    _DELIVERED,
    _FAILED,
    Alert.id.label("alert_id"),
    Alert.raised_at.label("alert_raised_at"),
    Alert.last_seen_at.label("alert_last_seen_at"),
    Alert.kind,
    Alert.source.label("alert_source"),
    Alert.severity,
    Alert.title,
    Alert.event_id,
    Alert.acknowledged_at,
    Alert.acknowledged_by,
    Alert.escalated_at,
    Alert.taken_at,
    Alert.taken_by,
)
_SEQUENCE_COLUMNS = (
    AlertSequence.id.label("sequence_id"),
    AlertSequence.camera_id,
    AlertSequence.source,
    AlertSequence.trigger,
    AlertSequence.track_id,
    AlertSequence.started_at,
    AlertSequence.last_seen_at,
    AlertSequence.detections,
    AlertSequence.max_conf,
    AlertSequence.snapshot,
    AlertSequence.label,
    AlertSequence.labelled_by,
)


def _rows(rows: Sequence[Any], gate: RiskGate, cameras: Mapping[int, str]) -> list[AlertRow]:
    """Alert rows from the page's joined rows (one per passing sequence, grouped by alert in
    page order): plain rows rather than ORM objects (a page of 50 alerts is ~250 rows; ORM
    identity bookkeeping was half the page's time)."""
    out: list[AlertRow] = []
    sequences: list[SequenceView] = []
    current: Any = None

    def close() -> None:
        a = current
        out.append(
            AlertRow(
                alert_id=a.alert_id,
                raised_at=a.alert_raised_at,
                last_seen_at=a.alert_last_seen_at,
                kind=a.kind,
                source=a.alert_source,
                severity=a.severity,
                title=a.title,
                person=a.person,
                event_id=a.event_id,
                acknowledged_at=a.acknowledged_at,
                acknowledged_by=a.acknowledged_by,
                escalated_at=a.escalated_at,
                deliveries_ok=int(a.deliveries_ok or 0),
                deliveries_failed=int(a.deliveries_failed or 0),
                sequences=tuple(sequences),
                taken_at=a.taken_at,
                taken_by=a.taken_by,
            )
        )

    for r in rows:
        if current is None or r.alert_id != current.alert_id:
            if current is not None:
                close()
            current, sequences = r, []
        key = cameras.get(r.camera_id) if r.camera_id is not None else None
        sequences.append(
            SequenceView(
                sequence_id=r.sequence_id,
                alert_id=r.alert_id,
                camera=key,
                source=r.source,
                trigger=r.trigger,
                track_id=r.track_id,
                started_at=r.started_at,
                last_seen_at=r.last_seen_at,
                detections=r.detections,
                max_conf=r.max_conf,
                risk_class=gate.class_of(key),
                snapshot=r.snapshot,
                label=r.label,
                labelled_by=r.labelled_by,
            )
        )
    if current is not None:
        close()
    return out
