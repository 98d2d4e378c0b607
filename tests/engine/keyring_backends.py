"""Real keyring backends for tests: the edge of the system is ``keyring``'s backend
interface, so tests install one of these with ``keyring.set_keyring`` instead of the OS's."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class DictKeyring(KeyringBackend):
    """Passwords in a dict, keyed by (service, username). A priority below 1 keeps keyring's
    own detection from ever choosing it."""

    priority = 0.1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no password for {service}/{username}")


class FileKeyring(DictKeyring):
    """A DictKeyring kept in the JSON file that ``WATCHFLOOR_TEST_KEYRING_FILE`` names, for a
    ``watchfloor`` run as a child process (``PYTHON_KEYRING_BACKEND`` selects it there).
    Without that variable it keeps nothing on disk (keyring instantiates every backend class
    it knows when it looks for one)."""

    def __init__(self) -> None:
        super().__init__()
        name = os.environ.get("WATCHFLOOR_TEST_KEYRING_FILE")
        self.file = Path(name) if name else None
        if self.file is not None and self.file.exists():
            stored = json.loads(self.file.read_text(encoding="utf-8"))
            self.passwords = {(s, u): p for s, u, p in stored}

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        if self.file is not None:
            rows = [[s, u, p] for (s, u), p in self.passwords.items()]
            self.file.write_text(json.dumps(rows), encoding="utf-8")


class BrokenKeyring(DictKeyring):
    """A backend whose every call raises ``error``, as a real one does when the D-Bus
    session is gone (FileNotFoundError on its socket) or the collection stays locked."""

    error: BaseException = FileNotFoundError(2, "No such file or directory", "/run/user/1/bus")

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.error


class LockedKeyring(BrokenKeyring):
    error = KeyringLocked("Failed to unlock the collection!")


@contextmanager
def installed(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    """``backend`` as keyring's backend for the block; the previous one afterwards."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
