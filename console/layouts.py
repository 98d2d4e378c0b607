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
    side share the width, and which panes share a place as tabs (``(pane, onto)``, the
    ``onto`` pane stays in front)."""

    areas: tuple[tuple[str, Area], ...]
    hidden: tuple[str, ...]
    split: tuple[tuple[str, int], tuple[str, int]]
    tabs: tuple[tuple[str, str], ...] = ()


DEFAULTS: dict[Layout, Arrangement] = {
    # Operator: cameras fill the window (the risk map as a tab behind them: it needs room);
    # along the right the alert stream on top (the incident list as a tab behind it), live
    # events below it with the sensing room and the introductions as tabs behind them.
    Layout.OPERATOR: Arrangement(
        areas=(
            ("cameras", Area.LeftDockWidgetArea),
            ("risk_map", Area.LeftDockWidgetArea),
            ("alerts", Area.RightDockWidgetArea),
            ("events", Area.RightDockWidgetArea),
            ("people", Area.RightDockWidgetArea),
            ("site", Area.RightDockWidgetArea),
            ("system", Area.RightDockWidgetArea),
            ("audit", Area.RightDockWidgetArea),
            ("accounts", Area.RightDockWidgetArea),
            ("sensing", Area.RightDockWidgetArea),
            ("ble_devices", Area.RightDockWidgetArea),
            ("gestures", Area.RightDockWidgetArea),
            ("introductions", Area.RightDockWidgetArea),
            ("incidents", Area.RightDockWidgetArea),
            ("alert_list", Area.RightDockWidgetArea),
            ("alert_rules", Area.RightDockWidgetArea),
            ("timeline", Area.LeftDockWidgetArea),
            ("chat", Area.RightDockWidgetArea),
            ("bookmarks", Area.RightDockWidgetArea),
        ),
        hidden=(
            "site",
            "people",
            "system",
            "audit",
            "accounts",
            "ble_devices",
            "gestures",
            "alert_rules",
            "timeline",
            "chat",
            "bookmarks",
        ),
        split=(("cameras", 3), ("events", 1)),
        tabs=(
            ("sensing", "events"),
            ("introductions", "events"),
            ("risk_map", "cameras"),
            ("incidents", "alerts"),
            ("alert_list", "alerts"),
            ("chat", "events"),
            ("bookmarks", "events"),
        ),
    ),
    # Investigator: the event history is the main pane (the incident list and the risk map
    # as tabs behind it: the column beside it has no height to spare), cameras and people
    # beside it (the alert stream as a tab behind the cameras); the timeline (with the replay
    # bar) below the event history, the chat and bookmarks as tabs behind it.
    Layout.INVESTIGATOR: Arrangement(
        areas=(
            ("events", Area.LeftDockWidgetArea),
            ("cameras", Area.RightDockWidgetArea),
            ("alerts", Area.RightDockWidgetArea),
            ("people", Area.RightDockWidgetArea),
            ("site", Area.RightDockWidgetArea),
            ("system", Area.RightDockWidgetArea),
            ("audit", Area.RightDockWidgetArea),
            ("accounts", Area.RightDockWidgetArea),
            ("sensing", Area.RightDockWidgetArea),
            ("ble_devices", Area.RightDockWidgetArea),
            ("gestures", Area.RightDockWidgetArea),
            ("introductions", Area.RightDockWidgetArea),
            ("risk_map", Area.LeftDockWidgetArea),
            ("incidents", Area.LeftDockWidgetArea),
            ("alert_list", Area.LeftDockWidgetArea),
            ("alert_rules", Area.RightDockWidgetArea),
            ("timeline", Area.LeftDockWidgetArea),
            ("chat", Area.LeftDockWidgetArea),
            ("bookmarks", Area.LeftDockWidgetArea),
        ),
        hidden=(
            "site",
            "system",
            "audit",
            "accounts",
            "sensing",
            "ble_devices",
            "gestures",
            "introductions",
            "alert_rules",
        ),
        split=(("events", 3), ("cameras", 2)),
        tabs=(
            ("chat", "events"),
            ("bookmarks", "events"),
            ("alerts", "cameras"),
            ("introductions", "cameras"),
            ("incidents", "events"),
            ("risk_map", "events"),
            ("alert_list", "events"),
        ),
    ),
    # Admin: site configuration and people on the left (the BLE devices they carry as a tab
    # behind them), with the system, audit and accounts panes as tabs; cameras beside (the
    # sensing room, the risk map, the incident list, the chat and the bookmarks as tabs
    # behind them: the panes below have no height to spare), events below (the alert stream,
    # the timeline and the introductions as tabs behind them).
    Layout.ADMIN: Arrangement(
        areas=(
            ("site", Area.LeftDockWidgetArea),
            ("people", Area.LeftDockWidgetArea),
            ("ble_devices", Area.LeftDockWidgetArea),
            ("gestures", Area.LeftDockWidgetArea),
            ("introductions", Area.BottomDockWidgetArea),
            ("system", Area.LeftDockWidgetArea),
            ("audit", Area.LeftDockWidgetArea),
            ("accounts", Area.LeftDockWidgetArea),
            ("cameras", Area.RightDockWidgetArea),
            ("events", Area.BottomDockWidgetArea),
            ("alerts", Area.BottomDockWidgetArea),
            ("sensing", Area.RightDockWidgetArea),
            ("risk_map", Area.RightDockWidgetArea),
            ("incidents", Area.RightDockWidgetArea),
            ("alert_list", Area.BottomDockWidgetArea),
            ("alert_rules", Area.LeftDockWidgetArea),
            ("timeline", Area.BottomDockWidgetArea),
            ("chat", Area.RightDockWidgetArea),
            ("bookmarks", Area.RightDockWidgetArea),
        ),
        hidden=(),
        split=(("site", 2), ("cameras", 3)),
        tabs=(
            ("ble_devices", "people"),
            ("introductions", "events"),
            ("gestures", "site"),
            ("audit", "system"),
            ("accounts", "system"),
            ("sensing", "cameras"),
            ("alerts", "events"),
            ("risk_map", "cameras"),
            ("incidents", "cameras"),
            ("alert_list", "events"),
            ("alert_rules", "system"),
            ("timeline", "events"),
            ("chat", "cameras"),
            ("bookmarks", "cameras"),
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
