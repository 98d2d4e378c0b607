"""The alert stream on a running engine: a fall in a sensing room (the very event the sensing
service publishes on the engine's bus) reaches the operator's Alerts pane with a chime and
its webhook outcomes, the operator acknowledges it there (stored with their account,
audited), and an alert nobody acknowledges escalates highlighted, with a chime, and pulls the
pane forward; muting silences the chime but not the alert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from console.layouts import Layout
from console.main_window import MainWindow
from engine.alerts.records import list_alerts
from engine.sensing.service import SensingRecord
from tests.conftest import write_site
from tests.console.conftest import OpenConsole, audit_entries
from tests.engine.alerts.test_webhooks import WebhookServer
from widgets.alerts.plugin import MUTED_KEY as ALERTS_MUTED_KEY
from widgets.alerts.view import (
    COLUMN_STATE,
    COLUMN_WEBHOOKS,
    ESCALATED_BACKGROUND,
    STATE_ESCALATED,
    STATE_OPEN,
)

ROOM = "lab"


@pytest.fixture
def server() -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.thread.start()
    yield server
    server.release.set()
    server.http.shutdown()
    server.http.server_close()
    server.thread.join(5)


def alerting_site(tmp_path: Path, server: WebhookServer | None = None) -> Path:
    """A site without cameras whose alerts go to a webhook that takes them and one that
    answers 500 (when ``server`` is given)."""
    hooks = f'"{server.url("/ok")}", "{server.url("/fail")}"' if server is not None else ""
    return write_site(tmp_path / "alerts.toml", extra=f"[alerts]\nwebhooks = [{hooks}]\n")


def in_front(widget: QWidget) -> bool:
    """Whether ``widget`` can be seen (a dock behind another's tab is "visible" to Qt, but
    nothing of it shows)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def fall(window: MainWindow, blob: int = 7) -> None:
    """Publish on the engine's bus what the sensing service publishes when it confirms a
    fall in the room."""
    runtime = window.runtime
    runtime.bus.publish(
        SensingRecord(
            at=runtime.clock.now(),
            kind="sensing.fall_detected",
            room=ROOM,
            detail={"blob": blob, "position": [1, 2, 0.2], "name": None},
            blob_id=blob,
        )
    )


def test_a_fall_reaches_the_operator_who_acknowledges_it_in_the_pane(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, server: WebhookServer
) -> None:
    host, window = open_console(
        alerting_site(tmp_path, server), accounts={"olga": "operator"}, login="olga"
    )
    assert window.current_layout is Layout.OPERATOR
    dock, pane = window.docks["alerts"], window.panes["alerts"]
    assert in_front(pane)  # the operator's layout shows it
    assert pane.acknowledge_allowed and not pane.muted
    qtbot.waitUntil(lambda: pane.header_label.text() == "No open alerts", timeout=5000)

    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000) as chimed:
        fall(window)
    alert_id, why = chimed.args
    assert why == "raised"
    alert = pane.alert(alert_id)
    assert alert is not None and alert.open and alert.severity == "critical"
    assert f"fell in {ROOM}" in alert.title and alert.source == f"sensing:{ROOM}"
    assert pane.cell_text(alert_id, COLUMN_STATE) == STATE_OPEN
    assert dock.windowTitle() == "Alerts (1 open)"
    assert pane.header_label.text() == "1 open alert"
    assert window.panes["alerts"].sound.plays == 1  # headless it beeps; with speakers it chimes
    # Both webhooks answered: one took it, the other failed twice (500, one retry).
    qtbot.waitUntil(
        lambda: pane.cell_text(alert_id, COLUMN_WEBHOOKS) == "webhooks 1 ok, 1 failed",
        timeout=10_000,
    )
    tip = pane.cell_data(alert_id, COLUMN_WEBHOOKS, Qt.ItemDataRole.ToolTipRole)
    assert "HTTP 500" in tip

    # Selecting it shows what raised it (a fall sensed by WiFi: words, no picture); only
    # then may it be acknowledged, with a note kept in the audit trail.
    with qtbot.waitSignal(pane.sig_evidence_shown, timeout=10_000):
        pane.select(alert_id)
    assert pane.preview.caption.text() == f"Someone may have fallen in {ROOM}"
    assert pane.preview.showing() == "nothing"
    assert "sensed, not seen by a camera" in pane.preview.picture.text()
    assert pane.acknowledge_button.isEnabled()
    pane.note_edit.setText("Nurse on the way")
    with qtbot.waitSignal(pane.sig_alert_acknowledged, timeout=10_000) as done:
        pane.acknowledge_button.click()
    assert done.args == [alert_id]
    assert pane.cell_text(alert_id, COLUMN_STATE) == "Closed by olga"
    assert not pane.acknowledge_button.isEnabled()
    assert dock.windowTitle() == "Alerts" and pane.header_label.text() == "No open alerts"
    (stored,) = list_alerts(host.store)
    assert stored.alert_id == alert_id and stored.acknowledged_by == "account:olga"
    assert stored.acknowledged_at is not None and stored.escalated_at is None
    entries = audit_entries(host, action="alert.acknowledge")
    assert [(e.actor, e.target, e.outcome) for e in entries] == [
        ("account:olga", f"alert:{alert_id}", "ok")
    ]
    assert entries[0].detail["note"] == "Nurse on the way"
    # A second console (or a restart) lists it as acknowledged from the store.
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.refresh()
    assert pane.cell_text(alert_id, COLUMN_WEBHOOKS) == "webhooks 1 ok, 1 failed"
    assert "HTTP 500" in pane.cell_data(alert_id, COLUMN_WEBHOOKS, Qt.ItemDataRole.ToolTipRole)


def test_an_unacknowledged_alert_escalates_highlighted_with_a_chime_and_moves_nothing(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    host, window = open_console(alerting_site(tmp_path))  # ada, an admin: the Admin layout
    assert window.current_layout is Layout.ADMIN
    dock, pane = window.docks["alerts"], window.panes["alerts"]
    events = window.panes["events"]
    assert dock in window.tabifiedDockWidgets(window.docks["events"])  # a tab behind Events
    qtbot.waitUntil(lambda: not in_front(pane), timeout=2000)
    service = host.runtime.alerts
    assert service is not None
    flags = window.host.tab_flags

    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000) as chimed:
        fall(window)
    alert_id = chimed.args[0]
    # Nothing moved: Events stays in front; the Alerts tab is flagged, with the count.
    qtbot.waitUntil(lambda: flags.is_flagged("alerts"), timeout=2000)
    qtbot.wait(200)
    assert in_front(events) and not in_front(pane)
    assert dock.windowTitle() == "Alerts (1 open)"
    assert pane.cell_text(alert_id, COLUMN_WEBHOOKS) == "no webhooks"
    dock.raise_()  # the operator looks: the flag is done
    qtbot.waitUntil(lambda: not flags.is_flagged("alerts"), timeout=2000)

    # Nobody acknowledges it in time (the site's minimum is 10 s: the test shortens it).
    window.docks["events"].raise_()
    qtbot.waitUntil(lambda: not in_front(pane), timeout=2000)
    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000) as chimed:
        service.escalate_after_s = 0
        service.escalate_due()
    assert chimed.args == [alert_id, "escalated"]
    qtbot.waitUntil(lambda: flags.is_flagged("alerts"), timeout=2000)
    assert in_front(events) and not in_front(pane)
    dock.raise_()
    qtbot.waitUntil(lambda: in_front(pane), timeout=2000)
    assert pane.cell_text(alert_id, COLUMN_STATE) == STATE_ESCALATED
    background = pane.cell_data(alert_id, COLUMN_STATE, Qt.ItemDataRole.BackgroundRole)
    assert isinstance(background, QBrush) and background.color() == QColor(ESCALATED_BACKGROUND)
    assert pane.header_label.text() == "1 open alert, 1 escalated"
    assert list_alerts(host.store)[0].escalated_at is not None
    assert window.panes["alerts"].sound.plays == 2

    # Muted (remembered by this console): the next fall shows and is flagged, silently.
    pane.mute_box.click()
    assert window.settings.value(ALERTS_MUTED_KEY) in (True, "true")
    window.docks["events"].raise_()
    qtbot.waitUntil(lambda: not in_front(pane), timeout=2000)
    with qtbot.waitSignal(pane.sig_attention_requested, timeout=10_000) as attention:
        fall(window, blob=8)
    assert attention.args[0] != alert_id
    assert pane.alert(attention.args[0]) is not None
    assert flags.is_flagged("alerts") and in_front(events)
    assert window.panes["alerts"].sound.plays == 2 and pane.open_count() == 2
    assert window.docks["alerts"].windowTitle() == "Alerts (2 open)"


def test_an_operator_takes_notes_and_escalates_an_alert_with_no_event_of_its_own(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    """Before: "Escalate to incident…" was greyed on an alert with no stored event (every
    alert of a rule); notes were kept only in the audit trail. Now the console files such an
    alert at its place and every step shows in the alert's history."""
    from engine.alerts.records import RaiseAlert

    host, window = open_console(
        alerting_site(tmp_path), accounts={"olga": "operator"}, login="olga"
    )
    pane = window.panes["alerts"]
    assert host.runtime.writer is not None
    raised = host.runtime.writer.execute(
        RaiseAlert(
            raised_at=host.runtime.clock.now(),
            kind="loitering",
            source="camera:back-door",
            severity="warning",
            title="Loitering at the back door",
            detail={},
        )
    )
    alert_id = raised.alert_id
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=5000):
        pane.refresh()
    with qtbot.waitSignal(pane.sig_evidence_shown, timeout=10_000):
        pane.select(alert_id)
    pane.take_selected()
    qtbot.waitUntil(
        lambda: pane.cell_text(alert_id, COLUMN_STATE) == "In progress: olga",
        timeout=10_000,
    )
    # The row may show the take (the engine's AlertChanged) before the pane's own request
    # is answered; a second change of the same alert waits for that answer.
    qtbot.waitUntil(lambda: "is in progress: olga has it" in pane.strip.status(), timeout=10_000)
    pane.note_edit.setText("Nobody at the door now")
    assert pane.note_selected()
    qtbot.waitUntil(
        lambda: "olga: Nobody at the door now" in pane.history_label.text(), timeout=10_000
    )
    assert pane.escalate_button.isEnabled()
    with qtbot.waitSignal(pane.sig_incident_escalated, timeout=20_000) as escalated:
        assert pane.escalate_selected("Someone tried the back door")
    incident_id = escalated.args[1]
    qtbot.waitUntil(
        lambda: f"olga escalated it to incident {incident_id}" in pane.history_label.text(),
        timeout=10_000,
    )
    # Newest first: each step audited under the alert.
    assert [e.action for e in audit_entries(host) if e.target == f"alert:{alert_id}"] == [
        "alert.escalate",
        "alert.note",
        "alert.take",
    ]
