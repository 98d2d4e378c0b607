"""Camera sources against real video files and a real HTTP stream on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.config import CameraConfig, SourceKind
from engine.events import CameraStatus, CameraStatusChanged
from engine.vision.source import CameraSource
from tests.mjpeg_server import MjpegCamera


class Recorder:
    """Collects a source's status events; waits for a status with a deadline."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[CameraStatusChanged] = []
        self._changed = threading.Condition()
        bus.subscribe(CameraStatusChanged, self._on_status)

    def _on_status(self, event: CameraStatusChanged) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, status: CameraStatus, timeout_s: float, after: int = 0) -> float:
        """Seconds until an event with ``status`` (index ≥ after) arrived; fails on timeout."""
        start = time.monotonic()
        with self._changed:
            ok = self._changed.wait_for(
                lambda: any(e.status is status for e in self.events[after:]), timeout_s
            )
        assert ok, f"no {status.value} within {timeout_s} s; saw {self.statuses()}"
        return time.monotonic() - start

    def statuses(self) -> list[str]:
        return [f"{e.status.value}: {e.detail}" for e in self.events]


def camera(url: str, kind: SourceKind = SourceKind.FILE, loop: bool = True) -> CameraConfig:
    return CameraConfig("cam", "Test camera", url, kind, loop, None, None)


@pytest.fixture
def make_source() -> Iterator[Callable[..., tuple[CameraSource, Recorder]]]:
    sources: list[CameraSource] = []

    def make(config: CameraConfig, **kwargs: object) -> tuple[CameraSource, Recorder]:
        bus = EventBus()
        recorder = Recorder(bus)
        source = CameraSource(config, bus, REAL_CLOCK, **kwargs)  # type: ignore[arg-type]
        sources.append(source)
        source.start()
        return source, recorder

    yield make
    for source in sources:
        source.stop()


def test_file_plays_at_its_native_frame_rate(make_source, vtest_avi: Path) -> None:
    source, recorder = make_source(camera(str(vtest_avi)))
    recorder.wait_for(CameraStatus.ONLINE, 5)
    time.sleep(3.0)
    stats = source.stats()
    assert source.native_fps == 10.0
    assert 9.0 <= stats.frames / stats.online_seconds <= 11.0
    frame = source.slot.latest()
    assert frame is not None and frame.image.shape == (576, 768, 3)
    assert 8.0 <= frame.source_fps <= 12.0


def test_unpaced_file_decodes_every_frame_then_stops(make_source, hamilton_clip: Path) -> None:
    source, recorder = make_source(camera(str(hamilton_clip), loop=False), realtime=False)
    recorder.wait_for(CameraStatus.STOPPED, 20)
    assert source.stats().frames == 275
    assert recorder.events[-1].detail == "end of file"
    assert not any(e.status is CameraStatus.OFFLINE for e in recorder.events)


def test_missing_file_shows_no_footage_then_plays_when_it_appears(
    make_source, tmp_path: Path, hamilton_clip: Path
) -> None:
    path = tmp_path / "later.mp4"
    source, recorder = make_source(camera(str(path)))
    recorder.wait_for(CameraStatus.NO_FOOTAGE, 5)
    no_footage = next(e for e in recorder.events if e.status is CameraStatus.NO_FOOTAGE)
    assert f"file not found: {path}" in no_footage.detail
    assert no_footage.retry_in_s == 1.0
    path.write_bytes(hamilton_clip.read_bytes())
    recorder.wait_for(CameraStatus.ONLINE, 6)
    assert source.slot.latest() is not None


def test_undecodable_file_is_an_error_not_a_crash(make_source, tmp_path: Path) -> None:
    bogus = tmp_path / "broken.avi"
    bogus.write_bytes(b"RIFF" + bytes(range(256)) * 64)
    source, recorder = make_source(camera(str(bogus)))
    recorder.wait_for(CameraStatus.ERROR, 5)
    assert "cannot decode video file" in recorder.events[-1].detail
    assert source.running  # keeps retrying in case the file is replaced


def test_backoff_doubles_and_is_capped(make_source, tmp_path: Path) -> None:
    # Capped at 1.5 s, attempts end at 1, 2.5, 4, 5.5 s; uncapped they would end at 1, 3, 7 s.
    source, recorder = make_source(camera(str(tmp_path / "absent.avi")), backoff_max_s=1.5)
    time.sleep(6.0)
    assert source.stats().reconnects >= 4
    retries = [e.retry_in_s for e in recorder.events if e.retry_in_s is not None]
    assert retries[:2] == [1.0, 1.5]
    assert max(retries) == 1.5


@pytest.mark.slow
def test_file_that_vanishes_goes_offline_within_5s_and_recovers(
    make_source, copied_video: Path
) -> None:
    source, recorder = make_source(camera(str(copied_video)))
    recorder.wait_for(CameraStatus.ONLINE, 5)
    time.sleep(1.0)
    hidden = copied_video.with_suffix(".away")
    copied_video.rename(hidden)
    seen = len(recorder.events)
    assert recorder.wait_for(CameraStatus.OFFLINE, 5.0, after=seen) < 5.0
    offline = next(e for e in recorder.events[seen:] if e.status is CameraStatus.OFFLINE)
    assert "gone" in offline.detail
    time.sleep(2.0)
    hidden.rename(copied_video)
    seen = len(recorder.events)
    recorder.wait_for(CameraStatus.ONLINE, 12.0, after=seen)
    periods = source.stats().offline_periods
    assert len(periods) == 1 and periods[0].end is not None
    assert 2.0 <= (periods[0].end - periods[0].start).total_seconds() <= 15.0


@pytest.mark.slow
def test_stalled_stream_is_marked_offline_and_reconnects() -> None:
    server = MjpegCamera(fps=20)
    bus = EventBus()
    recorder = Recorder(bus)
    source = CameraSource(camera(server.url, SourceKind.STREAM), bus, REAL_CLOCK)
    watchdog_stop = threading.Event()

    def watchdog() -> None:  # the engine runtime does this every 0.5 s
        while not watchdog_stop.wait(0.5):
            source.check_stall()

    thread = threading.Thread(target=watchdog, name="test-watchdog")
    try:
        source.start()
        thread.start()
        recorder.wait_for(CameraStatus.ONLINE, 10)
        time.sleep(1.0)
        server.streaming.clear()
        seen = len(recorder.events)
        assert recorder.wait_for(CameraStatus.OFFLINE, 5.0, after=seen) < 5.0
        time.sleep(5.0)  # past FFmpeg's read timeout: the source drops the connection
        server.streaming.set()
        seen = len(recorder.events)
        recorder.wait_for(CameraStatus.ONLINE, 25.0, after=seen)
        assert source.stats().reconnects >= 1
    finally:
        watchdog_stop.set()
        thread.join()
        source.stop()
        server.close()
