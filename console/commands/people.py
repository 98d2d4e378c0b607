"""``watchfloor people list|rename|merge|erase``: the admin's person management."""

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
    parser = subparsers.add_parser("people", help="list, rename, merge or erase known people")
    actions = parser.add_subparsers(dest="people_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=parents, help="everyone the cameras know")
    listing.add_argument("--archived", action="store_true", help="include archived people")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    rename = actions.add_parser("rename", parents=parents, help="name a person")
    rename.add_argument("person_id")
    rename.add_argument("name", help='the new name ("" clears it)')
    merge = actions.add_parser("merge", parents=parents, help="two ids are the same person")
    merge.add_argument("keep")
    merge.add_argument("absorb")
    erase = actions.add_parser(
        "erase",
        parents=parents,
        help="delete a person's face data, their events and clips (locked evidence kept)",
    )
    erase.add_argument("person_id")
    erase.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.data_dirs import data_dir
    from engine.identity.erasure import erase_person
    from engine.identity.faces_store import FaceMemory, UnknownPersonError
    from engine.identity.people import list_people
    from engine.store import Store
    from engine.store.writer import StoreWriter

    store = Store(db_url)
    try:
        if args.people_command == "list":
            people = list_people(store, include_archived=args.archived)
            if args.json:
                print(
                    json.dumps(
                        [
                            {
                                "person_id": p.public_id,
                                "name": p.name,
                                "appearances": p.appearances,
                                "first_seen": p.first_seen.isoformat() if p.first_seen else None,
                                "last_seen": p.last_seen.isoformat() if p.last_seen else None,
                                "archived": p.archived,
                                "faces_stored": p.faces_stored,
                            }
                            for p in people
                        ]
                    )
                )
            else:
                zone = site_time(args)
                for p in people:
                    seen = zone.full_minutes(p.last_seen) if p.last_seen else "never seen"
                    name = printable(p.name or "—")
                    print(f"{p.public_id}  {name:24} {p.appearances:5} appearances, last {seen}")
            return exit_codes.OK
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            memory = FaceMemory(store, writer, REAL_CLOCK)
            if args.people_command == "rename":
                memory.rename(args.person_id, args.name or None, actor=args.caller)
            elif args.people_command == "merge":
                memory.merge(args.keep, args.absorb, actor=args.caller)
            else:
                report = erase_person(
                    writer, memory, args.person_id, data_dir(), REAL_CLOCK, actor=args.caller
                )
                print(json.dumps(report.as_dict()) if args.json else report.summary)
        return exit_codes.OK
    except (UnknownPersonError, ValueError) as exc:
        print(f"watchfloor people {args.people_command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()


REGISTRATION = Registration(
    add_parser,
    (
        guarded("people", "list", run, Permission.WATCH, "list people"),
        guarded("people", "rename", run, Permission.MANAGE_PEOPLE, "rename a person"),
        guarded("people", "merge", run, Permission.MERGE_PEOPLE, "merge people"),
        guarded("people", "erase", run, Permission.ERASE_PEOPLE, "erase a person"),
    ),
)
