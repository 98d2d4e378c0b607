"""Opening a camera and reading it: decoded BGR frames for analysis and, for H.264/H.265
sources, the compressed packets themselves for recording.

Files and network streams are demuxed and decoded with PyAV (FFmpeg), so one demuxer gives
both: the packets go to the clip recorder unchanged (no decode-encode, as Frigate records),
and their decoded pictures to the analysis. Webcams are read with OpenCV (its capture
backends cover V4L2, DirectShow and AVFoundation) and their frames are encoded by the
recorder.

Pictures are converted to BGR by swscale with a cached context, giving exactly the pixels
OpenCV's FFmpeg capture gave before (bit for bit; the analysis was tuned on those; OpenCV's
own I420→BGR would save 0.5-2 ms a frame but differs by up to 13 levels, enough to change
face matches). CPU ms per frame, decode + BGR (+ packets for recording), this machine
(every frame of the file read, two runs): vtest.avi msmpeg4 768×576 PyAV 0.67-0.69,
OpenCV 0.57-0.69; Hamilton H.264 640×360 PyAV 0.60-0.61, OpenCV 0.52-0.57; H.264 1920×1080
PyAV 6.1-6.4, OpenCV 6.5. One demuxer for both pictures and packets costs nothing extra.
"""

from __future__ import annotations

import collections
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any, cast

import av
import av.bitstream
import av.video.reformatter

from engine.cv import import_cv2
from engine.frames import EncodedPacket, Image, VideoStreamInfo

log = logging.getLogger(__name__)

STREAM_COPY_CODECS = ("h264", "hevc")  # what MP4 holds and every player plays
MAX_CONSECUTIVE_DECODE_ERRORS = 100  # then the input is treated as lost (corrupt beyond use)
_FALLBACK_TIME_BASE = Fraction(1, 90000)
# Live pictures up to this size decode on the reading thread alone; larger ones with slice
# threads. Measured on 6 idle 640×360 sub streams with a camera's pace (2 cores): slice
# threads cost 0.016 of a core a camera for nothing (a camera sends one slice a picture).
SINGLE_THREAD_MAX_PIXELS = 1280 * 720
# A live RTSP stream is opened reading only its first packet (FFmpeg's smallest probe, in
# bytes): the SDP's parameter sets and that packet give the codec and picture size. FFmpeg's
# default probe (up to 5 s, and about 2 s of frames to estimate a rate the SPS already
# gives) held a 10 fps camera 2.8 s per stream before its first picture, then let those
# frames out at once. A stream whose parameters come later (none in the SDP, or audio
# first) is opened again with the default probe.
QUICK_LIVE_PROBE: Mapping[str, str] = {"probesize": "32"}


class CaptureOpenError(RuntimeError):
    """The camera or file could not be opened; the message is safe to show (no password)."""


@dataclass(frozen=True, slots=True)
class StreamPacket:
    """A compressed packet as demuxed (Annex B, parameter sets on keyframes), not yet stamped
    with engine time. ``pts_s``: its presentation time from the stream start (s)."""

    data: bytes
    pts: int
    dts: int
    duration: int
    keyframe: bool
    pts_s: float

    def stamped(
        self, stream: VideoStreamInfo, captured_at: float, wall_at: datetime | None
    ) -> EncodedPacket:
        """This packet of ``stream`` on the engine's time base (``captured_at`` monotonic
        seconds, ``wall_at`` UTC), as the recorder takes it."""
        return EncodedPacket(
            data=self.data,
            pts=self.pts,
            dts=self.dts,
            duration=self.duration,
            keyframe=self.keyframe,
            captured_at=captured_at,
            wall_at=wall_at,
            stream=stream,
        )


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decoded picture: BGR image, presentation time from the stream start in seconds
    (0.0 when the container gives none), and the compressed packets demuxed since the
    previous picture (None: this source does not give packets)."""

    image: Image
    pts_s: float
    packets: tuple[StreamPacket, ...] | None


class Capture:
    """An open camera or file, read from one thread at a time."""

    fps: float = 0.0  # the container's frame rate (0: unknown)
    declared_s: float = 0.0  # files: the length the container declares (0: unknown)
    stream: VideoStreamInfo | None = None  # set when packets are given (stream copy)
    decode_errors: int = 0  # corrupt packets skipped (by the decoder or for recording)
    problem: str | None = None  # why reading stopped early, when it did (safe to show)

    def read(self) -> Decoded | None:
        """The next picture, or None at the end of the input or when it is lost."""
        raise NotImplementedError

    def rewind(self) -> bool:
        """Start again from the beginning (looping files); False if that is impossible."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


def open_pyav(
    url: str,
    *,
    live: bool,
    shown_url: str,
    timeouts_s: tuple[float, float] | None = None,
    options: Mapping[str, str] | None = None,
    packets: bool = True,
    decode: bool = True,
) -> PyAvCapture:
    """Open a file or stream with PyAV. ``timeouts_s``: (open, read) limits of FFmpeg's
    blocking calls, so a dead stream cannot hang the worker. ``shown_url`` replaces ``url``
    in messages (the connect URL may hold a password). ``options``: more FFmpeg options for
    this input alone (OpenCV's ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` would apply to every input
    the process opens after). ``packets=False``: pictures only, no compressed packets kept
    for recording. ``decode=False``: packets only, nothing decoded (a camera's main stream
    recorded while its sub stream is analysed: :meth:`PyAvCapture.read_packets`). A live
    RTSP stream is opened with :data:`QUICK_LIVE_PROBE` first, and again with FFmpeg's
    default probe when that leaves its picture size or codec unknown
    (:attr:`PyAvCapture.quick_probe` says which). Raises :class:`CaptureOpenError`."""
    shared: dict[str, str] = {}
    if url.startswith(("rtsp://", "rtsps://")):
        shared["rtsp_transport"] = "tcp"  # as OpenCV does: no lost UDP packets (smeared frames)
    quick = live and bool(shared)
    container = None
    if quick:
        container = _open_container(
            url, shown_url, {**shared, **QUICK_LIVE_PROBE}, options, timeouts_s
        )
        if not _parameters_known(container):
            log.info("%s: parameters not in its first packet; probing it longer", shown_url)
            container.close()
            container, quick = None, False
    if container is None:
        container = _open_container(url, shown_url, shared, options, timeouts_s)
    try:
        capture = PyAvCapture(
            container, live=live, url=url, shown_url=shown_url, packets=packets, decode=decode
        )
    except Exception as exc:
        container.close()
        raise CaptureOpenError(_reason(exc, url, shown_url)) from exc
    capture.quick_probe = quick
    return capture


def _open_container(
    url: str,
    shown_url: str,
    ours: Mapping[str, str],
    theirs: Mapping[str, str] | None,
    timeouts_s: tuple[float, float] | None,
) -> Any:
    """``av.open`` with ``ours`` then the caller's FFmpeg options (theirs win)."""
    try:
        return av.open(
            url,
            options={**ours, **(theirs or {})},
            timeout=timeouts_s,
            metadata_errors="ignore",
        )
    except Exception as exc:  # FFmpegError (refused, 401, no such file), OSError, ...
        raise CaptureOpenError(_reason(exc, url, shown_url)) from exc


def _parameters_known(container: Any) -> bool:
    """Whether ``container``'s first video stream has its codec and picture size."""
    if not container.streams.video:
        return False
    context = container.streams.video[0].codec_context
    return bool(context.name) and context.width > 0 and context.height > 0


def _reason(exc: BaseException, url: str, shown_url: str) -> str:
    """A short, password-free description of ``exc``."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).replace(url, shown_url)


class PyAvCapture(Capture):
    """Reads the first video stream of a PyAV container.

    For H.264/H.265 it also gives the compressed packets, converted to Annex B with the
    parameter sets on every keyframe (``*_mp4toannexb`` for MP4/MKV input; ``dump_extra``
    for Annex B input whose parameter sets came out of band, as in an RTSP SDP), so a clip
    can start at any keyframe. Packets the decoder rejects are counted and skipped
    (:attr:`decode_errors`); after :data:`MAX_CONSECUTIVE_DECODE_ERRORS` in a row the input
    counts as lost. ``rewind`` continues the timestamps after the end (looping files), so a
    clip across the loop still has rising timestamps.
    """

    def __init__(
        self,
        container: Any,
        *,
        live: bool,
        url: str = "",
        shown_url: str = "",
        packets: bool = True,
        decode: bool = True,
    ) -> None:
        self._url, self._shown_url = url, shown_url
        self._decoding = decode
        self.quick_probe = False  # opened reading its first packet alone (QUICK_LIVE_PROBE)
        if not container.streams.video:
            raise CaptureOpenError("no video stream")
        stream = container.streams.video[0]
        context = stream.codec_context
        if live and context.width * context.height <= SINGLE_THREAD_MAX_PIXELS:
            # A sub stream (or a small camera's) decodes in about a millisecond: FFmpeg's
            # slice threads only wake and wait for it (a camera's one slice a picture).
            stream.thread_count = 1
        else:
            stream.thread_type = "SLICE" if live else "AUTO"  # frame threads add latency
        if context.width <= 0 or context.height <= 0:
            raise CaptureOpenError(f"video stream without a picture size ({context.name})")
        self._container = container
        self._video = stream
        self.codec = context.name  # FFmpeg's name of the video codec (h264, hevc, mjpeg…)
        self._time_base = stream.time_base or _FALLBACK_TIME_BASE
        self._start = stream.start_time or 0
        # A stream opened from its first packet has no measured average yet; its codec's
        # own rate (H.264/H.265 VUI timing) comes before FFmpeg's guess, which for H.264
        # is the field rate, twice the frame rate.
        rate = stream.average_rate or context.framerate or stream.guessed_rate or stream.base_rate
        self.fps = float(rate) if rate else 0.0
        if stream.frames and self.fps:
            self.declared_s = stream.frames / self.fps
        elif stream.duration:
            self.declared_s = float(stream.duration * self._time_base)
        elif container.duration:
            self.declared_s = container.duration / av.time_base
        self._filter: av.bitstream.BitStreamFilterContext | None = None
        self.stream = None
        if packets and context.name in STREAM_COPY_CODECS:
            extradata = context.extradata or b""
            length_prefixed = extradata[:1] == b"\x01"  # avcC / hvcC: MP4, MKV
            if length_prefixed:
                self._filter = av.bitstream.BitStreamFilterContext(
                    f"{context.name}_mp4toannexb", stream
                )
            elif extradata:
                self._filter = av.bitstream.BitStreamFilterContext(
                    "dump_extra=freq=keyframe", stream
                )
            self.stream = VideoStreamInfo(
                context.name, context.width, context.height, self._time_base, encoder=None
            )
        # One cached swscale context: the same BGR pixels OpenCV's FFmpeg capture gives
        # (bit for bit; the detector and face thresholds were tuned on those).
        self._reformatter = av.video.reformatter.VideoReformatter()
        self._packets = container.demux(stream)
        self._pictures: collections.deque[tuple[Image, float]] = collections.deque()
        self._pending: list[StreamPacket] = []
        self._offset = 0  # ticks added to timestamps after a rewind
        self._end_ticks = 0  # latest pts + duration seen, offset included
        self._last_dts: int | None = None
        self._ended = False
        self._errors_in_row = 0

    def read(self) -> Decoded | None:
        while not self._pictures and not self._ended:
            self._read_packet()
        if not self._pictures:
            return None
        image, pts_s = self._pictures.popleft()
        packets = None
        if self.stream is not None:
            packets, self._pending = tuple(self._pending), []
        return Decoded(image, pts_s, packets)

    def rewind(self) -> bool:
        try:
            self._container.seek(0, backward=True, any_frame=False, stream=self._video)
        except Exception as exc:
            log.warning("cannot rewind %s: %s", self._container.name, exc)
            return False
        self._video.codec_context.flush_buffers()
        if self._filter is not None:
            self._filter.flush()
        self._offset = self._end_ticks - self._start
        self._packets = self._container.demux(self._video)
        self._ended = False
        return True

    def release(self) -> None:
        """Close the input and free the decoder now (its threads are joined here, not at
        some later garbage collection on whichever thread drops the last reference)."""
        self._container.close()
        self._packets = iter(())
        self._pictures.clear()
        self._filter = None
        del self._video, self._container

    def _read_packet(self) -> None:
        try:
            packet = next(self._packets)
        except StopIteration:
            self._ended = True
            return
        except Exception as exc:  # a read timeout, a dropped connection, unreadable data
            self.problem = _reason(exc, self._url, self._shown_url) if self._url else str(exc)
            self._ended = True
            return
        if packet.size == 0:  # the demuxer's end marker: drain the decoder
            if self._decoding:
                self._decode(None)
            return
        if packet.pts is not None:  # where a rewind continues the timeline
            end = packet.pts + self._offset + max(packet.duration or 0, 1)
            self._end_ticks = max(self._end_ticks, end)
        if self._decoding:
            self._decode(packet)
        if self.stream is not None:
            self._keep(packet)

    def read_packets(self) -> tuple[StreamPacket, ...] | None:
        """Demux the next packet without decoding it (``decode=False``): the packets kept
        for recording since the last call (possibly none), or None at the end of the input
        or when it is lost (:attr:`problem` says why)."""
        if self._ended:
            return None
        self._read_packet()
        packets, self._pending = tuple(self._pending), []
        if not packets and self._ended:
            return None
        return packets

    def _decode(self, packet: Any) -> None:
        try:
            frames = self._video.codec_context.decode(packet)
        except av.FFmpegError as exc:
            self.decode_errors += 1
            self._errors_in_row += 1
            if self.decode_errors == 1:
                log.warning("%s: skipping undecodable data (%s)", self._container.name, exc)
            if self._errors_in_row >= MAX_CONSECUTIVE_DECODE_ERRORS:
                self.problem = f"{self._errors_in_row} undecodable packets in a row"
                self._ended = True
            return
        self._errors_in_row = 0
        for frame in frames:
            pts_s = 0.0
            if frame.pts is not None:
                pts_s = float((frame.pts + self._offset - self._start) * self._time_base)
            bgr = self._reformatter.reformat(frame, format="bgr24")
            self._pictures.append((cast(Image, bgr.to_ndarray()), pts_s))

    def _keep(self, packet: Any) -> None:
        """Keep ``packet``'s compressed data for recording (Annex B), after decoding it."""
        pts, dts, duration = packet.pts, packet.dts, packet.duration or 0
        if dts is None:
            dts = pts if pts is not None else (self._last_dts or 0) + max(duration, 1)
        if pts is None:
            pts = dts
        keyframe = bool(packet.is_keyframe)
        try:
            outputs = self._filter.filter(packet) if self._filter is not None else [packet]
        except av.FFmpegError:  # not a valid H.264/H.265 packet: nothing worth recording
            self.decode_errors += 1
            return
        data = b"".join(bytes(out) for out in outputs)
        if not data:
            return
        pts, dts = pts + self._offset, dts + self._offset
        self._last_dts = dts
        self._pending.append(
            StreamPacket(
                data,
                pts,
                dts,
                duration,
                keyframe,
                float((pts - self._start) * self._time_base),
            )
        )


class Cv2Capture(Capture):
    """A webcam (or anything else) through OpenCV's ``VideoCapture``; no packets."""

    def __init__(self, capture: Any) -> None:
        cv2 = import_cv2()
        self._capture = capture
        self.fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = float(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0)
        self.declared_s = frames / self.fps if frames > 0 and self.fps > 0 else 0.0

    def read(self) -> Decoded | None:
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        pts_ms = float(self._capture.get(import_cv2().CAP_PROP_POS_MSEC) or 0.0)
        pts_s = pts_ms / 1000.0 if math.isfinite(pts_ms) and pts_ms > 0 else 0.0
        return Decoded(image, pts_s, None)

    def rewind(self) -> bool:
        return bool(self._capture.set(import_cv2().CAP_PROP_POS_FRAMES, 0))

    def release(self) -> None:
        self._capture.release()
