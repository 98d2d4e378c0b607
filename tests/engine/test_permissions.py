"""Per role, the engine itself refuses every guarded command and guarded read the role may
not run: the store writer raises before anything is queued, and audits the refusal.

Every :class:`~engine.access.GuardedCommand` in the engine must have a sample here
(``test_every_guarded_command_has_a_sample`` fails otherwise), so a new sensitive action
cannot skip this check.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import engine
import engine.accounts
import engine.alerts.records
import engine.alerts.rules
import engine.alerts.sequences
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
import engine.sensing.records
import engine.settings
from engine.access import Actor, GuardedCommand, PermissionDeniedError, Role
from engine.accounts import AccountListRequest, hash_password
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
PASSWORD_HASH = hash_password("irrelevant-pw")

SAMPLES: dict[type[GuardedCommand], Callable[[Actor], GuardedCommand]] = {
    engine.settings.ChangeSetting: lambda a: engine.settings.ChangeSetting(
        key="retention.clips_days", value=9, at=T0, actor=a
    ),
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
    engine.identity.devices.RegisterBleDevice: lambda a: engine.identity.devices.RegisterBleDevice(
        address="AA:BB:CC:00:00:01", label="phone", person="Eve", colour=None, at=T0, actor=a
    ),
    engine.identity.devices.RemoveBleDevice: lambda a: engine.identity.devices.RemoveBleDevice(
        address="AA:BB:CC:00:00:01", at=T0, actor=a
    ),
    engine.alerts.records.AcknowledgeAlert: lambda a: engine.alerts.records.AcknowledgeAlert(
        alert_id=1, at=T0, actor=a
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


def test_an_admin_passes_the_check(db_url: str) -> None:
    """The same commands as an admin reach the database (where some fail for their own
    reasons, e.g. an unknown person) instead of being refused for permission."""
    store = Store(db_url)
    try:
        with StoreWriter.running(store) as writer:
            for build in SAMPLES.values():
                future = writer.submit(build(ADMIN))
                try:
                    future.result(10)
                except PermissionDeniedError:  # pragma: no cover - the failure this catches
                    pytest.fail(f"{type(build(ADMIN)).__name__} refused for an admin")
                except Exception:
                    pass  # unknown person / account: the data's answer, not the check's
    finally:
        store.close()
