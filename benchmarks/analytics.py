"""Camera analytics speed.

- ``run_analyze``: ``watchfloor analyze`` on vtest.avi as fast as possible, run as the user
  runs it (a child process, store, faces, snapshots and clips on), with the default detector
  (target ≥ 30 analysed fps) and with HOG (≥ 60).

Four cameras in real time (with recording, RSS per camera): ``benchmarks/four_cameras.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.inputs import vtest_path


def _analyze_command(video: Path, folder: Path, detector: str | None) -> dict[str, Any]:
    """``watchfloor analyze VIDEO --json`` in a child process, as a user runs it: a fresh
    SQLite database and data dir, store, faces, snapshots and clips on. Returns its report
    with the command's own wall time added."""
    folder.mkdir(parents=True)
    env = {**os.environ, "WATCHFLOOR_DATA_DIR": str(folder)}
    command = [sys.executable, "-m", "console.cli", "--db", f"sqlite:///{folder / 'wf.db'}"]
    command += ["analyze", str(video), "--json"]
    if detector is not None:
        command += ["--detector", detector]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    report["command_s"] = round(wall, 2)
    return report


def run_analyze(repeats: int = 3) -> dict[str, Any]:
    """The default detector and HOG, alternated run by run so both see the same machine."""
    video = vtest_path()
    runs: dict[str, list[dict[str, Any]]] = {"default": [], "hog": []}
    with tempfile.TemporaryDirectory(prefix="wf-bench-analyze-") as tmp:
        for repeat in range(repeats):
            for name in runs:
                folder = Path(tmp) / f"{name}-{repeat}"
                runs[name].append(
                    _analyze_command(video, folder, None if name == "default" else name)
                )
    figures: dict[str, Any] = {
        "input": str(video),
        "path": "watchfloor analyze (store, faces, snapshots, clips)",
    }
    for name, reports in runs.items():
        last = reports[-1]
        durations = [t["last_s"] - t["first_s"] for t in last["tracks"]]
        figures[name] = {
            "detector": last["detector"],
            "frames": last["frames"],
            "analysed_fps_runs": [r["analysed_fps"] for r in reports],
            "analysed_fps_median": round(statistics.median(r["analysed_fps"] for r in reports), 1),
            "command_s_median": round(statistics.median(r["command_s"] for r in reports), 2),
            "detector_runs": last["detector_runs"],
            "detections": last["detections"],
            "tracks": len(durations),
            "clips": len(last["clips"]),
            "events_written": last["events_written"],
            "face_crops": last["faces"]["crops"],
        }
    return figures
