"""Encoding a clip: which video encoder this machine can use, and the MP4 encoder itself."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from engine.frames import Image

log = logging.getLogger(__name__)

FALLBACK_CODEC = "mpeg4"  # MPEG-4 Part 2: built into every libavcodec, plays in MP4
PREFERRED_CODEC = "libx264"
X264_OPTIONS = {"preset": "veryfast", "crf": "23"}  # fast enough for several cameras a core
MPEG4_BITS_PER_PIXEL = 0.3  # fallback bit rate: roughly x264 crf 23 quality at 3x the size
KEYFRAME_INTERVAL_S = 2.0  # so the timeline can seek inside a clip to within 2 s
PTS_TIME_BASE = Fraction(1, 1000)  # ms: fine enough for any camera, and legal for MPEG-4


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

    @property
    def frame_interval_s(self) -> float:
        """How long each frame is shown, in seconds (one nominal frame interval, in ms)."""
        return self._frame_ms / 1000

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
