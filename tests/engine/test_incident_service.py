"""The engine's incident desk: the console's form, a file import, an operator escalating a
stored engine event, corrections, the bus events the panes listen to, the risk map's data
before and after a refit, and the nightly schedule started with it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.access import Actor, PermissionDeniedError
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.events import Event
from engine.incidents.reports import ReportFileError
from engine.incidents.service import IncidentFiled, IncidentService, RiskRefitted
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.incident_models import IncidentReport, RiskModel
from engine.store.writer import StoreWriter
from tests.actors import OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SITE = (51.5, -0.14)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(NOW)


@pytest.fixture
def writer(store: Store, clock: SimulatedClock) -> Iterator[StoreWriter]:
    """A writer that commits each command as it comes (``batch_max=1``): the desk files a
    form's report and waits for it, so a batching writer would spend its real-time flush
    interval (50 ms) gathering a burst that never comes, once per report."""
    w = StoreWriter(store, clock=clock, batch_max=1)
    w.start()
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture
def site_ids(store: Store, tmp_path: Path, clock: SimulatedClock) -> Any:
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "a.mp4"\ngeo = { lat = 51.501, lon = -0.141 }\n'
        '[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
    )
    return sync_site(store, load_site(site), clock)


@pytest.fixture
def service(
    store: Store, writer: StoreWriter, clock: SimulatedClock, site_ids: Any, tmp_path: Path
) -> Iterator[tuple[IncidentService, list[Any]]]:
    bus = EventBus()
    seen: list[Any] = []
    bus.subscribe(Event, seen.append)
    desk = IncidentService(
        store,
        writer,
        clock,
        models_dir=tmp_path / "models",
        bus=bus,
        site_id=site_ids.site_id,
        site_centre=SITE,
        schedule=False,
    )
    desk.start()
    yield desk, seen
    desk.stop()


def test_a_form_report_is_filed_and_announced(service: tuple[IncidentService, list[Any]]) -> None:
    desk, seen = service
    filed = desk.file_report(
        OPERATOR, text="Bike stolen from the rack", latitude=51.5, longitude=-0.14, at=NOW
    )
    assert filed.incident.category == "theft" and not filed.merged
    (event,) = [e for e in seen if isinstance(e, IncidentFiled)]
    assert event.incidents[0].incident_id == filed.incident.incident_id


def test_filing_needs_the_permission(service: tuple[IncidentService, list[Any]]) -> None:
    desk, _ = service
    nobody = Actor("nobody", frozenset())
    with pytest.raises(PermissionDeniedError, match="file_report"):
        desk.file_report(nobody, text="x", latitude=51.5, longitude=-0.14, at=NOW)


def test_an_engine_event_is_escalated_with_its_camera_place_and_time(
    service: tuple[IncidentService, list[Any]],
    writer: StoreWriter,
    site_ids: Any,
    store: Store,
) -> None:
    desk, _ = service
    at = NOW - timedelta(minutes=3)
    gate = writer.execute(
        InsertEvent(
            ts=at,
            kind="person.appeared",
            source="camera:gate",
            detail={},
            site_id=site_ids.site_id,
            camera_id=site_ids.cameras["gate"],
            track_id=7,
        )
    )
    yard = writer.execute(
        InsertEvent(
            ts=at,
            kind="person.appeared",
            source="camera:yard",
            detail={},
            site_id=site_ids.site_id,
            camera_id=site_ids.cameras["yard"],
            track_id=8,
        )
    )
    filed = desk.escalate_event(OPERATOR, gate, "Man climbing the fence")
    assert filed.incident.occurred_at == at
    assert (filed.incident.latitude, filed.incident.longitude) == (51.501, -0.141)
    assert filed.incident.category == "suspicious_activity"
    with store.sessions() as session:
        report = session.scalars(select(IncidentReport)).one()
    assert (report.source, report.event_id, report.reporter) == ("escalation", gate, "olga")
    assert f"escalated from event {gate}" in report.text
    # a camera without a position: the site's
    other = desk.escalate_event(OPERATOR, yard, "")
    assert (other.incident.latitude, other.incident.longitude) == SITE
    with pytest.raises(LookupError, match="no event 999"):
        desk.escalate_event(OPERATOR, 999, "x")


def test_an_escalated_fall_is_medical_and_serious_whatever_its_words(
    service: tuple[IncidentService, list[Any]],
    writer: StoreWriter,
    site_ids: Any,
    store: Store,
) -> None:
    desk, _ = service
    fall = writer.execute(
        InsertEvent(
            ts=NOW - timedelta(minutes=1),
            kind="sensing.fall_detected",
            source="sensing:room",
            detail={"blob": 2, "position": [2.0, 3.0, 0.3], "fell_s_ago": 1.2},
            site_id=site_ids.site_id,
            camera_id=None,
            track_id=2,
        )
    )
    filed = desk.escalate_event(OPERATOR, fall, "")  # no words: the keywords find nothing
    assert (filed.incident.category, filed.incident.severity >= 4) == ("medical", True)
    with store.sessions() as session:
        report = session.scalars(select(IncidentReport)).one()
    assert report.text == f"Possible fall [escalated from event {fall}: Possible fall]"
    assert report.classifier.startswith("event kind (keywords said ")
    # Words that say more than the floor keep their severity.
    worded = desk.escalate_event(OPERATOR, fall, "She is unconscious and not breathing")
    assert worded.incident.category == "medical" and worded.incident.severity == 5


def test_an_import_files_all_or_nothing(
    service: tuple[IncidentService, list[Any]], tmp_path: Path, store: Store
) -> None:
    desk, _ = service
    good = tmp_path / "good.csv"
    good.write_text(
        "text,lat,lon,at\n"
        "Smoke from the bins,51.5,-0.14,2026-11-23T08:00:00Z\n"
        "Bins on fire,51.5001,-0.14,2026-11-23T08:02:00Z\n",
        encoding="utf-8",
    )
    progress: list[tuple[int, int]] = []
    filed = desk.import_file(OPERATOR, good, lambda done, total: progress.append((done, total)))
    assert [f.merged for f in filed] == [False, True]
    assert progress[-1] == (2, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "text,lat,lon,at\nok,51.5,-0.14,2026-11-23T08:00:00Z\nbad,95,-0.14,2026-11-23T08:00:00Z\n",
        encoding="utf-8",
    )
    with pytest.raises(ReportFileError, match="line 3"):
        desk.import_file(OPERATOR, bad)
    with store.sessions() as session:
        assert len(session.scalars(select(IncidentReport)).all()) == 2


@pytest.mark.slow
def test_the_risk_map_before_and_after_a_refit(
    service: tuple[IncidentService, list[Any]], clock: SimulatedClock
) -> None:
    desk, seen = service
    empty = desk.risk_map(hours=6)
    assert empty.cells.size > 250  # 3 km around the site in 0.1 km² cells
    assert empty.predicted.size == 0 and empty.model_problem is not None
    assert {c.key for c in empty.cameras} == {"gate"}  # the one with a position
    for day in range(20):
        for n in range(3):
            desk.file_report(
                OPERATOR,
                text="Phone snatched outside the station",
                latitude=51.5 + n * 0.004,
                longitude=-0.14,
                at=NOW - timedelta(days=day, hours=n),
            )
    report = desk.retrain_now()
    assert report.incidents == 60
    assert any(isinstance(e, RiskRefitted) for e in seen)
    fitted = desk.risk_map(hours=6)
    assert fitted.predicted.shape == (fitted.cells.size, 6)
    assert fitted.predicted.sum() > 0 and fitted.model_problem is None
    assert fitted.live.max() > 0
    assert fitted.cameras[0].risk_class is not None
    assert fitted.predicted_class(int(fitted.predicted.sum(axis=1).argmax()), 0) is not None


def test_the_schedule_catches_up_a_missed_refit_at_start(
    store: Store, writer: StoreWriter, clock: SimulatedClock, site_ids: Any, tmp_path: Path
) -> None:
    desk = IncidentService(
        store, writer, clock, models_dir=tmp_path, site_id=site_ids.site_id, site_centre=SITE
    )
    desk.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with store.sessions() as session:
                runs = session.scalars(select(RiskModel)).all()
            if runs and desk.last_retrain_error is not None:
                break
            time.sleep(0.05)
        (run,) = runs
        assert run.status == "failed"  # nothing to learn from yet, and it says so
        assert run.slot == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
        assert desk.last_retrain_error is not None
        assert desk.next_retrain is not None
        problem = desk.risk_map(hours=1).model_problem
        assert problem is not None and problem.startswith("the last risk refit failed (no ")
    finally:
        desk.stop()
