"""Issue 68: an admin edits a stored alert rule in one guarded, audited step, switches it
off, and a new site starts with default rules once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.access import ENGINE, PermissionDeniedError
from engine.alerts.rules import (
    AddRule,
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
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site

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
