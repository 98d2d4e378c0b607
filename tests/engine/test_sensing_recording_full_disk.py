"""A sensing room's recording onto a real, tiny, full disk is never silent:
``watchfloor engine`` with its data dir on a tmpfs (mounted in a private mount namespace, as
tests/engine/test_media_full_disk.py does) and a simulated sensing room stores a
``recording.failed`` event from the room, raises one "Recording failing in sensing room …:
disk full" alert, reports the records it could not write (the report's
``sensing_recording``, stderr) and exits 6. ``watchfloor sense simulate --record`` into a
folder that cannot be written does the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from engine.sensing.service import BLOB_HISTORY_S
from tests.conftest import write_site
from tests.engine.test_media_full_disk import _stored, engine_on_small_disk
from tests.engine.test_sensing_recording_failures import SIMULATED_ROOM

DISK_BYTES = 64 * 1024  # a second or two of a simulated room's recording


@pytest.mark.slow
def test_a_live_engine_whose_sensing_recording_fills_the_disk_says_what_it_lost(
    tmp_path: Path, db_url: str
) -> None:
    site = write_site(tmp_path / "site.toml", extra=SIMULATED_ROOM)
    code, _left, report, result = engine_on_small_disk(tmp_path, db_url, site, 8, DISK_BYTES)
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
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    folder = tmp_path / "recording"
    folder.write_text("not a folder")  # every write fails (EEXIST): a real OS error
    report_file = tmp_path / "report.json"
    argv = ["--db", db, "sense", "simulate", "--nodes", "4", "--walkers", "0"]
    argv += ["--duration", str(BLOB_HISTORY_S), "--record", str(folder)]
    argv += ["--report", str(report_file)]
    assert main(argv) == exit_codes.MEDIA_LOST
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
