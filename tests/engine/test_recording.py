"""Recording from compressed packets: H.264/H.265 cameras recorded from their own packets
(no decode-encode), the pre-event buffer of compressed packets, clips that start at a
keyframe, and inputs that are corrupt or cannot be recorded. Real files, real sources."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import CameraConfig, SourceKind
from engine.cv import import_cv2
from engine.data_dirs import data_dir
from engine.events import CameraStatus, CameraStatusChanged
from engine.frames import EncodedPacket, Frame, VideoStreamInfo
from engine.record import ClipFinalised, ClipMuxer, ClipMuxError, ClipRecorder
from engine.vision.analysis import FrameAnalysis
from engine.vision.capture import open_pyav
from engine.vision.source import CameraSource

T0 = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
SHARED_AUDIO = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "audio"


@pytest.fixture(autouse=True)
def no_leaked_recording_threads() -> Iterator[None]:
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("clip-")]
    assert not leaked, f"test leaked recording threads: {leaked}"


def camera(path: Path, loop: bool = False) -> CameraConfig:
    return CameraConfig("cam", "Test camera", str(path), SourceKind.FILE, loop, None, None)


def read_recording(path: Path) -> list[Frame]:
    """Every frame a source delivers for the recording ``path`` (recording time: a frame's
    ``captured_at`` is its presentation time in the file, from 0)."""
    frames: list[Frame] = []

    def keep(frame: Frame) -> FrameAnalysis:
        frames.append(frame)
        return FrameAnalysis(frame.seq, frame.captured_at, (), (), None)

    bus = EventBus()
    statuses: list[CameraStatusChanged] = []
    bus.subscribe(CameraStatusChanged, statuses.append)
    source = CameraSource(
        camera(path), bus, SimulatedClock(T0), realtime=False, processor=keep, recording_start=T0
    )
    source.start()
    try:
        assert source.wait_ended(60)
    finally:
        source.stop()
    assert source.failure is None, source.failure
    return frames


def record(
    frames: list[Frame], activity_at: float, **settings: object
) -> tuple[ClipRecorder, list[ClipFinalised]]:
    """Push ``frames`` into a recorder with activity on the frame at ``activity_at`` s."""
    bus = EventBus()
    clips: list[ClipFinalised] = []
    bus.subscribe(ClipFinalised, clips.append)
    options: dict[str, object] = {"pre_s": 5.0, "post_s": 1.0, "blocking": True}
    options.update(settings)
    recorder = ClipRecorder(
        "cam",
        None,
        None,
        bus,
        SimulatedClock(T0),
        clips_dir=data_dir() / "clips",
        fps_hint=15.0,
        **options,  # type: ignore[arg-type]
    )
    marked = False
    try:
        for frame in frames:
            recorder.push(frame)
            if not marked and frame.captured_at >= activity_at - 1e-6:
                recorder.mark_activity(frame.captured_at)
                marked = True
    finally:
        assert recorder.close(timeout_s=30)
    return recorder, sorted(clips, key=lambda c: c.started_at)


def demuxed(path: Path) -> list[tuple[bytes, bool, float]]:
    """(bytes, keyframe, presentation time from the first packet in s), decode order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        return [
            (bytes(p), p.is_keyframe, float((p.pts - start) * p.time_base))
            for p in container.demux(stream)
            if p.size
        ]


def pictures(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def write_video(
    path: Path, codec: str, *, seconds: float, fps: int = 15, gop: int = 15, bframes: int = 0
) -> Path:
    """vtest's pedestrians at 320×240, as a camera would send them (``codec`` in MP4)."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.max_b_frames = bframes
        if codec == "libx265":
            stream.options = {"x265-params": f"log-level=none:keyint={gop}:bframes={bframes}"}
        for index in range(round(seconds * fps)):
            ok, image = capture.read()
            assert ok
            frame = av.VideoFrame.from_ndarray(cv2.resize(image, (320, 240)), format="bgr24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    capture.release()
    return path


def test_an_h264_camera_is_recorded_from_its_own_packets_without_re_encoding(
    hamilton_clip: Path,
) -> None:
    frames = read_recording(hamilton_clip)
    assert len(frames) == 275 and all(f.packets is not None for f in frames)
    packets = [p for f in frames for p in f.packets or ()]
    assert len(packets) == 275 and packets[0].keyframe and packets[0].stream.stream_copy

    recorder, clips = record(frames, activity_at=8.0)  # pre-event: from 3.0 s

    stats = recorder.stats()
    assert stats.frames_encoded == 0 and stats.stream_copy is True  # nothing encoded
    (clip,) = clips
    assert (clip.codec, clip.stream_copy, clip.dropped_frames) == ("h264", True, 0)
    source = demuxed(hamilton_clip)
    # The clip starts at the newest keyframe at or before 8.0 - 5 s ...
    start = max(t for _, key, t in source if key and t <= 3.0 + 1e-6)
    assert clip.started_at == T0 + timedelta(seconds=start)
    first = next(i for i, (_, _, t) in enumerate(source) if t == start)
    copied = demuxed(data_dir() / clip.path)
    # ... and runs to 1 s after the activity
    assert len(copied) == clip.frames == sum(t <= 9.0 for _, _, t in source[first:])
    # ... and holds the camera's own packets, byte for byte: a keyframe only gains its
    # parameter sets (SPS/PPS) in front, so a clip starting there decodes on its own.
    originals = source[first : first + len(copied)]
    for (data, key, _), (original, original_key, _) in zip(copied, originals, strict=True):
        assert key == original_key
        assert data == original or (
            key and data.endswith(original) and len(data) < len(original) + 64
        )
    # Not re-encoded: the pictures are the source's, bit for bit.
    decoded = pictures(data_dir() / clip.path)
    original_pictures = pictures(hamilton_clip)[first : first + len(decoded)]
    assert all(np.array_equal(a, b) for a, b in zip(decoded, original_pictures, strict=True))


@pytest.mark.parametrize(
    ("encoder", "codec", "bframes", "suffix"),
    [
        ("libx264", "h264", 2, "mp4"),  # MP4 holds length-prefixed NAL units (AVCC)
        ("libx265", "hevc", 0, "mp4"),
        ("libx264", "h264", 0, "ts"),  # MPEG-TS, like RTSP, sends Annex B with SPS/PPS
    ],
)
def test_b_frames_hevc_and_annex_b_are_copied_and_play_from_their_keyframe(
    tmp_path: Path, encoder: str, codec: str, bframes: int, suffix: str
) -> None:
    video = write_video(tmp_path / f"{codec}.{suffix}", encoder, seconds=5.0, bframes=bframes)
    frames = read_recording(video)
    recorder, clips = record(frames, activity_at=4.0, pre_s=2.0, post_s=0.5)
    (clip,) = clips
    assert (clip.codec, clip.stream_copy) == (codec, True)
    assert recorder.stats().frames_encoded == 0
    assert clip.started_at == T0 + timedelta(seconds=2.0)  # the keyframe at 2.0 s
    with av.open(str(data_dir() / clip.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == codec
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
    # Every frame from 2.0 s to 4.5 s, in presentation order, one 1/15 s apart (with
    # B-frames the clip ends at the first packet past 4.5 s in decode order, which may come
    # before the last B-frames of 4.4-4.5 s).
    assert len(times) == clip.frames and (36 if bframes else 38) <= clip.frames <= 38
    assert times[0] == pytest.approx(0.0)
    assert all(b - a == pytest.approx(1 / 15, abs=1e-3) for a, b in itertools.pairwise(times))
    original = pictures(video)
    decoded = pictures(data_dir() / clip.path)
    assert all(np.array_equal(a, b) for a, b in zip(decoded, original[30:], strict=False))


def test_a_looping_h264_file_keeps_its_timestamps_rising_across_the_loop(
    tmp_path: Path,
) -> None:
    video = write_video(tmp_path / "loop.mp4", "libx264", seconds=2.0, gop=15)
    capture = open_pyav(str(video), live=False, shown_url=str(video))
    try:
        packets = []
        for _ in range(2):  # the file, then again after the rewind
            while (decoded := capture.read()) is not None:
                packets += decoded.packets or ()
            assert capture.rewind()
    finally:
        capture.release()
    assert len(packets) == 60
    dts = [p.dts for p in packets]
    assert dts == sorted(set(dts))  # rising across the loop: a clip may span it
    stream = capture.stream
    assert stream is not None
    clip = tmp_path / "across.mp4"
    muxer = ClipMuxer(clip)
    for packet in packets[15:]:
        muxer.add(_stamp(packet, stream))
    assert muxer.close().duration_s == pytest.approx(3.0, abs=0.01)
    assert len(pictures(clip)) == 45


def _stamp(packet: object, stream: VideoStreamInfo) -> EncodedPacket:
    from engine.vision.capture import StreamPacket

    assert isinstance(packet, StreamPacket)
    return packet.stamped(stream, packet.pts_s, None)


@pytest.mark.slow
def test_an_encoded_cameras_pre_event_buffer_holds_compressed_packets(vtest_avi: Path) -> None:
    frames = read_recording(vtest_avi)[:100]  # 10 s at 10 fps, msmpeg4: no packets to copy
    assert all(f.packets is None for f in frames)
    recorder, clips = record(frames, activity_at=7.3)
    stats = recorder.stats()
    assert (stats.stream_copy, stats.frames_encoded, stats.encoder_frames_dropped) == (
        False,
        100,
        0,
    )
    assert stats.encode_ms_per_frame > 0
    (clip,) = clips
    # The newest keyframe at or before 7.3 - 5 s: keyframes come every second, so 2.0 s.
    assert clip.started_at == T0 + timedelta(seconds=2.0)
    assert (clip.codec, clip.stream_copy, clip.frames) == ("libx264", False, 64)  # 2.0..8.3


def test_the_pre_event_buffer_of_a_camera_is_megabytes_not_hundreds(vtest_avi: Path) -> None:
    frames = read_recording(vtest_avi)[:100]
    bus = EventBus()
    recorder = ClipRecorder(
        "cam",
        None,
        None,
        bus,
        SimulatedClock(T0),
        clips_dir=data_dir() / "clips",
        fps_hint=10.0,
        blocking=True,
    )
    try:
        for frame in frames:
            recorder.push(frame)
        deadline = time.monotonic() + 30
        while (stats := recorder.stats()).frames_encoded < 100:  # on the encoder's thread
            assert time.monotonic() < deadline, "the encoder did not catch up"
            time.sleep(0.01)
    finally:
        assert recorder.close()
    raw_bytes = 768 * 576 * 3 * 51  # what 5 s of raw frames took before
    assert 5.0 <= stats.pre_buffer_s < 6.0
    assert stats.pre_buffer_bytes < 1_500_000 < raw_bytes / 40


def test_corrupt_h264_data_is_skipped_and_counted(hamilton_clip: Path, tmp_path: Path) -> None:
    data = bytearray(hamilton_clip.read_bytes())
    rng = random.Random(1)
    for offset in range(200_000, 400_000, 997):  # garbage over a third of the frames' data
        data[offset : offset + 40] = rng.randbytes(40)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    bus = EventBus()
    statuses: list[CameraStatusChanged] = []
    bus.subscribe(CameraStatusChanged, statuses.append)
    source = CameraSource(camera(damaged), bus, SimulatedClock(T0), realtime=False)
    source.start()
    try:
        assert source.wait_ended(60)
    finally:
        source.stop()
    stats = source.stats()
    assert any(e.status is CameraStatus.STOPPED and e.detail == "end of file" for e in statuses)
    assert not any(e.status in (CameraStatus.ERROR, CameraStatus.OFFLINE) for e in statuses)
    assert stats.decode_errors > 0 and 250 <= stats.frames < 275


def test_inputs_that_cannot_be_read_say_why(hamilton_clip: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"  # its index (moov) is at the end: cut off
    cut.write_bytes(hamilton_clip.read_bytes()[:300_000])
    audio = SHARED_AUDIO / "intro_1.wav"
    for path, reason in ((cut, "Invalid data"), (audio, "no video stream")):
        bus = EventBus()
        statuses: list[CameraStatusChanged] = []
        bus.subscribe(CameraStatusChanged, statuses.append)
        source = CameraSource(
            camera(path), bus, SimulatedClock(T0), realtime=False, recording_start=T0
        )
        source.start()
        try:
            assert source.wait_ended(60)
        finally:
            source.stop()
        assert source.failure is not None
        assert source.failure.startswith(f"cannot decode video file: {path}")
        assert reason in source.failure


def test_a_clip_must_start_at_a_keyframe_hold_one_stream_and_a_codec_mp4_takes(
    tmp_path: Path,
) -> None:
    h264 = VideoStreamInfo("h264", 320, 240, Fraction(1, 1000), encoder=None)

    def packet(keyframe: bool, stream: VideoStreamInfo = h264) -> EncodedPacket:
        return EncodedPacket(b"\x00\x00\x00\x01\x65", 0, 0, 100, keyframe, 0.0, None, stream)

    with pytest.raises(ClipMuxError, match="must start at a keyframe"):
        ClipMuxer(tmp_path / "a.mp4").add(packet(False))
    muxer = ClipMuxer(tmp_path / "b.mp4")
    muxer.add(packet(True))
    other = VideoStreamInfo("h264", 320, 240, Fraction(1, 1000), encoder=None)
    with pytest.raises(ClipMuxError, match="another stream"):
        muxer.add(packet(True, other))
    muxer.abort()
    # vtest.avi's msmpeg4 has no place in MP4: such cameras are encoded, never copied.
    msmpeg4 = VideoStreamInfo("msmpeg4v3", 768, 576, Fraction(1, 10), encoder=None)
    with pytest.raises(ClipMuxError, match="does not support"):
        ClipMuxer(tmp_path / "c.mp4").add(packet(True, msmpeg4))
