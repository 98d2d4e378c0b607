"""The Events pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import LEFT, RIGHT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="events",
    title="Events",
    permission=Permission.WATCH,
    places={
        Layout.OPERATOR: Place(RIGHT, height=1),
        Layout.INVESTIGATOR: Place(LEFT, width=3, height=1),
        Layout.ADMIN: Place(RIGHT, height=1),
    },
)
