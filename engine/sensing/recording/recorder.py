"""The sensing recording: a bounded ring of what a room's nodes sent, for exact replays.

An investigator can re-run the signal chain, the grid and the tracker over any recorded
period with other settings. For the replay to reproduce the live blobs bit for bit it needs,
in arrival order, every CSI frame as received with its arrival time, the times at which the
live service ran its sensing ticks, and the node events (online, offline, …) the service saw.
Those are the three record kinds (:class:`RecordKind`); times are engine monotonic seconds,
stored as exact float64.

Threads
-------
:class:`SensingRecorder` is fed from the sensing thread: an append packs records into an
in-memory buffer under a lock (about 0.6 µs per frame when a tick's frames are appended
together; no I/O). A full buffer (``block_bytes``, 64 KiB) or one that spans
``flush_interval_s`` (1 s) of record time is sealed and handed to the recorder's own
``sensing-recorder`` thread, which wraps it in zlib (stored by default, see
:data:`DEFAULT_COMPRESS_LEVEL`), writes it to the ring with one ``write`` (fsync at most once
per second of record time, and when a segment is closed) and deletes what the bounds push
out. The service's 10 Hz tick records
keep the time-based sealing going when no frame arrives, so at most about a second of data is
in memory. Disk trouble (full, permission, a file where the directory should be) never reaches
the caller: it is counted, kept as ``last_error``, logged, and the write is retried on the next
seal; pending data is capped (``max_pending_bytes``), past which the oldest pending blocks are
dropped and counted. None of it is silent: a recorder given a :class:`RecordingWatch` (the
engine's media watch) tells it, on the ``sensing-recorder`` thread, when a write fails, when
records are dropped and when a write works again, which the engine turns into
``recording.failed``/``recording.recovered`` events, an alert and the status bar's
``recording`` light. :class:`RecordingReader` reads the directory from any one thread.

Ring
----
One recording per room in its own directory (``<data>/sensing/<room_id>/``), as segment files
``seg-000001.wfr``, ``seg-000002.wfr``, … (the number grows by one per segment and orders the
ring; it may have gaps). A session is one recorder's lifetime: it always starts a new segment,
so a crashed session's truncated tail is never appended to. The active segment is closed and a
new one started when the next block would take it past ``max_bytes / 8`` (no larger minimum:
the division is what bounds the number of files, so a small ring just has small files).
Before each block is written, the oldest segments are deleted while the total would exceed
``max_bytes``, and while the oldest segment's newest record is older than ``max_age_s`` by the
wall clock; the active segment is never deleted, so the total on disk stays within
``max_bytes`` except when a single block is larger than that (it is then alone, which is
within ``max_bytes`` plus one block). One recorder per directory. A segment an evidence lock
covers is not deleted but moved into ``kept/`` (the recorder's ``keep`` says which), outside
the ring's bound; readers read ``kept/`` with the ring, and retention deletes a kept segment
once no active lock covers it.

On-disk format (version 1, little-endian)
-----------------------------------------
A segment file is a sequence of blocks, nothing else. A block is a 68-byte header followed by
its payload::

    offset  size  field
     0       4    magic b"WFRB"
     4       2    format version (uint16, 1)
     6       2    reserved, 0
     8       4    payload length, bytes (uint32, compressed)
    12       4    uncompressed payload length, bytes (uint32)
    16       4    CRC32 of the compressed payload (zlib.crc32)
    20       4    record count (uint32)
    24       8    earliest record time, engine monotonic s (float64)
    32       8    latest record time, engine monotonic s (float64)
    40      16    session id (16 random bytes; shown as 32 hex digits)
    56       8    wall anchor, s (float64): wall epoch s − monotonic s at session start
    64       4    CRC32 of header bytes 0–63
    68       …    payload: zlib stream (level 0 = stored, by default) of the packed records

The earliest and latest times are the first and last records' times whenever time does not go
back within a block, as it does not for one engine clock. A record's wall time is
``anchor + t``: the anchor maps a session's monotonic times (which restart with the process) to
epoch seconds, so a user can ask for a wall-clock (ISO) time range. The uncompressed payload is
the block's records back to back; a record is::

    offset  size  field
     0       1    kind (uint8): 1 FRAME, 2 TICK, 3 NODE_EVENT
     1       8    time, engine monotonic s (float64, exactly as appended)
     9       4    payload length n, bytes (uint32)
    13       n    FRAME: the raw CSI frame as received (24 + 2·n_sub bytes,
                  :func:`engine.sensing.nodes.protocol.parse_csi_frame`); TICK: nothing (n = 0);
                  NODE_EVENT: UTF-8 JSON ``[kind, mac, detail]`` (str, str, object)

A 152-byte frame is 165 bytes packed; the simulator's realistic int8 CSI (noise in every I/Q
byte) takes about 101–107 bytes on disk per frame, ticks and headers included (see the tests):
some 0.5 MB/s for a room at 5,000 frames/s, so the default 512 MiB ring holds about 17 minutes
of a busy room and much longer of a quiet one.

Damage
------
Reading never raises for damaged data. A bad magic or header CRC, an unknown version, a block
cut short by the end of its file, times that are not finite or whose wall time is implausible
(before 2000, or more than a day after the reader's wall clock: :mod:`engine.inbound`), a
payload CRC mismatch, a zlib error, a payload that inflates past its header's uncompressed
length (inflating stops there: a 2 MB block of zlib zeros never becomes gigabytes), or a
malformed record (a node event nested more than 32 levels deep among them) stops
:meth:`RecordingReader.records` at the damage, and :attr:`RecordingReader.damage` says
where (segment, byte offset of the block, wall time of the last good record) and why, so a
replay can run up to the damage and say where it stopped. Damage that cannot hold records of
the requested range (a truncated tail whose newer records lie after the range, or which ends
before a later segment that begins before the range) does not stop a ranged read.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import math
import os
import struct
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, BinaryIO, Final, Protocol

from engine.clock import Clock
from engine.inbound import JsonInputError, implausible_epoch_s, loads_json
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)

THREAD_NAME: Final = "sensing-recorder"

# --- format -----------------------------------------------------------------------------------

BLOCK_MAGIC: Final = b"WFRB"
FORMAT_VERSION: Final = 1
SEGMENT_PREFIX: Final = "seg-"
SEGMENT_SUFFIX: Final = ".wfr"
KEPT_DIR: Final = "kept"  # segments an evidence lock keeps, moved out of the ring's bound
# Blocks are stored, not compressed, by default: zlib's fastest level costs about 4 µs per
# 152-byte CSI frame (more than the engine's whole ingest of a frame takes) and saves only a
# third (CSI is mostly noise); level 0 keeps the same container at 0.1 µs. A recorder may ask
# for a level (1–9) when disk matters more than CPU; readers take either.
DEFAULT_COMPRESS_LEVEL: Final = 0
# How much of a recording before the asked start a replay reads to warm its signal chain up
# (and an evidence export of a room includes for that reason). Here, not in the replay module:
# that imports the sensing service and SciPy, ~0.6 s of CPU at `watchfloor verify`'s start.
DEFAULT_WARMUP_S: Final = 60.0
_HEADER_BODY = struct.Struct("<4sHHIIIIdd16sd")
_HEADER_CRC = struct.Struct("<I")
BLOCK_HEADER_BYTES: Final = _HEADER_BODY.size + _HEADER_CRC.size  # 68
_RECORD_HEAD = struct.Struct("<BdI")
RECORD_HEADER_BYTES: Final = _RECORD_HEAD.size  # 13
assert BLOCK_HEADER_BYTES == 68 and RECORD_HEADER_BYTES == 13

# --- bounds and pacing ------------------------------------------------------------------------

MiB: Final = 1024 * 1024
DEFAULT_MAX_BYTES: Final = 512 * MiB  # whole ring, bytes: ~17 min at 5,000 frames/s
DEFAULT_MAX_AGE_S: Final = 7 * 24 * 3600.0  # one week, seconds of wall clock
SEGMENTS_PER_RING: Final = 8  # segment size = max_bytes / 8: deleting one frees 1/8
BLOCK_BYTES: Final = 64 * 1024  # packed records per block before it is sealed, bytes
FLUSH_INTERVAL_S: Final = 1.0  # seal a block spanning this much record time, seconds
FSYNC_INTERVAL_S: Final = 1.0  # fsync at most once per this much record time, seconds
MAX_PENDING_BYTES: Final = 32 * MiB  # sealed but unwritten data kept while the disk fails
MAX_RECORD_BYTES: Final = 1 * MiB  # one record's payload; CSI frames are at most 280 bytes
MAX_BLOCK_BYTES_LIMIT: Final = 16 * MiB  # largest configurable block_bytes
_MAX_UNCOMPRESSED: Final = 64 * MiB  # reader's sanity limit (block_bytes + one record)


class RecordKind(enum.IntEnum):
    """What a record holds (its kind byte on disk)."""

    FRAME = 1  # a raw CSI frame as received, at its arrival time
    TICK = 2  # the live service ran a sensing tick at this time
    NODE_EVENT = 3  # a node event (online, offline, …) with its MAC and detail


@dataclass(frozen=True, slots=True)
class RecordedItem:
    """One record read back. ``t_s`` is the engine monotonic time exactly as appended,
    ``wall_s`` its wall time (epoch seconds, ``anchor + t_s``), ``session_id`` the recorder
    lifetime it belongs to (32 hex digits). ``frame`` is the raw CSI frame for FRAME records;
    ``event_kind``, ``mac`` and ``detail`` are set for NODE_EVENT records; TICK has neither."""

    kind: RecordKind
    t_s: float
    wall_s: float
    session_id: str
    frame: bytes | None = None
    event_kind: str | None = None
    mac: str | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RecordingDamage:
    """Where a read stopped: ``segment`` (file name, e.g. ``seg-000004.wfr``), ``offset``
    (byte offset in it of the damaged block), ``last_good_wall_s`` (wall time, epoch seconds,
    of the newest good record before the damage; None when there was none) and ``reason``, a
    sentence such as ``"CRC mismatch in block at byte 81920 of seg-000004.wfr"``."""

    segment: str
    offset: int
    last_good_wall_s: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class RecordedSession:
    """One recorder lifetime found on disk: its id, wall anchor (epoch s − monotonic s), the
    wall times (epoch seconds) and monotonic times (s) of its earliest and latest records,
    and how many records and blocks of it are readable (headers before any damage)."""

    session_id: str
    wall_anchor_s: float
    first_wall_s: float
    last_wall_s: float
    first_t_s: float
    last_t_s: float
    records: int
    blocks: int


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """A recorder's figures. On disk (the whole ring, earlier sessions included):
    ``bytes_on_disk``, ``segments``, ``blocks``, ``records``, and the wall times (epoch
    seconds) of the ``oldest`` and ``newest`` records (None when empty). This session:
    ``appended`` records, ``dropped`` records and ``dropped_blocks`` lost (pending data past
    the cap, unwritable at close, or appended after close), ``write_errors`` and the
    ``last_error`` (None once a write succeeds again), ``pending_bytes`` not yet on disk."""

    bytes_on_disk: int
    segments: int
    blocks: int
    records: int
    oldest_wall_s: float | None
    newest_wall_s: float | None
    appended: int
    dropped: int
    dropped_blocks: int
    write_errors: int
    last_error: str | None
    pending_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-able values, for reports."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class RecordingWatch(Protocol):
    """Who hears how a :class:`SensingRecorder`'s writes end (the engine's media watch, for
    one room). Called on the ``sensing-recorder`` thread, outside the recorder's lock."""

    def failed(self, error: BaseException) -> None:
        """A write failed with ``error``; its data is kept to be retried."""

    def lost(self, records: int, blocks: int, *, closing: bool = False) -> None:
        """``records`` in ``blocks`` were dropped and will never be written (``closing``: at
        the recorder's close)."""

    def written(self) -> None:
        """A write succeeded after failures."""


# --- block headers and segment scans (shared by the recorder and the reader) ------------------


@dataclass(frozen=True, slots=True)
class _BlockHeader:
    offset: int  # of the header in its segment, bytes
    payload_bytes: int
    uncompressed_bytes: int
    payload_crc: int
    records: int
    t_first_s: float
    t_last_s: float
    session: bytes
    wall_anchor_s: float

    @property
    def first_wall_s(self) -> float:
        return self.wall_anchor_s + self.t_first_s

    @property
    def last_wall_s(self) -> float:
        return self.wall_anchor_s + self.t_last_s


@dataclass(slots=True)
class _SegmentScan:
    name: str
    path: Path
    size: int
    blocks: list[_BlockHeader] = field(default_factory=list)
    damage: tuple[int, str] | None = None  # (offset, reason) where the headers stop

    @property
    def records(self) -> int:
        return sum(b.records for b in self.blocks)


def _pack_header(
    *,
    payload: bytes,
    uncompressed_bytes: int,
    records: int,
    t_first_s: float,
    t_last_s: float,
    session: bytes,
    wall_anchor_s: float,
) -> bytes:
    body = _HEADER_BODY.pack(
        BLOCK_MAGIC,
        FORMAT_VERSION,
        0,
        len(payload),
        uncompressed_bytes,
        zlib.crc32(payload),
        records,
        t_first_s,
        t_last_s,
        session,
        wall_anchor_s,
    )
    return body + _HEADER_CRC.pack(zlib.crc32(body))


def _epoch_seconds(clock: Clock) -> Callable[[], float]:
    def read() -> float:
        return clock.now().timestamp()

    return read


def segment_name(index: int) -> str:
    """The file name of segment ``index`` (``seg-000123.wfr``)."""
    return f"{SEGMENT_PREFIX}{index:06d}{SEGMENT_SUFFIX}"


def _segment_index(name: str) -> int | None:
    if not (name.startswith(SEGMENT_PREFIX) and name.endswith(SEGMENT_SUFFIX)):
        return None
    digits = name[len(SEGMENT_PREFIX) : -len(SEGMENT_SUFFIX)]
    return int(digits) if digits.isdigit() else None


def _list_segments(directory: Path, *, with_kept: bool = False) -> list[tuple[int, Path]]:
    """Segment files in ``directory`` in ring order (oldest first); ``with_kept``: also
    those moved out of the ring into ``kept/`` (listed after the ring, so one moved in
    between is seen at least once; an index may then appear twice). Raises OSError."""
    found = []
    folders = [directory, directory / KEPT_DIR] if with_kept else [directory]
    for folder in folders:
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    index = _segment_index(entry.name)
                    if index is not None and entry.is_file():
                        found.append((index, Path(entry.path)))
        except FileNotFoundError:
            if folder == directory:
                raise
    found.sort(key=lambda item: item[0])
    return found


@dataclass(frozen=True, slots=True)
class KeptSegment:
    """A segment an evidence lock took out of the ring (in ``kept/``): its file, size
    (bytes) and recorded span (wall epoch seconds; None when no block is readable)."""

    path: Path
    size: int
    first_wall_s: float | None
    last_wall_s: float | None


def kept_segments(
    directory: Path, *, wall_clock: Callable[[], float] = time.time
) -> list[KeptSegment]:
    """The segments in recording ``directory``'s ``kept/``, oldest first, from block headers
    only (none when there is no such folder); ``wall_clock`` (epoch seconds) judges which
    block times are plausible. Raises OSError for an unreadable folder."""
    try:
        listed = _list_segments(directory / KEPT_DIR)
    except FileNotFoundError:
        return []
    found = []
    for _, path in listed:
        try:
            scan = _scan_segment(path, wall_clock())
        except FileNotFoundError:
            continue
        found.append(
            KeptSegment(
                path,
                scan.size,
                min((b.first_wall_s for b in scan.blocks), default=None),
                max((b.last_wall_s for b in scan.blocks), default=None),
            )
        )
    return found


def _open_segment(path: Path) -> BinaryIO:
    """Open a segment scanned at ``path`` for reading; from ``kept/`` when an evidence lock
    moved it out of the ring since (same bytes). Raises OSError (FileNotFoundError: the
    ring deleted it)."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        if path.parent.name == KEPT_DIR:
            raise
        return open(path.parent / KEPT_DIR / path.name, "rb")


@dataclass(frozen=True, slots=True)
class ExcerptSegment:
    """The blocks of one segment that an excerpt of a recording takes: the segment's file
    ``name`` (kept in the excerpt, so the ring order survives), the ``path`` it was read
    from, and the byte ``ranges`` (offset, length) of its blocks in file order. A segment is
    a sequence of self-contained blocks and nothing else, so these ranges written back to
    back are a valid segment that :class:`RecordingReader` reads."""

    name: str
    path: Path
    ranges: tuple[tuple[int, int], ...]

    @property
    def size(self) -> int:
        """The excerpt's bytes."""
        return sum(length for _, length in self.ranges)

    def chunks(self) -> Iterator[bytes]:
        """The blocks' bytes, one block at a time; from ``kept/`` when the ring moved the
        segment there since. Raises OSError (FileNotFoundError: the ring deleted it)."""
        with _open_segment(self.path) as handle:
            for offset, length in self.ranges:
                handle.seek(offset)
                block = handle.read(length)
                if len(block) != length:
                    raise OSError(f"{self.name} is shorter than when it was scanned")
                yield block


def _scan_segment(path: Path, now_s: float) -> _SegmentScan:
    """Read every block header of one segment (no payload). The scan stops at the first
    damaged header or a block cut short by the end of the file and notes where; ``now_s``
    (wall epoch seconds) judges whether a block's times are plausible. Raises OSError when
    the file cannot be opened or read."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        scan = _SegmentScan(path.name, path, size)
        offset = 0
        while offset < size:
            f.seek(offset)
            raw = f.read(BLOCK_HEADER_BYTES)
            header, problem = _parse_header(raw, offset, size, now_s)
            if header is None:
                scan.damage = (offset, f"{problem} in block at byte {offset} of {path.name}")
                break
            scan.blocks.append(header)
            offset += BLOCK_HEADER_BYTES + header.payload_bytes
    return scan


def _parse_header(
    raw: bytes, offset: int, file_size: int, now_s: float
) -> tuple[_BlockHeader | None, str]:
    if len(raw) < BLOCK_HEADER_BYTES:
        return None, f"truncated header ({len(raw)} of {BLOCK_HEADER_BYTES} bytes)"
    fields = _HEADER_BODY.unpack_from(raw)
    magic, version, _reserved, payload_bytes, uncompressed, crc, records = fields[:7]
    t_first, t_last, session, anchor = fields[7:]
    if magic != BLOCK_MAGIC:
        return None, "bad magic"
    (header_crc,) = _HEADER_CRC.unpack_from(raw, _HEADER_BODY.size)
    if header_crc != zlib.crc32(raw[: _HEADER_BODY.size]):
        return None, "header CRC mismatch"
    if version != FORMAT_VERSION:
        return None, f"unsupported format version {version}"
    if uncompressed > _MAX_UNCOMPRESSED:
        return None, f"implausible uncompressed length {uncompressed}"
    left = file_size - offset - BLOCK_HEADER_BYTES
    if payload_bytes > left:
        return None, f"truncated block (payload of {payload_bytes} bytes, {left} left)"
    if not all(math.isfinite(v) for v in (t_first, t_last, anchor)) or t_first > t_last:
        return None, f"implausible record times ({t_first!r} to {t_last!r}, anchor {anchor!r})"
    for wall_s in (anchor + t_first, anchor + t_last):
        problem = implausible_epoch_s(wall_s, now_s)
        if problem is not None:
            return None, f"implausible wall time ({problem})"
    header = _BlockHeader(
        offset, payload_bytes, uncompressed, crc, records, t_first, t_last, session, anchor
    )
    return header, ""


# --- the recorder -----------------------------------------------------------------------------


@dataclass(slots=True)
class _SealedBlock:
    """Packed records waiting for the worker; ``data`` is compressed once the worker has it."""

    seq: int
    data: bytes | bytearray
    records: int
    t_first_s: float
    t_last_s: float


@dataclass(slots=True)
class _SegmentState:
    """The recorder's knowledge of one segment on disk (worker thread only)."""

    index: int
    path: Path
    size: int
    blocks: int
    records: int
    first_wall_s: float | None  # of its earliest readable record
    last_wall_s: float | None  # of its newest readable record (or its mtime when unreadable)


class SensingRecorder:
    """Records one room's frames, sensing ticks and node events into a bounded ring in
    ``directory`` (format and design in the module docstring).

    ``max_bytes``: the ring's total size on disk, bytes. ``max_age_s``: segments whose newest
    record is older than this by ``wall_clock`` (epoch seconds) are deleted. ``wall_clock``
    is read on the worker thread. ``monotonic_anchor``: wall epoch seconds − engine
    monotonic seconds at session start (None: ``wall_clock() − time.monotonic()``, right for
    the real engine clock). ``clock``: the engine's clock instead, for both (its wall time
    as epoch seconds, and its own anchor unless ``monotonic_anchor`` is given), so a
    simulated clock stamps the recording. ``flush_interval_s``: a block is sealed once its
    records span this much record time (seconds); ``block_bytes``: or once it holds this
    many bytes of packed records. ``max_pending_bytes``: data sealed but not yet on disk
    kept while writes fail.
    ``keep(first_wall_s, last_wall_s)``: asked on the worker thread before the ring deletes a
    segment (for size or age) with that recorded span; True (an evidence lock covers it)
    moves the segment into ``kept/`` instead, outside the ring's bound, where readers still
    find it and retention deletes it once no lock covers it. A ``keep`` that raises keeps
    the segment (evidence is not deleted on a guess) and is noted as an error. ``watch``
    hears when writes fail, when records are dropped and when writes work again.

    The constructor does no I/O and starts the ``sensing-recorder`` thread; the directory is
    created and scanned there. Appends may come from any thread (they take a short lock) and
    never raise for disk trouble; :meth:`close` writes what is buffered and joins the thread.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        wall_clock: Callable[[], float] = time.time,
        monotonic_anchor: float | None = None,
        clock: Clock | None = None,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        block_bytes: int = BLOCK_BYTES,
        compress_level: int = DEFAULT_COMPRESS_LEVEL,
        max_pending_bytes: int = MAX_PENDING_BYTES,
        keep: Callable[[float, float], bool] | None = None,
        watch: RecordingWatch | None = None,
    ) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        if not max_age_s > 0:
            raise ValueError(f"max_age_s must be positive, got {max_age_s}")
        if not (math.isfinite(flush_interval_s) and flush_interval_s > 0):
            raise ValueError(f"flush_interval_s must be positive, got {flush_interval_s}")
        if not 1 <= block_bytes <= MAX_BLOCK_BYTES_LIMIT:
            raise ValueError(f"block_bytes must be 1…{MAX_BLOCK_BYTES_LIMIT}, got {block_bytes}")
        if max_pending_bytes < block_bytes:
            raise ValueError("max_pending_bytes must be at least block_bytes")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.max_age_s = float(max_age_s)
        self.segment_bytes = max(max_bytes // SEGMENTS_PER_RING, 1)
        self.flush_interval_s = float(flush_interval_s)
        self.block_bytes = block_bytes
        if not 0 <= compress_level <= 9:
            raise ValueError(f"compress_level must be 0-9, got {compress_level!r}")
        self.compress_level = compress_level
        self.max_pending_bytes = max_pending_bytes
        if clock is not None:  # the engine's clock, a simulated one in tests
            wall_clock = _epoch_seconds(clock)
            if monotonic_anchor is None:
                monotonic_anchor = clock.now().timestamp() - clock.monotonic()
        self._wall_clock = wall_clock
        self._keep = keep
        self._watch = watch
        anchor = wall_clock() - time.monotonic() if monotonic_anchor is None else monotonic_anchor
        self.wall_anchor_s = float(anchor)
        self.session = uuid.uuid4().bytes
        self.session_id = self.session.hex()

        # Shared between the appending threads and the worker, under _lock.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._buffer = bytearray()
        self._buffer_records = 0
        self._buffer_first_s = 0.0
        self._t_min = math.inf
        self._t_max = -math.inf
        self._sealed: deque[_SealedBlock] = deque()
        self._sealed_bytes = 0
        self._unwritten_bytes = 0
        self._next_seq = 1
        self._done_seq = 0  # every block up to this one has been tried (written or kept)
        self._retry = False
        self._closing = False
        self._appended = 0
        self._dropped = 0
        self._dropped_blocks = 0
        self._write_errors = 0
        self._last_error: str | None = None
        self._disk = _DiskFigures()

        # Worker thread only.
        self._ready = False
        self._segments: list[_SegmentState] = []
        self._next_index = 1
        self._active: BinaryIO | None = None
        self._active_state: _SegmentState | None = None
        self._unwritten: deque[_SealedBlock] = deque()
        self._last_fsync_t = -math.inf
        self._watch_troubled = False  # the watch heard of a failure or loss, not of a write since
        self._told_dropped = (0, 0)  # records and blocks dropped that the watch has heard of

        self._thread = SupervisedThread(self._run, name=THREAD_NAME)
        self._thread.start()

    # --- appends (any thread, usually the sensing thread) ------------------------------------

    def append_frame(self, t_s: float, raw: bytes) -> None:
        """Record a CSI frame (the raw message as received) that arrived at ``t_s``, engine
        monotonic seconds. Cheap: packs into a buffer. ValueError for a non-finite time or a
        frame over :data:`MAX_RECORD_BYTES`."""
        self._append(RecordKind.FRAME, t_s, raw)

    def append_frames(self, frames: Sequence[tuple[float, bytes]]) -> None:
        """Record several frames at once, ``(arrival t_s, raw)`` in arrival order (what one
        sensing tick took): one lock for all of them."""
        head = _RECORD_HEAD.pack
        kind = RecordKind.FRAME
        with self._lock:
            for t_s, raw in frames:
                if not math.isfinite(t_s) or len(raw) > MAX_RECORD_BYTES:
                    raise ValueError(f"frame record at {t_s!r} of {len(raw)} bytes refused")
                if self._closing:
                    self._dropped += 1
                    continue
                buffer = self._buffer
                if not self._buffer_records:
                    self._buffer_first_s = t_s
                buffer += head(kind, t_s, len(raw))
                buffer += raw
                self._buffer_records += 1
                self._appended += 1
                if t_s < self._t_min:
                    self._t_min = t_s
                if t_s > self._t_max:
                    self._t_max = t_s
                if (
                    len(buffer) >= self.block_bytes
                    or t_s - self._buffer_first_s >= self.flush_interval_s
                ):
                    self._seal_locked()

    def append_tick(self, t_s: float) -> None:
        """Record that the live service ran a sensing tick at ``t_s`` (engine monotonic s)."""
        self._append(RecordKind.TICK, t_s, b"")

    def append_node_event(self, t_s: float, kind: str, mac: str, detail: Mapping[str, Any]) -> None:
        """Record a node event (``kind`` such as ``"node_online"``, the node's ``mac`` and a
        JSON-able ``detail``) at ``t_s`` (engine monotonic s). TypeError when ``detail`` is
        not JSON-able, ValueError when its JSON is over :data:`MAX_RECORD_BYTES`."""
        payload = json.dumps(
            [kind, mac, dict(detail)], separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        self._append(RecordKind.NODE_EVENT, t_s, payload)

    def _append(self, kind: int, t_s: float, payload: bytes) -> None:
        if not math.isfinite(t_s):
            raise ValueError(f"record time must be finite, got {t_s!r}")
        if len(payload) > MAX_RECORD_BYTES:
            raise ValueError(f"record of {len(payload)} bytes, more than {MAX_RECORD_BYTES}")
        with self._lock:
            if self._closing:
                self._dropped += 1
                return
            buffer = self._buffer
            if not self._buffer_records:
                self._buffer_first_s = t_s
            buffer += _RECORD_HEAD.pack(kind, t_s, len(payload))
            buffer += payload
            self._buffer_records += 1
            self._appended += 1
            if t_s < self._t_min:
                self._t_min = t_s
            if t_s > self._t_max:
                self._t_max = t_s
            if (
                len(buffer) >= self.block_bytes
                or t_s - self._buffer_first_s >= self.flush_interval_s
            ):
                self._seal_locked()

    def _seal_locked(self) -> None:
        """Hand the buffer to the worker (caller holds the lock); drop the oldest pending
        blocks when over the cap."""
        if not self._buffer_records:
            return
        block = _SealedBlock(
            self._next_seq, self._buffer, self._buffer_records, self._t_min, self._t_max
        )
        self._next_seq += 1
        self._buffer = bytearray()
        self._buffer_records = 0
        self._t_min, self._t_max = math.inf, -math.inf
        self._sealed.append(block)
        self._sealed_bytes += len(block.data)
        while (
            self._sealed_bytes + self._unwritten_bytes > self.max_pending_bytes
            and len(self._sealed) > 1
        ):
            lost = self._sealed.popleft()
            self._sealed_bytes -= len(lost.data)
            self._dropped += lost.records
            self._dropped_blocks += 1
        self._wake.notify_all()

    # --- control (any thread but the worker) ------------------------------------------------

    def flush(self) -> None:
        """Seal what is buffered and wait until the worker has tried to write everything
        sealed so far (written, or kept for a retry when the disk fails). For a reader that
        wants the newest data; not for the sensing thread, as it waits on the disk."""
        with self._wake:
            self._seal_locked()
            target = self._next_seq - 1
            self._retry = True
            self._wake.notify_all()
            while self._done_seq < target and self._thread.is_alive():
                self._wake.wait()

    def close(self) -> None:
        """Write what is buffered, close the active segment (fsync) and join the
        ``sensing-recorder`` thread. Data that still cannot be written is counted as dropped.
        Later appends are dropped and counted. Idempotent."""
        with self._wake:
            self._seal_locked()
            self._closing = True
            self._wake.notify_all()
        self._thread.join()

    def stats(self) -> RecorderStats:
        """The recorder's figures now (:class:`RecorderStats`). Any thread."""
        with self._lock:
            disk = self._disk
            pending = self._sealed_bytes + self._unwritten_bytes + len(self._buffer)
            return RecorderStats(
                bytes_on_disk=disk.bytes,
                segments=disk.segments,
                blocks=disk.blocks,
                records=disk.records,
                oldest_wall_s=disk.oldest_wall_s,
                newest_wall_s=disk.newest_wall_s,
                appended=self._appended,
                dropped=self._dropped,
                dropped_blocks=self._dropped_blocks,
                write_errors=self._write_errors,
                last_error=self._last_error,
                pending_bytes=pending,
            )

    # --- the sensing-recorder thread ---------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._wake:
                while not (self._sealed or self._closing or self._retry):
                    self._wake.wait()
                taken = list(self._sealed)
                self._sealed.clear()
                self._sealed_bytes = 0
                self._retry = False
                closing = self._closing
            try:
                self._process(taken)
            except Exception as error:  # a bug must not end recording; it is logged
                log.exception("sensing recorder %s: unexpected error", self.directory)
                self._note_error(f"unexpected error: {error!r}")
            with self._wake:
                if taken:
                    self._done_seq = max(self._done_seq, taken[-1].seq)
                self._wake.notify_all()
                if closing and not self._sealed:
                    break
        self._finish()

    def _process(self, taken: list[_SealedBlock]) -> None:
        for block in taken:
            raw = block.data
            payload = zlib.compress(raw, self.compress_level)
            header = _pack_header(
                payload=payload,
                uncompressed_bytes=len(raw),
                records=block.records,
                t_first_s=block.t_first_s,
                t_last_s=block.t_last_s,
                session=self.session,
                wall_anchor_s=self.wall_anchor_s,
            )
            block.data = header + payload
            self._unwritten.append(block)
        with self._lock:
            self._unwritten_bytes = sum(len(b.data) for b in self._unwritten)
            while (
                self._unwritten_bytes + self._sealed_bytes > self.max_pending_bytes
                and len(self._unwritten) > 1
            ):
                lost = self._unwritten.popleft()
                self._unwritten_bytes -= len(lost.data)
                self._dropped += lost.records
                self._dropped_blocks += 1
        while self._unwritten:
            block = self._unwritten[0]
            try:
                self._write_block(block)
            except OSError as error:
                self._note_error(f"cannot write to {self.directory}: {error}")
                if self._watch is not None:
                    self._watch.failed(error)
                    self._watch_troubled = True
                self._tell_dropped()  # after the failure: lost to it
                return  # kept; tried again on the next seal
            self._unwritten.popleft()
            with self._lock:
                self._unwritten_bytes -= len(block.data)
                if self._last_error is not None:
                    log.info("sensing recorder %s: writing again", self.directory)
                self._last_error = None
            if self._watch_troubled:
                self._tell_dropped()  # lost while it failed, before it recovered
                self._watch_troubled = False
                if self._watch is not None:
                    self._watch.written()
        self._tell_dropped()

    def _tell_dropped(self, *, closing: bool = False) -> None:
        """Tell the watch of records dropped since it last heard (worker thread); it then
        hears of the next write that succeeds."""
        with self._lock:
            dropped = (self._dropped, self._dropped_blocks)
        records, blocks = dropped[0] - self._told_dropped[0], dropped[1] - self._told_dropped[1]
        self._told_dropped = dropped
        if (records or blocks) and self._watch is not None:
            self._watch.lost(records, blocks, closing=closing)
            self._watch_troubled = True

    def _note_error(self, message: str) -> None:
        with self._lock:
            self._write_errors += 1
            repeated = message == self._last_error
            self._last_error = message
        if not repeated:  # one line per distinct failure, not one per retry
            log.warning("sensing recorder: %s", message)

    def _write_block(self, block: _SealedBlock) -> None:
        """Write one compressed block into the ring, rolling and deleting segments as the
        bounds require. Raises OSError; on failure the segment is cut back to its last good
        block (or abandoned when even that fails)."""
        self._ensure_ready()
        data = block.data
        state = self._active_state
        if state is not None and state.size and state.size + len(data) > self.segment_bytes:
            self._close_active()
        self._delete_expired()
        self._make_room(len(data), keep=self._active_state)
        if self._active is None:
            self._open_segment()
        active, state = self._active, self._active_state
        assert active is not None and state is not None
        good_size = state.size
        try:
            view = memoryview(data)
            while view:  # one write per block; a loop only for a short write
                written = active.write(view)
                if not written:
                    raise OSError(f"short write to {state.path.name}")
                view = view[written:]
        except OSError:
            self._cut_back(good_size)
            raise
        state.size += len(data)
        state.blocks += 1
        state.records += block.records
        first = self.wall_anchor_s + block.t_first_s
        last = self.wall_anchor_s + block.t_last_s
        state.first_wall_s = first if state.first_wall_s is None else min(state.first_wall_s, first)
        state.last_wall_s = last if state.last_wall_s is None else max(state.last_wall_s, last)
        if block.t_last_s - self._last_fsync_t >= FSYNC_INTERVAL_S:
            self._last_fsync_t = block.t_last_s
            try:
                os.fsync(active.fileno())
            except OSError as error:  # the block is written: never write it twice
                self._note_error(f"cannot fsync {state.path.name}: {error}")
        self._publish_disk()

    def _ensure_ready(self) -> None:
        """Create the directory and learn the ring already in it (once). Raises OSError."""
        if self._ready:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        segments = []
        for index, path in _list_segments(self.directory):
            try:
                scan = _scan_segment(path, self._wall_clock())
            except FileNotFoundError:
                continue
            first = min((b.first_wall_s for b in scan.blocks), default=None)
            last = max((b.last_wall_s for b in scan.blocks), default=None)
            if last is None and scan.size:
                last = path.stat().st_mtime  # unreadable from the start: age it by its mtime
            segments.append(
                _SegmentState(index, path, scan.size, len(scan.blocks), scan.records, first, last)
            )
        self._segments = segments
        self._next_index = segments[-1].index + 1 if segments else 1
        self._ready = True
        self._publish_disk()

    def _open_segment(self) -> None:
        index = self._next_index
        self._next_index += 1  # even on failure: never reuse a name that may exist
        path = self.directory / segment_name(index)
        self._active = open(path, "xb", buffering=0)  # noqa: SIM115 (kept open across blocks)
        self._active_state = _SegmentState(index, path, 0, 0, 0, None, None)
        self._segments.append(self._active_state)
        self._publish_disk()

    def _close_active(self) -> None:
        active, state = self._active, self._active_state
        self._active, self._active_state = None, None
        if active is None:
            return
        try:
            os.fsync(active.fileno())
        except OSError as error:
            self._note_error(f"cannot fsync {active.name!r}: {error}")
        finally:
            active.close()
        if state is not None and state.size == 0:
            self._delete_segment(state)

    def _cut_back(self, good_size: int) -> None:
        """After a failed write: truncate the active segment to its last good block so no
        partial block stays mid-segment; if that fails too, abandon the segment."""
        active, state = self._active, self._active_state
        assert active is not None and state is not None
        try:
            active.truncate(good_size)
            active.seek(good_size)
        except OSError:
            self._active, self._active_state = None, None
            with contextlib.suppress(OSError):
                active.close()
            try:
                state.size = state.path.stat().st_size
            except OSError:
                state.size = good_size
            self._publish_disk()

    def _delete_expired(self) -> None:
        now = self._wall_clock()
        while self._segments and self._segments[0] is not self._active_state:
            oldest = self._segments[0]
            newest = oldest.last_wall_s
            if oldest.size and (newest is None or now - newest <= self.max_age_s):
                break
            self._retire_segment(oldest)

    def _make_room(self, incoming: int, keep: _SegmentState | None) -> None:
        total = sum(s.size for s in self._segments)
        while total + incoming > self.max_bytes:
            victim = next((s for s in self._segments if s is not keep), None)
            if victim is None:
                break  # only the active segment: the block is larger than the ring allows
            self._retire_segment(victim)
            total -= victim.size

    def _retire_segment(self, state: _SegmentState) -> None:
        """Take ``state`` out of the ring: into ``kept/`` when ``keep`` says a lock covers
        it, else deleted. A segment that cannot be moved stays where it is, out of this
        session's ring (the next session's scan finds it and tries again)."""
        first, last = state.first_wall_s, state.last_wall_s
        if self._keep is None or not state.blocks or first is None or last is None:
            self._delete_segment(state)
            return
        try:
            kept = self._keep(first, last)
        except Exception as error:  # the store is down, say: keep rather than guess
            self._note_error(f"cannot tell whether {state.path.name} is locked evidence: {error}")
            kept = True
        if not kept:
            self._delete_segment(state)
            return
        try:
            (self.directory / KEPT_DIR).mkdir(exist_ok=True)
            os.replace(state.path, self.directory / KEPT_DIR / state.path.name)
        except OSError as error:
            self._note_error(f"cannot move locked {state.path.name} into {KEPT_DIR}/: {error}")
        else:
            log.info("sensing recording: %s kept for an evidence lock", state.path.name)
        self._segments.remove(state)
        self._publish_disk()

    def _delete_segment(self, state: _SegmentState) -> None:
        state.path.unlink(missing_ok=True)  # gone already (by hand): forgotten all the same
        self._segments.remove(state)
        self._publish_disk()

    def _publish_disk(self) -> None:
        segments = self._segments
        figures = _DiskFigures(
            bytes=sum(s.size for s in segments),
            segments=len(segments),
            blocks=sum(s.blocks for s in segments),
            records=sum(s.records for s in segments),
            oldest_wall_s=min(
                (s.first_wall_s for s in segments if s.first_wall_s is not None), default=None
            ),
            newest_wall_s=max(
                (s.last_wall_s for s in segments if s.blocks and s.last_wall_s is not None),
                default=None,
            ),
        )
        with self._lock:
            self._disk = figures

    def _finish(self) -> None:
        """Worker exit: what could not be written is lost (counted); close the segment."""
        lost = list(self._unwritten)
        self._unwritten.clear()
        with self._lock:
            self._unwritten_bytes = 0
            self._dropped += sum(b.records for b in lost)
            self._dropped_blocks += len(lost)
        if lost:
            log.warning(
                "sensing recorder %s: %d blocks could not be written before close",
                self.directory,
                len(lost),
            )
        self._tell_dropped(closing=True)
        try:
            self._close_active()
        except OSError as error:
            self._note_error(f"cannot close the segment in {self.directory}: {error}")


@dataclass(frozen=True, slots=True)
class _DiskFigures:
    bytes: int = 0
    segments: int = 0
    blocks: int = 0
    records: int = 0
    oldest_wall_s: float | None = None
    newest_wall_s: float | None = None


# --- the reader -------------------------------------------------------------------------------


class RecordingReader:
    """Reads one room's recording in ``directory`` (written by :class:`SensingRecorder`).

    Each call looks at the directory afresh, so a live recording can be read while it grows
    (call the recorder's ``flush`` first for the newest second; its newest block may be seen
    half-written and reported as damage). Damaged data never raises: :meth:`records` stops at
    it and sets :attr:`damage`. ``wall_clock`` (epoch seconds, the engine clock's wall time)
    judges which block times are plausible: a block dated more than a day after it is
    damage. Not thread-safe: one reader per thread.
    """

    def __init__(
        self, directory: Path | str, *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.directory = Path(directory)
        self._wall_clock = wall_clock
        self.damage: RecordingDamage | None = None
        """Where the last :meth:`records` iteration stopped, or None when it read to the end."""

    def sessions(self) -> list[RecordedSession]:
        """The sessions in the recording, oldest first, from block headers only."""
        found: dict[bytes, list[_BlockHeader]] = {}
        for scan in self._scan():
            for block in scan.blocks:
                found.setdefault(block.session, []).append(block)
        sessions = []
        for session, blocks in found.items():
            first = min(blocks, key=lambda b: b.t_first_s)
            last = max(blocks, key=lambda b: b.t_last_s)
            sessions.append(
                RecordedSession(
                    session_id=session.hex(),
                    wall_anchor_s=blocks[0].wall_anchor_s,
                    first_wall_s=first.first_wall_s,
                    last_wall_s=last.last_wall_s,
                    first_t_s=first.t_first_s,
                    last_t_s=last.t_last_s,
                    records=sum(b.records for b in blocks),
                    blocks=len(blocks),
                )
            )
        return sessions

    def extent(self) -> tuple[float, float] | None:
        """The wall times (epoch seconds) of the oldest and newest records, from block headers,
        or None for an empty recording."""
        blocks = [b for scan in self._scan() for b in scan.blocks]
        if not blocks:
            return None
        return min(b.first_wall_s for b in blocks), max(b.last_wall_s for b in blocks)

    def records(
        self, from_wall_s: float | None = None, to_wall_s: float | None = None
    ) -> Iterator[RecordedItem]:
        """The records whose wall time (epoch seconds) lies in ``[from_wall_s, to_wall_s)``
        (None: unbounded), in recorded (arrival) order. Blocks wholly outside the range are
        skipped by their headers without being read. Stops at damage that may hold records
        of the range and sets :attr:`damage` (reset when iteration starts)."""
        self.damage = None
        low = -math.inf if from_wall_s is None else from_wall_s
        high = math.inf if to_wall_s is None else to_wall_s
        scans = self._scan()
        last_good: float | None = None
        for position, scan in enumerate(scans):
            for block in scan.blocks:
                if block.last_wall_s < low or block.first_wall_s >= high:
                    last_good = _later(last_good, block.last_wall_s)
                    continue
                reader = _BlockReader(scan, block)
                for item in reader.items():
                    last_good = _later(last_good, item.wall_s)
                    if low <= item.wall_s < high:
                        yield item
                if reader.problem is not None:
                    self.damage = RecordingDamage(
                        scan.name, block.offset, last_good, reader.problem
                    )
                    return
            if scan.damage is not None:
                lost_from = max((b.last_wall_s for b in scan.blocks), default=last_good)
                lost_until = next(
                    (s.blocks[0].first_wall_s for s in scans[position + 1 :] if s.blocks), None
                )
                holds_none = (lost_until is not None and lost_until <= low) or (
                    lost_from is not None and lost_from >= high
                )
                if not holds_none:
                    offset, reason = scan.damage
                    self.damage = RecordingDamage(scan.name, offset, last_good, reason)
                    return

    def excerpt(self, from_wall_s: float, to_wall_s: float) -> list[ExcerptSegment]:
        """The blocks holding records of ``[from_wall_s, to_wall_s)`` (epoch seconds; ask a
        minute early for what a replay warms up on), and the first block of each session
        they belong to (its session start says which MAC is which node), segment by
        segment in ring order, kept segments included. Whole blocks, so a little before and
        after the range comes along. From block headers only; readable blocks before any
        damage."""
        scans = self._scan()
        wanted: set[tuple[int, int]] = set()  # (scan position, block offset)
        sessions: set[bytes] = set()
        for position, scan in enumerate(scans):
            for block in scan.blocks:
                if block.last_wall_s >= from_wall_s and block.first_wall_s < to_wall_s:
                    wanted.add((position, block.offset))
                    sessions.add(block.session)
        for session in sessions:
            first = min(
                (
                    (block.t_first_s, position, block.offset)
                    for position, scan in enumerate(scans)
                    for block in scan.blocks
                    if block.session == session
                ),
            )
            wanted.add((first[1], first[2]))
        excerpt = []
        for position, scan in enumerate(scans):
            ranges = tuple(
                (block.offset, BLOCK_HEADER_BYTES + block.payload_bytes)
                for block in scan.blocks
                if (position, block.offset) in wanted
            )
            if ranges:
                excerpt.append(ExcerptSegment(scan.name, scan.path, ranges))
        return excerpt

    def _scan(self) -> list[_SegmentScan]:
        try:
            listed = _list_segments(self.directory, with_kept=True)
        except FileNotFoundError:
            return []
        except OSError as error:
            log.warning("sensing recording %s unreadable: %s", self.directory, error)
            return []
        scans = []
        scanned: set[int] = set()
        now_s = self._wall_clock()
        for index, path in listed:
            if index in scanned:
                continue  # moved into kept/ between the listings: read once
            try:
                scans.append(_scan_segment(path, now_s))
                scanned.add(index)
            except FileNotFoundError:
                continue  # deleted by the ring (or moved into kept/) since the listing
            except OSError as error:
                scan = _SegmentScan(path.name, path, 0)
                scan.damage = (0, f"cannot read {path.name}: {error}")
                scans.append(scan)
        return scans


def _later(current: float | None, wall_s: float) -> float:
    return wall_s if current is None or wall_s > current else current


class _BlockReader:
    """Decodes one block's records; ``problem`` says why it stopped early, if it did."""

    def __init__(self, scan: _SegmentScan, header: _BlockHeader) -> None:
        self.scan = scan
        self.header = header
        self.problem: str | None = None

    def _read_payload(self) -> bytes:
        header = self.header
        with _open_segment(self.scan.path) as f:
            f.seek(header.offset + BLOCK_HEADER_BYTES)
            return f.read(header.payload_bytes)

    def items(self) -> Iterator[RecordedItem]:
        header, name = self.header, self.scan.name
        where = f"in block at byte {header.offset} of {name}"
        try:
            payload = self._read_payload()
        except OSError as error:
            self.problem = f"cannot read block at byte {header.offset} of {name}: {error}"
            return
        if len(payload) != header.payload_bytes:
            self.problem = f"truncated block at byte {header.offset} of {name}"
            return
        if zlib.crc32(payload) != header.payload_crc:
            self.problem = f"CRC mismatch {where}"
            return
        # Inflate at most one byte past the stated length: a small block of zlib zeros
        # must not become gigabytes before the length is checked.
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(payload, header.uncompressed_bytes + 1)
        except zlib.error as error:
            self.problem = f"zlib error {where}: {error}"
            return
        if len(data) > header.uncompressed_bytes or inflater.unconsumed_tail:
            self.problem = (
                f"payload inflates past its stated {header.uncompressed_bytes} bytes {where}"
            )
            return
        if not inflater.eof:
            self.problem = f"zlib error {where}: the compressed payload is cut short"
            return
        if len(data) != header.uncompressed_bytes:
            self.problem = f"uncompressed length mismatch {where}"
            return
        session = header.session.hex()
        anchor = header.wall_anchor_s
        pos, count, size = 0, 0, len(data)
        while pos < size:
            if size - pos < RECORD_HEADER_BYTES:
                self.problem = _bad_record(pos, where, "cut short")
                return
            kind, t_s, length = _RECORD_HEAD.unpack_from(data, pos)
            start = pos + RECORD_HEADER_BYTES
            end = start + length
            if end > size:
                self.problem = _bad_record(pos, where, f"length {length} runs past the payload")
                return
            if not header.t_first_s <= t_s <= header.t_last_s:
                self.problem = _bad_record(pos, where, f"time {t_s!r} outside the block's times")
                return
            wall_s = anchor + t_s
            if kind == RecordKind.FRAME:
                item = RecordedItem(RecordKind.FRAME, t_s, wall_s, session, frame=data[start:end])
            elif kind == RecordKind.TICK:
                if length:
                    self.problem = _bad_record(pos, where, f"a tick with {length} payload bytes")
                    return
                item = RecordedItem(RecordKind.TICK, t_s, wall_s, session)
            elif kind == RecordKind.NODE_EVENT:
                event = _decode_event(data[start:end])
                if isinstance(event, str):
                    self.problem = _bad_record(pos, where, event)
                    return
                event_kind, mac, detail = event
                item = RecordedItem(
                    RecordKind.NODE_EVENT,
                    t_s,
                    wall_s,
                    session,
                    event_kind=event_kind,
                    mac=mac,
                    detail=detail,
                )
            else:
                self.problem = _bad_record(pos, where, f"unknown kind {kind}")
                return
            yield item
            count += 1
            pos = end
        if count != header.records:
            self.problem = f"record count mismatch {where} ({count} of {header.records})"


def _bad_record(position: int, where: str, why: str) -> str:
    return f"bad record at byte {position} of the payload {where}: {why}"


def _decode_event(payload: bytes) -> tuple[str, str, dict[str, Any]] | str:
    """The node event in ``payload``, or why it is none."""
    try:
        value = loads_json(payload)
    except JsonInputError as error:
        return f"node event: {error}"
    if (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and isinstance(value[2], dict)
    ):
        return value[0], value[1], value[2]
    return "node event is not [kind, mac, detail]"
