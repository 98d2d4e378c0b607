"""Who may do what: roles, permissions, and the actor every sensitive command carries.

The permission matrix is the engine's, not the window's: a command that changes or reveals
data declares the :class:`Permission` it needs (:class:`GuardedCommand`), and the store
writer refuses it, before it reaches the database, unless its :class:`Actor` holds that
permission. The console, the CLI and any later remote client go through the same check.

Roles are cumulative, as a security room works: an investigator may do everything an
operator may, an admin everything an investigator may. A person may hold several roles.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from engine.wording import action_words


class Role(StrEnum):
    OPERATOR = "operator"
    INVESTIGATOR = "investigator"
    ADMIN = "admin"


class Permission(StrEnum):
    # operators
    WATCH = "watch"
    ACKNOWLEDGE = "acknowledge"
    LABEL = "label"
    FILE_REPORT = "file_report"
    # investigators
    REPLAY = "replay"
    BOOKMARK = "bookmark"
    EXPORT = "export"
    LOCK_EVIDENCE = "lock_evidence"
    CHAT_HISTORY = "chat_history"
    # admins
    CONFIGURE_CAMERAS = "configure_cameras"
    CONFIGURE_NODES = "configure_nodes"
    CONFIGURE_RULES = "configure_rules"
    CHANGE_SETTINGS = "change_settings"  # retention, detector cadence, ...
    MANAGE_GESTURES = "manage_gestures"
    MANAGE_BLE_DEVICES = "manage_ble_devices"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_PEOPLE = "manage_people"  # enrol, rename
    ERASE_PEOPLE = "erase_people"
    MERGE_PEOPLE = "merge_people"
    READ_AUDIT = "read_audit"
    STOP_ENGINE = "stop_engine"  # quit a console that runs the engine: recording stops


_OPERATOR = frozenset(
    {Permission.WATCH, Permission.ACKNOWLEDGE, Permission.LABEL, Permission.FILE_REPORT}
)
_INVESTIGATOR = _OPERATOR | {
    Permission.REPLAY,
    Permission.BOOKMARK,
    Permission.EXPORT,
    Permission.LOCK_EVIDENCE,
    Permission.CHAT_HISTORY,
}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: _OPERATOR,
    Role.INVESTIGATOR: frozenset(_INVESTIGATOR),
    Role.ADMIN: frozenset(Permission),
}


class PermissionDeniedError(PermissionError):
    """``actor`` may not ``permission``; the message names both and the action refused."""

    def __init__(self, actor: Actor, permission: Permission, action: str) -> None:
        roles = ", ".join(sorted(actor.roles)) or "no role"
        super().__init__(
            f"{actor.name} ({roles}) may not {action_words(action)}: "
            f"it needs the {permission} permission"
        )
        self.actor = actor
        self.permission = permission
        self.action = action


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: an account's ``name`` and its ``roles``. ``kind`` says how they were
    identified: ``account`` (logged in), ``service`` (an admin-provisioned token for
    scripts), ``machine`` (the operating-system account that owns the data dir: the
    recovery path), or ``engine`` (the engine's own housekeeping, such as retention)."""

    name: str
    roles: frozenset[Role]
    kind: str = "account"

    def may(self, permission: Permission) -> bool:
        return any(permission in ROLE_PERMISSIONS[role] for role in self.roles)

    def require(self, permission: Permission, action: str) -> None:
        """Raise :class:`PermissionDeniedError` unless this actor holds ``permission``."""
        if not self.may(permission):
            raise PermissionDeniedError(self, permission, action)

    @property
    def label(self) -> str:
        """How the audit trail names this actor: ``kind:name``."""
        return f"{self.kind}:{self.name}"


ENGINE = Actor("engine", frozenset({Role.ADMIN}), "engine")


class GuardedCommand:
    """Mixin for store commands that need a permission: the writer checks ``actor``
    against ``permission`` before queueing the command, and audits a refusal. Subclasses
    are frozen dataclasses with an ``actor: Actor`` field."""

    permission: ClassVar[Permission]
    action: ClassVar[str]  # what the audit trail calls it, e.g. "person.erase"
    actor: Actor
    at: datetime  # when it was asked for (UTC)

    def audit_target(self) -> str:
        """What the action was done to (a person's id, a setting's key)."""
        return ""


def machine_actor() -> Actor:
    """The operating-system account running this process, which owns the data dir: it
    may do anything (whoever holds that account can read the database anyway). The CLI and
    console act as it until accounts are set up; it is also the lost-password recovery
    path. The audit trail names it ``machine:<user>``."""
    return Actor(getpass.getuser(), frozenset({Role.ADMIN}), "machine")


UseCase = TypeVar("UseCase", bound=Callable[..., Any])

# Each capability's use case (engine.<capability>.actions), by "module.function": the
# permission it needs. The console's and CLI's permission tables can be read from it.
ACTION_PERMISSIONS: dict[str, Permission] = {}


def needs(permission: Permission) -> Callable[[UseCase], UseCase]:
    """Declare, beside a use case, the permission its actor needs. The store writer checks
    it (and audits a refusal) on the guarded command the use case executes; this records
    it where the use case is written, for :func:`permission_of`."""

    def declare(use_case: UseCase) -> UseCase:
        ACTION_PERMISSIONS[f"{use_case.__module__}.{use_case.__qualname__}"] = permission
        return use_case

    return declare


def permission_of(use_case: Callable[..., Any]) -> Permission:
    """The permission ``use_case`` was declared with (:func:`needs`); KeyError if none."""
    return ACTION_PERMISSIONS[f"{use_case.__module__}.{use_case.__qualname__}"]
