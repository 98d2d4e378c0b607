"""Losing media is never silent: ``watchfloor analyze`` onto a real, tiny, full tmpfs
(mounted in a private mount namespace, as tests/engine/test_evidence_full_disk.py does)
accounts for every clip and snapshot it could not write (a ``recording.failed`` event each,
one "Recording failing" alert, exit 6, the report's ``media_lost`` and stderr), and leaves
no row naming a file that is not there and no temp file. With the database on the same
full disk the events cannot be stored, yet the losses are still reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from console import exit_codes
from engine.alerts.records import list_alerts
from engine.store import Store
from engine.store.models import Event, Media
from tests.conftest import TESTDATA, cut_video, write_site
from tests.engine.test_evidence_full_disk import _namespaces_work

DISK_BYTES = 200 * 1024  # a few snapshots fit; no 768×576 clip of a few seconds does
VIDEO_FRAMES = 60  # 6 s of vtest.avi: people from the first second
DURATION_S = 15  # the live engine's drill: a clip lost every ~2 s with people in view

# Mount the tmpfs, optionally move the database onto it and fill the disk, run analyze,
# then list what is left on the disk (it vanishes with the namespace) and copy the
# database back out for the test to read.
_SCRIPT = """
disk="$1"; db_here="$2"; db_out="$3"; shift 3
mount -t tmpfs -o size="$DISK_BYTES" tmpfs "$disk" || exit 99
if [ -n "$db_here" ]; then
    cp "$db_out" "$disk/watchfloor.db" || exit 98
    # leave a few pages for the first writes, then nothing
    head -c "$((DISK_FREE_AFTER_DB))" /dev/zero > "$disk/keep" 2>/dev/null
    dd if=/dev/zero of="$disk/fill" bs=4096 2>/dev/null
    rm -f "$disk/keep"
fi
"$@"
echo "exit=$?"
echo "left:"
find "$disk" -type f | sort
if [ -n "$db_here" ]; then
    for f in "$disk"/watchfloor.db*; do cp "$f" "$(dirname "$db_out")/" ; done
fi
"""


@pytest.fixture(scope="module")
def vtest_6s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 6 s of the shared pedestrian sample (read-only)."""
    return cut_video(
        TESTDATA / "video" / "vtest.avi",
        tmp_path_factory.mktemp("v") / "vtest.avi",
        VIDEO_FRAMES,
    )


def _analyze_on_small_disk(
    tmp_path: Path, db_url: str, video: Path, *, db_on_disk: bool
) -> tuple[int, list[str], dict[str, Any], str, str]:
    """Run ``watchfloor analyze`` with the data dir (and with ``db_on_disk`` the SQLite
    database, copied there) on a fresh tiny tmpfs: (exit code, files left on the disk
    relative to the data dir, the report, stdout, stderr)."""
    reason = _namespaces_work(tmp_path)
    if reason is not None:
        pytest.skip(reason)
    disk = tmp_path / "small-disk"
    disk.mkdir()
    data = disk / "data"
    db_file = Path(db_url.removeprefix("sqlite:///"))
    run_url = f"sqlite:///{disk / 'watchfloor.db'}" if db_on_disk else db_url
    report_path = tmp_path / "report.json"
    command = [
        sys.executable,
        "-m",
        "console",
        "--db",
        run_url,
        "analyze",
        str(video),
        "--detector",
        "hog",
        "--report",
        str(report_path),
    ]
    result = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            _SCRIPT,
            "sh",
            str(disk),
            "y" if db_on_disk else "",
            str(db_file),
            *command,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).resolve().parents[2],
        env={
            **os.environ,
            "WATCHFLOOR_DATA_DIR": str(data),
            "DISK_BYTES": str(DISK_BYTES if not db_on_disk else 2 * 1024 * 1024),
            "DISK_FREE_AFTER_DB": str(160 * 1024),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    exits = [line for line in lines if line.startswith("exit=")]
    assert exits, result.stdout + result.stderr
    code = int(exits[-1].removeprefix("exit="))
    prefix = f"{data}/"
    left = [
        line.removeprefix(prefix)
        for line in lines[lines.index("left:") + 1 :]
        if line.startswith(prefix)
    ]
    assert report_path.exists(), result.stdout + result.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return code, left, report, result.stdout, result.stderr


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


# Given a way to stop the engine (SIGTERM, as an operator does) and whether it still runs:
# a started thread that stops it once the test has seen what it waits for.
StopWhen = Callable[[Callable[[], None], Callable[[], bool]], threading.Thread]


def engine_on_small_disk(
    tmp_path: Path,
    db_url: str,
    site: Path,
    duration_s: float,
    disk_bytes: int,
    *,
    stop_when: StopWhen | None = None,
) -> tuple[int, list[str], dict[str, Any], subprocess.CompletedProcess[str]]:
    """Run ``watchfloor engine --site SITE`` for ``duration_s`` (or until ``stop_when``
    stops it) with its data dir on a fresh tmpfs of ``disk_bytes``: (exit code, files left
    on the disk relative to the data dir, the report, the finished process). Skips where no
    private tmpfs can be mounted."""
    reason = _namespaces_work(tmp_path)
    if reason is not None:
        pytest.skip(reason)
    disk = tmp_path / "small-disk"
    disk.mkdir()
    data = disk / "data"
    report_path = tmp_path / "report.json"
    command = [sys.executable, "-m", "console", "--db", db_url, "engine", "--site", str(site)]
    command += ["--duration", str(duration_s), "--report", str(report_path)]
    process = subprocess.Popen(
        ["unshare", "-rm", "sh", "-c", _SCRIPT, "sh", str(disk), "", "", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "WATCHFLOOR_DATA_DIR": str(data), "DISK_BYTES": str(disk_bytes)},
    )

    def stop_engine() -> None:  # the shell runs the engine as its child (unshare execs sh)
        for pid in _children(process.pid):
            os.kill(pid, signal.SIGTERM)

    watcher = None if stop_when is None else stop_when(stop_engine, lambda: process.poll() is None)
    try:
        stdout, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if watcher is not None:
            watcher.join()
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    lines = stdout.splitlines()
    exits = [line for line in lines if line.startswith("exit=")]
    assert exits, stdout + stderr
    prefix = f"{data}/"
    left = [
        line.removeprefix(prefix)
        for line in lines[lines.index("left:") + 1 :]
        if line.startswith(prefix)
    ]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return int(exits[-1].removeprefix("exit=")), left, report, result


def _stored(db_url: str) -> tuple[list[Event], list[Media], list[Any]]:
    store = Store(db_url)
    try:
        with store.sessions() as session:
            events = list(session.scalars(select(Event).order_by(Event.id)))
            media = list(session.scalars(select(Media)))
            session.expunge_all()
        alerts = list_alerts(store, limit=100)
    finally:
        store.close()
    return events, media, alerts


def _assert_nothing_names_a_missing_file(
    left: list[str], events: list[Event], media: list[Media], report: dict[str, Any]
) -> None:
    on_disk = set(left)
    assert not [name for name in left if name.endswith(".partial")], f"temp files left: {left}"
    for row in media:
        assert row.path in on_disk, f"media row {row.id} names {row.path}, not on the disk"
    for event in events:
        detail = event.detail or {}
        for key in ("snapshot", "path"):
            named = detail.get(key)
            if isinstance(named, str):
                assert named in on_disk, f"{event.kind} {event.id} names {named}, not on disk"
    for clip in report["clips"]:
        assert clip["path"] in on_disk, f"the report lists clip {clip['path']}, not on disk"


def _not_written(failed: list[Event]) -> list[str]:
    """Every file the stored ``recording.failed`` events name, sorted (each event lists the
    files it covers)."""
    return sorted(path for e in failed for path in e.detail["not_written"])


@pytest.mark.slow
def test_analyze_onto_a_full_disk_accounts_for_every_lost_clip_and_snapshot(
    tmp_path: Path, db_url: str, vtest_6s: Path
) -> None:
    code, left, report, stdout, stderr = _analyze_on_small_disk(
        tmp_path, db_url, vtest_6s, db_on_disk=False
    )
    # The exit code says so ...
    assert code == exit_codes.MEDIA_LOST, stderr
    lost = report["media_lost"]
    # ... the report lists every file lost, clips among them, and why ...
    assert report["media_lost_count"] == len(lost) > 0
    lost_clips = [m for m in lost if m["media"] == "clip"]
    assert lost_clips, f"no clip was lost on a {DISK_BYTES // 1024} kB disk: {lost}"
    assert {m["reason"] for m in lost} == {"disk full"}
    assert all(m["camera"] == report["camera"] for m in lost)
    # ... stderr names each of them, and the summary line says files were lost.
    assert f"watchfloor analyze: {len(lost)} files could not be written" in stderr
    for m in lost:
        assert f"  {m['media']} {m['path']}: " in stderr
    assert "LOST" in stdout

    events, media, alerts = _stored(db_url)
    # Every loss is in exactly one stored error event, which names the files it did not
    # write: the first at once, the rest gathered (a 6 s analysis: one batch, at its stop).
    failed = [e for e in events if e.kind == "recording.failed"]
    assert _not_written(failed) == sorted(m["path"] for m in lost)
    assert len(failed) == min(len(lost), 2), [e.detail["not_written"] for e in failed]
    assert {e.detail["reason"] for e in failed} == {"disk full"}
    assert all(e.source == f"camera:{report['camera']}" for e in failed)
    # One alert for the camera's failing recording, linked to its first failure.
    (alert,) = [a for a in alerts if a.kind == "recording"]
    assert alert.title == "Recording failing on camera vtest.avi: disk full"
    assert alert.severity == "critical"
    assert alert.event_id in {e.id for e in failed}
    assert report["alerts"] == [
        {"alert_id": alert.alert_id, "severity": "critical", "title": alert.title}
    ]
    # Nothing stored claims a file that is not there, and no temp file is left.
    _assert_nothing_names_a_missing_file(left, events, media, report)
    stored_clips = {row.path for row in media if row.kind == "clip"}
    assert not stored_clips & {m["path"] for m in lost_clips}


@pytest.mark.slow
def test_with_the_database_on_the_full_disk_too_the_losses_are_still_reported(
    tmp_path: Path, db_url: str, vtest_6s: Path
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the drill copies a SQLite file onto the disk")
    code, left, report, _stdout, stderr = _analyze_on_small_disk(
        tmp_path, db_url, vtest_6s, db_on_disk=True
    )
    # The database failed (its own exit code) ...
    assert code == exit_codes.DATABASE, stderr
    lost = report["media_lost"]
    assert "the database failed" in stderr
    # ... yet what was lost is counted in memory and reported.
    assert report["media_lost_count"] == len(lost) > 0
    assert f"watchfloor analyze: {len(lost)} file" in stderr
    for m in lost:
        assert f"  {m['media']} {m['path']}: " in stderr
    db_copy = Path(db_url.removeprefix("sqlite:///")).parent / "watchfloor.db"
    events, media, _alerts = _stored(f"sqlite:///{db_copy}")
    _assert_nothing_names_a_missing_file(left, events, media, report)


@pytest.mark.slow
def test_a_live_engine_on_a_full_disk_accounts_for_every_lost_file(
    tmp_path: Path, db_url: str
) -> None:
    """The drill on the live engine: ``watchfloor engine`` watching the pedestrian sample as
    a camera, its data dir on the same tiny tmpfs. Every clip or snapshot it could not write
    is a ``recording.failed`` event and in the report, one alert says so, it exits 6, and
    nothing stored names a file that is not there."""
    site = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{TESTDATA / "video" / "vtest.avi"}"\n'
        # Clips as files, a loss every couple of seconds: without continuous recording
        # (with it, a clip is a view onto the segments, whose full disk test_segments
        # drills).
        "recording = { continuous = false }\n",
    )
    code, left, report, result = engine_on_small_disk(
        tmp_path, db_url, site, DURATION_S, DISK_BYTES
    )
    assert code == exit_codes.MEDIA_LOST, result.stderr
    lost = report["media_lost"]
    assert report["media_lost_count"] == len(lost) > 0
    assert {m["reason"] for m in lost} == {"disk full"}
    assert "clips/snapshots could not be written (disk full)" in result.stderr
    events, media, alerts = _stored(db_url)
    failed = [e for e in events if e.kind == "recording.failed"]
    assert _not_written(failed) == sorted(m["path"] for m in lost)
    # Not a row per file: the first loss at once, then at most one event a minute (and what
    # was still gathered when the engine stopped).
    assert len(failed) <= DURATION_S / 60 + 2 < report["media_lost_count"], len(failed)
    (alert,) = [a for a in alerts if a.kind == "recording"]
    assert alert.title == "Recording failing on camera Plaza: disk full"
    on_disk = set(left)
    assert not [name for name in left if name.endswith(".partial")], left
    for row in media:
        assert row.path in on_disk, f"media row {row.id} names {row.path}, not on the disk"
    for event in events:
        named = (event.detail or {}).get("snapshot")
        if isinstance(named, str):
            assert named in on_disk, f"{event.kind} {event.id} names {named}, not on disk"
