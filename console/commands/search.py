"""``watchfloor search "TEXT" [--kind incident|bookmark|event] [--limit N] [--json]``: find
incident reports, bookmarks and event summaries by what they mean.

"someone collapsed" finds "Man fell down on the stairs"; exact words (a name, a plate, a
camera) still come first when a text holds them. Texts not yet indexed (rows stored while no
engine ran, or by an older version) are embedded first, with their progress on stderr;
``--no-index`` searches what is indexed already. Each hit prints its site time, its kind and
id (an incident's id for a report, so ``watchfloor incidents show ID`` opens it), its score
and its text. ``--json``: ``{"query", "hits": [{"kind", "id", "row_id", "at" (UTC),
"site_time", "text", "score", "cosine", "words"}], "searched", "encode_ms", "total_ms"}``.

Needs the replay permission (investigators and admins). Exit codes: 0 something found;
1 nothing found; 2 a bad option.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands import row_count, site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable

SHOWN_CHARS = 160  # a long report is cut in the listing (--json keeps it whole)


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "search",
        parents=parents,
        help="find reports, bookmarks and events by meaning",
    )
    parser.add_argument("text", metavar="TEXT", help='e.g. "someone collapsed"')
    parser.add_argument(
        "--kind",
        action="append",
        choices=("incident", "bookmark", "event"),
        help="only this kind (repeatable; default: all)",
    )
    parser.add_argument(
        "--limit", type=row_count, default=10, help="how many (default 10, at most 200)"
    )
    parser.add_argument(
        "--no-index", action="store_true", help="search what is indexed; embed nothing new"
    )
    parser.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.store import Store
    from engine.store.writer import StoreWriter
    from engine.text_search.search import MAX_LIMIT, MeaningSearch, SearchError
    from engine.text_search.sources import KINDS

    if not args.text.strip():
        print("watchfloor search: give words to search for", file=sys.stderr)
        return exit_codes.USAGE
    if not 1 <= args.limit <= MAX_LIMIT:
        print(f"watchfloor search: --limit must be 1-{MAX_LIMIT}", file=sys.stderr)
        return exit_codes.USAGE
    zone = site_time(args)
    store = Store(db_url)
    try:
        search = MeaningSearch()
        if not args.no_index:
            with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
                search.index_pending(store, writer.submit, progress=_progress(args.json))
        try:
            answer = search.search(
                store, args.text, kinds=tuple(args.kind or KINDS), limit=args.limit
            )
        except SearchError as exc:
            print(f"watchfloor search: {exc}", file=sys.stderr)
            return exit_codes.USAGE
    finally:
        store.close()
    if args.json:
        print(
            json.dumps(
                {
                    "query": args.text,
                    "hits": [hit.as_json(zone) for hit in answer.hits],
                    "searched": answer.searched,
                    "encode_ms": round(answer.encode_ms, 1),
                    "total_ms": round(answer.total_ms, 1),
                }
            )
        )
    else:
        for hit in answer.hits:
            text = " ".join(printable(hit.text).split())
            if len(text) > SHOWN_CHARS:
                text = text[: SHOWN_CHARS - 1] + "…"
            print(f"{zone.full_minutes(hit.at)}  {hit.kind} {hit.id}  {hit.score:.2f}  {text}")
        if not answer.hits:
            print(f"nothing found among {answer.searched} texts")
    return exit_codes.OK if answer.hits else exit_codes.FAILED


def _progress(quiet: bool) -> Any:
    def report(done: int, pending: int) -> None:
        if not quiet:
            total = done + pending
            end = "\n" if pending == 0 else "\r"
            print(f"indexing texts for meaning search: {done}/{total}", end=end, file=sys.stderr)

    return report


REGISTRATION = Registration(
    add_parser,
    (
        guarded(
            "search",
            None,
            run,
            Permission.REPLAY,
            "search reports, bookmarks and events by meaning",
        ),
    ),
)
