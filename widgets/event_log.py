"""Live engine event list: newest first, bounded."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

MAX_ROWS = 1000
_KIND_COLOURS = {
    "online": "#3fb950",
    "offline": "#f85149",
    "error": "#f85149",
    "no_footage": "#8b949e",
}


class EventLogView(QTreeWidget):
    """Shows engine events as they happen (time, event, source, detail)."""

    def __init__(self, parent: QWidget | None = None, max_rows: int = MAX_ROWS) -> None:
        super().__init__(parent)
        self._max_rows = max_rows
        self.setColumnCount(4)
        self.setHeaderLabels(["Time", "Event", "Source", "Detail"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setColumnWidth(0, 70)
        self.setColumnWidth(1, 130)
        self.setColumnWidth(2, 110)

    def add_event(self, at: datetime, kind: str, source: str, detail: str) -> None:
        item = QTreeWidgetItem([f"{at.astimezone():%H:%M:%S}", kind, source, detail])
        item.setToolTip(0, at.astimezone().isoformat(timespec="seconds"))
        item.setToolTip(3, detail)
        colour = _KIND_COLOURS.get(kind.rsplit(".", 1)[-1])
        if colour:
            item.setForeground(1, QColor(colour))
        item.setData(0, Qt.ItemDataRole.UserRole, at)
        self.insertTopLevelItem(0, item)
        while self.topLevelItemCount() > self._max_rows:
            self.takeTopLevelItem(self.topLevelItemCount() - 1)
