"""``watchfloor bookmarks add|list|search|remove``: moments marked on the timeline.

``add --title T [--note N] --at ISO [--pre S] [--post S] [--camera KEY | --room ROOM]``
marks a moment on one camera, one sensing room or (neither) the whole site, keeping ``--pre``
seconds before and ``--post`` after (defaults 10 and 20; 0–3600 each); the caller is its
author (bookmark permission: investigators and admins; audited). ``list [--from ISO] [--to
ISO]`` shows the bookmarks whose range overlaps the given one, newest first; ``search TEXT``
those whose title or note contains the text (case-insensitive; ``%`` and ``_`` are taken
literally). ``remove ID``: only the author or an admin may (audited). Times typed without
an offset, and the times printed, are the site's (the ``--site`` file's zone, the demo site
by default); ``--json`` stays UTC. ``evidence lock --bookmark ID`` locks a bookmark's range
and source.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands import iso_time, row_count, row_id, site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.sitetime import SiteTime
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bookmarks", help="bookmarks: moments marked on the timeline (add, list, search, remove)"
    )
    actions = parser.add_subparsers(dest="bookmarks_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", parents=parents, help="mark a moment")
    add.add_argument("--title", required=True, help="a short title")
    add.add_argument("--note", default="", help="what to remember about it")
    add.add_argument(
        "--at",
        dest="marked_at",
        type=iso_time,
        required=True,
        help="ISO time (without an offset: site time)",
    )
    add.add_argument("--pre", type=float, default=10.0, metavar="S", help="seconds before (10)")
    add.add_argument("--post", type=float, default=20.0, metavar="S", help="seconds after (20)")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--camera", metavar="KEY", help="on this camera (default: whole site)")
    where.add_argument("--room", metavar="ROOM", help="in this sensing room")
    add.add_argument("--json", action="store_true", help="print the bookmark as JSON")
    listing = actions.add_parser("list", parents=parents, help="bookmarks, newest first")
    listing.add_argument("--from", dest="start", type=iso_time, help="overlapping from (ISO)")
    listing.add_argument("--to", dest="end", type=iso_time, help="overlapping until (ISO)")
    listing.add_argument("--limit", type=row_count, default=200, help="how many (default 200)")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    search = actions.add_parser("search", parents=parents, help="bookmarks by title or note")
    search.add_argument("text", metavar="TEXT")
    search.add_argument("--limit", type=row_count, default=200, help="how many (default 200)")
    search.add_argument("--json", action="store_true", help="print as JSON")
    remove = actions.add_parser("remove", parents=parents, help="remove a bookmark")
    remove.add_argument("bookmark_id", metavar="ID", type=row_id)


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.history.bookmarks import (
        MAX_LIST,
        AddBookmark,
        BookmarkError,
        BookmarkListRequest,
        BookmarkOwnerError,
        RemoveBookmark,
        UnknownBookmarkError,
    )
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = f"watchfloor bookmarks {args.bookmarks_command}"
    if args.bookmarks_command in ("list", "search") and not 1 <= args.limit <= MAX_LIST:
        print(f"{command}: --limit must be 1-{MAX_LIST}", file=sys.stderr)
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        if args.bookmarks_command in ("list", "search"):
            request = (
                BookmarkListRequest(start=args.start, end=args.end, limit=args.limit)
                if args.bookmarks_command == "list"
                else BookmarkListRequest(text=args.text, limit=args.limit)
            )
            marks = request.run(store)
            if args.json:
                print(json.dumps([mark.as_json() for mark in marks]))
            else:
                zone = site_time(args)
                for mark in marks:
                    print(_line(mark, zone))
                if not marks:
                    print("no bookmarks")
            return exit_codes.OK
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if args.bookmarks_command == "remove":
                removed = writer.execute(
                    RemoveBookmark(
                        bookmark_id=args.bookmark_id, at=REAL_CLOCK.now(), actor=args.caller
                    )
                )
                print(f"bookmark {removed.id} ({printable(removed.title)}) removed")
                return exit_codes.OK
            mark = writer.execute(
                AddBookmark(
                    title=args.title,
                    note=args.note,
                    marked_at=args.marked_at,
                    pre_s=args.pre,
                    post_s=args.post,
                    camera=args.camera,
                    room=args.room,
                    at=REAL_CLOCK.now(),
                    actor=args.caller,
                )
            )
    except BookmarkError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    except UnknownBookmarkError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    except BookmarkOwnerError as exc:
        print(f"{command}: not allowed: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.NOT_ALLOWED
    finally:
        store.close()
    if args.json:
        print(json.dumps(mark.as_json()))
    else:
        print(f"bookmark {mark.id} added: {_line(mark, site_time(args)).strip()}")
    return exit_codes.OK


def _line(mark: Any, zone: SiteTime) -> str:
    where = mark.camera or (f"room {mark.room}" if mark.room else "whole site")
    note = f" — {mark.note}" if mark.note else ""
    return printable(
        f"{mark.id:5d}  {zone.full(mark.marked_at)} (-{mark.pre_s:g} s/+{mark.post_s:g} s)"
        f"  {where}  {mark.title}{note}  [{mark.author}]"
    )


REGISTRATION = Registration(
    add_parser,
    (
        guarded("bookmarks", "add", run, Permission.BOOKMARK, "add a bookmark"),
        guarded("bookmarks", "remove", run, Permission.BOOKMARK, "remove a bookmark"),
        guarded("bookmarks", "list", run, Permission.REPLAY, "list bookmarks"),
        guarded("bookmarks", "search", run, Permission.REPLAY, "search bookmarks"),
    ),
)
