"""``watchfloor faces enroll --name NAME IMAGE...`` and ``watchfloor faces identify IMAGE...``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console import exit_codes
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable

if TYPE_CHECKING:
    from engine.identity.faces_store import FaceMemory, Identification


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    faces = subparsers.add_parser(
        "faces", help="face memory: enroll people from photos, identify faces in images"
    )
    actions = faces.add_subparsers(dest="faces_command", metavar="ACTION", required=True)

    enroll = actions.add_parser(
        "enroll",
        parents=parents,
        help="teach a person's face from photos that each show only that person",
    )
    enroll.add_argument("--name", required=True, help="the person's name")
    enroll.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="photo file(s)")
    enroll.add_argument("--json", action="store_true", help="print the result as JSON")

    identify = actions.add_parser(
        "identify", parents=parents, help="find faces in images and say who they are"
    )
    identify.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image file(s)")
    identify.add_argument(
        "--upsample",
        type=int,
        default=1,
        metavar="N",
        help="enlarge images N times before looking for faces (1 finds faces from ~40 px; "
        "each step costs 4× the time)",
    )
    identify.add_argument("--json", action="store_true", help="print the faces as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    """Run ``faces enroll`` or ``faces identify``; returns the process exit code. Bad input
    (missing or unreadable file, no face, several faces) is reported on stderr with exit 1."""
    from engine.clock import REAL_CLOCK
    from engine.identity.faces import FaceModelsMissingError
    from engine.identity.faces_store import FaceMemory
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = f"watchfloor faces {args.faces_command}"
    missing = [str(path) for path in args.images if not path.is_file()]
    if missing and args.faces_command == "enroll":  # all or nothing; identify does the rest
        print(f"{command}: no such image file: {', '.join(missing)}", file=sys.stderr)
        return exit_codes.FAILED
    if args.faces_command == "identify" and args.upsample < 0:
        print(f"{command}: --upsample must be 0 or more", file=sys.stderr)
        return exit_codes.USAGE
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            memory = FaceMemory(store, writer, REAL_CLOCK)
            if args.faces_command == "enroll":
                return _enroll(memory, args)
            return _identify(memory, args)
    except (ValueError, FaceModelsMissingError) as exc:
        # EnrollmentError and ImageReadError are ValueErrors whose message names the file.
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()


def _enroll(memory: FaceMemory, args: argparse.Namespace) -> int:

    person = memory.enroll(args.name, args.images, actor=args.caller)
    if args.json:
        print(
            json.dumps(
                {"person_id": person.public_id, "name": person.name, "photos": len(args.images)}
            )
        )
    else:
        name = printable(person.name or "")
        print(f"enrolled {name} as {person.public_id} from {len(args.images)} photo(s)")
    return exit_codes.OK


def _identify(memory: FaceMemory, args: argparse.Namespace) -> int:
    """Every image is looked at; one that cannot be read is reported (stderr, and in the
    JSON as ``error``) without stopping the others, and makes the exit code 1."""
    from engine.identity.faces import ImageReadError

    results: list[tuple[Path, list[Identification] | None, str | None]] = []
    for path in args.images:
        try:
            results.append((path, memory.identify(path, upsample=args.upsample), None))
        except ImageReadError as exc:
            results.append((path, None, str(exc)))
            print(f"watchfloor faces identify: {exc}", file=sys.stderr)
    code = exit_codes.FAILED if any(error for _p, _f, error in results) else exit_codes.OK
    if args.json:
        print(
            json.dumps(
                {
                    "threshold": memory.threshold,
                    "images": [
                        {"image": str(path), "faces": [_face_json(face) for face in faces]}
                        if faces is not None
                        else {"image": str(path), "error": error}
                        for path, faces, error in results
                    ],
                }
            )
        )
        return code
    for path, faces, _error in results:
        if faces is None:
            continue
        print(f"{path}: {len(faces)} face(s)")
        for face in faces:
            if face.public_id:
                name = printable(face.name or "unnamed")
                who = f"{name} ({face.public_id})  distance {face.distance:.3f}"
            elif face.distance is not None:
                who = f"unknown  (nearest known face at distance {face.distance:.3f})"
            else:
                who = "unknown  (nobody enrolled yet)"
            print(f"  box {face.box}  {who}")
    return code


def _face_json(face: Identification) -> dict[str, Any]:
    return {
        "box": list(face.box),
        "person_id": face.public_id,
        "name": face.name,
        "distance": None if face.distance is None else round(face.distance, 4),
        "score": round(face.score, 3),
    }


REGISTRATION = Registration(
    add_parser,
    (
        guarded("faces", "enroll", run, Permission.MANAGE_PEOPLE, "enrol a person"),
        guarded("faces", "identify", run, Permission.WATCH, "identify faces"),
    ),
)
