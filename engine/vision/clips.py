"""Event clips: a rolling pre-event buffer per camera and an MP4 writer per clip.

Data flow, per camera::

    camera worker ── push(frame) ──▶ PreEventBuffer (last ``pre_s`` seconds, references only)
                  │                     │ mark_activity(at) starts a clip with these frames
                  └─ push(frame) ──▶ bounded queue ──▶ [clip-writer-<camera> thread]
                                                        encode (PyAV, libx264) → .mp4.partial
                                                        → fsync → sha256 → rename → fsync dir
                                                        → media row (one transaction)
                                                        → ClipFinalised on the bus

Times: every frame carries ``captured_at`` in ``clock.monotonic()`` seconds, and clip
boundaries are decided on those frame timestamps, so a clip covers the footage the camera
delivered, not the moment a slow detector got round to it.

Crash safety: a clip lives under a ``.mp4.partial`` name until it is complete and flushed to
disk; only then is it renamed and, after the rename is durable, given a media row. A crash
therefore loses at most the clip being written (its temp file is removed at the next start
by :func:`recover_partial_clips`); no media row can point at a missing or half-written file.
The one window left, a crash between the rename and the commit (milliseconds), leaves a
complete clip without a row, never a row without a clip.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import logging
import math
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

from engine.bus import EventBus
from engine.clock import Clock
from engine.events import Event, EventRecord
from engine.paths import data_dir
from engine.store.database import Store
from engine.store.models import Media
from engine.vision.source import Frame, Image

log = logging.getLogger(__name__)

PRE_EVENT_S = 5.0  # footage kept before the first activity (issue: 5 s pre-event buffer)
POST_ACTIVITY_S = 5.0  # a clip runs this long after the last activity
MAX_CLIP_S = 30.0  # cap on one file's length, pre-event footage included
# Upper bound on the pre-event buffer of one camera. 768×576 BGR is 1.33 MB a frame, so
# 5 s at 10 fps is ~66 MB; 1080p at 25 fps would be ~780 MB and gets truncated to this
# (with a warning) rather than exhausting memory on a many-camera machine.
PRE_BUFFER_MAX_BYTES = 256 * 1024 * 1024
# Live frames waiting for a clip's writer, in seconds of video. Kept below PRE_EVENT_S so a
# queued frame is normally still referenced by the pre-event buffer: the queue costs
# (almost) no extra memory. It also absorbs the burst while the writer encodes the
# pre-event frames at the start of a clip.
WRITER_QUEUE_S = 3.0
WRITER_QUEUE_MIN_FRAMES = 16
FALLBACK_CODEC = "mpeg4"  # MPEG-4 Part 2: built into every libavcodec, plays in MP4
PREFERRED_CODEC = "libx264"
X264_OPTIONS = {"preset": "veryfast", "crf": "23"}  # fast enough for several cameras a core
MPEG4_BITS_PER_PIXEL = 0.3  # fallback bit rate: roughly x264 crf 23 quality at 3x the size
KEYFRAME_INTERVAL_S = 2.0  # so the timeline can seek inside a clip to within 2 s
PTS_TIME_BASE = Fraction(1, 1000)  # ms: fine enough for any camera, and legal for MPEG-4
PARTIAL_SUFFIX = ".mp4.partial"
IDLE_GRACE_S = 1.0  # finish_if_idle(): allow frames this late before closing a clip
_HASH_CHUNK_BYTES = 1024 * 1024
_CAMERA_KEY = re.compile(r"[A-Za-z0-9_\-]{1,64}")


# -- events ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ClipFinalised(Event):
    """A clip file is complete, renamed to its final name and (with a store) has a media row.

    Published on the camera's ``clip-writer-<camera>`` thread. ``path`` is relative to the
    data dir, exactly as in the media row; ``started_at`` is the UTC wall time of the first
    frame; ``duration_s`` is the playback length in seconds.
    """

    camera: str
    camera_id: int | None
    path: str
    started_at: datetime
    duration_s: float
    frames: int
    dropped_frames: int
    size_bytes: int
    sha256: str
    codec: str
    media_id: int | None
    event_id: int | None

    def record(self) -> EventRecord:
        return EventRecord(
            "clip.finalised",
            f"camera:{self.camera}",
            {
                "path": self.path,
                "started_at": self.started_at.isoformat(),
                "duration_s": round(self.duration_s, 3),
                "frames": self.frames,
                "dropped_frames": self.dropped_frames,
                "size_bytes": self.size_bytes,
                "sha256": self.sha256,
                "codec": self.codec,
                "media_id": self.media_id,
                "event_id": self.event_id,
            },
        )


# -- pre-event buffer --------------------------------------------------------------------
class PreEventBuffer:
    """The last ``seconds`` of one camera's frames, oldest first.

    Holds references to the frames' images (no copies: a :class:`Frame` is immutable), so
    its memory is ``height × width × 3`` bytes per frame: 768×576 at 10 fps for 5 s is
    50 frames ≈ 66 MB. If that would exceed ``max_bytes`` the oldest frames go first and a
    warning says the pre-event footage is shorter than asked.

    Not thread-safe: :class:`ClipRecorder` uses it under its own lock.
    """

    def __init__(self, seconds: float, *, max_bytes: int = PRE_BUFFER_MAX_BYTES) -> None:
        if seconds < 0:
            raise ValueError(f"pre-event buffer length must be >= 0 s, got {seconds}")
        if max_bytes <= 0:
            raise ValueError(f"pre-event buffer byte cap must be positive, got {max_bytes}")
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._frames: collections.deque[Frame] = collections.deque()
        self._nbytes = 0
        self._warned_truncated = False

    @staticmethod
    def estimate_bytes(width: int, height: int, fps: float, seconds: float) -> int:
        """Memory in bytes that ``seconds`` of BGR frames at ``fps`` would take."""
        frames = math.floor(fps * seconds) + 1
        return width * height * 3 * frames

    def append(self, frame: Frame) -> None:
        """Add the newest frame and forget frames older than ``seconds`` before it."""
        frames = self._frames
        frames.append(frame)
        self._nbytes += frame.image.nbytes
        horizon = frame.captured_at - self.seconds
        while frames and frames[0].captured_at < horizon:
            self._nbytes -= frames.popleft().image.nbytes
        while self._nbytes > self.max_bytes and len(frames) > 1:
            self._nbytes -= frames.popleft().image.nbytes
            if not self._warned_truncated:
                self._warned_truncated = True
                log.warning(
                    "pre-event buffer capped at %d MB: keeping %.1f s instead of %.1f s "
                    "(frames of %d×%d)",
                    self.max_bytes // 1_000_000,
                    frame.captured_at - frames[0].captured_at,
                    self.seconds,
                    frame.image.shape[1],
                    frame.image.shape[0],
                )

    def frames_since(self, start: float) -> list[Frame]:
        """Frames with ``captured_at >= start`` (monotonic seconds), oldest first."""
        return [f for f in self._frames if f.captured_at >= start]

    def clear(self) -> None:
        self._frames.clear()
        self._nbytes = 0

    @property
    def nbytes(self) -> int:
        """Bytes of image data currently held."""
        return self._nbytes

    @property
    def span_s(self) -> float:
        """Seconds between the oldest and newest frame held (0 when fewer than two)."""
        if len(self._frames) < 2:
            return 0.0
        return self._frames[-1].captured_at - self._frames[0].captured_at

    def __len__(self) -> int:
        return len(self._frames)


# -- codec choice ------------------------------------------------------------------------
class ClipCodecError(RuntimeError):
    """No usable video encoder: neither the preferred one nor the fallback opens."""


@dataclass(frozen=True, slots=True)
class ClipCodec:
    """The encoder a recorder uses: PyAV codec name, private options, and whether it is the
    fallback (larger files, less widely playable than H.264)."""

    name: str
    options: dict[str, str]
    fallback: bool


@functools.cache
def _encoder_problem(name: str) -> str | None:
    """Why encoder ``name`` cannot be used here, or None if a tiny test encode opens it.

    Opening, not just looking the codec up, catches builds where the name exists but the
    library behind it fails to initialise. Cached: the answer does not change at run time.
    """
    try:
        context = av.codec.CodecContext.create(name, "w")
        assert isinstance(context, av.VideoCodecContext)
        context.width, context.height, context.pix_fmt = 64, 64, "yuv420p"
        context.time_base = PTS_TIME_BASE
        context.open()
    except Exception as exc:  # UnknownCodecError, FFmpegError, a non-video codec
        return f"{type(exc).__name__}: {exc}"
    return None


def select_clip_codec(preferred: str = PREFERRED_CODEC) -> ClipCodec:
    """The encoder to record clips with: ``preferred`` (H.264 via libx264) if this machine
    can encode with it, else MPEG-4 Part 2 with a WARNING in the log saying so.

    Raises :class:`ClipCodecError` if neither can be opened.
    """
    problem = _encoder_problem(preferred)
    if problem is None:
        options = dict(X264_OPTIONS) if preferred in ("libx264", "h264") else {}
        return ClipCodec(preferred, options, fallback=False)
    fallback_problem = _encoder_problem(FALLBACK_CODEC)
    if fallback_problem is not None:
        raise ClipCodecError(
            f"cannot encode clips: {preferred} unavailable ({problem}) and "
            f"fallback {FALLBACK_CODEC} unavailable ({fallback_problem})"
        )
    log.warning(
        "video encoder %s is not available on this machine (%s); recording clips with the "
        "fallback codec %s (MPEG-4 Part 2) instead: files are about 3x larger and some "
        "players cannot open them",
        preferred,
        problem,
        FALLBACK_CODEC,
    )
    return ClipCodec(FALLBACK_CODEC, {}, fallback=True)


# -- encoding ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EncodedClip:
    """What :meth:`ClipEncoder.close` wrote: frame count and playback length in seconds."""

    frames: int
    duration_s: float


class ClipEncoder:
    """Encodes BGR frames into one MP4 file at ``path``, timed by the frames' timestamps.

    The first frame fixes the size (rounded down to even numbers, as 4:2:0 needs); later
    frames of another size are scaled to it. Presentation times are the frames'
    ``captured_at`` relative to the first frame in ms, so gaps (dropped frames, a stalled
    camera) keep their real length and the clip plays at the right speed. B-frames are off:
    with them x264 reorders timestamps and, with gaps, the MP4's stated duration comes out
    short. Used from one thread at a time.
    """

    def __init__(self, path: Path, codec: ClipCodec, fps_hint: float) -> None:
        self.path = path
        self._codec = codec
        self._fps_hint = fps_hint
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._size: tuple[int, int] = (0, 0)  # (width, height)
        self._first_t = 0.0
        self._last_pts = -1
        # Every frame is stamped with one nominal frame interval (1 / fps_hint). MP4 takes
        # sample lengths from the next frame's timestamp, so this only decides how long the
        # last frame shows, and hence the clip's duration.
        self._frame_ms = max(1, round(1000 / fps_hint))
        self.frames = 0

    def add(self, image: Image, captured_at: float) -> None:
        """Encode one BGR frame captured at ``captured_at`` monotonic seconds."""
        if self._stream is None:
            self._open(image, captured_at)
        assert self._stream is not None
        width, height = self._size
        pts = round((captured_at - self._first_t) * 1000)
        if pts <= self._last_pts:  # timestamps must rise strictly in MP4
            pts = self._last_pts + 1
        rows, cols = image.shape[0], image.shape[1]
        scale = False
        if (rows, cols) != (height, width):
            if 0 <= rows - height <= 1 and 0 <= cols - width <= 1:
                image = np.ascontiguousarray(image[:height, :width])  # odd size: trim
            else:
                scale = True  # the camera changed resolution mid-clip
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        if scale:
            frame = frame.reformat(width=width, height=height)
        frame.pts = pts
        frame.time_base = PTS_TIME_BASE
        self._mux(self._stream.encode(frame))
        self._last_pts = pts
        self.frames += 1

    def close(self) -> EncodedClip:
        """Flush the encoder and write the MP4 index. The file is not fsync'd here."""
        if self._container is None or self._stream is None:
            return EncodedClip(0, 0.0)
        try:
            self._mux(self._stream.encode(None))
        finally:
            self._container.close()
            self._container = self._stream = None
        return EncodedClip(self.frames, (self._last_pts + self._frame_ms) / 1000)

    def abort(self) -> None:
        """Close without caring about the result (the caller deletes the file)."""
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                log.debug("closing aborted clip %s failed", self.path, exc_info=True)
            self._container = self._stream = None

    def _open(self, image: Image, captured_at: float) -> None:
        height, width = image.shape[0] & ~1, image.shape[1] & ~1
        if width < 2 or height < 2:
            raise ValueError(f"frame too small to encode: {image.shape}")
        self._size = (width, height)
        self._first_t = captured_at
        rate = Fraction(self._fps_hint).limit_denominator(1001)
        container = av.open(str(self.path), "w", format="mp4", options={"movflags": "+faststart"})
        try:
            stream = container.add_stream(self._codec.name, rate=rate)
            if not isinstance(stream, av.VideoStream):
                raise ClipCodecError(f"{self._codec.name} is not a video encoder")
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            context = stream.codec_context
            context.time_base = PTS_TIME_BASE
            context.max_b_frames = 0
            context.gop_size = max(1, round(KEYFRAME_INTERVAL_S * self._fps_hint))
            if self._codec.fallback or self._codec.name == FALLBACK_CODEC:
                context.bit_rate = int(width * height * self._fps_hint * MPEG4_BITS_PER_PIXEL)
            stream.options = dict(self._codec.options)
        except Exception:
            container.close()
            raise
        self._container, self._stream = container, stream

    def _mux(self, packets: list[av.Packet[av.VideoStream]]) -> None:
        assert self._container is not None
        for packet in packets:
            packet.duration = self._frame_ms  # packets come in PTS_TIME_BASE
            self._container.mux(packet)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable. Not possible on Windows (directories cannot be
    opened there), where NTFS journals the rename itself."""
    if os.name != "posix":
        return
    _fsync_file(path)


def file_sha256(path: Path) -> tuple[str, int]:
    """(hex sha256, size in bytes) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def recover_partial_clips(clips_dir: Path) -> list[Path]:
    """Delete clips left unfinished by a crash or kill (``*.mp4.partial`` anywhere under
    ``clips_dir``), logging each, and return their paths. Call at start-up, before any
    recorder for ``clips_dir`` runs: a temp file never has a media row, so nothing else
    needs repair.
    """
    removed: list[Path] = []
    if not clips_dir.is_dir():
        return removed
    for path in sorted(clips_dir.rglob(f"*{PARTIAL_SUFFIX}")):
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.error("cannot remove unfinished clip %s: %s", path, exc)
            continue
        log.warning("removed unfinished clip from an interrupted run: %s (%d bytes)", path, size)
        removed.append(path)
    return removed


# -- the writer thread of one clip --------------------------------------------------------
_Outcome = Literal["finalised", "empty", "failed"]


class _FrameQueue:
    """Bounded hand-over from the camera thread to a clip writer. ``offer`` never blocks."""

    def __init__(self, capacity: int) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._items: collections.deque[Frame] = collections.deque()
        self._capacity = capacity
        self._closed = False

    def offer(self, frame: Frame) -> bool:
        """Queue ``frame``; False (frame dropped) if the queue is full or closed."""
        with self._cond:
            if self._closed or len(self._items) >= self._capacity:
                return False
            self._items.append(frame)
            self._cond.notify()
            return True

    def close(self) -> None:
        """No more frames: ``take`` returns None once the queue is drained."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def take(self) -> Frame | None:
        """The next frame, waiting for one; None when closed and drained."""
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            return self._items.popleft() if self._items else None


@dataclass(slots=True)
class _ClipPlan:
    """Everything a writer needs besides frames; fixed when the clip starts, except
    ``event_id`` which the recorder may fill in later (read only after the queue closes)."""

    camera_key: str
    camera_id: int | None
    clips_dir: Path
    media_root: Path
    codec: ClipCodec
    fps_hint: float
    wall_anchor: datetime  # clock.now() ...
    mono_anchor: float  # ... and clock.monotonic() read together at clip start
    event_id: int | None


class _ClipWriter:
    """Encodes one clip on its own thread, then finalises it (see module docstring)."""

    def __init__(
        self,
        plan: _ClipPlan,
        pre_frames: list[Frame],
        queue_frames: int,
        store: Store | None,
        bus: EventBus,
        clock: Clock,
        on_done: Callable[[_ClipWriter, _Outcome], None],
    ) -> None:
        self.plan = plan
        self.queue = _FrameQueue(queue_frames)
        self.dropped = 0  # written by the recorder under its lock
        self._pre_frames: collections.deque[Frame] = collections.deque(pre_frames)
        self._store = store
        self._bus = bus
        self._clock = clock
        self._on_done = on_done
        self.done = False  # set by the recorder when the thread has finished its work
        self.thread = threading.Thread(
            target=self._run, name=f"clip-writer-{plan.camera_key}", daemon=True
        )

    def _next_frame(self) -> Frame | None:
        if self._pre_frames:
            return self._pre_frames.popleft()  # popped so encoded frames can be freed
        return self.queue.take()

    def _run(self) -> None:
        outcome: _Outcome = "failed"
        encoder: ClipEncoder | None = None
        try:
            frame = self._next_frame()
            if frame is None:
                outcome = "empty"
                return
            plan = self.plan
            started_at = plan.wall_anchor + timedelta(seconds=frame.captured_at - plan.mono_anchor)
            final = self._final_path(started_at)
            partial = final.with_name(final.name.removesuffix(".mp4") + PARTIAL_SUFFIX)
            encoder = ClipEncoder(partial, plan.codec, plan.fps_hint)
            while frame is not None:
                encoder.add(frame.image, frame.captured_at)
                frame = self._next_frame()
            encoded = encoder.close()
            self._finalise(partial, final, started_at, encoded)
            outcome = "finalised"
        except Exception:
            log.exception("camera %s: clip could not be written", self.plan.camera_key)
            if encoder is not None:
                encoder.abort()
                encoder.path.unlink(missing_ok=True)
        finally:
            self.queue.close()  # a failed writer refuses further frames instead of queueing
            self._on_done(self, outcome)

    def _final_path(self, started_at: datetime) -> Path:
        utc = started_at.astimezone(UTC)
        folder = self.plan.clips_dir / self.plan.camera_key / utc.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        stamp = f"{utc:%Y%m%dT%H%M%S}.{utc.microsecond // 1000:03d}Z"
        name = f"{self.plan.camera_key}_{stamp}"
        path = folder / f"{name}.mp4"
        suffix = 1
        while path.exists() or path.with_name(path.name + ".partial").exists():
            path = folder / f"{name}-{suffix}.mp4"
            suffix += 1
        return path

    def _finalise(
        self, partial: Path, final: Path, started_at: datetime, encoded: EncodedClip
    ) -> None:
        # Durable content first, then the name, then the row: a crash leaves a temp file
        # (deleted at start-up) or a complete file, and a row only for a complete file.
        # The hash is taken before the rename to keep the rename→commit window short.
        _fsync_file(partial)
        sha256, size = file_sha256(partial)
        os.replace(partial, final)
        _fsync_dir(final.parent)
        plan = self.plan
        relative = final.relative_to(plan.media_root).as_posix()
        media_id: int | None = None
        if self._store is not None:
            try:
                with self._store.transaction() as session:
                    row = Media(
                        kind="clip",
                        path=relative,
                        sha256=sha256,
                        size_bytes=size,
                        created_at=started_at,
                        camera_id=plan.camera_id,
                        event_id=plan.event_id,
                        locked=False,
                        started_at=started_at,
                        ended_at=started_at + timedelta(seconds=encoded.duration_s),
                    )
                    session.add(row)
                    session.flush()
                    media_id = row.id
            except Exception:
                # The file is complete and kept: deleting evidence because the database
                # hiccupped would be worse than a file without a row.
                log.exception("clip %s is saved but its media row could not be written", final)
        log.info(
            "camera %s: clip %s (%.1f s, %d frames, %d dropped, %s)",
            plan.camera_key,
            relative,
            encoded.duration_s,
            encoded.frames,
            self.dropped,
            plan.codec.name,
        )
        self._bus.publish(
            ClipFinalised(
                at=self._clock.now(),
                camera=plan.camera_key,
                camera_id=plan.camera_id,
                path=relative,
                started_at=started_at,
                duration_s=encoded.duration_s,
                frames=encoded.frames,
                dropped_frames=self.dropped,
                size_bytes=size,
                sha256=sha256,
                codec=plan.codec.name,
                media_id=media_id,
                event_id=plan.event_id,
            )
        )


# -- the recorder ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClipRecorderStats:
    """Counters of one recorder; ``frames_dropped`` counts frames a busy writer missed."""

    clips_started: int
    clips_finalised: int
    clips_failed: int
    frames_dropped: int
    pre_buffer_frames: int
    pre_buffer_bytes: int
    recording: bool


@dataclass(slots=True)
class _ActiveClip:
    writer: _ClipWriter
    first_t: float | None  # captured_at of the clip's first frame, once known
    last_t: float  # captured_at of the newest frame handed to the clip
    last_activity: float


class ClipRecorder:
    """Records event clips for one camera.

    ``push(frame)`` is called from the camera worker for every frame: it keeps the frame in
    the pre-event buffer and, while a clip is open, offers it to that clip's writer thread
    through a bounded queue (dropping and counting it if the writer is behind: the camera
    is never blocked, and nothing is encoded on the caller's thread). ``mark_activity``
    (any thread) opens a clip with the last ``pre_s`` seconds of frames, or extends the open
    one. A clip ends with the first frame more than ``post_s`` after the last activity, or
    when it would exceed ``max_s`` in total (pre-event footage included); the next activity
    then opens a new clip. Clips never overlap: a new clip's pre-event frames start after
    the previous clip's last frame.

    Clips go to ``clips_dir/<camera_key>/<UTC date>/<camera_key>_<UTC start>.mp4``;
    ``clips_dir`` must lie under ``media_root`` (default: the data dir), against which
    media rows store relative paths. All times are monotonic seconds from ``clock`` (frames'
    ``captured_at`` must come from the same clock).

    Threads: one ``clip-writer-<camera_key>`` thread per clip (the previous clip's writer
    may still be finishing when the next clip opens). :class:`ClipFinalised` is published
    on that thread, so its handlers must not call :meth:`close` or :meth:`wait_idle`.
    Call :meth:`close` before the process exits; writer threads are daemons, so a clip not
    closed is lost like a crashed one (its temp file is recovered at the next start).
    """

    def __init__(
        self,
        camera_key: str,
        camera_id: int | None,
        store: Store | None,
        bus: EventBus,
        clock: Clock,
        *,
        clips_dir: Path,
        fps_hint: float,
        pre_s: float = PRE_EVENT_S,
        post_s: float = POST_ACTIVITY_S,
        max_s: float = MAX_CLIP_S,
        media_root: Path | None = None,
        codec: str = PREFERRED_CODEC,
        queue_frames: int | None = None,
        pre_buffer_max_bytes: int = PRE_BUFFER_MAX_BYTES,
    ) -> None:
        if not _CAMERA_KEY.fullmatch(camera_key):
            raise ValueError(f"camera key {camera_key!r} must be 1-64 letters, digits, _ or -")
        if not (fps_hint > 0 and post_s >= 0 and max_s > 0 and pre_s >= 0):
            raise ValueError(
                f"need fps_hint > 0, pre_s >= 0, post_s >= 0, max_s > 0 "
                f"(got {fps_hint}, {pre_s}, {post_s}, {max_s})"
            )
        root = (media_root or data_dir()).resolve()
        clips = clips_dir.resolve()
        if not clips.is_relative_to(root):
            raise ValueError(f"clips dir {clips} is not under the media root {root}")
        self.camera_key = camera_key
        self.camera_id = camera_id
        self.pre_s, self.post_s, self.max_s = pre_s, post_s, max_s
        self.fps_hint = fps_hint
        self.codec = select_clip_codec(codec)
        self.queue_frames = queue_frames or max(
            WRITER_QUEUE_MIN_FRAMES, math.ceil(WRITER_QUEUE_S * fps_hint)
        )
        self._store = store
        self._bus = bus
        self._clock = clock
        self._root = root
        self._clips_dir = clips
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._buffer = PreEventBuffer(pre_s, max_bytes=pre_buffer_max_bytes)
        self._active: _ActiveClip | None = None
        self._writers: list[_ClipWriter] = []
        self._last_recorded_t = -math.inf
        self._closed = False
        self._started = self._finalised = self._failed = self._dropped = 0

    # -- camera thread ---------------------------------------------------------------
    def push(self, frame: Frame) -> None:
        """Take one frame from the camera worker. Cheap and never blocks on encoding."""
        with self._lock:
            if self._closed:
                return
            self._buffer.append(frame)
            clip = self._active
            if clip is None or frame.captured_at <= clip.last_t:
                return
            if self._over(clip, frame.captured_at):
                self._finish_active()
                return
            if clip.first_t is None:
                clip.first_t = frame.captured_at
            clip.last_t = self._last_recorded_t = frame.captured_at
            if not clip.writer.queue.offer(frame):
                clip.writer.dropped += 1
                self._dropped += 1

    # -- any thread ------------------------------------------------------------------
    def mark_activity(self, at_monotonic: float, event_id: int | None = None) -> None:
        """Something happened at ``at_monotonic`` (monotonic seconds, same clock as the
        frames): open a clip or keep the open one going. ``event_id`` (an ``events`` row)
        is linked to the clip's media row; the first one given wins."""
        with self._lock:
            if self._closed:
                return
            clip = self._active
            if clip is not None and self._over(clip, at_monotonic):
                self._finish_active()
                clip = None
            if clip is not None:
                clip.last_activity = max(clip.last_activity, at_monotonic)
                if clip.writer.plan.event_id is None:
                    clip.writer.plan.event_id = event_id
                return
            self._start_clip(at_monotonic, event_id)

    def finish_if_idle(self) -> bool:
        """Close the open clip if, by the clock, its end has passed and no frame arrived to
        close it (a camera that went offline mid-clip). For the engine's watchdog; returns
        True if a clip was closed."""
        now = self._clock.monotonic()
        with self._lock:
            clip = self._active
            if clip is None or not self._over(clip, now - IDLE_GRACE_S):
                return False
            self._finish_active()
            return True

    def close(self, timeout_s: float = 30.0) -> bool:
        """Finish the open clip and wait up to ``timeout_s`` for all writers to finalise.
        Frames and activity after this are ignored. True if every writer finished."""
        with self._lock:
            self._closed = True
            self._finish_active()
            self._buffer.clear()
        return self.wait_idle(timeout_s)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until no clip is open or being written, and the writer threads have ended;
        True unless ``timeout_s`` passed first."""
        with self._idle:
            idle = self._idle.wait_for(
                lambda: self._active is None and all(w.done for w in self._writers), timeout_s
            )
            finished = [w for w in self._writers if w.done]
        for writer in finished:
            writer.thread.join()  # returns at once: the thread's last act was to report done
        with self._lock:
            self._writers = [w for w in self._writers if w not in finished]
        return idle

    def stats(self) -> ClipRecorderStats:
        with self._lock:
            return ClipRecorderStats(
                clips_started=self._started,
                clips_finalised=self._finalised,
                clips_failed=self._failed,
                frames_dropped=self._dropped,
                pre_buffer_frames=len(self._buffer),
                pre_buffer_bytes=self._buffer.nbytes,
                recording=self._active is not None,
            )

    def __enter__(self) -> ClipRecorder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- internals (called with the lock held) -----------------------------------------
    def _over(self, clip: _ActiveClip, t: float) -> bool:
        """Is monotonic time ``t`` past the clip's end (post-activity timeout or cap)?"""
        if t > clip.last_activity + self.post_s:
            return True
        return clip.first_t is not None and t - clip.first_t >= self.max_s

    def _start_clip(self, at: float, event_id: int | None) -> None:
        start = max(at - self.pre_s, math.nextafter(self._last_recorded_t, math.inf))
        pre_frames = self._buffer.frames_since(start)
        plan = _ClipPlan(
            camera_key=self.camera_key,
            camera_id=self.camera_id,
            clips_dir=self._clips_dir,
            media_root=self._root,
            codec=self.codec,
            fps_hint=self.fps_hint,
            wall_anchor=self._clock.now(),
            mono_anchor=self._clock.monotonic(),
            event_id=event_id,
        )
        writer = _ClipWriter(
            plan,
            pre_frames,
            self.queue_frames,
            self._store,
            self._bus,
            self._clock,
            self._on_writer_done,
        )
        first_t = pre_frames[0].captured_at if pre_frames else None
        last_t = pre_frames[-1].captured_at if pre_frames else -math.inf
        if pre_frames:
            self._last_recorded_t = last_t
        self._active = _ActiveClip(writer, first_t, last_t, at)
        self._writers = [w for w in self._writers if not (w.done and not w.thread.is_alive())]
        self._writers.append(writer)
        self._started += 1
        writer.thread.start()

    def _finish_active(self) -> None:
        clip = self._active
        if clip is not None:
            self._active = None
            clip.writer.queue.close()
            self._idle.notify_all()

    def _on_writer_done(self, writer: _ClipWriter, outcome: _Outcome) -> None:
        """Called on the writer's thread as its last act."""
        with self._lock:
            if self._active is not None and self._active.writer is writer:
                self._active = None  # the writer failed while its clip was open
            writer.done = True
            if outcome == "finalised":
                self._finalised += 1
            elif outcome == "failed":
                self._failed += 1
            self._idle.notify_all()


__all__ = [
    "ClipCodec",
    "ClipCodecError",
    "ClipEncoder",
    "ClipFinalised",
    "ClipRecorder",
    "ClipRecorderStats",
    "EncodedClip",
    "PreEventBuffer",
    "file_sha256",
    "recover_partial_clips",
    "select_clip_codec",
]
