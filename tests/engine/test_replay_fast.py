"""Fast replay: playing faster than decoding every frame can follow shows keyframes only,
each decoded once, at its true time; at 1×, paused and stepping, every frame is exact.

The footage is real: 20 s of vtest's pedestrians as an H.264 camera sends them (15 fps, a
keyframe every 2 s) cut into two 10 s fragmented MP4 segments as the recorder muxes them.
Playback runs on a simulated clock, one decoder pass per step: nothing here depends on how
fast the machine is, except that decoding 320×240 at 1× must take under 67 ms a frame."""

from __future__ import annotations

import math
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from benchmarks.replay_fast import mux_segments
from engine.clock import SimulatedClock
from engine.frames import Frame
from engine.history.replay import (
    DECODE_BUDGET,
    GRAB_COST_HALF_LIFE_S,
    ClipFrameReader,
    ClipSpan,
    PlaybackClock,
    ReplayDecoder,
    ReplayPlan,
)
from engine.media import FRAGMENTED_READ_OPTIONS
from tests.engine.test_recording import pictures, write_video

T0 = datetime(2026, 11, 27, 13, 0, 0, tzinfo=UTC)
FPS = 15
GOP = 30  # a keyframe every 2 s, as a typical IP camera
SECONDS = 20.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReplayPlan, list[np.ndarray]]:
    """Camera ``gate`` recorded continuously from T0 for 20 s (two segments), and every
    picture of the source in order (frame n is at n / 15 s)."""
    folder = tmp_path_factory.mktemp("replay-fast")
    source = write_video(folder / "camera.mp4", "libx264", seconds=SECONDS, fps=FPS, gop=GOP)
    media = folder / "media"
    (media / "recordings").mkdir(parents=True)
    spans = []
    for n, segment in enumerate(mux_segments(source, media / "recordings", 10)):
        relative = segment.relative_to(media).as_posix()
        spans.append(ClipSpan(n + 1, relative, at(10 * n), at(10 * n + 10), True))
    plan = ReplayPlan(
        start=at(0),
        end=at(SECONDS),
        media_root=media,
        cameras=("gate",),
        clips={"gate": tuple(spans)},
        missing=(),
        gaps=(),
        event_times=(),
    )
    return plan, pictures(source)


def picture_number(frame: Frame | None, sources: list[np.ndarray]) -> int:
    """The source picture ``frame`` shows (the closest: OpenCV and PyAV convert colours
    a little differently)."""
    assert frame is not None
    image: npt.NDArray[np.int16] = frame.image.astype(np.int16)
    return int(np.argmin([np.mean(np.abs(image - s.astype(np.int16))) for s in sources]))


def exact_number(ts: datetime) -> int:
    """The frame shown at ``ts`` frame-exact: the last one at or before it."""
    return math.floor((ts - T0).total_seconds() * FPS + 1e-6)


def test_at_16x_a_slow_decoder_shows_each_keyframe_once_and_pausing_gives_the_exact_frame(
    footage: tuple[ReplayPlan, list[np.ndarray]],
) -> None:
    plan, sources = footage
    clock = SimulatedClock()
    reader = ClipFrameReader("gate", plan.clips["gate"], plan.media_root, clock)
    # As measured on 1080p by a loaded 2-core machine: every frame at 16× would take
    # 16 × 15 × 20 ms = 4.8 s of decoding a second.
    reader.grab_cost_s = 0.02
    playback = PlaybackClock(plan.start, plan.end, clock, at=at(0.5), speed=16)
    playback.play()
    try:
        shown: list[tuple[datetime, Frame]] = []
        while (position := playback.position()) < at(19.9):
            found = reader.frame_at(position, playback.speed, DECODE_BUDGET)
            assert found.frame is not None, found.reason
            shown.append((position, found.frame))
            clock.advance(0.04)  # one decoder period: 0.64 s of video
        assert reader.keyframes_only
        for position, frame in shown:
            keyframe = 2 * math.floor((position - T0).total_seconds() / 2)  # at or before
            assert frame.wall_at == at(keyframe)
            assert picture_number(frame, sources) == keyframe * FPS
        distinct = {id(frame) for _, frame in shown}
        assert len(distinct) == 10  # 0, 2, … 18 s across both segments, one object each
        # Each keyframe decoded alone and once: 10 frames where every frame is 290.
        frame_exact = exact_number(shown[-1][0]) - exact_number(shown[0][0]) + 1
        assert reader.keyframes_decoded == 10 and reader.decoded == 10 and frame_exact >= 280
        # Nothing was grabbed: the cost was only aged by the playback clock's 1.2 s.
        aged = 0.02 * 0.5 ** ((len(shown) - 1) * 0.04 / GRAB_COST_HALF_LIFE_S)
        assert reader.grab_cost_s == pytest.approx(aged)

        playback.seek(at(13.37))
        playback.pause()
        paused = reader.frame_at(playback.position(), None).frame
        assert paused is not None and paused.wall_at == at(200 / FPS)  # 13.333 s, not 12 s
        assert picture_number(paused, sources) == 200
        stepped = reader.frame_at(playback.step(1, FPS), None).frame
        assert stepped is not None and picture_number(stepped, sources) == 201
        assert stepped.wall_at == at(201 / FPS)
    finally:
        reader.close()


def test_at_1x_playback_stays_frame_exact_across_a_segment_join(
    footage: tuple[ReplayPlan, list[np.ndarray]],
) -> None:
    plan, sources = footage
    clock = SimulatedClock()
    playback = PlaybackClock(plan.start, plan.end, clock, at=at(8.5))
    decoder = ReplayDecoder(plan, playback, clock)  # costs as measured here
    getter = decoder.frame_getter("gate")
    playback.play()
    try:
        numbers: list[int] = []
        while (position := playback.position()) < at(11.5):
            decoder.decode_once()
            frame = getter()
            assert frame is not None and frame.wall_at == at(exact_number(position) / FPS)
            numbers.append(picture_number(frame, sources))
            clock.advance(0.04)
        assert not decoder.keyframes_only("gate")
        # Every frame from the one at 8.467 s to the one shown last, 0.6 frames a pass.
        assert sorted(set(numbers)) == list(range(127, numbers[-1] + 1)) and numbers[-1] >= 170
        assert numbers == sorted(numbers)
    finally:
        decoder.close()


def test_keyframes_only_is_decided_by_speed_cost_and_the_share_of_each_camera(
    footage: tuple[ReplayPlan, list[np.ndarray]],
) -> None:
    """1080p decoding at 5 ms a frame: one camera keeps up with every frame at 4× (0.3 s
    a second) and not at 16× (1.2 s); four cameras (a quarter of the budget each) not at
    4×. Back to every frame only well under the share, so the mode does not flap."""
    assert DECODE_BUDGET == 1.0  # the figures below are for all of the decoder's time
    plan, _ = footage
    reader = ClipFrameReader("gate", plan.clips["gate"], plan.media_root, SimulatedClock())
    try:
        assert reader.frame_at(at(1), None).frame is not None  # the clip's frame rate known
        reader.grab_cost_s = 0.005
        one, four = DECODE_BUDGET, DECODE_BUDGET / 4
        assert not reader.plays_keyframes(4, one)
        assert reader.plays_keyframes(16, one)
        assert reader.plays_keyframes(4, four)
        reader.grab_cost_s = 0.0035  # 0.21 s a second: under the share (0.25), not well
        assert reader.plays_keyframes(4, four)
        reader.grab_cost_s = 0.0025  # 0.15 s a second: under 0.7 of the share
        assert not reader.plays_keyframes(4, four)
        reader.grab_cost_s = 0.0035  # and from every frame, in between stays so
        assert not reader.plays_keyframes(4, four)
    finally:
        reader.close()


def test_a_decoder_forced_to_keyframes_still_shows_the_exact_frame_when_paused(
    footage: tuple[ReplayPlan, list[np.ndarray]],
) -> None:
    plan, sources = footage
    clock = SimulatedClock()
    playback = PlaybackClock(plan.start, plan.end, clock, at=at(5.5), speed=8)
    decoder = ReplayDecoder(plan, playback, clock, keyframes=True)
    getter = decoder.frame_getter("gate")
    try:
        playback.play()
        decoder.decode_once()
        playing = getter()
        assert playing is not None and playing.wall_at == at(4)
        assert picture_number(playing, sources) == 60
        playback.pause()
        decoder.decode_once()
        paused = getter()
        assert paused is not None and paused.wall_at == at(82 / FPS)  # 5.467 s
        assert picture_number(paused, sources) == 82
    finally:
        decoder.close()


def test_segments_are_opened_without_ffmpegs_frame_rate_probe(
    footage: tuple[ReplayPlan, list[np.ndarray]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe reads every fragment of a segment (a 10 s 1080p segment opens in 55 ms
    with it, 16 without): frame-exact and keyframes only, each file is opened without it,
    and the frame-exact time and picture are still right."""
    plan, sources = footage
    opened: list[tuple[str, dict[str, str]]] = []
    real_open = av.open

    def spying_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append((Path(file).name, dict(kwargs.get("options") or {})))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", spying_open)
    reader = ClipFrameReader("gate", plan.clips["gate"], plan.media_root, SimulatedClock())
    try:
        paused = reader.frame_at(at(3.5), None).frame
        assert paused is not None and paused.wall_at == at(52 / FPS)
        assert picture_number(paused, sources) == 52 and paused.source_fps == FPS
        reader.grab_cost_s = 0.02  # 16× of every frame would take 4.8 s a second
        playing = reader.frame_at(at(12.5), 16, DECODE_BUDGET).frame
        assert playing is not None and playing.wall_at == at(12)
    finally:
        reader.close()
    without_probe = dict(FRAGMENTED_READ_OPTIONS)
    assert opened == [
        ("segment000.mp4", without_probe),
        ("segment001.mp4", without_probe),  # every frame…
        ("segment001.mp4", without_probe),  # …and keyframes only
    ]


def test_a_clip_file_that_is_not_footage_or_not_a_file_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    """Files replaced since the plan: a FIFO (opening it would wait for a writer, and every
    camera's replay with it), a link to /dev/zero and bytes that are not video."""
    os.mkfifo(tmp_path / "fifo.mp4")
    (tmp_path / "zero.mp4").symlink_to("/dev/zero")
    (tmp_path / "junk.mp4").write_bytes(b"not a video " * 1000)
    names = ("fifo.mp4", "zero.mp4", "junk.mp4")
    spans = [ClipSpan(n, name, at(10 * n), at(10 * n + 10), True) for n, name in enumerate(names)]
    reader = ClipFrameReader("gate", spans, tmp_path, SimulatedClock())
    reasons: list[str] = []

    def look() -> None:
        reasons.extend(reader.frame_at(at(10 * n + 5)).reason for n in range(len(names)))

    worker = threading.Thread(target=look, daemon=True)
    worker.start()
    worker.join(60)
    waited = worker.is_alive()
    if waited:  # stuck opening the FIFO: a writer lets it go, then the test fails
        os.close(os.open(tmp_path / "fifo.mp4", os.O_WRONLY | os.O_NONBLOCK))
        worker.join(60)
    reader.close()
    assert not waited, "the reader waited on a FIFO"
    assert reasons == [f"cannot open clip: {name}" for name in names]


def test_a_camera_tipped_into_keyframes_by_a_busy_moment_tries_every_frame_again(
    footage: tuple[ReplayPlan, list[np.ndarray]],
) -> None:
    """At 1×, a measured cost that a busy machine pushed over a camera's share tips it into
    keyframes; that cost is not measured there, so it is taken to fall with each keyframe
    shown, and the camera comes back to every frame (it stayed on keyframes for good)."""
    plan, _ = footage
    clock = SimulatedClock()
    reader = ClipFrameReader("gate", plan.clips["gate"], plan.media_root, clock)
    share = DECODE_BUDGET / 4  # one of four cameras
    try:
        assert reader.frame_at(at(1), None).frame is not None
        reader.grab_cost_s = 0.05  # 15 fps × 50 ms: three times the share
        modes = []
        for tenth in range(20, 200):  # 18 s of playing at 1×, the clock driving it
            clock.advance(0.1)
            reader.frame_at(at(tenth / 10), speed=1.0, share=share)
            modes.append(reader.keyframes_only)
        assert modes[0] and not modes[-1], modes
        back = modes.index(False)
        # Every frame again after about 10 s (the cost halves every 5 s), and it stays so:
        # the frames decoded now measure what they really cost on this machine.
        assert 80 <= back <= 120 and all(modes[:back]) and not any(modes[back:]), back
    finally:
        reader.close()
