"""``watchfloor engine``: run a site's engine with no window, alone or as one of several
engines sharing the site (``--name``); it reports each camera's frames and offline periods
when it stops (``--duration`` ended, Ctrl+C or SIGTERM), and audits the stop."""

from __future__ import annotations

import argparse
import logging
import math
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console import exit_codes
from console.commands import SignalStop, emit_report, say_sensing_recording_lost, stop_on_signals
from console.commands.registry import Registration, guarded
from engine.access import Actor, Permission
from engine.config import load_site

if TYPE_CHECKING:
    from engine.cluster.member import ClusterOptions
    from engine.runtime import EngineRuntime

log = logging.getLogger(__name__)


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    engine = subparsers.add_parser(
        "engine",
        parents=parents,
        help="run a site's engine headless (alone, or as one of several with --name)",
        description="Run a site's engine with no window. Alone it runs every camera and room "
        "of the site. With --name it is one of several engines sharing the site through one "
        "PostgreSQL database: each runs the cameras, room and site-wide services it holds a "
        "lease for, and takes over those of an engine that stops, or goes silent for longer "
        "than its lease (15 s unless --lease-s says otherwise). "
        "Give each engine its own data dir (WATCHFLOOR_DATA_DIR).",
    )
    engine.add_argument(
        "--site",
        dest="engine_site",
        metavar="FILE",
        type=Path,
        default=None,
        help="site TOML file (default: the global --site)",
    )
    engine.add_argument(
        "--duration",
        metavar="S",
        type=float,
        default=None,
        help="seconds to run (default: until Ctrl+C or SIGTERM)",
    )
    engine.add_argument(
        "--name",
        metavar="NAME",
        default=None,
        help="share the site with other engines under this name (e.g. server-a; letters, "
        "digits, '-', '_', '.'): run only what this engine holds a lease for",
    )
    engine.add_argument(
        "--capacity",
        metavar="N",
        type=int,
        default=None,
        help="with --name: the most cameras this engine analyses (default: no limit; when "
        "an engine stops, the others share its cameras, each at a lower frame rate if need be)",
    )
    engine.add_argument(
        "--lease-s",
        metavar="S",
        type=float,
        default=None,
        help="with --name: how long a silent engine keeps its cameras before another takes "
        "them over (default 15; heartbeats every third of it; 1.5–300)",
    )
    engine.add_argument(
        "--rtsp-port",
        metavar="PORT",
        type=int,
        default=None,
        help="with --name: re-stream the cameras this engine runs over RTSP on this port, for "
        "attached consoles (GStreamer's RTSP server: Debian's gir1.2-gst-rtsp-server-1.0; the "
        "password is the media_password secret, the user 'watchfloor')",
    )
    engine.add_argument(
        "--clip-port",
        metavar="PORT",
        type=int,
        default=None,
        help="with --name: serve the recordings this engine keeps (clips, snapshots, sensing "
        "recordings) over HTTP on this port, so attached consoles play them (same user and "
        "password as the RTSP streams)",
    )
    engine.add_argument(
        "--rtsp-host",
        metavar="HOST",
        default=None,
        help="with --rtsp-port or --clip-port: the name consoles reach this server by "
        "(default: its host name)",
    )
    engine.add_argument(
        "--report",
        metavar="OUT.json",
        type=Path,
        help="write per-camera frames, fps and offline periods here",
    )
    engine.add_argument("--json", action="store_true", help="print the report on stdout")


def _cluster_options(args: argparse.Namespace) -> ClusterOptions | str | None:
    """``--name``/``--capacity`` as options (None: the engine runs the site alone), or what
    is wrong with them."""
    from engine.cluster.files import FileOptions
    from engine.cluster.leases import LEASE_TTL_S
    from engine.cluster.media import MediaOptions
    from engine.cluster.member import UNLIMITED, ClusterOptions
    from engine.cluster.names import check_engine_name

    if args.name is None:
        given = (args.capacity, args.lease_s, args.rtsp_port, args.clip_port)
        if any(v is not None for v in given):
            return "--capacity, --lease-s, --rtsp-port and --clip-port need --name"
        return None
    if args.rtsp_host is not None and args.rtsp_port is None and args.clip_port is None:
        return "--rtsp-host needs --rtsp-port or --clip-port"
    for flag, port in (("--rtsp-port", args.rtsp_port), ("--clip-port", args.clip_port)):
        if port is not None and not 1 <= port <= 65535:
            return f"{flag} must be 1–65535, got {port}"
    if args.rtsp_port is not None and args.rtsp_port == args.clip_port:
        return "--rtsp-port and --clip-port must differ"
    try:
        name = check_engine_name(args.name)
    except ValueError as exc:
        return f"--name: {exc}"
    if args.capacity is not None and not 0 <= args.capacity < UNLIMITED:
        return f"--capacity must be 0 to {UNLIMITED - 1} cameras, got {args.capacity}"
    capacity = args.capacity if args.capacity is not None else UNLIMITED
    lease_s = args.lease_s if args.lease_s is not None else LEASE_TTL_S
    if not (math.isfinite(lease_s) and 1.5 <= lease_s <= 300):
        return f"--lease-s must be 1.5–300 seconds, got {args.lease_s}"
    media = (
        MediaOptions(port=args.rtsp_port, host=args.rtsp_host or socket.gethostname())
        if args.rtsp_port is not None
        else None
    )
    files = (
        FileOptions(port=args.clip_port, host=args.rtsp_host or socket.gethostname())
        if args.clip_port is not None
        else None
    )
    return ClusterOptions(
        name=name,
        capacity=capacity,
        heartbeat_s=lease_s / 3,
        lease_ttl_s=lease_s,
        media=media,
        files=files,
    )


def _audit_engine_stop(runtime: EngineRuntime, args: argparse.Namespace, stop: SignalStop) -> None:
    """Audit ``engine.stop`` before the writer stops: a signal as the operating-system
    account it had to come from (this one or root), naming the signal; the end of
    ``--duration`` or a failure as whoever ran the command."""
    from engine.access import machine_actor
    from engine.store.audit import AppendAudit
    from engine.wording import what_stops

    writer = runtime.writer
    if writer is None:
        return
    caller = getattr(args, "caller", None)
    if stop.signal_name is not None:
        actor: Actor | str = machine_actor()
        cause = f"signal {stop.signal_name}"
    else:
        actor = caller if caller is not None else machine_actor()
        cause = (
            "name lost"
            if runtime.name_lost
            else "database failed"
            if runtime.fatal_error
            else "duration ended"
        )
    detail = {
        "cause": cause,
        "stops": what_stops(len(runtime.cameras.sources), len(runtime.sensing.services)),
        "session": caller.label if caller is not None else "",
    }
    try:
        writer.post(
            AppendAudit(at=runtime.clock.now(), actor=actor, action="engine.stop", detail=detail)
        )
    except Exception:  # a writer that failed: the stop goes on, said in the log
        log.exception("the engine's stop (%s) was not audited", cause)


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.cluster.leases import EngineNameTakenError
    from engine.instance import EngineAlreadyRunningError
    from engine.runtime import EngineRuntime
    from engine.store import Store

    if args.duration is not None and (not math.isfinite(args.duration) or args.duration <= 0):
        print(
            f"watchfloor engine: --duration must be a number of seconds more than 0, "
            f"got {args.duration}",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    cluster = _cluster_options(args)
    if isinstance(cluster, str):
        print(f"watchfloor engine: {cluster}", file=sys.stderr)
        return exit_codes.USAGE
    site = load_site(args.engine_site or args.site)  # validated before anything starts
    store = Store(db_url)
    if cluster is not None and store.backend == "sqlite":
        print(
            "watchfloor engine: note: engines sharing a SQLite file must be on this machine; "
            "for several servers use PostgreSQL (--db postgresql+psycopg://…)",
            file=sys.stderr,
        )
    runtime = EngineRuntime(site, store, cluster=cluster)
    stop: SignalStop | None = None
    try:
        with stop_on_signals() as stop:
            try:
                runtime.start(abort=stop)  # a signal during start-up ends it early
            except (EngineAlreadyRunningError, EngineNameTakenError) as exc:
                print(f"watchfloor engine: {exc}", file=sys.stderr)  # a second one
                stop = None  # it never ran: nothing stops
                return exit_codes.FAILED
            # --duration counts from the start
            deadline = time.monotonic() + (args.duration if args.duration else math.inf)
            while not (stop.is_set() or runtime.fatal_error or runtime.name_lost):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                runtime.wait_fatal(min(remaining, 0.5))
    finally:
        if stop is not None:
            _audit_engine_stop(runtime, args, stop)
        runtime.stop()
        store.close()
    report: dict[str, Any] = runtime.report()
    report["duration_s"] = args.duration  # None: until stopped
    emit_report(report, args.report, args.json)
    if not args.json:
        for cam_id, cam in report["cameras"].items():
            print(
                f"{cam_id}: {cam['frames']} frames, {cam['fps']} fps, "
                f"{len(cam['offline_periods'])} offline periods, now {cam['status']}"
            )
    if runtime.name_lost is not None:  # another process runs under this engine's name
        print(f"watchfloor engine: stopped: {runtime.name_lost}", file=sys.stderr)
        return exit_codes.FAILED
    if runtime.fatal_error is not None:
        print(
            f"watchfloor engine: stopped: {runtime.fatal_error} (everything written before "
            "this is kept)",
            file=sys.stderr,
        )
        return exit_codes.DATABASE
    lost_any = False
    if report["media_lost_count"]:
        lost = report["media_lost_count"]
        reasons = ", ".join(sorted({str(m["reason"]) for m in report["media_lost"]}))
        print(
            f"watchfloor engine: {lost} clips/snapshots could not be written ({reasons}); "
            "each is named in a recording.failed event and listed in the report's media_lost",
            file=sys.stderr,
        )
        lost_any = True
    for room in report["sensing_rooms"].values():  # each room's recording
        if say_sensing_recording_lost("watchfloor engine", room["recording"]):
            lost_any = True
    return exit_codes.MEDIA_LOST if lost_any else 0


REGISTRATION = Registration(
    add_parser, (guarded("engine", None, run, Permission.WATCH, "run the engine"),)
)
