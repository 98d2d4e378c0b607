"""An operator's shift, start to handover, under a real X server with a real window manager
(pytest-xvfb's Xvfb, Openbox: tests/window_manager.py), on a camera that plays people walking
(vtest.avi, looped) through the whole engine: detector, tracker, alert rules, store, clips.

The admin has set a rule on the plaza (a zone, operating instructions, a closing comment
required). Olga logs in from an empty lock card, watches the wall; a person walks into the
zone and the rule raises an alert; she selects it and sees the picture with the person's box
and the zone at once; takes it, adds a note, is refused a close without a comment, closes it
with one; leaves the desk, the idle lock counts down and locks with the open alerts on its
card; Piet, the next operator, logs in at the empty card and the wall has kept running.

Each step is photographed at 1400×860 (a window) and 1920×1080 (full screen) to
$WATCHFLOOR_SCREENSHOT_DIR/shift_journey (default artifacts/screenshots/shift_journey), to
be looked at; the test checks what a person would check on them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app import apply_theme
from console.main_window import MainWindow
from engine.alerts import actions as alert_actions
from engine.alerts.rules import RuleSpec
from engine.events import CameraStatus
from tests.actors import ADMIN
from tests.conftest import write_site
from tests.console.conftest import OpenConsole, audit_entries
from tests.window_manager import WindowManager, window_manager  # noqa: F401 (a fixture)
from widgets.alerts.view import COLUMN_STATE, COMMENT_NEEDED_TEXT

REPO = Path(__file__).resolve().parents[2]
WINDOWED = (1400, 860)
FULL_SCREEN = (1920, 1080)
# Where people walk on vtest's plaza: the lower two thirds, away from the left lamp post.
ZONE = ((0.25, 0.35), (0.95, 0.35), (0.95, 0.98), (0.25, 0.98))
INSTRUCTIONS = "Call the plaza guard on channel 2; if nobody answers, phone the duty manager."
SECOND_MS = 20  # the idle lock's seconds, shortened (the countdown ticks as a person sees)


class Album:
    """The shift's pictures, numbered in order, each at both sizes."""

    def __init__(self, qtbot: QtBot, window: MainWindow) -> None:
        self.qtbot, self.window = qtbot, window
        out = os.environ.get("WATCHFLOOR_SCREENSHOT_DIR") or REPO / "artifacts" / "screenshots"
        self.folder = Path(out) / "shift_journey"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0
        self.pictures: list[Path] = []

    def windowed(self) -> None:
        window = self.window
        window.showNormal()
        window.resize(*WINDOWED)
        self.qtbot.waitUntil(lambda: (window.width(), window.height()) == WINDOWED, timeout=10_000)

    def full_screen(self) -> None:
        window = self.window
        window.showFullScreen()  # the window manager gives it the whole monitor
        self.qtbot.waitUntil(
            lambda: (window.width(), window.height()) == FULL_SCREEN, timeout=10_000
        )

    def shoot(self, step: str) -> None:
        """Photograph the window at both sizes and leave it windowed."""
        self.count += 1
        for size, arrange in ((FULL_SCREEN, self.full_screen), (WINDOWED, self.windowed)):
            arrange()
            self.qtbot.wait(50)  # the deferred dock sizing runs on a zero timer
            QApplication.processEvents()
            path = self.folder / f"{self.count:02d}-{step}-{size[0]}x{size[1]}.png"
            # What the X server shows (the clip player's video is a native window of its
            # own, which a widget's grab leaves black).
            image = self.window.screen().grabWindow(self.window.winId()).toImage()
            assert (image.width(), image.height()) == size, (step, size)
            assert image.save(str(path)), path
            self.pictures.append(path)


def plaza_site(tmp_path: Path, vtest_avi: Path) -> Path:
    return write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "plaza"\nname = "Plaza east"\nurl = "{vtest_avi}"\nloop = true\n',
        extra='[alerts]\nrisk_provider = "none"\n',
    )


def type_into_focus(qtbot: QtBot, *texts: str) -> None:
    """Type each text into the focused field, Tab to the next, Enter after the last."""
    for index, text in enumerate(texts):
        focused = QApplication.focusWidget()
        assert focused is not None, "nothing has the keyboard focus"
        qtbot.keyClicks(focused, text)
        key = Qt.Key.Key_Return if index == len(texts) - 1 else Qt.Key.Key_Tab
        qtbot.keyClick(focused, key)


def log_in_at_the_card(qtbot: QtBot, window: MainWindow, name: str) -> None:
    """At the lock card: it is empty with the cursor in the name; type name, password."""
    from tests.console.conftest import PASSWORD

    panel = window.login_panel
    assert panel.name_edit.text() == "" and panel.password_edit.text() == ""
    qtbot.waitUntil(panel.name_edit.hasFocus, timeout=5000)
    type_into_focus(qtbot, name, PASSWORD)
    qtbot.waitUntil(lambda: not window.locked or bool(panel.failure_text()), timeout=10_000)
    assert not window.locked, f"{name} could not log in: {panel.failure_text()}"


def coloured_pixels(image: QImage, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    """How many pixels of ``image`` are close to ``colour``."""
    import numpy as np

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    pixels = np.frombuffer(rgb.constBits(), np.uint8).reshape(height, stride)[:, : width * 3]
    pixels = pixels.reshape(height, width, 3).astype(int)
    return int((np.abs(pixels - np.array(colour)).max(axis=2) <= tolerance).sum())


@pytest.mark.slow
def test_an_operators_shift_from_login_to_handover(
    qtbot: QtBot,
    qapp: QApplication,
    open_console: OpenConsole,
    window_manager: WindowManager,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    vtest_avi: Path,
) -> None:
    apply_theme(qapp)
    host, window = open_console(
        plaza_site(tmp_path, vtest_avi),
        accounts={"ada": "admin", "olga": "operator", "piet": "operator"},
        login=None,
    )
    service = host.runtime.alerts
    assert service is not None
    alert_actions.add_rule(
        service,
        host.runtime.writer,
        host.runtime.clock,
        ADMIN,
        RuleSpec(
            0,
            "plaza walkway",
            "plaza",
            None,
            "person",
            zone=ZONE,
            instructions=INSTRUCTIONS,
            comment_required=True,
        ),
    )
    album = Album(qtbot, window)
    album.windowed()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=10_000)
    tile = window.camera_grid.tiles[0]
    qtbot.waitUntil(lambda: tile.status is CameraStatus.ONLINE, timeout=20_000)

    # 1. Olga starts her shift at the lock card: empty, the cursor in the name.
    assert window.locked
    album.shoot("lock-card-at-the-start-of-the-shift")
    log_in_at_the_card(qtbot, window, "olga")
    pane = window.panes["alerts"]
    album.shoot("olga-watches-the-wall")

    # 2. People walk into the zone: the rule raises an alert, with a chime.
    title = "Person on Plaza east (plaza walkway)"
    qtbot.waitUntil(lambda: any(a.title == title for a in pane.alerts()), timeout=60_000)
    alert_id = next(a.alert_id for a in pane.alerts() if a.title == title)
    assert pane.sound.plays >= 1 or pane.muted
    qtbot.waitUntil(lambda: pane.header_label.text() != "No open alerts", timeout=5000)

    # 3. Selected, it shows its picture with the person's box and the zone at once.
    with qtbot.waitSignal(pane.sig_evidence_shown, timeout=20_000):
        pane.select(alert_id)
    preview = pane.preview
    evidence = preview.evidence
    assert evidence is not None and evidence.alert_id == alert_id
    assert evidence.box is not None, "no box of the person who raised it"
    assert evidence.zone == ZONE
    assert preview.showing() in ("picture", "clip")
    assert INSTRUCTIONS in pane.instructions_label.text()
    assert pane.instructions_label.isVisible()
    album.shoot("the-alert-with-its-picture-box-and-zone")
    # Windowed at 1400×860, the alert's picture or clip is big enough to judge: the Alerts
    # pane has two thirds of its column (it had half, and the clip was 100 px tall).
    assert preview.stack.height() >= 200, preview.stack.height()

    # 4. She takes it, notes what she sees, and may not close it without a comment.
    pane.take_button.click()
    qtbot.waitUntil(
        lambda: pane.cell_text(alert_id, COLUMN_STATE) == "In progress: olga",
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: "is in progress: olga has it" in pane.strip.status(), timeout=10_000)
    pane.note_edit.setFocus()
    qtbot.keyClicks(pane.note_edit, "Two people by the fountain, walking on")
    pane.note_button.click()
    qtbot.waitUntil(
        lambda: "olga: Two people by the fountain, walking on" in pane.history_label.text(),
        timeout=10_000,
    )
    album.shoot("taken-with-a-note")
    pane.acknowledge_button.click()
    assert COMMENT_NEEDED_TEXT in pane.strip.error()
    assert pane.alert(alert_id).open  # type: ignore[union-attr]
    album.shoot("a-close-without-a-comment-is-refused")

    pane.note_edit.setFocus()
    qtbot.keyClicks(pane.note_edit, "Guard checked: visitors, nothing wrong")
    pane.acknowledge_button.click()
    qtbot.waitUntil(lambda: not pane.alert(alert_id).open, timeout=10_000)  # type: ignore[union-attr]
    qtbot.waitUntil(
        lambda: "Guard checked: visitors, nothing wrong" in pane.history_label.text(),
        timeout=10_000,
    )
    assert pane.cell_text(alert_id, COLUMN_STATE).startswith("Closed")
    album.shoot("closed-with-a-comment")

    # 5. She leaves the desk: the idle lock counts down in a banner over the wall...
    flow = window.login
    qtbot.waitUntil(lambda: flow.idle_setting_read, timeout=5000)
    idle_lock_s = flow.idle_lock_s
    flow.second_ms = SECOND_MS
    flow.idle_lock_s = 40
    flow.restart_idle_timer()
    qtbot.waitUntil(lambda: flow.warning_shown, timeout=10_000)
    flow.countdown_timer.stop()  # held for the photographs (resizing is not input)
    assert flow.idle_banner.isVisible() and flow.idle_banner.text().startswith("Locking in ")
    album.shoot("the-idle-lock-counts-down")
    assert flow.warning_shown and not window.locked
    flow.countdown_timer.start(SECOND_MS)
    # ... and locks; the card says which alerts are open (people go on walking: the rule
    # raises more), and starts empty for the next person.
    qtbot.waitUntil(lambda: window.locked, timeout=10_000)
    flow.second_ms, flow.idle_lock_s = 1000, idle_lock_s  # the next person's are the site's
    card = window.lock_view.alerts_text()
    open_now = pane.open_count()
    assert card.startswith("No open alerts" if open_now == 0 else f"{open_now} open alert")
    album.shoot("locked-with-the-open-alerts-on-the-card")

    # 6. Piet takes over at the empty card; the wall has kept running behind the lock.
    shown = tile.frames_shown
    qtbot.waitUntil(lambda: tile.frames_shown > shown + 5, timeout=10_000)
    log_in_at_the_card(qtbot, window, "piet")
    assert window.session.actor is not None and window.session.actor.name == "piet"
    shown = tile.frames_shown
    qtbot.waitUntil(lambda: tile.frames_shown > shown + 5, timeout=10_000)
    qtbot.waitUntil(lambda: pane.alert(alert_id) is not None, timeout=10_000)
    assert "olga" not in pane.strip.status()  # Olga's "Alert 1 closed by olga." went
    album.shoot("piet-takes-over")

    # The audit trail tells the shift: Olga's login, her work on the alert, the idle lock,
    # Piet's login; no failed login on the way.
    steps = [
        (e.actor, e.action)
        for e in reversed(audit_entries(host))
        if e.action.startswith(("session.", "alert."))
    ]
    assert ("account:olga", "session.login") in steps
    olga_work = [a for who, a in steps if who == "account:olga" and a.startswith("alert.")]
    assert olga_work[:3] == ["alert.take", "alert.note", "alert.acknowledge"], olga_work
    assert ("account:olga", "session.lock") in steps
    # Piet opens the console Olga's idle lock closed (an unlock by another person).
    assert steps[-1] == ("account:piet", "session.unlock")
    assert steps.index(("account:olga", "session.lock")) == len(steps) - 2
    failures = [e for e in audit_entries(host) if e.outcome != "ok"]
    assert failures == []
    assert len(album.pictures) == 2 * album.count
