"""What a camera URL gives, measured before it is added: codec, picture size, frame rate,
bitrate and keyframe interval over a few seconds of its video, and a snapshot.

A probe opens the URL as a camera source would (PyAV; RTSP over TCP; FFmpeg's own open and
read timeouts), reads the video stream's packets for ``seconds`` of stream time, and
decodes one picture for the snapshot. Everything it reads is bounded: the stream time, the
wall time (a stream that sends slower than real time ends the probe, saying so), the bytes
and the packets. A local path must be a regular file (not a FIFO or a device). The URL is
never shown with its password: messages use ``shown_url``.

A failure is a :class:`ProbeError` whose ``reason`` names its kind (:data:`ProbeFailure`) and
whose message says in words what happened and what to check, as a security admin adding a
camera reads it: "the camera refused the user name or password (401)", "nothing answers on
port 554 of 10.0.0.9", "the stream closed after 1.2 s (3 packets)". It is read from the
error FFmpeg gives (PyAV's ``av.error`` classes and their POSIX errno).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import math
import os
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote, urlsplit

import av

from engine.config import PASSWORD_MASK, with_password
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
DEFAULT_PORTS: Final = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443, "rtmp": 1935}
# The errno FFmpeg passes on from the socket (PyAV raises them as av.error.OSError subclasses).
NO_ROUTE_ERRNOS: Final = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN})
CLOSED_ERRNOS: Final = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})

ProbeFailure = Literal[
    "bad_request",  # the probe was asked for something it does not do (its seconds)
    "not_found",  # no such file, or the camera has no stream at that path (404)
    "not_a_file",  # a FIFO, a device or a folder
    "not_a_video",  # what answered (or the file) is not a video FFmpeg can read
    "password_needed",  # the camera wants a password and none was given (or found)
    "wrong_password",  # the camera refused the user name or password (401)
    "forbidden",  # the user may not see the stream (403), or may not read the file
    "unknown_host",  # the camera's name is not known to the DNS
    "unreachable",  # no route to the camera's address
    "refused",  # nothing answers on the port (connection refused)
    "timeout",  # no answer within the open or read timeout
    "camera_error",  # the camera answered with an error of its own (5xx, other 4xx)
    "unsupported_codec",  # video that Watchfloor cannot decode, so neither analyse nor record
    "no_video",  # no video stream, no picture size, no video packet
    "stream_closed",  # a network stream that ended before the probe's seconds
    "failed",  # anything else: the message carries FFmpeg's words
]


class ProbeError(RuntimeError):
    """The URL could not be probed: the message names it (without a password), says in
    words what happened and what to check; ``reason`` is its kind (:data:`ProbeFailure`)."""

    def __init__(self, message: str, reason: ProbeFailure = "failed") -> None:
        super().__init__(message)
        self.reason: ProbeFailure = reason

    def __reduce__(self) -> tuple[type[ProbeError], tuple[str, ProbeFailure]]:
        return type(self), (str(self), self.reason)


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


def url_with_password(url: str, password: str | None) -> tuple[str, str]:
    """The URL to open and the one to show: ``url`` with ``password`` (as typed; URL-quoted
    here) as its user info's password, and the same URL with ``***`` in its place. Without
    a password: ``url`` as it is, shown with any password it carries masked."""
    if password:
        return with_password(url, quote(password, safe="")), with_password(url, PASSWORD_MASK)
    return url, with_password(url, PASSWORD_MASK) if _has_password(url) else url


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:  # not a URL that splits (a bad port): taken as given
        return False


def probe_with_password(
    url: str,
    password: str | None,
    *,
    seconds: float = PROBE_SECONDS,
    timeouts_s: tuple[float, float] = (OPEN_TIMEOUT_S, READ_TIMEOUT_S),
) -> StreamProbe:
    """:func:`probe_stream` of ``url`` with ``password`` put into it
    (:func:`url_with_password`); the probe and its errors show the URL with ``***``."""
    connect, shown = url_with_password(url, password)
    return probe_stream(connect, shown_url=shown, seconds=seconds, timeouts_s=timeouts_s)


def _check_local(url: str, shown_url: str) -> None:
    """A local path (or file: URL) must name a regular file: a FIFO would block the open
    and a device would never end."""
    path = Path(urlsplit(url).path if url.startswith("file:") else url)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise _missing_file(shown_url) from None
    except PermissionError:
        raise _unreadable_file(shown_url) from None
    except OSError as exc:
        raise ProbeError(f"{shown_url}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise ProbeError(
            f"{shown_url}: not a regular file (a FIFO, device or folder)", "not_a_file"
        )


def _missing_file(shown: str) -> ProbeError:
    return ProbeError(f"{shown}: No such file (check the path)", "not_found")


def _unreadable_file(shown: str) -> ProbeError:
    return ProbeError(f"{shown}: this user may not read it (permission denied)", "forbidden")


def _host_port(url: str) -> tuple[str, str]:
    """The host of a network URL and its port in words ("554"), for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "the camera"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = DEFAULT_PORTS.get(parts.scheme.lower())
    return host, str(port) if port is not None else "its port"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _open_failure(exc: Exception, url: str, shown: str, open_timeout_s: float) -> ProbeError:
    """What ``av.open`` raising ``exc`` means, in words (see :data:`ProbeFailure`)."""
    code = getattr(exc, "errno", None)
    strerror = str(getattr(exc, "strerror", None) or exc or type(exc).__name__)
    strerror = strerror.replace(url, shown)
    # RTSP's status codes come as FFmpeg's HTTP errors (an RTSP 401 is an HTTP 401).
    if isinstance(exc, av.error.HTTPUnauthorizedError):
        if not _has_password(url):
            return ProbeError(
                f"{shown}: the camera wants a user name and password (401); give them",
                "password_needed",
            )
        return ProbeError(
            f"{shown}: the camera refused the user name or password (401)", "wrong_password"
        )
    if isinstance(exc, av.error.HTTPForbiddenError):
        return ProbeError(
            f"{shown}: the camera does not let this user see the stream (403); check the "
            "user's rights in the camera's settings",
            "forbidden",
        )
    if isinstance(exc, av.error.HTTPNotFoundError):
        return ProbeError(
            f"{shown}: the camera has no stream at this path (404); check the path after the "
            "address (the camera's manual or its ONVIF streams give it)",
            "not_found",
        )
    if isinstance(exc, av.error.HTTPServerError):
        return ProbeError(
            f"{shown}: the camera answered with an error of its own (5xx); it may be busy or "
            "starting: try again, or restart it",
            "camera_error",
        )
    if isinstance(exc, av.error.HTTPError):  # another 4xx
        return ProbeError(f"{shown}: the camera refused the request ({strerror})", "camera_error")
    if not is_network_url(url):
        if code == errno.ENOENT:
            return _missing_file(shown)
        if code == errno.EACCES:
            return _unreadable_file(shown)
        if isinstance(exc, av.error.InvalidDataError):
            return ProbeError(f"{shown}: not a video file (FFmpeg cannot read it)", "not_a_video")
        return ProbeError(f"{shown}: cannot open: {strerror}")
    host, port = _host_port(url)
    if code == errno.ECONNREFUSED:
        return ProbeError(
            f"{shown}: nothing answers on port {port} of {host} (connection refused: check the "
            "port, and that the camera's stream service is on)",
            "refused",
        )
    if code in NO_ROUTE_ERRNOS:
        return ProbeError(
            f"{shown}: no route to {host} (is the camera on this network?)", "unreachable"
        )
    # PyAV's timeout ends FFmpeg's wait through its interrupt callback: AVERROR_EXIT.
    if isinstance(exc, av.error.ExitError) or code == errno.ETIMEDOUT:
        return ProbeError(
            f"{shown}: no answer from {host} on port {port} within {open_timeout_s:g} s (is the "
            "camera on, on this network, and is the address right?)",
            "timeout",
        )
    if code in CLOSED_ERRNOS or isinstance(exc, av.error.EOFError):
        return ProbeError(
            f"{shown}: the camera closed the connection before the stream started (is it at "
            "its limit of viewers?)",
            "stream_closed",
        )
    if not _is_address(host) and code == errno.EIO:  # FFmpeg says EIO when a name fails
        try:
            socket.getaddrinfo(host, None)
        except (socket.gaierror, UnicodeError):
            return ProbeError(
                f"{shown}: the name {host} is not known here (check its spelling, or use the "
                "camera's IP address)",
                "unknown_host",
            )
    if isinstance(exc, av.error.InvalidDataError):
        return ProbeError(
            f"{shown}: something answers on port {port} of {host}, but not with a video "
            "stream (is this the camera's stream URL?)",
            "not_a_video",
        )
    return ProbeError(f"{shown}: cannot open: {strerror}")


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
        raise ProbeError(
            f"probe for 0–{MAX_PROBE_SECONDS:g} s of the stream, not {seconds:g}", "bad_request"
        )
    network = is_network_url(url)
    if not network:
        _check_local(url, shown)
    options = {"rtsp_transport": "tcp"} if url.startswith(("rtsp://", "rtsps://")) else {}
    started = wall_clock()
    try:
        container = av.open(url, options=options, timeout=timeouts_s, metadata_errors="ignore")
    except Exception as exc:  # FFmpegError (refused, 401, 404, no such file), OSError
        raise _open_failure(exc, url, shown, timeouts_s[0]) from None
    try:
        return _read(
            container, shown, network, seconds, max_bytes, started, wall_clock, timeouts_s[1]
        )
    finally:
        container.close()


def _read(
    container: Any,
    shown: str,
    network: bool,
    seconds: float,
    max_bytes: int,
    started: float,
    wall_clock: Callable[[], float],
    read_timeout_s: float,
) -> StreamProbe:
    if not container.streams.video:
        raise ProbeError(f"{shown}: it carries no video (audio or data only)", "no_video")
    video = container.streams.video[0]
    context = video.codec_context
    if context is None:
        # PyAV gives no codec context (nor the codec's name) for a codec FFmpeg cannot
        # decode. Watchfloor decodes every camera's video for analysis, and records any
        # codec but H.264/H.265 re-encoded from those pictures: such video is of no use.
        raise ProbeError(
            f"{shown}: the camera sends video in a format Watchfloor cannot decode (FFmpeg "
            "has no decoder for it), so it can neither analyse nor record it; set the "
            "camera's stream to H.264 or H.265",
            "unsupported_codec",
        )
    if context.width <= 0 or context.height <= 0:
        raise ProbeError(
            f"{shown}: the video stream has no picture size ({context.name})", "no_video"
        )
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
    ended = False  # the stream ended (its end, or the other side closed it)
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
        else:
            ended = True
    except av.error.FFmpegError as exc:
        code = getattr(exc, "errno", None)
        # FFmpeg's HTTP reader says EIO for a connection that ends before its stream does.
        closed = code in CLOSED_ERRNOS or code == errno.EIO or isinstance(exc, av.error.EOFError)
        if network and closed:
            ended = True
        elif isinstance(exc, av.error.ExitError):  # PyAV's read timeout
            if not packets:
                raise ProbeError(
                    f"{shown}: the stream opened, but no video came within {read_timeout_s:g} s",
                    "timeout",
                ) from None
            notes.append(f"the stream stalled: nothing came for {read_timeout_s:g} s")
        else:
            words = str(getattr(exc, "strerror", None) or exc)
            if not packets:
                raise ProbeError(f"{shown}: cannot read its video: {words}") from None
            notes.append(f"reading stopped: {words}")
    span = 0.0
    if first_pts is not None and last_pts is not None:
        span = float((last_pts - first_pts + last_duration) * time_base)
    if span <= 0 and declared:
        span = packets / declared
    if network and ended and span < seconds:
        # A camera's stream does not end: one that does is cut by the camera (restarting,
        # at its limit of viewers) or by something between.
        if not packets:
            raise ProbeError(
                f"{shown}: the stream closed before any video came (is the camera at its "
                "limit of viewers, or restarting?)",
                "stream_closed",
            )
        raise ProbeError(
            f"{shown}: the stream closed after {span:.1f} s ({packets} packets); a camera's "
            "stream should not end (is the camera at its limit of viewers, or restarting?)",
            "stream_closed",
        )
    if not packets:
        raise ProbeError(f"{shown}: no video arrived", "no_video")
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
