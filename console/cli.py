"""``watchfloor``: the console, and the engine's headless surface for scripts and tests.

Its exit codes are :mod:`console.exit_codes` (``MEANINGS`` says each in words).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError

from console import auth, exit_codes
from console.commands import read_typed_times
from console.commands.catalog import REGISTRATIONS
from console.commands.registry import chosen, install
from engine.access import PermissionDeniedError
from engine.accounts import LoginFailedError, RecoveryRefusedError
from engine.clock import REAL_CLOCK, Clock
from engine.config import SiteConfigError
from engine.data_dirs import restrict_new_files
from engine.secrets import install_secret_redaction
from engine.store import DatabaseError, default_db_url, display_url
from engine.store.writer import StoreUnavailableError
from engine.text import printable
from resources import DEMO_SITE


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
    install(sub, REGISTRATIONS, db_option)  # each capability's subcommands, as it declares them
    return parser


def main(argv: list[str] | None = None, *, clock: Clock = REAL_CLOCK) -> int:
    """Run ``watchfloor ARGV`` and return its exit code (a usage error raises SystemExit, as
    argparse does). Callable again in the same process: what it changes for the process (the
    umask) is put back when it returns, and its log handler writes to the ``sys.stderr`` of
    the moment. ``clock`` times the caller's login (its failed-login delay): a test holds a
    simulated one still to log in twice within a delay, however busy the machine."""
    previous_umask = restrict_new_files()  # the data dir holds faces and clips: private
    try:
        return _main(argv, clock)
    finally:
        os.umask(previous_umask)


def _main(argv: list[str] | None, clock: Clock) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.log_level)
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
    args.clock = clock  # what a command waits on (its --duration, an answer): a test's
    try:
        read_typed_times(args)  # a time typed without an offset is the site's wall clock
        subcommand = chosen(args)
        if subcommand is not None and not args.selftest and subcommand.needs is not None:
            args.caller = auth.cli_actor(
                args, db_url, subcommand.needs, subcommand.doing, clock=clock
            )
        if args.selftest:
            from console.selftest import run_selftest

            return run_selftest(args.site, db_url)
        if subcommand is not None:
            return subcommand.run(args, db_url)
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


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each record to ``sys.stderr`` as it is when the record comes (a caller that
    swaps it, as a test capturing output does, gets the records; a closed one is not kept)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # under the handler's lock (Handler.handle)
        super().emit(record)


def _configure_logging(level: str) -> None:
    """Log to stderr at ``level``, as :func:`logging.basicConfig`: a program that set up
    logging before calling :func:`main` keeps its own handlers and level."""
    root = logging.getLogger()
    if not root.handlers:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if any(isinstance(handler, _CurrentStderr) for handler in root.handlers):
        root.setLevel(level)


def _command_name(args: argparse.Namespace) -> str:
    subcommand = chosen(args)
    return subcommand.name if subcommand is not None else ""


def _display_available() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


if __name__ == "__main__":  # python -m console.cli, as the benchmarks run it
    sys.exit(main())
