"""What the Floor calibration page draws, worked out from a fitted
:class:`~engine.fusion.floor.FloorCalibration`: floor places mapped back into the picture
(the inverse homography), the part of the floor the picture shows (its footprint, cut at the
horizon), the floor's metre grid and the sensing rooms' outlines as picture segments, and how
much of each room the camera sees.

Pure numpy, no Qt (the page's tests and the plan view use the same numbers). Floor
coordinates are metres on the site's floor plan; picture coordinates are pixels from the
picture's top-left corner, v down. Every function is cheap enough to run on the GUI thread at
every click (a few hundred segments at most).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from engine.fusion.floor import FloorCalibration

Point = tuple[float, float]
Segment = tuple[Point, Point]
Polygon = list[Point]

HORIZON_MARGIN: Final = 1e-3
"""The picture is cut where its floor lies 1,000 times farther than at its nearest corner:
just below the horizon, where a metre of floor shrinks below a pixel."""
MAX_GRID_LINES: Final = 400  # a 1 m grid over at most 200 × 200 m is drawn; coarser past that


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle on the floor (metres)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def corners(self) -> Polygon:
        return [(self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1)]

    def grown(self, margin: float) -> Box:
        return Box(self.x0 - margin, self.y0 - margin, self.x1 + margin, self.y1 + margin)

    @staticmethod
    def around(points: Iterable[Point]) -> Box | None:
        """The smallest box holding ``points`` (None: no points)."""
        xs, ys = [], []
        for x, y in points:
            xs.append(x)
            ys.append(y)
        if not xs:
            return None
        return Box(min(xs), min(ys), max(xs), max(ys))


def to_picture(calibration: FloorCalibration, x: float, y: float) -> Point | None:
    """Where floor place (x, y) appears in the picture, or None when it is behind the camera
    (the fit puts it beyond the horizon). Not limited to the picture's frame."""
    return calibration.to_picture(x, y)


def visible_picture(calibration: FloorCalibration) -> Polygon:
    """The part of the picture that shows floor: its frame cut just below the horizon
    (:data:`HORIZON_MARGIN`), in picture pixels, clockwise from the top-left ([] when the
    fit puts the whole frame beyond the horizon)."""
    width, height = calibration.image_size
    frame: Polygon = [
        (0.0, 0.0),
        (float(width), 0.0),
        (float(width), float(height)),
        (0.0, float(height)),
    ]
    row = calibration.matrix()[2] * calibration.floor_side()
    w = [float(row @ np.array([u, v, 1.0])) for u, v in frame]
    least = HORIZON_MARGIN * max(max(w), 0.0)
    if least <= 0.0:
        return []
    # Keep where row · (u, v, 1) ≥ least: a half-plane in the picture.
    return clip_half_plane(frame, (float(row[0]), float(row[1]), float(row[2]) - least))


def footprint(calibration: FloorCalibration, within: Box) -> Polygon:
    """The floor the picture shows, cut to ``within``: the picture's bottom corners and its
    top corners (or where the horizon cuts its sides) mapped to the floor, as a convex
    polygon in metres ([] when none of it is in ``within``)."""
    picture = visible_picture(calibration)
    if not picture:
        return []
    mapped, _ = calibration.to_floor_many(picture)
    floor = [(float(x), float(y)) for x, y in mapped]
    return clip_to_box(floor, within)


def clip_half_plane(polygon: Sequence[Point], line: tuple[float, float, float]) -> Polygon:
    """The part of ``polygon`` where a·x + b·y + c ≥ 0 (Sutherland–Hodgman, one edge)."""
    a, b, c = line
    out: Polygon = []
    count = len(polygon)
    for i in range(count):
        p, q = polygon[i], polygon[(i + 1) % count]
        fp = a * p[0] + b * p[1] + c
        fq = a * q[0] + b * q[1] + c
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def clip_to_box(polygon: Sequence[Point], box: Box) -> Polygon:
    """The part of a convex ``polygon`` inside ``box``."""
    clipped: Polygon = list(polygon)
    for line in (
        (1.0, 0.0, -box.x0),  # x ≥ x0
        (-1.0, 0.0, box.x1),  # x ≤ x1
        (0.0, 1.0, -box.y0),
        (0.0, -1.0, box.y1),
    ):
        if not clipped:
            break
        clipped = clip_half_plane(clipped, line)
    return clipped


def polygon_area(polygon: Sequence[Point]) -> float:
    """The area of a simple polygon (shoelace), whichever way round it runs."""
    total = 0.0
    for i, (x0, y0) in enumerate(polygon):
        x1, y1 = polygon[(i + 1) % len(polygon)]
        total += x0 * y1 - x1 * y0
    return abs(total) / 2.0


def clip_segment(segment: Segment, polygon: Sequence[Point]) -> Segment | None:
    """The part of ``segment`` inside the convex ``polygon`` (Cyrus–Beck), or None."""
    if len(polygon) < 3:
        return None
    (x0, y0), (x1, y1) = segment
    dx, dy = x1 - x0, y1 - y0
    # Inside is to the left of each edge for a counter-clockwise polygon; orient it so.
    signed = sum(
        polygon[i][0] * polygon[(i + 1) % len(polygon)][1]
        - polygon[(i + 1) % len(polygon)][0] * polygon[i][1]
        for i in range(len(polygon))
    )
    turn = 1.0 if signed > 0 else -1.0
    t_in, t_out = 0.0, 1.0
    for i in range(len(polygon)):
        (px, py), (qx, qy) = polygon[i], polygon[(i + 1) % len(polygon)]
        ex, ey = qx - px, qy - py
        # f(t) = turn · cross(edge, point(t) - p) ≥ 0 inside.
        f0 = turn * (ex * (y0 - py) - ey * (x0 - px))
        df = turn * (ex * dy - ey * dx)
        if abs(df) < 1e-15:
            if f0 < 0:
                return None
            continue
        t = -f0 / df
        if df > 0:
            t_in = max(t_in, t)
        else:
            t_out = min(t_out, t)
        if t_in > t_out:
            return None
    return (x0 + t_in * dx, y0 + t_in * dy), (x0 + t_out * dx, y0 + t_out * dy)


def _floor_segments_to_picture(
    calibration: FloorCalibration, segments: Iterable[Segment], visible: Sequence[Point]
) -> list[Segment]:
    out: list[Segment] = []
    for segment in segments:
        inside = clip_segment(segment, visible)
        if inside is None:
            continue
        a = to_picture(calibration, *inside[0])
        b = to_picture(calibration, *inside[1])
        if a is not None and b is not None:
            out.append((a, b))
    return out


def grid_in_picture(
    calibration: FloorCalibration, within: Box, step_m: float = 1.0
) -> tuple[list[Segment], list[Segment]]:
    """The floor's grid lines every ``step_m`` metres inside ``within`` and inside the
    picture's view, as picture segments: (lines on whole multiples of 5 steps, the others),
    so the page can draw every fifth line stronger. The step grows when the box would need
    more than :data:`MAX_GRID_LINES` lines."""
    visible = footprint(calibration, within)
    if len(visible) < 3:
        return [], []
    area = Box.around(visible)
    assert area is not None
    while (area.width + area.height) / step_m > MAX_GRID_LINES:
        step_m *= 5.0
    major: list[Segment] = []
    minor: list[Segment] = []
    for axis in (0, 1):
        low, high = (area.x0, area.x1) if axis == 0 else (area.y0, area.y1)
        first = math.ceil(low / step_m - 1e-9)
        last = math.floor(high / step_m + 1e-9)
        for n in range(first, last + 1):
            at = n * step_m
            line: Segment = (
                ((at, area.y0), (at, area.y1)) if axis == 0 else ((area.x0, at), (area.x1, at))
            )
            target = major if n % 5 == 0 else minor
            target.extend(_floor_segments_to_picture(calibration, [line], visible))
    return major, minor


def outline_in_picture(
    calibration: FloorCalibration, corners: Sequence[Point], within: Box
) -> list[Segment]:
    """A floor polygon's edges (a room's walls) as picture segments, where the picture shows
    them (cut to ``within``, which keeps them off the horizon)."""
    visible = footprint(calibration, within)
    if len(visible) < 3:
        return []
    edges = [(corners[i], corners[(i + 1) % len(corners)]) for i in range(len(corners))]
    return _floor_segments_to_picture(calibration, edges, visible)


def share_seen(footprint_polygon: Sequence[Point], room: Box) -> float:
    """The share (0–1) of ``room``'s floor inside the camera's footprint."""
    if len(footprint_polygon) < 3 or room.width <= 0 or room.height <= 0:
        return 0.0
    inside = clip_to_box(footprint_polygon, room)
    if len(inside) < 3:
        return 0.0
    return min(polygon_area(inside) / (room.width * room.height), 1.0)
