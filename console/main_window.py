"""The main window: dockable panes, role layouts, the lock and the health status bar.

The window opens locked: the live view stays on, every other pane is hidden, the menus
other than File → Quit and Help are disabled, and a login panel sits beside the cameras (or asks for
the first admin on a fresh install). A login shows the panes and layouts the person's roles
allow; Ctrl+L, Session → Lock, Session → Switch user (a handover) and a stretch without input
(``security.idle_lock_s``, after a countdown; a workstation may spare roles) lock it again.
The lock screen says which alerts are open, from the Alerts pane's memory, as they come and
go. Who is logged in lives in :class:`console.session.ConsoleSession`: every change the
window or a pane asks of the engine is made as that person, and the engine checks them.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TypeVar

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QCursor
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from console.bridge import QtBridge
from console.help import ConsoleHelp
from console.layouts import (
    ADMIN_PAGES,
    STATE_VERSION,
    WALL_PANES,
    Layout,
    arrange,
    fit_on_screen,
    layouts_for,
    pane_allowed,
    preferred_layout,
    remember_layout,
)
from console.login_flow import IdleWatch, LoginFlow
from console.menus import ConsoleMenus
from console.pane_host import PaneHost
from console.session import ConsoleSession
from console.status_line import StatusLine
from engine.access import Actor, Permission
from engine.accounts import roles_text
from engine.data_dirs import data_dir
from engine.runtime import EngineRuntime
from engine.store.database import display_url
from engine.text import printable
from engine.wording import what_stops
from widgets.admin_window import AdministrationWindow
from widgets.alerts.view import AlertStreamPane
from widgets.cameras.view import CameraGrid
from widgets.cameras.wall_window import WallWindow
from widgets.lock_view import LockAlerts, LockView
from widgets.login_panel import LoginMode, LoginPanel

W = TypeVar("W", bound=QWidget)
log = logging.getLogger(__name__)

REFUSED_QUIT_AUDIT_S = 60.0  # a refused quit is audited at most once a minute (a held Ctrl+Q)


class MainWindow(QMainWindow):
    """Hosts the panes for one running engine. Layout choices persist in ``settings``.

    The panes are built by a :class:`~console.pane_host.PaneHost` from the plugin list
    (``panes`` by name, ``docks`` for the wall's); they read the store through its query
    client (:attr:`queries`: worker threads, results handed back on the GUI thread);
    closing the window stops it. The window starts locked (see the module doc);
    ``session`` (made here if not given) says who is logged in.
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
        attached = (
            f" (attached to {display_url(runtime.store.url)})"
            if runtime.attached and runtime.store is not None
            else ""
        )
        self.setWindowTitle(f"Watchfloor — {runtime.site.name}{attached}")
        self.setDockNestingEnabled(True)
        self.resize(1400, 860)
        store = runtime.store
        if store is None:
            raise ValueError("the console needs a database (EngineRuntime with a store)")
        self.session = session or ConsoleSession(store, runtime.writer, runtime.clock)
        self.locked = True
        self.current_layout: Layout | None = None
        self._state_before_lock: QByteArray | None = None
        self.docks: dict[str, QDockWidget] = {}  # the wall's panes, once built
        self._stop: tuple[Actor, str] | None = None  # who stops this console, and how
        self._refused_quit_audited: dict[str, float] = {}  # who → when (monotonic s)
        self.quit_box: QMessageBox | None = None  # the open "Quit Watchfloor?" question

        self.host = PaneHost(
            self,
            runtime,
            store,
            bridge,
            self.session,
            settings,
            data_dir(),
            show_pane=self.show_pane,
            set_pane_title=self._set_pane_title,
            settings_changed=lambda keys: self.login.settings_changed(keys),
            account_changed=self.account_changed,
        )
        self.queries = self.host.queries
        self.panes = self.host.panes
        self.backends = self.host.backends
        # The live wall: behind the lock as well as on a dock.
        self.camera_grid = self.pane("cameras", CameraGrid)
        self.wall_windows: list[WallWindow] = []  # View → New wall window
        self.docks.update({spec.name: self._dock(spec.name, spec.title) for spec in WALL_PANES})
        # What is configured rather than watched: the administration window's pages.
        self.admin_window = AdministrationWindow(runtime.site.name, self)
        for name, title in ADMIN_PAGES:
            self.admin_window.add_page(name, title, self.panes[name])
        self.admin_window.sig_page_shown.connect(self.host.page_shown)
        self.login_panel = LoginPanel()
        self.login = LoginFlow(
            self, self, self.session, self.queries, self.login_panel, settings=settings
        )
        self._idle_watch = IdleWatch(self.login.idle_timer, self, on_input=self.login.input_seen)
        # While locked the lock view fills the window (the live wall beside the login card)
        # and every dock is hidden; logged in, it hides and the docks take the window.
        self.lock_view = LockView(runtime.site.name, self.login_panel)
        self.setCentralWidget(self.lock_view)
        self._show_alerts_when_locked()
        self.status = StatusLine(
            self.statusBar(), runtime.site.site_time, runtime.clock.now, bridge, runtime.health()
        )
        # Help's own worker: a docs build (about 15 s) must not hold one of the panes' readers.
        self.help = ConsoleHelp(self, self.host.dedicated_queries(1), self.pane_in_view)
        self.menus = ConsoleMenus(
            self,
            self.docks,
            lock=self.lock,
            change_password=self.login.open_password_dialog,
            logout=self.logout,
            switch_layout=self.switch_layout,
            reset_layout=self.reset_layout,
            open_administration=self.open_administration,
            set_tile_count=self.camera_grid.set_tile_count,
            open_wall_window=self.open_wall_window,
            open_documentation=self.help.open_documentation,
            open_pane_help=self.help.open_pane_help,
        )
        self.admin_window.addAction(self.menus.pane_help_action)  # F1 on an admin page
        self.layout_actions = self.menus.layout_actions
        self.administration_action = self.menus.administration_action
        self._add_session_actions()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            fit_on_screen(self)
        # Place the panes once (the operator's arrangement); a login shows its own layout.
        arrange(self, Layout.OPERATOR, self.docks)
        self._enter_locked(LoginMode.CHECKING)
        self.login.check_accounts()
        self.login.read_idle_setting()

    @property
    def actor(self) -> Actor | None:
        """Who the engine checks and audits for this window's actions (None: locked)."""
        return self.session.actor

    def open_wall_window(self) -> WallWindow:
        """View → New wall window: the cameras in a window of their own, for another
        monitor (see :mod:`widgets.cameras.wall_window`); closed with the console."""
        taken = {window.number for window in self.wall_windows}
        number = next(n for n in range(2, len(taken) + 3) if n not in taken)
        window = WallWindow(self.camera_grid, self.runtime.site.name, number)
        self.wall_windows.append(window)
        window.destroyed.connect(lambda _=None, w=window: self._wall_window_closed(w))
        window.show()
        return window

    def _wall_window_closed(self, window: WallWindow) -> None:
        if window in self.wall_windows:
            self.wall_windows.remove(window)

    def pane(self, name: str, kind: type[W]) -> W:
        """Pane ``name``'s widget, which must be a ``kind`` (a TypeError names it if not)."""
        widget = self.panes[name]
        if not isinstance(widget, kind):
            raise TypeError(f"pane {name!r} is a {type(widget).__name__}, not a {kind.__name__}")
        return widget

    def _set_pane_title(self, name: str, title: str) -> None:
        dock = self.docks.get(name)
        if dock is not None:
            dock.setWindowTitle(title)

    def _dock(self, name: str, title: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(self.panes[name])
        return dock

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

    def pane_in_view(self) -> str | None:
        """The pane the person is in, for F1: the administration window's page when that
        window is active, else the pane holding the keyboard focus, else the one under the
        mouse (None: none of them)."""
        if self.admin_window.isActiveWindow():
            return self.admin_window.current_page()
        for widget in (QApplication.focusWidget(), QApplication.widgetAt(QCursor.pos())):
            while widget is not None:
                for name, pane in self.panes.items():
                    if widget is pane or widget is self.docks.get(name):
                        return name
                widget = widget.parentWidget()
        return None

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
            self.host.page_shown(current)  # read again what may have changed
        self.admin_window.show()
        self.admin_window.raise_()
        self.admin_window.activateWindow()
        return self.admin_window

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
        remember_layout(self.settings, actor, layout)
        self.layout_actions[layout].setChecked(True)
        self.status.layout_label.setText(f"Layout: {layout.value}")
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
        self.host.tell_actor(actor)

    def show_pane(self, name: str) -> None:
        """Bring wall pane ``name`` forward (shown, in front of the panes sharing its
        place) for someone logged in who may see it; a locked console stays locked."""
        dock = self.docks.get(name)
        if self.locked or dock is None or not pane_allowed(self.session.actor, name):
            return
        dock.show()
        dock.raise_()

    # -- the lock ----------------------------------------------------------------------------
    def _add_session_actions(self) -> None:
        """Session → Switch user (a handover: the lock, said as such) after Lock, and
        Session → Idle lock at this workstation… (the menu is disabled while locked)."""
        menu = self.menus.session_menu
        after_lock = menu.actions()[1]
        self.switch_user_action = QAction("&Switch user", self)
        menu.insertAction(after_lock, self.switch_user_action)
        self.switch_user_action.triggered.connect(lambda: self.lock("switch"))
        self.idle_lock_action = QAction("&Idle lock at this workstation…", self)
        menu.insertAction(after_lock, self.idle_lock_action)
        self.idle_lock_action.triggered.connect(self.login.open_idle_dialog)

    def _show_alerts_when_locked(self) -> None:
        """Keep the lock card's alert lines as the Alerts pane's list (memory: the pane
        hears every raise, escalation and acknowledgement from the bridge and lists the
        store on its workers), locked or not, so they are right the moment it locks."""
        pane = self.panes.get("alerts")
        if not isinstance(pane, AlertStreamPane):
            return
        pane.sig_alerts_listed.connect(self._on_lock_alerts_changed)
        pane.sig_open_count_changed.connect(self._on_lock_alerts_changed)
        pane.sig_attention_requested.connect(self._on_lock_alerts_changed)  # raised, escalated
        pane.sig_mute_changed.connect(self._on_lock_alerts_changed)
        self._on_lock_alerts_changed()

    def _on_lock_alerts_changed(self, *_: object) -> None:
        pane = self.panes.get("alerts")
        if not isinstance(pane, AlertStreamPane):
            return
        alerts = [alert for alert in pane.alerts() if alert.open]
        if not alerts and pane.listings == 0:
            self.lock_view.set_alerts(LockAlerts(listed=False))
            return
        newest = max(alerts, key=lambda alert: alert.raised_at, default=None)
        self.lock_view.set_alerts(
            LockAlerts(
                muted=pane.muted,
                open=len(alerts),
                escalated=sum(1 for alert in alerts if alert.escalated_at is not None),
                newest_title=newest.title if newest is not None else "",
                newest_at=(
                    self.runtime.site.site_time.short(newest.raised_at, self.runtime.clock.now())
                    if newest is not None
                    else ""
                ),
            )
        )

    def lock(self, reason: str = "menu", *, who: Actor | None = None) -> None:
        """Lock now (``reason``: idle, ctrl+l, menu, switch, or revoked with ``who`` when
        their account was disabled meanwhile): nobody may act until someone logs in again;
        the live view stays, the other panes hide, the login panel shows, empty (the next
        person types their own name). The arrangement comes back when the same person
        unlocks."""
        if self.locked:
            return
        actor = self.session.clear_actor() or who  # at once: nothing more runs as them
        self._save_layout_state()
        self._state_before_lock = self.saveState(STATE_VERSION)
        self.login.remembered = actor
        self._enter_locked(LoginMode.UNLOCK, locked_by=_who(actor) if actor is not None else "")
        self.login.audit_left(actor, "lock", reason)

    def logout(self) -> None:
        """Log out: lock, and forget whose arrangement to bring back (the next person to
        log in gets their own layout)."""
        if self.locked:
            return
        actor = self.session.clear_actor()
        self._save_layout_state()
        self.login.remembered = None
        self._state_before_lock = None
        self._enter_locked(LoginMode.LOGIN)
        self.current_layout = None
        self.login.audit_left(actor, "logout", "menu")

    def _enter_locked(self, mode: LoginMode, *, name: str = "", locked_by: str = "") -> None:
        self.locked = True
        self.login.stopped()
        # Nobody may act while locked: every pane offers nothing, and what the person
        # opened (clips, dialogs, the replay, the administration window) closes.
        self.host.tell_actor(None)
        self.admin_window.hide()
        self.host.close_what_was_opened()
        for dock in self.docks.values():
            dock.hide()
        self.lock_view.show_wall(self.camera_grid)  # the live view stays on
        self.lock_view.show()
        self.login_panel.set_mode(mode, name=name, locked_by=locked_by)
        self.status.layout_label.clear()
        self.menus.set_locked(True)
        self._update_session_label()
        self.sig_session_changed.emit("")

    def unlock_for(self, actor: Actor) -> None:
        """``actor`` logged in: show what their roles allow, as they left it if it was
        they who locked, else in their own layout."""
        same = self.login.remembered is not None and self.login.remembered == actor
        self.locked = False
        self.menus.set_locked(False)
        self.lock_view.hide()
        self.lock_view.take_wall()
        self.docks["cameras"].setWidget(self.camera_grid)
        self.login_panel.set_mode(LoginMode.LOGIN)  # forget what was typed
        layout = None
        if same and self._state_before_lock is not None and self.current_layout is not None:
            self.restoreState(self._state_before_lock, STATE_VERSION)
        else:
            self.current_layout = None
            layout = preferred_layout(self.settings, actor)
        if layout is not None:
            self.switch_layout(layout)  # offers what the roles allow, once
        else:
            self._apply_permissions(actor)
        if self.current_layout is not None:
            self.status.layout_label.setText(f"Layout: {self.current_layout.value}")
        self.login.remembered = None
        self._state_before_lock = None
        self._update_session_label()
        self._idle_watch.watch(self.windowHandle())
        self.login.started()
        self.sig_session_changed.emit(actor.name)

    def _update_session_label(self) -> None:
        actor, remembered = self.session.actor, self.login.remembered
        if not self.locked and actor is not None:
            self.status.session_label.setText(_who(actor))
        elif remembered is not None:
            self.status.session_label.setText(f"Locked ({_who(remembered)} was logged in)")
        else:
            self.status.session_label.setText("Locked: nobody is logged in")

    def account_changed(self, name: str) -> None:
        """An admin changed an account: if it is their own, their roles may have changed
        (the session already acts with the new ones), so offer what the new roles allow."""
        actor = self.session.actor
        if self.locked or actor is None or actor.name.casefold() != name.casefold():
            return
        self._update_session_label()
        if self.current_layout not in layouts_for(actor):
            self.current_layout = None
            layout = preferred_layout(self.settings, actor)
            if layout is not None:
                self.switch_layout(layout)
        self._apply_permissions(actor)

    # -- stopping ----------------------------------------------------------------------------
    def what_stops(self) -> str:
        """What closing this console stops, in words ("recording stops on 1 camera and 1
        sensing room"; "" for an attached console or one that runs nothing)."""
        if self.runtime.attached:
            return ""
        return what_stops(len(self.runtime.cameras.sources), len(self.runtime.sensing.services))

    def request_quit(self) -> None:
        """File → Quit, Ctrl+Q or the window's close button. A locked console stays open
        and says why; a person whose account may not stop the engine is told so (each
        refusal audited, at most once a minute); anyone else is asked to confirm, in words
        naming what stops, and the stop is audited as theirs."""
        stops = self.what_stops()
        actor = self.session.actor
        if self.locked or actor is None:
            self.login_panel.show_failure(
                "This console is locked and stays open"
                + (f" ({stops})" if stops else "")
                + ". To quit, log in with an account that may stop the engine."
            )
            self._audit_refused_quit(actor, "locked", stops)
            return
        if stops and not actor.may(Permission.STOP_ENGINE):
            self._audit_refused_quit(actor, "not allowed", stops)
            self._ask(
                QMessageBox.Icon.Information,
                "Watchfloor keeps running",
                f"{_who(actor)} may not stop the engine: {stops} if this console closes.",
                "Lock the console instead (Ctrl+L), or ask an admin to quit it. Sites that "
                "must never stop run the engine as a service and attach consoles to it.",
                QMessageBox.StandardButton.Ok,
            )
            return
        box = self._ask(
            QMessageBox.Icon.Warning,
            "Quit Watchfloor?",
            f"Quit Watchfloor? {stops[:1].upper() + stops[1:]}, and alerts and analysis "
            "stop with it."
            if stops
            else "Quit this console? The site's engines keep recording.",
            f"The stop is written to the audit trail as {_who(actor)}'s.",
            QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes,
        )
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText("Quit and stop recording" if stops else "Quit")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(
            lambda _result: (
                self.shut_down("quit", actor)
                if box.clickedButton() is yes and self.session.actor == actor and not self.locked
                else None
            )
        )

    def _ask(
        self,
        icon: QMessageBox.Icon,
        title: str,
        text: str,
        detail: str,
        *buttons: QMessageBox.StandardButton,
    ) -> QMessageBox:
        """A window-modal question that does not block the GUI thread (the engine keeps
        running while it is open); one at a time."""
        if self.quit_box is not None:
            self.quit_box.close()
        box = QMessageBox(icon, title, text, parent=self)
        for button in buttons:
            box.addButton(button)
        box.setInformativeText(detail)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda: setattr(self, "quit_box", None))
        self.quit_box = box
        box.open()
        return box

    def _audit_refused_quit(self, actor: Actor | None, why: str, stops: str) -> None:
        # Nobody is logged in at a locked console: whoever pressed Ctrl+Q is not known.
        who: Actor | str = actor if actor is not None else "unknown:locked console"
        label = who.label if isinstance(who, Actor) else who
        now = self.runtime.clock.monotonic()
        last = self._refused_quit_audited.get(label)
        if last is not None and now - last < REFUSED_QUIT_AUDIT_S:
            return
        self._refused_quit_audited[label] = now
        call = partial(
            self.session.audit_stop, who, "quit", {"refused": why, "stops": stops}, outcome="denied"
        )
        self.queries.submit_action("quit", call, lambda _result: None, name="audit refused quit")

    def shut_down(self, cause: str, actor: Actor) -> None:
        """Close the console and stop its engine now, without asking: the stop is audited
        as ``actor``'s, ``cause`` saying how it came (quit, a signal such as SIGTERM,
        the end of a test). The only way this window closes."""
        if self._stop is not None:
            return  # stopped already
        self._stop = (actor, cause)
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._stop is None:
            event.ignore()  # the close button or Ctrl+Q: asked, or refused, first
            self.request_quit()
            return
        actor, cause = self._stop
        try:
            self.session.audit_stop(
                actor,
                cause,
                {
                    "stops": self.what_stops(),
                    "session": _who(self.session.actor) if self.session.actor else "",
                },
            )
        except Exception:  # an engine without a database, or a stopped writer: still stop
            log.exception("the stop (%s by %s) was not audited", cause, actor.label)
        if self.quit_box is not None:
            self.quit_box.close()
        self.help.close()
        self._save_layout_state()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        self.status.stop()
        self.login.stopped()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._idle_watch)
        self.admin_window.hide()
        for window in list(self.wall_windows):
            window.close()
        self.host.close()  # the panes' dialogs, microphones and replay; the query workers
        super().closeEvent(event)


def _who(actor: Actor) -> str:
    """``ada (admin)``: how the status bar and the lock name a person."""
    return f"{printable(actor.name)} ({roles_text(actor.roles).replace(',', ', ')})"
