"""A camera read as two streams by role (engine.vision.paired): its sub stream decoded for
the pictures (analysis, the wall), its main stream's own packets recorded, never decoded
or re-encoded; the site file's sub_url checked; a main stream that cannot be recorded as it
comes said so on the tile."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.config import SiteConfigError, load_site
from engine.data_dirs import data_dir
from engine.events import CameraStatus, CameraStatusChanged
from engine.record.segments import RECORDINGS_DIR
from engine.runtime import EngineRuntime
from engine.store import Store
from engine.vision.capture import open_pyav
from tests.conftest import write_site

FPS = 15


def write_stream(path: Path, codec: str, size: tuple[int, int], seconds: float) -> Path:
    """A camera stream as a file: a grey scene with a square walking across."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=FPS)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if codec == "libx264" else "yuvj420p"
        stream.codec_context.gop_size = FPS
        for index in range(round(seconds * FPS)):
            image = np.full((height, width, 3), 100, np.uint8)
            x = (index * width // 40) % (width - width // 8)
            image[height // 3 : height // 3 + height // 4, x : x + width // 8] = 230
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def packet_sizes(path: Path, count: int) -> list[int]:
    """The sizes of the first ``count`` packets, keyframes left out (a recorded keyframe
    carries its parameter sets, so a clip can start at it)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return [p.size for p in container.demux(video) if p.size and not p.is_keyframe][:count]


def said(runtime: EngineRuntime, status: CameraStatus) -> tuple[threading.Event, list[str]]:
    """An event set when a camera of ``runtime`` says ``status``, and what it said."""
    heard = threading.Event()
    details: list[str] = []

    def hear(event: CameraStatusChanged) -> None:
        if event.status is status:
            details.append(event.detail)
            heard.set()

    runtime.bus.subscribe(CameraStatusChanged, hear)
    return heard, details


@pytest.fixture
def streams(tmp_path: Path) -> tuple[Path, Path]:
    main = write_stream(tmp_path / "main.mp4", "libx264", (640, 480), 6.0)
    sub = write_stream(tmp_path / "sub.mp4", "libx264", (160, 120), 6.0)
    return main, sub


def test_a_demux_only_capture_gives_packets_and_decodes_nothing(
    streams: tuple[Path, Path],
) -> None:
    main, _sub = streams
    capture = open_pyav(str(main), live=False, shown_url=str(main), decode=False)
    packets = []
    while (more := capture.read_packets()) is not None:
        packets += more
    assert len(packets) == 90 and packets[0].keyframe
    assert not capture._pictures  # nothing was decoded
    capture.release()


@pytest.mark.slow
def test_the_sub_stream_is_analysed_and_the_main_streams_own_packets_recorded(
    streams: tuple[Path, Path], tmp_path: Path, db_url: str
) -> None:
    main, sub = streams
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            f'[[cameras]]\nid = "gate"\nurl = "{main}"\nsub_url = "{sub}"\n'
            "recording = { segment_s = 2 }\n",
        )
    )
    assert site.cameras[0].sub_url == str(sub)
    runtime = EngineRuntime(site, Store(db_url))
    online, details = said(runtime, CameraStatus.ONLINE)
    runtime.start()
    try:
        assert online.wait(60)
        source = runtime.cameras.sources["gate"]
        # The pictures of about 5 s (the frames counted; bounded, never a fixed sleep).
        deadline = time.monotonic() + 60
        while source.stats().frames < 70:
            assert time.monotonic() < deadline, source.stats().frames
            online.wait(0.05)
        frame = source.slot.latest()
        assert frame is not None and frame.image.shape[:2] == (120, 160)  # the sub stream
        pipeline = runtime.cameras.pipelines["gate"]
        assert pipeline.analyzer.stats.frames >= 70  # analysed at the sub stream's size
    finally:
        runtime.stop()
        assert runtime.store is not None
        runtime.store.close()
    assert details == ["640×480 recorded, 160×120 analysed"]
    assert source.stats().stream_copy
    segments = sorted((data_dir() / RECORDINGS_DIR / "gate").rglob("*.mp4"))
    assert segments, "no segment recorded"
    with av.open(str(segments[0])) as recorded:
        video = recorded.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (640, 480)
    # The main stream's own packets, as the camera sent them: not decoded, not re-encoded.
    assert packet_sizes(segments[0], 20) == packet_sizes(main, 20)


def test_sub_url_is_checked_against_the_cameras_url(tmp_path: Path) -> None:
    def load(camera: str) -> object:
        return load_site(write_site(tmp_path / "site.toml", f"[[cameras]]\n{camera}"))

    with pytest.raises(SiteConfigError, match=r"sub_url.*carries a password"):
        load('id = "a"\nurl = "rtsp://cam/main"\nsub_url = "rtsp://u:p@cam/sub"\n')
    with pytest.raises(SiteConfigError, match="a stream camera's sub stream is a stream too"):
        load('id = "a"\nurl = "rtsp://cam/main"\nsub_url = "sub.mp4"\n')
    with pytest.raises(SiteConfigError, match="only a stream or file camera has a sub stream"):
        load('id = "a"\nurl = 0\nsub_url = "rtsp://cam/sub"\n')
    camera = load_site(
        write_site(
            tmp_path / "ok.toml",
            '[[cameras]]\nid = "a"\nurl = "rtsp://admin@cam/main"\n'
            'sub_url = "rtsp://admin@cam/sub"\npassword_env = "CAM_A"\n',
        )
    ).cameras[0]
    assert camera.sub_url == "rtsp://admin@cam/sub"


def test_a_main_stream_that_is_not_h264_is_said_on_the_tile(
    tmp_path: Path, db_url: str, streams: tuple[Path, Path]
) -> None:
    _main, sub = streams
    mjpeg = write_stream(tmp_path / "main.avi", "mjpeg", (320, 240), 2.0)
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            f'[[cameras]]\nid = "gate"\nurl = "{mjpeg}"\nsub_url = "{sub}"\n',
        )
    )
    runtime = EngineRuntime(site, Store(db_url), analytics=False)
    failed, details = said(runtime, CameraStatus.ERROR)
    runtime.start()
    try:
        assert failed.wait(30)
    finally:
        runtime.stop()
        assert runtime.store is not None
        runtime.store.close()
    assert "the main stream is mjpeg: only H.264 or H.265 is recorded" in details[0]
