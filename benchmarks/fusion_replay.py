"""The fusion (issue 37) re-run on recorded inputs: what a change to
:mod:`engine.fusion.associate` does, in seconds and without the live run's noise.

``python -m benchmarks.fusion`` runs the whole engine for 150 s a seed, and two runs of one
code differ by several points of right identity (the detector, the rooms and the scheduler
never run alike twice). Here each seed's live run (``watchfloor fusion simulate``, the
shipped walkthrough site, in a child process with a fresh data dir and store, as
:mod:`benchmarks.fusion` runs it) is *recorded* once: in arrival order, every event the
fusion service hears (the cameras' tracked people, the rooms' blobs and heard devices, the
faces recognised) and the moments it ticked, with the cameras' calibrations and the scene's
start. A *replay* feeds those to a fresh :class:`~engine.fusion.service.FusionService`
(ticked at the recorded moments, so it drains the same events before each tick as it did
live) scored by the real :class:`~engine.sim.fusion_score.FusionScorer` against the walkers'
true paths (the walkthrough is a function of its seed). The replay of unchanged code gives
the live run's figures again, update for update.

The recordings live in ``artifacts/fusion-replays/`` (made when missing; ``--record`` makes
them anew). ``--set NAME=VALUE`` overrides a constant of :mod:`engine.fusion.associate` for
the replay (a sweep without an edit). The figures are :func:`engine.sim.fusion_score.summary`
over the seeds, with each seed's own.

``python -m benchmarks.fusion_replay [--seeds 7 11 23] [--duration 150] [--record]
[--set BREAK_M=0.8 ...]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.sensing_localisation import fresh_data_env

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "artifacts" / "fusion-replays"
SEEDS = (7, 11, 23)
DURATION_S = 150.0
FORMAT = 1


def recording_path(seed: int, duration: float) -> Path:
    return RECORDINGS / f"walkthrough-seed{seed}-{duration:g}s.pickle"


def record(seed: int, duration: float) -> Path:
    """Record seed ``seed``'s live run (a child process with a fresh data dir); its file."""
    out = recording_path(seed, duration)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wf-bench-") as tmp:
        env = fresh_data_env(tmp)
        command = [
            sys.executable, "-m", "benchmarks.fusion_replay", "--child",
            "--db", f"sqlite:///{Path(tmp) / 'bench.db'}",
            "--seeds", str(seed), "--duration", str(duration),
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"recording seed {seed} failed: {done.stderr[-2000:]}")
    # The live run's own figures, to check a replay of the same code against.
    live = json.loads(done.stdout.strip().splitlines()[-1])["fusion"]
    with out.open("rb") as handle:
        recorded = pickle.load(handle)  # our own artifact, just written
    recorded["live"] = live
    _write(out, recorded)
    return out


def _write(out: Path, recorded: dict[str, Any]) -> None:
    partial = out.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(recorded, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(out)


def _record_child(db_url: str, seed: int, duration: float) -> None:
    """In the child: run ``watchfloor fusion simulate`` and write what the fusion heard."""
    from console.cli import build_parser
    from console.commands import fusion
    from engine.access import machine_actor
    from engine.events import PeopleDetected
    from engine.fusion.service import FusionUpdated
    from engine.sensing.service import SensingUpdated
    from engine.vision.face_worker import FaceRecognised

    arguments = ["--db", db_url, "fusion", "simulate", "--seed", str(seed)]
    args = build_parser().parse_args([*arguments, "--duration", str(duration), "--json"])
    args.caller = machine_actor()
    events: list[Any] = []
    lock = threading.Lock()
    started: dict[str, Any] = {}

    def keep(event: Any) -> None:
        if isinstance(event, SensingUpdated):
            # What the fusion reads: the blobs and the devices heard (not the voxels).
            snapshot = dataclasses.replace(
                event.snapshot, voxels=None, links=(), coverage=None, truth=()
            )
            event = dataclasses.replace(event, snapshot=snapshot)
        elif isinstance(event, FusionUpdated):
            event = ("tick", event.at)
        with lock:
            events.append(event)

    def listen(bus: Any, runtime: Any) -> None:
        assert runtime.floor.service is not None and runtime.started_at is not None
        started["wall0"] = runtime.started_at.timestamp()
        started["calibrations"] = {
            cam.id: runtime.floor.service.calibration_of(cam.id) for cam in runtime.site.cameras
        }
        for kind in (PeopleDetected, SensingUpdated, FaceRecognised, FusionUpdated):
            bus.subscribe(kind, keep)

    fusion.run(args, db_url, listen)
    with lock:
        recorded = {
            "format": FORMAT,
            "seed": seed,
            "duration_s": duration,
            "recorded_at": datetime.now(UTC).isoformat(),
            **started,
            "events": list(events),
        }
    _write(recording_path(seed, duration), recorded)


class _ReplayClock:
    """The fusion's clock during a replay: now is the recorded tick being replayed."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()

    def sleep(self, seconds: float) -> None:
        raise RuntimeError("a replay does not sleep")

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        raise RuntimeError("a replay ticks by hand")


def replay(path: Path, watch: Callable[..., None] | None = None) -> dict[str, Any]:
    """The fusion re-run on the recording at ``path``, scored; the scorer's figures.
    ``watch(bus, service, scorer, walkers, wall0)`` is called before the first event (a diagnosis
    listens there)."""
    from console.commands.fusion import DEFAULT_SITE, _camera_sees_room, true_boxes
    from engine.bus import EventBus
    from engine.config import SourceKind, load_site
    from engine.fusion.service import FusionService
    from engine.sim.fusion_score import FusionScorer
    from engine.sim.walkthrough import walkthrough

    with path.open("rb") as handle:
        recorded = pickle.load(handle)  # our own artifact (record)
    if recorded.get("format") != FORMAT:
        raise RuntimeError(f"{path}: an older recording; make it anew with --record")
    site = load_site(DEFAULT_SITE)
    site = dataclasses.replace(
        site, sensing=dataclasses.replace(site.sensing, seed=recorded["seed"])
    )
    cameras = [cam for cam in site.cameras if cam.kind is SourceKind.SIMULATED]
    walkers = walkthrough(site.rooms, site.sensing.walkers, site.sensing.seed)
    wall0 = recorded["wall0"]
    events = recorded["events"]
    first = next(e[1] for e in events if isinstance(e, tuple))
    clock = _ReplayClock(first)
    bus = EventBus()
    service = FusionService(
        bus,
        clock,
        cameras=site.cameras,
        rooms=site.rooms,
        calibrations={k: v for k, v in recorded["calibrations"].items() if v is not None},
    )
    scorer = FusionScorer(
        bus,
        walkers=[w.floor_at for w in walkers],
        names=[f"Walker {w.number}" for w in walkers],
        scene_time=lambda t: t - wall0,
        true_box=true_boxes(walkers, cameras),
        rooms=site.rooms,
        named_in=frozenset({site.rooms[0].id}),
        camera_rooms=frozenset(r.id for r in site.rooms if _camera_sees_room(cameras, r)),
    )
    service.start(run=False)
    if watch is not None:
        watch(bus, service, scorer, walkers, wall0)
    for event in events:
        if isinstance(event, tuple):
            clock.at = event[1]
            service.tick()
        else:
            bus.publish(event)
    scorer.close()
    return {"seed": recorded["seed"], "live": recorded.get("live"), **scorer.score.as_json()}


def _set(assignments: list[str]) -> dict[str, float]:
    import engine.fusion.associate as associate

    done = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        if not hasattr(associate, name):
            raise SystemExit(f"--set {assignment}: engine.fusion.associate has no {name}")
        setattr(associate, name, type(getattr(associate, name))(float(value)))
        done[name] = getattr(associate, name)
    return done


def run(
    seeds: tuple[int, ...] = SEEDS, duration: float = DURATION_S, fresh: bool = False
) -> dict[str, Any]:
    from engine.sim.fusion_score import summary

    for seed in seeds:
        if fresh or not recording_path(seed, duration).exists():
            record(seed, duration)
    runs = [replay(recording_path(seed, duration)) for seed in seeds]
    return {
        "seeds": list(seeds),
        "duration_s": duration,
        **summary(runs),
        "right_identity_target": 0.9,
        "wrong_join_target": 0.02,
        "per_run": [
            {
                "seed": r["seed"],
                "right_identity_share": r["right_identity_share"],
                "joined_right_share": r["joined_right_share"],
                "wrong_join_share": r["wrong_join_share"],
                "join_identity_share": r["join_identity_share"],
                "name_kept": r["name_kept_in_room_without_camera"],
                # the recorded live run's: a replay of the code that ran it gives the same
                "live_right_identity_share": (r["live"] or {}).get("right_identity_share"),
            }
            for r in runs
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--duration", type=float, default=DURATION_S)
    parser.add_argument("--record", action="store_true", help="record the live runs anew")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _record_child(args.db, args.seeds[0], args.duration)
        return
    overrides = _set(args.set)
    report = run(tuple(args.seeds), args.duration, fresh=args.record)
    print(json.dumps({"set": overrides, **report}, indent=2))


if __name__ == "__main__":
    main()
