"""The Incidents pane's declaration: its title, who is offered it, its place in each
layout, and how it is built and linked: new incidents are listed; it follows the risk
map's selection, a click on the map places the report being written, and an alert or event
just escalated is selected."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.incidents.service import IncidentFiled
from widgets.alerts.view import AlertStreamPane
from widgets.events.view import EventHistoryPane
from widgets.incidents.view import IncidentListPane
from widgets.pane import LEFT, RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.risk_map.view import RiskMapPane


def build(ctx: PaneContext) -> QWidget:
    pane = IncidentListPane(ctx.queries, ctx.backend, now=ctx.now)
    # The list reads the escalated incident when the engine's IncidentFiled arrives.
    ctx.events.on(IncidentFiled, lambda _event: pane.on_incidents_changed())
    ctx.when_closing(before_workers_stop=pane.close_dialogs)
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
    if not isinstance(widget, IncidentListPane):
        return
    risk_map = other_pane(ctx, "risk_map", RiskMapPane)
    if risk_map is not None:
        risk_map.sig_incident_selected.connect(widget.select_incident)
        risk_map.sig_location_picked.connect(widget.report_form.set_place)
    follow_escalations(ctx, widget.select_incident)


def follow_escalations(ctx: PaneContext, select: Callable[[int], None]) -> None:
    """Call ``select`` with the incident an alert (Alerts) or an event (Events) was just
    escalated to."""
    sources = (
        other_pane(ctx, "alerts", AlertStreamPane),
        other_pane(ctx, "events", EventHistoryPane),
    )
    for source in sources:
        if source is not None:
            source.sig_incident_escalated.connect(
                lambda _source_id, incident_id: select(incident_id)
            )


PANE = PaneSpec(
    name="incidents",
    title="Incidents",
    permission=Permission.WATCH,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="alerts"),
        Layout.INVESTIGATOR: Place(LEFT, onto="events"),
        Layout.ADMIN: Place(RIGHT, onto="events"),
    },
)
