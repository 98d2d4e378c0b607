"""A camera whose clips and snapshots cannot be written shows it: the engine's loss (a
:class:`MediaWriteWatch` on a worker thread) crosses the Qt bridge to the Cameras pane as
built by its plugin, whose tile wears a red "Recording failing: disk full (2 files lost)"
band and whose summary counts it; the status bar's recording health turns red. When a
write works again both return to normal. A sensing room's recording that cannot be written
says so in the Sensing pane, under the room's health line, and leaves the camera tiles
alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QStatusBar
from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from console.status_line import StatusLine
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.events import HealthState, SubsystemHealth
from engine.record.losses import MediaWriteWatch
from engine.sitetime import UTC_TIME
from tests.settings import MemorySettings
from widgets.cameras.plugin import build
from widgets.cameras.view import CameraGrid
from widgets.colours import ALARM_FILL
from widgets.sensing import plugin as sensing_plugin
from widgets.sensing.view import SensingPane

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _on_worker(action: Any) -> None:
    """Run ``action`` on another thread, as the engine's clip writers do."""
    worker = threading.Thread(target=action, name="test-media-writer")
    worker.start()
    worker.join(10)


def _band_colour(grid: CameraGrid) -> QColor:
    """The colour at the bottom right corner of the first tile (inside the band)."""
    image = grid.tiles[0].grab().toImage()
    return image.pixelColor(image.width() - 4, image.height() - 4)


def test_a_failing_recording_shows_on_the_tile_and_the_status_bar_until_it_works(
    qtbot: QtBot,
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    ctx = SimpleNamespace(
        cameras=[("gate", "Front gate")],
        frame_of=lambda _camera: None,
        site=SimpleNamespace(file=Path("site.toml"), cameras=()),
        settings=MemorySettings(),
        events=bridge,
    )
    grid = build(ctx)  # type: ignore[arg-type]
    assert isinstance(grid, CameraGrid)
    qtbot.addWidget(grid)
    grid.resize(640, 480)
    grid.show()
    bar = QStatusBar()
    qtbot.addWidget(bar)
    status = StatusLine(bar, UTC_TIME, lambda: T0, bridge, [])
    tile = grid.tiles[0]
    normal_corner = _band_colour(grid)
    watch = MediaWriteWatch(bus, SimulatedClock(T0))
    disk_full = OSError(28, "No space left on device")
    try:
        _on_worker(lambda: watch.failed("gate", "clip", "clips/gate/a.mp4", disk_full, T0))
        _on_worker(lambda: watch.failed("gate", "snapshot", "snapshots/gate/b.jpg", disk_full))
        bus.publish(
            SubsystemHealth(
                at=T0,
                subsystem="recording",
                state=HealthState.DOWN,
                detail="Front gate: disk full, 2 files lost",
            )
        )
        # The second loss is gathered into the once-a-minute event: the tile's count is
        # a floor, the status bar has the running count.
        said = "Recording failing: disk full (at least 1 file lost)"
        qtbot.waitUntil(lambda: tile.recording_problem == said, timeout=5000)
        assert _band_colour(grid) == QColor(ALARM_FILL)
        assert said in tile.toolTip()
        assert grid._summary.text() == "0/1 cameras online, 1 not recording"
        qtbot.waitUntil(
            lambda: status.health_bar.states.get("recording") is HealthState.DOWN, timeout=5000
        )
        label = status.health_bar.labels["recording"]
        assert "disk full" in label.text() and "2 files lost" in label.toolTip()

        # A relayout keeps the state: it is the engine's, not the tile's.
        grid.set_tile_count(1)
        assert grid.tiles[0].recording_problem == said
        tile = grid.tiles[0]

        # Clips and snapshots are written again.
        _on_worker(lambda: watch.written("gate", "clip"))
        assert tile.recording_problem is not None  # snapshots still failing
        _on_worker(lambda: watch.written("gate", "snapshot"))
        bus.publish(
            SubsystemHealth(at=T0, subsystem="recording", state=HealthState.OK, detail="saving")
        )
        qtbot.waitUntil(lambda: tile.recording_problem is None, timeout=5000)
        assert _band_colour(grid) != QColor(ALARM_FILL)
        assert grid._summary.text() == "0/1 cameras online"
        qtbot.waitUntil(
            lambda: status.health_bar.states.get("recording") is HealthState.OK, timeout=5000
        )
    finally:
        status.stop()
        bridge.close()
    assert normal_corner != QColor(ALARM_FILL)


class _SensingActions:
    """What the Sensing pane asks its backend: one room, no pairing."""

    def rooms(self) -> list[tuple[str, str]]:
        return [("room", "Lab sensing")]

    def pairing_unavailable(self) -> str:
        return "simulated room"

    def explain(self, room_id: str, track_id: int) -> None:
        return None

    def open_pairing(self, seconds: int, room_id: str) -> datetime:
        raise AssertionError("not asked")


def test_a_failing_sensing_recording_shows_in_the_sensing_pane_until_it_works(
    qtbot: QtBot,
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    ctx = SimpleNamespace(
        backend=_SensingActions(),
        events=bridge,
        queries=None,
        actor=None,
        show_message=lambda *_: None,
        cameras=[("gate", "Front gate")],
        frame_of=lambda _camera: None,
        site=SimpleNamespace(file=Path("site.toml"), cameras=()),
        settings=MemorySettings(),
    )
    pane = sensing_plugin.build(ctx)  # type: ignore[arg-type]
    assert isinstance(pane, SensingPane)
    qtbot.addWidget(pane)
    grid = build(ctx)  # type: ignore[arg-type]
    assert isinstance(grid, CameraGrid)
    qtbot.addWidget(grid)
    pane.resize(800, 500)
    pane.show()
    watch = MediaWriteWatch(bus, SimulatedClock(T0))
    room = watch.room("room", "sensing/Test_site/room")
    try:
        assert pane.recording_problem is None and not pane.recording_label.isVisible()
        _on_worker(lambda: room.failed(OSError(28, "No space left on device")))
        qtbot.waitUntil(lambda: pane.recording_problem is not None, timeout=5000)
        assert pane.recording_problem == (
            "Recording failing: disk full (kept in memory to retry; nothing lost yet)"
        )
        assert pane.recording_label.isVisible()
        assert pane.recording_label.text() == pane.recording_problem
        _on_worker(lambda: room.lost(1200, 9))
        qtbot.waitUntil(
            lambda: pane.recording_problem == "Recording failing: disk full (1200 records lost)",
            timeout=5000,
        )
        # A room's recording is not a camera's: the tiles stay as they were.
        assert grid.tiles[0].recording_problem is None

        _on_worker(room.written)
        qtbot.waitUntil(lambda: pane.recording_problem is None, timeout=5000)
        assert not pane.recording_label.isVisible()
    finally:
        bridge.close()
