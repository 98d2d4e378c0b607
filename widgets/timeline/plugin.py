"""The Timeline pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import LEFT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="timeline",
    title="Timeline",
    permission=Permission.REPLAY,
    places={
        Layout.OPERATOR: Place(LEFT, hidden=True),
        Layout.INVESTIGATOR: Place(LEFT, height=1),
        Layout.ADMIN: Place(LEFT, hidden=True),
    },
)
