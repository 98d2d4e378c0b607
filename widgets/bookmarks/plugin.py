"""The Bookmarks pane's declaration: its title, who is offered it, its place in each layout."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import LEFT, RIGHT, Layout, PaneSpec, Place

PANE = PaneSpec(
    name="bookmarks",
    title="Bookmarks",
    permission=Permission.REPLAY,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events", hidden=True),
        Layout.INVESTIGATOR: Place(LEFT, onto="timeline"),
        Layout.ADMIN: Place(RIGHT, onto="events", hidden=True),
    },
)
