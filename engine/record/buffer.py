"""The pre-event buffer: the last few seconds of one camera's compressed packets, from a
keyframe on, ready to start a clip."""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field

from engine.frames import EncodedPacket, VideoStreamInfo

log = logging.getLogger(__name__)

PRE_EVENT_S = 5.0  # footage kept before the first activity (issue: 5 s pre-event buffer)
# Upper bound on the pre-event buffer of one camera, in bytes of compressed video. 5 s of
# 1080p15 H.264 is about 1-4 MB (ultrafast crf 23: 1.5 Mbit/s on upscaled footage; cameras
# typically send 2-8 Mbit/s); only a camera sending over ~40 Mbit/s reaches this cap, which
# then shortens its pre-event footage (with a warning) rather than exhausting memory.
PRE_BUFFER_MAX_BYTES = 30_000_000


@dataclass(slots=True)
class _Gop:
    """A keyframe and the packets after it up to the next keyframe (decode order)."""

    first_seq: int  # the recorder's arrival number of the keyframe
    packets: list[EncodedPacket] = field(default_factory=list)
    nbytes: int = 0

    @property
    def keyframe(self) -> EncodedPacket:
        return self.packets[0]


class PreEventBuffer:
    """The last ``seconds`` of one stream's packets, whole GOPs from a keyframe on.

    It keeps the newest keyframe at or before ``newest − seconds`` and everything after, so
    a clip asked to start ``seconds`` before now can start at a keyframe at or before that
    (up to one keyframe interval earlier). Memory is the packets' bytes: about
    ``bit rate × (seconds + keyframe interval)``. Above ``max_bytes`` the oldest GOPs go
    first and a warning says the pre-event footage is shorter than asked. Packets of another
    stream (a reconnect, a new encoder) replace everything held; packets before the first
    keyframe are dropped (nothing could decode them).

    Each packet gets an arrival number (``seq``, decode order) so a clip can say which
    packets it took. Not thread-safe: :class:`ClipRecorder` uses it under its own lock.
    """

    def __init__(self, seconds: float, *, max_bytes: int = PRE_BUFFER_MAX_BYTES) -> None:
        if seconds < 0:
            raise ValueError(f"pre-event buffer length must be >= 0 s, got {seconds}")
        if max_bytes <= 0:
            raise ValueError(f"pre-event buffer byte cap must be positive, got {max_bytes}")
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._gops: collections.deque[_Gop] = collections.deque()
        self._stream: VideoStreamInfo | None = None
        self._nbytes = 0
        self._count = 0
        self._warned_truncated = False

    def append(self, packet: EncodedPacket, seq: int) -> bool:
        """Add the newest packet (arrival number ``seq``); False if it was not kept (it
        precedes the stream's first keyframe). Forgets GOPs no longer needed."""
        if packet.stream is not self._stream:
            self.clear()
            self._stream = packet.stream
        gops = self._gops
        if packet.keyframe:
            gops.append(_Gop(seq))
        elif not gops:
            return False
        gop = gops[-1]
        gop.packets.append(packet)
        size = len(packet.data)
        gop.nbytes += size
        self._nbytes += size
        self._count += 1
        horizon = packet.captured_at - self.seconds
        # The oldest GOP can go once the next one starts at or before the horizon.
        while len(gops) > 1 and gops[1].keyframe.captured_at <= horizon:
            self._drop_oldest()
        while self._nbytes > self.max_bytes and len(gops) > 1:
            self._drop_oldest()
            if not self._warned_truncated:
                self._warned_truncated = True
                log.warning(
                    "pre-event buffer capped at %d MB: keeping %.1f s instead of %.1f s "
                    "(%s %d×%d at %.1f Mbit/s)",
                    self.max_bytes // 1_000_000,
                    packet.captured_at - gops[0].keyframe.captured_at,
                    self.seconds,
                    packet.stream.codec,
                    packet.stream.width,
                    packet.stream.height,
                    self.bitrate_bps() / 1e6,
                )
        return True

    def start_for(self, target: float, after_seq: int) -> tuple[list[int], list[EncodedPacket]]:
        """Where a clip that should start at monotonic time ``target`` begins: the newest
        keyframe at or before ``target`` among those that arrived after packet
        ``after_seq`` (the previous clip's last), else the oldest such keyframe (less
        pre-event footage than asked). Returns (arrival numbers, packets) from that keyframe
        to the newest packet; both empty when no such keyframe is held yet."""
        eligible = [g for g in self._gops if g.first_seq > after_seq]
        if not eligible:
            return [], []
        chosen = eligible[0]
        for gop in eligible:
            if gop.keyframe.captured_at <= target:
                chosen = gop
        seqs: list[int] = []
        packets: list[EncodedPacket] = []
        started = False
        for gop in self._gops:
            started = started or gop is chosen
            if started:
                seqs.extend(range(gop.first_seq, gop.first_seq + len(gop.packets)))
                packets.extend(gop.packets)
        return seqs, packets

    def keyframe_interval_s(self) -> float | None:
        """Capture time between the two newest keyframes (None with fewer than two)."""
        if len(self._gops) < 2:
            return None
        return self._gops[-1].keyframe.captured_at - self._gops[-2].keyframe.captured_at

    def bitrate_bps(self) -> float:
        """Bits per second over the span held (0 when it spans no time)."""
        span = self.span_s
        return self._nbytes * 8 / span if span > 0 else 0.0

    def clear(self) -> None:
        self._gops.clear()
        self._stream = None
        self._nbytes = 0
        self._count = 0

    def _drop_oldest(self) -> None:
        gop = self._gops.popleft()
        self._nbytes -= gop.nbytes
        self._count -= len(gop.packets)

    @property
    def nbytes(self) -> int:
        """Bytes of compressed video currently held."""
        return self._nbytes

    @property
    def span_s(self) -> float:
        """Capture seconds from the oldest keyframe held to the newest packet."""
        if not self._gops:
            return 0.0
        return self._gops[-1].packets[-1].captured_at - self._gops[0].keyframe.captured_at

    @property
    def stream(self) -> VideoStreamInfo | None:
        """The stream whose packets are held."""
        return self._stream

    def __len__(self) -> int:
        return self._count
