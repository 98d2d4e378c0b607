"""Who is at the console: logins, locks and everything done in that person's name.

:class:`ConsoleSession` holds the current :class:`~engine.access.Actor` (None while the
console is locked or nobody has logged in) and wraps the engine's accounts API for the
window and its panes: first-admin creation, login and unlock, lock and log out, changing
one's own password, account administration and reading the audit trail. Every guarded call
uses the current actor, and the engine checks it; with nobody logged in a call is refused
with :class:`NotLoggedInError` before it reaches the engine.

Most methods block (a scrypt hash takes about 0.1 s, a store write waits on the writer):
the console runs them on its query workers, like :class:`console.backends.people.PeopleBackend`.
The exceptions, safe on any thread because they touch memory only, are :attr:`actor`,
:meth:`require_actor` and :meth:`clear_actor`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from typing import Any

from engine.access import Actor, Permission, Role, machine_actor
from engine.accounts import (
    AccountError,
    AccountListRequest,
    AccountView,
    ChangeOwnPassword,
    ClearLoginDelay,
    LoginFailedError,
    LoginResult,
    ResetSecret,
    SetDisabled,
    SetRoles,
    accounts_exist,
    check_password,
    create_account,
    create_first_admin,
    current_actor,
    hash_password,
    hash_token,
    login,
    new_service_token,
    parse_roles,
)
from engine.audit_records import AuditRecord, AuditVerification
from engine.clock import Clock
from engine.data_dirs import data_dir
from engine.history.audit_checkpoints import verify_against_newest_checkpoint
from engine.settings import IDLE_LOCK_EXEMPT_ROLES_KEY, read_all_settings
from engine.store.audit import AppendAudit, AuditListRequest
from engine.store.database import Store
from engine.store.writer import StoreWriter

IDLE_LOCK_KEY = "security.idle_lock_s"
IDLE_LOCK_KEYS = (IDLE_LOCK_KEY, IDLE_LOCK_EXEMPT_ROLES_KEY)  # what the idle lock reads
DEFAULT_IDLE_LOCK_S = 300
# revoked: account disabled meanwhile; switch: Session → Switch user (a handover)
LOCK_REASONS = ("idle", "ctrl+l", "menu", "revoked", "switch")


@dataclasses.dataclass(frozen=True, slots=True)
class SiteIdleLock:
    """The site's idle lock: ``seconds`` without input (0: never when idle) and the roles it
    spares on every console (``exempt_roles``; a workstation may spare more)."""

    seconds: int = DEFAULT_IDLE_LOCK_S
    exempt_roles: frozenset[Role] = frozenset()


class NotLoggedInError(PermissionError):
    """Something was asked of the console while nobody is logged in (it is locked)."""

    def __init__(self, action: str) -> None:
        super().__init__(f"nobody is logged in: log in to {action}")
        self.action = action


class ConsoleSession:
    """The person at this console and the blocking calls made in their name.

    ``writer`` is the running engine's store writer (None: an engine without a database,
    where every call that writes says so), ``store`` the database it reads, ``clock`` the
    engine clock that stamps logins and audit entries.
    """

    def __init__(self, store: Store, writer: StoreWriter | None, clock: Clock) -> None:
        self._store = store
        self._writer = writer
        self._clock = clock
        self._lock = threading.Lock()  # workers and the GUI thread read the actor
        self._actor: Actor | None = None

    @property
    def clock(self) -> Clock:
        """The clock that stamps this console's logins: the login panel counts a delay
        down on it too, so the two never disagree about when the delay ends."""
        return self._clock

    # -- who (any thread, memory only) -----------------------------------------------------
    @property
    def actor(self) -> Actor | None:
        """Who is logged in, or None while the console is locked or logged out."""
        with self._lock:
            return self._actor

    def require_actor(self, action: str) -> Actor:
        """The logged-in actor; :class:`NotLoggedInError` naming ``action`` if nobody is."""
        actor = self.actor
        if actor is None:
            raise NotLoggedInError(action)
        return actor

    def may(self, permission: Permission) -> bool:
        """Whether someone is logged in who holds ``permission``."""
        actor = self.actor
        return actor is not None and actor.may(permission)

    def clear_actor(self) -> Actor | None:
        """Nobody may act from now on; returns who was logged in. Memory only, so the GUI
        thread calls it the moment it locks (then audits the lock on a worker with
        :meth:`audit_lock`), and no action submitted later runs in the old actor's name."""
        with self._lock:
            actor, self._actor = self._actor, None
        return actor

    def recheck(self) -> tuple[Actor, Actor | None] | None:
        """Re-read the logged-in account (blocking): returns (who was logged in, who they
        are now: new roles, or None when an admin disabled the account meanwhile), or None
        when nobody is logged in. The session acts as the account is now at once, so a
        disabled account's next action is refused even before the console locks."""
        actor = self.actor
        if actor is None:
            return None
        now = current_actor(self._store, actor)
        with self._lock:
            if self._actor == actor:  # nobody else logged in while it was read
                self._actor = now
        return actor, now

    def _set_actor(self, actor: Actor) -> Actor:
        with self._lock:
            self._actor = actor
        return actor

    # -- logging in (blocking) -------------------------------------------------------------
    def accounts_exist(self) -> bool:
        """Whether any account exists (before the first, the console asks for an admin)."""
        return accounts_exist(self._store)

    def create_first_admin(self, name: str, password: str, password_again: str) -> Actor:
        """Create the install's first account, an admin, and log it in. Only works while
        no account exists (:class:`~engine.accounts.AccountError` otherwise). Asked for by
        the operating-system account running the console, which the audit trail names."""
        if password != password_again:
            raise AccountError("the two passwords do not match")
        actor = create_first_admin(
            self._require_writer(), name, password, self._clock.now(), actor=machine_actor()
        )
        return self._set_actor(actor)

    def login(self, name: str, password: str, purpose: str = "login") -> Actor:
        """Log ``name`` in (``purpose`` ``login``, or ``unlock`` at a locked console) and
        make them the actor; :class:`~engine.accounts.LoginFailedError` otherwise (the
        engine counts the failure, delays the account and audits it)."""
        actor = login(self._require_writer(), name, password, self._clock.now(), purpose)
        return self._set_actor(actor)

    def unlock(self, name: str, password: str) -> Actor:
        """Unlock a locked console: any account may, and becomes the actor."""
        return self.login(name, password, purpose="unlock")

    def lock(self, reason: str) -> Actor | None:
        """Lock: :meth:`clear_actor`, then audit ``session.lock`` (see :meth:`audit_lock`)."""
        actor = self.clear_actor()
        self.audit_lock(actor, reason)
        return actor

    def audit_lock(self, actor: Actor | None, reason: str) -> None:
        """Audit that ``actor``'s console was locked, ``reason`` one of idle, ctrl+l, menu.
        Queues the entry (it may wait while the writer's queue is full: not on the GUI
        thread). Nothing is written when nobody was logged in."""
        if reason not in LOCK_REASONS:
            raise ValueError(f"lock reason must be one of {LOCK_REASONS}, not {reason!r}")
        if actor is not None:
            self._audit_session(actor, "session.lock", {"reason": reason})

    def logout(self, reason: str = "menu") -> Actor | None:
        """Log out: :meth:`clear_actor`, then audit ``session.logout`` (``reason``: menu,
        or closed when the console is closed with someone logged in)."""
        actor = self.clear_actor()
        self.audit_logout(actor, reason)
        return actor

    def audit_logout(self, actor: Actor | None, reason: str = "menu") -> None:
        """Audit that ``actor`` logged out (queued, as :meth:`audit_lock`)."""
        if actor is not None:
            self._audit_session(actor, "session.logout", {"reason": reason})

    def audit_stop(
        self, actor: Actor | str, cause: str, detail: dict[str, Any], *, outcome: str = "ok"
    ) -> None:
        """Audit ``engine.stop``: ``actor`` stopped (or, with ``outcome`` ``denied``, tried
        to stop) this console and the engine it runs, ``cause`` saying how (quit, a
        signal). Queued without waiting for the result, so the GUI thread may call it."""
        self._require_writer().post(
            AppendAudit(
                at=self._clock.now(),
                actor=actor,
                action="engine.stop",
                outcome=outcome,
                detail={"cause": cause, **detail},
            )
        )

    def change_own_password(self, current: str, new: str, new_again: str) -> None:
        """The logged-in person changes their password, proving the current one. A wrong
        current password counts as a failed login (:class:`LoginFailedError`)."""
        actor = self.require_actor("change your password")
        if new != new_again:
            raise AccountError("the two new passwords do not match")
        check_password(actor.name, new)
        result: LoginResult = self._require_writer().execute(
            ChangeOwnPassword(
                name=actor.name,
                current_password=current,
                new_password_hash=hash_password(new),
                at=self._clock.now(),
            )
        )
        if result.actor is None:
            raise LoginFailedError(result)

    def audit_workstation_setting(self, key: str, old: Any, new: Any, workstation: str) -> None:
        """Audit that the logged-in person changed ``key``, a setting this workstation
        keeps itself (its QSettings, e.g. the roles its idle lock spares), from ``old`` to
        ``new``: ``settings.change`` as a site setting's, naming ``workstation``. Needs the
        settings permission (:class:`~engine.access.PermissionDeniedError` otherwise, and
        the console keeps nothing). Blocking: it waits until the entry is written."""
        actor = self.require_actor("change this workstation's settings")
        actor.require(Permission.CHANGE_SETTINGS, "change this workstation's settings")
        self._require_writer().execute(
            AppendAudit(
                at=self._clock.now(),
                actor=actor,
                action="settings.change",
                target=key,
                detail={"old": old, "new": new, "workstation": workstation},
            )
        )

    def site_idle_lock(self) -> SiteIdleLock:
        """``security.idle_lock_s`` (0: never lock when idle) and
        ``security.idle_lock_exempt_roles`` as stored, in one read; the defaults (300 s,
        no role spared) where the engine does not know a setting."""
        values = {v.spec.key: v.value for v in read_all_settings(self._store)}
        seconds = values.get(IDLE_LOCK_KEY, DEFAULT_IDLE_LOCK_S)
        exempt = values.get(IDLE_LOCK_EXEMPT_ROLES_KEY, ())
        return SiteIdleLock(
            seconds if isinstance(seconds, int) else DEFAULT_IDLE_LOCK_S,
            frozenset(Role(name) for name in exempt) if isinstance(exempt, tuple) else frozenset(),
        )

    # -- accounts (blocking; the engine checks MANAGE_ACCOUNTS) ------------------------------
    def list_accounts(self) -> list[AccountView]:
        """Every account, for an actor who may manage accounts."""
        return AccountListRequest(self.require_actor("list accounts")).run(self._store)

    def create_person(self, name: str, roles: Iterable[Role | str], password: str) -> None:
        """A new person account with ``roles`` and ``password``."""
        actor = self.require_actor("create accounts")
        create_account(
            self._require_writer(), actor, name, list(roles), self._clock.now(), password=password
        )

    def create_service(self, name: str, roles: Iterable[Role | str]) -> str:
        """A new service account with ``roles``; returns its token (shown once, never
        stored in clear)."""
        actor = self.require_actor("create accounts")
        token = create_account(self._require_writer(), actor, name, list(roles), self._clock.now())
        if token is None:  # create_account returns a token for every service account
            raise RuntimeError("the engine issued no token for the service account")
        return token

    def set_roles(self, name: str, roles: Iterable[Role | str]) -> None:
        """Give ``name`` exactly ``roles``. Changing one's own roles changes the actor too
        (the window then offers what the new roles allow)."""
        actor = self.require_actor("change roles")
        parsed = parse_roles(list(roles))
        self._require_writer().execute(
            SetRoles(name=name, roles=parsed, at=self._clock.now(), actor=actor)
        )
        if name.casefold() == actor.name.casefold() and actor.kind == "account":
            with self._lock:
                if self._actor == actor:
                    self._actor = dataclasses.replace(actor, roles=parsed)

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable (no login) or enable ``name``. One's own account cannot be disabled
        from the console it is logged in at."""
        actor = self.require_actor("disable accounts")
        if disabled and name.casefold() == actor.name.casefold():
            raise AccountError(
                f"{actor.name} is the account logged in here: another admin may disable it"
            )
        self._require_writer().execute(
            SetDisabled(name=name, disabled=disabled, at=self._clock.now(), actor=actor)
        )

    def reset_password(self, name: str, password: str) -> None:
        """Set person ``name``'s password (and clear their login delay)."""
        actor = self.require_actor("reset passwords")
        check_password(name, password)
        self._require_writer().execute(
            ResetSecret(
                name=name, secret_hash=hash_password(password), at=self._clock.now(), actor=actor
            )
        )

    def new_token(self, name: str) -> str:
        """Give service account ``name`` a new token (the old one stops working); returns
        it, to be shown once."""
        actor = self.require_actor("issue service tokens")
        token = new_service_token()
        self._require_writer().execute(
            ResetSecret(name=name, secret_hash=hash_token(token), at=self._clock.now(), actor=actor)
        )
        return token

    def clear_login_delay(self, name: str) -> None:
        """Forget ``name``'s failed logins, so they may try again at once."""
        actor = self.require_actor("clear login delays")
        self._require_writer().execute(
            ClearLoginDelay(name=name, at=self._clock.now(), actor=actor)
        )

    # -- the audit trail (blocking; READ_AUDIT) ----------------------------------------------
    def list_audit(
        self,
        limit: int = 100,
        before: int | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> list[AuditRecord]:
        """A page of the audit trail, newest first (see
        :class:`~engine.store.audit.AuditListRequest`), for an actor who may read it."""
        reader = self._audit_reader()
        request = AuditListRequest(
            reader=reader, limit=limit, before=before, actor=actor, action=action
        )
        return request.run(self._store)

    def verify_audit(self) -> AuditVerification:
        """Recompute the audit trail's hash chain (slow for a long trail), for an actor who
        may read it."""
        self._audit_reader()
        # Against the newest signed checkpoint beside the database too: a chain rewritten
        # and rehashed as a whole verifies by itself.
        return verify_against_newest_checkpoint(self._store, data_dir())

    def _audit_reader(self) -> Actor:
        actor = self.require_actor("read the audit trail")
        actor.require(Permission.READ_AUDIT, "read the audit trail")
        return actor

    # -- internals -----------------------------------------------------------------------
    def _require_writer(self) -> StoreWriter:
        if self._writer is None:
            raise RuntimeError("the engine runs without a database")
        return self._writer

    def _audit_session(self, actor: Actor, action: str, detail: dict[str, Any]) -> None:
        self._require_writer().post(
            AppendAudit(
                at=self._clock.now(), actor=actor, action=action, target=actor.name, detail=detail
            )
        )
