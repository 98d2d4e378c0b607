"""``watchfloor retention run [--json]``: sweep orphan media and apply the retention policy
now, with the same code as the engine's retention thread (through a short-lived writer)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("retention", help="purge old clips and events now")
    actions = parser.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run_parser = actions.add_parser(
        "run",
        parents=parents,
        help="delete clips/events past their age and relieve disk pressure (locked evidence "
        "is never touched); prune audit entries older than audit.keep_days; sweep media "
        "files that no row accounts for",
    )
    run_parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.config import load_site
    from engine.data_dirs import data_dir
    from engine.record.retention_tiers import load_segment_policies
    from engine.retention import run_maintenance
    from engine.store import Store
    from engine.store.writer import StoreWriter

    site = load_site(args.site)  # its cameras' [recording] tiers; a bad file: exit 4
    store = Store(db_url)
    try:
        segments = load_segment_policies(store, site)
        with StoreWriter.running(store, journal_dir=data_dir() / "journal") as writer:
            result = run_maintenance(
                store,
                writer,
                REAL_CLOCK,
                data_dir(),
                segments=segments,
                requested_by=args.caller,
            )
            fatal = writer.fatal
    finally:
        store.close()
    if fatal is not None:
        print(
            f"watchfloor retention: stopped, the {printable(str(fatal))} (read-only, full or "
            "damaged); files whose rows could not be deleted were kept",
            file=sys.stderr,
        )
        return exit_codes.DATABASE
    report = result.retention
    if report is None:
        print(f"watchfloor retention: {printable(str(result.problem))}", file=sys.stderr)
        return exit_codes.FAILED
    for problem in report.problems:
        print(f"watchfloor retention: warning: {printable(problem)}", file=sys.stderr)
    sweep = result.sweep
    if args.json:
        output = report.as_dict()
        output["sweep"] = sweep.as_dict() if sweep is not None else None
        print(json.dumps(output))
    else:
        print(
            f"deleted {report.clips_deleted} clips, {report.snapshots_deleted} snapshots, "
            f"{report.events_deleted} events, {report.segments_deleted} recording segments by "
            f"age; {report.pressure_clips_deleted} clips, {report.pressure_segments_deleted} "
            f"recording segments for disk space; freed {report.bytes_freed} bytes; "
            f"{report.locked_kept} locked kept; "
            f"{report.audit_entries_pruned} audit entries pruned"
        )
        if sweep is not None and sweep.found_something:
            print(
                f"orphans: removed {len(sweep.partials_removed)} unfinished files and "
                f"{len(sweep.snapshots_removed)} snapshots without rows; adopted "
                f"{len(sweep.clips_adopted)} clips without rows"
            )
    return exit_codes.OK if report.floor_reached else exit_codes.FAILED


REGISTRATION = Registration(
    add_parser,
    (guarded("retention", "run", run, Permission.CHANGE_SETTINGS, "run retention"),),
)
