"""The WiFi-sensing pane: a 3D view of one sensing room, why a blob is where it is, and the
health of the room's nodes.

The engine publishes a :class:`~engine.sensing.view.SensingSnapshot` per room after each
fusion tick (10–20 Hz) and a :class:`~engine.sensing.view.BlobExplanation` when one is asked
for; the console's bridge hands both to :class:`SensingPane` on the GUI thread. The widgets
here only draw what they are given (updating the GL items' arrays in place) and say what the
operator did through signals: they never read the store or start threads. Every method runs
on the GUI thread.

The 3D view needs OpenGL (pyqtgraph.opengl). Where there is none (no libGL, no context, a
driver below OpenGL 2.1) the view says so in place of the drawing and the tables still work.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from enum import IntEnum
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QExposeEvent,
    QFont,
    QImage,
    QMatrix4x4,
    QMouseEvent,
    QResizeEvent,
    QShowEvent,
    QVector3D,
    QWindow,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.sensing.view import (
    BlobExplanation,
    BlobView,
    CoverageView,
    LinkShareView,
    LinkView,
    NodeView,
    SensingSnapshot,
    Vec3,
)
from engine.text import printable
from widgets.colours import (
    ALARM_FILL,
    ALARM_RED,
    ALARM_TINT,
    CANVAS,
    ON_ALARM_FILL,
    TEXT,
    WARNING_AMBER,
    WARNING_TINT,
)
from widgets.scrolling import scrolling_layout
from widgets.sensing.api import UNKNOWN, SensedPeople, blob_name, sensed_people
from widgets.sensing.coverage import (
    HEALTH_WARNING_STYLE,
    ByteImage,
    CoverageLegend,
    cell_steps,
    coverage_texture,
    health_details,
    health_is_warning,
    health_text,
    ring_radius_m,
    rings,
    texels_per_cell,
    uncertain_text,
)
from widgets.table_model import EXTENDED, RowsTableModel, show_rows_read_only

# The fused value is in the links' units (relative deltaRMS, see GridModel): voxels below
# the links' 0.02 motion threshold are noise and are not drawn.
DEFAULT_VOXEL_THRESHOLD = 0.02
# Many weakly active links lift most of a room over any fixed threshold (a voxel covered by
# k links each at x scores √k·x): only voxels above 40 % of the tick's strongest are drawn,
# where people are rather than that haze (benchmarks/sensing_view.py, 16 nodes in 10 × 10 m,
# two walkers: ~25,000 voxels over 0.02, ~7,000 over 40 % of the peak).
DEFAULT_VOXEL_PEAK_FRACTION = 0.4
ACTIVATION_FULL_SCALE = 0.10  # relative deltaRMS drawn fully red: 5× the 0.02 motion threshold
PICK_RADIUS_PX = 20.0  # a click this close to a blob's centre on screen selects it
CLICK_SLOP_PX = 4.0  # a press and release further apart than this is a drag (orbit), not a click
TOOLTIP_DELAY_MS = 700  # the pointer rests this long on the 3D view before its tooltip shows
MAX_ELLIPSOIDS = 8  # more Fresnel ellipsoids than this only hide each other
DASH_PIECES = 8  # each link is drawn as this many pieces, so an offline one can be dashed
BLOB_SIZE_M = 0.35  # about a person's width
NODE_SIZE_PX = 14.0
TRUTH_SIZE_PX = 9.0
LABEL_LIFT_M = 0.18  # labels sit this far above what they name
LABEL_PLATE_PAD_PX = 3.0  # a blob label's plate reaches this far past its text
# …except a low node's (below LOW_NODE_M, skirting height), which hangs this far below it:
# advised layouts alternate low and high nodes round the walls, and from the default view a
# wall's low node and the high one beside it drew their names on one line ("West midWest N").
LOW_NODE_M = 0.5
LOW_LABEL_DROP_M = 0.8
# A node's name starts this far right of its anchor on screen, past the node's dot (at
# 1400 × 860 the dots of the demo's skirting nodes covered the first letter: "SW corner").
NODE_LABEL_OFFSET_PX = (NODE_SIZE_PX / 2.0 + 3.0, 0.0)
PAIRING_SECONDS = 120
# The room's share of the pane beside its tables (of the width) or above them (of the height).
SIDE_SHARE = 0.6
ABOVE_SHARE = 0.7
NO_ROOM_TEXT = "No sensing room in this site: add [[sensing_nodes]] to the site file"
NOT_ADMIN_TEXT = "Only an admin can pair sensing nodes"

BACKGROUND = (13, 17, 23)  # the theme's #0d1117
# A blob label's plate: the background's colour, mostly opaque (voxels show through a little).
_LABEL_PLATE = QColor(*BACKGROUND, 200)
_ROOM_RGBA = (0.55, 0.6, 0.68, 0.45)
_GRID_RGBA = (0.4, 0.45, 0.52, 0.22)
_QUIET_RGBA = np.array([0.55, 0.57, 0.6, 0.55], np.float32)
_MOVING_LOW_RGBA = np.array([1.0, 0.62, 0.1, 0.95], np.float32)  # orange
_MOVING_HIGH_RGBA = np.array([1.0, 0.12, 0.08, 1.0], np.float32)  # red
_NODE_ONLINE_RGBA = np.array([0.9, 0.92, 0.96, 1.0], np.float32)
_NODE_OFFLINE_RGBA = np.array([0.97, 0.32, 0.29, 1.0], np.float32)  # the alarm red #f85149
BLOB_RGBA = (0.1, 0.85, 1.0, 1.0)  # cyan: nothing else in the scene is
_BLOB_COASTING_ALPHA = 0.45
# A blob the layout has never placed unambiguously (it may be a ghost of crossing links):
# fainter than a coasting one, with a ring as wide as the layout's error where it is.
_BLOB_UNCERTAIN_ALPHA = 0.25
_RING_ALPHA = 0.9
_COVERAGE_DEPTH_M = -0.005  # the overlay lies just under the floor grid, which stays seen
COVERAGE_TOGGLE_TIP = (
    "Show on the floor what this room's nodes can see: how closely a person is placed, "
    "where a fall can be confirmed and where a person may also appear elsewhere"
)
_TRAIL_RGBA = (0.1, 0.85, 1.0, 0.6)
_TRUTH_RGBA = (0.35, 1.0, 0.35, 0.9)  # the simulator's walkers, green
_EXPLAINED_RGBA = (1.0, 0.35, 1.0, 1.0)  # magenta: links and ellipsoids of an explanation
# Opaque tints: see-through red and amber left grey and red text at 3.1-4.3:1.
_OFFLINE_BACKGROUND = QColor(ALARM_TINT)
_DEGRADED_BACKGROUND = QColor(WARNING_TINT)
SIMULATED_STYLE = (  # dark on amber: 7.5:1
    f"background: {WARNING_AMBER}; color: {CANVAS}; font-weight: bold;"
    " padding: 3px 14px; border-radius: 3px; letter-spacing: 2px"
)
REPLAY_STYLE = (  # white on the solid red: 6.5:1 (white on the alarm red was 3.4:1)
    f"background: {ALARM_FILL}; color: {ON_ALARM_FILL}; font-weight: bold; padding: 3px 8px"
)
DEGRADED_STYLE = f"color: {WARNING_AMBER}"

FloatArray = npt.NDArray[np.float32]


@cache
def _opengl() -> Any:
    """pyqtgraph.opengl, imported on first use: it loads libGL, which may be missing."""
    import pyqtgraph.opengl as gl

    return gl


def _program_slots() -> list[tuple[Any, str]]:
    """Where pyqtgraph caches its compiled shader programs: one per item class, one per named
    mesh shader, each for the whole process. pyqtgraph 0.14 assumes every GL view shares one
    context (its issues #1822 and #3455); ours keep their own (see ``ClickableGLView``)."""
    gl = _opengl()
    from pyqtgraph.opengl.shaders import ShaderProgram

    slots: list[tuple[Any, str]] = [
        (gl.GLLinePlotItem, "_shaderProgram"),
        (gl.GLScatterPlotItem, "_shaderProgram"),
        (gl.GLImageItem, "_shaderProgram"),
    ]
    return slots + [(program, "prog") for program in ShaderProgram.names.values()]


@cache
def _label_type() -> type:
    """pyqtgraph's GL text, moved ``offset_px`` (x right, y down, screen pixels) after its
    alignment: a node's name starts clear of the node's dot at any zoom; with ``plate`` (a
    colour) drawn on a rounded plate of that colour: a blob's name, in its person's colour,
    over voxels drawn in that colour too was unreadable (GL text has no outline)."""
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QFontMetricsF, QPainter

    text_item: Any = _opengl().GLTextItem

    class OffsetTextItem(text_item):  # type: ignore[misc]
        offset_px: tuple[float, float] = (0.0, 0.0)
        plate: QColor | None = None

        def align_text(self, pos: QPointF) -> QPointF:
            aligned: QPointF = super().align_text(pos)
            return aligned + QPointF(*self.offset_px)

        def plate_rect(self, text_pos: QPointF) -> QRectF:
            """The plate behind text drawn with its baseline at ``text_pos``."""
            metrics = QFontMetricsF(self.font)
            return QRectF(
                text_pos.x() - LABEL_PLATE_PAD_PX,
                text_pos.y() - metrics.ascent() - 1.0,
                metrics.horizontalAdvance(self.text) + 2 * LABEL_PLATE_PAD_PX,
                metrics.height() + 2.0,
            )

        def paint(self) -> None:
            if self.plate is None or not self.text:
                super().paint()
                return
            self.setupGLState()
            anchor = self.compute_projection().map(QVector3D(*self.pos)).toPointF()
            text_pos = self.align_text(anchor)
            painter = QPainter(self.view())
            try:
                painter.setRenderHints(
                    QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                )
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(self.plate)
                painter.drawRoundedRect(self.plate_rect(text_pos), 3.0, 3.0)
                painter.setPen(self.color)
                painter.setFont(self.font)
                painter.drawText(text_pos, self.text)
            finally:
                painter.end()

    return OffsetTextItem


@cache
def _clickable_gl_view_type() -> type:
    """The GL window the 3D view draws in; see ``ClickableGLView``."""
    from OpenGL import GL
    from pyqtgraph.opengl.GLViewWidget import GLViewMixin
    from PySide6.QtOpenGL import QOpenGLWindow

    _opengl()

    class ClickableGLView(GLViewMixin, QOpenGLWindow):  # type: ignore[misc]
        """pyqtgraph's GL view in a window of its own (shown in the pane through a window
        container), which

        - keeps the console's window out of OpenGL: a QOpenGLWidget makes Qt compose the
          whole top-level window through OpenGL at every repaint, which on a machine
          without a GPU (llvmpipe) was most of the GUI thread's cost in the console journey
          benchmark (p99 gap 20–23 ms with it, 4–5 ms without);
        - reports clicks (press and release in place; a drag still orbits) and shows the
          tooltip ``on_tooltip`` gives (a window gets no tooltip events of its own);
        - reports GL failures instead of raising inside Qt's paint;
        - keeps its own shader programs: pyqtgraph caches them per process, which breaks a
          second view with its own context (two windows, a view closed and opened again, a
          dock floated out) unless the application shares all GL contexts;
        - says when a new context replaced its first one: the scene's buffers died with the
          old one;
        - brings a new context in over several frames: its first frame draws only the
          background, and each later one adds one kind of item not yet drawn in it, so that
          the one-off costs of a fresh context (creating it: 25-30 ms here; each kind's first
          draw: lines 15, text 23, points 5, under llvmpipe, which compiles a shader's
          machine code per context at its first draw) fall into separate turns of the event
          loop, not one 60-90 ms stall at a login. The whole scene is up after five frames
          (about 80 ms); ``render_now`` draws it all at once."""

        def __init__(
            self,
            on_click: Callable[[float, float], None],
            on_failure: Callable[[str], None],
            on_context_replaced: Callable[[], None],
            parent: QWindow,
            *,
            on_tooltip: Callable[[float, float], str | None] | None = None,
        ) -> None:
            # Drawn into a buffer of its own, then copied to the window: the last frame
            # stays readable (render_now, grabFramebuffer) for screenshots and tests.
            super().__init__(QOpenGLWindow.UpdateBehavior.PartialUpdateBlit, parent)
            self._on_click = on_click
            self._on_tooltip = on_tooltip
            self._on_failure = on_failure
            self._on_context_replaced = on_context_replaced
            self._press: tuple[float, float] | None = None
            self._programs: list[Any] | None = None  # this context's, in _program_slots order
            # Item kinds this context has drawn; None: none yet, not even the background.
            self._drawn_kinds: set[type] | None = None
            self._drawing_kinds: set[type] | None = None  # this frame's; None: every kind
            self._had_context = False
            self.failed = False
            self._hover = QPointF()
            self._tooltip_timer = QTimer(self)
            self._tooltip_timer.setSingleShot(True)
            self._tooltip_timer.setInterval(TOOLTIP_DELAY_MS)
            self._tooltip_timer.timeout.connect(self._show_tooltip)

        # What pyqtgraph's view asks of a widget, answered for a window.
        def devicePixelRatioF(self) -> float:
            return float(self.devicePixelRatio())

        def rect(self) -> QRect:
            return QRect(0, 0, self.width(), self.height())

        def initializeGL(self) -> None:
            if self._had_context:  # a new context: programs and buffers went with the old one
                self._programs = None
                self._on_context_replaced()
            self._had_context = True
            self._drawn_kinds = None
            try:
                super().initializeGL()
            except Exception as exc:
                self._fail(exc)

        def paintGL(self) -> None:
            if self.failed:
                return
            pending = self._kinds_to_come()
            if self._drawn_kinds is None:
                self._drawing_kinds = set()
            elif pending:
                self._drawing_kinds = self._drawn_kinds | {pending[0]}
            try:
                self._paint_scene()
            finally:
                if self._drawing_kinds is not None:
                    self._drawn_kinds, self._drawing_kinds = self._drawing_kinds, None
            if self._kinds_to_come():
                # update(), not requestUpdate(): a window repaints only what is marked
                # dirty; and after this paint, which clears the marks.
                QTimer.singleShot(0, self, self.update)

        def _kinds_to_come(self) -> list[type]:
            """The kinds of the visible items not yet drawn in this context, in drawing
            order (empty once every kind has been drawn)."""
            drawn = self._drawn_kinds or set()
            kinds: list[type] = []
            for item in sorted(self.items, key=lambda i: i.depthValue()):
                kind = type(item)
                if item.visible() and kind not in drawn and kind not in kinds:
                    kinds.append(kind)
            if self._drawn_kinds is None:
                kinds.insert(0, type(None))  # the first frame: the background alone
            return kinds

        def drawItemTree(self, item: Any = None, useItemNames: bool = False) -> None:  # noqa: N803
            kinds = self._drawing_kinds
            if item is not None and kinds is not None and type(item) not in kinds:
                return  # a kind this context has yet to bring in (see the class's notes)
            super().drawItemTree(item, useItemNames=useItemNames)

        def _paint_scene(self) -> None:
            slots = _program_slots()
            others = [getattr(owner, name) for owner, name in slots]
            mine = self._programs or []
            for index, (owner, name) in enumerate(slots):
                setattr(owner, name, mine[index] if index < len(mine) else None)
            try:
                super().paintGL()
            except Exception as exc:
                self._fail(exc)
            finally:
                self._programs = [getattr(owner, name) for owner, name in slots]
                for (owner, name), program in zip(slots, others, strict=True):
                    setattr(owner, name, program)

        def render_now(self) -> QImage:
            """Draw the scene now and return the frame (a null image without a context):
            a window's contents are not in the console window's grab()."""
            if not self.isValid() or self.failed:
                return QImage()
            self.makeCurrent()  # binds the window's own buffer (PartialUpdateBlit)
            ratio = self.devicePixelRatio()
            GL.glViewport(0, 0, round(self.width() * ratio), round(self.height() * ratio))
            self._paint_scene()  # every kind at once
            self._drawn_kinds = {type(item) for item in self.items}
            image = self.grabFramebuffer()
            self.doneCurrent()
            self.requestUpdate()  # and show it in the window too
            return image

        def exposeEvent(self, event: QExposeEvent) -> None:
            super().exposeEvent(event)
            if self.isExposed() and not self.failed and not self.isValid():
                self._fail(RuntimeError("no OpenGL context could be created"))

        def _fail(self, exc: BaseException) -> None:
            if self.failed:
                return
            self.failed = True
            message = f"{type(exc).__name__}: {exc}"
            # Never swap widgets inside a paint: after it.
            QTimer.singleShot(0, self, lambda: self._on_failure(message))

        def _show_tooltip(self) -> None:
            text = self._on_tooltip(self._hover.x(), self._hover.y()) if self._on_tooltip else None
            if text:
                QToolTip.showText(self.mapToGlobal(self._hover.toPoint()), text)
            else:
                QToolTip.hideText()

        def mouseMoveEvent(self, ev: QMouseEvent) -> None:
            self._hover = ev.position()
            if ev.buttons() == Qt.MouseButton.NoButton and self._on_tooltip is not None:
                self._tooltip_timer.start()
            else:
                self._tooltip_timer.stop()
            super().mouseMoveEvent(ev)

        def event(self, ev: QEvent) -> bool:
            if ev.type() == QEvent.Type.Leave:
                self._tooltip_timer.stop()
                QToolTip.hideText()
            return bool(super().event(ev))

        def mousePressEvent(self, ev: QMouseEvent) -> None:
            self._tooltip_timer.stop()
            if ev.button() == Qt.MouseButton.LeftButton:
                self._press = (ev.position().x(), ev.position().y())
            super().mousePressEvent(ev)

        def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
            press, self._press = self._press, None
            x, y = ev.position().x(), ev.position().y()
            if (
                press is not None
                and ev.button() == Qt.MouseButton.LeftButton
                and abs(x - press[0]) + abs(y - press[1]) <= CLICK_SLOP_PX
            ):
                self._on_click(x, y)
            super().mouseReleaseEvent(ev)

    return ClickableGLView


def link_colours(
    activation: npt.ArrayLike, motion: npt.ArrayLike, dim: npt.ArrayLike
) -> FloatArray:
    """RGBA (L, 4) per link: grey when quiet, orange to red as a moving link's activation
    (relative deltaRMS) rises to :data:`ACTIVATION_FULL_SCALE`; ``dim`` links (degraded, or
    an end offline) at half alpha."""
    act = np.asarray(activation, np.float32)
    moving = np.asarray(motion, bool)
    t = np.clip(act / ACTIVATION_FULL_SCALE, 0.0, 1.0)[:, None]
    colours = np.where(
        moving[:, None], _MOVING_LOW_RGBA + t * (_MOVING_HIGH_RGBA - _MOVING_LOW_RGBA), _QUIET_RGBA
    ).astype(np.float32)
    colours[np.asarray(dim, bool), 3] *= 0.5
    return colours


def identity_rgba(colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``#RRGGBB`` (a person's colour) as RGBA floats; the blob cyan if it is malformed."""
    parsed = QColor(colour)
    if not colour.startswith("#") or len(colour) != 7 or not parsed.isValid():
        return (*BLOB_RGBA[:3], alpha)
    return (parsed.redF(), parsed.greenF(), parsed.blueF(), alpha)


def blob_rgba(blob: BlobView) -> tuple[float, float, float, float]:
    """The colour a blob is drawn in: its person's when a registered device names it, else
    the blob cyan."""
    if blob.identity is None:
        return BLOB_RGBA
    return identity_rgba(blob.identity.colour)


def other_name(blob: BlobView | None, fused: str | None) -> str | None:
    """The name a blob's person has across senses (``fused``: a camera and the room together
    name them) where it is not the one the room's own device matching gives the blob,
    printable; None where there is none or it is the same."""
    if not fused:
        return None
    identity = blob.identity if blob is not None else None
    if identity is not None and printable(identity.name) == printable(fused):
        return None
    return printable(fused)


def blob_label(blob: BlobView, fused: str | None = None) -> tuple[Vec3, str, QColor]:
    """A blob's label in the 3D view: the name of the person it is across senses (``fused``:
    a camera and the room together name them, by a recognised face or by the registered
    device the camera-placed person carries), else the name the room's own BLE matching
    gives it, in their colour, or its id in cyan. One person shows one name on every pane."""
    identity = blob.identity
    name = other_name(blob, fused)
    if name is not None:
        return blob.position, name, QColor(230, 237, 243)
    if identity is None:
        uncertain = " (uncertain)" if blob.ambiguous else ""
        return blob.position, f"#{blob.track_id}{uncertain}", QColor(26, 217, 255)
    r, g, b, _ = identity_rgba(identity.colour)
    return blob.position, printable(identity.name), QColor.fromRgbF(r, g, b)


def blob_description(blob: BlobView, now_s: float) -> str:
    """One line about a blob for tooltips: its id, and who it is (the device that names it,
    the match score and for how long) when a registered device names it."""
    identity = blob.identity
    state = "coasting (not detected this tick)" if blob.coasting else "tracked"
    if blob.ambiguous:  # it takes no BLE name until it has been placed unambiguously
        return f"Blob #{blob.track_id}, {state}, {uncertain_text(blob)}"
    if identity is None:
        return f"Blob #{blob.track_id}, {state}: no registered BLE device matched"
    who = printable(identity.name)
    if identity.person_id:
        who += f" ({identity.person_id})"
    named_for = max(now_s - identity.since_s, 0.0)
    return (
        f"Blob #{blob.track_id}, {state}: {who}, carrying {printable(identity.label)} "
        f"({identity.address}); match score {identity.score:.2f}, named for {named_for:.0f} s"
    )


def voxel_colours(values: npt.ArrayLike, threshold: float) -> FloatArray:
    """RGBA (K, 4) for voxels above ``threshold``: faint yellow just above it, more opaque
    orange-red toward the tick's strongest voxel."""
    vals = np.asarray(values, np.float32)
    colours = np.empty((vals.shape[0], 4), np.float32)
    if vals.shape[0] == 0:
        return colours
    span = max(float(vals.max()) - threshold, 1e-6)
    t = np.clip((vals - threshold) / span, 0.0, 1.0)
    colours[:, 0] = 1.0
    colours[:, 1] = 0.85 - 0.55 * t
    colours[:, 2] = 0.2 * (1.0 - t)
    # Additive blending sums overlapping voxels: faint per voxel, or a crowd of them
    # saturates to one white mass and hides where the peak is.
    colours[:, 3] = 0.02 + 0.3 * t * t
    return colours


def _segments(points: FloatArray) -> FloatArray:
    """A polyline (P, 3) as line pairs (2·(P−1), 3) for GL 'lines' mode."""
    if points.shape[0] < 2:
        return np.empty((0, 3), np.float32)
    return np.repeat(points, 2, axis=0)[1:-1]


def _room_lines(size: Vec3) -> tuple[FloatArray, FloatArray]:
    """Room box edges and a 1 m floor grid as GL line pairs, and their colours."""
    w, d, h = size
    corners = np.array(
        [[x, y, z] for z in (0.0, h) for y in (0.0, d) for x in (0.0, w)], np.float32
    )
    edges = [(0, 1), (2, 3), (0, 2), (1, 3), (4, 5), (6, 7), (4, 6), (5, 7)]
    edges += [(0, 4), (1, 5), (2, 6), (3, 7)]
    box = corners[np.array(edges).ravel()]
    xs = np.unique(np.append(np.arange(0.0, w, 1.0), w))
    ys = np.unique(np.append(np.arange(0.0, d, 1.0), d))
    grid = [((x, 0.0, 0.0), (x, d, 0.0)) for x in xs] + [((0.0, y, 0.0), (w, y, 0.0)) for y in ys]
    floor = np.array(grid, np.float32).reshape(-1, 3)
    colours = np.empty((box.shape[0] + floor.shape[0], 4), np.float32)
    colours[: box.shape[0]] = _ROOM_RGBA
    colours[box.shape[0] :] = _GRID_RGBA
    return np.concatenate([box, floor]), colours


def _ellipsoid_transform(centre: Vec3, axis: Vec3, semi_major: float, semi_minor: float) -> Any:
    """The transform taking the unit sphere to an ellipsoid of revolution: scale (a, b, b),
    turn x onto ``axis``, move to ``centre``."""
    transform = QMatrix4x4()
    transform.translate(*centre)
    direction = np.asarray(axis, np.float64)
    cross = np.cross((1.0, 0.0, 0.0), direction)
    sine = float(np.linalg.norm(cross))
    cosine = float(direction[0])
    if sine > 1e-9:
        transform.rotate(math.degrees(math.atan2(sine, cosine)), *(cross / sine))
    elif cosine < 0.0:
        transform.rotate(180.0, 0.0, 0.0, 1.0)
    transform.scale(semi_major, semi_minor, semi_minor)
    return transform


class SensingView3D(QWidget):
    """One sensing room in 3D: room box and 1 m floor grid, nodes and their names, links
    coloured by activation (dashed and dim when degraded or an end is offline), the fused
    voxels above ``voxel_threshold`` and ``voxel_peak_fraction`` of the tick's strongest,
    blobs with trails and ids, the simulator's walkers, and a "SIMULATED" banner when the
    CSI is simulated. Left-drag orbits, wheel zooms, a click on a blob emits
    :attr:`sig_blob_clicked`.

    ``set_snapshot`` updates the GL items' arrays in place; items are only created when the
    number of labels or ellipsoids grows (or the view gets a new GL context). The GL items
    are attributes so tests and benchmarks can read their data; they exist only while
    :attr:`gl_view` is not None (without OpenGL, :attr:`error_label` says why)."""

    sig_blob_clicked = Signal(str, int)
    """The operator clicked a blob (GUI thread): room id and the blob's track id."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        voxel_threshold: float = DEFAULT_VOXEL_THRESHOLD,
        voxel_peak_fraction: float = DEFAULT_VOXEL_PEAK_FRACTION,
    ) -> None:
        super().__init__(parent)
        self.voxel_threshold = float(voxel_threshold)
        self.voxel_peak_fraction = float(voxel_peak_fraction)
        self.drawn_voxel_threshold = self.voxel_threshold  # the last tick's, peak included
        self.snapshot: SensingSnapshot | None = None
        self.explanation: BlobExplanation | None = None
        self.gl_view: Any = None  # the GL window (see ClickableGLView)
        self.gl_container: QWidget | None = None  # what shows it in the pane
        self.gl_error: str | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error_label.setStyleSheet(f"color: {ALARM_RED}; padding: 12px")
        self.error_label.hide()
        self._layout.addWidget(self.error_label)
        # Above the drawing, not over it: nothing can be drawn over the GL window.
        self.banner = QLabel("SIMULATED", self)
        self.banner.setToolTip("This room's CSI comes from the built-in simulator, not from nodes")
        self.banner.setStyleSheet(SIMULATED_STYLE)
        self.banner.hide()
        self._layout.addWidget(self.banner, 0, Qt.AlignmentFlag.AlignHCenter)
        # The room's health line, the coverage toggle and the overlay's legend, above the
        # drawing too; a pane may place this header elsewhere (the Sensing pane gives it the
        # pane's whole width, where the long line takes a few lines, not a dozen).
        self.coverage_header = QWidget(self)
        header = QVBoxLayout(self.coverage_header)
        header.setContentsMargins(4, 2, 4, 2)
        header.setSpacing(2)
        self.health_label = QLabel(self.coverage_header)
        self.health_label.setObjectName("sensing-health")
        self.health_label.setWordWrap(True)
        self.health_label.setTextFormat(Qt.TextFormat.PlainText)
        self.health_label.hide()
        self.coverage_toggle = QCheckBox("Coverage", self.coverage_header)
        self.coverage_toggle.setToolTip(COVERAGE_TOGGLE_TIP)
        self.coverage_toggle.toggled.connect(self._on_coverage_toggled)
        health_row = QHBoxLayout()
        health_row.setContentsMargins(0, 0, 0, 0)
        health_row.addWidget(self.health_label, 1)
        health_row.addWidget(self.coverage_toggle, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(health_row)
        self.coverage_legend = CoverageLegend(BACKGROUND, self.coverage_header)
        self.coverage_legend.hide()
        header.addWidget(self.coverage_legend)
        self._layout.addWidget(self.coverage_header)
        # The overlay's texture, built once per coverage object (the layout's, not a tick's).
        self._coverage_texture: tuple[CoverageView, ByteImage] | None = None
        self.coverage_textures_built = 0

        self._room_key: tuple[str, Vec3] | None = None
        self._node_key: tuple[tuple[str, str, Vec3, bool], ...] | None = None
        self._link_key: tuple[tuple[Vec3, Vec3], ...] | None = None
        self._link_pos = np.empty((0, 3), np.float32)
        self._blob_positions = np.empty((0, 3), np.float64)
        self._blob_ids: tuple[int, ...] = ()
        self.node_labels: list[Any] = []
        self.blob_labels: list[Any] = []
        self.fused_names: dict[int, str] = {}  # blob id → the name a camera's face gave them
        self.ellipsoid_items: list[Any] = []
        self._sphere: Any = None
        try:
            self._build_gl()
        except Exception as exc:  # no libGL, no pyqtgraph: say so, keep the pane working
            self._on_gl_failed(f"{type(exc).__name__}: {exc}")

    # -- GL scene --------------------------------------------------------------------------
    def _build_gl(self) -> None:
        self._gl = _opengl()
        # Made with a parent so that Qt, not Python, owns the window: the container takes
        # it over (and deletes it with itself), which PySide does not learn of, so a
        # window Python thought its own was deleted twice (a crash as the console closed).
        # The container reparents it at once; the first parent goes at the end of this call.
        first_parent = QWindow()
        view = _clickable_gl_view_type()(
            self._on_gl_clicked,
            self._on_gl_failed,
            self._on_gl_context_replaced,
            first_parent,
            on_tooltip=self.blob_tooltip_at,
        )
        view.setBackgroundColor(BACKGROUND)
        container = QWidget.createWindowContainer(view, self)
        container.setMinimumSize(200, 150)
        self.gl_view = view
        self.gl_container = container
        self._build_items()
        self._layout.addWidget(container, 1)
        # Shown a turn of the event loop after the pane: the GL window's first frame (its
        # context, shaders, buffers: 60-80 ms here) is then not added to the showing and
        # painting of the layout around it, which a login does all at once.
        container.hide()
        self._gl_revealed = False

    def _build_items(self) -> None:
        """The scene's GL items, empty: ``set_snapshot`` fills them."""
        gl, view = self._gl, self.gl_view

        def add(item: Any, depth: int) -> Any:
            item.setDepthValue(depth)  # drawn in this order: translucent things last
            view.addItem(item)
            return item

        self.room_item = add(gl.GLLinePlotItem(mode="lines", glOptions="translucent"), 0)
        self.voxel_item = add(gl.GLScatterPlotItem(pxMode=False, glOptions="additive"), 1)
        self.link_item = add(
            gl.GLLinePlotItem(mode="lines", width=2.0, antialias=True, glOptions="translucent"), 2
        )
        self.explained_link_item = add(
            gl.GLLinePlotItem(
                # additive: no depth test, so it is never hidden by the link drawn below it
                mode="lines",
                width=4.0,
                color=_EXPLAINED_RGBA,
                glOptions="additive",
            ),
            3,
        )
        self.node_item = add(
            gl.GLScatterPlotItem(pxMode=True, size=NODE_SIZE_PX, glOptions="translucent"), 4
        )
        self.truth_item = add(
            gl.GLScatterPlotItem(
                pxMode=True, size=TRUTH_SIZE_PX, color=_TRUTH_RGBA, glOptions="translucent"
            ),
            5,
        )
        self.trail_item = add(
            gl.GLLinePlotItem(mode="lines", width=2.0, color=_TRAIL_RGBA, glOptions="translucent"),
            6,
        )
        from OpenGL import GL

        on_top = {  # blended like "translucent", but no link or voxel may hide part of a blob
            GL.GL_DEPTH_TEST: False,
            GL.GL_BLEND: True,
            GL.GL_CULL_FACE: False,
            "glBlendFuncSeparate": (
                GL.GL_SRC_ALPHA,
                GL.GL_ONE_MINUS_SRC_ALPHA,
                GL.GL_ONE,
                GL.GL_ONE_MINUS_SRC_ALPHA,
            ),
        }
        self.blob_item = add(
            gl.GLScatterPlotItem(pxMode=False, size=BLOB_SIZE_M, glOptions=on_top), 7
        )
        for item in (
            self.voxel_item,
            self.link_item,
            self.explained_link_item,
            self.node_item,
            self.truth_item,
            self.trail_item,
            self.blob_item,
        ):
            item.setVisible(False)  # until there is something to draw
        self.ring_item = add(
            gl.GLLinePlotItem(mode="lines", width=2.0, antialias=True, glOptions=on_top), 7
        )
        self.ring_item.setVisible(False)
        self.coverage_item: Any = None  # made when the overlay is first shown
        self._coverage_item_texture: ByteImage | None = None
        self.node_labels, self.blob_labels, self.ellipsoid_items = [], [], []
        self._room_key = self._node_key = self._link_key = None

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.gl_container is not None and not self._gl_revealed:
            self._gl_revealed = True
            QTimer.singleShot(0, self, self._reveal_gl)

    def _reveal_gl(self) -> None:
        if self.gl_container is not None:
            self.gl_container.show()

    def _on_gl_context_replaced(self) -> None:
        """The GL view got a new context (it moved to another window): the items' buffers
        died with the old one (Qt's resource guards make freeing them later harmless), so
        make the scene again and draw the last data into it."""
        view = self.gl_view
        if view is None:
            return
        for item in list(view.items):
            view.removeItem(item)
        self._build_items()
        if self.snapshot is not None:
            self.set_snapshot(self.snapshot)
        self.set_explanation(self.explanation)

    def _on_gl_failed(self, message: str) -> None:
        """OpenGL is missing or broke: show why in place of the drawing."""
        self.gl_error = message
        container, self.gl_container = self.gl_container, None
        self.gl_view = None
        self.coverage_item = None
        if container is not None:  # the container owns the GL window
            self._layout.removeWidget(container)
            container.hide()
            container.deleteLater()
        self.node_labels, self.blob_labels, self.ellipsoid_items = [], [], []
        self.error_label.setText(
            "The 3D view needs OpenGL, which is not available here "
            f"({printable(message)}). The tables beside it still work."
        )
        self.error_label.show()

    def _text_item(self) -> Any:
        font = QFont()
        font.setPointSize(9)
        item = _label_type()(font=font, glOptions="translucent")
        item.setDepthValue(9)
        self.gl_view.addItem(item)
        return item

    def _set_labels(self, pool: list[Any], entries: Sequence[tuple[Vec3, str, QColor]]) -> None:
        """Show ``entries`` (position, text, colour) with the pool's text items, creating items
        only when the pool is too small and hiding the ones left over."""
        while len(pool) < len(entries):
            pool.append(self._text_item())
        for item, (position, text, colour) in zip(pool, entries, strict=False):
            x, y, z = position
            item.setData(pos=(x, y, z + LABEL_LIFT_M), text=text, color=colour)
            item.setVisible(True)
        for item in pool[len(entries) :]:
            item.setVisible(False)

    # -- data ------------------------------------------------------------------------------
    def set_voxel_threshold(self, threshold: float, peak_fraction: float | None = None) -> None:
        """Draw voxels whose fused value exceeds ``threshold`` (relative deltaRMS units) and
        ``peak_fraction`` of the tick's strongest voxel (unchanged when None; 0 draws all
        above ``threshold``)."""
        self.voxel_threshold = float(threshold)
        if peak_fraction is not None:
            self.voxel_peak_fraction = float(peak_fraction)
        if self.snapshot is not None:
            self.set_snapshot(self.snapshot)

    def set_snapshot(self, snapshot: SensingSnapshot) -> None:
        """Draw one fusion tick of one room. Cheap enough for every tick: arrays go into the
        existing GL items; only the room outline, the node labels and the link geometry are
        rebuilt, and only when they change."""
        previous = self.snapshot
        self.snapshot = snapshot
        self.banner.setVisible(snapshot.simulated)
        if previous is None or previous.coverage is not snapshot.coverage:
            self._show_health(snapshot.coverage)
        if previous is not None and previous.room_id != snapshot.room_id:
            self.set_explanation(None)  # it explained another room's blob
        if self.gl_view is None:
            return
        room_key = (snapshot.room_id, snapshot.room_size)
        if room_key != self._room_key:
            self._room_key = room_key
            self._set_room(snapshot.room_size)
        self._draw_nodes(snapshot.nodes)
        self._draw_links(snapshot)
        self._draw_voxels(snapshot)
        self._draw_blobs(snapshot)
        truth = np.asarray(snapshot.truth, np.float32).reshape(-1, 3)
        self.truth_item.setData(pos=truth)
        self.truth_item.setVisible(truth.shape[0] > 0)
        self._draw_coverage()

    def clear(self) -> None:
        """Draw nothing but the room outline (e.g. a room with no tick yet)."""
        self.snapshot = None
        self.set_explanation(None)
        self.banner.hide()
        self.health_label.hide()
        self._blob_positions = np.empty((0, 3), np.float64)
        self._blob_ids = ()
        if self.gl_view is None:
            return
        self._node_key = None
        for item in (
            self.voxel_item,
            self.link_item,
            self.node_item,
            self.truth_item,
            self.trail_item,
            self.blob_item,
            self.ring_item,
            *self.node_labels,
            *self.blob_labels,
        ):
            item.setVisible(False)
        if self.coverage_item is not None:
            self.coverage_item.setVisible(False)

    # -- coverage --------------------------------------------------------------------------
    def _show_health(self, coverage: CoverageView | None) -> None:
        """Say the room's health line (the rating word first), in the warning colour for a
        poor layout or one that could not be rated."""
        text = health_text(coverage)
        self.health_label.setText(text)
        self.health_label.setAccessibleName(text)
        self.health_label.setToolTip(health_details(coverage))
        self.health_label.setStyleSheet(HEALTH_WARNING_STYLE if health_is_warning(coverage) else "")
        self.health_label.show()
        has_map = coverage is not None and coverage.xs.size > 0 and coverage.ys.size > 0
        self.coverage_toggle.setEnabled(has_map)
        self.coverage_toggle.setToolTip(
            COVERAGE_TOGGLE_TIP
            if has_map
            else "No coverage map for this room: its node layout has not been rated"
        )

    def _on_coverage_toggled(self, checked: bool) -> None:
        self.coverage_legend.setVisible(checked)
        self._draw_coverage()

    def coverage_shown(self) -> bool:
        """Whether the coverage overlay is drawn on the floor now."""
        return self.coverage_item is not None and bool(self.coverage_item.visible())

    def _texture_of(self, coverage: CoverageView) -> ByteImage:
        """The overlay's texture for ``coverage``, built only for a coverage object not
        seen last time (the engine hands over the same object until the layout changes)."""
        cached = self._coverage_texture
        if cached is not None and cached[0] is coverage:
            return cached[1]
        texture = coverage_texture(coverage)
        self._coverage_texture = (coverage, texture)
        self.coverage_textures_built += 1
        return texture

    def _draw_coverage(self) -> None:
        """The coverage overlay on the floor while the toggle is on and the room has a map;
        the texture goes to the GL item only when it is another one."""
        if self.gl_view is None:
            return
        coverage = self.snapshot.coverage if self.snapshot is not None else None
        if (
            not self.coverage_toggle.isChecked()
            or coverage is None
            or coverage.xs.size == 0
            or coverage.ys.size == 0
        ):
            if self.coverage_item is not None:
                self.coverage_item.setVisible(False)
            return
        texture = self._texture_of(coverage)
        if self.coverage_item is None:
            self.coverage_item = self._gl.GLImageItem(texture, smooth=False)
            self.coverage_item.setDepthValue(-1)  # first: everything else is drawn over it
            self.gl_view.addItem(self.coverage_item)
        elif self._coverage_item_texture is not texture:
            self.coverage_item.setData(texture)
        if self._coverage_item_texture is not texture:
            self._coverage_item_texture = texture
            per = texels_per_cell(coverage.xs.size, coverage.ys.size)
            step_x, step_y = cell_steps(coverage)
            transform = QMatrix4x4()
            transform.translate(
                float(coverage.xs[0]) - step_x / 2.0,
                float(coverage.ys[0]) - step_y / 2.0,
                _COVERAGE_DEPTH_M,
            )
            transform.scale(step_x / per, step_y / per, 1.0)
            self.coverage_item.setTransform(transform)
        self.coverage_item.setVisible(True)

    def _set_room(self, size: Vec3) -> None:
        lines, colours = _room_lines(size)
        self.room_item.setData(pos=lines, color=colours)
        w, d, h = size
        self.gl_view.setCameraPosition(
            pos=QVector3D(w / 2.0, d / 2.0, h / 3.0),
            distance=1.7 * max(w, d, h),
            elevation=32.0,
            azimuth=-62.0,
        )

    def _draw_nodes(self, nodes: Sequence[NodeView]) -> None:
        key = tuple((n.node_id, n.name, n.position, n.online) for n in nodes)
        if key == self._node_key:
            return
        self._node_key = key
        positions = np.array([n.position for n in nodes], np.float32).reshape(-1, 3)
        online = np.array([n.online for n in nodes], bool)
        colours = np.where(online[:, None], _NODE_ONLINE_RGBA, _NODE_OFFLINE_RGBA)
        self.node_item.setData(pos=positions, color=colours.astype(np.float32))
        self.node_item.setVisible(len(nodes) > 0)
        self._set_labels(
            self.node_labels,
            [
                (
                    _node_label_anchor(n.position),
                    printable(n.name) + ("" if n.online else " (offline)"),
                    QColor(TEXT) if n.online else QColor(ALARM_RED),
                )
                for n in nodes
            ],
        )
        for item in self.node_labels:
            item.offset_px = NODE_LABEL_OFFSET_PX

    def _draw_links(self, snapshot: SensingSnapshot) -> None:
        where = {n.node_id: n.position for n in snapshot.nodes}
        online = {n.node_id: n.online for n in snapshot.nodes}
        links = [link for link in snapshot.links if link.node_a in where and link.node_b in where]
        key = tuple((where[link.node_a], where[link.node_b]) for link in links)
        if key != self._link_key:
            self._link_key = key
            ends = np.array(key, np.float32).reshape(-1, 2, 3)
            f = np.linspace(0.0, 1.0, DASH_PIECES + 1, dtype=np.float32)
            fractions = np.stack([f[:-1], f[1:]], axis=1)  # (pieces, 2)
            span = (ends[:, 1] - ends[:, 0])[:, None, None, :]
            pieces = ends[:, 0][:, None, None, :] + fractions[None, :, :, None] * span
            self._link_pos = np.ascontiguousarray(pieces.reshape(-1, 3))
            self.link_item.setData(pos=self._link_pos)
        if not links:
            self.link_item.setVisible(False)
            return
        activation = np.fromiter((link.activation for link in links), np.float32, len(links))
        motion = np.fromiter((link.motion for link in links), bool, len(links))
        dashed = np.fromiter(
            (link.degraded or not (online[link.node_a] and online[link.node_b]) for link in links),
            bool,
            len(links),
        )
        per_link = link_colours(activation, motion, dashed)
        colours = np.repeat(per_link, DASH_PIECES * 2, axis=0).reshape(len(links), -1, 2, 4)
        colours[dashed, 1::2, :, 3] = 0.0  # every other piece is a gap
        self.link_item.setData(color=colours.reshape(-1, 4))
        self.link_item.setVisible(True)

    def _draw_voxels(self, snapshot: SensingSnapshot) -> None:
        voxels = snapshot.voxels
        if voxels is None:
            self.voxel_item.setVisible(False)
            return
        peak = float(voxels.values.max()) if voxels.values.size else 0.0
        threshold = max(self.voxel_threshold, self.voxel_peak_fraction * peak)
        self.drawn_voxel_threshold = threshold
        centres, values = voxels.centres_above(threshold)
        self.voxel_item.setData(
            pos=centres.astype(np.float32),
            color=voxel_colours(values, threshold),
            size=float(voxels.voxel_m),
        )
        self.voxel_item.setVisible(values.shape[0] > 0)

    def _draw_blobs(self, snapshot: SensingSnapshot) -> None:
        """Blobs, their trails and labels: a blob named by the BLE device it carries in its
        person's colour, labelled with their name; the others cyan, labelled with their id."""
        blobs = snapshot.blobs
        positions = np.array([b.position for b in blobs], np.float64).reshape(-1, 3)
        self._blob_positions = positions
        self._blob_ids = tuple(b.track_id for b in blobs)
        colours = np.array([blob_rgba(b) for b in blobs], np.float32).reshape(-1, 4)
        coasting = np.fromiter((b.coasting for b in blobs), bool, len(blobs))
        colours[coasting, 3] = _BLOB_COASTING_ALPHA
        uncertain = np.fromiter((b.ambiguous for b in blobs), bool, len(blobs))
        colours[uncertain, 3] = _BLOB_UNCERTAIN_ALPHA
        self.blob_item.setData(pos=positions.astype(np.float32), color=colours)
        self.blob_item.setVisible(len(blobs) > 0)
        if uncertain.any():
            radii = np.array([ring_radius_m(b, BLOB_SIZE_M) for b in blobs], np.float64)
            ring_pos = rings(positions[uncertain], radii[uncertain])
            ring_rgba = colours[uncertain].copy()
            ring_rgba[:, 3] = _RING_ALPHA
            per_ring = ring_pos.shape[0] // int(uncertain.sum())
            self.ring_item.setData(pos=ring_pos, color=np.repeat(ring_rgba, per_ring, axis=0))
        self.ring_item.setVisible(bool(uncertain.any()))
        trails, trail_colours = [], []
        for blob, colour in zip(blobs, colours, strict=True):
            if not blob.trail:
                continue
            segments = _segments(np.array((*blob.trail, blob.position), np.float32))
            trails.append(segments)
            trail_colour = (*colour[:3], _TRAIL_RGBA[3])
            trail_colours.append(np.tile(np.array(trail_colour, np.float32), (len(segments), 1)))
        trail_pos = np.concatenate(trails) if trails else np.empty((0, 3), np.float32)
        trail_rgba = np.concatenate(trail_colours) if trails else np.empty((0, 4), np.float32)
        self.trail_item.setData(pos=trail_pos, color=trail_rgba)
        self.trail_item.setVisible(trail_pos.shape[0] > 0)
        self._set_labels(
            self.blob_labels, [blob_label(b, self.fused_names.get(b.track_id)) for b in blobs]
        )
        for item in self.blob_labels:
            item.plate = _LABEL_PLATE

    def blob_tooltip_at(self, x: float, y: float) -> str | None:
        """What hovering at widget pixel (x, y) of the GL view says: the blob drawn there,
        who it is and how well their device matches (None away from blobs)."""
        track_id = self.blob_at(x, y)
        if track_id is None or self.snapshot is None:
            return None
        blob = next((b for b in self.snapshot.blobs if b.track_id == track_id), None)
        return None if blob is None else blob_description(blob, self.snapshot.t_s)

    # -- explanation -----------------------------------------------------------------------
    def set_explanation(self, explanation: BlobExplanation | None) -> None:
        """Draw the Fresnel ellipsoids of the links behind one blob (the largest
        :data:`MAX_ELLIPSOIDS` shares, more opaque for a larger share) and highlight those
        links; None clears them."""
        self.explanation = explanation
        if self.gl_view is None:
            return
        shares = explanation.shares[:MAX_ELLIPSOIDS] if explanation is not None else ()
        if self._sphere is None and shares:
            self._sphere = self._gl.MeshData.sphere(rows=14, cols=28)
        while len(self.ellipsoid_items) < len(shares):
            item = self._gl.GLMeshItem(
                meshdata=self._sphere, smooth=True, shader="balloon", glOptions="additive"
            )
            item.setDepthValue(8)
            self.gl_view.addItem(item)
            self.ellipsoid_items.append(item)
        largest = max((s.share for s in shares), default=1.0) or 1.0
        for item, share in zip(self.ellipsoid_items, shares, strict=False):
            ellipsoid = share.ellipsoid
            item.setTransform(
                _ellipsoid_transform(
                    ellipsoid.centre,
                    ellipsoid.axis,
                    ellipsoid.semi_major_m,
                    ellipsoid.semi_minor_m,
                )
            )
            r, g, b, _ = _EXPLAINED_RGBA
            item.setColor((r, g, b, 0.03 + 0.09 * max(share.share, 0.0) / largest))
            item.setVisible(True)
        for item in self.ellipsoid_items[len(shares) :]:
            item.setVisible(False)
        ends = [e for s in shares for e in (s.ellipsoid.focus_a, s.ellipsoid.focus_b)]
        self.explained_link_item.setData(pos=np.array(ends, np.float32).reshape(-1, 3))
        self.explained_link_item.setVisible(bool(ends))

    def visible_ellipsoids(self) -> list[Any]:
        """The ellipsoid mesh items drawn now (one per explained link, at most 8)."""
        return [item for item in self.ellipsoid_items if item.visible()]

    # -- picking ---------------------------------------------------------------------------
    def project(self, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Widget pixel positions (N, 2) in the GL view of points (N, 3) in metres; NaN for
        points behind the camera."""
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        view = self.gl_view
        if view is None:
            return np.full((pts.shape[0], 2), np.nan)
        w, h = max(view.width(), 1), max(view.height(), 1)
        region = (0, 0, w, h)
        mvp = view.projectionMatrix(region, region) * view.viewMatrix()
        matrix = np.array(mvp.data(), np.float64).reshape(4, 4).T  # data() is column-major
        clip = np.c_[pts, np.ones(pts.shape[0])] @ matrix.T
        out = np.full((pts.shape[0], 2), np.nan)
        front = clip[:, 3] > 1e-9
        ndc = clip[front, :2] / clip[front, 3:4]
        out[front, 0] = (ndc[:, 0] + 1.0) * 0.5 * w
        out[front, 1] = (1.0 - ndc[:, 1]) * 0.5 * h
        return out

    def blob_at(self, x: float, y: float) -> int | None:
        """Track id of the blob drawn nearest to widget pixel (x, y) of the GL view, if within
        :data:`PICK_RADIUS_PX`."""
        if not self._blob_ids:
            return None
        screen = self.project(self._blob_positions)
        distance = np.hypot(screen[:, 0] - x, screen[:, 1] - y)
        distance[np.isnan(distance)] = np.inf
        nearest = int(np.argmin(distance))
        return self._blob_ids[nearest] if distance[nearest] <= PICK_RADIUS_PX else None

    def _on_gl_clicked(self, x: float, y: float) -> None:
        track_id = self.blob_at(x, y)
        if track_id is not None and self.snapshot is not None:
            self.sig_blob_clicked.emit(self.snapshot.room_id, track_id)


# ------------------------------------------------------------------------------ tables


class ExplanationColumn(IntEnum):
    LINK = 0
    SHARE = 1
    ZONE = 2
    WEIGHT = 3
    ACTIVATION = 4


_EXPLANATION_HEADERS = ("Link", "Share", "Zone", "Weight", "Activation")


def percentages(shares: Sequence[float], decimals: int = 1) -> list[float]:
    """``shares`` as percentages rounded to ``decimals`` that add up to exactly 100 (the
    largest remainders get the rounding), so a table of them never shows 99.9 %."""
    values = np.clip(np.asarray(shares, np.float64), 0.0, None)
    total = float(values.sum())
    if values.size == 0 or total <= 0.0:
        return [0.0] * values.size
    unit = 10**decimals
    exact = values / total * 100.0 * unit
    floors = np.floor(exact)
    missing = round(100 * unit - float(floors.sum()))
    order = np.argsort(-(exact - floors), kind="stable")
    floors[order[:missing]] += 1
    return [float(v) / unit for v in floors]


class BlobExplanationModel(RowsTableModel[LinkShareView]):
    """One row per link behind a blob, largest share first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_EXPLANATION_HEADERS, parent)
        self._names: dict[str, str] = {}
        self._percent: list[float] = []

    def set_explanation(
        self, explanation: BlobExplanation | None, node_names: Mapping[str, str] | None = None
    ) -> None:
        """Show ``explanation`` (None: empty); links are named by ``node_names`` (site id →
        name) where known."""
        self._names = dict(node_names or {})
        shares = explanation.shares if explanation is not None else ()
        self._percent = percentages([s.share for s in shares])
        self.set_rows(shares)

    def share_percent(self, row: int) -> float:
        return self._percent[row]

    def link_text(self, share: LinkShareView) -> str:
        a = printable(self._names.get(share.node_a, share.node_a))
        b = printable(self._names.get(share.node_b, share.node_b))
        return f"{a}–{b}"

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        share = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == ExplanationColumn.LINK:
                return self.link_text(share)
            if column == ExplanationColumn.SHARE:
                return f"{self._percent[index.row()]:.1f} %"
            if column == ExplanationColumn.ZONE:
                return str(share.zone)
            if column == ExplanationColumn.WEIGHT:
                return f"{share.weight:.3f}"
            return f"{share.activation:.3f}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column != ExplanationColumn.LINK:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            e = share.ellipsoid
            return (
                f"Fresnel zone {share.zone} (weight 1/{share.zone}² = {share.weight:.3f}); "
                f"ellipsoid a = {e.semi_major_m:.2f} m, b = {e.semi_minor_m:.2f} m; "
                f"link activation {share.activation:.3f} (relative deltaRMS)"
            )
        return None


class BlobExplanationTable(QTableView):
    """Why a blob is where it is: each contributing link's share of its value (the shares
    add up to 100 %), its Fresnel zone at the blob, the zone weight 1/n² and the link's
    activation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explanation_model = BlobExplanationModel(self)
        self.setModel(self.explanation_model)
        show_rows_read_only(self, selection=EXTENDED, alternating=False, grid=True, word_wrap=True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ExplanationColumn.LINK, QHeaderView.ResizeMode.Stretch)

    def set_explanation(
        self, explanation: BlobExplanation | None, node_names: Mapping[str, str] | None = None
    ) -> None:
        self.explanation_model.set_explanation(explanation, node_names)


class BlobColumn(IntEnum):
    BLOB = 0
    WHO = 1
    MATCH = 2


# Three columns: the pane's side column is about 220 px wide at 1400 × 860, and a position
# and a state column pushed the names off the table (behind a scrollbar). A blob's state
# shows beside its id where it is not plainly tracked; its place is in the row's tooltip.
_BLOB_HEADERS = ("Blob", "Who", "Match")


class BlobTableModel(RowsTableModel[BlobView]):
    """One row per blob of a room's latest tick: its id (with "coasting" or "uncertain" beside
    it when it is), who it is (the name a registered BLE device gives it, with a swatch of
    their colour, or the name its person has across senses; "unknown" when nothing names
    it) and the match score (0–1). Each row's tooltip says which device names it
    and where in the room the blob is."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_BLOB_HEADERS, parent)
        self._now_s = 0.0
        self.fused_names: dict[int, str] = {}  # blob id → the name a camera's face gave them

    def set_blobs(self, blobs: Sequence[BlobView], now_s: float) -> None:
        """Show ``blobs`` of the tick at engine time ``now_s``. The same blobs in the same
        order update in place (the selection stays), others reset the table."""
        self._now_s = now_s
        if [b.track_id for b in blobs] == [b.track_id for b in self._rows]:
            self._rows = list(blobs)
            if self._rows:
                last = self.index(len(self._rows) - 1, len(_BLOB_HEADERS) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
        else:
            self.set_rows(blobs)

    def fused_name(self, blob: BlobView) -> str | None:
        """The name the blob's person has across senses where it is not the one the room's
        own device matching gives (None: the room's own name, or no other)."""
        return other_name(blob, self.fused_names.get(blob.track_id))

    def text(self, blob: BlobView, column: int) -> str:
        identity = blob.identity
        if column == BlobColumn.BLOB:
            states = [
                w for w, on in (("coasting", blob.coasting), ("uncertain", blob.ambiguous)) if on
            ]
            return f"#{blob.track_id} {', '.join(states)}".strip()
        fused = self.fused_name(blob)
        if column == BlobColumn.WHO:
            # Named with the camera (white, no device swatch), else by the room's own device
            # matching; "unknown" when nothing names the blob.
            return blob_name(blob, self.fused_names.get(blob.track_id)) or UNKNOWN
        # The score is the room's own device match: it says nothing of a name the camera
        # gave (a swatch and a score beside another name would contradict it).
        return f"{identity.score:.2f}" if identity is not None and fused is None else ""

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        blob = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(blob, column)
        if (
            role == Qt.ItemDataRole.DecorationRole
            and column == BlobColumn.WHO
            and blob.identity is not None
            and self.fused_name(blob) is None
        ):
            r, g, b, _ = identity_rgba(blob.identity.colour)
            return QColor.fromRgbF(r, g, b)
        if role == Qt.ItemDataRole.ToolTipRole:
            fused = self.fused_name(blob)
            x, y, _z = blob.position
            where = f"At {x:.1f}, {y:.1f} m in the room."
            if blob.seen_by is not None:
                camera = printable(blob.seen_by)
                where = f"At {x:.1f}, {y:.1f} m in the room, where {camera} sees them."
            if fused is not None:
                return (
                    f"{fused}: named with the camera that sees them (a recognised face, or "
                    f"the tag the person the camera places carries). The room's own tag "
                    f"matching: {blob_description(blob, self._now_s)}. {where}"
                )
            return f"{blob_description(blob, self._now_s)}. {where}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == BlobColumn.MATCH:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class BlobTable(QTableView):
    """The blobs of one sensing room now, and who each one is; a click on a row asks for
    its explanation (as a click on the blob in the 3D view does)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.blob_model = BlobTableModel(self)
        self.setModel(self.blob_model)
        show_rows_read_only(self, alternating=False, grid=True, word_wrap=True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(BlobColumn.WHO, QHeaderView.ResizeMode.Stretch)
        # Left, over the start of each column: in a narrow pane the stretched "Who" column
        # runs past the edge, and a centred title would be out of sight.
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def set_snapshot(self, snapshot: SensingSnapshot) -> None:
        self.blob_model.set_blobs(snapshot.blobs, snapshot.t_s)

    def clear(self) -> None:
        self.blob_model.set_blobs((), 0.0)


class NodeColumn(IntEnum):
    NAME = 0
    MAC = 1
    STATUS = 2
    ROLE = 3
    FRAME_RATE = 4
    MALFORMED = 5
    PROTOCOL_ERRORS = 6
    RSSI = 7
    FREE_HEAP = 8
    LAST_SEEN = 9
    DEGRADED_LINKS = 10


_NODE_HEADERS = (
    "Node",
    "MAC",
    "Status",
    "Role",
    "Frames/s",
    "Malformed",
    "Protocol errors",
    "WiFi RSSI",
    "Free heap",
    "Last seen",
    "Degraded links",
)
_NUMERIC_COLUMNS = frozenset(
    {
        NodeColumn.FRAME_RATE,
        NodeColumn.MALFORMED,
        NodeColumn.PROTOCOL_ERRORS,
        NodeColumn.RSSI,
        NodeColumn.FREE_HEAP,
        NodeColumn.LAST_SEEN,
    }
)


def seen_ago(seconds: float | None) -> str:
    """How long ago a node was last heard, for a table cell."""
    if seconds is None:
        return "never"
    if seconds < 60.0:
        return f"{seconds:.1f} s ago"
    if seconds < 3600.0:
        return f"{seconds / 60.0:.0f} min ago"
    return f"{seconds / 3600.0:.1f} h ago"


class NodeHealthModel(RowsTableModel[NodeView]):
    """One row per node of a room, in the snapshot's order; offline rows are highlighted and
    each row names the peers of its degraded links."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_NODE_HEADERS, parent)
        self._degraded_peers: dict[str, list[str]] = {}
        self.degraded_links: list[str] = []

    def set_nodes(self, nodes: Sequence[NodeView], links: Sequence[LinkView]) -> None:
        """Show ``nodes``; ``links`` are scanned for degraded ones. The same nodes in the same
        order update in place (selection and scrolling stay), others reset the table."""
        names = {n.node_id: printable(n.name) for n in nodes}
        peers: dict[str, list[str]] = {}
        degraded = []
        for link in links:
            if link.degraded:
                a = names.get(link.node_a, link.node_a)
                b = names.get(link.node_b, link.node_b)
                peers.setdefault(link.node_a, []).append(b)
                peers.setdefault(link.node_b, []).append(a)
                degraded.append(f"{a}–{b}")
        self._degraded_peers = peers
        self.degraded_links = degraded
        if [n.node_id for n in nodes] == [n.node_id for n in self._rows]:
            self._rows = list(nodes)
            if self._rows:
                last = self.index(len(self._rows) - 1, len(_NODE_HEADERS) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
        else:
            self.set_rows(nodes)

    def text(self, node: NodeView, column: int) -> str:
        if column == NodeColumn.NAME:
            return printable(node.name)
        if column == NodeColumn.MAC:
            return node.mac or "not yet connected"
        if column == NodeColumn.STATUS:
            if node.online:
                return "online"
            return (
                f"offline: {printable(node.offline_reason)}" if node.offline_reason else "offline"
            )
        if column == NodeColumn.ROLE:
            return printable(node.role) if node.role else ""
        if column == NodeColumn.FRAME_RATE:
            return f"{node.frame_rate_hz:.1f}"
        if column == NodeColumn.MALFORMED:
            return str(node.malformed)
        if column == NodeColumn.PROTOCOL_ERRORS:
            return str(node.protocol_errors)
        if column == NodeColumn.RSSI:
            return "" if node.wifi_rssi_dbm is None else f"{node.wifi_rssi_dbm} dBm"
        if column == NodeColumn.FREE_HEAP:
            return "" if node.free_heap_bytes is None else f"{node.free_heap_bytes / 1024:.0f} KiB"
        if column == NodeColumn.LAST_SEEN:
            return seen_ago(node.seconds_since_seen)
        return ", ".join(self._degraded_peers.get(node.node_id, ()))

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        node = self.row(index)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(node, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            if not node.online:
                return _OFFLINE_BACKGROUND
            if column == NodeColumn.DEGRADED_LINKS and node.node_id in self._degraded_peers:
                return _DEGRADED_BACKGROUND
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            details = [f"site id {printable(node.node_id)}"]
            if node.firmware_version:
                details.append(f"firmware {printable(node.firmware_version)}")
            if node.uptime_s is not None:
                details.append(f"up {node.uptime_s / 3600.0:.1f} h")
            details.append(f"{node.frames_received} frames received")
            return "; ".join(details)
        return None


class NodeHealthTable(QTableView):
    """The nodes of one sensing room and their health as the node server reports it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.health_model = NodeHealthModel(self)
        self.setModel(self.health_model)
        show_rows_read_only(self, selection=EXTENDED, alternating=False, grid=True, word_wrap=True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def set_nodes(self, nodes: Sequence[NodeView], links: Sequence[LinkView] = ()) -> None:
        self.health_model.set_nodes(nodes, links)

    def set_snapshot(self, snapshot: SensingSnapshot) -> None:
        self.health_model.set_nodes(snapshot.nodes, snapshot.links)


# ------------------------------------------------------------------------------- pane


class SensingPane(QWidget):
    """The "Sensing" pane: the 3D view of the selected room beside a room selector, the
    status of the last fusion tick, pairing, the explanation of the clicked blob and the
    node health table. The console feeds it :meth:`set_rooms`, :meth:`set_snapshot` (any
    room's; the selected one is drawn) and :meth:`set_explanation`, and acts on its
    signals."""

    sig_blob_clicked = Signal(str, int)
    """A blob was clicked in the 3D view (GUI thread): room id and track id. The console
    asks the engine for its explanation and hands it to :meth:`set_explanation`."""

    sig_pairing_requested = Signal(str, int)
    """The operator asked to open node pairing (GUI thread): in which room (the selected
    room's id) and for how many seconds."""

    sig_room_selected = Signal(str)
    """Another room was chosen in the room selector (GUI thread): its id."""

    def __init__(
        self, parent: QWidget | None = None, *, voxel_threshold: float = DEFAULT_VOXEL_THRESHOLD
    ) -> None:
        super().__init__(parent)
        self._rooms: list[tuple[str, str]] = []
        self._latest: dict[str, SensingSnapshot] = {}
        self._fused_names: dict[str, dict[int, str]] = {}  # room → blob id → name (fusion)
        self._tags_inside: dict[str, tuple[str, ...]] = {}  # room → tags that went in
        self._pairing_allowed = False
        self.pairing_unavailable = ""
        """Why no node can be paired at this site ("" when real nodes can join)."""
        self._replaying = False
        self._recording_problems: dict[str, str] = {}  # room id → why its recording fails
        self.live_room_elsewhere = ""
        """Where the live room runs when not in this console ("" when it does): attached
        to a shared site, its explanations and pairing are done there."""

        self.no_room_label = QLabel(NO_ROOM_TEXT)
        self.no_room_label.setWordWrap(True)
        self.no_room_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view = SensingView3D(voxel_threshold=voxel_threshold)
        self.view.sig_blob_clicked.connect(self.sig_blob_clicked)

        self.room_combo = QComboBox()
        self.room_combo.setAccessibleName("Sensing room")
        self.room_combo.currentIndexChanged.connect(self._on_room_changed)
        self.room_label = QLabel("Room")
        self.room_label.setBuddy(self.room_combo)
        self.room_combo.setToolTip("Which sensing room the view, the blobs and the nodes show")
        self.status_label = QLabel("waiting for the first picture of the room…")
        self.status_label.setWordWrap(True)
        self.status_label.setToolTip(
            "People, not blobs: one walker may show as two blobs, and crossing links as one "
            "more. Where every blob is named (by a registered device or a camera), the people "
            "named; otherwise the most there can be at once (each name once, each unnamed blob "
            "one)."
        )
        self.pairing_button = QPushButton(f"Open pairing for {PAIRING_SECONDS} s")
        self.pairing_button.setToolTip(
            "Let a new sensing node join: it must connect while pairing is open"
        )
        self.pairing_button.clicked.connect(self._on_pairing_requested)
        self.pairing_label = QLabel("Pairing closed")
        self.pairing_label.setWordWrap(True)  # "Pairing open: 88 s left" under the button
        self.explanation_label = QLabel("Click a blob to see which links put it there")
        self.explanation_label.setWordWrap(True)
        self.explanation_table = BlobExplanationTable()
        self.blob_table = BlobTable()
        self.blob_table.clicked.connect(self._on_blob_row_clicked)
        self.node_table = NodeHealthTable()
        self.inside_label = QLabel("")
        self.inside_label.setObjectName("sensing-tags-inside")
        self.inside_label.setWordWrap(True)
        self.inside_label.setTextFormat(Qt.TextFormat.PlainText)
        self.inside_label.hide()
        self.degraded_label = QLabel("")
        self.degraded_label.setWordWrap(True)
        self.degraded_label.setStyleSheet(DEGRADED_STYLE)
        self.degraded_label.hide()

        # The tables scroll within their part of the pane: stacked under the room in a
        # narrow column, their minimum heights would otherwise make the window taller than
        # the screen.
        side = QWidget()
        column = scrolling_layout(side, margins=None)
        column.setContentsMargins(6, 0, 0, 0)
        rooms = QHBoxLayout()
        rooms.addWidget(self.room_label)
        rooms.addWidget(self.room_combo, 1)
        column.addLayout(rooms)
        column.addWidget(self.status_label)
        column.addWidget(self.inside_label)
        # The pairing state under its button, not beside it: beside it, at 1400 × 860 the
        # two made the column (about 210 px) wider than the pane gives it, and it scrolled
        # sideways, cutting the button, the state and every line under them at its edge.
        column.addWidget(self.pairing_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.pairing_label)
        # Who is in the room first; why a blob is where it is once one is clicked.
        column.addWidget(QLabel("Blobs"))
        column.addWidget(self.blob_table, 1)
        column.addWidget(self.explanation_label)
        column.addWidget(self.explanation_table, 1)
        self.explanation_table.hide()
        column.addWidget(QLabel("Nodes"))
        column.addWidget(self.node_table, 2)
        column.addWidget(self.degraded_label)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(splitter)
        self.stack.addWidget(self.no_room_label)
        self.replay_label = QLabel("")
        self.replay_label.setObjectName("sensing-replay")
        self.replay_label.setStyleSheet(REPLAY_STYLE)
        self.replay_label.hide()
        # The selected room's recording failing (disk full…), across the whole pane under
        # its health line: white on solid red, as the camera tile's band.
        self.recording_label = QLabel("")
        self.recording_label.setObjectName("sensing-recording")
        self.recording_label.setWordWrap(True)
        self.recording_label.setTextFormat(Qt.TextFormat.PlainText)
        self.recording_label.setStyleSheet(REPLAY_STYLE)
        self.recording_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.replay_label)
        layout.addWidget(self.stack)
        self._content = splitter
        self._split_set = False  # the room's share is set once the pane has a size
        # The room's health line across the whole pane: beside the tables, the 3D view is
        # too narrow for it.
        layout.insertWidget(1, self.view.coverage_header)
        layout.insertWidget(2, self.recording_label)
        self._show_room_selector()
        self.set_pairing_allowed(False, NOT_ADMIN_TEXT)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._adapt_to_size(event.size().width(), event.size().height())

    def _adapt_to_size(self, width: int, height: int) -> None:
        """The room beside its tables or above them, whichever gives the 3D view the larger
        smaller side (a room drawn 600 × 150 px or 200 × 500 px shows little). Beside, the
        view takes 3/5 of the width; above, 7/10 of the height. The operator's wall keeps
        this pane in a tab beside the cameras, about 600 × 380 px at 1400 × 860 (beside)
        and narrow and tall when a person drags it so (above)."""
        room_height = max(height - self.view.coverage_header.sizeHint().height(), 1)
        beside = min(width * SIDE_SHARE, room_height)
        above = min(width, room_height * ABOVE_SHARE)
        orientation = Qt.Orientation.Vertical if above > beside else Qt.Orientation.Horizontal
        splitter = self._content
        if splitter.orientation() != orientation or not self._split_set:
            self._split_set = width > 0 and height > 0
            splitter.setOrientation(orientation)
            share = SIDE_SHARE if orientation is Qt.Orientation.Horizontal else ABOVE_SHARE
            splitter.setSizes([round(1000 * share), round(1000 * (1 - share))])

    @property
    def room_ids(self) -> tuple[str, ...]:
        """Every room the pane lists, in order."""
        return tuple(room_id for room_id, _ in self._rooms)

    @property
    def current_room_id(self) -> str | None:
        index = self.room_combo.currentIndex()
        return self._rooms[index][0] if 0 <= index < len(self._rooms) else None

    def has_rooms(self) -> bool:
        """Whether a room is shown (False: the "no sensing room" message is)."""
        return self.stack.currentWidget() is self._content

    def set_rooms(self, rooms: Sequence[tuple[str, str]]) -> None:
        """The site's sensing rooms as (room id, name); none shows how to add one. The
        selected room stays selected while it is still listed."""
        current = self.current_room_id
        self._rooms = [(room_id, printable(name)) for room_id, name in rooms]
        listed = {room_id for room_id, _ in self._rooms}
        self._latest = {k: v for k, v in self._latest.items() if k in listed}
        self.room_combo.blockSignals(True)
        self.room_combo.clear()
        self.room_combo.addItems([name for _, name in self._rooms])
        ids = [room_id for room_id, _ in self._rooms]
        self.room_combo.setCurrentIndex(ids.index(current) if current in ids else 0)
        self.room_combo.blockSignals(False)
        self._show_room_selector()
        self.stack.setCurrentWidget(self._content if self._rooms else self.no_room_label)
        self.view.coverage_header.setVisible(bool(self._rooms))
        if self.current_room_id != current:
            self._on_room_changed(self.room_combo.currentIndex())

    def select_room(self, room_id: str) -> bool:
        """Show room ``room_id`` (as if chosen in the room selector); False, changing
        nothing, when it is not listed."""
        ids = [listed for listed, _ in self._rooms]
        if room_id not in ids:
            return False
        self.room_combo.setCurrentIndex(ids.index(room_id))
        return True

    def set_recording_problem(self, room_id: str, problem: str | None) -> None:
        """Say that ``room_id``'s recording is failing (``problem``: why, and what was lost
        so far, e.g. "Recording failing: disk full (1,200 records lost)"), or None: it is
        written again. Shown while that room is selected, under the room's health line."""
        if problem is None:
            self._recording_problems.pop(room_id, None)
        else:
            self._recording_problems[room_id] = printable(problem)
        self._show_recording_problem()

    @property
    def recording_problem(self) -> str | None:
        """What the pane says about the selected room's recording (None: nothing wrong)."""
        room_id = self.current_room_id
        return None if room_id is None else self._recording_problems.get(room_id)

    def _show_recording_problem(self) -> None:
        problem = self.recording_problem
        self.recording_label.setText(problem or "")
        self.recording_label.setAccessibleName(problem or "")
        self.recording_label.setToolTip(
            "The room's sensing recording (for replays and evidence) cannot be written: "
            "free the disk; the console's alerts and the status bar say the same"
            if problem
            else ""
        )
        self.recording_label.setVisible(problem is not None)

    def set_replay(self, label: str | None) -> None:
        """Say above the view that it shows a replayed moment (``REPLAY 09:14:03 ×4``,
        with what the replay uses, e.g. other settings); None: live again. While
        replaying, live snapshots are kept but not drawn (:meth:`set_replay_snapshot`
        draws); back to live, the selected room's latest live snapshot is drawn."""
        was_replaying = self._replaying
        self._replaying = label is not None
        if self._replaying != was_replaying:
            self.set_explanation(None)  # it explained a blob of the other world
            self._show_tags_inside()  # live only
        self.replay_label.setText(label or "")
        self.replay_label.setAccessibleName(label or "")
        self.replay_label.setVisible(label is not None)
        room_id = self.current_room_id
        if self._replaying and not was_replaying:  # no live picture under a REPLAY label
            self.view.clear()
            self.blob_table.clear()
            self.status_label.setText("replaying: waiting for the recorded sensing…")
        if was_replaying and not self._replaying and room_id is not None:
            latest = self._latest.get(room_id)
            if latest is not None:
                self._draw(latest)
            else:
                self.view.clear()
                self.blob_table.clear()

    @property
    def replaying(self) -> bool:
        return self._replaying

    def set_replay_snapshot(self, snapshot: SensingSnapshot | None) -> None:
        """Draw a replayed moment of the selected room (while replaying; another room's
        is ignored); None: nothing recorded at that moment."""
        if not self._replaying:
            return
        if snapshot is None:
            self.view.clear()
            self.blob_table.clear()
            self.status_label.setText("no sensing recorded at this moment")
        else:
            if snapshot.room_id not in {room_id for room_id, _ in self._rooms}:
                self.set_rooms([*self._rooms, (snapshot.room_id, snapshot.room_name)])
            if snapshot.room_id == self.current_room_id:
                self._draw(snapshot)

    def _show_room_selector(self) -> None:
        several = len(self._rooms) > 1
        self.room_combo.setVisible(several)
        self.room_label.setVisible(several)

    def set_fused_names(self, names: Mapping[str, dict[int, str]]) -> None:
        """The names other senses give each room's blobs (room → blob id → name; a face a
        camera recognised on the same person), shown where no registered device names the
        blob. Drawn with the room's next tick."""
        self._fused_names = dict(names)
        shown = self._fused_names.get(self.current_room_id or "", {})
        self.view.fused_names = shown
        self.blob_table.blob_model.fused_names = shown

    def set_tags_inside(self, tags: Mapping[str, tuple[str, ...]]) -> None:
        """The tags each room without a camera or tag reader holds: they went in at its door
        and have not been heard since (room → names)."""
        self._tags_inside = {room: names for room, names in tags.items() if names}
        self._show_tags_inside()

    def _show_tags_inside(self) -> None:
        names = self._tags_inside.get(self.current_room_id or "", ())
        if not names or self._replaying:
            self.inside_label.hide()
            return
        self.inside_label.setText(
            f"Tags in here: {', '.join(printable(n) for n in names)} (went in, not heard since)"
        )
        self.inside_label.setToolTip(
            "No camera sees into this room and its nodes hear no tags, so it cannot name "
            "anyone itself. These tags fell silent at its door and have not been heard since. "
            "When the room senses one person and holds one tag, that tag names them; with two "
            "people in one blob it does not guess."
        )
        self.inside_label.show()

    def set_snapshot(self, snapshot: SensingSnapshot) -> None:
        """A room's latest fusion tick; drawn when that room is selected (and no replay
        is shown)."""
        if snapshot.room_id not in {room_id for room_id, _ in self._rooms}:
            # Snapshots from a room nobody listed yet: list it rather than drop it.
            self.set_rooms([*self._rooms, (snapshot.room_id, snapshot.room_name)])
        self._latest[snapshot.room_id] = snapshot
        if snapshot.room_id == self.current_room_id and not self._replaying:
            self._draw(snapshot)

    def _draw(self, snapshot: SensingSnapshot) -> None:
        shown = self._fused_names.get(snapshot.room_id, {}) if not self._replaying else {}
        self.view.fused_names = shown
        self.blob_table.blob_model.fused_names = shown
        self.view.set_snapshot(snapshot)
        self.blob_table.set_snapshot(snapshot)
        self.node_table.set_snapshot(snapshot)
        degraded = self.node_table.health_model.degraded_links
        self.degraded_label.setText("Degraded links: " + ", ".join(degraded))
        self.degraded_label.setVisible(bool(degraded))
        online = sum(n.online for n in snapshot.nodes)
        parts = [
            f"room worked out in {snapshot.tick_ms:.1f} ms",
            self.people_now(snapshot).words(),
            f"{online}/{len(snapshot.nodes)} nodes online",
        ]
        if snapshot.simulated:
            parts.append("simulated CSI (built-in simulator), not real nodes")
        self.status_label.setText(" · ".join(parts))
        if snapshot.pairing_open_s > 0.0:
            self.pairing_label.setText(f"Pairing open: {math.ceil(snapshot.pairing_open_s)} s left")
        else:
            self.pairing_label.setText("Pairing closed")

    def people_now(self, snapshot: SensingSnapshot) -> SensedPeople:
        """The people ``snapshot``'s blobs are, as the pane counts them: named by fusion
        (live only) or their devices, two blobs with one name one person."""
        fused = self._fused_names.get(snapshot.room_id, {}) if not self._replaying else {}
        return sensed_people(snapshot.blobs, fused)

    def set_explanation(self, explanation: BlobExplanation | None) -> None:
        """Show why a blob is where it is (from the engine, after :attr:`sig_blob_clicked`);
        None clears. An explanation for a room not selected is dropped (it is stale)."""
        if explanation is not None and explanation.room_id != self.current_room_id:
            return
        self.view.set_explanation(explanation)
        snapshot = self._latest.get(explanation.room_id) if explanation is not None else None
        names = {n.node_id: n.name for n in snapshot.nodes} if snapshot is not None else {}
        self.explanation_table.set_explanation(explanation, names)
        self.explanation_table.setVisible(explanation is not None)
        if explanation is None:
            self.explanation_label.setText(
                self.live_room_elsewhere or "Click a blob to see which links put it there"
            )
        else:
            x, y, z = explanation.position
            self.explanation_label.setText(
                f"{self._blob_title(explanation.room_id, explanation.track_id)}: value "
                f"{explanation.value:.3f} at ({x:.1f}, {y:.1f}, {z:.1f}) m, from "
                f"{len(explanation.shares)} links"
            )

    def set_live_room_elsewhere(self, where: str) -> None:
        """The live room runs in another process (``where`` says which engine, and that
        explanations and pairing are done there; "": it runs here). Its pictures still
        arrive through :meth:`set_snapshot`."""
        self.live_room_elsewhere = printable(where)
        if self.view.explanation is None:
            self.set_explanation(None)

    def set_explanation_elsewhere(self, room_id: str, track_id: int) -> None:
        """A blob was clicked whose explanation only the engine holding the room can give:
        say so, naming the blob, instead of an empty explanation."""
        self.set_explanation(None)
        if room_id == self.current_room_id:
            self.explanation_label.setText(
                f"{self._blob_title(room_id, track_id)}: not explained here. "
                f"{self.live_room_elsewhere}."
            )

    def _blob_title(self, room_id: str, track_id: int) -> str:
        """``Blob #7``, with who it is when a registered device names it in the room's
        latest tick: ``Blob #7 — Alice (match 0.82)``, or the name its person has across
        senses where that is another (:meth:`set_fused_names`): ``Blob #7 — Carol (named
        with the camera)``, as the blob table and the camera's tile say."""
        snapshot = self._latest.get(room_id)
        blobs = snapshot.blobs if snapshot is not None else ()
        blob = next((b for b in blobs if b.track_id == track_id), None)
        fused = other_name(blob, self._fused_names.get(room_id, {}).get(track_id))
        if fused is not None:
            return f"Blob #{track_id} — {fused} (named with the camera)"
        if blob is None or blob.identity is None:
            return f"Blob #{track_id}"
        identity = blob.identity
        return f"Blob #{track_id} — {printable(identity.name)} (match {identity.score:.2f})"

    def _on_blob_row_clicked(self, index: QModelIndex) -> None:
        room_id = self.current_room_id
        if index.isValid() and room_id is not None:
            blob = self.blob_table.blob_model.row(index)
            self.sig_blob_clicked.emit(room_id, blob.track_id)

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Pairing is offered to who may configure nodes, where real nodes can join (see
        :attr:`pairing_unavailable`); to nobody while the console is locked."""
        if actor is not None and self.pairing_unavailable:
            self.set_pairing_allowed(False, self.pairing_unavailable)
        else:
            self.set_pairing_allowed(actor is not None and actor.may(Permission.CONFIGURE_NODES))

    def set_pairing_allowed(self, allowed: bool, why_not: str = NOT_ADMIN_TEXT) -> None:
        """Whether the person at the console may open pairing (admins only)."""
        self._pairing_allowed = allowed
        self.pairing_button.setEnabled(allowed)
        self.pairing_button.setToolTip(
            "Let a new sensing node join: it must connect while pairing is open"
            if allowed
            else why_not
        )

    def _on_pairing_requested(self) -> None:
        room_id = self.current_room_id
        if self._pairing_allowed and room_id is not None:
            self.sig_pairing_requested.emit(room_id, PAIRING_SECONDS)

    def _on_room_changed(self, index: int) -> None:
        room_id = self.current_room_id
        self.set_explanation(None)
        self._show_recording_problem()
        self._show_tags_inside()
        if room_id is None:
            return
        snapshot = self._latest.get(room_id)
        if self._replaying:
            pass  # the replay draws the room's replayed moment
        elif snapshot is not None:
            self._draw(snapshot)
        else:
            self.view.clear()
            self.blob_table.clear()
            self.node_table.set_nodes(())
            self.degraded_label.hide()
            self.status_label.setText("waiting for the first picture of the room…")
        self.sig_room_selected.emit(room_id)


def _node_label_anchor(position: Vec3) -> Vec3:
    """Where a node's label is anchored (before the common lift): at the node, or for a low
    node :data:`LOW_LABEL_DROP_M` below it."""
    x, y, z = position
    return (x, y, z - LOW_LABEL_DROP_M) if z < LOW_NODE_M else (x, y, z)
