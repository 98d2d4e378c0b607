"""The sensing recording: exact round trips across segments and sessions, wall-time ranges,
the ring's size and age bounds, compactness on simulated CSI, damage that stops a read where
it is and says so, and disk trouble that never reaches the appending thread.

Block headers are parsed here from the byte layout the module docstring documents, so the
tests also hold the documentation to the format."""

from __future__ import annotations

import math
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.sensing.recording.recorder import (
    RecordedItem,
    RecordingReader,
    RecordKind,
    SensingRecorder,
    kept_segments,
)
from engine.sim.nodes import Room, Simulator, perimeter_nodes, random_walkers

ANCHOR = 1_750_000_000.0  # wall epoch seconds at engine monotonic 0 in these tests
HEADER = struct.Struct("<4sHHIIIIdd16sdI")  # the documented 68-byte block header
RECORD = struct.Struct("<BdI")  # the documented 13-byte record header
MiB = 1024 * 1024

Expected = tuple[Any, ...]


class WallClock:
    """An injected wall clock (epoch seconds) the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def csi_frames() -> list[bytes]:
    """3,000 realistic 152-byte frames: 4 perimeter nodes (12 directed links), 2 walkers."""
    room = Room(5.0, 5.0, 2.5)
    sim = Simulator(room, perimeter_nodes(room, 4), random_walkers(room, 2, seed=1), seed=3)
    frames: list[bytes] = []
    t_s = 0.0
    while len(frames) < 3000:
        frames.extend(raw for _, raw in sim.frames_at(t_s))
        t_s += 0.05
    return frames[:3000]


def recorder(directory: Path, **options: Any) -> SensingRecorder:
    options.setdefault("monotonic_anchor", ANCHOR)
    options.setdefault("wall_clock", WallClock(ANCHOR))
    return SensingRecorder(directory, **options)


def feed(rec: SensingRecorder, frames: list[bytes], start_s: float = 0.0) -> list[Expected]:
    """Append the frames at 240 frames/s with irregular times (exact floats to get back),
    a tick every 0.1 s and a node event now and then; what a reader should return."""
    expected: list[Expected] = []
    next_tick = start_s
    for i, raw in enumerate(frames):
        t_s = start_s + i / 240.0 + math.pi * 1e-7 * (i % 7)
        rec.append_frame(t_s, raw)
        expected.append((RecordKind.FRAME, t_s, raw))
        if t_s >= next_tick:
            rec.append_tick(t_s)
            expected.append((RecordKind.TICK, t_s))
            next_tick += 0.1
        if i % 500 == 250:
            detail = {"reason": "timeout", "ip": "10.0.0.7", "seen_s": t_s, "note": "Bürotür"}
            rec.append_node_event(t_s, "node_offline", "02:57:46:53:00:01", detail)
            expected.append(
                (RecordKind.NODE_EVENT, t_s, "node_offline", "02:57:46:53:00:01", detail)
            )
    return expected


def as_expected(item: RecordedItem) -> Expected:
    if item.kind == RecordKind.FRAME:
        return (item.kind, item.t_s, item.frame)
    if item.kind == RecordKind.TICK:
        return (item.kind, item.t_s)
    return (item.kind, item.t_s, item.event_kind, item.mac, item.detail)


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("seg-*.wfr"))


def block_offsets(path: Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(offset, header fields) of each block in a segment, by the documented layout."""
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        fields = HEADER.unpack_from(data, offset)
        yield offset, fields
        offset += HEADER.size + fields[3]


# --- round trips --------------------------------------------------------------------------------


def test_frames_ticks_and_events_come_back_exactly_across_several_segments(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    room = tmp_path / "sensing" / "lab"
    rec = recorder(room, max_bytes=512 * 1024, block_bytes=8192)  # 64 KiB segments
    expected = feed(rec, csi_frames)
    rec.close()

    assert len(segment_files(room)) >= 3
    reader = RecordingReader(room)
    items = list(reader.records())
    assert reader.damage is None
    assert [as_expected(item) for item in items] == expected
    assert {item.session_id for item in items} == {rec.session_id}
    assert all(item.wall_s == ANCHOR + item.t_s for item in items)

    stats = rec.stats()
    assert stats.records == stats.appended == len(expected)
    assert stats.dropped == 0 and stats.write_errors == 0 and stats.last_error is None
    assert stats.segments == len(segment_files(room))
    assert stats.bytes_on_disk == sum(p.stat().st_size for p in segment_files(room))
    assert stats.oldest_wall_s == ANCHOR + expected[0][1]
    assert stats.newest_wall_s == ANCHOR + expected[-1][1]
    assert reader.extent() == (ANCHOR + expected[0][1], ANCHOR + expected[-1][1])


def test_each_session_starts_a_segment_and_keeps_its_own_wall_anchor(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    first = recorder(tmp_path, monotonic_anchor=ANCHOR)
    before = feed(first, csi_frames[:300], start_s=5.0)
    first.close()
    # The engine restarted an hour later: monotonic time starts again near zero.
    second = recorder(tmp_path, monotonic_anchor=ANCHOR + 3600.0)
    after = feed(second, csi_frames[300:600], start_s=1.0)
    second.close()

    assert [p.name for p in segment_files(tmp_path)] == ["seg-000001.wfr", "seg-000002.wfr"]
    reader = RecordingReader(tmp_path)
    items = list(reader.records())
    assert [as_expected(item) for item in items] == before + after
    sessions = reader.sessions()
    assert [s.session_id for s in sessions] == [first.session_id, second.session_id]
    assert sessions[0].wall_anchor_s == ANCHOR
    assert sessions[1].first_wall_s == ANCHOR + 3600.0 + after[0][1]
    assert sessions[1].first_t_s == after[0][1] and sessions[1].last_t_s == after[-1][1]
    assert [s.records for s in sessions] == [len(before), len(after)]
    assert second.stats().records == len(before) + len(after)  # the whole ring on disk


def test_a_wall_time_range_returns_exactly_its_records_and_skips_other_blocks(
    tmp_path: Path, csi_frames: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = recorder(tmp_path, block_bytes=4096)
    expected = feed(rec, csi_frames)  # 12.5 s of records
    rec.close()
    blocks = sum(1 for p in segment_files(tmp_path) for _ in block_offsets(p))

    decompressed = 0
    real_decompress = zlib.decompress

    def counting(data: bytes) -> bytes:
        nonlocal decompressed
        decompressed += 1
        return real_decompress(data)

    monkeypatch.setattr(zlib, "decompress", counting)  # as the reader calls it
    low, high = ANCHOR + 3.0, ANCHOR + 5.0
    reader = RecordingReader(tmp_path)
    got = [as_expected(item) for item in reader.records(low, high)]
    assert got == [e for e in expected if low <= ANCHOR + e[1] < high]
    assert got and reader.damage is None
    assert decompressed < blocks / 4  # 2 s of 12.5 s: the rest skipped by the headers

    # Open ends, and a range with nothing in it.
    assert [as_expected(i) for i in reader.records(None, low)] == [
        e for e in expected if ANCHOR + e[1] < low
    ]
    assert [as_expected(i) for i in reader.records(high, None)] == [
        e for e in expected if ANCHOR + e[1] >= high
    ]
    assert list(reader.records(ANCHOR + 100.0, ANCHOR + 200.0)) == []


def test_an_empty_or_missing_recording_has_no_extent(tmp_path: Path) -> None:
    assert RecordingReader(tmp_path / "never").extent() is None
    rec = recorder(tmp_path / "idle")
    rec.close()
    reader = RecordingReader(tmp_path / "idle")
    assert reader.extent() is None and reader.sessions() == [] and list(reader.records()) == []


# --- the ring's bounds -----------------------------------------------------------------------


def test_the_ring_stays_within_max_bytes_by_deleting_the_oldest_segments(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    max_bytes = 64 * 1024
    rec = recorder(tmp_path, max_bytes=max_bytes, block_bytes=2048)
    expected: list[Expected] = []
    for part in range(10):  # 3,000 frames ≈ 300 KB on disk, five times the ring
        chunk = csi_frames[part * 300 : (part + 1) * 300]
        expected += feed(rec, chunk, start_s=part * 10.0)
        rec.flush()
        assert sum(p.stat().st_size for p in segment_files(tmp_path)) <= max_bytes
    rec.close()

    files = segment_files(tmp_path)
    assert files[0].name != "seg-000001.wfr"  # the oldest went
    assert 8 <= len(files) <= 11  # max_bytes / 8 per segment, less what a block did not fit
    on_disk = sum(p.stat().st_size for p in files)
    assert max_bytes - 3 * rec.segment_bytes // 2 <= on_disk <= max_bytes
    reader = RecordingReader(tmp_path)
    kept = [as_expected(item) for item in reader.records()]
    assert reader.damage is None
    assert kept == expected[-len(kept) :]  # the newest records, all of them, in order
    assert len(kept) < len(expected)
    assert rec.stats().bytes_on_disk == on_disk


def test_segments_older_than_max_age_are_deleted_by_the_wall_clock(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    wall = WallClock(ANCHOR + 30.0)
    rec = recorder(tmp_path, wall_clock=wall, max_age_s=50.0, max_bytes=512 * 1024)
    feed(rec, csi_frames[:2400], start_s=0.0)  # records at 0–10 s
    rec.flush()
    old_segments = segment_files(tmp_path)
    assert len(old_segments) >= 3

    newest_t = {p: max(f[8] for _, f in block_offsets(p)) for p in old_segments}

    wall.now = ANCHOR + 58.0  # segments whose newest record is before 8 s are too old
    feed(rec, csi_frames[2400:2500], start_s=58.0)
    rec.flush()
    kept = [p for p in old_segments if newest_t[p] >= 8.0 or p == old_segments[-1]]
    assert len(kept) < len(old_segments)
    assert segment_files(tmp_path)[: len(kept)] == kept

    wall.now = ANCHOR + 75.0  # 65 s after 0–10 s: older than max_age_s
    newer = feed(rec, csi_frames[2500:3000], start_s=75.0)
    rec.close()
    # The segment that was being written when 58 s arrived holds it too, so it stays.
    remaining = segment_files(tmp_path)
    assert not set(old_segments[:-1]) & set(remaining) and old_segments[-1] == remaining[0]
    oldest, newest = RecordingReader(tmp_path).extent() or (0.0, 0.0)
    kept_from = next(block_offsets(old_segments[-1]))[1][7]
    assert oldest == ANCHOR + kept_from and newest == ANCHOR + newer[-1][1]

    # A later session deletes what has aged since, before it writes.
    wall.now = ANCHOR + 1000.0
    later = recorder(tmp_path, wall_clock=wall, max_age_s=50.0)
    last = feed(later, csi_frames[:10], start_s=2.0)
    later.close()
    assert [as_expected(i) for i in RecordingReader(tmp_path).records()] == last


# --- compactness --------------------------------------------------------------------------------


def test_simulated_csi_takes_about_165_bytes_per_152_byte_frame_or_110_compressed(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    """Stored (the default, for CPU): 152 bytes of frame + 13 of record head, ticks and block
    headers included. With zlib level 1 (about 4 µs more per frame): measured 106.6 bytes
    per frame here, about 101–105 at 5,000 frames/s (64 KiB blocks): the noise in every I/Q
    byte is what does not compress."""
    assert {len(raw) for raw in csi_frames} == {152}
    rec = recorder(tmp_path / "stored")
    feed(rec, csi_frames)
    rec.close()
    stored = rec.stats().bytes_on_disk / len(csi_frames)
    assert 165 <= stored < 170, f"{stored:.1f} bytes per frame on disk"
    rec = recorder(tmp_path / "compressed", compress_level=1)
    feed(rec, csi_frames)
    rec.close()
    compressed = rec.stats().bytes_on_disk / len(csi_frames)
    assert compressed < 110, f"{compressed:.1f} bytes per frame on disk"
    assert [r.frame for r in RecordingReader(tmp_path / "compressed").records()][:3] == (
        [r.frame for r in RecordingReader(tmp_path / "stored").records()][:3]
    )


# --- damage -------------------------------------------------------------------------------------


def damage_fixture(directory: Path, frames: list[bytes]) -> tuple[list[Expected], Path]:
    rec = recorder(directory, block_bytes=4096, max_bytes=512 * 1024)  # 64 KiB segments
    expected = feed(rec, frames)
    rec.close()
    files = segment_files(directory)
    assert len(files) >= 3
    return expected, files[1]


def records_before(expected: list[Expected], segment: Path, offset: int) -> list[Expected]:
    """The records of the blocks ahead of the one at ``offset`` in ``segment``."""
    count = 0
    for path in segment_files(segment.parent):
        for at, fields in block_offsets(path):
            if (path, at) == (segment, offset):
                return expected[:count]
            count += fields[6]
    raise AssertionError("no such block")


def test_a_flipped_byte_stops_the_read_at_its_block_and_names_it(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    expected, segment = damage_fixture(tmp_path, csi_frames)
    blocks = list(block_offsets(segment))
    offset, fields = blocks[len(blocks) // 2]
    data = bytearray(segment.read_bytes())
    data[offset + HEADER.size + fields[3] // 2] ^= 0x40
    segment.write_bytes(bytes(data))

    reader = RecordingReader(tmp_path)
    items = [as_expected(item) for item in reader.records()]
    assert items == records_before(expected, segment, offset)
    damage = reader.damage
    assert damage is not None
    assert (damage.segment, damage.offset) == (segment.name, offset)
    assert damage.reason == f"CRC mismatch in block at byte {offset} of {segment.name}"
    assert damage.last_good_wall_s == ANCHOR + items[-1][1]


def test_a_file_cut_mid_block_returns_what_came_before(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    expected, segment = damage_fixture(tmp_path, csi_frames)
    blocks = list(block_offsets(segment))
    offset, fields = blocks[-2]
    ahead, ahead_of_first = (records_before(expected, segment, at) for at in (offset, 0))
    with open(segment, "r+b") as f:
        f.truncate(offset + HEADER.size + 10)

    reader = RecordingReader(tmp_path)
    items = [as_expected(item) for item in reader.records()]
    assert items == ahead
    damage = reader.damage
    assert damage is not None and (damage.segment, damage.offset) == (segment.name, offset)
    assert damage.reason.startswith(f"truncated block (payload of {fields[3]} bytes, 10 left)")
    assert damage.reason.endswith(f"in block at byte {offset} of {segment.name}")

    # Cut inside a header, and a bad magic, are damage just the same.
    with open(segment, "r+b") as f:
        f.truncate(offset + 5)
    list(reader.records())
    assert reader.damage is not None and reader.damage.offset == offset
    assert "truncated header" in reader.damage.reason
    data = bytearray(segment.read_bytes())
    data[0] ^= 0xFF
    segment.write_bytes(bytes(data))
    items = [as_expected(item) for item in reader.records()]
    assert reader.damage is not None and reader.damage.offset == 0
    assert reader.damage.reason == f"bad magic in block at byte 0 of {segment.name}"
    assert items == ahead_of_first


def test_a_bad_record_behind_a_good_crc_stops_after_the_good_records(tmp_path: Path) -> None:
    """A block written by the documented format whose second record has an unknown kind."""
    good = RECORD.pack(2, 10.0, 0)
    payload_raw = good + RECORD.pack(9, 10.5, 0) + RECORD.pack(2, 11.0, 0)
    payload = zlib.compress(payload_raw, 1)
    body = struct.pack(
        "<4sHHIIIIdd16sd",
        b"WFRB",
        1,
        0,
        len(payload),
        len(payload_raw),
        zlib.crc32(payload),
        3,
        10.0,
        11.0,
        bytes(16),
        ANCHOR,
    )
    (tmp_path / "seg-000001.wfr").write_bytes(body + struct.pack("<I", zlib.crc32(body)) + payload)

    reader = RecordingReader(tmp_path)
    items = list(reader.records())
    assert [(i.kind, i.t_s) for i in items] == [(RecordKind.TICK, 10.0)]
    assert reader.damage is not None
    assert reader.damage.reason == (
        "bad record at byte 13 of the payload in block at byte 0 of seg-000001.wfr: unknown kind 9"
    )
    assert reader.damage.last_good_wall_s == ANCHOR + 10.0


def test_a_crashed_sessions_cut_tail_stops_only_reads_that_reach_it(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    crashed = recorder(tmp_path, monotonic_anchor=ANCHOR)
    before = feed(crashed, csi_frames[:600], start_s=0.0)
    crashed.close()
    segment = segment_files(tmp_path)[0]
    last_offset, _ = list(block_offsets(segment))[-1]
    cut = records_before(before, segment, last_offset)
    with open(segment, "r+b") as f:
        f.truncate(last_offset + 100)  # the engine died while writing its last block
    restarted = recorder(tmp_path, monotonic_anchor=ANCHOR + 60.0)
    after = feed(restarted, csi_frames[600:900], start_s=0.5)
    restarted.close()

    reader = RecordingReader(tmp_path)
    assert [as_expected(i) for i in reader.records()] == cut
    assert reader.damage is not None and reader.damage.segment == segment.name
    # From the restart on, nothing lost can be in range: the later segment begins there.
    restart_s = reader.sessions()[1].first_wall_s
    assert [as_expected(i) for i in reader.records(restart_s)] == after
    assert reader.damage is None
    assert [as_expected(i) for i in reader.records(None, ANCHOR + 1.0)] == [
        e for e in before if e[1] < 1.0
    ]
    assert reader.damage is None


# --- disk trouble and the thread ------------------------------------------------------------


def test_a_file_where_the_directory_should_be_is_counted_not_raised(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    blocked = tmp_path / "room"
    blocked.write_bytes(b"not a directory")
    rec = recorder(blocked, block_bytes=2048)
    first = feed(rec, csi_frames[:200])
    rec.flush()
    stats = rec.stats()
    assert stats.write_errors >= 1 and stats.last_error is not None
    assert str(blocked) in stats.last_error
    assert stats.bytes_on_disk == 0 and stats.pending_bytes > 0 and stats.dropped == 0

    blocked.unlink()  # the operator fixes it: the kept blocks are written on the next flush
    second = feed(rec, csi_frames[200:400], start_s=10.0)
    rec.flush()
    stats = rec.stats()
    assert stats.last_error is None and stats.pending_bytes == 0
    rec.close()
    assert [as_expected(i) for i in RecordingReader(blocked).records()] == first + second


def test_pending_data_is_capped_while_the_disk_fails(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    blocked = tmp_path / "room"
    blocked.write_bytes(b"")
    cap = 16 * 1024
    rec = recorder(blocked, block_bytes=2048, max_pending_bytes=cap)
    for part in range(10):
        feed(rec, csi_frames[part * 300 : (part + 1) * 300], start_s=part * 10.0)
        rec.flush()
        assert rec.stats().pending_bytes <= cap + 2048 + 200  # plus the open buffer
    rec.close()
    stats = rec.stats()
    assert stats.dropped == stats.appended and stats.dropped_blocks > 0
    assert stats.write_errors >= 10 and stats.last_error is not None


def test_close_writes_the_buffer_and_joins_the_recorder_thread(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    rec = recorder(tmp_path, flush_interval_s=3600.0)  # nothing sealed before close
    assert any(t.name == "sensing-recorder" for t in threading.enumerate())
    expected = feed(rec, csi_frames[:50])
    rec.close()
    rec.close()  # idempotent
    assert not any(t.name == "sensing-recorder" for t in threading.enumerate())
    assert [as_expected(i) for i in RecordingReader(tmp_path).records()] == expected

    rec.append_frame(99.0, csi_frames[0])  # after close: dropped and counted, never raised
    assert rec.stats().dropped == 1


def test_appends_reject_what_could_never_be_read_back(tmp_path: Path) -> None:
    rec = recorder(tmp_path)
    try:
        with pytest.raises(ValueError, match="finite"):
            rec.append_tick(math.nan)
        with pytest.raises(TypeError):
            rec.append_node_event(1.0, "node_online", "02:57:46:53:00:01", {"x": object()})
    finally:
        rec.close()
    assert rec.stats().appended == 0 and segment_files(tmp_path) == []


# --- evidence locks -----------------------------------------------------------------------------


def test_segments_a_lock_covers_leave_the_ring_for_kept_and_still_replay(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    locked_from, locked_to = ANCHOR + 20.0, ANCHOR + 35.0
    asked: list[tuple[float, float]] = []

    def keep(first: float, last: float) -> bool:
        asked.append((first, last))
        return first <= locked_to and last >= locked_from

    max_bytes = 64 * 1024
    rec = recorder(tmp_path, max_bytes=max_bytes, block_bytes=2048, keep=keep)
    expected: list[Expected] = []
    for part in range(10):  # five times the ring, as above
        chunk = csi_frames[part * 300 : (part + 1) * 300]
        expected += feed(rec, chunk, start_s=part * 10.0)
        rec.flush()
        # The ring keeps its bound: what a lock keeps lies outside it.
        assert sum(p.stat().st_size for p in segment_files(tmp_path)) <= max_bytes
    rec.close()

    kept_files = segment_files(tmp_path / "kept")
    assert kept_files and asked
    spans = [
        (min(f[7] for _, f in block_offsets(p)), max(f[8] for _, f in block_offsets(p)))
        for p in kept_files
    ]
    assert all(
        first + ANCHOR <= locked_to and last + ANCHOR >= locked_from for first, last in spans
    )
    # The reader reads kept segments with the ring: every record of the locked range is back.
    reader = RecordingReader(tmp_path)
    read = [as_expected(item) for item in reader.records()]
    assert reader.damage is None
    assert [r for r in expected if locked_from <= ANCHOR + r[1] <= locked_to] == [
        r for r in read if locked_from <= ANCHOR + r[1] <= locked_to
    ]
    assert read == sorted(read, key=lambda r: r[1])  # one recording, in order
    ranged = [as_expected(i) for i in reader.records(locked_from, locked_to)]
    assert ranged == [r for r in expected if locked_from <= ANCHOR + r[1] < locked_to]
    assert [k.path for k in kept_segments(tmp_path)] == kept_files


def test_a_keep_that_fails_keeps_the_segment_and_says_so(
    tmp_path: Path, csi_frames: list[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    def keep(first: float, last: float) -> bool:
        raise ConnectionError("database is down")

    rec = recorder(tmp_path, max_bytes=32 * 1024, block_bytes=2048, keep=keep)
    feed(rec, csi_frames[:1500])
    rec.close()
    assert segment_files(tmp_path / "kept")  # nothing deleted on a guess
    assert "is locked evidence: database is down" in caplog.text


def test_an_excerpt_is_a_valid_recording_of_the_range_and_its_session_start(
    tmp_path: Path, csi_frames: list[bytes]
) -> None:
    rec = recorder(tmp_path / "ring", block_bytes=2048)
    rec.append_node_event(0.0, "session_start", "", {"macs": {"02:00:00:00:00:01": "n1"}})
    expected = [
        (RecordKind.NODE_EVENT, 0.0, "session_start", "", {"macs": {"02:00:00:00:00:01": "n1"}})
    ]
    expected += feed(rec, csi_frames, start_s=0.0)  # 0–12.5 s
    rec.close()
    reader = RecordingReader(tmp_path / "ring")
    excerpt = reader.excerpt(ANCHOR + 5.0, ANCHOR + 6.0)
    assert excerpt
    copy = tmp_path / "copy"
    copy.mkdir()
    for segment in excerpt:
        (copy / segment.name).write_bytes(b"".join(segment.chunks()))
    whole = sum(p.stat().st_size for p in segment_files(tmp_path / "ring"))
    assert sum(segment.size for segment in excerpt) < whole / 4  # blocks, not segments
    again = RecordingReader(copy)
    assert [as_expected(i) for i in again.records(ANCHOR + 5.0, ANCHOR + 6.0)] == [
        r for r in expected if ANCHOR + 5.0 <= ANCHOR + r[1] < ANCHOR + 6.0
    ]
    assert again.damage is None
    first = next(iter(again.records()))  # the session's first block came along
    assert as_expected(first) == expected[0]
