"""Retention tiers set in Administration, over the site file's, on real databases (SQLite
and PostgreSQL): the change is validated, stored with an event and an audit entry, taken by
the next retention pass of an engine started with the site file's tiers (no restart), and
undone by going back to the site file; a bad stored row is named, never stops retention."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.access import Actor, PermissionDeniedError, Role, machine_actor
from engine.clock import SimulatedClock
from engine.config import RecordingConfig, load_site
from engine.record.retention_tiers import SegmentPolicies, load_segment_policies
from engine.recording_settings import (
    ROW,
    ChangeRecordingTiers,
    RecordingTierError,
    parse_row,
    read_stored_tiers,
    recording_tiers,
)
from engine.retention import RetentionPolicy, run_retention
from engine.store import Store
from engine.store.audit_models import AuditEntry
from engine.store.models import Event, Setting
from engine.store.writer import StoreWriter
from tests.conftest import write_site
from tests.engine.test_segment_retention import (
    NOW,
    add_cameras,
    expected_kept,
    files_on_disk,
    month_of_segments,
    plenty_of_space,
    store_history,
    stored_paths,
)

pytestmark = pytest.mark.sql

ADMIN = machine_actor()
OPERATOR = Actor("olga", frozenset({Role.OPERATOR}))
GATE_FILE = RecordingConfig(keep_all_days=2, keep_motion_days=6, keep_events_days=19)
YARD_FILE = RecordingConfig(keep_all_days=1, keep_motion_days=3, keep_events_days=9)
# What an admin sets for the gate: every tier different from the file's.
GATE_ADMIN = RecordingConfig(keep_all_days=5, keep_motion_days=4, keep_events_days=12)


def site_file(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        cameras=(
            '[[cameras]]\nid = "gate"\nname = "Gate"\nurl = "gate.mp4"\n'
            "recording = { keep_all_days = 2, keep_motion_days = 6, keep_events_days = 19 }\n"
            '[[cameras]]\nid = "yard"\nurl = "yard.mp4"\n'
            '[[cameras]]\nid = "lobby"\nurl = "lobby.mp4"\nrecording = { continuous = false }\n'
        ),
        extra="[recording]\nkeep_all_days = 1\nkeep_motion_days = 3\nkeep_events_days = 9\n",
    )


def change(**tiers: int | None) -> ChangeRecordingTiers:
    return ChangeRecordingTiers(cameras=("gate",), tiers=tiers, at=NOW, actor=ADMIN)


def test_tiers_set_here_are_taken_over_the_site_files_at_the_next_pass(
    store: Store, tmp_path: Path
) -> None:
    site = load_site(site_file(tmp_path))
    data = tmp_path / "data"
    cameras = add_cameras(store, "gate", "yard")
    # The engine's policies, built once at its start from the site file.
    started_with = load_segment_policies(store, site)
    assert started_with.of(cameras["gate"]) == GATE_FILE
    admin = SegmentPolicies(YARD_FILE, {cameras["gate"]: GATE_ADMIN, cameras["yard"]: YARD_FILE})
    # The month has segments on each of the admin's cutoffs, so keeping by the file's
    # tiers keeps a different set.
    history = month_of_segments(cameras, admin)
    store_history(store, data, history)
    expected = expected_kept(history, admin)
    assert expected != expected_kept(history, started_with)

    with StoreWriter.running(store) as writer:
        changed = writer.execute(change(keep_all_days=5, keep_motion_days=4, keep_events_days=12))
        assert changed == ["gate"]
        report = run_retention(
            store,
            SimulatedClock(NOW),
            data,
            RetentionPolicy(),
            writer=writer,
            disk_free=plenty_of_space,
            segments=started_with,
        )

    assert not report.problems
    assert stored_paths(store) == expected
    assert files_on_disk(data) == expected
    # What the console shows: the gate's tiers set here, by whom; the yard's from the file;
    # the lobby (not recorded continuously) is not listed.
    shown = recording_tiers(site, read_stored_tiers(store))
    assert [c.camera for c in shown.cameras] == ["gate", "yard"]
    gate, yard = shown.cameras
    assert {t: gate.days(t) for t in gate.site_file} == {
        "keep_all_days": 5,
        "keep_motion_days": 4,
        "keep_events_days": 12,
    }
    assert gate.site_file["keep_all_days"] == 2 and gate.set_here("keep_all_days")
    assert gate.admin is not None and gate.admin.by == ADMIN.label and gate.admin.at == NOW
    assert not any(yard.set_here(t) for t in yard.site_file) and yard.days("keep_all_days") == 1


def test_a_change_is_an_event_and_an_audit_entry_and_the_site_file_rules_again(
    store: Store,
) -> None:
    with StoreWriter.running(store) as writer:
        writer.execute(change(keep_all_days=5, keep_events_days=12))
        # Setting the same again changes nothing and records nothing.
        assert writer.execute(change(keep_all_days=5)) == []
        # One tier back to the file's; then the other: the camera's entry goes.
        assert writer.execute(change(keep_all_days=None)) == ["gate"]
        assert read_stored_tiers(store).cameras["gate"].tiers == {"keep_events_days": 12}
        assert writer.execute(change(keep_events_days=None)) == ["gate"]
    assert "gate" not in read_stored_tiers(store).cameras
    with store.sessions() as session:
        events = list(session.scalars(select(Event.detail).where(Event.kind == "settings.changed")))
        audited = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [e["key"] for e in events] == [f"{ROW}.tiers"] * 3
    assert events[0]["new"] == {"gate": {"keep_all_days": 5, "keep_events_days": 12}}
    assert events[0]["old"] == {"gate": {}}
    assert events[2]["new"] == {"gate": {}}
    changes = [a for a in audited if a.action == "settings.change"]
    assert len(changes) == 3 and all(a.actor == ADMIN.label for a in changes)
    assert all(a.target == f"{ROW}: gate" for a in changes)


@pytest.mark.parametrize(
    ("tiers", "cameras", "message"),
    [
        ({"keep_all_days": -1}, ("gate",), r"gate: keep_all_days = -1 is outside 0\.\.3650"),
        ({"keep_all_days": 3651}, ("gate",), "outside 0..3650 days"),
        ({"keep_motion_days": True}, ("gate",), "whole number of days, got True"),
        ({"keep_motion_days": "7"}, ("gate",), "whole number of days, got '7'"),
        ({"keep_forever": 7}, ("gate",), "unknown tier 'keep_forever'"),
        ({"keep_forever": None}, ("gate",), "unknown tier 'keep_forever'"),
        ({}, ("gate",), "no tier given"),
        ({"keep_all_days": 7}, (), "no camera named"),
    ],
)
def test_a_bad_change_is_refused_naming_what_was_wrong_and_stores_nothing(
    store: Store, tiers: dict[str, object], cameras: tuple[str, ...], message: str
) -> None:
    bad = ChangeRecordingTiers(cameras=cameras, tiers=tiers, at=NOW, actor=ADMIN)  # type: ignore[arg-type]
    with pytest.raises(RecordingTierError, match=message):
        bad.check()
    with StoreWriter.running(store) as writer, pytest.raises(RecordingTierError, match=message):
        writer.execute(bad)
    with store.sessions() as session:
        assert session.get(Setting, ROW) is None


def test_an_operator_may_not_change_the_tiers(store: Store) -> None:
    refused = ChangeRecordingTiers(
        cameras=("gate",), tiers={"keep_all_days": 1}, at=NOW, actor=OPERATOR
    )
    with StoreWriter.running(store) as writer, pytest.raises(PermissionDeniedError):
        writer.execute(refused)
    assert read_stored_tiers(store).cameras == {}
    with store.sessions() as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.actor == "account:olga")).all()
    assert denied and all(a.outcome != "ok" for a in denied)


def test_a_bad_stored_row_is_named_and_the_site_files_tiers_are_used(
    store: Store, tmp_path: Path
) -> None:
    # A row written by hand (or by a newer version): one good tier, two bad, one camera
    # that is not a table.
    row = {
        "cameras": {
            "gate": {"tiers": {"keep_all_days": 5, "keep_motion_days": -3, "keep_x": 1}},
            "yard": "forever",
        }
    }
    parsed = parse_row(row)
    assert parsed.cameras["gate"].tiers == {"keep_all_days": 5}
    assert len(parsed.problems) == 3
    assert any("yard: stored tiers are not a table" in p for p in parsed.problems)
    assert parse_row({"cameras": ["gate"]}).problems
    with store.transaction() as session:
        session.add(Setting(key=ROW, value=row, updated_at=NOW))
    site = load_site(site_file(tmp_path))
    add_cameras(store, "gate", "yard")
    report = run_retention(
        store,
        SimulatedClock(NOW),
        tmp_path / "data",
        RetentionPolicy(),
        disk_free=plenty_of_space,
        segments=load_segment_policies(store, site),
    )
    assert any("keep_motion_days = -3 is outside" in p for p in report.problems)
    shown = recording_tiers(site, read_stored_tiers(store))
    gate = shown.cameras[0]
    assert gate.days("keep_all_days") == 5 and gate.days("keep_motion_days") == 6
