"""The cameras as the runtime runs them: each camera's source (its worker thread) and
analysis pipeline, the privacy mask each source applies to every picture, a shared site's
cameras started and stopped as their leases come and go, the ``cameras`` and ``analytics``
health lines and each camera's report."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import CameraConfig, SiteConfig, SourceKind
from engine.cv import import_cv2
from engine.events import CameraStatus, HealthState
from engine.frames import Frame
from engine.health import HealthReport
from engine.store.database import Store
from engine.vision.analysis import DETECT_INTERVAL_S, CameraAnalyzer, DetectorSlots, FrameAnalysis
from engine.vision.detect import make_detector
from engine.vision.face_worker import FaceWorker
from engine.vision.main_view import MainPictures
from engine.vision.pipeline import CameraPipeline
from engine.vision.privacy import MaskSlot, PrivacyMask, privacy_masks
from engine.vision.source import CameraSource, SimulatedScene

if TYPE_CHECKING:
    from engine.gestures.worker import GestureWorker
    from engine.record.losses import MediaWriteWatch

log = logging.getLogger(__name__)

# Real seconds stop() waits for all camera workers together (not each in turn): a worker
# blocked in an open (a hanging stream) is a daemon and is left behind, not waited for.
SOURCES_STOP_S = 10.0
# The analytics line says a camera's people detection is slower than set when, since the
# line was last made, more than this share of its attempts at a due run found no detector
# slot free (each retried at the next frame: half put off delays a run by about a frame),
# over at least this many attempts.
DEFERRED_WARN_SHARE = 0.5
DEFERRED_WARN_MIN = 10


@dataclass(frozen=True, slots=True)
class FileAnalysis:
    """Run the engine over one recorded file (``watchfloor analyze``) instead of a live site.

    The site's single camera is registered under the site's name
    (:class:`RegisterVideoCamera`), frames are stamped with recording time from
    ``recording_start`` (UTC wall time of the first frame), the file is read once, faces
    are recognised in blocking mode (no crop dropped), as are the taught gestures, and every
    finished track is kept for the report. No retention run and no sweep of other processes'
    files.
    """

    recording_start: datetime
    detect_interval_s: float = DETECT_INTERVAL_S
    snapshots: bool = True
    faces: bool = True
    clips: bool = True
    gestures: bool = True


class PrivacyMasks:
    """Each camera's privacy mask, applied by its source to every picture: read from the
    store at start (before any camera starts), re-read while the engine runs, replaced by
    :func:`engine.vision.actions.set_privacy_mask`. ``lock`` keeps a re-read from putting
    back a mask an admin has just replaced here."""

    def __init__(self, cameras: list[str]) -> None:
        self.slots: dict[str, MaskSlot] = {cam_id: MaskSlot() for cam_id in cameras}
        self.lock = threading.Lock()

    def load(self, store: Store, site_id: int, only: str | None = None) -> None:
        """Give each camera (or camera ``only``) its stored privacy mask (none: unmasked)."""
        with self.lock:
            stored = privacy_masks(store, site_id)
            for cam_id, slot in self.slots.items():
                if only is None or cam_id == only:
                    entry = stored.get(cam_id)
                    mask = entry.mask if entry is not None and not entry.mask.empty else None
                    if mask != slot.mask:
                        said = mask.describe() if mask is not None else "cleared"
                        log.info("camera %s: privacy mask from the store: %s", cam_id, said)
                        slot.set(mask)

    def apply(self, camera: str, mask: PrivacyMask) -> None:
        """``mask`` for ``camera`` from its next frame on (call it holding :attr:`lock`)."""
        slot = self.slots.get(camera)
        if slot is not None:
            slot.set(mask)


class CameraHost:
    """``analytics``: analyse the cameras (else only show and record them); the analysis
    settings (``detect_interval_s``, ``snapshot_dir``, ``keep_tracks``), ``faces`` and
    ``gestures`` workers are handed to every camera's analyzer. ``recording_start``: a file
    analysis's wall time of the first frame. ``scene``: what simulated cameras film.
    ``clip_report``: a camera's clip recorder's figures for the report."""

    def __init__(
        self,
        site: SiteConfig,
        bus: EventBus,
        clock: Clock,
        *,
        analytics: bool,
        realtime: bool,
        detect_interval_s: float,
        snapshot_dir: Path | None,
        keep_tracks: int | None,
        recording_start: datetime | None,
        faces: FaceWorker | None,
        gestures: GestureWorker | None,
        media_watch: MediaWriteWatch,
        scene: SimulatedScene | None,
        clip_report: Callable[[object], dict[str, Any] | None],
    ) -> None:
        self._site = site
        self._bus = bus
        self._clock = clock
        self._analytics = analytics
        self._realtime = realtime
        self._detect_interval_s = detect_interval_s
        self._snapshot_dir = snapshot_dir
        self._keep_tracks = keep_tracks
        self._recording_start = recording_start
        self._faces = faces
        self._gestures = gestures
        self._media_watch = media_watch
        self.scene = scene
        self._clip_report = clip_report
        self.masks = PrivacyMasks([cam.id for cam in site.cameras])
        # Replaced whole (never changed in place) when a shared site's camera starts or stops
        # here, so other threads may iterate them at any time.
        self.pipelines: dict[str, CameraPipeline] = {}
        self.sources: dict[str, CameraSource] = {}
        # Cameras this engine ran and handed over (cluster): their last report entries.
        self._handed_over: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()  # one camera starts or stops at a time
        # Live cameras share a bound on detector runs at once; a file analysis runs all.
        self.detector_slots = DetectorSlots() if realtime else None
        if realtime:
            # Each camera has its own thread: OpenCV's own threads under each call of each
            # camera only wake and wait (6 idle cameras: 0.07 → 0.064 of a core each).
            import_cv2().setNumThreads(1)
        self._deferred_seen: dict[str, tuple[int, int]] = {}  # camera → (runs, put off)
        # Cameras read by role: their main pictures, decoded while watched full size (kept
        # across a camera's restarts: the console still watches).
        self.main_pictures: dict[str, MainPictures] = {}

    def set_site(self, site: SiteConfig) -> None:
        """The site's cameras changed while the engine runs (:mod:`engine.site_reload`):
        what :meth:`start_camera` starts from now on; a new camera gets its mask slot."""
        with self._lock:
            self._site = site
            with self.masks.lock:
                for cam in site.cameras:
                    self.masks.slots.setdefault(cam.id, MaskSlot())

    def rename_camera(self, camera: CameraConfig) -> None:
        """``camera`` (running here) has a new name and nothing else: it runs on, and what
        reads its settings from now on reads the new name."""
        source = self.sources.get(camera.id)
        if source is not None:
            source.camera = camera  # one reference swap: its worker reads it whole

    def make_all(self) -> None:
        """Every camera of the site (an engine alone on its site, or a file analysis)."""
        for cam in self._site.cameras:
            pipeline = self._make_pipeline(cam.id)
            if pipeline is not None:
                self.pipelines[cam.id] = pipeline
            self.sources[cam.id] = self._make_source(cam, pipeline)

    def _make_pipeline(self, cam_id: str) -> CameraPipeline | None:
        """The camera's analysis (None when analytics are off)."""
        if not self._analytics:
            return None
        return CameraPipeline(
            CameraAnalyzer(
                cam_id,
                self._bus,
                self._clock,
                detector=make_detector(self._site.detector_model, self._site.detector),
                detect_interval_s=self._detect_interval_s,
                snapshot_dir=self._snapshot_dir,
                faces=self._faces,
                gestures=self._gestures,
                keep_tracks=self._keep_tracks,
                media_watch=self._media_watch,
                slots=self.detector_slots,
            )
        )

    def _make_source(self, cam: CameraConfig, pipeline: CameraPipeline | None) -> CameraSource:
        processor = pipeline.process if pipeline is not None else None
        if pipeline is not None and cam.sub_url is not None and self._realtime:
            # Read by role: its main picture is decoded while someone looks at it full size
            # (the packets are handed over first; the decoder works while this frame is
            # analysed).
            main = self.main_pictures.setdefault(cam.id, MainPictures(cam.id))
            process = pipeline.process

            def processor(frame: Frame) -> FrameAnalysis:
                main.feed(frame.packets)
                return process(frame)

        return CameraSource(
            cam,
            self._bus,
            self._clock,
            realtime=self._realtime,
            processor=processor,
            recording_start=self._recording_start,
            scene=self.scene if cam.kind is SourceKind.SIMULATED else None,
            privacy=self.masks.slots.setdefault(cam.id, MaskSlot()),
        )

    def number_tracks(self, last_track_ids: Mapping[str, int | None]) -> None:
        """Each camera's tracks numbered after the last one stored for it."""
        for cam_id, pipeline in self.pipelines.items():
            last = last_track_ids.get(cam_id)
            if last is not None:
                pipeline.analyzer.tracker.number_after(last)

    def set_detect_interval(self, interval_s: float) -> None:
        for pipeline in self.pipelines.values():
            pipeline.analyzer.detect_interval_s = interval_s

    def start_camera(
        self, cam_id: str, prepare: Callable[[str, CameraPipeline], None] | None
    ) -> None:
        """Analyse and record a camera here (a shared site's lease, or one the site file
        added or changed); ``prepare`` readies its pipeline first (its tracks numbered, its
        clip recorder attached)."""
        cam = next(c for c in self._site.cameras if c.id == cam_id)
        with self._lock:
            pipeline = self._make_pipeline(cam_id)
            source = self._make_source(cam, pipeline)
            if pipeline is not None and prepare is not None:
                prepare(cam_id, pipeline)
                self.pipelines = {**self.pipelines, cam_id: pipeline}
            self.sources = {**self.sources, cam_id: source}
            self._handed_over.pop(cam_id, None)
            source.start()

    def stop_camera(self, cam_id: str, *, handed_over: bool = True) -> None:
        """Stop a camera here (people in view recorded as leaving, the clip finished): a
        shared site's handed over to another engine, or (``handed_over=False``) one the
        site file removed or changed; its figures stay in the report."""
        with self._lock:
            source = self.sources.get(cam_id)
            if source is None:
                return
            source.stop(handed_over=handed_over)
            pipeline = self.pipelines.get(cam_id)
            if pipeline is not None:
                pipeline.close(error=source.failure)
            entry = {**self._report(cam_id, source, self._clock.now()), "handed_over": handed_over}
            self.sources = {k: v for k, v in self.sources.items() if k != cam_id}
            self.pipelines = {k: v for k, v in self.pipelines.items() if k != cam_id}
            self._handed_over[cam_id] = entry

    def stop_sources(self) -> None:
        """Every camera's worker stopped, all at once: one stuck opening holds up no other."""
        for source in self.sources.values():
            source.request_stop()
        joined_by = time.monotonic() + SOURCES_STOP_S  # real seconds: threads are joined
        for source in self.sources.values():
            source.stop(timeout_s=max(0.0, joined_by - time.monotonic()))

    def close_pipelines(self) -> None:
        """People still in view are recorded as leaving (after an analysis.error if the
        file broke part way); clips finished."""
        for cam_id, pipeline in self.pipelines.items():
            pipeline.close(error=self.sources[cam_id].failure)

    def watch(self) -> None:
        """A watchdog round: stalled cameras detected, idle clips finished."""
        for source in self.sources.values():
            source.check_stall()
        for pipeline in self.pipelines.values():
            if pipeline.recorder is not None:
                pipeline.recorder.finish_if_idle()

    def watch_main(self, cam_id: str, watching: bool) -> bool:
        """Someone starts (``watching``) or stops looking at ``cam_id`` full size: its main
        stream is decoded meanwhile. False: the camera has no main stream to decode here
        (one stream, not running here, not analysed); it shows its one picture."""
        main = self.main_pictures.get(cam_id)
        if main is None:
            return False
        if watching:
            main.watch()
        else:
            main.unwatch()
        return True

    def main_frame(self, cam_id: str) -> Frame | None:
        """The camera's newest main picture as a frame, with its sub stream's analysis
        (boxes in the sub picture's size: ``analysis_size``), while watched; None before the
        first keyframe, or when nobody watches (memory only)."""
        main, source = self.main_pictures.get(cam_id), self.sources.get(cam_id)
        picture = main.latest() if main is not None else None
        sub = source.slot.latest() if source is not None else None
        if picture is None or sub is None or sub.privacy_masked:
            return None
        height, width = sub.image.shape[:2]
        return Frame(
            picture.seq,
            picture.image,
            picture.captured_at,
            sub.source_fps,
            sub.analysis,
            picture.wall_at,
            analysis_size=(width, height),
        )

    def people_in_view(self) -> dict[str, int]:
        """Per camera running here and online: the people in view in its newest analysed
        picture (:attr:`FrameAnalysis.people_in_view`). Any thread: each analyzer's newest
        analysis is one reference, read whole."""
        counts: dict[str, int] = {}
        for cam_id, pipeline in list(self.pipelines.items()):
            source = self.sources.get(cam_id)
            latest = pipeline.analyzer.latest
            if source is None or latest is None or source.status[0] is not CameraStatus.ONLINE:
                continue
            counts[cam_id] = latest.people_in_view
        return counts

    def frames(self) -> dict[str, Callable[[], Frame | None]]:
        """The latest picture of each camera running here (for RTSP)."""
        return {cam_id: source.slot.latest for cam_id, source in self.sources.items()}

    # -- health and report ----------------------------------------------------------------
    def health(self, shared: bool) -> HealthReport:
        """The ``cameras`` line; ``shared``: the site's other cameras run on other engines."""
        if not self.sources and shared and self._site.cameras:
            return HealthReport(
                "cameras", HealthState.OK, f"none here; {len(self._site.cameras)} on other engines"
            )
        if not self.sources:
            return HealthReport("cameras", HealthState.OFF, "no cameras configured")
        statuses = [s.status[0] for s in self.sources.values()]
        online = sum(s is CameraStatus.ONLINE for s in statuses)
        starting = sum(s is CameraStatus.STARTING for s in statuses)
        detail = f"{online}/{len(statuses)} online"
        if online == len(statuses):
            state = HealthState.OK
        elif starting and online + starting == len(statuses):
            state, detail = HealthState.OK, f"{detail}, {starting} starting"
        elif online:
            state = HealthState.DEGRADED
        else:
            state = HealthState.DOWN
        return HealthReport("cameras", state, detail)

    def analytics_health(self, problems: list[str]) -> HealthReport | None:
        """The ``analytics`` line (None: nothing analysed here); ``problems``: why faces or
        gestures are not recognised."""
        if not self.pipelines:
            return None
        stats = {cam_id: s.stats() for cam_id, s in self.sources.items()}
        failing = {cam_id: st for cam_id, st in stats.items() if st.processing_errors}
        if failing:
            cam_id, st = next(iter(failing.items()))
            return HealthReport(
                "analytics",
                HealthState.DEGRADED,
                f"{cam_id}: {st.processing_errors} frames failed ({st.last_processing_error})",
            )
        if problems:
            return HealthReport("analytics", HealthState.DEGRADED, "; ".join(problems))
        behind = self._detection_behind()
        if behind:
            return HealthReport(
                "analytics",
                HealthState.DEGRADED,
                "the machine is short of processor time: people detection is slower than set "
                f"on {', '.join(behind)}",
            )
        people = sum(len(p.analyzer.tracker.tracks) for p in self.pipelines.values())
        busiest = max((st.processing_ms for st in stats.values()), default=0.0)
        return HealthReport(
            "analytics", HealthState.OK, f"{people} tracked, ≤{busiest:.0f} ms/frame"
        )

    def _detection_behind(self) -> list[str]:
        """Cameras (with the share of due detector runs they put off) that put off more
        than :data:`DEFERRED_WARN_SHARE` of them since the last call: the health line's."""
        behind = []
        for cam_id, pipeline in self.pipelines.items():
            stats = pipeline.analyzer.stats
            runs, deferred = stats.detector_runs, stats.detector_deferred
            last_runs, last_deferred = self._deferred_seen.get(cam_id, (0, 0))
            self._deferred_seen[cam_id] = (runs, deferred)
            new_runs, new_deferred = runs - last_runs, deferred - last_deferred
            # A put-off run is retried at the next frame: several put-offs can precede a
            # run. The share is of frame attempts that found no slot.
            wanted = new_runs + new_deferred
            if wanted >= DEFERRED_WARN_MIN and new_deferred > DEFERRED_WARN_SHARE * wanted:
                source = self.sources.get(cam_id)
                name = source.camera.name if source is not None else cam_id
                behind.append(f"{name} ({new_deferred / wanted:.0%} put off)")
        return behind

    def heartbeat(self) -> dict[str, Any]:
        """Each camera this engine runs as its heartbeat tells it: state, reason, frames a
        second."""
        cameras: dict[str, Any] = {}
        for cam_id, source in self.sources.items():
            status, detail, since = source.status
            stats = source.stats()
            cameras[cam_id] = {
                "status": status.value,
                "detail": detail,
                "since": since.isoformat(),
                "fps": round(stats.frames / stats.online_seconds, 1)
                if stats.online_seconds > 0
                else 0.0,
            }
        return cameras

    def report(self, end: datetime) -> dict[str, Any]:
        """Every camera this engine ran: those handed over as they were, then those running."""
        cameras: dict[str, Any] = dict(self._handed_over)
        for cam_id, source in self.sources.items():
            cameras[cam_id] = self._report(cam_id, source, end)
        return cameras

    def _report(self, cam_id: str, source: CameraSource, end: datetime) -> dict[str, Any]:
        stats = source.stats()
        status, detail, since = source.status
        periods = [
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat() if p.end else None,
                "seconds": round(((p.end or end) - p.start).total_seconds(), 3),
                "reason": p.reason,
            }
            for p in stats.offline_periods
        ]
        pipeline = self.pipelines.get(cam_id)
        return {
            "name": source.camera.name,
            "url": source.camera.url,
            "native_fps": source.native_fps,
            "frames": stats.frames,
            "online_seconds": round(stats.online_seconds, 3),
            "fps": round(stats.frames / stats.online_seconds, 2)
            if stats.online_seconds > 0
            else 0.0,
            "reconnects": stats.reconnects,
            "status": status.value,
            "status_detail": detail,
            "last_problem": stats.last_problem,
            "ever_online": stats.frames > 0,
            "status_since": since.isoformat(),
            "offline_periods": periods,
            "analysis": _analysis_report(pipeline, stats.processing_ms),
            "recording": self._clip_report(pipeline.recorder) if pipeline is not None else None,
            "handed_over": False,
        }


def _analysis_report(
    pipeline: CameraPipeline | None, processing_ms: float
) -> dict[str, Any] | None:
    if pipeline is None:
        return None
    analyzer = pipeline.analyzer
    return {
        "processing_ms_per_frame": round(processing_ms, 2),
        "detector_runs": analyzer.stats.detector_runs,
        "detector_deferred": analyzer.stats.detector_deferred,
        "detections": analyzer.stats.detections,
        "tracks_confirmed": analyzer.stats.tracks_confirmed,
    }
