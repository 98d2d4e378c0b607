"""The chat's offline answers at scale: 1,000,000 stored events (8 cameras, 2,000 people seen
over 30 days, movement in two sensing rooms, clips) with planted facts whose answers are
known (named people sighted at known times on known cameras, falls on known days, alerts,
incidents), on SQLite and (given ``--db postgresql+psycopg://…`` or
``WATCHFLOOR_TEST_PG_URL``) PostgreSQL.

- ``accuracy``: of :data:`CASES` (46 phrasings across the supported forms), the share whose
  answer states the right facts: the right person, time, camera, count and range, citing
  the planted events (counts and people over the noise are checked against plain SQL
  counts of the same range).
- ``invented``: of :data:`OUT_OF_SCOPE` (20 questions outside the forms, or naming a person
  or camera the records do not have), how many were answered or cited anything. Target 0.
- ``p50_ms`` / ``p95_ms``: latency of one offline answer (every question, :data:`REPEATS`
  times after a warm-up). Target p95 < 300 ms.

The clock is fixed at :data:`NOW` (Monday 2026-11-23 12:00 UTC) so "today", "this week" and
"between 9 and 10" mean the same on every run.

``python -m benchmarks.chat [--db URL] [--events N]`` or ``python -m benchmarks chat``;
prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from benchmarks.event_queries import _fresh_pg_database, bulk_load
from engine.history.chat.offline import OfflineAnswer, OfflineAnswerer
from engine.store.alert_models import Alert
from engine.store.database import Store
from engine.store.incident_models import Incident
from engine.store.models import Camera, Event, Media, Site
from engine.store.person_models import Person

EVENTS = 1_000_000
PERSONS = 2_000
NAMED_SHARE = 0.05  # noise people with a name ("Visitor N"); the rest have only an id
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
TODAY = NOW.replace(hour=0)
SPAN = timedelta(days=30)
CLIPS_PER_CAMERA_HOUR = 10
CLIP_S = 8.0
REPEATS = 3
SEED = 23
CAMERAS = [
    ("cam1", "Front gate"),
    ("cam2", "Lobby"),
    ("cam3", "Car park"),
    ("cam4", "Loading bay"),
    ("cam5", "Reception"),
    ("cam6", "Corridor"),
    ("cam7", "Yard"),
    ("cam8", "Roof"),
]
PERSON_KINDS = ("person.appeared", "person.left", "face.recognised")
OTHER_KINDS = ("camera.online", "camera.offline", "clip.finalised", "analysis.error")
SENSING_KINDS = ("sensing.blob_appeared", "sensing.blob_left")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


# The planted facts: (name, when, kind, source, person) — persons by name or public id.
PLANTED_EVENTS: list[tuple[str, datetime, str, str, str | None]] = [
    ("J1", at(23, 9, 12), "person.appeared", "camera:cam2", "John Carter"),
    ("J2", at(23, 9, 12, 3), "face.recognised", "camera:cam2", "John Carter"),
    ("J3", at(23, 9, 40), "person.left", "camera:cam2", "John Carter"),
    ("J4", at(22, 14, 5), "person.appeared", "camera:cam1", "John Carter"),
    ("J5", at(20, 8, 0), "person.appeared", "camera:cam3", "John Carter"),
    ("S1", at(21, 17, 30), "person.appeared", "camera:cam3", "Sarah Okafor"),
    ("S2", at(21, 17, 45), "person.left", "camera:cam3", "Sarah Okafor"),
    ("S3", at(18, 10, 0), "person.appeared", "camera:cam5", "Sarah Okafor"),
    ("A1", at(23, 9, 50), "person.appeared", "camera:cam2", "Ahmed Khan"),
    ("A2", at(23, 6, 30), "person.appeared", "camera:cam7", "Ahmed Khan"),
    ("M1", at(16, 11, 0), "person.appeared", "camera:cam4", "Maria Lopez"),
    ("P1", at(22, 22, 15), "person.appeared", "camera:cam6", "Person_00ABCDEF"),
    ("F1", at(23, 8, 5), "sensing.fall_detected", "sensing:ward", None),
    ("F2", at(19, 3, 20), "sensing.fall_detected", "sensing:lab", None),
    ("F3", at(17, 15, 0), "sensing.fall_detected", "sensing:ward", None),
    ("F4", at(2, 11, 0), "sensing.fall_detected", "sensing:ward", None),
]
PLANTED_PEOPLE = [
    ("Person_0A000001", "John Carter"),
    ("Person_0A000002", "Sarah Okafor"),
    ("Person_0A000003", "Ahmed Khan"),
    ("Person_0A000004", "Maria Lopez"),
    ("Person_0A000005", "Wei Chen"),  # enrolled, never seen
    ("Person_00ABCDEF", None),
]
# (name, raised, kind, severity, title, event)
PLANTED_ALERTS = [
    ("AL1", at(23, 8, 5), "fall", "critical", "Fall: someone fell in ward", "F1"),
    ("AL2", at(19, 3, 20), "fall", "critical", "Fall: someone fell in lab", "F2"),
    ("AL3", at(22, 14, 6), "person", "warning", "Person at the front gate", None),
    ("AL4", at(21, 2, 0), "loitering", "warning", "Loitering in the car park", None),
]
PLANTED_INCIDENTS = [
    ("I1", at(21, 16, 0), "theft"),
    ("I2", at(10, 3, 0), "fire"),
    ("I3", at(18, 12, 0), "theft"),
]


@dataclass
class Plant:
    """Database ids of the planted rows, by plant name; camera ids by key."""

    ids: dict[str, int] = field(default_factory=dict)
    cameras: dict[str, int] = field(default_factory=dict)


class Truth:
    """Plain SQL answers over the whole store, independent of the chat's queries."""

    def __init__(self, store: Store, plant: Plant) -> None:
        self.store = store
        self.plant = plant

    def count(
        self, start: datetime, end: datetime, kind: str | None = None, camera: str | None = None
    ) -> int:
        stmt = select(func.count()).select_from(Event).where(Event.ts >= start, Event.ts < end)
        if kind:
            stmt = stmt.where(Event.kind == kind)
        if camera:
            stmt = stmt.where(Event.camera_id == self.plant.cameras[camera])
        with self.store.engine.connect() as connection:
            return int(connection.execute(stmt).scalar_one())

    def people(
        self, start: datetime, end: datetime, camera: str | None = None, named: bool = False
    ) -> int:
        stmt = select(func.count(func.distinct(Event.person_id))).where(
            Event.ts >= start, Event.ts < end, Event.person_id.is_not(None)
        )
        if named:
            stmt = stmt.where(
                Event.person_id.in_(select(Person.id).where(Person.name.is_not(None)))
            )
        if camera:
            stmt = stmt.where(Event.camera_id == self.plant.cameras[camera])
        with self.store.engine.connect() as connection:
            return int(connection.execute(stmt).scalar_one())


Check = Callable[[OfflineAnswer, Truth, Plant], str | None]


@dataclass(frozen=True)
class Case:
    question: str
    form: str
    check: Check


def _range(answer: OfflineAnswer) -> tuple[datetime, datetime]:
    r = answer.facts["range"]
    return (
        datetime.fromisoformat(r["start"].replace("Z", "+00:00")),
        datetime.fromisoformat(r["end"].replace("Z", "+00:00")),
    )


def _cited(answer: OfflineAnswer) -> list[int]:
    return [c.event_id for c in answer.citations]


def expect(
    *,
    facts: Mapping[str, Any] | None = None,
    cites: tuple[str, ...] = (),
    cites_exactly: tuple[str, ...] | None = None,
    says: tuple[str, ...] = (),
    rng: tuple[datetime, datetime] | None = None,
    truth: Callable[[Truth, datetime, datetime], Mapping[str, Any]] | None = None,
    named: tuple[str, ...] = (),
    planted_ids: Mapping[str, tuple[str, ...]] | None = None,
) -> Check:
    """A check: facts equal, planted events cited (all of ``cites``, or exactly
    ``cites_exactly`` in order), text contains ``says``, the range is ``rng``, facts equal
    the SQL ``truth`` over the answer's range, ``named`` people (public ids) among the
    named, fact lists equal to planted ids (``planted_ids``)."""

    def check(answer: OfflineAnswer, t: Truth, plant: Plant) -> str | None:
        if not answer.answered:
            return f"not answered: {answer.text[:120]}"
        for key, value in (facts or {}).items():
            if answer.facts.get(key) != value:
                return f"{key} = {answer.facts.get(key)!r}, expected {value!r}"
        for key, names in (planted_ids or {}).items():
            want = [plant.ids[n] for n in names]
            got = answer.facts.get(key)
            if sorted(got or []) != sorted(want):
                return f"{key} = {got!r}, expected {want!r} ({names})"
        cited = _cited(answer)
        missing = [n for n in cites if plant.ids[n] not in cited]
        if missing:
            return f"does not cite {missing}: {cited}"
        if cites_exactly is not None and cited != [plant.ids[n] for n in cites_exactly]:
            return f"cites {cited}, expected {cites_exactly}"
        for words in says:
            if words not in answer.text:
                return f"text lacks {words!r}: {answer.text[:160]}"
        if rng is not None and _range(answer) != rng:
            return f"range {_range(answer)}, expected {rng}"
        if truth is not None:
            for key, value in truth(t, *_range(answer)).items():
                if answer.facts.get(key) != value:
                    return f"{key} = {answer.facts.get(key)!r}, SQL says {value!r}"
        for public_id in named:
            if public_id not in answer.facts.get("named", []):
                return f"{public_id} not among the named people"
        return None

    return check


JOHN, SARAH, AHMED, PERSON_P = (
    "Person_0A000001",
    "Person_0A000002",
    "Person_0A000003",
    ("Person_00ABCDEF"),
)
WEEK = (at(23, 0), NOW)
LAST_WEEK = (at(16, 0), at(23, 0))

CASES: list[Case] = [
    # -- last seen
    Case("When did I last see John?", "last_seen", expect(cites_exactly=("J3",), says=("John Carter was last seen at 2026-11-23 09:40:00 UTC on Lobby (cam2)",))),  # noqa: E501
    Case("When was John Carter last seen?", "last_seen", expect(cites_exactly=("J3",))),
    Case("Where was Sarah last seen?", "last_seen", expect(cites_exactly=("S2",), says=("2026-11-21 17:45:00 UTC on Car park (cam3)",))),  # noqa: E501
    Case("When did we last see Sarah on camera 5?", "last_seen", expect(cites_exactly=("S3",), facts={"camera": "cam5"})),  # noqa: E501
    Case("When did I last see Ahmed on the Yard camera?", "last_seen", expect(cites_exactly=("A2",), facts={"camera": "cam7"})),  # noqa: E501
    Case("Has Maria Lopez been seen this week?", "last_seen", expect(cites_exactly=(), says=("Maria Lopez has no recorded sighting this week",))),  # noqa: E501
    Case("When was Maria last seen?", "last_seen", expect(cites_exactly=("M1",), says=("2026-11-16 11:00:00 UTC on Loading bay (cam4)",))),  # noqa: E501
    Case("When did I last see Person_00ABCDEF?", "last_seen", expect(cites_exactly=("P1",), facts={"person": PERSON_P})),  # noqa: E501
    Case("When did I last see Wei Chen?", "last_seen", expect(cites_exactly=(), says=("Wei Chen has no recorded sighting",))),  # noqa: E501
    Case("When did I last see John yesterday?", "last_seen", expect(cites_exactly=("J4",), rng=(at(22, 0), at(23, 0)))),  # noqa: E501
    Case("when did i last see john carter on the front gate camera", "last_seen", expect(cites_exactly=("J4",))),  # noqa: E501
    Case("How many times was John seen this week?", "times_seen", expect(facts={"appeared": 1, "recognised": 1}, cites=("J1", "J2"))),  # noqa: E501
    Case("How many times was Sarah seen last week?", "times_seen", expect(facts={"appeared": 2, "recognised": 0}, rng=LAST_WEEK)),  # noqa: E501
    # -- who was on a camera
    Case("Who was on camera 2 between 9 and 10?", "who", expect(facts={"camera": "cam2"}, rng=(at(23, 9), at(23, 10)), named=(JOHN, AHMED), cites=("J1", "A1"), truth=lambda t, a, b: {"people_seen": t.people(a, b, "cam2")})),  # noqa: E501
    Case("Who did the Lobby camera see between 9am and 10am today?", "who", expect(facts={"camera": "cam2"}, rng=(at(23, 9), at(23, 10)), named=(JOHN, AHMED), truth=lambda t, a, b: {"people_seen": t.people(a, b, "cam2")})),  # noqa: E501
    Case("Who was on the car park camera on 2026-11-21 between 17:00 and 18:00?", "who", expect(facts={"camera": "cam3"}, rng=(at(21, 17), at(21, 18)), named=(SARAH,), cites=("S1",), truth=lambda t, a, b: {"people_seen": t.people(a, b, "cam3")})),  # noqa: E501
    Case("Who was seen on camera 7 this morning?", "who", expect(facts={"camera": "cam7"}, rng=(at(23, 5), NOW), named=(AHMED,), cites=("A2",), truth=lambda t, a, b: {"people_seen": t.people(a, b, "cam7")})),  # noqa: E501
    Case("How many people were seen on camera 6 last night?", "who", expect(facts={"camera": "cam6"}, rng=(at(22, 18), at(23, 6)), truth=lambda t, a, b: {"people_seen": t.people(a, b, "cam6")})),  # noqa: E501
    Case("Who was on cam1 yesterday?", "who", expect(facts={"camera": "cam1"}, rng=(at(22, 0), at(23, 0)), truth=lambda t, a, b: {"people_seen": t.people(a, b, "cam1"), "named_people_seen": t.people(a, b, "cam1", named=True)})),  # noqa: E501
    Case("Who was on cam1 yesterday afternoon?", "who", expect(facts={"camera": "cam1"}, rng=(at(22, 12), at(22, 17)), named=(JOHN,), cites=("J4",), truth=lambda t, a, b: {"people_seen": t.people(a, b, "cam1")})),  # noqa: E501
    # -- counts
    Case("How many people appeared today?", "count", expect(rng=(at(23, 0), NOW), facts={"kind": "person.appeared"}, truth=lambda t, a, b: {"count": t.count(a, b, "person.appeared")})),  # noqa: E501
    Case("How many events were recorded yesterday?", "count", expect(rng=(at(22, 0), at(23, 0)), truth=lambda t, a, b: {"count": t.count(a, b)})),  # noqa: E501
    Case("How many faces were recognised on camera 2 today?", "count", expect(facts={"camera": "cam2"}, truth=lambda t, a, b: {"count": t.count(a, b, "face.recognised", "cam2")})),  # noqa: E501
    Case("How many people left camera 3 on 2026-11-21?", "count", expect(facts={"camera": "cam3"}, rng=(at(21, 0), at(22, 0)), truth=lambda t, a, b: {"count": t.count(a, b, "person.left", "cam3")})),  # noqa: E501
    Case("How many movements in the last 3 hours?", "count", expect(rng=(at(23, 9), NOW), truth=lambda t, a, b: {"count": t.count(a, b, "sensing.blob_appeared")})),  # noqa: E501
    Case("Count the person appearances on the loading bay camera this week", "count", expect(facts={"camera": "cam4"}, rng=WEEK, truth=lambda t, a, b: {"count": t.count(a, b, "person.appeared", "cam4")})),  # noqa: E501
    Case("How many falls this week?", "falls", expect(facts={"count": 1}, cites_exactly=("F1",))),
    Case("How many falls last week?", "falls", expect(facts={"count": 2}, planted_ids={"event_ids": ("F2", "F3")})),  # noqa: E501
    Case("How many alerts yesterday?", "alerts", expect(facts={"count": 1}, planted_ids={"alert_ids": ("AL3",)})),  # noqa: E501
    Case("How many incidents this month?", "incidents", expect(facts={"count": 3})),
    Case("How many events in the last hour?", "count", expect(rng=(at(23, 11), NOW), truth=lambda t, a, b: {"count": t.count(a, b)})),  # noqa: E501
    # -- what happened
    Case("What happened around 9:15?", "what_happened", expect(rng=(at(23, 9), at(23, 9, 30)), cites=("J1",), truth=lambda t, a, b: {"count": t.count(a, b)}, named=(JOHN,))),  # noqa: E501
    Case("What happened at 8:05 this morning?", "what_happened", expect(planted_ids={"falls": ("F1",), "alerts": ("AL1",)}, cites=("F1",), truth=lambda t, a, b: {"count": t.count(a, b)})),  # noqa: E501
    Case("What happened on camera 3 between 17:30 and 17:50 on 2026-11-21?", "what_happened", expect(facts={"camera": "cam3"}, named=(SARAH,), cites=("S1",), truth=lambda t, a, b: {"count": t.count(a, b, camera="cam3")})),  # noqa: E501
    Case("What happened yesterday around 14:05?", "what_happened", expect(rng=(at(22, 13, 50), at(22, 14, 20)), planted_ids={"alerts": ("AL3",)}, named=(JOHN,), cites=("J4",), truth=lambda t, a, b: {"count": t.count(a, b), "named_people_seen": t.people(a, b, named=True)})),  # noqa: E501
    Case("What happened between 3 and 4 on 2026-11-19?", "what_happened", expect(planted_ids={"falls": ("F2",)}, cites=("F2",), truth=lambda t, a, b: {"count": t.count(a, b)})),  # noqa: E501
    Case("Anything unusual in the last 4 hours?", "what_happened", expect(rng=(at(23, 8), NOW), planted_ids={"falls": ("F1",)}, truth=lambda t, a, b: {"count": t.count(a, b)})),  # noqa: E501
    # -- falls, alerts, incidents in a period
    Case("Were there any falls this week?", "falls", expect(facts={"count": 1}, cites_exactly=("F1",), says=("2026-11-23 08:05:00 UTC in ward",))),  # noqa: E501
    Case("Did anyone fall last week?", "falls", expect(facts={"count": 2}, cites_exactly=("F2", "F3"))),  # noqa: E501
    Case("Were there any falls yesterday?", "falls", expect(facts={"count": 0}, cites_exactly=(), says=("No falls were recorded yesterday",))),  # noqa: E501
    Case("Any falls this month?", "falls", expect(facts={"count": 4}, cites_exactly=("F1", "F2", "F3", "F4"))),  # noqa: E501
    Case("Any critical alerts this week?", "alerts", expect(planted_ids={"alert_ids": ("AL1",)}, cites_exactly=("F1",))),  # noqa: E501
    Case("Were there any fall alerts last week?", "alerts", expect(planted_ids={"alert_ids": ("AL2",)}, cites_exactly=("F2",))),  # noqa: E501
    Case("Any alerts on 2026-11-21?", "alerts", expect(planted_ids={"alert_ids": ("AL4",)}, says=("Loitering in the car park",))),  # noqa: E501
    Case("Were there any theft incidents last week?", "incidents", expect(planted_ids={"incident_ids": ("I1", "I3")}, facts={"category": "theft"})),  # noqa: E501
    Case("Any incidents on 2026-11-10?", "incidents", expect(planted_ids={"incident_ids": ("I2",)})),  # noqa: E501
]  # fmt: skip

OUT_OF_SCOPE = [
    "What's the weather like tomorrow?",
    "Tell me a joke",
    "Who will be on camera 2 tomorrow?",
    "Why did John leave so early?",
    "Is John Carter a thief?",
    "Delete all events from yesterday",
    "What colour was the car in the car park?",
    "How do I add a new camera?",
    "What is 17 times 23?",
    "Write a poem about the lobby",
    "Which employee is the most productive?",
    "How many coffees did Sarah drink today?",
    "What will happen next week?",
    "Predict the next fall",
    "What is Sarah's phone number?",
    "Turn off camera 3",
    "What did John say at 3pm?",
    "When did I last see Zoe Baker?",  # nobody of that name
    "Who was on camera 12 today?",  # no such camera
    "When did I last see Visitor?",  # several people match: ambiguous
]


def run(db_url: str | None = None, events: int = EVENTS) -> dict[str, Any]:
    """Figures for SQLite, and for PostgreSQL when a server is named. Takes minutes."""
    figures: dict[str, Any] = {
        "events": events,
        "questions": len(CASES),
        "out_of_scope_questions": len(OUT_OF_SCOPE),
    }
    with tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp:
        figures["sqlite"] = _measure(f"sqlite:///{Path(tmp) / 'chat.db'}", events)
    pg_url = db_url or os.environ.get("WATCHFLOOR_TEST_PG_URL")
    if pg_url and make_url(pg_url).get_backend_name() == "postgresql":
        with _fresh_pg_database(pg_url) as url:
            figures["postgresql"] = _measure(url, events)
    backends = [figures[b] for b in ("sqlite", "postgresql") if b in figures]
    figures["targets_met"] = all(
        b["accuracy"] == 1.0 and b["invented"] == 0 and b["p95_ms"] < 300.0 for b in backends
    )
    return figures


def _measure(url: str, events: int) -> dict[str, Any]:
    store = Store(url)
    try:
        started = time.perf_counter()
        plant = _generate(store, events)
        figures: dict[str, Any] = {"load_s": round(time.perf_counter() - started, 1)}
        truth = Truth(store, plant)
        answerer = OfflineAnswerer(store)
        wrong: dict[str, str] = {}
        for case in CASES:
            answer = answerer.answer(case.question, NOW)
            problem = (
                f"form {answer.form}, expected {case.form}: {answer.text[:120]}"
                if answer.form != case.form
                else case.check(answer, truth, plant)
            )
            if problem is not None:
                wrong[case.question] = problem
        invented = []
        for question in OUT_OF_SCOPE:
            answer = answerer.answer(question, NOW)
            if answer.answered or answer.citations:
                invented.append(question)
        timings: list[tuple[float, str]] = []
        for _ in range(REPEATS):
            for question in [c.question for c in CASES] + OUT_OF_SCOPE:
                begun = time.perf_counter()
                answerer.answer(question, NOW)
                timings.append(((time.perf_counter() - begun) * 1000.0, question))
        ms = sorted(t for t, _ in timings)
        figures.update(
            {
                "accuracy": round((len(CASES) - len(wrong)) / len(CASES), 4),
                "correct": len(CASES) - len(wrong),
                "wrong": wrong,
                "invented": len(invented),
                "invented_questions": invented,
                "answers_timed": len(ms),
                "p50_ms": round(statistics.median(ms), 2),
                "p95_ms": round(statistics.quantiles(ms, n=20)[18], 2),
                "max_ms": round(ms[-1], 2),
                "slowest": max(timings)[1],
            }
        )
        return figures
    finally:
        store.close()


def _generate(store: Store, count: int) -> Plant:
    """Bulk-insert the site, cameras, people, ``count`` noise events, clips and the planted
    facts. Writes directly (a benchmark fixture, not the engine)."""
    rng = random.Random(SEED)
    plant = Plant()
    sqlite = store.backend == "sqlite"
    with store.transaction() as session:
        site_id = session.execute(
            insert(Site).returning(Site.id),
            [{"name": "Bench", "geo_lat": 51.5, "geo_lon": -0.1, "updated_at": NOW}],
        ).scalar_one()
        for key, name in CAMERAS:
            plant.cameras[key] = session.execute(
                insert(Camera).returning(Camera.id),
                [
                    {
                        "site_id": site_id,
                        "key": key,
                        "name": name,
                        "url": f"{key}.mp4",
                        "source_kind": "file",
                    }
                ],
            ).scalar_one()
        people: dict[str, int] = {}
        for public_id, person_name in PLANTED_PEOPLE:
            people[person_name or public_id] = session.execute(
                insert(Person).returning(Person.id),
                [{"public_id": public_id, "name": person_name, "appearances": 1}],
            ).scalar_one()
        session.execute(
            insert(Person),
            [
                {
                    "public_id": f"Person_{0x1000 + i:08X}",
                    "name": f"Visitor {i}" if rng.random() < NAMED_SHARE else None,
                    "appearances": 1,
                }
                for i in range(PERSONS)
            ],
        )
        noise_people = list(
            session.scalars(select(Person.id).where(Person.public_id.like("Person_00001%")))
        )

    def when(at_: datetime) -> Any:
        return at_.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at_

    start = NOW - SPAN
    span_s = (SPAN - timedelta(minutes=1)).total_seconds()
    rows = []
    for _ in range(count):
        ts = when(start + timedelta(seconds=rng.random() * span_s))
        roll = rng.random()
        if roll < 0.6:
            camera = rng.choice(CAMERAS)[0]
            kind = rng.choice(PERSON_KINDS)
            person: int | None = rng.choice(noise_people)
            source, camera_id = f"camera:{camera}", plant.cameras[camera]
        elif roll < 0.7:
            kind, person, camera_id = rng.choice(SENSING_KINDS), None, None
            source = f"sensing:{rng.choice(('ward', 'lab'))}"
        else:
            camera = rng.choice(CAMERAS)[0]
            kind, person = rng.choice(OTHER_KINDS), None
            source, camera_id = f"camera:{camera}", plant.cameras[camera]
        rows.append((ts, kind, source, site_id, camera_id, rng.randrange(1, 50_000), person, "{}"))
    clips = []
    every_s = 3600 / CLIPS_PER_CAMERA_HOUR
    for key, _name in CAMERAS:
        t = rng.uniform(0, every_s)
        while t < SPAN.total_seconds():
            begun = start + timedelta(seconds=t)
            clips.append(
                (
                    "clip",
                    f"clips/{key}/{int(t)}.mp4",
                    "0" * 64,
                    1,
                    when(begun),
                    plant.cameras[key],
                    False,
                    when(begun),
                    when(begun + timedelta(seconds=CLIP_S)),
                )
            )
            t += every_s
    bulk_load(store, rows, clips, analyze=False)
    with store.transaction() as session:
        for plant_name, ts, kind, source, who in PLANTED_EVENTS:
            planted_key = source.removeprefix("camera:") if source.startswith("camera:") else None
            plant.ids[plant_name] = session.execute(
                insert(Event).returning(Event.id),
                [
                    {
                        "ts": ts,
                        "kind": kind,
                        "source": source,
                        "site_id": site_id,
                        "camera_id": plant.cameras[planted_key] if planted_key else None,
                        "track_id": 9,
                        "person_id": people[who] if who else None,
                        "detail": {"name": None} if kind.startswith("sensing.") else {},
                    }
                ],
            ).scalar_one()
        for name, raised, kind, severity, title, event in PLANTED_ALERTS:
            plant.ids[name] = session.execute(
                insert(Alert).returning(Alert.id),
                [
                    {
                        "raised_at": raised,
                        "kind": kind,
                        "source": "sensing:ward" if kind == "fall" else "camera:cam1",
                        "severity": severity,
                        "title": title,
                        "site_id": site_id,
                        "event_id": plant.ids[event] if event else None,
                        "detail": {},
                        "last_seen_at": raised,
                    }
                ],
            ).scalar_one()
        for name, occurred, category in PLANTED_INCIDENTS:
            plant.ids[name] = session.execute(
                insert(Incident).returning(Incident.id),
                [
                    {
                        "occurred_at": occurred,
                        "last_report_at": occurred,
                        "latitude": 51.5,
                        "longitude": -0.1,
                        "cell": 1,
                        "site_id": site_id,
                        "category": category,
                        "severity": 2,
                        "confidence": 0.8,
                        "classifier": "keywords",
                        "category_basis": "single",
                        "llm_pending": False,
                        "report_count": 1,
                        "reporter_count": 1,
                    }
                ],
            ).scalar_one()
        session.execute(
            insert(Media),
            [
                {
                    "kind": "clip",
                    "path": "clips/cam2/planted-john.mp4",
                    "sha256": "0" * 64,
                    "size_bytes": 1,
                    "created_at": at(23, 9, 12, 10),
                    "camera_id": plant.cameras["cam2"],
                    "started_at": at(23, 9, 11, 58),
                    "ended_at": at(23, 9, 12, 6),
                }
            ],
        )
    if not sqlite:
        with store.engine.connect() as connection:
            connection.execute(text("ANALYZE"))  # what autovacuum does after a bulk load
            connection.commit()
    return plant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", help="a PostgreSQL server URL to measure too (in a throwaway database)"
    )
    parser.add_argument("--events", type=int, default=EVENTS)
    args = parser.parse_args()
    print(json.dumps({"benchmark": "chat", **run(args.db, args.events)}), flush=True)


if __name__ == "__main__":
    main()
