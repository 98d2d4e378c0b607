"""Live risk on an H3 hexagon grid: what one incident adds to the cells around it, how a
cell's level decays, and the classes a camera's forecast risk is shown in.

An incident raises the risk of every cell whose centre lies within ``radius_m`` of it, most
at its own position and falling linearly to nothing at the radius
(:func:`increments`: ``increase × weight(category) × (1 − d / radius)``). The whole update
for one incident has a budget of p95 < 20 ms including the database write, so
:func:`cells_around` keeps the grid work to tens of microseconds: the candidate cells around
an incident's own cell and their centres are computed once per cell and cached, and each
call only measures distances with numpy.

**Storing a decaying level.** Each cell keeps ``(level, as_of_s)``: the level as it stood at
``as_of_s`` (UTC epoch seconds). Risk now is exactly ``level × ½^((now − as_of) / half-life)``
(:func:`decayed`); adding an increment at ``at_s`` brings the level forward to ``at_s`` and
adds (:func:`add_increment`), so a write touches one row per cell and no background job ever
rewrites levels to make them decay. An incident that arrives late (``at_s`` before
``as_of_s``) is decayed forward to ``as_of_s`` instead, so the order of arrival does not
change the result. In PostgreSQL, with ``h = half_life_h × 3600`` and one statement for all
the incident's cells (``unnest`` of the arrays, in cell order so concurrent writers lock rows
in the same order)::

    INSERT INTO cell_risk (cell, level, as_of) VALUES (:cell, :inc, :at)
    ON CONFLICT (cell) DO UPDATE SET
      level = CASE WHEN excluded.as_of >= cell_risk.as_of
        THEN cell_risk.level * power(0.5, (excluded.as_of - cell_risk.as_of) / :h) + excluded.level
        ELSE cell_risk.level + excluded.level * power(0.5, (cell_risk.as_of - excluded.as_of) / :h)
      END,
      as_of = greatest(cell_risk.as_of, excluded.as_of)

(SQLite's ``power`` needs its math functions compiled in; otherwise register
:func:`decay_factor` with ``create_function``.) The alternative, one pure sum of increments
scaled by ``2^((t − epoch) / half-life)``, makes a write a plain ``level + x`` but grows by
2^52 a year at a one-week half-life and needs periodic rebasing: not worth it.

**Risk classes.** A camera's risk class compares its expected incidents (the nightly
:mod:`engine.incidents.forecast`, next 24 h, summed over the cells around it) with the same
quantity across the area (:func:`risk_thresholds`: the 20th, 40th, 60th, 80th and 95th
percentiles), so the classes stay meaningful in a quiet suburb and a busy centre alike;
absolute thresholds can be passed instead.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Final

# h3 ships no type information; pyproject's list of such modules is not ours to edit.
import h3.api.basic_int as h3
import numpy as np
import numpy.typing as npt

from engine.incidents.geo import EARTH_RADIUS_M, check_position
from engine.vocabulary import INCIDENT_CATEGORIES
from engine.vocabulary import RISK_CLASSES as STORED_RISK_CLASSES

CATEGORIES: Final = INCIDENT_CATEGORIES  # one list: the store's check constraints use it

# How much one incident of a category raises the risk around it, relative to the worst
# (weapons, 1.0). Ranked by the harm to people nearby and how likely the operator must act
# on the cameras there: a weapon or violence threatens anyone in the area; a fire spreads
# and draws crowds; theft and vandalism are property crime, yet mark an area where offenders
# are active; a suspicious sighting is often nothing; a medical call rarely means danger to
# others; "other" is whatever the classifier could not place.
DEFAULT_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "weapons": 1.0,
        "violence": 0.9,
        "fire": 0.8,
        "theft": 0.5,
        "vandalism": 0.4,
        "suspicious_activity": 0.4,
        "medical": 0.3,
        "other": 0.2,
    }
)

# One week: repeat and near-repeat victimisation (Johnson & Bowers 2004; Townsley et al.
# 2003) is strongest in the first one to two weeks after an incident and fades within about
# a month. With a 7-day half-life an incident keeps half its weight for a week, a quarter
# after two and 1/16 after four, so yesterday's stabbing outweighs last month's, and a quiet
# area returns to its baseline within weeks rather than days or months.
DEFAULT_HALF_LIFE_H: Final = 168.0

# More cells than this around one incident would blow the 20 ms write budget (about 120 at
# the default resolution 9 and 2 km): the settings refuse such a resolution and radius.
MAX_CELLS_AROUND: Final = 10_000

RISK_CLASSES: Final = STORED_RISK_CLASSES
# Percentiles of the area's distribution that separate the classes: the bottom fifth is
# very low, ..., the top fifth is split so that "extreme" is kept for the top 5 %, the few
# places an operator should look at first.
RISK_PERCENTILES: Final = (20.0, 40.0, 60.0, 80.0, 95.0)

_SECONDS_PER_HOUR: Final = 3600.0


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """How incidents raise the risk around them: H3 ``resolution`` (9: hexagons with edges
    of about 175 to 200 m, centres about 350 m apart, 0.1 km² each), ``radius_m`` of the area
    raised, ``increase`` at the incident's own position for a weight of 1, ``half_life_h`` of
    the decay and the per-category ``weights``. ``ValueError`` naming the field for a bad
    value, an unknown or missing category, or a radius covering more than
    :data:`MAX_CELLS_AROUND` cells."""

    resolution: int = 9
    radius_m: float = 2000.0
    increase: float = 1.0
    half_life_h: float = DEFAULT_HALF_LIFE_H
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)

    def __post_init__(self) -> None:
        if not (
            isinstance(self.resolution, int)
            and not isinstance(self.resolution, bool)
            and 0 <= self.resolution <= 15
        ):
            raise ValueError(
                f"resolution must be an H3 resolution 0 to 15, got {self.resolution!r}"
            )
        _check_positive("radius_m", self.radius_m)
        _check_positive("half_life_h", self.half_life_h)
        if not (_is_number(self.increase) and self.increase >= 0):
            raise ValueError(f"increase must be 0 or more, got {self.increase!r}")
        unknown = sorted(set(self.weights) - set(CATEGORIES))
        if unknown:
            raise ValueError(
                f"weights name unknown categories {unknown}; categories are {list(CATEGORIES)}"
            )
        missing = [c for c in CATEGORIES if c not in self.weights]
        if missing:
            raise ValueError(f"weights must give every category a weight; missing {missing}")
        for category, weight in self.weights.items():
            if not (_is_number(weight) and weight >= 0):
                raise ValueError(f"weight of {category} must be 0 or more, got {weight!r}")
        # A private read-only copy: the caller's dict may change after validation.
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        estimate = math.pi * self.radius_m**2 / h3.average_hexagon_area(self.resolution, "m^2")
        if estimate > MAX_CELLS_AROUND:
            raise ValueError(
                f"radius {self.radius_m:g} m covers about {estimate:,.0f} cells at resolution "
                f"{self.resolution} (at most {MAX_CELLS_AROUND:,}): choose a coarser resolution "
                "or a smaller radius"
            )

    def weight(self, category: str) -> float:
        """The category's weight; ``ValueError`` listing the categories for an unknown one."""
        try:
            return float(self.weights[category])
        except KeyError:
            raise ValueError(
                f"unknown category {category!r}; categories are {list(CATEGORIES)}"
            ) from None


def cells_around(
    lat: float, lon: float, settings: RiskSettings
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Every H3 cell at ``settings.resolution`` whose centre lies within ``settings.radius_m``
    of (``lat``, ``lon``) (degrees), and the great-circle distance in metres to each centre.
    Cells are H3 indexes as int64 (the index's top bit is always 0, so they fit a signed
    BIGINT), sorted ascending so that concurrent writers lock rows in the same order.
    ``ValueError`` for a point off the globe. Tens of microseconds per call once the
    incident's own cell has been seen (its candidates are cached); any thread."""
    check_position(lat, lon)
    origin = h3.latlng_to_cell(lat, lon, settings.resolution)
    candidates, cand_lat, cand_lon = _candidates(origin, float(settings.radius_m))
    distances = _haversine_m(math.radians(lat), math.radians(lon), cand_lat, cand_lon)
    inside = distances <= settings.radius_m
    return candidates[inside], distances[inside]


def increments(
    lat: float, lon: float, category: str, settings: RiskSettings
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The cells one incident of ``category`` at (``lat``, ``lon``) raises, and by how much:
    ``increase × weight(category) × (1 − d / radius_m)`` for a cell centre ``d`` metres away
    (the full weighted increase at the incident, nothing at the radius). Cells as in
    :func:`cells_around`; ``ValueError`` for an unknown category or a point off the globe."""
    weight = settings.weight(category)
    cells, distances = cells_around(lat, lon, settings)
    values = settings.increase * weight * (1.0 - distances / settings.radius_m)
    return cells, np.clip(values, 0.0, None)


def cells_of_points(
    lats: npt.ArrayLike, lons: npt.ArrayLike, resolution: int
) -> npt.NDArray[np.int64]:
    """The H3 cell (int64) at ``resolution`` of each point (degrees). About 1 µs a point:
    for the nightly fit and imports, not the per-incident path (which has one point)."""
    lat_array = np.asarray(lats, dtype=np.float64)
    lon_array = np.asarray(lons, dtype=np.float64)
    if lat_array.shape != lon_array.shape:
        raise ValueError(f"{lat_array.size} latitudes but {lon_array.size} longitudes")
    to_cell = h3.latlng_to_cell
    pairs = zip(lat_array.ravel().tolist(), lon_array.ravel().tolist(), strict=True)
    return np.fromiter(
        (to_cell(a, b, resolution) for a, b in pairs),
        dtype=np.int64,
        count=lat_array.size,
    )


# ------------------------------------------------------------------------------------ decay


def decay_factor(from_s: float, to_s: float, half_life_h: float) -> float:
    """The factor a level held at ``from_s`` is multiplied by at ``to_s`` (UTC epoch
    seconds): ``½^((to − from) / half-life)``. 1 for no time, ½ after one half-life, and
    above 1 when ``to_s`` is earlier (used to take a level back, never for reading)."""
    _check_positive("half_life_h", half_life_h)
    return float(0.5 ** ((to_s - from_s) / (half_life_h * _SECONDS_PER_HOUR)))


def decayed(level: float, as_of_s: float, now_s: float, half_life_h: float) -> float:
    """A cell's exact risk at ``now_s`` from its stored ``level`` at ``as_of_s`` (seconds).
    A level stored in the future (clock skew) is read as it is rather than grown."""
    return level * decay_factor(as_of_s, max(now_s, as_of_s), half_life_h)


def decayed_array(
    levels: npt.ArrayLike, as_of_s: npt.ArrayLike, now_s: float, half_life_h: float
) -> npt.NDArray[np.float64]:
    """:func:`decayed` for arrays of levels and their times (one read of many cells)."""
    _check_positive("half_life_h", half_life_h)
    level_array = np.asarray(levels, dtype=np.float64)
    elapsed = np.maximum(now_s - np.asarray(as_of_s, dtype=np.float64), 0.0)
    result: npt.NDArray[np.float64] = level_array * np.exp2(
        -elapsed / (half_life_h * _SECONDS_PER_HOUR)
    )
    return result


def add_increment(
    level: float, as_of_s: float, increment: float, at_s: float, half_life_h: float
) -> tuple[float, float]:
    """The ``(level, as_of_s)`` a cell stores after an ``increment`` at ``at_s``: the stored
    level brought forward to ``at_s`` plus the increment, or, for a late incident
    (``at_s < as_of_s``), the increment decayed forward to ``as_of_s`` plus the level. Either
    way :func:`decayed` then reads the same as if the incidents had come in time order."""
    if at_s >= as_of_s:
        return level * decay_factor(as_of_s, at_s, half_life_h) + increment, at_s
    return level + increment * decay_factor(at_s, as_of_s, half_life_h), as_of_s


def add_increments(
    levels: npt.ArrayLike,
    as_of_s: npt.ArrayLike,
    increments: npt.ArrayLike,
    at_s: float,
    half_life_h: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`add_increment` for arrays: the new levels and times of many cells raised by
    one incident at ``at_s``."""
    _check_positive("half_life_h", half_life_h)
    level_array = np.asarray(levels, dtype=np.float64)
    time_array = np.asarray(as_of_s, dtype=np.float64)
    added = np.asarray(increments, dtype=np.float64)
    half_life_s = half_life_h * _SECONDS_PER_HOUR
    forward = at_s >= time_array
    factor = np.exp2(-np.abs(at_s - time_array) / half_life_s)
    new_levels = np.where(forward, level_array * factor + added, level_array + added * factor)
    return new_levels, np.maximum(time_array, at_s)


# ------------------------------------------------------------------------------ risk classes


def risk_thresholds(reference: npt.ArrayLike) -> tuple[float, float, float, float, float]:
    """The thresholds between the :data:`RISK_CLASSES`: the :data:`RISK_PERCENTILES` of
    ``reference``, the same quantity as the values to be classed, over the whole area (for
    a camera: the expected incidents around every camera, or around every cell of the area,
    next 24 h). ``ValueError`` when there is no finite value."""
    values = np.asarray(reference, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("risk thresholds need at least one finite reference value")
    low, mid_low, mid, mid_high, high = np.percentile(values, RISK_PERCENTILES)
    return float(low), float(mid_low), float(mid), float(mid_high), float(high)


def risk_class(value: float, thresholds: Sequence[float]) -> str:
    """The risk class of ``value`` (expected incidents): ``very_low`` below the first of the
    five ascending ``thresholds`` (:func:`risk_thresholds`, or absolute ones), ``low`` from
    the first up to the second, ..., ``extreme`` at or above the fifth. Nothing expected
    (0 or less) is always ``very_low``, even where most of the area expects nothing and the
    lower thresholds are 0. ``ValueError`` for a non-finite value or bad thresholds."""
    if len(thresholds) != len(RISK_CLASSES) - 1:
        raise ValueError(
            f"risk_class needs {len(RISK_CLASSES) - 1} thresholds, got {len(thresholds)}"
        )
    bounds = [float(t) for t in thresholds]
    if not all(math.isfinite(t) for t in bounds) or bounds != sorted(bounds):
        raise ValueError(f"thresholds must be finite and ascending, got {bounds}")
    if not (_is_number(value) and math.isfinite(value)):
        raise ValueError(f"risk value must be a finite number, got {value!r}")
    if value <= 0:
        return RISK_CLASSES[0]
    return RISK_CLASSES[bisect.bisect_right(bounds, value)]


def normalise_risk_class(text: str) -> str:
    """The risk class named by ``text`` as people write it ("Very Low", "very-high",
    " EXTREME ") in its canonical form (``very_low``); ``ValueError`` listing the valid
    classes otherwise."""
    name = re.sub(r"[\s_-]+", "_", str(text).strip().lower())
    if name not in RISK_CLASSES:
        raise ValueError(f"unknown risk class {text!r}; valid classes are {list(RISK_CLASSES)}")
    return name


# -------------------------------------------------------------------------------- internals


# Extra margin on the ring count: H3 cells vary in size and shape over the globe (most near
# the icosahedron's vertices, the pentagons), so the flat-hexagon estimate is only a start;
# the loop in _candidates checks the real outer ring anyway.
_RING_MARGIN: Final = 1.1
# One entry is about 5 kB at the default settings (217 candidates): 1024 cover a whole city
# of 10 km x 10 km at resolution 9 (about 1000 cells) in 5 MB.
_CANDIDATE_CACHE_SIZE: Final = 1024


@lru_cache(maxsize=_CANDIDATE_CACHE_SIZE)
def _candidates(
    origin: int, radius_m: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The cells (sorted, int64) that may have a centre within ``radius_m`` of any point in
    cell ``origin``, with their centres' latitudes and longitudes in radians (read-only: the
    arrays are shared by every caller). A disk of ``k`` rings holds them once its outer ring's
    centres are all farther than ``radius_m`` plus the origin's circumradius plus half a cell
    spacing from the origin's centre (a point lies at most a circumradius from its centre,
    and the ring's centres enclose everything inside it, up to half a spacing between
    neighbours)."""
    centre_lat, centre_lon = h3.cell_to_latlng(origin)
    lat0, lon0 = math.radians(centre_lat), math.radians(centre_lon)
    vertices = h3.cell_to_boundary(origin)
    circumradius = float(
        _haversine_m(
            lat0, lon0, *_radians([v[0] for v in vertices], [v[1] for v in vertices])
        ).max()
    )
    neighbours = [c for c in h3.grid_disk(origin, 1) if c != origin]
    spacing = float(
        _haversine_m(lat0, lon0, *_radians_of_cells(np.array(neighbours, dtype=np.int64))).min()
    )
    needed = radius_m + circumradius + spacing / 2.0
    # Rings of a hexagonal grid are hexagons whose inradius grows by spacing·√3/2 a ring.
    k = max(1, math.ceil(_RING_MARGIN * needed / (spacing * math.sqrt(3.0) / 2.0)))
    while True:
        disk = np.array(sorted(h3.grid_disk(origin, k)), dtype=np.int64)
        lats, lons = _radians_of_cells(disk)
        inner = np.array(h3.grid_disk(origin, k - 1), dtype=np.int64)
        outer = ~np.isin(disk, inner)
        if _haversine_m(lat0, lon0, lats[outer], lons[outer]).min() > needed:
            break
        k += 1
    for array in (disk, lats, lons):
        array.setflags(write=False)
    return disk, lats, lons


def _radians_of_cells(
    cells: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    centres = [h3.cell_to_latlng(int(c)) for c in cells]
    return _radians([c[0] for c in centres], [c[1] for c in centres])


def _radians(
    lats: Sequence[float], lons: Sequence[float]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    return np.radians(np.asarray(lats, dtype=np.float64)), np.radians(
        np.asarray(lons, dtype=np.float64)
    )


def _haversine_m(
    lat1: float,
    lon1: float,
    lat2: npt.NDArray[np.float64],
    lon2: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """:func:`engine.incidents.geo.great_circle_m` from one point to many (radians in)."""
    h = (
        np.sin((lat2 - lat1) / 2.0) ** 2
        + math.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2.0) ** 2
    )
    result: npt.NDArray[np.float64] = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_positive(name: str, value: object) -> None:
    if not (isinstance(value, int | float) and _is_number(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
