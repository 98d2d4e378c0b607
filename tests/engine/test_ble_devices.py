"""The BLE device registry: devices registered to the face memory's people, audited, moved by
a merge, gone with an erasure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.clock import REAL_CLOCK
from engine.identity.devices import (
    PALETTE,
    DeviceRegistryError,
    RegisterBleDevice,
    RemoveBleDevice,
    ble_registry,
    list_ble_devices,
    normalise_ble_address,
)
from engine.identity.erasure import erase_person
from engine.identity.faces_store import FaceMemory, UnknownPersonError
from engine.identity.people import list_people
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.person_models import BleDevice
from engine.store.writer import StoreWriter
from tests.actors import ADMIN

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _register(writer: StoreWriter, address: str, person: str, **extra: object) -> object:
    return writer.execute(
        RegisterBleDevice(
            address=address,
            label=str(extra.get("label", "phone")),
            person=person,
            colour=extra.get("colour"),  # type: ignore[arg-type]
            at=T0,
            actor=ADMIN,
        )
    )


def test_a_device_registered_to_a_new_name_adds_that_person_with_a_palette_colour(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    writer = start_writer(store)
    device = _register(writer, "aa-bb-cc-dd-ee-01", "John Smith", label="John's phone")
    assert device.address == "AA:BB:CC:DD:EE:01"  # type: ignore[attr-defined]
    assert device.display_name == "John Smith"  # type: ignore[attr-defined]
    assert device.colour in PALETTE  # type: ignore[attr-defined]
    people = list_people(store)
    assert [p.name for p in people] == ["John Smith"]
    # A second device to the same name (any case) goes to the same person, and sets a colour.
    second = _register(writer, "AA:BB:CC:DD:EE:02", "john smith", label="tag", colour="#00ff00")
    assert second.person_id == people[0].public_id  # type: ignore[attr-defined]
    registry = ble_registry(store)
    assert set(registry) == {"AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"}
    assert {d.colour for d in registry.values()} == {"#00FF00"}  # the person's colour
    entries = AuditListRequest(reader=ADMIN, limit=10).run(store)
    assert [e.action for e in entries].count("ble_device.register") == 2
    # The trail names a device one way however it was typed.
    assert {e.target for e in entries if e.action == "ble_device.register"} == set(registry)
    store.close()


def test_bad_registrations_are_refused_naming_what_was_wrong(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    writer = start_writer(store)
    _register(writer, "AA:BB:CC:DD:EE:01", "Ann")
    with pytest.raises(DeviceRegistryError, match=r"already registered.*carried by Ann"):
        _register(writer, "aa:bb:cc:dd:ee:01", "Bob")
    with pytest.raises(DeviceRegistryError, match=r"BLE address: expected six hex bytes"):
        _register(writer, "AA:BB:CC", "Bob")
    with pytest.raises(DeviceRegistryError, match=r"colour: expected #RRGGBB"):
        _register(writer, "AA:BB:CC:DD:EE:03", "Bob", colour="green")
    with pytest.raises(DeviceRegistryError, match="label"):
        _register(writer, "AA:BB:CC:DD:EE:03", "Bob", label="  ")
    with pytest.raises(UnknownPersonError):
        _register(writer, "AA:BB:CC:DD:EE:03", "Person_DEADBEEF")
    with pytest.raises(DeviceRegistryError, match="not registered"):
        writer.execute(RemoveBleDevice(address="AA:BB:CC:DD:EE:09", at=T0, actor=ADMIN))
    # Nothing half-written: only Ann and her device.
    assert [d.address for d in list_ble_devices(store)] == ["AA:BB:CC:DD:EE:01"]
    assert [p.name for p in list_people(store)] == ["Ann"]
    store.close()


def test_two_people_of_one_name_need_the_id(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    writer = start_writer(store)
    memory = FaceMemory(store, writer, REAL_CLOCK)
    first = _register(writer, "AA:BB:CC:DD:EE:01", "Kim")
    other = _register(writer, "AA:BB:CC:DD:EE:02", "Lee")
    memory.rename(other.person_id, "Kim", actor=ADMIN)  # type: ignore[attr-defined]
    with pytest.raises(DeviceRegistryError, match="2 people are called 'Kim'"):
        _register(writer, "AA:BB:CC:DD:EE:03", "Kim")
    by_id = _register(writer, "AA:BB:CC:DD:EE:03", first.person_id)  # type: ignore[attr-defined]
    assert by_id.person_id == first.person_id  # type: ignore[attr-defined]
    store.close()


def test_merge_moves_devices_and_erasure_deletes_them(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: object
) -> None:
    store = Store(db_url)
    writer = start_writer(store)
    memory = FaceMemory(store, writer, REAL_CLOCK)
    ann = _register(writer, "AA:BB:CC:DD:EE:01", "Ann")
    dup = _register(writer, "AA:BB:CC:DD:EE:02", "Annie", colour="#123456")
    memory.merge(ann.person_id, dup.person_id, actor=ADMIN)  # type: ignore[attr-defined]
    devices = list_ble_devices(store)
    assert {d.person_id for d in devices} == {ann.person_id}  # type: ignore[attr-defined]
    assert {d.colour for d in devices} == {"#123456"}  # Ann had none of her own
    erase_person(writer, memory, ann.person_id, tmp_path, REAL_CLOCK, actor=ADMIN)  # type: ignore[arg-type, attr-defined]
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(BleDevice)) == 0
    store.close()


def test_removing_a_device_keeps_the_person(
    db_url: str, start_writer: Callable[..., StoreWriter]
) -> None:
    store = Store(db_url)
    writer = start_writer(store)
    _register(writer, "AA:BB:CC:DD:EE:01", "Ann")
    removed = writer.execute(RemoveBleDevice(address="aa:bb:cc:dd:ee:01", at=T0, actor=ADMIN))
    assert removed.label == "phone"
    assert list_ble_devices(store) == [] and [p.name for p in list_people(store)] == ["Ann"]
    store.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF"), (" AA-BB-CC-DD-EE-0F ", "AA:BB:CC:DD:EE:0F")],
)
def test_addresses_are_normalised(text: str, expected: str) -> None:
    assert normalise_ble_address(text) == expected
