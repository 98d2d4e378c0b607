"""The lock screen at a handover: it says which alerts are open and keeps chiming, its card
starts empty for the next person, and Switch user keeps the wall running."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.main_window import MainWindow
from engine.alerts import actions as alert_actions
from tests.actors import ADMIN
from tests.console.conftest import OpenConsole, audit_entries, log_in
from tests.console.test_alert_stream_console import alerting_site, fall
from tests.console.test_login_lock import assert_locked, plaza_site
from widgets.login_panel import LoginMode


def card_text(window: MainWindow) -> str:
    return window.lock_view.alerts_text()


def test_the_lock_screen_counts_open_and_escalated_alerts_live_and_keeps_chiming(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    """Before: the lock screen showed video only, no alert count."""
    host, window = open_console(
        alerting_site(tmp_path), accounts={"olga": "operator"}, login="olga"
    )
    pane, view = window.panes["alerts"], window.lock_view
    qtbot.waitUntil(lambda: pane.header_label.text() == "No open alerts", timeout=5000)
    window.lock("menu")
    assert_locked(window)
    assert card_text(window) == "No open alerts"
    assert view.alerts_label.isVisible() and not view.newest_label.isVisible()
    assert not pane.muted

    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000):
        fall(window)
    first = pane.alerts()[0]
    at = host.runtime.site.site_time.short(first.raised_at, host.runtime.clock.now())
    assert card_text(window) == f"1 open alert\nNewest: {first.title} ({at})"
    assert view.newest_label.isVisible() and view.alerts_hint.isVisible()
    assert "the chime sounds for each new one" in view.alerts_hint.text()
    assert pane.sound.plays == 1  # the chime sounds at a locked console

    service = host.runtime.alerts
    assert service is not None
    waited = service.escalate_after_s
    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000) as chimed:
        service.escalate_after_s = 0  # nobody acknowledged it in time (shortened)
        service.escalate_due()
    service.escalate_after_s = waited  # the next alert waits again
    assert chimed.args == [first.alert_id, "escalated"]
    assert view.alerts.escalated == 1
    assert card_text(window).startswith("1 open alert, 1 escalated\n")
    assert pane.sound.plays == 2

    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000) as chimed:
        fall(window, blob=8)
    second = pane.alert(chimed.args[0])
    assert second is not None
    assert card_text(window).splitlines()[0] == "2 open alerts, 1 escalated"
    assert f"Newest: {second.title} (" in card_text(window)

    # Someone acknowledges the escalated one elsewhere (another console, the CLI): the
    # card follows the engine's event, still locked.
    alert_actions.acknowledge_alert(service, ADMIN, first.alert_id, "seen on camera 2")
    qtbot.waitUntil(lambda: view.alerts.open == 1, timeout=5000)
    assert card_text(window).splitlines()[0] == "1 open alert"
    pane.set_muted(True)  # this console's choice, kept while locked: the card says so
    assert "the chime is muted at this console" in view.alerts_hint.text()
    alert_actions.acknowledge_alert(service, ADMIN, second.alert_id)
    qtbot.waitUntil(lambda: view.alerts.open == 0, timeout=5000)
    assert card_text(window) == "No open alerts" and not view.alerts_hint.isVisible()
    assert window.locked


def test_the_lock_card_starts_empty_with_the_name_in_focus(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    """Before: the card kept the last account's name and focused the password, so the next
    operator's password was tried against it (a failed login for ada)."""
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi), accounts={"ada": "admin", "olga": "operator"}
    )
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    window.lock("ctrl+l")
    panel = window.login_panel
    assert panel.mode is LoginMode.UNLOCK
    assert panel.name_edit.text() == "" and panel.password_edit.text() == ""
    qtbot.waitUntil(panel.name_edit.hasFocus, timeout=5000)
    assert "ada (admin) was logged in" in panel.explanation_label.text()
    assert "your own account" in panel.explanation_label.text()

    log_in(qtbot, window, "olga")
    logins = audit_entries(host, action="session.login") + audit_entries(
        host, action="session.unlock"
    )
    assert [(e.actor, e.outcome) for e in logins if e.outcome != "ok"] == []


def test_switch_user_keeps_the_wall_running_for_the_next_operator(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi), accounts={"ada": "admin", "olga": "operator"}
    )
    tile = window.camera_grid.tiles[0]
    qtbot.waitUntil(lambda: tile.frames_shown > 0, timeout=10_000)
    session_menu = [a.text() for a in window.menus.session_menu.actions()]
    assert session_menu[:3] == ["&Lock\tCtrl+L", "&Switch user", "&Idle lock at this workstation…"]

    window.switch_user_action.trigger()
    assert_locked(window)
    assert window.login_panel.name_edit.text() == ""
    # The wall keeps drawing the camera behind the lock: new frames reach the tile.
    shown = tile.frames_shown
    qtbot.waitUntil(lambda: tile.frames_shown > shown + 3, timeout=10_000)
    assert tile.isVisible() and window.lock_view.isAncestorOf(tile)

    log_in(qtbot, window, "olga")
    assert window.docks["cameras"].widget() is window.camera_grid
    shown = tile.frames_shown
    qtbot.waitUntil(lambda: tile.frames_shown > shown + 3, timeout=10_000)
    qtbot.waitUntil(lambda: bool(audit_entries(host, action="session.lock")), timeout=5000)
    locks = audit_entries(host, action="session.lock")
    assert [(e.actor, e.detail) for e in locks] == [("account:ada", {"reason": "switch"})]
