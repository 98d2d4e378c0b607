"""Ask about people's paths across senses (offline answers and the ``person_paths`` tool),
on a site whose history was written through the real store writer: camera tracks and
rooms' blobs as the camera workers and sensing rooms file them, and each finished path as
the fusion service files it (its :class:`~engine.fusion.service.FusionRecord` published on
the bus the writer listens to). Times are the site's (Europe/Berlin, CET in November)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import insert

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.fusion.associate import FusionChange, PersonView, Segment
from engine.fusion.service import FusionRecord
from engine.history.chat import ChatService
from engine.history.chat.offline import OfflineAnswer, OfflineAnswerer
from engine.history.chat.tools import event_ids_in, run_tool
from engine.history.paths import query_paths
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.models import Media
from engine.store.person_models import Person
from engine.store.sites import SyncSite
from engine.store.writer import StoreWriter
from tests.actors import INVESTIGATOR
from tests.conftest import write_site
from tests.engine.test_chat_llm import API_KEY, Api, streamed, tool_results

BERLIN = SiteTime.named("Europe/Berlin")
DAY = "2026-11-26"
NOW = BERLIN.to_utc(datetime.fromisoformat(f"{DAY}T17:00"))
ADA, JOHN = "Person_0000AD01", "Person_0000B001"
NAMES = {"east": "Plaza east", "gate": "Front gate", "lobby": "Lobby", "store": "Store room"}

SITE = """
[[rooms]]
id = "lobby"
name = "Lobby"
width_m = 6.0
depth_m = 5.0
height_m = 3.0
origin = { x = 1.0, y = 0.5 }
port = 8765

[[rooms]]
id = "store"
name = "Store room"
width_m = 4.0
depth_m = 4.0
height_m = 3.0
origin = { x = 8.0, y = 0.5 }
port = 8766

[[sensing_nodes]]
id = "a"
room = "lobby"
position = { x = 0.1, y = 0.1, z = 1.0 }

[[sensing_nodes]]
id = "b"
room = "lobby"
position = { x = 5.9, y = 4.9, z = 1.0 }

[[sensing_nodes]]
id = "c"
room = "store"
position = { x = 0.1, y = 0.1, z = 1.0 }

[[sensing_nodes]]
id = "d"
room = "store"
position = { x = 3.9, y = 3.9, z = 1.0 }
"""
CAMERAS = (
    '[[cameras]]\nid = "east"\nname = "Plaza east"\nurl = "rtsp://cam/1"\n\n'
    '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "rtsp://cam/2"\n'
)


def at(hhmm: str) -> datetime:
    """A time of the day on the site's clock, as UTC."""
    return BERLIN.to_utc(datetime.fromisoformat(f"{DAY}T{hhmm}"))


@dataclass(frozen=True)
class History:
    """The store and the ids of the paths it holds, by whose they are."""

    store: Store
    paths: dict[str, int]


# Each path: who (name, what named them, public id), its stretches (sense, source, member
# id, from, to), the place it ended in. Ada: the brief's example. Someone nobody named went
# from the lobby (two blobs: the room lost and found them) into the store room. Bo, a name
# only an introduction gave, from the front gate through the lobby into the store room.
# Someone else from Plaza east through the lobby to the front gate: two camera tracks.
PATHS: dict[str, tuple[tuple[str | None, str | None, str | None], list[tuple]]] = {
    "ada": (
        ("Ada", "ble", ADA),
        [
            ("camera", "east", 7, "14:02", "14:04"),
            ("sensing", "lobby", 12, "14:04", "14:09"),
            ("ble", "02:57:46:42:00:01", None, "14:02", "14:09"),
        ],
    ),
    "unknown": (
        (None, None, None),
        [
            ("sensing", "lobby", 20, "14:20", "14:21"),
            ("sensing", "lobby", 22, "14:21", "14:22"),
            ("sensing", "store", 21, "14:22", "14:30"),
        ],
    ),
    "bo": (
        ("Bo", "introduced", None),
        [
            ("camera", "gate", 31, "15:00", "15:01"),
            ("sensing", "lobby", 30, "15:01", "15:05"),
            ("sensing", "store", 32, "15:05", "15:10"),
        ],
    ),
    "across": (
        (None, None, None),
        [
            ("camera", "east", 50, "16:10", "16:11"),
            ("sensing", "lobby", 51, "16:11", "16:13"),
            ("camera", "gate", 52, "16:13", "16:14"),
        ],
    ),
}
LABELS = {
    "02:57:46:42:00:01": "Ada's tag",
    **NAMES,
}
# Camera tracks: (camera, track, from, to, person named by a face); blobs: (room, blob,
# from, to, person a registered device named).
TRACKS = [
    ("east", 5, "10:00", "10:01", JOHN),
    ("east", 7, "14:02", "14:04", None),
    ("gate", 31, "15:00", "15:01", None),
    ("east", 50, "16:10", "16:11", None),
    ("gate", 52, "16:13", "16:14", None),
]
BLOBS = [
    ("lobby", 12, "14:04", "14:09", ADA),
    ("lobby", 20, "14:20", "14:21", None),
    ("lobby", 22, "14:21", "14:22", None),
    ("store", 21, "14:22", "14:30", None),
    ("lobby", 30, "15:01", "15:05", None),
    ("store", 32, "15:05", "15:10", None),
    ("store", 40, "15:30", "15:33", None),  # sensed alone: no path names them
    ("lobby", 51, "16:11", "16:13", None),
]


def _segments(stretches: list[tuple]) -> tuple[Segment, ...]:
    return tuple(
        Segment(sense, source, LABELS[source], member, at(a).timestamp(), at(b).timestamp())
        for sense, source, member, a, b in stretches
    )


def write_history(db_url: str, tmp_path: Path) -> History:
    site = load_site(write_site(tmp_path / "site.toml", CAMERAS, SITE))
    clock = SimulatedClock(NOW)
    store = Store(db_url)
    with store.transaction() as s:
        s.execute(
            insert(Person),
            [
                {"public_id": ADA, "name": "Ada", "appearances": 1},
                {"public_id": JOHN, "name": "John Carter", "appearances": 1},
            ],
        )
    bus = EventBus()
    with StoreWriter.running(store, clock=clock) as writer:
        ids = writer.execute(SyncSite(site=site, at=clock.now()))
        writer.register_cameras(ids.site_id, ids.cameras)
        writer.attach(bus)
        for camera, track, a, b, person in TRACKS:
            where = {"site_id": ids.site_id, "camera_id": ids.cameras[camera], "track_id": track}
            source, detail = f"camera:{camera}", {"track_id": track}
            writer.execute(InsertEvent(ts=at(a), kind="person.appeared", source=source,
                                       detail=detail, **where))  # fmt: skip
            if person is not None:
                writer.execute(InsertEvent(ts=at(a) + timedelta(seconds=2), kind="face.recognised",
                                           source=source, detail=detail, person=person, **where))  # fmt: skip  # noqa: E501
            writer.execute(InsertEvent(ts=at(b), kind="person.left", source=source,
                                       detail=detail, person=person, **where))  # fmt: skip
        for room, blob, a, b, person in BLOBS:
            for kind, ts in (("sensing.blob_appeared", at(a)), ("sensing.blob_left", at(b))):
                writer.execute(
                    InsertEvent(
                        ts=ts,
                        kind=kind,
                        source=f"sensing:{room}",
                        detail={"blob": blob},
                        site_id=ids.site_id,
                        track_id=blob,
                        person=person,
                    )
                )
        for key, ((name, named_by, public_id), stretches) in PATHS.items():
            segments = _segments(stretches)
            end = max(s.end for s in segments)
            person = PersonView(
                person_key=len(key),
                name=name,
                name_source=named_by,
                person_id=public_id,
                position=(0.0, 0.0),
                last_t=end,
                members=(),
                segments=segments,
            )
            filed = end + 30.0
            bus.publish(
                FusionRecord(
                    at=datetime.fromtimestamp(filed, UTC),
                    change=FusionChange("ended", person, filed),
                    names=NAMES,
                )
            )
    with store.transaction() as s:
        # A clip of Plaza east from just before Ada's track began.
        s.execute(
            insert(Media),
            [
                {
                    "kind": "clip",
                    "path": "clips/east/1402.mp4",
                    "sha256": "0" * 64,
                    "size_bytes": 10,
                    "created_at": at("14:02:08"),
                    "camera_id": ids.cameras["east"],
                    "started_at": at("14:01:58"),
                    "ended_at": at("14:02:08"),
                }
            ],
        )
    return History(store, _path_ids(store))


def _path_ids(store: Store) -> dict[str, int]:
    """The stored path events by whose they are (their ends tell them apart)."""
    by_end = {path.end: path.event_id for path in query_paths(store, BERLIN)}
    return {key: by_end[max(at(s[4]) for s in stretches)] for key, (_, stretches) in PATHS.items()}


@pytest.fixture
def history(db_url: str, tmp_path: Path) -> Iterator[History]:
    written = write_history(db_url, tmp_path)
    yield written
    written.store.close()


def ask(history: History, question: str) -> OfflineAnswer:
    return OfflineAnswerer(history.store, BERLIN).answer(question, NOW)


def cited(answer: OfflineAnswer) -> list[int]:
    return [c.event_id for c in answer.citations]


# ------------------------------------------------------------------------------ a person's path


@pytest.mark.sql
def test_where_someone_was_is_their_path_one_line_cited_with_the_camera_stretchs_clip(
    history: History,
) -> None:
    for question in ("Where was Ada this afternoon?", "Where has Ada been?", "Show Ada's path"):
        answer = ask(history, question)
        assert (answer.answered, answer.form) == (True, "path"), (question, answer.text)
        assert answer.text.splitlines()[1] == (
            "Ada: seen by Plaza east 14:02–14:04, sensed in Lobby 14:04–14:09, "
            f"device ‘Ada's tag’ throughout (event {history.paths['ada']})"
        ), question
        (citation,) = answer.citations
        assert citation.event_id == history.paths["ada"]
        # The clip is the camera stretch's: Plaza east from 14:01:58, Ada 2 s in.
        assert (citation.clip_path, citation.clip_offset_s) == ("clips/east/1402.mp4", 2.0)
        assert citation.summary.startswith("Ada: seen by Plaza east 14:02–14:04")
    afternoon = ask(history, "Where was Ada this afternoon?")
    assert afternoon.text.splitlines()[0] == "Ada’s path across senses this afternoon (times CET):"
    assert ask(history, "Where was Ada this morning?").text == (
        "Ada has no path across senses this morning."
    )


@pytest.mark.sql
def test_a_name_only_a_path_carries_is_found_and_cameras_outside_paths_are_said(
    history: History,
) -> None:
    bo = ask(history, "Where did Bo go today?")
    assert bo.answered, bo.text
    assert bo.text.splitlines()[1] == (
        "Bo: seen by Front gate 15:00–15:01, sensed in Lobby 15:01–15:05, "
        f"sensed in Store room 15:05–15:10 (event {history.paths['bo']})"
    )
    assert cited(bo) == [history.paths["bo"]]
    # John crossed no senses: his camera sightings are said instead, and cited.
    john = ask(history, "Show John's path")
    assert john.answered and john.form == "path"
    assert john.text == (
        "John Carter has no path across senses in all the recorded history; "
        "seen on Plaza east (east) at 10:00."
    )
    assert [c.kind for c in john.citations] == ["person.left"]
    for question, says in (
        ("Where was Zoe today?", "I have no record of anyone called “Zoe”."),
        ("Where was he?", "Whom do you mean?"),
    ):
        refused = ask(history, question)
        assert (refused.answered, refused.citations) == (False, ()), question
        assert says in refused.text


# ------------------------------------------------------------------------------ places


@pytest.mark.sql
def test_who_went_from_one_room_into_another_counts_people_nobody_named(
    history: History,
) -> None:
    answer = ask(history, "Who went from the lobby into the store room?")
    assert (answer.answered, answer.form) == (True, "went_between"), answer.text
    assert answer.text == (
        "2 people went from the Lobby into the Store room today:\n"
        "Bo: seen by Front gate 15:00–15:01, sensed in Lobby 15:01–15:05, "
        f"sensed in Store room 15:05–15:10 (event {history.paths['bo']})\n"
        "Someone unknown: sensed in Lobby 14:20–14:22, sensed in Store room 14:22–14:30 "
        f"(event {history.paths['unknown']})"
    )
    assert cited(answer) == [history.paths["bo"], history.paths["unknown"]]
    assert answer.facts["unknown"] == 1
    # The other way round nobody went; a camera is a place too; an unknown place is said.
    back = ask(history, "Who went from the store room into the lobby today?")
    assert back.text == "No path across senses went from the Store room into the Lobby today."
    from_camera = ask(history, "How many people went from plaza east into the lobby?")
    assert from_camera.facts["paths"] == [history.paths["across"], history.paths["ada"]]
    assert from_camera.text.startswith("2 people went from Plaza east (east) into the Lobby")
    garage = ask(history, "Who went from the lobby into the garage?")
    assert not garage.answered
    assert "I don’t know a place called “garage”; rooms: Lobby, Store room" in garage.text


@pytest.mark.sql
def test_who_was_in_a_room_is_everyone_sensed_there_a_path_as_one_person(
    history: History,
) -> None:
    answer = ask(history, "Who was in the store room?")
    assert (answer.answered, answer.form) == (True, "who_sensed"), answer.text
    first, *lines = answer.text.splitlines()
    # Bo and the unknown walker are each one person by their paths; the lone blob at 15:30
    # is a track nobody is known on, never in the room with another: at least two people.
    assert first == (
        "At least 2 people were sensed in the Store room today: at most 1 at once, 2 known "
        "(Bo and someone followed across senses); 3 sensing tracks, 1 of them of someone not "
        "known (tracks are not people). Known: Bo (15:05–15:10)."
    )
    assert lines == [
        "Their paths, newest first:",
        "Bo: seen by Front gate 15:00–15:01, sensed in Lobby 15:01–15:05, "
        f"sensed in Store room 15:05–15:10 (event {history.paths['bo']})",
        "Someone unknown: sensed in Lobby 14:20–14:22, sensed in Store room 14:22–14:30 "
        f"(event {history.paths['unknown']})",
    ]
    # Each path cited, then the blob of the one no path holds.
    assert cited(answer)[:2] == [history.paths["bo"], history.paths["unknown"]]
    [lone] = answer.citations[2:]
    assert (lone.kind, lone.source) == ("sensing.blob_appeared", "sensing:store")
    assert BERLIN.minutes(lone.ts) == "15:30"


@pytest.mark.sql
def test_people_sensed_are_counted_once_across_blobs_and_senses(history: History) -> None:
    lobby = ask(history, "How many people were sensed in the lobby today?")
    # Five blobs; the unknown walker's two are one path: Ada, Bo and two people unknown.
    assert lobby.facts["blobs"] == 5 and lobby.facts["everyone_sensed"] == 4
    assert lobby.text.startswith(
        "4 people were sensed in the Lobby today, each known by name, id or path across "
        "senses: Ada, Bo and 2 people followed across senses (5 sensing tracks)."
    )
    everywhere = ask(history, "How many people were sensed today?")
    # Ada, Bo, two walkers followed across senses, and a lone blob never with anyone.
    assert (everywhere.facts["blobs"], everywhere.facts["everyone_sensed"]) == (8, 4)
    assert everywhere.text.startswith("At least 4 people were sensed in any room today")
    assert ask(history, "How many people were sensed in the lobby this morning?").text == (
        "Nobody was sensed in the Lobby this morning."
    )
    gym = ask(history, "How many people were sensed in the gym today?")
    assert not gym.answered and "I don’t know a room called “gym”" in gym.text


@pytest.mark.sql
def test_camera_counts_take_a_path_as_one_person(history: History) -> None:
    """Before paths, today's cameras counted Ada and John by name and four tracks nobody's
    face was recognised on: six. Ada's track is hers, Bo's is Bo's, and the walker from
    Plaza east to the front gate is one person on two tracks: four, each told apart (an
    identity on every track), so said as people, not as "at most N at once"."""
    everyone = ask(history, "How many people were seen today?")
    assert everyone.facts["joined_by_paths"] == 2
    assert (everyone.facts["people"], everyone.facts["everyone_known"]) == (4, True)
    assert everyone.text.startswith(
        "4 people were seen on any camera today, each known by name, id or path across "
        "senses: Ada, Bo, John Carter and someone followed across senses (5 camera tracks)."
    )
    assert "Named on a path across senses: Bo (15:00-15:01)" in everyone.text
    assert history.paths["bo"] in cited(everyone)
    east = ask(history, "Who was seen on plaza east today?")
    assert east.facts["people"] == 3 and east.facts["joined_by_paths"] == 0
    assert "Named on a path across senses: Ada (14:02-14:04)" in east.text
    gate = ask(history, "How many people were seen on the front gate today?")
    assert gate.facts["people"] == 2
    assert gate.text.startswith(
        "2 people were seen on Front gate (gate) today, each known by name, id or path across "
        "senses: Bo and someone followed across senses (2 camera tracks)."
    )


# ------------------------------------------------------------------------------ the LLM's tool


@pytest.mark.sql
def test_the_person_paths_tool_returns_compact_json_the_model_can_cite(history: History) -> None:
    store, ids = history.store, history.paths
    ada = run_tool(store, NOW, "person_paths", {"person": "Ada"})
    assert ada["person"]["public_id"] == ADA
    assert ada["paths"] == [
        {
            "event_id": ids["ada"],
            "person": "Ada",
            "person_id": ADA,
            "named_by": "ble",
            "start": "2026-11-26T13:02:00Z",
            "end": "2026-11-26T13:09:00Z",
            "stretches": [
                {"sense": "camera", "place": "Plaza east", "camera": "east",
                 "from": "2026-11-26T13:02:00Z", "to": "2026-11-26T13:04:00Z"},
                {"sense": "ble", "device": "Ada's tag",
                 "from": "2026-11-26T13:02:00Z", "to": "2026-11-26T13:09:00Z"},
                {"sense": "sensing", "place": "Lobby", "room": "lobby",
                 "from": "2026-11-26T13:04:00Z", "to": "2026-11-26T13:09:00Z"},
            ],
            "clip_path": "clips/east/1402.mp4",
            "clip_offset_s": 2.0,
        }
    ]  # fmt: skip
    assert event_ids_in(ada) == {ids["ada"]}
    went = run_tool(
        store,
        NOW,
        "person_paths",
        {"place": "the lobby", "then_place": "Store room", "start": "2026-11-26T11:00:00Z"},
    )
    assert [p["event_id"] for p in went["paths"]] == [ids["bo"], ids["unknown"]]
    assert [p["person"] for p in went["paths"]] == ["Bo", None]
    assert "sensed_people" not in went
    room = run_tool(store, NOW, "person_paths", {"place": "store"})
    assert room["paths_found"] == 2
    assert room["sensed_people"] == {"count": 3, "known": ["Bo"], "unknown": 2, "at_least": False}
    camera = run_tool(store, NOW, "person_paths", {"place": "camera 2", "limit": 1})
    assert [p["event_id"] for p in camera["paths"]] == [ids["across"]]
    assert camera["truncated"] is True and camera["paths_found"] == 2
    assert run_tool(store, NOW, "person_paths", {"person": "bo"})["person"] == {
        "public_id": None,
        "name": "Bo",
    }
    assert run_tool(store, NOW, "person_paths", {"place": "garage"}) == {
        "range": {"start": None, "end": "2026-11-26T16:00:00Z"},
        "paths": [],
        "note": "no camera or sensing room called 'garage' "
        "(cameras: east, gate; rooms: Lobby, Store room)",
    }
    assert run_tool(store, NOW, "person_paths", {"person": "Zoe"})["note"] == (
        "'Zoe' names nobody on the paths"
    )
    assert run_tool(store, NOW, "person_paths", {"then_place": "lobby"}) == {
        "error": "then_place needs place (where the path went from)"
    }
    assert run_tool(store, NOW, "person_paths", {"place": "lobby", "limit": 99}) == {
        "error": "limit must be 1-50"
    }


def test_the_llm_calls_person_paths_through_the_sdk_and_cites_the_path_with_its_clip(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real anthropic SDK over httpx2.MockTransport: the scripted model asks
    person_paths, the tool runs on the store, its JSON goes back, and the answer's cited
    path carries the clip of its camera stretch; an id the tools did not return is not
    cited."""
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)  # the mock API only
    store, ids = history.store, history.paths
    api = Api(
        lambda r: streamed(
            {
                "tool": "person_paths",
                "id": "toolu_01Ada",
                "input": {
                    "person": "Ada",
                    "start": "2026-11-26T12:00:00+01:00",
                    "end": "2026-11-26T17:00:00+01:00",
                },
            },
            {
                "tool": "person_paths",
                "id": "toolu_02Went",
                "input": {"place": "Lobby", "then_place": "Store room"},
            },
            stop_reason="tool_use",
        ),
        lambda r: streamed(
            {
                "text": [
                    "Ada was seen by Plaza east 14:02–14:04 CET and sensed in the Lobby until ",
                    f"14:09 [event {ids['ada']}]. Bo and someone unknown went from the Lobby ",
                    f"into the Store room [event {ids['bo']}, {ids['unknown']}] (not [event ",
                    f"{ids['across']}]).",
                ]
            },
            stop_reason="end_turn",
        ),
    )
    chat = ChatService(
        store,
        clock=SimulatedClock(NOW),
        site_time=BERLIN,
        api_key=API_KEY,
        http_client=httpx2.Client(transport=httpx2.MockTransport(api)),
    )
    answer = chat.ask(
        "Where was Ada this afternoon, and who went from the lobby into the store room?",
        actor=INVESTIGATOR,
    )
    assert (answer.mode, answer.steps) == ("llm", 2), answer.fallback_reason
    assert [c.event_id for c in answer.citations] == [ids["ada"], ids["bo"], ids["unknown"]]
    ada = answer.citations[0]
    assert (ada.kind, ada.clip_path, ada.clip_offset_s) == (
        "person.path",
        "clips/east/1402.mp4",
        2.0,
    )
    first, second = api.bodies()
    assert "person_paths" in {tool["name"] for tool in first["tools"]}
    assert "use person_paths" in first["system"]
    results = tool_results(second)
    assert [p["event_id"] for p in results["toolu_01Ada"]["paths"]] == [ids["ada"]]
    assert results["toolu_01Ada"]["paths"][0]["stretches"][0] == {
        "sense": "camera",
        "place": "Plaza east",
        "camera": "east",
        "from": "2026-11-26T13:02:00Z",
        "to": "2026-11-26T13:04:00Z",
    }
    went = results["toolu_02Went"]
    assert [(p["event_id"], p["person"]) for p in went["paths"]] == [
        (ids["bo"], "Bo"),
        (ids["unknown"], None),
    ]
    chat.close()
