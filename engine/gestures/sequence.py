"""Pose landmark sequences made comparable: resampled to a fixed length, moved to the torso
and scaled by it, optionally mirrored.

Landmarks are MediaPipe's 33 pose landmarks in image coordinates (x right, y down; any unit,
e.g. pixels or the normalised 0–1 of the landmarker), as an array of shape ``(frames, 33, 2)``
or ``(frames, 33, 3)``. Pure numpy; any thread.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

LANDMARKS: Final = 33  # MediaPipe pose landmarks per person
SEQUENCE_FRAMES: Final = 30  # frames in a gesture sequence (about 1 s at 30 fps)
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 11, 12, 23, 24
# MediaPipe's left/right landmark pairs (eyes, ears, mouth, shoulders, arms, hands, legs, feet),
# swapped when a sequence is mirrored so that a left-hand wave matches a right-hand one.
MIRRORED_PAIRS: Final = (
    (1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18),
    (19, 20), (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32),
)  # fmt: skip
MIN_TORSO: Final = 1e-6  # a torso shorter than this (same unit as the input) has no scale

Landmarks = npt.NDArray[np.float32]


class LandmarkError(ValueError):
    """A landmark sequence that cannot be used; the message says what was wrong."""


def check_landmarks(frames: npt.ArrayLike) -> Landmarks:
    """``frames`` as float32 ``(frames, 33, 2|3)``; :class:`LandmarkError` naming the shape
    or the first frame with a missing (non-finite) landmark."""
    array = np.asarray(frames, dtype=np.float32)
    if array.ndim != 3 or array.shape[1] != LANDMARKS or array.shape[2] not in (2, 3):
        raise LandmarkError(
            f"landmarks: expected shape (frames, {LANDMARKS}, 2 or 3), got {array.shape}"
        )
    if array.shape[0] < 2:
        raise LandmarkError(f"landmarks: a sequence needs at least 2 frames, got {array.shape[0]}")
    bad = ~np.isfinite(array).all(axis=(1, 2))
    if bad.any():
        raise LandmarkError(f"landmarks: frame {int(np.argmax(bad))} has a missing landmark")
    return array


def resample(frames: Landmarks, count: int = SEQUENCE_FRAMES) -> Landmarks:
    """``frames`` linearly interpolated to ``count`` frames evenly spread over the same time."""
    source = np.linspace(0.0, 1.0, frames.shape[0])
    target = np.linspace(0.0, 1.0, count)
    flat = frames.reshape(frames.shape[0], -1)
    out = np.empty((count, flat.shape[1]), dtype=np.float32)
    for column in range(flat.shape[1]):
        out[:, column] = np.interp(target, source, flat[:, column])
    return out.reshape((count, *frames.shape[1:]))


def normalise(frames: npt.ArrayLike, count: int = SEQUENCE_FRAMES) -> Landmarks:
    """A checked sequence resampled to ``count`` frames, each frame moved so that the middle
    of the hips is the origin, and the whole sequence divided by its mean torso length
    (hip middle to shoulder middle): translation and scale invariant, while the body's own
    motion relative to its torso (an arm waving, a crouch) stays. :class:`LandmarkError`
    for bad input or a sequence with no torso."""
    array = resample(check_landmarks(frames), count)
    hips = (array[:, LEFT_HIP] + array[:, RIGHT_HIP]) / 2.0
    shoulders = (array[:, LEFT_SHOULDER] + array[:, RIGHT_SHOULDER]) / 2.0
    torso = float(np.linalg.norm(shoulders - hips, axis=1).mean())
    if not torso > MIN_TORSO:
        raise LandmarkError("landmarks: the shoulders and hips coincide (no torso to scale by)")
    result: Landmarks = ((array - hips[:, None, :]) / torso).astype(np.float32)
    return result


def mirror(frames: Landmarks) -> Landmarks:
    """A normalised sequence seen in a mirror: x negated and left and right swapped."""
    out = frames.copy()
    out[..., 0] = -out[..., 0]
    for left, right in MIRRORED_PAIRS:
        out[:, [left, right]] = out[:, [right, left]]
    return out
