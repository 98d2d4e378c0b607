"""The Introductions pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import RIGHT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="introductions",
    title="Introductions",
    permission=Permission.WATCH,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events"),
        Layout.INVESTIGATOR: Place(RIGHT, onto="people", hidden=True),
        Layout.ADMIN: Place(RIGHT, onto="events"),
    },
)
