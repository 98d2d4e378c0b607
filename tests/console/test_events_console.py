"""The Events pane on a running console lists stored rows only: a row that arrives from the
stream carries the store's id and can be acted on at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from engine.incidents.records import incident_reports
from engine.store.models import Event
from tests.console.conftest import OpenConsole
from tests.console.test_main_window import plaza_site

TIMEOUT_MS = 30_000


@pytest.mark.slow
def test_a_row_from_the_stream_is_the_stored_row_and_is_escalated_at_once(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    """Before: the pane showed each event as it happened, with id 0, before the writer had
    stored it; it could not be escalated ("not stored yet") until a refresh listed it."""
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi), accounts={"olga": "operator"}, login="olga"
    )
    events = window.panes["events"]
    qtbot.waitUntil(lambda: not events.is_loading(), timeout=TIMEOUT_MS)
    # What the first page (and the stream so far) gave; a key, as live rows had no id.
    listed = {(v.id, v.kind, v.ts, v.source) for v in events.model.events()}

    def streamed_row() -> int | None:
        for row in range(events.row_count()):
            view = events.event_at(row)
            if view is not None and (view.id, view.kind, view.ts, view.source) not in listed:
                return row
        return None

    qtbot.waitUntil(lambda: streamed_row() is not None, timeout=TIMEOUT_MS)
    row = streamed_row()
    assert row is not None
    view = events.event_at(row)
    assert view is not None and view.id > 0
    with host.store.sessions() as session:  # the row exists as shown, with no flush
        stored = session.execute(
            select(Event.kind, Event.ts).where(Event.id == view.id)
        ).one_or_none()
    assert stored is not None and tuple(stored) == (view.kind, view.ts)

    events.table.selectRow(row)
    assert events.escalate_button.isEnabled()  # straight away, by the operator
    with qtbot.waitSignal(events.sig_incident_escalated, timeout=TIMEOUT_MS) as escalated:
        assert events.escalate_selected("Seen live on the plaza")
    event_id, incident_id = escalated.args
    assert event_id == view.id
    (report,) = incident_reports(host.store, incident_id)
    assert report.source == "escalation"
    assert report.text.startswith(f"Seen live on the plaza [escalated from event {view.id}:")
