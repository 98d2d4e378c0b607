"""Pruning the audit trail by age: what is kept, that the pruned chain still verifies and
still catches tampering, and retention doing it per ``audit.keep_days``."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from engine.access import PermissionDeniedError
from engine.clock import SimulatedClock
from engine.retention import RetentionPolicy, run_maintenance, run_retention
from engine.settings import ChangeSetting, SettingError, read_settings, spec_for
from engine.store import Store
from engine.store.audit import (
    GENESIS_HASH,
    AppendAudit,
    AuditChainBrokenError,
    AuditListRequest,
    PruneAudit,
    verify_audit,
)
from engine.store.audit_models import AuditEntry, AuditHead
from engine.store.models import Event
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR

pytestmark = pytest.mark.sql

NOW = datetime(2029, 3, 1, 12, 0, tzinfo=UTC)


def _append_aged(store: Store, ages_days: Sequence[float]) -> None:
    """One entry per age (days before NOW), appended in the order given."""
    with StoreWriter.running(store) as writer:
        for i, age in enumerate(ages_days):
            writer.execute(
                AppendAudit(
                    at=NOW - timedelta(days=age),
                    actor=ADMIN,
                    action="person.rename",
                    target=f"Person_{i:04d}",
                    detail={"i": i, "age_days": age},
                )
            )


def _prune(store: Store, keep_days: int = 730, **kwargs: int) -> int:
    with StoreWriter.running(store) as writer:
        return int(writer.execute(PruneAudit(at=NOW, keep_days=keep_days, **kwargs)))


def _kept(store: Store) -> list[tuple[int, str]]:
    with store.sessions() as session:
        rows = session.execute(
            select(AuditEntry.seq, AuditEntry.action).order_by(AuditEntry.seq)
        ).all()
    return [(int(seq), str(action)) for seq, action in rows]


def _hash_of(store: Store, seq: int) -> str:
    with store.sessions() as session:
        value = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
    assert value is not None
    return str(value)


def _anchor(store: Store) -> tuple[int, str]:
    with store.sessions() as session:
        head = session.execute(select(AuditHead.anchor_seq, AuditHead.anchor_hash)).one()
    return int(head.anchor_seq), str(head.anchor_hash)


def plenty_of_space(_path: Path) -> int:
    return 10**15


def test_pruning_keeps_every_entry_younger_than_keep_days(db_url: str) -> None:
    store = Store(db_url)
    try:
        # exactly 730 days old is not older than 730 days: it stays
        _append_aged(store, [900, 800, 731, 730, 729, 400, 1])
        third = _hash_of(store, 3)
        assert _prune(store, keep_days=730) == 3
        assert [seq for seq, _ in _kept(store)] == [4, 5, 6, 7, 8]
        assert _anchor(store) == (3, third)
        result = verify_audit(store)
        assert result.ok, result
        assert (result.entries, result.anchor_seq, result.head_seq) == (5, 3, 8)
        assert result.as_dict()["anchor_seq"] == 3
    finally:
        store.close()


def test_the_prune_is_itself_an_entry_by_the_engine(db_url: str) -> None:
    store = Store(db_url)
    try:
        _append_aged(store, [1000, 900, 10])
        assert _prune(store, keep_days=365) == 2
        newest = AuditListRequest(reader=ADMIN, limit=1).run(store)[0]
        assert (newest.seq, newest.actor, newest.action, newest.outcome) == (
            4,
            "engine:engine",
            "audit.prune",
            "ok",
        )
        assert newest.detail == {"pruned": 2, "through_seq": 2, "keep_days": 365}
        assert newest.ts == NOW
        # nothing old enough left: no deletion and no second entry
        assert _prune(store, keep_days=365) == 0
        assert [seq for seq, _ in _kept(store)] == [3, 4]
        assert verify_audit(store).ok
    finally:
        store.close()


def test_only_the_old_prefix_goes_even_if_a_clock_was_set_back(db_url: str) -> None:
    """Entry 3 is old by its timestamp but comes after a young one: pruning it would cut a
    hole in the chain, so it stays until everything before it is old too."""
    store = Store(db_url)
    try:
        _append_aged(store, [800, 10, 800])
        assert _prune(store) == 1
        assert _kept(store) == [
            (2, "person.rename"),
            (3, "person.rename"),
            (4, "audit.prune"),
        ]
        assert verify_audit(store).ok
    finally:
        store.close()


def test_pruning_in_batches_and_everything_old_still_verifies(db_url: str) -> None:
    store = Store(db_url)
    try:
        _append_aged(store, [1000, 999, 998, 997, 996])
        assert _prune(store, limit=2) == 2
        assert _prune(store, limit=2) == 2
        assert _prune(store, limit=2) == 1  # the two prune entries are young: they stay
        assert _kept(store) == [(6, "audit.prune"), (7, "audit.prune"), (8, "audit.prune")]
        assert _anchor(store)[0] == 5
        result = verify_audit(store)
        assert result.ok and result.entries == 3, result
    finally:
        store.close()


@pytest.mark.parametrize(
    "tamper, seq, reason",
    [
        ("anchor_hash", 4, "does not follow the pruning anchor"),
        ("alter_kept_entry", 5, "was altered"),
        ("delete_first_kept", 4, "entries 4–4 are missing"),
        ("delete_first_kept_and_bump_anchor_seq", 5, "does not follow the pruning anchor"),
        ("delete_first_kept_and_move_anchor", 4, "the newest audit.prune entry says through 3"),
        ("reset_anchor", 1, "entries 1–3 are missing"),
        ("insert_before_anchor", 2, "lies in the pruned range"),
        ("delete_prune_entry", 7, "chain ends at 6"),
    ],
)
def test_tampering_after_pruning_is_detected_and_named(
    db_url: str, tamper: str, seq: int, reason: str
) -> None:
    store = Store(db_url)
    try:
        _append_aged(store, [900, 800, 731, 10, 9, 8])
        assert _prune(store) == 3  # anchor 3; kept 4, 5, 6 and the prune entry 7
        assert verify_audit(store).ok
        fourth = _hash_of(store, 4)
        with store.transaction() as session:
            head = update(AuditHead).where(AuditHead.id == 1)
            if tamper == "anchor_hash":
                session.execute(head.values(anchor_hash="f" * 64))
            elif tamper == "alter_kept_entry":
                session.execute(
                    update(AuditEntry).where(AuditEntry.seq == 5).values(target="Person_X")
                )
            elif tamper.startswith("delete_first_kept"):
                session.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
                if tamper.endswith("bump_anchor_seq"):
                    session.execute(head.values(anchor_seq=4))
                elif tamper.endswith("move_anchor"):  # a perfect forgery of the anchor
                    session.execute(head.values(anchor_seq=4, anchor_hash=fourth))
            elif tamper == "reset_anchor":
                session.execute(head.values(anchor_seq=0, anchor_hash=GENESIS_HASH))
            elif tamper == "insert_before_anchor":
                session.add(
                    AuditEntry(
                        seq=2,
                        ts_us=0,
                        actor="account:mallory",
                        action="login",
                        target="",
                        outcome="ok",
                        detail="{}",
                        prev_hash=GENESIS_HASH,
                        hash="e" * 64,
                    )
                )
            else:
                session.execute(delete(AuditEntry).where(AuditEntry.seq == 7))
        result = verify_audit(store)
        assert not result.ok
        assert any(p.seq == seq and reason in p.reason for p in result.problems), result
    finally:
        store.close()


@pytest.mark.parametrize(
    "tamper, seq, reason",
    [
        ("alter", 2, "was altered: its hash does not match"),
        ("delete", 1, "entries 1–1 are missing"),
    ],
)
def test_a_tampered_old_prefix_is_kept_as_evidence_not_pruned(
    db_url: str, tmp_path: Path, tamper: str, seq: int, reason: str
) -> None:
    """Pruning must not launder tampering: an altered old entry, or a deleted first one,
    would otherwise vanish with the rest of the prefix and the chain would verify."""
    store = Store(db_url)
    try:
        _append_aged(store, [900, 800, 10])
        with store.transaction() as session:
            if tamper == "alter":
                session.execute(
                    update(AuditEntry).where(AuditEntry.seq == seq).values(outcome="denied")
                )
            else:
                session.execute(delete(AuditEntry).where(AuditEntry.seq == seq))
        kept = _kept(store)
        with pytest.raises(AuditChainBrokenError, match=f"broken at entry {seq} \\({reason}"):
            _prune(store)
        assert _kept(store) == kept
        assert _anchor(store) == (0, GENESIS_HASH)
        problems = verify_audit(store).problems
        assert [(p.seq, p.reason) for p in problems] == [(seq, reason)]

        # the retention thread says so and carries on with the rest of its work
        with StoreWriter.running(store) as writer:
            run = run_maintenance(
                store, writer, SimulatedClock(NOW), tmp_path / "data", disk_free=plenty_of_space
            )
        assert run.retention is not None and run.retention.audit_entries_pruned == 0
        assert run.problem is not None and "audit entries not pruned" in run.problem
        assert f"broken at entry {seq}" in run.problem
        assert any("audit entries not pruned" in p for p in run.retention.problems)
        assert _kept(store) == kept
    finally:
        store.close()


def test_keeping_audit_entries_less_than_a_year_is_refused(db_url: str) -> None:
    with pytest.raises(ValueError, match=r"audit\.keep_days must be at least 365"):
        PruneAudit(at=NOW, keep_days=364)
    assert PruneAudit(at=NOW, keep_days=365).keep_days == 365
    store = Store(db_url)
    try:
        _append_aged(store, [900, 10])
        # a command altered after construction is still refused by the writer
        command = PruneAudit(at=NOW, keep_days=365)
        object.__setattr__(command, "keep_days", 30)
        with (
            StoreWriter.running(store) as writer,
            pytest.raises(ValueError, match=r"audit\.keep_days must be at least 365"),
        ):
            writer.execute(command)
        assert [seq for seq, _ in _kept(store)] == [1, 2]
        with (
            StoreWriter.running(store) as writer,
            pytest.raises(SettingError, match=r"audit.keep_days: 364 is out of range"),
        ):
            writer.execute(ChangeSetting(key="audit.keep_days", value=364, at=NOW, actor=ADMIN))
    finally:
        store.close()


def test_the_new_settings_are_listed_and_can_be_changed(db_url: str) -> None:
    assert (spec_for("audit.keep_days").default, spec_for("audit.keep_days").minimum) == (730, 365)
    assert spec_for("audit.keep_days").maximum == 3650
    idle = spec_for("security.idle_lock_s")
    assert (idle.default, idle.minimum, idle.maximum, idle.unit) == (300, 0, 86400, "s")
    with pytest.raises(SettingError, match=r"security\.idle_lock_s: 86401 is out of range"):
        idle.parse("86401")
    store = Store(db_url)
    try:
        values = {v.spec.key: v for v in read_settings(store)}
        assert values["audit.keep_days"].value == 730 and values["audit.keep_days"].is_default
        assert values["security.idle_lock_s"].value == 300
        with StoreWriter.running(store) as writer:
            writer.execute(ChangeSetting(key="audit.keep_days", value=1000, at=NOW, actor=ADMIN))
            writer.execute(ChangeSetting(key="security.idle_lock_s", value=0, at=NOW, actor=ADMIN))
        values = {v.spec.key: v for v in read_settings(store)}
        assert values["audit.keep_days"].value == 1000 and not values["audit.keep_days"].is_default
        assert values["security.idle_lock_s"].value == 0
        assert values["retention.clips_days"].is_default  # other rows untouched
        assert [e.target for e in AuditListRequest(reader=ADMIN).run(store)] == [
            "security.idle_lock_s",
            "audit.keep_days",
        ]
    finally:
        store.close()


def test_retention_prunes_audit_entries_per_the_setting(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    try:
        _append_aged(store, [800, 500, 401, 399, 10])
        with StoreWriter.running(store) as writer:  # audited as entry 6
            writer.execute(
                ChangeSetting(
                    key="audit.keep_days", value=400, at=NOW - timedelta(days=1), actor=ADMIN
                )
            )
        report = run_retention(
            store,
            SimulatedClock(NOW),
            tmp_path / "data",
            RetentionPolicy(),
            disk_free=plenty_of_space,
        )
        assert report.audit_entries_pruned == 3
        assert report.as_dict()["audit_entries_pruned"] == 3
        assert [seq for seq, _ in _kept(store)] == [4, 5, 6, 7]
        assert verify_audit(store).ok
    finally:
        store.close()


def test_retention_by_default_never_prunes_anything_younger_than_two_years(
    db_url: str, tmp_path: Path
) -> None:
    store = Store(db_url)
    try:
        _append_aged(store, [3000, 731, 729.9, 365, 1])
        with StoreWriter.running(store) as writer:
            run = run_maintenance(
                store, writer, SimulatedClock(NOW), tmp_path / "data", disk_free=plenty_of_space
            )
        assert run.problem is None and run.retention is not None
        assert run.retention.audit_entries_pruned == 2
        assert [seq for seq, _ in _kept(store)] == [3, 4, 5, 6]
        assert verify_audit(store).ok
        with store.sessions() as session:
            completed = session.scalars(
                select(Event).where(Event.kind == "retention.completed")
            ).one()
        assert completed.detail["audit_entries_pruned"] == 2

        # a later run with nothing old enough writes no audit entry at all
        report = run_retention(
            store,
            SimulatedClock(NOW + timedelta(hours=1)),
            tmp_path / "data",
            RetentionPolicy(),
            disk_free=plenty_of_space,
        )
        assert report.audit_entries_pruned == 0
        assert [seq for seq, _ in _kept(store)] == [3, 4, 5, 6]
    finally:
        store.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_retention_creates_a_missing_data_dir_private(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    data = tmp_path / "new" / "data"
    previous = os.umask(0o022)
    try:
        run_retention(
            store, SimulatedClock(NOW), data, RetentionPolicy(), disk_free=plenty_of_space
        )
    finally:
        os.umask(previous)
        store.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_a_requested_run_needs_the_settings_permission_and_is_audited(
    db_url: str, tmp_path: Path
) -> None:
    store = Store(db_url)
    try:
        with StoreWriter.running(store) as writer:
            for actor in (OPERATOR, INVESTIGATOR):
                with pytest.raises(PermissionDeniedError, match="change_settings"):
                    run_maintenance(
                        store,
                        writer,
                        SimulatedClock(NOW),
                        tmp_path / "data",
                        disk_free=plenty_of_space,
                        requested_by=actor,
                    )
            run = run_maintenance(
                store,
                writer,
                SimulatedClock(NOW),
                tmp_path / "data",
                disk_free=plenty_of_space,
                requested_by=ADMIN,
            )
            assert run.retention is not None
            writer.flush()
        runs = [
            (r.actor, r.outcome)
            for r in reversed(AuditListRequest(reader=ADMIN, action="retention.run").run(store))
        ]
        assert runs == [
            ("account:olga", "denied"),
            ("account:ian", "denied"),
            ("account:ada", "ok"),
        ]
    finally:
        store.close()
