"""The Events pane's declaration: its title, who is offered it, its place in each layout,
and how it is built and linked (stored events as the writer commits them; read again when
people are renamed, merged or erased)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.history.events import EventsStored
from engine.site_reload import SiteCamerasChanged
from widgets.events.view import EventHistoryPane
from widgets.pane import LEFT, RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.people.view import PeoplePane


def build(ctx: PaneContext) -> QWidget:
    # Analysed recordings' cameras too: their events are the site's (no live tile).
    cameras = [*ctx.cameras, *ctx.recorded_cameras]
    pane = EventHistoryPane(
        ctx.queries,
        cameras,
        ctx.media_root,
        actions=ctx.backend,
        rooms=ctx.rooms,
        fetch_recording=ctx.footage_file,
    )
    # One transaction's events at a time, with their ids (console/bridge.py).
    ctx.events.on(EventsStored, lambda event: pane.on_events_stored(event.views))
    # Cameras added, removed or renamed while the console runs.
    ctx.events.on(
        SiteCamerasChanged,
        lambda _event: pane.set_cameras([*ctx.cameras, *ctx.recorded_cameras]),
    )
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
    people = other_pane(ctx, "people", PeoplePane)
    if isinstance(widget, EventHistoryPane) and people is not None:
        # Changed people change the person column and what the pane lists.
        people.sig_people_changed.connect(widget.refresh)


PANE = PaneSpec(
    name="events",
    title="Events",
    permission=Permission.WATCH,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(RIGHT, height=1),
        Layout.INVESTIGATOR: Place(LEFT, width=3, height=1),
        Layout.ADMIN: Place(RIGHT, height=1),
    },
)
