"""The simulated camera: its pinhole geometry, the pictures it renders (which the real people
detector must find people in), and reading it as a camera, alone and through a camera
source paced by a simulated clock."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pytest

from benchmarks.sim_camera import FLOOR, VIEWS, people_at, score, scripted_walkers
from engine.bus import EventBus
from engine.camera_view import CameraView
from engine.clock import SimulatedClock
from engine.config import CameraConfig, SourceKind
from engine.events import CameraStatus, CameraStatusChanged
from engine.sim.camera import SimulatedCapture
from engine.sim.nodes import ScriptedWalker
from engine.sim.scene import (
    APPEARANCES,
    CAPTION,
    Floor,
    FloorRect,
    ScenePerson,
    person_from_walker,
    render,
    truth_boxes,
)
from engine.vision.detect import make_detector
from engine.vision.source import NO_SCENE, CameraSource

REAL_WAIT_S = 20.0
# Mounted 2.8 m up at the middle of the south wall of an 8 m × 6 m room, looking north.
VIEW = CameraView(4.0, -0.8, 2.8, 90.0, 30.0, 90.0)
ROOM = FloorRect(0.0, 0.0, 8.0, 6.0)


def person(x: float, y: float, index: int = 0, **kwargs: float) -> ScenePerson:
    return ScenePerson(x, y, 1.75, APPEARANCES[index], **kwargs)


# ---------------------------------------------------------------------------- the geometry


def test_floor_points_go_to_the_picture_and_back() -> None:
    rng = np.random.default_rng(7)
    floor = np.column_stack([rng.uniform(0, 8, 200), rng.uniform(0.5, 6, 200)])
    pixels, ahead = VIEW.project(floor)
    assert ahead.all()
    back = VIEW.image_to_floor(pixels)
    np.testing.assert_allclose(back, floor, atol=1e-9)
    # the homography is the same projection
    mapped = np.column_stack([floor, np.ones(len(floor))]) @ VIEW.floor_to_image().T
    np.testing.assert_allclose(mapped[:, :2] / mapped[:, 2:], pixels, atol=1e-9)
    assert (mapped[:, 2] > 0).all()  # w is the depth: positive in front


def test_the_optical_axis_meets_the_floor_at_the_picture_centre() -> None:
    ahead_m = 2.8 / math.tan(math.radians(30.0))
    pixels, ahead = VIEW.project([[4.0, -0.8 + ahead_m, 0.0]])
    assert ahead[0]
    np.testing.assert_allclose(pixels[0], (320.0, 240.0), atol=1e-9)
    # east is to the right of a camera looking north, and farther is higher in the picture
    (east, north), _ = VIEW.project([[5.0, -0.8 + ahead_m], [4.0, ahead_m]])
    assert east[0] > 320.0 and north[1] < 240.0


def test_points_behind_the_camera_and_above_the_horizon_have_no_place() -> None:
    pixels, ahead = VIEW.project([[4.0, -3.0, 0.0], [4.0, 3.0, 0.0]])
    assert list(ahead) == [False, True]
    assert np.isnan(pixels[0]).all()
    level = CameraView(0.0, 0.0, 2.8, 0.0, 10.0, 90.0)  # the horizon is in the picture
    floor = level.image_to_floor([[320.0, 0.0], [320.0, 479.0]])
    assert np.isnan(floor[0]).all() and np.isfinite(floor[1]).all()


def test_a_person_box_stands_on_their_feet_and_shrinks_with_distance() -> None:
    near = VIEW.person_box(4.0, 2.0, 1.75)
    far = VIEW.person_box(4.0, 5.5, 1.75)
    assert near is not None and far is not None
    feet, _ = VIEW.project([[4.0, 2.0, 0.0]])
    x, y, w, h = near
    assert y + h == pytest.approx(feet[0][1])  # the box's bottom is at the feet
    assert x + w / 2 == pytest.approx(320.0, abs=1e-6)  # straight ahead: centred
    assert 0.25 < w / h < 0.45  # a standing person's box, 0.5 m wide
    assert far[3] < 0.7 * h
    tall = VIEW.person_box(4.0, 2.0, 1.9)
    assert tall is not None and tall[3] > h and tall[1] < y  # the head is higher


def test_a_person_behind_the_camera_or_out_of_view_has_no_box() -> None:
    assert VIEW.person_box(4.0, -2.0, 1.75) is None  # behind
    assert VIEW.person_box(40.0, 1.0, 1.75) is None  # far to the side
    partly = VIEW.person_box(2.0, 1.0, 1.75)  # across the picture's left edge: not clipped
    assert partly is not None and partly[0] < 0 < partly[0] + partly[2]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"z": 0.0}, "z"),
        ({"x": math.nan}, "x"),
        ({"yaw_deg": math.inf}, "yaw_deg"),
        ({"pitch_deg": 0.0}, "pitch_deg"),
        ({"pitch_deg": 90.0}, "pitch_deg"),
        ({"hfov_deg": 160.0}, "hfov_deg"),
        ({"hfov_deg": 20.0}, "hfov_deg"),
        ({"width": 8}, "width"),
        ({"height": 480.5}, "height"),
    ],
)
def test_a_bad_view_is_refused_naming_the_field(change: dict[str, float], field: str) -> None:
    values = {"x": 0.0, "y": 0.0, "z": 2.8, "yaw_deg": 0.0, "pitch_deg": 30.0, "hfov_deg": 90.0}
    values.update(change)
    with pytest.raises(ValueError, match=rf"^{field}: "):
        CameraView(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- the pictures

FLOOR_8X6 = Floor.around([ROOM])


def test_a_picture_has_the_views_size_and_the_same_scene_gives_the_same_picture() -> None:
    people = [person(2.0, 3.0, 0, heading_deg=0.0, speed_m_s=1.0), person(5.0, 4.0, 1)]
    first = render(VIEW, people, 3.2, floor=FLOOR_8X6)
    assert first.shape == (480, 640, 3) and first.dtype == np.uint8
    assert np.array_equal(first, render(VIEW, people, 3.2, floor=FLOOR_8X6))
    small = CameraView(4.0, -0.8, 2.8, 90.0, 30.0, 90.0, width=320, height=180)
    assert render(small, people, 3.2, floor=FLOOR_8X6).shape == (180, 320, 3)


def test_the_floor_grid_lies_on_whole_metres() -> None:
    """An admin reads floor coordinates off the tiles: a line is drawn where x is a whole
    number of metres, none in the middle of a tile."""
    image = render(VIEW, [], 0.0, floor=FLOOR_8X6).astype(int).sum(axis=2)
    for x_line in (2.0, 3.0, 5.0):
        (on_line, mid_tile), _ = VIEW.project([[x_line, 3.5], [x_line + 0.5, 3.5]])
        line = image[round(on_line[1] - 0.5), round(on_line[0] - 0.5)]
        tile = image[round(mid_tile[1] - 0.5), round(mid_tile[0] - 0.5)]
        assert line < tile - 150, (x_line, line, tile)


def test_a_walking_person_moves_their_legs_and_a_nearer_person_hides_a_farther_one() -> None:
    walker = person(4.0, 3.0, 0, heading_deg=0.0, speed_m_s=1.2)  # across the view
    box = VIEW.person_box(4.0, 3.0, 1.75)
    assert box is not None
    x, y, w, h = (round(v) for v in box)
    legs = slice(y + h // 2, y + h), slice(x - w, x + 2 * w)
    a = render(VIEW, [walker], 0.0, floor=FLOOR_8X6)[legs]
    b = render(VIEW, [walker], 0.3, floor=FLOOR_8X6)[legs]
    assert np.abs(a.astype(int) - b.astype(int)).max() > 100  # not just the noise

    red, white = APPEARANCES[0].shirt, APPEARANCES[1].shirt
    far, near = person(4.0, 5.0, 1), person(4.0, 2.5, 0)  # in line with the camera
    chest = VIEW.project([[4.0, 2.5, 1.3]])[0][0]
    for order in ([far, near], [near, far]):
        image = render(VIEW, order, 0.0, floor=FLOOR_8X6)
        pixel = image[round(chest[1]), round(chest[0])].astype(int)
        assert np.abs(pixel - np.array(red)).sum() < np.abs(pixel - np.array(white)).sum()


def test_the_picture_says_it_is_simulated() -> None:
    image = render(VIEW, [], 0.0, floor=FLOOR_8X6)
    corner = image[-14:, :60].astype(int)
    assert CAPTION == "SIMULATED"
    # amber box with dark lettering, in the bottom-left corner
    assert (np.abs(corner - np.array([34, 153, 210])).sum(axis=2) < 30).mean() > 0.5
    assert (corner.sum(axis=2) < 200).any()


def test_truth_says_how_much_of_a_person_is_seen() -> None:
    far, near = person(4.0, 5.0, 1), person(4.05, 2.5, 0)
    truths = {t.index: t for t in truth_boxes(VIEW, [far, near])}
    assert truths[1].visible == pytest.approx(1.0, abs=0.02)  # (to the pixel)
    assert 0.0 < truths[0].visible < 0.6  # the head shows over the nearer one's
    edge = truth_boxes(VIEW, [person(2.0, 1.0)])[0]
    assert 0.0 < edge.visible < 1.0  # partly out of the picture


def test_a_walker_of_a_room_stands_where_the_walker_is_on_the_floor_plan() -> None:
    walker = ScriptedWalker([(1.0, 1.0), (5.0, 1.0)], 1.0)
    seen = person_from_walker(walker, 2.0, 3, origin=(10.0, 20.0))
    assert (seen.x, seen.y) == pytest.approx((13.0, 21.0))
    assert seen.heading_deg == pytest.approx(0.0) and seen.speed_m_s == pytest.approx(1.0)
    assert seen.appearance == APPEARANCES[3]
    standing = person_from_walker(walker, 60.0, 3, height_m=1.9)
    assert standing.speed_m_s == 0.0 and standing.height_m == 1.9


def test_the_real_people_detector_finds_the_rendered_people() -> None:
    """YOLOv3-tiny (the default detector, whole frame) on every 10th picture of the
    benchmark's first 6 s from both views: people at least 60 px tall and 70 % seen are
    found with IoU ≥ 0.4, and nothing else is."""
    detector = make_detector(None, "yolov3-tiny")
    walkers = scripted_walkers()
    eligible = found = stray = 0
    for view in VIEWS.values():
        for n in range(0, 60, 10):
            t_s = n / 10.0
            people = people_at(walkers, t_s)
            image = render(view, people, t_s, floor=FLOOR)
            counts = score(view, people, [d.box for d in detector.detect(image, None)])
            eligible += counts["eligible"]
            found += counts["found"]
            stray += counts["unmatched_detections"]
    assert eligible >= 20
    assert found / eligible >= 0.85, f"found {found} of {eligible}"
    assert stray <= 1


# -------------------------------------------------------------------- the simulated camera


def test_a_simulated_capture_films_the_scene_on_its_frame_grid() -> None:
    now = [12.34]
    asked: list[float] = []

    def people(t_s: float) -> list[ScenePerson]:
        asked.append(t_s)
        return [person(3.0 + 0.5 * t_s % 3, 3.0, 0, heading_deg=0.0, speed_m_s=0.5)]

    capture = SimulatedCapture(VIEW, lambda: now[0], people, floor=FLOOR_8X6)
    assert capture.fps == 10.0 and capture.rewind() is False
    first = capture.read()
    assert first is not None and first.packets is None
    assert first.pts_s == pytest.approx(12.3)  # the latest 0.1 s step the scene reached
    assert asked == [pytest.approx(12.3)]
    assert np.array_equal(first.image, render(VIEW, people(12.3), 12.3, floor=FLOOR_8X6))
    second = capture.read()  # the scene has not moved on: the next step, never a repeat
    assert second is not None and second.pts_s == pytest.approx(12.4)
    now[0] = 15.0
    third = capture.read()
    assert third is not None and third.pts_s == pytest.approx(15.0)
    capture.release()
    assert capture.read() is None


def test_a_scene_that_fails_loses_the_camera_with_the_reason() -> None:
    def broken(t_s: float) -> list[ScenePerson]:
        raise RuntimeError("walkers unavailable")

    capture = SimulatedCapture(VIEW, lambda: 1.0, broken)
    assert capture.read() is None
    assert capture.problem is not None and "walkers unavailable" in capture.problem


@dataclass
class Scene:
    """A simulated scene on a simulated clock: one person walking east."""

    clock: SimulatedClock
    floor: Floor = FLOOR_8X6

    def time_s(self) -> float:
        return self.clock.monotonic()

    def people_at(self, t_s: float) -> Sequence[ScenePerson]:
        return [person(1.0 + 0.5 * t_s, 3.0, 0, heading_deg=0.0, speed_m_s=0.5)]

    def capture(self, view: CameraView) -> SimulatedCapture:
        return SimulatedCapture(view, self.time_s, self.people_at, floor=self.floor)


class Statuses:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[CameraStatusChanged] = []
        self._changed = threading.Condition()
        bus.subscribe(CameraStatusChanged, self._on_status)

    def _on_status(self, event: CameraStatusChanged) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, status: CameraStatus) -> CameraStatusChanged:
        with self._changed:
            assert self._changed.wait_for(
                lambda: any(e.status is status for e in self.events), REAL_WAIT_S
            ), [f"{e.status}: {e.detail}" for e in self.events]
            return next(e for e in self.events if e.status is status)


def simulated_camera(view: CameraView | None = VIEW) -> CameraConfig:
    return CameraConfig(
        "sim", "Simulated", "simulated", SourceKind.SIMULATED, False, None, None, view=view
    )


def test_a_simulated_camera_films_at_ten_frames_a_second_of_the_engine_clock() -> None:
    clock = SimulatedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    clock.advance(5.0)
    bus = EventBus()
    statuses = Statuses(bus)
    source = CameraSource(simulated_camera(), bus, clock, realtime=False, scene=Scene(clock))
    source.start()
    try:
        online = statuses.wait_for(CameraStatus.ONLINE)
        assert online.detail == "640×480, simulated"
        for _ in range(20):  # 2 s, one frame interval at a time
            assert clock.wait_for_waiters(1, REAL_WAIT_S), "the source never waited"
            clock.advance(0.1)
        assert clock.wait_for_waiters(1, REAL_WAIT_S)
        stats = source.stats()
        assert stats.frames == 21  # paced although realtime=False: the first, then 1 per 0.1 s
        frame = source.slot.latest()
        assert frame is not None and frame.image.shape == (480, 640, 3)
        assert frame.captured_at == pytest.approx(7.0)
        scene = Scene(clock)
        expected = render(VIEW, scene.people_at(7.0), 7.0, floor=FLOOR_8X6)
        assert np.array_equal(frame.image, expected)  # the scene at the frame's time
    finally:
        source.stop()


@pytest.mark.parametrize(
    ("scene", "view", "detail"),
    [
        (False, True, NO_SCENE),
        (True, False, "simulated camera without a view"),
    ],
)
def test_a_simulated_camera_with_nothing_to_film_says_why_and_ends(
    scene: bool, view: bool, detail: str
) -> None:
    clock = SimulatedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    bus = EventBus()
    statuses = Statuses(bus)
    config = simulated_camera(VIEW if view else None)
    source = CameraSource(config, bus, clock, scene=Scene(clock) if scene else None)
    source.start()
    try:
        error = statuses.wait_for(CameraStatus.ERROR)
        assert error.detail.startswith(detail)
        assert source.wait_ended(0) and source.failure is None
        assert NO_SCENE == "simulated camera: no simulated walkers on this site"
    finally:
        source.stop()
