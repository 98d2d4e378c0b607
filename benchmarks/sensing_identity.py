"""BLE identities on the path a user runs: ``watchfloor sense simulate --ble``.

Each run is a child process of ``watchfloor sense simulate --ble`` with a fresh SQLite store:
the simulated walkers carry BLE tags ("Walker 1", …) whose RSSI the simulated nodes report in
``ble`` messages every 5 s (spaxel's firmware interval; path loss −65 dBm at 1 m, exponent 2.5,
4 dB scatter), over the same loopback WebSockets as their CSI, and the engine names the blobs
(see :mod:`engine.sim.sensing_score`, ``IdentityScorer``).

Scenarios:

- ``one_walker``: 4 nodes, 1 walker, 5 × 5 × 2.5 m, 20 s, seeds 1–20. Targets: the walker's
  blob shows the right name within 10 s in ≥ 95 % of the runs; never a wrong name for more
  than 2 s.
- ``two_walkers``: the same room, 2 walkers, 30 s, seeds 1–5 (reported, no target: the
  tracker shows two walkers closer than about 1.5 m as one blob and its id follows either).

``python -m benchmarks.sensing_identity [--quick]`` (``--quick``: 3 runs of the first).
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from benchmarks.sensing_localisation import sense_simulate

SCENARIOS: dict[str, dict[str, Any]] = {
    "one_walker": {"walkers": 1, "duration": 20, "seeds": list(range(1, 21))},
    "two_walkers": {"walkers": 2, "duration": 30, "seeds": list(range(1, 6))},
}


def simulate(walkers: int, duration: float, seed: int) -> dict[str, Any]:
    return sense_simulate(
        "--ble", "--nodes", "4", "--walkers", str(walkers), "--duration", str(duration),
        "--seed", str(seed),
    )  # fmt: skip


def run(quick: bool = False) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, spec in SCENARIOS.items():
        if quick and name != "one_walker":
            continue
        seeds = spec["seeds"][:3] if quick else spec["seeds"]
        runs = [simulate(spec["walkers"], spec["duration"], seed) for seed in seeds]
        named = [
            t for r in runs for t in r["identity"]["time_to_name_s"].values()
        ]  # one per walker per run
        within = [t for t in named if t is not None and t <= 10.0]
        wrong = [r["identity"]["longest_wrong_name_s"] for r in runs]
        figures[name] = {
            "walkers": spec["walkers"],
            "duration_s": spec["duration"],
            "seeds": seeds,
            "named_within_10s": f"{len(within)}/{len(named)}",
            "named_within_10s_share": round(len(within) / max(len(named), 1), 3),
            "time_to_name_s_median": (
                statistics.median(t for t in named if t is not None)
                if any(t is not None for t in named)
                else None
            ),
            "time_to_name_s_max": max((t for t in named if t is not None), default=None),
            "never_named": sum(t is None for t in named),
            "longest_wrong_name_s_max": max(wrong),
            "runs_wrong_over_2s": sum(w > 2.0 for w in wrong),
            "named_share_median": statistics.median(r["identity"]["named_share"] for r in runs),
            "runs": [{"seed": r["seed"], **r["identity"]} for r in runs],
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three runs of one walker")
    args = parser.parse_args()
    print(json.dumps({"benchmark": "sensing_identity", **run(args.quick)}))


if __name__ == "__main__":
    main()
