"""The clip recorder of one camera: when clips start and end, and who writes them.

Data flow, per camera::

    camera worker ── push(frame) ─┬─ frame.packets (the camera's H.264/H.265) ───────────┐
                                  └─ else: CameraEncoder [clip-encoder-<camera>] ─ packets ┤
                                                                                          ▼
        PreEventBuffer (last ``pre_s`` s of packets, from a keyframe) ── mark_activity(at)
        starts a clip from a keyframe ──▶ bounded queue ──▶ ClipWriter [clip-writer-<camera>]

Nothing is decoded or encoded for a clip: it is the camera's packets, or the packets the
camera's encoder made continuously, muxed into MP4.

Times: every packet carries its frame's ``captured_at`` in ``clock.monotonic()`` seconds,
and clip boundaries are decided on those, as packets arrive (in decode order), so a clip
covers the footage the camera delivered, not the moment a slow detector or encoder got
round to it. The clip's wall-time span (its media row) comes from the packets' ``wall_at``,
read with ``captured_at`` by the source.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.bus import EventBus
from engine.clock import Clock
from engine.data_dirs import data_dir
from engine.frames import EncodedPacket, Frame
from engine.record.buffer import PRE_BUFFER_MAX_BYTES, PRE_EVENT_S, PreEventBuffer
from engine.record.camera_encoder import ENCODE_QUEUE_FRAMES, CameraEncoder
from engine.record.encoder import PREFERRED_CODEC, select_clip_codec
from engine.record.losses import MediaWriteWatch
from engine.record.segments import SegmentRecorder
from engine.record.tracks import RecentBoxes, TrackBox
from engine.record.writer import ClipPlan, ClipWriter, Outcome
from engine.store.writer import StoreWriter

POST_ACTIVITY_S = 5.0  # a clip runs this long after the last activity
MAX_CLIP_S = 30.0  # cap on one file's length, pre-event footage included
# Packets waiting for a clip's writer, in seconds of video. The writer only muxes (no
# encoding), so this absorbs a slow disk; packets are small (~1 MB for 10 s of 1080p).
WRITER_QUEUE_S = 10.0
WRITER_QUEUE_MIN_PACKETS = 64
IDLE_GRACE_S = 1.0  # finish_if_idle(): allow frames this late before closing a clip
# A clip cut by the cap ends before a keyframe so the next one continues from it; a
# keyframe this fraction of a keyframe interval early still counts as on time.
_CAP_SLACK = 0.25
CAMERA_KEY = re.compile(r"[A-Za-z0-9_\-]{1,64}")


@dataclass(frozen=True, slots=True)
class ClipRecorderStats:
    """Counters of one recorder.

    ``frames_dropped``: frames missing from clips (the clip writer fell behind, or the
    encoder skipped them); ``encoder_frames_dropped``: every frame the continuous encoder
    skipped because it fell behind; ``encode_ms_per_frame``: its CPU time per frame;
    ``stream_copy``: True when the camera's own packets are recorded, False when frames are
    encoded here, None before the first packet. The pre-event buffer: packets held, their
    bytes and the capture seconds they span.
    """

    clips_started: int
    clips_finalised: int
    clips_failed: int
    frames_dropped: int
    pre_buffer_frames: int
    pre_buffer_bytes: int
    recording: bool
    pre_buffer_s: float = 0.0
    stream_copy: bool | None = None
    frames_encoded: int = 0
    encoder_frames_dropped: int = 0
    encode_ms_per_frame: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        figures = asdict(self)
        figures["pre_buffer_s"] = round(self.pre_buffer_s, 2)
        figures["encode_ms_per_frame"] = round(self.encode_ms_per_frame, 2)
        return figures


@dataclass(slots=True)
class _ActiveClip:
    writer: ClipWriter
    first_t: float  # captured_at of the clip's first packet (a keyframe)
    last_activity: float
    skip_to_keyframe: bool = False  # the writer's queue overflowed: resume at a keyframe


@dataclass(slots=True)
class _Request:
    """Activity that wants a clip which has not begun yet (the previous clip is still
    taking packets, or no keyframe has arrived)."""

    at: float
    last_activity: float
    event_id: int | None


class ClipRecorder:
    """Records event clips for one camera.

    ``push(frame)`` is called from the camera worker for every frame. When the source gives
    the camera's compressed packets (``frame.packets``, H.264/H.265) they go straight into
    the pre-event buffer and the open clip: no decoding or encoding for recording. Other
    frames are offered to the camera's encoder thread (bounded queue, newest wins: see
    :class:`~engine.record.camera_encoder.CameraEncoder`), which encodes every frame to
    H.264 with a keyframe each second. Either way the camera thread never waits (unless
    ``blocking``, for analysing a recording) and holds no raw frames for clips.

    ``mark_activity(at)`` (any thread) opens a clip or extends the open one. A clip starts
    at the newest keyframe at or before ``at − pre_s`` (so it has at least ``pre_s`` of
    pre-event footage when the buffer holds it, at most one keyframe interval more); it ends
    before the first packet more than ``post_s`` after the last activity, or when it would
    exceed ``max_s`` (pre-event footage included; then preferably just before a keyframe,
    and the next clip continues from that keyframe). Clips never overlap: a new clip starts
    at a keyframe after the previous clip's last packet (a gap shorter than one keyframe
    interval when activity resumes during the previous clip's post-roll).

    Clips go to ``clips_dir/<camera_key>/<UTC date>/<camera_key>_<UTC start>.mp4``;
    ``clips_dir`` must lie under ``media_root`` (default: the data dir), against which
    media rows store relative paths. All times are monotonic seconds from ``clock`` (frames'
    ``captured_at`` must come from the same clock). With a ``store_writer`` each finished
    clip gets its media row (``InsertMedia``) through it; without one, only files.

    Threads: ``clip-encoder-<camera_key>`` for cameras without packets of their own, and one
    ``clip-writer-<camera_key>`` thread per clip (the previous clip's writer may still be
    finishing when the next clip opens). ``ClipFinalised`` is published on the writer's
    thread, so its handlers must not call :meth:`close` or :meth:`wait_idle`. Call
    :meth:`close` before the process exits; the threads are daemons, so a clip not closed is
    lost like a crashed one (its temp file is swept once this process is gone).
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
        encode_queue_frames: int = ENCODE_QUEUE_FRAMES,
        blocking: bool = False,
        media_watch: MediaWriteWatch | None = None,
        continuous: SegmentRecorder | None = None,
    ) -> None:
        """``queue_frames``: packets a clip writer may fall behind by; ``encode_queue_frames``:
        raw frames the encoder may fall behind by (then the oldest are dropped); ``blocking``:
        wait for the encoder instead of dropping (analysing a recording); ``media_watch``:
        told of every clip written or lost (a lost clip is never silent); ``continuous``:
        the camera's continuous recording, given every packet (closed with this)."""
        if not CAMERA_KEY.fullmatch(camera_key):
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
            WRITER_QUEUE_MIN_PACKETS, math.ceil(WRITER_QUEUE_S * fps_hint)
        )
        self._encode_queue_frames = encode_queue_frames
        self._blocking = blocking
        self._media_watch = media_watch
        self.continuous = continuous
        self._store_writer = store_writer
        self._bus = bus
        self._clock = clock
        self._root = root
        self._clips_dir = clips
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._buffer = PreEventBuffer(pre_s, max_bytes=pre_buffer_max_bytes)
        self._boxes = RecentBoxes()  # the analysed frames' boxes, for clips' track sidecars
        self._encoder: CameraEncoder | None = None
        self._active: _ActiveClip | None = None
        self._request: _Request | None = None
        self._writers: list[ClipWriter] = []
        self._seq = 0  # arrival number of the newest packet (decode order)
        self._last_recorded_seq = 0  # the newest packet any clip took
        self._last_frame_t = -math.inf  # captured_at of the newest frame pushed
        self._stream_copy: bool | None = None
        self._closing = self._closed = False
        self._started = self._finalised = self._failed = self._dropped = 0

    # -- camera thread ---------------------------------------------------------------
    def push(self, frame: Frame) -> None:
        """Take one frame from the camera worker. Cheap; waits only when ``blocking``."""
        with self._lock:
            if self._closing:
                return
            self._last_frame_t = max(self._last_frame_t, frame.captured_at)
            if frame.packets is not None:
                for packet in frame.packets:
                    self._accept(packet)
                return
            encoder = self._encoder
            if encoder is None:
                encoder = self._encoder = CameraEncoder(
                    self.camera_key,
                    self.codec,
                    self.fps_hint,
                    self._on_encoded,
                    queue_frames=self._encode_queue_frames,
                    blocking=self._blocking,
                )
        encoder.offer(frame)  # outside the lock: the encoder thread takes it to hand over

    # -- any thread ------------------------------------------------------------------
    def mark_activity(self, at_monotonic: float, event_id: int | None = None) -> None:
        """Something happened at ``at_monotonic`` (monotonic seconds, same clock as the
        frames): open a clip or keep the open one going. ``event_id`` (an ``events`` row)
        is linked to the clip's media row; the first one given wins."""
        with self._lock:
            if self._closing:
                return
            clip = self._active
            if (
                clip is not None
                and at_monotonic <= clip.last_activity + self.post_s
                and at_monotonic - clip.first_t < self.max_s
            ):
                clip.last_activity = max(clip.last_activity, at_monotonic)
                if clip.writer.plan.event_id is None:
                    clip.writer.plan.event_id = event_id
                return
            # Past the open clip's end (its closing packets may still be on their way from
            # the encoder), or no clip: the next clip.
            request = self._request
            if request is None:
                self._request = _Request(at_monotonic, at_monotonic, event_id)
            else:
                request.last_activity = max(request.last_activity, at_monotonic)
                request.event_id = request.event_id if request.event_id else event_id
            if self._active is None:
                self._try_begin()

    def note_analysis(self, captured_at: float, motion: bool, people: int) -> None:
        """The analysis of the frame captured at ``captured_at``: for what the continuous
        recording's segments hold (:meth:`SegmentRecorder.note_analysis`)."""
        if self.continuous is not None:
            self.continuous.note_analysis(captured_at, motion, people)

    def note_boxes(
        self,
        captured_at: float,
        size: tuple[int, int],
        boxes: tuple[tuple[int, float, float, float, float], ...],
    ) -> None:
        """The tracks' boxes in the frame captured at ``captured_at`` (monotonic s), in
        pixels of the analysed picture of ``size`` (width, height; the sub stream's where the
        camera has one): each clip keeps its frames' boxes beside it, scaled to its own
        picture (:mod:`engine.record.tracks`). ``boxes``: (track id, x, y, w, h) each. Cheap;
        any thread, frames in order."""
        self._boxes.add(captured_at, size, tuple(TrackBox(*box) for box in boxes))

    def finish_if_idle(self) -> bool:
        """Close the open clip if, by the clock, its end has passed and the camera stopped
        delivering before it (a camera that went offline mid-clip), and the continuous
        recording's open segment if the camera stopped a segment's length ago. For the
        engine's watchdog; returns True if a clip was closed."""
        if self.continuous is not None:
            self.continuous.finish_if_idle()
        now = self._clock.monotonic() - IDLE_GRACE_S
        with self._lock:
            clip = self._active
            if clip is None:
                request = self._request
                if request is not None and now > request.last_activity + self.post_s:
                    self._request = None  # no keyframe came while it mattered
                return False
            end = min(clip.last_activity + self.post_s, clip.first_t + self.max_s)
            if now <= end or self._last_frame_t > end:
                return False  # not over, or frames past its end will close it
            encoder = self._encoder
        # Frames the camera delivered before it stopped may still be in the encoder.
        if encoder is not None:
            encoder.wait_drained(IDLE_GRACE_S)
        with self._lock:
            if self._active is not clip:
                return False
            self._finish_active()
            return True

    def close(self, timeout_s: float = 30.0) -> bool:
        """Encode the frames still queued, finish the open clip and wait up to
        ``timeout_s`` for all writers to finalise. Frames and activity after this are
        ignored. True if every writer finished."""
        with self._lock:
            self._closing = True
            encoder = self._encoder
        encoder_ended = encoder.close(timeout_s) if encoder is not None else True
        with self._lock:
            self._closed = True
            self._request = None
            self._finish_active()
            self._buffer.clear()
        segments_ended = self.continuous.close(timeout_s) if self.continuous is not None else True
        return self.wait_idle(timeout_s) and encoder_ended and segments_ended

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
        encoder = self._encoder
        encoding = encoder.stats() if encoder is not None else None
        with self._lock:
            return ClipRecorderStats(
                clips_started=self._started,
                clips_finalised=self._finalised,
                clips_failed=self._failed,
                frames_dropped=self._dropped,
                pre_buffer_frames=len(self._buffer),
                pre_buffer_bytes=self._buffer.nbytes,
                recording=self._active is not None,
                pre_buffer_s=self._buffer.span_s,
                stream_copy=self._stream_copy,
                frames_encoded=encoding.frames_encoded if encoding else 0,
                encoder_frames_dropped=encoding.frames_dropped if encoding else 0,
                encode_ms_per_frame=encoding.cpu_ms_per_frame if encoding else 0.0,
            )

    def __enter__(self) -> ClipRecorder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- encoder thread --------------------------------------------------------------
    def _on_encoded(self, packets: list[EncodedPacket]) -> None:
        with self._lock:
            if self._closed:
                return
            for packet in packets:
                self._accept(packet)

    # -- internals (called with the lock held) -----------------------------------------
    def _accept(self, packet: EncodedPacket) -> None:
        """One packet of the camera, in decode order: buffer it, feed or end the open
        clip, begin a requested one."""
        if self.continuous is not None:
            self.continuous.offer(packet)  # never waits
        self._seq += 1
        seq = self._seq
        self._stream_copy = packet.stream.stream_copy
        new_stream = packet.stream is not self._buffer.stream  # a clip holds one stream
        kept = self._buffer.append(packet, seq)
        clip = self._active
        if (
            clip is not None
            and not new_stream
            and not self._ends_before(packet, clip.first_t, clip.last_activity)
        ):
            self._take(clip, packet, seq)
            return
        if clip is not None:
            self._finish_active()
            if packet.captured_at <= clip.last_activity + self.post_s:
                # Cut by the cap (or a new stream) while activity goes on: the next clip
                # continues from here.
                request = self._request or _Request(packet.captured_at, packet.captured_at, None)
                request.last_activity = max(request.last_activity, clip.last_activity)
                self._request = request
        if self._request is not None and kept:
            self._try_begin()

    def _ends_before(self, packet: EncodedPacket, first_t: float, last_activity: float) -> bool:
        """Does a clip that began at ``first_t``, with its last activity at
        ``last_activity``, end before ``packet`` (post-activity timeout or the cap)?"""
        t = packet.captured_at
        if t > last_activity + self.post_s:
            return True
        elapsed = t - first_t
        if elapsed >= self.max_s:
            return True
        if packet.keyframe and elapsed > 0:
            interval = self._buffer.keyframe_interval_s()
            # The next keyframe would come after the cap: cut here, on a keyframe.
            if interval and elapsed + interval > self.max_s + _CAP_SLACK * interval:
                return True
        return False

    def _take(self, clip: _ActiveClip, packet: EncodedPacket, seq: int) -> None:
        """Hand ``packet`` to the clip's writer; when its queue is full, skip to the next
        keyframe (a P-frame without its reference would corrupt the picture)."""
        writer = clip.writer
        self._last_recorded_seq = seq
        if clip.skip_to_keyframe and not packet.keyframe:
            self._count_dropped(writer, 1 + packet.skipped_before)
            return
        if writer.queue.offer(packet):
            clip.skip_to_keyframe = False
            self._count_dropped(writer, packet.skipped_before)
        else:
            clip.skip_to_keyframe = True
            self._count_dropped(writer, 1 + packet.skipped_before)

    def _count_dropped(self, writer: ClipWriter, frames: int) -> None:
        writer.dropped += frames
        self._dropped += frames

    def _try_begin(self) -> None:
        """Begin the requested clip if the buffer holds a keyframe for it."""
        request = self._request
        assert request is not None and self._active is None
        seqs, packets = self._buffer.start_for(request.at - self.pre_s, self._last_recorded_seq)
        if not packets:
            return  # wait for a keyframe
        self._request = None
        first = packets[0]
        plan = ClipPlan(
            camera_key=self.camera_key,
            camera_id=self.camera_id,
            clips_dir=self._clips_dir,
            media_root=self._root,
            wall_anchor=self._clock.now(),
            mono_anchor=self._clock.monotonic(),
            event_id=request.event_id,
            view=self.continuous is not None,
        )
        clip_start = first.captured_at
        pre: list[EncodedPacket] = []
        dropped = 0
        ended = False
        for seq, packet in zip(seqs, packets, strict=True):
            if pre and self._ends_before(packet, clip_start, request.last_activity):
                ended = True
                break
            if pre:
                dropped += packet.skipped_before
            pre.append(packet)
            self._last_recorded_seq = seq
        writer = ClipWriter(
            plan,
            pre,
            self.queue_frames,
            self._store_writer,
            self._bus,
            self._clock,
            self._on_writer_done,
            self._media_watch,
            self._boxes,
        )
        self._count_dropped(writer, dropped)
        self._writers = [w for w in self._writers if not (w.done and not w.thread.is_alive())]
        self._writers.append(writer)
        self._started += 1
        writer.thread.start()
        if ended:
            writer.queue.close()
            self._idle.notify_all()
        else:
            self._active = _ActiveClip(writer, clip_start, request.last_activity)

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
