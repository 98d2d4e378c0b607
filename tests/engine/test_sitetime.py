"""Site time: a person reads and types times on the site's wall clock, across changes of
clocks, whatever the machine's zone is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.sitetime import SiteTime, UnknownTimeZoneError, machine_zone

LONDON = SiteTime.named("Europe/London")
LOS_ANGELES = SiteTime.named("America/Los_Angeles")


def test_a_time_reads_on_the_site_clock_with_its_abbreviation() -> None:
    winter = datetime(2026, 11, 24, 14, 2, 5, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 14, 2, 5, tzinfo=UTC)
    assert (LONDON.clock(winter), LONDON.zone_label(winter)) == ("14:02:05", "GMT")
    assert (LONDON.clock(summer), LONDON.zone_label(summer)) == ("15:02:05", "BST")
    assert LOS_ANGELES.full(winter) == "2026-11-24 06:02:05"
    assert LOS_ANGELES.with_zone(winter) == "2026-11-24 06:02:05 PST"
    # Short: the day is left out on the site's today, which is not UTC's today.
    evening = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 19:00 on the 24th in Los Angeles
    assert LOS_ANGELES.short(winter, now=evening) == "06:02"
    assert LONDON.short(winter, now=evening) == "24 Nov 14:02"
    assert LOS_ANGELES.clock(winter.replace(tzinfo=None)) == "06:02:05"  # naive is UTC


def test_the_day_clocks_go_forward_lasts_23_hours_and_back_25() -> None:
    spring_start, spring_end = LONDON.day_bounds(date(2026, 3, 29))
    assert spring_start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert spring_end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)  # midnight BST
    autumn_start, autumn_end = LONDON.day_bounds(date(2026, 10, 25))
    assert autumn_start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # midnight BST
    assert autumn_end - autumn_start == timedelta(hours=25)
    ordinary_start, ordinary_end = LOS_ANGELES.day_bounds(date(2026, 11, 24))
    assert ordinary_start == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert ordinary_end - ordinary_start == timedelta(hours=24)


def test_a_typed_time_is_the_site_wall_time_unless_it_says_its_offset() -> None:
    assert LOS_ANGELES.parse("2026-11-24 06:02") == datetime(2026, 11, 24, 14, 2, tzinfo=UTC)
    assert LOS_ANGELES.parse("2026-11-24T06:02:05Z") == datetime(2026, 11, 24, 6, 2, 5, tzinfo=UTC)
    assert LONDON.parse("2026-07-01 15:00+01:00") == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)
    # 01:30 does not exist on the spring-forward morning: read before the change (02:30 BST);
    # it exists twice on the fall-back morning: the first, still BST.
    assert LONDON.parse("2026-03-29 01:30") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert LONDON.parse("2026-10-25 01:30") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"e\.g\. 2026-11-24 14:02"):
        LONDON.parse("yesterday at noon")


def test_the_machine_zone_is_found_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", ":America/Los_Angeles")
    assert str(machine_zone()) == "America/Los_Angeles"
    monkeypatch.setenv("TZ", "Not/AZone")  # then /etc/timezone, /etc/localtime, else UTC
    assert machine_zone() is not None
    with pytest.raises(UnknownTimeZoneError, match="'Mars/Olympus'"):
        SiteTime.named("Mars/Olympus")
