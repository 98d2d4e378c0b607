"""The BLE devices page's declaration: its title and who is offered it (a page of the
administration window), and how it is built and linked (carriers' names change with the
people register)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.ble_devices.view import BleDevicesPane
from widgets.pane import Home, PaneContext, PaneSpec, other_pane
from widgets.people.view import PeoplePane


def build(ctx: PaneContext) -> QWidget:
    return BleDevicesPane(ctx.queries, ctx.backend)


def link(widget: QWidget, ctx: PaneContext) -> None:
    people = other_pane(ctx, "people", PeoplePane)
    if isinstance(widget, BleDevicesPane) and people is not None:
        # Carriers' names, and devices gone with an erased person.
        people.sig_people_changed.connect(widget.refresh)


PANE = PaneSpec(
    name="ble_devices",
    title="BLE devices",
    permission=Permission.WATCH,
    build=build,
    link=link,
    home=Home.ADMIN,
)
