"""Camera analytics speed.

- ``run_analyze``: ``watchfloor analyze`` on vtest.avi as fast as possible (target ≥ 60 fps).
- ``run_four_cameras``: four cameras at 640×480 and 15 fps (vtest resized, MJPEG), each with
  its own worker running the full pipeline in real time for a while: do they keep up?
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.inputs import vtest_path
from engine.analyze import analyze_video
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


def run_analyze(repeats: int = 2) -> dict[str, Any]:
    runs = [analyze_video(vtest_path(), clock=REAL_CLOCK) for _ in range(repeats)]
    durations = [t["last_s"] - t["first_s"] for t in runs[-1]["tracks"]]
    return {
        "input": str(vtest_path()),
        "frames": runs[-1]["frames"],
        "analysed_fps_runs": [r["analysed_fps"] for r in runs],
        "analysed_fps_median": round(statistics.median(r["analysed_fps"] for r in runs), 1),
        "detector_runs": runs[-1]["detector_runs"],
        "detections": runs[-1]["detections"],
        "tracks": len(durations),
        "track_duration_s_median": round(statistics.median(durations), 1) if durations else 0,
        "tracks_over_10s": sum(d >= 10 for d in durations),
    }


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
