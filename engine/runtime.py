"""The engine host: one object that runs a site's subsystems headless.

Used the same way by the console (which bridges its bus onto the GUI thread), by
``watchfloor engine`` and by tests. Owns the store writer, one worker per camera and a
watchdog thread that detects stalled cameras and publishes subsystem health.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy.exc import SQLAlchemyError

from engine.access import Actor
from engine.activity import ActivityService
from engine.alerts.recording import RecordingAlerts
from engine.alerts.records import AlertView
from engine.alerts.risk_classes import risk_class_cache
from engine.alerts.service import AlertChanged, AlertProblem, AlertRaised, AlertService
from engine.alerts.webhooks import parse_webhook_target
from engine.bus import EventBus
from engine.clock import REAL_CLOCK, Clock
from engine.cluster.host import SharedSite
from engine.cluster.leases import SITE_SERVICES, Resource, resources_of
from engine.cluster.live import check_attachable
from engine.cluster.member import ClusterOptions
from engine.config import CameraConfig, SensingRoomConfig, SiteConfig, SourceKind
from engine.events import CameraStatus, Event, HealthState
from engine.fusion.floor import CalibrateCamera, FloorCalibration, camera_calibrations
from engine.fusion.service import FusionService
from engine.gestures.host import GestureHost
from engine.health import HealthPublisher, HealthReport, gathered, threads_health
from engine.history.audit_checkpoints import AuditCheckpointer
from engine.history.locks import recording_is_locked
from engine.identity.faces_store import FaceMemory
from engine.incidents.records import MediaInput
from engine.incidents.service import IncidentService
from engine.instance import EngineLock
from engine.introductions import Introductions, NameGiven
from engine.listeners import Listeners
from engine.mqtt.host import MqttHost
from engine.paths import data_dir, sensing_recording_dir
from engine.record import ClipRecorder
from engine.record.losses import MediaWriteWatch
from engine.retention import MaintenanceRun, RetentionService
from engine.secrets import SecretError, read_secret
from engine.sensing.falls import FallAlerts, FallPolicy
from engine.sensing.nodes.server import FIRST_MESSAGE_S as NODE_FIRST_MESSAGE_S
from engine.sensing.nodes.tokens import NodeTokenBook, StoredTokens
from engine.sensing.recording.recorder import SensingRecorder
from engine.sensing.service import (
    ENTER_AFTER_S,
    NodeSpec,
    RoomSpec,
    SensingService,
)
from engine.settings import setting_values
from engine.sim.room import SimulationSpec
from engine.sim.walkthrough import FloorWalker, InRoom, WalkthroughScene, walkthrough
from engine.speech.host import SpeechHost
from engine.store.commands import StoreCommand
from engine.store.database import Store, display_url, short_url
from engine.store.sites import (
    RegisterVideoCamera,
    SiteIds,
    SyncSite,
    last_track_id,
    read_last_blob_id,
)
from engine.store.writer import StoreWriter
from engine.supervise import SupervisedThread, supervised_health
from engine.text_search.index import TextIndexer
from engine.text_search.search import search_for
from engine.vision.analysis import DETECT_INTERVAL_S, RECENT_TRACKS, CameraAnalyzer
from engine.vision.appearance import AppearanceSeen, store_appearance
from engine.vision.detect import DEFAULT_DETECTOR, make_detector
from engine.vision.face_worker import FaceWorker
from engine.vision.pipeline import CameraPipeline
from engine.vision.privacy import MaskSlot, PrivacyMask, SetPrivacyMasks, privacy_masks
from engine.vision.source import CameraSource
from engine.wording import counted

log = logging.getLogger(__name__)

SHARED_MQTT = "published by the engine holding the site services"  # a shared site's others

WATCHDOG_INTERVAL_S = 0.5
# Real seconds stop() waits for all camera workers together (not each in turn): a worker
# blocked in an open (a hanging stream) is a daemon and is left behind, not waited for.
SOURCES_STOP_S = 10.0
SETTINGS_REREAD_S = 2.0  # masks and calibrations stored elsewhere (the CLI, another engine)
CLIP_FPS_HINT = 15.0  # sizes each clip writer's queue before the camera's own rate is known


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


class EngineRuntime:
    """Runs a site: ``start()``, then ``stop()``. Thread-safe to read from the GUI."""

    def __init__(
        self,
        site: SiteConfig,
        store: Store | None,
        *,
        bus: EventBus | None = None,
        clock: Clock = REAL_CLOCK,
        realtime: bool = True,
        analytics: bool = True,
        file_analysis: FileAnalysis | None = None,
        cluster: ClusterOptions | None = None,
        attach: bool = False,
    ) -> None:
        """``file_analysis``: analyse one recorded file (the site has its one camera).
        ``cluster``: this engine is one of several sharing the site through its database
        (``watchfloor engine --name``): it runs only the cameras, room and site-wide services
        it holds a lease for (see :mod:`engine.cluster`). ``attach``: a console attached to
        a shared site (``watchfloor --attach``): it runs no camera, room or site service of
        its own; what the site's engines store and tell reaches its bus over the database
        (:mod:`engine.cluster.live`), and what it writes (acknowledgements, labels, rules …)
        goes through its own store writer like any console's."""
        if file_analysis is not None and len(site.cameras) != 1:
            raise ValueError("a file analysis runs a site with exactly one camera")
        if cluster is not None and (store is None or file_analysis is not None):
            raise ValueError("a shared site's engine needs the database and runs live")
        if attach and (store is None or store.backend != "postgresql" or cluster is not None):
            raise ValueError(
                "a console attaches to a shared site's PostgreSQL database "
                "(a SQLite site has one engine: open it without --attach)"
            )
        self.attached = attach
        self._health_sources: list[Callable[[], HealthReport]] = []  # add_health
        self.cluster = cluster
        self._analytics = analytics
        self._realtime = realtime
        # Cameras this engine ran and handed over (cluster): their last report entries.
        self._handed_over: dict[str, dict[str, Any]] = {}
        self._cameras_lock = threading.Lock()  # one camera starts or stops at a time
        self.site = site
        self.file_analysis = file_analysis
        analysis = file_analysis or FileAnalysis(recording_start=clock.now())
        self.store = store
        self.bus = bus or EventBus()
        self.clock = clock
        # File descriptors split at start: a reserve for recording, the rest for listening
        # (the recordings server and each sensing room's node server share them evenly).
        self.listeners = Listeners(
            len(sensing_rooms(site)) + (1 if cluster is not None and cluster.files else 0)
        )
        # A shared site: this engine's leases, relay and servers, or a console's follower.
        self.shared = SharedSite(store, self.bus, clock, cluster)
        # A simulated scene over the whole site ([sensing] scene): its walkers, and the
        # clock's monotonic time at its t = 0 (set at start), shared by rooms and cameras.
        self.scene_walkers: tuple[FloorWalker, ...] = ()
        self.scene_origin_s: float | None = None
        self.camera_scene: WalkthroughScene | None = None  # what simulated cameras film
        if site.sensing.simulate and site.sensing.scene == "walkthrough":
            self.scene_walkers = tuple(
                walkthrough(site.rooms, site.sensing.walkers, site.sensing.seed)
            )
            self.camera_scene = WalkthroughScene(
                self.scene_walkers, site.rooms, self.clock, lambda: self.scene_origin_s
            )
        self.faces: FaceWorker | None = None
        # Every clip and snapshot written or lost, and every sensing recording write that
        # fails, is told here: a loss is published (event, alert, tile or Sensing pane,
        # status bar) and counted, even when the store cannot take it.
        self.media = MediaWriteWatch(self.bus, clock)
        # Each running room's recording, by room id (live engines); replaced whole.
        self.sensing_recorders: dict[str, SensingRecorder] = {}
        # ``watchfloor analyze`` has no alert service: its recording alerts, raised alone.
        self.recording_alerts: list[AlertView] = []
        self._recording_alerts: RecordingAlerts | None = None
        # The one write path: created now so the face memory can use it, started by start().
        self.writer: StoreWriter | None = (
            StoreWriter(
                store,
                clock=clock,
                journal_dir=data_dir() / "journal",
                engine_name=cluster.name if cluster is not None else None,
            )
            if store is not None
            else None
        )
        self._faces_problem: str | None = None
        if analytics and analysis.faces and store is not None and self.writer is not None:
            try:
                self.faces = FaceWorker(
                    FaceMemory(store, self.writer, clock),
                    self.bus,
                    blocking=file_analysis is not None,
                    writer=self.writer,
                    snapshot_dir=data_dir() if analysis.snapshots else None,
                    media_watch=self.media,
                )
            except Exception as exc:  # models missing or unreadable: people are still tracked
                log.exception("face recognition unavailable")
                self._faces_problem = f"faces unavailable: {exc}"
        # Taught gestures, matched on each camera's poses (read from the store at start).
        self.gestures = GestureHost(
            self.bus,
            store,
            self.writer,
            enabled=analytics and analysis.gestures and store is not None,
            blocking=file_analysis is not None,
        )
        self._analysis = analysis
        # Replaced whole (never changed in place) when a shared site's camera starts or stops
        # here, so other threads may iterate them at any time.
        self.pipelines: dict[str, CameraPipeline] = {}
        self.sources: dict[str, CameraSource] = {}
        # Each camera's privacy mask, applied by its source to every picture: read from the
        # store at start (before any camera starts), replaced by set_privacy_mask.
        self.privacy: dict[str, MaskSlot] = {cam.id: MaskSlot() for cam in site.cameras}
        if cluster is None and not attach:
            for cam in site.cameras:
                pipeline = self._make_pipeline(cam.id)
                if pipeline is not None:
                    self.pipelines[cam.id] = pipeline
                self.sources[cam.id] = self._make_source(cam, pipeline)
        self.site_ids: SiteIds | None = None
        self.started_at: datetime | None = None
        self._stop = threading.Event()
        self._abort: threading.Event | None = None  # start()'s: ends a start early
        self._fatal = threading.Event()
        self.fatal_error: str | None = None
        # A shared site's engine whose name another process took over (this one was paused
        # or cut off past its lease): why. It has stopped what it ran and must exit.
        self.name_lost: str | None = None
        # Supervised: stall checks and health go on after an unexpected error in a round.
        self._watchdog = SupervisedThread(
            self._watch, name="engine-watchdog", stop=self._stop, clock=clock
        )
        # A live engine re-reads the stored privacy masks and floor calibrations (see
        # _follow_stored_settings); the lock keeps a re-read from putting back one an admin
        # has just replaced here.
        self._settings_lock = threading.Lock()
        self._settings_watch: threading.Thread | None = None
        self._health_publisher = HealthPublisher(self.bus, self.clock.now)
        self.mqtt = MqttHost(  # the site's MQTT broker ([mqtt])
            site.mqtt,
            site.name,
            cameras=[(camera.id, camera.name) for camera in site.cameras],
            rooms=[(room.room_id, room.name) for room in sensing_rooms(site)],
            store=store,
            writer=self.writer,
            alerts=lambda: self.alerts,
            clock=clock,
        )
        self._retention_problem: str | None = None
        self._data_dir_lock: EngineLock | None = None  # held while a live engine runs
        self.retention: RetentionService | None = None  # its own thread, live engines only
        # Signs the audit trail's head into a file beside the database (live engines only).
        self.audit_checkpoints: AuditCheckpointer | None = None
        # The sensing rooms running here, by room id (live engines only): every room of the
        # site, or on a shared site the rooms this engine leases. Replaced whole (never
        # changed in place) when a room starts or stops, so any thread may read it.
        self.sensing_services: dict[str, SensingService] = {}
        self.alerts: AlertService | None = None  # falls → alerts, webhooks, escalation (live)
        self.incidents: IncidentService | None = None  # reports, risk map, nightly refit (live)
        # Meaning search's vectors of reports, bookmarks and events (live engines only).
        self.text_indexer: TextIndexer | None = None
        self.activity: ActivityService | None = None  # tracks grouped into activities (live)
        self._sensing_problems: dict[str, str] = {}  # room id → why it is off; replaced whole
        # Introductions (live engines): a speech service per camera with a microphone, all
        # sharing one recogniser; heard names offered to the person nearest the camera.
        self.speech = SpeechHost(self.bus, clock, store, lambda: self.pipelines)
        self.introductions: Introductions | None = None
        self.fusion: FusionService | None = None  # one person across cameras and rooms
        self._appearances_unsubscribe: Callable[[], None] | None = None
        self._fusion_unsubscribe: Callable[[], None] | None = None

    def _make_pipeline(self, cam_id: str) -> CameraPipeline | None:
        """The camera's analysis (None when analytics are off)."""
        if not self._analytics:
            return None
        analysis = self._analysis
        snapshot_dir = data_dir() if self.store is not None and analysis.snapshots else None
        return CameraPipeline(
            CameraAnalyzer(
                cam_id,
                self.bus,
                self.clock,
                detector=make_detector(self.site.detector_model, self.site.detector),
                detect_interval_s=analysis.detect_interval_s,
                snapshot_dir=snapshot_dir,
                faces=self.faces,
                gestures=self.gestures.worker,
                keep_tracks=None if self.file_analysis is not None else RECENT_TRACKS,
                media_watch=self.media,
            )
        )

    def _make_source(self, cam: CameraConfig, pipeline: CameraPipeline | None) -> CameraSource:
        file_analysis = self.file_analysis
        return CameraSource(
            cam,
            self.bus,
            self.clock,
            realtime=self._realtime,
            processor=pipeline.process if pipeline is not None else None,
            recording_start=file_analysis.recording_start if file_analysis else None,
            scene=self.camera_scene if cam.kind is SourceKind.SIMULATED else None,
            privacy=self.privacy.setdefault(cam.id, MaskSlot()),
        )

    def start(self, abort: threading.Event | None = None) -> None:
        """Mirror the site into the store, then start the writer, cameras and watchdog.

        ``abort`` (set from any thread, a signal handler) ends the start early, between one
        service or camera and the next: :meth:`stop` then stops what had started."""
        self._abort = abort
        self.started_at = self.clock.now()
        self.listeners.reserve()  # before anything opens a file or a port
        self.scene_origin_s = self.clock.monotonic()
        if self.store is not None and self.file_analysis is None and not self.attached:
            # One live engine per data dir (analyze runs beside it without the lock).
            lock = EngineLock(data_dir())
            lock.acquire()  # EngineAlreadyRunningError names the other engine's pid
            self._data_dir_lock = lock
        if self.store is not None and self.writer is not None:
            if self.attached:
                check_attachable(self.store, self.site.name)
            self.writer.on_fatal(self._on_store_fatal)
            self.writer.start()
            try:
                self.site_ids = self.writer.execute(self._register_site())
            except Exception:
                self.writer.stop()
                if self._data_dir_lock is not None:
                    self._data_dir_lock.release()
                raise
            self.writer.register_cameras(self.site_ids.site_id, self.site_ids.cameras)
            # Before any camera starts: no frame is seen unmasked. A failed read fails the
            # start rather than run the cameras bare.
            self._load_privacy_masks(self.store, self.site_ids.site_id)
            if self.attached:
                self._follow_site(self.store, self.writer, self.site_ids.site_id)
                self._watchdog.start()
                self._publish_health()
                return
            self.writer.attach(self.bus)
            self._store_appearances(self.writer, self.site_ids.cameras)
            for cam_id, pipeline in self.pipelines.items():
                last = self.site_ids.last_track_ids.get(cam_id)
                if last is not None:
                    pipeline.analyzer.tracker.number_after(last)
            if self.file_analysis is None:
                self.apply_settings()
            if self.file_analysis is None or self.file_analysis.clips:
                self._attach_clip_recorders(self.store, self.site_ids)
            if self.file_analysis is not None:
                self._start_recording_alerts(self.writer)
            if self.file_analysis is None:  # orphan sweep and retention: at start, hourly
                self.retention = RetentionService(
                    self.store,
                    self.writer,
                    self.clock,
                    data_dir(),
                    cameras=self.site_ids.cameras,
                    on_run=self._on_retention_run,
                )
                self.retention.start()
                self.audit_checkpoints = AuditCheckpointer(
                    self.store, self.clock, key_dir=data_dir()
                )
                self.audit_checkpoints.start()
                self.alerts = AlertService(
                    bus=self.bus,
                    writer=self.writer,
                    store=self.store,
                    clock=self.clock,
                    webhooks=[
                        parse_webhook_target(hook.url, hook.timeout_s)
                        for hook in self.site.alerts.webhooks
                    ],
                    escalate_after_s=self.site.alerts.escalate_after_s,
                    site=self.site.name,
                    risk_classes=risk_class_cache(self.site.alerts, self.store, self.clock),
                    group_window_s=self.site.alerts.group_window_s,
                    site_time=self.site.site_time,  # armed hours are the site's
                    camera_offline_s=self.site.alerts.camera_offline_s,
                    camera_names=place_names(self.site),  # its cameras' and room's names
                )
                self.alerts.start()  # after the writer is attached: alerts link their events
                self.activity = ActivityService(bus=self.bus, clock=self.clock)
                self.activity.start()  # after the writer: an activity's row follows its cause
                if self.cluster is None:  # a shared site's: on the engine holding their lease
                    self._start_site_services()
        if self._aborting():
            return
        if self.file_analysis is None:  # before the cameras: it hears them start
            self.mqtt.start(self.bus, shared=self.cluster is not None)
        if self.faces is not None:
            self.faces.start()
        self.gestures.start()
        for source in self.sources.values():
            if self._aborting():
                return
            source.start()
        if self._aborting():
            return
        if self.file_analysis is None:
            self._start_fusion()  # before the rooms and cameras' first reports
        if self.file_analysis is None and self.cluster is None:
            for room in sensing_rooms(self.site):
                self._start_sensing(room.room_id)
            self._start_introductions()
        self._watchdog.start()
        if self.file_analysis is None and self.store is not None and self.site_ids is not None:
            self._settings_watch = SupervisedThread(
                functools.partial(self._follow_stored_settings, self.store, self.site_ids.site_id),
                name="engine-settings",
                stop=self._stop,
                clock=self.clock,
            )
            self._settings_watch.start()
        if self.cluster is not None:
            self._join_cluster()
        self._publish_health()

    # -- a console attached to a shared site ----------------------------------------------
    def _follow_site(self, store: Store, writer: StoreWriter, site_id: int) -> None:
        """Read the alert list's rules and risk classes (the engines raise, escalate and
        deliver), tell the engines and other consoles what this console changes, and
        follow what they store and tell."""
        self.alerts = AlertService(
            bus=self.bus,
            writer=writer,
            store=store,
            clock=self.clock,
            site=self.site.name,
            risk_classes=risk_class_cache(self.site.alerts, store, self.clock),
            site_time=self.site.site_time,
            camera_names=place_names(self.site),
        )
        self.alerts.start_reading()
        self.shared.follow(store, site_id, self.site.name, self.alerts.risk_gate)

    # -- a shared site: what this engine holds a lease for ------------------------------
    def _join_cluster(self) -> None:
        """Join the site's engines and take a first share of its cameras, rooms and
        services (:class:`~engine.cluster.leases.EngineNameTakenError` when the name is in
        use); what this engine gains and loses is started and stopped here."""
        assert self.site_ids is not None
        self.shared.join(
            self.site_ids.site_id,
            resources_of(
                [(cam.id, cam.engine) for cam in self.site.cameras],
                [room.room_id for room in sensing_rooms(self.site)],
            ),
            frames=lambda: {cam_id: s.slot.latest for cam_id, s in self.sources.items()},
            listeners=self.listeners,
            on_acquire=self._on_lease_acquired,
            on_release=self._on_lease_released,
            health=self._heartbeat_health,
            on_name_lost=self._on_name_lost,
        )

    def _on_name_lost(self, why: str) -> None:
        """Another process runs as this engine now: stop (the member has already stopped
        taking leases and is stopping what this engine ran). Runs on the member's thread;
        ``name_lost`` tells the CLI why."""
        self.name_lost = why
        self._stop.set()
        self._fatal.set()

    def _heartbeat_health(self) -> dict[str, Any]:
        """What this engine says of itself at each heartbeat, for other machines: its
        subsystems' health and each camera it runs (state, its reason, frames a second)."""
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
        return {
            "subsystems": [
                {"name": r.subsystem, "state": r.state.value, "detail": r.detail}
                for r in self.health()
                if r.subsystem != "cluster"
            ],
            "cameras": cameras,
        }

    def _on_lease_acquired(self, resource: Resource) -> None:
        kind, key = resource
        if resource == SITE_SERVICES:
            self._start_site_services()
        elif kind == "camera":
            self._start_camera(key)
        elif kind == "room":
            self._start_sensing(key)
        log.info("engine %s runs %s %s", self.cluster.name if self.cluster else "", kind, key)

    def _on_lease_released(self, resource: Resource, why: str) -> None:
        kind, key = resource
        if resource == SITE_SERVICES:
            self._stop_site_services()
        elif kind == "camera":
            self._stop_camera(key)
        elif kind == "room":
            self._stop_sensing(key)
        if self.writer is not None:
            # What it saw is stored before another engine numbers tracks after it.
            self.writer.flush(timeout_s=10.0)
        log.info("engine %s stopped %s %s: %s", self.cluster.name if self.cluster else "",
                 kind, key, why)  # fmt: skip

    def _start_camera(self, cam_id: str) -> None:
        """Analyse and record a camera of a shared site here, its tracks numbered after the
        last one any engine stored for it."""
        cam = next(c for c in self.site.cameras if c.id == cam_id)
        if self.store is not None and self.site_ids is not None:
            # The mask as stored now: another engine or a console may have changed it.
            self._load_privacy_masks(self.store, self.site_ids.site_id, only=cam_id)
        with self._cameras_lock:
            pipeline = self._make_pipeline(cam_id)
            source = self._make_source(cam, pipeline)
            if pipeline is not None and self.store is not None and self.site_ids is not None:
                last = last_track_id(self.store, self.site_ids.cameras.get(cam_id))
                if last is not None:
                    pipeline.analyzer.tracker.number_after(last)
                ids = self.site_ids
                self.shared.end_lost_tracks(
                    cam_id, ids.cameras.get(cam_id), ids.site_id, self.writer
                )
                self._attach_clip_recorder(cam_id, pipeline, self.site_ids)
                self.pipelines = {**self.pipelines, cam_id: pipeline}
            self.sources = {**self.sources, cam_id: source}
            self._handed_over.pop(cam_id, None)
            source.start()

    def _stop_camera(self, cam_id: str) -> None:
        """Stop a shared site's camera here (people in view recorded as leaving, the
        clip finished); its figures stay in the report."""
        with self._cameras_lock:
            source = self.sources.get(cam_id)
            if source is None:
                return
            source.stop()
            pipeline = self.pipelines.get(cam_id)
            if pipeline is not None:
                pipeline.close(error=source.failure)
            entry = {**self._camera_report(cam_id, source, self.clock.now()), "handed_over": True}
            self.sources = {k: v for k, v in self.sources.items() if k != cam_id}
            self.pipelines = {k: v for k, v in self.pipelines.items() if k != cam_id}
            self._handed_over[cam_id] = entry

    def _start_site_services(self) -> None:
        """The incident service (risk model, nightly refit) and meaning search's indexer:
        one per site."""
        assert self.store is not None and self.writer is not None
        self.incidents = self._incident_service(self.store, self.writer)
        self.incidents.start()  # loads the risk model; catches up a missed refit
        self.text_indexer = TextIndexer(
            search_for(self.store),
            self.store,
            self.writer.submit,
            clock=self.clock,
            bus=self.bus,
        )
        self.text_indexer.start()  # its own thread: stored vectors, then what is new
        if self.cluster is not None and self.site_ids is not None:
            self.mqtt.start_shared(self.site_ids.site_id, self.cluster.name)

    def _stop_site_services(self) -> None:
        if self.cluster is not None:
            self.mqtt.stop_shared()
        incidents, self.incidents = self.incidents, None
        if incidents is not None:
            incidents.stop()
        indexer, self.text_indexer = self.text_indexer, None
        if indexer is not None:
            indexer.stop()

    def _stop_sensing(self, room_id: str) -> None:
        """Stop a shared site's room here (its blobs end, its recording closes)."""
        sensing = self.sensing_services.get(room_id)
        self.sensing_services = {k: v for k, v in self.sensing_services.items() if k != room_id}
        if sensing is not None:
            sensing.stop()
        recorder = self.sensing_recorders.get(room_id)
        self.sensing_recorders = {k: v for k, v in self.sensing_recorders.items() if k != room_id}
        if recorder is not None:
            recorder.close()
        self._set_sensing_problem(room_id, None)

    def sensing_service(self, room_id: str | None = None) -> SensingService | None:
        """The running sensing room ``room_id`` (None: the site's only room, or the first of
        its rooms running here), or None when it does not run here."""
        services = self.sensing_services
        if room_id is not None:
            return services.get(room_id)
        return next(iter(services.values()), None)

    def stop(self) -> None:
        """Stop cameras, then let the writer store what they reported last."""
        self._stop.set()
        self.shared.stop_following()  # the member stops what it holds, gives leases back
        self.mqtt.stop()  # says "offline" while the broker is there to hear it
        for sensing in self.sensing_services.values():
            sensing.stop()  # its last events go to the writer, stopped below
        if self.alerts is not None:
            self.alerts.stop()
        if self.incidents is not None:
            self.incidents.stop()  # a refit under way finishes first (it writes)
        for source in self.sources.values():
            source.request_stop()  # all at once: a camera stuck opening holds up no other
        joined_by = time.monotonic() + SOURCES_STOP_S  # real seconds: threads are joined
        for source in self.sources.values():
            source.stop(timeout_s=max(0.0, joined_by - time.monotonic()))
        self.speech.stop_listening()  # what was heard is recognised; its names offered
        if self.introductions is not None:
            self.introductions.stop()
        if self._fusion_unsubscribe is not None:
            self._fusion_unsubscribe()
            self._fusion_unsubscribe = None
        self.speech.close()
        if self.faces is not None:
            self.faces.stop()  # queued faces first, so leaving tracks carry their person
        self.gestures.stop()  # queued poses matched; landmarkers closed
        for cam_id, pipeline in self.pipelines.items():
            # People still in view are recorded as leaving (after an analysis.error if the
            # file broke part way); clips finished.
            pipeline.close(error=self.sources[cam_id].failure)
        if self.activity is not None:
            self.activity.stop()  # after the last tracks left: the activities they end
        if self.fusion is not None:
            self.fusion.stop()  # after the rooms and cameras: the paths still open are filed
        if self._watchdog.is_alive():
            self._watchdog.join(timeout=5)
        if self._settings_watch is not None and self._settings_watch.is_alive():
            self._settings_watch.join(timeout=15)  # a read under way ends (connect timeout 10 s)
        # Clips are finished and faces saved: the losses gathered for the once-a-minute
        # event are published while the writer still takes them.
        self.media.flush()
        if self.retention is not None:
            self.retention.stop()
        if self._appearances_unsubscribe is not None:
            self._appearances_unsubscribe()
            self._appearances_unsubscribe = None
        if self.text_indexer is not None:
            self.text_indexer.stop()  # the batch in hand is stored; the rest waits for next time
        self.shared.stop()  # after the alerts and cameras: their last words are told
        if self.writer is not None:
            self.writer.stop()
        if self.audit_checkpoints is not None:
            self.audit_checkpoints.stop()  # after the writer: anchors its last entries too
        if self._data_dir_lock is not None:
            self._data_dir_lock.release()

    def _store_appearances(self, writer: StoreWriter, cameras: dict[str, int]) -> None:
        """File each finished track's appearance (published right after its ``person.left``,
        on the same thread, so the event and its snapshot row are queued first)."""

        def store(event: AppearanceSeen) -> None:
            camera_id = cameras.get(event.camera)
            if camera_id is not None:
                writer.post(store_appearance(event, camera_id))

        self._appearances_unsubscribe = self.bus.subscribe(AppearanceSeen, store)

    def _start_recording_alerts(self, writer: StoreWriter) -> None:
        """A file analysis has no alert service, yet media it cannot write must raise
        the same alert as a live camera's. Subscribed on ``Event`` after the writer, so a
        loss's event is queued before the alert that links to it."""

        def raised(alert: AlertView) -> None:
            self.recording_alerts.append(alert)
            self.bus.publish(AlertRaised(at=self.clock.now(), alert=alert))

        def cleared(alert: AlertView) -> None:
            self.bus.publish(AlertChanged(at=self.clock.now(), alert=alert, change="acknowledged"))

        def problem(message: str) -> None:
            log.error("alerts: %s", message)
            self.bus.publish(AlertProblem(at=self.clock.now(), message=message))

        self._recording_alerts = RecordingAlerts(
            writer=writer,
            clock=self.clock,
            raised=raised,
            cleared=cleared,
            problem=problem,
            site=self.site.name,
            camera_names=place_names(self.site),
            site_time=self.site.site_time,
        )
        self.bus.subscribe(Event, self._recording_alerts.on_event)

    def _start_fusion(self) -> None:
        """Join camera tracks and sensing blobs into people where the site has both, with
        the cameras calibrated to the floor so far."""
        if self.store is None or self.site_ids is None or not self.site.cameras:
            return
        if not self.site.rooms:
            return
        self.fusion = FusionService(
            self.bus,
            self.clock,
            cameras=self.site.cameras,
            rooms=self.site.rooms,
            calibrations={
                key: stored.calibration
                for key, stored in camera_calibrations(self.store, self.site_ids.site_id).items()
            },
        )
        self.fusion.start()
        fusion = self.fusion

        def introduced(given: NameGiven) -> None:
            if given.track_id is not None:
                fusion.name_track(
                    given.camera, given.track_id, given.name, given.person_id, "introduced"
                )

        self._fusion_unsubscribe = self.bus.subscribe(NameGiven, introduced)

    def _nearest_to_microphone(self, camera: str) -> int | None:
        """The track of ``camera`` whose person is placed nearest the camera's floor
        position (its microphone), or None (no position, not calibrated, nobody)."""
        config = next((c for c in self.site.cameras if c.id == camera), None)
        if self.fusion is None or config is None or config.position is None:
            return None
        if camera not in self.fusion.calibrated():
            return None
        return self.fusion.nearest_track(camera, (config.position.x_m, config.position.y_m))

    def calibrate_camera(
        self, camera: str, calibration: FloorCalibration, actor: Actor
    ) -> FloorCalibration:
        """Store ``calibration`` for ``camera`` as ``actor`` (configure-cameras; audited) and
        place its tracks on the floor with it from now on. Blocks on the store writer: call
        it from a worker, never the GUI thread."""
        if self.writer is None or self.site_ids is None:
            raise RuntimeError("no database: a calibration cannot be stored")
        with self._settings_lock:
            stored: FloorCalibration = self.writer.execute(
                CalibrateCamera(
                    site_id=self.site_ids.site_id,
                    camera=camera,
                    calibration=calibration,
                    at=self.clock.now(),
                    actor=actor,
                )
            )
            if self.fusion is not None:
                self.fusion.set_calibration(camera, stored)
        return stored

    def _load_calibrations(self, store: Store, site_id: int) -> None:
        """Give the fusion each camera's stored floor calibration where it has another."""
        fusion = self.fusion
        if fusion is None:
            return
        with self._settings_lock:
            stored = camera_calibrations(store, site_id)
            for camera in self.site.cameras:
                entry = stored.get(camera.id)
                calibration = entry.calibration if entry is not None else None
                if calibration != fusion.calibration_of(camera.id):
                    log.info(
                        "camera %s: floor calibration from the store: %s",
                        camera.id,
                        "removed" if calibration is None else f"{len(calibration.pairs)} points",
                    )
                    fusion.set_calibration(camera.id, calibration)

    def _load_privacy_masks(self, store: Store, site_id: int, only: str | None = None) -> None:
        """Give each camera (or camera ``only``) its stored privacy mask (none: unmasked)."""
        with self._settings_lock:
            stored = privacy_masks(store, site_id)
            for cam_id, slot in self.privacy.items():
                if only is None or cam_id == only:
                    entry = stored.get(cam_id)
                    mask = entry.mask if entry is not None and not entry.mask.empty else None
                    if mask != slot.mask:
                        said = mask.describe() if mask is not None else "cleared"
                        log.info("camera %s: privacy mask from the store: %s", cam_id, said)
                        slot.set(mask)

    def _follow_stored_settings(self, store: Store, site_id: int) -> None:
        """Re-read the stored privacy masks and floor calibrations every
        :data:`SETTINGS_REREAD_S` and apply those that changed: one saved with ``watchfloor
        cameras mask`` or ``calibrate``, or from a console whose engine is another one of a
        shared site, reaches the cameras and the fusion running here within seconds, not at
        the next start. A failed read keeps what is applied (a camera is never unmasked for
        it) and is logged once until a read succeeds."""
        failing = False
        while not self.clock.wait(self._stop, SETTINGS_REREAD_S):
            try:
                self._load_privacy_masks(store, site_id)
                self._load_calibrations(store, site_id)
            except (SQLAlchemyError, sqlite3.Error) as exc:
                if not failing:
                    log.warning("cannot re-read the cameras' masks and calibrations: %s", exc)
                failing = True
            else:
                failing = False

    def set_privacy_mask(self, camera: str, mask: PrivacyMask, actor: Actor) -> PrivacyMask:
        """Store ``mask`` for ``camera`` as ``actor`` (configure-cameras; audited as
        ``camera.mask``; no areas clears it) and apply it from the camera's next frame on,
        without a restart. Blocks on the store writer: call it from a worker, never the GUI
        thread. Raises :class:`~engine.vision.privacy.PrivacyMaskError` for an unknown
        camera, :class:`~engine.access.PermissionDeniedError` for an actor who may not."""
        if self.writer is None or self.site_ids is None:
            raise RuntimeError("no database: a privacy mask cannot be stored")
        with self._settings_lock:
            stored: PrivacyMask = self.writer.execute(
                SetPrivacyMasks(
                    site_id=self.site_ids.site_id,
                    camera=camera,
                    mask=mask,
                    at=self.clock.now(),
                    actor=actor,
                )
            )
            slot = self.privacy.get(camera)
            if slot is not None:
                slot.set(stored)
        return stored

    def _start_introductions(self) -> None:
        """Offer heard names to the people nearest their camera; a speech service for each
        camera with a microphone. No recogniser (a Whisper model missing or unreadable):
        said in the speech health; everything else carries on."""
        if self.writer is None or self.store is None:
            return
        store = self.store
        self.introductions = Introductions(
            self.bus,
            self.writer,
            self.clock,
            {cam_id: p.analyzer for cam_id, p in self.pipelines.items()},
            self.faces,
            auto=lambda: setting_values(store)["analytics.speech_names_auto"] == 1,
            nearest=self._nearest_to_microphone if self.fusion is not None else None,
        )
        self.introductions.start()
        self.speech.start([(c.id, c.microphone) for c in self.site.cameras if c.microphone])

    def apply_settings(self) -> None:
        """Apply the stored settings that act on running cameras (the detector cadence, the
        confidence a gesture needs);
        retention reads its own at every pass. Reads the store: call it from a worker,
        never the GUI thread. A live engine only: an analysis keeps what it was given."""
        if self.store is None or self.file_analysis is not None:
            return
        values = setting_values(self.store)
        interval_s = values["analytics.detect_interval_ms"] / 1000
        for pipeline in self.pipelines.values():
            pipeline.analyzer.detect_interval_s = interval_s
        self.gestures.apply_confidence(values["analytics.gesture_confidence_pct"] / 100)

    def _on_store_fatal(self, reason: str) -> None:
        """The store failed for good (corrupt, read-only, disk full): stop the engine. Runs
        on the writer thread; ``fatal_error`` tells the CLI and console why."""
        self.fatal_error = reason
        self._stop.set()
        self._fatal.set()
        self._publish_health()  # the watchdog has stopped: say it in the status bar now

    def wait_fatal(self, timeout_s: float | None = None) -> bool:
        """Block until the store fails for good or a shared site's engine lost its name to
        another process (True), or ``timeout_s`` passes (False)."""
        return self.clock.wait(self._fatal, timeout_s)

    def _start_sensing(self, room_id: str) -> None:
        """The site's sensing room ``room_id``: node server, fusion and, for a simulated
        room, its simulated nodes (each room simulated from a seed of its own: the
        ``[sensing]`` seed plus the room's place in the site file). Its nodes' tokens are
        the store's (engine.sensing.nodes.tokens); with ``node_install_secret`` set, the site's
        nodes of an install of old keep their derived tokens. A problem (a port taken, the
        store unreadable) leaves that room off and shows in the sensing health; cameras and
        the other rooms carry on."""
        rooms = sensing_rooms(self.site)
        index = next((i for i, r in enumerate(rooms) if r.room_id == room_id), None)
        if index is None or room_id in self.sensing_services:
            return
        room = rooms[index]
        config = self.site.sensing
        secret: bytes | None = None
        if not config.simulate:
            try:
                secret = read_secret("node_install_secret").reveal().encode("utf-8")
            except SecretError as exc:
                # Only an install of old needs it (its nodes' derived tokens, adopted once):
                # nodes now pair for a random token of their own, kept in the store.
                log.info("%s: no node install secret (%s): paired nodes only", room.name, exc)
        simulation = (
            SimulationSpec(
                walkers=config.walkers, seed=config.seed + index, enter_after_s=ENTER_AFTER_S
            )
            if config.simulate
            else None
        )
        if config.simulate and config.scene == "walkthrough":
            # One scene over the whole site: the same walkers in every room (each room sees
            # them only inside its walls) and in the simulated cameras, on one time origin.
            in_room = tuple(InRoom(w, self._room_config(room_id)) for w in self.scene_walkers)
            simulation = SimulationSpec(
                walkers=len(in_room),
                seed=config.seed + index,
                enter_after_s=0.0,
                walker_list=in_room,
                truth_walkers=in_room,
                ble=index == 0,  # the first room's nodes hear the walkers' tags
                time_origin_s=self.scene_origin_s,
            )
        last = self.site_ids.last_blob_id if self.site_ids is not None else 0
        if self.cluster is not None and self.store is not None:  # after another engine's blobs
            last = read_last_blob_id(self.store)
        first, step = room_blob_numbering(last, index, len(rooms))
        recorder = self._sensing_recorder(room_id)
        try:
            tokens = NodeTokenBook()
            if self.store is not None and self.writer is not None:
                tokens.attach(StoredTokens(self.store, self.writer, self.clock, room_id))
            service = SensingService(
                room,
                bus=self.bus,
                clock=self.clock,
                install_secret=secret,
                tokens=tokens,
                host=config.host,
                port=self.site.node_port(self._room_config(room_id)),
                simulation=simulation,
                first_blob_id=first,
                blob_id_step=step,
                recorder=recorder,
                server_options={"limits": self.listeners.limits(NODE_FIRST_MESSAGE_S)},
            )
            service.start()
        except Exception as exc:  # a taken port, a bad address: say so, keep the cameras
            if recorder is not None:
                recorder.close()
                self.sensing_recorders = {
                    k: v for k, v in self.sensing_recorders.items() if k != room_id
                }
            log.exception("sensing room %s could not start", room_id)
            self._set_sensing_problem(room_id, f"sensing off: {exc}")
            return
        self._set_sensing_problem(room_id, None)
        self.sensing_services = {**self.sensing_services, room_id: service}
        self.listeners.listening(f"nodes:{room_id}", service.server.gate)
        if self.store is not None and self.writer is not None:
            service.watch_pairing(self.store, self.writer)  # `sense pair` reaches it
        self._load_ble_registry()  # blobs are named by the registered BLE devices

    def _set_sensing_problem(self, room_id: str, problem: str | None) -> None:
        """Why room ``room_id`` is off (None: it is not); the health is read meanwhile on
        the watchdog thread, so the mapping is replaced, never changed in place."""
        problems = {k: v for k, v in self._sensing_problems.items() if k != room_id}
        self._sensing_problems = problems if problem is None else {**problems, room_id: problem}

    def _room_config(self, room_id: str) -> SensingRoomConfig:
        return next(room for room in self.site.rooms if room.id == room_id)

    def _sensing_recorder(self, room_id: str) -> SensingRecorder | None:
        """The room's recording for replays (``sensing.recording_bytes`` and
        ``…_days`` from the settings; none at 0 bytes or without a store)."""
        if self.store is None:
            return None
        values = setting_values(self.store)
        max_bytes = values["sensing.recording_bytes"]
        if max_bytes <= 0:
            return None
        directory = sensing_recording_dir(self.site.name, room_id)
        recorder = SensingRecorder(
            directory,
            max_bytes=max_bytes,
            max_age_s=values["sensing.recording_days"] * 86400.0,
            keep=functools.partial(recording_is_locked, self.store, room_id),
            # Its failing writes and dropped records: events, an alert, the status bar.
            watch=self.media.room(room_id, directory.relative_to(data_dir()).as_posix()),
        )
        self.sensing_recorders = {**self.sensing_recorders, room_id: recorder}
        return recorder

    def _incident_service(self, store: Store, writer: StoreWriter) -> IncidentService:
        assert self.site_ids is not None
        origin = self.site.geo_origin
        prepare, similarity = incident_media_tools(
            store, writer, self.clock, self.site.detector_model, self.site.detector
        )
        return IncidentService(
            store,
            writer,
            self.clock,
            models_dir=data_dir() / "models",
            bus=self.bus,
            site_id=self.site_ids.site_id,
            site_centre=(origin.lat, origin.lon),
            prepare_media=prepare,
            similarity=similarity,
        )

    def _sensing_health(self) -> HealthReport:
        """One line for every sensing room of this engine: for one room as it always was;
        for several, each room named with its nodes and blobs, the worst first (or, when
        every room is well, saying so first)."""
        services = self.sensing_services
        problems = self._sensing_problems
        if not services and not problems:
            return HealthReport("sensing", HealthState.OFF, "no sensing room")
        names = {room.room_id: room.name for room in sensing_rooms(self.site)}
        reports: list[tuple[str, HealthState, str]] = [
            (room_id, HealthState.DOWN, problem) for room_id, problem in problems.items()
        ]
        for room_id, sensing in services.items():
            state, detail = _room_health(sensing)
            reports.append((room_id, state, detail))
        if len(reports) == 1:
            _, state, detail = reports[0]
            return HealthReport("sensing", state, detail)
        order = (HealthState.DOWN, HealthState.DEGRADED, HealthState.OK, HealthState.OFF)
        # The worst first; of two rooms down, the one that is off (it will not come back by
        # itself) before one whose nodes are not online yet.
        reports.sort(
            key=lambda r: (order.index(r[1]) if r[1] in order else 0, r[0] not in problems, r[0])
        )
        state = reports[0][1]
        detail = "; ".join(f"{names.get(room_id, room_id)}: {text}" for room_id, _, text in reports)
        if state is HealthState.OK:  # the status bar shows the start: say first that all is well
            detail = f"{len(reports)} rooms, all nodes online: {detail}"
        return HealthReport("sensing", state, detail)

    def _fusion_health(self, fusion: FusionService) -> HealthReport:
        """Which cameras are on the floor (joined with the rooms' sensing) and how many
        people the senses share now; a camera not calibrated yet is said, with how."""
        calibrated = fusion.calibrated()
        cameras = [cam for cam in self.site.cameras if cam.id in self.sources]
        missing = [cam.name for cam in cameras if cam.id not in calibrated]
        latest = fusion.latest()
        people = [p for p in latest.people if not p.waiting] if latest is not None else []
        joined = sum(1 for p in people if len({kind for kind, _, _ in p.members}) > 1)
        now = f"{counted(len(people), 'person', 'people')} in view, {joined} seen by both"
        on_floor = f"{len(cameras) - len(missing)} of {len(cameras)} cameras on the floor"
        if fusion.dropped:
            return HealthReport(
                "fusion",
                HealthState.DEGRADED,
                f"falling behind: {fusion.dropped} sightings dropped; {on_floor}; {now}",
            )
        if len(missing) == len(cameras):
            return HealthReport(
                "fusion",
                HealthState.OFF,
                "no camera calibrated to the floor yet (Floor calibration page): cameras and "
                "sensing rooms are not joined",
            )
        if missing:
            names = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
            return HealthReport(
                "fusion",
                HealthState.OK,
                f"{on_floor} ({names} not calibrated: not joined with sensing); {now}",
            )
        return HealthReport("fusion", HealthState.OK, f"{on_floor}; {now}")

    def _register_site(self) -> StoreCommand:
        """The store command that mirrors the site (or the analysed file's camera)."""
        if self.file_analysis is None:
            return SyncSite(site=self.site, at=self.clock.now())
        camera = self.site.cameras[0]
        return RegisterVideoCamera(
            camera_key=camera.id,
            video=camera.url,
            at=self.clock.now(),
            site=self.site.name,
            name=camera.name,
        )

    def _attach_clip_recorders(self, store: Store, site_ids: SiteIds) -> None:
        for cam_id, pipeline in self.pipelines.items():
            self._attach_clip_recorder(cam_id, pipeline, site_ids)

    def _attach_clip_recorder(
        self, cam_id: str, pipeline: CameraPipeline, site_ids: SiteIds
    ) -> None:
        pipeline.recorder = ClipRecorder(
            cam_id,
            site_ids.cameras.get(cam_id),
            self.writer,
            self.bus,
            self.clock,
            clips_dir=data_dir() / "clips",
            fps_hint=CLIP_FPS_HINT,
            blocking=self.file_analysis is not None,  # a recording loses no clip frames
            media_watch=self.media,
        )

    def add_health(self, source: Callable[[], HealthReport]) -> None:
        """Report another part of this process among the subsystems (an attached console's
        recordings, fetched from the site's engines); ``source`` is called at each health
        round, on the engine's housekeeping thread."""
        self._health_sources.append(source)

    def health(self) -> list[HealthReport]:
        """Current health of each subsystem, for the status bar and ``--selftest``."""
        reports = [HealthReport("engine", HealthState.OK, f"site {self.site.name}")]
        health = self.writer.health() if self.writer is not None else None
        if self.store is None:
            reports.append(HealthReport("store", HealthState.OFF, "no database"))
        elif health is not None and health.fatal:
            reports.append(HealthReport("store", HealthState.DOWN, health.fatal))
        elif health is not None and health.last_error:
            reports.append(
                HealthReport(
                    "store",
                    HealthState.DEGRADED,
                    f"retrying: {health.last_error} ({health.queued} queued, "
                    f"{health.retried} retries, {health.spilled} spilled)",
                )
            )
        elif self._retention_problem:
            reports.append(HealthReport("store", HealthState.DEGRADED, self._retention_problem))
        elif self.audit_checkpoints is not None and self.audit_checkpoints.problem:
            problem = self.audit_checkpoints.problem
            reports.append(HealthReport("store", HealthState.DEGRADED, problem))
        else:
            # Short: the status bar has room for every subsystem (System names the URL).
            reports.append(
                HealthReport("store", HealthState.OK, short_url(str(self.store.engine.url)))
            )
        reports.append(self._camera_health())
        if self.store is not None and not self.attached:  # attached: nothing is recorded here
            reports.append(self._recording_health())
        if self.pipelines:
            reports.append(self._analytics_health())
        if self.sensing_services or self._sensing_problems:
            reports.append(self._sensing_health())
        if self.fusion is not None:
            reports.append(self._fusion_health(self.fusion))
        speech = self.speech.health()
        if speech is not None:
            reports.append(speech)
        reports.extend(self.shared.health(len(self.site.cameras)))
        mqtt = self.mqtt.health()
        if mqtt is not None:
            reports.append(mqtt)
        threads = threads_health()
        if threads is not None:
            reports.append(threads)
        reports.extend(gathered(self._health_sources))
        return reports

    def _recording_health(self) -> HealthReport:
        """Are clips, snapshots and the sensing recording being written? Down while any
        camera's media or the room's recording fail."""
        failing = self.media.failing()
        if failing:
            source, losses = next(iter(failing.items()))
            key = source.partition(":")[2]
            name = place_names(self.site).get(key) or key
            more = f" (+{len(failing) - 1} more)" if len(failing) > 1 else ""
            lost = (
                f"no {losses.unit}s lost yet"
                if not losses.lost
                else f"{counted(losses.lost, losses.unit)} lost"
            )
            return HealthReport(
                "recording", HealthState.DOWN, f"{name}: {losses.reason}, {lost}{more}"
            )
        earlier = []
        if self.media.total_lost:
            earlier.append(counted(self.media.total_lost, "file"))
        records = sum(records for records, _ in self.media.rooms_lost().values())
        if records:
            earlier.append(counted(records, "sensing record"))
        detail = f"saving; {' and '.join(earlier)} lost earlier" if earlier else "saving"
        return HealthReport("recording", HealthState.OK, detail)

    def _analytics_health(self) -> HealthReport:
        stats = {cam_id: s.stats() for cam_id, s in self.sources.items()}
        failing = {cam_id: st for cam_id, st in stats.items() if st.processing_errors}
        if failing:
            cam_id, st = next(iter(failing.items()))
            return HealthReport(
                "analytics",
                HealthState.DEGRADED,
                f"{cam_id}: {st.processing_errors} frames failed ({st.last_processing_error})",
            )
        problems = [p for p in (self._faces_problem, self.gestures.problem) if p]
        if problems:
            return HealthReport("analytics", HealthState.DEGRADED, "; ".join(problems))
        people = sum(len(p.analyzer.tracker.tracks) for p in self.pipelines.values())
        busiest = max((st.processing_ms for st in stats.values()), default=0.0)
        return HealthReport(
            "analytics", HealthState.OK, f"{people} tracked, ≤{busiest:.0f} ms/frame"
        )

    def _camera_health(self) -> HealthReport:
        if self.shared.follower is not None:
            return self.shared.followed_cameras([c.id for c in self.site.cameras])
        if not self.sources and self.cluster is not None and self.site.cameras:
            return HealthReport(
                "cameras", HealthState.OK, f"none here; {len(self.site.cameras)} on other engines"
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

    def _aborting(self) -> bool:
        """Whether the start is to end early (its ``abort`` set, or :meth:`stop` called)."""
        abort = self._abort
        return self._stop.is_set() or (abort is not None and abort.is_set())

    def _watch(self) -> None:
        while not self.clock.wait(self._stop, WATCHDOG_INTERVAL_S):
            for source in self.sources.values():
                source.check_stall()
            for pipeline in self.pipelines.values():
                if pipeline.recorder is not None:
                    pipeline.recorder.finish_if_idle()
            if self.file_analysis is None:  # a live camera's losses are timed on this clock
                self.media.flush(due_at=self.clock.now())
            self._publish_health()

    def _on_retention_run(self, run: MaintenanceRun) -> None:
        """After each pass of the retention thread (on that thread)."""
        if run.retention is not None and run.retention.persons_deleted and self.faces is not None:
            self.faces.memory.reload()  # deleted people must not be recognised again
        self._retention_problem = run.problem

    def _publish_health(self) -> None:
        self._health_publisher.publish(self.health())

    def _analysis_report(self, cam_id: str, processing_ms: float) -> dict[str, Any] | None:
        pipeline = self.pipelines.get(cam_id)
        if pipeline is None:
            return None
        analyzer = pipeline.analyzer
        return {
            "processing_ms_per_frame": round(processing_ms, 2),
            "detector_runs": analyzer.stats.detector_runs,
            "detections": analyzer.stats.detections,
            "tracks_confirmed": analyzer.stats.tracks_confirmed,
        }

    def _recording_report(self, cam_id: str) -> dict[str, Any] | None:
        """The camera's clip recorder: pre-event buffer, encoder and clip figures."""
        pipeline = self.pipelines.get(cam_id)
        if pipeline is None or not isinstance(pipeline.recorder, ClipRecorder):
            return None
        return pipeline.recorder.stats().as_dict()

    def report(self) -> dict[str, Any]:
        """Per-camera figures for ``watchfloor engine --report``: frames, fps while online,
        offline periods (ISO times, seconds)."""
        end = self.clock.now()
        cameras: dict[str, Any] = dict(self._handed_over)
        for cam_id, source in self.sources.items():
            cameras[cam_id] = self._camera_report(cam_id, source, end)
        rooms = self._sensing_rooms_report()
        return {
            "site": self.site.name,
            "site_file": str(self.site.file),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": end.isoformat(),
            "store": display_url(str(self.store.engine.url)) if self.store else None,
            "events_written": self.writer.health().written if self.writer else 0,
            "store_writer": self.writer.health().as_dict() if self.writer else None,
            "media_lost_count": self.media.total_lost,
            "media_lost": [lost.as_dict() for lost in self.media.lost()],
            "listening": self.listeners.report(),
            # Each supervised background thread: restarts after a failure, the last error.
            "background_threads": [h.as_dict() for h in supervised_health()],
            "cameras": cameras,
            "cluster": self.shared.report(),
            # The site's first room running here (a one-room site's room), as before rooms
            # had ids; "sensing_rooms" has every room's, by id.
            "sensing": next(iter(rooms.values()), {}).get("sensing"),
            "sensing_recording": next(iter(rooms.values()), {}).get("recording"),
            "sensing_rooms": rooms,
            "mqtt": self.mqtt.report(),
            "alerts": (
                None
                if self.alerts is None
                else {
                    "raised": self.alerts.raised,
                    "open": self.alerts.open_alerts(),
                    "webhooks": self.alerts.webhooks,
                    "sequences": self.alerts.sequences,
                    "risk_classes": (
                        self.alerts.risk_classes.status().describe(self.site.site_time)
                        if self.alerts.risk_classes is not None
                        else None
                    ),
                }
            ),
        }

    def _camera_report(self, cam_id: str, source: CameraSource, end: datetime) -> dict[str, Any]:
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
            "analysis": self._analysis_report(cam_id, stats.processing_ms),
            "recording": self._recording_report(cam_id),
            "handed_over": False,
        }

    def _sensing_rooms_report(self) -> dict[str, dict[str, Any]]:
        """Each sensing room this engine ran, by id, in the site's order: its service's
        report and its recording's (:meth:`_sensing_recording_report`)."""
        services, recorders = self.sensing_services, self.sensing_recorders
        return {
            room.room_id: {
                "sensing": services[room.room_id].report() if room.room_id in services else None,
                "recording": self._sensing_recording_report(room.room_id),
            }
            for room in sensing_rooms(self.site)
            if room.room_id in services or room.room_id in recorders
        }

    def _sensing_recording_report(self, room_id: str) -> dict[str, Any] | None:
        """A room's recording: its figures (:class:`RecorderStats`), where it is and, in
        ``lost_records``/``lost_blocks``, what could not be written (None: no recording)."""
        recorder = self.sensing_recorders.get(room_id)
        if recorder is None:
            return None
        stats = recorder.stats()
        failing = self.media.failing()
        return {
            **stats.as_dict(),
            "directory": str(recorder.directory),
            "lost_records": stats.dropped,
            "lost_blocks": stats.dropped_blocks,
            "failing": f"sensing:{room_id}" in failing,
        }

    # -- BLE identities: the registry the sensing room names blobs by -----------------------
    # One refresh at a time, so a slower read cannot replace a newer registry with an older one.
    _ble_registry_lock = threading.Lock()

    def person_renamed(self, public_id: str, name: str | None) -> None:
        """Person ``public_id`` was given ``name``: live tracks showing them and blobs
        carrying their devices take it. Reads the store: call it off the GUI thread."""
        if self.faces is not None:
            self.faces.renamed(public_id, name)
        self.refresh_ble_registry()

    def refresh_ble_registry(self) -> int:
        """Read the BLE device registry from the store and hand it to the sensing room, which
        names a blob carrying a device by its carrier's display name (their name, else the
        device's label), id and colour. Returns how many devices (0, doing nothing, without a
        store or a sensing room). Call it after anything that changes devices or their
        carriers' names (registering, removing, renaming, merging or erasing people). Reads
        the store: call it off the GUI thread."""
        services = self.sensing_services
        if self.store is None or not services:
            return 0
        from engine.identity.ble import KnownDevice
        from engine.identity.devices import ble_registry

        with self._ble_registry_lock:
            devices = [
                KnownDevice(
                    address=device.address,
                    label=device.label,
                    name=device.display_name,
                    person_id=device.person_id,
                    colour=device.colour,
                )
                for device in ble_registry(self.store).values()
            ]
            for sensing in services.values():  # every room names blobs by the same devices
                sensing.set_ble_registry(devices)
        return len(devices)

    def _load_ble_registry(self) -> None:
        """The registry for a sensing room that has just started; a store that cannot be read
        leaves its blobs unnamed (said in the log), not sensing off."""
        try:
            count = self.refresh_ble_registry()
        except Exception:
            log.exception("the BLE device registry could not be read: blobs stay unnamed")
            return
        log.info("sensing names blobs by %d registered BLE devices", count)


def incident_media_tools(
    store: Store,
    writer: StoreWriter,
    clock: Clock,
    detector_model: Path | None = None,
    detector: str = DEFAULT_DETECTOR,
) -> tuple[Callable[[Path], MediaInput], Callable[[Any, Any], float]]:
    """How a report's photo or video is prepared (checked, copied into the data dir,
    analysed with the cameras' person detector and the face memory) and compared: for the
    incident desk. The detector is made on first use, its own (not a camera's), and one
    file is analysed at a time."""
    from engine.incidents.media import prepare_media, similarity

    lock = threading.Lock()
    tools: dict[str, Any] = {}

    def prepare(path: Path) -> MediaInput:
        with lock:
            if "detector" not in tools:
                tools["detector"] = make_detector(detector_model, detector)
                try:
                    tools["faces"] = FaceMemory(store, writer, clock)
                except Exception as exc:  # face models missing: people are still counted
                    log.warning("incident media: faces not matched: %s", exc)
                    tools["faces"] = None
            return prepare_media(
                path, detector=tools["detector"], faces=tools["faces"], now=clock.now()
            )

    return prepare, similarity


def place_names(site: SiteConfig) -> dict[str, str]:
    """What a person calls each place of ``site``: camera ids and its sensing rooms' ids to
    their names (the words of events, reports and answers use them)."""
    names = {camera.id: camera.name for camera in site.cameras}
    names.update({room.room_id: room.name for room in sensing_rooms(site)})
    return names


def sensing_rooms(site: SiteConfig) -> tuple[RoomSpec, ...]:
    """The site's sensing rooms, in file order: its ``[room]`` box (id ``"room"``) or each
    of its ``[[rooms]]``, with the ``[[sensing_nodes]]`` standing in it. A room with fewer
    than two nodes senses nothing and is left out (only the one-room ``[room]`` form allows
    it; ``[[rooms]]`` requires two)."""
    return tuple(
        RoomSpec(
            room_id=room.id,
            name=room.name,
            size=(room.box.width_m, room.box.depth_m, room.box.height_m),
            nodes=tuple(
                NodeSpec(n.id, n.name, (n.position.x_m, n.position.y_m, n.position.z_m), n.mac)
                for n in nodes
            ),
            voxel_m=site.sensing.voxel_m,
            falls=FallPolicy(
                alerts=cast(FallAlerts, site.sensing.fall_alerts),
                confirm_s=site.sensing.fall_confirm_s,
            ),
        )
        for room in site.rooms
        if len(nodes := site.nodes_of(room.id)) >= 2
    )


def rooms_shown(
    site: SiteConfig, *, attached: bool, running: Collection[str]
) -> list[tuple[str, str]]:
    """The sensing rooms a console shows, ``(id, name)`` in the site's order: attached to a
    shared site, every room of the site (its engines run them; their pictures arrive over
    the database); else the rooms ``running`` in its own engine."""
    return [
        (room.room_id, room.name)
        for room in sensing_rooms(site)
        if attached or room.room_id in running
    ]


def room_blob_numbering(last_blob_id: int, index: int, count: int) -> tuple[int, int]:
    """Where room number ``index`` (0-based, of the site's ``count`` rooms) numbers its blobs
    from, and in what steps, after ``last_blob_id`` (the highest any room stored): the room
    takes the ids ``index + 1`` past a multiple of ``count``, so rooms running at once, in
    one engine or several, never give out the same id; one room numbers on by 1."""
    step = max(count, 1)
    first = last_blob_id + 1
    first += (index + 1 - first) % step
    return first, step


def _room_health(sensing: SensingService) -> tuple[HealthState, str]:
    """A running room's health: its nodes online and its blobs."""
    snapshot = sensing.snapshot()
    nodes = snapshot.nodes if snapshot else ()
    online = sum(n.online for n in nodes)
    blobs = len(snapshot.blobs) if snapshot else 0
    kind = "simulated, " if sensing.simulated else ""
    detail = f"{kind}{online}/{len(nodes)} nodes online, {counted(blobs, 'blob')}"
    derived = sensing.server.tokens.derived()
    if derived:  # an install of old: said until each is rotated (engine.sensing.nodes.tokens)
        detail += (
            f"; {counted(len(derived), 'node')} on a token derived from the install secret: "
            "rotate with `watchfloor sense token MAC --rotate`"
        )
    if nodes and online == len(nodes):
        return HealthState.OK, detail
    return (HealthState.DEGRADED if online else HealthState.DOWN), detail
