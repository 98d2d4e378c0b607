"""People's paths across senses in the real console on the plaza site: the People pane
lists the selected person's paths, reads them again when a path is filed, and "Show in
timeline" shows the path whole and selected on the timeline and replays it; clicking one of
its bars on the timeline replays from that stretch."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelectionModel
from pytestqt.qtbot import QtBot

from console.layouts import Layout
from engine.store.commands import InsertEvent
from tests.console.test_main_window import plaza_site
from tests.person_paths import ADA, CAMERA, LOBBY, seed_people, seed_person_paths, segment
from tests.widgets.test_timeline import send_mouse
from widgets.people.plugin import SHOW_IN_TIMELINE
from widgets.people.view import COLUMN_ID, PeoplePane
from widgets.timeline.investigation import InvestigationPane

TIMEOUT_MS = 20_000


def test_a_person_s_path_is_listed_and_shown_in_the_timeline(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    writer = host.runtime.writer
    assert writer is not None
    now = host.runtime.clock.now()
    base = now - timedelta(minutes=40)
    seed_people(host.store)
    ids = seed_person_paths(host.store, writer, base)
    window.switch_layout(Layout.INVESTIGATOR)
    people = window.panes["people"]
    investigation = window.panes["timeline"]
    assert isinstance(people, PeoplePane) and isinstance(investigation, InvestigationPane)
    section = people.paths_section
    assert section is not None

    with qtbot.waitSignal(people.sig_people_listed, timeout=TIMEOUT_MS):
        people.refresh()
    model = people.view.model()
    row = next(r for r in range(people.row_count()) if model.index(r, COLUMN_ID).data() == ADA)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    with qtbot.waitSignal(section.sig_paths_listed, timeout=TIMEOUT_MS):
        people.view.selectionModel().select(model.index(row, 0), flags)
    assert [p.event_id for p in section.paths()] == [ids.ada, ids.ada_earlier]

    # A path filed now is listed without asking.
    with qtbot.waitSignal(section.sig_paths_listed, timeout=TIMEOUT_MS):
        start = now - timedelta(minutes=6)
        writer.execute(
            InsertEvent(
                ts=now,
                kind="person.path",
                source=f"sensing:{LOBBY}",
                detail={
                    "name": "Ada",
                    "named_by": "face",
                    "segments": [
                        segment("camera", CAMERA, 21, start, start + timedelta(minutes=2)),
                        segment("sensing", LOBBY, 22, start + timedelta(minutes=2), now),
                    ],
                },
                person=ADA,
            )
        )
    assert len(section.paths()) == 3

    # "Show in timeline": the path whole, selected, replayed from its start.
    ada = next(p for p in section.paths() if p.event_id == ids.ada)
    (action,) = section.context_menu(section.paths().index(ada)).actions()
    assert action.text() == SHOW_IN_TIMELINE
    assert investigation.replay is not None
    with qtbot.waitSignal(investigation.replay.sig_replay_started, timeout=TIMEOUT_MS):
        action.trigger()
    timeline = investigation.timeline
    shown_from, shown_to = timeline.visible_range()
    assert shown_from < ada.start and ada.end < shown_to
    assert window.docks["timeline"].isVisible()
    qtbot.waitUntil(lambda: timeline.selected_path() == ada, timeout=TIMEOUT_MS)
    assert timeline.selected_path_text().startswith("Ada: seen by Plaza east ")
    qtbot.waitUntil(lambda: timeline.cursor_time() is not None, timeout=TIMEOUT_MS)
    cursor = timeline.cursor_time()
    assert cursor is not None and abs((cursor - ada.start).total_seconds()) < 2

    # Clicking the path's room bar replays from when she was first sensed there.
    lobby, rect = next((s, r) for s, r in timeline.path_bars(ids.ada) if s.source == LOBBY)
    with qtbot.waitSignal(investigation.sig_moment_chosen, timeout=TIMEOUT_MS) as chosen:
        send_mouse(timeline.canvas, QEvent.Type.MouseButtonPress, rect.center())
        send_mouse(timeline.canvas, QEvent.Type.MouseButtonRelease, rect.center())
    assert chosen.args == [lobby.start]
