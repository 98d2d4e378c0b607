"""Gesture sequences and their matching: normalisation (translation, scale, mirror), the
banded DTW and its LB_Keogh bound, confidence calibrated on a gesture's own examples, and
bad input named. The poses are drawn here from a standing skeleton whose arm joints move
along known paths, so which gesture each sequence is, is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from engine.gestures.dtw import (
    GestureMatcher,
    GestureTemplateError,
    dtw_distances,
    envelopes,
    lb_keogh,
)
from engine.gestures.sequence import (
    LANDMARKS,
    LEFT_HIP,
    RIGHT_HIP,
    LandmarkError,
    mirror,
    normalise,
)
from tests.gesture_motions import motion


def matcher(mirror_invariant: bool = False) -> GestureMatcher:
    examples = {
        kind: [normalise(motion(kind, seed, warp=w)) for seed, w in ((1, 1.0), (2, 0.8), (3, 1.25))]
        for kind in ("wave", "raise")
    }
    return GestureMatcher(examples, mirror_invariant=mirror_invariant)


def test_normalising_removes_where_the_person_stands_and_how_large_they_are() -> None:
    frames = motion("wave", 7)
    moved = frames * 3.0 + np.array([250.0, -40.0])
    assert np.allclose(normalise(frames), normalise(moved), atol=1e-5)
    same = normalise(frames)
    hips = (same[:, LEFT_HIP] + same[:, RIGHT_HIP]) / 2
    assert np.allclose(hips, 0.0, atol=1e-5)
    assert normalise(motion("wave", 7, frames=45)).shape == (30, LANDMARKS, 2)  # resampled


def test_bad_sequences_are_named() -> None:
    with pytest.raises(
        LandmarkError, match=r"expected shape \(frames, 33, 2 or 3\), got \(30, 17, 2\)"
    ):
        normalise(np.zeros((30, 17, 2)))
    broken = motion("wave", 1)
    broken[12, 5, 0] = np.nan
    with pytest.raises(LandmarkError, match="frame 12 has a missing landmark"):
        normalise(broken)
    with pytest.raises(LandmarkError, match="no torso"):
        normalise(np.zeros((30, LANDMARKS, 2)))


def test_lb_keogh_never_exceeds_the_banded_dtw_distance() -> None:
    rng = np.random.default_rng(4)
    templates = rng.normal(0, 1, (40, 30, 12)).cumsum(axis=1).astype(np.float32)
    lower, upper = envelopes(templates, 3)
    for _ in range(20):
        query = rng.normal(0, 1, (30, 12)).cumsum(axis=0).astype(np.float32)
        assert np.all(lb_keogh(query, lower, upper) <= dtw_distances(query, templates, 3) + 1e-9)


def test_dtw_absorbs_a_change_of_pace_within_the_band_only() -> None:
    t = np.linspace(0, 1, 30)
    even = np.sin(2 * np.pi * t)[:, None].astype(np.float32)
    late = np.sin(2 * np.pi * np.clip(t - 2 / 29, 0, 1))[:, None].astype(np.float32)
    far = np.sin(2 * np.pi * np.clip(t - 8 / 29, 0, 1))[:, None].astype(np.float32)
    assert dtw_distances(even, even[None], 3)[0] == 0.0
    euclidean = float(np.abs(even - late).sum())
    assert dtw_distances(late, even[None], 3)[0] < 0.3 * euclidean  # two frames: absorbed
    assert dtw_distances(far, even[None], 3)[0] > dtw_distances(far, even[None], 10)[0]


def _textbook_dtw(query: np.ndarray, template: np.ndarray, band: int) -> float:
    """Banded DTW cell by cell, as textbooks write it: what the vectorised one must equal."""
    length = len(query)
    acc = np.full((length + 1, length + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, length + 1):
        for j in range(max(1, i - band), min(length, i + band) + 1):
            cost = float(np.linalg.norm(query[i - 1] - template[j - 1]))
            acc[i, j] = cost + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
    return float(acc[length, length])


@pytest.mark.parametrize("band", [0, 3, 6, 29, 40])
def test_the_banded_dtw_equals_the_textbook_one(band: int) -> None:
    rng = np.random.default_rng(band)
    templates = rng.normal(0, 1, (5, 30, 8)).cumsum(axis=1)
    query = rng.normal(0, 1, (30, 8)).cumsum(axis=0)
    expected = [_textbook_dtw(query, t, band) for t in templates]
    assert dtw_distances(query, templates, band) == pytest.approx(expected, rel=1e-9)


def test_warping_stops_early_only_when_every_template_is_past_its_limit() -> None:
    rng = np.random.default_rng(5)
    templates = rng.normal(0, 1, (4, 30, 8)).cumsum(axis=1)
    query = rng.normal(0, 1, (30, 8)).cumsum(axis=0)
    exact = dtw_distances(query, templates, 6)
    one_within = np.full(4, exact.min() / 100)
    one_within[np.argmin(exact)] = exact.min()  # that one still matters: no early stop
    assert np.array_equal(dtw_distances(query, templates, 6, limits=one_within), exact)
    assert np.isinf(dtw_distances(query, templates, 6, limits=exact / 100)).all()


def test_a_taught_gesture_is_recognised_and_other_motions_are_not() -> None:
    taught = matcher()
    for kind in ("wave", "raise"):
        for seed, warp in ((11, 1.0), (12, 0.7), (13, 1.4)):  # held out, other paces
            found = taught.match(normalise(motion(kind, seed, warp=warp)))
            assert found is not None and found.gesture == kind, (kind, seed)
            assert found.confidence >= 0.7
    assert taught.match(normalise(motion("still", 21))) is None
    # A squat moves the legs only (relative to the hips), which weigh little: a crouch or
    # sitting down is not a gesture.
    for seed in (11, 12):
        assert taught.match(normalise(motion("squat", seed))) is None
    # Most templates are pruned by their bound for a clear match.
    clear = taught.match(normalise(motion("raise", 14)))
    assert clear is not None and clear.pruned >= 3


def test_a_mirrored_wave_matches_only_a_mirror_invariant_matcher() -> None:
    left_wave = mirror(normalise(motion("wave", 31)))
    assert matcher().match(left_wave) is None or matcher().match(left_wave).gesture != "wave"
    found = matcher(mirror_invariant=True).match(left_wave)
    assert found is not None and found.gesture == "wave"


def test_templates_that_cannot_be_calibrated_are_refused() -> None:
    one = normalise(motion("wave", 1))
    with pytest.raises(GestureTemplateError, match="'wave': 1 example"):
        GestureMatcher({"wave": [one]})
    with pytest.raises(GestureTemplateError, match="'wave': its examples are identical"):
        GestureMatcher({"wave": [one, one.copy()]})
    with pytest.raises(GestureTemplateError, match="shape"):
        matcher().match(normalise(motion("wave", 1))[:, :, :1].copy())


def test_a_gesture_no_different_from_standing_still_is_refused() -> None:
    """Standing still three times (only the landmarks' jitter differs) cannot be taught:
    its examples differ from each other as much as from holding a posture."""
    fidgets = [normalise(motion("still", seed)) for seed in (1, 2, 3)]
    with pytest.raises(GestureTemplateError, match=r"'idle': .* could not be told from not moving"):
        GestureMatcher({"idle": fidgets})


def test_confidence_falls_from_the_typical_repetition_to_standing_still() -> None:
    taught = matcher()
    wave = normalise(motion("wave", 50, warp=1.1))
    found = taught.match(wave)
    assert found is not None and found.gesture == "wave" and found.confidence > 0.8
    held = np.repeat(wave[:1], len(wave), axis=0)  # the same person, arm up, not moving
    assert taught.match(held) is None
    assert taught.confidence("wave", found.distance) > taught.confidence("wave", 2 * found.distance)
