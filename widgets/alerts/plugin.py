"""The Alerts pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import RIGHT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="alerts",
    title="Alerts",
    permission=Permission.WATCH,
    places={
        Layout.OPERATOR: Place(RIGHT, width=3, height=1),
        Layout.INVESTIGATOR: Place(RIGHT, onto="cameras"),
        Layout.ADMIN: Place(RIGHT, onto="events"),
    },
)
