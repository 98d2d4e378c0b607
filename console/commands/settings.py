"""``watchfloor settings list|get|set`` and ``watchfloor status``: admin settings with
validated, bounded values (or lists of role names, such as the roles no console locks when
idle), and the system's health."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands import site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("settings", help="show or change site-wide settings")
    actions = parser.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=parents, help="every setting with its bounds")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    get = actions.add_parser("get", parents=parents, help="one setting's value")
    get.add_argument("key", help="e.g. retention.clips_days")
    get.add_argument("--json", action="store_true", help="print as JSON")
    put = actions.add_parser("set", parents=parents, help="change a setting (validated)")
    put.add_argument("key", help="e.g. retention.clips_days")
    put.add_argument(
        "value",
        help="a whole number (sizes may say 2GiB or 500MB), or role names for a list of "
        "roles: operator,investigator (none for none)",
    )
    put.add_argument("--json", action="store_true", help="print the result as JSON")

    status = subparsers.add_parser(
        "status", parents=parents, help="storage, counts and retention health"
    )
    status.add_argument("--json", action="store_true", help="print as JSON")


def run_settings(args: argparse.Namespace, db_url: str) -> int:
    """Run ``settings list|get|set``. A bad name or value is a clear error with exit 2."""
    from engine.clock import REAL_CLOCK
    from engine.settings import (
        ROLE_NAMES,
        ChangeSetting,
        SettingError,
        SettingSpec,
        read_all_settings,
        spec_for,
    )
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = f"watchfloor settings {args.settings_command}"
    try:
        spec = spec_for(args.key) if args.settings_command in ("get", "set") else None
        value: int | tuple[str, ...] = (
            spec.parse(args.value) if spec is not None and args.settings_command == "set" else 0
        )
    except SettingError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        if spec is not None and args.settings_command == "set":
            with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
                previous = writer.execute(
                    ChangeSetting(key=spec.key, value=value, at=REAL_CLOCK.now(), actor=args.caller)
                )
            shown = list(value) if isinstance(value, tuple) else value
            result = {"key": spec.key, "value": shown, "previous": previous}
            print(json.dumps(result) if args.json else f"{spec.key} = {_words(value, spec.unit)}")
            return exit_codes.OK
        values = read_all_settings(store)
    finally:
        store.close()
    if spec is not None:
        values = [v for v in values if v.spec.key == spec.key]
    if args.json:
        rows = [v.as_dict() for v in values]
        print(json.dumps(rows[0] if spec is not None else rows))
        return exit_codes.OK
    for v in values:
        default = " (default)" if v.is_default else ""
        problem = f"  ! {printable(v.problem)}" if v.problem else ""
        print(f"{v.spec.key:32} {_words(v.value, v.spec.unit)}{default}{problem}")
        if spec is None:
            bounds = (
                f"{v.spec.minimum}–{v.spec.maximum}"
                if isinstance(v.spec, SettingSpec)
                else f"roles: {', '.join(ROLE_NAMES)}"
            )
            print(f"{'':32} {v.spec.description}; {bounds}")
    return exit_codes.OK


def _words(value: int | tuple[str, ...], unit: str) -> str:
    """``300 s``, or a list of roles as ``operator, investigator`` (``none``)."""
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return f"{value} {unit}".rstrip()


def run_status(args: argparse.Namespace, db_url: str) -> int:
    """Print the system's health (``watchfloor status [--json]``)."""
    from engine.clock import REAL_CLOCK
    from engine.data_dirs import data_dir
    from engine.status import system_status
    from engine.store import Store

    store = Store(db_url)
    try:
        status = system_status(store, data_dir(), REAL_CLOCK.now())
    finally:
        store.close()
    if args.json:
        print(json.dumps(status.as_dict()))
        return exit_codes.OK
    gib = 2**30
    db_size = f"{status.database_bytes / gib:.2f} GiB" if status.database_bytes else "?"
    print(f"database   {printable(status.database)} ({status.backend}, {db_size})")
    for kind, total in sorted(status.media_bytes.items()):
        print(f"{kind + 's':10} {status.media_files[kind]} files, {total / gib:.2f} GiB")
    print(
        f"free disk  {status.free_bytes / gib:.1f} GiB "
        f"(retention floor {status.free_floor_bytes / gib:.1f} GiB)"
    )
    print(f"people     {status.persons}")
    per_day = ", ".join(f"{day} {n}" for day, n in status.events_per_day[:3])
    print(f"events     {status.events_total} ({per_day})")
    last = (
        site_time(args).with_zone(status.last_retention_at) if status.last_retention_at else "never"
    )
    print(f"retention  last run {last}")
    for engine in status.cluster.engines if status.cluster is not None else ():
        runs = f", {len(engine.cameras)} cameras" if engine.state == "running" else ""
        print(printable(f"engine     {engine.name} on {engine.host}: {engine.state}{runs}"))
    for problem in status.problems:
        print(f"problem    {printable(problem)}")
    return exit_codes.OK


REGISTRATION = Registration(
    add_parser,
    (
        guarded("settings", "list", run_settings, Permission.WATCH, "read settings"),
        guarded("settings", "get", run_settings, Permission.WATCH, "read settings"),
        guarded("settings", "set", run_settings, Permission.CHANGE_SETTINGS, "change a setting"),
        guarded("status", None, run_status, Permission.WATCH, "read the system status"),
    ),
)
