"""A site shared by several engines through its database, as the runtime takes part in it.

A shared site's engine (``watchfloor engine --name``) joins the site's engines, takes
leases on cameras, rooms and the site services (the runtime starts and stops what it
gains and loses), tells attached consoles what happens here (:class:`LiveRelay`) and may
re-stream its cameras over RTSP and serve its recordings over HTTP. An attached console
(``watchfloor --attach``) runs nothing of its own: it follows what the engines store and
tell (:class:`LiveFollower`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from engine.bus import EventBus
from engine.clock import Clock
from engine.cluster.files import MediaFileServer
from engine.cluster.leases import SITE_SERVICES, LeaseBook, Resource
from engine.cluster.live import LiveFollower, LiveRelay, process_name
from engine.cluster.media import MediaServer, MediaServerError
from engine.cluster.member import ClusterMember, ClusterOptions
from engine.cluster.tracks import ended, open_tracks
from engine.data_dirs import data_dir
from engine.events import CameraStatus, HealthState
from engine.frames import Frame
from engine.health import HealthReport
from engine.listeners import Listeners
from engine.secrets import SecretError, read_secret
from engine.store.database import Store
from engine.store.writer import StoreWriter
from engine.wording import counted

log = logging.getLogger(__name__)


class SharedSite:
    """This process's part in a shared site: ``options`` for an engine of it, None for an
    attached console (:meth:`follow`) or an engine alone on its site (nothing runs)."""

    def __init__(
        self, store: Store | None, bus: EventBus, clock: Clock, options: ClusterOptions | None
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self.options = options
        self.relay: LiveRelay | None = None  # what this process tells others
        self.follower: LiveFollower | None = None  # an attached console's: what they tell
        self.member: ClusterMember | None = None  # an engine's, once joined
        self.media_server: MediaServer | None = None  # its cameras' RTSP streams
        self._media_problem: str | None = None
        self.file_server: MediaFileServer | None = None  # … and its recordings over HTTP
        self._files_problem: str | None = None

    # -- an attached console --------------------------------------------------------------
    def follow(self, store: Store, site_id: int, site_name: str, gate: Any) -> None:
        """Tell the engines and other consoles what this console changes, and follow what
        they store and tell (``gate``: the alert list's risk gate)."""
        sender = process_name("console")
        self.relay = LiveRelay(
            store, self._bus, site_id=site_id, sender=sender, engine="console", clock=self._clock
        )
        self.relay.start()
        self.follower = LiveFollower(
            store,
            self._bus,
            site_id=site_id,
            site_name=site_name,
            sender=sender,
            relay=self.relay,
            gate=gate,
            clock=self._clock,
        )
        self.follower.start()

    # -- a shared site's engine -----------------------------------------------------------
    def join(
        self,
        site_id: int,
        wanted: Mapping[Resource, str | None],
        *,
        frames: Callable[[], dict[str, Callable[[], Frame | None]]],
        listeners: Listeners,
        on_acquire: Callable[[Resource], None],
        on_release: Callable[[Resource, str], None],
        health: Callable[[], dict[str, Any]],
        on_name_lost: Callable[[str], None],
    ) -> None:
        """Join the site's engines and take a first share of ``wanted`` (its cameras, rooms
        and services) (:class:`~engine.cluster.leases.EngineNameTakenError` when the name
        is in use). ``frames``: the cameras running here now, for RTSP."""
        options, store = self.options, self._store
        assert options is not None and store is not None
        book = LeaseBook(
            store,
            site_id,
            options.name,
            lease_ttl_s=options.lease_ttl_s,
            engine_ttl_s=options.lease_ttl_s,
        )
        if store.backend == "postgresql":  # consoles attach over LISTEN/NOTIFY
            self.relay = LiveRelay(
                store,
                self._bus,
                site_id=site_id,
                sender=process_name(options.name),
                engine=options.name,
                clock=self._clock,
            )
            self.relay.start()
        if options.media is not None:
            self._start_media(options, frames)
        if options.files is not None:
            self._start_files(options, store, listeners)
        self.member = ClusterMember(
            book,
            wanted,
            capacity=options.capacity,
            on_acquire=on_acquire,
            on_release=on_release,
            clock=self._clock,
            heartbeat_s=options.heartbeat_s,
            health=lambda: {**health(), **self._media_of_heartbeat()},
            on_name_lost=on_name_lost,
        )
        self.member.start()

    def _start_media(
        self, options: ClusterOptions, frames: Callable[[], dict[str, Callable[[], Frame | None]]]
    ) -> None:
        """Re-stream the cameras this engine runs (whichever they are at the time) over
        RTSP; a server that cannot start is this engine's "media" trouble, not its end."""
        assert options.media is not None
        relay = self.relay
        server = MediaServer(
            options.media,
            frames,
            sent=relay.tell_tracks if relay is not None else None,
            clock=self._clock,
        )
        try:
            server.start()
        except MediaServerError as exc:
            log.error("%s", exc)
            self._media_problem = str(exc)
            return
        self.media_server = server

    def _start_files(self, options: ClusterOptions, store: Store, listeners: Listeners) -> None:
        """Serve this engine's recordings (clips, snapshots, sensing recordings) to attached
        consoles over HTTP; a server that cannot start is this engine's "media" trouble."""
        assert options.files is not None
        try:
            password = read_secret("media_password").reveal()
            server = MediaFileServer(
                store,
                options.files,
                engine=options.name,
                root=data_dir(),
                password=password,
                limits=listeners.limits(),
            )
            server.start()
        except (SecretError, MediaServerError) as exc:
            log.error("recordings not served: %s", exc)
            self._files_problem = f"recordings not served: {exc}"
            return
        self.file_server = server
        listeners.listening("recordings", server.gate)

    def _media_of_heartbeat(self) -> dict[str, Any]:
        """Where consoles find this engine's video and recordings (empty: nowhere)."""
        media: dict[str, Any] = {}
        if self.media_server is not None:
            media["url"] = self.media_server.options.url()
        if self.file_server is not None:
            media["files"] = self.file_server.url
        return {"media": media} if media else {}

    def end_lost_tracks(
        self, cam_id: str, camera_id: int | None, site_id: int, writer: StoreWriter | None
    ) -> None:
        """The tracks a stopped engine left open on this camera end now, at their last
        sighting (see :mod:`engine.cluster.tracks`)."""
        member, store = self.member, self._store
        if camera_id is None or member is None or writer is None or self.options is None:
            return
        assert store is not None
        view = member.view
        running = {e.name for e in view.alive()} if view is not None else set()
        me = self.options.name
        now = self._clock.now()
        for track in open_tracks(store, camera_id, me=me, running=running, now=now):
            writer.post(ended(track, camera=cam_id, camera_id=camera_id, site_id=site_id, me=me))
            log.info("engine %s ended track %d of %s left open by %s", me, track.track_id,
                     cam_id, track.engine)  # fmt: skip

    def stop_following(self) -> None:
        """First at stop: no more news followed, the leases given back (the member stops
        what it holds first)."""
        if self.follower is not None:
            self.follower.stop()
        if self.member is not None:
            self.member.stop()

    def stop(self) -> None:
        """Last before the writer: the servers, then the relay (the alerts' and cameras'
        last words are told)."""
        if self.media_server is not None:
            self.media_server.stop()
        if self.file_server is not None:
            self.file_server.stop()
        if self.relay is not None:
            self.relay.stop()

    # -- health and report ----------------------------------------------------------------
    def health(self, cameras: int) -> list[HealthReport]:
        """The ``cluster`` line (an engine's or an attached console's) and an engine's
        ``media`` line; ``cameras``: how many the site has."""
        reports = []
        if self.options is not None:
            reports.append(self._cluster_health(self.options, cameras))
            if self.options.media is not None or self.options.files is not None:
                reports.append(self._media_health(self.options))
        if self.follower is not None:
            reports.append(_attached_health(self.follower))
        return reports

    def _cluster_health(self, options: ClusterOptions, site_cameras: int) -> HealthReport:
        """A shared site's engine: what it runs, how many engines share the site, and a
        problem with the leases' database or this machine's clock."""
        member = self.member
        if member is None:
            return HealthReport("cluster", HealthState.DOWN, f"{options.name}: not joined")
        if member.problem:
            return HealthReport("cluster", HealthState.DEGRADED, member.problem)
        if member.clock_problem:
            return HealthReport("cluster", HealthState.DEGRADED, member.clock_problem)
        held = member.held
        cameras = sum(kind == "camera" for kind, _ in held)
        extra = [f"room {key}" for kind, key in sorted(held) if kind == "room"]
        if SITE_SERVICES in held:
            extra.append("site services")
        view = member.view
        engines = len(view.alive()) if view is not None else 1
        detail = f"{options.name}: {counted(cameras, 'camera')} of {site_cameras}"
        if extra:
            detail += ", " + ", ".join(extra)
        return HealthReport("cluster", HealthState.OK, f"{detail}; {counted(engines, 'engine')}")

    def _media_health(self, options: ClusterOptions) -> HealthReport:
        """The video streams' and the recordings server's health, in one line."""
        parts: list[str] = []
        state = HealthState.OK
        if options.media is not None:
            server = self.media_server
            if server is None:
                parts.append(self._media_problem or "RTSP not started")
                state = HealthState.DOWN
            elif server.problem:
                parts.append(server.problem)
                state = HealthState.DEGRADED
            else:
                parts.append(f"RTSP at {server.options.url()}")
        if options.files is not None:
            if self.file_server is None:
                parts.append(self._files_problem or "recordings not served")
                state = HealthState.DEGRADED if state is HealthState.OK else state
            else:
                parts.append(f"recordings at {self.file_server.url}")
        return HealthReport("media", state, "; ".join(parts))

    def followed_cameras(self, cameras: list[str]) -> HealthReport:
        """An attached console: the site's ``cameras`` as their engines last told."""
        follower = self.follower
        assert follower is not None
        if not cameras:
            return HealthReport("cameras", HealthState.OFF, "no cameras configured")
        known = dict(follower.cameras)
        online = sum(known[c].status is CameraStatus.ONLINE for c in cameras if c in known)
        total = len(cameras)
        state = (
            HealthState.OK
            if online == total
            else HealthState.DEGRADED
            if online
            else HealthState.DOWN
        )
        return HealthReport("cameras", state, f"{online}/{total} online on the site's engines")

    def report(self) -> dict[str, Any] | None:
        """A shared site's engine: its name, what it holds and who runs what."""
        if self.options is None:
            return None
        member = self.member
        view = member.view if member is not None else None
        return {
            "engine": self.options.name,
            "capacity": self.options.capacity,
            "held": sorted(f"{kind}:{key}" for kind, key in (member.held if member else {})),
            "clock_offset_ms": round(member.clock_offset_ms, 1) if member else None,
            "engines": [
                {"name": e.name, "host": e.host, "alive": e.alive, "capacity": e.capacity}
                for e in (view.engines if view else ())
            ],
            "owners": {
                f"{lease.kind}:{lease.key}": lease.holder for lease in (view.leases if view else ())
            },
        }


def _attached_health(follower: LiveFollower) -> HealthReport:
    """An attached console: whether it hears the site's engines, and how many run."""
    if not follower.connected:
        return HealthReport(
            "cluster", HealthState.DOWN, f"database away: {follower.problem or 'reconnecting'}"
        )
    engines = follower.engines_running()
    if not engines:
        return HealthReport("cluster", HealthState.DOWN, "attached; no engine runs this site")
    return HealthReport(
        "cluster", HealthState.OK, f"attached; {counted(len(engines), 'engine')} running"
    )
