"""The Cameras page of a live console: an admin adds a camera (its stream checked, with a
snapshot), it starts at once with a tile on the wall; switches it off and on; edits it;
removes it. Every change is in the site file (comments kept) and the audit trail; refusals
are shown in the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from engine.config import load_site
from engine.store.audit_models import AuditEntry
from tests.conftest import write_site
from tests.engine.test_recording import write_video
from widgets.camera_setup.dialog import CameraDialog, suggested_id, with_user
from widgets.camera_setup.view import CameraSetupPane


def test_ids_and_user_names_are_made_as_an_admin_would_write_them() -> None:
    assert suggested_id("Loading dock 2", set()) == "loading-dock-2"
    assert suggested_id("Gate", {"gate", "gate-2"}) == "gate-3"
    assert suggested_id("  ***  ", set()) == "camera"
    assert with_user("rtsp://192.0.2.1:554/main", "admin") == "rtsp://admin@192.0.2.1:554/main"
    assert with_user("rtsp://old:secret@192.0.2.1/main", "") == "rtsp://192.0.2.1/main"
    assert with_user("/videos/gate.mp4", "admin") == "/videos/gate.mp4"


def test_an_admin_adds_switches_edits_and_removes_a_camera_from_the_cameras_page(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    dock = write_video(tmp_path / "dock.mp4", "libx264", seconds=4.0, fps=10, gop=10)
    dock_sub = write_video(tmp_path / "dock_sub.mp4", "libx264", seconds=4.0, fps=10, gop=10)
    site_file = write_site(
        tmp_path / "site.toml",
        "# The plaza camera, as the installer set it up.\n"
        f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{vtest_avi}"\n',
    )
    host, window = open_console(site_file)
    window.open_administration("camera_setup")
    page = window.panes["camera_setup"]
    assert isinstance(page, CameraSetupPane)
    qtbot.waitUntil(lambda: page.listing is not None and page.table.rowCount() == 1, timeout=5000)
    assert page.table.item(0, 0).text() == "Plaza" and page.add_button.isEnabled()

    snapshots: list[bool] = []

    def fill_and_save(dialog: CameraDialog) -> object:
        dialog.url_edit.setText(str(dock))
        dialog.sub_edit.setText(str(dock_sub))
        assert not dialog.buttons.button(dialog.buttons.StandardButton.Save).isEnabled()
        dialog.check_button.click()
        qtbot.waitUntil(lambda: dialog.probed is not None, timeout=20000)
        assert "Main: H.264 320×240 at 10.0 fps" in dialog.summary.text()
        assert "Sub (analysed, shown on the wall): H.264" in dialog.summary.text()
        snapshots.append(not dialog.snapshot.pixmap().isNull())
        dialog.name_edit.setText("Loading dock")
        dialog._on_name_edited("Loading dock")
        assert dialog.id_edit.text() == "loading-dock"
        dialog.recording_combo.setCurrentIndex(1)  # event clips only
        assert dialog.buttons.button(dialog.buttons.StandardButton.Save).isEnabled()
        dialog._on_save()
        return dialog.change

    page._open = fill_and_save  # type: ignore[method-assign]
    page.add_button.click()
    qtbot.waitUntil(lambda: "Loading dock added" in page.strip.status(), timeout=20000)
    assert snapshots == [True]
    # In the file (the installer's comment kept), running, and on the wall.
    assert "# The plaza camera, as the installer set it up." in site_file.read_text()
    site = load_site(site_file)
    assert [c.id for c in site.cameras] == ["plaza", "loading-dock"]
    assert not site.recording_of("loading-dock").continuous
    assert site.cameras[1].sub_url == str(dock_sub)
    assert "loading-dock" in host.runtime.cameras.sources
    qtbot.waitUntil(lambda: "loading-dock" in window.camera_grid.camera_ids, timeout=10000)
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    qtbot.waitUntil(lambda: page.table.item(1, 3).text() in ("online", "starting"), timeout=10000)

    # Switched off: kept in the file, stopped, off the wall.
    page.table.selectRow(1)
    assert page.switch_button.text() == "Switch off"
    page.switch_button.click()
    qtbot.waitUntil(lambda: page.table.item(1, 3).text() == "disabled", timeout=10000)
    assert "loading-dock" not in host.runtime.cameras.sources
    qtbot.waitUntil(lambda: "loading-dock" not in window.camera_grid.camera_ids, timeout=10000)
    page.table.selectRow(1)
    assert page.switch_button.text() == "Switch on"
    page.switch_button.click()
    qtbot.waitUntil(lambda: "loading-dock" in host.runtime.cameras.sources, timeout=10000)

    # Edited: a new name; the recording stays as it was.
    def rename(dialog: CameraDialog) -> object:
        assert dialog.id_edit.isReadOnly() and dialog.url_edit.text() == str(dock)
        dialog.name_edit.setText("Dock")
        dialog._on_save()
        return dialog.change

    page._open = rename  # type: ignore[method-assign]
    qtbot.waitUntil(lambda: page.table.item(1, 3).text() != "disabled", timeout=10000)
    page.table.selectRow(1)
    page.edit_button.click()
    qtbot.waitUntil(lambda: "Dock saved" in page.strip.status(), timeout=10000)
    assert load_site(site_file).cameras[1].name == "Dock"
    assert not load_site(site_file).recording_of("loading-dock").continuous

    # Removed, after the question.
    page._confirm_remove = lambda _camera: True  # type: ignore[method-assign]
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5000)
    page.table.selectRow(1)
    page.remove_button.click()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10000)
    assert [c.id for c in load_site(site_file).cameras] == ["plaza"]
    assert "loading-dock" not in host.runtime.cameras.sources
    with host.store.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("camera.%"))
        ).all()
    assert list(actions) == ["camera.add", "camera.edit", "camera.edit", "camera.edit",
                             "camera.remove"]  # fmt: skip


def test_a_stream_that_gives_no_video_is_said_in_the_dialog_and_nothing_is_saved(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    site_file = write_site(
        tmp_path / "site.toml", f'[[cameras]]\nid = "plaza"\nurl = "{vtest_avi}"\n'
    )
    before = site_file.read_text()
    _host, window = open_console(site_file)
    window.open_administration("camera_setup")
    page = window.panes["camera_setup"]
    qtbot.waitUntil(lambda: page.listing is not None, timeout=5000)
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 40)
    seen: list[str] = []

    def try_it(dialog: CameraDialog) -> object:
        dialog.url_edit.setText(str(notes))
        dialog.check_button.click()
        qtbot.waitUntil(lambda: bool(dialog.strip.error()), timeout=20000)
        seen.append(dialog.strip.error())
        assert not dialog.buttons.button(dialog.buttons.StandardButton.Save).isEnabled()
        dialog.reject()
        return dialog.change

    page._open = try_it  # type: ignore[method-assign]
    page.add_button.click()
    assert seen and "the stream cannot be used" in seen[0] and "notes.mp4" in seen[0]
    assert "notes.mp4: not a video file (FFmpeg cannot read it)" in seen[0]  # the probe's words
    assert site_file.read_text() == before


def test_the_add_dialog_finds_an_onvif_camera_and_reads_its_streams(
    qtbot: QtBot, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    pytest.importorskip("ipycam", reason="the test camera: scripts/bootstrap.sh --dev")
    from tests.onvif_camera import OnvifCamera

    site_file = write_site(
        tmp_path / "site.toml", f'[[cameras]]\nid = "plaza"\nurl = "{vtest_avi}"\n'
    )
    _host, window = open_console(site_file)
    window.open_administration("camera_setup")
    page = window.panes["camera_setup"]
    qtbot.waitUntil(lambda: page.listing is not None, timeout=5000)
    with OnvifCamera(name="Loading Dock", user="admin", password="d0ck pass") as camera:
        window.host.backends["camera_setup"].discovery_targets = (
            ("127.0.0.1", camera.discovery_port),
        )
        dialog = page._dialog(None)
        assert dialog.find_button.isVisible() or not dialog.isVisible()
        dialog.find_button.click()
        qtbot.waitUntil(lambda: dialog.found_combo.count() == 1, timeout=15000)
        assert "Loading Dock" in dialog.found_combo.itemText(0)
        assert "1 camera answered" in dialog.strip.status()
        # A wrong password: said, nothing filled in.
        dialog.user_edit.setText("admin")
        dialog.keyring_password.setChecked(True)
        dialog.password_edit.setText("wrong")
        dialog.read_button.click()
        qtbot.waitUntil(lambda: bool(dialog.strip.error()), timeout=15000)
        assert "refused the user name or password" in dialog.strip.error()
        assert "wrong" not in dialog.strip.error() and dialog.url_edit.text() == ""
        dialog.password_edit.setText("d0ck pass")
        dialog.read_button.click()
        qtbot.waitUntil(lambda: dialog.device is not None, timeout=15000)
    main = max(dialog.device.profiles, key=lambda p: p.width * p.height)
    assert dialog.url_edit.text() and dialog.url_edit.text() in (main.stream_uri or "")
    assert dialog.name_edit.text() == "Loading Dock" and dialog.id_edit.text() == "loading-dock"
    assert "Recorded (main): " in dialog.summary.text() and "1920×1080" in dialog.summary.text()
    assert "Analysed and on the wall (sub): " in dialog.summary.text()
    assert dialog.sub_edit.text() and "640" not in dialog.url_edit.text()
    dialog.reject()
