"""Event clips: what recording costs a camera.

- x264 presets and CRFs on vtest.avi (768×576) at 15 fps: CPU ms per frame (one x264
  thread, BGR→I420 included), bit rate and PSNR, the figures behind ``X264_OPTIONS``; and
  the MPEG-4 fallback.
- ``ClipRecorder.push`` on the camera thread, for an encoded camera (vtest: msmpeg4, frames
  go to the camera's encoder thread) and an H.264 camera (Hamilton: packets copied), and the
  pre-event buffer each keeps.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from benchmarks.inputs import hamilton_path, vtest_path
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import CameraConfig, SourceKind
from engine.cv import import_cv2
from engine.frames import Frame, Image
from engine.record import (
    FALLBACK_CODEC,
    X264_OPTIONS,
    ClipCodec,
    ClipRecorder,
    FrameEncoder,
    select_clip_codec,
)
from engine.vision.analysis import FrameAnalysis
from engine.vision.source import CameraSource

FPS = 15.0
SETTINGS = [(p, crf) for p in ("ultrafast", "superfast", "veryfast") for crf in ("23", "26")]


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


def encode_cost(images: list[Image], codec: ClipCodec, fps: float = FPS) -> dict[str, Any]:
    """CPU ms per frame on this thread (x264 runs one thread, on the caller's), bit rate,
    and PSNR of the decoded result against the input (dB)."""
    height, width = images[0].shape[0] & ~1, images[0].shape[1] & ~1
    encoder = FrameEncoder(codec, width, height, fps)
    packets = []
    started = time.thread_time()
    for seq, image in enumerate(images):
        packets += encoder.encode(image, seq / fps, frame_s=1 / fps)
    packets += encoder.flush()
    cpu_s = time.thread_time() - started
    decoder = av.CodecContext.create(encoder.stream.codec, "r")
    assert isinstance(decoder, av.VideoCodecContext)
    decoded = []
    for packet in packets:
        decoded += decoder.decode(av.Packet(packet.data))
    decoded += decoder.decode(None)
    errors = [
        np.mean((frame.to_ndarray(format="bgr24").astype(np.float64) - image[:height, :width]) ** 2)
        for frame, image in zip(decoded, images, strict=False)
    ]
    return {
        "cpu_ms_per_frame": round(1000 * cpu_s / len(images), 2),
        "kbit_per_s": round(sum(len(p.data) for p in packets) * 8 / (len(images) / fps) / 1000),
        "psnr_db": round(float(10 * np.log10(255**2 / np.mean(errors))), 2),
    }


def source_frames(path: Path, limit: int) -> list[Frame]:
    """The first ``limit`` frames a camera source delivers for ``path`` (recording time)."""
    frames: list[Frame] = []

    def keep(frame: Frame) -> FrameAnalysis:
        if len(frames) < limit:
            frames.append(frame)
        return FrameAnalysis(frame.seq, frame.captured_at, (), (), None)

    clock = SimulatedClock()
    camera = CameraConfig("bench", "bench", str(path), SourceKind.FILE, False, None, None)
    source = CameraSource(
        camera, EventBus(), clock, realtime=False, processor=keep, recording_start=clock.now()
    )
    source.start()
    source.wait_ended(120)
    source.stop()
    return frames


def push_cost(frames: list[Frame], root: Path) -> dict[str, Any]:
    """Camera-thread µs per ``push`` (frames back to back, no activity), and what the
    recorder holds afterwards."""
    recorder = ClipRecorder(
        "bench",
        None,
        None,
        EventBus(),
        SimulatedClock(),
        clips_dir=root,
        media_root=root,
        fps_hint=FPS,
    )
    costs_us: list[float] = []
    try:
        for frame in frames:
            started = time.perf_counter_ns()
            recorder.push(frame)
            costs_us.append((time.perf_counter_ns() - started) / 1000)
            time.sleep(0.25 / FPS)  # 4x real time: the encoder keeps up, as with a camera
    finally:
        stats = recorder.stats()
        recorder.close()
    costs_us.sort()
    return {
        "frames": len(frames),
        "push_median_us": round(statistics.median(costs_us), 1),
        "push_p99_us": round(costs_us[int(len(costs_us) * 0.99) - 1], 1),
        **stats.as_dict(),
    }


def run(frames: int = 150) -> dict[str, Any]:
    images = _read_frames(frames)
    presets = {
        f"{preset} crf {crf}": encode_cost(
            images, ClipCodec("libx264", {**X264_OPTIONS, "preset": preset, "crf": crf}, False)
        )
        for preset, crf in SETTINGS
    }
    fallback = encode_cost(images, select_clip_codec(FALLBACK_CODEC))
    with tempfile.TemporaryDirectory(prefix="wf-bench-clips-") as tmp:
        root = Path(tmp)
        encoded = push_cost(source_frames(vtest_path(), 100), root)
        copied = push_cost(source_frames(hamilton_path(), 275), root)
    return {
        "input": str(vtest_path()),
        "resolution": f"{images[0].shape[1]}x{images[0].shape[0]}",
        "x264_options": X264_OPTIONS,
        "x264_at_15fps_zerolatency_one_thread": presets,
        "mpeg4_fallback_at_15fps": fallback,
        "recorder_vtest_encoded": encoded,
        "recorder_hamilton_h264_copied": copied,
    }
