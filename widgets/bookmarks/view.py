"""The "Bookmarks" pane: moments an investigator marked, searchable, and the evidence locks
that keep ranges from retention.

The upper list shows bookmarks newest first (the moment, its title, its camera or room or
"site", the padded range, the author); the search box filters them by title and note as
one types. "New bookmark" opens a small form under the list: title, note, the moment (the
timeline's cursor when the console sets it), how many seconds before and after matter, and
the source. Activating a bookmark emits :attr:`BookmarksPane.sig_bookmark_activated` (the
console jumps the timeline there). With a bookmark selected, "Lock…" keeps its range from
retention (a reason is required), "Export…" asks the console to open the export dialog on
its range and source, and "Remove" deletes it (its author or an admin).

The lower list shows evidence locks (active ones first; "Show released" adds the others):
the range, the sources, the reason, who locked it and when, how many recordings it keeps;
"Unlock" needs a reason too. Every change is checked and audited by the engine; what was
done, refusals and errors are shown in the pane's :class:`~widgets.action_strip.ActionStrip`
(refusals in the theme's red).

The pane reads through a :class:`~widgets.queries.QueryClient` (the engine's frozen
:class:`BookmarkListRequest` and :class:`EvidenceLockListRequest`) and writes through a
:class:`BookmarkActions` object the console gives it, one change at a time through the
shared :class:`~widgets.action_strip.ActionRunner` on query workers (the change buttons wait
meanwhile). Every method here runs on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.bookmarks import BookmarkListRequest, BookmarkView
from engine.history.locks import EvidenceLockListRequest, LockView
from engine.history.query_service import QueryResult
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import ActionRunner, ActionStrip, error_text
from widgets.bookmarks.api import BookmarkActions, NewBookmark
from widgets.queries import QueryClient
from widgets.site_clock import from_qdatetime, qt_zone, to_qdatetime

SEARCH_DELAY_MS: Final = 250  # search as one types, once typing pauses
DATETIME_FORMAT: Final = "yyyy-MM-dd HH:mm:ss"
SITE: Final = "site"


def source_text(
    camera: str | None, room: str | None, names: Mapping[str, str] | None = None
) -> str:
    """A bookmark's or lock's source as the lists show it, the camera or room by its name
    in ``names`` (camera keys and room ids to names) where it has one."""
    names = names or {}
    if camera is not None:
        return f"camera {printable(names.get(camera, camera))}"
    if room is not None:
        return f"room {printable(names.get(room, room))}"
    return SITE


def range_text(start: datetime, end: datetime) -> str:
    """A range in site time, the second date left out when it is the same (site) day."""
    site = display()
    tail = site.clock(end) if site.day_of(start) == site.day_of(end) else site.full(end)
    return f"{site.full(start)}–{tail}"


def lock_state_text(lock: LockView) -> str:
    if lock.active:
        return f"active, keeps {lock.media_locked} recordings"
    when = f" {display().full_minutes(lock.released_at)}" if lock.released_at else ""
    return f"released by {lock.released_by}{when}"


class BookmarksPane(QWidget):
    """Bookmarks and evidence locks. See the module docstring."""

    sig_bookmark_activated = Signal(object)
    """A bookmark was activated (a :class:`BookmarkView`): show its moment. GUI thread."""

    sig_export_requested = Signal(object)
    """Export the selected bookmark's range and source (a :class:`BookmarkView`). GUI
    thread."""

    sig_bookmarks_changed = Signal()
    """A bookmark was added or removed, or a lock made or released (the timeline redraws
    its bookmark lane). GUI thread."""

    def __init__(
        self,
        client: QueryClient,
        actions: BookmarkActions,
        *,
        cameras: Sequence[tuple[str, str]] = (),
        rooms: Sequence[tuple[str, str]] = (),
        now: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self._names = {**dict(cameras), **dict(rooms)}  # camera keys and room ids → names
        self._bookmarks: list[BookmarkView] = []
        self._locks: list[LockView] = []
        self._may_change = False
        self._may_lock = False
        self._unread: set[str] = set()  # the lists whose last read failed

        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Search titles and notes")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._on_search_text_changed)
        self.new_button = QPushButton("New bookmark", self)
        self.new_button.setCheckable(True)
        self.new_button.toggled.connect(self._on_new_toggled)
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.new_button)

        self.bookmark_list = _tree(self, ["Moment", "Title", "Source", "Range", "Author"])
        self.bookmark_list.itemActivated.connect(self._on_bookmark_item_activated)
        self.bookmark_list.currentItemChanged.connect(self._on_selection_changed)

        self.form = QWidget(self)
        self.title_edit = QLineEdit(self.form)
        self.title_edit.setMaxLength(200)
        self.note_edit = QLineEdit(self.form)
        self.moment_edit = QDateTimeEdit(self.form)
        self.moment_edit.setTimeZone(qt_zone())  # typed on the site's clock
        self.moment_edit.setDisplayFormat(DATETIME_FORMAT)
        self.pre_spin = _seconds(self.form, 10.0)
        self.post_spin = _seconds(self.form, 20.0)
        self.source_combo = QComboBox(self.form)
        self._rooms = list(rooms)
        self._offer_sources(cameras)
        self.add_button = QPushButton("Add bookmark", self.form)
        self.add_button.clicked.connect(self.add_bookmark)
        form = QFormLayout(self.form)
        form.addRow("Title", self.title_edit)
        form.addRow("Note", self.note_edit)
        form.addRow("Moment", self.moment_edit)
        padding = QHBoxLayout()
        padding.addWidget(QLabel("before", self.form))
        padding.addWidget(self.pre_spin)
        padding.addWidget(QLabel("after", self.form))
        padding.addWidget(self.post_spin)
        form.addRow("Keep (s)", padding)
        form.addRow("Source", self.source_combo)
        form.addRow(self.add_button)
        self.form.setVisible(False)

        self.lock_reason_edit = QLineEdit(self)
        self.lock_reason_edit.setPlaceholderText("reason to lock or unlock (required)")
        self.lock_button = QPushButton("Lock…", self)
        self.lock_button.setToolTip("Keep the selected bookmark's range from retention")
        self.lock_button.clicked.connect(self.lock_selected)
        self.export_button = QPushButton("Export…", self)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_selected)
        actions_row = QHBoxLayout()
        actions_row.addWidget(self.lock_reason_edit, 1)
        actions_row.addWidget(self.lock_button)
        actions_row.addWidget(self.export_button)
        actions_row.addWidget(self.remove_button)

        self.show_released_box = QCheckBox("Show released", self)
        self.show_released_box.toggled.connect(self.refresh_locks)
        self.unlock_button = QPushButton("Unlock", self)
        self.unlock_button.clicked.connect(self.unlock_selected)
        locks_row = QHBoxLayout()
        locks_row.addWidget(QLabel("Evidence locks", self), 1)
        locks_row.addWidget(self.show_released_box)
        locks_row.addWidget(self.unlock_button)
        self.lock_list = _tree(self, ["Range", "Sources", "Reason", "By", "State"])
        self.lock_list.currentItemChanged.connect(self._on_selection_changed)

        self.strip = ActionStrip(self)
        self._runner = ActionRunner(
            client,
            self.strip,
            channel="bookmarks.change",
            update_controls=self._update_buttons,
            parent=self,
        )
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.bookmark_list, 2)
        layout.addWidget(self.form)
        layout.addLayout(actions_row)
        layout.addLayout(locks_row)
        layout.addWidget(self.lock_list, 1)
        layout.addWidget(self.strip)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh_bookmarks)
        self.set_moment(now() if now is not None else datetime.now(UTC))
        self._update_buttons()

    # -- public ------------------------------------------------------------------------

    @property
    def bookmarks(self) -> tuple[BookmarkView, ...]:
        return tuple(self._bookmarks)

    @property
    def locks(self) -> tuple[LockView, ...]:
        return tuple(self._locks)

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Bookmarking and locking as the person's roles allow; their lists read again."""
        if actor is None:
            self.set_permissions(bookmark=False, lock=False)
            return
        self.set_permissions(
            bookmark=actor.may(Permission.BOOKMARK), lock=actor.may(Permission.LOCK_EVIDENCE)
        )
        if actor.may(Permission.REPLAY):
            self.refresh()

    def set_permissions(self, *, bookmark: bool, lock: bool) -> None:
        """What the person signed in may do: add/remove bookmarks, lock/unlock evidence."""
        self._may_change, self._may_lock = bookmark, lock
        if not bookmark:
            self.new_button.setChecked(False)
        self._update_buttons()

    def set_cameras(self, cameras: Sequence[tuple[str, str]]) -> None:
        """The site's cameras changed while the console runs (added, removed, renamed): a
        new bookmark may be on an added camera, the lists name cameras by their names now,
        and a removed camera's bookmarks and locks keep its last name. A form on a removed
        camera goes back to the whole site. GUI thread, memory only."""
        self._names.update(cameras)
        self._offer_sources(cameras)
        self._show_bookmarks()
        self._show_locks()

    def set_moment(self, moment: datetime) -> None:
        """The moment a new bookmark marks (the console passes the timeline's cursor)."""
        self.moment_edit.setDateTime(to_qdatetime(moment))

    def refresh(self) -> None:
        """Reload both lists (on workers)."""
        self.refresh_bookmarks()
        self.refresh_locks()

    def refresh_bookmarks(self) -> None:
        text = self.search_edit.text().strip() or None
        self._client.submit(
            "bookmarks.list", BookmarkListRequest(text=text), self._on_bookmarks_loaded
        )

    def refresh_locks(self) -> None:
        request = EvidenceLockListRequest(active_only=not self.show_released_box.isChecked())
        self._client.submit("evidence.locks", request, self._on_locks_loaded)

    def add_bookmark(self) -> None:
        """Store the form's bookmark as the person signed in (on a worker)."""
        title = self.title_edit.text().strip()
        if not title:
            self._show_refusal("Title: give the bookmark a title")
            return
        camera, room = self.source_combo.currentData()
        bookmark = NewBookmark(
            title=title,
            note=self.note_edit.text().strip(),
            marked_at=from_qdatetime(self.moment_edit.dateTime()),
            pre_s=self.pre_spin.value(),
            post_s=self.post_spin.value(),
            camera=camera,
            room=room,
        )
        self._runner.run(
            f"Adding bookmark “{title}”…",
            partial(self._actions.add_bookmark, bookmark),
            self._on_bookmark_added,
            failure="Not added",
        )

    def remove_selected(self) -> None:
        bookmark = self.selected_bookmark()
        if bookmark is None:
            return
        self._runner.run(
            f"Removing bookmark “{bookmark.title}”…",
            partial(self._actions.remove_bookmark, bookmark.id),
            self._on_changed,
            failure="Refused",
            done=f"Removed bookmark “{bookmark.title}”",
        )

    def lock_selected(self) -> None:
        bookmark = self.selected_bookmark()
        if bookmark is None:
            return
        reason = self.lock_reason_edit.text().strip()
        if not reason:
            self._show_refusal("Reason: say why the range must be kept")
            return
        self._runner.run(
            f"Locking “{bookmark.title}”…",
            partial(self._actions.lock_bookmark, bookmark.id, reason),
            self._on_locked,
            failure="Refused",
        )

    def unlock_selected(self) -> None:
        lock = self.selected_lock()
        if lock is None or not lock.active:
            return
        reason = self.lock_reason_edit.text().strip()
        if not reason:
            self._show_refusal("Reason: say why the lock is released")
            return
        self._runner.run(
            f"Releasing evidence lock {lock.id}…",
            partial(self._actions.unlock, lock.id, reason),
            self._on_changed,
            failure="Refused",
            done=f"Released evidence lock {lock.id}",
        )

    def selected_bookmark(self) -> BookmarkView | None:
        item = self.bookmark_list.currentItem()
        value = None if item is None else item.data(0, Qt.ItemDataRole.UserRole)
        return value if isinstance(value, BookmarkView) else None

    def selected_lock(self) -> LockView | None:
        item = self.lock_list.currentItem()
        value = None if item is None else item.data(0, Qt.ItemDataRole.UserRole)
        return value if isinstance(value, LockView) else None

    # -- results -----------------------------------------------------------------------

    def _on_bookmarks_loaded(self, result: QueryResult[Any]) -> None:
        if not self._read("bookmarks", result):
            return
        self._bookmarks = list(result.value or ())
        self._show_bookmarks()

    def _on_locks_loaded(self, result: QueryResult[Any]) -> None:
        if not self._read("evidence locks", result):
            return
        self._locks = list(result.value or ())
        self._show_locks()

    def _offer_sources(self, cameras: Sequence[tuple[str, str]]) -> None:
        """The source choices: the whole site, ``cameras``, then the rooms (the choice
        made stays if it is still offered)."""
        chosen = self.source_combo.currentData()
        self.source_combo.clear()
        self.source_combo.addItem("Whole site", (None, None))
        for key, name in cameras:
            self.source_combo.addItem(f"Camera {name}", (key, None))
        for room_id, name in self._rooms:
            self.source_combo.addItem(f"Room {name}", (None, room_id))
        offered = [self.source_combo.itemData(i) for i in range(self.source_combo.count())]
        self.source_combo.setCurrentIndex(offered.index(chosen) if chosen in offered else 0)

    def _show_bookmarks(self) -> None:
        selected = self.selected_bookmark()
        self.bookmark_list.clear()
        for bookmark in self._bookmarks:
            item = QTreeWidgetItem(
                [
                    display().full(bookmark.marked_at),
                    bookmark.title,
                    source_text(bookmark.camera, bookmark.room, self._names),
                    range_text(bookmark.started_at, bookmark.ended_at),
                    bookmark.author,
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, bookmark)
            item.setToolTip(1, bookmark.note or bookmark.title)
            self.bookmark_list.addTopLevelItem(item)
            if selected is not None and bookmark.id == selected.id:
                self.bookmark_list.setCurrentItem(item)
        self._update_buttons()

    def _show_locks(self) -> None:
        selected = self.selected_lock()
        self.lock_list.clear()
        for lock in self._locks:
            names = self._names
            sources = (
                ", ".join(
                    [
                        *(printable(names.get(c, c)) for c in lock.cameras),
                        *(f"room {printable(names.get(r, r))}" for r in lock.rooms),
                    ]
                )
                or SITE
            )
            item = QTreeWidgetItem(
                [
                    range_text(lock.started_at, lock.ended_at),
                    sources,
                    lock.reason,
                    lock.created_by,
                    lock_state_text(lock),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, lock)
            if lock.export_path:
                item.setToolTip(0, f"exported to {lock.export_path}")
            self.lock_list.addTopLevelItem(item)
            if selected is not None and lock.id == selected.id:
                self.lock_list.setCurrentItem(item)
        self._update_buttons()

    def _read(self, what: str, result: QueryResult[Any]) -> bool:
        """Whether ``result`` (a read of the list ``what``) can be shown; a failed read is
        shown in red until the lists read again."""
        if not result.ok:
            self._unread.add(what)
            self.strip.show_error(f"Could not read the {what}: {error_text(result.error)}")
            return False
        if what in self._unread:
            self._unread.discard(what)
            if not self._unread:
                self.strip.clear_error()
        return True

    def _on_bookmark_added(self, bookmark: BookmarkView) -> None:
        self.title_edit.clear()
        self.note_edit.clear()
        self.new_button.setChecked(False)
        self.strip.show_status(f"Added bookmark “{bookmark.title}”")
        self._on_changed(bookmark)

    def _on_locked(self, lock: LockView) -> None:
        self.strip.show_status(
            f"Locked {range_text(lock.started_at, lock.ended_at)}: keeps "
            f"{lock.media_locked} recordings from retention"
        )
        self._on_changed(lock)

    def _on_changed(self, _value: object) -> None:
        """A change worked (the strip says what was done): read both lists again."""
        self.lock_reason_edit.clear()
        self.refresh()
        self.sig_bookmarks_changed.emit()

    # -- interaction -------------------------------------------------------------------

    def _on_search_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _on_new_toggled(self, checked: bool) -> None:
        self.form.setVisible(checked and self._may_change)
        if checked:
            self.title_edit.setFocus()

    def _on_bookmark_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        bookmark = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(bookmark, BookmarkView):
            self.sig_bookmark_activated.emit(bookmark)

    def _on_selection_changed(self, *_args: object) -> None:
        self._update_buttons()

    def _on_export_clicked(self) -> None:
        bookmark = self.selected_bookmark()
        if bookmark is not None:
            self.sig_export_requested.emit(bookmark)

    def _update_buttons(self) -> None:
        bookmark = self.selected_bookmark()
        lock = self.selected_lock()
        # One change at a time: the next acts on the lists as they read after this one.
        may_change = self._may_change and not self._runner.is_busy()
        may_lock = self._may_lock and not self._runner.is_busy()
        self.new_button.setEnabled(self._may_change)
        self.add_button.setEnabled(may_change)
        self.remove_button.setEnabled(may_change and bookmark is not None)
        self.lock_button.setEnabled(may_lock and bookmark is not None)
        self.export_button.setEnabled(bookmark is not None)
        self.unlock_button.setEnabled(may_lock and lock is not None and lock.active)

    def _show_refusal(self, text: str) -> None:
        """A form that cannot be sent: say which field, in red, and nothing else."""
        self.strip.show_status("")
        self.strip.show_error(text)


def _tree(parent: QWidget, headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget(parent)
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    tree.setAlternatingRowColors(True)
    return tree


def _seconds(parent: QWidget, value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setRange(0.0, 3600.0)
    spin.setDecimals(0)
    spin.setSuffix(" s")
    spin.setValue(value)
    return spin
