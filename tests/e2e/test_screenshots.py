"""Screenshots of the console on the demo site, locked and in each role layout, for reviewers.

Written to $WATCHFLOOR_SCREENSHOT_DIR (scripts/screenshots.sh sets artifacts/screenshots),
else to the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app import apply_theme
from console.host import EngineHost, console_settings
from console.layouts import Layout
from console.main_window import MainWindow
from engine.events import CameraStatus
from resources import DEMO_SITE
from tests.console.conftest import ensure_accounts, log_in


@pytest.mark.slow
def test_demo_site_screenshots_of_each_layout(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    apply_theme(qapp)
    host = EngineHost.open(DEMO_SITE, f"sqlite:///{tmp_path / 'demo.db'}")
    ensure_accounts(host, {"ada": "admin"})  # before the window: it asks for a login
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    try:
        window.resize(1400, 860)
        window.show()
        tile = window.camera_grid.tiles[0]
        qtbot.waitUntil(
            lambda: tile.status is CameraStatus.ONLINE and tile.frames_shown > 20, timeout=10_000
        )
        # Before anyone logs in: the live view with the login panel, controls hidden.
        assert window.grab().save(str(out / "console-locked.png"))
        log_in(qtbot, window, "ada")
        for layout in (Layout.INVESTIGATOR, Layout.ADMIN, Layout.OPERATOR):
            window.switch_layout(layout)
            qtbot.wait(100)  # let the deferred dock sizing run
            shown = tile.frames_shown
            qtbot.waitUntil(lambda shown=shown: tile.frames_shown > shown + 5, timeout=5000)
            path = out / f"console-{layout.value.lower()}.png"
            assert window.grab().save(str(path))
            image = window.grab().toImage()
            assert (image.width(), image.height()) == (1400, 860)
            # The camera tile holds real video, not a flat fill.
            tile_image = tile.grab().toImage().convertToFormat(image.Format.Format_RGB888)
            pixels = np.frombuffer(tile_image.constBits(), np.uint8)
            assert pixels.std() > 20, f"{layout.value}: camera tile looks empty"
            assert path.stat().st_size > 50_000
    finally:
        window.close()
        host.close()
