"""The "Alert list" pane: stored alerts newest first, page by page, filtered by the day's
risk classes, with each alert's sequences, labels and clips.

Each row shows when the alert was raised (site time), its cameras by their site names, its
highest confidence over all its sequences (the same number the Alerts pane and the CLI give:
:func:`engine.alerts.records.alert_confidences`), the risk level that decided what is shown, a
snapshot thumbnail, the title, its state in words ("New", "New, escalated", "In progress: ada",
"Closed by ada") and how its sequences are labelled. The line over the list says in plain words
which alerts are hidden and why. The bar above the list chooses the day ("Latest" or one of
the site's days), an operator's override of every camera's risk class (the kill switch:
"Moderate" shows everything, "Low" previews a low day) and "Open only"; beside them the
pane says which filter is active and how many alerts it hid, in amber when no risk classes
are known and so nothing is hidden (fail open).

The pane reads the store only through a :class:`~widgets.queries.QueryClient` and an
:class:`AlertListActions` object the console gives it: it submits page requests (frozen
:class:`AlertListView` plus a keyset cursor), shows "Loading…" meanwhile, and drops answers
for a view it no longer shows. Older alerts come page by page ("Load more", or scrolling
near the bottom), continuing from the last row's ``(raised_at, id)``; appended pages insert
rows (no model reset), rows have one fixed height and thumbnails are decoded once per
snapshot, so thousands of alerts scroll smoothly. Selecting an alert shows its sequences
below the list; a sequence can be labelled a true or false alarm and its recorded clip played
(the button or a double-click); an open alert can be acknowledged. Writes run on query
workers as the person logged in (the engine checks the permission). Acknowledgements,
labels and clip look-ups of different alerts and sequences may run at once (an operator
labelling one sequence after another loses none), so they do not go through an
:class:`~widgets.action_strip.ActionRunner`, which refuses a second change while one runs;
they show in the pane's :class:`~widgets.action_strip.ActionStrip`: busy while any runs,
what was done, and in red their refusals (each of overlapping actions on its own line) and
the list's read errors. The footer under the list is a summary (how many alerts are listed,
loading), not an outcome, and stays a plain line.
:meth:`AlertListPane.on_alerts_changed` reloads the newest page at most once a second,
keeping the rows already loaded below it and the selection.

Every method here runs on the GUI thread; the pane never touches the store or starts threads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import IntEnum
from functools import partial
from pathlib import Path
from typing import Any, Final

import shiboken6
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QDate,
    QIODevice,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.alerts.filtering import MIN_CONFIDENCE, AlertRow, RiskGate, SequenceView
from engine.history.query_service import CallRequest, QueryResult
from engine.sitetime import display
from engine.text import printable
from engine.vocabulary import RISK_CLASSES, SEQUENCE_LABELS
from widgets.action_strip import ActionStrip
from widgets.alert_list.api import AlertListActions, AlertListPage, AlertListView
from widgets.alerts.api import (
    ClipPending,
    acknowledged_by_text,
    camera_names_text,
    clip_pending_text,
)
from widgets.colours import ALARM_RED, MUTED_GREY, WARNING_AMBER
from widgets.queries import QueryClient
from widgets.table_model import RowsTableModel, show_rows_read_only

PAGE_SIZE: Final = 50  # rows per request: a screenful or two, quick to read and draw
LIVE_REFRESH_MS: Final = 1000  # alert events reload the newest page at most this often
THUMBNAIL_SIZE: Final = QSize(64, 48)
ROW_HEIGHT: Final = THUMBNAIL_SIZE.height() + 6  # one fixed height: no per-row measuring
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
NO_VALUE: Final = "–"
LOADING_TEXT: Final = "Loading…"
NOT_LISTED_TEXT: Final = "Alerts not listed"  # the view's first page could not be read
NO_CLIP_TEXT: Final = "no clip recorded for this sequence"
NOTHING_HIDDEN_TEXT: Final = "nothing is hidden"
LATEST_TEXT: Final = "Latest"
DAY_TEXT: Final = "Day"
PROVIDER_CLASSES_TEXT: Final = "Each camera's risk today"
STATE_OPEN: Final = "New"
STATE_ESCALATED: Final = "New, escalated"
TRUE_ALARM, FALSE_ALARM = SEQUENCE_LABELS
ACK_NOT_ALLOWED_TEXT: Final = "Acknowledging alerts needs the acknowledge permission."
LABEL_NOT_ALLOWED_TEXT: Final = "Labelling sequences needs the label permission."

SETTLED_GREY: Final = MUTED_GREY  # acknowledged rows step back
_FAIL_OPEN_STYLE = f"color: {WARNING_AMBER}; font-weight: bold;"

_AnyIndex = QModelIndex | QPersistentModelIndex
_Cursor = tuple[datetime, int]


# -- text helpers --------------------------------------------------------------------------


def risk_class_text(risk_class: str | None) -> str:
    """A class as people read it: ``very_low`` → ``Very low``; "–" for none."""
    return risk_class.replace("_", " ").capitalize() if risk_class else NO_VALUE


def confidence_text(max_conf: float | None) -> str:
    return NO_VALUE if max_conf is None else f"{max_conf:.2f}"


def site_text(at: datetime, fmt: str = TIME_FORMAT) -> str:
    """``at`` in site time (a naive time is taken as UTC, as the store returns it)."""
    return f"{display().local(at):{fmt}}"


def label_text(label: str | None) -> str:
    """A sequence's label as people read it: ``false_alarm`` → ``False alarm``."""
    return label.replace("_", " ").capitalize() if label else ""


def labels_summary(sequences: Sequence[SequenceView]) -> str:
    """How an alert's shown sequences are labelled: "" when none is, the label when all
    share it, else counts ("1 true alarm, 1 false alarm, 2 unlabelled")."""
    labels = [s.label for s in sequences]
    if not any(labels):
        return ""
    if len(set(labels)) == 1:
        return label_text(labels[0])
    parts = [
        f"{labels.count(label)} {label_text(label).lower()}"
        for label in SEQUENCE_LABELS
        if labels.count(label)
    ]
    unlabelled = labels.count(None)
    if unlabelled:
        parts.append(f"{unlabelled} unlabelled")
    return ", ".join(parts)


def state_text(row: AlertRow) -> str:
    """The alert's state in words, as the Alerts pane says it (without times)."""
    if row.acknowledged_at is not None:
        return f"Closed by {acknowledged_by_text(row.acknowledged_by)}"
    if row.taken_at is not None:
        return f"In progress: {acknowledged_by_text(row.taken_by)}"
    return STATE_ESCALATED if row.escalated_at is not None else STATE_OPEN


def is_fail_open(gate: RiskGate) -> bool:
    """Whether the list is unfiltered because no risk classes are known (not chosen)."""
    return gate.classes is None and gate.override is None


def filter_summary(
    gate: RiskGate, shown: int | None, hidden: int | None, snoozed: int | None = None
) -> str:
    """The filter line in words an operator reads at 3 a.m.: which alerts are hidden and why
    (or that none are), how many are shown and hidden, and how many a snooze of their camera
    held back (told only when some are). Where the risk levels come from (the provider, when
    it was refreshed) is the tooltip's, not this line's."""
    low, very_low = MIN_CONFIDENCE["low"], MIN_CONFIDENCE["very_low"]
    if gate.override is not None:
        level = risk_class_text(gate.override).lower()
        if gate.override in MIN_CONFIDENCE:
            cut = MIN_CONFIDENCE[gate.override]
            text = (
                f"You set every camera to {level} risk: alerts less sure than {cut:.2f} are hidden"
            )
        else:
            text = f"Showing every alert (you set every camera to {level} risk)"
    elif is_fail_open(gate):
        text = "Showing every alert: today's risk levels are not known, so none is hidden"
    elif not gate.active:
        text = "Showing every alert: no camera is at low risk today"
    else:
        text = (
            f"Quiet day: on low-risk cameras, alerts less sure than {low:.2f} are hidden "
            f"({very_low:.2f} on very-low-risk ones)"
        )
    if shown is not None and hidden is not None:
        text += f" — {shown} shown, {hidden} hidden"
        if snoozed:
            text += f", {snoozed} held back by a snooze"
    return text


# -- thumbnails ----------------------------------------------------------------------------


class ThumbnailCache:
    """Snapshot thumbnails by snapshot path, decoded once (at thumbnail size, which JPEG
    decodes quickly) when a page arrives, so painting a row is a dict lookup."""

    def __init__(self, size: QSize = THUMBNAIL_SIZE) -> None:
        self._size = size
        self._pixmaps: dict[str, QPixmap] = {}

    def add(self, images: Mapping[str, bytes]) -> None:
        for path, data in images.items():
            if path not in self._pixmaps and data:
                pixmap = self._decode(data)
                if pixmap is not None:
                    self._pixmaps[path] = pixmap

    def get(self, path: str | None) -> QPixmap | None:
        return None if path is None else self._pixmaps.get(path)

    def keep_only(self, paths: set[str]) -> None:
        """Forget the thumbnails of rows no longer listed (the view changed)."""
        for path in [p for p in self._pixmaps if p not in paths]:
            del self._pixmaps[path]

    def __len__(self) -> int:
        return len(self._pixmaps)

    def _decode(self, data: bytes) -> QPixmap | None:
        buffer = QBuffer()
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer)
        full = reader.size()
        if full.isValid():
            reader.setScaledSize(full.scaled(self._size, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if image.isNull():
            return None
        if image.width() > self._size.width() or image.height() > self._size.height():
            image = image.scaled(
                self._size,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        return QPixmap.fromImage(image)


def _snapshot_paths(rows: Sequence[AlertRow]) -> set[str]:
    return {s.snapshot for row in rows for s in row.sequences if s.snapshot}


# -- models --------------------------------------------------------------------------------


class Column(IntEnum):
    TIME = 0
    CAMERAS = 1
    MAX_CONF = 2
    RISK_CLASS = 3
    SNAPSHOT = 4
    TITLE = 5
    STATE = 6
    LABEL = 7


_HEADERS = {
    Column.TIME: "Time",
    Column.CAMERAS: "Cameras",
    Column.MAX_CONF: "Max conf",
    Column.RISK_CLASS: "Risk class",
    Column.SNAPSHOT: "Snapshot",
    Column.TITLE: "Title",
    Column.STATE: "State",
    Column.LABEL: "Label",
}


class AlertListModel(RowsTableModel[AlertRow]):
    """Rows of :class:`AlertRow`, newest first, with thumbnails from ``thumbnails``."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(tuple(_HEADERS[column] for column in Column), parent)
        self._thumbnails = thumbnails
        self.camera_names: dict[str, str] = {}  # the site's names by key, shared with the pane
        self._ids: set[int] = set()

    def alerts(self) -> list[AlertRow]:
        return list(self._rows)

    def alert_at(self, row: int) -> AlertRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, alert_id: int) -> int | None:
        if alert_id not in self._ids:
            return None
        return next(i for i, row in enumerate(self._rows) if row.alert_id == alert_id)

    def set_rows(self, rows: Sequence[AlertRow]) -> None:
        super().set_rows(rows)
        self._ids = {row.alert_id for row in self._rows}

    def append(self, rows: Sequence[AlertRow]) -> int:
        """Add an older page below the rows shown (inserted, not reset; rows already
        listed are skipped). Returns how many were added."""
        fresh = [row for row in rows if row.alert_id not in self._ids]
        if not fresh:
            return 0
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        self._ids.update(row.alert_id for row in fresh)
        self.endInsertRows()
        return len(fresh)

    def replace_head(self, head: int, rows: Sequence[AlertRow]) -> None:
        """Replace the first ``head`` rows by ``rows`` (a reloaded newest page), keeping the
        rows below; inserts or removes the difference at the top, so the view keeps its
        place and nothing is reset."""
        new = list(rows)
        count = len(new)
        top = QModelIndex()
        if count > head:
            self.beginInsertRows(top, 0, count - head - 1)
            self._rows[0:head] = new
            self.endInsertRows()
        elif count < head:
            self.beginRemoveRows(top, 0, head - count - 1)
            self._rows[0:head] = new
            self.endRemoveRows()
        else:
            self._rows[0:head] = new
        self._ids = {row.alert_id for row in self._rows}
        if count:
            self.dataChanged.emit(self.index(0, 0), self.index(count - 1, len(Column) - 1))

    def replace_alert(self, alert_id: int, row: AlertRow | None) -> bool:
        """Show ``row`` in place of the listed alert ``alert_id``, or remove that alert
        (None: it left the view). Returns whether the alert was listed."""
        at = self.row_of(alert_id)
        if at is None:
            return False
        if row is None:
            self.beginRemoveRows(QModelIndex(), at, at)
            del self._rows[at]
            self._ids.discard(alert_id)
            self.endRemoveRows()
            return True
        self._rows[at] = row
        self.dataChanged.emit(self.index(at, 0), self.index(at, len(Column) - 1))
        return True

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        alert = self.alert_at(index.row()) if index.isValid() else None
        if alert is None:
            return None
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(alert, column)
        if role == Qt.ItemDataRole.DecorationRole and column is Column.SNAPSHOT:
            return self._thumbnails.get(alert.snapshot)
        if role == Qt.ItemDataRole.ForegroundRole and column is Column.STATE:
            if alert.acknowledged_at is not None:
                return QBrush(QColor(SETTLED_GREY))
            if alert.escalated_at is not None:
                return QBrush(QColor(ALARM_RED))
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is Column.SNAPSHOT:
                return alert.snapshot
            if column is Column.TITLE:
                return f"{alert.title} ({alert.kind}, {alert.severity}, {alert.source})"
            return self._text(alert, column) or None
        if role == Qt.ItemDataRole.UserRole:
            return alert
        return None

    def _text(self, alert: AlertRow, column: Column) -> str:
        if column is Column.TIME:
            return site_text(alert.raised_at)
        if column is Column.CAMERAS:
            return printable(camera_names_text(list(alert.cameras), self.camera_names))
        if column is Column.MAX_CONF:
            return confidence_text(alert.max_conf)
        if column is Column.RISK_CLASS:
            return risk_class_text(alert.risk_class)
        if column is Column.TITLE:
            return printable(alert.title)
        if column is Column.STATE:
            return state_text(alert)
        if column is Column.LABEL:
            return labels_summary(alert.sequences)
        return ""  # the snapshot column shows its thumbnail only


class SequenceColumn(IntEnum):
    CAMERA = 0
    TIME = 1
    DETECTIONS = 2
    MAX_CONF = 3
    RISK_CLASS = 4
    LABEL = 5
    SNAPSHOT = 6


_SEQUENCE_HEADERS = {
    SequenceColumn.CAMERA: "Camera",
    SequenceColumn.TIME: "Start–end",
    SequenceColumn.DETECTIONS: "Detections",
    SequenceColumn.MAX_CONF: "Max conf",
    SequenceColumn.RISK_CLASS: "Risk class",
    SequenceColumn.LABEL: "Label",
    SequenceColumn.SNAPSHOT: "Snapshot",
}


def span_text(sequence: SequenceView) -> str:
    """``2026-11-20 08:00:00–08:00:05`` (the end's date too when it is another day)."""
    start, end = sequence.started_at, sequence.last_seen_at
    same_day = site_text(start, "%Y-%m-%d") == site_text(end, "%Y-%m-%d")
    return f"{site_text(start)}–{site_text(end, '%H:%M:%S' if same_day else TIME_FORMAT)}"


class SequenceModel(RowsTableModel[SequenceView]):
    """The shown sequences of one alert, in the order the engine gives (by start)."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(tuple(_SEQUENCE_HEADERS[column] for column in SequenceColumn), parent)
        self._thumbnails = thumbnails
        self.camera_names: dict[str, str] = {}  # the site's names by key, shared with the pane

    def sequences(self) -> list[SequenceView]:
        return list(self._rows)

    def sequence_at(self, row: int) -> SequenceView | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        sequence = self.sequence_at(index.row()) if index.isValid() else None
        if sequence is None:
            return None
        column = SequenceColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(sequence, column)
        if role == Qt.ItemDataRole.DecorationRole and column is SequenceColumn.SNAPSHOT:
            return self._thumbnails.get(sequence.snapshot)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is SequenceColumn.LABEL and sequence.labelled_by:
                return f"labelled by {acknowledged_by_text(sequence.labelled_by)}"
            if column is SequenceColumn.SNAPSHOT:
                return sequence.snapshot
            if column is SequenceColumn.CAMERA:
                return f"{sequence.source}: {sequence.trigger}"
            return self._text(sequence, column) or None
        if role == Qt.ItemDataRole.UserRole:
            return sequence
        return None

    def _text(self, sequence: SequenceView, column: SequenceColumn) -> str:
        if column is SequenceColumn.CAMERA:
            key = sequence.camera or sequence.source
            return printable(self.camera_names.get(key, key))
        if column is SequenceColumn.TIME:
            return span_text(sequence)
        if column is SequenceColumn.DETECTIONS:
            return str(sequence.detections)
        if column is SequenceColumn.MAX_CONF:
            return confidence_text(sequence.max_conf)
        if column is SequenceColumn.RISK_CLASS:
            return risk_class_text(sequence.risk_class)
        if column is SequenceColumn.LABEL:
            return label_text(sequence.label)
        return ""


# -- the pane --------------------------------------------------------------------------------


class _Mode(IntEnum):
    REPLACE = 0  # a new view: the page replaces the list
    HEAD = 1  # the newest page reloaded: rows loaded below it stay
    APPEND = 2  # the page after the last row


@dataclass(slots=True, eq=False)
class _PageAsk:
    """A page request underway: identified by its request object (the answer carries it)."""

    view: AlertListView
    mode: _Mode
    before: _Cursor | None
    request: CallRequest[AlertListPage] = field(repr=False)


@dataclass(slots=True, eq=False)
class _RowAsk:
    view: AlertListView
    alert_id: int
    request: CallRequest[AlertListPage] = field(repr=False)


class AlertListPane(QWidget):
    """Lists stored alerts newest first, page by page, under the day's low-risk filter (or
    the operator's override), with each alert's sequences, labels and clips.

    Reads and writes go through ``client`` (answers on the GUI thread) and ``actions``
    (blocking calls run on query workers); ``page_size`` alerts are asked for at a time.
    What the actions did and what could not be read show in :attr:`strip`.
    """

    sig_clip_requested = Signal(str)
    """A sequence's recorded clip was asked for and found (GUI thread): its path."""

    sig_page_loaded = Signal(int)
    """A page of alerts was shown (GUI thread): how many rows the list holds now."""

    sig_action_failed = Signal(str)
    """Acknowledging, labelling or finding a clip failed (GUI thread): what the pane says."""

    sig_counts_loaded = Signal(int, int)
    """The view's counts arrived (GUI thread): alerts shown and hidden by the filter. They
    are asked for after the page, on their own: counting a year of alerts takes far longer
    than a page, and the page must not wait for it."""

    def __init__(
        self,
        client: QueryClient,
        actions: AlertListActions,
        parent: QWidget | None = None,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(parent)
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        self._client = client
        self._actions = actions
        self._page_size = page_size
        self._channel = f"alerts-{id(self):x}"
        self._view = AlertListView()  # what the list shows, or is loading
        self._rows_view: AlertListView | None = None  # the view the rows listed belong to
        self._page_ask: _PageAsk | None = None
        self._counts_ask: tuple[AlertListView, CallRequest[AlertListPage]] | None = None
        self._row_asks: dict[int, _RowAsk] = {}
        self._has_more = False
        self._error: str | None = None
        self._gate: RiskGate | None = None
        self._shown: int | None = None
        self._hidden: int | None = None
        self._snoozed: int | None = None
        self._acknowledge_allowed = True
        self._ack_why_not = ACK_NOT_ALLOWED_TEXT
        self._label_allowed = True
        self._label_why_not = LABEL_NOT_ALLOWED_TEXT
        self._acknowledging: set[int] = set()
        self._labelling: set[int] = set()
        self._clip_lookups = 0
        self._selected_sequence_id: int | None = None
        self._thumbnails = ThumbnailCache()

        # The bar: day, override, open only, and what the filter did.
        self.day_mode_combo = QComboBox(self)
        self.day_mode_combo.setAccessibleName("Day")
        self.day_mode_combo.addItem(LATEST_TEXT, False)
        self.day_mode_combo.addItem(DAY_TEXT, True)
        self.day_edit = QDateEdit(self)
        self.day_edit.setAccessibleName("Site day")
        self.day_edit.setDisplayFormat("yyyy-MM-dd")
        self.day_edit.setCalendarPopup(True)
        today = display().day_of(datetime.now(UTC))
        self.day_edit.setDate(QDate(today.year, today.month, today.day))
        self.day_edit.setEnabled(False)
        self.override_combo = QComboBox(self)
        self.override_combo.setAccessibleName("Risk class override")
        self.override_combo.setToolTip(
            "Treat every camera as one risk class: Moderate and above show everything, "
            "Low or Very low preview a low-risk day"
        )
        self.override_combo.addItem(PROVIDER_CLASSES_TEXT, None)
        for risk_class in RISK_CLASSES:
            self.override_combo.addItem(risk_class_text(risk_class), risk_class)
        self.open_only_box = QCheckBox("Open only", self)
        self.refresh_button = QPushButton("Refresh", self)
        self.filter_label = QLabel(self)
        self.filter_label.setWordWrap(True)
        self.filter_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # The list.
        self.model = AlertListModel(self._thumbnails, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        _set_up_table(self.table)
        header = self.table.horizontalHeader()
        for column, width in (
            (Column.TIME, 150),
            (Column.CAMERAS, 110),
            (Column.MAX_CONF, 70),
            (Column.RISK_CLASS, 80),
            (Column.SNAPSHOT, THUMBNAIL_SIZE.width() + 12),
            (Column.STATE, 150),
            (Column.LABEL, 110),
        ):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.SNAPSHOT, QHeaderView.ResizeMode.Fixed)

        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.load_more_button = QPushButton("Load more", self)
        self.load_more_button.setToolTip("List the next older alerts")
        self.load_more_button.setEnabled(False)
        self.acknowledge_button = QPushButton("Close", self)

        # The selected alert's sequences.
        self.sequence_model = SequenceModel(self._thumbnails, self)
        self.sequence_model.camera_names = self.model.camera_names  # one dict, kept current
        self.sequence_table = QTableView(self)
        self.sequence_table.setModel(self.sequence_model)
        _set_up_table(self.sequence_table)
        sequence_header = self.sequence_table.horizontalHeader()
        for seq_column, width in (
            (SequenceColumn.CAMERA, 110),
            (SequenceColumn.TIME, 200),
            (SequenceColumn.DETECTIONS, 80),
            (SequenceColumn.MAX_CONF, 70),
            (SequenceColumn.RISK_CLASS, 80),
            (SequenceColumn.LABEL, 100),
        ):
            self.sequence_table.setColumnWidth(seq_column, width)
        sequence_header.setSectionResizeMode(
            SequenceColumn.SNAPSHOT, QHeaderView.ResizeMode.Stretch
        )
        self.details_label = QLabel("Select an alert to see its sequences", self)
        self.details_label.setWordWrap(True)
        self.true_alarm_button = QPushButton("True alarm", self)
        self.false_alarm_button = QPushButton("False alarm", self)
        self.clear_label_button = QPushButton("Clear label", self)
        self.play_clip_button = QPushButton("Play clip", self)
        self.play_clip_button.setToolTip("Play the recorded clip covering the sequence's start")
        self.strip = ActionStrip(self)

        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_REFRESH_MS)

        bar = QHBoxLayout()
        bar.addWidget(self.day_mode_combo)
        bar.addWidget(self.day_edit)
        bar.addWidget(self.override_combo)
        bar.addWidget(self.open_only_box)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        footer = QHBoxLayout()
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.load_more_button)
        footer.addWidget(self.acknowledge_button)
        list_box = QWidget(self)
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.table, 1)
        list_layout.addLayout(footer)
        buttons = QHBoxLayout()
        buttons.addWidget(self.details_label, 1)
        for button in (
            self.true_alarm_button,
            self.false_alarm_button,
            self.clear_label_button,
            self.play_clip_button,
        ):
            buttons.addWidget(button)
        details_box = QWidget(self)
        details_layout = QVBoxLayout(details_box)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addLayout(buttons)
        details_layout.addWidget(self.sequence_table, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(list_box)
        self.splitter.addWidget(details_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.filter_label)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.strip)

        self.day_mode_combo.currentIndexChanged.connect(self._on_view_controls_changed)
        self.day_edit.dateChanged.connect(self._on_view_controls_changed)
        self.override_combo.currentIndexChanged.connect(self._on_view_controls_changed)
        self.open_only_box.toggled.connect(self._on_view_controls_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.load_more_button.clicked.connect(self.load_more)
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        self.true_alarm_button.clicked.connect(partial(self.label_selected, TRUE_ALARM))
        self.false_alarm_button.clicked.connect(partial(self.label_selected, FALSE_ALARM))
        self.clear_label_button.clicked.connect(partial(self.label_selected, None))
        self.play_clip_button.clicked.connect(self.play_selected_clip)
        self.table.verticalScrollBar().valueChanged.connect(self._on_scroll_position_changed)
        # `activated` covers double-click and Enter: the alert's best sequence's clip.
        self.table.activated.connect(self._on_alert_activated)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_alert_changed)
        self.sequence_table.activated.connect(self._on_sequence_activated)
        self.sequence_table.selectionModel().currentRowChanged.connect(
            self._on_current_sequence_changed
        )
        self._live_timer.timeout.connect(self._on_live_timer_elapsed)

        self._update_controls()
        self.refresh()

    # -- public API ------------------------------------------------------------------------

    def view(self) -> AlertListView:
        """The view the list shows (or is loading)."""
        return self._view

    def set_view(self, view: AlertListView) -> None:
        """Show ``view``: the controls follow it and the first page is asked for.
        ``ValueError`` for an override that is not a risk class."""
        if view.override is not None and view.override not in RISK_CLASSES:
            raise ValueError(f"unknown risk class {view.override!r}")
        controls = (self.day_mode_combo, self.day_edit, self.override_combo, self.open_only_box)
        for control in controls:
            control.blockSignals(True)
        self.day_mode_combo.setCurrentIndex(0 if view.day is None else 1)
        self.day_edit.setEnabled(view.day is not None)
        if view.day is not None:
            self.day_edit.setDate(QDate(view.day.year, view.day.month, view.day.day))
        self.override_combo.setCurrentIndex(self.override_combo.findData(view.override))
        self.open_only_box.setChecked(view.open_only)
        for control in controls:
            control.blockSignals(False)
        self._run_view(view)

    def refresh(self) -> None:
        """Reload the first page of the view the controls show (the rows stay until it
        arrives; returns at once)."""
        self._run_view(self._view_from_controls())

    def load_more(self) -> bool:
        """Ask for the page after the last row shown; False if there is none or a page is
        already loading."""
        last = self.model.alert_at(self.model.rowCount() - 1)
        if (
            self._page_ask is not None
            or not self._has_more
            or last is None
            or self._rows_view != self._view
        ):
            return False
        self._submit_page(self._view, _Mode.APPEND, last.cursor)
        return True

    def on_alerts_changed(self) -> None:
        """The engine published alert events: reload the newest page within a second (at
        most once a second however many arrive), keeping older rows and the selection."""
        if not self._live_timer.isActive():
            self._live_timer.start()

    def is_loading(self) -> bool:
        return self._page_ask is not None

    def counts_pending(self) -> bool:
        """Whether the view's shown and hidden counts are still being counted."""
        return self._counts_ask is not None

    def has_more(self) -> bool:
        """Whether alerts older than the last row may be listed."""
        return self._has_more

    def rows(self) -> list[AlertRow]:
        return self.model.alerts()

    def filter_text(self) -> str:
        return self.filter_label.text()

    def status_text(self) -> str:
        """The footer's summary: how many alerts are listed, or that they are loading."""
        return self.status_label.text()

    def is_busy(self) -> bool:
        """Whether an acknowledgement, a label or a clip look-up is still running."""
        return bool(self._acknowledging or self._labelling or self._clip_lookups)

    def selected_alert(self) -> AlertRow | None:
        index = self.table.currentIndex()
        return self.model.alert_at(index.row()) if index.isValid() else None

    def selected_sequence(self) -> SequenceView | None:
        index = self.sequence_table.currentIndex()
        return self.sequence_model.sequence_at(index.row()) if index.isValid() else None

    def select_alert(self, alert_id: int) -> bool:
        """Select the listed alert ``alert_id`` (showing its sequences); False if not listed."""
        row = self.model.row_of(alert_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def select_sequence(self, sequence_id: int) -> bool:
        """Select sequence ``sequence_id`` of a listed alert (selecting the alert first);
        False if no listed alert shows it."""
        selected = self.selected_alert()
        owner = (
            selected
            if selected and any(s.sequence_id == sequence_id for s in selected.sequences)
            else next(
                (
                    row
                    for row in self.model.alerts()
                    if any(s.sequence_id == sequence_id for s in row.sequences)
                ),
                None,
            )
        )
        if owner is None:
            return False
        if owner is not selected:
            self.select_alert(owner.alert_id)
        for row, sequence in enumerate(self.sequence_model.sequences()):
            if sequence.sequence_id == sequence_id:
                self.sequence_table.selectRow(row)
                return True
        return False

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): acknowledging and labelling as their
        roles allow."""
        self.set_acknowledge_allowed(actor is not None and actor.may(Permission.ACKNOWLEDGE))
        self.set_label_allowed(actor is not None and actor.may(Permission.LABEL))

    def set_acknowledge_allowed(self, allowed: bool, why_not: str = ACK_NOT_ALLOWED_TEXT) -> None:
        """Whether the person at the console may acknowledge alerts: when not, the button is
        off and its tooltip says ``why_not``. The engine refuses anyone without it anyway."""
        self._acknowledge_allowed = allowed
        self._ack_why_not = why_not
        self._update_controls()

    def set_label_allowed(self, allowed: bool, why_not: str = LABEL_NOT_ALLOWED_TEXT) -> None:
        """Whether the person at the console may label sequences (as for acknowledging)."""
        self._label_allowed = allowed
        self._label_why_not = why_not
        self._update_controls()

    def acknowledge_selected(self) -> bool:
        """Acknowledge the selected open alert (on a worker); returns whether it was sent."""
        alert = self.selected_alert()
        if (
            alert is None
            or not alert.open
            or not self._acknowledge_allowed
            or alert.alert_id in self._acknowledging
        ):
            return False
        alert_id = alert.alert_id
        self._begin_action(f"Acknowledging alert {alert_id}…")
        self._acknowledging.add(alert_id)
        self._update_controls()
        self._client.submit_action(
            f"{self._channel}.ack",
            partial(self._actions.acknowledge, alert_id),
            partial(self._on_acknowledged, alert_id),
            name=f"acknowledge alert {alert_id}",
        )
        return True

    def label_selected(self, label: str | None) -> bool:
        """Label the selected sequence ``true_alarm`` or ``false_alarm`` (None clears it), on
        a worker; returns whether it was sent."""
        if label is not None and label not in SEQUENCE_LABELS:
            raise ValueError(f"label {label!r} is not one of {', '.join(SEQUENCE_LABELS)}")
        sequence = self.selected_sequence()
        if sequence is None or not self._label_allowed or sequence.sequence_id in self._labelling:
            return False
        sequence_id = sequence.sequence_id
        what = f"as a {label_text(label).lower()}" if label else "cleared"
        self._begin_action(f"Labelling sequence {sequence_id} {what}…")
        self._labelling.add(sequence_id)
        self._update_controls()
        self._client.submit_action(
            f"{self._channel}.label",
            partial(self._actions.label, sequence_id, label),
            partial(self._on_labelled, sequence.alert_id, sequence_id, label),
            name=f"label sequence {sequence_id} {label or 'cleared'}",
        )
        return True

    def play_selected_clip(self) -> bool:
        """Look up the selected sequence's clip (on a worker): :attr:`sig_clip_requested`
        when there is one, "no clip recorded for this sequence" when not."""
        sequence = self.selected_sequence()
        return False if sequence is None else self._find_clip(sequence)

    # -- Qt handlers -----------------------------------------------------------------------

    def _on_view_controls_changed(self, *_args: object) -> None:
        self.day_edit.setEnabled(bool(self.day_mode_combo.currentData()))
        view = self._view_from_controls()
        if view != self._view:
            self._run_view(view)

    def _on_scroll_position_changed(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        # Within a screen of the bottom: fetch the next page before the user gets there.
        if bar.maximum() > 0 and value >= bar.maximum() - bar.pageStep():
            self.load_more()

    def _on_current_alert_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        alert = self.model.alert_at(current.row()) if current.isValid() else None
        self._show_sequences(alert)

    def _on_current_sequence_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        sequence = self.sequence_model.sequence_at(current.row()) if current.isValid() else None
        self._selected_sequence_id = None if sequence is None else sequence.sequence_id
        self._update_controls()

    def _on_alert_activated(self, index: QModelIndex) -> None:
        alert = self.model.alert_at(index.row())
        best = _best_sequence(alert) if alert is not None else None
        if best is not None:
            self._find_clip(best)

    def _on_sequence_activated(self, index: QModelIndex) -> None:
        sequence = self.sequence_model.sequence_at(index.row())
        if sequence is not None:
            self._find_clip(sequence)

    def _on_live_timer_elapsed(self) -> None:
        if self._page_ask is not None:
            self._live_timer.start()  # a page is on its way: reload once it has landed
            return
        self._submit_page(self._view, self._reload_mode(self._view), None)

    def _on_page_loaded(self, result: QueryResult[Any]) -> None:
        ask = self._page_ask
        if ask is None or result.request is not ask.request or ask.view != self._view:
            return  # an answer for a page no longer wanted
        self._page_ask = None
        if result.error is not None or not isinstance(result.value, AlertListPage):
            what = "could not load alerts"
            if ask.mode is _Mode.APPEND:
                what = "could not load older alerts"
            self._error = f"{what}: {printable(str(result.error))}"
            self._show_error(self._error)
            if ask.mode is _Mode.REPLACE:  # a failed view must not leave another view's rows
                self.model.set_rows([])
                self._rows_view = None
                self._has_more = False
                self._gate = None
                self._shown = self._hidden = self._snoozed = None
                self._show_sequences(None)
            self._update_filter_text()
            self._update_status()
            return
        if self._error is not None:  # a read error is over once reading works again
            if self.strip.error() == self._error:
                self.strip.clear_error()
            self._error = None
        listed = result.value
        page = listed.page
        rows = list(page.rows)
        full = len(rows) >= self._page_size
        keep = self._selection_ids()
        if ask.mode is _Mode.APPEND:
            self._thumbnails.add(listed.thumbnails)
            self.model.camera_names.update(listed.camera_names)
            self.model.append(rows)
            self._has_more = full
        elif ask.mode is _Mode.REPLACE:
            self._thumbnails.keep_only(_snapshot_paths(rows))
            self._thumbnails.add(listed.thumbnails)
            self.model.camera_names.update(listed.camera_names)
            self.model.set_rows(rows)
            self._rows_view = ask.view
            self._has_more = full
        else:
            self._thumbnails.add(listed.thumbnails)
            self.model.camera_names.update(listed.camera_names)
            head = self._head_count(rows, full)
            kept_below = self.model.rowCount() - head
            self.model.replace_head(head, rows)
            self._has_more = self._has_more if kept_below else full
        if ask.mode is not _Mode.APPEND:
            self._gate = page.gate
            if ask.mode is _Mode.REPLACE:
                self._shown = self._hidden = self._snoozed = None
            self._submit_counts(ask.view)
        self._restore_selection(*keep)
        self._update_filter_text()
        self._update_status()
        self.sig_page_loaded.emit(self.model.rowCount())

    def _on_row_loaded(self, result: QueryResult[Any]) -> None:
        ask = next((a for a in self._row_asks.values() if a.request is result.request), None)
        if ask is None:
            return
        del self._row_asks[ask.alert_id]
        if ask.view != self._view or self._rows_view != self._view:
            return
        if result.error is not None or not isinstance(result.value, AlertListPage):
            self._show_error(
                f"could not reload alert {ask.alert_id}: {printable(str(result.error))}"
            )
            return
        listed = result.value
        self._thumbnails.add(listed.thumbnails)
        self.model.camera_names.update(listed.camera_names)
        found = next((r for r in listed.page.rows if r.alert_id == ask.alert_id), None)
        keep = self._selection_ids()
        self.model.replace_alert(ask.alert_id, found)
        self._restore_selection(*keep)
        self._update_status()

    def _on_acknowledged(self, alert_id: int, result: QueryResult[Any]) -> None:
        if not shiboken6.isValid(self):
            return
        self._acknowledging.discard(alert_id)
        self._update_controls()
        if result.error is not None:
            self._action_failed(
                f"Could not acknowledge alert {alert_id}: {printable(str(result.error))}"
            )
            return
        self.strip.show_status(f"Alert {alert_id} acknowledged.")
        self._reload_alert(alert_id)
        self.on_alerts_changed()  # the counts of an "open only" view change

    def _on_labelled(
        self, alert_id: int, sequence_id: int, label: str | None, result: QueryResult[Any]
    ) -> None:
        if not shiboken6.isValid(self):
            return
        self._labelling.discard(sequence_id)
        self._update_controls()
        if result.error is not None:
            self._action_failed(
                f"Could not label sequence {sequence_id}: {printable(str(result.error))}"
            )
            return
        done = f"labelled {label_text(label).lower()}" if label else "label cleared"
        self.strip.show_status(f"Sequence {sequence_id} {done}.")
        self._reload_alert(result.value if isinstance(result.value, int) else alert_id)

    def _on_clip_found(self, sequence: SequenceView, result: QueryResult[Any]) -> None:
        if not shiboken6.isValid(self):
            return
        self._clip_lookups -= 1
        self._update_busy()
        if result.error is not None:
            self._action_failed(
                f"Could not look up the clip of sequence {sequence.sequence_id}: "
                f"{printable(str(result.error))}"
            )
            return
        if result.value is None:
            self.strip.show_status(NO_CLIP_TEXT)
            return
        if isinstance(result.value, ClipPending):  # never "none" while one is on its way
            self.strip.show_status(clip_pending_text(result.value.ready_in_s))
            return
        path = str(result.value)
        self.strip.show_status(f"Playing {Path(path).name}")
        self.sig_clip_requested.emit(path)

    # -- helpers ---------------------------------------------------------------------------

    def _view_from_controls(self) -> AlertListView:
        day = None
        if self.day_mode_combo.currentData():
            chosen = self.day_edit.date()
            day = date(chosen.year(), chosen.month(), chosen.day())
        return AlertListView(
            day=day,
            override=self.override_combo.currentData(),
            open_only=self.open_only_box.isChecked(),
        )

    def _run_view(self, view: AlertListView) -> None:
        self._live_timer.stop()
        if view != self._view:
            self._row_asks.clear()  # reloads of another view's rows
        self._view = view
        # Either way the rows shown stay until the answer arrives.
        self._submit_page(view, self._reload_mode(view), None)

    def _reload_mode(self, view: AlertListView) -> _Mode:
        """The same view again (Refresh, alert events) reloads its newest page and keeps the
        older rows loaded; another view starts over."""
        same = view == self._rows_view and self.model.rowCount() > 0
        return _Mode.HEAD if same else _Mode.REPLACE

    def _submit_counts(self, view: AlertListView) -> None:
        """Count the view's alerts, shown and hidden (a one-row page with counts), on a
        channel of its own: a newer count supersedes it, a page never waits for it."""
        request: CallRequest[AlertListPage] = CallRequest(
            partial(self._actions.page, view, None, 1, True), name=f"alerts counted {view}"
        )
        self._counts_ask = (view, request)
        self._client.submit(f"{self._channel}.counts", request, self._on_counts_loaded)

    def _on_counts_loaded(self, result: QueryResult[Any]) -> None:
        ask = self._counts_ask
        if ask is None or result.request is not ask[1]:
            return
        self._counts_ask = None
        if ask[0] != self._view:
            return
        if result.error is not None or not isinstance(result.value, AlertListPage):
            self._show_error(f"could not count the alerts: {printable(str(result.error))}")
            return
        page = result.value.page
        self._shown, self._hidden, self._snoozed = page.shown, page.hidden, page.snoozed
        self._update_filter_text()
        self._update_status()
        self.sig_counts_loaded.emit(page.shown or 0, page.hidden or 0)

    def _submit_page(self, view: AlertListView, mode: _Mode, before: _Cursor | None) -> None:
        # One channel for every page: a new view or a reload supersedes a page underway.
        request: CallRequest[AlertListPage] = CallRequest(
            partial(self._actions.page, view, before, self._page_size, False),
            name=f"alerts page {mode.name.lower()} {view} before {before}",
        )
        self._page_ask = _PageAsk(view, mode, before, request)
        self._client.submit(f"{self._channel}.list", request, self._on_page_loaded)
        self._update_status()

    def _reload_alert(self, alert_id: int) -> None:
        """Re-read one listed alert (after a label or an acknowledgement): the page of one
        row starting at it, so a row deep in the list is updated in place."""
        row = self.model.row_of(alert_id)
        alert = self.model.alert_at(row) if row is not None else None
        if alert is None or self._rows_view != self._view:
            return
        # Keyset "before (raised_at, id + 1)": the alert itself comes first if it still
        # belongs to the view.
        before = (alert.raised_at, alert.alert_id + 1)
        request: CallRequest[AlertListPage] = CallRequest(
            partial(self._actions.page, self._view, before, 1, False),
            name=f"alert {alert_id} reloaded",
        )
        self._row_asks[alert_id] = _RowAsk(self._view, alert_id, request)
        self._client.submit(f"{self._channel}.row.{alert_id}", request, self._on_row_loaded)

    def _head_count(self, rows: Sequence[AlertRow], full: bool) -> int:
        """How many listed rows a reloaded newest page replaces: all of them unless the
        page is full, else those at or above its last row (older rows stay)."""
        if not full or not rows:
            return self.model.rowCount()
        last = rows[-1].cursor
        alerts = self.model.alerts()
        return next((i for i, row in enumerate(alerts) if row.cursor < last), len(alerts))

    def _selection_ids(self) -> tuple[int | None, int | None]:
        alert = self.selected_alert()
        return (None if alert is None else alert.alert_id), self._selected_sequence_id

    def _restore_selection(self, alert_id: int | None, sequence_id: int | None) -> None:
        """Select the same alert and sequence again after the rows changed (if listed)."""
        row = None if alert_id is None else self.model.row_of(alert_id)
        if row is None:
            if alert_id is not None:  # it left the view
                self.table.selectionModel().clearSelection()
                self.table.setCurrentIndex(QModelIndex())
            self._show_sequences(self.selected_alert())
            return
        if self.table.currentIndex().row() != row or not self.table.selectionModel().isRowSelected(
            row, QModelIndex()
        ):
            self.table.selectRow(row)
        self._show_sequences(self.model.alert_at(row), sequence_id)

    def _show_sequences(self, alert: AlertRow | None, sequence_id: int | None = None) -> None:
        if sequence_id is None:
            sequence_id = self._selected_sequence_id
        self.sequence_model.set_rows(alert.sequences if alert is not None else ())
        if alert is None:
            self.details_label.setText("Select an alert to see its sequences")
        else:
            count = len(alert.sequences)
            self.details_label.setText(
                f"Alert {alert.alert_id}: {count} sequence{'s' if count != 1 else ''} shown"
            )
        rows = self.sequence_model.sequences()
        at = next((i for i, s in enumerate(rows) if s.sequence_id == sequence_id), None)
        if at is None and len(rows) == 1:
            at = 0  # one sequence: it is the one to label or play
        if at is not None:
            self.sequence_table.selectRow(at)
        else:
            self._selected_sequence_id = None
        self._update_controls()

    def _find_clip(self, sequence: SequenceView) -> bool:
        self._begin_action(f"Looking up the clip of sequence {sequence.sequence_id}…")
        self._clip_lookups += 1
        self._update_busy()
        self._client.submit_action(
            f"{self._channel}.clip",
            partial(self._actions.clip_for, sequence),
            partial(self._on_clip_found, sequence),
            name=f"clip of sequence {sequence.sequence_id}",
        )
        return True

    def _update_filter_text(self) -> None:
        gate = self._gate
        if gate is None:
            self.filter_label.setText("")
            self.filter_label.setStyleSheet("")
            return
        self.filter_label.setText(filter_summary(gate, self._shown, self._hidden, self._snoozed))
        self.filter_label.setStyleSheet(_FAIL_OPEN_STYLE if is_fail_open(gate) else "")
        where = printable(gate.describe())  # where the risk levels come from, for who asks
        self.filter_label.setToolTip(
            f"No risk levels are known for this view, so nothing is hidden ({where})"
            if is_fail_open(gate)
            else "On a quiet (low-risk) day, alerts the detector was less sure of are hidden: "
            f"below 0.45 on low-risk cameras, 0.60 on very-low-risk ones ({where})"
        )

    def _update_status(self) -> None:
        rows = self.model.rowCount()
        ask = self._page_ask
        self.load_more_button.setEnabled(ask is None and self._has_more and rows > 0)
        if ask is not None and (ask.mode is _Mode.REPLACE or rows == 0):
            text = LOADING_TEXT
        elif rows == 0:
            # Why nothing is listed the strip says in red.
            text = "No alerts in this view" if self._error is None else NOT_LISTED_TEXT
        else:
            text = f"{rows} alert{'s' if rows != 1 else ''} listed"
            if self._shown is not None and self._shown != rows:
                text += f" of {self._shown}"
            if ask is not None:
                text += ", loading older…" if ask.mode is _Mode.APPEND else ", refreshing…"
            elif self._has_more:
                text += " (newest first; scroll or Load more for older ones)"
        self.status_label.setText(text)

    def _update_controls(self) -> None:
        self._update_busy()
        alert = self.selected_alert()
        acknowledging = alert is not None and alert.alert_id in self._acknowledging
        self.acknowledge_button.setEnabled(
            self._acknowledge_allowed and alert is not None and alert.open and not acknowledging
        )
        self.acknowledge_button.setText("Closing…" if acknowledging else "Close")
        if not self._acknowledge_allowed:
            self.acknowledge_button.setToolTip(self._ack_why_not)
        elif alert is not None and not alert.open:
            self.acknowledge_button.setToolTip("This alert is closed")
        else:
            self.acknowledge_button.setToolTip(
                "Close the selected alert (to close it with a comment, use the Alerts pane)"
            )
        sequence = self.selected_sequence()
        can_label = (
            self._label_allowed
            and sequence is not None
            and sequence.sequence_id not in self._labelling
        )
        has_label = sequence is not None and sequence.label is not None
        for button, label in (
            (self.true_alarm_button, TRUE_ALARM),
            (self.false_alarm_button, FALSE_ALARM),
            (self.clear_label_button, None),
        ):
            button.setEnabled(can_label and (label is not None or has_label))
            if not self._label_allowed:
                button.setToolTip(self._label_why_not)
            elif label is None:
                button.setToolTip("Remove the selected sequence's label")
            else:
                button.setToolTip(f"Label the selected sequence a {label_text(label).lower()}")
        self.play_clip_button.setEnabled(sequence is not None)

    def _update_busy(self) -> None:
        self.strip.set_busy(self.is_busy())

    def _begin_action(self, what: str) -> None:
        """Say ``what`` starts; new work (nothing running) clears the last refusals."""
        if not self.is_busy():
            self.strip.clear_error()
        self.strip.show_status(what)

    def _action_failed(self, text: str) -> None:
        """Add an action's refusal to the red line, under those of the work running with it."""
        self.strip.show_status("")
        self.strip.add_error(text)
        self.sig_action_failed.emit(text)

    def _show_error(self, message: str) -> None:
        """Show what could not be read in red."""
        self.strip.show_error(message)


def _set_up_table(table: QTableView) -> None:
    """Whole rows, read only, one fixed row height with room for a thumbnail, smooth
    (per-pixel) scrolling."""
    show_rows_read_only(table)
    table.setIconSize(THUMBNAIL_SIZE)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    rows = table.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(ROW_HEIGHT)
    table.horizontalHeader().setHighlightSections(False)


def _best_sequence(alert: AlertRow) -> SequenceView | None:
    """The sequence an alert's double-click plays: its most confident one."""
    return max(
        alert.sequences,
        key=lambda s: -1.0 if s.max_conf is None else s.max_conf,
        default=None,
    )
