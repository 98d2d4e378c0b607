"""The admins' Accounts pane on a real console: adding accounts, roles, tokens, delays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from engine.access import Role
from engine.accounts import LoginFailedError, login, token_login
from tests.conftest import write_site
from tests.console.conftest import OpenConsole, audit_entries
from widgets.accounts.view import (
    COLUMN_DELAY,
    COLUMN_FAILED,
    COLUMN_ROLES,
    COLUMN_STATUS,
    AccountsPane,
    TokenDialog,
)

NEW_PASSWORD = "olga's password 1"


def act(qtbot: QtBot, pane: AccountsPane, button: QPushButton) -> tuple[str, bool]:
    """Click a button of the pane; wait until the change ends and the accounts are listed
    again (the pane re-reads them after every change)."""
    with qtbot.waitSignal(pane.sig_action_finished, timeout=10_000) as finished:
        button.click()
    with qtbot.waitSignal(pane.sig_accounts_listed, timeout=10_000):
        pass
    what, ok = finished.args
    return str(what), bool(ok)


def test_an_admin_adds_accounts_and_sees_failed_logins_and_delays(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, window = open_console(write_site(tmp_path / "site.toml"))
    writer = host.runtime.writer
    assert writer is not None
    pane = window.panes["accounts"]
    assert window.open_administration("accounts") is not None
    assert pane.isVisible()
    with qtbot.waitSignal(pane.sig_accounts_listed, timeout=5000):
        pane.refresh_button.click()
    assert [a.name for a in pane.accounts()] == ["ada"]

    monkeypatch.setattr(pane, "_ask_new_person", lambda: ("olga", [Role.OPERATOR], "short"))
    _what, ok = act(qtbot, pane, pane.add_person_button)
    assert not ok and "at least 8 characters" in pane.error_label.text()
    monkeypatch.setattr(pane, "_ask_new_person", lambda: ("olga", [Role.OPERATOR], NEW_PASSWORD))
    _what, ok = act(qtbot, pane, pane.add_person_button)
    assert ok and pane.error_label.isHidden()
    assert pane.cell_text("olga", COLUMN_ROLES) == "operator"
    assert (
        pane.cell_text("olga", COLUMN_FAILED) == "0" and pane.cell_text("olga", COLUMN_DELAY) == ""
    )

    # Someone guesses olga's password. (The attempt is stamped ten minutes ahead, so the
    # delay it earns is still running when the pane reads it, however slow the machine.)
    ahead = datetime.now(UTC) + timedelta(minutes=10)
    with pytest.raises(LoginFailedError):
        login(writer, "olga", "a guess at it", ahead)
    with qtbot.waitSignal(pane.sig_accounts_listed, timeout=5000):
        pane.refresh()
    assert pane.cell_text("olga", COLUMN_FAILED) == "1"
    delayed = pane.account("olga")
    assert delayed is not None and delayed.retry_after is not None
    assert pane.cell_text("olga", COLUMN_DELAY) == (
        f"delayed until {delayed.retry_after.astimezone():%H:%M:%S}"
    )
    pane.select("olga")
    assert pane.clear_delay_button.isEnabled()
    _what, ok = act(qtbot, pane, pane.clear_delay_button)
    assert ok
    assert (
        pane.cell_text("olga", COLUMN_FAILED) == "0" and pane.cell_text("olga", COLUMN_DELAY) == ""
    )

    pane.select("olga")
    monkeypatch.setattr(pane, "_ask_roles", lambda _account: [Role.INVESTIGATOR])
    _what, ok = act(qtbot, pane, pane.roles_button)
    assert ok and pane.cell_text("olga", COLUMN_ROLES) == "investigator"

    pane.select("olga")
    monkeypatch.setattr(pane, "_ask_password", lambda _account: "another password 2")
    _what, ok = act(qtbot, pane, pane.secret_button)
    assert ok
    assert login(writer, "olga", "another password 2", datetime.now(UTC)).name == "olga"

    pane.select("olga")
    monkeypatch.setattr(pane, "_confirm", lambda _title, _text: True)
    _what, ok = act(qtbot, pane, pane.disable_button)
    assert ok and pane.cell_text("olga", COLUMN_STATUS) == "disabled"
    pane.select("olga")
    assert pane.disable_button.text() == "Enable"

    # The engine's rules come back as messages in the pane.
    pane.select("ada")
    monkeypatch.setattr(pane, "_ask_roles", lambda _account: [Role.OPERATOR])
    _what, ok = act(qtbot, pane, pane.roles_button)
    assert not ok and "ada is the last admin" in pane.error_label.text()
    pane.select("ada")
    _what, ok = act(qtbot, pane, pane.disable_button)
    assert not ok and "logged in here" in pane.error_label.text()

    changes = {(e.action, e.target, e.outcome) for e in audit_entries(host, actor="account:ada")}
    assert {
        ("account.create", "olga", "ok"),
        ("account.clear_delay", "olga", "ok"),
        ("account.roles", "olga", "ok"),
        ("account.secret", "olga", "ok"),
        ("account.disable", "olga", "ok"),
    } <= changes


def test_a_service_account_token_is_shown_once_and_can_be_replaced(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, window = open_console(write_site(tmp_path / "site.toml"))
    writer = host.runtime.writer
    assert writer is not None
    pane = window.panes["accounts"]
    with qtbot.waitSignal(pane.sig_accounts_listed, timeout=5000):
        pane.refresh()
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(pane, "_show_token", lambda name, token: shown.append((name, token)))
    monkeypatch.setattr(pane, "_ask_new_service", lambda: ("exporter", [Role.INVESTIGATOR]))
    _what, ok = act(qtbot, pane, pane.add_service_button)
    assert ok and [name for name, _ in shown] == ["exporter"]
    first = shown[0][1]
    assert first.startswith("wft_")
    assert token_login(writer, first, datetime.now(UTC)).kind == "service"
    exporter = pane.account("exporter")
    assert exporter is not None and exporter.kind == "service"

    pane.select("exporter")
    assert pane.secret_button.text() == "New token…"
    monkeypatch.setattr(pane, "_confirm", lambda _title, _text: True)
    _what, ok = act(qtbot, pane, pane.secret_button)
    assert ok and len(shown) == 2 and shown[1][1] != first
    with pytest.raises(LoginFailedError):
        token_login(writer, first, datetime.now(UTC))  # the old token stopped working
    assert token_login(writer, shown[1][1], datetime.now(UTC)).name == "exporter"

    # The real dialog: the token once, and a button that copies it.
    dialog = TokenDialog("exporter", shown[1][1])
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == shown[1][1]
    assert dialog.token_edit.isReadOnly()


def test_the_accounts_pane_is_only_for_admins(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    _host, window = open_console(
        write_site(tmp_path / "site.toml"),
        accounts={"ada": "admin", "ian": "investigator"},
        login="ian",
    )
    assert window.open_administration("accounts") is None  # not offered to them
    window.admin_window.show_page("accounts")  # forced open anyway: the engine refuses
    window.admin_window.show()
    pane = window.panes["accounts"]
    pane.refresh()
    qtbot.waitUntil(lambda: pane.error_label.isVisibleTo(pane), timeout=5000)
    assert "ian (investigator) may not list accounts" in pane.error_label.text()
    assert pane.accounts() == []
