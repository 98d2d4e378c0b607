"""Postures for the sensing simulator: walkers that fall, sit down or lie down, and an object
that is dropped, so the fall detector (:mod:`engine.sensing.falls`) can be run and measured.

Each class wraps a :class:`~engine.sim.nodes.Walker` (a
:class:`~engine.sim.nodes.RandomWalker`, a
:class:`~engine.sim.nodes.ScriptedWalker`, or either inside an
:class:`~engine.sim.nodes.EnteringWalker`) and satisfies the same protocol: the body
centre (x, y, z metres) and velocity (m/s) at ``t_s`` seconds of the wrapped walker's time.
Before ``at_s`` the wrapper is the walker; from ``at_s`` on the body moves along a fixed
profile from where the walker was at ``at_s`` and then stays in its final posture. Everything
is deterministic (the only randomness, a sitter's small movements, comes from ``seed``).

The motions, body centre starting at the walker's height (1.0 m):

- :class:`Fall`: to ``lying_height_m`` (0.2 m) in ``duration_s`` (0.6 s) with constant
  downward acceleration, z(τ) = z₀ − Δz·(τ/T)², as a body toppling over accelerates until the
  floor stops it: peak vertical speed 2·Δz/T at impact (2.7 m/s for 0.8 m in 0.6 s; free fall
  over 0.8 m would take 0.40 s and reach 4.0 m/s, a toppling body is slower), and a drop of
  Δz within well under a second. The centre moves ``slide_m`` (0.6 m, about half a body
  length) along the fall direction on the same profile, then lies still.
- :class:`SitDown`: to ``seat_height_m`` (0.6 m) in ``duration_s`` (1.2 s) on a cosine
  profile (peak speed π/2·Δz/T = 0.52 m/s), then sits with small movements: every few seconds
  a sway of up to ``fidget_m`` (5 cm) horizontally and 2 cm vertically lasting about 1 s.
- :class:`LieDown`: to ``lying_height_m`` (0.45 m, a sofa) in ``duration_s`` (4 s) on a cosine
  profile (peak 0.22 m/s), the centre moving ``slide_m`` (0.3 m) sideways, then still.
- :func:`walk_to_fall`: a walker who walks in from elsewhere in a straight line at a walking
  pace and is, at ``at_s``, one slide short of a chosen spot and heading for it, so that a
  :class:`Fall` at ``at_s`` lands there (for measuring falls where a layout can confirm them).
- :class:`DroppedObject`: not a person but a small reflector (a bag, a phone) carried
  ``offset_m`` beside its holder at ``height_m`` (1.0 m) and dropped at ``at_s``: free fall
  under g to ``floor_m`` (0.05 m), 0.44 s and 4.3 m/s for 0.95 m, then it stays where it fell
  while the holder walks or stands on. Its ``reflectivity`` (0.2) scales the simulator's body
  reflection coefficient (see the simulator's channel model): a phone or bag reflects far less
  than a torso.

Not thread-safe only in the sense their wrapped walkers are not (a random walker draws legs
lazily); the wrappers themselves hold no mutable state.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from engine.sim.nodes import (
    WALK_SPEED_M_S,
    WALL_MARGIN_M,
    Room,
    ScriptedWalker,
    Vec3,
    Walker,
)

GRAVITY_M_S2: Final = 9.81
FALL_LYING_HEIGHT_M: Final = 0.2  # body centre of a person lying on the floor (torso ~0.2 m thick)
FALL_DURATION_S: Final = 0.6  # standing to the floor: 0.5–0.8 s in fall studies
FALL_SLIDE_M: Final = 0.6  # the centre ends about half a body length from the feet
SEAT_HEIGHT_M: Final = 0.6  # body centre of a seated person (seat at ~0.45 m)
SIT_DURATION_S: Final = 1.2
SOFA_LYING_HEIGHT_M: Final = 0.45  # lying on a sofa: seat at ~0.4 m, torso centre above it
LIE_DURATION_S: Final = 4.0
OBJECT_REFLECTIVITY: Final = 0.2  # a bag or phone relative to a torso (Γ_body)
_ROOM_MARGIN_M: Final = 0.3  # where a falling or lying body's centre may end, inside the walls


def _ramp_square(u: float) -> tuple[float, float]:
    """Constant-acceleration profile s(u) = u² on u ∈ [0, 1] and its derivative ds/du."""
    u = min(max(u, 0.0), 1.0)
    return u * u, 2.0 * u if u < 1.0 else 0.0


def _ramp_cosine(u: float) -> tuple[float, float]:
    """Smooth start and stop: s(u) = (1 − cos πu)/2 and ds/du."""
    u = min(max(u, 0.0), 1.0)
    return (1.0 - math.cos(math.pi * u)) / 2.0, math.pi / 2.0 * math.sin(math.pi * u)


class _Posture:
    """A walker until ``at_s``, then a move from where it was to a final pose along a
    profile over ``duration_s`` (shared by the postures below)."""

    def __init__(
        self,
        walker: Walker,
        at_s: float,
        *,
        duration_s: float,
        final_height_m: float,
        slide_m: float,
        direction_rad: float | None,
        room: Room | None,
        accelerating: bool,
    ) -> None:
        if not (math.isfinite(duration_s) and duration_s > 0):
            raise ValueError(f"duration must be positive, got {duration_s!r}")
        self.walker = walker
        self.at_s = float(at_s)
        self.duration_s = float(duration_s)
        self._accelerating = accelerating
        x0, y0, z0 = walker.position_at(at_s)
        if direction_rad is None:
            vx, vy, _ = walker.velocity_at(at_s)
            direction_rad = math.atan2(vy, vx) if math.hypot(vx, vy) > 1e-6 else 0.0
        self.direction_rad = float(direction_rad)
        x1 = x0 + slide_m * math.cos(self.direction_rad)
        y1 = y0 + slide_m * math.sin(self.direction_rad)
        if room is not None:
            x1 = min(max(x1, _ROOM_MARGIN_M), room.width_m - _ROOM_MARGIN_M)
            y1 = min(max(y1, _ROOM_MARGIN_M), room.depth_m - _ROOM_MARGIN_M)
        self.start: Vec3 = (x0, y0, z0)
        self.end: Vec3 = (x1, y1, float(final_height_m))

    def _profile(self, t_s: float) -> tuple[float, float]:
        u = (t_s - self.at_s) / self.duration_s
        return _ramp_square(u) if self._accelerating else _ramp_cosine(u)

    def position_at(self, t_s: float) -> Vec3:
        if t_s < self.at_s:
            return self.walker.position_at(t_s)
        s, _ = self._profile(t_s)
        a, b = self.start, self.end
        return (a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1]), a[2] + s * (b[2] - a[2]))

    def velocity_at(self, t_s: float) -> Vec3:
        if t_s < self.at_s:
            return self.walker.velocity_at(t_s)
        _, rate = self._profile(t_s)
        rate /= self.duration_s
        a, b = self.start, self.end
        return (rate * (b[0] - a[0]), rate * (b[1] - a[1]), rate * (b[2] - a[2]))


class Fall(_Posture):
    """``walker`` falls at ``at_s``: the body centre drops to ``lying_height_m`` in
    ``duration_s`` with constant acceleration and slides ``slide_m`` along ``direction_rad``
    (the walking direction at ``at_s`` when None; kept 0.3 m inside ``room`` if given), then
    lies still. See the module docstring for the figures."""

    def __init__(
        self,
        walker: Walker,
        at_s: float,
        *,
        lying_height_m: float = FALL_LYING_HEIGHT_M,
        duration_s: float = FALL_DURATION_S,
        slide_m: float = FALL_SLIDE_M,
        direction_rad: float | None = None,
        room: Room | None = None,
    ) -> None:
        super().__init__(
            walker,
            at_s,
            duration_s=duration_s,
            final_height_m=lying_height_m,
            slide_m=slide_m,
            direction_rad=direction_rad,
            room=room,
            accelerating=True,
        )

    @property
    def peak_speed_m_s(self) -> float:
        """The vertical speed at impact (m/s, positive downwards)."""
        return 2.0 * (self.start[2] - self.end[2]) / self.duration_s


def walk_to_fall(
    room: Room,
    spot: tuple[float, float],
    at_s: float,
    seed: int | np.random.Generator,
    *,
    slide_m: float = FALL_SLIDE_M,
) -> ScriptedWalker:
    """A walker who, with a :class:`Fall` (default slide) at ``at_s``, lands at ``spot`` (x, y
    metres, :data:`_ROOM_MARGIN_M` or more inside the walls): they walk in a straight line at a
    pace drawn from :data:`~engine.sim.nodes.WALK_SPEED_M_S`, from a start
    :data:`~engine.sim.nodes.WALL_MARGIN_M` inside the walls, and at ``at_s`` are
    ``slide_m`` short of the spot, walking towards it (then on past it, unused by the fall).
    Direction and pace come from ``seed``; where no straight walk of ``at_s`` seconds fits
    the room, a slower, shorter one does. ValueError for a spot too near a wall or a
    ``at_s`` that is not positive."""
    x, y = (float(v) for v in spot)
    if not room.contains((x, y, 0.0), _ROOM_MARGIN_M):
        raise ValueError(f"fall spot ({x:g}, {y:g}) is closer than {_ROOM_MARGIN_M} m to a wall")
    if not (math.isfinite(at_s) and at_s > 0):
        raise ValueError(f"the fall must come after walking in, got at {at_s!r} s")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pace = float(rng.uniform(*WALK_SPEED_M_S))
    for attempt in range(256):
        heading = float(rng.uniform(-math.pi, math.pi))
        walk_m = pace * at_s * (1.0 - attempt / 256.0)  # shorter as tries fail
        ux, uy = math.cos(heading), math.sin(heading)
        approach = (x - slide_m * ux, y - slide_m * uy)
        start = (approach[0] - walk_m * ux, approach[1] - walk_m * uy)
        if room.contains((*approach, 0.0), WALL_MARGIN_M) and room.contains(
            (*start, 0.0), WALL_MARGIN_M
        ):
            beyond = (approach[0] + ux, approach[1] + uy)
            return ScriptedWalker([start, approach, beyond], max(walk_m, 1e-3) / at_s)
    raise ValueError(f"no walk in the room ends with a fall at ({x:g}, {y:g})")


class LieDown(_Posture):
    """``walker`` lies down slowly (a sofa) at ``at_s``: to ``lying_height_m`` in
    ``duration_s`` on a cosine profile, moving ``slide_m`` along ``direction_rad`` (0 rad when
    None and standing), then still."""

    def __init__(
        self,
        walker: Walker,
        at_s: float,
        *,
        lying_height_m: float = SOFA_LYING_HEIGHT_M,
        duration_s: float = LIE_DURATION_S,
        slide_m: float = 0.3,
        direction_rad: float | None = None,
        room: Room | None = None,
    ) -> None:
        super().__init__(
            walker,
            at_s,
            duration_s=duration_s,
            final_height_m=lying_height_m,
            slide_m=slide_m,
            direction_rad=direction_rad,
            room=room,
            accelerating=False,
        )


class SitDown(_Posture):
    """``walker`` sits down at ``at_s``: to ``seat_height_m`` in ``duration_s`` on a cosine
    profile, then sits with small movements (sways of up to ``fidget_m`` horizontally, drawn
    from ``seed``; 0 for a perfectly still sitter)."""

    _SWAY_S: Final = 1.0  # one sway lasts this long
    _SWAY_GAP_S: Final = (2.0, 8.0)  # and the next starts this long after the last one ended

    def __init__(
        self,
        walker: Walker,
        at_s: float,
        *,
        seat_height_m: float = SEAT_HEIGHT_M,
        duration_s: float = SIT_DURATION_S,
        fidget_m: float = 0.05,
        seed: int = 0,
        direction_rad: float | None = None,
        room: Room | None = None,
    ) -> None:
        super().__init__(
            walker,
            at_s,
            duration_s=duration_s,
            final_height_m=seat_height_m,
            slide_m=0.0,
            direction_rad=direction_rad,
            room=room,
            accelerating=False,
        )
        self.fidget_m = float(fidget_m)
        rng = np.random.default_rng(seed)
        # Sways (start time, dx, dy, dz) for the first hour; deterministic.
        starts: list[float] = []
        t = self.at_s + self.duration_s + float(rng.uniform(*self._SWAY_GAP_S))
        while t < self.at_s + 3600.0:
            starts.append(t)
            t += self._SWAY_S + float(rng.uniform(*self._SWAY_GAP_S))
        self._sway_start = np.array(starts)
        angle = rng.uniform(-math.pi, math.pi, size=len(starts))
        size = rng.uniform(0.5, 1.0, size=len(starts)) * self.fidget_m
        self._sway = np.stack(
            [size * np.cos(angle), size * np.sin(angle), rng.uniform(-0.02, 0.02, len(starts))],
            axis=1,
        )

    def _sway_at(self, t_s: float) -> tuple[Vec3, Vec3]:
        """Offset (m) and its rate (m/s) of the sway under way at ``t_s`` (zero between)."""
        i = int(np.searchsorted(self._sway_start, t_s, side="right")) - 1
        if self.fidget_m <= 0.0 or i < 0 or t_s - self._sway_start[i] >= self._SWAY_S:
            return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
        phase = 2.0 * math.pi * (t_s - self._sway_start[i]) / self._SWAY_S
        shape, rate = (1.0 - math.cos(phase)) / 2.0, math.pi * math.sin(phase) / self._SWAY_S
        dx, dy, dz = (float(v) for v in self._sway[i])
        return (dx * shape, dy * shape, dz * shape), (dx * rate, dy * rate, dz * rate)

    def position_at(self, t_s: float) -> Vec3:
        x, y, z = super().position_at(t_s)
        (dx, dy, dz), _ = self._sway_at(t_s)
        return (x + dx, y + dy, z + dz)

    def velocity_at(self, t_s: float) -> Vec3:
        vx, vy, vz = super().velocity_at(t_s)
        _, (dx, dy, dz) = self._sway_at(t_s)
        return (vx + dx, vy + dy, vz + dz)


class DroppedObject:
    """A small reflector (bag, phone) carried by ``holder`` ``offset_m`` to its right at
    ``height_m`` and dropped at ``at_s``: free fall to ``floor_m``, then it stays there.
    ``reflectivity`` scales the body reflection coefficient in the simulator's channel. Before
    the holder enters (an :class:`~engine.sim.nodes.EnteringWalker`) the object is
    far away with them."""

    def __init__(
        self,
        holder: Walker,
        at_s: float,
        *,
        height_m: float = 1.0,
        floor_m: float = 0.05,
        offset_m: float = 0.25,
        reflectivity: float = OBJECT_REFLECTIVITY,
    ) -> None:
        self.holder = holder
        self.at_s = float(at_s)
        self.height_m = float(height_m)
        self.floor_m = float(floor_m)
        self.offset_m = float(offset_m)
        self.reflectivity = float(reflectivity)
        self.fall_s = math.sqrt(2.0 * (self.height_m - self.floor_m) / GRAVITY_M_S2)
        self._dropped_at = self._carried(self.at_s)

    def _carried(self, t_s: float) -> Vec3:
        x, y, _ = self.holder.position_at(t_s)
        vx, vy, _ = self.holder.velocity_at(t_s)
        speed = math.hypot(vx, vy)
        # To the holder's right when walking, along +x when standing.
        ox, oy = (vy / speed, -vx / speed) if speed > 1e-6 else (1.0, 0.0)
        return (x + self.offset_m * ox, y + self.offset_m * oy, self.height_m)

    def position_at(self, t_s: float) -> Vec3:
        if t_s < self.at_s:
            return self._carried(t_s)
        x, y, _ = self._dropped_at
        fallen = 0.5 * GRAVITY_M_S2 * (t_s - self.at_s) ** 2
        return (x, y, max(self.height_m - fallen, self.floor_m))

    def velocity_at(self, t_s: float) -> Vec3:
        if t_s < self.at_s:
            vx, vy, _ = self.holder.velocity_at(t_s)
            return (vx, vy, 0.0)
        if t_s - self.at_s >= self.fall_s:
            return (0.0, 0.0, 0.0)
        return (0.0, 0.0, -GRAVITY_M_S2 * (t_s - self.at_s))
