"""The People pane's "Path across senses" section: the selected person's recent paths across
cameras, sensing rooms and devices, newest first, or, with "Unnamed people today" on, today's
paths of people nobody has named ("Someone unknown"), who would otherwise go uncounted.

Each row says when (site time), who and the path in words (the engine's sentence); a row's
actions (another pane's, e.g. "Show in timeline") are offered in its context menu and the
first runs on a double-click. The paths are read by the callables the console gives the
pane, through the query client on a worker thread, on one superseding channel: an answer
for a person no longer selected is dropped. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Final

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.history.paths import PersonPath
from engine.history.query_service import CallRequest, QueryResult
from engine.identity.people import PersonView
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import error_text, show_as_error
from widgets.people.api import ListPaths, ListUnnamedPaths
from widgets.queries import QueryClient
from widgets.table_model import RowsTableModel, show_rows_read_only

UNKNOWN: Final = "Someone unknown"
TITLE: Final = "Path across senses"
UNNAMED_TITLE: Final = "Unnamed people across senses today"
UNNAMED_BUTTON: Final = "Unnamed people today"
CHOOSE_TEXT: Final = "Select one person to see their paths across cameras, rooms and devices."
COLUMN_WHEN, COLUMN_WHO, COLUMN_PATH = 0, 1, 2
_HEADERS: Final = ("When", "Who", "Path")


def who(path: PersonPath) -> str:
    """The person's name, or "Someone unknown" for someone nobody has named (an automatic
    id is no name)."""
    return printable(path.label) if path.named else UNKNOWN


def when_text(path: PersonPath) -> str:
    """``14:02–14:12`` today, ``24 Nov 14:02–14:12`` another day (site time)."""
    site = display()
    return f"{site.short(path.start)}–{site.minutes(path.end)}"


def path_line(path: PersonPath) -> str:
    """The path as one sentence: who, then where and when."""
    return f"{who(path)}: {path.text}" if path.text else who(path)


class _PathsModel(RowsTableModel[PersonPath]):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_HEADERS, parent)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        path = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (when_text(path), who(path), path.text)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COLUMN_WHEN:
                site = display()
                return f"{site.with_zone(path.start)} – {site.clock(path.end)}"
            if column == COLUMN_WHO and not path.named and path.person_public_id:
                return f"Not named yet: known only as {path.person_public_id}"
            return path_line(path)
        return None


class PersonPathsSection(QWidget):
    """The selected person's paths across senses, or today's of people nobody named.

    ``list_paths(public_id)`` and ``list_unnamed_paths()`` block (they read the store), so
    they run through ``client`` on channel ``<channel>.paths``."""

    sig_paths_listed = Signal(int)
    """Paths arrived and are shown (GUI thread): how many."""

    def __init__(
        self,
        client: QueryClient,
        channel: str,
        list_paths: ListPaths,
        list_unnamed_paths: ListUnnamedPaths,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._channel = f"{channel}.paths"
        self._list_paths = list_paths
        self._list_unnamed_paths = list_unnamed_paths
        self._person: PersonView | None = None
        self._actions: list[tuple[str, Callable[[PersonPath], None]]] = []
        self._asked: tuple[str | None, bool] | None = None  # (public id, unnamed) asked for

        self.title_label = QLabel(TITLE)
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.unnamed_button = QToolButton()
        self.unnamed_button.setText(UNNAMED_BUTTON)
        self.unnamed_button.setCheckable(True)
        self.unnamed_button.setToolTip(
            "Today's paths of people nobody has named, instead of the selected person's"
        )
        self.unnamed_button.toggled.connect(self._on_unnamed_toggled)
        self.message_label = QLabel(CHOOSE_TEXT)
        self.message_label.setWordWrap(True)

        self._model = _PathsModel(self)
        self.view = QTableView()
        self.view.setModel(self._model)
        # A path's words wrap onto more lines rather than hide behind "…".
        show_rows_read_only(self.view, word_wrap=True)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(COLUMN_WHEN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMN_WHO, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.view.doubleClicked.connect(self._on_row_activated)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title_label, 1)
        top.addWidget(self.unnamed_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message_label)

    # -- public API ------------------------------------------------------------------------

    def show_person(self, person: PersonView | None) -> None:
        """Show ``person``'s paths (None: nobody, or several, selected)."""
        before = self._person.public_id if self._person is not None else None
        self._person = person
        if self.unnamed_button.isChecked():
            return  # today's unnamed paths stay until the button is let go
        if person is None or person.public_id != before:
            self.refresh()
        else:
            self._update_title()  # the same person, perhaps by a new name

    def set_unnamed(self, on: bool) -> None:
        """Show today's paths of people nobody named (True) or the selected person's."""
        self.unnamed_button.setChecked(on)

    def refresh(self) -> None:
        """Read again what the section shows (new paths were filed)."""
        self._update_title()
        unnamed = self.unnamed_button.isChecked()
        person = self._person
        if not unnamed and person is None:
            self._asked = None  # a read under way for someone is dropped when it answers
            self._model.set_rows([])
            self.message_label.setText(CHOOSE_TEXT)
            self.message_label.setVisible(True)
            return
        if unnamed:
            request = CallRequest(self._list_unnamed_paths, "unnamed paths today")
        else:
            assert person is not None
            request = CallRequest(partial(self._list_paths, person.public_id), "person's paths")
        asked = (None if unnamed or person is None else person.public_id, unnamed)
        self._asked = asked
        if self._model.rowCount() == 0:
            show_as_error(self.message_label, False)
            self.message_label.setText("Reading paths…")
            self.message_label.setVisible(True)
        self._client.submit(self._channel, request, partial(self._on_paths_listed, asked))

    def add_path_action(self, text: str, triggered: Callable[[PersonPath], None]) -> None:
        """Offer ``text`` on a path (its context menu; the first offered runs on a
        double-click): another pane's action, e.g. "Show in timeline"."""
        self._actions.append((text, triggered))

    def paths(self) -> list[PersonPath]:
        """The paths listed, top to bottom."""
        return [self._model.row(row) for row in range(self._model.rowCount())]

    def row_text(self, row: int) -> list[str]:
        """What row ``row`` says, column by column."""
        return [str(self._model.index(row, column).data()) for column in range(len(_HEADERS))]

    def context_menu(self, row: int) -> QMenu:
        """The menu a right click on row ``row`` opens."""
        menu = QMenu(self)
        path = self._model.row(row)
        for text, triggered in self._actions:
            menu.addAction(text).triggered.connect(partial(triggered, path))
        return menu

    # -- handlers --------------------------------------------------------------------------

    def _on_unnamed_toggled(self, _on: bool) -> None:
        self._model.set_rows([])
        self.refresh()

    def _on_paths_listed(
        self, asked: tuple[str | None, bool], result: QueryResult[list[PersonPath]]
    ) -> None:
        if asked != self._asked:
            return  # for a person (or a mode) no longer shown
        if result.error is not None or result.value is None:
            self.message_label.setText(f"Could not read paths: {error_text(result.error)}")
            show_as_error(self.message_label)
            self.message_label.setVisible(True)
            return
        paths = list(result.value)
        self._model.set_rows(paths)
        show_as_error(self.message_label, False)
        if paths:
            self.message_label.setVisible(False)
        else:
            unnamed, person = asked[1], self._person
            self.message_label.setText(
                "No paths across senses today of people nobody has named."
                if unnamed
                else f"No paths across senses for {printable(person.label)} yet."
                if person is not None
                else CHOOSE_TEXT
            )
            self.message_label.setVisible(True)
        self.sig_paths_listed.emit(len(paths))

    def _on_row_activated(self, index: QModelIndex) -> None:
        if index.isValid() and self._actions:
            self._actions[0][1](self._model.row(index))

    def _on_context_menu_requested(self, position: QPoint) -> None:
        index = self.view.indexAt(position)
        if not index.isValid() or not self._actions:
            return
        menu = self.context_menu(index.row())
        menu.exec(self.view.viewport().mapToGlobal(position))
        menu.deleteLater()

    # -- internals -------------------------------------------------------------------------

    def _update_title(self) -> None:
        if self.unnamed_button.isChecked():
            self.title_label.setText(UNNAMED_TITLE)
        elif self._person is not None:
            self.title_label.setText(f"{TITLE}: {printable(self._person.label)}")
        else:
            self.title_label.setText(TITLE)
