"""``watchfloor gestures teach|list|rename|set|remove|detect``: the gestures the cameras know.

``teach NAME VIDEO... [--alerting] [--no-mirror] [--replace]`` teaches a gesture from videos of
one person performing it: every repetition in them (a burst of limb movement; pause
between repetitions) is an example, 3–5 in all. A video in which the person leaves the
frame during a repetition, shows no movement or cannot be read is refused by name, and
nothing is saved. ``list`` shows each gesture's options, examples and usage; ``rename OLD
NEW``, ``set NAME --alerting/--no-alerting --mirror/--no-mirror`` and ``remove NAME``
change it (the manage_gestures permission; audited). ``detect VIDEO [--json]`` runs the
analysis a camera runs (people, tracks, faces, poses) over a video and lists the taught
gestures it recognised.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from console import exit_codes
from console.commands import site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.sitetime import SiteTime
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gestures",
        help="gestures: teach them from videos, list, rename, change, remove, detect in a video",
    )
    actions = parser.add_subparsers(dest="gestures_command", metavar="ACTION", required=True)
    teach = actions.add_parser(
        "teach", parents=parents, help="teach a gesture from videos of one person performing it"
    )
    teach.add_argument("name", metavar="NAME", help="the gesture's name, e.g. wave")
    teach.add_argument(
        "videos",
        nargs="+",
        type=Path,
        metavar="VIDEO",
        help="video file(s); every repetition in them is an example (3–5 in all)",
    )
    teach.add_argument("--alerting", action="store_true", help="raise alerts when it is seen")
    teach.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="its mirror image counts too, so either hand will do (default; --no-mirror: "
        "only the hand it was taught with)",
    )
    teach.add_argument(
        "--replace", action="store_true", help="teach an existing gesture again (new examples)"
    )
    teach.add_argument("--json", action="store_true", help="print the gesture as JSON")
    listing = actions.add_parser("list", parents=parents, help="taught gestures and their usage")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    rename = actions.add_parser("rename", parents=parents, help="rename a gesture")
    rename.add_argument("name", metavar="NAME")
    rename.add_argument("new_name", metavar="NEW_NAME")
    options = actions.add_parser("set", parents=parents, help="change a gesture's options")
    options.add_argument("name", metavar="NAME")
    options.add_argument(
        "--alerting", action=argparse.BooleanOptionalAction, default=None, help="alerting"
    )
    options.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="its mirror image counts too",
    )
    remove = actions.add_parser("remove", parents=parents, help="forget a gesture")
    remove.add_argument("name", metavar="NAME")
    detect = actions.add_parser(
        "detect", parents=parents, help="the taught gestures performed in a video"
    )
    detect.add_argument("video", type=Path, metavar="VIDEO")
    detect.add_argument("--json", action="store_true", help="print the detections as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.gestures.library import (
        GestureError,
        GestureListRequest,
        GestureNamed,
        RemoveGesture,
        RenameGesture,
        SetGestureOptions,
        UnknownGestureError,
        name_taken,
    )
    from engine.gestures.pose import PoseUnavailableError
    from engine.gestures.teach import TeachError
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = f"watchfloor gestures {args.gestures_command}"
    if args.gestures_command == "detect":
        return _detect(args, db_url, command)
    if args.gestures_command == "teach":
        missing = [str(p) for p in args.videos if not p.is_file()]
        if missing:
            print(f"{command}: no such video file: {', '.join(missing)}", file=sys.stderr)
            return exit_codes.USAGE
    store = Store(db_url)
    try:
        if args.gestures_command == "list":
            views = GestureListRequest().run(store)
            if args.json:
                print(json.dumps([view.as_json() for view in views]))
            elif not views:
                print("no gestures taught (watchfloor gestures teach NAME VIDEO...)")
            if views and not args.json:
                zone = site_time(args)
                for view in views:
                    print(_line(view, zone))
                    _print_advice(view)
            return exit_codes.OK
        now = REAL_CLOCK.now()
        if args.gestures_command == "teach":
            taken = None if args.replace else GestureNamed(args.name).run(store)
            if taken is not None:  # before minutes of pose reading, not after
                raise name_taken(taken)
            teach = _teach_command(args, now)  # poses first: nothing is written on failure
            with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
                view = writer.execute(teach)
            if args.json:
                print(json.dumps(view.as_json()))
            else:
                print(f"gesture taught: {_line(view, site_time(args)).strip()}")
                _print_advice(view)
            return exit_codes.OK
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if args.gestures_command == "rename":
                view = writer.execute(
                    RenameGesture(name=args.name, new_name=args.new_name, at=now, actor=args.caller)
                )
                print(f"gesture {printable(args.name)} renamed to {printable(view.name)}")
            elif args.gestures_command == "set":
                if args.alerting is None and args.mirror is None:
                    print(f"{command}: give --alerting/--no-alerting or --mirror/--no-mirror")
                    return exit_codes.USAGE
                view = writer.execute(
                    SetGestureOptions(
                        name=args.name,
                        alerting=args.alerting,
                        mirror_invariant=args.mirror,
                        at=now,
                        actor=args.caller,
                    )
                )
                print(_line(view, site_time(args)))
            else:
                view = writer.execute(RemoveGesture(name=args.name, at=now, actor=args.caller))
                print(f"gesture {printable(view.name)} removed ({view.examples} examples)")
        return exit_codes.OK
    except (GestureError, TeachError) as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.USAGE
    except UnknownGestureError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    except PoseUnavailableError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()


def _teach_command(args: argparse.Namespace, now: Any) -> Any:
    from engine.gestures.library import MAX_TEACH_EXAMPLES, MIN_TEACH_EXAMPLES, TeachGesture
    from engine.gestures.pose import PoseEstimator
    from engine.gestures.teach import TeachError, examples_from_videos

    def progress(fraction: float) -> None:
        if sys.stderr.isatty():
            print(f"\rreading poses… {fraction:4.0%}", end="", file=sys.stderr, flush=True)

    examples = examples_from_videos(
        args.videos, lambda: PoseEstimator(video=True), progress=progress
    )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if not MIN_TEACH_EXAMPLES <= len(examples) <= MAX_TEACH_EXAMPLES:
        found = ", ".join(e.label for e in examples)
        raise TeachError(
            f"{len(examples)} repetition(s) found ({found}); teach a gesture from "
            f"{MIN_TEACH_EXAMPLES}–{MAX_TEACH_EXAMPLES} repetitions"
        )
    return TeachGesture(
        name=args.name,
        examples=tuple(e.normalised() for e in examples),
        durations_s=tuple(e.duration_s for e in examples),
        sources=tuple(e.label for e in examples),
        alerting=args.alerting,
        mirror_invariant=args.mirror,
        replace=args.replace,
        at=now,
        actor=args.caller,
    )


def _detect(args: argparse.Namespace, db_url: str, command: str) -> int:
    from engine.analyze import VideoAnalysisError, analyze_video
    from engine.clock import REAL_CLOCK
    from engine.gestures.library import GestureListRequest
    from engine.store import Store

    store = Store(db_url)
    try:
        if not GestureListRequest().run(store):
            print(
                f"{command}: no gestures taught (watchfloor gestures teach NAME VIDEO...)",
                file=sys.stderr,
            )
            return exit_codes.FAILED
        report = analyze_video(args.video, clock=REAL_CLOCK, store=store)
    except VideoAnalysisError as exc:
        print(f"{command}: {printable(str(exc))}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()
    gestures = report.get("gestures")
    if gestures is None:
        print(
            f"{command}: gestures unavailable: the pose model or mediapipe could not be "
            "loaded (the log says why)",
            file=sys.stderr,
        )
        return exit_codes.FAILED
    result = {
        "video": str(args.video),
        "camera": report.get("camera"),
        "taught": gestures["taught"],
        "poses_estimated": gestures["poses_estimated"],
        "detections": gestures["detections"],
    }
    if args.json:
        print(json.dumps(result))
    else:
        for found in result["detections"]:
            who = f" ({found['person']})" if found["person"] else ""
            print(
                printable(
                    f"{found['at']}  track {found['track_id']}{who}: {found['gesture']} "
                    f"{found['confidence']:.2f}"
                )
            )
        if not result["detections"]:
            print(f"no taught gesture seen ({gestures['poses_estimated']} poses looked at)")
    return exit_codes.OK


def _line(view: Any, zone: SiteTime) -> str:
    flags = ", ".join(
        flag for flag, on in (("alerting", view.alerting), ("mirror", view.mirror_invariant)) if on
    )
    last = f", last {zone.full(view.last_detected_at)}" if view.last_detected_at else ""
    return printable(
        f"{view.name:20s} {view.examples} examples of ~{view.typical_s:.1f} s"
        f"{' (' + flags + ')' if flags else ''}; seen {view.detections} times{last}"
    )


def _print_advice(view: Any) -> None:
    """The gesture's advice about its examples, one indented "note:" line each."""
    for sentence in view.advice:
        print(printable(f"  note: {sentence}"))


REGISTRATION = Registration(
    add_parser,
    (
        guarded("gestures", "teach", run, Permission.MANAGE_GESTURES, "teach a gesture"),
        guarded("gestures", "list", run, Permission.WATCH, "list gestures"),
        guarded("gestures", "rename", run, Permission.MANAGE_GESTURES, "rename a gesture"),
        guarded("gestures", "set", run, Permission.MANAGE_GESTURES, "change a gesture"),
        guarded("gestures", "remove", run, Permission.MANAGE_GESTURES, "remove a gesture"),
        guarded("gestures", "detect", run, Permission.WATCH, "detect gestures in a video"),
    ),
)
