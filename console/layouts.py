"""The three role layouts: default arrangements; saved states live in QSettings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

Area = Qt.DockWidgetArea


class Layout(StrEnum):
    OPERATOR = "Operator"
    INVESTIGATOR = "Investigator"
    ADMIN = "Admin"


@dataclass(frozen=True, slots=True)
class Arrangement:
    """Where each pane goes, which panes start hidden, and how the two main panes side by
    side share the width."""

    areas: tuple[tuple[str, Area], ...]
    hidden: tuple[str, ...]
    split: tuple[tuple[str, int], tuple[str, int]]


DEFAULTS: dict[Layout, Arrangement] = {
    # Operator: cameras fill the window, live events along the right.
    Layout.OPERATOR: Arrangement(
        areas=(
            ("cameras", Area.LeftDockWidgetArea),
            ("events", Area.RightDockWidgetArea),
            ("people", Area.RightDockWidgetArea),
            ("site", Area.RightDockWidgetArea),
            ("system", Area.RightDockWidgetArea),
        ),
        hidden=("site", "people", "system"),
        split=(("cameras", 3), ("events", 1)),
    ),
    # Investigator: the event history is the main pane, cameras and people beside it.
    Layout.INVESTIGATOR: Arrangement(
        areas=(
            ("events", Area.LeftDockWidgetArea),
            ("cameras", Area.RightDockWidgetArea),
            ("people", Area.RightDockWidgetArea),
            ("site", Area.RightDockWidgetArea),
            ("system", Area.RightDockWidgetArea),
        ),
        hidden=("site", "system"),
        split=(("events", 3), ("cameras", 2)),
    ),
    # Admin: site configuration and people on the left, cameras beside, events below.
    Layout.ADMIN: Arrangement(
        areas=(
            ("site", Area.LeftDockWidgetArea),
            ("people", Area.LeftDockWidgetArea),
            ("system", Area.LeftDockWidgetArea),
            ("cameras", Area.RightDockWidgetArea),
            ("events", Area.BottomDockWidgetArea),
        ),
        hidden=(),
        split=(("site", 2), ("cameras", 3)),
    ),
}


def arrange(window: QMainWindow, layout: Layout, docks: dict[str, QDockWidget]) -> None:
    """Put the panes where ``layout``'s role wants them by default."""
    arrangement = DEFAULTS[layout]
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    for name, area in arrangement.areas:
        window.addDockWidget(area, docks[name])
    for name, dock in docks.items():
        dock.setVisible(name not in arrangement.hidden)
    (first, first_part), (second, second_part) = arrangement.split
    _share_width(window, [docks[first], docks[second]], [first_part, second_part])


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
