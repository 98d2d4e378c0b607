"""Continuous recording: every packet of a camera into fragmented-MP4 segments, indexed in
the store, contiguous, playable, recoverable after a crash, and gaps said. Real H.264
files read by the real camera source, a real store."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import select

from benchmarks.recording_crash import sweep_as_restart
from engine.alerts.service import AlertRaised
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.data_dirs import data_dir
from engine.events import RecordingGap
from engine.frames import EncodedPacket, Frame
from engine.history.evidence import export_evidence, verify_evidence
from engine.record import ClipRecorder
from engine.record.files import file_sha256
from engine.record.fragments import complete_fragments_end
from engine.record.segments import GAP_TOLERANCE_S, RECORDINGS_DIR, SegmentRecorder
from engine.runtime import EngineRuntime
from engine.sitetime import UTC_TIME
from engine.store import Store
from engine.store.models import Event as EventRow
from engine.store.models import Media
from engine.store.writer import StoreWriter
from resources import DEMO_SITE
from tests.conftest import write_site
from tests.engine.test_clips import REPO, ChildLines
from tests.engine.test_evidence_full_disk import _namespaces_work
from tests.engine.test_recording import T0, demuxed, pictures, read_recording, write_video
from tests.segment_crash_helper import T0 as CHILD_T0
from tests.store_helpers import sync_site

pytestmark = pytest.mark.usefixtures("no_leaked_segment_writers")


def recorder_for(
    bus: EventBus,
    writer: StoreWriter | None = None,
    camera_id: int | None = None,
    key: str = "cam",
    **kw: object,
) -> tuple[ClipRecorder, SegmentRecorder]:
    clock = SimulatedClock(T0)
    root = data_dir()
    continuous = SegmentRecorder(
        key,
        camera_id,
        writer,
        bus,
        clock,
        recordings_dir=root / RECORDINGS_DIR,
        media_root=root,
        **kw,  # type: ignore[arg-type]
    )
    clips = ClipRecorder(
        key,
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


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("after_keyframes", [9, 10, 24])  # 8 s: a segment starts; 9, 23 s
def test_kill_9_mid_segment_loses_at_most_its_unfinished_fragment_and_restart_indexes_all(
    db_url: str, h264_12s: Path, after_keyframes: int, tmp_path: Path
) -> None:
    """The drill of the issue, at three moments: kill -9 while recording, then the
    restart's sweep. Every file is indexed, every row names a file, the recording is
    contiguous, and the loss is the fragment being written (well under one segment)."""
    store = Store(db_url)  # migrated before the child, so it only records
    store.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.segment_crash_helper", db_url, str(h264_12s)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = ChildLines(proc)
    try:
        for _ in range(after_keyframes):
            last_at = float(lines.after("AT", 60))
        # Killed once the segment is on disk; mid-segment, once it holds a whole fragment
        # (the file's state decides, not a sleep: the machine may be busy).
        mid_segment = round(last_at) % 2 == 1
        # The segment holding that keyframe (2 s segments), by its temp file's name.
        start = CHILD_T0 + timedelta(seconds=2 * (round(last_at) // 2))
        pattern = f"drillcam_{start:%Y%m%dT%H%M%S}.000Z.*.partial"
        deadline = time.monotonic() + 60
        while not any(
            complete_fragments_end(p) is not None or not mid_segment
            for p in (data_dir() / RECORDINGS_DIR).rglob(pattern)
        ):
            assert time.monotonic() < deadline, "the child wrote no such segment"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        lines.join()
        assert proc.stdout is not None
        proc.stdout.close()
    root = data_dir()
    assert list((root / RECORDINGS_DIR).rglob("*.partial")), "killed mid-segment"

    # The restart's sweep, in a fresh process as an engine restarting after the crash
    # (`watchfloor retention run` sweeps as the engine's start does).
    report = sweep_as_restart(db_url, tmp_path)
    store = Store(db_url)
    try:
        with store.sessions() as session:
            rows = list(session.scalars(select(Media).order_by(Media.started_at)))
    finally:
        store.close()
    # The unfinished segment: cut to its whole fragments, or removed when it had none.
    assert report["problems"] == []
    assert len(report["segments_recovered"]) + len(report["partials_removed"]) == 1
    if mid_segment:
        assert len(report["segments_recovered"]) == 1
    assert not list((root / RECORDINGS_DIR).rglob("*.partial"))
    files = {f.relative_to(root).as_posix() for f in segment_files()}
    assert {r.path for r in rows} == files  # every file indexed, every row a file
    for row in rows:
        assert file_sha256(root / row.path) == (row.sha256, row.size_bytes)
    for a, b in itertools.pairwise(rows):  # contiguous across the crash's recovery
        assert a.ended_at is not None and b.started_at is not None
        assert abs((b.started_at - a.ended_at).total_seconds()) < 0.01
    assert rows[0].started_at == CHILD_T0
    # Lost: what came after the last whole fragment. Fragments end at keyframes (one a
    # second here), so the recording reaches the newest keyframe the child handed over,
    # or the one before it while that fragment was still being muxed.
    kept_to = (rows[-1].ended_at - CHILD_T0).total_seconds()
    assert last_at - 1.0 - 1e-6 <= kept_to <= last_at + 1.0


def _stored_segments(db_url: str) -> list[Media]:
    store = Store(db_url)
    try:
        with store.sessions() as session:
            return list(
                session.scalars(
                    select(Media).where(Media.kind == "segment").order_by(Media.started_at)
                )
            )
    finally:
        store.close()


def _wait_for(what: str, done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_live_engine_records_continuously_and_its_downtime_is_a_gap_with_an_alert(
    db_url: str, tmp_path: Path, h264_12s: Path
) -> None:
    """Two runs of a live engine on an H.264 camera: every second of each run is in
    segments of the camera's own packets; the time between them is a recording.gap event
    and, longer than the site's gap_alert_s, an alert."""
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            f'[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "{h264_12s}"\nloop = true\n',
            "[recording]\nsegment_s = 2\ngap_alert_s = 1\n",
        )
    )
    alerts: list[AlertRaised] = []
    ends: list[datetime] = []
    for run in range(2):
        runtime = EngineRuntime(site, Store(db_url))
        runtime.bus.subscribe(AlertRaised, alerts.append)
        try:
            runtime.start()
            recorder = runtime.cameras.pipelines["gate"].recorder
            assert isinstance(recorder, ClipRecorder) and recorder.continuous is not None
            continuous = recorder.continuous
            written = continuous.stats
            _wait_for("two segments", lambda: written().segments_written >= 2)  # noqa: B023
        finally:
            runtime.stop()
            assert runtime.store is not None
            runtime.store.close()
        stats = continuous.stats()
        assert (stats.segments_failed, stats.stream_copy) == (0, True)
        assert stats.last_end is not None
        ends.append(stats.last_end)
        if run == 0:  # stopped for longer than gap_alert_s, by the clock
            _wait_for("a second", lambda: datetime.now(UTC) > ends[0] + timedelta(seconds=1.5))
    rows = _stored_segments(db_url)
    assert all(r.camera_id is not None and r.engine is None for r in rows)
    first_run = [r for r in rows if r.ended_at <= ends[0]]
    second_run = [r for r in rows if r.started_at > ends[0]]
    assert len(first_run) + len(second_run) == len(rows) and len(second_run) >= 2
    for row in rows:
        assert file_sha256(data_dir() / row.path) == (row.sha256, row.size_bytes)
    store = Store(db_url)
    try:
        with store.sessions() as session:
            gaps = list(session.scalars(select(EventRow).where(EventRow.kind == "recording.gap")))
    finally:
        store.close()
    # Consecutive segments meet; a hole longer than the tolerance (the engine stopped, or
    # the camera's video stalled on a busy machine) is a gap event spanning it exactly.
    spans = {(g.detail["started_at"], g.detail["ended_at"]): g for g in gaps}
    for a, b in itertools.pairwise(rows):
        hole = (b.started_at - a.ended_at).total_seconds()
        assert hole > -0.01, "segments overlap"
        if hole > GAP_TOLERANCE_S:
            assert (a.ended_at.isoformat(), b.started_at.isoformat()) in spans
    downtime = (second_run[0].started_at - first_run[-1].ended_at).total_seconds()
    assert downtime > 1.5
    (gap,) = [g for g in gaps if g.detail["reason"] == "the engine was not recording"]
    assert gap.detail["seconds"] == pytest.approx(downtime, abs=0.1)
    (alert,) = [
        a.alert for a in alerts if a.alert.kind == "recording" and a.alert.event_id == gap.id
    ]
    assert alert.title.startswith("No recording on camera Front gate for ")
    assert alert.title.endswith(": the engine was not recording")


def test_an_evidence_export_of_a_range_carries_its_segments_which_verify_and_play(
    store: Store, h264_12s: Path, tmp_path: Path
) -> None:
    camera_id = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0)).cameras["plaza"]
    with StoreWriter.running(store) as writer:
        recorder, continuous = recorder_for(EventBus(), writer, camera_id, segment_s=4.0)
        try:
            for frame in read_recording(h264_12s):
                recorder.push(frame)
        finally:
            assert recorder.close(timeout_s=30)
        writer.flush(timeout_s=30)
    assert continuous.stats().segments_written == 3
    out = tmp_path / "case-66"
    result = export_evidence(  # 5-7 s: only the middle segment overlaps
        store,
        start=T0 + timedelta(seconds=5),
        end=T0 + timedelta(seconds=7),
        out_dir=out,
        media_root=data_dir(),
        key_dir=data_dir(),
        exporter="account:ian",
        now=T0 + timedelta(hours=1),
        site_time=UTC_TIME,
        cameras=["plaza"],
    )
    assert (result.footage_segments, result.clips, result.snapshots) == (1, 0, 0)
    (segment,) = [p for p in out.rglob("*.mp4")]
    assert segment.relative_to(out).parts[:2] == ("recordings", "recordings")
    assert verify_evidence(out).ok
    assert len(pictures(segment)) == 60  # 4 s at 15 fps, decodable as any MP4


_FULL_DISK_SCRIPT = """
disk="$1"; shift
mount -t tmpfs -o size="$DISK_BYTES" tmpfs "$disk" || exit 99
"$@"
echo "exit=$?"
echo "left:"
find "$disk" -type f | sort
"""


@pytest.mark.slow
def test_segments_onto_a_full_disk_are_each_accounted_for_and_nothing_is_half_written(
    db_url: str, h264_12s: Path, tmp_path: Path
) -> None:
    """Issue 33's rule for continuous recording: 20 s recorded onto a real tmpfs with room
    for a few segments. Every segment that did not fit is a published loss ("disk full"),
    its stretch a gap saying so; no temp file is left; every row names a whole file."""
    reason = _namespaces_work(tmp_path)
    if reason is not None:
        pytest.skip(reason)
    Store(db_url).close()  # migrated outside the small disk
    disk = tmp_path / "small-disk"
    disk.mkdir()
    data = disk / "data"
    segment_bytes = h264_12s.stat().st_size / 6  # a 2 s segment, about
    result = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            _FULL_DISK_SCRIPT,
            "sh",
            str(disk),
            sys.executable,
            "-m",
            "tests.segment_crash_helper",
            db_url,
            str(h264_12s),
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
        env={
            **os.environ,
            "WATCHFLOOR_DATA_DIR": str(data),
            "DISK_BYTES": str(int(3.5 * segment_bytes)),
        },
    )
    lines = result.stdout.splitlines()
    assert "exit=0" in lines, result.stdout + result.stderr
    (done,) = [json.loads(line.removeprefix("DONE ")) for line in lines if line.startswith("DONE ")]
    left = [
        Path(line).relative_to(data).as_posix()
        for line in lines[lines.index("left:") + 1 :]
        if line.startswith(f"{data}/")
    ]
    assert not [p for p in left if p.endswith(".partial")]  # nothing half-written
    assert 2 <= done["segments_written"] < 10 and done["segments_failed"] >= 1
    assert done["reasons"] == ["disk full"]
    assert len(done["lost"]) == done["segments_failed"]  # each loss published
    # The lost segments are one gap, said when the recording is kept again.
    assert done["gaps"] == ["a segment could not be written: disk full"]
    store = Store(db_url)
    try:
        with store.sessions() as session:
            rows = sorted(session.scalars(select(Media.path)))
    finally:
        store.close()
    assert rows == sorted(p for p in left if p.startswith(f"{RECORDINGS_DIR}/"))
    assert len(rows) == done["segments_written"]


def test_a_camera_gone_quiet_has_its_open_segment_finished_by_the_watchdog(
    h264_12s: Path,
) -> None:
    """No packet for a segment's length (the camera went away): the watchdog's
    finish_if_idle closes the open segment, so its footage is on disk and indexed now, not
    when the camera returns."""
    frames = read_recording(h264_12s)[:45]  # 3 s, then silence
    clock = SimulatedClock(T0)
    root = data_dir()
    recorder = SegmentRecorder(
        "cam",
        None,
        None,
        EventBus(),
        clock,
        recordings_dir=root / RECORDINGS_DIR,
        media_root=root,
        segment_s=10.0,
    )
    packets = [p for frame in frames for p in frame.packets or ()]
    try:
        for packet in packets:
            recorder.offer(packet)
        clock.advance(frames[-1].captured_at + 9.0)
        assert not recorder.finish_if_idle()  # quiet for less than a segment: kept open
        clock.advance(2.0)
        assert recorder.finish_if_idle()
        _wait_for("the segment finished", lambda: recorder.stats().segments_written == 1)
        assert not recorder.finish_if_idle()  # nothing open any more
    finally:
        assert recorder.close(timeout_s=30)
    (segment,) = segment_files()
    assert len(pictures(segment)) == len(packets)  # every packet handed over, decodable


def test_packets_dropped_while_the_writer_is_behind_are_a_gap_between_segments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer held up (here: waiting for the analysis of a segment's end, which the
    test gives only once it has handed everything over) while the camera goes on: the
    queue fills, packets are dropped up to a keyframe, and that keyframe starts a new
    segment, so the hole is a gap event between segments, not a silent jump inside one."""
    monkeypatch.setattr("engine.record.segments.ANALYSIS_WAIT_S", 600.0)
    video = write_video(tmp_path / "gop2.mp4", "libx264", seconds=20.0, gop=30)
    packets = [p for frame in read_recording(video) for p in frame.packets or ()]
    assert len(packets) == 300
    bus = EventBus()
    gaps: list[RecordingGap] = []
    bus.subscribe(RecordingGap, gaps.append)
    root = data_dir()
    recorder = SegmentRecorder(
        "cam",
        None,
        None,
        bus,
        SimulatedClock(T0),
        recordings_dir=root / RECORDINGS_DIR,
        media_root=root,
        segment_s=4.0,
        fps_hint=1.0,  # a queue of QUEUE_MIN_PACKETS (128)
    )
    try:
        recorder.note_analysis(0.0, False, 0)  # analysis under way, behind the camera
        for packet in packets[:61]:  # the first segment (0-4 s) and the keyframe at 4 s
            recorder.offer(packet)
        # The writer has everything and waits for the analysis to reach 4 s.
        _wait_for("the writer waiting", lambda: recorder.stats().queued_packets == 0)
        for packet in packets[61:200]:  # 128 fit (to 12.6 s), the rest are dropped
            recorder.offer(packet)
        recorder.note_analysis(20.0, False, 0)  # the analysis catches up: the writer goes on
        _wait_for("the writer caught up", lambda: recorder.stats().queued_packets == 0)
        for packet in packets[200:]:  # dropped up to the keyframe at 14 s, then kept
            recorder.offer(packet)
    finally:
        assert recorder.close(timeout_s=30)
    stats = recorder.stats()
    assert stats.frames_dropped == 21  # 12.6 s to 14 s
    (gap,) = gaps
    assert gap.reason == "the recorder fell behind"
    assert gap.started_at == T0 + timedelta(seconds=189 / 15)
    assert gap.ended_at == T0 + timedelta(seconds=14)
    frames = sum(len(demuxed(f)) for f in segment_files())
    # 0-4, 4-8, 8-12, 12-12.6, 14-18 and 18-20 s: the hole is between two segments.
    assert frames == 300 - 21 and stats.segments_written == 6


def test_segments_on_disk_without_rows_are_indexed_by_the_restart_with_their_span(
    db_url: str, h264_12s: Path, tmp_path: Path
) -> None:
    """Killed between a segment's rename and its row (or its rows lost with the store):
    the restart indexes every such segment, its camera from its folder, its span from its
    name and its frames, its hash from its bytes."""
    store = Store(db_url)
    camera_id = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0)).cameras["plaza"]
    store.close()
    frames = read_recording(h264_12s)
    root = data_dir()
    clock = SimulatedClock(T0)
    recorder = SegmentRecorder(  # no store writer: files only, as if every row was lost
        "plaza", None, None, EventBus(), clock, recordings_dir=root / RECORDINGS_DIR,
        media_root=root, segment_s=4.0,
    )  # fmt: skip
    try:
        for frame in frames:
            for packet in frame.packets or ():
                recorder.offer(packet)
    finally:
        assert recorder.close(timeout_s=30)
    files = segment_files()
    assert len(files) == 3
    report = sweep_as_restart(db_url, tmp_path)
    assert sorted(report["segments_indexed"]) == [f.relative_to(root).as_posix() for f in files]
    rows = _stored_segments(db_url)
    assert [r.camera_id for r in rows] == [camera_id] * 3
    assert [(r.started_at, r.ended_at) for r in rows] == [
        (T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)) for a, b in ((0, 4), (4, 8), (8, 12))
    ]
    for row in rows:
        assert file_sha256(root / row.path) == (row.sha256, row.size_bytes)
