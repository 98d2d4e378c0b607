"""Sensing recording and replay on the paths a user runs.

``replay``: ``watchfloor engine`` runs a site with a simulated 4-node room (5 × 5 × 2.5 m, one
walker) for 60 s with recording on (the default settings), storing its sensing events in a
fresh SQLite store; then ``watchfloor sense replay`` re-runs the whole recording three times
with the same settings. Figures: replay speed (recorded seconds per second, median of the
three), whether the replayed blob events equal the stored live ones exactly (time, kind, blob
id, position; the ends filed by stopping the engine aside), and the recording's size.
Targets: ≥ 20× real time; exact.

``recording_cost``: ``watchfloor sense simulate`` with 16 nodes (240 directed links, about
4,800 frames/s) and two walkers for 30 s, with and without ``--record``, alternately, three
times each. The simulated nodes run in a process of their own, so the engine process's CPU
time (node server, signal chain, fusion, recorder) is the room's ingest. Figure: the median
extra CPU per frame received that recording adds, as a share of the ingest CPU per frame
without it (target ≤ 10 %), and the bytes it wrote per second.

``python -m benchmarks.sensing_replay [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.sensing_localisation import sense_simulate

REPO = Path(__file__).resolve().parent.parent

SITE = """
[site]
name = "Replay bench"
geo = { lat = 51.5, lon = -0.14 }
[room]
width_m = 5.0
depth_m = 5.0
height_m = 2.5
[sensing]
simulate = true
walkers = 1
seed = 4
"""
NODES = [("n1", 2.5, 0.1, 0.9), ("n2", 4.9, 2.5, 1.1), ("n3", 2.5, 4.9, 0.9), ("n4", 0.1, 2.5, 1.1)]


def _site_file(directory: Path) -> Path:
    text = SITE + "".join(
        f'[[sensing_nodes]]\nid = "{n}"\nname = "{n}"\nposition = {{ x = {x}, y = {y}, z = {z} }}\n'
        for n, x, y, z in NODES
    )
    path = directory / "site.toml"
    path.write_text(text)
    return path


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[3:6]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def replay(duration_s: float, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-replay-bench-") as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "WATCHFLOOR_DATA_DIR": str(root / "data"),
            "WATCHFLOOR_CONFIG_DIR": str(root / "config"),
            "PYTHONPATH": str(REPO),
        }
        db = root / "bench.db"
        site = _site_file(root)
        base = [sys.executable, "-m", "console", "--db", f"sqlite:///{db}"]
        _run([*base, "engine", "--site", str(site), "--duration", str(duration_s)], env)
        reports = [
            json.loads(
                _run([*base, "sense", "replay", "--site", str(site), "--json"], env)
                .strip()
                .splitlines()[-1]
            )
            for _ in range(runs)
        ]
        with sqlite3.connect(db) as connection:
            rows = connection.execute(
                "SELECT ts, kind, track_id, json_extract(detail, '$.position'), "
                "json_extract(detail, '$.reason') FROM events "
                "WHERE kind IN ('sensing.blob_appeared', 'sensing.blob_left') ORDER BY id"
            ).fetchall()
        recording = sum(
            p.stat().st_size for p in (root / "data" / "sensing").rglob("*") if p.is_file()
        )
    live = [
        (ts.replace(" ", "T"), kind, blob, json.loads(position))
        for ts, kind, blob, position, reason in rows
        if reason != "sensing stopped"
    ]
    replayed = [
        (e["ts"][:26], e["kind"], e["blob"], e["detail"]["position"])
        for e in reports[0]["events"]
        if e["kind"] in ("sensing.blob_appeared", "sensing.blob_left")
    ]
    return {
        "nodes": len(NODES),
        "recorded_s": reports[0]["recorded_s"],
        "speed_x_median": statistics.median(r["speed_x"] for r in reports),
        "speed_x_runs": [r["speed_x"] for r in reports],
        "live_blob_events": len(live),
        "replayed_blob_events": len(replayed),
        "exact": live == replayed,
        "recording_bytes": recording,
        "recording_bytes_per_s": round(recording / max(reports[0]["recorded_s"], 1e-9)),
    }


def recording_cost(duration_s: float, repeats: int) -> dict[str, Any]:
    def simulate(record: bool) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="wf-rec-bench-") as tmp:
            recording = ["--record", str(Path(tmp) / "recording")] if record else []
            return sense_simulate(
                "--nodes", "16", "--walkers", "2", "--room", "10x10x2.5",
                "--duration", str(duration_s), "--seed", "1", *recording,
            )  # fmt: skip

    without: list[dict[str, Any]] = []
    recorded: list[dict[str, Any]] = []
    for _ in range(repeats):  # alternately, so both see the same machine load
        without.append(simulate(False))
        recorded.append(simulate(True))

    def cpu_per_frame(report: dict[str, Any]) -> float:
        return float(report["process_cpu_s"]) / max(int(report["frames_received"]), 1)

    base = statistics.median(cpu_per_frame(r) for r in without)
    extra = statistics.median(cpu_per_frame(r) for r in recorded) - base
    on_disk = statistics.median(r["recording"]["bytes_on_disk"] for r in recorded)
    return {
        "nodes": 16,
        "duration_s": duration_s,
        "frames_received": [r["frames_received"] for r in recorded],
        "ingest_cpu_us_per_frame": round(base * 1e6, 2),
        "recording_cpu_us_per_frame": round(extra * 1e6, 2),
        "recording_share_of_ingest": round(extra / base, 4),
        "recording_bytes_per_s": round(on_disk / (duration_s + 5.0)),
        "recording_dropped": [r["recording"]["dropped"] for r in recorded],
        "process_cpu_s_without": [r["process_cpu_s"] for r in without],
        "process_cpu_s_with": [r["process_cpu_s"] for r in recorded],
    }


def run(quick: bool = False) -> dict[str, Any]:
    return {
        "replay": replay(15.0 if quick else 60.0, 1 if quick else 3),
        "recording_cost": recording_cost(5.0 if quick else 30.0, 1 if quick else 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs")
    args = parser.parse_args()
    print(json.dumps({"benchmark": "sensing_replay", **run(args.quick)}))


if __name__ == "__main__":
    main()
