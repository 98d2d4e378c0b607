"""How well the camera pipeline finds and follows people, scored against ground truth that
we annotated by eye on Debian's vtest.avi (``tests/data/vtest_gt/``, see its README).

- ``run_detectors``: each built-in detector on every annotated frame, as the analyzer runs
  it (YOLOv3-tiny on the whole frame; HOG on the motion gate's regions, the gate having
  seen every frame before): precision and recall at IoU 0.5 (targets: recall ≥ 0.85,
  precision ≥ 0.90).
- ``run_tracker``: the real analyzer (motion gate, detector cadence, tracker) over the
  annotated 30-second segment, scored on every 5th frame with ``motmetrics`` (IDF1 ≥ 0.75,
  ID switches, MOTA); and over the whole video, track IDs per distinct person and per
  visit (``people.csv``: 12 people make 21 visits, most walking loops out of view and back).

Boxes marked ``hard`` (less than half visible, or under 40 px) are neither required nor
counted against a detector or tracker: a prediction on one is simply dropped.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from benchmarks.inputs import vtest_path
from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.cv import import_cv2
from engine.frames import Image
from engine.vision.analysis import CameraAnalyzer
from engine.vision.detect import make_detector
from engine.vision.geometry import Box, iou_matrix
from engine.vision.motion import MotionGate

GT_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "vtest_gt"
SEGMENT_FILE = "segment.csv"
FRAMES_FILE = "frames.csv"
PEOPLE_FILE = "people.csv"
IOU_MATCH = 0.5
DETECTORS = ("yolov3-tiny", "hog")


@dataclass(frozen=True, slots=True)
class Truth:
    """One annotated person in one frame."""

    frame: int
    person: int
    box: Box
    hard: bool


def load_truth(*names: str, folder: Path = GT_DIR) -> dict[int, list[Truth]]:
    """Annotated boxes by frame from the CSV files ``names`` (``frame,id,x,y,w,h,hard``)."""
    by_frame: dict[int, list[Truth]] = {}
    for name in names:
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                truth = Truth(
                    int(row["frame"]),
                    int(row["id"]),
                    Box(float(row["x"]), float(row["y"]), float(row["w"]), float(row["h"])),
                    row["hard"].strip() == "1",
                )
                by_frame.setdefault(truth.frame, []).append(truth)
    return by_frame


def video_frames(path: Path, wanted: Iterable[int] | None = None) -> Iterator[tuple[int, Image]]:
    """(index, BGR image) of the frames of ``path`` read in order (every frame when
    ``wanted`` is None). Sequential reads, as the annotations were made: seeking in
    msmpeg4 is not frame-exact."""
    cv2 = import_cv2()
    keep = None if wanted is None else set(wanted)
    last = None if keep is None else max(keep, default=-1)
    capture = cv2.VideoCapture(str(path))
    try:
        index = 0
        while last is None or index <= last:
            ok, image = capture.read()
            if not ok:
                break
            if keep is None or index in keep:
                yield index, image
            index += 1
    finally:
        capture.release()


@dataclass(slots=True)
class MatchCount:
    true_positives: int = 0
    false_positives: int = 0
    misses: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.misses
        return self.true_positives / wanted if wanted else 0.0


def match_frame(
    truths: list[Truth], predicted: list[Box]
) -> tuple[list[tuple[int, int]], list[int]]:
    """Match predictions to the non-hard truths of one frame (Hungarian on IoU ≥ 0.5).

    Returns (pairs of (truth index, prediction index), indices of unmatched predictions that
    are not on a hard box either: the false positives)."""
    firm = [i for i, t in enumerate(truths) if not t.hard]
    overlap = iou_matrix([truths[i].box for i in firm], predicted)
    pairs: list[tuple[int, int]] = []
    if overlap.size:
        rows, cols = linear_sum_assignment(-overlap)
        pairs = [
            (firm[r], c) for r, c in zip(rows, cols, strict=True) if overlap[r, c] >= IOU_MATCH
        ]
    used = {c for _, c in pairs}
    hard_boxes = [t.box for t in truths if t.hard]
    rest = [c for c in range(len(predicted)) if c not in used]
    if hard_boxes and rest:
        on_hard = iou_matrix([predicted[c] for c in rest], hard_boxes).max(axis=1) >= IOU_MATCH
        rest = [c for c, hard in zip(rest, on_hard, strict=True) if not hard]
    return pairs, rest


def score_detections(truth: dict[int, list[Truth]], predicted: dict[int, list[Box]]) -> MatchCount:
    """Precision and recall at IoU 0.5 over the annotated frames."""
    count = MatchCount()
    for frame, truths in truth.items():
        pairs, false = match_frame(truths, predicted.get(frame, []))
        count.true_positives += len(pairs)
        count.false_positives += len(false)
        count.misses += sum(not t.hard for t in truths) - len(pairs)
    return count


def detect_frames(
    name: str, frames: Iterable[tuple[int, Image]], wanted: set[int]
) -> tuple[dict[int, list[Box]], list[float]]:
    """Boxes the detector ``name`` finds on the ``wanted`` frames, given as the analyzer
    gives them: a region detector (HOG) gets the motion gate's regions, the gate having
    seen every frame; a whole-frame detector gets the frame. Also the ms per frame."""
    detector = make_detector(None, name)
    gate = None if detector.whole_frame else MotionGate()
    found: dict[int, list[Box]] = {}
    timings: list[float] = []
    for index, image in frames:
        regions = gate.apply(image).regions if gate is not None else None
        if index not in wanted:
            continue
        start = time.perf_counter()
        detections = detector.detect(image, regions) if regions != () else []
        timings.append(time.perf_counter() - start)
        found[index] = [d.box for d in detections]
    return found, timings


def run_detectors() -> dict[str, Any]:
    truth = load_truth(SEGMENT_FILE, FRAMES_FILE)
    figures: dict[str, Any] = {
        "frames": len(truth),
        "people": sum(not t.hard for ts in truth.values() for t in ts),
        "hard": sum(t.hard for ts in truth.values() for t in ts),
    }
    for name in DETECTORS:
        predicted, timings = detect_frames(name, video_frames(vtest_path()), set(truth))
        count = score_detections(truth, predicted)
        figures[name] = {
            "recall": round(count.recall, 3),
            "precision": round(count.precision, 3),
            "true_positives": count.true_positives,
            "false_positives": count.false_positives,
            "misses": count.misses,
            "ms_per_frame_median": round(1000 * statistics.median(timings), 1),
        }
    return figures


def track_video(
    detector: str, frames: Iterable[tuple[int, Image]], *, fps: float = 10.0
) -> tuple[dict[int, list[tuple[int, Box]]], CameraAnalyzer]:
    """Run the camera analyzer (no store) over ``frames``; the confirmed tracks' boxes on
    every frame, and the analyzer (for its finished tracks)."""
    analyzer = CameraAnalyzer(
        "bench",
        EventBus(),
        REAL_CLOCK,
        detector=make_detector(None, detector),
        keep_tracks=None,
    )
    boxes: dict[int, list[tuple[int, Box]]] = {}
    for index, image in frames:
        result = analyzer.process(image, index, index / fps)
        boxes[index] = [(view.track_id, view.box) for view in result.tracks]
    analyzer.finish()
    return boxes, analyzer


def score_tracks(
    truth: dict[int, list[Truth]], tracks: dict[int, list[tuple[int, Box]]]
) -> dict[str, Any]:
    """IDF1, MOTA, ID switches and friends from ``motmetrics`` on the annotated frames;
    predictions on hard boxes are dropped first, hard boxes are not required."""
    import motmetrics

    accumulator = motmetrics.MOTAccumulator(auto_id=False)
    for frame in sorted(truth):
        truths = truth[frame]
        predicted = tracks.get(frame, [])
        pairs, false = match_frame(truths, [box for _, box in predicted])
        keep = sorted({c for _, c in pairs} | set(false))
        kept = [predicted[c] for c in keep]
        firm = [t for t in truths if not t.hard]
        distance = 1.0 - iou_matrix([t.box for t in firm], [box for _, box in kept])
        distance = np.where(distance <= 1.0 - IOU_MATCH, distance, np.nan)
        accumulator.update(
            [t.person for t in firm], [tid for tid, _ in kept], distance, frameid=frame
        )
    host = motmetrics.metrics.create()
    summary = host.compute(
        accumulator,
        metrics=[
            "idf1",
            "mota",
            "motp",
            "num_switches",
            "precision",
            "recall",
            "num_unique_objects",
            "mostly_tracked",
            "num_fragmentations",
        ],
        name="tracker",
    )
    row = summary.loc["tracker"]
    return {
        "idf1": round(float(row["idf1"]), 3),
        "mota": round(float(row["mota"]), 3),
        "id_switches": int(row["num_switches"]),
        "fragmentations": int(row["num_fragmentations"]),
        "precision": round(float(row["precision"]), 3),
        "recall": round(float(row["recall"]), 3),
        "people": int(row["num_unique_objects"]),
        "mostly_tracked": int(row["mostly_tracked"]),
        "iou_distance_mean": round(float(row["motp"]), 3),
    }


def people_and_visits(folder: Path = GT_DIR) -> tuple[int, int]:
    """Distinct people in the whole video, and their visits (stretches in view)."""
    with (folder / PEOPLE_FILE).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return len(rows), sum(len(row["visible"].split()) for row in rows)


def run_tracker() -> dict[str, Any]:
    truth = load_truth(SEGMENT_FILE)
    last = max(truth)
    people, visits = people_and_visits()
    figures: dict[str, Any] = {"segment_frames": [min(truth), last], "annotated_frames": len(truth)}
    for name in DETECTORS:
        tracks, analyzer = track_video(name, video_frames(vtest_path()))
        segment = {f: boxes for f, boxes in tracks.items() if f <= last}
        ids = {track["track_id"] for track in analyzer.stats.finished_tracks}
        figures[name] = {
            **score_tracks(truth, segment),
            "whole_video_track_ids": len(ids),
            "whole_video_people": people,
            "whole_video_visits": visits,
            "ids_per_person": round(len(ids) / people, 2),
            "ids_per_visit": round(len(ids) / visits, 2),
        }
    return figures
