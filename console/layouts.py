"""The three role layouts: which roles may use them, which panes each permission opens,
and their default arrangements; saved states live in QSettings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

from engine.access import Actor, Permission, Role

Area = Qt.DockWidgetArea


class Layout(StrEnum):
    OPERATOR = "Operator"
    INVESTIGATOR = "Investigator"
    ADMIN = "Admin"


# Roles are cumulative (an investigator may do what an operator may), and so are layouts.
ROLE_LAYOUTS: dict[Role, tuple[Layout, ...]] = {
    Role.OPERATOR: (Layout.OPERATOR,),
    Role.INVESTIGATOR: (Layout.OPERATOR, Layout.INVESTIGATOR),
    Role.ADMIN: (Layout.OPERATOR, Layout.INVESTIGATOR, Layout.ADMIN),
}

# What a pane needs: it is offered (Panes menu, its dock) only to actors who hold it.
PANE_PERMISSIONS: dict[str, Permission] = {
    "cameras": Permission.WATCH,
    "events": Permission.WATCH,
    "people": Permission.WATCH,
    "site": Permission.WATCH,
    "system": Permission.WATCH,
    "audit": Permission.READ_AUDIT,
    "accounts": Permission.MANAGE_ACCOUNTS,
    "sensing": Permission.WATCH,
    # Anyone may see who carries which device (as they see people); the pane offers changes
    # only to those who may manage BLE devices.
    "ble_devices": Permission.WATCH,
    # Teaching, replaying and removing gestures is the admins' (a gesture may raise alerts).
    "gestures": Permission.MANAGE_GESTURES,
    # Everyone who watches sees the names heard in introductions and the microphones; giving
    # or dismissing a name and feeding audio need the label permission.
    "introductions": Permission.WATCH,
    # Everyone who watches sees the alerts; acknowledging one needs the acknowledge permission.
    "alerts": Permission.WATCH,
    # Everyone who watches sees the risk map and the incidents; filing a report needs
    # file_report, validating, correcting and un-merging the label permission.
    "risk_map": Permission.WATCH,
    "incidents": Permission.WATCH,
    # Everyone who watches browses the alert list (acknowledging and labelling need their
    # permissions); the rules are the admins' (they are shown only to who may change them).
    "alert_list": Permission.WATCH,
    "alert_rules": Permission.CONFIGURE_RULES,
    # Investigators replay the timeline, bookmark, and ask about recorded history.
    "timeline": Permission.REPLAY,
    "bookmarks": Permission.REPLAY,
    "chat": Permission.CHAT_HISTORY,
}


def layouts_for(actor: Actor | None) -> list[Layout]:
    """The layouts ``actor``'s roles allow, in menu order (none while nobody is logged in)."""
    if actor is None:
        return []
    allowed = {layout for role in actor.roles for layout in ROLE_LAYOUTS.get(role, ())}
    return [layout for layout in Layout if layout in allowed]


def default_layout_for(actor: Actor) -> Layout | None:
    """The layout of ``actor``'s highest role (None if their roles allow none)."""
    allowed = layouts_for(actor)
    return allowed[-1] if allowed else None


def pane_allowed(actor: Actor | None, pane: str) -> bool:
    """Whether ``actor`` may see ``pane`` (a pane named nowhere needs nothing special)."""
    if actor is None:
        return False
    permission = PANE_PERMISSIONS.get(pane)
    return permission is None or actor.may(permission)


@dataclass(frozen=True, slots=True)
class Arrangement:
    """Where each pane goes, which panes start hidden, how the two main panes side by
    side share the width, which panes share a place as tabs (``(pane, onto)``, the
    ``onto`` pane stays in front), and how stacked panes share a column's height."""

    areas: tuple[tuple[str, Area], ...]
    hidden: tuple[str, ...]
    split: tuple[tuple[str, int], tuple[str, int]]
    tabs: tuple[tuple[str, str], ...] = ()
    heights: tuple[tuple[tuple[str, int], ...], ...] = ()
    """Panes stacked in one column and how they share its height (Qt otherwise gives
    the pane with the larger size hint more, squeezing the other)."""


# Configuration that is set up rather than watched lives in the administration window (a
# sidebar page each, in this order), not on the live wall: each page gets the whole window.
ADMIN_PAGES: tuple[tuple[str, str], ...] = (
    ("site", "Site"),
    ("system", "System and settings"),
    ("accounts", "Accounts"),
    ("alert_rules", "Alert rules"),
    ("ble_devices", "BLE devices"),
    ("gestures", "Gestures"),
    ("audit", "Audit trail"),
)

# The live wall's panes. Each layout gives every one a place (a pane the layout hides may
# be opened from View → Panes) and keeps what it shows to two rows per column at most, so
# that at 1400×860 no visible pane is shorter than 200 px.
DEFAULTS: dict[Layout, Arrangement] = {
    # Operator: cameras fill the left (the risk map as a tab behind them); on the right the
    # alert stream on top (the incident list and the alert list as tabs behind it), live
    # events below it (the sensing room and the introductions as tabs behind them).
    Layout.OPERATOR: Arrangement(
        areas=(
            ("cameras", Area.LeftDockWidgetArea),
            ("risk_map", Area.LeftDockWidgetArea),
            ("alerts", Area.RightDockWidgetArea),
            ("incidents", Area.RightDockWidgetArea),
            ("alert_list", Area.RightDockWidgetArea),
            ("events", Area.RightDockWidgetArea),
            ("sensing", Area.RightDockWidgetArea),
            ("introductions", Area.RightDockWidgetArea),
            ("people", Area.RightDockWidgetArea),
            ("timeline", Area.LeftDockWidgetArea),
            ("chat", Area.RightDockWidgetArea),
            ("bookmarks", Area.RightDockWidgetArea),
        ),
        hidden=("people", "timeline", "chat", "bookmarks"),
        split=(("cameras", 5), ("alerts", 3)),
        heights=((("alerts", 1), ("events", 1)),),
        tabs=(
            ("risk_map", "cameras"),
            ("incidents", "alerts"),
            ("alert_list", "alerts"),
            ("sensing", "events"),
            ("introductions", "events"),
            ("people", "events"),
            ("chat", "events"),
            ("bookmarks", "events"),
        ),
    ),
    # Investigator: the event history on the left (the incident list, the risk map and the
    # alert list as tabs behind it) above the timeline with its replay bar (the chat and the
    # bookmarks as tabs behind it); the cameras on the right (the alert stream behind them)
    # above the people.
    Layout.INVESTIGATOR: Arrangement(
        areas=(
            ("events", Area.LeftDockWidgetArea),
            ("incidents", Area.LeftDockWidgetArea),
            ("risk_map", Area.LeftDockWidgetArea),
            ("alert_list", Area.LeftDockWidgetArea),
            ("timeline", Area.LeftDockWidgetArea),
            ("chat", Area.LeftDockWidgetArea),
            ("bookmarks", Area.LeftDockWidgetArea),
            ("cameras", Area.RightDockWidgetArea),
            ("alerts", Area.RightDockWidgetArea),
            ("people", Area.RightDockWidgetArea),
            ("sensing", Area.RightDockWidgetArea),
            ("introductions", Area.RightDockWidgetArea),
        ),
        hidden=("sensing", "introductions"),
        split=(("events", 3), ("cameras", 2)),
        heights=((("events", 1), ("timeline", 1)), (("cameras", 1), ("people", 1))),
        tabs=(
            ("incidents", "events"),
            ("risk_map", "events"),
            ("alert_list", "events"),
            ("chat", "timeline"),
            ("bookmarks", "timeline"),
            ("alerts", "cameras"),
            ("sensing", "people"),
            ("introductions", "people"),
        ),
    ),
    # Admin: what an admin tunes and checks live — the cameras on the left (the risk map
    # behind them), the sensing room on the right (the people behind it) above the events
    # (the alert stream, the alert list, the incidents and the introductions behind them).
    # The configuration itself is in the administration window.
    Layout.ADMIN: Arrangement(
        areas=(
            ("cameras", Area.LeftDockWidgetArea),
            ("risk_map", Area.LeftDockWidgetArea),
            ("sensing", Area.RightDockWidgetArea),
            ("people", Area.RightDockWidgetArea),
            ("events", Area.RightDockWidgetArea),
            ("alerts", Area.RightDockWidgetArea),
            ("alert_list", Area.RightDockWidgetArea),
            ("incidents", Area.RightDockWidgetArea),
            ("introductions", Area.RightDockWidgetArea),
            ("timeline", Area.LeftDockWidgetArea),
            ("chat", Area.RightDockWidgetArea),
            ("bookmarks", Area.RightDockWidgetArea),
        ),
        hidden=("timeline", "chat", "bookmarks"),
        split=(("cameras", 3), ("sensing", 2)),
        heights=((("sensing", 1), ("events", 1)),),
        tabs=(
            ("risk_map", "cameras"),
            ("people", "sensing"),
            ("alerts", "events"),
            ("alert_list", "events"),
            ("incidents", "events"),
            ("introductions", "events"),
            ("chat", "events"),
            ("bookmarks", "events"),
        ),
    ),
}


def arrange(window: QMainWindow, layout: Layout, docks: dict[str, QDockWidget]) -> None:
    """Put the panes where ``layout``'s role wants them by default."""
    arrangement = DEFAULTS[layout]
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    tabbed = {name for name, _onto in arrangement.tabs}
    for name, area in arrangement.areas:
        if name not in tabbed:
            window.addDockWidget(area, docks[name])
    for name, onto in arrangement.tabs:
        window.tabifyDockWidget(docks[onto], docks[name])
    for name, dock in docks.items():
        dock.setVisible(name not in arrangement.hidden)
    for _name, onto in arrangement.tabs:
        docks[onto].raise_()
    (first, first_part), (second, second_part) = arrangement.split
    _share(window, [docks[first], docks[second]], [first_part, second_part], horizontal=True)
    for column in arrangement.heights:
        _share(
            window,
            [docks[name] for name, _part in column],
            [part for _name, part in column],
            horizontal=False,
        )


def _share(
    window: QMainWindow, docks: list[QDockWidget], parts: list[int], *, horizontal: bool
) -> None:
    """Split the window's width (or height) between side-by-side (or stacked) docks in
    the ratio ``parts``.

    Qt ignores resizeDocks() before the window is laid out, so it is applied again once the
    event loop has run.
    """
    orientation = Qt.Orientation.Horizontal if horizontal else Qt.Orientation.Vertical

    def apply() -> None:
        total = max(window.width() if horizontal else window.height(), 400)
        sizes = [total * part // sum(parts) for part in parts]
        window.resizeDocks(docks, sizes, orientation)

    apply()
    QTimer.singleShot(0, window, apply)
