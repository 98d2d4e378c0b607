"""The Activity pane's tally: per camera and room over a sliding hour, each stored event
counted once, quiet sources listed, and counts marked "at least" when the history read at
start did not reach back a whole hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from widgets.activity.api import ActivityTally

T0 = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    id: int
    ts: datetime
    kind: str
    source: str = "camera:plaza"
    camera: str | None = "plaza"


def test_each_stored_event_is_counted_once_in_its_column_and_the_hour_slides() -> None:
    tally = ActivityTally([("plaza", "Plaza east"), ("door", "Door")])
    events = [
        Stored(1, T0, "person.appeared"),
        Stored(2, T0 + timedelta(minutes=10), "person.appeared"),
        Stored(3, T0 + timedelta(minutes=20), "face.recognised"),
        Stored(4, T0 + timedelta(minutes=30), "sensing.fall_detected", "sensing:hall", None),
        Stored(5, T0 + timedelta(minutes=31), "person.left"),  # not a column
    ]
    assert tally.add(events) == 4
    assert tally.add(events[:2]) == 0  # announced again (read at start, then stored): once
    rows = tally.rows(T0 + timedelta(minutes=40))
    assert [(r.key, r.name) for r in rows] == [
        ("plaza", "Plaza east"),
        ("door", "Door"),  # quiet, still listed
        ("sensing:hall", "sensing:hall"),  # met in events, named by its key
    ]
    plaza, door, hall = rows
    assert plaza.counts == (2, 1, 0, 0, 0) and plaza.last == T0 + timedelta(minutes=20)
    assert door.counts == (0, 0, 0, 0, 0) and door.last is None
    assert hall.counts == (0, 0, 0, 1, 0)
    assert not plaza.at_least

    later = tally.rows(T0 + timedelta(minutes=65))  # the first sighting is over an hour old
    assert later[0].counts == (1, 1, 0, 0, 0)
    # Forgotten once out of the window, so a late re-announcement counts as new: it is in
    # the past hour no more, and the next tally drops it again.
    assert tally.add([events[0]]) == 1
    assert tally.rows(T0 + timedelta(minutes=65))[0].counts == (1, 1, 0, 0, 0)


def test_a_history_read_that_does_not_reach_back_an_hour_says_at_least() -> None:
    tally = ActivityTally([("plaza", "Plaza east")])
    page = [Stored(9, T0 + timedelta(minutes=50), "person.appeared")]
    tally.load(page, reached=T0 + timedelta(minutes=50))
    (row,) = tally.rows(T0 + timedelta(minutes=55))
    assert row.counts[0] == 1 and row.at_least
    (row,) = tally.rows(T0 + timedelta(minutes=111))  # the window now starts after it
    assert not row.at_least

    complete = ActivityTally([("plaza", "Plaza east")])
    complete.load(page, reached=None)  # the whole history fit on the page
    assert not complete.rows(T0 + timedelta(minutes=55))[0].at_least
