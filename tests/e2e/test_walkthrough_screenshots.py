"""The walkthrough as an operator sees it once its camera is calibrated: the simulated
camera's tile with the walkers' boxes named by the tags the lobby's nodes hear, the Sensing
pane with the same people, and the store room (no camera, no tag reader) saying which tags
went in, at 1400×860 and 1920×1080."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app import apply_theme
from console.commands.fusion import DEFAULT_SITE, calibrate_from_markers
from console.host import EngineHost, console_settings
from console.layouts import Layout
from console.main_window import MainWindow
from engine.access import machine_actor
from engine.fusion.service import FusionUpdated
from tests.console.conftest import ensure_accounts, log_in
from tests.e2e.test_screenshots import SIZES, Album, resize
from widgets.login_panel import LoginMode
from widgets.sensing.view import SensingPane


@pytest.mark.slow
def test_walkthrough_screenshots(qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    album = Album(out)
    apply_theme(qapp)
    host = EngineHost.open(DEFAULT_SITE, f"sqlite:///{tmp_path / 'walk.db'}")
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    updates: list[FusionUpdated] = []
    host.bridge.on(FusionUpdated, updates.append)
    try:
        window.show()
        ensure_accounts(host, {"ada": "admin"})
        window.login_panel.set_mode(LoginMode.LOGIN)
        log_in(qtbot, window, "ada")
        window.switch_layout(Layout.OPERATOR)
        window.reset_layout()
        (camera,) = host.runtime.site.cameras
        calibration = calibrate_from_markers(host.runtime, camera, 8, 2.0, machine_actor())
        assert calibration["truth_median_m"] < 0.3

        def named_on_camera() -> bool:
            latest = updates[-1] if updates else None
            return latest is not None and bool(latest.names_on("camera", camera.id))

        # The walkers enter from 8 s on; their tags name them within seconds.
        deadline = time.monotonic() + 90.0
        while time.monotonic() < deadline and not named_on_camera():
            qtbot.wait(250)
        assert named_on_camera(), "no camera track was named within 90 s"
        window.docks["sensing"].raise_()
        sensing = window.panes["sensing"]
        assert isinstance(sensing, SensingPane)
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            qtbot.wait(600)  # a few frames and fusion ticks at this size
            album.save(window, f"walkthrough-operator-{width}x{height}", (width, height))
            album.save(window.panes["cameras"], f"walkthrough-cameras-{width}x{height}")
            album.save(sensing, f"walkthrough-sensing-{width}x{height}")

        # Walker 1 walks into the store room, which no camera sees and whose nodes hear no
        # tags: once her tag has fallen silent at its door, the pane says it is in there.
        def tags_in_store() -> bool:
            return bool(updates and updates[-1].tags_inside("store"))

        deadline = time.monotonic() + 90.0
        while time.monotonic() < deadline and not tags_in_store():
            qtbot.wait(250)
        assert tags_in_store(), "no tag went into the store room within 90 s"
        sensing.room_combo.setCurrentIndex(sensing.room_combo.findText("Store room"))
        qtbot.waitUntil(sensing.inside_label.isVisible)
        assert sensing.inside_label.text().startswith("Tags in here: Walker")
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            qtbot.wait(300)
            album.save(sensing, f"walkthrough-store-{width}x{height}")
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()
