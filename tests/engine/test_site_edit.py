"""Editing the site file in place (engine.site_edit): cameras added, changed and removed
keep the admin's comments and order; a save is validated, atomic and keeps the previous
version; a file changed meanwhile, a password in a URL, an invalid value, a FIFO or an
oversized file are refused with the file untouched."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from engine.config import MAX_SITE_FILE_BYTES, load_site
from engine.site_edit import SiteEditError, open_site_file, previous_path

SITE = """\
# Watchfloor site file for the depot (kept by Facilities; ask Sam before changing).
[site]
name = "Depot"
geo = { lat = 51.5, lon = -0.14 }

[recording]
keep_all_days = 7   # a week of everything

# The gate camera watches the lorry entrance.
[[cameras]]
id = "gate"
name = "Gate"     # as the drivers call it
url = "gate.mp4"
recording = { keep_events_days = 60 }

[[cameras]]
id = "yard"
url = "yard.mp4"  # temporary: the yard's real camera arrives in March
"""


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    file = tmp_path / "site.toml"
    file.write_text(SITE, encoding="utf-8")
    return file


def test_adding_a_camera_keeps_every_comment_and_line_and_the_previous_version(
    site_file: Path,
) -> None:
    edit = open_site_file(site_file)
    edit.add_camera(
        {
            "id": "dock",
            "name": "Loading dock",
            "url": "rtsp://192.0.2.10:554/main",
            "password_env": "DOCK_PASSWORD",
            "recording": {"keep_all_days": 14},
        }
    )
    saved = edit.save()
    text = site_file.read_text(encoding="utf-8")
    # Everything the admin wrote is still there, in order, and the camera follows it.
    assert text.startswith(SITE)
    added = text[len(SITE) :]
    assert "[[cameras]]" in added and 'id = "dock"' in added
    assert "recording = {keep_all_days = 14}" in added.replace("{ ", "{").replace(" }", "}")
    assert "DOCK_PASSWORD" in added and "192.0.2.10" in added
    # What it replaced is kept beside it, byte for byte.
    assert saved.previous == previous_path(site_file)
    assert saved.previous.read_text(encoding="utf-8") == SITE
    # And the new file loads as the site, with the camera's settings.
    site = load_site(site_file)
    assert [c.id for c in site.cameras] == ["gate", "yard", "dock"]
    assert site.recording_of("dock").keep_all_days == 14
    assert saved.site.cameras[2].name == "Loading dock"


def test_editing_and_removing_cameras_keeps_the_other_fields_and_comments(
    site_file: Path,
) -> None:
    edit = open_site_file(site_file)
    edit.edit_camera("yard", {"name": "Yard", "url": "yard-new.mp4"})
    edit.edit_camera("gate", {"recording": None, "first_frame_s": 20})
    edit.save()
    text = site_file.read_text(encoding="utf-8")
    assert "# The gate camera watches the lorry entrance." in text
    assert 'name = "Gate"     # as the drivers call it' in text
    assert "keep_events_days = 60" not in text
    site = load_site(site_file)
    assert site.cameras[1].name == "Yard" and site.cameras[1].url.endswith("yard-new.mp4")
    assert site.cameras[0].first_frame_s == 20 and site.recording_of("gate").keep_events_days == 30

    edit = open_site_file(site_file)
    edit.remove_camera("gate")
    edit.save()
    site = load_site(site_file)
    assert [c.id for c in site.cameras] == ["yard"]
    assert "# Watchfloor site file for the depot" in site_file.read_text(encoding="utf-8")
    edit = open_site_file(site_file)
    edit.remove_camera("yard")
    edit.save()
    assert load_site(site_file).cameras == ()
    # A camera added to a file without any goes at its end, and the file loads.
    edit = open_site_file(site_file)
    edit.add_camera({"id": "gate", "url": "gate.mp4"})
    edit.save()
    assert [c.id for c in load_site(site_file).cameras] == ["gate"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda e: e.add_camera({"id": "dock", "url": "rtsp://sam:hunter2@192.0.2.10/main"}),
            "the url carries a password",
        ),
        (
            lambda e: e.edit_camera("gate", {"url": "rtsp://admin:admin@192.0.2.11/"}),
            "the url carries a password",
        ),
        (lambda e: e.add_camera({"id": "gate", "url": "x.mp4"}), "a camera 'gate' is already"),
        (lambda e: e.add_camera({"id": "../etc", "url": "x.mp4"}), "camera id '../etc'"),
        (lambda e: e.add_camera({"id": "dock"}), "a url is needed"),
        (lambda e: e.add_camera({"id": "dock", "url": "x", "fps": 5}), "unknown field 'fps'"),
        (lambda e: e.edit_camera("dock", {"name": "Dock"}), "no camera 'dock'.*gate, yard"),
        (lambda e: e.edit_camera("gate", {"id": "front"}), "is not changed"),
        (lambda e: e.edit_camera("gate", {"url": None}), "needs a url"),
        (
            lambda e: (e.edit_camera("gate", {"first_frame_s": 0}), e.save()),
            r"not saved: .*site.toml:\d+: cameras\[0\].first_frame_s: 0 is outside 1\.\.3600",
        ),
        (
            lambda e: (e.edit_camera("gate", {"recording": {"keep_all_days": -1}}), e.save()),
            "not saved: .*keep_all_days.*outside 0..3650",
        ),
    ],
)
def test_a_bad_edit_is_refused_naming_what_was_wrong_and_the_file_is_untouched(
    site_file: Path, change: object, message: str
) -> None:
    edit = open_site_file(site_file)
    with pytest.raises(SiteEditError, match=message):
        change(edit)  # type: ignore[operator]
    assert site_file.read_text(encoding="utf-8") == SITE
    assert not previous_path(site_file).exists()


def test_a_file_changed_since_it_was_read_is_not_overwritten(site_file: Path) -> None:
    edit = open_site_file(site_file)
    edit.add_camera({"id": "dock", "url": "dock.mp4"})
    # Someone else saves meanwhile (by hand, or another console).
    by_hand = SITE.replace('name = "Gate"', 'name = "Main gate"')
    site_file.write_text(by_hand, encoding="utf-8")
    with pytest.raises(SiteEditError, match="changed since it was read"):
        edit.save()
    assert site_file.read_text(encoding="utf-8") == by_hand


def test_two_saves_at_once_one_wins_and_the_other_is_refused(site_file: Path) -> None:
    edits = [open_site_file(site_file) for _ in range(2)]
    for n, edit in enumerate(edits):
        edit.add_camera({"id": f"cam{n}", "url": f"cam{n}.mp4"})
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def save(n: int) -> None:
        start.wait()
        try:
            edits[n].save()
            outcomes.append("saved")
        except SiteEditError:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "saved"]
    ids = [c.id for c in load_site(site_file).cameras]
    assert ids in (["gate", "yard", "cam0"], ["gate", "yard", "cam1"])


def test_a_link_is_followed_and_the_files_mode_is_kept(tmp_path: Path, site_file: Path) -> None:
    site_file.chmod(0o640)
    link = tmp_path / "current.toml"
    link.symlink_to(site_file)
    edit = open_site_file(link)
    edit.edit_camera("yard", {"name": "Yard"})
    edit.save()
    assert link.is_symlink() and load_site(link).cameras[1].name == "Yard"
    assert stat.S_IMODE(site_file.stat().st_mode) == 0o640
    assert previous_path(site_file).read_text(encoding="utf-8") == SITE
    # No temporary file is left behind.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")) == []


def test_a_fifo_or_an_oversized_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(SiteEditError, match=r"fifo\.toml"):
        open_site_file(fifo)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * MAX_SITE_FILE_BYTES)
    with pytest.raises(SiteEditError, match="larger than"):
        open_site_file(big)
    broken = tmp_path / "broken.toml"
    broken.write_text("[site\nname = 1\n", encoding="utf-8")
    with pytest.raises(SiteEditError, match="not a TOML file that can be edited"):
        open_site_file(broken)
