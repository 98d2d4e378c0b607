"""A camera shown alone on the wall is drawn from its main stream: the grid asks the engine
to decode it only while the camera is alone, live and on screen; the tile draws the sub
stream's boxes at the main picture's scale and says the picture's size."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from pytestqt.qtbot import QtBot

from engine.events import CameraStatus
from engine.frames import Frame
from engine.vision.analysis import FrameAnalysis, TrackView
from engine.vision.geometry import Box
from tests.widgets.test_camera_views import T0, FakeCamera, shown_tile
from widgets.cameras.api import CameraFeed
from widgets.cameras.view import CameraGrid


class MainStream:
    """What the engine gives for one camera's main stream: watched or not, and its picture
    (4× the sub's 160×90) only while watched."""

    def __init__(self, *, available: bool = True) -> None:
        self.calls: list[bool] = []
        self.available = available
        self.seq = 0

    def watch(self, watching: bool) -> bool:
        self.calls.append(watching)
        return self.available

    @property
    def watched(self) -> bool:
        return bool(self.calls) and self.calls[-1] and self.available

    def latest(self) -> Frame | None:
        if not self.watched:
            return None
        self.seq += 1
        image = np.full((360, 640, 3), 200, np.uint8)
        return Frame(self.seq, image, 0.0, 15.0, analysis_size=(160, 90))


def wall(qtbot: QtBot, main: MainStream) -> tuple[CameraGrid, FakeCamera]:
    subs = [FakeCamera() for _ in range(4)]
    for camera in subs:
        camera.push((40, 40, 40))
    feeds = [
        CameraFeed(
            f"c{i}",
            f"Camera {i}",
            sub.latest,
            main_getter=main.latest if i == 2 else None,
            watch_main=main.watch if i == 2 else None,
        )
        for i, sub in enumerate(subs)
    ]
    grid = CameraGrid(feeds)
    qtbot.addWidget(grid)
    grid.resize(800, 500)
    grid.show()
    qtbot.waitExposed(grid)
    return grid, subs[2]


def test_a_camera_shown_alone_is_drawn_from_its_main_stream_only_while_it_is(
    qtbot: QtBot,
) -> None:
    main = MainStream()
    grid, _sub = wall(qtbot, main)
    assert main.calls == []  # four tiles: sub streams only

    grid.tiles[2].sig_activated.emit("c2")  # double-click: the camera alone
    assert main.calls == [True]
    tile = grid.tiles[0]
    tile.set_status(CameraStatus.ONLINE, "", T0)
    qtbot.waitUntil(tile.isVisible)  # Qt shows a tile added to the grid at its next turn
    tile.refresh()
    assert tile._frame is not None and tile._frame.image.shape[:2] == (360, 640)
    assert tile._rate_text() == "640×360 · 15.0 fps"

    grid.tiles[0].sig_activated.emit("c2")  # back to the wall
    assert main.calls == [True, False]
    back = next(t for t in grid.tiles if t.camera_id == "c2")
    qtbot.waitUntil(back.isVisible)
    back.refresh()
    assert back._frame is not None and back._frame.image.shape[:2] == (90, 160)

    grid.show_single("c2")
    grid.hide()  # another pane in front: nobody looks
    assert main.calls == [True, False, True, False]
    grid.show()
    assert main.calls[-1] is True

    grid.set_frame_getters({"c2": lambda: None})  # a replay shows recordings
    assert main.calls[-1] is False
    grid.set_frame_getters(None)
    assert main.calls[-1] is True
    grid.show_single("c1")  # another camera alone: one with one stream
    assert main.calls[-1] is False


def test_a_camera_with_one_stream_alone_shows_its_one_picture(qtbot: QtBot) -> None:
    main = MainStream(available=False)
    grid, sub = wall(qtbot, main)
    grid.show_single("c2")
    assert main.calls == [True]
    tile = grid.tiles[0]
    qtbot.waitUntil(tile.isVisible)
    tile.refresh()
    assert tile._frame is sub.frame


def test_boxes_of_the_sub_stream_are_drawn_at_the_main_pictures_scale(qtbot: QtBot) -> None:
    tile, _camera = shown_tile(qtbot)
    tile.resize(320, 180)  # the 320×180 main picture drawn 1:1, its sub 160×90 at 2×
    tile.set_status(CameraStatus.ONLINE, "", T0)
    image = np.full((180, 320, 3), 40, np.uint8)
    track = TrackView(7, Box(40, 30, 40, 50), 0.81, coasting=False)
    frame = Frame(1, image, 0.0, 15.0, FrameAnalysis(0, 0.0, (track,), (), None))
    frame = replace(frame, analysis_size=(160, 90))
    tile.set_frame_getter(lambda: frame)
    assert tile.refresh()
    picture = tile.grab().toImage()
    edge = picture.pixelColor(80, 60 + 50)  # the box's left edge (x 40×2), halfway down
    assert (edge.red(), edge.green(), edge.blue()) == (0x39, 0xD3, 0x53)
    assert picture.pixelColor(40, 110).green() < 100  # not at the sub picture's x
