"""The Activity pane: one row per camera and sensing room with what it saw in the last
hour (people, recognised people, gestures, falls, sensed people) and when the last of it
happened, in site time. People are counted as people, in words that say how ("at most 4 at
once (23 tracks)", "3 known (5 tracks)"), never as tracks. Quiet sources stay listed, so a
camera that has seen nothing for an hour is as visible as a busy one. It reads the newest
page of the history once, then counts the events the store writer announces (a track's
departure too); the window slides, and the tracks begun within the departure lag settle
(:mod:`engine.history.departures`), every few seconds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from engine.history.query_service import QueryResult
from engine.sitetime import display
from widgets.action_strip import error_text, show_as_error
from widgets.activity.api import (
    CATEGORIES,
    TRACK_ROW_KINDS,
    WINDOW,
    ActivityRow,
    ActivityTally,
    StoredEvent,
)
from widgets.table_model import RowsTableModel, show_rows_read_only

# The window moves on this often without new events; well within the departure lag (10 s),
# so a track begun within it is counted with the others soon after the lag has passed.
SLIDE_MS = 5_000
HEADERS = ("Where", *(title for title, _kinds in CATEGORIES), "Last event")
PEOPLE_TIP = (
    "People, not tracks: the people known by face or device when everyone was, else the "
    "most present at once. One person who leaves the view and comes back is a new track."
)


class ActivityModel(RowsTableModel[ActivityRow]):
    def __init__(self) -> None:
        super().__init__(HEADERS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row, column = self.row(index), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return row.name
            if column <= len(CATEGORIES):
                count = row.counts[column - 1]
                words = row.words(column - 1)
                return f"≥ {words}" if row.at_least and count else words
            return display().short(row.last) if row.last is not None else "nothing this hour"
        if role == Qt.ItemDataRole.TextAlignmentRole and 0 < column <= len(CATEGORIES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return row.key
        if role == Qt.ItemDataRole.ToolTipRole and column - 1 in row.people:
            return PEOPLE_TIP
        return None


class ActivityPane(QWidget):
    """``sources``: ``(key, name)`` of each camera (its id) and room (``sensing:<id>``);
    :meth:`set_sources` when the site's cameras change while the console runs."""

    def __init__(
        self,
        sources: Sequence[tuple[str, str]],
        now: Callable[[], datetime],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._now = now
        self.tally = ActivityTally(sources)
        self._sources = list(sources)  # listed in this order, even when quiet
        self._names = dict(sources)  # every name met: a removed camera's rows keep its last
        self._gone: set[str] = set()  # sources removed while the console runs
        self._reached: datetime | None = None  # how far back the history read is complete
        self.heading = QLabel(f"The last {int(WINDOW.total_seconds() // 60)} minutes")
        self.heading.setObjectName("activity-heading")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.model = ActivityModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        show_rows_read_only(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        self._slide = QTimer(self)
        self._slide.setInterval(SLIDE_MS)
        self._slide.timeout.connect(self.show_counts)
        self._slide.start()
        self.show_counts()

    def on_history_read(self, result: QueryResult[Any]) -> None:
        """The newest page of the history (an ``EventPage``): counted as far back as it
        reaches (it may not cover the whole hour on a busy site: the counts say "≥")."""
        page = result.value
        if result.error is not None or page is None:
            self.error_label.setText(f"Cannot read the history: {error_text(result.error)}")
            show_as_error(self.error_label)
            self.error_label.show()
            return
        rows: Sequence[StoredEvent] = page.rows
        reached = rows[-1].ts if rows and page.next_cursor is not None else None
        self._reached = reached
        self.tally.load(rows, reached)
        self.show_counts()

    def set_sources(self, sources: Sequence[tuple[str, str]]) -> None:
        """The site's cameras changed while the console runs (added, removed, renamed):
        an added camera is listed (quiet until its events come), a renamed one by its new
        name; a removed camera stays, under its last name, while it has events in the
        window. GUI thread, memory only."""
        keys = {key for key, _name in sources}
        self._gone = (self._gone | {key for key, _name in self._sources}) - keys
        self._sources = list(sources)
        self._names.update(sources)
        self.show_counts()

    def on_events_stored(self, events: Sequence[StoredEvent]) -> None:
        """Events the store writer committed (GUI thread)."""
        counted = self.tally.add(events)
        if counted or any(event.kind in TRACK_ROW_KINDS for event in events):
            self.show_counts()  # a departure changes who is present, though no column counts it

    def rows(self) -> list[ActivityRow]:
        return [self.model.row(i) for i in range(self.model.rowCount())]

    def show_counts(self) -> None:
        now = self._now()
        counted = {row.key: row for row in self.tally.rows(now)}
        # As the tally says it: the history read at start may not reach back a whole window.
        at_least = self._reached is not None and self._reached > now - WINDOW
        quiet = (0,) * len(CATEGORIES)
        rows = [
            replace(counted.pop(key), name=name)
            if key in counted
            else ActivityRow(key, name, quiet, None, at_least)
            for key, name in self._sources
        ]
        rows.extend(
            replace(row, name=self._names.get(row.key, row.name))
            for row in counted.values()
            if row.key not in self._gone or row.last is not None
        )
        self.model.set_rows(rows)
