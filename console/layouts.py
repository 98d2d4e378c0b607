"""The three role layouts: which roles may use them, which panes each permission opens,
and their default arrangements (derived from the panes' declarations, console/plugins.py);
saved states live in QSettings."""

from __future__ import annotations

import zlib

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

from console.plugins import PANES
from engine.access import Actor, Permission, Role
from widgets.pane import Arrangement, Home, Layout, PaneSpec, arrangement_of

__all__ = [
    "ADMIN_PAGES",
    "DEFAULTS",
    "PANE_PERMISSIONS",
    "STATE_VERSION",
    "WALL_PANES",
    "Arrangement",
    "Layout",
    "arrange",
    "default_layout_for",
    "fit_on_screen",
    "layouts_for",
    "pane_allowed",
    "preferred_layout",
    "remember_layout",
]


# Roles are cumulative (an investigator may do what an operator may), and so are layouts.
ROLE_LAYOUTS: dict[Role, tuple[Layout, ...]] = {
    Role.OPERATOR: (Layout.OPERATOR,),
    Role.INVESTIGATOR: (Layout.OPERATOR, Layout.INVESTIGATOR),
    Role.ADMIN: (Layout.OPERATOR, Layout.INVESTIGATOR, Layout.ADMIN),
}

# What a pane needs (it is offered — Panes menu, its dock, its sidebar page — only to actors
# who hold it), and the administration window's pages in sidebar order: from the panes'
# own declarations.
PANE_PERMISSIONS: dict[str, Permission] = {spec.name: spec.permission for spec in PANES}
ADMIN_PAGES: tuple[tuple[str, str], ...] = tuple(
    (spec.name, spec.title) for spec in PANES if spec.home is Home.ADMIN
)
WALL_PANES: tuple[PaneSpec, ...] = tuple(spec for spec in PANES if spec.home is Home.WALL)


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


def _layout_key(actor: Actor) -> str:
    """Where the layout a person last used is kept (per account)."""
    return f"accounts/{actor.kind}-{actor.name.casefold()}/layout"


def preferred_layout(settings: QSettings, actor: Actor) -> Layout | None:
    """The layout ``actor`` last used at this console if their roles still allow it, else
    the layout of their highest role."""
    allowed = layouts_for(actor)
    saved = str(settings.value(_layout_key(actor), "") or "")
    if saved in Layout._value2member_map_ and Layout(saved) in allowed:
        return Layout(saved)
    return default_layout_for(actor)


def remember_layout(settings: QSettings, actor: Actor, layout: Layout) -> None:
    settings.setValue(_layout_key(actor), layout.value)


def fit_on_screen(window: QMainWindow) -> None:
    """A geometry saved on another screen (a monitor since unplugged, a larger one) may
    lie partly off this one: bring the window back inside a screen's free area."""
    frame = window.frameGeometry()
    screen = QApplication.screenAt(frame.center()) or QApplication.primaryScreen()
    if screen is None:
        return
    free = screen.availableGeometry()
    if free.contains(frame):
        return
    window.resize(min(window.width(), free.width()), min(window.height(), free.height()))
    frame = window.frameGeometry()
    frame.moveCenter(free.center())
    frame.moveTopLeft(QPoint(max(frame.left(), free.left()), max(frame.top(), free.top())))
    window.move(frame.topLeft())


def pane_allowed(actor: Actor | None, pane: str) -> bool:
    """Whether ``actor`` may see ``pane`` (a pane named nowhere needs nothing special)."""
    if actor is None:
        return False
    permission = PANE_PERMISSIONS.get(pane)
    return permission is None or actor.may(permission)


def state_version(panes: tuple[PaneSpec, ...]) -> int:
    """The version saved arrangements are stored under: derived from the wall panes'
    names and places, so adding, renaming or moving a pane makes old saved states be
    ignored (each layout starts from its new default) without anyone bumping a number."""
    described = repr([(spec.name, sorted(spec.places.items())) for spec in panes])
    return zlib.crc32(described.encode()) & 0x7FFF_FFFF


STATE_VERSION = state_version(WALL_PANES)

# Each layout's default arrangement, derived from the wall panes' places (widgets/*/plugin.py).
DEFAULTS: dict[Layout, Arrangement] = {
    layout: arrangement_of(layout, WALL_PANES) for layout in Layout
}


def arrange(window: QMainWindow, layout: Layout, docks: dict[str, QDockWidget]) -> None:
    """Put the panes where ``layout``'s role wants them by default.

    The window draws nothing until every pane is in place: each removal, addition and
    show would otherwise lay out and paint the whole window again (measured as a GUI-thread
    stall at each login)."""
    updating = window.updatesEnabled()
    window.setUpdatesEnabled(False)
    try:
        _arrange(window, DEFAULTS[layout], docks)
    finally:
        window.setUpdatesEnabled(updating)


def _arrange(window: QMainWindow, arrangement: Arrangement, docks: dict[str, QDockWidget]) -> None:
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
