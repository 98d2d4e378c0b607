"""``watchfloor appearance search|similar``: find people by how they look.

``search TEXT`` ranks the tracked people of every camera (or ``--camera KEY``, repeatable)
against a description: colour words and garment words ("red top", "dark jacket and jeans",
"white shirt black trousers"; "dark" is black, navy, grey or brown). ``similar TRACK``
ranks them by how much they look like one track (``TRACK`` is a track id, or ``CAMERA:ID``
when several cameras have that track number), across cameras and days. ``--since`` and
``--until`` keep tracks seen in that window. Each row: rank, score, the track's time (site
time; ``--json`` stays UTC), how long it was seen, camera, track, colours, relative size
where the camera allows it, and the thumbnail's path under the data dir.

It ranks; it never says two tracks are the same person. Needs the replay permission.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands import iso_time, row_count, site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.sitetime import SiteTime
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "appearance", help="appearance search: people by description or like a given track"
    )
    actions = parser.add_subparsers(dest="appearance_command", metavar="ACTION", required=True)
    search = actions.add_parser(
        "search", parents=parents, help="people matching a description, e.g. 'red top'"
    )
    search.add_argument("text", metavar="TEXT", help="colours and garments, e.g. 'dark jacket'")
    similar = actions.add_parser(
        "similar", parents=parents, help="people who look like a track, on any camera and day"
    )
    similar.add_argument(
        "track", metavar="TRACK", help="track id, or CAMERA:ID when several cameras have it"
    )
    for action in (search, similar):
        action.add_argument(
            "--camera", action="append", default=[], metavar="KEY", help="only this camera"
        )
        action.add_argument("--since", type=iso_time, help="seen at or after (ISO)")
        action.add_argument("--until", type=iso_time, help="seen at or before (ISO)")
        action.add_argument("--limit", type=row_count, default=20, help="how many (default 20)")
        action.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.history.appearance import (
        MAX_RESULTS,
        AppearanceQueryError,
        AppearanceSearchRequest,
        SimilarTracksRequest,
    )
    from engine.store import Store

    command = f"watchfloor appearance {args.appearance_command}"
    if not 1 <= args.limit <= MAX_RESULTS:
        print(f"{command}: --limit must be 1-{MAX_RESULTS}", file=sys.stderr)
        return exit_codes.USAGE
    window = {"cameras": tuple(args.camera), "since": args.since, "until": args.until}
    request: AppearanceSearchRequest | SimilarTracksRequest
    if args.appearance_command == "search":
        request = AppearanceSearchRequest(args.text, limit=args.limit, **window)
    else:
        camera, _, number = str(args.track).rpartition(":")
        try:
            track_id = int(number)
        except ValueError:
            print(f"{command}: TRACK is a number or CAMERA:NUMBER", file=sys.stderr)
            return exit_codes.USAGE
        request = SimilarTracksRequest(
            track_id=track_id, camera=camera or None, limit=args.limit, **window
        )
    store = Store(db_url)
    try:
        results = request.run(store)
    except AppearanceQueryError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    finally:
        store.close()
    if args.json:
        print(
            json.dumps(
                {
                    "understood": results.understood,
                    "searched": results.searched,
                    "example": results.example.as_json() if results.example else None,
                    "hits": [hit.as_json() for hit in results.hits],
                }
            )
        )
        return exit_codes.OK
    zone = site_time(args)
    print(
        printable(
            f"{results.understood} — {results.searched} tracks compared, times in {zone.name}"
        )
    )
    for rank, hit in enumerate(results.hits, 1):
        print(_line(rank, hit, zone))
    if not results.hits:
        print("no one found")
    return exit_codes.OK


def _line(rank: int, hit: Any, zone: SiteTime) -> str:
    seen_s = (hit.last_seen - hit.first_seen).total_seconds()
    return printable(
        f"{rank:3d}  {hit.score:.2f}  {zone.full(hit.first_seen)} ({seen_s:.0f} s)  "
        f"{hit.camera_name}  track {hit.camera_key}:{hit.track_id}  {hit.looks()}"
        f"  {hit.snapshot or '(no thumbnail)'}"
    )


REGISTRATION = Registration(
    add_parser,
    (
        guarded("appearance", "search", run, Permission.REPLAY, "search people by appearance"),
        guarded("appearance", "similar", run, Permission.REPLAY, "find people who look alike"),
    ),
)
