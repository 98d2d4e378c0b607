"""Muxing a clip or a segment: a run of compressed packets into one MP4 file, without
re-encoding."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av

from engine.data_dirs import create_private_file
from engine.frames import EncodedPacket, VideoStreamInfo

log = logging.getLogger(__name__)

# A fragmented MP4 (a continuous-recording segment) is written a fragment at a time: at
# each keyframe, and at least this often between keyframes (seconds), so a crash loses at
# most this much of the segment being written (engine.record.segments says why).
FRAGMENT_S = 1.0
_FRAGMENTED_OPTIONS = {
    # An empty moov first, then moof+mdat pairs that each hold their own sample table: any
    # prefix ending at a fragment boundary is a playable file.
    "movflags": "+frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": str(int(FRAGMENT_S * 1_000_000)),  # microseconds
    # Hand each fragment to the OS as it is finished, not when FFmpeg's 32 KB write
    # buffer fills: a killed process then leaves every finished fragment on disk.
    "flush_packets": "1",
}


class ClipMuxError(ValueError):
    """Packets that cannot make a playable clip (not starting at a keyframe, another
    stream mid-clip, a codec MP4 cannot hold)."""


@dataclass(frozen=True, slots=True)
class EncodedClip:
    """What a clip file holds: frame (packet) count and playback length in seconds."""

    frames: int
    duration_s: float


class ClipMuxer:
    """Writes one stream's :class:`EncodedPacket` run, unchanged, into an MP4 at ``path``.

    The first packet must be a keyframe; its presentation time becomes the clip's 0 (the
    other packets keep their spacing, so gaps keep their real length). The MP4's codec
    parameters come from the first keyframe's in-band parameter sets (PyAV's
    ``extract_extradata``), so H.264/H.265 packets must be Annex B with SPS/PPS on their
    keyframes, as sources and the recorder's encoder deliver them. Decode-order timestamps
    that do not rise (a camera's glitch) are nudged up by one tick, as MP4 requires. Used
    from one thread at a time.

    ``fragmented``: a fragmented MP4 (see :data:`FRAGMENT_S`), written as it goes and
    playable up to its last complete fragment if the process dies; otherwise a plain MP4
    with its index at the front (``faststart``), complete only once closed.
    """

    def __init__(self, path: Path, *, fragmented: bool = False) -> None:
        self.path = path
        self.fragmented = fragmented
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._info: VideoStreamInfo | None = None
        self._origin = 0
        self._last_dts: int | None = None
        self._end = 0  # latest pts + duration, relative to the origin
        self.frames = 0

    @property
    def stream(self) -> VideoStreamInfo | None:
        """The stream this clip holds (None before the first packet)."""
        return self._info

    def add(self, packet: EncodedPacket) -> None:
        """Mux one packet (decode order)."""
        if self._container is None:
            self._open(packet)
        elif packet.stream is not self._info:
            raise ClipMuxError(f"{self.path.name}: a packet of another stream mid-clip")
        assert self._container is not None and self._stream is not None
        pts, dts = packet.pts - self._origin, packet.dts - self._origin
        if self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1
        pts = max(pts, dts)
        out = av.Packet(packet.data)
        out.stream = self._stream
        out.time_base = packet.stream.time_base
        out.pts, out.dts, out.duration = pts, dts, packet.duration
        out.is_keyframe = packet.keyframe
        self._container.mux(out)
        self._last_dts = dts
        self._end = max(self._end, pts + packet.duration)
        self.frames += 1

    def close(self) -> EncodedClip:
        """Write the MP4 index and close the file (not fsync'd here)."""
        if self._container is None or self._info is None:
            return EncodedClip(0, 0.0)
        try:
            self._container.close()
        finally:
            self._container = self._stream = None
        return EncodedClip(self.frames, float(self._end * self._info.time_base))

    def abort(self) -> None:
        """Close without caring about the result (the caller deletes the file)."""
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                log.debug("closing aborted clip %s failed", self.path, exc_info=True)
            self._container = self._stream = None

    def _open(self, packet: EncodedPacket) -> None:
        if not packet.keyframe:
            raise ClipMuxError(f"{self.path.name}: a clip must start at a keyframe")
        info = packet.stream
        create_private_file(self.path)  # the muxer keeps the mode of a file that exists
        options = _FRAGMENTED_OPTIONS if self.fragmented else {"movflags": "+faststart"}
        container = av.open(str(self.path), "w", format="mp4", options=dict(options))
        try:
            stream = container.add_mux_stream(
                info.codec, width=info.width, height=info.height, time_base=info.time_base
            )
        except ValueError as exc:  # "mp4 format does not support ... codec"
            container.close()
            raise ClipMuxError(f"{self.path.name}: {exc}") from exc
        except Exception:
            container.close()
            raise
        self._container, self._stream, self._info = container, stream, info
        self._origin = packet.pts
