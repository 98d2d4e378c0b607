"""Ask's gold set (``tests/data/ask_gold.json``, scored by ``benchmarks/ask_gold.py``): a
small site written through the store writer, asked 60+ questions on the site's clock
(Europe/Berlin). The offline answers must state the expected facts for at least 90 % of
them and never answer confidently wrong; the judge itself tells a wrong answer from a
right one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.ask_gold import Said, build_store, judge, load_gold, score, score_offline
from engine.store import Store

GOLD = load_gold()


@pytest.fixture
def gold_store(db_url: str) -> Iterator[Store]:
    store = build_store(db_url, GOLD)
    yield store
    store.close()


def test_the_gold_set_is_large_and_covers_every_kind_of_fact() -> None:
    questions = GOLD.questions
    assert len(questions) >= 60
    assert len({q["q"] for q in questions}) == len(questions)  # no question twice
    for fact in ("count", "names", "time", "place", "unresolved", "cannot"):
        assert any(fact in q for q in questions), fact


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


def test_a_wrong_answerer_scores_badly() -> None:
    """The scorer counts what an answerer says: one that always says 8 people misses
    nearly everything and is confidently wrong."""
    figures = score(GOLD.questions, lambda _q: Said("8 people were seen.", True))
    assert figures["exact_pct"] < 20 and figures["confident_wrong"] > 40
