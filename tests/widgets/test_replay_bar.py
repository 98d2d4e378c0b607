"""The replay bar: its REPLAY badge, its buttons and keys as signals, its message line; and
the REPLAY state of camera tiles and of the sensing pane."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.events import CameraStatus
from engine.frames import Frame
from engine.history.replay import SPEEDS
from engine.sitetime import SiteTime
from widgets.cameras.api import CameraFeed
from widgets.cameras.tile import CameraTile
from widgets.cameras.view import CameraGrid
from widgets.sensing.view import SensingPane
from widgets.timeline.api import MessageLevel, replay_label
from widgets.timeline.replay_bar import ReplayBar

T = datetime(2026, 3, 1, 9, 14, 3, 600_000, tzinfo=UTC)


def shown_bar(qtbot: QtBot) -> ReplayBar:
    bar = ReplayBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.setFocus()
    return bar


def test_the_badge_shows_replay_the_site_second_and_the_speed(
    qtbot: QtBot, shown_zone: Callable[[str], SiteTime]
) -> None:
    shown_zone("America/Los_Angeles")  # 09:14:03 UTC is 01:14:03 there in March
    bar = shown_bar(qtbot)
    assert bar.badge_text() == "REPLAY ×1"
    bar.set_position(T)
    bar.set_speed(4)
    assert bar.badge_text() == "REPLAY 2026-03-01 01:14:03 ×4"
    assert bar.speed_button.text() == "4×" and bar.speed_actions[4].isChecked()
    bar.set_speed(0.25)
    assert bar.badge_text().endswith("×0.25")
    assert replay_label(T, 16) == "REPLAY 01:14:03 ×16"


def test_buttons_and_the_speed_menu_emit_their_signals(qtbot: QtBot) -> None:
    bar = shown_bar(qtbot)
    with qtbot.waitSignal(bar.sig_play_toggled) as played:
        bar.play_button.click()
    assert played.args == [True]
    bar.set_playing(True)
    assert bar.play_button.text() == "Pause"  # drawn as the pause icon
    with qtbot.waitSignal(bar.sig_play_toggled) as paused:
        bar.play_button.click()
    assert paused.args == [False]
    with qtbot.waitSignal(bar.sig_step_requested) as back:
        bar.step_back_button.click()
    assert back.args == [-1]
    with qtbot.waitSignal(bar.sig_step_requested) as forward:
        bar.step_forward_button.click()
    assert forward.args == [1]
    with qtbot.waitSignal(bar.sig_event_jump_requested) as previous:
        bar.previous_event_button.click()
    assert previous.args == [-1]
    with qtbot.waitSignal(bar.sig_event_jump_requested) as following:
        bar.next_event_button.click()
    assert following.args == [1]
    assert [a.text() for a in bar.speed_menu.actions()] == [
        "0.25×",
        "0.5×",
        "1×",
        "2×",
        "4×",
        "8×",
        "16×",
    ]
    assert tuple(bar.speed_actions) == SPEEDS
    with qtbot.waitSignal(bar.sig_speed_changed) as speed:
        bar.speed_actions[8].trigger()
    assert speed.args == [8.0]
    with qtbot.waitSignal(bar.sig_live_requested):
        bar.live_button.click()


def test_keys_play_step_and_jump_between_events(qtbot: QtBot) -> None:
    bar = shown_bar(qtbot)
    with qtbot.waitSignal(bar.sig_play_toggled) as played:
        qtbot.keyClick(bar, Qt.Key.Key_Space)
    assert played.args == [True]
    with qtbot.waitSignal(bar.sig_step_requested) as right:
        qtbot.keyClick(bar, Qt.Key.Key_Right)
    assert right.args == [1]
    with qtbot.waitSignal(bar.sig_step_requested) as left:
        qtbot.keyClick(bar, Qt.Key.Key_Left)
    assert left.args == [-1]
    with qtbot.waitSignal(bar.sig_event_jump_requested) as shift_right:
        qtbot.keyClick(bar, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert shift_right.args == [1]
    with qtbot.waitSignal(bar.sig_event_jump_requested) as shift_left:
        qtbot.keyClick(bar, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert shift_left.args == [-1]


def test_messages_are_amber_for_missing_clips_and_red_for_errors(qtbot: QtBot) -> None:
    bar = shown_bar(qtbot)
    assert not bar.message_label.isVisible()
    bar.set_message("1 clip missing: gate …; playing the rest", "warning")
    assert bar.message_label.isVisible() and bar.message_level is MessageLevel.WARNING
    assert "#d29922" in bar.message_label.styleSheet()
    bar.set_message("Cannot read the range", MessageLevel.ERROR)
    assert "#f85149" in bar.message_label.styleSheet()
    bar.set_message("")
    assert not bar.message_label.isVisible()


def pixel(tile: CameraTile, x: int, y: int) -> tuple[int, int, int]:
    colour = tile.grab().toImage().pixelColor(x, y)
    return colour.red(), colour.green(), colour.blue()


def test_a_replaying_tile_has_a_red_border_and_says_why_it_has_no_frame(qtbot: QtBot) -> None:
    frames: list[Frame | None] = [None]
    tile = CameraTile()
    qtbot.addWidget(tile)
    tile.resize(320, 240)
    tile.show()
    tile.set_camera("gate", "Gate", lambda: frames[0])
    tile.set_status(CameraStatus.OFFLINE, "live camera down", T)
    image = np.full((90, 160, 3), (255, 0, 0), np.uint8)  # BGR blue
    frames[0] = Frame(1, image, 0.0, 10.0, wall_at=T)
    tile.set_replay("REPLAY 09:14:03 ×4")
    assert tile.refresh()
    assert pixel(tile, 160, 120) == (0, 0, 255)  # the replayed frame, no OFFLINE veil
    assert pixel(tile, 1, 120)[0] > 200 and pixel(tile, 1, 120)[1] < 120  # red border
    frames[0] = None
    tile.set_replay("REPLAY 09:14:05 ×4", "No recording at 09:14:05")
    assert tile.refresh()  # the old frame goes: nothing was recorded then
    assert pixel(tile, 100, 200) != (0, 0, 255) and tile._image is None
    assert tile.accessibleDescription() == "REPLAY 09:14:05 ×4"
    tile.set_replay(None)
    assert tile.replay_label is None and tile.replay_status == ""
    assert pixel(tile, 1, 120)[0] < 100  # no red border: live again


def test_the_grid_swaps_getters_for_a_replay_and_puts_the_live_ones_back(
    qtbot: QtBot,
) -> None:
    live = Frame(1, np.zeros((90, 160, 3), np.uint8), 0.0, 10.0)
    replayed = Frame(7, np.full((90, 160, 3), 200, np.uint8), 0.0, 10.0, wall_at=T)
    grid = CameraGrid(
        [CameraFeed("gate", "Gate", lambda: live), CameraFeed("yard", "Yard", lambda: live)]
    )
    qtbot.addWidget(grid)
    grid.show()
    assert grid.camera_ids == ("gate", "yard")
    grid.set_frame_getters({"gate": lambda: replayed})
    grid.set_replay("REPLAY 09:14:03 ×1", {"yard": "Not in this replay"})
    grid.refresh_tiles()
    gate, yard = grid.tiles[0], grid.tiles[1]
    assert gate._frame is replayed and yard._frame is None
    assert yard.replay_status == "Not in this replay" and gate.replay_label is not None
    grid.set_tile_count(9)  # a relayout keeps the replay
    assert grid.tiles[0].replay_label == "REPLAY 09:14:03 ×1"
    qtbot.waitUntil(grid.tiles[0].isVisible)
    grid.refresh_tiles()
    assert grid.tiles[0]._frame is replayed
    grid.set_frame_getters(None)
    grid.set_replay(None)
    grid.refresh_tiles()
    assert grid.tiles[0]._frame is live and grid.tiles[0].replay_label is None
    assert not grid.replaying


def test_the_sensing_pane_says_replay_above_the_view(qtbot: QtBot) -> None:
    pane = SensingPane()
    qtbot.addWidget(pane)
    pane.show()
    assert not pane.replay_label.isVisible()
    pane.set_replay("REPLAY 09:14:03 ×2")
    assert pane.replay_label.isVisible() and pane.replay_label.text() == "REPLAY 09:14:03 ×2"
    assert pane.replaying
    pane.set_replay(None)
    assert not pane.replay_label.isVisible() and not pane.replaying
