"""The Privacy masks page: areas drawn corner by corner on a camera's picture, closed on their
first corner, refused in plain words when their outline crosses itself, selected and deleted,
the sentence saying how much is masked, and saving — against the real engine: a real store
with a synced site, the real SetPrivacyMasks through a running store writer, run by the
console's real query client (every call on a query worker, answered on the GUI thread)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.access import Actor
from engine.clock import REAL_CLOCK
from engine.config import SiteConfig, load_site
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from engine.vision.privacy import (
    PrivacyMask,
    SetPrivacyMasks,
    StoredPrivacyMask,
    privacy_mask,
    privacy_masks,
)
from tests.actors import ADMIN, OPERATOR
from tests.conftest import write_site
from tests.widgets.camera_picture_helpers import EngineActions, click, show_page, vtest_picture
from widgets.alert_rules.view import DRAWING_HINT as ZONE_DRAWING_HINT
from widgets.privacy_masks.view import (
    DRAWING_HINT,
    NOT_ALLOWED_TEXT,
    START_HINT,
    PrivacyMasksPane,
)

CAMERAS = '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "a.mp4"\n'
CAMERAS += '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "b.mp4"\n'
WINDOW = [(0.1, 0.1), (0.4, 0.1), (0.4, 0.4), (0.1, 0.4)]  # 9 % of the picture


class EngineMaskActions(EngineActions):
    """The console's privacy-mask actions (the real store read, SetPrivacyMasks through the
    real writer), recording the threads they ran on."""

    def stored_mask(self, camera: str) -> StoredPrivacyMask | None:
        self._ran()
        return privacy_masks(self.store, self.site_id).get(camera)

    def save_mask(self, camera: str, mask: PrivacyMask) -> StoredPrivacyMask | None:
        self._ran()
        self._execute(SetPrivacyMasks, camera, mask=mask)
        return self.stored_mask(camera)


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return load_site(write_site(tmp_path / "site.toml", CAMERAS))


MakePane = Callable[..., tuple[PrivacyMasksPane, EngineMaskActions]]


@pytest.fixture
def make_pane(
    qtbot: QtBot,
    client: QtQueryClient,
    store: Store,
    writer: StoreWriter,
    site: SiteConfig,
    site_id: int,
) -> MakePane:
    pictures = {"yard": vtest_picture()}

    def make(actor: Actor = ADMIN) -> tuple[PrivacyMasksPane, EngineMaskActions]:
        actions = EngineMaskActions(store, writer, site_id, actor)
        pane = PrivacyMasksPane(
            client,
            actions,
            cameras=[(c.id, c.name) for c in site.cameras],
            frame_of=pictures.get,
        )
        show_page(qtbot, pane)  # the first showing reads the stored mask
        pane.on_actor_changed(actor)
        return pane, actions

    return make


def test_an_area_drawn_by_clicks_is_saved_and_said_in_plain_words(
    qtbot: QtBot, make_pane: MakePane, store: Store, site_id: int
) -> None:
    pane, actions = make_pane()
    assert pane.camera() == "yard" and pane.canvas.has_picture()
    assert pane.image_size() == (768, 576)
    assert pane.summary() == "Nothing masked: the whole picture is shown, recorded and analysed."
    assert pane.hint_label.text() == START_HINT
    assert not pane.save_button.isEnabled()  # nothing changed

    for x, y in WINDOW:
        click(qtbot, pane, x, y)
    assert len(pane.drawing()) == 4 and pane.areas() == []
    assert pane.hint_label.text() == f"Drawing area 1: 4 corners placed. {DRAWING_HINT}"
    click(qtbot, pane, 0.3, 0.3, right=True)  # right-click: the last corner goes
    assert len(pane.drawing()) == 3
    click(qtbot, pane, *WINDOW[3])
    click(qtbot, pane, *WINDOW[0])  # the first corner again: closed
    assert pane.drawing() == [] and len(pane.areas()) == 1
    (area,) = pane.areas()
    assert all(math.dist(p, q) < 0.003 for p, q in zip(area, WINDOW, strict=True))
    assert pane.summary() == (
        "1 area masked, 9 % of the picture; nothing there is shown, recorded or analysed. "
        "Not saved yet."
    )
    assert pane.area_list.item(0).text() == "Area 1: 4 corners, 9 % of the picture"
    assert pane.save_button.isEnabled()

    with qtbot.waitSignal(pane.sig_saved, timeout=10_000):
        pane.save_button.click()
    stored = privacy_masks(store, site_id)["yard"]
    assert len(stored.mask.areas) == 1 and stored.masked_by == ADMIN.label
    assert pane.summary().endswith("recorded or analysed.")  # saved: no "Not saved yet"
    assert pane.stored_label.text().startswith("Stored: 1 area, 9 % of the picture; set by ada")
    assert pane.strip.status() == "Saved: Yard is masked from its next frame."
    assert not pane.save_button.isEnabled()
    assert "MainThread" not in actions.threads  # every call ran on a query worker
    trail = AuditListRequest(reader=ADMIN, limit=10, action="camera.mask").run(store)
    assert [(e.actor, e.outcome, e.target) for e in trail] == [(ADMIN.label, "ok", "camera yard")]


def test_a_crossing_outline_is_refused_in_words_and_an_area_is_selected_and_deleted(
    qtbot: QtBot, make_pane: MakePane, store: Store, writer: StoreWriter, site_id: int
) -> None:
    writer.execute(
        SetPrivacyMasks(
            site_id=site_id,
            camera="yard",
            mask=privacy_mask(
                [[(x * 768, y * 576) for x, y in WINDOW], [(500, 400), (700, 400), (600, 550)]],
                (768, 576),
            ),
            at=REAL_CLOCK.now(),
            actor=ADMIN,
        )
    )
    pane, _ = make_pane()
    assert len(pane.areas()) == 2  # the stored areas are shown
    assert pane.summary().startswith("2 areas masked, ")

    # A bow tie: its edges 1-2 and 3-4 cross.
    for x, y in [(0.5, 0.05), (0.9, 0.3), (0.9, 0.05), (0.5, 0.3)]:
        click(qtbot, pane, x, y)
    pane.close_button.click()
    assert pane.problem() == (
        "This area cannot be closed: area 3: its edges 1-2 and 3-4 cross; give the points "
        "in order around the area."
    )
    assert pane.problem_label.isVisible() and len(pane.drawing()) == 4
    assert not pane.save_button.isEnabled()  # not while an area is being drawn
    pane.cancel_button.click()
    assert pane.drawing() == [] and pane.problem() == ""

    click(qtbot, pane, 0.25, 0.25)  # inside area 1: selects it
    assert pane.selected_area() == 0 and pane.drawing() == []
    assert pane.hint_label.text().startswith("Area 1 selected")
    pane.canvas.setFocus()
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Delete)
    assert len(pane.areas()) == 1 and pane.selected_area() is None
    assert pane.summary().endswith("Not saved yet.")
    pane.revert_button.click()
    assert len(pane.areas()) == 2
    pane.clear_button.click()
    assert pane.summary().startswith("Nothing masked") and pane.save_button.isEnabled()
    with qtbot.waitSignal(pane.sig_saved, timeout=10_000):
        pane.save_button.click()
    assert privacy_masks(store, site_id) == {}
    assert pane.strip.status() == "Saved: nothing of Yard is masked from its next frame."


def test_who_may_not_configure_cameras_cannot_save_and_the_engine_refuses_them(
    qtbot: QtBot, make_pane: MakePane, store: Store, site_id: int
) -> None:
    pane, _ = make_pane(OPERATOR)
    assert pane.permission_label.text() == NOT_ALLOWED_TEXT
    for x, y in WINDOW:
        click(qtbot, pane, x, y)
    assert pane.close_area()
    assert not pane.save_button.isEnabled()
    # Asked anyway (a page left open as someone else logs in): refused, shown, not stored.
    pane.set_changes_allowed(True)
    with qtbot.waitSignal(pane._runner.sig_action_finished, timeout=10_000) as finished:
        pane.save_button.click()
    assert finished.args[1] is False
    assert "may not change cameras' privacy masks" in pane.strip.error()
    assert privacy_masks(store, site_id) == {}


def test_another_camera_has_its_own_areas_and_no_picture_says_why(
    qtbot: QtBot, make_pane: MakePane
) -> None:
    pane, _ = make_pane()
    for x, y in WINDOW[:3]:
        click(qtbot, pane, x, y)
    assert not pane.camera_combo.isEnabled()  # finish or cancel the area first
    pane.close_area()
    with qtbot.waitSignal(pane.sig_stored_loaded, timeout=10_000):
        pane.select_camera("gate")
    assert pane.areas() == [] and not pane.canvas.has_picture()
    assert pane.canvas.placeholder().startswith("No picture from this camera yet")
    click(qtbot, pane, 0.5, 0.5)  # no picture: nothing to draw on
    assert pane.drawing() == []


def test_an_area_closes_by_its_first_corner_a_double_click_enter_or_close_area(
    qtbot: QtBot, make_pane: MakePane
) -> None:
    """Issue 68: an area closed only by its first corner or Close area, a zone only by a
    double-click; both now close by all four, and say so in the same words."""
    pane, _actions = make_pane()
    assert ZONE_DRAWING_HINT.replace("zone", "area").replace("Zone", "Area") == DRAWING_HINT
    assert DRAWING_HINT in pane.canvas.toolTip() and DRAWING_HINT in START_HINT
    triangle = WINDOW[:3]

    def draw() -> None:
        for x, y in triangle:
            click(qtbot, pane, x, y)
        assert len(pane.drawing()) == 3

    closed = 0
    draw()  # Enter
    pane.canvas.setFocus()
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Return)
    closed += 1
    assert pane.drawing() == [] and len(pane.areas()) == closed
    pane.select_area(None)
    for x, y in triangle[:2]:  # a double-click on the third corner: placed, then closed
        click(qtbot, pane, x + 0.5, y + 0.5)
    click(qtbot, pane, triangle[2][0] + 0.5, triangle[2][1] + 0.5)
    point = pane.canvas.widget_point(triangle[2][0] + 0.5, triangle[2][1] + 0.5).toPoint()
    qtbot.mouseDClick(pane.canvas, Qt.MouseButton.LeftButton, pos=point)
    closed += 1
    assert pane.drawing() == [] and len(pane.areas()) == closed
    assert len(pane.areas()[-1]) == 3  # the double-click placed no second corner
    # Backspace and right-click take corners back; Enter with fewer than 3 closes nothing.
    pane.select_area(None)
    for x, y in triangle:
        click(qtbot, pane, x + 0.5, y)
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Backspace)
    click(qtbot, pane, 0.9, 0.9, right=True)
    assert len(pane.drawing()) == 1
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Return)
    assert len(pane.drawing()) == 1 and len(pane.areas()) == closed
