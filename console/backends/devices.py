"""What the BLE devices pane may do, bound to the running engine: list, register and remove
devices, and scan this computer's own Bluetooth adapter.

Every method blocks (a store read, a wait on the store writer, or seconds of listening to the
radio); the console runs them on the query service's workers (through
:class:`console.queries.QtQueryClient`), never on the GUI thread. Changes are made as the
person logged in at the console (:class:`console.session.ConsoleSession`), whose permission
the engine checks; with nobody logged in they are refused. A registration or removal goes
through :func:`engine.identity.actions.register_ble_device` /
:func:`~engine.identity.actions.remove_ble_device`, which also refresh the sensing
room's registry, so blobs are named by the change from the next fusion tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from console.session import ConsoleSession
from engine.access import Permission
from engine.identity import actions as identity_actions
from engine.identity.devices import BleDeviceView, ble_registry, list_ble_devices
from engine.identity.people import PersonView, list_people
from engine.runtime import EngineRuntime
from engine.store.database import Store
from widgets.ble_devices.api import BleScanReport, HeardDevice

if TYPE_CHECKING:
    from bleak.backends.scanner import BaseBleakScanner

    from engine.identity.ble_scan import BleScanStatus, BleSighting


def summarise_scan(
    sightings: Iterable[BleSighting],
    status: BleScanStatus,
    registry: Mapping[str, BleDeviceView],
) -> BleScanReport:
    """One row per address heard (its last advertised name, strongest RSSI, how many
    advertisements, and who carries it if it is in ``registry``), strongest first, with the
    scanner's final state and detail."""
    heard: dict[str, tuple[str | None, int, int]] = {}
    for sighting in sightings:
        name, strongest, count = heard.get(sighting.address, (None, sighting.rssi_dbm, 0))
        heard[sighting.address] = (
            sighting.name or name,
            max(strongest, sighting.rssi_dbm),
            count + 1,
        )
    devices = [
        HeardDevice(
            address=address,
            name=name,
            rssi_max_dbm=strongest,
            advertisements=count,
            registered_to=registry[address].display_name if address in registry else None,
        )
        for address, (name, strongest, count) in heard.items()
    ]
    devices.sort(key=lambda d: (-d.rssi_max_dbm, d.address))
    return BleScanReport(state=status.state, detail=status.detail, devices=tuple(devices))


class BleDevicesBackend:
    """Blocking calls for the BLE devices pane, run on query worker threads (two may run at
    once). Satisfies :class:`widgets.ble_devices.api.BleDeviceActions`. ``scan_backend`` and
    ``adapter`` choose the Bluetooth scanner as for
    :class:`~engine.identity.ble_scan.HostBleScanner` (None: the platform's own, the system's
    default adapter)."""

    def __init__(
        self,
        runtime: EngineRuntime,
        store: Store,
        session: ConsoleSession,
        *,
        scan_backend: type[BaseBleakScanner] | None = None,
        adapter: str | None = None,
    ) -> None:
        self._runtime = runtime
        self._store = store
        self._session = session  # who the engine checks and audits: the logged-in person
        self._scan_backend = scan_backend
        self._adapter = adapter

    def list_devices(self) -> list[BleDeviceView]:
        return list_ble_devices(self._store)

    def list_people(self) -> list[PersonView]:
        return list_people(self._store)

    def register_device(
        self, address: str, label: str, person: str, colour: str | None
    ) -> BleDeviceView:
        actor = self._session.require_actor("register BLE devices")
        rt = self._runtime
        device: BleDeviceView = identity_actions.register_ble_device(
            rt.writer,
            rt.clock,
            rt.sensing.refresh_ble_registry,
            actor,
            address,
            label,
            person,
            colour or None,
        )
        return device

    def remove_device(self, address: str) -> BleDeviceView:
        actor = self._session.require_actor("remove BLE devices")
        rt = self._runtime
        device: BleDeviceView = identity_actions.remove_ble_device(
            rt.writer, rt.clock, rt.sensing.refresh_ble_registry, actor, address
        )
        return device

    def scan(self, seconds: float) -> BleScanReport:
        """Listen with the host's adapter for ``seconds`` (it holds this worker that long;
        the scan itself runs on a ``ble-scan`` thread). No adapter or no BlueZ is a report
        with the scanner's failure status, not an exception. Only someone who may manage BLE
        devices may scan (the console's check: the radio is no store command)."""
        from engine.identity.ble_scan import scan_for  # bleak loads here, not at start-up

        actor = self._session.require_actor("scan for BLE devices")
        actor.require(Permission.MANAGE_BLE_DEVICES, "scan for BLE devices")
        sightings, status = scan_for(
            seconds,
            backend=self._scan_backend,
            adapter=self._adapter,
            clock=self._runtime.clock,
        )
        return summarise_scan(sightings, status, ble_registry(self._store))
