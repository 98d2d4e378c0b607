"""A real console (engine + window) that cleans up after itself, and logging in to it.

The window opens locked; ``open_console`` creates the accounts a test names (person
accounts with :data:`PASSWORD`, through the engine) and logs one of them in through the
login panel, as a person at the console would. Each account and each login costs a
deliberately slow hash (~0.1 s): tests name only the accounts they need.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.host import EngineHost, console_settings
from console.main_window import MainWindow
from console.session import ConsoleSession
from engine.access import machine_actor
from engine.accounts import AccountListRequest, accounts_exist, create_account
from engine.audit_records import AuditRecord
from engine.clock import REAL_CLOCK, Clock
from engine.store.audit import AuditListRequest
from tests.actors import ADMIN
from widgets.login_panel import LoginMode

OpenConsole = Callable[..., tuple[EngineHost, MainWindow]]

PASSWORD = "correct horse 1"
DEFAULT_ACCOUNTS: Mapping[str, str] = {"ada": "admin"}


def ensure_accounts(host: EngineHost, accounts: Mapping[str, str]) -> None:
    """Create the person accounts ``{name: roles}`` that do not exist yet (password
    :data:`PASSWORD`), as the test admin from tests/actors.py."""
    writer = host.runtime.writer
    assert writer is not None
    existing = (
        {a.name for a in AccountListRequest(ADMIN).run(host.store)}
        if accounts_exist(host.store)
        else set()
    )
    for name, roles in accounts.items():
        if name not in existing:
            create_account(writer, ADMIN, name, roles, datetime.now(UTC), password=PASSWORD)


def log_in(qtbot: QtBot, window: MainWindow, name: str, password: str = PASSWORD) -> None:
    """Type ``name`` and ``password`` into the login panel, press Enter, and wait until the
    console is unlocked (fails with what the panel says if it is not)."""
    panel = window.login_panel
    qtbot.waitUntil(lambda: panel.mode in (LoginMode.LOGIN, LoginMode.UNLOCK), timeout=5000)
    panel.name_edit.setText(name)
    panel.password_edit.setText(password)
    qtbot.keyClick(panel.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.locked or bool(panel.failure_text()), timeout=10_000)
    assert not window.locked, f"login as {name} failed: {panel.failure_text()}"


def add_person_rule(qtbot: QtBot, window: MainWindow, camera: str, name: str) -> None:
    """Add, in the alert rules pane as the person logged in, a rule ``name`` that raises
    an alert when a person is on ``camera``."""
    rules = window.panes["alert_rules"]
    rules.name_edit.setText(name)
    rules.camera_radio.setChecked(True)
    rules.place_combo.setCurrentIndex(rules.place_combo.findData(camera))
    rules.trigger_combo.setCurrentIndex(rules.trigger_combo.findData("person"))
    with qtbot.waitSignal(rules.sig_rule_added, timeout=10_000):
        rules.add_button.click()


def audit_entries(
    host: EngineHost, *, actor: str | None = None, action: str | None = None
) -> list[AuditRecord]:
    """The audit trail (newest first) once everything queued has been written."""
    writer = host.runtime.writer
    assert writer is not None and writer.flush(10)
    return AuditListRequest(reader=ADMIN, limit=1000, actor=actor, action=action).run(host.store)


@pytest.fixture
def open_console(qtbot: QtBot, tmp_path: Path) -> Iterator[OpenConsole]:
    """Opens consoles on a site; closes windows and stops engines, then checks that no
    window is left open (engine threads are checked by the root conftest).

    ``open_console(site, settings_file=None, *, accounts={"ada": "admin"}, login="ada")``:
    ``accounts`` are created if missing; ``login`` (None: stay locked) logs in by the panel;
    ``session_clock`` (default: the engine's) stamps the console's logins; ``clock`` is the
    engine's (a test's simulated one).
    """
    opened: list[tuple[EngineHost, MainWindow]] = []

    def open_(
        site: Path,
        settings_file: Path | None = None,
        *,
        accounts: Mapping[str, str] = DEFAULT_ACCOUNTS,
        login: str | None = "ada",
        session_clock: Clock | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> tuple[EngineHost, MainWindow]:
        host = EngineHost.open(site, f"sqlite:///{tmp_path / 'console.db'}", clock=clock)
        try:
            ensure_accounts(host, accounts)
        except BaseException:
            host.close()
            raise
        session = None
        if session_clock is not None:
            session = ConsoleSession(host.store, host.runtime.writer, session_clock)
        window = MainWindow(
            host.runtime,
            host.bridge,
            console_settings(settings_file or tmp_path / "console.ini"),
            session=session,
        )
        qtbot.addWidget(window)
        window.show()
        opened.append((host, window))
        if login is not None:
            log_in(qtbot, window, login)
        return host, window

    yield open_
    for host, window in opened:
        window.shut_down("end of test", machine_actor())
        host.close()
    from PySide6.QtWidgets import QApplication

    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert not visible, f"console left windows open: {visible}"
