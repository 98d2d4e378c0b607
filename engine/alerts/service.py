"""The alert service: raises alerts from the events that call for one (a fall), delivers them
to webhooks, escalates those nobody acknowledged in time, and takes acknowledgements.

::

    SensingRecord "sensing.fall_detected" (fusion thread)
        └─▶ RaiseAlert (store writer; the fusion thread never waits)
              └─▶ AlertRaised on the bus (console: alert stream, sound)
                  └─▶ WebhookDispatcher (a worker per webhook: JSON POST, timeout, one retry)
                        └─▶ RecordDelivery (outcome stored) + AlertDelivered on the bus
    "alert-escalation" thread, once a second: open alerts older than escalate_after_s (120 s)
        └─▶ EscalateAlert ─▶ AlertChanged("escalated") + webhooks again ("escalated": true)
    acknowledge(actor, id) (a console worker, the CLI)
        └─▶ AcknowledgeAlert (guarded: acknowledge permission; audited) ─▶ AlertChanged

A webhook that hangs or answers 500 delays nothing: deliveries run on the dispatcher's own
threads and their failures are stored with the alert and published (the console shows them).
Alerts still open when the engine starts (from an earlier run) are escalated on the same
schedule, counted from when they were raised.

Threads: bus handlers run on the publisher's thread and only submit to the writer; the rest
runs on the writer's thread (done callbacks), the dispatcher's workers and "alert-escalation".
:meth:`acknowledge` blocks on the writer: call it off the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final

from engine.access import Actor
from engine.alerts.records import (
    AcknowledgeAlert,
    AlertView,
    EscalateAlert,
    RaiseAlert,
    RecordDelivery,
    list_alerts,
)
from engine.alerts.webhooks import DeliveryOutcome, WebhookDispatcher, WebhookTarget
from engine.bus import EventBus
from engine.clock import Clock
from engine.events import Event
from engine.sensing.service import SensingRecord
from engine.store.database import Store
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)

ESCALATE_AFTER_S: Final = 120.0  # an unacknowledged alert escalates after two minutes
CHECK_EVERY_S: Final = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised(Event):
    """A new alert (any thread)."""

    alert: AlertView


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertChanged(Event):
    """An alert was ``acknowledged`` or ``escalated`` (any thread)."""

    alert: AlertView
    change: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertDelivered(Event):
    """A webhook delivery of alert ``alert_id`` ended: ``delivered`` or not, with the masked
    ``url``, attempts and the error (any thread)."""

    alert_id: int
    escalation: bool
    url: str
    delivered: bool
    attempts: int
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertProblem(Event):
    """An alert could not be raised or escalated (the store refused it): ``message``."""

    message: str


class AlertService:
    """See the module docstring. ``webhooks``: where alerts are POSTed; ``escalate_after_s``:
    how long an alert may stay unacknowledged."""

    def __init__(
        self,
        *,
        bus: EventBus,
        writer: StoreWriter,
        store: Store,
        clock: Clock,
        webhooks: Sequence[WebhookTarget] = (),
        escalate_after_s: float = ESCALATE_AFTER_S,
        site: str | None = None,
    ) -> None:
        self._bus = bus
        self._writer = writer
        self._store = store
        self._clock = clock
        self._site = site
        self.escalate_after_s = escalate_after_s
        self._dispatcher = (
            WebhookDispatcher(webhooks, on_outcome=self._on_outcome, now=clock.now)
            if webhooks
            else None
        )
        self._open: dict[int, float] = {}  # alert id → engine monotonic time it was raised
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.raised = 0

    @property
    def webhooks(self) -> int:
        return 0 if self._dispatcher is None else len(self._dispatcher.targets)

    def start(self) -> None:
        """Take over the open alerts of earlier runs, listen for events (after the store
        writer has been attached to the bus), start the webhook workers and the escalation
        thread. Reads the store: not on the GUI thread."""
        now_wall, now_s = self._clock.now(), self._clock.monotonic()
        for alert in list_alerts(self._store, open_only=True, limit=1000):
            if alert.escalated_at is None:
                age = (now_wall - alert.raised_at).total_seconds()
                self._open[alert.alert_id] = now_s - max(age, 0.0)
        # On Event, like the store writer (attached first): the bus calls handlers of one
        # type in subscription order, so the fall's own row is queued before its alert,
        # which links to it.
        self._unsubscribe = self._bus.subscribe(Event, self._on_event)
        if self._dispatcher is not None:
            self._dispatcher.start()
        self._thread = threading.Thread(target=self._run, name="alert-escalation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and escalating; webhook deliveries in flight get a few seconds."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        if self._dispatcher is not None:
            self._dispatcher.stop(5.0)

    def open_alerts(self) -> int:
        with self._lock:
            return len(self._open)

    def acknowledge(self, actor: Actor, alert_id: int) -> AlertView:
        """``actor`` acknowledges the alert: checked (acknowledge permission) and audited by
        the writer; raises PermissionDeniedError or UnknownAlertError. Blocks on the writer."""
        alert: AlertView = self._writer.execute(
            AcknowledgeAlert(alert_id=alert_id, at=self._clock.now(), actor=actor)
        )
        with self._lock:
            self._open.pop(alert_id, None)
        self._bus.publish(AlertChanged(at=self._clock.now(), alert=alert, change="acknowledged"))
        return alert

    # --- raising ------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, SensingRecord) or event.kind != "sensing.fall_detected":
            return
        name = event.detail.get("name")
        who = f"{name} " if name else "someone "
        room = event.room
        command = RaiseAlert(
            raised_at=event.at,
            kind="fall",
            source=f"sensing:{room}",
            severity="critical",
            title=f"Fall: {who}fell in {room} and has not got up",
            detail={**event.detail, "room": room, "site": self._site},
            event_kind=event.kind,
            track_id=event.blob_id,
            person=event.person,
        )
        self._submit(command, self._raised)

    def _submit(self, command: Any, then: Callable[[Any], None]) -> None:
        try:
            future: Future[Any] = self._writer.submit(command)
        except Exception as exc:  # the writer refused it outright (stopping, failed)
            self._problem(f"{type(command).__name__}: {exc}")
            return

        def done(f: Future[Any]) -> None:
            try:
                result = f.result()
            except Exception as exc:
                self._problem(f"{type(command).__name__}: {exc}")
                return
            then(result)

        future.add_done_callback(done)

    def _problem(self, message: str) -> None:
        log.error("alerts: %s", message)
        self._bus.publish(AlertProblem(at=self._clock.now(), message=message))

    def _raised(self, alert: AlertView) -> None:
        with self._lock:
            self._open[alert.alert_id] = self._clock.monotonic()
            self.raised += 1
        self._bus.publish(AlertRaised(at=self._clock.now(), alert=alert))
        self._deliver(alert, escalation=False)

    def _deliver(self, alert: AlertView, *, escalation: bool) -> None:
        if self._dispatcher is None:
            return
        payload = {**alert.as_json(), "escalated": escalation, "site": self._site}
        self._dispatcher.deliver(f"{alert.alert_id}:{int(escalation)}", payload)

    def _on_outcome(self, outcome: DeliveryOutcome) -> None:
        alert_id, escalation = str(outcome.delivery_id).split(":")
        self._writer.post(
            RecordDelivery(
                alert_id=int(alert_id),
                escalation=escalation == "1",
                url=outcome.url,
                attempts=outcome.attempts,
                delivered=outcome.delivered,
                status_code=outcome.status_code,
                error=outcome.error,
                started_at=outcome.started_at,
                finished_at=outcome.finished_at,
            )
        )
        self._bus.publish(
            AlertDelivered(
                at=self._clock.now(),
                alert_id=int(alert_id),
                escalation=escalation == "1",
                url=outcome.url,
                delivered=outcome.delivered,
                attempts=outcome.attempts,
                error=outcome.error,
            )
        )

    # --- escalation ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._clock.wait(self._stop, CHECK_EVERY_S):
            self.escalate_due()

    def escalate_due(self) -> None:
        """Escalate every open alert raised ``escalate_after_s`` ago or more (the escalation
        thread calls it every second)."""
        now_s = self._clock.monotonic()
        with self._lock:
            due = [i for i, t in self._open.items() if now_s - t >= self.escalate_after_s]
            for alert_id in due:
                del self._open[alert_id]
        for alert_id in due:
            self._submit(EscalateAlert(alert_id=alert_id, at=self._clock.now()), self._escalated)

    def _escalated(self, alert: AlertView | None) -> None:
        if alert is None:
            return  # acknowledged meanwhile
        self._bus.publish(AlertChanged(at=self._clock.now(), alert=alert, change="escalated"))
        self._deliver(alert, escalation=True)
