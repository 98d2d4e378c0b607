"""A clip keeps where the people were, frame by frame (issue 68): its track sidecar holds
the boxes of the camera's analysis for each of its frames, on the clip's own time line and
in its own pixels (the main stream's, when the analysis ran on a smaller picture), so a
player can follow the person through the footage. A damaged sidecar is refused with words,
never read as boxes.

Real parts: vtest.avi's frames through the camera's real analyzer (HOG detector, tracker)
and the real clip recorder and writer; the clip is decoded with PyAV."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.cv import import_cv2
from engine.data_dirs import data_dir
from engine.frames import EncodedPacket, Frame
from engine.media import is_view_path
from engine.record import ClipFinalised, ClipRecorder, FrameEncoder, select_clip_codec
from engine.record.segments import RECORDINGS_DIR, SegmentRecorder
from engine.record.tracks import (
    MAX_TRACKS_BYTES,
    TRACKS_FORMAT,
    ClipTracks,
    ClipTracksError,
    TrackBox,
    TrackSample,
    read_clip_tracks,
    sample_at,
    tracks_media_path,
    tracks_path,
    write_clip_tracks,
)
from engine.vision.analysis import CameraAnalyzer, FrameAnalysis
from engine.vision.geometry import Box, iou
from engine.vision.pipeline import CameraPipeline

FPS = 10.0  # vtest.avi's frame rate; frames are stamped seq / FPS seconds
T0 = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
FRAMES = 90  # 9 s of people crossing the plaza


def _frames(path: Path, count: int, scale: float = 1.0) -> Iterator[tuple[Frame, Frame]]:
    """(full-size frame, frame as analysed): the analysed one ``scale`` times the size, as a
    camera's sub stream beside its main stream."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        for seq in range(count):
            ok, image = capture.read()
            assert ok
            wall = T0 + timedelta(seconds=seq / FPS)
            full = Frame(seq, image, seq / FPS, FPS, wall_at=wall)
            small = image
            if scale != 1.0:
                small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            yield full, Frame(seq, small, seq / FPS, FPS, wall_at=wall)
    finally:
        capture.release()


def _recorder(bus: EventBus, continuous: bool = False) -> ClipRecorder:
    segments = (
        SegmentRecorder(
            "plaza",
            None,
            None,
            bus,
            SimulatedClock(T0),
            recordings_dir=data_dir() / RECORDINGS_DIR,
            media_root=data_dir(),
            segment_s=4.0,
            fps_hint=FPS,
        )
        if continuous
        else None
    )
    return ClipRecorder(
        "plaza",
        None,
        None,
        bus,
        SimulatedClock(T0),
        clips_dir=data_dir() / "clips",
        fps_hint=FPS,
        pre_s=1.0,
        post_s=1.0,
        queue_frames=500,
        blocking=True,  # frames come faster than real time: the encoder must not drop them
        continuous=segments,
    )


def _run(
    vtest_avi: Path, scale: float = 1.0, continuous: bool = False
) -> tuple[list[ClipFinalised], list[FrameAnalysis]]:
    """vtest through the pipeline; with ``scale`` < 1 the analysis sees a smaller picture
    while the clip records the full-size packets (a camera's sub and main streams)."""
    bus = EventBus()
    clips: list[ClipFinalised] = []
    bus.subscribe(ClipFinalised, clips.append)
    recorder = _recorder(bus, continuous)
    pipeline = CameraPipeline(CameraAnalyzer("plaza", bus, SimulatedClock(T0)), recorder)
    analyses: list[FrameAnalysis] = []
    pairs = list(_frames(vtest_avi, FRAMES, scale))
    packets = _main_stream_packets([full for full, _ in pairs]) if scale != 1.0 else None
    for index, (_, analysed) in enumerate(pairs):
        frame = analysed
        if packets is not None:  # the main stream's packets of this frame (decode order)
            mine = [p for p in packets if p.captured_at <= analysed.captured_at + 1e-6]
            if index == len(pairs) - 1:
                mine = packets
            packets = packets[len(mine) :]
            frame = Frame(
                analysed.seq,
                analysed.image,
                analysed.captured_at,
                FPS,
                wall_at=analysed.wall_at,
                packets=tuple(mine),
            )
        analyses.append(pipeline.process(frame))
    assert pipeline.close(30.0)
    return sorted(clips, key=lambda c: c.started_at), analyses


def _main_stream_packets(frames: list[Frame]) -> list[EncodedPacket]:
    """The full-size frames as a camera's H.264 main stream (a keyframe every second)."""
    height, width = frames[0].image.shape[:2]
    encoder = FrameEncoder(select_clip_codec(), width, height, FPS)
    out: list[EncodedPacket] = []
    for frame in frames:
        out += encoder.encode(frame.image, frame.captured_at, frame_s=1 / FPS)
        out = [
            EncodedPacket(
                p.data,
                p.pts,
                p.dts,
                p.duration,
                p.keyframe,
                p.captured_at,
                T0 + timedelta(seconds=p.captured_at),
                p.stream,
            )
            for p in out
        ]
    flushed = encoder.flush()
    return out + [
        EncodedPacket(
            p.data,
            p.pts,
            p.dts,
            p.duration,
            p.keyframe,
            p.captured_at,
            T0 + timedelta(seconds=p.captured_at),
            p.stream,
        )
        for p in flushed
    ]


def _clip_frame_times(path: Path) -> tuple[list[float], int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
        return times, stream.width, stream.height


def test_a_clip_keeps_each_frames_boxes_on_its_own_time_line(vtest_avi: Path) -> None:
    clips, analyses = _run(vtest_avi)
    assert clips, "people cross vtest's plaza: a clip must be recorded"
    checked = detector_frames = 0
    for clip in clips:
        path = data_dir() / clip.path
        tracks = read_clip_tracks(tracks_path(path))
        times, width, height = _clip_frame_times(path)
        assert (tracks.width, tracks.height) == (width, height) == (768, 576)
        assert tracks.started_at == clip.started_at
        assert tracks.samples, "the clip's frames had people: their boxes are kept"
        first_t = (clip.started_at - T0).total_seconds()  # the clip's first frame, monotonic
        for sample in tracks.samples:
            # Each sample is one of the clip's frames, at that frame's time in the file...
            assert min(abs(sample.t_s - t) for t in times) < 1e-3
            # ...and holds exactly the boxes the analysis reported for that frame.
            analysis = analyses[round((first_t + sample.t_s) * FPS)]
            assert analysis.t == pytest.approx(first_t + sample.t_s, abs=1e-3)
            assert [b.track_id for b in sample.boxes] == [t.track_id for t in analysis.tracks]
            for box, track in zip(sample.boxes, analysis.tracks, strict=True):
                assert iou(Box(box.x, box.y, box.w, box.h), track.box) > 0.99
            checked += 1
        # Played back: at each frame's time in the file, the box found there lies on the
        # person the detector found in that frame.
        for t in times:
            analysis = analyses[round((first_t + t) * FPS)]
            if not analysis.detections:
                continue
            sample = sample_at(tracks.samples, t, 0.5 / FPS)
            assert sample is not None
            shown = {b.track_id: Box(b.x, b.y, b.w, b.h) for b in sample.boxes}
            for found in analysis.detections:
                tracked = [tr for tr in analysis.tracks if iou(tr.box, found.box) > 0.5]
                for track in tracked:  # the detection a track follows
                    assert iou(shown[track.track_id], found.box) > 0.5
                    detector_frames += 1
    assert checked >= 30 and detector_frames >= 5


def test_boxes_of_a_sub_stream_are_kept_in_the_main_streams_pixels(vtest_avi: Path) -> None:
    """The analysis runs on a picture half the size of the recorded one (a camera's sub
    stream); the clip holds the main stream's packets, and its boxes are in its pixels."""
    clips, analyses = _run(vtest_avi, scale=0.5)
    assert clips
    checked = 0
    for clip in clips:
        path = data_dir() / clip.path
        tracks = read_clip_tracks(tracks_path(path))
        _, width, height = _clip_frame_times(path)
        assert (tracks.width, tracks.height) == (width, height) == (768, 576)
        first_t = (clip.started_at - T0).total_seconds()
        for sample in tracks.samples:
            analysis = analyses[round((first_t + sample.t_s) * FPS)]
            for box, track in zip(sample.boxes, analysis.tracks, strict=True):
                doubled = Box(track.box.x * 2, track.box.y * 2, track.box.w * 2, track.box.h * 2)
                assert iou(Box(box.x, box.y, box.w, box.h), doubled) > 0.99
                checked += 1
    assert checked >= 10


def test_a_clip_that_is_a_view_of_the_continuous_recording_keeps_its_boxes_too(
    vtest_avi: Path,
) -> None:
    """A camera recording continuously: its clips are views onto the segments (a row, no
    file of their own); their boxes are kept at the row's path, where the view is cut."""
    clips, analyses = _run(vtest_avi, continuous=True)
    assert clips and all(is_view_path(clip.path) for clip in clips)
    for clip in clips:
        tracks = read_clip_tracks(data_dir() / tracks_media_path(clip.path))
        assert (tracks.width, tracks.height) == (768, 576)
        assert tracks.started_at == clip.started_at and tracks.samples
        first_t = (clip.started_at - T0).total_seconds()
        for sample in tracks.samples:
            analysis = analyses[round((first_t + sample.t_s) * FPS)]
            assert analysis.t == pytest.approx(first_t + sample.t_s, abs=1e-3)
            assert [b.track_id for b in sample.boxes] == [t.track_id for t in analysis.tracks]


def _sidecar(tmp_path: Path) -> Path:
    path = tmp_path / "plaza_20260504T030201.000Z.tracks.json"
    write_clip_tracks(
        path,
        ClipTracks(
            T0,
            768,
            576,
            (
                TrackSample(0.0, (TrackBox(3, 10.0, 20.0, 30.0, 90.0),)),
                TrackSample(0.1, (TrackBox(3, 12.0, 20.0, 30.0, 90.0),)),
                TrackSample(0.5, ()),
            ),
        ),
    )
    return path


def test_a_written_sidecar_reads_back_and_finds_the_frame_at_a_time(tmp_path: Path) -> None:
    tracks = read_clip_tracks(_sidecar(tmp_path))
    assert tracks.started_at == T0 and (tracks.width, tracks.height) == (768, 576)
    assert sample_at(tracks.samples, 0.15, 0.2) == tracks.samples[1]
    assert sample_at(tracks.samples, 0.45, 0.2) is None  # no frame analysed near then
    assert sample_at(tracks.samples, 0.6, 0.2) == TrackSample(0.5, ())  # the person left
    assert [s.t_s for s in tracks.shifted(-0.05)] == [pytest.approx(0.05), 0.45]
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("missing", "is missing"),
        ("truncated", "not a complete track file"),
        ("too big", "larger than"),
        ("symlink", "symbolic link"),
        ("directory", "cannot be read|not a regular file"),
        ("fifo", "not a regular file"),
        ("other format", "not a track file"),
        ("not finite", "not a number"),
        ("bad box", "a box is not"),
        ("out of order", "out of order"),
    ],
)
def test_a_damaged_sidecar_is_refused_with_words(tmp_path: Path, damage: str, words: str) -> None:
    path = _sidecar(tmp_path)
    good = path.read_bytes()
    document = json.loads(good)
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "too big":
        path.write_bytes(b" " * (MAX_TRACKS_BYTES + 1))
    elif damage == "symlink":
        target = tmp_path / "elsewhere.json"
        target.write_bytes(good)
        path.unlink()
        path.symlink_to(target)
    elif damage == "directory":
        path.unlink()
        path.mkdir()
    elif damage == "fifo":
        path.unlink()
        os.mkfifo(path)  # nobody writes it: reading must not wait
    elif damage == "other format":
        path.write_text(json.dumps({**document, "format": "something.else"}))
    elif damage == "not finite":
        path.write_text(good.decode().replace("12.0", "1e999"))
    elif damage == "bad box":
        document["samples"][0][1][0] = [3, "x", 1, 1, 1]
        path.write_text(json.dumps(document))
    elif damage == "out of order":
        document["samples"].reverse()
        path.write_text(json.dumps(document))
    with pytest.raises(ClipTracksError, match=words):
        read_clip_tracks(path)
    assert document["format"] == TRACKS_FORMAT
