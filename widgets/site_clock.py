"""Qt's date-time editors in site time: what a person types in a time field is the site's
wall clock, and what the engine gets back is an aware UTC instant.

Qt knows IANA zones by name (from the same tz database), so an editor given the site's
zone shows and reads the site's wall clock itself, daylight saving included.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QByteArray, QDateTime, QTimeZone

from engine.sitetime import SiteTime, display


def qt_zone(site: SiteTime | None = None) -> QTimeZone:
    """The Qt zone of ``site`` (default: the zone the views show). A zone Qt does not know
    (its tz database older than Python's) becomes its current offset: right until the
    next change of clocks, rather than silently UTC."""
    site = site or display()
    zone = QTimeZone(QByteArray(site.name.encode()))
    if zone.isValid():
        return zone
    offset = site.local(datetime.now(UTC)).utcoffset()
    return QTimeZone(int(offset.total_seconds()) if offset is not None else 0)


def to_qdatetime(at: datetime, site: SiteTime | None = None) -> QDateTime:
    """``at`` (aware; naive is UTC) to the second, for an editor in ``site``'s zone."""
    seconds = int((at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp())
    return QDateTime.fromSecsSinceEpoch(seconds, qt_zone(site))


def from_qdatetime(value: QDateTime) -> datetime:
    """An editor's value as an aware UTC instant (to the second)."""
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), UTC)


def zone_abbreviations(site: SiteTime | None = None, year: int | None = None) -> str:
    """The abbreviations ``site``'s zone (default: the one the views show) uses in ``year``
    (default: this one), standard time's first: ``GMT/BST`` for London, ``AEST/AEDT`` for
    Sydney, ``IST`` for Kolkata. For a label that stays right whatever date is typed
    beside it."""
    site = site or display()
    year = year if year is not None else datetime.now(UTC).year
    moments = (datetime(year, 1, 15, 12, tzinfo=UTC), datetime(year, 7, 15, 12, tzinfo=UTC))
    north = [site.zone_label(at) for at in moments]
    # South of the equator the clocks go forward in the other half of the year: the
    # smaller offset is standard time.
    offsets = [site.local(at).utcoffset() for at in moments]
    ordered = (
        north
        if offsets[0] is None or offsets[1] is None or offsets[0] <= offsets[1]
        else north[::-1]
    )
    return "/".join(dict.fromkeys(ordered))
