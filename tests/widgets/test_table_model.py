"""The shared table set-up: a column sized to its contents is measured on the rows in view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QTableView
from pytestqt.qtbot import QtBot

from widgets.table_model import RowsTableModel, show_rows_read_only

ROWS = 3000


class Counting(RowsTableModel[int]):
    def __init__(self) -> None:
        super().__init__(("Number", "Square"))
        self.rows_asked: set[int] = set()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        self.rows_asked.add(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            value = self.row(index)
            return str(value if index.column() == 0 else value * value)
        return None


def test_a_column_sized_to_its_contents_asks_only_for_the_rows_in_view(qtbot: QtBot) -> None:
    model = Counting()
    model.set_rows(range(ROWS))
    view = QTableView()
    view.setModel(model)
    show_rows_read_only(view)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    qtbot.addWidget(view)
    view.resize(400, 300)
    with qtbot.waitExposed(view):
        view.show()
    model.rows_asked.clear()
    view.resize(600, 400)  # a resize measures the columns again
    model.set_rows(range(1, ROWS + 1))  # and so does a change of the rows
    qtbot.wait(50)
    in_view = view.rowAt(view.viewport().height() - 1) + 1
    assert 0 < in_view < 40
    # Qt's default measures up to 1,000 rows each time, each a call into Python per cell.
    assert len(model.rows_asked) <= in_view + 2, sorted(model.rows_asked)[:50]
    widest_in_view = view.fontMetrics().horizontalAdvance(str(in_view * in_view))
    assert view.horizontalHeader().sectionSize(1) >= widest_in_view  # still fits what shows
