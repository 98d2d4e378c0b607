"""Camera sources: files, RTSP/HTTP streams, webcams and simulated cameras, each read on its
own thread.

Files and streams are read with PyAV (:mod:`engine.vision.capture`): a frame of an
H.264/H.265 source carries the compressed packets it was decoded from (``Frame.packets``),
stamped on the frame's time base, so the clip recorder keeps them without re-encoding.

A source keeps only the newest frame (:class:`FrameSlot`); viewers take it at their own rate,
so a slow viewer drops stale frames instead of queueing them. A source that stops
delivering is marked offline (watchdog, ``stall_timeout_s``) and reopened with exponential
backoff capped at ``backoff_max_s``; one that has not delivered its first frame within its
``first_frame_s`` of starting is offline too, whatever holds it up (a stream that connects
and never sends, an open that hangs), with an offline period from its start. A file
``url`` that is a FIFO, directory or device is an error naming what it is, never opened
(opening a FIFO blocks until a writer comes). Status changes are published on the bus.

A camera's privacy mask (:mod:`engine.vision.privacy`, a :class:`MaskSlot` the engine
updates while the camera runs) is applied to each decoded picture here, before the frame
exists: every consumer (analysis, clips, snapshots, the tiles) only ever gets the masked
picture. A masked camera's own H.264/H.265 packets hold the unmasked picture, so they are
not given to the recorder (``Frame.packets`` is None) and its clips are encoded from the
masked frames instead.

A simulated camera films the scene its source is given (``scene``, a :class:`SimulatedScene`
that :mod:`engine.sim` builds; live code never imports it); it is paced at its frame rate like
a file, as a live camera paces itself. Without a scene it says so and ends.

Time: every frame's ``captured_at`` (monotonic) and ``wall_at`` (UTC) are read once, together,
from the engine clock, and everything derived from the frame (events, snapshots, clips) uses
them. A recording being analysed (``recording_start``) is stamped with recording time
instead: the file's start plus each frame's presentation time. Every wait (backoff, pacing)
goes through the clock, so a simulated clock drives them in tests.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from engine.bus import EventBus
from engine.camera_view import CameraView
from engine.clock import Clock
from engine.config import CameraConfig, CameraSecretError, SourceKind
from engine.cv import import_cv2
from engine.events import CameraStatus, CameraStatusChanged
from engine.frames import EncodedPacket, Frame, Image
from engine.vision.capture import (
    Capture,
    CaptureOpenError,
    Cv2Capture,
    Decoded,
    PyAvCapture,
    open_pyav,
)
from engine.vision.paired import PairedCapture
from engine.vision.privacy import MaskSlot

if TYPE_CHECKING:  # the analysis sits on top of sources; only its type is named here
    from engine.vision.analysis import FrameAnalysis

log = logging.getLogger(__name__)


class SimulatedScene(Protocol):
    """What a simulated camera films: a scene that gives a capture of itself seen through a
    camera's view (:class:`engine.sim.walkthrough.WalkthroughScene`, whose capture renders
    it, :class:`engine.sim.camera.SimulatedCapture`)."""

    def capture(self, view: CameraView) -> Capture: ...


STALL_TIMEOUT_S = 3.0  # no frame for this long: offline (the issue asks for ≤ 5 s)
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 10.0
OPEN_TIMEOUT_MS = 5000  # FFmpeg open/read timeouts so a dead stream cannot block forever
READ_TIMEOUT_MS = 5000
FILE_CHECK_INTERVAL_S = 0.5  # how often a file source checks that its file is still there
DEFAULT_FPS = 25.0  # when a file does not say its frame rate
CATCH_UP_FRAMES = 2  # a file camera this many frames late skips ahead instead
FPS_WINDOW_S = 2.0
DECODE_AHEAD_FRAMES = 16  # unpaced files: frames decoded ahead on the decode thread
TRUNCATION_TOLERANCE_S = 1.0  # a file ending this much short of its declared length is whole
NO_SCENE = "simulated camera: no simulated walkers on this site"
NO_VIEW = "simulated camera without a view: give its view = { x, y, z, yaw, pitch, fov }"
_CALM_STATUSES = (CameraStatus.STARTING, CameraStatus.ONLINE, CameraStatus.STOPPED)
_DOWN_STATUSES = (CameraStatus.OFFLINE, CameraStatus.ERROR, CameraStatus.NO_FOOTAGE)


class FrameSlot:
    """Holds the newest frame of one camera. Written by its worker, read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None

    def put(self, frame: Frame) -> None:
        with self._lock:
            self._frame = frame

    def latest(self) -> Frame | None:
        with self._lock:
            return self._frame


FrameProcessor = Callable[[Frame], "FrameAnalysis"]
"""Runs on the camera's worker for every frame (``analysis`` not yet filled in)."""


@dataclass(slots=True)
class OfflinePeriod:
    start: datetime
    end: datetime | None = None
    reason: str = ""


@dataclass(slots=True)
class SourceStats:
    """Counters for reports and the status bar; read under the source's lock."""

    frames: int = 0
    online_seconds: float = 0.0
    reconnects: int = 0
    offline_periods: list[OfflinePeriod] = field(default_factory=list)
    processing_ms: float = 0.0  # mean time the frame processor took per frame
    processing_errors: int = 0
    last_processing_error: str | None = None
    last_problem: str | None = None  # why the camera was last offline, in error or without
    # footage (kept after it stops, so a report says why a camera never came online)
    decode_errors: int = 0  # corrupt packets the decoder skipped
    stream_copy: bool = False  # the camera's H.264/H.265 packets are given for recording


class CameraSource:
    """Reads one camera on a worker thread (``camera-<id>``).

    ``realtime=False`` decodes files as fast as possible (benchmarks, analysis; a
    ``decode-<id>`` thread then decodes ahead of the frame processor); otherwise files play
    at their native frame rate, paced by the clock. ``recording_start`` (UTC wall time of
    the file's first frame) analyses a recording: frames are stamped with recording time,
    the file is read once, and a failure ends the source with :attr:`failure` set instead
    of reconnecting. ``read_timeout_ms`` bounds FFmpeg's blocking opens and reads of streams.
    ``scene``: what a simulated camera films (None: the site has no simulated walkers, and
    a simulated camera ends at once with an error status saying so). ``privacy``: the
    camera's privacy mask, applied to every picture before anything sees it (None: none).
    """

    def __init__(
        self,
        camera: CameraConfig,
        bus: EventBus,
        clock: Clock,
        *,
        realtime: bool = True,
        stall_timeout_s: float = STALL_TIMEOUT_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        processor: FrameProcessor | None = None,
        recording_start: datetime | None = None,
        read_timeout_ms: int = READ_TIMEOUT_MS,
        scene: SimulatedScene | None = None,
        privacy: MaskSlot | None = None,
    ) -> None:
        if recording_start is not None and recording_start.tzinfo is None:
            raise ValueError("recording_start must be timezone-aware")
        self.camera = camera
        self._processor = processor
        self._processing_total_s = 0.0
        self.slot = FrameSlot()
        self._bus = bus
        self._clock = clock
        self._realtime = realtime
        self._stall_timeout_s = stall_timeout_s
        self._backoff_max_s = backoff_max_s
        self._recording_start = recording_start
        self._read_timeout_ms = read_timeout_ms
        self._scene = scene
        self.privacy = privacy if privacy is not None else MaskSlot()
        self._stop = threading.Event()
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"camera-{camera.id}", daemon=True)
        self._status = CameraStatus.STARTING
        self._status_detail = ""
        self._status_since = clock.now()
        self._started_at: float | None = None  # clock monotonic seconds at start()
        self._ever_online = False
        self._last_frame_at: float | None = None
        self._online_since: float | None = None
        # (captured_at, pts_s) of the frames delivered over the last FPS_WINDOW_S
        self._recent: collections.deque[tuple[float, float]] = collections.deque()
        self._stats = SourceStats()
        self.native_fps: float | None = None
        self._main_size: str | None = None  # a paired camera's recorded picture size
        self._declared_s = 0.0  # files: length the container declares (0: unknown)
        self.failure: str | None = None
        """Why a recording being analysed could not be read to its end (None: it could)."""

    # -- public API (any thread) -------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            self._started_at = self._clock.monotonic()
            self._status_since = self._clock.now()  # without video since now, until a frame
        self._bus.publish(
            CameraStatusChanged(
                at=self._clock.now(),
                camera_id=self.camera.id,
                status=CameraStatus.STARTING,
                detail=f"opening {self.camera.url}",
                since=self._status_since,
            )
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0, *, handed_over: bool = False) -> None:
        """Stop the worker (``handed_over``: another engine of the site takes the camera;
        its status is said as such, see :class:`CameraStatusChanged`)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self.failure is None:
            if handed_over:
                detail = "handed over to another engine of the site"
                self._set_status(CameraStatus.STOPPED, detail, handed_over=True)
            else:
                self._set_status(CameraStatus.STOPPED, "engine stopped")

    def request_stop(self) -> None:
        """Ask the worker to end without waiting for it (safe from any thread)."""
        self._stop.set()

    def wait_ended(self, timeout_s: float | None = None) -> bool:
        """Block until the worker has ended (end of a file, a failed recording, or stop):
        True, or False after ``timeout_s`` seconds of the engine clock."""
        return self._clock.wait(self._ended, timeout_s)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def status(self) -> tuple[CameraStatus, str, datetime]:
        with self._lock:
            return self._status, self._status_detail, self._status_since

    def stats(self) -> SourceStats:
        """A copy of the counters, with online time counted up to now."""
        with self._lock:
            online = self._stats.online_seconds
            if self._online_since is not None:
                online += self._clock.monotonic() - self._online_since
            return SourceStats(
                frames=self._stats.frames,
                online_seconds=online,
                reconnects=self._stats.reconnects,
                offline_periods=[
                    OfflinePeriod(p.start, p.end, p.reason) for p in self._stats.offline_periods
                ],
                processing_ms=1000 * self._processing_total_s / max(self._stats.frames, 1),
                processing_errors=self._stats.processing_errors,
                last_processing_error=self._stats.last_processing_error,
                last_problem=self._stats.last_problem,
                decode_errors=self._stats.decode_errors,
                stream_copy=self._stats.stream_copy,
            )

    def check_stall(self) -> None:
        """Called by the engine's watchdog: mark offline if no frame came for too long, or
        no first frame within the camera's ``first_frame_s`` of starting.

        Needed because a read from a dead network stream, or an open that never returns,
        can block the worker for a while. A recording being analysed cannot stall (it runs
        at the analyser's pace), so it is never marked."""
        if self._recording_start is not None:
            return
        first_frame_s = self.camera.first_frame_s
        with self._lock:
            now = self._clock.monotonic()
            stalled = (
                self._status is CameraStatus.ONLINE
                and self._last_frame_at is not None
                and now - self._last_frame_at > self._stall_timeout_s
            )
            never_came = (
                self._status is CameraStatus.STARTING
                and self._started_at is not None
                and now - self._started_at > first_frame_s
            )
        if stalled:
            self._set_status(CameraStatus.OFFLINE, f"no frames for {self._stall_timeout_s:g} s")
        elif never_came:
            self._set_status(
                CameraStatus.OFFLINE, f"no frame within {first_frame_s:g} s of starting"
            )

    # -- worker thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._run_until_stopped()
        except Exception as exc:  # never die silently: the tile and the history say why
            log.exception("camera %s: worker failed", self.camera.id)
            self.failure = f"camera worker failed: {type(exc).__name__}: {exc}"
            self._end_with(CameraStatus.ERROR, self.failure)
        finally:
            self._ended.set()

    def _end_with(self, status: CameraStatus, detail: str) -> None:
        """The worker's last act: mark it ended, then publish why, so whoever sees this
        status also finds :meth:`wait_ended` true."""
        self._ended.set()
        self._set_status(status, detail)

    def _run_until_stopped(self) -> None:
        if self.camera.kind is SourceKind.SIMULATED and (
            self._scene is None or self.camera.view is None
        ):
            # nothing to film: waiting and retrying would not change that
            self._end_with(CameraStatus.ERROR, NO_SCENE if self._scene is None else NO_VIEW)
            return
        backoff_s = BACKOFF_START_S
        once = self._recording_start is not None  # a recording is read once, never retried
        while not self._stop.is_set():
            capture, problem = self._open()
            if capture is None:
                if once:
                    self._fail(problem)
                    return
                self._report_unavailable(problem, backoff_s)
                if not self._wait_to_retry(backoff_s):
                    break
                backoff_s = min(backoff_s * 2, self._backoff_max_s)
                continue
            try:
                delivered, ended, reason = self._read_until_lost(capture)
            finally:
                capture.release()
            if delivered:
                backoff_s = BACKOFF_START_S
            if self._stop.is_set():
                break
            if ended:
                self._end_with(CameraStatus.STOPPED, reason)
                return
            if once or reason.endswith(TRUNCATED):
                self._fail(reason)
                return
            self._set_status(
                CameraStatus.OFFLINE,
                f"{reason}; reconnecting in {backoff_s:g} s",
                retry_in_s=backoff_s,
            )
            if not self._wait_to_retry(backoff_s):
                break
            backoff_s = min(backoff_s * 2, self._backoff_max_s)

    def _fail(self, reason: str) -> None:
        """End for good: the file cannot be read (further)."""
        self.failure = reason
        self._end_with(CameraStatus.ERROR, reason)

    def _wait_to_retry(self, backoff_s: float) -> bool:
        """Wait ``backoff_s`` clock seconds before the next attempt; False if the source is
        being stopped."""
        if self._clock.wait(self._stop, backoff_s):
            return False
        with self._lock:
            self._stats.reconnects += 1
        return True

    def _open(self) -> tuple[Capture | None, str]:
        cam = self.camera
        capture: Capture
        if cam.kind is SourceKind.WEBCAM:
            cv2 = import_cv2()
            raw = cv2.VideoCapture(cam.webcam_index if cam.webcam_index is not None else 0)
            if not raw.isOpened():
                raw.release()
                return None, f"cannot open webcam: {cam.url}"
            capture = Cv2Capture(raw)
        elif cam.kind is SourceKind.SIMULATED:
            scene, view = self._scene, cam.view
            assert scene is not None and view is not None  # checked before the first open
            capture = scene.capture(view)
        elif self._paired():
            paired, problem = self._open_paired()
            if paired is None:
                return None, problem
            capture = paired
        else:
            single, problem = self._open_input(cam.url, packets=True, decode=True)
            if single is None:
                return None, problem
            capture = single
        fps = capture.fps
        self.native_fps = fps if 0.5 <= fps <= 240 else DEFAULT_FPS
        stream = capture.stream
        two_streams = isinstance(capture, PairedCapture) and stream is not None
        self._main_size = f"{stream.width}×{stream.height}" if two_streams and stream else None
        if cam.kind is SourceKind.FILE:
            self._declared_s = capture.declared_s
        with self._lock:
            self._stats.stream_copy = capture.stream is not None
        return capture, ""

    def _paired(self) -> bool:
        """Whether the camera is read as two streams (:mod:`engine.vision.paired`): it has
        a sub stream, and is live or a file played at its rate (a recording analysed, or a
        file read as fast as it decodes, is one stream)."""
        cam = self.camera
        return (
            cam.sub_url is not None
            and self._recording_start is None
            and (cam.kind is SourceKind.STREAM or self._realtime)
        )

    def _open_input(
        self, shown: str, *, packets: bool, decode: bool, sub: bool = False
    ) -> tuple[PyAvCapture | None, str]:
        """Open one of the camera's files or streams (``shown``: its URL as shown; the
        password is put in here for a stream), or say why it cannot be."""
        cam = self.camera
        which = "sub stream " if sub else ""
        if cam.kind is SourceKind.FILE:
            path = Path(shown)
            if not path.exists():
                return None, f"{which}file not found: {path}"
            not_a_file = _not_a_regular_file(path)
            if not_a_file is not None:  # opening a FIFO would block until a writer came
                return None, f"not a video file: {path} is {not_a_file}"
            if not os.access(path, os.R_OK):
                return None, f"{which}file not readable: {path}"
            try:
                # A file played in real time is decoded as a camera's stream is, a picture
                # at a time (slice threads: frame threads add latency and, per camera, a
                # thread a core); an analysed file as fast as frame threads go.
                return open_pyav(
                    str(path), live=self._realtime, shown_url=shown, packets=packets, decode=decode
                ), ""
            except CaptureOpenError as exc:
                return None, f"cannot decode {which}video file: {shown} ({exc})"
        try:
            # With the password: for FFmpeg only, never shown.
            url = cam.connect_sub_url() if sub else cam.connect_url()
        except CameraSecretError as exc:
            return None, str(exc)
        assert url is not None
        try:
            return open_pyav(
                url,
                live=True,
                shown_url=shown,
                timeouts_s=(
                    max(OPEN_TIMEOUT_MS, self._read_timeout_ms) / 1000,
                    self._read_timeout_ms / 1000,
                ),
                packets=packets,
                decode=decode,
            ), ""
        except CaptureOpenError as exc:
            return None, f"cannot connect to {which or ''}stream: {shown} ({exc})"

    def _open_paired(self) -> tuple[PairedCapture | None, str]:
        """The sub stream for pictures, the main stream's packets for recording. The two
        are opened at once (the main one on an ``open-main-<camera>`` thread): a camera's
        first picture waits for the slower of the two, not their sum."""
        cam = self.camera
        assert cam.sub_url is not None
        opened: list[tuple[PyAvCapture | None, str]] = []

        def open_main() -> None:
            try:
                opened.append(self._open_input(cam.url, packets=True, decode=False))
            except Exception as exc:  # never lose the answer the worker joins for
                log.exception("camera %s: opening the main stream failed", cam.id)
                opened.append((None, f"cannot open the main stream: {exc}"))

        main_opener = threading.Thread(target=open_main, name=f"open-main-{cam.id}", daemon=True)
        main_opener.start()
        try:
            sub, sub_problem = self._open_input(cam.sub_url, packets=False, decode=True, sub=True)
        except BaseException:
            main_opener.join()
            if opened[0][0] is not None:
                opened[0][0].release()
            raise
        main_opener.join()  # bounded by FFmpeg's open timeout
        main, problem = opened[0]
        if main is None or main.stream is None or sub is None:
            if sub is not None:
                sub.release()
            if main is None:
                return None, problem
            main.release()
            if main.stream is None:
                return None, (
                    f"the main stream is {main.codec}: only H.264 or H.265 is recorded without "
                    "being decoded; give the camera no sub_url, or set its main stream to H.264"
                )
            return None, sub_problem
        paced = cam.kind is SourceKind.FILE and self._realtime
        return PairedCapture(sub, main, self._clock, name=cam.id, paced=paced, loop=cam.loop), ""

    def _report_unavailable(self, problem: str, retry_in_s: float) -> None:
        missing = problem.startswith("file not found")
        with self._lock:
            ever_online = self._ever_online
        if missing and not ever_online:
            status = CameraStatus.NO_FOOTAGE
        elif ever_online:
            status = CameraStatus.OFFLINE
        else:
            status = CameraStatus.ERROR
        self._set_status(status, f"{problem}; retrying in {retry_in_s:g} s", retry_in_s=retry_in_s)

    def _read_until_lost(self, capture: Capture) -> tuple[bool, bool, str]:
        """Read frames until the source fails or stops. Returns (delivered any frame,
        ended for good, reason)."""
        cam = self.camera
        is_file = cam.kind is SourceKind.FILE
        reader = (
            _DecodeAhead(capture, f"decode-{cam.id}")
            if is_file and not self._realtime and not cam.loop
            else _InlineReader(capture)
        )
        try:
            return self._deliver_all(reader, capture)
        finally:
            reader.close()

    def _deliver_all(self, reader: _Reader, capture: Capture) -> tuple[bool, bool, str]:
        cam = self.camera
        is_file = cam.kind is SourceKind.FILE
        # Files play at their rate when realtime; a simulated camera always films at its
        # own, as a live camera delivers at its own whoever reads it.
        paced = (self._realtime and is_file) or cam.kind is SourceKind.SIMULATED
        file_identity = _file_identity(cam.file_path) if cam.file_path else None
        next_file_check = self._clock.monotonic() + FILE_CHECK_INTERVAL_S
        interval = 1.0 / (self.native_fps or DEFAULT_FPS)
        next_due = self._clock.monotonic()
        recording_origin = self._clock.monotonic()  # captured_at of the recording's pts 0
        delivered = False
        cut = False  # the next picture starts the file again (looping)
        pts_s = 0.0
        while not self._stop.is_set():
            decoded = reader.read()
            self._count_decode_errors(capture)
            if decoded is not None:  # some containers give no usable times: count frames
                frame_pts_s = decoded.pts_s
                pts_s = frame_pts_s if frame_pts_s > pts_s or not delivered else pts_s + interval
            if self._recording_start is None:
                captured_at, wall_at = self._clock.monotonic(), self._clock.now()
            else:  # recording time: the file's own timeline, not the speed of the analysis
                captured_at = recording_origin + pts_s
                wall_at = self._recording_start + timedelta(seconds=pts_s)
            now = self._clock.monotonic()
            if cam.file_path is not None and now >= next_file_check:
                next_file_check = now + FILE_CHECK_INTERVAL_S
                if _file_identity(cam.file_path) != file_identity:
                    return delivered, False, f"file is gone or was replaced: {cam.file_path}"
            if decoded is None:
                problem = f" ({capture.problem})" if capture.problem else ""
                if is_file:
                    if not delivered:
                        return delivered, False, f"no decodable frames in {cam.file_path}{problem}"
                    if cam.loop:
                        if not reader.rewind():
                            return delivered, False, "cannot rewind file"
                        cut = True  # its first picture again: nobody walks on from the last
                        continue
                    short = self._declared_s - pts_s
                    if self._declared_s > 0 and short > max(
                        TRUNCATION_TOLERANCE_S, 0.05 * self._declared_s
                    ):
                        with self._lock:
                            frames = self._stats.frames
                        return (
                            delivered,
                            False,
                            f"video stops at {pts_s:.1f} s (frame {frames}) of "
                            f"{self._declared_s:.1f} s: {TRUNCATED}",
                        )
                    return delivered, True, "end of file"
                return delivered, False, f"stream stopped delivering frames{problem}"
            first = not delivered
            delivered = True
            image = decoded.image
            masked = self.privacy.apply(image)  # in place, before any frame holds it
            # The camera's own packets hold the unmasked picture: a masked camera's clips
            # are encoded from the masked frames instead (a paired camera's: from its sub
            # stream's, the only pictures decoded).
            if isinstance(capture, PairedCapture):
                main_packets = capture.take_packets()
                packets = None if masked else main_packets
            else:
                packets = None if masked else _stamped(decoded, capture, captured_at, wall_at)
            copying = packets is not None
            if copying != self._stats.stream_copy and capture.stream is not None:
                with self._lock:
                    self._stats.stream_copy = copying
            self._deliver(image, captured_at, wall_at, packets, masked, pts_s, scene_cut=cut)
            cut = False
            if paced:
                if first:
                    # The schedule starts once the first frame is out (and the camera
                    # online): its analysis (a model's first run) is start-up, not a
                    # backlog to rush frames out for.
                    next_due = self._clock.monotonic()
                next_due += interval
                wait = next_due - self._clock.monotonic()
                if wait > 0:
                    if self._clock.wait(self._stop, wait):
                        break
                elif wait < -CATCH_UP_FRAMES * interval:
                    # Fell behind (machine busy): resync instead of racing through the
                    # backlog, so a file plays like a camera, never faster than its rate
                    # (catching up on up to a second made 4 s of vtest report 11.2 fps).
                    next_due = self._clock.monotonic()
        return delivered, False, "stopped"

    def _count_decode_errors(self, capture: Capture) -> None:
        errors = capture.decode_errors
        if errors != self._stats.decode_errors:  # only this thread writes it
            with self._lock:
                self._stats.decode_errors = errors

    def _deliver(
        self,
        image: Image,
        captured_at: float,
        wall_at: datetime,
        packets: tuple[EncodedPacket, ...] | None = None,
        privacy_masked: bool = False,
        pts_s: float = 0.0,
        *,
        scene_cut: bool = False,
    ) -> None:
        """Hand a picture to the processor and the slot. ``pts_s``: its presentation time
        from the stream start (s), never decreasing while the source is online;
        ``scene_cut``: it does not follow from the previous picture (a loop's start)."""
        # The rate over the last FPS_WINDOW_S of both arrival and presentation time, over
        # the longer of the two spans: frames that waited (in the socket during a slow
        # first analysis, in FFmpeg's probe) and come out together are the camera's rate,
        # not a burst of 50 fps; frames that come slower than their times are what arrives.
        recent = self._recent
        recent.append((captured_at, pts_s))
        while recent and (
            captured_at - recent[0][0] > FPS_WINDOW_S or pts_s - recent[0][1] > FPS_WINDOW_S
        ):
            recent.popleft()
        span = max(captured_at - recent[0][0], pts_s - recent[0][1])
        fps = (len(recent) - 1) / span if span > 0 else 0.0
        with self._lock:
            self._stats.frames += 1
            seq = self._stats.frames
            self._last_frame_at = captured_at
        frame = Frame(
            seq,
            image,
            captured_at,
            fps,
            None,
            wall_at,
            packets,
            privacy_masked,
            scene_cut=scene_cut,
        )
        analysis = self._process(frame)
        self.slot.put(replace(frame, analysis=analysis) if analysis is not None else frame)
        if self._status is not CameraStatus.ONLINE:
            size = f"{image.shape[1]}×{image.shape[0]}"
            if self.camera.kind is SourceKind.SIMULATED:
                size += ", simulated"
            elif self._main_size is not None:
                size = f"{self._main_size} recorded, {size} analysed"
            self._set_status(CameraStatus.ONLINE, size)

    def _process(self, frame: Frame) -> FrameAnalysis | None:
        """Run the analyzer; a failure is counted and logged, and the frame still shows."""
        if self._processor is None:
            return None
        started = self._clock.monotonic()
        try:
            return self._processor(frame)
        except Exception as exc:
            with self._lock:
                first = self._stats.processing_errors == 0
                self._stats.processing_errors += 1
                self._stats.last_processing_error = f"{type(exc).__name__}: {exc}"
            if first:
                log.exception("camera %s: frame analysis failed", self.camera.id)
            return None
        finally:
            self._processing_total_s += self._clock.monotonic() - started

    def _set_status(
        self,
        status: CameraStatus,
        detail: str,
        retry_in_s: float | None = None,
        *,
        handed_over: bool = False,
    ) -> None:
        with self._lock:
            if status is self._status and detail == self._status_detail:
                return
            now_wall, now_mono = self._clock.now(), self._clock.monotonic()
            if status not in _CALM_STATUSES:
                self._stats.last_problem = f"{status.value}: {detail}"
            was_online = self._status is CameraStatus.ONLINE
            if was_online and status is not CameraStatus.ONLINE:
                if self._online_since is not None:
                    self._stats.online_seconds += now_mono - self._online_since
                self._online_since = None
                if status is not CameraStatus.STOPPED:
                    self._stats.offline_periods.append(OfflinePeriod(now_wall, None, detail))
            elif self._status is CameraStatus.STARTING and status in _DOWN_STATUSES:
                # It never delivered: without video since it was started.
                self._stats.offline_periods.append(OfflinePeriod(self._status_since, None, detail))
            if status is CameraStatus.ONLINE:
                self._online_since = now_mono
                self._recent.clear()
                self._ever_online = True
                periods = self._stats.offline_periods
                if periods and periods[-1].end is None:
                    periods[-1].end = now_wall
            if status is not self._status:
                self._status_since = now_wall
            self._status, self._status_detail = status, detail
            since = self._status_since
        self._bus.publish(
            CameraStatusChanged(
                at=now_wall,
                camera_id=self.camera.id,
                status=status,
                detail=detail,
                since=since,
                retry_in_s=retry_in_s,
                handed_over=handed_over,
            )
        )
        level = logging.INFO if status in _CALM_STATUSES else logging.WARNING
        log.log(level, "camera %s: %s (%s)", self.camera.id, status.value, detail)


TRUNCATED = "truncated or corrupt"


def _not_a_regular_file(path: os.PathLike[str] | str) -> str | None:
    """What ``path`` is when it is not a regular file (``"a FIFO (named pipe)"``, ``"a
    directory"``, ``"a device"``, ``"a socket"``), else None. Looked at without opening it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # gone meanwhile: the open says so
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _stamped(
    decoded: Decoded, capture: Capture, captured_at: float, wall_at: datetime
) -> tuple[EncodedPacket, ...] | None:
    """The picture's compressed packets on the engine's time base: each packet's time is the
    frame's plus the difference of their presentation times (exact for recordings)."""
    stream = capture.stream
    if decoded.packets is None or stream is None:
        return None
    stamped = []
    for packet in decoded.packets:
        offset_s = packet.pts_s - decoded.pts_s
        stamped.append(
            packet.stamped(stream, captured_at + offset_s, wall_at + timedelta(seconds=offset_s))
        )
    return tuple(stamped)


class _Reader:
    """Hands out decoded pictures (None at the end) from a :class:`Capture`."""

    def read(self) -> Decoded | None:
        raise NotImplementedError

    def rewind(self) -> bool:
        """Start the file again (looping); only for readers on the worker thread."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop reading; the capture may be released after this returns."""


class _InlineReader(_Reader):
    """Decodes on the camera's worker thread (live sources, paced and looping files)."""

    def __init__(self, capture: Capture) -> None:
        self._capture = capture

    def read(self) -> Decoded | None:
        return self._capture.read()

    def rewind(self) -> bool:
        return self._capture.rewind()


class _DecodeAhead(_Reader):
    """Decodes an unpaced file on its own thread (``decode-<camera>``), a bounded number
    of frames ahead of the frame processor, so decoding and analysis overlap."""

    def __init__(self, capture: Capture, name: str) -> None:
        self._capture = capture
        self._frames: queue.Queue[Decoded | None] = queue.Queue(DECODE_AHEAD_FRAMES)
        self._closing = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        marked = False
        try:
            while not self._closing.is_set():
                decoded = self._capture.read()
                self._frames.put(decoded)
                if decoded is None:
                    marked = True
                    return
        finally:
            if not marked:
                self._frames.put(None)  # exactly one end marker, which close() awaits

    def read(self) -> Decoded | None:
        if self._done:
            return None
        decoded = self._frames.get()
        self._done = decoded is None
        return decoded

    def rewind(self) -> bool:
        return False  # unpaced files are read once (looping files decode inline)

    def close(self) -> None:
        self._closing.set()
        while not self._done:  # drain so a decoder waiting for room can finish
            self._done = self._frames.get() is None
        self._thread.join()


def _file_identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(device, inode) of a file, or None when it is gone or unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.access(path, os.R_OK):
        return None
    return st.st_dev, st.st_ino
