"""The sensing service: one sensing room, live, from node frames to tracked blobs.

::

    nodes ──WebSocket──▶ NodeServer ("sensing-server" thread)
                             │ frames (arrival time), node events
                             ▼
                 bounded hand-over queues (never block the server)
                             │
                             ▼  "sensing-fusion" thread, 10 ticks a second
    SignalChain (per-link motion) → GridModel (Fresnel grid) → find_blobs → BlobTracker
                             │
                             ├─▶ SensingUpdated (snapshot for the console) on the bus
                             └─▶ SensingRecord events (blob appeared/left, node online/offline,
                                 node rejected, link degraded/restored) on the bus → store

Nodes are the room's ``[[sensing_nodes]]``: a node's MAC (``mac`` in the site file) ties its
frames to its position. A node that connects with a MAC the site does not list, but says where
it is in its hello (``pos_x``/``pos_y``/``pos_z``), joins the room under its MAC; site-file
positions always win over hello positions. Frames of nodes with no position are counted and
ignored. A node that goes offline is forgotten by the signal chain at once, so its links stop
contributing on the next tick.

Blobs and tracks (:meth:`SensingService._track`): Fresnel zones are discrete, so several
places often explain one person's link activations equally well. Each live track therefore
looks for its person near where it expects them; the activations the tracked people explain
are fitted (non-negative least squares on their voxels' weight patterns) and taken out, and
only what is left is searched for new people; a track that followed a tie to the wrong
place moves when the best place in the room explains the links 30 % better and nobody new is
there. Each person a track found is then placed by a fit on every link, quiet ones included,
with the other people taken out (:meth:`SensingService._place`). Where a calibrated camera
sees into the room (:class:`~engine.events.PeopleSeenInRoom`), its place of each person the
links sense stands in for the links' detections near it, and a track keeps to the camera
track whose place it took (:meth:`SensingService._camera_aid`). A track is shown once it
has been detected on :data:`CONFIRM_HITS` ticks, and becomes history
(``sensing.blob_appeared``, stamped when it appeared, with its explanation) once it has
lasted :data:`BLOB_HISTORY_S`; it ends after coasting 3 s without detection
(``sensing.blob_left``, with its duration, path and last explanation, for blobs that
became history).
Blob ids number on from the highest one stored, so an id names one blob for good.

The simulator (a product feature for the demo site): given :class:`SimulatedNodes` (built by
:mod:`engine.sim`, :class:`engine.sim.room.SimulationSpec`; this module never imports it) the
service also runs simulated nodes at the room's node positions, which connect to this server
over a real loopback WebSocket, each with a token of this run from the room's token book,
checked at hello exactly as a real node's is. Snapshots then say ``simulated`` and carry
the walkers' true positions.

Threads: :meth:`start` and :meth:`stop` from the owner; :meth:`snapshot`, :meth:`explain`,
:meth:`report`, :meth:`open_pairing` from any thread. :meth:`tick` is what the sensing thread
runs, ten times a second of the engine clock (a :class:`~engine.clock.SimulatedClock` ticks it
as the test moves time); tests may also call it themselves instead of :meth:`start`-ing the
thread (``run_thread=False``), as a simulated room stepped frame by frame does
(tests/engine/sensing/stepping.py).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from engine.bus import EventBus
from engine.clock import Clock
from engine.events import Event, EventRecord, PeopleSeenInRoom, to_console_newest
from engine.identity.ble import (
    MAX_AGE_S,
    BleSightings,
    KnownDevice,
    assign_identities,
    blob_match_score,
)
from engine.sensing.falls import (
    DEFAULT_FALL_POLICY,
    BodyFit,
    FallConfirmed,
    FallDetector,
    FallPolicy,
    FallSettings,
    HeightEstimator,
    LinkChangeMeter,
    TrackObservation,
    track_link_activity,
)
from engine.sensing.grid.capability import RoomCapability, coverage_view, layout_capability
from engine.sensing.grid.fresnel import (
    DEFAULT_CHANNEL,
    MAX_FRESNEL_ZONE,
    Blob,
    GridModel,
    VoxelGrid,
    explain,
    find_blobs,
    wavelength_m,
)
from engine.sensing.grid.tracker import BlobTracker, TrackState
from engine.sensing.nodes.pairing import PairingDesk
from engine.sensing.nodes.protocol import CsiFrame
from engine.sensing.nodes.server import (
    NODE_BLE,
    NODE_OFFLINE,
    NODE_ONLINE,
    NODE_REJECTED,
    NodeServer,
    NodeStatus,
)
from engine.sensing.nodes.tokens import NodeTokenBook
from engine.sensing.recording.recorder import SensingRecorder
from engine.sensing.signal import DEFAULT_THRESHOLD, LinkState, SignalChain
from engine.sensing.view import (
    BlobExplanation,
    BlobIdentity,
    BlobView,
    CoverageView,
    DeviceHeard,
    LinkShareView,
    LinkView,
    NodeView,
    SensingSnapshot,
    Vec3,
    VoxelView,
)
from engine.store.database import Store
from engine.store.writer import StoreWriter
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)


TICK_HZ: Final = 10.0
SESSION_START: Final = "session.start"  # the recording's first record of an engine run
CAMERA_PLACES: Final = "camera.places"  # a camera's places of people in the room (node event)
# Detections before a track is shown (1 s at 10 Hz): shorter-lived tracks are ripples of
# the fit around the people tracked (0.3 s showed 30-41 blob ids a minute for two walkers).
CONFIRM_HITS: Final = 10
# A blob becomes history (sensing.blob_appeared … blob_left) once it is still sensed this
# long after it appeared: most that end sooner are the tracker's noise, not people. On the
# demo site (two walkers, 90 s) 57 of 84 blobs lived under 3 s: four rows a second that
# buried people, falls and camera trouble in the event list.
BLOB_HISTORY_S: Final = 3.0
TRAIL_S: Final = 5.0
PATH_STEP_M: Final = 0.5  # a blob's path is summed in steps of at least this
# Localisation wants the links' present state: smoothing deltaRMS over 0.5 s (the chain's
# default) made a link that a walker had just left still look active, which cost 0.2 m of
# median and 0.3-0.5 m of p90 error in the simulator (1 walker, 3 seeds); the tracker smooths
# positions over time instead.
SMOOTH_TAU_S: Final = 0.1
SPAWN_SEPARATION_M: Final = 1.5  # closer to a live track, an extra peak is that person's
COAST_S: Final = 3.0  # a confirmed blob without detection coasts this long, then ends
TENTATIVE_COAST_S: Final = 0.5
MERGE_DISTANCE_M: Final = 1.2  # two tracks this close are one person: the younger ends
STITCH_DISTANCE_M: Final = 2.5  # a track lost this close to a new one continues as it
# …for as long as a lost track coasts, and this much further per second between the loss and
# the new track's start (a brisk walk): a person the tracker lost for two seconds is found
# again up to 5.5 m away, not given a new id. Measured (tick-level runs, unseen seeds
# 9100-9105, 60 s): blob ids 37 → 33 (two walkers, 12 × 9 m, 10 advised nodes), 41 → 31
# (6.7 × 4.1 m, 6 nodes), 23 → 18 (13.6 × 9.4 m, 12 nodes), 60 → 48 (three walkers,
# 12 × 9 m); one walker unchanged. Round 6; before, a lost track was continued only by a
# track that started within 1 s of the loss and 2.5 m of it.
STITCH_SPEED_M_S: Final = 1.5
# …and, a track lost at all, as a track confirmed (shown) anywhere in the room that started at
# most COAST_S before the loss: one person lost and one found about then are one person, not
# two blobs (issue 68: the demo room showed three blobs for its two walkers). A track that
# follows a tie, or a ghost place where only a link or two cross, is often metres from its
# walker when it loses them; it coasted on beside the walker's new track, or was kept by the
# ghost place's odd detection, for up to 10 s. Measured (tick-level, the demo room, two
# walkers, 300 s, seeds 7-10): more blobs than walkers on 1.4/5.0/1.7/0 % of the moments (up
# to 5.1 s at a time) → 0.2/0/0.2/0 % (up to 0.6 s); one blob per walker 80/76/80/83 % →
# 76/78/81/82 %.
STITCH_CONFIRMED_ANYWHERE: Final = True
# Two people who meet make one blob: the second one's track is hidden behind the first for
# up to HIDE_S, and the new track that starts within REAPPEAR_M of the first when they part
# takes the hidden id back once confirmed, instead of a new id (see BlobTracker). Measured
# (tick-level, demo room, two walkers, 10 min, seeds 7 and 8): stored blob ids 32 and 36 → 18
# and 15. Of the meetings, 22 in 30 came while the walkers were more than 2 m apart (one
# track had jumped to the other's person), so the one who reappears is often far from where
# the hidden track was: within 3 m, 29 and 29 ids; anywhere in the room, 13 for seed 7. Two
# walkers in the six hidden rooms (seeds 9103-9108, 60 s): switches a minute the same or
# one more, tracked-while-apart unchanged.
HIDE_S: Final = 10.0
REAPPEAR_M: Final = 6.0
LOCAL_SEARCH_M: Final = 1.2  # a track looks for its person this far from its prediction
# Where a detected person is, is then fitted on the links themselves (see _place): within this
# of the plateau's centre, on a lattice of this step, body centres up to this height.
LOCATE_SEARCH_M: Final = 0.9
LOCATE_STEP_M: Final = 0.15
LOCATE_TOP_M: Final = 2.0
COAST_VELOCITY_TAU_S: Final = 0.5  # a lost person's predicted walk slows down this fast
FIT_PASSES: Final = 2  # coordinate-descent passes of the joint fit of the tracked people
# A confirmed track the fused grid did not find is detected when the links' fit with its body
# beats the fit without it by this much (a sum of squared log errors; see _place).
REVIVE_EVIDENCE: Final = 3.0
# A track is detected when its person explains at least this share of the links' energy
# (squared activations), and a new person must explain this share of what is left.
TRACK_SHARE: Final = 0.15
SPAWN_SHARE: Final = 0.3
PLATEAU_FRACTION: Final = 0.98
NEW_PERSON_FRACTION: Final = 0.3  # what tracks leave unexplained must reach this share of the peak
MEASUREMENT_SIGMA_M: Final = 0.5  # blob positions scatter by about this much (zone plateaus)
BLOB_SEPARATION_M: Final = 1.0
SECONDARY_FRACTION: Final = 0.15  # a further blob must reach 15 % of the strongest one
MAX_BLOBS: Final = 4
FRAME_QUEUE: Final = 20_000  # about 4 s of 16 nodes at 20 Hz: past it frames are dropped
ENTER_AFTER_S: Final = 5.0  # simulated walkers enter once the links have learned the empty room
# Where a calibrated camera sees into the room (PeopleSeenInRoom from the fusion service), its
# places of people are surer than the links' (a camera's feet to about 0.3 m; two people a
# metre apart make one blob to the links): a camera's place no older than AID_FRESH_S with one
# of this tick's detections within AID_SUPPORT_M (the links sense someone there) is a
# detection of its own, surely one person; the links' detections within AID_REPLACE_M of it
# are that person and go; two cameras' places within AID_SAME_M are one person. Where no
# camera sees, and where the links sense nobody (a still body), the room is on its own.
AID_FRESH_S: Final = 0.3
AID_SUPPORT_M: Final = 1.5
AID_REPLACE_M: Final = 1.0
AID_SAME_M: Final = 0.6
PENDING_EVENTS_MAX: Final = 2_000  # a camera's places wait for a tick no longer than this queue


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node of the room: site id, display name, position (metres) and MAC (None when
    the site file does not give one: it cannot be matched to frames until it does)."""

    node_id: str
    name: str
    position: Vec3
    mac: str | None


@dataclass(frozen=True, slots=True)
class RoomSpec:
    """One sensing room: an id (used in event sources ``sensing:<id>``), a name, its box
    (width × depth × height metres from the origin), its nodes, the voxel edge and channel,
    the motion threshold and the Fresnel zone cut-off."""

    room_id: str
    name: str
    size: Vec3
    nodes: tuple[NodeSpec, ...]
    voxel_m: float = 0.2
    channel: int = DEFAULT_CHANNEL
    # Processing settings a replay may change: when a link shows motion (smoothed relative
    # deltaRMS) and the Fresnel zone past which a link says nothing about a voxel.
    motion_threshold: float = DEFAULT_THRESHOLD
    max_zone: int = MAX_FRESNEL_ZONE
    falls: FallPolicy = DEFAULT_FALL_POLICY


class SimulationRun(Protocol):
    """A room's simulated nodes while they run: the simulation's time at an engine time (None
    before it starts), where its walkers truly are at a time of it (those who have entered),
    and the nodes' stop and wait."""

    def sim_time(self, now_s: float) -> float | None: ...

    def truth(self, sim_s: float) -> tuple[Vec3, ...]: ...

    def stop(self) -> None: ...

    def wait(self, timeout_s: float | None = None) -> object: ...


class SimulatedNodes(Protocol):
    """Simulated nodes for a room (the demo site, ``watchfloor sense simulate``): one at each
    of the room's nodes, connecting to the room's node server as real nodes do. Built by
    :mod:`engine.sim` (:class:`engine.sim.room.SimulationSpec`) and handed to the service by
    whoever composes the engine: live code never imports the simulation."""

    def node_macs(self, room: RoomSpec) -> dict[str, str]:
        """``{MAC: node id}`` of the nodes it runs for ``room``."""
        ...

    def devices(self) -> Mapping[str, KnownDevice]:
        """The BLE tags its walkers carry, as the room knows them."""
        ...

    def start(
        self,
        room: RoomSpec,
        *,
        url: str,
        grant: Callable[[str], str],
        token_for: Callable[[str], str | None],
        clock: Clock,
    ) -> SimulationRun:
        """Start the nodes, connecting to ``url`` with the tokens ``grant`` gives them."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SensingRecord(Event):
    """A sensing event for the history: ``kind`` (``sensing.blob_appeared``, ``…blob_left``,
    ``…node_online``, ``…node_offline``, ``…node_rejected``, ``…link_degraded``,
    ``…link_restored``), the room, JSON detail, and the blob id for blob events."""

    kind: str
    room: str
    detail: dict[str, Any]
    blob_id: int | None = None
    person: str | None = None  # the blob's person (public id) when a registered device names it

    def record(self) -> EventRecord:
        return EventRecord(
            kind=self.kind,
            source=f"sensing:{self.room}",
            detail=self.detail,
            track_id=self.blob_id,
            person=self.person,
        )


@to_console_newest(per=lambda event: event.snapshot.room_id)
@dataclass(frozen=True, slots=True, kw_only=True)
class SensingUpdated(Event):
    """The room after a sensing tick (not history)."""

    snapshot: SensingSnapshot


@dataclass
class _Blob:
    confirmed: bool = False
    # Detected at least once where the layout places a person unambiguously: until then it
    # may be a ghost of crossing links, and it neither becomes history nor takes a name.
    placed: bool = False
    recorded: bool = False  # stored as history (lived BLOB_HISTORY_S: see there)
    hidden: bool = False  # its person is with another blob's (BlobTracker.hidden)
    first_s: float = 0.0
    path_m: float = 0.0
    last: Vec3 | None = None
    walked_from: Vec3 | None = None
    trail: deque[tuple[float, Vec3]] = field(default_factory=deque)
    # What its explanation needs, from the last tick it was detected on (explained only when
    # an event needs it: explaining every blob on every tick cost more than the grid).
    evidence: tuple[GridModel, npt.NDArray[np.float32], Vec3, int, float, float] | None = None
    identity: BlobIdentity | None = None
    # Where it was over the BLE readings' lifetime, one entry per tick (identity matching).
    history: deque[tuple[float, Vec3]] = field(
        default_factory=lambda: deque(maxlen=int(MAX_AGE_S * TICK_HZ) + 10)
    )


@dataclass
class _TickFigures:
    fusion_ms: list[float] = field(default_factory=list)
    fusion_cpu_ms: list[float] = field(default_factory=list)
    signal_ms: list[float] = field(default_factory=list)
    frames: int = 0
    ticks: int = 0


def explain_blob(
    room_id: str,
    model: GridModel,
    activation: npt.NDArray[np.float32],
    track_id: int,
    position: Vec3,
    value: float,
    t_s: float,
    *,
    peak: int | None = None,
) -> BlobExplanation:
    """Why blob ``track_id`` of ``room_id``, fused to ``value`` at ``position`` (metres) on
    the tick at ``t_s``, is there: each contributing link's share, zone and ellipsoid under
    ``model`` with that tick's link ``activation``, at the voxel ``peak`` of the detection
    when given (else at the voxel holding ``position``)."""
    where: Blob | Vec3 = position if peak is None else Blob(position, value, peak)
    shares = explain(model, activation, where)
    return BlobExplanation(
        room_id=room_id,
        track_id=track_id,
        t_s=t_s,
        position=position,
        value=value,
        shares=tuple(
            LinkShareView(
                node_a=s.node_a,
                node_b=s.node_b,
                share=s.share,
                zone=s.zone,
                weight=s.weight,
                activation=s.activation,
                ellipsoid=s.ellipsoid,
            )
            for s in shares
        ),
    )


@dataclass(frozen=True, slots=True)
class ExplanationBasis:
    """One tick's grid model and link activations, from which any blob of that tick is
    explained later, on any thread: the service replaces its model rather than changing
    it, and every tick fills an activation array of its own."""

    room_id: str
    model: GridModel
    activation: npt.NDArray[np.float32]
    t_s: float

    def explain(self, blob: BlobView) -> BlobExplanation:
        """Why ``blob`` (of this tick) is where it is."""
        return explain_blob(
            self.room_id,
            self.model,
            self.activation,
            blob.track_id,
            blob.position,
            blob.value,
            self.t_s,
            peak=blob.peak_voxel,
        )


class SensingService:
    """One room's node server, signal chain, voxel grid and tracker (see the module doc)."""

    def __init__(
        self,
        room: RoomSpec,
        *,
        bus: EventBus,
        clock: Clock,
        install_secret: bytes | None,
        tokens: NodeTokenBook | None = None,
        host: str = "127.0.0.1",
        port: int = 8080,
        simulation: SimulatedNodes | None = None,
        first_blob_id: int = 1,
        blob_id_step: int = 1,
        tick_hz: float = TICK_HZ,
        run_thread: bool = True,
        server_options: dict[str, Any] | None = None,
        ble_registry: Sequence[KnownDevice] = (),
        recorder: SensingRecorder | None = None,
        publish_snapshots: bool = True,
        wall_anchor_s: float | None = None,
    ) -> None:
        if len(room.nodes) < 2 and simulation is not None:
            raise ValueError("a simulated room needs at least two nodes")
        self.room = room
        self._bus = bus
        self._clock = clock
        # The tokens nodes prove themselves with (stored ones when the caller attached the
        # book to the store). An install of old: the site file's nodes keep the token it
        # derived from the install secret, until they are rotated (engine.sensing.nodes.tokens).
        self._tokens = NodeTokenBook() if tokens is None else tokens
        if install_secret:
            site_macs = [n.mac for n in room.nodes if n.mac]
            self._tokens.adopt_derived(install_secret, site_macs)
        derived = self._tokens.derived()
        if derived:
            log.warning(
                "sensing room %s: %d node(s) still use a token derived from the install "
                "secret (%s): rotate each with `watchfloor sense token MAC --rotate`",
                room.room_id,
                len(derived),
                ", ".join(derived),
            )
        self._simulated_tokens: dict[str, str] = {}  # this run's, for the simulated nodes
        self._tick_s = 1.0 / tick_hz
        self._run_thread = run_thread
        self._chain = SignalChain(threshold=room.motion_threshold, smooth_tau_s=SMOOTH_TAU_S)
        self._recorder = recorder
        self._publish_snapshots = publish_snapshots
        # Events are stamped anchor + tick time (one clock reading per tick, as the recording
        # stores it), so a replay stamps them identically.
        if wall_anchor_s is None:
            wall_anchor_s = (
                recorder.wall_anchor_s
                if recorder is not None
                else clock.now().timestamp() - clock.monotonic()
            )
        self._wall_anchor_s = wall_anchor_s
        self._now_s = clock.monotonic()
        self._first_blob_id = first_blob_id
        self._blob_id_step = blob_id_step
        self._grid = VoxelGrid((0.0, 0.0, 0.0), room.size, room.voxel_m)
        self._wavelength = wavelength_m(room.channel)
        self._positions: dict[str, Vec3] = {n.node_id: n.position for n in room.nodes}
        self._names: dict[str, str] = {n.node_id: n.name for n in room.nodes}
        self._mac_to_node: dict[str, str] = {n.mac: n.node_id for n in room.nodes if n.mac}
        self._model: GridModel | None = self._build_model()
        self._falls = FallDetector(FallSettings(confirm_s=room.falls.confirm_s))
        self._falls_withheld = 0  # confirmed by the detector where the layout cannot confirm
        self._capability: RoomCapability | None = None
        self._coverage: CoverageView | None = None
        self._link_change = LinkChangeMeter()
        self._heights: HeightEstimator | None = None
        self._locator: HeightEstimator | None = None
        self._shown_before: set[int] = set()
        self._tracker = BlobTracker(
            first_id=first_blob_id,
            id_step=blob_id_step,
            spawn_separation_m=SPAWN_SEPARATION_M,
            confirm_hits=CONFIRM_HITS,
            max_coast_s=COAST_S,
            tentative_coast_s=TENTATIVE_COAST_S,
            measurement_sigma_m=MEASUREMENT_SIGMA_M,
            merge_distance_m=MERGE_DISTANCE_M,
            stitch_distance_m=STITCH_DISTANCE_M,
            stitch_window_s=COAST_S,
            stitch_speed_m_s=STITCH_SPEED_M_S,
            bounds=((0.0, 0.0, 0.0), room.size),
            coast_velocity_tau_s=COAST_VELOCITY_TAU_S,
            hide_s=HIDE_S,
            reappear_m=REAPPEAR_M,
            stitch_confirmed_anywhere=STITCH_CONFIRMED_ANYWHERE,
        )
        self._blobs: dict[int, _Blob] = {}
        self._sightings = BleSightings()
        self._registry: dict[str, KnownDevice] = {}
        self._heard: tuple[DeviceHeard, ...] = ()  # registered devices heard at the last tick
        self._simulated_devices: dict[str, KnownDevice] = {}
        self.set_ble_registry(ble_registry)
        self._frames: deque[tuple[CsiFrame, float]] = deque()
        self._node_events: deque[tuple[str, str, dict[str, Any]]] = deque()
        self._dropped = 0
        self._unplaced_frames = 0
        self._degraded: set[frozenset[str]] = set()
        self._lock = threading.Lock()
        self._snapshot: SensingSnapshot | None = None
        self._activation: npt.NDArray[np.float32] | None = None
        self._figures = _TickFigures()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server = NodeServer(
            tokens=self._tokens,
            clock=clock,
            on_frame=self._on_frame,
            on_node_event=self._on_node_event,
            host=host,
            port=port,
            **(server_options or {}),
        )
        self._simulation_spec = simulation
        self._simulation: SimulationRun | None = None
        self._pairing: PairingDesk | None = None
        # Each camera track's latest place in the room: (event seconds, x, y).
        self._camera_places: dict[tuple[str, int], tuple[float, float, float]] = {}
        self._camera_names: dict[str, str] = {}
        self._unsubscribe_places = bus.subscribe(PeopleSeenInRoom, self._on_seen)

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Listen for nodes (raises :class:`~engine.sensing.nodes.server.NodeServerError` when the
        port cannot be bound), start the sensing thread and, for a simulated room, its
        simulated nodes."""
        self._server.start()
        if self._simulation_spec is not None:
            self._place_simulated_nodes()
        if self._recorder is not None:
            # What a replay needs: blob numbering and which MAC is which node of the room.
            self._recorder.append_node_event(
                self._clock.monotonic(),
                SESSION_START,
                "",
                {
                    "room": self.room.room_id,
                    "first_blob_id": self._first_blob_id,
                    "blob_id_step": self._blob_id_step,
                    "macs": dict(self._mac_to_node),
                },
            )
        if self._run_thread:
            self._thread = SupervisedThread(
                self._run, name="sensing-fusion", stop=self._stop, clock=self._clock
            )
            self._thread.start()
        if self._simulation_spec is not None:
            self._start_simulation(self._simulation_spec)

    def stop(self) -> None:
        """Stop the simulated nodes, the sensing thread and the server, then file what
        stopping ended: nodes that went offline and blobs still in the room (their
        ``sensing.blob_left`` says ``"reason": "sensing stopped"``), so the history has no
        blob without an end. Closes the recorder, if it has one."""
        if self._simulation is not None:
            self._simulation.stop()
            self._simulation.wait(10.0)
        self._unsubscribe_places()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
        if self._pairing is not None:
            self._pairing.stop()
        self._server.stop()
        now = self._clock.monotonic()
        self._now_s = now
        self._handle_node_events(now)
        for track_id in list(self._blobs):
            self._end_blob(track_id, now, reason="sensing stopped")
        if self._recorder is not None:
            self._recorder.close()  # the service owns the recorder it was given

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def simulated(self) -> bool:
        return self._simulation_spec is not None

    @property
    def server(self) -> NodeServer:
        return self._server

    @property
    def simulation(self) -> SimulationRun | None:
        return self._simulation

    def sim_time(self, now_s: float) -> float | None:
        """Seconds of simulated time at engine time ``now_s`` (None unless simulating)."""
        return None if self._simulation is None else self._simulation.sim_time(now_s)

    def truth(self, now_s: float) -> tuple[Vec3, ...]:
        """Where the simulated walkers are at engine time ``now_s`` (walkers who have not
        entered yet are left out); empty unless simulating."""
        t = self.sim_time(now_s)
        if t is None or self._simulation is None:
            return ()
        return self._simulation.truth(t)

    def token_for(self, mac: str) -> str | None:
        """The token of this run's simulated node ``mac`` (None for any other node: a real
        node's token is never held in memory)."""
        return self._simulated_tokens.get(mac)

    # --- any thread -----------------------------------------------------------------------

    def snapshot(self) -> SensingSnapshot | None:
        with self._lock:
            return self._snapshot

    def open_pairing(self, seconds: float) -> datetime:
        """Answer ``POST /api/provision`` for ``seconds`` (the caller checks and audits)."""
        return self._server.open_pairing(seconds)

    def close_pairing(self) -> None:
        self._server.close_pairing()

    def watch_pairing(self, store: Store, writer: StoreWriter) -> None:
        """After :meth:`start`: open the pairing window when ``watchfloor sense pair``
        asks through the store (polled every second), and file each provisioning as a
        ``sensing.node_paired`` event and a ``node.provisioned`` audit entry."""
        self._pairing = PairingDesk(
            self._server, room=self.room.room_id, store=store, writer=writer, clock=self._clock
        )
        self._pairing.start()

    def set_ble_registry(self, devices: Sequence[KnownDevice]) -> None:
        """The registered devices that name blobs (replaces the previous registry; any
        thread). A named blob keeps its name until its track ends."""
        registry = {d.address.upper(): d for d in devices}
        self._registry = {**self._simulated_devices, **registry}  # one reference swap

    def add_ble_sighting(self, node_id: str, address: str, rssi_dbm: int, t_s: float) -> None:
        """A BLE advertisement heard by a receiver at a known node position (``node_id`` of
        the room), e.g. the console host's own adapter; any thread."""
        self._node_events.append(
            (NODE_BLE, "", {"node": node_id, "at_s": t_s, "devices": [[address, rssi_dbm]]})
        )

    def explain(self, track_id: int) -> BlobExplanation | None:
        """Why blob ``track_id`` is where it is, from the latest tick; None when there is
        no such blob now."""
        basis, snapshot = self._latest_basis()
        if basis is None or snapshot is None:
            return None
        blob = next((b for b in snapshot.blobs if b.track_id == track_id), None)
        return None if blob is None else basis.explain(blob)

    def explanation_basis(self) -> ExplanationBasis | None:
        """The latest tick's model and link activations (None before a tick with a
        model): what explains any blob of that tick later (a replay keeps one per
        snapshot)."""
        return self._latest_basis()[0]

    def _latest_basis(self) -> tuple[ExplanationBasis | None, SensingSnapshot | None]:
        with self._lock:
            model, activation, snapshot = self._model, self._activation, self._snapshot
        if model is None or activation is None or snapshot is None:
            return None, snapshot
        return ExplanationBasis(self.room.room_id, model, activation, snapshot.t_s), snapshot

    def coverage(self) -> CoverageView:
        """What the room's layout can see: its nodes where the site places them and any a
        node's hello placed (computed on first use, about a second for a large room, then
        kept until a node joins; the sensing thread asks first)."""
        if self._coverage is None:
            self._coverage = self._rate_layout()
        return self._coverage

    def _rate_layout(self) -> CoverageView:
        room = self.room
        try:
            capability = layout_capability(room.size, tuple(self._positions.items()), room.channel)
        except ValueError as exc:
            log.warning("sensing room %s: the layout cannot be rated: %s", room.room_id, exc)
            return coverage_view(None, room.falls, problem=str(exc))
        self._capability = capability
        return coverage_view(capability, room.falls)

    def _fall_alerted(self, event: FallConfirmed) -> bool:
        """Whether a fall the detector confirmed is stored (and alerted) under the room's
        fall policy. With ``"confirmable"`` the body must have been tracked lying where the
        layout tells lying from standing: there a body on the floor changes the links, so a
        track that was lost instead (``event.lost``) confirms nothing. On the tuned layout
        every fall alerted in 20 runs was tracked; the lost ones were the tracker's ghosts
        drifting off and walkers lost mid-step (two walkers, 12 x 9 m: 2 in 3 minutes)."""
        policy = self.room.falls.alerts
        if policy == "off":
            return False
        if policy == "everywhere":
            return True
        self.coverage()
        capability = self._capability
        x, y, _ = event.position
        return capability is not None and not event.lost and capability.fall_capable_at(x, y)

    def report(self) -> dict[str, Any]:
        """Figures so far: frames, drops, ticks and their times, nodes."""
        with self._lock:
            fusion = list(self._figures.fusion_ms)
            fusion_cpu = list(self._figures.fusion_cpu_ms)
            signal = list(self._figures.signal_ms)
            frames, ticks = self._figures.frames, self._figures.ticks
        nodes = self._server.nodes()
        return {
            "room": self.room.room_id,
            "simulated": self.simulated,
            "ticks": ticks,
            "frames_processed": frames,
            "frames_received": sum(n.frames_received for n in nodes),
            "frames_dropped": self._dropped,
            "frames_without_position": self._unplaced_frames,
            "malformed": sum(n.malformed_total for n in nodes),
            "links": 0 if self._model is None else self._model.link_count,
            "fusion_tick_ms": describe(fusion),
            # The same ticks in CPU time of the sensing thread: without the waits for the
            # interpreter lock while the server thread (and a simulation) run beside it.
            "fusion_tick_cpu_ms": describe(fusion_cpu),
            "signal_tick_ms": describe(signal),
            # Falls the detector confirmed where the layout cannot confirm one (not stored).
            "falls_withheld": self._falls_withheld,
            # Hellos refused (counted; stored as one summary a minute at most) and the nodes
            # still on a token derived from the install secret, to rotate.
            "rejected": {
                k: dict(v) if k == "reasons" else v for k, v in self._server.rejections().items()
            },
            "derived_tokens": self._tokens.derived(),
            "nodes": [
                {
                    "mac": n.mac,
                    "node": self._mac_to_node.get(n.mac),
                    "online": n.online,
                    "frames_received": n.frames_received,
                    "malformed": dict(n.malformed),
                    "protocol_errors": n.protocol_errors,
                }
                for n in nodes
            ],
        }

    # --- server thread ----------------------------------------------------------------------

    def _on_frame(self, frame: CsiFrame, arrival_s: float) -> None:
        if len(self._frames) >= FRAME_QUEUE:
            self._dropped += 1  # the sensing thread is behind: shed load, never block
            return
        self._frames.append((frame, arrival_s))

    def _on_node_event(self, kind: str, mac: str, detail: dict[str, Any]) -> None:
        self._node_events.append((kind, mac, dict(detail)))

    def _on_seen(self, event: PeopleSeenInRoom) -> None:
        """A camera's places of people in a room (any thread): this room's go to the next
        tick as a node event (so a recording keeps them, and its replay places alike)."""
        if event.room != self.room.room_id or len(self._node_events) >= PENDING_EVENTS_MAX:
            return  # not this room's, or no tick has taken events for a long while
        places = [[track_id, x, y] for track_id, x, y in event.places]
        detail = {
            "camera": event.camera,
            "name": event.camera_name,
            "at": event.at.timestamp(),
            "places": places,
        }
        self._on_node_event(CAMERA_PLACES, "", detail)

    # --- sensing thread ----------------------------------------------------------------------

    def _run(self) -> None:
        self.coverage()  # the layout's map, before the first tick (about a second, once)
        next_s = self._clock.monotonic()
        while not self._stop.is_set():
            now = self._clock.monotonic()
            if now < next_s:
                self._clock.wait(self._stop, next_s - now)
                continue
            try:
                self.tick(now)
            except Exception:  # one bad tick must not end sensing; it is logged
                log.exception("sensing room %s: tick failed", self.room.room_id)
            next_s = max(next_s + self._tick_s, now)

    def tick(self, now_s: float) -> SensingSnapshot | None:
        """One sensing tick at engine time ``now_s``: node events, the frames received since
        the last tick, the grid, blobs, tracks, events and the snapshot."""
        started = time.perf_counter()
        recorder = self._recorder
        self._now_s = now_s
        self._handle_node_events(now_s)
        count = 0
        placed = self._mac_to_node
        taken: list[tuple[float, bytes]] = []
        while self._frames:
            frame, arrival = self._frames.popleft()
            if frame.node_mac not in placed or frame.peer_mac not in placed:
                self._unplaced_frames += 1  # kept by the chain in case the node is placed
            self._chain.push(frame, arrival)
            if recorder is not None:
                taken.append((arrival, frame.to_bytes()))
            count += 1
        if recorder is not None:
            # A replay ticks at exactly these times with exactly these frames and events.
            recorder.append_frames(taken)
            recorder.append_tick(now_s)
        states = self._chain.activations(now_s)
        signal_ms = (time.perf_counter() - started) * 1000.0
        fused_at, fused_cpu_at = time.perf_counter(), time.thread_time()
        model = self._model
        activation = np.zeros(0 if model is None else model.link_count, dtype=np.float32)
        link_states: dict[frozenset[str], LinkState] = {}
        for (mac_a, mac_b), state in states.items():
            node_a, node_b = self._mac_to_node.get(mac_a), self._mac_to_node.get(mac_b)
            if node_a is None or node_b is None or model is None:
                continue
            key = frozenset((node_a, node_b))
            link_states[key] = state
            activation[model.link_index(node_a, node_b)] = state.activation
        tracks: list[TrackState] = []
        peaks: list[int] = []
        values: npt.NDArray[np.float32] | None = None
        if model is not None:
            smoothed = np.array(
                [
                    link_states[link.key].smoothed_delta_rms if link.key in link_states else 0.0
                    for link in model.links
                ]
            )
            values, tracks, peaks = self._track(model, activation, now_s, smoothed)
        fusion_ms = (time.perf_counter() - fused_at) * 1000.0
        fusion_cpu_ms = (time.thread_time() - fused_cpu_at) * 1000.0
        self._update_blobs(tracks, peaks, model, activation, now_s)
        self._identify(now_s)
        if model is not None:
            self._watch_for_falls(model, link_states, now_s)
        self._link_events(link_states)
        if not self._publish_snapshots:  # a replay: blobs and events are what it is after
            with self._lock:
                self._figures.fusion_ms.append(fusion_ms)
                self._figures.frames += count
                self._figures.ticks += 1
            return None
        snapshot = self._build_snapshot(now_s, values, link_states, fusion_ms)
        with self._lock:
            self._snapshot = snapshot
            self._activation = activation
            self._figures.fusion_ms.append(fusion_ms)
            self._figures.fusion_cpu_ms.append(fusion_cpu_ms)
            self._figures.signal_ms.append(signal_ms)
            self._figures.frames += count
            self._figures.ticks += 1
        self._bus.publish(SensingUpdated(at=self._clock.now(), snapshot=snapshot))
        return snapshot

    def _track(
        self,
        model: GridModel,
        activation: npt.NDArray[np.float32],
        now_s: float,
        smoothed: npt.NDArray[np.float64] | None = None,
    ) -> tuple[npt.NDArray[np.float32], list[TrackState], list[int]]:
        """Fuse ``activation`` and give the tracker this tick's measurements. Returns the
        fused grid, the live tracks and each measurement's peak voxel (a track's
        ``detection`` indexes it).

        The link activations are fitted as a sum of people, one per live track, each a
        pattern ``s · W[v]`` of the grid's zone weights at a voxel v near where the track
        expects its person (within :data:`LOCAL_SEARCH_M`): a person moves a few decimetres
        per tick, and a tie elsewhere in the room must not pull a track away. The fit is a
        joint one, by coordinate descent (:data:`FIT_PASSES` passes, tracks with the most
        detections first): each track is placed on what the *others* leave unexplained, so
        two tracks never both explain one person, and a track whose person has gone finds
        nothing. For one track the least-squares best voxel is the one whose fused value of
        that residual is highest (the error falls by the value squared), and the track's
        position is the centre of the plateau of voxels within :data:`PLATEAU_FRACTION` of
        it (the zones are discrete). A track counts as detected only when its person
        explains at least :data:`TRACK_SHARE` of the links' energy; else it coasts.

        What all tracks leave unexplained is fused again; a peak of that residual starts a
        new track when it explains at least :data:`SPAWN_SHARE` of it and lies at least
        :data:`SPAWN_SEPARATION_M` from every detection. Tried before (round 5) and
        measured worse on two walkers (12 × 9 m, 8 advised nodes, 3 seeds, 60 s): each
        track searched the whole activation and only what the tracks' non-negative least
        squares left was searched for new people; two tracks then took turns on one person
        and 52–82 ID switches a minute followed."""
        values = model.tick(activation)
        threshold = 0.5 * self._chain.threshold
        peak = float(values.max(initial=0.0))
        if peak <= threshold:
            return values, self._tracker.update(np.empty((0, 3)), now_s), []
        floor = max(threshold, SECONDARY_FRACTION * peak)
        links = activation.astype(np.float64)
        energy = float(links @ links)
        weights = model.weights
        inverse_norm = model.inverse_norm
        centres = self._grid.centres
        tracks = self._tracker.tracks
        predicted = self._tracker.predicted_positions(now_s)
        nearby = [self._voxels_near(expected, LOCAL_SEARCH_M) for expected in predicted]
        rows = [weights[index] for index in nearby]
        explained = [np.zeros_like(links) for _ in tracks]
        found: list[tuple[Vec3, float, int] | None] = [None] * len(tracks)
        order = sorted(range(len(tracks)), key=lambda k: -tracks[k].hits)
        for _pass in range(FIT_PASSES):
            for k in order:
                index = nearby[k]
                found[k] = None
                explained[k] = np.zeros_like(links)
                if index.size == 0:
                    continue
                others = sum((explained[j] for j in order if j != k), np.zeros_like(links))
                residual = np.maximum(links - others, 0.0)
                local = (rows[k] @ residual) * inverse_norm[index]
                best = int(np.argmax(local))
                value = float(local[best])
                if value < floor or value * value < TRACK_SHARE * energy:
                    continue
                on_plateau = local >= PLATEAU_FRACTION * value
                plateau_values = local[on_plateau]
                centre = plateau_values @ centres[index[on_plateau]] / plateau_values.sum()
                voxel = int(index[best])
                pattern = np.asarray(weights[voxel].toarray(), dtype=np.float64).ravel()
                norm_sq = float(pattern @ pattern)
                scale = max(float(pattern @ residual) / norm_sq, 0.0) if norm_sq > 0 else 0.0
                explained[k] = scale * pattern
                found[k] = ((float(centre[0]), float(centre[1]), float(centre[2])), value, voxel)
        if smoothed is not None:
            self._place(model, smoothed, values, found, order, tracks, predicted)
        positions: list[Vec3] = []
        strengths: list[float] = []
        peaks: list[int] = []
        for hit in found:
            if hit is not None:
                positions.append(hit[0])
                strengths.append(hit[1])
                peaks.append(hit[2])
        residual_values = values
        residual_energy = energy
        if tracks:
            left = np.maximum(links - sum(explained, np.zeros_like(links)), 0.0)
            residual_energy = float(left @ left)
            residual_values = model.tick(left.astype(np.float32))
        candidates = find_blobs(
            residual_values,
            self._grid,
            max(floor, NEW_PERSON_FRACTION * peak) if positions else floor,
            min_separation_m=BLOB_SEPARATION_M,
            max_blobs=MAX_BLOBS,
        )
        for blob in candidates:
            if tracks and blob.value * blob.value < SPAWN_SHARE * residual_energy:
                continue  # a ripple of what the tracked people leave, not a person
            if all(math.dist(blob.position, p) >= SPAWN_SEPARATION_M for p in positions):
                positions.append(blob.position)
                strengths.append(blob.value)
                peaks.append(blob.voxel)
        keys = self._camera_aid(positions, strengths, peaks, now_s)
        tracks = self._tracker.update(np.asarray(positions).reshape(-1, 3), now_s, strengths, keys)
        return values, tracks, peaks

    def _seen_by(self, track: TrackState) -> str | None:
        """The name of the camera whose place of its person the track took this tick."""
        if not isinstance(track.camera_track, tuple):
            return None
        camera = str(track.camera_track[0])
        return self._camera_names.get(camera, camera)

    def _camera_aid(
        self, positions: list[Vec3], strengths: list[float], peaks: list[int], now_s: float
    ) -> list[tuple[str, int] | None]:
        """Put the cameras' places of the people this tick's detections (``positions``,
        ``strengths``, ``peaks``, changed in place) sense in their stead (see
        :data:`AID_FRESH_S`); returns each detection's camera track (None: the links')."""
        now = self._wall_anchor_s + now_s
        for key in [k for k, (t, _, _) in self._camera_places.items() if now - t > 1.0]:
            del self._camera_places[key]
        fresh = [
            (key, x, y)
            for key, (t, x, y) in sorted(self._camera_places.items())
            if now - t <= AID_FRESH_S
        ]
        if not fresh or not positions:
            return [None] * len(positions)
        places: list[tuple[tuple[str, int], float, float]] = []
        for key, x, y in fresh:  # several cameras may see one person
            if all(math.hypot(x - px, y - py) > AID_SAME_M for _, px, py in places):
                places.append((key, x, y))
        seen: list[tuple[Vec3, float, int]] = []
        seen_keys: list[tuple[str, int]] = []
        for key, x, y in places:
            near = min(
                range(len(positions)),
                key=lambda i: math.hypot(positions[i][0] - x, positions[i][1] - y),
            )
            if math.hypot(positions[near][0] - x, positions[near][1] - y) > AID_SUPPORT_M:
                continue  # the links sense nobody there
            place = (x, y, positions[near][2])
            seen.append((place, strengths[near], self._grid.nearest_voxel(place)))
            seen_keys.append(key)
        if not seen:
            return [None] * len(positions)
        kept = [
            i
            for i, p in enumerate(positions)
            if all(math.hypot(p[0] - c[0], p[1] - c[1]) > AID_REPLACE_M for c, _, _ in seen)
        ]
        positions[:] = [positions[i] for i in kept] + [c for c, _, _ in seen]
        strengths[:] = [strengths[i] for i in kept] + [v for _, v, _ in seen]
        peaks[:] = [peaks[i] for i in kept] + [voxel for _, _, voxel in seen]
        return [None] * len(kept) + list(seen_keys)

    def _place(
        self,
        model: GridModel,
        smoothed: npt.NDArray[np.float64],
        values: npt.NDArray[np.float32],
        found: list[tuple[Vec3, float, int] | None],
        order: list[int],
        tracks: list[TrackState],
        predicted: npt.NDArray[np.float64],
    ) -> None:
        """Place each detected track's person by the links themselves (``found``, in
        place): :meth:`HeightEstimator.locate` within :data:`LOCATE_SEARCH_M` of the
        plateau's centre, on every link's smoothed deltaRMS ``smoothed``, quiet links
        included. With several people the fit is a joint one (:data:`FIT_PASSES` passes of
        coordinate descent, tracks with the most detections first): each body is fitted
        with what the others add to every link (k / n² at their fitted places) in the model,
        quiet + others + k / n², so two bodies on one link add up before the logarithm.
        A confirmed track the fused grid did not find this tick (its person explained less
        than :data:`TRACK_SHARE` of the links' energy beside the others) is fitted too, from
        its prediction (``tracks``, ``predicted``: the tracker's, in ``found``'s order), and
        detected when its body improves the fit by
        :data:`REVIVE_EVIDENCE`: its voxel is the nearest to its place, its value the fused
        grid's there (``values``).

        The fused grid's plateau is a voxel-weight projection: it uses only the links that
        see the person, and its centre sits where their zones overlap, often 0.3-0.6 m off.
        The fit also asks every quiet link where the person is not, as the height fit does
        for falls. Measured (tick-level runs of this service on the simulator, the six
        hidden rooms of ``benchmarks/sensing_rooms`` with their advised layouts, unseen seeds,
        medians per room): one walker (seeds 9103-9106, 45 s), median error 0.34-0.55 →
        0.19-0.49 m and p90 0.70-1.32 → 0.40-1.04 m against the plateau's centre.

        Two walkers (seeds 9103-9104, 60 s, per room and seed): with each body fitted on
        what the others' k / n² left (subtracted before the logarithm, one pass, and a track
        the grid lost coasting on its prediction), tracked while apart 0.39-0.89 and 3.5-17
        ID switches a minute. Why: told each walker's true place as its prediction, that
        fit found them within 1 m in only 48-71 % of the ticks, while an exhaustive search
        of every pair of places within 2 m of the truth in this model found them in 59-100 %
        and coordinate descent started 0.9 m off in 76-100 %. The joint fit alone: tracked
        0.39-0.93; with lost tracks fitted from their predictions (evidence 3; 2-8 the
        same): 0.40-0.97 (12 × 9 m 0.75/0.73 → 0.91/0.86, 13.3 × 4.1 m 0.61/0.66 →
        0.73/0.76, 11.4 × 8.6 m 0.79/0.69 → 0.89/0.79, 14.4 × 6.7 m 0.76/0.62 → 0.79/0.83,
        13.6 × 9.4 m 0.89/0.81 → 0.97/0.91; 6.7 × 4.1 m 0.39/0.47 → 0.40/0.50, where even
        the exhaustive search finds only 59-68 %), switches 2-15 a minute, median error
        0.26-0.71 → 0.21-0.72 m; one walker unchanged. A search of 1.2 m instead of 0.9:
        the same. Cost: sensing tick median 3.7 → 5.4 ms (12 × 9 m, 10 nodes, two walkers),
        8.0 → 13.3 ms (16 nodes, three walkers)."""
        if self._locator is None or self._locator.model is not model:
            self._locator = HeightEstimator(
                model, xy_step_m=LOCATE_STEP_M, z_step_m=LOCATE_STEP_M, top_m=LOCATE_TOP_M
            )
        locator = self._locator
        start = {k: hit[0] for k in order if (hit := found[k]) is not None}
        if not start:
            return
        # Confirmed tracks the fused grid did not find are fitted from their predictions too,
        # and detected when the links are explained better with them than without.
        for k in order:
            if found[k] is None and tracks[k].hits >= CONFIRM_HITS:
                point = predicted[k]
                start[k] = (float(point[0]), float(point[1]), float(point[2]))
        bodies = [k for k in order if k in start]
        zero = np.zeros_like(smoothed, dtype=np.float64)
        contribution = {k: zero for k in bodies}
        fits: dict[int, BodyFit] = {}
        for _pass in range(FIT_PASSES if len(bodies) > 1 else 1):
            for k in bodies:
                others = sum((contribution[j] for j in bodies if j != k), zero)
                fit = locator.locate(
                    smoothed, start[k], LOCATE_SEARCH_M, others if len(bodies) > 1 else None
                )
                contribution[k] = fit.contribution
                fits[k] = fit
        for k in bodies:
            fit = fits[k]
            hit = found[k]
            if hit is not None:
                found[k] = (fit.position, hit[1], hit[2])
            elif fit.evidence >= REVIVE_EVIDENCE:
                voxel = self._grid.nearest_voxel(fit.position)
                found[k] = (fit.position, float(values[voxel]), voxel)

    def _voxels_near(self, point: npt.NDArray[np.float64], radius_m: float) -> npt.NDArray[np.intp]:
        """Indices of the voxels whose centres lie within ``radius_m`` of ``point``: the
        box around it first, so a tick costs a few thousand distances, not the whole grid."""
        grid = self._grid
        low = np.asarray(grid.room_min)
        shape = np.array(grid.shape)  # nx, ny, nz
        first = np.clip(np.floor((point - radius_m - low) / grid.voxel_m).astype(int), 0, shape)
        last = np.clip(np.ceil((point + radius_m - low) / grid.voxel_m).astype(int), 0, shape)
        ix, iy, iz = (np.arange(first[i], last[i]) for i in range(3))
        nx, ny, _ = grid.shape
        index = (ix[None, None, :] + nx * (iy[None, :, None] + ny * iz[:, None, None])).ravel()
        near = np.sum((grid.centres[index] - point) ** 2, axis=1) <= radius_m**2
        result: npt.NDArray[np.intp] = index[near]
        return result

    def _update_blobs(
        self,
        tracks: list[TrackState],
        peaks: list[int],
        model: GridModel | None,
        activation: npt.NDArray[np.float32],
        now_s: float,
    ) -> None:
        live = {t.track_id for t in tracks}
        for track in tracks:
            blob = self._blobs.setdefault(track.track_id, _Blob(first_s=now_s))
            if not track.coasting:
                # Path on the floor between detections, in steps of at least PATH_STEP_M:
                # the tracker's estimate jitters by centimetres from tick to tick.
                if blob.walked_from is None:
                    blob.walked_from = track.position
                step = math.dist(blob.walked_from[:2], track.position[:2])
                if step >= PATH_STEP_M:
                    blob.path_m += step
                    blob.walked_from = track.position
            blob.last = track.position
            blob.trail.append((now_s, track.position))
            blob.history.append((now_s, track.position))
            while blob.trail and blob.trail[0][0] < now_s - TRAIL_S:
                blob.trail.popleft()
            if model is not None and track.detection is not None:
                # Explained at the peak of the detection it took, where the links that found
                # it have weight; the filtered position can lie in a voxel where none has.
                peak = peaks[track.detection]
                blob.evidence = (model, activation, track.position, peak, track.value, now_s)
            if not blob.confirmed and track.hits >= CONFIRM_HITS:
                blob.confirmed = True
            if not blob.placed and not track.coasting and not self._ambiguous_at(track.position):
                blob.placed = True
            if (
                blob.confirmed
                and blob.placed
                and not blob.recorded
                and not track.coasting  # still sensed, not carried on by the tracker
                and now_s - blob.first_s >= BLOB_HISTORY_S
            ):
                blob.recorded = True
                identity = blob.identity  # named by a device before it became history
                self._record(
                    "sensing.blob_appeared",
                    {
                        "blob": track.track_id,
                        "position": _rounded(track.position),
                        "explanation": self._stored_explanation(blob, track.track_id),
                        **(
                            {"name": identity.name, "device": identity.address}
                            if identity is not None
                            else {}
                        ),
                    },
                    blob_id=track.track_id,
                    person=None if identity is None else identity.person_id,
                    at_s=blob.first_s,  # when it appeared, not when it became history
                )
        stitched, merged, hidden = (
            self._tracker.stitched,
            self._tracker.merged,
            self._tracker.hidden,
        )
        for track_id, blob in self._blobs.items():
            blob.hidden = track_id in hidden
        for track_id in [i for i in self._blobs if i not in live and i not in hidden]:
            if track_id in stitched:  # the same person as an older blob, which goes on
                other = stitched[track_id]
                self._end_blob(track_id, now_s, f"continued as blob {other}", continued_as=other)
            elif track_id in merged:  # two blobs on one person: the one sensed longer goes on
                other = merged[track_id]
                self._end_blob(track_id, now_s, f"the same person as blob {other}", other)
            else:
                self._end_blob(track_id, now_s, f"not seen for {COAST_S:g} s")

    def _ambiguous_at(self, position: Vec3) -> bool:
        capability = self._capability
        if capability is None:
            self.coverage()
            capability = self._capability
        return capability is not None and capability.ambiguous_at(position[0], position[1])

    def _end_blob(
        self, track_id: int, now_s: float, reason: str, continued_as: int | None = None
    ) -> None:
        """A blob ends: stored as ``sensing.blob_left`` if it became history, with why and,
        when its person goes on as another blob (found again, or two blobs on one person),
        that blob's id in ``continued_as``."""
        blob = self._blobs.pop(track_id)
        if blob.recorded:
            identity = blob.identity
            self._record(
                "sensing.blob_left",
                {
                    "blob": track_id,
                    "reason": reason,
                    **({} if continued_as is None else {"continued_as": continued_as}),
                    "duration_s": round(now_s - blob.first_s, 2),
                    "path_m": round(blob.path_m, 2),
                    "position": None if blob.last is None else _rounded(blob.last),
                    "explanation": self._stored_explanation(blob, track_id),
                    "name": None if identity is None else identity.name,
                    "device": None if identity is None else identity.address,
                },
                blob_id=track_id,
                person=None if identity is None else identity.person_id,
            )

    def _watch_for_falls(
        self, model: GridModel, link_states: dict[frozenset[str], LinkState], now_s: float
    ) -> None:
        """Feed the fall detector (:mod:`engine.sensing.falls`) the shown blobs, their own
        link activity and fitted height, and the blobs that ended; a confirmed fall is stored
        as ``sensing.fall_detected`` (the alert service raises an alert from it)."""
        if self._heights is None or self._heights.model is not model:
            self._heights = HeightEstimator(model)
        values = [
            link_states[link.key].smoothed_delta_rms if link.key in link_states else 0.0
            for link in model.links
        ]
        change = self._link_change.update(now_s, values)
        shown = {
            track.track_id: track
            for track in self._tracker.tracks
            if (blob := self._blobs.get(track.track_id)) is not None
            and blob.confirmed
            and blob.placed  # a ghost of crossing links never becomes a fall
        }
        observations = [
            TrackObservation(
                track.track_id,
                track.position,
                track_link_activity(model, track.position, change),
                track.coasting,
                height_m=self._heights.estimate(values, track.position).z_m,
            )
            for track in shown.values()
        ]
        ended = self._shown_before - set(shown)
        self._shown_before = set(shown)
        for event in self._falls.update(now_s, observations, ended=ended):
            if not isinstance(event, FallConfirmed):
                continue
            if not self._fall_alerted(event):
                self._falls_withheld += 1
                log.info(
                    "sensing room %s: a fall of blob %d at %.1f, %.1f m is not alerted: "
                    "the layout cannot confirm falls there (fall alerts: %s)",
                    self.room.room_id,
                    event.track_id,
                    event.position[0],
                    event.position[1],
                    self.room.falls.alerts,
                )
                continue
            blob = self._blobs.get(event.track_id)
            identity = None if blob is None else blob.identity
            self._record(
                "sensing.fall_detected",
                {
                    "blob": event.track_id,
                    "position": _rounded(event.position),
                    "fell_s_ago": round(now_s - event.suspected_s, 1),
                    "tracked": not event.lost,
                    "name": None if identity is None else identity.name,
                },
                blob_id=event.track_id,
                person=None if identity is None else identity.person_id,
            )

    def _identify(self, now_s: float) -> None:
        """Name blobs by the registered devices they carry (see :mod:`engine.identity.ble`):
        a blob takes a name at a match score of 0.6 and keeps it while its track lives,
        unless its device is matched to another blob or another device matches it clearly
        better. Each new name is stored as ``sensing.blob_identified``."""
        registry = self._registry
        if not registry:
            self._heard = ()
            return
        readings = {
            address: heard
            for address, heard in self._sightings.readings(self._positions, now_s).items()
            if address in registry
        }
        self._heard = tuple(
            DeviceHeard(
                address,
                registry[address].label,
                registry[address].name,
                registry[address].person_id,
                tuple(((float(p[0]), float(p[1]), float(p[2])), t, rssi) for p, t, rssi in heard),
            )
            for address, heard in readings.items()
        )
        if not readings:
            return
        confirmed = {
            track_id: blob.last
            for track_id, blob in self._blobs.items()
            if blob.confirmed and blob.placed and blob.last is not None and not blob.hidden
        }
        scores = {
            address: {
                track_id: blob_match_score(heard, self._blobs[track_id].history, now_s)
                for track_id in confirmed
            }
            for address, heard in readings.items()
        }
        current = {
            track_id: blob.identity.address
            for track_id, blob in self._blobs.items()
            if blob.identity is not None
        }
        named = assign_identities(scores, current)
        taken = {address for address, _ in named.values()}
        for track_id in confirmed:
            blob = self._blobs[track_id]
            match = named.get(track_id)
            if match is None:
                if blob.identity is not None and blob.identity.address in taken:
                    blob.identity = None  # its device is with another blob now
                continue
            address, score = match
            held = blob.identity
            if held is not None and held.address == address:
                blob.identity = dataclasses.replace(held, score=score)
                continue
            device = registry[address]
            blob.identity = BlobIdentity(
                address=address,
                label=device.label,
                name=device.name,
                person_id=device.person_id,
                colour=device.colour,
                score=score,
                since_s=now_s,
            )
            if not blob.recorded:
                continue  # not history yet: its appearance will carry the name
            self._record(
                "sensing.blob_identified",
                {
                    "blob": track_id,
                    "name": device.name,
                    "device": address,
                    "label": device.label,
                    "score": round(score, 3),
                    "previous": None if held is None else held.name,
                    "position": _rounded(confirmed[track_id]),
                },
                blob_id=track_id,
                person=device.person_id,
            )

    def _peak_now(self, track: TrackState) -> int | None:
        """The peak voxel of the detection ``track`` took this tick (None when coasting)."""
        evidence = self._blobs[track.track_id].evidence
        return None if track.coasting or evidence is None else evidence[3]

    def _stored_explanation(self, blob: _Blob, track_id: int) -> list[dict[str, Any]] | None:
        """The explanation an event stores: from the last tick the blob was detected on."""
        if blob.evidence is None:
            return None
        model, activation, position, peak, value, t_s = blob.evidence
        return _explanation_json(
            explain_blob(
                self.room.room_id, model, activation, track_id, position, value, t_s, peak=peak
            )
        )

    def _handle_node_events(self, now_s: float) -> None:
        while self._node_events:
            kind, mac, detail = self._node_events.popleft()
            node = self._mac_to_node.get(mac)
            if kind == NODE_ONLINE and node is None and "hello_position" not in detail:
                status = self._server.node(mac)  # live: where its hello said it is
                if status is not None and status.position is not None:
                    detail["hello_position"] = list(status.position)
                    detail.setdefault("hello_node_id", status.node_id)
            if self._recorder is not None:
                self._recorder.append_node_event(now_s, kind, mac, detail)
            if kind == NODE_ONLINE:
                if node is None:
                    node = self._adopt(mac, detail)
                self._record("sensing.node_online", {"node": node, "mac": mac, **detail})
            elif kind == NODE_OFFLINE:
                forgotten = self._chain.forget(mac)
                self._record(
                    "sensing.node_offline",
                    {"node": node, "mac": mac, "links_dropped": forgotten, **detail},
                )
            elif kind == NODE_REJECTED:
                self._record("sensing.node_rejected", {"mac": mac or None, **detail})
            elif kind == CAMERA_PLACES:
                self._camera_names[detail["camera"]] = str(detail.get("name", detail["camera"]))
                for track_id, x, y in detail["places"]:
                    self._camera_places[detail["camera"], int(track_id)] = (
                        float(detail["at"]),
                        float(x),
                        float(y),
                    )
            elif kind == NODE_BLE:
                node = detail.get("node", node)
                if node is None or node not in self._positions:
                    continue  # a node with no position cannot place what it hears
                for address, rssi in detail["devices"]:
                    self._sightings.add(node, address, rssi, float(detail["at_s"]))

    def _adopt(self, mac: str, detail: dict[str, Any]) -> str | None:
        """A node the site does not list: it joins under its MAC if its hello said where
        it is (``hello_position`` in the event; the model is rebuilt), else its frames are
        ignored."""
        position = detail.get("hello_position")
        if position is None:
            log.warning("sensing node %s is not in the site file and gave no position", mac)
            return None
        x, y, z = (float(c) for c in position)
        self._positions[mac] = (x, y, z)
        self._names[mac] = str(detail.get("hello_node_id") or mac)
        self._mac_to_node[mac] = mac
        model = self._build_model()
        with self._lock:
            self._model = model
        # The layout has a node more: its map is rated again on the next use (this thread).
        self._coverage = None
        self._capability = None
        return mac

    def _build_model(self) -> GridModel | None:
        if len(self._positions) < 2:
            return None
        return GridModel.all_pairs(
            self._grid, self._positions, channel=self.room.channel, max_zone=self.room.max_zone
        )

    def _link_events(self, states: dict[frozenset[str], LinkState]) -> None:
        online = {self._mac_to_node.get(n.mac) for n in self._server.nodes() if n.online}
        for key, state in states.items():
            both_online = key <= online
            if state.stale and both_online and key not in self._degraded:
                self._degraded.add(key)
                self._record(
                    "sensing.link_degraded",
                    {"link": sorted(key), "zero_frames": state.zero_frames, "frames": state.frames},
                )
            elif not state.stale and key in self._degraded:
                self._degraded.discard(key)
                self._record("sensing.link_restored", {"link": sorted(key)})

    def _record(
        self,
        kind: str,
        detail: dict[str, Any],
        blob_id: int | None = None,
        person: str | None = None,
        at_s: float | None = None,
    ) -> None:
        """Publish a history event of the room, stamped now (or at ``at_s``, the service's
        clock in seconds)."""
        self._bus.publish(
            SensingRecord(
                at=datetime.fromtimestamp(
                    self._wall_anchor_s + (self._now_s if at_s is None else at_s), UTC
                ),
                kind=kind,
                room=self.room.room_id,
                detail=detail,
                blob_id=blob_id,
                person=person,
            )
        )

    def _build_snapshot(
        self,
        now_s: float,
        values: npt.NDArray[np.float32] | None,
        link_states: dict[frozenset[str], LinkState],
        fusion_ms: float,
    ) -> SensingSnapshot:
        statuses = {s.mac: s for s in self._server.nodes()}
        node_of_mac = {node: mac for mac, node in self._mac_to_node.items()}
        nodes = tuple(
            _node_view(
                node_id,
                self._names[node_id],
                position,
                statuses.get(node_of_mac.get(node_id, "")),
                now_s,
            )
            for node_id, position in self._positions.items()
        )
        links: list[LinkView] = []
        if self._model is not None:
            for link in self._model.links:
                state = link_states.get(link.key)
                links.append(
                    LinkView(
                        node_a=link.node_a,
                        node_b=link.node_b,
                        activation=0.0 if state is None else state.smoothed_delta_rms,
                        motion=False if state is None else state.motion,
                        degraded=link.key in self._degraded,
                    )
                )
        blobs = tuple(
            BlobView(
                track_id=t.track_id,
                position=t.position,
                velocity=t.velocity,
                value=t.value,
                coasting=t.coasting,
                trail=tuple(p for _, p in self._blobs[t.track_id].trail),
                identity=self._blobs[t.track_id].identity,
                peak_voxel=self._peak_now(t),
                uncertainty_m=self._uncertainty_at(t.position),
                ambiguous=not self._blobs[t.track_id].placed,
                seen_by=self._seen_by(t),
            )
            for t in self._tracker.tracks
            if self._blobs.get(t.track_id) is not None and self._blobs[t.track_id].confirmed
        )
        voxels = None
        if values is not None:
            voxels = VoxelView(
                origin=self._grid.room_min,
                voxel_m=self._grid.voxel_m,
                shape=self._grid.shape,
                values=values,
            )
        until = self._server.pairing_open_until
        pairing = 0.0 if until is None else max((until - self._clock.now()).total_seconds(), 0.0)
        return SensingSnapshot(
            room_id=self.room.room_id,
            room_name=self.room.name,
            room_size=self.room.size,
            simulated=self.simulated,
            t_s=now_s,
            nodes=nodes,
            links=tuple(links),
            blobs=blobs,
            voxels=voxels,
            channel=self.room.channel,
            wavelength_m=self._wavelength,
            tick_ms=fusion_ms,
            pairing_open_s=pairing,
            truth=self.truth(now_s),
            coverage=self.coverage(),
            devices=self._heard,
        )

    def _uncertainty_at(self, position: Vec3) -> float | None:
        capability = self._capability
        if capability is None:
            return None
        accuracy = capability.accuracy_at(position[0], position[1])
        return round(accuracy, 2) if math.isfinite(accuracy) else None

    # --- simulation -------------------------------------------------------------------------

    def place_macs(self, macs: dict[str, str]) -> None:
        """Tie node MACs to the room's node ids (``{mac: node_id}``; ids the room does not
        have are ignored), as a replay learns them from the recording. Owner's thread."""
        for mac, node_id in macs.items():
            if node_id in self._positions:
                self._mac_to_node.setdefault(mac, node_id)

    def _place_simulated_nodes(self) -> None:
        assert self._simulation_spec is not None
        self.place_macs(self._simulation_spec.node_macs(self.room))

    def _grant(self, mac: str) -> str:
        """A token of this run for simulated node ``mac``, from the room's book: the
        simulated node presents it at hello and is checked as any node is."""
        token = self._simulated_tokens.get(mac)
        if token is None:
            token = self._simulated_tokens[mac] = self._tokens.grant(mac)
        return token

    def _start_simulation(self, spec: SimulatedNodes) -> None:
        self._place_simulated_nodes()
        self._simulated_devices = dict(spec.devices())
        if self._simulated_devices:
            self._registry = {**self._simulated_devices, **self._registry}
        self._simulation = spec.start(
            self.room,
            url=f"ws://127.0.0.1:{self._server.port}",
            grant=self._grant,
            token_for=self.token_for,
            clock=self._clock,
        )


def _node_view(
    node_id: str, name: str, position: Vec3, status: NodeStatus | None, now_s: float
) -> NodeView:
    if status is None:
        return NodeView(
            node_id=node_id,
            name=name,
            mac=None,
            position=position,
            online=False,
            offline_reason="never connected",
        )
    health = status.health
    return NodeView(
        node_id=node_id,
        name=name,
        mac=status.mac,
        position=position,
        online=status.online,
        role=status.role,
        firmware_version=status.firmware_version,
        frames_received=status.frames_received,
        frame_rate_hz=0.0 if health is None else float(health.csi_rate_hz or 0.0),
        malformed=status.malformed_total,
        protocol_errors=status.protocol_errors,
        wifi_rssi_dbm=None if health is None else health.wifi_rssi_dbm,
        free_heap_bytes=None if health is None else health.free_heap_bytes,
        uptime_s=None if health is None or health.uptime_ms is None else health.uptime_ms / 1000.0,
        offline_reason=status.offline_reason,
        seconds_since_seen=None
        if status.last_seen_s is None
        else max(now_s - status.last_seen_s, 0.0),
    )


def describe(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, median, mean, 90th and 99th percentile and maximum of ``values`` (rounded to
    3 decimals; None when there are none): the shape every sensing report uses."""
    if not values:
        return {"count": 0, "median": None, "mean": None, "p90": None, "p99": None, "max": None}
    array = np.asarray(values, dtype=np.float64)
    return {
        "count": int(array.size),
        "median": round(float(np.median(array)), 3),
        "mean": round(float(array.mean()), 3),
        "p90": round(float(np.percentile(array, 90)), 3),
        "p99": round(float(np.percentile(array, 99)), 3),
        "max": round(float(array.max()), 3),
    }


def _rounded(position: Vec3) -> list[float]:
    return [round(float(c), 2) for c in position]


def _explanation_json(explanation: BlobExplanation | None) -> list[dict[str, Any]] | None:
    if explanation is None:
        return None
    return [
        {
            "link": [s.node_a, s.node_b],
            "share": round(s.share, 4),
            "zone": s.zone,
            "weight": round(s.weight, 4),
            "activation": round(s.activation, 4),
            "ellipsoid": {
                "centre": _rounded(s.ellipsoid.centre),
                "axis": [round(c, 4) for c in s.ellipsoid.axis],
                "semi_major_m": round(s.ellipsoid.semi_major_m, 4),
                "semi_minor_m": round(s.ellipsoid.semi_minor_m, 4),
            },
        }
        for s in explanation.shares
    ]
