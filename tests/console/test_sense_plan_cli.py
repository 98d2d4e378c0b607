"""``watchfloor sense plan``: what a node layout can see, for a site file or a room given
on the command line, in words, as a map and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from tests.machine_text import machine_text

CORNERS = "0,0,2;5,0,2;5,5,2;0,5,2"
# The tuned fall layout: mid-walls at 0.15 m, corners at 1.9 m.
TUNED = (
    "2.5,0.1,0.15;4.9,0.1,1.9;4.9,2.5,0.15;4.9,4.9,1.9;"
    "2.5,4.9,0.15;0.1,4.9,1.9;0.1,2.5,0.15;0.1,0.1,1.9"
)


def _db(tmp_path: Path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 's.db'}"]


def test_four_corner_nodes_are_rated_poor_with_the_reasons_and_a_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*_db(tmp_path), "sense", "plan", "--room", "5x5x2.5", "--nodes-at", CORNERS]
    assert main(args) == exit_codes.OK
    out = capsys.readouterr().out
    assert out.startswith("poor: 5 x 5 x 2.5 m room, 4 nodes (6 links)")
    assert "ambiguous" in out and "falls not confirmed in 100% of this room" in out
    rows = out.splitlines()[-20:]
    assert out.splitlines()[-21].strip().startswith("capital: a fall can be confirmed")
    rows = [row.strip() for row in rows]
    assert len(rows) == 20 and all(len(row) == 20 for row in rows)
    assert any("?" in row for row in rows[8:12])  # the middle: the diagonals' crossing
    assert not any(mark in "".join(rows) for mark in "ABC")  # no fall-capable cell
    assert machine_text(out) is None


def test_the_tuned_layout_marks_fall_capable_cells_and_json_carries_the_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*_db(tmp_path), "sense", "plan", "--room", "5x5x2.5", "--nodes-at", TUNED]
    assert main([*args, "--json"]) == exit_codes.OK
    data = json.loads(capsys.readouterr().out)
    assert data["nodes"] == 8 and data["links"] == 28
    assert data["fall_capable"] > 0.45 and data["within_1_0_m"] > 0.9
    assert data["rating"] in ("good", "fair")
    assert main(args) == exit_codes.OK
    assert any(mark in capsys.readouterr().out for mark in "ABC")


def test_the_demo_site_is_rated_by_default_and_says_where_falls_are_confirmed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_db(tmp_path), "sense", "plan", "--json"]) == exit_codes.OK
    data = json.loads(capsys.readouterr().out)
    assert data["room_m"] == [12.0, 9.0, 3.0] and data["nodes"] == 10
    # About a tenth of it: elsewhere a seated body looks like a lying one to these links, or
    # the spots where it does not are too scattered for a body placed to 0.5 m.
    assert 0.05 < data["fall_capable"] < 0.15 and data["rating"] in ("good", "fair")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--room", "5x5x2.5"], "goes with --nodes-at"),
        (["--room", "5x5x2.5", "--nodes-at", "1,1"], "not x,y,z"),
        (["--room", "5x5x2.5", "--nodes-at", "1,1,1;9,1,1"], "outside"),
        (["--room", "5x5", "--nodes-at", CORNERS], "WxDxH"),
    ],
)
def test_bad_input_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    assert main([*_db(tmp_path), "sense", "plan", *extra]) == exit_codes.USAGE
    assert words in capsys.readouterr().err


def test_a_missing_site_file_is_a_site_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*_db(tmp_path), "sense", "plan", "--site", str(tmp_path / "none.toml")]
    assert main(args) == exit_codes.SITE
    assert capsys.readouterr().err.startswith("watchfloor sense plan:")


def test_advise_suggests_a_layout_with_site_file_lines_and_what_more_nodes_would_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*_db(tmp_path), "sense", "plan", "--room", "12x9x3", "--advise", "8"]
    assert main(args) == exit_codes.OK
    out = capsys.readouterr().out
    assert out.startswith("advised layout for 8 nodes in a 12 x 9 x 3 m room (best of ")
    assert out.count("[[sensing_nodes]]") == 8
    assert "with 10 nodes: " in out
    assert "# south wall, " in out and "0.15 m high (skirting)" in out
    assert machine_text(out.split("nodes (paste")[0]) is None
    assert main([*args, "--json"]) == exit_codes.OK
    data = json.loads(capsys.readouterr().out)
    assert len(data["advised_nodes"]) == 8 and data["rating"] in ("good", "fair", "poor")
    assert {"x_m", "y_m", "z_m", "place"} <= set(data["advised_nodes"][0])
    # For the site's own room (the demo: 12 x 9 x 3 m).
    assert main([*_db(tmp_path), "sense", "plan", "--advise", "8", "--json"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out)["room_m"] == [12.0, 9.0, 3.0]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--room", "5x5x2.5", "--advise", "2"], "3-16 nodes"),
        (["--room", "5x5x2.5", "--advise", "4", "--nodes-at", CORNERS], "either --nodes-at"),
        (["--room", "5x5x2.5"], "--room goes with --nodes-at or --advise N"),
        (["--nodes-at", CORNERS], "--nodes-at goes with --room"),
    ],
)
def test_advise_refusals_name_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    assert main([*_db(tmp_path), "sense", "plan", *extra]) == exit_codes.USAGE
    assert words in capsys.readouterr().err


def test_a_site_of_several_rooms_asks_which_room(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.engine.test_sensing_rooms_runtime import TWO_SIMULATED_ROOMS

    site = tmp_path / "rooms.toml"
    site.write_text(
        '[site]\nname = "Two rooms"\ngeo = { lat = 51.5, lon = -0.14 }\n' + TWO_SIMULATED_ROOMS,
        encoding="utf-8",
    )
    plan = [*_db(tmp_path), "sense", "plan", "--site", str(site), "--json"]
    assert main(plan) == exit_codes.USAGE
    assert capsys.readouterr().err == (
        "watchfloor sense plan: site Two rooms has 2 sensing rooms (lab, office): "
        "name one with --room-id\n"
    )
    assert main([*plan, "--room-id", "attic"]) == exit_codes.SITE
    assert capsys.readouterr().err == (
        "watchfloor sense plan: --room-id attic: site Two rooms has no such sensing room "
        "(rooms: lab, office)\n"
    )
    assert main([*plan, "--room-id", "office"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out)["nodes"] == 4
    replay = [*_db(tmp_path), "sense", "replay", "--site", str(site)]
    assert main(replay) == exit_codes.USAGE
    assert "name one with --room" in capsys.readouterr().err
