"""The administration window: the site's configuration, away from the live wall.

What is set up rather than watched (the site, cameras' floor calibration, accounts, alert
rules, BLE devices, gestures, settings and the audit trail) gets a page each, chosen from a
sidebar, in a window of its own — as Milestone keeps its Management Client apart from the
Smart Client — so that each page has the room it needs and the live wall keeps its own. GUI
thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.text import printable

SIDEBAR_WIDTH_PX = 180
DEFAULT_SIZE = (1200, 800)


class AdministrationWindow(QWidget):
    """A sidebar of pages (added with :meth:`add_page`), one shown at a time."""

    sig_page_shown = Signal(str)
    """A page came into view (its name), by the sidebar or :meth:`show_page`."""

    def __init__(self, site_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("admin-window")
        self.setWindowTitle(f"Watchfloor — Administration — {printable(site_name)}")
        self.resize(*DEFAULT_SIZE)
        self._names: list[str] = []
        self.pages: dict[str, QWidget] = {}

        self.sidebar = QListWidget()
        self.sidebar.setObjectName("admin-sidebar")
        self.sidebar.setFixedWidth(SIDEBAR_WIDTH_PX)
        self.stack = QStackedWidget()
        self.heading = QLabel()
        self.heading.setObjectName("admin-heading")
        right = QVBoxLayout()
        right.setContentsMargins(12, 8, 12, 8)
        right.addWidget(self.heading)
        right.addWidget(self.stack, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addLayout(right, 1)
        self.sidebar.currentRowChanged.connect(self._on_row_changed)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)

    def add_page(self, name: str, title: str, page: QWidget) -> None:
        """Add ``page`` under ``title`` in the sidebar (in the order added)."""
        self._names.append(name)
        self.pages[name] = page
        self.stack.addWidget(page)
        item = QListWidgetItem(title)
        item.setData(Qt.ItemDataRole.UserRole, name)
        self.sidebar.addItem(item)

    def set_allowed(self, allowed: set[str]) -> None:
        """Offer only the pages named in ``allowed`` (the person's permissions); the page
        shown moves to the first allowed one if it is no longer allowed."""
        for row, name in enumerate(self._names):
            self.sidebar.item(row).setHidden(name not in allowed)
        current = self.current_page()
        if current is not None and current not in allowed:
            first = next((name for name in self._names if name in allowed), None)
            if first is not None:
                self.show_page(first)

    def allowed_pages(self) -> list[str]:
        return [n for row, n in enumerate(self._names) if not self.sidebar.item(row).isHidden()]

    def current_page(self) -> str | None:
        row = self.sidebar.currentRow()
        return self._names[row] if 0 <= row < len(self._names) else None

    def show_page(self, name: str) -> None:
        """Bring page ``name`` into view (the window itself is shown by the caller)."""
        self.sidebar.setCurrentRow(self._names.index(name))

    def _on_row_changed(self, row: int) -> None:
        if not 0 <= row < len(self._names):
            return
        name = self._names[row]
        self.stack.setCurrentIndex(row)
        self.heading.setText(self.sidebar.item(row).text())
        self.sig_page_shown.emit(name)
