"""What the alert stream may do, bound to the running engine: list the alerts and acknowledge
one as the person logged in.

Every method blocks (a store read, or a wait on the store writer); the console runs them on
the query service's workers (through :class:`console.queries.QtQueryClient`), never on the
GUI thread. An acknowledgement goes through
:meth:`engine.runtime.EngineRuntime.acknowledge_alert`, which checks the acknowledge
permission, stores who and when, audits it, stops the alert's escalation and publishes
``AlertChanged``; with nobody logged in it is refused here first. Escalating an alert to
an incident files its event as a report through the engine's incident desk.
"""

from __future__ import annotations

from console.session import ConsoleSession
from engine.alerts.records import AlertView, deliveries_of, list_alerts
from engine.incidents.records import Filed
from engine.runtime import EngineRuntime
from engine.store.database import Store
from widgets.alert_stream import AlertListing, delivery_error_text

RECENT_ALERTS = 100  # the stream lists this many of the newest alerts…
OPEN_ALERTS_LIMIT = 1000  # …and every open one besides (up to this many)


class AlertsBackend:
    """Blocking calls for the alert stream, run on query worker threads (two may run at
    once). Satisfies :class:`widgets.alert_stream.AlertActions`."""

    def __init__(self, runtime: EngineRuntime, store: Store, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session  # who the engine checks and audits: the logged-in person

    def list_alerts(self) -> AlertListing:
        """The newest alerts and every open one, with the errors of their failed webhook
        deliveries, and how many webhooks the engine delivers to."""
        alerts = {a.alert_id: a for a in list_alerts(self._store, limit=RECENT_ALERTS)}
        for alert in list_alerts(self._store, open_only=True, limit=OPEN_ALERTS_LIMIT):
            alerts.setdefault(alert.alert_id, alert)
        errors: dict[int, tuple[str, ...]] = {}
        for alert_id, alert in alerts.items():
            if alert.deliveries_failed:
                errors[alert_id] = tuple(
                    delivery_error_text(d.url, d.escalation, d.error)
                    for d in deliveries_of(self._store, alert_id)
                    if not d.delivered
                )
        service = self._runtime.alerts
        return AlertListing(
            alerts=tuple(alerts.values()),
            delivery_errors=errors,
            webhooks=0 if service is None else service.webhooks,
        )

    def acknowledge(self, alert_id: int) -> AlertView:
        """Acknowledge ``alert_id`` as the person logged in (blocks on the store writer);
        raises PermissionDeniedError, UnknownAlertError, or RuntimeError without a live
        engine."""
        actor = self._session.require_actor("acknowledge alerts")
        alert: AlertView = self._runtime.acknowledge_alert(actor, alert_id)
        return alert

    def escalate_event(self, event_id: int, text: str) -> Filed:
        """File the alert's stored event ``event_id`` as an incident report with ``text``,
        as the person logged in (blocks on the classifier and the store writer); raises
        PermissionDeniedError, LookupError for an unknown event, or RuntimeError without a
        live engine."""
        actor = self._session.require_actor("escalate an alert to an incident")
        service = self._runtime.incidents
        if service is None:
            raise RuntimeError("incidents need a live engine: the alert cannot be escalated")
        return service.escalate_event(actor, event_id, text)
