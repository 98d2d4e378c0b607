"""Evidence export and verification: a time range of what the site recorded, in a folder that
anyone can check later.

An export holds the clips and snapshots of the chosen cameras in the range, the chosen rooms'
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

:func:`verify_evidence` hashes every file the manifest lists, names each altered, missing or
added file, and checks the signature (and, given one, that it was made by a trusted key).
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.metadata
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Final

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.paths import path_safe_name
from engine.sensing.recording import ExcerptSegment, RecordingReader
from engine.sensing.replay import DEFAULT_WARMUP_S
from engine.sitetime import SiteTime
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Camera, Event, Media
from engine.store.person_models import Person
from engine.wording import describe, display_actor, size

FORMAT: Final = "watchfloor-evidence/1"
MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"
PUBLIC_KEY: Final = "public_key.pem"
KEY_FILE_NAME: Final = "evidence_signing_key.pem"
CHUNK: Final = 1024 * 1024  # copy and hash a megabyte at a time
_OWN_FILES: Final = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})


class EvidenceError(RuntimeError):
    """An export could not be made (the message says why); nothing claims completeness."""


def signing_key(key_dir: Path) -> Any:
    """This installation's Ed25519 private key, generated on first use and kept in
    ``key_dir`` (owner-only file, written whole before it is used)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_dir / KEY_FILE_NAME
    if not path.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = key_dir / f".{KEY_FILE_NAME}.{uuid.uuid4().hex}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def key_fingerprint(public_pem: bytes) -> str:
    """SHA-256 of the public key's PEM, for people to compare."""
    return hashlib.sha256(public_pem).hexdigest()


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
    is called with the media bytes copied so far after each file (caller's thread)."""
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
            target = Path("clips" if row["kind"] == "clip" else "snapshots") / row["path"]
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
        sum(1 for m in media if m["kind"] != "clip"),
        copied,
        key_fingerprint(public_pem),
        len(recordings),
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
    """What :func:`verify_evidence` found: files whose content changed, listed files that
    are gone, files that were added, whether the signature holds, the key's fingerprint,
    and whether that key is the trusted one (None: no trusted key given)."""

    folder: Path
    files: int
    altered: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    signature_ok: bool = False
    fingerprint: str = ""
    trusted: bool | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return (
            self.signature_ok
            and not (self.altered or self.missing or self.added or self.problems)
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
            "signature_ok": self.signature_ok,
            "fingerprint": self.fingerprint,
            "trusted": self.trusted,
            "problems": list(self.problems),
        }


def verify_evidence(folder: Path, trusted_public_key: bytes | None = None) -> VerifyResult:
    """Check an exported folder: the signature of its manifest, then every listed file's
    SHA-256 and size, and that no file was added. Never raises for a damaged folder: what
    is wrong is in the result."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    problems: list[str] = []
    try:
        body = (folder / MANIFEST).read_bytes()
        manifest = json.loads(body)
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return VerifyResult(folder, 0, problems=(f"no readable {MANIFEST}: {exc}",))
    signature_ok, fingerprint, trusted = False, "", None
    try:
        public_pem = (folder / PUBLIC_KEY).read_bytes()
        fingerprint = key_fingerprint(public_pem)
        public = serialization.load_pem_public_key(public_pem)
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError("not an Ed25519 key")
        public.verify(base64.b64decode((folder / SIGNATURE).read_bytes().strip()), body)
        signature_ok = True
    except InvalidSignature:
        problems.append(f"the signature does not match {MANIFEST}: it was changed")
    except (OSError, ValueError) as exc:
        problems.append(f"the signature cannot be checked: {exc}")
    if trusted_public_key is not None:
        trusted = fingerprint == key_fingerprint(trusted_public_key)
        if not trusted:
            problems.append("signed by a key other than the trusted one")
    altered: list[str] = []
    missing: list[str] = []
    names: set[str] = set()
    for entry in files:
        name = str(entry["path"])
        names.add(name)
        path = folder / name
        if not path.is_file():
            missing.append(name)
            continue
        digest, size = _hash(path)
        if digest != entry["sha256"] or size != entry["bytes"]:
            altered.append(name)
    added = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in names | _OWN_FILES
    )
    return VerifyResult(
        folder,
        len(files),
        tuple(altered),
        tuple(missing),
        tuple(added),
        signature_ok,
        fingerprint,
        trusted,
        tuple(problems),
    )


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


def _write(path: Path, body: bytes) -> tuple[str, int]:
    with path.open("wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    return hashlib.sha256(body).hexdigest(), len(body)


def _hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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
