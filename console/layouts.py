"""The three role layouts: default arrangements; saved states live in QSettings."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt, QTimer
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
        _share_width(window, [cameras, events], [3, 1])
    elif layout is Layout.INVESTIGATOR:
        window.addDockWidget(left, events)
        window.addDockWidget(right, cameras)
        window.addDockWidget(right, site)
        site.hide()
        _share_width(window, [events, cameras], [3, 2])
    else:
        window.addDockWidget(left, site)
        window.addDockWidget(right, cameras)
        window.addDockWidget(bottom, events)
        _share_width(window, [site, cameras], [2, 3])
    for dock in docks.values():
        if not (dock is site and layout is not Layout.ADMIN):
            dock.show()


def _share_width(window: QMainWindow, docks: list[QDockWidget], parts: list[int]) -> None:
    """Split the window's width between side-by-side docks in the ratio ``parts``.

    Qt ignores resizeDocks() before the window is laid out, so it is applied again once the
    event loop has run.
    """

    def apply() -> None:
        total = max(window.width(), 400)
        sizes = [total * part // sum(parts) for part in parts]
        window.resizeDocks(docks, sizes, Qt.Orientation.Horizontal)

    apply()
    QTimer.singleShot(0, window, apply)
