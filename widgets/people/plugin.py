"""The People pane's declaration: its title, who is offered it, its place in each layout,
and how it is built and linked: read again (bursts coalesced into one read) when faces are
recognised, people appear or are named, and when a BLE device is registered to a new name;
its paths across senses read again when a path is filed, and each offers "Show in
timeline" (the path shown whole and replayed on the timeline) to those who may replay."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.history.events import EventsStored, EventView
from engine.history.paths import PATH_KIND, PersonPath
from engine.introductions import NameGiven
from widgets.ble_devices.view import BleDevicesPane
from widgets.pane import RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.people.view import PeoplePane
from widgets.timeline.investigation import InvestigationPane

REFRESH_MS = 1500  # a burst of sightings is read once, this long after it starts
CHANGING_KINDS = frozenset({"face.recognised", "person.appeared"})
SHOW_IN_TIMELINE = "Show in timeline"


def build(ctx: PaneContext) -> QWidget:
    actions = ctx.backend  # console/backends/people.py
    pane = PeoplePane(
        ctx.queries,
        list_people=actions.list,
        rename=actions.rename,
        merge=actions.merge,
        erase=actions.erase,
        media_root=ctx.media_root,
        list_paths=actions.paths_of,
        list_unnamed_paths=actions.unnamed_paths_today,
    )
    again = QTimer(pane)
    again.setSingleShot(True)
    again.setInterval(REFRESH_MS)
    again.timeout.connect(lambda: pane.refresh(warn=False))
    paths_again = QTimer(pane)
    paths_again.setSingleShot(True)
    paths_again.setInterval(REFRESH_MS)
    paths_again.timeout.connect(pane.refresh_paths)

    def stored(views: Sequence[EventView]) -> None:
        if any(view.kind in CHANGING_KINDS for view in views):
            again.start()  # coalesce bursts into one re-read
        if any(view.kind == PATH_KIND for view in views):
            paths_again.start()

    ctx.events.on(EventsStored, lambda event: stored(event.views))
    ctx.events.on(NameGiven, lambda _event: again.start())  # the person's new name
    pane.refresh(warn=False)  # returns at once; the list arrives when read
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
    timeline = other_pane(ctx, "timeline", InvestigationPane)
    if isinstance(widget, PeoplePane) and widget.paths_section is not None and timeline:

        def show_in_timeline(path: PersonPath) -> None:
            actor = ctx.actor
            if actor is None or not actor.may(Permission.REPLAY):
                ctx.show_message(
                    "Showing a path in the timeline needs the replay permission.", 5000
                )
                return
            timeline.show_path(path)
            ctx.show_pane("timeline")

        widget.paths_section.add_path_action(SHOW_IN_TIMELINE, show_in_timeline)
    devices = other_pane(ctx, "ble_devices", BleDevicesPane)
    if isinstance(widget, PeoplePane) and devices is not None:
        # A device registered to a new name adds a person.
        devices.sig_device_registered.connect(lambda _address: widget.refresh(warn=False))
        devices.sig_device_removed.connect(lambda _address: widget.refresh(warn=False))


PANE = PaneSpec(
    name="people",
    title="People",
    permission=Permission.WATCH,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events", hidden=True),
        Layout.INVESTIGATOR: Place(RIGHT, height=1),
        Layout.ADMIN: Place(RIGHT, onto="sensing"),
    },
)
