"""BLE devices pane: listing, registering, removing, refusals, permissions and the host scan,
against a fake backend run through the console's real query client (so every call runs on
a query worker and answers on the GUI thread, as in the console)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.history.query_service import QueryService
from engine.identity.ble_scan import NO_BLUEZ_SOCKET
from engine.identity.devices import BleDeviceView, DeviceRegistryError
from engine.identity.people import PersonView
from engine.sitetime import SiteTime
from widgets.ble_devices.api import BleScanReport, HeardDevice
from widgets.ble_devices.view import (
    COLUMN_ADDRESS,
    COLUMN_COLOUR,
    COLUMN_LABEL,
    COLUMN_PERSON,
    COLUMN_REGISTERED_AT,
    COLUMN_REGISTERED_BY,
    NOT_ALLOWED_TEXT,
    BleDevicesPane,
)

T0 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
ALICE = PersonView("Person_A1A1A1A1", "Alice", 12, T0, T0, None, False, 5)
NAMELESS = PersonView("Person_B2B2B2B2", None, 3, T0, T0, None, False, 3)
GONE = PersonView("Person_C3C3C3C3", "Carol", 0, None, None, None, True, 1)  # archived
ALICES_PHONE = BleDeviceView(
    address="AA:BB:CC:DD:EE:01",
    label="Alice's phone",
    person_id=ALICE.public_id,
    person_name="Alice",
    colour="#E69F00",
    registered_at=T0,
    registered_by="account:ada",
)
BAD_ADDRESS = "BLE address: expected six hex bytes like AA:BB:CC:DD:EE:FF, got 'AA:BB'"


class FakeRegistry:
    """The console's BLE device actions over a list, recording every call and its thread."""

    def __init__(self) -> None:
        self.devices = [ALICES_PHONE]
        self.people = [ALICE, NAMELESS, GONE]
        self.calls: list[tuple[object, ...]] = []
        self.threads: set[str] = set()
        self.refusal: Exception | None = None
        self.report = BleScanReport("stopped", "stopped", ())

    def _call(self, *call: object) -> None:
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)

    def list_devices(self) -> list[BleDeviceView]:
        self._call("list")
        return list(self.devices)

    def list_people(self) -> list[PersonView]:
        self._call("people")
        return list(self.people)

    def register_device(
        self, address: str, label: str, person: str, colour: str | None
    ) -> BleDeviceView:
        self._call("register", address, label, person, colour)
        if self.refusal is not None:
            raise self.refusal
        carrier = next((p for p in self.people if p.public_id == person), None)
        device = BleDeviceView(
            address=address.upper().replace("-", ":"),
            label=label,
            person_id=carrier.public_id if carrier else "Person_D4D4D4D4",
            person_name=carrier.name if carrier else person,
            colour=colour or "#56B4E9",
            registered_at=T0,
            registered_by="account:ada",
        )
        self.devices.append(device)
        return device

    def remove_device(self, address: str) -> BleDeviceView:
        self._call("remove", address)
        device = next(d for d in self.devices if d.address == address)
        self.devices.remove(device)
        return device

    def scan(self, seconds: float) -> BleScanReport:
        self._call("scan", seconds)
        return self.report

    def changes(self) -> list[tuple[object, ...]]:
        return [call for call in self.calls if call[0] not in ("list", "people")]


@pytest.fixture(autouse=True)
def site_at_utc_plus_0530(shown_zone: Callable[[str], SiteTime]) -> None:
    """The console shows a site at UTC+05:30 all year, far from this machine's zone."""
    shown_zone("Asia/Kolkata")


@pytest.fixture
def client() -> Iterator[QtQueryClient]:
    opened = QtQueryClient(QueryService(store=None))  # type: ignore[arg-type]
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]


@pytest.fixture
def backend() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def pane(qtbot: QtBot, client: QtQueryClient, backend: FakeRegistry) -> BleDevicesPane:
    pane = BleDevicesPane(client, backend)
    qtbot.addWidget(pane)
    pane.resize(900, 700)
    with (
        qtbot.waitSignal(pane.sig_devices_listed, timeout=5000),
        qtbot.waitSignal(pane.sig_people_listed, timeout=5000),
    ):
        pane.show()  # the first showing loads the list
    return pane


def finished(qtbot: QtBot, pane: BleDevicesPane) -> object:
    return qtbot.waitSignal(pane.sig_action_finished, timeout=5000)


def test_the_list_shows_each_device_its_carrier_colour_and_who_registered_it(
    pane: BleDevicesPane, backend: FakeRegistry
) -> None:
    address = ALICES_PHONE.address
    assert pane.cell_text(address, COLUMN_ADDRESS) == address
    assert pane.cell_text(address, COLUMN_LABEL) == "Alice's phone"
    assert pane.cell_text(address, COLUMN_PERSON) == "Alice"
    assert pane.cell_text(address, COLUMN_COLOUR) == "#E69F00"
    assert pane.cell_text(address, COLUMN_REGISTERED_AT) == "2026-02-03 09:35"  # site time
    assert pane.cell_text(address, COLUMN_REGISTERED_BY) == "account:ada"
    swatch = pane.view.model().index(0, COLUMN_COLOUR).data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(swatch, QColor) and swatch.name().upper() == "#E69F00"
    tip = pane.view.model().index(0, COLUMN_PERSON).data(Qt.ItemDataRole.ToolTipRole)
    assert ALICE.public_id in tip
    assert pane.count_label.text() == "1 registered device"
    # Carriers on offer: the known people, not archived ones, by name and id.
    assert pane.person_choices() == [
        ("Alice (Person_A1A1A1A1)", ALICE.public_id),
        ("Person_B2B2B2B2", NAMELESS.public_id),
    ]
    assert backend.threads and all(t.startswith("query-worker") for t in backend.threads)


def test_register_sends_the_fields_and_lists_the_new_device(
    qtbot: QtBot, pane: BleDevicesPane, backend: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    pane.address_edit.setText(" aa-bb-cc-dd-ee-02 ")
    pane.label_edit.setText("Alice's tag")
    pane.person_combo.setCurrentIndex(0)  # Alice, picked from the list: her id is sent
    monkeypatch.setattr(pane, "_ask_colour", lambda _initial: QColor("#00ff00"))
    pane.colour_button.click()
    assert pane.colour_edit.text() == "#00FF00"
    assert "#00ff00" in pane.colour_swatch.styleSheet()

    with (
        qtbot.waitSignal(pane.sig_device_register_requested, timeout=1000) as requested,
        qtbot.waitSignal(pane.sig_device_registered, timeout=5000) as registered,
        qtbot.waitSignal(pane.sig_devices_listed, timeout=5000),
    ):
        pane.register_button.click()
    assert requested.args == ["aa-bb-cc-dd-ee-02", "Alice's tag", ALICE.public_id, "#00FF00"]
    assert backend.changes() == [
        ("register", "aa-bb-cc-dd-ee-02", "Alice's tag", ALICE.public_id, "#00FF00")
    ]
    assert registered.args == ["AA:BB:CC:DD:EE:02"]
    assert "Registered AA:BB:CC:DD:EE:02 (Alice's tag), carried by Alice" in (
        pane.status_label.text()
    )
    assert pane.device("aa:bb:cc:dd:ee:02") is not None and pane.count_label.text().startswith("2")
    assert pane.address_edit.text() == "" and pane.colour_edit.text() == ""  # ready for the next
    assert not pane.error_label.isVisible()

    # A name typed in full goes as typed (the engine finds or adds the person); no colour
    # keeps the person's own.
    pane.address_edit.setText("AA:BB:CC:DD:EE:03")
    pane.label_edit.setText("badge")
    pane.person_combo.setEditText("Bob Jones")
    with finished(qtbot, pane):
        pane.register_button.click()
    assert backend.changes()[-1] == ("register", "AA:BB:CC:DD:EE:03", "badge", "Bob Jones", None)


def test_an_engine_refusal_is_shown_in_its_own_words_and_the_form_is_kept(
    qtbot: QtBot, pane: BleDevicesPane, backend: FakeRegistry
) -> None:
    backend.refusal = DeviceRegistryError(BAD_ADDRESS)
    pane.address_edit.setText("AA:BB")
    pane.label_edit.setText("phone")
    pane.person_combo.setEditText("Alice")
    with qtbot.assertNotEmitted(pane.sig_device_registered), finished(qtbot, pane) as done:
        pane.register_button.click()
    assert done.args == ["Registering AA:BB…", False]
    assert pane.error_label.isVisible()
    assert pane.error_label.text() == f"Could not register AA:BB: {BAD_ADDRESS}"
    assert pane.address_edit.text() == "AA:BB"  # to correct, not to type again
    assert pane.register_button.isEnabled() and not pane.is_busy()

    backend.refusal = None
    pane.address_edit.setText("AA:BB:CC:DD:EE:04")
    with finished(qtbot, pane):
        pane.register_button.click()
    assert not pane.error_label.isVisible()  # the refusal is over once a change works


def test_without_the_permission_the_list_shows_but_every_control_is_disabled(
    qtbot: QtBot, pane: BleDevicesPane, backend: FakeRegistry
) -> None:
    pane.set_changes_allowed(False)
    controls = (
        pane.address_edit,
        pane.label_edit,
        pane.person_combo,
        pane.colour_edit,
        pane.colour_button,
        pane.register_button,
        pane.remove_button,
        pane.scan_button,
        pane.scan_seconds,
    )
    assert [c for c in controls if c.isEnabled()] == []
    assert pane.permission_label.isVisible() and pane.permission_label.text() == NOT_ALLOWED_TEXT
    pane.select(ALICES_PHONE.address)
    assert not pane.remove_button.isEnabled()
    with (
        qtbot.assertNotEmitted(pane.sig_device_register_requested, wait=100),
        qtbot.assertNotEmitted(pane.sig_scan_requested, wait=100),
    ):
        pane.address_edit.returnPressed.emit()  # Enter in the form asks nothing either
        pane.scan_button.click()
    assert backend.changes() == []
    assert pane.devices() == [ALICES_PHONE]  # still listed

    pane.set_changes_allowed(True)
    assert pane.register_button.isEnabled() and pane.remove_button.isEnabled()
    assert pane.scan_button.isEnabled() and not pane.permission_label.isVisible()


def test_remove_asks_first_then_removes_the_selected_device(
    qtbot: QtBot, pane: BleDevicesPane, backend: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not pane.remove_button.isEnabled()  # nothing selected
    pane.view.selectionModel().select(
        pane.view.model().index(0, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    asked: list[str] = []
    answer = [False]

    def confirm(device: BleDeviceView) -> bool:
        asked.append(device.address)
        return answer[0]

    monkeypatch.setattr(pane, "_confirm_remove", confirm)
    with qtbot.assertNotEmitted(pane.sig_device_remove_requested, wait=50):
        pane.remove_button.click()  # cancelled
    assert asked == [ALICES_PHONE.address] and backend.changes() == []

    answer[0] = True
    with (
        qtbot.waitSignal(pane.sig_device_remove_requested, timeout=1000) as requested,
        qtbot.waitSignal(pane.sig_device_removed, timeout=5000),
        qtbot.waitSignal(pane.sig_devices_listed, timeout=5000),
    ):
        pane.remove_button.click()
    assert requested.args == [ALICES_PHONE.address]
    assert backend.changes() == [("remove", ALICES_PHONE.address)]
    assert pane.devices() == [] and pane.count_label.text() == "0 registered devices"
    assert "Removed AA:BB:CC:DD:EE:01" in pane.status_label.text()


def test_a_scan_lists_what_was_heard_and_a_pick_fills_the_form(
    qtbot: QtBot, pane: BleDevicesPane, backend: FakeRegistry
) -> None:
    backend.report = BleScanReport(
        "stopped",
        "stopped",
        (
            HeardDevice("11:22:33:44:55:66", "Pixel 8", -58, 14),
            HeardDevice(ALICES_PHONE.address, None, -71, 3, registered_to="Alice"),
        ),
    )
    pane.scan_seconds.setValue(4)
    with (
        qtbot.waitSignal(pane.sig_scan_requested, timeout=1000) as requested,
        qtbot.waitSignal(pane.sig_scan_finished, timeout=5000) as done,
    ):
        pane.scan_button.click()
        assert pane.is_scanning() and not pane.scan_button.isEnabled()
    assert requested.args == [4] and done.args == ["stopped", 2]
    assert ("scan", 4.0) in backend.changes()
    assert not pane.is_scanning() and pane.scan_button.isEnabled()
    model = pane.heard_view.model()
    rows = [[model.index(r, c).data() for c in range(4)] for r in range(2)]
    assert rows == [
        ["11:22:33:44:55:66", "Pixel 8", "-58 dBm", ""],
        [ALICES_PHONE.address, "—", "-71 dBm", "Alice"],
    ]
    assert "2 devices heard" in pane.scan_status_label.text()

    assert not pane.use_heard_button.isEnabled()
    pane.heard_view.selectRow(0)
    pane.use_heard_button.click()
    assert pane.address_edit.text() == "11:22:33:44:55:66"
    assert pane.label_edit.text() == "Pixel 8"  # the advertised name, while no label is typed


def test_a_scan_without_bluetooth_shows_the_scanners_status_not_an_error_box(
    qtbot: QtBot, pane: BleDevicesPane, backend: FakeRegistry
) -> None:
    backend.report = BleScanReport("unavailable", NO_BLUEZ_SOCKET, ())
    with qtbot.waitSignal(pane.sig_scan_finished, timeout=5000) as done:
        pane.scan_button.click()
    assert done.args == ["unavailable", 0]
    text = pane.scan_status_label.text()
    assert text == f"Bluetooth is not available here: {NO_BLUEZ_SOCKET}"
    assert "no BlueZ" in text and "#f85149" in pane.scan_status_label.styleSheet()
    assert pane.heard_devices() == [] and pane.scan_button.isEnabled()
    assert not pane.error_label.isVisible()  # the registry itself is fine
