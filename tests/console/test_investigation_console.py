"""The investigator's panes in the real console on the plaza site: a question in the Ask
pane cites recorded events, activating one replays its moment into the camera tiles with
the timeline's cursor following; a bookmark marks the cursor; "Back to live" ends the
replay; an operator is offered none of it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pytestqt.qtbot import QtBot

from console.layouts import Layout
from engine.history.chat import Citation
from tests.console.test_main_window import plaza_site
from widgets.events.clip_player import format_mmss

TIMEOUT_MS = 20_000


def test_a_cited_event_replays_its_moment_and_back_to_live_ends_it(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    _host, window = open_console(plaza_site(tmp_path, vtest_avi))
    window.switch_layout(Layout.INVESTIGATOR)
    investigation = window.panes["timeline"]
    assert window.docks["timeline"].isVisible()
    grid = window.camera_grid
    events = window.panes["events"]
    events.set_summary(False)  # each track's rows, not the activities they make
    qtbot.waitUntil(
        lambda: any(
            events.event_at(r).kind == "person.appeared" for r in range(events.row_count())
        ),
        timeout=TIMEOUT_MS,
    )
    # The pane lists stored rows only: what it shows, the question finds in the store.
    chat = window.panes["chat"]
    qtbot.waitUntil(lambda: chat.mode_label.text() != "", timeout=TIMEOUT_MS)
    with qtbot.waitSignal(chat.sig_answer_received, timeout=TIMEOUT_MS) as received:
        chat.ask("What happened in the last hour on camera plaza?")
    answer = received.args[0]
    assert answer.answered and answer.mode == "offline", answer.text
    assert answer.citations, answer.text
    citation = answer.citations[0]
    assert isinstance(citation, Citation) and citation.camera == "plaza"

    # The clip covering it opens at the cited moment, not at the clip's start (the first
    # citation's clip may still be recording: a clip 2.5 s before the moment stands in).
    citation = dataclasses.replace(
        citation, clip_path=citation.clip_path or "clips/plaza/covering.mp4", clip_offset_s=2.5
    )
    with qtbot.waitSignal(investigation.replay.sig_replay_started, timeout=TIMEOUT_MS):
        chat.sig_citation_activated.emit(citation)
    assert events.player is not None
    assert events.player.title_text().endswith(f"@ {format_mmss(2500)}")
    start, end = investigation.timeline.visible_range()
    assert start < citation.ts < end
    assert grid.replaying and investigation.replay_bar.isVisible()
    qtbot.waitUntil(lambda: investigation.timeline.cursor_time() is not None, timeout=TIMEOUT_MS)
    cursor = investigation.timeline.cursor_time()
    assert cursor is not None and abs((cursor - citation.ts).total_seconds()) < 1
    # A new bookmark marks the replayed moment.
    bookmarks = window.panes["bookmarks"]
    marked = bookmarks.moment_edit.dateTime().toSecsSinceEpoch()
    assert marked == int(citation.ts.timestamp())

    with qtbot.waitSignal(investigation.replay.sig_replay_stopped, timeout=TIMEOUT_MS):
        investigation.replay_bar.sig_live_requested.emit()
    assert not grid.replaying and not investigation.replay_bar.isVisible()
    assert investigation.timeline.cursor_time() is None


def test_an_operator_is_offered_no_investigator_pane(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    _host, window = open_console(
        plaza_site(tmp_path, vtest_avi), accounts={"olga": "operator"}, login="olga"
    )
    for name in ("timeline", "chat", "bookmarks"):
        assert not window.docks[name].isVisible()
        assert not window.docks[name].toggleViewAction().isVisible()
    assert not window.panes["timeline"].export_button.isEnabled()
    timeline = window.panes["timeline"]
    assert timeline.open_export(*timeline.timeline.visible_range()) is None
