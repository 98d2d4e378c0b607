"""A gesture taught from 3 performances is recognised in held-out performances of it and not
in everyday motions: the kinematic part of the gesture accuracy benchmark on one seed and a
small set (7 gestures × 3 taught + 3 held-out, 20 everyday motions once each), played
through the live worker's windows and ``GestureSet.match`` at the default confidence.

Held-out recall on this small set swings with the seed (0.43–0.81 over seeds 0–5) and every
everyday motion fires some gesture, so the issue's floors are asserted as a strict xfail
naming the matcher's weakness: fixing it makes that test pass, and xfail_strict then asks
for the marker to go."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.gesture_accuracy import (
    Labelled,
    PoseSet,
    build_pose_set,
    play,
    poses_at_worker_rate,
    score,
    teach_templates,
)
from benchmarks.pose_set.kinematics import (
    GESTURES,
    NON_GESTURES,
    Recording,
    make_camera,
    make_performer,
    perform,
)
from engine.gestures.sequence import LANDMARKS
from engine.gestures.templates import GestureSet

SEED = 3


@pytest.fixture(scope="module")
def pose_set() -> PoseSet:
    return build_pose_set(SEED, performances=6, repeats=1)


@pytest.fixture(scope="module")
def gestures(pose_set: PoseSet) -> GestureSet:
    templates, _ = teach_templates(pose_set.teach, mirror=False)
    return GestureSet(templates)  # the default confidence, 0.7


def _played(gestures: GestureSet, recordings: list[Recording]) -> list[Labelled]:
    return [
        Labelled(
            r.label if r.gesture else None,
            "held_out" if r.gesture else "everyday",
            r.label,
            play(gestures, poses_at_worker_rate(r, 0)),
        )
        for r in recordings
    ]


def test_taught_performances_seen_live_are_their_gesture(
    pose_set: PoseSet, gestures: GestureSet
) -> None:
    # The same recordings the examples were cut from, as the worker sees them (10 Hz poses,
    # every window length): each one's most confident window names its own gesture.
    taught = [r for recordings in pose_set.teach.values() for r in recordings]
    scored = score(_played(gestures, taught), gestures.names, gestures.min_confidence)
    wrong = {k: v for k, v in scored["confusion"].items() if k.split(">")[0] != k.split(">")[1]}
    assert not wrong


@pytest.mark.xfail(
    strict=True,
    reason="engine/gestures/dtw.py's calibration (a gesture's median nearest-own-example "
    "distance scores 0.85) accepts everyday motions: their nearest gesture is as close as "
    "the gesture's own performances are to each other (benchmarks/gesture_accuracy.py, "
    "'calibration')",
)
def test_held_out_performances_are_recognised_and_everyday_motions_are_not(
    pose_set: PoseSet, gestures: GestureSet
) -> None:
    samples = _played(gestures, [*pose_set.held_out, *pose_set.everyday])
    assert len(samples) == len(GESTURES) * 3 + len(NON_GESTURES)
    scored = score(samples, gestures.names, gestures.min_confidence)
    assert scored["recall"] >= 0.8, scored["confusion"]
    assert scored["false_everyday"] == 0, scored["false_motions"]


def test_the_kinematic_recordings_look_like_the_landmarkers_output() -> None:
    rng = np.random.default_rng(0)
    body = make_performer(rng)
    recording = perform("wave", body, 0, make_camera(rng), rng)
    frames = recording.frames[recording.found]
    assert frames.shape[1:] == (LANDMARKS, 3)
    hips = (frames[:, 23, :2] + frames[:, 24, :2]) / 2
    shoulders = (frames[:, 11, :2] + frames[:, 12, :2]) / 2
    assert (shoulders[:, 1] < hips[:, 1]).all()  # image y grows downwards
    start, end = recording.span
    wrist = recording.frames[start:end, 16 if recording.hand < 0 else 15, 1]
    nose = recording.frames[start:end, 0, 1]
    assert np.nanmin(wrist - nose) < 0  # a waving hand rises above the head
