"""The Activity pane's declaration: its title, who is offered it, its place in each layout
(a tab behind the live events for the operator), and how it is built (the newest page of
the history, then the events the writer stores)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.history.events import MAX_PAGE_SIZE, EventPageRequest, EventsStored
from engine.site_reload import SiteCamerasChanged
from widgets.activity.view import ActivityPane
from widgets.pane import RIGHT, Layout, PaneContext, PaneSpec, Place


def build(ctx: PaneContext) -> QWidget:
    rooms = [(f"sensing:{room}", name) for room, name in ctx.rooms]
    pane = ActivityPane([*ctx.cameras, *rooms], ctx.now)
    ctx.queries.submit("activity", EventPageRequest(limit=MAX_PAGE_SIZE), pane.on_history_read)
    ctx.events.on(EventsStored, lambda event: pane.on_events_stored(event.views))
    # Cameras added, removed or renamed while the console runs.
    ctx.events.on(SiteCamerasChanged, lambda _event: pane.set_sources([*ctx.cameras, *rooms]))
    return pane


PANE = PaneSpec(
    name="activity",
    title="Activity",
    permission=Permission.WATCH,
    build=build,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events"),
        Layout.INVESTIGATOR: Place(RIGHT, onto="people", hidden=True),
        Layout.ADMIN: Place(RIGHT, onto="events", hidden=True),
    },
)
