"""Ask answers "how many people are on the plaza now?" from the live picture where this
engine runs the camera (issue 68, ``python -m benchmarks demo_counts``): from the records it
could only say who had not yet been filed as gone, about ten seconds behind, and was within
one of the people in view in 81 % of the 10-minute demo's samples. Elsewhere (an attached
console, the command line) the records answer as before."""

from __future__ import annotations

import pytest

from engine.history.chat.offline import OfflineAnswerer
from engine.sitetime import UTC_TIME
from tests.engine.test_chat_departures_not_filed import (
    NOW,
    Plaza,
    four_there_one_gone_unfiled,
    plaza,  # noqa: F401 (a fixture)
)

pytestmark = pytest.mark.sql

QUESTION = "How many people are on the plaza now?"


def test_now_is_the_live_picture_where_the_engine_runs_the_camera(
    plaza: Plaza,  # noqa: F811 (the fixture)
) -> None:
    four_there_one_gone_unfiled(plaza)
    in_view = {"plaza": 3}
    answerer = OfflineAnswerer(plaza.store, UTC_TIME, live=lambda: in_view)
    answer = answerer.answer(QUESTION, NOW)
    assert answer.answered
    assert answer.text == (
        "3 people in view on Plaza east (plaza) now. (Counted on the live picture.)"
    )
    assert answer.facts["people"] == 3 and answer.facts["live"] == {"plaza": 3}
    in_view["plaza"] = 1
    assert answerer.answer(QUESTION, NOW).text.startswith("1 person in view on Plaza east")
    in_view["plaza"] = 0
    assert answerer.answer(QUESTION, NOW).text.startswith("Nobody is in view on Plaza east")
    # Not "now": the records, as ever.
    earlier = answerer.answer("How many people were on the plaza in the last minute?", NOW)
    assert "live picture" not in earlier.text and earlier.answered


def test_without_the_camera_live_here_the_records_answer(
    plaza: Plaza,  # noqa: F811 (the fixture)
) -> None:
    four_there_one_gone_unfiled(plaza)
    for live in ({}, {"gate": 2}, None):
        answerer = OfflineAnswerer(
            plaza.store, UTC_TIME, live=None if live is None else (lambda live=live: live)
        )
        answer = answerer.answer(QUESTION, NOW)
        assert answer.answered and "live picture" not in answer.text, live
