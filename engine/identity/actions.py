"""The BLE device registry's use cases: registering a device to a person and removing
it. The console's backends call them; each names the permission it needs (the store
writer checks it and audits). Each blocks on the store writer: call it off the GUI
thread. ``refresh`` then hands the registry to the sensing rooms running here (the
runtime's), which name blobs by it from their next tick."""

from __future__ import annotations

from collections.abc import Callable

from engine.access import Actor, Permission, needs
from engine.clock import Clock
from engine.identity.devices import BleDeviceView, RegisterBleDevice, RemoveBleDevice
from engine.store.writer import StoreWriter


def _writer(writer: StoreWriter | None) -> StoreWriter:
    if writer is None:
        raise RuntimeError("the engine runs without a database: no BLE device registry")
    return writer


@needs(Permission.MANAGE_BLE_DEVICES)
def register_ble_device(
    writer: StoreWriter | None,
    clock: Clock,
    refresh: Callable[[], object],
    actor: Actor,
    address: str,
    label: str,
    person: str,
    colour: str | None,
) -> BleDeviceView:
    """Register the BLE device ``address`` (``label``, e.g. "John's phone") to ``person``
    (a ``Person_…`` id, or a name that finds or adds the person), optionally setting their
    ``colour`` (``#RRGGBB``), as ``actor``, then ``refresh``. Raises
    :class:`~engine.identity.devices.DeviceRegistryError` (what is wrong),
    :class:`~engine.identity.faces_store.UnknownPersonError` or
    :class:`~engine.access.PermissionDeniedError`."""
    device: BleDeviceView = _writer(writer).execute(
        RegisterBleDevice(
            address=address, label=label, person=person, colour=colour, at=clock.now(), actor=actor
        )
    )
    refresh()
    return device


@needs(Permission.MANAGE_BLE_DEVICES)
def remove_ble_device(
    writer: StoreWriter | None,
    clock: Clock,
    refresh: Callable[[], object],
    actor: Actor,
    address: str,
) -> BleDeviceView:
    """Forget the registered BLE device ``address`` as ``actor``, then ``refresh`` (a blob
    named already keeps its name until its track ends). Returns the removed device."""
    device: BleDeviceView = _writer(writer).execute(
        RemoveBleDevice(address=address, at=clock.now(), actor=actor)
    )
    refresh()
    return device
