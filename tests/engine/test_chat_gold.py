"""Ask's gold set (``tests/data/ask_gold.json``, scored by ``benchmarks/ask_gold.py``): a
small site written through the store writer, asked 60+ questions on the site's clock
(Europe/Berlin). The offline answers must state the expected facts for at least 90 % of
them and never answer confidently wrong; the judge itself tells a wrong answer from a
right one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.ask_gold import (
    Said,
    build_store,
    derive,
    judge,
    load_gold,
    score,
    score_offline,
    true_people,
)
from engine.store import Store

GOLD = load_gold()


@pytest.fixture
def gold_store(db_url: str) -> Iterator[Store]:
    store = build_store(db_url, GOLD)
    yield store
    store.close()


def test_the_gold_set_is_large_and_covers_every_kind_of_fact(gold_store: Store) -> None:
    questions = derive(gold_store, GOLD)
    assert len(questions) >= 60
    assert len({q["q"] for q in questions}) == len(questions)  # no question twice
    for fact in ("count", "names", "time", "place", "unresolved", "cannot"):
        assert any(fact in q for q in questions), fact
    # The people, alerts, acknowledgements and times asked about are the store's own rows.
    for how in ("people", "alerts", "acknowledged", "last_appeared", "last_seen"):
        assert sum(1 for q in questions if how in q) >= 3, how
    rooms = [q for q in questions if "rooms" in q.get("people", {})]
    cameras = [q for q in questions if "cameras" in q.get("people", {})]
    assert len(rooms) >= 5 and len(cameras) >= 20
    # Some windows hold more tracks than people: a count of tracks would be wrong there.
    assert any(q["count"] >= 3 for q in cameras)


def test_the_truth_is_people_from_the_rows_not_tracks(gold_store: Store) -> None:
    """The busy plaza between 18:10 and 18:20: nine tracks (one of them Sarah's), at most
    four of them at once; the store room today: John (his device), the walker a path
    followed, and a lone blob never with anyone: two people at least, three blobs."""
    plaza = {"cameras": ["cam1"], "from": "2026-11-25T18:10:00", "to": "2026-11-25T18:20:00"}
    assert true_people(gold_store, GOLD, plaza) == 4
    store_room = {"rooms": ["store"], "from": "2026-11-25T00:00:00", "to": "2026-11-25T19:30:00"}
    assert true_people(gold_store, GOLD, store_room) == 2


def test_offline_answers_meet_the_gold_set(gold_store: Store) -> None:
    figures = score_offline(gold_store, GOLD)
    assert figures["confident_wrong"] == 0, figures["missed"]
    assert figures["exact_pct"] >= 90.0, figures["missed"]


@pytest.mark.parametrize(
    ("expect", "text", "answered", "verdict"),
    [
        ({"count": 8}, "8 people were seen on Plaza east (cam1) today: …", True, "exact"),
        ({"count": 8}, "10 people were seen on any camera today.", True, "confident_wrong"),
        # Dates, times and camera numbers are not the count.
        ({"count": 0}, "Nobody was seen on cam3 on 2026-11-25 at 19:30.", True, "exact"),
        ({"count": 2}, "On 2026-11-23, cam2 saw two people.", True, "exact"),
        ({"count": 1}, "I can't answer that from the records.", False, "declined"),
        ({"time": "19:20", "place": "Lobby"}, "Last seen at 19:20 on Plaza east.", True,
         "confident_wrong"),
        ({"unresolved": "garage"}, "I don't know a camera called garage.", False, "exact"),
        ({"unresolved": "garage"}, "3 people were seen on the garage camera.", True,
         "confident_wrong"),
        ({"unresolved": "garage"}, "I can't answer that from the records.", False, "declined"),
        ({"cannot": True}, "He wore a red coat.", True, "confident_wrong"),
    ],
)  # fmt: skip
def test_the_judge_tells_right_from_wrong(
    expect: dict[str, object], text: str, answered: bool, verdict: str
) -> None:
    assert judge(expect, text, answered) == verdict


def test_a_wrong_answerer_scores_badly(gold_store: Store) -> None:
    """The scorer counts what an answerer says: one that always says 8 people misses
    nearly everything and is confidently wrong."""
    figures = score(derive(gold_store, GOLD), lambda _q: Said("8 people were seen.", True))
    assert figures["exact_pct"] < 20 and figures["confident_wrong"] > 40


def test_the_llm_path_is_scored_by_replaying_a_transcript(gold_store: Store) -> None:
    """The replay harness (not a score of the model: these answers are written here):
    the real SDK streams each question's answers from the transcript, the tool call runs
    on the gold site, and the words are judged like the offline answers'; a question the
    transcript lacks is the LLM's failure to answer."""
    from benchmarks.ask_gold import score_llm
    from tests.engine.test_chat_llm import streamed

    def answers(said: str) -> list[dict[str, object]]:
        call = streamed(
            {"tool": "count_events", "id": "toolu_1", "input": {"camera": "cam1"}},
            stop_reason="tool_use",
        )
        final = streamed({"text": [said]}, stop_reason="end_turn")
        return [
            {"status": 200, "content_type": "text/event-stream", "body": r.content.decode()}
            for r in (call, final)
        ]

    right, wrong, missing = (
        "How many people were seen on plaza east today?",
        "How many people were seen this afternoon?",
        "Any alerts today?",
    )
    truth = {q["q"]: q.get("count") for q in derive(gold_store, GOLD)}
    transcript = {
        "answers": {right: answers(f"At most {truth[right]} at once on Plaza east today."),
                    wrong: answers(f"{truth[wrong] + 5} people were seen this afternoon.")}
    }  # fmt: skip
    questions = [q for q in GOLD.questions if q["q"] in (right, wrong, missing)]
    figures = score_llm(gold_store, GOLD, transcript)
    assert figures["questions"] == len(GOLD.questions)
    verdicts = {m["q"]: m["verdict"] for m in figures["missed"]}
    assert right not in verdicts and len(questions) == 3
    assert verdicts[wrong] == "confident_wrong" and verdicts[missing] == "declined"
