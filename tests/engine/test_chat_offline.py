"""Offline chat answers (``engine.history.chat.offline``): each supported question form
answered from a seeded store (SQLite and PostgreSQL) with the facts and citations the
records hold, time phrases read against a fixed clock, cameras and people resolved as
documented, and everything else refused without a guess."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from engine.clock import SimulatedClock
from engine.history.chat.offline import OfflineAnswer, OfflineAnswerer, QuestionError, _TimeParser
from engine.history.chat.tools import run_tool
from engine.sitetime import UTC_TIME, SiteTime
from engine.store import Store
from engine.store.alert_models import Alert
from engine.store.incident_models import Incident
from engine.store.models import Camera, Event, Media, Site
from engine.store.person_models import Person

pytestmark = pytest.mark.sql

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
TODAY = datetime(2026, 11, 23, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """Ids of what :func:`seed_history` stored."""

    events: dict[str, int]
    alerts: dict[str, int]
    incidents: dict[str, int]


def seed_history(store: Store) -> Seeded:
    """A small site's history: cameras ``gate`` (Front gate), ``cam2`` (Lobby) and ``yard``
    in that order; John Carter, Sarah Okafor, Johanna Berg, Sam Reed, Sam Ortiz and an
    unnamed Person_0000000C; sightings, falls, movement, alerts, incidents and one clip.
    Bulk inserts (test data, as the benchmarks write theirs)."""
    with store.transaction() as s:
        site = s.execute(
            insert(Site).returning(Site.id),
            [{"name": "Test site", "geo_lat": 51.5, "geo_lon": -0.1, "updated_at": NOW}],
        ).scalar_one()
        cams = {}
        for key, name in (("gate", "Front gate"), ("cam2", "Lobby"), ("yard", "Yard")):
            cams[key] = s.execute(
                insert(Camera).returning(Camera.id),
                [
                    {
                        "site_id": site,
                        "key": key,
                        "name": name,
                        "url": f"{key}.mp4",
                        "source_kind": "file",
                    }
                ],
            ).scalar_one()
        people = {}
        for public_id, name in (
            ("Person_0000000A", "John Carter"),
            ("Person_0000000B", "Sarah Okafor"),
            ("Person_0000000C", None),
            ("Person_0000000D", "Johanna Berg"),
            ("Person_0000000E", "Sam Reed"),
            ("Person_0000000F", "Sam Ortiz"),
        ):
            people[public_id] = s.execute(
                insert(Person).returning(Person.id),
                [{"public_id": public_id, "name": name, "appearances": 1}],
            ).scalar_one()
        john, sarah, anon = (
            people["Person_0000000A"],
            people["Person_0000000B"],
            people["Person_0000000C"],
        )

        def event(
            name: str,
            ts: datetime,
            kind: str,
            source: str,
            person: int | None = None,
            detail: dict[str, Any] | None = None,
        ) -> tuple[str, int]:
            camera = source.removeprefix("camera:") if source.startswith("camera:") else None
            row = {
                "ts": ts,
                "kind": kind,
                "source": source,
                "site_id": site,
                "camera_id": cams.get(camera) if camera else None,
                "track_id": 7,
                "person_id": person,
                "detail": detail or {},
            }
            return name, s.execute(insert(Event).returning(Event.id), [row]).scalar_one()

        at = TODAY.replace
        events = dict(
            [
                event("john_gate_yesterday", at(day=22, hour=14), "person.appeared", "camera:gate", john),  # noqa: E501
                event("sarah_gate", at(day=20, hour=8, minute=15), "person.appeared", "camera:gate", sarah),  # noqa: E501
                event("john_lobby", at(hour=9, minute=30), "person.appeared", "camera:cam2", john),
                event("john_face", at(hour=9, minute=30, second=2), "face.recognised", "camera:cam2", john),  # noqa: E501
                event("anon_lobby", at(hour=9, minute=45), "person.appeared", "camera:cam2", anon),
                event("john_left", at(hour=10, minute=41), "person.left", "camera:cam2", john),
                event("yard_motion", at(hour=10, minute=5), "camera.offline", "camera:yard"),
                event("fall_sunday", at(day=22, hour=7, minute=10), "sensing.fall_detected", "sensing:ward", None, {"name": None}),  # noqa: E501
                event("fall_today", at(hour=8, minute=5), "sensing.fall_detected", "sensing:ward", None, {"name": None}),  # noqa: E501
                event("blob_today", at(hour=8, minute=1), "sensing.blob_appeared", "sensing:ward"),
            ]
        )  # fmt: skip
        alerts = {}
        for name, raised, kind, severity, title, event_id in (
            ("fall", at(hour=8, minute=5), "fall", "critical", "Fall: someone fell in ward", events["fall_today"]),  # noqa: E501
            ("gate", at(day=22, hour=14), "person", "warning", "Person at the front gate", None),
        ):  # fmt: skip
            alerts[name] = s.execute(
                insert(Alert).returning(Alert.id),
                [
                    {
                        "raised_at": raised,
                        "kind": kind,
                        "source": "sensing:ward" if kind == "fall" else "camera:gate",
                        "severity": severity,
                        "title": title,
                        "site_id": site,
                        "event_id": event_id,
                        "detail": {},
                        "last_seen_at": raised,
                    }
                ],
            ).scalar_one()
        incidents = {}
        for name, occurred, category in (
            ("theft", at(day=18, hour=16), "theft"),
            ("fire", at(day=10, hour=3), "fire"),
        ):
            incidents[name] = s.execute(
                insert(Incident).returning(Incident.id),
                [
                    {
                        "occurred_at": occurred,
                        "last_report_at": occurred,
                        "latitude": 51.5,
                        "longitude": -0.1,
                        "cell": 1,
                        "site_id": site,
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
        s.execute(
            insert(Media),
            [
                {
                    "kind": "clip",
                    "path": "clips/cam2/2026-11-23T0929.mp4",
                    "sha256": "0" * 64,
                    "size_bytes": 10,
                    "created_at": at(hour=9, minute=30, second=5),
                    "camera_id": cams["cam2"],
                    "started_at": at(hour=9, minute=29, second=55),
                    "ended_at": at(hour=9, minute=30, second=5),
                }
            ],
        )
    return Seeded(events, alerts, incidents)


@pytest.fixture
def seeded(db_url: str) -> Any:
    store = Store(db_url)
    ids = seed_history(store)
    yield store, ids
    store.close()


def ask(store: Store, question: str) -> OfflineAnswer:
    return OfflineAnswerer(store).answer(question, SimulatedClock(NOW).now())


def cited(answer: OfflineAnswer) -> list[int]:
    return [c.event_id for c in answer.citations]


def test_last_seen_names_the_time_the_camera_and_the_clip(seeded: Any) -> None:
    store, ids = seeded
    answer = ask(store, "When did I last see John?")
    assert answer.answered and answer.form == "last_seen"
    assert cited(answer) == [ids.events["john_left"]]
    assert "John Carter was last seen at 2026-11-23 10:41:00 UTC on Lobby (cam2)" in answer.text
    # With a camera and a day: the gate yesterday.
    on_gate = ask(store, "When was John last seen on the front gate camera?")
    assert cited(on_gate) == [ids.events["john_gate_yesterday"]]
    assert "2026-11-22 14:00:00 UTC" in on_gate.text
    # By public id, case-insensitively; the citation carries the covering clip.
    by_id = ask(store, "when did we last see person_0000000a on camera 2 between 9 and 10")
    [citation] = by_id.citations
    assert citation.event_id == ids.events["john_face"]
    assert (citation.camera, citation.clip_path) == ("cam2", "clips/cam2/2026-11-23T0929.mp4")
    assert citation.clip_offset_s == pytest.approx(7.0)
    assert "Clip: clips/cam2/2026-11-23T0929.mp4 at 7 s" in by_id.text
    where = ask(store, "Where was Sarah last seen?")
    assert (
        "Sarah Okafor was last seen at 2026-11-20 08:15:00 UTC on Front gate (gate)" in where.text
    )
    none_today = ask(store, "Has Sarah been seen today?")
    assert none_today.answered and none_today.citations == ()
    assert none_today.text == "Sarah Okafor has no recorded sighting today."


def test_an_unknown_or_ambiguous_person_is_never_guessed(seeded: Any) -> None:
    store, _ = seeded
    for question, says in (
        ("When did I last see Zoe?", "I have no record of anyone called \u201cZoe\u201d."),
        ("When did I last see Jo?", "I have no record of anyone called \u201cJo\u201d."),
        ("When was Sam last seen?", "Several people match 'sam': Sam Reed (Person_0000000E)"),
        ("When did I last see him?", "Whom do you mean?"),
        ("Did we see a red car?", "I have no record of anyone called \u201ca red car\u201d."),
    ):
        answer = ask(store, question)
        assert (answer.answered, answer.citations) == (False, ()), question
        assert says in answer.text, answer.text
        assert "I can answer: when someone was last seen" in answer.text


def test_who_was_on_a_camera_in_a_range(seeded: Any) -> None:
    store, ids = seeded
    answer = ask(store, "Who was on camera 2 between 9 and 10?")
    assert answer.form == "who" and answer.answered
    assert answer.facts["camera"] == "cam2" and answer.facts["people_seen"] == 2
    assert answer.facts["range"] == {"start": "2026-11-23T09:00:00Z", "end": "2026-11-23T10:00:00Z"}
    # People, not tracks: both are known (John by his face, the other by an automatic id).
    assert answer.text == (
        "2 people were seen on Lobby (cam2) between 09:00 and 10:00 UTC on 2026-11-23, each "
        "known by name, id or path across senses: John Carter and Person_0000000C (1 camera "
        "track). Seen by name: John Carter 09:30."
    )
    assert (answer.facts["people"], answer.facts["everyone_known"]) == (2, True)
    assert cited(answer) == [ids.events["john_lobby"]]
    # "camera 3": no camera carries the number 3, so the third in site order (yard).
    yard = ask(store, "Who was on camera 3 today?")
    assert yard.facts["camera"] == "yard" and yard.text.startswith("Nobody was seen on Yard")
    # A camera named by its name; every camera; a key.
    assert ask(store, "Who did the front gate camera see yesterday?").facts["named"] == [
        "Person_0000000A"
    ]
    assert ask(store, "Who was seen this morning?").facts["people_seen"] == 2
    assert ask(store, "How many people were seen on cam2 today?").facts["people_seen"] == 2
    missing = ask(store, "Who was on camera 9 today?")
    assert not missing.answered and "I have no camera 9" in missing.text
    assert not ask(store, "Who was on camera parking today?").answered


def test_counts_by_type_and_range(seeded: Any) -> None:
    store, ids = seeded
    # "How many people appeared" counts people (as "who" does), not appearances.
    appeared = ask(store, "How many people appeared today?")
    assert (appeared.form, appeared.facts["people"]) == ("who", 2)
    assert cited(appeared) == [ids.events["john_lobby"]]
    assert ask(store, "How many people appeared this week on the gate?").facts["people"] == 0
    assert ask(store, "How many people appeared last week?").facts["people"] == 2
    sightings = ask(store, "How many person sightings today?")  # the rows, said as rows
    assert sightings.facts["count"] == 2 and "people" not in sightings.text
    assert ask(store, "Count the faces recognised today").facts["count"] == 1
    everything = ask(store, "How many events were recorded yesterday?")
    assert everything.facts["by_kind"] == {"person.appeared": 1, "sensing.fall_detected": 1}
    assert everything.text.startswith("2 events recorded yesterday:")
    falls = ask(store, "How many falls this week?")
    assert (falls.form, falls.facts["count"], cited(falls)) == (
        "falls",
        1,
        [ids.events["fall_today"]],
    )
    times = ask(store, "How many times was John seen this week?")
    assert (times.facts["appeared"], times.facts["recognised"]) == (1, 1)


def test_falls_alerts_and_incidents_in_a_period(seeded: Any) -> None:
    store, ids = seeded
    this_week = ask(store, "Were there any falls this week?")
    assert this_week.answered and cited(this_week) == [ids.events["fall_today"]]
    assert "1 fall recorded this week: 2026-11-23 08:05:00 UTC in ward" in this_week.text
    last_week = ask(store, "Did anyone fall last week?")
    assert cited(last_week) == [ids.events["fall_sunday"]]
    none = ask(store, "Any falls on 2026-11-21?")
    assert (none.answered, none.text, none.citations) == (
        True,
        "No falls were recorded on 2026-11-21.",
        (),
    )
    alerts = ask(store, "Any critical alerts today?")
    assert alerts.facts["alert_ids"] == [ids.alerts["fall"]]
    assert cited(alerts) == [ids.events["fall_today"]]
    assert ask(store, "How many alerts yesterday?").facts["count"] == 1
    incidents = ask(store, "Were there any theft incidents last week?")
    assert incidents.facts["incident_ids"] == [ids.incidents["theft"]]
    assert ask(store, "How many incidents this month?").facts["count"] == 2


def test_what_happened_around_a_time(seeded: Any) -> None:
    store, ids = seeded
    answer = ask(store, "What happened around 9:30?")
    assert answer.form == "what_happened"
    # "Around" is five minutes either side, and the answer says so.
    assert answer.facts["range"] == {"start": "2026-11-23T09:25:00Z", "end": "2026-11-23T09:35:00Z"}
    assert answer.text.startswith("Around 09:30 UTC (\u00b15 min) on 2026-11-23: 1 person was")
    assert answer.facts["by_kind"] == {"face.recognised": 1, "person.appeared": 1}
    assert "Named people seen: John Carter at 09:30 on Lobby (cam2)" in answer.text
    assert set(cited(answer)) == {ids.events["john_lobby"], ids.events["john_face"]}
    morning = ask(store, "What happened at 8:05 this morning?")
    assert morning.facts["falls"] == [ids.events["fall_today"]]
    assert morning.facts["alerts"] == [ids.alerts["fall"]]
    assert cited(morning)[0] == ids.events["fall_today"]
    quiet = ask(store, "What happened on camera 3 between 2am and 3am yesterday?")
    assert quiet.answered and quiet.text.startswith("Nothing was recorded on Yard (yard)")


@pytest.mark.parametrize(
    "question",
    [
        "What's the weather tomorrow?",
        "Tell me a joke",
        "Who will be on camera 2 tomorrow?",
        "Why did John leave so early?",
        "Is John Carter a thief?",
        "Delete all events from yesterday",
        "How many coffees did Sarah drink today?",
        "How many people live here?",
        "Who is the best guard?",
        "What did John say at 3pm?",
    ],
)
def test_questions_outside_the_forms_are_not_answered(seeded: Any, question: str) -> None:
    store, _ = seeded
    answer = ask(store, question)
    assert (answer.answered, answer.citations) == (False, ()), answer.text
    assert "I can answer:" in answer.text


# ------------------------------------------------------------------------------ time phrases


@pytest.mark.parametrize(
    ("phrase", "start", "end"),
    [
        ("today", "2026-11-23 00:00", "2026-11-23 12:00"),
        ("yesterday", "2026-11-22 00:00", "2026-11-23 00:00"),
        ("this week", "2026-11-23 00:00", "2026-11-23 12:00"),
        ("last week", "2026-11-16 00:00", "2026-11-23 00:00"),
        ("this morning", "2026-11-23 05:00", "2026-11-23 12:00"),
        ("yesterday afternoon", "2026-11-22 12:00", "2026-11-22 17:00"),
        ("last night", "2026-11-22 18:00", "2026-11-23 06:00"),
        ("in the last 3 hours", "2026-11-23 09:00", "2026-11-23 12:00"),
        ("in the past two days", "2026-11-21 12:00", "2026-11-23 12:00"),
        ("in the last hour", "2026-11-23 11:00", "2026-11-23 12:00"),
        ("between 9 and 10", "2026-11-23 09:00", "2026-11-23 10:00"),
        ("between 2pm and 3pm", "2026-11-22 14:00", "2026-11-22 15:00"),  # not yet today
        ("between 9 and 10 pm yesterday", "2026-11-22 21:00", "2026-11-22 22:00"),
        ("from 9:30 to 10:15 on 2026-11-20", "2026-11-20 09:30", "2026-11-20 10:15"),
        ("on 2026-11-20", "2026-11-20 00:00", "2026-11-21 00:00"),
        ("on 20 november", "2026-11-20 00:00", "2026-11-21 00:00"),
        ("on friday", "2026-11-20 00:00", "2026-11-21 00:00"),
        ("at 14:30", "2026-11-22 14:25", "2026-11-22 14:35"),
        ("at 11:30", "2026-11-23 11:25", "2026-11-23 11:35"),
        ("around 3pm yesterday", "2026-11-22 14:55", "2026-11-22 15:05"),  # ± 5 min
        ("since 8am", "2026-11-23 08:00", "2026-11-23 12:00"),
        ("this month", "2026-11-01 00:00", "2026-11-23 12:00"),
        ("yesterday evening", "2026-11-22 17:00", "2026-11-22 22:00"),
        ("in the last 30 minutes", "2026-11-23 11:30", "2026-11-23 12:00"),
        ("since 8:30", "2026-11-23 08:30", "2026-11-23 12:00"),
        ("since 14:00", "2026-11-22 14:00", "2026-11-23 12:00"),  # today's is to come
        ("between 2 and 4 pm", "2026-11-22 14:00", "2026-11-22 16:00"),
        ("on monday", "2026-11-23 00:00", "2026-11-23 12:00"),
        ("last month", "2026-10-01 00:00", "2026-11-01 00:00"),
    ],
)
def test_time_phrases_relative_to_the_clock(phrase: str, start: str, end: str) -> None:
    when, rest = _TimeParser(NOW, UTC_TIME).parse(f"what happened {phrase}")
    assert when is not None and rest == "what happened"
    assert when.start == datetime.fromisoformat(start).replace(tzinfo=UTC)
    assert when.end == datetime.fromisoformat(end).replace(tzinfo=UTC)


def test_a_time_to_come_is_not_a_range() -> None:
    with pytest.raises(QuestionError, match="what is to come"):
        _TimeParser(NOW, UTC_TIME).parse("who will come tomorrow")
    with pytest.raises(QuestionError, match="not come yet"):
        _TimeParser(NOW, UTC_TIME).parse("what happened this evening")
    assert _TimeParser(NOW, UTC_TIME).parse("when did i last see john") == (
        None,
        "when did i last see john",
    )


@pytest.mark.parametrize(
    ("zone", "now", "phrase", "start", "end", "label"),
    [
        # 17:30 in Kolkata (+05:30): its afternoon has begun, UTC's has not.
        ("Asia/Kolkata", NOW, "this afternoon", "2026-11-23 06:30", "2026-11-23 11:30", "this afternoon"),  # noqa: E501
        ("Asia/Kolkata", NOW, "today", "2026-11-22 18:30", "2026-11-23 12:00", "today"),
        ("Asia/Kolkata", NOW, "at 14:30", "2026-11-23 08:55", "2026-11-23 09:05", "at 14:30 IST (\u00b15 min) on 2026-11-23"),  # noqa: E501
        # 04:00 in Los Angeles (-08:00): still the 23rd, whose 9 to 10 has not come yet,
        # so it is the 22nd's.
        ("America/Los_Angeles", NOW, "yesterday", "2026-11-22 08:00", "2026-11-23 08:00", "yesterday"),  # noqa: E501
        ("America/Los_Angeles", NOW, "between 9 and 10", "2026-11-22 17:00", "2026-11-22 18:00", "between 09:00 and 10:00 PST on 2026-11-22"),  # noqa: E501
        # ...and "tonight" is the night under way, begun yesterday evening.
        ("America/Los_Angeles", NOW, "tonight", "2026-11-23 02:00", "2026-11-23 12:00", "tonight"),
        ("Asia/Kolkata", datetime(2026, 11, 23, 14, tzinfo=UTC), "tonight", "2026-11-23 12:30", "2026-11-23 14:00", "tonight"),  # noqa: E501
        ("America/Los_Angeles", NOW, "in the last hour", "2026-11-23 11:00", "2026-11-23 12:00", "in the last hour"),  # noqa: E501
        # London's clocks went back on 25 October 2026: that day had 25 hours.
        ("Europe/London", datetime(2026, 10, 26, 12, tzinfo=UTC), "yesterday", "2026-10-24 23:00", "2026-10-26 00:00", "yesterday"),  # noqa: E501
    ],
)  # fmt: skip
def test_time_phrases_are_read_on_the_sites_clock(
    zone: str, now: datetime, phrase: str, start: str, end: str, label: str
) -> None:
    when, _ = _TimeParser(now, SiteTime.named(zone)).parse(f"what happened {phrase}")
    assert when is not None
    assert (when.start, when.end, when.label) == (
        datetime.fromisoformat(start).replace(tzinfo=UTC),
        datetime.fromisoformat(end).replace(tzinfo=UTC),
        label,
    )


def test_answers_reckon_today_and_this_afternoon_on_the_sites_calendar(seeded: Any) -> None:
    """Asked at 12:00 UTC, which is 17:30 in Kolkata and 04:00 in Los Angeles: "this
    afternoon" is Kolkata's (UTC's has not begun), "yesterday" and "today" are Los Angeles'
    days, and the times in the answers are on the site's clock with its zone."""
    store, ids = seeded
    kolkata = OfflineAnswerer(store, SiteTime.named("Asia/Kolkata"))
    afternoon = kolkata.answer("Who was seen this afternoon?", NOW)
    assert afternoon.answered, afternoon.text
    assert afternoon.text.startswith("2 people were seen on any camera this afternoon,")
    assert "John Carter 15:00-16:11" in afternoon.text  # 09:30-10:41 UTC
    last = kolkata.answer("When did I last see John?", NOW)
    assert "John Carter was last seen at 2026-11-23 16:11:00 IST on Lobby (cam2)" in last.text
    assert last.facts["ts"] == "2026-11-23T10:41:00Z"  # the facts stay UTC

    los_angeles = OfflineAnswerer(store, SiteTime.named("America/Los_Angeles"))
    # The fall at 07:10 UTC on the 22nd was 23:10 on the 21st there; none on the 22nd.
    yesterday = los_angeles.answer("Were there any falls yesterday?", NOW)
    assert yesterday.text == "No falls were recorded yesterday.", yesterday.text
    today = los_angeles.answer("Were there any falls today?", NOW)
    assert today.facts["event_ids"] == [ids.events["fall_today"]]
    assert "1 fall recorded today: 2026-11-23 00:05:00 PST in ward." in today.text
    # Said in UTC, a time is UTC's, and so is the answer.
    in_utc = los_angeles.answer("Were there any falls yesterday UTC?", NOW)
    assert in_utc.facts["event_ids"] == [ids.events["fall_sunday"]]
    assert "2026-11-22 07:10:00 UTC" in in_utc.text


# ------------------------------------------------------------------------------ the tools


def test_tools_check_their_arguments_and_answer_errors(seeded: Any) -> None:
    store, ids = seeded
    assert run_tool(store, NOW, "drop_tables", {}) == {
        "error": "unknown tool 'drop_tables'; tools: search_events, person_sightings, "
        "count_events, count_people, list_alerts, list_incidents, get_clips, sensing_activity, "
        "search_texts, person_paths"
    }
    assert run_tool(store, NOW, "search_texts", {}) == {"error": "missing argument 'query'"}
    assert "unknown argument 'sql'" in run_tool(store, NOW, "search_events", {"sql": "x"})["error"]
    assert run_tool(store, NOW, "search_events", {"limit": 500}) == {"error": "limit must be 1-50"}
    assert run_tool(store, NOW, "search_events", {"start": "soon"}) == {
        "error": "start: 'soon' is not an ISO 8601 time"
    }
    assert "error" in run_tool(store, NOW, "list_incidents", {"category": "arson"})
    found = run_tool(
        store, NOW, "search_events", {"person": "John Carter", "start": "2026-11-23T00:00:00Z"}
    )
    assert [e["id"] for e in found["events"]] == [
        ids.events["john_left"],
        ids.events["john_face"],
        ids.events["john_lobby"],
    ]
    clips = run_tool(store, NOW, "get_clips", {"event_ids": [ids.events["john_lobby"], 99999]})
    assert clips["clips"] == [
        {
            "event_id": ids.events["john_lobby"],
            "clip_path": "clips/cam2/2026-11-23T0929.mp4",
            "offset_s": 5.0,
        }
    ]
    assert clips["unknown_event_ids"] == [99999]
    # Cameras as the offline answers read them: key, name, or "camera N".
    for reference, key in (
        ("cam2", "cam2"),
        ("Lobby", "cam2"),
        ("camera 3", "yard"),
        ("1", "gate"),
    ):
        found = run_tool(store, NOW, "search_events", {"camera": reference, "limit": 1})
        assert [e["camera"] for e in found["events"]] == [key], reference
    assert run_tool(store, NOW, "search_events", {"camera": "camera 9"})["note"] == (
        "no camera 'camera 9' (cameras: gate, cam2, yard)"
    )
    sensing = run_tool(store, NOW, "sensing_activity", {"start": "2026-11-23T00:00:00Z"})
    assert sensing["rooms"] == {"ward": {"sensing.blob_appeared": 1, "sensing.fall_detected": 1}}
    assert sensing["events"][0]["id"] == ids.events["fall_today"]


def test_an_event_of_the_current_second_is_in_a_range_ending_now(seeded: Any) -> None:
    """A range that ends now ends at now, not at the whole second before it: an event
    stored 0.3 s before the question, in the same second, is found and cited."""
    store, _ = seeded
    moment = NOW.replace(hour=11, minute=40, microsecond=200_000)
    with store.transaction() as s:
        site = s.execute(select(Site.id)).scalar_one()
        gate = s.execute(select(Camera.id).where(Camera.key == "gate")).scalar_one()
        fresh = s.execute(
            insert(Event).returning(Event.id),
            [
                {
                    "ts": moment,
                    "kind": "person.appeared",
                    "source": "camera:gate",
                    "site_id": site,
                    "camera_id": gate,
                    "track_id": 42,
                    "detail": {},
                }
            ],
        ).scalar_one()
    asked_at = moment + timedelta(milliseconds=300)
    answer = OfflineAnswerer(store).answer(
        "What happened in the last hour on camera gate?", asked_at
    )
    assert answer.answered, answer.text
    assert fresh in cited(answer), answer.text
    assert answer.facts["by_kind"] == {"person.appeared": 1}


def test_people_without_a_recognised_face_are_counted_too(seeded: Any) -> None:
    """Five tracks on the yard this morning, one after another, one of whose face was
    recognised: the unrecognised tracks are said (the plaza camera of the demo site once
    answered "Nobody was seen" with 200 people appeared), but as tracks, not as five
    people: one at a time, so at least one person, Sarah."""
    store, _ids = seeded
    with store.transaction() as s:
        yard = s.scalar(select(Camera.id).where(Camera.key == "yard"))
        sarah = s.scalar(select(Person.id).where(Person.public_id == "Person_0000000B"))
        rows = []
        for n, track in enumerate(range(101, 106)):
            ts = NOW - timedelta(hours=2) + timedelta(minutes=5 * n)  # 10:00-10:20
            for kind in ("person.appeared", "person.left"):
                rows.append(
                    {
                        "ts": ts if kind == "person.appeared" else ts + timedelta(seconds=40),
                        "kind": kind,
                        "source": "camera:yard",
                        "camera_id": yard,
                        "track_id": track,
                        "person_id": sarah if (track == 103 and kind == "person.left") else None,
                        "detail": {"track_id": track},
                    }
                )
        s.execute(insert(Event), rows)
    answer = ask(store, "Who was on camera 3 today?")
    assert (answer.facts["people"], answer.facts["at_once"]) == (1, 1)
    assert (answer.facts["camera_tracks"], answer.facts["unknown_tracks"]) == (5, 4)
    assert answer.text.startswith(
        "At least 1 person was seen on Yard (yard) today: at most 1 at once, 1 known (Sarah "
        "Okafor); 5 camera tracks, 4 of them of someone not known (tracks are not people)."
    )
    count = ask(store, "How many people were seen on the yard this morning?")
    assert count.facts["people"] == 1 and count.facts["camera_tracks"] == 5
    assert ask(store, "Who was on camera 3 yesterday?").text.startswith("Nobody was seen")


@pytest.mark.parametrize(
    "question",
    [
        "Was anyone seen on the lobby camera today?",
        "Was anybody on camera 2 today?",
        "Did anyone appear on cam2 today?",
        "Has anyone been seen on the Lobby today?",
    ],
)
def test_yes_or_no_questions_about_people_are_understood(seeded: Any, question: str) -> None:
    store, _ids = seeded
    answer = ask(store, question)
    assert answer.answered and answer.form == "who", answer.text
    assert answer.facts["camera"] == "cam2" and answer.facts["people"] == 2
