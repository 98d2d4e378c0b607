"""Sequences and the low-risk filter on the real store (SQLite and PostgreSQL): max_conf is set
at creation and only raised, sequences of a site group into alerts, and the per-camera CASE
filter gives exact pages whose counts equal the lists."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.alerts.filtering import (
    AlertCountRequest,
    AlertListRequest,
    RiskGate,
    parse_override,
    passes,
)
from engine.alerts.records import AcknowledgeAlert
from engine.alerts.sequences import CreateSequence, ExtendSequence, LabelSequence
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.alert_models import AlertSequence
from engine.store.audit import AuditListRequest
from engine.store.models import Camera, Site
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CAMERAS = ("gate", "yard", "dock", "roof")


def seed_site(store: Store) -> None:
    with store.transaction() as session:
        site = Site(name="depot", geo_lat=0.0, geo_lon=0.0, updated_at=T0)
        session.add(site)
        session.flush()
        for key in CAMERAS:
            session.add(
                Camera(site_id=site.id, key=key, name=key, url="file:x", source_kind="file")
            )


def sequence(
    camera: str | None,
    conf: float | None,
    at: datetime,
    *,
    window_s: float = 0.0,
    detections: int = 3,
) -> CreateSequence:
    return CreateSequence(
        seq_key=uuid.uuid4().hex,
        source=f"camera:{camera}" if camera else "sensing:lab",
        camera=camera,
        site="depot",
        trigger="person",
        rule_id=None,
        track_id=1,
        started_at=at,
        last_seen_at=at + timedelta(seconds=2),
        detections=detections,
        max_conf=conf,
        snapshot=None,
        severity="warning",
        title=f"Person on camera {camera}",
        group_window_s=window_s,
    )


@pytest.fixture
def store_writer(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> tuple[Store, StoreWriter]:
    store = Store(db_url)
    seed_site(store)
    return store, start_writer(store)


def stored_max_conf(store: Store, key: str) -> float | None:
    with store.sessions() as session:
        return session.query(AlertSequence.max_conf).filter_by(seq_key=key).scalar()


def test_max_conf_is_set_at_creation_raised_in_sql_and_never_lowered(
    store_writer: tuple[Store, StoreWriter],
) -> None:
    store, writer = store_writer
    create = sequence("gate", 0.5, T0)
    stored = writer.execute(create)
    assert stored.new_alert and stored_max_conf(store, create.seq_key) == pytest.approx(0.5)
    later = T0 + timedelta(seconds=5)
    assert writer.execute(
        ExtendSequence(seq_key=create.seq_key, last_seen_at=later, added=2, max_conf=0.4)
    ).max_conf == pytest.approx(0.5)
    assert writer.execute(
        ExtendSequence(seq_key=create.seq_key, last_seen_at=later, added=1, max_conf=0.81)
    ).max_conf == pytest.approx(0.81)
    # An extension that arrives late with a lower value (and an older time) lowers nothing.
    assert writer.execute(
        ExtendSequence(seq_key=create.seq_key, last_seen_at=T0, added=1, max_conf=0.2)
    ).max_conf == pytest.approx(0.81)
    with store.sessions() as session:
        row = session.query(AlertSequence).filter_by(seq_key=create.seq_key).one()
        assert row.detections == 3 + 2 + 1 + 1
        assert row.last_seen_at == later
    assert (
        writer.execute(ExtendSequence(seq_key="gone", last_seen_at=later, added=1, max_conf=0.9))
        is None
    )


def test_sequences_of_a_site_overlapping_in_time_group_into_one_alert(
    store_writer: tuple[Store, StoreWriter],
) -> None:
    store, writer = store_writer
    first = writer.execute(sequence("gate", 0.7, T0, window_s=300))
    second = writer.execute(sequence("yard", 0.6, T0 + timedelta(seconds=200), window_s=300))
    apart = writer.execute(sequence("dock", 0.6, T0 + timedelta(seconds=900), window_s=300))
    assert second.alert.alert_id == first.alert.alert_id and not second.new_alert
    assert apart.new_alert and apart.alert.alert_id != first.alert.alert_id
    # An acknowledged alert takes no new sequences: what comes after needs a new look.
    writer.execute(AcknowledgeAlert(alert_id=apart.alert.alert_id, at=T0, actor=OPERATOR))
    after = writer.execute(sequence("dock", 0.6, T0 + timedelta(seconds=950), window_s=300))
    assert after.new_alert
    page = AlertListRequest(with_counts=True).run(store)
    assert [len(r.sequences) for r in page.rows] == [1, 1, 2]
    assert page.rows[2].cameras == ("gate", "yard")


def low_day_store(writer: StoreWriter) -> dict[str, int]:
    """Alerts (one sequence each unless said) on a day when gate is low, yard very low, dock
    moderate and roof has no class."""
    ids: dict[str, int] = {}
    cases = {
        "gate 0.45": ("gate", 0.45),
        "gate 0.4499": ("gate", 0.4499),
        "yard 0.60": ("yard", 0.60),
        "yard 0.5999": ("yard", 0.5999),
        "dock 0.01": ("dock", 0.01),
        "roof 0.02": ("roof", 0.02),
        "gate unknown": ("gate", None),
        "room": (None, None),
    }
    at = T0
    for name, (camera, conf) in cases.items():
        ids[name] = writer.execute(sequence(camera, conf, at)).alert.alert_id
        at += timedelta(minutes=1)
    return ids


LOW_DAY = {"gate": "low", "yard": "very_low", "dock": "moderate"}


def listed(store: Store, gate: RiskGate, **kw: object) -> list[int]:
    return [r.alert_id for r in AlertListRequest(gate=gate, limit=100, **kw).run(store).rows]  # type: ignore[arg-type]


def test_thresholds_are_inclusive_and_unknowns_are_kept(
    store_writer: tuple[Store, StoreWriter],
) -> None:
    store, writer = store_writer
    ids = low_day_store(writer)
    shown = set(listed(store, RiskGate(LOW_DAY)))
    hidden = {ids["gate 0.4499"], ids["yard 0.5999"]}
    assert shown == set(ids.values()) - hidden
    assert AlertCountRequest(gate=RiskGate(LOW_DAY)).run(store) == (len(shown), 2, 0)
    # The same decision in Python, for notifications.
    assert passes(0.45, "low") and not passes(0.4499, "low")
    assert passes(0.60, "very_low") and not passes(0.5999, "very_low")
    assert passes(None, "very_low") and passes(0.01, None) and passes(0.01, "moderate")


def test_fail_open_and_overrides(store_writer: tuple[Store, StoreWriter]) -> None:
    store, writer = store_writer
    ids = low_day_store(writer)
    everything = set(ids.values())
    assert set(listed(store, RiskGate(None))) == everything  # no provider: nothing hidden
    assert set(listed(store, RiskGate({}))) == everything  # empty classes: nothing hidden
    for override in ("moderate", "high", "very_high", "extreme"):
        assert set(listed(store, RiskGate(LOW_DAY, override=override))) == everything
    # "low" for every camera previews a low day: rooms and unknown confidences stay.
    preview = set(listed(store, RiskGate(None, override=parse_override("Low"))))
    assert preview == everything - {ids["gate 0.4499"], ids["dock 0.01"], ids["roof 0.02"]}
    with pytest.raises(ValueError, match=r"valid classes are .*very_low.*extreme"):
        parse_override("bright")


def test_a_mixed_alert_shows_only_its_passing_sequence(
    store_writer: tuple[Store, StoreWriter],
) -> None:
    store, writer = store_writer
    low = writer.execute(sequence("gate", 0.30, T0, window_s=300))
    high = writer.execute(sequence("gate", 0.70, T0 + timedelta(seconds=30), window_s=300))
    assert low.alert.alert_id == high.alert.alert_id
    (row,) = AlertListRequest(gate=RiskGate({"gate": "low"})).run(store).rows
    assert [s.sequence_id for s in row.sequences] == [high.sequence_id]
    assert row.max_conf == pytest.approx(0.70) and row.risk_class == "low"
    (unfiltered,) = AlertListRequest(gate=RiskGate(None)).run(store).rows
    assert len(unfiltered.sequences) == 2


def test_pages_are_full_and_exact_and_counts_equal_the_list(
    store_writer: tuple[Store, StoreWriter],
) -> None:
    store, writer = store_writer
    confs = [0.2, 0.5, 0.1, 0.3, 0.9, 0.44, 0.46, 0.05, 0.7, 0.45, 0.2, 0.8]
    passing = []
    for i, conf in enumerate(confs):
        stored = writer.execute(sequence("gate", conf, T0 + timedelta(minutes=i)))
        if conf >= 0.45:
            passing.append(stored.alert.alert_id)
    passing.reverse()  # newest first
    gate = RiskGate({"gate": "low"})
    first = AlertListRequest(gate=gate, limit=3, with_counts=True).run(store)
    assert [r.alert_id for r in first.rows] == passing[:3]
    assert (first.shown, first.hidden) == (len(passing), len(confs) - len(passing))
    pages, offset = [], 0
    while True:
        page = AlertListRequest(gate=gate, limit=3, offset=offset).run(store).rows
        if not page:
            break
        pages += [r.alert_id for r in page]
        offset += 3
    assert pages == passing
    # The keyset cursor walks the same rows.
    keyset: list[int] = []
    before = None
    while True:
        rows = AlertListRequest(gate=gate, limit=3, before=before).run(store).rows
        if not rows:
            break
        keyset += [r.alert_id for r in rows]
        before = rows[-1].cursor
    assert keyset == passing
    assert AlertCountRequest(gate=gate).run(store)[0] == len(pages)


def test_a_day_lists_only_that_days_alerts(store_writer: tuple[Store, StoreWriter]) -> None:
    store, writer = store_writer
    today = writer.execute(sequence("gate", 0.5, T0)).alert.alert_id
    writer.execute(sequence("gate", 0.5, T0 - timedelta(days=1)))
    assert listed(store, RiskGate(None), day=date(2026, 11, 20)) == [today]
    with pytest.raises(ValueError, match="limit"):
        AlertListRequest(limit=0).run(store)


def test_labels_are_kept_and_audited_and_need_the_label_permission(
    store_writer: tuple[Store, StoreWriter],
) -> None:
    store, writer = store_writer
    stored = writer.execute(sequence("gate", 0.5, T0))
    writer.execute(
        LabelSequence(sequence_id=stored.sequence_id, label="false_alarm", at=T0, actor=OPERATOR)
    )
    (row,) = AlertListRequest().run(store).rows
    assert row.sequences[0].label == "false_alarm"
    assert row.sequences[0].labelled_by == OPERATOR.label
    audit = AuditListRequest(reader=ADMIN, action="alert_sequence.label").run(store)
    assert len(audit) == 1
    with pytest.raises(ValueError, match="not one of true_alarm, false_alarm"):
        writer.execute(
            LabelSequence(sequence_id=stored.sequence_id, label="maybe", at=T0, actor=ADMIN)
        )


@pytest.mark.parametrize(
    ("day", "first", "last", "outside"),
    [
        # 29 March 2026 in London lasts 23 hours: 00:00 GMT to 00:00 BST (23:00 UTC).
        (
            date(2026, 3, 29),
            datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 22, 59, tzinfo=UTC),
            datetime(2026, 3, 29, 23, 0, tzinfo=UTC),
        ),
        # 25 October 2026 lasts 25 hours: 00:00 BST (23:00 UTC the day before) to 00:00 GMT.
        (
            date(2026, 10, 25),
            datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 23, 59, tzinfo=UTC),
            datetime(2026, 10, 24, 22, 59, tzinfo=UTC),
        ),
    ],
)
def test_a_day_lists_the_alerts_of_the_site_s_day_when_clocks_change(
    store_writer: tuple[Store, StoreWriter],
    day: date,
    first: datetime,
    last: datetime,
    outside: datetime,
) -> None:
    store, writer = store_writer
    ids = [writer.execute(sequence("gate", 0.9, at)).alert.alert_id for at in (first, last)]
    writer.execute(sequence("gate", 0.9, outside))
    request = AlertListRequest(day=day, site_time=SiteTime.named("Europe/London"))
    assert sorted(row.alert_id for row in request.run(store).rows) == ids
