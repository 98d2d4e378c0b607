"""The People pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import RIGHT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="people",
    title="People",
    permission=Permission.WATCH,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events", hidden=True),
        Layout.INVESTIGATOR: Place(RIGHT, height=1),
        Layout.ADMIN: Place(RIGHT, onto="sensing"),
    },
)
