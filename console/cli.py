"""``watchfloor``: the console, and the engine's headless surface for scripts and tests.

Exit codes: 0 ok, 1 failed check, 2 usage, 3 database cannot be opened or migrated,
4 site file invalid, 5 not allowed (no or wrong credentials, or a missing permission).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError

if TYPE_CHECKING:
    from engine.cluster.member import ClusterOptions
    from engine.runtime import EngineRuntime

from console import auth, exit_codes
from console.commands import (
    SignalStop,
    accounts,
    alerts,
    analyze,
    appearance,
    ask,
    audit,
    ble,
    bookmarks,
    cameras,
    cluster,
    emit_report,
    evidence,
    faces,
    follow,
    fusion,
    gestures,
    incidents,
    mqtt,
    people,
    read_typed_times,
    retention,
    risk,
    say_sensing_recording_lost,
    search,
    secrets,
    sense,
    settings,
    speech,
    stop_on_signals,
)
from engine.access import Actor, PermissionDeniedError
from engine.accounts import LoginFailedError, RecoveryRefusedError
from engine.config import SiteConfigError, load_site
from engine.paths import restrict_new_files
from engine.secrets import install_secret_redaction
from engine.store import DatabaseError, default_db_url, display_url
from engine.store.writer import StoreUnavailableError
from engine.text import printable
from resources import DEMO_SITE

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watchfloor",
        description="Watchfloor operator console. Without a subcommand, opens the console.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (default: $WATCHFLOOR_DB_URL, else SQLite in the "
        "user data dir), e.g. postgresql+psycopg://user@host/db",
    )
    parser.add_argument(
        "--site",
        metavar="FILE",
        type=Path,
        default=DEMO_SITE,
        help="site TOML file (default: the built-in demo site)",
    )
    parser.add_argument(
        "--attach",
        metavar="URL",
        default=None,
        help="open a console attached to a shared site's PostgreSQL database, e.g. "
        "postgresql://watch@db-server/site: it runs no engine of its own and shows what the "
        "site's engines (`watchfloor engine`) store and tell; --site names the same site file",
    )
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="start the engine and the window offscreen, check every subsystem, "
        "print a one-line summary and exit 0 (pass) or 1 (fail)",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    auth.add_options(parser, suppress=False)
    # --db is global (before the subcommand) and also accepted after it.
    db_option = argparse.ArgumentParser(add_help=False)
    db_option.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (same as the global --db)",
    )
    auth.add_options(db_option, suppress=True)  # --user after the subcommand too
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    engine = sub.add_parser(
        "engine",
        parents=[db_option],
        help="run a site's engine headless (alone, or as one of several with --name)",
        description="Run a site's engine with no window. Alone it runs every camera and room "
        "of the site. With --name it is one of several engines sharing the site through one "
        "PostgreSQL database: each runs the cameras, room and site-wide services it holds a "
        "lease for, and takes over those of an engine that stops or goes silent within 30 s. "
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

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser(
        "upgrade", parents=[db_option], help="create or migrate the schema to the newest"
    )
    upgrade.add_argument("--json", action="store_true", help="print the result as JSON")

    analyze.add_parser(sub, [db_option])
    retention.add_parser(sub, [db_option])
    faces.add_parser(sub, [db_option])
    gestures.add_parser(sub, [db_option])
    people.add_parser(sub, [db_option])
    settings.add_parser(sub, [db_option])
    audit.add_parser(sub, [db_option])
    sense.add_parser(sub, [db_option])
    ble.add_parser(sub, [db_option])
    alerts.add_parser(sub, [db_option])
    incidents.add_parser(sub, [db_option])
    risk.add_parser(sub, [db_option])
    ask.add_parser(sub, [db_option])
    evidence.add_parsers(sub, [db_option])
    bookmarks.add_parser(sub, [db_option])
    search.add_parser(sub, [db_option])
    appearance.add_parser(sub, [db_option])
    cluster.add_parser(sub, [db_option])
    follow.add_parser(sub, [db_option])
    accounts.add_parser(sub, [db_option])
    mqtt.add_parser(sub, [db_option])
    secrets.add_parser(sub, [db_option])  # the OS keyring; the database for the audit trail
    # set-password uses the site file and the OS keyring, no database; calibrate stores
    cameras.add_parser(sub, [], [db_option])
    fusion.add_parser(sub, [db_option])
    speech.add_parser(sub, [])  # audio files only, no database

    bench = sub.add_parser("bench", help="run the benchmarks; one JSON line each")
    bench.add_argument("names", nargs="*", help="only these benchmarks")
    return parser


def main(argv: list[str] | None = None) -> int:
    restrict_new_files()  # the data dir holds faces and clips: nothing in it for other users
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    install_secret_redaction()  # a secret logged by mistake is written as ***
    if args.attach is not None and (args.db is not None or args.command is not None):
        print(
            "watchfloor: --attach opens a console; give the database there only "
            "(not with --db or a subcommand)",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    db_url = args.attach or args.db or default_db_url()
    try:
        read_typed_times(args)  # a time typed without an offset is the site's wall clock
        if args.command is not None and not args.selftest:
            needed = auth.NEEDS[auth.command_key(args)]
            if needed is not None:
                args.caller = auth.cli_actor(args, db_url, *needed)
        if args.selftest:
            from console.selftest import run_selftest

            return run_selftest(args.site, db_url)
        if args.command == "engine":
            return _run_engine(args, db_url)
        if args.command == "analyze":
            return analyze.run(args, db_url)
        if args.command == "retention":
            return retention.run(args, db_url)
        if args.command == "faces":
            return faces.run(args, db_url)
        if args.command == "gestures":
            return gestures.run(args, db_url)
        if args.command == "people":
            return people.run(args, db_url)
        if args.command == "settings":
            return settings.run_settings(args, db_url)
        if args.command == "status":
            return settings.run_status(args, db_url)
        if args.command == "audit":
            return audit.run(args, db_url)
        if args.command == "accounts":
            return accounts.run(args, db_url)
        if args.command == "mqtt":
            return mqtt.run(args, db_url)
        if args.command == "sense":
            return sense.run(args, db_url)
        if args.command == "ble":
            return ble.run(args, db_url)
        if args.command == "alerts":
            return alerts.run(args, db_url)
        if args.command == "incidents":
            return incidents.run(args, db_url)
        if args.command == "risk":
            return risk.run(args, db_url)
        if args.command == "ask":
            return ask.run(args, db_url)
        if args.command == "export":
            return evidence.run_export(args, db_url)
        if args.command == "verify":
            return evidence.run_verify(args)
        if args.command == "evidence":
            return evidence.run_evidence(args, db_url)
        if args.command == "bookmarks":
            return bookmarks.run(args, db_url)
        if args.command == "search":
            return search.run(args, db_url)
        if args.command == "appearance":
            return appearance.run(args, db_url)
        if args.command == "engines":
            return cluster.run(args, db_url)
        if args.command == "follow":
            return follow.run(args, db_url)
        if args.command == "fusion":
            return fusion.run(args, db_url)
        if args.command == "cameras" and args.cameras_command in ("calibrate", "calibration"):
            return cameras.run_calibration(args, db_url)
        if args.command == "cameras" and args.cameras_command in ("mask", "masks"):
            return cameras.run_masks(args, db_url)
        if args.command == "cameras":
            return cameras.run(args)
        if args.command == "speech":
            return speech.run(args)
        if args.command == "secrets":
            return secrets.run(args, db_url)
        if args.command == "db":
            return _db_upgrade(db_url, args.json)
        if args.command == "bench":
            from benchmarks.runner import run_benchmarks

            return run_benchmarks(args.names)
        if not _display_available():
            print(
                "watchfloor: no display found (DISPLAY / WAYLAND_DISPLAY are not set). Run it "
                "in a desktop session, under `xvfb-run`, or check the install with "
                "`watchfloor --selftest`.",
                file=sys.stderr,
            )
            return exit_codes.USAGE
        from console.app import run_gui

        return run_gui(args.site, db_url, attach=args.attach is not None)
    except SiteConfigError as exc:
        print(f"watchfloor: site file error: {exc}", file=sys.stderr)
        return exit_codes.SITE
    except DatabaseError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return exit_codes.DATABASE
    except StoreUnavailableError as exc:
        print(f"watchfloor: the database cannot be written: {exc}", file=sys.stderr)
        return exit_codes.DATABASE
    except SQLAlchemyDatabaseError as exc:
        # A read that hit a corrupt page (or a server that went away mid-command): the
        # driver's reason, not SQLAlchemy's text, which quotes the whole statement.
        reason = printable(str(exc.orig if exc.orig is not None else exc).splitlines()[0])
        print(
            f"watchfloor: the database cannot be read ({display_url(db_url)}): {reason}",
            file=sys.stderr,
        )
        return exit_codes.DATABASE
    except (
        auth.AuthenticationNeededError,
        LoginFailedError,
        PermissionDeniedError,
        RecoveryRefusedError,
    ) as exc:
        print(
            f"watchfloor {_command_name(args)}: not allowed: {printable(str(exc))}", file=sys.stderr
        )
        return exit_codes.NOT_ALLOWED


def _command_name(args: argparse.Namespace) -> str:
    if args.command is None:
        return ""
    command, action = auth.command_key(args)
    return f"{command} {action}" if action else command


def _display_available() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


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
        "stops": what_stops(len(runtime.sources), len(runtime.sensing_services)),
        "session": caller.label if caller is not None else "",
    }
    try:
        writer.post(
            AppendAudit(at=runtime.clock.now(), actor=actor, action="engine.stop", detail=detail)
        )
    except Exception:  # a writer that failed: the stop goes on, said in the log
        log.exception("the engine's stop (%s) was not audited", cause)


def _run_engine(args: argparse.Namespace, db_url: str) -> int:
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


if __name__ == "__main__":  # python -m console.cli, as the benchmarks run it
    sys.exit(main())
