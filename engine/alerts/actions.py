"""The alert list's use cases: taking an alert (in progress), writing a note on it, closing
it with a comment (acknowledging is closing), keeping its escalation to an incident in its
history, labelling a sequence, snoozing a camera's alerts for some minutes and ending that
early, adding, removing, arming or disarming a rule and setting how its alerts are handled
(operating instructions, a comment required to close). The console's backends, the CLI and
MQTT's commands call them; each names the permission it needs (the store writer checks it
and audits).

Each blocks on the store writer: call it off the GUI thread. ``alerts`` is the running
engine's alert service (None: no live engine with a store, a ``RuntimeError``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from engine.access import Actor, Permission, needs
from engine.alerts.records import AlertView, NoteAlert, RecordEscalation, TakeAlert
from engine.alerts.rules import (
    AddRule,
    ArmRule,
    RemoveRule,
    RuleSpec,
    SetRuleHandling,
    UpdateRule,
)
from engine.alerts.service import AlertChanged, AlertService
from engine.alerts.snoozes import SnoozeCamera, SnoozeView, UnsnoozeCamera, snooze_minutes
from engine.bus import EventBus
from engine.clock import Clock
from engine.store.writer import StoreWriter


def _live(alerts: AlertService | None) -> AlertService:
    if alerts is None:
        raise RuntimeError("alerts need a live engine with a store")
    return alerts


def _rules(
    alerts: AlertService | None, writer: StoreWriter | None
) -> tuple[AlertService, StoreWriter]:
    if alerts is None or writer is None:
        raise RuntimeError("alert rules need a live engine with a store")
    return alerts, writer


@needs(Permission.ACKNOWLEDGE)
def acknowledge_alert(
    alerts: AlertService | None, actor: Actor, alert_id: int, note: str = ""
) -> AlertView:
    """``actor`` acknowledges alert ``alert_id`` with their ``note`` (who and when stored,
    audited with the note). Raises PermissionDeniedError, UnknownAlertError, or
    RuntimeError without a live store."""
    return _live(alerts).acknowledge(actor, alert_id, note)


close_alert = acknowledge_alert  # closing an alert with a comment is acknowledging it


def _change_alert(
    writer: StoreWriter | None,
    bus: EventBus,
    clock: Clock,
    change: str,
    command: Callable[..., TakeAlert | NoteAlert | RecordEscalation],
) -> AlertView:
    """Store ``command(at=now)`` (the writer checks its permission and audits it), then
    tell every pane the alert changed (``AlertChanged`` with ``change``, once committed).
    RuntimeError without a store, before the command is made."""
    if writer is None:
        raise RuntimeError("alerts need a live engine with a store")
    alert: AlertView = writer.execute(command(at=clock.now()))
    bus.publish(AlertChanged(at=clock.now(), alert=alert, change=change))
    return alert


@needs(Permission.ACKNOWLEDGE)
def take_alert(
    writer: StoreWriter | None, bus: EventBus, clock: Clock, actor: Actor, alert_id: int
) -> AlertView:
    """``actor`` takes alert ``alert_id``: it is in progress, theirs (it stops escalating);
    stored, audited and told to every pane (``AlertChanged``, change ``taken``). Raises
    AlertStateError for a closed alert, UnknownAlertError, PermissionDeniedError, or
    RuntimeError without a store."""
    return _change_alert(
        writer, bus, clock, "taken", partial(TakeAlert, alert_id=alert_id, actor=actor)
    )


@needs(Permission.ACKNOWLEDGE)
def note_alert(
    writer: StoreWriter | None,
    bus: EventBus,
    clock: Clock,
    actor: Actor,
    alert_id: int,
    text: str,
) -> AlertView:
    """``actor`` writes ``text`` on alert ``alert_id`` (its history keeps it, in any state);
    stored, audited and told (change ``noted``). Raises ValueError for an empty or too long
    note, UnknownAlertError, PermissionDeniedError, RuntimeError."""
    return _change_alert(
        writer, bus, clock, "noted", partial(NoteAlert, alert_id=alert_id, actor=actor, text=text)
    )


@needs(Permission.FILE_REPORT)
def record_escalation(
    writer: StoreWriter | None,
    bus: EventBus,
    clock: Clock,
    actor: Actor,
    alert_id: int,
    incident_id: int,
) -> AlertView:
    """Keep in alert ``alert_id``'s history that ``actor`` escalated it to incident
    ``incident_id`` (filed by the incident desk); audited and told (change
    ``escalated_to_incident``)."""
    escalation = partial(RecordEscalation, alert_id=alert_id, actor=actor, incident_id=incident_id)
    return _change_alert(writer, bus, clock, "escalated_to_incident", escalation)


@needs(Permission.LABEL)
def label_sequence(
    alerts: AlertService | None, actor: Actor, sequence_id: int, label: str | None
) -> int:
    """``actor`` labels an alert sequence a true or false alarm (None clears it); audited.
    Returns its alert's id."""
    return _live(alerts).label(actor, sequence_id, label)


def _snoozes(writer: StoreWriter | None, site_id: int | None) -> tuple[StoreWriter, int]:
    if writer is None or site_id is None:
        raise RuntimeError("snoozing alerts needs a live engine with a store")
    return writer, site_id


@needs(Permission.ACKNOWLEDGE)
def snooze_camera(
    writer: StoreWriter | None,
    site_id: int | None,
    clock: Clock,
    actor: Actor,
    camera: str,
    minutes: int,
) -> SnoozeView:
    """``actor`` snoozes the alerts of camera ``camera`` (its key) for ``minutes`` (1-1440)
    from now: its detections and sequences are still stored, but none notifies anybody
    until then (see :mod:`engine.alerts.snoozes`); a running snooze of it is replaced.
    Stored (every engine of the site reads it) and audited. Raises SnoozeError for bad
    minutes or an unknown camera, PermissionDeniedError, or RuntimeError without a store."""
    minutes = snooze_minutes(minutes)
    writer, site_id = _snoozes(writer, site_id)
    view: SnoozeView = writer.execute(
        SnoozeCamera(site_id=site_id, camera=camera, minutes=minutes, at=clock.now(), actor=actor)
    )
    return view


@needs(Permission.ACKNOWLEDGE)
def unsnooze_camera(
    writer: StoreWriter | None, site_id: int | None, clock: Clock, actor: Actor, camera: str
) -> SnoozeView:
    """``actor`` ends the running snooze of camera ``camera`` now: its alerts notify again.
    Audited. Returns the ended snooze. Raises NotSnoozedError, SnoozeError (unknown camera),
    PermissionDeniedError, or RuntimeError without a store."""
    writer, site_id = _snoozes(writer, site_id)
    view: SnoozeView = writer.execute(
        UnsnoozeCamera(site_id=site_id, camera=camera, at=clock.now(), actor=actor)
    )
    return view


@needs(Permission.CONFIGURE_RULES)
def add_rule(
    alerts: AlertService | None,
    writer: StoreWriter | None,
    clock: Clock,
    actor: Actor,
    rule: RuleSpec,
) -> RuleSpec:
    """Store a new alert rule as ``actor`` (audited) and apply it at once. Raises
    RuleError, PermissionDeniedError, or RuntimeError without a live store."""
    service, writer = _rules(alerts, writer)
    stored: RuleSpec = writer.execute(AddRule(rule=rule, at=clock.now(), actor=actor))
    service.reload_rules()
    return stored


@needs(Permission.CONFIGURE_RULES)
def remove_rule(
    alerts: AlertService | None, writer: StoreWriter | None, clock: Clock, actor: Actor, name: str
) -> None:
    """Remove the alert rule ``name`` as ``actor`` (audited) and stop applying it. Raises
    UnknownRuleError, PermissionDeniedError, RuntimeError."""
    service, writer = _rules(alerts, writer)
    writer.execute(RemoveRule(name=name, at=clock.now(), actor=actor))
    service.reload_rules()


@needs(Permission.CONFIGURE_RULES)
def arm_rule(
    alerts: AlertService | None,
    writer: StoreWriter | None,
    clock: Clock,
    actor: Actor,
    name: str,
    armed: bool,
) -> RuleSpec:
    """Arm or disarm the alert rule ``name`` as ``actor`` (audited) and apply it at once.
    Raises UnknownRuleError, PermissionDeniedError, RuntimeError."""
    service, writer = _rules(alerts, writer)
    rule: RuleSpec = writer.execute(ArmRule(name=name, armed=armed, at=clock.now(), actor=actor))
    service.reload_rules()
    return rule


@needs(Permission.CONFIGURE_RULES)
def update_rule(
    alerts: AlertService | None,
    writer: StoreWriter | None,
    clock: Clock,
    actor: Actor,
    name: str,
    rule: RuleSpec,
) -> RuleSpec:
    """Change the alert rule ``name`` to ``rule`` as ``actor`` (audited) and apply it at
    once. Raises RuleError, UnknownRuleError, PermissionDeniedError, RuntimeError."""
    service, writer = _rules(alerts, writer)
    stored: RuleSpec = writer.execute(UpdateRule(name=name, rule=rule, at=clock.now(), actor=actor))
    service.reload_rules()
    return stored


@needs(Permission.CONFIGURE_RULES)
def set_rule_handling(
    alerts: AlertService | None,
    writer: StoreWriter | None,
    clock: Clock,
    actor: Actor,
    name: str,
    instructions: str,
    comment_required: bool,
) -> RuleSpec:
    """Set the operating ``instructions`` of rule ``name`` and whether its alerts close only
    with a comment, as ``actor`` (audited); its alerts, open ones too, follow at once. Raises
    RuleError (instructions too long), UnknownRuleError, PermissionDeniedError,
    RuntimeError."""
    service, writer = _rules(alerts, writer)
    rule: RuleSpec = writer.execute(
        SetRuleHandling(
            name=name,
            instructions=instructions,
            comment_required=comment_required,
            at=clock.now(),
            actor=actor,
        )
    )
    service.reload_rules()
    return rule
