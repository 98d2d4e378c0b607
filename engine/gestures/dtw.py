"""Matching a landmark sequence against taught gesture templates by dynamic time warping.

Every taught example of every gesture is a template (normalised by
:func:`engine.gestures.sequence.normalise`, then reduced to what a gesture is made of by
:func:`features`: the arms, with the head and legs weighted lower, in x and y). A sequence's
distance to a template is the cost of the cheapest warping path between them, each step
costing the Euclidean distance between two frames, with a Sakoe–Chiba band: frame ``i`` of
one may only be matched with frames ``i − band … i + band`` of the other, so a gesture may
be a little faster or slower but not a different motion squeezed in time.

All templates are matched at once, vectorised: the frame distances of every template come
from one batched matrix product, and the warping recurrence runs one query frame at a time
over every template and template frame together (see :func:`dtw_distances`).
Before that, LB_Keogh prunes: a template's envelope (per dimension, the least and greatest
value within the band) bounds its DTW distance from below, and a template whose bound
already exceeds the distance at which its gesture could still reach the asked-for confidence
is not warped at all.

Confidence is calibrated per gesture on its own examples, against two anchors: its
*typical* distance (for each example, the distance to its nearest other example; their
median) scores :data:`TYPICAL_CONFIDENCE` (0.85), and its *still* distance (for each
example, the distance to its own postures held without moving; their median) scores
:data:`STILL_CONFIDENCE` (0.35), on a logistic curve through both. A sequence is thus judged
against not moving at all, not only against how alike the gesture's repetitions are: taught
from one person's very alike repetitions, a bare exp(−d/typical) let every everyday motion
through (the labelled set of ``benchmarks/gesture_accuracy.py``). A detection needs
:data:`MATCH_CONFIDENCE` (0.7) by default. A gesture whose examples differ from each other
nearly as much as from standing still is refused. Pure numpy; a matcher is read-only after
it is built, so any thread may use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.gestures.sequence import LEFT_SHOULDER, RIGHT_SHOULDER, Landmarks, mirror

DEFAULT_BAND: Final = 3  # frames either side a warping path may stray (10 % of 30 frames)
MATCH_CONFIDENCE: Final = 0.7  # a gesture is detected at this confidence or more
TYPICAL_CONFIDENCE: Final = 0.85  # the confidence of a gesture's typical own-example distance
LB_ROUNDING: Final = 1e-4  # relative slack of the float32 lower bound
MIN_EXAMPLES: Final = 2  # a gesture needs this many examples to calibrate its confidence
# Examples closer than this (torso lengths summed over a path) are copies, not repetitions.
MIN_TYPICAL_DISTANCE: Final = 1e-3
STILL_CONFIDENCE: Final = 0.35  # the confidence of a gesture's own postures held still
# A gesture whose repetitions differ from each other nearly as much as from standing still
# cannot be told from not moving: refused at teaching.
MIN_STILL_MARGIN: Final = 1.1
# What a gesture is made of: the arms (elbows, wrists, and a little of the shoulders), with
# the head and legs weighted lower; x and y only (MediaPipe's z is 5–10× noisier, measured
# on real footage by benchmarks/gesture_accuracy.py).
FEATURE_WEIGHTS: Final = {
    0: 0.5,  # nose
    11: 0.5, 12: 0.5,  # shoulders
    13: 1.0, 14: 1.0,  # elbows
    15: 1.0, 16: 1.0,  # wrists
    25: 0.35, 26: 0.35,  # knees
    27: 0.35, 28: 0.35,  # ankles
}  # fmt: skip
# x is divided by the shoulders' width (relative to this, their width seen square-on in torso
# lengths), within these bounds: a person filmed at an angle looks narrower, not different.
SQUARE_SHOULDERS: Final = 0.75
WIDTH_FACTOR: Final = (0.7, 1.6)
_FEATURE_INDEX = np.array(sorted(FEATURE_WEIGHTS), dtype=np.intp)
_FEATURE_SCALE = np.sqrt(np.array([FEATURE_WEIGHTS[i] for i in sorted(FEATURE_WEIGHTS)]))

Features = npt.NDArray[np.float64]  # frames × (landmarks · coordinates), in float64: the
# frame distances come from ||a||² + ||b||² − 2a·b, which in float32 leaves ~1e-3 of noise


def features(sequence: Landmarks) -> Features:
    """A normalised sequence's frames as matching compares them: x and y of the landmarks
    in :data:`FEATURE_WEIGHTS`, each scaled by the root of its weight (so that squared
    distances weigh it), x also by how much narrower than square-on the shoulders look
    (:data:`SQUARE_SHOULDERS`, bounded by :data:`WIDTH_FACTOR`), ``(frames, 2 · landmarks)``
    in float64."""
    frames = np.asarray(sequence, dtype=np.float64)
    width = float(np.abs(frames[:, LEFT_SHOULDER, 0] - frames[:, RIGHT_SHOULDER, 0]).mean())
    factor = min(WIDTH_FACTOR[1], max(WIDTH_FACTOR[0], SQUARE_SHOULDERS / max(width, 1e-6)))
    picked = frames[:, _FEATURE_INDEX, :2] * np.array([factor, 1.0])
    weighted = picked * _FEATURE_SCALE[None, :, None]
    result: Features = weighted.reshape(weighted.shape[0], -1)
    return result


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
) -> npt.NDArray[np.float64]:
    """The banded DTW distance from ``query`` ``(T, D)`` to each of ``templates``
    ``(K, T, D)`` (same length ``T``): ``(K,)``.

    Row by row over the query's frames, every template and every template frame at once:
    a cell's cost from the row above (straight down or diagonally) first, then the moves
    along the row as one prefix minimum, since reaching column ``j`` from column ``l`` of
    the same row costs the row's frame distances in between:
    ``D[i, j] = S[j] + min over l ≤ j of (D'[i, l] − S[l])`` with ``S`` their running sum."""
    length, count = query.shape[0], templates.shape[0]
    if count == 0:
        return np.zeros(0)
    cost = frame_distances(query, templates, template_norms)
    running = np.cumsum(cost, axis=2)
    acc = np.full((count, length + 1, length + 1), np.inf)
    acc[:, 0, 0] = 0.0
    for i in range(length):
        low, high = max(0, i - band), min(length, i + band + 1)  # template frames in the band
        reached = cost[:, i, low:high] + np.minimum(
            acc[:, i, low + 1 : high + 1], acc[:, i, low:high]
        )
        run = running[:, i, low:high]
        acc[:, i + 1, low + 1 : high + 1] = run + np.minimum.accumulate(reached - run, axis=1)
    result: npt.NDArray[np.float64] = acc[:, length, length]
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


class GestureMatcher:
    """Matches normalised sequences against the examples of each gesture.

    ``examples``: per gesture name, at least :data:`MIN_EXAMPLES` normalised sequences of
    the same shape. ``mirror_invariant``: a gesture also matches its mirror image (a wave
    with the other hand). :class:`GestureTemplateError` names a gesture with too few
    examples or a shape that differs."""

    def __init__(
        self,
        examples: Mapping[str, Sequence[Landmarks]],
        *,
        band: int = DEFAULT_BAND,
        mirror_invariant: bool = False,
    ) -> None:
        if band < 0:
            raise GestureTemplateError(f"band: expected 0 frames or more, got {band}")
        self.band = band
        self.gestures: tuple[str, ...] = tuple(sorted(examples))
        shape: tuple[int, ...] | None = None
        rows: list[Features] = []
        labels: list[int] = []
        for index, name in enumerate(self.gestures):
            sequences = list(examples[name])
            if len(sequences) < MIN_EXAMPLES:
                raise GestureTemplateError(
                    f"gesture {name!r}: {len(sequences)} example(s); at least {MIN_EXAMPLES} "
                    "are needed to tell how close its repetitions are"
                )
            for sequence in sequences:
                if shape is None:
                    shape = sequence.shape
                elif sequence.shape != shape:
                    raise GestureTemplateError(
                        f"gesture {name!r}: an example of shape {sequence.shape}, others {shape}"
                    )
                variants = [sequence, mirror(sequence)] if mirror_invariant else [sequence]
                for variant in variants:
                    rows.append(features(variant))
                    labels.append(index)
        if shape is None:
            raise GestureTemplateError("no gestures to match against")
        self.shape = shape
        self.templates: Features = np.stack(rows)
        self.labels = np.asarray(labels, dtype=np.intp)
        self.norms = np.einsum("kjd,kjd->kj", self.templates, self.templates)
        self.lower, self.upper = envelopes(self.templates, band)
        self.middles, self.widths = self._calibrate(mirror_invariant)

    def _calibrate(self, mirrored: bool) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per gesture, where confidence crosses 0.5 and how fast it falls: two anchors,
        measured on its own examples. Its *typical* distance (the median over its examples
        of the distance to the nearest other example, not the example's own mirror image)
        scores :data:`TYPICAL_CONFIDENCE`; its *still* distance (the median over its
        examples of the distance to the nearest of the example's own postures held still:
        its first, last and mean frame) scores :data:`STILL_CONFIDENCE`. So a gesture is
        judged against not moving at all, not only against its own spread."""
        per_example = 2 if mirrored else 1
        count = len(self.gestures)
        middles, widths = np.empty(count), np.empty(count)
        high = math.log(TYPICAL_CONFIDENCE / (1.0 - TYPICAL_CONFIDENCE))
        low = math.log(STILL_CONFIDENCE / (1.0 - STILL_CONFIDENCE))
        for index, name in enumerate(self.gestures):
            members = np.flatnonzero(self.labels == index)
            nearest, still = [], []
            for member in members[::per_example]:
                others = members[members // per_example != member // per_example]
                distances = dtw_distances(self.templates[member], self.templates[others], self.band)
                nearest.append(float(distances.min()))
                frames = self.templates[member]
                held = np.stack(
                    [np.repeat(pose[None], len(frames), axis=0)
                     for pose in (frames[0], frames[-1], frames.mean(axis=0))]
                )  # fmt: skip
                still.append(float(dtw_distances(frames, held, self.band).min()))
            typical, standing = float(np.median(nearest)), float(np.median(still))
            if not typical > MIN_TYPICAL_DISTANCE:
                raise GestureTemplateError(
                    f"gesture {name!r}: its examples are identical; record it again with "
                    "natural repetitions"
                )
            if standing < MIN_STILL_MARGIN * typical:
                raise GestureTemplateError(
                    f"gesture {name!r}: its examples differ from each other about as much as "
                    "from standing still, so it could not be told from not moving; perform "
                    "it larger and the same way each time"
                )
            widths[index] = (standing - typical) / (high - low)
            middles[index] = typical + high * widths[index]
        return middles, widths

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
        query = features(sequence)
        bounds = lb_keogh(query, self.lower, self.upper)
        candidates = np.flatnonzero(bounds <= self.reach(min_confidence))
        pruned = len(self.labels) - len(candidates)
        if candidates.size == 0:
            return None
        if pruned:
            templates, norms = self.templates[candidates], self.norms[candidates]
        else:
            templates, norms = self.templates, self.norms
        distances = dtw_distances(query, templates, self.band, norms)
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
