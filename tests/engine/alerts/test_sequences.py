"""The sequence builder and the alert service end to end: detections that trigger a rule
become a sequence at the third, extend it at most once a second with their best confidence,
and notify only when they pass the day's low-risk gate."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from engine.alerts.filtering import AlertListRequest
from engine.alerts.risk_classes import HttpRiskProvider, LocalRiskProvider, RiskClassCache
from engine.alerts.rules import (
    AddRule,
    RemoveRule,
    RuleError,
    RuleSpec,
    UnknownRuleError,
    list_rules,
    parse_days,
    parse_span,
    parse_zone,
)
from engine.alerts.sequences import CreateSequence, ExtendSequence, SequenceBuilder
from engine.alerts.service import AlertRaised, AlertService, SequenceAdded
from engine.bus import EventBus
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.config import load_site
from engine.events import PeopleDetected, PeoplePlaced, PeopleSensedInView, Sighting
from engine.gestures.worker import GestureDetected
from engine.incidents.nightly import CameraRisk, RecordRetrain
from engine.sitetime import UTC_TIME, SiteTime
from engine.store import Store
from engine.store.writer import StoreWriter
from engine.vision.analysis import CameraAnalyzer
from engine.vision.detect import HogPersonDetector
from tests.actors import ADMIN, OPERATOR
from tests.conftest import write_site
from tests.engine.test_analysis import frames
from tests.store_helpers import run_command, sync_site
from tests.waiting import wait_for

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
FRAME = (640, 480)
GATE = RuleSpec(rule_id=1, name="gate", camera="gate", room=None, trigger="person")


def seen(track: int, conf: float, x: float = 100.0) -> Sighting:
    return Sighting(track, (x, 100.0, 60.0, 160.0), conf)


def feed(
    builder: SequenceBuilder, frames: list[tuple[float, list[Sighting]]], camera: str = "gate"
) -> list[object]:
    out: list[object] = []
    for t, sightings in frames:
        out += builder.observe_camera(camera, T0 + timedelta(seconds=t), FRAME, sightings)
    return out


def test_a_sequence_is_created_at_the_third_detection_with_its_own_best_confidence() -> None:
    builder = SequenceBuilder([GATE], site="depot")
    assert feed(builder, [(0, [seen(1, 0.4)]), (0.3, [seen(1, 0.7)])]) == []
    (create,) = feed(builder, [(0.6, [seen(1, 0.5)])])
    assert isinstance(create, CreateSequence)
    assert (create.detections, create.max_conf, create.track_id) == (3, 0.7, 1)
    assert create.camera == "gate" and create.site == "depot" and create.rule_id == 1
    # Detections within a second are gathered, then written as one extension.
    assert feed(builder, [(0.9, [seen(1, 0.9)])]) == []
    (extend,) = feed(builder, [(1.6, [seen(1, 0.2)])])
    assert isinstance(extend, ExtendSequence)
    assert (extend.seq_key, extend.added, extend.max_conf) == (create.seq_key, 2, 0.9)
    assert builder.tick(T0 + timedelta(seconds=2)) == []  # nothing new to write


def test_another_persons_detection_in_the_same_frame_never_counts() -> None:
    builder = SequenceBuilder([GATE])
    # Track 2 stands beside track 1 (overlapping boxes) with a much higher confidence, and
    # comes first in the frame: it must not take or raise track 1's run.
    frames = [(t, [seen(2, 0.95, x=120.0), seen(1, 0.3)]) for t in (0, 0.3, 0.6)]
    creates = [c for c in feed(builder, frames) if isinstance(c, CreateSequence)]
    assert sorted((c.track_id, c.max_conf) for c in creates) == [(1, 0.3), (2, 0.95)]


def test_overlapping_boxes_continue_a_sequence_across_a_track_switch() -> None:
    builder = SequenceBuilder([GATE])
    frames = [(0, [seen(1, 0.5)]), (0.3, [seen(1, 0.5)]), (0.6, [seen(7, 0.6, x=110)])]
    (create,) = feed(builder, frames)
    assert isinstance(create, CreateSequence) and create.detections == 3
    # Far apart in time (over 5 min) the same place starts a new run.
    assert feed(builder, [(400, [seen(7, 0.6, x=110)]), (400.3, [seen(7, 0.6, x=110)])]) == []


LONDON = SiteTime.named("Europe/London")
NIGHTS = parse_span("22:00-06:00")
NIGHT_RULE = RuleSpec(
    9, "night", "gate", None, "person", armed_from_min=NIGHTS[0], armed_until_min=NIGHTS[1]
)


@pytest.mark.parametrize(
    ("at", "armed"),
    [
        # Spring forward, Sunday 29 March 2026 01:00 UTC: the night is 22:00 GMT to 06:00 BST.
        (datetime(2026, 3, 28, 21, 59, tzinfo=UTC), False),  # 21:59 GMT
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), True),  # 22:00 GMT
        (datetime(2026, 3, 29, 4, 59, tzinfo=UTC), True),  # 05:59 BST
        (datetime(2026, 3, 29, 5, 0, tzinfo=UTC), False),  # 06:00 BST, an hour before UTC's
        (datetime(2026, 3, 29, 5, 30, tzinfo=UTC), False),
        # Fall back, Sunday 25 October 2026 01:00 UTC: 22:00 BST to 06:00 GMT, 9 hours.
        (datetime(2026, 10, 24, 20, 59, tzinfo=UTC), False),  # 21:59 BST
        (datetime(2026, 10, 24, 21, 0, tzinfo=UTC), True),  # 22:00 BST, before UTC's 22:00
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), True),  # 01:30 BST
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), True),  # 01:30 GMT, the repeated hour
        (datetime(2026, 10, 25, 5, 59, tzinfo=UTC), True),  # 05:59 GMT
        (datetime(2026, 10, 25, 6, 0, tzinfo=UTC), False),  # 06:00 GMT
    ],
)
def test_armed_hours_are_the_site_hours_across_a_change_of_clocks(
    at: datetime, armed: bool
) -> None:
    assert NIGHT_RULE.armed(at, LONDON) is armed


def test_armed_days_are_the_site_days() -> None:
    # 23:30 on Sunday 24 May in Los Angeles is already Monday in UTC.
    sunday_evening = RuleSpec(
        10, "sun", "gate", None, "person", days=parse_days("sun"), armed_from_min=20 * 60
    )
    at = datetime(2026, 5, 25, 6, 30, tzinfo=UTC)
    assert sunday_evening.armed(at, SiteTime.named("America/Los_Angeles"))
    assert not sunday_evening.armed(at, UTC_TIME)


def test_the_builder_reads_armed_hours_in_its_site_zone() -> None:
    # 22:30 BST on Saturday 24 October is 21:30 UTC: armed on the site's clock only.
    at = datetime(2026, 10, 24, 21, 30, tzinfo=UTC)
    frames = [(0.0, [seen(1, 0.9)]), (0.3, [seen(1, 0.9)]), (0.6, [seen(1, 0.9)])]

    def raised(builder: SequenceBuilder) -> list[object]:
        out: list[object] = []
        for t, sightings in frames:
            out += builder.observe_camera("gate", at + timedelta(seconds=t), FRAME, sightings)
        return out

    assert [type(c) for c in raised(SequenceBuilder([NIGHT_RULE], site_time=LONDON))] == [
        CreateSequence
    ]
    assert raised(SequenceBuilder([NIGHT_RULE], site_time=UTC_TIME)) == []


def test_zone_schedule_and_loitering() -> None:
    zone = parse_zone("0,0 0.5,0 0.5,1 0,1")
    left_only = RuleSpec(1, "left", "gate", None, "person", zone=zone)
    builder = SequenceBuilder([left_only])
    # Foot point at x = 0.8 of the frame: outside the zone.
    assert feed(builder, [(t, [seen(1, 0.9, x=500)]) for t in (0, 0.3, 0.6, 0.9)]) == []
    assert len(feed(builder, [(t, [seen(2, 0.9, x=50)]) for t in (1, 1.3, 1.6)])) == 1

    start, end = parse_span("22:00-06:00")
    night = RuleSpec(2, "night", "gate", None, "person", armed_from_min=start, armed_until_min=end)
    assert (
        not night.armed(T0, UTC_TIME)
        and night.armed(T0.replace(hour=23), UTC_TIME)
        and night.armed(T0.replace(hour=5, minute=59), UTC_TIME)
    )
    assert feed(SequenceBuilder([night]), [(t, [seen(1, 0.9)]) for t in (0, 0.3, 0.6)]) == []
    weekend = RuleSpec(3, "weekend", "gate", None, "person", days=parse_days("sat-sun"))
    assert not weekend.armed(T0, UTC_TIME) and weekend.armed(T0 + timedelta(days=5), UTC_TIME)
    # Overnight Sunday to Monday belongs to Sunday's span.
    sunday_night = RuleSpec(
        4,
        "sun",
        "gate",
        None,
        "person",
        days=parse_days("sun"),
        armed_from_min=start,
        armed_until_min=end,
    )
    assert sunday_night.armed(T0.replace(hour=3), UTC_TIME) and not sunday_night.armed(
        (T0 + timedelta(days=1)).replace(hour=3), UTC_TIME
    )

    loiter = RuleSpec(5, "loiter", "gate", None, "loitering", loiter_s=30)
    builder = SequenceBuilder([loiter], place_names={"gate": "Front gate"})
    frames = [(float(t), [seen(1, 0.8)]) for t in range(0, 33)]
    (create,) = [c for c in feed(builder, frames) if isinstance(c, CreateSequence)]
    assert create.started_at == T0 + timedelta(seconds=30)
    # The camera by the name people know it by (the title read "on camera gate").
    assert create.title == "Loitering over 30 s on Front gate (loiter)"
    # Someone who leaves for longer than LOITER_GAP_S starts over; the builder forgets
    # people who left (a 24/7 camera must not grow its memory).
    builder = SequenceBuilder([loiter])
    frames = [(float(t), [seen(3, 0.8)]) for t in [*range(0, 20), *range(40, 65)]]
    assert [c for c in feed(builder, frames) if isinstance(c, CreateSequence)] == []
    assert builder.tick(T0 + timedelta(seconds=400)) == []
    assert builder._dwell == {}


def test_rules_reload_after_runs_expired_and_changed_rules_forget_their_runs() -> None:
    builder = SequenceBuilder([GATE])
    feed(builder, [(0, [seen(1, 0.5)])])
    assert builder.tick(T0 + timedelta(seconds=400)) == []  # the lone detection expired
    builder.set_rules([GATE])  # the engine reloads the rules every 30 s
    assert len(feed(builder, [(t, [seen(2, 0.5)]) for t in (401, 401.3, 401.6)])) == 1
    # Unchanged rules keep their runs: a second later the run is extended.
    (extend,) = feed(builder, [(402.7, [seen(2, 0.9)])])
    assert isinstance(extend, ExtendSequence)
    critical = RuleSpec(1, "gate", "gate", None, "person", severity="critical")
    builder.set_rules([critical])  # changed: the old rule's run is forgotten, a new one starts
    assert feed(builder, [(404, [seen(2, 0.9)])]) == []


def test_room_rules_take_blobs_with_unknown_confidence() -> None:
    rule = RuleSpec(1, "lab closed", None, "lab", "sensing_blob")
    builder = SequenceBuilder([rule])
    out = []
    for t in (0.0, 0.1, 0.2):
        out += builder.observe_room("lab", T0 + timedelta(seconds=t), [4])
    (create,) = out
    assert isinstance(create, CreateSequence)
    assert create.camera is None and create.max_conf is None and create.source == "sensing:lab"


def test_rules_are_checked_stored_listed_and_removed_by_admins(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store = Store(db_url)
    sync_site(store, load_site(site_file(tmp_path)), REAL_CLOCK)
    writer = start_writer(store)
    rule = RuleSpec(0, "gate at night", "gate", None, "person", zone=parse_zone("0,0 1,0 1,1"))
    stored = writer.execute(AddRule(rule=rule, at=T0, actor=ADMIN))
    assert stored.rule_id > 0 and stored.created_by == ADMIN.label
    assert [r.name for r in list_rules(store)] == ["gate at night"]
    assert list_rules(store)[0].zone == ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))
    with pytest.raises(RuleError, match="exists already"):
        writer.execute(AddRule(rule=rule, at=T0, actor=ADMIN))
    with pytest.raises(RuleError, match=r"no camera 'nowhere'.*known: gate"):
        writer.execute(
            AddRule(rule=RuleSpec(0, "x", "nowhere", None, "person"), at=T0, actor=ADMIN)
        )
    with pytest.raises(RuleError, match="loiter_s"):
        writer.execute(
            AddRule(rule=RuleSpec(0, "y", "gate", None, "loitering"), at=T0, actor=ADMIN)
        )
    with pytest.raises(PermissionError):
        writer.execute(
            AddRule(rule=RuleSpec(0, "z", "gate", None, "person"), at=T0, actor=OPERATOR)
        )
    with pytest.raises(RuleError, match=r"zone: .*outside the frame"):
        parse_zone("0,0 1.5,0 1,1")
    with pytest.raises(RuleError, match="armed"):
        parse_span("25:00-01:00")
    with pytest.raises(RuleError, match="days"):
        parse_days("funday")
    writer.execute(RemoveRule(name="gate at night", at=T0, actor=ADMIN))
    assert list_rules(store) == []
    with pytest.raises(UnknownRuleError, match="no alert rule 'gate at night'"):
        writer.execute(RemoveRule(name="gate at night", at=T0, actor=ADMIN))


def site_file(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
    )


@pytest.fixture
def live(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> Iterator[tuple[Store, StoreWriter, EventBus, AlertService, list[object]]]:
    """An alert service on a real store and writer, the local risk model saying gate is a
    low camera today; a person rule on gate."""
    store = Store(db_url)
    ids = sync_site(store, load_site(site_file(tmp_path)), REAL_CLOCK)
    clock = SimulatedClock(T0)
    run_command(
        store,
        RecordRetrain(
            slot=T0,
            started_at=T0,
            finished_at=T0,
            status="ok",
            incidents=0,
            path=None,
            quality={},
            cameras=(CameraRisk(ids.cameras["gate"], "gate", T0.date(), "low", 0.1),),
        ),
    )
    writer = start_writer(store)
    writer.execute(AddRule(rule=RuleSpec(0, "gate", "gate", None, "person"), at=T0, actor=ADMIN))
    bus = EventBus()
    cache = RiskClassCache(LocalRiskProvider(store, now=clock.now), clock=clock)
    service = AlertService(
        bus=bus,
        writer=writer,
        store=store,
        clock=clock,
        site=load_site(site_file(tmp_path)).name,
        risk_classes=cache,
    )
    events: list[object] = []
    lock = threading.Lock()

    def keep(event: object) -> None:
        with lock:
            events.append(event)

    bus.subscribe(SequenceAdded, keep)
    bus.subscribe(AlertRaised, keep)
    service.start()
    wait_for(lambda: cache.status().state == "ok")
    yield store, writer, bus, service, events
    service.stop()
    store.close()


def detect(bus: EventBus, t: float, conf: float, track: int = 1) -> None:
    bus.publish(
        PeopleDetected(
            at=T0 + timedelta(seconds=t),
            camera="gate",
            frame_size=FRAME,
            sightings=(seen(track, conf),),
        )
    )


def test_a_low_confidence_sequence_on_a_low_day_notifies_nobody_until_it_passes(
    live: tuple[Store, StoreWriter, EventBus, AlertService, list[object]],
) -> None:
    store, writer, bus, service, events = live
    for t in (0, 0.3, 0.6):
        detect(bus, t, 0.30)
    wait_for(lambda: any(isinstance(e, SequenceAdded) for e in events))
    (added,) = [e for e in events if isinstance(e, SequenceAdded)]
    assert added.new_alert and not added.shown and added.max_conf == pytest.approx(0.30)
    assert not any(isinstance(e, AlertRaised) for e in events)  # gated: no chime, no webhook
    gate = service.risk_gate()
    assert gate.classes == {"gate": "low"}
    assert AlertListRequest(gate=gate).run(store).rows == ()
    (hidden,) = AlertListRequest(gate=service.risk_gate(override="moderate")).run(store).rows
    assert hidden.sequences[0].max_conf == pytest.approx(0.30)
    # Later detections raise its confidence past 0.45: now it notifies, once.
    detect(bus, 1.0, 0.50)
    detect(bus, 2.0, 0.40)
    wait_for(lambda: any(isinstance(e, AlertRaised) for e in events))
    writer.flush()
    (row,) = AlertListRequest(gate=service.risk_gate()).run(store).rows
    assert row.max_conf == pytest.approx(0.50) and row.risk_class == "low"
    # A second later, a better detection extends the sequence again: written (its
    # confidence stored), and the alert, notified already, is not raised a second time.
    # Whatever the service does with a write happens in the writer's done callbacks,
    # which have all run once flush returns.
    detect(bus, 3.0, 0.90)
    assert writer.flush()
    (row,) = AlertListRequest(gate=service.risk_gate()).run(store).rows
    assert row.max_conf == pytest.approx(0.90)
    assert sum(isinstance(e, AlertRaised) for e in events) == 1


def test_a_past_day_uses_that_days_classes(
    live: tuple[Store, StoreWriter, EventBus, AlertService, list[object]],
) -> None:
    service = live[3]
    past = service.risk_gate(day=date(2026, 11, 1))
    assert past.classes == {} and "2026-11-01" in past.note
    assert service.risk_gate().classes == {"gate": "low"}


def test_people_walking_through_vtest_become_sequences_of_their_own_detections(
    live: tuple[Store, StoreWriter, EventBus, AlertService, list[object]], vtest_avi: Path
) -> None:
    """The real path: the analyzer's detections of the pedestrian sample → the person rule
    → sequences whose max_conf is the best of each track's own detections."""
    store, writer, bus, service, _ = live
    seen_conf: dict[int, float] = {}
    every_conf: set[float] = set()

    def keep(event: PeopleDetected) -> None:
        for s in event.sightings:
            seen_conf[s.track_id] = max(seen_conf.get(s.track_id, 0.0), s.confidence)
            every_conf.add(round(s.confidence, 9))

    bus.subscribe(PeopleDetected, keep)
    analyzer = CameraAnalyzer("gate", bus, REAL_CLOCK, detector=HogPersonDetector())
    for i, image in enumerate(frames(vtest_avi, 90)):
        analyzer.process(image, i, i / 10, T0 + timedelta(seconds=i / 10))
    service.stop()  # writes what live sequences gathered last
    writer.flush()
    page = AlertListRequest(gate=service.risk_gate(override="moderate"), limit=100).run(store)
    sequences = [s for row in page.rows for s in row.sequences]
    assert sequences and all(s.camera == "gate" for s in sequences)
    for s in sequences:
        assert s.detections >= 3
        assert s.track_id is not None
        assert s.max_conf is not None and round(s.max_conf, 9) in every_conf
    # One track's sequence holds that track's best detection, not a neighbour's.
    assert any(s.max_conf == pytest.approx(seen_conf[s.track_id], abs=1e-6) for s in sequences)


def test_a_past_day_of_a_provider_that_never_answered_hides_nothing_and_says_why(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    # Nothing listens on port 9 (discard) of the loopback: the API is unreachable.
    cache = RiskClassCache(
        HttpRiskProvider("http://127.0.0.1:9/risk", username=None, password=None, timeout_s=1),
        clock=SimulatedClock(T0),
    )
    assert cache.refresh().state == "failed"
    service = AlertService(
        bus=EventBus(),
        writer=start_writer(store),
        store=store,
        clock=SimulatedClock(T0),
        risk_classes=cache,
    )
    gate = service.risk_gate(day=date(2026, 11, 1))
    assert gate.classes is None and not gate.active
    assert "never answered" in gate.note and gate.note.endswith("nothing is hidden")
    assert "classes of 2026-11-01 from" not in gate.note
    store.close()


def test_after_a_restart_only_alerts_that_pass_todays_gate_escalate(
    live: tuple[Store, StoreWriter, EventBus, AlertService, list[object]],
) -> None:
    """Open alerts of an earlier run are taken over for escalation; one the low-risk gate
    hid (nobody was told of it) must not start chasing people after a restart."""
    store, writer, bus, service, _ = live
    hidden = writer.execute(_sequence("gate", 0.30, T0, "a")).alert.alert_id
    shown = writer.execute(_sequence("gate", 0.70, T0 + timedelta(minutes=20), "b")).alert
    service.stop()
    clock = SimulatedClock(T0 + timedelta(hours=1))
    cache = RiskClassCache(LocalRiskProvider(store, now=clock.now), clock=clock)
    again = AlertService(
        bus=bus, writer=writer, store=store, clock=clock, risk_classes=cache, escalate_after_s=60
    )
    again.start()
    try:
        wait_for(lambda: cache.status().state == "ok")
        again.escalate_due()  # both were raised over a minute ago
        writer.flush()
        escalated = {
            a.alert_id for a in AlertListRequest(limit=10).run(store).rows if a.escalated_at
        }
        assert escalated == {shown.alert_id}
        assert hidden not in escalated
    finally:
        again.stop()


def _sequence(camera: str, conf: float, at: datetime, key: str) -> CreateSequence:
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
        max_conf=conf,
        snapshot=None,
        severity="warning",
        title="Person",
        group_window_s=0,
    )


def test_an_alerting_gesture_raises_its_rule_at_once() -> None:
    help_rule = RuleSpec(1, "help at gate", "gate", None, "gesture", gesture="Help")
    person_rule = RuleSpec(2, "gate", "gate", None, "person")
    builder = SequenceBuilder([help_rule, person_rule])
    at = T0 + timedelta(seconds=5)
    assert builder.observe_gesture("yard", at, 3, "help", 0.9) == []  # another camera
    assert builder.observe_gesture("gate", at, 3, "wave", 0.9) == []  # another gesture
    (create,) = builder.observe_gesture("gate", at, 3, "HELP ", 0.82)
    assert isinstance(create, CreateSequence)
    assert (create.trigger, create.rule_id, create.track_id) == ("gesture", 1, 3)
    assert create.detections == 1 and create.max_conf == pytest.approx(0.82)
    assert create.title.startswith("Gesture Help")
    # The same person asking again soon after is the same alert.
    again = builder.observe_gesture("gate", at + timedelta(seconds=3), 3, "help", 0.95)
    assert all(isinstance(c, ExtendSequence) for c in again)


def test_a_gesture_raises_an_alert_through_the_service(
    live: tuple[Store, StoreWriter, EventBus, AlertService, list[object]],
) -> None:
    store, writer, bus, service, events = live
    writer.execute(
        AddRule(
            rule=RuleSpec(0, "help", "gate", None, "gesture", gesture="help"),
            at=T0,
            actor=ADMIN,
        )
    )
    service.reload_rules()
    # Each by its own person, so each would make its own sequence if it counted: a help
    # gesture not taught as alerting, an alerting gesture no rule asks for, the one that
    # raises the rule.
    for track, alerting, name in ((3, False, "help"), (4, True, "wave"), (5, True, "help")):
        bus.publish(
            GestureDetected(
                at=T0 + timedelta(seconds=1),
                camera="gate",
                track_id=track,
                gesture=name,
                confidence=0.9,
                alerting=alerting,
            )
        )
    # Publishing submitted every write; the events they lead to are published in the
    # writer's done callbacks, which have all run once flush returns.
    assert writer.flush()
    (added,) = [e for e in events if isinstance(e, SequenceAdded)]
    assert added.new_alert and added.max_conf == pytest.approx(0.9)
    (row,) = AlertListRequest(limit=10).run(store).rows
    assert [s.track_id for s in row.sequences] == [5]


def test_a_room_rule_fires_on_someone_only_a_camera_places_in_the_room(
    live: tuple[Store, StoreWriter, EventBus, AlertService, list[object]],
) -> None:
    """Where a room senses nobody (weak sensing, a still body) but a calibrated camera
    places a person in it, the room's rule fires on the camera's sighting (PeoplePlaced)."""
    store, writer, bus, service, events = live
    rule = RuleSpec(0, "lab closed", None, "lab", "sensing_blob")
    writer.execute(AddRule(rule=rule, at=T0, actor=ADMIN))
    service.reload_rules()
    for step in range(4):
        bus.publish(PeoplePlaced(at=T0 + timedelta(seconds=step * 0.4), room="lab", people=(3,)))
    assert writer.flush()
    (added,) = [e for e in events if isinstance(e, SequenceAdded)]
    assert added.new_alert
    rows = AlertListRequest(limit=10).run(store).rows
    (row,) = [r for r in rows if r.source == "sensing:lab"]
    assert [s.track_id for s in row.sequences] == [-3]


def test_a_camera_rule_fires_on_someone_only_a_room_senses_in_its_zone(
    live: tuple[Store, StoreWriter, EventBus, AlertService, list[object]],
) -> None:
    """Where a camera does not see someone (a privacy mask, someone in the way) but a room
    senses them where its picture shows the floor, the camera's zone rule fires on where the
    room puts their feet (PeopleSensedInView); outside the zone it does not."""
    store, writer, bus, service, events = live
    zone = ((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0))  # the picture's lower right
    writer.execute(RemoveRule(name="gate", at=T0, actor=ADMIN))  # the whole-view rule
    rule = RuleSpec(0, "yard", "gate", None, "person", zone=zone)
    writer.execute(AddRule(rule=rule, at=T0, actor=ADMIN))
    service.reload_rules()
    for step in range(4):
        at = T0 + timedelta(seconds=step * 0.4)
        bus.publish(PeopleSensedInView(at=at, camera="gate", people=((-5, (0.2, 0.8)),)))
    assert writer.flush()
    assert not [e for e in events if isinstance(e, SequenceAdded)]  # outside the zone
    for step in range(4):
        at = T0 + timedelta(seconds=2 + step * 0.4)
        bus.publish(PeopleSensedInView(at=at, camera="gate", people=((7, (0.7, 0.9)),)))
    assert writer.flush()
    (added,) = [e for e in events if isinstance(e, SequenceAdded)]
    assert added.new_alert
    rows = AlertListRequest(limit=10).run(store).rows
    (row,) = [r for r in rows if r.source == "camera:gate"]
    assert [s.track_id for s in row.sequences] == [7]
