"""A gesture taught from 3 performances is recognised in held-out performances of it and not
in everyday motions: the kinematic part of the gesture accuracy benchmark on one seed and a
small set (7 gestures × 3 taught + 3 held-out, 20 everyday motions once each), played
through the live worker's windows and ``GestureSet.match`` at the default confidence.

Mirror-invariant, as an admin teaching "wave" means either hand. Taught from three different
performers seen from different angles, some gestures are refused at teaching (their examples
differ from each other about as much as from standing still) and held-out recall on this
small set swings with the seed (0.24–0.62 over seeds 0–4, 2–5 of the 20 everyday motions
firing). The issue's targets (recall ≥ 0.8, no everyday motion) are a strict xfail: meeting
them makes it pass, and xfail_strict then asks for the marker to go. Separately, a regression
guard holds this seed's measured figures (13 of 21 held-out performances recognised,
precision 13/15, 2 everyday motions firing) to within one performance: it guards against
getting worse and says nothing about the targets."""

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
    templates, _ = teach_templates(pose_set.teach, mirror=True)
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
    assert len(gestures.names) >= 4, gestures.names  # the rest were refused at teaching
    taught = [r for name in gestures.names for r in pose_set.teach[name]]
    scored = score(_played(gestures, taught), gestures.names, gestures.min_confidence)
    wrong = {k: v for k, v in scored["confusion"].items() if k.split(">")[0] != k.split(">")[1]}
    assert not wrong


def test_regression_guard_held_out_recall_precision_and_everyday_firings_on_this_seed(
    pose_set: PoseSet, gestures: GestureSet
) -> None:
    """Not the targets (see the xfail below): no worse than measured, less one performance."""
    samples = _played(gestures, [*pose_set.held_out, *pose_set.everyday])
    assert len(samples) == len(GESTURES) * 3 + len(NON_GESTURES)
    scored = score(samples, list(pose_set.teach), gestures.min_confidence)
    assert scored["recall"] >= 12 / 21, scored["confusion"]  # 13/21 = 0.62 measured
    assert scored["precision"] >= 13 / 16, scored["false_motions"]  # 13/15 = 0.87 measured
    assert scored["false_everyday"] <= 2, scored["false_motions"]  # stretch>help, reach>raise


@pytest.mark.xfail(
    strict=True,
    reason="taught from three different performers seen at different angles, gestures vary "
    "between people about as much as from standing still: measured held-out recall 0.62 "
    "(13 of 21; stop and clap refused at teaching) and 2 of 20 everyday motions fire "
    "(stretch as help, reach_shelf as raise_hand) on this seed, against recall ≥ 0.8 and none "
    "(benchmarks/gesture_accuracy.py has the figures)",
)
def test_the_issues_targets_held_out_recall_and_no_everyday_motion(
    pose_set: PoseSet, gestures: GestureSet
) -> None:
    samples = _played(gestures, [*pose_set.held_out, *pose_set.everyday])
    scored = score(samples, list(pose_set.teach), gestures.min_confidence)
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
