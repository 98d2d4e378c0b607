"""How long matching one gesture sequence against 30 taught templates takes
(:meth:`engine.gestures.dtw.GestureMatcher.match`), the step that runs for every tracked
person on every analysed frame once a sequence is complete.

Templates are 10 gestures × 3 examples of 30 frames of 33 landmarks in x, y, z (MediaPipe's
shape): per gesture, one smooth random motion of a body with a torso, performed three times
with another amplitude and a little jitter each, normalised as taught ones are. Queries are
half new repetitions of the gestures, half other such motions. Figures are medians over the
rounds of this thread's CPU time (steady on a shared machine) and wall time, per match:

- ``match_ms``: at the default confidence (0.7), LB_Keogh pruning what cannot reach it;
- ``match_unpruned_ms``: at confidence 0, every template warped to the end (the worst case:
  nothing pruned, nothing abandoned early);
- ``pruned_share``: the share of templates the bound pruned at 0.7.

Target: under 1 ms per match at the default confidence (the reference design took about
5 ms); ``match_unpruned_ms`` says how close the worst case comes.
``python -m benchmarks.gesture_dtw`` or ``python -m benchmarks gesture_dtw``.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import numpy as np

from engine.gestures.dtw import GestureMatcher, features, lb_keogh
from engine.gestures.sequence import LANDMARKS, SEQUENCE_FRAMES, normalise

GESTURES = 10
EXAMPLES = 3
QUERIES = 50
ROUNDS = 20
TARGET_MS = 1.0


def _motion(rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
    """A smooth motion of every landmark around ``base`` over 30 frames (3 coordinates)."""
    drift = rng.normal(0.0, 0.05, (SEQUENCE_FRAMES, LANDMARKS, 3)).cumsum(axis=0)
    motion: np.ndarray = base[None] + drift
    return motion


def _body(rng: np.random.Generator) -> np.ndarray:
    base = rng.normal(0.0, 0.5, (LANDMARKS, 3))
    base[[11, 12, 23, 24]] = [[0.25, -1, 0], [-0.25, -1, 0], [0.15, 0, 0], [-0.15, 0, 0]]
    return base


def _repetition(rng: np.random.Generator, base: np.ndarray, path: np.ndarray) -> np.ndarray:
    """``path`` performed again: another amplitude, a little jitter."""
    jitter = rng.normal(0.0, 0.01, path.shape)
    return normalise(base[None] + path * rng.uniform(0.9, 1.1) + jitter)


def run() -> dict[str, Any]:
    rng = np.random.default_rng(8)
    examples: dict[str, list[np.ndarray]] = {}
    bodies = []
    for g in range(GESTURES):
        base = _body(rng)
        path = _motion(rng, np.zeros((LANDMARKS, 3)))
        bodies.append((base, path))
        examples[f"gesture {g}"] = [_repetition(rng, base, path) for _ in range(EXAMPLES)]
    matcher = GestureMatcher(examples)
    queries = []
    for q in range(QUERIES):
        if q % 2:
            queries.append(_repetition(rng, *bodies[q % GESTURES]))
        else:
            queries.append(normalise(_motion(rng, _body(rng))))
    figures: dict[str, Any] = {"templates": int(matcher.templates.shape[0])}
    for name, confidence in (("match", 0.7), ("match_unpruned", 0.0)):
        wall, cpu, pruned = [], [], []
        for _ in range(ROUNDS):
            started, started_cpu = time.perf_counter(), time.thread_time()
            for query in queries:
                found = matcher.match(query, min_confidence=confidence)
                if found is not None:
                    pruned.append(found.pruned)
            wall.append((time.perf_counter() - started) * 1000 / QUERIES)
            cpu.append((time.thread_time() - started_cpu) * 1000 / QUERIES)
        figures[f"{name}_ms"] = round(statistics.median(cpu), 3)
        figures[f"{name}_wall_ms"] = round(statistics.median(wall), 3)
    # The pruned share at 0.7, counted on every query (a match or not).
    reach = matcher.reach(0.7)
    shares = [
        float((lb_keogh(features(q), matcher.lower, matcher.upper) > reach).mean()) for q in queries
    ]
    figures["pruned_share"] = round(statistics.mean(shares), 3)
    figures["target_ms"] = TARGET_MS
    figures["target_met"] = figures["match_ms"] < TARGET_MS
    return figures


if __name__ == "__main__":
    print(json.dumps({"benchmark": "gesture_dtw", **run()}))
