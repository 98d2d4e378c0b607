"""A camera's main stream, decoded only while someone looks at the camera full size.

A camera read by role (:mod:`engine.vision.paired`) decodes its small sub stream for the
wall and analysis; its main stream's packets are recorded as they come, never decoded.
When an operator shows one camera alone on the wall, the console asks for its main picture
(:meth:`MainPictures.watch`): from then on each frame's main packets are handed to a
decoder thread (``main-<camera>``), which starts at the next keyframe and keeps the newest
picture (:meth:`MainPictures.latest`). The last watcher leaving (:meth:`MainPictures.unwatch`)
ends the thread: nothing is decoded while nobody looks.

The frames of a camera with a privacy mask carry no packets (they hold the unmasked
picture), so its full-size view stays the masked sub picture.

What waits for the decoder is bounded (:data:`MAX_WAITING`): a decoder that falls behind
drops what waits and starts again at the next keyframe (counted in ``dropped``); a
packet it cannot decode does the same (``decode_errors``).
"""

from __future__ import annotations

import collections
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from engine.frames import EncodedPacket, Image, VideoStreamInfo

log = logging.getLogger(__name__)

MAX_WAITING: Final = 90  # packets: 3 s of a 30 fps main stream


@dataclass(frozen=True, slots=True)
class MainPicture:
    """The newest decoded main picture: its number (counted from the first), BGR image,
    and the times of the packet it was decoded from."""

    seq: int
    image: Image
    captured_at: float
    wall_at: datetime | None


class MainPictures:
    """See the module. ``camera`` names the decoder thread. Thread-safe: the camera's
    thread feeds, the console's GUI thread watches and reads (memory only)."""

    def __init__(self, camera: str) -> None:
        self.camera = camera
        self._cond = threading.Condition()
        self._watchers = 0
        self._waiting: collections.deque[EncodedPacket] = collections.deque()
        self._need_keyframe = True
        self._thread: threading.Thread | None = None
        self._latest: MainPicture | None = None
        self.decoded = 0  # pictures decoded while watched
        self.dropped = 0  # packets dropped: the decoder fell behind
        self.decode_errors = 0

    @property
    def watched(self) -> bool:
        return self._watchers > 0

    @property
    def decoding(self) -> bool:
        """The decoder thread runs (someone watches, or it is finishing)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def watch(self) -> None:
        """Someone looks at the camera full size: decode its main stream from the next
        keyframe on."""
        with self._cond:
            self._watchers += 1
            if self._thread is None:
                self._need_keyframe = True
                self._thread = threading.Thread(
                    target=self._run, name=f"main-{self.camera}", daemon=True
                )
                self._thread.start()

    def unwatch(self) -> None:
        """One watcher fewer; the last one leaving stops the decoding and forgets the
        picture."""
        with self._cond:
            self._watchers = max(0, self._watchers - 1)
            if self._watchers == 0:
                self._waiting.clear()
                self._latest = None
                self._cond.notify_all()

    def latest(self) -> MainPicture | None:
        """The newest main picture while watched (None before the first keyframe)."""
        return self._latest

    def feed(self, packets: tuple[EncodedPacket, ...] | None) -> None:
        """A frame's main packets (the camera's thread): queued for the decoder while
        watched, else nothing."""
        if not packets or self._watchers == 0:
            return
        with self._cond:
            if self._watchers == 0:
                return
            for packet in packets:
                if self._need_keyframe:
                    if not packet.keyframe:
                        continue
                    self._need_keyframe = False
                self._waiting.append(packet)
            if len(self._waiting) > MAX_WAITING:
                self.dropped += len(self._waiting)
                self._waiting.clear()
                self._need_keyframe = True
            self._cond.notify_all()

    def _run(self) -> None:
        decoder = _Decoder()
        try:
            while True:
                with self._cond:
                    while not self._waiting and self._watchers > 0:
                        self._cond.wait()
                    if self._watchers == 0:
                        self._thread = None
                        return
                    batch = list(self._waiting)
                    self._waiting.clear()
                try:
                    picture = decoder.decode(batch)
                except Exception as exc:  # a corrupt packet: start again at a keyframe
                    with self._cond:
                        self.decode_errors += 1
                        first = self.decode_errors == 1
                        self._need_keyframe = True
                        self._waiting.clear()
                    decoder.reset()
                    if first:
                        log.warning("camera %s: main stream not decoded: %s", self.camera, exc)
                    continue
                if picture is None:
                    continue
                with self._cond:
                    if self._watchers == 0:
                        continue
                    self.decoded += 1
                    image, packet = picture
                    self._latest = MainPicture(
                        self.decoded, image, packet.captured_at, packet.wall_at
                    )
        except BaseException:
            with self._cond:
                self._thread = None
            raise


class _Decoder:
    """One PyAV decoder per run of packets (a reconnect is a new run, a new decoder)."""

    def __init__(self) -> None:
        self._context: Any = None
        self._stream: VideoStreamInfo | None = None
        self._reformatter: Any = None

    def reset(self) -> None:
        self._context, self._stream = None, None

    def decode(self, packets: list[EncodedPacket]) -> tuple[Image, EncodedPacket] | None:
        """Decode ``packets`` in order; the last picture they gave (as BGR) with the packet
        it came from, or None."""
        import av
        from av.video.reformatter import VideoReformatter

        last: tuple[Any, EncodedPacket] | None = None
        for packet in packets:
            if self._context is None or packet.stream is not self._stream:
                if not packet.keyframe:
                    continue  # a new run starts at its first keyframe
                self._context = av.CodecContext.create(packet.stream.codec, "r")
                self._stream = packet.stream
            raw = av.Packet(packet.data)
            raw.pts, raw.dts = packet.pts, packet.dts
            for picture in self._context.decode(raw):
                last = (picture, packet)
        if last is None:
            return None
        if self._reformatter is None:
            self._reformatter = VideoReformatter()
        picture, packet = last
        image: Image = self._reformatter.reformat(picture, format="bgr24").to_ndarray()
        return image, packet
