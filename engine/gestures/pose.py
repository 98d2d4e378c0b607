"""Body pose of one person: MediaPipe's 33 pose landmarks, found on a crop of their box.

:class:`PoseEstimator` wraps MediaPipe Tasks' ``PoseLandmarker`` with the model shipped in
``resources/models`` (:data:`resources.POSE_LANDMARKER_TASK`). It looks at a crop of the
person's box (with a margin, so arms raised above the head or held out stay in view;
upscaled when small) and returns the landmarks in the coordinates of the whole frame, so
that a track's poses over time describe where its body moved.

Two modes: an *image* estimator treats each call on its own (any crops, any order); a
*video* estimator follows one person through increasing times, which lets MediaPipe track
the body from the previous pose instead of searching for it again (about 16 ms a crop here
instead of 28 ms) and smooth the landmarks over time. Feed a video estimator one track
only. An estimator is not thread-safe: one per thread, closed with :meth:`close` (or as a
context manager) when done.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.gestures.sequence import LANDMARKS, Landmarks
from resources import POSE_LANDMARKER_TASK

Image = npt.NDArray[np.uint8]

POSE_MARGIN: Final = 0.25  # crop this fraction of the box's size beyond each side: raised arms
MIN_CROP_PX: Final = 256  # crops shorter than this are upscaled to it (the landmark model's input)
MIN_BOX_PX: Final = 8  # a box narrower or shorter than this holds no body to look at
MIN_POSE_CONFIDENCE: Final = 0.5  # MediaPipe's detection, presence and tracking thresholds
NEW_PERSON_GAP_MS: Final = 10_000  # smoothing over a gap this long keeps nothing of before


class PixelBox(Protocol):
    """A box in frame pixels (as :class:`engine.vision.geometry.Box`): left ``x``, top
    ``y``, width ``w``, height ``h``."""

    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def w(self) -> float: ...
    @property
    def h(self) -> float: ...


class PoseUnavailableError(RuntimeError):
    """Pose estimation cannot run here: mediapipe is not installed, or the model is missing
    or unreadable. The message says which and where."""


class PoseInputError(ValueError):
    """An image or box the estimator cannot look at; the message names what was wrong."""


@dataclass(frozen=True, slots=True)
class Pose:
    """One person's pose in a frame: ``landmarks`` ``(33, 3)`` float32 in frame pixels
    (x right, y down; z, the depth relative to the hips, scaled like x) and each
    landmark's ``visibility`` ``(33,)`` (0–1, how likely it is in view and not hidden)."""

    landmarks: Landmarks
    visibility: npt.NDArray[np.float32]


class PoseEstimator:
    """MediaPipe's pose landmarker on crops of person boxes (see the module docstring).

    ``video=True``: calls follow one person through increasing ``at_s``; else each call
    stands alone. :class:`PoseUnavailableError` if mediapipe or ``model`` cannot be loaded.
    """

    def __init__(
        self,
        model: Path = POSE_LANDMARKER_TASK,
        *,
        video: bool = False,
        min_confidence: float = MIN_POSE_CONFIDENCE,
    ) -> None:
        self.model = model
        self.video = video
        self._last_ms = -1  # the last video timestamp given to MediaPipe (ms)
        self._offset_ms = 0  # added to frame times: moved on for each new person followed
        self._new_person = False
        self._mp: Any = None
        self._landmarker: Any = None
        if not model.is_file():
            raise PoseUnavailableError(f"pose model missing: {model}")
        # MediaPipe's native log (absl) writes a few lines per landmarker to stderr.
        os.environ.setdefault("GLOG_minloglevel", "2")
        try:
            import mediapipe as mp  # type: ignore[import-untyped]
            from mediapipe.tasks.python import (  # type: ignore[import-untyped]
                BaseOptions,
                vision,
            )
        except ImportError as exc:  # a build without mediapipe: gestures off, said why
            raise PoseUnavailableError(f"pose estimation needs mediapipe: {exc}") from exc
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_poses=1,
            min_pose_detection_confidence=min_confidence,
            min_pose_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (OSError, ValueError, RuntimeError) as exc:
            raise PoseUnavailableError(f"pose model unreadable: {model}: {exc}") from exc
        self._mp = mp

    def estimate(
        self, image_bgr: Image, box: PixelBox | None = None, *, at_s: float | None = None
    ) -> Pose | None:
        """The pose of the person in ``box`` (frame pixels; None: the whole image) of
        ``image_bgr`` (uint8 BGR, height × width × 3), in frame pixels; None when no body
        is found. A video estimator needs ``at_s``, the frame's time in seconds (a time not
        after the previous one is moved just after it). :class:`PoseInputError` names a bad
        image or box; :class:`RuntimeError` once closed."""
        if self._landmarker is None:
            raise RuntimeError("pose estimator: closed")
        image = np.asarray(image_bgr)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise PoseInputError(
                f"image: expected a BGR uint8 array (height, width, 3), got {image.dtype} "
                f"{image.shape}"
            )
        (left, top), crop = crop_around(image, box)
        crop_h, crop_w = crop.shape[:2]
        cv2 = import_cv2()
        if crop_h < MIN_CROP_PX:
            scale = MIN_CROP_PX / crop_h
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        rgb = np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        picture = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        if self.video:
            if at_s is None:
                raise PoseInputError("at_s: a video pose estimator needs the frame's time")
            at_ms = round(at_s * 1000.0) + self._offset_ms
            # MediaPipe needs increasing times; a new person starts well after the last
            # one so that its landmark smoothing does not blend the two.
            floor = self._last_ms + (NEW_PERSON_GAP_MS if self._new_person else 1)
            if at_ms < floor:
                self._offset_ms += floor - at_ms
                at_ms = floor
            self._last_ms, self._new_person = at_ms, False
            result = self._landmarker.detect_for_video(picture, at_ms)
        else:
            result = self._landmarker.detect(picture)
        if not result.pose_landmarks:
            return None
        found = result.pose_landmarks[0]
        if len(found) != LANDMARKS:
            return None
        raw = np.array(
            [(p.x, p.y, p.z, p.visibility or 0.0) for p in found], dtype=np.float64
        ).reshape(LANDMARKS, 4)
        landmarks = np.empty((LANDMARKS, 3), dtype=np.float32)
        landmarks[:, 0] = left + raw[:, 0] * crop_w
        landmarks[:, 1] = top + raw[:, 1] * crop_h
        landmarks[:, 2] = raw[:, 2] * crop_w  # MediaPipe: z on roughly the scale of x
        if not np.isfinite(landmarks).all():
            return None
        return Pose(landmarks, raw[:, 3].astype(np.float32))

    def follow_new_person(self) -> None:
        """A video estimator's next crop shows someone else (its landmarker is reused for
        another track): their poses are not smoothed with the previous person's. If the
        previous pose's region holds no body, MediaPipe searches the crop again."""
        self._new_person = True

    def close(self) -> None:
        """Release the landmarker (its native graph and threads). Idempotent."""
        landmarker, self._landmarker = self._landmarker, None
        if landmarker is not None:
            landmarker.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def crop_around(image: Image, box: PixelBox | None) -> tuple[tuple[int, int], Image]:
    """((left, top), pixels) of ``box`` grown by :data:`POSE_MARGIN` on each side and
    clipped to ``image`` (a view, not a copy; the whole image for None).
    :class:`PoseInputError` for a box with no room for a body in the image."""
    height, width = image.shape[:2]
    if box is None:
        if height < MIN_BOX_PX or width < MIN_BOX_PX:
            raise PoseInputError(f"image: {width}×{height} px is too small for a body")
        return (0, 0), image
    values = (box.x, box.y, box.w, box.h)
    if not all(math.isfinite(v) for v in values) or box.w < MIN_BOX_PX or box.h < MIN_BOX_PX:
        raise PoseInputError(
            f"box: expected at least {MIN_BOX_PX}×{MIN_BOX_PX} px, got {box.w:g}×{box.h:g} "
            f"at ({box.x:g}, {box.y:g})"
        )
    x0 = max(0, round(box.x - POSE_MARGIN * box.w))
    y0 = max(0, round(box.y - POSE_MARGIN * box.h))
    x1 = min(width, round(box.x + (1 + POSE_MARGIN) * box.w))
    y1 = min(height, round(box.y + (1 + POSE_MARGIN) * box.h))
    if x1 - x0 < MIN_BOX_PX or y1 - y0 < MIN_BOX_PX:
        raise PoseInputError(
            f"box: ({box.x:g}, {box.y:g}) {box.w:g}×{box.h:g} px is outside the "
            f"{width}×{height} image"
        )
    return (x0, y0), image[y0:y1, x0:x1]
