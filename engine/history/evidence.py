"""Evidence export and verification: a time range of what the site recorded, in a folder that
anyone can check later.

An export holds the clips, snapshots and continuous-recording segments (fragmented MP4,
which standard players play) of the chosen cameras in the range, the chosen rooms'
sensing recordings over the range (the recording's blocks that cover it and the minute before,
which a replay warms up on, as segments under ``sensing/<site>/<room>/`` that ``watchfloor sense
replay --recording`` re-runs), the events of the chosen cameras and sensing rooms as
``events.json`` and as a human-readable ``report.html`` (its times on the site's clock, the
zone stated once in its header; ``events.json`` and the manifest keep UTC ISO 8601),
and ``manifest.json``: the SHA-256 and size of every file, the range, the sources, who
exported it, when, and the software version. ``manifest.sig`` is the Ed25519 signature of
``manifest.json`` by this installation's key (generated once, kept in the data dir, readable
by its owner only); ``public_key.pem`` is the public half, exported with it.

The folder is written under a temporary name beside the destination and renamed into place
only when every file is copied, hashed and signed, so a failed export (a full disk, a
vanished clip) leaves no folder whose manifest claims to be complete.

:func:`verify_evidence` checks that the folder contains its evidence, intact: it hashes every
file the manifest lists (each a plain path inside the folder, read without following symbolic
links), names each altered, missing or added file and anything in the folder that is not a
regular file (a symbolic link, FIFO, socket, device or stray folder), and checks the signature
(and, given one, that it was made by a trusted key, compared as keys).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import html
import importlib.metadata
import json
import os
import re
import shutil
import stat
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.data_dirs import path_safe_name
from engine.history.audit_checkpoints import write_checkpoint
from engine.history.signing import key_fingerprint, signing_key
from engine.media import is_view_path
from engine.sensing.recording.recorder import DEFAULT_WARMUP_S, ExcerptSegment, RecordingReader
from engine.sitetime import SiteTime
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Camera, Event, Media
from engine.store.person_models import Person
from engine.wording import describe, display_actor, size

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT: Final = "watchfloor-evidence/1"
MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"
PUBLIC_KEY: Final = "public_key.pem"
CHUNK: Final = 1024 * 1024  # copy and hash a megabyte at a time
_OWN_FILES: Final = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})
# What verify reads of the export's own files, at most (counted while reading):
MANIFEST_LIMIT: Final = 64 * 1024 * 1024  # bytes: ~250,000 files' entries
SIGNATURE_LIMIT: Final = 4096  # bytes: an Ed25519 signature in base64 is 88
KEY_LIMIT: Final = 16 * 1024  # bytes: an Ed25519 public key's PEM is 113
_MAX_DEPTH: Final = 32  # folders: an export nests its media 2-5 deep
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
# Never follow a symbolic link, never wait on a FIFO's writer, never leak into a child.
_OPEN_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FOLDER_FLAGS: Final = _OPEN_FLAGS | os.O_DIRECTORY


class EvidenceError(RuntimeError):
    """An export could not be made (the message says why); nothing claims completeness.
    Also raised by :func:`read_trusted_key` for a file that is not a usable key."""


# The folder of an export each media kind goes under (the media's own path below it).
EXPORT_FOLDERS: Final = {"clip": "clips", "snapshot": "snapshots", "segment": "recordings"}


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What :func:`export_evidence` wrote: the folder, its files (with the media), the
    events, the bytes copied, the signing key's fingerprint and the sensing-recording
    segments."""

    folder: Path
    files: int
    events: int
    clips: int
    snapshots: int
    bytes: int
    fingerprint: str
    recordings: int = 0
    footage_segments: int = 0  # segments of the cameras' continuous recording


def export_evidence(
    store: Store,
    *,
    start: datetime,
    end: datetime,
    out_dir: Path,
    media_root: Path,
    key_dir: Path,
    exporter: str,
    now: datetime,
    site_time: SiteTime,
    cameras: Sequence[str] | None = None,
    rooms: Sequence[str] | None = None,
    sensing_root: Path | None = None,
    place_names: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    fetch: Callable[[Path], Path] | None = None,
) -> ExportResult:
    """Export ``start``–``end`` (UTC) of ``cameras`` (keys) and ``rooms`` (None for both:
    everything) into ``out_dir``, which must not exist or be empty. ``sensing_root``: where
    the rooms' sensing recordings lie (``<data>/sensing``, one folder per site and room);
    None exports none. ``site_time``: the site's zone (its
    :attr:`~engine.config.SiteConfig.site_time`), the clock ``report.html`` is written on;
    ``place_names``: camera and room ids to the names it calls them (cameras default to
    the names the store has). Raises
    :class:`EvidenceError` (bad range, destination in use, a missing media file, a full
    disk, ``cancel`` set); then nothing is left at ``out_dir``. ``progress(done, total)``
    is called with the media bytes copied so far after each file (caller's thread).
    ``fetch`` (a console attached to a shared site): brings a file another machine keeps
    to its place under ``media_root`` first, or raises saying why it cannot."""
    from cryptography.hazmat.primitives import serialization

    if end <= start:
        raise EvidenceError(f"the range ends ({end.isoformat()}) before it starts")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise EvidenceError(f"{out_dir} exists and is not an empty folder")
    key = signing_key(key_dir)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    events, media = _select(store, start, end, cameras, rooms)
    with store.sessions() as session:
        names = {str(k): str(n) for k, n in session.execute(select(Camera.key, Camera.name))}
    names.update(place_names or {})
    excerpts = _recording_excerpts(sensing_root, start, end, cameras, rooms)
    partial = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        partial.mkdir(parents=True)
        listed: list[dict[str, Any]] = []
        copied = 0
        total = sum(int(row["bytes"] or 0) for row in media)
        total += sum(segment.size for _, segment in excerpts)
        if progress is not None:
            progress(0, total)
        for row in media:
            if cancel is not None and cancel.is_set():
                raise EvidenceError("the export was cancelled")
            source = media_root / row["path"]
            if fetch is not None and not source.is_file():
                try:
                    source = fetch(source)
                except Exception as exc:  # its engine away, purged, a wrong password
                    raise EvidenceError(f"{row['path']} could not be fetched: {exc}") from None
            target = Path(EXPORT_FOLDERS.get(row["kind"], "snapshots")) / row["path"]
            digest, size = _copy_hashed(source, partial / target)
            copied += size
            listed.append(
                {
                    "path": target.as_posix(),
                    "sha256": digest,
                    "bytes": size,
                    "recorded_sha256": row["sha256"],
                }
            )
            row["exported_as"] = target.as_posix()
            if progress is not None:
                progress(copied, max(total, copied))
        recordings: list[dict[str, Any]] = []
        for room_dir, segment in excerpts:
            if cancel is not None and cancel.is_set():
                raise EvidenceError("the export was cancelled")
            target = Path("sensing") / room_dir / segment.name
            try:
                digest, size = _write_hashed(segment.chunks(), partial / target)
            except FileNotFoundError:
                raise EvidenceError(
                    f"the sensing recording {room_dir}/{segment.name} was deleted by its ring "
                    "during the export (lock the range first to keep it)"
                ) from None
            copied += size
            listed.append({"path": target.as_posix(), "sha256": digest, "bytes": size})
            recordings.append(
                {
                    "room": room_dir.rsplit("/", 1)[-1],
                    "path": target.as_posix(),
                    "blocks": len(segment.ranges),
                    "bytes": size,
                }
            )
            if progress is not None:
                progress(copied, max(total, copied))
        report = {
            "range": {"from": start.isoformat(), "to": end.isoformat()},
            "sources": {"cameras": list(cameras or []), "rooms": list(rooms or [])},
            "events": events,
            "media": media,
            "recordings": recordings,
        }
        for name, body in (
            ("events.json", json.dumps(report, indent=2, ensure_ascii=False).encode()),
            ("report.html", _html(report, exporter, now, site_time, names).encode()),
        ):
            digest, size = _write(partial / name, body)
            listed.append({"path": name, "sha256": digest, "bytes": size})
        manifest = {
            "format": FORMAT,
            "range": report["range"],
            "sources": report["sources"],
            "exporter": exporter,
            "created_at": now.isoformat(),
            "software": {"watchfloor": _version()},
            "files": sorted(listed, key=lambda f: str(f["path"])),
        }
        manifest.update(_audit_checkpoint(store, key_dir, now))
        body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        _write(partial / PUBLIC_KEY, public_pem)
        _write(partial / MANIFEST, body)
        _write(partial / SIGNATURE, base64.b64encode(key.sign(body)) + b"\n")
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked above): the complete export takes its place
        partial.rename(out_dir)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise EvidenceError(f"export to {out_dir} failed: {exc}") from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ExportResult(
        out_dir,
        len(listed),
        len(events),
        sum(1 for m in media if m["kind"] == "clip"),
        sum(1 for m in media if m["kind"] == "snapshot"),
        copied,
        key_fingerprint(public_pem),
        len(recordings),
        sum(1 for m in media if m["kind"] == "segment"),
    )


@dataclass(frozen=True, slots=True)
class RecordExport(GuardedCommand, StoreCommand):
    """The audit trail's record that ``actor`` exported evidence: the range, the sources,
    the folder, how many files and bytes, and the signing key's fingerprint. Needs the
    export permission; the CLI and the console check it before exporting (with
    :meth:`Actor.require`) and store this after the folder is complete."""

    permission: ClassVar[Permission] = Permission.EXPORT
    action: ClassVar[str] = "evidence.export"

    folder: str
    start: datetime
    end: datetime
    cameras: tuple[str, ...] | None
    rooms: tuple[str, ...] | None
    files: int
    bytes: int
    fingerprint: str
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"evidence:{self.folder}"

    def apply(self, session: Session) -> None:
        audit_command(
            session,
            self,
            {
                "from": self.start.isoformat(),
                "to": self.end.isoformat(),
                "cameras": None if self.cameras is None else list(self.cameras),
                "rooms": None if self.rooms is None else list(self.rooms),
                "files": self.files,
                "bytes": self.bytes,
                "fingerprint": self.fingerprint,
            },
        )


def export_record(
    result: ExportResult,
    *,
    start: datetime,
    end: datetime,
    cameras: Sequence[str] | None,
    rooms: Sequence[str] | None,
    at: datetime,
    actor: Actor,
) -> RecordExport:
    """The audit record of a finished export (hand it to the store writer)."""
    return RecordExport(
        folder=str(result.folder),
        start=start,
        end=end,
        cameras=None if cameras is None else tuple(cameras),
        rooms=None if rooms is None else tuple(rooms),
        files=result.files,
        bytes=result.bytes,
        fingerprint=result.fingerprint,
        at=at,
        actor=actor,
    )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What :func:`verify_evidence` found: listed files whose content changed, listed files
    that are gone, everything in the folder the manifest does not list (``added``: files,
    and also symbolic links, FIFOs, sockets, devices and folders, each named), whether the
    signature holds, the key's fingerprint, whether that key is the trusted one (None: no
    trusted key given), what else is wrong (``problems``: a manifest path outside the
    folder, an unreadable own file…), and ``irregular``: every path, listed or added, that
    is not a regular file, with what it is (``symbolic link``, ``FIFO``, ``socket``,
    ``device``, ``folder``, ``special file``)."""

    folder: Path
    files: int
    altered: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    signature_ok: bool = False
    fingerprint: str = ""
    trusted: bool | None = None
    problems: tuple[str, ...] = field(default=())
    irregular: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """Intact: signed, every listed file there and unchanged, nothing else in the folder,
        and (given a trusted key) signed by it."""
        return (
            self.signature_ok
            and not (self.altered or self.missing or self.added or self.problems)
            and not self.irregular
            and self.trusted is not False
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "ok": self.ok,
            "files": self.files,
            "altered": list(self.altered),
            "missing": list(self.missing),
            "added": list(self.added),
            "irregular": dict(self.irregular),
            "signature_ok": self.signature_ok,
            "fingerprint": self.fingerprint,
            "trusted": self.trusted,
            "problems": list(self.problems),
        }


def verify_evidence(folder: Path, trusted_public_key: bytes | None = None) -> VerifyResult:
    """Check that ``folder`` contains its evidence, intact: the signature of its manifest
    (and, given ``trusted_public_key`` as PEM, that this key made it: compared as keys, not
    as text), then every listed file's SHA-256 and size, and that the folder holds nothing
    else. Every manifest path must be a plain relative path inside the folder (no ``..``,
    no absolute path, no backslash, no NUL): one that is not is a named problem and is
    never opened, so the result does not depend on what exists outside. Nothing inside is
    followed either: a listed file, or a folder on its path, that is a symbolic link (even
    to an identical copy), a FIFO, a socket, a device or a folder is reported, and FIFOs
    are never opened for reading in a way that waits. The manifest, signature and public
    key are read only as regular files up to :data:`MANIFEST_LIMIT` / :data:`SIGNATURE_LIMIT`
    / :data:`KEY_LIMIT` bytes (counted while reading), and files are hashed a megabyte at a
    time. Never raises for a damaged folder: what is wrong is in the result."""
    try:
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        problem = f"{folder} is not a folder that can be read: {exc.strerror}"
        return VerifyResult(folder, 0, problems=(problem,))
    except ValueError as exc:  # a NUL in the name
        return VerifyResult(folder, 0, problems=(f"{folder!r} is not a folder: {exc}",))
    try:
        return _verify(folder, folder_fd, trusted_public_key)
    finally:
        os.close(folder_fd)


def read_trusted_key(path: Path) -> bytes:
    """The PEM of an Ed25519 public key from ``path`` (a regular file of at most
    :data:`KEY_LIMIT` bytes; a FIFO or device is refused without waiting on it), for
    :func:`verify_evidence`'s ``trusted_public_key``. Raises :class:`EvidenceError` saying
    why it cannot be used."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise EvidenceError(f"cannot read {path}: {exc.strerror}") from None
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind != "file":
            raise EvidenceError(f"{path} is a {kind}, not a key file")
        pem = _read_limited(fd, KEY_LIMIT)
    except OSError as exc:
        raise EvidenceError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if pem is None:
        raise EvidenceError(f"{path} is bigger than {KEY_LIMIT:,} bytes: not a public key")
    try:
        _ed25519_public_key(pem)
    except ValueError:
        raise EvidenceError(f"{path} is not an Ed25519 public key (PEM)") from None
    return pem


# -------------------------------------------------------------------------------- verifying


class _UnreadableError(Exception):
    """What the verifier will not read, or what a manifest gets wrong: the message names
    the file and says why."""


class _NotAFileError(Exception):
    """A path that is something other than a regular file (``kind`` says what)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _verify(folder: Path, folder_fd: int, trusted_public_key: bytes | None) -> VerifyResult:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    try:
        body = _read_own(folder_fd, MANIFEST, MANIFEST_LIMIT)
        files = _manifest_files(body)
    except _UnreadableError as exc:
        return VerifyResult(folder, 0, problems=(str(exc),))
    problems: list[str] = []
    signature_ok, fingerprint, trusted = False, "", None
    folder_key: bytes | None = None
    try:
        public = _ed25519_public_key(_read_own(folder_fd, PUBLIC_KEY, KEY_LIMIT))
        folder_key = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        # The key's own PEM, as the export wrote it: a re-wrapped file keeps its fingerprint.
        fingerprint = key_fingerprint(
            public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        signature = _read_own(folder_fd, SIGNATURE, SIGNATURE_LIMIT)
        public.verify(base64.b64decode(signature.strip(), validate=True), body)
        signature_ok = True
    except InvalidSignature:
        problems.append(f"the signature does not match {MANIFEST}: it was changed")
    except _UnreadableError as exc:
        problems.append(f"the signature cannot be checked: {exc}")
    except ValueError as exc:
        problems.append(f"the signature cannot be checked: {exc}")
    if trusted_public_key is not None:
        try:
            trusted_key = _ed25519_public_key(trusted_public_key).public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        except ValueError:
            trusted = False
            problems.append("the trusted key is not an Ed25519 public key (PEM)")
        else:
            trusted = folder_key is not None and hmac.compare_digest(folder_key, trusted_key)
            if not trusted:
                problems.append("signed by a key other than the trusted one")
    listed: dict[str, tuple[str, int]] = {}
    for index, raw in enumerate(files):
        try:
            path, digest, size_bytes = _manifest_entry(index, raw)
        except _UnreadableError as exc:
            problems.append(str(exc))
            continue
        if not _is_inside(path):
            problems.append(
                f"{MANIFEST} lists {path!r}, which is not a plain path inside the folder (not read)"
            )
        elif path in _OWN_FILES:
            problems.append(f"{MANIFEST} lists {path!r}, the export's own file")
        elif path in listed:
            problems.append(f"{MANIFEST} lists {path!r} twice")
        else:
            listed[path] = (digest, size_bytes)
    altered: list[str] = []
    missing: list[str] = []
    irregular: list[tuple[str, str]] = []
    for path, (digest, size_bytes) in listed.items():
        try:
            if not _listed_file_intact(folder_fd, path, digest, size_bytes):
                altered.append(path)
        except _NotAFileError as exc:
            irregular.append((path, exc.kind))
        except (FileNotFoundError, NotADirectoryError):
            missing.append(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                missing.append(path)  # a folder on its path is a symbolic link: named below
            else:
                problems.append(f"{path!r} cannot be read: {exc.strerror}")
        except ValueError as exc:  # a name the file system cannot encode
            problems.append(f"{path!r} cannot be read: {exc}")
    added, irregular_found, unreadable = _unlisted(folder_fd, set(listed))
    return VerifyResult(
        folder,
        len(files),
        tuple(altered),
        tuple(missing),
        tuple(added),
        signature_ok,
        fingerprint,
        trusted,
        tuple(problems + unreadable),
        tuple(sorted(irregular + irregular_found)),
    )


def _manifest_files(body: bytes) -> list[Any]:
    """The ``files`` list of a manifest's bytes. Raises :class:`_UnreadableError` naming what
    is wrong."""
    try:
        manifest = json.loads(body)
    except RecursionError:
        raise _UnreadableError(f"{MANIFEST} is nested too deeply to be a manifest") from None
    except ValueError as exc:  # not UTF-8, not JSON, a number too long to convert
        raise _UnreadableError(f"{MANIFEST} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise _UnreadableError(f"{MANIFEST} is not a JSON object")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise _UnreadableError(f"{MANIFEST}: 'files' is not a list")
    return files


def _manifest_entry(index: int, raw: Any) -> tuple[str, str, int]:
    """One ``files`` entry as (path, SHA-256 hex, size in bytes). Raises
    :class:`_UnreadableError` naming the entry and the field that is wrong."""
    where = f"{MANIFEST}: files[{index}]"
    if not isinstance(raw, dict):
        raise _UnreadableError(f"{where} is not an object")
    path = raw.get("path")
    if not isinstance(path, str):
        raise _UnreadableError(f"{where} has no 'path' text")
    digest = raw.get("sha256")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        raise _UnreadableError(f"{where} ({path!r}): 'sha256' is not a SHA-256 in hex")
    size_bytes = raw.get("bytes")
    if type(size_bytes) is not int or size_bytes < 0:  # bool and float are not sizes
        raise _UnreadableError(f"{where} ({path!r}): 'bytes' is not a size in bytes")
    return path, digest, size_bytes


def _is_inside(path: str) -> bool:
    """Whether a manifest path is a plain relative path inside the folder: ``/``-separated
    names, none empty, ``.`` or ``..``, no backslash (a Windows separator) and no NUL."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _kind(mode: int) -> str:
    """What a file of ``mode`` is, in words."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _open_file(name: str, dir_fd: int) -> int:
    """An fd on the regular file ``name`` in ``dir_fd``, never through a symbolic link and
    never waiting on a FIFO. Raises :class:`_NotAFileError` or OSError."""
    kind = _kind(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    if kind != "file":
        raise _NotAFileError(kind)  # not opened at all: a FIFO, socket or device stays untouched
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symbolic link since
            raise _NotAFileError("symbolic link") from None
        raise
    kind = _kind(os.fstat(fd).st_mode)  # what was opened, whatever the name now is
    if kind != "file":
        os.close(fd)
        raise _NotAFileError(kind)
    return fd


def _open_folder(folder_fd: int, relative: str) -> int:
    """An fd on the folder at ``relative`` (``/``-separated) inside ``folder_fd``, opened
    one name at a time without following symbolic links. Raises OSError (ELOOP: one is a
    symbolic link; ENOTDIR: one is not a folder)."""
    fd = folder_fd
    try:
        for part in relative.split("/"):
            parent, fd = fd, os.open(part, _FOLDER_FLAGS, dir_fd=fd)
            if parent != folder_fd:
                os.close(parent)
    except BaseException:
        if fd != folder_fd:
            os.close(fd)
        raise
    return fd


def _read_limited(fd: int, limit: int) -> bytes | None:
    """All of ``fd`` when it holds at most ``limit`` bytes, else None: counted while
    reading (``st_size`` is not trusted), never more than ``limit + 1`` bytes in memory."""
    body = bytearray()
    while len(body) <= limit:
        chunk = os.read(fd, min(CHUNK, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
    return None


def _read_own(folder_fd: int, name: str, limit: int) -> bytes:
    """The export's own file ``name`` (manifest, signature, public key), at most ``limit``
    bytes. Raises :class:`_UnreadableError` naming it and why."""
    try:
        fd = _open_file(name, folder_fd)
    except _NotAFileError as exc:
        raise _UnreadableError(f"{name} is a {exc.kind}, not a file") from None
    except FileNotFoundError:
        raise _UnreadableError(f"{name} is missing") from None
    except OSError as exc:
        raise _UnreadableError(f"{name} cannot be read: {exc.strerror}") from None
    try:
        body = _read_limited(fd, limit)
    except OSError as exc:
        raise _UnreadableError(f"{name} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if body is None:
        raise _UnreadableError(f"{name} is bigger than {limit:,} bytes")
    return body


def _ed25519_public_key(pem: bytes) -> Ed25519PublicKey:
    """The Ed25519 public key in ``pem``. Raises ValueError when it holds none."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = serialization.load_pem_public_key(pem)
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError(f"{PUBLIC_KEY} is not an Ed25519 key")
    return public


def _listed_file_intact(folder_fd: int, path: str, sha256: str, size_bytes: int) -> bool:
    """Whether the listed ``path`` (checked to be inside) holds ``size_bytes`` bytes of
    SHA-256 ``sha256``, hashed a megabyte at a time and never more than one byte past the
    listed size. Raises :class:`_NotAFileError` when it is not a regular file, OSError when it
    (or a folder on its way) is missing, a symbolic link or unreadable."""
    folder, _, name = path.rpartition("/")
    parent = _open_folder(folder_fd, folder) if folder else folder_fd
    try:
        fd = _open_file(name, parent)
    finally:
        if parent != folder_fd:
            os.close(parent)
    try:
        digest = hashlib.sha256()
        read = 0
        while read <= size_bytes:
            chunk = os.read(fd, min(CHUNK, size_bytes + 1 - read))
            if not chunk:
                break
            digest.update(chunk)
            read += len(chunk)
    finally:
        os.close(fd)
    return read == size_bytes and hmac.compare_digest(digest.hexdigest(), sha256)


def _unlisted(
    folder_fd: int, listed: set[str]
) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Everything in the folder that the manifest does not account for, without following
    symbolic links: the added paths (sorted), those of them that are not regular files
    with what they are, and problems reading it. Folders on a listed file's path and the
    export's own files are expected; every other folder, empty or not, is added (and
    looked into), as is any folder nested deeper than :data:`_MAX_DEPTH` (not looked
    into)."""
    expected = {path.rsplit("/", i)[0] for path in listed for i in range(1, path.count("/") + 1)}
    added: list[str] = []
    irregular: list[tuple[str, str]] = []
    problems: list[str] = []
    pending = [""]  # folders to look into, relative to the folder; "" is the folder
    while pending:
        relative = pending.pop()
        try:
            fd = _open_folder(folder_fd, relative) if relative else os.dup(folder_fd)
        except OSError as exc:  # replaced since it was listed, or not ours to read
            problems.append(f"{relative!r} cannot be opened: {exc.strerror}")
            continue
        try:
            with os.scandir(fd) as entries:
                found = [(e.name, _kind(e.stat(follow_symlinks=False).st_mode)) for e in entries]
        except OSError as exc:
            problems.append(f"{relative or 'the folder'!r} cannot be listed: {exc.strerror}")
            continue
        finally:
            os.close(fd)
        depth = relative.count("/") + 2 if relative else 1
        for name, kind in found:
            path = f"{relative}/{name}" if relative else name
            accounted = path in listed or (not relative and name in _OWN_FILES)
            if kind == "folder" and (accounted or path in expected):
                if depth <= _MAX_DEPTH:
                    pending.append(path)  # expected, but what is inside must be too
                    continue
                accounted = False
            if accounted:
                continue  # checked (and any irregularity named) when read
            added.append(path)
            if kind != "file":
                irregular.append((path, kind))
            if kind == "folder" and depth <= _MAX_DEPTH:
                pending.append(path)
    return sorted(added), irregular, problems


# -------------------------------------------------------------------------------- internals


def _select(
    store: Store,
    start: datetime,
    end: datetime,
    cameras: Sequence[str] | None,
    rooms: Sequence[str] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events of the sources in the range (oldest first), and the clips and snapshots
    of the cameras overlapping it."""
    everything = cameras is None and rooms is None
    sources = [f"camera:{c}" for c in cameras or ()] + [f"sensing:{r}" for r in rooms or ()]
    with store.sessions() as session:
        query = (
            select(Event, Person.public_id, Person.name)
            .outerjoin(Person, Person.id == Event.person_id)
            .where(Event.ts >= start, Event.ts < end)
            .order_by(Event.ts, Event.id)
        )
        if not everything:
            query = query.where(Event.source.in_(sources))
        events = [
            {
                "id": e.id,
                "ts": e.ts.isoformat(),
                "kind": e.kind,
                "source": e.source,
                "track_id": e.track_id,
                "person": person,
                "person_name": name,
                "detail": e.detail,
            }
            for e, person, name in session.execute(query).all()
        ]
        media_query = (
            select(Media, Camera.key)
            .outerjoin(Camera, Camera.id == Media.camera_id)
            .where(
                or_(
                    and_(
                        Media.started_at.is_not(None),
                        Media.started_at < end,
                        Media.ended_at >= start,
                    ),
                    and_(
                        Media.started_at.is_(None),
                        Media.created_at >= start,
                        Media.created_at < end,
                    ),
                )
            )
            .order_by(Media.created_at, Media.id)
        )
        if not everything:
            media_query = media_query.where(Camera.key.in_(list(cameras or ())))
        media = [
            {
                "id": m.id,
                "kind": m.kind,
                "camera": key,
                "path": m.path,
                "sha256": m.sha256,
                "bytes": m.size_bytes,
                "started_at": None if m.started_at is None else m.started_at.isoformat(),
                "ended_at": None if m.ended_at is None else m.ended_at.isoformat(),
                "event_id": m.event_id,
            }
            for m, key in session.execute(media_query).all()
            # A clip that is a view onto the continuous recording: its footage is in the
            # camera's segments, exported with the range.
            if not is_view_path(m.path)
        ]
    return events, media


def _copy_hashed(source: Path, target: Path) -> tuple[str, int]:
    try:
        with source.open("rb") as src:
            return _write_hashed(iter(lambda: src.read(CHUNK), b""), target)
    except FileNotFoundError:
        raise EvidenceError(f"the recorded file {source} is missing") from None


def _write_hashed(chunks: Iterable[bytes], target: Path) -> tuple[str, int]:
    """Write ``chunks`` to ``target`` (flushed to disk), hashing them on the way: the
    SHA-256 and the size. Raises OSError."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as dst:
        for chunk in chunks:
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest(), size


def _recording_excerpts(
    sensing_root: Path | None,
    start: datetime,
    end: datetime,
    cameras: Sequence[str] | None,
    rooms: Sequence[str] | None,
) -> list[tuple[str, ExcerptSegment]]:
    """The blocks of the chosen rooms' recordings over the range and the warm-up before it,
    with each room's folder as ``site/room``: every room when neither cameras nor rooms
    are chosen, none when only cameras are."""
    if sensing_root is None or (rooms is None and cameras is not None):
        return []
    wanted = None if rooms is None else {path_safe_name(room) for room in rooms}
    found: list[tuple[str, ExcerptSegment]] = []
    for room_dir in sorted(p for p in sensing_root.glob("*/*") if p.is_dir()):
        if wanted is not None and room_dir.name not in wanted:
            continue
        excerpt = RecordingReader(room_dir).excerpt(
            start.timestamp() - DEFAULT_WARMUP_S, end.timestamp()
        )
        found.extend((f"{room_dir.parent.name}/{room_dir.name}", s) for s in excerpt)
    return found


def _audit_checkpoint(store: Store, key_dir: Path, now: datetime) -> dict[str, Any]:
    """The manifest's ``audit_checkpoint``: the audit trail's head signed now (and appended
    to the checkpoint file beside the database), so the export, under its own signature,
    proves later that the trail up to here was not rewritten. A checkpoint that cannot be
    made never stops the export: the manifest then says why in ``audit_checkpoint_problem``."""
    written = write_checkpoint(store, key_dir=key_dir, at=now, reason="evidence export")
    if written.checkpoint is None:
        return {"audit_checkpoint": None, "audit_checkpoint_problem": written.problem}
    return {"audit_checkpoint": written.checkpoint.as_json()}


def _write(path: Path, body: bytes) -> tuple[str, int]:
    with path.open("wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    return hashlib.sha256(body).hexdigest(), len(body)


def _version() -> str:
    try:
        return importlib.metadata.version("watchfloor")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _html(
    report: dict[str, Any],
    exporter: str,
    now: datetime,
    site: SiteTime,
    names: Mapping[str, str],
) -> str:
    """The report a person reads: every time on the site's clock, the zone said once in
    the header (``Europe/London (GMT/BST)`` when the range crosses a change of clocks, and
    then each time carries its abbreviation, since an hour repeats); events in the words
    every pane uses (:mod:`engine.wording`), places and people by name (events.json keeps
    the records as stored)."""
    e = html.escape
    rng = report["range"]
    start, end = datetime.fromisoformat(rng["from"]), datetime.fromisoformat(rng["to"])
    moments = [start, *(datetime.fromisoformat(ev["ts"]) for ev in report["events"]), end]
    labels = list(dict.fromkeys(site.zone_label(at) for at in moments))
    shown = site.full if len(labels) == 1 else site.with_zone

    def when(text: str | None) -> str:
        return "" if not text else e(shown(datetime.fromisoformat(text)))

    def row(ev: dict[str, Any]) -> str:
        words = describe(
            ev["kind"],
            ev["source"],
            ev["detail"],
            names=names,
            person=ev.get("person_name") or ev["person"],
            site_time=site,
        )
        details = "<br>".join(f"{e(label)}: {e(value)}" for label, value in words.fields)
        return (
            f"<tr><td>{when(ev['ts'])}</td><td>{e(words.place)}</td><td>{e(words.title)}</td>"
            f"<td>{e(words.person or '')}</td><td>{e(words.summary)}</td>"
            f"<td>{details}</td></tr>"
        )

    rows = "".join(row(ev) for ev in report["events"])
    media = "".join(
        f"<tr><td>{e(m['kind'])}</td><td>{e(names.get(m['camera'] or '', m['camera'] or ''))}</td>"
        f"<td>{when(m['started_at'])}</td><td>{e(m.get('exported_as', m['path']))}</td>"
        f"<td><code>{e(m['sha256'])}</code></td></tr>"
        for m in report["media"]
    )
    recordings = "".join(
        f"<tr><td>{e(names.get(r['room'], r['room']))}</td><td>{e(r['path'])}</td>"
        f"<td>{r['blocks']}</td><td>{e(size(r['bytes']))}</td></tr>"
        for r in report["recordings"]
    )
    span = f"{when(rng['from'])} to {when(rng['to'])}"
    zone = f"{site.name} ({'/'.join(labels)})"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Watchfloor evidence "
        f"{span}</title></head><body>"
        f"<h1>Evidence {span}</h1>"
        f"<p>Times are {e(zone)}, the site's time; events.json and {MANIFEST} give them "
        f"in UTC (ISO 8601).</p>"
        f"<p>Exported by {e(display_actor(exporter))} at {e(site.with_zone(now))}. "
        "Every file's SHA-256 is "
        f"in {MANIFEST}, signed in {SIGNATURE} with the key in {PUBLIC_KEY}; check it with "
        "<code>watchfloor verify FOLDER</code>.</p>"
        f"<h2>Events ({len(report['events'])})</h2><table border='1'><tr><th>Time</th>"
        "<th>Where</th><th>What</th><th>Person</th><th>Summary</th><th>Details</th></tr>"
        f"{rows}</table>"
        f"<h2>Media ({len(report['media'])})</h2><table border='1'><tr><th>Kind</th>"
        f"<th>Camera</th><th>Start</th><th>File</th><th>SHA-256 when recorded</th></tr>"
        f"{media}</table>"
        f"<h2>Sensing recordings ({len(report['recordings'])})</h2><p>The rooms' raw CSI "
        "over the range and the minute before it, re-run with <code>watchfloor sense replay "
        "--recording FOLDER</code>.</p><table border='1'><tr><th>Room</th><th>File</th>"
        f"<th>Blocks</th><th>Size</th></tr>{recordings}</table></body></html>"
    )
