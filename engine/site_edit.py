"""Editing the site file in place: cameras added, changed and removed the way an admin
would by hand, keeping their comments, blank lines and order (``tomlkit``).

An edit is read (:func:`open_site_file`), changed in memory, and saved (:meth:`SiteFileEdit.
save`) only if the whole new file validates as a site (:func:`engine.config.parse_site`),
so a saved file always loads. Saving is atomic: under an exclusive lock beside the file,
the file is read again and the save refused if anyone changed it since it was read (the
edit is redone on the new file, never merged blindly); the version being replaced is kept
beside it as ``<name>.previous``; the new text is written and synced under a temporary name
and renamed over the file. A symbolic link is followed: the file it names is edited.

Nothing here knows a password: a camera's credentials are named by ``password_env`` or
``password_keyring`` (see :class:`~engine.config.CameraSecret`), and a URL that carries a
password is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

import tomlkit
import tomlkit.exceptions
from sqlalchemy.orm import Session
from tomlkit.items import AoT, Table

from engine.access import Actor, GuardedCommand, Permission
from engine.config import (
    CAMERA_KEYS,
    MAX_SITE_FILE_BYTES,
    SiteConfig,
    SiteConfigError,
    parse_site,
)
from engine.inbound import OutsideFileError, read_outside_file
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.models import Event
from engine.text import printable

PREVIOUS_SUFFIX: Final = ".previous"  # the version a save replaced, beside the file
LOCK_PREFIX: Final = "."  # the lock file: ``.<name>.lock`` beside the site file
CAMERA_ID: Final = re.compile(r"[A-Za-z0-9_\-]{1,64}")  # as the site file's ids
CAMERA_FIELDS: Final = CAMERA_KEYS  # what a camera's table may hold (engine.config)


class SiteEditError(ValueError):
    """An edit was refused: the message names the file, the camera and what was wrong.
    The file is unchanged."""


@dataclass(frozen=True, slots=True)
class SavedSite:
    """A save that happened: the site as it now loads, and where the version it replaced
    was kept."""

    site: SiteConfig
    previous: Path


def previous_path(file: Path) -> Path:
    """Where the version a save replaced is kept: ``site.toml.previous``."""
    return file.with_name(file.name + PREVIOUS_SUFFIX)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(file: Path) -> bytes:
    try:
        return read_outside_file(file, MAX_SITE_FILE_BYTES)
    except OutsideFileError as exc:
        raise SiteEditError(f"{file}: {exc.problem}") from None


def open_site_file(path: Path | str) -> SiteFileEdit:
    """The site file at ``path`` (a link is followed), read for editing. Raises
    :class:`SiteEditError` if it cannot be read or is not valid TOML."""
    file = Path(path).resolve()
    data = _read(file)
    try:
        text = data.decode("utf-8")
        document = tomlkit.parse(text)
    except (UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise SiteEditError(f"{file}: not a TOML file that can be edited: {exc}") from None
    return SiteFileEdit(file, document, _digest(data))


class SiteFileEdit:
    """A site file read for editing (:func:`open_site_file`): its cameras changed in
    memory, then :meth:`save`. Not thread-safe; one edit per change."""

    def __init__(self, file: Path, document: tomlkit.TOMLDocument, digest: str) -> None:
        self.file = file
        self._document = document
        self._digest = digest

    # -- reading -------------------------------------------------------------------------
    def _cameras(self) -> AoT | None:
        cameras = self._document.get("cameras")
        if cameras is None:
            return None
        if not isinstance(cameras, AoT):
            raise SiteEditError(
                f"{self.file}: its cameras are not written as [[cameras]] tables; edit it by hand"
            )
        return cameras

    def camera_ids(self) -> list[str]:
        """The ids of the file's cameras, in file order."""
        cameras = self._cameras()
        return [str(table.get("id")) for table in cameras or ()]

    def camera(self, camera_id: str) -> dict[str, Any]:
        """Camera ``camera_id``'s table as plain values."""
        table: dict[str, Any] = self._table(camera_id).unwrap()
        return table

    def _table(self, camera_id: str) -> Table:
        for table in self._cameras() or ():
            if isinstance(table, Table) and table.get("id") == camera_id:
                return table
        known = ", ".join(self.camera_ids()) or "none"
        raise SiteEditError(
            f"{self.file}: no camera {printable(camera_id)!r} (its cameras: {known})"
        )

    def text(self) -> str:
        """The file as it would be saved."""
        return tomlkit.dumps(self._document)

    # -- changing ------------------------------------------------------------------------
    def add_camera(self, values: Mapping[str, Any]) -> None:
        """Add a ``[[cameras]]`` table after the file's last camera (or at its end), fields
        in the order given. ``values`` must name a new ``id`` and a ``url``."""
        camera_id = values.get("id")
        if not isinstance(camera_id, str) or not CAMERA_ID.fullmatch(camera_id):
            raise SiteEditError(
                f"camera id {camera_id!r}: use 1–64 letters, digits, '_' or '-' (it names "
                "the camera's folders and rows)"
            )
        if camera_id in self.camera_ids():
            raise SiteEditError(f"{self.file}: a camera {camera_id!r} is already there")
        if "url" not in values:
            raise SiteEditError(f"camera {camera_id}: a url is needed")
        table = tomlkit.table()
        for key, value in values.items():
            self._check_field(camera_id, key, value)
            table[key] = self._item(value)
        cameras = self._cameras()
        if cameras is None:
            cameras = tomlkit.aot()
            cameras.append(table)
            self._document.add(tomlkit.nl())
            self._document["cameras"] = cameras
        else:
            cameras.append(table)

    def edit_camera(self, camera_id: str, changes: Mapping[str, Any]) -> None:
        """Set (or, with None, remove) fields of camera ``camera_id``; its other fields,
        their comments and order stay. The id is not changed here (it names the camera's
        recordings and rows: remove the camera and add another instead)."""
        table = self._table(camera_id)
        for key, value in changes.items():
            if key == "id":
                raise SiteEditError(
                    f"camera {camera_id}: its id names its recordings and rows and is not "
                    "changed; add a camera with the new id instead"
                )
            if value is None:
                if key == "url":
                    raise SiteEditError(f"camera {camera_id}: a camera needs a url")
                if key in table:
                    del table[key]
                continue
            self._check_field(camera_id, key, value)
            table[key] = self._item(value)

    def remove_camera(self, camera_id: str) -> None:
        """Remove camera ``camera_id``'s table (its recordings and rows stay: they are the
        site's history, kept by retention like any other)."""
        cameras = self._cameras()
        self._table(camera_id)  # names the file's cameras when there is no such one
        assert cameras is not None
        index = next(i for i, t in enumerate(cameras) if t.get("id") == camera_id)
        del cameras[index]
        if not len(cameras):
            del self._document["cameras"]

    def _check_field(self, camera_id: str, key: str, value: Any) -> None:
        if key not in CAMERA_FIELDS:
            allowed = ", ".join(sorted(CAMERA_FIELDS))
            raise SiteEditError(f"camera {camera_id}: unknown field {key!r} (allowed: {allowed})")
        if key in ("url", "sub_url") and isinstance(value, str) and _has_password(value):
            raise SiteEditError(
                f"camera {camera_id}: the url carries a password, which would be written "
                "into the site file; give the url without it and the password with "
                "password_env (an environment variable) or password_keyring (the OS keyring)"
            )

    @staticmethod
    def _item(value: Any) -> Any:
        # A table value (recording = { ... }, geo = { ... }) stays inline, as admins write it.
        if isinstance(value, Mapping):
            inline = tomlkit.inline_table()
            inline.update(dict(value))
            return inline
        return value

    # -- saving --------------------------------------------------------------------------
    def check(self) -> SiteConfig:
        """The site the edited file would load as, or :class:`SiteEditError` naming the
        line and field that would not load. Writes nothing."""
        try:
            return parse_site(self.file, self.text())
        except SiteConfigError as exc:
            raise SiteEditError(f"not saved: {exc}") from None

    def save(self) -> SavedSite:
        """Validate and write the edited file atomically (see the module), keeping the
        version it replaces. Raises :class:`SiteEditError` when the new file would not load
        as a site (naming the line and field), or the file changed since it was read."""
        site = self.check()
        data = self.text().encode("utf-8")
        with _locked(self.file):
            current = _read(self.file)
            if _digest(current) != self._digest:
                raise SiteEditError(
                    f"{self.file} changed since it was read (someone else edited it): "
                    "nothing was saved; read it again and redo the change"
                )
            mode = stat.S_IMODE(os.stat(self.file).st_mode)
            previous = previous_path(self.file)
            _write_whole(previous, current, mode)
            _write_whole(self.file, data, mode)
            self._digest = _digest(data)
        return SavedSite(site, previous)


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


@contextlib.contextmanager
def _locked(file: Path) -> Iterator[None]:
    """An exclusive lock on ``.<name>.lock`` beside ``file``, held while saving (every
    console and CLI of this machine edits under it)."""
    lock = file.with_name(f"{LOCK_PREFIX}{file.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_whole(target: Path, data: bytes, mode: int) -> None:
    """``data`` at ``target`` with ``mode``, complete or not at all: written and synced
    under a temporary name in the same directory, renamed, the directory synced."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraChangeRecord(GuardedCommand, StoreCommand):
    """The record of a camera added to, changed in or removed from the site file (after
    the file was saved): an event (``kind``) and an audit entry, as ``actor`` (who must
    hold the configure-cameras permission). ``fields`` names what was set (values, never a
    password: a file's camera holds none); ``removed`` what was taken out. Use one of
    :class:`CameraAdded`, :class:`CameraChanged`, :class:`CameraRemoved`."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_CAMERAS
    kind: ClassVar[str]

    site: str
    file: str
    camera: str
    name: str
    fields: Mapping[str, Any]
    removed: tuple[str, ...] = ()
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return self.camera

    def apply(self, session: Session) -> None:
        detail = {
            "camera": self.camera,
            "name": self.name,
            "site": self.site,
            "file": self.file,
            "fields": dict(self.fields),
            "removed": list(self.removed),
            "by": self.actor.label,
        }
        session.add(Event(ts=self.at, kind=self.kind, source=self.actor.label, detail=detail))
        audit_command(session, self, detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraAdded(CameraChangeRecord):
    action: ClassVar[str] = "camera.add"
    kind: ClassVar[str] = "site.camera_added"


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraChanged(CameraChangeRecord):
    action: ClassVar[str] = "camera.edit"
    kind: ClassVar[str] = "site.camera_changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraRemoved(CameraChangeRecord):
    action: ClassVar[str] = "camera.remove"
    kind: ClassVar[str] = "site.camera_removed"
