"""``watchfloor audit list|verify|checkpoint``: read the audit trail, check its hash chain
(against a signed checkpoint kept outside the database, when there is one) and sign its
head."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from console import exit_codes
from console.commands import row_count, row_id, site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("audit", help="the audit trail: who did what, and its check")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=parents, help="entries, newest first")
    listing.add_argument("--limit", type=row_count, default=50, help="how many (default 50)")
    listing.add_argument("--before", type=row_id, metavar="SEQ", help="entries older than SEQ")
    listing.add_argument("--actor", help="only this actor, e.g. machine:root or account:ada")
    listing.add_argument("--action", help="only this action, e.g. person.erase")
    listing.add_argument("--json", action="store_true", help="print as JSON lines")
    verify = actions.add_parser(
        "verify", parents=parents, help="recompute the hash chain; exit 1 if it was tampered"
    )
    verify.add_argument(
        "--checkpoint",
        type=Path,
        metavar="FILE",
        help="also prove the chain up to this signed checkpoint was not rewritten: a "
        "checkpoint file, or an evidence export's manifest.json (default: the checkpoint "
        "file beside the database, when there is one)",
    )
    verify.add_argument(
        "--key",
        type=Path,
        metavar="PEM",
        help="the public key the checkpoint was signed with (default: this installation's)",
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    checkpoint = actions.add_parser(
        "checkpoint",
        parents=parents,
        help="sign the chain's head now and append it to the checkpoint file (and syslog)",
    )
    checkpoint.add_argument("--json", action="store_true", help="print the checkpoint as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.access import Permission
    from engine.store import Store
    from engine.store.audit import AuditListRequest
    from engine.text import printable

    command = f"watchfloor audit {args.audit_command}"
    args.caller.require(Permission.READ_AUDIT, "read the audit trail")  # checked by main too
    if args.audit_command == "list" and not 1 <= args.limit <= 100_000:
        print(f"{command}: --limit must be 1 to 100000", file=sys.stderr)
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        if args.audit_command == "verify":
            return _verify(args, store, command)
        if args.audit_command == "checkpoint":
            return _checkpoint(args, store, command)
        records = AuditListRequest(
            reader=args.caller,
            limit=args.limit,
            before=args.before,
            actor=args.actor,
            action=args.action,
        ).run(store)
        zone = None if args.json else site_time(args)
        for record in records:
            if zone is None:
                print(json.dumps(record.as_dict()))
            else:
                detail = json.dumps(record.detail, ensure_ascii=False) if record.detail else ""
                print(
                    printable(
                        f"{record.seq:>8}  {zone.full(record.ts)}  {record.outcome:<6}  "
                        f"{record.actor}  {record.action}  {record.target}  {detail}"
                    ).rstrip()
                )
        return exit_codes.OK
    finally:
        store.close()


def _verify(args: argparse.Namespace, store: Any, command: str) -> int:
    """Check the chain, and against a signed checkpoint when one is named or lies beside
    the database. A checkpoint or key that cannot be used is named on stderr (exit 1)."""
    from engine.data_dirs import data_dir
    from engine.history.audit_checkpoints import (
        CheckpointFileError,
        CheckpointKeyError,
        checkpoint_path,
        public_key_pem,
        read_checkpoint_file,
        verify_with_checkpoint,
    )

    source: Path | None = args.checkpoint
    if source is None:
        beside = checkpoint_path(store.url)
        source = beside if beside is not None and beside.exists() else None
    checkpoint, public_pem = None, None
    if source is not None:
        try:
            checkpoint = read_checkpoint_file(source)
            public_pem = public_key_pem(data_dir(), args.key)
        except (CheckpointFileError, CheckpointKeyError) as exc:
            print(f"{command}: {exc}", file=sys.stderr)
            return exit_codes.FAILED
    result = verify_with_checkpoint(store, checkpoint, public_pem, source=str(source or ""))
    if args.json:
        print(json.dumps(result.as_dict()))
    elif result.ok:
        pruned = f", entries 1–{result.anchor_seq} pruned by retention" if result.anchor_seq else ""
        anchored = (
            f"; matches the signed checkpoint at entry {result.checkpoint.seq} "
            f"({result.checkpoint.at.isoformat()}, key {result.checkpoint.key_id[:16]}…)"
            if result.checkpoint is not None
            else "; no signed checkpoint to check against, so a rewrite of the whole chain "
            "would not show"
        )
        print(
            f"audit trail intact: {result.entries} entries{pruned} "
            f"({result.seconds:.2f} s){anchored}"
        )
    else:
        print(f"audit trail TAMPERED ({result.entries} entries read):")
        for problem in result.problems:
            print(f"  entry {problem.seq}: {problem.reason}")
    return exit_codes.OK if result.ok else exit_codes.FAILED


def _checkpoint(args: argparse.Namespace, store: Any, command: str) -> int:
    """Sign the head now (for sites that run no engine, or from cron)."""
    from engine.clock import REAL_CLOCK
    from engine.data_dirs import data_dir
    from engine.history.audit_checkpoints import checkpoint_path, write_checkpoint

    written = write_checkpoint(store, key_dir=data_dir(), at=REAL_CLOCK.now(), reason="manual")
    if written.problem is not None:
        print(f"{command}: {written.problem}", file=sys.stderr)
    if written.checkpoint is None:
        return exit_codes.FAILED
    if args.json:
        print(json.dumps(written.checkpoint.as_json()))
    else:
        where = checkpoint_path(store.url)
        print(
            f"signed the audit trail's head, entry {written.checkpoint.seq}, with key "
            f"{written.checkpoint.key_id[:16]}…" + (f"; appended to {where}" if where else "")
        )
    return exit_codes.OK if written.problem is None else exit_codes.FAILED


REGISTRATION = Registration(
    add_parser,
    (
        guarded("audit", "list", run, Permission.READ_AUDIT, "read the audit trail"),
        guarded("audit", "verify", run, Permission.READ_AUDIT, "verify the audit trail"),
        guarded("audit", "checkpoint", run, Permission.READ_AUDIT, "sign the audit trail's head"),
    ),
)
