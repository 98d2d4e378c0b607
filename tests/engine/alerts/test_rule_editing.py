"""Issue 68: an admin edits a stored alert rule in one guarded, audited step, switches it
off, and a new site starts with default rules once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.access import ENGINE, PermissionDeniedError
from engine.alerts.rules import (
    AddRule,
    ArmRule,
    RemoveRule,
    RuleError,
    RuleSpec,
    UnknownRuleError,
    UpdateRule,
    list_rules,
)
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.database import alembic_config
from engine.store.sites import SyncSite
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR
from tests.conftest import write_site
from tests.store_helpers import run_command, sync_site

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def _site(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "a.mp4"\n'
        '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "b.mp4"\n',
    )


@pytest.mark.sql
def test_an_admin_changes_every_field_of_a_rule_in_one_audited_step(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store = Store(db_url)
    sync_site(store, load_site(_site(tmp_path)), SimulatedClock(T0))
    writer = start_writer(store)
    added = writer.execute(
        AddRule(rule=RuleSpec(0, "gate", "gate", None, "person"), at=T0, actor=ADMIN)
    )
    zone = ((0.1, 0.1), (0.9, 0.1), (0.5, 0.8))
    changed = RuleSpec(
        0,
        "yard loitering",
        "yard",
        None,
        "loitering",
        loiter_s=90.0,
        zone=zone,
        days=0b0011111,
        armed_from_min=22 * 60,
        armed_until_min=6 * 60,
        severity="critical",
        enabled=False,
        instructions="Radio the guard",
        comment_required=True,
    )
    stored = writer.execute(UpdateRule(name="gate", rule=changed, at=T0, actor=ADMIN))
    (rule,) = [r for r in list_rules(store) if r.rule_id == added.rule_id]
    assert rule == stored
    assert (rule.name, rule.camera, rule.trigger, rule.loiter_s, rule.zone) == (
        "yard loitering",
        "yard",
        "loitering",
        90.0,
        zone,
    )
    assert (rule.days, rule.armed_from_min, rule.armed_until_min) == (0b0011111, 1320, 360)
    assert (rule.severity, rule.enabled, rule.instructions, rule.comment_required) == (
        "critical",
        False,
        "Radio the guard",
        True,
    )
    # Switched off, it is never armed, even in its hours.
    assert not rule.armed(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), SiteTime(UTC))
    audit = AuditListRequest(reader=ENGINE, limit=20).run(store)
    (entry,) = [e for e in audit if e.action == "alert_rule.update"]
    assert entry.actor == ADMIN.label
    assert entry.detail["was"]["camera"] == "gate" and entry.detail["now"]["camera"] == "yard"

    # Refusals name the field; an operator may not; an unknown name is said.
    writer.execute(AddRule(rule=RuleSpec(0, "other", "gate", None, "person"), at=T0, actor=ADMIN))
    with pytest.raises(RuleError, match="name: a rule named 'other' exists"):
        writer.execute(
            UpdateRule(
                name="yard loitering",
                rule=RuleSpec(0, "other", "gate", None, "person"),
                at=T0,
                actor=ADMIN,
            )
        )
    with pytest.raises(RuleError, match="camera: no camera 'nowhere'"):
        writer.execute(
            UpdateRule(
                name="other",
                rule=RuleSpec(0, "other", "nowhere", None, "person"),
                at=T0,
                actor=ADMIN,
            )
        )
    with pytest.raises(PermissionDeniedError):
        writer.execute(
            UpdateRule(
                name="other",
                rule=RuleSpec(0, "other", "gate", None, "person", enabled=False),
                at=T0,
                actor=OPERATOR,
            )
        )
    with pytest.raises(UnknownRuleError):
        writer.execute(UpdateRule(name="gone", rule=changed, at=T0, actor=ADMIN))
    assert [r.enabled for r in list_rules(store) if r.name == "other"] == [True]


def _names(store: Store) -> list[str]:
    return [r.name for r in list_rules(store)]


@pytest.mark.sql
def test_a_new_site_gets_default_rules_once_per_camera_and_an_admin_may_switch_them_off(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    """Issue 68: a new site had no alert rules, so its cameras alone raised nothing."""
    store = Store(db_url)
    writer = start_writer(store)
    site = load_site(_site(tmp_path))
    writer.execute(SyncSite(site=site, at=T0, default_rules=True))
    assert _names(store) == [
        "After hours: Front gate",
        "After hours: Yard",
        "Loitering: Front gate",
        "Loitering: Yard",
    ]
    rules = {r.name: r for r in list_rules(store)}
    after_hours, loitering = rules["After hours: Front gate"], rules["Loitering: Front gate"]
    assert (after_hours.camera, after_hours.trigger, after_hours.zone) == ("gate", "person", None)
    assert (after_hours.armed_from_min, after_hours.armed_until_min) == (22 * 60, 6 * 60)
    assert after_hours.days == 0b1111111 and after_hours.enabled
    assert (loitering.camera, loitering.trigger, loitering.loiter_s) == ("gate", "loitering", 120.0)
    assert (loitering.armed_from_min, loitering.armed_until_min) == (0, 24 * 60)
    assert after_hours.created_by == "engine:default-rules"
    site_time = SiteTime(UTC)
    assert after_hours.armed(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), site_time)
    assert not after_hours.armed(datetime(2026, 11, 29, 12, 0, tzinfo=UTC), site_time)

    # The admin switches one off and removes another: mirroring the site again (the next
    # start) gives neither back.
    writer.execute(ArmRule(name="Loitering: Yard", armed=False, at=T0, actor=ADMIN))
    writer.execute(RemoveRule(name="After hours: Yard", at=T0, actor=ADMIN))
    writer.execute(SyncSite(site=site, at=T0, default_rules=True))
    assert _names(store) == ["After hours: Front gate", "Loitering: Front gate", "Loitering: Yard"]
    (off,) = [r for r in list_rules(store) if r.name == "Loitering: Yard"]
    assert not off.enabled and not off.armed(datetime(2026, 11, 29, 23, 0, tzinfo=UTC), site_time)

    # A camera added to the site later gets them; one of the same name at another site
    # gets its key after the name.
    grown = load_site(
        write_site(
            tmp_path / "grown.toml",
            '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "a.mp4"\n'
            '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "b.mp4"\n'
            '[[cameras]]\nid = "dock"\nname = "Dock"\nurl = "c.mp4"\n',
        )
    )
    writer.execute(SyncSite(site=grown, at=T0, default_rules=True))
    assert _names(store) == [
        "After hours: Dock",
        "After hours: Front gate",
        "Loitering: Dock",
        "Loitering: Front gate",
        "Loitering: Yard",
    ]
    other = replace(load_site(_site(tmp_path)), name="Second site")
    writer.execute(SyncSite(site=other, at=T0, default_rules=True))
    assert "After hours: Front gate (gate)" in _names(store)
    assert len(_names(store)) == 9


@pytest.mark.sql
def test_mirroring_a_site_without_default_rules_gives_none(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store = Store(db_url)
    writer = start_writer(store)
    site = load_site(_site(tmp_path))
    writer.execute(SyncSite(site=site, at=T0))
    assert _names(store) == []
    # ... and marks none given: the engine's own mirroring gives them later.
    writer.execute(SyncSite(site=site, at=T0, default_rules=True))
    assert len(_names(store)) == 4


def test_cameras_stored_before_the_upgrade_get_no_default_rules(
    empty_db_url: str, tmp_path: Path
) -> None:
    """A site set up before default rules existed is not new: upgrading adds no rule."""
    from alembic import command

    command.upgrade(alembic_config(empty_db_url), "0030")
    site = load_site(_site(tmp_path))
    legacy = Store(empty_db_url, migrate=False)
    try:
        sync_site(legacy, site, SimulatedClock(T0))
    finally:
        legacy.close()
    upgraded = Store(empty_db_url)
    try:
        run_command(upgraded, SyncSite(site=site, at=T0, default_rules=True))
        assert _names(upgraded) == []
    finally:
        upgraded.close()
