"""The sensing rooms as the runtime runs them: every room of the site, or on a shared site
the rooms this engine leases. Each room's node server, fusion and tracker
(:class:`SensingService`), its recording for replays, why a room is off, the ``sensing``
health line and each room's report. What a simulated room simulates is the runtime's to
say (live code never imports the simulation)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.bus import EventBus
from engine.clock import Clock
from engine.config import SiteConfig
from engine.data_dirs import data_dir, sensing_recording_dir
from engine.events import HealthState
from engine.health import HealthReport
from engine.listeners import Listeners
from engine.secrets import SecretError, read_secret
from engine.sensing.falls import FallAlerts, FallPolicy
from engine.sensing.nodes.server import FIRST_MESSAGE_S as NODE_FIRST_MESSAGE_S
from engine.sensing.nodes.tokens import NodeTokenBook, StoredTokens
from engine.sensing.recording.recorder import SensingRecorder
from engine.sensing.service import NodeSpec, RoomSpec, SensingService, SimulatedNodes
from engine.settings import setting_values
from engine.store.database import Store
from engine.store.writer import StoreWriter
from engine.wording import counted

if TYPE_CHECKING:
    from engine.identity.ble import KnownDevice
    from engine.record.losses import MediaWriteWatch

log = logging.getLogger(__name__)


class SensingHost:
    """``media``: where a room's recording tells its failing writes; ``keep(room)``: the
    recording's keep (an evidence lock covers it); ``devices()``: the registered BLE
    devices blobs are named by."""

    def __init__(
        self,
        site: SiteConfig,
        bus: EventBus,
        clock: Clock,
        store: Store | None,
        writer: StoreWriter | None,
        *,
        listeners: Listeners,
        media: MediaWriteWatch,
        keep: Callable[[str], Callable[[float, float], bool]] | None,
        devices: Callable[[], Sequence[KnownDevice]] | None,
    ) -> None:
        self._site = site
        self._bus = bus
        self._clock = clock
        self._store = store
        self._writer = writer
        self._listeners = listeners
        self._media = media
        self._keep = keep
        self._devices = devices
        self.rooms = sensing_rooms(site)
        # The rooms running here and their recordings, by room id; replaced whole (never
        # changed in place) when a room starts or stops, so any thread may read them.
        self.services: dict[str, SensingService] = {}
        self.recorders: dict[str, SensingRecorder] = {}
        self._problems: dict[str, str] = {}  # room id → why it is off; replaced whole
        # One refresh at a time, so a slower read cannot replace a newer registry with an
        # older one.
        self._ble_lock = threading.Lock()

    def service(self, room_id: str | None = None) -> SensingService | None:
        """The running sensing room ``room_id`` (None: the site's only room, or the first of
        its rooms running here), or None when it does not run here."""
        services = self.services
        if room_id is not None:
            return services.get(room_id)
        return next(iter(services.values()), None)

    def index_of(self, room_id: str) -> int | None:
        return next((i for i, r in enumerate(self.rooms) if r.room_id == room_id), None)

    def start_room(
        self, room_id: str, *, last_blob_id: int, simulation: SimulatedNodes | None
    ) -> None:
        """The site's sensing room ``room_id``: node server, fusion and, for a simulated
        room, its ``simulation``; its blobs numbered after ``last_blob_id``. Its nodes'
        tokens are the store's (engine.sensing.nodes.tokens); with ``node_install_secret``
        set, the site's nodes of an install of old keep their derived tokens. A problem (a
        port taken, the store unreadable) leaves that room off and shows in the sensing
        health; cameras and the other rooms carry on."""
        index = self.index_of(room_id)
        if index is None or room_id in self.services:
            return
        room = self.rooms[index]
        config = self._site.sensing
        secret: bytes | None = None
        if not config.simulate:
            try:
                secret = read_secret("node_install_secret").reveal().encode("utf-8")
            except SecretError as exc:
                # Only an install of old needs it (its nodes' derived tokens, adopted once):
                # nodes now pair for a random token of their own, kept in the store.
                log.info("%s: no node install secret (%s): paired nodes only", room.name, exc)
        first, step = room_blob_numbering(last_blob_id, index, len(self.rooms))
        recorder = self._recorder(room_id)
        store, writer = self._store, self._writer
        try:
            tokens = NodeTokenBook()
            if store is not None and writer is not None:
                tokens.attach(StoredTokens(store, writer, self._clock, room_id))
            service = SensingService(
                room,
                bus=self._bus,
                clock=self._clock,
                install_secret=secret,
                tokens=tokens,
                host=config.host,
                port=self._site.node_port(next(r for r in self._site.rooms if r.id == room_id)),
                simulation=simulation,
                first_blob_id=first,
                blob_id_step=step,
                recorder=recorder,
                server_options={"limits": self._listeners.limits(NODE_FIRST_MESSAGE_S)},
            )
            service.start()
        except Exception as exc:  # a taken port, a bad address: say so, keep the cameras
            if recorder is not None:
                recorder.close()
                self.recorders = {k: v for k, v in self.recorders.items() if k != room_id}
            log.exception("sensing room %s could not start", room_id)
            self._set_problem(room_id, f"sensing off: {exc}")
            return
        self._set_problem(room_id, None)
        self.services = {**self.services, room_id: service}
        self._listeners.listening(f"nodes:{room_id}", service.server.gate)
        if store is not None and writer is not None:
            service.watch_pairing(store, writer)  # `sense pair` reaches it
        self._load_ble_registry()  # blobs are named by the registered BLE devices

    def stop_room(self, room_id: str) -> None:
        """Stop a shared site's room here (its blobs end, its recording closes)."""
        sensing = self.services.get(room_id)
        self.services = {k: v for k, v in self.services.items() if k != room_id}
        if sensing is not None:
            sensing.stop()
        recorder = self.recorders.get(room_id)
        self.recorders = {k: v for k, v in self.recorders.items() if k != room_id}
        if recorder is not None:
            recorder.close()
        self._set_problem(room_id, None)

    def stop(self) -> None:
        for sensing in self.services.values():
            sensing.stop()  # its last events go to the writer, stopped after

    def _set_problem(self, room_id: str, problem: str | None) -> None:
        """Why room ``room_id`` is off (None: it is not); the health is read meanwhile on
        the watchdog thread, so the mapping is replaced, never changed in place."""
        problems = {k: v for k, v in self._problems.items() if k != room_id}
        self._problems = problems if problem is None else {**problems, room_id: problem}

    def _recorder(self, room_id: str) -> SensingRecorder | None:
        """The room's recording for replays (``sensing.recording_bytes`` and
        ``…_days`` from the settings; none at 0 bytes or without a store)."""
        if self._store is None:
            return None
        values = setting_values(self._store)
        max_bytes = values["sensing.recording_bytes"]
        if max_bytes <= 0:
            return None
        directory = sensing_recording_dir(self._site.name, room_id)
        recorder = SensingRecorder(
            directory,
            max_bytes=max_bytes,
            max_age_s=values["sensing.recording_days"] * 86400.0,
            keep=self._keep(room_id) if self._keep is not None else None,
            # Its failing writes and dropped records: events, an alert, the status bar.
            watch=self._media.room(room_id, _relative(directory)),
        )
        self.recorders = {**self.recorders, room_id: recorder}
        return recorder

    # -- BLE identities: the registry the rooms name blobs by ------------------------------
    def refresh_ble_registry(self) -> int:
        """Hand the registered BLE devices to every room running here, which names a blob
        carrying a device by its carrier's display name (their name, else the device's
        label), id and colour. Returns how many devices (0, doing nothing, without a store
        or a room). Reads the store: call it off the GUI thread."""
        services = self.services
        if self._store is None or self._devices is None or not services:
            return 0
        with self._ble_lock:
            devices = list(self._devices())
            for sensing in services.values():  # every room names blobs by the same devices
                sensing.set_ble_registry(devices)
        return len(devices)

    def _load_ble_registry(self) -> None:
        """The registry for a room that has just started; a store that cannot be read
        leaves its blobs unnamed (said in the log), not sensing off."""
        try:
            count = self.refresh_ble_registry()
        except Exception:
            log.exception("the BLE device registry could not be read: blobs stay unnamed")
            return
        log.info("sensing names blobs by %d registered BLE devices", count)

    # -- health and report ----------------------------------------------------------------
    def health(self) -> HealthReport | None:
        """One line for every sensing room of this engine (None: none runs or failed): for
        one room as it always was; for several, each room named with its nodes and blobs,
        the worst first (or, when every room is well, saying so first)."""
        services = self.services
        problems = self._problems
        if not services and not problems:
            return None
        names = {room.room_id: room.name for room in self.rooms}
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

    def report(self) -> dict[str, dict[str, Any]]:
        """Each sensing room this engine ran, by id, in the site's order: its service's
        report and its recording's (:meth:`recording_report`)."""
        services, recorders = self.services, self.recorders
        return {
            room.room_id: {
                "sensing": services[room.room_id].report() if room.room_id in services else None,
                "recording": self.recording_report(room.room_id),
            }
            for room in self.rooms
            if room.room_id in services or room.room_id in recorders
        }

    def recording_report(self, room_id: str) -> dict[str, Any] | None:
        """A room's recording: its figures (:class:`RecorderStats`), where it is and, in
        ``lost_records``/``lost_blocks``, what could not be written (None: no recording)."""
        recorder = self.recorders.get(room_id)
        if recorder is None:
            return None
        stats = recorder.stats()
        failing = self._media.failing()
        return {
            **stats.as_dict(),
            "directory": str(recorder.directory),
            "lost_records": stats.dropped,
            "lost_blocks": stats.dropped_blocks,
            "failing": f"sensing:{room_id}" in failing,
        }


def _relative(directory: Path) -> str:
    return directory.relative_to(data_dir()).as_posix()


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
