"""Nothing a person reads is machine text: the demo site's console, live for a while, walked
pane by pane (every pane of the live wall and every page of the administration window), with
everything each shows checked: labels, buttons, tabs, combo items, tooltips, text views and
the rows of every list and table.

Machine text is what :mod:`tests.machine_text` names: braces and Python reprs, quoted keys,
dotted event kinds, H3 cell indexes, floats in exponent form, account labels, microsecond
ISO stamps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app import apply_theme
from console.host import EngineHost, console_settings
from console.layouts import ADMIN_PAGES, DEFAULTS, Layout
from console.main_window import MainWindow
from engine.access import machine_actor
from engine.events import CameraStatus
from resources import DEMO_SITE
from tests.console.conftest import ensure_accounts, log_in
from tests.widget_text import machine_texts
from widgets.login_panel import LoginMode


@pytest.mark.slow
def test_no_pane_shows_machine_text_on_the_live_demo_site(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    apply_theme(qapp)
    host = EngineHost.open(DEMO_SITE, f"sqlite:///{tmp_path / 'demo.db'}")
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    found: list[str] = []
    try:
        window.show()
        window.resize(1920, 1080)
        tile = window.camera_grid.tiles[0]
        qtbot.waitUntil(lambda: tile.status is CameraStatus.ONLINE, timeout=10_000)
        qtbot.waitUntil(lambda: window.login_panel.mode is LoginMode.FIRST_ADMIN, timeout=5000)
        found += machine_texts(window, "first run")
        ensure_accounts(host, {"ada": "admin"})
        window.login_panel.set_mode(LoginMode.LOGIN)
        log_in(qtbot, window, "ada")

        # Live rows of every sort the demo makes: people on the plaza, movement in the
        # room, activities, camera states; an answer in Ask.
        events = window.panes["events"]
        events.set_summary(False)
        qtbot.waitUntil(
            lambda: (
                {"person.appeared", "sensing.blob_appeared", "activity.began"}
                <= {v.kind for row in range(events.row_count()) if (v := events.event_at(row))}
            ),
            timeout=60_000,
        )
        chat = window.panes["chat"]
        chat.ask("How many people were seen on the plaza camera today?")
        qtbot.waitUntil(lambda: not chat.busy, timeout=30_000)

        for name, dock in window.docks.items():
            home = next(layout for layout in Layout if name not in DEFAULTS[layout].hidden)
            window.switch_layout(home)
            dock.raise_()
            QApplication.processEvents()
            found += machine_texts(dock, f"pane {name}")
        events.set_summary(True)
        found += machine_texts(window.docks["events"], "pane events (summary)")

        admin = window.open_administration()
        assert admin is not None
        for name, _title in ADMIN_PAGES:
            admin.show_page(name)
            QApplication.processEvents()
            found += machine_texts(admin, f"admin page {name}")
        admin.close()
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()
    assert found == [], "\n".join(found)
