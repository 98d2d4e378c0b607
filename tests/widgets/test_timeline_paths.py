"""People's paths across senses on the timeline, over a real store and the console's real
query client: each path's stretches are bars on the lanes they crossed (a camera's, a
room's), joined into one line, named ("Someone unknown" for nobody known), a device shown
under its bars; hovering a bar shows the path's sentence in site time, clicking one selects
the path and activates the stretch; an answer for an older range is dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.paths import PathsRequest, PersonPath, Stretch, path_sentence
from engine.history.query_service import QueryService
from engine.sitetime import SiteTime
from engine.store import Store
from tests.machine_text import machine_text
from tests.person_paths import NAMES, SeededPaths, open_store_with_paths
from tests.widgets.test_timeline import RecordingClient, send_mouse
from widgets.timeline.paths import UNKNOWN_COLOUR, path_colour
from widgets.timeline.view import TimelinePane

BASE = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SHOWN = (BASE - timedelta(minutes=2), BASE + timedelta(minutes=26))


@pytest.fixture(autouse=True)
def site_at_utc_plus_0530(shown_zone: Callable[[str], SiteTime]) -> SiteTime:
    """The console shows a site at UTC+05:30, far from this machine's zone."""
    return shown_zone("Asia/Kolkata")


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Store, SeededPaths]]:
    store, paths = open_store_with_paths(f"sqlite:///{tmp_path / 'paths.db'}", tmp_path, BASE)
    yield store, paths
    store.close()


@pytest.fixture
def client(seeded: tuple[Store, SeededPaths]) -> Iterator[RecordingClient]:
    real = QtQueryClient(QueryService(seeded[0]))
    yield RecordingClient(real)
    real.close()


def make_pane(qtbot: QtBot, client: RecordingClient) -> TimelinePane:
    pane = TimelinePane(client, None, initial_range=SHOWN, names=NAMES)
    qtbot.addWidget(pane)
    pane.resize(1200, 480)
    with qtbot.waitExposed(pane):
        pane.show()
    qtbot.waitUntil(lambda: not pane.is_loading() and bool(pane.paths()), timeout=5000)
    return pane


def path_of(pane: TimelinePane, event_id: int) -> PersonPath:
    return next(p for p in pane.paths() if p.event_id == event_id)


def pixel(pane: TimelinePane, point: QPointF) -> QColor:
    image = pane.canvas.grab().toImage()
    ratio = image.devicePixelRatio()
    return image.pixelColor(int(point.x() * ratio), int(point.y() * ratio))


def test_each_path_is_drawn_on_the_lanes_it_crossed(
    qtbot: QtBot, client: RecordingClient, seeded: tuple[Store, SeededPaths]
) -> None:
    _store, ids = seeded
    pane = make_pane(qtbot, client)
    asked = [r for c, r in client.submitted if c == "timeline.paths"][-1]
    assert isinstance(asked, PathsRequest)
    assert (asked.after, asked.before, asked.person) == (*SHOWN, None)
    # Four paths end in the range (newest first); Ada's of the day before does not.
    assert [p.event_id for p in pane.paths()] == [ids.auto, ids.unknown, ids.ada, ids.bo]
    assert pane.status_text().endswith(", 4 paths")

    ada = pane.path_bars(ids.ada)
    assert [(s.sense, s.source) for s, _r in ada] == [
        ("camera", "plaza"),
        ("sensing", "lobby"),
        ("sensing", "office"),
    ]
    for (stretch, rect), lane in zip(
        ada, ("camera:plaza", "sensing:lobby", "sensing:office"), strict=True
    ):
        lane_rect = pane.lane_rect(lane)
        assert lane_rect is not None and lane_rect.contains(rect), lane
        assert rect.left() == pytest.approx(pane.x_of(stretch.start), abs=0.5)
        assert rect.right() == pytest.approx(pane.x_of(stretch.end), abs=0.5)
        # Painted in Ada's colour (a point of the bar right of her name).
        colour = pixel(pane, QPointF(rect.right() - 3, rect.center().y()))
        assert colour.name() == path_colour(path_of(pane, ids.ada)).name(), lane

    # Bo's phone is no lane: it is drawn under his bars, its label in a badge.
    bo = pane.path_bars(ids.bo)
    assert [s.sense for s, _r in bo] == ["sensing", "camera"]
    assert pane.device_badges(ids.bo) == ["Bo's phone"]
    assert pane.device_badges(ids.ada) == []

    # Someone nobody knows reads as such, in a grey no person has.
    unknown = path_of(pane, ids.unknown)
    assert unknown.label == "Someone unknown"
    assert path_colour(unknown) == UNKNOWN_COLOUR != path_colour(path_of(pane, ids.ada))
    ((_s, first), _second) = pane.path_bars(ids.unknown)
    assert pixel(pane, QPointF(first.right() - 2, first.center().y())).name() == (
        UNKNOWN_COLOUR.name()
    )


def test_a_lane_not_shown_leaves_its_stretches_out(
    qtbot: QtBot, client: RecordingClient, seeded: tuple[Store, SeededPaths]
) -> None:
    _store, ids = seeded
    pane = make_pane(qtbot, client)
    pane.set_lanes(["camera:plaza", "sensing:office"])
    qtbot.waitUntil(
        lambda: not pane.is_loading() and pane.lane_rect("sensing:lobby") is None, timeout=5000
    )
    assert [s.source for s, _r in pane.path_bars(ids.ada)] == ["plaza", "office"]


def test_hovering_a_path_shows_its_sentence_and_clicking_selects_it(
    qtbot: QtBot, client: RecordingClient, seeded: tuple[Store, SeededPaths]
) -> None:
    _store, ids = seeded
    pane = make_pane(qtbot, client)
    bo = path_of(pane, ids.bo)
    (_lobby, (camera, rect)) = pane.path_bars(ids.bo)
    point = rect.center()

    send_mouse(pane.canvas, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton)
    text = pane.hover_text()
    # Site time (UTC+05:30): 14:05 UTC is 19:35 there.
    assert text.startswith(
        "Bo: sensed in Lobby 19:35–19:39, seen by Plaza east 19:39–19:41, "
        "device ‘Bo's phone’ throughout\n"
    )
    assert "\nNamed by the device they carry\n" in text
    assert "Seen by Plaza east 19:39:00 – 19:41:00" in text
    assert "Click to replay from 19:39:00" in text
    assert machine_text(text) is None
    assert pane.selected_path_text() == ""

    with (
        qtbot.waitSignal(pane.sig_path_selected) as selected,
        qtbot.waitSignal(pane.sig_stretch_activated) as activated,
    ):
        send_mouse(pane.canvas, QEvent.Type.MouseButtonPress, point)
        send_mouse(pane.canvas, QEvent.Type.MouseButtonRelease, point)
    assert selected.args == [bo]
    clicked_path, stretch = activated.args
    assert clicked_path == bo and isinstance(stretch, Stretch) and stretch == camera
    assert pane.selected_path() == bo
    assert pane.selected_path_text() == path_sentence(bo)
    # Outlined in white over the static picture.
    assert pixel(pane, QPointF(rect.left(), rect.center().y())).lightness() > 200

    # A path stays selected across a reload of the same range; Escape clears it.
    pane.refresh()
    qtbot.waitUntil(lambda: not pane.is_loading(), timeout=5000)
    assert pane.selected_path() == bo
    with qtbot.waitSignal(pane.sig_path_selected) as cleared:
        pane.canvas.setFocus()
        qtbot.keyClick(pane.canvas, Qt.Key.Key_Escape)
    assert cleared.args == [None]
    assert pane.selected_path_text() == ""

    # The markers the paths pass stay in view above the bars, and clicking one still
    # activates it.
    found = pane.current_slice()
    assert found is not None
    lobby = found.lane("sensing:lobby")
    assert lobby is not None and lobby.markers
    marker = next(m for m in lobby.markers if m.kind == "sensing.blob_appeared")
    at = pane.marker_position(marker)
    assert at is not None
    bar = next(r for s, r in pane.path_bars(ids.ada) if s.source == "lobby")
    assert at.y() < bar.top()
    with qtbot.waitSignal(pane.sig_event_activated) as marked:
        send_mouse(pane.canvas, QEvent.Type.MouseButtonPress, at)
        send_mouse(pane.canvas, QEvent.Type.MouseButtonRelease, at)
    assert marked.args[0].id == marker.id


def test_selecting_a_path_before_its_range_arrives_shows_it_once_it_does(
    qtbot: QtBot, client: RecordingClient, seeded: tuple[Store, SeededPaths]
) -> None:
    _store, ids = seeded
    pane = make_pane(qtbot, client)
    earlier = BASE - timedelta(days=1)
    with qtbot.waitSignal(pane.sig_path_selected, timeout=5000) as selected:
        pane.select_path(ids.ada_earlier)
        pane.set_range(earlier - timedelta(minutes=2), earlier + timedelta(minutes=10))
    assert selected.args[0].event_id == ids.ada_earlier
    assert pane.selected_path_text().startswith("Ada: seen by Plaza east 19:30–19:32")


def test_paths_of_an_older_range_are_dropped(
    qtbot: QtBot, client: RecordingClient, seeded: tuple[Store, SeededPaths]
) -> None:
    _store, ids = seeded
    pane = make_pane(qtbot, client)
    client.hold = True
    pane.set_range(BASE + timedelta(minutes=12.5), BASE + timedelta(minutes=20))
    qtbot.waitUntil(lambda: len(client.held) == 2, timeout=5000)  # slice and paths
    pane.set_range(BASE - timedelta(days=1, minutes=2), BASE - timedelta(days=1, minutes=-8))
    qtbot.waitUntil(lambda: len(client.held) == 4, timeout=5000)
    dropped = pane.dropped
    client.hold = False
    client.release()
    assert pane.dropped == dropped + 2
    assert [p.event_id for p in pane.paths()] == [ids.ada_earlier]
    QApplication.processEvents()
