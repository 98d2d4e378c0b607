"""``watchfloor retention run [--json]``: sweep orphan media and apply the retention policy
now, with the same code as the engine's retention thread (through a short-lived writer).
``watchfloor retention tiers`` shows how long each camera's continuous recording is kept
(the site file's tiers and those Administration set over them); ``retention set-tiers``
sets them, as the console's System page does."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.config import RECORDING_DAYS_MAX
from engine.recording_settings import TIER_MEANING
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
    tiers = actions.add_parser(
        "tiers",
        parents=parents,
        help="how long each camera's continuous recording is kept, tier by tier, and "
        "whether the site file or Administration set it",
    )
    tiers.add_argument("--json", action="store_true", help="print as JSON")
    set_tiers = actions.add_parser(
        "set-tiers",
        parents=parents,
        help="set cameras' recording tiers over the site file's (taken by every engine at "
        "its next retention pass)",
    )
    set_tiers.add_argument(
        "--camera",
        action="append",
        default=[],
        metavar="ID",
        help="a camera's id in the site file (repeat it; default: every camera that "
        "records continuously)",
    )
    for option, tier in TIER_OPTIONS.items():
        set_tiers.add_argument(
            f"--{option}",
            metavar="DAYS",
            help=f"{TIER_MEANING[tier]} (0..{RECORDING_DAYS_MAX}; 'file': the site file's again)",
        )
    set_tiers.add_argument("--json", action="store_true", help="print the result as JSON")


TIER_OPTIONS = {"all": "keep_all_days", "motion": "keep_motion_days", "events": "keep_events_days"}


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


def _tier_values(args: argparse.Namespace) -> dict[str, int | None]:
    """The tiers ``set-tiers`` was given: days, or None for "the site file's again"."""
    values: dict[str, int | None] = {}
    for option, tier in TIER_OPTIONS.items():
        text = getattr(args, option)
        if text is None:
            continue
        if text.strip().lower() == "file":
            values[tier] = None
            continue
        try:
            values[tier] = int(text)
        except ValueError:
            raise ValueError(
                f"--{option}: expected a whole number of days or 'file', got {text!r}"
            ) from None
    return values


def run_tiers(args: argparse.Namespace, db_url: str) -> int:
    """Show (``tiers``) or set (``set-tiers``) each camera's recording tiers. A camera the
    site file does not record continuously, or a bad number of days, is a clear error
    with exit 2."""
    from engine.clock import REAL_CLOCK
    from engine.config import load_site
    from engine.recording_settings import (
        TIER_TITLES,
        TIERS,
        ChangeRecordingTiers,
        RecordingTierError,
        read_stored_tiers,
        recording_tiers,
    )
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = f"watchfloor retention {args.retention_command}"
    site = load_site(args.site)
    store = Store(db_url)
    try:
        if args.retention_command == "set-tiers":
            known = [c.camera for c in recording_tiers(site, read_stored_tiers(store)).cameras]
            cameras = tuple(args.camera) or tuple(known)
            unknown = [camera for camera in cameras if camera not in known]
            try:
                if unknown:
                    raise RecordingTierError(
                        f"{', '.join(printable(c) for c in unknown)}: not a camera of "
                        f"{printable(site.name)} that records continuously (those are: "
                        f"{', '.join(printable(c) for c in known) or 'none'})"
                    )
                change = ChangeRecordingTiers(
                    cameras=cameras,
                    tiers=_tier_values(args),
                    at=REAL_CLOCK.now(),
                    actor=args.caller,
                )
                change.check()
            except ValueError as exc:
                print(f"{command}: {exc}", file=sys.stderr)
                return exit_codes.USAGE
            with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
                changed = writer.execute(change)
            if args.json:
                print(json.dumps({"changed": changed}))
            else:
                print(f"changed: {', '.join(changed)}" if changed else "nothing changed")
            return exit_codes.OK
        tiers = recording_tiers(site, read_stored_tiers(store))
    finally:
        store.close()
    for problem in tiers.problems:
        print(f"{command}: warning: {printable(problem)}", file=sys.stderr)
    if args.json:
        rows = [
            {
                "camera": c.camera,
                "name": c.name,
                "days": {tier: c.days(tier) for tier in TIERS},
                "site_file": dict(c.site_file),
                "set_here": sorted(t for t in TIERS if c.set_here(t)),
                "set_by": c.admin.by if c.admin else None,
                "set_at": c.admin.at.isoformat() if c.admin and c.admin.at else None,
            }
            for c in tiers.cameras
        ]
        print(json.dumps(rows))
        return exit_codes.OK
    if not tiers.cameras:
        print(f"no camera of {printable(site.name)} records continuously")
    for c in tiers.cameras:
        parts = []
        for tier in TIERS:
            where = " (set here)" if c.set_here(tier) else ""
            parts.append(f"{TIER_TITLES[tier].lower()} {c.days(tier)} d{where}")
        print(f"{printable(c.camera):16} {'; '.join(parts)}")
    return exit_codes.OK


REGISTRATION = Registration(
    add_parser,
    (
        guarded("retention", "run", run, Permission.CHANGE_SETTINGS, "run retention"),
        guarded("retention", "tiers", run_tiers, Permission.WATCH, "read cameras' recording tiers"),
        guarded(
            "retention",
            "set-tiers",
            run_tiers,
            Permission.CHANGE_SETTINGS,
            "set cameras' recording tiers",
        ),
    ),
)
