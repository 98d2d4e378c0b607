"""Incidents in the store, on SQLite and PostgreSQL: correlation of reports into incidents
(time window, box, great-circle distance, media), consensus categories, validation and
correction as training labels, un-merge, re-classification, the risk grid raised by new
incidents, and a batch that fails storing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.access import PermissionDeniedError
from engine.incidents.classify import Classification
from engine.incidents.geo import great_circle_m
from engine.incidents.records import (
    CorrelationSettings,
    FileReports,
    MediaInput,
    NewReport,
    ReclassifyReports,
    RiskUpdate,
    UnknownIncidentError,
    UnmergeError,
    UnmergeReport,
    ValidateIncident,
    consensus,
    find_candidates,
    get_incident,
    incident_reports,
    list_incidents,
    pending_reports,
    reporter_count,
    training_labels,
)
from engine.incidents.reports import ReportInput
from engine.store import Store
from engine.store.audit_models import AuditEntry
from engine.store.incident_models import Incident, IncidentReport, RiskCell
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
LAT, LON = 51.5072, -0.1276  # central London
M_PER_DEG_LAT = 111_195.0


def north(metres: float) -> float:
    return LAT + metres / M_PER_DEG_LAT


def report(
    text: str = "Two men fighting outside the pub",
    *,
    lat: float = LAT,
    lon: float = LON,
    at: datetime = T0,
    reporter: str | None = None,
    category: str = "violence",
    severity: int = 3,
    confidence: float = 0.7,
    classifier: str = "keywords",
    llm_pending: bool = False,
    media: tuple[MediaInput, ...] = (),
) -> NewReport:
    return NewReport(
        report=ReportInput(text=text, latitude=lat, longitude=lon, at=at, reporter=reporter),
        verdict=Classification(
            category,
            severity,
            confidence,
            classifier,
            "LLM timed out after 10 s" if llm_pending else None,
            llm_pending,
        ),
        cell=0x89195DA49B7FFFF,
        media=media,
    )


@pytest.fixture
def writer(store: Store) -> Iterator[StoreWriter]:
    with StoreWriter.running(store) as w:
        yield w


def file(writer: StoreWriter, *items: NewReport, **kwargs: Any) -> list[Any]:
    result: list[Any] = writer.execute(
        FileReports(reports=items, at=T0, actor=OPERATOR, **kwargs), timeout_s=60
    )
    return result


def test_reports_of_one_event_make_one_incident_with_its_reporters_counted(
    writer: StoreWriter, store: Store
) -> None:
    first, second, third = file(
        writer,
        report(reporter="Ann"),
        report("Fight, one man down", lat=north(30), at=T0 + timedelta(minutes=2), reporter="Bob"),
        report("brawl at the pub", lat=north(10), at=T0 + timedelta(minutes=4), reporter="ann "),
    )
    assert not first.merged and second.merged and third.merged
    assert first.incident.incident_id == second.incident.incident_id == third.incident.incident_id
    assert second.matched_report_id == first.report_id
    assert second.distance_m == pytest.approx(30, abs=0.5)
    assert third.incident.report_count == 3
    assert third.incident.reporter_count == 2  # Ann twice (case and spaces ignored), Bob
    assert third.incident.report_ids == (first.report_id, second.report_id, third.report_id)
    assert third.incident.occurred_at == T0
    assert third.incident.last_report_at == T0 + timedelta(minutes=4)
    assert [i.incident_id for i in list_incidents(store)] == [first.incident.incident_id]


@pytest.mark.parametrize(
    ("metres", "minutes", "merged"),
    [
        (49.0, 0.0, True),
        (51.0, 0.0, False),  # just beyond 50 m
        (0.0, 4.9, True),
        (0.0, 5.1, False),  # just beyond 5 min
        (0.0, -4.9, True),  # a report arriving late about an earlier moment
    ],
)
def test_candidates_are_within_the_window_and_the_distance(
    writer: StoreWriter, metres: float, minutes: float, merged: bool
) -> None:
    file(writer, report())
    (filed,) = file(writer, report(lat=north(metres), at=T0 + timedelta(minutes=minutes)))
    assert filed.merged is merged


def test_window_and_distance_are_configurable(writer: StoreWriter) -> None:
    wide = CorrelationSettings(window_s=3600, distance_m=500)
    file(writer, report(), settings=wide)
    (filed,) = file(writer, report(lat=north(400), at=T0 + timedelta(minutes=50)), settings=wide)
    assert filed.merged


def test_the_nearest_candidate_wins(writer: StoreWriter) -> None:
    a, b = file(writer, report(lat=north(0)), report(lat=north(90)))
    assert a.incident.incident_id != b.incident.incident_id  # 90 m apart: two incidents
    (c,) = file(writer, report(lat=north(60)))  # 60 m from a, 30 m from b
    assert c.incident.incident_id == b.incident.incident_id


def test_exact_distance_not_just_the_box(writer: StoreWriter) -> None:
    """A point in the box's corner is ~70 m away: inside the box, outside the circle."""
    file(writer, report())
    east = 45.0 / (M_PER_DEG_LAT * 0.6225)  # cos(51.5°) ≈ 0.6225
    corner_lat, corner_lon = north(45), LON + east
    assert great_circle_m(LAT, LON, corner_lat, corner_lon) > 60
    (filed,) = file(writer, report(lat=corner_lat, lon=corner_lon))
    assert not filed.merged


def test_correlation_across_the_antimeridian(writer: StoreWriter) -> None:
    file(writer, report(lat=-16.8, lon=179.9998))
    (filed,) = file(writer, report(lat=-16.8, lon=-179.9998))  # ~43 m east, across 180°
    assert filed.merged


def test_candidate_search_uses_the_time_then_place_index(store: Store) -> None:
    """The plan reads ix_incident_reports_at_lat_lon: a range on time, the box checked from
    the index itself, not a scan of the table."""
    from engine.incidents.geo import bounding_box

    box = bounding_box(LAT, LON, 50)
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id, incident_id, at, latitude, longitude "
                "FROM incident_reports WHERE at BETWEEN ? AND ? AND latitude BETWEEN ? AND ? "
                "AND longitude BETWEEN ? AND ?",
                (
                    "2026-11-20 21:25:00",
                    "2026-11-20 21:35:00",
                    box.min_lat,
                    box.max_lat,
                    box.min_lon,
                    box.max_lon,
                ),
            ).all()
            text = " ".join(str(row[-1]) for row in plan)
            assert "ix_incident_reports_at_lat_lon" in text, text
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM incident_reports WHERE at BETWEEN %s AND %s "
                "AND latitude BETWEEN %s AND %s",
                (T0 - timedelta(minutes=5), T0 + timedelta(minutes=5), box.min_lat, box.max_lat),
            ).all()
            text = " ".join(str(row[0]) for row in plan)
            assert "ix_incident_reports_at_lat_lon" in text, text


def test_find_candidates_orders_nearest_first(writer: StoreWriter, store: Store) -> None:
    wide = CorrelationSettings(distance_m=200)
    file(writer, report(lat=north(100)), report(lat=north(-150)), settings=wide)
    with store.sessions() as session:
        found = find_candidates(session, north(0), LON, T0, CorrelationSettings(distance_m=200))
    assert [round(c.distance_m) for c in found] == [100, 150]


def _signature(value: float) -> dict[str, float]:
    return {"v": value}


def _similarity(a: Any, b: Any) -> float:
    return 1.0 - abs(float(a["v"]) - float(b["v"]))


def _media(value: float) -> tuple[MediaInput, ...]:
    return (MediaInput("photo", f"/m/{value}.jpg", "0" * 64, 10, signature=_signature(value)),)


def test_media_must_look_alike_only_when_both_carry_media(writer: StoreWriter) -> None:
    file(writer, report(media=_media(0.0)), similarity=_similarity)
    (unlike,) = file(writer, report(media=_media(0.5)), similarity=_similarity)  # sim 0.5
    assert not unlike.merged
    # near both stored reports: unlike the first's photo (0.55), like the second's (0.95)
    (alike,) = file(writer, report(lat=north(5), media=_media(0.45)), similarity=_similarity)
    assert alike.merged and alike.incident.incident_id == unlike.incident.incident_id
    (bare,) = file(writer, report(lat=north(5)), similarity=_similarity)
    assert bare.merged  # no media on the new report: time and place decide
    assert len(bare.incident.media_ids) >= 1


def test_consensus_majority_then_confidence_then_tie() -> None:
    v = Classification
    assert consensus([v("theft", 2, 0.6, "keywords")]).basis == "single"
    majority = consensus(
        [v("theft", 2, 0.9, "a"), v("violence", 4, 0.5, "b"), v("violence", 3, 0.6, "c")]
    )
    assert (majority.category, majority.basis, majority.severity) == ("violence", "majority", 4)
    assert majority.confidence == pytest.approx(0.55)
    assert majority.classifier == "c"
    by_confidence = consensus([v("theft", 2, 0.9, "a"), v("violence", 4, 0.5, "b")])
    assert (by_confidence.category, by_confidence.basis) == ("theft", "confidence")
    tie = consensus([v("fire", 4, 0.5, "a"), v("medical", 3, 0.5, "b")])
    assert (tie.category, tie.basis, tie.tied) == ("fire", "tie", ("fire", "medical"))
    with pytest.raises(ValueError, match="no reports"):
        consensus([])


def test_reporter_count_counts_anonymous_reports_each() -> None:
    assert reporter_count(["Ann", "ann", " Ann  ", None, "", "Bob"]) == 4


def test_merged_incident_category_by_consensus(writer: StoreWriter) -> None:
    file(writer, report(category="theft", confidence=0.9))
    file(writer, report(category="violence", confidence=0.5))
    (third,) = file(writer, report(category="violence", confidence=0.6, severity=4))
    assert third.incident.category == "violence"
    assert third.incident.category_basis == "majority"
    assert third.incident.severity == 4


def test_validate_and_correct_are_training_labels_and_stick(
    writer: StoreWriter, store: Store
) -> None:
    (filed,) = file(writer, report("Man shouting at staff", category="other"))
    incident_id = filed.incident.incident_id
    view = writer.execute(
        ValidateIncident(
            incident_id=incident_id, category="suspicious_activity", at=T0, actor=OPERATOR
        )
    )
    assert view.category == "suspicious_activity"
    assert view.category_basis == "corrected"
    assert view.classifier == "operator:olga"
    assert view.validated_by == "account:olga"
    # a later report of the same event does not overturn the operator
    (later,) = file(writer, report("a theft", category="theft", confidence=0.99))
    assert later.incident.incident_id == incident_id
    assert later.incident.category == "suspicious_activity"
    assert later.incident.report_count == 2
    assert training_labels(store) == [("Man shouting at staff", "suspicious_activity")]
    again = writer.execute(ValidateIncident(incident_id=incident_id, at=T0, actor=OPERATOR))
    assert again.category_basis == "validated"
    assert training_labels(store) == [("Man shouting at staff\na theft", "suspicious_activity")]
    with store.sessions() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("incident.validate") == 2
    with pytest.raises(ValueError, match="unknown category 'arson'; valid: violence"):
        ValidateIncident(incident_id=incident_id, category="arson", at=T0, actor=OPERATOR)
    with pytest.raises(UnknownIncidentError, match="no incident 999"):
        writer.execute(ValidateIncident(incident_id=999, at=T0, actor=OPERATOR))


def test_unmerge_splits_a_report_off_and_is_audited(writer: StoreWriter, store: Store) -> None:
    a, b = file(
        writer,
        report(reporter="Ann", category="violence"),
        report("smoke from the bins", reporter="Bob", category="fire", lat=north(20)),
    )
    assert b.merged
    old, new = writer.execute(UnmergeReport(report_id=b.report_id, at=T0, actor=INVESTIGATOR))
    assert old.incident_id == a.incident.incident_id
    assert old.report_ids == (a.report_id,) and old.reporter_count == 1
    assert old.category == "violence"
    assert new.report_ids == (b.report_id,) and new.category == "fire"
    assert new.incident_id != old.incident_id
    (merge,) = [r.merge for r in incident_reports(store, new.incident_id)]
    assert merge["unmerged_from"] == old.incident_id
    with pytest.raises(UnmergeError, match="only report of incident"):
        writer.execute(UnmergeReport(report_id=b.report_id, at=T0, actor=INVESTIGATOR))
    with pytest.raises(UnknownIncidentError, match="no incident report 999"):
        writer.execute(UnmergeReport(report_id=999, at=T0, actor=INVESTIGATOR))
    with store.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "incident.unmerge")
        ).one()
    assert entry.actor == "account:ian"
    assert json.loads(entry.detail) == {
        "from_incident": old.incident_id,
        "to_incident": new.incident_id,
    }


def test_filing_needs_the_permission(writer: StoreWriter, store: Store) -> None:
    from engine.access import Actor

    nobody = Actor("nobody", frozenset())
    with pytest.raises(PermissionDeniedError, match="file_report"):
        writer.execute(FileReports(reports=(report(),), at=T0, actor=nobody))
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
    for actor in (OPERATOR, INVESTIGATOR, ADMIN):
        writer.execute(FileReports(reports=(report(),), at=T0, actor=actor))


def test_a_batch_that_fails_stores_nothing(writer: StoreWriter, store: Store) -> None:
    """A report whose incident cannot be stored (here: a media kind the schema refuses)
    rolls back the whole file: no incident, no report, no risk."""
    bad = report(media=(MediaInput("audio", "/m/a.wav", "0" * 64, 10),))
    risk = RiskUpdate(lambda lat, lon, c: ([1, 2], [1.0, 0.5]), half_life_h=168)
    with pytest.raises(Exception):  # noqa: B017 - the database's constraint error
        writer.execute(
            FileReports(
                reports=(report(), report(lat=north(500)), bad), at=T0, actor=OPERATOR, risk=risk
            )
        )
    with store.sessions() as session:
        for table in (Incident, IncidentReport, RiskCell):
            assert session.scalar(select(func.count()).select_from(table)) == 0


def test_new_incidents_raise_the_risk_and_merges_do_not(writer: StoreWriter, store: Store) -> None:
    risk = RiskUpdate(lambda lat, lon, c: ([10, 11], [1.0, 0.25]), half_life_h=24)
    file(writer, report(), risk=risk)
    file(writer, report(lat=north(10)), risk=risk)  # merged: the same event
    file(writer, report(lat=north(5000), at=T0 + timedelta(hours=24)), risk=risk)  # new
    with store.sessions() as session:
        cells = {c.cell: (c.level, c.as_of) for c in session.scalars(select(RiskCell))}
    # the first increment halved over the 24 h half-life, then the second added
    assert cells[10][0] == pytest.approx(1.0 * 0.5 + 1.0)
    assert cells[11][0] == pytest.approx(0.25 * 0.5 + 0.25)
    assert cells[10][1] == T0 + timedelta(hours=24)
    # an older incident filed later (an import of history) adds its decayed increment
    file(writer, report(lat=north(-5000), at=T0), risk=risk)
    with store.sessions() as session:
        level = session.get(RiskCell, 10)
        assert level is not None
    assert level.level == pytest.approx(1.5 + 0.5)
    assert level.as_of == T0 + timedelta(hours=24)


def test_reclassify_pending_reports_updates_consensus(writer: StoreWriter, store: Store) -> None:
    (a,) = file(writer, report("flames in a bin", category="other", llm_pending=True))
    assert a.incident.llm_pending
    assert pending_reports(store) == [(a.report_id, "flames in a bin")]
    changed = writer.execute(
        ReclassifyReports(verdicts={a.report_id: Classification("fire", 3, 0.92, "llm:claude")})
    )
    assert changed == [a.incident.incident_id]
    incident = get_incident(store, a.incident.incident_id)
    assert (incident.category, incident.classifier, incident.llm_pending) == (
        "fire",
        "llm:claude",
        False,
    )
    assert pending_reports(store) == []


def test_list_filters_by_category_and_time(writer: StoreWriter, store: Store) -> None:
    file(
        writer,
        report(category="theft"),
        report(category="fire", lat=north(1000), at=T0 + timedelta(hours=1)),
        report(category="theft", lat=north(2000), at=T0 + timedelta(hours=2)),
    )
    assert [i.category for i in list_incidents(store)] == ["theft", "fire", "theft"]
    assert len(list_incidents(store, category="theft")) == 2
    assert len(list_incidents(store, since=T0 + timedelta(minutes=30))) == 2
    assert len(list_incidents(store, until=T0 + timedelta(minutes=30))) == 1
    assert len(list_incidents(store, limit=1, offset=2)) == 1
    with pytest.raises(ValueError, match="unknown category 'arson'"):
        list_incidents(store, category="arson")


def test_verdict_and_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        Classification("arson", 3, 0.5, "x")
    with pytest.raises(ValueError, match="severity 6 is outside 1-5"):
        Classification("fire", 6, 0.5, "x")
    with pytest.raises(ValueError, match=r"confidence 1\.5 is outside 0-1"):
        Classification("fire", 3, 1.5, "x")
    with pytest.raises(ValueError, match="correlation distance"):
        CorrelationSettings(distance_m=-1)
    with pytest.raises(ValueError, match="correlation window"):
        CorrelationSettings(window_s=float("nan"))
