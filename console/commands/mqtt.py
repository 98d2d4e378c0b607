"""``watchfloor mqtt``: which broker user may send commands as which service account.

``grant BROKER_USER ACCOUNT`` lets the broker user's commands act as the service account
``ACCOUNT`` (each command still carries that account's token); ``revoke BROKER_USER`` takes
it back; ``grants`` lists them. An admin's (``--user`` or a service token, see
:mod:`console.auth`), audited as ``mqtt.grant`` and ``mqtt.revoke``. A site file's
``[mqtt.commands]`` grants nothing: see :mod:`engine.mqtt.grants`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands import site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mqtt", help="which broker users may send commands, as which service account"
    )
    actions = parser.add_subparsers(dest="mqtt_command", metavar="ACTION", required=True)
    grant = actions.add_parser(
        "grant",
        parents=parents,
        help="let a broker user's commands act as a service account (they carry its token)",
    )
    grant.add_argument("broker_user", metavar="BROKER_USER")
    grant.add_argument("account", metavar="ACCOUNT", help="a service account (add-service)")
    actions.add_parser(
        "revoke", parents=parents, help="a broker user may no longer send commands"
    ).add_argument("broker_user", metavar="BROKER_USER")
    listing = actions.add_parser(
        "grants", parents=parents, help="the broker users that may send commands, and as whom"
    )
    listing.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.mqtt.grants import GrantMqtt, MqttGrantError, MqttGrantListRequest, RevokeMqtt
    from engine.store import Store
    from engine.store.writer import StoreWriter
    from engine.text import printable

    command = f"watchfloor mqtt {args.mqtt_command}"
    store = Store(db_url)
    try:
        if args.mqtt_command == "grants":
            views = MqttGrantListRequest(args.caller).run(store)
            if args.json:
                print(json.dumps([view.as_dict() for view in views]))
                return exit_codes.OK
            if not views:
                print("no broker user may send commands (watchfloor mqtt grant USER ACCOUNT)")
                return exit_codes.OK
            zone = site_time(args)  # reads the site file: once, not per grant
            for view in views:
                state = ", disabled" if view.disabled else ""
                granted = zone.with_zone(view.granted_at)
                print(
                    f"{view.broker_user:20} as {view.account} ({view.roles}{state}); granted "
                    f"by {view.granted_by} {granted}"
                )
            return exit_codes.OK
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if args.mqtt_command == "grant":
                view = writer.execute(
                    GrantMqtt(
                        broker_user=args.broker_user,
                        account=args.account,
                        at=REAL_CLOCK.now(),
                        actor=args.caller,
                    )
                )
                disabled = " (disabled: its commands are refused until it is enabled)"
                print(
                    f"broker user {view.broker_user} may send commands as {view.account}"
                    f"{disabled if view.disabled else ''}; each carries its token"
                )
            else:
                account = writer.execute(
                    RevokeMqtt(broker_user=args.broker_user, at=REAL_CLOCK.now(), actor=args.caller)
                )
                print(f"broker user {args.broker_user} may no longer send commands (was {account})")
        return exit_codes.OK
    except MqttGrantError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()


# Who may send MQTT commands as which service account: an account matter.
REGISTRATION = Registration(
    add_parser,
    (
        guarded(
            "mqtt",
            "grant",
            run,
            Permission.MANAGE_ACCOUNTS,
            "let a broker user act as a service account",
        ),
        guarded("mqtt", "revoke", run, Permission.MANAGE_ACCOUNTS, "revoke a broker user's grant"),
        guarded("mqtt", "grants", run, Permission.MANAGE_ACCOUNTS, "list the MQTT grants"),
    ),
)
