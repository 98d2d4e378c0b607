"""The alert service: a fall event raises a stored alert linked to its event, webhooks get it
(a failing one is stored as failed and never delays anything), an unacknowledged alert
escalates, and an acknowledgement stores who and when, audited."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from engine.alerts.filtering import AlertListRequest
from engine.alerts.records import UnknownAlertError, deliveries_of, list_alerts
from engine.alerts.risk_classes import HttpRiskProvider, RiskClassCache
from engine.alerts.service import AlertChanged, AlertDelivered, AlertRaised, AlertService
from engine.alerts.webhooks import parse_webhook_target
from engine.bus import EventBus
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.events import CameraStatus, CameraStatusChanged
from engine.sensing.service import SensingRecord
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR
from tests.engine.alerts.test_risk_classes import NOW as RISK_NOW
from tests.engine.alerts.test_risk_classes import SLOW_ANSWER_S, RiskApi
from tests.engine.alerts.test_webhooks import WebhookServer
from tests.waiting import wait_for


@pytest.fixture
def server() -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.thread.start()
    yield server
    server.release.set()
    server.http.shutdown()
    server.http.server_close()
    server.thread.join(5)


def fall(bus: EventBus, blob: int = 7) -> float:
    """Publish what the sensing service publishes when it confirms a fall; the time it took."""
    started = time.perf_counter()
    bus.publish(
        SensingRecord(
            at=datetime.now(UTC),
            kind="sensing.fall_detected",
            room="room",
            detail={"blob": blob, "position": [1.0, 2.0, 0.2], "name": None},
            blob_id=blob,
        )
    )
    return time.perf_counter() - started


@pytest.mark.slow
def test_a_fall_raises_an_alert_delivered_to_webhooks_and_escalated_when_nobody_acknowledges(
    db_url: str, start_writer: Callable[..., StoreWriter], server: WebhookServer
) -> None:
    store = Store(db_url)
    bus = EventBus()
    writer = start_writer(store)
    writer.attach(bus)  # the fall event is stored too, as in the engine
    seen: list[object] = []
    lock = threading.Lock()

    def keep(event: object) -> None:
        with lock:
            seen.append(event)

    for kind in (AlertRaised, AlertChanged, AlertDelivered):
        bus.subscribe(kind, keep)
    service = AlertService(
        bus=bus,
        writer=writer,
        store=store,
        clock=REAL_CLOCK,
        webhooks=[
            parse_webhook_target(server.url("/ok")),
            parse_webhook_target(server.url("/hang"), timeout_s=0.3),
            parse_webhook_target(server.url("/fail")),
        ],
        escalate_after_s=1.5,
        site="Demo",
    )
    service.start()
    try:
        took = fall(bus)
        assert took < 0.05  # the fusion thread never waits for the store or a webhook
        wait_for(lambda: any(isinstance(e, AlertRaised) for e in list(seen)))
        (alert,) = list_alerts(store)
        assert alert.kind == "fall" and alert.severity == "critical" and alert.open
        assert alert.event_id is not None  # linked to the stored fall event
        assert "fell in room" in alert.title

        # Webhooks: the good one delivered, the hanging and the failing ones stored as failed.
        # The first deliveries only: the hanging webhook's two attempts (0.3 s, a retry 1 s
        # later) can outlast the 1.5 s escalation on a loaded machine, whose deliveries
        # then arrive first (CI counted /ok's escalation as the third outcome).
        def first_deliveries() -> list[Any]:
            return [d for d in deliveries_of(store, alert.alert_id) if not d.escalation]

        wait_for(lambda: len(first_deliveries()) == 3)
        outcomes = {d.url.split("/")[-1]: d for d in first_deliveries()}
        assert len(outcomes) == 1  # URLs are stored masked: host and port only
        stored = first_deliveries()
        assert sorted(d.delivered for d in stored) == [False, False, True]
        errors = sorted(d.error or "" for d in stored if not d.delivered)
        assert "HTTP 500" in errors[0] and "timed out" in errors[1]
        assert all(d.attempts == 2 for d in stored if not d.delivered)  # one retry
        body = json.loads(server.wait_for_requests(1)[0].body)
        assert body["alert"] == alert.alert_id and body["escalated"] is False
        # A "text" line: a Slack (or Mattermost) incoming webhook takes the same POST as is.
        assert body["text"].startswith("[CRITICAL] Fall: someone fell in room")
        assert f"alert {alert.alert_id}" in body["text"]
        # Nobody acknowledged: escalated after 1.5 s, and delivered again as an escalation.
        wait_for(lambda: list_alerts(store)[0].escalated_at is not None, 10.0)
        wait_for(lambda: any(d.escalation for d in deliveries_of(store, alert.alert_id)))
        assert any(isinstance(e, AlertChanged) and e.change == "escalated" for e in list(seen))
        # The operator acknowledges: who and when stored, audited; a second ack changes nothing.
        acked = service.acknowledge(OPERATOR, alert.alert_id)
        assert acked.acknowledged_by == OPERATOR.label and acked.acknowledged_at is not None
        again = service.acknowledge(ADMIN, alert.alert_id)
        assert again.acknowledged_by == OPERATOR.label
        entries = AuditListRequest(reader=ADMIN, limit=10).run(store)
        assert [e.action for e in entries].count("alert.acknowledge") == 1
        with pytest.raises(UnknownAlertError):
            service.acknowledge(OPERATOR, 999)
    finally:
        service.stop()
        store.close()


def test_an_acknowledged_alert_does_not_escalate(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    bus = EventBus()
    writer = start_writer(store)
    writer.attach(bus)
    raised: list[AlertRaised] = []
    bus.subscribe(AlertRaised, raised.append)
    clock = SimulatedClock(datetime.now(UTC))
    service = AlertService(bus=bus, writer=writer, store=store, clock=clock, escalate_after_s=0.5)
    service.start()
    try:
        fall(bus)
        wait_for(lambda: bool(raised))
        service.acknowledge(OPERATOR, raised[0].alert.alert_id)
        # Three times the escalation delay later, and the check the escalation thread
        # makes each second made now (time is simulated: the thread may not have run).
        clock.advance(1.5)
        service.escalate_due()
        assert writer.flush()
        (alert,) = list_alerts(store)
        assert alert.escalated_at is None and not alert.open
        assert list_alerts(store, open_only=True) == []
    finally:
        service.stop()
        store.close()


def camera(bus: EventBus, clock: SimulatedClock, status: CameraStatus, detail: str = "") -> None:
    """Publish what the plaza camera's worker publishes when its status changes."""
    bus.publish(
        CameraStatusChanged(
            at=clock.now(), camera_id="plaza", status=status, detail=detail, since=clock.now()
        )
    )


def test_a_camera_down_past_the_setting_raises_an_alert_that_clears_when_it_is_back(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    bus = EventBus()
    writer = start_writer(store)
    writer.attach(bus)  # the status changes are stored as events, as in the engine
    raised: list[AlertRaised] = []
    changed: list[AlertChanged] = []
    bus.subscribe(AlertRaised, raised.append)
    bus.subscribe(AlertChanged, changed.append)
    clock = SimulatedClock(datetime.now(UTC))
    service = AlertService(
        bus=bus,
        writer=writer,
        store=store,
        clock=clock,
        camera_offline_s=60,
        camera_names={"plaza": "Plaza east"},
    )
    service.start()
    try:
        # A blip shorter than the setting: nothing.
        camera(bus, clock, CameraStatus.OFFLINE, "no frames for 5 s")
        clock.advance(30)
        service.check_cameras()
        camera(bus, clock, CameraStatus.ONLINE, "768×576")
        clock.advance(60)
        service.check_cameras()
        assert writer.flush() and list_alerts(store) == []

        # Down for good: reconnect attempts (starting, offline again) do not restart the count.
        camera(bus, clock, CameraStatus.OFFLINE, "no frames for 5 s")
        clock.advance(40)
        camera(bus, clock, CameraStatus.STARTING, "reconnecting")
        camera(bus, clock, CameraStatus.OFFLINE, "connection refused")
        clock.advance(20)
        service.check_cameras()
        wait_for(lambda: bool(raised))
        service.check_cameras()  # once per outage
        assert writer.flush()
        (alert,) = list_alerts(store)
        assert (alert.kind, alert.severity, alert.open) == ("camera", "warning", True)
        assert alert.title == "Camera Plaza east offline for 1 min: connection refused"
        assert alert.event_id is not None  # linked to the stored camera.offline event

        # Back: the engine acknowledges it, saying why.
        camera(bus, clock, CameraStatus.ONLINE, "768×576")
        wait_for(lambda: any(c.change == "acknowledged" for c in changed))
        (cleared,) = list_alerts(store)
        assert not cleared.open and cleared.acknowledged_by == "engine:camera-watch"
        entries = AuditListRequest(reader=ADMIN, limit=10, action="alert.acknowledge").run(store)
        assert entries[0].detail["note"].startswith("Camera Plaza east is back online at ")
        assert service.open_alerts() == 0 and len(raised) == 1
    finally:
        service.stop()
        store.close()


def test_a_camera_whose_alert_another_engine_left_open_raises_no_second_one(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    """Two engines of a shared site: the one that ran the plaza camera raised its alert and
    died; the one that takes the camera over finds it still down. The open alert is the
    same outage: it is not raised again, and it is cleared when the camera is back."""
    store = Store(db_url)
    clock = SimulatedClock(datetime.now(UTC))
    engines: list[tuple[EventBus, AlertService, list[AlertRaised]]] = []
    writers = [start_writer(store) for _ in range(2)]
    for writer in writers:
        bus = EventBus()
        raised: list[AlertRaised] = []
        bus.subscribe(AlertRaised, raised.append)
        service = AlertService(
            bus=bus, writer=writer, store=store, clock=clock, camera_offline_s=60
        )
        service.start()
        engines.append((bus, service, raised))
    (bus_a, first, raised_a), (bus_b, second, raised_b) = engines
    try:
        camera(bus_a, clock, CameraStatus.ERROR, "cannot open rtsp://cam/1")
        clock.advance(61)
        first.check_cameras()
        wait_for(lambda: bool(raised_a))
        first.stop()  # killed: its alert stays open

        camera(bus_b, clock, CameraStatus.ERROR, "cannot open rtsp://cam/1")
        clock.advance(61)
        second.check_cameras()
        wait_for(lambda: second.open_alerts() == 1)  # this engine escalates it now
        (alert,) = list_alerts(store)
        assert alert.open and raised_b == []  # the first engine's alert, not told again
        second.check_cameras()  # once per outage
        assert writers[1].flush() and len(list_alerts(store)) == 1

        camera(bus_b, clock, CameraStatus.ONLINE, "768×576")
        wait_for(lambda: not list_alerts(store)[0].open)
        (cleared,) = list_alerts(store)
        assert cleared.alert_id == alert.alert_id
        assert cleared.acknowledged_by == "engine:camera-watch"
    finally:
        for _bus, service, _raised in engines:
            service.stop()
        store.close()


def test_a_camera_handed_over_to_another_engine_keeps_its_alert_open_and_raises_none_here(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    """A shared site's camera moves to another engine: this engine's stop is no sign the
    camera is back (its open alert stays open for the new holder) and, down for less than
    the setting when it moved, it raises nothing here afterwards."""
    store = Store(db_url)
    bus = EventBus()
    writer = start_writer(store)
    raised: list[AlertRaised] = []
    bus.subscribe(AlertRaised, raised.append)
    clock = SimulatedClock(datetime.now(UTC))
    service = AlertService(bus=bus, writer=writer, store=store, clock=clock, camera_offline_s=60)
    service.start()

    def handed_over(camera_id: str) -> None:
        bus.publish(
            CameraStatusChanged(
                at=clock.now(),
                camera_id=camera_id,
                status=CameraStatus.STOPPED,
                detail="handed over to another engine of the site",
                since=clock.now(),
                handed_over=True,
            )
        )

    try:
        camera(bus, clock, CameraStatus.ERROR, "cannot open rtsp://cam/1")
        clock.advance(61)
        service.check_cameras()
        wait_for(lambda: service.open_alerts() == 1)
        handed_over("plaza")
        assert writer.flush()
        (alert,) = list_alerts(store)
        assert alert.open  # not "was stopped": the camera is still down, elsewhere
        assert service.open_alerts() == 0  # the new holder escalates it, not this engine

        bus.publish(  # another camera, down a moment, then moved on before the setting
            CameraStatusChanged(
                at=clock.now(),
                camera_id="yard",
                status=CameraStatus.OFFLINE,
                detail="no frames for 5 s",
                since=clock.now(),
            )
        )
        clock.advance(30)
        handed_over("yard")
        clock.advance(120)
        service.check_cameras()
        assert writer.flush() and len(list_alerts(store)) == 1 and len(raised) == 1
    finally:
        service.stop()
        store.close()


def test_cameras_raise_nothing_when_the_setting_is_zero(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    bus = EventBus()
    writer = start_writer(store)
    clock = SimulatedClock(datetime.now(UTC))
    service = AlertService(bus=bus, writer=writer, store=store, clock=clock, camera_offline_s=0)
    service.start()
    try:
        camera(bus, clock, CameraStatus.ERROR, "cannot open rtsp://cam/1")
        clock.advance(3600)
        service.check_cameras()
        assert writer.flush() and list_alerts(store) == []
    finally:
        service.stop()
        store.close()


def test_an_override_lists_alerts_without_asking_the_risk_api(store: Store) -> None:
    """The alert pane's class menu: with an override the gate is the override alone, so
    an overridden list never waits on the provider (slow here) and says so truthfully."""
    clock = SimulatedClock(RISK_NOW)
    api = RiskApi()
    try:
        api.answer("/cameras", [{"id": 1, "fwi_class": "very_low"}])
        cache = RiskClassCache(HttpRiskProvider(api.url, username=None, password=None), clock=clock)
        assert cache.refresh().state == "ok"  # today's classes are known...
        api.requests.clear()
        api.answer("/scores/2026-11-20", [], delay=SLOW_ANSWER_S)  # ...a past day's are slow
        with StoreWriter.running(store) as writer:
            service = AlertService(
                bus=EventBus(), writer=writer, store=store, clock=clock, risk_classes=cache
            )
            for day in (date(2026, 11, 20), None):
                for override in ("low", "moderate"):
                    gate = service.risk_gate(day, override)
                    page = AlertListRequest(gate=gate, day=day, with_counts=True).run(store)
                    assert page.gate.override == override and gate.classes is None
                    assert gate.describe().startswith(
                        f"override: every camera treated as {override}"
                    )
                    assert ("nothing hidden" in gate.describe()) == (override == "moderate")
                    assert "nothing is hidden" not in gate.describe()
        assert api.requests == []  # the provider was not asked
    finally:
        api.close()
