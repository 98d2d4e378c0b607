"""The "Events" pane: event history newest first, filtered by camera, type and person, with
the clip that covers an event one double-click away."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.history.events import EventFilter, EventView

if TYPE_CHECKING:
    from widgets.clip_player import ClipPlayer

EventQuery = Callable[[EventFilter], list[EventView]]

QUERY_LIMIT = 500  # rows per query: enough for a shift, quick to draw
MAX_ROWS = 1000  # live additions stop growing the list here (oldest rows drop off)
PERSON_TYPING_DELAY_MS = 300  # query once typing pauses this long, not on every key
NO_CLIP_TEXT = "no clip covers this event"

_AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    TIME = 0
    TYPE = 1
    CAMERA = 2
    PERSON = 3
    DETAIL = 4
    CLIP = 5


_HEADERS = {
    Column.TIME: "Time",
    Column.TYPE: "Type",
    Column.CAMERA: "Camera",
    Column.PERSON: "Person",
    Column.DETAIL: "Detail",
    Column.CLIP: "Clip",
}


def person_of(view: EventView) -> str:
    """The person an event is about, as the list shows it: name, else id, else ""."""
    return str(view.detail.get("name") or view.detail.get("person_id") or "")


def matches_filter(view: EventView, flt: EventFilter) -> bool:
    """Whether a live event belongs in a list filtered by ``flt`` (camera, kind, person).

    ``person`` matches the event's name or person id as a case-insensitive substring.
    """
    if flt.camera and view.camera != flt.camera:
        return False
    if flt.kind and view.kind != flt.kind:
        return False
    if flt.person:
        needle = flt.person.lower()
        haystacks = (view.detail.get("name"), view.detail.get("person_id"))
        if not any(value and needle in str(value).lower() for value in haystacks):
            return False
    return not (flt.before and view.ts >= flt.before)


def _index_of(combo: QComboBox, value: str | None) -> int:
    """Index of the item carrying ``value``; None is the "All …" item at the top."""
    return 0 if value is None else combo.findData(value)


class EventHistoryModel(QAbstractTableModel):
    """Rows of :class:`EventView`, in the order given (newest first)."""

    def __init__(self, camera_names: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._camera_names = camera_names
        self._events: list[EventView] = []
        self._ids: set[int] = set()

    def set_events(self, events: list[EventView]) -> None:
        self.beginResetModel()
        self._events = list(events)
        self._ids = {view.id for view in self._events}
        self.endResetModel()

    def prepend(self, view: EventView, max_rows: int) -> bool:
        """Put ``view`` on top (unless already listed); drop the oldest rows past ``max_rows``.

        Live events not yet stored have id 0 and are never duplicates of each other."""
        if view.id and view.id in self._ids:
            return False
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._events.insert(0, view)
        self._ids.add(view.id)
        self.endInsertRows()
        if len(self._events) > max_rows:
            self.beginRemoveRows(QModelIndex(), max_rows, len(self._events) - 1)
            for dropped in self._events[max_rows:]:
                self._ids.discard(dropped.id)
            del self._events[max_rows:]
            self.endRemoveRows()
        return True

    def event_at(self, row: int) -> EventView | None:
        return self._events[row] if 0 <= row < len(self._events) else None

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._events)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[Column(section)]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        view = self.event_at(index.row()) if index.isValid() else None
        if view is None:
            return None
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(view, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is Column.TIME:
                return f"{view.ts.astimezone():%Y-%m-%d %H:%M:%S %Z}"
            if column is Column.CAMERA:
                return view.camera or view.source
            if column is Column.CLIP and view.clip_path:
                return f"{view.clip_path} at {view.clip_offset_s or 0.0:.1f} s"
            return self._text(view, column) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column is Column.CLIP:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.UserRole:
            return view
        return None

    def _text(self, view: EventView, column: Column) -> str:
        if column is Column.TIME:
            return f"{view.ts.astimezone():%H:%M:%S}"
        if column is Column.TYPE:
            return view.kind
        if column is Column.CAMERA:
            return self._camera_names.get(view.camera, view.camera) if view.camera else ""
        if column is Column.PERSON:
            return person_of(view)
        if column is Column.DETAIL:
            return view.summary
        return "▶" if view.clip_path else ""


class EventHistoryPane(QWidget):
    """Lists stored events newest first, filtered by camera, type and person, and plays the
    clip that covers an event.

    ``query`` and ``kinds`` are called on the GUI thread whenever the filter changes or
    :meth:`refresh` runs; ``clip_path`` of each event is relative to ``media_root``. Live
    events arrive through :meth:`on_event_added`.
    """

    sig_clip_requested = Signal(str, float)
    """An event's clip was opened: absolute clip path and the event's offset in seconds."""

    def __init__(
        self,
        query: EventQuery,
        kinds: Callable[[], list[str]],
        cameras: list[tuple[str, str]],
        media_root: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._query = query
        self._kinds = kinds
        self._media_root = Path(media_root)
        self._shown_filter: EventFilter | None = None
        self.player: ClipPlayer | None = None

        self.camera_combo = QComboBox(self)
        self.camera_combo.setAccessibleName("Camera filter")
        self.camera_combo.addItem("All cameras", None)
        for key, name in cameras:
            self.camera_combo.addItem(name, key)
        self.kind_combo = QComboBox(self)
        self.kind_combo.setAccessibleName("Event type filter")
        self.kind_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kind_combo.addItem("All types", None)
        self.person_edit = QLineEdit(self)
        self.person_edit.setPlaceholderText("Person id or name")
        self.person_edit.setAccessibleName("Person filter")
        self.person_edit.setClearButtonEnabled(True)
        self.refresh_button = QPushButton("Refresh", self)
        self._person_timer = QTimer(self)
        self._person_timer.setSingleShot(True)
        self._person_timer.setInterval(PERSON_TYPING_DELAY_MS)

        self.model = EventHistoryModel(dict(cameras), self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for column, width in (
            (Column.TIME, 70),
            (Column.TYPE, 130),
            (Column.CAMERA, 100),
            (Column.PERSON, 110),
            (Column.CLIP, 36),
        ):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(Column.DETAIL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.CLIP, QHeaderView.ResizeMode.Fixed)

        self.status_label = QLabel(self)
        self.open_button = QPushButton("Open clip", self)
        self.open_button.setEnabled(False)

        filters = QHBoxLayout()
        filters.addWidget(self.camera_combo)
        filters.addWidget(self.kind_combo)
        filters.addWidget(self.person_edit, 1)
        filters.addWidget(self.refresh_button)
        footer = QHBoxLayout()
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.open_button)
        self._splitter = QSplitter(Qt.Orientation.Vertical, self)
        self._splitter.setChildrenCollapsible(False)
        self._splitter.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self._splitter, 1)
        layout.addLayout(footer)

        self.camera_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.kind_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.person_edit.textEdited.connect(self._on_person_text_changed)
        self.person_edit.returnPressed.connect(self._on_filter_changed)
        self._person_timer.timeout.connect(self._on_filter_changed)
        self.refresh_button.clicked.connect(self.refresh)
        # `activated` covers double-click and Enter (and single-click where the style says so).
        self.table.activated.connect(self._on_row_activated)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

        self.refresh()

    # -- public API ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the event types and query again with the current filter."""
        self._reload_kinds()
        self._run_query(self.current_filter())

    def current_filter(self) -> EventFilter:
        """The filter the widgets show now (typed person text included, even mid-typing)."""
        return EventFilter(
            camera=self.camera_combo.currentData(),
            kind=self.kind_combo.currentData(),
            person=self.person_edit.text().strip() or None,
            limit=QUERY_LIMIT,
        )

    def set_filter(
        self, camera: str | None = None, kind: str | None = None, person: str | None = None
    ) -> None:
        """Set the whole filter at once (None: any) and query once.

        Raises ValueError for a camera key the pane was not given; an unknown kind is added
        to the type menu (it may simply be newer than the last :meth:`refresh`).
        """
        camera_index = _index_of(self.camera_combo, camera)
        if camera_index < 0:
            raise ValueError(f"unknown camera {camera!r}")
        if kind is not None and _index_of(self.kind_combo, kind) < 0:
            self.kind_combo.addItem(kind, kind)
        widgets = (self.camera_combo, self.kind_combo, self.person_edit)
        for widget in widgets:
            widget.blockSignals(True)
        self.camera_combo.setCurrentIndex(camera_index)
        self.kind_combo.setCurrentIndex(_index_of(self.kind_combo, kind))
        self.person_edit.setText(person or "")
        for widget in widgets:
            widget.blockSignals(False)
        self._person_timer.stop()
        self._run_query(self.current_filter())

    def row_count(self) -> int:
        return self.model.rowCount()

    def event_at(self, row: int) -> EventView | None:
        return self.model.event_at(row)

    def status_text(self) -> str:
        return self.status_label.text()

    def open_row(self, row: int) -> bool:
        """Open the clip of the event in ``row``: emits :attr:`sig_clip_requested` and plays
        it in :attr:`player`. Returns True if the clip file was found and is loading; a row
        without a clip shows "no clip covers this event" and returns False."""
        view = self.model.event_at(row)
        if view is None:
            return False
        if not view.clip_path:
            self.status_label.setText(NO_CLIP_TEXT)
            return False
        path = self._media_root / view.clip_path
        offset_s = view.clip_offset_s or 0.0
        self.sig_clip_requested.emit(str(path), offset_s)
        player = self._ensure_player()
        player.show()
        opened = player.open(path, offset_s)
        self.status_label.setText(
            f"{view.kind} at {view.ts.astimezone():%H:%M:%S}: clip {Path(view.clip_path).name}"
        )
        return opened

    def on_event_added(self, view: EventView) -> None:
        """A new event was stored: show it on top if it passes the current filter."""
        if self._shown_filter is None or not matches_filter(view, self._shown_filter):
            return
        if self.model.prepend(view, MAX_ROWS):
            self._update_count_text()

    # -- Qt handlers -----------------------------------------------------------------------

    def _on_filter_changed(self) -> None:
        self._person_timer.stop()
        flt = self.current_filter()
        if flt != self._shown_filter:
            self._run_query(flt)

    def _on_person_text_changed(self, _text: str) -> None:
        self._person_timer.start()

    def _on_row_activated(self, index: QModelIndex) -> None:
        self.open_row(index.row())

    def _on_open_clicked(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.open_row(index.row())

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        view = self.model.event_at(current.row()) if current.isValid() else None
        self.open_button.setEnabled(bool(view and view.clip_path))

    def _on_player_closed(self) -> None:
        if self.player is not None:
            self.player.hide()

    # -- helpers -----------------------------------------------------------------------------

    def _run_query(self, flt: EventFilter) -> None:
        try:
            events = self._query(flt)
        except Exception as exc:  # a failed query must not leave a stale list looking current
            self._shown_filter = flt
            self.model.set_events([])
            self.status_label.setText(f"could not load events: {exc}")
            return
        self._shown_filter = flt
        self.model.set_events(events)
        self.open_button.setEnabled(False)
        self._update_count_text()

    def _update_count_text(self) -> None:
        rows = self.model.rowCount()
        if rows == 0:
            text = "No events match" if self._is_filtered() else "No events yet"
        else:
            text = f"{rows} event{'s' if rows != 1 else ''}"
            if self._shown_filter is not None and rows >= self._shown_filter.limit:
                text += " (newest shown; narrow the filter for older ones)"
        self.status_label.setText(text)

    def _is_filtered(self) -> bool:
        flt = self._shown_filter
        return flt is not None and bool(flt.camera or flt.kind or flt.person)

    def _reload_kinds(self) -> None:
        current = self.kind_combo.currentData()
        try:
            kinds = list(self._kinds())
        except Exception as exc:
            self.status_label.setText(f"could not load event types: {exc}")
            return
        if current is not None and current not in kinds:
            kinds.append(current)  # keep the chosen filter even if that type is gone
        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        self.kind_combo.addItem("All types", None)
        for kind in kinds:
            self.kind_combo.addItem(kind, kind)
        self.kind_combo.setCurrentIndex(_index_of(self.kind_combo, current))
        self.kind_combo.blockSignals(False)

    def _ensure_player(self) -> ClipPlayer:
        if self.player is None:
            # Imported here: QtMultimedia loads its FFmpeg backend, which the console does
            # not need until someone opens a clip.
            from widgets.clip_player import ClipPlayer

            self.player = ClipPlayer(self)
            self.player.sig_closed.connect(self._on_player_closed)
            self._splitter.addWidget(self.player)
            self._splitter.setStretchFactor(0, 1)
            self._splitter.setStretchFactor(1, 1)
        return self.player
