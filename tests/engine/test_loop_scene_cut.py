"""A looping file's start is a cut: its first picture does not follow from its last, so the
people followed up to the end leave there and the people of the first picture are new.

Before, the tracks of the file's end carried on onto its first frames: the demo plaza drew
7 boxes where 3 people were at each loop (``python -m benchmarks demo_counts``), and Ask's
"how many now" counted both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.bus import EventBus
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.config import CameraConfig, SourceKind
from engine.frames import Frame
from engine.vision.analysis import CameraAnalyzer, PersonAppeared, PersonLeft
from engine.vision.pipeline import CameraPipeline
from engine.vision.source import CameraSource
from tests.engine.test_analysis import frames

REAL_WAIT_S = 10.0


def _two_second_clip(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(20):
            image = np.full((120, 160, 3), i * 10, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture
def clock() -> Iterator[SimulatedClock]:
    yield SimulatedClock(datetime(2026, 11, 29, 3, 0, tzinfo=UTC))


def test_a_looping_file_marks_its_first_picture_again_as_a_cut(
    clock: SimulatedClock, tmp_path: Path
) -> None:
    clip = _two_second_clip(tmp_path / "loop.mp4")
    seen: list[tuple[int, bool]] = []

    def processor(frame: Frame) -> None:
        seen.append((frame.seq, frame.scene_cut))

    source = CameraSource(
        CameraConfig("cam", "Loop", str(clip), SourceKind.FILE, True, None, None),
        EventBus(),
        clock,
        processor=processor,  # type: ignore[arg-type]
    )
    source.start()
    try:
        while len(seen) < 45:  # two and a quarter times through, a frame at a time
            assert clock.wait_for_waiters(1, REAL_WAIT_S), "the source never waited"
            clock.advance(0.1)
    finally:
        source.stop()
    cuts = [seq for seq, cut in seen if cut]
    assert cuts == [21, 41], seen  # frame 1 of each pass after the first, and only those


def test_at_a_cut_the_people_followed_leave_and_the_first_pictures_people_are_new(
    vtest_avi: Path,
) -> None:
    bus = EventBus()
    left: list[PersonLeft] = []
    appeared: list[PersonAppeared] = []
    bus.subscribe(PersonLeft, left.append)
    bus.subscribe(PersonAppeared, appeared.append)
    pipeline = CameraPipeline(CameraAnalyzer("plaza", bus, REAL_CLOCK))
    images = frames(vtest_avi, 60)
    for i, image in enumerate(images):
        pipeline.process(Frame(i + 1, image, i / 10, 10.0))
    followed = {t.track_id for t in pipeline.analyzer.tracker.tracks if t.confirmed}
    assert len(followed) >= 3 and not left  # people walking, none gone yet

    # The file starts again: its first picture, then the ones after it.
    for i, image in enumerate(images[:15]):
        pipeline.process(Frame(61 + i, image, 6.0 + i / 10, 10.0, scene_cut=i == 0))
    assert followed <= {event.track_id for event in left}
    now = {t.track_id for t in pipeline.analyzer.tracker.tracks if t.confirmed}
    assert now and not now & followed  # new people, not the old ones carried on
