"""The Sensing pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import RIGHT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="sensing",
    title="Sensing",
    permission=Permission.WATCH,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events"),
        Layout.INVESTIGATOR: Place(RIGHT, onto="people", hidden=True),
        Layout.ADMIN: Place(RIGHT, width=2, height=1),
    },
)
