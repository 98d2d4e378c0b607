"""``watchfloor cameras list | probe URL | add ID | edit ID | remove ID``: the site's cameras
changed from the command line, the way the console's Cameras page changes them.

``probe`` measures what a URL gives (codec, size, frame rate, bitrate, keyframes, a
snapshot). ``add`` and ``edit`` probe the camera's URL first (``--no-probe`` for a camera
that is off now) and refuse one that gives no video; then the site file is edited in place
(comments and order kept, validated, atomic, the previous version beside it: see
:mod:`engine.site_edit`) and the change is recorded (an event and an audit entry; the
configure-cameras permission). A password is never written into the file: it comes from
an environment variable (``--password-env``) or goes into the OS keyring
(``--password-keyring``, typed at a prompt or given on stdin).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console import exit_codes
from engine.text import printable

if TYPE_CHECKING:
    from engine.config import CameraConfig
    from engine.site_edit import SiteFileEdit
    from engine.vision.probe import StreamProbe

RECORDING_CHOICES = ("continuous", "events")  # every second, or clips around what was seen


def add_setup_parsers(actions: Any, db_parents: list[argparse.ArgumentParser]) -> None:
    """The setup actions, under ``watchfloor cameras``."""
    listing = actions.add_parser("list", parents=db_parents, help="the site file's cameras")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    probe = actions.add_parser(
        "probe",
        parents=db_parents,
        help="measure what a camera URL gives: codec, size, frame rate, bitrate, a snapshot",
    )
    probe.add_argument("url", metavar="URL", help="rtsp://…, http://…, or a video file")
    probe.add_argument(
        "--seconds", type=float, default=3.0, help="of video to read (default 3, at most 30)"
    )
    probe.add_argument(
        "--password-env",
        metavar="VAR",
        help="the environment variable holding the camera's password (the URL names the user)",
    )
    probe.add_argument("--snapshot", type=Path, metavar="FILE.jpg", help="save a snapshot")
    probe.add_argument("--json", action="store_true", help="print as JSON")
    add = actions.add_parser(
        "add",
        parents=db_parents,
        help="add a camera to the site file (probed first; comments and order kept)",
    )
    add.add_argument("camera_id", metavar="ID", help="its id: letters, digits, '_' or '-'")
    add.add_argument("--url", required=True, help="rtsp://user@host/…, http://…, or a file")
    add.add_argument("--name", help="what people call it (default: its id)")
    _camera_options(add)
    edit = actions.add_parser(
        "edit", parents=db_parents, help="change a camera in the site file (probed first)"
    )
    edit.add_argument("camera_id", metavar="ID", help="the camera's id in the site file")
    edit.add_argument("--url", help="a new URL")
    edit.add_argument("--name", help="a new name")
    switch = edit.add_mutually_exclusive_group()
    switch.add_argument(
        "--disable",
        action="store_true",
        help="keep the camera in the file but stop running it (its recordings stay)",
    )
    switch.add_argument("--enable", action="store_true", help="run a disabled camera again")
    _camera_options(edit)
    remove = actions.add_parser(
        "remove",
        parents=db_parents,
        help="remove a camera from the site file (its recordings and history stay)",
    )
    remove.add_argument("camera_id", metavar="ID", help="the camera's id in the site file")
    remove.add_argument("--json", action="store_true", help="print the result as JSON")


def _camera_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sub-url",
        metavar="URL",
        help="the camera's second, smaller stream (e.g. 640×360): analysed and shown on the "
        "wall, while the main one is recorded as it comes without being decoded ('none': "
        "no sub stream)",
    )
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-env",
        metavar="VAR",
        help="take the camera's password from this environment variable",
    )
    secret.add_argument(
        "--password-keyring",
        action="store_true",
        help="keep the camera's password in the OS keyring (asked now, or stdin's first line)",
    )
    parser.add_argument(
        "--recording",
        choices=RECORDING_CHOICES,
        help="record every second (continuous, the site's default) or only clips around "
        "what was seen (events)",
    )
    parser.add_argument(
        "--no-probe",
        action="store_true",
        help="do not check the URL first (a camera that is off now)",
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="of video to probe")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run_list(args: argparse.Namespace, _db_url: str) -> int:
    from engine.config import load_site

    site = load_site(args.site)
    rows = [
        {
            "id": c.id,
            "name": c.name,
            "url": c.url,  # a password shows as ***
            "sub_url": c.sub_url,
            "kind": c.kind.value,
            "continuous": site.recording_of(c.id).continuous,
            "password": _password_source(c),
            "enabled": c.enabled,
        }
        for c in (*site.cameras, *site.disabled_cameras)
    ]
    if args.json:
        print(json.dumps(rows))
        return exit_codes.OK
    if not rows:
        print(f"{printable(site.name)} has no cameras: add one with `watchfloor cameras add`")
    for row in rows:
        recording = "continuous" if row["continuous"] else "event clips"
        if not row["enabled"]:
            recording = "disabled"
        print(
            f"{printable(str(row['id'])):16} {printable(str(row['name']))}: "
            f"{printable(str(row['url']))} ({row['kind']}, {recording})"
        )
    return exit_codes.OK


def _password_source(camera: CameraConfig) -> str | None:
    """Where ``camera``'s password comes from, in words (None: it takes none)."""
    secret = camera.secret
    if secret is None:
        return None
    if secret.env is not None:
        return f"${secret.env}"
    if secret.keyring_service is not None:
        return "the OS keyring"
    return "written in its URL (move it: `watchfloor cameras edit ID --password-keyring`)"


def run_probe(args: argparse.Namespace, _db_url: str) -> int:
    from engine.vision.probe import ProbeError, probe_with_password

    command = "watchfloor cameras probe"
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            print(f"{command}: ${args.password_env} is not set", file=sys.stderr)
            return exit_codes.USAGE
    try:
        probe = probe_with_password(args.url, password, seconds=args.seconds)
    except ProbeError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    if args.snapshot is not None and probe.snapshot_jpeg is not None:
        _write_snapshot(args.snapshot, probe.snapshot_jpeg)
    _print_probe(probe, args.json)
    return exit_codes.OK


def _write_snapshot(path: Path, jpeg: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        temp.write_bytes(jpeg)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _print_probe(probe: StreamProbe, as_json: bool) -> None:
    if as_json:
        print(json.dumps(probe.as_dict()))
        return
    print(f"{printable(probe.url)}: {probe.summary()}")
    if not probe.recordable:
        print(
            f"  {probe.codec_name} is re-encoded to H.264 for recording (an H.264 or H.265 "
            "stream is recorded as it comes, for less CPU)"
        )
    for note in probe.notes:
        print(f"  note: {printable(note)}")


def run_change(args: argparse.Namespace, db_url: str) -> int:
    """Run ``cameras add | edit | remove`` (:func:`engine.vision.setup.change_camera`).
    Exit 2 for a refused change (the message names what was wrong; the file is unchanged),
    1 when the probe finds no video, 3 when the file was saved but the change could not be
    recorded in the database."""
    from engine.clock import REAL_CLOCK
    from engine.site_edit import SiteEditError, open_site_file
    from engine.store import Store
    from engine.store.writer import StoreWriter
    from engine.vision.setup import (
        CameraChange,
        CameraChangeError,
        CameraChangeNotRecordedError,
        change_camera,
    )

    action = args.cameras_command
    command = f"watchfloor cameras {action}"
    try:
        fields, removed = _fields(args, open_site_file(args.site))
    except SiteEditError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    password = None
    if getattr(args, "password_keyring", False):
        # cameras.py imports this module: its reader is imported here, when used.
        from console.commands.cameras import read_camera_password

        password, problem = read_camera_password(args.camera_id, str(fields.get("url", "")))
        if problem:
            print(f"{command}: {problem}; nothing changed", file=sys.stderr)
            return exit_codes.USAGE
    change = CameraChange(
        action,
        args.camera_id,
        fields,
        tuple(removed),
        password=password,
        probe=not getattr(args, "no_probe", False),
        probe_seconds=getattr(args, "seconds", 3.0),
    )
    store = Store(db_url)
    recorded: str | None = None
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            try:
                done = change_camera(args.site, change, args.caller, writer.execute)
            except CameraChangeNotRecordedError as exc:
                done, recorded = exc.done, str(exc)
    except CameraChangeError as exc:
        hint = " (--no-probe adds a camera that is off now)" if exc.no_video else ""
        print(f"{command}: {printable(str(exc))}{hint}", file=sys.stderr)
        return exit_codes.FAILED if exc.no_video else exit_codes.USAGE
    finally:
        store.close()
    if args.json:
        print(
            json.dumps(
                {
                    "camera": args.camera_id,
                    "action": action,
                    "file": str(done.file),
                    "previous": str(done.previous),
                    "probe": done.probe.as_dict() if done.probe is not None else None,
                    "recorded": recorded is None,
                }
            )
        )
    else:
        did = {"add": "added to", "edit": "changed in", "remove": "removed from"}[action]
        print(f"camera {args.camera_id} {did} {done.file} (previous version: {done.previous})")
        if done.probe is not None:
            _print_probe(done.probe, False)
        print(
            "A running engine takes the change within about 2 s (on a shared site every "
            "engine does: the one with room runs an added camera)."
        )
    if recorded is not None:
        print(f"{command}: {printable(recorded)}", file=sys.stderr)
        return exit_codes.DATABASE
    return exit_codes.OK


def _fields(args: argparse.Namespace, edit: SiteFileEdit) -> tuple[dict[str, Any], list[str]]:
    """What ``add``/``edit`` set (in the order a person writes them), and what they take
    out (the other password source when one is given)."""
    if args.cameras_command == "remove":
        return {}, []
    fields: dict[str, Any] = {}
    removed: list[str] = []
    if args.name is not None:
        fields["name"] = args.name
    if args.url is not None:
        fields["url"] = args.url
    if args.sub_url is not None:
        if args.sub_url.strip().lower() == "none":
            removed.append("sub_url")
        else:
            fields["sub_url"] = args.sub_url
    if args.password_env:
        fields["password_env"] = args.password_env
        removed.append("password_keyring")
    elif args.password_keyring:
        fields["password_keyring"] = True
        removed.append("password_env")
    if getattr(args, "disable", False):
        fields["enabled"] = False
    elif getattr(args, "enable", False):
        removed.append("enabled")  # enabled is the default: the line goes
    if args.recording is not None:
        recording = (
            dict(edit.camera(args.camera_id).get("recording", {}))
            if (args.cameras_command == "edit")
            else {}
        )
        recording["continuous"] = args.recording == "continuous"
        fields["recording"] = recording
    if args.cameras_command == "add":
        removed = []
    elif removed:
        current = edit.camera(args.camera_id)
        removed = [key for key in removed if key in current]
    return fields, removed
