"""The People pane's declaration: its title, who is offered it, its place in each layout,
and how it is built and linked: read again (bursts coalesced into one read) when faces are
recognised, people appear or are named, and when a BLE device is registered to a new name."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.history.events import EventView
from widgets.ble_devices.view import BleDevicesPane
from widgets.pane import RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.people.view import PeoplePane

REFRESH_MS = 1500  # a burst of sightings is read once, this long after it starts
CHANGING_KINDS = frozenset({"face.recognised", "person.appeared"})


def build(ctx: PaneContext) -> QWidget:
    actions = ctx.backend  # console/backends/people.py
    pane = PeoplePane(
        ctx.queries,
        list_people=actions.list,
        rename=actions.rename,
        merge=actions.merge,
        erase=actions.erase,
        media_root=ctx.media_root,
    )
    again = QTimer(pane)
    again.setSingleShot(True)
    again.setInterval(REFRESH_MS)
    again.timeout.connect(lambda: pane.refresh(warn=False))

    def stored(views: Sequence[EventView]) -> None:
        if any(view.kind in CHANGING_KINDS for view in views):
            again.start()  # coalesce bursts into one re-read

    ctx.events.sig_events_stored.connect(stored)
    ctx.events.sig_name_given.connect(lambda _event: again.start())  # the person's new name
    pane.refresh(warn=False)  # returns at once; the list arrives when read
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
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
