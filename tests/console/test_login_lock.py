"""Logging in, locking and roles at the console, through the window as a person uses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget
from pytestqt.qtbot import QtBot

from console.layouts import Layout
from console.main_window import MainWindow
from console.session import NotLoggedInError
from engine.access import PermissionDeniedError, Role
from engine.accounts import SetDisabled, SetRoles, accounts_exist
from engine.identity.people import list_people
from tests.actors import ADMIN
from tests.clocks import HoldableClock
from tests.conftest import write_site
from tests.console.conftest import PASSWORD, OpenConsole, audit_entries, log_in
from widgets.login_panel import LoginMode
from widgets.people.view import PUBLIC_ID_ROLE

CONTROL_PANES = ("events", "people", "site", "system", "audit", "accounts")


def plaza_site(tmp_path: Path, video: Path) -> Path:
    return write_site(
        tmp_path / "site.toml", f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{video}"\n'
    )


def assert_locked(window: MainWindow) -> None:
    """Live view on, every control hidden, menus other than File disabled, panel shown."""
    assert window.locked and window.session.actor is None
    # The lock view fills the window: the live wall beside the login card, no dock shown.
    assert window.lock_view.isVisible() and window.login_panel.isVisible()
    assert window.camera_grid.isVisible() and window.lock_view.isAncestorOf(window.camera_grid)
    shown = [name for name, dock in window.docks.items() if dock.isVisible()]
    assert shown == [], f"panes shown while locked: {shown}"
    assert not window.menus.view_menu.menuAction().isEnabled()
    assert not window.menus.session_menu.menuAction().isEnabled()
    assert all(not a.isEnabled() for a in window.layout_actions.values())
    assert not window.menus.lock_action.isEnabled()
    file_menu = window.menuBar().actions()[0]
    assert file_menu.isEnabled() and file_menu.text() == "&File"


def shown_panes(window: MainWindow) -> set[str]:
    return {name for name, dock in window.docks.items() if not dock.isHidden()}


def add_person(window: MainWindow) -> str:
    """A person the face memory met on camera (no login needed: the engine's own path)."""
    rng = np.random.default_rng(7)
    vector = rng.normal(size=128).astype(np.float32)
    person = (
        window.backends["people"]
        .memory()
        .observe(vector / np.linalg.norm(vector), datetime.now(UTC))
    )
    return person.public_id


def select_person(qtbot: QtBot, window: MainWindow, public_id: str) -> None:
    with qtbot.waitSignal(window.panes["people"].sig_people_listed, timeout=5000):
        window.panes["people"].refresh(warn=False)
    model = window.panes["people"].view.model()
    for row in range(model.rowCount()):
        if model.index(row, 0).data(PUBLIC_ID_ROLE) == public_id:
            window.panes["people"].view.selectRow(row)
    assert window.panes["people"].selected_ids() == [public_id]


def test_first_start_creates_the_first_admin_through_the_panel(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(plaza_site(tmp_path, vtest_avi), accounts={}, login=None)
    panel = window.login_panel
    qtbot.waitUntil(lambda: panel.mode is LoginMode.FIRST_ADMIN, timeout=5000)
    assert_locked(window)
    assert "This is the first start: create the admin account" in panel.explanation_label.text()
    assert panel.password_again_edit.isVisible()
    assert window.status.session_label.text() == "Locked: nobody is logged in"

    panel.name_edit.setText("ada")
    panel.password_edit.setText(PASSWORD)
    panel.password_again_edit.setText(PASSWORD + "x")
    qtbot.keyClick(panel.password_again_edit, Qt.Key.Key_Return)
    assert panel.failure_text() == "the two passwords do not match"
    assert not accounts_exist(host.store)

    panel.password_edit.setText("short")  # the engine's rule, shown as the engine says it
    panel.password_again_edit.setText("short")
    qtbot.keyClick(panel.password_again_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "at least 8 characters" in panel.failure_text(), timeout=5000)
    assert window.locked and panel.mode is LoginMode.FIRST_ADMIN

    panel.password_edit.setText(PASSWORD)
    panel.password_again_edit.setText(PASSWORD)
    panel.login_button.click()
    qtbot.waitUntil(lambda: not window.locked, timeout=10_000)
    assert window.status.session_label.text() == "ada (admin)"
    assert window.current_layout is Layout.ADMIN
    assert not window.lock_view.isVisible()
    assert window.docks["cameras"].widget() is window.camera_grid
    assert window.docks["cameras"].isVisible() and window.docks["sensing"].isVisible()
    assert window.administration_action.isEnabled()
    assert window.menus.view_menu.menuAction().isEnabled()
    created = audit_entries(host, action="account.create")
    assert [(e.target, e.actor.split(":")[0], e.detail["first"]) for e in created] == [
        ("ada", "machine", True)
    ]


@pytest.mark.slow
def test_a_delayed_account_is_refused_like_an_unknown_name(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    # The delay is a second of wall time: the console's clock stands still from the first
    # attempt until the last refusal, however slowly a loaded machine answers.
    clock = HoldableClock()
    host, window = open_console(plaza_site(tmp_path, vtest_avi), login=None, session_clock=clock)
    panel = window.login_panel
    qtbot.waitUntil(lambda: panel.mode is LoginMode.LOGIN, timeout=5000)
    assert_locked(window)
    assert not panel.password_again_edit.isVisible()

    def attempt(name: str, password: str) -> str:
        panel.clear_failure()
        panel.name_edit.setText(name)
        panel.password_edit.setText(password)
        qtbot.keyClick(panel.password_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(panel.failure_text()), timeout=5000)
        assert window.locked and panel.password_edit.text() == ""
        assert panel.login_button.isEnabled()  # no countdown tells that the name exists
        return panel.failure_text()

    held = clock.hold()
    wrong = attempt("ada", "not the password")
    assert wrong.startswith("wrong account name or password")
    # The engine hears no attempt for ada for a second: even the right password is
    # refused, with the words an unknown name gets.
    assert attempt("ada", PASSWORD) == wrong
    assert attempt("nobody", PASSWORD) == wrong
    assert "try again" not in wrong

    logins = audit_entries(host, action="session.login")
    assert [(e.outcome, e.detail["reason"]) for e in reversed(logins)] == [
        ("failed", "wrong password"),
        ("denied", "delayed"),
        ("failed", "unknown account"),
    ]
    assert logins[1].detail["retry_after"]  # admins read the delay in the audit trail
    clock.release()
    qtbot.waitUntil(lambda: clock.now() > held + timedelta(seconds=1), timeout=5000)
    panel.clear_failure()
    log_in(qtbot, window, "ada")  # once the second has passed, the right password works
    assert window.status.session_label.text() == "ada (admin)"


def test_ctrl_l_locks_and_the_same_person_unlocks_where_they_left(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    window.layout_actions[Layout.INVESTIGATOR].trigger()
    window.docks["sensing"].show()  # the arrangement as left
    before = shown_panes(window)
    assert {"events", "sensing"} <= before

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    with qtbot.waitSignal(window.sig_session_changed, timeout=5000) as changed:
        qtbot.keyClick(window.camera_grid, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert changed.args == [""]
    assert_locked(window)
    # Every pane that offers changes heard that nobody is logged in, not only some.
    assert (
        not window.panes["ble_devices"].changes_allowed
        and not window.panes["gestures"].changes_allowed
    )
    assert not window.panes["people"].rename_action.isEnabled()
    assert not window.panes["alerts"].acknowledge_button.isEnabled()
    assert window.login_panel.mode is LoginMode.UNLOCK
    # Any account may unlock: the card starts empty for whoever comes next.
    assert window.login_panel.name_edit.text() == ""
    assert window.status.session_label.text() == "Locked (ada (admin) was logged in)"
    with pytest.raises(NotLoggedInError, match="nobody is logged in"):
        window.backends["people"].rename("Person_00000000", "Eve")
    window.switch_layout(Layout.ADMIN)  # refused while locked
    assert window.current_layout is Layout.INVESTIGATOR and window.locked

    log_in(qtbot, window, "ada")
    assert window.current_layout is Layout.INVESTIGATOR
    assert shown_panes(window) == before
    closable = QDockWidget.DockWidgetFeature.DockWidgetClosable
    assert window.docks["cameras"].features() & closable
    assert window.status.session_label.text() == "ada (admin)"
    # The lock is audited from a query worker: wait until its entry is written.
    qtbot.waitUntil(lambda: bool(audit_entries(host, action="session.lock")), timeout=5000)
    locks = audit_entries(host, action="session.lock")
    assert [(e.actor, e.detail) for e in locks] == [("account:ada", {"reason": "ctrl+l"})]
    assert audit_entries(host, action="session.unlock")[0].outcome == "ok"


@pytest.mark.slow
def test_idle_input_postpones_the_lock_and_silence_locks(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    assert window.login.idle_lock_s == 300  # the default, read from the engine's settings
    system = window.panes["system"]
    qtbot.waitUntil(lambda: system.editors["security.idle_lock_s"].value() == 300, timeout=5000)
    system.editors["security.idle_lock_s"].setValue(1)
    with qtbot.waitSignal(system.sig_settings_saved, timeout=5000):
        system.save_button.click()
    qtbot.waitUntil(lambda: window.login.idle_lock_s == 1, timeout=5000)

    for _ in range(8):  # 1.6 s of someone typing: no lock
        qtbot.wait(200)
        # Through the window, as the X server's key events arrive.
        qtbot.keyClick(window.windowHandle(), Qt.Key.Key_Shift)
    assert not window.locked

    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    assert_locked(window)
    # The lock is audited from a query worker: wait until it has reached the store writer
    # (the full check once read the trail before it had).
    qtbot.waitUntil(lambda: bool(audit_entries(host, action="session.lock")), timeout=5000)
    # The lock is audited from a query worker: wait until its entry is written.
    qtbot.waitUntil(lambda: bool(audit_entries(host, action="session.lock")), timeout=5000)
    locks = audit_entries(host, action="session.lock")
    assert [e.detail for e in locks] == [{"reason": "idle"}]


def test_a_different_person_unlocks_into_their_own_layout(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi), accounts={"ada": "admin", "olga": "operator"}
    )
    assert window.current_layout is Layout.ADMIN
    # What ada opens: the administration window, a clip, the export dialog.
    assert window.open_administration("audit") is not None
    assert window.panes["events"].play_clip(vtest_avi)
    player = window.panes["events"].player
    assert player is not None and player.path is not None
    export = window.panes["timeline"].open_export(
        *window.panes["timeline"].timeline.visible_range()
    )
    assert export is not None and export.isVisible()
    window.menus.session_menu.actions()[0].trigger()  # Session → Lock
    assert_locked(window)
    # The next person finds none of it open.
    assert not window.admin_window.isVisible()
    assert player.path is None and player.isHidden()
    assert not export.isVisible()
    log_in(qtbot, window, "olga")
    assert window.session.actor is not None and window.session.actor.name == "olga"
    assert not window.admin_window.isVisible() and player.isHidden()
    assert window.current_layout is Layout.OPERATOR
    assert window.status.session_label.text() == "olga (operator)"
    assert not window.layout_actions[Layout.ADMIN].isVisible()
    assert window.admin_window.allowed_pages() == ["site", "system", "ble_devices"]
    assert window.open_administration("audit") is None
    # The lock is audited from a query worker: wait until its entry is written.
    qtbot.waitUntil(lambda: bool(audit_entries(host, action="session.lock")), timeout=5000)
    locks = audit_entries(host, action="session.lock")
    assert [(e.actor, e.detail["reason"]) for e in locks] == [("account:ada", "menu")]
    unlocks = audit_entries(host, action="session.unlock")
    assert [(e.actor, e.outcome) for e in unlocks] == [("account:olga", "ok")]


@pytest.mark.slow
def test_an_admins_change_elsewhere_reaches_a_logged_in_console(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    """Before: the console kept acting with the roles read at login, so a disabled
    account stayed logged in until the next lock."""
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi),
        accounts={"ada": "admin", "olga": "operator"},
        login="olga",
    )
    writer = host.runtime.writer
    assert writer is not None
    assert not window.layout_actions[Layout.INVESTIGATOR].isVisible()
    writer.execute(
        SetRoles(
            name="olga",
            roles=frozenset({Role.OPERATOR, Role.INVESTIGATOR}),
            at=datetime.now(UTC),
            actor=ADMIN,
        )
    )
    window.login.recheck_account()  # the timer's job, every 15 s
    qtbot.waitUntil(lambda: window.layout_actions[Layout.INVESTIGATOR].isVisible(), timeout=5000)
    assert window.session.actor is not None
    assert window.session.actor.roles == {Role.OPERATOR, Role.INVESTIGATOR}
    assert window.status.session_label.text() == "olga (operator, investigator)"

    writer.execute(SetDisabled(name="olga", disabled=True, at=datetime.now(UTC), actor=ADMIN))
    window.login.recheck_account()
    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    assert_locked(window)
    assert "disabled by an admin" in window.login_panel.failure_text()
    # The lock is audited from a query worker: wait until its entry is written.
    qtbot.waitUntil(lambda: bool(audit_entries(host, action="session.lock")), timeout=5000)
    locks = audit_entries(host, action="session.lock")
    assert [(e.actor, e.detail["reason"]) for e in locks] == [("account:olga", "revoked")]
    assert (
        window.login.recheck_timer.interval() == 15_000
        and not window.login.recheck_timer.isActive()
    )


@pytest.mark.slow
def test_an_operator_and_an_investigator_are_refused_by_the_engine(
    qtbot: QtBot,
    open_console: OpenConsole,
    tmp_path: Path,
    vtest_avi: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi),
        accounts={"ada": "admin", "olga": "operator", "ian": "investigator"},
        login="olga",
    )
    assert window.current_layout is Layout.OPERATOR
    assert [a.isVisible() for a in window.layout_actions.values()] == [True, False, False]
    for page in ("audit", "accounts"):
        assert window.open_administration(page) is None
    assert not window.panes["audit"].isVisible() and not window.panes["accounts"].isVisible()
    window.switch_layout(Layout.ADMIN)
    assert window.current_layout is Layout.OPERATOR
    assert "not for olga (operator)" in window.statusBar().currentMessage()
    menu = window.createPopupMenu()
    assert menu is not None
    assert "Audit" not in [a.text() for a in menu.actions()]

    public_id = add_person(window)
    window.docks["people"].show()
    select_person(qtbot, window, public_id)
    people = window.panes["people"]
    assert not people.erase_action.isEnabled() and not people.rename_action.isEnabled()
    warnings: list[str] = []
    monkeypatch.setattr(people, "_show_warning", lambda _title, text: warnings.append(text))
    monkeypatch.setattr(people, "_confirm_erase", lambda _person: True)
    with qtbot.waitSignal(people.sig_action_finished, timeout=5000) as finished:
        people._on_erase_requested()  # asked for anyway: the engine decides
    assert finished.args[1] is False
    assert "olga (operator) may not erase people" in people.error_label.text()
    assert warnings and "erase_people" in warnings[0]
    assert [p.public_id for p in list_people(host.store)] == [public_id]  # not erased
    with pytest.raises(PermissionDeniedError):
        window.backends["people"].rename(public_id, "Eve")

    system = window.panes["system"]
    assert not system.changes_allowed and not system.save_button.isEnabled()
    assert "change_settings" in system.permission_label.text()
    qtbot.waitUntil(lambda: system.editors["retention.clips_days"].value() == 30, timeout=5000)
    system.editors["retention.clips_days"].setValue(3)
    with qtbot.waitSignal(system.sig_settings_saved, timeout=3000, raising=False) as saved:
        system._on_save_requested()  # asked for anyway
    assert not saved.signal_triggered
    qtbot.waitUntil(lambda: "not saved" in system.settings_strip.error(), timeout=5000)
    assert "may not change settings" in system.settings_strip.error()

    denied = [e for e in audit_entries(host) if e.outcome == "denied"]
    assert {(e.actor, e.action) for e in denied} == {
        ("account:olga", "person.erase"),
        ("account:olga", "person.rename"),
        ("account:olga", "settings.change"),
    }

    window.menus.logout_action.trigger()
    assert_locked(window)
    assert window.login_panel.mode is LoginMode.LOGIN
    log_in(qtbot, window, "ian")
    assert window.current_layout is Layout.INVESTIGATOR
    assert [a.isVisible() for a in window.layout_actions.values()] == [True, True, False]
    assert "audit" not in window.admin_window.allowed_pages()
    select_person(qtbot, window, public_id)
    assert not people.rename_action.isEnabled()  # naming people is the admins'
    monkeypatch.setattr(people, "_ask_new_name", lambda _person: "Eve")
    with qtbot.waitSignal(people.sig_action_finished, timeout=5000) as finished:
        people._on_rename_requested()
    assert finished.args[1] is False
    assert "ian (investigator) may not rename people" in people.error_label.text()
    renames = audit_entries(host, action="person.rename")
    assert (renames[0].actor, renames[0].outcome) == ("account:ian", "denied")
    assert audit_entries(host, action="session.logout")[0].actor == "account:olga"


def test_an_admin_renames_and_erases_a_person(
    qtbot: QtBot,
    open_console: OpenConsole,
    tmp_path: Path,
    vtest_avi: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    public_id = add_person(window)
    select_person(qtbot, window, public_id)
    people = window.panes["people"]
    assert people.rename_action.isEnabled() and people.erase_action.isEnabled()
    monkeypatch.setattr(people, "_ask_new_name", lambda _person: "Eve")
    # The Events and BLE devices panes follow sig_people_changed (their plugins' links).
    with qtbot.waitSignals([people.sig_person_renamed, people.sig_people_changed], timeout=5000):
        people.rename_action.trigger()
    qtbot.waitUntil(lambda: getattr(people.person(public_id), "name", None) == "Eve", timeout=5000)
    select_person(qtbot, window, public_id)
    monkeypatch.setattr(people, "_confirm_erase", lambda _person: True)
    with qtbot.waitSignals([people.sig_person_erased, people.sig_people_changed], timeout=10_000):
        people.erase_action.trigger()
    qtbot.waitUntil(lambda: people.person(public_id) is None, timeout=5000)
    done = [(e.action, e.actor, e.outcome) for e in audit_entries(host) if e.target == public_id]
    assert ("person.rename", "account:ada", "ok") in done
    assert ("person.erase", "account:ada", "ok") in done


@pytest.mark.slow
def test_changing_my_password(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    host, window = open_console(plaza_site(tmp_path, vtest_avi))
    dialog = window.login.open_password_dialog()
    assert dialog is not None and dialog.isVisible()
    dialog.current_edit.setText("not my password")
    dialog.new_edit.setText("a new password 2")
    dialog.again_edit.setText("a new password 2")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.error_label.isVisibleTo(dialog), timeout=5000)
    assert "the current password is not right" in dialog.error_label.text()

    qtbot.wait(1100)  # the wrong current password counts as a failed login: a 1 s delay
    dialog.current_edit.setText(PASSWORD)
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        dialog.buttons.accepted.emit()
    assert window.login.password_dialog is None
    assert window.statusBar().currentMessage() == "Your password was changed."
    window.menus.logout_action.trigger()
    log_in(qtbot, window, "ada", "a new password 2")
    assert audit_entries(host, action="account.password")[0].actor == "account:ada"


def test_a_login_tells_each_pane_who_it_is_once(
    qtbot: QtBot,
    open_console: OpenConsole,
    tmp_path: Path,
    vtest_avi: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _host, window = open_console(plaza_site(tmp_path, vtest_avi), login=None)
    told: list[str | None] = []
    tell = window.host.tell_actor
    monkeypatch.setattr(
        window.host, "tell_actor", lambda actor: (told.append(actor and actor.name), tell(actor))
    )
    log_in(qtbot, window, "ada")
    assert told == ["ada"]  # each pane reads what it shows for ada once, not twice
    window.lock()
    assert told == ["ada", None]
    log_in(qtbot, window, "ada")  # the same person back: their arrangement, told once
    assert told == ["ada", None, "ada"]


def _press_ctrl_q(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    qtbot.keyClick(window.centralWidget(), Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)


@pytest.mark.hostile(4)
def test_a_locked_console_does_not_quit_and_only_an_admin_stops_it_after_confirming(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    """On the lock screen Ctrl+Q quit at once: cameras, recording and analysis stopped,
    nothing audited. Now a locked console stays open and says why (the refusal audited,
    once a minute at most); an operator is told they may not stop the engine; an admin is
    asked, in words naming what stops, and the stop is audited as theirs."""
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi), accounts={"ada": "admin", "olga": "operator"}, login=None
    )
    qtbot.waitUntil(lambda: window.login_panel.mode is LoginMode.LOGIN, timeout=5000)
    _press_ctrl_q(qtbot, window)
    window.close()  # the window manager's close button
    assert window.isVisible() and window.locked
    assert window.login_panel.failure_text() == (
        "This console is locked and stays open (recording stops on 1 camera). To quit, "
        "log in with an account that may stop the engine."
    )
    assert all(source.running for source in host.runtime.cameras.sources.values())
    qtbot.waitUntil(lambda: bool(audit_entries(host, action="engine.stop")), timeout=5000)
    (refused,) = audit_entries(host, action="engine.stop")  # two tries, one entry
    assert (refused.actor, refused.outcome) == ("unknown:locked console", "denied")
    assert refused.detail == {
        "cause": "quit",
        "refused": "locked",
        "stops": "recording stops on 1 camera",
    }

    log_in(qtbot, window, "olga")
    _press_ctrl_q(qtbot, window)
    box = window.quit_box
    assert box is not None and window.isVisible()
    assert box.text() == (
        "olga (operator) may not stop the engine: recording stops on 1 camera if this "
        "console closes."
    )
    box.close()
    window.logout()
    qtbot.waitUntil(lambda: len(audit_entries(host, action="engine.stop")) == 2, timeout=5000)
    assert [
        (e.actor, e.outcome, e.detail["refused"]) for e in audit_entries(host, action="engine.stop")
    ] == [("account:olga", "denied", "not allowed"), ("unknown:locked console", "denied", "locked")]

    log_in(qtbot, window, "ada")
    _press_ctrl_q(qtbot, window)
    box = window.quit_box
    assert box is not None and window.isVisible()
    assert box.text() == (
        "Quit Watchfloor? Recording stops on 1 camera, and alerts and analysis stop with it."
    )
    assert box.defaultButton() is box.button(box.StandardButton.Cancel)
    box.button(box.StandardButton.Cancel).click()
    assert window.isVisible()
    _press_ctrl_q(qtbot, window)
    box = window.quit_box
    assert box is not None
    box.button(box.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    stopped = [e for e in audit_entries(host, action="engine.stop") if e.outcome == "ok"]
    assert [(e.actor, e.detail) for e in stopped] == [
        (
            "account:ada",
            {"cause": "quit", "stops": "recording stops on 1 camera", "session": "ada (admin)"},
        )
    ]
