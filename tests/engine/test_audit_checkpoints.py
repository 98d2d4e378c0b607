"""Signed checkpoints of the audit trail's head, kept outside the database: a whole-chain
rewrite (every hash recomputed, as by someone with SQL access) is caught against them."""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from console.cli import main
from engine.clock import SimulatedClock
from engine.data_dirs import data_dir
from engine.history.audit_checkpoints import (
    AuditCheckpointer,
    checkpoint_path,
    read_checkpoint_file,
    verify_against_newest_checkpoint,
    write_checkpoint,
)
from engine.history.evidence import export_evidence, verify_evidence
from engine.history.signing import signing_key
from engine.sitetime import UTC_TIME
from engine.store import Store
from engine.store.audit import AppendAudit, entry_hash, verify_audit
from engine.store.audit_models import AuditEntry, AuditHead
from engine.store.writer import StoreWriter

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _failed_logins(store: Store, count: int, start: int = 0) -> None:
    with StoreWriter.running(store) as writer:
        for i in range(start, start + count):
            writer.execute(
                AppendAudit(
                    at=T0 + timedelta(seconds=i),
                    actor="account:mallory",
                    action="login",
                    target="mallory",
                    outcome="failed",
                    detail={"attempt": i},
                )
            )


def _rewrite_whole_chain(store: Store) -> None:
    """What the hostile tester did: turn every failed login into a success and recompute
    every hash and the head row, so the chain is self-consistent again."""
    with store.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        prev = "0" * 64
        for row in rows:
            outcome = "ok" if row.outcome == "failed" else row.outcome
            digest = entry_hash(
                row.seq, row.ts_us, row.actor, row.action, row.target, outcome, row.detail, prev
            )
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.seq == row.seq)
                .values(outcome=outcome, prev_hash=prev, hash=digest)
            )
            prev = digest
        session.execute(update(AuditHead).values(hash=prev))


def _checkpoint(store: Store, reason: str = "test") -> Path:
    written = write_checkpoint(store, key_dir=data_dir(), at=T0 + timedelta(hours=1), reason=reason)
    assert written.problem is None, written.problem
    path = checkpoint_path(store.url)
    assert path is not None
    return path


def test_a_whole_chain_rewrite_is_caught_against_the_last_checkpoint(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(db_url)
    try:
        _failed_logins(store, 20)
        path = _checkpoint(store)
        _rewrite_whole_chain(store)
        assert verify_audit(store).ok  # the hash chain alone cannot see it
        shown = verify_against_newest_checkpoint(store, data_dir())  # the console's pane
        assert not shown.ok and "rewritten" in shown.problems[-1].reason
    finally:
        store.close()
    capsys.readouterr()
    assert main(["--db", db_url, "audit", "verify", "--checkpoint", str(path)]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED" in out and "rewritten" in out and "entry 20" in out, out
    # Without --checkpoint, the file beside the database is used.
    assert main(["--db", db_url, "audit", "verify", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert not result["ok"] and result["checkpoint"]["seq"] == 20
    assert "rewritten" in result["checkpoint"]["problem"]


def test_an_honest_chain_with_later_entries_verifies_against_the_checkpoint(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(db_url)
    try:
        _failed_logins(store, 20)
        path = _checkpoint(store)
        _failed_logins(store, 5, start=20)
    finally:
        store.close()
    capsys.readouterr()
    assert main(["--db", db_url, "audit", "verify", "--checkpoint", str(path)]) == 0
    out = capsys.readouterr().out
    assert "audit trail intact: 25 entries" in out and "checkpoint at entry 20" in out, out


def test_a_checkpoint_with_a_bad_signature_or_another_key_is_refused(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(db_url)
    try:
        _failed_logins(store, 3)
        path = _checkpoint(store)
    finally:
        store.close()
    checkpoint = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    forged = dict(checkpoint, seq=2)  # moved back, as if entry 3 never was
    forged_file = tmp_path / "forged.jsonl"
    forged_file.write_text(json.dumps(forged) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--db", db_url, "audit", "verify", "--checkpoint", str(forged_file)]) == 1
    out = capsys.readouterr().out
    assert "signature does not match" in out, out
    # A checkpoint made with a stranger's key does not count as this installation's.
    stranger = tmp_path / "stranger"
    signing_key(stranger)
    store = Store(db_url)
    try:
        write_checkpoint(store, key_dir=stranger, at=T0, reason="test", path=tmp_path / "s.jsonl")
    finally:
        store.close()
    assert main(["--db", db_url, "audit", "verify", "--checkpoint", str(tmp_path / "s.jsonl")]) == 1
    assert "another key" in capsys.readouterr().out
    # ...unless that key is the one named.
    public = signing_key(stranger).public_key()
    from cryptography.hazmat.primitives import serialization

    (tmp_path / "stranger.pem").write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    args = ["--checkpoint", str(tmp_path / "s.jsonl"), "--key", str(tmp_path / "stranger.pem")]
    assert main(["--db", db_url, "audit", "verify", *args]) == 0, capsys.readouterr()


def test_the_checkpointer_refuses_to_sign_a_rewritten_chain(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Signing the forged head later would launder the rewrite: the newest checkpoint
    stays the honest one, and the failure is said."""
    store = Store(db_url)
    try:
        _failed_logins(store, 5)
        path = _checkpoint(store)
        _rewrite_whole_chain(store)
        _failed_logins(store, 1, start=5)
        with caplog.at_level(logging.ERROR):
            written = write_checkpoint(store, key_dir=data_dir(), at=T0, reason="interval")
        assert written.checkpoint is None and "rewritten" in (written.problem or "")
        assert "rewritten" in caplog.text
        assert len(path.read_text(encoding="utf-8").splitlines()) == 1
    finally:
        store.close()


def test_checkpoints_at_intervals_and_a_failed_write_never_blocks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    clock = SimulatedClock(T0)
    try:
        checkpointer = AuditCheckpointer(store, clock, key_dir=data_dir(), every_entries=10)
        assert checkpointer.tick() is None  # nothing to anchor yet
        _failed_logins(store, 3)
        assert checkpointer.tick() is None  # too few, too soon
        clock.advance(checkpointer.every_s)
        first = checkpointer.tick()
        assert first is not None and first.seq == 3
        _failed_logins(store, 10, start=3)
        second = checkpointer.tick()  # ten entries: no need to wait
        assert second is not None and second.seq == 13
        lines = checkpoint_path(store.url).read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["seq"] for line in lines] == [3, 13]
        # The file cannot be written: logged and reported, the trail goes on.
        checkpoint_path(store.url).unlink()
        checkpoint_path(store.url).mkdir()
        _failed_logins(store, 10, start=13)
        with caplog.at_level(logging.ERROR):
            assert checkpointer.tick() is not None
        assert checkpointer.problem is not None and "not written" in checkpointer.problem
        assert "not written" in caplog.text
        assert verify_audit(store).ok
    finally:
        store.close()


def test_every_export_carries_a_signed_checkpoint(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    try:
        _failed_logins(store, 4)
        result = export_evidence(
            store,
            start=T0,
            end=T0 + timedelta(minutes=1),
            out_dir=tmp_path / "export",
            media_root=tmp_path / "media",
            key_dir=data_dir(),
            exporter="account:ada",
            now=T0 + timedelta(hours=1),
            site_time=UTC_TIME,
        )
        manifest = json.loads((result.folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["audit_checkpoint"]["seq"] == 4
        assert verify_evidence(result.folder).ok  # covered by the export's signature
        lines = checkpoint_path(store.url).read_text(encoding="utf-8").splitlines()
        assert json.loads(lines[-1])["reason"] == "evidence export"
        _rewrite_whole_chain(store)
    finally:
        store.close()
    # The export's copy of the checkpoint catches the rewrite by itself.
    manifest_file = str(result.folder / "manifest.json")
    assert main(["--db", db_url, "audit", "verify", "--checkpoint", manifest_file]) == 1


def test_the_cli_writes_a_checkpoint_and_syslog_receives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    try:
        monkeypatch.setenv(
            "WATCHFLOOR_AUDIT_SYSLOG", f"udp://127.0.0.1:{receiver.getsockname()[1]}"
        )
        db_url = f"sqlite:///{tmp_path / 'c.db'}"
        assert main(["--db", db_url, "settings", "set", "retention.clips_days", "45"]) == 0
        capsys.readouterr()
        assert main(["--db", db_url, "audit", "checkpoint", "--json"]) == 0
        written = json.loads(capsys.readouterr().out)
        assert written["seq"] == 1
        message = receiver.recv(65536).decode("utf-8")
        assert "watchfloor-audit-checkpoint" in message and written["head_hash"] in message
    finally:
        receiver.close()


@pytest.mark.parametrize(
    "kind", ["not_json", "deep_json", "wrong_types", "huge", "fifo", "dev_zero", "missing"]
)
def test_a_bad_checkpoint_file_is_named_without_a_traceback(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'b.db'}"
    bad = tmp_path / "bad.jsonl"
    if kind == "not_json":
        bad.write_text("this is not json\n", encoding="utf-8")
    elif kind == "deep_json":
        bad.write_text("[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    elif kind == "wrong_types":
        bad.write_text(
            json.dumps(
                {
                    "format": "watchfloor-audit-checkpoint/1",
                    "seq": "20",
                    "head_hash": 7,
                    "at": None,
                    "key_id": [],
                    "signature": base64.b64encode(b"x").decode(),
                }
            )
            + "\n",
            encoding="utf-8",
        )
    elif kind == "huge":
        with bad.open("wb") as handle:
            handle.truncate(4 * 1024**3)  # sparse: 4 GiB of zeros, no line in it
    elif kind == "fifo":
        os.mkfifo(bad)
    elif kind == "dev_zero":
        bad.symlink_to("/dev/zero")
    assert main(["--db", db_url, "audit", "verify", "--checkpoint", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert f"checkpoint file {bad}" in captured.err, captured
    with pytest.raises(ValueError, match="checkpoint file"):
        read_checkpoint_file(bad)


def test_a_running_engine_anchors_the_trail_when_it_stops(tmp_path: Path) -> None:
    from engine.config import load_site
    from engine.runtime import EngineRuntime
    from tests.conftest import write_site

    store = Store(f"sqlite:///{tmp_path / 'e.db'}")
    runtime = EngineRuntime(load_site(write_site(tmp_path / "site.toml")), store)
    try:
        runtime.start()
        assert runtime.writer is not None
        runtime.writer.execute(
            AppendAudit(at=T0, actor="account:mallory", action="login", outcome="failed")
        )
    finally:
        runtime.stop()
    try:
        path = checkpoint_path(store.url)
        assert path is not None
        newest = read_checkpoint_file(path)
        assert newest.reason == "engine stop" and newest.seq >= 1
        checkpoints = runtime.upkeep.audit_checkpoints
        assert checkpoints is not None and checkpoints.problem is None
    finally:
        store.close()
