"""The sensing simulator: walkers in a room, ESP32-like nodes at known positions, the CSI each
node would measure of each other, and node clients that send it over a real WebSocket exactly
as nodes do (hello, role/config, binary CSI frames, health).

A product feature: the demo site runs on it and the UI says so. The channel therefore comes from
the physical model written down here; nothing in it looks at what the signal chain or the fusion
compute (it shares only the geometry: the wavelength of the channel and the Fresnel zone
number, from :mod:`engine.sensing.grid.fresnel`).

Scene
-----
The site's axes: x, y on the floor, z up, metres, origin at a corner of the room, which is the
box [0, W] × [0, D] × [0, H] (:class:`Room`). Nodes (:class:`SimNode`) are points inside it.
A walker is its body centre, a point at height 1.0 m:

- :class:`RandomWalker`: straight legs. Each leg draws its speed from U(0.8, 1.2) m/s, turns from
  the previous heading by N(0, 60°) and runs U(1, 3) m, cut short where it would come closer
  than 0.3 m to a wall; when less than 0.5 m is left that way, the walker turns towards a
  random point of the area 0.3 m inside the walls instead. It never leaves that area.
- :class:`ScriptedWalker`: waypoints walked in order at a fixed speed, then standing at the last
  one (or looping back to the first).

Both are deterministic: a random walker draws everything from its own seeded generator.

Channel, per directed pair tx → rx, per frame at time t
-------------------------------------------------------
64 subcarriers as an ESP32 reports HT20 (LLTF): column k is subcarrier number s = k for
k < 32 and s = k − 64 above, at f_k = f_c + s · 312.5 kHz, f_c the centre of the WiFi channel
(channel 6: 2437 MHz, λ = c/f_c = 0.1230 m). This is the map :mod:`engine.sensing.signal` uses:
null {0, 1, 63} and guard 27–37 are reported as 0, as the radio does; pilots {7, 21, 43, 57}
carry the channel like data subcarriers.

The propagation channel is a sum of paths, each with its Friis free-space amplitude and the
phase of its length L (A = tx, B = rx, c the speed of light)::

    h_k = Σ_paths g · λ/(4π·L) · exp(−j·2π·f_k·L/c)

that is a path loss of 20·log10(4π·L/λ) ≈ 40 + 20·log10(L) dB at 2.4 GHz (40.2 dB at 1 m):

- direct path: L = d0 = |A − B|, g = 1.
- wall reflection: L = |A′ − B| with A′ the image of A in the side wall nearest the link's
  midpoint, g = Γ_wall = −0.5 (plaster, brick and concrete, ε_r ≈ 3–6, reflect |Γ| ≈ 0.3–0.6
  depending on the angle; for perpendicular polarisation a dielectric's Γ is negative at
  every angle).
- one path per walker, via the body centre P: L = d1 + d2 = |A − P| + |P − B|, so its loss is
  40 + 20·log10(d1 + d2) dB on the same reference as the direct path, and
  g = Γ_body · F(n) with Γ_body = −0.72, the normal-incidence reflection coefficient of skin at
  2.45 GHz ((1 − √ε_r)/(1 + √ε_r), ε_r ≈ 38), and F(n) = 1/n² the Fresnel zone factor of P for
  the link: n = ceil((d1 + d2 − d0)/(λ/2)) (P on the line of sight is zone 1), F = 0 past
  zone 5. A walker with a ``reflectivity`` attribute (default 1.0) scales Γ_body by it: a
  small object such as a dropped bag or phone (:mod:`engine.sim.postures`). On the line
  of sight the body's path is in antiphase with the direct one (Γ < 0 and no excess length),
  so it shadows the link (about 10 dB); elsewhere its phase turns by 2π per
  wavelength of path length (a few centimetres of walking), so the subcarrier amplitudes
  fluctuate as it moves. Walkers are the only thing that changes with time: a room without
  walkers gives frames that differ only by the receiver's noise and offsets below.

What a node measures is that channel through the two radios' front ends,
``H_k = T_tx(k) · h_k · R_rx(k)``: each node's transmit and receive chains have their own fixed
gain ripple across the band, Σ_i a_i·cos(2π·s/p_i + φ_i) dB with two terms, a_i ~ U(0, 0.5) dB,
p_i ~ U(20, 60) subcarriers (band-pass filter ripple; drawn from the seed). So the two
directions of a link differ a little, as real radios do, and which node reports matters.

Receiver
--------
- Noise: complex Gaussian on every reported subcarrier, E|n|² = P̄ · 10^(−SNR/10), with P̄ the
  empty room's mean |H_k|² over the data subcarriers and SNR = min(``snr_db``, P_static − noise
  floor). ``snr_db`` (40 dB) stands for what limits a CSI estimate (phase noise, estimation
  from one training symbol), well below the received SNR of 50–60 dB at these ranges.
  P_static = ``tx_power_dbm`` (20, an ESP32's maximum) − ``system_loss_db`` (10: PCB antennas,
  enclosures, polarisation mismatch) + 10·log10(P̄) is the empty room's received power in dBm.
  The noise level is fixed per link, so it does not follow the walkers.
- Carrier and timing offsets: the radios' clocks are not locked, so each frame is turned by
  exp(j·(φ + 2π·s·312.5 kHz·τ)), φ ~ U(−π, π), τ ~ U(−50, 50) ns: a random phase and a random
  linear phase ramp across the subcarriers, which the signal chain removes. Amplitudes are
  untouched.
- AGC and int8: the server scales amplitudes by 10^((−30 − RSSI)/20) (spaxel's normalisation,
  :func:`engine.sensing.signal.rssi_scale`). The simulated radio honours that contract exactly:
  it holds the channel in link units x_k = K · H_k, divides by
  scale = 10^((−30 − RSSI)/20) for the integer RSSI that brings the largest |I| or |Q| into
  (71, 80] (an AGC target of 80 in 1 dB steps), rounds and saturates to int8. The server's
  normalisation multiplies by the same scale, so it recovers |x_k| up to quantisation: a fixed
  multiple of the physical channel per link, and relative changes arrive intact. K is chosen per
  directed pair so that the empty room reads RSSI ≈ P_static (−44 dBm at 5 m), the link
  budget. Because the server's normalisation multiplies, RSSI moves opposite to the channel: a
  walker who raises a link's level by 1 dB lowers its RSSI by 1 dB (a few dB at most; a real
  radio would report the opposite, and then the server's normalisation would not undo its AGC).
  Noise floor: −95 dBm.
- All-zero frames: ``zero_fraction`` (2 %) of frames carry all-zero I/Q (real nodes send many);
  their header, RSSI included, is as usual.
- Timestamps: the reporting node's own clock, µs since its boot: a boot offset U(1, 3600) s and
  a crystal error U(−20, 20) ppm per node. Node clocks are not synchronised.

Which node sends a frame
------------------------
spaxel's firmware and its simulator disagree about which MAC transmitted, so ``reporter`` says:
``"rx"`` (default) the receiving node reports each frame, with node MAC = itself and peer MAC =
the transmitter; ``"tx"`` the transmitter reports it, node MAC = itself, peer MAC = the
receiver. Either way the node MAC is the node whose connection carries the frame.

Determinism and cost
--------------------
Frames at time t depend only on the seed, t and the walkers: the noise, the offsets and the
zero frames of the frames one node reports come from a generator seeded with (seed, t in µs,
node), so :meth:`Simulator.frames_at` gives the same bytes whenever it is called, and
:meth:`Simulator.frames_for` is the part of it one node sends. Everything is vectorised across
pairs and subcarriers. 16 nodes with two walkers (240 directed pairs, 4,800 frames/s at
20 Hz): :meth:`Simulator.frames_at` makes about 110,000 frames per second of one core (4 % of
it for real time), :meth:`Simulator.frames_for` node by node about 40,000 (12 %), and
:func:`run_nodes` sending them over 16 WebSockets takes about 30 % of one core in all.

Clients
-------
:func:`run_nodes` opens one WebSocket per node, sends its ``hello`` (position and token
included), waits for ``role`` and ``config``, then sends the frames the node reports at the
configured ``rate_hz`` and a ``health`` message every few seconds, and returns a
:class:`RunReport`. :func:`run_nodes_blocking` runs it to the end on the calling thread and
:class:`NodeSimulation` on a thread of its own. Their time is the engine's
:class:`~engine.clock.Clock` when given one (a room's simulated nodes always are): real time in
the product, and on a :class:`~engine.clock.SimulatedClock` the nodes send the frames of each
instant when a test moves time there, as fast as it does (tests/engine/sensing/stepping.py).
The separate node process (:class:`engine.sim.room.NodeSimulationProcess`) runs on real time.

Threads: a :class:`Simulator` and its walkers are not thread-safe (random walkers draw their
legs lazily); one owner, such as the event loop that runs :func:`run_nodes`.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

from engine.clock import Clock, RealClock
from engine.sensing.grid.capability import point_on_walls
from engine.sensing.grid.fresnel import MAX_FRESNEL_ZONE, SPEED_OF_LIGHT_M_S, wavelength_m
from engine.sensing.nodes.protocol import HEADER_BYTES, normalise_mac
from engine.sensing.signal import GUARD_SUBCARRIERS, HT20_SUBCARRIERS, NULL_SUBCARRIERS

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
IntArray = npt.NDArray[np.int64]
Vec3 = tuple[float, float, float]
Reporter = Literal["rx", "tx"]

# --- the model's constants (see the module docstring for where each comes from) -------------

SUBCARRIER_SPACING_HZ: Final = 312_500.0  # 802.11 OFDM, 20 MHz channel / 64
BODY_HEIGHT_M: Final = 1.0  # a walker's body centre above the floor
WALK_SPEED_M_S: Final = (0.8, 1.2)  # a random walker's speed range, drawn per leg
WALL_MARGIN_M: Final = 0.3  # walkers keep this far from the walls
LEG_LENGTH_M: Final = (1.0, 3.0)  # a random leg's length before it is cut at the margin
MIN_LEG_M: Final = 0.5  # shorter than this towards a wall: turn for the room instead
TURN_SIGMA_RAD: Final = math.pi / 3  # heading change between legs, N(0, 60°)
KEPT_LEGS: Final = 4096  # a random walker's memory of its past legs (about 2 s each)
WALL_REFLECTION: Final = -0.5  # Γ of plaster, brick or concrete (ε_r ≈ 3–6)
BODY_REFLECTION: Final = -0.72  # Γ of skin at 2.45 GHz, normal incidence, ε_r ≈ 38
DEFAULT_SNR_DB: Final = 40.0  # CSI estimation limit (phase noise, one training symbol)
DEFAULT_TX_POWER_DBM: Final = 20.0  # an ESP32's maximum transmit power
DEFAULT_SYSTEM_LOSS_DB: Final = 10.0  # PCB antennas, enclosures, polarisation mismatch
NOISE_FLOOR_DBM: Final = -95  # what an ESP32 reports as its noise floor
DEFAULT_ZERO_FRACTION: Final = 0.02  # share of frames with all-zero I/Q
AGC_TARGET: Final = 80.0  # the AGC puts the largest |I| or |Q| in (71, 80]
DEFAULT_RATE_HZ: Final = 20
# BLE: each node reports the devices it heard every 5 s (spaxel's firmware), each device's
# RSSI by the path loss engine.identity.ble assumes (−65 dBm at 1 m, exponent 2.5) plus
# Gaussian scatter (body shadowing, orientation and multipath: 3–6 dB indoors), and nothing
# weaker than the radio's sensitivity.
DEFAULT_BLE_EVERY_S: Final = 5.0
DEFAULT_BLE_SIGMA_DB: Final = 4.0
BLE_REFERENCE_DBM: Final = -65.0
BLE_PATH_LOSS_EXPONENT: Final = 2.5
BLE_SENSITIVITY_DBM: Final = -100.0
DEFAULT_CHANNEL: Final = 6
RIPPLE_DB_MAX: Final = 0.5  # amplitude of each of the two front-end ripple terms, at most
RIPPLE_PERIOD_SUBCARRIERS: Final = (20.0, 60.0)
TIMING_OFFSET_S: Final = 50e-9  # per-frame sampling offset τ ~ U(−50, 50) ns
BOOT_OFFSET_S: Final = (1.0, 3600.0)  # a node's uptime when the simulation starts
CLOCK_ERROR_PPM: Final = 20.0  # crystal tolerance, U(−20, 20) ppm
_REFERENCE_DBM: Final = -30.0  # the server normalises to this received level (spaxel)
_RSSI_RANGE: Final = (-127, -1)  # int8, and 0 would mean "do not normalise"

# Sub-streams of the simulator's seed, so that adding a draw to one never shifts another.
_STREAM_FRONT_END: Final = 1
_STREAM_CLOCKS: Final = 2
_STREAM_FRAMES: Final = 3

# 64 columns: signed subcarrier numbers, and which columns the radio reports (not null/guard).
_SIGNED_SUBCARRIER: Final = np.where(
    np.arange(HT20_SUBCARRIERS) < 32,
    np.arange(HT20_SUBCARRIERS),
    np.arange(HT20_SUBCARRIERS) - HT20_SUBCARRIERS,
).astype(np.float64)
_REPORTED: Final = np.array(
    [k not in NULL_SUBCARRIERS | GUARD_SUBCARRIERS for k in range(HT20_SUBCARRIERS)]
)

# One CSI frame as a numpy record: the wire layout of engine.sensing.nodes.protocol, packed.
_FRAME_DTYPE: Final = np.dtype(
    [
        ("node", "u1", (6,)),
        ("peer", "u1", (6,)),
        ("timestamp_us", "<u8"),
        ("rssi", "i1"),
        ("noise", "i1"),
        ("channel", "u1"),
        ("n_sub", "u1"),
        ("iq", "i1", (HT20_SUBCARRIERS, 2)),
    ]
)
assert _FRAME_DTYPE.itemsize == HEADER_BYTES + 2 * HT20_SUBCARRIERS


# --------------------------------------------------------------------------------- the scene


@dataclass(frozen=True)
class Room:
    """The room as a box: ``width_m`` along x, ``depth_m`` along y, ``height_m`` along z, with
    the origin at a floor corner (the site's axes)."""

    width_m: float
    depth_m: float
    height_m: float

    def __post_init__(self) -> None:
        for name in ("width_m", "depth_m", "height_m"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of metres, got {value!r}")

    def contains(self, position: Sequence[float], margin_m: float = 0.0) -> bool:
        """Whether ``position`` (x, y, z metres) lies in the room, at least ``margin_m`` from
        the walls (x and y only; the floor and ceiling are not walls)."""
        x, y, z = (float(v) for v in position)
        return (
            margin_m <= x <= self.width_m - margin_m
            and margin_m <= y <= self.depth_m - margin_m
            and 0.0 <= z <= self.height_m
        )


@dataclass(frozen=True)
class SimNode:
    """A simulated sensing node: its MAC (normalised to upper case, colon separated), its
    position (x, y, z metres, inside the room) and the ``node_id`` its hello announces (none
    when None)."""

    mac: str
    position: Vec3
    node_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "mac", normalise_mac(self.mac))
        x, y, z = (float(v) for v in self.position)
        if not all(math.isfinite(v) for v in (x, y, z)):
            raise ValueError(f"node {self.mac}: position must be finite, got {self.position!r}")
        object.__setattr__(self, "position", (x, y, z))


def sim_mac(index: int) -> str:
    """A locally administered MAC for simulated node ``index`` (0–65535):
    ``02:57:46:53:HH:LL`` ("WFS"), never one a real ESP32 has."""
    if not 0 <= index <= 0xFFFF:
        raise ValueError(f"simulated node index must be 0–65535, got {index}")
    return f"02:57:46:53:{index >> 8:02X}:{index & 0xFF:02X}"


def sim_ble_address(index: int) -> str:
    """A locally administered address for simulated walker ``index``'s BLE tag (0–65535):
    ``02:57:46:42:HH:LL`` ("WFB")."""
    if not 0 <= index <= 0xFFFF:
        raise ValueError(f"simulated tag index must be 0–65535, got {index}")
    return f"02:57:46:42:{index >> 8:02X}:{index & 0xFF:02X}"


def perimeter_nodes(
    room: Room, count: int, *, inset_m: float = 0.1, start_m: float = 0.0
) -> list[SimNode]:
    """``count`` nodes spread evenly around the walls, ``inset_m`` off them (wall mounts),
    the first ``start_m`` along the walls from the corner at the origin (0: in that corner),
    alternately low (0.5 m) and high (2.0 m, or 0.3 m below the ceiling), so that links
    cross the room at different heights. MACs from :func:`sim_mac`; node ids ``sim-1``,
    ``sim-2``, …"""
    if count < 1:
        raise ValueError(f"need at least one node, got {count}")
    floor = (room.width_m, room.depth_m)
    w, d = room.width_m - 2 * inset_m, room.depth_m - 2 * inset_m
    if w <= 0 or d <= 0:
        raise ValueError(f"inset {inset_m} m does not fit the room")
    perimeter = 2 * (w + d)
    low, high = min(0.5, room.height_m / 2), max(min(2.0, room.height_m - 0.3), 0.0)
    return [
        SimNode(
            sim_mac(i + 1),
            point_on_walls(
                start_m + perimeter * i / count, floor, low if i % 2 == 0 else high, inset_m
            ),
            f"sim-{i + 1}",
        )
        for i in range(count)
    ]


class Walker(Protocol):
    """Anything that walks: its body centre (x, y, z metres) at ``t_s`` seconds of simulated
    time, and its velocity (m/s)."""

    def position_at(self, t_s: float) -> Vec3: ...

    def velocity_at(self, t_s: float) -> Vec3: ...


ABSENT: Final = (-1000.0, -1000.0, 1.0)  # where a walker who has not entered yet stands


class EnteringWalker:
    """``walker``, who enters the room ``enter_at_s`` seconds into the simulation and then
    walks as ``walker`` would from its own time 0. Before that they stand at :data:`ABSENT`,
    far outside every link's Fresnel zones, where they change no frame: the room is empty
    while the links learn their baselines, as in a real installation."""

    def __init__(self, walker: Walker, enter_at_s: float) -> None:
        self._walker = walker
        self._enter = enter_at_s

    def position_at(self, t_s: float) -> Vec3:
        if t_s < self._enter:
            return ABSENT
        return self._walker.position_at(t_s - self._enter)

    def velocity_at(self, t_s: float) -> Vec3:
        if t_s < self._enter:
            return (0.0, 0.0, 0.0)
        return self._walker.velocity_at(t_s - self._enter)


@dataclass(frozen=True, slots=True)
class _Leg:
    t0: float
    t1: float
    x0: float
    y0: float
    x1: float
    y1: float


class RandomWalker:
    """A person walking at random in ``room`` (see the module docstring for the walk), from
    ``start`` (x, y; a random point of the inner area when None). ``seed`` makes the walk
    reproducible: an int or a numpy Generator, which the walker then owns. Legs are drawn as
    time is asked for and the last :data:`KEPT_LEGS` (about 2 hours) are kept, so
    :meth:`position_at` may go back that far (ValueError before). Not thread-safe."""

    def __init__(
        self,
        room: Room,
        seed: int | np.random.Generator,
        *,
        start: tuple[float, float] | None = None,
        speed_range_m_s: tuple[float, float] = WALK_SPEED_M_S,
        margin_m: float = WALL_MARGIN_M,
        height_m: float = BODY_HEIGHT_M,
    ) -> None:
        low_speed, high_speed = speed_range_m_s
        if not 0 < low_speed <= high_speed:
            raise ValueError(f"speed range must be 0 < low ≤ high, got {speed_range_m_s}")
        self._low = np.array([margin_m, margin_m])
        self._high = np.array([room.width_m - margin_m, room.depth_m - margin_m])
        if np.any(self._high <= self._low):
            raise ValueError(f"room {room} has no floor left {margin_m} m inside its walls")
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.speed_range_m_s = (float(low_speed), float(high_speed))
        self.margin_m = float(margin_m)
        self.height_m = float(height_m)
        if start is None:
            position = self._rng.uniform(self._low, self._high)
        else:
            position = np.asarray(start, dtype=np.float64).reshape(2)
            if np.any(position < self._low) or np.any(position > self._high):
                raise ValueError(f"start {start} is closer than {margin_m} m to a wall")
        self._position = position
        self._heading = float(self._rng.uniform(-math.pi, math.pi))
        self._legs: list[_Leg] = []
        self._starts: list[float] = []

    def position_at(self, t_s: float) -> Vec3:
        leg = self._leg_at(t_s)
        if leg is None:
            return (float(self._position[0]), float(self._position[1]), self.height_m)
        f = min(max((t_s - leg.t0) / (leg.t1 - leg.t0), 0.0), 1.0)
        return (leg.x0 + f * (leg.x1 - leg.x0), leg.y0 + f * (leg.y1 - leg.y0), self.height_m)

    def velocity_at(self, t_s: float) -> Vec3:
        leg = self._leg_at(t_s)
        if leg is None:
            return (0.0, 0.0, 0.0)
        duration = leg.t1 - leg.t0
        return ((leg.x1 - leg.x0) / duration, (leg.y1 - leg.y0) / duration, 0.0)

    def _leg_at(self, t_s: float) -> _Leg | None:
        if t_s < 0:
            return None
        if self._legs and t_s < self._legs[0].t0:
            raise ValueError(
                f"t = {t_s:g} s is older than the walk kept (from {self._legs[0].t0:g} s)"
            )
        while not self._legs or self._legs[-1].t1 <= t_s:
            self._add_leg()
        if len(self._legs) > KEPT_LEGS:  # a demo runs for weeks: keep the last hours only
            del self._legs[: KEPT_LEGS // 2], self._starts[: KEPT_LEGS // 2]
        return self._legs[bisect.bisect_right(self._starts, t_s) - 1]

    def _add_leg(self) -> None:
        rng = self._rng
        speed = float(rng.uniform(*self.speed_range_m_s))
        heading = self._heading + float(rng.normal(0.0, TURN_SIGMA_RAD))
        length = float(rng.uniform(*LEG_LENGTH_M))
        room_left = self._room_left(heading)
        if room_left < MIN_LEG_M:
            # Too close to a wall that way: turn towards a random point of the inner area
            # (which is convex, so the whole way there stays inside it).
            for _ in range(32):
                target = rng.uniform(self._low, self._high)
                span = target - self._position
                distance = float(np.hypot(span[0], span[1]))
                if distance >= MIN_LEG_M:
                    break
            if distance < 1e-6:  # a floor too small to go anywhere: stand for a moment
                span, distance = np.array([1e-6, 0.0]), 1e-6
            heading = math.atan2(span[1], span[0])
            room_left = max(self._room_left(heading), distance)
        length = max(min(length, room_left), 1e-6)
        start = self._position
        end = start + length * np.array([math.cos(heading), math.sin(heading)])
        end = np.clip(end, self._low, self._high)  # rounding only; the leg was cut to fit
        t0 = self._legs[-1].t1 if self._legs else 0.0
        t1 = t0 + length / speed
        self._legs.append(
            _Leg(t0, t1, float(start[0]), float(start[1]), float(end[0]), float(end[1]))
        )
        self._starts.append(t0)
        self._position = end
        self._heading = heading

    def _room_left(self, heading: float) -> float:
        """Metres from the current position to the inner area's edge along ``heading``."""
        best = math.inf
        for axis, component in enumerate((math.cos(heading), math.sin(heading))):
            if component > 1e-12:
                best = min(best, (self._high[axis] - self._position[axis]) / component)
            elif component < -1e-12:
                best = min(best, (self._low[axis] - self._position[axis]) / component)
        return max(best, 0.0)


class ScriptedWalker:
    """A person walking through ``waypoints`` (x, y metres) in order at ``speed_m_s``, body
    centre at ``height_m``, starting at the first waypoint at t = 0 and then standing at the
    last one; with ``loop`` the walk returns to the first waypoint and starts again. One
    waypoint is a person standing there."""

    def __init__(
        self,
        waypoints: Iterable[tuple[float, float]],
        speed_m_s: float,
        *,
        height_m: float = BODY_HEIGHT_M,
        loop: bool = False,
    ) -> None:
        points = np.asarray(list(waypoints), dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
            raise ValueError("waypoints must be one or more (x, y) pairs")
        if not np.all(np.isfinite(points)):
            raise ValueError("waypoints must be finite")
        if not (math.isfinite(speed_m_s) and speed_m_s > 0):
            raise ValueError(f"speed must be positive, got {speed_m_s!r}")
        self.waypoints: tuple[tuple[float, float], ...] = tuple(
            (float(x), float(y)) for x, y in points
        )
        self.speed_m_s = float(speed_m_s)
        self.height_m = float(height_m)
        self.loop = loop
        path = np.vstack([points, points[:1]]) if loop and len(points) > 1 else points
        self._path = path
        steps = np.hypot(*np.diff(path, axis=0).T) if len(path) > 1 else np.zeros(0)
        self._distance = np.concatenate([[0.0], np.cumsum(steps)])

    def position_at(self, t_s: float) -> Vec3:
        s = self._arc(t_s)
        x, y = (float(np.interp(s, self._distance, self._path[:, i])) for i in (0, 1))
        return (x, y, self.height_m)

    def velocity_at(self, t_s: float) -> Vec3:
        total = float(self._distance[-1])
        if total == 0.0 or t_s < 0 or (not self.loop and self.speed_m_s * t_s >= total):
            return (0.0, 0.0, 0.0)
        s = self._arc(t_s)
        i = min(int(np.searchsorted(self._distance, s, side="right")) - 1, len(self._path) - 2)
        while i > 0 and self._distance[i + 1] == self._distance[i]:
            i -= 1
        step = self._path[i + 1] - self._path[i]
        length = float(np.hypot(step[0], step[1])) or 1.0
        return (
            float(step[0] / length * self.speed_m_s),
            float(step[1] / length * self.speed_m_s),
            0.0,
        )

    def _arc(self, t_s: float) -> float:
        total = float(self._distance[-1])
        s = self.speed_m_s * max(t_s, 0.0)
        if total == 0.0:
            return 0.0
        return s % total if self.loop else min(s, total)


def random_walkers(room: Room, count: int, seed: int) -> list[RandomWalker]:
    """``count`` random walkers in ``room``, each with its own generator spawned from
    ``seed`` (so adding a walker does not change the others' walks)."""
    children = np.random.SeedSequence(seed).spawn(count)
    return [RandomWalker(room, np.random.default_rng(child)) for child in children]


# ------------------------------------------------------------------------------ the channel


class Simulator:
    """The CSI every directed pair of ``nodes`` measures while ``walkers`` walk in ``room``
    (the model is in the module docstring).

    ``rate_hz``: frames per second per directed pair when the server's config gives none.
    ``seed`` (≥ 0): the radios' front ends, the node clocks and every frame's noise, offsets
    and zero frames. ``channel``: the WiFi channel all nodes use (1–14). ``reporter``: which
    end of a pair sends its frames, ``"rx"`` or ``"tx"``. ``snr_db``: the CSI estimation SNR
    (None: no noise at all, only int8 quantisation). ``zero_fraction``: share of all-zero
    frames. ``tx_power_dbm`` and ``system_loss_db``: the link budget behind the RSSI.

    Rows (directed pairs) are ordered by reporting node in ``nodes`` order, then by peer;
    :attr:`directed_pairs` gives (tx MAC, rx MAC) per row, :attr:`reporting_macs` the sender.
    Not thread-safe.
    """

    def __init__(
        self,
        room: Room,
        nodes: Sequence[SimNode],
        walkers: Sequence[Walker] = (),
        *,
        rate_hz: float = DEFAULT_RATE_HZ,
        seed: int = 0,
        channel: int = DEFAULT_CHANNEL,
        reporter: Reporter = "rx",
        snr_db: float | None = DEFAULT_SNR_DB,
        zero_fraction: float = DEFAULT_ZERO_FRACTION,
        tx_power_dbm: float = DEFAULT_TX_POWER_DBM,
        system_loss_db: float = DEFAULT_SYSTEM_LOSS_DB,
        ble_devices: Sequence[str | None] = (),
        ble_every_s: float = DEFAULT_BLE_EVERY_S,
        ble_sigma_db: float = DEFAULT_BLE_SIGMA_DB,
    ) -> None:
        if reporter not in ("rx", "tx"):
            raise ValueError(f'reporter must be "rx" or "tx", got {reporter!r}')
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be positive, got {rate_hz!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be an integer ≥ 0, got {seed!r}")
        if not 0.0 <= zero_fraction <= 1.0:
            raise ValueError(f"zero_fraction must be within 0–1, got {zero_fraction!r}")
        if snr_db is not None and not math.isfinite(snr_db):
            raise ValueError(f"snr_db must be finite or None, got {snr_db!r}")
        self.room = room
        self.nodes: tuple[SimNode, ...] = tuple(nodes)
        self.walkers: tuple[Walker, ...] = tuple(walkers)
        self.rate_hz = float(rate_hz)
        self.seed = seed
        self.channel = channel
        self.reporter: Reporter = reporter
        self.snr_db = snr_db
        self.zero_fraction = float(zero_fraction)
        self.tx_power_dbm = float(tx_power_dbm)
        self.system_loss_db = float(system_loss_db)
        if len(ble_devices) > len(self.walkers):
            raise ValueError(
                f"{len(ble_devices)} BLE devices for {len(self.walkers)} walkers: one at most each"
            )
        if not (math.isfinite(ble_every_s) and ble_every_s > 0):
            raise ValueError(f"ble_every_s must be positive, got {ble_every_s!r}")
        self.ble_devices: tuple[str | None, ...] = tuple(
            None if a is None else a.upper() for a in ble_devices
        )
        self.ble_every_s = float(ble_every_s)
        self.ble_sigma_db = float(ble_sigma_db)
        self.wavelength_m = wavelength_m(channel)  # ValueError for a channel outside 1–14
        self.centre_frequency_hz = SPEED_OF_LIGHT_M_S / self.wavelength_m
        self._check_scene()

        n = len(self.nodes)
        self._index = {node.mac: i for i, node in enumerate(self.nodes)}
        self._positions = np.array(
            [node.position for node in self.nodes], dtype=np.float64
        ).reshape(n, 3)
        reporting = np.repeat(np.arange(n), max(n - 1, 0))
        peers = np.array([q for r in range(n) for q in range(n) if q != r], dtype=np.int64)
        self._reporting = reporting.astype(np.int64)
        tx, rx = (peers, self._reporting) if reporter == "rx" else (self._reporting, peers)
        self._tx, self._rx = tx, rx
        self._rows_of = [np.arange(r * (n - 1), (r + 1) * (n - 1)) for r in range(n)]
        self.directed_pairs: tuple[tuple[str, str], ...] = tuple(
            (self.nodes[a].mac, self.nodes[b].mac) for a, b in zip(tx, rx, strict=True)
        )
        self.reporting_macs: tuple[str, ...] = tuple(self.nodes[r].mac for r in reporting)

        # Per-subcarrier wave numbers 2π·f_k/c (rad/m).
        frequencies = self.centre_frequency_hz + _SIGNED_SUBCARRIER * SUBCARRIER_SPACING_HZ
        self._wave_number = 2.0 * math.pi * frequencies / SPEED_OF_LIGHT_M_S
        self._direct_m = np.linalg.norm(self._positions[tx] - self._positions[rx], axis=1)
        self._setup_channel()
        self._setup_clocks()
        self._template = self._frame_template(peers)

    # --- public API -----------------------------------------------------------------------

    def truth(self, t_s: float) -> FloatArray:
        """Where the walkers' body centres are at ``t_s``: shape (walkers, 3), metres."""
        if not self.walkers:
            return np.zeros((0, 3))
        return np.array([w.position_at(t_s) for w in self.walkers], dtype=np.float64)

    def ble_report(self, mac: str, t_s: float) -> list[dict[str, Any]]:
        """The devices node ``mac`` hears at ``t_s``: ``[{"addr", "rssi_dbm"}]`` for each
        walker's BLE device (see :data:`DEFAULT_BLE_SIGMA_DB`), deterministic in (seed, t, node)
        like the frames."""
        node = self._index[mac]
        rng = np.random.default_rng([self.seed, round(t_s * 1e6), node, 0xB1E])
        heard: list[dict[str, Any]] = []
        for walker, address in zip(self.walkers, self.ble_devices, strict=False):
            if address is None:
                continue
            distance = max(
                float(np.linalg.norm(np.asarray(walker.position_at(t_s)) - self._positions[node])),
                0.1,
            )
            rssi = (
                BLE_REFERENCE_DBM
                - 10.0 * BLE_PATH_LOSS_EXPONENT * math.log10(distance)
                + rng.normal(0.0, self.ble_sigma_db)
            )
            if rssi >= BLE_SENSITIVITY_DBM:
                heard.append({"addr": address, "rssi_dbm": round(rssi)})
        return heard

    def frames_at(self, t_s: float) -> list[tuple[str, bytes]]:
        """Every directed pair's CSI frame at ``t_s`` (seconds of simulated time, ≥ 0), as
        (MAC of the node that sends it, the binary frame), in :attr:`directed_pairs` order."""
        return self._frames(t_s, range(len(self.nodes)))

    def frames_for(self, mac: str, t_s: float) -> list[bytes]:
        """The frames node ``mac`` sends at ``t_s``: its part of :meth:`frames_at`, the same
        bytes, one per peer in :meth:`peers_of` order."""
        index = self._index[normalise_mac(mac)]
        return [frame for _, frame in self._frames(t_s, [index])]

    def peers_of(self, mac: str) -> tuple[str, ...]:
        """The other nodes' MACs in ``nodes`` order: the order of :meth:`frames_for`."""
        wanted = normalise_mac(mac)
        return tuple(node.mac for node in self.nodes if node.mac != wanted)

    def channel_at(self, t_s: float) -> ComplexArray:
        """The noiseless channel of every directed pair at ``t_s`` in the units the server's
        normalisation recovers (``|I + jQ| · 10^((−30 − RSSI)/20)`` ≈ ``|channel_at|``, before
        noise, offsets and quantisation): shape (pairs, 64), zero on null and guard
        subcarriers. For tests and figures."""
        return self._channel(t_s, np.arange(len(self.directed_pairs)))

    def node_clock_us(self, mac: str, t_s: float) -> int:
        """Node ``mac``'s clock at ``t_s``: µs since it booted (its own offset and drift)."""
        i = self._index[normalise_mac(mac)]
        return int(self._boot_us[i] + round(t_s * 1e6 * self._clock_rate[i]))

    def model_summary(self) -> str:
        """One line for the UI saying what is simulated."""
        snr = "no noise" if self.snr_db is None else f"{self.snr_db:g} dB SNR"
        return (
            f"Simulated CSI: {len(self.nodes)} nodes, {len(self.walkers)} walkers; "
            f"free-space direct path, one wall reflection (Γ {WALL_REFLECTION:g}), one path per "
            f"walker (Γ {BODY_REFLECTION:g}, 1/n² Fresnel zones ≤ {MAX_FRESNEL_ZONE}), {snr}, "
            f"int8 with AGC, channel {self.channel}, {self.zero_fraction:.0%} all-zero frames"
        )

    # --- set-up ---------------------------------------------------------------------------

    def _check_scene(self) -> None:
        macs = [node.mac for node in self.nodes]
        if len(set(macs)) != len(macs):
            raise ValueError("node MACs must be distinct")
        for node in self.nodes:
            if not self.room.contains(node.position):
                raise ValueError(f"node {node.mac} at {node.position} is outside the room")
        for i, a in enumerate(self.nodes):
            for b in self.nodes[i + 1 :]:
                if math.dist(a.position, b.position) < 0.05:
                    raise ValueError(f"nodes {a.mac} and {b.mac} are at the same position")
        for walker in self.walkers:
            if isinstance(walker, ScriptedWalker):
                for x, y in walker.waypoints:
                    if not self.room.contains((x, y, 0.0)):
                        raise ValueError(f"waypoint {(x, y)} is outside the room")

    def _setup_channel(self) -> None:
        """The empty room's channel per row, the front ends, and the per-row constants of the
        receiver (link units K, noise level)."""
        tx, rx = self._tx, self._rx
        a, b = self._positions[tx], self._positions[rx]
        static = self._path(self._direct_m, np.ones(len(tx)))
        image = _image_in_nearest_wall(a, (a + b) / 2.0, self.room)
        wall_m = np.linalg.norm(image - b, axis=1)
        static += self._path(wall_m, np.full(len(tx), WALL_REFLECTION))

        rng = np.random.default_rng([self.seed, _STREAM_FRONT_END])
        n = len(self.nodes)
        transmit, receive = _front_end_response(rng, n), _front_end_response(rng, n)
        front_end = transmit[tx] * receive[rx] * _REPORTED  # (rows, 64), zero on null/guard
        measured = front_end * static

        data = _REPORTED
        mean_power = np.mean(np.abs(measured[:, data]) ** 2, axis=1) if len(tx) else np.zeros(0)
        static_dbm = self.tx_power_dbm - self.system_loss_db + 10.0 * np.log10(mean_power)
        peak = np.max(np.abs(measured), axis=1) if len(tx) else np.zeros(0)
        # K: the empty room's largest |x_k| is what the AGC maps to its target at RSSI =
        # P_static, so that RSSI reads the link budget (module docstring, "AGC and int8").
        units = AGC_TARGET * 10.0 ** ((_REFERENCE_DBM - static_dbm) / 20.0) / peak
        self._static: ComplexArray = units[:, None] * measured  # x of the empty room
        self._scale: ComplexArray = units[:, None] * front_end  # propagation term → x
        if self.snr_db is None:
            self._noise_sigma = np.zeros(len(tx))
        else:
            snr = np.minimum(self.snr_db, static_dbm - NOISE_FLOOR_DBM)
            x_power = mean_power * units**2
            self._noise_sigma = np.sqrt(x_power * 10.0 ** (-snr / 10.0))

    def _setup_clocks(self) -> None:
        rng = np.random.default_rng([self.seed, _STREAM_CLOCKS])
        n = len(self.nodes)
        self._boot_us = np.round(rng.uniform(*BOOT_OFFSET_S, size=n) * 1e6).astype(np.int64)
        self._clock_rate = 1.0 + rng.uniform(-CLOCK_ERROR_PPM, CLOCK_ERROR_PPM, size=n) * 1e-6

    def _frame_template(self, peers: IntArray) -> npt.NDArray[np.void]:
        rows = len(peers)
        template = np.zeros(rows, dtype=_FRAME_DTYPE)
        macs = np.array(
            [bytearray(bytes.fromhex(node.mac.replace(":", ""))) for node in self.nodes],
            dtype=np.uint8,
        ).reshape(len(self.nodes), 6)
        if rows:
            template["node"] = macs[self._reporting]
            template["peer"] = macs[peers]
        template["noise"] = NOISE_FLOOR_DBM
        template["channel"] = self.channel
        template["n_sub"] = HT20_SUBCARRIERS
        return template

    # --- per frame ------------------------------------------------------------------------

    def _path(self, length_m: FloatArray, gain: FloatArray) -> ComplexArray:
        """g · λ/(4πL) · exp(−j·k_f·L) per row and subcarrier, for path lengths (rows,)."""
        amplitude = gain * self.wavelength_m / (4.0 * math.pi * length_m)
        phase = length_m[:, None] * self._wave_number[None, :]
        result: ComplexArray = amplitude[:, None] * np.exp(-1j * phase)
        return result

    def _channel(self, t_s: float, rows: IntArray) -> ComplexArray:
        """x = K · T_tx · (static + walker paths) · R_rx for ``rows`` at ``t_s``."""
        x = self._static[rows].copy()
        if not self.walkers or len(rows) == 0:
            return x
        bodies = self.truth(t_s)  # (W, 3)
        to_node = np.linalg.norm(bodies[:, None, :] - self._positions[None, :, :], axis=2)
        path_m = to_node[:, self._tx[rows]] + to_node[:, self._rx[rows]]  # (W, rows)
        half_wave = self.wavelength_m / 2.0
        zone = np.maximum(np.ceil((path_m - self._direct_m[rows]) / half_wave - 1e-9), 1.0)
        fresnel = np.where(zone <= MAX_FRESNEL_ZONE, 1.0 / zone**2, 0.0)
        walking = np.zeros_like(x)
        for w in range(len(bodies)):
            near = np.flatnonzero(fresnel[w])  # past zone 5 a walker adds nothing
            if near.size:
                # A walker may be a smaller reflector than a body (a dropped bag or phone).
                gamma = BODY_REFLECTION * float(getattr(self.walkers[w], "reflectivity", 1.0))
                walking[near] += self._path(path_m[w, near], gamma * fresnel[w, near])
        x += self._scale[rows] * walking
        return x

    def _frames(self, t_s: float, reporters: Iterable[int]) -> list[tuple[str, bytes]]:
        if not (math.isfinite(t_s) and t_s >= 0):
            raise ValueError(f"t_s must be a finite time ≥ 0, got {t_s!r}")
        reporters = list(reporters)
        if len(self.nodes) < 2 or not reporters:
            return []
        rows = np.concatenate([self._rows_of[r] for r in reporters])
        x = self._channel(t_s, rows)
        n_rows, t_us = len(rows), round(t_s * 1e6)

        noise = np.empty((n_rows, HT20_SUBCARRIERS, 2))
        carrier = np.empty(n_rows)
        timing = np.empty(n_rows)
        zero = np.empty(n_rows, dtype=np.bool_)
        start = 0
        for r in reporters:  # one generator per reporting node: frames_for ⊂ frames_at
            count = len(self._rows_of[r])
            rng = np.random.default_rng([self.seed, _STREAM_FRAMES, t_us, r])
            noise[start : start + count] = rng.standard_normal((count, HT20_SUBCARRIERS, 2))
            carrier[start : start + count] = rng.uniform(-math.pi, math.pi, count)
            timing[start : start + count] = rng.uniform(-TIMING_OFFSET_S, TIMING_OFFSET_S, count)
            zero[start : start + count] = rng.random(count) < self.zero_fraction
            start += count

        sigma = self._noise_sigma[rows] / math.sqrt(2.0)  # per I and per Q
        x = x + (sigma[:, None] * (noise[..., 0] + 1j * noise[..., 1])) * _REPORTED
        ramp = 2.0 * math.pi * SUBCARRIER_SPACING_HZ * _SIGNED_SUBCARRIER
        x *= np.exp(1j * (carrier[:, None] + timing[:, None] * ramp[None, :]))

        # AGC: the integer RSSI that puts the largest |I| or |Q| in (target/1.122, target].
        peak = np.maximum(np.abs(x.real), np.abs(x.imag)).max(axis=1)
        with np.errstate(divide="ignore"):
            level = _REFERENCE_DBM - 20.0 * np.log10(peak / AGC_TARGET)
        rssi = np.clip(np.floor(np.nan_to_num(level, neginf=-127.0)), *_RSSI_RANGE)
        scale = 10.0 ** ((_REFERENCE_DBM - rssi) / 20.0)
        iq = np.empty((n_rows, HT20_SUBCARRIERS, 2))
        iq[..., 0] = x.real / scale[:, None]
        iq[..., 1] = x.imag / scale[:, None]
        quantised = np.clip(np.rint(iq), -128, 127).astype(np.int8)
        quantised[zero] = 0

        frames = self._template[rows].copy()
        frames["rssi"] = rssi.astype(np.int8)
        frames["iq"] = quantised
        reporting = self._reporting[rows]
        frames["timestamp_us"] = self._boot_us[reporting] + np.round(
            t_s * 1e6 * self._clock_rate[reporting]
        ).astype(np.int64)
        raw = frames.tobytes()
        size = _FRAME_DTYPE.itemsize
        macs = self.reporting_macs
        return [(macs[row], raw[i * size : (i + 1) * size]) for i, row in enumerate(rows)]


def _image_in_nearest_wall(points: FloatArray, midpoints: FloatArray, room: Room) -> FloatArray:
    """Each point mirrored in the side wall (x = 0, x = W, y = 0 or y = D) nearest to its
    link's midpoint."""
    distances = np.stack(
        [
            midpoints[:, 0],
            room.width_m - midpoints[:, 0],
            midpoints[:, 1],
            room.depth_m - midpoints[:, 1],
        ],
        axis=1,
    )
    nearest = np.argmin(distances, axis=1) if len(points) else np.zeros(0, dtype=np.int64)
    image = points.copy()
    walls = (0.0, room.width_m, 0.0, room.depth_m)
    for wall, plane in enumerate(walls):
        rows = nearest == wall
        axis = 0 if wall < 2 else 1
        image[rows, axis] = 2.0 * plane - points[rows, axis]
    return image


def _front_end_response(rng: np.random.Generator, nodes: int) -> FloatArray:
    """Each node's fixed amplitude response across the 64 subcarriers: two cosine ripple
    terms of up to 0.5 dB each (shape (nodes, 64), linear)."""
    amplitude_db = rng.uniform(0.0, RIPPLE_DB_MAX, size=(nodes, 2, 1))
    period = rng.uniform(*RIPPLE_PERIOD_SUBCARRIERS, size=(nodes, 2, 1))
    phase = rng.uniform(-math.pi, math.pi, size=(nodes, 2, 1))
    ripple_db = np.sum(
        amplitude_db * np.cos(2.0 * math.pi * _SIGNED_SUBCARRIER / period + phase), axis=1
    )
    response: FloatArray = 10.0 ** (ripple_db / 20.0)
    return response


# ---------------------------------------------------------------------------------- clients

NODE_PATH: Final = "/ws/node"
FIRMWARE_VERSION: Final = "watchfloor-sim"
CAPABILITIES: Final = ("csi", "ble")
TRANSMIT_ROLES: Final = frozenset({"tx", "tx_rx"})  # nodes whose packets others measure
RECEIVE_ROLES: Final = frozenset({"rx", "tx_rx"})  # nodes that measure their peers' packets
CONFIG_TIMEOUT_S: Final = 10.0  # how long a node waits for role and config after its hello
MAX_LAG_S: Final = 0.5  # further behind than this, a node skips ticks instead of bursting
SIM_FREE_HEAP_BYTES: Final = 180_000  # what the health message reports (typical ESP32-S3)
SIM_AP_RSSI_DBM: Final = -50


class StopFlag(Protocol):
    """Something to ask whether to stop: a ``threading.Event`` or an ``asyncio.Event``."""

    def is_set(self) -> bool: ...


class SendTally:
    """How many CSI frames a run's nodes have sent so far (all nodes together), readable from
    any thread while they run: a test that drives the nodes on a simulated clock compares it
    with what the server has received before it moves time on."""

    def __init__(self) -> None:
        self.frames = 0  # written by the event loop only


@dataclass(frozen=True)
class NodeRunReport:
    """What one simulated node did: the ``role`` and ``rate_hz`` the server gave it (None if it
    never did), CSI frames and health messages sent, ticks skipped because the loop fell
    behind, every ``reject`` reason received, and ``error``: why the connection ended early
    (refused, closed by the server, no config in time), None when it ran to the end."""

    mac: str
    role: str | None
    rate_hz: float | None
    frames_sent: int
    health_sent: int
    ticks_skipped: int
    rejects: tuple[str, ...]
    error: str | None


@dataclass(frozen=True)
class RunReport:
    """What :func:`run_nodes` did: one :class:`NodeRunReport` per node, in the simulator's
    node order, and the seconds it ran."""

    nodes: tuple[NodeRunReport, ...]
    duration_s: float

    @property
    def frames_sent(self) -> int:
        return sum(node.frames_sent for node in self.nodes)

    @property
    def frames_by_node(self) -> dict[str, int]:
        return {node.mac: node.frames_sent for node in self.nodes}

    @property
    def rejects(self) -> dict[str, tuple[str, ...]]:
        """Reject reasons by node MAC, for nodes that received any."""
        return {node.mac: node.rejects for node in self.nodes if node.rejects}

    def node(self, mac: str) -> NodeRunReport:
        wanted = normalise_mac(mac)
        return next(node for node in self.nodes if node.mac == wanted)


@dataclass
class _NodeState:
    """One node client's mutable state, owned by the event loop."""

    mac: str
    role: str | None = None
    rate_hz: float | None = None
    tx_slot_s: float = 0.0
    configured: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # role, config or close
    frames_sent: int = 0
    health_sent: int = 0
    ticks_skipped: int = 0
    rejects: list[str] = field(default_factory=list)
    error: str | None = None
    has_role: bool = False
    has_config: bool = False
    done: bool = False  # no longer connected (or never got going)

    @property
    def live_role(self) -> str | None:
        """The role while the node is configured and connected, else None."""
        if self.done or self.closed.is_set() or not self.configured.is_set():
            return None
        return self.role

    def report(self) -> NodeRunReport:
        return NodeRunReport(
            self.mac,
            self.role,
            self.rate_hz,
            self.frames_sent,
            self.health_sent,
            self.ticks_skipped,
            tuple(self.rejects),
            self.error,
        )


def node_endpoint(url: str) -> str:
    """The node WebSocket URL for a server ``url``: ``ws://host:port`` gets ``/ws/node``
    appended; a URL that already ends in it is kept; ``http(s)`` becomes ``ws(s)``."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss"):
        raise ValueError(f"not a WebSocket URL: {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(NODE_PATH):
        path += NODE_PATH
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def hello_message(
    simulator: Simulator, node: SimNode, token: str | None, t_s: float
) -> dict[str, Any]:
    """The ``hello`` a simulated node sends first (``t_s``: simulated time, for its uptime)."""
    x, y, z = node.position
    hello: dict[str, Any] = {
        "type": "hello",
        "mac": node.mac,
        "firmware_version": FIRMWARE_VERSION,
        "capabilities": list(CAPABILITIES),
        "uptime_ms": simulator.node_clock_us(node.mac, t_s) // 1000,
        "ap_channel": simulator.channel,
        "wifi_rssi": SIM_AP_RSSI_DBM,
        "pos_x": x,
        "pos_y": y,
        "pos_z": z,
    }
    if node.node_id is not None:
        hello["node_id"] = node.node_id
    if token is not None:
        hello["token"] = token
    return hello


def health_message(
    simulator: Simulator, node: SimNode, rate_hz: float, t_s: float
) -> dict[str, Any]:
    """A simulated node's ``health`` at simulated time ``t_s``."""
    uptime_ms = simulator.node_clock_us(node.mac, t_s) // 1000
    return {
        "type": "health",
        "mac": node.mac,
        "timestamp_ms": uptime_ms,
        "free_heap_bytes": SIM_FREE_HEAP_BYTES,
        "wifi_rssi_dbm": SIM_AP_RSSI_DBM,
        "uptime_ms": uptime_ms,
        "csi_rate_hz": rate_hz,
        "wifi_channel": simulator.channel,
    }


async def run_nodes(
    url: str,
    simulator: Simulator,
    *,
    duration_s: float | None,
    token_for: Callable[[str], str | None],
    health_every_s: float = 5.0,
    time_source: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    stop_event: StopFlag | None = None,
    config_timeout_s: float = CONFIG_TIMEOUT_S,
    clock: Clock | None = None,
    tally: SendTally | None = None,
) -> RunReport:
    """Run every node of ``simulator`` as a client of the node server at ``url``
    (``ws://host:port``; ``/ws/node`` is appended) and return what each did.

    Each node opens its own WebSocket, sends its ``hello`` (MAC, firmware "watchfloor-sim",
    capabilities csi and ble, node id, position pos_x/pos_y/pos_z, and ``token_for(mac)``
    when that is not None), and waits up to ``config_timeout_s`` for ``role`` and ``config``.
    Then, from the next tick on, it sends the frames it reports (:meth:`Simulator.frames_for`)
    every 1/rate_hz seconds (the config's ``rate_hz``, later configs included; the simulator's
    own when the config has none), offset by the config's ``tx_slot_us``, and a ``health``
    message every ``health_every_s``. Roles decide which links are measured, as on real
    nodes: a link tx → rx needs its transmitter in role ``tx`` or ``tx_rx`` and its receiver in
    ``rx`` or ``tx_rx``, both connected and configured; its frames go out on the reporting
    end's connection (``simulator.reporter``). Nodes in ``idle`` or ``passive`` (which would
    listen to the access point, not simulated) send health only. A node reads and records
    what the server sends (role, config, reject) and answers nothing; the WebSocket library
    answers pings. A ``reject`` or a close ends that node; the others carry on.

    Simulated time is ``time_source()`` seconds since the call (monotonic), shared by all
    nodes; frames for t ≥ ``duration_s`` are not sent (None: run until ``stop_event`` is set).
    ``sleep`` waits in that time. Given a ``clock`` (an engine :class:`~engine.clock.Clock`),
    time is ``clock.monotonic()`` unless ``time_source`` says otherwise; on any clock but
    the machine's (:class:`~engine.clock.RealClock`), each node waits for its next tick in
    ``clock.wait`` on a thread of the run's own (``sensing-sim-wait``, one per node; a
    ``threading.Event`` ``stop_event`` ends the wait at once): on a
    :class:`~engine.clock.SimulatedClock` the nodes then send exactly when a test moves time,
    as fast as it does. Otherwise time is ``time.monotonic()`` (or the real clock's) and
    waits ``asyncio.sleep``. ``tally`` counts the frames sent as they go. The 10 s wait for role
    and config is about the network, so it stays on real time. Runs on the caller's event
    loop; the simulator must not be used by another thread meanwhile.
    """
    if not (math.isfinite(health_every_s) and health_every_s > 0):
        raise ValueError(f"health_every_s must be positive, got {health_every_s!r}")
    if clock is None or isinstance(clock, RealClock):
        # The machine's clock needs no thread to wait on: the event loop's sleep is the
        # same wait (a thread hop per node and tick cost more than the frames themselves).
        return await _run_nodes(
            url,
            simulator,
            duration_s=duration_s,
            token_for=token_for,
            health_every_s=health_every_s,
            time_source=(
                (time.monotonic if clock is None else clock.monotonic)
                if time_source is None
                else time_source
            ),
            sleep=asyncio.sleep if sleep is None else sleep,
            stop_event=stop_event,
            config_timeout_s=config_timeout_s,
            tally=tally,
        )
    waits = ThreadPoolExecutor(
        max_workers=max(len(simulator.nodes), 1), thread_name_prefix="sensing-sim-wait"
    )
    woken = stop_event if isinstance(stop_event, threading.Event) else threading.Event()
    loop = asyncio.get_running_loop()

    async def clock_sleep(seconds: float) -> None:
        await loop.run_in_executor(waits, clock.wait, woken, seconds)

    try:
        return await _run_nodes(
            url,
            simulator,
            duration_s=duration_s,
            token_for=token_for,
            health_every_s=health_every_s,
            time_source=clock.monotonic if time_source is None else time_source,
            sleep=clock_sleep if sleep is None else sleep,
            stop_event=stop_event,
            config_timeout_s=config_timeout_s,
            tally=tally,
        )
    finally:
        if woken is not stop_event:
            woken.set()  # a wait left behind by a cancelled node returns at once
        waits.shutdown(wait=True)


async def _run_nodes(
    url: str,
    simulator: Simulator,
    *,
    duration_s: float | None,
    token_for: Callable[[str], str | None],
    health_every_s: float,
    time_source: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    stop_event: StopFlag | None,
    config_timeout_s: float,
    tally: SendTally | None,
) -> RunReport:
    endpoint = node_endpoint(url)
    start = time_source()
    states = {node.mac: _NodeState(node.mac) for node in simulator.nodes}

    def now() -> float:
        return time_source() - start

    tasks = [
        asyncio.create_task(
            _run_node(
                endpoint,
                simulator,
                node,
                token_for(node.mac),
                states,
                duration_s=duration_s,
                health_every_s=health_every_s,
                now=now,
                sleep=sleep,
                stop_event=stop_event,
                config_timeout_s=config_timeout_s,
                tally=tally,
            ),
            name=f"sim-node-{node.mac}",
        )
        for node in simulator.nodes
    ]
    reports = await asyncio.gather(*tasks)
    return RunReport(tuple(reports), now())


async def _run_node(
    endpoint: str,
    simulator: Simulator,
    node: SimNode,
    token: str | None,
    states: Mapping[str, _NodeState],
    *,
    duration_s: float | None,
    health_every_s: float,
    now: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    stop_event: StopFlag | None,
    config_timeout_s: float,
    tally: SendTally | None,
) -> NodeRunReport:
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    state = states[node.mac]
    try:
        # No proxy (a site's loopback server), no compression and no pings of our own:
        # an ESP32 node negotiates neither and only answers the server's pings.
        async with connect(
            endpoint,
            proxy=None,
            compression=None,
            ping_interval=None,
            open_timeout=config_timeout_s,
        ) as websocket:
            await websocket.send(json.dumps(hello_message(simulator, node, token, now())))
            reader = asyncio.create_task(_read_server(websocket, state))
            try:
                if await _wait_configured(state, config_timeout_s, stop_event):
                    await _send_frames(
                        websocket,
                        simulator,
                        node,
                        states,
                        duration_s=duration_s,
                        health_every_s=health_every_s,
                        now=now,
                        sleep=sleep,
                        stop_event=stop_event,
                        tally=tally,
                    )
                elif not state.closed.is_set() and not _stopped(stop_event):
                    state.error = f"no role and config within {config_timeout_s:g} s"
            finally:
                state.done = True  # its peers stop measuring it
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
    except (OSError, TimeoutError, WebSocketException) as error:
        if state.error is None:
            state.error = f"connection failed: {error}"
    return state.report()


async def _read_server(websocket: Any, state: _NodeState) -> None:
    """Record what the server sends until it closes the connection."""
    from websockets.exceptions import ConnectionClosed

    try:
        async for message in websocket:
            if not isinstance(message, str):
                continue  # a server has nothing binary to say to a node
            try:
                fields = json.loads(message)
            except ValueError:
                continue
            if not isinstance(fields, dict):
                continue
            kind = fields.get("type")
            if kind == "reject":
                state.rejects.append(str(fields.get("reason", "")))
            elif kind == "role":
                state.role = str(fields.get("role"))
                state.has_role = True
            elif kind == "config":
                rate = fields.get("rate_hz")
                if isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0:
                    state.rate_hz = float(rate)
                slot = fields.get("tx_slot_us")
                if isinstance(slot, int | float) and not isinstance(slot, bool) and slot >= 0:
                    state.tx_slot_s = float(slot) * 1e-6
                state.has_config = True
            if state.has_role and state.has_config:
                state.configured.set()
            state.changed.set()
        close = getattr(websocket, "close_code", None)
        if close not in (None, 1000) and state.error is None:
            reason = getattr(websocket, "close_reason", "") or ""
            state.error = f"closed by the server ({close}{': ' + reason if reason else ''})"
    except ConnectionClosed as closed:
        if state.error is None:
            state.error = f"connection lost ({closed})"
    finally:
        if state.rejects:  # the reason beats "connection lost"
            state.error = f"rejected: {state.rejects[-1]}"
        state.closed.set()
        state.changed.set()


async def _wait_configured(
    state: _NodeState, timeout_s: float, stop_event: StopFlag | None
) -> bool:
    """Wait for role and config; False on timeout (real seconds), close or stop (looked at
    every 0.1 s)."""
    deadline = time.monotonic() + timeout_s
    while not state.configured.is_set():
        left = deadline - time.monotonic()
        if state.closed.is_set() or _stopped(stop_event) or left <= 0:
            return False
        state.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.changed.wait(), timeout=min(left, 0.1))
    return not state.closed.is_set()


async def _send_frames(
    websocket: Any,
    simulator: Simulator,
    node: SimNode,
    states: Mapping[str, _NodeState],
    *,
    duration_s: float | None,
    health_every_s: float,
    now: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    stop_event: StopFlag | None,
    tally: SendTally | None,
) -> None:
    from websockets.exceptions import ConnectionClosed

    state = states[node.mac]
    peers = simulator.peers_of(node.mac)
    # With reporter "rx" a node reports what it receives from transmitting peers; with "tx"
    # what its receiving peers measured of its own packets.
    mine, theirs = (
        (RECEIVE_ROLES, TRANSMIT_ROLES)
        if simulator.reporter == "rx"
        else (TRANSMIT_ROLES, RECEIVE_ROLES)
    )
    rate = state.rate_hz or simulator.rate_hz
    # The first tick after configuration, on the node's slot within the frame period.
    next_t = (math.floor(now() * rate) + 1) / rate + state.tx_slot_s
    next_health = now() + health_every_s
    # Nodes' BLE reports are spread over the interval, as unsynchronised nodes' would be.
    next_ble = now() + simulator.ble_every_s * (simulator.nodes.index(node) + 1) / len(
        simulator.nodes
    )
    try:
        while not state.closed.is_set() and not _stopped(stop_event):
            rate = state.rate_hz or simulator.rate_hz
            if duration_s is not None and next_t >= duration_s:
                break
            delay = next_t - now()
            if delay > 0:
                await sleep(delay)
                if state.closed.is_set() or _stopped(stop_event):
                    break
            elif -delay > MAX_LAG_S:
                skipped = math.floor(-delay * rate)
                state.ticks_skipped += skipped
                next_t += skipped / rate
            # Reports before the tick's frames: on one connection, a frame received means the
            # reports sent before it were too (a test on a simulated clock counts frames).
            if now() >= next_health:
                message = health_message(simulator, node, rate, now())
                await websocket.send(json.dumps(message))
                state.health_sent += 1
                next_health += health_every_s
            if any(simulator.ble_devices) and now() >= next_ble:
                devices = simulator.ble_report(node.mac, now())
                uptime_ms = simulator.node_clock_us(node.mac, now()) // 1000
                await websocket.send(
                    json.dumps(
                        {
                            "type": "ble",
                            "mac": node.mac,
                            "timestamp_ms": uptime_ms,
                            "devices": devices,
                        }
                    )
                )
                next_ble += simulator.ble_every_s
            if state.role in mine:
                frames = simulator.frames_for(node.mac, next_t)
                for peer, frame in zip(peers, frames, strict=True):
                    if states[peer].live_role in theirs:
                        await websocket.send(frame)
                        state.frames_sent += 1
                        if tally is not None:
                            tally.frames += 1
            next_t += 1.0 / rate
    except ConnectionClosed as closed:
        if state.error is None:
            state.error = f"connection lost ({closed})"


def _stopped(stop_event: StopFlag | None) -> bool:
    return stop_event is not None and stop_event.is_set()


def run_nodes_blocking(url: str, simulator: Simulator, **options: Any) -> RunReport:
    """:func:`run_nodes` to the end on the calling thread, in an event loop of its own (for
    callers that are not async). ``options`` are run_nodes's keyword arguments; pass a
    ``threading.Event`` as ``stop_event`` to end it from another thread."""
    return asyncio.run(run_nodes(url, simulator, **options))


class NodeSimulation:
    """:func:`run_nodes` on a thread of its own (named ``sensing-sim``): :meth:`start`, then
    :meth:`stop` (any thread) and :meth:`wait` for the :class:`RunReport`. The simulator
    belongs to that thread while it runs. With a ``clock`` the nodes wait on it (see
    :func:`run_nodes`); :attr:`frames_sent` counts their frames while they run."""

    def __init__(
        self,
        url: str,
        simulator: Simulator,
        *,
        duration_s: float | None,
        token_for: Callable[[str], str | None],
        health_every_s: float = 5.0,
        time_source: Callable[[], float] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._url = url
        self._simulator = simulator
        self._tally = SendTally()
        self._options: Mapping[str, Any] = {
            "duration_s": duration_s,
            "token_for": token_for,
            "health_every_s": health_every_s,
            "time_source": time_source,
            "clock": clock,
            "tally": self._tally,
        }
        self._stop = threading.Event()
        self._report: RunReport | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sensing-sim", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask every node to stop after its current tick; the connections close normally."""
        self._stop.set()

    def wait(self, timeout_s: float | None = None) -> RunReport | None:
        """The report once the run has ended (None if it is still running after
        ``timeout_s``). Re-raises what the run raised, if anything."""
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            return None
        if self._error is not None:
            raise self._error
        return self._report

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def frames_sent(self) -> int:
        """CSI frames the nodes have sent so far (any thread)."""
        return self._tally.frames

    def _run(self) -> None:
        try:
            self._report = run_nodes_blocking(
                self._url, self._simulator, stop_event=self._stop, **self._options
            )
        except BaseException as error:  # handed to wait() on the caller's thread
            self._error = error
