"""Analysing a video file end to end (``watchfloor analyze``): decode on one thread,
analyse on another, events to the store, and a report of what was found."""

from __future__ import annotations

import queue
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.bus import EventBus
from engine.clock import Clock
from engine.identity.faces_store import FaceMemory
from engine.paths import data_dir
from engine.store.database import Store
from engine.store.sites import RegisterVideoCamera
from engine.store.writer import StoreWriter
from engine.vision.analysis import DETECT_EVERY_FRAMES, CameraAnalyzer, FrameAnalysis
from engine.vision.clips import ClipFinalised, ClipRecorder
from engine.vision.cv import import_cv2
from engine.vision.detect import make_detector
from engine.vision.face_worker import FaceWorker
from engine.vision.pipeline import CameraPipeline

Image = npt.NDArray[np.uint8]

DECODE_QUEUE_FRAMES = 16
TRUNCATION_TOLERANCE_S = (
    1.0  # stream time short of the declared duration that still counts as the end
)


class VideoAnalysisError(Exception):
    """The video cannot be analysed at all (missing, unreadable, not a video)."""


@dataclass(frozen=True, slots=True)
class _Decoded:
    index: int
    t: float
    image: Image


@dataclass(frozen=True, slots=True)
class _End:
    error: str | None


def analyze_video(
    path: Path,
    *,
    clock: Clock,
    store: Store | None = None,
    realtime: bool = False,
    detect_every: int = DETECT_EVERY_FRAMES,
    camera: str | None = None,
    snapshots: bool = True,
    faces: bool = True,
    clips: bool = True,
    detector_model: Path | None = None,
) -> dict[str, Any]:
    """Run the full camera pipeline over ``path`` and return the report.

    As fast as possible unless ``realtime`` (native frame rate). With a ``store``: events,
    snapshots, face memory and event clips are stored as for a live camera. A video that
    breaks part way stops cleanly: an ``analysis_error`` event is stored and everything
    before it (events, clips) is kept.
    """
    cv2 = import_cv2()
    if not path.is_file():
        raise VideoAnalysisError(f"video file not found: {path}")
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise VideoAnalysisError(f"cannot decode video file: {path}")
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    fps = fps if 0.5 <= fps <= 240 else 25.0
    declared_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    declared_s = declared_frames / fps if declared_frames > 0 else 0.0

    camera_key = camera or _camera_key(path)
    bus = EventBus()
    clip_events: list[ClipFinalised] = []
    bus.subscribe(ClipFinalised, clip_events.append)
    writer = (
        StoreWriter(store, clock=clock, journal_dir=data_dir() / "journal")
        if store is not None
        else None
    )
    site_ids = None
    if writer is not None:
        writer.start()
        site_ids = writer.execute(
            RegisterVideoCamera(camera_key=camera_key, video=str(path.resolve()), at=clock.now())
        )
        writer.register_cameras(site_ids.site_id, site_ids.cameras)
        writer.attach(bus)
    face_worker = (
        FaceWorker(
            FaceMemory(store, writer, clock),
            bus,
            blocking=True,
            writer=writer,
            snapshot_dir=data_dir() if snapshots else None,
        )
        if faces and store is not None and writer is not None
        else None
    )
    analyzer = CameraAnalyzer(
        camera_key,
        bus,
        clock,
        detector=make_detector(detector_model),
        detect_every=detect_every,
        snapshot_dir=data_dir() if snapshots and store else None,
        faces=face_worker,
    )
    pipeline = CameraPipeline(analyzer)
    if clips and store is not None:
        pipeline.recorder = ClipRecorder(
            camera_key,
            site_ids.cameras[camera_key] if site_ids else None,
            store,
            bus,
            clock,
            clips_dir=data_dir() / "clips",
            fps_hint=fps,
        )
        pipeline.clip_time_offset_s = clock.monotonic()
    if site_ids is not None and camera_key in site_ids.last_track_ids:
        analyzer.tracker.number_after(site_ids.last_track_ids[camera_key])
    if face_worker is not None:
        face_worker.start()

    frames: queue.Queue[_Decoded | _End] = queue.Queue(maxsize=DECODE_QUEUE_FRAMES)
    stop = threading.Event()

    def decode() -> None:
        index = 0
        stream_s = 0.0
        started = time.monotonic()
        try:
            while not stop.is_set():
                ok, image = capture.read()
                if not ok or image is None:
                    short = declared_s - stream_s
                    error = None
                    if declared_s > 0 and short > max(TRUNCATION_TOLERANCE_S, 0.05 * declared_s):
                        error = (
                            f"video stops at {stream_s:.1f} s (frame {index}) of "
                            f"{declared_s:.1f} s: truncated or corrupt"
                        )
                    frames.put(_End(error))
                    return
                stream_s = float(capture.get(cv2.CAP_PROP_POS_MSEC) or 0.0) / 1000.0
                if realtime:
                    delay = started + index / fps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                frames.put(_Decoded(index, index / fps, image))
                index += 1
        finally:
            capture.release()

    decoder = threading.Thread(target=decode, name=f"decode-{camera_key}", daemon=True)
    started = time.perf_counter()
    decoder.start()
    error: str | None = None
    last: FrameAnalysis | None = None
    try:
        while True:
            item = frames.get()
            if isinstance(item, _End):
                error = item.error
                break
            last = pipeline.process(item.image, item.index, item.t)
    finally:
        stop.set()
        decoder.join(timeout=10)
    elapsed = time.perf_counter() - started
    if face_worker is not None:
        face_worker.stop(timeout_s=120)  # finish every queued face before tracks close
    if error is not None:
        analyzer.fail(last.frame_index if last else 0, last.t if last else 0.0, error)
    pipeline.close()
    if writer is not None:
        writer.flush()
        writer.stop()
    stats = analyzer.stats
    return {
        "video": str(path),
        "camera": camera_key,
        "fps": fps,
        "frames": stats.frames,
        "elapsed_s": round(elapsed, 3),
        "analysed_fps": round(stats.frames / elapsed, 1) if elapsed > 0 else 0.0,
        "realtime": realtime,
        "detector": analyzer.detector.name,
        "detect_every": detect_every,
        "detector_runs": stats.detector_runs,
        "detections": stats.detections,
        "tracks": stats.finished_tracks,
        "persons": [
            {"person_id": person_id, "name": name}
            for person_id, name in sorted((face_worker.persons() if face_worker else {}).items())
        ],
        "faces": {"crops": face_worker.crops_done, "found": face_worker.faces_found}
        if face_worker
        else None,
        "clips": [
            {
                "path": c.path,
                "started_at": c.started_at.isoformat(),
                "duration_s": round(c.duration_s, 2),
                "frames": c.frames,
                "codec": c.codec,
                "sha256": c.sha256,
            }
            for c in clip_events
        ],
        "events_written": writer.health().written if writer else 0,
        "store_writer": writer.health().as_dict() if writer else None,
        "error": error,
    }


def _camera_key(path: Path) -> str:
    """A camera key for a file: ``file-<stem>`` with anything unusual replaced."""
    stem = re.sub(r"[^A-Za-z0-9_\-]", "-", path.stem)[:58] or "video"
    return f"file-{stem}"
