"""The "Search reports" pane's declaration: who is offered it (replay: investigators and
admins), its place in each layout (beside the timeline for the investigator, behind the
events otherwise), and how it is linked: a result shows its moment on the timeline, and an
incident report's result selects its incident in the Incidents pane."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.text_search.search import TextHit
from widgets.incidents.view import IncidentListPane
from widgets.meaning_search.view import MeaningSearchPane
from widgets.pane import LEFT, RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.timeline.investigation import InvestigationPane


def build(ctx: PaneContext) -> QWidget:
    return MeaningSearchPane(ctx.queries)


def link(widget: QWidget, ctx: PaneContext) -> None:
    if not isinstance(widget, MeaningSearchPane):
        return
    timeline = other_pane(ctx, "timeline", InvestigationPane)
    incidents = other_pane(ctx, "incidents", IncidentListPane)

    def show(hit: TextHit) -> None:
        if hit.kind == "incident" and incidents is not None:
            incidents.select_incident(hit.id)
            ctx.show_pane("incidents")
        elif timeline is not None:
            timeline.show_moment(hit.at)
            ctx.show_pane("timeline")

    widget.sig_hit_activated.connect(show)


PANE = PaneSpec(
    name="meaning_search",
    title="Search reports",
    permission=Permission.REPLAY,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events", hidden=True),
        Layout.INVESTIGATOR: Place(LEFT, onto="timeline"),
        Layout.ADMIN: Place(RIGHT, onto="events", hidden=True),
    },
)
