"""Accounts: the first admin, logins with the brute-force delay, service tokens, account
changes that keep an admin, and the machine account's recovery path; all audited."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.access import Actor, Permission, PermissionDeniedError, Role, machine_actor
from engine.accounts import (
    AccountError,
    AccountListRequest,
    ChangeOwnPassword,
    ClearLoginDelay,
    CreateAccount,
    CreateFirstAdmin,
    Login,
    LoginFailedError,
    RecoverAdmin,
    RecoveryRefusedError,
    ResetSecret,
    SetDisabled,
    SetRoles,
    TokenLogin,
    accounts_exist,
    create_account,
    create_first_admin,
    hash_password,
    login,
    login_delay,
    password_matches,
    recover_admin,
    token_login,
)
from engine.store import Store
from engine.store.account_models import Account
from engine.store.audit import AuditListRequest, verify_audit
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR

pytestmark = pytest.mark.sql

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ADA_PW = "correct horse battery"


def _audit(store: Store, action: str) -> list[tuple[str, str, str]]:
    rows = AuditListRequest(reader=ADMIN, limit=100, action=action).run(store)
    return [(r.actor, r.target, r.outcome) for r in reversed(rows)]


def test_password_hash_is_salted_scrypt_and_checks() -> None:
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("scrypt$32768$8$1$") and first != second  # salted
    assert "s3cret" not in first
    assert password_matches("s3cret-pass", first)
    assert not password_matches("s3cret-pasS", first)
    assert not password_matches("s3cret-pass", "garbage")


def test_first_admin_then_only_admins_create_accounts(store: Store) -> None:
    assert not accounts_exist(store)
    with StoreWriter.running(store) as writer:
        with pytest.raises(AccountError, match="at least 8"):
            create_first_admin(writer, "ada", "short", T0, machine_actor())
        ada = create_first_admin(writer, "ada", ADA_PW, T0, machine_actor())
        assert ada.roles == {Role.ADMIN}
        assert accounts_exist(store)
        with pytest.raises(AccountError, match="exist already"):
            writer.execute(
                CreateFirstAdmin(
                    name="mallory", password_hash=hash_password("x" * 12), at=T0, actor=ADMIN
                )
            )
        with pytest.raises(PermissionDeniedError, match="manage_accounts"):
            create_account(writer, OPERATOR, "eve", "admin", T0, password="evil-password")
        create_account(writer, ada, "olga", ["operator"], T0, password="olga-password")
        with pytest.raises(AccountError, match="exists already"):
            create_account(writer, ada, "OLGA", "operator", T0, password="other-password")
        with pytest.raises(AccountError, match="not allowed"):
            create_account(writer, ada, "bad\x1b[2Jname", "operator", T0, password="p" * 9)
        with pytest.raises(AccountError, match="unknown role"):
            create_account(writer, ada, "ivan", "superuser", T0, password="ivan-password")
    names = [a.name for a in AccountListRequest(ADMIN).run(store)]
    assert names == ["ada", "olga"]
    with pytest.raises(PermissionDeniedError):
        AccountListRequest(OPERATOR).run(store)
    assert _audit(store, "account.create") == [
        ("machine:" + machine_actor().name, "ada", "ok"),
        ("account:olga", "eve", "denied"),
        ("account:ada", "olga", "ok"),
    ]
    with store.sessions() as session:
        secrets = [a.secret_hash for a in session.scalars(select(Account))]
    assert all(s.startswith("scrypt$") and ADA_PW not in s for s in secrets)
    assert verify_audit(store).ok


def test_failed_logins_delay_exponentially_and_are_audited(store: Store) -> None:
    with StoreWriter.running(store) as writer:
        create_first_admin(writer, "ada", ADA_PW, T0, machine_actor())
        actor = login(writer, "Ada", ADA_PW, T0)  # names are case-insensitive
        assert actor == Actor("ada", frozenset({Role.ADMIN}), "account")
        waits = []
        at = T0
        for _ in range(4):
            with pytest.raises(LoginFailedError, match="wrong account name or password"):
                login(writer, "ada", "wrong password!", at)
            retry_after = AccountListRequest(ADMIN).run(store)[0].retry_after  # admins see it
            assert retry_after is not None
            waits.append(retry_after - at)
            at = retry_after  # wait out the delay exactly
        assert waits == [timedelta(seconds=s) for s in (1, 2, 4, 8)]
        # During the delay even the right password is not heard (and the caller is not
        # told why: see test_a_delayed_account_answers_like_an_unknown_name).
        with pytest.raises(LoginFailedError, match="wrong account name or password"):
            login(writer, "ada", ADA_PW, at - timedelta(seconds=8))
        view = AccountListRequest(ADMIN).run(store)[0]
        assert view.failed_logins == 4 and view.retry_after == at
        # After it, the right password works and clears the count.
        login(writer, "ada", ADA_PW, at)
        assert AccountListRequest(ADMIN).run(store)[0].failed_logins == 0
        with pytest.raises(LoginFailedError, match="wrong account name or password"):
            login(writer, "nobody", ADA_PW, at)
    outcomes = [(actor, outcome) for actor, _t, outcome in _audit(store, "session.login")]
    assert outcomes == [
        ("account:ada", "ok"),
        *[("account:ada", "failed")] * 4,
        ("account:ada", "denied"),
        ("account:ada", "ok"),
        ("unknown:nobody", "failed"),
    ]


def test_a_delayed_account_answers_like_an_unknown_name(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong password, a delayed account (even with the right password) and an unknown
    name get the same answer after the same hashing work, so a caller cannot tell which
    names exist; only admins see the delay (the audit entry, the accounts list)."""
    import engine.accounts

    hashed: list[str] = []
    real_scrypt = engine.accounts._scrypt

    def counting_scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        hashed.append(password)
        return real_scrypt(password, salt, n, r, p)

    with StoreWriter.running(store) as writer:
        create_first_admin(writer, "ada", ADA_PW, T0, machine_actor())
        monkeypatch.setattr(engine.accounts, "_scrypt", counting_scrypt)
        answers = []
        for name, password in [
            ("ada", "wrong password!"),  # a real account's wrong password: now delayed
            ("ada", ADA_PW),  # the right password inside the delay
            ("ada", "wrong password!"),  # a wrong one inside the delay
            ("nobody", "wrong password!"),  # an unknown name, twice (as for ada)
            ("nobody", "wrong password!"),
        ]:
            hashed.clear()
            result = writer.execute(Login(name=name, password=password, at=T0))
            assert result.actor is None
            answers.append(result)
            assert len(hashed) == 1, f"{name}: {len(hashed)} hashes"  # the same work
    (reason,) = {a.reason for a in answers}
    assert reason.startswith("wrong account name or password")
    assert all(not hasattr(a, "retry_after") for a in answers)  # the delay is not revealed
    view = AccountListRequest(ADMIN).run(store)[0]
    assert view.failed_logins == 1 and view.retry_after == T0 + timedelta(seconds=1)
    logins = AuditListRequest(reader=ADMIN, limit=10, action="session.login").run(store)
    delayed = [r.detail for r in logins if r.outcome == "denied"]
    assert [d["reason"] for d in delayed] == ["delayed", "delayed"]
    assert {d["retry_after"] for d in delayed} == {(T0 + timedelta(seconds=1)).isoformat()}


def test_login_delay_is_capped() -> None:
    assert login_delay(0) == timedelta(0)
    assert login_delay(1) == timedelta(seconds=1)
    assert login_delay(11) == timedelta(seconds=900)
    assert login_delay(10_000) == timedelta(seconds=900)


def test_admin_clears_delay_and_resets_password(store: Store) -> None:
    with StoreWriter.running(store) as writer:
        ada = create_first_admin(writer, "ada", ADA_PW, T0, machine_actor())
        create_account(writer, ada, "olga", "operator", T0, password="olga-password")
        for _ in range(3):
            with pytest.raises(LoginFailedError):
                login(writer, "olga", "nope-nope", T0)
        with pytest.raises(PermissionDeniedError):
            writer.execute(ClearLoginDelay(name="olga", at=T0, actor=OPERATOR))
        writer.execute(ClearLoginDelay(name="olga", at=T0, actor=ada))
        assert login(writer, "olga", "olga-password", T0).roles == {Role.OPERATOR}
        writer.execute(
            ResetSecret(name="olga", secret_hash=hash_password("new-olga-pw"), at=T0, actor=ada)
        )
        with pytest.raises(LoginFailedError):
            login(writer, "olga", "olga-password", T0 + timedelta(minutes=1))
        assert login(writer, "olga", "new-olga-pw", T0 + timedelta(minutes=2))
        # Olga changes her own password, proving the current one.
        wrong = writer.execute(
            ChangeOwnPassword(
                name="olga",
                current_password="guess-guess",
                new_password_hash=hash_password("x" * 10),
                at=T0 + timedelta(minutes=3),
            )
        )
        assert wrong.actor is None
        ok = writer.execute(
            ChangeOwnPassword(
                name="olga",
                current_password="new-olga-pw",
                new_password_hash=hash_password("olga-own-pw"),
                at=T0 + timedelta(minutes=4),
            )
        )
        assert ok.actor is not None
        assert login(writer, "olga", "olga-own-pw", T0 + timedelta(minutes=5))
    assert ("account:ada", "olga", "ok") in _audit(store, "account.clear_delay")
    assert _audit(store, "account.password") == [("account:olga", "olga", "ok")]


def test_the_last_admin_stays_an_admin(store: Store) -> None:
    with StoreWriter.running(store) as writer:
        ada = create_first_admin(writer, "ada", ADA_PW, T0, machine_actor())
        with pytest.raises(AccountError, match="last admin"):
            writer.execute(SetRoles(name="ada", roles=frozenset({Role.OPERATOR}), at=T0, actor=ada))
        with pytest.raises(AccountError, match="last admin"):
            writer.execute(SetDisabled(name="ada", disabled=True, at=T0, actor=ada))
        create_account(writer, ada, "bob", "admin,operator", T0, password="bob-password")
        writer.execute(SetRoles(name="ada", roles=frozenset({Role.INVESTIGATOR}), at=T0, actor=ada))
        writer.execute(SetDisabled(name="ada", disabled=True, at=T0, actor=ada))
        with pytest.raises(LoginFailedError, match="disabled"):
            login(writer, "ada", ADA_PW, T0)
    roles = {a.name: a.roles for a in AccountListRequest(ADMIN).run(store)}
    assert roles == {"ada": {Role.INVESTIGATOR}, "bob": {Role.ADMIN, Role.OPERATOR}}


def test_service_token_logs_in_until_revoked(store: Store) -> None:
    with StoreWriter.running(store) as writer:
        ada = create_first_admin(writer, "ada", ADA_PW, T0, machine_actor())
        token = create_account(writer, ada, "recorder", "operator", T0)
        assert token is not None and token.startswith("wft_") and len(token) > 40
        actor = token_login(writer, token, T0)
        assert actor == Actor("recorder", frozenset({Role.OPERATOR}), "service")
        assert not actor.may(Permission.EXPORT)
        with pytest.raises(LoginFailedError, match="not valid"):
            token_login(writer, token + "x", T0)
        # A service account has no password to guess.
        with pytest.raises(LoginFailedError):
            login(writer, "recorder", token, T0)
        writer.execute(SetDisabled(name="recorder", disabled=True, at=T0, actor=ada))
        with pytest.raises(LoginFailedError, match="disabled"):
            token_login(writer, token, T0)
    with store.sessions() as session:
        stored = session.scalars(select(Account.secret_hash).where(Account.kind == "service")).one()
    assert token not in stored and stored.startswith("sha256$")


def test_recovery_needs_the_machine_account_and_is_audited(store: Store, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with StoreWriter.running(store) as writer:
        create_first_admin(writer, "ada", ADA_PW, T0, machine_actor())
        for _ in range(2):
            with pytest.raises(LoginFailedError):
                login(writer, "ada", "forgotten!", T0)
        # Not the machine account: refused by the engine command itself.
        with pytest.raises(PermissionDeniedError):
            writer.execute(
                RecoverAdmin(name="ada", password_hash=hash_password("x" * 10), at=T0, actor=ADMIN)
            )
        recover_admin(writer, data, "ada", "recovered-pw", T0, machine_actor())
        assert login(writer, "ada", "recovered-pw", T0).roles == {Role.ADMIN}
    assert _audit(store, "account.recover") == [("machine:" + machine_actor().name, "ada", "ok")]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners")
def test_recovery_refused_when_the_data_dir_belongs_to_someone_else(
    store: Store, tmp_path: Path
) -> None:
    if os.geteuid() == 0:  # root (as in CI containers) hands a data dir to "nobody"
        data = tmp_path / "theirs"
        data.mkdir()
        os.chown(data, 65534, 65534)
    else:
        data = Path("/")  # owned by root
    with (
        StoreWriter.running(store) as writer,
        pytest.raises(RecoveryRefusedError, match="only the account that owns"),
    ):
        recover_admin(writer, data, "ada", "recovered-pw", T0, machine_actor())
    assert not accounts_exist(store)


def test_no_secret_reaches_a_log_line() -> None:
    commands = [
        CreateFirstAdmin(name="ada", password_hash="scrypt$SECRET", at=T0, actor=ADMIN),
        ResetSecret(name="ada", secret_hash="sha256$SECRET", at=T0, actor=ADMIN),
        RecoverAdmin(name="ada", password_hash="scrypt$SECRET", at=T0, actor=ADMIN),
        ChangeOwnPassword(name="ada", current_password="SECRET", new_password_hash="SECRET", at=T0),
        CreateAccount(
            name="b", roles=frozenset({Role.ADMIN}), at=T0, actor=ADMIN, token_hash="SECRET"
        ),
        Login(name="ada", password="SECRET", at=T0),
        TokenLogin(token="SECRET", at=T0),
    ]
    for command in commands:
        assert "SECRET" not in repr(command), command
