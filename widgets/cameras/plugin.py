"""The Cameras pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import LEFT, RIGHT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="cameras",
    title="Cameras",
    permission=Permission.WATCH,
    places={
        Layout.OPERATOR: Place(LEFT, width=5),
        Layout.INVESTIGATOR: Place(RIGHT, width=2, height=1),
        Layout.ADMIN: Place(LEFT, width=3),
    },
)
