"""Is a gesture taught from 3 examples recognised on other people, and not in other motions?
Precision and recall of the product's teach → match path on a labelled set.

The set has two parts (figures say which is which):

- **kinematic** recordings (:mod:`benchmarks.pose_set.kinematics`): an articulated body in
  MediaPipe's 33-landmark layout performing 7 gestures (wave, raise_hand, help, beckon, stop,
  point, clap) × 8 performances by 8 performers, and 20 everyday motions × 2 performances
  (walking in place and past, turning round, scratching the head, folding arms, a phone to
  the ear, picking up, stretching, adjusting glasses, checking a watch, sitting down,
  shrugging, hands in pockets, looking round, drinking, wiping the forehead, reaching for a
  shelf, crouching, rubbing hands, standing still), each seen by its own camera, with
  landmarker noise measured on real MediaPipe output (re-measured here: ``jitter``);
- **real** recorded poses: MediaPipe's landmarks (:class:`engine.gestures.pose.PoseEstimator`,
  video mode at the gesture worker's 10 Hz, three sampling phases) of the speaker in
  ``../shared/testdata/video/short_hamilton_clip.mp4``, who moves his arms while talking: every
  second of it with a pose is a non-gesture sample. (``vtest.avi``'s pedestrians are about
  80 px tall, under the worker's 96 px minimum for posing anyone, so they are not used.)
  Landmarks are cached under ``artifacts/gesture_accuracy`` (not in git).

**The issue's protocol** (``one_performer@0.7``, the headline): each gesture taught from 3
repetitions by ONE performer in front of one camera (a new one per seed), mirror-invariant
(the product's default), at the default confidence; scored on 2 more of their repetitions
(``same_performer_recall``), on all 56 performances of the seed's set, every one by
another person (``other_performers_recall``, ``precision``, per gesture), and on the
everyday motions and real seconds: ``false_per_10min`` is how many of them fired a gesture
per 10 minutes of them (``watched_s``). Targets: recall ≥ 0.8 at precision ≥ 0.9, ≤ 1
false detection per 10 minutes (``targets_met``). Run side by side for each feature set of
:data:`engine.gestures.dtw.FEATURE_SETS` (``limbs``, the product's, and the former
``coordinates``), with the same calibration. ``advised_at_teaching`` counts gestures whose
examples teaching would comment on (too alike, one unlike the others).

**Taught from three** (``mirror_off@…``, ``mirror_on@…``), per seed: each gesture is taught
from its first 3 performances (3 performers),
cut into examples by the product's own :func:`engine.gestures.teach.split_examples` (the
known span ± 0.1 s when it does not find exactly one: ``teach_split`` counts, per gesture,
"one", "several" — a raise, hold and lower is cut in two at the hold — or "refused"),
normalised, durations from the frame count at 30 fps, into ``GestureTemplate``/``GestureSet``
exactly as the library builds them. Every other recording is then played as the live worker
sees it: poses at 10 Hz (random phase; frames with no pose skipped), after each pose every
taught window length is matched (:func:`engine.gestures.worker.window_frames` then
``GestureSet.match``). A recording *fires* a gesture when any window matches it. Per
gesture: a held-out performance of it that fires it is a true positive, one that does not a
false negative; any other recording (another gesture, an everyday motion, a real second)
that fires it a false positive. ``confusion`` counts each held-out performance under the
gesture of its most confident window ("none" if none), summed over the seeds.

Conditions (``mirror_off@0.7`` …): confidence 0.6, the default 0.7 and 0.8, each with the
gestures taught mirror-invariant or not. One ``GestureSet`` built at 0.6 serves the three
thresholds: ``match`` returns a window's most confident gesture when it reaches the set's
minimum (LB_Keogh prunes only what cannot), so at 0.7 it returns the same match when its
confidence is ≥ 0.7 and none otherwise. Figures over :data:`SEEDS` seeds: ``median`` and
``min`` of each rate and count (per gesture: median precision and recall, ``recall_min``).

``calibration`` (mirror off, first seed): per held-out performance, its best window's DTW
distance to its own gesture's nearest template divided by that gesture's threshold distance
(what scores the default 0.7; under 1 is recognised), and the same for the everyday motions
and real seconds against every gesture (their closest gesture).

All figures are medians over :data:`SEEDS` seeds (``min`` beside them).

``python -m benchmarks.gesture_accuracy`` or ``python -m benchmarks gesture_accuracy``.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from benchmarks.pose_set.kinematics import (
    FPS,
    GESTURES,
    NON_GESTURES,
    Recording,
    make_camera,
    make_performer,
    perform,
)
from engine.gestures.dtw import (
    FEATURE_SETS,
    MATCH_CONFIDENCE,
    FeatureSet,
    GestureMatcher,
    GestureTemplateError,
    dtw_distances,
    features,
)
from engine.gestures.library import example_advice
from engine.gestures.sequence import LandmarkError, Landmarks, normalise
from engine.gestures.teach import PAD_S, PoseSeries, TeachError, split_examples
from engine.gestures.templates import GestureSet, GestureTemplate
from engine.gestures.worker import POSE_INTERVAL_S, window_frames

SEEDS: Final = 5
CALIBRATED_SEEDS: Final = 1  # seeds whose windows are also measured for ``calibration``
PERFORMANCES: Final = 8  # per gesture, each by another performer
TEACH: Final = 3  # performances taught from (the first ones); the rest are held out
REPEATS: Final = 2  # performances of each everyday motion
THRESHOLDS: Final = (0.6, 0.7, 0.8)
DEFAULT: Final = 0.7
NONE: Final = "none"

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"
REAL_CLIP = TESTDATA / "video" / "short_hamilton_clip.mp4"
STILL = TESTDATA / "faces" / "two_people.jpg"
CACHE = ROOT / "artifacts" / "gesture_accuracy"
REAL_PHASES: Final = 3  # 10 Hz samplings of the 30 fps clip, offset by a frame each
CUT_JUMP: Final = 0.4  # a torso length changing by this share between poses is a shot cut
SEGMENT_S: Final = 1.0  # a real sample: one second (30 frames) of the clip
SEGMENT_FILL: Final = 0.8  # ...with poses in at least this share of its 10 Hz slots

Poses = list[tuple[float, Landmarks]]


# ---- the set ----


@dataclass(frozen=True, slots=True)
class PoseSet:
    """One seed's kinematic recordings: ``teach`` per gesture, ``held_out`` gesture
    performances, ``everyday`` non-gesture motions."""

    teach: dict[str, list[Recording]]
    held_out: list[Recording]
    everyday: list[Recording]


def build_pose_set(
    seed: int,
    *,
    gestures: Sequence[str] = GESTURES,
    performances: int = PERFORMANCES,
    everyday: Sequence[str] = NON_GESTURES,
    repeats: int = REPEATS,
) -> PoseSet:
    """The kinematic set for ``seed``: performance ``i`` of every gesture is by performer
    ``i``; everyday motions by performers drawn from the same pool."""
    rng = np.random.default_rng(seed)
    performers = [make_performer(rng) for _ in range(performances)]
    teach: dict[str, list[Recording]] = {}
    held_out: list[Recording] = []
    for gesture in gestures:
        recordings = [
            perform(gesture, body, i, make_camera(rng), rng) for i, body in enumerate(performers)
        ]
        teach[gesture] = recordings[:TEACH]
        held_out += recordings[TEACH:]
    others = []
    for label in everyday:
        for _ in range(repeats):
            who = int(rng.integers(len(performers)))
            others.append(perform(label, performers[who], who, make_camera(rng), rng))
    return PoseSet(teach, held_out, others)


# ---- teaching, as the product does ----


def example_of(recording: Recording) -> tuple[Landmarks, float, str]:
    """The recording's repetition as a taught example: (normalised frames, seconds, what the
    product's split found: "one" example, "several" or "refused"; unless "one", the example
    is the known span ± PAD_S)."""
    times = np.arange(len(recording.frames)) / FPS
    series = PoseSeries(recording.label, times, recording.frames, recording.visibility)
    try:
        found = split_examples(series)
    except TeachError:
        found, split = [], "refused"
    else:
        split = "one" if len(found) == 1 else "several"
    if len(found) == 1:
        return found[0].normalised(), found[0].duration_s, split
    pad = round(PAD_S * FPS)
    start, end = max(0, recording.span[0] - pad), min(len(times), recording.span[1] + pad)
    frames = _fill_gaps(recording.frames[start:end])
    return normalise(frames), (end - start - 1) / FPS, split


def _fill_gaps(frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Frames with no pose interpolated from their neighbours (as teaching does)."""
    found = np.isfinite(frames).all(axis=(1, 2))
    if found.all():
        return frames
    index = np.arange(len(frames))
    flat = frames.reshape(len(frames), -1)
    out = np.stack(
        [np.interp(index, index[found], flat[found, c]) for c in range(flat.shape[1])], axis=1
    )
    return out.reshape(frames.shape).astype(np.float32)


def teach_templates(
    teach: dict[str, list[Recording]], *, mirror: bool, feature_set: FeatureSet = "limbs"
) -> tuple[list[GestureTemplate], Counter[str]]:
    """One template per gesture from its teaching recordings; and what the product's split
    made of them (``"gesture:several"``… counts)."""
    templates: list[GestureTemplate] = []
    splits: Counter[str] = Counter()
    for name, recordings in teach.items():
        examples, durations = [], []
        for recording in recordings:
            example, seconds, split = example_of(recording)
            examples.append(example)
            durations.append(seconds)
            splits[f"{name}:{split}"] += 1
        template = GestureTemplate(
            name=name,
            alerting=False,
            mirror_invariant=mirror,
            examples=tuple(examples),
            durations_s=tuple(durations),
        )
        advice = example_advice(template.examples, template.durations_s, mirror_invariant=mirror)
        if advice:  # what teaching would tell the admin (too alike, one unlike the others)
            splits[f"{name}:advised"] += 1
        try:  # teaching refuses a gesture its examples cannot calibrate (the library's check)
            GestureMatcher(
                {name: template.examples}, mirror_invariant=mirror, feature_set=feature_set
            )
        except GestureTemplateError:
            splits[f"{name}:refused_at_teaching"] += 1
            continue
        templates.append(template)
    return templates, splits


# ---- live matching, as the worker does ----


def poses_at_worker_rate(recording: Recording, phase: int) -> Poses:
    """The recording's poses at the worker's 10 Hz, starting at frame ``phase`` (0–2);
    frames with no pose are missing, as they are live."""
    step = round(POSE_INTERVAL_S * FPS)
    found = recording.found
    return [(i / FPS, recording.frames[i]) for i in range(phase, len(found), step) if found[i]]


@dataclass
class Played:
    """What the live matching saw in one recording or sample: per gesture, the best
    confidence of a window whose match it was; and the normalised windows (kept for the
    calibration figures)."""

    fired: dict[str, float] = field(default_factory=dict)
    windows: list[Landmarks] = field(default_factory=list)

    def merge(self, other: Played) -> None:
        for gesture, confidence in other.fired.items():
            self.fired[gesture] = max(self.fired.get(gesture, 0.0), confidence)
        self.windows += other.windows


def play(gestures: GestureSet, poses: Poses, *, keep_windows: bool = False) -> Played:
    """Every window the worker would match as these poses arrive (one per taught window
    length after each pose)."""
    played = Played()
    for count in range(1, len(poses) + 1):
        played.merge(play_last(gestures, poses[:count], keep_windows=keep_windows))
    return played


def play_last(gestures: GestureSet, poses: Poses, *, keep_windows: bool = False) -> Played:
    """The windows ending at the last of ``poses`` (what the worker matches on its arrival)."""
    played = Played()
    end_s = poses[-1][0]
    for window_s in gestures.windows_s:
        frames = window_frames(poses, end_s, window_s)
        if frames is None:
            continue
        try:
            found = gestures.match(frames, window_s)
        except LandmarkError:
            continue
        if keep_windows:
            played.windows.append(normalise(frames))
        if found is not None:
            played.fired[found.gesture] = max(
                played.fired.get(found.gesture, 0.0), found.confidence
            )
    return played


# ---- real footage ----


def real_poses(clip: Path = REAL_CLIP) -> list[Poses]:
    """Per sampling phase, the poses (10 Hz, video mode) of the clip's person, each list cut
    into tracks at shot cuts; cached by the clip's size and time."""
    stamp = clip.stat()
    CACHE.mkdir(parents=True, exist_ok=True)
    cache = CACHE / f"{clip.stem}-{stamp.st_size}-{int(stamp.st_mtime)}.npz"
    if not cache.is_file():
        _estimate_real(clip, cache)
    stored = np.load(cache)
    tracks: list[Poses] = []
    for phase in range(REAL_PHASES):
        times, marks = stored[f"t{phase}"], stored[f"lm{phase}"]
        tracks += _cut_at_shots([(float(t), m) for t, m in zip(times, marks, strict=True)])
    return tracks


def _estimate_real(clip: Path, cache: Path) -> None:
    from engine.cv import import_cv2
    from engine.gestures.pose import PoseEstimator

    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(clip))
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or FPS
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    step = round(POSE_INTERVAL_S * fps)
    arrays: dict[str, npt.NDArray[Any]] = {}
    for phase in range(REAL_PHASES):
        times, marks = [], []
        with PoseEstimator(video=True) as estimator:
            for index in range(phase, len(frames), step):
                at = index / fps
                pose = estimator.estimate(frames[index], at_s=at)
                if pose is not None:
                    times.append(at)
                    marks.append(pose.landmarks)
        arrays[f"t{phase}"] = np.asarray(times)
        arrays[f"lm{phase}"] = np.asarray(marks, dtype=np.float32).reshape(-1, 33, 3)
    np.savez(cache, **arrays)  # type: ignore[arg-type]


def _torso(marks: Landmarks) -> float:
    hips = (marks[23, :2] + marks[24, :2]) / 2
    shoulders = (marks[11, :2] + marks[12, :2]) / 2
    return float(np.linalg.norm(shoulders - hips))


def _cut_at_shots(poses: Poses) -> list[Poses]:
    """Poses split where the picture cuts to another shot (the torso's length jumps), as a
    tracker would start a new track."""
    tracks: list[Poses] = []
    for pose in poses:
        if tracks and abs(_torso(pose[1]) / _torso(tracks[-1][-1][1]) - 1) <= CUT_JUMP:
            tracks[-1].append(pose)
        else:
            tracks.append([pose])
    return [t for t in tracks if len(t) > 1]


def real_samples(
    gestures: GestureSet, tracks: Sequence[Poses], *, keep: bool = False
) -> list[Played]:
    """Each second of each track with a pose in most of its 10 Hz slots: what fired in the
    windows ending in it (windows reaching back before it, as live)."""
    samples = []
    slots = round(SEGMENT_S / POSE_INTERVAL_S)
    for poses in tracks:
        start = poses[0][0]
        edges = np.arange(start, poses[-1][0] + 1e-9, SEGMENT_S)
        per_segment: dict[int, Played] = defaultdict(Played)
        counts: Counter[int] = Counter()
        for count in range(1, len(poses) + 1):
            end_s = poses[count - 1][0]
            segment = int((end_s - start) // SEGMENT_S)
            counts[segment] += 1
            per_segment[segment].merge(play_last(gestures, poses[:count], keep_windows=keep))
        for segment in range(len(edges)):
            if counts[segment] >= SEGMENT_FILL * slots:
                samples.append(per_segment[segment])
    return samples


def measured_jitter() -> dict[str, Any]:
    """MediaPipe's landmark jitter on a still picture shifted by 0–5 px (image mode): per body
    part, the spread of its landmarks after undoing the shift, in torso lengths."""
    from engine.cv import import_cv2
    from engine.gestures.pose import PoseEstimator

    cv2 = import_cv2()
    image = cv2.imread(str(STILL))
    found = []
    with PoseEstimator() as estimator:
        for dx in range(6):
            for dy in (0, 2, 4):
                shift = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
                moved = cv2.warpAffine(
                    image, shift, image.shape[1::-1], borderMode=cv2.BORDER_REFLECT
                )
                pose = estimator.estimate(moved)
                if pose is not None:
                    marks = pose.landmarks.astype(np.float64)
                    marks[:, 0] -= dx
                    marks[:, 1] -= dy
                    found.append(marks)
    if len(found) < 3:
        return {"estimates": len(found)}
    stack = np.stack(found)
    torso = float(np.median([_torso(m.astype(np.float32)) for m in stack]))
    spread = stack.std(axis=0) / torso
    parts = {"head": [0, 2, 5], "shoulders": [11, 12], "elbows": [13, 14], "wrists": [15, 16]}
    return {
        "estimates": len(found),
        **{f"{part}_xy": round(float(spread[idx, :2].mean()), 4) for part, idx in parts.items()},
        **{f"{part}_z": round(float(spread[idx, 2].mean()), 4) for part, idx in parts.items()},
    }


# ---- scoring ----


@dataclass(frozen=True, slots=True)
class Labelled:
    """A played recording or sample with its truth (a gesture, or None) and kind."""

    truth: str | None
    kind: str  # "held_out", "everyday" or "real"
    name: str
    played: Played


def score(samples: Sequence[Labelled], gestures: Sequence[str], threshold: float) -> dict[str, Any]:
    """Precision and recall per gesture and overall, confusion and false detections at
    ``threshold``."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    confusion: Counter[str] = Counter()
    false = {"everyday": 0, "real": 0}
    totals = Counter(s.kind for s in samples)
    false_motions: Counter[str] = Counter()
    for sample in samples:
        fired = {g: c for g, c in sample.played.fired.items() if c >= threshold}
        for gesture in gestures:
            if gesture == sample.truth:
                if gesture in fired:
                    tp[gesture] += 1
                else:
                    fn[gesture] += 1
            elif gesture in fired:
                fp[gesture] += 1
        if sample.truth is not None:
            top = max(fired, key=lambda g: fired[g]) if fired else NONE
            confusion[f"{sample.truth}>{top}"] += 1
        elif fired:
            false[sample.kind] += 1
            for gesture in fired:
                false_motions[f"{sample.name}>{gesture}"] += 1
    per_gesture = {
        g: {"precision": _ratio(tp[g], tp[g] + fp[g]), "recall": _ratio(tp[g], tp[g] + fn[g])}
        for g in gestures
    }
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "precision": _ratio(all_tp, all_tp + all_fp),
        "recall": _ratio(all_tp, all_tp + all_fn),
        "per_gesture": per_gesture,
        "false_everyday": false["everyday"],
        "everyday": totals["everyday"],
        "false_real": false["real"],
        "real": totals["real"],
        "confusion": dict(confusion),
        "false_motions": dict(false_motions),
    }


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def calibration(
    templates: Sequence[GestureTemplate], samples: Sequence[Labelled]
) -> dict[str, list[float]]:
    """Best-window distance over the gesture's typical own-example distance: of held-out
    performances to their own gesture; of non-gesture samples to their closest gesture."""
    matcher = GestureMatcher({t.name: t.examples for t in templates})
    reach = matcher.reach(MATCH_CONFIDENCE)  # per template: its gesture's threshold distance
    typical = np.array([reach[matcher.labels == i][0] for i in range(len(matcher.gestures))])
    ratios: dict[str, list[float]] = {"held_out": [], "everyday": [], "real": []}
    for sample in samples:
        if not sample.played.windows:
            continue
        best = np.full(len(matcher.gestures), np.inf)
        for window in sample.played.windows:
            query = features(window, canonical=matcher.canonical)
            distances = dtw_distances(query, matcher.templates, matcher.band, matcher.norms)
            for index in range(len(matcher.gestures)):
                mine = distances[matcher.labels == index].min()
                best[index] = min(best[index], mine / typical[index])
        if sample.truth is not None:
            if sample.truth in matcher.gestures:  # else refused at teaching
                ratios["held_out"].append(float(best[matcher.gestures.index(sample.truth)]))
        else:
            ratios[sample.kind].append(float(best.min()))
    return ratios


# ---- the benchmark ----


def run_seed(
    seed: int,
    tracks: Sequence[Poses],
    *,
    pose_set: PoseSet | None = None,
    calibrate: bool = True,
) -> dict[str, Any]:
    """Every condition for one seed: ``{"mirror_off"|"mirror_on": {threshold: score}}``,
    the calibration ratios (mirror off) and what teaching's split made of the recordings."""
    chosen = pose_set or build_pose_set(seed)
    rng = np.random.default_rng(seed + 1000)
    phases = {id(r): int(rng.integers(3)) for r in [*chosen.held_out, *chosen.everyday]}
    names = list(chosen.teach)
    result: dict[str, Any] = {}
    for mirror in (False, True):
        templates, splits = teach_templates(chosen.teach, mirror=mirror)
        result["teach_split"] = splits  # the same recordings either way
        # One set at the lowest threshold serves them all: a window's match at a higher
        # threshold is the same match when its confidence reaches it, else none.
        gestures = GestureSet(templates, min_confidence=min(THRESHOLDS))
        keep = calibrate and not mirror
        samples = [
            Labelled(
                r.label if r.gesture else None,
                "held_out" if r.gesture else "everyday",
                r.label,
                play(gestures, poses_at_worker_rate(r, phases[id(r)]), keep_windows=keep),
            )
            for r in [*chosen.held_out, *chosen.everyday]
        ]
        samples += [
            Labelled(None, "real", "hamilton", s) for s in real_samples(gestures, tracks, keep=keep)
        ]
        conditions = {f"{t}": score(samples, names, t) for t in THRESHOLDS}
        if keep:
            result["calibration"] = calibration(templates, samples)
        result["mirror_on" if mirror else "mirror_off"] = conditions
    return result


def one_performer(
    pose_set: PoseSet, seed: int, tracks: Sequence[Poses], feature_set: FeatureSet
) -> dict[str, Any]:
    """The issue's protocol and the product's own teaching situation: each gesture taught
    from 3 repetitions by one person in front of one camera, mirror-invariant (the
    product's default), at the default confidence. Scored on 2 more of their repetitions
    (``same_performer_recall``), on every performance of the seed's set (all by other
    people: ``precision``, ``other_performers_recall``, per gesture), and on the everyday
    motions and real seconds: ``false_per_10min``, recordings or seconds that fired a
    gesture per 10 minutes of them."""
    rng = np.random.default_rng(seed + 2000)
    body, camera = make_performer(rng), make_camera(rng)
    names = list(pose_set.teach)
    teach = {g: [perform(g, body, -1, camera, rng) for _ in range(TEACH)] for g in names}
    again = [perform(g, body, -1, camera, rng) for g in names for _ in range(2)]
    templates, splits = teach_templates(teach, mirror=True, feature_set=feature_set)
    gestures = GestureSet(templates, feature_set=feature_set)

    def played(recordings: Iterable[Recording]) -> list[Labelled]:
        return [
            Labelled(
                r.label if r.gesture else None,
                "held_out" if r.gesture else "everyday",
                r.label,
                play(gestures, poses_at_worker_rate(r, 0)),
            )
            for r in recordings
        ]

    performances = [r for rs in pose_set.teach.values() for r in rs] + pose_set.held_out
    same = score(played(again), names, DEFAULT)
    samples = played([*performances, *pose_set.everyday])
    samples += [Labelled(None, "real", "hamilton", s) for s in real_samples(gestures, tracks)]
    others = score(samples, names, DEFAULT)
    everyday_s = sum(len(r.frames) / FPS for r in pose_set.everyday)
    real_s = others["real"] * SEGMENT_S
    false = others["false_everyday"] + others["false_real"]
    return {
        "same_performer_recall": same["recall"],
        "other_performers_recall": others["recall"],
        "precision": others["precision"],
        "false_everyday": others["false_everyday"],
        "false_real": others["false_real"],
        "false_per_10min": false / (everyday_s + real_s) * 600.0,
        "watched_s": everyday_s + real_s,
        "per_gesture": others["per_gesture"],
        "refused_at_teaching": sorted(k.split(":")[0] for k in splits if "refused" in k),
        "advised_at_teaching": sorted(k.split(":")[0] for k in splits if "advised" in k),
        "false_motions": others["false_motions"],
    }


def summarise_one_performer(runs: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Medians (and minimums) over seeds of :func:`one_performer`'s figures."""
    out: dict[str, Any] = {
        key: _summary(r[key] for r in runs)
        for key in (
            "other_performers_recall",
            "precision",
            "same_performer_recall",
            "false_per_10min",
            "false_everyday",
            "false_real",
        )
    }
    out["watched_s"] = round(float(statistics.median(r["watched_s"] for r in runs)), 1)
    out["per_gesture"] = {
        g: {
            k: _summary(r["per_gesture"][g][k] for r in runs)["median"]
            for k in ("precision", "recall")
        }
        for g in names
    }
    refused: Counter[str] = Counter()
    advised: Counter[str] = Counter()
    false_motions: Counter[str] = Counter()
    for r in runs:
        refused.update(r["refused_at_teaching"])
        advised.update(r["advised_at_teaching"])
        false_motions.update(r["false_motions"])
    out["refused_at_teaching"] = dict(refused)
    out["advised_at_teaching"] = dict(advised)
    out["false_motions"] = dict(false_motions.most_common())
    out["targets_met"] = bool(
        out["other_performers_recall"]["median"] >= 0.8
        and out["precision"]["median"] >= 0.9
        and out["false_per_10min"]["median"] <= 1.0
    )
    return out


def _summary(values: Iterable[float]) -> dict[str, float]:
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return {"median": math.nan, "min": math.nan}
    return {"median": round(statistics.median(clean), 3), "min": round(min(clean), 3)}


def summarise(seeds: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Medians and minimums over seeds; confusions and false motions summed."""
    out: dict[str, Any] = {}
    for condition in ("mirror_off", "mirror_on"):
        for threshold in (f"{t}" for t in THRESHOLDS):
            runs = [s[condition][threshold] for s in seeds]
            figures: dict[str, Any] = {
                "precision": _summary(r["precision"] for r in runs),
                "recall": _summary(r["recall"] for r in runs),
                "false_everyday": _summary(r["false_everyday"] for r in runs),
                "everyday": runs[0]["everyday"],
                "false_real": _summary(r["false_real"] for r in runs),
                "real": runs[0]["real"],
                "per_gesture": {
                    g: {
                        k: _summary(r["per_gesture"][g][k] for r in runs)["median"]
                        for k in ("precision", "recall")
                    }
                    | {"recall_min": _summary(r["per_gesture"][g]["recall"] for r in runs)["min"]}
                    for g in names
                },
            }
            confusion: Counter[str] = Counter()
            false_motions: Counter[str] = Counter()
            for r in runs:
                confusion.update(r["confusion"])
                false_motions.update(r["false_motions"])
            figures["confusion"] = dict(sorted(confusion.items()))
            figures["false_motions"] = dict(false_motions.most_common())
            out[f"{condition}@{threshold}"] = figures
    ratios: dict[str, list[float]] = defaultdict(list)
    for s in seeds:
        for kind, values in s.get("calibration", {}).items():
            ratios[kind] += values
    out["calibration"] = {
        kind: {
            "n": len(values),
            "p10": round(float(np.percentile(values, 10)), 2),
            "median": round(float(np.median(values)), 2),
            "p90": round(float(np.percentile(values, 90)), 2),
            "max" if kind == "held_out" else "min": round(
                float(max(values) if kind == "held_out" else min(values)), 2
            ),
        }
        for kind, values in ratios.items()
        if values
    }
    splits: Counter[str] = Counter()
    for s in seeds:
        splits.update(s["teach_split"])
    out["teach_split"] = dict(sorted(splits.items()))
    return out


def run(seeds: int = SEEDS) -> dict[str, Any]:
    started = time.perf_counter()
    tracks = real_poses()
    results = [run_seed(seed, tracks, calibrate=seed < CALIBRATED_SEEDS) for seed in range(seeds)]
    single = {
        feature_set: summarise_one_performer(
            [
                one_performer(build_pose_set(seed), seed, tracks, feature_set)
                for seed in range(seeds)
            ],
            GESTURES,
        )
        for feature_set in FEATURE_SETS
    }
    figures: dict[str, Any] = {
        "seeds": seeds,
        "gestures": len(GESTURES),
        "performances": PERFORMANCES,
        "taught_from": TEACH,
        "everyday_motions": len(NON_GESTURES),
        "everyday_recordings": len(NON_GESTURES) * REPEATS,
        "real_tracks": len(tracks),
        **summarise(results, GESTURES),
        "one_performer@0.7": single,
        "jitter_measured": measured_jitter(),
    }
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


if __name__ == "__main__":
    print(json.dumps({"benchmark": "gesture_accuracy", **run()}))
