"""``watchfloor cameras set-password CAMERA_ID``: put a stream camera's password in the OS
keyring (the camera's site file entry says ``password_keyring``), typed at a prompt that
does not echo it, or given on stdin by a script. The password is handed to the keyring
only: never written to a file, a log or the database, and never printed."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from console import exit_codes


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("cameras", help="the site's cameras")
    actions = parser.add_subparsers(dest="cameras_command", metavar="ACTION", required=True)
    put = actions.add_parser(
        "set-password",
        parents=parents,
        help="store a camera's password in the OS keyring (prompted, or one line on stdin)",
        description="Store the password of a camera whose site file entry has "
        "password_keyring in the OS keyring of the user running this command (run it as "
        "the user who runs the console or engine). At a terminal it is asked twice "
        "without echo; otherwise the first line of stdin is the password.",
    )
    put.add_argument("camera_id", metavar="CAMERA_ID", help="the camera's id in the site file")
    put.add_argument(
        "--site",
        dest="cameras_site",
        metavar="FILE",
        type=Path,
        default=None,
        help="site TOML file (default: the global --site)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``cameras set-password``. Exit 2 for a camera that is not in the site file or
    takes no password from the keyring, or an empty or mistyped password; 1 when the
    keyring cannot be used or does not keep it; 4 (raised to the caller) for an invalid
    site file."""
    from engine.config import (
        CameraSecretError,
        KeyringUnavailableError,
        load_site,
        store_camera_password,
    )
    from engine.secrets import short_secret_warning, too_short_to_mask

    command = "watchfloor cameras set-password"
    site_file = args.cameras_site or args.site
    site = load_site(site_file)
    camera = next((c for c in site.cameras if c.id == args.camera_id), None)
    if camera is None:
        known = ", ".join(c.id for c in site.cameras) or "none"
        print(
            f"{command}: no camera {args.camera_id!r} in {site_file} (cameras: {known})",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    secret = camera.secret
    if secret is None or secret.keyring_service is None:
        now = (
            f"takes its password from the environment variable {secret.env} (password_env)"
            if secret is not None and secret.env
            else "does not take its password from the keyring"
        )
        print(
            f"{command}: camera {camera.id} in {site_file} {now}; give its [[cameras]] "
            "entry `password_keyring = true` (a stream camera only) to use the keyring",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    try:  # before asking: a keyring that cannot be used is said at once (and unlocked now)
        secret.resolve()
    except KeyringUnavailableError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    except CameraSecretError:
        pass  # no password stored yet
    password, problem = _read_password(camera.id, camera.url)
    if problem:
        print(f"{command}: {problem}; nothing stored", file=sys.stderr)
        return exit_codes.USAGE
    try:
        service, username = store_camera_password(camera, password)
    except CameraSecretError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    print(
        f"camera {camera.id}: password stored in the keyring (service {service!r}, username "
        f"{username!r}); the camera reads it when it next connects"
    )
    if too_short_to_mask(password):  # stored all the same: the camera's password is its own
        who = f"camera {camera.id}'s password"
        print(f"{command}: warning: {short_secret_warning(who)}", file=sys.stderr)
    return exit_codes.OK


def _read_password(camera_id: str, url: str) -> tuple[str, str]:
    """The password and "", or "" and what is wrong. At a terminal: asked twice without
    echo. Otherwise the first line of stdin, without its line ending (spaces kept)."""
    stdin = sys.stdin
    if stdin is not None and stdin.isatty():
        password = getpass.getpass(f"Password for camera {camera_id} ({url}): ")
        if not password:
            return "", "no password typed"
        if getpass.getpass("Type it again: ") != password:
            return "", "the two passwords differ"
        return password, ""
    line = stdin.readline() if stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        return "", "no password on stdin (give it as the first line)"
    return password, ""
