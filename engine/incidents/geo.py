"""Distances on the Earth for incident correlation: the exact great-circle distance, and the
latitude/longitude box that an indexed query narrows candidates with before it.

The correlation search (issue: candidates within 50 m and 5 min) filters by time, then by a
box on the indexed latitude and longitude columns, then by :func:`great_circle_m`. The box
must contain every point within the radius, or a true match would be lost: near a pole the
longitude span grows without bound (the box then spans every longitude), and across the
antimeridian it wraps (:class:`Box` then has ``min_lon > max_lon``; :meth:`Box.contains`
and a query must test ``lon >= min_lon OR lon <= max_lon``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

EARTH_RADIUS_M: Final = 6_371_008.8  # mean radius (IUGG): haversine's sphere


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two points (degrees) along the sphere of :data:`EARTH_RADIUS_M`
    (haversine: exact on the sphere and well conditioned for short distances; the sphere
    is within 0.5 % of the ellipsoid)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Box:
    """Latitude and longitude bounds in degrees. ``min_lon > max_lon`` when the box crosses
    the antimeridian (it holds longitudes from ``min_lon`` up to 180 and from −180 up to
    ``max_lon``)."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    @property
    def wraps(self) -> bool:
        """Whether the box crosses the antimeridian."""
        return self.min_lon > self.max_lon

    def contains(self, lat: float, lon: float) -> bool:
        if not self.min_lat <= lat <= self.max_lat:
            return False
        if self.wraps:
            return lon >= self.min_lon or lon <= self.max_lon
        return self.min_lon <= lon <= self.max_lon


def bounding_box(lat: float, lon: float, radius_m: float) -> Box:
    """The smallest latitude/longitude box holding every point within ``radius_m`` metres
    of (``lat``, ``lon``) on the sphere. ``ValueError`` for a point off the globe or a
    negative radius."""
    check_position(lat, lon)
    if not (math.isfinite(radius_m) and radius_m >= 0):
        raise ValueError(f"radius must be 0 or more metres, got {radius_m!r}")
    angular = radius_m / EARTH_RADIUS_M  # radians
    phi, lam = math.radians(lat), math.radians(lon)
    min_phi, max_phi = phi - angular, phi + angular
    if min_phi <= -math.pi / 2 or max_phi >= math.pi / 2:
        # The circle reaches a pole: every longitude is within it there.
        return Box(
            math.degrees(max(min_phi, -math.pi / 2)),
            math.degrees(min(max_phi, math.pi / 2)),
            -180.0,
            180.0,
        )
    # The longitude half-width at the circle's widest (not at its centre's latitude).
    half = math.asin(min(1.0, math.sin(angular) / math.cos(phi)))
    low, high = math.degrees(lam - half), math.degrees(lam + half)
    if high - low >= 360.0:
        low, high = -180.0, 180.0
    else:
        low = (low + 180.0) % 360.0 - 180.0
        high = (high + 180.0) % 360.0 - 180.0
    return Box(math.degrees(min_phi), math.degrees(max_phi), low, high)


def check_position(lat: float, lon: float) -> None:
    """``ValueError`` naming the coordinate unless −90 ≤ ``lat`` ≤ 90 and −180 ≤ ``lon`` ≤
    180 (finite degrees)."""
    if not (isinstance(lat, int | float) and math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"latitude must be degrees from -90 to 90, got {lat!r}")
    if not (isinstance(lon, int | float) and math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValueError(f"longitude must be degrees from -180 to 180, got {lon!r}")
