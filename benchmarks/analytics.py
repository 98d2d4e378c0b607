"""Camera analytics speed.

- ``run_analyze``: ``watchfloor analyze`` on vtest.avi as fast as possible, run as the user
  runs it (a child process, store, faces, snapshots and clips on), with the default detector
  (target ≥ 30 analysed fps) and with HOG (≥ 60).
- ``run_four_cameras``: four cameras at 640×480 and 15 fps (vtest resized, MJPEG), each with
  its own worker running the full pipeline in real time for a while: do they keep up?
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
from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.config import CameraConfig, SourceKind
from engine.cv import import_cv2
from engine.vision.analysis import CameraAnalyzer
from engine.vision.pipeline import CameraPipeline
from engine.vision.source import CameraSource

CAMERAS = 4
CAMERA_SIZE = (640, 480)
CAMERA_FPS = 15.0


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


def _camera_clip(folder: Path) -> Path:
    """vtest.avi resized to 640×480 and re-timed to 15 fps (MJPEG, as many IP cameras send)."""
    cv2 = import_cv2()
    target = folder / "camera_640x480_15fps.avi"
    capture = cv2.VideoCapture(str(vtest_path()))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"MJPG"), CAMERA_FPS, CAMERA_SIZE)
    while True:
        ok, image = capture.read()
        if not ok:
            break
        writer.write(cv2.resize(image, CAMERA_SIZE, interpolation=cv2.INTER_AREA))
    writer.release()
    capture.release()
    return target


def run_four_cameras(seconds: float = 20.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-bench-") as tmp:
        clip = _camera_clip(Path(tmp))
        bus = EventBus()
        sources = []
        for index in range(CAMERAS):
            camera = CameraConfig(
                f"cam{index}", f"Camera {index}", str(clip), SourceKind.FILE, True, None, None
            )
            pipeline = CameraPipeline(CameraAnalyzer(camera.id, bus, REAL_CLOCK))
            sources.append(CameraSource(camera, bus, REAL_CLOCK, processor=pipeline.process))
        for source in sources:
            source.start()
        time.sleep(seconds)
        stats = [source.stats() for source in sources]
        for source in sources:
            source.stop()
    fps = [s.frames / s.online_seconds for s in stats if s.online_seconds > 0]
    return {
        "cameras": CAMERAS,
        "size": list(CAMERA_SIZE),
        "target_fps": CAMERA_FPS,
        "seconds": seconds,
        "fps_per_camera": [round(f, 2) for f in fps],
        "processing_ms_per_frame": [round(s.processing_ms, 2) for s in stats],
        "kept_up": len(fps) == CAMERAS and min(fps) >= 0.97 * CAMERA_FPS,
    }
