"""The BLE devices pane: which phone or tag each known person carries, for admins to register
and remove, with a scan of this computer's own Bluetooth adapter to find a device's address.

The sensing room names a blob by the registered device it carries (the person's name, in
their colour). The pane never touches the store or the radio: the console gives it a
:class:`BleDeviceActions` object (blocking calls made as the person logged in, whose
permission the engine checks) and a query client, and the pane runs every call on the
client's workers; the answers come back on the GUI thread. Refusals (a malformed address, an
address already registered, a missing permission) are shown in the pane as the engine words
them. A scan that finds no adapter or no BlueZ shows the scanner's status, never an error box.
Every method here runs on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.query_service import CallRequest, QueryResult
from engine.identity.devices import BleDeviceView
from engine.identity.people import PersonView
from engine.sitetime import display
from engine.text import printable
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.ble_devices.api import BleDeviceActions, BleScanReport, HeardDevice
from widgets.queries import QueryClient
from widgets.scrolling import scrolling_layout
from widgets.table_model import RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M"
NO_VALUE = "—"
DEFAULT_SCAN_SECONDS = 10
MAX_SCAN_SECONDS = 60  # a scan holds one of the console's query workers while it listens
NOT_ALLOWED_TEXT = (
    "Registering, removing and scanning for BLE devices need the manage_ble_devices "
    "permission (admins)."
)
_SWATCH_STYLE = "border: 1px solid #8b949e; border-radius: 3px; background: {colour};"

COLUMN_ADDRESS, COLUMN_LABEL, COLUMN_PERSON, COLUMN_COLOUR = 0, 1, 2, 3
COLUMN_REGISTERED_AT, COLUMN_REGISTERED_BY = 4, 5
_HEADERS = ("Address", "Label", "Person", "Colour", "Registered", "By")

HEARD_ADDRESS, HEARD_NAME, HEARD_RSSI, HEARD_REGISTERED = 0, 1, 2, 3
_HEARD_HEADERS = ("Address", "Advertised name", "Strongest RSSI", "Registered to")


def _valid_colour(text: str) -> QColor | None:
    """``#RRGGBB`` as a colour, None for anything else (the engine says what is wrong)."""
    text = text.strip()
    if len(text) != 7 or not text.startswith("#"):
        return None
    colour = QColor(text)
    return colour if colour.isValid() else None


def person_choice_text(person: PersonView) -> str:
    """How the carrier list offers ``person``: ``Alice (Person_1A2B3C4D)``, or the id alone
    for someone without a name."""
    if person.name:
        return f"{printable(person.name)} ({person.public_id})"
    return person.public_id


class _DevicesModel(RowsTableModel[BleDeviceView]):
    """One row per registered device, in the engine's order (by person, then address)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_HEADERS, parent)

    def devices(self) -> list[BleDeviceView]:
        return list(self._rows)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        device = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(device, column)
        if role == Qt.ItemDataRole.DecorationRole and column == COLUMN_COLOUR:
            return _valid_colour(device.colour)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COLUMN_PERSON:
                name = printable(device.person_name) if device.person_name else "no name yet"
                return f"{device.person_id} ({name}): blobs carrying this device take this name"
            if column == COLUMN_COLOUR:
                return "The person's colour: their blob and name are drawn in it"
            if column == COLUMN_REGISTERED_AT:
                return display().local(device.registered_at).isoformat(timespec="seconds")
        return None

    @staticmethod
    def text(device: BleDeviceView, column: int) -> str:
        if column == COLUMN_ADDRESS:
            return device.address
        if column == COLUMN_LABEL:
            return printable(device.label)
        if column == COLUMN_PERSON:
            return printable(device.display_name)
        if column == COLUMN_COLOUR:
            return device.colour
        if column == COLUMN_REGISTERED_AT:
            return _local_time(device.registered_at)
        return printable(device.registered_by)


class _HeardModel(RowsTableModel[HeardDevice]):
    """The devices one scan heard, strongest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_HEARD_HEADERS, parent)

    def heard(self) -> list[HeardDevice]:
        return list(self._rows)

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        heard = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == HEARD_ADDRESS:
                return heard.address
            if column == HEARD_NAME:
                return printable(heard.name) if heard.name else NO_VALUE
            if column == HEARD_RSSI:
                return f"{heard.rssi_max_dbm} dBm"
            return printable(heard.registered_to) if heard.registered_to else ""
        if role == Qt.ItemDataRole.TextAlignmentRole and column == HEARD_RSSI:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"{heard.advertisements} advertisements heard; double-click to register this "
                "address"
            )
        return None


def _local_time(at: datetime) -> str:
    return display().local(at).strftime(TIME_FORMAT)


class BleDevicesPane(QWidget):
    """Registered BLE devices (address, label, person, colour, registered at and by), a form
    to register one (address, label, the person by name or id, their colour), Remove…, and a
    scan of this computer's Bluetooth adapter whose results fill the address in.

    ``actions`` block: the pane runs them through ``client`` and lists the devices again after
    each change. It loads when first shown (or on :meth:`refresh`). The console says with
    :meth:`set_changes_allowed` whether the person at it may change the registry; the engine
    refuses anyone else anyway."""

    sig_device_register_requested = Signal(str, str, str, str)
    """The admin asked to register a device (GUI thread): address, label, person (name or
    id) and colour (``#RRGGBB``; "" keeps the person's own), as typed. The pane runs it."""

    sig_device_remove_requested = Signal(str)
    """The admin asked to remove a registered device (GUI thread): its address."""

    sig_scan_requested = Signal(int)
    """The admin asked to scan the host's Bluetooth adapter (GUI thread): for how many
    seconds."""

    sig_device_registered = Signal(str)
    """A device was registered (GUI thread): its address, as the engine normalised it."""

    sig_device_removed = Signal(str)
    """A device was removed (GUI thread): its address."""

    sig_devices_listed = Signal(int)
    """A listing arrived and is shown (GUI thread): the number of devices."""

    sig_people_listed = Signal(int)
    """The people offered as carriers arrived (GUI thread): how many."""

    sig_scan_finished = Signal(str, int)
    """A scan ended (GUI thread): the scanner's final state (``"error"`` when the scan
    itself raised) and how many devices were heard."""

    sig_action_finished = Signal(str, bool)
    """A registration or removal ended (GUI thread): what was done, and whether it worked."""

    def __init__(
        self,
        client: QueryClient,
        actions: BleDeviceActions,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self._channel = f"ble-devices-{id(self):x}"
        self._scanning = False
        self._loaded_once = False
        self._listing_failed = False
        self._changes_allowed = True

        # -- the registry --------------------------------------------------------------------
        self._model = _DevicesModel(self)
        self.view = QTableView()
        self.view.setModel(self._model)
        show_rows_read_only(self.view)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.count_label = QLabel("Not loaded yet")
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip("Forget the selected device: blobs are no longer named by it")
        self.remove_button.clicked.connect(self._on_remove_requested)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(self.remove_button)
        top.addWidget(self.refresh_button)

        # -- registering -----------------------------------------------------------------
        self.address_edit = QLineEdit()
        self.address_edit.setPlaceholderText("AA:BB:CC:DD:EE:FF (or scan below)")
        self.address_edit.setAccessibleName("BLE address")
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("what it is, e.g. John's phone")
        self.label_edit.setAccessibleName("Device label")
        self.person_combo = QComboBox()
        self.person_combo.setEditable(True)
        self.person_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.person_combo.setAccessibleName("Person")
        person_edit = self.person_combo.lineEdit()
        if person_edit is not None:
            person_edit.setPlaceholderText("a known person, or a new name")
        self.person_combo.setToolTip(
            "Who carries it: pick a known person, or type a name (a new person if nobody has "
            "it) or a Person_… id"
        )
        self.colour_edit = QLineEdit()
        self.colour_edit.setPlaceholderText("#RRGGBB (empty: the person's own)")
        self.colour_edit.setAccessibleName("Colour")
        self.colour_edit.setMaxLength(7)
        self.colour_edit.textChanged.connect(self._on_colour_changed)
        self.colour_swatch = QLabel()
        self.colour_swatch.setFixedSize(22, 22)
        self.colour_swatch.setAccessibleName("Colour swatch")
        self.colour_button = QPushButton("Pick…")
        self.colour_button.setToolTip("Choose the person's colour")
        self.colour_button.clicked.connect(self._on_colour_pick_requested)
        colour_row = QHBoxLayout()
        colour_row.addWidget(self.colour_edit, 1)
        colour_row.addWidget(self.colour_swatch)
        colour_row.addWidget(self.colour_button)
        self.register_button = QPushButton("Register")
        self.register_button.setDefault(True)
        self.register_button.clicked.connect(self._on_register_requested)
        for edit in (self.address_edit, self.label_edit, self.colour_edit):
            edit.returnPressed.connect(self._on_register_requested)
        form = QFormLayout()
        form.addRow("Address", self.address_edit)
        form.addRow("Label", self.label_edit)
        form.addRow("Person", self.person_combo)
        form.addRow("Colour", colour_row)
        form.addRow("", self.register_button)
        self.register_box = QGroupBox("Register a device")
        self.register_box.setLayout(form)

        # -- scanning --------------------------------------------------------------------
        self.scan_seconds = QSpinBox()
        self.scan_seconds.setRange(1, MAX_SCAN_SECONDS)
        self.scan_seconds.setValue(DEFAULT_SCAN_SECONDS)
        self.scan_seconds.setSuffix(" s")
        self.scan_seconds.setAccessibleName("Scan duration")
        self.scan_button = QPushButton("Scan")
        self.scan_button.setToolTip(
            "Listen with this computer's Bluetooth adapter and list the devices heard"
        )
        self.scan_button.clicked.connect(self._on_scan_requested)
        self.scan_status_label = QLabel("Scan to find the address of a phone or tag nearby.")
        self.scan_status_label.setWordWrap(True)
        self.scan_status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._heard_model = _HeardModel(self)
        self.heard_view = QTableView()
        self.heard_view.setModel(self._heard_model)
        show_rows_read_only(self.heard_view, alternating=False, word_wrap=True)
        heard_header = self.heard_view.horizontalHeader()
        heard_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        heard_header.setStretchLastSection(True)
        self.heard_view.doubleClicked.connect(self._on_heard_chosen)
        self.heard_view.selectionModel().selectionChanged.connect(self._on_heard_selection_changed)
        self.use_heard_button = QPushButton("Use this address")
        self.use_heard_button.setToolTip("Copy the selected device's address into the form")
        self.use_heard_button.clicked.connect(self._on_use_heard_requested)
        scan_row = QHBoxLayout()
        scan_row.addWidget(QLabel("Listen for"))
        scan_row.addWidget(self.scan_seconds)
        scan_row.addWidget(self.scan_button)
        scan_row.addStretch(1)
        scan_row.addWidget(self.use_heard_button)
        scan_layout = QVBoxLayout()
        scan_layout.addLayout(scan_row)
        scan_layout.addWidget(self.scan_status_label)
        scan_layout.addWidget(self.heard_view, 1)
        self.scan_box = QGroupBox("Scan with this computer's Bluetooth")
        self.scan_box.setLayout(scan_layout)

        # -- messages --------------------------------------------------------------------
        self.permission_label = QLabel()
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()
        self.strip = ActionStrip()
        self.status_label = self.strip.status_label
        self.error_label = self.strip.error_label
        self._runner = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.change",
            update_controls=self._update_controls,
            parent=self,
        )
        self._runner.sig_action_finished.connect(self.sig_action_finished)
        self._runner.sig_action_finished.connect(self._on_action_finished)

        # The form and the scan list are tall: they scroll inside the pane rather than make
        # the dock column (and the window) taller than the screen.
        layout = scrolling_layout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 2)
        layout.addWidget(self.permission_label)
        layout.addWidget(self.register_box)
        layout.addWidget(self.strip)
        layout.addWidget(self.scan_box, 1)
        self._on_colour_changed("")
        self._update_controls()

    # -- public API ------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the devices, and the people offered as carriers, again (on workers); a newer
        refresh supersedes one underway. The selection is kept by address."""
        self._loaded_once = True
        self._client.submit(
            f"{self._channel}.list",
            CallRequest(self._actions.list_devices, "list BLE devices"),
            self._on_devices_listed,
        )
        self._client.submit(
            f"{self._channel}.people",
            CallRequest(self._actions.list_people, "list people"),
            self._on_people_listed,
        )

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): registering is for who may manage
        BLE devices."""
        self.set_changes_allowed(actor is not None and actor.may(Permission.MANAGE_BLE_DEVICES))

    def set_changes_allowed(self, allowed: bool, why_not: str = NOT_ALLOWED_TEXT) -> None:
        """Whether the person at the console may register, remove and scan: when not, the
        form and buttons are disabled and ``why_not`` says so (the list stays readable).
        The engine refuses a change from anyone without the permission anyway."""
        self._changes_allowed = allowed
        self.permission_label.setText("" if allowed else why_not)
        self.permission_label.setVisible(not allowed and bool(why_not))
        self._update_controls()

    @property
    def changes_allowed(self) -> bool:
        return self._changes_allowed

    def devices(self) -> list[BleDeviceView]:
        """The devices listed now."""
        return self._model.devices()

    def device(self, address: str) -> BleDeviceView | None:
        """The listed device with ``address`` (any case), or None."""
        wanted = address.strip().upper()
        return next((d for d in self._model.devices() if d.address == wanted), None)

    def cell_text(self, address: str, column: int) -> str:
        """What the table shows for device ``address`` in ``column`` ("" if not listed)."""
        for row, device in enumerate(self._model.devices()):
            if device.address == address.strip().upper():
                return str(self._model.index(row, column).data() or "")
        return ""

    def heard_devices(self) -> list[HeardDevice]:
        """The devices the last scan heard, as listed."""
        return self._heard_model.heard()

    def person_choices(self) -> list[tuple[str, str]]:
        """The carriers offered: (text shown, public id)."""
        return [
            (self.person_combo.itemText(i), str(self.person_combo.itemData(i)))
            for i in range(self.person_combo.count())
        ]

    def selected_device(self) -> BleDeviceView | None:
        rows = self.view.selectionModel().selectedRows()
        return self._model.row(rows[0].row()) if rows else None

    def select(self, address: str) -> None:
        """Select the device with ``address`` (nothing if it is not listed)."""
        self.view.clearSelection()
        for row, device in enumerate(self._model.devices()):
            if device.address == address.strip().upper():
                flags = (
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows
                )
                self.view.selectionModel().select(self._model.index(row, 0), flags)
                return

    def is_busy(self) -> bool:
        """Whether a registration or removal is still running."""
        return self._runner.is_busy()

    def is_scanning(self) -> bool:
        return self._scanning

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    # Dialogs: small methods, so tests (and callers) can replace them.

    def _confirm_remove(self, device: BleDeviceView) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove BLE device",
            f"Remove {device.address} ({printable(device.label)}), carried by "
            f"{printable(device.display_name)}? Blobs are no longer named by it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _ask_colour(self, initial: QColor | None) -> QColor | None:
        """The colour the admin picks (None: cancelled)."""
        colour = QColorDialog.getColor(
            initial or QColor("#56B4E9"), self, "The person's colour in the console"
        )
        return colour if colour.isValid() else None

    # -- handlers --------------------------------------------------------------------------
    def _on_selection_changed(self) -> None:
        self._update_controls()

    def _on_heard_selection_changed(self) -> None:
        self._update_controls()

    def _on_colour_changed(self, text: str) -> None:
        colour = _valid_colour(text)
        self.colour_swatch.setStyleSheet(
            _SWATCH_STYLE.format(colour=colour.name() if colour is not None else "transparent")
        )
        self.colour_swatch.setToolTip(
            colour.name().upper() if colour is not None else "The person's own colour"
        )

    def _on_colour_pick_requested(self) -> None:
        colour = self._ask_colour(_valid_colour(self.colour_edit.text()))
        if colour is not None:
            self.colour_edit.setText(colour.name().upper())

    def _on_register_requested(self) -> None:
        if not self._changes_allowed or self._runner.is_busy():
            return
        address = self.address_edit.text().strip()
        label = self.label_edit.text().strip()
        person = self._chosen_person()
        colour = self.colour_edit.text().strip()
        self.sig_device_register_requested.emit(address, label, person, colour)

        def registered(device: object) -> None:
            if isinstance(device, BleDeviceView):
                self.strip.show_status(
                    f"Registered {device.address} ({printable(device.label)}), carried by "
                    f"{printable(device.display_name)} ({device.person_id})."
                )
                self._clear_form()
                self.sig_device_registered.emit(device.address)

        self._runner.run(
            f"Registering {printable(address) or 'the device'}…",
            partial(self._actions.register_device, address, label, person, colour or None),
            registered,
            failure=f"Could not register {printable(address) or 'the device'}",
        )

    def _on_remove_requested(self) -> None:
        device = self.selected_device()
        if device is None or not self._changes_allowed or self._runner.is_busy():
            return
        if not self._confirm_remove(device):
            return
        self.sig_device_remove_requested.emit(device.address)

        def removed(_value: object) -> None:
            self.strip.show_status(f"Removed {device.address} ({printable(device.label)}).")
            self.sig_device_removed.emit(device.address)

        self._runner.run(
            f"Removing {device.address}…",
            partial(self._actions.remove_device, device.address),
            removed,
            failure=f"Could not remove {device.address}",
        )

    def _on_scan_requested(self) -> None:
        if not self._changes_allowed or self._scanning:
            return
        seconds = self.scan_seconds.value()
        self.sig_scan_requested.emit(seconds)
        self._scanning = True
        show_as_error(self.scan_status_label, False)
        self.scan_status_label.setText(f"Listening for {seconds} s…")
        self._update_controls()
        self._client.submit_action(
            f"{self._channel}.scan",
            partial(self._actions.scan, float(seconds)),
            self._on_scan_finished,
            name="BLE scan",
        )

    def _on_scan_finished(self, result: QueryResult[Any]) -> None:
        self._scanning = False
        report = result.value
        if result.error is not None or not isinstance(report, BleScanReport):
            error = result.error
            _log.warning("BLE scan failed: %s", error, exc_info=error)
            show_as_error(self.scan_status_label)
            self.scan_status_label.setText(f"The scan failed: {printable(str(error))}")
            self._update_controls()
            self.sig_scan_finished.emit("error", 0)
            return
        self._heard_model.set_rows(report.devices)
        count = len(report.devices)
        heard = f"{count} device{'' if count == 1 else 's'} heard"
        if report.failed:
            show_as_error(self.scan_status_label)
            self.scan_status_label.setText(
                f"Bluetooth is not available here: {printable(report.detail)}"
                + (f" ({heard} before it stopped)" if count else "")
            )
        else:
            show_as_error(self.scan_status_label, False)
            hint = "; double-click one to register it" if count else ""
            self.scan_status_label.setText(f"{heard}{hint}. Adapter: {printable(report.detail)}")
        self._update_controls()
        self.sig_scan_finished.emit(report.state, count)

    def _on_heard_chosen(self, index: QModelIndex) -> None:
        if index.isValid():
            self._use_heard(self._heard_model.row(index))

    def _on_use_heard_requested(self) -> None:
        rows = self.heard_view.selectionModel().selectedRows()
        if rows:
            self._use_heard(self._heard_model.row(rows[0].row()))

    def _on_devices_listed(self, result: QueryResult[Any]) -> None:
        if result.error is not None or result.value is None:
            self._listing_failed = True
            message = f"Could not list BLE devices: {printable(str(result.error))}"
            _log.warning("%s", message)
            self.strip.show_error(message)
            return
        if self._listing_failed:  # a listing error is over once listing works again
            self._listing_failed = False
            self.strip.clear_error()
        selected = self.selected_device()
        devices: Sequence[BleDeviceView] = result.value
        self._model.set_rows(devices)
        if selected is not None:
            self.select(selected.address)
        count = len(devices)
        self.count_label.setText(f"{count} registered device{'' if count == 1 else 's'}")
        self._update_controls()
        self.sig_devices_listed.emit(count)

    def _on_people_listed(self, result: QueryResult[Any]) -> None:
        if result.error is not None or result.value is None:
            _log.warning("cannot list people for the BLE devices pane: %s", result.error)
            return
        people: Sequence[PersonView] = result.value
        typed = self.person_combo.currentText()
        self.person_combo.blockSignals(True)
        self.person_combo.clear()
        for person in people:
            if not person.archived:
                self.person_combo.addItem(person_choice_text(person), person.public_id)
        self.person_combo.setCurrentIndex(-1)
        self.person_combo.setEditText(typed)  # what was being typed stays
        self.person_combo.blockSignals(False)
        self.sig_people_listed.emit(self.person_combo.count())

    def _on_action_finished(self, _what: str, _ok: bool) -> None:
        self.refresh()  # list again after every change, worked or refused

    # -- internals -------------------------------------------------------------------------
    def _chosen_person(self) -> str:
        """The person as the engine takes it: the id of a listed person picked from the
        list, else the text typed (a name or an id)."""
        text = self.person_combo.currentText().strip()
        index = self.person_combo.findText(text, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            return str(self.person_combo.itemData(index))
        return text

    def _use_heard(self, heard: HeardDevice) -> None:
        if not self._changes_allowed:
            return
        self.address_edit.setText(heard.address)
        if not self.label_edit.text().strip() and heard.name:
            self.label_edit.setText(heard.name)
        self.label_edit.setFocus()

    def _clear_form(self) -> None:
        for edit in (self.address_edit, self.label_edit, self.colour_edit):
            edit.clear()
        self.person_combo.setCurrentIndex(-1)
        self.person_combo.setEditText("")

    def _update_controls(self) -> None:
        allowed = self._changes_allowed
        idle = not self._runner.is_busy()
        for widget in (
            self.address_edit,
            self.label_edit,
            self.person_combo,
            self.colour_edit,
            self.colour_button,
        ):
            widget.setEnabled(allowed)
        self.register_button.setEnabled(allowed and idle)
        self.remove_button.setEnabled(allowed and idle and self.selected_device() is not None)
        self.scan_button.setEnabled(allowed and not self._scanning)
        self.scan_seconds.setEnabled(allowed and not self._scanning)
        heard_selected = bool(self.heard_view.selectionModel().selectedRows())
        self.use_heard_button.setEnabled(allowed and heard_selected)
        self.scan_button.setText("Scanning…" if self._scanning else "Scan")
