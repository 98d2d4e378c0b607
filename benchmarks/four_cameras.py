"""Memory and real-time throughput of recording cameras, with the full pipeline.

- Four 640×480 cameras at 15 fps running the whole engine in real time (store, analysis,
  faces, clips: ``EngineRuntime`` on a site file, as ``watchfloor engine`` runs it): fps
  achieved per camera, once as H.264 cameras (packets copied into clips) and once as MJPEG
  cameras (frames encoded by the recorder), each in a fresh process.
- RSS per extra camera: the same with one camera, in its own process; (RSS with four − RSS
  with one) / 3.
- A 1080p15 camera's pre-event buffer in bytes (target ≤ 30 MB; raw frames took 467 MB):
  encoded here (Hamilton scaled up to 1920×1080), and copied from a 1080p H.264 stream.

Each engine run is a child process (``python -m benchmarks.four_cameras --child ...``) so
the RSS figures are its own; they run one after another.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from benchmarks.clips import source_frames
from benchmarks.inputs import hamilton_path, vtest_path
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.cv import import_cv2
from engine.frames import Frame, Image
from engine.record import PRE_EVENT_S, ClipRecorder

CAMERAS = 4
CAMERA_SIZE = (640, 480)
CAMERA_FPS = 15
HD_SIZE = (1920, 1080)
CAMERA_GOP_S = 2  # a typical IP camera's keyframe interval
REPO = Path(__file__).resolve().parents[1]


def _camera_file(folder: Path, source: Path, size: tuple[int, int], codec: str) -> Path:
    """``source`` resized to ``size`` and re-timed to 15 fps, as a camera sends it: H.264
    (veryfast crf 23, a keyframe every 2 s, in MP4) or MJPEG (in AVI)."""
    cv2 = import_cv2()
    suffix = "mp4" if codec == "h264" else "avi"
    target = folder / f"camera_{size[0]}x{size[1]}_{codec}.{suffix}"
    capture = cv2.VideoCapture(str(source))
    with av.open(str(target), "w") as container:
        stream = container.add_stream("libx264" if codec == "h264" else "mjpeg", rate=CAMERA_FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p" if codec == "h264" else "yuvj420p"
        stream.codec_context.gop_size = CAMERA_GOP_S * CAMERA_FPS
        stream.options = {"preset": "veryfast", "crf": "23"} if codec == "h264" else {}
        index = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            frame = av.VideoFrame.from_ndarray(
                cv2.resize(image, size, interpolation=cv2.INTER_AREA), format="bgr24"
            )
            frame.pts, frame.time_base = index, Fraction(1, CAMERA_FPS)
            container.mux(stream.encode(frame))
            index += 1
        container.mux(stream.encode(None))
    capture.release()
    return target


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return round(fields.get("VmRSS", 0.0), 1), round(fields.get("VmHWM", 0.0), 1)


def child(video: Path, cameras: int, seconds: float, detector: str = "") -> dict[str, Any]:
    """One engine run (in this process): ``cameras`` cameras playing ``video`` in real time
    with everything on, for ``seconds``; ``detector``: the site's people detector (empty:
    the default)."""
    from engine.config import load_site
    from engine.runtime import EngineRuntime
    from engine.store import Store

    folder = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    site = folder / "site.toml"
    site.write_text(
        '[site]\nname = "bench"\ngeo = { lat = 51.5, lon = -0.14 }\n'
        + (f'[analytics]\ndetector = "{detector}"\n' if detector else "")
        + "".join(
            f'[[cameras]]\nid = "cam{i}"\nurl = "{video}"\nloop = true\n' for i in range(cameras)
        ),
        encoding="utf-8",
    )
    store = Store(f"sqlite:///{folder / 'bench.db'}")
    runtime = EngineRuntime(load_site(site), store)
    cpu_start, wall_start = time.process_time(), time.monotonic()
    runtime.start()
    try:
        time.sleep(seconds)
        report = runtime.report()
        rss_mb, peak_mb = _rss_mb()
        cpu_s, wall_s = time.process_time() - cpu_start, time.monotonic() - wall_start
    finally:
        runtime.stop()
        store.close()
    cams = report["cameras"]
    return {
        "cameras": cameras,
        "detector": runtime.site.detector,
        "fps_per_camera": [c["fps"] for c in cams.values()],
        "processing_ms_per_frame": [
            c["analysis"]["processing_ms_per_frame"] if c["analysis"] else None
            for c in cams.values()
        ],
        "recording": {
            key: [c["recording"][key] if c["recording"] else None for c in cams.values()]
            for key in (
                "stream_copy",
                "pre_buffer_bytes",
                "pre_buffer_s",
                "encode_ms_per_frame",
                "encoder_frames_dropped",
                "clips_finalised",
            )
        },
        "cpu_cores_used": round(cpu_s / wall_s, 2),
        "rss_mb": rss_mb,
        "peak_rss_mb": peak_mb,
    }


def _run_child(video: Path, cameras: int, seconds: float, detector: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-bench-engine-") as data:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.four_cameras",
                "--child",
                str(video),
                str(cameras),
                str(seconds),
                detector,
            ],
            cwd=REPO,
            env={**os.environ, "WATCHFLOOR_DATA_DIR": data, "WATCHFLOOR_CONFIG_DIR": data},
            capture_output=True,
            text=True,
            check=True,
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def hd_pre_buffer(folder: Path, seconds: float = 8.0) -> dict[str, Any]:
    """The pre-event buffer of one 1080p15 camera after ``seconds``: frames encoded by the
    recorder, and a 1080p H.264 camera's packets copied."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(hamilton_path()))
    images: list[Image] = []
    while len(images) < seconds * CAMERA_FPS:
        ok, image = capture.read()
        if not ok:
            break
        images.append(cv2.resize(image, HD_SIZE))
    capture.release()
    encoded = _buffer_after(
        [Frame(i, image, i / CAMERA_FPS, CAMERA_FPS) for i, image in enumerate(images)], folder
    )
    # Scaled-up footage is smoother than a real 1080p sensor's: add sensor-like noise
    # (Gaussian, σ = 8 levels, new each frame: a dim scene) for a pessimistic figure.
    rng = np.random.default_rng(7)
    noisy_encoded = _buffer_after(
        (
            Frame(
                i,
                np.clip(image + rng.normal(0.0, 8.0, image.shape), 0, 255).astype(np.uint8),
                i / CAMERA_FPS,
                CAMERA_FPS,
            )
            for i, image in enumerate(images)
        ),
        folder,
    )
    del images
    h264 = _camera_file(folder, hamilton_path(), HD_SIZE, "h264")
    copied_frames = source_frames(h264, round(seconds * CAMERA_FPS))
    copied = _buffer_after(copied_frames, folder)
    raw = HD_SIZE[0] * HD_SIZE[1] * 3 * (round(PRE_EVENT_S * CAMERA_FPS) + 1)
    return {
        "seconds_fed": seconds,
        "encoded_here": encoded,
        "encoded_here_with_sensor_noise": noisy_encoded,
        "copied_from_h264_camera_veryfast_crf23": copied,
        "raw_frames_before_mb": round(raw / 1e6, 1),
    }


def _buffer_after(frames: Iterable[Frame], folder: Path) -> dict[str, Any]:
    recorder = ClipRecorder(
        "hd",
        None,
        None,
        EventBus(),
        SimulatedClock(),
        clips_dir=folder,
        media_root=folder,
        fps_hint=CAMERA_FPS,
        blocking=True,
    )
    pushed = 0
    try:
        for frame in frames:
            recorder.push(frame)
            pushed += 1
        deadline = time.monotonic() + 120
        while not recorder.stats().stream_copy and recorder.stats().frames_encoded < pushed:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        stats = recorder.stats()
    finally:
        recorder.close()
    return {
        "pre_buffer_mb": round(stats.pre_buffer_bytes / 1e6, 2),
        "pre_buffer_s": round(stats.pre_buffer_s, 2),
        "mbit_per_s": round(stats.pre_buffer_bytes * 8 / stats.pre_buffer_s / 1e6, 2)
        if stats.pre_buffer_s
        else 0.0,
        "encode_ms_per_frame": round(stats.encode_ms_per_frame, 1),
    }


def run(seconds: float = 20.0, detector: str = "") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-bench-cameras-") as tmp:
        folder = Path(tmp)
        h264 = _camera_file(folder, vtest_path(), CAMERA_SIZE, "h264")
        mjpeg = _camera_file(folder, vtest_path(), CAMERA_SIZE, "mjpeg")
        runs = {
            "h264_one": _run_child(h264, 1, seconds, detector),
            "h264_four": _run_child(h264, CAMERAS, seconds, detector),
            "mjpeg_one": _run_child(mjpeg, 1, seconds, detector),
            "mjpeg_four": _run_child(mjpeg, CAMERAS, seconds, detector),
        }
        hd = hd_pre_buffer(folder)
    figures: dict[str, Any] = {
        "size": list(CAMERA_SIZE),
        "target_fps": CAMERA_FPS,
        "seconds": seconds,
        "detector": runs["h264_four"]["detector"],
    }
    for kind in ("h264", "mjpeg"):
        one, four = runs[f"{kind}_one"], runs[f"{kind}_four"]
        fps = four["fps_per_camera"]
        figures[f"{kind}_cameras"] = {
            "fps_per_camera": fps,
            "kept_up": len(fps) == CAMERAS and min(fps) >= 0.97 * CAMERA_FPS,
            "rss_mb_one_camera": one["rss_mb"],
            "rss_mb_four_cameras": four["rss_mb"],
            "rss_mb_per_extra_camera": round((four["rss_mb"] - one["rss_mb"]) / (CAMERAS - 1), 1),
            "runs": {"one": one, "four": four},
        }
    figures["pre_buffer_1080p15"] = hd
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=4, metavar=("VIDEO", "CAMERAS", "SECONDS", "DETECTOR"))
    parser.add_argument("--seconds", type=float, default=20.0, help="each engine run")
    parser.add_argument("--detector", default="", help="people detector (default: the site's)")
    args = parser.parse_args()
    if args.child:
        video, cameras, seconds, detector = args.child
        figures = child(Path(video), int(cameras), float(seconds), detector)
        print(json.dumps(figures), flush=True)
    else:
        figures = run(args.seconds, args.detector)
        print(json.dumps({"benchmark": "four_cameras_recording", **figures}), flush=True)


if __name__ == "__main__":
    main()
