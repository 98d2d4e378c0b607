"""Ask knows the site's sensing rooms by id and name from the start (issue 68): a room was
known only once the fusion had stored a path or a hand-over naming it, so on a fresh site
"How many people were sensed in the store room today?" was "I don't know a place" until
someone crossed senses.

Each test writes blob rows (no path, no hand-over) through the real store writer on a
simulated clock and asks the offline answerer, the LLM's tools, or the chat service the
console builds with the site's rooms."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import func, insert, select

from engine.clock import SimulatedClock
from engine.history.chat import ChatService
from engine.history.chat.across_senses import room_names
from engine.history.chat.offline import OfflineAnswer, OfflineAnswerer
from engine.history.chat.tools import run_tool
from engine.sitetime import UTC_TIME
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.models import Event, Site
from engine.store.writer import StoreWriter
from tests.actors import INVESTIGATOR
from tests.engine.test_chat_llm import API_KEY, Api, streamed, tool_results

pytestmark = pytest.mark.sql

NOW = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
# The walkthrough site's rooms as its site file names them, and a room whose id is no word.
SITE_ROOMS = {"lobby": "Lobby", "store": "Store room", "r3": "Loading bay"}


@dataclass
class FreshSite:
    store: Store
    site: int
    writer: StoreWriter

    def blob(self, start: datetime, seconds: float, blob: int, room: str) -> None:
        """A blob sensed in ``room``: appeared, then left ``seconds`` later."""
        for at, kind in ((start, "sensing.blob_appeared"), (start + timedelta(seconds=seconds),
                         "sensing.blob_left")):  # fmt: skip
            self.writer.execute(
                InsertEvent(
                    ts=at, kind=kind, source=f"sensing:{room}", detail={"room": room},
                    site_id=self.site, track_id=blob,
                )
            )  # fmt: skip


@pytest.fixture
def fresh(db_url: str) -> Iterator[FreshSite]:
    """A site nobody has crossed senses on yet: two walkers in the loading bay (id ``r3``),
    four blobs, and nothing in the lobby or the store room."""
    store = Store(db_url)
    with store.transaction() as s:
        site = s.execute(
            insert(Site).returning(Site.id),
            [{"name": "Walkthrough", "geo_lat": 52.5, "geo_lon": 13.4, "updated_at": NOW}],
        ).scalar_one()
    writer = StoreWriter(store, clock=SimulatedClock(NOW))
    writer.start()
    one = FreshSite(store, int(site), writer)
    start = NOW - timedelta(hours=1)
    for n in range(4):
        one.blob(start + timedelta(seconds=60 * (n // 2) + 5 * (n % 2)), 50.0, 800 + n, "r3")
    try:
        yield one
    finally:
        writer.stop()
        store.close()


def no_paths_nor_hand_overs(store: Store) -> None:
    with store.engine.connect() as connection:
        kinds = connection.execute(
            select(func.count()).where(Event.kind.in_(("person.path", "person.handed_over")))
        ).scalar_one()
    assert kinds == 0


def ask(fresh: FreshSite, question: str) -> OfflineAnswer:
    return OfflineAnswerer(fresh.store, UTC_TIME, rooms=SITE_ROOMS).answer(question, NOW)


def test_the_sites_names_come_first_then_what_paths_and_hand_overs_say(
    fresh: FreshSite,
) -> None:
    with fresh.store.engine.connect() as connection:
        assert room_names(connection) == {}
        assert room_names(connection, {"r3": " Loading   bay ", "x": " "}) == {
            "r3": "Loading bay",
            "x": "x",
        }


def test_a_room_is_asked_about_by_its_name_before_anyone_crossed_senses(
    fresh: FreshSite,
) -> None:
    no_paths_nor_hand_overs(fresh.store)
    bay = ask(fresh, "How many people were sensed in the loading bay today?")
    assert bay.answered and bay.form == "who_sensed", bay.text
    assert bay.facts["room"] == "r3"
    assert "Loading bay" in bay.text and bay.facts["sensing_tracks"] == 4, bay.text
    store = ask(fresh, "How many people were sensed in the store room today?")
    assert store.answered and store.form == "who_sensed", store.text
    assert store.facts["room"] == "store" and store.facts["sensing_tracks"] == 0
    assert "Store room" in store.text, store.text


def test_a_room_is_asked_about_by_its_id_before_anything_was_sensed_in_it(
    fresh: FreshSite,
) -> None:
    no_paths_nor_hand_overs(fresh.store)
    lobby = ask(fresh, "How many people were sensed in lobby today?")
    assert lobby.answered and lobby.form == "who_sensed", lobby.text
    assert lobby.facts["room"] == "lobby" and lobby.facts["sensing_tracks"] == 0
    bay = ask(fresh, "Who was sensed in r3 today?")
    assert bay.answered and bay.facts["room"] == "r3", bay.text


def test_the_llms_tools_know_the_sites_rooms_by_id_and_name(fresh: FreshSite) -> None:
    no_paths_nor_hand_overs(fresh.store)
    for place, name in (("the store room", "Store room"), ("lobby", "Lobby"), ("r3", None)):
        found = run_tool(fresh.store, NOW, "person_paths", {"place": place}, SITE_ROOMS)
        assert "note" not in found, found
        assert found["place"] == {"name": name or "Loading bay"}
    counted = run_tool(fresh.store, NOW, "count_people", {"room": "Loading bay"}, SITE_ROOMS)
    assert counted["tracks"] == 4 and "in Loading bay" in counted["words"], counted
    # The site's rooms are not the LLM's to give.
    assert (
        "unknown argument 'site_rooms'"
        in run_tool(
            fresh.store, NOW, "person_paths", {"place": "lobby", "site_rooms": {}}, SITE_ROOMS
        )["error"]
    )


def test_the_chat_service_passes_the_sites_rooms_to_both_answerers(fresh: FreshSite) -> None:
    api = Api(
        lambda r: streamed(
            {"tool": "person_paths", "id": "toolu_01Store", "input": {"place": "Store room"}},
            stop_reason="tool_use",
        ),
        lambda r: streamed(
            {"text": ["Nobody went through the Store room."]}, stop_reason="end_turn"
        ),
    )
    chat = ChatService(
        fresh.store,
        clock=SimulatedClock(NOW),
        site_time=UTC_TIME,
        writer=fresh.writer,
        api_key=API_KEY,
        http_client=httpx2.Client(transport=httpx2.MockTransport(api)),
        rooms=SITE_ROOMS,
    )
    try:
        llm = chat.ask("Who went through the store room?", actor=INVESTIGATOR)
        assert llm.text == "Nobody went through the Store room.", llm.text
        [result] = tool_results(api.bodies()[1]).values()
        assert result["place"] == {"name": "Store room"} and "note" not in result
        offline = chat.ask(
            "How many people were sensed in the store room today?",
            actor=INVESTIGATOR,
            offline=True,
        )
        assert "Store room" in offline.text and "don\u2019t know" not in offline.text
    finally:
        chat.close()
