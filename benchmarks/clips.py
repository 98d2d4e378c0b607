"""Event clips on vtest.avi (768×576): how fast the clip writer encodes (H.264 with the
recorder's settings, and the MPEG-4 fallback), what ``ClipRecorder.push`` costs the camera
thread with and without a clip being written, and the pre-event buffer's memory."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.inputs import vtest_path
from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.cv import import_cv2
from engine.frames import Frame, Image
from engine.record import (
    FALLBACK_CODEC,
    PRE_EVENT_S,
    X264_OPTIONS,
    ClipEncoder,
    ClipFinalised,
    ClipRecorder,
    PreEventBuffer,
    select_clip_codec,
)

FPS = 10.0  # vtest.avi's rate; frames are stamped seq / FPS


def _read_frames(count: int) -> list[Image]:
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(vtest_path()), cv2.CAP_FFMPEG)
    images: list[Image] = []
    try:
        while len(images) < count:
            ok, image = capture.read()
            if not ok:
                break
            images.append(image)
    finally:
        capture.release()
    return images


def _encode_fps(images: list[Image], codec_name: str, out: Path, repeats: int) -> dict[str, Any]:
    codec = select_clip_codec(codec_name)
    rates = []
    size = 0
    duration_s = 0.0
    for _ in range(repeats):
        encoder = ClipEncoder(out, codec, FPS)
        start = time.perf_counter()
        for seq, image in enumerate(images):
            encoder.add(image, seq / FPS)
        duration_s = encoder.close().duration_s
        rates.append(len(images) / (time.perf_counter() - start))
        size = out.stat().st_size
        out.unlink()
    return {
        "codec": codec.name,
        "encode_fps_median": round(statistics.median(rates), 1),
        "encode_fps_runs": [round(r, 1) for r in rates],
        "kbit_per_s_at_10fps": round(size * 8 / duration_s / 1000, 1),
    }


def _push_cost_us(
    images: list[Image], root: Path, *, recording: bool, queue_frames: int | None = None
) -> dict[str, Any]:
    """Per-call cost of push() on this thread, in µs: wall time (what the camera thread
    waits, including being preempted by encoder threads on a busy machine) and this
    thread's CPU time (the work push itself does). Frames are pushed back to back: pacing
    them with sleeps would mostly measure cold caches after each sleep (~10 µs for any
    call here). With ``recording`` a clip is open the whole time (activity on every frame)
    so frames also go to the writer's queue while it encodes on another thread; with the
    default queue the writer falls behind and push takes the drop path."""
    bus = EventBus()
    finalised: list[ClipFinalised] = []
    bus.subscribe(ClipFinalised, finalised.append)
    recorder = ClipRecorder(
        "bench",
        None,
        None,
        bus,
        REAL_CLOCK,
        clips_dir=root / "clips",
        media_root=root,
        fps_hint=FPS,
        max_s=len(images) / FPS + 10,
        queue_frames=queue_frames,
    )
    costs_ns: list[int] = []
    cpu_ns: list[int] = []
    start_clip_us = 0.0
    try:
        for seq, image in enumerate(images):
            frame = Frame(seq, image, seq / FPS, FPS)
            begin, begin_cpu = time.perf_counter_ns(), time.thread_time_ns()
            recorder.push(frame)
            cpu_ns.append(time.thread_time_ns() - begin_cpu)
            costs_ns.append(time.perf_counter_ns() - begin)
            if recording:
                begin = time.perf_counter_ns()
                recorder.mark_activity(frame.captured_at)
                if seq == 0:
                    start_clip_us = (time.perf_counter_ns() - begin) / 1000
    finally:
        recorder.close()
    costs_us = sorted(c / 1000 for c in costs_ns)
    figures: dict[str, Any] = {
        "median_us": round(statistics.median(costs_us), 1),
        "p99_us": round(costs_us[int(len(costs_us) * 0.99) - 1], 1),
        "max_us": round(costs_us[-1], 1),
        "cpu_median_us": round(statistics.median(cpu_ns) / 1000, 1),
    }
    if recording:
        figures["mark_activity_opening_clip_us"] = round(start_clip_us, 1)
        figures["frames_dropped"] = recorder.stats().frames_dropped
        figures["clip_frames"] = finalised[0].frames if finalised else 0
    return figures


def run(frames: int = 200, repeats: int = 3) -> dict[str, Any]:
    images = _read_frames(frames)
    height, width = images[0].shape[:2]
    with tempfile.TemporaryDirectory(prefix="wf-bench-clips-") as tmp:
        root = Path(tmp)
        h264 = _encode_fps(images, "libx264", root / "h264.mp4", repeats)
        mpeg4 = _encode_fps(images, FALLBACK_CODEC, root / "mpeg4.mp4", repeats)
        push_idle = _push_cost_us(images, root, recording=False)
        push_recording = _push_cost_us(images, root, recording=True, queue_frames=len(images))
        push_behind = _push_cost_us(images, root, recording=True)
    return {
        "input": str(vtest_path()),
        "frames": len(images),
        "resolution": f"{width}x{height}",
        "x264_options": X264_OPTIONS,
        "h264": h264,
        "mpeg4_fallback": mpeg4,
        "push_idle_us": push_idle,
        "push_recording_us": push_recording,
        "push_recording_writer_behind_us": push_behind,
        "pre_buffer_mb_per_camera_5s_10fps": round(
            PreEventBuffer.estimate_bytes(width, height, FPS, PRE_EVENT_S) / 1e6, 1
        ),
    }
