"""``watchfloor follow [--kind KIND]… [--camera KEY]… [--json] [--for S]``: every event the
site's engines store, as it is stored, from any machine that reaches the database.

For a site shared by several engines (``watchfloor engine --name``) this is the one place
that shows them all: each line gives the event's site time, the engine that stored it, its
source and what happened. On PostgreSQL it listens for the engines' notifications (an event
arrives within a fraction of a second of being stored); on SQLite it looks twice a second.
When the database goes away it says so on stderr, reconnects, and prints what was stored
meanwhile before anything new. ``--json``: one object per line, ``{"id", "ts" (UTC),
"site_time", "engine", "kind", "source", "camera", "track_id", "person", "summary",
"detail", "received_at" (UTC)}``. Runs until Ctrl+C (or ``--for`` seconds).

Needs the replay permission (investigators and admins). Exit codes: 0; 2 a bad option.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from typing import Any

from console import exit_codes
from console.commands import site_time, stop_on_signals
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "follow",
        parents=parents,
        help="print every event the site's engines store, as it is stored",
    )
    parser.add_argument(
        "--kind",
        action="append",
        metavar="KIND",
        help="only this kind (repeatable), e.g. "
        "person.appeared; a prefix ending in '.' takes a family: person.",
    )
    parser.add_argument("--camera", action="append", metavar="KEY", help="only this camera")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--for", dest="seconds", type=float, metavar="S", help="stop after S seconds"
    )


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.cluster.feed import EventFeed
    from engine.store import Store
    from engine.store.event_views import EventView

    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        print(
            f"watchfloor follow: --for must be seconds more than 0, got {args.seconds}",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    store = Store(db_url)
    zone = site_time(args)
    kinds = tuple(args.kind or ())
    cameras = set(args.camera or ())
    lock = threading.Lock()
    try:

        def wanted(view: EventView) -> bool:
            if cameras and view.camera not in cameras:
                return False
            return not kinds or any(
                view.kind.startswith(k) if k.endswith(".") else view.kind == k for k in kinds
            )

        def show(views: tuple[EventView, ...]) -> None:
            received = REAL_CLOCK.now()
            with lock:
                for view in views:
                    if not wanted(view):
                        continue
                    if args.json:
                        print(
                            json.dumps(
                                {
                                    "id": view.id,
                                    "ts": view.ts.isoformat(),
                                    "site_time": zone.with_zone(view.ts),
                                    "engine": view.engine,
                                    "kind": view.kind,
                                    "source": view.source,
                                    "camera": view.camera,
                                    "track_id": view.track_id,
                                    "person": view.person,
                                    "summary": view.summary,
                                    "detail": view.detail,
                                    "received_at": received.isoformat(),
                                }
                            ),
                            flush=True,
                        )
                    else:
                        print(
                            printable(
                                f"{zone.clock(view.ts)}  {view.engine or '-':10} {view.source:18} "
                                f"{view.kind:22} {view.summary}"
                            ),
                            flush=True,
                        )

        def state(connected: bool, problem: str | None) -> None:
            if connected:
                print(
                    "watchfloor follow: connected again; what was missed came first",
                    file=sys.stderr,
                )
            else:
                print(
                    f"watchfloor follow: database away ({problem}); reconnecting", file=sys.stderr
                )

        feed = EventFeed(store, show, on_state=state)
        with stop_on_signals() as stop:
            feed.start()
            try:
                stop.wait(args.seconds)
            finally:
                feed.stop()
    finally:
        store.close()
    return exit_codes.OK


REGISTRATION = Registration(
    add_parser,
    (
        guarded(
            "follow", None, run, Permission.REPLAY, "follow the events the site's engines store"
        ),
    ),
)
