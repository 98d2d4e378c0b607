"""The nightly risk refit on SQLite and PostgreSQL: from stored incidents to a saved
forecast, its logged quality against yesterday's counts, cameras' daily classes, hotspots
with the live risk; a failed run logged; the 02:00 UTC schedule and its catch-up at start
(APScheduler, the engine's named thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from benchmarks.incident_generator import generate_incidents
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.incidents.classify import Classification
from engine.incidents.intake import IntakeSettings
from engine.incidents.nightly import (
    FORECAST_FILE,
    RetrainError,
    RiskScheduler,
    camera_risk,
    due_slot,
    hotspots,
    last_slot,
    load_forecast,
    retrain,
)
from engine.incidents.records import FileReports, NewReport
from engine.incidents.reports import ReportInput
from engine.incidents.risk import CATEGORIES, RISK_CLASSES, cells_of_points
from engine.store import Store
from engine.store.incident_models import RiskModel
from engine.store.writer import StoreWriter
from tests.actors import OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site

pytestmark = pytest.mark.sql

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CENTRE = (51.5072, -0.1276)


@pytest.fixture
def writer(store: Store) -> Iterator[StoreWriter]:
    with StoreWriter.running(store) as w:
        yield w


def fill(writer: StoreWriter, n: int = 1500, days: int = 40) -> None:
    """``n`` generated incidents over the ``days`` before NOW, filed through the store."""
    history = generate_incidents(
        n,
        seed=5,
        centre_lat=CENTRE[0],
        centre_lon=CENTRE[1],
        days=days,
        end_s=int(NOW.timestamp()),
        hotspots=6,
    )
    cells = cells_of_points(history.lat, history.lon, 9)
    items = tuple(
        NewReport(
            report=ReportInput(
                text="incident",
                latitude=float(history.lat[i]),
                longitude=float(history.lon[i]),
                at=datetime.fromtimestamp(int(history.t_s[i]), UTC),
            ),
            verdict=Classification(CATEGORIES[int(history.category[i])], 2, 0.6, "keywords"),
            cell=int(cells[i]),
        )
        for i in range(len(history))
    )
    # correlation off: each generated incident is its own (the generator's are distinct)
    from engine.incidents.records import CorrelationSettings

    writer.execute(
        FileReports(
            reports=items,
            at=NOW,
            actor=OPERATOR,
            settings=CorrelationSettings(window_s=0, distance_m=0),
            risk=IntakeSettings().risk_update(),
        ),
        timeout_s=300,
    )


def test_due_slot_is_the_latest_past_slot() -> None:
    assert due_slot(datetime(2026, 11, 23, 1, 59, tzinfo=UTC), 2) == datetime(
        2026, 11, 22, 2, 0, tzinfo=UTC
    )
    assert due_slot(datetime(2026, 11, 23, 2, 0, tzinfo=UTC), 2) == datetime(
        2026, 11, 23, 2, 0, tzinfo=UTC
    )
    assert due_slot(datetime(2026, 11, 23, 23, 0, tzinfo=UTC), 0) == datetime(
        2026, 11, 23, 0, 0, tzinfo=UTC
    )


@pytest.mark.slow
def test_retrain_saves_the_forecast_logs_quality_and_classes_cameras(
    store: Store, writer: StoreWriter, tmp_path: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "hotspot"\nurl = "a.mp4"\n'
        f"geo = {{ lat = {CENTRE[0]}, lon = {CENTRE[1]} }}\n"
        '[[cameras]]\nid = "far"\nurl = "b.mp4"\ngeo = { lat = 51.62, lon = 0.05 }\n',
    )
    sync_site(store, load_site(site), REAL_CLOCK)
    fill(writer)
    models = tmp_path / "models"
    report = retrain(store, writer, now=NOW, models_dir=models, settings=IntakeSettings().risk)
    assert report.incidents == 1500
    assert (models / FORECAST_FILE).exists()
    assert not list(models.glob("*.tmp"))
    q = report.quality
    assert q["held_out_days"] == 7 and q["held_out_incidents"] > 100
    assert q["model_pai"] > 1.0  # better than flagging cells at random
    assert 0 < q["model_hit_rate"] <= 1 and "baseline_pai" in q
    forecast = load_forecast(models)
    assert forecast is not None and forecast.cells.size > 10
    classes = camera_risk(store, NOW.date())
    assert set(classes) == {"hotspot", "far"}
    assert all(c in RISK_CLASSES for c in classes.values())
    # the camera in the city centre expects more than the one 14 km out
    by_camera = {c.camera: c.expected for c in report.cameras if c.day == NOW.date()}
    assert by_camera["hotspot"] > by_camera["far"]
    assert classes["far"] == "very_low"
    assert camera_risk(store, (NOW + timedelta(days=1)).date())  # tomorrow too
    assert last_slot(store) == NOW
    assert report.text_model["trained"] is False  # no operator labels yet
    spots = hotspots(
        store,
        forecast,
        latitude=CENTRE[0],
        longitude=CENTRE[1],
        radius_m=2000,
        hours_ahead=24,
        limit=5,
        now=NOW,
        half_life_h=168,
    )
    assert len(spots) == 5
    assert [s.expected for s in spots] == sorted((s.expected for s in spots), reverse=True)
    assert all(s.distance_m <= 2000 and s.live > 0 for s in spots)


def test_a_failed_refit_is_logged(store: Store, writer: StoreWriter, tmp_path: Path) -> None:
    with pytest.raises(RetrainError, match="no incidents stored yet"):
        retrain(store, writer, now=NOW, models_dir=tmp_path, settings=IntakeSettings().risk)
    with store.sessions() as session:
        row = session.scalars(select(RiskModel)).one()
    assert row.status == "failed" and "no incidents" in (row.error or "")
    assert load_forecast(tmp_path) is None


def test_a_corrupt_forecast_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / FORECAST_FILE).write_bytes(b"not a forecast")
    with pytest.raises(ValueError):
        load_forecast(tmp_path)


class _Runs:
    def __init__(self) -> None:
        self.slots: list[datetime] = []
        self.done = threading.Event()
        self.threads: list[str] = []

    def __call__(self, slot: datetime) -> None:
        self.slots.append(slot)
        self.threads.append(threading.current_thread().name)
        self.done.set()


def test_a_missed_run_is_caught_up_at_start_in_the_engine_thread() -> None:
    runs = _Runs()
    now = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    scheduler = RiskScheduler(
        runs,
        hour_utc=2,
        last_slot=lambda: datetime(2026, 11, 22, 2, 0, tzinfo=UTC),  # yesterday's ran
        now=lambda: now,
    )
    scheduler.start()
    try:
        assert runs.done.wait(10)
        assert runs.slots == [datetime(2026, 11, 23, 2, 0, tzinfo=UTC)]
        assert runs.threads[0].startswith("risk-retrain")
        next_run = scheduler.next_run()
        assert next_run is not None and next_run.hour == 2 and next_run.minute == 0
        assert next_run.utcoffset() == timedelta(0)
    finally:
        scheduler.stop()


def test_no_catch_up_when_the_due_run_happened() -> None:
    runs = _Runs()
    marker = threading.Event()
    now = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    scheduler = RiskScheduler(
        runs,
        hour_utc=2,
        last_slot=lambda: datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        now=lambda: now,
        every=[("marker", 0.002, marker.set)],  # first due 0.12 s after start
    )
    scheduler.start()
    try:
        # A catch-up is due at start, before the marker, and the one worker runs jobs in
        # turn: once the marker has run, a catch-up would have run too.
        assert marker.wait(10)
        assert runs.slots == [] and scheduler.caught_up is None
    finally:
        scheduler.stop()


def test_a_bad_hour_is_refused() -> None:
    with pytest.raises(ValueError, match="0–23"):
        RiskScheduler(lambda slot: None, hour_utc=24, last_slot=lambda: None, now=REAL_CLOCK.now)


def test_live_risk_decays_from_the_stored_level(store: Store, writer: StoreWriter) -> None:
    from engine.incidents.nightly import live_risk

    fill(writer, n=50, days=2)
    with store.sessions() as session:
        from engine.store.incident_models import RiskCell

        cell = session.scalars(select(RiskCell).order_by(RiskCell.level.desc()).limit(1)).one()
        level, as_of = cell.level, cell.as_of
    cells = np.array([cell.cell], np.int64)
    assert live_risk(store, cells, as_of, 168)[0] == pytest.approx(level)
    assert live_risk(store, cells, as_of + timedelta(hours=168), 168)[0] == pytest.approx(level / 2)
    assert live_risk(store, np.array([1], np.int64), NOW, 168)[0] == 0.0


def test_more_jobs_run_on_their_interval_in_the_same_thread() -> None:
    runs = _Runs()
    ticks: list[str] = []
    done = threading.Event()

    def tick() -> None:
        ticks.append(threading.current_thread().name)
        done.set()

    scheduler = RiskScheduler(
        runs,
        hour_utc=2,
        last_slot=lambda: datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        now=lambda: datetime(2026, 11, 23, 9, 15, tzinfo=UTC),
        every=[("tick", 0.002, tick)],  # every 0.12 s
    )
    scheduler.start()
    try:
        assert done.wait(10)
        assert ticks[0].startswith("risk-retrain")
        assert runs.slots == []
    finally:
        scheduler.stop()
