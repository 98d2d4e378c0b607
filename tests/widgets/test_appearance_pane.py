"""The Appearance search pane over a real store and the real query client: a description
lists ranked thumbnails with time and camera, "Find similar" ranks by example, and a
double-click asks for replay."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.cv import import_cv2
from engine.history.appearance import AppearanceHit
from engine.history.events import EventView
from engine.history.query_service import QueryService
from engine.media import MediaFile
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.writer import StoreWriter
from tests.appearance_people import (
    BLACK,
    BLUE,
    BOX,
    GREEN,
    RED,
    WHITE,
    person_frame,
    record_of,
    recorded,
)
from tests.conftest import write_site
from tests.store_helpers import sync_site
from tests.widgets.test_event_history import STORED, make_pane
from widgets.appearance.plugin import FIND_SIMILAR
from widgets.appearance.view import HIT_ROLE, AppearanceSearchPane

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TIMEOUT_MS = 10_000


@dataclass
class World:
    pane: AppearanceSearchPane
    client: QtQueryClient


@pytest.fixture
def world(db_url: str, tmp_path: Path, qtbot: QtBot) -> Iterator[World]:
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
        )
    )
    store = Store(db_url)
    cameras = sync_site(store, site, REAL_CLOCK).cameras
    media = tmp_path / "data"
    snapshot = "snapshots/gate/t1_best.jpg"
    (media / "snapshots/gate").mkdir(parents=True)
    x, y, w, h = BOX.as_ints()
    import_cv2().imwrite(str(media / snapshot), person_frame(RED, BLUE)[y : y + h, x : x + w])
    with StoreWriter.running(store) as writer:
        writer.execute(
            InsertEvent(
                ts=T0,
                kind="person.left",
                source="camera:gate",
                detail={},
                camera_id=cameras["gate"],
                track_id=1,
                media=(MediaFile("snapshot", snapshot, "0" * 64, 1),),
            )
        )
        for camera, track, top, bottom, at, path in (
            ("gate", 1, RED, BLUE, T0, snapshot),
            ("gate", 2, WHITE, BLACK, T0 + timedelta(minutes=1), None),
            ("yard", 3, GREEN, BLACK, T0 + timedelta(minutes=2), None),
            ("yard", 4, RED, BLUE, T0 + timedelta(days=1), None),
        ):
            writer.execute(recorded(cameras[camera], track, record_of(top, bottom), at, path))
    client = QtQueryClient(QueryService(store))
    pane = AppearanceSearchPane(client, media)
    qtbot.addWidget(pane)
    try:
        yield World(pane, client)
    finally:
        client.close()
        store.close()


def test_a_description_lists_ranked_thumbnails_with_time_and_camera(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane
    with qtbot.waitSignal(pane.sig_results_shown, timeout=TIMEOUT_MS) as shown:
        pane.search_edit.setText("red top")
        pane.search_button.click()
    assert shown.args == [2]
    assert [(h.camera_key, h.track_id) for h in pane.hits] == [("yard", 4), ("gate", 1)]
    first = pane.results.item(1)
    assert first.text().startswith("#2  ·  ") and "20 Nov 09:00:00" in first.text()
    assert "gate" in first.text() and "red top, blue bottom" in first.toolTip()
    assert (
        "4 tracks" in pane.status_label.text()
        and "not an identification" in pane.status_label.text()
    )
    # The gate track's thumbnail is its stored snapshot, read on a worker.
    qtbot.waitUntil(
        lambda: (
            pane.results.item(1).icon().pixmap(104, 150).toImage().pixelColor(52, 55).red() > 150
        ),
        timeout=TIMEOUT_MS,
    )
    with qtbot.waitSignal(pane.sig_results_shown, timeout=TIMEOUT_MS) as shown:
        pane.search("purple coat")
    assert shown.args == [0] and pane.results.count() == 0
    assert pane.status_label.text().startswith("No one found")


def test_find_similar_and_double_click_asks_for_replay(world: World, qtbot: QtBot) -> None:
    pane = world.pane
    with qtbot.waitSignal(pane.sig_results_shown, timeout=TIMEOUT_MS):
        pane.find_similar_to_track("gate", 1)
    assert pane.hits[0].track_id == 4 and 1 not in [
        h.track_id for h in pane.hits if h.camera_key == "gate"
    ]
    item = pane.results.item(0)
    with qtbot.waitSignal(pane.sig_hit_activated, timeout=TIMEOUT_MS) as activated:
        pane.results.itemDoubleClicked.emit(item)
    hit = activated.args[0]
    assert isinstance(hit, AppearanceHit) and hit == item.data(HIT_ROLE)
    assert hit.first_seen == T0 + timedelta(days=1)
    with qtbot.waitSignal(pane.sig_results_shown, timeout=TIMEOUT_MS) as shown:
        pane.find_similar_to_person("Person_DEADBEEF", "Person_DEADBEEF")
    assert shown.args == [0] and "No appearance is recorded" in pane.status_label.text()


def test_the_events_pane_offers_find_similar_on_a_tracks_row(qtbot: QtBot, tmp_path: Path) -> None:
    events, _history = make_pane(qtbot, tmp_path)
    chosen: list[EventView] = []
    events.add_event_action(FIND_SIMILAR, chosen.append, lambda view: view.track_id is not None)
    offered = {}
    for row in range(events.model.rowCount()):
        events.table.selectRow(row)
        view = events.selected_event()
        assert view is not None
        menu = events._context_menu()
        offered[view.id] = [a for a in menu.actions() if a.text() == FIND_SIMILAR]
        if offered[view.id]:
            offered[view.id][0].trigger()
            assert chosen[-1] == view
        menu.deleteLater()
    assert {event_id for event_id, actions in offered.items() if actions} == {
        view.id for view in STORED if view.track_id is not None
    }


def test_the_pane_loads_its_index_ahead_and_says_how_many_tracks_it_holds(
    world: World, qtbot: QtBot
) -> None:
    world.pane.warm_up()
    qtbot.waitUntil(
        lambda: world.pane.status_label.text().startswith("4 tracks can be searched"),
        timeout=TIMEOUT_MS,
    )
