"""The Accounts pane: the admins' list of who may log in, with their roles, failed logins
and brute-force delays, and the changes an admin makes to them.

The pane never touches the store: the console gives it an :class:`AccountActions` object
(blocking calls made as the logged-in admin, whose permission the engine checks) and a query
client, and the pane runs every call on the client's workers. Errors (a refused change, "the
last admin…") are shown in the pane. A service account's token is shown once, in a dialog
with a copy button, and kept nowhere. Every method here runs on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.access import Role
from engine.accounts import ROLE_ORDER, AccountView
from engine.history.query_service import CallRequest, QueryResult
from engine.sitetime import display
from engine.text import printable
from widgets.accounts.api import AccountActions
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.colours import ALARM_TINT
from widgets.queries import QueryClient
from widgets.table_model import RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

REFRESH_MS = 5000  # re-read while shown, so new failed logins and delays appear
TIME_FORMAT = "%Y-%m-%d %H:%M"
NO_VALUE = "—"
_DELAYED_BACKGROUND = QColor(ALARM_TINT)  # opaque: see-through red left text under 4.5:1

COLUMN_NAME, COLUMN_KIND, COLUMN_ROLES, COLUMN_STATUS = 0, 1, 2, 3
COLUMN_FAILED, COLUMN_DELAY, COLUMN_LAST_LOGIN, COLUMN_CREATED = 4, 5, 6, 7
_HEADERS = (
    "Name",
    "Kind",
    "Roles",
    "Status",
    "Failed logins",
    "Login delay",
    "Last login",
    "Created",
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def roles_label(roles: Iterable[Role]) -> str:
    """``operator, investigator`` in the cumulative order (the engine's)."""
    held = set(roles)
    return ", ".join(role.value for role in ROLE_ORDER if role in held)


def delay_text(account: AccountView, now: datetime) -> str:
    """``delayed until HH:MM:SS`` (local time) while the account hears no login, else ""."""
    if account.retry_after is None or account.retry_after <= now:
        return ""
    return f"delayed until {display().clock(account.retry_after)}"


class _AccountsModel(RowsTableModel[AccountView]):
    def __init__(self, now: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(_HEADERS, parent)
        self._now = now

    def set_accounts(self, accounts: list[AccountView]) -> None:
        self.set_rows(accounts)

    def accounts(self) -> list[AccountView]:
        return list(self._rows)

    def refresh_delays(self) -> None:
        """The delay column again (it depends on the time, not only on the rows)."""
        if self._rows:
            last = len(self._rows) - 1
            self.dataChanged.emit(self.index(0, COLUMN_FAILED), self.index(last, COLUMN_DELAY))

    def account(self, row: int) -> AccountView:
        return self.row(row)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        account = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(account, column)
        if (
            role == Qt.ItemDataRole.BackgroundRole
            and column in (COLUMN_FAILED, COLUMN_DELAY)
            and delay_text(account, self._now())
        ):
            return _DELAYED_BACKGROUND
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COLUMN_FAILED:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == COLUMN_DELAY and account.retry_after:
            return f"no login is heard before {display().full(account.retry_after)}"
        return None

    def _text(self, account: AccountView, column: int) -> str:
        if column == COLUMN_NAME:
            return printable(account.name)
        if column == COLUMN_KIND:
            return account.kind
        if column == COLUMN_ROLES:
            return roles_label(account.roles)
        if column == COLUMN_STATUS:
            return "disabled" if account.disabled else "enabled"
        if column == COLUMN_FAILED:
            return str(account.failed_logins)
        if column == COLUMN_DELAY:
            return delay_text(account, self._now())
        at = account.last_login if column == COLUMN_LAST_LOGIN else account.created
        return NO_VALUE if at is None else display().local(at).strftime(TIME_FORMAT)


class AccountDialog(QDialog):
    """Name (for a new account), roles as check boxes, and the password twice (for a
    person). Checks that a role is ticked and the passwords match; the engine checks the
    rest (name rules, password length) and the pane shows what it says."""

    def __init__(
        self,
        title: str,
        *,
        name: str | None = None,
        roles: Iterable[Role] = (),
        ask_name: bool = True,
        ask_roles: bool = True,
        ask_password: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout()
        self.name_edit = QLineEdit(name or "")
        self.name_edit.setVisible(ask_name)
        if ask_name:
            form.addRow("Name", self.name_edit)
        elif name:
            form.addRow("Account", QLabel(printable(name)))
        self.role_boxes: dict[Role, QCheckBox] = {}
        held = set(roles)
        if ask_roles:
            row = QHBoxLayout()
            for role in ROLE_ORDER:
                box = QCheckBox(role.value)
                box.setChecked(role in held)
                self.role_boxes[role] = box
                row.addWidget(box)
            form.addRow("Roles", row)
        self.password_edit = QLineEdit()
        self.again_edit = QLineEdit()
        for edit in (self.password_edit, self.again_edit):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self._ask_password = ask_password
        if ask_password:
            form.addRow("Password", self.password_edit)
            form.addRow("Password again", self.again_edit)
        self.error_label = QLabel()
        show_as_error(self.error_label)
        self.error_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._on_accept_requested)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def roles(self) -> list[Role]:
        return [role for role, box in self.role_boxes.items() if box.isChecked()]

    def _on_accept_requested(self) -> None:
        if self.name_edit.isVisibleTo(self) and not self.name_edit.text().strip():
            self._refuse("enter the account's name")
        elif self.role_boxes and not self.roles():
            self._refuse("tick at least one role")
        elif self._ask_password and self.password_edit.text() != self.again_edit.text():
            self._refuse("the two passwords do not match")
        else:
            self.accept()

    def _refuse(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()


class TokenDialog(QDialog):
    """A service account's new token, shown this once, with a button that copies it."""

    def __init__(self, name: str, token: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Token for {printable(name)}")
        note = QLabel(
            f"The token for the service account {printable(name)}. It is shown only now and "
            "stored only as a hash: copy it into the script's configuration. A lost token "
            "is replaced with “New token…”."
        )
        note.setWordWrap(True)
        self.token_edit = QLineEdit(token)
        self.token_edit.setReadOnly(True)
        self.token_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance(token) + 24)
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self._on_copy_requested)
        row = QHBoxLayout()
        row.addWidget(self.token_edit, 1)
        row.addWidget(self.copy_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def _on_copy_requested(self) -> None:
        QGuiApplication.clipboard().setText(self.token_edit.text())
        self.copy_button.setText("Copied")


class AccountsPane(QWidget):
    """Accounts with Add person…, Add service account…, Roles…, Disable/Enable, Reset
    password… (New token… for a service account) and Clear login delay. ``actions`` block:
    the pane runs them through ``client`` and lists the accounts again after each one. It
    loads when first shown and re-reads every few seconds while visible."""

    sig_accounts_listed = Signal(int)
    """A listing arrived and is shown (GUI thread): the number of accounts."""

    sig_account_changed = Signal(str)
    """A change to an account worked (GUI thread): the account's name."""

    sig_action_finished = Signal(str, bool)
    """A change ended (GUI thread): what was done, and whether it worked."""

    def __init__(
        self,
        client: QueryClient,
        actions: AccountActions,
        *,
        now: Callable[[], datetime] = _utc_now,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self._now = now
        self._channel = f"accounts-{id(self):x}"
        self._loaded_once = False
        self._listing_failed = False

        self._model = _AccountsModel(now, self)
        self.view = QTableView()
        self.view.setModel(self._model)
        show_rows_read_only(self.view, word_wrap=True)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)

        self.add_person_button = QPushButton("Add person…")
        self.add_person_button.clicked.connect(self._on_add_person_requested)
        self.add_service_button = QPushButton("Add service account…")
        self.add_service_button.clicked.connect(self._on_add_service_requested)
        self.roles_button = QPushButton("Roles…")
        self.roles_button.clicked.connect(self._on_roles_requested)
        self.disable_button = QPushButton("Disable")
        self.disable_button.clicked.connect(self._on_disable_requested)
        self.secret_button = QPushButton("Reset password…")
        self.secret_button.clicked.connect(self._on_secret_requested)
        self.clear_delay_button = QPushButton("Clear login delay")
        self.clear_delay_button.setToolTip("Forget the failed logins: the account may try again")
        self.clear_delay_button.clicked.connect(self._on_clear_delay_requested)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for button in (
            self.add_person_button,
            self.add_service_button,
            self.roles_button,
            self.disable_button,
            self.secret_button,
            self.clear_delay_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)

        self.strip = ActionStrip()
        self.status_label = self.strip.status_label
        self.error_label = self.strip.error_label
        self._runner = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.change",
            update_controls=self._update_buttons,
            parent=self,
        )
        self._runner.sig_action_finished.connect(self.sig_action_finished)
        self._runner.sig_action_finished.connect(self._on_action_finished)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.strip)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer)
        self._timer.start()
        self._update_buttons()

    # -- public API ------------------------------------------------------------------------
    def on_page_shown(self) -> None:
        """Its administration page came into view: read what may have changed."""
        self.refresh()

    def refresh(self) -> None:
        """List the accounts again (on a worker), keeping the selection by name."""
        self._loaded_once = True
        self._client.submit(
            f"{self._channel}.list",
            CallRequest(self._actions.list_accounts, "list accounts"),
            self._on_accounts_listed,
        )

    def accounts(self) -> list[AccountView]:
        return self._model.accounts()

    def account(self, name: str) -> AccountView | None:
        for account in self._model.accounts():
            if account.name.casefold() == name.casefold():
                return account
        return None

    def cell_text(self, name: str, column: int) -> str:
        """What the table shows for account ``name`` in ``column`` ("" if not listed)."""
        for row, account in enumerate(self._model.accounts()):
            if account.name.casefold() == name.casefold():
                return str(self._model.index(row, column).data() or "")
        return ""

    def selected_account(self) -> AccountView | None:
        rows = self.view.selectionModel().selectedRows()
        return self._model.account(rows[0].row()) if rows else None

    def select(self, name: str) -> None:
        """Select account ``name`` (nothing if it is not listed)."""
        self.view.clearSelection()
        for row, account in enumerate(self._model.accounts()):
            if account.name.casefold() == name.casefold():
                flags = (
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows
                )
                self.view.selectionModel().select(self._model.index(row, 0), flags)
                return

    def is_busy(self) -> bool:
        return self._runner.is_busy()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    # Dialogs: small methods, so tests (and callers) can replace them.

    def _ask_new_person(self) -> tuple[str, list[Role], str] | None:
        dialog = AccountDialog("Add a person's account", roles=[Role.OPERATOR], parent=self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.name_edit.text().strip(), dialog.roles(), dialog.password_edit.text()

    def _ask_new_service(self) -> tuple[str, list[Role]] | None:
        dialog = AccountDialog(
            "Add a service account", roles=[Role.OPERATOR], ask_password=False, parent=self
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.name_edit.text().strip(), dialog.roles()

    def _ask_roles(self, account: AccountView) -> list[Role] | None:
        dialog = AccountDialog(
            f"Roles of {printable(account.name)}",
            name=account.name,
            roles=account.roles,
            ask_name=False,
            ask_password=False,
            parent=self,
        )
        return dialog.roles() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def _ask_password(self, account: AccountView) -> str | None:
        dialog = AccountDialog(
            f"New password for {printable(account.name)}",
            name=account.name,
            ask_name=False,
            ask_roles=False,
            parent=self,
        )
        return dialog.password_edit.text() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _show_token(self, name: str, token: str) -> None:
        """Show a new service token once (a modal dialog with a copy button)."""
        TokenDialog(name, token, self).exec()

    # -- handlers --------------------------------------------------------------------------
    def _on_timer(self) -> None:
        if self.isVisible() and self._loaded_once:
            self.refresh()
        else:
            self._model.refresh_delays()  # a delay that ran out stops showing

    def _on_selection_changed(self) -> None:
        self._update_buttons()

    def _on_accounts_listed(self, result: QueryResult[Any]) -> None:
        if result.error is not None or result.value is None:
            self._listing_failed = True
            message = f"Could not list accounts: {printable(str(result.error))}"
            _log.warning("%s", message)
            self.strip.show_error(message)
            return
        if self._listing_failed:  # a listing error is over once listing works again
            self._listing_failed = False
            self.strip.clear_error()
        selected = self.selected_account()
        self._model.set_accounts(list(result.value))
        if selected is not None:
            self.select(selected.name)
        self._update_buttons()
        self.sig_accounts_listed.emit(self._model.rowCount())

    def _on_add_person_requested(self) -> None:
        answer = self._ask_new_person()
        if answer is None:
            return
        name, roles, password = answer
        self._run(
            f"Adding {name}…",
            partial(self._actions.create_person, name, roles, password),
            name,
            f"Added {name} ({roles_label(roles)}).",
        )

    def _on_add_service_requested(self) -> None:
        answer = self._ask_new_service()
        if answer is None:
            return
        name, roles = answer

        def created(token: object) -> None:
            self._show_token(name, str(token))

        self._run(
            f"Adding the service account {name}…",
            partial(self._actions.create_service, name, roles),
            name,
            f"Added the service account {name} ({roles_label(roles)}).",
            created,
        )

    def _on_roles_requested(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        roles = self._ask_roles(account)
        if roles is None or set(roles) == set(account.roles):
            return
        self._run(
            f"Changing the roles of {account.name}…",
            partial(self._actions.set_roles, account.name, roles),
            account.name,
            f"{account.name} now has the roles {roles_label(roles)}.",
        )

    def _on_disable_requested(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        disable = not account.disabled
        if disable and not self._confirm(
            "Disable account",
            f"Disable {printable(account.name)}? They can no longer log in "
            "(a service account's token stops working) until an admin enables it.",
        ):
            return
        verb = "Disabled" if disable else "Enabled"
        self._run(
            f"{'Disabling' if disable else 'Enabling'} {account.name}…",
            partial(self._actions.set_disabled, account.name, disable),
            account.name,
            f"{verb} {account.name}.",
        )

    def _on_secret_requested(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        if account.kind == "service":
            if not self._confirm(
                "New token",
                f"Issue a new token for {printable(account.name)}? The current one stops "
                "working at once.",
            ):
                return

            def issued(token: object) -> None:
                self._show_token(account.name, str(token))

            self._run(
                f"Issuing a new token for {account.name}…",
                partial(self._actions.new_token, account.name),
                account.name,
                f"Issued a new token for {account.name}.",
                issued,
            )
            return
        password = self._ask_password(account)
        if password is None:
            return
        self._run(
            f"Setting the password of {account.name}…",
            partial(self._actions.reset_password, account.name, password),
            account.name,
            f"Set a new password for {account.name}; their login delay is cleared.",
        )

    def _on_clear_delay_requested(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        self._run(
            f"Clearing the login delay of {account.name}…",
            partial(self._actions.clear_login_delay, account.name),
            account.name,
            f"{account.name} may log in again at once.",
        )

    def _on_action_finished(self, _what: str, _ok: bool) -> None:
        self.refresh()  # list again after every change, worked or refused

    # -- internals -------------------------------------------------------------------------
    def _run(
        self,
        what: str,
        action: Callable[[], Any],
        name: str,
        done: str,
        success: Callable[[Any], object] | None = None,
    ) -> None:
        """Run a blocking change on a worker: ``done`` and ``success(value)`` when it
        works (and :attr:`sig_account_changed` for ``name``), else the refusal."""

        def worked(value: object) -> None:
            if success is not None:
                success(value)
            self.sig_account_changed.emit(name)

        self._runner.run(what, action, worked, done=done)

    def _update_buttons(self) -> None:
        account = self.selected_account()
        idle = not self._runner.is_busy()
        for button in (self.add_person_button, self.add_service_button):
            button.setEnabled(idle)
        for button in (self.roles_button, self.disable_button, self.secret_button):
            button.setEnabled(idle and account is not None)
        self.clear_delay_button.setEnabled(
            idle and account is not None and account.failed_logins > 0
        )
        self.disable_button.setText(
            "Enable" if account is not None and account.disabled else "Disable"
        )
        self.secret_button.setText(
            "New token…" if account is not None and account.kind == "service" else "Reset password…"
        )
