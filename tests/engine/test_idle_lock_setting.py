"""``security.idle_lock_exempt_roles``: the roles no console of the site locks when idle,
a list of role names validated, stored, permission-checked and audited like every setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.access import PermissionDeniedError, Role
from engine.settings import (
    IDLE_LOCK_EXEMPT_ROLES_KEY,
    ChangeSetting,
    RolesSettingSpec,
    RolesSettingValue,
    SettingError,
    read_all_settings,
    read_settings,
    role_setting,
    spec_for,
)
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.models import Event, Setting
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR

pytestmark = pytest.mark.sql

NOW = datetime(2029, 3, 1, 12, 0, tzinfo=UTC)


def test_the_roles_are_parsed_in_role_order_and_an_unknown_name_is_refused_by_name() -> None:
    spec = spec_for(IDLE_LOCK_EXEMPT_ROLES_KEY)
    assert isinstance(spec, RolesSettingSpec)
    assert spec.default == () and spec.title == "Never lock an idle console for"
    assert spec.parse("investigator, operator") == ("operator", "investigator")
    assert spec.parse("operator operator") == ("operator",)
    assert spec.parse("none") == spec.parse("") == ()
    with pytest.raises(
        SettingError,
        match=r"security\.idle_lock_exempt_roles: 'guard' is not a role "
        r"\(roles: operator, investigator, admin\)",
    ):
        spec.parse("operator,guard")
    with pytest.raises(SettingError, match="expected a list of role names"):
        spec.check("operator")  # a bare string is not a list of roles
    with pytest.raises(SettingError, match="expected a whole number"):
        spec_for("security.idle_lock_s").check(("operator",))


def test_the_setting_is_stored_audited_and_only_for_those_who_may_change_settings(
    db_url: str,
) -> None:
    store = Store(db_url)
    try:
        assert role_setting(store, IDLE_LOCK_EXEMPT_ROLES_KEY) == frozenset()
        with StoreWriter.running(store) as writer:
            with pytest.raises(PermissionDeniedError):
                writer.execute(
                    ChangeSetting(
                        key=IDLE_LOCK_EXEMPT_ROLES_KEY, value=("operator",), at=NOW, actor=OPERATOR
                    )
                )
            with pytest.raises(SettingError, match="'watcher' is not a role"):
                writer.execute(
                    ChangeSetting(
                        key=IDLE_LOCK_EXEMPT_ROLES_KEY, value=("watcher",), at=NOW, actor=ADMIN
                    )
                )
            previous = writer.execute(
                ChangeSetting(
                    key=IDLE_LOCK_EXEMPT_ROLES_KEY, value=("operator",), at=NOW, actor=ADMIN
                )
            )
            assert previous is None
            # The idle lock's other setting shares its row and is kept.
            writer.execute(
                ChangeSetting(key="security.idle_lock_s", value=600, at=NOW, actor=ADMIN)
            )
            previous = writer.execute(
                ChangeSetting(
                    key=IDLE_LOCK_EXEMPT_ROLES_KEY,
                    value=("operator", "investigator"),
                    at=NOW,
                    actor=ADMIN,
                )
            )
            assert previous == ["operator"]
        assert role_setting(store, IDLE_LOCK_EXEMPT_ROLES_KEY) == {
            Role.OPERATOR,
            Role.INVESTIGATOR,
        }
        values = {v.spec.key: v for v in read_all_settings(store)}
        roles = values[IDLE_LOCK_EXEMPT_ROLES_KEY]
        assert isinstance(roles, RolesSettingValue) and not roles.is_default
        assert roles.as_dict()["value"] == ["operator", "investigator"]
        assert values["security.idle_lock_s"].value == 600
        # The numeric settings alone, as retention and the status read them.
        assert IDLE_LOCK_EXEMPT_ROLES_KEY not in {v.spec.key for v in read_settings(store)}

        with store.sessions() as session:
            row = session.get(Setting, "security")
            events = session.scalars(select(Event).where(Event.kind == "settings.changed")).all()
        assert row is not None and row.value["idle_lock_exempt_roles"] == [
            "operator",
            "investigator",
        ]
        assert [e.detail["new"] for e in events] == [
            ["operator"],
            600,
            ["operator", "investigator"],
        ]
        audited = AuditListRequest(reader=ADMIN, action="settings.change").run(store)
        assert [(e.actor, e.target, e.detail) for e in reversed(audited)] == [
            (OPERATOR.label, IDLE_LOCK_EXEMPT_ROLES_KEY, {"needs": "change_settings"}),
            (ADMIN.label, IDLE_LOCK_EXEMPT_ROLES_KEY, {"old": None, "new": ["operator"]}),
            (ADMIN.label, "security.idle_lock_s", {"old": None, "new": 600}),
            (
                ADMIN.label,
                IDLE_LOCK_EXEMPT_ROLES_KEY,
                {"old": ["operator"], "new": ["operator", "investigator"]},
            ),
        ]
    finally:
        store.close()


def test_a_stored_unknown_role_spares_nobody_and_says_why(db_url: str) -> None:
    """A list naming a role this version does not know (written by hand, or by another
    version) is not used: every console locks when idle, and the problem is shown."""
    store = Store(db_url)
    try:
        with store.transaction() as session:
            session.add(
                Setting(key="security", value={"idle_lock_exempt_roles": ["guard"]}, updated_at=NOW)
            )
        assert role_setting(store, IDLE_LOCK_EXEMPT_ROLES_KEY) == frozenset()
        (value,) = (v for v in read_all_settings(store) if v.spec.key == IDLE_LOCK_EXEMPT_ROLES_KEY)
        assert value.is_default and "'guard' is not a role" in (value.problem or "")
    finally:
        store.close()
