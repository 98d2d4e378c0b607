"""The simulated camera: how long a picture takes to render, and whether the real people
detector finds the simulated people in it.

Scene: an 8 m × 6 m room (walls, 1 m tiles) with three scripted walkers (loops that cross,
walking towards, away from and across the camera), filmed by a camera mounted at 2.8 m, from
two places: a corner (looking along the diagonal) and the middle of the south wall. 125
pictures of each at 10 fps (12.5 s), 640 × 480.

Recall: among the people whose true box (:func:`engine.sim.scene.truth_boxes`, clipped to
the picture) is at least 60 px tall and who are at least 70 % visible (in the picture and
not behind a nearer person's box), the share that the built-in YOLOv3-tiny (the default
detector, as the analyzer runs it: the whole frame) finds with IoU ≥ 0.4, matched one to one
(Hungarian, over every person in the picture). Also: detections that match nobody, and the
recall by view.

Render time: the mean and 95th percentile over the same pictures (three people each), one
thread, after the background of the view is cached (its first picture's cost is given
apart): rendering alone (wall time, and the mean CPU time, which other processes on a busy
machine cannot inflate), and each picture rendered right after the detector ran on the
previous one, as a camera worker alternates them (OpenCV's DNN threads slow it then).

Run: ``.venv/bin/python -m benchmarks sim_camera``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.sim.nodes import ScriptedWalker
from engine.sim.scene import (
    CameraView,
    Floor,
    FloorRect,
    ScenePerson,
    person_from_walker,
    render,
    truth_boxes,
)
from engine.vision.detect import make_detector
from engine.vision.geometry import Box, iou_matrix

ROOM = FloorRect(0.0, 0.0, 8.0, 6.0)
FLOOR = Floor.around([ROOM], margin_m=1.0)
MOUNT_HEIGHT_M = 2.8
VIEWS = {
    "corner": CameraView(-0.6, -0.6, MOUNT_HEIGHT_M, 36.9, 27.0, 80.0),
    "wall": CameraView(4.0, -0.8, MOUNT_HEIGHT_M, 90.0, 30.0, 90.0),
}
FPS = 10.0
FRAMES_PER_VIEW = 125
MIN_HEIGHT_PX = 60.0
MIN_VISIBLE = 0.7
IOU_MATCH = 0.4


def scripted_walkers() -> list[ScriptedWalker]:
    """Three people on loops that cross in the middle of the room."""
    return [
        ScriptedWalker([(1.0, 1.0), (7.0, 1.2), (7.0, 5.0), (1.2, 5.0)], 1.2, loop=True),
        ScriptedWalker([(6.5, 5.3), (1.5, 0.9), (2.5, 4.5)], 1.0, loop=True),
        ScriptedWalker([(4.0, 5.4), (4.2, 0.8), (6.0, 3.0), (1.5, 3.0)], 0.9, loop=True),
    ]


def people_at(walkers: Sequence[ScriptedWalker], t_s: float) -> list[ScenePerson]:
    return [person_from_walker(w, t_s, i) for i, w in enumerate(walkers)]


def score(view: CameraView, people: Sequence[ScenePerson], found: Sequence[Box]) -> dict[str, int]:
    """Eligible people, those found, and detections matching nobody, in one picture."""
    truths = truth_boxes(view, people)
    boxes = [Box(*t.box).clipped(view.width, view.height) for t in truths]
    eligible = [
        t.visible >= MIN_VISIBLE and b.h >= MIN_HEIGHT_PX
        for t, b in zip(truths, boxes, strict=True)
    ]
    matched: set[int] = set()
    used: set[int] = set()
    if boxes and found:
        overlap = iou_matrix(boxes, list(found))
        rows, cols = linear_sum_assignment(-overlap)
        for r, c in zip(rows, cols, strict=True):
            if overlap[r, c] >= IOU_MATCH:
                matched.add(int(r))
                used.add(int(c))
    return {
        "eligible": sum(eligible),
        "found": sum(1 for i, ok in enumerate(eligible) if ok and i in matched),
        "unmatched_detections": len(found) - len(used),
    }


def run() -> dict[str, Any]:
    detector = make_detector(None, "yolov3-tiny")
    walkers = scripted_walkers()
    figures: dict[str, Any] = {
        "frames": FRAMES_PER_VIEW * len(VIEWS),
        "people": len(walkers),
        "criteria": f"true box ≥ {MIN_HEIGHT_PX:g} px tall, ≥ {MIN_VISIBLE:.0%} visible, "
        f"IoU ≥ {IOU_MATCH}",
    }
    totals = {"eligible": 0, "found": 0, "unmatched_detections": 0}
    by_view: dict[str, float] = {}
    first_ms: dict[str, float] = {}
    render_ms: list[float] = []  # rendering alone
    render_cpu_ms: list[float] = []  # the CPU time it took (what other processes cannot inflate)
    interleaved_ms: list[float] = []  # each picture rendered after the previous one's detection
    for name, view in VIEWS.items():
        started = time.perf_counter()
        render(view, people_at(walkers, 0.0), 0.0, floor=FLOOR)  # draws and caches the floor
        first_ms[name] = round(1000 * (time.perf_counter() - started), 1)
        for n in range(FRAMES_PER_VIEW):
            people = people_at(walkers, n / FPS)
            started, started_cpu = time.perf_counter(), time.thread_time()
            render(view, people, n / FPS, floor=FLOOR)
            render_ms.append(1000 * (time.perf_counter() - started))
            render_cpu_ms.append(1000 * (time.thread_time() - started_cpu))
        counts = {"eligible": 0, "found": 0, "unmatched_detections": 0}
        for n in range(FRAMES_PER_VIEW):
            t_s = n / FPS
            people = people_at(walkers, t_s)
            started = time.perf_counter()
            image = render(view, people, t_s, floor=FLOOR)
            interleaved_ms.append(1000 * (time.perf_counter() - started))
            found = [d.box for d in detector.detect(image, None)]
            for key, value in score(view, people, found).items():
                counts[key] += value
        by_view[name] = round(counts["found"] / max(counts["eligible"], 1), 3)
        for key, value in counts.items():
            totals[key] += value
    figures.update(
        {
            "eligible": totals["eligible"],
            "found": totals["found"],
            "recall": round(totals["found"] / max(totals["eligible"], 1), 3),
            "recall_by_view": by_view,
            "unmatched_detections": totals["unmatched_detections"],
            "render_ms_mean": round(statistics.fmean(render_ms), 2),
            "render_ms_p95": round(float(np.percentile(render_ms, 95)), 2),
            "render_cpu_ms_mean": round(statistics.fmean(render_cpu_ms), 2),
            "render_between_detections_ms_mean": round(statistics.fmean(interleaved_ms), 2),
            "render_between_detections_ms_p95": round(float(np.percentile(interleaved_ms, 95)), 2),
            "first_render_ms": first_ms,
        }
    )
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
