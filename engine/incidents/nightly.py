"""The nightly risk refit and what it gives: predicted hotspots, cameras' daily risk class,
and the local text classifier retrained on operators' labels.

:func:`retrain` reads every stored incident (time and place), fits the forecast
(:mod:`engine.incidents.forecast`: per-cell intensity by hour of week, spatially smoothed),
scores it on the last :data:`HELD_OUT_DAYS` days (refitted before each held-out day, as the
nightly run does) against a baseline that predicts yesterday's counts, and saves it (an
``.npz`` written to a temp file and renamed). It then gives every camera a risk class for
today and tomorrow (UTC days) from the incidents expected within :data:`CAMERA_RADIUS_M` of
it, relative to the same figure over every place of the area and every day of the coming
week (so a camera in a quiet corner on a quiet day is ``very_low``), and retrains the local
text classifier when enough labels exist and it beats the keyword rules on held-out labels.
The run is logged in ``risk_models`` (slot, duration, quality) whether it succeeded or not.

:class:`RiskScheduler` runs it at ``risk.retrain_hour_utc`` (02:00 UTC by default) with
APScheduler, in the engine's own named thread, and catches up a missed run at start: when
the latest logged run's slot is older than the most recent slot that was due.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from engine.incidents.forecast import Forecast, backtest, fit_forecast
from engine.incidents.risk import (
    RiskSettings,
    cells_around,
    cells_of_points,
    decayed_array,
    risk_class,
    risk_thresholds,
)
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.incident_models import (
    CameraRiskDay,
    Incident,
    RiskCell,
    RiskModel,
)
from engine.store.models import Camera, Site
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)

FORECAST_FILE = "risk_forecast.npz"
TEXT_MODEL_FILE = "incident_text_model.bin"
HELD_OUT_DAYS = 7
"""Quality is measured on the last week: every weekday once, and recent enough to say how
the model does now."""
TOP_FRACTION = 0.1  # the PAI and hit rate are for the top 10 % of cells (the issue's)
CAMERA_RADIUS_M = 500.0
"""A camera's risk is that of the area it watches and the approaches to it: the incidents
expected within 500 m (a few minutes' walk)."""
THREAD_NAME = "risk-retrain"


class RetrainError(RuntimeError):
    """The refit could not run (nothing to learn from, unreadable history); logged."""


@dataclass(frozen=True, slots=True)
class CameraRisk:
    """A camera's class for one UTC day and the incidents expected near it."""

    camera_id: int
    camera: str
    day: date
    risk_class: str
    expected: float


@dataclass(frozen=True, slots=True)
class RetrainReport:
    """What one refit did: its slot, timings, the quality of the model and the baseline on
    the held-out days, where the forecast was saved, the cameras' classes, and what
    happened to the text classifier."""

    slot: datetime
    incidents: int
    duration_s: float
    load_s: float
    fit_s: float
    quality: dict[str, Any]
    path: str | None
    cameras: list[CameraRisk] = field(default_factory=list)
    text_model: dict[str, Any] = field(default_factory=dict)
    model_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "slot": self.slot.isoformat(),
            "incidents": self.incidents,
            "duration_s": round(self.duration_s, 2),
            "load_s": round(self.load_s, 2),
            "fit_s": round(self.fit_s, 2),
            "quality": self.quality,
            "path": self.path,
            "model_id": self.model_id,
            "cameras": [
                {
                    "camera": c.camera,
                    "day": c.day.isoformat(),
                    "risk_class": c.risk_class,
                    "expected": round(c.expected, 3),
                }
                for c in self.cameras
            ],
            "text_model": self.text_model,
        }


def due_slot(now: datetime, hour_utc: int) -> datetime:
    """The most recent retrain slot at or before ``now``: today's ``hour_utc``:00 UTC, or
    yesterday's if that has not come yet."""
    now = now.astimezone(UTC)
    slot = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return slot if slot <= now else slot - timedelta(days=1)


def last_slot(store: Store) -> datetime | None:
    """The slot of the latest logged refit (successful or not), if any."""
    with store.sessions() as session:
        value: datetime | None = session.scalar(
            select(RiskModel.slot).order_by(RiskModel.slot.desc()).limit(1)
        )
    return value


def load_history(
    store: Store, resolution: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Every stored incident's H3 cell at ``resolution`` and its time (UTC epoch seconds),
    read in one pass (cells re-derived from the place when stored at another resolution)."""
    with store.sessions() as session:
        rows = session.execute(
            select(Incident.occurred_at, Incident.cell, Incident.latitude, Incident.longitude)
        ).all()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    times = np.fromiter((r[0].timestamp() for r in rows), np.float64, len(rows))
    cells = np.fromiter((r[1] for r in rows), np.int64, len(rows))
    if not _all_at(cells, resolution):
        lats = np.fromiter((r[2] for r in rows), np.float64, len(rows))
        lons = np.fromiter((r[3] for r in rows), np.float64, len(rows))
        cells = cells_of_points(lats, lons, resolution)
    return cells, times


def _all_at(cells: npt.NDArray[np.int64], resolution: int) -> bool:
    # An H3 index keeps its resolution in bits 52–55.
    return bool(np.all(((cells >> 52) & 0xF) == resolution))


def save_forecast(forecast: Forecast, path: Path) -> None:
    """Write ``forecast`` to ``path`` whole: a temp file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **forecast.to_arrays())  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def load_forecast(models_dir: Path) -> Forecast | None:
    """The saved forecast, or None when there is none yet. ``ValueError`` for a file that
    is not a forecast of this version."""
    path = models_dir / FORECAST_FILE
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as arrays:
        return Forecast.from_arrays(arrays)


@dataclass(frozen=True, slots=True)
class _Camera:
    camera_id: int
    key: str
    latitude: float
    longitude: float


def _cameras(store: Store) -> list[_Camera]:
    """Enabled cameras with a place: their own, else their site's."""
    with store.sessions() as session:
        rows = session.execute(
            select(
                Camera.id, Camera.key, Camera.geo_lat, Camera.geo_lon, Site.geo_lat, Site.geo_lon
            )
            .join(Site, Site.id == Camera.site_id)
            .where(Camera.enabled.is_(True))
            .order_by(Camera.id)
        ).all()
    out = []
    for camera_id, key, lat, lon, site_lat, site_lon in rows:
        lat, lon = (lat, lon) if lat is not None and lon is not None else (site_lat, site_lon)
        if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
            continue
        out.append(_Camera(int(camera_id), key, float(lat), float(lon)))
    return out


def camera_classes(
    forecast: Forecast, cameras: Sequence[_Camera], days: Sequence[date]
) -> list[CameraRisk]:
    """Each camera's class on each of ``days``: its expected incidents within
    :data:`CAMERA_RADIUS_M` over the UTC day, placed among the same figure for every cell of
    the area (the forecast's history cells) on each of the 7 days from the first one."""
    if not cameras:
        return []
    radius = RiskSettings(resolution=forecast.resolution, radius_m=CAMERA_RADIUS_M)
    area = forecast.history_cells
    # Neighbourhood sums for the reference: every area cell's disk, every day of a week.
    disks = []
    for cell in area.tolist():
        lat, lon = h3.cell_to_latlng(h3.int_to_str(int(cell)))
        disks.append(cells_around(lat, lon, radius)[0])
    first = datetime.combine(days[0], datetime.min.time(), UTC).timestamp()
    reference: list[float] = []
    for d in range(7):
        totals = forecast.expected(forecast.cells, first + d * 86_400, 24)
        lookup = dict(zip(forecast.cells.tolist(), totals.tolist(), strict=True))
        reference.extend(sum(lookup.get(int(c), 0.0) for c in disk) for disk in disks)
    thresholds = risk_thresholds(np.asarray(reference) if reference else np.zeros(1))
    out = []
    for camera in cameras:
        around = cells_around(camera.latitude, camera.longitude, radius)[0]
        for day in days:
            start = datetime.combine(day, datetime.min.time(), UTC).timestamp()
            expected = float(forecast.expected(around, start, 24).sum())
            out.append(
                CameraRisk(
                    camera.camera_id, camera.key, day, risk_class(expected, thresholds), expected
                )
            )
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordRetrain(StoreCommand):
    """Log one refit in ``risk_models`` and store its cameras' classes (replacing those of
    the same days). Returns the new row's id."""

    slot: datetime
    started_at: datetime
    finished_at: datetime
    status: str
    incidents: int
    path: str | None
    quality: dict[str, Any]
    error: str | None = None
    cameras: tuple[CameraRisk, ...] = ()

    def apply(self, session: Session) -> int:
        model_id = int(
            session.execute(
                insert(RiskModel).returning(RiskModel.id),
                [
                    {
                        "slot": self.slot,
                        "started_at": self.started_at,
                        "finished_at": self.finished_at,
                        "status": self.status,
                        "incidents": self.incidents,
                        "path": self.path,
                        "quality": self.quality,
                        "error": None if self.error is None else self.error[:500],
                    }
                ],
            ).scalar_one()
        )
        if self.cameras:
            days = sorted({c.day for c in self.cameras})
            session.execute(delete(CameraRiskDay).where(CameraRiskDay.day.in_(days)))
            session.execute(
                insert(CameraRiskDay),
                [
                    {
                        "camera_id": c.camera_id,
                        "day": c.day,
                        "risk_class": c.risk_class,
                        "expected": c.expected,
                        "model_id": model_id,
                    }
                    for c in self.cameras
                ],
            )
        return model_id


def retrain(
    store: Store,
    writer: StoreWriter,
    *,
    now: datetime,
    models_dir: Path,
    settings: RiskSettings,
    slot: datetime | None = None,
    labels: Callable[[], list[tuple[str, str]]] | None = None,
) -> RetrainReport:
    """Refit everything (see the module) as of ``now``; log the run under ``slot`` (default:
    the slot due at ``now``). A failure is logged as a failed run and raised as
    :class:`RetrainError`."""
    slot = slot or now
    started_at = now
    clock = time.perf_counter()
    incidents = 0
    try:
        cells, times = load_history(store, settings.resolution)
        incidents = int(cells.size)
        load_s = time.perf_counter() - clock
        if incidents == 0:
            raise RetrainError("no incidents stored yet: nothing to learn from")
        now_s = now.timestamp()
        fit_clock = time.perf_counter()
        forecast = fit_forecast(cells, times, now_s=now_s, resolution=settings.resolution)
        fit_s = time.perf_counter() - fit_clock
        quality = _quality(cells, times, now_s, settings.resolution)
        path = models_dir / FORECAST_FILE
        save_forecast(forecast, path)
        today = now.astimezone(UTC).date()
        cameras = camera_classes(forecast, _cameras(store), [today, today + timedelta(days=1)])
        text_model = _retrain_text_model(store, models_dir, labels)
    except Exception as exc:
        finished = now + timedelta(seconds=time.perf_counter() - clock)
        writer.execute(
            RecordRetrain(
                slot=slot,
                started_at=started_at,
                finished_at=finished,
                status="failed",
                incidents=incidents,
                path=None,
                quality={},
                error=str(exc),
            )
        )
        log.warning("risk retrain failed: %s", exc)
        if isinstance(exc, RetrainError):
            raise
        raise RetrainError(f"risk retrain failed: {exc}") from exc
    duration = time.perf_counter() - clock
    model_id = writer.execute(
        RecordRetrain(
            slot=slot,
            started_at=started_at,
            finished_at=now + timedelta(seconds=duration),
            status="ok",
            incidents=incidents,
            path=str(path),
            quality=quality,
            cameras=tuple(cameras),
        )
    )
    log.info(
        "risk retrain: %d incidents in %.1f s; held-out PAI %.2f (baseline %.2f)",
        incidents,
        duration,
        quality.get("model_pai", float("nan")),
        quality.get("baseline_pai", float("nan")),
    )
    return RetrainReport(
        slot=slot,
        incidents=incidents,
        duration_s=duration,
        load_s=load_s,
        fit_s=fit_s,
        quality=quality,
        path=str(path),
        cameras=cameras,
        text_model=text_model,
        model_id=model_id,
    )


def _quality(
    cells: npt.NDArray[np.int64], times: npt.NDArray[np.float64], now_s: float, resolution: int
) -> dict[str, Any]:
    """Hit rate and PAI of the top 10 % of cells on the last held-out days (refitted before
    each), with the yesterday's-counts baseline; empty-handed when history is too short."""
    start = math.floor(now_s / 86_400) * 86_400 - HELD_OUT_DAYS * 86_400
    held = int(np.count_nonzero((times >= start) & (times < start + HELD_OUT_DAYS * 86_400)))
    if held == 0 or int(np.count_nonzero(times < start)) == 0:
        return {"held_out_incidents": held, "note": "too little history to score"}
    result = backtest(
        cells,
        times,
        start_s=start,
        days=HELD_OUT_DAYS,
        refit="daily",
        top_fraction=TOP_FRACTION,
        resolution=resolution,
    )
    return {
        "held_out_days": HELD_OUT_DAYS,
        "held_out_incidents": held,
        "top_fraction": TOP_FRACTION,
        "model_hit_rate": round(result.model_hit_rate, 4),
        "model_pai": round(result.model_pai, 3),
        "baseline_hit_rate": round(result.baseline_hit_rate, 4),
        "baseline_pai": round(result.baseline_pai, 3),
    }


def _retrain_text_model(
    store: Store, models_dir: Path, labels: Callable[[], list[tuple[str, str]]] | None
) -> dict[str, Any]:
    from engine.incidents.classify import train_text_model
    from engine.incidents.records import training_labels

    pairs = labels() if labels is not None else training_labels(store)
    if not pairs:
        return {"trained": False, "reason": "no operator labels yet"}
    texts, categories = [p[0] for p in pairs], [p[1] for p in pairs]
    model, why_not = train_text_model(texts, categories)
    if model is None:
        return {"trained": False, "labels": len(pairs), "reason": why_not or "too few labels"}
    summary: dict[str, Any] = {
        "labels": len(pairs),
        "accuracy": model.accuracy,
        "keyword_accuracy": model.keyword_accuracy,
    }
    if model.accuracy is None or (
        model.keyword_accuracy is not None and model.accuracy <= model.keyword_accuracy
    ):
        return {**summary, "trained": False, "reason": "not better than the keyword rules"}
    model.save(models_dir / TEXT_MODEL_FILE)
    return {**summary, "trained": True}


# -- reading the risk ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hotspot:
    """A cell near a place: where, how far, the incidents expected there over the coming
    hours (the forecast), the live risk now (incidents so far, decayed), and its class."""

    cell: int
    latitude: float
    longitude: float
    distance_m: float
    expected: float
    live: float
    risk_class: str

    def as_json(self) -> dict[str, Any]:
        return {
            "cell": h3.int_to_str(self.cell),
            "latitude": round(self.latitude, 6),
            "longitude": round(self.longitude, 6),
            "distance_m": round(self.distance_m, 1),
            "expected": round(self.expected, 4),
            "live_risk": round(self.live, 4),
            "risk_class": self.risk_class,
        }


def hotspots(
    store: Store,
    forecast: Forecast,
    *,
    latitude: float,
    longitude: float,
    radius_m: float,
    hours_ahead: int,
    limit: int,
    now: datetime,
    half_life_h: float,
) -> list[Hotspot]:
    """The ``limit`` cells within ``radius_m`` of a place with the most incidents expected
    over the next ``hours_ahead`` hours, most first (live risk breaks ties), each classed
    against every cell of the forecast over the same hours."""
    area = RiskSettings(resolution=forecast.resolution, radius_m=radius_m)
    cells, distances = cells_around(latitude, longitude, area)
    start = now.timestamp()
    expected = forecast.expected(cells, start, hours_ahead)
    reference = forecast.expected(forecast.history_cells, start, hours_ahead)
    thresholds = risk_thresholds(reference if reference.size else np.zeros(1))
    live = live_risk(store, cells, now, half_life_h)
    order = np.lexsort((-live, -expected))[:limit]
    out = []
    for i in order.tolist():
        lat, lon = h3.cell_to_latlng(h3.int_to_str(int(cells[i])))
        out.append(
            Hotspot(
                int(cells[i]),
                lat,
                lon,
                float(distances[i]),
                float(expected[i]),
                float(live[i]),
                risk_class(float(expected[i]), thresholds),
            )
        )
    return out


def live_risk(
    store: Store, cells: npt.NDArray[np.int64], now: datetime, half_life_h: float
) -> npt.NDArray[np.float64]:
    """The live risk of each of ``cells`` at ``now`` (0 where no incident reached)."""
    out = np.zeros(cells.size, np.float64)
    if cells.size == 0:
        return out
    index = {int(c): i for i, c in enumerate(cells.tolist())}
    with store.sessions() as session:
        rows = session.execute(
            select(RiskCell.cell, RiskCell.level, RiskCell.as_of).where(
                RiskCell.cell.in_(list(index))
            )
        ).all()
    if not rows:
        return out
    levels = np.array([r.level for r in rows], np.float64)
    as_of = np.array([r.as_of.timestamp() for r in rows], np.float64)
    values = decayed_array(levels, as_of, now.timestamp(), half_life_h)
    for row, value in zip(rows, values.tolist(), strict=True):
        out[index[int(row.cell)]] = value
    return out


def camera_risk(store: Store, day: date) -> dict[str, str]:
    """Each camera's class (by camera key) on UTC ``day``, as the refit before it stored."""
    with store.sessions() as session:
        rows = session.execute(
            select(Camera.key, CameraRiskDay.risk_class)
            .join(Camera, Camera.id == CameraRiskDay.camera_id)
            .where(CameraRiskDay.day == day)
        ).all()
    return {key: cls for key, cls in rows}


# -- the schedule ----------------------------------------------------------------------


class RiskScheduler:
    """Runs ``job(slot)`` daily at ``hour_utc``:00 UTC with APScheduler (one worker thread
    named :data:`THREAD_NAME`), and once at :meth:`start` when the latest logged run
    (``last_slot()``) is older than the slot due now (a missed run is caught up)."""

    def __init__(
        self,
        job: Callable[[datetime], object],
        *,
        hour_utc: int,
        last_slot: Callable[[], datetime | None],
        now: Callable[[], datetime],
        every: Sequence[tuple[str, float, Callable[[], object]]] = (),
    ) -> None:
        """``every``: more jobs as (id, interval in minutes, job), run in the same thread
        (e.g. asking the LLM again about reports it missed)."""
        if not 0 <= hour_utc <= 23:
            raise ValueError(f"retrain hour must be 0–23 (UTC), got {hour_utc!r}")
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self._job = job
        self._hour = hour_utc
        self._last_slot = last_slot
        self._now = now
        self._every = tuple(every)
        self._lock = threading.Lock()
        self.caught_up: datetime | None = None
        self._scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(1, pool_kwargs={"thread_name_prefix": THREAD_NAME})
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=UTC,
        )

    def start(self) -> None:
        from apscheduler.triggers.cron import CronTrigger

        self._scheduler.add_job(
            self._run_due,
            CronTrigger(hour=self._hour, minute=0, timezone=UTC),
            id="risk-retrain",
        )
        from apscheduler.triggers.interval import IntervalTrigger

        for job_id, minutes, job in self._every:
            self._scheduler.add_job(
                _logged(job_id, job), IntervalTrigger(minutes=minutes, timezone=UTC), id=job_id
            )
        due = due_slot(self._now(), self._hour)
        last = self._last_slot()
        if last is None or last < due:
            self.caught_up = due
            self._scheduler.add_job(self._run, args=[due], id="risk-retrain-catch-up")
        self._scheduler.start()
        # APScheduler's own thread: named so it is recognisably the engine's.
        thread = getattr(self._scheduler, "_thread", None)
        if isinstance(thread, threading.Thread):
            thread.name = f"{THREAD_NAME}-scheduler"

    def next_run(self) -> datetime | None:
        job = self._scheduler.get_job("risk-retrain")
        return None if job is None else job.next_run_time

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _run_due(self) -> None:
        self._run(due_slot(self._now(), self._hour))

    def _run(self, slot: datetime) -> None:
        with self._lock:
            try:
                self._job(slot)
            except RetrainError as exc:  # logged in risk_models and shown on the map
                log.warning("risk retrain for %s: %s", slot.isoformat(), exc)
            except Exception:
                log.exception("risk retrain for %s failed", slot.isoformat())


def _logged(job_id: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("scheduled job %s failed", job_id)

    return run
