"""A camera another process runs (a console attached to a shared site): its tile has no
frames, and says so plainly — the camera's state as its engine told it, which engine
analyses it, and why its picture is not here yet (as the console's stream reader says). A
camera this console runs keeps its tile as before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from engine.events import CameraStatus, CameraStatusChanged
from tests.settings import MemorySettings
from widgets.cameras.plugin import build
from widgets.cameras.tile import CameraTile
from widgets.cameras.view import CameraGrid

T0 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


def _tile(
    qtbot: QtBot, engine: str | None, *, elsewhere: bool = True, video: str | None = None
) -> CameraTile:
    tile = CameraTile()
    qtbot.addWidget(tile)
    tile.resize(480, 320)
    tile.show()
    tile.set_camera(
        "gate",
        "Front gate",
        lambda: None,
        (lambda: engine) if elsewhere else None,
        (lambda: video) if elsewhere else None,
    )
    return tile


def _pixels(image: QImage) -> np.ndarray:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    # Copied while ``rgb`` lives: the buffer is the image's, freed with it.
    return np.frombuffer(rgb.constBits(), np.uint8).copy()


def test_a_tile_of_a_camera_run_elsewhere_says_where_and_why_there_is_no_video(
    qtbot: QtBot,
) -> None:
    said = "server-a does not re-stream its cameras (start it with --rtsp-port to watch here)"
    tile = _tile(qtbot, "server-a", video=said)
    assert tile.runs_elsewhere and tile.engine == "server-a"
    title, where, _detail, video = tile.elsewhere_lines()
    assert title == "No report yet"  # nothing told yet: not a "Connecting…" it is not doing
    tile.set_status(CameraStatus.ONLINE, "768×576 at 10 fps", T0)
    title, where, detail, video = tile.elsewhere_lines()
    assert (title, where, detail) == ("Online", "Analysed on server-a", "768×576 at 10 fps")
    assert video == said  # the stream reader's words
    assert "Analysed on server-a" in tile.toolTip() and "--rtsp-port" in tile.toolTip()
    assert tile.refresh() is False  # no frames here, and none asked for in vain
    assert _pixels(tile.grab().toImage()).std() > 8  # words drawn, not a flat box


def test_a_camera_no_engine_runs_says_so_and_an_offline_one_since_when(qtbot: QtBot) -> None:
    tile = _tile(qtbot, None)
    tile.set_status(CameraStatus.OFFLINE, "no frames for 3 s", T0)
    title, where, detail, video = tile.elsewhere_lines()
    assert title.startswith("OFFLINE since ")
    assert where == "No engine runs this camera now" and detail == "no frames for 3 s"
    assert video == "No video until an engine runs this camera."


def test_the_tile_of_a_camera_run_here_is_unchanged(qtbot: QtBot) -> None:
    here = _tile(qtbot, None, elsewhere=False)
    there = _tile(qtbot, "server-a")
    for tile in (here, there):
        tile.set_status(CameraStatus.ONLINE, "768×576", T0)
    assert not here.runs_elsewhere
    assert here.toolTip() == "Front gate: online — 768×576"
    assert here.grab().toImage() != there.grab().toImage()


def test_the_cameras_pane_of_an_attached_console_names_each_cameras_engine(
    qtbot: QtBot,
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    engines = {"gate": "server-a", "yard": "server-b"}
    ctx = SimpleNamespace(
        cameras=[("gate", "Front gate"), ("yard", "Yard")],
        frame_of=lambda _camera: None,
        camera_engine=engines.get,
        site=SimpleNamespace(file=Path("site.toml"), cameras=()),
        settings=MemorySettings(),
        events=bridge,
    )
    grid = build(ctx)  # type: ignore[arg-type]
    assert isinstance(grid, CameraGrid)
    qtbot.addWidget(grid)
    grid.resize(800, 600)
    grid.show()
    try:
        with qtbot.waitSignal(bridge.signal_of(CameraStatusChanged)):
            bus.publish(
                CameraStatusChanged(
                    at=T0, camera_id="yard", status=CameraStatus.ONLINE, detail="", since=T0
                )
            )
        yard = next(tile for tile in grid.tiles if tile.camera_id == "yard")
        gate = next(tile for tile in grid.tiles if tile.camera_id == "gate")
        assert yard.elsewhere_lines()[:2] == ("Online", "Analysed on server-b")
        assert gate.elsewhere_lines()[1] == "Analysed on server-a"
        engines["gate"] = "server-c"  # handed over: the tile reads who runs it now
        assert gate.elsewhere_lines()[1] == "Analysed on server-c"
        grid.set_tile_count(1)  # a relayout keeps the tiles' engines
        assert grid.tiles[0].runs_elsewhere
    finally:
        bridge.close()


def test_a_remote_picture_that_stops_gives_way_to_why(qtbot: QtBot) -> None:
    """The engine's stream shows; when it stops, the last picture does not stay frozen on
    the wall: the tile says why there is none, and follows what the reader says next."""
    from engine.frames import Frame

    shown: list[Frame | None] = [
        Frame(seq=1, image=np.full((96, 128, 3), 90, np.uint8), captured_at=0.0, source_fps=10)
    ]
    said = ["Connecting to server-a's stream…"]
    tile = CameraTile()
    qtbot.addWidget(tile)
    tile.resize(480, 320)
    tile.show()
    tile.set_camera("gate", "Front gate", lambda: shown[0], lambda: "server-a", lambda: said[0])
    tile.set_status(CameraStatus.ONLINE, "", T0)
    assert tile.refresh() is True and tile.frames_shown == 1
    shown[0] = None
    assert tile.refresh() is True  # the picture goes
    assert tile.elsewhere_lines()[3] == "Connecting to server-a's stream…"
    assert tile.refresh() is False  # nothing new to say: no repaint
    said[0] = "server-a's stream cannot be opened (wrong media_password, …)"
    assert tile.refresh() is True
    assert "wrong media_password" in tile.toolTip()
