"""Activities: a place's appearances grouped into a few rows a person reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine.activity import (
    ACTIVITY_BEGAN,
    ACTIVITY_ENDED,
    ActivityBegan,
    ActivityEnded,
    ActivityGrouper,
    ActivityService,
)
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.events import Event, EventRecord
from engine.store.database import Store
from engine.store.models import Event as EventRow
from engine.store.writer import StoreWriter
from engine.vision.analysis import PersonAppeared, PersonLeft
from engine.vision.geometry import Box
from engine.wording import describe
from tests.machine_text import machine_text
from tests.waiting import wait_for

T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
PLAZA = "camera:plaza"
ROOM = "sensing:demo-room"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def appeared(grouper: ActivityGrouper, source: str, track: int, s: float) -> list[Event]:
    kind = "person.appeared" if source.startswith("camera:") else "sensing.blob_appeared"
    return grouper.observe(kind, source, at(s), EventRecord(kind, source, {}, track_id=track))


def left(grouper: ActivityGrouper, source: str, track: int, s: float) -> list[Event]:
    kind = "person.left" if source.startswith("camera:") else "sensing.blob_left"
    return grouper.observe(kind, source, at(s), EventRecord(kind, source, {}, track_id=track))


def test_people_coming_and_going_make_one_activity_that_ends_once_the_place_is_quiet() -> None:
    grouper = ActivityGrouper()
    out: list[Event] = []
    # Three people, overlapping: at most two at once; a face is recognised meanwhile.
    out += appeared(grouper, PLAZA, 1, 0)
    out += appeared(grouper, PLAZA, 2, 10)
    out += left(grouper, PLAZA, 1, 20)
    out += grouper.observe(
        "face.recognised",
        PLAZA,
        at(22),
        EventRecord("face.recognised", PLAZA, {"name": "Ada"}, track_id=2),
    )
    out += appeared(grouper, PLAZA, 3, 25)
    out += left(grouper, PLAZA, 2, 30)
    out += left(grouper, PLAZA, 3, 40)
    # Empty, then someone again 50 s later: still the same activity.
    out += appeared(grouper, PLAZA, 4, 90)
    out += left(grouper, PLAZA, 4, 100)
    out += grouper.tick(at(159))
    assert out == [ActivityBegan(at=at(0), source=PLAZA, people=1)]

    ended = grouper.tick(at(160))  # 60 s quiet and empty
    assert ended == [
        ActivityEnded(
            at=at(100),
            source=PLAZA,
            began_at=at(0),
            people=2,
            tracks=4,
            names=("Ada",),
        )
    ]
    assert grouper.open_sources() == []
    record = ended[0].record()
    assert record.kind == ACTIVITY_ENDED
    assert record.detail == {
        "started_at": at(0).isoformat(),
        "duration_s": 100.0,
        "people": 2,
        "tracks": 4,
        "names": ["Ada"],
    }


def test_someone_still_counted_keeps_the_activity_until_it_goes_stale() -> None:
    grouper = ActivityGrouper(quiet_s=60, stale_s=300)
    appeared(grouper, PLAZA, 1, 0)
    assert grouper.tick(at(299)) == []  # present, quiet: the person is still there
    (ended,) = grouper.tick(at(300))  # a tracker that lost the person's leaving
    assert isinstance(ended, ActivityEnded) and ended.at == at(0)


def test_a_place_busy_without_pause_is_summed_up_every_ten_minutes() -> None:
    grouper = ActivityGrouper(max_s=600)
    out: list[Event] = []
    # Two people always present, one new track every 20 s for 25 minutes.
    out += appeared(grouper, ROOM, 0, 0)
    for track in range(1, 76):
        out += appeared(grouper, ROOM, track, track * 20)
        out += left(grouper, ROOM, track - 1, track * 20 + 1)
        out += grouper.tick(at(track * 20 + 2))
    out += grouper.flush()
    kinds = [event.record().kind for event in out]
    assert kinds == [ACTIVITY_BEGAN, ACTIVITY_ENDED, ACTIVITY_ENDED, ACTIVITY_ENDED]
    first, second, last = (e for e in out if isinstance(e, ActivityEnded))
    assert (first.began_at, first.at, first.continues, first.continued) == (
        at(0),
        at(600),
        True,
        False,
    )
    assert (second.began_at, second.at, second.continued) == (at(600), at(1200), True)
    assert second.people == 2  # the people carried on count in the next stretch
    assert last.continued and not last.continues and last.at == at(1501)


def test_places_are_grouped_apart() -> None:
    grouper = ActivityGrouper()
    out = appeared(grouper, PLAZA, 1, 0) + appeared(grouper, ROOM, 1, 5)
    assert [e.source for e in out if isinstance(e, ActivityBegan)] == [PLAZA, ROOM]
    left(grouper, PLAZA, 1, 10)
    ended = grouper.tick(at(70))
    assert [e.source for e in ended if isinstance(e, ActivityEnded)] == [PLAZA]
    assert grouper.open_sources() == [ROOM]


def test_activity_rows_read_as_words() -> None:
    names = {"plaza": "Plaza east", "demo-room": "Demo room"}
    camera = ActivityEnded(
        at=at(600), source=PLAZA, began_at=at(0), people=4, tracks=23, names=("Ada",)
    ).record()
    words = describe(camera.kind, camera.source, camera.detail, names=names)
    assert (words.title, words.category.value) == ("Activity", "People")
    assert words.summary.startswith("Up to 4 people on Plaza east, ")
    assert "(10 min); 23 camera tracks; recognised: Ada" in words.summary
    room = ActivityEnded(
        at=at(45), source=ROOM, began_at=at(0), people=1, tracks=1, continues=True
    ).record()
    sensed = describe(room.kind, room.source, room.detail, names=names)
    assert (sensed.title, sensed.category.value) == ("Movement", "Movement")
    assert sensed.summary.startswith("1 person sensed in Demo room, ")
    assert sensed.summary.endswith("(45 s); still going on")
    began = ActivityBegan(at=at(0), source=ROOM, people=1).record()
    assert describe(began.kind, began.source, began.detail, names=names).summary == (
        "Someone sensed moving in Demo room"
    )
    for text in (words.summary, words.details_text(), sensed.summary, sensed.details_text()):
        assert machine_text(text) is None, text


def test_the_service_stores_activities_beside_the_tracks_that_made_them(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    bus = EventBus()
    writer = start_writer(store)
    writer.attach(bus)  # tracks are stored as in the engine, the activity rows after them
    clock = SimulatedClock(T0)
    service = ActivityService(bus=bus, clock=clock)
    service.start()
    try:
        box = Box(10, 10, 40, 80)
        for track in (1, 2):
            bus.publish(
                PersonAppeared(
                    at=clock.now(), camera="plaza", track_id=track, box=box, confidence=0.9
                )
            )
            clock.advance(5)
        for track in (1, 2):
            bus.publish(
                PersonLeft(
                    at=clock.now(),
                    camera="plaza",
                    track_id=track,
                    first_seen=T0,
                    last_seen=clock.now(),
                    best_confidence=0.9,
                    path_points=12,
                )
            )
        left_at = clock.now()
        assert clock.wait_for_waiters(1)  # the service's thread waits on the engine clock
        clock.advance(61)  # 61 s quiet and empty: the thread ends the activity

        def stored() -> list[tuple[str, datetime, dict[str, object]]]:
            assert writer.flush()
            with store.sessions() as session:
                return [
                    (row.kind, row.ts, row.detail)
                    for row in session.execute(
                        select(EventRow.kind, EventRow.ts, EventRow.detail).order_by(EventRow.id)
                    )
                ]

        wait_for(lambda: stored()[-1][0] == ACTIVITY_ENDED, what="the activity's end stored")
        rows = stored()
        assert [row[0] for row in rows] == [
            "person.appeared",
            ACTIVITY_BEGAN,
            "person.appeared",
            "person.left",
            "person.left",
            ACTIVITY_ENDED,
        ]
        _kind, ended_at, detail = rows[-1]
        assert ended_at.replace(tzinfo=UTC) == left_at
        assert (detail["people"], detail["tracks"]) == (2, 2)
    finally:
        service.stop()
        store.close()
