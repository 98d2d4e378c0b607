"""A real window manager (Openbox, a Debian package the README's setup installs) on the test
X server (pytest-xvfb's), so that a journey test's windows are framed, placed, focused,
maximised and made full screen as on an operator's desktop rather than on a bare X server.

``openbox --startup CMD`` runs CMD once it manages the screen: the fixture waits for that
(a file appearing), not for a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

STARTED_WITHIN_MS = 20_000


class WindowManager:
    """A running Openbox on ``display``: :meth:`stop` ends it."""

    def __init__(self, display: str, folder: Path) -> None:
        self.display = display
        self.ready = folder / "openbox-ready"
        config = folder / "openbox"
        config.mkdir(exist_ok=True)
        env = {**os.environ, "DISPLAY": display, "XDG_CONFIG_HOME": str(config)}
        env.pop("XDG_CONFIG_DIRS", None)
        self.log = folder / "openbox.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                ["openbox", "--sm-disable", "--startup", f"touch {self.ready}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def running(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(
                f"openbox ended with {self.process.returncode}: {self.log.read_text()[-2000:]}"
            )
        return self.ready.exists()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def window_manager(qtbot: QtBot, tmp_path: Path) -> Iterator[WindowManager]:
    """Openbox managing the test X server's screen for the test's length."""
    display = os.environ.get("DISPLAY", "")
    if not display:
        pytest.fail("no X server: the journey runs under pytest-xvfb (do not force offscreen)")
    if shutil.which("openbox") is None:
        pytest.fail("openbox is not installed: run scripts/bootstrap.sh --dev")
    manager = WindowManager(display, tmp_path)
    try:
        qtbot.waitUntil(manager.running, timeout=STARTED_WITHIN_MS)
        yield manager
    finally:
        manager.stop()
