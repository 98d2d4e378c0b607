"""Subcommands of ``watchfloor``: each module registers its parser and runs it."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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
