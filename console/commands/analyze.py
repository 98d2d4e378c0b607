"""``watchfloor analyze VIDEO [--camera KEY] [--site FILE] --report out.json [--realtime]``:
the recording's events, clips and snapshots are filed under a camera of the site, the one
``--camera`` names or else one named after the file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console import exit_codes
from console.commands import emit_report, iso_time, site_of
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze",
        parents=parents,
        help="run the camera pipeline (motion, people, tracks) over a video file",
    )
    parser.add_argument("video", type=Path, help="video file")
    parser.add_argument(
        "--camera",
        metavar="KEY",
        help="file the recording under this camera of the site (its id in the site file); "
        "default: a camera of its own named after the file (vtest.avi: vtest), listed in "
        "the console beside the site's cameras",
    )
    parser.add_argument(
        "--site",
        metavar="FILE",
        type=Path,
        default=argparse.SUPPRESS,  # the global --site (the demo site) when not given here
        help="site TOML file the recording belongs to (default: the global --site)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="OUT.json",
        help="write frames, analysed fps, detections, tracks, persons, clips, and the clips "
        "and snapshots that could not be written (media_lost)",
    )
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="play at the video's own frame rate instead of as fast as possible",
    )
    parser.add_argument(
        "--detect-interval-ms",
        type=int,
        default=None,
        metavar="MS",
        help="run the person detector every MS milliseconds of video while something moves "
        "or anyone is tracked (default 300; 0: every frame), and on the whole frame at "
        "least every 2 s",
    )
    parser.add_argument(
        "--detector",
        choices=["yolov3-tiny", "hog"],
        default="yolov3-tiny",
        help="the built-in people detector (default yolov3-tiny; hog is faster and finds "
        "about a fifth of the people)",
    )
    parser.add_argument(
        "--detector-model",
        type=Path,
        metavar="MODEL.onnx",
        help="use a YOLOv5/YOLOv8 ONNX export (COCO classes) instead of the "
        "built-in people detector",
    )
    parser.add_argument(
        "--start",
        type=iso_time,
        metavar="ISO",
        help="wall time of the video's first frame, ISO 8601 (without an offset: the --site "
        "file's time, the demo site's by default); default: the file's creation time, else "
        "its mtime minus its length",
    )
    parser.add_argument("--json", action="store_true", help="print the report on stdout")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.analyze import UnknownCameraError, VideoAnalysisError, analyze_video
    from engine.clock import REAL_CLOCK
    from engine.store import Store
    from engine.vision.analysis import DETECT_INTERVAL_S
    from engine.vision.detect import OnnxDetectorError

    if args.detect_interval_ms is not None and not 0 <= args.detect_interval_ms <= 5000:
        print("watchfloor analyze: --detect-interval-ms must be 0 to 5000", file=sys.stderr)
        return exit_codes.USAGE
    site = site_of(args)  # a bad site file: SiteConfigError, exit 4
    store = Store(db_url)
    try:
        report = analyze_video(
            args.video,
            clock=REAL_CLOCK,
            store=store,
            realtime=args.realtime,
            detect_interval_s=DETECT_INTERVAL_S
            if args.detect_interval_ms is None
            else args.detect_interval_ms / 1000,
            detector_model=args.detector_model,
            detector=args.detector,
            start=args.start,
            site=site,
            camera=args.camera,
        )
    except UnknownCameraError as exc:
        print(f"watchfloor analyze: --camera: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    except (VideoAnalysisError, OnnxDetectorError) as exc:
        print(f"watchfloor analyze: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        store.close()
    emit_report(report, args.report, args.json)
    if not args.json:
        print(
            f"{report['frames']} frames at {report['analysed_fps']} fps analysed, "
            f"{report['detections']} detections, {len(report['tracks'])} tracks, filed under "
            f"camera {printable(report['camera_name'])} ({report['camera']}) of "
            f"{printable(report['site'])}"
            + (f"; stopped early: {printable(report['error'])}" if report["error"] else "")
            + (
                f"; {report['media_lost_count']} clips/snapshots LOST (see stderr)"
                if report["media_lost_count"]
                else ""
            )
        )
    if report["recording_time"]["clamped_to_now"]:
        print(
            "watchfloor analyze: the recording's start time would put it in the future; "
            f"times were moved back to end now (start {report['recording_time']['start']})",
            file=sys.stderr,
        )
    _say_media_lost(report)
    if report.get("store_fatal"):
        fatal = printable(str(report["store_fatal"]))
        print(f"watchfloor analyze: the database failed: {fatal}", file=sys.stderr)
        return exit_codes.DATABASE
    if report["media_lost_count"]:
        return exit_codes.MEDIA_LOST
    return exit_codes.FAILED if report["error"] else exit_codes.OK


def _say_media_lost(report: dict[str, Any]) -> None:
    """Name every clip and snapshot that could not be written, on stderr."""
    count = report["media_lost_count"]
    if not count:
        return
    listed: list[dict[str, Any]] = report["media_lost"]
    reasons = sorted({str(lost["reason"]) for lost in listed})
    print(
        f"watchfloor analyze: {count} file{'s' if count != 1 else ''} could not be written "
        f"and {'are' if count != 1 else 'is'} lost ({printable(', '.join(reasons))}):",
        file=sys.stderr,
    )
    for lost in listed:
        print(
            f"  {lost['media']} {printable(str(lost['path']))}: {printable(str(lost['error']))}",
            file=sys.stderr,
        )
    if count > len(listed):
        print(f"  … and {count - len(listed)} earlier ones", file=sys.stderr)


REGISTRATION = Registration(
    add_parser,
    (guarded("analyze", None, run, Permission.WATCH, "analyze a video into the store"),),
)
