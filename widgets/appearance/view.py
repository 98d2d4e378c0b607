"""The Appearance search pane: type a description ("red top", "dark jacket and jeans") or
ask "Find similar" on a person, a track's event or a result, and get ranked thumbnails of
tracks with their time (site time) and camera. Double-clicking one (or "Open in replay")
emits :attr:`AppearanceSearchPane.sig_hit_activated`; the console replays that moment.

It ranks; it never says two tracks are one person. Reads go through the query client
(latest request wins); thumbnails are read on a query worker as ``QImage`` and made
pixmaps here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.history.appearance import (
    AppearanceHit,
    AppearanceResults,
    AppearanceSearchRequest,
    LoadAppearanceIndex,
    PersonAppearanceRequest,
    SimilarTracksRequest,
)
from engine.history.query_service import CallRequest, QueryResult
from engine.sitetime import display
from widgets.appearance.api import caption, tooltip
from widgets.people.view import draw_placeholder_thumbnail, load_thumbnail_images
from widgets.queries import QueryClient

THUMB = QSize(104, 150)  # every thumbnail is centred in a frame this size: an even grid
CELL = QSize(150, 236)
HIT_ROLE = Qt.ItemDataRole.UserRole + 1
RESULTS = 40
SEARCH_CHANNEL = "appearance.search"
THUMBNAIL_CHANNEL = "appearance.thumbnails"
LOOKUP_CHANNEL = "appearance.lookup"


def framed(image: QImage) -> QPixmap:
    """``image`` centred in a transparent :data:`THUMB` frame, so that every result takes
    the same room and its caption the same width (GUI thread: it makes a pixmap)."""
    pixmap = QPixmap(THUMB)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        x = (THUMB.width() - image.width()) // 2
        y = (THUMB.height() - image.height()) // 2
        painter.drawImage(max(x, 0), max(y, 0), image)
    finally:
        painter.end()
    return pixmap


class AppearanceSearchPane(QWidget):
    """Search box, status line, and the ranked results as a grid of thumbnails."""

    sig_hit_activated = Signal(object)
    """An :class:`AppearanceHit` was double-clicked or "Open in replay" chosen."""

    sig_results_shown = Signal(int)
    """A search's results are listed (how many), or 0 with the reason in the status."""

    def __init__(
        self, queries: QueryClient, media_root: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._queries = queries
        self._media_root = media_root
        self._hits: list[AppearanceHit] = []
        self._placeholder = framed(draw_placeholder_thumbnail(THUMB.width() - 24).toImage())
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Describe clothes: red top, dark jacket and jeans…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.returnPressed.connect(self._on_search_requested)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self._on_search_requested)
        self.status_label = QLabel(
            "Describe what someone wore, or right-click a person → Find similar."
        )
        self.status_label.setWordWrap(True)
        self.results = QListWidget()
        self.results.setViewMode(QListView.ViewMode.IconMode)
        self.results.setIconSize(THUMB)
        self.results.setGridSize(CELL)
        self.results.setResizeMode(QListView.ResizeMode.Adjust)
        self.results.setMovement(QListView.Movement.Static)
        self.results.setWordWrap(True)
        self.results.setUniformItemSizes(True)
        self.results.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.results.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.results.itemActivated.connect(self._on_item_activated)
        self.results.itemDoubleClicked.connect(self._on_item_activated)
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.search_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(self.results, 1)

    # -- what others call ------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the search's index now (on a worker), so the first search is quick."""

        def loaded(result: QueryResult[Any]) -> None:
            if result.error is not None or not isinstance(result.value, int) or self._hits:
                return
            self.status_label.setText(
                f"{result.value} tracks can be searched. Describe what someone wore, or "
                "right-click a person → Find similar."
                if result.value
                else "No tracks recorded yet: how a person looked is kept when they leave the view."
            )

        self._queries.submit(LOOKUP_CHANNEL + ".index", LoadAppearanceIndex(), loaded)

    @property
    def hits(self) -> list[AppearanceHit]:
        return list(self._hits)

    def search(self, text: str) -> None:
        """Rank every camera's tracks against ``text``."""
        self.search_edit.setText(text)
        self._submit(AppearanceSearchRequest(text.strip(), limit=RESULTS), f"“{text.strip()}”")

    def find_similar(self, appearance_id: int, label: str = "this track") -> None:
        """Rank every camera's tracks by how much they look like a stored appearance."""
        self._submit(SimilarTracksRequest(appearance_id=appearance_id, limit=RESULTS), label)

    def find_similar_to_track(self, camera: str, track_id: int) -> None:
        """ "Find similar" for a track of a camera (an event row)."""
        self._submit(
            SimilarTracksRequest(track_id=track_id, camera=camera, limit=RESULTS),
            f"track {track_id} on {camera}",
        )

    def find_similar_to_person(self, public_id: str, label: str) -> None:
        """ "Find similar" for a known person: their most recent track that has a record."""
        self.status_label.setText(f"Looking for {label}'s latest track…")

        def found(result: QueryResult[Any]) -> None:
            if result.error is not None:
                self._show_failure(result.error)
            elif result.value is None:
                self._show_nothing(f"No appearance is recorded for {label} yet.")
            else:
                self.find_similar(int(result.value), label)

        self._queries.submit(LOOKUP_CHANNEL, PersonAppearanceRequest(public_id), found)

    # -- internals -------------------------------------------------------------------------
    def _submit(self, request: Any, label: str) -> None:
        self.status_label.setText(f"Searching {label}…")
        self.search_button.setEnabled(False)
        self._queries.submit(SEARCH_CHANNEL, request, self._on_results_read)

    def _on_search_requested(self) -> None:
        text = self.search_edit.text().strip()
        if text:
            self.search(text)

    def _on_results_read(self, result: QueryResult[Any]) -> None:
        self.search_button.setEnabled(True)
        if result.error is not None or not isinstance(result.value, AppearanceResults):
            self._show_failure(result.error)
            return
        found: AppearanceResults = result.value
        zone = display()
        self._hits = list(found.hits)
        self.results.clear()
        for rank, hit in enumerate(found.hits, 1):
            item = QListWidgetItem(QPixmap(self._placeholder), caption(rank, hit, zone))
            item.setToolTip(tooltip(hit, zone))
            item.setData(HIT_ROLE, hit)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.results.addItem(item)
        who = found.understood
        if found.hits:
            self.status_label.setText(
                f"{len(found.hits)} best of {found.searched} tracks — {who}. Times in "
                f"{zone.name}. A ranking, not an identification: check in replay."
            )
            self._load_thumbnails(found.hits)
        else:
            self._show_nothing(f"No one found — {who} ({found.searched} tracks compared).")
        self.sig_results_shown.emit(len(found.hits))

    def _show_nothing(self, text: str) -> None:
        self._hits = []
        self.results.clear()
        self.status_label.setText(text)
        self.search_button.setEnabled(True)
        self.sig_results_shown.emit(0)

    def _show_failure(self, error: BaseException | None) -> None:
        self._show_nothing(str(error) if error is not None else "The search failed.")

    def _load_thumbnails(self, hits: tuple[AppearanceHit, ...]) -> None:
        paths = sorted({hit.snapshot for hit in hits if hit.snapshot})
        if not paths:
            return
        root, box = self._media_root, QSize(THUMB)

        def shown(result: QueryResult[Any]) -> None:
            images: dict[str, QImage | None] = result.value or {}
            for row in range(self.results.count()):
                item = self.results.item(row)
                hit = item.data(HIT_ROLE)
                image = images.get(hit.snapshot) if hit.snapshot else None
                if image is not None:
                    item.setIcon(framed(image))

        load: Callable[[], dict[str, QImage | None]] = lambda: load_thumbnail_images(  # noqa: E731
            root, paths, box
        )
        self._queries.submit(THUMBNAIL_CHANNEL, CallRequest(load, "appearance thumbnails"), shown)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        hit = item.data(HIT_ROLE)
        if isinstance(hit, AppearanceHit):
            self.sig_hit_activated.emit(hit)

    def _on_context_menu_requested(self, position: QPoint) -> None:
        item = self.results.itemAt(position)
        if item is None:
            return
        hit = item.data(HIT_ROLE)
        if not isinstance(hit, AppearanceHit):
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Open in replay", lambda: self.sig_hit_activated.emit(hit))
        menu.addAction(
            "Find similar",
            lambda: self.find_similar(
                hit.appearance_id, f"track {hit.track_id} on {hit.camera_name}"
            ),
        )
        menu.popup(self.results.viewport().mapToGlobal(position))
