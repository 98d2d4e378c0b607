"""Named secrets: API keys, passwords and install secrets that live in the environment or
the OS keyring, never in the database, logs or reports.

Each secret has a name and an environment variable (:data:`SECRETS`). :func:`read_secret`
looks in the environment first, then in the OS keyring (service ``watchfloor``, username
the secret's name), and hands the value back wrapped in a :class:`SecretValue`, which shows
``***`` wherever it is printed. Every value read here is remembered so that
:class:`RedactSecrets`, a logging filter on the root logger's handlers
(:func:`install_secret_redaction`), replaces it with ``***`` should it be logged by
mistake. Errors name the secret, the variable, the keyring entry and the command that
stores it, never the value.

A secret shorter than :data:`MIN_MASKED_LENGTH` characters is not masked as text wherever
it occurs: a one-letter password masked everywhere garbles every line (``htt***://``) and
shows the password by where the stars fall. Such a secret is warned about when it is read
or stored (naming the secret, never the value), and like every password it is still
masked where it stands as one: in a URL's userinfo (``rtsp://user:***@host``), which
:func:`redact` masks whatever the password.

The keyring failure handling (:func:`keyring_failures`) is shared with the cameras'
``password_keyring`` (:mod:`engine.config`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum

MASK = "***"  # what a secret value shows as, everywhere
# Shorter secrets are not masked as text wherever they occur (see the module's docstring):
# 8 is also the shortest account password Watchfloor accepts.
MIN_MASKED_LENGTH = 8
KEYRING_SERVICE = "watchfloor"  # the keyring service of named secrets (and cameras by default)
GENERATED_SECRET_BYTES = 32  # 256 random bits, as 64 hex digits


class SecretError(RuntimeError):
    """A named secret cannot be found, stored or made. The message names the secret and
    where it was looked for, never its value."""


class UnknownSecretError(SecretError):
    """No secret of that name is registered in :data:`SECRETS`."""


class SecretMissingError(SecretError):
    """The secret is neither in its environment variable nor in the keyring; the message
    names both and the ``watchfloor secrets`` command that stores it."""


class KeyringUnavailableError(SecretError):
    """The OS keyring cannot be used at all: no backend, or the backend failed (as opposed
    to a keyring that works but holds no entry)."""


def unavailable_reason(name: str, exc: SecretError) -> str:
    """What a person reads, in a pane or a report's column, when secret ``name`` cannot be
    had: a few words. The whole story (the keyring's error, what to run) is in ``exc``:
    log it, and the System page shows each secret's state."""
    if isinstance(exc, KeyringUnavailableError):
        logging.getLogger(__name__).warning("%s", exc)
        return f"{name} cannot be read: no usable keyring"
    return f"no {name}"


@dataclass(frozen=True, slots=True)
class SecretSpec:
    """One named secret: its ``name`` (also its keyring username), the environment
    variable ``env`` that overrides the keyring, what it is for, and whether Watchfloor
    makes it itself (``generated``: ``watchfloor secrets generate NAME``) rather than an
    admin typing one issued elsewhere."""

    name: str
    env: str
    description: str
    generated: bool = False

    @property
    def store_command(self) -> str:
        """The CLI command that puts this secret in the keyring."""
        action = "generate" if self.generated else "set"
        return f"watchfloor secrets {action} {self.name}"


SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec(
        name="anthropic_api_key",
        env="ANTHROPIC_API_KEY",
        description="API key of the LLM classifier (Anthropic)",
    ),
    SecretSpec(
        name="risk_api_password",
        env="WATCHFLOOR_RISK_API_PASSWORD",
        description="password of the risk API (HTTP basic auth)",
    ),
    SecretSpec(
        name="node_install_secret",
        env="WATCHFLOOR_NODE_SECRET",
        description="install secret that signs the WiFi sensing nodes' tokens (HMAC)",
        generated=True,
    ),
    SecretSpec(
        name="media_password",
        env="WATCHFLOOR_MEDIA_PASSWORD",
        description="password consoles give to watch a shared site's engines' RTSP streams",
        generated=True,
    ),
    SecretSpec(
        name="mqtt_password",
        env="WATCHFLOOR_MQTT_PASSWORD",
        description="password of the MQTT broker's user ([mqtt] user)",
    ),
)


class SecretSource(StrEnum):
    """Where a secret in use comes from."""

    ENV = "env"
    KEYRING = "keyring"
    MISSING = "missing"
    UNKNOWN = "unknown"  # not in the environment, and the keyring cannot be read


class SecretValue:
    """A secret's text that prints as ``***`` (``str``, ``repr``, f-strings, logging).
    :meth:`reveal` gives the text: call it only where the secret is handed on (an HTTP
    header, an HMAC key), never to build a message."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return f"SecretValue({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class SecretStatus:
    """Where a secret is set, for ``watchfloor secrets list``: never its value.
    ``in_keyring`` is None and ``keyring_problem`` says why when the keyring cannot be
    read."""

    spec: SecretSpec
    in_env: bool
    in_keyring: bool | None
    keyring_problem: str | None = None

    @property
    def source(self) -> SecretSource:
        """The one :func:`read_secret` uses: the environment wins over the keyring."""
        if self.in_env:
            return SecretSource.ENV
        if self.in_keyring is None:
            return SecretSource.UNKNOWN
        return SecretSource.KEYRING if self.in_keyring else SecretSource.MISSING


def secret_spec(name: str) -> SecretSpec:
    """The registered secret ``name``, or :class:`UnknownSecretError` listing the names."""
    for spec in SECRETS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in SECRETS)
    raise UnknownSecretError(f"no secret named {name!r} (secrets: {known})")


def read_secret(name: str) -> SecretValue:
    """The secret ``name``: its environment variable when set (and not empty), else its
    keyring entry (service ``watchfloor``, username ``name``). Read each time it is
    called, so a rotated secret is picked up by the next caller. Raises
    :class:`SecretMissingError` (naming the variable and the command that stores it),
    :class:`KeyringUnavailableError` or :class:`UnknownSecretError`. Any thread."""
    spec = secret_spec(name)
    value = os.environ.get(spec.env) or _keyring_value(spec)
    if not value:
        raise SecretMissingError(
            f"secret {spec.name} ({spec.description}) is not set: set {spec.env} in the "
            f"environment, or store it in the keyring with `{spec.store_command}` "
            f"({keyring_entry(KEYRING_SERVICE, spec.name)})"
        )
    remember_secret(value, f"secret {spec.name}")
    return SecretValue(value)


def secret_status(name: str) -> SecretStatus:
    """Whether ``name`` is set in the environment and in the keyring, without revealing
    it. A keyring that cannot be read is reported in the status, not raised."""
    spec = secret_spec(name)
    in_env = bool(os.environ.get(spec.env))
    try:
        in_keyring: bool | None = bool(_keyring_value(spec))
    except KeyringUnavailableError as exc:
        return SecretStatus(spec, in_env, None, str(exc))
    return SecretStatus(spec, in_env, in_keyring)


def store_secret(name: str, value: str) -> tuple[str, str]:
    """Store ``value`` as the secret ``name`` in the OS keyring and read it back; returns
    the entry's (service, username). Raises :class:`SecretError` for an empty value or a
    keyring that does not keep it, :class:`KeyringUnavailableError` when the keyring
    cannot be used. An environment variable set for ``name`` still wins over it."""
    spec = secret_spec(name)
    if not value:
        raise SecretError(f"secret {spec.name}: an empty value is not stored")
    remember_secret(value, f"secret {spec.name}")  # before the keyring sees it
    import keyring

    where = keyring_entry(KEYRING_SERVICE, spec.name)
    with _secret_keyring_failures(spec, "store it", where, value):
        keyring.set_password(KEYRING_SERVICE, spec.name, value)
        kept = keyring.get_password(KEYRING_SERVICE, spec.name) == value
    if not kept:
        backend = type(keyring.get_keyring())
        raise SecretError(
            f"secret {spec.name}: the keyring did not keep it ({where}; backend "
            f"{backend.__module__}.{backend.__name__})"
        )
    return KEYRING_SERVICE, spec.name


_GENERATE_LOCK = threading.Lock()


def generate_secret(name: str) -> tuple[SecretValue, bool]:
    """The secret ``name`` (one Watchfloor makes itself, such as the node install
    secret), and whether it was made now: when neither its variable nor the keyring holds
    it, 256 random bits (64 hex digits) are stored in the keyring; otherwise the existing
    one is returned unchanged, so every caller signs with the same secret. Raises
    :class:`SecretError` for a secret that is issued elsewhere (``secrets set``), or as
    :func:`store_secret` does."""
    spec = secret_spec(name)
    if not spec.generated:
        raise SecretError(
            f"secret {spec.name} is not made by Watchfloor ({spec.description}): store the "
            f"one you were given with `{spec.store_command}`, or set {spec.env}"
        )
    with _GENERATE_LOCK:
        existing = os.environ.get(spec.env) or _keyring_value(spec)
        if existing:
            remember_secret(existing, f"secret {spec.name}")
            return SecretValue(existing), False
        value = secrets.token_hex(GENERATED_SECRET_BYTES)
        store_secret(spec.name, value)
        return SecretValue(value), True


def _keyring_value(spec: SecretSpec) -> str | None:
    import keyring  # imported when a secret is first needed, not at start-up

    where = keyring_entry(KEYRING_SERVICE, spec.name)
    with _secret_keyring_failures(spec, "read it", where):
        return keyring.get_password(KEYRING_SERVICE, spec.name) or None


def _secret_keyring_failures(
    spec: SecretSpec, doing: str, where: str, value: str | None = None
) -> AbstractContextManager[None]:
    return keyring_failures(
        f"secret {spec.name}",
        doing,
        where,
        hint=f"set {spec.env} in the environment",
        error=KeyringUnavailableError,
        value=value,
    )


@contextmanager
def keyring_failures(
    who: str,
    doing: str,
    where: str,
    *,
    hint: str,
    error: type[KeyringUnavailableError] = KeyringUnavailableError,
    value: str | None = None,
) -> Iterator[None]:
    """Turn any keyring failure inside the block into ``error`` naming ``who`` (``camera
    gate``, ``secret anthropic_api_key``), what it was ``doing`` and the entry (``where``):
    no backend at all (the message ends with ``hint``, the alternative to the keyring), a
    keyring error (locked, refused) or whatever else a backend raises (a D-Bus socket that
    is gone is a FileNotFoundError). ``value``, the secret being stored, is masked should
    the backend's message repeat it; the backend's exception is not chained."""
    from keyring.errors import NoKeyringError

    try:
        yield
    except NoKeyringError:
        raise error(
            f"{who}: no usable keyring on this machine to {doing} ({where}); run a Secret "
            f"Service (GNOME Keyring, KWallet) in this user's session, or {hint}"
        ) from None
    except Exception as exc:  # any backend failure, whatever its type
        reason = f"{type(exc).__name__}: {exc}"
        if value:  # a backend's message should never echo it, but make sure
            reason = mask_value(reason, value)
        raise error(f"{who}: the keyring cannot {doing} ({where}): {reason}") from None


def keyring_entry(service: str, username: str) -> str:
    """How messages name a keyring entry."""
    return f"keyring service {service!r}, username {username!r}"


# Every secret value this process has read that is long enough to mask, longest first (so
# a secret that contains another is masked whole). Replaced, never mutated, so the log
# filter reads it unlocked.
_remembered: tuple[str, ...] = ()
_remember_lock = threading.Lock()
_warned_short: set[tuple[str, str]] = set()  # (who, digest): each short secret warned once

# A URL's password: ``scheme://user:PASSWORD@host``. The password runs to the last "@"
# before the host (an unencoded "@" in it is taken as urlsplit takes it).
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:)[^\s/?#]*?(?=@[^\s/?#@]*(?:[\s/?#]|$))"
)


def too_short_to_mask(value: str) -> bool:
    """Whether ``value`` is too short to be masked as text wherever it occurs (see the
    module's docstring)."""
    return len(value) < MIN_MASKED_LENGTH


def short_secret_warning(who: str) -> str:
    """What to say about ``who`` (``secret risk_api_password``, ``camera gate``) whose value
    is shorter than :data:`MIN_MASKED_LENGTH`; never the value."""
    return (
        f"{who} is shorter than {MIN_MASKED_LENGTH} characters: it is easy to guess, and "
        "log lines mask it only where it stands as a URL's password (masked everywhere it "
        "occurs it would garble the logs and give itself away); use a longer one if you can"
    )


def remember_secret(value: str, who: str = "a secret") -> None:
    """Have :class:`RedactSecrets` and :func:`redact` mask ``value`` from now on, when it
    is long enough to mask (:func:`too_short_to_mask`); a shorter one is logged as a
    warning naming ``who`` instead (once per value), never the value."""
    global _remembered
    if not value:
        return
    if too_short_to_mask(value):
        key = (who, hashlib.sha256(value.encode("utf-8")).hexdigest())
        with _remember_lock:
            if key in _warned_short:
                return
            _warned_short.add(key)
        logging.getLogger(__name__).warning("%s", short_secret_warning(who))
        return
    with _remember_lock:
        if value not in _remembered:
            _remembered = tuple(sorted({*_remembered, value}, key=len, reverse=True))


def mask_value(text: str, value: str) -> str:
    """``text`` with ``value`` replaced by ``***`` wherever it occurs, when ``value`` is
    long enough to mask; a shorter one is masked only as a URL's password (as by
    :func:`redact`)."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    if value and not too_short_to_mask(value):
        text = text.replace(value, MASK)
    return text


def redact(text: str) -> str:
    """``text`` with every URL's password and every secret value read in this process
    (long enough to mask: :func:`remember_secret`) replaced by ``***``."""
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    for value in _remembered:
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactSecrets(logging.Filter):
    """A handler filter that masks every secret value read in this process (see
    :func:`remember_secret`) in a record's message and arguments, its exception text and
    its stack: a secret logged by mistake is written as ``***``, and so is every URL's
    password (see :func:`redact`). Records holding neither are left untouched. Install it
    with :func:`install_secret_redaction`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format: the handler reports it, with msg and args shown
            record.msg = redact(str(record.msg))
            record.args = _redacted_args(record.args)
        else:
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if redact(text) != text:
                record.exc_text = redact(text)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redacted_args(args: object) -> tuple[object, ...] | dict[str, object] | None:
    if isinstance(args, dict):
        return {str(k): redact(str(v)) for k, v in args.items()}
    if isinstance(args, tuple):
        return tuple(redact(str(a)) for a in args)
    return None


def install_secret_redaction(logger: logging.Logger | None = None) -> None:
    """Put one :class:`RedactSecrets` on every handler of ``logger`` (the root logger by
    default; idempotent), and remember the named secrets already set in the environment,
    which a library may log without asking :func:`read_secret`. Call it once logging is
    configured (the CLI's ``main``, the GUI's start); a handler added later needs its own."""
    for spec in SECRETS:
        remember_secret(os.environ.get(spec.env, ""), f"secret {spec.name} (${spec.env})")
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
