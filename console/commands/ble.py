"""``watchfloor ble devices list|add|remove`` and ``watchfloor ble scan``: BLE identities.

``devices`` manages the registry of phones and tags carried by known people (the admin's
manage-BLE-devices permission to change it; audited). ``scan`` listens with this computer's
own Bluetooth adapter for a while and lists what it heard (address, name, RSSI, and the
registered person), so an admin can find the address of the device to register; with no
adapter or no BlueZ it says so and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("ble", help="BLE devices carried by people; scan for them")
    actions = parser.add_subparsers(dest="ble_command", metavar="ACTION", required=True)
    devices = actions.add_parser("devices", help="the registry of phones and tags")
    verbs = devices.add_subparsers(dest="devices_command", metavar="VERB", required=True)
    listing = verbs.add_parser("list", parents=parents, help="every registered device")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    add = verbs.add_parser("add", parents=parents, help="register a device to a person")
    add.add_argument("address", metavar="ADDRESS", help="the device's BLE address")
    add.add_argument("--label", required=True, help='what the device is, e.g. "John\'s phone"')
    add.add_argument(
        "--person",
        required=True,
        help="who carries it: a person id (Person_…) or a name (a new person if nobody has it)",
    )
    add.add_argument("--colour", metavar="#RRGGBB", help="the person's colour in the console")
    add.add_argument("--json", action="store_true", help="print the registered device as JSON")
    remove = verbs.add_parser("remove", parents=parents, help="forget a registered device")
    remove.add_argument("address", metavar="ADDRESS")
    remove.add_argument("--json", action="store_true", help="print the removed device as JSON")
    scan = actions.add_parser(
        "scan", parents=parents, help="listen with this computer's Bluetooth adapter"
    )
    scan.add_argument("--seconds", type=float, default=10.0, help="how long (default 10)")
    scan.add_argument("--adapter", help="which adapter (default: the system's, e.g. hci0)")
    scan.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    if args.ble_command == "scan":
        return _scan(args, db_url)
    return _devices(args, db_url)


def _devices(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.identity.devices import (
        RegisterBleDevice,
        RemoveBleDevice,
        list_ble_devices,
    )
    from engine.identity.faces_store import UnknownPersonError
    from engine.store import Store
    from engine.store.writer import StoreWriter

    store = Store(db_url)
    try:
        if args.devices_command == "list":
            devices = list_ble_devices(store)
            if args.json:
                print(json.dumps([d.as_json() for d in devices]))
            elif not devices:
                print("no BLE devices registered (watchfloor ble devices add ADDRESS …)")
            for d in devices if not args.json else ():
                print(
                    f"{d.address}  {printable(d.label):24} {printable(d.display_name):20} "
                    f"{d.person_id}  {d.colour}"
                )
            return exit_codes.OK
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if args.devices_command == "add":
                device = writer.execute(
                    RegisterBleDevice(
                        address=args.address,
                        label=args.label,
                        person=args.person,
                        colour=args.colour,
                        at=REAL_CLOCK.now(),
                        actor=args.caller,
                    )
                )
                verb = "registered"
            else:
                device = writer.execute(
                    RemoveBleDevice(address=args.address, at=REAL_CLOCK.now(), actor=args.caller)
                )
                verb = "removed"
        if args.json:
            print(json.dumps(device.as_json()))
        else:
            print(
                f"{verb} {device.address} ({printable(device.label)}), carried by "
                f"{printable(device.display_name)} ({device.person_id})"
            )
        return exit_codes.OK
    except (UnknownPersonError, ValueError) as exc:
        print(
            f"watchfloor ble devices {args.devices_command}: {printable(str(exc))}",
            file=sys.stderr,
        )
        return exit_codes.FAILED
    finally:
        store.close()


def _scan(args: argparse.Namespace, db_url: str) -> int:
    from engine.identity.ble_scan import scan_for
    from engine.identity.devices import ble_registry
    from engine.store import Store

    try:
        sightings, status = scan_for(args.seconds, adapter=args.adapter)
    except ValueError as exc:
        print(f"watchfloor ble scan: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        registry = ble_registry(store)
    finally:
        store.close()
    heard: dict[str, dict[str, Any]] = {}
    for s in sightings:
        entry = heard.setdefault(
            s.address, {"address": s.address, "name": None, "rssi": [], "registered": None}
        )
        entry["name"] = s.name or entry["name"]
        entry["rssi"].append(s.rssi_dbm)
        device = registry.get(s.address)
        if device is not None:
            entry["registered"] = {"label": device.label, "person": device.display_name}
    rows = sorted(heard.values(), key=lambda e: -max(e["rssi"]))
    for row in rows:
        row["rssi_max_dbm"] = max(row.pop("rssi"))
    if args.json:
        print(json.dumps({"status": status.state, "detail": status.detail, "devices": rows}))
    else:
        for row in rows:
            who = row["registered"]["person"] if row["registered"] else ""
            print(
                f"{row['address']}  {row['rssi_max_dbm']:4d} dBm  "
                f"{printable(row['name'] or '—'):24} {printable(who)}"
            )
        print(f"{len(rows)} devices heard; adapter: {status.state} ({printable(status.detail)})")
    if status.state in ("unavailable", "failed"):
        if not args.json:
            print(f"watchfloor ble scan: {printable(status.detail)}", file=sys.stderr)
        return exit_codes.FAILED
    return exit_codes.OK


REGISTRATION = Registration(
    add_parser,
    (
        guarded("ble", "devices list", run, Permission.WATCH, "list BLE devices"),
        guarded("ble", "devices add", run, Permission.MANAGE_BLE_DEVICES, "register a BLE device"),
        guarded("ble", "devices remove", run, Permission.MANAGE_BLE_DEVICES, "remove a BLE device"),
        guarded("ble", "scan", run, Permission.WATCH, "scan for BLE devices"),
    ),
)
