"""Every string a person can read in a widget tree as it stands: labels, buttons, titles,
tabs, menus' items in combo boxes, tooltips, text views and the rows of item views, each
with where it was found, for :func:`tests.machine_text.machine_text` to check."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QAbstractItemModel, QAbstractListModel, QModelIndex, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

from tests.machine_text import machine_text

MAX_ROWS = 200  # rows read from each item view: what a person scrolls through


def _model_texts(model: QAbstractItemModel, where: str) -> Iterator[tuple[str, str]]:
    root = QModelIndex()
    # A list model's column count is private in PySide: it has one column.
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(root)
    for column in range(columns):
        header = model.headerData(column, Qt.Orientation.Horizontal)
        if isinstance(header, str):
            yield f"{where} header {column}", header
    for row in range(min(model.rowCount(root), MAX_ROWS)):
        for column in range(columns):
            index = model.index(row, column)
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                value = index.data(role)
                if isinstance(value, str) and value:
                    yield f"{where} row {row} column {column}", value


def readable_texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for every string shown by ``root`` and its visible children."""
    for widget in (root, *root.findChildren(QWidget)):
        if not widget.isVisible():
            continue
        where = f"{type(widget).__name__} {widget.objectName() or widget.accessibleName()}"
        if widget.toolTip():
            yield f"{where} tooltip", widget.toolTip()
        if isinstance(widget, QLabel | QAbstractButton):
            yield where, widget.text()
        elif isinstance(widget, QGroupBox):
            yield where, widget.title()
        elif isinstance(widget, QDockWidget):
            yield where, widget.windowTitle()
        elif isinstance(widget, QTabBar):
            for tab in range(widget.count()):
                yield f"{where} tab {tab}", widget.tabText(tab)
                if widget.tabToolTip(tab):
                    yield f"{where} tab {tab} tooltip", widget.tabToolTip(tab)
        elif isinstance(widget, QComboBox):
            for item in range(widget.count()):
                yield f"{where} item {item}", widget.itemText(item)
        elif isinstance(widget, QTextEdit | QPlainTextEdit):
            yield where, widget.toPlainText()
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            yield from _model_texts(widget.model(), where)


def shown_text(text: str) -> str:
    """What a person reads of ``text``: rich text (a label's HTML) as its plain words."""
    if "<" in text and ">" in text:
        document = QTextDocument()
        document.setHtml(text)
        return document.toPlainText()
    return text


def machine_texts(root: QWidget, name: str) -> list[str]:
    """What ``root`` shows that is machine text, each as ``name: where: what: text``."""
    found = []
    for where, raw in readable_texts(root):
        text = shown_text(raw)
        what = machine_text(text)
        if what is not None:
            found.append(f"{name}: {where}: {what}: {text[:160]!r}")
    return found
