"""Per-link motion placed in a 3D voxel grid by Fresnel zones, the blobs in it, and why each
blob is there (the blob tracker is :mod:`engine.sensing.grid.tracker`).

Axes are the site's: x and y on the floor, z up, metres. A *link* is an unordered pair of
sensing nodes (which of the two transmits does not matter: its geometry is the two node
positions) with the wavelength of its WiFi channel.

Each link contributes to a voxel by the Fresnel zone the voxel centre P lies in: the excess
path ΔL = |A−P| + |P−B| − |AB|, zone n = ceil(ΔL / (λ/2)) (P on the line of sight is zone 1),
weight 1/n², nothing past zone 5. The weights are computed once per geometry into a sparse
matrix ``W`` of shape (voxels, links), so that one sensing tick is a sparse matrix–vector
product ``W @ activation`` followed by a per-voxel normalisation (see :class:`GridModel`).

Everything here is pure numpy/scipy and holds no locks: a :class:`GridModel` is immutable
after construction and may be shared between threads.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

FloatArray = npt.NDArray[np.float64]
NodeId = str  # a node as the site names it: its node_id, or its MAC ("AA:BB:CC:DD:EE:FF")
Vec3 = tuple[float, float, float]

SPEED_OF_LIGHT_M_S = 299_792_458.0
WIFI_24_CHANNEL_1_MHZ = 2412.0  # IEEE 802.11 2.4 GHz band: channel n at 2412 + 5·(n−1) MHz
WIFI_24_CHANNEL_14_MHZ = 2484.0  # Japan's channel 14 sits off the 5 MHz raster
DEFAULT_CHANNEL = 6  # 2437 MHz, λ = 0.1230 m
MAX_FRESNEL_ZONE = 5  # zones past the fifth carry too little of a person's effect to count
DEFAULT_VOXEL_M = 0.2
# A point whose excess path is within this many half-wavelengths of a zone boundary is counted
# in the inner zone, so rounding in |A−P| + |P−B| − |AB| does not push boundary points (and
# points on the line of sight, ΔL = 0) out by a zone.
_ZONE_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------- geometry


def wavelength_m(channel: int) -> float:
    """Wavelength in metres of a 2.4 GHz WiFi channel (1–14): λ = c / f with the channel's
    centre frequency 2412 + 5·(channel − 1) MHz, and 2484 MHz for channel 14. Channel 6 is
    2437 MHz, 0.1230 m. Raises ``ValueError`` for any other channel."""
    if isinstance(channel, bool) or not isinstance(channel, int | np.integer):
        raise ValueError(f"WiFi channel must be an integer 1–14, got {channel!r}")
    if not 1 <= channel <= 14:
        raise ValueError(f"WiFi channel must be 1–14, got {channel}")
    mhz = WIFI_24_CHANNEL_14_MHZ if channel == 14 else WIFI_24_CHANNEL_1_MHZ + 5.0 * (channel - 1)
    return SPEED_OF_LIGHT_M_S / (mhz * 1e6)


def excess_path_m(a_pos: npt.ArrayLike, b_pos: npt.ArrayLike, points: npt.ArrayLike) -> FloatArray:
    """ΔL = |A−P| + |P−B| − |AB| in metres for each point P (shape (..., 3)) and the link
    between node positions A and B: how much longer the path via P is than the direct one."""
    a = np.asarray(a_pos, dtype=np.float64)
    b = np.asarray(b_pos, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)
    direct = float(np.linalg.norm(b - a))
    result: FloatArray = np.linalg.norm(p - a, axis=-1) + np.linalg.norm(p - b, axis=-1) - direct
    return result


def fresnel_zone_number(
    a_pos: npt.ArrayLike, b_pos: npt.ArrayLike, points: npt.ArrayLike, wavelength: float
) -> npt.NDArray[np.int64]:
    """Fresnel zone number n = ceil(ΔL / (λ/2)) of each point (shape (..., 3)) for the link
    A–B at ``wavelength`` metres; a point on the line of sight (ΔL = 0) is in zone 1."""
    ratio = excess_path_m(a_pos, b_pos, points) / (wavelength / 2.0)
    zones = np.maximum(np.ceil(ratio - _ZONE_TOLERANCE), 1.0)
    return zones.astype(np.int64)


def fresnel_zone_weight(zones: npt.ArrayLike) -> FloatArray:
    """Weight 1/n² of Fresnel zone n, 0 past zone :data:`MAX_FRESNEL_ZONE`."""
    n = np.asarray(zones, dtype=np.float64)
    weights: FloatArray = np.where(n <= MAX_FRESNEL_ZONE, 1.0 / np.maximum(n, 1.0) ** 2, 0.0)
    return weights


@dataclass(frozen=True)
class FresnelEllipsoid:
    """The outer boundary of Fresnel zone ``zone`` of a link: an ellipsoid of revolution with
    foci at the two nodes. ``semi_major_m`` a = (|AB| + n·λ/2)/2 lies along ``axis`` (a unit
    vector from A to B); ``semi_minor_m`` b = √(a² − (|AB|/2)²) is its radius at ``centre``."""

    focus_a: Vec3
    focus_b: Vec3
    zone: int
    centre: Vec3
    axis: Vec3
    semi_major_m: float
    semi_minor_m: float


def fresnel_ellipsoid(
    a_pos: npt.ArrayLike, b_pos: npt.ArrayLike, wavelength: float, zone: int
) -> FresnelEllipsoid:
    """The ellipsoid bounding Fresnel zone ``zone`` (≥ 1) of the link between node positions
    ``a_pos`` and ``b_pos`` (metres) at ``wavelength`` metres, for drawing. A 5 m link at
    λ = 0.125 m, first zone: a = 2.531 m, b = 0.397 m."""
    if zone < 1:
        raise ValueError(f"Fresnel zones start at 1, got {zone}")
    a = np.asarray(a_pos, dtype=np.float64)
    b = np.asarray(b_pos, dtype=np.float64)
    span = b - a
    length = float(np.linalg.norm(span))
    if length == 0.0:
        raise ValueError("a link needs two distinct node positions")
    semi_major = (length + zone * wavelength / 2.0) / 2.0
    semi_minor = math.sqrt(semi_major**2 - (length / 2.0) ** 2)
    return FresnelEllipsoid(
        focus_a=as_vec3(a),
        focus_b=as_vec3(b),
        zone=int(zone),
        centre=as_vec3((a + b) / 2.0),
        axis=as_vec3(span / length),
        semi_major_m=semi_major,
        semi_minor_m=semi_minor,
    )


def as_vec3(values: npt.ArrayLike) -> Vec3:
    x, y, z = (float(v) for v in np.asarray(values, dtype=np.float64).reshape(3))
    return (x, y, z)


# ------------------------------------------------------------------------------------ grid


class VoxelGrid:
    """A box of cubic voxels over a room: ``room_min`` and ``room_max`` are its (x, y, z)
    corners in metres, ``voxel_m`` the edge length. Each axis gets ceil(extent / voxel_m)
    voxels starting at ``room_min`` (the last one may reach a little past ``room_max``), and
    voxels are numbered x fastest, then y, then z. ``centres`` is an (N, 3) float array."""

    def __init__(
        self,
        room_min: Sequence[float],
        room_max: Sequence[float],
        voxel_m: float = DEFAULT_VOXEL_M,
    ) -> None:
        low = np.asarray(room_min, dtype=np.float64).reshape(3)
        high = np.asarray(room_max, dtype=np.float64).reshape(3)
        if voxel_m <= 0.0:
            raise ValueError(f"voxel size must be positive, got {voxel_m}")
        if np.any(high <= low):
            raise ValueError(f"room_max {tuple(high)} must exceed room_min {tuple(low)}")
        self.room_min: Vec3 = as_vec3(low)
        self.room_max: Vec3 = as_vec3(high)
        self.voxel_m = float(voxel_m)
        counts = np.maximum(np.ceil((high - low) / voxel_m - 1e-9), 1).astype(np.int64)
        self.shape: tuple[int, int, int] = (int(counts[0]), int(counts[1]), int(counts[2]))
        axes = [low[i] + (np.arange(counts[i]) + 0.5) * voxel_m for i in range(3)]
        zz, yy, xx = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
        centres = np.stack([xx.ravel(), yy.ravel(), zz.ravel()], axis=1)
        centres.setflags(write=False)
        self.centres: FloatArray = centres

    @property
    def size(self) -> int:
        """Number of voxels."""
        return int(self.centres.shape[0])

    def nearest_voxel(self, position: npt.ArrayLike) -> int:
        """Index of the voxel whose cell holds ``position`` (clamped into the grid)."""
        p = np.asarray(position, dtype=np.float64).reshape(3)
        cell = np.floor((p - np.asarray(self.room_min)) / self.voxel_m).astype(np.int64)
        nx, ny, nz = self.shape
        ix, iy, iz = (int(np.clip(cell[i], 0, n - 1)) for i, n in enumerate((nx, ny, nz)))
        return ix + nx * (iy + ny * iz)


# ---------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Link:
    """An undirected link between two nodes, with the wavelength of its channel. ``node_a``
    and ``node_b`` are kept in the order first given; :meth:`key` is the same either way."""

    node_a: NodeId
    node_b: NodeId
    wavelength_m: float

    @property
    def key(self) -> frozenset[NodeId]:
        return frozenset((self.node_a, self.node_b))


@dataclass(frozen=True)
class LinkShare:
    """One link's part in a fused voxel value: ``share`` of the value (the shares of the
    contributing links sum to 1), its Fresnel ``zone`` number at that voxel, the zone ``weight``
    1/n², the link's ``activation`` that tick, and the zone's ``ellipsoid`` for drawing."""

    link_index: int
    node_a: NodeId
    node_b: NodeId
    share: float
    zone: int
    weight: float
    activation: float
    ellipsoid: FresnelEllipsoid


class GridModel:
    """The voxel grid for one geometry: the voxel grid, node positions (metres, site axes),
    the undirected links (pairs of node ids; (a, b) and (b, a) are one link) each with its own
    wavelength, and the sparse weights ``weights`` (voxels × links, CSR, float32) of zones 1–5
    (not to be modified).

    A tick fuses one activation per link (motion strength, ≥ 0, in ``links`` order) into a
    value per voxel::

        value[v] = (W @ activation)[v] / ‖W[v, :]‖₂

    Dividing by the Euclidean norm of the voxel's weight row makes the value the projection of
    the observed activations onto the pattern a person at that voxel would produce (a matched
    filter): a voxel where k links in their first zone are all active by ``x`` scores √k·x,
    one lying on a single active link scores only x, and a voxel that predicts activity on
    links that are quiet is penalised. Dividing by the plain sum of weights instead would
    give every voxel on one active link's ellipse the same value as an intersection of many
    links (a weighted mean), and no division would not penalise quiet links at all; both
    localise worse (see the tests' synthetic scene). Voxels no link covers stay 0.

    Immutable after construction; safe to share between threads.
    """

    def __init__(
        self,
        grid: VoxelGrid,
        node_positions: Mapping[NodeId, Sequence[float]],
        links: Iterable[tuple[NodeId, NodeId]],
        wavelengths_m: Sequence[float] | float | None = None,
        *,
        channel: int = DEFAULT_CHANNEL,
        max_zone: int = MAX_FRESNEL_ZONE,
    ) -> None:
        """``wavelengths_m``: one per link (in the order given), one for all, or None for the
        wavelength of ``channel``. Repeating a link in either direction is allowed if its
        wavelength agrees; a link from a node to itself or to an unknown node is an error.
        ``max_zone``: the zone cut-off (voxels past it get no weight from the link)."""
        if isinstance(max_zone, bool) or not isinstance(max_zone, int) or not 1 <= max_zone <= 20:
            raise ValueError(f"Fresnel zone cut-off must be a whole number 1-20, got {max_zone!r}")
        self.max_zone = max_zone
        self.grid = grid
        self.node_positions: dict[NodeId, Vec3] = {
            node: as_vec3(pos) for node, pos in node_positions.items()
        }
        pairs = list(links)
        if wavelengths_m is None:
            per_link = [wavelength_m(channel)] * len(pairs)
        elif isinstance(wavelengths_m, int | float):
            per_link = [float(wavelengths_m)] * len(pairs)
        else:
            per_link = [float(w) for w in wavelengths_m]
            if len(per_link) != len(pairs):
                raise ValueError(f"{len(per_link)} wavelengths for {len(pairs)} links")
        self.links: tuple[Link, ...] = self._unique_links(pairs, per_link)
        self._index = {link.key: i for i, link in enumerate(self.links)}
        self.weights: sparse.csr_matrix = self._build_weights()
        row_norms = np.sqrt(
            np.asarray(self.weights.multiply(self.weights).sum(axis=1), dtype=np.float64).ravel()
        )
        inverse = np.zeros_like(row_norms)
        np.divide(1.0, row_norms, out=inverse, where=row_norms > 0.0)
        self.voxel_norm: FloatArray = row_norms
        self._inverse_norm = inverse.astype(np.float32)

    @property
    def inverse_norm(self) -> npt.NDArray[np.float32]:
        """1 / ‖W[v]‖ per voxel (0 where no link has weight): ``tick`` multiplies by it."""
        return self._inverse_norm

    def _unique_links(
        self, pairs: list[tuple[NodeId, NodeId]], wavelengths: list[float]
    ) -> tuple[Link, ...]:
        seen: dict[frozenset[NodeId], Link] = {}
        for (a, b), wavelength in zip(pairs, wavelengths, strict=True):
            if a == b:
                raise ValueError(f"a link needs two different nodes, got {a!r} twice")
            for node in (a, b):
                if node not in self.node_positions:
                    raise ValueError(f"link names node {node!r}, which has no position")
            if wavelength <= 0.0:
                raise ValueError(f"wavelength must be positive, got {wavelength}")
            if self.node_positions[a] == self.node_positions[b]:
                raise ValueError(f"nodes {a!r} and {b!r} are at the same position")
            link = Link(a, b, wavelength)
            previous = seen.get(link.key)
            if previous is None:
                seen[link.key] = link
            elif not math.isclose(previous.wavelength_m, wavelength, rel_tol=1e-9):
                raise ValueError(f"link {a!r}–{b!r} given twice with different wavelengths")
        return tuple(seen.values())

    def _build_weights(self) -> sparse.csr_matrix:
        centres = self.grid.centres
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[npt.NDArray[np.int64]] = []
        vals: list[npt.NDArray[np.float32]] = []
        for column, link in enumerate(self.links):
            a = self.node_positions[link.node_a]
            b = self.node_positions[link.node_b]
            zones = fresnel_zone_number(a, b, centres, link.wavelength_m)
            inside = np.flatnonzero(zones <= self.max_zone)
            rows.append(inside)
            cols.append(np.full(inside.size, column, dtype=np.int64))
            vals.append((1.0 / zones[inside].astype(np.float32) ** 2).astype(np.float32))
        matrix = sparse.csr_matrix(
            (
                np.concatenate(vals) if vals else np.zeros(0, np.float32),
                (
                    np.concatenate(rows) if rows else np.zeros(0, np.int64),
                    np.concatenate(cols) if cols else np.zeros(0, np.int64),
                ),
            ),
            shape=(self.grid.size, len(self.links)),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix

    @classmethod
    def all_pairs(
        cls,
        grid: VoxelGrid,
        node_positions: Mapping[NodeId, Sequence[float]],
        *,
        channel: int = DEFAULT_CHANNEL,
        max_zone: int = MAX_FRESNEL_ZONE,
    ) -> GridModel:
        """A model with every undirected pair of the given nodes as a link, all on ``channel``
        (16 nodes make 120 links)."""
        nodes = list(node_positions)
        pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
        return cls(grid, node_positions, pairs, channel=channel, max_zone=max_zone)

    @property
    def link_count(self) -> int:
        return len(self.links)

    def link_index(self, node_a: NodeId, node_b: NodeId) -> int:
        """Column of the link between two nodes, in either order; ``KeyError`` if none."""
        return self._index[frozenset((node_a, node_b))]

    def activation_vector(
        self, activations: Mapping[tuple[NodeId, NodeId], float]
    ) -> npt.NDArray[np.float32]:
        """An activation vector in ``links`` order from {(node, node): activation}; links not
        named are 0, unknown pairs raise ``KeyError``."""
        vector = np.zeros(self.link_count, dtype=np.float32)
        for (a, b), value in activations.items():
            vector[self.link_index(a, b)] = value
        return vector

    def tick(self, link_activation: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Fuse one activation per link (``links`` order; negative or non-finite ones count
        as 0) into one value per voxel (see the class docstring for the normalisation). Costs
        one sparse matrix–vector product; runs on the calling thread."""
        activation = self._activation(link_activation)
        fused = self.weights @ activation
        result: npt.NDArray[np.float32] = np.multiply(fused, self._inverse_norm, dtype=np.float32)
        return result

    def _activation(self, link_activation: npt.ArrayLike) -> npt.NDArray[np.float32]:
        activation = np.asarray(link_activation, dtype=np.float32).ravel()
        if activation.shape != (self.link_count,):
            raise ValueError(
                f"expected {self.link_count} link activations, got {activation.shape[0]}"
            )
        # One broken link (NaN, or a negative from a bad baseline) must not poison every
        # voxel it covers: it counts as quiet.
        clean: npt.NDArray[np.float32] = np.nan_to_num(activation, nan=0.0, posinf=0.0, neginf=0.0)
        return np.maximum(clean, np.float32(0.0), out=clean)


# ---------------------------------------------------------------------------------- blobs


@dataclass(frozen=True)
class Blob:
    """A local maximum of the fused grid: ``position`` (x, y, z) metres, its fused ``value``,
    and the ``voxel`` index of the peak."""

    position: Vec3
    value: float
    voxel: int


def find_blobs(
    values: npt.ArrayLike,
    grid: VoxelGrid,
    threshold: float,
    min_separation_m: float = 0.8,
    max_blobs: int = 8,
    *,
    refine_radius_m: float | None = None,
    plateau_fraction: float = 0.98,
    prefer_near: npt.ArrayLike | None = None,
) -> list[Blob]:
    """Blobs by non-maximum suppression, strongest first: the strongest voxel above
    ``threshold`` is a blob, voxels closer than ``min_separation_m`` to it are suppressed, and
    so on, up to ``max_blobs``. Each step costs one argmax over the grid plus the voxels in a
    small box around the peak, never a distance to every candidate.

    Fresnel zones are discrete, so a person lights up a plateau of voxels with the same zone
    pattern rather than one peak, and where one link alone sees them the plateau runs along
    that link. Two things follow:

    - A blob's position is the centre of its plateau near the peak: a mean shift over the
      voxels above the threshold and at least ``plateau_fraction`` of the peak's value,
      within ``refine_radius_m`` (default half the separation) of the current estimate.
      ``refine_radius_m=0`` returns the peak voxel's centre.
    - ``prefer_near`` (k × 3 metres, e.g. the tracker's predicted positions) breaks ties: a
      voxel's rank drops by up to half the plateau tolerance with its distance (up to 3 m)
      from the nearest of these, so among voxels that explain the activations equally well
      the one nearest an expected person wins. The reported ``value`` is never changed."""
    flat = np.asarray(values, dtype=np.float32).ravel()
    if flat.shape[0] != grid.size:
        raise ValueError(f"expected {grid.size} voxel values, got {flat.shape[0]}")
    nx, ny, nz = grid.shape
    volume = flat.reshape(nz, ny, nx)  # voxels are numbered x fastest
    above = volume > threshold
    if max_blobs <= 0 or not above.any():
        return []
    rank = np.where(above, volume, np.float32(-np.inf))
    if prefer_near is not None:
        _break_ties_toward(rank, grid, prefer_near, 0.5 * (1.0 - plateau_fraction))
    radius = min_separation_m / 2.0 if refine_radius_m is None else refine_radius_m
    suppress_reach, suppress_mask = _ball(min_separation_m, grid.voxel_m)
    blobs: list[Blob] = []
    while len(blobs) < max_blobs:
        best = int(np.argmax(rank))
        if rank.flat[best] == -np.inf:
            break
        peak = float(flat[best])
        cell = np.array(np.unravel_index(best, rank.shape))  # (iz, iy, ix)
        position = grid.centres[best]
        if radius > 0.0:
            position = _plateau_centre(volume, above, grid, cell, radius, plateau_fraction * peak)
        blobs.append(Blob(as_vec3(position), peak, best))
        box, sub = _box(cell, suppress_reach, rank.shape)
        rank[box][suppress_mask[sub]] = -np.inf
    return blobs


_TIE_BREAK_REACH_M = 3.0
_MEAN_SHIFT_STEPS = 3


def _break_ties_toward(
    rank: npt.NDArray[np.float32], grid: VoxelGrid, prefer_near: npt.ArrayLike, tolerance: float
) -> None:
    """Scale ``rank`` (in place, finite entries only) down by up to ``tolerance`` with the
    distance of each voxel from the nearest ``prefer_near`` position."""
    targets = np.asarray(prefer_near, dtype=np.float64).reshape(-1, 3)
    if targets.shape[0] == 0:
        return
    flat_rank = rank.reshape(-1)
    candidates = np.flatnonzero(np.isfinite(flat_rank))
    points = grid.centres[candidates]
    nearest_sq = np.full(candidates.size, np.inf)
    for target in targets:
        np.minimum(nearest_sq, np.sum((points - target) ** 2, axis=1), out=nearest_sq)
    closeness = np.minimum(np.sqrt(nearest_sq) / _TIE_BREAK_REACH_M, 1.0)
    flat_rank[candidates] *= (1.0 - tolerance * closeness).astype(np.float32)


def _plateau_centre(
    volume: npt.NDArray[np.float32],
    above: npt.NDArray[np.bool_],
    grid: VoxelGrid,
    peak_cell: npt.NDArray[np.int64],
    radius: float,
    floor: float,
) -> FloatArray:
    """Mean shift from the peak voxel over the voxels above the threshold with values
    ≥ ``floor`` within ``radius`` metres: the value-weighted centre of the plateau around the
    peak. The plateau voxels are gathered once from a box twice the radius wide, so the
    estimate moves at most about one radius from the peak."""
    nx, ny, nz = grid.shape
    box, _ = _box(peak_cell, 2 * math.ceil(radius / grid.voxel_m - 1e-9), volume.shape)
    on_plateau = above[box] & (volume[box] >= floor)
    points = grid.centres.reshape(nz, ny, nx, 3)[box][on_plateau]
    weights = volume[box][on_plateau].astype(np.float64)
    position: FloatArray = grid.centres[int(np.ravel_multi_index(tuple(peak_cell), volume.shape))]
    for _ in range(_MEAN_SHIFT_STEPS):
        near = np.sum((points - position) ** 2, axis=1) <= radius**2 + 1e-12
        if not near.any():
            break
        shifted: FloatArray = weights[near] @ points[near] / weights[near].sum()
        moved_sq = float(np.sum((shifted - position) ** 2))
        position = shifted
        if moved_sq < (0.05 * grid.voxel_m) ** 2:
            break
    return position


@functools.lru_cache(maxsize=16)
def _ball(radius_m: float, voxel_m: float) -> tuple[int, npt.NDArray[np.bool_]]:
    """Voxel offsets closer than ``radius_m`` to a voxel centre: the box half-width in voxels
    and a read-only boolean mask over that (z, y, x) box. Cached."""
    reach = max(math.ceil(radius_m / voxel_m - 1e-9), 0)
    steps = np.arange(-reach, reach + 1, dtype=np.float64) * voxel_m
    dz, dy, dx = np.meshgrid(steps, steps, steps, indexing="ij")
    mask = dx**2 + dy**2 + dz**2 < radius_m**2 - 1e-12
    mask.setflags(write=False)
    return reach, mask


def _box(
    centre: npt.NDArray[np.int64], reach: int, shape: tuple[int, ...]
) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """Slices of the grid box of half-width ``reach`` around ``centre`` (clipped to the grid)
    and the matching slices of a (2·reach + 1)³ mask."""
    grid_slices = []
    mask_slices = []
    for index, size in zip(centre, shape, strict=True):
        low = max(int(index) - reach, 0)
        high = min(int(index) + reach + 1, size)
        grid_slices.append(slice(low, high))
        mask_slices.append(slice(low - (int(index) - reach), high - (int(index) - reach)))
    return tuple(grid_slices), tuple(mask_slices)


# --------------------------------------------------------------------------- explainability


def explain(
    model: GridModel, link_activation: npt.ArrayLike, position: Blob | npt.ArrayLike
) -> list[LinkShare]:
    """Why the fused grid has a value at ``position``: each link that contributes there
    (weight > 0 and activation > 0), its share of the value (shares sum to 1), its zone
    number, and the ellipsoid of that zone. Largest share first; empty if nothing
    contributes. A position in metres is explained at the voxel holding it; a :class:`Blob`
    at its peak voxel (its position is a plateau centroid, which may lie in a neighbouring
    voxel with another zone pattern)."""
    activation = model._activation(link_activation).astype(np.float64)
    voxel = position.voxel if isinstance(position, Blob) else model.grid.nearest_voxel(position)
    row = model.weights.getrow(voxel)
    columns = row.indices
    weights = row.data.astype(np.float64)
    contributions = weights * activation[columns]
    keep = contributions > 0.0
    columns, weights, contributions = columns[keep], weights[keep], contributions[keep]
    if columns.size == 0:
        return []
    total = contributions.sum()
    centre = model.grid.centres[voxel]
    shares: list[LinkShare] = []
    for order in np.argsort(-contributions, kind="stable"):
        column = int(columns[order])
        link = model.links[column]
        a = model.node_positions[link.node_a]
        b = model.node_positions[link.node_b]
        zone = int(fresnel_zone_number(a, b, centre, link.wavelength_m))
        shares.append(
            LinkShare(
                link_index=column,
                node_a=link.node_a,
                node_b=link.node_b,
                share=float(contributions[order] / total),
                zone=zone,
                weight=float(weights[order]),
                activation=float(activation[column]),
                ellipsoid=fresnel_ellipsoid(a, b, link.wavelength_m, zone),
            )
        )
    return shares
