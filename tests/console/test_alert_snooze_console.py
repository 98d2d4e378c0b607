"""Snoozing a camera's alerts from the Alerts pane of a running console: the pane's calls
reach the engine's action through the console's backend as the person logged in, stored
and audited, and the listing brings the snooze back from the store."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from engine.alerts.snoozes import active_snoozes
from tests.conftest import write_site
from tests.console.conftest import OpenConsole, audit_entries
from widgets.alerts.view import AlertStreamPane


def test_an_operator_snoozes_a_camera_in_the_pane_and_ends_it_early(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "gate"\nname = "Gate"\nurl = "{tmp_path / "missing.mp4"}"\n',
    )
    host, window = open_console(site, accounts={"olga": "operator"}, login="olga")
    pane = window.panes["alerts"]
    assert isinstance(pane, AlertStreamPane) and pane.acknowledge_allowed
    runtime = host.runtime
    assert runtime.site_ids is not None
    site_id = runtime.site_ids.site_id

    with qtbot.waitSignal(pane.sig_snooze_changed, timeout=10_000):
        assert pane.snooze_camera("gate", 30)
    assert pane.snooze_label.text().startswith("Gate: alerts snoozed until ")
    (running,) = active_snoozes(host.store, site_id, runtime.clock.now())
    assert (running.camera, running.snoozed_by) == ("gate", "account:olga")
    (entry,) = audit_entries(host, action="alert.snooze")
    assert (entry.actor, entry.target, entry.outcome) == ("account:olga", "camera gate", "ok")
    assert entry.detail["until"] == running.until.isoformat()
    # A new listing (another console, a restart) reads it back from the store.
    with qtbot.waitSignal(pane.sig_alerts_listed, timeout=10_000):
        pane.refresh()
    assert [s.until for s in pane.snoozes()] == [running.until]

    with qtbot.waitSignal(pane.sig_snooze_changed, timeout=10_000):
        assert pane.unsnooze_camera("gate")
    assert not pane.snooze_label.isVisible()
    assert active_snoozes(host.store, site_id, runtime.clock.now()) == []
    (ended,) = audit_entries(host, action="alert.unsnooze")
    assert (ended.actor, ended.detail["until"]) == ("account:olga", running.until.isoformat())
