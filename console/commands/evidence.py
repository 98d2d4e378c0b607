"""``watchfloor export`` and ``watchfloor verify``: evidence that anyone can check later.

``export --from ISO --to ISO [--cameras KEY …] [--rooms ROOM …] --out DIR`` writes the
range's clips, snapshots, events (``events.json``, ``report.html``) and a manifest of every
file's SHA-256, signed with this installation's Ed25519 key (its public half beside it).
The folder appears only when complete. ``verify DIR [--key PUBLIC.pem]`` checks the
signature and every file, and names each altered, missing or added one; ``--key`` also
requires that a trusted key signed it (the public key in the folder proves nothing alone).
Exit 0 when the folder is intact, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console import exit_codes


def _utc(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def add_parsers(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    export = subparsers.add_parser(
        "export", parents=parents, help="export signed evidence of a time range"
    )
    export.add_argument("--from", dest="start", type=_utc, required=True, help="ISO time (UTC)")
    export.add_argument("--to", dest="end", type=_utc, required=True, help="ISO time (UTC)")
    export.add_argument("--cameras", nargs="+", metavar="KEY", help="only these cameras")
    export.add_argument("--rooms", nargs="+", metavar="ROOM", help="only these sensing rooms")
    export.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    export.add_argument("--json", action="store_true", help="print the outcome as JSON")
    verify = subparsers.add_parser("verify", help="check an exported evidence folder")
    verify.add_argument("folder", type=Path, metavar="DIR")
    verify.add_argument("--key", type=Path, help="the trusted public key (PEM)")
    verify.add_argument("--json", action="store_true", help="print the outcome as JSON")


def run_export(args: argparse.Namespace, db_url: str) -> int:
    from engine.history.evidence import EvidenceError, export_evidence
    from engine.paths import data_dir
    from engine.store import Store

    store = Store(db_url)
    try:
        result = export_evidence(
            store,
            start=args.start,
            end=args.end,
            out_dir=args.out,
            media_root=data_dir(),
            key_dir=data_dir(),
            exporter=args.caller.label,
            now=datetime.now(UTC),
            cameras=args.cameras,
            rooms=args.rooms,
        )
    except EvidenceError as exc:
        print(f"watchfloor export: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()
    if args.json:
        print(
            json.dumps(
                {
                    "folder": str(result.folder),
                    "files": result.files,
                    "events": result.events,
                    "clips": result.clips,
                    "snapshots": result.snapshots,
                    "bytes": result.bytes,
                    "fingerprint": result.fingerprint,
                }
            )
        )
    else:
        print(
            f"exported {result.events} events, {result.clips} clips and {result.snapshots} "
            f"snapshots ({result.bytes / 1e6:.1f} MB) to {result.folder}; signed by key "
            f"{result.fingerprint[:16]}…"
        )
    return exit_codes.OK


def run_verify(args: argparse.Namespace) -> int:
    from engine.history.evidence import verify_evidence

    trusted = None
    if args.key is not None:
        try:
            trusted = args.key.read_bytes()
        except OSError as exc:
            print(f"watchfloor verify: cannot read --key: {exc}", file=sys.stderr)
            return exit_codes.USAGE
    result = verify_evidence(args.folder, trusted)
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        for name in result.altered:
            print(f"ALTERED  {name}")
        for name in result.missing:
            print(f"MISSING  {name}")
        for name in result.added:
            print(f"ADDED    {name}")
        for problem in result.problems:
            print(f"PROBLEM  {problem}")
        verdict = "intact" if result.ok else "NOT intact"
        print(
            f"{args.folder}: {verdict} ({result.files} files; signature "
            f"{'valid' if result.signature_ok else 'INVALID'}, key {result.fingerprint[:16]}…)"
        )
    return exit_codes.OK if result.ok else exit_codes.FAILED
