"""``watchfloor engines [--json]``: the engines sharing this database's sites and what each
runs.

One line per engine: its name, site, machine and process, whether it is running, silent
(not heard from within the lease time and not stopped: killed, hung or cut off from the
database; other engines take its cameras over) or stopped, when it was last heard from (site
time), how far its clock is from the database's, the cameras, room and site services it
runs, and the process whose name it took over when that one had not stopped (paused, hung or
cut off: it stops itself if it comes back). Then what runs nowhere and the problems in
words. ``--json``: ``{"at", "engines": [{"site", "name", "host", "pid", "state",
"capacity", "started_at", "last_heard_at" (UTC), "clock_offset_ms", "clock_off", "cameras",
"rooms", "site_services", "replaced" ({"host", "pid", "last_heard_at"} or null)}],
"unowned", "problems"}``.

Exit codes: 0 every engine that was started is running or stopped and everything runs
somewhere; 1 a silent engine, a clock off by more than a second, something runs nowhere, or
a lease or heartbeat that cannot be believed (held by an engine that never joined or that
stopped, or stamped ahead of the database's clock).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console import exit_codes
from console.commands import site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable

if TYPE_CHECKING:
    from engine.sitetime import SiteTime


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "engines",
        parents=parents,
        help="the engines sharing this database's sites and what each runs",
    )
    parser.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.cluster.status import engines_status
    from engine.store import Store

    store = Store(db_url)
    try:
        status = engines_status(store)
    finally:
        store.close()
    if args.json:
        print(json.dumps(status.as_dict()))
        return exit_codes.FAILED if status.problems else exit_codes.OK
    if not status.engines:
        print("no engine has shared a site of this database (watchfloor engine --name NAME)")
        return exit_codes.OK
    zone = site_time(args)
    for line in status.engines:
        runs = [
            f"{len(line.cameras)} cameras"
            + (f" ({', '.join(line.cameras)})" if line.cameras else "")
        ]
        runs += [f"room {room}" for room in line.rooms]
        if line.site_services:
            runs.append("site services")
        if line.media is not None and "url" in line.media:
            runs.append(f"video at {line.media['url']}<camera>")
        if line.media is not None and "files" in line.media:
            runs.append(f"recordings at {line.media['files']}")
        if line.replaced is not None:
            runs.append(_replaced_words(line.replaced, zone))
        offset = f"clock {line.clock_offset_ms / 1000:+.1f} s" if line.state == "running" else ""
        print(
            printable(
                f"{line.name:12} {line.state:8} {line.site} on {line.host} (pid {line.pid}), "
                f"last heard {_when(line.last_heard_at, zone)}"
                + (f", {offset}" if offset else "")
                + (f": {'; '.join(runs)}" if line.state == "running" else "")
            )
        )
    for problem in status.problems:
        print(f"problem      {printable(problem)}")
    return exit_codes.FAILED if status.problems else exit_codes.OK


def _when(at: datetime, zone: SiteTime) -> str:
    """A stored time in the site's zone; in UTC when the zone cannot hold it (a row edited
    to the year 9999)."""
    try:
        return zone.with_zone(at)
    except OverflowError:
        return f"{at:%Y-%m-%d %H:%M:%S} UTC"


def _replaced_words(replaced: dict[str, Any], zone: SiteTime) -> str:
    """The process an engine took its name over from, in words (the row is read as found)."""
    heard = str(replaced.get("last_heard_at", "?"))
    try:
        at = datetime.fromisoformat(heard)
        if at.tzinfo is not None:
            heard = _when(at, zone)
    except ValueError:
        pass
    return (
        f"took the name over from pid {replaced.get('pid', '?')} on "
        f"{replaced.get('host', '?')} (last heard {heard}), which had not stopped: if it "
        "comes back it stops itself"
    )


REGISTRATION = Registration(
    add_parser,
    (guarded("engines", None, run, Permission.WATCH, "see which engine runs what"),),
)
