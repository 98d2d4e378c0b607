"""Live video in a console attached to a shared site: each camera's picture from the RTSP
stream of the engine that runs it, with that engine's boxes drawn on the frame they were
found in.

The engines re-stream what they analyse (``watchfloor engine --rtsp-port``, see
:mod:`engine.cluster.media`); each says where in its heartbeat. :class:`RemoteVideo` keeps one
reader thread per camera: it asks the follower which engine runs the camera and where that
engine streams, opens the stream (FFmpeg through PyAV, over TCP, with the ``media_password``
secret), reads each frame's capture time from the band under its picture
(:mod:`engine.cluster.stamp`), and pairs it with the boxes the engine told for that time
(:meth:`engine.cluster.live.LiveFollower.boxes_at`). When a camera moves to another engine, the
reader follows it. :meth:`frame_of` hands the tiles the latest frame; :meth:`state` says why
there is none.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

from engine.cluster.live import LiveFollower
from engine.cluster.media import DEFAULT_USER
from engine.cluster.stamp import read_stamp, unwrap_ms
from engine.frames import Frame
from engine.secrets import SecretError, read_secret, redact
from engine.vision.analysis import FrameAnalysis, TrackView
from engine.vision.capture import CaptureOpenError, open_pyav
from engine.vision.geometry import Box

log = logging.getLogger(__name__)

OPEN_TIMEOUT_MS: Final = 10_000
# A frame whose boxes have not come yet waits for them this long at most (they travel over
# the database, the picture over RTSP: usually the boxes come first).
BOXES_WAIT_S: Final = 0.2
RETRY_S: Final = 2.0
# Low delay: no read-ahead buffer (RTP goes over the RTSP connection: no UDP ports to open);
# the stream's size is in its first key frame, so a second of probing is plenty (FFmpeg's
# 5 s default outlasts the open timeout on a camera an overloaded engine analyses at 1 fps).
# For this stream alone: set in OpenCV's process-wide OPENCV_FFMPEG_CAPTURE_OPTIONS (as
# before), they changed every video the process opened later (a recording read for a
# gesture or the timeline decoded to other pictures from its first frame on).
LOW_DELAY: Final = {"fflags": "nobuffer", "flags": "low_delay", "analyzeduration": "1000000"}


@dataclass(frozen=True, slots=True)
class StreamState:
    """What a tile says of a camera with no picture yet: ``text`` (one line) and whether
    it is a problem to fix (``problem``) or a wait (connecting)."""

    text: str
    problem: bool = False


class RemoteVideo:
    """See the module doc. ``cameras``: the site's camera keys. Threads start with
    :meth:`start`; :meth:`stop` joins them."""

    def __init__(self, follower: LiveFollower, cameras: list[str]) -> None:
        self._follower = follower
        self._cameras = list(cameras)
        self._lock = threading.Lock()
        self._latest: dict[str, Frame] = {}
        self._states: dict[str, StreamState] = {
            c: StreamState("Waiting for the engine running this camera") for c in cameras
        }
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._read, args=(c,), name=f"remote-video-{c}", daemon=True)
            for c in cameras
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=OPEN_TIMEOUT_MS / 1000 + 2)

    def frame_of(self, camera: str) -> Frame | None:
        with self._lock:
            return self._latest.get(camera)

    def state(self, camera: str) -> StreamState | None:
        """Why ``camera`` has no picture now (None: it has one)."""
        with self._lock:
            return None if camera in self._latest else self._states.get(camera)

    # -- a camera's reader thread -------------------------------------------------------
    def _set(self, camera: str, state: StreamState | None, frame: Frame | None = None) -> None:
        with self._lock:
            if frame is not None:
                self._latest[camera] = frame
            elif state is not None:
                self._latest.pop(camera, None)
                self._states[camera] = state

    def _where(self, camera: str) -> tuple[str | None, str, StreamState | None]:
        """The engine running ``camera`` and its stream's URL, or why there is none."""
        known = self._follower.cameras.get(camera)
        engine = known.engine if known is not None else None
        if engine is None:
            return None, "", StreamState("No engine runs this camera now", problem=True)
        line = next((e for e in self._follower.engines if e.name == engine), None)
        media = line.media if line is not None else None
        if not media or "url" not in media:
            return (
                engine,
                "",
                StreamState(
                    f"Analysed on {engine}, which does not re-stream its cameras "
                    "(start it with --rtsp-port to watch here)",
                    problem=True,
                ),
            )
        return engine, f"{media['url']}{camera}", None

    def _read(self, camera: str) -> None:
        while not self._stop.is_set():
            engine, url, why = self._where(camera)
            if why is not None or engine is None:
                self._set(camera, why)
                self._stop.wait(RETRY_S)
                continue
            try:
                password = read_secret("media_password").reveal()
            except SecretError as exc:
                self._set(camera, StreamState(f"Cannot watch: {exc}", problem=True))
                self._stop.wait(RETRY_S * 5)
                continue
            self._set(camera, StreamState(f"Connecting to {engine}'s stream…"))
            try:
                self._watch(camera, engine, _with_credentials(url, DEFAULT_USER, password))
            except Exception as exc:  # a stream that breaks: say so, try again
                log.warning("video of %s from %s: %s", camera, engine, exc)
            if not self._stop.is_set():
                self._set(camera, StreamState(f"{engine}'s stream stopped; reconnecting…"))
                self._stop.wait(RETRY_S)

    def _watch(self, camera: str, engine: str, url: str) -> None:
        timeout_s = OPEN_TIMEOUT_MS / 1000
        try:
            capture = open_pyav(
                url,
                live=True,
                shown_url=redact(url),
                timeouts_s=(timeout_s, timeout_s),
                options=LOW_DELAY,
                packets=False,
            )
        except CaptureOpenError as exc:
            log.info("stream of %s from %s: %s", camera, engine, exc)
            self._set(
                camera,
                StreamState(
                    f"{engine}'s stream cannot be opened (wrong media_password, or the "
                    "server is not reachable)",
                    problem=True,
                ),
            )
            self._stop.wait(RETRY_S * 2)
            return
        try:
            seq, started = 0, time.monotonic()
            while not self._stop.is_set():
                decoded = capture.read()
                if decoded is None:
                    return
                image = decoded.image
                known = self._follower.cameras.get(camera)
                if known is None or known.engine != engine:
                    return  # handed to another engine: follow it
                seq += 1
                rate = seq / max(time.monotonic() - started, 1e-3)
                self._set(camera, None, self._frame(camera, seq, image, rate))
        finally:
            capture.release()

    def _frame(self, camera: str, seq: int, image: Any, rate: float) -> Frame:
        stamped, picture = read_stamp(image)
        frame = Frame(seq=seq, image=picture, captured_at=time.monotonic(), source_fps=rate)
        if stamped is None:
            return frame
        now = datetime.now(UTC)
        boxes = self._follower.boxes_at(camera, stamped)
        deadline = time.monotonic() + BOXES_WAIT_S
        while boxes is None and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.01)
            boxes = self._follower.boxes_at(camera, stamped)
        analysis = None
        if boxes is not None:
            height, width = picture.shape[:2]
            analysis = FrameAnalysis(
                frame_index=seq,
                t=frame.captured_at,
                tracks=tuple(_in_pixels(t, width, height) for t in boxes),
                motion_regions=(),
                detections=None,
            )
        return replace(frame, analysis=analysis, wall_at=unwrap_ms(stamped, now))


def _in_pixels(track: TrackView, width: int, height: int) -> TrackView:
    box = track.box
    return replace(track, box=Box(box.x * width, box.y * height, box.w * width, box.h * height))


def _with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
