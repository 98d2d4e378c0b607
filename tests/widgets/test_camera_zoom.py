"""Digital zoom on a camera tile: the wheel zooms about the point under the pointer,
dragging moves the zoomed picture, boxes follow, the header says the zoom, and the zoom
survives a swap between live and replay of the same camera but not another camera."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from engine.events import CameraStatus
from engine.frames import Frame
from engine.vision.analysis import FrameAnalysis, TrackView
from engine.vision.geometry import Box
from tests.widgets.test_camera_views import T0, shown_tile
from widgets.cameras.tile import MAX_ZOOM, CameraTile

RED, BLUE, GREEN, WHITE = (0, 0, 255), (255, 0, 0), (0, 255, 0), (255, 255, 255)


def quadrants() -> Frame:
    """A 160×90 picture in four colours (BGR): red top-left, blue top-right, green
    bottom-left, white bottom-right."""
    image = np.empty((90, 160, 3), np.uint8)
    image[:45, :80], image[:45, 80:] = RED, BLUE
    image[45:, :80], image[45:, 80:] = GREEN, WHITE
    return Frame(1, image, 0.0, 15.0)


def wheel(tile: CameraTile, at: QPointF, notches: int) -> None:
    event = QWheelEvent(
        at,
        tile.mapToGlobal(at),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(tile, event)


def rgb_at(tile: CameraTile, x: int, y: int) -> tuple[int, int, int]:
    colour = tile.grab().toImage().pixelColor(x, y)
    return colour.red(), colour.green(), colour.blue()


def zoomed_tile(qtbot: QtBot) -> tuple[CameraTile, Frame]:
    tile, _camera = shown_tile(qtbot)
    tile.resize(320, 180)  # the picture drawn at 2×, filling the tile
    tile.set_status(CameraStatus.ONLINE, "", T0)
    frame = quadrants()
    tile.set_frame_getter(lambda: frame)
    assert tile.refresh()
    return tile, frame


def test_the_wheel_zooms_about_the_point_under_the_pointer(qtbot: QtBot) -> None:
    tile, _frame = zoomed_tile(qtbot)
    assert rgb_at(tile, 60, 150) == (0, 255, 0)  # green, bottom-left
    # Zoomed 4 notches (2.44×) into the bottom-right quadrant's middle: it fills the tile.
    wheel(tile, QPointF(240, 135), 4)
    assert tile.zoom == 1.25**4
    assert rgb_at(tile, 60, 150) == (255, 255, 255)
    assert rgb_at(tile, 240, 135) == (255, 255, 255)  # the point stayed under the pointer
    assert tile._rate_text() == "2.4× · 15.0 fps"
    wheel(tile, QPointF(240, 135), 40)
    assert tile.zoom == MAX_ZOOM
    wheel(tile, QPointF(10, 10), -40)  # back: the whole picture
    assert tile.zoom == 1.0 and rgb_at(tile, 60, 150) == (0, 255, 0)
    assert tile._rate_text() == "15.0 fps"


def test_dragging_moves_the_zoomed_picture_and_stops_at_its_edge(qtbot: QtBot) -> None:
    tile, _frame = zoomed_tile(qtbot)
    wheel(tile, QPointF(0, 0), 4)  # the top-left corner: red fills the tile
    assert rgb_at(tile, 160, 90) == (255, 0, 0)
    qtbot.mousePress(tile, Qt.MouseButton.LeftButton, pos=QPoint(300, 90))
    qtbot.mouseMove(tile, QPoint(20, 90))  # the picture follows the pointer to the left
    qtbot.mouseRelease(tile, Qt.MouseButton.LeftButton, pos=QPoint(20, 90))
    assert rgb_at(tile, 160, 40) == (0, 0, 255)  # blue, the top-right, came into view
    qtbot.mousePress(tile, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    qtbot.mouseMove(tile, QPoint(10, 175))  # far past the edge: stops at the top
    qtbot.mouseRelease(tile, Qt.MouseButton.LeftButton, pos=QPoint(10, 175))
    assert tile._source_rect().top() == 0.0


def test_boxes_follow_the_zoom(qtbot: QtBot) -> None:
    tile, frame = zoomed_tile(qtbot)
    track = TrackView(7, Box(100, 50, 20, 30), 0.81, coasting=False)
    boxed = replace(frame, seq=2, analysis=FrameAnalysis(0, 0.0, (track,), (), None))
    tile.set_frame_getter(lambda: boxed)
    tile.refresh()
    wheel(tile, QPointF(240, 135), 4)  # zoom 2.44× about picture point (120, 67.5)
    # The box's left edge, x = 100, is drawn at 240 + (100 - 120) × 2 × 2.44 = 142.3.
    source = tile._source_rect()
    left = round((100 - source.x()) * 320 / source.width())
    middle = round((65 - source.y()) * 180 / source.height())
    colour = tile.grab().toImage().pixelColor(left, middle)
    assert (colour.red(), colour.green(), colour.blue()) == (0x39, 0xD3, 0x53)


def test_the_same_camera_keeps_its_zoom_another_starts_whole(qtbot: QtBot) -> None:
    tile, frame = zoomed_tile(qtbot)
    wheel(tile, QPointF(160, 90), 2)
    tile.set_camera("gate", "Gate", lambda: frame)  # its replay (or back to live)
    assert tile.zoom == 1.25**2
    tile.set_camera("yard", "Yard", lambda: frame)
    assert tile.zoom == 1.0


def test_the_camera_tour_moves_on_a_page_each_step_and_waits_while_zoomed(
    qtbot: QtBot,
) -> None:
    from tests.widgets.test_camera_views import FakeCamera
    from widgets.cameras.api import CameraFeed
    from widgets.cameras.view import CameraGrid

    cameras = [FakeCamera() for _ in range(6)]
    for camera in cameras:
        camera.push((40, 40, 40))
    grid = CameraGrid([CameraFeed(f"c{i}", f"Camera {i}", c.latest) for i, c in enumerate(cameras)])
    qtbot.addWidget(grid)
    grid.show()
    qtbot.waitExposed(grid)
    grid.choose_tile_count(4)
    assert grid._tour.isVisible() and not grid.touring
    grid.set_touring(True, 5)
    assert grid._tour_timer.interval() == 5000 and grid._tour_timer.isActive()

    def step() -> list[str | None]:
        grid._tour_timer.timeout.emit()  # the tour's clock ticks
        return [tile.camera_id for tile in grid.tiles]

    assert step() == ["c4", "c5", None, None]
    assert step() == ["c0", "c1", "c2", "c3"]  # round again
    qtbot.waitUntil(grid.tiles[0].isVisible)
    grid.tiles[0].refresh()
    wheel(grid.tiles[0], QPointF(20, 20), 2)  # the operator looks closer: the tour waits
    assert step() == ["c0", "c1", "c2", "c3"]
    grid.tiles[0].reset_zoom()
    assert step() == ["c4", "c5", None, None]

    grid.show_single("c5")  # one tile: the tour goes camera by camera
    assert step() == ["c0"] and step() == ["c1"]
    grid.set_touring(False)
    assert not grid._tour_timer.isActive()
    grid.set_feeds(grid._feeds[:1])  # one camera: nothing to tour
    assert not grid._tour.isVisible()
