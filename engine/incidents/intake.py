"""Filing reports end to end: classify, place on the risk grid, attach media, store and
correlate (:class:`IncidentIntake`); re-classify what was filed while the LLM was down.

The slow parts (the LLM, media analysis) run in the caller's thread *before* the store
command, never inside the store writer's transaction: the console calls this from a worker,
the CLI from its own process. A report that cannot be filed as given (bad media) is refused
before anything is stored; a batch (an imported file) is stored whole or not at all.

Settings come from the ``incidents.*`` and ``risk.*`` site settings
(:func:`IntakeSettings.from_values`), so the console, the CLI and the engine agree.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from engine.access import Actor
from engine.incidents.classify import (
    Classification,
    IncidentClassifier,
    KeywordClassifier,
    LlmClassifier,
    llm_from_secrets,
    load_text_model,
)
from engine.incidents.nightly import TEXT_MODEL_FILE
from engine.incidents.records import (
    BreakTie,
    CorrelationSettings,
    Filed,
    FileReports,
    MediaInput,
    NewReport,
    ReclassifyReports,
    RiskUpdate,
    get_incident,
    pending_reports,
)
from engine.incidents.reports import ReportInput
from engine.incidents.risk import RiskSettings, cells_of_points, increments
from engine.store.database import Store
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IntakeSettings:
    """Correlation, risk grid and LLM settings in effect for filing."""

    correlation: CorrelationSettings = field(default_factory=CorrelationSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    llm_timeout_s: float = 10.0

    @classmethod
    def from_values(cls, values: Mapping[str, int]) -> IntakeSettings:
        """From :func:`engine.settings.setting_values` (defaults for missing keys)."""
        defaults = cls()
        return cls(
            correlation=CorrelationSettings(
                window_s=float(
                    values.get("incidents.correlate_window_s", defaults.correlation.window_s)
                ),
                distance_m=float(
                    values.get("incidents.correlate_distance_m", defaults.correlation.distance_m)
                ),
                media_similarity=values.get("incidents.media_similarity_pct", 70) / 100.0,
            ),
            risk=RiskSettings(
                resolution=int(values.get("risk.h3_resolution", defaults.risk.resolution)),
                half_life_h=float(values.get("risk.half_life_h", defaults.risk.half_life_h)),
            ),
            llm_timeout_s=float(values.get("incidents.llm_timeout_s", 10)),
        )

    def risk_update(self) -> RiskUpdate:
        return RiskUpdate(
            increments=partial(_increments, settings=self.risk),
            half_life_h=self.risk.half_life_h,
        )


def _increments(
    lat: float, lon: float, category: str, *, settings: RiskSettings
) -> tuple[Sequence[int], Sequence[float]]:
    cells, values = increments(lat, lon, category, settings)
    return cells.tolist(), values.tolist()


def local_classifier(models_dir: Path | None) -> Any:
    """The local classifier: the nightly-trained text model when one is saved under
    ``models_dir`` (and loads), else the keyword rules."""
    if models_dir is not None:
        path = models_dir / TEXT_MODEL_FILE
        if path.exists():
            try:
                return load_text_model(path)
            except Exception as exc:  # a bad file must not stop reports being filed
                log.warning("local text model %s not used: %s", path, exc)
    return KeywordClassifier()


def make_classifier(
    settings: IntakeSettings,
    *,
    models_dir: Path | None = None,
    use_llm: bool = True,
    llm: LlmClassifier | None = None,
) -> IncidentClassifier:
    """The classifier filing uses: the LLM (key from the environment or keyring) when
    configured and ``use_llm``, with the local classifier behind it."""
    local = local_classifier(models_dir)
    if llm is not None:
        return IncidentClassifier(local, llm)
    if not use_llm:
        return IncidentClassifier(local, None, "LLM not used for this request")
    found, reason = llm_from_secrets(timeout_s=settings.llm_timeout_s)
    return IncidentClassifier(local, found, reason)


class IncidentIntake:
    """Files reports through ``writer``: each is classified by ``classifier`` (outside the
    writer), placed on the risk grid, its media prepared by ``prepare_media`` (a path →
    :class:`MediaInput`, raising on unusable media), then the batch is stored and
    correlated by :class:`FileReports`. Ties between categories go to the LLM when it is
    there (:class:`BreakTie`)."""

    def __init__(
        self,
        store: Store,
        writer: StoreWriter,
        classifier: IncidentClassifier,
        settings: IntakeSettings,
        *,
        prepare_media: Callable[[Path], MediaInput] | None = None,
        similarity: Callable[[Mapping[str, Any], Mapping[str, Any]], float] | None = None,
        site_id: int | None = None,
        now: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._writer = writer
        self._classifier = classifier
        self._settings = settings
        self._prepare_media = prepare_media
        self._similarity = similarity
        self._site_id = site_id
        self._now = now

    @property
    def classifier(self) -> IncidentClassifier:
        return self._classifier

    def file(
        self,
        reports: Sequence[ReportInput],
        *,
        actor: Actor,
        source: str,
        origin: str = "",
        event_id: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        floor: tuple[str, int] | None = None,
    ) -> list[Filed]:
        """Classify and file ``reports`` as one batch; returns one :class:`Filed` each.
        ``progress(done, total)`` is called as reports are classified. ``floor``: what
        each report is at least (a category and a lowest severity: an escalated fall is
        medical, severity 4 or more, whatever its words say)."""
        if not reports:
            return []
        media = [self._media_of(r) for r in reports]  # refused before any slow work
        verdicts = []
        for n, report in enumerate(reports, 1):
            verdicts.append(_at_least(self._classifier.classify(report.text), floor))
            if progress is not None:
                progress(n, len(reports))
        cells = cells_of_points(
            [r.latitude for r in reports],
            [r.longitude for r in reports],
            self._settings.risk.resolution,
        )
        items = tuple(
            NewReport(
                report=r,
                verdict=v,
                cell=int(c),
                source=source,
                event_id=event_id,
                media=m,
            )
            for r, v, c, m in zip(reports, verdicts, cells, media, strict=True)
        )
        filed: list[Filed] = self._writer.execute(
            FileReports(
                reports=items,
                at=self._now(),
                actor=actor,
                settings=self._settings.correlation,
                risk=self._settings.risk_update(),
                similarity=self._similarity,
                site_id=self._site_id,
                origin=origin,
            ),
            timeout_s=120,
        )
        return [self._break_tie(f, reports[n].text) for n, f in enumerate(filed)]

    def _media_of(self, report: ReportInput) -> tuple[MediaInput, ...]:
        if report.media is None:
            return ()
        if self._prepare_media is None:
            raise ValueError("media: this intake cannot take media (no media analyser)")
        return (self._prepare_media(Path(report.media)),)

    def _break_tie(self, filed: Filed, text: str) -> Filed:
        if not filed.tied:
            return filed
        choice = self._classifier.break_tie(text, filed.tied)
        if choice is None:
            return filed
        applied = self._writer.execute(
            BreakTie(incident_id=filed.incident.incident_id, tied=filed.tied, category=choice)
        )
        if not applied:
            return filed
        return _with_incident(filed, get_incident(self._store, filed.incident.incident_id))

    def reclassify_pending(self, *, limit: int = 200) -> ReclassifyOutcome:
        """Ask the LLM again about reports filed while it was down (oldest first, up to
        ``limit``); stops at the first failure (it is still down). Returns what changed."""
        pending = pending_reports(self._store, limit=limit)
        if not pending:
            return ReclassifyOutcome(0, 0, [], None)
        if not self._classifier.llm_configured:
            return ReclassifyOutcome(len(pending), 0, [], self._classifier.llm_missing_reason)
        done: dict[int, Classification] = {}
        stopped: str | None = None
        for report_id, text in pending:
            answer = self._classifier.classify(text)
            if answer.fallback_reason is not None:
                stopped = answer.fallback_reason
                break
            done[report_id] = answer
        changed: list[int] = self._writer.execute(ReclassifyReports(verdicts=done)) if done else []
        return ReclassifyOutcome(len(pending), len(done), changed, stopped)


def _at_least(verdict: Classification, floor: tuple[str, int] | None) -> Classification:
    """``verdict`` raised to ``floor``'s category and severity (the event's kind decided
    it: the classifier says so)."""
    if floor is None:
        return verdict
    category, severity = floor
    if verdict.category == category and verdict.severity >= severity:
        return verdict
    return dataclasses.replace(
        verdict,
        category=category,
        severity=max(verdict.severity, severity),
        confidence=1.0,
        classifier=f"event kind ({verdict.classifier} said {verdict.category})"[:100],
        llm_pending=False,  # what the event is does not wait for an LLM
    )


@dataclass(frozen=True, slots=True)
class ReclassifyOutcome:
    """``pending`` reports looked at, ``reclassified`` by the LLM, incidents whose category
    ``changed``, and why it stopped early (``stopped``: the LLM failed again, or is not
    configured)."""

    pending: int
    reclassified: int
    changed: list[int]
    stopped: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "reclassified": self.reclassified,
            "changed_incidents": self.changed,
            "stopped": self.stopped,
        }


def _with_incident(filed: Filed, incident: Any) -> Filed:
    return Filed(
        report_id=filed.report_id,
        incident=incident,
        merged=filed.merged,
        matched_report_id=filed.matched_report_id,
        distance_m=filed.distance_m,
        seconds_apart=filed.seconds_apart,
        tied=(),
    )
