"""The engine's media server: GStreamer's RTSP server, re-streaming the engine's cameras.

Run by :class:`engine.cluster.media.MediaServer` under the **system** Python (Debian's
``python3-gi`` with ``gir1.2-gst-rtsp-server-1.0``; Watchfloor's own environment has no
PyGObject), so it imports nothing but the standard library and GStreamer. Do not import it.

``python3 rtsp_server.py --port 8554 --socket PATH --user NAME`` with the password in the
environment variable ``WATCHFLOOR_MEDIA_PASSWORD``. The engine connects to the Unix socket
``PATH`` and sends messages: a header (``!H`` camera key length, the key in UTF-8, ``!HHfI``
width, height, frames a second, byte count) and that many bytes of BGR pixels. A message
with no pixels declares a camera (or its new size): it is then served at
``rtsp://HOST:PORT/live/<camera key>``, H.264 (x264, zero latency) encoded once however
many consoles watch (a shared media). The server tells the engine, on the same socket, when
a camera is watched (``+<key>\n``) and no longer (``-<key>\n``): the engine sends a
camera's pixels only while someone watches it. Every request needs the user and password
(HTTP basic over RTSP).

It prints ``READY <port>`` when it listens, or ``ERROR <reason>`` and exits 1. It exits when
the engine closes the socket or its standard input (the engine died).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import struct
import sys
import threading
from typing import Any

HEADER = struct.Struct("!HHfI")
MAX_FRAME_BYTES = 3840 * 2160 * 3
ROLE = "watchfloor-console"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--user", required=True)
    args = parser.parse_args()
    password = os.environ.get("WATCHFLOOR_MEDIA_PASSWORD", "")
    if not password:
        return _fail("no password: WATCHFLOOR_MEDIA_PASSWORD is not set")
    try:
        import gi  # type: ignore[import-not-found]

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]
    except (ImportError, ValueError) as exc:
        return _fail(
            f"GStreamer's RTSP server is not installed ({exc}): install Debian's "
            "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly"
        )
    Gst.init(None)
    missing = [
        name
        for name in ("appsrc", "videoconvert", "x264enc", "rtph264pay")
        if Gst.ElementFactory.find(name) is None
    ]
    if missing:
        return _fail(f"GStreamer elements missing: {', '.join(missing)}")

    server = GstRtspServer.RTSPServer()
    server.set_address("0.0.0.0")
    server.set_service(str(args.port))
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", ROLE)
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, password), token)
    server.set_auth(auth)
    mounts = server.get_mount_points()
    cameras = Cameras(Gst, GstRtspServer, mounts)
    if server.attach(None) == 0:
        return _fail(f"cannot listen on RTSP port {args.port} (in use?)")
    try:
        if os.path.exists(args.socket):
            os.unlink(args.socket)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(args.socket)
        os.chmod(args.socket, 0o600)
        listener.listen(1)
    except OSError as exc:
        return _fail(f"cannot listen on {args.socket}: {exc}")
    loop = GLib.MainLoop()
    threading.Thread(target=_feed, args=(listener, cameras, loop), daemon=True).start()
    threading.Thread(target=_watch_stdin, args=(loop,), daemon=True).start()
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


def _fail(reason: str) -> int:
    print(f"ERROR {reason}", flush=True)
    return 1


class Cameras:
    """The mount of each camera and the app sources of its viewers' pipelines."""

    def __init__(self, gst: Any, rtsp: Any, mounts: Any) -> None:
        self.gst, self.rtsp, self.mounts = gst, rtsp, mounts
        self.lock = threading.Lock()
        self.engine: socket.socket | None = None  # where watching is told
        self.shape: dict[str, tuple[int, int]] = {}
        self.sources: dict[str, list[Any]] = {}

    def frame(self, camera: str, width: int, height: int, fps: float, pixels: bytes) -> None:
        with self.lock:
            if self.shape.get(camera) != (width, height):
                self._mount(camera, width, height, fps)
            sources = list(self.sources.get(camera, ()))
        if not pixels:
            return  # declared only
        for source in sources:
            source.emit("push-buffer", self.gst.Buffer.new_wrapped(pixels))

    def _mount(self, camera: str, width: int, height: int, fps: float) -> None:
        """Under the lock: (re)declare the camera's stream for frames of this size (at the
        rate its first frame said; the stream's times are the frames' arrival)."""
        rate = max(1, round(fps))
        factory = self.rtsp.RTSPMediaFactory()
        factory.set_launch(
            "( appsrc name=src is-live=true do-timestamp=true format=time block=false "
            f"max-bytes={width * height * 3 * 2} "
            f'caps="video/x-raw,format=BGR,width={width},height={height},framerate={rate}/1" '
            "! queue leaky=downstream max-size-buffers=2 ! videoconvert "
            "! video/x-raw,format=I420 "
            f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={rate * 2} "
            "bitrate=1500 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        factory.set_shared(True)
        factory.add_role_from_structure(
            self.gst.Structure.from_string(
                f"{ROLE}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )[0]
        )
        factory.connect("media-configure", self._configured, camera)
        self.mounts.add_factory(f"/live/{camera}", factory)
        self.shape[camera] = (width, height)
        self.sources[camera] = []

    def _configured(self, _factory: Any, media: Any, camera: str) -> None:
        source = media.get_element().get_child_by_name("src")
        with self.lock:
            self.sources.setdefault(camera, []).append(source)
        self._tell(f"+{camera}")

        def gone(_media: Any) -> None:
            with self.lock:
                kept = self.sources.get(camera, [])
                if source in kept:
                    kept.remove(source)
                watched = bool(kept)
            if not watched:
                self._tell(f"-{camera}")

        media.connect("unprepared", gone)

    def _tell(self, line: str) -> None:
        engine = self.engine
        if engine is None:
            return
        with contextlib.suppress(OSError):  # the engine went: the feed ends the server
            engine.sendall(line.encode("utf-8") + b"\n")


def _read(connection: socket.socket, count: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = connection.recv(min(count - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _feed(listener: socket.socket, cameras: Cameras, loop: Any) -> None:
    """Frames from the engine (one connection at a time) until it goes."""
    try:
        connection, _ = listener.accept()
        cameras.engine = connection
        with connection:
            while True:
                size = _read(connection, 2)
                if size is None:
                    break
                key = _read(connection, struct.unpack("!H", size)[0])
                header = _read(connection, HEADER.size)
                if key is None or header is None:
                    break
                width, height, fps, count = HEADER.unpack(header)
                if count not in (0, width * height * 3) or count > MAX_FRAME_BYTES:
                    print(f"ERROR bad frame header for {key!r}", file=sys.stderr, flush=True)
                    break
                pixels = _read(connection, count)
                if pixels is None:
                    break
                cameras.frame(key.decode("utf-8"), width, height, fps, pixels)
    finally:
        loop.quit()


def _watch_stdin(loop: Any) -> None:
    """The engine holds our standard input open; when it dies, so does this server."""
    try:
        while sys.stdin.buffer.read(1024):
            pass
    finally:
        loop.quit()


if __name__ == "__main__":
    sys.exit(main())
