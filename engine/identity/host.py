"""Identities as the runtime hands them to the other capabilities: the registered BLE
devices as a sensing room names blobs by them."""

from __future__ import annotations

from engine.identity.ble import KnownDevice
from engine.identity.devices import ble_registry
from engine.store.database import Store


def known_devices(store: Store) -> list[KnownDevice]:
    """The registered BLE devices, each named by its carrier's display name (their name,
    else the device's label), with their id and colour."""
    return [
        KnownDevice(
            address=device.address,
            label=device.label,
            name=device.display_name,
            person_id=device.person_id,
            colour=device.colour,
        )
        for device in ble_registry(store).values()
    ]
