"""The audit trail's hash chain, and the engine's permission check on guarded commands."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from console.cli import main
from engine.access import ROLE_PERMISSIONS, Actor, Permission, PermissionDeniedError, Role
from engine.settings import ChangeSetting, read_settings
from engine.store import Store
from engine.store.audit import AppendAudit, AuditListRequest, verify_audit
from engine.store.audit_models import AuditEntry, AuditHead
from engine.store.models import Event
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _append(store: Store, count: int) -> None:
    with StoreWriter.running(store) as writer:
        for i in range(count):
            writer.execute(
                AppendAudit(
                    at=T0 + timedelta(seconds=i, microseconds=7),
                    actor=ADMIN,
                    action="login",
                    target="ada",
                    detail={"n": i, "note": "façade ✓"},
                )
            )


def test_entries_chain_and_verify(db_url: str) -> None:
    store = Store(db_url)
    try:
        _append(store, 5)
        result = verify_audit(store)
        assert result.ok and result.entries == 5 and result.head_seq == 5, result
        newest = AuditListRequest(reader=ADMIN, limit=2).run(store)
        assert [r.seq for r in newest] == [5, 4]
        assert newest[0].actor == "account:ada" and newest[0].detail == {
            "n": 4,
            "note": "façade ✓",
        }
        assert newest[0].ts == T0 + timedelta(seconds=4, microseconds=7)
        with store.sessions() as session:
            rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
            assert rows[0].prev_hash == "0" * 64
            assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    finally:
        store.close()


@pytest.mark.parametrize(
    "tamper, seq, reason",
    [
        ("detail", 3, "was altered"),
        ("actor", 2, "was altered"),
        ("outcome", 4, "was altered"),
        ("delete_middle", 3, "missing"),
        ("delete_last", 5, "chain ends at 4"),
        ("rewrite_and_rehash", 4, "does not follow"),
    ],
)
def test_tampering_with_any_entry_is_detected_and_named(
    db_url: str, tamper: str, seq: int, reason: str
) -> None:
    store = Store(db_url)
    try:
        _append(store, 5)
        with store.transaction() as session:
            where = AuditEntry.seq == seq
            if tamper == "detail":
                session.execute(update(AuditEntry).where(where).values(detail='{"n":99}'))
            elif tamper == "actor":
                session.execute(update(AuditEntry).where(where).values(actor="account:mallory"))
            elif tamper == "outcome":
                session.execute(update(AuditEntry).where(where).values(outcome="denied"))
            elif tamper.startswith("delete"):
                session.execute(delete(AuditEntry).where(where))
            else:  # a forger who recomputes the entry's own hash still breaks the next link
                from engine.store.audit import entry_hash

                row = session.scalar(select(AuditEntry).where(AuditEntry.seq == seq - 1))
                assert row is not None
                forged = entry_hash(
                    row.seq,
                    row.ts_us,
                    row.actor,
                    row.action,
                    "bob",
                    row.outcome,
                    row.detail,
                    row.prev_hash,
                )
                session.execute(
                    update(AuditEntry)
                    .where(AuditEntry.seq == seq - 1)
                    .values(target="bob", hash=forged)
                )
        result = verify_audit(store)
        assert not result.ok
        assert any(p.seq == seq and reason in p.reason for p in result.problems), result
    finally:
        store.close()


def test_two_writers_never_fork_the_chain(db_url: str) -> None:
    """Two writers on one database (a console and a CLI) append in turn: one chain."""
    store = Store(db_url)
    other = Store(db_url)
    try:
        with StoreWriter.running(store) as first, StoreWriter.running(other) as second:
            futures = [
                (first if i % 2 else second).submit(
                    AppendAudit(at=T0, actor=ADMIN, action="login", detail={"i": i})
                )
                for i in range(40)
            ]
            seqs = sorted(f.result(60) for f in futures)
        assert seqs == list(range(1, 41))
        assert verify_audit(store).ok
    finally:
        other.close()
        store.close()


def test_the_matrix_is_cumulative_and_admin_holds_everything() -> None:
    operator, investigator, admin = (ROLE_PERMISSIONS[r] for r in Role)
    assert operator < investigator < admin == frozenset(Permission)
    assert Permission.EXPORT in investigator and Permission.EXPORT not in operator
    assert Permission.ERASE_PEOPLE not in investigator


@pytest.mark.parametrize("actor", [OPERATOR, INVESTIGATOR])
def test_the_engine_refuses_a_setting_change_without_the_permission_and_audits_it(
    db_url: str, actor: Actor
) -> None:
    store = Store(db_url)
    try:
        with StoreWriter.running(store) as writer:
            with pytest.raises(PermissionDeniedError, match="needs the change_settings"):
                writer.execute(
                    ChangeSetting(key="retention.clips_days", value=1, at=T0, actor=actor)
                )
            writer.execute(ChangeSetting(key="retention.clips_days", value=60, at=T0, actor=ADMIN))
        values = {v.spec.key: v.value for v in read_settings(store)}
        assert values["retention.clips_days"] == 60
        entries = AuditListRequest(reader=ADMIN).run(store)
        assert [(e.action, e.outcome, e.target) for e in entries] == [
            ("settings.change", "ok", "retention.clips_days"),
            ("settings.change", "denied", "retention.clips_days"),
        ]
        assert entries[0].detail == {"old": None, "new": 60}
        assert entries[1].actor == actor.label
        with store.sessions() as session:  # the refused change left no trace but the audit
            changed = session.scalars(select(Event).where(Event.kind == "settings.changed"))
            assert len(list(changed)) == 1
    finally:
        store.close()


def test_cli_lists_and_verifies_the_trail(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["--db", db_url, "settings", "set", "retention.clips_days", "45"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "audit", "list", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert entry["action"] == "settings.change" and entry["actor"].startswith("machine:")
    assert main(["--db", db_url, "audit", "verify"]) == 0
    assert "audit trail intact: 1 entries" in capsys.readouterr().out
    store = Store(db_url)
    with store.transaction() as session:
        session.execute(update(AuditHead).values(hash="f" * 64))
    store.close()
    assert main(["--db", db_url, "audit", "verify", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert not result["ok"] and result["problems"][0]["seq"] == 1


def test_a_new_database_has_an_empty_chain(db_url: str) -> None:
    store = Store(db_url)
    try:
        with store.sessions() as session:
            head = session.execute(text("SELECT seq, hash FROM audit_head")).one()
        assert tuple(head) == (0, "0" * 64)
        assert verify_audit(store).ok
    finally:
        store.close()


def test_only_an_actor_who_may_read_the_audit_trail_lists_it(db_url: str) -> None:
    store = Store(db_url)
    try:
        _append(store, 1)
        for reader in (OPERATOR, INVESTIGATOR):
            with pytest.raises(PermissionDeniedError, match="read_audit"):
                AuditListRequest(reader=reader).run(store)
        assert len(AuditListRequest(reader=ADMIN).run(store)) == 1
    finally:
        store.close()
