"""Incidents on a running console: the Risk map and Incidents docks share places with the
existing panes (the window keeps its size), an operator clicks the map to place a report,
files it from the form (classified and stored by the engine, audited), sees it listed through
the engine's IncidentFiled event, validates it, and escalates an alert's event to an
incident; locking closes the form and turns escalation off."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.layouts import Layout
from engine.incidents.records import incident_reports, list_incidents
from tests.conftest import write_site
from tests.console.conftest import OpenConsole, audit_entries
from tests.console.test_alert_stream_console import fall


def test_an_operator_files_validates_and_escalates_incidents_from_the_console(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, window = open_console(
        write_site(tmp_path / "site.toml"), accounts={"olga": "operator"}, login="olga"
    )
    assert window.current_layout is Layout.OPERATOR
    incidents, risk_map = window.docks["incidents"], window.docks["risk_map"]
    # Tabs behind the alert stream and the cameras: nothing else moves.
    assert incidents in window.tabifiedDockWidgets(window.docks["alerts"])
    assert risk_map in window.tabifiedDockWidgets(window.docks["cameras"])
    assert (window.width(), window.height()) == (1400, 860)
    pane = window.panes["incidents"]
    assert pane.may_file and pane.may_label  # operators file and label
    assert window.panes["alerts"].escalate_allowed

    incidents.raise_()
    qtbot.waitUntil(lambda: pane.listings >= 1, timeout=10_000)
    assert pane.incidents() == []
    form = pane.open_report_form()
    assert form is not None and form.isVisible()
    window.panes["risk_map"].sig_location_picked.emit(
        51.5103, -0.1402
    )  # a click on the map, 1 km N
    assert form.place() == (51.5103, -0.1402)
    form.text_edit.setPlainText("Fire in the bins behind the shop, smoke everywhere")
    form.reporter_edit.setText("Sam")
    with qtbot.waitSignal(form.sig_report_filed, timeout=30_000) as filed:
        assert form.submit()
    (incident_id,) = filed.args
    assert form.strip.status().startswith(f"Filed: new incident {incident_id}: fire, severity")
    # The engine's IncidentFiled reached the list through the bridge.
    qtbot.waitUntil(
        lambda: [v.incident_id for v in pane.incidents()] == [incident_id], timeout=10_000
    )
    qtbot.waitUntil(lambda: [r.reporter for r in pane.reports()] == ["Sam"], timeout=10_000)

    monkeypatch.setattr(pane, "_confirm", lambda _title, _text: True)
    with qtbot.waitSignal(pane.sig_incident_changed, timeout=10_000):
        assert pane.validate_selected()
    (stored,) = list_incidents(host.store)
    assert stored.validated_by == "account:olga" and stored.category == "fire"
    entries = audit_entries(host, action="incident.validate")
    assert [(e.actor, e.target) for e in entries] == [("account:olga", f"incident:{incident_id}")]

    # An alert's event becomes an incident from the alert stream.
    alerts = window.panes["alerts"]
    with qtbot.waitSignal(alerts.sig_alerts_listed, timeout=10_000):
        alerts.refresh()
    with qtbot.waitSignal(alerts.sig_open_count_changed, timeout=10_000):
        fall(window)
    (alert,) = alerts.alerts()
    if alert.event_id is None:  # raised before its event was stored: read it back
        with qtbot.waitSignal(alerts.sig_alerts_listed, timeout=10_000):
            alerts.refresh()
        (alert,) = alerts.alerts()
    assert alert.event_id is not None
    alerts.select(alert.alert_id)
    with qtbot.waitSignal(alerts.sig_incident_escalated, timeout=30_000) as escalated:
        assert alerts.escalate_selected("Resident on the floor, not answering")
    escalated_id = escalated.args[1]
    assert escalated.args[0] == alert.alert_id and escalated_id != incident_id
    assert alerts.strip.status().startswith(
        f"Alert {alert.alert_id} escalated: new incident {escalated_id}:"
    )
    (escalated_report,) = incident_reports(host.store, escalated_id)
    assert escalated_report.source == "escalation"
    assert escalated_report.text.startswith("Resident on the floor, not answering [escalated")
    qtbot.waitUntil(lambda: pane.shown_incident() == escalated_id, timeout=10_000)

    # Locked, nobody may act: the form closes and escalating is off.
    pane.open_report_form()
    window.lock("menu")
    assert not form.isVisible() and not pane.may_file and not pane.may_label
    assert not alerts.escalate_allowed and not window.panes["events"].escalate_button.isEnabled()
