"""The session's conversations with the engine, for the main window: is there an
account yet, logging in (or creating the first admin), changing one's password, re-reading
the logged-in account now and then, the idle-lock setting, and auditing a lock or logout.

Every call runs on the query workers (a login waits on a deliberately slow hash and on
the store writer); the answers come back on the GUI thread, where the window is asked to
unlock or lock (:class:`LockHost`). Nothing here arranges panes.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QMainWindow

from console.queries import QtQueryClient
from console.session import DEFAULT_IDLE_LOCK_S, IDLE_LOCK_KEY, ConsoleSession
from engine.access import Actor
from engine.accounts import AccountError, LoginFailedError
from engine.history.query_service import QueryResult
from engine.text import printable
from widgets.login_panel import LoginMode, LoginPanel, PasswordChangeDialog

log = logging.getLogger(__name__)

CHANNEL = "session"
ACCOUNT_RECHECK_MS = 15_000  # how soon a disabled account or changed roles reach a console


INPUT_EVENTS = frozenset(
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
    """Any keyboard or mouse input in one of the console's windows restarts ``timer`` (if
    it runs), so it fires only after that long without input. GUI thread.

    It filters each top-level window's events (the QWindow, which receives a person's
    input before its widgets do, and little else), not the application's: Qt calls an
    application filter for every event of every widget, each a call into Python (35,000
    in the console journey benchmark, about 8 % of the GUI thread's time). Each window is
    watched from when it first has the focus (a dialog, the administration window) or when
    :meth:`watch` is given it (the main window, at each login).
    """

    def __init__(self, timer: QTimer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = timer
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self.watch)

    def watch(self, window: QWindow | None) -> None:
        """Watch ``window``'s input (again: Qt keeps one filter per window)."""
        if window is not None:
            window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS and self._timer.isActive():
            self._timer.start()  # restarts with the same interval
        return False


class LockHost(Protocol):
    """What the flow asks of the window."""

    locked: bool

    def lock(self, reason: str = "menu", *, who: Actor | None = None) -> None: ...

    def unlock_for(self, actor: Actor) -> None: ...

    def account_changed(self, name: str) -> None: ...


class LoginFlow(QObject):
    """The login panel's requests, the password dialog, the account re-check and the idle
    lock for ``window``. ``idle_timer`` fires after ``idle_lock_s`` without input."""

    def __init__(
        self,
        window: QMainWindow,
        host: LockHost,
        session: ConsoleSession,
        queries: QtQueryClient,
        panel: LoginPanel,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._host = host
        self._session = session
        self._queries = queries
        self.panel = panel
        self.remembered: Actor | None = None  # who was logged in when it locked
        self.password_dialog: PasswordChangeDialog | None = None
        self.idle_lock_s = DEFAULT_IDLE_LOCK_S
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(lambda: host.lock("idle"))
        # An admin may disable the logged-in account or change its roles elsewhere: re-read
        # it now and then (on a worker), and lock or re-apply the roles.
        self.recheck_timer = QTimer(self)
        self.recheck_timer.setInterval(ACCOUNT_RECHECK_MS)
        self.recheck_timer.timeout.connect(self.recheck_account)
        panel.sig_login_requested.connect(self._on_login_requested)
        panel.sig_first_admin_requested.connect(self._on_first_admin_requested)

    def _say(self, text: str, timeout_ms: int = 0) -> None:
        self._window.statusBar().showMessage(text, timeout_ms)

    # -- the idle lock -----------------------------------------------------------------------
    def started(self) -> None:
        """Someone logged in: the idle lock and the re-check run."""
        self.restart_idle_timer()
        self.recheck_timer.start()

    def stopped(self) -> None:
        """The console locked: no idle lock, no re-check, no password dialog."""
        self.idle_timer.stop()
        self.recheck_timer.stop()
        if self.password_dialog is not None:
            self.password_dialog.reject()

    def restart_idle_timer(self) -> None:
        if self._host.locked or self.idle_lock_s <= 0:
            self.idle_timer.stop()
            return
        self.idle_timer.start(self.idle_lock_s * 1000)

    def read_idle_setting(self) -> None:
        self._queries.submit_action(
            f"{CHANNEL}.idle",
            self._session.idle_lock_seconds,
            self._on_idle_setting_read,
            name="idle lock setting",
        )

    def _on_idle_setting_read(self, result: QueryResult[Any]) -> None:
        if result.error is not None or not isinstance(result.value, int):
            log.warning("cannot read %s: %s", IDLE_LOCK_KEY, result.error)
            self._say(
                f"Cannot read {IDLE_LOCK_KEY} ({result.error}): the console locks after "
                f"{self.idle_lock_s} s without input"
            )
            return
        self.idle_lock_s = result.value
        self.restart_idle_timer()

    def settings_changed(self, keys: list[str]) -> None:
        if IDLE_LOCK_KEY in keys:
            self.read_idle_setting()

    # -- auditing a lock or logout -----------------------------------------------------------
    def audit_left(self, actor: Actor | None, what: str, reason: str) -> None:
        """Audit ``actor``'s lock (``what`` "lock", with its ``reason``) or logout, on a
        worker (it may wait while the writer's queue is full)."""
        if what == "lock":
            call = partial(self._session.audit_lock, actor, reason)
        else:
            call = partial(self._session.audit_logout, actor)
        self._queries.submit_action(
            CHANNEL, call, partial(self._on_session_audited, what), name=f"audit {what}"
        )

    def _on_session_audited(self, what: str, result: QueryResult[Any]) -> None:
        if result.error is not None:
            log.error("the %s was not audited: %s", what, result.error)
            self._say(f"The {what} was not written to the audit trail: {result.error}")

    # -- re-reading the logged-in account ----------------------------------------------------
    def recheck_account(self) -> None:
        """Re-read the logged-in account on a worker (see :meth:`ConsoleSession.recheck`)."""
        if not self._host.locked:
            self._queries.submit_action(
                CHANNEL, self._session.recheck, self._on_account_rechecked, name="recheck"
            )

    def _on_account_rechecked(self, result: QueryResult[Any]) -> None:
        if not result.ok or result.value is None or self._host.locked:
            return
        before, now = result.value
        if now is None:
            self._host.lock("revoked", who=before)
            self.panel.show_failure(
                f"{before.name}'s account was disabled by an admin: the console is locked"
            )
        elif now != before and self._session.actor == now:
            self._host.account_changed(now.name)

    # -- logging in --------------------------------------------------------------------------
    def check_accounts(self, failure: str = "") -> None:
        """Ask whether any account exists: the panel then asks for a login or the first
        admin."""
        self._queries.submit_action(
            f"{CHANNEL}.accounts",
            self._session.accounts_exist,
            partial(self._on_accounts_checked, failure),
            name="accounts exist",
        )

    def _on_accounts_checked(self, failure: str, result: QueryResult[Any]) -> None:
        panel = self.panel
        if not self._host.locked or panel.mode not in (LoginMode.CHECKING, LoginMode.FIRST_ADMIN):
            return
        if result.error is not None:
            panel.set_mode(LoginMode.LOGIN)
            panel.show_failure(f"cannot read the accounts: {result.error}")
            return
        wanted = LoginMode.LOGIN if result.value else LoginMode.FIRST_ADMIN
        if panel.mode is not wanted:  # the same mode keeps what was typed
            panel.set_mode(wanted)
            if failure:
                panel.show_failure(failure)

    def _on_login_requested(self, name: str, password: str) -> None:
        purpose = "unlock" if self.remembered is not None else "login"
        self._queries.submit_action(
            f"{CHANNEL}.login",
            partial(self._session.login, name, password, purpose),
            self._on_logged_in,
            name=purpose,
        )

    def _on_first_admin_requested(self, name: str, password: str, again: str) -> None:
        self._queries.submit_action(
            f"{CHANNEL}.login",
            partial(self._session.create_first_admin, name, password, again),
            self._on_first_admin_created,
            name="first admin",
        )

    def _on_logged_in(self, result: QueryResult[Any]) -> None:
        error = result.error
        if isinstance(error, LoginFailedError):
            # The reason alone: whether the account is delayed is for admins, not for
            # whoever types a name (it would tell them the name exists).
            self.panel.show_failure(error.result.reason)
        elif error is not None or not isinstance(result.value, Actor):
            log.warning("login failed: %s", error, exc_info=error)
            self.panel.show_failure(f"cannot log in: {error}")
        elif self._host.locked:
            self._host.unlock_for(result.value)

    def _on_first_admin_created(self, result: QueryResult[Any]) -> None:
        error = result.error
        if isinstance(error, AccountError):
            self.panel.show_failure(str(error))
            self.check_accounts(failure=str(error))  # another console may have made one
        elif error is not None or not isinstance(result.value, Actor):
            log.warning("first admin not created: %s", error, exc_info=error)
            self.panel.show_failure(f"cannot create the admin account: {error}")
        elif self._host.locked:
            self._host.unlock_for(result.value)

    # -- changing one's password -------------------------------------------------------------
    def open_password_dialog(self) -> PasswordChangeDialog | None:
        """Session → Change my password…: a dialog (not blocking the window); the change
        runs on a worker."""
        actor = self._session.actor
        if self._host.locked or actor is None:
            return None
        if self.password_dialog is not None:
            self.password_dialog.raise_()
            return self.password_dialog
        dialog = PasswordChangeDialog(printable(actor.name), self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_change_requested.connect(partial(self._on_password_change_requested, dialog))
        dialog.finished.connect(partial(self._on_password_dialog_closed, dialog))
        self.password_dialog = dialog
        dialog.open()
        return dialog

    def _on_password_change_requested(
        self, dialog: PasswordChangeDialog, current: str, new: str, again: str
    ) -> None:
        self._queries.submit_action(
            f"{CHANNEL}.password",
            partial(self._session.change_own_password, current, new, again),
            partial(self._on_password_changed, dialog),
            name="change password",
        )

    def _on_password_changed(self, dialog: PasswordChangeDialog, result: QueryResult[Any]) -> None:
        if self.password_dialog is not dialog:
            return  # closed meanwhile (the console locked)
        error = result.error
        if isinstance(error, LoginFailedError):
            dialog.show_error(f"the current password is not right ({error.result.reason})")
        elif error is not None:
            dialog.show_error(str(error))
        else:
            dialog.accept()
            self._say("Your password was changed.", 10_000)

    def _on_password_dialog_closed(self, dialog: PasswordChangeDialog, _code: int) -> None:
        if self.password_dialog is dialog:
            self.password_dialog = None
