"""Who runs a ``watchfloor`` command, and whether they may.

Every subcommand that changes or reveals data names the permission it needs in
:data:`NEEDS`; :func:`cli_actor` finds out who is asking and checks it before the command
runs (the engine checks guarded commands again when they reach the store writer):

- ``--user NAME``: a person's account; the password is asked at the terminal without
  echo, or read as the first line of stdin when stdin is not a terminal.
- ``$WATCHFLOOR_TOKEN``: a service account's token, for scripts and the headless engine
  (``watchfloor accounts add-service``, by an admin).
- neither, on an install with no account yet (set-up mode): the operating-system account
  running the command, which owns the data dir, acts as admin
  (:func:`~engine.access.machine_actor`). Once the first account exists
  (``watchfloor accounts init`` or the console's first start), such a command is refused.

Logins, failed logins and refusals are audited by the engine.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from engine.access import Actor, Permission, PermissionDeniedError, machine_actor

TOKEN_ENV = "WATCHFLOOR_TOKEN"

# (command, action) -> what it needs and what it does (for messages and the audit trail).
# None: no account check: the command touches no stored data (cameras: the OS keyring of
# the user running it; bench), maintains the database file as its owner (db upgrade), or
# has its own rule (accounts init: only before any account exists; accounts recover: only
# the machine account; accounts passwd: proves the current password).
NEEDS: dict[tuple[str, str | None], tuple[Permission, str] | None] = {
    ("engine", None): (Permission.WATCH, "run the engine"),
    ("analyze", None): (Permission.WATCH, "analyze a video into the store"),
    ("retention", "run"): (Permission.CHANGE_SETTINGS, "run retention"),
    ("faces", "enroll"): (Permission.MANAGE_PEOPLE, "enrol a person"),
    ("faces", "identify"): (Permission.WATCH, "identify faces"),
    ("gestures", "teach"): (Permission.MANAGE_GESTURES, "teach a gesture"),
    ("gestures", "list"): (Permission.WATCH, "list gestures"),
    ("gestures", "rename"): (Permission.MANAGE_GESTURES, "rename a gesture"),
    ("gestures", "set"): (Permission.MANAGE_GESTURES, "change a gesture"),
    ("gestures", "remove"): (Permission.MANAGE_GESTURES, "remove a gesture"),
    ("gestures", "detect"): (Permission.WATCH, "detect gestures in a video"),
    ("people", "list"): (Permission.WATCH, "list people"),
    ("people", "rename"): (Permission.MANAGE_PEOPLE, "rename a person"),
    ("people", "merge"): (Permission.MERGE_PEOPLE, "merge people"),
    ("people", "erase"): (Permission.ERASE_PEOPLE, "erase a person"),
    ("settings", "list"): (Permission.WATCH, "read settings"),
    ("settings", "get"): (Permission.WATCH, "read settings"),
    ("settings", "set"): (Permission.CHANGE_SETTINGS, "change a setting"),
    ("status", None): (Permission.WATCH, "read the system status"),
    ("engines", None): (Permission.WATCH, "see which engine runs what"),
    ("audit", "list"): (Permission.READ_AUDIT, "read the audit trail"),
    ("audit", "verify"): (Permission.READ_AUDIT, "verify the audit trail"),
    ("audit", "checkpoint"): (Permission.READ_AUDIT, "sign the audit trail's head"),
    ("accounts", "list"): (Permission.MANAGE_ACCOUNTS, "list accounts"),
    ("accounts", "add"): (Permission.MANAGE_ACCOUNTS, "add an account"),
    ("accounts", "add-service"): (Permission.MANAGE_ACCOUNTS, "add a service account"),
    ("accounts", "roles"): (Permission.MANAGE_ACCOUNTS, "change an account's roles"),
    ("accounts", "disable"): (Permission.MANAGE_ACCOUNTS, "disable an account"),
    ("accounts", "enable"): (Permission.MANAGE_ACCOUNTS, "enable an account"),
    ("accounts", "reset"): (Permission.MANAGE_ACCOUNTS, "reset an account's secret"),
    ("accounts", "clear-delay"): (Permission.MANAGE_ACCOUNTS, "clear a login delay"),
    # Who may send MQTT commands as which service account: an account matter.
    ("mqtt", "grant"): (Permission.MANAGE_ACCOUNTS, "let a broker user act as a service account"),
    ("mqtt", "revoke"): (Permission.MANAGE_ACCOUNTS, "revoke a broker user's grant"),
    ("mqtt", "grants"): (Permission.MANAGE_ACCOUNTS, "list the MQTT grants"),
    # Secrets live in the OS keyring, but setting one is an admin's change of the site's
    # configuration, audited like a setting; one permission for all three, as `set` may
    # set any secret (the node install secret included).
    ("secrets", "list"): (Permission.CHANGE_SETTINGS, "list the secrets"),
    ("secrets", "set"): (Permission.CHANGE_SETTINGS, "store a secret"),
    ("secrets", "generate"): (Permission.CHANGE_SETTINGS, "generate a secret"),
    ("accounts", "init"): None,
    ("accounts", "recover"): None,
    ("accounts", "passwd"): None,
    ("sense", "token"): (Permission.CONFIGURE_NODES, "issue a node token"),
    ("sense", "serve"): (Permission.WATCH, "run the sensing node server"),
    ("sense", "pair"): (Permission.CONFIGURE_NODES, "open node pairing"),
    ("sense", "simulate"): (Permission.WATCH, "run a simulated sensing room"),
    ("sense", "explain"): (Permission.WATCH, "explain a sensing blob"),
    ("sense", "replay"): (Permission.REPLAY, "replay recorded sensing"),
    ("sense", "plan"): (Permission.WATCH, "plan a sensing layout"),
    ("ble", "devices list"): (Permission.WATCH, "list BLE devices"),
    ("ble", "devices add"): (Permission.MANAGE_BLE_DEVICES, "register a BLE device"),
    ("ble", "devices remove"): (Permission.MANAGE_BLE_DEVICES, "remove a BLE device"),
    ("ble", "scan"): (Permission.WATCH, "scan for BLE devices"),
    ("alerts", "list"): (Permission.WATCH, "list alerts"),
    ("alerts", "ack"): (Permission.ACKNOWLEDGE, "acknowledge an alert"),
    ("alerts", "count"): (Permission.WATCH, "count alerts"),
    ("alerts", "label"): (Permission.LABEL, "label an alert sequence"),
    ("alerts", "rules list"): (Permission.WATCH, "list alert rules"),
    ("alerts", "rules add"): (Permission.CONFIGURE_RULES, "add an alert rule"),
    ("alerts", "rules remove"): (Permission.CONFIGURE_RULES, "remove an alert rule"),
    ("incidents", "report"): (Permission.FILE_REPORT, "file an incident report"),
    ("incidents", "import"): (Permission.FILE_REPORT, "import incident reports"),
    ("incidents", "list"): (Permission.WATCH, "list incidents"),
    ("incidents", "show"): (Permission.WATCH, "show an incident"),
    ("incidents", "validate"): (Permission.LABEL, "validate or correct an incident"),
    ("incidents", "unmerge"): (Permission.LABEL, "split a report off its incident"),
    ("incidents", "reclassify"): (Permission.FILE_REPORT, "re-classify pending reports"),
    ("risk", "hotspots"): (Permission.WATCH, "read the risk forecast"),
    ("risk", "cameras"): (Permission.WATCH, "read cameras' risk classes"),
    ("risk", "retrain"): (Permission.CHANGE_SETTINGS, "refit the risk model"),
    ("ask", None): (Permission.CHAT_HISTORY, "ask about recorded history"),
    ("export", None): (Permission.EXPORT, "export evidence"),
    ("evidence", "lock"): (Permission.LOCK_EVIDENCE, "lock evidence"),
    ("evidence", "unlock"): (Permission.LOCK_EVIDENCE, "release an evidence lock"),
    ("evidence", "list"): (Permission.REPLAY, "list evidence locks"),
    ("bookmarks", "add"): (Permission.BOOKMARK, "add a bookmark"),
    ("bookmarks", "remove"): (Permission.BOOKMARK, "remove a bookmark"),
    ("bookmarks", "list"): (Permission.REPLAY, "list bookmarks"),
    ("bookmarks", "search"): (Permission.REPLAY, "search bookmarks"),
    ("search", None): (Permission.REPLAY, "search reports, bookmarks and events by meaning"),
    ("follow", None): (Permission.REPLAY, "follow the events the site's engines store"),
    ("appearance", "search"): (Permission.REPLAY, "search people by appearance"),
    ("appearance", "similar"): (Permission.REPLAY, "find people who look alike"),
    ("verify", None): None,  # anyone may check an exported folder; it needs no database
    ("db", "upgrade"): None,
    ("cameras", "set-password"): None,
    ("cameras", "calibrate"): (Permission.CONFIGURE_CAMERAS, "calibrate a camera to the floor"),
    ("fusion", "simulate"): (
        Permission.CONFIGURE_CAMERAS,
        "run the walkthrough, calibrating its simulated cameras",
    ),
    ("cameras", "calibration"): (Permission.WATCH, "read the cameras' floor calibrations"),
    ("cameras", "mask"): (Permission.CONFIGURE_CAMERAS, "change a camera's privacy masks"),
    ("cameras", "masks"): (Permission.WATCH, "read the cameras' privacy masks"),
    ("speech", "names"): None,  # reads only the audio files it is given; no database
    ("bench", None): None,
}
ACTION_DESTS = {
    "retention": "retention_command",
    "faces": "faces_command",
    "gestures": "gestures_command",
    "people": "people_command",
    "settings": "settings_command",
    "audit": "audit_command",
    "accounts": "accounts_command",
    "mqtt": "mqtt_command",
    "sense": "sense_command",
    "db": "db_command",
    "cameras": "cameras_command",
    "fusion": "fusion_command",
    "speech": "speech_command",
    "secrets": "secrets_command",
    "ble": "ble_command",
    "alerts": "alerts_command",
    "incidents": "incidents_command",
    "risk": "risk_command",
    "evidence": "evidence_command",
    "bookmarks": "bookmarks_command",
    "appearance": "appearance_command",
}
# Actions with verbs of their own (``ble devices add``): the key's action is "devices add".
VERB_DESTS = {("ble", "devices"): "devices_command", ("alerts", "rules"): "rules_command"}


class AuthenticationNeededError(PermissionError):
    """The install has accounts and the command was not told whose it is."""


def add_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """``--user``; the global parser's default is None, a subcommand's does not override."""
    parser.add_argument(
        "--user",
        metavar="NAME",
        default=argparse.SUPPRESS if suppress else None,
        help=f"act as this account (password asked, or the first line of stdin); scripts "
        f"use a service account's token in ${TOKEN_ENV} instead",
    )


def command_key(args: argparse.Namespace) -> tuple[str, str | None]:
    command = str(args.command)
    dest = ACTION_DESTS.get(command)
    if dest is None:
        return command, None
    action = str(getattr(args, dest))
    verb_dest = VERB_DESTS.get((command, action))
    return command, (f"{action} {getattr(args, verb_dest)}" if verb_dest else action)


class SecretReader:
    """Passwords from the terminal (no echo) or, for scripts and tests, stdin lines in the
    order they are asked for."""

    def __init__(self) -> None:
        self._lines: Iterator[str] | None = None
        self._stdin: object = None

    def read(self, prompt: str, *, confirm: bool = False) -> str:
        if sys.stdin is not None and sys.stdin.isatty():
            secret = getpass.getpass(prompt)
            if confirm and getpass.getpass("again: ") != secret:
                raise ValueError("the two passwords differ")
            return secret
        if self._lines is None or self._stdin is not sys.stdin:
            self._stdin = sys.stdin
            self._lines = iter(sys.stdin.readline, "")
        line = next(self._lines, "")
        if not line:
            raise ValueError(f"{prompt.rstrip(': ')}: nothing on stdin")
        return line.rstrip("\r\n")


SECRETS = SecretReader()


def cli_actor(args: argparse.Namespace, db_url: str, need: Permission, doing: str) -> Actor:
    """Who runs this command, logged in and allowed to ``doing``; or
    :class:`AuthenticationNeededError`, :class:`~engine.accounts.LoginFailedError` or
    :class:`~engine.access.PermissionDeniedError` (each audited by the engine)."""
    from engine.accounts import accounts_exist, login, token_login
    from engine.clock import REAL_CLOCK
    from engine.store import Store
    from engine.store.audit import AppendAudit
    from engine.store.writer import StoreWriter

    user = getattr(args, "user", None)
    token = os.environ.get(TOKEN_ENV, "").strip()
    command, action = command_key(args)
    via = f"cli: {command}{' ' + action if action else ''}"
    if user is None and not token and _new_sqlite_file(db_url):
        return machine_actor()  # no database yet, so no account: set-up mode
    store = Store(db_url)
    try:
        if user is None and not token:
            if accounts_exist(store):
                raise AuthenticationNeededError(
                    f"this install has accounts: say who you are with --user NAME (the "
                    f"password is asked), or set {TOKEN_ENV} to a service account's token"
                )
            return machine_actor()  # set-up mode: the data dir's owner is the admin
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if user is not None:
                try:
                    password = SECRETS.read(f"password for {user}: ")
                except ValueError as exc:  # nothing typed or piped: missing credentials
                    raise AuthenticationNeededError(
                        f"no password for {user}: {str(exc).rpartition(': ')[2]} (type it "
                        f"when asked, pipe it as the first line, or set {TOKEN_ENV} to a "
                        f"service account's token)"
                    ) from None
                actor = login(writer, user, password, REAL_CLOCK.now(), via=via)
            else:
                actor = token_login(writer, token, REAL_CLOCK.now(), via=via)
            if not actor.may(need):
                writer.execute(
                    AppendAudit(
                        at=REAL_CLOCK.now(),
                        actor=actor,
                        action=f"{command}.{action}" if action else command,
                        outcome="denied",
                        detail={"needs": str(need), "via": via},
                    )
                )
                raise PermissionDeniedError(actor, need, doing)
            return actor
    finally:
        store.close()


def _new_sqlite_file(db_url: str) -> bool:
    """Whether ``db_url`` is an SQLite file that does not exist yet (a check must not
    create it: a command refused for a bad site file leaves nothing behind)."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return False
    return not Path(url.database).exists()
