"""A sensing room's recording onto a real, tiny, full disk is never silent:
``watchfloor engine`` with its data dir on a tmpfs (mounted in a private mount namespace, as
tests/engine/test_media_full_disk.py does) and a simulated sensing room stores a
``recording.failed`` event from the room, raises one "Recording failing in sensing room …:
disk full" alert, reports the records it could not write (the report's
``sensing_recording``, stderr) and exits 6. ``watchfloor sense simulate --record`` into a
folder that cannot be written does the same.

Each run is stopped as an operator stops it (SIGTERM) once the store holds the room's
``recording.failed`` event and its alert: what the test needs has happened then, however
long a busy machine took to start the nodes and fill the disk. A long ``--duration`` is only
the fail-safe. The recording's first failure keeps its block to retry, so what it still
holds when it stops is lost and counted."""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from console import exit_codes
from console.cli import main
from engine.alerts.records import list_alerts
from engine.store import Store
from engine.store.models import Event
from tests.conftest import write_site
from tests.engine.test_media_full_disk import _stored, engine_on_small_disk
from tests.engine.test_sensing_recording_failures import SIMULATED_ROOM
from tests.waiting import WAIT_S

DISK_BYTES = 64 * 1024  # a second or two of a simulated room's recording
FAIL_SAFE_S = 2 * WAIT_S  # --duration: the runs end on SIGTERM before (WAIT_S at the most)
POLL_S = 0.1  # real seconds between looks at the store


def _recording_failed(store: Store, source: str) -> bool:
    """Whether ``store`` holds a ``recording.failed`` event from ``source`` and a recording
    alert."""
    with store.sessions() as session:
        failed = session.scalars(
            select(Event.id).where(Event.kind == "recording.failed", Event.source == source)
        ).first()
    return failed is not None and any(a.kind == "recording" for a in list_alerts(store))


def _stop_once_recording_failed(
    db_url: str, source: str, stop: Callable[[], None], running: Callable[[], bool]
) -> threading.Thread:
    """A started thread that calls ``stop`` once the store holds ``source``'s failed
    recording and its alert, or after :data:`WAIT_S` (the test then fails on what is
    missing), unless ``running()`` says the run has already ended."""

    def watch() -> None:
        store = Store(db_url)
        try:
            deadline = time.monotonic() + WAIT_S
            while running() and not _recording_failed(store, source):
                if time.monotonic() >= deadline:
                    break
                time.sleep(POLL_S)
        finally:
            store.close()
        if running():
            stop()

    thread = threading.Thread(target=watch, name="stop-once-recording-failed", daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_a_live_engine_whose_sensing_recording_fills_the_disk_says_what_it_lost(
    tmp_path: Path, db_url: str
) -> None:
    site = write_site(tmp_path / "site.toml", extra=SIMULATED_ROOM)
    code, _left, report, result = engine_on_small_disk(
        tmp_path, db_url, site, FAIL_SAFE_S, DISK_BYTES,
        stop_when=functools.partial(_stop_once_recording_failed, db_url, "sensing:room"),
    )  # fmt: skip
    assert code == exit_codes.MEDIA_LOST, result.stderr
    recording = report["sensing_recording"]
    # What it kept in memory to retry was still unwritten when it stopped: lost, counted.
    assert recording["lost_records"] == recording["dropped"] > 0
    assert recording["lost_blocks"] > 0 and recording["write_errors"] > 0
    assert "No space left on device" in recording["last_error"]
    assert report["media_lost_count"] == 0  # no camera: no clip or snapshot was lost
    assert (
        f"watchfloor engine: {recording['lost_records']} sensing records "
        f"({recording['lost_blocks']} blocks) could not be written"
    ) in result.stderr

    events, _media, alerts = _stored(db_url)
    failed = [e for e in events if e.kind == "recording.failed"]
    assert failed and {e.source for e in failed} == {"sensing:room"}
    assert {e.detail["reason"] for e in failed} == {"disk full"}
    assert failed[0].detail["lost"] == 0  # the spell began with the data kept to retry
    assert failed[-1].detail["lost"] == recording["lost_records"]  # said when it closed
    (alert,) = [a for a in alerts if a.kind == "recording"]
    assert alert.title == "Recording failing in sensing room Test site sensing: disk full"
    assert alert.severity == "critical" and alert.source == "sensing:room"
    assert alert.event_id in {e.id for e in failed}


@pytest.mark.slow
def test_sense_simulate_recording_into_a_folder_it_cannot_write_exits_6(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = db_url  # already migrated: the watcher reads it while the command runs
    folder = tmp_path / "recording"
    folder.write_text("not a folder")  # every write fails (EEXIST): a real OS error
    report_file = tmp_path / "report.json"
    argv = ["--db", db, "sense", "simulate", "--nodes", "4", "--walkers", "0"]
    argv += ["--duration", str(FAIL_SAFE_S), "--record", str(folder)]
    argv += ["--report", str(report_file)]
    # SIGTERM to this process: the command's handler (installed while it runs) stops it;
    # around it, one that ignores it, should the command have ended by itself meanwhile.
    running = threading.Event()
    running.set()
    previous = signal.signal(signal.SIGTERM, lambda _number, _frame: None)
    watcher = _stop_once_recording_failed(
        db, "sensing:sim", lambda: os.kill(os.getpid(), signal.SIGTERM), running.is_set
    )
    try:
        code = main(argv)
    finally:
        running.clear()
        watcher.join()
        signal.signal(signal.SIGTERM, previous)
    assert code == exit_codes.MEDIA_LOST
    err = capsys.readouterr().err
    recording = json.loads(report_file.read_text(encoding="utf-8"))["recording"]
    assert recording["lost_records"] > 0 and recording["bytes_on_disk"] == 0
    assert (
        f"watchfloor sense simulate: {recording['lost_records']} sensing records "
        f"({recording['lost_blocks']} blocks) could not be written to {folder}"
    ) in err
    events, _media, alerts = _stored(db)
    failed = [e for e in events if e.kind == "recording.failed"]
    assert {e.source for e in failed} == {"sensing:sim"}
    assert failed[-1].detail["lost"] == recording["lost_records"]
    (alert,) = [a for a in alerts if a.kind == "recording"]
    assert alert.title == "Recording failing in sensing room Simulated room: file exists"
