"""A wall window for another monitor: the same cameras live with a layout of its own,
told what the Cameras pane is told (statuses, cameras added), full screen on the screen
chosen, and let go by the pane when closed."""

from __future__ import annotations

from datetime import UTC, datetime

from pytestqt.qtbot import QtBot

from engine.events import CameraStatus
from tests.widgets.test_camera_views import FakeCamera
from widgets.cameras.api import CameraFeed
from widgets.cameras.view import CameraGrid
from widgets.cameras.wall_window import WallWindow

T0 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


def feeds(count: int) -> list[CameraFeed]:
    cameras = [FakeCamera() for _ in range(count)]
    for camera in cameras:
        camera.push((40, 40, 40))
    return [CameraFeed(f"c{i}", f"Camera {i}", c.latest) for i, c in enumerate(cameras)]


def test_a_wall_window_shows_the_same_cameras_with_its_own_layout(qtbot: QtBot) -> None:
    pane = CameraGrid(feeds(3))
    qtbot.addWidget(pane)
    pane.on_camera_status_changed("c1", CameraStatus.OFFLINE, "no frames for 5 s", T0)
    window = WallWindow(pane, "Demo plaza", 2)  # deleted when closed: not the bot's to close
    window.show()
    qtbot.waitExposed(window)
    wall = window.grid
    assert window.windowTitle() == "Watchfloor — Demo plaza — wall 2"
    assert wall.camera_ids == ("c0", "c1", "c2")
    assert wall.tiles[1].status is CameraStatus.OFFLINE  # what the pane knew already

    wall.choose_tile_count(1)  # its own layout: the pane keeps four tiles
    assert (wall.tile_count, pane.tile_count) == (1, 4)
    pane.on_camera_status_changed("c0", CameraStatus.ONLINE, "", T0)
    assert wall.tiles[0].status is CameraStatus.ONLINE
    pane.set_feeds(feeds(5))  # a camera added while the console runs
    assert wall.camera_ids == ("c0", "c1", "c2", "c3", "c4") and wall.tile_count == 1
    pane.on_recording_changed("c0", "Recording failing: disk full (at least 1 file lost)")
    assert wall.tiles[0].recording_problem is not None

    assert window.screen_combo.count() >= 1
    window.show_full_screen()
    qtbot.waitUntil(window.isFullScreen)
    assert not window._bar.isVisible()
    window.toggle_full_screen()
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert window._bar.isVisible()

    with qtbot.waitSignal(window.destroyed):
        window.close()  # deleted on close: its tiles and timers go
    assert pane.mirrors == ()
    pane.on_camera_status_changed("c2", CameraStatus.ONLINE, "", T0)  # told to nobody else
