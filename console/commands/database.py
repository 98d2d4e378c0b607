"""``watchfloor db upgrade``: create the database's schema or migrate it to the newest."""

from __future__ import annotations

import argparse
import json
from typing import Any

from console.commands.registry import Registration, unguarded
from engine.store import display_url


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser(
        "upgrade", parents=parents, help="create or migrate the schema to the newest"
    )
    upgrade.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    return _db_upgrade(db_url, args.json)


def _db_upgrade(db_url: str, as_json: bool) -> int:
    from engine.store import Store
    from engine.store.database import current_revision, head_revision

    store = Store(db_url)
    try:
        revision = current_revision(store.engine)
        result = {
            "database": display_url(db_url),
            "revision": revision,
            "head": head_revision(),
            "backend": store.backend,
        }
    finally:
        store.close()
    if as_json:
        print(json.dumps(result))
    else:
        print(f"database {result['database']} is at revision {revision} (newest)")
    return 0


REGISTRATION = Registration(
    add_parser,
    (unguarded("db", "upgrade", run, "maintains the database file as its owner"),),
)
