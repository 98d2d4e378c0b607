"""The default people detector and the tracker against our hand-annotated vtest frames
(tests/data/vtest_gt), and how the analyzer keeps still people tracked."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from benchmarks.people_quality import (
    FRAMES_FILE,
    SEGMENT_FILE,
    Truth,
    detect_frames,
    load_truth,
    score_detections,
    score_tracks,
    track_video,
    video_frames,
)
from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.vision.analysis import FULL_SCAN_IDLE_S, FULL_SCAN_S, CameraAnalyzer
from engine.vision.detect import make_detector
from engine.vision.geometry import Box


def test_scoring_ignores_hard_people_and_counts_misses_and_false_boxes() -> None:
    truth = {
        0: [
            Truth(0, 1, Box(0, 0, 20, 60), False),
            Truth(0, 2, Box(100, 0, 20, 60), False),
            Truth(0, 3, Box(200, 0, 10, 30), True),  # small: not required
        ]
    }
    predicted = {0: [Box(1, 1, 20, 60), Box(201, 0, 10, 30), Box(400, 0, 20, 60)]}
    count = score_detections(truth, predicted)
    assert (count.true_positives, count.false_positives, count.misses) == (1, 1, 1)
    assert count.precision == 0.5 and count.recall == 0.5


@pytest.mark.slow
def test_the_default_detector_meets_its_targets_on_the_annotated_frames(vtest_avi: Path) -> None:
    """Recall ≥ 0.85 and precision ≥ 0.90 at IoU 0.5 over 85 annotated frames (HOG finds
    about a fifth of these people)."""
    truth = load_truth(SEGMENT_FILE, FRAMES_FILE)
    assert len(truth) == 85 and sum(len(t) for t in truth.values()) == 560
    found, _ = detect_frames("yolov3-tiny", video_frames(vtest_avi), set(truth))
    count = score_detections(truth, found)
    assert count.recall >= 0.85 and count.precision >= 0.90, count


@pytest.mark.slow
def test_tracks_on_the_annotated_segment_keep_their_people(vtest_avi: Path) -> None:
    """The target, IDF1 ≥ 0.75 (0.758 measured). Identity switches have no target: 9
    measured, and more than 12 is taken as a regression."""
    truth = load_truth(SEGMENT_FILE)
    tracks, _ = track_video("yolov3-tiny", video_frames(vtest_avi, range(max(truth) + 1)))
    scores = score_tracks(truth, tracks)
    assert scores["idf1"] >= 0.75, scores
    assert scores["id_switches"] <= 12, scores  # a regression guard, not a target


def test_people_standing_still_are_found_and_stay_tracked(vtest_avi: Path) -> None:
    """The same frame over and over: the motion gate soon sees nothing move, yet the whole
    frame is searched every FULL_SCAN_S and the people in it are tracked throughout."""
    ((_, still),) = list(video_frames(vtest_avi, [700]))
    analyzer = CameraAnalyzer(
        "plaza", EventBus(), REAL_CLOCK, detector=make_detector(None, "yolov3-tiny")
    )
    fps = 10
    results = [
        analyzer.process(still.copy(), i, i / fps) for i in range(int(3 * FULL_SCAN_S * fps))
    ]
    assert all(not r.motion_regions for r in results[10:])
    runs = [r.frame_index for r in results if r.detections is not None]
    assert len(runs) >= 3 and all(b - a <= FULL_SCAN_S * fps for a, b in itertools.pairwise(runs))
    assert len(results[-1].tracks) >= 6
    ids = {v.track_id for r in results[-30:] for v in r.tracks}
    assert ids == {v.track_id for v in results[-1].tracks}  # the same people, same ids


def test_an_empty_still_scene_is_searched_twice_a_minute_not_every_two_seconds() -> None:
    """Nobody tracked and nothing moving: the whole-frame search is the only detector run,
    and it comes every FULL_SCAN_IDLE_S (it cost 0.05 of a core per empty camera at 2 s)."""
    empty = np.full((288, 512, 3), 110, np.uint8)
    analyzer = CameraAnalyzer(
        "yard", EventBus(), REAL_CLOCK, detector=make_detector(None, "yolov3-tiny")
    )
    fps = 5
    seconds = int(FULL_SCAN_IDLE_S * 2 + 5)
    results = [analyzer.process(empty.copy(), i, i / fps) for i in range(seconds * fps)]
    runs = [r.t for r in results if r.detections is not None]
    assert runs == [0.0, FULL_SCAN_IDLE_S, 2 * FULL_SCAN_IDLE_S]
    assert FULL_SCAN_IDLE_S > FULL_SCAN_S


@pytest.mark.parametrize("detector", ["hog"])
def test_a_region_detector_also_looks_around_live_tracks(vtest_avi: Path, detector: str) -> None:
    analyzer = CameraAnalyzer(
        "plaza", EventBus(), REAL_CLOCK, detector=make_detector(None, detector)
    )
    for index, image in video_frames(vtest_avi, range(60)):
        analyzer.process(image, index, index / 10)
    assert analyzer.tracker.tracks
    t = 6.0 + analyzer.detect_interval_s  # the next run, and not a whole-frame one
    analyzer._last_full_scan = t
    regions, full_scan = analyzer._where_to_look(np.zeros((576, 768, 3), np.uint8), (), t)
    assert regions is not None and len(regions) == len(analyzer.tracker.tracks)
    assert not full_scan
