"""``watchfloor cameras discover | onvif ADDRESS``: the add-camera wizard's first steps from
the command line (:mod:`engine.vision.onvif`).

``discover`` sends a WS-Discovery Probe to the local network (and to each ``--target``, a
camera on another subnet) and lists the ONVIF cameras that answer within ``--seconds``.
``onvif`` reads one camera: maker, model, firmware, and its media profiles with their RTSP
stream and snapshot addresses, saying which it would record (main) and analyse (sub). The
camera's user is ``--camera-user`` (``--user`` names the Watchfloor account running the
command); its password is read from the environment variable named by ``--password-env``,
never from the command line (other users can read a process's arguments), and never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from console import exit_codes
from engine.text import printable
from engine.vision.onvif import SUB_MAX_WIDTH, SUB_MIN_WIDTH, SUB_WIDTH

if TYPE_CHECKING:
    from engine.vision.onvif import DiscoveredDevice, OnvifDevice

MAX_TARGETS = 64


def add_onvif_parsers(actions: Any, db_parents: list[argparse.ArgumentParser]) -> None:
    """The ONVIF actions, under ``watchfloor cameras``."""
    discover = actions.add_parser(
        "discover",
        parents=db_parents,
        help="find ONVIF cameras on the network (WS-Discovery)",
        description="Ask the local network which ONVIF cameras are there (a WS-Discovery "
        "Probe to 239.255.255.250:3702) and list those that answer with their names and "
        "addresses. A camera on another subnet does not hear it: name it with --target.",
    )
    discover.add_argument(
        "--seconds", type=float, default=3.0, help="how long to listen for answers (default 3)"
    )
    discover.add_argument(
        "--target",
        dest="targets",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="also ask this address directly (port 3702 by default; repeat for more)",
    )
    discover.add_argument("--json", action="store_true", help="print as JSON")
    onvif = actions.add_parser(
        "onvif",
        parents=db_parents,
        help="read an ONVIF camera: maker, model, firmware, its streams",
        description="Read an ONVIF camera's maker, model and firmware and its media "
        "profiles: each one's codec, picture size, frame rate, RTSP stream and snapshot "
        "addresses, and which would be recorded (main: the largest) and analysed (sub: of "
        f"the smaller ones {SUB_MIN_WIDTH} to {SUB_MAX_WIDTH} pixels wide, the one nearest "
        f"{SUB_WIDTH} wide).",
    )
    onvif.add_argument(
        "address",
        metavar="ADDRESS",
        help="host[:port] (port 80) or http://host:port/onvif/device_service",
    )
    onvif.add_argument(  # --user is the Watchfloor account running the command
        "--camera-user", metavar="USER", help="the camera's user name (ONVIF)"
    )
    onvif.add_argument(
        "--password-env",
        metavar="VAR",
        help="the environment variable holding the camera's password (with --camera-user)",
    )
    onvif.add_argument("--json", action="store_true", help="print as JSON")


def run_discover(args: argparse.Namespace, _db_url: str) -> int:
    """Run ``cameras discover``. Exit 2 for a bad ``--seconds`` or ``--target``, 1 when the
    probe could not be sent at all."""
    from engine.vision.onvif import (
        DISCOVERY_PORT,
        MAX_DISCOVERY_SECONDS,
        MULTICAST_GROUP,
        OnvifError,
        discover,
    )

    command = "watchfloor cameras discover"
    if not 0 < args.seconds <= MAX_DISCOVERY_SECONDS:
        print(
            f"{command}: --seconds must be more than 0 and at most {MAX_DISCOVERY_SECONDS:g}",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    if len(args.targets) > MAX_TARGETS:
        print(f"{command}: at most {MAX_TARGETS} --target addresses", file=sys.stderr)
        return exit_codes.USAGE
    targets = [MULTICAST_GROUP]
    for text in args.targets:
        target = _host_port(text, DISCOVERY_PORT)
        if target is None:
            print(
                f"{command}: --target {printable(text)!r}: expected HOST or HOST:PORT",
                file=sys.stderr,
            )
            return exit_codes.USAGE
        targets.append(target)
    try:
        devices = discover(timeout_s=args.seconds, targets=targets)
    except OnvifError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    if args.json:
        print(json.dumps([d.as_dict() for d in devices]))
        return exit_codes.OK
    _print_devices(devices, args.seconds)
    return exit_codes.OK


def _host_port(text: str, default_port: int) -> tuple[str, int] | None:
    """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` as ``(host, port)``; None if it is not."""
    from urllib.parse import urlsplit

    if not text or any(c.isspace() or not c.isprintable() for c in text) or "/" in text:
        return None
    try:
        parts = urlsplit(f"//{text}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None:
        return None
    return parts.hostname, port if port is not None else default_port


def _print_devices(devices: list[DiscoveredDevice], seconds: float) -> None:
    if not devices:
        print(
            f"No ONVIF camera answered in {seconds:g} s. A camera on another subnet does "
            "not hear the question: name it with --target HOST."
        )
        return
    print(f"{len(devices)} ONVIF camera{'s' if len(devices) != 1 else ''} answered:")
    for device in devices:
        details = [
            f"hardware {device.hardware}" if device.hardware else "",
            f"at {device.location}" if device.location else "",
        ]
        extra = ", ".join(d for d in details if d)
        name = device.name or "(no name)"
        print(f"  {printable(name)}{f' ({printable(extra)})' if extra else ''}")
        for xaddr in device.xaddrs:
            print(f"    {printable(xaddr)}")
    print("Read one: watchfloor cameras onvif ADDRESS --camera-user USER --password-env VAR")


def run_onvif(args: argparse.Namespace, _db_url: str) -> int:
    """Run ``cameras onvif``. Exit 2 for a bad address or an unset password variable, 5
    when the camera refuses the user name or password, 1 for anything else that fails
    (the message names the address and what failed)."""
    from engine.vision.onvif import OnvifAuthError, OnvifError, main_and_sub, read_device

    command = "watchfloor cameras onvif"
    password = None
    if args.password_env:
        if args.camera_user is None:
            print(
                f"{command}: --password-env needs --camera-user (whose password)", file=sys.stderr
            )
            return exit_codes.USAGE
        password = os.environ.get(args.password_env)
        if not password:
            print(f"{command}: ${args.password_env} is not set", file=sys.stderr)
            return exit_codes.USAGE
    try:
        device = read_device(args.address, args.camera_user, password)
    except OnvifAuthError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.NOT_ALLOWED
    except OnvifError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    main, sub = main_and_sub(device.profiles) if device.profiles else (None, None)
    if args.json:
        print(
            json.dumps(
                {
                    **device.as_dict(),
                    "main": main.token if main else None,
                    "sub": sub.token if sub else None,
                }
            )
        )
        return exit_codes.OK
    _print_device(device, main.token if main else None, sub.token if sub else None)
    return exit_codes.OK


def _print_device(device: OnvifDevice, main: str | None, sub: str | None) -> None:
    maker = " ".join(p for p in (device.manufacturer, device.model) if p) or "an ONVIF device"
    firmware = f", firmware {device.firmware}" if device.firmware else ""
    serial = f" (serial {device.serial_number})" if device.serial_number else ""
    print(printable(f"{device.address}: {maker}{firmware}{serial}"))
    if not device.profiles:
        print("  no video profiles")
    for profile in device.profiles:
        role = (
            "  [main: recorded]"
            if profile.token == main
            else "  [sub: analysed]"
            if profile.token == sub
            else ""
        )
        print(printable(f"  {profile.token} ({profile.name}): {profile.summary()}{role}"))
        print(printable(f"    stream:   {profile.stream_uri or 'none given'}"))
        print(printable(f"    snapshot: {profile.snapshot_uri or 'none given'}"))
    for note in device.notes:
        print(printable(f"  note: {note}"))
