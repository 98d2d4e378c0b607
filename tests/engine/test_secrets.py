"""Named secrets (``engine.secrets``): the environment wins over the OS keyring, a missing
secret or an unusable keyring is an error that says what to do, a secret is generated once,
and a value is shown nowhere: not in reprs, errors or log lines, even one logged by
mistake. The keyring is a real backend object (``keyring.set_keyring``) in memory."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator

import pytest
from keyring.backends import fail, null
from keyring.errors import PasswordSetError

from engine.secrets import (
    MIN_MASKED_LENGTH,
    SECRETS,
    KeyringUnavailableError,
    RedactSecrets,
    SecretError,
    SecretMissingError,
    SecretSource,
    SecretValue,
    UnknownSecretError,
    generate_secret,
    install_secret_redaction,
    read_secret,
    redact,
    secret_status,
    store_secret,
)
from tests.engine.keyring_backends import BrokenKeyring, DictKeyring, LockedKeyring, installed

API_KEY = "sk-ant-test-5ecr3t-0001"
RISK_PASSWORD = "r1sk-Pa55-w0rd"


@pytest.fixture(autouse=True)
def no_secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine running the tests may have its own ANTHROPIC_API_KEY."""
    for spec in SECRETS:
        monkeypatch.delenv(spec.env, raising=False)


@pytest.fixture
def dict_keyring() -> Iterator[DictKeyring]:
    with installed(DictKeyring()) as backend:
        assert isinstance(backend, DictKeyring)
        yield backend


def test_the_environment_wins_over_the_keyring(
    dict_keyring: DictKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    dict_keyring.set_password("watchfloor", "anthropic_api_key", "from-the-keyring")
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    assert read_secret("anthropic_api_key").reveal() == API_KEY
    assert dict_keyring.reads == 0  # the keyring is not even asked
    assert secret_status("anthropic_api_key").source is SecretSource.ENV
    # An empty variable is not set: the keyring's value is used.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    assert read_secret("anthropic_api_key").reveal() == "from-the-keyring"


def test_the_keyring_entry_is_the_watchfloor_service_and_the_secrets_name(
    dict_keyring: DictKeyring,
) -> None:
    dict_keyring.set_password("watchfloor", "risk_api_password", RISK_PASSWORD)
    dict_keyring.set_password("other-service", "anthropic_api_key", API_KEY)
    assert read_secret("risk_api_password").reveal() == RISK_PASSWORD
    with pytest.raises(SecretMissingError):
        read_secret("anthropic_api_key")  # another service's entry is not ours
    # Read each time: a rotated secret is picked up by the next reader.
    dict_keyring.set_password("watchfloor", "risk_api_password", "rotated-pw")
    assert read_secret("risk_api_password").reveal() == "rotated-pw"
    status = secret_status("risk_api_password")
    assert (status.source, status.in_env, status.in_keyring) == (SecretSource.KEYRING, False, True)


def test_store_secret_puts_it_in_the_keyring_where_read_secret_finds_it(
    dict_keyring: DictKeyring,
) -> None:
    assert store_secret("risk_api_password", RISK_PASSWORD) == ("watchfloor", "risk_api_password")
    assert dict_keyring.passwords == {("watchfloor", "risk_api_password"): RISK_PASSWORD}
    assert read_secret("risk_api_password") == SecretValue(RISK_PASSWORD)
    with pytest.raises(SecretError, match="an empty value is not stored"):
        store_secret("risk_api_password", "")


@pytest.mark.parametrize(
    ("name", "env", "command"),
    [
        ("anthropic_api_key", "ANTHROPIC_API_KEY", "watchfloor secrets set anthropic_api_key"),
        (
            "node_install_secret",
            "WATCHFLOOR_NODE_SECRET",
            "watchfloor secrets generate node_install_secret",
        ),
    ],
)
def test_a_missing_secret_names_its_variable_and_the_command_that_stores_it(
    dict_keyring: DictKeyring, name: str, env: str, command: str
) -> None:
    with pytest.raises(SecretMissingError) as info:
        read_secret(name)
    message = str(info.value)
    assert message.startswith(f"secret {name} (")
    assert f"set {env} in the environment" in message
    assert f"`{command}`" in message
    assert f"keyring service 'watchfloor', username '{name}'" in message
    assert secret_status(name).source is SecretSource.MISSING


def test_an_unknown_name_lists_the_secrets_there_are() -> None:
    with pytest.raises(UnknownSecretError) as info:
        read_secret("openai_api_key")
    assert "no secret named 'openai_api_key'" in str(info.value)
    assert "anthropic_api_key, risk_api_password, node_install_secret" in str(info.value)


def test_no_keyring_backend_is_a_clear_error_that_suggests_the_variable() -> None:
    with installed(fail.Keyring()):
        with pytest.raises(KeyringUnavailableError) as info:
            read_secret("risk_api_password")
        status = secret_status("risk_api_password")
    message = str(info.value)
    assert message.startswith("secret risk_api_password: no usable keyring on this machine")
    assert "keyring service 'watchfloor', username 'risk_api_password'" in message
    assert "set WATCHFLOOR_RISK_API_PASSWORD in the environment" in message
    assert (status.source, status.keyring_problem) == (SecretSource.UNKNOWN, message)


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (BrokenKeyring, "FileNotFoundError: [Errno 2] No such file or directory"),
        (LockedKeyring, "KeyringLocked: Failed to unlock the collection!"),
    ],
)
def test_a_failing_keyring_is_an_error_with_its_reason(
    backend: type[DictKeyring], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with installed(backend()):
        with pytest.raises(KeyringUnavailableError) as info:
            read_secret("anthropic_api_key")
        # The environment still works without any keyring.
        monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
        assert read_secret("anthropic_api_key").reveal() == API_KEY
    message = str(info.value)
    assert message.startswith("secret anthropic_api_key: the keyring cannot read it")
    assert reason in message


def test_a_keyring_that_keeps_nothing_is_an_error_on_store() -> None:
    with installed(null.Keyring()), pytest.raises(SecretError) as info:
        store_secret("risk_api_password", RISK_PASSWORD)
    assert "secret risk_api_password: the keyring did not keep it" in str(info.value)


class RepeatingKeyring(DictKeyring):
    """Refuses to store, and its error (carelessly) repeats the value."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"refused to store {password!r}")


def test_a_value_shows_in_no_repr_str_or_error(dict_keyring: DictKeyring) -> None:
    dict_keyring.set_password("watchfloor", "anthropic_api_key", API_KEY)
    value = read_secret("anthropic_api_key")
    shown = [repr(value), str(value), f"{value}", f"{value!s} {value!r}", repr([value])]
    assert all(API_KEY not in text for text in shown), shown
    assert str(value) == "***" and repr(value) == "SecretValue('***')"
    with installed(RepeatingKeyring()), pytest.raises(KeyringUnavailableError) as info:
        store_secret("risk_api_password", RISK_PASSWORD)
    assert str(info.value).startswith("secret risk_api_password: the keyring cannot store it")
    assert "refused to store '***'" in str(info.value)
    assert RISK_PASSWORD not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.fixture
def redacting_caplog(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog with the redaction filter on the root logger's handlers, as the CLI and the
    GUI install it (caplog's handler is one of them during the test)."""
    caplog.set_level(logging.DEBUG)
    install_secret_redaction()
    assert any(isinstance(f, RedactSecrets) for f in caplog.handler.filters)
    yield caplog


def test_a_secret_logged_by_mistake_is_written_as_stars(
    dict_keyring: DictKeyring, redacting_caplog: pytest.LogCaptureFixture
) -> None:
    dict_keyring.set_password("watchfloor", "anthropic_api_key", API_KEY)
    value = read_secret("anthropic_api_key").reveal()  # registered for redaction on read
    log = logging.getLogger("engine.llm")
    log.info("calling the API with key %s", value)
    log.info(f"headers: {{'x-api-key': '{value}'}}")
    log.warning("%(key)s rejected", {"key": value})
    try:
        raise RuntimeError(f"401 for key {value}")
    except RuntimeError:
        log.exception("request failed")
    log.info("an ordinary line %s", 42)
    text = redacting_caplog.text
    assert API_KEY not in text, text
    assert "calling the API with key ***" in text
    assert "headers: {'x-api-key': '***'}" in text and "*** rejected" in text
    assert "RuntimeError: 401 for key ***" in text
    records = redacting_caplog.records
    assert all(API_KEY not in r.getMessage() + repr(r.args) for r in records)
    ordinary = records[-1]
    assert (ordinary.msg, ordinary.args) == ("an ordinary line %s", (42,))  # left as it was
    # A record whose format fails is reported by its handler with its msg and args shown:
    # the secret is masked in those too.
    bad = logging.LogRecord("engine.llm", logging.INFO, __file__, 1, "key %d", (value,), None)
    assert RedactSecrets().filter(bad)
    assert (bad.msg, bad.args) == ("key %d", ("***",))
    # A traceback is masked before the first handler formats it.
    try:
        raise ValueError(value)
    except ValueError:
        failed = logging.LogRecord(
            "engine.llm", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    assert RedactSecrets().filter(failed)
    assert failed.exc_text is not None and "ValueError: ***" in failed.exc_text
    assert API_KEY not in logging.Formatter().format(failed)


def test_an_environment_secret_is_redacted_even_if_never_read(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A library may log its own configuration: secrets set in the environment are
    masked from the moment redaction is installed."""
    monkeypatch.setenv("WATCHFLOOR_NODE_SECRET", "node-secret-from-env-77")
    caplog.set_level(logging.INFO)
    install_secret_redaction()
    logging.getLogger("some.library").info("config: node_secret=node-secret-from-env-77")
    assert "node-secret-from-env-77" not in caplog.text
    assert "config: node_secret=***" in caplog.text


def test_generate_stores_a_random_secret_once_and_returns_it_after(
    dict_keyring: DictKeyring,
) -> None:
    first, made = generate_secret("node_install_secret")
    assert made
    assert re.fullmatch(r"[0-9a-f]{64}", first.reveal())
    assert dict_keyring.passwords == {("watchfloor", "node_install_secret"): first.reveal()}
    again, made_again = generate_secret("node_install_secret")
    assert not made_again and again == first
    assert read_secret("node_install_secret") == first
    assert dict_keyring.passwords == {("watchfloor", "node_install_secret"): first.reveal()}


def test_generate_uses_the_environments_secret_and_refuses_secrets_issued_elsewhere(
    dict_keyring: DictKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_NODE_SECRET", "set-by-the-installer")
    value, made = generate_secret("node_install_secret")
    assert (value.reveal(), made) == ("set-by-the-installer", False)
    assert dict_keyring.passwords == {}
    with pytest.raises(SecretError, match="not made by Watchfloor") as info:
        generate_secret("anthropic_api_key")
    assert "`watchfloor secrets set anthropic_api_key`" in str(info.value)
    assert dict_keyring.passwords == {}


def test_a_camera_password_read_from_the_keyring_is_masked_in_logs(
    dict_keyring: DictKeyring, redacting_caplog: pytest.LogCaptureFixture
) -> None:
    from engine.config import CameraSecret

    dict_keyring.set_password("watchfloor", "gate", "cam-pass-8841")
    secret = CameraSecret(keyring_service="watchfloor", keyring_username="gate")
    value = secret.resolve()
    logging.getLogger("some.library").warning("connecting with %s", value)
    assert "cam-pass-8841" not in redacting_caplog.text and "***" in redacting_caplog.text


def test_a_secret_too_short_to_mask_is_masked_in_urls_only_and_warned_about(
    monkeypatch: pytest.MonkeyPatch, redacting_caplog: pytest.LogCaptureFixture
) -> None:
    """A one-character password masked wherever the letter occurs would garble every line
    ("htt***://") and show the password by where the stars fall. A secret shorter than
    MIN_MASKED_LENGTH is masked only where it stands as a password (a URL's userinfo),
    and reading one is warned about, naming the secret, never the value."""
    monkeypatch.setenv("WATCHFLOOR_RISK_API_PASSWORD", "s")
    assert read_secret("risk_api_password").reveal() == "s"
    warnings = [r.getMessage() for r in redacting_caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "risk_api_password" in warnings[0]
    assert f"shorter than {MIN_MASKED_LENGTH} characters" in warnings[0]
    read_secret("risk_api_password")  # once per secret, not at every read
    assert len([r for r in redacting_caplog.records if r.levelno == logging.WARNING]) == 1
    redacting_caplog.clear()

    log = logging.getLogger("engine.cameras")
    log.info("connecting to https://status.example.com/ as user s")
    log.info("opening %s", "rtsp://admin:s@10.0.0.5:554/stream")
    log.info("opening %s", "rtsp://admin:p@ss@10.0.0.6/stream")  # an unencoded "@" in it
    lines = [r.getMessage() for r in redacting_caplog.records]
    assert lines == [
        "connecting to https://status.example.com/ as user s",  # untouched
        "opening rtsp://admin:***@10.0.0.5:554/stream",
        "opening rtsp://admin:***@10.0.0.6/stream",
    ]
    assert redact("https://host:8443/path?q=a@b") == "https://host:8443/path?q=a@b"
    # A secret long enough is still masked wherever it occurs.
    monkeypatch.setenv("WATCHFLOOR_RISK_API_PASSWORD", RISK_PASSWORD)
    read_secret("risk_api_password")
    assert redact(f"sent {RISK_PASSWORD} to https://status.example.com") == (
        "sent *** to https://status.example.com"
    )
