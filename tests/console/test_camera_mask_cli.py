"""``watchfloor cameras mask`` and ``cameras masks``: areas of a camera's picture stored as
its privacy mask, listed back in pixels; bad areas refused naming them, nothing stored;
``--clear`` removes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from tests.conftest import write_site


@pytest.fixture
def site(tmp_path: Path, vtest_avi: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "cam"\nname = "Gate"\nurl = "rtsp://cam/1"\n'
        f'[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "{vtest_avi}"\n',
    )


def _argv(db_url: str, site: Path, *rest: str) -> list[str]:
    return ["--db", db_url, "--site", str(site), "cameras", *rest]


def test_areas_are_stored_listed_and_cleared(
    db_url: str, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = "0,0 320,0 320,240 0,240"
    screen = "400,300 600,300 500,470"
    masked = _argv(db_url, site, "mask", "cam", "--size", "640x480", "--polygon", window)
    assert main([*masked, "--polygon", screen]) == exit_codes.OK
    out = capsys.readouterr().out
    assert out.startswith(
        "camera cam: 2 areas masked, 31 % of the picture; nothing there is shown, recorded "
        "or analysed."
    )
    assert main(_argv(db_url, site, "masks")) == exit_codes.OK
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == (
        "cam  Gate: 2 areas masked, 31 % of the picture; nothing there is shown, recorded or "
        "analysed"
    )
    assert listed[1] == "    area 1 (640 × 480 picture): 0,0 320,0 320,240 0,240"
    assert listed[2] == "    area 2 (640 × 480 picture): 400,300 600,300 500,470"
    assert listed[3] == "yard  Yard: nothing masked"
    # The picture size of a file camera is read from its video (768×576).
    yard = _argv(db_url, site, "mask", "yard", "--polygon", "700,500 768,500 768,576")
    assert main(yard) == exit_codes.OK
    assert capsys.readouterr().out.startswith("camera yard: 1 area masked")
    assert main(_argv(db_url, site, "masks", "yard", "--json")) == exit_codes.OK
    shown = json.loads(capsys.readouterr().out)["yard"]
    assert shown["image_size"] == [768, 576] and shown["areas_px"] == [
        [[700.0, 500.0], [768.0, 500.0], [768.0, 576.0]]
    ]
    assert shown["by"]
    assert main(_argv(db_url, site, "mask", "cam", "--clear")) == exit_codes.OK
    assert "Nothing masked" in capsys.readouterr().out
    assert main(_argv(db_url, site, "masks", "--json")) == exit_codes.OK
    after = json.loads(capsys.readouterr().out)
    assert after["cam"] is None and after["yard"] is not None


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (["--polygon", "1,1 50,1"], "area 1: an area needs at least 3 points, got 2"),
        (
            ["--polygon", "0,0 10,0 10,10", "--polygon", "0,0 700,0 700,10"],
            "area 2, point 2: (700, 0) is outside the 640 × 480 picture",
        ),
        (["--polygon", "0,0 10;0 10,10"], "area 1, point 2 '10;0' is not X,Y (pixels)"),
        (["--polygon", "0,0 100,100 200,200"], "area 1 has almost no size"),
        ([], "give the areas to mask with --polygon, or --clear"),
        (["--clear", "--polygon", "0,0 10,0 10,10"], "(not both)"),
    ],
)
def test_bad_areas_are_refused_and_nothing_is_stored(
    db_url: str, site: Path, capsys: pytest.CaptureFixture[str], extra: list[str], problem: str
) -> None:
    argv = _argv(db_url, site, "mask", "cam", "--size", "640x480")
    assert main([*argv, *extra]) == exit_codes.USAGE
    err = capsys.readouterr().err
    assert problem in err
    assert main(_argv(db_url, site, "masks", "cam")) == exit_codes.OK
    assert capsys.readouterr().out == "cam  Gate: nothing masked\n"


def test_an_unknown_camera_is_named(
    db_url: str, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(db_url, site, "mask", "hall", "--polygon", "0,0 10,0 10,10")
    assert main(argv) == exit_codes.USAGE
    assert "no camera 'hall' (cameras: cam, yard)" in capsys.readouterr().err
