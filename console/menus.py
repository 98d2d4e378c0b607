"""The main window's menu bar: File → Quit; Session → Lock (Ctrl+L, also a shortcut of the
window), Change my password…, Log out; View → Layout (Ctrl+1…3, Reset), Panes,
Administration… (Ctrl+Shift+A), Camera grid, New wall window (Ctrl+Shift+W); Help →
Documentation, Help on this pane (F1). Everything but Quit and Help is off while the console
is locked (:meth:`ConsoleMenus.set_locked`): the docs show nothing of the site."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

from console.layouts import Layout
from widgets.cameras.api import TILE_COUNTS


class ConsoleMenus:
    """Builds the menus on ``window``; each action calls what it is given."""

    def __init__(
        self,
        window: QMainWindow,
        docks: Mapping[str, QDockWidget],
        *,
        lock: Callable[[str], None],
        change_password: Callable[[], object],
        logout: Callable[[], None],
        switch_layout: Callable[[Layout], None],
        reset_layout: Callable[[], None],
        open_administration: Callable[[], object],
        set_tile_count: Callable[[int], None],
        open_wall_window: Callable[[], object] | None = None,
        open_documentation: Callable[[], object] | None = None,
        open_pane_help: Callable[[], object] | None = None,
    ) -> None:
        self._gated: list[QAction] = []  # disabled while locked
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = QAction("&Quit", window)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(window.close)
        file_menu.addAction(quit_action)

        self.session_menu = bar.addMenu("&Session")
        self.lock_action = QAction("Lock", window)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(lambda: lock("ctrl+l"))
        window.addAction(self.lock_action)  # Ctrl+L: a shortcut of the window, not the menu
        lock_menu_action = self._add(self.session_menu.addAction("&Lock\tCtrl+L"))
        lock_menu_action.triggered.connect(lambda: lock("menu"))
        password = self._add(self.session_menu.addAction("Change my &password…"))
        password.triggered.connect(change_password)
        self.session_menu.addSeparator()
        self.logout_action = self._add(self.session_menu.addAction("Log &out"))
        self.logout_action.triggered.connect(logout)
        self._gated.append(self.lock_action)

        self.view_menu = bar.addMenu("&View")
        layouts = self.view_menu.addMenu("&Layout")
        self.layout_actions: dict[Layout, QAction] = {}
        group = QActionGroup(window)
        for index, layout in enumerate(Layout, start=1):
            action = self._add(QAction(layout.value, window, checkable=True))
            action.setShortcut(QKeySequence(f"Ctrl+{index}"))
            action.triggered.connect(lambda _checked=False, chosen=layout: switch_layout(chosen))
            group.addAction(action)
            layouts.addAction(action)
            self.layout_actions[layout] = action
        layouts.addSeparator()
        self._add(layouts.addAction("&Reset this layout")).triggered.connect(reset_layout)

        panes = self.view_menu.addMenu("&Panes")
        for dock in docks.values():
            panes.addAction(self._add(dock.toggleViewAction()))

        self.view_menu.addSeparator()
        self.administration_action = self._add(self.view_menu.addAction("&Administration…"))
        self.administration_action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.administration_action.triggered.connect(lambda: open_administration())

        grid = self.view_menu.addMenu("Camera &grid")
        for count in TILE_COUNTS:
            action = self._add(grid.addAction(f"{count} tile{'s' if count > 1 else ''}"))
            action.triggered.connect(lambda _checked=False, n=count: set_tile_count(n))
        self.wall_window_action: QAction | None = None
        if open_wall_window is not None:
            self.wall_window_action = self._add(self.view_menu.addAction("New &wall window"))
            self.wall_window_action.setShortcut(QKeySequence("Ctrl+Shift+W"))
            self.wall_window_action.setToolTip(
                "The cameras in a window of their own, for another monitor"
            )
            self.wall_window_action.triggered.connect(lambda: open_wall_window())

        # Help stays on while locked (not gated): the local docs hold nothing of the site.
        self.help_menu = bar.addMenu("&Help")
        self.documentation_action = self.help_menu.addAction("&Documentation")
        self.documentation_action.setToolTip("The Watchfloor docs, in the browser")
        if open_documentation is not None:
            self.documentation_action.triggered.connect(lambda: open_documentation())
        self.pane_help_action = self.help_menu.addAction("Help on this &pane")
        self.pane_help_action.setShortcut(QKeySequence("F1"))
        self.pane_help_action.setToolTip(
            "The page about the pane you are in (the focus, else under the mouse)"
        )
        if open_pane_help is not None:
            self.pane_help_action.triggered.connect(lambda: open_pane_help())

    def _add(self, action: QAction) -> QAction:
        self._gated.append(action)
        return action

    def set_locked(self, locked: bool) -> None:
        """Locked: only File → Quit works (the Session and View menus are off)."""
        for action in self._gated:
            action.setEnabled(not locked)
        self.session_menu.menuAction().setEnabled(not locked)
        self.view_menu.menuAction().setEnabled(not locked)
