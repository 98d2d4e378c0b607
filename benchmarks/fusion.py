"""One person across camera, WiFi sensing and BLE, on the path a user runs:
``watchfloor fusion simulate`` (issue 37).

Each run is a child process of ``watchfloor fusion simulate --json`` with a fresh data dir
and SQLite store: the real engine (store, writer, the YOLOv3-tiny detector and tracker on
the simulated camera's rendered pictures, faces, clips, alerts, two simulated sensing rooms
with their node servers over loopback WebSockets, the fusion service) runs the shipped
walkthrough site (``resources/walkthrough_site.toml``: a lobby watched by one camera, a store
room next to it that no camera sees, three walkers, the lobby's nodes hearing their BLE
tags). The camera is first calibrated from the floor markers its picture shows, clicked
with 2 px of scatter, as an admin would.

Figures, summed over the seeds (see :mod:`engine.sim.fusion_score` for each):

- calibration: the error against the truth over the floor the camera sees (median of the
  runs' medians; target ≤ 0.3 m), and the leave-one-out error the admin is shown;
- track-blob pairs: of the moments a walker had both a camera track and a blob of their
  own, the share the fusion had joined (``joined_right_share``) and joined under the
  walker's name (``right_identity_share``; target ≥ 90 %);
- joins: the share of joined (track, blob) pairs that were two walkers', by update
  (``wrong_join_share``) and by distinct pair (``pairs_wrong_share``; target < 2 %), and the
  share that were one walker's under their name (``join_identity_share``: the ≥ 90 % target
  read as the pairs the fusion made);
- names kept in the room without a camera (``name_kept_share``), and 4 s after a named
  walker walked into it empty (``name_kept_entering_empty``) or with someone in it.

``python -m benchmarks.fusion [--quick]`` (``--quick``: one 60 s run).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from benchmarks.sensing_localisation import watchfloor_json
from engine.sim.fusion_score import summary

REPO = Path(__file__).resolve().parents[1]
SEEDS = (7, 11, 23)
DURATION_S = 150.0


def fusion_simulate(*arguments: str) -> dict[str, Any]:
    """``watchfloor fusion simulate ARGUMENTS --json`` in a child process with a fresh data
    dir and SQLite store; its report."""
    return watchfloor_json("fusion", "simulate", *arguments)


def run(quick: bool = False) -> dict[str, Any]:
    seeds = SEEDS[:1] if quick else SEEDS
    duration = 60.0 if quick else DURATION_S
    runs = [fusion_simulate("--seed", str(seed), "--duration", str(duration)) for seed in seeds]
    calibrations = [cal for r in runs for cal in r["calibration"].values()]
    truth = [c["truth_median_m"] for c in calibrations if c["truth_median_m"] is not None]
    shown = [c["leave_one_out_median_m"] for c in calibrations if c["leave_one_out_median_m"]]
    fused = summary([r["fusion"] for r in runs])
    pairs = sum(r["fusion"]["pairs_joined"] for r in runs)
    pairs_wrong = sum(r["fusion"]["pairs_wrong"] for r in runs)
    joined_right = sum(r["fusion"]["joined_right"] for r in runs)
    return {
        "seeds": list(seeds),
        "duration_s": duration,
        "walkers": runs[0]["walkers"],
        "calibration_truth_median_m": round(statistics.median(truth), 3) if truth else None,
        "calibration_shown_median_m": round(statistics.median(shown), 3) if shown else None,
        "calibration_target_m": 0.3,
        **fused,
        "joined_right": joined_right,
        "joined_right_share": (
            round(joined_right / fused["pair_opportunities"], 4)
            if fused["pair_opportunities"]
            else None
        ),
        "pairs_joined": pairs,
        "pairs_wrong": pairs_wrong,
        "pairs_wrong_share": round(pairs_wrong / pairs, 4) if pairs else None,
        "right_identity_target": 0.9,
        "wrong_join_target": 0.02,
        "stored": [r["stored"] for r in runs],
        "camera_fps": [cam["fps"] for r in runs for cam in r["cameras"].values()],
        "per_run": [
            {
                "seed": r["seed"],
                "right_identity_share": r["fusion"]["right_identity_share"],
                "joined_right_share": r["fusion"]["joined_right_share"],
                "wrong_join_share": r["fusion"]["wrong_join_share"],
                "join_identity_share": r["fusion"]["join_identity_share"],
                "pairs_wrong": f"{r['fusion']['pairs_wrong']}/{r['fusion']['pairs_joined']}",
                "name_kept": r["fusion"]["name_kept_in_room_without_camera"],
                "name_kept_entering_empty": r["fusion"]["name_kept_entering_empty"],
            }
            for r in runs
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(quick=args.quick), indent=2))


if __name__ == "__main__":
    main()
