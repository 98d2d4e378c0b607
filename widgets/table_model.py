"""A flat table model over a list of rows, the boilerplate the console's table models share.

:class:`RowsTableModel` keeps the rows and the column headers and answers ``rowCount``,
``columnCount`` and the horizontal header titles; a subclass adds ``data`` (and anything
else it shows). Every method here runs on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView

T = TypeVar("T")

VISIBLE_ROWS_ONLY = 0
"""``QHeaderView.setResizeContentsPrecision``: measure the rows in view only."""

SINGLE = QAbstractItemView.SelectionMode.SingleSelection
EXTENDED = QAbstractItemView.SelectionMode.ExtendedSelection


def show_rows_read_only(
    view: QTableView,
    *,
    selection: QAbstractItemView.SelectionMode = SINGLE,
    alternating: bool = True,
    grid: bool = False,
    word_wrap: bool = False,
) -> None:
    """Set up a table the console's way: whole rows selected (one at a time unless
    ``selection`` says otherwise), nothing edited in place, no row numbers; alternating row
    colours, no grid and no word wrap unless asked.

    A column sized to its contents is measured on the rows in view, not on up to 1,000 of
    them (Qt's default): each measurement asks the model, in Python, for every cell it
    covers, and Qt measures again at every resize, show and change of the rows (the
    sensing tables change at every fusion tick)."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(selection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(alternating)
    view.setShowGrid(grid)
    view.setWordWrap(word_wrap)
    view.verticalHeader().hide()
    view.horizontalHeader().setResizeContentsPrecision(VISIBLE_ROWS_ONLY)


class RowsTableModel(QAbstractTableModel, Generic[T]):
    """One row per item of ``_rows``, one column per header."""

    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._rows: list[T] = []

    def set_rows(self, rows: Sequence[T]) -> None:
        """Replace every row (a model reset)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, where: int | QModelIndex | QPersistentModelIndex) -> T:
        """The item shown in a row, by row number or by an index into it."""
        return self._rows[where if isinstance(where, int) else where.row()]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """The horizontal titles; None otherwise (a subclass may answer more roles)."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None
