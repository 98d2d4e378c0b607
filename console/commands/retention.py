"""``watchfloor retention run [--json]``: apply the retention policy now."""

from __future__ import annotations

import argparse
import json
from typing import Any

from console import exit_codes


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("retention", help="purge old clips and events now")
    actions = parser.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run_parser = actions.add_parser(
        "run",
        parents=parents,
        help="delete clips/events past their age and relieve disk pressure (locked evidence "
        "is never touched)",
    )
    run_parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.paths import data_dir
    from engine.retention import RetentionPolicy, run_retention
    from engine.store import Store

    store = Store(db_url)
    try:
        report = run_retention(store, REAL_CLOCK, data_dir(), RetentionPolicy.from_settings(store))
    finally:
        store.close()
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(
            f"deleted {report.clips_deleted} clips, {report.snapshots_deleted} snapshots, "
            f"{report.events_deleted} events by age; {report.pressure_clips_deleted} clips for "
            f"disk space; freed {report.bytes_freed} bytes; {report.locked_kept} locked kept"
        )
    return exit_codes.OK if report.floor_reached else exit_codes.FAILED
