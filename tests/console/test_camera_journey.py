"""An admin's whole journey with a new camera, in a live console on a site file of its own,
without restarting anything: Administration → Cameras → Add; the ONVIF camera found on the
network (ipycam's, tests/onvif_camera.py) and its streams read; their addresses corrected to
where the camera really streams (GStreamer's RTSP server, tests/rtsp_camera.py: ipycam
encodes no video), both checked with a snapshot; saved, and its tile on the wall live;
renamed; switched off; removed from the list and the site file.

Each step's picture is saved at 1400×860 to $WATCHFLOOR_SCREENSHOT_DIR/camera_journey
(default artifacts/screenshots/camera_journey) to be looked at.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from console.app import apply_theme
from engine.cluster.media import system_python
from engine.config import load_site
from engine.cv import import_cv2
from engine.events import CameraStatus
from tests.conftest import write_site
from tests.rtsp_camera import RtspCamera, has_rtsp_server
from widgets.camera_setup.dialog import CameraDialog
from widgets.camera_setup.view import CameraSetupPane
from widgets.cameras.tile import CameraTile

REPO = Path(__file__).resolve().parents[2]
SIZE = (1400, 860)
STREAM_SECONDS = 40  # the RTSP server sends each client the file from its start, once
FPS = 10


def write_camera_streams(folder: Path, vtest: Path) -> tuple[Path, Path]:
    """vtest's pedestrians as a camera sends them: H.264 main 640×480 and sub 320×240, the
    same moments, a keyframe a second."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(vtest))
    paths = (folder / "main.mp4", folder / "sub.mp4")
    with av.open(str(paths[0]), "w") as main, av.open(str(paths[1]), "w") as sub:
        streams = []
        for container, (width, height) in ((main, (640, 480)), (sub, (320, 240))):
            stream = container.add_stream("libx264", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.gop_size = FPS
            stream.codec_context.max_b_frames = 0
            stream.options = {"preset": "ultrafast"}
            streams.append((container, stream))
        for index in range(STREAM_SECONDS * FPS):
            ok, image = capture.read()
            assert ok, "vtest.avi is shorter than the stream"
            for container, stream in streams:
                small = cv2.resize(image, (stream.width, stream.height))
                frame = av.VideoFrame.from_ndarray(small, format="bgr24")
                frame.pts, frame.time_base = index, Fraction(1, FPS)
                container.mux(stream.encode(frame))
        for container, stream in streams:
            container.mux(stream.encode(None))
    capture.release()
    return paths


class Album:
    """The journey's pictures, numbered in order."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        out = os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or REPO / "artifacts" / "screenshots"
        self.folder = Path(out) / "camera_journey"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def save(self, widget: QWidget, step: str, *, sized: bool = True) -> None:
        if sized and (widget.width(), widget.height()) != SIZE:
            widget.resize(*SIZE)
            self.qtbot.waitUntil(lambda: (widget.width(), widget.height()) == SIZE, timeout=5000)
        QApplication.processEvents()
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        assert widget.grab().save(str(path)), path


def tile_of(grid_tiles: list[CameraTile], camera_id: str) -> CameraTile | None:
    return next((t for t in grid_tiles if t.camera_id == camera_id), None)


@pytest.mark.slow
@pytest.mark.skipif(
    not has_rtsp_server(system_python()), reason="GStreamer's RTSP server is not installed"
)
def test_an_admin_finds_checks_adds_renames_switches_off_and_removes_a_camera(
    qtbot: QtBot, qapp: QApplication, open_console, tmp_path: Path, vtest_avi: Path
) -> None:
    pytest.importorskip("ipycam", reason="the test camera: scripts/bootstrap.sh --dev")
    from tests.onvif_camera import OnvifCamera

    apply_theme(qapp)
    album = Album(qtbot)
    main_file, sub_file = write_camera_streams(tmp_path, vtest_avi)
    site_file = write_site(
        tmp_path / "site.toml",
        "# The plaza camera, as the installer set it up.\n"
        f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{vtest_avi}"\n',
    )
    host, window = open_console(site_file)
    window.resize(*SIZE)
    admin = window.open_administration("camera_setup")
    assert admin is not None
    page = window.panes["camera_setup"]
    assert isinstance(page, CameraSetupPane)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1 and page.add_button.isEnabled())
    album.save(admin, "cameras-page")

    rtsp = RtspCamera(system_python(), {"main": main_file, "sub": sub_file})
    with OnvifCamera(name="Loading Dock") as onvif, rtsp:
        window.host.backends["camera_setup"].discovery_targets = (
            ("127.0.0.1", onvif.discovery_port),
        )

        def find_check_and_save(dialog: CameraDialog) -> object:
            dialog.show()
            qtbot.waitExposed(dialog)
            save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
            dialog.find_button.click()
            qtbot.waitUntil(lambda: dialog.found_combo.count() == 1, timeout=15_000)
            assert "Loading Dock" in dialog.found_combo.itemText(0)
            assert "1 camera answered" in dialog.strip.status()
            album.save(dialog, "camera-found", sized=False)

            dialog.read_button.click()
            qtbot.waitUntil(lambda: dialog.device is not None, timeout=15_000)
            assert dialog.name_edit.text() == "Loading Dock"
            assert dialog.id_edit.text() == "loading-dock"
            assert dialog.url_edit.text() and dialog.sub_edit.text()
            assert "Recorded (main): " in dialog.summary.text()
            assert not save.isEnabled()  # not checked yet
            assert "now check the streams" in dialog.strip.status()
            album.save(dialog, "streams-read", sized=False)

            # ipycam's addresses lead nowhere: corrected to where the camera streams.
            dialog.url_edit.setText(rtsp.url("main"))
            dialog.sub_edit.setText(rtsp.url("sub"))
            dialog.check_button.click()
            qtbot.waitUntil(lambda: dialog.probed is not None, timeout=30_000)
            summary = dialog.summary.text()
            assert dialog.strip.status() == "Both streams work"
            assert "Main: H.264 640×480 at 10.0 fps" in summary
            assert "Sub (analysed, shown on the wall): H.264 320×240 at 10.0 fps" in summary
            assert not dialog.snapshot.pixmap().isNull()
            assert save.isEnabled()
            album.save(dialog, "streams-checked", sized=False)
            save.click()
            return dialog.change

        page._open = find_check_and_save  # type: ignore[method-assign]
        page.add_button.click()
        qtbot.waitUntil(lambda: "Loading Dock added" in page.strip.status(), timeout=20_000)
        site = load_site(site_file)
        camera = next(c for c in site.cameras if c.id == "loading-dock")
        assert (camera.url, camera.sub_url) == (rtsp.url("main"), rtsp.url("sub"))
        assert "# The plaza camera, as the installer set it up." in site_file.read_text()

        # On the wall at once, live: frames arriving.
        grid = window.camera_grid
        qtbot.waitUntil(lambda: "loading-dock" in grid.camera_ids, timeout=10_000)
        # The wall showed its one camera on one tile: it grows to four for the new one.
        qtbot.waitUntil(lambda: tile_of(grid.tiles, "loading-dock") is not None, timeout=10_000)
        tile = tile_of(grid.tiles, "loading-dock")
        assert tile is not None and tile.camera_name == "Loading Dock"
        qtbot.waitUntil(lambda: tile.status is CameraStatus.ONLINE, timeout=20_000)
        qtbot.waitUntil(lambda: tile.frames_shown >= 5, timeout=10_000)
        shown = tile.frames_shown
        qtbot.waitUntil(lambda: tile.frames_shown >= shown + 5, timeout=10_000)
        row = next(i for i, c in enumerate(page.listing.cameras) if c.id == "loading-dock")
        qtbot.waitUntil(lambda: page.table.item(row, 3).text() == "online", timeout=10_000)
        qtbot.waitUntil(lambda: page.table.item(row, 4).text().startswith("320×240"))
        album.save(admin, "added-in-the-list")
        album.save(window, "live-on-the-wall")

        # Double-clicked: alone on the wall, drawn from its main stream (decoded only now).
        tile.sig_activated.emit("loading-dock")
        big = grid.tiles[0]
        assert big.camera_id == "loading-dock" and len(grid.tiles) == 1

        def main_size() -> tuple[int, ...] | None:
            return big._frame.image.shape[:2] if big._frame is not None else None

        qtbot.waitUntil(lambda: main_size() == (480, 640), timeout=20_000)
        assert big._rate_text().startswith("640×480 · ")
        album.save(window, "alone-from-its-main-stream")
        big.sig_activated.emit("loading-dock")  # back to the wall: decoding stops
        main_pictures = host.runtime.cameras.main_pictures["loading-dock"]
        qtbot.waitUntil(lambda: not main_pictures.decoding, timeout=10_000)
        qtbot.waitUntil(lambda: tile_of(grid.tiles, "loading-dock") is not None)
        tile = tile_of(grid.tiles, "loading-dock")
        assert tile is not None

        # Renamed: the list and the tile say the new name.
        def rename(dialog: CameraDialog) -> object:
            dialog.show()
            qtbot.waitExposed(dialog)
            assert dialog.id_edit.isReadOnly() and dialog.url_edit.text() == rtsp.url("main")
            dialog.name_edit.setText("Dock gate")
            album.save(dialog, "renaming", sized=False)
            dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
            return dialog.change

        running = host.runtime.cameras.sources["loading-dock"]
        page._open = rename  # type: ignore[method-assign]
        page.table.selectRow(row)
        page.edit_button.click()
        qtbot.waitUntil(lambda: "Dock gate saved" in page.strip.status(), timeout=10_000)
        qtbot.waitUntil(lambda: page.table.item(row, 0).text() == "Dock gate", timeout=10_000)
        assert load_site(site_file).cameras[row].name == "Dock gate"

        def renamed_tile_frames() -> int:
            """Frames the tile named "Dock gate" drew (-1: no such tile yet)."""
            found = tile_of(grid.tiles, "loading-dock")
            return found.frames_shown if found and found.camera_name == "Dock gate" else -1

        # A new name costs no video: the camera runs on under it.
        qtbot.waitUntil(lambda: renamed_tile_frames() >= 5, timeout=20_000)
        assert host.runtime.cameras.sources["loading-dock"] is running and running.running
        qtbot.waitUntil(lambda: page.table.item(row, 3).text() == "online", timeout=10_000)
        album.save(admin, "renamed-in-the-list")
        album.save(window, "renamed-on-the-wall")

        # Switched off: kept in the file, off the wall, the list says so.
        page.table.selectRow(row)
        assert page.switch_button.text() == "Switch off"
        page.switch_button.click()
        qtbot.waitUntil(lambda: "Dock gate switched off" in page.strip.status(), timeout=10_000)
        qtbot.waitUntil(lambda: page.table.item(row, 3).text() == "disabled", timeout=10_000)
        qtbot.waitUntil(lambda: "loading-dock" not in grid.camera_ids, timeout=10_000)
        assert "loading-dock" not in host.runtime.cameras.sources
        assert not next(
            c for c in load_site(site_file).disabled_cameras if c.id == "loading-dock"
        ).enabled
        page.table.selectRow(row)
        assert page.switch_button.text() == "Switch on"
        album.save(admin, "switched-off-in-the-list")
        album.save(window, "switched-off-wall")

        # Removed, after the question (answered Yes as a person would).
        questions: list[str] = []

        def answer_yes() -> None:
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                return
            questions.append(box.text())
            album.save(box, "remove-question", sized=False)
            box.button(QMessageBox.StandardButton.Yes).click()

        page.table.selectRow(row)
        # The question is modal: a timer answers it once it shows.
        timer = QTimer(page)
        timer.setInterval(50)
        timer.timeout.connect(answer_yes)
        timer.start()
        page.remove_button.click()
        timer.stop()
        assert questions and "Remove Dock gate from the site?" in questions[0]
        qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10_000)
        qtbot.waitUntil(lambda: "Dock gate removed" in page.strip.status(), timeout=10_000)
        site = load_site(site_file)
        assert [c.id for c in (*site.cameras, *site.disabled_cameras)] == ["plaza"]
        assert "loading-dock" not in site_file.read_text()
        album.save(admin, "removed-from-the-list")
