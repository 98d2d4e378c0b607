"""Incident risk on the H3 grid: the cells an incident raises and by how much, how levels
decay, risk classes, the nightly forecast and its quality against yesterday's counts, and
the synthetic incidents the benchmarks use. Pure: arrays in, arrays out."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

import h3.api.basic_int as h3  # type: ignore[import-untyped]
import numpy as np
import pytest

from benchmarks.incident_generator import generate_incidents, report_text
from engine.incidents.forecast import (
    FORECAST_FORMAT_VERSION,
    Forecast,
    backtest,
    baseline_yesterday,
    evaluate,
    fit_forecast,
    hour_of_week,
)
from engine.incidents.geo import great_circle_m
from engine.incidents.risk import (
    CATEGORIES,
    DEFAULT_WEIGHTS,
    RISK_CLASSES,
    RiskSettings,
    add_increment,
    add_increments,
    cells_around,
    cells_of_points,
    decay_factor,
    decayed,
    decayed_array,
    increments,
    normalise_risk_class,
    risk_class,
    risk_thresholds,
)

DAY_S = 86_400
HOUR_S = 3600
MONDAY_S = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())  # a Monday, 00:00 UTC


def _brute_force(lat: float, lon: float, settings: RiskSettings) -> set[int]:
    """Every cell of a disk far wider than the radius whose centre is within it."""
    origin = h3.latlng_to_cell(lat, lon, settings.resolution)
    found = set()
    for cell in h3.grid_disk(origin, 16):
        centre_lat, centre_lon = h3.cell_to_latlng(cell)
        if great_circle_m(lat, lon, centre_lat, centre_lon) <= settings.radius_m:
            found.add(cell)
    return found


# ------------------------------------------------------------------------------ cells around

PLACES = [
    (51.5072, -0.1276),  # London
    (-33.8688, 151.2093),  # Sydney
    (0.0, 179.9995),  # on the antimeridian, east side
    (0.0, -180.0),  # ... and west
    (89.999, 12.0),  # next to the North Pole
    (-89.99, -45.0),  # next to the South Pole
    h3.cell_to_latlng(h3.get_pentagons(9)[0]),  # a pentagon's centre
    h3.cell_to_latlng(h3.get_pentagons(9)[7]),
]


@pytest.mark.parametrize(("lat", "lon"), PLACES)
def test_cells_around_are_exactly_the_cells_with_a_centre_within_the_radius(
    lat: float, lon: float
) -> None:
    settings = RiskSettings()
    cells, distances = cells_around(lat, lon, settings)
    assert cells.dtype == np.int64 and np.all(np.diff(cells) > 0)
    assert np.all(distances <= settings.radius_m)
    assert set(cells.tolist()) == _brute_force(lat, lon, settings)
    for cell, distance in zip(cells.tolist()[:5], distances.tolist()[:5], strict=True):
        assert distance == pytest.approx(great_circle_m(lat, lon, *h3.cell_to_latlng(cell)))


def test_cells_around_a_city_point_are_about_the_disk_area() -> None:
    cells, _ = cells_around(51.5072, -0.1276, RiskSettings())
    area = sum(h3.cell_area(c, "m^2") for c in cells.tolist())
    assert area == pytest.approx(math.pi * 2000.0**2, rel=0.15)


def test_cells_around_work_at_other_resolutions_and_radii() -> None:
    for settings in (RiskSettings(resolution=7, radius_m=5000.0), RiskSettings(radius_m=150.0)):
        cells, _ = cells_around(48.8566, 2.3522, settings)
        assert set(cells.tolist()) == _brute_force(48.8566, 2.3522, settings)


def test_cells_around_refuse_a_point_off_the_globe() -> None:
    with pytest.raises(ValueError, match="latitude"):
        cells_around(91.0, 0.0, RiskSettings())


def test_points_map_to_the_cells_h3_gives() -> None:
    cells = cells_of_points([51.5, -33.9], [-0.12, 151.2], 9)
    assert cells.tolist() == [h3.latlng_to_cell(51.5, -0.12, 9), h3.latlng_to_cell(-33.9, 151.2, 9)]


# ---------------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"resolution": 16}, "resolution"),
        ({"resolution": -1}, "resolution"),
        ({"resolution": True}, "resolution"),
        ({"radius_m": 0.0}, "radius_m"),
        ({"radius_m": math.nan}, "radius_m"),
        ({"half_life_h": -1.0}, "half_life_h"),
        ({"increase": -1.0}, "increase"),
        ({"weights": {**DEFAULT_WEIGHTS, "arson": 1.0}}, "unknown categories"),
        ({"weights": {"weapons": 1.0}}, "missing"),
        ({"weights": {**DEFAULT_WEIGHTS, "fire": -0.5}}, "weight of fire"),
        ({"resolution": 15}, "coarser resolution"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RiskSettings(**changes)  # type: ignore[arg-type]


def test_settings_keep_their_own_copy_of_the_weights() -> None:
    weights = dict(DEFAULT_WEIGHTS)
    settings = RiskSettings(weights=weights)
    weights["weapons"] = 0.0
    assert settings.weight("weapons") == 1.0
    with pytest.raises(ValueError, match="categories are"):
        settings.weight("arson")


# -------------------------------------------------------------------------------- increments


def test_an_incident_raises_its_own_cell_most_and_the_edge_least() -> None:
    settings = RiskSettings(increase=2.0)
    lat, lon = h3.cell_to_latlng(h3.latlng_to_cell(51.5072, -0.1276, 9))  # a cell centre
    cells, values = increments(lat, lon, "weapons", settings)
    _, distances = cells_around(lat, lon, settings)
    own = cells.tolist().index(h3.latlng_to_cell(lat, lon, 9))
    assert values[own] == pytest.approx(2.0 * 1.0)  # increase x weight(weapons)
    assert values == pytest.approx(2.0 * (1.0 - distances / settings.radius_m))
    assert values.min() >= 0.0
    assert values.min() < 0.2 * 2.0  # the outermost cells are near the radius
    _, theft = increments(lat, lon, "theft", settings)
    assert theft == pytest.approx(values * DEFAULT_WEIGHTS["theft"])


def test_an_unknown_category_raises_nothing_and_says_which_exist() -> None:
    with pytest.raises(ValueError, match="violence"):
        increments(51.5, -0.12, "arson", RiskSettings())


# ------------------------------------------------------------------------------------- decay


def test_a_level_halves_after_one_half_life() -> None:
    assert decay_factor(0.0, 168 * HOUR_S, 168.0) == pytest.approx(0.5)
    assert decay_factor(100.0, 100.0, 168.0) == 1.0
    assert decayed(8.0, 0.0, 2 * 24 * HOUR_S, 24.0) == pytest.approx(2.0)
    assert decayed(8.0, 1000.0, 0.0, 24.0) == 8.0  # stored in the future: read as it is
    levels = decayed_array([4.0, 4.0], [0.0, -24.0 * HOUR_S], 24.0 * HOUR_S, 24.0)
    assert levels == pytest.approx([2.0, 1.0])
    with pytest.raises(ValueError, match="half_life_h"):
        decay_factor(0.0, 1.0, 0.0)


def test_a_late_incident_reads_the_same_as_one_in_time() -> None:
    half_life_h, now = 24.0, 10 * DAY_S
    in_order = add_increment(
        *add_increment(0.0, 0.0, 1.0, 1 * DAY_S, half_life_h), 3.0, 2 * DAY_S, half_life_h
    )
    late = add_increment(
        *add_increment(0.0, 0.0, 3.0, 2 * DAY_S, half_life_h), 1.0, 1 * DAY_S, half_life_h
    )
    assert in_order[1] == late[1] == 2 * DAY_S
    assert decayed(*in_order, now, half_life_h) == pytest.approx(decayed(*late, now, half_life_h))
    expected = 1.0 * 0.5 ** ((now - DAY_S) / (24 * HOUR_S)) + 3.0 * 0.5 ** (
        (now - 2 * DAY_S) / (24 * HOUR_S)
    )
    assert decayed(*in_order, now, half_life_h) == pytest.approx(expected)


def test_increments_for_many_cells_match_one_at_a_time() -> None:
    levels, times, added = [1.0, 2.0, 0.0], [0.0, 5 * DAY_S, 0.0], [0.5, 0.5, 0.5]
    new_levels, new_times = add_increments(levels, times, added, 2 * DAY_S, 48.0)
    for i in range(3):
        one = add_increment(levels[i], times[i], added[i], 2 * DAY_S, 48.0)
        assert (new_levels[i], new_times[i]) == pytest.approx(one)


# -------------------------------------------------------------------------------- risk class


def test_risk_classes_change_at_each_threshold() -> None:
    thresholds = (1.0, 2.0, 3.0, 4.0, 5.0)
    assert [risk_class(v, thresholds) for v in (0.5, 1.0, 1.99, 2.0, 3.0, 4.99, 5.0, 50.0)] == [
        "very_low",
        "low",
        "low",
        "moderate",
        "high",
        "very_high",
        "extreme",
        "extreme",
    ]
    assert risk_class(0.0, (0.0, 0.0, 0.0, 0.0, 0.0)) == "very_low"  # nothing expected
    with pytest.raises(ValueError, match="ascending"):
        risk_class(1.0, (5.0, 4.0, 3.0, 2.0, 1.0))
    with pytest.raises(ValueError, match="5 thresholds"):
        risk_class(1.0, (1.0, 2.0))


def test_thresholds_are_the_area_percentiles() -> None:
    assert risk_thresholds(np.arange(101.0)) == pytest.approx((20.0, 40.0, 60.0, 80.0, 95.0))
    reference = np.random.default_rng(1).gamma(2.0, 1.0, 10_000)
    thresholds = risk_thresholds(reference)
    shares = {name: 0 for name in RISK_CLASSES}
    for value in reference.tolist():
        shares[risk_class(value, thresholds)] += 1
    assert shares["extreme"] == pytest.approx(500, abs=2)
    assert shares["very_low"] == pytest.approx(2000, abs=2)
    with pytest.raises(ValueError, match="finite"):
        risk_thresholds([math.nan])


def test_risk_class_names_are_normalised_as_people_write_them() -> None:
    assert normalise_risk_class("Very Low") == "very_low"
    assert normalise_risk_class(" very-HIGH ") == "very_high"
    assert normalise_risk_class("EXTREME") == "extreme"
    with pytest.raises(ValueError, match=r"very_low.*extreme"):
        normalise_risk_class("severe")


# ---------------------------------------------------------------------------------- forecast


def _hotspot_history() -> tuple[np.ndarray, np.ndarray, int, list[int]]:
    """Four weeks over 200 quiet cells, one cell with 20 incidents a day on weekday
    evenings (18:00 to 22:00), and the quiet cells 1 a week."""
    rng = np.random.default_rng(5)
    area = sorted(h3.grid_disk(h3.latlng_to_cell(51.5072, -0.1276, 9), 8))[:200]
    hotspot = area[100]
    start = MONDAY_S - 28 * DAY_S
    quiet_cells = rng.choice(area, size=4 * 200)
    quiet_times = rng.uniform(start, MONDAY_S + 7 * DAY_S, quiet_cells.size)
    days = rng.integers(0, 35, 35 * 20)
    days = days[(days % 7) < 5]  # weekdays
    hot_times = start + days * DAY_S + rng.uniform(18 * HOUR_S, 22 * HOUR_S, days.size)
    cells = np.concatenate([quiet_cells, np.full(days.size, hotspot)]).astype(np.int64)
    times = np.concatenate([quiet_times, hot_times])
    return cells, times, hotspot, area


def test_a_strong_hotspot_is_flagged_and_beats_random_flagging() -> None:
    cells, times, hotspot, area = _hotspot_history()
    forecast = fit_forecast(cells, times, now_s=MONDAY_S)
    assert hotspot in forecast.top_cells(MONDAY_S, 24, 0.1).tolist()
    assert forecast.top_cells(MONDAY_S, 24, 0.1).size == math.ceil(0.1 * len(area))
    quality = evaluate(forecast, cells, times, start_s=MONDAY_S, hours=24, top_fraction=0.1)
    assert quality.area_fraction == pytest.approx(0.1, rel=0.1)
    assert quality.hit_rate > 0.5 > quality.area_fraction
    assert quality.pai > 5.0  # random flagging: 1
    # Hours: the hotspot is busy on Monday evening, not Monday morning.
    hot = forecast.expected([hotspot], MONDAY_S + 18 * HOUR_S, 4)[0]
    assert hot > 10 * forecast.expected([hotspot], MONDAY_S + 6 * HOUR_S, 4)[0]


def test_neighbours_of_a_hotspot_share_its_rate() -> None:
    cells, times, hotspot, _ = _hotspot_history()
    alone = cells == hotspot
    forecast = fit_forecast(cells[alone], times[alone], now_s=MONDAY_S, smoothing=0.3)
    neighbours = [c for c in h3.grid_disk(hotspot, 1) if c != hotspot]
    own, *around = forecast.expected([hotspot, *neighbours], MONDAY_S, 168).tolist()
    assert around == pytest.approx([own * 0.3 / 6 / 0.7] * 6)
    assert forecast.history_cells.tolist() == [hotspot]  # the study area: cells with history


def test_expected_counts_are_calibrated_even_for_a_short_record() -> None:
    # A new site: two weeks of one incident an hour in one cell, fitted with a year's window.
    cell = h3.latlng_to_cell(51.5072, -0.1276, 9)
    times = MONDAY_S - 14 * DAY_S + HOUR_S * (np.arange(14 * 24) + 0.5)
    cells = np.full(times.size, cell, dtype=np.int64)
    forecast = fit_forecast(cells, times, now_s=MONDAY_S, smoothing=0.0)
    assert forecast.expected([cell], MONDAY_S, 24)[0] == pytest.approx(24.0, rel=0.02)


def test_the_forecast_shape_and_unknown_cells() -> None:
    cells, times, hotspot, _ = _hotspot_history()
    forecast = fit_forecast(cells, times, now_s=MONDAY_S)
    predicted_cells, matrix = forecast.predict(MONDAY_S, hours=30)
    assert matrix.shape == (predicted_cells.size, 30)
    assert np.all(matrix >= 0)
    far_away = h3.latlng_to_cell(-33.8688, 151.2093, 9)
    assert forecast.expected([far_away, hotspot], MONDAY_S, 24)[0] == 0.0
    with pytest.raises(ValueError, match="hours"):
        forecast.predict(MONDAY_S, hours=0)


def test_the_fit_ignores_incidents_after_its_time_and_keeps_totals_when_smoothing() -> None:
    cells, times, _, _ = _hotspot_history()
    before = fit_forecast(cells, times, now_s=MONDAY_S)
    only_past = fit_forecast(cells[times < MONDAY_S], times[times < MONDAY_S], now_s=MONDAY_S)
    assert np.array_equal(before.cells, only_past.cells)
    assert np.allclose(before.intensity, only_past.intensity)
    unsmoothed = fit_forecast(cells, times, now_s=MONDAY_S, smoothing=0.0)
    assert before.intensity.sum() == pytest.approx(unsmoothed.intensity.sum())


def test_bad_forecast_input_is_refused() -> None:
    cells, times, _, _ = _hotspot_history()
    with pytest.raises(ValueError, match="times"):
        fit_forecast(cells, times[:-1], now_s=MONDAY_S)
    with pytest.raises(ValueError, match="resolution 8"):
        fit_forecast(cells, times, now_s=MONDAY_S, resolution=8)
    with pytest.raises(ValueError, match="smoothing"):
        fit_forecast(cells, times, now_s=MONDAY_S, smoothing=2.0)
    with pytest.raises(ValueError, match="time zone"):
        fit_forecast(cells, times, now_s=MONDAY_S, timezone="Mars/Olympus")


def test_hours_of_the_week_start_on_monday_in_local_time() -> None:
    assert hour_of_week([MONDAY_S + 1800, MONDAY_S - 1800]).tolist() == [0, 167]
    # Monday 6 July 2026, 00:30 in London (BST) is Sunday 23:30 UTC.
    summer = datetime(2026, 7, 5, 23, 30, tzinfo=UTC).timestamp()
    assert hour_of_week([summer]).tolist() == [167]
    assert hour_of_week([summer], "Europe/London").tolist() == [0]
    assert hour_of_week([summer, summer + 200 * DAY_S], "Europe/London").tolist()[0] == 0


def test_the_baseline_predicts_yesterdays_busiest_cells() -> None:
    cells, times, hotspot, _ = _hotspot_history()
    baseline = baseline_yesterday(cells, times, start_s=MONDAY_S - 3 * DAY_S)  # Friday
    assert baseline.top_cells(MONDAY_S - 3 * DAY_S, 24, 0.01).tolist()[0] == hotspot
    quiet_day = baseline_yesterday(cells, times, start_s=MONDAY_S)  # Sunday's counts
    assert hotspot not in quiet_day.top_cells(MONDAY_S, 24, 0.01).tolist()
    quality = evaluate(quiet_day, cells, times, start_s=MONDAY_S)
    assert quality.hit_rate < 0.2  # it misses Monday's hotspot


def test_on_generated_data_the_model_beats_yesterday_and_random() -> None:
    incidents = generate_incidents(30_000, seed=11, centre_lat=51.5072, centre_lon=-0.1276)
    cells = incidents.cells(9)
    first_day = float(incidents.t_s.max() // DAY_S * DAY_S - 3 * DAY_S)
    result = backtest(cells, incidents.t_s, start_s=first_day, days=3)
    assert result.refit == "daily" and len(result.model) == 3
    assert result.model_pai > 2.0
    assert result.model_hit_rate > result.model[0].area_fraction
    assert result.model_hit_rate > result.baseline_hit_rate
    assert result.baseline_pai > 1.0
    once = backtest(cells, incidents.t_s, start_s=first_day, days=2, refit="once")
    assert once.model_pai > 2.0


def test_a_forecast_survives_a_round_trip_through_an_npz() -> None:
    cells, times, _, _ = _hotspot_history()
    forecast = fit_forecast(cells, times, now_s=MONDAY_S, timezone="Europe/London")
    buffer = io.BytesIO()
    np.savez(buffer, **forecast.to_arrays())
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as arrays:
        loaded = Forecast.from_arrays(arrays)
    assert np.array_equal(loaded.cells, forecast.cells)
    assert np.array_equal(loaded.intensity, forecast.intensity)
    assert np.array_equal(loaded.history_cells, forecast.history_cells)
    assert (loaded.resolution, loaded.fitted_at_s, loaded.timezone) == (
        9,
        MONDAY_S,
        "Europe/London",
    )
    assert dict(loaded.parameters) == dict(forecast.parameters)
    with pytest.raises(ValueError):
        forecast.intensity[0, 0] = 1.0  # read-only: safe to share between threads
    stale = {**forecast.to_arrays(), "version": np.array(FORECAST_FORMAT_VERSION + 1)}
    with pytest.raises(ValueError, match="version"):
        Forecast.from_arrays(stale)


# --------------------------------------------------------------------------------- generator


def test_the_generator_is_deterministic_for_a_seed() -> None:
    first = generate_incidents(5000, seed=3, centre_lat=40.4168, centre_lon=-3.7038, days=60)
    again = generate_incidents(5000, seed=3, centre_lat=40.4168, centre_lon=-3.7038, days=60)
    other = generate_incidents(5000, seed=4, centre_lat=40.4168, centre_lon=-3.7038, days=60)
    for name in ("lat", "lon", "t_s", "category", "severity"):
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.lat, other.lat)
    assert len(first) == 5000 and np.all(np.diff(first.t_s) >= 0)
    assert first.t_s.max() - first.t_s.min() <= 60 * DAY_S
    assert first.category.min() >= 0 and first.category.max() < len(CATEGORIES)
    assert set(np.unique(first.severity).tolist()) <= {1, 2, 3, 4, 5}
    assert np.abs(first.lat - 40.4168).max() < 0.06  # within the 10 km square, plus spread
    assert set(first.category_names().tolist()) <= set(CATEGORIES)


def test_report_sentences_read_as_reports_of_their_category() -> None:
    rng = np.random.default_rng(0)
    for category in CATEGORIES:
        text = report_text(category, rng)
        assert text[0].isupper() and text.endswith(".") and "{" not in text
    with pytest.raises(ValueError, match="violence"):
        report_text("arson", rng)
