"""``watchfloor export`` and ``watchfloor verify``: evidence that anyone can check later.

``export --from ISO --to ISO [--cameras KEY …] [--rooms ROOM …] --out DIR`` writes the
range's clips, snapshots, events (``events.json``, ``report.html``) and a manifest of every
file's SHA-256, signed with this installation's Ed25519 key (its public half beside it).
The folder appears only when complete. ``verify DIR [--key PUBLIC.pem]`` checks that the
folder contains its evidence, intact: the signature and every listed file (never following a
manifest path out of the folder, nor a symbolic link in it), and names each altered, missing
or added one and anything that is not a regular file; ``--key`` also requires that a trusted
key signed it (the public key in the folder proves nothing alone; keys are compared as keys).
Exit 0 when the folder is intact, 1 when not (or not readable as an export), 2 when the
``--key`` file is not a public key. ``export … --lock REASON`` also locks the
exported range and sources (after the export succeeded), with the folder recorded on the lock.

``evidence lock (--from ISO --to ISO [--cameras KEY …] [--rooms ROOM …] | --bookmark ID)
--reason TEXT`` keeps a range of sources from retention (naming neither cameras nor rooms:
the whole site); ``evidence unlock ID --reason TEXT`` releases a lock (its media stay locked
where another active lock covers them); ``evidence list [--all]`` shows the active locks
(``--all``: released ones too). Locking and unlocking need the lock-evidence permission
(investigators and admins) and are audited. Times typed without an offset are the site's
(the ``--site`` file's zone, the demo site by default), and so are the times printed (with
the zone); ``--json`` output, the manifest and ``events.json`` stay UTC.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from console import exit_codes
from console.commands import iso_time, row_id, site_of, site_time
from console.commands.registry import Registration, guarded, unguarded, without_database
from engine.access import Permission
from engine.sitetime import SiteTime
from engine.text import printable

SITE_TIME_HELP = "ISO time (without an offset: site time)"


def add_parsers(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    export = subparsers.add_parser(
        "export", parents=parents, help="export signed evidence of a time range"
    )
    export.add_argument("--from", dest="start", type=iso_time, required=True, help=SITE_TIME_HELP)
    export.add_argument("--to", dest="end", type=iso_time, required=True, help=SITE_TIME_HELP)
    export.add_argument("--cameras", nargs="+", metavar="KEY", help="only these cameras")
    export.add_argument("--rooms", nargs="+", metavar="ROOM", help="only these sensing rooms")
    export.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    export.add_argument(
        "--lock",
        metavar="REASON",
        help="also lock the exported range and sources from retention, for this reason",
    )
    export.add_argument("--json", action="store_true", help="print the outcome as JSON")
    verify = subparsers.add_parser("verify", help="check an exported evidence folder")
    verify.add_argument("folder", type=Path, metavar="DIR")
    verify.add_argument("--key", type=Path, help="the trusted public key (PEM)")
    verify.add_argument("--json", action="store_true", help="print the outcome as JSON")

    evidence = subparsers.add_parser(
        "evidence", help="evidence locks: keep a time range of sources from retention"
    )
    actions = evidence.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)
    lock = actions.add_parser(
        "lock", parents=parents, help="lock a time range (or a bookmark's) from retention"
    )
    lock.add_argument("--from", dest="start", type=iso_time, help=SITE_TIME_HELP)
    lock.add_argument("--to", dest="end", type=iso_time, help=SITE_TIME_HELP)
    lock.add_argument("--cameras", nargs="+", metavar="KEY", help="only these cameras")
    lock.add_argument("--rooms", nargs="+", metavar="ROOM", help="only these sensing rooms")
    lock.add_argument(
        "--bookmark", type=row_id, metavar="ID", help="the range and source of this bookmark"
    )
    lock.add_argument("--reason", required=True, help="why (a case number, an incident)")
    lock.add_argument("--json", action="store_true", help="print the lock as JSON")
    unlock = actions.add_parser("unlock", parents=parents, help="release an evidence lock")
    unlock.add_argument("lock_id", metavar="ID", type=row_id)
    unlock.add_argument("--reason", required=True, help="why it may go now")
    unlock.add_argument("--json", action="store_true", help="print the lock as JSON")
    listing = actions.add_parser("list", parents=parents, help="evidence locks, newest first")
    listing.add_argument("--all", action="store_true", help="released locks too")
    listing.add_argument("--json", action="store_true", help="print as JSON")


def run_export(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.data_dirs import data_dir
    from engine.history.evidence import EvidenceError
    from engine.history.export_case import EvidenceDesk, ExportLockRefusedError, ExportRequest
    from engine.runtime import place_names
    from engine.store import Store
    from engine.store.writer import StoreWriter

    site = site_of(args)  # report.html is on the site's clock, with its places' names
    zone = site.site_time
    request = ExportRequest(
        start=args.start,
        end=args.end,
        cameras=None if args.cameras is None else tuple(args.cameras),
        rooms=None if args.rooms is None else tuple(args.rooms),
        folder=args.out,
        lock_reason=args.lock,
    )
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            desk = EvidenceDesk(
                store, writer, REAL_CLOCK, data_dir(), data_dir(), zone, place_names(site)
            )
            via = "cli: export --lock" if args.lock is not None else "cli: export"
            exported = desk.export(args.caller, request, via=via)
    except EvidenceError as exc:
        print(f"watchfloor export: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    except ExportLockRefusedError as exc:
        print(f"watchfloor export: exported to {exc.folder}, but {exc}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()
    result, locked = exported.result, exported.lock
    if args.json:
        outcome: dict[str, Any] = {
            "folder": str(result.folder),
            "files": result.files,
            "events": result.events,
            "clips": result.clips,
            "snapshots": result.snapshots,
            "bytes": result.bytes,
            "fingerprint": result.fingerprint,
            "recordings": result.recordings,
            "footage_segments": result.footage_segments,
        }
        if locked is not None:
            outcome["lock"] = locked.as_json()
        print(json.dumps(outcome))
    else:
        recorded = f", {result.recordings} sensing-recording segments" if result.recordings else ""
        if result.footage_segments:
            recorded += f", {result.footage_segments} segments of continuous recording"
        print(
            f"exported {result.events} events, {result.clips} clips and {result.snapshots} "
            f"snapshots{recorded} ({result.bytes / 1e6:.1f} MB) to {result.folder}; signed by "
            f"key {result.fingerprint[:16]}…"
        )
        if locked is not None:
            print(_describe_lock(locked, zone))
    return exit_codes.OK


def run_evidence(args: argparse.Namespace, db_url: str) -> int:
    """``watchfloor evidence lock|unlock|list``."""
    from engine.clock import REAL_CLOCK
    from engine.history.locks import (
        EvidenceLockListRequest,
        LockError,
        LockEvidence,
        UnknownLockError,
        UnlockEvidence,
    )
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = f"watchfloor evidence {args.evidence_command}"
    if args.evidence_command == "lock":
        ranged = args.start is not None or args.end is not None
        if args.bookmark is not None and (ranged or args.cameras or args.rooms):
            print(
                f"{command}: give --bookmark ID or --from/--to with their sources, not both",
                file=sys.stderr,
            )
            return exit_codes.USAGE
        if args.bookmark is None and (args.start is None or args.end is None):
            print(f"{command}: give --from ISO and --to ISO, or --bookmark ID", file=sys.stderr)
            return exit_codes.USAGE
    store = Store(db_url)
    try:
        if args.evidence_command == "list":
            locks = EvidenceLockListRequest(active_only=not args.all).run(store)
            if args.json:
                print(json.dumps([view.as_json() for view in locks]))
            else:
                zone = site_time(args)
                for view in locks:
                    print(_lock_line(view, zone))
                if not locks:
                    print("no evidence locks" if args.all else "no active evidence locks")
            return exit_codes.OK
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if args.evidence_command == "lock":
                view = writer.execute(
                    LockEvidence(
                        start=args.start,
                        end=args.end,
                        cameras=None if args.cameras is None else tuple(args.cameras),
                        rooms=None if args.rooms is None else tuple(args.rooms),
                        bookmark_id=args.bookmark,
                        reason=args.reason,
                        at=REAL_CLOCK.now(),
                        actor=args.caller,
                    )
                )
            else:
                view = writer.execute(
                    UnlockEvidence(
                        lock_id=args.lock_id,
                        reason=args.reason,
                        at=REAL_CLOCK.now(),
                        actor=args.caller,
                    )
                )
    except LockError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    except UnknownLockError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()
    if args.json:
        print(json.dumps(view.as_json()))
    elif view.active:
        print(_describe_lock(view, site_time(args)))
    else:
        kept = f"; {view.media_locked} stay locked by other locks" if view.media_locked else ""
        print(f"evidence lock {view.id} released by {view.released_by}{kept}")
    return exit_codes.OK


def _sources(view: Any) -> str:
    if view.whole_site:
        return "the whole site"
    parts = []
    if view.cameras:
        parts.append(f"cameras {', '.join(view.cameras)}")
    if view.rooms:
        parts.append(f"rooms {', '.join(view.rooms)}")
    return printable("; ".join(parts))


def _describe_lock(view: Any, zone: SiteTime) -> str:
    return (
        f"evidence lock {view.id}: {zone.full(view.started_at)} to "
        f"{zone.with_zone(view.ended_at)} of {_sources(view)}; {view.media_locked} "
        f"media files locked (reason: {printable(view.reason)})"
    )


def _lock_line(view: Any, zone: SiteTime) -> str:
    released = "" if view.released_at is None else zone.full_minutes(view.released_at)
    state = (
        "ACTIVE" if view.active else f"released by {printable(view.released_by or '')} {released}"
    )
    export = f"  export {printable(view.export_path)}" if view.export_path else ""
    return (
        f"{view.id:5d}  {zone.full(view.started_at)} – {zone.full(view.ended_at)}"
        f"  {_sources(view)}  {view.media_locked} media  by {printable(view.created_by)}: "
        f"{printable(view.reason)}{export}  [{state}]"
    )


def run_verify(args: argparse.Namespace) -> int:
    from engine.history.evidence import EvidenceError, read_trusted_key, verify_evidence

    trusted = None
    if args.key is not None:
        try:
            trusted = read_trusted_key(args.key)
        except EvidenceError as exc:
            print(f"watchfloor verify: --key: {printable(str(exc))}", file=sys.stderr)
            return exit_codes.USAGE
    result = verify_evidence(args.folder, trusted)
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        # Names come from the folder and its manifest: shown without terminal escapes.
        kinds = dict(result.irregular)
        for name in result.altered:
            print(f"ALTERED  {printable(name)}")
        for name in result.missing:
            print(f"MISSING  {printable(name)}")
        for name, kind in result.irregular:
            if name not in result.added:
                print(f"REPLACED {printable(name)} (now a {kind})")
        for name in result.added:
            what = f" (a {kinds[name]})" if name in kinds else ""
            print(f"ADDED    {printable(name)}{what}")
        for problem in result.problems:
            print(f"PROBLEM  {printable(problem)}")
        verdict = "intact" if result.ok else "NOT intact"
        print(
            f"{printable(str(args.folder))}: {verdict} ({result.files} files; signature "
            f"{'valid' if result.signature_ok else 'INVALID'}, key {result.fingerprint[:16]}…)"
        )
    return exit_codes.OK if result.ok else exit_codes.FAILED


REGISTRATION = Registration(
    add_parsers,
    (
        guarded("export", None, run_export, Permission.EXPORT, "export evidence"),
        # Anyone may check an exported folder; it needs no database.
        unguarded("verify", None, without_database(run_verify), "checks a folder, no stored data"),
        guarded("evidence", "lock", run_evidence, Permission.LOCK_EVIDENCE, "lock evidence"),
        guarded(
            "evidence",
            "unlock",
            run_evidence,
            Permission.LOCK_EVIDENCE,
            "release an evidence lock",
        ),
        guarded("evidence", "list", run_evidence, Permission.REPLAY, "list evidence locks"),
    ),
)
