"""``watchfloor fusion simulate``: the walkthrough scene end to end, scored against its truth.

It runs the engine a user runs (store, faces, clips, alerts) on a site whose ``[sensing]``
says ``scene = "walkthrough"`` (default: the shipped ``resources/walkthrough_site.toml``):
simulated walkers cross a simulated camera's view and the sensing rooms. First each
simulated camera is calibrated to the floor as an admin would on the Floor calibration page:
the floor markers the picture shows (a dot every 2 m with its coordinates written beside
it) are clicked, each click a little off (``--click-noise`` pixels, rounded to whole pixels
as a mouse is), and their coordinates typed. The calibration is stored (as the caller,
audited) and its error measured twice: the median leave-one-out error the admin is shown,
and the error against the truth over the floor the camera sees (a 0.5 m grid of points,
each mapped from its true picture point).

Then the scene runs for ``--duration`` seconds and :class:`engine.sim.fusion_score.FusionScorer`
scores every fusion update against where the walkers really are. The report (stdout with
``--json``, else a summary on stderr) has the calibration errors, the fusion's scores, what
was stored (joins, paths) and what the senses saw.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from console import exit_codes
from console.commands import emit_report, stop_on_signals
from console.commands.registry import Registration, guarded
from engine.access import Permission

DEFAULT_SITE = Path(__file__).resolve().parents[2] / "resources" / "walkthrough_site.toml"
PICTURE_MARGIN_PX = 12.0


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "fusion", help="one person across cameras and sensing rooms: the simulated walkthrough"
    )
    actions = parser.add_subparsers(dest="fusion_command", metavar="ACTION", required=True)
    simulate = actions.add_parser(
        "simulate",
        parents=parents,
        help="run the walkthrough scene, calibrate its cameras as an admin would, and score "
        "the fusion against the truth",
    )
    simulate.add_argument(
        "--scene-site",
        type=Path,
        default=None,
        metavar="FILE",
        help=f'a site file with [sensing] scene = "walkthrough" (default {DEFAULT_SITE.name})',
    )
    simulate.add_argument("--duration", type=float, default=120.0, help="seconds (default 120)")
    simulate.add_argument("--seed", type=int, default=None, help="the walks' seed")
    simulate.add_argument("--walkers", type=int, default=None, help="1-5 walkers")
    simulate.add_argument(
        "--click-noise",
        type=float,
        default=2.0,
        metavar="PX",
        help="how far off each calibration click lands (standard deviation, pixels; 2)",
    )
    simulate.add_argument(
        "--points", type=int, default=8, help="floor markers clicked per camera (5-30; 8)"
    )
    simulate.add_argument("--report", type=Path, help="also write the report to this file")
    simulate.add_argument("--json", action="store_true", help="print the report as JSON")


def run(
    args: argparse.Namespace, db_url: str, listen: Callable[[Any, Any], None] | None = None
) -> int:
    from engine.config import SourceKind, load_site

    command = "watchfloor fusion simulate"
    site_file = args.scene_site or DEFAULT_SITE
    site = load_site(site_file)
    problem = None
    if site.sensing.scene != "walkthrough":
        problem = f'{site_file} has no simulated scene ([sensing] scene = "walkthrough")'
    elif not any(cam.kind is SourceKind.SIMULATED for cam in site.cameras):
        problem = f'{site_file} has no simulated camera ([[cameras]] url = "simulated")'
    elif not (math.isfinite(args.duration) and 10 <= args.duration <= 86_400):
        problem = f"--duration {args.duration}: 10 s to a day"
    elif args.walkers is not None and not 1 <= args.walkers <= 5:
        problem = f"--walkers {args.walkers}: 1 to 5"
    elif not 5 <= args.points <= 30:
        problem = f"--points {args.points}: 5 to 30 markers"
    elif not (math.isfinite(args.click_noise) and 0 <= args.click_noise <= 50):
        problem = f"--click-noise {args.click_noise}: 0 to 50 pixels"
    if problem is not None:
        print(f"{command}: {problem}", file=sys.stderr)
        return exit_codes.USAGE
    sensing = site.sensing
    if args.seed is not None:
        sensing = dataclasses.replace(sensing, seed=args.seed)
    if args.walkers is not None:
        sensing = dataclasses.replace(sensing, walkers=args.walkers)
    site = dataclasses.replace(site, sensing=sensing)
    report = simulate(site, db_url, args, listen)
    emit_report(report, args.report, args.json)
    if not args.json:
        _summary(report)
    return exit_codes.OK


def simulate(
    site: Any,
    db_url: str,
    args: argparse.Namespace,
    listen: Callable[[Any, Any], None] | None = None,
) -> dict[str, Any]:
    """Run the scene and score it (see the module). ``listen(bus, runtime)`` is called once
    the cameras are calibrated, before the scoring starts: a benchmark records the fusion's
    inputs there (:mod:`benchmarks.fusion_replay`)."""
    from engine.bus import EventBus
    from engine.config import SourceKind
    from engine.fusion.service import FusionRecord
    from engine.runtime import EngineRuntime
    from engine.sensing.service import SensingUpdated
    from engine.sim.fusion_score import FusionScorer
    from engine.store import Store

    store = Store(db_url)
    bus = EventBus()
    records: dict[str, int] = {}
    blobs_seen: dict[str, set[int]] = {}

    def count(record: FusionRecord) -> None:
        kind = record.change.kind
        records[kind] = records.get(kind, 0) + 1

    def blobs(update: SensingUpdated) -> None:
        blobs_seen.setdefault(update.snapshot.room_id, set()).update(
            b.track_id for b in update.snapshot.blobs if not b.coasting
        )

    bus.subscribe(FusionRecord, count)
    bus.subscribe(SensingUpdated, blobs)
    runtime = EngineRuntime(site, store, bus=bus)
    cameras = [cam for cam in site.cameras if cam.kind is SourceKind.SIMULATED]
    try:
        with stop_on_signals() as stop:
            runtime.start()
            assert runtime.started_at is not None
            wall0 = runtime.started_at.timestamp()
            calibration = {
                cam.id: calibrate_from_markers(
                    runtime, cam, args.points, args.click_noise, args.caller
                )
                for cam in cameras
            }
            walkers = runtime.scene_walkers
            true_box = true_boxes(walkers, cameras)
            if listen is not None:
                listen(bus, runtime)
            seen_rooms = frozenset(
                room.id for room in site.rooms if _camera_sees_room(cameras, room)
            )
            scorer = FusionScorer(
                bus,
                walkers=[w.floor_at for w in walkers],
                names=[f"Walker {w.number}" for w in walkers],
                scene_time=lambda t: t - wall0,
                true_box=true_box,
                rooms=site.rooms,
                named_in=frozenset({site.rooms[0].id}),
                camera_rooms=seen_rooms,
            )
            stop.wait(args.duration)
            cut_short = stop.is_set()
            report_engine = runtime.report()
    finally:
        runtime.stop()
        store.close()
    scorer.close()
    return {
        "site": site.name,
        "seed": site.sensing.seed,
        "walkers": len(walkers),
        "duration_s": args.duration,
        "stopped_early": cut_short,
        "calibration": calibration,
        "fusion": scorer.score.as_json(),
        "stored": records,
        "blobs_per_room": {room: len(ids) for room, ids in blobs_seen.items()},
        "cameras": {
            cam_id: {k: v for k, v in cam.items() if k in ("fps", "frames", "status")}
            for cam_id, cam in report_engine.get("cameras", {}).items()
        },
    }


def true_boxes(walkers: Sequence[Any], cameras: Sequence[Any]) -> Callable[[str, int, float], Any]:
    """(camera, walker index, scene seconds) → the walker's true box on that simulated
    camera's picture, or None (not in the scene yet, or no such camera)."""
    views = {cam.id: cam.view for cam in cameras}

    def true_box(camera: str, index: int, t: float) -> Any:
        place = walkers[index].floor_at(t)
        view = views.get(camera)
        if place is None or view is None:
            return None
        return view.person_box(place[0], place[1], walkers[index].height_m)

    return true_box


def calibrate_from_markers(
    runtime: Any, camera: Any, points: int, noise_px: float, actor: Any
) -> dict[str, Any]:
    """Calibrate ``camera`` from its floor markers as an admin clicks them; the errors."""
    from engine.fusion.actions import calibrate_camera
    from engine.fusion.floor import PointPair, calibrate
    from engine.sim.scene import marker_points

    view = camera.view
    area = runtime.camera_scene.floor.area
    shown = marker_points(view, runtime.camera_scene.floor)  # the markers the picture shows
    markers = np.array([place for place, _ in shown]).reshape(-1, 2)
    pixels = np.array([point for _, point in shown]).reshape(-1, 2)
    inside = _in_picture(view, pixels, np.ones(len(pixels), bool), PICTURE_MARGIN_PX)
    visible = np.flatnonzero(inside)
    # Spread over the picture: take markers in turn farthest from those taken.
    chosen = [int(visible[np.argmax(pixels[visible, 1])])] if len(visible) else []
    while len(chosen) < min(points, len(visible)):
        taken = pixels[chosen]
        far = [
            (float(np.min(np.hypot(*(taken - pixels[i]).T))), int(i))
            for i in visible
            if i not in chosen
        ]
        chosen.append(max(far)[1])
    rng = np.random.default_rng(1234 + len(camera.id))
    clicks = np.round(pixels[chosen] + rng.normal(0.0, noise_px, (len(chosen), 2)))
    pairs = [
        PointPair(float(u), float(v), float(x), float(y))
        for (u, v), (x, y) in zip(clicks, markers[chosen], strict=True)
    ]
    result = calibrate(pairs, (view.width, view.height))
    site_id = runtime.site_ids.site_id if runtime.site_ids is not None else None
    calibrate_camera(
        runtime.floor, runtime.writer, site_id, runtime.clock, camera.id, result, actor
    )
    # The truth: a 0.5 m grid over the floor the camera sees, mapped from true pictures.
    gx, gy = np.meshgrid(np.arange(area.x0, area.x1, 0.5), np.arange(area.y0, area.y1, 0.5))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    seen, ahead = view.project(grid)
    # Not the last sliver below the horizon, where a pixel spans metres.
    on_picture = _in_picture(view, seen, ahead) & (seen[:, 1] >= view.height * 0.15)
    mapped, below = result.to_floor_many(seen[on_picture])
    errors = np.hypot(*(mapped[below] - grid[on_picture][below]).T)
    return {
        "points": len(pairs),
        "click_noise_px": noise_px,
        "leave_one_out_median_m": None if result.error_m is None else round(result.error_m, 3),
        "truth_median_m": round(float(np.median(errors)), 3) if errors.size else None,
        "truth_p95_m": round(float(np.percentile(errors, 95)), 3) if errors.size else None,
        "truth_points": int(errors.size),
        "shown_to_admin": result.describe(),
    }


def _in_picture(view: Any, pixels: Any, ahead: Any, margin_px: float = 0.0) -> Any:
    """Which picture points (in front of the camera: ``ahead``) lie on ``view``'s picture,
    at least ``margin_px`` inside its edges."""
    return (
        ahead
        & (pixels[:, 0] >= margin_px)
        & (pixels[:, 0] <= view.width - margin_px)
        & (pixels[:, 1] >= margin_px)
        & (pixels[:, 1] <= view.height - margin_px)
    )


def _camera_sees_room(cameras: list[Any], room: Any) -> bool:
    """Whether any of ``cameras`` sees a good part (a quarter or more) of ``room``'s floor:
    a sliver seen past a door does not make a room one with a camera."""
    for cam in cameras:
        view = cam.view
        gx, gy = np.meshgrid(
            np.linspace(room.origin.x_m + 0.3, room.origin.x_m + room.box.width_m - 0.3, 8),
            np.linspace(room.origin.y_m + 0.3, room.origin.y_m + room.box.depth_m - 0.3, 8),
        )
        pixels, ahead = view.project(np.column_stack([gx.ravel(), gy.ravel()]))
        if _in_picture(view, pixels, ahead).mean() >= 0.25:
            return True
    return False


def _summary(report: dict[str, Any]) -> None:
    fusion = report["fusion"]
    lines = [f"walkthrough, seed {report['seed']}, {report['duration_s']:g} s:"]
    for cam, cal in report["calibration"].items():
        lines.append(
            f"  {cam}: calibrated from {cal['points']} markers, error {cal['truth_median_m']} m "
            f"median against the truth ({cal['shown_to_admin']})"
        )
    lines.append(
        f"  right identity on {fusion['right_identity']}/{fusion['pair_opportunities']} "
        f"track-blob pairs ({fusion['right_identity_share']}); wrong joins "
        f"{fusion['joins_wrong']}/{fusion['joins_right'] + fusion['joins_wrong']} "
        f"({fusion['wrong_join_share']}); joins one walker's under their name "
        f"{fusion['joins_named_right']} ({fusion['join_identity_share']}); name kept in the "
        "room without a camera "
        f"{fusion['name_kept_in_room_without_camera']}, 4 s after walking into it empty "
        f"{fusion['name_kept_entering_empty']}, with someone in it "
        f"{fusion['name_kept_entering_occupied']}"
    )
    print("\n".join(lines), file=sys.stderr)


REGISTRATION = Registration(
    add_parser,
    (
        guarded(
            "fusion",
            "simulate",
            run,
            Permission.CONFIGURE_CAMERAS,
            "run the walkthrough, calibrating its simulated cameras",
        ),
    ),
)
