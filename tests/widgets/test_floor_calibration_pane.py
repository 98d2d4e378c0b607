"""The Floor calibration page: points clicked on a camera's picture and their floor places typed
in, a sensing room's corners clicked in order, the fit refitted at every change (the error of
each point, the worst one marked, why points do not fit), the floor's grid drawn back on the
picture, the plan, and saving — against the real engine: a real store with a synced site, the
real CalibrateCamera through a running store writer, run by the console's real query client
(so every call runs on a query worker and answers on the GUI thread, as in the console)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from console.queries import QtQueryClient
from engine.access import Actor
from engine.clock import REAL_CLOCK
from engine.config import SiteConfig, load_site
from engine.fusion.floor import (
    CalibrateCamera,
    FloorCalibration,
    PointPair,
    StoredCalibration,
    calibrate,
    camera_calibrations,
)
from engine.sitetime import SiteTime
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR
from tests.conftest import write_site
from tests.engine.fusion.test_floor import GRID, pairs_for, pinhole
from tests.widgets.camera_picture_helpers import EngineActions, click, show_page, vtest_picture
from widgets.camera_picture import NO_PICTURE_TEXT
from widgets.floor_calibration.view import (
    COLUMN_ERROR,
    COLUMN_PICTURE,
    COLUMN_X,
    COLUMN_Y,
    NOT_ALLOWED_TEXT,
    FloorCalibrationPane,
    parse_metres,
)

SIZE = (640, 480)  # the pinhole camera of the engine's floor tests
NOT_IN_VIEW = " Not in the picture? Place points instead."
LOBBY_CORNERS = [(1.0, 0.5), (7.0, 0.5), (7.0, 5.5), (1.0, 5.5)]
CAMERAS = (
    '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "a.mp4"\nposition = { x = -1.0, y = 3.0 }\n'
)
CAMERAS += '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "b.mp4"\n'
ROOMS = """
[[rooms]]
id = "lobby"
name = "Lobby"
width_m = 6.0
depth_m = 5.0
height_m = 3.0
origin = { x = 1.0, y = 0.5 }
port = 8701

[[rooms]]
id = "store"
name = "Store room"
width_m = 3.0
depth_m = 3.0
height_m = 3.0
origin = { x = -20.0, y = 0.0 }
port = 8702

[[sensing_nodes]]
id = "a"
room = "lobby"
position = { x = 0.1, y = 0.1, z = 1.0 }

[[sensing_nodes]]
id = "b"
room = "lobby"
position = { x = 5.9, y = 4.9, z = 1.0 }

[[sensing_nodes]]
id = "c"
room = "store"
position = { x = 0.1, y = 0.1, z = 1.0 }

[[sensing_nodes]]
id = "d"
room = "store"
position = { x = 2.9, y = 2.9, z = 1.0 }
"""


def picture_of(x: float, y: float) -> tuple[float, float]:
    """Where the pinhole camera sees floor place (x, y)."""
    (u, v), *_ = pinhole(np.array([(x, y)]))
    return float(u), float(v)


class EngineCalibrationActions(EngineActions):
    """The console's calibration actions (the real store read, CalibrateCamera through the
    real writer), recording the threads they ran on and counting the saves."""

    def __init__(self, store: Store, writer: StoreWriter, site_id: int, actor: Actor) -> None:
        super().__init__(store, writer, site_id, actor)
        self.saves = 0

    def stored_calibration(self, camera: str) -> StoredCalibration | None:
        self._ran()
        return camera_calibrations(self.store, self.site_id).get(camera)

    def save_calibration(self, camera: str, calibration: FloorCalibration) -> StoredCalibration:
        self._ran()
        self.saves += 1
        self._execute(CalibrateCamera, camera, calibration=calibration)
        return camera_calibrations(self.store, self.site_id)[camera]


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return load_site(write_site(tmp_path / "site.toml", CAMERAS, ROOMS))


MakePane = Callable[..., tuple[FloorCalibrationPane, EngineCalibrationActions]]


@pytest.fixture
def make_pane(
    qtbot: QtBot,
    client: QtQueryClient,
    store: Store,
    writer: StoreWriter,
    site: SiteConfig,
    site_id: int,
) -> MakePane:
    # The first frame of the pedestrian sample at the pinhole camera's size: a real
    # picture to click on.
    pictures = {"yard": vtest_picture(SIZE)}

    def make(actor: Actor = ADMIN) -> tuple[FloorCalibrationPane, EngineCalibrationActions]:
        actions = EngineCalibrationActions(store, writer, site_id, actor)
        pane = FloorCalibrationPane(
            client,
            actions,
            cameras=[(c.id, c.name) for c in site.cameras],
            site=site,
            frame_of=pictures.get,
        )
        show_page(qtbot, pane)  # the first showing reads the stored calibration
        # Under an X server only the active window's widgets take the focus (cell editors).
        pane.activateWindow()
        qtbot.waitUntil(pane.isActiveWindow, timeout=5000)
        return pane, actions

    return make


def type_into_editor(qtbot: QtBot, text: str, then: Qt.Key) -> None:
    """Type ``text`` into the cell editor that has the focus and leave it with ``then``
    (Enter commits on the next turn of the event loop: wait for the editor to go)."""
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit), f"no cell editor has the focus: {editor!r}"
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, then)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not editor, timeout=5000)


def place(pane: FloorCalibrationPane, floor: list[tuple[float, float]]) -> None:
    for x, y in floor:
        row = pane.add_point(*picture_of(x, y))
        assert row is not None
        pane.set_floor_place(row, x, y)


def cell(pane: FloorCalibrationPane, row: int, column: int) -> str:
    return str(pane.model.index(row, column).data())


def test_clicking_adds_a_point_and_its_floor_place_is_typed_in_the_table(
    qtbot: QtBot, make_pane: MakePane
) -> None:
    pane, _ = make_pane()
    assert pane.camera() == "yard" and pane.canvas.has_picture()
    assert pane.image_size() == SIZE
    assert "0 of at least 4 points so far" in pane.next_step()

    u, v = picture_of(*GRID[0])
    click(qtbot, pane, u, v)
    (row,) = pane.rows()
    # The click lands within a pixel of where it was made (the picture is scaled to fit).
    assert row.u is not None and row.v is not None
    assert abs(row.u - u) <= 1.5 and abs(row.v - v) <= 1.5
    assert (row.x, row.y) == (None, None)
    assert cell(pane, 0, COLUMN_PICTURE) == f"{row.u:.0f}, {row.v:.0f}"
    assert "Type point 1's floor place" in pane.next_step()
    # The click opened the editor of its floor X: type it, Tab to Y, type it, Enter.
    type_into_editor(qtbot, "2", Qt.Key.Key_Tab)
    type_into_editor(qtbot, "1,0 m", Qt.Key.Key_Return)
    (row,) = pane.rows()
    assert (row.x, row.y) == (2.0, 1.0)
    assert (cell(pane, 0, COLUMN_X), cell(pane, 0, COLUMN_Y)) == ("2.00", "1.00")
    assert "1 of at least 4 points so far" in pane.next_step()
    # The point is drawn on the picture, numbered.
    (mark,) = pane.canvas.overlay().marks
    assert (mark.number, mark.u, mark.v) == (1, row.u, row.v)

    # Something that is not metres is refused and the cell keeps its value.
    index = pane.model.index(0, COLUMN_X)
    assert not pane.model.setData(index, "two")
    assert "'two' is not a floor X in metres" in pane.model.last_refusal
    assert pane.rows()[0].x == 2.0

    # A right click on the point removes it.
    click(qtbot, pane, row.u, row.v, right=True)
    assert pane.rows() == []


def test_typing_floor_places_updates_the_error_and_marks_the_worst_point(
    qtbot: QtBot, make_pane: MakePane
) -> None:
    pane, _ = make_pane()
    # The grid's points, the first four with no three on a line (three on a line fix no
    # floor); point 3 is the grid's third.
    ordered = [GRID[0], GRID[4], GRID[2], GRID[7], GRID[1], GRID[3], GRID[5], GRID[6], GRID[8]]
    place(pane, ordered[:4])
    fit = pane.calibration()
    assert fit is not None and not fit.checked
    assert pane.result_text().startswith("4 point pairs fit exactly, so the error is not known")
    assert "fifth point" in pane.next_step()
    assert cell(pane, 0, COLUMN_ERROR) == "—"

    place(pane, ordered[4:])
    fit = pane.calibration()
    assert fit is not None and fit.error_m is not None and fit.error_m < 0.01
    assert pane.result_text() == fit.describe()[:1].upper() + fit.describe()[1:] + "."
    assert "within the 0.3 m target" in pane.result_text()
    assert cell(pane, 2, COLUMN_ERROR) == "0.00"

    # Point 3's floor place mistyped (half a metre off in X): it is now the worst point,
    # in the table, in the line under the picture and on the picture; the median rises.
    with qtbot.waitSignal(pane.sig_fit_changed):
        pane.model.setData(pane.model.index(2, COLUMN_X), str(GRID[2][0] + 0.5))
    fit = pane.calibration()
    assert fit is not None and fit.worst is not None and fit.worst[0] == 2
    assert fit.error_m is not None and 0.01 < fit.error_m < 0.3
    assert pane.model.worst_row() == 2
    assert cell(pane, 2, COLUMN_ERROR) == "0.50"
    assert float(cell(pane, 2, COLUMN_ERROR)) > max(
        float(cell(pane, row, COLUMN_ERROR)) for row in range(len(GRID)) if row != 2
    )
    assert "within the 0.3 m target); worst is point 3 at 0.50 m" in pane.result_text()
    worst_marks = [m for m in pane.canvas.overlay().marks if m.worst]
    assert [(m.number, m.off_target) for m in worst_marks] == [(3, True)]
    # Where the fit puts each typed place is drawn from its click: point 3's is the longest.
    assert pane.canvas.overlay().residuals

    # Dragging point 3 to where its new floor place is seen puts it right again.
    target = picture_of(GRID[2][0] + 0.5, GRID[2][1])
    with qtbot.waitSignal(pane.sig_fit_changed):
        pane.canvas.sig_point_dragged.emit(2, *target)
    fit = pane.calibration()
    assert fit is not None and fit.error_m is not None and fit.error_m < 0.01


def test_a_rooms_corners_mode_fills_the_floor_places_and_says_which_corner_is_next(
    qtbot: QtBot, make_pane: MakePane
) -> None:
    pane, _ = make_pane()
    assert not pane.room_combo.isEnabled()
    pane.corners_radio.click()
    assert pane.room_combo.isEnabled() and pane.room_combo.currentText() == "Lobby"
    rows = pane.rows()
    assert [(r.x, r.y) for r in rows] == LOBBY_CORNERS
    assert all(not r.has_picture for r in rows)
    assert cell(pane, 0, COLUMN_PICTURE) == "click corner 1"
    # The room's floor places are not typed over.
    assert not pane.model.flags(pane.model.index(0, COLUMN_X)) & Qt.ItemFlag.ItemIsEditable
    assert pane.next_step() == (
        "Click corner 1 of 4 of Lobby: the room's origin corner, on the floor at (1, 0.5) m."
        + NOT_IN_VIEW
    )

    expected_next = [
        "Click corner 2 of 4 of Lobby: the corner along its width from there, on the floor "
        "at (7, 0.5) m." + NOT_IN_VIEW,
        "Click corner 3 of 4 of Lobby: the far corner, on the floor at (7, 5.5) m." + NOT_IN_VIEW,
        "Click corner 4 of 4 of Lobby: the corner along its depth from the origin, on the "
        "floor at (1, 5.5) m." + NOT_IN_VIEW,
    ]
    for n, (x, y) in enumerate(LOBBY_CORNERS):
        click(qtbot, pane, *picture_of(x, y))
        if n < 3:
            assert pane.next_step() == expected_next[n]
            assert pane.calibration() is None
    fit = pane.calibration()
    assert fit is not None and not fit.checked
    assert [(p.x, p.y) for p in fit.pairs] == LOBBY_CORNERS
    assert "fifth point" in pane.next_step()
    # The room's walls are drawn back on the picture where its corners were clicked.
    rooms = dict(pane.canvas.overlay().rooms)
    walls = rooms["Lobby"]
    assert len(walls) == 4
    ends = [end for wall in walls for end in wall]
    for x, y in LOBBY_CORNERS:
        u, v = picture_of(x, y)
        assert min(math.dist((u, v), end) for end in ends) < 2.0

    # Another room: its corners replace the Lobby's, waiting to be clicked.
    pane.room_combo.setCurrentIndex(pane.room_combo.findData("store"))
    assert [(r.x, r.y) for r in pane.rows()] == [
        (-20.0, 0.0),
        (-17.0, 0.0),
        (-17.0, 3.0),
        (-20.0, 3.0),
    ]
    assert pane.next_step().startswith("Click corner 1 of 4 of Store room")
    # Back to the Lobby, and a corner removed is clicked again next.
    pane.room_combo.setCurrentIndex(pane.room_combo.findData("lobby"))
    for x, y in LOBBY_CORNERS:
        click(qtbot, pane, *picture_of(x, y))
    pane.remove_point(1)
    assert len(pane.rows()) == 4 and not pane.rows()[1].has_picture
    assert pane.next_step().startswith("Click corner 2 of 4 of Lobby")
    click(qtbot, pane, *picture_of(*LOBBY_CORNERS[1]))
    assert pane.rows()[1].has_picture
    # With every corner placed, a click adds a point of its own, whose place is typed.
    click(qtbot, pane, *picture_of(6.0, 3.0))
    assert len(pane.rows()) == 5 and pane.rows()[4].corner is None
    type_into_editor(qtbot, "6", Qt.Key.Key_Tab)
    type_into_editor(qtbot, "3", Qt.Key.Key_Return)
    fit = pane.calibration()
    assert fit is not None and fit.checked and fit.error_m is not None and fit.error_m < 0.05

    # Back to plain points: the corners placed stay, as points with their floor places.
    pane.points_radio.click()
    assert not pane.room_combo.isEnabled()
    assert [r.corner for r in pane.rows()] == [None] * 5
    assert pane.calibration() is not None


def test_a_rooms_corners_follow_the_points_placed_whose_fit_stays_meanwhile(
    make_pane: MakePane,
) -> None:
    pane, _ = make_pane()
    place(pane, GRID[:5])
    fit = pane.calibration()
    assert fit is not None
    pane.corners_radio.click()
    rows = pane.rows()
    assert [r.pair() for r in rows[:5]] == list(fit.pairs)
    assert [(r.x, r.y, r.corner) for r in rows[5:]] == [
        (x, y, n) for n, (x, y) in enumerate(LOBBY_CORNERS)
    ]
    again = pane.calibration()
    assert again is not None and again.pairs == fit.pairs
    assert pane.next_step().startswith("Click corner 1 of 4 of Lobby")
    # A place outside the picture cannot be a corner's (a click there is not on it).
    assert pane.add_point(-5.0, 100.0) is None and pane.add_point(100.0, 481.0) is None
    assert not pane.rows()[5].has_picture


def test_points_on_one_line_are_explained_and_cannot_be_saved(
    qtbot: QtBot, make_pane: MakePane
) -> None:
    pane, _ = make_pane()
    for n, (x, y) in enumerate([(1.0, 1.0), (3.0, 1.5), (2.0, 4.0), (5.0, 3.0)]):
        row = pane.add_point(100.0 + 100.0 * n, 100.0 + 50.0 * n)  # one line in the picture
        assert row is not None
        pane.set_floor_place(row, x, y)
    assert pane.calibration() is None
    assert pane.problem() == (
        "These points do not fit: the picture points lie on one line, which does not fix the "
        "floor: add points away from that line."
    )
    assert pane.problem_label.isVisible() and pane.problem_label.text() == pane.problem()
    assert not pane.result_label.isVisible()
    assert not pane.save_button.isEnabled()
    assert pane.canvas.overlay().grid_major == ()  # no fit, no grid
    assert pane.next_step() == "Drag a point, or add one, until the points fit."


def test_with_a_fit_the_floor_grid_lies_on_the_floor_and_the_plan_shows_the_view(
    make_pane: MakePane,
) -> None:
    pane, _ = make_pane()
    place(pane, GRID[:6])
    fit = pane.calibration()
    assert fit is not None
    overlay = pane.canvas.overlay()
    assert overlay.grid_major and overlay.grid_minor
    # Every grid segment's ends are on a whole metre of the floor (x or y), as the pinhole
    # camera sees it.
    for start, end in overlay.grid_major + overlay.grid_minor:
        a, b = fit.to_floor(*start), fit.to_floor(*end)
        assert a is not None and b is not None
        same_x = abs(a[0] - b[0]) < 1e-6 and abs(a[0] - round(a[0])) < 1e-6
        same_y = abs(a[1] - b[1]) < 1e-6 and abs(a[1] - round(a[1])) < 1e-6
        assert same_x or same_y, (a, b)
    scene = pane.plan.scene()
    assert scene is not None and len(scene.footprint) >= 3
    assert [name for name, _box in scene.rooms] == ["Lobby", "Store room"]
    assert len(scene.nodes) == 4 and scene.camera == ("Yard", (-1.0, 3.0))
    # The lobby lies in front of the camera; the store room is behind it.
    text = pane.sees_label.text()
    assert text.startswith("The picture covers ") and "of Lobby" in text
    assert "Store room" not in text


def test_save_stores_through_the_writer_and_shows_who_and_when_in_site_time(
    qtbot: QtBot,
    make_pane: MakePane,
    store: Store,
    site_id: int,
    shown_zone: Callable[[str], SiteTime],
) -> None:
    zone = shown_zone("America/Los_Angeles")
    pane, actions = make_pane()
    assert pane.stored_label.text() == "Not calibrated yet: nothing is stored for this camera."
    assert not pane.save_button.isEnabled()
    place(pane, GRID[:6])
    assert "The table has changes not saved." in pane.stored_label.text()
    assert pane.save_button.isEnabled()
    with (
        qtbot.waitSignal(pane.sig_saved, timeout=10_000) as saved,
        qtbot.waitSignal(pane.sig_save_finished, timeout=10_000),
    ):
        pane.save_button.click()
        assert not pane.save_button.isEnabled()  # one save at a time
    assert saved.args == ["yard"]
    stored = camera_calibrations(store, site_id)["yard"]
    fit = pane.calibration()
    assert fit is not None and stored.calibration.pairs == fit.pairs
    assert stored.calibrated_by == ADMIN.label
    assert actions.threads and all(t.startswith("query-") for t in actions.threads)
    assert pane.strip.status() == "Saved the calibration of Yard."
    at = stored.calibrated_at
    when = f"{zone.full_minutes(at)} {zone.zone_label(at)}"
    assert pane.stored_label.text() == f"Stored: {fit.describe()}; calibrated by ada at {when}."
    entries = AuditListRequest(reader=ADMIN, limit=10, action="camera.calibrate").run(store)
    assert [(e.actor, e.target, e.outcome) for e in entries] == [(ADMIN.label, "camera yard", "ok")]


def test_a_refused_save_shows_the_refusal_in_the_page_and_stores_nothing(
    qtbot: QtBot, make_pane: MakePane, store: Store, site_id: int
) -> None:
    pane, actions = make_pane(OPERATOR)
    place(pane, GRID[:5])
    with qtbot.waitSignal(pane.sig_save_finished, timeout=10_000) as finished:
        pane.save_button.click()
    assert finished.args == [False] and actions.saves == 1
    assert pane.strip.error() == (
        "Could not save the calibration of Yard: olga (operator) may not calibrate cameras to "
        "the floor: it needs the configure_cameras permission"
    )
    assert pane.strip.error_label.isVisible()
    assert camera_calibrations(store, site_id) == {}
    assert pane.stored_label.text().startswith("Not calibrated yet")
    # The console offers saving only to who may configure cameras.
    pane.on_actor_changed(OPERATOR)
    assert not pane.save_button.isEnabled()
    assert pane.permission_label.isVisible() and pane.permission_label.text() == NOT_ALLOWED_TEXT
    pane.on_actor_changed(ADMIN)
    assert pane.save_button.isEnabled() and not pane.permission_label.isVisible()


def test_the_stored_calibration_is_shown_when_a_camera_is_picked_and_edits_are_kept(
    qtbot: QtBot, make_pane: MakePane, writer: StoreWriter, site_id: int
) -> None:
    stored_fit = calibrate(pairs_for(GRID, noise_px=1.0), SIZE)
    for camera in ("yard", "gate"):
        writer.execute(
            CalibrateCamera(
                site_id=site_id,
                camera=camera,
                calibration=stored_fit,
                at=REAL_CLOCK.now(),
                actor=ADMIN,
            )
        )
    pane, _ = make_pane()
    # Read on a worker when the page was first shown: the stored points fill the table.
    assert [r.pair() for r in pane.rows()] == list(stored_fit.pairs)
    assert pane.stored_label.text().startswith(
        f"Stored: {stored_fit.describe()}; calibrated by ada"
    )
    assert "not saved" not in pane.stored_label.text()
    assert pane.revert_button.isEnabled()

    pane.remove_point(0)  # an edit, kept while another camera is shown
    with qtbot.waitSignal(pane.sig_stored_loaded, timeout=10_000):
        pane.select_camera("gate")
    # The gate has sent no picture: the page says so in the picture area, and what is
    # stored is still shown and listed.
    assert not pane.canvas.has_picture()
    assert pane.next_step().startswith("No picture to click on yet")
    assert pane.canvas.picture_size() == SIZE  # the stored calibration's picture
    assert pane.canvas.placeholder() == NO_PICTURE_TEXT
    assert len(pane.rows()) == len(GRID)
    with qtbot.waitSignal(pane.sig_stored_loaded, timeout=10_000):
        pane.select_camera("yard")
    assert len(pane.rows()) == len(GRID) - 1
    assert pane.stored_label.text().endswith("The table has changes not saved.")
    pane.revert_button.click()
    assert [r.pair() for r in pane.rows()] == list(stored_fit.pairs)
    assert "not saved" not in pane.stored_label.text()


def test_a_stored_calibration_of_another_picture_size_is_shown_scaled(
    qtbot: QtBot, make_pane: MakePane, writer: StoreWriter, site_id: int
) -> None:
    half = calibrate(
        [PointPair(p.u / 2, p.v / 2, p.x, p.y) for p in pairs_for(GRID, noise_px=0.5)],
        (320, 240),
    )
    writer.execute(
        CalibrateCamera(
            site_id=site_id, camera="yard", calibration=half, at=REAL_CLOCK.now(), actor=ADMIN
        )
    )
    pane, _ = make_pane()
    first = pane.rows()[0]
    assert (first.u, first.v) == (half.pairs[0].u * 2, half.pairs[0].v * 2)
    assert "made on a 320 × 240 picture; the camera now sends 640 × 480" in pane.stored_label.text()


def test_metres_are_read_as_an_admin_types_them() -> None:
    assert parse_metres(" 3.5 ") == 3.5
    assert parse_metres("3,5") == 3.5
    assert parse_metres("-2 m") == -2.0
    assert parse_metres("") is None
    for bad in ("two", "nan", "inf", "1.2.3"):
        with pytest.raises(ValueError):
            parse_metres(bad)


def test_a_click_beside_the_picture_adds_nothing(qtbot: QtBot, make_pane: MakePane) -> None:
    pane, _ = make_pane()
    rect = pane.canvas.picture_rect()
    beside = (
        QPoint(int(rect.left()) - 5, pane.canvas.height() // 2)
        if rect.left() >= 6
        else QPoint(pane.canvas.width() // 2, int(rect.top()) - 5)
    )
    qtbot.mouseClick(pane.canvas, Qt.MouseButton.LeftButton, pos=beside)
    assert pane.rows() == []


def test_a_point_the_others_cannot_check_is_said_so_not_given_as_an_infinite_error(
    make_pane: MakePane,
) -> None:
    pane, _ = make_pane()
    # Three points along the lobby's near wall and its two far corners: without a far
    # corner, the other far corner and a line fix nothing, so neither far corner can be
    # checked by the others; the three on the wall can.
    place(pane, [(1.0, 0.5), (4.0, 0.5), (7.0, 0.5), (7.0, 5.5), (1.0, 5.5)])
    fit = pane.calibration()
    assert fit is not None and fit.checked and not all(math.isfinite(e) for e in fit.errors_m)
    unchecked = [n for n, e in enumerate(fit.errors_m) if not math.isfinite(e)]
    assert unchecked == [3, 4]
    assert fit.error_m is not None and math.isfinite(fit.error_m)
    text = pane.result_text()
    assert "inf" not in text
    assert text.startswith(f"Error {fit.error_m:.2f} m median over 5 points (")
    assert text.endswith(
        "points 4, 5 cannot be checked: without points 4, 5 the others do not place them."
    )
    assert cell(pane, 3, COLUMN_ERROR) == cell(pane, 4, COLUMN_ERROR) == "no fit"
    assert "inf" not in pane.stored_label.text() and "inf" not in pane.next_step()


def test_a_point_is_dragged_to_a_new_place_and_delete_removes_the_selected_one(
    qtbot: QtBot, make_pane: MakePane
) -> None:
    pane, _ = make_pane()
    place(pane, GRID)
    canvas = pane.canvas
    start = canvas.widget_point(*picture_of(*GRID[2]))
    target = picture_of(GRID[2][0] + 0.5, GRID[2][1])
    # Pressing on a point picks it up (and selects its row) rather than adding one.
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start.toPoint())
    assert len(pane.rows()) == len(GRID)
    assert [i.row() for i in pane.table.selectionModel().selectedRows()] == [2]
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        canvas.widget_point(*target),
        canvas.mapToGlobal(canvas.widget_point(*target)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(canvas, move)
    qtbot.mouseRelease(
        canvas, Qt.MouseButton.LeftButton, pos=canvas.widget_point(*target).toPoint()
    )
    moved = pane.rows()[2]
    assert moved.u is not None and moved.v is not None
    assert math.dist((moved.u, moved.v), target) < 1.5
    assert (moved.x, moved.y) == GRID[2]  # its floor place stays: it is now off by 0.5 m
    fit = pane.calibration()
    assert fit is not None and fit.worst is not None and fit.worst[0] == 2

    # Delete with the canvas focused removes the selected point.
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert len(pane.rows()) == len(GRID) - 1 and all(r.pair() != moved.pair() for r in pane.rows())
