"""A camera read as two streams by role: its small sub stream decoded for the pictures
(analysis, the motion gate, the wall's tiles), its main stream demuxed and recorded as it
comes, never decoded, as IP cameras offer them and Frigate uses them.

:class:`PairedCapture` is a :class:`~engine.vision.capture.Capture` whose pictures are the
sub stream's; the main stream's packets are read on their own thread (``record-<camera>``),
paced at their own rate when the main stream is a file, stamped on the engine's time base
as they arrive, and handed over with the next picture (:meth:`PairedCapture.take_packets`).
What they wait in is bounded (:data:`MAX_WAITING_S` of packets): a sub stream that stalls
while the main one flows drops the oldest, counted. The main stream lost (or ended, when
not looping) ends the capture with the reason, so the camera reconnects both.
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Final

from engine.clock import Clock
from engine.frames import EncodedPacket, VideoStreamInfo
from engine.vision.capture import Capture, Decoded, PyAvCapture

log = logging.getLogger(__name__)

MAX_WAITING_PACKETS: Final = 1800  # 30 s of a 60 fps main stream


class PairedCapture(Capture):
    """Pictures from ``sub``, packets from ``main`` (opened with ``decode=False``).
    ``paced``: the main stream is a file played at its own rate (as the sub file is).
    ``loop``: a main file that ends starts again."""

    def __init__(
        self,
        sub: Capture,
        main: PyAvCapture,
        clock: Clock,
        *,
        name: str,
        paced: bool,
        loop: bool,
    ) -> None:
        if main.stream is None:
            raise ValueError("the main stream gives no packets to record (not H.264/H.265)")
        self._sub = sub
        self._main = main
        self._clock = clock
        self._paced = paced
        self._loop = loop
        self.fps = sub.fps
        self.declared_s = sub.declared_s
        self.stream: VideoStreamInfo | None = main.stream
        self._lock = threading.Lock()
        self._waiting: collections.deque[EncodedPacket] = collections.deque()
        self.dropped = 0  # main packets dropped because pictures did not come to take them
        self._main_problem: str | None = None
        self._main_ended = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"record-{name}", daemon=True)
        self._thread.start()

    @property
    def decode_errors(self) -> int:  # type: ignore[override]
        return self._sub.decode_errors + self._main.decode_errors

    @property
    def problem(self) -> str | None:  # type: ignore[override]
        if self._main_problem is not None:
            return self._main_problem
        return self._sub.problem

    def read(self) -> Decoded | None:
        if self._main_ended.is_set():
            return None
        return self._sub.read()

    def rewind(self) -> bool:
        return self._sub.rewind()

    def take_packets(self) -> tuple[EncodedPacket, ...]:
        """The main stream's packets that arrived since the last call (decode order)."""
        with self._lock:
            taken = tuple(self._waiting)
            self._waiting.clear()
        return taken

    def release(self) -> None:
        self._stop.set()
        self._thread.join(10.0)
        self._sub.release()
        if not self._thread.is_alive():
            self._main.release()

    # -- the main stream's thread -------------------------------------------------------
    def _run(self) -> None:
        clock, main, stream = self._clock, self._main, self._main.stream
        assert stream is not None
        origin: float | None = None  # monotonic time of the first packet's pts (paced)
        first_pts_s = 0.0
        try:
            while not self._stop.is_set():
                packets = main.read_packets()
                if packets is None:
                    if self._loop and main.problem is None and main.rewind():
                        continue
                    self._main_problem = (
                        f"main stream: {main.problem}" if main.problem else "main stream ended"
                    )
                    return
                for packet in packets:
                    if self._paced:
                        if origin is None:
                            origin, first_pts_s = clock.monotonic(), packet.pts_s
                        due = origin + (packet.pts_s - first_pts_s)
                        wait = due - clock.monotonic()
                        if wait > 0 and clock.wait(self._stop, wait):
                            return
                    stamped = packet.stamped(stream, clock.monotonic(), clock.now())
                    with self._lock:
                        if len(self._waiting) >= MAX_WAITING_PACKETS:
                            self._waiting.popleft()
                            self.dropped += 1
                        self._waiting.append(stamped)
        except Exception as exc:  # a read failure the capture did not turn into a problem
            log.exception("main stream reader failed")
            self._main_problem = f"main stream: {exc}"
        finally:
            self._main_ended.set()
