"""BLE identities: where a registered phone or tag is, from the RSSI the nodes hear, and which
blob carries it. Pure computation (no radio, no store); the sensing service feeds it.

Distance from RSSI by log-distance path loss, −65 dBm at 1 m and exponent 2.5::

    d = 10^((−65 − RSSI) / 25)          −65 → 1.0 m, −75 → 2.512 m, −55 → 0.398 m, −85 → 6.31 m

RSSI scatters by several dB (body shadowing, multipath, antenna orientation), so a distance is
uncertain in proportion to itself: with σ dB of RSSI noise, σ_d ≈ d · ln(10)/(10·n) · σ
(≈ 0.37·d at 4 dB). Trilateration weights each node by 1/σ_d², so near nodes count most.

Position: nodes hang at known heights and a carried device is near a body's centre
(:data:`DEVICE_HEIGHT_M`), so each distance becomes a horizontal one,
h = √(max(d² − Δz², 0)), and the floor position minimises Σ w_i (|p − n_i| − h_i)² (weighted
least squares from the weighted centroid of the nodes). Confidence combines how many nodes
heard the device (one node gives only a ring, two a mirror pair) and how well the distances
agree (the weighted RMS residual in units of σ).

Matching a device to a blob (:func:`blob_match_score`): every recent reading is compared with
what the path-loss model expects at the blob's position when the reading was taken, so a
walking person's blob is matched along its path rather than to one averaged position;
``score = freshness × coverage × agreement`` (node count, residual). A blob takes a device's
name when the best one-to-one assignment (Hungarian) gives it a score ≥ :data:`NAME_SCORE`
(0.6); it keeps the name while
its track lives and the score stays above :data:`KEEP_SCORE`, unless another device matches it
clearly better.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, linear_sum_assignment

from engine.sensing.nodes.protocol import normalise_mac

REFERENCE_RSSI_DBM = -65.0  # at 1 m
PATH_LOSS_EXPONENT = 2.5
RSSI_SIGMA_DB = 4.0
DEVICE_HEIGHT_M = 1.0  # a phone in a pocket or hand, a tag on a lanyard
MAX_AGE_S = 10.0  # readings older than this are not used
READINGS_KEPT = 5  # per node and device: their median damps single outliers
NAME_SCORE = 0.6
KEEP_SCORE = 0.3
BLOB_POSITION_SIGMA_M = 0.5  # how far a blob typically is from the person (sensing tracker)
BETTER_BY = 0.15  # another device takes a named blob only when it scores this much more

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]


def rssi_distance_m(
    rssi_dbm: float,
    reference_dbm: float = REFERENCE_RSSI_DBM,
    exponent: float = PATH_LOSS_EXPONENT,
) -> float:
    """Distance in metres for ``rssi_dbm`` by log-distance path loss."""
    if not math.isfinite(rssi_dbm):
        raise ValueError(f"RSSI must be finite, got {rssi_dbm!r}")
    return float(10.0 ** ((reference_dbm - rssi_dbm) / (10.0 * exponent)))


def distance_sigma_m(distance_m: float, sigma_db: float = RSSI_SIGMA_DB) -> float:
    """The standard deviation of a path-loss distance for ``sigma_db`` of RSSI noise."""
    return distance_m * math.log(10.0) / (10.0 * PATH_LOSS_EXPONENT) * sigma_db


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """A registered device as the sensing service names blobs by it: its address, label,
    the name a blob carrying it takes, the person's id (None for a simulated walker's tag,
    who is nobody in the face memory) and their colour (``#RRGGBB``)."""

    address: str
    label: str
    name: str
    person_id: str | None
    colour: str


@dataclass(frozen=True, slots=True)
class Reading:
    """One node's current view of a device: its position and the (median) RSSI."""

    node_position: Vec3
    rssi_dbm: float


@dataclass(frozen=True, slots=True)
class DeviceEstimate:
    """Where device ``address`` is on the floor, how sure (0–1), from how many nodes, the
    weighted RMS residual (in σ), and the age in seconds of its newest reading."""

    address: str
    position: Vec2
    confidence: float
    nodes: int
    residual_sigma: float
    age_s: float


def locate(
    readings: Sequence[Reading], device_height_m: float = DEVICE_HEIGHT_M
) -> tuple[Vec2, float, float]:
    """Weighted trilateration of one device: (floor position, confidence, residual in σ).
    Three nodes at (0,0,1.5), (4,0,1.5), (2,3.46,1.5) all hearing −73 dBm put it at
    (2.0, 1.15), their centre. Raises ``ValueError`` without readings."""
    if not readings:
        raise ValueError("no readings to locate a device from")
    nodes = np.array([r.node_position for r in readings], dtype=np.float64)
    distances = np.array([rssi_distance_m(r.rssi_dbm) for r in readings])
    sigmas = np.array([distance_sigma_m(d) for d in distances])
    dz = nodes[:, 2] - device_height_m
    horizontal = np.sqrt(np.maximum(distances**2 - dz**2, 0.0))
    weights = 1.0 / sigmas**2
    start = (weights / distances) @ nodes[:, :2] / (weights / distances).sum()
    if len(readings) == 1:
        return (float(start[0]), float(start[1])), _confidence(1, 0.0), 0.0

    def residuals(p: np.ndarray) -> np.ndarray:
        ranges = np.linalg.norm(nodes[:, :2] - p, axis=1)
        result: np.ndarray = (ranges - horizontal) / sigmas
        return result

    # Levenberg-Marquardt: two or more residuals for the two unknowns (x, y).
    solution = least_squares(residuals, start, method="lm")
    rms = float(np.sqrt(np.mean(solution.fun**2)))
    position = (float(solution.x[0]), float(solution.x[1]))
    return position, _confidence(len(readings), rms), rms


def _coverage(nodes: int) -> float:
    """How much ``nodes`` hearing a device can place it: one gives a ring, two a mirror pair,
    three or more a point."""
    return {1: 0.2, 2: 0.55}.get(nodes, 1.0)


def _confidence(nodes: int, residual_sigma: float) -> float:
    """From how many nodes (:func:`_coverage`) and how well their distances agree (a residual
    of 1 σ is what RSSI noise alone gives)."""
    agreement = math.exp(-(max(residual_sigma - 1.0, 0.0) ** 2) / 2.0)
    return _coverage(nodes) * agreement


class BleSightings:
    """The latest RSSI readings per (device, node), from node ``ble`` reports and the host's
    own adapter, kept for :data:`MAX_AGE_S`. Not thread-safe: one owner (the fusion thread)."""

    def __init__(self, max_age_s: float = MAX_AGE_S) -> None:
        self.max_age_s = max_age_s
        self._readings: dict[str, dict[str, deque[tuple[float, float]]]] = {}

    def add(self, node: str, address: str, rssi_dbm: float, t_s: float) -> None:
        """Node ``node`` heard ``address`` at ``rssi_dbm`` at engine time ``t_s``."""
        if not math.isfinite(rssi_dbm):
            return
        device = normalise_mac(address, "BLE address")
        kept = self._readings.setdefault(device, {}).setdefault(node, deque(maxlen=READINGS_KEPT))
        kept.append((t_s, float(rssi_dbm)))

    def readings(
        self, node_positions: Mapping[str, Sequence[float]], now_s: float
    ) -> dict[str, list[tuple[Sequence[float], float, float]]]:
        """Every device's readings within :attr:`max_age_s` from placed nodes: address →
        [(node position, time, RSSI)] (what :func:`blob_match_score` takes)."""
        found: dict[str, list[tuple[Sequence[float], float, float]]] = {}
        for device, by_node in self._readings.items():
            kept = [
                (node_positions[node], t, rssi)
                for node, values in by_node.items()
                if node in node_positions
                for t, rssi in values
                if now_s - t <= self.max_age_s
            ]
            if kept:
                found[device] = kept
        return found

    def estimates(
        self, node_positions: Mapping[str, Sequence[float]], now_s: float
    ) -> list[DeviceEstimate]:
        """Where each device heard within :attr:`max_age_s` is, from the nodes with a known
        position (readings of unplaced nodes are ignored)."""
        found: list[DeviceEstimate] = []
        for device, by_node in list(self._readings.items()):
            readings: list[Reading] = []
            newest = -math.inf
            for node, kept in by_node.items():
                fresh = [rssi for t, rssi in kept if now_s - t <= self.max_age_s]
                position = node_positions.get(node)
                if not fresh or position is None:
                    continue
                newest = max(newest, max(t for t, _ in kept))
                x, y, z = (float(c) for c in position)
                readings.append(Reading((x, y, z), float(np.median(fresh))))
            if not readings:
                if all(now_s - kept[-1][0] > self.max_age_s for kept in by_node.values()):
                    del self._readings[device]  # forgotten once every reading is stale
                continue
            position, confidence, residual = locate(readings)
            found.append(
                DeviceEstimate(
                    device, position, confidence, len(readings), residual, now_s - newest
                )
            )
        return found


def blob_match_score(
    readings: Iterable[tuple[Sequence[float], float, float]],
    blob_path: Sequence[tuple[float, Sequence[float]]],
    now_s: float,
    position_sigma_m: float = BLOB_POSITION_SIGMA_M,
) -> float:
    """How well a device's recent RSSI readings say it is carried by a blob (0–1).

    ``readings``: (node position, reading time, RSSI dBm) of the device within
    :data:`MAX_AGE_S`; ``blob_path``: the blob's (time, position) history, oldest first. Each
    reading is compared with the RSSI the path-loss model expects at the blob's position at
    that reading's time (a device carried at :data:`DEVICE_HEIGHT_M`): residual
    r = (RSSI − expected) / σ, where σ² is the RSSI noise plus what the blob's own position
    error (``position_sigma_m``) does to the expected RSSI: near a node RSSI changes by
    10·n/ln(10)/d ≈ 11/d dB per metre, so a blob 0.5 m off a person 0.7 m from a node is
    8 dB off there. The score is ``freshness × coverage × agreement``: freshness
    falls linearly to 0 at :data:`MAX_AGE_S` since the newest reading; coverage is 0.2 for one
    node, 0.55 for two, 1 for three or more (one node gives only a ring, two a mirror pair);
    agreement exp(−max(mean r² − 1, 0) / 2) is 1 when the readings scatter about the blob by no
    more than RSSI noise does, and falls as the blob's distances to the nodes disagree with
    what they heard (a blob 2 m off is about 2 σ per reading away)."""
    path = list(blob_path)
    if not path:
        return 0.0
    times = np.array([t for t, _ in path], dtype=np.float64)
    squares: list[float] = []
    nodes: set[tuple[float, float, float]] = set()
    newest = -math.inf
    for node_position, t_s, rssi in readings:
        age = now_s - t_s
        if age > MAX_AGE_S or not math.isfinite(rssi):
            continue
        newest = max(newest, t_s)
        at = int(np.clip(np.searchsorted(times, t_s), 0, len(path) - 1))
        blob = path[at][1]
        nx, ny, nz = (float(c) for c in node_position)
        distance = math.sqrt(
            (nx - float(blob[0])) ** 2 + (ny - float(blob[1])) ** 2 + (nz - DEVICE_HEIGHT_M) ** 2
        )
        expected = REFERENCE_RSSI_DBM - 10.0 * PATH_LOSS_EXPONENT * math.log10(max(distance, 0.3))
        slope_db_per_m = 10.0 * PATH_LOSS_EXPONENT / math.log(10.0) / max(distance, 0.3)
        variance = RSSI_SIGMA_DB**2 + (slope_db_per_m * position_sigma_m) ** 2
        squares.append((rssi - expected) ** 2 / variance)
        nodes.add((nx, ny, nz))
    if not squares:
        return 0.0
    freshness = max(0.0, 1.0 - (now_s - newest) / MAX_AGE_S)
    coverage = _coverage(len(nodes))
    agreement = math.exp(-max(float(np.mean(squares)) - 1.0, 0.0) / 2.0)
    return freshness * coverage * agreement


@dataclass(frozen=True, slots=True)
class PathMisfit:
    """How far a device's readings are from what a person's way predicts
    (:func:`path_misfit`): ``excess`` Σ(r² − 1) over the ``readings`` compared (about 0 for
    the person carrying it, growing with every reading for anyone else) and their mean r²."""

    excess: float
    readings: int
    mean_square: float


def path_misfit(
    readings: Iterable[tuple[Sequence[float], float, float]],
    path: Sequence[tuple[float, float, float]],
    since_s: float,
    position_sigma_m: float,
) -> PathMisfit:
    """Each of a device's readings (node position, time, RSSI dBm) since ``since_s`` that
    falls within ``path`` ((time, x, y) in the room's metres, oldest first, 0.3 s slack
    before and 0.5 s after) is compared with the RSSI the path-loss model expects where the
    path was at that time: r = (RSSI − expected) / σ, σ² the RSSI noise plus what
    ``position_sigma_m`` of placement error does there (as :func:`blob_match_score`). Every
    reading counts: over ten seconds eight nodes give about sixteen, and the sum tells two
    people a metre or two apart where one reading's residual cannot."""
    if not path:
        return PathMisfit(0.0, 0, 0.0)
    times = np.fromiter((t for t, _, _ in path), dtype=np.float64, count=len(path))
    excess = 0.0
    squares = 0.0
    count = 0
    for node_position, t_s, rssi in readings:
        if t_s < since_s or not math.isfinite(rssi):
            continue
        if t_s < times[0] - 0.3 or t_s > times[-1] + 0.5:
            continue
        at = min(int(np.searchsorted(times, t_s)), len(path) - 1)
        _, x, y = path[at]
        nx, ny, nz = (float(c) for c in node_position)
        distance = max(math.sqrt((nx - x) ** 2 + (ny - y) ** 2 + (nz - DEVICE_HEIGHT_M) ** 2), 0.3)
        expected = REFERENCE_RSSI_DBM - 10.0 * PATH_LOSS_EXPONENT * math.log10(distance)
        slope_db_per_m = 10.0 * PATH_LOSS_EXPONENT / math.log(10.0) / distance
        variance = RSSI_SIGMA_DB**2 + (slope_db_per_m * position_sigma_m) ** 2
        square = (rssi - expected) ** 2 / variance
        excess += square - 1.0
        squares += square
        count += 1
    return PathMisfit(excess, count, squares / count if count else 0.0)


def assign_identities(
    scores: Mapping[str, Mapping[int, float]],
    current: Mapping[int, str],
) -> dict[int, tuple[str, float]]:
    """Which device each blob carries: {blob id: (device address, score)}.

    ``scores``: device address → blob id → match score (:func:`blob_match_score`). The best
    one-to-one assignment of devices to blobs (Hungarian, on the scores). A blob that has a
    device (``current``: blob id → address) keeps it while that pairing scores at least
    :data:`KEEP_SCORE` and no other device beats it by :data:`BETTER_BY`; otherwise it takes
    the assigned device if that scores at least :data:`NAME_SCORE`. A device names at most one
    blob."""
    devices = list(scores)
    blob_ids = sorted({b for by_blob in scores.values() for b in by_blob})
    if not devices or not blob_ids:
        return {}
    matrix = np.array([[scores[d].get(b, 0.0) for b in blob_ids] for d in devices])
    rows, cols = linear_sum_assignment(-matrix)
    assigned = {
        blob_ids[c]: (devices[r], float(matrix[r, c])) for r, c in zip(rows, cols, strict=True)
    }
    index = {d: i for i, d in enumerate(devices)}
    result: dict[int, tuple[str, float]] = {}
    used: set[str] = set()
    # Keep names first, so a named blob is not robbed by a marginally better assignment.
    for column, blob in enumerate(blob_ids):
        held = current.get(blob)
        if held is None or held not in index:
            continue
        kept = float(matrix[index[held], column])
        best_other = max(
            (float(matrix[i, column]) for i, d in enumerate(devices) if d != held),
            default=0.0,
        )
        if kept >= KEEP_SCORE and best_other < kept + BETTER_BY:
            result[blob] = (held, kept)
            used.add(held)
    for blob, (address, score) in assigned.items():
        if blob in result or address in used or score < NAME_SCORE:
            continue
        result[blob] = (address, score)
        used.add(address)
    return result
