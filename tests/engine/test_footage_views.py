"""Footage views: an event's or alert's footage cut from the camera's continuous recording
(no copy stored), across segment joins, and from the segment still being written the
moment an alert is raised. Real H.264 segments written by the real recorder, a real store.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.data_dirs import data_dir
from engine.history.evidence import export_evidence, verify_evidence
from engine.instance import partial_path
from engine.media import is_view_path
from engine.record import ClipRecorder
from engine.record.fragments import complete_fragments_end
from engine.record.segments import RECORDINGS_DIR, SegmentRecorder
from engine.record.views import (
    MAX_VIEW_S,
    VIEWS_DIR,
    FootageViewError,
    FootageViewRequest,
    ViewFileRequest,
)
from engine.sitetime import UTC_TIME
from engine.store import Store
from engine.store.models import Media
from engine.store.writer import StoreWriter
from resources import DEMO_SITE
from tests.engine.test_recording import T0, demuxed, pictures, read_recording
from tests.engine.test_segments import recorder_for, segment_files
from tests.store_helpers import sync_site

pytestmark = pytest.mark.usefixtures("no_leaked_segment_writers")


def _record(store: Store, source: Path, segment_s: float) -> None:
    """The 12 s camera recorded continuously as camera ``plaza`` (segments + rows)."""
    camera_id = sync_site(store, load_site(DEMO_SITE), SimulatedClock(T0)).cameras["plaza"]
    with StoreWriter.running(store) as writer:
        recorder, _ = recorder_for(EventBus(), writer, camera_id, "plaza", segment_s=segment_s)
        try:
            for frame in read_recording(source):
                recorder.push(frame)
        finally:
            assert recorder.close(timeout_s=30)
        writer.flush(timeout_s=30)


def test_an_events_footage_is_cut_from_the_segments_across_their_joins(
    store: Store, h264_12s: Path
) -> None:
    _record(store, h264_12s, segment_s=4.0)
    assert len(segment_files()) == 3  # 0–4, 4–8, 8–12 s
    request = FootageViewRequest(
        "plaza",
        T0 + timedelta(seconds=3.5),
        T0 + timedelta(seconds=9.2),
        data_dir(),
        at=T0 + timedelta(seconds=5),
    )
    view = request.run(store)
    assert view is not None and not view.recording
    # It starts at the keyframe before 3.5 s (one a second) and ends with the frame at 9.2 s.
    assert view.started_at == T0 + timedelta(seconds=3)
    assert view.offset_s == pytest.approx(2.0)
    assert view.frames == 94  # 3.0 s … 9.2 s at 15 fps
    assert view.ended_at == T0 + timedelta(seconds=3 + 94 / 15)
    assert view.path.parent == data_dir() / VIEWS_DIR / "plaza"
    # The camera's own packets, unchanged and in order; the same pictures as the camera's.
    recorded = [p for f in segment_files() for p in demuxed(f)][45:139]
    cut = demuxed(view.path)
    assert [(d, k) for d, k, _ in cut] == [(d, k) for d, k, _ in recorded]
    assert [t for _, _, t in cut] == pytest.approx([k / 15 for k in range(94)])
    shown = pictures(view.path)
    assert len(shown) == 94
    assert all(np.array_equal(a, b) for a, b in zip(shown, pictures(h264_12s)[45:139], strict=True))
    # Nothing was stored: no media row, no file under clips/.
    assert not (data_dir() / "clips").exists()
    # No footage there: None, not an error; a bad range is named.
    before = T0 - timedelta(seconds=1)
    assert (
        FootageViewRequest("plaza", before - timedelta(minutes=4), before, data_dir()).run(store)
        is None
    )
    assert FootageViewRequest("gate", T0, T0 + timedelta(seconds=5), data_dir()).run(store) is None
    with pytest.raises(FootageViewError, match="not a camera key"):  # names folders
        FootageViewRequest("../plaza", T0, T0 + timedelta(seconds=5), data_dir()).run(store)
    with pytest.raises(FootageViewError, match="at most"):
        FootageViewRequest("plaza", T0, T0 + timedelta(seconds=MAX_VIEW_S + 1), data_dir()).run(
            store
        )
    with pytest.raises(FootageViewError, match="ends before it starts"):
        FootageViewRequest("plaza", T0, T0, data_dir()).run(store)


def test_footage_of_a_moment_just_past_plays_from_the_segment_still_being_written(
    store: Store, h264_12s: Path, tmp_path: Path
) -> None:
    """An alert raised at 9.5 s: the last finished segment ends at 8 s; the rest is in the
    segment being written, whose complete fragments the view reads (never past them)."""
    _record(store, h264_12s, segment_s=4.0)
    last = segment_files()[-1]  # 8–12 s, as the writer would have it on disk mid-write
    data = last.read_bytes()
    with store.sessions() as session:  # not finished yet: no row, a temp file of ours
        session.query(Media).filter(Media.path.like("%030209%")).delete()
        session.commit()
    writing = partial_path(last)
    writing.write_bytes(data[: len(data) * 3 // 4 + 100])  # whole fragments and a bit
    whole_end = complete_fragments_end(writing)
    assert whole_end is not None
    prefix = tmp_path / "whole.mp4"
    prefix.write_bytes(data[:whole_end])
    whole = len(demuxed(prefix))
    assert 15 <= whole < 60 and whole % 15 == 0  # whole seconds (a fragment a keyframe)
    last.unlink()
    at = T0 + timedelta(seconds=9.5)
    view = FootageViewRequest(
        "plaza", at - timedelta(seconds=5), at + timedelta(seconds=20), data_dir(), at=at
    ).run(store)
    assert view is not None and view.recording
    assert view.started_at == T0 + timedelta(seconds=4)
    # Whole fragments only: up to 8 s from the segments, then the unfinished one's.
    assert view.frames == 4 * 15 + whole
    assert view.ended_at == T0 + timedelta(seconds=8 + whole / 15)
    assert view.offset_s == pytest.approx(5.5)
    assert len(pictures(view.path)) == view.frames
    # A dead process's temp file is the sweep's to finish, never read as live.
    os.rename(writing, writing.with_name(writing.name.replace(f".{os.getpid()}.", ".999999999.")))
    later = FootageViewRequest(
        "plaza", at - timedelta(seconds=5), at + timedelta(seconds=20), data_dir(), at=at
    ).run(store)
    assert later is not None and not later.recording
    assert later.ended_at == T0 + timedelta(seconds=8)


def _clip_of_activity(
    store: Store | None, source: Path, continuous: bool, clips: str
) -> tuple[list[Media], list[tuple[bytes, bool, float]] | None]:
    """The 12 s camera as ``plaza`` with activity at 6 s, recorded with continuous
    recording or without: the clip rows, and (without) the clip file's packets."""
    writer_store = store
    camera_id = None
    if writer_store is not None:
        camera_id = sync_site(writer_store, load_site(DEMO_SITE), SimulatedClock(T0)).cameras[
            "plaza"
        ]
    bus = EventBus()
    root = data_dir()
    clock = SimulatedClock(T0)
    with StoreWriter.running(writer_store) if writer_store is not None else _nothing() as writer:
        segments = (
            SegmentRecorder(
                "plaza",
                camera_id,
                writer,
                bus,
                clock,
                recordings_dir=root / RECORDINGS_DIR,
                media_root=root,
                segment_s=4.0,
            )
            if continuous
            else None
        )
        recorder = ClipRecorder(
            "plaza",
            camera_id,
            writer,
            bus,
            clock,
            clips_dir=root / clips,
            fps_hint=15.0,
            pre_s=2.0,
            post_s=1.0,
            blocking=True,
            continuous=segments,
        )
        try:
            for frame in read_recording(source):
                recorder.push(frame)
                if abs(frame.captured_at - 6.0) < 1e-6:
                    recorder.mark_activity(frame.captured_at)
        finally:
            assert recorder.close(timeout_s=30)
        if writer is not None:
            writer.flush(timeout_s=30)
    rows: list[Media] = []
    if store is not None:
        with store.sessions() as session:
            rows = list(session.scalars(select(Media).where(Media.kind == "clip")))
    files = sorted((root / clips).rglob("*.mp4"))
    return rows, (demuxed(files[0]) if len(files) == 1 else None)


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield None


def test_an_event_clip_of_a_camera_recording_continuously_is_a_view_not_a_copy(
    store: Store, h264_12s: Path, tmp_path: Path
) -> None:
    """The same camera and activity, recorded without and with continuous recording: with
    it, the clip is a row only (0 bytes, under views/), and played, it is exactly the clip
    file's frames, cut from the segments."""
    _rows, copy = _clip_of_activity(None, h264_12s, continuous=False, clips="clips-plain")
    assert copy is not None and len(copy) > 30
    rows, no_file = _clip_of_activity(store, h264_12s, continuous=True, clips="clips")
    assert no_file is None and not list((data_dir() / "clips").rglob("*.mp4"))
    (row,) = rows
    assert is_view_path(row.path) and row.path.startswith("views/plaza/2026-05-04/plaza_")
    assert (row.size_bytes, row.sha256) == (0, "")
    assert row.started_at == T0 + timedelta(seconds=4)  # the keyframe 2 s before 6 s
    played = ViewFileRequest(row.path, data_dir()).run(store)
    assert played == data_dir() / row.path  # complete footage: kept at the row's path
    viewed = demuxed(played)
    assert viewed == copy  # the very packets, times and keyframes of the copy
    assert ViewFileRequest(row.path, data_dir()).run(store) == played  # a second play reads it
    # A row of a shared site's store naming a place outside the media root is refused, never
    # written to (a view is written at its row's path).
    escaped = "views/../../escaped.mp4"
    with store.transaction() as session:
        session.add(
            Media(
                kind="clip",
                path=escaped,
                sha256="",
                size_bytes=0,
                created_at=row.created_at,
                camera_id=row.camera_id,
                started_at=row.started_at,
                ended_at=row.ended_at,
            )
        )
    for outside in (escaped, "/tmp/escaped.mp4"):
        with pytest.raises(FileNotFoundError, match="is not a media path"):
            ViewFileRequest(outside, data_dir()).run(store)
    assert not (data_dir() / escaped).resolve().exists()
    # An export of the event's time carries the segments holding it, once; not the view.
    out = tmp_path / "case"
    result = export_evidence(
        store,
        start=row.started_at + timedelta(seconds=0.5),
        end=row.ended_at,
        out_dir=out,
        media_root=data_dir(),
        key_dir=data_dir(),
        exporter="account:ian",
        now=T0 + timedelta(hours=1),
        site_time=UTC_TIME,
        cameras=["plaza"],
    )
    assert (result.footage_segments, result.clips) == (1, 0)  # 4–8 s holds 4–7.1 s
    assert [p.relative_to(out).parts[0] for p in out.rglob("*.mp4")] == ["recordings"]
    assert verify_evidence(out).ok
    # Its footage purged (retention, erasure): said, not played empty.
    played.unlink()
    for segment in segment_files():
        segment.unlink()
    with pytest.raises(FileNotFoundError, match="no longer kept"):
        ViewFileRequest(row.path, data_dir()).run(store)
    with pytest.raises(FileNotFoundError, match=r"no clip views/plaza/x\.mp4"):
        ViewFileRequest("views/plaza/x.mp4", data_dir()).run(store)
