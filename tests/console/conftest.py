"""A real console (engine + window) that cleans up after itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.host import EngineHost, console_settings
from console.main_window import MainWindow

OpenConsole = Callable[..., tuple[EngineHost, MainWindow]]


@pytest.fixture
def open_console(qtbot: QtBot, tmp_path: Path) -> Iterator[OpenConsole]:
    """Opens consoles on a site; closes windows and stops engines, then checks that no
    window is left open (engine threads are checked by the root conftest)."""
    opened: list[tuple[EngineHost, MainWindow]] = []

    def open_(site: Path, settings_file: Path | None = None) -> tuple[EngineHost, MainWindow]:
        host = EngineHost.open(site, f"sqlite:///{tmp_path / 'console.db'}")
        window = MainWindow(
            host.runtime, host.bridge, console_settings(settings_file or tmp_path / "console.ini")
        )
        qtbot.addWidget(window)
        window.show()
        opened.append((host, window))
        return host, window

    yield open_
    for host, window in opened:
        window.close()
        host.close()
    from PySide6.QtWidgets import QApplication

    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert not visible, f"console left windows open: {visible}"
