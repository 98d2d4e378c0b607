"""The Alert list pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import LEFT, RIGHT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="alert_list",
    title="Alert list",
    permission=Permission.WATCH,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="alerts"),
        Layout.INVESTIGATOR: Place(LEFT, onto="events"),
        Layout.ADMIN: Place(RIGHT, onto="events"),
    },
)
