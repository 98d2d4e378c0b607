"""Gesture examples from recorded poses: a video file or frames from a camera become a
series of one person's poses, and the series is cut into examples, one per repetition.

A repetition is a burst of movement of the limbs relative to the torso (so walking across
the picture is not movement, waving is): frames whose limbs move faster than
:data:`ACTIVE_SPEED` torso lengths a second, bursts closer than :data:`JOIN_GAP_S` joined,
padded by :data:`PAD_S` each side. An example whose span lost the person (no pose found,
or the upper body hidden) is refused with the time it happened, so nothing half-seen is
taught. Any thread; the pose estimator is the caller's (one per thread).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.gestures.library import MAX_EXAMPLE_S, MIN_EXAMPLE_S
from engine.gestures.pose import Pose, PoseEstimator
from engine.gestures.sequence import (
    LANDMARKS,
    LEFT_HIP,
    LEFT_SHOULDER,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    Landmarks,
    normalise,
)

ACTIVE_SPEED: Final = 1.2  # torso lengths a second; a person talking moves 0.5–1 (measured)
JOIN_GAP_S: Final = 0.6  # bursts of movement this close are one repetition (a raise, a
# short hold and the lowering are one); pause longer than this between repetitions
PAD_S: Final = 0.1  # kept before and after a repetition
LAG_S: Final = 0.2  # speed is measured over this (landmark jitter then barely counts)
MIN_VISIBLE: Final = 0.5  # an upper-body landmark less visible than this is hidden
MAX_MISSING_S: Final = 0.2  # a repetition may miss the person for at most this long
# Where movement is measured: nose, elbows, wrists, knees, ankles (relative to the hips).
MOVING: Final = (0, 13, 14, 15, 16, 25, 26, 27, 28)
UPPER_BODY: Final = (11, 12, 13, 14, 15, 16)  # shoulders and arms stay in view while teaching
MAX_VIDEO_S: Final = 120.0  # a teaching video longer than this is refused (it is one gesture)

Progress = Callable[[float], None]  # 0–1


class TeachError(ValueError):
    """Examples could not be taken; the message names the file or camera and the moment."""


@dataclass(frozen=True, slots=True)
class PoseSeries:
    """One person's poses over time: ``times_s`` (n,), ``landmarks`` (n, 33, 3) in image
    pixels and ``visibility`` (n, 33), NaN / 0 where no pose was found; ``source`` names
    where it came from (a file, or a camera and time)."""

    source: str
    times_s: npt.NDArray[np.float64]
    landmarks: npt.NDArray[np.float32]
    visibility: npt.NDArray[np.float32]

    @property
    def found(self) -> npt.NDArray[np.bool_]:
        """Per frame: a pose was found and its upper body is in view."""
        seen = np.isfinite(self.landmarks).all(axis=(1, 2))
        visible = (self.visibility[:, UPPER_BODY] >= MIN_VISIBLE).all(axis=1)
        result: npt.NDArray[np.bool_] = np.logical_and(seen, visible)
        return result


@dataclass(frozen=True, slots=True)
class RecordedExample:
    """One repetition: its raw ``frames`` (k, 33, 3), when it started in its source and
    how long it lasted."""

    source: str
    start_s: float
    duration_s: float
    frames: Landmarks

    def normalised(self) -> Landmarks:
        """The repetition as a gesture example: normalised to 30 frames."""
        return normalise(self.frames)

    @property
    def label(self) -> str:
        """Where it came from, for the library (``clip.mp4 @ 1.20–2.35 s``)."""
        return f"{self.source} @ {self.start_s:.2f}–{self.start_s + self.duration_s:.2f} s"


def series_from_poses(source: str, poses: Iterable[tuple[float, Pose | None]]) -> PoseSeries:
    """A series from (time, pose or None) pairs in time order."""
    times, marks, seen = [], [], []
    for at, pose in poses:
        times.append(at)
        if pose is None:
            marks.append(np.full((LANDMARKS, 3), np.nan, dtype=np.float32))
            seen.append(np.zeros(LANDMARKS, dtype=np.float32))
        else:
            marks.append(pose.landmarks.astype(np.float32))
            seen.append(pose.visibility.astype(np.float32))
    if not times:
        raise TeachError(f"{source}: no frames")
    return PoseSeries(
        source,
        np.asarray(times, dtype=np.float64),
        np.stack(marks),
        np.stack(seen),
    )


def poses_from_video(
    path: Path,
    estimator: PoseEstimator,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PoseSeries:
    """The pose of the one person in a teaching video, frame by frame (``estimator`` should
    be a video estimator: it follows the person). :class:`TeachError` for a file that is
    missing, not a video, empty or too long."""
    if not path.is_file():
        raise TeachError(f"{path}: no such video file")
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise TeachError(f"{path}: not a video this program can read")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if not 1.0 <= fps <= 240.0:
            fps = 30.0
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if total / fps > MAX_VIDEO_S:
            raise TeachError(
                f"{path}: {total / fps:.0f} s long; a teaching video holds one to five "
                f"repetitions of one gesture (at most {MAX_VIDEO_S:.0f} s)"
            )
        poses: list[tuple[float, Pose | None]] = []
        index = 0
        while True:
            if cancelled is not None and cancelled():
                raise TeachError(f"{path}: cancelled")
            ok, frame = capture.read()
            if not ok:
                break
            at = index / fps
            poses.append((at, estimator.estimate(frame, at_s=at)))
            index += 1
            if progress is not None and total > 0 and index % 5 == 0:
                progress(min(1.0, index / total))
        if not poses:
            raise TeachError(f"{path}: no frames could be read (empty or corrupt video)")
        return series_from_poses(path.name, poses)
    finally:
        capture.release()


def limb_speed(series: PoseSeries) -> npt.NDArray[np.float64]:
    """Per frame, how fast the fastest limb moves relative to the hips, in torso lengths a second
    (NaN where no pose): the distance moved over :data:`LAG_S` around it, so that the
    landmarks' frame-to-frame jitter does not pass for movement."""
    marks = series.landmarks[:, :, :2].astype(np.float64)
    hips = (marks[:, LEFT_HIP] + marks[:, RIGHT_HIP]) / 2.0
    shoulders = (marks[:, LEFT_SHOULDER] + marks[:, RIGHT_SHOULDER]) / 2.0
    torso = np.linalg.norm(shoulders - hips, axis=1)
    speed = np.full(len(series.times_s), np.nan)
    if not np.isfinite(torso).any() or len(speed) < 2:
        return speed
    relative = (marks[:, MOVING] - hips[:, None, :]) / float(np.nanmedian(torso))
    times = series.times_s
    earlier = np.searchsorted(times, times - LAG_S / 2, side="left")  # centred on the frame
    later = np.minimum(np.searchsorted(times, times + LAG_S / 2, side="right") - 1, len(times) - 1)
    usable = times[later] - times[earlier] > 0
    # The fastest limb: one hand waving is a gesture while the rest stands still.
    moved = np.linalg.norm(relative[later] - relative[earlier], axis=2).max(axis=1)
    speed[usable] = moved[usable] / (times[later] - times[earlier])[usable]
    return speed


def _bursts(times: npt.NDArray[np.float64], active: npt.NDArray[np.bool_]) -> list[list[int]]:
    """[first, last] frame indices of runs of active frames, runs closer than JOIN_GAP_S
    joined."""
    runs: list[list[int]] = []
    for index in np.flatnonzero(active):
        if runs and times[index] - times[runs[-1][1]] <= JOIN_GAP_S:
            runs[-1][1] = int(index)
        else:
            runs.append([int(index), int(index)])
    return runs


def split_examples(series: PoseSeries) -> list[RecordedExample]:
    """The repetitions in ``series``, in order. :class:`TeachError` when there is no
    movement, when a repetition lasts too long or is too short to be a gesture, or when
    the person was lost during one (naming the moment)."""
    found = series.found
    if not found.any():
        raise TeachError(f"{series.source}: no person seen (nobody in view, or too small)")
    speed = limb_speed(series)
    active = np.nan_to_num(speed, nan=0.0) > ACTIVE_SPEED
    runs = _bursts(series.times_s, active)
    if not runs:
        raise TeachError(
            f"{series.source}: no movement seen; perform the gesture clearly, facing the camera"
        )
    times = series.times_s
    examples = []
    for first, last in runs:
        start_t, end_t = times[first] - PAD_S, times[last] + PAD_S
        span = np.flatnonzero((times >= start_t) & (times <= end_t))
        duration = float(times[span[-1]] - times[span[0]])
        if duration < MIN_EXAMPLE_S:
            continue  # a twitch, not a repetition
        if duration > MAX_EXAMPLE_S:
            raise TeachError(
                f"{series.source}: the movement from {times[span[0]]:.1f} s to "
                f"{times[span[-1]]:.1f} s lasts {duration:.1f} s; one repetition lasts "
                f"{MIN_EXAMPLE_S}–{MAX_EXAMPLE_S:g} s (pause between repetitions)"
            )
        span = _trim_lost_edges(span, found, times)
        duration = float(times[span[-1]] - times[span[0]]) if len(span) > 1 else 0.0
        if duration < MIN_EXAMPLE_S:
            continue
        missing = ~found[span]
        if missing.any():
            lost_s = _longest_run(missing) * (duration / max(len(span) - 1, 1))
            if lost_s > MAX_MISSING_S or missing[0] or missing[-1]:
                at = times[span[int(np.argmax(missing))]]
                raise TeachError(
                    f"{series.source}: the person left the frame (or turned away) at "
                    f"{at:.1f} s, during a repetition; record it again with the whole "
                    "upper body in view"
                )
        frames = _fill_gaps(series.landmarks[span], found[span])
        examples.append(RecordedExample(series.source, float(times[span[0]]), duration, frames))
    if not examples:
        raise TeachError(
            f"{series.source}: only twitches seen (shorter than {MIN_EXAMPLE_S} s); perform "
            "the whole gesture"
        )
    return examples


def _trim_lost_edges(
    span: npt.NDArray[np.intp], found: npt.NDArray[np.bool_], times: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """``span`` without frames at either end where the person was briefly lost (at most
    :data:`MAX_MISSING_S`, the padding around a movement): a wrist missed for a frame as the
    movement starts or ends is no reason to refuse it. Longer losses stay, to be refused."""
    first, last = 0, len(span) - 1
    while first < last and not found[span[first]]:
        first += 1
    while last > first and not found[span[last]]:
        last -= 1
    if times[span[first]] - times[span[0]] > MAX_MISSING_S:
        first = 0
    if times[span[-1]] - times[span[last]] > MAX_MISSING_S:
        last = len(span) - 1
    return span[first : last + 1]


def _longest_run(mask: npt.NDArray[np.bool_]) -> int:
    best = current = 0
    for value in mask:
        current = current + 1 if value else 0
        best = max(best, current)
    return best


def _fill_gaps(frames: npt.NDArray[np.float32], found: npt.NDArray[np.bool_]) -> Landmarks:
    """Frames where the pose was briefly lost, interpolated from their neighbours."""
    if found.all():
        return frames.copy()
    index = np.arange(len(frames))
    flat = frames.reshape(len(frames), -1).astype(np.float64)
    out = np.empty_like(flat)
    for column in range(flat.shape[1]):
        out[:, column] = np.interp(index, index[found], flat[found, column])
    result: Landmarks = out.reshape(frames.shape).astype(np.float32)
    return result


def examples_from_videos(
    paths: Iterable[Path],
    estimator_factory: Callable[[], PoseEstimator],
    *,
    progress: Progress | None = None,
) -> list[RecordedExample]:
    """Every repetition in each video (one person each), in order; :class:`TeachError`
    names the first video that cannot be used."""
    paths = list(paths)
    examples: list[RecordedExample] = []
    for number, path in enumerate(paths):

        def step(fraction: float, number: int = number) -> None:
            if progress is not None:
                progress((number + fraction) / len(paths))

        with estimator_factory() as estimator:
            series = poses_from_video(path, estimator, progress=step)
        examples += split_examples(series)
    if progress is not None:
        progress(1.0)
    return examples


def typical_duration(examples: Iterable[RecordedExample]) -> float:
    durations = [e.duration_s for e in examples]
    return float(np.median(durations)) if durations else math.nan
