"""A gesture taught from one person is recognised on other people and not in everyday
motions: the kinematic part of the gesture accuracy benchmark on one seed and a small set,
in the issue's protocol and the product's own teaching situation: each of the 7 gestures
taught from 3 repetitions by one performer in front of one camera (mirror-invariant, the
product's default), then every performance by 6 other performers (other bodies, cameras at
other angles and distances, other handedness) and 20 everyday motions played through the
live worker's windows and ``GestureSet.match`` at the default confidence.

Measured on this seed (benchmarks/gesture_accuracy.py has the figures over seeds): every
gesture taught, 39 of 42 other people's performances recognised (recall 0.93), precision
0.975, one everyday motion firing (reaching for a shelf, as raise_hand). Before the limb
features and the calibration that leans on the still distance: stop and point refused at
teaching, recall 0.55. The issue's everyday target (no more than one false detection per
10 minutes; these 20 motions are about a minute) is a strict xfail."""

from __future__ import annotations

from typing import Any

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
TEACH = 3


@pytest.fixture(scope="module")
def pose_set() -> PoseSet:
    return build_pose_set(SEED, performances=6, repeats=1)


@pytest.fixture(scope="module")
def gestures() -> GestureSet:
    rng = np.random.default_rng(SEED + 2000)  # the teacher, as the benchmark draws them
    body, camera = make_performer(rng), make_camera(rng)
    teach = {g: [perform(g, body, -1, camera, rng) for _ in range(TEACH)] for g in GESTURES}
    templates, _ = teach_templates(teach, mirror=True)
    return GestureSet(templates)  # the default confidence, 0.7


@pytest.fixture(scope="module")
def scored(pose_set: PoseSet, gestures: GestureSet) -> dict[str, Any]:
    others = [r for rs in pose_set.teach.values() for r in rs] + pose_set.held_out
    samples = _played(gestures, [*others, *pose_set.everyday])
    assert len(samples) == len(GESTURES) * 6 + len(NON_GESTURES)
    return score(samples, list(GESTURES), gestures.min_confidence)


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


def test_every_gesture_is_taught_from_one_performer(gestures: GestureSet) -> None:
    # Beckon, stop and clap included: before, their examples were refused at teaching.
    assert gestures.names == tuple(sorted(GESTURES))
    assert not gestures.unusable


def test_other_performers_are_recognised_at_the_issues_precision(
    scored: dict[str, Any],
) -> None:
    assert scored["recall"] >= 0.85, scored["confusion"]  # 39/42 = 0.93 measured
    assert scored["precision"] >= 0.9, scored["false_motions"]  # 39/40 = 0.975 measured


def test_beckon_stop_and_clap_are_recognised_on_other_people(scored: dict[str, Any]) -> None:
    per_gesture = scored["per_gesture"]
    assert isinstance(per_gesture, dict)
    for gesture in ("beckon", "stop", "clap"):
        assert per_gesture[gesture]["recall"] >= 4 / 6, (gesture, scored["confusion"])


def test_regression_guard_everyday_firings_on_this_seed(scored: dict[str, Any]) -> None:
    assert scored["false_everyday"] <= 1, scored["false_motions"]  # reach_shelf>raise_hand


@pytest.mark.xfail(
    strict=True,
    reason="reaching for a shelf looks like raising a hand from some angles: 1 of 20 everyday "
    "motions fires on this seed (benchmarks/gesture_accuracy.py: about 7 false detections "
    "per 10 minutes over seeds, against ≤ 1)",
)
def test_the_issues_everyday_target_no_everyday_motion_fires(scored: dict[str, Any]) -> None:
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
