"""Screenshots of the console on the demo site for reviewers: the first-run and lock
screens, each role layout, every pane of the live wall, every page of the administration
window and the dialogs a person opens — each at 1400×860 and 1920×1080.

Written to $WATCHFLOOR_SCREENSHOT_DIR (scripts/screenshots.sh sets artifacts/screenshots),
else to the test's temporary folder. Each picture is checked for what would make it
useless to a reviewer: the wrong size, a flat fill, an empty camera tile.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from console.app import apply_theme
from console.host import EngineHost, console_settings
from console.layouts import ADMIN_PAGES, DEFAULTS, WALL_PANES, Layout
from console.main_window import MainWindow
from engine.access import Actor, Role, machine_actor
from engine.data_dirs import data_dir
from engine.events import CameraStatus
from engine.incidents.site_plan import PinPlace, load_site_plan
from engine.sensing.view import SensingSnapshot
from resources import DEMO_SITE
from tests.conftest import _fresh_database
from tests.console.conftest import PASSWORD, ensure_accounts, log_in
from tests.engine.test_cluster_attached import _engine, _stop
from tests.engine.test_cluster_media import _has_rtsp_server
from tests.mosquitto import PASSWORDS as MQTT_PASSWORDS
from tests.mosquitto import Broker, mosquitto_installed
from tests.widget_text import machine_texts
from widgets.accounts.view import AccountDialog
from widgets.appearance.view import AppearanceSearchPane
from widgets.camera_setup.view import CameraSetupPane
from widgets.events.view import EventHistoryPane
from widgets.login_panel import LoginMode
from widgets.meaning_search.view import MeaningSearchPane
from widgets.people.view import COLUMN_ID, PeoplePane
from widgets.sensing.view import SensingPane, SensingView3D
from widgets.system.view import SystemPane
from widgets.timeline.investigation import InvestigationPane

SIZES = ((1400, 860), (1920, 1080))
REPO = Path(__file__).resolve().parents[2]


def pixels(image: QImage) -> np.ndarray:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    # Copied while ``rgb`` lives: the buffer is the image's, freed with it.
    return np.frombuffer(rgb.constBits(), np.uint8).copy()


class Album:
    """Saves grabs under ``out`` and checks each is a picture worth looking at."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.names: list[str] = []

    def save(self, widget: QWidget, name: str, size: tuple[int, int] | None = None) -> None:
        QApplication.processEvents()
        image = with_gl_views(widget, widget.grab().toImage())
        if size is not None:
            assert (image.width(), image.height()) == size, name
        assert pixels(image).std() > 8, f"{name}: a flat picture"
        path = self.out / f"{name}.png"
        # Quality 80: zlib's fast compression, ~3x faster than the default for ~10% more
        # bytes (a 1920x1080 grab: 0.06 s instead of 0.17 s; there are over a hundred).
        assert image.save(str(path), quality=80), name
        self.names.append(name)


def with_gl_views(widget: QWidget, image: QImage) -> QImage:
    """``image`` (``widget``'s grab) with each shown 3D view's frame where the screen shows
    it: the 3D view draws in a native window of its own, which a widget's grab leaves out."""
    painter = QPainter(image)
    for view in widget.findChildren(SensingView3D):
        container = view.gl_container
        if view.gl_view is None or container is None or not container.isVisible():
            continue
        frame = view.gl_view.render_now()
        if not frame.isNull():
            at = container.mapTo(widget, QPoint(0, 0))
            painter.drawImage(QRect(at, container.size()), frame)
    painter.end()
    return image


def wait_for_video(qtbot: QtBot, window: MainWindow) -> None:
    tile = window.camera_grid.tiles[0]
    shown = tile.frames_shown
    qtbot.waitUntil(lambda: tile.frames_shown > shown + 3, timeout=10_000)
    if tile.isVisible():
        assert pixels(tile.grab().toImage()).std() > 20, "the camera tile looks empty"


def draw_site_plan(path: Path) -> Path:
    """A floor plan of the demo plaza, 90 × 60 m at 10 cm a pixel: an outline, rooms and
    their names, dark on light (drawn, not downloaded)."""
    import cv2

    image = np.full((600, 900, 3), 232, np.uint8)
    ink = (40, 40, 40)
    cv2.rectangle(image, (10, 10), (890, 590), ink, 6)
    cv2.line(image, (300, 10), (300, 590), ink, 4)
    cv2.line(image, (10, 300), (300, 300), ink, 4)
    cv2.line(image, (600, 10), (600, 590), ink, 4)
    for name, at in (
        ("Lobby", (90, 160)),
        ("Office", (90, 460)),
        ("Plaza", (400, 310)),
        ("Store room", (640, 310)),
    ):
        cv2.putText(image, name, at, cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 30, 30), 3)
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def resize(qtbot: QtBot, widget: QWidget, size: tuple[int, int]) -> None:
    widget.resize(*size)
    qtbot.waitUntil(lambda: (widget.width(), widget.height()) == size, timeout=5000)
    qtbot.wait(50)  # the deferred dock sizing runs on a zero timer


@contextlib.contextmanager
def demo_console(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> Iterator[tuple[Album, EngineHost, MainWindow]]:
    """The console on the demo site, shown, its camera online, on the first-run screen; and
    the album its pictures go to. Each group of views below opens its own, so that pytest-xdist
    spreads the groups over its workers (they were one test of ~5 minutes on a loaded run,
    the last to finish)."""
    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    album = Album(out)
    apply_theme(qapp)
    host = EngineHost.open(DEMO_SITE, f"sqlite:///{tmp_path / 'demo.db'}")
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    try:
        window.show()
        tile = window.camera_grid.tiles[0]
        qtbot.waitUntil(lambda: tile.status is CameraStatus.ONLINE, timeout=10_000)
        qtbot.waitUntil(lambda: window.login_panel.mode is LoginMode.FIRST_ADMIN, timeout=5000)
        yield album, host, window
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()
    assert len(album.names) == len(set(album.names))


def log_in_as_admin(qtbot: QtBot, host: EngineHost, window: MainWindow) -> None:
    ensure_accounts(host, {"ada": "admin"})
    window.login_panel.set_mode(LoginMode.LOGIN)
    log_in(qtbot, window, "ada")


def pin_site_plan(qtbot: QtBot, host: EngineHost, window: MainWindow, tmp_path: Path) -> Path:
    """A site plan under the risk map, pinned as an admin pins one (drawn here)."""
    risk_map = window.panes["risk_map"]
    plan_path = draw_site_plan(tmp_path / "ground floor.png")
    runtime = host.runtime
    assert runtime.writer is not None and runtime.site_ids is not None
    load_site_plan(
        runtime.writer,
        actor=Actor("ada", frozenset({Role.ADMIN})),
        site_id=runtime.site_ids.site_id,
        centre=(runtime.site.geo_origin.lat, runtime.site.geo_origin.lon),
        source=plan_path,
        pins=[PinPlace(0, 0, east_m=-45, north_m=30), PinPlace(900, 0, east_m=45, north_m=30)],
        at=runtime.clock.now(),
        root=data_dir(),
    )
    risk_map.refresh()
    qtbot.waitUntil(risk_map.plan_is_drawn, timeout=10_000)
    return plan_path


def pane_home(name: str) -> Layout:
    """The first layout showing pane ``name``."""
    return next(layout for layout in Layout if name not in DEFAULTS[layout].hidden)


# The layouts that are the first to show some pane: the panes' pictures, one test each.
PANE_HOMES = sorted({pane_home(spec.name) for spec in WALL_PANES}, key=list(Layout).index)


@pytest.mark.slow
def test_demo_site_screenshots_of_first_run_and_layouts(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    """The first-run screen, then each role's layout once the admin logged in."""
    with demo_console(qtbot, qapp, tmp_path) as (album, host, window):
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            wait_for_video(qtbot, window)
            album.save(window, f"first-run-{width}x{height}", (width, height))
        log_in_as_admin(qtbot, host, window)
        for layout in (Layout.INVESTIGATOR, Layout.ADMIN, Layout.OPERATOR):
            window.switch_layout(layout)
            for width, height in SIZES:
                resize(qtbot, window, (width, height))
                wait_for_video(qtbot, window)
                album.save(window, f"layout-{layout.value.lower()}-{width}x{height}")


@pytest.mark.slow
@pytest.mark.parametrize("home", PANE_HOMES, ids=lambda layout: layout.value.lower())
def test_demo_site_screenshots_of_every_pane(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path, home: Layout
) -> None:
    """Every pane of the live wall whose first layout is ``home``, in front at its place
    there (the risk map over a pinned site plan)."""
    with demo_console(qtbot, qapp, tmp_path) as (album, host, window):
        log_in_as_admin(qtbot, host, window)
        assert {pane_home(name) for name in window.docks} <= set(PANE_HOMES)
        docks = {name: dock for name, dock in window.docks.items() if pane_home(name) is home}
        assert docks, home
        if "risk_map" in docks:
            pin_site_plan(qtbot, host, window, tmp_path)
        for name, dock in docks.items():
            window.switch_layout(home)
            window.reset_layout()
            dock.raise_()
            for width, height in SIZES:
                resize(qtbot, window, (width, height))
                assert not dock.visibleRegion().isEmpty(), name
                album.save(window, f"pane-{name}-{width}x{height}", (width, height))


@pytest.mark.slow
def test_demo_site_screenshots_of_search_results(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    """The appearance and meaning searches with results, as an investigator sees them."""
    with demo_console(qtbot, qapp, tmp_path) as (album, host, window):
        log_in_as_admin(qtbot, host, window)
        # Appearance search with results: people of the demo's plaza who have left the view
        # (their tracks ended) ranked against a description, as an investigator sees them.
        appearance = window.panes["appearance"]
        assert isinstance(appearance, AppearanceSearchPane)
        window.switch_layout(Layout.INVESTIGATOR)
        window.reset_layout()
        window.docks["appearance"].raise_()

        def found_someone() -> bool:
            if appearance.hits:
                return True
            appearance.search("dark jacket and jeans")
            qtbot.wait(1000)
            return bool(appearance.hits)

        qtbot.waitUntil(found_someone, timeout=90_000)
        qtbot.wait(500)  # thumbnails
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            album.save(window, f"pane-appearance-results-{width}x{height}", (width, height))

        # Meaning search with results: the demo's own events found by what they mean.
        meaning = window.panes["meaning_search"]
        assert isinstance(meaning, MeaningSearchPane)
        window.docks["meaning_search"].raise_()

        def found_text() -> bool:
            if meaning.hits:
                return True
            meaning.search("someone walking about in the room")
            qtbot.wait(1000)
            return bool(meaning.hits)

        qtbot.waitUntil(found_text, timeout=60_000)
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            album.save(window, f"pane-meaning_search-results-{width}x{height}", (width, height))


@pytest.mark.slow
def test_demo_site_screenshots_of_administration(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    """Every page of the administration window."""
    with demo_console(qtbot, qapp, tmp_path) as (album, host, window):
        log_in_as_admin(qtbot, host, window)
        admin = window.open_administration()
        assert admin is not None
        # The System page lists the cameras' continuous recording once a segment is kept.
        system = window.host.panes["system"]
        assert isinstance(system, SystemPane)
        deadline = time.monotonic() + 60
        while not (system.status is not None and system.status.footage):
            assert time.monotonic() < deadline, "no segment of continuous recording kept"
            system.refresh()
            qtbot.wait(500)
        for name, _title in ADMIN_PAGES:
            admin.show_page(name)
            for width, height in SIZES:
                resize(qtbot, admin, (width, height))
                album.save(admin, f"admin-{name}-{width}x{height}", (width, height))
        # The add-camera dialog with a stream checked (the demo site itself is not changed:
        # the dialog is shown, not saved).
        cameras = window.host.panes["camera_setup"]
        assert isinstance(cameras, CameraSetupPane)
        dialog = cameras._dialog(None)
        dialog.show()
        dialog.url_edit.setText(str(vtest_avi))
        dialog.name_edit.setText("Loading dock")
        dialog._on_name_edited("Loading dock")
        dialog.check_button.click()
        qtbot.waitUntil(lambda: dialog.probed is not None, timeout=30_000)
        album.save(dialog, "dialog-add-camera")
        dialog.reject()
        admin.close()


@pytest.mark.slow
def test_demo_site_screenshots_of_dialogs_and_lock(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    """The dialogs a person opens, the quit question, and the console locked again (the
    live wall beside the unlock card, then a refused quit) until the admin logs back in."""
    with demo_console(qtbot, qapp, tmp_path) as (album, host, window):
        log_in_as_admin(qtbot, host, window)
        risk_map = window.panes["risk_map"]
        plan_path = draw_site_plan(tmp_path / "ground floor.png")
        password = window.login.open_password_dialog()
        assert password is not None
        album.save(password, "dialog-change-password")
        password.reject()
        start, end = window.panes["timeline"].timeline.visible_range()
        export = window.panes["timeline"].open_export(start, end)
        assert export is not None
        album.save(export, "dialog-export")
        export.reject()
        report = window.panes["incidents"].open_report_form()
        assert report is not None
        album.save(report, "dialog-incident-report")
        report.close()
        teach = window.panes["gestures"].open_teach_dialog()
        assert teach is not None
        album.save(teach, "dialog-teach-gesture")
        window.panes["gestures"].close_dialogs()
        pin = risk_map.open_pin_dialog(plan_path)
        assert pin is not None
        qtbot.waitUntil(lambda: pin.picture_size() is not None, timeout=10_000)
        album.save(pin, "dialog-pin-site-plan")
        pin.close()
        account = AccountDialog("New account", parent=window)
        account.show()
        album.save(account, "dialog-new-account")
        account.reject()
        window.close()  # File → Quit, Ctrl+Q: the question naming what stops
        quit_box = window.quit_box
        assert quit_box is not None
        album.save(quit_box, "dialog-quit")
        quit_box.close()

        # Locked again: the live wall beside the unlock card, at both sizes.
        window.lock("menu")
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            wait_for_video(qtbot, window)
            album.save(window, f"locked-{width}x{height}", (width, height))
        window.close()  # refused: the card says why
        assert window.isVisible()
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            album.save(window, f"locked-quit-refused-{width}x{height}", (width, height))
        assert window.login_panel.name_edit.text() == ""  # the next person types theirs
        log_in(qtbot, window, "ada", PASSWORD)


@pytest.fixture
def pg_url(tmp_path: Path, migrated_template: dict[str, str]) -> Iterator[str]:
    """A fresh PostgreSQL database (skips without a server, as every PostgreSQL test)."""
    yield from _fresh_database("postgresql", tmp_path, migrated_template)


@pytest.mark.slow
@pytest.mark.postgres
def test_attached_console_screenshots(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A console attached (``watchfloor --attach``) to the demo site run by engine
    ``server-a`` in its own process, which re-streams its camera over RTSP: the operator
    layout, the camera wall (the engine's video with its boxes) and the Sensing pane, once
    the camera is online, its picture shown and the room's first picture arrived."""
    if not _has_rtsp_server():
        pytest.skip("GStreamer's RTSP server is not installed")
    monkeypatch.setenv("WATCHFLOOR_MEDIA_PASSWORD", "screenshot-media-password")
    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    album = Album(out)
    apply_theme(qapp)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        clip_port = probe.getsockname()[1]
    engine = _engine(
        DEMO_SITE,
        pg_url,
        tmp_path,
        *("--rtsp-port", str(port), "--clip-port", str(clip_port), "--rtsp-host", "127.0.0.1"),
    )
    try:
        host = EngineHost.open(DEMO_SITE, pg_url, attach=True)
    except BaseException:
        _stop(engine)
        raise
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    try:
        window.show()
        tile = window.camera_grid.tiles[0]
        assert tile.runs_elsewhere
        qtbot.waitUntil(lambda: tile.status is CameraStatus.ONLINE, timeout=90_000)
        assert tile.engine == "server-a"
        # The engine's stream, with boxes the engine found in that very frame.
        qtbot.waitUntil(
            lambda: (
                tile.frames_shown > 0
                and tile._frame is not None
                and tile._frame.analysis is not None
                and bool(tile._frame.analysis.tracks)
            ),
            timeout=60_000,
        )
        sensing = window.panes["sensing"]
        assert isinstance(sensing, SensingPane)
        qtbot.waitUntil(lambda: sensing.view.snapshot is not None, timeout=60_000)
        assert "server-a" in sensing.explanation_label.text()
        qtbot.waitUntil(lambda: window.login_panel.mode is LoginMode.FIRST_ADMIN, timeout=5000)
        ensure_accounts(host, {"ada": "admin"})
        window.login_panel.set_mode(LoginMode.LOGIN)
        log_in(qtbot, window, "ada")
        window.switch_layout(Layout.OPERATOR)
        window.reset_layout()
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            album.save(window, f"attached-layout-operator-{width}x{height}", (width, height))
        for name in ("cameras", "sensing"):
            window.docks[name].raise_()
            for width, height in SIZES:
                resize(qtbot, window, (width, height))
                assert not window.docks[name].visibleRegion().isEmpty(), name
                album.save(window, f"attached-pane-{name}-{width}x{height}", (width, height))
        window.camera_grid.show_single(tile.camera_id or "")
        album.save(window.camera_grid, "attached-camera-tile")

        # A clip server-a recorded plays here: fetched over HTTP into this console's cache.
        events = window.panes["events"]
        assert isinstance(events, EventHistoryPane)

        def clip_row() -> int | None:
            for row in range(events.row_count()):
                view = events.event_at(row)
                if view is not None and view.clip_path:
                    return row
            return None

        qtbot.waitUntil(lambda: clip_row() is not None, timeout=120_000)
        row = clip_row()
        assert row is not None
        window.switch_layout(Layout.INVESTIGATOR)
        window.reset_layout()
        window.docks["events"].raise_()
        assert events.open_row(row)
        player = events.player
        assert player is not None
        qtbot.waitUntil(
            lambda: (
                player.media_player.mediaStatus()
                in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia)
            ),
            timeout=60_000,
        )
        assert player.error_text() == ""
        assert player.path is not None and "from-engines" in player.path.parts
        qtbot.waitUntil(lambda: player.media_player.position() >= 1000, timeout=30_000)
        # Pictures decoded into the player (a screenshot cannot show a video surface).
        sink = player.video_widget.videoSink()
        qtbot.waitUntil(lambda: sink.videoFrame().isValid(), timeout=10_000)
        assert sink.videoFrame().size().width() >= 320
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            album.save(window, f"attached-pane-events-{width}x{height}", (width, height))
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()
        _stop(engine)
    assert len(album.names) == len(set(album.names))


@pytest.mark.slow
def test_mqtt_screenshots(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo site publishing to a broker ([mqtt]): the status bar's mqtt light and the
    System pane's Connections group, connected."""
    if not mosquitto_installed():
        pytest.skip("mosquitto is not installed")
    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    album = Album(out)
    apply_theme(qapp)
    broker = Broker(tmp_path / "broker")
    broker.start()
    monkeypatch.setenv("WATCHFLOOR_MQTT_PASSWORD", MQTT_PASSWORDS["watchfloor"])
    site = tmp_path / "demo_mqtt.toml"
    site.write_text(
        Path(DEMO_SITE).read_text(encoding="utf-8")
        + f'\n[mqtt]\nurl = "{broker.url}"\nuser = "watchfloor"\n',
        encoding="utf-8",
    )
    host = EngineHost.open(site, f"sqlite:///{tmp_path / 'demo.db'}")
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    try:
        window.show()
        qtbot.waitUntil(lambda: window.login_panel.mode is LoginMode.FIRST_ADMIN, timeout=5000)
        ensure_accounts(host, {"ada": "admin"})
        window.login_panel.set_mode(LoginMode.LOGIN)
        log_in(qtbot, window, "ada")
        system = window.host.panes["system"]
        assert isinstance(system, SystemPane)
        admin = window.open_administration()
        assert admin is not None
        admin.show_page("system")

        def connected() -> bool:
            label = system.link_labels.get("mqtt")
            if label is not None and label.text().startswith("OK: connected to mqtt://"):
                return True
            system.refresh()
            qtbot.wait(300)
            return False

        qtbot.waitUntil(connected, timeout=20_000)
        for width, height in SIZES:
            resize(qtbot, admin, (width, height))
            album.save(admin, f"mqtt-admin-system-{width}x{height}", (width, height))
        admin.close()
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            album.save(window, f"mqtt-status-bar-{width}x{height}", (width, height))
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()
        broker.stop()


@pytest.mark.slow
def test_sensing_rooms_screenshots(qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    """The Sensing pane of a site of two simulated rooms, as the operator's wall shows it:
    the room selector above the 3D view lists the rooms by name, the second room chosen."""
    from tests.engine.test_sensing_rooms_runtime import TWO_SIMULATED_ROOMS

    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    album = Album(out)
    apply_theme(qapp)
    site = tmp_path / "rooms.toml"
    site.write_text(
        '[site]\nname = "Two rooms"\ngeo = { lat = 51.5, lon = -0.14 }\n' + TWO_SIMULATED_ROOMS,
        encoding="utf-8",
    )
    host = EngineHost.open(site, f"sqlite:///{tmp_path / 'rooms.db'}")
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    try:
        window.show()
        ensure_accounts(host, {"ada": "admin"})
        window.login_panel.set_mode(LoginMode.LOGIN)
        log_in(qtbot, window, "ada")
        window.switch_layout(Layout.OPERATOR)
        window.reset_layout()
        window.docks["sensing"].raise_()
        sensing = window.panes["sensing"]
        assert isinstance(sensing, SensingPane)
        combo = sensing.room_combo
        assert [combo.itemText(i) for i in range(combo.count())] == ["Lab", "Front office"]
        combo.setCurrentIndex(1)

        def office() -> SensingSnapshot | None:
            snapshot = sensing.view.snapshot
            return snapshot if snapshot is not None and snapshot.room_id == "office" else None

        qtbot.waitUntil(lambda: office() is not None, timeout=60_000)
        # A walker enters after the links' calibration: wait a while for their blob, but a
        # picture without one still shows the selector.
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline and not ((shown := office()) and shown.blobs):
            qtbot.wait(200)
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            assert combo.isVisible() and sensing.room_label.isVisible()
            # The selector shows the whole name of the room chosen, inside the pane.
            shown = QRect(combo.mapTo(sensing, QPoint(0, 0)), combo.size())
            assert sensing.rect().contains(shown), (width, height)
            assert combo.width() > combo.fontMetrics().horizontalAdvance("Front office")
            album.save(window, f"pane-sensing-two-rooms-{width}x{height}", (width, height))
            album.save(sensing, f"pane-sensing-two-rooms-pane-{width}x{height}")
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()


# The demo camera's view of the plaza as a pinhole camera: 6.5 m up at its place in the site
# file (0.5, 0.5), looking 40° from the room's x axis and 38° down, 600 px focal length on
# its 768 × 576 picture. It gives the floor places an admin would have measured for points
# on the plaza's ground (cones, the lamp post's foot, a stone, litter on the grass): the
# model agrees with the picture well enough that the grid lies on the ground.
PLAZA_CAMERA = {"at": (0.5, 0.5, 6.5), "yaw": 40.0, "pitch": 38.0, "focal": 600.0}
PLAZA_GROUND_POINTS = [
    (432.0, 390.0),  # the lamp post's foot
    (492.0, 470.0),  # under the tripod
    (298.0, 202.0),  # a traffic cone
    (446.0, 192.0),  # another cone
    (177.0, 268.0),  # the stone on the verge
    (115.0, 512.0),  # the yellow cloth on the grass
    (338.0, 459.0),  # the paper on the grass
    (660.0, 318.0),  # a painted line's end
]


def plaza_floor_place(
    u: float, v: float, size: tuple[int, int] = (768, 576)
) -> tuple[float, float]:
    """Where picture point (u, v) of the demo camera is on the floor plan (metres)."""
    import math

    x0, y0, height = PLAZA_CAMERA["at"]  # type: ignore[misc]
    yaw = math.radians(float(PLAZA_CAMERA["yaw"]))  # type: ignore[arg-type]
    pitch = math.radians(float(PLAZA_CAMERA["pitch"]))  # type: ignore[arg-type]
    focal = float(PLAZA_CAMERA["focal"])  # type: ignore[arg-type]
    forward = np.array(
        [math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch), -math.sin(pitch)]
    )
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    ray = forward + (u - size[0] / 2) / focal * right + (v - size[1] / 2) / focal * down
    t = -height / ray[2]
    return float(x0 + t * ray[0]), float(y0 + t * ray[1])


@pytest.mark.slow
def test_floor_calibration_screenshots(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    """The Floor calibration page on the demo site's camera: eight points placed on the
    plaza's ground, their floor places typed to 5 cm as measured, the fit saved; then a
    room's corners being clicked, and points that do not fit."""
    from widgets.floor_calibration.view import FloorCalibrationPane

    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    album = Album(out)
    apply_theme(qapp)
    host = EngineHost.open(DEMO_SITE, f"sqlite:///{tmp_path / 'demo.db'}")
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    try:
        window.show()
        ensure_accounts(host, {"ada": "admin"})
        window.login_panel.set_mode(LoginMode.LOGIN)
        log_in(qtbot, window, "ada")
        admin = window.open_administration("floor_calibration")
        assert admin is not None
        pane = window.panes["floor_calibration"]
        assert isinstance(pane, FloorCalibrationPane)
        qtbot.waitUntil(lambda: window.host.frame_of("plaza") is not None, timeout=10_000)
        pane.refresh_button.click()
        assert pane.canvas.has_picture() and pane.image_size() == (768, 576)
        qtbot.waitUntil(lambda: pane.stored("plaza") is None and not pane.is_busy())
        for u, v in PLAZA_GROUND_POINTS:
            row = pane.add_point(u, v)
            assert row is not None
            x, y = plaza_floor_place(u, v)
            pane.set_floor_place(row, round(x * 20) / 20, round(y * 20) / 20)
        fit = pane.calibration()
        assert fit is not None and fit.error_m is not None and fit.error_m < 0.3
        with qtbot.waitSignal(pane.sig_saved, timeout=10_000):
            pane.save_button.click()
        pane.table.clearSelection()
        assert machine_texts(admin, "floor calibration") == []
        for width, height in SIZES:
            resize(qtbot, admin, (width, height))
            album.save(admin, f"admin-floor_calibration-saved-{width}x{height}", (width, height))

        # A room's corners, after the points: the demo camera stands on the room's origin
        # corner and cannot see it, and the page says what to do then.
        pane.use_room_corners("room")
        assert pane.calibration() is not None  # the points' fit stays meanwhile
        assert pane.next_step().startswith("Click corner 1 of 4 of Demo plaza sensing")
        assert pane.strip.status() == ""  # "Saved …" was about the points before
        for width, height in SIZES:
            resize(qtbot, admin, (width, height))
            album.save(admin, f"admin-floor_calibration-corners-{width}x{height}", (width, height))

        # Points that do not fit: four on one line across the picture.
        pane.points_radio.click()
        pane.clear_button.click()
        for n, (x, y) in enumerate([(1.0, 1.0), (4.0, 2.0), (2.0, 6.0), (8.0, 5.0)]):
            row = pane.add_point(150.0 + 140.0 * n, 300.0 + 40.0 * n)
            assert row is not None
            pane.set_floor_place(row, x, y)
        assert pane.problem().startswith("These points do not fit")
        resize(qtbot, admin, SIZES[0])
        album.save(admin, f"admin-floor_calibration-no-fit-{SIZES[0][0]}x{SIZES[0][1]}", SIZES[0])
        admin.close()
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()
    assert len(album.names) == len(set(album.names))


@pytest.mark.slow
def test_privacy_masks_screenshots(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    """The Privacy masks page on the demo site's camera: the building's windows and the
    parked van masked and saved (the running camera masks its next frame at once), then a
    third area being drawn; and the live wall, whose tile says the camera is masked."""
    from widgets.privacy_masks.view import PrivacyMasksPane

    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    album = Album(out)
    apply_theme(qapp)
    host = EngineHost.open(DEMO_SITE, f"sqlite:///{tmp_path / 'demo.db'}")
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    try:
        window.show()
        ensure_accounts(host, {"ada": "admin"})
        window.login_panel.set_mode(LoginMode.LOGIN)
        log_in(qtbot, window, "ada")
        admin = window.open_administration("privacy_masks")
        assert admin is not None
        pane = window.panes["privacy_masks"]
        assert isinstance(pane, PrivacyMasksPane)
        qtbot.waitUntil(lambda: window.host.frame_of("plaza") is not None, timeout=10_000)
        pane.refresh_button.click()
        assert pane.canvas.has_picture() and pane.image_size() == (768, 576)
        qtbot.waitUntil(lambda: pane.has_read_stored("plaza"), timeout=10_000)
        assert pane.stored("plaza") is None
        windows = [(322, 58), (578, 58), (578, 112), (322, 112)]
        van = [(648, 40), (728, 40), (730, 100), (650, 102)]
        for area in (windows, van):
            for u, v in area:
                assert pane.add_corner(u / 768, v / 576)
            assert pane.close_area(), pane.problem()
        with qtbot.waitSignal(pane.sig_saved, timeout=10_000):
            pane.save_button.click()
        # Through the console's backend and the runtime: the running camera is masked now.
        slot = host.runtime.cameras.sources["plaza"].slot
        qtbot.waitUntil(
            lambda: (frame := slot.latest()) is not None and frame.privacy_masked, timeout=10_000
        )
        frame = slot.latest()
        assert frame is not None and not frame.image[70:100, 340:560].any()
        pane.refresh_button.click()  # the picture as the engine now sees it
        pane.select_area(None)
        assert pane.summary().startswith("2 areas masked, ")
        assert machine_texts(admin, "privacy masks") == []
        for width, height in SIZES:
            resize(qtbot, admin, (width, height))
            album.save(admin, f"admin-privacy_masks-saved-{width}x{height}", (width, height))

        # A third area being drawn around the tripod.
        for u, v in [(455, 335), (530, 335), (535, 485), (450, 485)]:
            assert pane.add_corner(u / 768, v / 576)
        resize(qtbot, admin, SIZES[0])
        album.save(admin, f"admin-privacy_masks-drawing-{SIZES[0][0]}x{SIZES[0][1]}", SIZES[0])
        pane.cancel_area()
        admin.close()

        # The live wall: the plaza tile says it is masked.
        wait_for_video(qtbot, window)
        tile = window.camera_grid.tiles[0]
        qtbot.waitUntil(tile.privacy_masked, timeout=10_000)
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            wait_for_video(qtbot, window)
            album.save(window, f"wall-privacy-masked-{width}x{height}", (width, height))
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()
    assert len(album.names) == len(set(album.names))


@pytest.mark.slow
def test_person_paths_screenshots(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, vtest_avi: Path
) -> None:
    """People's paths across senses on a site of the plaza camera and two rooms: the
    investigator's timeline with three people's paths crossing the camera's lane and both
    rooms' (Ada named by her face, Bo by his phone, someone nobody knows; Bo's selected),
    and the People pane showing Ada's paths, then today's of people nobody has named."""
    from tests.engine.test_sensing_rooms_runtime import nodes
    from tests.person_paths import ADA, seed_people, seed_person_paths

    out = Path(os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    album = Album(out)
    apply_theme(qapp)
    site = tmp_path / "paths.toml"
    site.write_text(
        '[site]\nname = "Demo plaza"\ngeo = { lat = 51.50135, lon = -0.14189 }\n'
        'timezone = "Europe/London"\n'
        f'[[cameras]]\nid = "plaza"\nname = "Plaza east"\nurl = "{vtest_avi}"\nloop = true\n'
        # HOG: the camera's detector ready at once (no model loading while the window builds).
        '[analytics]\ndetector = "hog"\n'
        # Nobody walks the simulated rooms: a walker crossing from one into the other would
        # be filed as one more unnamed path while the test runs (it was, on a slow run).
        "[sensing]\nsimulate = true\nwalkers = 0\nseed = 3\n"
        '[[rooms]]\nid = "lobby"\nname = "Lobby"\nwidth_m = 5.0\ndepth_m = 5.0\n'
        "height_m = 2.5\n"
        '[[rooms]]\nid = "office"\nname = "Front office"\nwidth_m = 5.0\ndepth_m = 5.0\n'
        "height_m = 2.5\n" + nodes("lobby", "l") + nodes("office", "o"),
        encoding="utf-8",
    )
    host = EngineHost.open(site, f"sqlite:///{tmp_path / 'paths.db'}")
    window = MainWindow(host.runtime, host.bridge, console_settings(tmp_path / "c.ini"))
    qtbot.addWidget(window)
    try:
        window.show()
        ensure_accounts(host, {"ada": "admin"})
        window.login_panel.set_mode(LoginMode.LOGIN)
        log_in(qtbot, window, "ada")
        writer = host.runtime.writer
        assert writer is not None
        base = host.runtime.clock.now() - timedelta(minutes=30)
        seed_people(host.store)
        ids = seed_person_paths(host.store, writer, base)
        window.switch_layout(Layout.INVESTIGATOR)
        window.reset_layout()
        people = window.panes["people"]
        assert isinstance(people, PeoplePane) and people.paths_section is not None
        with qtbot.waitSignal(people.sig_people_listed, timeout=10_000):
            people.refresh()

        # The timeline: Ada's, Bo's and someone unknown's paths, Bo's selected.
        investigation = window.panes["timeline"]
        assert isinstance(investigation, InvestigationPane)
        timeline = investigation.timeline
        window.docks["timeline"].raise_()
        timeline.set_range(base - timedelta(minutes=1.5), base + timedelta(minutes=19.5))
        timeline.select_path(ids.bo)
        qtbot.waitUntil(
            lambda: not timeline.is_loading() and timeline.selected_path() is not None,
            timeout=10_000,
        )
        assert {p.event_id for p in timeline.paths()} == {ids.ada, ids.bo, ids.unknown}
        for lane in ("camera:plaza", "sensing:lobby", "sensing:office"):
            assert timeline.lane_rect(lane) is not None, lane
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            qtbot.wait(300)  # the docks settle; the timeline asks again for its new width
            qtbot.waitUntil(lambda: not timeline.is_loading(), timeout=10_000)
            assert timeline.path_bars(ids.unknown), "the unknown path is drawn"
            album.save(window, f"paths-timeline-{width}x{height}", (width, height))
            album.save(investigation, f"paths-timeline-pane-{width}x{height}")

        # The People pane: Ada's paths across senses, then today's unnamed ones.
        section = people.paths_section
        window.docks["people"].raise_()
        model = people.view.model()
        row = next(r for r in range(people.row_count()) if model.index(r, COLUMN_ID).data() == ADA)
        with qtbot.waitSignal(section.sig_paths_listed, timeout=10_000):
            people.view.selectRow(row)
        assert len(section.paths()) == 2
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            qtbot.wait(300)  # the docks settle; the timeline asks again for its new width
            qtbot.waitUntil(lambda: not timeline.is_loading(), timeout=10_000)
            album.save(window, f"paths-people-{width}x{height}", (width, height))
            album.save(people, f"paths-people-pane-{width}x{height}")
        with qtbot.waitSignal(section.sig_paths_listed, timeout=10_000):
            section.set_unnamed(True)
        assert len(section.paths()) == 2
        for width, height in SIZES:
            resize(qtbot, window, (width, height))
            album.save(people, f"paths-people-unnamed-pane-{width}x{height}")
    finally:
        window.shut_down("end of test", machine_actor())
        host.close()
    assert len(album.names) == len(set(album.names))
