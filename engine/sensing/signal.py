"""The per-link CSI signal chain: from parsed frames to one motion activation per link.

A *stream* is one direction of a link (frames a node reports about one peer); a *link* is the
unordered pair of the two MACs (:data:`LinkKey`, sorted), because its geometry is the pair of
node positions and which MAC transmits is not assumed. Each stream keeps its own amplitude
baseline and subcarrier statistics (the two radios' front ends are not reciprocal: their gain
ripple across subcarriers differs, so one baseline for both directions would read the
difference as motion); the link's smoothed deltaRMS is the mean over its live directions.

Per frame, in order (all time constants in seconds of *arrival* time ``t_s``, since node clocks
are not synchronised; every exponential step uses α = 1 − exp(−dt/τ) with dt the time since the
stream's previous usable frame, so behaviour does not change with the frame rate; frames of
one direction that arrive in a burst share the time since the previous one, so a burst weighs
about as much as one frame):

1. Amplitude |I + jQ| of the data subcarriers (:func:`subcarrier_layout`), scaled by
   10^((−30 − RSSI)/20), i.e. to what it would be received at −30 dBm (spaxel's reference);
   RSSI None (sent as 0) means "do not normalise" and the amplitude is used as it is.
2. Subcarrier selection: an exponentially weighted mean and variance per subcarrier over a
   rolling window (``selection_tau_s``, 5 s: spaxel's 100 frames at 20 Hz), and the
   ``selected_subcarriers`` (16) with the highest variance/mean² (the most motion-sensitive
   ones) are used. A subcarrier whose mean is ~0 is never selected (no division by zero).
3. deltaRMS = RMS over the selected subcarriers of (amplitude − baseline), divided by the RMS of
   the baseline over all data subcarriers: a *relative* amplitude change (0.02 = 2 %), so the
   threshold means the same whatever the RSSI scaling or the radio's gain. (spaxel compares the
   absolute deviation with 0.02, far below the noise of RSSI-scaled amplitudes, which run to
   tens or hundreds.) Noise alone gives deltaRMS ≈ σ_amplitude / mean amplitude; int8
   quantisation alone is σ ≈ 0.3 LSB, so a link needs a mean amplitude of a few tens of LSB
   for the default threshold to sit clear of its noise.
4. Smoothed deltaRMS: exponential smoothing with ``smooth_tau_s`` (0.5 s), per direction; the
   link's value is the mean over its directions that are warmed up and fresh. Motion when the
   link's value exceeds ``threshold`` (0.02).
5. Baseline: an exponential moving average with ``baseline_tau_s`` (30 s), updated only while
   the link shows no motion (frozen while it does). α = max(1 − exp(−dt/τ), 1/n) after n
   frames, so the first frames are averaged plainly instead of the baseline starting from one
   noisy frame. During the first ``warmup_s`` (2 s) of a direction its baseline always adapts,
   with τ = warmup_s / 6, its smoothed value just follows deltaRMS, and the direction does not
   count toward its link's value: frames from a radio still settling (AGC) are forgotten
   before the baseline can freeze, so a link does not lock itself into motion at start-up.

The phase is unwrapped across the data subcarriers and its linear trend removed
(:func:`detrended_phase`); it does not drive motion (amplitude does), but the residual of the
newest frame of each direction is kept for display (:meth:`SignalChain.residual_phase`) and its
RMS is in :class:`LinkState`.

Frames that carry nothing are never an error and never motion:

- n_sub 0: counted (``empty_frames``), no state update.
- all-zero I/Q on every data subcarrier (many real frames): counted (``zero_frames``) and
  ignored: no baseline, statistics or smoothing update, and the stream's clock does not
  advance, so the next real frame is weighted by the whole gap.
- subcarrier counts other than 64: see :func:`subcarrier_layout`; fewer than 8 subcarriers is
  counted (``skipped_frames``) and ignored. A stream whose subcarrier count changes starts its
  statistics and baseline again (counted in ``SignalChain.counts['layout_resets']``).

Cost: :meth:`SignalChain.push` only files the frame (a dict lookup and a few list appends);
:meth:`SignalChain.tick` processes everything filed since the last tick with numpy, vectorised
across streams: frames are ordered per stream and applied in rounds (round r holds the r-th
frame of every stream), so a tick at the tick rate (10 Hz) costs a few rounds whatever the
number of links. Do not tick per frame. ``python -m benchmarks.sensing_signal`` measures it.

Not thread-safe: one owner. If frames arrive on one thread and the sensing ticks on another,
hand frames over through a queue to the thread that owns the chain.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.sensing.nodes.protocol import CsiFrame

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

LinkKey = tuple[str, str]
"""An undirected link: the two node MACs, sorted (usable as a grid activation pair)."""

REFERENCE_RSSI_DBM: Final = -30.0  # amplitudes are scaled to this received level (spaxel)

# 802.11 HT20 as an ESP32 reports 64 subcarriers: index i is subcarrier number i for i < 32 and
# i − 64 above (0…31, then −32…−1). Issue 9 / spaxel's map of what carries data:
HT20_SUBCARRIERS: Final = 64
NULL_SUBCARRIERS: Final = frozenset({0, 1, 63})
GUARD_SUBCARRIERS: Final = frozenset(range(27, 38))
PILOT_SUBCARRIERS: Final = frozenset({7, 21, 43, 57})
DATA_SUBCARRIERS_HT20: Final = tuple(
    i
    for i in range(HT20_SUBCARRIERS)
    if i not in NULL_SUBCARRIERS | GUARD_SUBCARRIERS | PILOT_SUBCARRIERS
)  # 46 subcarriers
MIN_SUBCARRIERS: Final = 8  # fewer than this in an unknown layout: nothing to select from

DEFAULT_THRESHOLD: Final = 0.02  # smoothed relative deltaRMS (issue 9, spaxel)
DEFAULT_BASELINE_TAU_S: Final = 30.0
DEFAULT_SMOOTH_TAU_S: Final = 0.5
DEFAULT_SELECTION_TAU_S: Final = 5.0  # spaxel's NBVI window: 100 frames at 20 Hz
DEFAULT_SELECTED_SUBCARRIERS: Final = 16  # spaxel's NBVI top count
DEFAULT_WARMUP_S: Final = 2.0
DEFAULT_STALE_AFTER_S: Final = 2.0  # a direction silent this long stops counting for its link
DEFAULT_MAX_STREAMS: Final = 4096  # 64 nodes, every directed pair; more is a misbehaving peer

# While a direction warms up its baseline averages over the last sixth of the warm-up
# (τ = warmup_s / 6, 0.33 s by default): what the radio did while settling (AGC, the first
# frames after boot) is down to e⁻⁶ of its weight when the baseline starts to count and can
# freeze.
_WARMUP_TAU_FRACTION: Final = 1.0 / 6.0
# Below this a mean amplitude (squared) or a level is "zero": guards every division.
_TINY: Final = 1e-30


def link_key(mac_a: str, mac_b: str) -> LinkKey:
    """The undirected link between two node MACs: the same for (a, b) and (b, a)."""
    return (mac_a, mac_b) if mac_a <= mac_b else (mac_b, mac_a)


def rssi_scale(rssi_dbm: int | None) -> float:
    """The factor 10^((−30 − RSSI)/20) that scales amplitudes received at ``rssi_dbm`` to what
    they would be at −30 dBm; 1.0 when the RSSI is None (the node sent 0: do not normalise)."""
    if rssi_dbm is None:
        return 1.0
    return float(10.0 ** ((REFERENCE_RSSI_DBM - rssi_dbm) / 20.0))


# ------------------------------------------------------------------------- subcarrier layout


@dataclass(frozen=True, eq=False)
class SubcarrierLayout:
    """Which columns of a frame with ``n_sub`` subcarriers the chain uses.

    ``amplitude_index``: the data subcarriers whose amplitudes feed selection and deltaRMS.
    ``phase_index``: the subcarriers whose phase is detrended, in frequency order, and
    ``phase_frequency`` their signed subcarrier numbers (the x of the linear fit).
    Arrays are read-only."""

    n_sub: int
    amplitude_index: IntArray
    phase_index: IntArray
    phase_frequency: FloatArray
    description: str

    @property
    def width(self) -> int:
        """Number of amplitude columns."""
        return int(self.amplitude_index.size)


@functools.cache
def subcarrier_layout(n_sub: int) -> SubcarrierLayout | None:
    """The layout for frames of ``n_sub`` subcarriers, or None when such frames carry nothing
    usable (n_sub 0, or fewer than :data:`MIN_SUBCARRIERS`):

    - 64 (HT20, LLTF): the 46 data subcarriers of issue 9 (null 0, 1, 63; guard 27–37; pilots
      7, 21, 43, 57 excluded); phase over the same 46 in frequency order (−26…26).
    - 128 (ESP32 LLTF followed by HT-LTF, both the same 64-subcarrier map): the 46 data
      subcarriers of each half for amplitude (92); phase over the first half (the LLTF).
    - any other count from 8 to 128 (for example 52 from nodes that send only data and pilot
      subcarriers): the layout is not known, so all but the first and last (band edges, where
      the radio's filter rolls off) are used, in the order sent. Pilots and nulls may be among
      them; nulls have zero mean and are never selected, pilots only dilute the selection.
    """
    if n_sub < MIN_SUBCARRIERS:
        return None
    if n_sub in (HT20_SUBCARRIERS, 2 * HT20_SUBCARRIERS):
        data = np.array(DATA_SUBCARRIERS_HT20, dtype=np.int64)
        signed = np.where(data < 32, data, data - HT20_SUBCARRIERS)
        order = np.argsort(signed)
        phase_index = data[order]
        frequency = signed[order].astype(np.float64)
        if n_sub == HT20_SUBCARRIERS:
            amplitude = data
            description = "HT20: 46 data subcarriers"
        else:
            amplitude = np.concatenate([data, data + HT20_SUBCARRIERS])
            description = "LLTF + HT-LTF: 2 × 46 data subcarriers, phase from the LLTF"
    else:
        amplitude = np.arange(1, n_sub - 1, dtype=np.int64)
        phase_index = amplitude
        frequency = amplitude.astype(np.float64)
        description = f"unknown layout: {n_sub - 2} subcarriers without the band edges"
    for array in (amplitude, phase_index, frequency):
        array.setflags(write=False)
    return SubcarrierLayout(n_sub, amplitude, phase_index, frequency, description)


def frame_amplitude(frame: CsiFrame) -> FloatArray:
    """The RSSI-normalised amplitude of ``frame`` on its data subcarriers (see
    :func:`subcarrier_layout`), float64; empty when the frame's layout carries nothing."""
    layout = subcarrier_layout(frame.n_sub)
    if layout is None:
        return np.zeros(0)
    iq = frame.iq[layout.amplitude_index].astype(np.float64)
    amplitude: FloatArray = np.hypot(iq[:, 0], iq[:, 1]) * rssi_scale(frame.rssi_dbm)
    return amplitude


def detrended_phase(csi: npt.ArrayLike, layout: SubcarrierLayout) -> FloatArray:
    """The phase of ``csi`` (complex, shape ``(..., n_sub)``) on the layout's phase
    subcarriers, unwrapped across them in frequency order, with its least-squares linear trend
    in the subcarrier number removed (the sampling-time offset makes a ramp, the carrier
    frequency offset a constant): shape ``(..., len(layout.phase_index))``, radians.

    A pure linear ramp comes out as 0, whatever its slope: before unwrapping, a coarse slope
    from the phase step between adjacent subcarriers (the angle of Σ H[k+1]·conj(H[k])) is
    taken out, so unwrapping only has to follow the small residual (even across the pilot and
    DC gaps, where a steep ramp would jump by more than π). Zero subcarriers have phase 0;
    nothing here makes NaN."""
    values = np.asarray(csi)
    h = values[..., layout.phase_index].astype(np.complex128)
    k = layout.phase_frequency
    adjacent = np.flatnonzero(np.diff(k) == 1.0)
    coarse = np.angle((h[..., adjacent + 1] * np.conj(h[..., adjacent])).sum(axis=-1))
    rotated = h * np.exp(-1j * coarse[..., None] * k)
    unwrapped = np.unwrap(np.angle(rotated), axis=-1)
    design = np.stack([np.ones_like(k), k], axis=1)  # phase ≈ c + s·k
    coefficients = unwrapped @ np.linalg.pinv(design).T
    residual: FloatArray = unwrapped - coefficients @ design.T
    return residual


# ------------------------------------------------------------------------------ link state


@dataclass(frozen=True, slots=True)
class LinkState:
    """One link at a point in time (see :meth:`SignalChain.activations`).

    ``activation``: what the grid should use, the smoothed deltaRMS while the link shows
    motion and 0 otherwise. ``smoothed_delta_rms`` / ``delta_rms``: the mean over the
    contributing directions (warmed up and fresh; ``directions`` of them, 0–2) of the smoothed
    and of the latest relative deltaRMS. ``frames`` counts every frame received for the link
    (both directions), ``zero_frames`` the all-zero ones, ``empty_frames`` the n_sub 0 ones,
    ``skipped_frames`` the unusable layouts. ``last_frame_s``: arrival time of the newest frame
    of any kind, None before the first. ``stale``: no usable frame within ``stale_after_s``;
    ``warming_up``: fresh, but no direction has finished its warm-up. ``phase_rms_rad``: RMS of
    the detrended phase of the newest usable frame (mean over directions), a quality and
    multipath figure for display."""

    key: LinkKey
    activation: float
    smoothed_delta_rms: float
    delta_rms: float
    motion: bool
    directions: int
    frames: int
    zero_frames: int
    empty_frames: int
    skipped_frames: int
    last_frame_s: float | None
    stale: bool
    warming_up: bool
    phase_rms_rad: float


@dataclass(frozen=True, slots=True, eq=False)
class LinkArrays:
    """All links at once, for vectorised consumers: ``keys`` in a stable order (a link keeps
    its position until forgotten, new links come after) and, in that order, ``activation``
    (float32, 0 without motion), ``smoothed_delta_rms`` (float64) and ``motion`` (bool)."""

    keys: tuple[LinkKey, ...]
    activation: npt.NDArray[np.float32]
    smoothed_delta_rms: FloatArray
    motion: BoolArray


# -------------------------------------------------------------------------- stream storage


class _Streams:
    """Per-direction state, one row per stream slot; 2-D arrays are (slots, width) with the
    columns past a stream's layout width marked invalid (zero everywhere)."""

    def __init__(self, capacity: int, width: int) -> None:
        self.capacity = capacity
        self.width = width
        self.link = np.full(capacity, -1, dtype=np.int64)
        self.n_sub = np.full(capacity, -1, dtype=np.int64)
        self.count = np.zeros(capacity, dtype=np.int64)  # usable frames since the layout was set
        self.first_t = np.zeros(capacity)
        self.last_t = np.zeros(capacity)
        self.last_seen_t = np.zeros(capacity)  # any frame, valid where frames > 0
        self.frames = np.zeros(capacity, dtype=np.int64)
        self.zero_frames = np.zeros(capacity, dtype=np.int64)
        self.empty_frames = np.zeros(capacity, dtype=np.int64)
        self.skipped_frames = np.zeros(capacity, dtype=np.int64)
        self.delta = np.zeros(capacity)
        self.smoothed = np.zeros(capacity)
        self.phase_rms = np.zeros(capacity)
        self.valid = np.zeros((capacity, width), dtype=np.bool_)
        self.selected = np.zeros((capacity, width), dtype=np.bool_)
        self.mean = np.zeros((capacity, width))
        self.var = np.zeros((capacity, width))
        self.baseline = np.zeros((capacity, width))

    _ROW_ARRAYS = (
        "link",
        "n_sub",
        "count",
        "first_t",
        "last_t",
        "last_seen_t",
        "frames",
        "zero_frames",
        "empty_frames",
        "skipped_frames",
        "delta",
        "smoothed",
        "phase_rms",
    )
    _MATRIX_ARRAYS = ("valid", "selected", "mean", "var", "baseline")

    def resize(self, capacity: int, width: int) -> None:
        """Grow to ``capacity`` rows and ``width`` columns, keeping what is there."""
        for name in self._ROW_ARRAYS:
            old = getattr(self, name)
            fill = -1 if name in ("link", "n_sub") else 0
            new = np.full(capacity, fill, dtype=old.dtype)
            new[: self.capacity] = old
            setattr(self, name, new)
        for name in self._MATRIX_ARRAYS:
            old = getattr(self, name)
            new = np.zeros((capacity, width), dtype=old.dtype)
            new[: self.capacity, : self.width] = old
            setattr(self, name, new)
        self.capacity = capacity
        self.width = width

    def reset_signal(self, rows: IntArray, layout: SubcarrierLayout) -> None:
        """Start the signal state of ``rows`` afresh for ``layout`` (counters are kept)."""
        self.n_sub[rows] = layout.n_sub
        self.count[rows] = 0
        self.delta[rows] = 0.0
        self.smoothed[rows] = 0.0
        self.phase_rms[rows] = 0.0
        for name in self._MATRIX_ARRAYS:
            getattr(self, name)[rows] = 0
        self.valid[rows, : layout.width] = True

    def clear(self, row: int) -> None:
        """Forget everything about ``row`` (its slot is free)."""
        for name in self._ROW_ARRAYS:
            getattr(self, name)[row] = -1 if name in ("link", "n_sub") else 0
        for name in self._MATRIX_ARRAYS:
            getattr(self, name)[row] = 0


@dataclass(frozen=True, slots=True, eq=False)
class _LinkSummary:
    slots: IntArray
    value: FloatArray
    delta: FloatArray
    directions: IntArray
    motion: BoolArray
    fresh: BoolArray


# ---------------------------------------------------------------------------------- chain


class SignalChain:
    """Motion per link from CSI frames, vectorised across links (see the module docstring for
    the chain, the units and what odd frames do).

    ``threshold``: smoothed relative deltaRMS above which a link shows motion (0.02 = 2 %).
    ``baseline_tau_s``, ``smooth_tau_s``, ``selection_tau_s``: time constants in seconds of the
    quiet-time baseline, the deltaRMS smoothing and the subcarrier-selection window.
    ``selected_subcarriers``: how many of the most motion-sensitive subcarriers (highest
    variance/mean²) deltaRMS is computed over. ``warmup_s``: how long a new direction builds its
    baseline before it counts. ``stale_after_s``: a direction without a usable frame for this
    long stops counting (its link reports no motion once both have). ``max_streams``: directed
    pairs kept at most; frames for more are counted (``counts['overflow_frames']``) and dropped.
    ``compute_phase``: keep the detrended phase of each direction's newest frame per tick.

    Feed it with :meth:`push` (cheap, per frame) and read it with :meth:`activations` or
    :meth:`link_arrays` at the tick rate; both first run :meth:`tick`. Not thread-safe.
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        baseline_tau_s: float = DEFAULT_BASELINE_TAU_S,
        smooth_tau_s: float = DEFAULT_SMOOTH_TAU_S,
        selection_tau_s: float = DEFAULT_SELECTION_TAU_S,
        selected_subcarriers: int = DEFAULT_SELECTED_SUBCARRIERS,
        warmup_s: float = DEFAULT_WARMUP_S,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        max_streams: int = DEFAULT_MAX_STREAMS,
        compute_phase: bool = True,
    ) -> None:
        for name, value in (
            ("baseline_tau_s", baseline_tau_s),
            ("smooth_tau_s", smooth_tau_s),
            ("selection_tau_s", selection_tau_s),
            ("stale_after_s", stale_after_s),
        ):
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if not (math.isfinite(warmup_s) and warmup_s >= 0.0):
            raise ValueError(f"warmup_s must be ≥ 0 seconds, got {warmup_s!r}")
        if not (math.isfinite(threshold) and threshold > 0.0):
            raise ValueError(f"threshold must be positive, got {threshold!r}")
        if selected_subcarriers < 1 or max_streams < 1:
            raise ValueError("selected_subcarriers and max_streams must be at least 1")
        self.threshold = float(threshold)
        self.baseline_tau_s = float(baseline_tau_s)
        self.smooth_tau_s = float(smooth_tau_s)
        self.selection_tau_s = float(selection_tau_s)
        self.selected_subcarriers = int(selected_subcarriers)
        self.warmup_s = float(warmup_s)
        self._warmup_tau_s = max(self.warmup_s * _WARMUP_TAU_FRACTION, 1e-3)
        self.stale_after_s = float(stale_after_s)
        self.max_streams = int(max_streams)
        self.compute_phase = compute_phase
        self.counts: dict[str, int] = {
            "frames": 0,
            "zero_frames": 0,
            "empty_frames": 0,
            "skipped_frames": 0,
            "self_link_frames": 0,
            "overflow_frames": 0,
            "layout_resets": 0,
            "layout_conflict_frames": 0,
        }
        """Frames by fate since construction (chain-wide; per link in :class:`LinkState`)."""
        ht20 = subcarrier_layout(HT20_SUBCARRIERS)
        assert ht20 is not None
        self._streams = _Streams(16, ht20.width)
        self._stream_slot: dict[tuple[str, str], int] = {}
        self._stream_key: list[tuple[str, str] | None] = []
        self._free_streams: list[int] = []
        self._link_slot: dict[LinkKey, int] = {}
        self._link_key: list[LinkKey | None] = []
        self._free_links: list[int] = []
        self._link_streams = np.full((16, 2), -1, dtype=np.int64)
        self._node_links: dict[str, set[LinkKey]] = {}
        self._residual_phase: dict[int, FloatArray] = {}
        self._pending_slot: list[int] = []
        self._pending_t: list[float] = []
        self._pending_rssi: list[int] = []
        self._pending_iq: list[npt.NDArray[np.int8]] = []

    # --------------------------------------------------------------------------- input

    def push(self, frame: CsiFrame, t_s: float) -> None:
        """File ``frame``, received at ``t_s`` (seconds on the engine's monotonic clock, the
        arrival time), for the next :meth:`tick`. A few dict and list operations: call it for
        every frame. A frame from a node about itself is counted and dropped. Raises
        ``ValueError`` only for a non-finite ``t_s`` (a caller's bug, not a frame's)."""
        slot = self._stream_slot.get((frame.node_mac, frame.peer_mac))
        if slot is None:
            if not math.isfinite(t_s):
                raise ValueError(f"arrival time must be finite, got {t_s!r}")
            slot = self._open_stream(frame.node_mac, frame.peer_mac)
            if slot < 0:
                return
        elif t_s - t_s != 0.0:  # not finite; cheaper than math.isfinite on the hot path
            raise ValueError(f"arrival time must be finite, got {t_s!r}")
        self._pending_slot.append(slot)
        self._pending_t.append(t_s)
        self._pending_rssi.append(frame.rssi_dbm or 0)
        self._pending_iq.append(frame.iq)

    def forget(self, mac: str) -> int:
        """Drop every link of node ``mac`` (it went offline or left the site): their state,
        their frames not yet ticked, and their entries in :meth:`activations`. Frames arriving
        later open the links afresh. Returns how many links were dropped."""
        keys = self._node_links.pop(mac.upper(), set())
        if not keys:
            return 0
        freed: set[int] = set()
        for key in keys:
            link = self._link_slot.pop(key)
            for slot in self._link_streams[link]:
                if slot >= 0:
                    freed.add(int(slot))
            self._link_streams[link] = -1
            self._link_key[link] = None
            self._free_links.append(link)
            for node in key:
                others = self._node_links.get(node)
                if others is not None:
                    others.discard(key)
                    if not others:
                        del self._node_links[node]
        for slot in freed:
            stream_key = self._stream_key[slot]
            assert stream_key is not None
            del self._stream_slot[stream_key]
            self._stream_key[slot] = None
            self._streams.clear(slot)
            self._residual_phase.pop(slot, None)
            self._free_streams.append(slot)
        keep = [i for i, slot in enumerate(self._pending_slot) if slot not in freed]
        if len(keep) != len(self._pending_slot):
            self._pending_slot = [self._pending_slot[i] for i in keep]
            self._pending_t = [self._pending_t[i] for i in keep]
            self._pending_rssi = [self._pending_rssi[i] for i in keep]
            self._pending_iq = [self._pending_iq[i] for i in keep]
        return len(keys)

    # --------------------------------------------------------------------------- output

    def activations(self, t_s: float) -> dict[LinkKey, LinkState]:
        """Every known link at ``t_s`` (seconds, same clock as :meth:`push`), after processing
        the frames filed so far. ``{key: state.activation}`` is what
        ``GridModel.activation_vector`` takes once MACs are mapped to the site's node ids."""
        self.tick()
        summary = self._summarise(t_s)
        st = self._streams
        pair = self._link_streams[summary.slots]
        present = pair >= 0
        rows = np.where(present, pair, 0)

        def total(values: npt.NDArray[np.int64]) -> list[int]:
            summed: list[int] = np.where(present, values[rows], 0).sum(axis=1).tolist()
            return summed

        frames, zero, empty, skipped = (
            total(st.frames),
            total(st.zero_frames),
            total(st.empty_frames),
            total(st.skipped_frames),
        )
        seen = present & (st.frames[rows] > 0)
        last_seen = np.where(seen, st.last_seen_t[rows], -np.inf).max(axis=1).tolist()
        any_seen: list[bool] = np.asarray(seen.any(axis=1)).tolist()
        phased = present & (st.count[rows] > 0)
        phase_rms = (
            np.where(phased, st.phase_rms[rows], 0.0).sum(axis=1)
            / np.maximum(phased.sum(axis=1), 1)
        ).tolist()
        states: dict[LinkKey, LinkState] = {}
        for i, (link, motion, value, delta, directions, fresh) in enumerate(
            zip(
                summary.slots.tolist(),
                summary.motion.tolist(),
                summary.value.tolist(),
                summary.delta.tolist(),
                summary.directions.tolist(),
                summary.fresh.tolist(),
                strict=True,
            )
        ):
            key = self._key_of(link)
            states[key] = LinkState(
                key=key,
                activation=value if motion else 0.0,
                smoothed_delta_rms=value,
                delta_rms=delta,
                motion=motion,
                directions=directions,
                frames=frames[i],
                zero_frames=zero[i],
                empty_frames=empty[i],
                skipped_frames=skipped[i],
                last_frame_s=last_seen[i] if any_seen[i] else None,
                stale=not fresh,
                warming_up=fresh and directions == 0,
                phase_rms_rad=phase_rms[i],
            )
        return states

    def link_arrays(self, t_s: float) -> LinkArrays:
        """The same as :meth:`activations` for vectorised consumers (see :class:`LinkArrays`),
        after processing the frames filed so far."""
        self.tick()
        summary = self._summarise(t_s)
        keys = tuple(self._key_of(link) for link in summary.slots.tolist())
        activation = np.where(summary.motion, summary.value, 0.0).astype(np.float32)
        return LinkArrays(keys, activation, summary.value, summary.motion)

    def baseline(self, node_mac: str, peer_mac: str) -> FloatArray | None:
        """A copy of the amplitude baseline of the direction ``node_mac`` → ``peer_mac`` on its
        data subcarriers (RSSI-normalised units), or None if that direction has no usable frame
        yet. Processes the frames filed so far first."""
        self.tick()
        slot = self._stream_slot.get((node_mac, peer_mac))
        if slot is None or self._streams.count[slot] == 0:
            return None
        st = self._streams
        baseline: FloatArray = st.baseline[slot][st.valid[slot]].copy()
        return baseline

    def selected_subcarriers_of(self, node_mac: str, peer_mac: str) -> IntArray | None:
        """Frame columns (subcarrier indices as sent) of the subcarriers the direction
        ``node_mac`` → ``peer_mac`` used for its latest deltaRMS, or None before its first
        usable frame."""
        self.tick()
        slot = self._stream_slot.get((node_mac, peer_mac))
        st = self._streams
        if slot is None or st.count[slot] == 0:
            return None
        layout = subcarrier_layout(int(st.n_sub[slot]))
        assert layout is not None
        columns: IntArray = layout.amplitude_index[st.selected[slot, : layout.width]]
        return columns

    def residual_phase(self, node_mac: str, peer_mac: str) -> FloatArray | None:
        """The detrended phase (radians, the layout's phase subcarriers in frequency order) of
        the newest usable frame of the direction ``node_mac`` → ``peer_mac``, or None (no usable
        frame yet, or ``compute_phase`` off)."""
        self.tick()
        slot = self._stream_slot.get((node_mac, peer_mac))
        if slot is None:
            return None
        phase = self._residual_phase.get(slot)
        return None if phase is None else phase.copy()

    # --------------------------------------------------------------------------- processing

    def tick(self) -> int:
        """Process every frame filed since the last tick; returns how many there were.
        :meth:`activations` and :meth:`link_arrays` call it; call it yourself only to spread
        the work (for example when reading less often than 10 times a second)."""
        filed = len(self._pending_slot)
        if filed == 0:
            return 0
        slots = np.array(self._pending_slot, dtype=np.int64)
        times = np.array(self._pending_t, dtype=np.float64)
        rssi = np.array(self._pending_rssi, dtype=np.float64)
        iqs = self._pending_iq
        self._pending_slot, self._pending_t, self._pending_rssi, self._pending_iq = [], [], [], []
        n_subs = np.fromiter(map(len, iqs), dtype=np.int64, count=filed)
        self.counts["frames"] += filed

        order = np.lexsort((times, slots))  # per stream, in arrival order
        slots, times, rssi, n_subs = slots[order], times[order], rssi[order], n_subs[order]
        iqs = [iqs[i] for i in order]
        self._note_seen(slots, times)

        usable = n_subs > 0
        self._count(slots[~usable], "empty_frames")
        # One layout per stream per tick: the one of its newest frame; older frames of another
        # size (a node reconfigured mid-tick) are dropped.
        last_n = _last_per_group(slots[usable], n_subs[usable])
        conflict = usable.copy()
        conflict[usable] = n_subs[usable] != last_n
        self.counts["layout_conflict_frames"] += int(conflict.sum())
        usable &= ~conflict

        keep = np.flatnonzero(usable)
        amplitude = np.zeros((keep.size, self._streams.width))
        supported = np.zeros(keep.size, dtype=np.bool_)
        layouts: dict[int, SubcarrierLayout] = {}
        for n in np.unique(n_subs[keep]).tolist():
            rows = np.flatnonzero(n_subs[keep] == n)
            layout = subcarrier_layout(n)
            if layout is None:
                self._count(slots[keep[rows]], "skipped_frames")
                continue
            layouts[n] = layout
            self._adopt_layout(np.unique(slots[keep[rows]]), layout)
            if layout.width > amplitude.shape[1]:
                widened = np.zeros((keep.size, layout.width))
                widened[:, : amplitude.shape[1]] = amplitude
                amplitude = widened
            iq = np.stack([iqs[keep[r]] for r in rows.tolist()])[:, layout.amplitude_index]
            iq_f = iq.astype(np.float32)
            amp = np.sqrt(iq_f[..., 0] ** 2 + iq_f[..., 1] ** 2, dtype=np.float32)
            scale = np.where(
                rssi[keep[rows]] != 0.0,
                10.0 ** ((REFERENCE_RSSI_DBM - rssi[keep[rows]]) / 20.0),
                1.0,
            )
            amplitude[rows, : layout.width] = amp * scale[:, None]
            supported[rows] = True

        nonzero = amplitude.any(axis=1)
        self._count(slots[keep[supported & ~nonzero]], "zero_frames")
        live = supported & nonzero
        self._apply(slots[keep[live]], times[keep[live]], amplitude[live])
        if self.compute_phase and live.any():
            self._update_phase(slots[keep[live]], n_subs[keep[live]], keep[live], iqs, layouts)
        return filed

    def _apply(self, slots: IntArray, times: FloatArray, amplitude: FloatArray) -> None:
        """Apply frames (sorted by stream, then time) in rounds: round r holds the r-th frame
        of every stream, so each stream sees its frames in order and each round is one
        vectorised step across streams."""
        if slots.size == 0:
            return
        starts = np.flatnonzero(np.r_[True, slots[1:] != slots[:-1]])
        lengths = np.diff(np.r_[starts, slots.size])
        rank = np.arange(slots.size) - np.repeat(starts, lengths)
        by_round = np.argsort(rank, kind="stable")
        bounds = np.r_[0, np.cumsum(np.bincount(rank))]
        for r in range(bounds.size - 1):
            rows = by_round[bounds[r] : bounds[r + 1]]
            self._apply_round(slots[rows], times[rows], amplitude[rows])

    def _apply_round(self, s: IntArray, t: FloatArray, x: FloatArray) -> None:
        """One frame for each of the streams ``s`` (distinct), arrived at ``t``, with amplitude
        rows ``x`` (padded to the state width)."""
        st = self._streams
        width = st.width
        if x.shape[1] < width:
            x = np.pad(x, ((0, 0), (0, width - x.shape[1])))
        count = st.count[s]
        first = count == 0
        last_t = st.last_t[s]
        dt = np.where(first, 0.0, np.maximum(t - last_t, 0.0))
        inv_n = 1.0 / (count + 1)
        a_selection = np.maximum(-np.expm1(-dt / self.selection_tau_s), inv_n)[:, None]

        # Selection statistics: exponentially weighted mean and variance (West 1979).
        valid = st.valid[s]
        mean = st.mean[s]
        diff = x - mean
        step = a_selection * diff
        mean += step
        var = (1.0 - a_selection) * (st.var[s] + diff * step)
        st.mean[s] = mean
        st.var[s] = var
        mean_sq = mean * mean
        eligible = valid & (mean_sq > _TINY)
        score = np.where(eligible, var / np.where(eligible, mean_sq, 1.0), -1.0)
        k = self.selected_subcarriers
        if k < width:
            top = np.argpartition(score, width - k, axis=1)[:, width - k :]
            selected = np.zeros_like(eligible)
            np.put_along_axis(selected, top, True, axis=1)
            selected &= eligible
        else:
            selected = eligible
        st.selected[s] = selected

        # deltaRMS of the selected subcarriers, relative to the baseline's level.
        baseline = np.where(first[:, None], x, st.baseline[s])
        deviation_sq = np.where(selected, (x - baseline) ** 2, 0.0)
        n_selected = selected.sum(axis=1)
        n_valid = np.maximum(valid.sum(axis=1), 1)
        level = np.sqrt(np.where(valid, baseline * baseline, 0.0).sum(axis=1) / n_valid)
        ok = (n_selected > 0) & (level > _TINY)
        rms = np.sqrt(deviation_sq.sum(axis=1) / np.maximum(n_selected, 1))
        delta = np.where(ok, rms / np.where(ok, level, 1.0), 0.0)
        st.count[s] = count + 1
        first_t = np.where(first, t, st.first_t[s])
        now = np.where(first, t, np.maximum(last_t, t))
        st.first_t[s] = first_t
        st.last_t[s] = now
        # While warming up the baseline is still forming, so the smoothed value just follows
        # deltaRMS: smoothing starts from the first settled value, not the start-up transient.
        warming = (now - first_t) < self.warmup_s
        a_smooth = np.where(warming, 1.0, -np.expm1(-dt / self.smooth_tau_s))
        smoothed = st.smoothed[s] + a_smooth * (delta - st.smoothed[s])
        st.delta[s] = delta
        st.smoothed[s] = smoothed

        # Motion of each frame's link (both directions), then the baseline: it adapts while
        # the link is quiet and while this direction warms up, and is frozen otherwise.
        value, _, directions, _ = self._link_value(st.link[s], t)
        moving = (directions > 0) & (value > self.threshold)
        adapt = ~moving | warming
        tau = np.where(warming, self._warmup_tau_s, self.baseline_tau_s)
        a_baseline = np.maximum(-np.expm1(-dt / tau), inv_n)[:, None]
        adapted = baseline + a_baseline * (x - baseline)
        st.baseline[s] = np.where(adapt[:, None], adapted, baseline)

    def _link_value(
        self, links: IntArray, t: FloatArray
    ) -> tuple[FloatArray, FloatArray, IntArray, BoolArray]:
        """For each link at times ``t`` (seconds): the mean over its contributing directions
        (warmed up and fresh) of the smoothed and of the latest deltaRMS, how many directions
        contribute, and whether any direction is fresh at all."""
        st = self._streams
        pair = self._link_streams[links]
        present = pair >= 0
        rows = np.where(present, pair, 0)
        last_t = st.last_t[rows]
        fresh = present & (st.count[rows] > 0) & ((t[:, None] - last_t) <= self.stale_after_s)
        contributing = fresh & ((last_t - st.first_t[rows]) >= self.warmup_s)
        directions = contributing.sum(axis=1)
        divisor = np.maximum(directions, 1)
        value = np.where(contributing, st.smoothed[rows], 0.0).sum(axis=1) / divisor
        delta = np.where(contributing, st.delta[rows], 0.0).sum(axis=1) / divisor
        any_fresh: BoolArray = np.asarray(fresh.any(axis=1))
        return value, delta, directions, any_fresh

    def _summarise(self, t_s: float) -> _LinkSummary:
        slots = np.array(
            [i for i, key in enumerate(self._link_key) if key is not None], dtype=np.int64
        )
        value, delta, directions, fresh = self._link_value(slots, np.full(slots.size, t_s))
        motion = (directions > 0) & (value > self.threshold)
        return _LinkSummary(slots, value, delta, directions, motion, fresh)

    def _key_of(self, link: int) -> LinkKey:
        key = self._link_key[link]
        assert key is not None, "a summarised link is live"
        return key

    def _update_phase(
        self,
        slots: IntArray,
        n_subs: IntArray,
        positions: IntArray,
        iqs: Sequence[npt.NDArray[np.int8]],
        layouts: dict[int, SubcarrierLayout],
    ) -> None:
        """Detrended phase of each stream's newest usable frame of this tick."""
        newest = np.flatnonzero(np.r_[slots[1:] != slots[:-1], True])
        for n in np.unique(n_subs[newest]).tolist():
            rows = newest[n_subs[newest] == n]
            iq = np.stack([iqs[positions[r]] for r in rows.tolist()]).astype(np.float64)
            csi = iq[..., 0] + 1j * iq[..., 1]
            residual = detrended_phase(csi, layouts[n])
            rms = np.sqrt((residual * residual).mean(axis=1))
            self._streams.phase_rms[slots[rows]] = rms
            for slot, phase in zip(slots[rows].tolist(), residual, strict=True):
                self._residual_phase[slot] = phase

    # --------------------------------------------------------------------------- bookkeeping

    def _open_stream(self, node: str, peer: str) -> int:
        if node == peer:
            self.counts["self_link_frames"] += 1
            return -1
        if len(self._stream_slot) >= self.max_streams:
            self.counts["overflow_frames"] += 1
            return -1
        key = link_key(node, peer)
        link = self._link_slot.get(key)
        if link is None:
            link = self._new_link(key)
        slot = self._new_stream((node, peer))
        self._streams.link[slot] = link
        self._link_streams[link, 0 if node == key[0] else 1] = slot
        return slot

    def _new_link(self, key: LinkKey) -> int:
        if self._free_links:
            link = self._free_links.pop()
            self._link_key[link] = key
        else:
            link = len(self._link_key)
            self._link_key.append(key)
            if link >= self._link_streams.shape[0]:
                grown = np.full((2 * link, 2), -1, dtype=np.int64)
                grown[:link] = self._link_streams
                self._link_streams = grown
        self._link_slot[key] = link
        self._link_streams[link] = -1
        for node in key:
            self._node_links.setdefault(node, set()).add(key)
        return link

    def _new_stream(self, stream_key: tuple[str, str]) -> int:
        if self._free_streams:
            slot = self._free_streams.pop()
            self._stream_key[slot] = stream_key
        else:
            slot = len(self._stream_key)
            self._stream_key.append(stream_key)
            if slot >= self._streams.capacity:
                self._streams.resize(2 * slot, self._streams.width)
        self._streams.clear(slot)
        self._stream_slot[stream_key] = slot
        return slot

    def _adopt_layout(self, slots: IntArray, layout: SubcarrierLayout) -> None:
        """Give ``slots`` the layout ``layout``, starting afresh those that had another."""
        st = self._streams
        if layout.width > st.width:
            st.resize(st.capacity, layout.width)
        changed = slots[st.n_sub[slots] != layout.n_sub]
        if changed.size:
            self.counts["layout_resets"] += int((st.n_sub[changed] >= 0).sum())
            st.reset_signal(changed, layout)
            for slot in changed.tolist():
                self._residual_phase.pop(slot, None)

    def _note_seen(self, slots: IntArray, times: FloatArray) -> None:
        """Frame counts and the newest arrival per stream (``slots`` sorted, times in order)."""
        st = self._streams
        ends = np.flatnonzero(np.r_[slots[1:] != slots[:-1], True])
        streams = slots[ends]
        newest = times[ends]
        seen_before = st.frames[streams] > 0
        st.last_seen_t[streams] = np.where(
            seen_before, np.maximum(st.last_seen_t[streams], newest), newest
        )
        np.add.at(st.frames, slots, 1)

    def _count(self, slots: IntArray, counter: str) -> None:
        if slots.size:
            np.add.at(getattr(self._streams, counter), slots, 1)
            self.counts[counter] += int(slots.size)


def _last_per_group(groups: IntArray, values: IntArray) -> IntArray:
    """For ``groups`` sorted (equal values adjacent), each element's group's last value."""
    if groups.size == 0:
        return values.copy()
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], groups.size] - 1
    result: IntArray = np.repeat(values[ends], np.diff(np.r_[starts, groups.size]))
    return result
