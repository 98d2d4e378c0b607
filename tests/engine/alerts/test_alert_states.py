"""Alert states as an alarm manager has them: new, in progress (taken: who and when), closed
(who, when and a closing comment, required where the alert's rule says so), with every step
in the alert's history, the rule's operating instructions read with the alert, and one
highest confidence for every pane and the CLI. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.access import ENGINE, Actor, PermissionDeniedError
from engine.alerts import actions
from engine.alerts.filtering import AlertListRequest, RiskGate
from engine.alerts.records import (
    STATE_CLOSED,
    STATE_IN_PROGRESS,
    STATE_NEW,
    AcknowledgeAlert,
    AlertStateError,
    AlertView,
    EscalateAlert,
    NoteAlert,
    TakeAlert,
    alert_event_id,
    alerts_by_id,
    notes_of,
    priority_key,
)
from engine.alerts.rules import AddRule, RuleSpec, SetRuleHandling, list_rules
from engine.alerts.sequences import CreateSequence
from engine.alerts.service import CAMERA_WATCH, AlertChanged
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.store import Store
from engine.store.audit import AuditListRequest, append_audit
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR
from tests.conftest import write_site
from tests.store_helpers import sync_site

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
INSTRUCTIONS = "Call the site manager on 555-0100; check gate 2 first"


def _site(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "a.mp4"\n'
        '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "b.mp4"\n',
    )


def _sequence(
    key: str, camera: str, rule_id: int | None, max_conf: float, at: datetime
) -> CreateSequence:
    return CreateSequence(
        seq_key=key,
        source=f"camera:{camera}",
        camera=camera,
        site="Test site",
        trigger="person",
        rule_id=rule_id,
        track_id=1,
        started_at=at,
        last_seen_at=at,
        detections=3,
        max_conf=max_conf,
        snapshot=None,
        severity="warning",
        title=f"Person at {camera}",
    )


def _set_up(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> tuple[Store, StoreWriter, SimulatedClock, int]:
    """A site with a rule on the gate that asks for a closing comment and has instructions,
    one on the yard that asks for nothing; an alert of two sequences (gate 0.59, yard 0.30)."""
    store = Store(db_url)
    clock = SimulatedClock(T0)
    sync_site(store, load_site(_site(tmp_path)), clock)
    writer = start_writer(store)
    gate = writer.execute(
        AddRule(
            rule=RuleSpec(
                0,
                "gate at night",
                "gate",
                None,
                "person",
                instructions=INSTRUCTIONS,
                comment_required=True,
            ),
            at=T0,
            actor=ADMIN,
        )
    )
    yard = writer.execute(
        AddRule(rule=RuleSpec(0, "yard", "yard", None, "person"), at=T0, actor=ADMIN)
    )
    first = writer.execute(_sequence("s-gate", "gate", gate.rule_id, 0.59, T0))
    writer.execute(_sequence("s-yard", "yard", yard.rule_id, 0.30, T0 + timedelta(seconds=5)))
    return store, writer, clock, first.alert.alert_id


@pytest.mark.sql
def test_an_alert_is_taken_noted_and_closed_with_a_comment_its_rule_requires(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store, writer, clock, alert_id = _set_up(db_url, start_writer, tmp_path)
    bus = EventBus()
    told: list[AlertChanged] = []
    bus.subscribe(AlertChanged, told.append)
    (alert,) = alerts_by_id(store, [alert_id])
    assert alert.state == STATE_NEW and alert.comment_required
    assert alert.instructions == (INSTRUCTIONS,)  # shown with the alert, from its rule
    assert alert.cameras == ("gate", "yard")

    clock.advance(60)
    taken = actions.take_alert(writer, bus, clock, OPERATOR, alert_id)
    assert taken.state == STATE_IN_PROGRESS
    assert (taken.taken_by, taken.taken_at) == (OPERATOR.label, T0 + timedelta(seconds=60))
    assert [(c.change, c.alert.alert_id) for c in told] == [("taken", alert_id)]
    # Taken, it no longer escalates: somebody is on it.
    assert writer.execute(EscalateAlert(alert_id=alert_id, at=clock.now())) is None

    clock.advance(30)
    noted = actions.note_alert(writer, bus, clock, OPERATOR, alert_id, "Gate 2 locked, walking")
    assert noted.state == STATE_IN_PROGRESS
    with pytest.raises(ValueError, match="write something"):
        NoteAlert(alert_id=alert_id, at=clock.now(), actor=OPERATOR, text="  ")

    # Closing without a comment is refused, in words, naming the rule; nothing changes.
    with pytest.raises(AlertStateError) as refused:
        writer.execute(AcknowledgeAlert(alert_id=alert_id, at=clock.now(), actor=OPERATOR))
    assert str(refused.value) == (
        f"Alert {alert_id} needs a closing comment: its rule 'gate at night' asks for one. "
        "Say what you found and what you did, then close it."
    )
    (still,) = alerts_by_id(store, [alert_id])
    assert still.state == STATE_IN_PROGRESS and still.acknowledged_at is None

    clock.advance(30)
    closed = writer.execute(
        AcknowledgeAlert(alert_id=alert_id, at=clock.now(), actor=OPERATOR, note="A cleaner")
    )
    assert closed.state == STATE_CLOSED
    assert (closed.acknowledged_by, closed.acknowledged_at) == (OPERATOR.label, clock.now())
    # Every step is in its history, oldest first, with who and when.
    assert [(n.kind, n.author, n.text, n.at) for n in closed.notes] == [
        ("took", OPERATOR.label, "", T0 + timedelta(seconds=60)),
        ("note", OPERATOR.label, "Gate 2 locked, walking", T0 + timedelta(seconds=90)),
        ("closed", OPERATOR.label, "A cleaner", T0 + timedelta(seconds=120)),
    ]
    # A closed alert cannot be taken; a late note is kept.
    with pytest.raises(AlertStateError, match="olga closed it already"):
        writer.execute(TakeAlert(alert_id=alert_id, at=clock.now(), actor=ADMIN))
    late = actions.note_alert(writer, bus, clock, ADMIN, alert_id, "Cleaner's rota checked")
    assert [n.kind for n in late.notes] == ["took", "note", "closed", "note"]
    # Each change is audited under the alert, with the comment.
    audit = AuditListRequest(reader=ENGINE, limit=20).run(store)
    mine = [(e.action, e.detail.get("note")) for e in audit if e.target == f"alert:{alert_id}"]
    assert sorted(mine, key=str) == sorted(
        [
            ("alert.take", None),
            ("alert.note", "Gate 2 locked, walking"),
            ("alert.acknowledge", "A cleaner"),
            ("alert.note", "Cleaner's rota checked"),
        ],
        key=str,
    )
    store.close()


@pytest.mark.sql
def test_taking_another_persons_alert_takes_it_over_and_an_investigator_may_not_take(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store, writer, clock, alert_id = _set_up(db_url, start_writer, tmp_path)
    writer.execute(TakeAlert(alert_id=alert_id, at=clock.now(), actor=OPERATOR))
    again = writer.execute(TakeAlert(alert_id=alert_id, at=clock.now(), actor=OPERATOR))
    assert [n.kind for n in again.notes] == ["took"]  # theirs already: nothing added
    clock.advance(10)
    over = writer.execute(TakeAlert(alert_id=alert_id, at=clock.now(), actor=ADMIN))
    assert over.taken_by == ADMIN.label
    assert [(n.kind, n.text) for n in over.notes][-1] == ("took", "from olga")
    nobody = Actor("guest", frozenset())  # logged in with no role
    with pytest.raises(PermissionDeniedError):
        writer.execute(TakeAlert(alert_id=alert_id, at=clock.now(), actor=nobody))
    store.close()


@pytest.mark.sql
def test_the_engine_closes_with_its_note_and_an_admin_changes_a_rules_handling(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store, writer, clock, alert_id = _set_up(db_url, start_writer, tmp_path)
    # The admin drops the comment requirement and changes the instructions: the open alert
    # follows at once.
    writer.execute(
        SetRuleHandling(
            name="gate at night",
            instructions="Radio the guard",
            comment_required=False,
            at=clock.now(),
            actor=ADMIN,
        )
    )
    (rule,) = [r for r in list_rules(store) if r.name == "gate at night"]
    assert (rule.instructions, rule.comment_required) == ("Radio the guard", False)
    (alert,) = alerts_by_id(store, [alert_id])
    assert alert.instructions == ("Radio the guard",) and not alert.comment_required
    with pytest.raises(PermissionDeniedError):
        writer.execute(
            SetRuleHandling(
                name="yard", instructions="", comment_required=True, at=T0, actor=OPERATOR
            )
        )
    # The engine's own closing (a camera back online) is a closing with its note.
    note = "Camera Front gate is back online at 03:02"
    closed = writer.execute(
        AcknowledgeAlert(alert_id=alert_id, at=clock.now(), actor=CAMERA_WATCH, note=note)
    )
    assert closed.state == STATE_CLOSED and closed.acknowledged_by == "engine:camera-watch"
    assert [(n.kind, n.author, n.text) for n in closed.notes] == [
        ("closed", "engine:camera-watch", note)
    ]
    store.close()


@pytest.mark.sql
def test_an_alerts_highest_confidence_is_the_same_in_every_view(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    """Before: the Alert list (and ``alerts list``) took the highest confidence of the
    sequences a view shows, the Alerts pane none: 0.30 here on a quiet day, hiding the gate's
    0.59 sequence, while the alert is the same. Now both say 0.59, its highest over all."""
    store, _writer, _clock, alert_id = _set_up(db_url, start_writer, tmp_path)
    quiet = RiskGate({"gate": "very_low"}, None, "test classes")
    page = AlertListRequest(gate=quiet).run(store)
    (row,) = [r for r in page.rows if r.alert_id == alert_id]
    assert [s.camera for s in row.sequences] == ["yard"]  # the gate's sequence is hidden
    (view,) = alerts_by_id(store, [alert_id])
    assert row.max_conf == view.max_conf == pytest.approx(0.59)
    everything = AlertListRequest().run(store)
    assert everything.rows[0].max_conf == pytest.approx(0.59)
    store.close()


@pytest.mark.sql
def test_an_alert_of_a_rule_is_escalated_through_its_sequences_event(
    db_url: str, start_writer: Callable[..., StoreWriter], tmp_path: Path
) -> None:
    store, _writer, _clock, alert_id = _set_up(db_url, start_writer, tmp_path)
    assert alert_event_id(store, alert_id) is None  # no event stored for its track yet
    with store.transaction() as session:
        camera_id = session.execute(sa.text("SELECT id FROM cameras WHERE key = 'gate'")).scalar()
        session.execute(
            sa.text(
                "INSERT INTO events (ts, kind, source, camera_id, track_id, detail) "
                "VALUES (:ts, 'person.appeared', 'camera:gate', :camera, 1, '{}')"
            ),
            {"ts": T0 - timedelta(seconds=2), "camera": camera_id},
        )
        event_id = session.execute(sa.text("SELECT max(id) FROM events")).scalar()
    assert alert_event_id(store, alert_id) == event_id
    store.close()


def test_priority_puts_open_alerts_first_by_severity_then_newest() -> None:
    ordered = sorted(_views(), key=priority_key)
    assert [a.title for a in ordered] == [
        "critical old",
        "warning new",
        "warning old",
        "info newest",
        "closed critical newest",
    ]


def _views() -> list[AlertView]:
    def view(
        alert_id: int, minutes: int, severity: str, title: str, closed: bool = False
    ) -> AlertView:
        at = T0 + timedelta(minutes=minutes)
        return AlertView(
            alert_id=alert_id,
            raised_at=at,
            kind="person",
            source="camera:gate",
            severity=severity,
            title=title,
            detail={},
            person=None,
            event_id=None,
            acknowledged_at=at if closed else None,
            acknowledged_by="account:olga" if closed else None,
            escalated_at=None,
        )

    return [
        view(1, 0, "warning", "warning old"),
        view(2, 9, "critical", "closed critical newest", closed=True),
        view(3, 5, "warning", "warning new"),
        view(4, 8, "info", "info newest"),
        view(5, -5, "critical", "critical old"),
    ]


@pytest.mark.sql
def test_notes_acknowledged_before_the_states_are_carried_into_the_history(
    empty_db_url: str,
) -> None:
    """Before: an acknowledgement's note was kept only in the audit trail's detail and
    shown nowhere; the migration copies each into the alert's history."""
    from alembic import command

    from engine.store.database import alembic_config

    command.upgrade(alembic_config(empty_db_url), "0029")
    legacy = Store(empty_db_url, migrate=False)
    try:
        with legacy.transaction() as session:
            for alert_id in (1, 2):
                session.execute(
                    sa.text(
                        "INSERT INTO alerts (id, raised_at, kind, source, severity, title, "
                        "detail, acknowledged_at, acknowledged_by) VALUES (:id, :at, 'fall', "
                        "'sensing:lab', 'critical', 'Fall', '{}', :at, 'account:olga')"
                    ),
                    {"id": alert_id, "at": T0},
                )
            append_audit(
                session,
                at=T0 + timedelta(minutes=1),
                actor=OPERATOR,
                action="alert.acknowledge",
                target="alert:1",
                detail={"kind": "fall", "title": "Fall", "note": "Resident helped up"},
            )
            append_audit(
                session,
                at=T0 + timedelta(minutes=2),
                actor=OPERATOR,
                action="alert.acknowledge",
                target="alert:2",
                detail={"kind": "fall", "title": "Fall"},
            )
    finally:
        legacy.close()
    upgraded = Store(empty_db_url)
    try:
        with upgraded.sessions() as session:
            first, second = notes_of(session, 1), notes_of(session, 2)
        assert [(n.kind, n.author, n.text) for n in first] == [
            ("closed", "account:olga", "Resident helped up")
        ]
        assert first[0].at == T0 + timedelta(minutes=1)
        assert [(n.kind, n.text) for n in second] == [("closed", "")]
    finally:
        upgraded.close()
