"""The login panel shown beside the live view while the console is locked, the dialog in
which a logged-in person changes their password, and the one that says which roles this
workstation's idle lock spares.

The panel starts empty whenever the console locks: the next person at the console types
their own name (a handover must not try their password against the last account), and the
name field has the focus.

Neither checks a password: they collect what was typed and emit it; the console runs the
login on a worker thread and tells the panel how it went (:meth:`LoginPanel.show_failure`:
the reason only; whether an account is delayed after failed logins is for admins to see,
since telling the caller would tell them the name exists). Every method runs on the GUI
thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from widgets.action_strip import show_as_error

_TITLE_STYLE = "font-size: 15pt; font-weight: 600;"


class LoginMode(StrEnum):
    CHECKING = "checking"  # the console is finding out whether any account exists
    FIRST_ADMIN = "first_admin"  # no account yet: create the admin
    LOGIN = "login"  # nobody logged in (start, or after logging out)
    UNLOCK = "unlock"  # locked: any account may unlock


_TITLES = {
    LoginMode.CHECKING: "Watchfloor",
    LoginMode.FIRST_ADMIN: "Create the admin account",
    LoginMode.LOGIN: "Log in",
    LoginMode.UNLOCK: "Console locked",
}
_BUTTONS = {
    LoginMode.CHECKING: "Log in",
    LoginMode.FIRST_ADMIN: "Create admin account",
    LoginMode.LOGIN: "Log in",
    LoginMode.UNLOCK: "Unlock",
}


class LoginPanel(QWidget):
    """Name, password (twice for the first admin), a button and one line for what went
    wrong. Enter in any field submits."""

    sig_login_requested = Signal(str, str)
    """Log in (or unlock) was asked for: the name, then the password (GUI thread)."""

    sig_first_admin_requested = Signal(str, str, str)
    """Creating the first admin was asked for: name, password, password again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mode = LoginMode.CHECKING
        self._busy = False

        self.title_label = QLabel()
        self.title_label.setStyleSheet(_TITLE_STYLE)
        self.explanation_label = QLabel()
        self.explanation_label.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Account name")
        self.name_edit.setPlaceholderText("account name")
        self.password_edit = QLineEdit()
        self.password_edit.setAccessibleName("Password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_again_edit = QLineEdit()
        self.password_again_edit.setAccessibleName("Password again")
        self.password_again_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.login_button = QPushButton("Log in")
        self.login_button.setDefault(True)
        self.error_label = QLabel()
        show_as_error(self.error_label)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: a login takes a moment (a slow hash, on purpose)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(self.fontMetrics().height() // 2 + 2)
        self.progress.hide()

        self._form = QFormLayout()
        self._form.addRow("Name", self.name_edit)
        self._form.addRow("Password", self.password_edit)
        self._form.addRow("Again", self.password_again_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(self.title_label)
        layout.addWidget(self.explanation_label)
        layout.addLayout(self._form)
        layout.addWidget(self.login_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.error_label)
        layout.addStretch(1)

        for edit in (self.name_edit, self.password_edit, self.password_again_edit):
            edit.returnPressed.connect(self._on_submit_requested)
        self.name_edit.textChanged.connect(self._update_button)
        self.login_button.clicked.connect(self._on_submit_requested)
        self.set_mode(LoginMode.CHECKING)

    # -- public API ------------------------------------------------------------------------
    @property
    def mode(self) -> LoginMode:
        return self._mode

    def set_mode(self, mode: LoginMode, *, name: str = "", locked_by: str = "") -> None:
        """Show the panel for ``mode``: fields emptied (``name`` pre-filled: the console
        locks with none, so the focus is on the name), messages cleared. ``locked_by``
        names who was logged in when the console locked."""
        self._mode = mode
        self._busy = False
        self.progress.hide()
        self.clear_failure()
        self.title_label.setText(_TITLES[mode])
        self.explanation_label.setText(_explanation(mode, locked_by))
        self.login_button.setText(_BUTTONS[mode])
        first = mode is LoginMode.FIRST_ADMIN
        self.password_again_edit.setVisible(first)
        label = self._form.labelForField(self.password_again_edit)
        if label is not None:
            label.setVisible(first)
        for edit in (self.name_edit, self.password_edit, self.password_again_edit):
            edit.setEnabled(mode is not LoginMode.CHECKING)
            edit.clear()
        self.name_edit.setText(name)
        self._update_button()
        (self.password_edit if name else self.name_edit).setFocus()

    def set_busy(self, busy: bool) -> None:
        """While a login runs: the button is disabled and a busy bar shows."""
        self._busy = busy
        self.progress.setVisible(busy)
        if busy:
            self.error_label.hide()
        self._update_button()

    def show_failure(self, message: str) -> None:
        """Say why the login failed; the password fields are emptied."""
        self.set_busy(False)
        self.password_edit.clear()
        self.password_again_edit.clear()
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        self.password_edit.setFocus()

    def clear_failure(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def failure_text(self) -> str:
        """What the error line says now ("" when it is hidden)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    # -- internals -------------------------------------------------------------------------
    def _on_submit_requested(self) -> None:
        if not self.login_button.isEnabled():
            return
        name = self.name_edit.text().strip()
        password = self.password_edit.text()
        if not name or not password:
            self.show_failure("enter your account name and password")
            return
        if self._mode is LoginMode.FIRST_ADMIN:
            again = self.password_again_edit.text()
            if password != again:
                self.show_failure("the two passwords do not match")
                return
            self.set_busy(True)
            self.sig_first_admin_requested.emit(name, password, again)
            return
        self.set_busy(True)
        self.sig_login_requested.emit(name, password)

    def _update_button(self) -> None:
        ready = self._mode is not LoginMode.CHECKING
        self.login_button.setEnabled(ready and not self._busy)


def _explanation(mode: LoginMode, locked_by: str) -> str:
    if mode is LoginMode.CHECKING:
        return "Checking the accounts…"
    if mode is LoginMode.FIRST_ADMIN:
        return (
            "This is the first start: create the admin account. The admin then adds the "
            "operators' and investigators' accounts."
        )
    if mode is LoginMode.UNLOCK:
        who = f"{locked_by} was logged in. " if locked_by else ""
        return (
            f"{who}Log in with your own account: any account may unlock the console, and "
            "it then shows what that person's role allows. The live view stays on."
        )
    return "Log in to use the console. The live view stays on while nobody is logged in."


class PasswordChangeDialog(QDialog):
    """Current password, new password twice. Emits :attr:`sig_change_requested`; the
    console changes it off the GUI thread, then closes the dialog or shows the error."""

    sig_change_requested = Signal(str, str, str)
    """(current, new, new again), on the GUI thread."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change my password")
        self.current_edit = QLineEdit()
        self.new_edit = QLineEdit()
        self.again_edit = QLineEdit()
        for edit in (self.current_edit, self.new_edit, self.again_edit):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error_label = QLabel()
        show_as_error(self.error_label)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Change password")
        self.buttons.accepted.connect(self._on_change_requested)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Current password", self.current_edit)
        form.addRow("New password", self.new_edit)
        form.addRow("New password again", self.again_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Account: {name}"))
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def set_busy(self, busy: bool) -> None:
        self.buttons.setEnabled(not busy)

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.error_label.setText(message)
        self.error_label.show()

    def _on_change_requested(self) -> None:
        current, new, again = self.current_edit.text(), self.new_edit.text(), self.again_edit.text()
        if new != again:
            self.show_error("the two new passwords do not match")
            return
        self.error_label.hide()
        self.set_busy(True)
        self.sig_change_requested.emit(current, new, again)


class IdleLockDialog(QDialog):
    """Which roles this workstation's idle lock spares (a watch station: the operator
    watches without touching anything). ``roles`` are offered, ``exempt`` ticked;
    ``allowed`` says whether the person may change it (otherwise it only shows, and says
    who may); ``site_exempt``, the roles the site spares on every console, is shown, not
    changed here. Emits :attr:`sig_change_requested`; the console audits the change off the GUI
    thread, then keeps it and closes the dialog, or shows the error."""

    sig_change_requested = Signal(list)
    """The roles to spare (a list of role names), on the GUI thread."""

    def __init__(
        self,
        workstation: str,
        idle_lock_s: int,
        roles: list[str],
        exempt: set[str],
        *,
        allowed: bool,
        site_exempt: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Idle lock at this workstation")
        site = (
            f"The site locks a console after {idle_lock_s} s without input (System and "
            "settings: Lock an idle console after), after a 30-second warning."
            if idle_lock_s > 0
            else "The site's idle lock is off (System and settings: Lock an idle console after)."
        )
        intro = QLabel(
            f"{site} It does not lock for someone whose roles are all spared, site-wide "
            "(System and settings: Never lock an idle console for) or at this workstation "
            f"({workstation}), such as an operator at a watch station."
        )
        intro.setWordWrap(True)
        # Read-only: the site's setting is changed in System and settings, not per station.
        self.site_label = QLabel(f"Site-wide: {', '.join(site_exempt) or 'none'}")
        self.site_label.setWordWrap(True)
        self.role_boxes: dict[str, QCheckBox] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.site_label)
        layout.addWidget(QLabel("At this workstation:"))
        for role in roles:
            box = QCheckBox(role)
            box.setChecked(role in exempt)
            box.setEnabled(allowed)
            self.role_boxes[role] = box
            layout.addWidget(box)
        self.permission_label = QLabel(
            "" if allowed else "Changing it needs the change-settings permission (an admin)."
        )
        self.permission_label.setWordWrap(True)
        self.permission_label.setVisible(not allowed)
        self.error_label = QLabel()
        show_as_error(self.error_label)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            (QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
            if allowed
            else QDialogButtonBox.StandardButton.Close
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setText("Save for this workstation")
        self.buttons.accepted.connect(self._on_save_requested)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.permission_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def exempt_roles(self) -> list[str]:
        """The roles ticked now."""
        return [role for role, box in self.role_boxes.items() if box.isChecked()]

    def show_error(self, message: str) -> None:
        self.buttons.setEnabled(True)
        self.error_label.setText(message)
        self.error_label.show()

    def _on_save_requested(self) -> None:
        self.error_label.hide()
        self.buttons.setEnabled(False)
        self.sig_change_requested.emit(self.exempt_roles())
