"""Input from outside the engine, read without trusting it: files, JSON and times.

What a user points the engine at (a report file, a site file, a photo) may be a FIFO that
never ends, a link to ``/dev/zero``, or grow while it is read; what a node or a file says may
be JSON nested thousands of levels deep or a time in the year 9999. The readers here turn
each of those into a named ``ValueError`` subclass the caller can show as it is:

- :func:`read_outside_file`: opens without waiting (a FIFO never blocks), checks the file
  type on the opened descriptor (a link swapped after a check cannot slip through) and
  counts the bytes as it reads: a device's ``st_size`` says 0, so the size is never taken
  from ``stat``.
- :func:`loads_json`: parses, then checks the nesting depth iteratively. Parsing alone is
  not enough: a document just under the interpreter's recursion limit parses, then breaks
  whatever walks it recursively later (``json.dumps``, ``repr``, a copy) far from where it
  came in. A parse that itself runs out of stack is caught and reported the same way.
- :func:`implausible_time`: why a time from outside cannot be right (before 2000, or more
  than a day ahead of the engine clock's now), so that every place that takes one refuses
  the same times.

Any thread; no state.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Final

READ_CHUNK_BYTES: Final = 1 << 20
JSON_MAX_DEPTH: Final = 32  # nesting levels; every format the engine reads needs 4 or fewer
EARLIEST_PLAUSIBLE_TIME: Final = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK: Final = timedelta(days=1)  # clocks that are a little ahead, time zones mixed up


class OutsideFileError(ValueError):
    """A file from outside that is not read: ``path`` and the ``problem`` (a phrase such as
    ``"is a FIFO, not a regular file"``); ``str()`` is ``"<path>: <problem>"``. ``missing``:
    there is no such file (a caller may say so in its own words)."""

    def __init__(self, path: Path, problem: str, *, missing: bool = False) -> None:
        self.path = path
        self.problem = problem
        self.missing = missing
        super().__init__(f"{path}: {problem}")


class JsonInputError(ValueError):
    """Text from outside that is not acceptable JSON; ``str()`` says why (no location
    beyond what the JSON parser gave: callers add the line or the field). ``parser_message``
    is the JSON parser's own complaint, None when the JSON was refused for its depth."""

    def __init__(self, message: str, parser_message: str | None = None) -> None:
        super().__init__(message)
        self.parser_message = parser_message


def read_outside_file(path: Path | str, limit: int) -> bytes:
    """The whole of the regular file ``path`` if it holds at most ``limit`` bytes, else
    :class:`OutsideFileError` naming it: missing, unreadable, a directory, FIFO, socket or
    device (a symbolic link is followed to what it names), or larger than ``limit``. The
    size is counted while reading (at most ``limit + 1`` bytes are read), and opening never
    waits for a FIFO's writer. Blocks on the disk: not on the GUI thread."""
    source = Path(path)
    with open_regular_file(source) as handle:
        chunks: list[bytes] = []
        size = 0
        try:
            while size <= limit:
                chunk = handle.read(min(READ_CHUNK_BYTES, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as exc:
            raise OutsideFileError(source, f"cannot be read ({exc.strerror or exc})") from None
    if size > limit:
        raise OutsideFileError(source, f"larger than {size_text(limit)} (the limit)")
    return b"".join(chunks)


def open_regular_file(path: Path | str) -> BinaryIO:
    """``path`` opened for reading (unbuffered binary), if it is a regular file, else
    :class:`OutsideFileError` naming it (see :func:`read_outside_file`). The type is checked
    on the opened descriptor and opening never waits for a FIFO's writer; the caller bounds
    what it reads. Close it (a ``with`` block)."""
    source = Path(path)
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise OutsideFileError(source, "cannot be read (no such file)", missing=True) from None
    except OSError as exc:
        raise OutsideFileError(source, f"cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # a NUL byte, or text no file name encodes
        raise OutsideFileError(source, f"cannot be read (not a file name: {exc})") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise OutsideFileError(source, f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise OutsideFileError(source, f"is {file_kind(mode)}, not a regular file")
    return os.fdopen(fd, "rb", buffering=0)


def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, for a message (``"a FIFO"``)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def size_text(size: int) -> str:
    """``size`` bytes in the largest unit that holds it whole (``"256 MiB"``), else in
    bytes (``"2,047 bytes"``): a limit is stated exactly."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size:,} bytes"


def loads_json(
    text: str | bytes,
    *,
    max_depth: int = JSON_MAX_DEPTH,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """``text`` parsed as JSON and nested at most ``max_depth`` levels (a scalar is 0, a
    list or object 1 plus its deepest member), else :class:`JsonInputError`. Integers
    longer than Python's digit limit (4,300) are refused by the parser as not JSON.
    ``parse_constant`` is json's hook for ``NaN`` and ``Infinity``."""
    try:
        value = json.loads(text, parse_constant=parse_constant)
    except RecursionError:
        raise JsonInputError(f"nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"not JSON ({exc.msg})", exc.msg) from None
    except ValueError as exc:  # UnicodeDecodeError, a refused constant, a huge integer
        raise JsonInputError(f"not JSON ({exc})", str(exc)) from None
    if json_depth(value) > max_depth:
        raise JsonInputError(f"nested deeper than {max_depth} levels")
    return value


def json_depth(value: Any) -> int:
    """How deeply lists and dicts nest in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            members: Any = item.values()
        elif isinstance(item, list | tuple):
            members = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((member, depth) for member in members)
    return deepest


def implausible_time(when: datetime, now: datetime) -> str | None:
    """Why ``when`` (timezone-aware) cannot be the time of something that happened, judged
    at ``now`` (the engine clock's reading), or None when it can: before 2000-01-01 UTC, or
    more than :data:`FUTURE_SLACK` (a day) after ``now``."""
    if when < EARLIEST_PLAUSIBLE_TIME:
        return f"{when.isoformat()} is before {EARLIEST_PLAUSIBLE_TIME:%Y-%m-%d}"
    latest = now + FUTURE_SLACK
    if when > latest:
        return f"{when.isoformat()} is in the future (more than a day after {now.isoformat()})"
    return None


def implausible_epoch_s(wall_s: float, now_s: float) -> str | None:
    """:func:`implausible_time` for epoch seconds (``wall_s`` judged at ``now_s``), also
    refusing a time that is not a finite number."""
    try:
        finite = math.isfinite(wall_s)
    except (TypeError, OverflowError):  # not a number, or an integer no float can hold
        finite = False
    if not finite:
        return f"{wall_s!r:.40} is not a time"
    earliest = EARLIEST_PLAUSIBLE_TIME.timestamp()
    if wall_s < earliest:
        return f"{wall_s:.3f} s after the epoch is before {EARLIEST_PLAUSIBLE_TIME:%Y-%m-%d}"
    if wall_s > now_s + FUTURE_SLACK.total_seconds():
        return f"{wall_s:.3f} s after the epoch is more than a day after now ({now_s:.3f})"
    return None
