"""``watchfloor accounts``: who may log in, with which roles.

``init`` creates the first admin of a new install (only while there is no account);
``list``, ``add``, ``add-service``, ``roles``, ``disable``, ``enable``, ``reset`` and
``clear-delay`` are an admin's (``--user`` or a service token, see :mod:`console.auth`);
``passwd`` changes your own password; ``recover`` gives a lost admin a new password and
may only be run by the operating-system account that owns the data dir. Passwords are
asked twice without echo at a terminal, or read one per line from stdin.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands import site_time
from console.commands.registry import Registration, guarded, unguarded
from console.commands.typed_secrets import SECRETS
from engine.access import Permission


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("accounts", help="accounts, roles and service tokens")
    actions = parser.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init", parents=parents, help="create the first admin of a new install"
    )
    init.add_argument("name")
    listing = actions.add_parser(
        "list", parents=parents, help="accounts, roles, failed logins and login delays"
    )
    listing.add_argument("--json", action="store_true", help="print as JSON")
    add = actions.add_parser("add", parents=parents, help="add a person's account")
    add.add_argument("name")
    add.add_argument("--roles", required=True, help="e.g. operator or operator,investigator")
    service = actions.add_parser(
        "add-service",
        parents=parents,
        help="add a service account for scripts or the headless engine; prints its token once",
    )
    service.add_argument("name")
    service.add_argument("--roles", required=True, help="e.g. operator")
    roles = actions.add_parser("roles", parents=parents, help="set an account's roles")
    roles.add_argument("name")
    roles.add_argument("roles", help="e.g. investigator,operator")
    for action, text in (("disable", "stop an account logging in"), ("enable", "let it again")):
        actions.add_parser(action, parents=parents, help=text).add_argument("name")
    actions.add_parser(
        "reset",
        parents=parents,
        help="set a person's password (asked) or give a service account a new token",
    ).add_argument("name")
    actions.add_parser(
        "clear-delay", parents=parents, help="forget an account's failed logins"
    ).add_argument("name")
    actions.add_parser("passwd", parents=parents, help="change your own password (with --user)")
    actions.add_parser(
        "recover",
        parents=parents,
        help="lost admin password: give NAME the admin role and a new password; only the "
        "operating-system account that owns the data dir may, and it is audited",
    ).add_argument("name")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.access import machine_actor
    from engine.accounts import (
        AccountError,
        AccountListRequest,
        ChangeOwnPassword,
        ClearLoginDelay,
        ResetSecret,
        SetDisabled,
        SetRoles,
        check_password,
        create_account,
        create_first_admin,
        hash_password,
        hash_token,
        new_service_token,
        parse_roles,
        recover_admin,
    )
    from engine.clock import REAL_CLOCK
    from engine.data_dirs import secure_data_dir
    from engine.store import Store
    from engine.store.writer import StoreWriter
    from engine.text import printable

    command = f"watchfloor accounts {args.accounts_command}"
    now = REAL_CLOCK.now
    store = Store(db_url)
    try:
        if args.accounts_command == "list":
            views = AccountListRequest(args.caller).run(store)
            if args.json:
                print(json.dumps([v.as_dict() for v in views]))
            for v in [] if args.json else views:
                state = "disabled" if v.disabled else "enabled"
                delay = ""
                if v.retry_after is not None and v.retry_after > now():
                    delay = f", delayed until {site_time(args).with_zone(v.retry_after)}"
                print(
                    f"{v.name:20} {v.kind:8} {','.join(sorted(v.roles)):28} {state}, "
                    f"{v.failed_logins} failed logins{delay}"
                )
            return exit_codes.OK
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            action = args.accounts_command
            if action == "init":
                password = SECRETS.read(f"new password for {args.name}: ", confirm=True)
                create_first_admin(writer, args.name, password, now(), machine_actor())
                print(f"{args.name} is the first admin; log in with --user {args.name}")
            elif action == "recover":
                password = SECRETS.read(f"new password for {args.name}: ", confirm=True)
                recover_admin(
                    writer, secure_data_dir(), args.name, password, now(), machine_actor()
                )
                print(f"{args.name} is an admin again with the new password (audited)")
            elif action == "passwd":
                if getattr(args, "user", None) is None:
                    print(f"{command}: say whose password with --user NAME", file=sys.stderr)
                    return exit_codes.USAGE
                current = SECRETS.read(f"current password for {args.user}: ")
                new = SECRETS.read(f"new password for {args.user}: ", confirm=True)
                check_password(args.user, new)
                result = writer.execute(
                    ChangeOwnPassword(
                        name=args.user,
                        current_password=current,
                        new_password_hash=hash_password(new),
                        at=now(),
                    )
                )
                if result.actor is None:
                    print(f"{command}: {result.reason}", file=sys.stderr)
                    return exit_codes.NOT_ALLOWED
                print("password changed")
            elif action in ("add", "add-service"):
                password = None
                if action == "add":
                    password = SECRETS.read(
                        f"password for the new account {args.name}: ", confirm=True
                    )
                token = create_account(
                    writer, args.caller, args.name, args.roles, now(), password=password
                )
                if token is not None:
                    print(token)
                    print(
                        f"the token of {args.name}: shown once; scripts set WATCHFLOOR_TOKEN to it",
                        file=sys.stderr,
                    )
            elif action == "roles":
                writer.execute(
                    SetRoles(
                        name=args.name, roles=parse_roles(args.roles), at=now(), actor=args.caller
                    )
                )
            elif action in ("disable", "enable"):
                writer.execute(
                    SetDisabled(
                        name=args.name, disabled=action == "disable", at=now(), actor=args.caller
                    )
                )
            elif action == "reset":
                by_name = {a.name.casefold(): a for a in AccountListRequest(args.caller).run(store)}
                view = by_name.get(args.name.casefold())
                if view is None:
                    raise AccountError(f"no account named {printable(args.name)!r}")
                if view.kind == "service":
                    token = new_service_token()
                    secret = hash_token(token)
                else:
                    token = None
                    password = SECRETS.read(f"new password for {view.name}: ", confirm=True)
                    secret = hash_password(check_password(view.name, password))
                writer.execute(
                    ResetSecret(name=view.name, secret_hash=secret, at=now(), actor=args.caller)
                )
                if token is not None:
                    print(token)
            elif action == "clear-delay":
                writer.execute(ClearLoginDelay(name=args.name, at=now(), actor=args.caller))
        return exit_codes.OK
    except (AccountError, ValueError) as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()


_ADMIN = Permission.MANAGE_ACCOUNTS
REGISTRATION = Registration(
    add_parser,
    (
        guarded("accounts", "list", run, _ADMIN, "list accounts"),
        guarded("accounts", "add", run, _ADMIN, "add an account"),
        guarded("accounts", "add-service", run, _ADMIN, "add a service account"),
        guarded("accounts", "roles", run, _ADMIN, "change an account's roles"),
        guarded("accounts", "disable", run, _ADMIN, "disable an account"),
        guarded("accounts", "enable", run, _ADMIN, "enable an account"),
        guarded("accounts", "reset", run, _ADMIN, "reset an account's secret"),
        guarded("accounts", "clear-delay", run, _ADMIN, "clear a login delay"),
        # Each has its own rule instead of a permission.
        unguarded("accounts", "init", run, "only before any account exists"),
        unguarded("accounts", "recover", run, "only the machine account"),
        unguarded("accounts", "passwd", run, "proves the current password"),
    ),
)
