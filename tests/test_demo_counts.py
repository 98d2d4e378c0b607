"""The demo-counts benchmark's truth (``benchmarks/demo_counts.py``): which annotated frame of
vtest.avi stands for the frame shown, the most people at once over the frames played round
the loop, how far a count is from a range, and the number a pane's words say. A slip here
would score every count against the wrong people without a word."""

from __future__ import annotations

from benchmarks.demo_counts import (
    count_error,
    nearest_annotated,
    number_of_people,
    truth_at,
    truth_over,
    truth_ranges,
)

RANGES = {0: (3, 3), 5: (4, 5), 10: (6, 6), 300: (2, 2), 320: (7, 9)}


def test_the_nearest_annotated_frame_within_ten_frames_stands_for_a_frame() -> None:
    annotated = sorted(RANGES)
    assert nearest_annotated(7, annotated) == 5
    assert nearest_annotated(8, annotated) == 10
    assert nearest_annotated(310, annotated) == 300  # a tie: the earlier
    assert nearest_annotated(21, annotated) is None  # 11 frames from frame 10
    assert nearest_annotated(290, annotated) == 300
    assert truth_at(318, RANGES) == (7, 9)
    assert truth_at(150, RANGES) is None


def test_the_most_at_once_over_the_frames_played_wraps_round_the_loop() -> None:
    loop = 795
    assert truth_over(10, 11, loop, RANGES) == (6, 6)  # frames 0-10
    assert truth_over(5, 1, loop, RANGES) == (4, 5)  # the frame itself
    assert truth_over(4, 5, loop, RANGES) == (3, 3)  # frames 0-4
    assert truth_over(2, 500, loop, RANGES) == (7, 9)  # 298-794 and 0-2: frames 0, 300, 320
    assert truth_over(2, 3, loop, {790: (1, 1)}) is None
    assert truth_over(2, 10, loop, {790: (1, 1)}) == (1, 1)  # 788-794, 0-2
    assert truth_over(2, loop, loop, RANGES) == (7, 9)  # a whole loop: every frame


def test_a_count_is_off_by_its_distance_from_the_truth_range() -> None:
    assert count_error(8, (7, 9)) == 0
    assert count_error(5, (7, 9)) == 2
    assert count_error(11, (7, 9)) == 2
    assert count_error(2, (2, 2)) == 0


def test_the_number_of_people_read_from_the_panes_words() -> None:
    assert number_of_people("at most 11 at once (14 tracks)") == 11
    assert number_of_people("≥ 3 known (5 tracks)") == 3
    assert number_of_people("at least 3: 2 known, at most 3 at once (9 tracks)") == 3
    assert number_of_people("0") == 0
    assert number_of_people("at most 2 people at once (3 blobs)") == 2
    assert number_of_people("1 person known (2 blobs)") == 1
    assert number_of_people("nobody sensed") == 0
    assert number_of_people("5 people boxed") == 5
    assert number_of_people("Nobody was seen on Plaza east now.") == 0
    said = "At most 6 people at once were seen on Plaza east (plaza) now; 9 camera tracks"
    assert number_of_people(said) == 6
    assert number_of_people("I can't answer that from the records.") is None


def test_the_annotations_read_as_ranges_of_firm_and_all_boxes() -> None:
    ranges = truth_ranges()
    assert len(ranges) == 85  # 60 frames of segment.csv, 25 of frames.csv
    assert all(low <= high for low, high in ranges.values())
    assert sum(high - low for low, high in ranges.values()) == 46 + 17  # the hard boxes
