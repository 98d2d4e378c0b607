"""The orphan sweep on real files and real databases: complete clips without rows are
adopted, orphan snapshots and unfinished files of dead processes removed, and each sweep
that found something is recorded as one ``media.swept`` event."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.cv import import_cv2
from engine.data_dirs import data_dir
from engine.frames import Frame
from engine.instance import partial_path
from engine.media import MediaFile
from engine.record import ClipEncoder, ClipFinalised, ClipRecorder, file_sha256, select_clip_codec
from engine.record.sweep import SWEEP_EVENT_KIND, sweep_media
from engine.store import Store
from engine.store.commands import InsertMedia
from engine.store.models import Event, Media
from engine.store.writer import StoreWriter
from resources import DEMO_SITE
from tests.store_helpers import run_command, sync_site

NOW = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)  # the engine clock during the sweeps
FPS = 10.0
HOUR = timedelta(hours=1)


def vtest_images(path: Path, count: int) -> list[Frame]:
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    try:
        for seq in range(count):
            ok, image = capture.read()
            assert ok
            frames.append(Frame(seq, image, seq / FPS, FPS))
    finally:
        capture.release()
    return frames


def write_clip(path: Path, frames: list[Frame]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    encoder = ClipEncoder(path, select_clip_codec(), FPS)
    for frame in frames:
        encoder.add(frame.image, frame.captured_at)
    encoder.close()


def age(path: Path, by: timedelta) -> None:
    """Make ``path`` look last written ``by`` before the test's engine clock."""
    stamp = (NOW - by).timestamp()
    os.utime(path, (stamp, stamp))


def media_rows(store: Store) -> dict[str, Media]:
    with store.sessions() as session:
        return {m.path: m for m in session.scalars(select(Media))}


def sweep_events(store: Store) -> list[Event]:
    with store.sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == SWEEP_EVENT_KIND)))


def test_an_old_clip_without_a_row_is_adopted_and_orphan_snapshots_removed(
    store: Store, vtest_avi: Path
) -> None:
    data = data_dir()
    plaza = sync_site(store, load_site(DEMO_SITE), SimulatedClock(NOW)).cameras["plaza"]
    frames = vtest_images(vtest_avi, 20)
    # A crash between the clip's rename and its row, two hours ago: complete, no row.
    orphan = data / "clips/plaza/2026-05-04/plaza_20260504T030205.000Z.mp4"
    write_clip(orphan, frames)
    age(orphan, 2 * HOUR)
    # Finished ten minutes ago: its row may still be on the way, so it is left alone.
    fresh = data / "clips/plaza/2026-05-04/plaza_20260504T115000.000Z.mp4"
    write_clip(fresh, frames)
    age(fresh, timedelta(minutes=10))
    # Snapshots: one whose event was lost (old), one with its row, one just written.
    lost, kept, new = (data / f"snapshots/plaza/2026-05-04/{n}.jpg" for n in "abc")
    lost.parent.mkdir(parents=True)
    for snapshot in (lost, kept, new):
        snapshot.write_bytes(b"\xff\xd8jpeg")
    age(lost, 3 * HOUR)
    age(kept, 3 * HOUR)
    run_command(
        store,
        InsertMedia(
            file=MediaFile("snapshot", "snapshots/plaza/2026-05-04/b.jpg", "0" * 64, 6),
            created_at=NOW - 3 * HOUR,
        ),
    )

    with StoreWriter.running(store) as writer:
        report = sweep_media(store, writer, SimulatedClock(NOW), data)
        again = sweep_media(store, writer, SimulatedClock(NOW), data)

    relative = orphan.relative_to(data).as_posix()
    assert report.clips_adopted == [relative]
    assert report.snapshots_removed == ["snapshots/plaza/2026-05-04/a.jpg"]
    assert report.deferred is None and not report.problems
    assert orphan.exists() and fresh.exists() and kept.exists() and new.exists()
    assert not lost.exists()
    row = media_rows(store)[relative]
    assert (row.kind, row.camera_id, row.locked) == ("clip", plaza, False)
    assert (row.sha256, row.size_bytes) == file_sha256(orphan)
    start = datetime(2026, 5, 4, 3, 2, 5, tzinfo=UTC)  # from the file name
    assert row.started_at == row.created_at == start
    assert row.ended_at is not None
    assert (row.ended_at - start).total_seconds() == pytest.approx(2.0, abs=0.05)
    assert not again.found_something  # nothing twice, and no second event

    (event,) = sweep_events(store)
    assert event.source == "retention"
    assert (event.detail["clips_adopted"], event.detail["snapshots_removed"]) == (1, 1)
    assert event.detail["paths"]["clips_adopted"] == [relative]


def test_complete_files_wait_while_a_store_journal_is_pending(
    store: Store, vtest_avi: Path
) -> None:
    data = data_dir()
    orphan = data / "clips/gate/2026-05-04/gate_20260504T010000.000Z.mp4"
    write_clip(orphan, vtest_images(vtest_avi, 5))
    age(orphan, 5 * HOUR)
    snapshot = data / "snapshots/gate/2026-05-04/x.jpg"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(b"jpeg")
    age(snapshot, 5 * HOUR)
    dead_partial = partial_path(data / "clips/gate/2026-05-04/gate_x.mp4", 2**22 + 7)
    dead_partial.write_bytes(b"half")
    # Rows spilled by a writer that has not written them back yet may name these files.
    journal = data / "journal" / "writer-99999999-abcd.jsonl"
    journal.parent.mkdir(parents=True)
    journal.write_text("")

    with StoreWriter.running(store) as writer:
        report = sweep_media(store, writer, SimulatedClock(NOW), data)
    assert report.deferred is not None and "journal" in report.deferred
    assert orphan.exists() and snapshot.exists() and media_rows(store) == {}
    assert report.partials_removed and not dead_partial.exists()  # temp files still go


@pytest.mark.skipif(os.name != "posix", reason="SQLite read-only URI and fsync semantics")
def test_a_clip_whose_row_cannot_be_written_is_kept_and_adopted_later(
    tmp_path: Path, vtest_avi: Path
) -> None:
    path = tmp_path / "clips.db"
    Store(f"sqlite:///{path}").close()
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    bus = EventBus()
    finished: list[ClipFinalised] = []
    bus.subscribe(ClipFinalised, finished.append)
    clock = SimulatedClock(NOW - 2 * HOUR)
    failed = threading.Event()
    writer = StoreWriter(read_only, clock=clock)
    writer.on_fatal(lambda _reason: failed.set())
    writer.start()
    recorder = ClipRecorder(
        "gate", None, writer, bus, clock, clips_dir=data_dir() / "clips", fps_hint=FPS
    )
    try:
        for frame in vtest_images(vtest_avi, 30):
            recorder.push(frame)
            if frame.seq == 10:
                recorder.mark_activity(frame.captured_at)
    finally:
        assert recorder.close(timeout_s=30)
        writer.stop()
        read_only.close()
    assert failed.is_set()
    (clip,) = finished
    assert clip.media_id is None  # the store refused the row ...
    file = data_dir() / clip.path
    assert file_sha256(file) == (clip.sha256, clip.size_bytes)  # ... the clip is kept
    age(file, 2 * HOUR)

    store = Store(f"sqlite:///{path}")  # the next start, with a working store
    try:
        with StoreWriter.running(store) as healthy:
            report = sweep_media(store, healthy, SimulatedClock(NOW), data_dir())
        assert report.clips_adopted == [clip.path]
        row = media_rows(store)[clip.path]
        assert (row.sha256, row.started_at) == (clip.sha256, clip.started_at)
    finally:
        store.close()
