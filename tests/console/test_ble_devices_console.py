"""BLE identities at the console, on a running engine with a simulated sensing room: a device
registered in the BLE devices pane names the blob that carries it (the runtime refreshes the
sensing room's registry), the registry is loaded when sensing starts, only admins may change
it, and a scan of the host's adapter (through bleak's ``backend=`` hook) lists what it heard.

The simulated walkers of a console site carry no tags, so the test plays the nodes' BLE
reports: each fusion tick, every node "hears" the device at the RSSI the path-loss model gives
for the blob's distance, as the nodes' receivers would if the walker carried it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.backends.devices import BleDevicesBackend, summarise_scan
from console.host import EngineHost
from console.layouts import Layout
from console.main_window import MainWindow
from engine.access import PermissionDeniedError
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.identity import actions as identity_actions
from engine.identity.ble import DEVICE_HEIGHT_M, PATH_LOSS_EXPONENT, REFERENCE_RSSI_DBM
from engine.identity.ble_scan import NO_BLUEZ_SOCKET, BleScanStatus, BleSighting
from engine.identity.devices import RegisterBleDevice, list_ble_devices
from engine.identity.people import list_people
from engine.sensing.service import SensingService
from engine.store import Store
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR
from tests.clocks import EngineTimeDriver
from tests.console.conftest import OpenConsole, audit_entries
from tests.console.test_sensing_console import simulated_site
from tests.engine.sensing.test_ble_scan import radio
from widgets.ble_devices.view import NOT_ALLOWED_TEXT
from widgets.sensing.view import BlobColumn

ALICES_PHONE = "AA:BB:CC:00:00:01"
BOBS_TAG = "AA:BB:CC:00:00:02"
# Real time before a test gives up (a fail-safe bound): the engine runs on simulated time,
# where walkers enter after 5 s of calibration and a blob follows within 1–2 s.
NAMED_WITHIN_MS = 40_000


class NodesHearDevice:
    """Plays the room's nodes hearing ``address`` carried by the room's first blob: once per
    fusion tick, one reading per node at the RSSI expected at the blob's distance."""

    def __init__(self, sensing: SensingService, address: str) -> None:
        self._sensing = sensing
        self._address = address
        self._last_tick: float | None = None

    def __call__(self) -> None:
        snapshot = self._sensing.snapshot()
        if snapshot is None or not snapshot.blobs or snapshot.t_s == self._last_tick:
            return
        self._last_tick = snapshot.t_s
        x, y, _z = snapshot.blobs[0].position
        for node in snapshot.nodes:
            distance = max(math.dist(node.position, (x, y, DEVICE_HEIGHT_M)), 0.3)
            rssi = REFERENCE_RSSI_DBM - 10.0 * PATH_LOSS_EXPONENT * math.log10(distance)
            self._sensing.add_ble_sighting(node.node_id, self._address, round(rssi), snapshot.t_s)


class EngineTime:
    """The console's engine on a :class:`SimulatedClock` (starting now, so what was stored
    before it opened stays older), moved on by an :class:`EngineTimeDriver` once the window
    is open: the simulated room's calibration and the device's readings take engine time,
    not real seconds. ``hear``: the nodes hear that device from then on, once per instant
    of engine time (:class:`NodesHearDevice`)."""

    def __init__(self) -> None:
        self._hearing: list[NodesHearDevice] = []
        self._driver: EngineTimeDriver | None = None

    def start_clock(self) -> SimulatedClock:
        """The console's engine clock, starting now (give it to ``open_console``)."""
        self.clock = SimulatedClock(datetime.now(UTC))
        return self.clock

    def run(self, host: EngineHost) -> None:
        assert host.runtime.clock is self.clock
        sensing = host.runtime.sensing
        self._driver = EngineTimeDriver(
            self.clock, lambda: list(sensing.services.values()), each_step=self._step
        )
        self._driver.start()

    def hear(self, sensing: SensingService, address: str) -> None:
        self._hearing = [*self._hearing, NodesHearDevice(sensing, address)]

    def _step(self) -> None:
        for hear in self._hearing:
            hear()

    def stop(self) -> None:
        if self._driver is not None:
            self._driver.stop()


@pytest.fixture
def engine_time(open_console: OpenConsole) -> Iterator[EngineTime]:
    """Asks for ``open_console`` so that time stops before the console's engine does."""
    time = EngineTime()
    yield time
    time.stop()


def wait_until_named(
    qtbot: QtBot,
    window: MainWindow,
    engine_time: EngineTime,
    sensing: SensingService,
    address: str,
    name: str,
) -> None:
    """Play the device's readings until the sensing pane's blob table shows ``name``."""
    engine_time.hear(sensing, address)
    model = window.panes["sensing"].blob_table.blob_model

    def named() -> bool:
        return any(
            model.text(model.row(row), BlobColumn.WHO) == name for row in range(model.rowCount())
        )

    qtbot.waitUntil(named, timeout=NAMED_WITHIN_MS)


@pytest.mark.slow
def test_a_device_registered_in_the_pane_names_the_blob_carrying_it(
    qtbot: QtBot, open_console: OpenConsole, engine_time: EngineTime, tmp_path: Path
) -> None:
    host, window = open_console(simulated_site(tmp_path), clock=engine_time.start_clock())
    engine_time.run(host)
    assert window.current_layout is Layout.ADMIN
    assert "ble_devices" in window.admin_window.allowed_pages()
    pane = window.panes["ble_devices"]
    # A page of the administration window; it lists the registry when it is first shown.
    assert window.open_administration("ble_devices") is not None and pane.isVisible()
    qtbot.waitUntil(lambda: pane.count_label.text() == "0 registered devices", timeout=5000)
    assert pane.devices() == [] and pane.changes_allowed and pane.register_button.isEnabled()

    pane.address_edit.setText(ALICES_PHONE.lower().replace(":", "-"))
    pane.label_edit.setText("Alice's phone")
    pane.person_combo.setEditText("Alice")  # nobody has the name yet: a new person
    pane.colour_edit.setText("#009e73")
    with (
        qtbot.waitSignal(pane.sig_device_registered, timeout=10_000) as registered,
        qtbot.waitSignal(pane.sig_devices_listed, timeout=10_000),
    ):
        pane.register_button.click()
    assert registered.args == [ALICES_PHONE]
    device = pane.device(ALICES_PHONE)
    assert device is not None and device.display_name == "Alice" and device.colour == "#009E73"
    assert device.registered_by == "account:ada"
    assert [p.name for p in list_people(host.store)] == ["Alice"]
    assert [
        (e.actor, e.target, e.outcome) for e in audit_entries(host, action="ble_device.register")
    ] == [("account:ada", ALICES_PHONE, "ok")]

    # The sensing room names the blob carrying her phone from then on: her name and colour
    # reach the snapshot, the blob table and the 3D view's label.
    sensing = host.runtime.sensing.service()
    assert sensing is not None
    wait_until_named(qtbot, window, engine_time, sensing, ALICES_PHONE, "Alice")
    snapshot = window.panes["sensing"].view.snapshot
    assert snapshot is not None
    blob = next(b for b in snapshot.blobs if b.identity is not None)
    assert blob.identity is not None
    assert (blob.identity.person_id, blob.identity.colour) == (device.person_id, "#009E73")
    assert blob.identity.score >= 0.6
    # Drawn for real, as in tests/widgets/test_sensing_view.py: OpenGL under pytest-xvfb's
    # X server (xcb), so a missing GL fails here rather than passing unchecked.
    view = window.panes["sensing"].view
    assert view.gl_view is not None, view.gl_error
    assert "Alice" in [item.text for item in view.blob_labels if item.visible()]

    # A refusal comes back in the engine's words.
    pane.address_edit.setText("AA:BB")
    pane.label_edit.setText("tag")
    pane.person_combo.setEditText("Alice")
    with qtbot.waitSignal(pane.sig_action_finished, timeout=10_000) as done:
        pane.register_button.click()
    assert done.args[1] is False
    assert "BLE address: expected six hex bytes like AA:BB:CC:DD:EE:FF" in pane.error_label.text()

    # Removing it: gone from the store and the pane, and audited.
    pane.select(ALICES_PHONE)
    pane._confirm_remove = lambda _device: True  # type: ignore[method-assign]
    with qtbot.waitSignal(pane.sig_device_removed, timeout=10_000):
        pane.remove_button.click()
    assert list_ble_devices(host.store) == []
    removed = audit_entries(host, action="ble_device.remove")
    assert [(e.actor, e.target) for e in removed] == [("account:ada", ALICES_PHONE)]


@pytest.mark.slow
def test_the_registry_is_loaded_when_sensing_starts_and_only_admins_change_it(
    qtbot: QtBot, open_console: OpenConsole, engine_time: EngineTime, tmp_path: Path
) -> None:
    # Registered before the engine starts, e.g. with ``watchfloor ble devices add``.
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
        writer.execute(
            RegisterBleDevice(
                address=BOBS_TAG,
                label="Bob's tag",
                person="Bob",
                colour=None,
                at=datetime.now(UTC),
                actor=ADMIN,
            )
        )
    store.close()

    host, window = open_console(
        simulated_site(tmp_path),
        accounts={"ada": "admin", "olga": "operator"},
        login="olga",
        clock=engine_time.start_clock(),
    )
    engine_time.run(host)
    sensing = host.runtime.sensing.service()
    assert sensing is not None
    wait_until_named(qtbot, window, engine_time, sensing, BOBS_TAG, "Bob")

    # An operator sees the registry (the pane is offered to all) but changes nothing.
    pane = window.panes["ble_devices"]
    assert "ble_devices" in window.admin_window.allowed_pages()
    with qtbot.waitSignal(pane.sig_devices_listed, timeout=5000):
        pane.refresh()
    assert [d.address for d in pane.devices()] == [BOBS_TAG]
    assert not pane.changes_allowed and pane.permission_label.text() == NOT_ALLOWED_TEXT
    assert not pane.register_button.isEnabled() and not pane.scan_button.isEnabled()
    # The engine refuses her whatever the pane shows, and audits the refusal.
    with pytest.raises(PermissionDeniedError):
        rt = host.runtime
        identity_actions.register_ble_device(
            rt.writer,
            rt.clock,
            rt.sensing.refresh_ble_registry,
            OPERATOR,
            ALICES_PHONE,
            "phone",
            "Alice",
            None,
        )
    with pytest.raises(PermissionDeniedError):
        window.backends["ble_devices"].scan(1.0)
    refused = audit_entries(host, action="ble_device.register")
    assert [(e.actor, e.outcome) for e in refused] == [
        ("account:olga", "denied"),
        ("account:ada", "ok"),  # Bob's tag, registered before the engine started
    ]
    assert [d.address for d in list_ble_devices(host.store)] == [BOBS_TAG]


# -- the host scan -----------------------------------------------------------------------------


def test_a_scan_summarises_each_address_heard_strongest_first_with_its_carrier(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'scan.db'}")
    with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
        writer.execute(
            RegisterBleDevice(
                address="AA:BB:CC:DD:EE:02",
                label="tag",
                person="Bob",
                colour=None,
                at=datetime.now(UTC),
                actor=ADMIN,
            )
        )
    from engine.identity.devices import ble_registry

    registry = ble_registry(store)
    store.close()
    sightings = [
        BleSighting("AA:BB:CC:DD:EE:01", -70, None, 0.1),
        BleSighting("AA:BB:CC:DD:EE:02", -80, None, 0.2),
        BleSighting("AA:BB:CC:DD:EE:01", -61, "Alice's phone", 0.3),
        BleSighting("AA:BB:CC:DD:EE:01", -66, None, 0.4),
    ]
    report = summarise_scan(sightings, BleScanStatus("stopped", "stopped", 4), registry)
    assert report.state == "stopped" and not report.failed
    assert [
        (d.address, d.name, d.rssi_max_dbm, d.advertisements, d.registered_to)
        for d in report.devices
    ] == [
        ("AA:BB:CC:DD:EE:01", "Alice's phone", -61, 3, None),
        ("AA:BB:CC:DD:EE:02", None, -80, 1, "Bob"),
    ]


def test_the_console_scans_the_host_adapter_and_says_when_there_is_no_bluetooth(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    host, window = open_console(simulated_site(tmp_path))
    phone = ("aa:bb:cc:dd:ee:01", "Alice's phone", -61)
    backend = BleDevicesBackend(
        host.runtime, host.store, window.session, scan_backend=radio(phone, phone)
    )
    report = backend.scan(0.5)
    assert report.state == "stopped" and [
        (d.address, d.name, d.advertisements) for d in report.devices
    ] == [("AA:BB:CC:DD:EE:01", "Alice's phone", 2)]

    # No BlueZ (bleak cannot find the D-Bus system bus): the status, not an exception.
    missing = BleDevicesBackend(
        host.runtime,
        host.store,
        window.session,
        scan_backend=radio(start_error=FileNotFoundError(2, "No such file or directory")),
    )
    report = missing.scan(5.0)
    assert report.failed and report.detail == NO_BLUEZ_SOCKET and report.devices == ()

    # Through the pane: the scan runs on a query worker and its status is shown.
    window.backends["ble_devices"]._scan_backend = radio(start_error=FileNotFoundError(2, "gone"))
    pane = window.panes["ble_devices"]
    assert window.open_administration("ble_devices") is not None
    pane.scan_seconds.setValue(2)
    with qtbot.waitSignal(pane.sig_scan_finished, timeout=10_000) as done:
        pane.scan_button.click()
    assert done.args == ["unavailable", 0]
    assert "no BlueZ" in pane.scan_status_label.text()
