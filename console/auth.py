"""Who runs a ``watchfloor`` command, and whether they may.

Every subcommand that changes or reveals data declares the permission it needs beside its
handler (:mod:`console.commands.registry`), collected in :data:`NEEDS`; :func:`cli_actor`
finds out who is asking and checks it before the command runs (the engine checks guarded
commands again when they reach the store writer):

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
import os
from pathlib import Path

from console.commands.catalog import SUBCOMMANDS
from console.commands.registry import chosen
from console.commands.typed_secrets import SECRETS as SECRETS
from console.commands.typed_secrets import SecretReader as SecretReader
from engine.access import Actor, Permission, PermissionDeniedError, machine_actor
from engine.clock import REAL_CLOCK, Clock

TOKEN_ENV = "WATCHFLOOR_TOKEN"

# (command, action) -> what it needs and what it does (for messages and the audit trail),
# as each capability's module under console/commands declares it beside the subcommand.
# None: no account check: the command touches no stored data (cameras set-password: the
# OS keyring of the user running it; verify; speech names), maintains the database file as
# its owner (db upgrade), or has its own rule (accounts init: only before any account
# exists; accounts recover: only the machine account; accounts passwd: proves the current
# password).
NEEDS: dict[tuple[str, str | None], tuple[Permission, str] | None] = {
    s.key: (s.needs, s.doing) if s.needs is not None else None for s in SUBCOMMANDS
}


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
    """The ``(command, action)`` that ``args`` were parsed for (``("ble", "devices add")``)."""
    subcommand = chosen(args)
    if subcommand is None:
        raise ValueError("no subcommand was parsed")
    return subcommand.key


def cli_actor(
    args: argparse.Namespace,
    db_url: str,
    need: Permission,
    doing: str,
    *,
    clock: Clock = REAL_CLOCK,
) -> Actor:
    """Who runs this command, logged in and allowed to ``doing`` at ``clock``'s time; or
    :class:`AuthenticationNeededError`, :class:`~engine.accounts.LoginFailedError` or
    :class:`~engine.access.PermissionDeniedError` (each audited by the engine)."""
    from engine.accounts import accounts_exist, login, token_login
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
        with StoreWriter.running(store, clock=clock) as writer:
            if user is not None:
                try:
                    password = SECRETS.read(f"password for {user}: ")
                except ValueError as exc:  # nothing typed or piped: missing credentials
                    raise AuthenticationNeededError(
                        f"no password for {user}: {str(exc).rpartition(': ')[2]} (type it "
                        f"when asked, pipe it as the first line, or set {TOKEN_ENV} to a "
                        f"service account's token)"
                    ) from None
                actor = login(writer, user, password, clock.now(), via=via)
            else:
                actor = token_login(writer, token, clock.now(), via=via)
            if not actor.may(need):
                writer.execute(
                    AppendAudit(
                        at=clock.now(),
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
