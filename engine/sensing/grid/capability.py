"""What a sensing layout can see, from its geometry alone: where it can localise a person on
the floor (horizontal accuracy), where it can tell a standing body from one lying on the floor
(fall capability), and where two separate places look alike to it (ambiguity, a ghost). The
equivalent, for the Fresnel-zone grid, of a GDOP map.

The model is the grid's own (:mod:`engine.sensing.grid.fresnel`): a body at P weights each link by
1/n² of the Fresnel zone n it stands in (nothing past zone 5), and the fused value of a voxel V
for that body is ``W[V] · W[P] / ‖W[V]‖``, i.e. ``‖W[P]‖ · cos(W[V], W[P])``. So the grid the
grid builds for one noise-free person is that person's *ambiguity function*: the cosine
similarity between the link pattern at P and at every other place. Where it stays near 1 the
grid cannot tell the places apart. Everything below follows from it:

- **Horizontal accuracy** (metres) at a floor cell: the RMS horizontal distance from the cell
  of every place (any height) whose pattern matches a standing body's there to within
  :data:`MATCH_LEVEL`, plus the cell's own quantisation. This is the discrete form of the
  suggested Fisher-information / GDOP figure: the weights are constant inside a zone, so
  their spatial gradient is zero almost everywhere and a gradient-based 2×2 information
  matrix would be singular; the spread of the matching region is what the gradient's
  inverse measures for a smooth model (a wide, flat similarity is a small information).
  A body only one link sees matches a whole stretch of that link's ellipse; where links
  cross at well-spread angles the match shrinks to the crossing.
- **Ambiguity** at a cell: the best match among places at least :data:`AMBIGUITY_DISTANCE_M`
  away and outside the cell's own matching region. At or above :data:`AMBIGUITY_LEVEL` a body
  here can appear there as well (a ghost); with four corner nodes the middle of the room has
  only the two diagonals, so places around their crossing all look alike.
- **Fall capability** at a cell: a lying body (centre 0.1–0.4 m) must change some link (its
  pattern norm at least :data:`LYING_SEEN_WEIGHT`), and its pattern must differ in *shape*
  from a standing body's (1.0–1.7 m) near it, both ways: a standing body that matches a
  lying one within :data:`HEIGHT_NEIGHBOURHOOD_M` would be a false fall, a lying one that
  matches a standing one a missed fall. The grid normalises each voxel, so a pattern that
  is only weaker (the same links, further out in their zones, as with every node at body
  height) says nothing about height: the motion's strength is unknown. A *seated* body
  (centre 0.5–0.7 m) at the same spot is compared the same way: a person who sits down
  where a seated pattern matches a lying one is read as fallen, and sit-downs were where
  the false fall alerts came from. The height score is 1 − the worst of these matches; the
  cell is fall-capable when the score reaches :data:`FALL_SCORE_MIN`.

  Measured (tick-level harness, the six hidden rooms of ``benchmarks/sensing_rooms`` with
  their advised layouts, 108 walk/sit/lie runs and 36 falls, seeds 7100–7102, 7200–7202,
  8100–8102, 8200–8202, the detector unchanged): with the standing check alone 77 % of the
  demo room was fall-capable and 5 of the 108 runs raised a false alert (four sit-downs, one
  slow lie-down), every one at a spot the map called capable, and 21 of the 26 falls that
  landed on capable spots were alerted; with the seated check (and the layouts it advises:
  three of the six rooms' changed) 25 % of the demo room is, 1 run did (a sit-down in the
  demo room) and 5 of the 6 falls on capable spots were alerted. The
  sitters' fitted heights (0.14–0.4 m: a still body's deltaRMS depends on its path's phase)
  overlap the fallen bodies' (0.33–0.4 m), and so do their height steps (up to 0.73 m against
  0.45–0.58 m), so the detector cannot make up for the geometry. Comparing the seated body
  within 0.5 m of the spot instead of at it (:data:`SEAT_NEIGHBOURHOOD_M`), almost nothing
  is capable (3 % of the demo room).
- **The fall area.** A fall is confirmed where the tracker places the body, 0.2-0.5 m from
  where it lies, and the capable cells above are often specks among cells where sitting
  looks like falling: a fall beside one is placed off it, a sit-down near one onto it. A
  capable cell therefore counts only where at least :data:`FALL_AREA_SHARE` of the floor
  within :data:`FALL_AREA_RADIUS_M` is capable too (the demo room 25 → 9 %). Measured
  (tick-level harness, the six hidden rooms, seeds the detector was not tuned on): 216
  walk/sit/lie runs (9500-9505, 9600-9605) raised 4 false alerts on the cell map and 1 on
  the area; 42 falls walked onto spots of the area (9400-9406, ``sense simulate
  --fall-where confirmable``) were alerted 25 and 24 times. With the advisor's layouts for
  the area, new seeds: 1 false alert in 108 runs (9900-9905; a sit-down in the demo room,
  placed on the sitter), 26 of 42 falls alerted (9800-9806): 9 were never confirmed by
  the detector (6 of 7 in the 6.7 × 4.1 m room, where a walker's fitted height reads
  0.65 m on the way, so no descent is seen) and 7 were placed outside the area. A looser
  area (a third of the floor within 0.5 m) alerted 37 of 42 falls and raised 8 false
  alerts in 216 runs; nothing in a single event tells a sitter from a fallen body either:
  fitted heights 0.16-0.47 m against 0.14-0.36 m, the step down 0.1-0.6 s against
  0.1-0.5 s, and the fit's own likelihood of lying against sitting overlapping as much.

Pure numpy; a :func:`room_capability` call holds no state and is safe on any thread. It costs
a few matrix products of (cells × links) patterns: about a second for a 12 × 9 m room at the
default 0.25 m cells.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from engine.sensing.falls import FallPolicy
from engine.sensing.grid.fresnel import (
    DEFAULT_CHANNEL,
    MAX_FRESNEL_ZONE,
    NodeId,
    Vec3,
    fresnel_zone_number,
    wavelength_m,
)
from engine.sensing.view import CoverageView

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Rating = Literal["good", "fair", "poor"]

DEFAULT_CELL_M: Final = 0.25
# Body centre heights (metres): walking or standing, and lying on the floor.
STANDING_BAND_M: Final = (1.0, 1.7)
LYING_BAND_M: Final = (0.1, 0.4)
SEATED_BAND_M: Final = (0.5, 0.7)  # on a chair or a sofa's edge
_BAND_SAMPLES = 3  # heights sampled in each band; a body spans its band
# Heights (metres) at which the grid could place a body instead: its voxel column, coarser.
_CANDIDATE_STEP_M = 0.3
# Cosine similarity of link patterns above which two places count as alike. The fused value
# of a voxel is ‖W[P]‖·cos, and find_blobs places a blob at the centre of the plateau of
# voxels within 98 % of the peak (its plateau_fraction): the places at 0.98 are the ones the
# blob's position is averaged over.
MATCH_LEVEL: Final = 0.98
# A separate place this alike is a ghost: "nearly the same link pattern". Set above the
# plateau level because a tracker that follows a person rejects a far place that is merely
# close; patterns within 0.5 % it cannot tell apart (four corner nodes at 2 m: their two
# diagonals are the only links the middle of the room has).
AMBIGUITY_LEVEL: Final = 0.995
AMBIGUITY_DISTANCE_M: Final = 1.5  # a match this far away is a second place, not a blur
HEIGHT_NEIGHBOURHOOD_M: Final = 1.0  # a fall moves the body's centre about this far
# A person sits down where they are: a seated body is compared with a lying one at the same
# cell (0). The fall detector's height fit searches 0.5 m round a track, so 0.5 would be the
# stricter reading; it leaves falls confirmable in 3 % of the demo room (see above).
SEAT_NEIGHBOURHOOD_M: Final = 0.0
# A fall is confirmed where the tracker *places* the body, and that is this far off (the
# one-walker median error is 0.2-0.5 m): a capable cell counts only where at least
# FALL_AREA_SHARE of the floor within FALL_AREA_RADIUS_M is capable too, so that the fall
# area is one a fallen body is placed in, not specks that a fall near them misses and a
# sit-down beside them hits. See the module docstring for the figures.
FALL_AREA_RADIUS_M: Final = 0.5
FALL_AREA_SHARE: Final = 0.5
# A lying body must weigh at least this much on the links: one link in its second zone
# (1/4), or several further out; less, and the body changes nothing and its blob ends.
LYING_SEEN_WEIGHT: Final = 0.25
FALL_SCORE_MIN: Final = 0.15  # standing (or seated) and lying patterns at most cos 0.85 alike
# Wall inset (metres) of the cells the summaries count: nobody walks inside a wall mount.
_SUMMARY_INSET_M = 0.3


@dataclass(frozen=True)
class RoomCapability:
    """What a layout can see, per floor cell and in summary.

    Per-cell arrays have shape (ny, nx): row j, column i is the cell whose centre is
    (``xs[i]``, ``ys[j]``) metres. ``accuracy_m`` is the expected horizontal error (metres;
    ``inf`` where no link sees a standing body), ``ambiguity`` the best match of this cell's
    pattern among separate places at least :data:`AMBIGUITY_DISTANCE_M` away (0–1;
    ``ambiguous`` where it reaches :data:`AMBIGUITY_LEVEL`), ``height_score`` 0–1 how
    differently a lying body and a standing or seated one change the links (0 where a lying
    body changes none), ``fall_capable`` where a fall can be confirmed (the height score
    reaches :data:`FALL_SCORE_MIN` and the cell is not ambiguous), ``seat_limited`` where
    the only thing in the way is that a seated body looks like a lying one. ``counted``
    marks the cells the summaries count (those :data:`_SUMMARY_INSET_M` clear of the
    walls). Fractions are of the counted cells."""

    room_size_m: Vec3
    cell_m: float
    channel: int
    node_count: int
    link_count: int
    xs: FloatArray
    ys: FloatArray
    accuracy_m: FloatArray
    ambiguity: FloatArray
    ambiguous: BoolArray
    height_score: FloatArray
    fall_capable: BoolArray
    seat_limited: BoolArray
    counted: BoolArray
    median_accuracy_m: float
    within_half_m: float
    within_one_m: float
    ambiguous_fraction: float
    fall_capable_fraction: float
    seat_limited_fraction: float
    rating: Rating
    reasons: tuple[str, ...]
    advice: str

    def cell_of(self, x_m: float, y_m: float) -> tuple[int, int]:
        """The (row, column) of the cell holding floor point ``x_m``, ``y_m`` (metres);
        a point outside the room belongs to the nearest edge cell."""
        column = int(np.clip(np.searchsorted(self._edges(self.xs), x_m), 0, self.xs.size - 1))
        row = int(np.clip(np.searchsorted(self._edges(self.ys), y_m), 0, self.ys.size - 1))
        return row, column

    @staticmethod
    def _edges(centres: FloatArray) -> FloatArray:
        edges: FloatArray = (centres[:-1] + centres[1:]) / 2.0
        return edges

    def fall_capable_at(self, x_m: float, y_m: float) -> bool:
        """Whether a fall at floor point ``x_m``, ``y_m`` (metres) can be confirmed."""
        row, column = self.cell_of(x_m, y_m)
        return bool(self.fall_capable[row, column])

    def accuracy_at(self, x_m: float, y_m: float) -> float:
        """The expected horizontal error (metres; ``inf`` where no link sees) at a point."""
        row, column = self.cell_of(x_m, y_m)
        return float(self.accuracy_m[row, column])

    def ambiguous_at(self, x_m: float, y_m: float) -> bool:
        """Whether a body at the point can also appear at a separate place (a ghost)."""
        row, column = self.cell_of(x_m, y_m)
        return bool(self.ambiguous[row, column])

    def as_json(self) -> dict[str, Any]:
        """The figures and maps as plain JSON values (metres, fractions 0–1; rows south to
        north, i.e. by increasing y; ``null`` for a cell no link sees)."""

        def grid(values: FloatArray) -> list[list[float | None]]:
            return [
                [round(float(v), 3) if math.isfinite(v) else None for v in row] for row in values
            ]

        return {
            "room_m": list(self.room_size_m),
            "cell_m": self.cell_m,
            "channel": self.channel,
            "nodes": self.node_count,
            "links": self.link_count,
            "rating": self.rating,
            "reasons": list(self.reasons),
            "advice": self.advice,
            "median_accuracy_m": _json_number(self.median_accuracy_m),
            "within_0_5_m": round(self.within_half_m, 3),
            "within_1_0_m": round(self.within_one_m, 3),
            "ambiguous": round(self.ambiguous_fraction, 3),
            "fall_capable": round(self.fall_capable_fraction, 3),
            "x_m": [round(float(x), 3) for x in self.xs],
            "y_m": [round(float(y), 3) for y in self.ys],
            "accuracy_m_map": grid(self.accuracy_m),
            "height_score_map": grid(self.height_score),
            "fall_capable_map": self.fall_capable.astype(int).tolist(),
            "ambiguous_map": self.ambiguous.astype(int).tolist(),
        }


def _json_number(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


@functools.lru_cache(maxsize=16)
def layout_capability(
    room_size_m: tuple[float, float, float],
    nodes: tuple[tuple[NodeId, tuple[float, float, float]], ...],
    channel: int = DEFAULT_CHANNEL,
) -> RoomCapability:
    """:func:`room_capability` of a layout given as hashable tuples, kept for the few
    layouts a process runs (a room's service, its replays and the tests share one map)."""
    return room_capability(room_size_m, dict(nodes), channel)


def room_capability(
    room_size_m: Sequence[float],
    nodes: Mapping[NodeId, Sequence[float]],
    channel: int = DEFAULT_CHANNEL,
    cell_m: float = DEFAULT_CELL_M,
) -> RoomCapability:
    """The capability map of a room of ``room_size_m`` (width x, depth y, height z metres,
    from the origin) with sensing nodes at ``nodes`` (metres, site axes; every pair is a
    link, all on WiFi ``channel``), on floor cells ``cell_m`` metres wide (0.1–1.0).
    Raises ``ValueError`` naming what is wrong: a room side not 0.5–100 m, a node outside
    the room, two nodes at one place, fewer than two nodes, or a cell size out of range."""
    size = _room_size(room_size_m)
    positions = _node_positions(nodes, size)
    if not (isinstance(cell_m, int | float) and 0.1 <= cell_m <= 1.0):
        raise ValueError(f"cell size must be 0.1-1.0 m, got {cell_m!r}")
    wavelength = wavelength_m(channel)
    width, depth, height = size
    xs = _cell_centres(width, cell_m)
    ys = _cell_centres(depth, cell_m)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    floor = np.stack([xx.ravel(), yy.ravel()], axis=1)  # (cells, 2), x fastest
    links = [(a, b) for i, a in enumerate(positions) for b in positions[i + 1 :]]

    standing = _band_pattern(floor, links, wavelength, STANDING_BAND_M, height)
    lying = _band_pattern(floor, links, wavelength, LYING_BAND_M, height)
    seated = _band_pattern(floor, links, wavelength, SEATED_BAND_M, height)
    heights = _candidate_heights(height)
    candidates = np.concatenate(
        [_patterns(_at_height(floor, z), links, wavelength) for z in heights]
    )
    shape = (ys.size, xs.size)
    accuracy, ambiguity = _ambiguity(floor, shape, standing, candidates, len(heights), cell_m)
    height_score, seat_limited = _height_score(floor, standing, seated, lying)

    inset = min(_SUMMARY_INSET_M, width / 4, depth / 4)
    counted = (
        (floor[:, 0] >= inset)
        & (floor[:, 0] <= width - inset)
        & (floor[:, 1] >= inset)
        & (floor[:, 1] <= depth - inset)
    )
    ambiguous = ambiguity >= AMBIGUITY_LEVEL
    seat_limited &= ~ambiguous  # a ghost's cell is withheld for that reason first
    # A ghost there is not a body: where a place looks like another, no fall is confirmed.
    capable_cell = (height_score >= FALL_SCORE_MIN) & ~ambiguous
    fall_capable = _fall_area(capable_cell, shape, cell_m)
    # A capable speck among cells where sitting looks like falling is limited by the same.
    seat_limited |= capable_cell & ~fall_capable & _near(seat_limited, shape, cell_m)
    counted_accuracy = accuracy[counted]
    summary = _Summary(
        median_accuracy_m=float(np.median(counted_accuracy)),
        within_half_m=float(np.mean(counted_accuracy <= 0.5)),
        within_one_m=float(np.mean(counted_accuracy <= 1.0)),
        ambiguous_fraction=float(np.mean(ambiguous[counted])),
        fall_capable_fraction=float(np.mean(fall_capable[counted])),
        seat_limited_fraction=float(np.mean(seat_limited[counted])),
    )
    rating, reasons = _rate(summary, floor[counted & ambiguous], (width, depth))
    advice = _advice(
        summary,
        floor[counted & ~fall_capable],
        floor[counted & (accuracy > 1.0)],
        floor[counted & ambiguous],
        (width, depth),
        low_nodes=any(p[2] < 0.5 for p in positions),
    )
    return RoomCapability(
        room_size_m=size,
        cell_m=float(cell_m),
        channel=channel,
        node_count=len(positions),
        link_count=len(links),
        xs=xs,
        ys=ys,
        accuracy_m=accuracy.reshape(shape),
        ambiguity=ambiguity.reshape(shape),
        ambiguous=ambiguous.reshape(shape),
        height_score=height_score.reshape(shape),
        fall_capable=fall_capable.reshape(shape),
        seat_limited=seat_limited.reshape(shape),
        counted=counted.reshape(shape),
        median_accuracy_m=summary.median_accuracy_m,
        within_half_m=summary.within_half_m,
        within_one_m=summary.within_one_m,
        ambiguous_fraction=summary.ambiguous_fraction,
        fall_capable_fraction=summary.fall_capable_fraction,
        seat_limited_fraction=summary.seat_limited_fraction,
        rating=rating,
        reasons=reasons,
        advice=advice,
    )


def _fall_area(capable: BoolArray, shape: tuple[int, int], cell_m: float) -> BoolArray:
    """The capable cells (flat, x fastest, of a ``shape`` grid) at least
    :data:`FALL_AREA_SHARE` of whose floor within :data:`FALL_AREA_RADIUS_M` is capable too
    (the floor outside the room counts as the nearest edge cell)."""
    disc = _fall_disc(cell_m).astype(np.float64)
    share = ndimage.convolve(
        capable.reshape(shape).astype(np.float64), disc / disc.sum(), mode="nearest"
    )
    area: BoolArray = capable & (share.ravel() >= FALL_AREA_SHARE - 1e-9)
    return area


def _near(cells: BoolArray, shape: tuple[int, int], cell_m: float) -> BoolArray:
    """The cells (flat, of a ``shape`` grid) within :data:`FALL_AREA_RADIUS_M` of any of
    ``cells``."""
    near: BoolArray = ndimage.binary_dilation(
        cells.reshape(shape), structure=_fall_disc(cell_m)
    ).ravel()
    return near


def _fall_disc(cell_m: float) -> BoolArray:
    """The cells within :data:`FALL_AREA_RADIUS_M` of a cell, as a square mask around it."""
    reach = max(round(FALL_AREA_RADIUS_M / cell_m), 1)
    yy, xx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    disc: BoolArray = xx * xx + yy * yy <= reach * reach
    return disc


# ------------------------------------------------------------------------------- inputs


def _room_size(room_size_m: Sequence[float]) -> Vec3:
    values = [float(v) for v in room_size_m]
    if len(values) != 3:
        raise ValueError(f"room size must be width, depth and height in metres, got {values}")
    if not all(math.isfinite(v) and 0.5 <= v <= 100.0 for v in values):
        raise ValueError(f"each side of the room must be 0.5-100 m, got {values}")
    return (values[0], values[1], values[2])


def _node_positions(nodes: Mapping[NodeId, Sequence[float]], size: Vec3) -> list[FloatArray]:
    if len(nodes) < 2:
        raise ValueError(f"a layout needs at least two nodes, got {len(nodes)}")
    positions: list[FloatArray] = []
    for node, position in nodes.items():
        p = np.asarray([float(v) for v in position], dtype=np.float64)
        if p.shape != (3,) or not np.all(np.isfinite(p)):
            raise ValueError(f"node {node}: position must be x, y, z in metres")
        if np.any(p < -1e-9) or np.any(p > np.asarray(size) + 1e-9):
            raise ValueError(
                f"node {node} at {p[0]:g}, {p[1]:g}, {p[2]:g} m is outside the "
                f"{size[0]:g} x {size[1]:g} x {size[2]:g} m room"
            )
        for other in positions:
            if np.allclose(other, p):
                raise ValueError(f"node {node} is at the same place as another node")
        positions.append(p)
    return positions


def _cell_centres(extent_m: float, cell_m: float) -> FloatArray:
    count = max(math.ceil(extent_m / cell_m - 1e-9), 1)
    step = extent_m / count  # cells tile the room exactly; at most cell_m wide
    centres: FloatArray = (np.arange(count, dtype=np.float64) + 0.5) * step
    return centres


def _candidate_heights(height_m: float) -> list[float]:
    top = max(height_m - 0.1, 0.1)
    count = max(math.floor((top - 0.1) / _CANDIDATE_STEP_M + 1e-9) + 1, 1)
    return [0.1 + i * _CANDIDATE_STEP_M for i in range(count)]


def _at_height(floor: FloatArray, z_m: float) -> FloatArray:
    points: FloatArray = np.column_stack([floor, np.full(floor.shape[0], z_m)])
    return points


# ----------------------------------------------------------------------------- patterns


def _patterns(
    points: FloatArray, links: list[tuple[FloatArray, FloatArray]], wavelength: float
) -> FloatArray:
    """The grid's weight row 1/n² (zones 1–5) of each point for each link: (points, links)."""
    rows = np.zeros((points.shape[0], len(links)), dtype=np.float64)
    for column, (a, b) in enumerate(links):
        zones = fresnel_zone_number(a, b, points, wavelength)
        rows[:, column] = np.where(
            zones <= MAX_FRESNEL_ZONE, 1.0 / zones.astype(np.float64) ** 2, 0.0
        )
    return rows


def _band_pattern(
    floor: FloatArray,
    links: list[tuple[FloatArray, FloatArray]],
    wavelength: float,
    band_m: tuple[float, float],
    room_height_m: float,
) -> FloatArray:
    """The mean weight row of a body spanning ``band_m`` (clipped to the room) at each cell."""
    low, high = band_m[0], min(band_m[1], room_height_m)
    total = np.zeros((floor.shape[0], len(links)), dtype=np.float64)
    for z in np.linspace(low, max(low, high), _BAND_SAMPLES):
        total += _patterns(_at_height(floor, float(z)), links, wavelength)
    mean: FloatArray = total / _BAND_SAMPLES
    return mean


def _unit_rows(rows: FloatArray) -> tuple[FloatArray, FloatArray]:
    norms = np.linalg.norm(rows, axis=1)
    unit = np.zeros_like(rows)
    np.divide(rows, norms[:, None], out=unit, where=norms[:, None] > 0.0)
    return unit, norms


_CHUNK = 256  # source cells per matrix product: bounds memory to chunk × candidates floats


def _ambiguity(
    floor: FloatArray,
    shape: tuple[int, int],
    standing: FloatArray,
    candidates: FloatArray,
    heights: int,
    cell_m: float,
) -> tuple[FloatArray, FloatArray]:
    """Per cell: the horizontal accuracy (metres; inf where unseen) and the best match among
    places at least :data:`AMBIGUITY_DISTANCE_M` away and apart from the cell's own matching
    region (0–1).

    The places matching a body at P form a region around P (a blur: along the one link that
    sees it, or the small crossing of many) and possibly other, separate regions (ghosts).
    A tracker that follows the person from step to step stays in the region around P, so the
    accuracy is that region's RMS radius; a separate region is where a second, false blob
    can appear, so it is the ambiguity."""
    cells = floor.shape[0]
    source, source_norm = _unit_rows(standing)
    target, _ = _unit_rows(candidates)
    accuracy = np.full(cells, np.inf)
    ambiguity = np.zeros(cells)
    # A cell is a square of side cell_m: its own uniform spread, cell²/12 per axis.
    quantisation = cell_m**2 / 6.0
    for start in range(0, cells, _CHUNK):
        stop = min(start + _CHUNK, cells)
        # Best match over the candidate heights of each floor cell: (chunk, cells).
        similarity = (source[start:stop] @ target.T).reshape(stop - start, heights, cells)
        best = similarity.max(axis=1)
        distance_sq = np.sum((floor[start:stop, None, :] - floor[None, :, :]) ** 2, axis=2)
        for row, cell in enumerate(range(start, stop)):
            if source_norm[cell] <= 0.0:
                continue  # no link sees a body here: accuracy stays inf
            matching = best[row] >= MATCH_LEVEL
            matching[cell] = True
            labels, _ = ndimage.label(matching.reshape(shape))
            own = labels.ravel() == labels.flat[cell]
            accuracy[cell] = math.sqrt(float(distance_sq[row, own].mean()) + quantisation)
            elsewhere = ~own & (distance_sq[row] >= AMBIGUITY_DISTANCE_M**2)
            if elsewhere.any():
                ambiguity[cell] = float(best[row, elsewhere].max())
    return accuracy, ambiguity


def _height_score(
    floor: FloatArray, standing: FloatArray, seated: FloatArray, lying: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """Per cell, 0–1: 1 − the worst match between a lying body here and a standing one near
    it (within :data:`HEIGHT_NEIGHBOURHOOD_M`) or a seated one (within
    :data:`SEAT_NEIGHBOURHOOD_M`), each both ways; 0 where a lying body changes the links
    too little to be seen. And where the seated match alone keeps the score below
    :data:`FALL_SCORE_MIN` (the standing one would not)."""
    stand_unit, _ = _unit_rows(standing)
    seat_unit, _ = _unit_rows(seated)
    lie_unit, lie_norm = _unit_rows(lying)
    cells = floor.shape[0]
    score = np.zeros(cells)
    seat_limited = np.zeros(cells, dtype=bool)
    for start in range(0, cells, _CHUNK):
        stop = min(start + _CHUNK, cells)
        distance_sq = np.sum((floor[start:stop, None, :] - floor[None, :, :]) ** 2, axis=2)
        worst = []
        for other, reach in (
            (stand_unit, HEIGHT_NEIGHBOURHOOD_M),
            (seat_unit, SEAT_NEIGHBOURHOOD_M),
        ):
            near = distance_sq <= reach**2 + 1e-9
            false_fall = np.max(np.where(near, other[start:stop] @ lie_unit.T, 0.0), axis=1)
            missed_fall = np.max(np.where(near, lie_unit[start:stop] @ other.T, 0.0), axis=1)
            worst.append(np.maximum(false_fall, missed_fall))
        seen = lie_norm[start:stop] >= LYING_SEEN_WEIGHT
        standing_score = np.where(seen, np.clip(1.0 - worst[0], 0.0, 1.0), 0.0)
        score[start:stop] = np.where(seen, np.clip(1.0 - np.maximum(*worst), 0.0, 1.0), 0.0)
        seat_limited[start:stop] = (standing_score >= FALL_SCORE_MIN) & (
            score[start:stop] < FALL_SCORE_MIN
        )
    return score, seat_limited


# ------------------------------------------------------------------------------ summary


@dataclass(frozen=True)
class _Summary:
    median_accuracy_m: float
    within_half_m: float
    within_one_m: float
    ambiguous_fraction: float
    fall_capable_fraction: float
    seat_limited_fraction: float


def _rate(
    summary: _Summary, ambiguous_at: FloatArray, floor_m: tuple[float, float]
) -> tuple[Rating, tuple[str, ...]]:
    """good / fair / poor and the reasons in words."""
    reasons: list[str] = []
    level = 2  # 2 good, 1 fair, 0 poor
    located = summary.within_one_m
    if located < 0.5:
        level = 0
        reasons.append(f"a person is placed within 1 m in only {located:.0%} of the floor")
    elif located < 0.8 or summary.within_half_m < 0.5:
        level = min(level, 1)
        reasons.append(
            f"a person is placed within 1 m in {located:.0%} of the floor and within 0.5 m "
            f"in {summary.within_half_m:.0%}"
        )
    if summary.ambiguous_fraction >= 0.05:
        where = _place_words(ambiguous_at.mean(axis=0), floor_m)
        reasons.append(
            f"crossing links make {summary.ambiguous_fraction:.0%} of the floor ambiguous "
            f"({where}): a person there can also appear elsewhere"
        )
        level = min(level, 0 if summary.ambiguous_fraction >= 0.25 else 1)
    fall = summary.fall_capable_fraction
    if fall < 0.25:
        # Without height the layout can still place people; it cannot be "good".
        level = min(level, 1)
        reasons.append(f"falls can be confirmed in only {fall:.0%} of the floor")
    elif fall < 0.8:
        level = min(level, 1)
        reasons.append(f"falls can be confirmed in {fall:.0%} of the floor")
    if not reasons:
        reasons.append(
            f"a person is placed within 1 m in {located:.0%} of the floor and falls can be "
            f"confirmed in {fall:.0%} of it"
        )
    rating: Rating = ("poor", "fair", "good")[level]
    return rating, tuple(reasons)


def _advice(
    summary: _Summary,
    no_falls_at: FloatArray,
    poorly_placed_at: FloatArray,
    ambiguous_at: FloatArray,
    floor_m: tuple[float, float],
    *,
    low_nodes: bool = False,
) -> str:
    """One line of what to change first, in words (``low_nodes``: the layout already has
    nodes below 0.5 m, so what it lacks is more of them where falls go unconfirmed)."""
    parts: list[str] = []
    missed = 1.0 - summary.fall_capable_fraction
    if missed >= 0.2 and summary.seat_limited_fraction >= 0.5 * missed:
        # More nodes at the same two heights do not help here; measured, no mix of heights
        # tried (0.15-2.3 m) confirmed falls in more than about a third of a room either.
        parts.append(
            f"falls are not confirmed in {missed:.0%} of this room, mostly because a person "
            "sitting down there looks to these links like one falling (no other mix of node "
            "heights tried does much better)"
        )
    elif missed >= 0.2 and no_falls_at.size:
        wall = _nearest_wall(no_falls_at.mean(axis=0), floor_m)
        if low_nodes:
            where = "spread round the walls" if wall is None else f"near the {wall} wall"
            change = f"add a pair of nodes, one at 0.15 m and one at 1.9 m, {where}"
        else:
            where = (
                "on every wall, alternating with nodes at about 1.9 m"
                if wall is None
                else f"near the {wall} wall"
            )
            change = f"add a node at skirting height (0.15 m) {where}"
        parts.append(f"falls not confirmed in {missed:.0%} of this room: {change}")
    if summary.ambiguous_fraction >= 0.05 and ambiguous_at.size:
        parts.append(
            "move a node off the symmetric layout to break the crossing "
            f"{_place_words(ambiguous_at.mean(axis=0), floor_m)}"
        )
    if summary.within_one_m < 0.8 and poorly_placed_at.size:
        wall = _nearest_wall(poorly_placed_at.mean(axis=0), floor_m)
        where = "around the walls" if wall is None else f"near the {wall} wall"
        parts.append(f"placing is coarse in {1 - summary.within_one_m:.0%}: add a node {where}")
    if not parts:
        return "this layout covers the room; no change needed"
    return "; ".join(parts)


# West is x = 0 and south y = 0, as the site files name their nodes.
def _nearest_wall(point: FloatArray, floor_m: tuple[float, float]) -> str | None:
    """The wall nearest ``point`` (x, y metres), or None when it is near the middle (the
    cells in question are spread over the room)."""
    width, depth = floor_m
    x, y = float(point[0]), float(point[1])
    offsets = {"west": x / width - 0.5, "east": 0.5 - x / width}
    offsets.update({"south": y / depth - 0.5, "north": 0.5 - y / depth})
    wall = min(offsets, key=lambda name: offsets[name])
    return None if offsets[wall] > -0.15 else wall


def _place_words(point: FloatArray, floor_m: tuple[float, float]) -> str:
    """Where ``point`` is, in words: "at the centre", "near the north-west corner", …"""
    width, depth = floor_m
    fx, fy = float(point[0]) / width, float(point[1]) / depth
    ns = "south" if fy < 1 / 3 else "north" if fy > 2 / 3 else ""
    ew = "west" if fx < 1 / 3 else "east" if fx > 2 / 3 else ""
    if not ns and not ew:
        return f"at the centre, about {point[0]:.1f}, {point[1]:.1f} m"
    side = f"{ns}-{ew}" if ns and ew else ns or ew
    return f"toward the {side}, about {point[0]:.1f}, {point[1]:.1f} m"


# ------------------------------------------------------------------------------ the view


def coverage_view(
    capability: RoomCapability | None, policy: FallPolicy, *, problem: str | None = None
) -> CoverageView:
    """What the console shows of ``capability`` under the room's fall ``policy``: the maps
    and the one health line (``problem``: why there is no capability)."""
    if capability is None:
        reason = problem or "no layout"
        withheld = policy.alerts == "confirmable"
        empty = np.zeros((0, 0))
        return CoverageView(
            rating="unknown",
            reasons=(reason,),
            advice="",
            health=f"The node layout cannot be rated ({reason})"
            + ("; no fall is alerted until it can." if withheld else "."),
            fall_alerts=policy.alerts,
            cell_m=DEFAULT_CELL_M,
            xs=np.zeros(0),
            ys=np.zeros(0),
            accuracy_m=empty,
            fall_capable=empty.astype(bool),
            ambiguous=empty.astype(bool),
            median_accuracy_m=math.inf,
            fall_capable_fraction=0.0,
            ambiguous_fraction=0.0,
            problem=reason,
        )
    fraction = capability.fall_capable_fraction
    return CoverageView(
        rating=capability.rating,
        reasons=capability.reasons,
        advice=capability.advice,
        health=health_line(capability.rating, fraction, capability.advice, policy),
        fall_alerts=policy.alerts,
        cell_m=capability.cell_m,
        xs=capability.xs,
        ys=capability.ys,
        accuracy_m=capability.accuracy_m,
        fall_capable=capability.fall_capable,
        ambiguous=capability.ambiguous,
        median_accuracy_m=capability.median_accuracy_m,
        fall_capable_fraction=fraction,
        ambiguous_fraction=capability.ambiguous_fraction,
    )


def health_line(rating: str, fall_fraction: float, advice: str, policy: FallPolicy) -> str:
    """The room's health in one line: the layout's rating, where falls are alerted under
    ``policy`` and what to change first (``advice``)."""
    head = f"{rating.capitalize()} layout"
    if policy.alerts == "off":
        return f"{head}; fall alerts are off for this room (site file)."
    if policy.alerts == "everywhere":
        return (
            f"{head}; falls are alerted everywhere (site file), though this layout confirms "
            f"them in only {fall_fraction:.0%} of the room."
            if fall_fraction < 0.995
            else f"{head}; falls are alerted everywhere."
        )
    if advice.startswith("this layout covers"):
        change = ""
    elif advice.startswith("falls are not confirmed"):  # a limit, not a change to make
        change = f" {advice[0].upper()}{advice[1:]}."
    else:
        change = f" To improve: {advice}."
    if fall_fraction < 0.005:
        return (
            f"{head}; falls cannot be confirmed anywhere in this room, so none is alerted.{change}"
        )
    if fall_fraction >= 0.995:
        return f"{head}; falls are confirmed and alerted across the room.{change}"
    return (
        f"{head}; falls are confirmed in {fall_fraction:.0%} of this room and alerted only "
        f"there.{change}"
    )


# --------------------------------------------------------------------------- the advisor

# Heights (metres) an advised layout alternates between: skirting height, where a link's
# zones tell a body on the floor from one seated (their mirror images are below the floor),
# and above heads, so that links cross the room at floor level, body height and diagonally.
ADVISED_LOW_M: Final = 0.15
ADVISED_HIGH_M: Final = 1.9
_ADVISOR_INSET_M = 0.1  # wall mounts
_ADVISOR_CELL_M = 0.5  # candidates are compared on a coarse grid, the chosen one rated finely


@dataclass(frozen=True)
class LayoutAdvice:
    """An advised layout: node positions (metres, site axes, in the order a person walks
    the walls from the south-west corner), each with where it is in words, and what that
    layout can see; ``compared`` is how many candidate layouts were rated."""

    positions: tuple[Vec3, ...]
    places: tuple[str, ...]
    capability: RoomCapability
    compared: int


def layout_score(capability: RoomCapability) -> float:
    """How good a layout is, for comparing candidates (higher is better): placed within
    0.5 m and within 1 m, falls confirmable, and ambiguity (ghosts) counted against it
    twice over, because a ghost is a false person where a coarse place is only a blur."""
    return (
        capability.within_half_m
        + 0.5 * capability.within_one_m
        + capability.fall_capable_fraction
        - 2.0 * capability.ambiguous_fraction
    )


def advise_layout(
    room_size_m: Sequence[float], node_count: int, channel: int = DEFAULT_CHANNEL
) -> LayoutAdvice:
    """Where to put ``node_count`` nodes (3–16) in a room of ``room_size_m`` (width, depth,
    height metres): the README's advice, computed. Candidates spread the nodes evenly around
    the walls 0.1 m off them, alternately at skirting height and above heads, from several
    starting points and in both orders of height; each is rated with :func:`room_capability`
    on a coarse grid and the best by :func:`layout_score` is rated again at the default
    cell size. Raises ``ValueError`` naming what is wrong (a room side, a node count)."""
    size = _room_size(room_size_m)
    if isinstance(node_count, bool) or not isinstance(node_count, int) or not 3 <= node_count <= 16:
        raise ValueError(f"the advisor places 3-16 nodes, got {node_count!r}")
    width, depth, height = size
    low = min(ADVISED_LOW_M, height / 4)
    high = max(min(ADVISED_HIGH_M, height - 0.3), low + 0.5)
    if high > height:
        raise ValueError(f"a room {height:g} m high leaves no room for nodes at two heights")
    inner_w, inner_d = width - 2 * _ADVISOR_INSET_M, depth - 2 * _ADVISOR_INSET_M  # >= 0.3 m
    perimeter = 2 * (inner_w + inner_d)
    spacing = perimeter / node_count
    best: tuple[float, tuple[Vec3, ...]] | None = None
    compared = 0
    for start_fraction in (0.0, 0.25, 0.5, 0.75):
        for low_first in (True, False):
            positions = tuple(
                _rounded(
                    point_on_walls(
                        start_fraction * spacing + i * spacing,
                        (width, depth),
                        low if (i % 2 == 0) == low_first else high,
                        _ADVISOR_INSET_M,
                    )
                )
                for i in range(node_count)
            )
            capability = room_capability(
                size,
                {f"n{i}": p for i, p in enumerate(positions)},
                channel,
                cell_m=_ADVISOR_CELL_M,
            )
            compared += 1
            score = layout_score(capability)
            if best is None or score > best[0] + 1e-9:
                best = (score, positions)
    assert best is not None
    positions = tuple(sorted(best[1], key=lambda p: _walk_order(p, width, depth)))
    capability = room_capability(size, {f"n{i}": p for i, p in enumerate(positions)}, channel)
    return LayoutAdvice(
        positions=positions,
        places=tuple(_wall_words(p, width, depth) for p in positions),
        capability=capability,
        compared=compared,
    )


def point_on_walls(
    along_m: float, floor_m: tuple[float, float], z_m: float, inset_m: float
) -> Vec3:
    """The wall mount ``along_m`` metres round the walls of a ``floor_m`` (width, depth)
    room, ``inset_m`` off them, from the south-west corner going east along the south wall
    first (past a full round it starts again), at height ``z_m``."""
    inner_w, inner_d = floor_m[0] - 2 * inset_m, floor_m[1] - 2 * inset_m
    if inner_w <= 0 or inner_d <= 0:
        raise ValueError(f"inset {inset_m} m does not fit the room")
    s = along_m % (2 * (inner_w + inner_d))
    if s < inner_w:
        x, y = s, 0.0
    elif s < inner_w + inner_d:
        x, y = inner_w, s - inner_w
    elif s < 2 * inner_w + inner_d:
        x, y = inner_w - (s - inner_w - inner_d), inner_d
    else:
        x, y = 0.0, inner_d - (s - 2 * inner_w - inner_d)
    return (x + inset_m, y + inset_m, z_m)


def _rounded(point: Vec3) -> Vec3:
    return (round(point[0], 2), round(point[1], 2), round(point[2], 2))


def _walk_order(p: Vec3, width: float, depth: float) -> float:
    x, y = p[0], p[1]
    sides = {"south": y, "east": width - x, "north": depth - y, "west": x}
    wall = min(sides, key=lambda name: sides[name])
    if wall == "south":
        return x
    if wall == "east":
        return width + y
    if wall == "north":
        return width + depth + (width - x)
    return 2 * width + depth + (depth - y)


def _wall_words(p: Vec3, width: float, depth: float) -> str:
    """Where a wall-mounted node is, in words: "south wall, 3.0 m from the west corner,
    0.15 m high (skirting)"."""
    x, y, z = p
    near = {"south": y, "north": depth - y, "west": x, "east": width - x}
    walls = sorted(near, key=lambda name: near[name])
    first, second = walls[0], walls[1]
    height = "skirting" if z < 0.5 else "above heads" if z >= 1.8 else "body height"
    if near[second] <= 0.3:
        corner = "-".join(sorted((first, second), key=("south", "north", "west", "east").index))
        return f"{corner} corner, {z:g} m high ({height})"
    along = x if first in ("south", "north") else y
    origin = "west" if first in ("south", "north") else "south"
    return f"{first} wall, {along:.1f} m from the {origin} end, {z:g} m high ({height})"
