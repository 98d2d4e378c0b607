"""A real MQTT broker for tests: Debian's mosquitto on a free loopback port, with password
and ACL files like a site's. Users: ``watchfloor`` (the engine: everything under
``watchfloor/`` and ``homeassistant/``), ``homeassistant`` and ``eve`` (read Watchfloor's
topics; each may write only its own command topics, as the ACL pattern a site would use),
and ``intruder`` (may write only its own command topics). ``Broker(acl=False)`` is a broker
with the password file alone, mosquitto's ordinary setup: every user may read and write
every topic."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.waiting import WAIT_S

_CLIENT_NUMBERS = itertools.count(1)  # a broker drops a client whose id connects again
PASSWORDS = {
    "watchfloor": "engine-pass-1",
    "homeassistant": "ha-pass-1",
    "eve": "eve-pass-1",
    "intruder": "intruder-pass-1",
}
QUEUED_PER_CLIENT = 20_000  # a flood of commands reaches the engine whole (default 1,000)
ACL = """\
user watchfloor
topic readwrite watchfloor/#
topic readwrite homeassistant/#

user homeassistant
topic read watchfloor/#
topic readwrite homeassistant/#

user eve
topic read watchfloor/#

pattern write watchfloor/+/command/%u/+
"""


def mosquitto_path() -> str | None:
    """Debian's broker (in /usr/sbin, which a user's PATH may not hold)."""
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")


def mosquitto_installed() -> bool:
    """Whether the broker is here; on CI (``CI=true``) it must be: a missing one fails."""
    here = mosquitto_path() is not None and shutil.which("mosquitto_passwd") is not None
    if not here and os.environ.get("CI") == "true":
        raise RuntimeError(
            "mosquitto is not installed; CI must run the MQTT tests (bootstrap --dev)"
        )
    return here


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    """One mosquitto process; :meth:`stop` and :meth:`start` again keep its port (a broker
    restart: without persistence it forgets every retained message, as after a crash).
    ``acl=False``: no ACL file, so any user may publish on any topic."""

    def __init__(self, folder: Path, *, tls: bool = False, acl: bool = True) -> None:
        self.folder = folder
        self.port = free_port()
        self.tls = tls
        folder.mkdir(parents=True, exist_ok=True)
        passwords = folder / "passwords"
        passwords.touch()
        for user, password in PASSWORDS.items():
            subprocess.run(
                ["mosquitto_passwd", "-b", str(passwords), user, password],
                check=True,
                capture_output=True,
            )
        passwords.chmod(0o600)
        (folder / "acl").write_text(ACL)
        (folder / "acl").chmod(0o600)
        tls_lines = ""
        if tls:
            ca, cert, key = write_tls_files(folder / "tls")
            tls_lines = f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        self.ca_file = folder / "tls" / "ca.pem"
        acl_line = f"acl_file {folder / 'acl'}\n" if acl else ""
        (folder / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\n{tls_lines}allow_anonymous false\n"
            f"password_file {passwords}\n{acl_line}persistence false\n"
            f"max_queued_messages {QUEUED_PER_CLIENT}\n"
            f"log_dest file {folder / 'broker.log'}\n"
            # Run as root (a container), it would switch to the mosquitto user, who cannot
            # read the test's private folder.
            + ("user root\n" if os.geteuid() == 0 else "")
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [mosquitto_path() or "mosquitto", "-c", str(self.folder / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"mosquitto did not listen on {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"


class Subscriber:
    """A test client (Home Assistant, or a person's script): what it received, by topic."""

    def __init__(self, broker: Broker, user: str, topics: list[str]) -> None:
        """Connected to ``broker`` as ``user`` (over TLS, trusting its CA, when it has TLS),
        subscribed to ``topics``."""
        self.received: list[paho.MQTTMessage] = []
        self.times: list[float] = []
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{next(_CLIENT_NUMBERS)}"
        )
        self._client.username_pw_set(user, PASSWORDS[user])
        ready = threading.Event()  # connected, and the broker has the subscriptions

        def connected(client: paho.Client, *_args: Any) -> None:
            if topics:
                client.subscribe([(t, 1) for t in topics])
            else:
                ready.set()

        self._client.on_connect = connected
        self._client.on_subscribe = lambda *_a: ready.set()
        self._client.on_message = self._on_message
        if broker.tls:
            self._client.tls_set(ca_certs=str(broker.ca_file))
        self._client.connect("127.0.0.1", broker.port, 30)
        self._client.loop_start()
        # Not before: what it publishes at once (a flood's first commands) would reach the
        # broker ahead of its SUBSCRIBE, and the answers to them would go to nobody.
        if not ready.wait(WAIT_S):
            self.close()
            raise AssertionError(f"{user} was not connected and subscribed within {WAIT_S} s")

    def _on_message(self, _client: Any, _userdata: Any, message: paho.MQTTMessage) -> None:
        self.times.append(time.time())
        self.received.append(message)

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def publish_many(self, topic: str, payloads: list[bytes]) -> None:
        """Publish each (QoS 1, in order) without waiting in between; return once the broker
        has taken them all."""
        sent = [self._client.publish(topic, payload, qos=1) for payload in payloads]
        for info in sent:
            info.wait_for_publish(30)

    def latest(self, topic: str) -> paho.MQTTMessage | None:
        hits = [m for m in self.received if m.topic == topic]
        return hits[-1] if hits else None

    def on(self, topic: str) -> list[paho.MQTTMessage]:
        return [m for m in self.received if m.topic == topic]

    def wait(self, condition: Callable[[], object], timeout_s: float = WAIT_S) -> Any:
        """``condition``'s first true value; ``timeout_s`` is when the test gives up (see
        tests/waiting.py: a fail-safe, never a timing the test relies on)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.02)
        topics = sorted({m.topic for m in self.received})
        raise AssertionError(f"not within {timeout_s} s; received topics: {topics}")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def write_tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1 it signed (Ed25519 is not in every TLS stack:
    P-256): (ca.pem, cert.pem, key.pem)."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Watchfloor test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return paths
