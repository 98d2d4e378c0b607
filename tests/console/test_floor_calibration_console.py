"""The Floor calibration page in a running console: an admin clicks points on the camera's live
picture, types their floor places and saves, and the calibration is stored through the
console's backend as the person logged in (audited); the backend itself, on SQLite and
PostgreSQL, stores and reads back as whoever is logged in and refuses anyone else."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from console.backends.cameras import FloorCalibrationBackend
from console.host import EngineHost
from console.layouts import pane_allowed
from console.session import ConsoleSession, NotLoggedInError
from engine.access import PermissionDeniedError
from engine.fusion.floor import CalibrationError, calibrate, camera_calibrations
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR
from tests.conftest import write_site
from tests.console.conftest import PASSWORD, OpenConsole, audit_entries, ensure_accounts
from tests.engine.fusion.test_floor import GRID, pairs_for
from tests.widgets.test_floor_calibration_pane import picture_of
from widgets.floor_calibration.view import FloorCalibrationPane

ROOM = """
[room]
width_m = 8.0
depth_m = 6.0
height_m = 3.0
origin = { x = 1.0, y = 0.5 }
"""


def test_the_page_is_offered_to_whoever_may_configure_cameras() -> None:
    assert pane_allowed(ADMIN, "floor_calibration")
    assert not pane_allowed(OPERATOR, "floor_calibration")
    assert not pane_allowed(INVESTIGATOR, "floor_calibration")


@pytest.mark.slow
def test_an_admin_calibrates_the_live_camera_from_the_page(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path, vtest_avi: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{vtest_avi}"\nloop = true\n',
        ROOM,
    )
    host, window = open_console(site)
    admin = window.open_administration("floor_calibration")
    assert admin is not None and admin.current_page() == "floor_calibration"
    pane = window.panes["floor_calibration"]
    assert isinstance(pane, FloorCalibrationPane) and pane.isVisible()
    assert pane.camera() == "plaza"
    # The picture is the camera's newest frame: once it has sent one, Refresh shows it.
    qtbot.waitUntil(lambda: window.host.frame_of("plaza") is not None, timeout=10_000)
    pane.refresh_button.click()
    assert pane.canvas.has_picture() and pane.image_size() == (768, 576)
    qtbot.waitUntil(lambda: pane.stored() is None and "Not calibrated" in pane.stored_label.text())

    admin.activateWindow()
    qtbot.waitUntil(admin.isActiveWindow, timeout=5000)
    for x, y in GRID[:6]:
        at = pane.canvas.widget_point(*picture_of(x, y)).toPoint()
        qtbot.mouseClick(pane.canvas, Qt.MouseButton.LeftButton, pos=at)
        for text in (f"{x:g}", f"{y:g}"):
            editor = QApplication.focusWidget()
            assert isinstance(editor, QLineEdit)
            qtbot.keyClicks(editor, text)
            qtbot.keyClick(editor, Qt.Key.Key_Tab)
        qtbot.waitUntil(lambda: pane.rows()[-1].y is not None, timeout=5000)
    fit = pane.calibration()
    assert fit is not None and fit.error_m is not None and fit.error_m < 0.3
    assert fit.image_size == (768, 576)
    with qtbot.waitSignal(pane.sig_saved, timeout=10_000):
        pane.save_button.click()

    runtime = host.runtime
    assert runtime.site_ids is not None
    stored = camera_calibrations(host.store, runtime.site_ids.site_id)["plaza"]
    assert stored.calibration.pairs == fit.pairs and stored.calibrated_by == "account:ada"
    assert [
        (e.actor, e.target, e.outcome) for e in audit_entries(host, action="camera.calibrate")
    ] == [("account:ada", "camera plaza", "ok")]
    assert pane.stored_label.text().startswith("Stored: error")
    assert "calibrated by ada at" in pane.stored_label.text()
    # The running fusion places the camera's people on the floor with it at once.
    assert runtime.floor.service is not None and "plaza" in runtime.floor.service.calibrated()
    admin.close()


def test_the_backend_stores_as_the_person_logged_in_and_refuses_anyone_else(
    db_url: str, tmp_path: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "cam"\nname = "Door"\nurl = "{tmp_path / "missing.mp4"}"\n',
    )
    host = EngineHost.open(site, db_url)
    try:
        ensure_accounts(host, {"ada": "admin", "olga": "operator"})
        session = ConsoleSession(host.store, host.runtime.writer, host.runtime.clock)
        backend = FloorCalibrationBackend(host.runtime, host.store, session)
        fit = calibrate(pairs_for(GRID, noise_px=1.0), (640, 480))
        assert backend.stored_calibration("cam") is None
        with pytest.raises(NotLoggedInError, match="log in to calibrate cameras"):
            backend.save_calibration("cam", fit)

        session.login("olga", PASSWORD)
        with pytest.raises(
            PermissionDeniedError,
            match=r"olga \(operator\) may not calibrate cameras to the floor",
        ):
            backend.save_calibration("cam", fit)
        assert backend.stored_calibration("cam") is None

        session.logout()
        session.login("ada", PASSWORD)
        stored = backend.save_calibration("cam", fit)
        assert stored.camera == "cam" and stored.calibrated_by == "account:ada"
        assert stored.calibration.pairs == fit.pairs
        assert stored.calibration.error_m == pytest.approx(fit.error_m)
        assert backend.stored_calibration("cam") == stored
        with pytest.raises(CalibrationError, match="no camera 'door' on this site"):
            backend.save_calibration("door", fit)
        outcomes = [(e.actor, e.outcome) for e in audit_entries(host, action="camera.calibrate")]
        assert ("account:ada", "ok") in outcomes
        assert any(actor == "account:olga" and outcome != "ok" for actor, outcome in outcomes)
    finally:
        host.close()
