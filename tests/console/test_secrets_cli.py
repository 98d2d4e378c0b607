"""``watchfloor secrets list|set|generate``: an admin sees where each named secret is set
(never its value), stores one in the OS keyring (typed twice without echo, or a line on
stdin), or generates the node install secret once; storing is audited with the secret's
name, never its value, and an operator is refused."""

from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from console import exit_codes
from console.cli import main
from engine.audit_records import AuditRecord
from engine.secrets import SECRETS
from engine.store import Store
from engine.store.audit import AuditListRequest
from tests.actors import ADMIN
from tests.conftest import REPO
from tests.console.test_camera_keyring_cli import _read_until
from tests.engine.keyring_backends import DictKeyring, FileKeyring, installed

API_KEY = "sk-ant-cli-5ecr3t-0002"
RISK_PASSWORD = "r1sk-cli-Pa55"
ADA_PW, OLGA_PW = "ada-secret-1", "olga-secret-1"


@pytest.fixture(autouse=True)
def no_secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in SECRETS:
        monkeypatch.delenv(spec.env, raising=False)


@pytest.fixture
def dict_keyring() -> Iterator[DictKeyring]:
    with installed(DictKeyring()) as backend:
        assert isinstance(backend, DictKeyring)
        yield backend


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def audit_trail(db_url: str) -> list[AuditRecord]:
    store = Store(db_url)
    try:
        return AuditListRequest(reader=ADMIN, limit=1000).run(store)
    finally:
        store.close()


def test_list_says_where_each_secret_is_set_and_never_its_value(
    db_url: str,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    dict_keyring.set_password("watchfloor", "anthropic_api_key", "shadowed-key")
    dict_keyring.set_password("watchfloor", "risk_api_password", RISK_PASSWORD)
    code, out, err = run(capsys, monkeypatch, "--db", db_url, "secrets", "list", "--json")
    assert code == 0, err
    rows = {row["name"]: row for row in json.loads(out)}
    assert {name: row["source"] for name, row in rows.items()} == {
        "anthropic_api_key": "env",
        "risk_api_password": "keyring",
        "node_install_secret": "missing",
        "media_password": "missing",
        "mqtt_password": "missing",
    }
    assert rows["anthropic_api_key"]["in_keyring"] is True  # there, but the variable wins
    assert rows["node_install_secret"]["env"] == "WATCHFLOOR_NODE_SECRET"
    code, out, err = run(capsys, monkeypatch, "--db", db_url, "secrets", "list")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["anthropic_api_key"].split()[1:3] == ["env", "$ANTHROPIC_API_KEY"]
    assert "the keyring also holds one, unused" in lines["anthropic_api_key"]
    assert lines["risk_api_password"].split()[1] == "keyring"
    assert lines["node_install_secret"].split()[1] == "missing"
    for shown in (out, err):
        assert API_KEY not in shown and RISK_PASSWORD not in shown and "shadowed" not in shown


def test_list_without_a_keyring_still_shows_the_environment_and_says_why(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WATCHFLOOR_RISK_API_PASSWORD", RISK_PASSWORD)
    with installed(fail.Keyring()):
        code, out, err = run(capsys, monkeypatch, "--db", db_url, "secrets", "list", "--json")
    assert code == 0, err
    sources = {row["name"]: row["source"] for row in json.loads(out)}
    assert sources["risk_api_password"] == "env" and sources["anthropic_api_key"] == "unknown"
    assert "no usable keyring on this machine" in err and RISK_PASSWORD not in out + err


def test_set_stores_the_first_line_of_stdin_and_audits_it_without_the_value(
    db_url: str,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys,
        monkeypatch,
        "--db",
        db_url,
        "secrets",
        "set",
        "risk_api_password",
        stdin=f" {RISK_PASSWORD} \nsecond line\n",
    )
    assert code == 0, err
    # The whole first line, spaces kept, without its line ending.
    assert dict_keyring.passwords == {("watchfloor", "risk_api_password"): f" {RISK_PASSWORD} "}
    assert "secret risk_api_password: stored in the keyring (service 'watchfloor'" in out
    assert RISK_PASSWORD not in out + err
    entries = [e for e in audit_trail(db_url) if e.action == "secret.set"]
    assert [(e.target, e.outcome) for e in entries] == [("risk_api_password", "ok")]
    assert entries[0].actor.startswith("machine:")  # set-up mode: no account yet
    assert RISK_PASSWORD not in json.dumps([e.as_dict() for e in audit_trail(db_url)])


def test_set_warns_of_a_secret_too_short_to_mask(
    db_url: str,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A one-character password is stored (the risk API's operator chose it, not us), and
    the admin is told it is masked in logs only as a URL's password."""
    argv = ["--db", db_url, "secrets", "set", "risk_api_password"]
    code, out, err = run(capsys, monkeypatch, *argv, stdin="s\n")
    assert code == 0, err
    assert dict_keyring.passwords == {("watchfloor", "risk_api_password"): "s"}
    assert "stored in the keyring" in out and "***" not in out + err
    assert "warning: secret risk_api_password is shorter than 8 characters" in err
    code, out, err = run(capsys, monkeypatch, *argv, stdin=f"{RISK_PASSWORD}\n")
    assert code == 0 and "shorter than" not in err


@pytest.mark.parametrize(
    ("stdin", "message"),
    [("", "nothing on stdin"), ("\n", "no value typed")],
)
def test_set_without_a_value_is_a_usage_error_and_stores_nothing(
    db_url: str,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin: str,
    message: str,
) -> None:
    argv = ["--db", db_url, "secrets", "set", "anthropic_api_key"]
    code, _out, err = run(capsys, monkeypatch, *argv, stdin=stdin)
    assert code == exit_codes.USAGE and message in err and "nothing stored" in err
    assert dict_keyring.passwords == {}
    assert not [e for e in audit_trail(db_url) if e.action == "secret.set"]


def test_set_with_no_keyring_fails_before_asking(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with installed(fail.Keyring()):
        code, _out, err = run(
            capsys,
            monkeypatch,
            "--db",
            db_url,
            "secrets",
            "set",
            "anthropic_api_key",
            stdin=f"{API_KEY}\n",
        )
    assert code == exit_codes.FAILED
    assert "secret anthropic_api_key: no usable keyring on this machine" in err
    assert "set ANTHROPIC_API_KEY in the environment" in err
    assert sys.stdin.read() == f"{API_KEY}\n"  # the value was not asked for


def test_an_operator_is_refused_and_an_admin_may_set_a_secret(
    db_url: str,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = ["--db", db_url]
    code, _out, err = run(capsys, monkeypatch, *db, "accounts", "init", "ada", stdin=ADA_PW)
    assert code == 0, err
    code, _out, err = run(
        capsys,
        monkeypatch,
        *db,
        "--user",
        "ada",
        "accounts",
        "add",
        "olga",
        "--roles",
        "operator",
        stdin=f"{ADA_PW}\n{OLGA_PW}\n",
    )
    assert code == 0, err
    set_key = ["secrets", "set", "anthropic_api_key"]
    code, _out, err = run(
        capsys, monkeypatch, *db, "--user", "olga", *set_key, stdin=f"{OLGA_PW}\n{API_KEY}\n"
    )
    assert code == exit_codes.NOT_ALLOWED
    assert "may not store a secret: it needs the change_settings permission" in err
    assert dict_keyring.passwords == {}
    for argv in (["secrets", "list"], ["secrets", "generate", "node_install_secret"]):
        code, _out, err = run(capsys, monkeypatch, *db, "--user", "olga", *argv, stdin=OLGA_PW)
        assert code == exit_codes.NOT_ALLOWED, err
    assert dict_keyring.passwords == {}
    # The admin's password, then the secret, on stdin.
    code, _out, err = run(
        capsys, monkeypatch, *db, "--user", "ada", *set_key, stdin=f"{ADA_PW}\n{API_KEY}\n"
    )
    assert code == 0, err
    assert dict_keyring.passwords == {("watchfloor", "anthropic_api_key"): API_KEY}
    trail = audit_trail(db_url)
    denied = {e.action for e in trail if e.actor == "account:olga" and e.outcome == "denied"}
    assert denied == {"secrets.set", "secrets.list", "secrets.generate"}
    stored = [(e.actor, e.target, e.outcome) for e in trail if e.action == "secret.set"]
    assert stored == [("account:ada", "anthropic_api_key", "ok")]
    assert API_KEY not in json.dumps([e.as_dict() for e in trail])


def test_generate_makes_the_node_secret_once_and_never_shows_it(
    db_url: str,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--db", db_url, "secrets", "generate", "node_install_secret"]
    code, out, err = run(capsys, monkeypatch, *argv)
    assert code == 0, err
    assert "secret node_install_secret: 256 random bits generated and stored" in out
    made = dict_keyring.passwords[("watchfloor", "node_install_secret")]
    assert re.fullmatch(r"[0-9a-f]{64}", made) and made not in out + err
    code, out, err = run(capsys, monkeypatch, *argv)
    assert code == 0, err
    assert "already set in the keyring; nothing generated" in out
    assert dict_keyring.passwords == {("watchfloor", "node_install_secret"): made}
    trail = audit_trail(db_url)
    assert [(e.action, e.target) for e in trail if e.action.startswith("secret.")] == [
        ("secret.generate", "node_install_secret")
    ]
    assert made not in json.dumps([e.as_dict() for e in trail])
    # Only a secret Watchfloor makes itself can be generated.
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as exit_:
        main(["secrets", "generate", "anthropic_api_key"])
    assert exit_.value.code == exit_codes.USAGE
    assert "invalid choice: 'anthropic_api_key'" in capsys.readouterr().err


def test_at_a_terminal_the_value_is_asked_twice_without_echo(tmp_path: Path) -> None:
    """``watchfloor secrets set`` as a child process on a real pseudo terminal, its keyring
    a FileKeyring in a JSON file."""
    keyring_file = tmp_path / "keyring.json"
    db = f"sqlite:///{tmp_path / 'tty.db'}"

    def at_a_terminal(first: bytes, second: bytes) -> tuple[int, bytes]:
        controller, terminal = os.openpty()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "PYTHON_KEYRING_BACKEND": f"{FileKeyring.__module__}.{FileKeyring.__qualname__}",
            "WATCHFLOOR_TEST_KEYRING_FILE": str(keyring_file),
        }
        child = subprocess.Popen(
            [sys.executable, "-m", "console", "--db", db, "secrets", "set", "risk_api_password"],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=env,
            cwd=REPO,
            start_new_session=True,  # no controlling terminal: getpass uses stdin, the pty
        )
        os.close(terminal)
        transcript = bytearray()
        try:
            _read_until(controller, b"value of risk_api_password (", transcript)
            _read_until(controller, b"): ", transcript)
            os.write(controller, first + b"\n")
            _read_until(controller, b"again: ", transcript)
            os.write(controller, second + b"\n")
            code = child.wait(timeout=60)
            while select.select([controller], [], [], 0.5)[0]:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                transcript += chunk
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            os.close(controller)
        return code, bytes(transcript)

    typed = RISK_PASSWORD.encode()
    code, shown = at_a_terminal(b"typo-" + typed, typed)
    assert code == exit_codes.USAGE, shown
    assert b"the two passwords differ; nothing stored" in shown
    assert not keyring_file.exists()

    code, shown = at_a_terminal(typed, typed)
    assert code == 0, shown
    assert b"secret risk_api_password: stored in the keyring" in shown
    assert typed not in shown  # the terminal did not echo it
    assert json.loads(keyring_file.read_text()) == [
        ["watchfloor", "risk_api_password", RISK_PASSWORD]
    ]
