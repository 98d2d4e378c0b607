"""Site time: how a person reads and types a time.

Times are stored, passed between threads and printed as JSON in UTC. Every time a person
reads (panes, tooltips, the CLI's human output, reports, chat answers) is in the site's
zone, the ``timezone`` of the site file's ``[site]`` table, and so is every time a person
types (the report form, a rule's armed hours, a bookmark, the timeline's "go to").
:class:`SiteTime` owns both directions so that the rules for a time that does not exist
(the hour skipped when clocks go forward) or exists twice (the hour repeated when they go
back) are decided once.

The engine passes a :class:`SiteTime` built from its :class:`~engine.config.SiteConfig`
wherever a decision depends on the zone (armed hours, what "today" means in an answer).
The console's views read :func:`display`, the zone of the site the console has open, which
the engine host sets once when it opens the site; before that it is the machine's zone.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ZONEINFO_DIR: Final = "zoneinfo/"  # /usr/share/zoneinfo/Europe/London → Europe/London


class UnknownTimeZoneError(ValueError):
    """A zone name that is not an IANA time zone (``Europe/London``, ``UTC``)."""


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name``; :class:`UnknownTimeZoneError` naming it when there is none
    (including names that are paths, which ``zoneinfo`` refuses with other errors)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownTimeZoneError(
            f"{name!r} is not an IANA time zone name (e.g. Europe/London, UTC)"
        ) from exc


def machine_zone() -> ZoneInfo:
    """The machine's zone by its IANA name, found as the C library finds it: ``$TZ``, then
    ``/etc/timezone`` (Debian), then where the ``/etc/localtime`` link points; UTC when none
    of those names a zone. The name matters (not just the offset) because the offset of a
    day in summer differs from today's."""
    candidates: list[str] = []
    env = os.environ.get("TZ", "").strip().removeprefix(":")
    if env:
        candidates.append(env)
    with contextlib.suppress(OSError):  # no such file outside Debian and its kin
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if _ZONEINFO_DIR in target:
        candidates.append(target.rsplit(_ZONEINFO_DIR, 1)[1])
    for name in candidates:
        try:
            return zone_named(name)
        except UnknownTimeZoneError:
            continue
    return ZoneInfo("UTC")


def _aware(at: datetime) -> datetime:
    """``at`` with a zone: a naive time is taken as UTC, as the store returns it."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SiteTime:
    """The site's zone and the ways a person reads a time in it. Every method takes an
    aware datetime (a naive one is taken as UTC) and is safe on any thread."""

    zone: tzinfo

    @classmethod
    def named(cls, name: str) -> SiteTime:
        """The site time of IANA zone ``name`` (:class:`UnknownTimeZoneError` if none)."""
        return cls(zone_named(name))

    @classmethod
    def machine(cls) -> SiteTime:
        """The machine's zone: what a site file without ``timezone`` means."""
        return cls(machine_zone())

    @property
    def name(self) -> str:
        """The zone's IANA name (``Europe/London``)."""
        return str(getattr(self.zone, "key", None) or self.zone)

    def local(self, at: datetime) -> datetime:
        """``at`` as the site's wall clock shows it (aware, in the site's zone)."""
        return _aware(at).astimezone(self.zone)

    def clock(self, at: datetime) -> str:
        """``14:02:05``."""
        return f"{self.local(at):%H:%M:%S}"

    def minutes(self, at: datetime) -> str:
        """``14:02``."""
        return f"{self.local(at):%H:%M}"

    def day_of(self, at: datetime) -> date:
        """The site's calendar day at ``at`` (its today when ``at`` is now)."""
        return self.local(at).date()

    def day(self, at: datetime) -> str:
        """``2026-11-24``: the site's calendar day at ``at``."""
        return f"{self.local(at):%Y-%m-%d}"

    def full(self, at: datetime) -> str:
        """``2026-11-24 14:02:05``."""
        return f"{self.local(at):%Y-%m-%d %H:%M:%S}"

    def full_minutes(self, at: datetime) -> str:
        """``2026-11-24 14:02``."""
        return f"{self.local(at):%Y-%m-%d %H:%M}"

    def short(self, at: datetime, now: datetime | None = None) -> str:
        """``14:02`` when ``at`` is on the site's day of ``now`` (default: the wall clock's
        now), else ``24 Nov 14:02``."""
        local = self.local(at)
        today = self.local(now if now is not None else datetime.now(UTC)).date()
        return f"{local:%H:%M}" if local.date() == today else f"{local:%d %b %H:%M}"

    def zone_label(self, at: datetime) -> str:
        """The zone's abbreviation at ``at`` as the tz database writes it (``GMT`` in winter,
        ``BST`` in summer; ``-03`` for a zone that has no letters)."""
        return self.local(at).tzname() or self.name

    def with_zone(self, at: datetime) -> str:
        """``2026-11-24 14:02:05 GMT``: a full time and its zone, for where the zone is
        said once (a report's header, a tooltip read on its own)."""
        return f"{self.full(at)} {self.zone_label(at)}"

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The UTC ``[start, end)`` of the site's calendar ``day``: from its local midnight
        to the next one, so 23 hours on the day clocks go forward and 25 on the day they go
        back."""
        return self.to_utc(datetime.combine(day, time())), self.to_utc(
            datetime.combine(day + timedelta(days=1), time())
        )

    def to_utc(self, wall: datetime) -> datetime:
        """The UTC instant of the site's wall-clock time ``wall`` (naive: a time a person
        typed). A time that exists twice (clocks going back) is the first of the two; a time
        that does not exist (clocks going forward) is read with the offset before the
        change, so 01:30 on a spring-forward morning in London is 02:30 BST. An aware
        ``wall`` is already an instant and is only converted."""
        if wall.tzinfo is not None:
            return wall.astimezone(UTC)
        return wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def parse(self, text: str) -> datetime:
        """A time a person typed, as UTC: ISO 8601 (``2026-11-24 14:02``, ``T`` or a space,
        seconds optional); without an offset it is the site's wall time, with one (or
        ``Z``) it is that instant. :class:`ValueError` with an example otherwise."""
        cleaned = text.strip()
        try:
            wall = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"not a time: {text!r} (e.g. 2026-11-24 14:02, site time {self.name})"
            ) from None
        return self.to_utc(wall)


UTC_TIME: Final = SiteTime(UTC)  # for work that has no site: rules matched in a bare test

_display_lock = threading.Lock()
_display: SiteTime | None = None


def display() -> SiteTime:
    """The site time the console's views show: that of the site the console has open
    (:func:`set_display`), or the machine's zone before one is open. Views read it when
    they format, so they never show two zones at once."""
    global _display
    with _display_lock:
        if _display is None:
            _display = SiteTime.machine()
        return _display


def set_display(site_time: SiteTime | None) -> SiteTime | None:
    """Make ``site_time`` the zone every view shows (None: the machine's again); returns
    the one it replaces (None if none was set), so a host that closes can put it back."""
    global _display
    with _display_lock:
        previous, _display = _display, site_time
        return previous
