"""The continuous encoder of one camera whose source sends no H.264/H.265 of its own.

Data flow::

    camera worker ── offer(frame) ──▶ bounded queue (newest wins) ──▶ [clip-encoder-<camera>]
        BGR → I420 → libx264 (FrameEncoder) → EncodedPacket list ──▶ sink (the recorder)

Every frame is encoded, whether or not anyone is in view, so the pre-event buffer holds
compressed packets (about 1 MB for 5 s of 1080p) instead of raw frames (about 450 MB for
5 s of 1080p15). The camera thread never waits for the encoder: when the queue is full the
oldest queued frame is dropped and counted (the newest footage matters most), unless
``blocking`` (analysing a recording, where no frame should be lost and nothing is live).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.frames import EncodedPacket, Frame
from engine.record.encoder import ClipCodec, FrameEncoder

log = logging.getLogger(__name__)

ENCODE_QUEUE_FRAMES = 4  # raw frames waiting for the encoder: 25 MB at 1080p, ~0.3 s at 15 fps


@dataclass(frozen=True, slots=True)
class CameraEncoderStats:
    """``frames_dropped``: frames skipped because the encoder fell behind;
    ``cpu_ms_per_frame``: the encoder thread's CPU time per encoded frame (ms)."""

    frames_encoded: int
    frames_dropped: int
    errors: int
    cpu_ms_per_frame: float


class _Queued:
    __slots__ = ("frame", "skipped_before")

    def __init__(self, frame: Frame, skipped_before: int) -> None:
        self.frame = frame
        self.skipped_before = skipped_before


class CameraEncoder:
    """Encodes one camera's frames on its own ``clip-encoder-<camera>`` thread and hands
    the packets to ``sink`` (called on that thread, in capture order).

    ``offer`` (camera thread) never blocks unless ``blocking``. A frame of another size than
    the encoder's (beyond an odd last row/column) starts a new encoder, hence a new stream.
    An encoder error is logged, counted, and the next frame starts a fresh encoder.
    """

    def __init__(
        self,
        camera_key: str,
        codec: ClipCodec,
        fps_hint: float,
        sink: Callable[[list[EncodedPacket]], None],
        *,
        queue_frames: int = ENCODE_QUEUE_FRAMES,
        blocking: bool = False,
    ) -> None:
        if queue_frames < 1:
            raise ValueError(f"encoder queue must hold at least one frame, got {queue_frames}")
        self.camera_key = camera_key
        self._codec = codec
        self._fps_hint = fps_hint
        self._sink = sink
        self._capacity = queue_frames
        self._blocking = blocking
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque[_Queued] = collections.deque()
        self._busy = False  # a frame is being encoded
        self._closing = False
        self._encoder: FrameEncoder | None = None
        self._encoded = self._dropped = self._errors = 0
        self._cpu_s = 0.0
        self._thread = threading.Thread(
            target=self._run, name=f"clip-encoder-{camera_key}", daemon=True
        )
        self._thread.start()

    # -- camera thread -------------------------------------------------------------------
    def offer(self, frame: Frame) -> None:
        """Queue ``frame`` for encoding. When the queue is full the oldest queued frame is
        dropped (counted; the next encoded packet carries the gap in ``skipped_before``),
        or with ``blocking`` this waits for room."""
        with self._cond:
            if self._closing:
                return
            item = _Queued(frame, 0)
            if self._blocking:
                self._cond.wait_for(lambda: len(self._queue) < self._capacity or self._closing)
                if self._closing:
                    return
            elif len(self._queue) >= self._capacity:
                oldest = self._queue.popleft()
                self._dropped += 1
                carry = oldest.skipped_before + 1
                if self._queue:
                    self._queue[0].skipped_before += carry
                else:
                    item.skipped_before += carry
            self._queue.append(item)
            self._cond.notify_all()

    # -- any thread ----------------------------------------------------------------------
    def wait_drained(self, timeout_s: float) -> bool:
        """Wait until every queued frame is encoded and handed over; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout_s)

    def close(self, timeout_s: float = 30.0) -> bool:
        """Encode what is queued, flush, and end the thread; True if it ended in time."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def stats(self) -> CameraEncoderStats:
        with self._cond:
            encoded = self._encoded
            return CameraEncoderStats(
                frames_encoded=encoded,
                frames_dropped=self._dropped,
                errors=self._errors,
                cpu_ms_per_frame=1000 * self._cpu_s / encoded if encoded else 0.0,
            )

    # -- encoder thread ------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                self._cond.wait_for(lambda: bool(self._queue) or self._closing)
                if not self._queue:  # closing and drained
                    break
                item = self._queue.popleft()
                self._busy = True
                self._cond.notify_all()  # room for a blocked offer
            self._encode(item)
        self._flush()
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def _encode(self, item: _Queued) -> None:
        frame = item.frame
        started = time.thread_time()
        try:
            encoder = self._encoder_for(frame)
            fps = frame.source_fps if frame.source_fps > 0 else self._fps_hint
            packets = encoder.encode(
                frame.image,
                frame.captured_at,
                frame.wall_at,
                frame_s=1.0 / fps,
                skipped_before=item.skipped_before,
            )
        except Exception:
            self._encoder = None
            with self._cond:
                self._errors += 1
                first = self._errors == 1
            if first:
                log.exception("camera %s: encoding a frame for clips failed", self.camera_key)
            return
        finally:
            spent = time.thread_time() - started
        with self._cond:
            self._encoded += 1
            self._cpu_s += spent
        self._hand_over(packets)

    def _encoder_for(self, frame: Frame) -> FrameEncoder:
        rows, cols = frame.image.shape[0], frame.image.shape[1]
        width, height = cols & ~1, rows & ~1
        encoder = self._encoder
        if encoder is not None and (encoder.stream.width, encoder.stream.height) != (
            width,
            height,
        ):
            self._hand_over(encoder.flush())
            log.info(
                "camera %s: frames changed to %d×%d, new clip stream", self.camera_key, cols, rows
            )
            encoder = None
        if encoder is None:
            encoder = FrameEncoder(self._codec, width, height, self._fps_hint)
            self._encoder = encoder
        return encoder

    def _flush(self) -> None:
        if self._encoder is None:
            return
        try:
            self._hand_over(self._encoder.flush())
        except Exception:
            log.exception("camera %s: flushing the clip encoder failed", self.camera_key)

    def _hand_over(self, packets: list[EncodedPacket]) -> None:
        if not packets:
            return
        try:
            self._sink(packets)
        except Exception:
            log.exception("camera %s: recording encoded packets failed", self.camera_key)
