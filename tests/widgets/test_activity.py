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
    track_id: int | None = None
    person_public_id: str | None = None


def test_each_stored_event_is_counted_once_in_its_column_and_the_hour_slides() -> None:
    tally = ActivityTally([("plaza", "Plaza east"), ("door", "Door")])
    events = [
        Stored(1, T0, "person.appeared", track_id=1),
        Stored(2, T0 + timedelta(minutes=1), "person.left", track_id=1),
        Stored(3, T0 + timedelta(minutes=10), "person.appeared", track_id=2),
        Stored(4, T0 + timedelta(minutes=20), "face.recognised", track_id=2),
        Stored(5, T0 + timedelta(minutes=30), "sensing.fall_detected", "sensing:hall", None),
        Stored(6, T0 + timedelta(minutes=31), "person.left", track_id=2),  # not a column
    ]
    assert tally.add(events) == 4
    assert tally.add(events[:3]) == 0  # announced again (read at start, then stored): once
    rows = tally.rows(T0 + timedelta(minutes=40))
    assert [(r.key, r.name) for r in rows] == [
        ("plaza", "Plaza east"),
        ("door", "Door"),  # quiet, still listed
        ("sensing:hall", "sensing:hall"),  # met in events, named by its key
    ]
    plaza, door, hall = rows
    # Two tracks one after the other: at most one person at once.
    assert plaza.counts == (1, 1, 0, 0, 0) and plaza.last == T0 + timedelta(minutes=20)
    assert door.counts == (0, 0, 0, 0, 0) and door.last is None
    assert hall.counts == (0, 0, 0, 1, 0)
    assert not plaza.at_least

    later = tally.rows(T0 + timedelta(minutes=65))  # the first track is over an hour old
    assert later[0].people[0].tracks == 1 and later[0].counts == (1, 1, 0, 0, 0)
    assert tally.rows(T0 + timedelta(minutes=95))[0].counts == (0, 0, 0, 0, 0)


def test_people_are_the_most_present_at_once_not_the_tracks() -> None:
    """Three people on a plaza for half an hour, each losing their track and coming back
    every five minutes: 18 tracks, at most 3 at once; "3", never "18"."""
    tally = ActivityTally([("plaza", "Plaza east")])
    events: list[Stored] = []
    for n in range(18):
        person, stint = n % 3, n // 3
        start = T0 + timedelta(minutes=5 * stint, seconds=10 * person)
        events.append(Stored(2 * n + 1, start, "person.appeared", track_id=100 + n))
        left = start + timedelta(minutes=4, seconds=50)
        events.append(Stored(2 * n + 2, left, "person.left", track_id=100 + n))
    tally.add(events)
    (row,) = tally.rows(T0 + timedelta(minutes=31))
    assert row.counts[0] == 3
    assert row.words(0) == "at most 3 at once (18 tracks)"


def test_people_known_by_face_are_counted_as_themselves() -> None:
    """Ada makes three tracks and Ben one, each recognised: two people, named as known."""
    tally = ActivityTally([("plaza", "Plaza east")])
    events: list[Stored] = []
    for n, who in enumerate(["ada", "ada", "ben", "ada"]):
        start = T0 + timedelta(minutes=3 * n)
        track = 10 + n
        events += [
            Stored(3 * n + 1, start, "person.appeared", track_id=track),
            Stored(3 * n + 2, start + timedelta(seconds=2), "face.recognised", track_id=track,
                   person_public_id=who),
            Stored(3 * n + 3, start + timedelta(minutes=1), "person.left", track_id=track),
        ]  # fmt: skip
    tally.add(events)
    (row,) = tally.rows(T0 + timedelta(minutes=20))
    assert row.counts[:2] == (2, 2)  # two people; two faces, not four recognitions
    assert row.words(0) == "2 known (4 tracks)" and row.words(1) == "2 known"
    # One stranger alongside Ada: at least two, one known.
    tally.add(
        [
            Stored(50, T0 + timedelta(minutes=9, seconds=30), "person.appeared", track_id=99),
            Stored(51, T0 + timedelta(minutes=9, seconds=40), "person.left", track_id=99),
        ]
    )
    (row,) = tally.rows(T0 + timedelta(minutes=20))
    assert row.words(0) == "at least 2: 2 known, at most 2 at once (5 tracks)"


def test_sensed_people_in_a_room_are_the_most_present_at_once() -> None:
    """Two walkers in a room, their blobs split and re-made every minute: 2, not 10."""
    tally = ActivityTally([("sensing:hall", "Hall")])
    events: list[Stored] = []
    for n in range(10):
        start = T0 + timedelta(minutes=n // 2, seconds=5 * (n % 2))
        events += [
            Stored(2 * n + 1, start, "sensing.blob_appeared", "sensing:hall", None, 500 + n),
            Stored(2 * n + 2, start + timedelta(seconds=50), "sensing.blob_left",
                   "sensing:hall", None, 500 + n),
        ]  # fmt: skip
    tally.add(events)
    (row,) = tally.rows(T0 + timedelta(minutes=10))
    assert row.counts[4] == 2 and row.words(4) == "at most 2 at once (10 sensed tracks)"


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
