"""``watchfloor appearance search|similar`` on a real database: what an investigator types
and reads back (site time; --json in UTC), and what it cannot search."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.store import Store
from tests.appearance_people import BLACK, BLUE, GREEN, RED, WHITE, record_of, recorded
from tests.conftest import write_site
from tests.store_helpers import run_command, sync_site

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles


@pytest.fixture
def db(db_url: str, tmp_path: Path) -> list[str]:
    """Cameras ``gate`` and ``yard`` of a site in Los Angeles, with four tracks recorded:
    red top on the gate, white/black on the gate, green/black on the yard, and red top on
    the yard the next day."""
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n[[cameras]]\nid = "yard"\nurl = "b.mp4"\n',
        extra='timezone = "America/Los_Angeles"\n',
    )
    store = Store(db_url)
    cameras = sync_site(store, load_site(site), REAL_CLOCK).cameras
    for camera, track, top, bottom, at in (
        ("gate", 1, RED, BLUE, T0),
        ("gate", 2, WHITE, BLACK, T0 + timedelta(minutes=5)),
        ("yard", 3, GREEN, BLACK, T0 + timedelta(hours=1)),
        ("yard", 4, RED, BLUE, T0 + timedelta(days=1)),
    ):
        run_command(store, recorded(cameras[camera], track, record_of(top, bottom), at))
    store.close()
    return ["--db", db_url, "--site", str(site)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_by_description_prints_ranked_rows_in_site_time(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *db, "appearance", "search", "red top")
    assert code == exit_codes.OK, err
    lines = out.splitlines()
    assert lines[0].startswith("top: red — 4 tracks compared, times in America/Los_Angeles")
    assert "2026-11-21 09:00:00 (20 s)  yard  track yard:4  red top, blue bottom" in lines[1]
    assert "2026-11-20 09:00:00 (20 s)  gate  track gate:1  red top, blue bottom" in lines[2]
    code, out, err = run(
        capsys, *db, "appearance", "search", "red top", "--camera", "gate", "--json"
    )
    found = json.loads(out)
    assert [(h["camera"], h["track_id"]) for h in found["hits"]] == [("gate", 1)]
    assert found["hits"][0]["first_seen"] == "2026-11-20T17:00:00+00:00"
    code, out, _err = run(
        capsys,
        *db,
        "appearance",
        "search",
        "white shirt black trousers",
        "--until",
        "2026-11-20 10:00",
        "--limit",
        "1",
    )
    assert "track gate:2  white top, black bottom" in out.splitlines()[1]
    code, out, _err = run(capsys, *db, "appearance", "search", "purple coat")
    assert code == exit_codes.OK and out.splitlines()[-1] == "no one found"


def test_similar_ranks_the_same_clothes_on_another_camera_and_day_first(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *db, "appearance", "similar", "gate:1", "--json")
    assert code == exit_codes.OK, err
    found = json.loads(out)
    assert found["example"]["track_id"] == 1
    assert (found["hits"][0]["camera"], found["hits"][0]["track_id"]) == ("yard", 4)
    assert 1 not in [h["track_id"] for h in found["hits"] if h["camera"] == "gate"]
    code, out, err = run(capsys, *db, "appearance", "similar", "4")
    assert code == exit_codes.OK and "track gate:1" in out.splitlines()[1], err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("search", "someone odd"), "no colour in 'someone odd'"),
        (("similar", "99"), "no appearance recorded for track 99"),
        (("similar", "yard:x"), "TRACK is a number or CAMERA:NUMBER"),
        (("search", "red", "--camera", "roof"), "no camera roof"),
        (("search", "red", "--limit", "0"), "--limit must be 1-200"),
    ],
)
def test_what_cannot_be_searched_is_said(
    db: list[str], capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _out, err = run(capsys, *db, "appearance", *argv)
    assert code == exit_codes.USAGE and message in err
