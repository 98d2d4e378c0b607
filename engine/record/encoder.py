"""Encoding for clips: which video encoder this machine can use, and turning BGR frames into
compressed packets for cameras that do not send H.264/H.265 themselves.

Cameras that send H.264/H.265 are recorded from their own packets (see
:mod:`engine.vision.source`); only the others (MJPEG, MPEG-4 Part 2 files such as vtest.avi,
webcams) are encoded here, continuously, on the camera's ``clip-encoder-<camera>`` thread
(:mod:`engine.record.camera_encoder`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av

from engine.cv import import_cv2
from engine.frames import EncodedPacket, Image, VideoStreamInfo
from engine.record.muxer import ClipMuxer, EncodedClip

log = logging.getLogger(__name__)

FALLBACK_CODEC = "mpeg4"  # MPEG-4 Part 2: built into every libavcodec, plays in MP4
PREFERRED_CODEC = "libx264"
# Chosen by measurement (`python -m benchmarks clips`: vtest 768×576 at 15 fps, one x264
# thread, BGR→I420 included, tune=zerolatency; CPU ms per frame / Mbit/s / PSNR dB, this
# 2-core machine):
#   ultrafast crf 23: 2.4 / 2.18 / 38.9     ultrafast crf 26: 2.5 / 1.50 / 37.4
#   superfast crf 23: 5.7 / 1.73 / 38.8     superfast crf 26: 4.9 / 1.20 / 37.1
#   veryfast  crf 23: 6.5 / 1.37 / 37.9     veryfast  crf 26: 6.0 / 0.93 / 36.3
# (at 1920×1080, Hamilton upscaled: ultrafast 18 ms, superfast 24 ms, veryfast 36 ms.)
# Every frame of every camera without H.264 of its own is encoded, so CPU counts most:
# ultrafast crf 26 gives the size and quality clips had before (veryfast crf 23) at 40 % of
# the CPU. zerolatency changes nothing for ultrafast here (same size and PSNR) but keeps
# x264 from holding frames (no lookahead) if the preset is changed. The frame rate given to
# x264 matters: CRF is rate-dependent, and without it (x264 then assumes 1000 fps from the
# ms time base) ultrafast crf 23 came out at 1.0 Mbit/s and 35.8 dB.
X264_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "crf": "26", "forced-idr": "1"}
MPEG4_BITS_PER_PIXEL = 0.3  # fallback bit rate: roughly x264 crf 23 quality at 3x the size
KEYFRAME_INTERVAL_S = 1.0  # a clip starts at a keyframe at most this long before its 5 s
PTS_TIME_BASE = Fraction(1, 1000)  # ms: fine enough for any camera, and legal for MPEG-4
_KEYFRAME_SLACK_S = 0.001  # timestamps of exact 1 s multiples may round just below


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


class FrameEncoder:
    """Encodes BGR frames into :class:`EncodedPacket` objects of one stream, ``width`` ×
    ``height`` (even numbers, as 4:2:0 needs).

    Frames one pixel larger (odd sizes) are trimmed, other sizes scaled. Presentation times
    are the frames' ``captured_at`` relative to the first frame, in ms, so gaps (dropped
    frames, a stalled camera) keep their real length. A keyframe (with SPS/PPS in band)
    starts every :data:`KEYFRAME_INTERVAL_S` of capture time, whatever the frame rate, so a
    clip can begin at most that long before the footage it must show. No B-frames: packets
    come out in capture order, and the MP4 duration stays right across gaps. One x264
    thread: a camera's encoder runs on its own thread, and many cameras share the cores.
    Used from one thread at a time.
    """

    def __init__(
        self,
        codec: ClipCodec,
        width: int,
        height: int,
        fps_hint: float,
        *,
        keyframe_interval_s: float = KEYFRAME_INTERVAL_S,
    ) -> None:
        if width < 2 or height < 2 or width % 2 or height % 2:
            raise ValueError(f"cannot encode {width}×{height}: need even sizes of 2 or more")
        context = av.codec.CodecContext.create(codec.name, "w")
        if not isinstance(context, av.VideoCodecContext):
            raise ClipCodecError(f"{codec.name} is not a video encoder")
        context.width, context.height, context.pix_fmt = width, height, "yuv420p"
        context.time_base = PTS_TIME_BASE
        context.framerate = Fraction(fps_hint).limit_denominator(1001)
        context.max_b_frames = 0
        context.gop_size = 600  # keyframes are forced by time; this only bounds a lost one
        context.thread_count = 1
        if codec.fallback or codec.name == FALLBACK_CODEC:
            context.bit_rate = int(width * height * fps_hint * MPEG4_BITS_PER_PIXEL)
        context.options = dict(codec.options)
        context.open()
        self._context = context
        self.stream = VideoStreamInfo(
            codec=context.codec.canonical_name,
            width=width,
            height=height,
            time_base=PTS_TIME_BASE,
            encoder=codec.name,
        )
        self._keyframe_interval_s = keyframe_interval_s
        self._origin: float | None = None
        self._last_pts = -1
        self._last_key_t = -float("inf")
        self._pending: dict[int, tuple[float, datetime | None, int, int]] = {}
        self.frames = 0

    def encode(
        self,
        image: Image,
        captured_at: float,
        wall_at: datetime | None = None,
        *,
        frame_s: float,
        skipped_before: int = 0,
    ) -> list[EncodedPacket]:
        """Encode one BGR frame; the packets that came out (none or more, capture order).
        ``frame_s``: how long the frame is shown if it is a clip's last (s)."""
        if self._origin is None:
            self._origin = captured_at
        pts = round((captured_at - self._origin) * 1000)
        if pts <= self._last_pts:  # timestamps must rise strictly in MP4
            pts = self._last_pts + 1
        frame = av.VideoFrame.from_ndarray(self._to_i420(image), format="yuv420p")
        frame.pts = pts
        frame.time_base = PTS_TIME_BASE
        if captured_at - self._last_key_t >= self._keyframe_interval_s - _KEYFRAME_SLACK_S:
            frame.pict_type = av.video.frame.PictureType.I
            self._last_key_t = captured_at
        duration = max(1, round(frame_s * 1000))
        self._pending[pts] = (captured_at, wall_at, duration, skipped_before)
        self._last_pts = pts
        self.frames += 1
        return self._packets(self._context.encode(frame))

    def flush(self) -> list[EncodedPacket]:
        """Packets still inside the encoder (none with tune=zerolatency)."""
        return self._packets(self._context.encode(None))

    def _to_i420(self, image: Image) -> Image:
        width, height = self.stream.width, self.stream.height
        rows, cols = image.shape[0], image.shape[1]
        if (rows, cols) != (height, width):
            if 0 <= rows - height <= 1 and 0 <= cols - width <= 1:
                image = image[:height, :width]  # odd size: trim the last row/column
            else:  # the camera changed resolution
                image = import_cv2().resize(image, (width, height))
        # OpenCV's conversion is 3-4x cheaper than swscale's (0.6 vs 1.9 ms at 768×576)
        converted: Image = import_cv2().cvtColor(image, import_cv2().COLOR_BGR2YUV_I420)
        return converted

    def _packets(self, packets: list[av.Packet[av.VideoStream]]) -> list[EncodedPacket]:
        out = []
        for packet in packets:
            pts = packet.pts if packet.pts is not None else self._last_pts
            captured_at, wall_at, duration, skipped = self._pending.pop(
                pts, (self._origin or 0.0, None, 1, 0)
            )
            out.append(
                EncodedPacket(
                    data=bytes(packet),
                    pts=pts,
                    dts=packet.dts if packet.dts is not None else pts,
                    duration=duration,
                    keyframe=packet.is_keyframe,
                    captured_at=captured_at,
                    wall_at=wall_at,
                    stream=self.stream,
                    skipped_before=skipped,
                )
            )
        return out


class ClipEncoder:
    """Encodes BGR frames straight into one MP4 file at ``path`` (a :class:`FrameEncoder`
    feeding a :class:`ClipMuxer`), timed by the frames' timestamps. The first frame fixes
    the size (rounded down to even numbers); later frames of another size are scaled to it.
    For clips made outside a camera's recorder (tests, tools). Used from one thread."""

    def __init__(self, path: Path, codec: ClipCodec, fps_hint: float) -> None:
        self.path = path
        self._codec = codec
        self._fps_hint = fps_hint
        self._encoder: FrameEncoder | None = None
        self._muxer = ClipMuxer(path)
        self._frame_s = max(1, round(1000 / fps_hint)) / 1000

    @property
    def frames(self) -> int:
        return self._encoder.frames if self._encoder is not None else 0

    @property
    def frame_interval_s(self) -> float:
        """How long each frame is shown, in seconds (one nominal frame interval, in ms)."""
        return self._frame_s

    def add(self, image: Image, captured_at: float) -> None:
        """Encode one BGR frame captured at ``captured_at`` monotonic seconds."""
        if self._encoder is None:
            height, width = image.shape[0] & ~1, image.shape[1] & ~1
            if width < 2 or height < 2:
                raise ValueError(f"frame too small to encode: {image.shape}")
            self._encoder = FrameEncoder(self._codec, width, height, self._fps_hint)
        for packet in self._encoder.encode(image, captured_at, frame_s=self._frame_s):
            self._muxer.add(packet)

    def close(self) -> EncodedClip:
        """Flush the encoder and write the MP4 index. The file is not fsync'd here."""
        if self._encoder is not None:
            for packet in self._encoder.flush():
                self._muxer.add(packet)
        return self._muxer.close()

    def abort(self) -> None:
        """Close without caring about the result (the caller deletes the file)."""
        self._muxer.abort()
