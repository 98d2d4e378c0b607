"""Incidents in the store: file reports (correlated into incidents as they are stored),
validate or correct a category, un-merge a report, re-classify reports the LLM missed, list.

Every change is a store command run by the store writer. Filing is one command for a whole
batch (:class:`FileReports`: one report from the form or the CLI, or every row of an imported
file), so a batch is stored whole or not at all, and each report is correlated with what is
stored before it, earlier reports of its own batch included:

1. **Candidates** are the stored reports within ``window_s`` of its time and inside the
   latitude/longitude box around its place (one range scan of
   ``ix_incident_reports_at_lat_lon``: time first, then the box read from the index itself),
2. then within ``distance_m`` by exact great-circle distance,
3. and, when both carry media with a signature, only if they look alike
   (:func:`engine.incidents.media.similarity` ≥ ``media_similarity``).

The nearest candidate's incident (then the closest in time) takes the report; with none, the
report opens a new incident, which raises the risk of the cells around it
(:mod:`engine.incidents.risk`) in the same transaction. An incident's figures are always
recomputed from its reports: report and reporter counts, first place and time, and the
category by consensus (:func:`consensus`) unless an operator validated or corrected it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Table, and_, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.incidents.classify import Classification
from engine.incidents.geo import bounding_box, great_circle_m
from engine.incidents.reports import ReportInput
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.incident_models import (
    Incident,
    IncidentLabel,
    IncidentMedia,
    IncidentReport,
    RiskCell,
)
from engine.vocabulary import INCIDENT_CATEGORIES

DEFAULT_WINDOW_S = 300.0
"""Reports of one event arrive within minutes of each other (the issue's 5 min)."""
DEFAULT_DISTANCE_M = 50.0
"""Reporters of one event stand within a street's width of each other (the issue's 50 m);
phone positions outdoors are good to about 5–20 m."""
DEFAULT_MEDIA_SIMILARITY = 0.70
"""Two reports' media must look at least this alike to be one event (see
:mod:`engine.incidents.media` for the measure and how the threshold was chosen)."""


class UnknownIncidentError(LookupError):
    """No incident (or report) has that id."""


class UnmergeError(ValueError):
    """The report cannot be split off: it is its incident's only report."""


@dataclass(frozen=True, slots=True)
class CorrelationSettings:
    """How near in time and space (and how alike in media) a report must be to an earlier
    one to be the same incident."""

    window_s: float = DEFAULT_WINDOW_S
    distance_m: float = DEFAULT_DISTANCE_M
    media_similarity: float = DEFAULT_MEDIA_SIMILARITY

    def __post_init__(self) -> None:
        if not (math.isfinite(self.window_s) and 0 <= self.window_s <= 86_400):
            raise ValueError(f"correlation window must be 0–86400 s, got {self.window_s!r}")
        if not (math.isfinite(self.distance_m) and 0 <= self.distance_m <= 100_000):
            raise ValueError(f"correlation distance must be 0–100000 m, got {self.distance_m!r}")
        if not (math.isfinite(self.media_similarity) and 0 <= self.media_similarity <= 1):
            raise ValueError(
                f"media similarity threshold must be 0–1, got {self.media_similarity!r}"
            )


@dataclass(frozen=True, slots=True)
class MediaInput:
    """A file attached to a report, already copied into the data dir and analysed."""

    kind: str  # photo | video
    path: str
    sha256: str
    size_bytes: int
    thumbnail_path: str | None = None
    analysis: Mapping[str, Any] = field(default_factory=dict)
    signature: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewReport:
    """One report to file: the checked input, its classification, the H3 cell of its place
    (the risk grid's resolution), where it came from, and its media."""

    report: ReportInput
    verdict: Classification
    cell: int
    source: str = "form"  # form | import | cli | escalation
    event_id: int | None = None
    media: tuple[MediaInput, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskUpdate:
    """How a new incident raises the risk grid: ``increments(lat, lon, category)`` gives
    the cells and their increases; levels decay with ``half_life_h``."""

    increments: Callable[[float, float, str], tuple[Sequence[int], Sequence[float]]]
    half_life_h: float


@dataclass(frozen=True, slots=True)
class Filed:
    """What happened to one filed report: its id, its incident, whether it joined an
    existing incident (and the report it matched, how far and how long apart), and the
    incident as it now stands."""

    report_id: int
    incident: IncidentView
    merged: bool
    matched_report_id: int | None = None
    distance_m: float | None = None
    seconds_apart: float | None = None
    tied: tuple[str, ...] = ()  # categories level in count and confidence (see consensus)

    def as_json(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "incident_id": self.incident.incident_id,
            "merged": self.merged,
            "matched_report_id": self.matched_report_id,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "seconds_apart": self.seconds_apart,
            "reporter_count": self.incident.reporter_count,
            "report_count": self.incident.report_count,
            "category": self.incident.category,
            "severity": self.incident.severity,
            "confidence": round(self.incident.confidence, 3),
            "classifier": self.incident.classifier,
            "category_basis": self.incident.category_basis,
        }


@dataclass(frozen=True, slots=True)
class IncidentView:
    """One incident as lists show it, with the ids of its reports and media."""

    incident_id: int
    occurred_at: datetime
    last_report_at: datetime
    latitude: float
    longitude: float
    cell: int
    category: str
    severity: int
    confidence: float
    classifier: str
    category_basis: str
    llm_pending: bool
    report_count: int
    reporter_count: int
    validated_by: str | None
    validated_at: datetime | None
    report_ids: tuple[int, ...]
    media_ids: tuple[int, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "occurred_at": self.occurred_at.isoformat(),
            "last_report_at": self.last_report_at.isoformat(),
            "latitude": self.latitude,
            "longitude": self.longitude,
            "cell": format(self.cell, "x"),
            "category": self.category,
            "severity": self.severity,
            "confidence": round(self.confidence, 3),
            "classifier": self.classifier,
            "category_basis": self.category_basis,
            "llm_pending": self.llm_pending,
            "report_count": self.report_count,
            "reporter_count": self.reporter_count,
            "validated_by": self.validated_by,
            "validated_at": None if self.validated_at is None else self.validated_at.isoformat(),
            "report_ids": list(self.report_ids),
            "media_ids": list(self.media_ids),
        }


# -- consensus -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """The category of an incident from its reports' verdicts: ``basis`` says how it was
    reached (``single`` report, ``majority``, ``confidence`` for a tie broken by summed
    confidence, ``tie`` when even that was level and the earliest report's category was
    kept: ``tied`` lists the categories an LLM may be asked to choose between)."""

    category: str
    severity: int
    confidence: float
    classifier: str
    basis: str
    tied: tuple[str, ...] = ()


def consensus(verdicts: Sequence[Classification]) -> Decision:
    """The category most reports give (majority); a tie goes to the category with the
    highest summed confidence; a tie in that too keeps the earliest report's category among
    the tied ones (``basis="tie"``). Severity is the highest among the winning reports (the
    worst account of the event is the one to plan for), confidence their mean, and the
    classifier the one of the most confident winning report."""
    if not verdicts:
        raise ValueError("consensus of no reports")
    counts = Counter(v.category for v in verdicts)
    top = max(counts.values())
    leaders = [c for c in counts if counts[c] == top]  # in first-seen order
    tied: tuple[str, ...] = ()
    if len(verdicts) == 1:
        winner, basis = leaders[0], "single"
    elif len(leaders) == 1:
        winner, basis = leaders[0], "majority"
    else:
        sums = {c: sum(v.confidence for v in verdicts if v.category == c) for c in leaders}
        best = max(sums.values())
        strongest = [c for c in leaders if math.isclose(sums[c], best, abs_tol=1e-9)]
        if len(strongest) == 1:
            winner, basis = strongest[0], "confidence"
        else:
            winner, basis, tied = strongest[0], "tie", tuple(strongest)
    chosen = [v for v in verdicts if v.category == winner]
    lead = max(chosen, key=lambda v: v.confidence)
    return Decision(
        category=winner,
        severity=max(v.severity for v in chosen),
        confidence=sum(v.confidence for v in chosen) / len(chosen),
        classifier=lead.classifier,
        basis=basis,
        tied=tied,
    )


def reporter_count(reporters: Iterable[str | None]) -> int:
    """Distinct named reporters (case and spacing ignored) plus every anonymous report."""
    named: set[str] = set()
    anonymous = 0
    for reporter in reporters:
        key = " ".join(reporter.split()).casefold() if reporter else ""
        if key:
            named.add(key)
        else:
            anonymous += 1
    return len(named) + anonymous


# -- correlation -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored report near enough to a new one: its id and incident, how far, how long."""

    report_id: int
    incident_id: int
    distance_m: float
    seconds_apart: float


def find_candidates(
    session: Session,
    latitude: float,
    longitude: float,
    at: datetime,
    settings: CorrelationSettings,
) -> list[Candidate]:
    """Stored reports within ``settings.window_s`` and ``settings.distance_m`` of a report
    at (``latitude``, ``longitude``, ``at``), nearest first (then closest in time)."""
    window = timedelta(seconds=settings.window_s)
    box = bounding_box(latitude, longitude, settings.distance_m)
    if box.wraps:
        lon_test = or_(
            IncidentReport.longitude >= box.min_lon, IncidentReport.longitude <= box.max_lon
        )
    else:
        lon_test = IncidentReport.longitude.between(box.min_lon, box.max_lon)
    rows = session.execute(
        select(
            IncidentReport.id,
            IncidentReport.incident_id,
            IncidentReport.at,
            IncidentReport.latitude,
            IncidentReport.longitude,
        ).where(
            IncidentReport.at.between(at - window, at + window),
            IncidentReport.latitude.between(box.min_lat, box.max_lat),
            lon_test,
        )
    ).all()
    found = []
    for row in rows:
        distance = great_circle_m(latitude, longitude, row.latitude, row.longitude)
        if distance <= settings.distance_m:
            apart = abs((row.at - at).total_seconds())
            found.append(Candidate(int(row.id), int(row.incident_id), distance, apart))
    found.sort(key=lambda c: (c.distance_m, c.seconds_apart, c.report_id))
    return found


def _signatures(session: Session, report_ids: Sequence[int]) -> dict[int, list[Mapping[str, Any]]]:
    if not report_ids:
        return {}
    out: dict[int, list[Mapping[str, Any]]] = {}
    for report_id, signature in session.execute(
        select(IncidentMedia.report_id, IncidentMedia.signature).where(
            IncidentMedia.report_id.in_(report_ids)
        )
    ):
        if signature:
            out.setdefault(int(report_id), []).append(signature)
    return out


def _media_agree(
    new: Sequence[MediaInput],
    stored: Sequence[Mapping[str, Any]],
    threshold: float,
    similarity: Callable[[Mapping[str, Any], Mapping[str, Any]], float],
) -> bool:
    mine = [m.signature for m in new if m.signature]
    if not mine or not stored:
        return True  # only when both carry media does it decide
    scores = []
    for a in mine:
        for b in stored:
            try:
                scores.append(similarity(a, b))
            except ValueError:  # an unreadable stored signature: time and place decide
                scores.append(1.0)
    return max(scores) >= threshold


# -- commands --------------------------------------------------------------------------


def _view(session: Session, incident: Incident) -> IncidentView:
    report_ids = tuple(
        int(i)
        for i in session.scalars(
            select(IncidentReport.id)
            .where(IncidentReport.incident_id == incident.id)
            .order_by(IncidentReport.id)
        )
    )
    media_ids = tuple(
        int(i)
        for i in session.scalars(
            select(IncidentMedia.id)
            .join(IncidentReport, IncidentReport.id == IncidentMedia.report_id)
            .where(IncidentReport.incident_id == incident.id)
            .order_by(IncidentMedia.id)
        )
    )
    return IncidentView(
        incident_id=incident.id,
        occurred_at=incident.occurred_at,
        last_report_at=incident.last_report_at,
        latitude=incident.latitude,
        longitude=incident.longitude,
        cell=incident.cell,
        category=incident.category,
        severity=incident.severity,
        confidence=incident.confidence,
        classifier=incident.classifier,
        category_basis=incident.category_basis,
        llm_pending=incident.llm_pending,
        report_count=incident.report_count,
        reporter_count=incident.reporter_count,
        validated_by=incident.validated_by,
        validated_at=incident.validated_at,
        report_ids=report_ids,
        media_ids=media_ids,
    )


def _reports_of(session: Session, incident_id: int) -> Sequence[IncidentReport]:
    """An incident's reports, oldest first."""
    return session.scalars(
        select(IncidentReport)
        .where(IncidentReport.incident_id == incident_id)
        .order_by(IncidentReport.at, IncidentReport.id)
    ).all()


def _stored_classification(report: IncidentReport) -> Classification:
    return Classification(
        report.category,
        report.severity,
        report.confidence,
        report.classifier,
        llm_pending=report.llm_pending,
    )


def _incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise UnknownIncidentError(f"no incident {incident_id}")
    return incident


def _refresh(session: Session, incident: Incident) -> Decision | None:
    """Recompute the incident's figures from its reports (and its category unless an
    operator set it). Returns the consensus decision (None when an operator's stands)."""
    reports = _reports_of(session, incident.id)
    first = reports[0]
    incident.occurred_at = first.at
    incident.last_report_at = max(r.at for r in reports)
    incident.latitude, incident.longitude = first.latitude, first.longitude
    incident.report_count = len(reports)
    incident.reporter_count = reporter_count(r.reporter for r in reports)
    incident.llm_pending = any(r.llm_pending for r in reports)
    if incident.validated_at is not None:
        return None
    decision = consensus([_stored_classification(r) for r in reports])
    incident.category = decision.category
    incident.severity = decision.severity
    incident.confidence = decision.confidence
    incident.classifier = decision.classifier
    incident.category_basis = decision.basis
    return decision


@dataclass(frozen=True, slots=True)
class RiskSource:
    """One incident raising the risk: where, what, when."""

    latitude: float
    longitude: float
    category: str
    at: datetime


_RISK_CHUNK = 900  # cells per statement: 2,700 parameters, well under SQLite's limit


def raise_risk(session: Session, risk: RiskUpdate, sources: Sequence[RiskSource]) -> int:
    """Add the increments of ``sources`` (new incidents) to the risk cells around them,
    exactly: every contribution and each stored level are decayed to the latest of their
    times before adding, so the result does not depend on the order incidents arrive in.
    One read and at most one UPDATE and one INSERT statement (executemany) per chunk of
    cells, however many incidents. Returns the number of cells touched."""
    contributions: dict[int, list[tuple[float, datetime]]] = {}
    for source in sources:
        cells, values = risk.increments(source.latitude, source.longitude, source.category)
        for cell, value in zip(cells, values, strict=True):
            contributions.setdefault(int(cell), []).append((float(value), source.at))
    if not contributions:
        return 0
    table = RiskCell.__table__  # Core: no per-row ORM work
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
    upsert_rows = upsert.on_conflict_do_update(
        index_elements=[table.c.cell],
        set_={"level": upsert.excluded.level, "as_of": upsert.excluded.as_of},
    )
    all_cells = sorted(contributions)  # one lock order for every writer
    for begin in range(0, len(all_cells), _RISK_CHUNK):
        chunk = all_cells[begin : begin + _RISK_CHUNK]
        stored = {
            int(cell): (level, as_of)
            for cell, level, as_of in session.execute(
                select(RiskCell.cell, RiskCell.level, RiskCell.as_of).where(
                    RiskCell.cell.in_(chunk)
                )
            )
        }
        rows = []
        for cell in chunk:
            parts = contributions[cell]
            before = stored.get(cell)
            latest = max(at for _, at in parts)
            if before is not None:
                latest = max(latest, before[1])
            level = sum(v * _decay(at, latest, risk.half_life_h) for v, at in parts)
            if before is not None:
                level += before[0] * _decay(before[1], latest, risk.half_life_h)
            rows.append({"cell": cell, "level": level, "as_of": latest})
        # The writer is the only one writing, so the rows read above are current. One
        # INSERT … ON CONFLICT (cell) DO UPDATE, compiled once and run as an executemany
        # (SQLite and PostgreSQL alike): measured as fast as an UPDATE plus an INSERT, and
        # 2–3× faster than one multi-row VALUES statement, which is compiled anew each time.
        session.connection().execute(upsert_rows, rows)
    return len(all_cells)


def _decay(start: datetime, end: datetime, half_life_h: float) -> float:
    return float(0.5 ** ((end - start).total_seconds() / 3600.0 / half_life_h))


def _insert_report(
    session: Session,
    incident_id: int,
    item: NewReport,
    received_at: datetime,
    filed_by: str,
    merge: dict[str, Any],
) -> int:
    r, v = item.report, item.verdict
    report_id = session.execute(
        insert(IncidentReport).returning(IncidentReport.id),
        [
            {
                "incident_id": incident_id,
                "at": r.at,
                "latitude": r.latitude,
                "longitude": r.longitude,
                "text": r.text,
                "reporter": r.reporter,
                "source": item.source,
                "event_id": item.event_id,
                "received_at": received_at,
                "filed_by": filed_by,
                "category": v.category,
                "severity": v.severity,
                "confidence": v.confidence,
                "classifier": v.classifier,
                "fallback_reason": None if v.fallback_reason is None else v.fallback_reason[:300],
                "llm_pending": v.llm_pending,
                "merge": merge,
            }
        ],
    ).scalar_one()
    for m in item.media:
        session.add(
            IncidentMedia(
                report_id=int(report_id),
                kind=m.kind,
                path=m.path,
                sha256=m.sha256,
                size_bytes=m.size_bytes,
                thumbnail_path=m.thumbnail_path,
                analysis=dict(m.analysis),
                signature=dict(m.signature),
                created_at=received_at,
            )
        )
    return int(report_id)


def _new_incident(
    session: Session,
    *,
    at: datetime,
    latitude: float,
    longitude: float,
    cell: int,
    site_id: int | None,
    verdict: Classification,
) -> Incident:
    """A new incident of one report (its figures are then recomputed by :func:`_refresh`
    once the report is attached)."""
    incident = Incident(
        occurred_at=at,
        last_report_at=at,
        latitude=latitude,
        longitude=longitude,
        cell=cell,
        site_id=site_id,
        category=verdict.category,
        severity=verdict.severity,
        confidence=verdict.confidence,
        classifier=verdict.classifier,
        category_basis="single",
        llm_pending=verdict.llm_pending,
        report_count=0,
        reporter_count=0,
    )
    session.add(incident)
    session.flush()
    return incident


@dataclass(frozen=True, slots=True, kw_only=True)
class FileReports(GuardedCommand, StoreCommand):
    """File ``reports`` (one from the form or CLI, or a whole imported file) in one
    transaction, each correlated with everything stored before it (see the module). Needs
    the file-report permission; audited once per batch (``incident.report`` with the
    number of reports, new incidents and merges, and ``origin``, e.g. the imported file's
    name). Returns one :class:`Filed` per report, in order."""

    permission: ClassVar[Permission] = Permission.FILE_REPORT
    action: ClassVar[str] = "incident.report"

    reports: tuple[NewReport, ...]
    at: datetime
    actor: Actor
    settings: CorrelationSettings = CorrelationSettings()
    risk: RiskUpdate | None = None
    similarity: Callable[[Mapping[str, Any], Mapping[str, Any]], float] | None = None
    site_id: int | None = None
    origin: str = ""

    def audit_target(self) -> str:
        return self.origin or "incidents"

    def __repr__(self) -> str:
        # The store writer logs a command it rejects: a count, not every report's words.
        return (
            f"FileReports({len(self.reports)} reports, origin={self.origin!r}, "
            f"actor={self.actor.name!r}, at={self.at.isoformat()})"
        )

    def apply(self, session: Session) -> list[Filed]:
        out: list[Filed] = []
        for item in self.reports:
            out.append(self._file(session, item))
        if self.risk is not None:
            # Every new incident of the batch at once, with the category its reports agree
            # on by the end of the batch.
            new_ids = [f.incident.incident_id for f in out if not f.merged]
            sources = []
            for incident_id in new_ids:
                incident = _incident(session, incident_id)
                sources.append(
                    RiskSource(
                        incident.latitude,
                        incident.longitude,
                        incident.category,
                        incident.occurred_at,
                    )
                )
            raise_risk(session, self.risk, sources)
        merged = sum(1 for f in out if f.merged)
        audit_command(
            session,
            self,
            {
                "reports": len(out),
                "new_incidents": len(out) - merged,
                "merged": merged,
                "incidents": sorted({f.incident.incident_id for f in out})[:100],
            },
        )
        return out

    def _file(self, session: Session, item: NewReport) -> Filed:
        r = item.report
        candidates = find_candidates(session, r.latitude, r.longitude, r.at, self.settings)
        if candidates and item.media and self.similarity is not None:
            stored = _signatures(session, [c.report_id for c in candidates])
            candidates = [
                c
                for c in candidates
                if _media_agree(
                    item.media,
                    stored.get(c.report_id, []),
                    self.settings.media_similarity,
                    self.similarity,
                )
            ]
        if candidates:
            best = candidates[0]
            incident = _incident(session, best.incident_id)
            merge = {
                "matched_report": best.report_id,
                "distance_m": round(best.distance_m, 2),
                "seconds_apart": best.seconds_apart,
            }
        else:
            incident = _new_incident(
                session,
                at=r.at,
                latitude=r.latitude,
                longitude=r.longitude,
                cell=item.cell,
                site_id=self.site_id,
                verdict=item.verdict,
            )
            merge = {}
        report_id = _insert_report(session, incident.id, item, self.at, self.actor.label, merge)
        decision = _refresh(session, incident)
        session.flush()
        return Filed(
            report_id=report_id,
            incident=_view(session, incident),
            merged=bool(candidates),
            matched_report_id=candidates[0].report_id if candidates else None,
            distance_m=candidates[0].distance_m if candidates else None,
            seconds_apart=candidates[0].seconds_apart if candidates else None,
            tied=decision.tied if decision is not None else (),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakTie(StoreCommand):
    """The LLM's choice between an incident's tied categories: stored (``basis="llm"``)
    if the incident is still tied between exactly those and no operator has set it.
    Returns whether it was applied."""

    incident_id: int
    tied: tuple[str, ...]
    category: str

    def apply(self, session: Session) -> bool:
        incident = session.get(Incident, self.incident_id)
        if incident is None or incident.validated_at is not None:
            return False
        verdicts = [_stored_classification(r) for r in _reports_of(session, incident.id)]
        decision = consensus(verdicts)
        if decision.tied != self.tied or self.category not in self.tied:
            return False  # reports changed meanwhile
        chosen = [v for v in verdicts if v.category == self.category]
        incident.category = self.category
        incident.severity = max(v.severity for v in chosen)
        incident.confidence = sum(v.confidence for v in chosen) / len(chosen)
        incident.category_basis = "llm"
        session.flush()
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidateIncident(GuardedCommand, StoreCommand):
    """``actor`` confirms incident ``incident_id``'s category (``category`` None or the
    same) or corrects it (another category; ``severity`` optional). Either way the label is
    stored with the incident's report texts as training data, the incident keeps this
    category whatever reports join later, and it is audited (``incident.validate``). Needs
    the label permission. Returns the :class:`IncidentView`."""

    permission: ClassVar[Permission] = Permission.LABEL
    action: ClassVar[str] = "incident.validate"

    incident_id: int
    category: str | None = None
    severity: int | None = None
    at: datetime
    actor: Actor

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in INCIDENT_CATEGORIES:
            raise ValueError(
                f"unknown category {self.category!r}; valid: {', '.join(INCIDENT_CATEGORIES)}"
            )
        if self.severity is not None and not 1 <= self.severity <= 5:
            raise ValueError(f"severity must be 1–5, got {self.severity!r}")

    def audit_target(self) -> str:
        return f"incident:{self.incident_id}"

    def apply(self, session: Session) -> IncidentView:
        incident = _incident(session, self.incident_id)
        previous = incident.category
        category = self.category or previous
        kind = "validated" if category == previous else "corrected"
        texts = session.scalars(
            select(IncidentReport.text)
            .where(IncidentReport.incident_id == incident.id)
            .order_by(IncidentReport.id)
        ).all()
        severity = self.severity if self.severity is not None else incident.severity
        session.add(
            IncidentLabel(
                incident_id=incident.id,
                text="\n".join(texts),
                category=category,
                severity=severity,
                previous_category=previous,
                kind=kind,
                by=self.actor.label,
                at=self.at,
            )
        )
        incident.category = category
        incident.severity = severity
        incident.category_basis = kind
        incident.classifier = f"operator:{self.actor.name}"[:100]
        if kind == "corrected":
            incident.confidence = 1.0
        incident.validated_by = self.actor.label
        incident.validated_at = self.at
        audit_command(
            session,
            self,
            {"kind": kind, "category": category, "previous": previous, "severity": severity},
        )
        session.flush()
        return _view(session, incident)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnmergeReport(GuardedCommand, StoreCommand):
    """Split report ``report_id`` off its incident into a new incident of its own (wrongly
    correlated). Both incidents' figures are recomputed; the new incident raises the risk
    around it like any new incident. Needs the label permission; audited
    (``incident.unmerge``, naming both incidents). Returns (old, new) views."""

    permission: ClassVar[Permission] = Permission.LABEL
    action: ClassVar[str] = "incident.unmerge"

    report_id: int
    at: datetime
    actor: Actor
    risk: RiskUpdate | None = None
    cell: int | None = None  # the report's H3 cell; default: the old incident's

    def audit_target(self) -> str:
        return f"incident_report:{self.report_id}"

    def apply(self, session: Session) -> tuple[IncidentView, IncidentView]:
        report = session.get(IncidentReport, self.report_id)
        if report is None:
            raise UnknownIncidentError(f"no incident report {self.report_id}")
        old = _incident(session, report.incident_id)
        others = session.scalar(
            select(func.count())
            .select_from(IncidentReport)
            .where(IncidentReport.incident_id == old.id, IncidentReport.id != report.id)
        )
        if not others:
            raise UnmergeError(
                f"report {self.report_id} is the only report of incident {old.id}: "
                "there is nothing to split it from"
            )
        new = _new_incident(
            session,
            at=report.at,
            latitude=report.latitude,
            longitude=report.longitude,
            cell=self.cell if self.cell is not None else old.cell,
            site_id=old.site_id,
            verdict=_stored_classification(report),
        )
        report.incident_id = new.id
        report.merge = {"unmerged_from": old.id, "by": self.actor.label, "at": self.at.isoformat()}
        session.flush()
        _refresh(session, old)
        _refresh(session, new)
        if self.risk is not None:
            raise_risk(
                session,
                self.risk,
                [RiskSource(report.latitude, report.longitude, new.category, report.at)],
            )
        audit_command(session, self, {"from_incident": old.id, "to_incident": new.id})
        session.flush()
        return _view(session, old), _view(session, new)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReclassifyReports(StoreCommand):
    """Store new verdicts for reports (the LLM answering for reports filed while it was
    down) and recompute their incidents' consensus (an operator's category stands).
    Returns the ids of the incidents whose category changed."""

    verdicts: Mapping[int, Classification]

    def apply(self, session: Session) -> list[int]:
        touched: dict[int, str] = {}
        for report_id, verdict in self.verdicts.items():
            report = session.get(IncidentReport, report_id)
            if report is None:
                continue  # deleted meanwhile
            incident = session.get(Incident, report.incident_id)
            if incident is not None and incident.id not in touched:
                touched[incident.id] = incident.category
            report.category = verdict.category
            report.severity = verdict.severity
            report.confidence = verdict.confidence
            report.classifier = verdict.classifier
            report.fallback_reason = verdict.fallback_reason
            report.llm_pending = verdict.llm_pending
        session.flush()
        changed = []
        for incident_id, before in touched.items():
            incident = _incident(session, incident_id)
            _refresh(session, incident)
            if incident.category != before:
                changed.append(incident_id)
        session.flush()
        return changed


# -- reads -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportView:
    """One stored report of an incident."""

    report_id: int
    incident_id: int
    at: datetime
    latitude: float
    longitude: float
    text: str
    reporter: str | None
    source: str
    filed_by: str
    received_at: datetime
    category: str
    severity: int
    confidence: float
    classifier: str
    fallback_reason: str | None
    llm_pending: bool
    merge: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "incident_id": self.incident_id,
            "at": self.at.isoformat(),
            "latitude": self.latitude,
            "longitude": self.longitude,
            "text": self.text,
            "reporter": self.reporter,
            "source": self.source,
            "filed_by": self.filed_by,
            "received_at": self.received_at.isoformat(),
            "category": self.category,
            "severity": self.severity,
            "confidence": round(self.confidence, 3),
            "classifier": self.classifier,
            "fallback_reason": self.fallback_reason,
            "llm_pending": self.llm_pending,
            "merge": self.merge,
        }


def list_incidents(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    category: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IncidentView]:
    """Incidents, newest first, optionally from ``since`` up to (excluding) ``until`` and of
    one ``category``."""
    stmt = select(Incident).order_by(Incident.occurred_at.desc(), Incident.id.desc())
    conditions = []
    if since is not None:
        conditions.append(Incident.occurred_at >= since)
    if until is not None:
        conditions.append(Incident.occurred_at < until)
    if category is not None:
        if category not in INCIDENT_CATEGORIES:
            raise ValueError(
                f"unknown category {category!r}; valid: {', '.join(INCIDENT_CATEGORIES)}"
            )
        conditions.append(Incident.category == category)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    with store.sessions() as session:
        rows = session.scalars(stmt.limit(limit).offset(offset)).all()
        return [_view(session, incident) for incident in rows]


def incident_reports(store: Store, incident_id: int) -> list[ReportView]:
    """The reports of incident ``incident_id``, oldest first."""
    with store.sessions() as session:
        _incident(session, incident_id)
        rows = _reports_of(session, incident_id)
        return [
            ReportView(
                r.id,
                r.incident_id,
                r.at,
                r.latitude,
                r.longitude,
                r.text,
                r.reporter,
                r.source,
                r.filed_by,
                r.received_at,
                r.category,
                r.severity,
                r.confidence,
                r.classifier,
                r.fallback_reason,
                r.llm_pending,
                dict(r.merge),
            )
            for r in rows
        ]


@dataclass(frozen=True, slots=True)
class MediaView:
    """A report's photo or video as stored: where (relative to the data dir), its
    thumbnail, and what the camera pipeline found in it (people, faces)."""

    media_id: int
    report_id: int
    kind: str
    path: str
    sha256: str
    size_bytes: int
    thumbnail_path: str | None
    analysis: dict[str, Any]

    def summary(self) -> str:
        people = (self.analysis.get("people") or {}).get("count")
        faces = self.analysis.get("faces") or {}
        known = [k.get("name") or k.get("public_id") for k in faces.get("known", [])]
        parts = [self.kind]
        if people is not None:
            parts.append(f"{people} people")
        if known:
            parts.append("faces: " + ", ".join(str(k) for k in known))
        if faces.get("unknown"):
            parts.append(f"{faces['unknown']} unknown face(s)")
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "media_id": self.media_id,
            "report_id": self.report_id,
            "kind": self.kind,
            "path": self.path,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "thumbnail_path": self.thumbnail_path,
            "analysis": self.analysis,
        }


def incident_media(store: Store, incident_id: int) -> list[MediaView]:
    """The media of incident ``incident_id``'s reports, oldest first."""
    with store.sessions() as session:
        rows = session.scalars(
            select(IncidentMedia)
            .join(IncidentReport, IncidentReport.id == IncidentMedia.report_id)
            .where(IncidentReport.incident_id == incident_id)
            .order_by(IncidentMedia.id)
        ).all()
        return [
            MediaView(
                m.id,
                m.report_id,
                m.kind,
                m.path,
                m.sha256,
                m.size_bytes,
                m.thumbnail_path,
                dict(m.analysis),
            )
            for m in rows
        ]


def get_incident(store: Store, incident_id: int) -> IncidentView:
    with store.sessions() as session:
        return _view(session, _incident(session, incident_id))


def pending_reports(store: Store, *, limit: int = 100) -> list[tuple[int, str]]:
    """(report id, text) of reports filed while the LLM was down, oldest first."""
    with store.sessions() as session:
        return [
            (int(i), t)
            for i, t in session.execute(
                select(IncidentReport.id, IncidentReport.text)
                .where(IncidentReport.llm_pending.is_(True))
                .order_by(IncidentReport.id)
                .limit(limit)
            )
        ]


def training_labels(store: Store) -> list[tuple[str, str]]:
    """(text, category) of every operator label, the latest per incident winning."""
    with store.sessions() as session:
        rows = session.execute(
            select(IncidentLabel.incident_id, IncidentLabel.text, IncidentLabel.category).order_by(
                IncidentLabel.id
            )
        ).all()
    latest: dict[object, tuple[str, str]] = {}
    for n, (incident_id, text, category) in enumerate(rows):
        key = incident_id if incident_id is not None else ("gone", n)
        latest[key] = (text, category)
    return list(latest.values())
