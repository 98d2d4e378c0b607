"""Evidence export and verification on what the engine really recorded (a stretch of the
pedestrian sample analysed with clips and snapshots): every file hashed and signed, a byte
changed anywhere named by ``verify``, and a failed export leaving nothing that looks whole."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.cli import main
from engine.history.evidence import (
    MANIFEST,
    EvidenceError,
    export_evidence,
    verify_evidence,
)
from engine.history.signing import signing_key
from engine.sensing.recording.recorder import RecordingReader
from engine.sensing.recording.replay import replay_recording
from engine.sitetime import UTC_TIME, SiteTime
from engine.store import Store
from engine.store.models import Event, Media
from tests.engine.sensing.test_service import ROOM
from tests.machine_text import machine_text


@pytest.fixture
def recorded(plaza_15s_analysed: Path, tmp_path: Path) -> tuple[str, Path]:
    """A store holding 15 s of the plaza analysed with clips and snapshots; its data dir
    (this test's own copy of both: media paths are stored relative to the data dir)."""
    data = Path(os.environ["WATCHFLOOR_DATA_DIR"])
    shutil.copytree(plaza_15s_analysed / "data", data, dirs_exist_ok=True)
    shutil.copyfile(plaza_15s_analysed / "evidence.db", tmp_path / "evidence.db")
    return f"sqlite:///{tmp_path / 'evidence.db'}", data


def whole_range(db_url: str) -> tuple[datetime, datetime]:
    store = Store(db_url)
    with store.sessions() as session:
        times = [e.ts for e in session.query(Event).all()]
        clips = session.query(Media).filter(Media.kind == "clip").count()
    store.close()
    assert times and clips >= 1
    return min(times) - timedelta(minutes=1), max(times) + timedelta(minutes=1)


@pytest.mark.slow
def test_an_export_verifies_and_names_any_altered_added_or_missing_file(
    recorded: tuple[str, Path], tmp_path: Path
) -> None:
    db_url, data = recorded
    start, end = whole_range(db_url)
    store = Store(db_url)
    out = tmp_path / "case-17"
    result = export_evidence(
        store,
        start=start,
        end=end,
        out_dir=out,
        media_root=data,
        key_dir=data,
        exporter="account:ian",
        now=datetime.now(UTC),
        site_time=UTC_TIME,
        cameras=["plaza"],
    )
    store.close()
    assert result.clips >= 1 and result.snapshots >= 2 and result.events >= 2
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["exporter"] == "account:ian" and manifest["software"]["watchfloor"]
    assert {f["path"] for f in manifest["files"]} >= {"events.json", "report.html"}
    clip = next(f for f in manifest["files"] if f["path"].startswith("clips/"))
    # The copy is the recording: same bytes as the data dir's file, same hash as stored.
    assert clip["sha256"] == clip["recorded_sha256"]
    assert verify_evidence(out).ok

    # One byte of the clip changed: verify names it.
    path = out / clip["path"]
    body = bytearray(path.read_bytes())
    body[len(body) // 2] ^= 0x01
    path.write_bytes(bytes(body))
    (out / "extra.txt").write_text("planted")
    snapshot = next(f for f in manifest["files"] if f["path"].startswith("snapshots/"))
    (out / snapshot["path"]).unlink()
    checked = verify_evidence(out)
    assert not checked.ok and checked.signature_ok
    assert checked.altered == (clip["path"],)
    assert checked.added == ("extra.txt",)
    assert checked.missing == (snapshot["path"],)

    # The manifest itself edited (a hash "fixed" to match): the signature fails.
    manifest["files"][0]["bytes"] += 1
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2))
    assert not verify_evidence(out).signature_ok


@pytest.mark.slow
def test_the_cli_exports_and_verifies_and_a_foreign_key_is_refused(
    recorded: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url, _ = recorded
    start, end = whole_range(db_url)
    out = tmp_path / "export"
    args = ["--db", db_url, "export", "--from", start.isoformat(), "--to", end.isoformat()]
    assert main([*args, "--cameras", "plaza", "--out", str(out), "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["clips"] >= 1
    assert main(["verify", str(out)]) == 0
    assert "intact" in capsys.readouterr().out
    # The installation's own public key is trusted; another key is not.
    own = (out / "public_key.pem").read_bytes()
    (tmp_path / "own.pem").write_bytes(own)
    assert main(["verify", str(out), "--key", str(tmp_path / "own.pem")]) == 0
    assert "intact" in capsys.readouterr().out
    from cryptography.hazmat.primitives import serialization

    other = (
        signing_key(tmp_path / "elsewhere")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (tmp_path / "other.pem").write_bytes(other)
    assert main(["verify", str(out), "--key", str(tmp_path / "other.pem"), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["trusted"] is False
    victim = next((out / "clips").rglob("*.mp4"))
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")
    assert main(["verify", str(out)]) == 1
    assert f"ALTERED  clips/{victim.relative_to(out / 'clips').as_posix()}" in (
        capsys.readouterr().out
    )


@pytest.mark.slow
def test_a_failed_export_leaves_nothing_that_claims_completeness(
    recorded: tuple[str, Path], tmp_path: Path
) -> None:
    db_url, data = recorded
    start, end = whole_range(db_url)
    store = Store(db_url)
    with store.sessions() as session:
        clip = session.query(Media).filter(Media.kind == "clip").first()
        assert clip is not None
        path = data / clip.path
    hidden = path.with_name(path.name + ".away")
    path.rename(hidden)  # the recording vanished (a disk fault) mid-export
    out = tmp_path / "broken"
    with pytest.raises(EvidenceError, match="is missing"):
        export_evidence(
            store,
            start=start,
            end=end,
            out_dir=out,
            media_root=data,
            key_dir=data,
            exporter="t",
            now=datetime.now(UTC),
            site_time=UTC_TIME,
        )
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".broken")]
    hidden.rename(path)
    # A destination in use is refused before anything is written.
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(EvidenceError, match="not an empty folder"):
        export_evidence(
            store,
            start=start,
            end=end,
            out_dir=tmp_path / "busy",
            media_root=data,
            key_dir=data,
            exporter="t",
            now=datetime.now(UTC),
            site_time=UTC_TIME,
        )
    with pytest.raises(EvidenceError, match="before it starts"):
        export_evidence(
            store,
            start=end,
            end=start,
            out_dir=tmp_path / "x",
            media_root=data,
            key_dir=data,
            exporter="t",
            now=datetime.now(UTC),
            site_time=UTC_TIME,
        )
    store.close()
    key = data / "evidence_signing_key.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"


@pytest.mark.slow
def test_an_attached_console_exports_recordings_it_fetches_and_says_which_it_could_not(
    recorded: tuple[str, Path], tmp_path: Path
) -> None:
    db_url, data = recorded
    start, end = whole_range(db_url)
    cache = tmp_path / "from-engines"
    store = Store(db_url)
    refuse: set[str] = set()

    def fetch(file: Path) -> Path:
        relative = file.relative_to(cache).as_posix()
        if relative in refuse:
            raise RuntimeError("server-a keeps this recording and is not running")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes((data / relative).read_bytes())
        return file

    def export(folder: str) -> Any:
        return export_evidence(
            store,
            start=start,
            end=end,
            out_dir=tmp_path / folder,
            media_root=cache,
            key_dir=tmp_path / "keys",
            exporter="t",
            now=datetime.now(UTC),
            site_time=UTC_TIME,
            fetch=fetch,
        )

    try:
        result = export("fetched")
        assert result.files > 0  # every file came through fetch
        assert result.clips > 0 and verify_evidence(tmp_path / "fetched").ok
        with store.sessions() as session:
            clip = session.query(Media).filter(Media.kind == "clip").first()
            assert clip is not None
        refuse.add(clip.path)
        (cache / clip.path).unlink()
        with pytest.raises(EvidenceError, match="could not be fetched: server-a keeps"):
            export("refused")
        assert not (tmp_path / "refused").exists()
    finally:
        store.close()


@pytest.mark.slow
def test_an_export_reports_progress_and_a_cancelled_one_leaves_nothing(
    recorded: tuple[str, Path], tmp_path: Path
) -> None:
    import threading

    db_url, data = recorded
    start, end = whole_range(db_url)
    store = Store(db_url)
    seen: list[tuple[int, int]] = []
    result = export_evidence(
        store,
        start=start,
        end=end,
        out_dir=tmp_path / "whole",
        media_root=data,
        key_dir=data,
        exporter="t",
        now=datetime.now(UTC),
        site_time=UTC_TIME,
        progress=lambda done, total: seen.append((done, total)),
    )
    total = seen[0][1]
    assert seen[0] == (0, total) and seen[-1] == (total, total) == (result.bytes, result.bytes)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) == result.clips + result.snapshots + 1
    cancel = threading.Event()

    def cancel_after_first(done: int, _total: int) -> None:
        if done > 0:
            cancel.set()

    with pytest.raises(EvidenceError, match="cancelled"):
        export_evidence(
            store,
            start=start,
            end=end,
            out_dir=tmp_path / "cancelled",
            media_root=data,
            key_dir=data,
            exporter="t",
            now=datetime.now(UTC),
            site_time=UTC_TIME,
            progress=cancel_after_first,
            cancel=cancel,
        )
    store.close()
    assert not (tmp_path / "cancelled").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cancelled")]


@pytest.mark.slow
def test_a_rooms_export_carries_its_sensing_recording_which_replays_the_same(
    db_url: str,
    tmp_path: Path,
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, _ = live_run
    sensing_root = tmp_path / "data" / "sensing"
    shutil.copytree(directory, sensing_root / "site" / ROOM.room_id)
    extent = RecordingReader(directory).extent()
    assert extent is not None
    start = datetime.fromtimestamp(extent[0] + 5.0, UTC)
    end = datetime.fromtimestamp(extent[0] + 9.0, UTC)
    store = Store(db_url)
    out = tmp_path / "case-lab"
    try:
        result = export_evidence(
            store,
            start=start,
            end=end,
            out_dir=out,
            media_root=tmp_path / "data",
            key_dir=tmp_path / "data",
            exporter="account:ian",
            now=datetime.now(UTC),
            site_time=UTC_TIME,
            rooms=[ROOM.room_id],
            sensing_root=sensing_root,
        )
        cameras_only = export_evidence(
            store,
            start=start,
            end=end,
            out_dir=tmp_path / "case-gate",
            media_root=tmp_path / "data",
            key_dir=tmp_path / "data",
            exporter="account:ian",
            now=datetime.now(UTC),
            site_time=UTC_TIME,
            cameras=["gate"],
            sensing_root=sensing_root,
        )
    finally:
        store.close()
    assert cameras_only.recordings == 0
    assert result.recordings >= 1
    manifest = json.loads((out / MANIFEST).read_text())
    segments = [f for f in manifest["files"] if f["path"].startswith("sensing/")]
    assert len(segments) == result.recordings
    assert all(f["path"].startswith(f"sensing/site/{ROOM.room_id}/seg-") for f in segments)
    report = json.loads((out / "events.json").read_text())
    assert [r["path"] for r in report["recordings"]] == [f["path"] for f in segments]
    assert verify_evidence(out).ok

    # The exported recording re-runs the range as the room's own does.
    exported = out / "sensing" / "site" / ROOM.room_id
    window = {"from_wall_s": start.timestamp(), "to_wall_s": end.timestamp()}
    original = replay_recording(directory, ROOM, **window)
    again = replay_recording(exported, ROOM, **window)
    assert again.stopped_at is None and again.frames == original.frames > 0
    assert again.blobs == original.blobs and again.events == original.events

    # One byte of a segment changed: verify names it.
    path = out / segments[0]["path"]
    body = bytearray(path.read_bytes())
    body[len(body) // 2] ^= 0x01
    path.write_bytes(bytes(body))
    assert verify_evidence(out).altered == (segments[0]["path"],)


def test_the_report_is_in_site_time_and_says_its_zone_while_the_json_stays_utc(
    db_url: str, tmp_path: Path
) -> None:
    """A ward's falls exported for a site in Kolkata: report.html reads 13:35 IST for the
    fall at 08:05 UTC and names the zone once; events.json and the manifest keep UTC."""
    from tests.engine.test_chat_offline import seed_history

    store = Store(db_url)
    try:
        ids = seed_history(store)
        start, end = datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 23, 12, tzinfo=UTC)
        out = tmp_path / "ward"
        result = export_evidence(
            store,
            start=start,
            end=end,
            out_dir=out,
            media_root=tmp_path,
            key_dir=tmp_path,
            exporter="account:ian",
            now=datetime(2026, 11, 23, 12, 30, tzinfo=UTC),
            site_time=SiteTime.named("Asia/Kolkata"),
            cameras=[],
            rooms=["ward"],
            place_names={"ward": "Ward 3"},
        )
        # Across a change of clocks (London's, 25 October 2026) both abbreviations are
        # named, and each time carries its own: 01:30 happened twice that night.
        autumn = tmp_path / "autumn"
        export_evidence(
            store,
            start=datetime(2026, 10, 24, 23, tzinfo=UTC),
            end=datetime(2026, 10, 25, 3, tzinfo=UTC),
            out_dir=autumn,
            media_root=tmp_path,
            key_dir=tmp_path,
            exporter="account:ian",
            now=datetime(2026, 11, 23, 12, 30, tzinfo=UTC),
            site_time=SiteTime.named("Europe/London"),
            cameras=[],
            rooms=["ward"],
        )
    finally:
        store.close()
    assert result.events == 2
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Times are Asia/Kolkata (IST), the site's time" in report
    assert "<h1>Evidence 2026-11-23 05:30:00 to 2026-11-23 17:30:00</h1>" in report
    assert "at 2026-11-23 18:00:00 IST." in report  # exported at 12:30 UTC
    # 08:05 UTC, in words, by the room's name; the exporter by name.
    assert "<td>2026-11-23 13:35:00</td><td>Ward 3</td><td>Possible fall</td>" in report
    assert "08:05" not in report
    assert "Exported by ian at" in report
    text = re.sub(r"<[^>]+>", " ", report)  # what a person reads
    assert machine_text(text) is None, machine_text(text)
    events = json.loads((out / "events.json").read_text(encoding="utf-8"))
    fall = next(e for e in events["events"] if e["id"] == ids.events["fall_today"])
    assert datetime.fromisoformat(fall["ts"]).replace(tzinfo=UTC) == datetime(
        2026, 11, 23, 8, 5, tzinfo=UTC
    )
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["range"] == {"from": start.isoformat(), "to": end.isoformat()}
    assert manifest["created_at"] == "2026-11-23T12:30:00+00:00"
    assert verify_evidence(out).ok
    crossing = (autumn / "report.html").read_text(encoding="utf-8")
    assert "Times are Europe/London (BST/GMT)" in crossing
    assert "Evidence 2026-10-25 00:00:00 BST to 2026-10-25 03:00:00 GMT" in crossing
