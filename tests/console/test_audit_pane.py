"""The admins' Audit pane on a real console: entries, filters, paging, verification."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from console.session import ConsoleSession, NotLoggedInError
from engine.access import PermissionDeniedError
from engine.settings import ChangeSetting
from tests.actors import OPERATOR
from tests.conftest import write_site
from tests.console.conftest import PASSWORD, OpenConsole
from tests.machine_text import machine_text
from widgets.audit.view import COLUMN_OUTCOME, AuditPane


def empty_site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site.toml")


def outcome_row(pane: AuditPane, outcome: str) -> int:
    return next(i for i, r in enumerate(pane.records()) if r.outcome == outcome)


def test_the_audit_pane_lists_filters_pages_and_verifies(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    host, window = open_console(empty_site(tmp_path))
    writer = host.runtime.writer
    assert writer is not None
    with pytest.raises(PermissionDeniedError):  # a refusal, audited by the engine
        writer.execute(
            ChangeSetting(key="retention.clips_days", value=3, at=datetime.now(UTC), actor=OPERATOR)
        )
    assert writer.flush(10)

    audit = window.panes["audit"]
    assert "audit" in window.admin_window.allowed_pages()  # offered to the admin
    assert window.open_administration("audit") is not None
    assert audit.isVisible()
    with qtbot.waitSignal(audit.sig_entries_loaded, timeout=5000):
        audit.refresh_button.click()
    records = audit.records()
    seqs = [r.seq for r in records]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    actions = [(r.action, r.actor, r.outcome) for r in records]
    assert ("session.login", "account:ada", "ok") in actions
    assert ("account.create", "account:ada", "ok") in actions
    assert ("settings.change", "account:olga", "denied") in actions

    # Refusals stand out; ordinary entries do not.
    model = audit.model()
    denied = model.index(outcome_row(audit, "denied"), COLUMN_OUTCOME)
    ok = model.index(outcome_row(audit, "ok"), COLUMN_OUTCOME)
    assert denied.data() == "denied"
    assert denied.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert ok.data(Qt.ItemDataRole.BackgroundRole) is None
    assert records[0].ts.astimezone().strftime("%Y-%m-%d %H:%M:%S") == model.index(0, 1).data()

    # Entries read as words; the entry as stored is one click away.
    shown = [
        str(model.index(row, column).data())
        for row in range(model.rowCount())
        for column in range(model.columnCount())
    ]
    assert "Logged in" in shown and "Created an account" in shown and "olga" in shown
    for cell in shown:
        assert machine_text(cell) is None, cell
    # The actor's tooltip is what the "Who" filter takes: the account's name, as it reads.
    login = next(i for i, r in enumerate(records) if r.action == "session.login")
    assert model.index(login, 2).data(Qt.ItemDataRole.ToolTipRole) == "ada"
    audit.view.selectRow(outcome_row(audit, "denied"))
    copied = json.loads(audit.copy_selected())
    assert (copied["action"], copied["actor"]) == ("settings.change", "account:olga")
    assert copied["detail"] == records[outcome_row(audit, "denied")].detail

    audit.action_filter.setText("logged in")  # the words, or the stored action
    with qtbot.waitSignal(audit.sig_entries_loaded, timeout=5000):
        qtbot.keyClick(audit.action_filter, Qt.Key.Key_Return)
    assert {r.action for r in audit.records()} == {"session.login"}
    audit.action_filter.setText("session.login")
    with qtbot.waitSignal(audit.sig_entries_loaded, timeout=5000):
        qtbot.keyClick(audit.action_filter, Qt.Key.Key_Return)
    assert {r.action for r in audit.records()} == {"session.login"}
    audit.action_filter.clear()
    audit.actor_filter.setText("olga")
    with qtbot.waitSignal(audit.sig_entries_loaded, timeout=5000):
        audit.refresh_button.click()
    assert [(r.action, r.outcome) for r in audit.records()] == [("settings.change", "denied")]

    # Paging: a pane showing two entries a page asks for older ones by seq.
    paged = AuditPane(
        window.queries, window.session.list_audit, window.session.verify_audit, page_size=2
    )
    qtbot.addWidget(paged)
    with qtbot.waitSignal(paged.sig_entries_loaded, timeout=5000):
        paged.refresh()
    assert paged.row_count() == 2 and paged.older_button.isEnabled()
    with qtbot.waitSignal(paged.sig_entries_loaded, timeout=5000):
        paged.older_button.click()
    assert [r.seq for r in paged.records()] == seqs[:4]

    with qtbot.waitSignal(audit.sig_verified, timeout=10_000) as verified:
        audit.verify_button.click()
    assert verified.args == [True]
    assert audit.verify_label.text().startswith("Audit trail intact: ")
    assert f"{audit.verification.entries if audit.verification else -1} entries" in (
        audit.verify_label.text()
    )

    tampered = seqs[-1]  # the oldest entry: someone edits who it names
    with host.store.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET target = 'nobody' WHERE seq = :seq"), {"seq": tampered}
        )
    audit.actor_filter.clear()
    with qtbot.waitSignal(audit.sig_verified, timeout=10_000) as verified:
        audit.verify_button.click()
    assert verified.args == [False]
    label = audit.verify_label.text()
    assert label.startswith("AUDIT TRAIL TAMPERED")
    assert f"entry {tampered}: was altered: its hash does not match" in label
    with qtbot.waitSignal(audit.sig_entries_loaded, timeout=5000):
        audit.refresh()
    row = [r.seq for r in audit.records()].index(tampered)
    assert "was altered" in str(model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole))


def test_the_audit_trail_is_read_only_by_someone_who_may(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    host, window = open_console(empty_site(tmp_path), accounts={"ada": "admin", "olga": "operator"})
    session = ConsoleSession(host.store, host.runtime.writer, host.runtime.clock)
    with pytest.raises(NotLoggedInError):
        session.list_audit()
    with pytest.raises(NotLoggedInError):
        session.verify_audit()
    session.login("olga", PASSWORD)
    with pytest.raises(PermissionDeniedError, match="read the audit trail"):
        session.list_audit()
    with pytest.raises(PermissionDeniedError, match="read_audit"):
        session.verify_audit()

    # The pane shows a refusal as an error rather than an empty trail.
    pane = AuditPane(window.queries, session.list_audit, session.verify_audit)
    qtbot.addWidget(pane)
    pane.refresh()
    qtbot.waitUntil(lambda: pane.error_label.isVisibleTo(pane), timeout=5000)
    assert "may not read the audit trail" in pane.error_label.text()
    assert pane.row_count() == 0
