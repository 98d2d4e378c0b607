"""The main window: dockable panes, role layouts, the lock and the health status bar.

The window opens locked: the live view stays on, every other pane is hidden, the menus
other than File → Quit are disabled, and a login panel sits beside the cameras (or asks for
the first admin on a fresh install). A login shows the panes and layouts the person's roles
allow; Ctrl+L, Session → Lock and a stretch without input (``security.idle_lock_s``) lock it
again. Who is logged in lives in :class:`console.session.ConsoleSession`: every change the
window or a pane asks of the engine is made as that person, and the engine checks them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QSystemTrayIcon,
    QWidget,
)

from console.alerts_backend import AlertListBackend, AlertRulesBackend, AlertsBackend
from console.bridge import QtBridge
from console.devices_backend import BleDevicesBackend
from console.gestures_backend import GesturesBackend
from console.incidents_backend import IncidentsBackend
from console.introductions_backend import IntroductionsBackend
from console.investigation import Investigation
from console.layouts import (
    ADMIN_PAGES,
    WALL_PANES,
    Layout,
    arrange,
    default_layout_for,
    layouts_for,
    pane_allowed,
)
from console.people_backend import PeopleBackend
from console.queries import QtQueryClient
from console.session import DEFAULT_IDLE_LOCK_S, IDLE_LOCK_KEY, ConsoleSession
from engine.access import Actor, Permission
from engine.accounts import AccountError, LoginFailedError, roles_text
from engine.alerts.service import (
    AlertChanged,
    AlertDelivered,
    AlertProblem,
    AlertRaised,
    SequenceAdded,
)
from engine.events import CameraStatusChanged, SubsystemHealth
from engine.history.events import EventView
from engine.history.query_service import QueryResult, QueryService
from engine.incidents.service import IncidentFiled, RiskRefitted
from engine.introductions import NameGiven, NameOffered
from engine.paths import data_dir
from engine.runtime import EngineRuntime
from engine.sensing.view import SensingSnapshot
from engine.settings import ChangeSetting
from engine.sitetime import display
from engine.status import SystemStatusRequest
from engine.text import printable
from widgets.accounts.view import AccountsPane
from widgets.admin_window import AdministrationWindow
from widgets.alert_list.view import AlertListPane
from widgets.alert_rules.view import AlertRulesPane
from widgets.alerts.view import AlertSound, AlertStreamPane, alerts_title
from widgets.audit.view import AuditPane
from widgets.ble_devices.view import BleDevicesPane
from widgets.cameras.api import TILE_COUNTS, CameraFeed
from widgets.cameras.view import CameraGrid
from widgets.events.view import EventHistoryPane
from widgets.gestures.view import GesturesPane
from widgets.health_bar import HealthBar
from widgets.incidents.view import IncidentListPane
from widgets.introductions.view import IntroductionsPane, introductions_title
from widgets.lock_view import LockView
from widgets.login_panel import LoginMode, LoginPanel, PasswordChangeDialog
from widgets.pane import ActorAware
from widgets.people.view import PeoplePane
from widgets.risk_map.view import RiskMapPane
from widgets.sensing.view import SensingPane
from widgets.site.view import SiteOverview
from widgets.system.view import SystemPane

if TYPE_CHECKING:
    from console.microphones import Microphones, MicrophoneStatus

log = logging.getLogger(__name__)

STATE_VERSION = 12  # bump when panes are added, renamed or moved, so old saved states are ignored
PEOPLE_REFRESH_MS = 1500
QUERY_WORKERS = 2  # store reads, logins and people changes run here, never on the GUI thread
SESSION_CHANNEL = "session"
ACCOUNT_RECHECK_MS = 15_000  # how soon a disabled account or changed roles reach a console
ALERTS_MUTED_KEY = "alerts/muted"  # this console's choice, whoever logs in

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class IdleWatch(QObject):
    """An application event filter: any keyboard or mouse input restarts ``timer`` (if it
    runs), so it fires only after that long without input. GUI thread."""

    def __init__(self, timer: QTimer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = timer

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self._timer.isActive():
            self._timer.start()  # restarts with the same interval
        return False


class MainWindow(QMainWindow):
    """Hosts the panes for one running engine. Layout choices persist in ``settings``.

    Panes read the store through :attr:`queries` (a query service on its own worker
    threads, results handed back on the GUI thread); closing the window stops it. The
    window starts locked (see the module doc); ``session`` (made here if not given) says
    who is logged in.
    """

    sig_layout_changed = Signal(str)
    """The active role layout changed (its name)."""

    sig_session_changed = Signal(str)
    """Someone logged in or unlocked (their name), or the console locked ("")."""

    def __init__(
        self,
        runtime: EngineRuntime,
        bridge: QtBridge,
        settings: QSettings,
        parent: QWidget | None = None,
        *,
        session: ConsoleSession | None = None,
    ) -> None:
        super().__init__(parent)
        self.runtime = runtime
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
        self.session = session or ConsoleSession(store, runtime.writer, runtime.clock)
        self.locked = True
        self.current_layout: Layout | None = None
        self._remembered: Actor | None = None  # who was logged in when it locked
        self._state_before_lock: QByteArray | None = None
        self.password_dialog: PasswordChangeDialog | None = None
        self.idle_lock_s = DEFAULT_IDLE_LOCK_S
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(lambda: self.lock("idle"))
        # An admin may disable the logged-in account or change its roles elsewhere: re-read
        # it now and then (on a worker), and lock or re-apply the roles.
        self.recheck_timer = QTimer(self)
        self.recheck_timer.setInterval(ACCOUNT_RECHECK_MS)
        self.recheck_timer.timeout.connect(self.recheck_account)
        self._idle_watch = IdleWatch(self.idle_timer, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._idle_watch)

        self.queries = QtQueryClient(QueryService(store, workers=QUERY_WORKERS), self)
        # Incidents: the risk map and the incident list (with the report form) read and
        # change them on query workers as the person logged in; the Events pane and the
        # alert stream escalate an event to an incident through the same engine desk.
        self.incidents_backend = IncidentsBackend(runtime, store, self.session)
        self.event_history = EventHistoryPane(
            client=self.queries,
            cameras=[(cam_id, s.camera.name) for cam_id, s in runtime.sources.items()],
            media_root=data_dir(),
            actions=self.incidents_backend,
        )
        self.people_backend = PeopleBackend(runtime, store, self.session)
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
        self.ble_backend = BleDevicesBackend(runtime, store, self.session)
        self.ble_devices = BleDevicesPane(self.queries, self.ble_backend)
        # Registering to a new name adds that person; the pane names people.
        self.ble_devices.sig_device_registered.connect(self._on_ble_devices_changed)
        self.ble_devices.sig_device_removed.connect(self._on_ble_devices_changed)
        self.site_overview = SiteOverview(runtime.site)
        self.system = SystemPane(
            self.queries,
            self._system_status_request,
            self._run_retention_now,
            self._change_setting,
        )
        self.system.sig_settings_saved.connect(self._on_settings_saved)
        self.audit = AuditPane(self.queries, self.session.list_audit, self.session.verify_audit)
        self.accounts = AccountsPane(self.queries, self.session, now=runtime.clock.now)
        self.accounts.sig_account_changed.connect(self._on_account_changed)
        self.sensing = SensingPane()
        sensing = runtime.sensing
        self.sensing.set_rooms([(sensing.room.room_id, sensing.room.name)] if sensing else [])
        self.sensing.set_pairing_allowed(False)
        self.sensing.sig_blob_clicked.connect(self._on_blob_clicked)
        self.sensing.sig_pairing_requested.connect(self._on_pairing_requested)
        # The alert stream: listed on a worker, kept live by the bridge, acknowledged as the
        # person logged in. It chimes even while the console is locked (nobody may act then,
        # but someone should come and log in).
        self.alerts_backend = AlertsBackend(runtime, store, self.session)
        self.alert_sound = AlertSound(self)
        self.alert_stream = AlertStreamPane(
            self.queries, self.alerts_backend, sound=self.alert_sound, now=runtime.clock.now
        )
        self.alert_stream.set_muted(
            str(settings.value(ALERTS_MUTED_KEY, "false")).lower() in ("true", "1")
        )
        self.alert_stream.sig_mute_changed.connect(self._on_alert_mute_changed)
        self.alert_stream.sig_attention_requested.connect(self._on_alert_attention_requested)
        self.alert_stream.refresh()  # returns at once; the open count arrives when read
        # The alert list: every alert, paged and filtered by the day's risk classes (the
        # operator may override them), with sequences, labels and clips; the rules pane
        # (admins) says what raises alerts, zones drawn on the camera's latest frame.
        self.alert_list = AlertListPane(
            self.queries, AlertListBackend(runtime, store, self.session, data_dir())
        )
        self.alert_list.sig_clip_requested.connect(self._on_alert_clip_requested)
        self.alert_list.refresh()
        self._frame_getters = {feed.camera_id: feed.frame_getter for feed in feeds}
        self.alert_rules = AlertRulesPane(
            self.queries,
            AlertRulesBackend(runtime, store, self.session),
            cameras=[(cam_id, s.camera.name) for cam_id, s in runtime.sources.items()],
            rooms=[runtime.sensing.room.room_id] if runtime.sensing is not None else [],
            frame_of=self._latest_frame,
        )
        self.alert_rules.refresh()
        # Gestures (admins): teach from a camera's newest frames or a recorded clip, replay,
        # rename, remove; the runtime reloads them after each change.
        self.gestures_backend = GesturesBackend(
            runtime,
            store,
            self.session,
            lambda camera: get() if (get := self._frame_getters.get(camera)) else None,
        )
        self.gestures = GesturesPane(
            self.queries,
            self.gestures_backend,
            cameras=[(cam_id, s.camera.name) for cam_id, s in runtime.sources.items()],
        )
        # Introductions: names heard by the cameras' microphones (or in a fed audio file)
        # offered to the person nearest the camera; operators give or dismiss them. A fed
        # file is recognised on its own worker: it takes a third of its length.
        microphones = {cam.id: cam.microphone for cam in runtime.site.cameras if cam.microphone}
        self.speech_queries = QtQueryClient(QueryService(store, workers=1), self)
        self.introductions = IntroductionsPane(
            self.queries,
            IntroductionsBackend(runtime, store, self.session),
            cameras=[(cam_id, s.camera.name) for cam_id, s in runtime.sources.items()],
            microphones=microphones,
            feed_client=self.speech_queries,
        )
        self.microphones: Microphones | None = None
        if microphones:
            from console.microphones import Microphones  # QtMultimedia only where needed

            self.microphones = Microphones(
                microphones, sink=self._hear, now=runtime.clock.now, parent=self
            )
            self.microphones.sig_status.connect(self._on_microphone_status_changed)
        self._tray: QSystemTrayIcon | None = None
        self.risk_map = RiskMapPane(self.queries, self.incidents_backend, now=runtime.clock.now)
        self.incident_list = IncidentListPane(
            self.queries, self.incidents_backend, now=runtime.clock.now
        )
        # The map and the list follow each other's selection (neither echoes a selection
        # made programmatically); a click on the map places the report being written.
        self.risk_map.sig_incident_selected.connect(self.incident_list.select_incident)
        self.incident_list.sig_incident_selected.connect(self.risk_map.select_incident)
        self.risk_map.sig_location_picked.connect(self.incident_list.report_form.set_place)
        self.alert_stream.sig_incident_escalated.connect(self._on_event_escalated)
        self.event_history.sig_incident_escalated.connect(self._on_event_escalated)
        # The investigator's panes: the timeline (with the replay bar), the chat pane and the
        # bookmarks; they replay into the camera tiles and the sensing view.
        self.investigation = Investigation(
            runtime,
            store,
            self.session,
            self.queries,
            grid=self.camera_grid,
            sensing=self.sensing,
            media_root=data_dir(),
            parent=self,
        )
        self.investigation.sig_clip_requested.connect(self._on_alert_clip_requested)
        # Each pane's widget; its title, permission and place come from its declaration
        # (widgets/<pane>/plugin.py, listed in widgets/panes.py).
        pane_widgets: dict[str, QWidget] = {
            "cameras": self.camera_grid,
            "alerts": self.alert_stream,
            "events": self.event_history,
            "people": self.people,
            "sensing": self.sensing,
            "introductions": self.introductions,
            "risk_map": self.risk_map,
            "incidents": self.incident_list,
            "alert_list": self.alert_list,
            "timeline": self.investigation.timeline_widget,
            "chat": self.investigation.chat,
            "bookmarks": self.investigation.bookmarks,
            "site": self.site_overview,
            "system": self.system,
            "accounts": self.accounts,
            "alert_rules": self.alert_rules,
            "ble_devices": self.ble_devices,
            "gestures": self.gestures,
            "audit": self.audit,
        }
        self.docks = {
            spec.name: self._dock(spec.name, spec.title, pane_widgets[spec.name])
            for spec in WALL_PANES
        }
        # The panes that offer changes: each is told who is logged in (ActorAware).
        self._actor_aware = [w for w in pane_widgets.values() if isinstance(w, ActorAware)]
        # What is configured rather than watched: the administration window's pages.
        self.admin_window = AdministrationWindow(runtime.site.name, self)
        for name, title in ADMIN_PAGES:
            self.admin_window.add_page(name, title, pane_widgets[name])
        self.admin_window.sig_page_shown.connect(self._on_admin_page_shown)
        self.alert_stream.sig_open_count_changed.connect(self._on_open_alerts_changed)
        self.introductions.sig_offers_changed.connect(self._on_open_introductions_changed)
        self.login_panel = LoginPanel(now=self.session.clock.now)
        self.login_panel.sig_login_requested.connect(self._on_login_requested)
        self.login_panel.sig_first_admin_requested.connect(self._on_first_admin_requested)
        # While locked the lock view fills the window (the live wall beside the login card)
        # and every dock is hidden; logged in, it hides and the docks take the window.
        self.lock_view = LockView(runtime.site.name, self.login_panel)
        self.setCentralWidget(self.lock_view)

        self.health_bar = HealthBar()
        self.statusBar().addPermanentWidget(self.health_bar)
        self.session_label = QLabel()
        self.session_label.setObjectName("session-label")
        self.statusBar().addWidget(self.session_label)
        self.layout_label = QLabel()
        self.statusBar().addWidget(self.layout_label)
        # The one place the site's zone is always shown: every pane shows plain site times.
        self.site_clock_label = QLabel()
        self.site_clock_label.setObjectName("site-clock")
        self.statusBar().addPermanentWidget(self.site_clock_label)
        self._site_clock_timer = QTimer(self)
        self._site_clock_timer.setInterval(1000)
        self._site_clock_timer.timeout.connect(self._show_site_time)
        self._site_clock_timer.start()
        self._show_site_time()

        bridge.sig_camera_status_changed.connect(self._on_camera_status_changed)
        bridge.sig_health_changed.connect(self._on_health_changed)
        bridge.sig_events_stored.connect(self._on_history_event_added)
        bridge.sig_sensing_updated.connect(self._on_sensing_updated)
        bridge.sig_alert_raised.connect(self._on_alert_raised)
        bridge.sig_alert_changed.connect(self._on_alert_changed)
        bridge.sig_alert_delivered.connect(self._on_alert_delivered)
        bridge.sig_alert_problem.connect(self._on_alert_problem)
        bridge.sig_sequence_added.connect(self._on_sequence_added)
        bridge.sig_incident_filed.connect(self._on_incident_filed)
        bridge.sig_risk_refitted.connect(self._on_risk_refitted)
        bridge.sig_name_offered.connect(self._on_name_offered)
        bridge.sig_name_given.connect(self._on_name_given)
        for report in runtime.health():
            self.health_bar.on_health_changed(report.subsystem, report.state, report.detail)

        self._build_menus()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            self._fit_on_screen()
        tiles = int(str(settings.value("grid/tiles", 0) or 0))
        if tiles in TILE_COUNTS:
            self.camera_grid.set_tile_count(tiles)
        self.camera_grid.sig_tile_count_changed.connect(
            lambda count: self.settings.setValue("grid/tiles", count)
        )
        # Place the panes once (the operator's arrangement); a login shows its own layout.
        arrange(self, Layout.OPERATOR, self.docks)
        self._enter_locked(LoginMode.CHECKING)
        self._check_accounts()
        self._read_idle_setting()
        if self.microphones is not None:
            # The engine runs (the host started it): each microphone's status is signalled.
            self.microphones.start()

    @property
    def actor(self) -> Actor | None:
        """Who the engine checks and audits for this window's actions (None: locked)."""
        return self.session.actor

    # -- engine calls (blocking: run on query workers) -------------------------------------
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
        # The engine checks the permission "run it now" needs, and audits the run.
        actor = self.session.require_actor("run retention")
        retention = self.runtime.retention
        if retention is None:
            raise RuntimeError("retention does not run in this engine")
        run = retention.run_once(requested_by=actor)
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
        actor = self.session.require_actor("change settings")
        writer = self.runtime.writer
        if writer is None:
            raise RuntimeError("the engine runs without a database")
        writer.execute(
            ChangeSetting(key=key, value=value, at=self.runtime.clock.now(), actor=actor)
        )
        self.runtime.apply_settings()  # the detector cadence changes on running cameras

    def _show_site_time(self) -> None:
        site_time = self.runtime.site.site_time
        now = self.runtime.clock.now()
        self.site_clock_label.setText(f"{site_time.minutes(now)} {site_time.zone_label(now)}")
        self.site_clock_label.setToolTip(
            f"Site time ({site_time.name}): every time shown is the site's"
        )

    def _fit_on_screen(self) -> None:
        """A geometry saved on another screen (a monitor since unplugged, a larger one) may
        lie partly off this one: bring the window back inside a screen's free area."""
        frame = self.frameGeometry()
        screen = QApplication.screenAt(frame.center()) or QApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        if free.contains(frame):
            return
        width, height = min(self.width(), free.width()), min(self.height(), free.height())
        self.resize(width, height)
        frame = self.frameGeometry()
        frame.moveCenter(free.center())
        frame.moveTopLeft(QPoint(max(frame.left(), free.left()), max(frame.top(), free.top())))
        self.move(frame.topLeft())

    # -- building ----------------------------------------------------------------------------
    def _dock(self, name: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        return dock

    def _build_menus(self) -> None:
        self._gated_actions: list[QAction] = []  # disabled while locked
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        self.session_menu = self.menuBar().addMenu("&Session")
        self.lock_action = QAction("Lock", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(lambda: self.lock("ctrl+l"))
        self.lock_menu_action = QAction("&Lock\tCtrl+L", self)
        self.lock_menu_action.triggered.connect(lambda: self.lock("menu"))
        self.session_menu.addAction(self.lock_menu_action)
        self.addAction(self.lock_action)  # Ctrl+L: a shortcut of the window, not the menu
        self.change_password_action = QAction("Change my &password…", self)
        self.change_password_action.triggered.connect(self.open_password_dialog)
        self.session_menu.addAction(self.change_password_action)
        self.session_menu.addSeparator()
        self.logout_action = QAction("Log &out", self)
        self.logout_action.triggered.connect(self.logout)
        self.session_menu.addAction(self.logout_action)
        self._gated_actions += [
            self.lock_action,
            self.lock_menu_action,
            self.change_password_action,
            self.logout_action,
        ]

        self.view_menu = self.menuBar().addMenu("&View")
        layouts = self.view_menu.addMenu("&Layout")
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
        self._gated_actions += [*self.layout_actions.values(), reset]

        panes = self.view_menu.addMenu("&Panes")
        for dock in self.docks.values():
            panes.addAction(dock.toggleViewAction())
            self._gated_actions.append(dock.toggleViewAction())

        self.view_menu.addSeparator()
        self.administration_action = QAction("&Administration…", self)
        self.administration_action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.administration_action.triggered.connect(lambda: self.open_administration())
        self.view_menu.addAction(self.administration_action)
        self._gated_actions.append(self.administration_action)

        grid = self.view_menu.addMenu("Camera &grid")
        for count in TILE_COUNTS:
            action = QAction(f"{count} tile{'s' if count > 1 else ''}", self)
            action.triggered.connect(
                lambda _checked=False, n=count: self.camera_grid.set_tile_count(n)
            )
            grid.addAction(action)
            self._gated_actions.append(action)

    def createPopupMenu(self) -> QMenu | None:
        """The dock area's context menu: only the panes the person may open (none while
        locked), instead of Qt's list of every dock."""
        actor = self.session.actor
        if self.locked or actor is None:
            return None
        menu = QMenu(self)
        for name, dock in self.docks.items():
            if pane_allowed(actor, name):
                menu.addAction(dock.toggleViewAction())
        return menu

    # -- administration ----------------------------------------------------------------------
    def open_administration(self, page: str | None = None) -> AdministrationWindow | None:
        """View → Administration…: the configuration window, on ``page`` (or where it was
        left). None while locked or when the person may see no page (or not ``page``)."""
        actor = self.session.actor
        allowed = self.admin_window.allowed_pages()
        if self.locked or actor is None or not allowed:
            return None
        if page is not None and page not in allowed:
            return None
        current = self.admin_window.current_page()
        if page is not None:
            self.admin_window.show_page(page)
        elif current is None or current not in allowed:
            self.admin_window.show_page(allowed[0])
        elif current is not None:
            self._on_admin_page_shown(current)  # read again what may have changed
        self.admin_window.show()
        self.admin_window.raise_()
        self.admin_window.activateWindow()
        return self.admin_window

    def _on_admin_page_shown(self, name: str) -> None:
        """Pages that read the store when asked are read as they come into view."""
        actor = self.session.actor
        if self.locked or actor is None:
            return
        if name == "audit" and actor.may(Permission.READ_AUDIT):
            self.audit.refresh()
        elif name == "accounts" and actor.may(Permission.MANAGE_ACCOUNTS):
            self.accounts.refresh()

    # -- layouts -----------------------------------------------------------------------------
    def switch_layout(self, layout: Layout) -> None:
        """Save the current arrangement under its layout, then show ``layout`` as it was
        last left (or its default arrangement). Refused (with a status message) while
        locked, or when the logged-in person's roles do not allow ``layout``."""
        actor = self.session.actor
        if self.locked or actor is None:
            self.statusBar().showMessage("The console is locked: log in to change the layout")
            return
        if layout not in layouts_for(actor):
            self.statusBar().showMessage(
                f"The {layout.value} layout is not for {_who(actor)}", 10_000
            )
            if self.current_layout is not None:
                self.layout_actions[self.current_layout].setChecked(True)
            return
        if layout is self.current_layout:
            return
        self._save_layout_state()
        self.current_layout = layout
        arrange(self, layout, self.docks)
        state = self.settings.value(f"layouts/{layout.value}/state")
        if state is not None:
            self.restoreState(state, STATE_VERSION)
        self._apply_permissions(actor)
        self.settings.setValue(self._layout_key(actor), layout.value)
        self.layout_actions[layout].setChecked(True)
        self.layout_label.setText(f"Layout: {layout.value}")
        self.sig_layout_changed.emit(layout.value)

    def reset_layout(self) -> None:
        actor = self.session.actor
        if self.current_layout is None or self.locked or actor is None:
            return
        self.settings.remove(f"layouts/{self.current_layout.value}/state")
        arrange(self, self.current_layout, self.docks)
        self._apply_permissions(actor)

    def _save_layout_state(self) -> None:
        if self.current_layout is not None and not self.locked:
            self.settings.setValue(
                f"layouts/{self.current_layout.value}/state", self.saveState(STATE_VERSION)
            )

    @staticmethod
    def _layout_key(actor: Actor) -> str:
        """Where the layout a person last used is kept (per account)."""
        return f"accounts/{actor.kind}-{actor.name.casefold()}/layout"

    def _preferred_layout(self, actor: Actor) -> Layout | None:
        allowed = layouts_for(actor)
        saved = str(self.settings.value(self._layout_key(actor), "") or "")
        if saved in Layout._value2member_map_ and Layout(saved) in allowed:
            return Layout(saved)
        return default_layout_for(actor)

    def _apply_permissions(self, actor: Actor) -> None:
        """Offer ``actor`` only the layouts, panes and pane actions their roles allow (a
        saved arrangement may show a pane another person opened: it is hidden again)."""
        allowed_layouts = layouts_for(actor)
        for layout, action in self.layout_actions.items():
            action.setVisible(layout in allowed_layouts)
            action.setEnabled(not self.locked and layout in allowed_layouts)
        for name, dock in self.docks.items():
            allowed = pane_allowed(actor, name)
            dock.toggleViewAction().setVisible(allowed)
            dock.toggleViewAction().setEnabled(allowed and not self.locked)
            if not allowed:
                dock.hide()
        pages = {name for name, _title in ADMIN_PAGES if pane_allowed(actor, name)}
        self.admin_window.set_allowed(pages)
        self.administration_action.setVisible(bool(pages))
        self.administration_action.setEnabled(bool(pages) and not self.locked)
        if not pages:
            self.admin_window.hide()
        self._tell_panes(actor)
        sensing = self.runtime.sensing
        if sensing is None:
            self.sensing.set_pairing_allowed(False, "This site has no sensing room")
        elif sensing.simulated:
            self.sensing.set_pairing_allowed(False, "The room is simulated: no real nodes to pair")
        else:
            self.sensing.set_pairing_allowed(actor.may(Permission.CONFIGURE_NODES))

    def _tell_panes(self, actor: Actor | None) -> None:
        """Each pane that offers changes hears who may make them now (None: nobody)."""
        for pane in self._actor_aware:
            pane.on_actor_changed(actor)
        self.investigation.set_actor(actor)

    # -- the lock ----------------------------------------------------------------------------
    def lock(self, reason: str = "menu", *, who: Actor | None = None) -> None:
        """Lock now (``reason``: idle, ctrl+l, menu, or revoked with ``who`` when their
        account was disabled meanwhile): nobody may act until someone logs in again; the
        live view stays, the other panes hide, the login panel shows. The arrangement comes
        back when the same person unlocks."""
        if self.locked:
            return
        actor = self.session.clear_actor() or who  # at once: nothing more runs as them
        self._save_layout_state()
        self._state_before_lock = self.saveState(STATE_VERSION)
        self._remembered = actor
        self._enter_locked(
            LoginMode.UNLOCK,
            name=actor.name if actor is not None else "",
            locked_by=_who(actor) if actor is not None else "",
        )
        self.queries.submit_action(
            SESSION_CHANNEL,
            partial(self.session.audit_lock, actor, reason),
            partial(self._on_session_audited, "lock"),
            name="audit lock",
        )

    def logout(self) -> None:
        """Log out: lock, and forget whose arrangement to bring back (the next person to
        log in gets their own layout)."""
        if self.locked:
            return
        actor = self.session.clear_actor()
        self._save_layout_state()
        self._remembered = None
        self._state_before_lock = None
        self._enter_locked(LoginMode.LOGIN)
        self.current_layout = None
        self.queries.submit_action(
            SESSION_CHANNEL,
            partial(self.session.audit_logout, actor),
            partial(self._on_session_audited, "logout"),
            name="audit logout",
        )

    def recheck_account(self) -> None:
        """Re-read the logged-in account on a worker (see :meth:`ConsoleSession.recheck`)."""
        if not self.locked:
            self.queries.submit_action(
                SESSION_CHANNEL, self.session.recheck, self._on_account_rechecked, name="recheck"
            )

    def _on_account_rechecked(self, result: QueryResult[Any]) -> None:
        if not result.ok or result.value is None or self.locked:
            return
        before, now = result.value
        if now is None:
            self.lock("revoked", who=before)
            self.login_panel.show_failure(
                f"{before.name}'s account was disabled by an admin: the console is locked"
            )
        elif now != before and self.session.actor == now:
            self._on_account_changed(now.name)

    def _enter_locked(self, mode: LoginMode, *, name: str = "", locked_by: str = "") -> None:
        self.locked = True
        self.idle_timer.stop()
        self.recheck_timer.stop()
        if self.password_dialog is not None:
            self.password_dialog.reject()
        # Nobody may act while locked: every pane offers nothing (the report form and the
        # teach wizard close), the replay stops, the chat is cleared.
        self._tell_panes(None)
        self._close_what_the_person_opened()
        for dock in self.docks.values():
            dock.hide()
        self.lock_view.show_wall(self.camera_grid)  # the live view stays on
        self.lock_view.show()
        self.login_panel.set_mode(mode, name=name, locked_by=locked_by)
        self.layout_label.clear()
        for action in self._gated_actions:
            action.setEnabled(False)
        self.session_menu.menuAction().setEnabled(False)
        self.view_menu.menuAction().setEnabled(False)
        self._update_session_label()
        self.sig_session_changed.emit("")

    def _close_what_the_person_opened(self) -> None:
        """A lock or logout ends a person's session: the next person does not find the
        clips, dialogs and windows they had open."""
        self.admin_window.hide()
        self.event_history.close_player()
        self.investigation.close_dialogs()
        self.incident_list.close_dialogs()
        self.gestures.close_dialogs()

    def _unlock(self, actor: Actor) -> None:
        """``actor`` logged in: show what their roles allow, as they left it if it was
        they who locked, else in their own layout."""
        same = self._remembered is not None and self._remembered == actor
        self.locked = False
        for action in self._gated_actions:
            action.setEnabled(True)
        self.session_menu.menuAction().setEnabled(True)
        self.view_menu.menuAction().setEnabled(True)
        self.lock_view.hide()
        self.lock_view.take_wall()
        self.docks["cameras"].setWidget(self.camera_grid)
        self.login_panel.set_mode(LoginMode.LOGIN)  # forget what was typed
        if same and self._state_before_lock is not None and self.current_layout is not None:
            self.restoreState(self._state_before_lock, STATE_VERSION)
            self._apply_permissions(actor)
        else:
            self.current_layout = None
            layout = self._preferred_layout(actor)
            if layout is not None:
                self.switch_layout(layout)
            self._apply_permissions(actor)
        if self.current_layout is not None:
            self.layout_label.setText(f"Layout: {self.current_layout.value}")
        self._remembered = None
        self._state_before_lock = None
        self._update_session_label()
        self._restart_idle_timer()
        self.recheck_timer.start()
        self.alert_stream.refresh()  # alerts acknowledged elsewhere (the CLI) while locked
        self.sig_session_changed.emit(actor.name)

    def _restart_idle_timer(self) -> None:
        if self.locked or self.idle_lock_s <= 0:
            self.idle_timer.stop()
            return
        self.idle_timer.start(self.idle_lock_s * 1000)

    def _update_session_label(self) -> None:
        actor = self.session.actor
        if not self.locked and actor is not None:
            self.session_label.setText(_who(actor))
        elif self._remembered is not None:
            self.session_label.setText(f"Locked ({_who(self._remembered)} was logged in)")
        else:
            self.session_label.setText("Locked: nobody is logged in")

    # -- session handlers (GUI thread) -------------------------------------------------------
    def _check_accounts(self, failure: str = "") -> None:
        self.queries.submit_action(
            f"{SESSION_CHANNEL}.accounts",
            self.session.accounts_exist,
            partial(self._on_accounts_checked, failure),
            name="accounts exist",
        )

    def _on_accounts_checked(self, failure: str, result: QueryResult[Any]) -> None:
        if not self.locked or self.login_panel.mode not in (
            LoginMode.CHECKING,
            LoginMode.FIRST_ADMIN,
        ):
            return
        if result.error is not None:
            self.login_panel.set_mode(LoginMode.LOGIN)
            self.login_panel.show_failure(f"cannot read the accounts: {result.error}")
            return
        wanted = LoginMode.LOGIN if result.value else LoginMode.FIRST_ADMIN
        if self.login_panel.mode is not wanted:  # the same mode keeps what was typed
            self.login_panel.set_mode(wanted)
            if failure:
                self.login_panel.show_failure(failure)

    def _on_login_requested(self, name: str, password: str) -> None:
        purpose = "unlock" if self._remembered is not None else "login"
        self.queries.submit_action(
            f"{SESSION_CHANNEL}.login",
            partial(self.session.login, name, password, purpose),
            self._on_logged_in,
            name=purpose,
        )

    def _on_first_admin_requested(self, name: str, password: str, again: str) -> None:
        self.queries.submit_action(
            f"{SESSION_CHANNEL}.login",
            partial(self.session.create_first_admin, name, password, again),
            self._on_first_admin_created,
            name="first admin",
        )

    def _on_logged_in(self, result: QueryResult[Any]) -> None:
        error = result.error
        if isinstance(error, LoginFailedError):
            self.login_panel.show_failure(error.result.reason, error.result.retry_after)
        elif error is not None or not isinstance(result.value, Actor):
            log.warning("login failed: %s", error, exc_info=error)
            self.login_panel.show_failure(f"cannot log in: {error}")
        elif self.locked:
            self._unlock(result.value)

    def _on_first_admin_created(self, result: QueryResult[Any]) -> None:
        error = result.error
        if isinstance(error, AccountError):
            self.login_panel.show_failure(str(error))
            self._check_accounts(failure=str(error))  # another console may have made one
        elif error is not None or not isinstance(result.value, Actor):
            log.warning("first admin not created: %s", error, exc_info=error)
            self.login_panel.show_failure(f"cannot create the admin account: {error}")
        elif self.locked:
            self._unlock(result.value)

    def _on_session_audited(self, what: str, result: QueryResult[Any]) -> None:
        if result.error is not None:
            log.error("the %s was not audited: %s", what, result.error)
            self.statusBar().showMessage(
                f"The {what} was not written to the audit trail: {result.error}"
            )

    def open_password_dialog(self) -> PasswordChangeDialog | None:
        """Session → Change my password…: a dialog (not blocking the window); the change
        runs on a worker."""
        actor = self.session.actor
        if self.locked or actor is None:
            return None
        if self.password_dialog is not None:
            self.password_dialog.raise_()
            return self.password_dialog
        dialog = PasswordChangeDialog(printable(actor.name), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_change_requested.connect(partial(self._on_password_change_requested, dialog))
        dialog.finished.connect(partial(self._on_password_dialog_closed, dialog))
        self.password_dialog = dialog
        dialog.open()
        return dialog

    def _on_password_change_requested(
        self, dialog: PasswordChangeDialog, current: str, new: str, again: str
    ) -> None:
        self.queries.submit_action(
            f"{SESSION_CHANNEL}.password",
            partial(self.session.change_own_password, current, new, again),
            partial(self._on_password_changed, dialog),
            name="change password",
        )

    def _on_password_changed(self, dialog: PasswordChangeDialog, result: QueryResult[Any]) -> None:
        if self.password_dialog is not dialog:
            return  # closed meanwhile (the console locked)
        error = result.error
        if isinstance(error, LoginFailedError):
            reason = error.result.reason
            dialog.show_error(f"the current password is not right ({reason})")
        elif error is not None:
            dialog.show_error(str(error))
        else:
            dialog.accept()
            self.statusBar().showMessage("Your password was changed.", 10_000)

    def _on_password_dialog_closed(self, dialog: PasswordChangeDialog, _code: int) -> None:
        if self.password_dialog is dialog:
            self.password_dialog = None

    def _read_idle_setting(self) -> None:
        self.queries.submit_action(
            f"{SESSION_CHANNEL}.idle",
            self.session.idle_lock_seconds,
            self._on_idle_setting_read,
            name="idle lock setting",
        )

    def _on_idle_setting_read(self, result: QueryResult[Any]) -> None:
        if result.error is not None or not isinstance(result.value, int):
            log.warning("cannot read %s: %s", IDLE_LOCK_KEY, result.error)
            self.statusBar().showMessage(
                f"Cannot read {IDLE_LOCK_KEY} ({result.error}): the console locks after "
                f"{self.idle_lock_s} s without input"
            )
            return
        self.idle_lock_s = result.value
        self._restart_idle_timer()

    def _on_settings_saved(self, keys: list[str]) -> None:
        if IDLE_LOCK_KEY in keys:
            self._read_idle_setting()

    def _on_account_changed(self, name: str) -> None:
        """An admin changed an account: if it is their own, their roles may have changed
        (the session already acts with the new ones), so offer what the new roles allow."""
        actor = self.session.actor
        if self.locked or actor is None or actor.name.casefold() != name.casefold():
            return
        self._update_session_label()
        if self.current_layout not in layouts_for(actor):
            self.current_layout = None
            layout = self._preferred_layout(actor)
            if layout is not None:
                self.switch_layout(layout)
        self._apply_permissions(actor)

    # -- engine events -----------------------------------------------------------------------
    def _on_camera_status_changed(self, event: CameraStatusChanged) -> None:
        self.camera_grid.on_camera_status_changed(
            event.camera_id, event.status, event.detail, event.since
        )
        self.site_overview.on_camera_status_changed(event.camera_id, event.status, event.detail)

    def _on_health_changed(self, event: SubsystemHealth) -> None:
        self.health_bar.on_health_changed(event.subsystem, event.state, event.detail)

    def _on_history_event_added(self, views: tuple[EventView, ...]) -> None:
        """Events the store writer committed (with their ids), one transaction's worth."""
        self.event_history.on_events_stored(views)
        kinds = {view.kind for view in views}
        if kinds & {"face.recognised", "person.appeared"}:
            self._people_refresh.start()  # coalesce bursts into one re-read
        if "gesture.detected" in kinds and self.gestures.isVisible():
            # The usage columns: the detection was counted by a command the writer took
            # before the detection's row (the bus serves GestureDetected's own subscribers
            # before Event's), so the count is committed by now.
            self.gestures.refresh()

    def _on_sensing_updated(self, snapshot: SensingSnapshot) -> None:
        self.sensing.set_snapshot(snapshot)

    def _on_blob_clicked(self, room_id: str, track_id: int) -> None:
        """Explain the clicked blob (from the latest tick's activations: no I/O, a few
        milliseconds of arithmetic, so it is done here); a replayed blob from its replayed
        tick."""
        if self.investigation.replay.explain_blob(room_id, track_id):
            return
        sensing = self.runtime.sensing
        if sensing is None or sensing.room.room_id != room_id:
            return
        self.sensing.set_explanation(sensing.explain(track_id))

    def _on_pairing_requested(self, seconds: int) -> None:
        actor = self.actor
        if actor is None:
            return

        def open_window() -> str:  # on a query worker: the audit waits on the store writer
            until = self.runtime.open_pairing(actor, seconds)
            return display().clock(until)

        self.queries.submit_action("sensing-pairing", open_window, self._on_pairing_opened)

    def _on_pairing_opened(self, result: QueryResult[Any]) -> None:
        if result.error is not None:
            self.statusBar().showMessage(f"Pairing not opened: {printable(str(result.error))}")
        else:
            self.statusBar().showMessage(f"Node pairing open until {result.value}", 10_000)

    def _on_alert_raised(self, event: AlertRaised) -> None:
        self.alert_stream.on_alert_raised(event.alert)
        self.alert_list.on_alerts_changed()
        self._notify_desktop(event.alert.severity, event.alert.title)

    def _notify_desktop(self, severity: str, title: str) -> None:
        """A desktop notification (the chime is the alert stream's): the system tray's
        balloon where the desktop has a tray, else the status bar."""
        if self._tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            self._tray = QSystemTrayIcon(self.windowIcon(), self)
            self._tray.setToolTip("Watchfloor")
            self._tray.show()
        text = printable(title)
        if self._tray is not None:
            icon = (
                QSystemTrayIcon.MessageIcon.Critical
                if severity == "critical"
                else QSystemTrayIcon.MessageIcon.Warning
            )
            self._tray.showMessage("Watchfloor alert", text, icon, 15_000)
        self.statusBar().showMessage(f"Alert: {text}", 15_000)

    def _on_sequence_added(self, _event: SequenceAdded) -> None:
        self.alert_list.on_alerts_changed()

    def _on_alert_clip_requested(self, path: str) -> None:
        self.event_history.play_clip(Path(path))
        self.docks["events"].show()
        self.docks["events"].raise_()

    def _latest_frame(self, camera: str) -> QImage | None:
        """The camera's newest decoded frame, copied (in memory: no I/O)."""
        getter = self._frame_getters.get(camera)
        frame = getter() if getter is not None else None
        if frame is None:
            return None
        image = frame.image
        height, width = image.shape[:2]
        return QImage(
            image.data, width, height, image.strides[0], QImage.Format.Format_BGR888
        ).copy()

    def _on_alert_changed(self, event: AlertChanged) -> None:
        self.alert_stream.on_alert_changed(event.alert, event.change)
        self.alert_list.on_alerts_changed()

    def _on_alert_delivered(self, event: AlertDelivered) -> None:
        self.alert_stream.on_alert_delivered(
            event.alert_id, event.escalation, event.url, event.delivered, event.error
        )

    def _on_alert_problem(self, event: AlertProblem) -> None:
        self.alert_stream.on_alert_problem(event.message)

    def _on_open_alerts_changed(self, open_alerts: int) -> None:
        self.docks["alerts"].setWindowTitle(alerts_title(open_alerts))

    def _on_alert_attention_requested(self, _alert_id: int) -> None:
        """A new or escalated alert: the window system flags the window (a taskbar flash
        when it is not in front), and for someone logged in who may see it the alert stream
        comes forward: shown if it was closed, in front of the panes it shares a place with.
        A locked console stays locked (the chime still sounds)."""
        QApplication.alert(self)
        actor = self.session.actor
        if self.locked or actor is None or not pane_allowed(actor, "alerts"):
            return
        dock = self.docks["alerts"]
        dock.show()
        dock.raise_()

    def _on_incident_filed(self, _event: IncidentFiled) -> None:
        self.incident_list.on_incidents_changed()
        self.risk_map.on_incidents_changed()

    def _on_risk_refitted(self, _event: RiskRefitted) -> None:
        self.risk_map.on_model_refitted()

    def _on_event_escalated(self, _source_id: int, incident_id: int) -> None:
        """An alert or event became an incident: the list and the map show it (the list
        reads it again when the engine's IncidentFiled arrives)."""
        self.incident_list.select_incident(incident_id)
        self.risk_map.select_incident(incident_id)

    def _on_alert_mute_changed(self, muted: bool) -> None:
        self.settings.setValue(ALERTS_MUTED_KEY, muted)

    def _on_people_changed(self, *_public_ids: str) -> None:
        self.event_history.refresh()
        self.ble_devices.refresh()  # carriers' names, and devices gone with an erased person

    def _on_ble_devices_changed(self, _address: str) -> None:
        self.people.refresh(warn=False)  # a device registered to a new name adds a person

    def _hear(self, camera: str, samples: Any, rate_hz: int, captured_at: datetime) -> None:
        """A microphone's audio (GUI thread): queued for the camera's speech worker (never
        blocks; a chunk the full queue refuses is dropped)."""
        self.runtime.hear(camera, samples, rate_hz, captured_at)

    def _on_microphone_status_changed(self, status: MicrophoneStatus) -> None:
        self.runtime.set_microphone_status(status.camera, status.listening, status.detail)
        self.introductions.on_microphone_status_changed(
            status.camera, status.listening, status.detail
        )

    def _on_name_offered(self, event: NameOffered) -> None:
        self.introductions.on_name_offered(event)
        if not self.locked and not event.given:
            self.statusBar().showMessage(f"Introduction: {printable(event.detail)}", 15_000)

    def _on_name_given(self, event: NameGiven) -> None:
        self.introductions.on_name_given(event)
        self._people_refresh.start()  # the person's new name (coalesced: one re-read)

    def _on_open_introductions_changed(self, open_offers: int) -> None:
        self.docks["introductions"].setWindowTitle(introductions_title(open_offers))

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_layout_state()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        self._people_refresh.stop()
        self._site_clock_timer.stop()
        self.idle_timer.stop()
        self.recheck_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._idle_watch)
        if self.password_dialog is not None:
            self.password_dialog.reject()
        self.admin_window.hide()
        self.incident_list.close_dialogs()
        self.gestures.close_dialogs()  # a recording underway stops before the workers close
        if self.microphones is not None:
            self.microphones.stop()
        self.speech_queries.close()  # waits for a file being recognised
        self.queries.close()  # waits for a running read; no query thread outlives the window
        self.investigation.close()  # the replay decoder, the export dialog, the chat client
        super().closeEvent(event)


def _who(actor: Actor) -> str:
    """``ada (admin)``: how the status bar and the lock name a person."""
    return f"{printable(actor.name)} ({roles_text(actor.roles).replace(',', ', ')})"
