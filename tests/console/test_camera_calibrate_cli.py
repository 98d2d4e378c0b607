"""``watchfloor cameras calibrate`` and ``cameras calibration``: point pairs or a room's corners,
the error in metres, stored; bad points refused naming them, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from console import exit_codes
from console.cli import main
from tests.conftest import write_site
from tests.engine.fusion.test_floor import GRID, pinhole
from tests.fusion_sites import LOBBY

ROOM = LOBBY


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site.toml", '[[cameras]]\nid = "cam"\nurl = "rtsp://cam/1"\n', ROOM
    )


def test_points_are_fitted_stored_and_shown(
    db_url: str, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = pinhole(np.array(GRID)) + np.random.default_rng(1).normal(0.0, 1.5, (len(GRID), 2))
    points = [
        arg
        for (u, v), (x, y) in zip(image, GRID, strict=True)
        for arg in ("--point", f"{u:.1f},{v:.1f}={x},{y}")
    ]
    argv = ["--db", db_url, "--site", str(site), "cameras", "calibrate", "cam", "--size", "640x480"]
    assert main([*argv, *points]) == exit_codes.OK
    out = capsys.readouterr().out
    assert out.startswith("camera cam calibrated: error 0.") and "within the 0.3 m target" in out
    shown = ["--db", db_url, "--site", str(site), "cameras", "calibration", "--json"]
    assert main(shown) == exit_codes.OK
    stored = json.loads(capsys.readouterr().out)["cam"]
    assert len(stored["pairs"]) == 9 and stored["error_m"] < 0.3 and stored["by"]


def test_a_rooms_corners_calibrate_the_camera_to_the_room(
    db_url: str, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corners = pinhole(np.array([(1.0, 0.5), (7.0, 0.5), (7.0, 5.5), (1.0, 5.5)]))
    args = [arg for u, v in corners for arg in ("--corner", f"{u:.2f},{v:.2f}")]
    argv = ["--db", db_url, "--site", str(site), "cameras", "calibrate", "cam", "--size", "640x480"]
    assert main([*argv, "--room", "lobby", *args, "--json"]) == exit_codes.OK
    result = json.loads(capsys.readouterr().out)
    assert result["error_m"] is None and [p[2:] for p in result["pairs"]] == [
        [1.0, 0.5],
        [7.0, 0.5],
        [7.0, 5.5],
        [1.0, 5.5],
    ]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (["--point", "1,2=3"], "--point '1,2=3': expected U,V=X,Y"),
        (["--room", "hall", "--corner", "1,2"], "no sensing room 'hall' (rooms: lobby)"),
        (["--point", "10,10=1,1"] * 2, "need at least 4 point pairs"),
        (["--corner", "1,2"], "--corner needs --room"),
    ],
)
def test_bad_points_are_refused_and_nothing_is_stored(
    db_url: str, site: Path, capsys: pytest.CaptureFixture[str], extra: list[str], problem: str
) -> None:
    argv = ["--db", db_url, "--site", str(site), "cameras", "calibrate", "cam", "--size", "640x480"]
    assert main([*argv, *extra]) == exit_codes.USAGE
    err = capsys.readouterr().err
    assert problem in err and "nothing stored" in err
    assert main(["--db", db_url, "--site", str(site), "cameras", "calibration"]) == exit_codes.OK
    assert "cam  cam: not calibrated" in capsys.readouterr().out


def test_an_unknown_camera_is_named(
    db_url: str, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--db", db_url, "--site", str(site), "cameras", "calibrate", "door", "--size", "4x4"]
    assert main(argv) == exit_codes.USAGE
    assert "no camera 'door' (cameras: cam)" in capsys.readouterr().err
