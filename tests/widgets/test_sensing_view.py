"""WiFi-sensing 3D view, explanation and node health tables, and the pane, drawn for real
(OpenGL under Xvfb) from hand-built snapshots of a 5 × 5 × 2.5 m room."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetrics, QImage, QVector3D
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolTip,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from console.app import apply_theme
from engine.sensing.grid.fresnel import fresnel_ellipsoid
from engine.sensing.view import (
    BlobExplanation,
    BlobIdentity,
    BlobView,
    LinkShareView,
    LinkView,
    NodeView,
    SensingSnapshot,
    VoxelView,
)
from widgets.sensing.view import (
    DASH_PIECES,
    DEFAULT_VOXEL_PEAK_FRACTION,
    DEFAULT_VOXEL_THRESHOLD,
    MAX_ELLIPSOIDS,
    NO_ROOM_TEXT,
    NODE_SIZE_PX,
    PAIRING_SECONDS,
    BlobColumn,
    BlobExplanationTable,
    NodeColumn,
    NodeHealthTable,
    SensingPane,
    SensingView3D,
    percentages,
)

# pyqtgraph reports a GL error while drawing an item as a RuntimeWarning and carries on
# drawing the rest: here it fails the test.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

WAVELENGTH_M = 0.123  # 2.4 GHz WiFi, channel 6
ROOM = (5.0, 5.0, 2.5)
POSITIONS = {
    "n1": (0.0, 0.0, 1.0),
    "n2": (5.0, 0.0, 1.0),
    "n3": (5.0, 5.0, 1.0),
    "n4": (0.0, 5.0, 1.0),
}
HOT_SPOT = (2.5, 2.5, 1.0)
BLOB_RGB = (26, 217, 255)  # BLOB_RGBA as 8-bit


def nodes() -> tuple[NodeView, ...]:
    return (
        NodeView(
            "n1",
            "north-west",
            "aa:bb:cc:00:00:01",
            POSITIONS["n1"],
            True,
            role="tx-rx",
            frame_rate_hz=20.0,
            wifi_rssi_dbm=-52,
            free_heap_bytes=180_224,
            seconds_since_seen=0.1,
        ),
        NodeView(
            "n2",
            "north-east",
            "aa:bb:cc:00:00:02",
            POSITIONS["n2"],
            True,
            role="rx",
            frame_rate_hz=19.5,
            malformed=3,
            seconds_since_seen=0.2,
        ),
        NodeView(
            "n3",
            "south-east",
            "aa:bb:cc:00:00:03",
            POSITIONS["n3"],
            True,
            role="rx",
            frame_rate_hz=20.0,
            protocol_errors=1,
            seconds_since_seen=0.1,
        ),
        NodeView(
            "n4",
            "south-west",
            None,
            POSITIONS["n4"],
            False,
            offline_reason="no frames for 30 s",
            seconds_since_seen=30.0,
        ),
    )


def links(moving: float = 0.08) -> tuple[LinkView, ...]:
    return (
        LinkView("n1", "n3", moving, True),  # the diagonal through the hot spot
        LinkView("n2", "n4", 0.05, True),  # the other diagonal; n4 is offline
        LinkView("n1", "n2", 0.004, False),
        LinkView("n2", "n3", 0.003, False, degraded=True),
        LinkView("n3", "n4", 0.002, False),
        LinkView("n4", "n1", 0.001, False),
    )


def voxels() -> VoxelView:
    """0.25 m voxels; a 3 × 3 × 3 hot block around the room's centre (peak 0.12, rim 0.05)
    over noise below the 0.02 threshold and a haze above it but under 40 % of the peak."""
    shape = (20, 20, 10)
    values = np.full(shape[::-1], 0.01, np.float32)  # (z, y, x): x fastest when flattened
    values[2:6, 0:8, :] = 0.03  # many weakly active links
    values[3:6, 9:12, 9:12] = 0.05
    values[4, 10, 10] = 0.12
    return VoxelView((0.0, 0.0, 0.0), 0.25, shape, values.ravel())


def snapshot(simulated: bool = False, room_id: str = "lab", **changes: object) -> SensingSnapshot:
    base = SensingSnapshot(
        room_id=room_id,
        room_name="Lab" if room_id == "lab" else room_id.title(),
        room_size=ROOM,
        simulated=simulated,
        t_s=12.5,
        nodes=nodes(),
        links=links(),
        blobs=(
            BlobView(
                7,
                HOT_SPOT,
                (0.3, 0.0, 0.0),
                0.12,
                False,
                trail=((1.9, 2.5, 1.0), (2.1, 2.5, 1.0), (2.3, 2.5, 1.0)),
            ),
            BlobView(9, (1.0, 4.0, 1.0), (0.0, 0.0, 0.0), 0.05, True),
        ),
        voxels=voxels(),
        channel=6,
        wavelength_m=WAVELENGTH_M,
        tick_ms=3.4,
        pairing_open_s=0.0,
        truth=((2.4, 2.6, 1.0),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


ALICE_RGB = (0, 158, 115)  # "#009E73", the palette's green: no other item is drawn in it
ALICE = BlobIdentity(
    address="AA:BB:CC:DD:EE:01",
    label="Alice's phone",
    name="Alice",
    person_id="Person_A1A1A1A1",
    colour="#009E73",
    score=0.82,
    since_s=4.5,
)


def named_snapshot(**changes: object) -> SensingSnapshot:
    """The usual snapshot with blob 7 named Alice by her phone; blob 9 stays unnamed."""
    base = snapshot(**changes)
    return replace(base, blobs=(replace(base.blobs[0], identity=ALICE), base.blobs[1]))


def explanation(
    shares: tuple[float, ...] = (0.5, 0.3, 0.2), room_id: str = "lab"
) -> BlobExplanation:
    pairs = [("n1", "n3"), ("n2", "n4"), ("n1", "n2"), ("n2", "n3"), ("n3", "n4"), ("n4", "n1")]
    rows = []
    for i, share in enumerate(shares):
        a, b = pairs[i % len(pairs)]
        zone = 1 + i % 3
        rows.append(
            LinkShareView(
                a,
                b,
                share,
                zone,
                1.0 / zone**2,
                0.08,
                fresnel_ellipsoid(POSITIONS[a], POSITIONS[b], WAVELENGTH_M, zone),
            )
        )
    return BlobExplanation(room_id, 7, 12.5, HOT_SPOT, 0.12, tuple(rows))


def shown_view(qtbot: QtBot) -> SensingView3D:
    view = SensingView3D()
    qtbot.addWidget(view)
    view.resize(640, 480)
    with qtbot.waitExposed(view):
        view.show()
    assert view.gl_view is not None, view.gl_error
    # The GL window is a native window of its own, shown a turn of the event loop after
    # the view and drawn once the X server maps it.
    qtbot.waitUntil(lambda: view.gl_view is not None and view.gl_view.isValid())
    return view


def framebuffer(view: SensingView3D) -> npt.NDArray[np.uint8]:
    image = view.gl_view.render_now().convertToFormat(QImage.Format.Format_RGBA8888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3].copy()


def link_vertex_colours(view: SensingView3D) -> npt.NDArray[np.float32]:
    """(links, pieces · 2, RGBA) as drawn."""
    return np.asarray(view.link_item.color).reshape(-1, DASH_PIECES * 2, 4)


# -- the 3D view ----------------------------------------------------------------------------


def test_a_low_node_s_name_hangs_below_it_and_a_high_one_s_above(qtbot: QtBot) -> None:
    # Advised layouts alternate skirting and above-head nodes: side by side on one wall, their
    # names above both ran together on one line.
    view = shown_view(qtbot)
    base = snapshot()
    heights = (0.15, 1.9, 0.15, 1.9)
    nodes = tuple(
        replace(node, position=(*node.position[:2], z))
        for node, z in zip(base.nodes, heights, strict=True)
    )
    view.set_snapshot(replace(base, nodes=nodes))
    for node, label in zip(nodes, view.node_labels, strict=False):
        label_z = float(np.asarray(label.pos)[2])
        if node.position[2] < 0.5:
            assert label_z < node.position[2] - 0.2
        else:
            assert label_z > node.position[2]


def test_no_node_s_dot_covers_the_first_letter_of_its_name(qtbot: QtBot) -> None:
    # At 1400 × 860 the demo room (12 × 9 m) is drawn about 370 px wide, and its skirting
    # nodes' dots covered their names' first letters ("SW corner" read "W corner"): on
    # screen, each name's text box lies clear of its dot.
    view = shown_view(qtbot)
    view.resize(370, 260)
    qtbot.waitUntil(lambda: view.gl_view is not None and view.gl_view.width() <= 370)
    base = snapshot()
    places = (
        ("SW corner", (0.1, 0.1, 0.15)),
        ("West mid", (0.1, 4.22, 1.9)),
        ("NE corner", (11.9, 8.9, 1.9)),
        ("East mid", (11.9, 4.78, 0.15)),
    )
    nodes = tuple(
        replace(node, name=name, position=position)
        for node, (name, position) in zip(base.nodes, places, strict=True)
    )
    view.set_snapshot(replace(base, room_size=(12.0, 9.0, 3.0), nodes=nodes, voxels=None))
    view.gl_view.render_now()
    for node, label in zip(nodes, view.node_labels, strict=False):
        project = label.compute_projection()
        dot = project.map(QVector3D(*node.position)).toPointF()
        origin = label.align_text(project.map(QVector3D(*np.asarray(label.pos))).toPointF())
        box = QRectF(QFontMetrics(label.font).tightBoundingRect(label.text)).translated(origin)
        nearest = QPointF(
            min(max(dot.x(), box.left()), box.right()), min(max(dot.y(), box.top()), box.bottom())
        )
        gap = math.hypot(nearest.x() - dot.x(), nearest.y() - dot.y())
        assert gap >= NODE_SIZE_PX / 2.0, (label.text, gap)


def test_set_snapshot_fills_the_gl_items_from_the_snapshot(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())

    np.testing.assert_allclose(view.node_item.pos, np.array(list(POSITIONS.values())))
    labels = [item.text for item in view.node_labels if item.visible()]
    assert labels == ["north-west", "north-east", "south-east", "south-west (offline)"]

    # Exactly the voxels above the threshold and 40 % of the peak: the 27 of the hot block,
    # not the haze, at their centres, sized to the voxel edge, more opaque toward the peak.
    block = voxels()
    threshold = max(DEFAULT_VOXEL_THRESHOLD, DEFAULT_VOXEL_PEAK_FRACTION * 0.12)
    assert view.drawn_voxel_threshold == pytest.approx(threshold)
    above = int((block.values > threshold).sum())
    assert above == 27 and (block.values > DEFAULT_VOXEL_THRESHOLD).sum() > 27 * 10
    assert view.voxel_item.visible() and view.voxel_item.pos.shape == (above, 3)
    centres, values = block.centres_above(threshold)
    np.testing.assert_allclose(view.voxel_item.pos, centres, atol=1e-6)
    assert view.voxel_item.size == pytest.approx(0.25) and view.voxel_item.pxMode is False
    alpha = view.voxel_item.color[:, 3]
    assert alpha[np.argmax(values)] > alpha[np.argmin(values)]

    # Links: 6 links of dashed pieces; the moving one is orange-red, the quiet one grey.
    colours = link_vertex_colours(view)
    assert colours.shape == (6, DASH_PIECES * 2, 4)
    moving, quiet = colours[0, 0], colours[2, 0]
    assert moving[0] > 0.9 and moving[2] < 0.3  # red-orange
    assert abs(quiet[0] - quiet[2]) < 0.1  # grey
    assert not np.allclose(moving, quiet)
    # An offline end (n2–n4) or a degraded link (n2–n3) is dashed: every other piece a gap.
    for dashed in (1, 3, 4, 5):
        assert (colours[dashed, 2:4, 3] == 0.0).all() and (colours[dashed, 0:2, 3] > 0).all()
    assert (colours[0, :, 3] > 0).all() and (colours[2, :, 3] > 0).all()  # solid

    # Blobs: two, the coasting one fainter; a trail for the one that moved; ids as labels.
    np.testing.assert_allclose(view.blob_item.pos, [HOT_SPOT, (1.0, 4.0, 1.0)])
    assert view.blob_item.color[1, 3] < view.blob_item.color[0, 3]
    assert view.trail_item.visible() and view.trail_item.pos.shape == (6, 3)  # 3 segments
    assert [item.text for item in view.blob_labels if item.visible()] == ["#7", "#9"]
    np.testing.assert_allclose(view.truth_item.pos, [(2.4, 2.6, 1.0)])


def test_a_moving_link_gets_redder_and_items_are_reused_between_ticks(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())
    items_before = list(view.gl_view.items)
    first = link_vertex_colours(view)[0, 0].copy()

    view.set_snapshot(snapshot(links=links(moving=0.2), blobs=()))
    assert view.gl_view.items == items_before  # no item created or removed
    redder = link_vertex_colours(view)[0, 0]
    assert redder[1] < first[1]  # less green: from orange toward red
    assert not view.blob_item.visible()
    assert not any(item.visible() for item in view.blob_labels)

    quiet = np.zeros(20 * 20 * 10, np.float32)
    view.set_snapshot(snapshot(voxels=VoxelView((0.0, 0.0, 0.0), 0.25, (20, 20, 10), quiet)))
    assert view.voxel_item.pos.shape == (0, 3) and not view.voxel_item.visible()


def test_the_voxel_threshold_can_be_changed(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())
    view.set_voxel_threshold(0.1)
    assert view.voxel_item.pos.shape == (1, 3)  # only the peak
    view.set_voxel_threshold(0.02, peak_fraction=0.0)  # the haze too
    assert view.voxel_item.pos.shape == (int((voxels().values > 0.02).sum()), 3)


def test_clicking_a_blob_emits_its_id_and_clicking_elsewhere_nothing(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())
    x, y = view.project([(1.0, 4.0, 1.0)])[0]
    assert 0 < x < view.gl_view.width() and 0 < y < view.gl_view.height()

    with qtbot.waitSignal(view.sig_blob_clicked, timeout=2000) as clicked:
        qtbot.mouseClick(view.gl_view, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    assert clicked.args == ["lab", 9]

    # A few pixels off still picks it; the other blob's own position picks the other one.
    x7, y7 = view.project([HOT_SPOT])[0]
    with qtbot.waitSignal(view.sig_blob_clicked, timeout=2000) as clicked:
        qtbot.mouseClick(
            view.gl_view, Qt.MouseButton.LeftButton, pos=QPoint(round(x7) + 6, round(y7) - 5)
        )
    assert clicked.args == ["lab", 7]

    with qtbot.assertNotEmitted(view.sig_blob_clicked, wait=100):
        qtbot.mouseClick(view.gl_view, Qt.MouseButton.LeftButton, pos=QPoint(8, 8))


def test_the_rendered_frame_shows_the_blob_where_picking_expects_it(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())
    pixels = framebuffer(view).astype(np.int32)
    assert pixels.std() > 5.0  # not a blank frame

    # Blob 7 (not coasting: drawn opaque) covers its projected centre, over the voxels and
    # the link through it; coasting blob 9 is drawn see-through, so fainter.
    x, y = np.round(view.project([HOT_SPOT])[0]).astype(int)
    patch = pixels[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3)
    near_blob_colour = np.abs(patch - np.array(BLOB_RGB)).max(axis=1) < 40
    assert near_blob_colour.mean() > 0.6, patch
    x9, y9 = np.round(view.project([(1.0, 4.0, 1.0)])[0]).astype(int)
    faint = np.median(pixels[y9 - 2 : y9 + 3, x9 - 2 : x9 + 3].reshape(-1, 3), axis=0)
    assert faint[2] > faint[0] + 60 and faint[2] < BLOB_RGB[2] - 60, faint
    # The blob's colour is nowhere in a corner of the room far from any blob.
    cx, cy = np.round(view.project([(5.0, 0.0, 0.0)])[0]).astype(int)
    corner = pixels[cy - 3 : cy + 4, cx - 3 : cx + 4].reshape(-1, 3)
    assert not (np.abs(corner - np.array(BLOB_RGB)).max(axis=1) < 60).any()


def blob_is_drawn(view: SensingView3D) -> bool:
    x, y = np.round(view.project([HOT_SPOT])[0]).astype(int)
    patch = framebuffer(view).astype(np.int32)[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3)
    return bool((np.abs(patch - np.array(BLOB_RGB)).max(axis=1) < 40).all())


def magenta_pixels(view: SensingView3D) -> int:
    """Pixels tinted by the explanation's magenta (ellipsoids and links)."""
    r, g, b = np.moveaxis(framebuffer(view).astype(np.int32), -1, 0)
    return int(((r > 120) & (b > 120) & (g < r - 60)).sum())


def test_two_views_and_a_view_moved_to_another_window_all_draw(qtbot: QtBot) -> None:
    # Each top-level window has its own GL context; pyqtgraph caches its shader programs
    # for one. Both views draw, and a view moved into another window (a dock floated out)
    # gets a new context and draws its last snapshot and explanation again.
    first, second = shown_view(qtbot), shown_view(qtbot)
    first.set_snapshot(snapshot())
    second.set_snapshot(snapshot())
    assert blob_is_drawn(first) and blob_is_drawn(second) and blob_is_drawn(first)
    assert magenta_pixels(second) == 0
    second.set_explanation(explanation())
    assert magenta_pixels(second) > 2000 and magenta_pixels(first) == 0

    first.set_explanation(explanation())
    window = QWidget()
    qtbot.addWidget(window)
    QVBoxLayout(window).addWidget(first)
    window.resize(640, 480)
    with qtbot.waitExposed(window):
        window.show()
    assert first.gl_view is not None and len(first.visible_ellipsoids()) == 3
    assert magenta_pixels(first) > 2000
    first.set_explanation(None)
    assert blob_is_drawn(first) and magenta_pixels(second) > 2000
    first.setParent(None)  # qtbot closes it, and the window, on its own


def test_a_new_context_brings_its_scene_in_one_kind_of_item_per_frame(qtbot: QtBot) -> None:
    # A fresh context's one-off costs (creating it; each kind of item's first draw, when
    # llvmpipe compiles that shader's machine code) come one per frame, not all in the
    # first one (a 60-90 ms stall at a login); the scene completes on its own.
    view = SensingView3D()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.set_snapshot(snapshot())
    view.set_explanation(explanation())
    gl_view = view.gl_view
    assert gl_view is not None, view.gl_error
    frames: list[set[str]] = [set()]
    for item in gl_view.items:
        kind, paint = type(item).__name__, item.paint

        def recording(kind: str = kind, paint: Callable[[], None] = paint) -> None:
            frames[-1].add(kind)
            paint()

        item.paint = recording
    gl_view.frameSwapped.connect(lambda: frames.append(set()))
    kinds = {type(item).__name__ for item in gl_view.items if item.visible()}
    assert kinds == {"GLLinePlotItem", "GLScatterPlotItem", "OffsetTextItem", "GLMeshItem"}
    with qtbot.waitExposed(view):
        view.show()
    qtbot.waitUntil(lambda: set().union(*frames) == kinds)

    drawn = [frame for frame in frames if frame or frame is frames[0]]
    assert drawn[0] == set()  # the context's first frame: the background alone
    for before, after in pairwise(drawn):
        assert before <= after and len(after - before) <= 1, (before, after)
    assert magenta_pixels(view) > 2000  # render_now draws every kind at once, as before


def test_the_simulated_banner_shows_only_for_simulated_csi(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot(simulated=True))
    assert view.banner.isVisible() and view.banner.text() == "SIMULATED"
    view.set_snapshot(snapshot(simulated=False))
    assert not view.banner.isVisible()


def test_an_explanation_draws_one_ellipsoid_per_link_and_none_clears(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())
    explained = explanation()
    view.set_explanation(explained)
    drawn = view.visible_ellipsoids()
    assert len(drawn) == 3
    assert view.explained_link_item.visible() and view.explained_link_item.pos.shape == (6, 3)
    # Each mesh is the unit sphere taken onto its ellipsoid: the tip of the semi-major axis
    # and the rim of the semi-minor one land where the ellipsoid says.
    for item, share in zip(drawn, explained.shares, strict=True):
        e = share.ellipsoid
        centre, axis = np.array(e.centre), np.array(e.axis)
        tip = item.transform().map(QVector3D(1.0, 0.0, 0.0))
        np.testing.assert_allclose(
            [tip.x(), tip.y(), tip.z()], centre + e.semi_major_m * axis, atol=1e-4
        )
        rim = item.transform().map(QVector3D(0.0, 0.0, 1.0))
        assert np.linalg.norm(np.array([rim.x(), rim.y(), rim.z()]) - centre) == pytest.approx(
            e.semi_minor_m, abs=1e-4
        )
    assert drawn[0].opts["color"][3] > drawn[2].opts["color"][3]  # the larger share stronger
    items = list(view.gl_view.items)

    view.set_explanation(explanation(shares=(0.6, 0.4)))
    assert len(view.visible_ellipsoids()) == 2 and view.gl_view.items == items  # reused

    view.set_explanation(explanation(shares=(0.1,) * 10))
    assert len(view.visible_ellipsoids()) == MAX_ELLIPSOIDS

    view.set_explanation(None)
    assert view.visible_ellipsoids() == [] and not view.explained_link_item.visible()


def test_a_new_room_clears_the_old_rooms_explanation(qtbot: QtBot) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())
    view.set_explanation(explanation())
    view.set_snapshot(snapshot(room_id="store"))
    assert view.explanation is None and view.visible_ellipsoids() == []


# -- tables ---------------------------------------------------------------------------------


def test_the_explanation_table_lists_links_with_shares_adding_up_to_100(qtbot: QtBot) -> None:
    table = BlobExplanationTable()
    qtbot.addWidget(table)
    names = {n.node_id: n.name for n in nodes()}
    table.set_explanation(explanation(shares=(1 / 3, 1 / 3, 1 / 3)), names)
    model = table.explanation_model
    assert model.rowCount() == 3
    cells = [[model.index(r, c).data() for c in range(5)] for r in range(3)]
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "Link",
        "Share",
        "Zone",
        "Weight",
        "Activation",
    ]
    assert cells[0] == ["north-west–south-east", "33.4 %", "1", "1.000", "0.080"]
    assert cells[1][0] == "north-east–south-west" and cells[1][2:4] == ["2", "0.250"]
    shown = [float(row[1].removesuffix(" %")) for row in cells]
    assert sum(shown) == pytest.approx(100.0)

    table.set_explanation(None)
    assert model.rowCount() == 0


@pytest.mark.parametrize(
    "shares", [(0.5, 0.3, 0.2), (1 / 3,) * 3, (0.7, 0.2, 0.05, 0.03, 0.02), (1 / 7,) * 7]
)
def test_percentages_add_up_to_exactly_100(shares: tuple[float, ...]) -> None:
    shown = percentages(shares)
    assert round(sum(shown), 6) == 100.0
    assert all(
        abs(p - 100 * s / sum(shares)) <= 0.1 + 1e-9 for p, s in zip(shown, shares, strict=True)
    )


def test_the_node_table_shows_health_and_highlights_the_offline_node(qtbot: QtBot) -> None:
    table = NodeHealthTable()
    qtbot.addWidget(table)
    table.set_snapshot(snapshot())
    model = table.health_model
    assert model.rowCount() == 4

    def cell(row: int, column: NodeColumn) -> str:
        return str(model.index(row, column).data())

    assert cell(0, NodeColumn.NAME) == "north-west"
    assert cell(0, NodeColumn.MAC) == "aa:bb:cc:00:00:01"
    assert cell(0, NodeColumn.STATUS) == "online" and cell(0, NodeColumn.ROLE) == "tx-rx"
    assert cell(0, NodeColumn.FRAME_RATE) == "20.0" and cell(0, NodeColumn.RSSI) == "-52 dBm"
    assert cell(0, NodeColumn.FREE_HEAP) == "176 KiB"
    assert cell(0, NodeColumn.LAST_SEEN) == "0.1 s ago"
    assert cell(1, NodeColumn.MALFORMED) == "3" and cell(2, NodeColumn.PROTOCOL_ERRORS) == "1"
    assert cell(3, NodeColumn.STATUS) == "offline: no frames for 30 s"
    assert cell(3, NodeColumn.MAC) == "not yet connected"

    background = Qt.ItemDataRole.BackgroundRole
    assert all(model.index(3, c).data(background) is not None for c in range(len(NodeColumn)))
    assert model.index(0, NodeColumn.NAME).data(background) is None
    # The degraded n2–n3 link is named on both its nodes' rows and flagged.
    assert cell(1, NodeColumn.DEGRADED_LINKS) == "south-east"
    assert cell(2, NodeColumn.DEGRADED_LINKS) == "north-east"
    assert model.index(1, NodeColumn.DEGRADED_LINKS).data(background) is not None
    assert model.degraded_links == ["north-east–south-east"]

    # The next tick with the same nodes updates rows in place: the selection stays.
    table.selectRow(2)
    back_online = replace(nodes()[3], online=True, offline_reason=None, seconds_since_seen=0.3)
    table.set_snapshot(snapshot(nodes=(*nodes()[:3], back_online), links=links()[:3]))
    assert table.selectionModel().selectedRows()[0].row() == 2
    assert cell(3, NodeColumn.STATUS) == "online"
    assert model.index(3, NodeColumn.NAME).data(background) is None
    assert model.degraded_links == []


# -- the pane -------------------------------------------------------------------------------


def shown_pane(qtbot: QtBot) -> SensingPane:
    pane = SensingPane()
    qtbot.addWidget(pane)
    pane.resize(1200, 600)
    with qtbot.waitExposed(pane):
        pane.show()
    return pane


def test_the_pane_routes_snapshots_explanations_and_clicks(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot)
    pane.set_rooms([("lab", "Lab")])
    assert pane.has_rooms() and not pane.room_combo.isVisible()  # one room: no selector
    pane.set_snapshot(snapshot(simulated=True, pairing_open_s=87.2))
    assert pane.view.snapshot is not None and pane.view.banner.isVisible()
    status = pane.status_label.text()
    assert "room worked out in 3.4 ms" in status and "fusion" not in status
    assert "at most 2 people at once (2 blobs)" in status  # people, not blobs
    assert "3/4 nodes online" in status and "simulated" in status
    assert pane.pairing_label.text() == "Pairing open: 88 s left"
    assert pane.node_table.health_model.rowCount() == 4
    assert pane.degraded_label.isVisible() and "north-east–south-east" in pane.degraded_label.text()

    qtbot.waitUntil(lambda: pane.view.gl_view is not None and pane.view.gl_view.isValid())
    x, y = pane.view.project([HOT_SPOT])[0]
    with qtbot.waitSignal(pane.sig_blob_clicked, timeout=2000) as clicked:
        qtbot.mouseClick(
            pane.view.gl_view, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y))
        )
    assert clicked.args == ["lab", 7]

    pane.set_explanation(explanation())
    assert len(pane.view.visible_ellipsoids()) == 3
    assert pane.explanation_table.explanation_model.rowCount() == 3
    assert "Blob #7" in pane.explanation_label.text()
    pane.set_explanation(explanation(room_id="elsewhere"))  # stale: another room's
    assert pane.explanation_table.explanation_model.rowCount() == 3
    pane.set_explanation(None)
    assert pane.explanation_table.explanation_model.rowCount() == 0
    assert pane.view.visible_ellipsoids() == []

    pane.set_snapshot(snapshot(pairing_open_s=0.0))
    assert pane.pairing_label.text() == "Pairing closed" and not pane.view.banner.isVisible()


def test_the_room_goes_above_its_tables_where_that_draws_it_larger(qtbot: QtBot) -> None:
    """Side by side, a narrow tall pane (a person dragged the dock so) gave the 3D room a
    strip about 200 px wide; the room now goes above the tables where that gives the view the
    larger smaller side, and beside them where the pane is wide or short."""
    pane = shown_pane(qtbot)  # 1200 × 600: beside
    pane.set_rooms([("lab", "Lab")])
    pane.set_snapshot(snapshot())
    assert pane.view.x() == 0 and pane.view.width() > 0.5 * pane.width()
    assert pane.node_table.mapTo(pane, QPoint(0, 0)).x() > pane.view.width()

    pane.resize(500, 900)  # narrow and tall: above, at the pane's whole width
    qtbot.waitUntil(lambda: pane.view.width() >= 0.95 * pane.width())
    view_bottom = pane.view.mapTo(pane, QPoint(0, 0)).y() + pane.view.height()
    assert pane.node_table.mapTo(pane, QPoint(0, 0)).y() >= view_bottom - 1
    assert min(pane.view.width(), pane.view.height()) >= 450

    pane.resize(620, 380)  # the operator's tab at 1400 × 860: beside
    qtbot.waitUntil(lambda: pane.node_table.mapTo(pane, QPoint(0, 0)).x() >= pane.view.width())
    assert pane.view.width() >= 300


def test_pairing_is_requested_only_when_allowed(qtbot: QtBot) -> None:
    pane = SensingPane()
    qtbot.addWidget(pane)
    pane.set_rooms([("room", "Lab sensing")])
    assert not pane.pairing_button.isEnabled()  # not until the console says an admin is here
    with qtbot.assertNotEmitted(pane.sig_pairing_requested, wait=50):
        pane.pairing_button.click()
    pane.set_pairing_allowed(True)
    assert pane.pairing_button.text() == "Open pairing for 120 s"
    with qtbot.waitSignal(pane.sig_pairing_requested, timeout=1000) as requested:
        pane.pairing_button.click()
    assert requested.args == ["room", PAIRING_SECONDS]
    pane.set_pairing_allowed(False, "Only an admin can pair sensing nodes")
    assert not pane.pairing_button.isEnabled()
    assert pane.pairing_button.toolTip() == "Only an admin can pair sensing nodes"


def test_no_sensing_room_shows_how_to_add_one(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot)
    pane.set_rooms([])
    assert not pane.has_rooms()
    assert pane.no_room_label.isVisible() and pane.no_room_label.text() == NO_ROOM_TEXT
    assert not pane.view.isVisible()
    pane.set_rooms([("lab", "Lab")])
    assert pane.has_rooms() and pane.view.isVisible()


def test_the_room_selector_switches_rooms(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot)
    pane.set_rooms([("lab", "Lab"), ("store", "Store")])
    assert pane.room_combo.isVisible() and pane.current_room_id == "lab"
    pane.set_snapshot(snapshot())
    pane.set_snapshot(snapshot(room_id="store", blobs=(), simulated=True))
    assert pane.view.snapshot is not None and pane.view.snapshot.room_id == "lab"  # selected
    pane.set_explanation(explanation())

    with qtbot.waitSignal(pane.sig_room_selected, timeout=1000) as selected:
        pane.room_combo.setCurrentIndex(1)
    assert selected.args == ["store"]
    assert pane.view.snapshot is not None and pane.view.snapshot.room_id == "store"
    assert pane.view.visible_ellipsoids() == []  # the lab's explanation is gone
    assert "nobody sensed" in pane.status_label.text()

    pane.set_rooms([("store", "Store")])  # the lab went away: the store stays selected
    assert pane.current_room_id == "store" and not pane.room_combo.isVisible()


# -- without OpenGL -------------------------------------------------------------------------


def test_without_opengl_the_pane_says_so_and_the_tables_still_work(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_gl() -> object:
        raise ImportError("libGL.so.1: cannot open shared object file")

    monkeypatch.setattr("widgets.sensing.view._opengl", no_gl)
    pane = shown_pane(qtbot)
    view = pane.view
    assert view.gl_view is None and view.error_label.isVisible()
    assert "needs OpenGL" in view.error_label.text() and "libGL.so.1" in view.error_label.text()

    pane.set_rooms([("lab", "Lab")])
    pane.set_snapshot(snapshot(simulated=True))
    pane.set_explanation(explanation())
    assert view.banner.isVisible()
    assert pane.node_table.health_model.rowCount() == 4
    assert pane.explanation_table.explanation_model.rowCount() == 3
    assert view.blob_at(10, 10) is None


def test_a_gl_failure_at_first_paint_is_shown_not_raised(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyqtgraph.opengl.GLViewWidget import GLViewMixin

    def too_old(self: object) -> None:
        raise RuntimeError("pyqtgraph.opengl: Requires >= OpenGL 2.1; Found 1.4")

    monkeypatch.setattr(GLViewMixin, "initializeGL", too_old)
    view = SensingView3D()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitUntil(lambda: view.gl_view is None, timeout=3000)
    assert view.error_label.isVisible() and "Requires >= OpenGL 2.1" in view.error_label.text()
    view.set_snapshot(snapshot())  # still safe
    view.set_explanation(explanation())


# -- names on blobs -------------------------------------------------------------------------


def test_a_named_blob_is_drawn_in_its_persons_colour_and_labelled_with_their_name(
    qtbot: QtBot,
) -> None:
    view = shown_view(qtbot)
    view.set_snapshot(named_snapshot())
    labels = [item for item in view.blob_labels if item.visible()]
    assert [item.text for item in labels] == ["Alice", "#9"]  # the unnamed one keeps its id
    assert labels[0].color.name().upper() == "#009E73"
    assert labels[1].color.getRgb()[:3] == BLOB_RGB
    np.testing.assert_allclose(view.blob_item.color[0, :3], np.array(ALICE_RGB) / 255, atol=1e-6)
    np.testing.assert_allclose(view.blob_item.color[1, :3], np.array(BLOB_RGB) / 255, atol=0.01)
    trail = np.asarray(view.trail_item.color)  # blob 7's trail, in her colour too
    assert trail.shape == (6, 4)
    np.testing.assert_allclose(trail[:, :3], np.tile(np.array(ALICE_RGB) / 255, (6, 1)), atol=1e-6)

    # Drawn for real: her colour covers the blob's centre, cyan is not there any more.
    x, y = np.round(view.project([HOT_SPOT])[0]).astype(int)
    patch = framebuffer(view).astype(np.int32)[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3)
    assert (np.abs(patch - np.array(ALICE_RGB)).max(axis=1) < 40).mean() > 0.6, patch
    assert not (np.abs(patch - np.array(BLOB_RGB)).max(axis=1) < 40).any()

    # Hovering says who it is; away from blobs, nothing.
    tip = view.blob_tooltip_at(x, y)
    assert tip is not None and "Alice (Person_A1A1A1A1)" in tip and "0.82" in tip
    assert "Alice's phone" in tip and "named for 8 s" in tip  # t_s 12.5 − since 4.5
    assert view.blob_tooltip_at(8, 8) is None

    # The name goes with the identity: the next tick without it draws the plain blob again.
    view.set_snapshot(snapshot())
    assert [item.text for item in view.blob_labels if item.visible()] == ["#7", "#9"]
    assert blob_is_drawn(view)


def test_a_blob_s_name_sits_on_a_dark_plate_readable_over_the_voxels_around_it(
    qtbot: QtBot,
) -> None:
    """A blob's name is drawn over the voxel cloud of its person, often in a colour close to
    the cloud's (Walker 1's orange over orange voxels in the walkthrough): without an
    outline GL text vanished into it. It now sits on a plate of the background's colour."""
    view = shown_view(qtbot)
    grid = voxels()
    everywhere = np.full(grid.values.shape, 0.12, np.float32)  # the label is over the cloud
    view.set_voxel_threshold(0.02, 0.0)
    view.set_snapshot(named_snapshot(voxels=replace(grid, values=everywhere)))
    (label,) = [item for item in view.blob_labels if item.visible() and item.text == "Alice"]
    assert label.plate is not None
    x, y = view.project([label.pos])[0]
    rect = label.plate_rect(label.align_text(QPointF(x, y))).toAlignedRect()
    assert rect.width() > 20 and rect.height() > 8
    frame = framebuffer(view).astype(np.int32)
    patch = frame[rect.top() + 1 : rect.bottom(), rect.left() + 1 : rect.right()].reshape(-1, 3)
    text = np.abs(patch - np.array(ALICE_RGB)).max(axis=1) < 60
    assert text.mean() > 0.05, "the name is not drawn in her colour"
    luminance = patch[~text] @ np.array([0.2126, 0.7152, 0.0722])
    # Around the letters: dark (the plate, the letters' antialiased edges), not voxels.
    assert (luminance < 70).mean() > 0.9, np.percentile(luminance, [10, 50, 90])


def test_the_blob_table_names_blobs_and_a_click_on_a_row_explains_it(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot)
    pane.set_rooms([("lab", "Lab")])
    pane.set_snapshot(named_snapshot())
    model = pane.blob_table.blob_model
    rows = [[model.index(r, c).data() for c in range(len(BlobColumn))] for r in range(2)]
    assert rows == [["#7", "Alice", "0.82"], ["#9 coasting", "unknown", ""]]
    swatch = model.index(0, BlobColumn.WHO).data(Qt.ItemDataRole.DecorationRole)
    assert swatch.name().upper() == "#009E73"
    assert model.index(1, BlobColumn.WHO).data(Qt.ItemDataRole.DecorationRole) is None
    tip = model.index(0, BlobColumn.MATCH).data(Qt.ItemDataRole.ToolTipRole)
    assert "Alice (Person_A1A1A1A1), carrying Alice's phone (AA:BB:CC:DD:EE:01)" in tip
    assert "no registered BLE device" in model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert (
        model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole).endswith("At 1.0, 4.0 m in the room.")
    )
    # A blob the room placed where a calibrated camera sees its person says so.
    named = named_snapshot()
    seen = replace(named, blobs=(replace(named.blobs[0], seen_by="Lobby camera"),))
    pane.set_snapshot(seen)
    assert (
        model.index(0, 0)
        .data(Qt.ItemDataRole.ToolTipRole)
        .endswith("At 2.5, 2.5 m in the room, where Lobby camera sees them.")
    ), model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    pane.set_snapshot(named_snapshot())

    # The next tick with the same blobs updates in place: the selected row stays selected.
    pane.blob_table.selectRow(1)
    pane.set_snapshot(named_snapshot(tick_ms=2.0))
    assert pane.blob_table.selectionModel().selectedRows()[0].row() == 1

    rect = pane.blob_table.visualRect(model.index(0, BlobColumn.WHO))
    with qtbot.waitSignal(pane.sig_blob_clicked, timeout=2000) as clicked:
        qtbot.mouseClick(pane.blob_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert clicked.args == ["lab", 7]

    # The explanation's header says who the blob is and how well their device matches.
    pane.set_explanation(explanation())
    assert pane.explanation_label.text().startswith("Blob #7 — Alice (match 0.82): value 0.120")
    pane.set_snapshot(snapshot())  # unnamed now
    pane.set_explanation(explanation())
    assert pane.explanation_label.text().startswith("Blob #7: value 0.120")


def test_resting_the_pointer_on_a_blob_shows_its_tooltip_and_leaving_hides_it(
    qtbot: QtBot,
) -> None:
    """The 3D view is a window of its own, which gets no tooltip events: it shows the
    blob's description itself once the pointer rests on the blob."""
    view = shown_view(qtbot)
    view.set_snapshot(snapshot())
    x, y = np.round(view.project([HOT_SPOT])[0]).astype(int)
    expected = view.blob_tooltip_at(x, y)
    assert expected is not None
    QTest.mouseMove(view.gl_view, QPoint(int(x), int(y)))
    qtbot.waitUntil(lambda: QToolTip.isVisible() and QToolTip.text() == expected, timeout=3000)
    QTest.mouseMove(view.gl_view, QPoint(8, 8))  # away from every blob
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=3000)


def test_the_3d_view_does_not_put_the_window_it_is_in_into_opengl(qtbot: QtBot) -> None:
    """A QOpenGLWidget anywhere in a window makes Qt compose that whole window through
    OpenGL at each repaint (in software on a machine without a GPU: the console's p99
    GUI-thread gap was 20–23 ms with it, 4–7 ms with the view in a window of its own)."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    view = SensingView3D()
    layout.addWidget(view)
    qtbot.addWidget(holder)
    holder.resize(640, 480)
    with qtbot.waitExposed(holder):
        holder.show()
    assert view.gl_view is not None, view.gl_error
    qtbot.waitUntil(lambda: view.gl_view.isExposed())  # shown a turn after the pane
    assert not holder.findChildren(QOpenGLWidget)
    assert view.gl_container is not None and view.gl_container.isVisible()


def test_a_blob_shows_the_name_its_person_has_across_senses(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot)
    pane.set_rooms([("lab", "Lab")])
    pane.set_fused_names({"lab": {9: "Bo", 7: "Alice"}})
    pane.set_snapshot(named_snapshot())
    model = pane.blob_table.blob_model
    who = [model.index(r, BlobColumn.WHO).data() for r in range(2)]
    assert who == ["Alice", "Bo"]
    labels = [item.text for item in pane.view.blob_labels if item.visible()]
    assert labels == ["Alice", "Bo"]
    # Where the camera and the room together name blob 7 otherwise than the room alone, the
    # pane shows the person's one name, as the camera's tile does.
    pane.set_fused_names({"lab": {7: "Carol"}})
    pane.set_snapshot(named_snapshot())
    assert model.index(0, BlobColumn.WHO).data() == "Carol"
    assert next(i.text for i in pane.view.blob_labels if i.visible()) == "Carol"
    # …with nothing of the room's own match beside it: Alice's swatch and score would
    # contradict the name. The tooltip says where each name comes from.
    assert model.index(0, BlobColumn.MATCH).data() == ""
    assert model.index(0, BlobColumn.WHO).data(Qt.ItemDataRole.DecorationRole) is None
    tip = model.index(0, BlobColumn.WHO).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Carol: named with the camera")
    assert "The room's own tag matching: Blob #7, tracked: Alice" in tip
    pane.set_explanation(explanation())
    assert pane.explanation_label.text().startswith("Blob #7 — Carol (named with the camera)")
    pane.set_fused_names({})
    pane.set_snapshot(named_snapshot())
    assert [model.index(r, BlobColumn.WHO).data() for r in range(2)] == ["Alice", "unknown"]


def test_the_pane_counts_people_not_blobs_and_says_who_each_blob_is(qtbot: QtBot) -> None:
    """Two walkers sensed as three blobs (one of them split in two) are two people, where
    fusion or their devices name every blob; the Who column names each blob, or says it is
    unknown."""
    pane = shown_pane(qtbot)
    pane.set_rooms([("lab", "Lab")])
    base = named_snapshot()
    split = replace(base.blobs[1], track_id=11, position=(3.0, 3.2, 1.0), trail=())
    three = replace(base, blobs=(*base.blobs, split))
    model = pane.blob_table.blob_model

    # Nothing names blobs 9 and 11: at most three people, one known, and "unknown" beside them.
    pane.set_snapshot(three)
    status = pane.status_label.text()
    assert "at most 3 people at once, 1 known (3 blobs)" in status, status
    assert [model.index(r, BlobColumn.WHO).data() for r in range(3)] == [
        "Alice",
        "unknown",
        "unknown",
    ]

    # Fusion names the split walker's two blobs Bo: two people, both known.
    pane.set_fused_names({"lab": {9: "Bo", 11: "Bo"}})
    pane.set_snapshot(three)
    assert "2 people known (3 blobs)" in pane.status_label.text()
    assert "3 blobs" not in pane.status_label.text().split("(")[0]
    assert [model.index(r, BlobColumn.WHO).data() for r in range(3)] == ["Alice", "Bo", "Bo"]

    # Nobody named: the most there can be at once, saying so.
    pane.set_fused_names({})
    pane.set_snapshot(snapshot())
    assert "at most 2 people at once (2 blobs)" in pane.status_label.text()
    assert [model.index(r, BlobColumn.WHO).data() for r in range(2)] == ["unknown", "unknown"]


def test_who_is_in_the_room_comes_first_and_a_blob_s_links_once_one_is_clicked(
    qtbot: QtBot,
) -> None:
    """At 1400 × 860 the pane's side column is about 380 px tall: an empty links table
    above the blobs pushed who is in the room below the fold."""
    pane = shown_pane(qtbot)
    pane.set_rooms([("lab", "Lab")])
    pane.set_snapshot(named_snapshot())
    assert pane.blob_table.isVisible()
    assert not pane.explanation_table.isVisible()
    assert "Click a blob" in pane.explanation_label.text()
    top = pane.blob_table.mapTo(pane, pane.blob_table.rect().topLeft()).y()
    assert top < pane.explanation_label.mapTo(pane, pane.explanation_label.rect().topLeft()).y()
    pane.set_explanation(explanation())
    assert pane.explanation_table.isVisible()
    assert pane.explanation_table.explanation_model.rowCount() == 3
    pane.set_explanation(None)
    assert not pane.explanation_table.isVisible()


def test_a_room_without_camera_or_tag_reader_says_which_tags_went_in(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot)
    pane.set_rooms([("lobby", "Lobby"), ("store", "Store room")])
    pane.set_tags_inside({"store": ("Walker 1", "Walker 3"), "lobby": ()})
    assert not pane.inside_label.isVisible()  # the lobby names people itself
    pane.room_combo.setCurrentIndex(1)
    assert pane.inside_label.isVisible()
    assert pane.inside_label.text().startswith("Tags in here: Walker 1, Walker 3 (went in")
    pane.set_replay("REPLAY 09:14:03 ×4")  # live knowledge: not over a replayed moment
    assert not pane.inside_label.isVisible()
    pane.set_replay(None)
    assert pane.inside_label.isVisible()
    pane.set_tags_inside({"store": ()})  # they came out
    assert not pane.inside_label.isVisible()


def test_in_the_operator_s_dock_the_blob_table_shows_every_column_without_scrolling(
    qtbot: QtBot,
) -> None:
    """The operator's wall gives the pane about 600 × 380 px at 1400 × 860, its tables a
    column some 220 px wide: a position and a state column pushed past it hid behind a
    scrollbar, and the names with them."""
    pane = shown_pane(qtbot)
    pane.resize(600, 380)
    pane.set_rooms([("lab", "Lab")])
    pane.set_snapshot(named_snapshot())
    table = pane.blob_table
    qtbot.waitUntil(lambda: table.viewport().width() < 300)
    header = table.horizontalHeader()
    right = max(header.sectionViewportPosition(c) + header.sectionSize(c) for c in range(3))
    assert right <= table.viewport().width()
    assert table.horizontalScrollBar().maximum() == 0
    who = table.visualRect(table.blob_model.index(0, BlobColumn.WHO))
    assert who.width() >= table.fontMetrics().horizontalAdvance("Alice") + 16


# The Sensing pane's size in the operator's wall (the pane's own grab in the screenshots).
WALL_PANE_SIZES = {"1400x860": (557, 359), "1920x1080": (957, 469)}


def words_fit(widget: QWidget, clip: QWidget) -> list[str]:
    """What of ``widget``'s words would not be seen: its text wider than it (a word-wrapped
    label: a word wider than it, or its lines taller than it), or it reaching past the edge
    of ``clip`` (the scroll area's viewport that shows it)."""
    problems = []
    text = widget.text()  # type: ignore[attr-defined]
    left = widget.mapTo(clip, QPoint(0, 0)).x()
    if left < 0 or left + widget.width() > clip.width():
        problems.append(
            f"{text!r} reaches past the column ({left}+{widget.width()}>{clip.width()})"
        )
    metrics = widget.fontMetrics()
    if isinstance(widget, QLabel) and widget.wordWrap():
        room = widget.contentsRect().width()
        wide = [w for w in text.split() if metrics.horizontalAdvance(w) > room]
        if wide:
            problems.append(f"{text!r}: {wide} wider than {room} px")
        if widget.heightForWidth(widget.width()) > widget.height():
            problems.append(f"{text!r}: taller than {widget.height()} px")
    elif widget.sizeHint().width() > widget.width():
        problems.append(f"{text!r}: needs {widget.sizeHint().width()} px, has {widget.width()}")
    return problems


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[None]:
    """The console's look (its style, fonts and paddings decide what fits), undone after."""
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    apply_theme(qapp)
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


@pytest.mark.parametrize("size", sorted(WALL_PANE_SIZES))
def test_every_word_of_the_side_column_is_seen_in_the_operator_s_wall(
    qtbot: QtBot, themed: None, size: str
) -> None:
    """At 1400 × 860 the side column beside the room is about 210 px wide: the pairing
    button and its state beside it made the column wider than that, so it scrolled sideways
    and cut "Open pairing for 120 s", "Pairing closed" and "Click a blob to see which links
    put it there" at its right edge."""
    pane = shown_pane(qtbot)
    pane.resize(*WALL_PANE_SIZES[size])
    pane.set_rooms([("lab", "Lab"), ("office", "Front office")])
    pane.set_snapshot(snapshot(simulated=True))
    qtbot.waitUntil(lambda: pane.node_table.mapTo(pane, QPoint(0, 0)).x() >= pane.view.width())
    scroll = next(s for s in pane.findChildren(QScrollArea) if s.isAncestorOf(pane.pairing_button))
    viewport = scroll.viewport()
    labels = [
        w
        for w in scroll.widget().findChildren(QWidget)
        if isinstance(w, QLabel | QPushButton) and w.isVisible() and w.text()
    ]
    assert {pane.pairing_button, pane.pairing_label, pane.explanation_label} <= set(labels)
    for pairing in (87.2, 0.0):
        pane.set_snapshot(snapshot(simulated=True, pairing_open_s=pairing))
        QApplication.processEvents()
        problems = [p for w in labels for p in words_fit(w, viewport)]
        assert not problems, f"{size}: " + "; ".join(problems)
        assert scroll.horizontalScrollBar().maximum() == 0, size
