"""What recognising gestures costs a camera: ``watchfloor analyze`` with gestures taught
against the same command with none, on the same videos, side by side in one run.

Run as the user runs it: a child process per analysis with a fresh SQLite database and data
dir, store, faces, snapshots and clips on. In the *taught* runs the database first gets five
gestures (three examples each, 30 frames of 33 landmarks in x, y, z: arm waves, raises, a
point, a call for help, a clap drawn on a standing skeleton, normalised as taught ones are),
so every tracked person tall enough is posed at up to 10 Hz and matched; in the *none* runs
nothing is taught and no pose runs. The variants alternate run by run so both see the same machine
(a shared one: figures are medians over the rounds).

Per video:

- ``added_ms_per_person_frame``: the analysis's extra wall time with gestures taught, per
  tracked person per analysed frame (target ≤ 20 ms). The pose runs on the gesture worker's
  thread beside the camera's, so on a machine with a free core this is less than the pose's
  own cost;
- ``pose_ms_per_crop``: the worker's time per pose estimate (MediaPipe, wall time inside the
  call, so it grows when the cores are busy); ``pose_ms_per_person_frame``: that cost
  spread over every tracked person-frame (the work the worker does, whether or not it
  overlaps with the camera's); ``landmarkers``/``landmarker_ms``: per-track landmarkers
  made and the time that took (at most 8 at once; reused when tracks end);
- ``realtime_factor``: processing time over the video's duration with gestures taught (< 1:
  the camera keeps up with its frames; a live camera would never wait: its worker drops
  crops instead).

``python -m benchmarks.gesture_cost`` or ``python -m benchmarks gesture_cost``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.inputs import SHARED_VTEST, hamilton_path, vtest_path
from engine.access import Actor, Role
from engine.gestures.library import TeachGesture
from engine.gestures.sequence import (
    LANDMARKS,
    LEFT_HIP,
    LEFT_SHOULDER,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    SEQUENCE_FRAMES,
    normalise,
)
from engine.store import Store
from engine.store.writer import StoreWriter

ROUNDS = 3
TARGET_MS = 20.0
GESTURES = ("wave", "raise", "point", "help", "clap")
EXAMPLES = 3
ADMIN = Actor("bench", frozenset({Role.ADMIN}))
R_ELBOW, R_WRIST, L_ELBOW, L_WRIST = 14, 16, 13, 15


def _gesture(kind: str, seed: int) -> np.ndarray:
    """One repetition of ``kind``: 30 frames of a standing skeleton (1 unit hips to
    shoulders, y down) whose arms or body follow the gesture's path, a little jittered."""
    rng = np.random.default_rng(seed)
    pose = rng.normal(0.0, 0.02, (LANDMARKS, 3))
    pose[:, 1] -= 1.2
    pose[LEFT_SHOULDER, :2], pose[RIGHT_SHOULDER, :2] = (0.25, -1.0), (-0.25, -1.0)
    pose[LEFT_HIP, :2], pose[RIGHT_HIP, :2] = (0.15, 0.0), (-0.15, 0.0)
    pose[L_ELBOW, :2], pose[L_WRIST, :2] = (0.3, -0.55), (0.3, -0.1)
    pose[R_ELBOW, :2], pose[R_WRIST, :2] = (-0.3, -0.55), (-0.3, -0.1)
    frames = np.repeat(pose[None], SEQUENCE_FRAMES, axis=0)
    warp = rng.uniform(0.8, 1.25)
    for f, p in enumerate(np.linspace(0.0, 1.0, SEQUENCE_FRAMES) ** warp):
        if kind == "wave":
            frames[f, R_ELBOW, :2] = (-0.45, -1.1)
            frames[f, R_WRIST, :2] = (-0.45 + 0.3 * math.sin(4 * math.pi * p), -1.6)
        elif kind == "raise":
            frames[f, R_WRIST, :2] = (-0.3 - 0.2 * math.sin(math.pi * p), -0.1 - 1.7 * p)
            frames[f, R_ELBOW, :2] = (-0.3 - 0.15 * math.sin(math.pi * p), -0.55 - 0.5 * p)
        elif kind == "point":  # the right arm out to the side and back
            reach = math.sin(math.pi * p)
            frames[f, R_ELBOW, :2] = (-0.3 - 0.35 * reach, -0.55 - 0.4 * reach)
            frames[f, R_WRIST, :2] = (-0.3 - 0.75 * reach, -0.1 - 0.85 * reach)
        elif kind == "help":  # both arms up, the hands swinging across above the head
            swing = 0.25 * math.sin(4 * math.pi * p)
            frames[f, L_ELBOW, :2], frames[f, R_ELBOW, :2] = (0.45, -1.4), (-0.45, -1.4)
            frames[f, L_WRIST, :2], frames[f, R_WRIST, :2] = (swing, -1.9), (-swing, -1.9)
        elif kind == "clap":
            gap = 0.05 + 0.25 * (1 + math.cos(6 * math.pi * p)) / 2
            frames[f, L_WRIST, :2], frames[f, R_WRIST, :2] = (gap, -0.9), (-gap, -0.9)
            frames[f, L_ELBOW, :2], frames[f, R_ELBOW, :2] = (0.35, -0.7), (-0.35, -0.7)
    frames += rng.normal(0.0, 0.015, frames.shape)
    return frames * rng.uniform(40, 400)


def _teach(database: str) -> None:
    """Teach :data:`GESTURES` into the database as an admin would (the store's command)."""
    store = Store(database)
    try:
        with StoreWriter.running(store) as writer:
            for index, kind in enumerate(GESTURES):
                writer.execute(
                    TeachGesture(
                        name=kind,
                        examples=tuple(
                            normalise(_gesture(kind, 10 * index + n)) for n in range(EXAMPLES)
                        ),
                        durations_s=tuple(1.0 + 0.1 * n for n in range(EXAMPLES)),
                        sources=tuple(f"bench-{kind}-{n}" for n in range(EXAMPLES)),
                        at=datetime.now(UTC),
                        actor=ADMIN,
                    )
                )
    finally:
        store.close()


def _analyze(video: Path, folder: Path, taught: bool) -> dict[str, Any]:
    """``watchfloor analyze VIDEO --json`` in a child process with a fresh database and data
    dir (gestures taught first, or none). Returns its report and the command's wall time."""
    folder.mkdir(parents=True)
    database = f"sqlite:///{folder / 'wf.db'}"
    env = {**os.environ, "WATCHFLOOR_DATA_DIR": str(folder)}
    if taught:
        _teach(database)
    command = [sys.executable, "-m", "console.cli", "--db", database, "analyze", str(video)]
    command.append("--json")
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    report["command_s"] = round(wall, 2)
    return report


def _person_frames(report: dict[str, Any]) -> int:
    """Tracked person × analysed frame pairs: each confirmed track's frames."""
    return sum(t["last_frame"] - t["first_frame"] + 1 for t in report["tracks"])


def _video_figures(video: Path, rounds: int, folder: Path) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"none": [], "taught": []}
    for round_ in range(rounds):
        for name in runs:
            runs[name].append(
                _analyze(video, folder / f"{video.stem}-{name}-{round_}", name == "taught")
            )
    none, taught = runs["none"], runs["taught"]
    duration_s = taught[-1]["frames"] / taught[-1]["fps"]
    elapsed = {
        name: statistics.median(r["elapsed_s"] for r in reports) for name, reports in runs.items()
    }
    person_frames = statistics.median(_person_frames(r) for r in none)
    poses = statistics.median(r["gestures"]["poses_estimated"] for r in taught)
    pose_ms = statistics.median(r["gestures"]["pose_ms_per_crop"] for r in taught)
    added_ms = 1000.0 * (elapsed["taught"] - elapsed["none"]) / max(person_frames, 1)
    return {
        "video": str(video),
        "frames": taught[-1]["frames"],
        "duration_s": round(duration_s, 2),
        "person_frames": int(person_frames),
        "people_per_frame": round(person_frames / max(taught[-1]["frames"], 1), 2),
        "elapsed_s_none_runs": [r["elapsed_s"] for r in none],
        "elapsed_s_taught_runs": [r["elapsed_s"] for r in taught],
        "elapsed_s_none": round(elapsed["none"], 2),
        "elapsed_s_taught": round(elapsed["taught"], 2),
        "analysed_fps_none": round(taught[-1]["frames"] / elapsed["none"], 1),
        "analysed_fps_taught": round(taught[-1]["frames"] / elapsed["taught"], 1),
        "added_ms_per_person_frame": round(added_ms, 2),
        "poses_estimated": int(poses),
        "posed_share_of_person_frames": round(poses / max(person_frames, 1), 2),
        "poses_found_share": round(
            statistics.median(
                r["gestures"]["poses_found"] / max(r["gestures"]["poses_estimated"], 1)
                for r in taught
            ),
            2,
        ),
        "pose_ms_per_crop_runs": [r["gestures"]["pose_ms_per_crop"] for r in taught],
        "pose_ms_per_crop": pose_ms,
        "pose_ms_per_person_frame": round(pose_ms * poses / max(person_frames, 1), 2),
        "landmarkers": statistics.median(r["gestures"]["landmarkers"] for r in taught),
        "landmarker_ms": statistics.median(r["gestures"]["landmarker_ms"] for r in taught),
        "detections": statistics.median(len(r["gestures"]["detections"]) for r in taught),
        "realtime_factor": round(elapsed["taught"] / duration_s, 2),
        "real_time": elapsed["taught"] <= duration_s,
        "meets_target": added_ms <= TARGET_MS,
    }


def run(rounds: int = ROUNDS) -> dict[str, Any]:
    videos = [SHARED_VTEST if SHARED_VTEST.exists() else vtest_path(), hamilton_path()]
    figures: dict[str, Any] = {
        "path": "watchfloor analyze (store, faces, snapshots, clips), gestures taught vs none",
        "gestures_taught": len(GESTURES),
        "rounds": rounds,
        "target_added_ms_per_person_frame": TARGET_MS,
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="wf-bench-gestures-") as tmp:
        for video in videos:
            figures[video.stem] = _video_figures(video, rounds, Path(tmp))
    return figures


if __name__ == "__main__":
    print(json.dumps(run()))
