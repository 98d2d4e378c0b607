"""What the Floor calibration page draws, worked out from a fit (no Qt): floor places mapped back
into the picture, the floor the picture covers cut at the horizon, the metre grid and a room's
walls as picture segments, and the share of a room the camera sees — checked against the
pinhole camera of the engine's floor tests, whose true picture of the floor is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.fusion.floor import FloorCalibration, calibrate
from tests.engine.fusion.test_floor import GRID, pairs_for, pinhole
from widgets.floor_calibration.geometry import (
    Box,
    clip_segment,
    footprint,
    grid_in_picture,
    outline_in_picture,
    polygon_area,
    share_seen,
    to_picture,
    visible_picture,
)

SIZE = (640, 480)


@pytest.fixture
def fit() -> FloorCalibration:
    return calibrate(pairs_for(GRID), SIZE)


def test_floor_places_map_back_to_where_the_camera_sees_them(fit: FloorCalibration) -> None:
    for x, y in [(2.0, 1.0), (5.5, 4.2), (10.0, 3.0), (1.0, 0.5)]:
        seen = to_picture(fit, x, y)
        (u, v), *_ = pinhole(np.array([(x, y)]))
        assert seen is not None and math.dist(seen, (u, v)) < 1e-6
    # Behind the camera (it stands at x = -1 looking along +x): not in the picture at all.
    assert to_picture(fit, -5.0, 3.0) is None


def test_the_footprint_runs_from_the_pictures_bottom_corners_to_the_horizon(
    fit: FloorCalibration,
) -> None:
    picture = visible_picture(fit)
    # The camera looks 30° down with 36.9° above its axis: the horizon crosses the picture,
    # so its top is cut off, a little below the horizon.
    horizon_v = 240.0 - 320.0 * math.tan(math.radians(30.0))
    top = min(v for _u, v in picture)
    assert horizon_v < top < horizon_v + 5.0
    assert max(v for _u, v in picture) == 480.0
    within = Box(-10.0, -20.0, 40.0, 26.0)
    floor = footprint(fit, within)
    bottom = fit.to_floor_many([(0.0, 480.0), (640.0, 480.0)])[0]
    for corner in bottom:  # the picture's bottom corners are corners of the footprint
        assert min(math.dist(corner, p) for p in floor) < 1e-6
    # Cut to the box: it reaches the box's far side (x = 40) where the horizon would go on.
    assert max(x for x, _y in floor) == pytest.approx(40.0)
    assert all(within.x0 - 1e-9 <= x <= within.x1 + 1e-9 for x, _y in floor)


def test_the_grid_lines_are_whole_metres_of_the_floor_and_every_fifth_is_major(
    fit: FloorCalibration,
) -> None:
    major, minor = grid_in_picture(fit, Box(0.0, 0.0, 12.0, 9.0))
    assert major and minor
    for lines, fifth in ((major, True), (minor, False)):
        for start, end in lines:
            a, b = fit.to_floor(*start), fit.to_floor(*end)
            assert a is not None and b is not None
            axis = 0 if abs(a[0] - b[0]) < 1e-6 else 1
            assert abs(a[axis] - b[axis]) < 1e-6
            assert abs(a[axis] - round(a[axis])) < 1e-6
            assert (round(a[axis]) % 5 == 0) is fifth
            # Within the box and the picture.
            for u, v in (start, end):
                assert -1e-6 <= u <= 640 + 1e-6 and -1e-6 <= v <= 480 + 1e-6


def test_a_rooms_walls_are_drawn_where_the_camera_sees_its_corners(fit: FloorCalibration) -> None:
    corners = [(1.0, 0.5), (7.0, 0.5), (7.0, 5.5), (1.0, 5.5)]
    walls = outline_in_picture(fit, corners, Box(-5.0, -5.0, 20.0, 20.0))
    assert len(walls) == 4
    for (x, y), ((u0, v0), _end) in zip(corners, walls, strict=True):
        (u, v), *_ = pinhole(np.array([(x, y)]))
        assert math.dist((u, v), (u0, v0)) < 1e-6


def test_the_share_of_a_room_seen(fit: FloorCalibration) -> None:
    within = Box(-30.0, -30.0, 60.0, 60.0)
    floor = footprint(fit, within)
    assert share_seen(floor, Box(3.0, 2.0, 6.0, 4.0)) == pytest.approx(1.0)  # in front
    assert share_seen(floor, Box(-20.0, 0.0, -17.0, 3.0)) == 0.0  # behind the camera
    # Straddling the camera's left edge of view (x = -1 + distance along the view's edge).
    straddling = share_seen(floor, Box(2.0, 4.0, 6.0, 12.0))
    assert 0.0 < straddling < 1.0


def test_clipping_a_segment_to_a_convex_polygon() -> None:
    square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)]
    assert clip_segment(((-1.0, 1.0), (3.0, 1.0)), square) == ((0.0, 1.0), (2.0, 1.0))
    # Either way round.
    assert clip_segment(((-1.0, 1.0), (3.0, 1.0)), square[::-1]) == ((0.0, 1.0), (2.0, 1.0))
    assert clip_segment(((3.0, 3.0), (4.0, 4.0)), square) is None
    assert polygon_area(square) == 4.0
