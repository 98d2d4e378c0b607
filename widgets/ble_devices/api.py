"""What the BLE devices page asks of the console (:class:`BleDeviceActions`) and what a
scan of the host's adapter reports.

No Qt here (``import widgets.ble_devices.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.identity.devices import BleDeviceView
from engine.identity.people import PersonView

SCAN_FAILURE_STATES = ("unavailable", "failed")


@dataclass(frozen=True, slots=True)
class HeardDevice:
    """One device the host's adapter heard during a scan: its ``address``, the ``name`` it
    advertised (None if none), its strongest RSSI (dBm), how many advertisements were heard,
    and who carries it when it is registered already (their display name, else None)."""

    address: str
    name: str | None
    rssi_max_dbm: int
    advertisements: int
    registered_to: str | None = None


@dataclass(frozen=True, slots=True)
class BleScanReport:
    """What one scan of the host's adapter found: the scanner's final ``state``
    (``"stopped"`` after a scan that worked; ``"unavailable"`` or ``"failed"`` when Bluetooth
    could not be used), its ``detail`` (a sentence for the admin, e.g. "no BlueZ: …") and the
    devices heard, strongest first."""

    state: str
    detail: str
    devices: tuple[HeardDevice, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether Bluetooth could not be used (the detail says why)."""
        return self.state in SCAN_FAILURE_STATES


class BleDeviceActions(Protocol):
    """What the pane asks of the console. Every call blocks (it reads the store, waits on the
    store writer or listens to the radio): the pane runs them off the GUI thread."""

    def list_devices(self) -> list[BleDeviceView]:
        """Every registered device."""
        ...

    def list_people(self) -> list[PersonView]:
        """The known people, offered as carriers."""
        ...

    def register_device(
        self, address: str, label: str, person: str, colour: str | None
    ) -> BleDeviceView:
        """Register ``address`` to ``person`` (an id or a name); the engine checks it all."""
        ...

    def remove_device(self, address: str) -> BleDeviceView:
        """Forget the registered ``address``."""
        ...

    def scan(self, seconds: float) -> BleScanReport:
        """Listen with the host's adapter for ``seconds`` and say what was heard."""
        ...
