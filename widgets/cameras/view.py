"""The camera grid pane: 1, 4 or 9 tiles drawn at display rate."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.events import CameraStatus
from widgets.cameras.api import TILE_COUNTS, CameraFeed, FrameGetter
from widgets.cameras.tile import CameraTile

DISPLAY_HZ = 30
TOUR_INTERVALS_S = (5, 10, 30, 60)  # how often the camera tour moves on (10 s unless chosen)


def _fitting_tile_count(cameras: int) -> int:
    """The fewest tiles (of :data:`TILE_COUNTS`) that show ``cameras`` cameras, nine at most."""
    return next((count for count in TILE_COUNTS if count >= cameras), TILE_COUNTS[-1])


def _no_frame() -> None:
    return None


class CameraGrid(QWidget):
    """Shows cameras in a square grid; one timer refreshes every visible tile.

    For a replay the console swaps the tiles' frame getters (:meth:`set_frame_getters`)
    and marks them (:meth:`set_replay`); both survive relayouts and page changes, and None
    returns to the live feeds."""

    sig_tile_count_changed = Signal(int)
    """The operator picked 1, 4 or 9 tiles."""

    def __init__(
        self,
        feeds: list[CameraFeed],
        *,
        empty_hint: str = "",
        display_hz: int = DISPLAY_HZ,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._feeds = feeds
        self._empty_hint = empty_hint
        self._status: dict[str, tuple[CameraStatus, str, datetime | None]] = {}
        self._recording: dict[str, str] = {}  # camera → why its recording is failing
        self._fused: dict[str, dict[int, str]] = {}  # camera → track id → name (fusion)
        self._replay_getters: dict[str, FrameGetter] | None = None
        self._replay_label: str | None = None
        self._replay_statuses: dict[str, str] = {}
        self.tiles: list[CameraTile] = []
        self.tile_count = 0
        self.page = 0
        # The tile count follows the number of cameras (one, four, nine) until the operator
        # picks one (a layout button, a double-click, a page).
        self._fits_cameras = True
        # The camera shown alone whose main stream the engine decodes for it: (id, the
        # feed's watch_main), to say when it stops.
        self._watching: tuple[str, Callable[[bool], bool]] | None = None
        self._mirrors: list[CameraGrid] = []  # wall windows showing the same cameras

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        self._buttons = QButtonGroup(self)
        for count in TILE_COUNTS:
            button = QToolButton(self)
            button.setText(str(count))
            button.setCheckable(True)
            button.setToolTip(f"Show {count} camera tile{'s' if count > 1 else ''}")
            button.setAccessibleName(f"{count} tiles")
            self._buttons.addButton(button, count)
            bar.addWidget(button)
        self._buttons.idClicked.connect(self.choose_tile_count)
        self._prev = QToolButton(self)
        self._prev.setText("◀")
        self._prev.setToolTip("Previous page of cameras")
        self._prev.clicked.connect(lambda: self._on_page_chosen(self.page - 1))
        self._page_label = QLabel(self)
        self._next = QToolButton(self)
        self._next.setText("▶")
        self._next.setToolTip("Next page of cameras")
        self._next.clicked.connect(lambda: self._on_page_chosen(self.page + 1))
        for widget in (self._prev, self._page_label, self._next):
            bar.addWidget(widget)
        # The camera tour: the next page (on one tile, the next camera) every few seconds.
        self.tour_s = TOUR_INTERVALS_S[1]
        self._tour = QToolButton(self)
        self._tour.setText("Tour")
        self._tour.setCheckable(True)
        self._tour.setAccessibleName("Camera tour")
        self._tour.toggled.connect(self._on_tour_toggled)
        self._tour.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._tour.customContextMenuRequested.connect(self._tour_menu)
        bar.addWidget(self._tour)
        self._tour_timer = QTimer(self)
        self._tour_timer.timeout.connect(self._tour_step)
        self._update_tour_tip()
        bar.addStretch(1)
        self._summary = QLabel()
        bar.addWidget(self._summary)

        self._grid = QGridLayout()
        self._grid.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(self._grid, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / display_hz)))
        self._timer.timeout.connect(self.refresh_tiles)
        self._timer.start()
        self.set_tile_count(_fitting_tile_count(len(feeds)))

    def choose_tile_count(self, count: int) -> None:
        """:meth:`set_tile_count` as the operator's choice: kept when cameras come and go."""
        self._fits_cameras = False
        self.set_tile_count(count)

    @property
    def fits_cameras(self) -> bool:
        """The tile count follows the number of cameras (the operator has not chosen one)."""
        return self._fits_cameras

    def _on_page_chosen(self, page: int) -> None:
        self._fits_cameras = False
        self.set_page(page)
        if self.touring:  # the operator's page gets a whole step before the tour moves on
            self._tour_timer.start(self.tour_s * 1000)

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(len(self._feeds) / max(self.tile_count, 1)))

    def set_tile_count(self, count: int) -> None:
        """Lay out ``count`` tiles (1, 4 or 9) on the page that holds the first camera
        currently shown; cameras fill tiles in site order."""
        if count not in TILE_COUNTS:
            raise ValueError(f"tile count must be one of {TILE_COUNTS}, not {count}")
        first_shown = self.page * self.tile_count
        self._apply(count, first_shown // count)

    def set_page(self, page: int) -> None:
        """Show page ``page`` (0-based, clamped) when there are more cameras than tiles."""
        self._apply(self.tile_count, page)

    def show_single(self, camera_id: str) -> None:
        """One big tile of ``camera_id`` (double-clicking a tile does this)."""
        ids = [f.camera_id for f in self._feeds]
        if camera_id in ids:
            self._apply(1, ids.index(camera_id))

    def _apply(self, count: int, page: int) -> None:
        pages = max(1, math.ceil(len(self._feeds) / count))
        self.page = min(max(page, 0), pages - 1)
        feeds = self._feeds[self.page * count : (self.page + 1) * count]
        for tile in self.tiles:
            self._grid.removeWidget(tile)
            tile.deleteLater()
        self.tiles = []
        side = math.isqrt(count)
        for index in range(count):
            tile = CameraTile(self)
            tile.empty_hint = self._empty_hint
            if index < len(feeds):
                feed = feeds[index]
                tile.set_camera(
                    feed.camera_id,
                    feed.name,
                    self._getter_for(feed),
                    feed.engine_of,
                    feed.video_state,
                    simulated=feed.simulated,
                )
                if feed.camera_id in self._status:
                    tile.set_status(*self._status[feed.camera_id])
                tile.set_recording_problem(self._recording.get(feed.camera_id))
                tile.fused_names = self._fused.get(feed.camera_id, {})
                if self._replay_label is not None:
                    tile.set_replay(
                        self._replay_label, self._replay_statuses.get(feed.camera_id, "")
                    )
            else:
                tile.set_camera(None, "", None)
            tile.sig_activated.connect(self._on_tile_activated)
            self._grid.addWidget(tile, index // side, index % side)
            self.tiles.append(tile)
        button = self._buttons.button(count)
        if button is not None:
            button.setChecked(True)
        if count != self.tile_count:
            self.tile_count = count
            self.sig_tile_count_changed.emit(count)
        for widget in (self._prev, self._page_label, self._next, self._tour):
            widget.setVisible(pages > 1)
        self._prev.setEnabled(self.page > 0)
        self._next.setEnabled(self.page < pages - 1)
        self._page_label.setText(f"page {self.page + 1}/{pages}")
        self._update_summary()
        self._watch_main()

    def _single_feed(self) -> CameraFeed | None:
        """The camera shown alone, live, on a visible grid (None otherwise)."""
        if self.tile_count != 1 or not self.tiles or not self.isVisible() or self.replaying:
            return None
        shown = self.tiles[0].camera_id
        return next((f for f in self._feeds if f.camera_id == shown), None)

    def _watch_main(self) -> None:
        """A camera shown alone (and live, and on screen) is shown from its main stream:
        the engine decodes it while it is; any other layout stops that."""
        feed = self._single_feed()
        wanted = feed.camera_id if feed is not None and feed.watch_main is not None else None
        watching = self._watching[0] if self._watching is not None else None
        if wanted == watching:
            return
        if self._watching is not None:
            stopped, watch = self._watching
            self._watching = None
            watch(False)
            feeds = {f.camera_id: f for f in self._feeds}
            for tile in self.tiles:
                if tile.camera_id == stopped and stopped in feeds:
                    tile.set_frame_getter(self._getter_for(feeds[stopped]))
        if feed is None or feed.watch_main is None or feed.main_getter is None:
            return
        if feed.watch_main(True):
            self._watching = (feed.camera_id, feed.watch_main)
            self.tiles[0].set_frame_getter(self._getter_for(feed))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._watch_main()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._watch_main()

    # -- wall windows ------------------------------------------------------------------------
    def mirror(self) -> CameraGrid:
        """Another grid of the same cameras, live, with its own layout (a wall window on
        another monitor): what this grid is told from now on (cameras added or removed,
        their status, recording problems, names) it is told too, until :meth:`forget`."""
        twin = CameraGrid(list(self._feeds), empty_hint=self._empty_hint)
        for camera_id, (status, detail, since) in self._status.items():
            twin.on_camera_status_changed(camera_id, status, detail, since)
        for camera_id, problem in self._recording.items():
            twin.on_recording_changed(camera_id, problem)
        twin.on_fused_names(self._fused)
        self._mirrors.append(twin)
        return twin

    def forget(self, twin: CameraGrid) -> None:
        """``twin`` (from :meth:`mirror`) is closed: it is told nothing more."""
        if twin in self._mirrors:
            self._mirrors.remove(twin)

    @property
    def mirrors(self) -> tuple[CameraGrid, ...]:
        return tuple(self._mirrors)

    def set_feeds(self, feeds: list[CameraFeed]) -> None:
        """The site's cameras changed: tile these (site order), keeping the first camera
        shown where it is still there, and the tile count the operator chose (until they
        choose one, it grows and shrinks with the cameras, so an added camera shows
        at once); what is known of a removed camera is forgotten."""
        shown = self.tiles[0].camera_id if self.tiles else None
        self._feeds = feeds
        ids = [feed.camera_id for feed in feeds]
        for known in (self._status, self._recording, self._fused):
            for cam_id in [k for k in known if k not in ids]:
                del known[cam_id]
        count = _fitting_tile_count(len(ids)) if self._fits_cameras else self.tile_count or 1
        first = ids.index(shown) if shown in ids else 0
        self._apply(count, first // count)
        for twin in self._mirrors:
            twin.set_feeds(list(feeds))

    @property
    def camera_ids(self) -> tuple[str, ...]:
        """Every camera of the grid (site order), shown or on another page."""
        return tuple(feed.camera_id for feed in self._feeds)

    @property
    def replaying(self) -> bool:
        return self._replay_getters is not None

    def _getter_for(self, feed: CameraFeed) -> FrameGetter:
        if self._replay_getters is not None:
            return self._replay_getters.get(feed.camera_id, _no_frame)
        main, sub = feed.main_getter, feed.frame_getter
        if main is None or self._watching is None or self._watching[0] != feed.camera_id:
            return sub
        return lambda: main() or sub()

    def set_frame_getters(self, getters: Mapping[str, FrameGetter] | None) -> None:
        """Draw every tile from ``getters`` (camera id → getter; a camera missing from it
        shows no frame) instead of the live feeds; None puts the live getters back."""
        self._replay_getters = None if getters is None else dict(getters)
        self._watch_main()  # a replay shows recordings: no main stream meanwhile
        feeds = {feed.camera_id: feed for feed in self._feeds}
        for tile in self.tiles:
            feed = feeds.get(tile.camera_id or "")
            if feed is not None:
                tile.set_camera(
                    feed.camera_id,
                    feed.name,
                    self._getter_for(feed),
                    feed.engine_of,
                    feed.video_state,
                    simulated=feed.simulated,
                )

    def set_replay(self, label: str | None, statuses: Mapping[str, str] | None = None) -> None:
        """Mark every tile as replaying (``REPLAY 09:14:03 ×4``), with each camera's
        reason for having no frame from ``statuses``; None returns the tiles to live."""
        self._replay_label = label
        self._replay_statuses = dict(statuses or {}) if label is not None else {}
        for tile in self.tiles:
            if tile.camera_id is not None:
                tile.set_replay(label, self._replay_statuses.get(tile.camera_id, ""))

    # -- the camera tour ---------------------------------------------------------------------
    @property
    def touring(self) -> bool:
        return self._tour.isChecked()

    def set_touring(self, on: bool, interval_s: int | None = None) -> None:
        """Start or stop the camera tour (every ``interval_s``, one of
        :data:`TOUR_INTERVALS_S`; None keeps the one chosen)."""
        if interval_s is not None:
            if interval_s not in TOUR_INTERVALS_S:
                raise ValueError(f"a tour step is one of {TOUR_INTERVALS_S} s, not {interval_s}")
            self.tour_s = interval_s
            self._update_tour_tip()
        self._tour.setChecked(on)
        if on:
            self._tour_timer.start(self.tour_s * 1000)  # a new interval takes effect now

    def _on_tour_toggled(self, on: bool) -> None:
        if on:
            self._fits_cameras = False
            self._tour_timer.start(self.tour_s * 1000)
        else:
            self._tour_timer.stop()

    def _tour_menu(self, at: QPoint) -> None:
        menu = QMenu(self)
        for seconds in TOUR_INTERVALS_S:
            action = menu.addAction(f"Every {seconds} s")
            action.setCheckable(True)
            action.setChecked(seconds == self.tour_s)
            action.triggered.connect(lambda _=False, s=seconds: self.set_touring(True, s))
        menu.exec(self._tour.mapToGlobal(at))

    def _update_tour_tip(self) -> None:
        self._tour.setToolTip(
            f"Camera tour: the next page of cameras every {self.tour_s} s (on one tile, the "
            "next camera); paused while a picture is zoomed. Right-click for how often."
        )

    def _tour_step(self) -> None:
        """The next page, wrapping to the first; nothing while the operator has zoomed into
        a picture (they are looking at something) or every camera is shown."""
        if self.page_count <= 1 or any(tile.zoom > 1.0 for tile in self.tiles):
            return
        self._apply(self.tile_count, (self.page + 1) % self.page_count)

    def _on_tile_activated(self, camera_id: str) -> None:
        self._fits_cameras = False
        if self.tile_count == 1 and len(self._feeds) > 1:
            self.set_tile_count(4 if len(self._feeds) <= 4 else 9)
        else:
            self.show_single(camera_id)

    def on_camera_status_changed(
        self, camera_id: str, status: CameraStatus, detail: str, since: datetime | None
    ) -> None:
        self._status[camera_id] = (status, detail, since)
        for tile in self.tiles:
            if tile.camera_id == camera_id:
                tile.set_status(status, detail, since)
        self._update_summary()
        for twin in self._mirrors:
            twin.on_camera_status_changed(camera_id, status, detail, since)

    def on_fused_names(self, names: Mapping[str, dict[int, str]]) -> None:
        """The names each camera's tracked people have from any sense (camera → track id
        → name): a person a sensing room names by their registered device is named on the
        camera that sees them too. Drawn with the next frame."""
        self._fused = dict(names)
        for tile in self.tiles:
            if tile.camera_id is not None:
                tile.fused_names = self._fused.get(tile.camera_id, {})
        for twin in self._mirrors:
            twin.on_fused_names(names)

    def on_recording_changed(self, camera_id: str, problem: str | None) -> None:
        """The camera's clips and snapshots are failing (``problem`` says why and what was
        lost) or, with None, are written again."""
        if problem is None:
            self._recording.pop(camera_id, None)
        else:
            self._recording[camera_id] = problem
        for tile in self.tiles:
            if tile.camera_id == camera_id:
                tile.set_recording_problem(problem)
        self._update_summary()
        for twin in self._mirrors:
            twin.on_recording_changed(camera_id, problem)

    def refresh_tiles(self) -> None:
        for tile in self.tiles:
            tile.refresh()

    def _update_summary(self) -> None:
        online = sum(s[0] is CameraStatus.ONLINE for s in self._status.values())
        text = f"{online}/{len(self._feeds)} cameras online"
        if self._recording:
            text += f", {len(self._recording)} not recording"
        self._summary.setText(text)
