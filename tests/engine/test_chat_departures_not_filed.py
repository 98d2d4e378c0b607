"""Ask counts the people there now, not those whose departure the tracker has not filed yet
(issue 68, found by ``python -m benchmarks demo_counts``): on the demo plaza "how many people
are on the plaza now?" was not understood, and "in the last minute" said "at most 11 at
once" where 9 were, every person who had walked out in the last seconds (their ``left`` is
filed 9 s of video after the last sighting, later on a busy machine) counted with those who
had come in since.

Rows go through the real store writer on a simulated clock, in the order the tracker files
them; the offline answerer is asked at ``NOW``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from engine.clock import SimulatedClock
from engine.history.chat.offline import OfflineAnswer, OfflineAnswerer
from engine.history.departures import DEPARTURE_LAG, departure_lag
from engine.sitetime import UTC_TIME
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.models import Camera, Site
from engine.store.writer import StoreWriter

pytestmark = pytest.mark.sql

NOW = datetime(2026, 11, 28, 22, 30, tzinfo=UTC)


@dataclass
class Plaza:
    store: Store
    site: int
    camera: int
    writer: StoreWriter

    def row(self, at: datetime, kind: str, track: int, **detail: object) -> None:
        self.writer.execute(
            InsertEvent(
                ts=at, kind=kind, source="camera:plaza", detail=dict(detail),
                site_id=self.site, camera_id=self.camera, track_id=track,
            )
        )  # fmt: skip


@pytest.fixture
def plaza(db_url: str) -> Iterator[Plaza]:
    store = Store(db_url)
    with store.transaction() as s:
        site = s.execute(
            insert(Site).returning(Site.id),
            [{"name": "Demo plaza", "geo_lat": 51.5, "geo_lon": -0.14, "updated_at": NOW}],
        ).scalar_one()
        camera = s.execute(
            insert(Camera).returning(Camera.id),
            [{"site_id": site, "key": "plaza", "name": "Plaza east", "url": "vtest.avi",
              "source_kind": "file"}],
        ).scalar_one()  # fmt: skip
    writer = StoreWriter(store, clock=SimulatedClock(NOW))
    writer.start()
    try:
        yield Plaza(store, int(site), int(camera), writer)
    finally:
        writer.stop()
        store.close()


def ask(plaza: Plaza, question: str) -> OfflineAnswer:
    return OfflineAnswerer(plaza.store, UTC_TIME).answer(question, NOW)


def four_there_one_gone_unfiled(plaza: Plaza) -> None:
    """Three people on the plaza for two minutes; a fourth came a minute ago and walked out
    8 s ago (the tracker still holds the track, so no ``left`` yet); a fifth came in 5 s
    ago. Four are there now, and never were more than four."""
    for track in (1, 2, 3):
        plaza.row(NOW - timedelta(seconds=120), "person.appeared", track)
    plaza.row(NOW - timedelta(seconds=60), "person.appeared", 4)
    plaza.row(NOW - timedelta(seconds=5), "person.appeared", 5)


def test_how_many_people_are_on_the_plaza_now_counts_the_people_there(plaza: Plaza) -> None:
    four_there_one_gone_unfiled(plaza)
    assert plaza.writer.flush(10)

    answer = ask(plaza, "How many people are on the plaza now?")

    assert answer.answered, answer.text
    assert answer.facts["at_once"] == 4, answer.text
    assert answer.text.startswith("At most 4 people at once were seen on Plaza east (plaza) now")
    assert "10 s before" in answer.text  # the records are 10 s late on who has gone


def test_the_last_minute_does_not_count_a_departure_not_filed_yet(plaza: Plaza) -> None:
    four_there_one_gone_unfiled(plaza)
    assert plaza.writer.flush(10)

    answer = ask(plaza, "how many people were on the plaza in the last minute?")

    assert answer.facts["at_once"] == 4, answer.text


def test_a_departure_filed_late_makes_the_lag_longer() -> None:
    """Rows in filing order: a ``left`` stamped 22:29:20 filed after a row stamped 22:29:45
    was filed at least 25 s late; the lag is the longest such, never under the tracker's."""
    at = NOW - timedelta(minutes=1)
    rows = [
        (1, at, False),
        (2, at + timedelta(seconds=45), False),
        (3, at + timedelta(seconds=20), True),  # filed after row 2
        (4, at + timedelta(seconds=50), True),  # filed at once
    ]
    assert departure_lag(rows) == timedelta(seconds=25)
    assert departure_lag(rows[:2]) == DEPARTURE_LAG
    assert departure_lag(reversed(rows)) == timedelta(seconds=25)  # ids, not list order
