"""The per-link CSI signal chain: data subcarriers, RSSI normalisation, phase detrending,
baseline and motion behaviour in seconds, odd frames, link directions and forgetting nodes.

Frames go through the wire encoder and the parser (``encode_csi_frame`` then
``parse_csi_frame``), so they are quantised to int8 exactly as nodes send them."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from engine.sensing.grid.fresnel import GridModel, VoxelGrid
from engine.sensing.nodes.protocol import CsiFrame, encode_csi_frame, parse_csi_frame
from engine.sensing.signal import (
    DATA_SUBCARRIERS_HT20,
    GUARD_SUBCARRIERS,
    NULL_SUBCARRIERS,
    PILOT_SUBCARRIERS,
    LinkKey,
    LinkState,
    SignalChain,
    detrended_phase,
    frame_amplitude,
    link_key,
    rssi_scale,
    subcarrier_layout,
)

A = "24:6F:28:00:00:0A"
B = "24:6F:28:00:00:0B"
C = "24:6F:28:00:00:0C"
THRESHOLD = 0.02
# Eight data subcarriers a person's movement disturbs in the synthetic scenes.
DISTURBED = np.array([3, 4, 5, 10, 11, 40, 41, 50])

CsiAt = Callable[[float], np.ndarray]
History = list[tuple[float, dict[LinkKey, LinkState]]]


def channel(seed: int, n_sub: int = 64) -> np.ndarray:
    """A stationary multipath channel: amplitudes 40–80 LSB, random phases, and for 64
    subcarriers zeros on the null and guard subcarriers as radios report them."""
    rng = np.random.default_rng(seed)
    csi = rng.uniform(40.0, 80.0, n_sub) * np.exp(1j * rng.uniform(-np.pi, np.pi, n_sub))
    if n_sub == 64:
        csi[list(NULL_SUBCARRIERS | GUARD_SUBCARRIERS)] = 0.0
    return csi


def csi_frame(
    node: str,
    peer: str,
    csi: np.ndarray,
    *,
    rssi: int | None = -50,
    rng: np.random.Generator | None = None,
    noise: float = 0.5,
) -> CsiFrame:
    """``csi`` plus Gaussian I/Q noise (σ = ``noise`` LSB), through the wire and back."""
    values = csi
    if rng is not None and noise > 0.0 and csi.any():  # all-zero frames stay all zero
        values = csi + noise * (rng.standard_normal(csi.size) + 1j * rng.standard_normal(csi.size))
    data = encode_csi_frame(
        node_mac=node,
        peer_mac=peer,
        timestamp_us=0,
        rssi_dbm=rssi,
        noise_dbm=-95,
        channel=6,
        iq=values if csi.size else np.zeros((0, 2), dtype=np.int8),
    )
    return parse_csi_frame(data)


def steady(csi: np.ndarray) -> CsiAt:
    return lambda t: csi


def person(csi: np.ndarray, start_s: float, stop_s: float, depth: float = 0.2) -> CsiAt:
    """Someone moving near the link from ``start_s`` to ``stop_s``: the disturbed subcarriers'
    amplitudes swing by ±``depth`` at 0.8 Hz, each with its own phase."""
    phases = np.linspace(0.0, 2.0 * np.pi, DISTURBED.size, endpoint=False)

    def at(t: float) -> np.ndarray:
        if not start_s <= t < stop_s:
            return csi
        out = csi.copy()
        out[DISTURBED] *= 1.0 + depth * np.sin(2.0 * np.pi * 0.8 * (t - start_s) + phases)
        return out

    return at


def drive(
    chain: SignalChain,
    streams: list[tuple[str, str, CsiAt]],
    *,
    rate_hz: float,
    duration_s: float,
    start_s: float = 0.0,
    tick_every: int = 1,
    rng: np.random.Generator,
    noise: float = 0.5,
) -> History:
    """Each stream sends a frame every 1/``rate_hz`` s (arrival time = send time); the chain is
    read every ``tick_every`` frames. Returns (time, activations) per read."""
    history: History = []
    for i in range(round(duration_s * rate_hz)):
        t = start_s + i / rate_hz
        for node, peer, csi_at in streams:
            chain.push(csi_frame(node, peer, csi_at(t), rng=rng, noise=noise), t)
        if (i + 1) % tick_every == 0:
            history.append((t, chain.activations(t)))
    return history


def onset(history: History, key: LinkKey) -> float | None:
    """Time of the first read showing motion on ``key``."""
    return next((t for t, states in history if states[key].motion), None)


def assert_finite(state: LinkState) -> None:
    for value in (state.activation, state.smoothed_delta_rms, state.delta_rms, state.phase_rms_rad):
        assert math.isfinite(value), state


# ------------------------------------------------------------------------------ subcarriers


def test_64_subcarrier_frames_have_46_data_subcarriers() -> None:
    layout = subcarrier_layout(64)
    assert layout is not None
    assert layout.width == 46 == len(DATA_SUBCARRIERS_HT20)
    data = set(layout.amplitude_index.tolist())
    assert data == set(range(64)) - {0, 1, 63} - set(range(27, 38)) - {7, 21, 43, 57}
    assert not data & (NULL_SUBCARRIERS | GUARD_SUBCARRIERS | PILOT_SUBCARRIERS)
    # Phase runs over the same subcarriers in frequency order, −26 … 26 without DC and pilots.
    assert sorted(layout.phase_index.tolist()) == sorted(data)
    assert layout.phase_frequency[0] == -26 and layout.phase_frequency[-1] == 26
    assert np.all(np.diff(layout.phase_frequency) > 0)


def test_other_subcarrier_counts_have_documented_layouts() -> None:
    assert subcarrier_layout(0) is None
    assert subcarrier_layout(5) is None  # too few to select from
    lltf_ht = subcarrier_layout(128)
    assert lltf_ht is not None and lltf_ht.width == 92
    assert set(lltf_ht.amplitude_index.tolist()) == set(DATA_SUBCARRIERS_HT20) | {
        i + 64 for i in DATA_SUBCARRIERS_HT20
    }
    unknown = subcarrier_layout(52)
    assert unknown is not None
    assert unknown.amplitude_index.tolist() == list(range(1, 51))  # band edges dropped


# ------------------------------------------------------------------------ amplitude, phase


def test_rssi_normalisation_gives_the_same_amplitude_at_minus_40_and_minus_60_dbm() -> None:
    rng = np.random.default_rng(1)
    weak = rng.integers(-12, 13, size=(64, 2)).astype(np.int8)  # what arrives at −60 dBm
    strong = (weak.astype(np.int16) * 10).astype(np.int8)  # 20 dB more: 10× the amplitude
    frame_weak = CsiFrame(A, B, 0, -60, -95, 6, weak)
    frame_strong = CsiFrame(A, B, 0, -40, -95, 6, strong)
    assert np.allclose(frame_amplitude(frame_weak), frame_amplitude(frame_strong), rtol=1e-12)
    # Scaled to −30 dBm: a frame at −60 dBm is 30 dB below, so ×10^1.5.
    as_float = weak.astype(np.float64)
    raw = np.hypot(as_float[:, 0], as_float[:, 1])[list(DATA_SUBCARRIERS_HT20)]
    assert np.allclose(frame_amplitude(frame_weak), raw * 10**1.5)
    # RSSI 0 on the wire ("do not normalise") leaves amplitudes as they are.
    frame_unknown = parse_csi_frame(
        frame_weak.to_bytes()[:20] + b"\x00" + frame_weak.to_bytes()[21:]
    )
    assert frame_unknown.rssi_dbm is None and rssi_scale(None) == 1.0
    assert np.allclose(frame_amplitude(frame_unknown), raw)

    # The chain applies it too: the same channel at both levels builds the same baseline.
    chain = SignalChain()
    for i in range(10):
        chain.push(frame_weak, i * 0.05)
        chain.push(CsiFrame(A, C, 0, -40, -95, 6, strong), i * 0.05)
    weak_baseline, strong_baseline = chain.baseline(A, B), chain.baseline(A, C)
    assert weak_baseline is not None and strong_baseline is not None
    assert np.allclose(weak_baseline, strong_baseline, rtol=1e-6)


@pytest.mark.parametrize("slope", [0.3, 2.5, -1.7])
def test_phase_detrend_removes_a_linear_ramp_exactly(slope: float) -> None:
    layout = subcarrier_layout(64)
    assert layout is not None
    rng = np.random.default_rng(2)
    signed = np.where(np.arange(64) < 32, np.arange(64), np.arange(64) - 64).astype(float)
    amplitude = rng.uniform(5.0, 60.0, 64)
    ramp = np.exp(1j * (slope * signed + 0.9))  # sampling-time offset and a carrier offset

    # A pure ramp leaves nothing, however steep (2.5 rad per subcarrier wraps every 2.5).
    assert np.allclose(detrended_phase(amplitude * ramp, layout), 0.0, atol=1e-9)

    # Multipath shape under the ramp: the ramp goes, the shape minus its own least-squares
    # line stays.
    shape = 0.8 * np.sin(signed / 4.0) + 0.4 * np.cos(signed / 2.5)  # smooth in frequency
    residual = detrended_phase(amplitude * np.exp(1j * shape) * ramp, layout)
    k = layout.phase_frequency
    own = shape[layout.phase_index]
    fitted = np.polyval(np.polyfit(k, own, 1), k)
    assert np.allclose(residual, own - fitted, atol=1e-9)
    assert np.abs(residual).max() > 0.05  # the shape is really there

    # Several frames at once, and all-zero frames give zeros, never NaN.
    batch = np.stack([amplitude * ramp, np.zeros(64, complex)])
    assert np.allclose(detrended_phase(batch, layout), 0.0, atol=1e-9)


# ---------------------------------------------------------------------- baseline and motion


def test_a_quiet_link_stays_below_threshold_and_its_baseline_tracks_slow_drift() -> None:
    rng = np.random.default_rng(3)
    csi = channel(3)
    chain = SignalChain(threshold=THRESHOLD)

    def drifting(t: float) -> np.ndarray:  # the room warms up: +10 % over ten minutes
        return csi * (1.0 + 0.1 * t / 600.0)

    history = drive(chain, [(A, B, drifting)], rate_hz=10, duration_s=600, tick_every=10, rng=rng)
    states = [s[(A, B)] for _, s in history]
    assert not any(s.motion for s in states)
    assert max(s.smoothed_delta_rms for s in states) < THRESHOLD
    assert all(s.activation == 0.0 for s in states)

    baseline = chain.baseline(A, B)
    assert baseline is not None
    data = list(DATA_SUBCARRIERS_HT20)
    start = np.abs(csi[data]) * rssi_scale(-50)
    end = start * 1.1
    assert np.median(baseline / start) > 1.07  # it followed the drift …
    assert np.median(np.abs(baseline / end - 1.0)) < 0.015  # … to within a 30 s lag


def test_a_person_crosses_the_threshold_within_the_smoothing_time_and_freezes_the_baseline() -> (
    None
):
    rng = np.random.default_rng(4)
    csi = channel(4)
    chain = SignalChain(threshold=THRESHOLD, smooth_tau_s=0.5)
    quiet = drive(chain, [(A, B, steady(csi))], rate_hz=20, duration_s=5, rng=rng)
    early = chain.baseline(A, B)
    quiet += drive(chain, [(A, B, steady(csi))], rate_hz=20, duration_s=5, start_s=5, rng=rng)
    assert not any(s[(A, B)].motion for _, s in quiet)
    quiet_baseline = chain.baseline(A, B)
    assert early is not None and quiet_baseline is not None
    assert not np.array_equal(early, quiet_baseline)  # it adapts while the link is quiet

    walk = person(csi, 10.0, 15.0)
    walking: History = []
    frozen = None
    for i in range(100):  # 5 s at 20 Hz, read after every frame
        t = 10.0 + i / 20
        chain.push(csi_frame(A, B, walk(t), rng=rng), t)
        walking.append((t, chain.activations(t)))
        if frozen is None and walking[-1][1][(A, B)].motion:
            frozen = chain.baseline(A, B)
    started = onset(walking, (A, B))
    assert started is not None and started - 10.0 <= 0.75  # about the smoothing time
    moving = [s[(A, B)] for t, s in walking if t >= started]
    assert all(s.motion and s.activation == s.smoothed_delta_rms > THRESHOLD for s in moving)
    # While the link shows motion its baseline does not move at all.
    assert frozen is not None
    baseline_after = chain.baseline(A, B)
    assert baseline_after is not None and np.array_equal(frozen, baseline_after)

    # When the person leaves, motion ends within a few smoothing times.
    after = drive(chain, [(A, B, steady(csi))], rate_hz=20, duration_s=5, start_s=15, rng=rng)
    ended = next(t for t, s in after if not s[(A, B)].motion)
    assert ended - 15.0 <= 2.0
    assert not any(s[(A, B)].motion for t, s in after if t >= 17.0)


def test_motion_onset_is_the_same_at_10_and_50_hz() -> None:
    # The disturbed subcarriers are the weakest, so they are selected before anything
    # happens and the onset is set by the smoothing alone: a step just above the threshold
    # crosses it after a fraction of smoothing time constants (≈ 0.4 s here). Smoothing by a
    # fixed factor per frame instead would cross after a fixed number of frames: 5× sooner
    # at 50 Hz than at 10 Hz.
    csi = channel(5)
    csi[DISTURBED] *= 0.45

    def step(t: float) -> np.ndarray:  # someone steps into the link at 8 s and stays
        if t < 8.0:
            return csi
        out = csi.copy()
        out[DISTURBED] *= 1.09
        return out

    onsets = {}
    for rate in (10, 50):
        chain = SignalChain(threshold=THRESHOLD, smooth_tau_s=0.5)
        history = drive(
            chain, [(A, B, step)], rate_hz=rate, duration_s=10, rng=np.random.default_rng(5)
        )
        assert not any(s[(A, B)].motion for t, s in history if t < 8.0)
        started = onset(history, (A, B))
        assert started is not None
        onsets[rate] = started - 8.0
    assert 0.2 <= onsets[10] <= 1.0 and 0.2 <= onsets[50] <= 1.0, onsets
    assert abs(onsets[10] - onsets[50]) <= 0.15, onsets


def test_a_radio_settling_at_start_up_does_not_lock_its_link_into_motion() -> None:
    # The first frames of a new link come at 60 % amplitude (the receiver's gain settling).
    # Were the baseline to keep them, it would sit below the steady channel, show motion and
    # freeze there for good; the warm-up forgets them first.
    rng = np.random.default_rng(19)
    csi = channel(19)
    chain = SignalChain(threshold=THRESHOLD, warmup_s=2.0)

    def settling(t: float) -> np.ndarray:
        return csi * 0.6 if t < 0.25 else csi

    history = drive(chain, [(A, B, settling)], rate_hz=20, duration_s=30, tick_every=2, rng=rng)
    assert [s[(A, B)].warming_up for t, s in history if t < 1.9] == [True] * 19
    assert not any(s[(A, B)].warming_up for t, s in history if t > 2.1)
    assert not any(s[(A, B)].motion for _, s in history)
    assert history[-1][1][(A, B)].smoothed_delta_rms < THRESHOLD


# ------------------------------------------------------------------------------- odd frames


def test_all_zero_and_empty_frames_never_make_nan_or_motion() -> None:
    rng = np.random.default_rng(6)
    csi = channel(6)
    zeros = np.zeros(64, complex)
    chain = SignalChain(threshold=THRESHOLD)

    # A link that only ever sends all-zero frames, and one that only sends n_sub 0 frames.
    # A quiet link where every other frame is all zero and every fifth has no subcarriers.
    def mixed(index: int) -> np.ndarray:
        return np.zeros(0, complex) if index % 5 == 4 else zeros if index % 2 else csi

    sent_zero = sent_empty = 0
    for i in range(400):  # 20 s at 20 Hz
        t = i * 0.05
        chain.push(csi_frame(A, B, zeros), t)
        chain.push(csi_frame(A, C, np.zeros(0, complex)), t)
        values = mixed(i)
        sent_zero += int(values.size > 0 and not values.any())
        sent_empty += int(values.size == 0)
        chain.push(csi_frame(B, C, values, rng=rng), t)
        if i % 2:
            states = chain.activations(t)
            for state in states.values():
                assert_finite(state)
                assert not state.motion and state.activation == 0.0
            arrays = chain.link_arrays(t)
            assert np.isfinite(arrays.activation).all() and not arrays.motion.any()

    states = chain.activations(20.0)
    zero_link, empty_link, mixed_link = states[(A, B)], states[(A, C)], states[(B, C)]
    assert zero_link.frames == zero_link.zero_frames == 400
    assert empty_link.frames == empty_link.empty_frames == 400
    # Nothing usable: those links never leave the stale state; their baselines never start.
    assert zero_link.stale and empty_link.stale and chain.baseline(A, B) is None
    assert mixed_link.zero_frames == sent_zero and mixed_link.empty_frames == sent_empty
    assert mixed_link.directions == 1 and not mixed_link.stale
    assert mixed_link.smoothed_delta_rms < THRESHOLD
    baseline = chain.baseline(B, C)
    assert baseline is not None and np.isfinite(baseline).all() and baseline.min() > 0
    assert chain.counts["zero_frames"] == 400 + sent_zero
    assert chain.counts["empty_frames"] == 400 + sent_empty


def test_other_subcarrier_counts_are_processed_or_skipped_without_raising() -> None:
    rng = np.random.default_rng(7)
    chain = SignalChain(threshold=THRESHOLD)
    wide, short, tiny = channel(7, 128), channel(8, 52), channel(9, 4)
    switching = channel(10)
    for i in range(200):
        t = i * 0.05
        chain.push(csi_frame(A, B, wide, rng=rng), t)
        chain.push(csi_frame(A, C, short, rng=rng), t)
        chain.push(csi_frame(B, C, tiny, rng=rng), t)
        # A node reconfigured halfway: 64 subcarriers, then 52.
        chain.push(csi_frame(C, A, switching if i < 100 else switching[:52], rng=rng), t)
        if i % 4 == 3:
            for state in chain.activations(t).values():
                assert_finite(state)
                assert not state.motion
    states = chain.activations(10.0)
    assert states[(A, B)].directions == 1 and states[(A, C)].directions == 2
    assert states[(B, C)].skipped_frames == 200 and states[(B, C)].stale
    assert chain.counts["layout_resets"] == 1
    baseline = chain.baseline(A, B)
    assert baseline is not None and baseline.size == 92
    after_switch = chain.baseline(C, A)
    assert after_switch is not None and after_switch.size == 50
    selected = chain.selected_subcarriers_of(A, B)
    assert selected is not None and selected.size == 16


# ------------------------------------------------------------------------- links and nodes


def test_both_directions_feed_one_link() -> None:
    rng = np.random.default_rng(11)
    # The two radios see the link differently (front-end gain ripple): each direction keeps
    # its own baseline, so alternating between them is not motion.
    forward, backward = channel(11), channel(12)
    chain = SignalChain(threshold=THRESHOLD)
    assert link_key(B, A) == link_key(A, B) == (A, B)
    quiet = drive(
        chain,
        [(A, B, steady(forward)), (B, A, steady(backward))],
        rate_hz=20,
        duration_s=10,
        tick_every=2,
        rng=rng,
    )
    assert all(list(states) == [(A, B)] for _, states in quiet)
    state = quiet[-1][1][(A, B)]
    assert state.frames == 400 and state.directions == 2 and not state.motion
    assert not any(s[(A, B)].motion for _, s in quiet)

    # Someone moves where only B→A reports it: the one link shows motion.
    walking = drive(
        chain,
        [(A, B, steady(forward)), (B, A, person(backward, 10.0, 13.0, depth=0.3))],
        rate_hz=20,
        duration_s=3,
        start_s=10,
        tick_every=2,
        rng=rng,
    )
    assert walking[-1][1][(A, B)].motion

    # A link heard in one direction only is still that link, under the same key.
    one_way = SignalChain()
    for i in range(60):
        one_way.push(csi_frame(B, A, backward, rng=rng), i * 0.05)
    assert list(one_way.activations(3.0)) == [(A, B)]


def test_forget_removes_a_nodes_links() -> None:
    rng = np.random.default_rng(13)
    chain = SignalChain(threshold=THRESHOLD)
    streams = [
        (A, B, person(channel(13), 5.0, 20.0, depth=0.3)),
        (A, C, steady(channel(14))),
        (B, C, steady(channel(15))),
    ]
    drive(chain, streams, rate_hz=20, duration_s=8, tick_every=4, rng=rng)
    before = chain.activations(8.0)
    assert set(before) == {(A, B), (A, C), (B, C)}
    assert before[(A, B)].motion

    chain.push(csi_frame(A, B, channel(13), rng=rng), 8.01)  # filed, not yet ticked
    assert chain.forget(A.lower()) == 2
    after = chain.link_arrays(8.05)
    assert after.keys == ((B, C),) and not after.motion.any()
    assert set(chain.activations(8.05)) == {(B, C)}
    assert chain.baseline(A, B) is None and chain.forget(A) == 0

    # Node A comes back: its links start afresh.
    chain.push(csi_frame(A, B, channel(13), rng=rng), 9.0)
    back = chain.activations(9.0)[(A, B)]
    assert back.frames == 1 and back.warming_up and not back.motion

    # A frame filed before forget() does not leak into the link reopened before the next tick.
    solo = SignalChain()
    solo.push(csi_frame(A, B, channel(13)), 0.0)
    solo.activations(0.0)
    solo.push(csi_frame(A, B, channel(13)), 0.05)
    assert solo.forget(B) == 1
    solo.push(csi_frame(A, B, channel(13)), 0.1)
    assert solo.activations(0.1)[(A, B)].frames == 1


def test_activations_plug_into_the_fusion_model() -> None:
    rng = np.random.default_rng(17)
    chain = SignalChain(threshold=THRESHOLD)
    drive(
        chain,
        [(A, B, person(channel(17), 4.0, 10.0, depth=0.3)), (A, C, steady(channel(18)))],
        rate_hz=20,
        duration_s=6,
        tick_every=4,
        rng=rng,
    )
    states = chain.activations(6.0)
    model = GridModel(
        VoxelGrid((0.0, 0.0, 0.0), (4.0, 4.0, 2.0), voxel_m=0.5),
        {A: (0.0, 0.0, 1.0), B: (4.0, 0.0, 1.0), C: (0.0, 4.0, 1.0)},
        [(A, B), (A, C)],
    )
    vector = model.activation_vector({key: s.activation for key, s in states.items()})
    assert vector[model.link_index(A, B)] > THRESHOLD
    assert vector[model.link_index(A, C)] == 0.0
