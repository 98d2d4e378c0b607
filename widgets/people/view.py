"""The People pane: the persons the face memory knows, which only admins may rename, merge
and erase (anyone with the watch permission sees them, with those changes disabled), and
under them the selected person's paths across senses (or today's of people nobody has named;
:mod:`widgets.people.paths`).

The pane never touches the database: the console gives it four blocking callables (list,
rename, merge, erase) and a query client, and the pane hands every call to the client, which
runs it on a worker thread and answers on the GUI thread. While a change runs the pane shows
what it is doing; failures are shown in the pane (and, for changes the user asked for, in a
warning box). Every method here runs on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QImage,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPixmap,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.query_service import CallRequest, QueryResult
from engine.identity.people import PersonView
from engine.sitetime import display
from widgets.action_strip import ActionRunner, ActionStrip, error_text
from widgets.colours import MUTED_GREY
from widgets.people.api import (
    ErasePerson,
    ListPaths,
    ListPeople,
    ListUnnamedPaths,
    MergePeople,
    RenamePerson,
)
from widgets.people.paths import PersonPathsSection
from widgets.queries import QueryClient
from widgets.table_model import EXTENDED, RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

THUMBNAIL_HEIGHT_PX = 48
THUMBNAIL_MAX_WIDTH_PX = 64  # a wide snapshot is scaled down further rather than widening rows
NO_VALUE = "—"
TIME_FORMAT = "%Y-%m-%d %H:%M"

# Opaque: half see-through it was 2.9:1 on the rows, too faint to tell from an empty cell.
_PLACEHOLDER_COLOUR = QColor(MUTED_GREY)

COLUMN_THUMBNAIL, COLUMN_NAME, COLUMN_ID, COLUMN_APPEARANCES = 0, 1, 2, 3
COLUMN_FIRST_SEEN, COLUMN_LAST_SEEN, COLUMN_FACES = 4, 5, 6
_HEADERS = ("", "Name", "Person ID", "Appearances", "First seen", "Last seen", "Faces stored")
_NUMERIC_COLUMNS = (COLUMN_APPEARANCES, COLUMN_FACES)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""Model role holding a column's sort key (numbers and timestamps sort as such)."""
PUBLIC_ID_ROLE = Qt.ItemDataRole.UserRole + 2
"""Model role holding the row's ``public_id`` (any column)."""


def format_local_time(at: datetime | None) -> str:
    """``at`` in local time as ``YYYY-MM-DD HH:MM``, or an em dash for None."""
    return NO_VALUE if at is None else display().local(at).strftime(TIME_FORMAT)


def draw_placeholder_thumbnail(height: int = THUMBNAIL_HEIGHT_PX) -> QPixmap:
    """A neutral head-and-shoulders outline for people without a usable snapshot."""
    pixmap = QPixmap(height, height)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_PLACEHOLDER_COLOUR)
        unit = height / 48
        painter.drawEllipse(QRectF(16 * unit, 7 * unit, 16 * unit, 18 * unit))
        shoulders = QPainterPath()
        shoulders.moveTo(6 * unit, 46 * unit)
        shoulders.cubicTo(6 * unit, 30 * unit, 42 * unit, 30 * unit, 42 * unit, 46 * unit)
        shoulders.closeSubpath()
        painter.drawPath(shoulders)
    finally:
        painter.end()
    return pixmap


def load_thumbnail_images(
    media_root: Path, paths: list[str], box: QSize
) -> dict[str, QImage | None]:
    """Snapshot pictures scaled into ``box``, read on a worker thread (QImage may be made
    off the GUI thread; QPixmap may not). None for a file that is missing or unreadable."""
    images: dict[str, QImage | None] = {}
    for path in paths:
        image = QImage(str(media_root / path))
        images[path] = (
            None
            if image.isNull()
            else image.scaled(
                box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        )
    return images


class _PeopleModel(RowsTableModel[PersonView]):
    """Rows of the last listing the pane was given, one :class:`PersonView` each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_HEADERS, parent)
        self._thumbnails: list[QPixmap] = []
        self._thumbnail_tips: list[str] = []

    def set_people(self, people: list[PersonView], thumbnails: list[tuple[QPixmap, str]]) -> None:
        """Replace every row; ``thumbnails`` pairs each person with a picture and its tooltip."""
        self.beginResetModel()
        self._rows = list(people)
        self._thumbnails = [pixmap for pixmap, _ in thumbnails]
        self._thumbnail_tips = [tip for _, tip in thumbnails]
        self.endResetModel()

    def set_thumbnails(self, thumbnails: list[tuple[QPixmap, str]]) -> None:
        """New pictures for the same rows (pictures loaded after the listing)."""
        if len(thumbnails) != len(self._rows) or not self._rows:
            return
        self._thumbnails = [pixmap for pixmap, _ in thumbnails]
        self._thumbnail_tips = [tip for _, tip in thumbnails]
        column = COLUMN_THUMBNAIL
        self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))

    def people(self) -> list[PersonView]:
        return list(self._rows)

    def person(self, row: int) -> PersonView:
        return self.row(row)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.ToolTipRole
            and section == COLUMN_THUMBNAIL
        ):
            return "Snapshot"
        return super().headerData(section, orientation, role)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        person = self.row(row)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(person, column)
        if role == Qt.ItemDataRole.DecorationRole and column == COLUMN_THUMBNAIL:
            return self._thumbnails[row]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(person, row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignCenter)  # under their centred headers
        if role == Qt.ItemDataRole.FontRole and person.archived:
            font = QFont()
            font.setItalic(True)  # archived people stay listed, set apart without a colour
            return font
        if role == SORT_ROLE:
            return self._sort_key(person, column)
        if role == PUBLIC_ID_ROLE:
            return person.public_id
        return None

    @staticmethod
    def _text(person: PersonView, column: int) -> str:
        texts = {
            COLUMN_THUMBNAIL: "",
            COLUMN_NAME: person.name or NO_VALUE,
            COLUMN_ID: person.public_id,
            COLUMN_APPEARANCES: str(person.appearances),
            COLUMN_FIRST_SEEN: format_local_time(person.first_seen),
            COLUMN_LAST_SEEN: format_local_time(person.last_seen),
            COLUMN_FACES: str(person.faces_stored),
        }
        return texts[column]

    def _tooltip(self, person: PersonView, row: int, column: int) -> str | None:
        if column == COLUMN_THUMBNAIL:
            return self._thumbnail_tips[row]
        if column in (COLUMN_FIRST_SEEN, COLUMN_LAST_SEEN):
            at = person.first_seen if column == COLUMN_FIRST_SEEN else person.last_seen
            return None if at is None else display().local(at).isoformat(timespec="seconds")
        if column == COLUMN_NAME and person.archived:
            return f"{person.label} (archived)"
        return None

    @staticmethod
    def _sort_key(person: PersonView, column: int) -> Any:
        if column == COLUMN_THUMBNAIL:
            return int(person.snapshot_path is not None)
        if column == COLUMN_NAME:
            # Unnamed people sort after named ones (ascending), by id among themselves.
            return f"1{person.public_id}" if person.name is None else f"0{person.name.casefold()}"
        if column == COLUMN_ID:
            return person.public_id
        if column == COLUMN_APPEARANCES:
            return person.appearances
        if column == COLUMN_FACES:
            return person.faces_stored
        at = person.first_seen if column == COLUMN_FIRST_SEEN else person.last_seen
        return float("-inf") if at is None else at.timestamp()


class _NameOrIdFilter(QSortFilterProxyModel):
    """Keeps rows whose name or public id contains the filter text, case-insensitively."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setSortRole(SORT_ROLE)

    def set_needle(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        assert isinstance(model, _PeopleModel)
        person = model.person(source_row)
        return self._needle in person.public_id.casefold() or (
            person.name is not None and self._needle in person.name.casefold()
        )


class PeoplePane(QWidget):
    """The list of known persons with Rename…, Merge… and Erase….

    ``list_people`` returns the people to show; ``rename(public_id, name or None)``,
    ``merge(keep, absorb)`` and ``erase(public_id) -> summary`` change them. They block, so
    the pane runs them through ``client`` on a worker thread (never on the GUI thread), shows
    progress meanwhile, shows any exception they raise (red label and a warning box) and
    lists the people again after each change. ``snapshot_path`` of each person is read
    relative to ``media_root``. Call :meth:`refresh` to load the list (the constructor does
    not, so the console decides when the database is first read).
    """

    sig_person_renamed = Signal(str)
    """A person was renamed (or their name cleared): carries their public id."""

    sig_people_merged = Signal(str, str)
    """Two people were merged: carries the kept public id, then the absorbed (deleted) one."""

    sig_person_erased = Signal(str)
    """A person and their face data were erased: carries the public id they had."""

    sig_people_changed = Signal()
    """After any of the three above: what names people elsewhere should be read again."""

    sig_people_listed = Signal(int)
    """A listing arrived and is shown (GUI thread): the number of people."""

    sig_thumbnails_loaded = Signal(int)
    """Pictures read off the GUI thread are shown (GUI thread): how many were read."""

    sig_action_finished = Signal(str, bool)
    """A rename, merge or erase ended (GUI thread): what was done, and whether it worked."""

    def __init__(
        self,
        client: QueryClient,
        list_people: ListPeople,
        rename: RenamePerson,
        merge: MergePeople,
        erase: ErasePerson,
        media_root: Path,
        parent: QWidget | None = None,
        *,
        list_paths: ListPaths | None = None,
        list_unnamed_paths: ListUnnamedPaths | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._channel = f"people-{id(self):x}"
        self._list_people = list_people
        self._rename = rename
        self._merge = merge
        self._erase = erase
        self._media_root = Path(media_root)
        self._thumbnail_cache: dict[str, QPixmap] = {}
        # Actions other panes offer on one selected person (add_person_action).
        self._person_actions: list[tuple[str, Callable[[PersonView], None]]] = []
        self._thumbnail_misses: set[str] = set()
        self._placeholder = draw_placeholder_thumbnail()
        self._listing_failed = False
        self._total_people = 0
        self._allowed = {"rename": True, "merge": True, "erase": True}

        self._model = _PeopleModel(self)
        self._proxy = _NameOrIdFilter(self)
        self._proxy.setSourceModel(self._model)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name or person ID")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter people")
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.count_label = QLabel()

        self.rename_action = self._make_action("Rename…", "Name or rename the selected person")
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.rename_action.triggered.connect(self._on_rename_requested)
        self.merge_action = self._make_action(
            "Merge…", "Merge the two selected entries: they are the same person"
        )
        self.merge_action.triggered.connect(self._on_merge_requested)
        self.erase_action = self._make_action(
            "Erase…", "Erase the selected person's face data, face events and clips"
        )
        self.erase_action.triggered.connect(self._on_erase_requested)
        self.refresh_action = self._make_action("Refresh", "List the people again")
        self.refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.refresh_action.triggered.connect(self._on_refresh_requested)

        toolbar = QToolBar()
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.rename_action, self.merge_action, self.erase_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.refresh_action)

        self.view = QTableView()
        self.view.setModel(self._proxy)
        show_rows_read_only(self.view, selection=EXTENDED)
        self.view.setIconSize(QSize(THUMBNAIL_MAX_WIDTH_PX, THUMBNAIL_HEIGHT_PX))
        self.view.verticalHeader().setDefaultSectionSize(THUMBNAIL_HEIGHT_PX + 6)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(COLUMN_THUMBNAIL, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COLUMN_THUMBNAIL, THUMBNAIL_MAX_WIDTH_PX + 8)
        header.resizeSection(COLUMN_NAME, 160)
        header.resizeSection(COLUMN_ID, 130)
        header.resizeSection(COLUMN_FIRST_SEEN, 130)
        header.resizeSection(COLUMN_LAST_SEEN, 130)
        header.setStretchLastSection(True)
        # No sort column until the user picks one: the engine's order (last seen first) stands.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        for action in (self.rename_action, self.refresh_action):
            self.addAction(action)  # their shortcuts (F2, F5) work anywhere in the pane

        # The strip's plain line says what runs, then what was done.
        self.strip = ActionStrip()
        self.progress = self.strip.busy_bar
        self.progress_label = self.status_label = self.strip.status_label
        self.error_label = self.strip.error_label
        self._runner = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.change",
            update_controls=self._update_actions,
            parent=self,
        )
        self._runner.sig_action_finished.connect(self._on_action_finished)

        # The selected person's paths across senses, when the console can read them.
        self.paths_section: PersonPathsSection | None = None
        if list_paths is not None and list_unnamed_paths is not None:
            self.paths_section = PersonPathsSection(
                client, self._channel, list_paths, list_unnamed_paths, self
            )

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)
        top.addWidget(toolbar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        if self.paths_section is None:
            layout.addWidget(self.view, 1)
        else:
            self.splitter = QSplitter(Qt.Orientation.Vertical, self)
            self.splitter.setChildrenCollapsible(False)
            self.splitter.addWidget(self.view)
            self.splitter.addWidget(self.paths_section)
            self.splitter.setStretchFactor(0, 3)
            self.splitter.setStretchFactor(1, 2)
            layout.addWidget(self.splitter, 1)
        layout.addWidget(self.strip)
        self._update_actions()
        self._update_count()

    # Public API

    def refresh(self, *, warn: bool = True) -> None:
        """List the people again (``list_people`` on a worker thread), keeping the selection
        by public id when the answer arrives; a newer refresh supersedes one underway.

        If listing fails, the error is shown and the previous rows stay; ``warn=False``
        (background refreshes nobody asked for) shows it in the pane only, with no dialog.
        """
        self._client.submit(
            f"{self._channel}.list",
            CallRequest(self._list_people, "list people"),
            partial(self._on_people_listed, warn),
        )

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): offer the changes their roles allow."""
        self.set_allowed_actions(
            rename=actor is not None and actor.may(Permission.MANAGE_PEOPLE),
            merge=actor is not None and actor.may(Permission.MERGE_PEOPLE),
            erase=actor is not None and actor.may(Permission.ERASE_PEOPLE),
        )

    def set_allowed_actions(self, *, rename: bool, merge: bool, erase: bool) -> None:
        """Which changes the person at the console may ask for (the console knows their
        permissions); the others stay disabled whatever is selected. The engine refuses a
        change without the permission anyway: this keeps the pane from offering it."""
        self._allowed = {"rename": rename, "merge": merge, "erase": erase}
        for action, allowed in (
            (self.rename_action, rename),
            (self.merge_action, merge),
            (self.erase_action, erase),
        ):
            action.setToolTip(
                action.statusTip() if allowed else f"{action.statusTip()} (not for your role)"
            )
        self._update_actions()

    def is_busy(self) -> bool:
        """Whether a rename, merge or erase is still running."""
        return self._runner.is_busy()

    def refresh_paths(self) -> None:
        """Read the paths section again (new paths were filed); nothing without one."""
        if self.paths_section is not None:
            self.paths_section.refresh()

    def add_person_action(self, text: str, triggered: Callable[[PersonView], None]) -> None:
        """Offer ``text`` in the context menu when one person is selected; choosing it
        calls ``triggered(person)`` (another pane's action, e.g. "Find similar")."""
        self._person_actions.append((text, triggered))

    def selected_ids(self) -> list[str]:
        """Public ids of the selected (and shown) people, top to bottom."""
        rows = sorted(self.view.selectionModel().selectedRows(), key=QModelIndex.row)
        return [str(index.data(PUBLIC_ID_ROLE)) for index in rows]

    def row_count(self) -> int:
        """Number of people shown (after the filter)."""
        return self._proxy.rowCount()

    def person(self, public_id: str) -> PersonView | None:
        """The listed person with ``public_id``, shown or filtered out; None if not listed."""
        for row in range(self._model.rowCount()):
            if self._model.person(row).public_id == public_id:
                return self._model.person(row)
        return None

    def placeholder_thumbnail(self) -> QPixmap:
        """The picture shown for people without a snapshot (or whose file is missing)."""
        return self._placeholder

    # Dialogs: small methods so tests (and callers) can replace them

    def _ask_new_name(self, person: PersonView) -> str | None:
        """Ask for ``person``'s new name: the text typed ("" clears the name), None if
        cancelled."""
        text, accepted = QInputDialog.getText(
            self,
            "Rename person",
            f"Name for {person.public_id} (leave empty to clear the name):",
            QLineEdit.EchoMode.Normal,
            person.name or "",
        )
        return text if accepted else None

    def _ask_which_to_keep(self, first: PersonView, second: PersonView) -> str | None:
        """Ask which of two people to keep when merging: their public id, None if cancelled."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Merge people")
        box.setText(
            f"Merge {_describe(first)} and {_describe(second)} into one person?\n\n"
            "Which one do you keep?"
        )
        box.setInformativeText(
            "The other one's stored faces, appearances and sightings move to the one you keep, "
            "which also takes its name and snapshot if it has none; its ID is then deleted."
        )
        keep_first = box.addButton(f"Keep {first.label}", QMessageBox.ButtonRole.AcceptRole)
        keep_second = box.addButton(f"Keep {second.label}", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is keep_first:
            return first.public_id
        if clicked is keep_second:
            return second.public_id
        return None

    def _confirm_erase(self, person: PersonView) -> bool:
        """Ask the user to confirm erasing ``person``; True only on an explicit yes."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Erase person")
        box.setText(f"Erase {_describe(person)}?")
        box.setInformativeText(
            f"This permanently deletes their face data ({person.faces_stored} stored faces), "
            "their face events and the clips that show them, except clips locked as evidence. "
            "It cannot be undone."
        )
        erase = box.addButton("Erase", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        return box.clickedButton() is erase

    def _show_warning(self, title: str, text: str) -> None:
        """Tell the user something failed (a modal warning box)."""
        QMessageBox.warning(self, title, text)

    # Handlers

    def _on_filter_changed(self, text: str) -> None:
        self._proxy.set_needle(text)
        self._update_count()
        self._update_actions()

    def _on_selection_changed(self) -> None:
        self._update_actions()
        if self.paths_section is not None:
            self.paths_section.show_person(self._single_selected())

    def _on_context_menu_requested(self, position: QPoint) -> None:
        menu = self._context_menu()
        menu.exec(self.view.viewport().mapToGlobal(position))
        menu.deleteLater()

    def _context_menu(self) -> QMenu:
        """Rename, merge, erase, what other panes offer on one person, refresh."""
        menu = QMenu(self)
        for action in (self.rename_action, self.merge_action, self.erase_action):
            menu.addAction(action)
        person = self._single_selected()
        for text, triggered in self._person_actions:
            offered = menu.addAction(text)
            offered.setEnabled(person is not None)
            if person is not None:
                offered.triggered.connect(partial(triggered, person))
        menu.addSeparator()
        menu.addAction(self.refresh_action)
        return menu

    def _on_refresh_requested(self) -> None:
        self._clear_messages()
        self.refresh()

    def _on_rename_requested(self) -> None:
        person = self._single_selected()
        if person is None:
            return
        answer = self._ask_new_name(person)
        if answer is None:
            return
        new_name = answer.strip() or None
        if new_name == person.name:
            return
        self._clear_messages()
        if new_name is None:
            done = f"Cleared the name of {person.public_id}."
        else:
            done = f"Named {person.public_id} “{new_name}”."

        def renamed(_value: object) -> None:
            self.strip.show_status(done)
            self.sig_person_renamed.emit(person.public_id)
            self.sig_people_changed.emit()

        self._runner.run(
            f"Renaming {person.label}…",
            partial(self._rename, person.public_id, new_name),
            failure=f"Could not rename {person.label}",
            on_done=renamed,
        )

    def _on_merge_requested(self) -> None:
        people = self._selected_people()
        if len(people) != 2:
            return
        first, second = people
        keep = self._ask_which_to_keep(first, second)
        if keep is None:
            return
        if keep == first.public_id:
            kept, absorbed = first, second
        elif keep == second.public_id:
            kept, absorbed = second, first
        else:
            _log.error("merge: %r is neither %s nor %s", keep, first.public_id, second.public_id)
            return
        self._clear_messages()

        def merged(_value: object) -> None:
            self.strip.show_status(f"Merged {_describe(absorbed)} into {_describe(kept)}.")
            self.sig_people_merged.emit(kept.public_id, absorbed.public_id)
            self.sig_people_changed.emit()

        self._runner.run(
            f"Merging {absorbed.label} into {kept.label}…",
            partial(self._merge, kept.public_id, absorbed.public_id),
            failure=f"Could not merge {absorbed.label} into {kept.label}",
            on_done=merged,
        )

    def _on_erase_requested(self) -> None:
        person = self._single_selected()
        if person is None or not self._confirm_erase(person):
            return
        self._clear_messages()

        def erased(summary: object) -> None:
            self.strip.show_status(str(summary))
            self.sig_person_erased.emit(person.public_id)
            self.sig_people_changed.emit()

        self._runner.run(
            f"Erasing {person.label}…",
            partial(self._erase, person.public_id),
            failure=f"Could not erase {person.label}",
            on_done=erased,
        )

    def _on_people_listed(self, warn: bool, result: QueryResult[list[PersonView]]) -> None:
        if result.error is not None or result.value is None:
            self._listing_failed = True
            self._report_error(f"Could not list people: {error_text(result.error)}", warn=warn)
            return
        people = result.value
        keep_selected = set(self.selected_ids())
        if self._listing_failed:  # a listing error is over once listing works again
            self._listing_failed = False
            self.strip.clear_error()
        thumbnails = [self._thumbnail(person.snapshot_path) for person in people]
        self._model.set_people(people, thumbnails)
        self._load_missing_thumbnails(people)
        self._total_people = len(people)
        self._select_ids(keep_selected)
        self._update_count()
        self._update_actions()
        if self.paths_section is not None:  # the person selected may be gone or renamed
            self.paths_section.show_person(self._single_selected())
        self.sig_people_listed.emit(len(people))

    def _on_action_finished(self, what: str, ok: bool) -> None:
        if not ok:
            self._show_warning("People", self.strip.error())
        self.sig_action_finished.emit(what, ok)
        self.refresh()  # list again after every change, worked or refused

    # Internals

    def _make_action(self, text: str, tip: str) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return action

    def _selected_people(self) -> list[PersonView]:
        people = (self.person(public_id) for public_id in self.selected_ids())
        return [person for person in people if person is not None]

    def _single_selected(self) -> PersonView | None:
        people = self._selected_people()
        return people[0] if len(people) == 1 else None

    def _select_ids(self, public_ids: set[str]) -> None:
        selection = QItemSelection()
        for row in range(self._proxy.rowCount()):
            index = self._proxy.index(row, 0)
            if index.data(PUBLIC_ID_ROLE) in public_ids:
                last = self._proxy.index(row, self._proxy.columnCount() - 1)
                selection.select(index, last)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.view.selectionModel().select(selection, flags)

    def _update_actions(self) -> None:
        # One change at a time: the next one acts on what the list shows after this one.
        count = 0 if self._runner.is_busy() else len(self.selected_ids())
        self.rename_action.setEnabled(count == 1 and self._allowed["rename"])
        self.merge_action.setEnabled(count == 2 and self._allowed["merge"])
        self.erase_action.setEnabled(count == 1 and self._allowed["erase"])

    def _update_count(self) -> None:
        shown = self.row_count()
        noun = "person" if self._total_people == 1 else "people"
        if shown == self._total_people:
            self.count_label.setText(f"{shown} {noun}")
        else:
            self.count_label.setText(f"{shown} of {self._total_people} {noun}")

    def _thumbnail(self, snapshot_path: str | None) -> tuple[QPixmap, str]:
        """The row picture for ``snapshot_path`` and its tooltip, from the cache only (no
        file is read on the GUI thread): the placeholder until the picture has been loaded
        off the GUI thread, or when it is missing (misses are not cached: the file may
        appear later)."""
        if snapshot_path is None:
            return self._placeholder, "No snapshot"
        cached = self._thumbnail_cache.get(snapshot_path)
        if cached is not None:
            return cached, snapshot_path
        if snapshot_path in self._thumbnail_misses:
            return self._placeholder, f"Snapshot missing or unreadable: {snapshot_path}"
        return self._placeholder, "Loading snapshot…"

    def _load_missing_thumbnails(self, people: list[PersonView]) -> None:
        """Read and scale the pictures not cached yet on a query worker; the rows show them
        when they arrive."""
        wanted = sorted(
            {
                p.snapshot_path
                for p in people
                if p.snapshot_path is not None and p.snapshot_path not in self._thumbnail_cache
            }
        )
        if not wanted:
            return
        ratio = self.devicePixelRatioF()
        box = QSize(round(THUMBNAIL_MAX_WIDTH_PX * ratio), round(THUMBNAIL_HEIGHT_PX * ratio))
        root = self._media_root
        request = CallRequest(partial(load_thumbnail_images, root, wanted, box), "thumbnails")
        self._client.submit(
            "people.thumbnails", request, partial(self._on_thumbnails_loaded, ratio)
        )

    def _on_thumbnails_loaded(self, ratio: float, result: QueryResult[Any]) -> None:
        if result.error is not None or not isinstance(result.value, dict):
            return
        for path, image in result.value.items():
            if image is None:
                self._thumbnail_misses.add(path)
                continue
            self._thumbnail_misses.discard(path)
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(ratio)
            self._thumbnail_cache[path] = pixmap
        people = self._model.people()
        self._model.set_thumbnails([self._thumbnail(p.snapshot_path) for p in people])
        self.sig_thumbnails_loaded.emit(len(result.value))

    def _report_error(self, message: str, *, warn: bool = True) -> None:
        """Add ``message`` to the errors shown (under an action's refusal, if any)."""
        _log.warning("%s", message)
        self.strip.show_error("\n".join(e for e in (self.strip.error(), message) if e))
        if warn:
            self._show_warning("People", message)

    def _clear_messages(self) -> None:
        self.strip.clear_error()
        self._listing_failed = False
        self.strip.show_status("")


def _describe(person: PersonView) -> str:
    """``Alice (Person_1A2B3C4D)``, or just the id for someone unnamed."""
    return f"{person.name} ({person.public_id})" if person.name else person.public_id
