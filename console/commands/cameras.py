"""``watchfloor cameras list | probe | add | edit | remove``: see
:mod:`console.commands.camera_setup`.

``watchfloor cameras set-password CAMERA_ID``: put a stream camera's password in the OS
keyring (the camera's site file entry says ``password_keyring``), typed at a prompt that
does not echo it, or given on stdin by a script. The password is handed to the keyring
only: never written to a file, a log or the database, and never printed.

``watchfloor cameras calibrate CAMERA_ID --point U,V=X,Y …`` (or ``--room ROOM --corner U,V``
four times): map the camera's picture onto the site's floor plan (engine.fusion.floor), say
the error in metres and store it; ``watchfloor cameras calibration [CAMERA_ID]`` shows what
is stored.

``watchfloor cameras mask CAMERA_ID --polygon "X,Y X,Y X,Y …" …`` (or ``--clear``): black out
areas of the camera's picture at the source (engine.vision.privacy): nothing there is shown,
recorded or analysed; ``watchfloor cameras masks [CAMERA_ID]`` shows what is stored."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from console import exit_codes
from console.commands.camera_setup import add_setup_parsers, run_change, run_list, run_probe
from console.commands.onvif_cli import add_onvif_parsers, run_discover, run_onvif
from console.commands.registry import Registration, guarded, unguarded, without_database
from engine.access import Permission
from engine.text import printable

if TYPE_CHECKING:
    from engine.config import CameraConfig

Stored = TypeVar("Stored")


def add_parser(
    subparsers: Any,
    parents: list[argparse.ArgumentParser],
    db_parents: list[argparse.ArgumentParser],
) -> None:
    parser = subparsers.add_parser("cameras", help="the site's cameras")
    actions = parser.add_subparsers(dest="cameras_command", metavar="ACTION", required=True)
    add_setup_parsers(actions, db_parents)  # list, probe, add, edit, remove
    add_onvif_parsers(actions, db_parents)  # discover, onvif
    calibrate = actions.add_parser(
        "calibrate",
        parents=db_parents,
        help="map a camera's picture onto the site's floor plan",
        description="Give four or more point pairs, each a point in the camera's picture "
        "(pixels from the top-left corner, down) and the floor place it shows (metres on the "
        "site's floor plan, the axes of the sensing rooms), or a sensing room's four floor "
        "corners in the picture in order: the room's origin corner, along its width, the far "
        "corner, along its depth. With five or more points the error is measured (each "
        "point predicted from the others) and shown in metres.",
    )
    calibrate.add_argument(
        "camera_id", metavar="CAMERA_ID", help="the camera's id in the site file"
    )
    calibrate.add_argument(
        "--point",
        dest="points",
        action="append",
        default=[],
        metavar="U,V=X,Y",
        help="a picture point and the floor place it shows (repeat, four or more)",
    )
    calibrate.add_argument("--room", help="the sensing room whose four floor corners are given")
    calibrate.add_argument(
        "--corner",
        dest="corners",
        action="append",
        default=[],
        metavar="U,V",
        help="with --room: a floor corner in the picture (four, in order)",
    )
    calibrate.add_argument(
        "--size",
        metavar="WxH",
        help="the picture's size in pixels (default: read from the camera's video file)",
    )
    calibrate.add_argument("--json", action="store_true", help="print the result as JSON")
    shown = actions.add_parser(
        "calibration", parents=db_parents, help="show the cameras' floor calibrations"
    )
    shown.add_argument("camera_id", metavar="CAMERA_ID", nargs="?", help="one camera only")
    shown.add_argument("--json", action="store_true", help="print as JSON")
    mask = actions.add_parser(
        "mask",
        parents=db_parents,
        help="black out areas of a camera's picture (privacy masks)",
        description="Give each area to black out as a polygon of three or more picture "
        "points (pixels from the top-left corner, y down), in order around the area; the "
        "areas given replace the camera's stored ones. Masked areas are blacked out in every "
        "frame right after capture: nothing there is shown, recorded or analysed. Running "
        "engines apply them within about 2 s (the console's Privacy masks page applies "
        "them at once).",
    )
    mask.add_argument("camera_id", metavar="CAMERA_ID", help="the camera's id in the site file")
    mask.add_argument(
        "--polygon",
        dest="polygons",
        action="append",
        default=[],
        metavar='"X,Y X,Y X,Y ..."',
        help="one area: its corners in picture pixels, separated by spaces (repeat for more)",
    )
    mask.add_argument("--clear", action="store_true", help="remove every masked area")
    mask.add_argument(
        "--size",
        metavar="WxH",
        help="the picture's size in pixels (default: read from the camera's video file)",
    )
    mask.add_argument("--json", action="store_true", help="print the result as JSON")
    masks = actions.add_parser("masks", parents=db_parents, help="show the cameras' privacy masks")
    masks.add_argument("camera_id", metavar="CAMERA_ID", nargs="?", help="one camera only")
    masks.add_argument("--json", action="store_true", help="print as JSON")
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


def _per_camera_json(
    cameras: Sequence[CameraConfig],
    stored: Mapping[str, Stored],
    as_json: Callable[[Stored], dict[str, Any]],
) -> str:
    """What is stored for each of ``cameras`` (null where nothing is), as one JSON line."""
    return json.dumps(
        {c.id: None if c.id not in stored else as_json(stored[c.id]) for c in cameras}
    )


def run_calibration(args: argparse.Namespace, db_url: str) -> int:
    """Run ``cameras calibrate`` and ``cameras calibration``. Exit 2 for bad points or an
    unknown camera or room (the message names it), 4 (raised) for an invalid site file."""
    from engine.clock import REAL_CLOCK
    from engine.config import load_site
    from engine.fusion.floor import (
        CalibrateCamera,
        CalibrationError,
        calibrate,
        camera_calibrations,
    )
    from engine.store import Store
    from engine.store.sites import SyncSite
    from engine.store.writer import StoreWriter

    command = f"watchfloor cameras {args.cameras_command}"
    site = load_site(args.site)
    known = ", ".join(c.id for c in site.cameras) or "none"
    camera = next((c for c in site.cameras if c.id == args.camera_id), None)
    if args.camera_id is not None and camera is None:
        print(f"{command}: no camera {args.camera_id!r} (cameras: {known})", file=sys.stderr)
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            ids = writer.execute(SyncSite(site=site, at=REAL_CLOCK.now()))
            if args.cameras_command == "calibration":
                stored = camera_calibrations(store, ids.site_id)
                chosen = [c for c in site.cameras if camera is None or c.id == camera.id]
                if args.json:
                    print(
                        _per_camera_json(
                            chosen,
                            stored,
                            lambda e: {
                                **e.calibration.as_json(),
                                "by": e.calibrated_by,
                                "at": e.calibrated_at.isoformat(),
                            },
                        )
                    )
                    return exit_codes.OK
                for c in chosen:
                    entry = stored.get(c.id)
                    line = "not calibrated" if entry is None else entry.calibration.describe()
                    print(f"{c.id}  {printable(c.name)}: {line}")
                return exit_codes.OK
            assert camera is not None
            try:
                pairs = _pairs(args, site)
                size = _picture_size(args.size, camera)
                result = calibrate(pairs, size)
                writer.execute(
                    CalibrateCamera(
                        site_id=ids.site_id,
                        camera=camera.id,
                        calibration=result,
                        at=REAL_CLOCK.now(),
                        actor=args.caller,
                    )
                )
            except (CalibrationError, ValueError) as exc:
                print(f"{command}: {printable(str(exc))}; nothing stored", file=sys.stderr)
                return exit_codes.USAGE
        if args.json:
            print(json.dumps({"camera": camera.id, **result.as_json()}))
        else:
            print(
                f"camera {camera.id} calibrated: {result.describe()}. Running engines use it "
                "within about 2 s."
            )
        return exit_codes.OK
    finally:
        store.close()


def run_masks(args: argparse.Namespace, db_url: str) -> int:
    """Run ``cameras mask`` and ``cameras masks``. Exit 2 for bad areas or an unknown
    camera (the message names it), 4 (raised) for an invalid site file."""
    from engine.clock import REAL_CLOCK
    from engine.config import load_site
    from engine.fusion.floor import CalibrationError
    from engine.store import Store
    from engine.store.sites import SyncSite
    from engine.store.writer import StoreWriter
    from engine.vision.privacy import (
        PrivacyMaskError,
        SetPrivacyMasks,
        no_mask,
        privacy_mask,
        privacy_masks,
    )

    command = f"watchfloor cameras {args.cameras_command}"
    site = load_site(args.site)
    known = ", ".join(c.id for c in site.cameras) or "none"
    camera = next((c for c in site.cameras if c.id == args.camera_id), None)
    if args.camera_id is not None and camera is None:
        print(f"{command}: no camera {args.camera_id!r} (cameras: {known})", file=sys.stderr)
        return exit_codes.USAGE
    if args.cameras_command == "mask" and args.clear == bool(args.polygons):
        print(
            f"{command}: give the areas to mask with --polygon, or --clear to remove them "
            "(not both)",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            ids = writer.execute(SyncSite(site=site, at=REAL_CLOCK.now()))
            if args.cameras_command == "masks":
                stored = privacy_masks(store, ids.site_id)
                chosen = [c for c in site.cameras if camera is None or c.id == camera.id]
                if args.json:
                    print(
                        _per_camera_json(
                            chosen,
                            stored,
                            lambda e: {
                                **e.mask.as_json(),
                                "by": e.masked_by,
                                "at": e.masked_at.isoformat(),
                            },
                        )
                    )
                    return exit_codes.OK
                for c in chosen:
                    entry = stored.get(c.id)
                    if entry is None:
                        print(f"{c.id}  {printable(c.name)}: nothing masked")
                        continue
                    width, height = entry.mask.image_size
                    print(f"{c.id}  {printable(c.name)}: {entry.mask.describe()}")
                    for n, area in enumerate(entry.mask.pixel_points(), start=1):
                        corners = " ".join(f"{x:.0f},{y:.0f}" for x, y in area)
                        print(f"    area {n} ({width} × {height} picture): {corners}")
                return exit_codes.OK
            assert camera is not None
            try:
                if args.clear:
                    mask = no_mask()
                else:
                    size = _picture_size(args.size, camera)
                    mask = privacy_mask(
                        [_polygon(text, n) for n, text in enumerate(args.polygons, start=1)],
                        size,
                    )
                writer.execute(
                    SetPrivacyMasks(
                        site_id=ids.site_id,
                        camera=camera.id,
                        mask=mask,
                        at=REAL_CLOCK.now(),
                        actor=args.caller,
                    )
                )
            except (PrivacyMaskError, CalibrationError) as exc:  # _picture_size's
                print(f"{command}: {printable(str(exc))}; nothing stored", file=sys.stderr)
                return exit_codes.USAGE
        if args.json:
            print(json.dumps({"camera": camera.id, **mask.as_json()}))
        else:
            print(
                f"camera {camera.id}: {mask.describe()}. Running engines apply it within about 2 s."
            )
        return exit_codes.OK
    finally:
        store.close()


def _polygon(text: str, n: int) -> list[tuple[float, float]]:
    """``--polygon "X,Y X,Y X,Y"`` → its points; the error names the area and point."""
    from engine.vision.privacy import PrivacyMaskError

    points = []
    for m, part in enumerate(text.split(), start=1):
        pieces = part.split(",")
        try:
            values = [float(piece) for piece in pieces]
        except ValueError:
            values = []
        if len(values) != 2:
            raise PrivacyMaskError(
                f"--polygon {text!r}: area {n}, point {m} {part!r} is not X,Y (pixels)"
            )
        points.append((values[0], values[1]))
    return points


def _pairs(args: argparse.Namespace, site: Any) -> list[Any]:
    from engine.fusion.floor import CalibrationError, PointPair, room_corner_pairs

    if args.room is not None:
        if args.points:
            raise CalibrationError("give either --point pairs or --room with its --corner points")
        room = next((r for r in site.rooms if r.id == args.room), None)
        if room is None:
            rooms = ", ".join(r.id for r in site.rooms) or "none"
            raise CalibrationError(f"no sensing room {args.room!r} (rooms: {rooms})")
        corners = [_numbers(text, 2, "--corner", "U,V") for text in args.corners]
        return room_corner_pairs(
            (room.origin.x_m, room.origin.y_m), (room.box.width_m, room.box.depth_m), corners
        )
    if args.corners:
        raise CalibrationError("--corner needs --room (which room's corners they are)")
    pairs = []
    for text in args.points:
        picture, sep, floor = text.partition("=")
        if not sep:
            raise CalibrationError(f"--point {text!r}: expected U,V=X,Y (picture=floor)")
        u, v = _numbers(picture, 2, "--point", "U,V=X,Y", text)
        x, y = _numbers(floor, 2, "--point", "U,V=X,Y", text)
        pairs.append(PointPair(u, v, x, y))
    return pairs


def _numbers(
    text: str, count: int, option: str, form: str, given: str | None = None
) -> list[float]:
    from engine.fusion.floor import CalibrationError

    parts = [part.strip() for part in text.split(",")]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) != count:
        raise CalibrationError(
            f"{option} {given if given is not None else text!r}: expected {form}"
        )
    return values


def _picture_size(text: str | None, camera: Any) -> tuple[int, int]:
    """``--size WxH``, else the size of the camera's video file's first picture."""
    from engine.fusion.floor import CalibrationError

    if text is not None:
        width, sep, height = text.lower().partition("x")
        if not sep or not width.isdigit() or not height.isdigit():
            raise CalibrationError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 640x480")
        return int(width), int(height)
    view = getattr(camera, "view", None)
    if view is not None:
        return int(view.width), int(view.height)
    if camera.file_path is not None:
        from engine.vision.capture import CaptureOpenError, open_pyav

        try:
            capture = open_pyav(str(camera.file_path), live=False, shown_url=camera.url)
        except CaptureOpenError as exc:
            raise CalibrationError(f"cannot read the picture size: {exc}; give --size") from None
        try:
            first = capture.read()
        finally:
            capture.release()
        if first is not None:
            return int(first.image.shape[1]), int(first.image.shape[0])
    raise CalibrationError("give the picture's size with --size WxH (the camera is not a file)")


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
    password, problem = read_camera_password(camera.id, camera.url)
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


def read_camera_password(camera_id: str, url: str) -> tuple[str, str]:
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


def _add_parsers(subparsers: Any, db_parents: list[argparse.ArgumentParser]) -> None:
    # set-password uses the site file and the OS keyring, no database; the others do
    add_parser(subparsers, [], db_parents)


REGISTRATION = Registration(
    _add_parsers,
    (
        unguarded(
            "cameras",
            "set-password",
            without_database(run),
            "the OS keyring of the user running it, no stored data",
        ),
        guarded(
            "cameras",
            "calibrate",
            run_calibration,
            Permission.CONFIGURE_CAMERAS,
            "calibrate a camera to the floor",
        ),
        guarded(
            "cameras",
            "calibration",
            run_calibration,
            Permission.WATCH,
            "read the cameras' floor calibrations",
        ),
        guarded(
            "cameras",
            "mask",
            run_masks,
            Permission.CONFIGURE_CAMERAS,
            "change a camera's privacy masks",
        ),
        guarded("cameras", "masks", run_masks, Permission.WATCH, "read the cameras' privacy masks"),
        guarded("cameras", "list", run_list, Permission.WATCH, "list the site's cameras"),
        guarded("cameras", "probe", run_probe, Permission.CONFIGURE_CAMERAS, "probe a camera URL"),
        guarded("cameras", "add", run_change, Permission.CONFIGURE_CAMERAS, "add a camera"),
        guarded("cameras", "edit", run_change, Permission.CONFIGURE_CAMERAS, "change a camera"),
        guarded("cameras", "remove", run_change, Permission.CONFIGURE_CAMERAS, "remove a camera"),
        guarded(
            "cameras",
            "discover",
            run_discover,
            Permission.CONFIGURE_CAMERAS,
            "discover cameras on the network",
        ),
        guarded(
            "cameras", "onvif", run_onvif, Permission.CONFIGURE_CAMERAS, "read an ONVIF camera"
        ),
    ),
)
