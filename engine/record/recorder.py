"""The clip recorder of one camera: when clips start and end, and who writes them.

Data flow, per camera::

    camera worker ── push(frame) ──▶ PreEventBuffer (last ``pre_s`` seconds, references only)
                  │                     │ mark_activity(at) starts a clip with these frames
                  └─ push(frame) ──▶ bounded queue ──▶ ClipWriter [clip-writer-<camera>]

Times: every frame carries ``captured_at`` in ``clock.monotonic()`` seconds, and clip
boundaries are decided on those frame timestamps, so a clip covers the footage the camera
delivered, not the moment a slow detector got round to it. The clip's wall-time span (its
media row) comes from the frames' ``wall_at``, read with ``captured_at`` by the source.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from engine.bus import EventBus
from engine.clock import Clock
from engine.frames import Frame
from engine.paths import data_dir
from engine.record.buffer import PRE_BUFFER_MAX_BYTES, PRE_EVENT_S, PreEventBuffer
from engine.record.encoder import PREFERRED_CODEC, select_clip_codec
from engine.record.writer import ClipPlan, ClipWriter, Outcome
from engine.store.writer import StoreWriter

POST_ACTIVITY_S = 5.0  # a clip runs this long after the last activity
MAX_CLIP_S = 30.0  # cap on one file's length, pre-event footage included
# Live frames waiting for a clip's writer, in seconds of video. Kept below PRE_EVENT_S so a
# queued frame is normally still referenced by the pre-event buffer: the queue costs
# (almost) no extra memory. It also absorbs the burst while the writer encodes the
# pre-event frames at the start of a clip.
WRITER_QUEUE_S = 3.0
WRITER_QUEUE_MIN_FRAMES = 16
IDLE_GRACE_S = 1.0  # finish_if_idle(): allow frames this late before closing a clip
_CAMERA_KEY = re.compile(r"[A-Za-z0-9_\-]{1,64}")


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
    writer: ClipWriter
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
    ``captured_at`` must come from the same clock). With a ``store_writer`` each finished
    clip gets its media row (``InsertMedia``) through it; without one, only files.

    Threads: one ``clip-writer-<camera_key>`` thread per clip (the previous clip's writer
    may still be finishing when the next clip opens). ``ClipFinalised`` is published on
    that thread, so its handlers must not call :meth:`close` or :meth:`wait_idle`.
    Call :meth:`close` before the process exits; writer threads are daemons, so a clip not
    closed is lost like a crashed one (its temp file is swept once this process is gone).
    """

    def __init__(
        self,
        camera_key: str,
        camera_id: int | None,
        store_writer: StoreWriter | None,
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
        self._store_writer = store_writer
        self._bus = bus
        self._clock = clock
        self._root = root
        self._clips_dir = clips
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._buffer = PreEventBuffer(pre_s, max_bytes=pre_buffer_max_bytes)
        self._active: _ActiveClip | None = None
        self._writers: list[ClipWriter] = []
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
        plan = ClipPlan(
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
        writer = ClipWriter(
            plan,
            pre_frames,
            self.queue_frames,
            self._store_writer,
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

    def _on_writer_done(self, writer: ClipWriter, outcome: Outcome) -> None:
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
