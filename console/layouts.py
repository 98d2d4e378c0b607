"""The three role layouts: default arrangements; saved states live in QSettings."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow


class Layout(StrEnum):
    OPERATOR = "Operator"
    INVESTIGATOR = "Investigator"
    ADMIN = "Admin"


def arrange(window: QMainWindow, layout: Layout, docks: dict[str, QDockWidget]) -> None:
    """Put the panes where each role wants them by default.

    Operator: cameras fill the window, live events along the right.
    Investigator: the event history is the main pane, cameras beside it.
    Admin: site configuration and cameras side by side, events below.
    """
    cameras, events, site = docks["cameras"], docks["events"], docks["site"]
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    left, right, bottom = (
        Qt.DockWidgetArea.LeftDockWidgetArea,
        Qt.DockWidgetArea.RightDockWidgetArea,
        Qt.DockWidgetArea.BottomDockWidgetArea,
    )
    if layout is Layout.OPERATOR:
        window.addDockWidget(left, cameras)
        window.addDockWidget(right, events)
        window.addDockWidget(right, site)
        site.hide()
        window.resizeDocks([cameras, events], [3, 1], Qt.Orientation.Horizontal)
    elif layout is Layout.INVESTIGATOR:
        window.addDockWidget(left, events)
        window.addDockWidget(right, cameras)
        window.addDockWidget(right, site)
        site.hide()
        window.resizeDocks([events, cameras], [3, 2], Qt.Orientation.Horizontal)
    else:
        window.addDockWidget(left, site)
        window.addDockWidget(right, cameras)
        window.addDockWidget(bottom, events)
        window.resizeDocks([site, cameras], [2, 3], Qt.Orientation.Horizontal)
    for dock in docks.values():
        if not (dock is site and layout is not Layout.ADMIN):
            dock.show()
