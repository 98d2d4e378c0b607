"""Matching a landmark sequence against taught gesture templates by dynamic time warping.

Every taught example of every gesture is a template (normalised by
:func:`engine.gestures.sequence.normalise`, then reduced by :func:`features` to what a
gesture is made of, in terms that do not depend on who performs it or where the camera is:
per arm, the 3D direction of the upper arm, the forearm and the hand in the body's own
frame — the image direction divided by the segment's length, the depth from how
foreshortened it looks, turned by the body's yaw (from MediaPipe's depth of the two
shoulders, averaged over the window) — and where
the wrist is relative to its shoulder in arm lengths; how far apart the hands are; the
torso's and head's direction; the legs, weighted low). A gesture taught as
mirror-invariant is compared *canonically*: whichever arm moves more is taken as the
acting arm (a left-handed wave is mirrored into a right-handed one), so a left-handed
person matches a right-handed teacher without a mirrored copy of every template, and the
idle arm (whose resting pose differs from person to person) weighs less. A sequence's
distance to a template is the cost of the cheapest warping path between them, each step
costing the Euclidean distance between two frames, with a Sakoe–Chiba band: frame ``i`` of
one may only be matched with frames ``i − band … i + band`` of the other (6 of 30: people's
pace differs by 0.8–1.25×).

All templates are matched at once, vectorised: the frame distances of every template come
from one batched matrix product, and the warping recurrence runs one query frame at a time
over every template and template frame together (see :func:`dtw_distances`).
Before that, LB_Keogh prunes: a template's envelope (per dimension, the least and greatest
value within the band) bounds its DTW distance from below, and a template whose bound
already exceeds the distance at which its gesture could still reach the asked-for confidence
is not warped at all, and the warping of the rest stops as soon as every one of them is
already past that distance (early abandon).

Each gesture's threshold is calibrated on its own examples, held out one at a time: its
*typical* distance (for each example, the distance to the nearest of the *other* examples;
their median) and its *still* distance (for each example, the distance to its own postures
held without moving; their median). Its threshold distance,
:data:`TYPICAL_SHARE` × typical + :data:`STILL_SHARE` × still, scores
:data:`MATCH_CONFIDENCE` (0.7) and the still distance :data:`STILL_CONFIDENCE` (0.35), on a
logistic curve through both. Leaning on the still distance lets a gesture taught from one
person's very alike repetitions still accept other people's, whose repetitions differ from
the teacher's more than the teacher's differ from each other (measured by
``benchmarks/gesture_accuracy.py``). A gesture whose examples differ from each other more
than from standing still is refused; :func:`review_examples` says in words when examples
are too alike or one of them is unlike the others. The former features (the arms' image
coordinates) stay selectable as ``feature_set="coordinates"`` to measure against. Pure
numpy; a matcher is read-only after it is built, so any thread may use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from engine.gestures.sequence import (
    LEFT_SHOULDER,
    MIRRORED_PAIRS,
    RIGHT_SHOULDER,
    Landmarks,
    mirror,
)

DEFAULT_BAND: Final = 6  # frames either side a warping path may stray (20 % of 30 frames)
MATCH_CONFIDENCE: Final = 0.7  # a gesture is detected at this confidence or more
LB_ROUNDING: Final = 1e-4  # relative slack of the float32 lower bound
MIN_EXAMPLES: Final = 2  # a gesture needs this many examples to calibrate its confidence
# Examples closer than this (feature units summed over a path) are copies, not repetitions.
MIN_TYPICAL_DISTANCE: Final = 1e-3
STILL_CONFIDENCE: Final = 0.35  # the confidence of a gesture's own postures held still
# The threshold distance (scoring MATCH_CONFIDENCE): this share of the typical distance plus
# this share of the still distance. Chosen on benchmarks/gesture_accuracy.py (taught from
# one performer, scored on the other performers; 5 seeds): the best recall at precision
# ≥ 0.9. The typical distance alone (the former calibration) let almost no one else through.
TYPICAL_SHARE: Final = 0.7
STILL_SHARE: Final = 0.3
# A gesture whose still distance is under this share of its typical distance (its repetitions
# differ from each other more than from standing still) cannot be told from not moving:
# refused at teaching. Under 1 because the landmarks' jitter alone puts a clap's held-still
# distance near its typical one (0.98–1.6× over 5 seeds); fidgeting stands at 0.77.
MIN_STILL_MARGIN: Final = 0.9
# Review of taught examples (words for the admin, see review_examples): examples whose
# typical distance is under this share of the still distance are nearly copies of each
# other (one repetition recorded three times: 0.02–0.06; one person's natural repetitions in
# the kinematic set: 0.29 and more, 0.19 in the tests' jitter-light skeletons); an example
# whose distance to the nearest other is over OUTLIER_FACTOR × the others' median (and over
# OUTLIER_STILL × the still distance) is unlike the rest. One person's natural repetitions
# reach 3.1× (90 % under 2.6×, 35 gestures of the kinematic set), so 3 keeps false warnings
# rare; with three examples another gesture among them is often no further than that (the
# repetitions of one gesture differ about half as much as from standing still), so this
# catches the clear cases only — a mis-cut is better told by its length (library).
ALIKE_SHARE: Final = 0.1
OUTLIER_FACTOR: Final = 3.0
OUTLIER_STILL: Final = 0.8
# x is divided by the shoulders' width (relative to this, their width seen square-on in torso
# lengths), within these bounds: a person filmed at an angle looks narrower, not different.
SQUARE_SHOULDERS: Final = 0.75
WIDTH_FACTOR: Final = (0.7, 1.6)
# Segment lengths in torso lengths (hip middle to shoulder middle) of an average adult: the
# least a segment's length is taken to be when it is foreshortened the whole window.
UPPER_ARM: Final = 0.64
FOREARM: Final = 0.50
HAND: Final = 0.24
# Feature weights (squared distances weigh them): the acting arm's segments, its hand and its
# reach; the idle arm's share of that (canonical matching only); both hands' separation (a
# clap), the torso (a bend or crouch), the head and the legs.
ARM_WEIGHTS: Final = {"upper": 1.0, "fore": 1.0, "hand": 1.0, "reach": 1.0}
IDLE_ARM_WEIGHT: Final = 0.2
BODY_WEIGHTS: Final = {"apart": 0.5, "torso": 0.7, "head": 0.3, "legs": 0.3}
# MediaPipe's left/right pairs swapped when a sequence is mirrored (see sequence.MIRRORED_PAIRS).
_MIRROR_ORDER = np.arange(33)
for _left, _right in MIRRORED_PAIRS:
    _MIRROR_ORDER[_left], _MIRROR_ORDER[_right] = _right, _left
LEFT_ARM: Final = (11, 13, 15, 19)  # shoulder, elbow, wrist, index finger
RIGHT_ARM: Final = (12, 14, 16, 20)
# The former features (kept to measure side by side): the arms' x and y, head and legs lower.
COORDINATE_WEIGHTS: Final = {
    0: 0.5,  # nose
    11: 0.5, 12: 0.5,  # shoulders
    13: 1.0, 14: 1.0,  # elbows
    15: 1.0, 16: 1.0,  # wrists
    25: 0.35, 26: 0.35,  # knees
    27: 0.35, 28: 0.35,  # ankles
}  # fmt: skip
_COORD_INDEX = np.array(sorted(COORDINATE_WEIGHTS), dtype=np.intp)
_COORD_SCALE = np.sqrt(np.array([COORDINATE_WEIGHTS[i] for i in sorted(COORDINATE_WEIGHTS)]))

Features = npt.NDArray[np.float64]  # frames × (landmarks · coordinates), in float64: the
# frame distances come from ||a||² + ||b||² − 2a·b, which in float32 leaves ~1e-3 of noise


FeatureSet = Literal["limbs", "coordinates"]
FEATURE_SETS: Final[tuple[FeatureSet, ...]] = ("limbs", "coordinates")


def _square_on(frames: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """x and y of normalised frames, x stretched by how much narrower than square-on the
    shoulders look (:data:`SQUARE_SHOULDERS`, bounded by :data:`WIDTH_FACTOR`)."""
    width = float(np.abs(frames[:, LEFT_SHOULDER, 0] - frames[:, RIGHT_SHOULDER, 0]).mean())
    factor = min(WIDTH_FACTOR[1], max(WIDTH_FACTOR[0], SQUARE_SHOULDERS / max(width, 1e-6)))
    result: npt.NDArray[np.float64] = frames[..., :2] * np.array([factor, 1.0])
    return result


def acting_arm_is_left(sequence: Landmarks) -> bool:
    """Whether the left arm moves more than the right in ``sequence`` (the wrist's spread
    around its shoulder over the frames)."""
    frames = np.asarray(sequence, dtype=np.float64)[..., :2]
    left = frames[:, LEFT_ARM[2]] - frames[:, LEFT_ARM[0]]
    right = frames[:, RIGHT_ARM[2]] - frames[:, RIGHT_ARM[0]]
    return float(left.var(axis=0).sum()) > float(right.var(axis=0).sum())


def _segment(
    vectors: npt.NDArray[np.float64], least: float, turn: tuple[float, float]
) -> npt.NDArray[np.float64]:
    """A segment's 3D direction (frames × 3) in the body's frame, from its image vectors
    (frames × 2): x and y over its length (its longest look in the window, at least
    ``least`` torso lengths), the depth from how foreshortened it looks (taken towards the
    camera: gestures are made in front of the body, and MediaPipe's own depth is 5–10×
    noisier), then turned by the body's yaw (``turn``: its cosine and sine) so that a person
    filmed from the side is compared as if from the front."""
    squared = np.einsum("td,td->t", vectors, vectors)
    rank = (len(squared) * 19) // 20  # its 95th percentile: one stray frame does not count
    length = max(least, float(np.sqrt(np.partition(squared, rank - 1)[rank - 1])))
    x, y = vectors[:, 0] / length, vectors[:, 1] / length
    z = -np.sqrt(np.clip(1.0 - x * x - y * y, 0.0, None))  # MediaPipe: smaller z is nearer
    cos, sin = turn
    return np.stack([cos * x - sin * z, y, sin * x + cos * z], axis=1)


def body_yaw(sequence: npt.NDArray[np.floating[Any]]) -> float:
    """How far the body is turned from facing the camera (radians), from the shoulders'
    mean depth difference: MediaPipe's depth is noisy per frame, but averaged over a
    window and across the shoulders' width it is steady."""
    frames = np.asarray(sequence, dtype=np.float64)
    if frames.shape[-1] < 3:
        return 0.0
    across = (frames[:, RIGHT_ARM[0]] - frames[:, LEFT_ARM[0]]).mean(axis=0)
    return math.atan2(float(across[2]), -float(across[0]))


def limb_features(sequence: Landmarks, *, canonical: bool = False) -> Features:
    """A normalised sequence as its limbs' directions in the body's frame (see the module
    docstring), ``(frames, 50)`` float64. ``canonical``: the acting arm
    (:func:`acting_arm_is_left`) becomes the right one, mirroring the sequence if needed,
    and the other arm weighs :data:`IDLE_ARM_WEIGHT`."""
    frames = np.asarray(sequence, dtype=np.float64)
    idle = 1.0
    if canonical:
        if acting_arm_is_left(sequence):
            frames = frames[:, _MIRROR_ORDER].copy()
            frames[..., 0] = -frames[..., 0]
        idle = IDLE_ARM_WEIGHT
    yaw = body_yaw(frames)
    turn = (math.cos(yaw), math.sin(yaw))
    flat = frames[..., :2]
    shoulders = (flat[:, LEFT_SHOULDER] + flat[:, RIGHT_SHOULDER]) / 2.0
    parts: list[npt.NDArray[np.float64]] = []
    w = {k: math.sqrt(v) for k, v in ARM_WEIGHTS.items()}
    for arm, share in ((RIGHT_ARM, 1.0), (LEFT_ARM, math.sqrt(idle))):
        shoulder, elbow, wrist, finger = (flat[:, i] for i in arm)
        upper = _segment(elbow - shoulder, UPPER_ARM, turn)
        fore = _segment(wrist - elbow, FOREARM, turn)
        hand = _segment(finger - wrist, HAND, turn)
        reach = (UPPER_ARM * upper + FOREARM * fore) / (UPPER_ARM + FOREARM)
        parts += [
            share * w["upper"] * upper,
            share * w["fore"] * fore,
            share * w["hand"] * hand,
            share * w["reach"] * reach,
        ]
    body = {k: math.sqrt(v) for k, v in BODY_WEIGHTS.items()}
    parts += [
        body["apart"] * (flat[:, LEFT_ARM[2]] - flat[:, RIGHT_ARM[2]]),
        body["torso"] * shoulders,  # hips are the origin: the torso's direction and length
        body["head"] * (flat[:, 0] - shoulders),
        *(body["legs"] * flat[:, i] for i in (25, 26, 27, 28)),
    ]
    return np.concatenate(parts, axis=1)


def coordinate_features(sequence: Landmarks) -> Features:
    """The former features, kept to measure against: x and y of the arms, head and legs
    (weighted by :data:`COORDINATE_WEIGHTS`), x scaled as :func:`_square_on` does."""
    frames = _square_on(np.asarray(sequence, dtype=np.float64))
    weighted = frames[:, _COORD_INDEX] * _COORD_SCALE[None, :, None]
    result: Features = weighted.reshape(weighted.shape[0], -1)
    return result


def features(
    sequence: Landmarks, *, canonical: bool = False, feature_set: FeatureSet = "limbs"
) -> Features:
    """A normalised sequence's frames as matching compares them, ``(frames, D)`` float64:
    :func:`limb_features` (default) or the former :func:`coordinate_features`."""
    if feature_set == "coordinates":
        return coordinate_features(sequence)
    return limb_features(sequence, canonical=canonical)


def _logistic(
    distance: npt.ArrayLike, middle: npt.ArrayLike, width: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    exponent = np.clip((np.asarray(distance) - np.asarray(middle)) / np.asarray(width), -60, 60)
    result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(exponent))
    return result


class GestureTemplateError(ValueError):
    """Templates that cannot be matched against; the message names the gesture and why."""


@dataclass(frozen=True, slots=True)
class GestureMatch:
    """The best match of a sequence: the ``gesture``, its ``confidence`` (0–1), the DTW
    ``distance`` to its nearest template and that template's index, and how many
    templates LB_Keogh ``pruned`` without warping."""

    gesture: str
    confidence: float
    distance: float
    template: int
    pruned: int


def frame_distances(
    query: Features, templates: Features, template_norms: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.float64]:
    """Euclidean distances between every query frame and every template frame:
    ``(templates, query frames, template frames)`` from ``query`` ``(T, D)`` and
    ``templates`` ``(K, T, D)`` (one batched matrix product; ``template_norms``, the
    templates' squared frame norms ``(K, T)``, when known)."""
    if template_norms is None:
        template_norms = np.einsum("kjd,kjd->kj", templates, templates)
    dots = np.matmul(templates, query.T)  # (K, template frame, query frame)
    squared = template_norms[:, :, None] + np.einsum("id,id->i", query, query)[None, None, :]
    squared -= 2.0 * dots
    np.maximum(squared, 0.0, out=squared)
    result: npt.NDArray[np.float64] = np.sqrt(squared, out=squared).transpose(0, 2, 1)
    return result


def dtw_distances(
    query: Features,
    templates: Features,
    band: int = DEFAULT_BAND,
    template_norms: npt.NDArray[np.float64] | None = None,
    limits: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """The banded DTW distance from ``query`` ``(T, D)`` to each of ``templates``
    ``(K, T, D)`` (same length ``T``): ``(K,)``.

    Row by row over the query's frames, every template and every template frame in the
    band at once, the band stored as its own ``2 × band + 1`` columns (column ``b`` of row
    ``i`` is template frame ``i − band + b``), so a row is four whole-array operations: a
    cell's cost from the row above (straight down or diagonally) first, then the moves
    along the row as one prefix minimum, since reaching column ``j`` from column ``l`` of
    the same row costs the row's frame distances in between:
    ``D[i, j] = S[j] + min over l ≤ j of (D'[i, l] − S[l])`` with ``S`` their running sum.
    ``limits``: per template, the distance beyond which it does not matter; every path
    crosses every row, so when each template's least cost so far is past its limit the
    warping stops early and every distance is ``inf`` (early abandon)."""
    length, count = query.shape[0], templates.shape[0]
    if count == 0:
        return np.zeros(0)
    cost = frame_distances(query, templates, template_norms)  # (K, query, template)
    width = 2 * band + 1
    columns = np.arange(length)[:, None] - band + np.arange(width)[None, :]  # (T, W)
    banded = cost[:, np.arange(length)[:, None], np.clip(columns, 0, length - 1)]
    # Cells outside the template cost nothing: those left of it are never reached (set to
    # inf row by row), those right of it never reach a cell inside.
    banded[:, (columns < 0) | (columns >= length)] = 0.0
    banded = np.ascontiguousarray(banded.transpose(1, 0, 2))  # (T, K, W)
    running = np.cumsum(banded, axis=2)
    step = banded - running  # a cell's own cost less the running sum up to it
    acc = np.full((count, width + 1), np.inf)  # the row above; its last column: beyond
    acc[:, band] = 0.0  # the row before the first: only the corner (−1, −1) is reached
    reached = np.empty((count, width))
    for i in range(length):
        np.minimum(acc[:, :width], acc[:, 1:], out=reached)  # diagonally, straight down
        reached += step[i]
        np.minimum.accumulate(reached, axis=1, out=reached)
        np.add(reached, running[i], out=acc[:, :width])
        if i < band:  # cells left of the template's first frame start no path
            acc[:, : band - i] = np.inf
        if limits is not None and i % 5 == 4 and (acc[:, :width].min(axis=1) > limits).all():
            return np.full(count, np.inf)
    result: npt.NDArray[np.float64] = acc[:, band].copy()
    return result


def envelopes(
    templates: Features, band: int = DEFAULT_BAND
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Each template's lower and upper envelope (float32, as :func:`lb_keogh` takes them):
    per frame and dimension, the least and greatest value within ``band`` frames either
    side."""
    length = templates.shape[1]
    lower = np.empty(templates.shape, dtype=np.float32)
    upper = np.empty(templates.shape, dtype=np.float32)
    for i in range(length):
        window = templates[:, max(0, i - band) : min(length, i + band + 1)]
        lower[:, i] = window.min(axis=1)
        upper[:, i] = window.max(axis=1)
    return lower, upper


def lb_keogh(
    query: Features, lower: npt.NDArray[np.float32], upper: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """A lower bound of the banded DTW distance from ``query`` to each template with these
    envelopes: every query frame is on the warping path at least once, and its cost there
    is at least its distance to the box its template frames within the band lie in.
    Computed in float32 (a quarter of the time in float64 here) and lowered by
    :data:`LB_ROUNDING` so that rounding never lifts it above the distance."""
    q = query.astype(np.float32)
    outside = np.maximum(q - upper, lower - q)  # per dimension; negative inside the box
    np.maximum(outside, 0.0, out=outside)
    bound = np.sqrt(np.einsum("kid,kid->ki", outside, outside)).sum(axis=1, dtype=np.float64)
    result: npt.NDArray[np.float64] = bound * (1.0 - LB_ROUNDING)
    return result


@dataclass(frozen=True, slots=True)
class ExampleReview:
    """How a gesture's examples compare, measured as matching measures them (feature
    distances summed over a warping path): per example, the distance to the nearest other
    example (``nearest``) and to its own postures held still (``still``); the gesture's
    ``typical`` and ``still_typical`` (their medians) and its ``threshold`` distance (what
    scores :data:`MATCH_CONFIDENCE`). ``advice``: sentences for the admin, empty when the
    examples are fine; ``refusal``: why it cannot be taught, or None."""

    nearest: tuple[float, ...]
    still: tuple[float, ...]
    typical: float
    still_typical: float
    threshold: float
    advice: tuple[str, ...]
    refusal: str | None

    @property
    def outliers(self) -> tuple[int, ...]:
        """0-based positions of examples unlike the others."""
        return tuple(
            i
            for i, d in enumerate(self.nearest)
            if _is_outlier(d, self.nearest, self.still_typical)
        )


def _is_outlier(distance: float, nearest: Sequence[float], still: float) -> bool:
    if len(nearest) < 3:
        return False
    others = sorted(nearest)
    others.remove(distance)
    return distance > OUTLIER_FACTOR * float(np.median(others)) and distance > OUTLIER_STILL * still


def _held_still(frames: Features) -> Features:
    """A template's own postures held without moving: its first, last and mean frame."""
    return np.stack(
        [np.repeat(pose[None], len(frames), axis=0)
         for pose in (frames[0], frames[-1], frames.mean(axis=0))]
    )  # fmt: skip


def review_features(
    name: str, examples: Sequence[Features], band: int = DEFAULT_BAND
) -> ExampleReview:
    """:class:`ExampleReview` of one gesture's examples, already reduced to features
    (one per example; leave-one-out: each is compared with the others)."""
    stacked = np.stack(examples)
    nearest, still = [], []
    for index, frames in enumerate(stacked):
        others = np.delete(stacked, index, axis=0)
        nearest.append(float(dtw_distances(frames, others, band).min()) if len(others) else 0.0)
        still.append(float(dtw_distances(frames, _held_still(frames), band).min()))
    typical, standing = float(np.median(nearest)), float(np.median(still))
    threshold = TYPICAL_SHARE * typical + STILL_SHARE * standing
    advice: list[str] = []
    refusal = None
    if not typical > MIN_TYPICAL_DISTANCE:
        refusal = (
            f"gesture {name!r}: its examples are identical; record it again with natural "
            "repetitions"
        )
    elif standing < MIN_STILL_MARGIN * typical:
        refusal = (
            f"gesture {name!r}: its examples differ from each other more than from standing "
            "still, so it could not be told from not moving; perform it larger and the same "
            "way each time"
        )
    if refusal is None and typical < ALIKE_SHARE * standing:
        advice.append(
            "The examples are nearly copies of each other (little variety): it will be "
            "recognised best when performed exactly like this. For other people and "
            "angles, record them with natural variation: a little faster or slower, "
            "larger or smaller."
        )
    for index, distance in enumerate(nearest):
        if _is_outlier(distance, nearest, standing):
            advice.append(
                f"Example {index + 1} is unlike the others (about "
                f"{distance / max(float(np.median(nearest)), 1e-9):.1f}× as far from them as "
                "they are from each other): it may be another gesture or cut at the wrong "
                "moment. Discard it and record it again."
            )
    return ExampleReview(
        nearest=tuple(nearest),
        still=tuple(still),
        typical=typical,
        still_typical=standing,
        threshold=threshold,
        advice=tuple(advice),
        refusal=refusal,
    )


def review_examples(
    name: str,
    examples: Sequence[Landmarks],
    *,
    mirror_invariant: bool = True,
    feature_set: FeatureSet = "limbs",
) -> ExampleReview:
    """:class:`ExampleReview` of a gesture's normalised examples (as teaching checks them:
    too alike, one unlike the others, or not distinguishable from standing still)."""
    canonical = mirror_invariant and feature_set == "limbs"
    rows = [features(e, canonical=canonical, feature_set=feature_set) for e in examples]
    return review_features(name, rows)


class GestureMatcher:
    """Matches normalised sequences against the examples of each gesture.

    ``examples``: per gesture name, at least :data:`MIN_EXAMPLES` normalised sequences of
    the same shape. ``mirror_invariant``: a gesture also matches its mirror image (a wave
    with the other hand): compared canonically (the acting arm as the right one) with the
    limb features, by mirrored copies of the templates with the former coordinate ones.
    ``feature_set``: what frames are compared by (:func:`features`).
    :class:`GestureTemplateError` names a gesture with too few examples, a shape that
    differs, or examples that cannot be calibrated."""

    def __init__(
        self,
        examples: Mapping[str, Sequence[Landmarks]],
        *,
        band: int = DEFAULT_BAND,
        mirror_invariant: bool = False,
        feature_set: FeatureSet = "limbs",
    ) -> None:
        if band < 0:
            raise GestureTemplateError(f"band: expected 0 frames or more, got {band}")
        if feature_set not in FEATURE_SETS:
            raise GestureTemplateError(f"feature_set: expected one of {FEATURE_SETS}")
        self.band = band
        self.feature_set: FeatureSet = feature_set
        self.canonical = mirror_invariant and feature_set == "limbs"
        copies = mirror_invariant and not self.canonical  # the former mirrored templates
        self.gestures: tuple[str, ...] = tuple(sorted(examples))
        shape: tuple[int, ...] | None = None
        rows: list[Features] = []
        labels: list[int] = []
        reviews: list[ExampleReview] = []
        for index, name in enumerate(self.gestures):
            sequences = list(examples[name])
            if len(sequences) < MIN_EXAMPLES:
                raise GestureTemplateError(
                    f"gesture {name!r}: {len(sequences)} example(s); at least {MIN_EXAMPLES} "
                    "are needed to tell how close its repetitions are"
                )
            own: list[Features] = []
            for sequence in sequences:
                if shape is None:
                    shape = sequence.shape
                elif sequence.shape != shape:
                    raise GestureTemplateError(
                        f"gesture {name!r}: an example of shape {sequence.shape}, others {shape}"
                    )
                own.append(self._features(sequence))
                variants = [sequence, mirror(sequence)] if copies else [sequence]
                for variant in variants:
                    rows.append(self._features(variant))
                    labels.append(index)
            review = review_features(name, own, band)
            if review.refusal is not None:
                raise GestureTemplateError(review.refusal)
            reviews.append(review)
        if shape is None:
            raise GestureTemplateError("no gestures to match against")
        self.shape = shape
        self.reviews: tuple[ExampleReview, ...] = tuple(reviews)
        self.templates: Features = np.stack(rows)
        self.labels = np.asarray(labels, dtype=np.intp)
        self.norms = np.einsum("kjd,kjd->kj", self.templates, self.templates)
        self.lower, self.upper = envelopes(self.templates, band)
        self.middles, self.widths = self._calibrate()

    def _features(self, sequence: Landmarks) -> Features:
        return features(sequence, canonical=self.canonical, feature_set=self.feature_set)

    def _calibrate(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per gesture, the logistic's middle and width: its threshold distance
        (:attr:`ExampleReview.threshold`) scores :data:`MATCH_CONFIDENCE` and its still
        distance :data:`STILL_CONFIDENCE` (at least a fifth further than the threshold, so
        that the curve falls)."""
        at_match = math.log((1.0 - MATCH_CONFIDENCE) / MATCH_CONFIDENCE)
        at_still = math.log((1.0 - STILL_CONFIDENCE) / STILL_CONFIDENCE)
        middles, widths = np.empty(len(self.reviews)), np.empty(len(self.reviews))
        for index, review in enumerate(self.reviews):
            threshold = review.threshold
            standing = max(review.still_typical, 1.2 * threshold)
            widths[index] = (standing - threshold) / (at_still - at_match)
            middles[index] = threshold - at_match * widths[index]
        return middles, widths

    def threshold(self, gesture: str) -> float:
        """The DTW distance at which ``gesture`` scores :data:`MATCH_CONFIDENCE`."""
        return self.reviews[self.gestures.index(gesture)].threshold

    def confidence(self, gesture: str, distance: float) -> float:
        """The confidence a sequence at DTW ``distance`` from ``gesture``'s nearest
        template gets."""
        index = self.gestures.index(gesture)
        return float(_logistic(distance, self.middles[index], self.widths[index]))

    def reach(self, min_confidence: float) -> npt.NDArray[np.float64]:
        """Per template, the DTW distance beyond which its gesture cannot reach
        ``min_confidence`` (what LB_Keogh prunes against)."""
        c = min(max(min_confidence, 1e-12), 1.0 - 1e-12)
        labels = self.labels
        result: npt.NDArray[np.float64] = self.middles[labels] + self.widths[labels] * math.log(
            (1.0 - c) / c
        )
        return result

    def match(
        self, sequence: Landmarks, min_confidence: float = MATCH_CONFIDENCE
    ) -> GestureMatch | None:
        """The gesture ``sequence`` (normalised, of the templates' shape) is, when its
        nearest template gives it at least ``min_confidence``; else None."""
        if sequence.shape != self.shape:
            raise GestureTemplateError(
                f"sequence: shape {sequence.shape}, the templates' is {self.shape}"
            )
        query = self._features(sequence)
        bounds = lb_keogh(query, self.lower, self.upper)
        reach = self.reach(min_confidence)
        candidates = np.flatnonzero(bounds <= reach)
        pruned = len(self.labels) - len(candidates)
        if candidates.size == 0:
            return None
        if pruned:
            templates, norms = self.templates[candidates], self.norms[candidates]
        else:
            templates, norms = self.templates, self.norms
        distances = dtw_distances(query, templates, self.band, norms, reach[candidates])
        chosen = self.labels[candidates]
        confidences = _logistic(distances, self.middles[chosen], self.widths[chosen])
        best = int(np.argmax(confidences))
        if confidences[best] < min_confidence:
            return None
        return GestureMatch(
            gesture=self.gestures[int(self.labels[candidates[best]])],
            confidence=float(confidences[best]),
            distance=float(distances[best]),
            template=int(candidates[best]),
            pruned=pruned,
        )
