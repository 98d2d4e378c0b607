"""Incident reports as they arrive, checked before anything is stored.

A report is what someone saw: ``text``, where (``latitude``, ``longitude``, degrees) and
when (``at``, ISO 8601 with a UTC offset or ``Z``), optionally who reported it
(``reporter``) and a photo or video (``media``, a path). :func:`report_from_fields` checks
one; :func:`read_report_file` checks a whole CSV or JSON-lines file and returns every report
or refuses the file with every bad row named by line (a bad file imports nothing).

Decisions where the issue is silent: a time without an offset is refused (a file written in
another time zone would otherwise shift every report by hours without a word); text is
stripped of control characters and limited to :data:`MAX_TEXT_CHARS`; unknown columns are
refused (a misspelt ``lattitude`` column must not import reports without a location).

What comes from outside is not trusted (:mod:`engine.inbound`): the file is read only if it
is a regular file (a FIFO or a link to a device is refused by name, never waited on or read
without end) and counted while read against :data:`MAX_FILE_BYTES`; a JSON line may nest at
most :data:`~engine.inbound.JSON_MAX_DEPTH` levels; a number must be one a float can hold;
a time must lie between 2000-01-01 and a day after the engine clock's now (a report from
the year 9999 would pin itself to the top of every list and age no risk cell).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from engine.clock import REAL_CLOCK
from engine.inbound import (
    JsonInputError,
    OutsideFileError,
    implausible_time,
    loads_json,
    read_outside_file,
)
from engine.text import printable

MAX_TEXT_CHARS: Final = 10_000
MAX_FILE_BYTES: Final = 256 * 1024 * 1024
FIELDS: Final = ("text", "latitude", "longitude", "at", "reporter", "media")
REQUIRED: Final = ("text", "latitude", "longitude", "at")
# Column names people write for the same field.
ALIASES: Final = {"lat": "latitude", "lon": "longitude", "lng": "longitude", "time": "at"}
TIME_EXAMPLE: Final = "2026-11-22T09:30:00Z"


class ReportInputError(ValueError):
    """One report is not acceptable: ``field`` names what is wrong (``None``: the report as
    a whole), ``line`` where it is in a file (1-based, ``None`` for a single report)."""

    def __init__(self, field: str | None, message: str, line: int | None = None) -> None:
        self.field = field
        self.line = line
        where = "" if not line else f"line {line}: "  # 0: the file itself
        what = "" if field is None else f"{field}: "
        super().__init__(f"{where}{what}{message}")


class ReportFileError(ValueError):
    """A report file that imports nothing: ``problems`` lists every bad row (in file order)
    or the file's own problem (``line`` 0 or ``None``)."""

    def __init__(self, path: Path, problems: list[ReportInputError]) -> None:
        self.path = path
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{path}: nothing imported: {shown}{more}")


@dataclass(frozen=True)
class ReportInput:
    """A checked report: ``at`` is timezone-aware UTC. The words and the reporter are left
    out of ``repr``: a command holding reports may be logged, and a log keeps no one's
    words."""

    text: str = field(repr=False)
    latitude: float
    longitude: float
    at: datetime
    reporter: str | None = field(default=None, repr=False)
    media: str | None = None


def report_from_fields(
    fields: Mapping[str, object],
    *,
    line: int | None = None,
    now: Callable[[], datetime] = REAL_CLOCK.now,
) -> ReportInput:
    """One report from its fields (names as in :data:`FIELDS` or :data:`ALIASES`; values as
    text or, from JSON, numbers). ``ReportInputError`` naming the first bad field. ``now``
    is the engine clock's: ``at`` must lie from 2000-01-01 to a day after it."""
    named: dict[str, object] = {}
    for key, value in fields.items():
        name = ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
        if name not in FIELDS:
            raise ReportInputError(str(key), f"unknown field (expected {', '.join(FIELDS)})", line)
        if name in named:
            raise ReportInputError(name, "given twice", line)
        named[name] = value
    for name in REQUIRED:
        value = named.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ReportInputError(name, "missing", line)
    if not isinstance(named["text"], str):
        raise ReportInputError("text", f"not text: {_shown(named['text'])}", line)
    # Line breaks are kept (a report may have paragraphs); other control characters go.
    text = "\n".join(printable(part).strip() for part in str(named["text"]).splitlines())
    text = text.strip()
    if not text:
        raise ReportInputError("text", "empty once control characters are removed", line)
    if len(text) > MAX_TEXT_CHARS:
        raise ReportInputError("text", f"longer than {MAX_TEXT_CHARS} characters", line)
    latitude = _degrees(named["latitude"], "latitude", 90.0, line)
    longitude = _degrees(named["longitude"], "longitude", 180.0, line)
    at = _time(named["at"], line)
    problem = implausible_time(at, now())
    if problem is not None:
        raise ReportInputError("at", problem, line)
    return ReportInput(
        text=text,
        latitude=latitude,
        longitude=longitude,
        at=at,
        reporter=_optional_text(named.get("reporter"), "reporter", line),
        media=_optional_text(named.get("media"), "media", line),
    )


def read_report_file(
    path: Path, *, now: Callable[[], datetime] = REAL_CLOCK.now
) -> list[ReportInput]:
    """Every report in a CSV file (a header row naming the fields, then one report per
    row) or a JSON-lines file (``.jsonl``/``.ndjson``: one JSON object per line, blank lines
    skipped). All rows are checked; any bad row refuses the whole file with
    ``ReportFileError`` listing each (by line number), so nothing is half imported. A file
    that is not a regular file (a FIFO, a device, a folder) or holds more than
    :data:`MAX_FILE_BYTES` is refused by name without being read to its end. ``now``: the
    engine clock's (see :func:`report_from_fields`)."""
    kind = _kind(path)
    try:
        raw = read_outside_file(path, MAX_FILE_BYTES)
    except OutsideFileError as exc:
        raise ReportFileError(path, [ReportInputError(None, exc.problem, 0)]) from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ReportFileError(path, [ReportInputError(None, "not UTF-8 text", line)]) from None
    reports: list[ReportInput] = []
    problems: list[ReportInputError] = []
    for line, fields in _rows(content, kind, problems):
        try:
            reports.append(report_from_fields(fields, line=line, now=now))
        except ReportInputError as exc:
            problems.append(exc)
    if not problems and not reports:
        problems.append(ReportInputError(None, "no reports in the file", 0))
    if problems:
        raise ReportFileError(path, sorted(problems, key=lambda p: p.line or 0))
    return reports


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise ReportFileError(path, [ReportInputError(None, "not a .csv, .jsonl or .ndjson file", 0)])


def _rows(
    content: str, kind: str, problems: list[ReportInputError]
) -> list[tuple[int, Mapping[str, object]]]:
    """(line number, fields) of each report in ``content``; a row that cannot even be
    split into fields goes to ``problems``."""
    rows: list[tuple[int, Mapping[str, object]]] = []
    if kind == "jsonl":
        for number, text in enumerate(content.splitlines(), 1):
            if not text.strip():
                continue
            try:
                value = loads_json(text)
            except JsonInputError as exc:
                problems.append(ReportInputError(None, str(exc), number))
                continue
            if not isinstance(value, dict):
                problems.append(ReportInputError(None, "not a JSON object", number))
                continue
            rows.append((number, value))
        return rows
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return rows
    except csv.Error as exc:
        problems.append(ReportInputError(None, f"not CSV ({exc})", 1))
        return rows
    names = [h.strip() for h in header]
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(ReportInputError(None, f"not CSV ({exc})", reader.line_num))
            break
        number = reader.line_num  # the row's last physical line
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            problems.append(
                ReportInputError(None, f"{len(values)} values for {len(names)} columns", number)
            )
            continue
        rows.append((number, dict(zip(names, values, strict=True))))
    return rows


def _degrees(value: object, field: str, limit: float, line: int | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ReportInputError(field, f"not a number: {_shown(value)}", line)
    try:
        degrees = float(value)
    except ValueError:
        raise ReportInputError(field, f"not a number: {_shown(value)}", line) from None
    except OverflowError:  # an integer of hundreds of digits
        raise ReportInputError(field, f"not a finite number: {_shown(value)}", line) from None
    if not math.isfinite(degrees):
        raise ReportInputError(field, f"not a finite number: {_shown(value)}", line)
    if not -limit <= degrees <= limit:
        raise ReportInputError(
            field, f"{_shown(value)} is not degrees from -{limit:g} to {limit:g}", line
        )
    return degrees


def _shown(value: object) -> str:
    """``value`` for a message, cut to 40 characters (a 400-digit number, a long text)."""
    text = repr(value) if not isinstance(value, int) else str(value)
    return text if len(text) <= 40 else f"{text[:40]}… ({len(text)} characters)"


def _time(value: object, line: int | None) -> datetime:
    if not isinstance(value, str):
        raise ReportInputError(
            "at", f"not an ISO 8601 time: {_shown(value)} (e.g. {TIME_EXAMPLE})", line
        )
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if when.tzinfo is not None:
            when = when.astimezone(UTC)  # 0001-01-01T00:00+01:00 has no UTC time
    except (ValueError, OverflowError):
        raise ReportInputError(
            "at", f"not an ISO 8601 time: {_shown(value)} (e.g. {TIME_EXAMPLE})", line
        ) from None
    if when.tzinfo is None:
        raise ReportInputError(
            "at", f"no time zone in {_shown(value)} (add Z or an offset, e.g. {TIME_EXAMPLE})", line
        )
    return when


def _optional_text(value: object, field: str, line: int | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ReportInputError(field, f"not text: {_shown(value)}", line)
    cleaned = printable(value).strip()
    return cleaned or None
