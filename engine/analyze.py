"""Analysing a video file end to end (``watchfloor analyze``): the same engine runtime as a
live site, with one file camera read as fast as possible in recording time, events and
clips to the store, and a report of what was found."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import BUILTIN_DETECTORS, CameraConfig, GeoPoint, SiteConfig, SourceKind
from engine.cv import import_cv2
from engine.gestures.worker import GestureDetected
from engine.record.events import ClipFinalised
from engine.runtime import EngineRuntime, FileAnalysis
from engine.store.database import Store
from engine.store.sites import (
    ANALYSED_VIDEOS_SITE,
    RECORDING_KEY_LEN,
    RecordingCamera,
    choose_recording_camera,
)
from engine.text import printable
from engine.vision.analysis import DETECT_INTERVAL_S

END_POLL_S = 0.5  # how often the wait for the end of the file looks for a failed store


class VideoAnalysisError(Exception):
    """The video cannot be analysed at all (missing, unreadable, not a video)."""


class UnknownCameraError(VideoAnalysisError):
    """The camera asked for (``--camera``) is not one of the site's; the message lists
    the site's cameras."""

    def __init__(self, camera: str, site: SiteConfig) -> None:
        self.camera = camera
        self.site = site
        listed = ", ".join(f"{c.id} ({printable(c.name)})" for c in site.cameras)
        cameras = f"its cameras are {listed}" if listed else "it has no cameras"
        super().__init__(
            f"site {printable(site.name)} has no camera {printable(camera)!r}: {cameras}"
        )


@dataclass(frozen=True, slots=True)
class RecordingTime:
    """When a recording's first frame was taken (UTC), and how that was found out."""

    start: datetime
    source: str  # "option" (--start), "container" (creation time) or "mtime"
    clamped: bool  # the start was moved back so the recording does not end in the future

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "source": self.source,
            "clamped_to_now": self.clamped,
        }


def container_creation_time(path: Path) -> datetime | None:
    """The ``creation_time`` a container (or its video stream) declares, UTC; None if it
    declares none or it cannot be read."""
    import av

    try:
        with av.open(str(path)) as container:
            tags = [container.metadata] + [s.metadata for s in container.streams.video]
    except (av.FFmpegError, OSError, ValueError):
        return None
    for tag in tags:
        raw = tag.get("creation_time")
        if not raw:
            continue
        try:
            when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.year <= 1970:  # muxers write the epoch when they do not know
            continue
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return None


def recording_time(
    path: Path, duration_s: float, now: datetime, start: datetime | None = None
) -> RecordingTime:
    """Wall time of the recording's first frame: ``start`` if given, else the container's
    creation time, else the file's modification time minus its ``duration_s`` (seconds).
    Never so late that the recording would end after ``now`` (then it is clamped)."""
    if start is not None:
        found, source = start.astimezone(UTC), "option"
    elif (created := container_creation_time(path)) is not None:
        found, source = created, "container"
    else:
        mtime = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
        found, source = mtime - timedelta(seconds=duration_s), "mtime"
    latest = now - timedelta(seconds=duration_s)
    if found > latest:
        return RecordingTime(latest, source, True)
    return RecordingTime(found, source, False)


def analyze_video(
    path: Path,
    *,
    clock: Clock,
    store: Store | None = None,
    realtime: bool = False,
    detect_interval_s: float = DETECT_INTERVAL_S,
    camera: str | None = None,
    snapshots: bool = True,
    faces: bool = True,
    clips: bool = True,
    gestures: bool = True,
    detector_model: Path | None = None,
    detector: str = BUILTIN_DETECTORS[0],
    start: datetime | None = None,
    site: SiteConfig | None = None,
) -> dict[str, Any]:
    """Run the engine (:class:`EngineRuntime`) over ``path`` and return the report.

    The recording is filed under a camera of ``site`` (without one, of the
    :data:`ANALYSED_VIDEOS_SITE`): ``camera`` if given (with a ``site`` it must be one of
    the site file's cameras, else :class:`UnknownCameraError`), else a camera of its own
    named after the file (:func:`recording_camera`), which the console lists beside the
    site's cameras.

    As fast as possible unless ``realtime`` (native frame rate). With a ``store``: events,
    snapshots, face memory, taught gestures' detections and event clips are stored as for a
    live camera, stamped with
    recording time (see :func:`recording_time`; ``start`` is ``--start``). A video that
    breaks part way stops cleanly: an ``analysis.error`` event is stored and everything
    before it (events, clips) is kept. A clip or snapshot that cannot be written (disk
    full…) is listed in the report's ``media_lost`` (kept in memory, so even when the store
    is on the same full disk), named in a stored ``recording.failed`` event (the first at
    once, the rest gathered by footage time, at most one event a minute, and at the end:
    :mod:`engine.record.losses`) and raises one
    "Recording failing on camera …" alert (``alerts``). Blocks the calling thread until the
    file is done.
    """
    cv2 = import_cv2()
    if not path.is_file():
        raise VideoAnalysisError(f"video file not found: {path}")
    filed = recording_camera(path, site, camera, store)  # before decoding: a wrong key fails fast
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise VideoAnalysisError(f"cannot decode video file: {path}")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        fps = fps if 0.5 <= fps <= 240 else 25.0
        declared_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        capture.release()
    declared_s = declared_frames / fps if declared_frames > 0 else 0.0
    when = recording_time(path, declared_s, clock.now(), start)

    camera_key = filed.key
    file_camera = CameraConfig(
        camera_key, filed.name, str(path.resolve()), SourceKind.FILE, False, None, None
    )
    if site is None:
        run_site = SiteConfig(
            name=ANALYSED_VIDEOS_SITE,
            file=path,
            geo_origin=GeoPoint(0.0, 0.0),
            rooms=(),
            cameras=(file_camera,),
            sensing_nodes=(),
            detector_model=detector_model,
            detector=detector,
        )
    else:  # the site's name (its row) and zone; one camera, no sensing room
        run_site = replace(
            site,
            cameras=(file_camera,),
            sensing_nodes=(),
            rooms=(),
            detector_model=detector_model,
            detector=detector,
        )
    bus = EventBus()
    clip_events: list[ClipFinalised] = []
    bus.subscribe(ClipFinalised, clip_events.append)  # on clip writer threads
    gesture_events: list[GestureDetected] = []
    bus.subscribe(GestureDetected, gesture_events.append)  # on the gesture worker's thread
    runtime = EngineRuntime(
        run_site,
        store,
        bus=bus,
        clock=clock,
        realtime=realtime,
        file_analysis=FileAnalysis(
            recording_start=when.start,
            detect_interval_s=detect_interval_s,
            snapshots=snapshots,
            faces=faces,
            clips=clips,
            gestures=gestures,
        ),
    )
    source = runtime.cameras.sources[camera_key]
    runtime.start()
    started = clock.monotonic()
    try:
        while not source.wait_ended(END_POLL_S):
            if runtime.fatal_error is not None:
                break
        elapsed = clock.monotonic() - started
    finally:
        runtime.stop()  # tracks closed, faces finished, clips written, store writer flushed
    analyzer = runtime.cameras.pipelines[camera_key].analyzer
    stats = analyzer.stats
    face_worker = runtime.faces
    writer = runtime.writer
    return {
        "video": str(path),
        "site": run_site.name,
        "camera": camera_key,
        "camera_name": filed.name,
        "fps": fps,
        "frames": stats.frames,
        "elapsed_s": round(elapsed, 3),
        "analysed_fps": round(stats.frames / elapsed, 1) if elapsed > 0 else 0.0,
        "realtime": realtime,
        "recording_time": when.as_dict(),
        "detector": analyzer.detector.name,
        "detect_interval_s": detect_interval_s,
        "detector_runs": stats.detector_runs,
        "detections": stats.detections,
        "tracks": list(stats.finished_tracks),
        "persons": [
            {"person_id": person_id, "name": name}
            for person_id, name in sorted((face_worker.persons() if face_worker else {}).items())
        ],
        "faces": {"crops": face_worker.crops_done, "found": face_worker.faces_found}
        if face_worker
        else None,
        "gestures": _gestures_report(runtime, gesture_events),
        "clips": [
            {
                "path": c.path,
                "started_at": c.started_at.isoformat(),
                "duration_s": round(c.duration_s, 2),
                "frames": c.frames,
                "codec": c.codec,
                "stream_copy": c.stream_copy,
                "sha256": c.sha256,
            }
            for c in clip_events
        ],
        "media_lost": [lost.as_dict() for lost in runtime.media.lost()],
        "media_lost_count": runtime.media.total_lost,
        "alerts": [
            {"alert_id": a.alert_id, "severity": a.severity, "title": a.title}
            for a in runtime.recording_alerts
        ],
        "events_written": writer.health().written if writer else 0,
        "store_writer": writer.health().as_dict() if writer else None,
        "store_fatal": runtime.fatal_error,
        "error": source.failure,
    }


def _gestures_report(
    runtime: EngineRuntime, events: list[GestureDetected]
) -> dict[str, Any] | None:
    """Poses estimated and gestures detected (None when gestures were off)."""
    worker = runtime.gestures.worker
    if worker is None:
        return None
    return {
        "taught": list(runtime.gestures.current().names),
        "poses_estimated": worker.poses_estimated,
        "poses_found": worker.poses_found,
        "pose_ms_per_crop": round(1000 * worker.pose_seconds / worker.poses_estimated, 2)
        if worker.poses_estimated
        else None,
        "crops_dropped": worker.crops_dropped,
        "landmarkers": worker.landmarkers_created,
        "landmarker_ms": round(1000 * worker.landmarker_seconds, 1),
        "windows_matched": worker.windows_tried,
        "detections": [
            {
                "at": e.at.isoformat(),
                "gesture": e.gesture,
                "confidence": round(e.confidence, 3),
                "track_id": e.track_id,
                "person": e.person,
                "alerting": e.alerting,
            }
            for e in events
        ],
    }


def recording_camera(
    path: Path, site: SiteConfig | None, camera: str | None, store: Store | None
) -> RecordingCamera:
    """The camera the recording at ``path`` is filed under (see :func:`analyze_video`).
    Without a camera asked for, the same file gets the same camera each time and another
    file of the same name gets a key and a name of its own (``vtest-2``, ``vtest.avi in
    b``): :func:`~engine.store.sites.choose_recording_camera` reads the store for that.
    Raises :class:`UnknownCameraError`."""
    if camera is not None:
        if site is None:
            return RecordingCamera(camera, camera)
        for configured in site.cameras:
            if configured.id == camera:
                return RecordingCamera(configured.id, configured.name)
        raise UnknownCameraError(camera, site)
    if store is None:  # nothing stored: nothing to tell apart
        stem = re.sub(r"[^A-Za-z0-9_\-]+", "-", path.stem).strip("-")
        return RecordingCamera(stem[:RECORDING_KEY_LEN] or "video", printable(path.name))
    reserved = [(c.id, c.name) for c in site.cameras] if site is not None else []
    with store.sessions() as session:
        return choose_recording_camera(
            session,
            site=site.name if site is not None else ANALYSED_VIDEOS_SITE,
            video=path,
            reserved=reserved,
        )
