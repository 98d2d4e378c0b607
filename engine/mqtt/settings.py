"""The site file's ``[mqtt]`` table: which broker, as whom, and what to publish.

::

    [mqtt]
    url = "mqtt://broker.local:1883"     # or mqtts://…:8883 (TLS)
    user = "watchfloor"                  # password: the mqtt_password secret
    topic_prefix = "watchfloor"          # topics are <prefix>/<site>/…
    discovery_prefix = "homeassistant"   # Home Assistant's; discovery = false: none
    thumbnails = "base64"                # or "none": a small JPEG with each new alert
    ca_file = "/etc/ssl/broker-ca.pem"   # mqtts: the CA that signed the broker
    queue = 1000                         # messages held while the broker is away
    commands_per_minute = 10             # per broker user; the rest are refused unread

A ``[mqtt.commands]`` table (broker user = account) is read and ignored: a site file
confers no rights. It mapped broker users to service accounts before; now an admin grants
that in the store (``watchfloor mqtt grant``, :mod:`engine.mqtt.grants`), and the engine
warns, in its health line, its report and its log, until the table is gone.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from engine.text import control_character_at

if TYPE_CHECKING:
    from engine.config import _SiteReader as SiteReader

THUMBNAILS: Final = ("base64", "none")
DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}
_TOPIC_WORD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BROKER_USER = re.compile(r"^[^/#+\s]{1,64}$")


def is_broker_user(text: str) -> bool:
    """Whether ``text`` can be a broker user's name in a topic level: 1–64 characters,
    none of ``/ # +``, no spaces or control characters."""
    return bool(_BROKER_USER.match(text)) and control_character_at(text) is None


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """Where and how the engine talks MQTT (see the module doc). ``ignored_commands``: the
    site file's ``[mqtt.commands]`` (broker user → account), which is no longer obeyed and
    is kept only to warn about it."""

    url: str
    host: str
    port: int
    tls: bool
    user: str | None = None
    topic_prefix: str = "watchfloor"
    discovery_prefix: str = "homeassistant"
    discovery: bool = True
    thumbnails: str = "base64"
    ca_file: Path | None = None
    queue: int = 1000
    commands_per_minute: int = 10
    ignored_commands: dict[str, str] = field(default_factory=dict)


def read_mqtt(reader: SiteReader, value: Any) -> MqttConfig:
    """The ``[mqtt]`` table; :class:`~engine.config.SiteConfigError` names a bad field."""
    path: tuple[str | int, ...] = ("mqtt",)
    table = reader.table(
        value,
        path,
        {
            "url",
            "user",
            "topic_prefix",
            "discovery_prefix",
            "discovery",
            "thumbnails",
            "ca_file",
            "queue",
            "commands_per_minute",
            "commands",
        },
    )
    url = reader.string(table, "url", path)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise reader.fail((*path, "url"), "expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    if parts.username or parts.password or parts.path not in ("", "/"):
        raise reader.fail(
            (*path, "url"),
            "give the user as mqtt.user and the password as the mqtt_password secret, not in "
            "the URL; the URL has no path",
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise reader.fail((*path, "url"), "the port is not a number 1–65535") from None
    words = {}
    for key, default in (("topic_prefix", "watchfloor"), ("discovery_prefix", "homeassistant")):
        word = reader.string(table, key, path) if key in table else default
        if not _TOPIC_WORD.match(word):
            raise reader.fail((*path, key), "letters, digits, '-' and '_' only (one topic level)")
        words[key] = word
    discovery = table.get("discovery", True)
    if not isinstance(discovery, bool):
        raise reader.fail((*path, "discovery"), "expected true or false")
    thumbnails = reader.string(table, "thumbnails", path) if "thumbnails" in table else "base64"
    if thumbnails not in THUMBNAILS:
        raise reader.fail(
            (*path, "thumbnails"), f"expected one of {', '.join(THUMBNAILS)}, got {thumbnails!r}"
        )
    ca_file = None
    if "ca_file" in table:
        ca_file = Path(reader.resolve_file(reader.string(table, "ca_file", path)))
        if not ca_file.is_file():
            raise reader.fail((*path, "ca_file"), f"no such file: {ca_file}")
    queue = reader.integer(table, "queue", path, 10, 1_000_000) if "queue" in table else 1000
    per_minute = (
        reader.integer(table, "commands_per_minute", path, 1, 600)
        if "commands_per_minute" in table
        else 10
    )
    commands: dict[str, str] = {}
    if "commands" in table:
        raw = table["commands"]
        if not isinstance(raw, dict):
            raise reader.fail((*path, "commands"), "expected a table of broker user = account")
        for broker_user, account in raw.items():
            where = (*path, "commands", broker_user)
            if not is_broker_user(broker_user):
                raise reader.fail(where, "a broker user has no '/', '#', '+' or spaces")
            if not isinstance(account, str) or not account.strip():
                raise reader.fail(where, "expected the name of a Watchfloor service account")
            commands[broker_user] = account.strip()
    return MqttConfig(
        url=url,
        host=str(parts.hostname),
        port=port,
        tls=parts.scheme == "mqtts",
        user=reader.string(table, "user", path) if "user" in table else None,
        topic_prefix=words["topic_prefix"],
        discovery_prefix=words["discovery_prefix"],
        discovery=discovery,
        thumbnails=thumbnails,
        ca_file=ca_file,
        queue=queue,
        commands_per_minute=per_minute,
        ignored_commands=commands,
    )
