"""Pictures of the lock and handover for reviewers: the lock screen with open and escalated
alerts, and the idle lock's countdown over a logged-in window, each at 1400×860 and
1920×1080, in the console tests' album ($WATCHFLOOR_SCREENSHOT_DIR, else
artifacts/screenshots) under ``lock_and_handover/``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from console.app import apply_theme
from console.main_window import MainWindow
from tests.conftest import write_site
from tests.console.conftest import OpenConsole
from tests.console.test_alert_stream_console import fall

SIZES = ((1400, 860), (1920, 1080))
REPO = Path(__file__).resolve().parents[2]
FROZEN_MS = 600_000  # a countdown tick that does not come while the pictures are taken


class Album:
    """Saves grabs of the window at a size, and checks each is a picture worth a look."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        out = os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or REPO / "artifacts" / "screenshots"
        self.folder = Path(out) / "lock_and_handover"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.names: list[str] = []

    def save(self, widget: QWidget, name: str, size: tuple[int, int] | None = None) -> Path:
        """``widget`` at ``size`` (a window), or as it is (a dialog, when None)."""
        if size is not None:
            widget.resize(*size)
            self.qtbot.waitUntil(lambda: (widget.width(), widget.height()) == size, timeout=5000)
            self.qtbot.wait(50)  # the deferred dock sizing runs on a zero timer
        QApplication.processEvents()
        image = widget.grab().toImage()
        if size is not None:
            assert (image.width(), image.height()) == size, name
        rgb = image.convertToFormat(QImage.Format.Format_RGB888)
        assert np.frombuffer(rgb.constBits(), np.uint8).std() > 8, f"{name}: a flat picture"
        path = self.folder / (f"{name}-{size[0]}x{size[1]}.png" if size else f"{name}.png")
        assert image.save(str(path)), path
        self.names.append(path.name)
        return path


def site(tmp_path: Path, video: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{video}"\n',
        extra="[alerts]\nwebhooks = []\n",
    )


def inside(window: MainWindow, widget: QWidget) -> bool:
    """Whether ``widget`` is shown whole within the window (nothing of it clipped)."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return window.rect().contains(top_left) and window.rect().contains(
        top_left + widget.rect().bottomRight()
    )


@pytest.mark.slow
def test_lock_screen_with_alerts_and_idle_warning_screenshots(
    qtbot: QtBot, qapp: QApplication, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    apply_theme(qapp)
    album = Album(qtbot)
    host, window = open_console(
        site(tmp_path, vtest_avi), accounts={"olga": "operator"}, login="olga"
    )
    pane = window.panes["alerts"]
    tile = window.camera_grid.tiles[0]
    qtbot.waitUntil(lambda: tile.frames_shown > 3, timeout=10_000)
    service = host.runtime.alerts
    assert service is not None
    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000):
        fall(window)
    waited = service.escalate_after_s
    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000):
        service.escalate_after_s = 0
        service.escalate_due()
    service.escalate_after_s = waited  # the next alert waits again
    with qtbot.waitSignal(pane.sig_sound_requested, timeout=10_000):
        fall(window, blob=8)

    # The idle lock's countdown over the operator's layout.
    flow = window.login
    qtbot.waitUntil(lambda: flow.idle_setting_read, timeout=5000)
    flow.second_ms = 20  # the quiet time passes quickly…

    def hold(seconds_left: int) -> None:  # …and "Locking in 30 s" stays for the pictures
        if seconds_left == 30:
            flow.countdown_timer.setInterval(FROZEN_MS)

    flow.sig_idle_warning_changed.connect(hold)
    with qtbot.waitSignal(flow.sig_idle_warning_changed, timeout=10_000):
        flow.restart_idle_timer()
    for size in SIZES:
        album.save(window, "idle-warning", size)
        assert flow.idle_banner.isVisible() and inside(window, flow.idle_banner)
        assert flow.idle_banner.width() == window.width()
        assert flow.idle_banner.label.text().startswith("Locking in 30 s")

    # Session → Idle lock at this workstation…, as the operator sees it (an admin changes it).
    window.idle_lock_action.trigger()
    dialog = flow.idle_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    album.save(dialog, "idle-lock-dialog")
    dialog.reject()

    # The lock screen: the wall, and the card saying what is open.
    window.switch_user_action.trigger()
    assert window.locked
    view = window.lock_view

    def wait_for_a_new_frame(qtbot: QtBot, shown: int) -> None:
        qtbot.waitUntil(lambda: tile.frames_shown > shown, timeout=10_000)

    assert view.alerts_text().splitlines()[0] == "2 open alerts, 1 escalated"
    for size in SIZES:
        wait_for_a_new_frame(qtbot, tile.frames_shown)
        album.save(window, "locked-with-alerts", size)
        for label in (view.alerts_label, view.newest_label, window.login_panel.login_button):
            assert label.isVisible() and inside(window, label), (size, label.text())
    assert len(album.names) == 5
