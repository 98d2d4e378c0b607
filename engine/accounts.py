"""Accounts: who may log in and with which roles; logins with a brute-force delay, service
tokens for scripts and the headless engine, and the lost-password recovery path.

A *person* account has a password, stored only as a scrypt hash (memory-hard: 32 MiB and
about 0.1 s per guess here). A *service* account has a token, issued once by an admin and
stored only as its SHA-256 (the token is 256 random bits, so a fast hash is enough). Either
becomes an :class:`~engine.access.Actor` when it logs in (:class:`Login`,
:class:`TokenLogin`); the engine then checks that actor on every guarded command.

Logins are store commands so that the failed-login count, the delay and the audit entry
are written in one transaction, serialised with every other login on the audit chain's
head row: parallel guesses cannot slip past the delay. After ``n`` consecutive failures an
account hears no attempt for ``2 ** (n - 1)`` seconds (at most 15 minutes); attempts in
that time are refused, even with the right password, and audited. Admins see the count
and the time in the accounts list and the audit trail, and can clear it.

The person at the keyboard is never told which of these happened: a wrong password, an
unknown name and a delayed account all get :data:`WRONG`, after the same scrypt hash (an
unknown name or a delayed account is checked against a dummy hash), so neither the answer
nor its time tells whether a name exists. Unknown names are not delayed in turn (that
would keep a row per guessed name); the delay is hidden instead, which is why :data:`WRONG`
mentions it for everyone alike.

The first account is created by :class:`CreateFirstAdmin`, which only works while there is
no account at all. Until then (a fresh install) the operating-system account that owns the
data dir acts as admin (:func:`~engine.access.machine_actor`). A lost admin password is
recovered by :func:`recover_admin`, which only that machine account can run, and which is
audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission, PermissionDeniedError, Role
from engine.store.account_models import Account
from engine.store.audit import append_audit, audit_command, from_us, to_us
from engine.store.audit_models import AuditHead
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.writer import StoreWriter
from engine.text import printable

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1  # 32 MiB, ~0.1 s on the reference machine
SCRYPT_MAXMEM = 64 * 2**20
TOKEN_PREFIX = "wft_"
DELAY_BASE_S = 1.0
DELAY_MAX_S = 900.0
ROLE_ORDER = (Role.OPERATOR, Role.INVESTIGATOR, Role.ADMIN)


class AccountError(ValueError):
    """A name, password, role or account change was refused; the message says which and why."""


# -- secrets -------------------------------------------------------------------------------
def check_name(name: str) -> str:
    """``name`` if it may name an account: 1–64 letters, digits, ``. _ @ -``, starting
    with a letter or digit (no spaces, nothing that can drive a terminal)."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise AccountError(
            f"account name {printable(str(name))!r} is not allowed: use 1–64 letters, digits, "
            "'.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def check_password(name: str, password: str) -> str:
    """``password`` if it is acceptable for ``name``: 8–1024 characters, not the name."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")
    if password.casefold() == name.casefold():
        raise AccountError("the password must not be the account's name")
    return password


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) of ``password`` with a new random salt. Slow by
    design (~0.1 s): call it off the GUI thread and outside the store writer."""
    salt = os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest))
    )


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` hashes to ``stored`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), "A" * 24, "A" * 44))


def new_service_token() -> str:
    """A fresh service token: ``wft_`` and 256 random bits (URL-safe base64)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return "sha256$" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def login_delay(failures: int) -> timedelta:
    """How long an account hears no attempt after ``failures`` consecutive failures."""
    if failures <= 0:
        return timedelta(0)
    return timedelta(seconds=min(DELAY_BASE_S * 2 ** min(failures - 1, 30), DELAY_MAX_S))


def parse_roles(roles: Any) -> frozenset[Role]:
    """Roles from names (``"admin"``, ``["operator", "investigator"]`` or a comma list);
    at least one, each one of operator, investigator, admin."""
    names = roles.split(",") if isinstance(roles, str) else list(roles)
    parsed: set[Role] = set()
    for raw in names:
        text = str(raw).strip().lower()
        if not text:
            continue
        try:
            parsed.add(Role(text))
        except ValueError:
            known = ", ".join(r.value for r in ROLE_ORDER)
            raise AccountError(f"unknown role {printable(text)!r} (roles: {known})") from None
    if not parsed:
        raise AccountError("an account needs at least one role (operator, investigator, admin)")
    return frozenset(parsed)


def roles_text(roles: frozenset[Role]) -> str:
    return ",".join(r.value for r in ROLE_ORDER if r in roles)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- reading -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as an admin sees it (never its secret)."""

    name: str
    kind: str
    roles: frozenset[Role]
    disabled: bool
    failed_logins: int
    retry_after: datetime | None
    last_login: datetime | None
    created: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "roles": roles_text(self.roles).split(","),
            "disabled": self.disabled,
            "failed_logins": self.failed_logins,
            "retry_after": self.retry_after.isoformat() if self.retry_after else None,
            "last_login": self.last_login.isoformat() if self.last_login else None,
            "created": self.created.isoformat(),
        }


def _view(account: Account) -> AccountView:
    return AccountView(
        account.name,
        account.kind,
        parse_roles(account.roles),
        account.disabled,
        account.failed_logins,
        from_us(account.retry_after_us) if account.retry_after_us is not None else None,
        from_us(account.last_login_us) if account.last_login_us is not None else None,
        from_us(account.created_us),
    )


@dataclass(frozen=True, slots=True)
class AccountListRequest:
    """Every account, by name: a query-service request that only an actor who may manage
    accounts can run (the engine checks it, not the pane that shows the list)."""

    actor: Actor

    def run(self, store: Store) -> list[AccountView]:
        self.actor.require(Permission.MANAGE_ACCOUNTS, "list accounts")
        with store.sessions() as session:
            return [_view(a) for a in session.scalars(select(Account).order_by(Account.name_key))]


def current_actor(store: Store, actor: Actor) -> Actor | None:
    """``actor`` as its account stands now: with the roles an admin has given it since it
    logged in, or None when the account was disabled or no longer exists (a console then
    locks). Actors that are not accounts (the machine, the engine) are returned as they
    are."""
    if actor.kind not in ("account", "service"):
        return actor
    with store.sessions() as session:
        account = _find(session, actor.name)
        if account is None or account.disabled:
            return None
        return Actor(account.name, parse_roles(account.roles), actor.kind)


def accounts_exist(store: Store) -> bool:
    """Whether any account was created (before the first, the install is in set-up mode)."""
    with store.sessions() as session:
        return bool(session.scalar(select(func.count()).select_from(Account)))


# -- changing ------------------------------------------------------------------------------
def _lock(session: Session) -> None:
    """Serialise with every other account change and login, and with audit appends: take
    the audit head's row lock (PostgreSQL) / the write lock (SQLite) first."""
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))


def _find(session: Session, name: str) -> Account | None:
    return session.scalars(select(Account).where(Account.name_key == name.casefold())).first()


def _get(session: Session, name: str) -> Account:
    account = _find(session, name)
    if account is None:
        raise AccountError(f"no account named {printable(name)!r}")
    return account


def _keep_an_admin(session: Session, account: Account) -> None:
    """Refuse to take the admin role or the login away from the last enabled admin."""
    if account.disabled or Role.ADMIN not in parse_roles(account.roles):
        return
    others = session.scalars(
        select(Account).where(Account.disabled.is_(False), Account.id != account.id)
    )
    if not any(Role.ADMIN in parse_roles(other.roles) for other in others):
        raise AccountError(f"{account.name} is the last admin: make another admin first")


def _new_account(
    name: str, kind: str, roles: frozenset[Role], secret: str, at: datetime
) -> Account:
    now = to_us(at)
    return Account(
        name=name,
        name_key=name.casefold(),
        kind=kind,
        roles=roles_text(roles),
        secret_hash=secret,
        disabled=False,
        failed_logins=0,
        retry_after_us=None,
        last_login_us=None,
        created_us=now,
        secret_changed_us=now,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateFirstAdmin(StoreCommand):
    """The first account of an install, an admin: refused once any account exists. Asked
    for by whoever runs the software on the machine (``actor``, the machine account)."""

    name: str
    password_hash: str = field(repr=False)  # never in a log line
    at: datetime
    actor: Actor

    def apply(self, session: Session) -> None:
        check_name(self.name)
        _lock(session)
        if session.scalar(select(func.count()).select_from(Account)):
            raise AccountError("accounts exist already: an admin creates further accounts")
        session.add(
            _new_account(self.name, "person", frozenset({Role.ADMIN}), self.password_hash, self.at)
        )
        append_audit(
            session,
            at=self.at,
            actor=self.actor,
            action="account.create",
            target=self.name,
            detail={"kind": "person", "roles": ["admin"], "first": True},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateAccount(GuardedCommand, StoreCommand):
    """A new person account (``password_hash``) or service account (``token_hash``)."""

    permission: ClassVar[Permission] = Permission.MANAGE_ACCOUNTS
    action: ClassVar[str] = "account.create"

    name: str
    roles: frozenset[Role]
    at: datetime
    actor: Actor
    password_hash: str | None = field(default=None, repr=False)
    token_hash: str | None = field(default=None, repr=False)

    def audit_target(self) -> str:
        return self.name if NAME.fullmatch(self.name) else printable(self.name)[:64]

    def apply(self, session: Session) -> None:
        check_name(self.name)
        if (self.password_hash is None) == (self.token_hash is None):
            raise AccountError("an account has either a password or a service token")
        kind = "person" if self.password_hash is not None else "service"
        _lock(session)
        if _find(session, self.name) is not None:
            raise AccountError(f"an account named {self.name!r} exists already")
        secret = self.password_hash or self.token_hash or ""
        session.add(_new_account(self.name, kind, parse_roles(self.roles), secret, self.at))
        audit_command(session, self, {"kind": kind, "roles": roles_text(self.roles).split(",")})


@dataclass(frozen=True, slots=True, kw_only=True)
class _AccountChange(GuardedCommand, StoreCommand):
    """An admin's change to the account ``name``: under the accounts lock, the account
    found (:class:`AccountError` if missing), changed by :meth:`change`, and audited with
    the detail it returns, in one transaction."""

    permission: ClassVar[Permission] = Permission.MANAGE_ACCOUNTS

    name: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.name

    def apply(self, session: Session) -> None:
        _lock(session)
        account = _get(session, self.name)
        detail = self.change(session, account)
        audit_command(session, self, detail, target=account.name)

    def change(self, session: Session, account: Account) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRoles(_AccountChange):
    """Give ``name`` exactly ``roles``. The last enabled admin keeps the admin role."""

    action: ClassVar[str] = "account.roles"

    roles: frozenset[Role]

    def change(self, session: Session, account: Account) -> dict[str, Any]:
        roles, old = parse_roles(self.roles), parse_roles(account.roles)
        if Role.ADMIN not in roles:
            _keep_an_admin(session, account)
        account.roles = roles_text(roles)
        return {"old": roles_text(old).split(","), "new": roles_text(roles).split(",")}


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDisabled(_AccountChange):
    """Disable (no login, no token) or enable ``name``. The last enabled admin stays."""

    action: ClassVar[str] = "account.disable"

    disabled: bool

    def change(self, session: Session, account: Account) -> dict[str, Any]:
        if self.disabled:
            _keep_an_admin(session, account)
        account.disabled = self.disabled
        return {"disabled": self.disabled}


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetSecret(_AccountChange):
    """An admin sets ``name``'s password (person) or a new token (service); the login
    delay is cleared."""

    action: ClassVar[str] = "account.secret"

    secret_hash: str = field(repr=False)

    def change(self, session: Session, account: Account) -> dict[str, Any]:
        expected = "sha256$" if account.kind == "service" else "scrypt$"
        if not self.secret_hash.startswith(expected):
            what = "a token" if account.kind == "service" else "a password"
            raise AccountError(f"{account.name} is a {account.kind} account: it takes {what}")
        account.secret_hash = self.secret_hash
        account.secret_changed_us = to_us(self.at)
        account.failed_logins, account.retry_after_us = 0, None
        return {"kind": account.kind}


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearLoginDelay(_AccountChange):
    """Forget ``name``'s failed logins, so it may try again at once."""

    action: ClassVar[str] = "account.clear_delay"

    def change(self, session: Session, account: Account) -> dict[str, Any]:
        before = account.failed_logins
        account.failed_logins, account.retry_after_us = 0, None
        return {"failed_logins": before}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeOwnPassword(StoreCommand):
    """``name`` changes their own password, proving the current one. A wrong current
    password counts as a failed login (and is delayed like one)."""

    name: str
    current_password: str = field(repr=False)
    new_password_hash: str = field(repr=False)
    at: datetime

    def apply(self, session: Session) -> LoginResult:
        result = _attempt(session, self.name, self.at, "password change", self.current_password)
        if result.actor is None:
            return result
        account = _get(session, self.name)
        account.secret_hash = self.new_password_hash
        account.secret_changed_us = to_us(self.at)
        append_audit(
            session,
            at=self.at,
            actor=result.actor,
            action="account.password",
            target=account.name,
        )
        return result


# -- logging in ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LoginResult:
    """``actor`` when the login worked; otherwise ``reason``, for the person at the
    keyboard: it says neither whether the name exists nor whether the account is delayed
    (admins read the delay in the accounts list and the audit trail)."""

    actor: Actor | None
    reason: str = ""


class LoginFailedError(PermissionError):
    def __init__(self, result: LoginResult) -> None:
        super().__init__(result.reason)
        self.result = result


# The same words for a wrong password, an unknown name and a delayed account: telling them
# apart would tell a guesser which names exist. The hint is true for every name alike.
WRONG = (
    "wrong account name or password (after repeated failures an account refuses every "
    "login for a while: wait, or ask an admin)"
)


def _attempt(
    session: Session, name: str, at: datetime, purpose: str, password: str, via: str = ""
) -> LoginResult:
    """Check ``password`` for ``name`` under the lock, counting failures and auditing.
    ``purpose``: login, unlock or password change (the audit action's detail)."""
    _lock(session)
    now = to_us(at)
    target = name if NAME.fullmatch(name or "") else printable(name or "")[:64]
    account = _find(session, name) if NAME.fullmatch(name or "") else None

    def audit(outcome: str, detail: dict[str, Any], actor: Actor | str) -> None:
        append_audit(
            session,
            at=at,
            actor=actor,
            action=f"session.{'login' if purpose == 'password change' else purpose}",
            target=target,
            outcome=outcome,
            detail={"purpose": purpose, **({"via": via} if via else {}), **detail},
        )

    if account is None or account.kind != "person":
        password_matches(password, _DUMMY_HASH)  # the same time as a real account's check
        audit("failed", {"reason": "unknown account"}, f"unknown:{target}")
        return LoginResult(None, WRONG)
    who = Actor(account.name, parse_roles(account.roles), "account")
    if account.retry_after_us is not None and now < account.retry_after_us:
        # Refused whatever the password; hashed all the same, so that the answer takes as
        # long as for an unknown name or a wrong password.
        password_matches(password, _DUMMY_HASH)
        wait = from_us(account.retry_after_us)
        audit("denied", {"reason": "delayed", "retry_after": wait.isoformat()}, who)
        return LoginResult(None, WRONG)
    if not password_matches(password, account.secret_hash):
        account.failed_logins += 1
        wait = at + login_delay(account.failed_logins)
        account.retry_after_us = to_us(wait)
        audit(
            "failed",
            {
                "reason": "wrong password",
                "failures": account.failed_logins,
                "retry_after": wait.isoformat(),
            },
            who,
        )
        return LoginResult(None, WRONG)
    if account.disabled:
        audit("denied", {"reason": "disabled"}, who)
        return LoginResult(None, f"the account {account.name} is disabled: ask an admin")
    account.failed_logins, account.retry_after_us = 0, None
    if purpose != "password change":
        account.last_login_us = now
        audit("ok", {}, who)
    return LoginResult(who)


@dataclass(frozen=True, slots=True, kw_only=True)
class Login(StoreCommand):
    """Log ``name`` in with ``password`` (``purpose`` ``login``, or ``unlock`` for a
    locked console). Never raises for a refusal: the failure count and the audit entry
    must be committed; the caller raises :class:`LoginFailedError` from the result."""

    name: str
    password: str = field(repr=False)
    at: datetime
    purpose: str = "login"
    via: str = ""  # what asked, for the audit trail: "console", "cli: people erase"

    def apply(self, session: Session) -> LoginResult:
        if self.purpose not in ("login", "unlock"):
            raise ValueError(f"login purpose must be login or unlock, not {self.purpose!r}")
        return _attempt(session, self.name, self.at, self.purpose, self.password, self.via)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenLogin(StoreCommand):
    """A script or the headless engine presents a service account's token."""

    token: str = field(repr=False)
    at: datetime
    via: str = ""

    def apply(self, session: Session) -> LoginResult:
        _lock(session)
        account = session.scalars(
            select(Account).where(
                Account.kind == "service", Account.secret_hash == hash_token(self.token)
            )
        ).first()
        if account is None:
            append_audit(
                session,
                at=self.at,
                actor="unknown:token",
                action="session.login",
                outcome="failed",
                detail={"purpose": "token", "via": self.via, "reason": "unknown token"},
            )
            return LoginResult(None, "the service token is not valid (revoked or mistyped)")
        who = Actor(account.name, parse_roles(account.roles), "service")
        if account.disabled:
            append_audit(
                session,
                at=self.at,
                actor=who,
                action="session.login",
                target=account.name,
                outcome="denied",
                detail={"purpose": "token", "via": self.via, "reason": "disabled"},
            )
            return LoginResult(None, f"the service account {account.name} is disabled")
        account.last_login_us = to_us(self.at)
        append_audit(
            session,
            at=self.at,
            actor=who,
            action="session.login",
            target=account.name,
            detail={"purpose": "token", "via": self.via},
        )
        return LoginResult(who)


# -- recovery ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class RecoverAdmin(StoreCommand):
    """Give ``name`` (created if missing) a new password and the admin role, enable it and
    clear its delay. Only :func:`recover_admin` builds it, after checking the caller."""

    name: str
    password_hash: str = field(repr=False)
    at: datetime
    actor: Actor

    def apply(self, session: Session) -> None:
        if self.actor.kind != "machine":
            raise PermissionDeniedError(self.actor, Permission.MANAGE_ACCOUNTS, "recover an admin")
        check_name(self.name)
        _lock(session)
        account = _find(session, self.name)
        created = account is None
        if account is None:
            account = _new_account(
                self.name, "person", frozenset({Role.ADMIN}), self.password_hash, self.at
            )
            session.add(account)
        else:
            if account.kind != "person":
                raise AccountError(f"{account.name} is a service account, not a person's")
            account.roles = roles_text(parse_roles(account.roles) | {Role.ADMIN})
            account.secret_hash = self.password_hash
            account.secret_changed_us = to_us(self.at)
            account.disabled = False
            account.failed_logins, account.retry_after_us = 0, None
        append_audit(
            session,
            at=self.at,
            actor=self.actor,
            action="account.recover",
            target=self.name,
            detail={"created": created},
        )


class RecoveryRefusedError(PermissionError):
    """The process is not the machine account that owns the data dir."""


def check_machine_owner(data_dir: Path) -> None:
    """Raise :class:`RecoveryRefusedError` unless this process runs as the operating-system
    account that owns ``data_dir`` (the account that can read the database anyway)."""
    try:
        owner = data_dir.stat().st_uid
    except OSError as exc:
        raise RecoveryRefusedError(f"cannot read the data dir {data_dir}: {exc}") from exc
    if not hasattr(os, "geteuid"):
        return  # Windows: the data dir's ACL (user-only) already limits who gets here
    if owner != os.geteuid():
        raise RecoveryRefusedError(
            f"only the account that owns {data_dir} (uid {owner}) may recover an admin; "
            f"this process runs as uid {os.geteuid()}"
        )


# -- for callers: the CLI and the console (blocking; never on the GUI thread) ---------------
def login(
    writer: StoreWriter,
    name: str,
    password: str,
    at: datetime,
    purpose: str = "login",
    via: str = "",
) -> Actor:
    """The actor ``name`` acts as, or :class:`LoginFailedError` (failure counted, audited)."""
    result: LoginResult = writer.execute(
        Login(name=name, password=password, at=at, purpose=purpose, via=via)
    )
    if result.actor is None:
        raise LoginFailedError(result)
    return result.actor


def token_login(writer: StoreWriter, token: str, at: datetime, via: str = "") -> Actor:
    """The service account ``token`` belongs to, or :class:`LoginFailedError`."""
    result: LoginResult = writer.execute(TokenLogin(token=token, at=at, via=via))
    if result.actor is None:
        raise LoginFailedError(result)
    return result.actor


def create_first_admin(
    writer: StoreWriter, name: str, password: str, at: datetime, actor: Actor
) -> Actor:
    """Create the install's first account, an admin, and return it as the actor."""
    check_name(name)
    check_password(name, password)
    writer.execute(
        CreateFirstAdmin(name=name, password_hash=hash_password(password), at=at, actor=actor)
    )
    return Actor(name, frozenset({Role.ADMIN}), "account")


def create_account(
    writer: StoreWriter,
    actor: Actor,
    name: str,
    roles: Any,
    at: datetime,
    *,
    password: str | None = None,
) -> str | None:
    """Create a person account (with ``password``) or, without one, a service account;
    returns the service account's token (shown once, stored only as a hash)."""
    check_name(name)
    parsed = parse_roles(roles)
    if password is not None:
        check_password(name, password)
        writer.execute(
            CreateAccount(
                name=name, roles=parsed, at=at, actor=actor, password_hash=hash_password(password)
            )
        )
        return None
    token = new_service_token()
    writer.execute(
        CreateAccount(name=name, roles=parsed, at=at, actor=actor, token_hash=hash_token(token))
    )
    return token


def recover_admin(
    writer: StoreWriter, data_dir: Path, name: str, password: str, at: datetime, actor: Actor
) -> None:
    """Give ``name`` the admin role and ``password`` (created if missing): only for the
    machine account that owns ``data_dir``; audited as ``account.recover``."""
    check_machine_owner(data_dir)
    check_name(name)
    check_password(name, password)
    writer.execute(
        RecoverAdmin(name=name, password_hash=hash_password(password), at=at, actor=actor)
    )
