"""``watchfloor audit list|verify``: read the audit trail and check its hash chain."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands import site_time


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("audit", help="the audit trail: who did what, and its check")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=parents, help="entries, newest first")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.add_argument("--before", type=int, metavar="SEQ", help="entries older than SEQ")
    listing.add_argument("--actor", help="only this actor, e.g. machine:root or account:ada")
    listing.add_argument("--action", help="only this action, e.g. person.erase")
    listing.add_argument("--json", action="store_true", help="print as JSON lines")
    verify = actions.add_parser(
        "verify", parents=parents, help="recompute the hash chain; exit 1 if it was tampered"
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.access import Permission
    from engine.store import Store
    from engine.store.audit import AuditListRequest, verify_audit
    from engine.text import printable

    command = f"watchfloor audit {args.audit_command}"
    args.caller.require(Permission.READ_AUDIT, "read the audit trail")  # checked by main too
    if args.audit_command == "list" and not 1 <= args.limit <= 100_000:
        print(f"{command}: --limit must be 1 to 100000", file=sys.stderr)
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        if args.audit_command == "verify":
            result = verify_audit(store)
            if args.json:
                print(json.dumps(result.as_dict()))
            elif result.ok:
                pruned = (
                    f", entries 1–{result.anchor_seq} pruned by retention"
                    if result.anchor_seq
                    else ""
                )
                print(
                    f"audit trail intact: {result.entries} entries{pruned} ({result.seconds:.2f} s)"
                )
            else:
                print(f"audit trail TAMPERED ({result.entries} entries read):")
                for problem in result.problems:
                    print(f"  entry {problem.seq}: {problem.reason}")
            return exit_codes.OK if result.ok else exit_codes.FAILED
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
