"""The Risk map pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import LEFT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="risk_map",
    title="Risk map",
    permission=Permission.WATCH,
    places={
        Layout.OPERATOR: Place(LEFT, onto="cameras"),
        Layout.INVESTIGATOR: Place(LEFT, onto="events"),
        Layout.ADMIN: Place(LEFT, onto="cameras"),
    },
)
