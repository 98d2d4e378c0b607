"""``watchfloor mqtt grant|revoke|grants``: an admin says which broker user may send commands
as which service account; audited as ``mqtt.grant`` and ``mqtt.revoke``; a person's account,
an unknown one or a name that cannot be a topic level is refused in words (exit 1). Who else
is refused (exit 5, audited): tests/console/test_accounts_cli.py's per-role test."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from engine.store import Store
from engine.store.audit import AuditListRequest
from tests.actors import ADMIN

ADA_PW = "ada-secret-1"


def _run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_admin_grants_lists_and_revokes_broker_users(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db_url = f"sqlite:///{tmp_path / 'grants.db'}"
    db = ["--db", db_url]
    assert _run(capsys, monkeypatch, *db, "accounts", "init", "ada", stdin=ADA_PW)[0] == 0
    ada = [*db, "--user", "ada"]

    def run(*argv: str) -> tuple[int, str, str]:
        return _run(capsys, monkeypatch, *ada, *argv, stdin=ADA_PW)

    code, out, err = run("accounts", "add-service", "ha-service", "--roles", "operator")
    assert code == 0, err
    code, out, err = run("mqtt", "grants")
    assert code == 0 and "no broker user may send commands" in out
    code, out, err = run("mqtt", "grant", "homeassistant", "ha-service")
    assert code == 0, err
    assert out.strip() == (
        "broker user homeassistant may send commands as ha-service; each carries its token"
    )
    code, out, err = run("mqtt", "grants", "--json")
    assert code == 0, err
    (grant,) = json.loads(out)
    assert {k: grant[k] for k in ("broker_user", "account", "roles", "disabled", "granted_by")} == {
        "broker_user": "homeassistant",
        "account": "ha-service",
        "roles": ["operator"],
        "disabled": False,
        "granted_by": "account:ada",
    }
    code, out, err = run("mqtt", "grants")
    assert code == 0 and out.startswith("homeassistant") and "as ha-service (operator)" in out

    for argv, said in (
        (("grant", "homeassistant", "ada"), "ada is a person's account"),
        (("grant", "homeassistant", "nobody"), "no account named 'nobody'"),
        (("grant", "a/b", "ha-service"), "'a/b' cannot be a broker user in a topic"),
        (("grant", "ha\x1b[31m", "ha-service"), "cannot be a broker user in a topic"),
        (("revoke", "eve"), "broker user 'eve' has no grant"),
    ):
        code, out, err = run("mqtt", *argv)
        assert code == exit_codes.FAILED, (argv, out, err)
        assert err.startswith(f"watchfloor mqtt {argv[0]}: ") and said in err, err
        assert "\x1b" not in err and "Traceback" not in err

    code, out, err = run("mqtt", "revoke", "homeassistant")
    assert code == 0 and "may no longer send commands (was ha-service)" in out
    code, out, err = run("mqtt", "grants", "--json")
    assert code == 0 and json.loads(out) == []

    store = Store(db_url)
    try:
        entries = AuditListRequest(reader=ADMIN, limit=100).run(store)
    finally:
        store.close()
    mqtt = [(e.actor, e.action, e.target, e.detail) for e in entries if e.action.startswith("mqtt")]
    assert sorted(mqtt, key=lambda e: e[1]) == [
        ("account:ada", "mqtt.grant", "mqtt:homeassistant",
         {"account": "ha-service", "replaced": None, "disabled": False}),
        ("account:ada", "mqtt.revoke", "mqtt:homeassistant", {"account": "ha-service"}),
    ]  # fmt: skip
