"""The BLE device registry: which phone or tag each known person carries.

An admin registers a device (its address and a label, "John's phone") to a person of the face
memory (``persons``): by the person's id (``Person_…``), or by name, which finds the one
unarchived person of that name or, when nobody has it yet, adds a person with that name (with
no face until the cameras or an enrolment give them one). A person has a display colour
(``#RRGGBB``) the console draws their blob and name in; without one they get a colour of the
palette picked from their id, so it stays the same from run to run.

Changes go through the store writer as guarded commands (the manage-BLE-devices permission,
audited as ``ble_device.register`` / ``ble_device.remove``); reads are plain queries. Merging
two people moves the absorbed one's devices to the kept one; erasing a person deletes their
devices with them (ON DELETE CASCADE).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.identity.faces_store import (
    PUBLIC_ID_PREFIX,
    UnknownPersonError,
    clean_person_name,
    unused_public_id,
)
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.person_models import BleDevice, Person
from engine.text import control_character_at

LABEL_MAX_CHARS = 200
# Distinct on a dark 3D view and for the common colour-vision deficiencies (Okabe–Ito, with
# black swapped for white).
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#FFFFFF")
_ADDRESS = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class DeviceRegistryError(ValueError):
    """A registration or removal that cannot be done; the message says why."""


def normalise_ble_address(value: str) -> str:
    """A BLE address as ``AA:BB:CC:DD:EE:FF``: six hex bytes separated by colons or dashes,
    in either case. Raises :class:`DeviceRegistryError` naming what is wrong."""
    text = str(value).strip().upper().replace("-", ":")
    if not _ADDRESS.match(text):
        raise DeviceRegistryError(
            f"BLE address: expected six hex bytes like AA:BB:CC:DD:EE:FF, got {value!r}"
        )
    return text


def _audited_address(address: str) -> str:
    """How the audit trail names a device: normalised, so one device is named one way however
    it was typed (an address that is not one, as given: the command refuses it)."""
    try:
        return normalise_ble_address(address)
    except DeviceRegistryError:
        return address


def parse_colour(value: str) -> str:
    """A colour as ``#RRGGBB`` (upper case), or :class:`DeviceRegistryError`."""
    text = str(value).strip()
    if not _COLOUR.match(text):
        raise DeviceRegistryError(f"colour: expected #RRGGBB, got {value!r}")
    return text.upper()


def default_colour(public_id: str) -> str:
    """The palette colour of a person without one of their own, fixed by their id."""
    return PALETTE[zlib.crc32(public_id.encode()) % len(PALETTE)]


def _clean_label(label: str) -> str:
    clean = " ".join(str(label).split())
    if not clean:
        raise DeviceRegistryError('label: a device needs a label, e.g. "John\'s phone"')
    bad = control_character_at(clean)
    if bad is not None:
        raise DeviceRegistryError(f"label: control character U+{ord(clean[bad]):04X}")
    if len(clean) > LABEL_MAX_CHARS:
        raise DeviceRegistryError(f"label: at most {LABEL_MAX_CHARS} characters")
    return clean


@dataclass(frozen=True, slots=True)
class BleDeviceView:
    """One registered device and who carries it: the person's id, name (None while they
    have none) and colour (their own or the palette's)."""

    address: str
    label: str
    person_id: str
    person_name: str | None
    colour: str
    registered_at: datetime
    registered_by: str

    @property
    def display_name(self) -> str:
        """What a blob carrying this device is called: the person's name, else the label."""
        return self.person_name or self.label

    def as_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "label": self.label,
            "person_id": self.person_id,
            "person_name": self.person_name,
            "colour": self.colour,
            "registered_at": self.registered_at.isoformat(),
            "registered_by": self.registered_by,
        }


def _view(device: BleDevice, person: Person) -> BleDeviceView:
    return BleDeviceView(
        address=device.address,
        label=device.label,
        person_id=person.public_id,
        person_name=person.name,
        colour=person.colour or default_colour(person.public_id),
        registered_at=device.registered_at,
        registered_by=device.registered_by,
    )


def list_ble_devices(store: Store) -> list[BleDeviceView]:
    """Every registered device, by person name then address."""
    with store.sessions() as session:
        rows = session.execute(
            select(BleDevice, Person)
            .join(Person, Person.id == BleDevice.person_id)
            .order_by(Person.name.nulls_last(), Person.public_id, BleDevice.address)
        ).all()
        return [_view(device, person) for device, person in rows]


def ble_registry(store: Store) -> dict[str, BleDeviceView]:
    """The registry as the sensing service uses it: address → device."""
    return {device.address: device for device in list_ble_devices(store)}


def _find_person(session: Session, person: str) -> Person | None:
    """The person ``person`` names: a public id, else the one unarchived person of that name
    (case-insensitive); None when nobody has the name. Two people of one name → error."""
    if person.startswith(PUBLIC_ID_PREFIX):
        found = session.scalars(select(Person).where(Person.public_id == person)).first()
        if found is None:
            raise UnknownPersonError(f"no person {person}")
        return found
    named = session.scalars(
        select(Person)
        .where(func.lower(Person.name) == person.lower(), Person.archived_at.is_(None))
        .order_by(Person.public_id)
    ).all()
    if len(named) > 1:
        ids = ", ".join(p.public_id for p in named)
        raise DeviceRegistryError(
            f"person: {len(named)} people are called {person!r} ({ids}); give the id instead"
        )
    return named[0] if named else None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterBleDevice(GuardedCommand, StoreCommand):
    """Register ``address`` (normalised) with ``label`` to ``person`` (an id, or a name that
    finds or adds the person), optionally setting the person's ``colour``. An address that
    is already registered is refused (remove it first). Returns the :class:`BleDeviceView`."""

    permission: ClassVar[Permission] = Permission.MANAGE_BLE_DEVICES
    action: ClassVar[str] = "ble_device.register"

    address: str
    label: str
    person: str
    colour: str | None
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return _audited_address(self.address)

    def apply(self, session: Session) -> BleDeviceView:
        address = normalise_ble_address(self.address)
        label = _clean_label(self.label)
        colour = parse_colour(self.colour) if self.colour is not None else None
        existing = session.execute(
            select(BleDevice, Person)
            .join(Person, Person.id == BleDevice.person_id)
            .where(BleDevice.address == address)
        ).first()
        if existing is not None:
            holder = existing[1].name or existing[1].public_id
            raise DeviceRegistryError(
                f"BLE address: {address} is already registered ({existing[0].label!r}, "
                f"carried by {holder}); remove it first"
            )
        wanted = self.person.strip()
        if not wanted:
            raise DeviceRegistryError("person: give a person's id or name")
        person = _find_person(session, wanted)
        created = person is None
        if person is None:
            person = Person(public_id=unused_public_id(session), name=clean_person_name(wanted))
            session.add(person)
            session.flush()
        if colour is not None:
            person.colour = colour
        device = BleDevice(
            address=address,
            label=label,
            person_id=person.id,
            registered_at=self.at,
            registered_by=self.actor.label,
        )
        session.add(device)
        session.flush()
        audit_command(
            session,
            self,
            {
                "label": label,
                "person": person.public_id,
                "person_created": created,
                "colour": colour,
            },
        )
        return _view(device, person)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveBleDevice(GuardedCommand, StoreCommand):
    """Forget the registered device ``address``; returns what it was. Unknown addresses
    are refused."""

    permission: ClassVar[Permission] = Permission.MANAGE_BLE_DEVICES
    action: ClassVar[str] = "ble_device.remove"

    address: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return _audited_address(self.address)

    def apply(self, session: Session) -> BleDeviceView:
        address = normalise_ble_address(self.address)
        row = session.execute(
            select(BleDevice, Person)
            .join(Person, Person.id == BleDevice.person_id)
            .where(BleDevice.address == address)
        ).first()
        if row is None:
            raise DeviceRegistryError(f"BLE address: {address} is not registered")
        device, person = row
        view = _view(device, person)
        session.delete(device)
        audit_command(session, self, {"label": device.label, "person": person.public_id})
        session.flush()
        return view
