"""The alert service as the runtime builds it: a live engine's (rules, sequences, webhooks,
escalation, the low-risk filter), an attached console's (reading the rules and risk classes
only: the engines raise, escalate and deliver), and a file analysis's recording alerts (no
alert service, yet media it cannot write raise the same alert as a live camera's)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from engine.alerts.recording import RecordingAlerts
from engine.alerts.records import AlertView
from engine.alerts.risk_classes import risk_class_cache
from engine.alerts.service import AlertChanged, AlertProblem, AlertRaised, AlertService
from engine.alerts.webhooks import parse_webhook_target
from engine.bus import EventBus
from engine.clock import Clock
from engine.config import SiteConfig
from engine.events import Event
from engine.store.database import Store
from engine.store.writer import StoreWriter

log = logging.getLogger(__name__)


def live_alerts(
    site: SiteConfig,
    bus: EventBus,
    writer: StoreWriter,
    store: Store,
    clock: Clock,
    names: Mapping[str, str],
) -> AlertService:
    """A live engine's alert service (``names``: its cameras' and rooms' names); started
    after the writer is attached: alerts link their events."""
    return AlertService(
        bus=bus,
        writer=writer,
        store=store,
        clock=clock,
        webhooks=[parse_webhook_target(hook.url, hook.timeout_s) for hook in site.alerts.webhooks],
        escalate_after_s=site.alerts.escalate_after_s,
        site=site.name,
        risk_classes=risk_class_cache(site.alerts, store, clock),
        group_window_s=site.alerts.group_window_s,
        site_time=site.site_time,  # armed hours are the site's
        camera_offline_s=site.alerts.camera_offline_s,
        camera_names=dict(names),
    )


def reading_alerts(
    site: SiteConfig,
    bus: EventBus,
    writer: StoreWriter,
    store: Store,
    clock: Clock,
    names: Mapping[str, str],
) -> AlertService:
    """An attached console's: the alert list's rules and risk classes, read (the engines
    raise, escalate and deliver)."""
    return AlertService(
        bus=bus,
        writer=writer,
        store=store,
        clock=clock,
        site=site.name,
        risk_classes=risk_class_cache(site.alerts, store, clock),
        site_time=site.site_time,
        camera_names=dict(names),
    )


def recording_alerts(
    site: SiteConfig,
    bus: EventBus,
    writer: StoreWriter,
    clock: Clock,
    names: Mapping[str, str],
    raised_list: list[AlertView],
) -> RecordingAlerts:
    """A file analysis's recording alerts, each raised kept in ``raised_list``. Subscribed
    on ``Event`` after the writer, so a loss's event is queued before the alert that links
    to it."""

    def raised(alert: AlertView) -> None:
        raised_list.append(alert)
        bus.publish(AlertRaised(at=clock.now(), alert=alert))

    def cleared(alert: AlertView) -> None:
        bus.publish(AlertChanged(at=clock.now(), alert=alert, change="acknowledged"))

    def problem(message: str) -> None:
        log.error("alerts: %s", message)
        bus.publish(AlertProblem(at=clock.now(), message=message))

    alerts = RecordingAlerts(
        writer=writer,
        clock=clock,
        raised=raised,
        cleared=cleared,
        problem=problem,
        site=site.name,
        camera_names=dict(names),
        site_time=site.site_time,
    )
    bus.subscribe(Event, alerts.on_event)
    return alerts


def alerts_report(alerts: AlertService | None, site: SiteConfig) -> dict[str, Any] | None:
    """The alert service's figures for ``engine --report`` (None: no alert service)."""
    if alerts is None:
        return None
    return {
        "raised": alerts.raised,
        "open": alerts.open_alerts(),
        "webhooks": alerts.webhooks,
        "sequences": alerts.sequences,
        "risk_classes": (
            alerts.risk_classes.status().describe(site.site_time)
            if alerts.risk_classes is not None
            else None
        ),
    }
