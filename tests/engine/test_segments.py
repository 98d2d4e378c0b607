"""Continuous recording: every packet of a camera into fragmented-MP4 segments, indexed in
the store, contiguous, playable, recoverable after a crash, and gaps said. Real H.264
files read by the real camera source, a real store."""

from __future__ import annotations

import dataclasses
import itertools
import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import select

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.data_dirs import data_dir
from engine.frames import EncodedPacket, Frame
from engine.record import ClipRecorder
from engine.record.fragments import complete_fragments_end
from engine.record.segments import RECORDINGS_DIR, RecordingGap, SegmentRecorder
from engine.store import Store
from engine.store.models import Media
from engine.store.writer import StoreWriter
from resources import DEMO_SITE
from tests.engine.test_recording import T0, demuxed, pictures, read_recording, write_video
from tests.store_helpers import sync_site


@pytest.fixture(autouse=True)
def no_leaked_segment_writers() -> Iterator[None]:
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("segment-writer-")]
    assert not leaked, f"test leaked segment writers: {leaked}"


@pytest.fixture(scope="module")
def h264_12s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of vtest's pedestrians as an H.264 camera sends them: 15 fps, a keyframe a
    second."""
    folder = tmp_path_factory.mktemp("segments")
    return write_video(folder / "camera.mp4", "libx264", seconds=12.0, gop=15)


def recorder_for(
    bus: EventBus, writer: StoreWriter | None = None, camera_id: int | None = None, **kw: object
) -> tuple[ClipRecorder, SegmentRecorder]:
    clock = SimulatedClock(T0)
    root = data_dir()
    continuous = SegmentRecorder(
        "cam",
        camera_id,
        writer,
        bus,
        clock,
        recordings_dir=root / RECORDINGS_DIR,
        media_root=root,
        **kw,  # type: ignore[arg-type]
    )
    clips = ClipRecorder(
        "cam",
        camera_id,
        None,
        bus,
        clock,
        clips_dir=root / "clips",
        fps_hint=15.0,
        blocking=True,
        continuous=continuous,
    )
    return clips, continuous


def segment_files() -> list[Path]:
    return sorted((data_dir() / RECORDINGS_DIR).rglob("*.mp4"))


def test_every_packet_of_an_h264_camera_lands_in_contiguous_segments_indexed_in_the_store(
    store: Store, h264_12s: Path
) -> None:
    frames = read_recording(h264_12s)
    assert len(frames) == 180
    camera_id = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0)).cameras["plaza"]
    bus = EventBus()
    gaps: list[RecordingGap] = []
    bus.subscribe(RecordingGap, gaps.append)
    with StoreWriter.running(store) as writer:
        recorder, continuous = recorder_for(bus, writer, camera_id, segment_s=4.0)
        try:
            for frame in frames:
                recorder.push(frame)
                # People in view from 5 s to 6 s; motion in every other frame.
                people = 2 if 5.0 <= frame.captured_at < 6.0 else 0
                recorder.note_analysis(frame.captured_at, frame.seq % 2 == 0, people)
        finally:
            assert recorder.close(timeout_s=30)
        writer.flush(timeout_s=30)
    stats = continuous.stats()
    assert (stats.segments_written, stats.segments_failed, stats.frames_dropped) == (3, 0, 0)
    assert stats.stream_copy is True and gaps == []
    files = segment_files()
    assert [f.name for f in files] == [
        "cam_20260504T030201.000Z.mp4",
        "cam_20260504T030205.000Z.mp4",
        "cam_20260504T030209.000Z.mp4",
    ]
    with store.sessions() as session:
        rows = list(session.scalars(select(Media).order_by(Media.started_at)))
    assert [r.kind for r in rows] == ["segment"] * 3
    assert [data_dir() / r.path for r in rows] == files
    assert all(r.camera_id == camera_id for r in rows)
    # Contiguous: each segment ends where the next begins; together, the whole 12 s.
    assert rows[0].started_at == T0 and rows[-1].ended_at == T0 + timedelta(seconds=12)
    for a, b in itertools.pairwise(rows):
        assert a.ended_at == b.started_at
    assert sum(r.size_bytes for r in rows) == stats.bytes_written
    assert [(r.motion_share, r.people_seen) for r in rows] == [(0.5, 0), (0.5, 2), (0.5, 0)]
    # The camera's own packets, each exactly once and in order, nothing re-encoded.
    source = demuxed(h264_12s)
    copied = [p for f in files for p in demuxed(f)]
    assert len(copied) == len(source) == 180
    for (data, key, _), (original, original_key, _) in zip(copied, source, strict=True):
        assert key == original_key
        # A keyframe gains its parameter sets (SPS/PPS) in front of its picture.
        assert data == original or (
            key and data[-256:] == original[-256:] and 0 < len(data) - len(original) < 64
        )
    decoded = [p for f in files for p in pictures(f)]
    assert all(np.array_equal(a, b) for a, b in zip(decoded, pictures(h264_12s), strict=True))


def test_an_unfinished_segment_is_playable_up_to_its_last_complete_fragment(
    h264_12s: Path, tmp_path: Path
) -> None:
    """A kill -9 mid-segment leaves a temp file cut anywhere; its whole fragments (one a
    second here, at each keyframe) are found and play."""
    frames = read_recording(h264_12s)
    bus = EventBus()
    recorder, _ = recorder_for(bus, segment_s=60.0)
    try:
        for frame in frames:
            recorder.push(frame)
    finally:
        assert recorder.close(timeout_s=30)
    (whole,) = segment_files()
    data = whole.read_bytes()
    second = len(data) // 12
    for cut in (len(data) - 1, 7 * second + 123, 3 * second, second // 2):
        partial = tmp_path / f"cut{cut}.mp4"
        partial.write_bytes(data[:cut])
        end = complete_fragments_end(partial)
        if end is None:
            assert cut < second  # not even one fragment complete
            continue
        assert 0 < end <= cut
        kept = tmp_path / f"kept{cut}.mp4"
        kept.write_bytes(data[:end])
        times = [t for _, _, t in demuxed(kept)]
        played = pictures(kept)
        assert len(played) == len(times) > 0
        # Whole seconds only: fragments start at the keyframes, one a second.
        assert len(times) % 15 == 0 and len(times) >= 15 * (cut * 12 // len(data) - 1)
    fifo = tmp_path / "fifo.mp4"
    os.mkfifo(fifo)
    assert complete_fragments_end(fifo) is None  # never waits on a FIFO


def test_a_camera_that_restarts_its_stream_starts_a_segment_and_the_gap_is_an_event(
    h264_12s: Path,
) -> None:
    frames = read_recording(h264_12s)
    later = read_recording(h264_12s)[:60]  # the camera comes back: a new stream, 20 s on
    back: list[Frame] = []
    for frame in later:
        assert frame.packets is not None and frame.wall_at is not None
        shift = 20.0
        packets = tuple(
            EncodedPacket(
                p.data,
                p.pts,
                p.dts,
                p.duration,
                p.keyframe,
                p.captured_at + shift,
                (p.wall_at or T0) + timedelta(seconds=shift),
                p.stream,
            )
            for p in frame.packets
        )
        back.append(
            dataclasses.replace(
                frame,
                captured_at=frame.captured_at + shift,
                wall_at=frame.wall_at + timedelta(seconds=shift),
                packets=packets,
            )
        )
    bus = EventBus()
    gaps: list[RecordingGap] = []
    bus.subscribe(RecordingGap, gaps.append)
    recorder, continuous = recorder_for(bus, segment_s=10.0)
    try:
        for frame in [*frames, *back]:
            recorder.push(frame)
    finally:
        assert recorder.close(timeout_s=30)
    assert continuous.stats().segments_written == 3  # 0-10 s, 10-12 s, 20-24 s
    (gap,) = gaps
    assert gap.started_at == T0 + timedelta(seconds=12)
    assert gap.ended_at == T0 + timedelta(seconds=20)
    assert gap.reason == "the camera's stream restarted"
    assert gap.record().kind == "recording.gap"
    with av.open(str(segment_files()[-1])) as container:
        assert container.streams.video[0].frames in (0, 60)
