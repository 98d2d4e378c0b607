"""Per role, the engine itself refuses every guarded command and guarded read the role may
not run: the store writer raises before anything is queued, and audits the refusal.

Every :class:`~engine.access.GuardedCommand` in the engine must have a sample here
(``test_every_guarded_command_has_a_sample`` fails otherwise), so a new sensitive action
cannot skip this check.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import engine
import engine.accounts
import engine.alerts.records
import engine.alerts.rules
import engine.alerts.sequences
import engine.alerts.snoozes
import engine.fusion.floor
import engine.gestures.library
import engine.history.bookmarks
import engine.history.chat.service
import engine.history.evidence
import engine.history.locks
import engine.identity.devices
import engine.identity.erasure
import engine.identity.faces_store
import engine.identity.introduced
import engine.incidents.records
import engine.incidents.site_plan
import engine.mqtt.grants
import engine.recording_settings
import engine.sensing.nodes.tokens
import engine.sensing.records
import engine.settings
import engine.site_edit
import engine.vision.privacy
from engine.access import ENGINE, Actor, GuardedCommand, PermissionDeniedError, Role
from engine.accounts import AccountListRequest, hash_password
from engine.gestures.sequence import normalise
from engine.incidents.classify import Classification
from engine.incidents.reports import ReportInput
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.models import Camera, Site
from engine.store.person_models import Person
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR
from tests.gesture_motions import motion3d

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
PASSWORD_HASH = hash_password("irrelevant-pw")

SAMPLES: dict[type[GuardedCommand], Callable[[Actor], GuardedCommand]] = {
    engine.alerts.snoozes.SnoozeCamera: lambda a: engine.alerts.snoozes.SnoozeCamera(
        site_id=1, camera="gate", minutes=30, at=T0, actor=a
    ),
    engine.alerts.snoozes.UnsnoozeCamera: lambda a: engine.alerts.snoozes.UnsnoozeCamera(
        site_id=1, camera="gate", at=T0 + timedelta(minutes=5), actor=a
    ),
    engine.fusion.floor.CalibrateCamera: lambda a: engine.fusion.floor.CalibrateCamera(
        site_id=1,
        camera="gate",
        calibration=engine.fusion.floor.calibrate(
            [
                engine.fusion.floor.PointPair(u, v, x, y)
                for u, v, x, y in ((0, 0, 0, 0), (100, 0, 1, 0), (100, 100, 1, 1), (0, 100, 0, 1))
            ],
            (640, 480),
        ),
        at=T0,
        actor=a,
    ),
    engine.vision.privacy.SetPrivacyMasks: lambda a: engine.vision.privacy.SetPrivacyMasks(
        site_id=1,
        camera="gate",
        mask=engine.vision.privacy.privacy_mask([[(0, 0), (100, 0), (100, 100)]], (640, 480)),
        at=T0,
        actor=a,
    ),
    engine.incidents.site_plan.PinSitePlan: lambda a: engine.incidents.site_plan.PinSitePlan(
        site_id=1,
        path="site_plans/plan.png",
        original_name="plan.png",
        sha256="0" * 64,
        size_bytes=1,
        width_px=100,
        height_px=100,
        pins=(
            engine.incidents.site_plan.PlanPin(10, 10, 51.5, -0.14),
            engine.incidents.site_plan.PlanPin(90, 90, 51.499, -0.139),
        ),
        transform=engine.incidents.site_plan.PlanTransform(0.5, 0.0, 0.0, 0.0),
        at=T0,
        actor=a,
    ),
    engine.settings.ChangeSetting: lambda a: engine.settings.ChangeSetting(
        key="retention.clips_days", value=9, at=T0, actor=a
    ),
    engine.recording_settings.ChangeRecordingTiers: (
        lambda a: engine.recording_settings.ChangeRecordingTiers(
            cameras=("gate",), tiers={"keep_all_days": 3}, at=T0, actor=a
        )
    ),
    **{
        record: (
            lambda a, record=record: record(
                site="Test site",
                file="/etc/watchfloor/site.toml",
                camera="gate",
                name="Gate",
                fields={"name": "Gate"},
                at=T0,
                actor=a,
            )
        )
        for record in (
            engine.site_edit.CameraAdded,
            engine.site_edit.CameraChanged,
            engine.site_edit.CameraRemoved,
        )
    },
    engine.identity.faces_store._Enroll: lambda a: engine.identity.faces_store._Enroll(
        name="Eve", blobs=(), candidate_ids=(), at=T0, actor=a
    ),
    engine.identity.faces_store._Rename: lambda a: engine.identity.faces_store._Rename(
        public_id="Person_00000001", name="X", at=T0, actor=a
    ),
    engine.identity.faces_store._Merge: lambda a: engine.identity.faces_store._Merge(
        keep="Person_00000001", absorb="Person_00000002", max_observed=1, at=T0, actor=a
    ),
    engine.identity.erasure.ErasePerson: lambda a: engine.identity.erasure.ErasePerson(
        public_id="Person_00000001", at=T0, actor=a
    ),
    engine.accounts.CreateAccount: lambda a: engine.accounts.CreateAccount(
        name="eve", roles=frozenset({Role.ADMIN}), at=T0, actor=a, password_hash=PASSWORD_HASH
    ),
    engine.accounts.SetRoles: lambda a: engine.accounts.SetRoles(
        name="ada", roles=frozenset({Role.OPERATOR}), at=T0, actor=a
    ),
    engine.accounts.SetDisabled: lambda a: engine.accounts.SetDisabled(
        name="ada", disabled=True, at=T0, actor=a
    ),
    engine.accounts.ResetSecret: lambda a: engine.accounts.ResetSecret(
        name="ada", secret_hash=PASSWORD_HASH, at=T0, actor=a
    ),
    engine.accounts.ClearLoginDelay: lambda a: engine.accounts.ClearLoginDelay(
        name="ada", at=T0, actor=a
    ),
    engine.sensing.records.OpenNodePairing: lambda a: engine.sensing.records.OpenNodePairing(
        room="room", seconds=120, at=T0, actor=a
    ),
    engine.sensing.records.RequestNodePairing: lambda a: engine.sensing.records.RequestNodePairing(
        room="room", seconds=120, at=T0, actor=a
    ),
    engine.identity.devices.RegisterBleDevice: lambda a: engine.identity.devices.RegisterBleDevice(
        address="AA:BB:CC:00:00:01", label="phone", person="Eve", colour=None, at=T0, actor=a
    ),
    engine.identity.devices.RemoveBleDevice: lambda a: engine.identity.devices.RemoveBleDevice(
        address="AA:BB:CC:00:00:01", at=T0, actor=a
    ),
    engine.alerts.records.AcknowledgeAlert: lambda a: engine.alerts.records.AcknowledgeAlert(
        alert_id=1, at=T0, actor=a
    ),
    engine.alerts.records.TakeAlert: lambda a: engine.alerts.records.TakeAlert(
        alert_id=1, at=T0, actor=a
    ),
    engine.alerts.records.NoteAlert: lambda a: engine.alerts.records.NoteAlert(
        alert_id=1, at=T0, actor=a, text="Checked gate 2"
    ),
    engine.alerts.records.RecordEscalation: lambda a: engine.alerts.records.RecordEscalation(
        alert_id=1, at=T0, actor=a, incident_id=7
    ),
    engine.incidents.records.FileReports: lambda a: engine.incidents.records.FileReports(
        reports=(), at=T0, actor=a
    ),
    engine.incidents.records.ValidateIncident: lambda a: engine.incidents.records.ValidateIncident(
        incident_id=1, category="theft", at=T0, actor=a
    ),
    engine.incidents.records.UnmergeReport: lambda a: engine.incidents.records.UnmergeReport(
        report_id=1, at=T0, actor=a
    ),
    engine.alerts.rules.AddRule: lambda a: engine.alerts.rules.AddRule(
        rule=engine.alerts.rules.RuleSpec(0, "gate", "gate", None, "person"), at=T0, actor=a
    ),
    engine.alerts.rules.RemoveRule: lambda a: engine.alerts.rules.RemoveRule(
        name="gate", at=T0, actor=a
    ),
    engine.alerts.rules.ArmRule: lambda a: engine.alerts.rules.ArmRule(
        name="gate", armed=False, at=T0, actor=a
    ),
    engine.alerts.rules.SetRuleHandling: lambda a: engine.alerts.rules.SetRuleHandling(
        name="gate", instructions="Call 555-0100", comment_required=True, at=T0, actor=a
    ),
    engine.alerts.rules.UpdateRule: lambda a: engine.alerts.rules.UpdateRule(
        name="gate",
        rule=engine.alerts.rules.RuleSpec(0, "gate", "gate", None, "loitering", loiter_s=60),
        at=T0,
        actor=a,
    ),
    engine.alerts.sequences.LabelSequence: lambda a: engine.alerts.sequences.LabelSequence(
        sequence_id=1, label="false_alarm", at=T0, actor=a
    ),
    engine.history.chat.service.RecordChatTurn: lambda a: (
        engine.history.chat.service.RecordChatTurn(
            question="When did I last see John?",
            answer="No record.",
            mode="offline",
            answered=False,
            at=T0,
            actor=a,
        )
    ),
    engine.gestures.library.TeachGesture: lambda a: engine.gestures.library.TeachGesture(
        name="wave", examples=(), durations_s=(), sources=(), at=T0, actor=a
    ),
    engine.gestures.library.RenameGesture: lambda a: engine.gestures.library.RenameGesture(
        name="wave", new_name="help", at=T0, actor=a
    ),
    engine.gestures.library.SetGestureOptions: lambda a: engine.gestures.library.SetGestureOptions(
        name="wave", alerting=True, at=T0, actor=a
    ),
    engine.gestures.library.RemoveGesture: lambda a: engine.gestures.library.RemoveGesture(
        name="wave", at=T0, actor=a
    ),
    engine.identity.introduced.NameFromIntroduction: lambda a: (
        engine.identity.introduced.NameFromIntroduction(
            public_id="Person_00000001",
            name="John",
            camera="gate",
            transcript="hi i'm john",
            at=T0,
            actor=a,
        )
    ),
    engine.history.bookmarks.AddBookmark: lambda a: engine.history.bookmarks.AddBookmark(
        title="van", marked_at=T0, at=T0, actor=a
    ),
    engine.history.bookmarks.RemoveBookmark: lambda a: engine.history.bookmarks.RemoveBookmark(
        bookmark_id=1, at=T0, actor=a
    ),
    engine.history.locks.LockEvidence: lambda a: engine.history.locks.LockEvidence(
        start=T0, end=T0 + timedelta(hours=1), reason="case 1", at=T0, actor=a
    ),
    engine.history.locks.UnlockEvidence: lambda a: engine.history.locks.UnlockEvidence(
        lock_id=1, reason="case closed", at=T0, actor=a
    ),
    engine.mqtt.grants.GrantMqtt: lambda a: engine.mqtt.grants.GrantMqtt(
        broker_user="homeassistant", account="ha-service", at=T0, actor=a
    ),
    engine.mqtt.grants.RevokeMqtt: lambda a: engine.mqtt.grants.RevokeMqtt(
        broker_user="homeassistant", at=T0, actor=a
    ),
    engine.sensing.nodes.tokens.IssueNodeToken: lambda a: (
        engine.sensing.nodes.tokens.IssueNodeToken(
            mac="AA:BB:CC:DD:EE:01", token_sha256="ab" * 32, at=T0, actor=a
        )
    ),
    engine.sensing.nodes.tokens.RevokeNodeToken: lambda a: (
        engine.sensing.nodes.tokens.RevokeNodeToken(mac="AA:BB:CC:DD:EE:01", at=T0, actor=a)
    ),
    engine.history.evidence.RecordExport: lambda a: engine.history.evidence.RecordExport(
        folder="/tmp/case-1",
        start=T0,
        end=T0,
        cameras=None,
        rooms=None,
        files=3,
        bytes=10,
        fingerprint="ab" * 32,
        at=T0,
        actor=a,
    ),
}


def _all_subclasses(cls: type) -> set[type]:
    """Commands (classes that name their ``action``) as their modules define them
    (``dataclass(slots=True)`` leaves the class it replaced among ``__subclasses__``)."""
    found = set()
    for sub in cls.__subclasses__():
        defined = getattr(sys.modules[sub.__module__], sub.__name__, None) is sub
        if defined and "action" in vars(sub):  # a command, not a shared base such as
            found.add(sub)  # engine.accounts._AccountChange
        found |= _all_subclasses(sub)
    return found


def test_every_guarded_command_has_a_sample() -> None:
    for module in pkgutil.walk_packages(engine.__path__, "engine."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)  # every command there is, registered
    assert _all_subclasses(GuardedCommand) == set(SAMPLES)


@pytest.mark.parametrize("role_actor", [OPERATOR, INVESTIGATOR], ids=lambda a: a.name)
def test_the_engine_refuses_each_forbidden_command_per_role_and_audits_it(
    db_url: str, role_actor: Actor
) -> None:
    store = Store(db_url)
    try:
        expected = []
        with StoreWriter.running(store) as writer:
            for build in SAMPLES.values():
                command = build(role_actor)
                if role_actor.may(command.permission):
                    continue
                with pytest.raises(PermissionDeniedError, match=str(command.permission)):
                    writer.submit(command)  # refused before it is queued
                with pytest.raises(PermissionDeniedError):
                    writer.post(command)
                expected += [command.action] * 2
            writer.flush()
        assert expected, "the role may do everything?"
        denied = [
            r.action
            for r in reversed(AuditListRequest(reader=ADMIN, limit=1000).run(store))
            if r.outcome == "denied" and r.actor == role_actor.label
        ]
        assert denied == expected
        # The guarded reads too.
        with pytest.raises(PermissionDeniedError, match="read_audit"):
            AuditListRequest(reader=role_actor).run(store)
        with pytest.raises(PermissionDeniedError, match="manage_accounts"):
            AccountListRequest(role_actor).run(store)
    finally:
        store.close()


Seed = Callable[[Store, StoreWriter], dict[str, Any]]
"""Writes what an admin's sample needs to succeed (as the engine, so the trail keeps the
admin's entries apart) and returns the sample's fields to change (the ids it made)."""


def _people(store: Store, writer: StoreWriter) -> dict[str, Any]:
    with store.transaction() as session:
        session.add_all(
            Person(public_id=public_id, appearances=1)
            for public_id in ("Person_00000001", "Person_00000002")
        )
    return {}


def _service_account(store: Store, writer: StoreWriter) -> dict[str, Any]:
    writer.execute(
        engine.accounts.CreateAccount(
            name="ha-service",
            roles=frozenset({Role.OPERATOR}),
            at=T0,
            actor=ENGINE,
            token_hash=engine.accounts.hash_token("wft_irrelevant"),
        )
    )
    return {}


def _account_ada(store: Store, writer: StoreWriter) -> dict[str, Any]:
    writer.execute(
        engine.accounts.CreateAccount(
            name="ada",
            roles=frozenset({Role.OPERATOR}),
            at=T0,
            actor=ENGINE,
            password_hash=PASSWORD_HASH,
        )
    )
    return {}


def _camera_gate(store: Store, writer: StoreWriter) -> dict[str, Any]:
    with store.transaction() as session:
        site = Site(name="depot", geo_lat=0.0, geo_lon=0.0, updated_at=T0)
        session.add(site)
        session.flush()
        session.add(
            Camera(site_id=site.id, key="gate", name="gate", url="file:x", source_kind="file")
        )
    return {}


def _gate_site(store: Store, writer: StoreWriter) -> int:
    _camera_gate(store, writer)
    with store.sessions() as session:
        return session.query(Site.id).filter(Site.name == "depot").one()[0]


def _snoozed_gate(store: Store, writer: StoreWriter) -> dict[str, Any]:
    site_id = _gate_site(store, writer)
    snooze = SAMPLES[engine.alerts.snoozes.SnoozeCamera](ENGINE)
    writer.execute(dataclasses.replace(snooze, site_id=site_id))
    return {"site_id": site_id}


def _site(store: Store, writer: StoreWriter) -> dict[str, Any]:
    with store.transaction() as session:
        site = Site(name="depot", geo_lat=51.5, geo_lon=-0.14, updated_at=T0)
        session.add(site)
        session.flush()
        return {"site_id": site.id}


def _alert_sequence(store: Store, writer: StoreWriter) -> engine.alerts.sequences.SequenceStored:
    _camera_gate(store, writer)
    stored: engine.alerts.sequences.SequenceStored = writer.execute(
        engine.alerts.sequences.CreateSequence(
            seq_key="seq-1",
            source="camera:gate",
            camera="gate",
            site="depot",
            trigger="person",
            rule_id=None,
            track_id=1,
            started_at=T0,
            last_seen_at=T0 + timedelta(seconds=2),
            detections=3,
            max_conf=0.8,
            snapshot=None,
            severity="warning",
            title="Person on camera gate",
            group_window_s=0.0,
        )
    )
    return stored


def _two_reports_of_one_incident(writer: StoreWriter) -> list[engine.incidents.records.Filed]:
    def report(text: str, reporter: str) -> engine.incidents.records.NewReport:
        return engine.incidents.records.NewReport(
            report=ReportInput(text=text, latitude=51.5, longitude=-0.13, at=T0, reporter=reporter),
            verdict=Classification("violence", 3, 0.7, "keywords", None, False),
            cell=0x89195DA49B7FFFF,
        )

    filed: list[engine.incidents.records.Filed] = writer.execute(
        engine.incidents.records.FileReports(
            reports=(report("two men fighting", "Ann"), report("a fight outside", "Bob")),
            at=T0,
            actor=ENGINE,
        )
    )
    assert filed[1].merged
    return filed


def _taught_wave() -> dict[str, Any]:
    warps = (1.0, 0.8, 1.25)
    return {
        "examples": tuple(
            normalise(motion3d("wave", s, warp=w)) for s, w in zip((1, 2, 3), warps, strict=True)
        ),
        "durations_s": (1.0, 1.1, 1.2),
        "sources": ("wave-1.mp4", "wave-2.mp4", "wave-3.mp4"),
    }


def _gesture_wave(store: Store, writer: StoreWriter) -> dict[str, Any]:
    teach = SAMPLES[engine.gestures.library.TeachGesture](ENGINE)
    writer.execute(dataclasses.replace(teach, **_taught_wave()))
    return {}


def _as_engine(command: type[GuardedCommand]) -> Seed:
    def seed(store: Store, writer: StoreWriter) -> dict[str, Any]:
        writer.execute(SAMPLES[command](ENGINE))
        return {}

    return seed


def _then(*seeds: Seed) -> Seed:
    def seed(store: Store, writer: StoreWriter) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for one in seeds:
            fields |= one(store, writer)
        return fields

    return seed


SEEDS: dict[type[GuardedCommand], Seed] = {
    engine.identity.faces_store._Rename: _people,
    engine.identity.faces_store._Merge: _people,
    engine.identity.erasure.ErasePerson: _people,
    engine.identity.introduced.NameFromIntroduction: _people,
    engine.accounts.SetRoles: _account_ada,
    engine.accounts.SetDisabled: _account_ada,
    engine.accounts.ResetSecret: _account_ada,
    engine.accounts.ClearLoginDelay: _account_ada,
    engine.identity.devices.RemoveBleDevice: _as_engine(engine.identity.devices.RegisterBleDevice),
    engine.alerts.records.AcknowledgeAlert: lambda s, w: {
        "alert_id": _alert_sequence(s, w).alert.alert_id
    },
    engine.alerts.records.TakeAlert: lambda s, w: {
        "alert_id": _alert_sequence(s, w).alert.alert_id
    },
    engine.alerts.records.NoteAlert: lambda s, w: {
        "alert_id": _alert_sequence(s, w).alert.alert_id
    },
    engine.alerts.records.RecordEscalation: lambda s, w: {
        "alert_id": _alert_sequence(s, w).alert.alert_id
    },
    engine.alerts.sequences.LabelSequence: lambda s, w: {
        "sequence_id": _alert_sequence(s, w).sequence_id
    },
    engine.incidents.records.ValidateIncident: lambda s, w: {
        "incident_id": _two_reports_of_one_incident(w)[0].incident.incident_id
    },
    engine.incidents.records.UnmergeReport: lambda s, w: {
        "report_id": _two_reports_of_one_incident(w)[1].report_id
    },
    engine.alerts.rules.AddRule: _camera_gate,
    engine.fusion.floor.CalibrateCamera: lambda s, w: {"site_id": _gate_site(s, w)},
    engine.vision.privacy.SetPrivacyMasks: lambda s, w: {"site_id": _gate_site(s, w)},
    engine.alerts.snoozes.SnoozeCamera: lambda s, w: {"site_id": _gate_site(s, w)},
    engine.alerts.snoozes.UnsnoozeCamera: _snoozed_gate,
    engine.incidents.site_plan.PinSitePlan: _site,
    engine.alerts.rules.RemoveRule: _then(_camera_gate, _as_engine(engine.alerts.rules.AddRule)),
    engine.alerts.rules.ArmRule: _then(_camera_gate, _as_engine(engine.alerts.rules.AddRule)),
    engine.alerts.rules.SetRuleHandling: _then(
        _camera_gate, _as_engine(engine.alerts.rules.AddRule)
    ),
    engine.alerts.rules.UpdateRule: _then(_camera_gate, _as_engine(engine.alerts.rules.AddRule)),
    engine.gestures.library.TeachGesture: lambda s, w: _taught_wave(),
    engine.gestures.library.RenameGesture: _gesture_wave,
    engine.gestures.library.SetGestureOptions: _gesture_wave,
    engine.gestures.library.RemoveGesture: _gesture_wave,
    engine.history.bookmarks.RemoveBookmark: lambda s, w: {
        "bookmark_id": w.execute(SAMPLES[engine.history.bookmarks.AddBookmark](ENGINE)).id
    },
    engine.history.locks.UnlockEvidence: lambda s, w: {
        "lock_id": w.execute(SAMPLES[engine.history.locks.LockEvidence](ENGINE)).id
    },
    engine.mqtt.grants.GrantMqtt: _service_account,
    engine.mqtt.grants.RevokeMqtt: _then(
        _service_account, _as_engine(engine.mqtt.grants.GrantMqtt)
    ),
}


def test_every_seed_is_for_a_sample() -> None:
    assert set(SEEDS) <= set(SAMPLES)


@pytest.mark.parametrize("command_type", list(SAMPLES), ids=lambda c: c.__name__)
def test_an_admin_passes_the_check_and_the_command_is_carried_out(
    db_url: str, command_type: type[GuardedCommand]
) -> None:
    """Each sample as an admin, on a database holding what it acts on, is carried out:
    it returns without error and the trail has its ``ok`` entry, which the command writes
    in its own transaction, so the entry is there only if the change was committed."""
    store = Store(db_url)
    try:
        with StoreWriter.running(store) as writer:
            fields = SEEDS.get(command_type, lambda s, w: {})(store, writer)
            command = dataclasses.replace(SAMPLES[command_type](ADMIN), **fields)
            writer.submit(command).result(30)  # any error, refusal or not, fails the test
            writer.flush()
        trail = AuditListRequest(reader=ENGINE, limit=1000).run(store)
        assert [r for r in trail if r.outcome != "ok"] == []
        assert [(r.action, r.outcome) for r in trail if r.actor == ADMIN.label] == [
            (command.action, "ok")
        ]
    finally:
        store.close()
