"""A shared site's engine re-streams its cameras over RTSP, for consoles on other machines.

The media server is GStreamer's RTSP server (Debian's ``gir1.2-gst-rtsp-server-1.0``), run as
a child process under the system Python (:mod:`engine.cluster.rtsp_server`: Watchfloor's
environment has no PyGObject). :class:`MediaServer` starts it, hands it the latest analysed
frame of each camera this engine runs (a thread reading the cameras' frame slots: nothing on
the cameras' own threads waits for it), and restarts it should it die. Each camera is then at
``rtsp://HOST:PORT/live/<camera key>``, encoded to H.264 only while a console watches; the
user and the ``media_password`` secret guard every request. The engine tells consoles where
its streams are in its heartbeat (``media`` in the engines table's health). The frames
thread is supervised (:class:`~engine.supervise.SupervisedThread`): a frame it cannot send
is logged and counted in the engine's health, and the streaming goes on after a backoff.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import numpy as np

from engine.clock import REAL_CLOCK, Clock
from engine.cluster.stamp import BAND_ROWS, band_fits, stamp, wall_ms
from engine.frames import Frame
from engine.secrets import SecretError, read_secret
from engine.supervise import SupervisedThread

log = logging.getLogger(__name__)

SERVER_SCRIPT: Final = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON: Final = "/usr/bin/python3"  # Debian's, with python3-gi
READY_TIMEOUT_S: Final = 20.0
SEND_EVERY_S: Final = 1 / 30  # how often the cameras' slots are looked at
RESTART_S: Final = 5.0
DEFAULT_USER: Final = "watchfloor"
HEADER: Final = struct.Struct("!HHfI")


class MediaServerError(RuntimeError):
    """The media server could not be started: the reason, and what to install or set."""


@dataclass(frozen=True, slots=True)
class MediaOptions:
    """``port``: the RTSP port; ``host``: the name consoles reach this engine by (it goes
    in the stream URLs); ``user``: the RTSP user (the password is the ``media_password``
    secret)."""

    port: int
    host: str
    user: str = DEFAULT_USER

    def url(self, camera: str | None = None) -> str:
        base = f"rtsp://{self.host}:{self.port}/live/"
        return base if camera is None else base + camera


def system_python() -> str:
    """The interpreter that has GStreamer's bindings (``WATCHFLOOR_SYSTEM_PYTHON`` to
    choose another)."""
    return os.environ.get("WATCHFLOOR_SYSTEM_PYTHON") or SYSTEM_PYTHON


class MediaServer:
    """See the module doc. ``frames()`` gives each camera this engine runs now and a
    function returning its latest frame; ``sent(camera, stamped_ms, frame)`` hears of each
    frame streamed with its time in the picture (:mod:`engine.cluster.stamp`)."""

    def __init__(
        self,
        options: MediaOptions,
        frames: Callable[[], Mapping[str, Callable[[], Frame | None]]],
        *,
        sent: Callable[[str, int, Frame], None] | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        self.options = options
        self._frames = frames
        self._on_sent = sent
        self._clock = clock
        self._proc: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._folder: str | None = None
        self._stop = threading.Event()
        # Supervised: a failure other than the server's (a frame it cannot send) ends a run
        # of the loop; the supervisor logs and counts it and runs the loop again after a
        # backoff, the server and its watchers kept.
        self._thread = SupervisedThread(
            self._run, name="media-server", stop=self._stop, clock=clock, on_restart=self._failed
        )
        self._sent: dict[str, int] = {}  # camera → seq of the last frame sent
        self._declared: dict[str, tuple[int, int]] = {}  # camera → size the server knows
        self._heard = b""  # what the server said, not yet a whole line
        self.watched: set[str] = set()  # cameras someone watches now (the server says)
        self.frames_sent = 0
        self.problem: str | None = None
        self.restarts = 0

    def start(self) -> None:
        """Start the server and wait until it listens; raises :class:`MediaServerError`."""
        self._launch()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._shut()

    # -- the server process -------------------------------------------------------------
    def _launch(self) -> None:
        python = system_python()
        if shutil.which(python) is None:
            raise MediaServerError(
                f"no system Python at {python} for GStreamer's RTSP server: install Debian's "
                "python3-gi (or set WATCHFLOOR_SYSTEM_PYTHON)"
            )
        try:
            password = read_secret("media_password").reveal()
        except SecretError as exc:
            raise MediaServerError(f"the RTSP streams need a password: {exc}") from None
        self._folder = tempfile.mkdtemp(prefix="wf-media-")
        path = os.path.join(self._folder, "frames.sock")
        proc = subprocess.Popen(
            [
                python,
                str(SERVER_SCRIPT),
                *("--port", str(self.options.port), "--socket", path),
                *("--user", self.options.user),
            ],
            env={**os.environ, "WATCHFLOOR_MEDIA_PASSWORD": password},
            stdin=subprocess.PIPE,  # held open: the server exits when this process dies
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # GStreamer's warnings; what matters comes on stdout
        )
        self._proc = proc
        said = _first_line(proc.stdout, READY_TIMEOUT_S)
        if not said.startswith("READY"):
            self._shut()
            reason = said.removeprefix("ERROR ").strip() or "it did not start in time"
            raise MediaServerError(f"the RTSP server could not start: {reason}")
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(path)
        connection.settimeout(5.0)
        self._socket = connection
        self._sent.clear()
        self._declared.clear()
        self.watched.clear()
        self._heard = b""
        self.problem = None
        log.info("RTSP streams at %s", self.options.url())

    def _shut(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # -- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._clock.wait(self._stop, SEND_EVERY_S):
            try:
                if self._socket is None:
                    self._launch()
                    self.restarts += 1
                self._send_new()
            except (OSError, MediaServerError) as exc:
                self.problem = f"RTSP server: {exc}"
                log.warning("%s; restarting in %.0f s", self.problem, RESTART_S)
                self._shut()
                self._clock.wait(self._stop, RESTART_S)
            else:
                self.problem = None

    def _failed(self, exc: BaseException) -> None:
        """The frames loop failed other than by the server (supervisor's listener, on the
        ``media-server`` thread): say so until a round succeeds."""
        self.problem = f"RTSP frames: {type(exc).__name__}: {exc}"[:300]
        if self._socket is None:  # a start half done: the next round starts afresh
            self._shut()

    def _send_new(self) -> None:
        """Declare each camera (and its size) to the server; send the new frames of the
        cameras someone watches."""
        connection = self._socket
        assert connection is not None
        self._hear_watching(connection)
        for camera, latest in self._frames().items():
            frame = latest()
            if frame is None or self._sent.get(camera) == frame.seq:
                continue
            stamped = wall_ms(frame.wall_at) if frame.wall_at is not None else None
            height, width = frame.image.shape[:2]
            banded_height = height + BAND_ROWS if band_fits(width, height) else height
            fps = float(round(frame.source_fps)) if frame.source_fps >= 1 else 10.0
            key = camera.encode("utf-8")
            prefix = struct.pack("!H", len(key)) + key
            if self._declared.get(camera) != (width, banded_height):
                connection.sendall(prefix + HEADER.pack(width, banded_height, fps, 0))
                self._declared[camera] = (width, banded_height)
            if camera not in self.watched:
                continue
            banded = stamp(frame.image, stamped) if stamped is not None else frame.image
            told = stamped if banded is not frame.image else None  # too narrow: no band
            image = np.ascontiguousarray(banded)
            if image.shape[0] != banded_height:  # no time to stamp: the declared size
                image = np.ascontiguousarray(
                    np.concatenate([image, np.zeros((BAND_ROWS, width, 3), np.uint8)])
                )
            connection.sendall(prefix + HEADER.pack(width, banded_height, fps, image.nbytes))
            connection.sendall(image.data.cast("B"))
            self._sent[camera] = frame.seq
            self.frames_sent += 1
            if self._on_sent is not None and told is not None:
                self._on_sent(camera, told, frame)

    def _hear_watching(self, connection: socket.socket) -> None:
        """What the server said since: ``+key`` (someone watches) and ``-key`` (nobody
        does any more)."""
        while select.select([connection], [], [], 0)[0]:
            chunk = connection.recv(4096)
            if not chunk:
                raise OSError("the RTSP server closed the frames socket")
            self._heard += chunk
            *lines, rest = self._heard.split(b"\n")
            self._heard = rest
            for line in lines:
                text = line.decode("utf-8", "replace")
                if text.startswith("+"):
                    self.watched.add(text[1:])
                elif text.startswith("-"):
                    self.watched.discard(text[1:])


def _first_line(stream: IO[bytes] | None, timeout_s: float) -> str:
    """The first line ``stream`` gives within ``timeout_s`` ('' if none)."""
    if stream is None:
        return ""
    ready, _, _ = select.select([stream], [], [], timeout_s)
    if not ready:
        return ""
    return stream.readline().decode("utf-8", "replace").strip()
