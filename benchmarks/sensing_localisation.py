"""WiFi-sensing localisation on the path a user runs: ``watchfloor sense simulate``.

Each run is a child process of ``watchfloor sense simulate`` with a fresh SQLite store:
simulated nodes send CSI over loopback WebSockets to the node server, the engine's signal
chain, Fresnel fusion and tracker run at 10 ticks a second, events go to the store, and the
report scores every tick against the walkers' true positions (see
:mod:`engine.sim.sensing_score`). Real time: a run takes its duration plus 5 s of calibration.

Scenarios (the sensing issue's targets):

- ``one_walker``: 4 nodes, 1 walker, 5 × 5 × 2.5 m, 60 s, seeds 1–3. Targets: median error
  ≤ 0.5 m, p90 ≤ 1.0 m, presence ≥ 95 %, first blob ≤ 1 s.
- ``two_walkers``: the same room, 2 walkers, seeds 1–2. Target: median ≤ 0.8 m, ID switches
  reported.
- ``site_scale``: 16 nodes (120 links), 10 × 10 × 2.5 m at 0.2 m, 2 walkers, 30 s: the fusion
  tick as the engine runs it (grid, per-track search, explaining away, blobs, tracker).
  Targets: median ≤ 5 ms, p99 ≤ 15 ms. ``fusion_tick_ms`` is wall time in a process that also
  runs the node server and the 16 simulated nodes (all sharing the interpreter lock);
  ``fusion_tick_cpu_ms`` is the fusion thread's own CPU time for the same ticks.

Figures are medians over the runs of each scenario, with every run's figures kept.
``python -m benchmarks.sensing_localisation [--quick]`` (``--quick``: one short run each).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

SCENARIOS: dict[str, dict[str, Any]] = {
    "one_walker": {"nodes": 4, "walkers": 1, "room": "5x5x2.5", "duration": 60, "seeds": [1, 2, 3]},
    "two_walkers": {"nodes": 4, "walkers": 2, "room": "5x5x2.5", "duration": 60, "seeds": [1, 2]},
    "site_scale": {"nodes": 16, "walkers": 2, "room": "10x10x2.5", "duration": 30, "seeds": [1]},
}


def sense_simulate(*arguments: str) -> dict[str, Any]:
    """``watchfloor sense simulate ARGUMENTS --json`` in a child process with a fresh data
    dir and SQLite store; its report."""
    return watchfloor_json("sense", "simulate", *arguments)


def fresh_data_env(tmp: str) -> dict[str, str]:
    """The environment for a child ``watchfloor`` with its data and config in ``tmp``."""
    return {
        **os.environ,
        "WATCHFLOOR_DATA_DIR": tmp,
        "WATCHFLOOR_CONFIG_DIR": tmp,
        "PYTHONPATH": str(REPO),
    }


def watchfloor_json(*arguments: str) -> dict[str, Any]:
    """``watchfloor ARGUMENTS --json`` in a child process with a fresh data dir and SQLite
    store: the last line it prints, as JSON."""
    with tempfile.TemporaryDirectory(prefix="wf-bench-") as tmp:
        env = fresh_data_env(tmp)
        command = [
            sys.executable, "-m", "console", "--db", f"sqlite:///{Path(tmp) / 'bench.db'}",
            *arguments, "--json",
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            what = " ".join(arguments[:2])
            raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr[-2000:]}")
        report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return report


def simulate(nodes: int, walkers: int, room: str, duration: float, seed: int) -> dict[str, Any]:
    return sense_simulate(
        "--nodes", str(nodes), "--walkers", str(walkers), "--room", room,
        "--duration", str(duration), "--seed", str(seed),
    )  # fmt: skip


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def run(quick: bool = False) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, spec in SCENARIOS.items():
        seeds = spec["seeds"][:1] if quick else spec["seeds"]
        duration = 15 if quick else spec["duration"]
        runs = [
            simulate(spec["nodes"], spec["walkers"], spec["room"], duration, seed) for seed in seeds
        ]
        figures[name] = {
            "nodes": spec["nodes"],
            "walkers": spec["walkers"],
            "room_m": spec["room"],
            "duration_s": duration,
            "seeds": seeds,
            "error_median_m": _median([r["error_m"]["median"] for r in runs]),
            "error_p90_m": _median([r["error_m"]["p90"] for r in runs]),
            "presence": _median([r["presence"] for r in runs]),
            "first_blob_s": _median([r["first_blob_s"] for r in runs]),
            "id_switches": [r["id_switches"] for r in runs],
            "blob_ids": [r["blob_ids"] for r in runs],
            "fusion_tick_ms_median": _median([r["fusion_tick_ms"].get("median") for r in runs]),
            "fusion_tick_ms_p99": _median([r["fusion_tick_ms"].get("p99") for r in runs]),
            "fusion_tick_cpu_ms_median": _median(
                [r["fusion_tick_cpu_ms"].get("median") for r in runs]
            ),
            "fusion_tick_cpu_ms_p99": _median([r["fusion_tick_cpu_ms"].get("p99") for r in runs]),
            "frames_received": [r["frames_received"] for r in runs],
            "frames_dropped": [r["frames_dropped"] for r in runs],
            "runs": [
                {
                    "seed": r["seed"],
                    "error_m": r["error_m"],
                    "presence": r["presence"],
                    "within_1m": r["within_1m"],
                    "first_blob_s": r["first_blob_s"],
                    "id_switches": r["id_switches"],
                    "fusion_tick_ms": r["fusion_tick_ms"],
                }
                for r in runs
            ],
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short run per scenario")
    args = parser.parse_args()
    print(json.dumps({"benchmark": "sensing_localisation", **run(args.quick)}))


if __name__ == "__main__":
    main()
