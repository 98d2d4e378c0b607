"""Subcommands of ``watchfloor``: each module registers its parser and runs it."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.sitetime import SiteTime


def iso_time(text: str) -> datetime:
    """An ``--from``/``--to``-style argument: ISO 8601, ``Z`` allowed; without an offset,
    local time. Raises ``argparse.ArgumentTypeError`` with an example."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-03-01T14:30:00+01:00)"
        ) from None
    return when if when.tzinfo is not None else when.astimezone()


def site_time(args: argparse.Namespace) -> SiteTime:
    """The zone a command's human output is in: that of the site file ``--site`` names (the
    demo site by default), read only when a person's text is printed. ``--json`` output
    stays UTC. A bad site file is a :class:`~engine.config.SiteConfigError` (exit 4)."""
    from engine.config import load_site

    site = getattr(args, "site", None)
    return load_site(site).site_time if site is not None else SiteTime.machine()


def emit_report(report: dict[str, Any], path: Path | None, as_json: bool) -> None:
    """Write ``report`` to ``path`` whole (temp file, then rename) and, with ``as_json``,
    print it on stdout as one line."""
    if path is not None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2), encoding="utf-8")
        tmp.replace(path)
    if as_json:
        print(json.dumps(report))


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event that Ctrl+C (SIGINT) or SIGTERM sets while the block runs, instead of
    interrupting it; the previous handlers come back afterwards. For commands that run
    until a duration ends or someone stops them, and must then still report."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
