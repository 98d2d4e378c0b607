"""The idle lock warns before it locks, and a watch station may spare roles from it.

Seconds are shortened through the flow (``second_ms``): the countdown is the same number of
ticks a person sees, each 20 ms long; nothing here sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from console.login_flow import IDLE_EXEMPT_ROLES_KEY, WORKSTATION_IDLE_TARGET, idle_warning_s
from console.main_window import MainWindow
from engine.access import PermissionDeniedError, Role
from engine.settings import IDLE_LOCK_EXEMPT_ROLES_KEY, ChangeSetting
from tests.actors import ADMIN
from tests.console.conftest import OpenConsole, audit_entries, log_in
from tests.console.test_login_lock import assert_locked, plaza_site

SECOND_MS = 20


def shorten(qtbot: QtBot, window: MainWindow, idle_lock_s: int) -> None:
    """The site's idle lock as ``idle_lock_s`` s, each second :data:`SECOND_MS` long."""
    flow = window.login
    qtbot.waitUntil(lambda: flow.idle_setting_read, timeout=5000)  # not overwritten later
    flow.second_ms = SECOND_MS
    flow.idle_lock_s = idle_lock_s
    flow.restart_idle_timer()


def test_the_warning_is_the_last_30_seconds_or_half_a_short_setting() -> None:
    assert idle_warning_s(300) == 30
    assert idle_warning_s(40) == 20
    assert idle_warning_s(1) == 1
    assert idle_warning_s(0) == 0


def test_the_idle_lock_counts_down_in_a_banner_and_any_input_cancels_it(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    """Before: five minutes without input locked the console with no warning."""
    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    flow, banner = window.login, window.login.idle_banner
    shown: list[int] = []
    flow.sig_idle_warning_changed.connect(shown.append)
    shorten(qtbot, window, 40)  # 20 quiet seconds, then a 20-second countdown

    qtbot.waitUntil(lambda: flow.warning_shown, timeout=5000)
    assert shown[0] == 20 and not window.locked
    assert banner.isVisible()
    qtbot.waitUntil(lambda: flow.seconds_left <= 15, timeout=5000)
    assert banner.text() == (
        f"Locking in {flow.seconds_left} s — move the mouse or press a key to stay logged in"
    )
    # It lies across the top of the window, under the menu bar, over the panes.
    assert banner.y() == window.menuBar().geometry().bottom() + 1
    assert banner.width() == window.width()

    # A key (as the X server's key events arrive, through the window) cancels it.
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_Shift)
    assert not flow.warning_shown and banner.isHidden() and not window.locked
    assert shown[-1] == 0 and flow.idle_timer.isActive()  # the quiet time starts again

    qtbot.waitUntil(lambda: flow.warning_shown, timeout=5000)
    QTest.mouseMove(window.windowHandle(), window.rect().center())  # so does the mouse
    assert not flow.warning_shown and banner.isHidden() and not window.locked

    qtbot.waitUntil(lambda: flow.warning_shown, timeout=5000)
    banner.stay_button.click()  # and the banner's button
    assert not flow.warning_shown and not window.locked

    # Nobody there: the countdown runs out and it locks, audited "idle".
    shown.clear()
    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    assert shown == [*range(20, 0, -1), 0]
    assert_locked(window)
    assert banner.isHidden()
    qtbot.waitUntil(lambda: bool(audit_entries(host, action="session.lock")), timeout=5000)
    locks = audit_entries(host, action="session.lock")
    assert [(e.actor, e.detail) for e in locks] == [("account:ada", {"reason": "idle"})]


def test_a_countdown_under_way_ends_when_someone_locks_by_hand(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    _host, window = open_console(plaza_site(tmp_path, vtest_avi))
    flow = window.login
    shorten(qtbot, window, 400)  # a 30-second countdown after 370 quiet ones
    flow.idle_timer.start(0)
    qtbot.waitUntil(lambda: flow.warning_shown, timeout=5000)
    window.lock("menu")
    assert not flow.warning_shown and flow.idle_banner.isHidden()
    assert not flow.countdown_timer.isActive() and not flow.idle_timer.isActive()


@pytest.mark.slow
def test_a_watch_station_spares_operators_from_the_idle_lock_but_not_an_admin(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi), accounts={"ada": "admin", "olga": "operator"}
    )
    flow = window.login
    assert flow.idle_timer.isActive() and flow.exempt_roles() == frozenset()

    # Session → Idle lock at this workstation…: ada (an admin) ticks "operator".
    window.idle_lock_action.trigger()
    dialog = flow.idle_dialog
    assert dialog is not None and dialog.isVisible()
    assert list(dialog.role_boxes) == ["operator", "investigator", "admin"]
    assert all(box.isEnabled() for box in dialog.role_boxes.values())
    dialog.role_boxes["operator"].setChecked(True)
    with qtbot.waitSignal(dialog.finished, timeout=5000):
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert flow.idle_dialog is None
    assert window.settings.value(IDLE_EXEMPT_ROLES_KEY) in (["operator"], "operator")
    changes = audit_entries(host, action="settings.change")
    assert [(e.actor, e.target, e.detail["old"], e.detail["new"]) for e in changes] == [
        ("account:ada", WORKSTATION_IDLE_TARGET, [], ["operator"])
    ]
    assert changes[0].detail["workstation"]
    assert flow.idle_timer.isActive()  # an admin here still locks when idle

    window.lock("switch")
    log_in(qtbot, window, "olga")
    assert not flow.idle_lock_applies and not flow.idle_timer.isActive()
    shorten(qtbot, window, 2)  # even a short site setting leaves her watch alone
    assert not flow.idle_timer.isActive() and not flow.warning_shown

    # Olga may look, not change: the boxes are off, and the engine's rule says why.
    window.idle_lock_action.trigger()
    dialog = flow.idle_dialog
    assert dialog is not None
    assert not any(box.isEnabled() for box in dialog.role_boxes.values())
    assert dialog.role_boxes["operator"].isChecked()
    assert "change-settings permission" in dialog.permission_label.text()
    dialog.reject()
    with pytest.raises(PermissionDeniedError):
        window.session.audit_workstation_setting(WORKSTATION_IDLE_TARGET, [], [], "here")

    # An admin logging in at the same station: the lock applies to them again.
    window.lock("switch")
    flow.second_ms, flow.idle_lock_s = 1000, 300  # real seconds: it is still counting
    log_in(qtbot, window, "ada")
    assert flow.idle_lock_applies and flow.idle_timer.isActive()


@pytest.mark.slow
def test_a_role_spared_site_wide_is_not_locked_when_idle_while_another_role_is(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    """``security.idle_lock_exempt_roles`` spares a role on every console, and a change
    reaches a running console: saved in its System pane at once, or from the command line
    (another process) with the account's next re-check."""
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi), accounts={"ada": "admin", "olga": "operator"}
    )
    flow = window.login
    qtbot.waitUntil(lambda: flow.idle_setting_read, timeout=5000)
    assert flow.idle_timer.isActive() and flow.site_exempt_roles == frozenset()

    # Ada (an admin) spares operators site-wide in System and settings.
    system = window.panes["system"]
    qtbot.waitUntil(lambda: system.editors["security.idle_lock_s"].value() == 300, timeout=5000)
    assert list(system.role_editors[IDLE_LOCK_EXEMPT_ROLES_KEY].boxes) == [
        "operator",
        "investigator",
        "admin",
    ]
    system.role_editors[IDLE_LOCK_EXEMPT_ROLES_KEY].boxes["operator"].setChecked(True)
    with qtbot.waitSignal(system.sig_settings_saved, timeout=5000):
        system.save_button.click()
    qtbot.waitUntil(lambda: flow.site_exempt_roles == {Role.OPERATOR}, timeout=5000)
    assert flow.idle_lock_applies and flow.idle_timer.isActive()  # an admin still locks
    changes = audit_entries(host, action="settings.change")
    assert [(e.actor, e.target, e.detail) for e in changes] == [
        ("account:ada", IDLE_LOCK_EXEMPT_ROLES_KEY, {"old": None, "new": ["operator"]})
    ]

    # The workstation's dialog shows the site's roles beside its own (none ticked here).
    window.idle_lock_action.trigger()
    dialog = flow.idle_dialog
    assert dialog is not None and dialog.site_label.text() == "Site-wide: operator"
    assert not any(box.isChecked() for box in dialog.role_boxes.values())
    dialog.reject()

    # Olga (an operator) is spared by the site, not by this workstation.
    window.lock("switch")
    log_in(qtbot, window, "olga")
    assert flow.exempt_roles() == frozenset()
    assert not flow.idle_lock_applies and not flow.idle_timer.isActive()
    shorten(qtbot, window, 2)  # even a short site setting leaves her watch alone
    assert not flow.idle_timer.isActive() and not flow.warning_shown

    # An admin takes it back from the command line: the re-check reads it, and her idle
    # lock counts again.
    writer = host.runtime.writer
    assert writer is not None
    writer.execute(
        ChangeSetting(key=IDLE_LOCK_EXEMPT_ROLES_KEY, value=(), at=datetime.now(UTC), actor=ADMIN)
    )
    flow.recheck_account()  # the timer's job, every 15 s
    qtbot.waitUntil(lambda: flow.idle_timer.isActive(), timeout=5000)
    assert flow.idle_lock_applies and flow.site_exempt_roles == frozenset()
    assert not window.locked
