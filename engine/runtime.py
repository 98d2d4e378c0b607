"""The engine host: one object that runs a site's subsystems headless.

Used the same way by the console (which bridges its bus onto the GUI thread), by
``watchfloor engine`` and by tests. It composes each capability's host (the cameras, the
recording, the sensing rooms, the fusion, speech, gestures, MQTT, the shared site), the
store writer and the site services, starts and stops them in order, reacts to a shared
site's leases and runs a watchdog thread that detects stalled cameras and publishes
subsystem health. What may be done to a running engine is each capability's ``actions``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.activity import ActivityService
from engine.alerts.host import live_alerts, reading_alerts, recording_alerts
from engine.alerts.recording import RecordingAlerts
from engine.alerts.records import AlertView
from engine.alerts.service import AlertService
from engine.bus import EventBus
from engine.clock import REAL_CLOCK, Clock
from engine.cluster.host import SharedSite
from engine.cluster.leases import SITE_SERVICES, Resource, resources_of
from engine.cluster.live import check_attachable
from engine.cluster.member import ClusterOptions
from engine.config import SiteConfig
from engine.fusion.host import FusionHost, follow_stored_settings
from engine.gestures.host import GestureHost
from engine.health import HealthPublisher, HealthReport
from engine.history.audit_checkpoints import AuditCheckpointer
from engine.history.locks import recording_is_locked
from engine.identity.faces_store import FaceMemory
from engine.identity.host import known_devices
from engine.instance import EngineLock
from engine.introductions import Introductions, NameGiven
from engine.listeners import Listeners
from engine.mqtt.host import MqttHost
from engine.paths import data_dir
from engine.record.host import RecordingHost
from engine.report import engine_health, engine_report, heartbeat, place_names
from engine.retention import MaintenanceRun, RetentionService
from engine.sensing.host import SensingHost, sensing_rooms
from engine.settings import setting_values
from engine.sim.site import SimulatedSite
from engine.site_services import SiteServices, incident_media_tools
from engine.speech.host import SpeechHost
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.sites import (
    RegisterVideoCamera,
    SiteIds,
    SyncSite,
    last_track_id,
    read_last_blob_id,
)
from engine.store.writer import StoreWriter
from engine.supervise import SupervisedThread
from engine.vision.analysis import RECENT_TRACKS
from engine.vision.appearance import AppearanceSeen, store_appearance
from engine.vision.face_worker import FaceWorker
from engine.vision.host import CameraHost, FileAnalysis
from engine.vision.pipeline import CameraPipeline

__all__ = ["EngineRuntime", "FileAnalysis", "incident_media_tools", "place_names", "sensing_rooms"]

log = logging.getLogger(__name__)

WATCHDOG_INTERVAL_S = 0.5


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
        self.site, self.store, self.clock = site, store, clock
        self.attached, self.cluster, self.file_analysis = attach, cluster, file_analysis
        self.bus = bus or EventBus()
        analysis = file_analysis or FileAnalysis(recording_start=clock.now())
        self.health_sources: list[Callable[[], HealthReport]] = []  # add_health
        # File descriptors split at start: a reserve for recording, the rest for listening
        # (the recordings server and each sensing room's node server share them evenly).
        self.listeners = Listeners(
            len(sensing_rooms(site)) + (1 if cluster is not None and cluster.files else 0)
        )
        # A shared site: this engine's leases, relay and servers, or a console's follower.
        self.shared = SharedSite(store, self.bus, clock, cluster)
        # A simulated site: what its rooms simulate; a walkthrough's walkers and scene.
        self.simulated = SimulatedSite(site, clock)
        self.scene_walkers, self.camera_scene = self.simulated.walkers, self.simulated.camera_scene
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
        # Clips, and every clip, snapshot and sensing recording write lost (published,
        # counted, even when the store cannot take it).
        self.recording = RecordingHost(self.bus, clock, self.writer, blocking=bool(file_analysis))
        self.media = self.recording.media
        # ``watchfloor analyze`` has no alert service: its recording alerts, raised alone.
        self.recording_alerts: list[AlertView] = []
        self._recording_alerts: RecordingAlerts | None = None
        self.faces: FaceWorker | None = None
        self.faces_problem: str | None = None
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
                self.faces_problem = f"faces unavailable: {exc}"
        # Taught gestures, matched on each camera's poses (read from the store at start).
        self.gestures = GestureHost(
            self.bus,
            store,
            self.writer,
            enabled=analytics and analysis.gestures and store is not None,
            blocking=file_analysis is not None,
        )
        self.cameras = CameraHost(
            site,
            self.bus,
            clock,
            analytics=analytics,
            realtime=realtime,
            detect_interval_s=analysis.detect_interval_s,
            snapshot_dir=data_dir() if store is not None and analysis.snapshots else None,
            keep_tracks=None if file_analysis is not None else RECENT_TRACKS,
            recording_start=file_analysis.recording_start if file_analysis else None,
            faces=self.faces,
            gestures=self.gestures.worker,
            media_watch=self.media,
            scene=self.camera_scene,
            clip_report=self.recording.report,
        )
        if cluster is None and not attach:
            self.cameras.make_all()
        # The sensing rooms running here (live engines only): every room of the site, or on
        # a shared site the rooms this engine leases.
        self.sensing = SensingHost(
            site,
            self.bus,
            clock,
            store,
            self.writer,
            listeners=self.listeners,
            media=self.media,
            keep=(lambda room: functools.partial(recording_is_locked, store, room))
            if store is not None
            else None,
            devices=functools.partial(known_devices, store) if store is not None else None,
        )
        self.floor = FusionHost(site, self.bus, clock)  # one person across cameras and rooms
        # Introductions (live engines): a speech service per camera with a microphone, all
        # sharing one recogniser; heard names offered to the person nearest the camera.
        self.speech = SpeechHost(self.bus, clock, store, lambda: self.cameras.pipelines)
        self.introductions: Introductions | None = None
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
        self.alerts: AlertService | None = None  # falls → alerts, webhooks, escalation (live)
        # Incidents and meaning search (live engines; a shared site's: one engine's).
        self.site_services = SiteServices(site, self.bus, clock)
        self.activity: ActivityService | None = None  # tracks grouped into activities (live)
        self.retention: RetentionService | None = None  # its own thread, live engines only
        self.retention_problem: str | None = None
        # Signs the audit trail's head into a file beside the database (live engines only).
        self.audit_checkpoints: AuditCheckpointer | None = None
        self._data_dir_lock: EngineLock | None = None  # held while a live engine runs
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
        # A live engine re-reads the stored privacy masks and floor calibrations.
        self._settings_watch: threading.Thread | None = None
        self._health_publisher = HealthPublisher(self.bus, clock.now)
        self._appearances_unsubscribe: Callable[[], None] | None = None
        self._fusion_unsubscribe: Callable[[], None] | None = None

    def start(self, abort: threading.Event | None = None) -> None:
        """Mirror the site into the store, then start the writer, cameras and watchdog.

        ``abort`` (set from any thread, a signal handler) ends the start early, between one
        service or camera and the next: :meth:`stop` then stops what had started."""
        self._abort = abort
        self.started_at = self.clock.now()
        self.listeners.reserve()  # before anything opens a file or a port
        self.simulated.start()  # the simulated scene's t = 0
        live = self.file_analysis is None
        if self.store is not None and live and not self.attached:
            # One live engine per data dir (analyze runs beside it without the lock).
            lock = EngineLock(data_dir())
            lock.acquire()  # EngineAlreadyRunningError names the other engine's pid
            self._data_dir_lock = lock
        if self.store is not None and self.writer is not None:
            store, writer = self.store, self.writer
            if self.attached:
                check_attachable(store, self.site.name)
            writer.on_fatal(self._on_store_fatal)
            writer.start()
            try:
                self.site_ids = ids = writer.execute(self._register_site())
            except Exception:
                writer.stop()
                if self._data_dir_lock is not None:
                    self._data_dir_lock.release()
                raise
            writer.register_cameras(ids.site_id, ids.cameras)
            # Before any camera starts: no frame is seen unmasked. A failed read fails the
            # start rather than run the cameras bare.
            self.cameras.masks.load(store, ids.site_id)
            names = place_names(self.site)
            if self.attached:  # the engines raise, escalate and deliver: read the rules
                self.alerts = reading_alerts(self.site, self.bus, writer, store, self.clock, names)
                self.alerts.start_reading()
                self.shared.follow(store, ids.site_id, self.site.name, self.alerts.risk_gate)
                self._watchdog.start()
                self._publish_health()
                return
            writer.attach(self.bus)
            self._store_appearances(writer, ids.cameras)
            self.cameras.number_tracks(ids.last_track_ids)
            if live:
                self.apply_settings()
            if self.file_analysis is None or self.file_analysis.clips:
                for cam_id, pipeline in self.cameras.pipelines.items():
                    pipeline.recorder = self.recording.clip_recorder(
                        cam_id, ids.cameras.get(cam_id)
                    )
            if not live:
                self._recording_alerts = recording_alerts(
                    self.site, self.bus, writer, self.clock, names, self.recording_alerts
                )
            if live:  # orphan sweep and retention: at start, hourly
                self.retention = RetentionService(
                    store,
                    writer,
                    self.clock,
                    data_dir(),
                    cameras=ids.cameras,
                    on_run=self._on_retention_run,
                )
                self.retention.start()
                self.audit_checkpoints = AuditCheckpointer(store, self.clock, key_dir=data_dir())
                self.audit_checkpoints.start()
                self.alerts = live_alerts(self.site, self.bus, writer, store, self.clock, names)
                self.alerts.start()  # after the writer is attached: alerts link their events
                self.activity = ActivityService(bus=self.bus, clock=self.clock)
                self.activity.start()  # after the writer: an activity's row follows its cause
                if self.cluster is None:  # a shared site's: on the engine holding their lease
                    self._start_site_services()
        if self._aborting():
            return
        if live:  # before the cameras: it hears them start
            self.mqtt.start(self.bus, shared=self.cluster is not None)
        if self.faces is not None:
            self.faces.start()
        self.gestures.start()
        for source in self.cameras.sources.values():
            if self._aborting():
                return
            source.start()
        if self._aborting():
            return
        if live and self.store is not None and self.site_ids is not None:
            self._start_fusion(self.store, self.site_ids.site_id)  # before the first reports
        if live and self.cluster is None:
            for room in sensing_rooms(self.site):
                self._start_sensing(room.room_id)
            self._start_introductions()
        self._watchdog.start()
        if live and self.store is not None and self.site_ids is not None:
            self._settings_watch = SupervisedThread(
                functools.partial(
                    follow_stored_settings,
                    self.store,
                    self.site_ids.site_id,
                    self.cameras.masks,
                    self.floor,
                    self.clock,
                    self._stop,
                ),
                name="engine-settings",
                stop=self._stop,
                clock=self.clock,
            )
            self._settings_watch.start()
        if self.cluster is not None and self.site_ids is not None:
            self.shared.join(  # EngineNameTakenError when the name is in use
                self.site_ids.site_id,
                resources_of(
                    [(cam.id, cam.engine) for cam in self.site.cameras],
                    [room.room_id for room in sensing_rooms(self.site)],
                ),
                frames=self.cameras.frames,
                listeners=self.listeners,
                on_acquire=self._on_lease_acquired,
                on_release=self._on_lease_released,
                health=functools.partial(heartbeat, self),
                on_name_lost=self._on_name_lost,
            )
        self._publish_health()

    # -- a shared site: what this engine holds a lease for ------------------------------
    def _on_name_lost(self, why: str) -> None:
        """Another process runs as this engine now: stop (the member has already stopped
        taking leases and is stopping what this engine ran). Runs on the member's thread;
        ``name_lost`` tells the CLI why."""
        self.name_lost = why
        self._stop.set()
        self._fatal.set()

    def _on_lease_acquired(self, resource: Resource) -> None:
        kind, key = resource
        if resource == SITE_SERVICES:
            self._start_site_services()
        elif kind == "camera":
            if self.store is not None and self.site_ids is not None:
                # The mask as stored now: another engine or a console may have changed it.
                self.cameras.masks.load(self.store, self.site_ids.site_id, only=key)
            self.cameras.start_camera(key, self._prepare_camera)
        elif kind == "room":
            self._start_sensing(key)
        log.info("engine %s runs %s %s", self.cluster.name if self.cluster else "", kind, key)

    def _on_lease_released(self, resource: Resource, why: str) -> None:
        kind, key = resource
        if resource == SITE_SERVICES:
            self._stop_site_services()
        elif kind == "camera":
            self.cameras.stop_camera(key)
        elif kind == "room":
            self.sensing.stop_room(key)
        if self.writer is not None:
            # What it saw is stored before another engine numbers tracks after it.
            self.writer.flush(timeout_s=10.0)
        log.info("engine %s stopped %s %s: %s", self.cluster.name if self.cluster else "",
                 kind, key, why)  # fmt: skip

    def _prepare_camera(self, cam_id: str, pipeline: CameraPipeline) -> None:
        """A shared site's camera starting here: its tracks numbered after the last one any
        engine stored, those a stopped engine left open ended, its clips recorded."""
        if self.store is None or self.site_ids is None:
            return
        ids = self.site_ids
        last = last_track_id(self.store, ids.cameras.get(cam_id))
        if last is not None:
            pipeline.analyzer.tracker.number_after(last)
        self.shared.end_lost_tracks(cam_id, ids.cameras.get(cam_id), ids.site_id, self.writer)
        pipeline.recorder = self.recording.clip_recorder(cam_id, ids.cameras.get(cam_id))

    def _start_site_services(self) -> None:
        """The incident service (risk model, nightly refit) and meaning search's indexer:
        one per site; on a shared site, MQTT publishing the whole site with them."""
        assert self.store is not None and self.writer is not None and self.site_ids is not None
        self.site_services.start(self.store, self.writer, self.site_ids.site_id)
        if self.cluster is not None and self.site.mqtt is not None:
            self.mqtt.start_shared(self.site_ids.site_id, self.cluster.name)

    def _stop_site_services(self) -> None:
        if self.cluster is not None:
            self.mqtt.stop_shared()
        self.site_services.hand_over()

    def stop(self) -> None:
        """Stop cameras, then let the writer store what they reported last."""
        self._stop.set()
        self.shared.stop_following()  # the member stops what it holds, gives leases back
        self.mqtt.stop()  # says "offline" while the broker is there to hear it
        self.sensing.stop()  # its last events go to the writer, stopped below
        if self.alerts is not None:
            self.alerts.stop()
        self.site_services.stop_incidents()  # a refit under way finishes first (it writes)
        self.cameras.stop_sources()
        self.speech.stop_listening()  # what was heard is recognised; its names offered
        if self.introductions is not None:
            self.introductions.stop()
        if self._fusion_unsubscribe is not None:
            self._fusion_unsubscribe()  # the fusion hears no more names
            self._fusion_unsubscribe = None
        self.speech.close()
        if self.faces is not None:
            self.faces.stop()  # queued faces first, so leaving tracks carry their person
        self.gestures.stop()  # queued poses matched; landmarkers closed
        self.cameras.close_pipelines()
        if self.activity is not None:
            self.activity.stop()  # after the last tracks left: the activities they end
        self.floor.stop()  # after the rooms and cameras: the paths still open are filed
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
        self.site_services.stop_indexer()  # the batch in hand is stored; the rest waits
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

    def _start_fusion(self, store: Store, site_id: int) -> None:
        """Join camera tracks and sensing blobs into people; a name given to a track by an
        introduction is the person's across senses."""
        self.floor.start(store, site_id)
        fusion = self.floor.service
        if fusion is None:
            return

        def introduced(given: NameGiven) -> None:
            if given.track_id is not None:
                fusion.name_track(
                    given.camera, given.track_id, given.name, given.person_id, "introduced"
                )

        self._fusion_unsubscribe = self.bus.subscribe(NameGiven, introduced)

    def _start_introductions(self) -> None:
        """Offer heard names to the people nearest their camera; a speech service for each
        camera with a microphone."""
        if self.writer is None or self.store is None:
            return
        store = self.store
        self.introductions = Introductions(
            self.bus,
            self.writer,
            self.clock,
            {cam_id: p.analyzer for cam_id, p in self.cameras.pipelines.items()},
            self.faces,
            auto=lambda: setting_values(store)["analytics.speech_names_auto"] == 1,
            nearest=self.floor.nearest_to_microphone if self.floor.service is not None else None,
        )
        self.introductions.start()
        self.speech.start([(c.id, c.microphone) for c in self.site.cameras if c.microphone])

    def _start_sensing(self, room_id: str) -> None:
        """The site's sensing room ``room_id``, its blobs numbered after the last one stored
        (on a shared site, after another engine's); a simulated site's, its simulated nodes."""
        index = self.sensing.index_of(room_id)
        if index is None or room_id in self.sensing.services:
            return
        simulation = self.simulated.room(room_id, index)
        last = self.site_ids.last_blob_id if self.site_ids is not None else 0
        if self.cluster is not None and self.store is not None:  # after another engine's blobs
            last = read_last_blob_id(self.store)
        self.sensing.start_room(room_id, last_blob_id=last, simulation=simulation)

    def apply_settings(self) -> None:
        """Apply the stored settings that act on running cameras (the detector cadence, the
        confidence a gesture needs); retention reads its own at every pass. Reads the store:
        call it from a worker, never the GUI thread. A live engine only: an analysis keeps
        what it was given."""
        if self.store is None or self.file_analysis is not None:
            return
        values = setting_values(self.store)
        self.cameras.set_detect_interval(values["analytics.detect_interval_ms"] / 1000)
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

    def add_health(self, source: Callable[[], HealthReport]) -> None:
        """Report another part of this process among the subsystems (an attached console's
        recordings, fetched from the site's engines); ``source`` is called at each health
        round, on the engine's housekeeping thread."""
        self.health_sources.append(source)

    def health(self) -> list[HealthReport]:
        """Current health of each subsystem, for the status bar and ``--selftest``."""
        return engine_health(self)

    def _aborting(self) -> bool:
        """Whether the start is to end early (its ``abort`` set, or :meth:`stop` called)."""
        abort = self._abort
        return self._stop.is_set() or (abort is not None and abort.is_set())

    def _watch(self) -> None:
        while not self.clock.wait(self._stop, WATCHDOG_INTERVAL_S):
            self.cameras.watch()
            if self.file_analysis is None:  # a live camera's losses are timed on this clock
                self.media.flush(due_at=self.clock.now())
            self._publish_health()

    def _on_retention_run(self, run: MaintenanceRun) -> None:
        """After each pass of the retention thread (on that thread)."""
        if run.retention is not None and run.retention.persons_deleted and self.faces is not None:
            self.faces.memory.reload()  # deleted people must not be recognised again
        self.retention_problem = run.problem

    def _publish_health(self) -> None:
        self._health_publisher.publish(self.health())

    def report(self) -> dict[str, Any]:
        """Per-camera figures for ``watchfloor engine --report``: frames, fps while online,
        offline periods (ISO times, seconds)."""
        return engine_report(self)

    # -- BLE identities: the registry the sensing rooms name blobs by ----------------------
    def person_renamed(self, public_id: str, name: str | None) -> None:
        """Person ``public_id`` was given ``name``: live tracks showing them and blobs
        carrying their devices take it. Reads the store: call it off the GUI thread."""
        if self.faces is not None:
            self.faces.renamed(public_id, name)
        self.sensing.refresh_ble_registry()
