"""MQTT commands as a hostile client sends them, on mosquitto with a password file and no
ACL (its ordinary setup: any user may publish on any topic). A command acts only when the
topic's broker user has an admin's grant and the payload carries the token of the service
account granted; whatever a sender does costs at most one audit entry and one log line a
minute; bad payloads are answered with a named error, never a traceback; forged retained
state is given the engine's own again; a site file's ``[mqtt.commands]`` grants nothing.

The engine's MQTT service runs here on a simulated clock (so a minute passes when the test
says so) with a real store, store writer and broker; its commands are the store commands
the engine's alert service runs (acknowledge, arm)."""

from __future__ import annotations

import functools
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.access import Actor, Role
from engine.accounts import CreateAccount, hash_token, new_service_token
from engine.alerts import actions as alert_actions
from engine.alerts.records import AcknowledgeAlert, RaiseAlert, list_alerts
from engine.alerts.rules import AddRule, ArmRule, RuleSpec, list_rules
from engine.alerts.sequences import CreateSequence
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.events import HealthState
from engine.mqtt.grants import GrantMqtt, MqttGrantError, RevokeMqtt, prove_sender
from engine.mqtt.limits import COMMANDS_PER_MINUTE, OTHERS, SUMMARY_S, Admission, SenderLimits
from engine.mqtt.publisher import CommandActions, MqttService, parse_command
from engine.mqtt.settings import MqttConfig
from engine.runtime import EngineRuntime
from engine.store.audit_models import AuditEntry
from engine.store.database import Store
from engine.store.writer import StoreWriter
from tests.conftest import write_site
from tests.mosquitto import PASSWORDS, Broker, Subscriber, mosquitto_installed
from tests.store_helpers import sync_site

pytestmark = pytest.mark.skipif(not mosquitto_installed(), reason="mosquitto is not installed")

ADMIN = Actor("ada", frozenset({Role.ADMIN}))
BASE = "watchfloor/test_site"
RULE = "Plaza person"
PUBLISHER = "engine.mqtt.publisher"


@pytest.fixture
def open_broker(tmp_path: Path) -> Iterator[Broker]:
    """mosquitto with passwords and no ACL."""
    running = Broker(tmp_path / "broker", acl=False)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Site:
    """A store with three service accounts (``ha-service`` and ``svc-admin``: admins,
    ``svc-other``: an operator), Home Assistant's broker user granted ``ha-service``, one
    open alert and one armed rule; its writer and the simulated clock."""

    store: Store
    writer: StoreWriter
    clock: SimulatedClock
    broker: Broker
    tokens: dict[str, str]
    alert_id: int

    def service(self, *, client: str = "engine") -> MqttService:
        config = MqttConfig(
            url=self.broker.url, host="127.0.0.1", port=self.broker.port, tls=False,
            user="watchfloor",
        )  # fmt: skip
        writer, clock = self.writer, self.clock
        actions = CommandActions(
            acknowledge=lambda actor, alert_id, note: writer.execute(
                AcknowledgeAlert(alert_id=alert_id, at=clock.now(), actor=actor, note=note)
            ),
            arm=lambda actor, rule, armed: writer.execute(
                ArmRule(name=rule, armed=armed, at=clock.now(), actor=actor)
            ),
            prove=functools.partial(prove_sender, self.store),
        )
        return MqttService(
            config, "Test site", cameras=[], rooms=[], bus=EventBus(), store=self.store,
            writer=writer, actions=actions, password=PASSWORDS["watchfloor"], clock=clock,
            client_id=f"watchfloor-test-{client}",
        )  # fmt: skip

    def audit(self, actor: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(action, outcome, detail) of every entry by ``actor``, oldest first."""
        assert self.writer.flush()
        with self.store.transaction() as session:
            rows = session.execute(
                select(AuditEntry.action, AuditEntry.outcome, AuditEntry.detail)
                .where(AuditEntry.actor == actor)
                .order_by(AuditEntry.seq)
            ).all()
        return [(action, outcome, json.loads(detail)) for action, outcome, detail in rows]

    def all_audit_text(self) -> str:
        assert self.writer.flush()
        with self.store.transaction() as session:
            rows = session.execute(
                select(AuditEntry.actor, AuditEntry.target, AuditEntry.detail)
            ).all()
        return "\n".join(" ".join(map(str, row)) for row in rows)


@pytest.fixture
def site(db_url: str, open_broker: Broker) -> Iterator[Site]:
    clock = SimulatedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=clock) as writer:
            tokens = {}
            for name, role in (
                ("ha-service", Role.ADMIN),
                ("svc-admin", Role.ADMIN),
                ("svc-other", Role.OPERATOR),
            ):
                tokens[name] = new_service_token()
                writer.execute(
                    CreateAccount(
                        name=name, roles=frozenset({role}), at=clock.now(), actor=ADMIN,
                        token_hash=hash_token(tokens[name]),
                    )
                )  # fmt: skip
            writer.execute(
                GrantMqtt(broker_user="homeassistant", account="ha-service", at=clock.now(),
                          actor=ADMIN)
            )  # fmt: skip
            alert = writer.execute(
                RaiseAlert(raised_at=clock.now(), kind="camera", source="camera:plaza",
                           severity="warning", title="Plaza east offline", detail={})
            )  # fmt: skip
            writer.execute(
                AddRule(
                    rule=RuleSpec(rule_id=0, name=RULE, camera=None, room="plaza",
                                  trigger="sensing_blob"),
                    at=clock.now(), actor=ADMIN,
                )
            )  # fmt: skip
            yield Site(store, writer, clock, open_broker, tokens, alert.alert_id)
    finally:
        store.close()


@pytest.fixture
def engine(site: Site) -> Iterator[MqttService]:
    service = site.service()
    watcher = Subscriber(site.broker, "homeassistant", [f"{BASE}/availability"])
    service.start()
    try:
        watcher.wait(lambda: service.connected and watcher.latest(f"{BASE}/availability"))
        yield service
    finally:
        service.stop()
        watcher.close()


def _payload(message: Any) -> dict[str, Any]:
    return json.loads(message.payload)  # type: ignore[no-any-return]


def _results(client: Subscriber, broker_user: str) -> list[dict[str, Any]]:
    return [_payload(m) for m in client.on(f"{BASE}/command/{broker_user}/result")]


def _warnings(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == PUBLISHER and r.levelno >= logging.WARNING and word in r.getMessage()
    ]


def _wait(condition: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    """``condition()``'s first true value, asked every 20 ms (real time) for ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout_s} s")


def _answers(client: Subscriber, broker_user: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` answers on ``broker_user``'s result topic, once they came."""

    def came() -> list[dict[str, Any]] | None:
        answers = _results(client, broker_user)
        return answers[:count] if len(answers) >= count else None

    return _wait(came)  # type: ignore[no-any-return]


def _idle(site: Site, service: MqttService, refused: int) -> None:
    """Wait until the service has counted ``refused`` refusals and its command thread has
    told what it had to and waits on the clock again (the only thread waiting on it)."""
    _wait(lambda: service.commands_refused >= refused)
    assert service.commands_refused == refused
    assert site.clock.wait_for_waiters(1, timeout_s=30)


@pytest.mark.hostile(3)
def test_naming_another_broker_user_achieves_nothing_without_its_token(
    site: Site, engine: MqttService, caplog: pytest.LogCaptureFixture
) -> None:
    """``intruder`` publishes on Home Assistant's command topic with no token, a made-up
    token, and the token of another service account: each is refused with a named error,
    the alert stays open, nothing is done as ``ha-service``, and the three refusals are one
    audit entry and one log line. Home Assistant with its token then acknowledges."""
    caplog.set_level(logging.INFO, logger=PUBLISHER)
    topic = f"{BASE}/command/homeassistant/ack"
    intruder = Subscriber(site.broker, "intruder", [f"{BASE}/command/homeassistant/result"])
    made_up = "wft_" + "A" * 43
    try:
        for token in (None, made_up, site.tokens["svc-other"]):
            body: dict[str, Any] = {"alert": site.alert_id}
            if token is not None:
                body["token"] = token
            intruder.publish(topic, json.dumps(body))
        answers = _answers(intruder, "homeassistant", 3)
        assert [a["ok"] for a in answers] == [False, False, False]
        assert 'carries no "token"' in answers[0]["error"]
        assert "the token is not that of the service account granted to broker user " \
            "'homeassistant'" in answers[1]["error"]  # fmt: skip
        assert answers[2]["error"] == answers[1]["error"]
        _idle(site, engine, refused=3)
        (alert,) = list_alerts(site.store, open_only=True)
        assert alert.alert_id == site.alert_id
        assert site.audit("service:ha-service") == []
        assert site.audit("service:svc-other") == []
        (entry,) = site.audit("mqtt:homeassistant")
        assert entry[:2] == ("mqtt.command", "denied")
        assert entry[2]["refused"] == 1 and entry[2]["reasons"] == {"no token": 1}
        assert len(_warnings(caplog, "homeassistant")) == 1
        # A minute later the two others are summarised in one more entry.
        site.clock.advance(SUMMARY_S)
        _wait(lambda: len(site.audit("mqtt:homeassistant")) == 2)
        summary = site.audit("mqtt:homeassistant")[1][2]
        assert summary["refused"] == 2 and summary["reasons"] == {"wrong token": 2}
        assert site.clock.wait_for_waiters(1)
        assert len(site.audit("mqtt:homeassistant")) == 2
        assert len(_warnings(caplog, "homeassistant")) == 2

        # Home Assistant's own client, with its token: acknowledged as ha-service.
        ha = Subscriber(site.broker, "homeassistant", [f"{BASE}/command/homeassistant/result"])
        try:
            ha.publish(
                topic, json.dumps({"alert": site.alert_id, "token": site.tokens["ha-service"]})
            )
            done = ha.wait(lambda: [r for r in _results(ha, "homeassistant") if r["ok"]])
            assert done == [{"command": "ack", "ok": True, "alert": site.alert_id}]
        finally:
            ha.close()
        assert list_alerts(site.store, open_only=True) == []
        assert [a[:2] for a in site.audit("service:ha-service")] == [("alert.acknowledge", "ok")]
        # No token is ever logged, answered or audited.
        told = caplog.text + "".join(str(m.payload) for m in intruder.received)
        told += site.all_audit_text()
        for token in (made_up, site.tokens["svc-other"], site.tokens["ha-service"]):
            assert token not in told
    finally:
        intruder.close()


@pytest.mark.hostile(3)
def test_forged_retained_state_is_given_the_engines_own_again(
    site: Site, engine: MqttService, caplog: pytest.LogCaptureFixture
) -> None:
    """``intruder`` writes a retained "no open alerts" over the engine's ``alerts/open``:
    the engine hears it, publishes its own again, counts it in its health and logs it once;
    a subscriber that comes later finds the truth."""
    topic = f"{BASE}/alerts/open"
    truth = {"count": 1, "alerts": [site.alert_id]}
    watcher = Subscriber(site.broker, "homeassistant", [topic])
    intruder = Subscriber(site.broker, "intruder", [])
    try:
        watcher.wait(lambda: watcher.latest(topic) and _payload(watcher.latest(topic)) == truth)
        intruder.publish(topic, json.dumps({"count": 0, "alerts": []}), retain=True)
        watcher.wait(lambda: [_payload(m) for m in watcher.on(topic)][-2:] == [
            {"count": 0, "alerts": []}, truth])  # fmt: skip
        assert engine.forged_restored == 1
        state, detail = engine.health()
        assert state is HealthState.OK and "forged state restored: 1" in detail
        assert engine.report()["forged_state_restored"] == 1
        later = Subscriber(site.broker, "homeassistant", [topic])
        try:
            kept = later.wait(lambda: later.latest(topic))
            assert kept.retain and _payload(kept) == truth
        finally:
            later.close()
        (line,) = _warnings(caplog, "retained message")
        assert topic in line and "broker ACL" in line
    finally:
        intruder.close()
        watcher.close()


@pytest.mark.hostile(13)
def test_a_flood_of_commands_costs_one_audit_entry_and_one_log_line_a_minute(
    site: Site, engine: MqttService, caplog: pytest.LogCaptureFixture
) -> None:
    """5,000 commands from ``intruder``, a broker user with no grant, while the clock stands
    still: the first 10 are looked at and refused (no grant), the rest over the rate are not
    looked at; one audit entry and one log line, 11 answers. A minute later one summary
    entry and one line say how many and why; the minute after, with nothing refused, none."""
    flood = 5_000
    intruder = Subscriber(site.broker, "intruder", [f"{BASE}/command/+/result"])
    try:
        body = json.dumps({"alert": site.alert_id}).encode()
        intruder.publish_many(f"{BASE}/command/intruder/ack", [body] * flood)
        _idle(site, engine, refused=flood)
        (first,) = site.audit("mqtt:intruder")
        assert first[:2] == ("mqtt.command", "denied") and first[2]["refused"] == 1
        assert len(_warnings(caplog, "intruder")) == 1
        assert list_alerts(site.store, open_only=True)[0].alert_id == site.alert_id

        site.clock.advance(SUMMARY_S)
        _wait(lambda: len(site.audit("mqtt:intruder")) == 2)
        assert site.clock.wait_for_waiters(1)
        entries = site.audit("mqtt:intruder")
        assert len(entries) == 2
        assert entries[1][2]["refused"] == flood - 1
        # Which came first, a refusal looked at or one over the rate, is the threads'.
        reasons = Counter(first[2]["reasons"]) + Counter(entries[1][2]["reasons"])
        assert reasons == {
            "no grant": COMMANDS_PER_MINUTE,
            "rate limited": flood - COMMANDS_PER_MINUTE,
        }
        lines = _warnings(caplog, "intruder")
        assert len(lines) == 2 and f"{flood - 1} more command(s)" in lines[1]

        # A quiet minute closes the window with no entry.
        site.clock.advance(SUMMARY_S)
        assert site.clock.wait_for_waiters(1)
        assert site.clock.next_deadline_in() is None
        assert len(site.audit("mqtt:intruder")) == 2
        assert len(_warnings(caplog, "intruder")) == 2
        # Answers: the ten looked at, and the first over the rate (saying so).
        answers = _answers(intruder, "intruder", 11)
        assert [a["ok"] for a in answers] == [False] * 11
        errors = Counter(a["error"] for a in answers)
        assert errors == {
            "broker user 'intruder' may not send commands: an admin grants it a service "
            "account with `watchfloor mqtt grant intruder ACCOUNT`": 10,
            "more than 10 commands a minute from this broker user: the rest of the minute's "
            "are ignored": 1,
        }
        assert engine.commands_run == 0
        # No more: a granted command's answer, sent after them all, comes after them.
        ha = Subscriber(site.broker, "homeassistant", [f"{BASE}/command/homeassistant/result"])
        try:
            ha.publish(f"{BASE}/command/homeassistant/arm",
                       json.dumps({"rule": RULE, "token": site.tokens["ha-service"]}))  # fmt: skip
            ha.wait(lambda: _results(ha, "homeassistant"))
            intruder.wait(lambda: len(intruder.on(f"{BASE}/command/homeassistant/result")))
        finally:
            ha.close()
        assert len(_results(intruder, "intruder")) == 11
    finally:
        intruder.close()


@pytest.mark.hostile(15)
def test_hostile_payloads_are_answered_with_named_errors_not_tracebacks(
    site: Site, engine: MqttService, caplog: pytest.LogCaptureFixture
) -> None:
    """From Home Assistant with its token: an alert id of 2**63 and a 2,000-deep JSON value
    are each answered with what was wrong; nothing is logged with a traceback."""
    caplog.set_level(logging.DEBUG)
    token = site.tokens["ha-service"]
    deep = "[" * 2000 + "]" * 2000
    sent = [
        ("ack", f'{{"token": "{token}", "alert": {2**63}}}'),
        ("ack", f'{{"token": "{token}", "alert": {deep}}}'),
        ("ack", deep),
        ("ack", f'{{"token": "{token}", "alert": -1}}'),
        ("arm", f'{{"token": "{token}", "rule": {{"a": {{"b": {{"c": {{"d": 1}}}}}}}}}}'),
        ("ack", "\xff\xfe not text"),
        ("ack", "x" * 5000),
    ]
    ha = Subscriber(site.broker, "homeassistant", [f"{BASE}/command/homeassistant/result"])
    try:
        for command, body in sent:
            ha.publish(f"{BASE}/command/homeassistant/{command}", body.encode("latin-1"))
        answers = _answers(ha, "homeassistant", len(sent))
    finally:
        ha.close()
    errors = [a["error"] for a in answers]
    assert [a["ok"] for a in answers] == [False] * len(sent)
    assert errors[0] == "'alert' must be an alert id: a whole number from 1 to " \
        "9223372036854775807"  # fmt: skip
    assert (
        errors[1]
        == errors[2]
        == ("the payload is nested more than 4 levels deep: a command is a flat JSON object")
    )
    assert errors[3] == errors[0]
    assert "nested more than 4 levels" in errors[4]
    assert errors[5] == "the payload is not UTF-8 text (byte 0)"
    assert errors[6] == "the payload has 5000 bytes: at most 4096"
    assert list_alerts(site.store, open_only=True)[0].alert_id == site.alert_id
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


def test_a_payloads_depth_is_measured_without_recursion() -> None:
    assert parse_command(b'{"token": "[[[[[[", "alert": 1}') == (
        {"token": "[[[[[[", "alert": 1},
        "",
    )
    assert parse_command(b'{"a": [[[1]]]}')[0] == {"a": [[[1]]]}
    assert parse_command(b'{"a": [[[[1]]]]}')[0] is None
    assert parse_command(b'{"a": "\\"[[[[[["}')[0] == {"a": '"[[[[[['}
    assert parse_command(b"[" * 100_000)[0] is None  # too long first
    assert parse_command(b"")[1].startswith("the payload is empty")


def test_a_retained_command_is_not_run_when_the_engine_connects(site: Site) -> None:
    """A command kept by the broker (retained) would run again on every reconnection: the
    engine ignores it and counts it."""
    ha = Subscriber(site.broker, "homeassistant", [])
    try:
        ha.publish(
            f"{BASE}/command/homeassistant/ack",
            json.dumps({"alert": site.alert_id, "token": site.tokens["ha-service"]}),
            retain=True,
        )
    finally:
        ha.close()
    service = site.service(client="late")
    service.start()
    try:
        probe = Subscriber(site.broker, "eve", [])
        try:
            probe.wait(lambda: service.commands_retained_ignored == 1)
        finally:
            probe.close()
        assert service.commands_run == 0
        assert list_alerts(site.store, open_only=True)[0].alert_id == site.alert_id
    finally:
        service.stop()


def test_a_granted_user_with_its_token_disarms_and_a_revoked_one_cannot(
    site: Site, engine: MqttService
) -> None:
    """``svc-admin`` granted to ``intruder`` by an admin: its token disarms the rule;
    revoked, the same command is refused. Granting a person's account is refused."""
    site.writer.execute(
        GrantMqtt(broker_user="intruder", account="svc-admin", at=site.clock.now(), actor=ADMIN)
    )
    client = Subscriber(site.broker, "intruder", [f"{BASE}/command/intruder/result"])
    body = json.dumps({"rule": RULE, "token": site.tokens["svc-admin"]})
    try:
        client.publish(f"{BASE}/command/intruder/disarm", body)
        done = client.wait(lambda: _results(client, "intruder"))
        assert done == [{"command": "disarm", "ok": True, "rule": RULE, "armed": False}]
        assert [r.enabled for r in list_rules(site.store) if r.name == RULE] == [False]
        site.writer.execute(RevokeMqtt(broker_user="intruder", at=site.clock.now(), actor=ADMIN))
        client.publish(f"{BASE}/command/intruder/arm", body)
        refused = _answers(client, "intruder", 2)[1]
        assert refused["ok"] is False and "may not send commands" in refused["error"]
        assert [r.enabled for r in list_rules(site.store) if r.name == RULE] == [False]
    finally:
        client.close()
    actions = [a[0] for a in site.audit(ADMIN.label)]
    assert actions.count("mqtt.grant") == 2 and actions.count("mqtt.revoke") == 1
    with pytest.raises(MqttGrantError, match="has no grant"):
        site.writer.execute(RevokeMqtt(broker_user="intruder", at=site.clock.now(), actor=ADMIN))


@pytest.mark.hostile(2)
def test_a_site_file_mapping_a_broker_user_to_an_admin_account_grants_nothing(
    tmp_path: Path,
    open_broker: Broker,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An operator's site file says ``intruder = "svc-admin"`` (an admin's service account)
    and the engine runs it: ``intruder``'s disarm is refused (no grant), the rule stays
    armed, nothing is done as svc-admin; the engine says in its health, report and log that
    the table is ignored and how an admin grants instead."""
    monkeypatch.setenv("WATCHFLOOR_MQTT_PASSWORD", PASSWORDS["watchfloor"])
    site_file = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "plaza"\nname = "Plaza east"\nurl = "{tmp_path / "none.mp4"}"\n',
        extra=(
            f'[mqtt]\nurl = "{open_broker.url}"\nuser = "watchfloor"\n'
            '[mqtt.commands]\nintruder = "svc-admin"\n'
        ),
    )
    runtime = EngineRuntime(load_site(site_file), Store(db_url), analytics=False)
    runtime.start()
    intruder = Subscriber(open_broker, "intruder", [f"{BASE}/command/intruder/result"])
    try:
        assert runtime.writer is not None and runtime.store is not None and runtime.mqtt.service
        runtime.writer.execute(
            CreateAccount(
                name="svc-admin", roles=frozenset({Role.ADMIN}), at=datetime.now(UTC),
                actor=ADMIN, token_hash=hash_token(new_service_token()),
            )
        )  # fmt: skip
        alert_actions.add_rule(
            runtime.alerts,
            runtime.writer,
            runtime.clock,
            ADMIN,
            RuleSpec(rule_id=0, name=RULE, camera="plaza", room=None, trigger="person"),
        )
        mqtt = runtime.mqtt.service
        intruder.wait(lambda: mqtt.connected)
        for token in (None, new_service_token()):  # with none, and one of its own making
            body = {"rule": RULE} | ({"token": token} if token else {})
            intruder.publish(f"{BASE}/command/intruder/disarm", json.dumps(body))
        answers = _answers(intruder, "intruder", 2)
        assert all(a["ok"] is False and "may not send commands" in a["error"] for a in answers)
        assert "watchfloor mqtt grant intruder ACCOUNT" in answers[0]["error"]
        assert [r.enabled for r in list_rules(runtime.store) if r.name == RULE] == [True]
        assert runtime.writer.flush()
        with runtime.store.transaction() as session:
            by_service = session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor.like("service:%"))
            ).all()
        assert by_service == []
        health = {r.subsystem: r for r in runtime.health()}["mqtt"]
        assert health.state is HealthState.DEGRADED
        assert "[mqtt.commands] (intruder = svc-admin) is ignored" in health.detail
        assert "`watchfloor mqtt grant BROKER_USER ACCOUNT`" in health.detail
        (warning,) = runtime.report()["mqtt"]["warnings"]
        assert "a site file grants no rights" in warning
        assert any("is ignored" in line for line in _warnings(caplog, "[mqtt.commands]"))
    finally:
        intruder.close()
        runtime.stop()


def test_senders_past_the_followed_ones_share_one_ledger() -> None:
    """A client naming a new broker user in each topic gains nothing: past 256 followed
    senders the rest count under one key, with one bucket and one ledger; a sender with
    nothing pending (a full bucket, no open window) is forgotten to make room."""
    clock = SimulatedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    limits = SenderLimits(clock, per_minute=2, max_senders=3)
    assert [limits.key(name) for name in ("a", "b", "c")] == ["a", "b", "c"]
    for name in ("a", "b", "c"):
        assert limits.take(name) is Admission.ADMITTED
        assert limits.refuse(name, "no grant", "no") is not None  # each one's first
    assert limits.key("d") == OTHERS and limits.key(None) == OTHERS
    takes = [limits.take(OTHERS) for _ in range(4)]
    assert takes == [Admission.ADMITTED, Admission.ADMITTED, Admission.LIMITED_FIRST,
                     Admission.LIMITED]  # fmt: skip
    assert limits.refuse(OTHERS, "no grant", "no") is not None
    assert limits.refuse(OTHERS, "no grant", "no") is None  # in the window's summary
    clock.advance(SUMMARY_S)
    due = limits.due()
    assert [(s.sender, s.refused) for s in due] == [(OTHERS, 1)]
    clock.advance(SUMMARY_S)
    assert limits.due() == [] and limits.next_due_in() is None
    assert limits.key("d") == "d"  # a, b and c had nothing pending: forgotten


def test_a_starting_engine_does_not_tell_a_snoozed_cameras_alert_as_open(
    site: Site, tmp_path: Path
) -> None:
    """Before: a starting engine read every open alert from the store and published it on
    ``alerts/open`` (and announced it as new to a broker that had none), a snoozed camera's
    too, which the running engine had kept quiet: Home Assistant chimed for it after a
    restart."""
    cameras = write_site(tmp_path / "site.toml", '[[cameras]]\nid = "gate"\nurl = "a.mp4"\n')
    site_id = sync_site(site.store, load_site(cameras), site.clock).site_id
    alert_actions.snooze_camera(site.writer, site_id, site.clock, ADMIN, "gate", 30)
    quiet = site.writer.execute(
        CreateSequence(
            seq_key="g", source="camera:gate", camera="gate", site="Test site",
            trigger="person", rule_id=None, track_id=1, started_at=site.clock.now(),
            last_seen_at=site.clock.now(), detections=3, max_conf=0.9, snapshot=None,
            severity="warning", title="Person at gate",
        )
    )  # fmt: skip
    assert quiet.snoozed_until is not None and quiet.alert is not None
    assert {a.alert_id for a in list_alerts(site.store, open_only=True)} == {
        site.alert_id,
        quiet.alert.alert_id,
    }
    topic = f"{BASE}/alerts/open"
    watcher = Subscriber(site.broker, "homeassistant", [topic, f"{BASE}/alert/#"])
    service = site.service()
    service.start()
    try:
        told = watcher.wait(lambda: watcher.latest(topic))
        assert _payload(told) == {"count": 1, "alerts": [site.alert_id]}
        watcher.wait(lambda: watcher.on(f"{BASE}/alert/{site.alert_id}"))
        assert watcher.on(f"{BASE}/alert/{quiet.alert.alert_id}") == []
    finally:
        service.stop()
        watcher.close()
