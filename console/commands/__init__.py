"""Subcommands of ``watchfloor``: each module registers its parser and runs it."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from engine.sitetime import SiteTime

if TYPE_CHECKING:
    from engine.config import SiteConfig


MAX_ROW_NUMBER: Final = 2**63 - 1  # the largest id or count the databases hold (BIGINT)


def _whole_number(text: str, least: int) -> int:
    try:
        number = int(text.strip(), 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if not least <= number <= MAX_ROW_NUMBER:
        raise argparse.ArgumentTypeError(
            f"{text[:40]} is out of range: {least} to {MAX_ROW_NUMBER} (2^63 - 1)"
        )
    return number


def row_id(text: str) -> int:
    """An id argument (an alert's, a bookmark's, …): a whole number from 1 to 2^63 - 1, the
    most a database id holds; anything else is a usage error naming it (exit 2), never an
    overflow inside the database driver."""
    return _whole_number(text, 1)


def row_count(text: str) -> int:
    """A ``--limit`` or ``--offset``: a whole number from 0 to 2^63 - 1 (see :func:`row_id`);
    the command may bound it further."""
    return _whole_number(text, 0)


def iso_time(text: str) -> datetime:
    """A time argument (``--at``, ``--from``, ``--to``, ``--start``): ISO 8601, ``T`` or a
    space, seconds optional, ``Z`` allowed. With an offset it is that instant (aware);
    without one it is the site's wall-clock time, returned naive until
    :func:`read_typed_times` places it on the site's clock (argparse may read ``--site``
    after this argument). Raises ``argparse.ArgumentTypeError`` with an example."""
    cleaned = text.strip()
    try:
        when = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-03-01 14:30 in site time, or "
            "2026-03-01T14:30:00+01:00)"
        ) from None
    if when.tzinfo is None:
        return when
    try:
        return when.astimezone(UTC)
    except OverflowError:
        return _nearest_utc(when)


def _nearest_utc(when: datetime) -> datetime:
    """The UTC instant nearest ``when``, a time within hours of year 1 or 9999 that UTC
    cannot hold: ``--to 9999-12-31`` still means "to the end", and what takes a time from
    outside (a report's) refuses it as implausible rather than failing to convert it."""
    return (datetime.max if when.year > 1 else datetime.min).replace(tzinfo=UTC)


def read_typed_times(args: argparse.Namespace) -> None:
    """Turn every time argument typed without an offset into the UTC instant it names on
    the site's wall clock (the zone of the site file ``--site`` names, the demo site by
    default), so ``--at "2026-11-24 14:00"`` is 14:00 at the site whatever the machine's
    zone. Called once, after parsing; reads the site file only when such a time was typed
    (a bad one is a :class:`~engine.config.SiteConfigError`, exit 4)."""
    typed = {
        name: value
        for name, value in vars(args).items()
        if isinstance(value, datetime) and value.tzinfo is None
    }
    if typed:
        zone = site_time(args)
        for name, value in typed.items():
            try:
                setattr(args, name, zone.to_utc(value))
            except OverflowError:  # within hours of year 1 or 9999
                setattr(args, name, _nearest_utc(value))


def site_of(args: argparse.Namespace) -> SiteConfig:
    """The site file ``--site`` names (the demo site by default, also for subcommands whose
    own ``--site`` was not given). A bad site file is a
    :class:`~engine.config.SiteConfigError` (exit 4)."""
    from engine.config import load_site
    from resources import DEMO_SITE

    site = getattr(args, "site", None)
    return load_site(site if site is not None else DEMO_SITE)


def site_time(args: argparse.Namespace) -> SiteTime:
    """The site's zone for a command (see :func:`site_of`). Human output is in it and times
    typed without an offset are read in it; ``--json`` output stays UTC."""
    return site_of(args).site_time


def emit_report(report: dict[str, Any], path: Path | None, as_json: bool) -> None:
    """Write ``report`` to ``path`` whole (temp file, then rename) and, with ``as_json``,
    print it on stdout as one line."""
    if path is not None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2), encoding="utf-8")
        tmp.replace(path)
    if as_json:
        print(json.dumps(report))


def say_sensing_recording_lost(command: str, recording: dict[str, Any] | None) -> bool:
    """Say on stderr what a sensing room's recording (a report's ``sensing_recording``:
    :meth:`~engine.sensing.recording.recorder.RecorderStats.as_dict` with ``lost_records`` and
    ``lost_blocks``) could not write, and whether it lost any: the command then exits 6
    (``MEDIA_LOST``). A recording that failed but caught up lost nothing and is not said."""
    if not recording or not recording.get("lost_records"):
        return False
    why = recording.get("last_error") or "its writes failed or fell behind"
    print(
        f"{command}: {recording['lost_records']} sensing records "
        f"({recording.get('lost_blocks', 0)} blocks) could not be written to "
        f"{recording.get('directory')} ({why}); the recording.failed events and the "
        "report's sensing_recording say so",
        file=sys.stderr,
    )
    return True


class SignalStop(threading.Event):
    """Set by a stopping signal; :attr:`signal_name` says which (``SIGTERM``), for the
    audit trail's word on who or what stopped the command."""

    def __init__(self) -> None:
        super().__init__()
        self.signal_name: str | None = None

    def on_signal(self, number: int, _frame: object) -> None:
        self.signal_name = self.signal_name or signal.Signals(number).name
        self.set()


@contextmanager
def stop_on_signals() -> Iterator[SignalStop]:
    """An event that Ctrl+C (SIGINT) or SIGTERM sets while the block runs, instead of
    interrupting it; the previous handlers come back afterwards. For commands that run
    until a duration ends or someone stops them, and must then still report."""
    stop = SignalStop()
    previous = {sig: signal.signal(sig, stop.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
