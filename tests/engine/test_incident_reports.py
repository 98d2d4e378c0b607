"""Incident reports checked before they are stored, report files checked whole, and the
geometry the correlation search uses. Pure: values and files in, reports or errors out."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.incidents.geo import EARTH_RADIUS_M, bounding_box, great_circle_m
from engine.incidents.reports import (
    ReportFileError,
    ReportInputError,
    read_report_file,
    report_from_fields,
)

GOOD = {"text": "Man with a knife", "lat": "51.5007", "lon": "-0.1246", "at": "2026-11-22T09:30Z"}


# ------------------------------------------------------------------------------- one report


def test_a_good_report_is_checked_into_typed_fields() -> None:
    report = report_from_fields({**GOOD, "reporter": " Ann ", "media": ""})
    assert report.text == "Man with a knife"
    assert (report.latitude, report.longitude) == (51.5007, -0.1246)
    assert report.at == datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    assert report.reporter == "Ann" and report.media is None
    # An offset is turned into UTC; numbers from JSON are taken as they are.
    moved = report_from_fields(
        {"text": "x", "latitude": -33.9, "longitude": 151.2, "time": "2026-11-22T10:30:00+01:00"}
    )
    assert moved.at == datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    assert (moved.latitude, moved.longitude) == (-33.9, 151.2)


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"lat": None}, "latitude", "missing"),
        ({"lat": "91"}, "latitude", "not degrees from -90 to 90"),
        ({"lon": "-180.5"}, "longitude", "not degrees from -180 to 180"),
        ({"lon": "nan"}, "longitude", "not a finite number"),
        ({"lat": "north"}, "latitude", "not a number"),
        ({"lat": True}, "latitude", "not a number"),
        ({"at": "yesterday"}, "at", "not an ISO 8601 time"),
        ({"at": "2026-11-22T09:30:00"}, "at", "no time zone"),
        ({"at": 1763803800}, "at", "not an ISO 8601 time"),
        ({"text": "  "}, "text", "missing"),
        ({"text": "\x1b[31m\x07"}, "text", "empty once control characters are removed"),
        ({"text": "x" * 10_001}, "text", "longer than 10000 characters"),
        ({"lattitude": "51.5"}, "lattitude", "unknown field"),
        ({"reporter": 7}, "reporter", "not text"),
    ],
)
def test_a_bad_report_is_refused_with_the_field_named(
    change: dict[str, object], field: str, says: str
) -> None:
    fields = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(ReportInputError) as refused:
        report_from_fields(fields)
    assert refused.value.field == field
    assert says in str(refused.value) and str(refused.value).startswith(f"{field}: ")


def test_a_field_given_under_two_names_is_refused() -> None:
    with pytest.raises(ReportInputError, match="latitude: given twice"):
        report_from_fields({**GOOD, "latitude": "51.5"})


def test_report_text_keeps_its_lines_and_loses_terminal_escapes() -> None:
    report = report_from_fields(
        {**GOOD, "text": "Smoke\x1b]0;pwned\x07 seen\r\nfrom the car park\n"}
    )
    assert report.text == "Smoke seen\nfrom the car park"


# ------------------------------------------------------------------------------- files


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_a_csv_file_imports_every_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "reports.csv",
        "\ufefftext,lat,lon,at,reporter\n"
        "Fire in bin,51.5,-0.12,2026-11-22T09:00Z,Ann\n"
        '"Two men fighting,\nnear the gate",51.51,-0.13,2026-11-22T09:05:00+00:00,\n'
        "\n",
    )
    reports = read_report_file(path)
    assert [r.text for r in reports] == ["Fire in bin", "Two men fighting,\nnear the gate"]
    assert reports[0].reporter == "Ann" and reports[1].reporter is None


def test_a_json_lines_file_imports_every_object(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "reports.jsonl",
        '{"text": "Glass", "latitude": 40.7, "longitude": -74.0, "at": "2026-11-22T01:00Z"}\n'
        "\n"
        '{"text": "Alarm", "lat": 40.71, "lng": -74.01, "time": "2026-11-22T01:02Z"}\n',
    )
    assert [r.text for r in read_report_file(path)] == ["Glass", "Alarm"]


def test_a_file_with_bad_rows_imports_nothing_and_names_every_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "reports.jsonl",
        '{"text": "ok", "lat": 1, "lon": 2, "at": "2026-11-22T01:00Z"}\n'
        '{"text": "no place", "at": "2026-11-22T01:00Z"}\n'
        "not json at all\n"
        "[1, 2]\n"
        '{"text": "ok too", "lat": 1, "lon": 200, "at": "2026-11-22T01:00Z"}\n',
    )
    with pytest.raises(ReportFileError) as refused:
        read_report_file(path)
    problems = refused.value.problems
    assert [(p.line, p.field) for p in problems] == [
        (2, "latitude"),
        (3, None),
        (4, None),
        (5, "longitude"),
    ]
    assert "nothing imported" in str(refused.value) and "line 3: not JSON" in str(refused.value)


def test_a_csv_row_with_the_wrong_number_of_values_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "text,lat,lon,at\nA,1,2,2026-11-22T01:00Z\nB,1,2\n")
    with pytest.raises(ReportFileError, match="line 3: 3 values for 4 columns"):
        read_report_file(path)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("r.txt", "text\n", "not a .csv, .jsonl or .ndjson file"),
        ("r.csv", "", "no reports in the file"),
        ("r.csv", "text,lat,lon,at\n", "no reports in the file"),
        ("r.ndjson", b'{"text": "caf\xe9"}\n', "line 1: not UTF-8 text"),
    ],
)
def test_an_unusable_file_is_refused_with_the_reason(
    tmp_path: Path, name: str, content: str | bytes, says: str
) -> None:
    with pytest.raises(ReportFileError, match=says):
        read_report_file(write(tmp_path, name, content))


def test_a_missing_file_is_refused_not_raised_as_os_error(tmp_path: Path) -> None:
    with pytest.raises(ReportFileError, match="cannot be read"):
        read_report_file(tmp_path / "gone.csv")


# ------------------------------------------------------------------------------- geometry


def test_great_circle_distances() -> None:
    assert great_circle_m(51.5, -0.12, 51.5, -0.12) == 0.0
    # One degree of latitude on the sphere, and a quarter of the way round the equator.
    assert great_circle_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(EARTH_RADIUS_M * math.pi / 180)
    assert great_circle_m(0.0, 0.0, 0.0, 90.0) == pytest.approx(EARTH_RADIUS_M * math.pi / 2)
    # London to Paris, about 343.5 km.
    assert great_circle_m(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343_500, rel=0.002)
    assert great_circle_m(0.0, 179.9995, 0.0, -179.9995) == pytest.approx(111.2, abs=0.5)


@pytest.mark.parametrize(
    ("lat", "lon", "radius_m"),
    [(51.5, -0.12, 50.0), (0.0, 179.9999, 50.0), (-0.5, -179.9999, 2_000.0), (89.9999, 10.0, 50.0),
     (70.0, 20.0, 2_000.0), (-89.99, -45.0, 5_000.0)],
)  # fmt: skip
def test_the_box_holds_every_point_within_the_radius(
    lat: float, lon: float, radius_m: float
) -> None:
    box = bounding_box(lat, lon, radius_m)
    rng = random.Random(7)
    for _ in range(2_000):
        bearing = rng.uniform(0.0, 2 * math.pi)
        d = radius_m * math.sqrt(rng.uniform(0.0, 1.0)) * 0.999
        p_lat, p_lon = _destination(lat, lon, bearing, d)
        assert box.contains(p_lat, p_lon), (p_lat, p_lon)


def test_the_box_is_tight_and_wraps_across_the_antimeridian() -> None:
    box = bounding_box(51.5, -0.12, 50.0)
    assert not box.wraps
    assert box.max_lat - box.min_lat == pytest.approx(2 * 50.0 / EARTH_RADIUS_M * 180 / math.pi)
    assert box.max_lon - box.min_lon < 0.0015  # about 2 × 50 m / cos(51.5°)
    assert not box.contains(51.5, -0.11)
    wrapped = bounding_box(0.0, 179.9999, 50.0)
    assert wrapped.wraps and wrapped.contains(0.0, -179.9998) and not wrapped.contains(0.0, 0.0)
    polar = bounding_box(89.9999, 10.0, 50.0)
    assert (polar.min_lon, polar.max_lon) == (-180.0, 180.0) and polar.max_lat == 90.0


def test_the_box_refuses_a_point_off_the_globe() -> None:
    with pytest.raises(ValueError, match="latitude"):
        bounding_box(95.0, 0.0, 10.0)
    with pytest.raises(ValueError, match="radius"):
        bounding_box(0.0, 0.0, -1.0)


def _destination(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` from (lat, lon) along ``bearing`` (radians) on the sphere."""
    phi, lam, delta = math.radians(lat), math.radians(lon), metres / EARTH_RADIUS_M
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(bearing)
    )
    lam2 = lam + math.atan2(
        math.sin(bearing) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lam2) + 180.0) % 360.0 - 180.0
