"""Camera tile, grid, health bar and event log, rendered for real."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from engine.events import CameraStatus, HealthState
from engine.frames import Frame
from engine.vision.analysis import FrameAnalysis, TrackView
from engine.vision.geometry import Box
from widgets.cameras.api import CameraFeed
from widgets.cameras.tile import CameraTile
from widgets.cameras.view import CameraGrid
from widgets.health_bar import HealthBar

T0 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


class FakeCamera:
    """A frame slot fed by the test: solid BGR colour frames with rising sequence numbers."""

    def __init__(self) -> None:
        self.frame: Frame | None = None
        self.seq = 0

    def push(self, bgr: tuple[int, int, int]) -> None:
        self.seq += 1
        image = np.empty((90, 160, 3), np.uint8)
        image[:] = bgr
        self.frame = Frame(self.seq, image, 0.0, 10.0)

    def latest(self) -> Frame | None:
        return self.frame


def centre_rgb(tile: CameraTile) -> tuple[int, int, int]:
    image = tile.grab().toImage()
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    return colour.red(), colour.green(), colour.blue()


def shown_tile(qtbot: QtBot) -> tuple[CameraTile, FakeCamera]:
    tile = CameraTile()
    qtbot.addWidget(tile)
    tile.resize(320, 240)
    tile.show()
    camera = FakeCamera()
    tile.set_camera("gate", "Gate", camera.latest)
    return tile, camera


def test_tile_draws_new_frames_and_skips_stale_ones(qtbot: QtBot) -> None:
    tile, camera = shown_tile(qtbot)
    tile.set_status(CameraStatus.ONLINE, "160×90", T0)
    assert tile.refresh() is False  # nothing yet
    camera.push((0, 0, 255))  # BGR red
    assert tile.refresh() is True
    assert tile.refresh() is False  # same frame: no redraw
    assert centre_rgb(tile) == (255, 0, 0)
    camera.push((255, 0, 0))  # BGR blue
    camera.push((0, 255, 0))  # BGR green overwrites blue before the tile looks: blue dropped
    assert tile.refresh() is True
    assert tile.frames_shown == 2
    assert centre_rgb(tile) == (0, 255, 0)


def test_offline_tile_dims_the_last_frame_and_says_since_when(qtbot: QtBot) -> None:
    tile, camera = shown_tile(qtbot)
    camera.push((255, 255, 255))
    tile.refresh()
    tile.set_status(CameraStatus.OFFLINE, "no frames for 3 s", T0)
    red, green, blue = centre_rgb(tile)
    assert max(red, green, blue) < 200  # dimmed, not the live white frame
    assert "offline" in tile.toolTip() and "no frames for 3 s" in tile.toolTip()


def test_grid_switches_between_1_4_and_9_tiles(qtbot: QtBot) -> None:
    cameras = [FakeCamera() for _ in range(3)]
    feeds = [CameraFeed(f"c{i}", f"Camera {i}", cam.latest) for i, cam in enumerate(cameras)]
    grid = CameraGrid(feeds, empty_hint="add cameras in site.toml")
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    assert grid.tile_count == 4
    assert [t.camera_id for t in grid.tiles] == ["c0", "c1", "c2", None]
    with qtbot.waitSignal(grid.sig_tile_count_changed) as signal:
        grid.set_tile_count(9)
    assert signal.args == [9] and len(grid.tiles) == 9
    grid.set_tile_count(1)
    assert [t.camera_id for t in grid.tiles] == ["c0"]
    with pytest.raises(ValueError, match="one of"):
        grid.set_tile_count(5)


def test_cameras_added_while_the_wall_runs_get_tiles_until_the_operator_picks_a_layout(
    qtbot: QtBot,
) -> None:
    """A site with one camera shows one tile; a camera added from Administration gets a
    tile at once (the wall grows to four, then nine), and shrinks back when cameras go;
    once the operator picks a layout it stays whatever the cameras do."""
    feeds = [CameraFeed(f"c{i}", f"Camera {i}", FakeCamera().latest) for i in range(11)]
    grid = CameraGrid(feeds[:1])
    qtbot.addWidget(grid)
    grid.show()
    assert grid.tile_count == 1 and grid.fits_cameras
    grid.set_feeds(feeds[:2])
    assert [t.camera_id for t in grid.tiles] == ["c0", "c1", None, None]
    grid.set_feeds(feeds[:5])
    assert grid.tile_count == 9 and grid.page_count == 1
    grid.set_feeds(feeds)  # more than nine: nine a page
    assert grid.tile_count == 9 and grid.page_count == 2
    grid.set_feeds(feeds[:1])
    assert [t.camera_id for t in grid.tiles] == ["c0"]
    grid._buttons.button(4).click()  # the operator's choice
    assert not grid.fits_cameras and grid.tile_count == 4
    grid.set_feeds(feeds[:6])
    assert grid.tile_count == 4 and grid.page_count == 2
    grid.set_feeds(feeds[:1])
    assert grid.tile_count == 4


def test_grid_timer_pulls_frames_and_status_reaches_tiles(qtbot: QtBot) -> None:
    camera = FakeCamera()
    grid = CameraGrid([CameraFeed("c0", "Lobby", camera.latest)])
    qtbot.addWidget(grid)
    grid.show()
    grid.on_camera_status_changed("c0", CameraStatus.ONLINE, "160×90", T0)
    for _ in range(3):
        camera.push((10, 20, 30))
        qtbot.waitUntil(lambda: grid.tiles[0].frames_shown == camera.seq, timeout=2000)
    assert grid.tiles[0].status is CameraStatus.ONLINE
    assert grid._summary.text() == "1/1 cameras online"


def test_double_click_shows_one_camera_large(qtbot: QtBot) -> None:
    feeds = [CameraFeed(f"c{i}", f"Camera {i}", FakeCamera().latest) for i in range(4)]
    grid = CameraGrid(feeds)
    qtbot.addWidget(grid)
    grid.show()
    grid.tiles[2].sig_activated.emit("c2")
    assert [t.camera_id for t in grid.tiles] == ["c2"]
    grid.tiles[0].sig_activated.emit("c2")
    assert grid.tile_count == 4


def test_health_bar_shows_each_subsystem(qtbot: QtBot) -> None:
    bar = HealthBar()
    qtbot.addWidget(bar)
    bar.on_health_changed("store", HealthState.OK, "sqlite:///x.db")
    bar.on_health_changed("cameras", HealthState.DEGRADED, "1/2 online")
    bar.on_health_changed("cameras", HealthState.DOWN, "0/2 online")
    assert set(bar.labels) == {"store", "cameras"}
    assert bar.states["cameras"] is HealthState.DOWN
    assert "0/2 online" in bar.labels["cameras"].text()


def test_more_cameras_than_tiles_are_paged(qtbot: QtBot) -> None:
    feeds = [CameraFeed(f"c{i}", f"Camera {i}", FakeCamera().latest) for i in range(11)]
    grid = CameraGrid(feeds)
    qtbot.addWidget(grid)
    grid.show()
    assert grid.tile_count == 9 and grid.page_count == 2
    assert grid._page_label.text() == "page 1/2"
    grid._next.click()
    assert [t.camera_id for t in grid.tiles] == ["c9", "c10"] + [None] * 7
    assert not grid._next.isEnabled()
    grid.set_tile_count(4)  # keeps the first camera shown (c9) in view
    assert grid.page == 2 and [t.camera_id for t in grid.tiles] == ["c8", "c9", "c10", None]
    grid.set_page(99)
    assert grid.page == 2
    grid.show_single("c5")
    assert [t.camera_id for t in grid.tiles] == ["c5"] and grid._page_label.text() == "page 6/11"


def test_tile_draws_tracked_people_over_the_frame(qtbot: QtBot) -> None:
    tile, camera = shown_tile(qtbot)
    tile.resize(160 * 2, 90 * 2)  # frame drawn at exactly 2× scale
    tile.set_status(CameraStatus.ONLINE, "", T0)
    camera.push((40, 40, 40))
    track = TrackView(7, Box(40, 30, 40, 50), 0.81, coasting=False)
    camera.frame = replace(camera.frame, analysis=FrameAnalysis(0, 0.0, (track,), (), None))
    tile.refresh()
    image = tile.grab().toImage()
    edge = image.pixelColor(80, 60 + 50)  # left edge of the box, halfway down
    expected = (0x39, 0xD3, 0x53)
    assert all(
        abs(a - b) <= 2
        for a, b in zip((edge.red(), edge.green(), edge.blue()), expected, strict=True)
    )
    inside = image.pixelColor(120, 110)
    assert inside.green() < 100  # the box is an outline, the person stays visible
    unnamed = image.copy()
    named = replace(track, person="Ada Lovelace")
    camera.push((40, 40, 40))
    camera.frame = replace(camera.frame, analysis=FrameAnalysis(0, 0.0, (named,), (), None))
    tile.refresh()
    labelled = tile.grab().toImage()
    label_row = [(x, 55) for x in range(80, 300)]  # the label strip above the box
    assert any(labelled.pixelColor(x, y) != unnamed.pixelColor(x, y) for x, y in label_row)


def test_health_bar_never_cuts_a_label_short_when_the_window_is_narrow(qtbot: QtBot) -> None:
    """At 1400 px the status bar cut "sensing simulated, 10/10 nodes online" to "…nodes or":
    now OK subsystems drop their detail first, then every subsystem; problems keep theirs
    as long as they fit, and every detail stays in the tooltip."""
    window = QMainWindow()
    qtbot.addWidget(window)
    bar = HealthBar()
    window.statusBar().addPermanentWidget(bar)
    reports = {
        "engine": (HealthState.OK, "site Demo plaza"),
        "store": (HealthState.OK, "SQLite demo.db"),
        "cameras": (HealthState.DEGRADED, "1/2 cameras online"),
        "recording": (HealthState.OK, "saving"),
        "analytics": (HealthState.OK, "6 tracked, ≤148 ms/frame"),
        "sensing": (HealthState.OK, "simulated, 10/10 nodes online, 1 blob"),
    }
    for subsystem, (state, detail) in reports.items():
        bar.on_health_changed(subsystem, state, detail)
    window.show()

    def fits() -> bool:
        return all(
            label.width() >= label.sizeHint().width() and label.isVisible()
            for label in bar.labels.values()
        )

    for width, details in ((1600, "all"), (1000, "problems"), (560, "none")):
        window.resize(width, 300)
        qtbot.waitUntil(fits, timeout=3000)
        texts = {name: label.text() for name, label in bar.labels.items()}
        assert ("10/10 nodes online" in texts["sensing"]) == (details == "all"), width
        assert ("1/2 cameras online" in texts["cameras"]) == (details != "none"), width
        assert "10/10 nodes online" in bar.labels["sensing"].toolTip()


def test_a_tracked_person_named_by_another_sense_is_labelled_with_that_name(
    qtbot: QtBot,
) -> None:
    """A sensing room names the person by their registered device; the camera that sees the
    same person (joined by the fusion) labels their box with that name."""
    tile, camera = shown_tile(qtbot)
    tile.resize(160 * 2, 90 * 2)
    tile.set_status(CameraStatus.ONLINE, "", T0)
    track = TrackView(7, Box(40, 30, 40, 50), 0.81, coasting=False)
    camera.push((40, 40, 40))
    camera.frame = replace(camera.frame, analysis=FrameAnalysis(0, 0.0, (track,), (), None))
    tile.refresh()
    unnamed = tile.grab().toImage()
    tile.fused_names = {7: "Ada"}
    camera.push((40, 40, 40))
    camera.frame = replace(camera.frame, analysis=FrameAnalysis(0, 0.0, (track,), (), None))
    tile.refresh()
    labelled = tile.grab().toImage()
    label_row = [(x, 55) for x in range(130, 300)]  # past "#7 0.81": the name widens it
    assert any(labelled.pixelColor(x, y) != unnamed.pixelColor(x, y) for x, y in label_row)


def amber_pixels_in_header(tile: CameraTile) -> int:
    image = tile.grab().toImage()
    count = 0
    for x in range(image.width()):
        for y in range(4, 20):
            colour = image.pixelColor(x, y)
            count += (colour.red(), colour.green(), colour.blue()) == (0xD2, 0x99, 0x22)
    return count


def test_a_simulated_cameras_tile_says_simulated(qtbot: QtBot) -> None:
    camera = FakeCamera()
    grid = CameraGrid(
        [
            CameraFeed("sim", "Simulated room", camera.latest, simulated=True),
            CameraFeed("gate", "Gate", camera.latest),
        ]
    )
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    simulated, real = grid.tiles[0], grid.tiles[1]
    assert simulated.simulated and not real.simulated
    for tile in (simulated, real):
        tile.set_status(CameraStatus.ONLINE, "640×480", T0)
    assert amber_pixels_in_header(simulated) > 100  # the amber SIMULATED badge
    assert amber_pixels_in_header(real) == 0
    assert "Simulated camera" in simulated.toolTip()
    assert simulated.accessibleName() == "Camera Simulated room (simulated)"
    grid.set_tile_count(1)  # rebuilt tiles keep saying it
    assert grid.tiles[0].simulated


def test_a_privacy_masked_frame_carries_a_note_on_the_tile(qtbot: QtBot) -> None:
    tile, camera = shown_tile(qtbot)
    tile.resize(480, 270)  # the frame's 16:9: no dark bands beside or under it
    tile.set_status(CameraStatus.ONLINE, "160×90", T0)
    camera.push((255, 255, 255))  # white: the note's dark plate stands out on it
    tile.refresh()

    def dark_bottom_left() -> int:
        image = tile.grab().toImage()
        return sum(
            image.pixelColor(x, y).lightness() < 100
            for x in range(8, 100)
            for y in range(image.height() - 24, image.height() - 8)
        )

    assert not tile.privacy_masked() and dark_bottom_left() == 0
    camera.push((255, 255, 255))
    assert camera.frame is not None
    camera.frame = replace(camera.frame, privacy_masked=True)
    tile.refresh()
    assert tile.privacy_masked() and dark_bottom_left() > 500
