"""The blob tracker: stable ids for the grid's blobs across ticks.

A constant-velocity Kalman filter per track in 3D (x, y, z on the site's axes, metres),
gated association solved by the Hungarian method, and the stitching, hiding and coasting
rules documented on :class:`BlobTracker`. Pure numpy/scipy, no locks: a tracker belongs to
the one thread that runs the sensing ticks (:mod:`engine.sensing.service`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from engine.sensing.grid.fresnel import FloatArray, Vec3, as_vec3


@dataclass(frozen=True)
class TrackState:
    """A tracked blob after an update: a stable ``track_id``, ``position`` (metres) and
    ``velocity`` (m/s) from the Kalman filter, the time it was last detected, whether this
    update had no detection for it (``coasting``), ``detection``: the index, among the
    update's ``positions``, of the detection it took (None when coasting), and
    ``camera_track``: that detection's key when it had one (a camera's place)."""

    track_id: int
    position: Vec3
    velocity: Vec3
    last_detected_s: float
    coasting: bool
    hits: int
    value: float
    detection: int | None = None
    camera_track: Hashable | None = None  # the key of the (sure) detection it took, if any


@dataclass
class _Track:
    track_id: int
    state: FloatArray  # x, y, z, vx, vy, vz
    covariance: FloatArray  # 6 × 6
    last_detected_s: float
    hits: int = 1
    value: float = 0.0
    coasting: bool = False
    born_s: float = 0.0
    detection: int | None = None  # index of this update's detection it took
    sure: bool = False  # that detection is surely one person (a camera's place)
    key: Hashable | None = None  # the key of the last such detection it took
    # (time, filtered position) at its detections within the stitch window
    recent: deque[tuple[float, FloatArray]] = field(default_factory=deque)


def _two_people(a: _Track, b: _Track) -> bool:
    """Whether two tracks are surely two people: both on a camera's places now, or bound to
    two of a camera's tracks (a camera tells two people a metre apart)."""
    if a.sure and b.sure:
        return True
    return a.key is not None and b.key is not None and a.key != b.key


# χ² with 3 degrees of freedom at 99.9 %: a detection farther than this (in standard deviations
# of the predicted position) is not the same person.
_GATE_CHI2_3DOF = 16.27


class BlobTracker:
    """Stable IDs for blobs across ticks: a constant-velocity Kalman filter per track in
    3D, gated association (Mahalanobis distance under the χ² 99.9 % gate and at most
    ``max_distance_m`` from the prediction) solved by the Hungarian method, new tracks from
    unassociated blobs, and coasting: a track with no detection keeps its predicted position
    for up to ``max_coast_s`` seconds before it ends. All time constants are in seconds and
    ``update`` takes the tick time, so behaviour does not depend on the tick rate.

    ``measurement_sigma_m`` is the blob position noise (voxels and zone plateaus make it a few
    decimetres); ``acceleration_sigma`` (m/s²) how fast a walker changes velocity. Not
    thread-safe: one sensing thread owns a tracker. Track ids number from ``first_id`` (so
    that a service can continue the ids it stored before), ``id_step`` apart (rooms of one
    site number their blobs in steps of the room count, each from its own remainder, so no
    two rooms ever give out the same id).

    Against fragmented tracks: a detection no track takes starts a new track only if it lies
    at least ``spawn_separation_m`` from every live track (a person's plateau often yields a
    second peak beside the first, and a tie along a link can make the peak jump; neither is
    a new person), and a track with fewer than ``confirm_hits`` detections (tentative) ends
    after ``tentative_coast_s`` without one instead of ``max_coast_s``. Two tracks closer than
    ``merge_distance_m`` are one person: the one with fewer detections ends, or with
    ``hide_s`` (for a confirmed track) is hidden behind the other for up to that long: two
    people who meet make one blob, and when they part the new track that the second one
    starts within ``reappear_m`` of the first takes the hidden track's id as soon as it is
    confirmed (``stitched`` lists it; ``hidden`` maps the hidden ids to the track they are
    behind). A hidden track not taken up by then, or whose partner ends, ends as merged. With
    ``stitch_distance_m`` a track that just lost its person continues as the track that
    started near it, up to ``stitch_window_s`` after the loss and further away the later it
    started (``stitch_speed_m_s``; see :meth:`_stitch`; ``stitched`` lists them); with
    ``stitch_confirmed_anywhere`` also as a confirmed track anywhere in the room that was
    born at most ``stitch_window_s`` before the loss (one person lost and one found about
    then are one person, not two blobs). With ``coast_velocity_tau_s`` a coasting track's
    velocity decays with that time constant. With ``bounds`` (the room's low and high
    corners) a track, coasting or not, never leaves the room: its position is held at the
    wall and its velocity through the wall set to 0.
    """

    def __init__(
        self,
        *,
        max_coast_s: float = 3.0,
        max_distance_m: float = 2.0,
        measurement_sigma_m: float = 0.3,
        acceleration_sigma: float = 1.5,
        initial_speed_sigma: float = 1.5,
        first_id: int = 1,
        id_step: int = 1,
        stitch_distance_m: float = 0.0,
        stitch_window_s: float = 1.0,
        stitch_speed_m_s: float = 0.0,
        stitch_lead_s: float = 1.0,
        spawn_separation_m: float = 0.0,
        confirm_hits: int = 1,
        tentative_coast_s: float | None = None,
        merge_distance_m: float = 0.0,
        bounds: tuple[Sequence[float], Sequence[float]] | None = None,
        coast_velocity_tau_s: float | None = None,
        hide_s: float = 0.0,
        reappear_m: float = 0.0,
        stitch_confirmed_anywhere: bool = False,
    ) -> None:
        if first_id < 1:
            raise ValueError(f"track ids start at 1 or above, got {first_id}")
        if id_step < 1:
            raise ValueError(f"track ids step by 1 or more, got {id_step}")
        self._id_step = id_step
        self.max_coast_s = max_coast_s
        self.max_distance_m = max_distance_m
        self._r = np.eye(3) * measurement_sigma_m**2
        self._q = acceleration_sigma**2
        self._initial_speed_var = initial_speed_sigma**2
        self._tracks: list[_Track] = []
        self._next_id = first_id
        self.spawn_separation_m = spawn_separation_m
        self.confirm_hits = confirm_hits
        self.tentative_coast_s = max_coast_s if tentative_coast_s is None else tentative_coast_s
        self.merge_distance_m = merge_distance_m
        self.stitch_distance_m = stitch_distance_m
        self.stitch_window_s = stitch_window_s
        self.stitch_speed_m_s = stitch_speed_m_s
        self.stitch_lead_s = stitch_lead_s
        self.stitch_confirmed_anywhere = stitch_confirmed_anywhere
        self.stitched: dict[int, int] = {}
        self.merged: dict[int, int] = {}  # ended this update → the track it was one person with
        self.hide_s = hide_s
        self.reappear_m = reappear_m
        # Confirmed tracks that met another: (track, the id it is behind, since when).
        self._hidden: list[tuple[_Track, int, float]] = []
        self.coast_velocity_tau_s = coast_velocity_tau_s
        self._bounds = (
            None
            if bounds is None
            else (np.asarray(bounds[0], dtype=np.float64), np.asarray(bounds[1], dtype=np.float64))
        )
        self._last_t: float | None = None

    @property
    def tracks(self) -> list[TrackState]:
        """The live tracks after the last update, oldest first."""
        return [self._state_of(track) for track in self._tracks]

    @property
    def hidden(self) -> dict[int, int]:
        """Track ids hidden behind another track (two people as one blob) → that track's id."""
        return {track.track_id: partner for track, partner, _ in self._hidden}

    def predicted_positions(self, t_s: float) -> FloatArray:
        """Where the live tracks are expected at ``t_s`` seconds (k × 3 metres, constant
        velocity from their last estimate), without changing them: pass it to
        :func:`find_blobs` as ``prefer_near`` so ties along a link resolve toward them."""
        if not self._tracks:
            return np.empty((0, 3))
        dt = 0.0 if self._last_t is None else max(t_s - self._last_t, 0.0)
        states = np.array([track.state for track in self._tracks])
        predicted: FloatArray = states[:, 0:3] + states[:, 3:6] * dt
        return predicted

    def update(
        self,
        positions: npt.ArrayLike,
        t_s: float,
        values: npt.ArrayLike | None = None,
        keys: Sequence[Hashable | None] | None = None,
    ) -> list[TrackState]:
        """Advance to time ``t_s`` (seconds, non-decreasing) with this tick's blob
        ``positions`` (k × 3 metres, k may be 0) and optional blob ``values``; returns the live
        tracks. Tracks not detected for more than ``max_coast_s`` are ended.

        ``keys`` gives the detections that are surely one person each (a camera's places) a
        key (the camera's track; None for the others): a track that took a key's detection
        takes that key's detection again first, within ``max_distance_m`` (another track
        near it does not take it over); two tracks on two such detections are two people
        however close (they do not merge); and one no track takes starts a track however
        near it is to tracks on others of them."""
        detections = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
        keyed = [None] * len(detections) if keys is None else list(keys)
        if len(keyed) != len(detections):
            raise ValueError("one key (or None) per detection")
        certain = [key is not None for key in keyed]
        blob_values = (
            np.zeros(len(detections))
            if values is None
            else np.asarray(values, dtype=np.float64).ravel()
        )
        if blob_values.shape[0] != detections.shape[0]:
            raise ValueError("one value per detection")
        if self._last_t is not None and t_s < self._last_t:
            raise ValueError(f"time went backwards: {t_s} < {self._last_t}")
        dt = 0.0 if self._last_t is None else t_s - self._last_t
        self._last_t = t_s
        tau = self.coast_velocity_tau_s
        for track in self._tracks:
            if tau is not None and track.coasting and dt > 0.0:
                # A person not found is more likely to have stopped or turned than to walk
                # on in a straight line: the prediction slows down rather than run off.
                track.state[3:6] *= math.exp(-dt / tau)
            self._predict(track, dt)
            track.coasting = True
            track.detection = None
            track.sure = False
        assigned = self._associate(detections, keyed)
        for track_index, detection_index in assigned:
            track = self._tracks[track_index]
            self._correct(track, detections[detection_index])
            track.last_detected_s = t_s
            track.hits += 1
            track.value = float(blob_values[detection_index])
            track.coasting = False
            track.detection = int(detection_index)
            track.sure = certain[detection_index]
            if track.sure:
                track.key = keyed[detection_index]
            track.recent.append((t_s, track.state[0:3].copy()))
            while track.recent and track.recent[0][0] < t_s - 2.0 * self.stitch_window_s:
                track.recent.popleft()
        self.stitched = {}
        self.merged = {}
        if self.stitch_distance_m > 0.0:
            self._stitch(t_s)
        if self._hidden:
            self._reappear()
        # A hair of slack so a gap of exactly max_coast_s, summed from float ticks, still coasts.
        self._tracks = [
            t
            for t in self._tracks
            if t_s - t.last_detected_s
            <= (self.max_coast_s if t.hits >= self.confirm_hits else self.tentative_coast_s) + 1e-9
        ]
        if self.merge_distance_m > 0.0:
            self._merge(t_s)
        if self._hidden:
            self._end_hidden(t_s)
        used = {d for _, d in assigned}
        for index in range(detections.shape[0]):
            if index in used:
                continue
            if self.spawn_separation_m > 0.0 and any(
                np.linalg.norm(t.state[0:3] - detections[index]) < self.spawn_separation_m
                for t in self._tracks
                if not (certain[index] and t.sure)
            ):
                continue
            self._start_track(detections[index], t_s, float(blob_values[index]), index)
            self._tracks[-1].sure = certain[index]
            self._tracks[-1].key = keyed[index]
        return self.tracks

    def relocate(self, track_id: int, position: npt.ArrayLike) -> None:
        """Move track ``track_id`` to ``position`` (metres), forgetting its velocity: for a
        track that followed a tie to the wrong place when the evidence says where its person
        really is. Its id and detections count are kept. ``KeyError`` if there is no such
        track."""
        track = next((t for t in self._tracks if t.track_id == track_id), None)
        if track is None:
            raise KeyError(track_id)
        track.state = np.concatenate(
            [np.asarray(position, dtype=np.float64).reshape(3), np.zeros(3)]
        )
        track.covariance = np.zeros((6, 6))
        track.covariance[0:3, 0:3] = self._r
        track.covariance[3:6, 3:6] = np.eye(3) * self._initial_speed_var

    def _stitch(self, t_s: float) -> None:
        """Continue a track that lost its person with the track that started near where it
        was last detected: the same person, found again after the old track stayed on a place
        that explained their links only until they walked on. The old track (confirmed, lost
        within ``stitch_window_s``) takes the young one's state when the young one was born
        after the old one, at most ``stitch_lead_s`` before the loss, is detected now and is
        within ``stitch_distance_m`` of where the old track was at one of its detections in
        the last 2 × ``stitch_window_s`` (a track on a tie drifts away from its person before
        it loses them), plus ``stitch_speed_m_s`` for every second between the loss and the
        young one's birth (the person walked on meanwhile). With
        ``stitch_confirmed_anywhere`` a young track that is confirmed (``confirm_hits``
        detections) and was born at most ``stitch_window_s`` before the loss is taken at any
        distance: a track that followed a tie or a ghost place can be metres from its person
        when it loses them, and the person's new track is then shown beside it, one person
        as two blobs, until the lost one has coasted out. The young one ends, and
        ``stitched`` maps its id to the old id. Nearest pairs first, one to one."""
        lost = [
            t
            for t in self._tracks
            if t.coasting
            and t.hits >= self.confirm_hits
            and t.recent
            and t_s - t.last_detected_s <= self.stitch_window_s
        ]
        if not lost:
            return
        pairs: list[tuple[float, _Track, _Track]] = []
        for old in lost:
            for young in self._tracks:
                if young.coasting or young is old or young.born_s <= old.born_s:
                    continue
                distance = min(
                    float(np.linalg.norm(young.state[0:3] - where)) for _, where in old.recent
                )
                walked = self.stitch_speed_m_s * max(young.born_s - old.last_detected_s, 0.0)
                near = (
                    young.born_s >= old.last_detected_s - self.stitch_lead_s
                    and distance <= self.stitch_distance_m + walked
                )
                # One person lost and one found about then, anywhere: the same person.
                found = (
                    self.stitch_confirmed_anywhere
                    and young.hits >= self.confirm_hits
                    and young.born_s >= old.last_detected_s - self.stitch_window_s
                )
                if near or found:
                    pairs.append((distance, old, young))
        taken: set[int] = set()
        for _, old, young in sorted(pairs, key=lambda p: p[0]):
            if id(old) in taken or id(young) in taken:
                continue
            taken.update((id(old), id(young)))
            self._continue_as(old, young)
        if self.stitched:
            ended = set(self.stitched)
            self._tracks = [t for t in self._tracks if t.track_id not in ended]

    def _continue_as(self, old: _Track, young: _Track) -> None:
        """``old`` takes ``young``'s state and detections and goes on; ``young`` ends as it
        (``stitched``). The caller takes ``young`` out of the live tracks."""
        old.state = young.state.copy()
        old.covariance = young.covariance.copy()
        old.last_detected_s = young.last_detected_s
        old.recent = young.recent
        old.value = young.value
        old.coasting = False
        old.detection = young.detection
        old.hits += young.hits
        old.sure, old.key = young.sure, young.key if young.key is not None else old.key
        self.stitched[young.track_id] = old.track_id

    def _merge(self, t_s: float) -> None:
        """End the younger of any two tracks closer than ``merge_distance_m`` (the one with
        fewer detections), or hide it behind the other (``hide_s``, a confirmed track);
        ``merged`` maps an ended one's id to the id of the track it was one person with."""
        ordered = sorted(self._tracks, key=lambda t: (-t.hits, t.track_id))
        kept: list[_Track] = []
        for track in ordered:
            beside = next(
                (
                    other
                    for other in kept
                    if np.linalg.norm(track.state[0:3] - other.state[0:3]) < self.merge_distance_m
                    and not _two_people(track, other)
                ),
                None,
            )
            if beside is None:
                kept.append(track)
            elif self.hide_s > 0.0 and track.hits >= self.confirm_hits:
                self._hidden.append((track, beside.track_id, t_s))
            else:
                self.merged[track.track_id] = beside.track_id
        if len(kept) != len(self._tracks):
            survivors = {id(t) for t in kept}
            self._tracks = [t for t in self._tracks if id(t) in survivors]

    def _reappear(self) -> None:
        """A young track confirmed this update within ``reappear_m`` of the track a hidden
        one is behind is the hidden one's person, parted again: the hidden track takes its
        state and goes on, the young one ends (``stitched``). Nearest pairs first."""
        live = {t.track_id: t for t in self._tracks}
        pairs: list[tuple[float, int, _Track]] = []
        for young in self._tracks:
            if young.coasting or young.hits != self.confirm_hits:
                continue
            for index, (_, partner, _since) in enumerate(self._hidden):
                beside = live.get(partner)
                if beside is None or beside is young:
                    continue
                distance = float(np.linalg.norm(young.state[0:3] - beside.state[0:3]))
                if distance <= self.reappear_m:
                    pairs.append((distance, index, young))
        taken: set[int] = set()
        revived: set[int] = set()
        for _, index, young in sorted(pairs, key=lambda p: p[0]):
            if index in revived or id(young) in taken:
                continue
            revived.add(index)
            taken.add(id(young))
            old = self._hidden[index][0]
            self._continue_as(old, young)
            self._tracks[self._tracks.index(young)] = old
        if revived:
            self._hidden = [h for i, h in enumerate(self._hidden) if i not in revived]

    def _end_hidden(self, t_s: float) -> None:
        """Hidden tracks whose partner ended, or hidden longer than ``hide_s``, end as merged."""
        live = {t.track_id for t in self._tracks}
        keep: list[tuple[_Track, int, float]] = []
        for track, partner, since in self._hidden:
            if partner in live and t_s - since <= self.hide_s + 1e-9:
                keep.append((track, partner, since))
            else:
                self.merged[track.track_id] = partner
        self._hidden = keep

    def _keep_inside(self, track: _Track) -> None:
        if self._bounds is None:
            return
        low, high = self._bounds
        position = track.state[0:3]
        below, above = position < low, position > high
        if below.any() or above.any():
            track.state[0:3] = np.clip(position, low, high)
            velocity = track.state[3:6]
            velocity[(below & (velocity < 0)) | (above & (velocity > 0))] = 0.0

    def _predict(self, track: _Track, dt: float) -> None:
        if dt <= 0.0:
            return
        f = np.eye(6)
        f[0:3, 3:6] = np.eye(3) * dt
        # Continuous white-noise acceleration, per axis: [[dt³/3, dt²/2], [dt²/2, dt]]·q.
        q = np.zeros((6, 6))
        q[0:3, 0:3] = np.eye(3) * dt**3 / 3.0
        q[0:3, 3:6] = q[3:6, 0:3] = np.eye(3) * dt**2 / 2.0
        q[3:6, 3:6] = np.eye(3) * dt
        track.state = f @ track.state
        track.covariance = f @ track.covariance @ f.T + q * self._q
        self._keep_inside(track)

    def _correct(self, track: _Track, measurement: FloatArray) -> None:
        p = track.covariance
        s = p[0:3, 0:3] + self._r
        gain = p[:, 0:3] @ np.linalg.inv(s)
        track.state = track.state + gain @ (measurement - track.state[0:3])
        identity_minus_kh = np.eye(6)
        identity_minus_kh[:, 0:3] -= gain
        # Joseph form keeps the covariance symmetric and positive definite.
        track.covariance = identity_minus_kh @ p @ identity_minus_kh.T + gain @ self._r @ gain.T
        self._keep_inside(track)

    def _associate(
        self, detections: FloatArray, keys: Sequence[Hashable | None]
    ) -> list[tuple[int, int]]:
        if not self._tracks or detections.shape[0] == 0:
            return []
        # A track takes its key's detection first (see update).
        bound: list[tuple[int, int]] = []
        where = {key: index for index, key in enumerate(keys) if key is not None}
        for i, track in enumerate(self._tracks):
            index = where.get(track.key) if track.key is not None else None
            if (
                index is not None
                and float(np.linalg.norm(detections[index] - track.state[0:3]))
                <= self.max_distance_m
            ):
                bound.append((i, index))
                del where[track.key]
        cost = np.full((len(self._tracks), detections.shape[0]), np.inf)
        taken_tracks = {i for i, _ in bound}
        taken_detections = {d for _, d in bound}
        for i, track in enumerate(self._tracks):
            if i in taken_tracks:
                continue
            innovation = detections - track.state[0:3]
            s_inv = np.linalg.inv(track.covariance[0:3, 0:3] + self._r)
            mahalanobis_sq = np.einsum("ki,ij,kj->k", innovation, s_inv, innovation)
            distance = np.linalg.norm(innovation, axis=1)
            gated = (mahalanobis_sq <= _GATE_CHI2_3DOF) & (distance <= self.max_distance_m)
            cost[i, gated] = mahalanobis_sq[gated]
        cost[:, sorted(taken_detections)] = np.inf
        if not np.isfinite(cost).any():
            return bound
        finite_cost = np.where(np.isfinite(cost), cost, 1e9)
        rows, cols = linear_sum_assignment(finite_cost)
        return bound + [
            (int(r), int(c)) for r, c in zip(rows, cols, strict=True) if np.isfinite(cost[r, c])
        ]

    def _start_track(
        self, position: FloatArray, t_s: float, value: float, detection: int | None = None
    ) -> None:
        covariance = np.zeros((6, 6))
        covariance[0:3, 0:3] = self._r
        covariance[3:6, 3:6] = np.eye(3) * self._initial_speed_var
        state = np.concatenate([position, np.zeros(3)])
        self._tracks.append(
            _Track(
                self._next_id,
                state,
                covariance,
                t_s,
                value=value,
                born_s=t_s,
                recent=deque([(t_s, position.copy())]),
                detection=detection,
            )
        )
        self._next_id += self._id_step

    @staticmethod
    def _state_of(track: _Track) -> TrackState:
        return TrackState(
            track_id=track.track_id,
            position=as_vec3(track.state[0:3]),
            velocity=as_vec3(track.state[3:6]),
            last_detected_s=track.last_detected_s,
            coasting=track.coasting,
            hits=track.hits,
            value=track.value,
            detection=track.detection,
            camera_track=track.key if track.sure else None,
        )
