"""The Activity pane says people, not tracks: on a plaza where three people made eighteen
tracks its People cell reads "at most 3 at once (18 tracks)" (it read "18"), and a room
whose blobs were all named by devices reads "2 known (6 sensed tracks)"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from widgets.activity.view import HEADERS, PEOPLE_TIP, ActivityPane

T0 = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    id: int
    ts: datetime
    kind: str
    source: str
    camera: str | None
    track_id: int | None = None
    person_public_id: str | None = None


def cell(pane: ActivityPane, row: int, header: str, role: int = 0) -> object:
    model = pane.model
    return model.data(model.index(row, HEADERS.index(header)), role)


def test_the_people_cells_say_how_many_people_and_how_they_were_counted(qtbot: QtBot) -> None:
    now = [T0 + timedelta(minutes=9)]
    pane = ActivityPane([("plaza", "Plaza east"), ("sensing:hall", "Hall")], lambda: now[0])
    qtbot.addWidget(pane)
    plaza: list[Stored] = []
    for n in range(18):  # three people, each a new track every 30 s
        start = T0 + timedelta(seconds=30 * (n // 3) + 5 * (n % 3))
        plaza.append(Stored(2 * n + 1, start, "person.appeared", "camera:plaza", "plaza", n))
        plaza.append(
            Stored(
                2 * n + 2, start + timedelta(seconds=28), "person.left", "camera:plaza", "plaza", n
            )
        )
    hall: list[Stored] = []
    for n in range(6):  # two walkers, both carrying a registered device
        who = ("Person_0000A001", "Person_0000A002")[n % 2]
        start = T0 + timedelta(minutes=n // 2)
        hall += [
            Stored(100 + 2 * n, start, "sensing.blob_appeared", "sensing:hall", None, 700 + n, who),
            Stored(101 + 2 * n, start + timedelta(seconds=50), "sensing.blob_left",
                   "sensing:hall", None, 700 + n, who),
        ]  # fmt: skip
    pane.on_events_stored(plaza + hall)

    assert cell(pane, 0, "People") == "at most 3 at once (18 tracks)"
    assert cell(pane, 0, "People", Qt.ItemDataRole.ToolTipRole) == PEOPLE_TIP
    assert cell(pane, 1, "Sensed") == "2 known (6 sensed tracks)"
    assert cell(pane, 1, "People") == "0"
