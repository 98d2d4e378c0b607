"""Camera sources against real video files and a real HTTP stream on loopback.

Engine timing (pacing, backoff, stall detection, the watchdog) runs on a SimulatedClock that
the tests move: nothing here sleeps real seconds waiting for the engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import CameraConfig, SourceKind
from engine.events import CameraStatus, CameraStatusChanged
from engine.frames import Frame
from engine.health import WATCHDOG_INTERVAL_S
from engine.runtime import EngineRuntime
from engine.vision.analysis import FrameAnalysis
from engine.vision.source import STALL_TIMEOUT_S, CameraSource
from tests.conftest import write_site
from tests.mjpeg_server import MjpegCamera

REAL_WAIT_S = 20.0  # real-time limit for a thread to reach its next wait (slow CI machines)


class Recorder:
    """Collects a source's status events; waits (real time, event-driven) for a status."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[CameraStatusChanged] = []
        self._changed = threading.Condition()
        bus.subscribe(CameraStatusChanged, self._on_status)

    def _on_status(self, event: CameraStatusChanged) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(
        self, status: CameraStatus, after: int = 0, timeout_s: float = REAL_WAIT_S
    ) -> CameraStatusChanged:
        """The first event with ``status`` at index ≥ after; fails after ``timeout_s``."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: any(e.status is status for e in self.events[after:]), timeout_s
            )
            assert ok, f"no {status.value}; saw {self.statuses()}"
            return next(e for e in self.events[after:] if e.status is status)

    def statuses(self) -> list[str]:
        return [f"{e.status.value}: {e.detail}" for e in self.events]


def camera(url: str, kind: SourceKind = SourceKind.FILE, loop: bool = True) -> CameraConfig:
    return CameraConfig("cam", "Test camera", url, kind, loop, None, None)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def make_source(clock: SimulatedClock) -> Iterator[Callable[..., tuple[CameraSource, Recorder]]]:
    sources: list[CameraSource] = []

    def make(config: CameraConfig, **kwargs: object) -> tuple[CameraSource, Recorder]:
        bus = EventBus()
        recorder = Recorder(bus)
        source = CameraSource(config, bus, clock, **kwargs)  # type: ignore[arg-type]
        sources.append(source)
        source.start()
        return source, recorder

    yield make
    for source in sources:
        source.stop()


def step(clock: SimulatedClock, seconds: float) -> None:
    """Let the engine thread reach its wait, then move the clock by ``seconds``."""
    assert clock.wait_for_waiters(1, REAL_WAIT_S), "the source never waited on the clock"
    clock.advance(seconds)


def test_file_plays_at_its_native_frame_rate(make_source, clock, vtest_avi: Path) -> None:
    source, recorder = make_source(camera(str(vtest_avi)))
    recorder.wait_for(CameraStatus.ONLINE)
    for _ in range(30):  # 3 s of simulated time, one frame interval at a time
        step(clock, 0.1)
    assert clock.wait_for_waiters(1, REAL_WAIT_S)
    stats = source.stats()
    assert source.native_fps == 10.0
    assert stats.frames == 31  # the first frame, then one per 0.1 s
    assert stats.frames / stats.online_seconds == pytest.approx(10.0, abs=0.5)
    frame = source.slot.latest()
    assert frame is not None and frame.image.shape == (576, 768, 3)
    assert frame.source_fps == pytest.approx(10.0)
    # One time base: monotonic and wall time of the frame were read together.
    assert frame.captured_at == pytest.approx(3.0)
    assert frame.wall_at == clock.now()


def test_a_slow_first_analysis_is_not_caught_up_on_as_a_burst_of_frames(
    make_source, clock, vtest_avi: Path
) -> None:
    """The first frame's analysis is slow (a model's first run): the file's schedule starts
    once that frame is out, so no frames are rushed out to make up for it and the file never
    plays faster than its rate while online (a CI run counted 45 frames in 1.4 s at 30 fps)."""
    first = threading.Event()

    def slow_first(frame: Frame) -> FrameAnalysis | None:
        if not first.is_set():
            first.set()
            clock.advance(0.15)  # 1.5 frame intervals: within the catch-up allowance
        return None

    source, recorder = make_source(camera(str(vtest_avi)), processor=slow_first)
    recorder.wait_for(CameraStatus.ONLINE)
    for _ in range(10):  # 1 s online, one frame interval at a time
        step(clock, 0.1)
    assert clock.wait_for_waiters(1, REAL_WAIT_S)
    stats = source.stats()
    assert stats.online_seconds == pytest.approx(1.0)
    assert stats.frames == 11  # the first frame, then one per 0.1 s; none rushed


def test_unpaced_file_decodes_every_frame_then_stops(
    make_source, clock, hamilton_clip: Path
) -> None:
    source, recorder = make_source(camera(str(hamilton_clip), loop=False), realtime=False)
    recorder.wait_for(CameraStatus.STOPPED)
    assert source.wait_ended(0)
    assert source.stats().frames == 275
    assert recorder.events[-1].detail == "end of file"
    assert not any(e.status is CameraStatus.OFFLINE for e in recorder.events)


def test_recording_is_stamped_with_recording_time(make_source, hamilton_clip: Path) -> None:
    """An analysed file: wall time = recording start + presentation time, not the clock."""
    start = datetime(2025, 7, 4, 12, 0, tzinfo=UTC)
    frames: list[Frame] = []

    def keep(frame: Frame) -> FrameAnalysis:
        frames.append(frame)
        return FrameAnalysis(frame.seq, frame.captured_at, (), (), None)

    source, recorder = make_source(
        camera(str(hamilton_clip), loop=False),
        realtime=False,
        recording_start=start,
        processor=keep,
    )
    recorder.wait_for(CameraStatus.STOPPED)
    assert len(frames) == 275 and source.failure is None
    assert frames[0].wall_at == start
    span = (frames[-1].wall_at - frames[0].wall_at).total_seconds()  # type: ignore[operator]
    assert span == pytest.approx(274 / 29.97, abs=0.01)
    assert frames[-1].captured_at - frames[0].captured_at == pytest.approx(span, abs=1e-6)


def test_truncated_recording_fails_and_does_not_retry(
    make_source, vtest_avi: Path, tmp_path: Path
) -> None:
    truncated = tmp_path / "cut.avi"
    truncated.write_bytes(vtest_avi.read_bytes()[:4_000_000])
    source, recorder = make_source(
        camera(str(truncated), loop=False),
        realtime=False,
        recording_start=datetime(2025, 1, 1, tzinfo=UTC),
    )
    error = recorder.wait_for(CameraStatus.ERROR)
    assert source.wait_ended(None)
    assert "truncated or corrupt" in error.detail and source.failure == error.detail
    assert 300 < source.stats().frames < 795


def test_missing_file_shows_no_footage_then_plays_when_it_appears(
    make_source, clock, tmp_path: Path, hamilton_clip: Path
) -> None:
    path = tmp_path / "later.mp4"
    source, recorder = make_source(camera(str(path)))
    no_footage = recorder.wait_for(CameraStatus.NO_FOOTAGE)
    assert f"file not found: {path}" in no_footage.detail
    assert no_footage.retry_in_s == 1.0
    path.write_bytes(hamilton_clip.read_bytes())
    step(clock, 1.0)
    recorder.wait_for(CameraStatus.ONLINE)
    assert source.slot.latest() is not None
    assert source.stats().reconnects == 1


def test_undecodable_file_is_an_error_not_a_crash(make_source, tmp_path: Path) -> None:
    bogus = tmp_path / "broken.avi"
    bogus.write_bytes(b"RIFF" + bytes(range(256)) * 64)
    source, recorder = make_source(camera(str(bogus)))
    error = recorder.wait_for(CameraStatus.ERROR)
    assert "cannot decode video file" in error.detail
    assert source.running  # keeps retrying in case the file is replaced


def test_backoff_doubles_and_is_capped(make_source, clock, tmp_path: Path) -> None:
    source, recorder = make_source(camera(str(tmp_path / "absent.avi")), backoff_max_s=1.5)
    waits = []
    for _ in range(4):
        assert clock.wait_for_waiters(1, REAL_WAIT_S)
        wait = clock.next_deadline_in()
        assert wait is not None
        waits.append(wait)
        clock.advance(wait)
    assert clock.wait_for_waiters(1, REAL_WAIT_S)
    assert waits == [1.0, 1.5, 1.5, 1.5]
    assert source.stats().reconnects == 4
    retries = [e.retry_in_s for e in recorder.events if e.retry_in_s is not None]
    assert retries[:2] == [1.0, 1.5] and max(retries) == 1.5


def test_file_that_vanishes_goes_offline_and_recovers(
    make_source, clock, copied_video: Path
) -> None:
    source, recorder = make_source(camera(str(copied_video)))
    recorder.wait_for(CameraStatus.ONLINE)
    step(clock, 0.1)
    hidden = copied_video.with_suffix(".away")
    copied_video.rename(hidden)
    seen = len(recorder.events)
    step(clock, 0.5)  # the source looks at its file every 0.5 s
    offline = recorder.wait_for(CameraStatus.OFFLINE, after=seen)
    assert "gone" in offline.detail and offline.retry_in_s == 1.0
    hidden.rename(copied_video)
    seen = len(recorder.events)
    # The offline status is published just before the source starts waiting its backoff.
    assert clock.wait_for_waiters(1, REAL_WAIT_S)
    assert clock.next_deadline_in() == pytest.approx(1.0, abs=0.01)
    step(clock, 2.0)
    recorder.wait_for(CameraStatus.ONLINE, after=seen)
    periods = source.stats().offline_periods
    assert len(periods) == 1 and periods[0].end is not None
    assert (periods[0].end - periods[0].start).total_seconds() == pytest.approx(2.0, abs=0.2)


def test_stalled_stream_is_marked_offline_by_the_watchdog_and_reconnects(
    clock: SimulatedClock, tmp_path: Path
) -> None:
    """The runtime's watchdog (every 0.5 s of the clock) marks a silent stream offline after
    the stall timeout; the source drops the connection (FFmpeg read timeout, real time),
    waits its backoff on the clock and reconnects."""
    server = MjpegCamera(fps=20)
    site = write_site(tmp_path / "site.toml", f'[[cameras]]\nid = "cam"\nurl = "{server.url}"\n')
    from engine.config import load_site

    runtime = EngineRuntime(load_site(site), None, clock=clock, analytics=False)
    source = runtime.cameras.sources["cam"]
    source._read_timeout_ms = 1500  # drop a silent connection quickly (real seconds)
    recorder = Recorder(runtime.bus)
    try:
        runtime.start()
        recorder.wait_for(CameraStatus.ONLINE)
        server.streaming.clear()
        seen = len(recorder.events)
        # Move the clock in watchdog steps until the watchdog calls the stall; a frame
        # still in flight when the feed stopped only postpones it.
        stalled = None
        for _ in range(200):
            assert clock.wait_for_waiters(1, REAL_WAIT_S)  # the watchdog is waiting
            clock.advance(WATCHDOG_INTERVAL_S)
            stalled = next(
                (e for e in recorder.events[seen:] if e.status is CameraStatus.OFFLINE), None
            )
            if stalled is not None:
                break
        assert stalled is not None and stalled.detail == f"no frames for {STALL_TIMEOUT_S:g} s"
        # FFmpeg's read timeout ends the connection; the source then waits 1 s of backoff.
        recorder.wait_for(CameraStatus.OFFLINE, after=len(recorder.events) - 1)
        with recorder._changed:
            assert recorder._changed.wait_for(
                lambda: any("reconnecting in 1 s" in e.detail for e in recorder.events[seen:]),
                REAL_WAIT_S,
            ), recorder.statuses()
        server.streaming.set()
        seen = len(recorder.events)
        assert clock.wait_for_waiters(2, REAL_WAIT_S)  # watchdog and backoff
        clock.advance(1.0)
        recorder.wait_for(CameraStatus.ONLINE, after=seen)
        assert source.stats().reconnects == 1
    finally:
        server.streaming.set()
        runtime.stop()
        server.close()


def test_a_worker_that_fails_says_so_instead_of_dying_silently(make_source) -> None:
    """Before: a webcam index beyond a C int raised in the camera thread, which died and
    left the tile "starting" for ever. (The site file now refuses such an index too.)"""
    source, recorder = make_source(camera("99999999999", SourceKind.WEBCAM))
    error = recorder.wait_for(CameraStatus.ERROR)
    assert "camera worker failed" in error.detail and "C int" in error.detail
    assert source.status[0] is CameraStatus.ERROR


@pytest.mark.hostile(10)
def test_a_camera_whose_file_is_a_fifo_is_an_error_offline_since_start_with_an_alert(
    clock: SimulatedClock, tmp_path: Path
) -> None:
    """Before: opening the FIFO blocked the worker until a writer came; the camera stayed
    "starting" for the whole run, with no error, no alert and 0 offline periods."""
    import os

    from engine.alerts.service import CAMERA_OFFLINE_S, AlertRaised
    from engine.config import load_site
    from engine.store import Store
    from tests.waiting import wait_for

    fifo = tmp_path / "camera.mp4"
    os.mkfifo(fifo)
    site = write_site(
        tmp_path / "site.toml", f'[[cameras]]\nid = "gate"\nname = "Gate"\nurl = "{fifo}"\n'
    )
    store = Store(f"sqlite:///{tmp_path / 'e.db'}")
    runtime = EngineRuntime(load_site(site), store, clock=clock, analytics=False)
    recorder = Recorder(runtime.bus)
    raised: list[AlertRaised] = []
    runtime.bus.subscribe(AlertRaised, raised.append)
    try:
        runtime.start()
        error = recorder.wait_for(CameraStatus.ERROR)
        assert error.detail.startswith(f"not a video file: {fifo} is a FIFO (named pipe)")
        [period] = runtime.cameras.sources["gate"].stats().offline_periods
        assert period.start == runtime.started_at and period.end is None
        # The site's camera_offline_s later (moved on the engine clock), an alert.
        for _ in range(int(CAMERA_OFFLINE_S) + 1):
            assert clock.wait_for_waiters(1, REAL_WAIT_S)
            clock.advance(1.0)
        wait_for(lambda: raised, what="the camera's alert")
        [alert] = [e.alert for e in raised]
        assert alert.title.startswith("Camera Gate cannot be opened for 1 min: not a video file")
        report = runtime.report()["cameras"]["gate"]
        assert len(report["offline_periods"]) == 1
    finally:
        runtime.stop()
        store.close()


@pytest.mark.hostile(10)
def test_a_stream_that_connects_and_never_sends_a_frame_is_offline_after_first_frame_s(
    clock: SimulatedClock, tmp_path: Path
) -> None:
    """Whatever holds a camera up before its first frame (here FFmpeg waiting on a stream
    that answered and sends nothing), it is offline ``first_frame_s`` after it started,
    with an offline period from its start; its first frame ends the period."""
    from engine.config import FIRST_FRAME_S, load_site

    server = MjpegCamera(fps=20)
    server.streaming.clear()  # the connection is answered; no frame comes
    site = write_site(tmp_path / "site.toml", f'[[cameras]]\nid = "cam"\nurl = "{server.url}"\n')
    runtime = EngineRuntime(load_site(site), None, clock=clock, analytics=False)
    source = runtime.cameras.sources["cam"]
    source._read_timeout_ms = 120_000  # FFmpeg keeps waiting (real seconds) all test long
    recorder = Recorder(runtime.bus)
    try:
        runtime.start()
        offline = None
        for _ in range(int(FIRST_FRAME_S / WATCHDOG_INTERVAL_S) + 10):
            assert clock.wait_for_waiters(1, REAL_WAIT_S)  # the watchdog
            clock.advance(WATCHDOG_INTERVAL_S)
            offline = next((e for e in recorder.events if e.status is CameraStatus.OFFLINE), None)
            if offline is not None:
                break
        assert offline is not None, recorder.statuses()
        assert offline.detail == f"no frame within {FIRST_FRAME_S:g} s of starting"
        assert CameraStatus.STARTING in {e.status for e in recorder.events}
        [period] = source.stats().offline_periods
        assert period.start == runtime.started_at and period.end is None
        seen = len(recorder.events)
        server.streaming.set()  # the stream starts sending: online, the period ends
        recorder.wait_for(CameraStatus.ONLINE, after=seen)
        [period] = source.stats().offline_periods
        assert period.end is not None
    finally:
        server.streaming.set()
        runtime.stop()
        server.close()
