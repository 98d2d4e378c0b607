"""The "Search reports" pane over a real store, the real sentence model and the real query
client: a description lists reports, bookmarks and events by meaning in site time, the kind
box narrows them, and a double-click asks to show the hit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.bookmarks import AddBookmark
from engine.history.query_service import QueryService
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.writer import StoreWriter
from engine.text_search.search import TextHit, search_for
from tests.actors import INVESTIGATOR
from widgets.meaning_search.view import HIT_ROLE, MeaningSearchPane

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TIMEOUT_MS = 20_000


@pytest.fixture
def pane(db_url: str, qtbot: QtBot) -> Iterator[MeaningSearchPane]:
    store = Store(db_url)
    with StoreWriter.running(store) as writer:
        writer.execute(
            AddBookmark(
                title="Platform 3",
                note="Woman stumbles near the yellow line and goes down.",
                marked_at=T0,
                at=T0,
                actor=INVESTIGATOR,
            )
        )
        writer.execute(
            AddBookmark(
                title="Gate 2",
                note="Courier leaves a parcel; a second man collects it.",
                marked_at=T0,
                at=T0,
                actor=INVESTIGATOR,
            )
        )
        writer.execute(
            InsertEvent(ts=T0, kind="sensing.fall_detected", source="sensing:ward", detail={})
        )
        search_for(store).index_pending(store, writer.submit)  # the engine's indexer's work
    client = QtQueryClient(QueryService(store))
    widget = MeaningSearchPane(client)
    qtbot.addWidget(widget)
    try:
        yield widget
    finally:
        client.close()
        store.close()


def test_a_description_lists_hits_by_meaning_and_a_double_click_shows_one(
    pane: MeaningSearchPane, qtbot: QtBot, views_show_utc: None
) -> None:
    with qtbot.waitSignal(pane.sig_results_shown, timeout=TIMEOUT_MS) as shown:
        pane.search("someone fell over")
    assert shown.args[0] >= 2
    assert {h.kind for h in pane.hits[:2]} == {"event", "bookmark"}
    first = pane.result_list.topLevelItem(0)
    assert first is not None
    assert first.text(0) == "2026-11-20 09:00"
    assert "of 3 texts" in pane.status_label.text()
    metrics = pane.result_list.fontMetrics()
    for column in range(3):  # the time, kind and score are never cut short ("2026-11-2…")
        widest = max(
            metrics.horizontalAdvance(pane.result_list.topLevelItem(row).text(column))  # type: ignore[union-attr]
            for row in range(pane.result_list.topLevelItemCount())
        )
        assert pane.result_list.columnWidth(column) >= widest, column

    pane.kind_box.setCurrentIndex(2)  # bookmarks only: searched again at once
    qtbot.waitUntil(lambda: bool(pane.hits) and pane.hits[0].kind == "bookmark")
    assert all(h.kind == "bookmark" for h in pane.hits)
    item = pane.result_list.topLevelItem(0)
    assert item is not None
    assert item.text(1) == "Bookmark #1" and item.text(3).startswith("Platform 3. Woman")
    with qtbot.waitSignal(pane.sig_hit_activated, timeout=TIMEOUT_MS) as activated:
        pane.result_list.itemActivated.emit(item, 0)
    hit = activated.args[0]
    assert isinstance(hit, TextHit) and hit == item.data(0, HIT_ROLE)

    with qtbot.waitSignal(pane.sig_results_shown, timeout=TIMEOUT_MS) as shown:
        pane.search("zzqx vvbn")
    assert shown.args == [0] and pane.status_label.text() == "Nothing found among 3 texts."
