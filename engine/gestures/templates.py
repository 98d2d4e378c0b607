"""The taught gestures as the live matcher uses them.

A :class:`GestureTemplate` is one gesture's examples (normalised sequences of
:data:`~engine.gestures.sequence.SEQUENCE_FRAMES` frames) with how long each lasted. A
:class:`GestureSet` is every taught gesture ready to match: live matching looks at windows of
a tracked person's recent landmarks that end now, one window length per group of gestures of
a similar length (:attr:`GestureSet.windows_s`), because DTW's band absorbs only a small
change of pace. Gestures whose mirror image counts are matched by their own matcher.
Immutable once built, any thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.gestures.dtw import (
    MATCH_CONFIDENCE,
    FeatureSet,
    GestureMatch,
    GestureMatcher,
    review_examples,
)
from engine.gestures.sequence import Landmarks, normalise

WINDOW_STEP_S: Final = 0.25  # window lengths are rounded to this
MIN_WINDOW_S: Final = 0.5
MAX_WINDOW_S: Final = 4.0
WINDOW_SPREAD: Final = 1.35  # gestures whose typical lengths differ by less share a window


@dataclass(frozen=True, slots=True)
class GestureTemplate:
    """A taught gesture: ``examples`` normalised (frames × 33 × 3 each), ``durations_s``
    how long each lasted before it was resampled."""

    name: str
    alerting: bool
    mirror_invariant: bool
    examples: tuple[Landmarks, ...]
    durations_s: tuple[float, ...]

    @property
    def typical_s(self) -> float:
        """The median length of its examples (seconds)."""
        return float(np.median(self.durations_s))


def _round_window(seconds: float) -> float:
    stepped = round(seconds / WINDOW_STEP_S) * WINDOW_STEP_S
    return min(MAX_WINDOW_S, max(MIN_WINDOW_S, stepped))


@dataclass(frozen=True, slots=True)
class _Group:
    window_s: float
    matchers: tuple[GestureMatcher, ...]  # one per mirror setting present in the group


class GestureSet:
    """Every taught gesture, grouped by length; ``match`` one window of raw landmarks.

    ``min_confidence``: a detection needs at least this (default 0.7); ``feature_set``: what
    frames are compared by (see :func:`engine.gestures.dtw.features`). A gesture whose
    examples cannot be calibrated (see :func:`engine.gestures.dtw.review_examples`) is left
    out and named in :attr:`unusable` with why. Templates with fewer than two examples
    raise :class:`~engine.gestures.dtw.GestureTemplateError` naming the gesture."""

    def __init__(
        self,
        templates: Sequence[GestureTemplate],
        min_confidence: float = MATCH_CONFIDENCE,
        *,
        feature_set: FeatureSet = "limbs",
    ) -> None:
        if not 0.0 < min_confidence <= 1.0:
            raise ValueError(f"min_confidence: expected 0–1, got {min_confidence}")
        self.min_confidence = min_confidence
        # A gesture stored by an older version whose examples the current calibration
        # refuses is left out (named in ``unusable``), not allowed to stop every other one.
        usable: list[GestureTemplate] = []
        self.unusable: dict[str, str] = {}
        for template in templates:
            refusal = (
                review_examples(
                    template.name,
                    template.examples,
                    mirror_invariant=template.mirror_invariant,
                    feature_set=feature_set,
                ).refusal
                if len(template.examples) >= 2
                else None  # GestureMatcher names a gesture with too few examples
            )
            if refusal is None:
                usable.append(template)
            else:
                self.unusable[template.name] = refusal
        self.templates = tuple(sorted(usable, key=lambda t: t.name))
        self._alerting = {t.name for t in self.templates if t.alerting}
        groups: list[list[GestureTemplate]] = []
        for template in sorted(self.templates, key=lambda t: t.typical_s):
            if groups and template.typical_s <= groups[-1][0].typical_s * WINDOW_SPREAD:
                groups[-1].append(template)
            else:
                groups.append([template])
        built: list[_Group] = []
        for members in groups:
            window = _round_window(float(np.median([t.typical_s for t in members])))
            matchers = []
            for mirrored in (False, True):
                chosen = {t.name: t.examples for t in members if t.mirror_invariant == mirrored}
                if chosen:
                    matchers.append(
                        GestureMatcher(chosen, mirror_invariant=mirrored, feature_set=feature_set)
                    )
            built.append(_Group(window, tuple(matchers)))
        self._groups = tuple(built)
        self.windows_s: tuple[float, ...] = tuple(sorted({g.window_s for g in built}))

    def __bool__(self) -> bool:
        return bool(self.templates)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.templates)

    def is_alerting(self, gesture: str) -> bool:
        return gesture in self._alerting

    def match(self, frames: npt.ArrayLike, window_s: float) -> GestureMatch | None:
        """The best gesture among those matched over windows of ``window_s`` seconds, given
        the raw landmarks (frames × 33 × 2|3) that cover such a window; None when none
        reaches ``min_confidence``. :class:`~engine.gestures.sequence.LandmarkError` for
        landmarks that cannot be used."""
        best: GestureMatch | None = None
        sequence: Landmarks | None = None
        for group in self._groups:
            if not math.isclose(group.window_s, window_s):
                continue
            if sequence is None:
                sequence = normalise(frames)
            for matcher in group.matchers:
                if sequence.shape[-1] != matcher.shape[-1]:
                    sequence = sequence[..., : matcher.shape[-1]]
                found = matcher.match(sequence, self.min_confidence)
                if found is not None and (best is None or found.confidence > best.confidence):
                    best = found
        return best


EMPTY_SET: Final = GestureSet(())
