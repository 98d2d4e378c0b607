"""The walkthrough: a simulated scene where people walk across a site's floor, through a
camera's view and from room to room, so the fusion of cameras and sensing rooms can be
watched (a demo feature, shown as SIMULATED) and measured against the truth.

Each :class:`FloorWalker` walks on the site's floor plan (metres, the axes cameras are
calibrated to): it enters at ``enter_at_s`` at its first waypoint and walks its waypoints at
its speed, in a loop; before it enters it is nowhere. A sensing room's simulator sees it
through :class:`InRoom`, in the room's own coordinates while it is inside the room's box and
nowhere (the simulator's ``ABSENT``) while it is elsewhere; a simulated camera renders it
wherever its view reaches.

:func:`walkthrough` makes the walkers for a site: walker 1 walks around the first room and
then through the door into the next one and back (the person who goes from a camera's view
into a room without a camera), the others wander about the rooms, each from its own seed.
Walkers move between two rooms only through a *door*: the middle of the wall the rooms
share. Every walk is reproducible from the seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from engine.camera_view import CameraView
from engine.clock import Clock
from engine.config import SensingRoomConfig
from engine.sim.camera import SimulatedCapture
from engine.sim.nodes import ABSENT, ScriptedWalker, Vec3
from engine.sim.scene import Floor, FloorRect, ScenePerson, person_from_walker
from engine.vision.capture import Capture

ENTER_FIRST_S: Final = 8.0  # after the rooms' links have learned their empty baselines
ENTER_EVERY_S: Final = 6.0
WALL_MARGIN_M: Final = 0.6
DOOR_WIDTH_M: Final = 1.0
HEIGHTS_M: Final = (1.75, 1.62, 1.84, 1.70, 1.78)  # standing heights, for cameras


@dataclass(frozen=True, slots=True)
class Door:
    """Where two rooms meet: the point in the middle of their shared wall (floor metres)."""

    rooms: tuple[str, str]
    point: tuple[float, float]


class FloorWalker:
    """A person walking ``waypoints`` (floor metres) in a loop at ``speed_m_s`` from
    ``enter_at_s`` seconds of scene time; ``height_m`` tall (standing), body centre at the
    simulator's body height. Before entering it is at ``ABSENT``."""

    def __init__(
        self,
        number: int,
        waypoints: Sequence[tuple[float, float]],
        speed_m_s: float,
        enter_at_s: float,
        height_m: float,
    ) -> None:
        self.number = number
        self.enter_at_s = float(enter_at_s)
        self.height_m = float(height_m)
        self._walk = ScriptedWalker(waypoints, speed_m_s, loop=True)

    def position_at(self, t_s: float) -> Vec3:
        if t_s < self.enter_at_s:
            return ABSENT
        return self._walk.position_at(t_s - self.enter_at_s)

    def velocity_at(self, t_s: float) -> Vec3:
        if t_s < self.enter_at_s:
            return (0.0, 0.0, 0.0)
        return self._walk.velocity_at(t_s - self.enter_at_s)

    def floor_at(self, t_s: float) -> tuple[float, float] | None:
        """Where it stands on the floor plan at ``t_s`` (None: not entered)."""
        position = self.position_at(t_s)
        if position == ABSENT:
            return None
        return (position[0], position[1])


class InRoom:
    """``walker`` as room ``room``'s simulator sees it: in the room's own coordinates while
    inside its box, ``ABSENT`` elsewhere (behind a wall, the room's links do not see it)."""

    def __init__(self, walker: FloorWalker, room: SensingRoomConfig) -> None:
        self.walker = walker
        self.room = room

    def position_at(self, t_s: float) -> Vec3:
        x, y, z = self.walker.position_at(t_s)
        if (x, y, z) == ABSENT or not self.room.contains_floor(x, y):
            return ABSENT
        rx, ry = self.room.from_floor(x, y)
        return (rx, ry, z)

    def velocity_at(self, t_s: float) -> Vec3:
        x, y, z = self.walker.position_at(t_s)
        if (x, y, z) == ABSENT or not self.room.contains_floor(x, y):
            return (0.0, 0.0, 0.0)
        return self.walker.velocity_at(t_s)


def doors(rooms: Sequence[SensingRoomConfig]) -> list[Door]:
    """A door between every two rooms that share a wall at least a door wide."""
    found = []
    for i, a in enumerate(rooms):
        for b in rooms[i + 1 :]:
            door = _shared_wall_middle(a, b)
            if door is not None:
                found.append(Door((a.id, b.id), door))
    return found


def walkthrough(rooms: Sequence[SensingRoomConfig], count: int, seed: int) -> list[FloorWalker]:
    """``count`` walkers over ``rooms`` (see the module docstring). Raises ``ValueError``
    without rooms or for a count outside 1–5."""
    if not rooms:
        raise ValueError("a walkthrough needs at least one sensing room")
    if not 1 <= count <= len(HEIGHTS_M):
        raise ValueError(f"a walkthrough has 1 to {len(HEIGHTS_M)} walkers, got {count}")
    shared = doors(rooms)
    rng = np.random.default_rng(seed)
    walkers = []
    for index in range(count):
        own = np.random.default_rng(rng.integers(1 << 62))
        if index == 0:
            route = _through_rooms(rooms, shared, own)
        else:
            route = _wander(rooms, shared, own, legs=8)
        speed = float(own.uniform(0.8, 1.2))
        walkers.append(
            FloorWalker(
                index + 1,
                route,
                speed,
                ENTER_FIRST_S + ENTER_EVERY_S * index,
                HEIGHTS_M[index],
            )
        )
    return walkers


def _inner(room: SensingRoomConfig, rng: np.random.Generator) -> tuple[float, float]:
    width, depth = room.box.width_m, room.box.depth_m
    margin = min(WALL_MARGIN_M, width / 3, depth / 3)
    x = float(rng.uniform(margin, width - margin))
    y = float(rng.uniform(margin, depth - margin))
    return room.to_floor(x, y)


def _through_rooms(
    rooms: Sequence[SensingRoomConfig], shared: Sequence[Door], rng: np.random.Generator
) -> list[tuple[float, float]]:
    """Around the first room, through a door into a neighbour, around it, and back."""
    first = rooms[0]
    route = [_inner(first, rng) for _ in range(3)]
    door = next((d for d in shared if first.id in d.rooms), None)
    if door is None:
        return [*route, _inner(first, rng)]
    other = _other_side(door, first, rooms)
    route += [_approach(first, door), door.point, _approach(other, door)]
    route += [_inner(other, rng) for _ in range(3)]
    route += [_approach(other, door), door.point, _approach(first, door)]
    return route


def _wander(
    rooms: Sequence[SensingRoomConfig],
    shared: Sequence[Door],
    rng: np.random.Generator,
    legs: int,
) -> list[tuple[float, float]]:
    """Random points, mostly in the first room, now and then through a door and back."""
    here = rooms[0]
    route = [_inner(here, rng)]
    for _ in range(legs):
        exits = [d for d in shared if here.id in d.rooms]
        if exits and rng.uniform() < 0.25:
            door = exits[int(rng.integers(len(exits)))]
            there = _other_side(door, here, rooms)
            route += [_approach(here, door), door.point, _approach(there, door)]
            here = there
        route.append(_inner(here, rng))
    # Back to the start the way it came, so the loop never crosses a wall.
    if here.id != rooms[0].id:
        door = next(d for d in shared if here.id in d.rooms)
        there = _other_side(door, here, rooms)
        route += [_approach(here, door), door.point, _approach(there, door)]
    return route


def _other_side(
    door: Door, here: SensingRoomConfig, rooms: Sequence[SensingRoomConfig]
) -> SensingRoomConfig:
    """The room ``door`` leads to from ``here``."""
    there = door.rooms[1] if door.rooms[0] == here.id else door.rooms[0]
    return next(r for r in rooms if r.id == there)


def _approach(room: SensingRoomConfig, door: Door) -> tuple[float, float]:
    """A point 0.7 m inside ``room`` straight in front of ``door``."""
    cx = room.origin.x_m + room.box.width_m / 2
    cy = room.origin.y_m + room.box.depth_m / 2
    dx, dy = cx - door.point[0], cy - door.point[1]
    if abs(dx) >= abs(dy):
        return (door.point[0] + math.copysign(0.7, dx), door.point[1])
    return (door.point[0], door.point[1] + math.copysign(0.7, dy))


def _shared_wall_middle(a: SensingRoomConfig, b: SensingRoomConfig) -> tuple[float, float] | None:
    ax0, ay0 = a.origin.x_m, a.origin.y_m
    ax1, ay1 = ax0 + a.box.width_m, ay0 + a.box.depth_m
    bx0, by0 = b.origin.x_m, b.origin.y_m
    bx1, by1 = bx0 + b.box.width_m, by0 + b.box.depth_m
    touch = 0.05
    for x in (ax1, ax0):
        if abs(x - bx0) <= touch or abs(x - bx1) <= touch:
            low, high = max(ay0, by0), min(ay1, by1)
            if high - low >= DOOR_WIDTH_M:
                return (x, (low + high) / 2)
    for y in (ay1, ay0):
        if abs(y - by0) <= touch or abs(y - by1) <= touch:
            low, high = max(ax0, bx0), min(ax1, bx1)
            if high - low >= DOOR_WIDTH_M:
                return ((low + high) / 2, y)
    return None


class WalkthroughScene:
    """The walkthrough as the simulated cameras film it (a
    :class:`~engine.vision.source.SimulatedScene`: :meth:`capture`): the walkers who have
    entered, on the floor of the site's rooms, at the scene's time (the clock's monotonic
    seconds since ``origin()``, the engine's start; 0 before it)."""

    def __init__(
        self,
        walkers: Sequence[FloorWalker],
        rooms: Sequence[SensingRoomConfig],
        clock: Clock,
        origin: Callable[[], float | None],
    ) -> None:
        self.walkers = tuple(walkers)
        self._clock = clock
        self._origin = origin
        self._floor = Floor.around(
            [
                FloorRect(
                    room.origin.x_m,
                    room.origin.y_m,
                    room.origin.x_m + room.box.width_m,
                    room.origin.y_m + room.box.depth_m,
                )
                for room in rooms
            ]
        )

    @property
    def floor(self) -> Floor:
        return self._floor

    def time_s(self) -> float:
        origin = self._origin()
        return 0.0 if origin is None else self._clock.monotonic() - origin

    def capture(self, view: CameraView) -> Capture:
        """The scene seen through ``view``, read like any camera's."""
        return SimulatedCapture(view, self.time_s, self.people_at, floor=self._floor)

    def people_at(self, t_s: float) -> list[ScenePerson]:
        return [
            person_from_walker(walker, t_s, walker.number - 1, height_m=walker.height_m)
            for walker in self.walkers
            if walker.floor_at(t_s) is not None
        ]
