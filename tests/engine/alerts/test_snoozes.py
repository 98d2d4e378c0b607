"""Snoozing a camera's alerts: the action (its permission, its audit, its bounds), the
snooze's end at its time on the engine clock, and the alert service holding back a snoozed
camera's alerts while still storing its sequences, then raising them again after."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.access import ENGINE, Actor, Permission, PermissionDeniedError, permission_of
from engine.alerts import actions
from engine.alerts.filtering import AlertCountRequest, AlertListRequest, hidden_text
from engine.alerts.rules import AddRule, RuleSpec
from engine.alerts.sequences import CreateSequence, ExtendSequence
from engine.alerts.service import AlertRaised, AlertService, SequenceAdded
from engine.alerts.snoozes import NotSnoozedError, SnoozeError, active_snoozes
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.events import PeopleDetected, Sighting
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site
from tests.waiting import wait_for

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
Live = tuple[Store, StoreWriter, SimulatedClock, int, EventBus, AlertService, list[object]]
FRAME = (640, 480)
NOBODY = Actor("guest", frozenset())  # logged in with no role: may acknowledge nothing


def _site(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nname = "Gate"\nurl = "a.mp4"\n'
        '[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
    )


@pytest.mark.sql
def test_a_snooze_is_stored_audited_replaced_ended_early_and_ends_by_itself(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store = Store(db_url)
    clock = SimulatedClock(T0)
    site_id = sync_site(store, load_site(_site(tmp_path)), clock).site_id
    writer = start_writer(store)

    snooze = actions.snooze_camera(writer, site_id, clock, OPERATOR, "gate", 30)
    assert (snooze.camera, snooze.name, snooze.until) == (
        "gate",
        "Gate",
        T0 + timedelta(minutes=30),
    )
    assert snooze.snoozed_by == OPERATOR.label
    assert snooze.until_text(SiteTime.named("Europe/Paris")) == "alerts snoozed until 10:30"
    assert [s.camera for s in active_snoozes(store, site_id, T0)] == ["gate"]
    # It ends by itself at its time: nothing runs, the engine clock's reading decides.
    clock.advance(30 * 60 - 1)
    assert [s.until for s in active_snoozes(store, site_id, clock.now())] == [snooze.until]
    clock.advance(1)
    assert active_snoozes(store, site_id, clock.now()) == []
    with pytest.raises(NotSnoozedError, match="camera gate's alerts are not snoozed"):
        actions.unsnooze_camera(writer, site_id, clock, OPERATOR, "gate")

    # Snoozing a snoozed camera again replaces its snooze; unsnooze ends it early.
    actions.snooze_camera(writer, site_id, clock, OPERATOR, "gate", 10)
    clock.advance(60)
    again = actions.snooze_camera(writer, site_id, clock, ADMIN, "gate", 1440)
    (running,) = active_snoozes(store, site_id, clock.now())
    assert running.until == again.until == clock.now() + timedelta(days=1)
    clock.advance(60)
    ended = actions.unsnooze_camera(writer, site_id, clock, OPERATOR, "gate")
    assert (ended.until, ended.ended_at, ended.ended_by) == (
        again.until,
        clock.now(),
        OPERATOR.label,
    )
    assert active_snoozes(store, site_id, clock.now()) == []

    trail = AuditListRequest(reader=ENGINE, limit=20).run(store)
    kept = [
        (r.actor, r.action, r.target, r.outcome, r.detail.get("until"))
        for r in reversed(trail)
        if r.action.startswith("alert.")
    ]
    t_end = T0 + timedelta(minutes=30)
    assert kept == [
        (OPERATOR.label, "alert.snooze", "camera gate", "ok", snooze.until.isoformat()),
        (
            OPERATOR.label,
            "alert.snooze",
            "camera gate",
            "ok",
            (t_end + timedelta(minutes=10)).isoformat(),
        ),
        (ADMIN.label, "alert.snooze", "camera gate", "ok", again.until.isoformat()),
        (OPERATOR.label, "alert.unsnooze", "camera gate", "ok", again.until.isoformat()),
    ]
    replacing = next(r for r in trail if r.actor == ADMIN.label)
    assert replacing.detail["replaced_until"] == (t_end + timedelta(minutes=10)).isoformat()
    assert replacing.detail["minutes"] == 1440
    store.close()


def _sequence(camera: str, key: str, at: datetime) -> CreateSequence:
    return CreateSequence(
        seq_key=key,
        source=f"camera:{camera}",
        camera=camera,
        site="Test site",
        trigger="person",
        rule_id=None,
        track_id=1,
        started_at=at,
        last_seen_at=at,
        detections=3,
        max_conf=0.9,
        snapshot=None,
        severity="warning",
        title=f"Person at {camera}",
    )


@pytest.mark.sql
def test_the_sequence_commands_and_the_list_read_the_snooze_in_sql(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    """What the SQL decides: a sequence stored while its camera is snoozed says until
    when, gathers no awake camera's sequence, and is hidden from the list and its counts
    until its latest activity falls after the snooze."""
    store = Store(db_url)
    clock = SimulatedClock(T0)
    site_id = sync_site(store, load_site(_site(tmp_path)), clock).site_id
    writer = start_writer(store)
    snooze = actions.snooze_camera(writer, site_id, clock, OPERATOR, "gate", 10)
    gate = writer.execute(_sequence("gate", "g", T0 + timedelta(minutes=1)))
    assert gate.new_alert and gate.snoozed_until == snooze.until
    yard = writer.execute(_sequence("yard", "y", T0 + timedelta(minutes=2)))
    assert yard.snoozed_until is None
    assert yard.new_alert  # not under the snoozed camera's alert
    gate_too = writer.execute(_sequence("gate", "g2", T0 + timedelta(minutes=3)))
    assert gate_too.alert.alert_id in (gate.alert.alert_id, yard.alert.alert_id)
    listed = AlertListRequest(with_counts=True).run(store)
    assert [(r.alert_id, r.cameras) for r in listed.rows] == [(yard.alert.alert_id, ("yard",))]
    # Told apart from what the low-risk filter hides: (shown, hidden by it, snoozed).
    assert (listed.shown, listed.hidden, listed.snoozed) == (1, 0, 1)
    assert AlertCountRequest().run(store) == (1, 0, 1)
    assert hidden_text(0, 1) == "0 hidden by the low-risk filter, 1 snoozed"
    # Still going after the snooze: its latest activity is awake, so it is listed again.
    extended = writer.execute(
        ExtendSequence(
            seq_key="g",
            last_seen_at=T0 + timedelta(minutes=11),
            added=2,
            max_conf=0.9,
            want_alert=True,
        )
    )
    assert extended is not None and extended.snoozed_until is None
    assert extended.alert is not None and extended.alert.alert_id == gate.alert.alert_id
    listed = AlertListRequest().run(store)
    assert {r.alert_id for r in listed.rows} == {gate.alert.alert_id, yard.alert.alert_id}
    during = writer.execute(
        ExtendSequence(
            seq_key="g2",
            last_seen_at=T0 + timedelta(minutes=4),
            added=1,
            max_conf=None,
            want_alert=True,
        )
    )
    assert during is not None and during.snoozed_until == snooze.until
    store.close()


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0, "minutes must be from 1 to 1440 (a day), got 0"),
        (1441, "minutes must be from 1 to 1440 (a day), got 1441"),
        (-5, "got -5"),
        ("ten", "minutes must be a whole number from 1 to 1440, got 'ten'"),
    ],
)
def test_minutes_out_of_bounds_are_refused_in_words_and_nothing_is_stored(
    db_url: str,
    start_writer: Callable[..., StoreWriter],
    tmp_path: Path,
    minutes: object,
    words: str,
) -> None:
    store = Store(db_url)
    clock = SimulatedClock(T0)
    site_id = sync_site(store, load_site(_site(tmp_path)), clock).site_id
    writer = start_writer(store)
    with pytest.raises(SnoozeError, match=words.replace("(", r"\(").replace(")", r"\)")):
        actions.snooze_camera(writer, site_id, clock, OPERATOR, "gate", minutes)  # type: ignore[arg-type]
    with pytest.raises(
        SnoozeError, match=r"no camera 'lobby' on this site \(cameras: gate, yard\)"
    ):
        actions.snooze_camera(writer, site_id, clock, OPERATOR, "lobby", 10)
    assert active_snoozes(store, site_id, T0) == []
    assert AuditListRequest(reader=ENGINE, action="alert.snooze").run(store) == []
    store.close()


def test_a_person_without_the_acknowledge_permission_is_refused_and_that_is_audited(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store = Store(db_url)
    clock = SimulatedClock(T0)
    site_id = sync_site(store, load_site(_site(tmp_path)), clock).site_id
    writer = start_writer(store)
    assert permission_of(actions.snooze_camera) == permission_of(actions.acknowledge_alert)
    assert permission_of(actions.unsnooze_camera) == Permission.ACKNOWLEDGE
    with pytest.raises(PermissionDeniedError, match="needs the acknowledge permission"):
        actions.snooze_camera(writer, site_id, clock, NOBODY, "gate", 30)
    actions.snooze_camera(writer, site_id, clock, OPERATOR, "gate", 30)
    with pytest.raises(PermissionDeniedError, match="needs the acknowledge permission"):
        actions.unsnooze_camera(writer, site_id, clock, NOBODY, "gate")
    assert [s.camera for s in active_snoozes(store, site_id, T0)] == ["gate"]  # still on
    writer.flush()  # refusals are audited behind the caller's back
    refused = [
        (r.action, r.outcome)
        for r in AuditListRequest(reader=ENGINE, actor=NOBODY.label).run(store)
    ]
    assert sorted(refused) == [("alert.snooze", "denied"), ("alert.unsnooze", "denied")]
    store.close()


@pytest.fixture
def live(db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path) -> Iterator[Live]:
    """An alert service on a real store and writer, on a simulated clock at T0, with a
    person rule on gate and on yard, recording what it publishes."""
    store = Store(db_url)
    clock = SimulatedClock(T0)
    site = load_site(_site(tmp_path))
    site_id = sync_site(store, site, clock).site_id
    writer = start_writer(store)
    for camera in ("gate", "yard"):
        rule = RuleSpec(0, camera, camera, None, "person")
        writer.execute(AddRule(rule=rule, at=T0, actor=ADMIN))
    bus = EventBus()
    service = AlertService(bus=bus, writer=writer, store=store, clock=clock, site=site.name)
    assert load_site_name(store, site_id) == site.name
    events: list[object] = []
    lock = threading.Lock()

    def keep(event: object) -> None:
        with lock:
            events.append(event)

    bus.subscribe(SequenceAdded, keep)
    bus.subscribe(AlertRaised, keep)
    service.start()
    yield store, writer, clock, site_id, bus, service, events
    service.stop()
    store.close()


def _detect(
    bus: EventBus, writer: StoreWriter, clock: SimulatedClock, camera: str, *seconds: float
) -> None:
    """Detections of one person on ``camera`` at T0 + each of ``seconds``, the clock moved
    to each first; the writer has applied what they made (and the service its done
    callbacks) when this returns."""
    for t in seconds:
        clock.advance((T0 + timedelta(seconds=t) - clock.now()).total_seconds())
        bus.publish(
            PeopleDetected(
                at=clock.now(),
                camera=camera,
                frame_size=FRAME,
                sightings=(Sighting(1, (100.0, 100.0, 60.0, 160.0), 0.8),),
            )
        )
    writer.flush()


def test_a_snoozed_cameras_sequences_are_stored_but_raise_nothing_until_the_snooze_ends(
    live: Live,
) -> None:
    store, writer, clock, site_id, bus, service, events = live
    actions.snooze_camera(writer, site_id, clock, OPERATOR, "gate", 1)
    _detect(bus, writer, clock, "gate", 0, 0.3, 0.6, 20, 21.5, 40, 41.5)
    added = [e for e in events if isinstance(e, SequenceAdded)]
    assert [(a.camera, a.new_alert, a.shown) for a in added] == [("gate", True, False)]
    assert not [e for e in events if isinstance(e, AlertRaised)]  # no chime, webhook, MQTT
    assert service.open_alerts() == 0  # nothing to escalate
    # The evidence is stored; the list hides it as the low-risk gate hides a sequence.
    assert AlertListRequest().run(store).rows == ()
    assert AlertCountRequest().run(store) == (0, 0, 1)
    # Another camera's alerts are not snoozed: its sequence raises an alert of its own
    # (it does not join the snoozed camera's, whose title names that camera).
    _detect(bus, writer, clock, "yard", 42, 42.3, 42.6)
    (raised,) = [e for e in events if isinstance(e, AlertRaised)]
    assert [r.cameras for r in AlertListRequest().run(store).rows] == [("yard",)]
    assert raised.alert.detail["camera"] == "yard"
    # The gate's snooze ends at T0 + 60 s: its next detection raises its alert, once.
    _detect(bus, writer, clock, "gate", 61, 62.5, 64)
    raised_again = [e.alert for e in events if isinstance(e, AlertRaised)][1:]
    assert [a.alert_id for a in raised_again] == [added[0].alert.alert_id]
    assert {r.alert_id for r in AlertListRequest().run(store).rows} == {
        added[0].alert.alert_id,
        raised.alert.alert_id,
    }


def test_an_unsnoozed_camera_raises_again_and_a_restarted_engine_keeps_a_snooze(
    live: Live,
) -> None:
    store, writer, clock, site_id, _bus, service, _events = live
    actions.snooze_camera(writer, site_id, clock, OPERATOR, "gate", 60)
    service.stop()
    # A new engine on the same database (a restart, or another engine of the site).
    bus = EventBus()
    raised: list[AlertRaised] = []
    bus.subscribe(AlertRaised, raised.append)
    again = AlertService(
        bus=bus, writer=writer, store=store, clock=clock, site=load_site_name(store, site_id)
    )
    again.start()
    try:
        _detect(bus, writer, clock, "gate", 0, 0.3, 0.6)
        assert raised == []
        actions.unsnooze_camera(writer, site_id, clock, OPERATOR, "gate")
        _detect(bus, writer, clock, "gate", 2, 3.5)
        wait_for(lambda: len(raised) == 1)
        assert raised[0].alert.detail["camera"] == "gate"
    finally:
        again.stop()


def load_site_name(store: Store, site_id: int) -> str:
    from engine.store.models import Site

    with store.sessions() as session:
        site = session.get(Site, site_id)
        assert site is not None
        return site.name
