"""The "Events" pane: event history newest first, filtered by camera, type and person, with
the clip that covers an event one double-click away.

The pane reads the store only through a :class:`~widgets.queries.QueryClient`: it submits
frozen page requests, shows "Loading…" meanwhile, and gets each answer on the GUI thread
(stale answers are dropped by the client). Older events come page by page ("Load more" or
scrolling to the bottom), continuing from the last row's ``(ts, id)``. Given an
:class:`EventHistoryActions` object, a stored event can be escalated to an incident report
("Escalate to incident…", the button or the row's context menu) by people who may file
reports; the call runs on a query worker through the shared
:class:`~widgets.action_strip.ActionRunner`, one at a time, and the pane's
:class:`~widgets.action_strip.ActionStrip` shows it busy, then what became of the event or
the refusal in red. New rows come from the store writer's
announcements only (:meth:`EventHistoryPane.on_events_stored`), so every row is stored, has
its id and can be acted on. Every method here runs on the GUI thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import IntEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.activity import ACTIVITY_BEGAN, ACTIVITY_ENDED, ROUTINE_KINDS
from engine.history.events import (
    ClipProbe,
    CoveringClipsRequest,
    EventCursor,
    EventFilter,
    EventKindsRequest,
    EventPage,
    EventPageRequest,
    EventView,
)
from engine.history.query_service import QueryResult
from engine.incidents.records import Filed
from engine.media import is_view_path
from engine.sitetime import display
from engine.text import printable
from engine.wording import Category, EventWords, describe, kind_category, kind_title, known_kinds
from widgets.action_strip import ActionRunner, ActionStrip
from widgets.colours import TONE_COLOURS
from widgets.events.api import EventHistoryActions
from widgets.incidents.report_form import ask_incident_description, filed_text
from widgets.queries import QueryClient
from widgets.table_model import RowsTableModel, show_rows_read_only

if TYPE_CHECKING:
    from widgets.events.clip_player import ClipPlayer

QUERY_LIMIT = 500  # rows per page: enough for a shift, quick to draw
MAX_ROWS = 1000  # newly stored rows stop growing the list here (oldest rows drop off)
PLACE_MIN_PX = 100  # the Where column: never narrower…
PLACE_MAX_PX = 170  # …nor wider (a long name then ends in "…", whole in its tooltip)
PERSON_TYPING_DELAY_MS = 300  # query once typing pauses this long, not on every key
CLIP_LOOKUP_ROWS = 300  # only the newest rows can be covered by a clip just finalised
CLIP_FINALISED = "clip.finalised"  # the kind stored once a clip's file and row are written
NO_CLIP_TEXT = "no clip covers this event"
LOADING_TEXT = "Loading events…"
ESCALATE_TEXT = "Escalate to incident…"
ESCALATE_BUTTON_TEXT = "Escalate…"  # the footer stays as narrow as the Events dock column
SUMMARY_TEXT = "Summary"
EVERY_EVENT_TEXT = "Every event"
SUMMARY_TIP = (
    "Summary: people and movement grouped into activities (open one for its rows); falls, "
    "cameras, faces, gestures and names as they happen; each track's own rows, clips "
    "written and retention runs left out.\nEvery event: every stored row."
)

_AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    TIME = 0
    TYPE = 1
    PLACE = 2
    PERSON = 3
    DETAIL = 4
    CLIP = 5


_HEADERS = {
    Column.TIME: "Time",
    Column.TYPE: "What",
    Column.PLACE: "Where",
    Column.PERSON: "Person",
    Column.DETAIL: "Detail",
    Column.CLIP: "Clip",
}


def add_kinds(combo: QComboBox, stored: Sequence[str]) -> None:
    """Offer every kind a person may look for (those the site has stored and those it
    can store), by category, falls and alerts first, each by its title; a category's
    name heads its kinds (not selectable)."""
    kinds = sorted(
        set(stored) | set(known_kinds()),
        key=lambda k: (list(Category).index(kind_category(k)), kind_title(k), k),
    )
    heading: Category | None = None
    for kind in kinds:
        category = kind_category(kind)
        if category is not heading:
            heading = category
            combo.addItem(category.value, None)
            item = combo.model().index(combo.count() - 1, 0)
            combo.model().setData(item, 0, Qt.ItemDataRole.UserRole - 1)  # not selectable
        combo.addItem(f"   {kind_title(kind)}", kind)


def person_of(view: EventView) -> str:
    """The person an event is about, as the list shows it: the stored person's name, else
    their id (so renames and merges show), else the name or id its detail carries."""
    return str(
        view.person
        or view.detail.get("name")
        or view.detail.get("person_id")
        or view.person_public_id
        or ""
    )


def matches_filter(view: EventView, flt: EventFilter) -> bool:
    """Whether a newly stored event belongs in a list filtered by ``flt`` (camera, kind,
    person).

    ``person`` matches the event's name or person id as a case-insensitive substring.
    """
    if flt.camera and view.camera != flt.camera:
        return False
    if flt.kind and view.kind != flt.kind:
        return False
    if flt.hidden and not flt.kind and view.kind in flt.hidden:
        return False
    if flt.source and view.source != flt.source:
        return False
    if flt.after and view.ts < flt.after:
        return False
    if flt.person:
        needle = flt.person.lower()
        haystacks = (
            view.person,
            view.person_public_id,
            view.detail.get("name"),
            view.detail.get("person_id"),
        )
        if not any(value and needle in str(value).lower() for value in haystacks):
            return False
    return not (flt.before and view.ts >= flt.before)


def _index_of(combo: QComboBox, value: str | None) -> int:
    """Index of the item carrying ``value``; None is the "All …" item at the top."""
    return 0 if value is None else combo.findData(value)


class EventHistoryModel(RowsTableModel[EventView]):
    """Rows of :class:`EventView`, in the order given (newest first), worded by
    :func:`engine.wording.describe`: ``names`` maps camera keys and room ids to names."""

    def __init__(self, names: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(tuple(_HEADERS[column] for column in Column), parent)
        self._names = names
        self._ids: set[int] = set()
        self._words: dict[int, EventWords] = {}  # by event id, worded when first drawn

    def words(self, view: EventView) -> EventWords:
        """``view`` as a person reads it (worded once per row)."""
        words = self._words.get(view.id)
        if words is None:
            words = describe(
                view.kind, view.source, view.detail, names=self._names, person=person_of(view)
            )
            self._words[view.id] = words
        return words

    @property
    def names(self) -> dict[str, str]:
        """Camera keys and room ids → the names rows use."""
        return dict(self._names)

    def set_names(self, names: dict[str, str]) -> None:
        """New names of cameras and rooms (the site's cameras changed): rows read again."""
        self._names = names
        self._words.clear()
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1)
            )

    def set_events(self, events: list[EventView]) -> None:
        self.beginResetModel()
        self._rows = list(events)
        self._ids = {view.id for view in self._rows}
        self._words.clear()
        self.endResetModel()

    def prepend(self, view: EventView, max_rows: int) -> bool:
        """Put ``view`` on top (unless already listed); drop the oldest rows past ``max_rows``."""
        if view.id in self._ids:
            return False
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, view)
        self._ids.add(view.id)
        self.endInsertRows()
        if len(self._rows) > max_rows:
            self.beginRemoveRows(QModelIndex(), max_rows, len(self._rows) - 1)
            for dropped in self._rows[max_rows:]:
                self._ids.discard(dropped.id)
                self._words.pop(dropped.id, None)
            del self._rows[max_rows:]
            self.endRemoveRows()
        return True

    def append(self, events: list[EventView]) -> None:
        """Add an older page below the rows shown (rows already listed are skipped)."""
        fresh = [view for view in events if view.id not in self._ids]
        if not fresh:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        self._ids.update(view.id for view in fresh)
        self.endInsertRows()

    def set_clips(self, clips: dict[int, tuple[str, float]]) -> int:
        """Give rows (keyed by event id) the clip found for them; returns how many rows
        changed."""
        changed = 0
        for row, view in enumerate(self._rows):
            found = clips.get(view.id)
            if found is None or view.clip_path:
                continue
            self._rows[row] = dataclasses.replace(view, clip_path=found[0], clip_offset_s=found[1])
            index = self.index(row, Column.CLIP)
            self.dataChanged.emit(self.index(row, 0), index)
            changed += 1
        return changed

    def events(self) -> list[EventView]:
        return list(self._rows)

    def event_at(self, row: int) -> EventView | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        view = self.event_at(index.row()) if index.isValid() else None
        if view is None:
            return None
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(view, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is Column.TIME:
                return display().with_zone(view.ts)
            if column is Column.CLIP and view.clip_path:
                return f"Plays the clip from {display().clock(view.ts)}"
            words = self.words(view)
            return f"{words.title}\n{words.summary}\n\n{words.details_text()}".strip()
        if role == Qt.ItemDataRole.ForegroundRole and column in (Column.TYPE, Column.DETAIL):
            colour = TONE_COLOURS.get(self.words(view).tone.value)
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column is Column.CLIP:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.UserRole:
            return view
        return None

    def _text(self, view: EventView, column: Column) -> str:
        if column is Column.TIME:
            return display().clock(view.ts)
        if column is Column.TYPE:
            return self.words(view).title
        if column is Column.PLACE:
            return self.words(view).place
        if column is Column.PERSON:
            return printable(person_of(view))
        if column is Column.DETAIL:
            return self.words(view).summary
        return "▶" if view.clip_path else ""


class EventHistoryPane(QWidget):
    """Lists stored events newest first, filtered by camera, type and person, and plays the
    clip that covers an event.

    Reads go through ``client`` (pages, event types, clip lookups), answered on the GUI
    thread; ``clip_path`` of each event is relative to ``media_root``. Newly stored events
    arrive through :meth:`on_events_stored`, each with its id and, when a clip already
    covers it, its clip. A row stored while its clip was still recording (a person's
    appearance starts a clip that is finished seconds later) gets its clip by one lookup
    when a clip's row is stored (:meth:`on_clip_finalised`).
    """

    sig_clip_requested = Signal(str, float)
    """An event's clip was opened: absolute clip path and the event's offset in seconds."""

    sig_page_loaded = Signal(int)
    """A page of events was shown (GUI thread): the number of rows it added (a first page
    replaces the list)."""

    sig_incident_escalated = Signal(int, int)
    """An event was filed as an incident report from this pane (GUI thread): the event's id
    and the incident's."""

    def __init__(
        self,
        client: QueryClient,
        cameras: list[tuple[str, str]],
        media_root: Path,
        parent: QWidget | None = None,
        *,
        actions: EventHistoryActions | None = None,
        rooms: Sequence[tuple[str, str]] = (),
        fetch_recording: Callable[[Path], Path] | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        # Gets a clip not on this machine's disk ready to play, on a worker: a view onto a
        # camera's continuous recording is cut, a clip kept on another machine (attached
        # to a shared site) fetched (the console's footage_file).
        self._fetch_recording = fetch_recording
        self._fetching: Path | None = None  # the clip being fetched to play
        self._actions = actions
        self._escalate_allowed = False  # until the console says the person may file reports
        self._media_root = Path(media_root)
        self._channel = f"events-{id(self):x}"
        self._filter: EventFilter | None = None  # what the list shows, or is loading
        self._loading = False
        self._next_cursor: EventCursor | None = None
        self._rows_limit = MAX_ROWS  # grows with pages the user loaded; new rows trim to it
        self._stored_while_loading: list[EventView] = []
        # Actions other panes offer on the selected row (add_event_action).
        self._event_actions: list[
            tuple[str, Callable[[EventView], None], Callable[[EventView], bool]]
        ] = []
        self._error: str | None = None
        self.player: ClipPlayer | None = None

        self._scope: tuple[str, datetime, datetime | None, str] | None = None  # activity opened
        self.view_combo = QComboBox(self)
        self.view_combo.setAccessibleName("Which events")
        self.view_combo.addItem(SUMMARY_TEXT, True)
        self.view_combo.addItem(EVERY_EVENT_TEXT, False)
        self.view_combo.setToolTip(SUMMARY_TIP)
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

        self._rooms = list(rooms)
        self.model = EventHistoryModel({**dict(rooms), **dict(cameras)}, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        show_rows_read_only(self.table)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        # Where: wide enough for the site's longest camera or room name ("Demo plaza
        # sensing" was cut to "Demo plaza s…" in the operator's dock), within reason.
        padding = 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 12
        names = [name for _, name in (*rooms, *cameras)]
        place_width = max(
            (self.fontMetrics().horizontalAdvance(printable(n)) + padding for n in names),
            default=PLACE_MIN_PX,
        )
        for column, width in (
            (Column.TIME, 70),
            (Column.TYPE, 130),
            (Column.PLACE, min(max(place_width, PLACE_MIN_PX), PLACE_MAX_PX)),
            (Column.PERSON, 90),
            (Column.CLIP, 36),
        ):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(Column.DETAIL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.CLIP, QHeaderView.ResizeMode.Fixed)

        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)  # a long status wraps rather than widen the pane
        self.load_more_button = QPushButton("Load more", self)
        self.load_more_button.setToolTip("List the next older events")
        self.load_more_button.setEnabled(False)
        self.open_button = QPushButton("Open clip", self)
        self.open_button.setEnabled(False)
        self.escalate_button = QPushButton(ESCALATE_BUTTON_TEXT, self)
        self.escalate_button.setAccessibleName(ESCALATE_TEXT)
        self.escalate_button.setVisible(actions is not None)
        self.escalate_button.setEnabled(False)
        # Escalations run through the shared strip, one at a time (the button is off
        # meanwhile); reads keep their own line, the count in the footer.
        self.strip = ActionStrip(self)
        self._runner = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.escalate",
            update_controls=self._update_escalate_button,
            parent=self,
        )

        self.scope_label = QLabel(self)
        self.scope_label.setWordWrap(True)
        self.scope_back_button = QPushButton("Back to the list", self)
        self.scope_back_button.setToolTip("Leave this activity's rows (Escape)")
        self._scope_bar = QWidget(self)
        scope = QHBoxLayout(self._scope_bar)
        scope.setContentsMargins(0, 0, 0, 0)
        scope.addWidget(self.scope_label, 1)
        scope.addWidget(self.scope_back_button)
        self._scope_bar.hide()

        filters = QHBoxLayout()
        filters.addWidget(self.view_combo)
        filters.addWidget(self.camera_combo)
        filters.addWidget(self.kind_combo)
        filters.addWidget(self.person_edit, 1)
        filters.addWidget(self.refresh_button)
        footer = QHBoxLayout()
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.load_more_button)
        footer.addWidget(self.open_button)
        footer.addWidget(self.escalate_button)
        self._splitter = QSplitter(Qt.Orientation.Vertical, self)
        self._splitter.setChildrenCollapsible(False)
        self._splitter.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self._scope_bar)
        layout.addWidget(self._splitter, 1)
        layout.addWidget(self.strip)
        layout.addLayout(footer)

        self.view_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.scope_back_button.clicked.connect(self.close_activity)
        self.camera_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.kind_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.person_edit.textEdited.connect(self._on_person_text_changed)
        self.person_edit.returnPressed.connect(self._on_filter_changed)
        self._person_timer.timeout.connect(self._on_filter_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.load_more_button.clicked.connect(self.load_more)
        self.table.verticalScrollBar().valueChanged.connect(self._on_scroll_position_changed)
        # `activated` covers double-click and Enter (and single-click where the style says so).
        self.table.activated.connect(self._on_row_activated)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.escalate_button.clicked.connect(lambda: self.escalate_selected())
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu_requested)

        self.refresh()

    # -- public API ------------------------------------------------------------------------

    def set_cameras(self, cameras: list[tuple[str, str]]) -> None:
        """The site's cameras changed while the console runs (added, removed, renamed):
        the camera filter offers them and rows name them by their names now (a removed
        camera's rows keep its last name); a filter on a camera that is gone goes back to
        all cameras."""
        chosen = self.camera_combo.currentData()
        self.camera_combo.blockSignals(True)
        try:
            self.camera_combo.clear()
            self.camera_combo.addItem("All cameras", None)
            for key, name in cameras:
                self.camera_combo.addItem(name, key)
            index = self.camera_combo.findData(chosen)
            self.camera_combo.setCurrentIndex(max(index, 0))
        finally:
            self.camera_combo.blockSignals(False)
        # A removed camera's rows keep its last name (its events stay in the history).
        self.model.set_names({**self.model.names, **dict(self._rooms), **dict(cameras)})
        if chosen is not None and self.camera_combo.currentData() is None:
            self.refresh()  # the filtered camera is gone: list all of them

    def refresh(self) -> None:
        """Reload the event types and the first page with the current filter (returns at
        once; the rows arrive later)."""
        self._client.submit(f"{self._channel}.kinds", EventKindsRequest(), self._on_kinds_loaded)
        self._run_query(self.current_filter())

    def current_filter(self) -> EventFilter:
        """The filter the widgets show now (typed person text included, even mid-typing):
        the summary leaves the routine kinds out unless a type is chosen; an opened activity
        lists every row of its place and time."""
        flt = EventFilter(
            camera=self.camera_combo.currentData(),
            kind=self.kind_combo.currentData(),
            person=self.person_edit.text().strip() or None,
            limit=QUERY_LIMIT,
            hidden=ROUTINE_KINDS if self.is_summary() else frozenset(),
        )
        if self._scope is not None:
            source, after, before, _text = self._scope
            flt = dataclasses.replace(
                flt, source=source, after=after, before=before, hidden=frozenset()
            )
        return flt

    def is_summary(self) -> bool:
        """Whether the list is the summary (activities, not each track's rows)."""
        return bool(self.view_combo.currentData())

    def set_summary(self, summary: bool) -> None:
        """Show the summary (True) or every event (False)."""
        self.view_combo.setCurrentIndex(0 if summary else 1)

    def open_activity(self, row: int) -> bool:
        """List every row of the activity in ``row`` (its place, from when it began to when
        it ended; a going-on one up to now); False if the row is no activity."""
        view = self.model.event_at(row)
        if view is None or view.kind not in (ACTIVITY_BEGAN, ACTIVITY_ENDED):
            return False
        after, before = view.ts, None
        if view.kind == ACTIVITY_ENDED:
            try:
                after = datetime.fromisoformat(str(view.detail.get("started_at")))
            except ValueError:
                after = view.ts
            before = view.ts + timedelta(microseconds=1)
        words = self.model.words(view)
        until = display().clock(before - timedelta(microseconds=1)) if before else "now"
        where = f" on {words.place}" if words.place else ""
        text = f"{words.title}{where}: every row from {display().clock(after)} to {until}"
        self._scope = (view.source, after, before, text)
        self.scope_label.setText(text)
        self._scope_bar.show()
        self._run_query(self.current_filter())
        return True

    def close_activity(self) -> None:
        """Back from an opened activity to the list as it was filtered."""
        if self._scope is None:
            return
        self._scope = None
        self._scope_bar.hide()
        self._run_query(self.current_filter())

    def activity_scope(self) -> str | None:
        """What an opened activity lists (None: no activity is open)."""
        return None if self._scope is None else self._scope[3]

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
            self.kind_combo.addItem(kind_title(kind), kind)
        widgets = (self.camera_combo, self.kind_combo, self.person_edit)
        for widget in widgets:
            widget.blockSignals(True)
        self.camera_combo.setCurrentIndex(camera_index)
        self.kind_combo.setCurrentIndex(_index_of(self.kind_combo, kind))
        self.person_edit.setText(person or "")
        for widget in widgets:
            widget.blockSignals(False)
        self._person_timer.stop()
        self._scope = None  # another pane asked for this list: not an activity's rows
        self._scope_bar.hide()
        self._run_query(self.current_filter())

    def load_more(self) -> bool:
        """Ask for the page after the last row shown; False if there is none or a page is
        already loading."""
        if self._loading or self._next_cursor is None or self._filter is None:
            return False
        self._submit_page(self._filter, self._next_cursor)
        return True

    def is_loading(self) -> bool:
        return self._loading

    def has_more(self) -> bool:
        """Whether older events than the last row may be loaded."""
        return self._next_cursor is not None

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
        self.status_label.setText(
            f"{self.model.words(view).title} at {display().clock(view.ts)}: playing its clip"
        )
        return self._open_clip(path, offset_s)

    def play_clip(self, path: Path, offset_s: float = 0.0) -> bool:
        """Open ``path`` (a clip another pane asked for) in this pane's player."""
        self.status_label.setText(f"clip {path.name}")
        return self._open_clip(Path(path), offset_s)

    def _open_clip(self, path: Path, offset_s: float) -> bool:
        """Play ``path`` from ``offset_s``; a clip that is a view onto its camera's
        continuous recording is cut from it first, and one kept on another machine
        (attached to a shared site) fetched first, on a worker, and played when it has
        arrived. True when it plays or is on its way."""
        player = self._ensure_player()
        player.show()
        if self._fetch_recording is None or path.is_file():
            self._fetching = None
            return player.open(path, offset_s)
        self._fetching = path
        player.show_waiting(path, _waiting_text(path, self._media_root), offset_s)
        fetch = self._fetch_recording
        self._client.submit_action(
            f"{self._channel}.fetch",
            lambda: fetch(path),
            partial(self._on_clip_fetched, path, offset_s),
            name=f"fetch clip {path.name}",
        )
        return True

    def _on_clip_fetched(self, path: Path, offset_s: float, result: QueryResult[Any]) -> None:
        if self._fetching != path or self.player is None:
            return  # another clip was asked for meanwhile, or the player closed
        self._fetching = None
        if result.error is not None:
            self.player.show_problem(
                path, f"The clip cannot be played here: {result.error}", offset_s
            )
            return
        self.player.open(Path(str(result.value)), offset_s)

    def close_what_was_opened(self) -> None:
        """The person locked or logged out: the next one does not find their clip."""
        self.close_player()

    def close_player(self) -> None:
        """Stop and hide the clip player (the person who opened the clip left)."""
        if self.player is not None:
            self.player.close_clip()
            self.player.hide()

    def on_events_stored(self, views: Sequence[EventView]) -> None:
        """Events the store writer committed, in commit order: show on top those that pass
        the current filter; a stored clip looks up the clips of rows that have none yet."""
        clip_stored = False
        for view in views:
            if view.id <= 0:
                continue  # not a stored row: nothing the pane could act on
            clip_stored = clip_stored or view.kind == CLIP_FINALISED
            if self._filter is None or not matches_filter(view, self._filter):
                continue
            if self._loading and self._next_cursor is None:
                self._stored_while_loading.append(view)  # the page on its way replaces rows
            self._prepend(view)
        if clip_stored:
            self.on_clip_finalised()

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): escalating needs the file-report
        permission."""
        self.set_escalate_allowed(actor is not None and actor.may(Permission.FILE_REPORT))

    def set_escalate_allowed(self, allowed: bool) -> None:
        """Whether the person at the console may file incident reports, and so escalate an
        event (the engine refuses anyone without it anyway)."""
        self._escalate_allowed = allowed
        self._update_escalate_button()

    def add_event_action(
        self,
        text: str,
        triggered: Callable[[EventView], None],
        offered: Callable[[EventView], bool],
    ) -> None:
        """Offer ``text`` in a row's context menu when ``offered(event)``; choosing it calls
        ``triggered(event)`` (another pane's action, e.g. "Find similar" on a track)."""
        self._event_actions.append((text, triggered, offered))

    def selected_event(self) -> EventView | None:
        index = self.table.currentIndex()
        return self.model.event_at(index.row()) if index.isValid() else None

    def escalate_selected(self, text: str | None = None) -> bool:
        """Escalate to incident: file the selected stored event as an incident report (on
        a worker) with ``text``, asked for when None; returns whether it was sent (not while
        another escalation runs)."""
        view = self.selected_event()
        if (
            view is None
            or self._actions is None
            or not self._escalate_allowed
            or self._runner.is_busy()
        ):
            return False
        if text is None:
            text = self._ask_escalation_text(view)
            if text is None:
                return False
        event_id = view.id
        return self._runner.run(
            f"Filing event {event_id} as an incident report…",
            partial(self._actions.escalate_event, event_id, text),
            partial(self._on_escalated, event_id),
            failure=f"Could not escalate event {event_id} to an incident",
        )

    def is_busy(self) -> bool:
        """Whether an escalation is running (its answer has not arrived yet)."""
        return self._runner.is_busy()

    def on_clip_finalised(self) -> None:
        """A clip's row is stored: look up (in one request, off the GUI thread) the clips of
        the newest rows that have none yet. A newer lookup supersedes one underway."""
        probes = tuple(
            ClipProbe(view.id, view.camera, view.ts)
            for view in self.model.events()[:CLIP_LOOKUP_ROWS]
            if view.camera and not view.clip_path
        )
        if probes:
            self._client.submit(
                f"{self._channel}.clips", CoveringClipsRequest(probes), self._on_clips_found
            )

    # -- Qt handlers -----------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape leaves an opened activity (the list and its filters pass it up to here)."""
        if event.key() == Qt.Key.Key_Escape and self._scope is not None:
            self.close_activity()
            event.accept()
            return
        super().keyPressEvent(event)

    def _on_filter_changed(self) -> None:
        self._person_timer.stop()
        flt = self.current_filter()
        if flt != self._filter:
            self._run_query(flt)

    def _on_person_text_changed(self, _text: str) -> None:
        self._person_timer.start()

    def _on_row_activated(self, index: QModelIndex) -> None:
        if not self.open_activity(index.row()):
            self.open_row(index.row())

    def _on_open_clicked(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.open_row(index.row())

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        view = self.model.event_at(current.row()) if current.isValid() else None
        self.open_button.setEnabled(bool(view and view.clip_path))
        self._update_escalate_button()

    def _on_context_menu_requested(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        menu = self._context_menu()
        menu.popup(self.table.viewport().mapToGlobal(position))

    def _context_menu(self) -> QMenu:
        """The selected row's menu: Open clip, and Escalate to incident…"""
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view = self.selected_event()
        if view is not None and view.kind in (ACTIVITY_BEGAN, ACTIVITY_ENDED):
            row = self.table.currentIndex().row()
            menu.addAction("Show its rows", lambda: self.open_activity(row))
        open_clip = menu.addAction("Open clip", self._on_open_clicked)
        open_clip.setEnabled(self.open_button.isEnabled())
        if self._actions is not None:
            escalate = menu.addAction(ESCALATE_TEXT, lambda: self.escalate_selected())
            escalate.setEnabled(self.escalate_button.isEnabled())
        for text, triggered, offered in self._event_actions:
            if view is not None and offered(view):
                menu.addAction(text).triggered.connect(partial(triggered, view))
        return menu

    def _ask_escalation_text(self, view: EventView) -> str | None:
        return ask_incident_description(self, f"event {view.id} ({view.kind})")

    def _on_escalated(self, event_id: int, filed: object) -> None:
        """The escalation worked (the runner shows a refusal itself)."""
        if not isinstance(filed, Filed):  # an answer it should not have given
            self.strip.show_status("")
            self.strip.show_error(
                f"Could not escalate event {event_id} to an incident: "
                f"unexpected answer {type(filed).__name__}"
            )
            return
        self.strip.show_status(f"Event {event_id} escalated: {filed_text(filed)}.")
        self.sig_incident_escalated.emit(event_id, filed.incident.incident_id)

    def _on_scroll_position_changed(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        if value > 0 and value >= bar.maximum():
            self.load_more()  # scrolled to the bottom: continue with older events

    def _on_player_closed(self) -> None:
        if self.player is not None:
            self.player.hide()

    def _on_page_loaded(self, result: QueryResult[EventPage]) -> None:
        request = result.request
        assert isinstance(request, EventPageRequest)
        self._loading = False
        first_page = request.cursor is None
        if result.error is not None or result.value is None:
            self._error = f"could not load events: {result.error}"
            if first_page:  # a failed query must not leave a stale list looking current
                self.model.set_events([])
                self._next_cursor = None
            self._stored_while_loading.clear()
            self._update_count_text()
            return
        self._error = None
        page = result.value
        if first_page:
            # Rows stored while the page was read: those the page missed (stored after its
            # read) go on top, whatever their time.
            listed = {view.id for view in page.rows}
            stored = [v for v in self._stored_while_loading if v.id not in listed]
            stored.reverse()  # they came oldest first; the list is newest first
            self.model.set_events(stored[:MAX_ROWS] + list(page.rows))
            self._stored_while_loading.clear()
            self._rows_limit = MAX_ROWS
            self.open_button.setEnabled(False)
            self._update_escalate_button()
        else:
            self.model.append(list(page.rows))
            self._rows_limit = max(MAX_ROWS, self.model.rowCount())
        self._next_cursor = page.next_cursor
        self._update_count_text()
        self.sig_page_loaded.emit(len(page.rows))

    def _on_kinds_loaded(self, result: QueryResult[list[str]]) -> None:
        if result.error is not None or result.value is None:
            self.status_label.setText(f"could not load event types: {result.error}")
            return
        current = self.kind_combo.currentData()
        kinds = list(result.value)
        if current is not None and current not in kinds:
            kinds.append(current)  # keep the chosen filter even if that type is gone
        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        self.kind_combo.addItem("All types", None)
        add_kinds(self.kind_combo, kinds)
        self.kind_combo.setCurrentIndex(_index_of(self.kind_combo, current))
        self.kind_combo.blockSignals(False)

    def _on_clips_found(self, result: QueryResult[dict[int, tuple[str, float]]]) -> None:
        if result.error is not None or not result.value:
            return  # the rows simply stay without a clip until the next refresh
        self.model.set_clips(result.value)
        self._on_current_row_changed(self.table.currentIndex(), QModelIndex())

    # -- helpers -----------------------------------------------------------------------------

    def _run_query(self, flt: EventFilter) -> None:
        self._filter = flt
        self._next_cursor = None
        self._stored_while_loading.clear()
        self._submit_page(flt, None)

    def _submit_page(self, flt: EventFilter, cursor: EventCursor | None) -> None:
        # One channel for first pages and "more": a new filter supersedes a page underway.
        self._loading = True
        self._client.submit(
            f"{self._channel}.page",
            EventPageRequest(flt, cursor, QUERY_LIMIT),
            self._on_page_loaded,
        )
        self._update_count_text()

    def _prepend(self, view: EventView) -> None:
        before = self.model.rowCount()
        if not self.model.prepend(view, self._rows_limit):
            return
        if self.model.rowCount() <= before and not self._loading:
            last = self.model.event_at(self.model.rowCount() - 1)
            if last is not None:  # the oldest row dropped: it can be loaded again
                self._next_cursor = last.cursor
        self._update_count_text()

    def _update_count_text(self) -> None:
        rows = self.model.rowCount()
        self.load_more_button.setEnabled(not self._loading and self._next_cursor is not None)
        if self._loading and self._next_cursor is None:
            text = LOADING_TEXT
        elif self._error:
            text = self._error
        elif rows == 0:
            text = "No events match" if self._is_filtered() else "No events yet"
        else:
            text = f"{rows} event{'s' if rows != 1 else ''}"
            if self._loading:
                text += ", loading older…"
            elif self._next_cursor is not None:
                text += " (newest first; Load more for older ones)"
        self.status_label.setText(text)

    def _update_escalate_button(self) -> None:
        view = self.selected_event()
        self.escalate_button.setEnabled(
            self._actions is not None
            and self._escalate_allowed
            and view is not None
            and not self._runner.is_busy()
        )
        if not self._escalate_allowed:
            tip = "Escalating to an incident needs the file_report permission."
        else:
            tip = (
                f"{ESCALATE_TEXT} File the selected event as an incident report, with a "
                "short description"
            )
        self.escalate_button.setToolTip(tip)

    def _is_filtered(self) -> bool:
        flt = self._filter
        return flt is not None and bool(flt.camera or flt.kind or flt.person or flt.source)

    def _ensure_player(self) -> ClipPlayer:
        if self.player is None:
            # Imported here: QtMultimedia loads its FFmpeg backend, which the console does
            # not need until someone opens a clip.
            from widgets.events.clip_player import ClipPlayer

            self.player = ClipPlayer(self)
            self.player.sig_closed.connect(self._on_player_closed)
            self._splitter.addWidget(self.player)
            self._splitter.setStretchFactor(0, 1)
            self._splitter.setStretchFactor(1, 1)
        return self.player


def _waiting_text(path: Path, media_root: Path) -> str:
    """What the player says while ``path`` is being got ready."""
    try:
        view = is_view_path(path.relative_to(media_root).as_posix())
    except ValueError:
        view = False
    if view:
        return "Cutting the clip from the camera's continuous recording…"
    return "Fetching the clip from the server that recorded it…"
