"""The engine host: one object that runs a site's subsystems headless.

Used the same way by the console (which bridges its bus onto the GUI thread), by
``watchfloor engine`` and by tests. It composes each capability's host (the cameras, the
recording, the sensing rooms, the fusion, speech, gestures, MQTT, the shared site), the
store writer, the site services and the data dir's upkeep, starts and stops them in order,
joins a shared site (what its leases start and stop: :mod:`engine.leases`) and runs a
watchdog thread that detects stalled cameras and publishes subsystem health
(:mod:`engine.health`). What may be done to a running engine is each capability's
``actions``.
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
from engine.cluster.live import check_attachable
from engine.cluster.member import ClusterOptions
from engine.config import SiteConfig
from engine.data_dirs import data_dir
from engine.fusion.host import FusionHost, follow_stored_settings
from engine.gestures.host import GestureHost
from engine.health import HealthPublisher, HealthReport, watchdog
from engine.history.locks import recording_is_locked
from engine.identity.faces_store import FaceMemory
from engine.identity.host import known_devices
from engine.introductions import Introductions, NameGiven
from engine.leases import join_site, start_room, start_site_services
from engine.listeners import Listeners
from engine.mqtt.host import MqttHost
from engine.record.host import RecordingHost
from engine.record.retention_tiers import segment_policies
from engine.report import engine_health, engine_report, place_names
from engine.sensing.host import SensingHost, sensing_rooms
from engine.settings import setting_values
from engine.sim.site import SimulatedSite
from engine.site_reload import SiteChange, SiteFileFollower
from engine.site_services import SiteServices, incident_media_tools
from engine.speech.host import SpeechHost
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.sites import RegisterVideoCamera, SiteIds, SyncSite
from engine.store.writer import StoreWriter
from engine.supervise import SupervisedThread
from engine.upkeep import Upkeep
from engine.vision.analysis import RECENT_TRACKS
from engine.vision.appearance import AppearanceSeen, store_appearance
from engine.vision.face_worker import FaceWorker
from engine.vision.host import CameraHost, FileAnalysis

__all__ = ["EngineRuntime", "FileAnalysis", "incident_media_tools", "place_names", "sensing_rooms"]

log = logging.getLogger(__name__)


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
        # The data dir's lock, retention and the audit checkpoints (live engines only).
        self.upkeep = Upkeep(clock)
        self.site_ids: SiteIds | None = None
        self.started_at: datetime | None = None
        self._stop = threading.Event()
        self._abort: threading.Event | None = None  # start()'s: ends a start early
        self._fatal = threading.Event()
        self.fatal_error: str | None = None
        # A shared site's engine whose name another process took over (this one was paused
        # or cut off past its lease): why. It has stopped what it ran and must exit.
        self.name_lost: str | None = None
        self._watchdog = watchdog(self._watch, self._stop, clock)  # stalls and health
        # A live engine re-reads the stored privacy masks and floor calibrations.
        self._settings_watch: threading.Thread | None = None
        # The site as it runs: replaced whole when the site file's cameras change
        # (engine.site_reload), under this lock; the follower looks at the file.
        self.site_lock = threading.Lock()
        self.site_follower: SiteFileFollower | None = None
        self._site_watch: threading.Thread | None = None
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
            self.upkeep.lock()  # one live engine per data dir
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
                self.upkeep.release_lock()
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
                        cam_id,
                        ids.cameras.get(cam_id),
                        self.site.recording_of(cam_id) if live else None,
                    )
            if not live:
                self._recording_alerts = recording_alerts(
                    self.site, self.bus, writer, self.clock, names, self.recording_alerts
                )
            if live:  # orphan sweep and retention (at start, hourly), audit checkpoints
                policies = segment_policies(self.site, ids.cameras)  # recording's tiers
                self.upkeep.start(store, writer, ids.cameras, self.faces, segments=policies)
                self.alerts = live_alerts(self.site, self.bus, writer, store, self.clock, names)
                self.alerts.start()  # after the writer is attached: alerts link their events
                self.activity = ActivityService(bus=self.bus, clock=self.clock)
                self.activity.start()  # after the writer: an activity's row follows its cause
                if self.cluster is None:  # a shared site's: on the engine holding their lease
                    start_site_services(self)
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
                start_room(self, room.room_id)
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
            # Cameras added, changed, removed in the site file (a shared site's engines
            # each follow it; their leases follow the cameras once they have joined).
            follower = self.site_follower = SiteFileFollower(self)
            self.add_health(follower.health)
            self._site_watch = SupervisedThread(
                functools.partial(follower.run, self._stop),
                name="engine-site-file",
                stop=self._stop,
                clock=self.clock,
            )
        if self.cluster is not None and self.site_ids is not None:  # EngineNameTakenError
            join_site(self, self.site_ids.site_id, on_name_lost=self._on_name_lost)
        if self._site_watch is not None:
            self._site_watch.start()
        self._publish_health()

    def _on_name_lost(self, why: str) -> None:
        """Another process runs as this engine now: stop (the member has already stopped
        taking leases and is stopping what this engine ran). Runs on the member's thread;
        ``name_lost`` tells the CLI why."""
        self.name_lost = why
        self._stop.set()
        self._fatal.set()

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
        if self._site_watch is not None and self._site_watch.is_alive():
            self._site_watch.join(timeout=30)  # a camera change under way finishes
        # Clips are finished and faces saved: the losses gathered for the once-a-minute
        # event are published while the writer still takes them.
        self.media.flush()
        self.upkeep.stop_retention()
        if self._appearances_unsubscribe is not None:
            self._appearances_unsubscribe()
            self._appearances_unsubscribe = None
        self.site_services.stop_indexer()  # the batch in hand is stored; the rest waits
        self.shared.stop()  # after the alerts and cameras: their last words are told
        if self.writer is not None:
            self.writer.stop()
        self.upkeep.stop()  # after the writer: the checkpoints anchor its last entries too

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
            return SyncSite(
                site=self.site, at=self.clock.now(), default_rules=self.site.alerts.default_rules
            )
        camera = self.site.cameras[0]
        return RegisterVideoCamera(
            camera_key=camera.id,
            video=camera.url,
            at=self.clock.now(),
            site=self.site.name,
            name=camera.name,
        )

    def reload_site_file(self) -> SiteChange | None:
        """Apply the site file now if it changed (a console that just saved it), as the
        follower would within :data:`~engine.site_reload.FOLLOW_INTERVAL_S`; the change,
        or None (unchanged, not loadable: see the ``site`` health line). Blocks: a worker."""
        follower = self.site_follower
        return follower.check() if follower is not None else None

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
        """A round of the watchdog."""
        self.cameras.watch()
        if self.file_analysis is None:  # a live camera's losses are timed on this clock
            self.media.flush(due_at=self.clock.now())
        self._publish_health()

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
