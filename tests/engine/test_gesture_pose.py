"""Pose landmarks of people on real photos and video frames (MediaPipe's pose landmarker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.cv import import_cv2
from engine.gestures.pose import (
    POSE_MARGIN,
    Pose,
    PoseEstimator,
    PoseInputError,
    PoseUnavailableError,
)
from engine.gestures.sequence import LEFT_SHOULDER, RIGHT_SHOULDER
from engine.vision.detect import make_detector
from engine.vision.geometry import Box
from tests.conftest import TESTDATA

FACES = TESTDATA / "faces"
NOSE = 0
SHOULDERS = (LEFT_SHOULDER, RIGHT_SHOULDER)


@pytest.fixture(scope="module")
def estimator() -> Iterator[PoseEstimator]:
    with PoseEstimator() as pose:
        yield pose


def read(path: Path) -> np.ndarray:
    image: np.ndarray | None = import_cv2().imread(str(path))
    assert image is not None, path
    return image


def inside(points: np.ndarray, box: Box, margin: float = 0.0) -> np.ndarray:
    x0, y0 = box.x - margin * box.w, box.y - margin * box.h
    x1, y1 = box.x + (1 + margin) * box.w, box.y + (1 + margin) * box.h
    return (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)


def assert_pose_of(pose: Pose | None, box: Box) -> None:
    """The pose is a body in ``box``: float32 frame pixels, the nose and shoulders inside
    the box, every visible landmark inside the crop the estimator looked at (hips below
    the picture's edge are guessed outside it, with a low visibility)."""
    assert pose is not None
    assert pose.landmarks.shape == (33, 3) and pose.landmarks.dtype == np.float32
    assert pose.visibility.shape == (33,) and pose.visibility.dtype == np.float32
    assert inside(pose.landmarks[[NOSE, *SHOULDERS]], box).all()
    visible = pose.landmarks[pose.visibility > 0.5]
    assert inside(visible, box, POSE_MARGIN).all()


def test_each_person_in_a_photo_gets_their_own_pose_in_frame_pixels(
    estimator: PoseEstimator,
) -> None:
    image = read(FACES / "two_people.jpg")
    boxes = sorted((d.box for d in make_detector(None).detect(image, None)), key=lambda b: b.x)
    assert len(boxes) == 2
    poses = [estimator.estimate(image, box) for box in boxes]
    for pose, box in zip(poses, boxes, strict=True):
        assert_pose_of(pose, box)
    left, right = (p.landmarks[NOSE, 0] for p in poses if p is not None)
    assert left < image.shape[1] / 2 < right  # the left person's nose, then the right one's


def test_a_whole_photo_and_a_small_upscaled_crop_give_the_same_body(
    estimator: PoseEstimator,
) -> None:
    image = read(FACES / "obama3.jpg")  # 1434×2333: one man, head and torso
    height, width = image.shape[:2]
    whole = estimator.estimate(image)
    assert_pose_of(whole, Box(0, 0, width, height))
    assert whole is not None
    assert whole.landmarks[NOSE, 1] < height / 3
    small = import_cv2().resize(image, (width // 8, height // 8))  # 179×291, upscaled inside
    reduced = estimator.estimate(small)
    assert reduced is not None
    torso_px = np.linalg.norm(
        whole.landmarks[LEFT_SHOULDER, :2] - whole.landmarks[RIGHT_SHOULDER, :2]
    )
    drift = np.linalg.norm(
        reduced.landmarks[[NOSE, *SHOULDERS], :2] * 8 - whole.landmarks[[NOSE, *SHOULDERS], :2],
        axis=1,
    )
    assert drift.max() < 0.25 * torso_px


def test_people_in_video_frames_have_their_landmarks_in_their_boxes(hamilton_clip: Path) -> None:
    cv2 = import_cv2()
    detector = make_detector(None)
    capture = cv2.VideoCapture(str(hamilton_clip))
    found = 0
    with PoseEstimator(video=True) as tracker:
        for index in range(120, 150, 3):  # one second of a person on stage, at 10 Hz
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = capture.read()
            assert ok
            people = [d.box for d in detector.detect(frame, None)]
            assert people
            box = max(people, key=lambda b: b.h * b.w)
            pose = tracker.estimate(frame, box, at_s=index / 29.97)
            if pose is not None:
                assert_pose_of(pose, box)
                found += 1
    capture.release()
    assert found >= 8


def test_no_body_is_none(estimator: PoseEstimator) -> None:
    wall = np.full((300, 200, 3), 128, np.uint8)
    assert estimator.estimate(wall) is None
    assert estimator.estimate(wall, Box(50, 50, 100, 200)) is None


@pytest.mark.parametrize(
    ("image", "box", "named"),
    [
        (np.zeros((100, 100), np.uint8), None, "image: expected a BGR uint8 array"),
        (np.zeros((100, 100, 3), np.float32), None, "image: expected a BGR uint8 array"),
        (np.zeros((4, 4, 3), np.uint8), None, "too small for a body"),
        (np.zeros((100, 100, 3), np.uint8), Box(10, 10, 2, 50), "box: expected at least"),
        (np.zeros((100, 100, 3), np.uint8), Box(500, 500, 50, 50), "outside the 100×100 image"),
        (np.zeros((100, 100, 3), np.uint8), Box(float("nan"), 0, 50, 50), "box: expected"),
    ],
)
def test_bad_input_is_named(
    estimator: PoseEstimator, image: np.ndarray, box: Box | None, named: str
) -> None:
    with pytest.raises(PoseInputError, match=named):
        estimator.estimate(image, box)


def test_a_video_estimator_needs_frame_times_and_a_closed_one_says_so() -> None:
    image = read(FACES / "obama3.jpg")
    tracker = PoseEstimator(video=True)
    with pytest.raises(PoseInputError, match="at_s"):
        tracker.estimate(image)
    assert tracker.estimate(image, at_s=1.0) is not None
    assert tracker.estimate(image, at_s=1.0) is not None  # the same time again: moved on 1 ms
    tracker.close()
    tracker.close()
    with pytest.raises(RuntimeError, match="closed"):
        tracker.estimate(image, at_s=2.0)


def test_a_missing_or_unreadable_model_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "pose_landmarker.task"
    with pytest.raises(PoseUnavailableError, match=f"pose model missing: {missing}"):
        PoseEstimator(missing)
    missing.write_bytes(b"not a model bundle" * 100)
    with pytest.raises(PoseUnavailableError, match="pose model unreadable"):
        PoseEstimator(missing)
