"""When the records can say who has gone: a track's departure is filed late.

A camera's tracker ends a track, and files its ``person.left`` (stamped with the last
sighting), only after it has coasted for ``COAST_S`` and stayed lost for ``LOST_S``
(:mod:`engine.vision.track`: 1 s + 8 s of the stream); a file played slower than its rate on
a busy machine files it later still in wall time. Until then the track has no ``left`` row,
and a count that takes every open track as present until now counts, with the people there,
everyone who left in the last seconds: on the demo plaza "at most 11 at once" where 9 were.

So the rows are taken as complete only up to ``now`` minus the departure lag (a departure
before then would be filed by now): an open track begun before that moment counts as present
until it, and one begun since (too young for its departure to be due) from its start to now,
apart from the older ones. Someone who walked out and came back as a new track within the lag
is thus never counted twice, and someone who came in within it is counted with the others
once the lag has passed. A count of a moment inside the lag ("now") counts from its start.
The lag is :data:`DEPARTURE_LAG` at least, more when the rows show departures filed later:
rows are filed in the order of their ids, so a ``left`` row filed after a row stamped later
than it was filed at least that much after its own time.

Pure functions, no I/O; used by Ask's counts (:mod:`engine.history.chat.presence`) and the
Activity pane's (:mod:`widgets.activity.api`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

# COAST_S + LOST_S of engine.vision.track (1 s + 8 s of the stream), and a second of margin
# for the frame's analysis and the store writer's batch.
DEPARTURE_LAG: Final = timedelta(seconds=10)
RECENT_DEPARTURES: Final = 20  # the lag is read from this many of the newest departures


def departure_lag(rows: Iterable[tuple[int, datetime, bool]]) -> timedelta:
    """How late a departure is filed after the last sighting it is stamped with: the
    longest of the newest :data:`RECENT_DEPARTURES` the ``rows`` show, never less than
    :data:`DEPARTURE_LAG`. ``rows``: ``(id, ts, is_departure)`` of one place's track rows
    (ids in filing order)."""
    latest: datetime | None = None
    lags: list[timedelta] = []
    for _id, ts, left in sorted(rows, key=lambda row: row[0]):
        if left and latest is not None and latest > ts:
            lags.append(latest - ts)
        latest = ts if latest is None or ts > latest else latest
    return max([DEPARTURE_LAG, *lags[-RECENT_DEPARTURES:]])


def open_track_end(
    appeared: datetime, settled: datetime, now: datetime, open_for: timedelta
) -> datetime:
    """Until when a track with no departure filed is taken as present: one begun before
    ``settled`` until then (it may have gone since, its departure not filed yet), one begun
    since until ``now``; at most ``open_for`` after it began."""
    return min(appeared + open_for, settled if appeared < settled else now)
