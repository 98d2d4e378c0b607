"""The session's conversations with the engine, for the main window: is there an
account yet, logging in (or creating the first admin), changing one's password, re-reading
the logged-in account now and then, the idle lock, and auditing a lock or logout.

The idle lock warns first: after ``security.idle_lock_s`` less the warning (30 s, or half
the setting when it is shorter) without input, an amber strip across the window counts the
last seconds down (:class:`~widgets.lock_view.IdleWarningBanner`); any input cancels it,
and the lock comes, audited "idle", only when the count reaches nought. Roles may be spared
the idle lock (a watch station, where an operator watches without touching anything):
site-wide by ``security.idle_lock_exempt_roles``, and at a workstation by the roles kept in
this console's QSettings (:data:`IDLE_EXEMPT_ROLES_KEY`), changed by someone who may change
settings and audited like a site setting. A person is spared when each of their roles is
spared by either. The site's settings are read again when the System pane saves them and
with each re-read of the account (every 15 s), so a change from the command line or
another console reaches a running console too.

Every call runs on the query workers (a login waits on a deliberately slow hash and on
the store writer); the answers come back on the GUI thread, where the window is asked to
unlock or lock (:class:`LockHost`). Nothing here arranges panes.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow

from console.queries import QtQueryClient
from console.session import (
    DEFAULT_IDLE_LOCK_S,
    IDLE_LOCK_KEY,
    IDLE_LOCK_KEYS,
    ConsoleSession,
    SiteIdleLock,
)
from engine.access import Actor, Permission, Role
from engine.accounts import AccountError, LoginFailedError
from engine.history.query_service import QueryResult
from engine.text import printable
from widgets.lock_view import IdleWarningBanner
from widgets.login_panel import IdleLockDialog, LoginMode, LoginPanel, PasswordChangeDialog

log = logging.getLogger(__name__)

CHANNEL = "session"
ACCOUNT_RECHECK_MS = 15_000  # how soon a disabled account or changed roles reach a console
IDLE_WARNING_S = 30  # the idle lock's countdown, shown before it locks
IDLE_EXEMPT_ROLES_KEY = "session/idle_lock_exempt_roles"  # this workstation's, QSettings
WORKSTATION_IDLE_TARGET = "workstation.idle_lock_exempt_roles"  # as the audit names it
SessionDialog = TypeVar("SessionDialog", IdleLockDialog, PasswordChangeDialog)


def idle_warning_s(idle_lock_s: int) -> int:
    """How many of ``idle_lock_s`` seconds the idle lock's countdown shows: the last
    :data:`IDLE_WARNING_S`, or half of a shorter setting (at least one second)."""
    if idle_lock_s <= 0:
        return 0
    return min(IDLE_WARNING_S, max(idle_lock_s // 2, 1))


def read_exempt_roles(settings: QSettings | None) -> frozenset[Role]:
    """The roles this workstation's idle lock leaves alone (unknown names ignored)."""
    if settings is None:
        return frozenset()
    raw = settings.value(IDLE_EXEMPT_ROLES_KEY, [])
    # QSettings' INI files give back a list of one as a plain string, and none as None.
    if isinstance(raw, str):
        names: list[object] = [raw]
    elif isinstance(raw, (list, tuple)):
        names = list(raw)
    else:
        names = []
    known = {role.value: role for role in Role}
    return frozenset(known[str(n)] for n in names if str(n) in known)


def idle_lock_exempt(actor: Actor | None, exempt: frozenset[Role]) -> bool:
    """Whether ``actor`` is spared the idle lock here: only when every one of their roles
    is exempt (an admin at an operators' watch station still locks when idle)."""
    return actor is not None and bool(actor.roles) and set(actor.roles) <= exempt


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

    def __init__(
        self,
        timer: QTimer,
        parent: QObject | None = None,
        *,
        on_input: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._timer = timer
        self._on_input = on_input  # input while the timer is stopped (the idle warning)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self.watch)

    def watch(self, window: QWindow | None) -> None:
        """Watch ``window``'s input (again: Qt keeps one filter per window)."""
        if window is not None:
            window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            if self._timer.isActive():
                self._timer.start()  # restarts with the same interval
            elif self._on_input is not None:
                self._on_input()
        return False


class LockHost(Protocol):
    """What the flow asks of the window."""

    locked: bool

    def lock(self, reason: str = "menu", *, who: Actor | None = None) -> None: ...

    def unlock_for(self, actor: Actor) -> None: ...

    def account_changed(self, name: str) -> None: ...


class LoginFlow(QObject):
    """The login panel's requests, the password dialog, the account re-check and the idle
    lock for ``window``. ``idle_timer`` fires after ``idle_lock_s`` less the warning
    without input; the countdown then ticks every :attr:`second_ms` (a test shortens a
    second through it) and locks at nought. ``settings`` is this workstation's (the roles
    its idle lock spares)."""

    sig_idle_warning_changed = Signal(int)
    """The idle lock's countdown: the seconds left, or 0 when it ended (input cancelled
    it, or the console locked). GUI thread."""

    def __init__(
        self,
        window: QMainWindow,
        host: LockHost,
        session: ConsoleSession,
        queries: QtQueryClient,
        panel: LoginPanel,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._host = host
        self._session = session
        self._queries = queries
        self.panel = panel
        self.remembered: Actor | None = None  # who was logged in when it locked
        # The session's dialogs open now (the idle lock's, the password's), by kind.
        self._dialogs: dict[type[QDialog], QDialog] = {}
        self._settings = settings
        self.idle_lock_s = DEFAULT_IDLE_LOCK_S
        self.site_exempt_roles: frozenset[Role] = frozenset()  # the site's, on every console
        self.idle_setting_read = False  # the site's setting was read (or could not be)
        self._site_idle_lock: SiteIdleLock | None = None  # as last read from the store
        self.second_ms = 1000  # how long one second of the idle lock lasts
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(self._on_idle)
        self.countdown_timer = QTimer(self)
        self.countdown_timer.timeout.connect(self._on_countdown_tick)
        self.seconds_left = 0  # of the idle warning's countdown (0: none shown)
        self.idle_banner = IdleWarningBanner(window)
        self.idle_banner.sig_stay_requested.connect(self.input_seen)
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
        self._end_warning()
        self.recheck_timer.stop()
        for dialog in list(self._dialogs.values()):
            dialog.reject()

    @property
    def idle_lock_applies(self) -> bool:
        """Whether the person logged in here is locked out when idle (the site's setting
        is not 0 and not every one of their roles is spared, site-wide or here)."""
        return self.idle_lock_s > 0 and not idle_lock_exempt(
            self._session.actor, self.exempt_roles() | self.site_exempt_roles
        )

    def exempt_roles(self) -> frozenset[Role]:
        """The roles this workstation's idle lock spares (its QSettings)."""
        return read_exempt_roles(self._settings)

    def restart_idle_timer(self) -> None:
        """Count the quiet time afresh (the warning, if shown, goes); stopped while locked,
        or when the idle lock does not apply to the person logged in."""
        self._end_warning()
        if self._host.locked or not self.idle_lock_applies:
            self.idle_timer.stop()
            return
        quiet_s = self.idle_lock_s - idle_warning_s(self.idle_lock_s)
        self.idle_timer.start(quiet_s * self.second_ms)

    def input_seen(self) -> None:
        """Input while the idle timer was stopped: if the warning counts down, the person
        is there, so it goes and the quiet time starts again."""
        if self.seconds_left > 0:
            self.restart_idle_timer()

    @property
    def warning_shown(self) -> bool:
        return self.seconds_left > 0

    def _on_idle(self) -> None:
        if self._host.locked:
            return
        self.seconds_left = idle_warning_s(self.idle_lock_s)
        if self.seconds_left <= 0:
            self._host.lock("idle")
            return
        self.idle_banner.show_seconds(self.seconds_left)
        self.countdown_timer.start(self.second_ms)
        # The window system flags the window too (a taskbar flash when another window, such
        # as the administration window, is in front of the strip).
        QApplication.alert(self._window)
        self.sig_idle_warning_changed.emit(self.seconds_left)

    def _on_countdown_tick(self) -> None:
        if self.seconds_left > 1:
            self.seconds_left -= 1
            self.idle_banner.show_seconds(self.seconds_left)
            self.sig_idle_warning_changed.emit(self.seconds_left)
            return
        self._end_warning()  # the countdown says 0: it is over
        self._host.lock("idle")

    def _end_warning(self) -> None:
        self.countdown_timer.stop()
        self.idle_banner.hide()
        if self.seconds_left > 0:
            self.seconds_left = 0
            self.sig_idle_warning_changed.emit(0)
        self.seconds_left = 0

    # -- this workstation's idle lock --------------------------------------------------------
    def open_idle_dialog(self) -> IdleLockDialog | None:
        """Session → Idle lock at this workstation…: which roles it spares. Anyone logged
        in may look; changing it needs the settings permission (the engine's rule for the
        site's idle lock), checked again on a worker, where the change is audited before
        this console keeps it."""
        return self._open_dialog(
            IdleLockDialog,
            lambda actor: IdleLockDialog(
                socket.gethostname(),
                self.idle_lock_s,
                [role.value for role in Role],
                {role.value for role in self.exempt_roles()},
                allowed=actor.may(Permission.CHANGE_SETTINGS),
                site_exempt=[role.value for role in Role if role in self.site_exempt_roles],
                parent=self._window,
            ),
            self._on_idle_change_requested,
        )

    @property
    def idle_dialog(self) -> IdleLockDialog | None:
        """Session → Idle lock at this workstation…, while it is open."""
        return self._shown(IdleLockDialog)

    @property
    def password_dialog(self) -> PasswordChangeDialog | None:
        """Session → Change my password…, while it is open."""
        return self._shown(PasswordChangeDialog)

    def _shown(self, kind: type[SessionDialog]) -> SessionDialog | None:
        dialog = self._dialogs.get(kind)
        return dialog if isinstance(dialog, kind) else None

    def _open_dialog(
        self,
        kind: type[SessionDialog],
        build: Callable[[Actor], SessionDialog],
        on_change_requested: Callable[..., None],
    ) -> SessionDialog | None:
        """Open a session dialog of ``kind`` without blocking the window: the one open is
        raised, else ``build`` makes one for the person logged in, its requests going to
        ``on_change_requested(dialog, ...)``, forgotten when it closes. None while the
        console is locked."""
        actor = self._session.actor
        if self._host.locked or actor is None:
            return None
        shown = self._shown(kind)
        if shown is not None:
            shown.raise_()
            return shown
        dialog = build(actor)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_change_requested.connect(partial(on_change_requested, dialog))
        dialog.finished.connect(partial(self._on_dialog_closed, kind, dialog))
        self._dialogs[kind] = dialog
        dialog.open()
        return dialog

    def _on_dialog_closed(self, kind: type[QDialog], dialog: QDialog, _code: int) -> None:
        if self._dialogs.get(kind) is dialog:
            del self._dialogs[kind]

    def _on_idle_change_requested(self, dialog: IdleLockDialog, roles: list[str]) -> None:
        before = sorted(role.value for role in self.exempt_roles())
        after = sorted(roles)
        call = partial(
            self._session.audit_workstation_setting,
            WORKSTATION_IDLE_TARGET,
            before,
            after,
            socket.gethostname(),
        )
        self._queries.submit_action(
            f"{CHANNEL}.workstation",
            call,
            partial(self._on_idle_change_audited, dialog, after),
            name="workstation idle lock",
        )

    def _on_idle_change_audited(
        self, dialog: IdleLockDialog, roles: list[str], result: QueryResult[Any]
    ) -> None:
        if self.idle_dialog is not dialog:
            return  # closed meanwhile (the console locked): nothing is kept
        if result.error is not None:
            dialog.show_error(str(result.error))
            return
        if self._settings is not None:
            self._settings.setValue(IDLE_EXEMPT_ROLES_KEY, roles)
            self._settings.sync()
        dialog.accept()
        self.restart_idle_timer()
        self._say(f"This workstation's idle lock: {idle_lock_words(roles)}.", 10_000)

    def read_idle_setting(self) -> None:
        """Read the site's idle lock settings (on a worker); a change applies at once."""
        self._queries.submit_action(
            f"{CHANNEL}.idle",
            self._session.site_idle_lock,
            self._on_idle_setting_read,
            name="idle lock setting",
        )

    def _on_idle_setting_read(self, result: QueryResult[Any]) -> None:
        first = not self.idle_setting_read
        self.idle_setting_read = True
        if result.error is not None or not isinstance(result.value, SiteIdleLock):
            log.warning("cannot read %s: %s", IDLE_LOCK_KEY, result.error)
            self._say(
                f"Cannot read {IDLE_LOCK_KEY} ({result.error}): the console locks after "
                f"{self.idle_lock_s} s without input"
            )
            return
        if not first and result.value == self._site_idle_lock:
            return  # unchanged since the last read: the quiet time being counted stands
        self._site_idle_lock = result.value
        self.idle_lock_s = result.value.seconds
        self.site_exempt_roles = result.value.exempt_roles
        self.restart_idle_timer()

    def settings_changed(self, keys: list[str]) -> None:
        if any(key in IDLE_LOCK_KEYS for key in keys):
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
        """Re-read the logged-in account on a worker (see :meth:`ConsoleSession.recheck`),
        and the site's idle lock settings (changed from the command line or another
        console, which tell this one nothing)."""
        if not self._host.locked:
            self._queries.submit_action(
                CHANNEL, self._session.recheck, self._on_account_rechecked, name="recheck"
            )
            self.read_idle_setting()

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
            if not self.warning_shown:
                self.restart_idle_timer()  # the new roles may be spared here, or not

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
        return self._open_dialog(
            PasswordChangeDialog,
            lambda actor: PasswordChangeDialog(printable(actor.name), self._window),
            self._on_password_change_requested,
        )

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


def idle_lock_words(exempt: list[str]) -> str:
    """``"off for operator"`` / ``"on for every role"``: a workstation's idle lock."""
    return f"off for {', '.join(exempt)}" if exempt else "on for every role"
