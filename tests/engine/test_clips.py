"""Event clips from real vtest.avi frames: boundaries, H.264 output, media rows (through the
store writer, spanning the frames' wall time), crashes and processes sharing a data dir."""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import av
import pytest
from sqlalchemy import select as sql_select

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.cv import import_cv2
from engine.data_dirs import data_dir
from engine.frames import EncodedPacket, Frame
from engine.instance import partial_owner, partial_path
from engine.record import (
    PARTIAL_SUFFIX,
    ClipEncoder,
    ClipFinalised,
    ClipRecorder,
    FrameEncoder,
    PreEventBuffer,
    file_sha256,
    remove_orphan_partials,
    select_clip_codec,
)
from engine.record.tracks import tracks_path
from engine.runtime import EngineRuntime
from engine.store import Store
from engine.store.commands import PutSetting
from engine.store.models import Event as EventRow
from engine.store.models import Media
from engine.store.writer import StoreWriter
from resources import DEMO_SITE
from tests.conftest import write_site
from tests.store_helpers import run_command, sync_site

REPO = Path(__file__).resolve().parents[2]
FPS = 10.0  # vtest.avi's frame rate; frames are stamped seq / FPS seconds
FRAME_S = 1 / FPS
T0 = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_leaked_clip_writers() -> Iterator[None]:
    """Every test must close its recorders: no clip writer or encoder may outlive it."""
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("clip-")]
    assert not leaked, f"test leaked clip writer or encoder threads: {leaked}"


def vtest_frames(path: Path, count: int, wall_start: datetime | None = None) -> Iterator[Frame]:
    """The first ``count`` frames of the video, stamped at their 10 fps times (and, with
    ``wall_start``, with the UTC wall time a source reads with each frame)."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        for seq in range(count):
            ok, image = capture.read()
            assert ok, f"{path} has fewer than {count} frames"
            wall_at = wall_start + timedelta(seconds=seq / FPS) if wall_start else None
            yield Frame(seq, image, seq / FPS, FPS, wall_at=wall_at)
    finally:
        capture.release()


def feed(
    recorder: ClipRecorder,
    frames: Iterable[Frame],
    active: Callable[[int], bool],
    event_id: int | None = None,
) -> None:
    """Push every frame, marking activity (as a detector would, after the push) on the
    frames where ``active(seq)``."""
    for frame in frames:
        recorder.push(frame)
        if active(frame.seq):
            recorder.mark_activity(frame.captured_at, event_id)


class ClipLog:
    """The ClipFinalised events of a bus. Writers of consecutive clips run concurrently,
    so events may arrive out of order: ``in_order()`` sorts them by footage start."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[ClipFinalised] = []
        bus.subscribe(ClipFinalised, self.events.append)

    def in_order(self) -> list[ClipFinalised]:
        return sorted(self.events, key=lambda clip: clip.started_at)


@dataclass(frozen=True)
class Decoded:
    codec: str
    width: int
    height: int
    times_s: list[float]
    duration_s: float


def decode(path: Path) -> Decoded:
    """Open a clip with PyAV and decode every frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
        assert container.duration is not None
        return Decoded(
            stream.codec_context.name,
            stream.width,
            stream.height,
            times,
            container.duration / av.time_base,
        )


def recorder_for(
    bus: EventBus,
    writer: StoreWriter | None = None,
    camera_id: int | None = None,
    **kwargs: object,
) -> ClipRecorder:
    # blocking: the tests push frames faster than real time; the encoder must not drop them
    settings: dict[str, object] = {
        "pre_s": 1.0,
        "post_s": 1.0,
        "queue_frames": 500,
        "blocking": True,
    }
    settings.update(kwargs)
    return ClipRecorder(
        "plaza",
        camera_id,
        writer,
        bus,
        SimulatedClock(T0),
        clips_dir=data_dir() / "clips",
        fps_hint=FPS,
        **settings,  # type: ignore[arg-type]
    )


def test_clip_holds_pre_event_and_post_activity_frames_with_a_verified_media_row(
    db_url: str, vtest_avi: Path
) -> None:
    store = Store(db_url)
    try:
        camera_id = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0)).cameras["plaza"]
        with store.transaction() as session:
            trigger = EventRow(ts=T0, kind="person.seen", source="camera:plaza", detail={})
            session.add(trigger)
            session.flush()
            event_id = trigger.id
        bus = EventBus()
        clip_log = ClipLog(bus)
        with StoreWriter.running(store) as writer:
            recorder = recorder_for(bus, writer, camera_id, pre_s=2.0, post_s=1.0)
            try:
                # Activity on frame 60 only (t = 6.0 s): frames 40..70 belong in the clip.
                feed(recorder, vtest_frames(vtest_avi, 100), lambda seq: seq == 60, event_id)
            finally:
                assert recorder.close(timeout_s=20)

        clips = clip_log.in_order()
        assert len(clips) == 1
        clip = clips[0]
        assert (clip.frames, clip.dropped_frames) == (31, 0)  # frames 40..70
        assert clip.duration_s == pytest.approx(3.1, abs=0.15)
        assert clip.started_at == T0 + timedelta(seconds=4.0)  # wall time of frame 40
        assert clip.codec == "libx264"
        path = data_dir() / clip.path
        assert path.parent == data_dir() / "clips" / "plaza" / "2026-05-04"
        assert path.name == "plaza_20260504T030205.000Z.mp4"
        assert not list(path.parent.glob(f"*{PARTIAL_SUFFIX}"))

        video = decode(path)
        assert (video.codec, video.width, video.height) == ("h264", 768, 576)
        assert len(video.times_s) == clip.frames
        assert video.times_s[0] == pytest.approx(0.0)
        steps = [b - a for a, b in zip(video.times_s, video.times_s[1:], strict=False)]
        assert all(step == pytest.approx(FRAME_S, abs=0.002) for step in steps)
        assert video.duration_s == pytest.approx(clip.duration_s, abs=0.02)

        with store.sessions() as session:
            row = session.scalars(sql_select(Media)).one()
        assert row.id == clip.media_id
        assert (row.kind, row.path, row.camera_id, row.event_id) == (
            "clip",
            clip.path,
            camera_id,
            event_id,
        )
        assert not Path(row.path).is_absolute()
        assert (row.sha256, row.size_bytes) == file_sha256(path) == (clip.sha256, clip.size_bytes)
        assert row.created_at == clip.started_at and row.locked is False
        # Frames without wall_at: mapped through the clock anchors; the span is the frames'.
        assert row.started_at == T0 + timedelta(seconds=4.0)
        assert row.ended_at == T0 + timedelta(seconds=7.1)  # frame 70 and its 0.1 s
        assert clip.record().kind == "clip.finalised"
        assert clip.record().detail["media_id"] == row.id
    finally:
        store.close()


def test_activity_within_post_s_extends_a_clip_and_later_activity_starts_another(
    vtest_avi: Path,
) -> None:
    bus = EventBus()
    clip_log = ClipLog(bus)
    recorder = recorder_for(bus, pre_s=1.0, post_s=1.0)
    try:
        # Keyframes every second (0.0, 1.0, ...): a clip starts on one.
        # 2.0 s then 2.8 s (before the 3.0 s end): one clip 1.0..3.8 s.
        # 4.5 s: a new clip; its pre-event keyframe (3.0 s) lies in the first clip, so it
        # starts at the first keyframe after it, 4.0 s, and runs to 5.5 s.
        # 8.0 s: a fresh clip with its full pre-event second, 7.0..9.0 s.
        feed(recorder, vtest_frames(vtest_avi, 100), lambda seq: seq in (20, 28, 45, 80))
    finally:
        assert recorder.close(timeout_s=20)

    clips = clip_log.in_order()
    assert [c.frames for c in clips] == [29, 16, 21]
    assert [(c.started_at - T0).total_seconds() for c in clips] == [1.0, 4.0, 7.0]
    for clip in clips:
        video = decode(data_dir() / clip.path)
        assert len(video.times_s) == clip.frames
        assert video.duration_s == pytest.approx(clip.frames * FRAME_S, abs=0.02)
    assert recorder.stats().clips_finalised == 3


def test_continuous_activity_is_split_at_the_cap_into_contiguous_clips(vtest_avi: Path) -> None:
    bus = EventBus()
    clip_log = ClipLog(bus)
    recorder = recorder_for(bus, pre_s=1.0, post_s=1.0, max_s=3.0)
    try:
        # Activity on every frame from 2.0 s to 10.0 s: footage 1.0..11.0 s.
        feed(recorder, vtest_frames(vtest_avi, 130), lambda seq: 20 <= seq <= 100)
    finally:
        assert recorder.close(timeout_s=30)

    clips = clip_log.in_order()
    assert [c.frames for c in clips] == [30, 30, 30, 11]
    assert [(c.started_at - T0).total_seconds() for c in clips] == [1.0, 4.0, 7.0, 10.0]
    for clip in clips:
        assert clip.duration_s <= 3.0 + 1e-9
        video = decode(data_dir() / clip.path)
        assert len(video.times_s) == clip.frames
        assert video.duration_s == pytest.approx(clip.frames * FRAME_S, abs=0.02)
    assert len({c.path for c in clips}) == 4


def test_missing_h264_encoder_falls_back_to_mpeg4_with_a_warning(
    vtest_avi: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="engine.record.encoder"):
        codec = select_clip_codec("no_such_encoder")
    assert (codec.name, codec.fallback) == ("mpeg4", True)
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert "no_such_encoder" in warning.getMessage() and "fallback" in warning.getMessage()

    bus = EventBus()
    clip_log = ClipLog(bus)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="engine.record.encoder"):
        recorder = recorder_for(bus, codec="no_such_encoder", pre_s=1.0, post_s=1.0)
    assert any("mpeg4" in r.getMessage() for r in caplog.records)
    try:
        feed(recorder, vtest_frames(vtest_avi, 50), lambda seq: seq == 20)
    finally:
        assert recorder.close(timeout_s=20)

    clips = clip_log.in_order()
    assert len(clips) == 1 and clips[0].codec == "mpeg4"
    video = decode(data_dir() / clips[0].path)
    assert (video.codec, video.width, video.height) == ("mpeg4", 768, 576)
    assert len(video.times_s) == clips[0].frames == 21
    assert video.duration_s == pytest.approx(2.1, abs=0.02)


def test_an_encoder_that_falls_behind_drops_and_counts_frames_but_keeps_real_time(
    vtest_avi: Path,
) -> None:
    bus = EventBus()
    clip_log = ClipLog(bus)
    frames = list(vtest_frames(vtest_avi, 80))
    # A one-frame encoder queue, and frames in bursts of five pushed back to back
    # (microseconds apart) while x264 takes milliseconds a frame: the encoder must drop at
    # least three of every five, and say so. The pauses spread the survivors over the clip.
    recorder = recorder_for(bus, pre_s=1.0, post_s=2.0, blocking=False, encode_queue_frames=1)

    def paced(frames: list[Frame]) -> Iterator[Frame]:
        for frame in frames:
            if frame.seq % 5 == 0:
                time.sleep(0.02)
            yield frame

    try:
        feed(recorder, paced(frames), lambda seq: 20 <= seq <= 50)
    finally:
        assert recorder.close(timeout_s=20)
    stats = recorder.stats()
    assert stats.encoder_frames_dropped >= 3 * 80 // 5
    assert stats.frames_encoded + stats.encoder_frames_dropped == 80
    (clip,) = clip_log.in_order()
    assert clip.dropped_frames > 0 and stats.frames_dropped == clip.dropped_frames
    video = decode(data_dir() / clip.path)
    assert len(video.times_s) == clip.frames
    # Each surviving frame plays at its capture time (multiples of 0.1 s from the clip's
    # first frame), so the gaps of the dropped frames keep their real length ...
    first = (clip.started_at - T0).total_seconds()
    played = [round((first + t) / FRAME_S) for t in video.times_s]
    for t in video.times_s:
        assert abs(t / FRAME_S - round(t / FRAME_S)) < 0.02
    assert played == sorted(set(played)) and set(played) <= set(range(0, 71))
    # ... and every frame of its span is either in it or counted as dropped.
    assert clip.frames + clip.dropped_frames == played[-1] - played[0] + 1
    assert video.duration_s == pytest.approx(video.times_s[-1] + FRAME_S, abs=0.02)
    assert clip.duration_s == pytest.approx(video.duration_s, abs=0.02)


def test_a_clip_whose_camera_stops_is_closed_by_the_idle_check(vtest_avi: Path) -> None:
    bus = EventBus()
    clip_log = ClipLog(bus)
    clock = SimulatedClock(T0)
    recorder = ClipRecorder(
        "plaza",
        None,
        None,
        bus,
        clock,
        clips_dir=data_dir() / "clips",
        fps_hint=FPS,
        pre_s=1.0,
        post_s=1.0,
        blocking=True,
    )
    try:
        for frame in vtest_frames(vtest_avi, 26):  # the camera dies after 2.5 s
            clock.advance(frame.captured_at - clock.monotonic())
            recorder.push(frame)
            if frame.seq == 20:
                recorder.mark_activity(frame.captured_at)
        clock.advance(1.0)
        assert not recorder.finish_if_idle() and recorder.stats().recording
        clock.advance(1.0)  # 4.5 s: past the 3.0 s end plus the grace period
        assert recorder.finish_if_idle()
        assert recorder.wait_idle(timeout_s=20)
        assert [c.frames for c in clip_log.in_order()] == [16]  # frames 10..25
    finally:
        assert recorder.close(timeout_s=20)


def test_encoder_trims_odd_sizes_and_scales_a_mid_clip_resolution_change(
    vtest_avi: Path, tmp_path: Path
) -> None:
    cv2 = import_cv2()
    frames = list(vtest_frames(vtest_avi, 20))
    encoder = ClipEncoder(tmp_path / "odd.mp4", select_clip_codec(), FPS)
    for frame in frames[:10]:
        encoder.add(frame.image[:575, :767], frame.captured_at)  # odd: 4:2:0 needs even
    for frame in frames[10:]:  # the camera reconnects at half resolution
        encoder.add(cv2.resize(frame.image, (384, 288)), frame.captured_at)
    encoded = encoder.close()
    assert (encoded.frames, encoded.duration_s) == (20, pytest.approx(2.0))
    video = decode(tmp_path / "odd.mp4")
    assert (video.width, video.height, len(video.times_s)) == (766, 574, 20)


def encoded_packets(frames: Iterable[Frame]) -> list[EncodedPacket]:
    """The frames encoded as the recorder's encoder does (a keyframe every second)."""
    frames = list(frames)
    height, width = frames[0].image.shape[:2]
    encoder = FrameEncoder(select_clip_codec(), width, height, FPS)
    packets = []
    for frame in frames:
        packets += encoder.encode(frame.image, frame.captured_at, frame_s=FRAME_S)
    return packets + encoder.flush()


def test_pre_event_buffer_keeps_whole_keyframe_intervals_bounded_by_seconds_and_bytes(
    vtest_avi: Path, caplog: pytest.LogCaptureFixture
) -> None:
    packets = encoded_packets(vtest_frames(vtest_avi, 40))
    assert [p.captured_at for p in packets if p.keyframe] == [0.0, 1.0, 2.0, 3.0]
    buffer = PreEventBuffer(2.0)
    for seq, packet in enumerate(packets, start=1):
        assert buffer.append(packet, seq)
    # 2 s before the newest packet (3.9 s) is 1.9 s: kept from the keyframe before, 1.0 s.
    assert len(buffer) == 30 and buffer.span_s == pytest.approx(2.9)
    assert buffer.nbytes == sum(len(p.data) for p in packets[10:])
    assert buffer.keyframe_interval_s() == pytest.approx(1.0)
    seqs, start = buffer.start_for(3.5, after_seq=0)  # the keyframe at or before 3.5 s
    assert seqs == list(range(31, 41)) and start == packets[30:]
    seqs, start = buffer.start_for(0.5, after_seq=0)  # not held: the oldest keyframe
    assert start[0].captured_at == 1.0 and len(start) == 30
    assert buffer.start_for(3.5, after_seq=35) == ([], [])  # nothing after packet 35 starts

    gop_bytes = sum(len(p.data) for p in packets[10:20])
    small = PreEventBuffer(2.0, max_bytes=gop_bytes + 1)
    with caplog.at_level(logging.WARNING, logger="engine.record.buffer"):
        for seq, packet in enumerate(packets, start=1):
            small.append(packet, seq)
    assert small.nbytes <= gop_bytes + 1 or len(small) == 10  # one GOP is always kept
    assert small.start_for(0.0, after_seq=0)[1][0].keyframe  # it starts at a keyframe
    assert sum("pre-event buffer capped" in r.getMessage() for r in caplog.records) == 1

    fresh = PreEventBuffer(2.0)
    assert not fresh.append(packets[1], 1)  # before any keyframe: undecodable, not kept
    assert len(fresh) == 0 and fresh.nbytes == 0


def test_the_clip_row_spans_its_frames_wall_time(db_url: str, vtest_avi: Path) -> None:
    # The frames carry their own wall time (a source reads it with captured_at); the
    # recorder's clock says T0, a different day: the clip and its row follow the frames.
    wall = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    store = Store(db_url)
    try:
        bus = EventBus()
        clip_log = ClipLog(bus)
        with StoreWriter.running(store) as writer:
            recorder = recorder_for(bus, writer, pre_s=2.0, post_s=1.0)
            try:
                feed(recorder, vtest_frames(vtest_avi, 100, wall), lambda seq: seq == 60)
            finally:
                assert recorder.close(timeout_s=20)
        (clip,) = clip_log.in_order()
        with store.sessions() as session:
            row = session.scalars(sql_select(Media)).one()
    finally:
        store.close()
    assert clip.started_at == row.started_at == wall + timedelta(seconds=4.0)  # frame 40
    assert row.ended_at == wall + timedelta(seconds=7.1)  # frame 70 plus one frame interval
    assert Path(clip.path).name == "plaza_20260501T120004.000Z.mp4"
    assert row.id == clip.media_id


def _dead_pid() -> int:
    """The pid of a process that has already exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    return child.pid


def test_unfinished_files_are_removed_only_when_their_process_is_gone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    day = tmp_path / "clips" / "gate" / "2026-05-04"
    day.mkdir(parents=True)
    finished = day / "gate_20260504T030201.000Z.mp4"
    finished.write_bytes(b"done")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        # Another live process (a concurrent `watchfloor analyze`) is writing this clip.
        other = partial_path(day / "gate_20260504T030301.000Z.mp4", alive.pid)
        mine = partial_path(day / "gate_20260504T030401.000Z.mp4")  # this process's
        dead = partial_path(day / "gate_20260504T030501.000Z.mp4", _dead_pid())
        legacy = day / f"gate_20260504T030601.000Z{PARTIAL_SUFFIX}"  # no owner in the name
        for path in (other, mine, dead, legacy):
            path.write_bytes(b"half")
        assert partial_owner(other) == alive.pid and other.name.endswith(PARTIAL_SUFFIX)
        with caplog.at_level(logging.WARNING, logger="engine.record.sweep"):
            removed = remove_orphan_partials(tmp_path / "clips", relative_to=tmp_path)
        assert sorted(removed) == sorted(p.relative_to(tmp_path).as_posix() for p in (dead, legacy))
        assert finished.exists() and other.exists() and mine.exists()
        assert not dead.exists() and not legacy.exists()
        assert str(dead) in caplog.text
        assert remove_orphan_partials(tmp_path / "clips") == []
        assert remove_orphan_partials(tmp_path / "missing") == []
    finally:
        alive.kill()
        alive.wait(10)
    assert remove_orphan_partials(tmp_path / "clips", relative_to=tmp_path) == [
        other.relative_to(tmp_path).as_posix()
    ]


class ChildLines:
    """Lines from a child's stdout, read on a helper thread so a wait can time out (and
    two lines arriving together are not stuck in a buffer that select() cannot see)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self._proc = proc
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def after(self, prefix: str, timeout_s: float) -> str:
        """The rest of the next line that starts with ``prefix``; fails on timeout or exit."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"crash helper exited (code {self._proc.wait()}) before {prefix}")
            if line.startswith(prefix + " "):
                return line.removeprefix(prefix + " ").strip()
        pytest.fail(f"crash helper said no {prefix} within {timeout_s} s")

    def join(self) -> None:
        self._thread.join(10)


def _engine(db_url: str, tmp_path: Path) -> EngineRuntime:
    """A live engine on the test data dir with no cameras: its start sweeps the data dir."""
    return EngineRuntime(load_site(write_site(tmp_path / "site.toml")), Store(db_url))


def _start_and_sweep(runtime: EngineRuntime) -> None:
    runtime.start()
    deadline = time.monotonic() + 60
    while runtime.upkeep.retention is None or runtime.upkeep.retention.runs < 1:
        assert time.monotonic() < deadline, "the retention thread did not run at start"
        time.sleep(0.05)


def _stop(runtime: EngineRuntime) -> None:
    runtime.stop()
    assert runtime.store is not None
    runtime.store.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.slow
def test_kill_during_a_clip_loses_only_that_clip(
    db_url: str, vtest_avi: Path, tmp_path: Path
) -> None:
    clips_dir = data_dir() / "clips"
    store = Store(db_url)  # migrate before the child, so it only records
    # The child stamps its clips in 2026-01 (simulated clock): retention must keep them.
    keep = {"min_free_bytes": 0, "clips_days": 3650, "events_days": 3650}
    run_command(store, PutSetting(key="retention", value=keep, at=T0))
    store.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.clip_crash_helper", db_url, str(clips_dir), str(vtest_avi)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = ChildLines(proc)
    try:
        first = lines.after("FIRST", 60)
        partial = Path(lines.after("SECOND", 30))
        assert partial_owner(partial) == proc.pid

        # An engine starting while the child (think `watchfloor analyze`) still writes its
        # clip sweeps the data dir but leaves the live process's unfinished clip alone.
        engine = _engine(db_url, tmp_path)
        try:
            _start_and_sweep(engine)
            assert partial.exists() and proc.poll() is None
            size = partial.stat().st_size
        finally:
            _stop(engine)
        deadline = time.monotonic() + 30
        while partial.stat().st_size == size:  # and the child carries on writing it
            assert time.monotonic() < deadline, "the child stopped writing its clip"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        lines.join()
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    # The finished clip is complete on disk and in the database.
    store = Store(db_url)
    try:
        with store.sessions() as session:
            rows = list(session.scalars(sql_select(Media)))
    finally:
        store.close()
    assert [r.path for r in rows] == [first]
    for row in rows:  # no row points at a missing or altered file
        assert file_sha256(data_dir() / row.path) == (row.sha256, row.size_bytes)
    assert len(decode(data_dir() / first).times_s) == 16  # frames 10..25

    # The clip being written left only its temp file (the finished one has its people's
    # boxes beside it) ...
    assert partial.exists() and partial.name.endswith(PARTIAL_SUFFIX)
    finished = [data_dir() / first, tracks_path(data_dir() / first)]
    assert sorted(p.name for p in clips_dir.rglob("*") if p.is_file()) == sorted(
        [*(f.name for f in finished), partial.name]
    )
    # ... which the next engine start removes, and records as an event.
    engine = _engine(db_url, tmp_path)
    try:
        _start_and_sweep(engine)
    finally:
        _stop(engine)
    assert sorted(p for p in clips_dir.rglob("*") if p.is_file()) == sorted(finished)
    store = Store(db_url)
    try:
        with store.sessions() as session:
            swept = session.scalars(
                sql_select(EventRow).where(EventRow.kind == "media.swept")
            ).one()
    finally:
        store.close()
    assert swept.detail["partials_removed"] == 1 and swept.detail["clips_adopted"] == 0
    assert swept.detail["paths"]["partials_removed"] == [partial.relative_to(data_dir()).as_posix()]
