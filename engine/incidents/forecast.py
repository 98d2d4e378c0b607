"""The nightly incident forecast: expected incidents per H3 cell and hour, learnt from the
past, and how good it is.

**Model.** For each cell with incidents in the last ``history_days``, and each of the 168
hours of the week (local time in ``timezone``, Monday 00:00 first), the rate of incidents
per hour, estimated in four steps (:func:`fit_forecast`):

1. *Recency*: each incident counts ``½^(age / recency_half_life_days)``, and so does each
   hour of observation time in the exposure it is divided by: the rate is a weighted
   average in which last month matters more than last year, so slow trends (a hotspot
   growing, a shop closing) show within weeks while a year of data still steadies it.
2. *Hours*: a cell's rate in one hour of the week is shared with the hours before and after
   (weights ¼, ½, ¼): reported times are approximate, and patterns do not switch on the
   hour.
3. *Shrinkage*: 168 bins are many for a cell with a few dozen incidents, so a cell's own
   profile is blended with a fallback, the cell's overall rate shaped by the area's
   hour-of-week profile, with credibility ``Z = n / (n + shrinkage)`` (Bühlmann) where ``n``
   is the cell's effective number of incidents (Kish: ``(Σw)² / Σw²``). A cell with
   ``shrinkage`` incidents trusts its own profile half; a busy hotspot almost entirely.
   The blend keeps each cell's expected total unchanged.
4. *Space*: each cell keeps ``1 − smoothing`` of its rate and gives ``smoothing`` in equal
   shares to its ring-1 neighbours (six, five around a pentagon): incidents cluster at
   scales wider than one cell and near-repeats follow (Johnson & Bowers 2004), and it gives
   quiet cells next to a hotspot a rate. Spreading rather than averaging keeps the total.

**Quality** (:func:`evaluate`) is measured as in Chainey, Tompson & Uhlig (2008), "The
utility of hotspot mapping for predicting spatial patterns of crime", Security Journal 21:
the forecast flags the top ``top_fraction`` of the study area's cells for the next
``hours``; the *hit rate* is the fraction of the incidents that then happen in the study
area that fall in flagged cells, and the *Predictive Accuracy Index* is
``PAI = hit rate / (flagged area / study area)``: 1 is no better than flagging cells at
random, higher is better. The study area is every cell with history (or cells given).
:func:`baseline_yesterday` is the naive forecast to beat (yesterday's counts), and
:func:`backtest` evaluates both over several held-out days.

Pure functions of numpy arrays; a 1,000,000-incident year fits in about 0.2 s. The
:class:`Forecast` is immutable (share it between threads) and saves as plain arrays
(:meth:`Forecast.to_arrays`, for an ``.npz`` written atomically by the store side).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# h3 ships no type information; pyproject's list of such modules is not ours to edit.
import h3.api.basic_int as h3
import numpy as np
import numpy.typing as npt

FORECAST_FORMAT_VERSION: Final = 1
HOURS_PER_WEEK: Final = 168

# A year: every season and holiday once, yet recency weighting (below) keeps it current.
DEFAULT_HISTORY_DAYS: Final = 365.0
# Two months: an incident from last month counts 0.7, from last season 0.35, from a year
# ago 0.015, so trends and changed places show within a few weeks while the effective
# history (about 3 months) still holds enough incidents per hour of the week.
DEFAULT_RECENCY_HALF_LIFE_DAYS: Final = 60.0
# A third of a cell's rate goes to its six neighbours (1/18 each): hotspots are about 50 to
# 400 m across, the size of one to three cells at resolution 9, so most of a cell's own
# signal is kept while the neighbours of a hotspot are not ranked as if nothing happens.
DEFAULT_SMOOTHING: Final = 1.0 / 3.0
# One incident per hour of the week: a cell needs this many (effective) incidents before
# its own weekly profile counts as much as the area's.
DEFAULT_SHRINKAGE: Final = float(HOURS_PER_WEEK)
# Neighbouring hours share a cell's hour-of-week rate (circular over the week).
HOUR_KERNEL: Final = (0.25, 0.5, 0.25)

_SECONDS_PER_HOUR: Final = 3600
_SECONDS_PER_DAY: Final = 86_400
# 1970-01-01 was a Thursday: hour 72 of a week that starts on Monday.
_EPOCH_HOUR_OF_WEEK: Final = 72


@dataclass(frozen=True, slots=True, eq=False)
class Forecast:
    """Expected incidents per hour for each of ``cells`` (sorted int64 H3 indexes at
    ``resolution``) and each hour of the week (``intensity``, shape ``[cells, 168]``, local
    time in ``timezone``), fitted at ``fitted_at_s`` (UTC epoch seconds). ``history_cells``
    are the cells with incidents in the history (the default study area of
    :func:`evaluate`); ``cells`` adds their neighbours. ``parameters`` records how it was
    fitted. Immutable (its arrays are read-only): share it between threads."""

    cells: npt.NDArray[np.int64]
    intensity: npt.NDArray[np.float64]
    history_cells: npt.NDArray[np.int64]
    resolution: int
    fitted_at_s: float
    timezone: str = "UTC"
    parameters: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cells = np.asarray(self.cells, dtype=np.int64)
        intensity = np.asarray(self.intensity, dtype=np.float64)
        history = np.asarray(self.history_cells, dtype=np.int64)
        if intensity.shape != (cells.size, HOURS_PER_WEEK):
            raise ValueError(
                f"intensity must be [{cells.size} cells, {HOURS_PER_WEEK} hours], "
                f"got {intensity.shape}"
            )
        if cells.size > 1 and not np.all(cells[1:] > cells[:-1]):
            raise ValueError("forecast cells must be sorted and unique")
        _zone(self.timezone)
        for name, array in (("cells", cells), ("intensity", intensity), ("history_cells", history)):
            array = array.copy() if array.flags.writeable else array
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def predict(
        self, start_s: float, hours: int = 24
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Every forecast cell and its expected incidents in each of the ``hours`` hours from
        ``start_s`` (UTC epoch seconds): a ``[cells, hours]`` matrix."""
        return self.cells, self.intensity[:, self._hour_columns(start_s, hours)]

    def expected(
        self, cells: npt.ArrayLike, start_s: float, hours: int = 24
    ) -> npt.NDArray[np.float64]:
        """Expected incidents in each of ``cells`` over the ``hours`` from ``start_s``; 0 for
        a cell the forecast does not know (no history near it). Sum the result for a camera's
        expected incidents over the cells around it."""
        wanted = np.asarray(cells, dtype=np.int64).ravel()
        totals = self.intensity[:, self._hour_columns(start_s, hours)].sum(axis=1)
        result = np.zeros(wanted.size, dtype=np.float64)
        if self.cells.size == 0:
            return result
        where = np.minimum(np.searchsorted(self.cells, wanted), self.cells.size - 1)
        known = self.cells[where] == wanted
        result[known] = totals[where[known]]
        return result

    def top_cells(
        self,
        start_s: float,
        hours: int = 24,
        fraction: float = 0.1,
        area_cells: npt.ArrayLike | None = None,
    ) -> npt.NDArray[np.int64]:
        """The ``fraction`` of the study area's cells (``area_cells``, default the cells with
        history) with the most expected incidents over the ``hours`` from ``start_s``, most
        first (at least one; ties broken by cell index so the answer is reproducible)."""
        area = _study_area(self, area_cells)
        return _top(area, self.expected(area, start_s, hours), fraction)

    def to_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The forecast as plain numpy arrays (``np.savez`` without pickling) with its
        :data:`FORECAST_FORMAT_VERSION`."""
        names = sorted(self.parameters)
        return {
            "version": np.array(FORECAST_FORMAT_VERSION, dtype=np.int64),
            "cells": np.array(self.cells),
            "intensity": np.array(self.intensity),
            "history_cells": np.array(self.history_cells),
            "resolution": np.array(self.resolution, dtype=np.int64),
            "fitted_at_s": np.array(self.fitted_at_s, dtype=np.float64),
            "timezone": np.array(self.timezone),
            "parameter_names": np.array(names, dtype=np.str_),
            "parameter_values": np.array([self.parameters[n] for n in names], dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> Forecast:
        """A forecast from :meth:`to_arrays`' arrays (a dict, or an opened ``.npz``).
        ``ValueError`` for another format version or a missing array."""

        def get(name: str) -> npt.NDArray[np.generic]:
            try:
                return np.asarray(arrays[name])
            except KeyError:
                raise ValueError(f"forecast arrays lack {name!r}") from None

        version = int(get("version"))
        if version != FORECAST_FORMAT_VERSION:
            raise ValueError(
                f"forecast format version {version} is not {FORECAST_FORMAT_VERSION}: refit it"
            )
        names = [str(n) for n in get("parameter_names").tolist()]
        values = [float(v) for v in get("parameter_values").tolist()]
        return cls(
            cells=get("cells").astype(np.int64),
            intensity=get("intensity").astype(np.float64),
            history_cells=get("history_cells").astype(np.int64),
            resolution=int(get("resolution")),
            fitted_at_s=float(get("fitted_at_s")),
            timezone=str(get("timezone")),
            parameters=dict(zip(names, values, strict=True)),
        )

    def _hour_columns(self, start_s: float, hours: int) -> npt.NDArray[np.int64]:
        if not (isinstance(hours, int) and hours >= 1):
            raise ValueError(f"hours must be a whole number of 1 or more, got {hours!r}")
        times = float(start_s) + _SECONDS_PER_HOUR * np.arange(hours, dtype=np.float64)
        return hour_of_week(times, self.timezone)


@dataclass(frozen=True, slots=True)
class ForecastQuality:
    """How well a forecast's flagged cells caught the incidents of one window (Chainey et
    al. 2008): ``incidents`` in the study area, ``hits`` among them in flagged cells,
    ``hit_rate = hits / incidents``, ``area_fraction`` = flagged area / study area (by cell
    area) and ``pai = hit_rate / area_fraction`` (NaN when no incident happened)."""

    incidents: int
    hits: int
    flagged_cells: int
    area_cells: int
    hit_rate: float
    area_fraction: float
    pai: float


@dataclass(frozen=True, slots=True)
class Backtest:
    """Model and baseline quality for each held-out day (``day_starts_s``), and pooled over
    all days: ``hit_rate`` = all hits / all incidents, ``pai`` = that hit rate over the mean
    flagged area fraction."""

    day_starts_s: tuple[float, ...]
    model: tuple[ForecastQuality, ...]
    baseline: tuple[ForecastQuality, ...]
    refit: str

    @property
    def model_hit_rate(self) -> float:
        return _pooled(self.model)[0]

    @property
    def model_pai(self) -> float:
        return _pooled(self.model)[1]

    @property
    def baseline_hit_rate(self) -> float:
        return _pooled(self.baseline)[0]

    @property
    def baseline_pai(self) -> float:
        return _pooled(self.baseline)[1]


def fit_forecast(
    cells: npt.ArrayLike,
    times_s: npt.ArrayLike,
    *,
    now_s: float,
    history_days: float = DEFAULT_HISTORY_DAYS,
    smoothing: float = DEFAULT_SMOOTHING,
    resolution: int = 9,
    recency_half_life_days: float = DEFAULT_RECENCY_HALF_LIFE_DAYS,
    shrinkage: float = DEFAULT_SHRINKAGE,
    timezone: str = "UTC",
) -> Forecast:
    """The forecast learnt from past incidents: their H3 ``cells`` (int, at ``resolution``)
    and UTC epoch ``times_s``, as of ``now_s``; only the ``history_days`` before ``now_s``
    are used (later incidents are ignored, so a backtest cannot peek), and a shorter record
    (a new site) counts from the hour of its first incident, so its rates are not diluted by
    days before it began. The four steps and their defaults are described in the module
    docstring. ``ValueError`` for arrays of different lengths, cells not at ``resolution``,
    or out-of-range parameters. About 0.2 s for a million incidents over 1,100 cells on two
    slow cores (numpy; the neighbours of each cell with history are looked up once)."""
    cell_array = np.asarray(cells, dtype=np.int64).ravel()
    time_array = np.asarray(times_s, dtype=np.float64).ravel()
    if cell_array.size != time_array.size:
        raise ValueError(f"{cell_array.size} cells but {time_array.size} times")
    _check_positive("history_days", history_days)
    _check_positive("recency_half_life_days", recency_half_life_days)
    if not (math.isfinite(shrinkage) and shrinkage >= 0):
        raise ValueError(f"shrinkage must be 0 or more, got {shrinkage!r}")
    if not (math.isfinite(smoothing) and 0 <= smoothing <= 1):
        raise ValueError(f"smoothing must be from 0 to 1, got {smoothing!r}")
    _zone(timezone)
    start_s = now_s - history_days * _SECONDS_PER_DAY
    recent = (time_array >= start_s) & (time_array < now_s)
    cell_array, time_array = cell_array[recent], time_array[recent]
    if time_array.size:
        first_hour = math.floor(time_array.min() / _SECONDS_PER_HOUR) * _SECONDS_PER_HOUR
        start_s = max(start_s, first_hour)
    history, cell_index = np.unique(cell_array, return_inverse=True)
    _check_cells(history, resolution)

    # 1. Recency-weighted counts per (cell, hour of week), and the exposure they divide by.
    half_life_s = recency_half_life_days * _SECONDS_PER_DAY
    weights = np.exp2(-(now_s - time_array) / half_life_s)
    bins = cell_index * HOURS_PER_WEEK + hour_of_week(time_array, timezone)
    size = history.size * HOURS_PER_WEEK
    counts = np.bincount(bins, weights, minlength=size).reshape(-1, HOURS_PER_WEEK)
    observed_hours = max(1, math.ceil((now_s - start_s) / _SECONDS_PER_HOUR))
    hour_starts = now_s - _SECONDS_PER_HOUR * np.arange(1, observed_hours + 1)
    hour_starts = np.maximum(hour_starts, start_s)
    exposure = np.bincount(
        hour_of_week(hour_starts, timezone),
        np.exp2(-(now_s - hour_starts - _SECONDS_PER_HOUR / 2) / half_life_s),
        minlength=HOURS_PER_WEEK,
    )
    exposure = np.maximum(exposure, 1e-12)  # a history shorter than a week misses hours

    # 2. Neighbouring hours share (circular over the week).
    own_rate = _smooth_hours(counts / exposure)

    # 3. Shrink each cell's profile towards its overall rate x the area's profile.
    cell_total = counts.sum(axis=1)
    overall_rate = cell_total / exposure.sum()
    area_rate = own_rate.sum(axis=0)
    area_profile = area_rate * exposure.sum() / max(float(area_rate @ exposure), 1e-300)
    squares = np.bincount(cell_index, weights**2, minlength=history.size)
    effective_n = np.divide(
        cell_total**2, squares, out=np.zeros_like(cell_total), where=squares > 0
    )
    credibility = np.divide(
        effective_n,
        effective_n + shrinkage,
        out=np.zeros_like(effective_n),
        where=effective_n + shrinkage > 0,
    )[:, np.newaxis]
    fallback = overall_rate[:, np.newaxis] * area_profile[np.newaxis, :]
    rate = credibility * own_rate + (1.0 - credibility) * fallback

    # 4. Spread a share to the ring-1 neighbours.
    all_cells, spread = _spread_matrix(history, smoothing)
    intensity = np.asarray(spread @ rate, dtype=np.float64)
    return Forecast(
        cells=all_cells,
        intensity=intensity,
        history_cells=history,
        resolution=resolution,
        fitted_at_s=float(now_s),
        timezone=timezone,
        parameters={
            "history_days": float(history_days),
            "smoothing": float(smoothing),
            "recency_half_life_days": float(recency_half_life_days),
            "shrinkage": float(shrinkage),
            "incidents": float(cell_array.size),
        },
    )


def baseline_yesterday(
    cells: npt.ArrayLike,
    times_s: npt.ArrayLike,
    *,
    start_s: float,
    history_days: float = DEFAULT_HISTORY_DAYS,
    resolution: int = 9,
) -> Forecast:
    """The naive forecast to beat: each cell expects what it had in the 24 hours before
    ``start_s`` (spread evenly over the hours), so its top cells are yesterday's busiest.
    Its study area, like :func:`fit_forecast`'s, is every cell with incidents in the
    ``history_days`` before ``start_s``, so the two evaluate over the same cells."""
    cell_array = np.asarray(cells, dtype=np.int64).ravel()
    time_array = np.asarray(times_s, dtype=np.float64).ravel()
    if cell_array.size != time_array.size:
        raise ValueError(f"{cell_array.size} cells but {time_array.size} times")
    _check_positive("history_days", history_days)
    recent = (time_array >= start_s - history_days * _SECONDS_PER_DAY) & (time_array < start_s)
    history, cell_index = np.unique(cell_array[recent], return_inverse=True)
    _check_cells(history, resolution)
    yesterday = time_array[recent] >= start_s - _SECONDS_PER_DAY
    counts = np.bincount(cell_index[yesterday], minlength=history.size).astype(np.float64)
    intensity = np.repeat((counts / 24.0)[:, np.newaxis], HOURS_PER_WEEK, axis=1)
    return Forecast(
        cells=history,
        intensity=intensity,
        history_cells=history,
        resolution=resolution,
        fitted_at_s=float(start_s),
        parameters={"history_days": float(history_days), "baseline_yesterday": 1.0},
    )


def evaluate(
    forecast: Forecast,
    held_out_cells: npt.ArrayLike,
    held_out_times_s: npt.ArrayLike,
    *,
    start_s: float,
    hours: int = 24,
    top_fraction: float = 0.1,
    area_cells: npt.ArrayLike | None = None,
) -> ForecastQuality:
    """Hit rate and PAI (Chainey et al. 2008; see the module docstring) of ``forecast``'s
    top ``top_fraction`` of the study area (``area_cells``, default its cells with history)
    for the ``hours`` from ``start_s``, scored against the held-out incidents in that window
    and in the study area (others are ignored). Areas are H3 cell areas, so the fraction is
    exact even where cells differ in size."""
    area = _study_area(forecast, area_cells)
    if area.size == 0:
        raise ValueError("the study area is empty: no cells with history and none given")
    flagged = forecast.top_cells(start_s, hours, top_fraction, area)
    cell_array = np.asarray(held_out_cells, dtype=np.int64).ravel()
    time_array = np.asarray(held_out_times_s, dtype=np.float64).ravel()
    if cell_array.size != time_array.size:
        raise ValueError(f"{cell_array.size} cells but {time_array.size} times")
    window = (time_array >= start_s) & (time_array < start_s + hours * _SECONDS_PER_HOUR)
    scored = cell_array[window]
    scored = scored[np.isin(scored, area)]
    hits = int(np.isin(scored, flagged).sum())
    area_fraction = _cells_area_m2(flagged) / _cells_area_m2(area)
    hit_rate = hits / scored.size if scored.size else math.nan
    return ForecastQuality(
        incidents=int(scored.size),
        hits=hits,
        flagged_cells=int(flagged.size),
        area_cells=int(area.size),
        hit_rate=hit_rate,
        area_fraction=area_fraction,
        pai=hit_rate / area_fraction,
    )


def backtest(
    cells: npt.ArrayLike,
    times_s: npt.ArrayLike,
    *,
    start_s: float,
    days: int = 7,
    refit: Literal["daily", "once"] = "daily",
    top_fraction: float = 0.1,
    resolution: int = 9,
    history_days: float = DEFAULT_HISTORY_DAYS,
    smoothing: float = DEFAULT_SMOOTHING,
    recency_half_life_days: float = DEFAULT_RECENCY_HALF_LIFE_DAYS,
    shrinkage: float = DEFAULT_SHRINKAGE,
    timezone: str = "UTC",
) -> Backtest:
    """Model and :func:`baseline_yesterday` over ``days`` held-out days from ``start_s``,
    each day scored on its 24 hours against the same study area. ``refit="daily"`` fits on
    the data before each day, as the nightly job does (the default: it measures what
    operators get); ``"once"`` fits once on the data before ``start_s`` (cheaper, and the
    later days show how fast a forecast goes stale). The baseline always uses the day
    before each held-out day."""
    if refit not in ("daily", "once"):
        raise ValueError(f"refit must be 'daily' or 'once', got {refit!r}")
    if not (isinstance(days, int) and days >= 1):
        raise ValueError(f"days must be a whole number of 1 or more, got {days!r}")
    cell_array = np.asarray(cells, dtype=np.int64).ravel()
    time_array = np.asarray(times_s, dtype=np.float64).ravel()

    def fit(now_s: float) -> Forecast:
        return fit_forecast(
            cell_array,
            time_array,
            now_s=now_s,
            history_days=history_days,
            smoothing=smoothing,
            resolution=resolution,
            recency_half_life_days=recency_half_life_days,
            shrinkage=shrinkage,
            timezone=timezone,
        )

    starts = tuple(float(start_s) + day * _SECONDS_PER_DAY for day in range(days))
    model: list[ForecastQuality] = []
    baseline: list[ForecastQuality] = []
    forecast = fit(starts[0])
    for day_start in starts:
        if refit == "daily" and day_start != starts[0]:
            forecast = fit(day_start)
        # Both are scored on the same study area: the cells with history before this day.
        area = forecast.history_cells
        if refit == "once":
            history = (time_array >= day_start - history_days * _SECONDS_PER_DAY) & (
                time_array < day_start
            )
            area = np.unique(cell_array[history])
        model.append(
            evaluate(
                forecast,
                cell_array,
                time_array,
                start_s=day_start,
                top_fraction=top_fraction,
                area_cells=area,
            )
        )
        naive = baseline_yesterday(
            cell_array,
            time_array,
            start_s=day_start,
            history_days=history_days,
            resolution=resolution,
        )
        baseline.append(
            evaluate(
                naive,
                cell_array,
                time_array,
                start_s=day_start,
                top_fraction=top_fraction,
                area_cells=area,
            )
        )
    return Backtest(starts, tuple(model), tuple(baseline), refit)


def hour_of_week(times_s: npt.ArrayLike, timezone: str = "UTC") -> npt.NDArray[np.int64]:
    """The local hour of the week (0 = Monday 00:00 to 01:00, ..., 167 = Sunday 23:00) of
    each UTC epoch time in ``timezone`` (an IANA name; daylight saving included)."""
    time_array = np.asarray(times_s, dtype=np.float64)
    utc_hours = np.floor(time_array / _SECONDS_PER_HOUR).astype(np.int64)
    if timezone != "UTC" and utc_hours.size:
        zone = _zone(timezone)
        # Zones change offset on the hour (UTC), so one offset per UTC hour is exact: one
        # per hour of the span (a year is 8760 look-ups), or per distinct hour if sparser.
        first, last = int(utc_hours.min()), int(utc_hours.max())
        if last - first < utc_hours.size:
            span = range(first * _SECONDS_PER_HOUR, (last + 1) * _SECONDS_PER_HOUR, 3600)
            offsets = np.fromiter((_utc_offset_s(zone, at) for at in span), dtype=np.float64)
            local = time_array + offsets[utc_hours - first]
        else:
            distinct, index = np.unique(utc_hours, return_inverse=True)
            offsets = np.fromiter(
                (_utc_offset_s(zone, int(h) * _SECONDS_PER_HOUR) for h in distinct.tolist()),
                dtype=np.float64,
            )
            local = time_array + offsets[index]
        utc_hours = np.floor(local / _SECONDS_PER_HOUR).astype(np.int64)
    result: npt.NDArray[np.int64] = (utc_hours + _EPOCH_HOUR_OF_WEEK) % HOURS_PER_WEEK
    return result


# -------------------------------------------------------------------------------- internals


def _study_area(forecast: Forecast, area_cells: npt.ArrayLike | None) -> npt.NDArray[np.int64]:
    if area_cells is None:
        return forecast.history_cells
    return np.unique(np.asarray(area_cells, dtype=np.int64))


def _smooth_hours(rates: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    before, own, after = HOUR_KERNEL
    result: npt.NDArray[np.float64] = (
        before * np.roll(rates, 1, axis=1) + own * rates + after * np.roll(rates, -1, axis=1)
    )
    return result


def _spread_matrix(
    history: npt.NDArray[np.int64], smoothing: float
) -> tuple[npt.NDArray[np.int64], Any]:
    """The cells with history plus their ring-1 neighbours (sorted), and the sparse matrix
    ``[all cells, history cells]`` that keeps ``1 − smoothing`` of each history cell's rate
    and gives ``smoothing`` in equal shares to its neighbours."""
    # Imported here: only the nightly fit needs scipy, not the console reading a forecast.
    from scipy import sparse

    sources: list[int] = []
    targets: list[int] = []
    shares: list[float] = []
    for index, cell in enumerate(history.tolist()):
        neighbours = [c for c in h3.grid_disk(cell, 1) if c != cell]
        sources.append(index)
        targets.append(cell)
        shares.append(1.0 - smoothing)
        for neighbour in neighbours:
            sources.append(index)
            targets.append(neighbour)
            shares.append(smoothing / len(neighbours))
    target_array = np.array(targets, dtype=np.int64)
    all_cells, rows = np.unique(target_array, return_inverse=True)
    matrix = sparse.csr_matrix(
        (np.array(shares), (rows, np.array(sources, dtype=np.int64))),
        shape=(all_cells.size, history.size),
    )
    return all_cells.astype(np.int64), matrix


def _top(
    area: npt.NDArray[np.int64], expected: npt.NDArray[np.float64], fraction: float
) -> npt.NDArray[np.int64]:
    if not (math.isfinite(fraction) and 0 < fraction <= 1):
        raise ValueError(f"fraction must be above 0 and at most 1, got {fraction!r}")
    count = max(1, math.ceil(fraction * area.size - 1e-9))
    order = np.lexsort((area, -expected))
    result: npt.NDArray[np.int64] = area[order[:count]]
    return result


def _cells_area_m2(cells: npt.NDArray[np.int64]) -> float:
    return float(sum(h3.cell_area(int(c), "m^2") for c in cells))


def _check_cells(cells: npt.NDArray[np.int64], resolution: int) -> None:
    if not (isinstance(resolution, int) and 0 <= resolution <= 15):
        raise ValueError(f"resolution must be an H3 resolution 0 to 15, got {resolution!r}")
    for cell in cells.tolist():
        if not h3.is_valid_cell(cell) or h3.get_resolution(cell) != resolution:
            raise ValueError(f"{cell} is not an H3 cell at resolution {resolution}")


def _pooled(qualities: tuple[ForecastQuality, ...]) -> tuple[float, float]:
    incidents = sum(q.incidents for q in qualities)
    if incidents == 0:
        return math.nan, math.nan
    hit_rate = sum(q.hits for q in qualities) / incidents
    area_fraction = sum(q.area_fraction for q in qualities) / len(qualities)
    return hit_rate, hit_rate / area_fraction


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: give an IANA name such as 'Europe/London'"
        ) from None


def _utc_offset_s(zone: ZoneInfo, at_s: int) -> float:
    offset = datetime.fromtimestamp(at_s, UTC).astimezone(zone).utcoffset()
    return 0.0 if offset is None else offset.total_seconds()


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
