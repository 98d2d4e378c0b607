"""The Activity pane does not count a person whose departure is not filed yet with those who
came since (issue 68, found by ``python -m benchmarks demo_counts``): on the demo plaza its
People cell said "at most 11 at once" where 9 were, for as long as the tracker held the
tracks of people who had walked out (their ``left`` is filed 9 s of video after the last
sighting, later on a busy machine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pytestqt.qtbot import QtBot

from widgets.activity.view import HEADERS, ActivityPane

NOW = datetime(2026, 11, 28, 22, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    id: int
    ts: datetime
    kind: str
    source: str = "camera:plaza"
    camera: str | None = "plaza"
    track_id: int | None = None


def people_cell(pane: ActivityPane) -> object:
    return pane.model.data(pane.model.index(0, HEADERS.index("People")))


def test_a_track_whose_departure_is_not_filed_is_not_counted_with_those_after_it(
    qtbot: QtBot,
) -> None:
    now = [NOW]
    pane = ActivityPane([("plaza", "Plaza east")], lambda: now[0])
    qtbot.addWidget(pane)
    # Three people for two minutes; a fourth came a minute ago and walked out 8 s ago (no
    # ``left`` yet); a fifth came 5 s ago: never more than four at once.
    rows = [
        Stored(t, NOW - timedelta(seconds=120), "person.appeared", track_id=t) for t in (1, 2, 3)
    ]
    rows.append(Stored(4, NOW - timedelta(seconds=60), "person.appeared", track_id=4))
    rows.append(Stored(5, NOW - timedelta(seconds=5), "person.appeared", track_id=5))
    pane.on_events_stored(rows)

    assert people_cell(pane) == "at most 4 at once (5 tracks)"

    # The fourth's departure is filed (stamped with the last sighting): still four.
    now[0] = NOW + timedelta(seconds=2)
    pane.on_events_stored([Stored(6, NOW - timedelta(seconds=8), "person.left", track_id=4)])
    assert people_cell(pane) == "at most 4 at once (5 tracks)"


def test_a_track_begun_within_the_lag_is_counted_with_the_others_once_it_has_passed(
    qtbot: QtBot,
) -> None:
    """Two people for a minute and a third who came 5 s ago: "at most 2 at once" while the
    rows cannot say whether the two are still there; once the lag has passed, with no new
    event, the pane recounts by itself within seconds (it slid every 30 s): 3."""
    now = [NOW]
    pane = ActivityPane([("plaza", "Plaza east")], lambda: now[0])
    qtbot.addWidget(pane)
    rows = [Stored(t, NOW - timedelta(seconds=60), "person.appeared", track_id=t) for t in (1, 2)]
    rows.append(Stored(3, NOW - timedelta(seconds=5), "person.appeared", track_id=3))
    pane.on_events_stored(rows)
    assert people_cell(pane) == "at most 2 at once (3 tracks)"

    now[0] = NOW + timedelta(seconds=6)
    qtbot.waitUntil(lambda: people_cell(pane) == "at most 3 at once (3 tracks)", timeout=7_000)
