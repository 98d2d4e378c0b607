"""Opening a live camera: a real RTSP camera (GStreamer's RTSP server, tests/rtsp_camera.py)
is opened from its first packet instead of after FFmpeg's seconds-long probe, a stream
whose picture size comes later still opens, a camera's main and sub streams are opened at
once, and the frame rate a camera shows is its own even when its first frames come out
together.

How long an open takes is measured by hand (issue 67: 5.6 s → 0.14 s from start to the
first picture of a paired 10 fps camera on loopback), never asserted here.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.bus import EventBus
from engine.clock import RealClock, SimulatedClock
from engine.cluster.media import system_python
from engine.config import CameraConfig, SourceKind
from engine.frames import Frame
from engine.vision.capture import open_pyav
from engine.vision.source import CameraSource
from tests.engine import mpegts_rtsp_camera
from tests.rtsp_camera import RtspCamera, has_rtsp_server

FPS = 10
REAL_WAIT_S = 20.0  # real-time limit for a stream or thread to get somewhere (slow CI)
needs_rtsp_server = pytest.mark.skipif(
    not has_rtsp_server(system_python()), reason="GStreamer's RTSP server is not installed"
)


def write_stream(path: Path, size: tuple[int, int], seconds: float, *, audio: bool = False) -> Path:
    """A camera's stream as an MP4 file: H.264 at FPS with a keyframe a second and no
    B-frames, a brightness ramp (each picture differs); ``audio``: with AAC audio, muxed
    ahead of each picture's video."""
    width, height = size
    with av.open(str(path), "w") as container:
        sound = container.add_stream("aac", rate=48000) if audio else None
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = FPS
        video.codec_context.max_b_frames = 0
        video.options = {"preset": "ultrafast"}
        samples = 0
        for index in range(round(seconds * FPS)):
            while sound is not None and samples < (index + 1) * 48000 // FPS:
                chunk = av.AudioFrame.from_ndarray(
                    np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts = 48000, samples
                chunk.time_base = Fraction(1, 48000)
                container.mux(sound.encode(chunk))
                samples += 1024
            image = np.full((height, width, 3), (index * 7) % 200 + 20, np.uint8)
            picture = av.VideoFrame.from_ndarray(image, format="bgr24")
            picture.pts, picture.time_base = index, Fraction(1, FPS)
            container.mux(video.encode(picture))
        if sound is not None:
            container.mux(sound.encode(None))
        container.mux(video.encode(None))
    return path


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("live_open")
    return {
        "main": write_stream(folder / "main.mp4", (640, 480), 8),
        "sub": write_stream(folder / "sub.mp4", (320, 240), 8),
        "late": write_stream(folder / "late.mp4", (320, 240), 8, audio=True),
    }


@needs_rtsp_server
def test_a_live_rtsp_camera_is_opened_from_its_first_packet(streams: dict[str, Path]) -> None:
    with RtspCamera(system_python(), {"main": streams["main"], "sub": streams["sub"]}) as rtsp:
        sub = open_pyav(rtsp.url("sub"), live=True, shown_url="sub", timeouts_s=(10, 10))
        main = open_pyav(
            rtsp.url("main"), live=True, shown_url="main", timeouts_s=(10, 10), decode=False
        )
        try:
            # FFmpeg's default probe read 2.8 s of this camera before its first picture.
            assert sub.quick_probe and main.quick_probe
            # What the first packet and the SDP say is all the reading needs.
            assert sub.fps == FPS and sub.codec == "h264"
            first = sub.read()
            assert first is not None and first.image.shape == (240, 320, 3)
            assert first.pts_s == 0.0  # the camera's first picture, nothing skipped
            assert main.stream is not None
            assert (main.stream.width, main.stream.height) == (640, 480)
            packets: tuple = ()
            while not packets:
                got = main.read_packets()
                assert got is not None, main.problem
                packets = got
            assert packets[0].keyframe  # a clip can start at the first packet recorded
        finally:
            sub.release()
            main.release()


@needs_rtsp_server
def test_a_stream_opened_from_its_first_packet_has_its_codecs_frame_rate(
    streams: dict[str, Path],
) -> None:
    """MPEG-TS over RTP opened from its first packet: FFmpeg has not measured the rate yet
    and guesses H.264's field rate (20 for this 10 fps stream); the codec's own is 10."""
    with mpegts_rtsp_camera.camera(system_python(), {"ts": streams["sub"]}, audio=False) as rtsp:
        capture = open_pyav(rtsp.url("ts"), live=True, shown_url="ts", timeouts_s=(10, 10))
        try:
            assert capture.quick_probe
            assert capture.fps == FPS
        finally:
            capture.release()


@needs_rtsp_server
def test_a_stream_whose_picture_size_comes_late_is_probed_longer(
    streams: dict[str, Path],
) -> None:
    with mpegts_rtsp_camera.camera(system_python(), {"late": streams["late"]}, audio=True) as rtsp:
        capture = open_pyav(rtsp.url("late"), live=True, shown_url="late", timeouts_s=(10, 10))
        try:
            assert not capture.quick_probe  # its first packet is audio: probed as before
            assert capture.fps == FPS
            first = capture.read()
            assert first is not None and first.image.shape == (240, 320, 3)
        finally:
            capture.release()


@needs_rtsp_server
def test_the_rate_a_camera_shows_is_its_own_when_frames_that_waited_come_out_together(
    streams: dict[str, Path],
) -> None:
    """The late stream's open reads its first 2 s before the first picture; those pictures
    then come out at once. The tile showed their arrival rate (51.5 fps in the console, and
    hundreds here for a 10 fps camera); it is the camera's rate, measured on their times."""
    rates: list[float] = []
    enough = threading.Event()

    def note_rate(frame: Frame) -> None:
        rates.append(frame.source_fps)
        if len(rates) == 30:
            enough.set()

    with mpegts_rtsp_camera.camera(system_python(), {"late": streams["late"]}, audio=True) as rtsp:
        camera = CameraConfig(
            "late", "Late", rtsp.url("late"), SourceKind.STREAM, False, None, None
        )
        source = CameraSource(camera, EventBus(), RealClock(), processor=note_rate)
        source.start()
        try:
            assert enough.wait(REAL_WAIT_S), f"{len(rates)} frames"
        finally:
            source.stop()
    # The first two have no rate yet (the window starts once the camera is online).
    measured = rates[2:30]
    assert all(0 < rate <= FPS + 1e-9 for rate in measured), [round(r, 1) for r in measured]


class SilentServer:
    """A TCP port on loopback that accepts connections and never answers (a camera that
    hangs mid-open); ``connected`` is set once something connects."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.connected = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            while True:
                connection, _ = self._listener.accept()
                self._held.append(connection)
                self.connected.set()
        except OSError:  # closed
            return

    def close(self) -> None:
        for connection in self._held:
            connection.close()
        with contextlib.suppress(OSError):  # closed already
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (close alone does not)
        self._listener.close()
        self._thread.join(REAL_WAIT_S)


@pytest.fixture
def silent_servers() -> Iterator[tuple[SilentServer, SilentServer]]:
    servers = (SilentServer(), SilentServer())
    yield servers
    for server in servers:
        server.close()


def test_a_cameras_main_and_sub_streams_are_opened_at_once(
    silent_servers: tuple[SilentServer, SilentServer],
) -> None:
    """Both streams hang mid-open (a minute's timeout): the sub stream is asked for while
    the main one is still opening. Before, the sub stream waited for the main one's open
    (2.8 s on the test camera, its whole timeout on a camera that hangs)."""
    main, sub = silent_servers
    camera = CameraConfig(
        "dock",
        "Dock",
        f"rtsp://127.0.0.1:{main.port}/main",
        SourceKind.STREAM,
        False,
        None,
        None,
        sub_url=f"rtsp://127.0.0.1:{sub.port}/sub",
    )
    clock = SimulatedClock(datetime(2026, 11, 29, 7, 0, tzinfo=UTC))
    source = CameraSource(camera, EventBus(), clock, read_timeout_ms=60_000)
    source.start()
    try:
        assert main.connected.wait(REAL_WAIT_S), "the main stream was never asked for"
        assert sub.connected.wait(REAL_WAIT_S), "the sub stream waited for the main one"
        assert not source.slot.latest()
    finally:
        main.close()  # the opens fail at once, the source waits to retry (simulated clock)
        sub.close()
        source.stop()
