"""``watchfloor risk hotspots|retrain|cameras``: the risk model learnt from incidents.

``retrain`` refits it now from every stored incident (what the engine does nightly at
``risk.retrain_hour_utc``), logs the run and prints its quality on the last week held out:
hit rate and Predictive Accuracy Index of the top 10 % of cells, against a baseline that
predicts yesterday's counts. ``hotspots`` lists the cells around a place with the most
incidents expected over the coming hours, with their live risk and class. ``cameras``
prints each camera's risk class for a day.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from console import exit_codes
from console.commands import row_count
from console.commands.registry import Registration, guarded
from engine.access import Permission


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("risk", help="the risk model: hotspots, retrain, cameras")
    actions = parser.add_subparsers(dest="risk_command", metavar="ACTION", required=True)
    spots = actions.add_parser(
        "hotspots", parents=parents, help="where incidents are expected around a place"
    )
    spots.add_argument("--lat", type=float, required=True, help="latitude, degrees")
    spots.add_argument("--lon", type=float, required=True, help="longitude, degrees")
    spots.add_argument("--radius-km", type=float, default=2.0, help="how far (default 2)")
    spots.add_argument(
        "--hours-ahead", type=int, default=24, help="over the next N hours (default 24)"
    )
    spots.add_argument("--limit", type=row_count, default=10, help="how many cells (default 10)")
    spots.add_argument("--json", action="store_true", help="print as JSON")
    retrain = actions.add_parser("retrain", parents=parents, help="refit the model now")
    retrain.add_argument("--json", action="store_true", help="print the outcome as JSON")
    cameras = actions.add_parser("cameras", parents=parents, help="cameras' daily risk class")
    cameras.add_argument(
        "--date", type=date.fromisoformat, help="the UTC day, YYYY-MM-DD (default today)"
    )
    cameras.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.data_dirs import data_dir
    from engine.incidents.intake import IntakeSettings
    from engine.incidents.nightly import RetrainError, camera_risk, hotspots, load_forecast
    from engine.settings import setting_values
    from engine.store import Store
    from engine.store.writer import StoreWriter

    command = f"watchfloor risk {args.risk_command}"
    store = Store(db_url)
    models = data_dir() / "models"
    try:
        settings = IntakeSettings.from_values(setting_values(store))
        now = REAL_CLOCK.now()
        if args.risk_command == "cameras":
            day = args.date or now.date()
            classes = camera_risk(store, day)
            if args.json:
                print(json.dumps({"date": day.isoformat(), "cameras": classes}))
            else:
                for key, cls in sorted(classes.items()):
                    print(f"{key:20} {cls}")
                if not classes:
                    print(f"no risk classes for {day} (run `watchfloor risk retrain`)")
            return exit_codes.OK
        if args.risk_command == "retrain":
            from engine.incidents.nightly import retrain

            try:
                with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
                    report = retrain(
                        store, writer, now=now, models_dir=models, settings=settings.risk
                    )
            except RetrainError as exc:
                print(f"{command}: {exc}", file=sys.stderr)
                return exit_codes.FAILED
            if args.json:
                print(json.dumps(report.as_json()))
                return exit_codes.OK
            q = report.quality
            print(
                f"refitted on {report.incidents} incidents in {report.duration_s:.1f} s; "
                f"saved to {report.path}"
            )
            if "model_pai" in q:
                print(
                    f"last {q['held_out_days']} days held out ({q['held_out_incidents']} "
                    f"incidents), top {q['top_fraction']:.0%} of cells: hit rate "
                    f"{q['model_hit_rate']:.1%}, PAI {q['model_pai']:.2f} (baseline "
                    f"yesterday's counts: {q['baseline_hit_rate']:.1%}, PAI "
                    f"{q['baseline_pai']:.2f})"
                )
            else:
                print(f"quality not measured: {q.get('note', 'no held-out data')}")
            for c in report.cameras:
                print(f"  {c.camera:20} {c.day}  {c.risk_class:10} expects {c.expected:.2f}")
            return exit_codes.OK
        # hotspots
        if not (-90 <= args.lat <= 90 and -180 <= args.lon <= 180):
            print(f"{command}: --lat -90..90 and --lon -180..180", file=sys.stderr)
            return exit_codes.USAGE
        if not 0 < args.radius_km <= 50 or not 1 <= args.hours_ahead <= 168:
            print(f"{command}: --radius-km 0-50 and --hours-ahead 1-168", file=sys.stderr)
            return exit_codes.USAGE
        if not 1 <= args.limit <= 1000:
            print(f"{command}: --limit 1-1000", file=sys.stderr)
            return exit_codes.USAGE
        forecast = load_forecast(models)
        if forecast is None:
            print(
                f"{command}: no risk model yet; run `watchfloor risk retrain` (the engine "
                "also refits it nightly)",
                file=sys.stderr,
            )
            return exit_codes.FAILED
        spots = hotspots(
            store,
            forecast,
            latitude=args.lat,
            longitude=args.lon,
            radius_m=args.radius_km * 1000,
            hours_ahead=args.hours_ahead,
            limit=args.limit,
            now=now,
            half_life_h=settings.risk.half_life_h,
        )
        if args.json:
            print(json.dumps([s.as_json() for s in spots]))
            return exit_codes.OK
        for s in spots:
            print(
                f"{s.latitude:.5f},{s.longitude:.5f}  {s.distance_m:6.0f} m  expects "
                f"{s.expected:6.2f} in {args.hours_ahead} h  live {s.live:6.2f}  {s.risk_class}"
            )
        return exit_codes.OK
    except ValueError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    finally:
        store.close()


REGISTRATION = Registration(
    add_parser,
    (
        guarded("risk", "hotspots", run, Permission.WATCH, "read the risk forecast"),
        guarded("risk", "cameras", run, Permission.WATCH, "read cameras' risk classes"),
        guarded("risk", "retrain", run, Permission.CHANGE_SETTINGS, "refit the risk model"),
    ),
)
