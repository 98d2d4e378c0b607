"""The Cameras page of the administration window: the site file's cameras, each with its
address, what the engine says of it now (online, offline, cannot be opened, disabled), its
live picture size and frame rate, its recording and where its password comes from; and
Add, Edit, Switch off / on and Remove.

Add and Edit open :class:`~widgets.camera_setup.dialog.CameraDialog` (the stream checked
before saving). Every change goes through the console's :class:`CameraSetupActions` (the
site file edited in place, the change recorded as the person logged in, the engine starting
or stopping that camera at once) on the query client's workers; answers come back on the
GUI thread. The page never touches the store, a file or a thread itself.
"""

from __future__ import annotations

from typing import Any, Final

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.query_service import QueryResult
from engine.text import printable
from engine.vision.setup import CameraChange, CameraChangeDone
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.camera_setup.api import CameraList, CameraRow, CameraSetupActions
from widgets.camera_setup.dialog import CameraDialog
from widgets.queries import QueryClient

LIST_CHANNEL: Final = "camera_setup.list"
REFRESH_MS: Final = 5000  # states are read again this often while the page shows
COLUMNS: Final = ("Camera", "Id", "Address", "State", "Picture", "Recording", "Password")
NOT_ALLOWED_TEXT: Final = "Changing cameras needs the configure_cameras permission (admins)."
PASSWORD_WORDS: Final = {
    "": "none",
    "keyring": "OS keyring",
    "env": "environment",
    "url": "in the URL (move it)",
}
ALARM_STATES: Final = ("offline", "cannot be opened", "no footage")


class CameraSetupPane(QWidget):
    """See the module. ``actions``: the console's blocking calls; ``client``: where they
    run."""

    def __init__(
        self, client: QueryClient, actions: CameraSetupActions, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self.listing: CameraList | None = None
        self._allowed = True
        layout = QVBoxLayout(self)
        self.file_label = QLabel("Reading the site file…", self)
        self.file_label.setWordWrap(True)
        self.file_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.file_label)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_controls)
        self.table.itemDoubleClicked.connect(lambda _item: self._on_edit())
        layout.addWidget(self.table, 1)
        self.problem_label = QLabel(self)
        self.problem_label.setWordWrap(True)
        show_as_error(self.problem_label)
        self.problem_label.hide()
        layout.addWidget(self.problem_label)
        self.permission_label = QLabel(NOT_ALLOWED_TEXT, self)
        self.permission_label.hide()
        layout.addWidget(self.permission_label)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add camera…", self)
        self.add_button.clicked.connect(self._on_add)
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(self._on_edit)
        self.switch_button = QPushButton("Switch off", self)
        self.switch_button.clicked.connect(self._on_switch)
        self.remove_button = QPushButton("Remove…", self)
        self.remove_button.clicked.connect(self._on_remove)
        self.strip = ActionStrip(self)
        for button in (self.add_button, self.edit_button, self.switch_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addWidget(self.strip, 1)
        layout.addLayout(buttons)
        self.saving = ActionRunner(
            client,
            self.strip,
            channel="camera_setup.change",
            update_controls=self._update_controls,
            parent=self,
        )
        self.saving.sig_action_finished.connect(lambda _what, _ok: self.refresh())
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_visible)
        self._timer.start()
        self._update_controls()
        self.refresh()

    # -- reading -------------------------------------------------------------------------
    def refresh(self) -> None:
        self._client.submit_action(LIST_CHANNEL, self._actions.cameras, self._on_listed)

    def on_camera_status_changed(self) -> None:
        """A camera's state changed: its row says so now (when the page shows), not at the
        next read of :data:`REFRESH_MS`."""
        self._refresh_if_visible()

    def _refresh_if_visible(self) -> None:
        if self.isVisible() and not self.saving.is_busy():
            self.refresh()

    def _on_listed(self, result: QueryResult[Any]) -> None:
        if not result.ok or not isinstance(result.value, CameraList):
            self.problem_label.setText(f"Cannot read the site's cameras: {result.error}")
            self.problem_label.show()
            return
        self.problem_label.hide()
        listing = self.listing = result.value
        followed = (
            "Changes are saved to this file (its previous version kept beside it) and the "
            "engine starts or stops that camera at once."
            if listing.changes_followed
            else "This console's engine does not run the cameras: the site's engines take "
            "changes to their own site file."
        )
        if listing.read_only:
            why = listing.read_only
            followed = f"{why[:1].upper()}{why[1:]}."
        self.file_label.setText(f"Cameras of {listing.file}. {followed}")
        selected = self.selected()
        self.table.setRowCount(len(listing.cameras))
        for row, camera in enumerate(listing.cameras):
            # With a sub stream, the picture is the sub stream's (the one decoded): said, so
            # that a main stream's address beside a smaller picture does not puzzle.
            address = f"{camera.url}  (sub: {camera.sub_url})" if camera.sub_url else camera.url
            picture = camera.picture or "—"
            if camera.picture and camera.sub_url:
                picture += " (sub)"
            cells = (
                camera.name,
                camera.id,
                address,
                camera.state,
                picture,
                "continuous" if camera.continuous else "event clips",
                PASSWORD_WORDS.get(camera.password, camera.password),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(printable(text))
                if column == 3 and camera.detail:
                    item.setToolTip(printable(camera.detail))
                if column == 3 and camera.state in ALARM_STATES:
                    item.setForeground(self.palette().brightText())
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)
            if selected is not None and camera.id == selected.id:
                self.table.selectRow(row)
        self._update_controls()

    def selected(self) -> CameraRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or self.listing is None:
            return None
        index = rows[0].row()
        cameras = self.listing.cameras
        return cameras[index] if 0 <= index < len(cameras) else None

    # -- permission ----------------------------------------------------------------------
    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): changes for those who configure
        cameras (the engine refuses anyone else anyway)."""
        self.set_changes_allowed(actor is not None and actor.may(Permission.CONFIGURE_CAMERAS))

    def set_changes_allowed(self, allowed: bool) -> None:
        self._allowed = allowed
        self.permission_label.setVisible(not allowed)
        self._update_controls()

    def _update_controls(self) -> None:
        camera = self.selected()
        can = self._allowed and not self.saving.is_busy()
        followed = (
            self.listing is not None
            and self.listing.changes_followed
            and not self.listing.read_only
        )
        self.add_button.setEnabled(can and followed)
        for button in (self.edit_button, self.remove_button, self.switch_button):
            button.setEnabled(can and followed and camera is not None)
        self.switch_button.setText(
            "Switch on" if camera is not None and not camera.enabled else "Switch off"
        )

    # -- changes -------------------------------------------------------------------------
    def _dialog(self, row: CameraRow | None) -> CameraDialog:
        taken = {c.id for c in self.listing.cameras} if self.listing else set()
        return CameraDialog(
            self._client,
            self._actions.probe,
            taken,
            row,
            self,
            discover=self._actions.discover if row is None else None,
            read_onvif=self._actions.read_onvif if row is None else None,
        )

    def _open(self, dialog: CameraDialog) -> CameraChange | None:
        """Show ``dialog`` (tests replace this) and give what it asks to change."""
        return dialog.change if dialog.exec() == CameraDialog.DialogCode.Accepted else None

    def _on_add(self) -> None:
        change = self._open(self._dialog(None))
        if change is not None:
            self._carry_out(change, "adding the camera…")

    def _on_edit(self) -> None:
        camera = self.selected()
        if camera is None or not self.edit_button.isEnabled():
            return
        change = self._open(self._dialog(camera))
        if change is not None:
            self._carry_out(change, "saving the camera…")

    def _on_switch(self) -> None:
        camera = self.selected()
        if camera is None:
            return
        if camera.enabled:
            change = CameraChange("edit", camera.id, {"enabled": False}, probe=False)
            self._carry_out(change, "switching the camera off…", "switched off")
        else:
            change = CameraChange("edit", camera.id, {}, ("enabled",), probe=False)
            self._carry_out(change, "switching the camera on…", "switched on")

    def _confirm_remove(self, camera: CameraRow) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove camera",
            f"Remove {printable(camera.name)} from the site? It stops now; its recordings "
            "and history stay (retention deletes them in time). Switch it off instead to "
            "keep it in the site file.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_remove(self) -> None:
        camera = self.selected()
        if camera is None or not self._confirm_remove(camera):
            return
        self._carry_out(CameraChange("remove", camera.id, probe=False), "removing the camera…")

    def _carry_out(self, change: CameraChange, what: str, done_words: str = "") -> None:
        """Carry out ``change`` on the client's workers, ``what`` shown meanwhile, then
        "<name> ``done_words``" (by default: added, saved or removed)."""
        actions = self._actions
        verb = done_words or {"add": "added", "edit": "saved", "remove": "removed"}[change.action]

        def done(result: CameraChangeDone) -> None:
            self.strip.show_status(f"{printable(result.name)} {verb}")

        self.saving.run(what, lambda: actions.change(change), done, failure="not saved")
