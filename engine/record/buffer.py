"""The pre-event buffer: the last few seconds of one camera's frames, ready for a clip."""

from __future__ import annotations

import collections
import logging
import math

from engine.frames import Frame

log = logging.getLogger(__name__)

PRE_EVENT_S = 5.0  # footage kept before the first activity (issue: 5 s pre-event buffer)
# Upper bound on the pre-event buffer of one camera. 768×576 BGR is 1.33 MB a frame, so
# 5 s at 10 fps is ~66 MB; 1080p at 25 fps would be ~780 MB and gets truncated to this
# (with a warning) rather than exhausting memory on a many-camera machine.
PRE_BUFFER_MAX_BYTES = 256 * 1024 * 1024


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
