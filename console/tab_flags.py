"""Asking for a person's eyes without moving anything: a wall pane's tab is flagged.

A pane that shares its place with others (tabbed docks) and has news (a new alert) must not
jump in front of what the operator is watching (the camera wall mid-replay). Instead its
tab's text turns alarm red and blinks for a few seconds, and stays red until the person
brings the tab forward. A pane in front, or alone in its place, needs no flag: its own
header says what is new.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

from widgets.colours import ALARM_RED

BLINK_MS = 500
BLINKS = 10  # 5 s of blinking, then steady red until the tab is shown


class TabFlags(QObject):
    """Flags the tabs of ``window``'s docks (found by object name ``dock-<pane>``)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._flagged: dict[str, int] = {}  # pane name -> blinks left
        self._timer = QTimer(self)
        self._timer.setInterval(BLINK_MS)
        self._timer.timeout.connect(self._tick)

    def flag(self, name: str) -> bool:
        """Flag pane ``name``'s tab; False when there is none to flag (the pane is in
        front, alone in its place, or hidden)."""
        found = self._tab_of(name)
        if found is None:
            return False
        self._flagged[name] = BLINKS
        self._paint(name, red=True)
        self._timer.start()
        return True

    def is_flagged(self, name: str) -> bool:
        """Whether pane ``name``'s tab is flagged (and not yet brought forward)."""
        return name in self._flagged

    def _dock(self, name: str) -> QDockWidget | None:
        return self._window.findChild(QDockWidget, f"dock-{name}")

    def _tab_of(self, name: str) -> tuple[QTabBar, int] | None:
        """The tab bar and index of ``name``'s tab while it is behind another one."""
        dock = self._dock(name)
        if dock is None or dock.isHidden() or dock.isFloating():
            return None
        title = dock.windowTitle()
        for bar in self._window.findChildren(QTabBar):
            if bar.parent() is not self._window or not bar.isVisible():
                continue  # a pane's own tabs, or a dock area's bar no longer in use
            for index in range(bar.count()):
                if bar.tabText(index) == title:
                    return None if index == bar.currentIndex() else (bar, index)
        return None

    def _paint(self, name: str, *, red: bool) -> None:
        dock = self._dock(name)
        if dock is None:
            return
        title = dock.windowTitle()
        for bar in self._window.findChildren(QTabBar):
            for index in range(bar.count()):
                if bar.tabText(index) == title:
                    bar.setTabTextColor(index, QColor(ALARM_RED) if red else QColor())

    def _tick(self) -> None:
        for name in list(self._flagged):
            if self._tab_of(name) is None:  # brought forward (or gone): the flag is done
                del self._flagged[name]
                self._paint(name, red=False)
                continue
            left = self._flagged[name] = max(0, self._flagged[name] - 1)
            self._paint(name, red=left == 0 or left % 2 == 0)
        if not self._flagged:
            self._timer.stop()
