"""``watchfloor analyze VIDEO [--camera KEY] [--site FILE]``: the recording is filed under
a camera of the site (the one asked for, else one named after the file), a camera the
site does not have is refused naming the ones it has, and the site file comes from the
subcommand's --site or the global one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from console import exit_codes
from console.cli import main
from engine.store import Store
from engine.store.models import Camera, Event, Site
from tests.conftest import TESTDATA, cut_video, write_site

GATE = '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "rtsp://gate.invalid/live"\n'
YARD = '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "rtsp://yard.invalid/live"\n'


@pytest.fixture(scope="module")
def vtest_3s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 3 s of the shared pedestrian sample as ``vtest.avi`` (read-only)."""
    return cut_video(
        TESTDATA / "video" / "vtest.avi", tmp_path_factory.mktemp("v") / "vtest.avi", 30
    )


def _cameras_with_events(db_url: str) -> dict[tuple[str, str], int]:
    """(site name, camera key) → events stored under that camera."""
    store = Store(db_url)
    try:
        with store.sessions() as session:
            rows = session.execute(
                select(Site.name, Camera.key, Event.id)
                .join(Camera, Camera.id == Event.camera_id)
                .join(Site, Site.id == Camera.site_id)
            ).all()
    finally:
        store.close()
    counts: dict[tuple[str, str], int] = {}
    for site, key, _ in rows:
        counts[(site, key)] = counts.get((site, key), 0) + 1
    return counts


def test_a_camera_the_site_lacks_is_refused_naming_its_cameras(
    vtest_3s: Path, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site.toml", GATE + YARD)
    code = main(
        ["--db", db_url, "analyze", str(vtest_3s), "--site", str(site), "--camera", "lobby"]
    )
    assert code == exit_codes.USAGE
    err = capsys.readouterr().err
    assert err.strip() == (
        "watchfloor analyze: --camera: site Test site has no camera 'lobby': its cameras "
        "are gate (Front gate), yard (Yard)"
    )
    assert _cameras_with_events(db_url) == {}  # refused before anything was analysed


def test_analysis_is_filed_under_the_camera_asked_for(
    vtest_3s: Path, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site.toml", GATE + YARD)
    # The global --site names the file here; the subcommand's own --site is tried below.
    code = main(
        [
            "--db",
            db_url,
            "--site",
            str(site),
            "analyze",
            str(vtest_3s),
            "--camera",
            "yard",
            "--json",
        ]
    )
    assert code == exit_codes.OK, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert (report["site"], report["camera"], report["camera_name"]) == (
        "Test site",
        "yard",
        "Yard",
    )
    counts = _cameras_with_events(db_url)
    assert set(counts) == {("Test site", "yard")} and counts[("Test site", "yard")] > 0


def test_without_a_camera_the_recording_gets_one_named_after_the_file(
    vtest_3s: Path, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site.toml", GATE)
    for _ in range(2):  # analysed again: the same camera
        code = main(["--db", db_url, "analyze", str(vtest_3s), "--site", str(site)])
        assert code == exit_codes.OK
        out = capsys.readouterr().out
        assert out.rstrip().endswith("filed under camera vtest.avi (vtest) of Test site")
    store = Store(db_url)
    try:
        with store.sessions() as session:
            cameras = session.execute(
                select(Camera.key, Camera.name, Camera.source_kind, Camera.enabled)
            ).all()
    finally:
        store.close()
    assert [tuple(c) for c in cameras] == [("vtest", "vtest.avi", "recording", True)]


def test_the_help_says_how_many_people_hog_finds_as_measured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """HOG finds 20.3 % of the people on the annotated vtest frames (python -m benchmarks
    detection_quality; docs/explanations/camera-analytics.md): a fifth, not a third."""
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    words = " ".join(capsys.readouterr().out.split())
    assert "hog is faster and finds about a fifth of the people" in words
    assert "third" not in words
