"""Ask grounded in meaning search: the LLM's ``search_texts`` tool (the real anthropic SDK
over ``httpx2.MockTransport``) and the offline answers to "any reports about …" find
incident reports, bookmarks' notes and event summaries by what they mean."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from engine.history.bookmarks import AddBookmark
from engine.history.chat.offline import OfflineAnswerer
from engine.history.chat.tools import run_tool
from engine.incidents.classify import IncidentClassifier, KeywordClassifier
from engine.incidents.intake import IncidentIntake, IntakeSettings
from engine.incidents.reports import ReportInput
from engine.sitetime import UTC_TIME
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.writer import StoreWriter
from engine.text_search.search import search_for
from tests.actors import INVESTIGATOR, OPERATOR
from tests.engine.test_chat_llm import Api, service, streamed, tool_results

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = NOW - timedelta(days=1)
FELL = "Man fell down on the stairs by the north entrance and cannot get up."
BIN = "Wheelie bin alight behind the restaurant, flames reaching the fence."


@pytest.fixture(autouse=True)
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


@pytest.fixture
def history(store: Store) -> Iterator[tuple[Store, StoreWriter, dict[str, int]]]:
    """Two reports, a bookmark and a fall, indexed as the engine's indexer would."""
    with StoreWriter.running(store) as writer:
        intake = IncidentIntake(
            store,
            writer,
            IncidentClassifier(KeywordClassifier(), None, "test: local classifier"),
            IntakeSettings(),
            now=lambda: NOW,
        )
        filed = intake.file(
            [
                ReportInput(text=FELL, latitude=51.5, longitude=-0.12, at=DAY),
                ReportInput(text=BIN, latitude=51.6, longitude=-0.12, at=DAY + timedelta(hours=3)),
            ],
            actor=OPERATOR,
            source="cli",
        )
        mark = writer.execute(
            AddBookmark(
                title="Gate 2",
                note="Courier leaves a parcel; a second man collects it a minute later.",
                marked_at=DAY,
                at=DAY,
                actor=INVESTIGATOR,
            )
        )
        fall = writer.execute(
            InsertEvent(ts=DAY, kind="sensing.fall_detected", source="sensing:ward", detail={})
        )
        search_for(store).index_pending(store, writer.submit)
        yield (
            store,
            writer,
            {"fell": filed[0].incident.incident_id, "bookmark": mark.id, "fall": fall},
        )


def test_the_llm_searches_texts_by_meaning_and_cites_the_event_it_returned(
    history: tuple[Store, StoreWriter, dict[str, int]],
) -> None:
    store, writer, ids = history
    api = Api(
        lambda r: streamed(
            {"tool": "search_texts", "id": "toolu_01", "input": {"query": "someone collapsed"}},
            stop_reason="tool_use",
        ),
        lambda r: streamed(
            {
                "text": [
                    f"Incident #{ids['fell']}: a man fell on the stairs; the sensing saw a "
                    f"possible fall in the ward [event {ids['fall']}]."
                ]
            },
            stop_reason="end_turn",
        ),
    )
    chat = service(store, api, writer)
    answer = chat.ask("Did anyone collapse yesterday?", actor=INVESTIGATOR)
    assert (answer.mode, answer.answered) == ("llm", True)
    [result] = tool_results(api.bodies()[1]).values()
    kinds_ids = [(r["kind"], r["id"]) for r in result["results"]]
    assert ("incident", ids["fell"]) in kinds_ids[:2] and ("event", ids["fall"]) in kinds_ids[:2]
    assert result["results"][kinds_ids.index(("incident", ids["fell"]))]["text"] == FELL
    assert [c.event_id for c in answer.citations] == [ids["fall"]]


def test_the_tool_checks_its_arguments(history: tuple[Store, StoreWriter, dict[str, int]]) -> None:
    store, _, ids = history
    assert run_tool(store, NOW, "search_texts", {"query": " "}) == {
        "error": "query is empty; give the words to search for"
    }
    assert (
        "kind must be one of"
        in run_tool(store, NOW, "search_texts", {"query": "x", "kind": "alert"})["error"]
    )
    found = run_tool(store, NOW, "search_texts", {"query": "parcel", "kind": "bookmark"})
    assert [(r["kind"], r["id"]) for r in found["results"]] == [("bookmark", ids["bookmark"])]
    # A range before anything happened finds nothing.
    early = run_tool(store, NOW, "search_texts", {"query": "fire", "end": "2026-11-01T00:00:00Z"})
    assert early["results"] == []


def test_offline_answers_questions_about_reports_and_notes_by_meaning(
    history: tuple[Store, StoreWriter, dict[str, int]],
) -> None:
    store, _, ids = history
    answerer = OfflineAnswerer(store, UTC_TIME)
    answer = answerer.answer("Any reports about someone collapsing?", NOW)
    assert answer.answered and answer.form == "reports_about"
    assert answer.facts["query"] == "someone collapsing"
    assert {"kind": "incident", "id": ids["fell"]} in answer.facts["hits"]
    assert f"incident #{ids['fell']}" in answer.text and FELL[:40] in answer.text
    assert [c.event_id for c in answer.citations] == [ids["fall"]]

    parcel = answerer.answer("What do the notes say about a package being handed over?", NOW)
    assert parcel.facts["hits"][0] == {"kind": "bookmark", "id": ids["bookmark"]}

    fire = answerer.answer("Did anyone report a fire yesterday?", NOW)
    assert fire.facts["hits"][0]["kind"] == "incident" and BIN[:20] in fire.text
    assert fire.facts["range"] is not None

    nothing = answerer.answer("Were there any reports about a helicopter landing?", NOW)
    assert nothing.answered and nothing.facts["hits"] == []
    assert "reads like" in nothing.text

    # A count of incidents is still a count.
    counted = answerer.answer("Were there any incidents yesterday?", NOW)
    assert counted.form == "incidents" and counted.facts["count"] == 2
