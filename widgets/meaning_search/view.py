"""The "Search reports" pane: find incident reports, bookmarks' notes and event summaries by
what they mean ("someone collapsed" finds "Man fell down on the stairs"), exact words still
first.

One line of text and a choice of kind (everything, incident reports, bookmarks, events); the
search runs as one types, once typing pauses, through the query client (the engine's frozen
:class:`~engine.text_search.search.MeaningSearchRequest`; the newest request wins). Each
result shows its time (site time), its kind and id (an incident's id for a report), how
close it is and its text; double-clicking one emits :attr:`MeaningSearchPane.sig_hit_activated`
(the console replays that moment and shows the incident). Everything here runs on the GUI
thread; the pane never touches the store.
"""

from __future__ import annotations

from typing import Any, Final

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.history.query_service import QueryResult
from engine.sitetime import display
from engine.text_search.search import MeaningSearchRequest, SearchAnswer, TextHit
from widgets.meaning_search.api import KIND_CHOICES, hit_label
from widgets.queries import QueryClient

SEARCH_CHANNEL: Final = "meaning.search"
SEARCH_DELAY_MS: Final = 300  # search once typing pauses
RESULTS: Final = 50
HIT_ROLE: Final = Qt.ItemDataRole.UserRole + 1


class MeaningSearchPane(QWidget):
    """Meaning search over reports, bookmarks and events (see the module)."""

    sig_hit_activated = Signal(object)
    """A result (:class:`~engine.text_search.search.TextHit`) was double-clicked or
    entered: show it. GUI thread."""

    sig_results_shown = Signal(int)
    """A search's results are listed (how many; 0: nothing found or it failed). GUI
    thread."""

    def __init__(self, client: QueryClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._hits: list[TextHit] = []
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(
            "Describe what happened (e.g. someone collapsed, van at the gate)"
        )
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._on_search_text_changed)
        self.search_edit.returnPressed.connect(self.search)
        self.kind_box = QComboBox(self)
        for label, kinds in KIND_CHOICES:
            self.kind_box.addItem(label, kinds)
        self.kind_box.currentIndexChanged.connect(self._on_kind_changed)
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.kind_box)
        self.result_list = QTreeWidget(self)
        self.result_list.setHeaderLabels(["Time", "What", "Match", "Text"])
        self.result_list.setRootIsDecorated(False)
        self.result_list.setUniformRowHeights(True)
        self.result_list.setWordWrap(False)
        self.result_list.itemActivated.connect(self._on_item_activated)
        self.status_label = QLabel("Type what you are looking for.", self)
        self.status_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.result_list, 1)
        layout.addWidget(self.status_label)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search)

    @property
    def hits(self) -> list[TextHit]:
        return list(self._hits)

    def search(self, text: str | None = None) -> None:
        """Search for ``text`` (default: what the box holds) on a query worker."""
        self._timer.stop()
        if text is not None and text != self.search_edit.text():
            self.search_edit.blockSignals(True)
            self.search_edit.setText(text)
            self.search_edit.blockSignals(False)
        query = self.search_edit.text().strip()
        if not query:
            self._show([], "Type what you are looking for.")
            return
        kinds = tuple(self.kind_box.currentData())
        self.status_label.setText("Searching…")
        self._client.submit(
            SEARCH_CHANNEL,
            MeaningSearchRequest(query, kinds=kinds, limit=RESULTS),
            self._on_results_read,
        )

    def _on_search_text_changed(self, _text: str) -> None:
        self._timer.start()

    def _on_kind_changed(self, _index: int) -> None:
        if self.search_edit.text().strip():
            self.search()

    def _on_results_read(self, result: QueryResult[Any]) -> None:
        if not result.ok or not isinstance(result.value, SearchAnswer):
            self._show([], f"Search failed: {result.error}")
            return
        answer = result.value
        waiting = (
            f" {answer.pending:,} more are still being indexed; search again soon."
            if answer.pending
            else ""
        )
        if not answer.hits:
            self._show([], f"Nothing found among {answer.searched:,} texts.{waiting}")
            return
        self._show(
            list(answer.hits),
            f"{len(answer.hits)} closest of {answer.searched:,} texts "
            f"({answer.total_ms:.0f} ms). Double-click one to show it.{waiting}",
        )

    def _show(self, hits: list[TextHit], status: str) -> None:
        self._hits = hits
        self.result_list.clear()
        zone = display()
        for hit in hits:
            text = " ".join(hit.text.split())
            item = QTreeWidgetItem(
                [zone.full_minutes(hit.at), hit_label(hit), f"{hit.score:.2f}", text]
            )
            item.setData(0, HIT_ROLE, hit)
            item.setToolTip(3, hit.text)
            self.result_list.addTopLevelItem(item)
        for column in range(3):  # time, kind and id, match: whole; the text takes the rest
            self.result_list.resizeColumnToContents(column)
        self.status_label.setText(status)
        self.sig_results_shown.emit(len(hits))

    def _on_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        hit = item.data(0, HIT_ROLE)
        if isinstance(hit, TextHit):
            self.sig_hit_activated.emit(hit)
