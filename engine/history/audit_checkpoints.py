"""Signed checkpoints of the audit trail's head, kept outside the database.

The hash chain (:mod:`engine.store.audit`) catches a change to one entry, but someone who
can write the database can rewrite every entry, recompute every hash and the head row,
and the chain verifies again. A checkpoint closes that: the head (its seq and hash) at a
moment, signed with this installation's Ed25519 key (the evidence-export key,
:func:`engine.history.signing.signing_key`) and appended as one JSON line to a file beside
the database (:func:`checkpoint_path`; written with ``O_APPEND`` and fsync-ed), and, when
``WATCHFLOOR_AUDIT_SYSLOG`` names an address, sent to syslog there too. A rewrite of any
entry up to a checkpoint's seq changes that entry's hash, so :func:`verify_with_checkpoint`
(``watchfloor audit verify``) names it, whatever the database says.

When a checkpoint is made: by the running engine's :class:`AuditCheckpointer` when the
chain has grown by :data:`CHECKPOINT_EVERY_ENTRIES` entries or, if it grew at all,
:data:`CHECKPOINT_EVERY_S` after the previous checkpoint, and when the engine stops; on
every evidence export (the export's manifest carries it, under its signature); and on
``watchfloor audit checkpoint``. Before signing, the chain is checked to extend the newest
checkpoint in the file (:func:`~engine.store.audit.chain_extends`, only the entries since),
so a rewritten chain is never signed: the newest checkpoint stays the honest one, and the
refusal is logged and reported. A checkpoint that cannot be written is logged and reported
(:attr:`CheckpointWritten.problem`, the engine's store health); it never holds up the
store writer, which it does not use.

A checkpoint line::

    {"at": "2026-11-22T09:05:00+00:00", "format": "watchfloor-audit-checkpoint/1",
     "head_hash": "…64 hex…", "key_id": "…SHA-256 of the public key's PEM…",
     "reason": "interval", "seq": 120, "signature": "…base64 Ed25519…"}

The signature covers the canonical JSON (sorted keys, no spaces) of every field but
``signature``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import socket
import stat
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import Any, Final

from sqlalchemy.engine import make_url

from engine.audit_records import AuditProblem, AuditVerification, CheckpointCheck
from engine.clock import Clock
from engine.data_dirs import data_dir, open_private_file, path_safe_name
from engine.history.signing import KEY_FILE_NAME, key_fingerprint, signing_key
from engine.inbound import file_kind, loads_json
from engine.store.audit import chain_extends, verify_audit
from engine.store.database import Store
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)

FORMAT: Final = "watchfloor-audit-checkpoint/1"
# At most one interval checkpoint per 5 minutes while entries arrive (journald seals every
# 15 min by default): a busy site writes ~100 KB of checkpoints a day, a quiet one none.
# A burst (a password-guessing run) is anchored after 100 entries without waiting.
CHECKPOINT_EVERY_ENTRIES: Final = 100
CHECKPOINT_EVERY_S: Final = 300.0
POLL_S: Final = 10.0  # how often the checkpointer reads the head row (one row, cheap)
MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024  # a file read whole (an export's manifest)
TAIL_BYTES: Final = 64 * 1024  # of a bigger file only its end is read: the newest line
SYSLOG_ENV: Final = "WATCHFLOOR_AUDIT_SYSLOG"
SYSLOG_PORT: Final = 514
_HEX64 = re.compile(r"[0-9a-f]{64}")


class CheckpointFileError(ValueError):
    """A checkpoint file cannot be used: missing, not a regular file, not JSON, not a
    checkpoint. The message starts ``checkpoint file PATH:`` and says which."""


class CheckpointKeyError(ValueError):
    """No public key to check checkpoints with (none installed, or ``--key`` unreadable)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The audit chain's head, entry ``seq`` with hash ``head_hash``, signed at ``at``
    (UTC) for ``reason`` (``interval``, ``evidence export``, ``manual``…) by the key whose
    public PEM's SHA-256 is ``key_id``; ``signature`` is base64 Ed25519."""

    seq: int
    head_hash: str
    at: datetime
    key_id: str
    reason: str
    signature: str

    def signed_part(self) -> bytes:
        """The bytes the signature covers: canonical JSON of every other field."""
        return _signed_bytes(self.seq, self.head_hash, self.at, self.key_id, self.reason)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "at": self.at.isoformat(),
            "key_id": self.key_id,
            "reason": self.reason,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: object) -> Checkpoint:
        """The checkpoint ``data`` (parsed JSON) holds; ValueError naming the field that is
        missing or of the wrong type. Does not check the signature."""
        if not isinstance(data, dict):
            raise ValueError(f"a checkpoint is a JSON object, not {type(data).__name__}")
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**63:
            raise ValueError(f"seq must be a whole number ≥ 0, not {_shown(seq)}")
        for name in ("head_hash", "key_id"):
            value = data.get(name)
            if not isinstance(value, str) or not _HEX64.fullmatch(value):
                raise ValueError(f"{name} must be 64 lowercase hex digits, not {_shown(value)}")
        at = data.get("at")
        if not isinstance(at, str) or len(at) > 64:
            raise ValueError(f"at must be an ISO 8601 time, not {_shown(at)}")
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise ValueError(f"at must be an ISO 8601 time, not {_shown(at)}") from None
        if when.tzinfo is None:
            raise ValueError(f"at must carry its UTC offset: {at!r}")
        reason = data.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 200:
            raise ValueError(f"reason must be a short text, not {_shown(reason)}")
        signature = data.get("signature")
        if not isinstance(signature, str) or len(signature) > 200:
            raise ValueError(f"signature must be base64 text, not {_shown(signature)}")
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("signature is not base64") from None
        if len(raw) != 64:
            raise ValueError(f"signature is {len(raw)} bytes, not an Ed25519 signature (64)")
        return cls(seq, str(data["head_hash"]), when, str(data["key_id"]), reason, signature)


@dataclass(frozen=True, slots=True)
class CheckpointWritten:
    """What :func:`write_checkpoint` did: the checkpoint it signed (None: it refused, the
    chain no longer extends the previous checkpoint, or could not read the head), and what
    went wrong (None: signed, appended to the file and sent wherever configured)."""

    checkpoint: Checkpoint | None
    problem: str | None = None


def checkpoint_path(db_url: str) -> Path | None:
    """The checkpoint file of the database at ``db_url``: beside a SQLite file
    (``watchfloor.db.audit-checkpoints.jsonl``); for a server database, in the data dir,
    named by its host, port and database. None for an in-memory SQLite database."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        db_file = Path(database)
        return db_file.with_name(db_file.name + ".audit-checkpoints.jsonl")
    where = f"{url.host or 'local'}-{url.port or 'default'}-{url.database or ''}"
    return data_dir() / f"audit-checkpoints-{path_safe_name(where)}.jsonl"


def write_checkpoint(
    store: Store,
    *,
    key_dir: Path,
    at: datetime,
    reason: str,
    path: Path | None = None,
    syslog: str | None = None,
) -> CheckpointWritten:
    """Sign the chain's current head with the installation key in ``key_dir`` and append
    it to ``path`` (default: :func:`checkpoint_path` of the store) and to syslog at
    ``syslog`` (default: ``WATCHFLOOR_AUDIT_SYSLOG``; unset or empty: none). Refuses to sign
    a chain that does not extend the newest checkpoint in the file signed by this key.
    Never raises for a failure to write: it is logged (ERROR) and returned as the
    problem. Reads the store and writes files: call it off the GUI thread."""
    from cryptography.hazmat.primitives import serialization

    target = checkpoint_path(store.url) if path is None else path
    address = os.environ.get(SYSLOG_ENV, "") if syslog is None else syslog
    try:
        key = signing_key(key_dir)
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key_id = key_fingerprint(public_pem)
        previous = _previous_checkpoint(target, public_pem)
        if previous is None:
            extension = chain_extends(store)
        else:
            extension = chain_extends(store, previous.seq, previous.head_hash)
    except Exception as exc:  # the key or the store cannot be read: say so, block nothing
        problem = f"audit checkpoint not made: {exc}"
        log.error("%s", problem)
        return CheckpointWritten(None, problem)
    if extension.problem is not None:
        since = (
            f"the checkpoint at entry {previous.seq} ({previous.at.isoformat()})"
            if previous is not None
            else "the start of the chain"
        )
        problem = (
            f"audit checkpoint refused: the chain no longer extends {since}: "
            f"{extension.problem}; run `watchfloor audit verify`"
        )
        log.error("%s", problem)
        return CheckpointWritten(None, problem)
    signed = _signed_bytes(extension.head_seq, extension.head_hash, at, key_id, reason)
    checkpoint = Checkpoint(
        extension.head_seq,
        extension.head_hash,
        at,
        key_id,
        reason,
        base64.b64encode(key.sign(signed)).decode("ascii"),
    )
    line = json.dumps(checkpoint.as_json(), sort_keys=True, separators=(",", ":"))
    problems: list[str] = []
    if target is not None:
        try:
            _append_line(target, line)
        except OSError as exc:
            problems.append(f"audit checkpoint not written to {target}: {exc}")
    if address:
        failure = send_to_syslog(address, line)
        if failure is not None:
            problems.append(f"audit checkpoint not sent to syslog at {address}: {failure}")
    for problem in problems:
        log.error("%s", problem)
    return CheckpointWritten(checkpoint, "; ".join(problems) or None)


def send_to_syslog(address: str, line: str) -> str | None:
    """Send ``line`` to syslog at ``address`` (``/dev/log`` or ``unix:/path`` for a local
    socket, ``udp://host:port``, ``tcp://host:port``, or ``host[:port]`` for UDP; port
    514 by default), facility auth, level notice. None when sent (UDP: handed to the
    network), else why not. Blocks at most a few seconds (TCP connect)."""
    try:
        target, socktype = _syslog_target(address)
    except ValueError as exc:
        return str(exc)
    handler: _SyslogSender | None = None
    try:
        handler = _SyslogSender(address=target, facility=SysLogHandler.LOG_AUTH, socktype=socktype)
        handler.ident = "watchfloor: "
        record = logging.LogRecord(
            "watchfloor.audit", logging.WARNING, __file__, 0, "%s", (line,), None
        )
        handler.emit(record)
        return handler.failure
    except OSError as exc:
        return str(exc)
    finally:
        if handler is not None:
            handler.close()


class _SyslogSender(SysLogHandler):
    """A SysLogHandler that keeps its failure instead of printing a traceback."""

    failure: str | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        self.failure = str(sys.exc_info()[1]) or "sending failed"


def _syslog_target(address: str) -> tuple[str | tuple[str, int], socket.SocketKind | None]:
    if address.startswith("unix:"):
        return address[5:], None
    if address.startswith("/"):
        return address, None
    socktype = socket.SOCK_DGRAM
    rest = address
    if address.startswith("udp://"):
        rest = address[6:]
    elif address.startswith("tcp://"):
        rest, socktype = address[6:], socket.SOCK_STREAM
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if not port:
        host, port = rest, str(SYSLOG_PORT)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"{SYSLOG_ENV}={address!r} is not a syslog address "
            "(/dev/log, udp://host:port or tcp://host:port)"
        )
    return (host.strip("[]"), int(port)), socktype


def read_checkpoint_file(path: Path) -> Checkpoint:
    """The newest checkpoint in ``path``: a checkpoint file (JSON lines: its last complete
    line), one checkpoint as a JSON document, or an evidence export's ``manifest.json``
    (its ``audit_checkpoint``). Reads at most :data:`MAX_DOCUMENT_BYTES` (a bigger file:
    only its last :data:`TAIL_BYTES`); opens without blocking and refuses anything but a
    regular file (a FIFO, a device, a folder). Raises :class:`CheckpointFileError`. Does
    not check the signature."""

    def fail(why: str) -> CheckpointFileError:
        return CheckpointFileError(f"checkpoint file {path}: {why}")

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise fail("not found") from None
    except OSError as exc:
        raise fail(f"cannot be opened: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"not a regular file (it is {file_kind(info.st_mode)})")
        if info.st_size == 0:
            raise fail("empty: no checkpoint in it")
        whole = info.st_size <= MAX_DOCUMENT_BYTES
        if not whole:
            os.lseek(fd, info.st_size - TAIL_BYTES, os.SEEK_SET)
        data = _read_at_most(fd, MAX_DOCUMENT_BYTES if whole else TAIL_BYTES)
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("not UTF-8 text") from None
    document: object = None
    if whole:
        try:
            document = loads_json(text)
        except ValueError:
            document = None  # JSON lines: the newest line is read below
    if document is None:
        lines = text.split("\n")
        complete = lines[:-1] if whole else lines[1:-1]  # a tail's first line is cut
        newest = next((line for line in reversed(complete) if line.strip()), None)
        if newest is None and whole and lines[-1].strip():
            newest = lines[-1]  # one line, no newline at its end
        if newest is None:
            where = "in it" if whole else f"in its last {TAIL_BYTES // 1024} KiB"
            raise fail(f"no complete checkpoint line {where}")
        try:
            document = loads_json(newest)
        except ValueError as exc:
            raise fail(f"its newest line is not JSON ({exc})") from None
    if isinstance(document, dict) and "audit_checkpoint" in document:
        document = document["audit_checkpoint"]  # an evidence export's manifest
        if document is None:
            raise fail("the export carries no audit checkpoint")
    try:
        return Checkpoint.from_json(document)
    except ValueError as exc:
        raise fail(f"not a valid checkpoint: {exc}") from None


def public_key_pem(key_dir: Path, key_file: Path | None = None) -> bytes:
    """The public key (PEM) checkpoints are checked with: ``key_file`` (a public key PEM,
    such as an evidence export's ``public_key.pem``, or a private key PEM) when given, else
    this installation's key in ``key_dir`` (never generated here). Raises
    :class:`CheckpointKeyError`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    source = key_file if key_file is not None else key_dir / KEY_FILE_NAME
    try:
        with source.open("rb") as handle:
            pem = handle.read(64 * 1024)
    except FileNotFoundError:
        if key_file is None:
            raise CheckpointKeyError(
                f"no installation key at {source}: name the public key with --key "
                "(an evidence export's public_key.pem holds it)"
            ) from None
        raise CheckpointKeyError(f"key file {source}: not found") from None
    except OSError as exc:
        raise CheckpointKeyError(f"key file {source}: cannot be read: {exc}") from None
    public: object
    try:
        public = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise CheckpointKeyError(f"key file {source}: not a PEM key") from None
        public = private.public_key() if isinstance(private, Ed25519PrivateKey) else private
    if not isinstance(public, Ed25519PublicKey):
        raise CheckpointKeyError(f"key file {source}: not an Ed25519 key")
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_checkpoint(
    store: Store, checkpoint: Checkpoint, public_pem: bytes, *, source: str
) -> CheckpointCheck:
    """Check ``checkpoint`` against the stored chain: made by the key ``public_pem``, its
    signature intact, and the stored entry at its seq carrying its head hash with every
    entry after it linking on to the head. The result's ``problem`` says what failed."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def result(problem: str | None) -> CheckpointCheck:
        return CheckpointCheck(
            source, checkpoint.seq, checkpoint.head_hash, checkpoint.at, checkpoint.key_id, problem
        )

    key_id = key_fingerprint(public_pem)
    if checkpoint.key_id != key_id:
        return result(
            f"the checkpoint was signed by another key ({checkpoint.key_id[:16]}…), not "
            f"{key_id[:16]}…: it proves nothing about this trail (name its key with --key "
            "if you trust it)"
        )
    public = serialization.load_pem_public_key(public_pem)
    assert isinstance(public, Ed25519PublicKey)  # public_key_pem only returns Ed25519 keys
    try:
        public.verify(base64.b64decode(checkpoint.signature), checkpoint.signed_part())
    except InvalidSignature:
        return result(
            "the checkpoint's signature does not match its content: it was altered or "
            "forged, and is refused"
        )
    return result(chain_extends(store, checkpoint.seq, checkpoint.head_hash).problem)


def verify_with_checkpoint(
    store: Store, checkpoint: Checkpoint | None, public_pem: bytes | None, *, source: str = ""
) -> AuditVerification:
    """:func:`~engine.store.audit.verify_audit`, and then, given a ``checkpoint`` (and the
    key to check it with), :func:`check_checkpoint`: a chain that verifies by itself but
    not against the checkpoint was rewritten as a whole (hashes recomputed), and the
    result says so. Caller's thread, not the GUI's."""
    result = verify_audit(store)
    if checkpoint is None or public_pem is None:
        return result
    check = check_checkpoint(store, checkpoint, public_pem, source=source)
    if check.problem is None:
        return AuditVerification(
            result.entries,
            result.head_seq,
            result.problems,
            result.seconds,
            result.anchor_seq,
            check,
        )
    reason = check.problem
    signed = "signature" not in reason and "another key" not in reason
    if signed and result.ok:
        reason = (
            f"the chain up to entry {checkpoint.seq} was rewritten: every stored hash is "
            "consistent, but it does not match the checkpoint signed at "
            f"{checkpoint.at.isoformat()} ({reason}). Someone with write access to the "
            "database recomputed the hashes; compare with a backup, syslog or an evidence "
            "export's checkpoint"
        )
    elif signed:
        reason = f"does not match the checkpoint signed at {checkpoint.at.isoformat()}: {reason}"
    check = CheckpointCheck(
        check.source, check.seq, check.head_hash, check.at, check.key_id, reason
    )
    return AuditVerification(
        result.entries,
        result.head_seq,
        (*result.problems, AuditProblem(checkpoint.seq, reason)),
        result.seconds,
        result.anchor_seq,
        check,
    )


def verify_against_newest_checkpoint(store: Store, key_dir: Path) -> AuditVerification:
    """What the console's audit pane shows: :func:`verify_with_checkpoint` against the
    newest checkpoint in the file beside the database, checked with the installation key
    in ``key_dir``; without a checkpoint file, the chain alone. A checkpoint file or key
    that cannot be used is one more problem (named), not an exception."""
    path = checkpoint_path(store.url)
    if path is None or not path.exists():
        return verify_audit(store)
    try:
        checkpoint = read_checkpoint_file(path)
        public_pem = public_key_pem(key_dir)
    except (CheckpointFileError, CheckpointKeyError) as exc:
        result = verify_audit(store)
        problem = AuditProblem(0, f"the signed checkpoint cannot be checked: {exc}")
        return AuditVerification(
            result.entries,
            result.head_seq,
            (*result.problems, problem),
            result.seconds,
            result.anchor_seq,
        )
    return verify_with_checkpoint(store, checkpoint, public_pem, source=str(path))


class AuditCheckpointer:
    """Signs the audit chain's head on its own ``audit-checkpoint`` thread: when
    ``every_entries`` entries were appended since the last checkpoint, or when any were and
    ``every_s`` seconds have passed (engine clock); and once more when stopped. It reads
    the head row every ``poll_s`` and never writes the database. :attr:`problem` is the
    last failure (None once a checkpoint is written again), for the engine's health."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        key_dir: Path,
        path: Path | None = None,
        every_entries: int = CHECKPOINT_EVERY_ENTRIES,
        every_s: float = CHECKPOINT_EVERY_S,
        poll_s: float = POLL_S,
    ) -> None:
        self.store = store
        self.clock = clock
        self.key_dir = key_dir
        self.path = checkpoint_path(store.url) if path is None else path
        self.every_entries = max(1, every_entries)
        self.every_s = every_s
        self.poll_s = poll_s
        self.problem: str | None = None
        self._last_seq = self._seq_in_file()
        self._last_at = clock.monotonic()
        self._stop = threading.Event()
        self._thread = SupervisedThread(
            self._run, name="audit-checkpoint", stop=self._stop, clock=self.clock
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then anchor whatever was appended since the last checkpoint."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.tick(force=True)

    def tick(self, *, force: bool = False) -> Checkpoint | None:
        """Make a checkpoint if one is due (``force``: whenever the chain grew); the one
        made, or None. Any thread; the checkpointer's own calls it every ``poll_s``."""
        try:
            head_seq = _head_seq(self.store)
        except Exception as exc:  # the store is down: its own health says so
            log.warning("audit checkpoint: cannot read the head: %s", exc)
            return None
        grown = head_seq - self._last_seq
        if grown == 0:
            return None
        due = self.clock.monotonic() - self._last_at >= self.every_s
        if grown > 0 and not (force or due or grown >= self.every_entries):
            return None
        reason = "engine stop" if force else "interval"
        written = write_checkpoint(
            self.store, key_dir=self.key_dir, at=self.clock.now(), reason=reason, path=self.path
        )
        # Retry at the next interval, not at every poll, whatever happened.
        self._last_at = self.clock.monotonic()
        self._last_seq = head_seq if written.checkpoint is None else written.checkpoint.seq
        self.problem = written.problem
        return written.checkpoint

    def _run(self) -> None:
        while not self.clock.wait(self._stop, self.poll_s):
            self.tick()

    def _seq_in_file(self) -> int:
        if self.path is None or not self.path.exists():
            return 0
        try:
            return read_checkpoint_file(self.path).seq
        except CheckpointFileError as exc:
            log.warning("%s", exc)
            return 0


# -------------------------------------------------------------------------------- internals


def _signed_bytes(seq: int, head_hash: str, at: datetime, key_id: str, reason: str) -> bytes:
    fields = {
        "format": FORMAT,
        "seq": seq,
        "head_hash": head_hash,
        "at": at.isoformat(),
        "key_id": key_id,
        "reason": reason,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _previous_checkpoint(path: Path | None, public_pem: bytes) -> Checkpoint | None:
    """The newest checkpoint in ``path`` made with this key and intact; None if there is
    none (no file yet, a file that cannot be read: logged, or another key's)."""
    if path is None or not path.exists():
        return None
    try:
        previous = read_checkpoint_file(path)
    except CheckpointFileError as exc:
        log.warning("%s; the next checkpoint is checked from the start of the chain", exc)
        return None
    if previous.key_id != key_fingerprint(public_pem):
        return None
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = serialization.load_pem_public_key(public_pem)
    assert isinstance(public, Ed25519PublicKey)
    try:
        public.verify(base64.b64decode(previous.signature), previous.signed_part())
    except InvalidSignature:
        log.error("%s: its newest checkpoint's signature does not match; ignored", path)
        return None
    return previous


def _head_seq(store: Store) -> int:
    from sqlalchemy import select

    from engine.store.audit_models import AuditHead

    with store.sessions() as session:
        seq = session.scalar(select(AuditHead.seq).where(AuditHead.id == 1))
    return int(seq or 0)


def _append_line(path: Path, line: str) -> None:
    """Append ``line`` and a newline in one write, flushed to disk (the folder too when
    the file is new, so the file survives a power cut)."""
    new = not path.exists()
    fd = open_private_file(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    if new and os.name == "posix":
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _shown(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}" if value is not None else "missing"
