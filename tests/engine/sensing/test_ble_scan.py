"""The host's own BLE scan: sightings, statuses and failures, through bleak's ``backend=`` hook.

No bleak internals are mocked: :class:`ScriptedRadio` is a real platform backend (a
:class:`~bleak.backends.scanner.BaseBleakScanner` subclass) that bleak's ``BleakScanner``
builds and drives; it reports advertisements the way bleak's own backends do, through
``create_or_update_device`` and ``call_detection_callbacks`` on the scan's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakError,
)

from engine.clock import SimulatedClock
from engine.identity.ble_scan import (
    NO_ADAPTER,
    NO_BLUEZ_SOCKET,
    BleScanStatus,
    BleSighting,
    HostBleScanner,
    scan_for,
)
from tests.waiting import wait_for

Advert = tuple[str, str | None, int]  # address as the OS gives it, local name, RSSI dBm

PHONE: Advert = ("aa:bb:cc:dd:ee:01", "Alice's phone", -61)
TAG: Advert = ("aa-bb-cc-dd-ee-02", None, -80)


class ScriptedRadio(BaseBleakScanner):
    """A bleak scanner backend that "hears" a scripted list of advertisements once scanning
    starts, one every 5 ms, on the scan's event loop. Configure a subclass with
    :func:`radio`; each subclass records the instances bleak built from it."""

    adverts: ClassVar[tuple[Advert, ...]] = ()
    start_error: ClassVar[BaseException | None] = None
    start_gate: ClassVar[threading.Event | None] = None  # start() waits until it is set
    built: ClassVar[list[ScriptedRadio]]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        bluez: dict[str, Any],
        cb: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self.bluez = dict(bluez)
        self.started = False
        self.stopped = False
        self._emitter: asyncio.Task[None] | None = None
        type(self).built.append(self)

    async def start(self) -> None:
        gate = type(self).start_gate
        while gate is not None and not gate.is_set():
            await asyncio.sleep(0.005)
        error = type(self).start_error
        if error is not None:
            raise error
        self.seen_devices = {}  # as the base class asks: cleared when scanning starts
        self.started = True
        self._emitter = asyncio.create_task(self._emit())

    async def stop(self) -> None:
        self.stopped = True
        if self._emitter is not None:
            self._emitter.cancel()

    async def _emit(self) -> None:
        for address, local_name, rssi in type(self).adverts:
            await asyncio.sleep(0.005)
            advertisement = AdvertisementData(
                local_name=local_name,
                manufacturer_data={},
                service_data={},
                service_uuids=[],
                tx_power=None,
                rssi=rssi,
                platform_data=(),
            )
            device = self.create_or_update_device(
                address, address, local_name, {"scripted": True}, advertisement
            )
            self.call_detection_callbacks(device, advertisement)


def radio(
    *adverts: Advert,
    start_error: BaseException | None = None,
    start_gate: threading.Event | None = None,
) -> type[ScriptedRadio]:
    """A :class:`ScriptedRadio` subclass that hears ``adverts``, or fails to start."""
    attributes: dict[str, Any] = {
        "adverts": adverts,
        "start_error": start_error,
        "start_gate": start_gate,
        "built": [],
    }
    return type("ScriptedRadioForTest", (ScriptedRadio,), attributes)


def scan_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ble-scan" and t.is_alive()]


class Collected:
    """``on_sighting`` for tests: keeps the sightings and the thread each arrived on."""

    def __init__(self) -> None:
        self.sightings: list[BleSighting] = []
        self.threads: set[str] = set()

    def __call__(self, sighting: BleSighting) -> None:
        self.threads.add(threading.current_thread().name)
        self.sightings.append(sighting)


def scanner_for(backend: type[ScriptedRadio], **kwargs: Any) -> tuple[HostBleScanner, Collected]:
    collected = Collected()
    clock = SimulatedClock()
    clock.advance(42.5)
    return HostBleScanner(collected, clock.monotonic, backend=backend, **kwargs), collected


# --- scanning ---------------------------------------------------------------------------------


def test_sightings_carry_upper_case_address_rssi_name_and_engine_time() -> None:
    backend = radio(PHONE, TAG)
    scanner, collected = scanner_for(backend)
    scanner.start()
    try:
        wait_for(lambda: len(collected.sightings) == 2)
        assert scanner.status.sightings == 2
    finally:
        scanner.stop()

    assert collected.sightings == [
        BleSighting("AA:BB:CC:DD:EE:01", -61, "Alice's phone", 42.5),
        BleSighting("AA:BB:CC:DD:EE:02", -80, None, 42.5),
    ]
    assert collected.threads == {"ble-scan"}
    assert backend.built[0].stopped
    assert not scan_threads()


def test_status_goes_starting_then_scanning_then_stopped() -> None:
    gate = threading.Event()
    scanner, _ = scanner_for(radio(PHONE, start_gate=gate))
    assert scanner.status == BleScanStatus("stopped", "not scanning", 0)

    scanner.start()
    try:
        starting = scanner.status
        assert starting.state == "starting"
        assert starting.detail == "starting the BLE scan on the default Bluetooth adapter"
        gate.set()  # the adapter confirms
        wait_for(lambda: scanner.status.sightings == 1)
        scanning = scanner.status
        assert scanning.state == "scanning"
        assert "scanning for BLE advertisements" in scanning.detail
    finally:
        scanner.stop()

    assert scanner.status == BleScanStatus("stopped", "stopped", 1)
    assert not scan_threads()


def test_named_adapter_reaches_the_backend_as_bluez_adapter() -> None:
    backend = radio()
    scanner, _ = scanner_for(backend, adapter="hci1")
    scanner.start()
    try:
        wait_for(lambda: scanner.status.state == "scanning")
        assert "Bluetooth adapter hci1" in scanner.status.detail
    finally:
        scanner.stop()
    assert [r.bluez for r in backend.built] == [{"adapter": "hci1"}]


def test_stop_is_idempotent_and_a_no_op_before_start() -> None:
    scanner, _ = scanner_for(radio(PHONE))
    scanner.stop()
    assert scanner.status.state == "stopped"
    scanner.start()
    scanner.start()  # already running: no second thread
    wait_for(lambda: scanner.status.state == "scanning")
    assert len(scan_threads()) == 1
    scanner.stop()
    scanner.stop()
    assert scanner.status.state == "stopped"
    assert not scan_threads()


def test_stop_does_not_wait_for_an_adapter_that_never_starts() -> None:
    never = radio(start_gate=threading.Event())  # the gate never opens
    scanner, _ = scanner_for(never)
    scanner.start()
    wait_for(lambda: len(never.built) == 1)  # bleak built the backend to start it
    began = time.monotonic()
    scanner.stop()
    assert time.monotonic() - began < 2.0
    assert scanner.status.state == "stopped"
    assert not scan_threads()


def test_a_scan_restarts_after_stop_with_a_fresh_count() -> None:
    scanner, collected = scanner_for(radio(PHONE))
    for _ in range(2):
        scanner.start()
        wait_for(lambda: scanner.status.sightings == 1)
        scanner.stop()
    assert len(collected.sightings) == 2
    assert scanner.status == BleScanStatus("stopped", "stopped", 1)


def test_a_failing_on_sighting_does_not_stop_the_scan(caplog: pytest.LogCaptureFixture) -> None:
    def broken(sighting: BleSighting) -> None:
        raise ValueError("consumer bug")

    clock = SimulatedClock()
    scanner = HostBleScanner(broken, clock.monotonic, backend=radio(PHONE, TAG, PHONE))
    with caplog.at_level(logging.DEBUG, logger="engine.identity.ble_scan"):
        scanner.start()
        try:
            wait_for(lambda: scanner.status.sightings == 3)
            assert scanner.status.state == "scanning"
        finally:
            scanner.stop()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # the first in full, the rest at debug
    assert errors[0].exc_info is not None


# --- failures ---------------------------------------------------------------------------------


def test_no_bluez_is_unavailable_and_the_thread_ends_cleanly() -> None:
    # What bleak raises on Linux without BlueZ: the D-Bus system bus socket is missing.
    backend = radio(start_error=FileNotFoundError(2, "No such file or directory"))
    scanner, collected = scanner_for(backend)
    scanner.start()
    wait_for(lambda: not scan_threads())  # the thread ends by itself, before any stop()

    status = scanner.status
    assert status == BleScanStatus("unavailable", NO_BLUEZ_SOCKET, 0)
    assert "no BlueZ" in status.detail
    assert "D-Bus system bus socket was not found" in status.detail
    assert collected.sightings == []
    scanner.stop()
    assert scanner.status.state == "unavailable"  # stop keeps the reason visible


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (BleakError("No Bluetooth adapters found"), NO_ADAPTER),
        (
            BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            ),
            NO_ADAPTER,
        ),
        (
            BleakBluetoothNotAvailableError(
                "No powered Bluetooth adapters found. Turn on Bluetooth and try again.",
                BleakBluetoothNotAvailableReason.POWERED_OFF,
            ),
            "the Bluetooth adapter is powered off (turn Bluetooth on)",
        ),
        (BleakError("adapter 'hci7' not found"), "Bluetooth adapter 'hci7' not found"),
        (
            ConnectionRefusedError(111, "Connection refused"),
            "no BlueZ: the D-Bus system bus refused the connection (start dbus, then bluez)",
        ),
        (PermissionError(13, "Permission denied"), "no permission to use Bluetooth"),
        (OSError(19, "No such device"), "cannot reach the Bluetooth adapter: No such device"),
    ],
    ids=[
        "no-adapter",
        "no-adapter-2.0",
        "powered-off",
        "unknown-adapter",
        "bus-refused",
        "permission",
        "oserror",
    ],
)
def test_bluetooth_problems_are_unavailable_in_plain_words(
    error: BaseException, detail: str
) -> None:
    scanner, _ = scanner_for(radio(start_error=error))
    scanner.start()
    wait_for(lambda: not scan_threads())
    scanner.stop()
    assert scanner.status.state == "unavailable"
    assert scanner.status.detail.startswith(detail)


def test_an_unexpected_error_is_failed_with_its_type_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scanner, _ = scanner_for(radio(start_error=RuntimeError("radio on fire")))
    with caplog.at_level(logging.ERROR, logger="engine.identity.ble_scan"):
        scanner.start()
        wait_for(lambda: not scan_threads())
    scanner.stop()
    assert scanner.status == BleScanStatus("failed", "RuntimeError: radio on fire", 0)
    [record] = caplog.records
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError


# --- scan_for ---------------------------------------------------------------------------------


def test_scan_for_returns_every_advertisement_heard() -> None:
    backend = radio(PHONE, TAG, PHONE)
    sightings, status = scan_for(0.3, backend=backend)
    assert [(s.address, s.rssi_dbm, s.name) for s in sightings] == [
        ("AA:BB:CC:DD:EE:01", -61, "Alice's phone"),
        ("AA:BB:CC:DD:EE:02", -80, None),
        ("AA:BB:CC:DD:EE:01", -61, "Alice's phone"),
    ]
    assert [s.t_s for s in sightings] == sorted(s.t_s for s in sightings)
    assert status == BleScanStatus("stopped", "stopped", 3)
    assert backend.built[0].stopped
    assert not scan_threads()


def test_scan_for_returns_early_when_bluetooth_is_unavailable() -> None:
    began = time.monotonic()
    sightings, status = scan_for(30.0, backend=radio(start_error=FileNotFoundError(2, "x")))
    assert time.monotonic() - began < 5.0
    assert sightings == []
    assert status == BleScanStatus("unavailable", NO_BLUEZ_SOCKET, 0)


@pytest.mark.parametrize("seconds", [0, -1.0, math.nan])
def test_scan_for_refuses_a_duration_that_is_not_positive(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        scan_for(seconds)
    assert not scan_threads()


def _system_bus_socket() -> Path | None:
    address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/var/run/dbus/system_bus_socket")
    if not address.startswith("unix:path="):
        return None
    return Path(address.removeprefix("unix:path=").split(",")[0])


def test_the_real_default_backend_on_this_host_gives_a_clear_status() -> None:
    # bleak's own platform backend (BlueZ over D-Bus on Linux), with no backend= override.
    sightings, status = scan_for(0.5)
    assert not scan_threads()
    socket = _system_bus_socket()
    if socket is not None and not socket.exists():
        # The build machine: no D-Bus system bus, so no BlueZ. bleak raises
        # FileNotFoundError from the bus connect, and the user reads why.
        assert sightings == []
        assert status == BleScanStatus("unavailable", NO_BLUEZ_SOCKET, 0)
    else:
        # A host with D-Bus: either it scanned (stopped after the 0.5 s) or it says in plain
        # words what is missing (bluetoothd, an adapter, power, permission); never "failed".
        assert status.state in ("stopped", "unavailable"), status
        assert status.detail
        assert status.sightings == len(sightings)
