"""Files from outside other than report files: a site file, a face photo and an incident's
media that are a FIFO or a link to ``/dev/zero``, and a site file with a 400-digit number.
Each is refused naming the file, without waiting on the FIFO or reading the device; the
cases that would hang or fill memory before the fix run in a child process with a timeout,
so a regression fails instead of hanging the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console import exit_codes
from engine.config import SiteConfigError, load_site
from engine.inbound import OutsideFileError, json_depth, loads_json, read_outside_file
from engine.media import read_small_file
from tests.conftest import write_site

CHILD_TIMEOUT_S = 120.0


def hostile(tmp_path: Path, name: str, kind: str) -> Path:
    path = tmp_path / name
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


def run_child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_the_shared_reader_refuses_what_is_not_a_regular_file_without_reading_it(
    tmp_path: Path, kind: str
) -> None:
    path = hostile(tmp_path, "x.csv", kind)
    with pytest.raises(OutsideFileError, match="not a regular file") as refused:
        read_outside_file(path, 1024)
    assert refused.value.path == path
    assert read_small_file(path, 1024) is None


def test_the_shared_reader_counts_bytes_and_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"x" * 2048)
    assert read_outside_file(path, 2048) == b"x" * 2048
    with pytest.raises(OutsideFileError, match="larger than 2,047 bytes"):
        read_outside_file(path, 2047)
    with pytest.raises(OutsideFileError, match="larger than 1 KiB"):
        read_outside_file(path, 1024)
    with pytest.raises(OutsideFileError, match="a folder"):
        read_outside_file(tmp_path, 10)


def test_a_name_no_file_can_have_is_refused_naming_it(tmp_path: Path) -> None:
    """A path from a stored row or a payload with a NUL byte raised ValueError, which the
    readers' callers, expecting OutsideFileError, let through (it ended MQTT publishing)."""
    path = tmp_path / "a\x00b.jpg"
    with pytest.raises(OutsideFileError, match="not a file name: embedded null byte"):
        read_outside_file(path, 1024)
    assert read_small_file(path, 1024) is None


def test_json_depth_is_checked_without_recursion() -> None:
    assert loads_json('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    assert json_depth([[[]]]) == 3 and json_depth(5) == 0
    for text in ("[" * 33 + "]" * 33, "[" * 100_000 + "]" * 100_000):
        with pytest.raises(ValueError, match="nested deeper than 32 levels"):
            loads_json(text)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_site_file_that_is_a_fifo_or_a_device_is_refused_naming_it(
    tmp_path: Path, kind: str
) -> None:
    site = hostile(tmp_path, "site.toml", kind)
    done = subprocess.run(
        [sys.executable, "-m", "console", "sense", "plan", "--site", str(site)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    assert done.returncode == exit_codes.SITE, done.stderr
    assert str(site) in done.stderr and "not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_site_file_with_a_400_digit_number_is_refused_naming_the_field(tmp_path: Path) -> None:
    room = "[room]\nwidth_m = 1" + "0" * 400 + "\ndepth_m = 9.0\nheight_m = 3.0\n"
    site = write_site(tmp_path / "site.toml", extra=room)
    with pytest.raises(SiteConfigError, match=r"room\.width_m: expected a finite number"):
        load_site(site)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_face_photo_that_is_a_fifo_or_a_device_is_refused(tmp_path: Path, kind: str) -> None:
    photo = hostile(tmp_path, "face.jpg", kind)
    code = (
        "import sys; from pathlib import Path\n"
        "from engine.identity.faces import ImageReadError, read_image\n"
        "try:\n"
        "    read_image(Path(sys.argv[1]))\n"
        "except ImageReadError as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    done = run_child(code, str(photo))
    assert done.returncode == 3, done.stderr
    assert str(photo) in done.stdout and "not a regular file" in done.stdout


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_incident_media_that_is_a_fifo_or_a_device_is_refused(tmp_path: Path, kind: str) -> None:
    media = hostile(tmp_path, "clip.mp4", kind)
    code = (
        "import sys; from pathlib import Path; from datetime import datetime, UTC\n"
        "from engine.incidents.media import MediaRejectedError, prepare_media\n"
        "try:\n"
        "    prepare_media(Path(sys.argv[1]), now=datetime.now(UTC), data_dir=Path(sys.argv[2]),\n"
        "                  detector=None)\n"
        "except MediaRejectedError as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    done = run_child(code, str(media), str(tmp_path / "data"))
    assert done.returncode == 3, done.stderr
    assert "not a regular file" in done.stdout or "not a file" in done.stdout
    assert datetime.now(UTC)  # the child did not hang: it answered within the timeout
