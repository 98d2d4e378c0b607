"""An export into a full disk: ``watchfloor export`` onto a real, tiny tmpfs (mounted in a
private mount namespace, so no root is needed and nothing outside the test sees it) fails
with the disk's own error, and leaves no folder, no partial folder and no manifest there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.test_evidence import recorded, whole_range

__all__ = ["recorded"]  # the fixture, used by name below

TMPFS_BYTES = 256 * 1024  # far less than the recorded clips


def _namespaces_work(tmp_path: Path) -> str | None:
    """None when ``unshare -rm`` can mount a tmpfs here, else why not."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = tmp_path / "probe"
    probe.mkdir()
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return None if result.returncode == 0 else f"cannot mount a tmpfs: {result.stderr.strip()}"


@pytest.mark.slow
def test_an_export_into_a_full_disk_fails_cleanly(
    recorded: tuple[str, Path], tmp_path: Path
) -> None:
    reason = _namespaces_work(tmp_path)
    if reason is not None:
        pytest.skip(reason)
    db_url, data = recorded
    start, end = whole_range(db_url)
    disk = tmp_path / "small-disk"
    disk.mkdir()
    script = (
        'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99\n'
        '"$3" -m console --db "$4" export --from "$5" --to "$6" --out "$2/case"\n'
        'echo "exit=$?"\n'
        'echo "left:"; ls -A "$2"\n'
    )
    result = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            script,
            "sh",
            str(TMPFS_BYTES),
            str(disk),
            sys.executable,
            db_url,
            start.isoformat(),
            end.isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "WATCHFLOOR_DATA_DIR": str(data)},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "exit=1" in lines, result.stdout + result.stderr
    assert "No space left on device" in result.stderr
    assert "watchfloor export:" in result.stderr
    left = lines[lines.index("left:") + 1 :]
    assert left == [], f"the full disk still holds {left}"
