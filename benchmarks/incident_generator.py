"""Synthetic incidents for the risk and forecast benchmarks, and report sentences for the
classifier benchmarks and import files.

What is realistic about them, after the regularities of recorded crime and emergency calls:

- *Concentration* ("law of crime concentration", Weisburd 2015): about two thirds of the
  incidents come from a few dozen hotspots whose sizes follow a lognormal law, so a handful
  of places dominate; each is a Gaussian cluster 50 to 400 m across, stretched along a
  street (1 to 3 times longer than wide) at a random bearing. The rest is a uniform
  background over a 10 km × 10 km area.
- *Place types*: each hotspot is a nightlife strip, a shopping street, a transit hub, a
  residential estate, an industrial estate or a park, with that type's mix of categories
  (violence and theft at night in the nightlife strip, shoplifting in shop hours) varied
  per hotspot, and its own hours of the week (nightlife on Friday and Saturday nights,
  retail 9 to 19 except Sunday, transit at the commuting peaks), shifted by up to an hour
  and with some noise so no two are alike. The background follows the city's daily
  profile (quiet at 5 am, busiest in the evening) and weekly profile (busier at weekends).
- *Change*: slow linear trends (±30 % over the span), a seasonal cycle (parks and
  nightlife peak in summer), hotspots that emerge or fade during the year, and busier and
  quieter days (gamma day-to-day noise), so yesterday is a noisy guide to today.
- *Records*: category and a severity from 1 to 5 drawn per category (weapons mostly 4 and
  5, "other" mostly 1 and 2); times are whole UTC seconds, sorted.

Times are laid out in UTC as if the city kept UTC (fit forecasts with ``timezone="UTC"``).
Deterministic for a seed; a million incidents in about a second.

``python -m benchmarks.incident_generator`` runs :func:`run`: generation, H3 cells, the
forecast fit and a one-week backtest of the model against yesterday's counts, on 1,000,000
incidents.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from engine.incidents.forecast import backtest, fit_forecast
from engine.incidents.geo import EARTH_RADIUS_M
from engine.incidents.risk import CATEGORIES, cells_of_points

# A Monday 00:00 UTC, so a default year ends on a week boundary; fixed, not "now", so that
# a seed always gives the same incidents.
DEFAULT_END_S: Final = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())
DEFAULT_HOTSPOTS: Final = 36
# A third of incidents happen away from any hotspot: burglaries, medical calls, fires.
DEFAULT_BACKGROUND_FRACTION: Final = 0.35
AREA_SIDE_M: Final = 10_000.0

_HOURS_PER_WEEK: Final = 168
_METRES_PER_DEGREE: Final = EARTH_RADIUS_M * math.pi / 180.0
# 1970-01-01 was a Thursday: hour 72 of a week that starts on Monday.
_EPOCH_HOUR_OF_WEEK: Final = 72

# A weekly bump: day weights Monday..Sunday, peak hour, spread in hours. A bump peaking at
# 23.5 on Friday runs into early Saturday, as a night out does.
Bump = tuple[tuple[float, ...], float, float]


@dataclass(frozen=True, slots=True)
class PlaceType:
    """A kind of hotspot: its category ``mix`` (sums to 1), its weekly profile as ``bumps``
    (day weights Monday..Sunday, peak hour, spread in hours) and its seasonal amplitude
    (``season`` > 0: busier in summer)."""

    mix: Mapping[str, float]
    bumps: tuple[Bump, ...]
    season: float


_THEMES: Final[dict[str, PlaceType]] = {
    "nightlife": PlaceType(
        mix={"violence": 0.35, "weapons": 0.06, "theft": 0.2, "fire": 0.01, "medical": 0.15,
            "vandalism": 0.1, "suspicious_activity": 0.08, "other": 0.05},
        bumps=(((0.3, 0.3, 0.4, 0.8, 1.8, 2.2, 0.6), 23.5, 2.2),),
        season=0.25,
    ),
    "retail": PlaceType(
        mix={"violence": 0.05, "weapons": 0.02, "theft": 0.6, "fire": 0.01, "medical": 0.05,
            "vandalism": 0.05, "suspicious_activity": 0.17, "other": 0.05},
        bumps=(((1.0, 1.0, 1.0, 1.1, 1.2, 1.5, 0.4), 14.0, 3.0),),
        season=0.1,
    ),
    "transit": PlaceType(
        mix={"violence": 0.12, "weapons": 0.03, "theft": 0.4, "fire": 0.01, "medical": 0.12,
            "vandalism": 0.07, "suspicious_activity": 0.18, "other": 0.07},
        bumps=(
            ((1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 0.2), 8.0, 1.0),
            ((1.0, 1.0, 1.0, 1.0, 1.2, 0.5, 0.3), 17.5, 1.3),
        ),
        season=0.0,
    ),
    "residential": PlaceType(
        mix={"violence": 0.1, "weapons": 0.02, "theft": 0.3, "fire": 0.08, "medical": 0.15,
            "vandalism": 0.15, "suspicious_activity": 0.12, "other": 0.08},
        bumps=(((1.0,) * 7, 19.0, 3.0), ((0.8, 0.8, 0.8, 0.8, 0.8, 0.4, 0.4), 11.0, 2.5)),
        season=-0.1,
    ),
    "industrial": PlaceType(
        mix={"violence": 0.03, "weapons": 0.02, "theft": 0.25, "fire": 0.15, "medical": 0.03,
            "vandalism": 0.25, "suspicious_activity": 0.22, "other": 0.05},
        bumps=(((0.8, 0.8, 0.8, 0.8, 1.0, 1.6, 1.6), 2.0, 3.0),),
        season=-0.15,
    ),
    "park": PlaceType(
        mix={"violence": 0.12, "weapons": 0.03, "theft": 0.15, "fire": 0.04, "medical": 0.2,
            "vandalism": 0.2, "suspicious_activity": 0.18, "other": 0.08},
        bumps=(((0.7, 0.7, 0.7, 0.7, 0.9, 1.8, 1.8), 16.0, 3.0),),
        season=0.4,
    ),
}  # fmt: skip
# Central place types sit near the centre (normal, 2 km); the others anywhere.
_CENTRAL_THEMES: Final = ("nightlife", "retail", "transit")
_BACKGROUND_MIX: Final = {"violence": 0.1, "weapons": 0.02, "theft": 0.3, "fire": 0.04,
                          "medical": 0.16, "vandalism": 0.12, "suspicious_activity": 0.16,
                          "other": 0.1}  # fmt: skip
# The city's own rhythm: quiet before dawn, busiest in the evening, weekends busier.
_BACKGROUND_BUMPS: Final[tuple[Bump, ...]] = (
    ((1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.1), 13.0, 4.0),
    ((1.0, 1.0, 1.0, 1.1, 1.4, 1.5, 1.0), 20.5, 3.0),
)
# Probabilities of severity 1 to 5 per category.
_SEVERITY: Final = {
    "violence": (0.05, 0.2, 0.35, 0.3, 0.1),
    "weapons": (0.0, 0.05, 0.15, 0.4, 0.4),
    "theft": (0.25, 0.4, 0.25, 0.08, 0.02),
    "fire": (0.05, 0.2, 0.3, 0.3, 0.15),
    "medical": (0.1, 0.25, 0.35, 0.2, 0.1),
    "vandalism": (0.4, 0.4, 0.15, 0.05, 0.0),
    "suspicious_activity": (0.5, 0.35, 0.12, 0.03, 0.0),
    "other": (0.6, 0.3, 0.08, 0.02, 0.0),
}


@dataclass(frozen=True, slots=True, eq=False)
class IncidentArrays:
    """Incidents as columns: ``lat``/``lon`` (degrees), ``t_s`` (UTC epoch seconds, sorted),
    ``category`` (index into :data:`engine.incidents.risk.CATEGORIES`) and ``severity``
    (1 to 5)."""

    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    t_s: npt.NDArray[np.int64]
    category: npt.NDArray[np.int8]
    severity: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return int(self.t_s.size)

    def category_names(self) -> npt.NDArray[np.str_]:
        """Each incident's category by name."""
        return np.array(CATEGORIES)[self.category]

    def cells(self, resolution: int = 9) -> npt.NDArray[np.int64]:
        """Each incident's H3 cell (about 1 µs an incident)."""
        return cells_of_points(self.lat, self.lon, resolution)


def generate_incidents(
    n: int,
    *,
    seed: int,
    centre_lat: float,
    centre_lon: float,
    days: int = 365,
    end_s: int = DEFAULT_END_S,
    hotspots: int = DEFAULT_HOTSPOTS,
    background_fraction: float = DEFAULT_BACKGROUND_FRACTION,
) -> IncidentArrays:
    """``n`` incidents over the ``days`` before ``end_s`` (UTC epoch seconds) around
    (``centre_lat``, ``centre_lon``), from ``hotspots`` hotspots and a uniform background
    taking ``background_fraction`` of them (see the module docstring). The same arguments
    always give the same incidents."""
    if n < 0 or days < 1 or hotspots < 0 or not 0 <= background_fraction <= 1:
        raise ValueError("need n >= 0, days >= 1, hotspots >= 0, background_fraction in [0, 1]")
    if hotspots == 0:
        background_fraction = 1.0
    rng = np.random.default_rng(seed)
    begin_s = end_s - days * 86_400
    hours = days * 24
    hour_of_week = (begin_s // 3600 + np.arange(hours) + _EPOCH_HOUR_OF_WEEK) % _HOURS_PER_WEEK
    dates = np.datetime64(begin_s, "s").astype("datetime64[D]") + np.arange(days)
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.float64)

    theme_names = list(_THEMES)
    themes = rng.choice(len(theme_names), size=hotspots)
    sizes = rng.lognormal(0.0, 1.0, size=hotspots)
    shares = np.concatenate(
        [[background_fraction], (1 - background_fraction) * sizes / max(sizes.sum(), 1e-300)]
    )
    counts = rng.multinomial(n, shares / shares.sum())

    lats: list[npt.NDArray[np.float64]] = []
    lons: list[npt.NDArray[np.float64]] = []
    times: list[npt.NDArray[np.int64]] = []
    categories: list[npt.NDArray[np.int8]] = []
    half = AREA_SIDE_M / 2
    for source, count in enumerate(counts.tolist()):
        if source == 0:
            profile = _weekly_profile(_BACKGROUND_BUMPS)
            mix = _mix_vector(_BACKGROUND_MIX)
            season, trend = 0.15, 0.1
            x = rng.uniform(-half, half, count)
            y = rng.uniform(-half, half, count)
        else:
            theme = _THEMES[theme_names[themes[source - 1]]]
            profile = _weekly_profile(theme.bumps)
            profile = np.roll(profile, int(rng.integers(-1, 2))) * rng.lognormal(0, 0.15, 168)
            mix = rng.dirichlet(_mix_vector(theme.mix) * 40.0 + 0.05)
            season, trend = theme.season, float(rng.uniform(-0.3, 0.3))
            x, y = _hotspot_offsets(rng, theme_names[themes[source - 1]], count)
        daily = _daily_level(rng, days, day_of_year, season, trend)
        weights = profile[hour_of_week] * np.repeat(daily, 24)
        hour = rng.choice(hours, size=count, p=weights / weights.sum())
        seconds = rng.integers(0, 3600, size=count)
        times.append(begin_s + hour.astype(np.int64) * 3600 + seconds)
        categories.append(rng.choice(len(CATEGORIES), size=count, p=mix).astype(np.int8))
        lats.append(centre_lat + y / _METRES_PER_DEGREE)
        lons.append(centre_lon + x / (_METRES_PER_DEGREE * math.cos(math.radians(centre_lat))))

    t_s = np.concatenate(times) if times else np.zeros(0, np.int64)
    order = np.argsort(t_s, kind="stable")
    category = np.concatenate(categories)[order]
    severity = np.zeros(category.size, dtype=np.int8)
    for index, name in enumerate(CATEGORIES):
        chosen = category == index
        severity[chosen] = rng.choice(5, size=int(chosen.sum()), p=_SEVERITY[name]) + 1
    lon = (np.concatenate(lons)[order] + 180.0) % 360.0 - 180.0
    return IncidentArrays(
        lat=np.clip(np.concatenate(lats)[order], -90.0, 90.0),
        lon=lon,
        t_s=t_s[order].astype(np.int64),
        category=category,
        severity=severity,
    )


_PLACES: Final = (
    "outside the station", "on the High Street", "by the bus stop on Mill Road",
    "in the car park behind the supermarket", "at the corner of Church Lane",
    "near the entrance to the park", "outside the Red Lion pub", "in the shopping centre",
    "on the footbridge over the canal", "at the taxi rank", "behind the leisure centre",
    "in the alley next to the kebab shop", "outside the library", "on the estate by Block C",
)  # fmt: skip
_WHEN: Final = (
    "just now", "about ten minutes ago", "a few minutes ago", "around midnight",
    "earlier this evening", "this morning", "half an hour ago", "right now",
)  # fmt: skip
_WHO: Final = (
    "a man in a dark hoodie", "two young men", "a woman with a pushchair", "a group of teenagers",
    "an older man", "a man in a grey tracksuit", "a woman in a red coat", "three lads on bikes",
)  # fmt: skip
_TEMPLATES: Final = {
    "violence": (
        "Fight {place} {when}, {who} punching someone on the ground.",
        "{Who} assaulted a passer-by {place}; the victim has a cut to the head.",
        "Big fight kicking off {place}, about six people involved, bottles thrown.",
        "Saw {who} headbutt another man {place} {when}.",
    ),
    "weapons": (
        "{Who} seen with a knife {place} {when}, waving it at people.",
        "Report of a man with what looks like a gun {place}.",
        "{Who} pulled a machete out of a bag {place} {when}.",
        "Someone threatened staff with a knife {place}, then ran off.",
    ),
    "theft": (
        "My phone was snatched {place} {when} by {who} on a moped.",
        "Shoplifter ran out of the shop {place} with a bag of stock {when}.",
        "{Who} broke into a car {place} and took a laptop.",
        "Bike stolen {place} {when}, lock cut.",
    ),
    "fire": (
        "Smoke coming out of a bin store {place} {when}.",
        "Car on fire {place}, flames visible.",
        "{Who} set fire to a wheelie bin {place} {when}.",
        "Strong smell of burning and smoke from a flat {place}.",
    ),
    "medical": (
        "Man collapsed {place} {when}, not responding.",
        "{Who} fell down the stairs {place} and can't get up.",
        "Woman having a seizure {place}, people helping her.",
        "Someone passed out drunk {place} {when}, breathing but unconscious.",
    ),
    "vandalism": (
        "{Who} spraying graffiti {place} {when}.",
        "Bus shelter glass smashed {place}.",
        "{Who} kicking car mirrors off {place} {when}.",
        "Someone smashed the window of the shop {place} overnight.",
    ),
    "suspicious_activity": (
        "{Who} trying car door handles {place} {when}.",
        "Same car has been circling {place} for an hour, driver watching the houses.",
        "{Who} hanging around {place} looking into windows.",
        "Unattended bag left {place} {when}, nobody around it.",
    ),
    "other": (
        "Loud music and shouting {place} {when}.",
        "Lost child found {place}, looking for parents.",
        "Stray dog running in the road {place}.",
        "Water pouring from a burst pipe {place} {when}.",
    ),
}


def report_text(category: str, rng: np.random.Generator) -> str:
    """A plausible English report sentence, as a member of the public or a guard writes it,
    for ``category`` (a name in :data:`~engine.incidents.risk.CATEGORIES`); ``ValueError``
    for another name."""
    try:
        templates = _TEMPLATES[category]
    except KeyError:
        raise ValueError(f"unknown category {category!r}; categories are {CATEGORIES}") from None
    who = str(_WHO[int(rng.integers(len(_WHO)))])
    return templates[int(rng.integers(len(templates)))].format(
        place=_PLACES[int(rng.integers(len(_PLACES)))],
        when=_WHEN[int(rng.integers(len(_WHEN)))],
        who=who,
        Who=who[:1].upper() + who[1:],
    )


def run(n: int = 1_000_000, seed: int = 7) -> dict[str, Any]:
    """Generation, H3 cells, the forecast fit and a one-week backtest (refitted daily, as
    the nightly job does) of the model against yesterday's counts, on ``n`` incidents."""
    started = time.perf_counter()
    incidents = generate_incidents(n, seed=seed, centre_lat=51.5072, centre_lon=-0.1276)
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    cells = incidents.cells(9)
    cells_s = time.perf_counter() - started
    week_start = float(DEFAULT_END_S - 7 * 86_400)
    started = time.perf_counter()
    fit_forecast(cells, incidents.t_s, now_s=week_start)
    fit_s = time.perf_counter() - started
    result = backtest(cells, incidents.t_s, start_s=week_start, days=7)
    return {
        "incidents": n,
        "generate_s": round(generate_s, 2),
        "cells_s": round(cells_s, 2),
        "fit_s": round(fit_s, 2),
        "backtest_refit": result.refit,
        "model_hit_rate": round(result.model_hit_rate, 3),
        "model_pai": round(result.model_pai, 2),
        "baseline_hit_rate": round(result.baseline_hit_rate, 3),
        "baseline_pai": round(result.baseline_pai, 2),
        "flagged_fraction": round(result.model[0].area_fraction, 3),
        "area_cells": result.model[0].area_cells,
    }


# -------------------------------------------------------------------------------- internals


def _weekly_profile(bumps: tuple[Bump, ...]) -> npt.NDArray[np.float64]:
    """168 hourly weights (Monday 00:00 first) from bumps ``(day weights, peak hour,
    spread h)``: a circular Gaussian per day, at hour centres."""
    hours = np.arange(_HOURS_PER_WEEK) + 0.5
    profile = np.full(_HOURS_PER_WEEK, 0.02)  # nothing is ever impossible
    for day_weights, peak, spread in bumps:
        for day, weight in enumerate(day_weights):
            gap = (hours - (day * 24 + peak) + 84) % _HOURS_PER_WEEK - 84
            profile += weight * np.exp(-0.5 * (gap / spread) ** 2)
    return profile


def _mix_vector(mix: Mapping[str, float]) -> npt.NDArray[np.float64]:
    vector = np.array([mix.get(name, 0.0) for name in CATEGORIES], dtype=np.float64)
    result: npt.NDArray[np.float64] = vector / vector.sum()
    return result


def _hotspot_offsets(
    rng: np.random.Generator, theme: str, count: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Metres east and north of the area's centre for a hotspot's incidents."""
    half = AREA_SIDE_M / 2 - 500.0
    if theme in _CENTRAL_THEMES:
        centre = np.clip(rng.normal(0.0, 2000.0, 2), -half, half)
    else:
        centre = rng.uniform(-half, half, 2)
    spread = rng.uniform(50.0, 400.0)
    stretch = rng.uniform(1.0, 3.0)
    bearing = rng.uniform(0.0, math.pi)
    along = rng.normal(0.0, spread * math.sqrt(stretch), count)
    across = rng.normal(0.0, spread / math.sqrt(stretch), count)
    x = centre[0] + along * math.cos(bearing) - across * math.sin(bearing)
    y = centre[1] + along * math.sin(bearing) + across * math.cos(bearing)
    return x, y


def _daily_level(
    rng: np.random.Generator,
    days: int,
    day_of_year: npt.NDArray[np.float64],
    season: float,
    trend: float,
) -> npt.NDArray[np.float64]:
    """A source's relative level per day: linear trend, seasonal cycle peaking in July,
    for one hotspot in seven an emergence or fade, and gamma day-to-day noise."""
    position = np.arange(days) / max(days - 1, 1)
    level = np.maximum(0.05, 1.0 + trend * (position - 0.5) * 2.0)
    level *= 1.0 + season * np.cos(2 * math.pi * (day_of_year - 196.0) / 365.25)
    change = rng.uniform()
    if change < 0.15:  # a new hotspot appears (a club opens)
        middle = rng.uniform(0.3, 0.8)
        level *= 1.0 / (1.0 + np.exp(-(position - middle) * 40.0))
    elif change < 0.25:  # an old one fades (a shop closes, policing moves in)
        middle = rng.uniform(0.3, 0.8)
        level *= 1.0 / (1.0 + np.exp((position - middle) * 40.0))
    noise = rng.gamma(10.0, 0.1, days)
    result: npt.NDArray[np.float64] = np.maximum(level * noise, 1e-6)
    return result


if __name__ == "__main__":
    print(json.dumps(run()))
