"""What a camera URL gives, measured before it is added: codec, picture size, frame rate,
bitrate and keyframe interval over a few seconds of its video, and a snapshot.

A probe opens the URL as a camera source would (PyAV; RTSP over TCP; FFmpeg's own open and
read timeouts), reads the video stream's packets for ``seconds`` of stream time, and
decodes one picture for the snapshot. Everything it reads is bounded: the stream time, the
wall time (a stream that sends slower than real time ends the probe, saying so), the bytes
and the packets. A local path must be a regular file (not a FIFO or a device). The URL is
never shown with its password: messages use ``shown_url``.
"""

from __future__ import annotations

import logging
import math
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import av

from engine.cv import import_cv2

log = logging.getLogger(__name__)

PROBE_SECONDS: Final = 3.0  # of the stream's time, by default
MAX_PROBE_SECONDS: Final = 30.0
OPEN_TIMEOUT_S: Final = 8.0  # FFmpeg's open (connect, handshake, first bytes)
READ_TIMEOUT_S: Final = 5.0  # FFmpeg's wait for each read once open
WALL_SLACK_S: Final = 5.0  # beyond the stream time, before a slow stream ends the probe
MAX_PROBE_BYTES: Final = 256 * 2**20  # 30 s of a 60 Mbit/s stream is 225 MB
MAX_PROBE_PACKETS: Final = 10_000
SNAPSHOT_QUALITY: Final = 85
NETWORK_SCHEMES: Final = ("rtsp", "rtsps", "http", "https", "rtmp", "rtp", "udp", "tcp", "srt")
CODEC_NAMES: Final = {
    "h264": "H.264",
    "hevc": "H.265",
    "mjpeg": "MJPEG",
    "mpeg4": "MPEG-4",
    "msmpeg4v3": "MS MPEG-4",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
}


class ProbeError(RuntimeError):
    """The URL could not be probed: the message names it (without a password) and why."""


@dataclass(frozen=True, slots=True)
class StreamProbe:
    """What probing a URL found. ``declared_fps`` is what the stream says, ``measured_fps``
    what arrived (packets per second of stream time); ``bitrate_bps`` is the video's bits
    per second of stream time; ``keyframe_interval_s`` the mean time between keyframes
    (None with fewer than two); ``seconds`` the stream time read; ``snapshot_jpeg`` a JPEG of
    the first picture decoded (None if none could be). ``notes`` say what cut the probe
    short or looked wrong."""

    url: str
    codec: str
    width: int
    height: int
    declared_fps: float | None
    measured_fps: float | None
    bitrate_bps: float | None
    keyframe_interval_s: float | None
    seconds: float
    audio: str | None
    snapshot_jpeg: bytes | None
    packets: int
    notes: tuple[str, ...] = field(default=())

    @property
    def codec_name(self) -> str:
        return CODEC_NAMES.get(self.codec, self.codec.upper())

    @property
    def fps(self) -> float | None:
        """The frame rate to show: measured where enough arrived, else declared."""
        return self.measured_fps if self.measured_fps else self.declared_fps

    @property
    def recordable(self) -> bool:
        """Whether its packets are recorded as they come (H.264/H.265), not re-encoded."""
        return self.codec in ("h264", "hevc")

    def summary(self) -> str:
        """One line: "H.264 1920×1080 at 15.0 fps, 3.10 Mbit/s, a keyframe every 2.0 s"."""
        parts = [f"{self.codec_name} {self.width}×{self.height}"]
        if self.fps:
            parts[0] += f" at {self.fps:.1f} fps"
        if self.bitrate_bps is not None:
            parts.append(f"{self.bitrate_bps / 1e6:.2f} Mbit/s")
        if self.keyframe_interval_s is not None:
            parts.append(f"a keyframe every {self.keyframe_interval_s:.1f} s")
        if self.audio:
            parts.append(f"audio {self.audio}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "declared_fps": self.declared_fps,
            "measured_fps": self.measured_fps,
            "bitrate_bps": self.bitrate_bps,
            "keyframe_interval_s": self.keyframe_interval_s,
            "seconds": self.seconds,
            "audio": self.audio,
            "packets": self.packets,
            "snapshot": self.snapshot_jpeg is not None,
            "recordable": self.recordable,
            "notes": list(self.notes),
        }


def is_network_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in NETWORK_SCHEMES


def _check_local(url: str, shown_url: str) -> None:
    """A local path (or file: URL) must name a regular file: a FIFO would block the open
    and a device would never end."""
    path = Path(urlsplit(url).path if url.startswith("file:") else url)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ProbeError(f"{shown_url}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise ProbeError(f"{shown_url}: not a regular file (a FIFO, device or folder)")


def probe_stream(
    url: str,
    *,
    shown_url: str | None = None,
    seconds: float = PROBE_SECONDS,
    timeouts_s: tuple[float, float] = (OPEN_TIMEOUT_S, READ_TIMEOUT_S),
    max_bytes: int = MAX_PROBE_BYTES,
    wall_clock: Callable[[], float] = time.monotonic,
) -> StreamProbe:
    """Probe ``url`` (see the module) for ``seconds`` of its stream time. Blocks for up to
    about ``seconds`` plus the timeouts: call it on a worker. Raises :class:`ProbeError`."""
    shown = shown_url or url
    if not 0 < seconds <= MAX_PROBE_SECONDS:
        raise ProbeError(f"probe for 0–{MAX_PROBE_SECONDS:g} s of the stream, not {seconds:g}")
    if not is_network_url(url):
        _check_local(url, shown)
    options = {"rtsp_transport": "tcp"} if url.startswith(("rtsp://", "rtsps://")) else {}
    started = wall_clock()
    try:
        container = av.open(url, options=options, timeout=timeouts_s, metadata_errors="ignore")
    except Exception as exc:  # FFmpegError (refused, 401, 404, no such file), OSError
        text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ProbeError(f"{shown}: cannot open: {str(text).replace(url, shown)}") from None
    try:
        return _read(container, shown, seconds, max_bytes, started, wall_clock, timeouts_s[1])
    finally:
        container.close()


def _read(
    container: Any,
    shown: str,
    seconds: float,
    max_bytes: int,
    started: float,
    wall_clock: Callable[[], float],
    read_timeout_s: float,
) -> StreamProbe:
    if not container.streams.video:
        raise ProbeError(f"{shown}: no video stream")
    video = container.streams.video[0]
    context = video.codec_context
    if context.width <= 0 or context.height <= 0:
        raise ProbeError(f"{shown}: the video stream has no picture size ({context.name})")
    rate = video.average_rate or video.guessed_rate or video.base_rate
    declared = float(rate) if rate and math.isfinite(float(rate)) and rate > 0 else None
    audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    time_base: Fraction = video.time_base or Fraction(1, 90000)
    deadline = started + seconds + read_timeout_s + WALL_SLACK_S
    notes: list[str] = []
    first_pts: int | None = None
    last_pts: int | None = None
    last_duration = 0
    total = packets = 0
    keyframes: list[int] = []
    snapshot: bytes | None = None
    try:
        for packet in container.demux(video):
            if packet.size == 0 or packet.pts is None:
                continue  # a flush packet, or one without a time
            packets += 1
            total += packet.size
            first_pts = packet.pts if first_pts is None else min(first_pts, packet.pts)
            last_pts = packet.pts if last_pts is None else max(last_pts, packet.pts)
            last_duration = packet.duration or 0
            if packet.is_keyframe:
                keyframes.append(packet.pts)
            if snapshot is None and keyframes:
                snapshot = _snapshot(packet)
            span = float((last_pts - first_pts) * time_base)
            if span >= seconds:
                break
            if total >= max_bytes or packets >= MAX_PROBE_PACKETS:
                notes.append(f"stopped after {packets} packets ({total / 2**20:.0f} MiB)")
                break
            if wall_clock() > deadline:
                notes.append(
                    f"the stream sent {span:.1f} s of video in {wall_clock() - started:.0f} s: "
                    "slower than real time"
                )
                break
    except av.error.FFmpegError as exc:
        if not packets:
            raise ProbeError(f"{shown}: cannot read its video: {exc}") from None
        notes.append(f"reading stopped: {exc}")
    if not packets:
        raise ProbeError(f"{shown}: no video arrived")
    assert first_pts is not None and last_pts is not None
    span = float((last_pts - first_pts + last_duration) * time_base)
    if span <= 0 and declared:
        span = packets / declared
    measured = packets / span if span > 0 and packets > 1 else None
    bitrate = total * 8 / span if span > 0 else None
    interval = None
    if len(keyframes) >= 2:
        interval = float((keyframes[-1] - keyframes[0]) * time_base) / (len(keyframes) - 1)
    if not keyframes:
        notes.append(f"no keyframe in {span:.1f} s: a clip could not start in that time")
    if snapshot is None:
        notes.append("no picture could be decoded for a snapshot")
    return StreamProbe(
        url=shown,
        codec=context.name,
        width=context.width,
        height=context.height,
        declared_fps=declared,
        measured_fps=measured,
        bitrate_bps=bitrate,
        keyframe_interval_s=interval,
        seconds=span,
        audio=audio,
        snapshot_jpeg=snapshot,
        packets=packets,
        notes=tuple(notes),
    )


def _snapshot(packet: Any) -> bytes | None:
    """The picture ``packet`` decodes to, as a JPEG (None while the decoder has none)."""
    try:
        frames = packet.decode()
    except av.error.FFmpegError:
        return None
    for frame in frames:
        cv2 = import_cv2()
        ok, jpeg = cv2.imencode(
            ".jpg", frame.to_ndarray(format="bgr24"), [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY]
        )
        if ok:
            return bytes(jpeg)
    return None
