"""The main window: dockable panes, role layouts and the health status bar."""

from __future__ import annotations

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget

from console.bridge import QtBridge
from console.layouts import Layout, arrange
from console.people_backend import PeopleBackend
from console.queries import QtQueryClient
from engine.access import machine_actor
from engine.events import CameraStatusChanged, Event, SubsystemHealth
from engine.history.events import live_event_view
from engine.history.query_service import QueryService
from engine.paths import data_dir
from engine.runtime import EngineRuntime
from engine.settings import ChangeSetting
from engine.status import SystemStatusRequest
from widgets.camera_grid import TILE_COUNTS, CameraFeed, CameraGrid
from widgets.event_history import EventHistoryPane
from widgets.health_bar import HealthBar
from widgets.people_pane import PeoplePane
from widgets.site_overview import SiteOverview
from widgets.system_pane import SystemPane

STATE_VERSION = 3  # bump when panes are added or renamed, so old saved states are ignored
PEOPLE_REFRESH_MS = 1500
QUERY_WORKERS = 2  # store reads and people changes run here, never on the GUI thread


class MainWindow(QMainWindow):
    """Hosts the panes for one running engine. Layout choices persist in ``settings``.

    Panes read the store through :attr:`queries` (a query service on its own worker
    threads, results handed back on the GUI thread); closing the window stops it.
    """

    sig_layout_changed = Signal(str)
    """The active role layout changed (its name)."""

    def __init__(
        self,
        runtime: EngineRuntime,
        bridge: QtBridge,
        settings: QSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.actor = machine_actor()  # who the engine checks and audits (until login)
        self.settings = settings
        self.setWindowTitle(f"Watchfloor — {runtime.site.name}")
        self.setDockNestingEnabled(True)
        self.resize(1400, 860)

        feeds = [
            CameraFeed(cam_id, source.camera.name, source.slot.latest)
            for cam_id, source in runtime.sources.items()
        ]
        self.camera_grid = CameraGrid(
            feeds, empty_hint=f"Add a [[cameras]] table to {runtime.site.file}"
        )
        store = runtime.store
        if store is None:
            raise ValueError("the console needs a database (EngineRuntime with a store)")
        self.queries = QtQueryClient(QueryService(store, workers=QUERY_WORKERS), self)
        self.event_history = EventHistoryPane(
            client=self.queries,
            cameras=[(cam_id, s.camera.name) for cam_id, s in runtime.sources.items()],
            media_root=data_dir(),
        )
        self.people_backend = PeopleBackend(runtime, store)
        self.people = PeoplePane(
            client=self.queries,
            list_people=self.people_backend.list,
            rename=self.people_backend.rename,
            merge=self.people_backend.merge,
            erase=self.people_backend.erase,
            media_root=data_dir(),
        )
        self._people_refresh = QTimer(self)
        self._people_refresh.setSingleShot(True)
        self._people_refresh.setInterval(PEOPLE_REFRESH_MS)
        self._people_refresh.timeout.connect(lambda: self.people.refresh(warn=False))
        # Changed people change the Events pane's person column and what it lists.
        self.people.sig_person_erased.connect(self._on_people_changed)
        self.people.sig_person_renamed.connect(self._on_people_changed)
        self.people.sig_people_merged.connect(self._on_people_changed)
        self.people.refresh(warn=False)  # returns at once; the list arrives when read
        self.site_overview = SiteOverview(runtime.site)
        self.system = SystemPane(
            self.queries,
            self._system_status_request,
            self._run_retention_now,
            self._change_setting,
        )
        self.docks = {
            "cameras": self._dock("cameras", "Cameras", self.camera_grid),
            "events": self._dock("events", "Events", self.event_history),
            "people": self._dock("people", "People", self.people),
            "site": self._dock("site", "Site", self.site_overview),
            "system": self._dock("system", "System", self.system),
        }

        self.health_bar = HealthBar()
        self.statusBar().addPermanentWidget(self.health_bar)
        self.layout_label = QLabel()
        self.statusBar().addWidget(self.layout_label)

        bridge.sig_camera_status_changed.connect(self._on_camera_status_changed)
        bridge.sig_health_changed.connect(self._on_health_changed)
        bridge.sig_history_event.connect(self._on_history_event_added)
        for report in runtime.health():
            self.health_bar.on_health_changed(report.subsystem, report.state, report.detail)

        self.current_layout: Layout | None = None
        self._build_menus()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        tiles = int(str(settings.value("grid/tiles", 0) or 0))
        if tiles in TILE_COUNTS:
            self.camera_grid.set_tile_count(tiles)
        self.camera_grid.sig_tile_count_changed.connect(
            lambda count: self.settings.setValue("grid/tiles", count)
        )
        saved = str(settings.value("layout/current", Layout.OPERATOR.value))
        self.switch_layout(Layout(saved) if saved in Layout._value2member_map_ else Layout.OPERATOR)

    def _system_status_request(self) -> SystemStatusRequest:
        writer = self.runtime.writer
        retention = self.runtime.retention
        last = retention.last_run if retention is not None else None
        return SystemStatusRequest(
            data_dir(),
            self.runtime.clock.now(),
            writer.health().as_dict() if writer is not None else None,
            last.at if last is not None else None,
        )

    def _run_retention_now(self) -> str:
        """Runs on a query worker (it waits on the store writer)."""
        retention = self.runtime.retention
        if retention is None:
            raise RuntimeError("retention does not run in this engine")
        run = retention.run_once()
        if run.retention is None:
            raise RuntimeError(run.problem or "retention failed")
        report = run.retention
        summary = (
            f"{report.clips_deleted + report.pressure_clips_deleted} clips, "
            f"{report.events_deleted} events deleted, {report.bytes_freed / 2**20:.0f} MiB freed"
        )
        return f"{summary}; {run.problem}" if run.problem else summary

    def _change_setting(self, key: str, value: int) -> None:
        """Runs on a query worker (it waits on the store writer)."""
        writer = self.runtime.writer
        if writer is None:
            raise RuntimeError("the engine runs without a database")
        writer.execute(
            ChangeSetting(key=key, value=value, at=self.runtime.clock.now(), actor=self.actor)
        )
        self.runtime.apply_settings()  # the detector cadence changes on running cameras

    def _dock(self, name: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        return dock

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view = self.menuBar().addMenu("&View")
        layouts = view.addMenu("&Layout")
        self.layout_actions: dict[Layout, QAction] = {}
        group = QActionGroup(self)
        for index, layout in enumerate(Layout, start=1):
            action = QAction(layout.value, self, checkable=True)
            action.setShortcut(QKeySequence(f"Ctrl+{index}"))
            action.triggered.connect(
                lambda _checked=False, chosen=layout: self.switch_layout(chosen)
            )
            group.addAction(action)
            layouts.addAction(action)
            self.layout_actions[layout] = action
        layouts.addSeparator()
        reset = QAction("&Reset this layout", self)
        reset.triggered.connect(self.reset_layout)
        layouts.addAction(reset)

        panes = view.addMenu("&Panes")
        for dock in self.docks.values():
            panes.addAction(dock.toggleViewAction())

        grid = view.addMenu("Camera &grid")
        for count in TILE_COUNTS:
            action = QAction(f"{count} tile{'s' if count > 1 else ''}", self)
            action.triggered.connect(
                lambda _checked=False, n=count: self.camera_grid.set_tile_count(n)
            )
            grid.addAction(action)

    def switch_layout(self, layout: Layout) -> None:
        """Save the current arrangement under its layout, then show ``layout`` as it was
        last left (or its default arrangement)."""
        if layout is self.current_layout:
            return
        self._save_layout_state()
        self.current_layout = layout
        arrange(self, layout, self.docks)
        state = self.settings.value(f"layouts/{layout.value}/state")
        if state is not None:
            self.restoreState(state, STATE_VERSION)
        self.settings.setValue("layout/current", layout.value)
        self.layout_actions[layout].setChecked(True)
        self.layout_label.setText(f"Layout: {layout.value}")
        self.sig_layout_changed.emit(layout.value)

    def reset_layout(self) -> None:
        if self.current_layout is None:
            return
        self.settings.remove(f"layouts/{self.current_layout.value}/state")
        arrange(self, self.current_layout, self.docks)

    def _save_layout_state(self) -> None:
        if self.current_layout is not None:
            self.settings.setValue(
                f"layouts/{self.current_layout.value}/state", self.saveState(STATE_VERSION)
            )

    def _on_camera_status_changed(self, event: CameraStatusChanged) -> None:
        self.camera_grid.on_camera_status_changed(
            event.camera_id, event.status, event.detail, event.since
        )
        self.site_overview.on_camera_status_changed(event.camera_id, event.status, event.detail)

    def _on_health_changed(self, event: SubsystemHealth) -> None:
        self.health_bar.on_health_changed(event.subsystem, event.state, event.detail)

    def _on_history_event_added(self, event: Event) -> None:
        view = live_event_view(event)
        if view is None:
            return
        if view.kind == "clip.finalised":
            # Rows listed before the clip existed can open it once it is stored: one cheap
            # lookup after a burst of clips settles, off the GUI thread.
            self.event_history.on_clip_finalised()
        self.event_history.on_event_added(view)
        if view.kind in ("face.recognised", "person.appeared"):
            self._people_refresh.start()  # coalesce bursts into one re-read

    def _on_people_changed(self, *_public_ids: str) -> None:
        self.event_history.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_layout_state()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        self._people_refresh.stop()
        self.queries.close()  # waits for a running read; no query thread outlives the window
        super().closeEvent(event)
