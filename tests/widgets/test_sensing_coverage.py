"""What the room's node layout can see, in the Sensing pane: the health line, the coverage
overlay on the 3D view's floor and uncertain blobs, drawn for real (OpenGL under Xvfb) from
snapshots of the 5 × 5 × 2.5 m room of test_sensing_view, with the engine's own rating of
its layouts (engine.sensing.grid.capability)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from engine.sensing.falls import FallPolicy
from engine.sensing.grid.capability import coverage_view, room_capability
from engine.sensing.view import BlobView, CoverageView, SensingSnapshot
from tests.machine_text import machine_text
from tests.widgets.test_sensing_view import (
    HOT_SPOT,
    POSITIONS,
    ROOM,
    framebuffer,
    shown_pane,
    shown_view,
    snapshot,
)
from widgets.colours import WARNING_AMBER
from widgets.sensing.coverage import (
    LEGEND,
    coverage_texture,
    health_text,
    texels_per_cell,
)
from widgets.sensing.view import BLOB_SIZE_M, BlobColumn, SensingView3D

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

# Six nodes low and high on the walls: a "fair" layout that confirms falls in part of the room.
MIXED_HEIGHTS = {
    "a": (0.0, 0.0, 0.15),
    "b": (5.0, 0.0, 1.9),
    "c": (5.0, 5.0, 0.15),
    "d": (0.0, 5.0, 1.9),
    "e": (2.5, 0.0, 0.15),
    "f": (0.0, 2.5, 1.9),
}


def rated(nodes: dict[str, tuple[float, float, float]] = POSITIONS) -> CoverageView:
    """The engine's rating of ``nodes`` in the test room (confirmable fall alerts)."""
    return coverage_view(room_capability(ROOM, nodes), FallPolicy())


def halves(cells: int = 10) -> CoverageView:
    """A hand-made map of the room in 0.5 m cells: the west half placed within 0.3 m, the
    east half unseen; the north-west cell also ambiguous, the south-west one fall-capable."""
    centres = (np.arange(cells) + 0.5) * (ROOM[0] / cells)
    accuracy = np.full((cells, cells), np.inf)
    accuracy[:, : cells // 2] = 0.3
    ambiguous = np.zeros((cells, cells), bool)
    ambiguous[-1, 0] = True
    capable = np.zeros((cells, cells), bool)
    capable[0, 0] = True
    return CoverageView(
        rating="fair",
        reasons=("half the room is seen",),
        advice="add a node near the east wall",
        health="Fair layout; falls are confirmed in 1% of this room and alerted only there.",
        fall_alerts="confirmable",
        cell_m=ROOM[0] / cells,
        xs=centres,
        ys=centres.copy(),
        accuracy_m=accuracy,
        fall_capable=capable,
        ambiguous=ambiguous,
        median_accuracy_m=0.3,
        fall_capable_fraction=0.01,
        ambiguous_fraction=0.01,
    )


def floor_colour(view: SensingView3D, x: float, y: float) -> npt.NDArray[np.float64]:
    """The median colour drawn around the floor point (x, y)."""
    px, py = np.round(view.project([(x, y, 0.0)])[0]).astype(int)
    patch = framebuffer(view).astype(np.float64)[py - 2 : py + 3, px - 2 : px + 3]
    return np.median(patch.reshape(-1, 3), axis=0)


# -- the health line ------------------------------------------------------------------------


def test_the_health_line_says_the_rating_first_above_the_3d_view(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    assert not view.health_label.isVisible()  # nothing said before a tick

    poor = rated()
    view.set_snapshot(snapshot(coverage=poor))
    label = view.health_label
    assert label.isVisible() and label.wordWrap()
    assert label.text() == poor.health
    assert label.text().startswith("Poor layout; falls cannot be confirmed anywhere")
    assert WARNING_AMBER in label.styleSheet()
    assert machine_text(label.text()) is None
    assert "Why poor:" in label.toolTip() and poor.reasons[0] in label.toolTip()
    # Above the drawing, not over it (nothing can be drawn over the GL window), and whole.
    container = view.gl_container
    assert container is not None
    assert label.mapTo(view, QPoint(0, label.height())).y() <= container.geometry().top()
    assert label.height() >= label.heightForWidth(label.width())

    fair = rated(MIXED_HEIGHTS)
    view.set_snapshot(snapshot(coverage=fair))
    assert fair.rating == "fair" and label.text().startswith("Fair layout; falls are confirmed")
    assert label.styleSheet() == ""  # a fair layout is said in the theme's own text colour


def test_a_layout_that_could_not_be_rated_says_why(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    unrated = coverage_view(None, FallPolicy(), problem="fewer than two nodes")
    view.set_snapshot(snapshot(coverage=unrated))
    assert view.health_label.text() == (
        "Unknown layout: the node layout cannot be rated (fewer than two nodes); no fall is "
        "alerted until it can."
    )
    assert WARNING_AMBER in view.health_label.styleSheet()
    assert not view.coverage_toggle.isEnabled()  # no map to show
    assert "not been rated" in view.coverage_toggle.toolTip()

    view.set_snapshot(snapshot(coverage=None))  # the engine has not rated it yet
    assert view.health_label.text().startswith("Layout not rated yet")
    assert view.health_label.styleSheet() == ""
    assert health_text(None) == view.health_label.text()


def test_the_pane_shows_the_health_line_of_the_selected_room(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot)
    pane.set_rooms([("lab", "Lab"), ("store", "Store")])
    pane.set_snapshot(snapshot(coverage=rated()))
    pane.set_snapshot(snapshot(room_id="store", coverage=rated(MIXED_HEIGHTS)))
    label = pane.view.health_label
    assert label.isVisible() and label.text().startswith("Poor layout")
    # Across the whole pane, above the 3D view and the tables, and not cut off.
    assert label.mapTo(pane, QPoint(0, label.height())).y() <= pane.stack.geometry().top()
    assert label.width() > pane.width() * 0.8
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    pane.room_combo.setCurrentIndex(1)
    assert label.text().startswith("Fair layout")
    pane.set_rooms([])  # no sensing room: no health line either
    assert not pane.view.coverage_header.isVisible()


# -- the overlay ----------------------------------------------------------------------------


def test_the_coverage_texture_tints_cells_by_accuracy_and_marks_falls_and_ghosts() -> None:
    coverage = halves()
    texture = coverage_texture(coverage)
    per = texels_per_cell(10, 10)
    assert texture.shape == (10 * per, 10 * per, 4) and texture.dtype == np.uint8

    def cell(i: int, j: int) -> npt.NDArray[np.uint8]:  # column i (x), row j (y)
        return texture[i * per : (i + 1) * per, j * per : (j + 1) * per].reshape(-1, 4)

    seen, unseen = cell(2, 4)[0], cell(7, 4)[0]
    assert seen[1] > seen[0] + 60 and unseen[0] > unseen[1] + 60  # green, red
    assert len({tuple(t) for t in cell(2, 4)}) == 1  # a plain cell is one colour
    white = (cell(0, 0)[:, :3] == 255).all(axis=1)
    assert 0 < white.mean() < 0.5  # a fall mark inside the fall-capable cell, not all of it
    assert not (cell(1, 0)[:, :3] == 255).all(axis=1).any()
    hatch = {tuple(t) for t in cell(0, 9)} - {tuple(cell(1, 9)[0])}
    assert len(hatch) == 1 and (cell(0, 9) == cell(1, 9)[0]).all(axis=1).mean() > 0.5
    # Without a map (a layout not rated) there is nothing to draw.
    empty = coverage_view(None, FallPolicy(), problem="no layout")
    assert coverage_texture(empty).shape == (0, 0, 4)


def test_the_coverage_overlay_toggles_and_builds_its_texture_once(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    coverage = halves()
    view.set_snapshot(snapshot(coverage=coverage))
    # Off by default, and then nothing is built; the toggle says what it shows.
    assert view.coverage_toggle.isVisible() and view.coverage_toggle.isEnabled()
    assert not view.coverage_toggle.isChecked() and "fall" in view.coverage_toggle.toolTip()
    assert not view.coverage_shown() and view.coverage_textures_built == 0
    assert not view.coverage_legend.isVisible()
    west_before = floor_colour(view, 1.2, 2.7)

    view.coverage_toggle.click()
    assert view.coverage_shown() and view.coverage_legend.isVisible()
    assert view.coverage_textures_built == 1
    assert [words for *_, words in LEGEND] == view.coverage_legend.texts
    for words in view.coverage_legend.texts:
        assert machine_text(words) is None
    drawn = view.coverage_item.data
    west, east = floor_colour(view, 1.2, 2.7), floor_colour(view, 3.8, 2.2)
    assert west[1] > west_before[1] + 40 and west[1] > west[0] + 30  # the seen half: green
    assert east[0] > east[1] + 30 and east[0] > east[2]  # the unseen half: red

    # Ticks with the same coverage object build nothing and hand the GL item nothing new.
    items = list(view.gl_view.items)
    for t_s in (12.6, 12.7, 12.8, 12.9):
        view.set_snapshot(snapshot(coverage=coverage, t_s=t_s, blobs=()))
    assert view.coverage_textures_built == 1 and view.coverage_item.data is drawn
    assert view.gl_view.items == items

    view.coverage_toggle.click()
    assert not view.coverage_shown() and not view.coverage_legend.isVisible()
    assert np.abs(floor_colour(view, 1.2, 2.7) - west_before).max() < 10
    view.coverage_toggle.click()
    assert view.coverage_shown() and view.coverage_textures_built == 1  # kept, not rebuilt

    # A new layout's coverage is a new object: built once more.
    view.set_snapshot(snapshot(coverage=rated()))
    assert view.coverage_textures_built == 2 and view.coverage_item.data is not drawn


def test_the_overlay_comes_back_in_a_new_context_without_a_rebuild(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot(coverage=halves()))
    view.coverage_toggle.click()
    assert view.coverage_shown()
    window = QWidget()  # a dock floated out: a new GL context, the scene made anew
    qtbot.addWidget(window)
    QVBoxLayout(window).addWidget(view)
    window.resize(640, 480)
    with qtbot.waitExposed(window):
        window.show()
    qtbot.waitUntil(lambda: view.gl_view is not None and view.gl_view.isValid())
    assert view.coverage_shown() and view.coverage_textures_built == 1
    west = floor_colour(view, 1.2, 2.7)
    assert west[1] > west[0] + 30
    view.setParent(None)


# -- uncertain blobs ------------------------------------------------------------------------


def uncertain(blob: BlobView, uncertainty_m: float | None) -> BlobView:
    return replace(blob, ambiguous=True, uncertainty_m=uncertainty_m)


def with_uncertain_blob(uncertainty_m: float | None = 0.9) -> SensingSnapshot:
    """The usual snapshot, blob 7 never placed unambiguously; coasting blob 9 confident."""
    base = snapshot(coverage=rated())
    blob_9 = replace(base.blobs[1], uncertainty_m=0.4)
    return replace(base, blobs=(uncertain(base.blobs[0], uncertainty_m), blob_9))


def test_an_ambiguous_blob_is_drawn_as_uncertain_and_says_why(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())
    confident_alpha = view.blob_item.color[:, 3].copy()

    view.set_snapshot(with_uncertain_blob(0.9))
    alpha = view.blob_item.color[:, 3]
    assert alpha[0] < confident_alpha[1] < confident_alpha[0]  # fainter than coasting
    assert alpha[1] == pytest.approx(confident_alpha[1])  # the confident blob as before
    # One ring, round blob 7 only, as wide as the layout's error there.
    assert view.ring_item.visible()
    ring = np.asarray(view.ring_item.pos, np.float64)
    offsets = ring - np.array(HOT_SPOT)
    np.testing.assert_allclose(np.hypot(offsets[:, 0], offsets[:, 1]), 0.9, atol=1e-5)
    np.testing.assert_allclose(offsets[:, 2], 0.0, atol=1e-6)
    labels = [item.text for item in view.blob_labels if item.visible()]
    assert labels == ["#7 (uncertain)", "#9"]

    x, y = np.round(view.project([HOT_SPOT])[0]).astype(int)
    tooltip = view.blob_tooltip_at(x, y)
    assert tooltip == (
        "Blob #7, tracked, uncertain: the layout may place this person up to 0.9 m off; "
        "it may be a reflection of crossing links"
    )
    assert machine_text(tooltip) is None
    x9, y9 = np.round(view.project([(1.0, 4.0, 1.0)])[0]).astype(int)
    assert "uncertain" not in (view.blob_tooltip_at(x9, y9) or "")

    view.set_snapshot(with_uncertain_blob(None))  # no figure for where it is
    assert "cannot say how far off" in (view.blob_tooltip_at(x, y) or "")
    ring = np.asarray(view.ring_item.pos, np.float64) - np.array(HOT_SPOT)
    np.testing.assert_allclose(np.hypot(ring[:, 0], ring[:, 1]), 0.6 * BLOB_SIZE_M, atol=1e-5)

    view.set_snapshot(snapshot())  # placed now: as confident as any
    assert not view.ring_item.visible()
    assert [item.text for item in view.blob_labels if item.visible()] == ["#7", "#9"]


def test_the_uncertain_ring_is_drawn_round_the_blob(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot(blobs=()))
    ring_point = (HOT_SPOT[0], HOT_SPOT[1] - 0.9, HOT_SPOT[2])
    before = floor_colour_at(view, ring_point)
    view.set_snapshot(replace(with_uncertain_blob(0.9), voxels=None))
    after = floor_colour_at(view, ring_point)
    assert after[2] > before[2] + 60 and after[1] > before[1] + 60  # the blob's cyan


def floor_colour_at(view: SensingView3D, point: tuple[float, float, float]) -> npt.NDArray:
    px, py = np.round(view.project([point])[0]).astype(int)
    patch = framebuffer(view).astype(np.float64)[py - 1 : py + 2, px - 1 : px + 2]
    return np.asarray(patch.reshape(-1, 3).max(axis=0))


def test_the_blob_table_says_which_blob_is_uncertain(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot)
    pane.set_snapshot(with_uncertain_blob(0.9))
    model = pane.blob_table.blob_model
    blobs = [model.row(r) for r in range(2)]
    assert model.index(0, BlobColumn.BLOB).data() == f"#{blobs[0].track_id} uncertain"
    assert model.index(1, BlobColumn.BLOB).data() == f"#{blobs[1].track_id} coasting"
    assert "reflection of crossing links" in model.index(0, BlobColumn.BLOB).data(
        Qt.ItemDataRole.ToolTipRole
    )
