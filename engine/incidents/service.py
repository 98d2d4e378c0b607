"""The engine's incident desk: filing (form, import, escalation of an engine event), the
operator's corrections, re-classification, the nightly risk refit on its schedule, and the
reads the console's risk map and incident list show.

Every method that touches the store or the LLM blocks: the console calls them on its query
workers, never on the GUI thread. Filing publishes :class:`IncidentFiled` on the engine bus
so the map and lists update without polling; a refit publishes :class:`RiskRefitted`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from engine.access import Actor, Permission
from engine.bus import EventBus
from engine.clock import Clock
from engine.events import Event, to_console
from engine.incidents.forecast import Forecast
from engine.incidents.intake import IncidentIntake, IntakeSettings, make_classifier
from engine.incidents.nightly import (
    RetrainReport,
    RiskScheduler,
    camera_risk,
    last_slot,
    live_risk,
    load_forecast,
    retrain,
)
from engine.incidents.records import (
    Filed,
    IncidentView,
    UnmergeReport,
    ValidateIncident,
)
from engine.incidents.reports import ReportInput, read_report_file, report_from_fields
from engine.incidents.risk import RiskSettings, cells_around, risk_class, risk_thresholds
from engine.settings import setting_values
from engine.store.database import Store
from engine.store.models import Camera, Site
from engine.store.models import Event as EventRow
from engine.store.writer import StoreWriter
from engine.vocabulary import ESCALATION_FLOORS
from engine.wording import describe

log = logging.getLogger(__name__)

RECLASSIFY_EVERY_MIN = 10.0
"""How often reports the LLM missed are offered to it again (when one is configured): soon
after an outage ends, without hammering an API that is down."""
MAP_RADIUS_M = 3000.0
"""The risk map shows this far around the site: the 2 km an incident reaches, and a margin."""


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentFiled(Event):
    """Reports were filed: the incidents they made or joined, as they now stand."""

    incidents: tuple[IncidentView, ...] = ()


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class RiskRefitted(Event):
    """The risk model was refitted (nightly or on request)."""

    report: RetrainReport | None = None


@dataclass(frozen=True, slots=True)
class MapCamera:
    key: str
    name: str
    latitude: float
    longitude: float
    risk_class: str | None


@dataclass(frozen=True, slots=True)
class RiskMap:
    """What the risk map draws: the site's centre, its H3 cells (centres, hexagon corners),
    the live risk of each now, the predicted incidents in each of the next ``hours`` hours
    (``predicted[cells, hours]``; empty without a fitted model), the class thresholds of the
    predictions, the cameras with today's class, and the model's state."""

    centre: tuple[float, float]
    cells: npt.NDArray[np.int64]
    centres: npt.NDArray[np.float64]  # [cells, 2] lat, lon
    corners: tuple[npt.NDArray[np.float64], ...]  # per cell: [k, 2] lat, lon
    live: npt.NDArray[np.float64]
    predicted: npt.NDArray[np.float64]
    start: datetime
    hours: int
    cameras: tuple[MapCamera, ...]
    model_fitted_at: datetime | None
    model_problem: str | None
    thresholds: tuple[float, ...] | None

    def predicted_class(self, cell_index: int, hour: int) -> str | None:
        if self.thresholds is None or self.predicted.size == 0:
            return None
        return risk_class(float(self.predicted[cell_index, hour]), self.thresholds)


class IncidentService:
    """See the module. ``site_id`` and ``site_centre`` place reports and the map."""

    def __init__(
        self,
        store: Store,
        writer: StoreWriter,
        clock: Clock,
        *,
        models_dir: Path,
        bus: EventBus | None = None,
        site_id: int | None = None,
        site_centre: tuple[float, float] | None = None,
        prepare_media: Callable[[Path], Any] | None = None,
        similarity: Callable[[Any, Any], float] | None = None,
        schedule: bool = True,
    ) -> None:
        self._store = store
        self._writer = writer
        self._clock = clock
        self._models = models_dir
        self._bus = bus
        self._site_id = site_id
        self._centre = site_centre
        self._prepare_media = prepare_media
        self._similarity = similarity
        self._schedule = schedule
        self._scheduler: RiskScheduler | None = None
        self._forecast: Forecast | None = None
        self._forecast_problem: str | None = None
        self._lock = threading.Lock()
        self.last_retrain: RetrainReport | None = None
        self.last_retrain_error: str | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Load the saved forecast and start the nightly refit (catching up a missed one)."""
        self._reload_forecast()
        if not self._schedule:
            return
        hour = setting_values(self._store)["risk.retrain_hour_utc"]
        self._scheduler = RiskScheduler(
            self._scheduled_retrain,
            hour_utc=hour,
            last_slot=lambda: last_slot(self._store),
            now=self._clock.now,
            every=[("incident-reclassify", RECLASSIFY_EVERY_MIN, self._reclassify_job)],
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None

    @property
    def next_retrain(self) -> datetime | None:
        return None if self._scheduler is None else self._scheduler.next_run()

    # -- filing ------------------------------------------------------------------------

    def settings(self) -> IntakeSettings:
        return IntakeSettings.from_values(setting_values(self._store))

    def _intake(self, *, defer_llm: str | None = None, use_llm: bool = True) -> IncidentIntake:
        settings = self.settings()
        classifier = make_classifier(settings, models_dir=self._models, use_llm=use_llm)
        if defer_llm is not None:
            classifier = classifier.deferring_llm(defer_llm)
        return IncidentIntake(
            self._store,
            self._writer,
            classifier,
            settings,
            prepare_media=self._prepare_media,
            similarity=self._similarity,
            site_id=self._site_id,
            now=self._clock.now,
        )

    def file_report(
        self,
        actor: Actor,
        *,
        text: str,
        latitude: float,
        longitude: float,
        at: datetime,
        reporter: str | None = None,
        media: str | None = None,
    ) -> Filed:
        """File one report from the console's form; ``ReportInputError`` names a bad field."""
        actor.require(Permission.FILE_REPORT, "file an incident report")
        report = report_from_fields(
            {
                "text": text,
                "latitude": latitude,
                "longitude": longitude,
                "at": at.isoformat(),
                "reporter": reporter,
                "media": media,
            },
            now=self._clock.now,
        )
        (filed,) = self._file([report], actor, source="form")
        return filed

    def import_file(
        self, actor: Actor, path: Path, progress: Callable[[int, int], None] | None = None
    ) -> list[Filed]:
        """File every report of a CSV / JSON-lines file, or none (``ReportFileError``
        naming every bad line). Classified locally; an LLM, if configured, later."""
        actor.require(Permission.FILE_REPORT, "import incident reports")
        reports = read_report_file(path, now=self._clock.now)
        return self._file(
            reports,
            actor,
            source="import",
            origin=path.name,
            defer_llm=f"deferred: imported with {len(reports)} reports",
            progress=progress,
        )

    def escalate_event(self, actor: Actor, event_id: int, text: str) -> Filed:
        """An operator turns a stored engine event (a camera, sensing or alert event) into
        an incident report: its time, the place of its camera (else the site's), and the
        operator's words; the report keeps the event's id."""
        actor.require(Permission.FILE_REPORT, "escalate an event to an incident")
        with self._store.sessions() as session:
            row = session.execute(
                select(
                    EventRow.ts,
                    EventRow.kind,
                    EventRow.source,
                    Camera.geo_lat,
                    Camera.geo_lon,
                    Site.geo_lat,
                    Site.geo_lon,
                )
                .outerjoin(Camera, Camera.id == EventRow.camera_id)
                .outerjoin(Site, Site.id == EventRow.site_id)
                .where(EventRow.id == event_id)
            ).first()
        if row is None:
            raise LookupError(f"no event {event_id}")
        ts, kind, source, cam_lat, cam_lon, site_lat, site_lon = row
        lat, lon = (cam_lat, cam_lon) if cam_lat is not None else (site_lat, site_lon)
        if lat is None or lon is None:
            if self._centre is None:
                raise ValueError(f"event {event_id} has no place (no camera or site position)")
            lat, lon = self._centre
        what = describe(kind, source, {}).title
        words = text.strip() or what
        report = report_from_fields(
            {
                "text": f"{words} [escalated from event {event_id}: {what}]",
                "latitude": lat,
                "longitude": lon,
                "at": ts.isoformat(),
                "reporter": actor.name,
            },
            now=self._clock.now,
        )
        (filed,) = self._file(
            [report],
            actor,
            source="escalation",
            event_id=event_id,
            floor=ESCALATION_FLOORS.get(kind),
        )
        return filed

    def _file(
        self,
        reports: Sequence[ReportInput],
        actor: Actor,
        *,
        source: str,
        origin: str = "",
        event_id: int | None = None,
        defer_llm: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        floor: tuple[str, int] | None = None,
    ) -> list[Filed]:
        filed = self._intake(defer_llm=defer_llm).file(
            reports,
            actor=actor,
            source=source,
            origin=origin,
            event_id=event_id,
            progress=progress,
            floor=floor,
        )
        self._publish(
            IncidentFiled(at=self._clock.now(), incidents=tuple(f.incident for f in filed))
        )
        return filed

    def validate(
        self,
        actor: Actor,
        incident_id: int,
        category: str | None = None,
        severity: int | None = None,
    ) -> IncidentView:
        view: IncidentView = self._writer.execute(
            ValidateIncident(
                incident_id=incident_id,
                category=category,
                severity=severity,
                at=self._clock.now(),
                actor=actor,
            )
        )
        self._publish(IncidentFiled(at=self._clock.now(), incidents=(view,)))
        return view

    def unmerge(self, actor: Actor, report_id: int) -> tuple[IncidentView, IncidentView]:
        old, new = self._writer.execute(
            UnmergeReport(
                report_id=report_id,
                at=self._clock.now(),
                actor=actor,
                risk=self.settings().risk_update(),
            )
        )
        self._publish(IncidentFiled(at=self._clock.now(), incidents=(old, new)))
        return old, new

    def reclassify_pending(self, limit: int = 200) -> Any:
        return self._intake().reclassify_pending(limit=limit)

    def _reclassify_job(self) -> None:
        intake = self._intake()
        if not intake.classifier.llm_configured:
            return
        outcome = intake.reclassify_pending()
        if outcome.reclassified:
            log.info(
                "the LLM re-classified %d of %d pending reports (%d incidents changed)",
                outcome.reclassified,
                outcome.pending,
                len(outcome.changed),
            )
            self._publish(IncidentFiled(at=self._clock.now(), incidents=()))

    def llm_status(self) -> str:
        """How reports are classified now, for the UI ("LLM claude-…" or why not)."""
        classifier = make_classifier(self.settings(), models_dir=self._models)
        if classifier.llm_configured:
            return "LLM classifier configured; keyword rules if it fails"
        return f"local classifier only: {classifier.llm_missing_reason}"

    # -- the nightly refit -------------------------------------------------------------

    def retrain_now(self, slot: datetime | None = None) -> RetrainReport:
        with self._lock:
            now = self._clock.now()
            try:
                report = retrain(
                    self._store,
                    self._writer,
                    now=now,
                    models_dir=self._models,
                    settings=self.settings().risk,
                    slot=slot or now,
                )
            except Exception as exc:
                self.last_retrain_error = str(exc)
                raise
            self.last_retrain, self.last_retrain_error = report, None
            self._reload_forecast()
        self._publish(RiskRefitted(at=self._clock.now(), report=report))
        return report

    def _scheduled_retrain(self, slot: datetime) -> None:
        self.retrain_now(slot)

    def _reload_forecast(self) -> None:
        try:
            self._forecast = load_forecast(self._models)
            self._forecast_problem = (
                None if self._forecast is not None else "no risk model yet (first refit pending)"
            )
        except (OSError, ValueError) as exc:
            self._forecast = None
            self._forecast_problem = f"risk model unreadable: {exc}"

    # -- reads for the console ---------------------------------------------------------

    def risk_map(self, *, hours: int = 24, radius_m: float = MAP_RADIUS_M) -> RiskMap:
        """The area around the site for the map (see :class:`RiskMap`)."""
        if self._centre is None:
            raise ValueError("the site has no geo position: set [site] geo in the site file")
        settings = self.settings().risk
        lat0, lon0 = self._centre
        area = RiskSettings(resolution=settings.resolution, radius_m=radius_m)
        cells, _ = cells_around(lat0, lon0, area)
        centres = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells.tolist()])
        corners = tuple(
            np.array(h3.cell_to_boundary(h3.int_to_str(int(c)))) for c in cells.tolist()
        )
        now = self._clock.now()
        live = live_risk(self._store, cells, now, settings.half_life_h)
        start = now.replace(minute=0, second=0, microsecond=0)
        forecast = self._forecast
        predicted = np.zeros((0, 0))
        thresholds: tuple[float, ...] | None = None
        if forecast is not None and forecast.resolution == settings.resolution:
            all_cells, matrix = forecast.predict(start.timestamp(), hours)
            index = {int(c): i for i, c in enumerate(all_cells.tolist())}
            predicted = np.zeros((cells.size, hours))
            for i, c in enumerate(cells.tolist()):
                j = index.get(int(c))
                if j is not None:
                    predicted[i] = matrix[j]
            reference = matrix.ravel()
            thresholds = risk_thresholds(reference if reference.size else np.zeros(1))
        classes = camera_risk(self._store, now.date())
        stmt = select(Camera.key, Camera.name, Camera.geo_lat, Camera.geo_lon).where(
            Camera.enabled.is_(True)
        )
        if self._site_id is not None:
            stmt = stmt.where(Camera.site_id == self._site_id)
        with self._store.sessions() as session:
            rows = session.execute(stmt.order_by(Camera.id)).all()
        cameras = tuple(
            MapCamera(key, name, float(lat), float(lon), classes.get(key))
            for key, name, lat, lon in rows
            if lat is not None and lon is not None
        )
        problem = self._forecast_problem
        if forecast is not None and forecast.resolution != settings.resolution:
            problem = (
                f"risk model is at H3 resolution {forecast.resolution}, the grid at "
                f"{settings.resolution}: it is refitted tonight (or run a refit now)"
            )
        if self.last_retrain_error is not None:
            kept = "the previous model is shown" if forecast is not None else "no model yet"
            problem = f"the last risk refit failed ({self.last_retrain_error}); {kept}"
        fitted = (
            None if forecast is None else datetime.fromtimestamp(forecast.fitted_at_s, now.tzinfo)
        )
        return RiskMap(
            centre=(lat0, lon0),
            cells=cells,
            centres=centres.reshape(-1, 2),
            corners=corners,
            live=live,
            predicted=predicted,
            start=start,
            hours=hours,
            cameras=cameras,
            model_fitted_at=fitted,
            model_problem=problem,
            thresholds=thresholds,
        )

    def _publish(self, event: Event) -> None:
        if self._bus is not None:
            self._bus.publish(event)
