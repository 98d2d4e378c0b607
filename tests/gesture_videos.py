"""Teaching videos made of real footage: a movement of the speaker in the Hamilton clip (his
arm sweeping out and back, frames :data:`MOVE`) repeated with pauses between repetitions and
a change of pace, as a person asked to "perform it three times" would. Real pixels of a real
person, so the real pose landmarker and person detector see them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.cv import import_cv2
from tests.conftest import TESTDATA

CLIP = TESTDATA / "video" / "short_hamilton_clip.mp4"
MOVE = (106, 128)  # frames of the clip: the speaker's arm sweeps out (found on every frame)
STILL = 180  # a frame of the same shot where he stands nearly still
FPS = 29.97


def _frames(first: int, last: int) -> list[np.ndarray]:
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(CLIP))
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, first)
        frames = []
        for _ in range(first, last + 1):
            ok, frame = capture.read()
            assert ok, f"{CLIP}: frame missing"
            frames.append(frame)
        return frames
    finally:
        capture.release()


def repetition(pace: float = 1.0) -> list[np.ndarray]:
    """The movement out and back once, played at ``pace`` (1: as filmed)."""
    out = _frames(*MOVE)
    there_and_back = out + out[::-1]
    picks = np.round(np.arange(0, len(there_and_back) - 0.5, pace)).astype(int)
    return [there_and_back[i] for i in picks]


def teaching_video(
    path: Path, paces: tuple[float, ...] = (1.0, 0.85, 1.2), hold_s: float = 0.8
) -> Path:
    """A video of the movement once per pace, each repetition between pauses of ``hold_s``
    (the first frame held still)."""
    cv2 = import_cv2()
    reps = [repetition(p) for p in paces]
    rest = reps[0][0]
    height, width = rest.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (width, height))
    try:
        hold = [rest] * round(hold_s * FPS)
        for rep in reps:
            for frame in [*hold, *rep]:
                writer.write(frame)
        for frame in hold:
            writer.write(frame)
    finally:
        writer.release()
    return path


def still_speaker_video(path: Path, seconds: float = 30.0, frame: int = STILL) -> Path:
    """The speaker standing in view: one frame of the clip held for ``seconds`` (a person
    tracked and recognised by face for as long as a test needs)."""
    cv2 = import_cv2()
    (picture,) = _frames(frame, frame)
    height, width = picture.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (width, height))
    try:
        for _ in range(round(seconds * 10)):
            writer.write(picture)
    finally:
        writer.release()
    return path
