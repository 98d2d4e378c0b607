"""An attached console cut off from the database is told, when it is back, what happened to
the site's alerts meanwhile (engine.cluster.live.LiveFollower): raised ones as raised, and
each changed one once, with its last change: taken, noted, closed or escalated to an
incident. Before, only closings and escalations were told, so an alert another operator took
while this console was away still read "New" on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.alerts import actions
from engine.alerts.records import AcknowledgeAlert, RaiseAlert
from engine.alerts.service import AlertChanged, AlertRaised
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.cluster.live import LiveFollower
from engine.store.database import Store
from engine.store.writer import StoreWriter
from tests.actors import ADMIN

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def _raise(writer: StoreWriter, clock: SimulatedClock, title: str) -> int:
    view = writer.execute(
        RaiseAlert(
            raised_at=clock.now(),
            kind="loitering",
            source="camera:gate",
            severity="warning",
            title=title,
            detail={},
        )
    )
    return int(view.alert_id)


def test_a_console_back_from_away_is_told_each_alerts_last_change(store: Store) -> None:
    clock = SimulatedClock(T0)
    bus = EventBus()  # the engine's: what the actions tell live is not this console's
    console_bus = EventBus()
    raised: list[AlertRaised] = []
    changed: list[AlertChanged] = []
    console_bus.subscribe(AlertRaised, raised.append)
    console_bus.subscribe(AlertChanged, changed.append)
    with StoreWriter.running(store) as writer:
        before = [_raise(writer, clock, f"Before {n}") for n in range(4)]
        untouched = _raise(writer, clock, "Nobody touched it")
        follower = LiveFollower(
            store,
            console_bus,
            site_id=1,
            site_name="Test site",
            sender="console@h:1/a",
            clock=clock,
        )
        follower._newest_alert = untouched  # what start() reads: the newest alert told
        clock.advance(60)
        follower._state(False, "database away")  # the console is cut off here
        clock.advance(1)
        taken, noted, closed, escalated = before
        actions.take_alert(writer, bus, clock, ADMIN, taken)
        clock.advance(1)
        actions.note_alert(writer, bus, clock, ADMIN, noted, "Gate shut again")
        clock.advance(1)
        actions.take_alert(writer, bus, clock, ADMIN, closed)
        clock.advance(1)
        writer.execute(
            AcknowledgeAlert(alert_id=closed, actor=ADMIN, at=clock.now(), note="Only the wind")
        )
        clock.advance(1)
        actions.record_escalation(writer, bus, clock, ADMIN, escalated, incident_id=7)
        fresh = _raise(writer, clock, "Raised while away")
        clock.advance(5)
        follower._state(True, None)  # back

    assert [e.alert.alert_id for e in raised] == [fresh]
    told = {e.alert.alert_id: e.change for e in changed}
    assert told == {
        taken: "taken",
        noted: "noted",
        closed: "acknowledged",  # taken first, then closed: its last change
        escalated: "escalated_to_incident",
    }
    assert len(changed) == 4  # each once, the untouched one not at all
    by_id = {e.alert.alert_id: e.alert for e in changed}
    assert by_id[taken].taken_by == "account:ada"
    assert by_id[closed].acknowledged_by == "account:ada"
