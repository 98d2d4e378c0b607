"""``watchfloor accounts`` and the CLI's authentication: set-up mode, ``--user`` with a
password, service tokens, a refusal per role for every command it may not run (audited),
and the machine account's recovery of a lost admin password."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from console import exit_codes
from console.auth import NEEDS, TOKEN_ENV
from console.cli import build_parser, main
from engine.access import ROLE_PERMISSIONS, Role
from engine.accounts import AccountListRequest, ClearLoginDelay
from engine.clock import REAL_CLOCK, Clock, SimulatedClock
from engine.store import Store
from engine.store.audit import AuditListRequest, verify_audit
from engine.store.writer import StoreWriter
from tests.actors import ADMIN

ADA_PW, OLGA_PW, IAN_PW = "ada-secret-1", "olga-secret-1", "ian-secret-1"

# Every command that needs a permission beyond watching, with the arguments it is run with.
PRIVILEGED: dict[tuple[str, str | None], list[str]] = {
    ("people", "rename"): ["people", "rename", "p-0001", "X"],
    ("sense", "token"): ["sense", "token", "AA:BB:CC:DD:EE:01"],
    ("sense", "pair"): ["sense", "pair", "--seconds", "5"],
    ("ble", "devices add"): [
        "ble",
        "devices",
        "add",
        "AA:BB:CC:DD:EE:02",
        "--label",
        "t",
        "--person",
        "Eve",
    ],
    ("ble", "devices remove"): ["ble", "devices", "remove", "AA:BB:CC:DD:EE:02"],
    ("gestures", "teach"): ["gestures", "teach", "wave", "missing.mp4"],
    ("gestures", "rename"): ["gestures", "rename", "wave", "help"],
    ("gestures", "set"): ["gestures", "set", "wave", "--alerting"],
    ("gestures", "remove"): ["gestures", "remove", "wave"],
    ("people", "merge"): ["people", "merge", "p-0001", "p-0002"],
    ("people", "erase"): ["people", "erase", "p-0001"],
    ("settings", "set"): ["settings", "set", "retention.clips_days", "9"],
    ("retention", "run"): ["retention", "run"],
    ("retention", "set-tiers"): ["retention", "set-tiers", "--all", "3"],
    ("cameras", "probe"): ["cameras", "probe", "missing.mp4"],
    ("cameras", "add"): ["cameras", "add", "dock", "--url", "dock.mp4", "--no-probe"],
    ("cameras", "edit"): ["cameras", "edit", "plaza", "--name", "Plaza", "--no-probe"],
    ("cameras", "remove"): ["cameras", "remove", "plaza"],
    ("cameras", "discover"): ["cameras", "discover", "--seconds", "1"],
    ("cameras", "onvif"): ["cameras", "onvif", "127.0.0.1:9"],
    ("faces", "enroll"): ["faces", "enroll", "--name", "Eve", "missing.jpg"],
    ("audit", "list"): ["audit", "list"],
    ("audit", "verify"): ["audit", "verify"],
    ("audit", "checkpoint"): ["audit", "checkpoint"],
    ("accounts", "list"): ["accounts", "list"],
    ("accounts", "add"): ["accounts", "add", "eve", "--roles", "admin"],
    ("accounts", "add-service"): ["accounts", "add-service", "bot", "--roles", "admin"],
    ("accounts", "roles"): ["accounts", "roles", "olga", "admin"],
    ("accounts", "disable"): ["accounts", "disable", "ada"],
    ("accounts", "enable"): ["accounts", "enable", "ada"],
    ("accounts", "reset"): ["accounts", "reset", "ada"],
    ("accounts", "clear-delay"): ["accounts", "clear-delay", "ada"],
    ("mqtt", "grant"): ["mqtt", "grant", "homeassistant", "ha-service"],
    ("mqtt", "revoke"): ["mqtt", "revoke", "homeassistant"],
    ("mqtt", "grants"): ["mqtt", "grants"],
    ("secrets", "list"): ["secrets", "list"],
    ("secrets", "set"): ["secrets", "set", "anthropic_api_key"],
    ("secrets", "generate"): ["secrets", "generate", "node_install_secret"],
    ("risk", "retrain"): ["risk", "retrain"],
    ("cameras", "calibrate"): [
        "cameras",
        "calibrate",
        "plaza",
        "--size",
        "640x480",
        *("--point", "1,1=0,0") * 4,
    ],
    ("cameras", "mask"): ["cameras", "mask", "plaza", "--size", "640x480", "--clear"],
    ("fusion", "simulate"): ["fusion", "simulate", "--duration", "10"],
    ("alerts", "rules add"): [
        "alerts",
        "rules",
        "add",
        "r",
        "--camera",
        "c",
        "--trigger",
        "person",
    ],
    ("alerts", "rules remove"): ["alerts", "rules", "remove", "r"],
    ("alerts", "rules set"): ["alerts", "rules", "set", "r", "--no-enabled"],
}


def _run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
    clock: Clock = REAL_CLOCK,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv), clock=clock)
    out, err = capsys.readouterr()
    return code, out, err


def _leaf_commands() -> set[tuple[str, str | None]]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    leaves: set[tuple[str, str | None]] = set()
    for name, sub in subparsers.choices.items():  # type: ignore[union-attr]
        nested = [a for a in sub._actions if a.dest.endswith("_command")]
        if nested:
            for action, action_parser in nested[0].choices.items():
                verbs = [a for a in action_parser._actions if a.dest.endswith("_command")]
                if verbs:  # ble devices add: the action is "devices add"
                    leaves |= {(name, f"{action} {verb}") for verb in verbs[0].choices}
                else:
                    leaves.add((name, action))
        else:
            leaves.add((name, None))
    return leaves


def test_every_command_says_what_it_needs() -> None:
    assert _leaf_commands() == set(NEEDS)
    # And the table agrees with the README's matrix for the admin-only commands.
    investigators = ROLE_PERMISSIONS[Role.INVESTIGATOR]
    admin_only = {k for k, v in NEEDS.items() if v and v[0] not in investigators}
    assert admin_only == set(PRIVILEGED)


@pytest.mark.slow
def test_per_role_the_cli_refuses_and_audits_every_forbidden_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite: each refusal is a login (a deliberately slow scrypt check) and the engine's
    refusal per role is tested on both backends in tests/engine/test_permissions.py."""
    db_url = f"sqlite:///{tmp_path / 'roles.db'}"
    db = ["--db", db_url]
    # Set-up mode: no account yet, the data dir's owner acts as admin.
    code, out, _err = _run(capsys, monkeypatch, *db, "people", "list", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, err = _run(capsys, monkeypatch, *db, "accounts", "init", "ada", stdin=ADA_PW)
    assert code == 0, err
    code, _out, err = _run(capsys, monkeypatch, *db, "accounts", "init", "eve", stdin="x" * 12)
    assert code == exit_codes.FAILED and "accounts exist already" in err
    # From now on every data command needs to know whose it is.
    code, _out, err = _run(capsys, monkeypatch, *db, "people", "list")
    assert code == exit_codes.NOT_ALLOWED and "--user NAME" in err
    admin = [*db, "--user", "ada"]
    for name, roles, password in (
        ("olga", "operator", OLGA_PW),
        ("ian", "investigator", IAN_PW),
    ):
        code, _out, err = _run(
            capsys,
            monkeypatch,
            *admin,
            "accounts",
            "add",
            name,
            "--roles",
            roles,
            stdin=f"{ADA_PW}\n{password}\n",
        )
        assert code == 0, err
    code, out, err = _run(capsys, monkeypatch, *admin, "accounts", "list", "--json", stdin=ADA_PW)
    assert code == 0, err
    assert {a["name"]: a["roles"] for a in json.loads(out)} == {
        "ada": ["admin"],
        "ian": ["investigator"],
        "olga": ["operator"],
    }

    for user, password in (("olga", OLGA_PW), ("ian", IAN_PW)):
        # What they may do: watch.
        code, out, err = _run(
            capsys, monkeypatch, *db, "--user", user, "people", "list", "--json", stdin=password
        )
        assert code == 0, err
        for key, argv in PRIVILEGED.items():
            code, _out, err = _run(capsys, monkeypatch, *db, "--user", user, *argv, stdin=password)
            assert code == exit_codes.NOT_ALLOWED, (user, key, err)
            needs = NEEDS[key]
            assert needs is not None and f"needs the {needs[0]} permission" in err, err
    store = Store(db_url)
    entries = AuditListRequest(reader=ADMIN, limit=1000).run(store)
    denied = [(r.actor, r.action) for r in entries if r.outcome == "denied"]
    for user in ("olga", "ian"):
        assert {a for who, a in denied if who == f"account:{user}"} == {
            f"{c}.{a}" for c, a in PRIVILEGED
        }
    assert verify_audit(store).ok
    store.close()

    # The admin may: change a setting, read the audit trail.
    code, _out, err = _run(
        capsys, monkeypatch, *admin, "settings", "set", "retention.clips_days", "9", stdin=ADA_PW
    )
    assert code == 0, err
    code, out, err = _run(
        capsys, monkeypatch, *admin, "audit", "list", "--json", "--limit", "3", stdin=ADA_PW
    )
    assert code == 0, err
    newest = [json.loads(line) for line in out.splitlines()]
    assert newest[0]["action"] == "session.login" and newest[0]["actor"] == "account:ada"
    assert newest[0]["detail"]["via"] == "cli: audit list"
    assert newest[1]["action"] == "settings.change"


def test_wrong_password_and_service_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'w.db'}"]
    # Both logins at one instant: the second comes within the delay however long the
    # first took on a busy machine.
    held = SimulatedClock(REAL_CLOCK.now())
    assert _run(capsys, monkeypatch, *db, "accounts", "init", "ada", stdin=ADA_PW)[0] == 0
    code, _out, err = _run(
        capsys, monkeypatch, *db, "--user", "ada", "status", stdin="not-her-password", clock=held
    )
    assert code == exit_codes.NOT_ALLOWED and "wrong account name or password" in err
    wrong = err
    # The next attempt comes within the delay: refused even with the right password, in
    # the words a wrong password gets (the delay would tell that the name exists) ...
    code, _out, err = _run(
        capsys, monkeypatch, *db, "--user", "ada", "status", stdin=ADA_PW, clock=held
    )
    assert code == exit_codes.NOT_ALLOWED and err == wrong and "try again" not in err
    store = Store(db[1])
    # ... while an admin reads it in the accounts list.
    (ada,) = AccountListRequest(ADMIN).run(store)
    assert ada.failed_logins == 1 and ada.retry_after is not None
    with StoreWriter.running(store) as writer:
        writer.execute(ClearLoginDelay(name="ada", at=REAL_CLOCK.now(), actor=ADMIN))
    store.close()
    code, out, err = _run(
        capsys,
        monkeypatch,
        *db,
        "--user",
        "ada",
        "accounts",
        "add-service",
        "recorder",
        "--roles",
        "operator",
        stdin=ADA_PW,
    )
    assert code == 0, err
    token = out.strip()
    assert token.startswith("wft_") and "shown once" in err
    monkeypatch.setenv(TOKEN_ENV, token)
    code, out, err = _run(capsys, monkeypatch, *db, "settings", "list", "--json")
    assert code == 0, err
    code, _out, err = _run(capsys, monkeypatch, *db, "settings", "set", "retention.clips_days", "9")
    assert code == exit_codes.NOT_ALLOWED and "recorder (operator) may not change a setting" in err
    monkeypatch.setenv(TOKEN_ENV, token[:-2] + "xx")
    code, _out, err = _run(capsys, monkeypatch, *db, "status")
    assert code == exit_codes.NOT_ALLOWED and "service token is not valid" in err


@pytest.mark.hostile(17)
def test_a_password_missing_from_stdin_is_refused_in_words_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`printf '' | watchfloor --user admin audit list` exits 5 ("not allowed") and says
    what was missing, as the README promises for missing credentials."""
    db = ["--db", f"sqlite:///{tmp_path / 'e.db'}"]
    assert _run(capsys, monkeypatch, *db, "accounts", "init", "ada", stdin=ADA_PW)[0] == 0
    code, out, err = _run(capsys, monkeypatch, *db, "--user", "ada", "audit", "list", stdin="")
    assert code == exit_codes.NOT_ALLOWED, err
    assert out == ""
    assert err.startswith("watchfloor audit list: not allowed: no password for ada"), err
    assert "Traceback" not in err and "ValueError" not in err


def test_a_lost_admin_password_is_recovered_by_the_machine_account_and_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'r.db'}"]
    assert _run(capsys, monkeypatch, *db, "accounts", "init", "ada", stdin=ADA_PW)[0] == 0
    code, out, err = _run(
        capsys, monkeypatch, *db, "accounts", "recover", "ada", stdin="brand-new-pw\n"
    )
    assert code == 0, err
    code, out, err = _run(
        capsys,
        monkeypatch,
        *db,
        "--user",
        "ada",
        "audit",
        "list",
        "--json",
        "--action",
        "account.recover",
        stdin="brand-new-pw",
    )
    assert code == 0, err
    entry = json.loads(out.splitlines()[0])
    assert entry["actor"].startswith("machine:") and entry["target"] == "ada"
    store = Store(db[1])
    roles = {a.name: a.roles for a in AccountListRequest(ADMIN).run(store)}
    store.close()
    assert roles == {"ada": frozenset({Role.ADMIN})}
