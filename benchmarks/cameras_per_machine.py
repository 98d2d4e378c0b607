"""Cameras per machine: how many IP cameras one machine analyses and records, whole engine on.

Each camera sends a 1080p15 H.264 main stream and a 640×360 sub stream (the pair an IP camera
offers). Three of every four show an empty scene with sensor noise (the plaza without its
walkers, Gaussian noise σ = 3 levels, new each frame); one of four shows people walking
(vtest.avi at its own pace: 10 fps source frames repeated to 15 fps), all recording
continuously. The streams are looping files the engine paces in real time (``loop = true``),
so the engine does what a live camera makes it do, without a network in between.

Each configuration is one ``EngineRuntime`` on a site file, as ``watchfloor engine`` runs it
(store, analysis, faces, clips, continuous recording), in a child process of its own, for the
same wall time. Modes:

- ``paired``: ``url`` = the main stream, ``sub_url`` = the sub stream (streams by role:
  analysis on the sub stream, the main stream's packets recorded without decoding);
- ``single``: ``url`` = the main stream only (how every camera ran before streams by role);
- ``floor``: no engine: one thread per camera decoding its sub stream and demuxing its main
  stream at the camera's pace (PyAV, as the engine opens them), nothing else. What a camera
  cannot cost less than.

A configuration passes when, over the run:

- every camera is analysed at ≥ 90 % of its frame rate (frames analysed / frames sent), and
  every busy camera's detector ran at ≥ 90 % of its detection rate (one run per
  ``DETECT_INTERVAL_S`` while anyone is tracked, as a camera alone does);
- person.appeared events are stored with latency p95 < 1 s (engine clock at the store
  writer's announcement minus the frame's capture time);
- no recording gap on any camera (the continuous recorder's ``gaps``), and every camera's
  segments cover ≥ 95 % of the run.

CPU is read per thread from ``/proc/self/task``: each camera's threads (``camera-ID``,
``record-ID``, ``segment-writer-ID``, ``clip-*-ID``) are that camera's; the rest (store
writer, face worker, FFmpeg's own threads, the interpreter) is shared. Figures: cores for the
whole process, per idle and per busy camera, and the floor's per camera, side by side.

``python -m benchmarks cameras_per_machine`` screens N for each mode with short runs
(``--screen-s``, 120 s), then runs the largest passing N of the paired mode for
``--minutes`` (10) to confirm it. ``--cameras 24 --modes paired --minutes 10`` runs one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from benchmarks.inputs import vtest_path
from engine.cv import import_cv2

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "artifacts" / "cameras_per_machine"
FPS = 15
MAIN_SIZE = (1920, 1080)
SUB_SIZE = (640, 360)
GOP = 2 * FPS  # a keyframe every 2 s, as IP cameras send by default
IDLE_SECONDS = 60  # the idle scene's loop
NOISE_SIGMA = 3.0
BUSY_EVERY = 4  # one camera of four shows people
MIN_FRAME_SHARE = 0.90
MIN_DETECT_SHARE = 0.90
MAX_LATENCY_P95_S = 1.0
MIN_RECORDED_SHARE = 0.95
SCREEN = {"paired": (8, 12, 16, 20, 24, 32), "single": (1, 2, 3, 4, 6)}
TICKS = os.sysconf("SC_CLK_TCK")


# -- inputs -------------------------------------------------------------------------------
def _encoder(container: Any, size: tuple[int, int]) -> Any:
    stream = container.add_stream("libx264", rate=FPS)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.codec_context.gop_size = GOP
    stream.options = {"preset": "veryfast", "crf": "23"}
    return stream


def _write_pair(frames: Any, main: Path, sub: Path) -> None:
    """Encode each BGR frame of ``frames`` (1080p) to ``main`` and, scaled, to ``sub``
    (written beside them and renamed, so a cut run leaves no half file)."""
    cv2 = import_cv2()
    tmp_main, tmp_sub = main.with_suffix(".part.mp4"), sub.with_suffix(".part.mp4")
    with av.open(str(tmp_main), "w") as big, av.open(str(tmp_sub), "w") as small:
        big_stream, small_stream = _encoder(big, MAIN_SIZE), _encoder(small, SUB_SIZE)
        for index, image in enumerate(frames):
            for container, stream, picture in (
                (big, big_stream, image),
                (small, small_stream, cv2.resize(image, SUB_SIZE, interpolation=cv2.INTER_AREA)),
            ):
                frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
                frame.pts, frame.time_base = index, Fraction(1, FPS)
                container.mux(stream.encode(frame))
        big.mux(big_stream.encode(None))
        small.mux(small_stream.encode(None))
    tmp_main.replace(main)
    tmp_sub.replace(sub)


def _vtest_frames() -> list[Any]:
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(vtest_path()))
    images = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    capture.release()
    return images


def inputs() -> dict[str, Path]:
    """The four streams (cached under ``artifacts/``): idle and busy, main and sub."""
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = {
        f"{kind}_{role}": CACHE / f"{kind}_{role}_v1.mp4"
        for kind in ("idle", "busy")
        for role in ("main", "sub")
    }
    cv2 = import_cv2()
    rng = np.random.default_rng(1)

    def noisy(image: Any) -> Any:
        noise = rng.normal(0.0, NOISE_SIGMA, (*image.shape[:2], 1)).astype(np.int16)
        return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)

    if all(path.is_file() for path in paths.values()):
        return paths
    source = _vtest_frames()
    if not (paths["idle_main"].is_file() and paths["idle_sub"].is_file()):
        # The plaza without its walkers: the median of frames spread over the clip.
        empty = np.median(np.stack(source[::8]), axis=0).astype(np.uint8)
        big = cv2.resize(empty, MAIN_SIZE, interpolation=cv2.INTER_CUBIC)
        _write_pair(
            (noisy(big) for _ in range(IDLE_SECONDS * FPS)), paths["idle_main"], paths["idle_sub"]
        )
    if not (paths["busy_main"].is_file() and paths["busy_sub"].is_file()):
        source_fps = 10
        count = len(source) * FPS // source_fps
        _write_pair(
            (noisy(cv2.resize(source[i * source_fps // FPS], MAIN_SIZE)) for i in range(count)),
            paths["busy_main"],
            paths["busy_sub"],
        )
    return paths


# -- per-thread CPU -----------------------------------------------------------------------
def _thread_cpu_s() -> dict[int, float]:
    """CPU seconds (user + system) of each live thread of this process, by native id."""
    times: dict[int, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        times[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    return times


def _camera_of(thread_name: str, cameras: list[str]) -> str | None:
    for camera in cameras:
        if thread_name.endswith(f"-{camera}") and thread_name.startswith(
            ("camera-", "record-", "segment-writer-", "clip-writer-", "clip-encoder-", "floor-")
        ):
            return camera
    return None


def _split_cpu(cameras: list[str], before: dict[int, float]) -> dict[str, float]:
    """CPU seconds since ``before`` per camera (its threads) and ``shared`` (all else)."""
    now = _thread_cpu_s()
    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    split = dict.fromkeys(cameras, 0.0)
    split["shared"] = 0.0
    for tid, seconds in now.items():
        used = seconds - before.get(tid, 0.0)
        camera = _camera_of(names.get(tid, ""), cameras)
        split[camera or "shared"] += used
    return split


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# -- one configuration (child process) ------------------------------------------------------
def _site(folder: Path, mode: str, cameras: int, paths: dict[str, Path]) -> Path:
    lines = ['[site]\nname = "Cameras per machine"\ngeo = { lat = 51.5, lon = -0.14 }\n']
    for i in range(cameras):
        kind = "busy" if i % BUSY_EVERY == 0 else "idle"
        lines.append(f'[[cameras]]\nid = "{kind}{i}"\nurl = "{paths[kind + "_main"]}"\n')
        if mode == "paired":
            lines.append(f'sub_url = "{paths[kind + "_sub"]}"\n')
        lines.append("loop = true\n")
    site = folder / "site.toml"
    site.write_text("".join(lines), encoding="utf-8")
    return site


def engine_child(mode: str, cameras: int, seconds: float) -> dict[str, Any]:
    from engine.config import load_site
    from engine.runtime import EngineRuntime
    from engine.store import Store
    from engine.store.event_views import EventsStored
    from engine.vision.analysis import CADENCE_SLACK_S, DETECT_INTERVAL_S

    folder = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    site = load_site(_site(folder, mode, cameras, inputs()))
    ids = [camera.id for camera in site.cameras]
    store = Store(f"sqlite:///{folder / 'bench.db'}")
    runtime = EngineRuntime(site, store)
    latencies: list[float] = []
    lock = threading.Lock()

    def on_stored(event: EventsStored) -> None:  # the store writer's thread
        now = runtime.clock.now()
        with lock:
            latencies.extend(
                (now - view.ts).total_seconds()
                for view in event.views
                if view.kind == "person.appeared"
            )

    unsubscribe = runtime.bus.subscribe(EventsStored, on_stored)
    before = _thread_cpu_s()
    cpu_start, wall_start = time.process_time(), time.monotonic()
    runtime.start()
    try:
        time.sleep(seconds)
        split = _split_cpu(ids, before)
        cpu_s, wall_s = time.process_time() - cpu_start, time.monotonic() - wall_start
    finally:
        runtime.stop()
        unsubscribe()
        store.close()
    report = runtime.report()  # after stop: each camera's last segment is finished
    per_camera: dict[str, Any] = {}
    for camera_id, camera in report["cameras"].items():
        analysis = camera.get("analysis") or {}
        continuous = (camera.get("recording") or {}).get("continuous") or {}
        per_camera[camera_id] = {
            "busy": camera_id.startswith("busy"),
            "fps": camera["fps"],
            "frames": camera["frames"],
            "online_s": camera["online_seconds"],
            "detector_runs": analysis.get("detector_runs"),
            "detector_deferred": analysis.get("detector_deferred"),
            "tracks_confirmed": analysis.get("tracks_confirmed"),
            "processing_ms_per_frame": analysis.get("processing_ms_per_frame"),
            "recorded_s": continuous.get("recorded_s"),
            "gaps": continuous.get("gaps"),
            "segments_failed": continuous.get("segments_failed"),
            "cores": round(split[camera_id] / wall_s, 3),
        }
    return {
        "mode": mode,
        "cameras": cameras,
        "seconds": round(wall_s, 1),
        # The cadence a camera alone keeps: a run on the first frame at least the
        # interval (less the analyzer's slack) after the last, so every 5th frame at 15 fps.
        "detect_every_s": math.ceil(round((DETECT_INTERVAL_S - CADENCE_SLACK_S) * FPS, 6)) / FPS,
        "cores": round(cpu_s / wall_s, 3),
        "shared_cores": round(split["shared"] / wall_s, 3),
        "latencies_s": [round(x, 3) for x in latencies],
        "per_camera": per_camera,
    }


def floor_child(cameras: int, seconds: float) -> dict[str, Any]:
    """Decode each idle camera's sub stream and demux its main stream at 15 fps, nothing
    else: one thread per camera, as the engine's camera threads read them."""
    paths = inputs()
    ids = [f"idle{i}" for i in range(cameras)]
    stop = threading.Event()
    frames = dict.fromkeys(ids, 0)

    def read(camera: str) -> None:
        sub = av.open(str(paths["idle_sub"]))
        main = av.open(str(paths["idle_main"]))
        sub_stream = sub.streams.video[0]
        sub_stream.thread_type = "SLICE"
        decoded = sub.decode(sub_stream)
        packets = main.demux(main.streams.video[0])
        started = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    next(decoded)
                    next(packets)
                except StopIteration:
                    sub.seek(0)
                    main.seek(0)
                    decoded = sub.decode(sub_stream)
                    packets = main.demux(main.streams.video[0])
                    continue
                frames[camera] += 1
                wait = started + frames[camera] / FPS - time.monotonic()
                if wait > 0:
                    stop.wait(wait)
        finally:
            sub.close()
            main.close()

    before = _thread_cpu_s()
    cpu_start, wall_start = time.process_time(), time.monotonic()
    threads = [threading.Thread(target=read, args=(c,), name=f"floor-{c}") for c in ids]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    split = _split_cpu(ids, before)
    cpu_s, wall_s = time.process_time() - cpu_start, time.monotonic() - wall_start
    stop.set()
    for thread in threads:
        thread.join()
    return {
        "mode": "floor",
        "cameras": cameras,
        "seconds": round(wall_s, 1),
        "cores": round(cpu_s / wall_s, 3),
        "shared_cores": round(split["shared"] / wall_s, 3),
        "per_camera": {
            c: {
                "busy": False,
                "fps": round(frames[c] / wall_s, 2),
                "cores": round(split[c] / wall_s, 3),
            }
            for c in ids
        },
    }


def _run_child(mode: str, cameras: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-bench-per-machine-") as data:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.cameras_per_machine",
                "--child",
                mode,
                str(cameras),
                str(seconds),
            ],
            cwd=REPO,
            env={**os.environ, "WATCHFLOOR_DATA_DIR": data, "WATCHFLOOR_CONFIG_DIR": data},
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"{mode} × {cameras}: child failed ({done.returncode}): {done.stderr[-2000:]}"
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- judging --------------------------------------------------------------------------------
def judge(run: dict[str, Any]) -> dict[str, Any]:
    """Whether ``run`` (an engine child's figures) passes, with the figures that decide it."""
    cams = run["per_camera"].values()
    frame_share = min(c["fps"] / FPS for c in cams)
    busy = [c for c in cams if c["busy"]]
    detect_share = min(
        (c["detector_runs"] * run["detect_every_s"] / c["online_s"] for c in busy), default=1.0
    )
    latencies = run["latencies_s"]
    p95 = _percentile(latencies, 0.95)
    gaps = sum(c["gaps"] or 0 for c in cams)
    recorded = min((c["recorded_s"] or 0.0) / c["online_s"] for c in cams)
    idle = [c["cores"] for c in cams if not c["busy"]]
    busy_cores = [c["cores"] for c in busy]
    verdict = {
        "frame_share_min": round(frame_share, 3),
        "detect_share_min": round(detect_share, 3),
        "person_appeared": len(latencies),
        "latency_p50_s": _percentile(latencies, 0.5),
        "latency_p95_s": p95,
        "latency_max_s": max(latencies, default=None),
        "recording_gaps": gaps,
        "recorded_share_min": round(recorded, 3),
        "detector_deferred_share_max": round(
            max(
                (
                    c["detector_deferred"] / max(1, c["detector_runs"] + c["detector_deferred"])
                    for c in busy
                ),
                default=0.0,
            ),
            3,
        ),
        "cores": run["cores"],
        "shared_cores": run["shared_cores"],
        "cores_per_idle_camera": round(statistics.median(idle), 3) if idle else None,
        "cores_per_busy_camera": round(statistics.median(busy_cores), 3) if busy_cores else None,
    }
    verdict["passed"] = (
        frame_share >= MIN_FRAME_SHARE
        and detect_share >= MIN_DETECT_SHARE
        and (p95 is None or p95 < MAX_LATENCY_P95_S)
        and (p95 is not None or not busy)  # busy cameras must have raised events
        and gaps == 0
        and recorded >= MIN_RECORDED_SHARE
    )
    return verdict


def run(
    minutes: float = 10.0,
    screen_s: float = 120.0,
    modes: tuple[str, ...] = ("paired", "single"),
    cameras: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    inputs()  # encode once, before any timed run
    figures: dict[str, Any] = {
        "main": f"{MAIN_SIZE[0]}x{MAIN_SIZE[1]}@{FPS} H.264",
        "sub": f"{SUB_SIZE[0]}x{SUB_SIZE[1]}@{FPS} H.264",
        "busy_every": BUSY_EVERY,
        "cores_available": os.cpu_count(),
        "modes": {},
    }
    for mode in modes:
        counts = cameras or SCREEN[mode]
        seconds = screen_s if cameras is None else minutes * 60
        results: dict[str, Any] = {}
        best = 0
        for n in counts:
            verdict = judge(_run_child(mode, n, seconds))
            results[str(n)] = verdict
            print(
                f"{mode} × {n} ({seconds:.0f} s): {json.dumps(verdict)}",
                file=sys.stderr,
                flush=True,
            )
            if verdict["passed"]:
                best = max(best, n)
            else:
                break  # more cameras will not pass where fewer did not
        figures["modes"][mode] = {"seconds": seconds, "runs": results, "largest_passing": best}
        if cameras is None and best and mode == "paired":
            confirm = judge(_run_child(mode, best, minutes * 60))
            figures["modes"][mode]["confirmed"] = {"cameras": best, "minutes": minutes, **confirm}
    floor_n = max(1, (max(cameras) if cameras else 24) * (BUSY_EVERY - 1) // BUSY_EVERY)
    floor = _run_child("floor", floor_n, min(screen_s, 60.0))
    floor_cores = statistics.median(c["cores"] for c in floor["per_camera"].values())
    figures["floor"] = {
        "idle_cameras": floor_n,
        "cores": floor["cores"],
        "cores_per_camera": round(floor_cores, 3),
        "fps_min": min(c["fps"] for c in floor["per_camera"].values()),
    }
    for mode_figures in figures["modes"].values():
        for verdict in mode_figures["runs"].values():
            idle = verdict["cores_per_idle_camera"]
            verdict["idle_over_floor"] = (
                round(idle / floor_cores, 2) if idle and floor_cores else None
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", nargs=3, metavar=("MODE", "CAMERAS", "SECONDS"))
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="the confirming run (default 10)"
    )
    parser.add_argument(
        "--screen-s", type=float, default=120.0, help="each screening run (default 120)"
    )
    parser.add_argument("--modes", default="paired,single", help="paired, single (default both)")
    parser.add_argument(
        "--cameras", default="", help="run just these counts for --minutes, e.g. 24"
    )
    args = parser.parse_args()
    if args.child:
        mode, count, seconds = args.child[0], int(args.child[1]), float(args.child[2])
        result = (
            floor_child(count, seconds) if mode == "floor" else engine_child(mode, count, seconds)
        )
        print(json.dumps(result), flush=True)
        return
    figures = run(
        args.minutes,
        args.screen_s,
        tuple(m for m in args.modes.split(",") if m),
        tuple(int(n) for n in args.cameras.split(",") if n) or None,
    )
    print(json.dumps({"benchmark": "cameras_per_machine", **figures}), flush=True)


if __name__ == "__main__":
    main()
