"""What the console shows of one sensing room: plain, immutable data, no Qt.

The sensing service builds a :class:`SensingSnapshot` after each sensing tick and publishes it
on the bus; the 3D view and the node health pane draw it as they get it. An explanation of one
blob (:class:`BlobExplanation`) is asked for separately (it needs the tick's activations) and
comes back the same way. Positions are metres on the site's axes: x, y on the floor, z up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engine.sensing.grid.fresnel import FresnelEllipsoid

Vec3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class NodeView:
    """One node of the room: its site id and name, MAC (None until one has connected with
    the id's MAC), position, and health as the node server reports it."""

    node_id: str
    name: str
    mac: str | None
    position: Vec3
    online: bool
    role: str | None = None
    firmware_version: str | None = None
    frames_received: int = 0
    frame_rate_hz: float = 0.0
    malformed: int = 0
    protocol_errors: int = 0
    wifi_rssi_dbm: int | None = None
    free_heap_bytes: int | None = None
    uptime_s: float | None = None
    offline_reason: str | None = None
    seconds_since_seen: float | None = None


@dataclass(frozen=True, slots=True)
class LinkView:
    """One undirected link between two nodes (site ids): its smoothed motion strength
    (relative deltaRMS), whether that is above the motion threshold, and whether it is
    degraded (no frames lately, or mostly all-zero frames)."""

    node_a: str
    node_b: str
    activation: float
    motion: bool
    degraded: bool = False
    frame_rate_hz: float = 0.0


@dataclass(frozen=True, slots=True)
class BlobView:
    """One tracked blob: stable ``track_id``, Kalman position and velocity, fused ``value``,
    whether it is coasting (no detection this tick), its recent ``trail`` (oldest first),
    when detected this tick the grid voxel of its detection's peak (where it is explained),
    and how well the layout can place it where it is."""

    track_id: int
    position: Vec3
    velocity: Vec3
    value: float
    coasting: bool
    trail: tuple[Vec3, ...] = ()
    identity: BlobIdentity | None = None
    peak_voxel: int | None = None
    # How far off the layout may place it here (metres; None when not known) and whether a
    # person here can also appear elsewhere: an ambiguous blob may be a ghost of crossing
    # links, and is drawn as uncertain until it has been placed somewhere unambiguous.
    uncertainty_m: float | None = None
    ambiguous: bool = False
    seen_by: str | None = None  # the camera that placed its person this tick (its name)


@dataclass(frozen=True, slots=True)
class DeviceHeard:
    """A registered BLE device the room's nodes heard lately: its address, label, the name it
    gives and the person's id, and its readings: (node position in the room's metres, the
    engine time it was heard in seconds, RSSI dBm), as
    :func:`engine.identity.ble.blob_match_score` takes them."""

    address: str
    label: str
    name: str
    person_id: str | None
    readings: tuple[tuple[Vec3, float, float], ...]


@dataclass(frozen=True, slots=True)
class BlobIdentity:
    """Who a blob is: the registered BLE device it carries (address, label), the person's
    ``name``, id (None for a simulated tag) and colour, the match ``score`` (0–1) and since
    when (engine seconds) the blob has had this name."""

    address: str
    label: str
    name: str
    person_id: str | None
    colour: str
    score: float
    since_s: float


@dataclass(frozen=True)
class VoxelView:
    """The fused grid of one tick: ``values`` (float32, one per voxel, x fastest, then y,
    then z) over ``shape`` (nx, ny, nz) voxels of ``voxel_m`` starting at ``origin``."""

    origin: Vec3
    voxel_m: float
    shape: tuple[int, int, int]
    values: npt.NDArray[np.float32]

    def centres_above(
        self, threshold: float
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
        """Centres (K, 3) and values (K,) of the voxels whose value exceeds ``threshold``."""
        index = np.flatnonzero(self.values > threshold)
        nx, ny, _ = self.shape
        ix = index % nx
        iy = (index // nx) % ny
        iz = index // (nx * ny)
        cells = np.stack([ix, iy, iz], axis=1).astype(np.float64)
        centres = np.asarray(self.origin, dtype=np.float64) + (cells + 0.5) * self.voxel_m
        return centres, self.values[index]


@dataclass(frozen=True)
class CoverageView:
    """What the room's node layout can see, from its geometry
    (:mod:`engine.sensing.grid.capability`), for the floor overlay and the room's health line.
    Per-cell arrays have shape (ny, nx): row j, column i is the cell centred at (``xs[i]``,
    ``ys[j]``) metres (rows south to north).
    ``accuracy_m`` is the expected horizontal error (``inf`` where no link sees a person),
    ``fall_capable`` where a fall can be confirmed (and, with the room's ``fall_alerts``
    ``"confirmable"``, the only places a fall raises an alert), ``ambiguous`` where a person
    can also appear at a separate place. ``health`` is the one line said about the room;
    ``problem`` says why the layout could not be rated (then the maps are empty)."""

    rating: str
    reasons: tuple[str, ...]
    advice: str
    health: str
    fall_alerts: str
    cell_m: float
    xs: npt.NDArray[np.float64]
    ys: npt.NDArray[np.float64]
    accuracy_m: npt.NDArray[np.float64]
    fall_capable: npt.NDArray[np.bool_]
    ambiguous: npt.NDArray[np.bool_]
    median_accuracy_m: float
    fall_capable_fraction: float
    ambiguous_fraction: float
    problem: str | None = None


@dataclass(frozen=True)
class SensingSnapshot:
    """Everything drawn for one room after one sensing tick. ``simulated`` is True when the
    room's CSI comes from the built-in simulator (the view says so). ``t_s`` is the engine's
    monotonic time of the tick; ``tick_ms`` the sensing tick's duration."""

    room_id: str
    room_name: str
    room_size: Vec3
    simulated: bool
    t_s: float
    nodes: tuple[NodeView, ...]
    links: tuple[LinkView, ...]
    blobs: tuple[BlobView, ...]
    voxels: VoxelView | None
    channel: int
    wavelength_m: float
    tick_ms: float = 0.0
    pairing_open_s: float = 0.0  # seconds left in the pairing window, 0 when closed
    truth: tuple[Vec3, ...] = field(default=())  # simulator only: where the walkers are
    coverage: CoverageView | None = None  # what the layout can see (None before it is known)
    # The registered devices the nodes heard lately, with their readings (for matching them
    # to people placed more precisely than blobs: a camera's tracks).
    devices: tuple[DeviceHeard, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class LinkShareView:
    """One link's part in a blob's value: share (contributing links sum to 1), Fresnel zone
    at the blob, zone weight 1/n², the link's activation, and that zone's ellipsoid."""

    node_a: str
    node_b: str
    share: float
    zone: int
    weight: float
    activation: float
    ellipsoid: FresnelEllipsoid


@dataclass(frozen=True, slots=True)
class BlobExplanation:
    """Why blob ``track_id`` is where it is at tick time ``t_s``: the links that put value
    there, largest share first."""

    room_id: str
    track_id: int
    t_s: float
    position: Vec3
    value: float
    shares: tuple[LinkShareView, ...]
