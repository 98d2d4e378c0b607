"""The Risk map pane's declaration: its title, who is offered it, its place in each
layout, and how it is built and linked: new incidents and refits redraw it; it follows the
incident list's selection and shows where an alert or event was just escalated."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.incidents.service import IncidentFiled, RiskRefitted
from engine.site_reload import SiteCamerasChanged
from widgets.incidents.plugin import follow_escalations
from widgets.incidents.view import IncidentListPane
from widgets.pane import LEFT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.risk_map.view import RiskMapPane


def build(ctx: PaneContext) -> QWidget:
    pane = RiskMapPane(ctx.queries, ctx.backend, now=ctx.now)
    ctx.events.on(IncidentFiled, lambda _event: pane.on_incidents_changed())
    ctx.events.on(RiskRefitted, lambda _event: pane.on_model_refitted())
    # Cameras added, removed or renamed while the console runs.
    ctx.events.on(SiteCamerasChanged, lambda _event: pane.on_cameras_changed())
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
    if not isinstance(widget, RiskMapPane):
        return
    incidents = other_pane(ctx, "incidents", IncidentListPane)
    if incidents is not None:  # neither echoes a selection made programmatically
        incidents.sig_incident_selected.connect(widget.select_incident)
    follow_escalations(ctx, widget.select_incident)


PANE = PaneSpec(
    name="risk_map",
    title="Risk map",
    permission=Permission.WATCH,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(LEFT, onto="cameras"),
        Layout.INVESTIGATOR: Place(LEFT, onto="events"),
        Layout.ADMIN: Place(LEFT, onto="cameras"),
    },
)
