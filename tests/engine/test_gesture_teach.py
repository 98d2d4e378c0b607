"""Taking gesture examples from recorded poses: a series cut into one example per
repetition, with stillness and walking not counted as movement, and every way a teaching
recording can be unusable refused with the moment named (nobody, no movement, a movement too
long, the person leaving mid-repetition, a file that is not a video). The video cases run
the real pose landmarker on real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.gestures.pose import PoseEstimator
from engine.gestures.sequence import LEFT_HIP, RIGHT_HIP, SEQUENCE_FRAMES
from engine.gestures.teach import (
    ACTIVE_SPEED,
    PoseSeries,
    TeachError,
    examples_from_videos,
    limb_speed,
    poses_from_video,
    split_examples,
)
from tests.conftest import TESTDATA
from tests.gesture_motions import motion

FPS = 30.0


def placed(kind: str, frames: int, seed: int, shift_x: float = 0.0) -> np.ndarray:
    """``kind`` performed by a person ~300 px tall standing at (300 + shift_x, 300)."""
    flat = motion(kind, seed, frames=frames)
    hips = (flat[:, LEFT_HIP] + flat[:, RIGHT_HIP]) / 2.0
    flat = (flat - hips.mean(axis=0)) / np.ptp(flat[:, :, 1], axis=1).mean() * 300 + 300
    flat[..., 0] += shift_x
    return np.concatenate([flat, np.zeros((*flat.shape[:2], 1))], axis=2)


def series(*parts: np.ndarray, visibility: np.ndarray | None = None) -> PoseSeries:
    frames = np.concatenate(parts).astype(np.float32)
    seen = np.ones(frames.shape[:2], dtype=np.float32) if visibility is None else visibility
    return PoseSeries("drill.mp4", np.arange(len(frames)) / FPS, frames, seen)


def test_each_repetition_becomes_one_example() -> None:
    recorded = series(
        placed("still", 30, 1),
        placed("wave", 36, 2),
        placed("still", 30, 3),
        placed("raise", 30, 4),
        placed("still", 30, 5),
    )
    first, second = split_examples(recorded)
    assert 0.75 <= first.start_s <= 1.0 and 1.2 <= first.duration_s <= 1.7  # 1.2 s, padded
    assert 3.0 <= second.start_s <= 3.2 and 0.9 <= second.duration_s <= 1.4
    assert first.normalised().shape == (SEQUENCE_FRAMES, 33, 3)
    assert first.label.startswith("drill.mp4 @ ")


def test_walking_across_the_picture_is_not_movement() -> None:
    walk = np.concatenate([placed("still", 1, 7, shift_x=4.0 * i) for i in range(90)])
    speed = limb_speed(series(walk))
    assert np.nanmax(speed) < ACTIVE_SPEED
    with pytest.raises(TeachError, match=r"drill\.mp4: no movement seen"):
        split_examples(series(walk))


def test_a_person_leaving_mid_repetition_is_refused_with_the_moment() -> None:
    frames = [placed("still", 30, 1), placed("wave", 36, 2), placed("still", 30, 3)]
    visibility = np.ones((96, 33), dtype=np.float32)
    visibility[45:60, 16] = 0.1  # the waving wrist leaves the picture for half a second
    with pytest.raises(TeachError, match=r"left the frame .* at 1\.5 s"):
        split_examples(series(*frames, visibility=visibility))
    visibility[45:60] = 1.0
    visibility[47] = 0.0  # one frame lost: filled in from its neighbours
    (example,) = split_examples(series(*frames, visibility=visibility))
    assert np.isfinite(example.frames).all()


def test_a_movement_too_long_or_nobody_in_view_is_refused() -> None:
    waving = np.concatenate([placed("wave", 30, seed) for seed in range(8)])
    with pytest.raises(TeachError, match=r"lasts 8\.\d s; one repetition lasts"):
        split_examples(series(waving))
    nobody = np.full((30, 33, 3), np.nan)
    with pytest.raises(TeachError, match="no person seen"):
        split_examples(series(nobody, visibility=np.zeros((30, 33), dtype=np.float32)))


def test_teaching_videos_that_cannot_be_used_are_named(tmp_path: Path) -> None:
    garbage = tmp_path / "broken.mp4"
    garbage.write_bytes(b"\x00\x01not a video" * 100)
    with PoseEstimator(video=True) as estimator:
        with pytest.raises(TeachError, match=r"missing\.mp4: no such video file"):
            poses_from_video(tmp_path / "missing.mp4", estimator)
        with pytest.raises(TeachError, match=r"broken\.mp4: "):
            poses_from_video(garbage, estimator)


@pytest.mark.slow
def test_a_real_video_is_followed_and_a_cut_away_is_named() -> None:
    """The Hamilton clip: a speaker gesturing on stage, then the camera cuts to the
    audience, so no repetition can be taken from its start."""
    clip = TESTDATA / "video" / "short_hamilton_clip.mp4"
    fractions: list[float] = []
    with pytest.raises(TeachError, match=r"short_hamilton_clip\.mp4: the person left the frame"):
        examples_from_videos([clip], lambda: PoseEstimator(video=True), progress=fractions.append)
    assert fractions and all(0.0 <= f <= 1.0 for f in fractions)
    with PoseEstimator(video=True) as estimator:
        recorded = poses_from_video(clip, estimator)
    assert len(recorded.times_s) == 275 and recorded.found[:20].all()


def test_a_raise_held_and_lowered_is_one_repetition() -> None:
    up = placed("raise", 15, 8)
    held = np.repeat(up[-1:], 14, axis=0)  # held up for about half a second
    recorded = series(placed("still", 30, 1), up, held, up[::-1], placed("still", 30, 3))
    (example,) = split_examples(recorded)
    assert 1.3 <= example.duration_s <= 1.8


def test_a_wrist_lost_for_a_frame_as_the_movement_starts_is_no_reason_to_refuse() -> None:
    frames = [placed("still", 30, 1), placed("wave", 36, 2), placed("still", 30, 3)]
    visibility = np.ones((96, 33), dtype=np.float32)
    visibility[27:29, 16] = 0.1  # just before the wave: inside the padding
    (example,) = split_examples(series(*frames, visibility=visibility))
    assert np.isfinite(example.frames).all()
