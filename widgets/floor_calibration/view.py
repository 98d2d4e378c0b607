"""The Floor calibration page: a camera's picture mapped onto the site's floor plan.

An admin picks a camera, clicks points on the floor in a still of its picture and types
where each is on the floor plan (metres), or picks a sensing room and clicks its four floor
corners in order. At every change the page refits (:func:`~engine.fusion.floor.calibrate`,
pure numpy over at most 64 points: milliseconds, so on the GUI thread) and shows the error
in metres of each point and their median, the worst point in the table and on the picture,
the engine's one-line verdict, or in plain words why the points do not fit. With a fit the
floor's metre grid and the sensing rooms' walls are drawn back onto the picture, so the
admin sees whether it lies on the floor, and a small plan shows the rooms, the nodes, the
camera and the floor its picture covers. Save stores it through the engine's
:class:`~engine.fusion.floor.CalibrateCamera`.

The page never touches the store: the console gives it a :class:`FloorCalibrationActions`
object (blocking calls made as the person logged in, whose permission the engine checks)
and a query client, and runs every call on the client's workers; the answers come back on
the GUI thread. The picture is the camera's newest frame, handed over already in memory.
Every method here runs on the GUI thread; nothing here starts a thread or reads a file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.config import SensingRoomConfig, SiteConfig
from engine.fusion.floor import (
    MAX_PAIRS,
    MIN_PAIRS,
    TARGET_ERROR_M,
    CalibrationError,
    FloorCalibration,
    PointPair,
    StoredCalibration,
    calibrate,
    room_corner_pairs,
)
from engine.sitetime import display
from engine.text import printable
from engine.wording import display_actor
from widgets.camera_picture import CameraPictureCanvas, CameraPicturePage
from widgets.colours import (
    ACCENT,
    ALARM_RED,
    ALARM_TINT,
    CANVAS,
    MARK_WHITE,
    MUTED_GREY,
    OK_GREEN,
    RAISED,
    TEXT,
    WARNING_AMBER,
    WARNING_TINT,
    ZONE_ORANGE,
)
from widgets.floor_calibration.api import FloorCalibrationActions
from widgets.floor_calibration.geometry import (
    Box,
    Point,
    Segment,
    footprint,
    grid_in_picture,
    outline_in_picture,
    share_seen,
    to_picture,
)
from widgets.queries import QueryClient

_log = logging.getLogger(__name__)

NOT_ALLOWED_TEXT = "Saving a floor calibration needs the configure_cameras permission (admins)."
NO_CAMERA_TEXT = "The site has no cameras to calibrate."
NO_VALUE = "—"
CORNER_NAMES: Final = (
    "the room's origin corner",
    "the corner along its width from there",
    "the far corner",
    "the corner along its depth from the origin",
)
_POINT_RADIUS_PX = 6.0
_GRAB_RADIUS_PX = 10.0  # a press this close to a point picks it up rather than adding one
_PLAN_MARGIN_M = 1.0
SIDE_MIN_WIDTH_PX = 440  # the table's five columns and the plan, beside the picture

COLUMN_NUMBER, COLUMN_PICTURE, COLUMN_X, COLUMN_Y, COLUMN_ERROR = range(5)
_HEADERS = ("#", "Picture (px)", "Floor X (m)", "Floor Y (m)", "Error (m)")


@dataclass(frozen=True, slots=True)
class PointRow:
    """One row of the table: a picture point (``u``, ``v`` pixels; None: a room corner not
    clicked yet) and its floor place (``x``, ``y`` metres; None: not typed yet). ``corner``
    (0–3) marks a sensing room's corner, whose floor place is the room's."""

    u: float | None = None
    v: float | None = None
    x: float | None = None
    y: float | None = None
    corner: int | None = None

    @property
    def has_picture(self) -> bool:
        return self.u is not None and self.v is not None

    @property
    def has_floor(self) -> bool:
        return self.x is not None and self.y is not None

    @property
    def complete(self) -> bool:
        return self.has_picture and self.has_floor

    def pair(self) -> PointPair:
        assert self.u is not None and self.v is not None
        assert self.x is not None and self.y is not None
        return PointPair(self.u, self.v, self.x, self.y)


def parse_metres(text: str) -> float | None:
    """A floor coordinate as an admin types it: ``3.5``, ``3,5``, ``-2 m``. None for an empty
    cell; :class:`ValueError` for anything else that is not a finite number."""
    cleaned = text.strip().lower().removesuffix("m").strip().replace(",", ".")
    if not cleaned:
        return None
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a number of metres")
    return value


def room_corner_places(room: SensingRoomConfig) -> list[Point]:
    """The floor places of ``room``'s four corners in the order they are clicked (the
    engine's order: :func:`~engine.fusion.floor.room_corner_pairs`)."""
    pairs = room_corner_pairs(
        (room.origin.x_m, room.origin.y_m),
        (room.box.width_m, room.box.depth_m),
        [(0.0, 0.0)] * 4,
    )
    return [(pair.x, pair.y) for pair in pairs]


def metres_text(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def calibrated_text(stored: StoredCalibration) -> str:
    """``calibrated by ada at 2026-11-26 18:40 GMT``, in the site's time."""
    at = stored.calibrated_at
    shown = display()
    return (
        f"calibrated by {display_actor(stored.calibrated_by)} at "
        f"{shown.full_minutes(at)} {shown.zone_label(at)}"
    )


def verdict(fit: FloorCalibration) -> str:
    """The fit in one line, lower case first: the engine's own line
    (:meth:`~engine.fusion.floor.FloorCalibration.describe`), except where a point cannot be
    checked at all (without it the others do not fix the floor, or put it beyond their
    horizon), which the engine's line would give as an infinite error."""
    if all(math.isfinite(e) for e in fit.errors_m):
        return fit.describe()
    unchecked = [str(n) for n, e in enumerate(fit.errors_m, start=1) if not math.isfinite(e)]
    which = f"point {unchecked[0]}" if len(unchecked) == 1 else f"points {', '.join(unchecked)}"
    reason = f"without {which} the others do not place {'it' if len(unchecked) == 1 else 'them'}"
    median = fit.error_m
    if median is None or not math.isfinite(median):
        return (
            f"the error is not known yet: {reason}; add points spread over the floor, away "
            "from the lines through the others"
        )
    within = "within" if median <= TARGET_ERROR_M else "above"
    return (
        f"error {median:.2f} m median over {len(fit.pairs)} points ({within} the "
        f"{TARGET_ERROR_M:.1f} m target), but {which} cannot be checked: {reason}"
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# ------------------------------------------------------------------------------ the table


class PointsModel(QAbstractTableModel):
    """The point pairs being placed, with each one's error once the points fit. The floor
    place of a point that is not a room's corner is typed in place."""

    sig_rows_changed = Signal()
    """A point was added, moved, typed or removed (GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PointRow] = []
        self._errors: dict[int, float] = {}  # row → leave-one-out error (m)
        self._worst: int | None = None
        self._room_name = ""
        self.last_refusal = ""  # why the last typed value was not taken ("" when it was)

    # -- rows --------------------------------------------------------------------------------
    def rows(self) -> list[PointRow]:
        return list(self._rows)

    def set_rows(self, rows: Sequence[PointRow], room_name: str = "") -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._room_name = room_name
        self._errors = {}
        self._worst = None
        self.endResetModel()
        self.sig_rows_changed.emit()

    def append(self, row: PointRow) -> int:
        at = len(self._rows)
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.append(row)
        self.endInsertRows()
        self.sig_rows_changed.emit()
        return at

    def replace_row(self, at: int, row: PointRow) -> None:
        self._rows[at] = row
        self.dataChanged.emit(self.index(at, 0), self.index(at, self.columnCount() - 1))
        self.sig_rows_changed.emit()

    def remove(self, at: int) -> None:
        """Remove row ``at``; a room's corner keeps its row and loses its picture point, so
        the next click places it again."""
        row = self._rows[at]
        if row.corner is not None:
            self.replace_row(at, replace(row, u=None, v=None))
            return
        self.beginRemoveRows(QModelIndex(), at, at)
        del self._rows[at]
        self.endRemoveRows()
        self.sig_rows_changed.emit()

    def set_results(self, errors: dict[int, float], worst: int | None) -> None:
        """Show each row's error (metres, by row) and mark the worst row (None: none)."""
        self._errors = dict(errors)
        self._worst = worst
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, COLUMN_ERROR))

    def error_of(self, row: int) -> float | None:
        return self._errors.get(row)

    def worst_row(self) -> int | None:
        return self._worst

    # -- Qt model ----------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                "The point's number, as the picture and the error line name it",
                "Where the point is in the picture: pixels from its left and top edges",
                "Where the point is on the floor plan, metres along x (type it)",
                "Where the point is on the floor plan, metres along y (type it)",
                "How far off this point is when the others place it (leave-one-out), metres",
            )[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if (
            index.isValid()
            and index.column() in (COLUMN_X, COLUMN_Y)
            and self._rows[index.row()].corner is None
        ):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def text(self, at: int, column: int) -> str:
        row = self._rows[at]
        if column == COLUMN_NUMBER:
            return str(at + 1)
        if column == COLUMN_PICTURE:
            if not row.has_picture:
                return f"click corner {(row.corner or 0) + 1}" if row.corner is not None else ""
            assert row.u is not None and row.v is not None
            return f"{row.u:.0f}, {row.v:.0f}"
        if column == COLUMN_X:
            return metres_text(row.x)
        if column == COLUMN_Y:
            return metres_text(row.y)
        error = self._errors.get(at)
        if error is None:
            return NO_VALUE
        return f"{error:.2f}" if math.isfinite(error) else "no fit"

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        at, column = index.row(), index.column()
        row = self._rows[at]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self.text(at, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column != COLUMN_PICTURE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and at == self._worst:
            error = self._errors.get(at, 0.0)
            return QBrush(QColor(ALARM_TINT if error > TARGET_ERROR_M else WARNING_TINT))
        if role == Qt.ItemDataRole.ForegroundRole:
            if column in (COLUMN_X, COLUMN_Y) and row.corner is not None:
                return QColor(MUTED_GREY)  # the room's: not typed here
            if column == COLUMN_ERROR and at in self._errors:
                return QColor(ALARM_RED if self._errors[at] > TARGET_ERROR_M else OK_GREEN)
            if column == COLUMN_PICTURE and not row.has_picture:
                return QColor(WARNING_AMBER)
        if role == Qt.ItemDataRole.FontRole and at == self._worst:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(at, column)
        return None

    def setData(
        self,
        index: QModelIndex | QPersistentModelIndex,
        value: Any,
        role: int = Qt.ItemDataRole.EditRole,
    ) -> bool:
        """A floor coordinate typed in: metres (``3.5``, ``3,5``, ``-2 m``); an empty cell
        clears it. Anything else is refused (:attr:`last_refusal` says why)."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        at, column = index.row(), index.column()
        row = self._rows[at]
        if column not in (COLUMN_X, COLUMN_Y) or row.corner is not None:
            return False
        try:
            metres = parse_metres(str(value))
        except ValueError:
            axis = "X" if column == COLUMN_X else "Y"
            self.last_refusal = (
                f"Point {at + 1}: {printable(str(value))!r} is not a floor {axis} in metres "
                "(type a number such as 3.5)"
            )
            return False
        self.last_refusal = ""
        changed = replace(row, x=metres) if column == COLUMN_X else replace(row, y=metres)
        self.replace_row(at, changed)
        return True

    def _tooltip(self, at: int, column: int) -> str | None:
        row = self._rows[at]
        if row.corner is not None and column in (COLUMN_NUMBER, COLUMN_X, COLUMN_Y):
            name = printable(self._room_name) or "the room"
            return f"Corner {row.corner + 1} of {name}: {CORNER_NAMES[row.corner]}"
        if column in (COLUMN_X, COLUMN_Y) and not row.has_floor:
            return "Double-click and type where this point is on the floor plan, in metres"
        if column == COLUMN_ERROR:
            error = self._errors.get(at)
            if error is None:
                return (
                    "Known once five or more points fit: each is checked against where the "
                    "others place it"
                )
            if not math.isfinite(error):
                return "The other points put this one beyond the horizon: check its floor place"
            return f"The others place this point {error:.2f} m from where you said it is"
        return None


class _MetresDelegate(QStyledItemDelegate):
    """Floor coordinates are typed as text (``3.5``, ``3,5``, ``-2 m``), never spun: a spin
    box's range and two decimals would hide what was typed."""

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        editor = QLineEdit(parent)
        editor.setPlaceholderText("metres")
        editor.setAccessibleName("Floor place, metres")
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QLineEdit):
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            editor.selectAll()

    def setModelData(
        self,
        editor: QWidget,
        model: Any,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if isinstance(editor, QLineEdit):
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)


# ---------------------------------------------------------------------------- the picture


@dataclass(frozen=True, slots=True)
class PictureMark:
    """A point drawn on the picture: its row, number, place (pixels) and how it is drawn
    (``worst``: the point farthest off, ``off_target`` when that is more than the target
    error; ``selected``: its row is selected)."""

    row: int
    number: int
    u: float
    v: float
    worst: bool = False
    selected: bool = False
    off_target: bool = False


@dataclass(frozen=True, slots=True)
class PictureOverlay:
    """What is drawn over the picture, in picture pixels: the points, the floor grid (every
    fifth line ``major``), the sensing rooms' walls with their names, and for each point
    where the fit puts its typed floor place (``residuals``: click → fitted place)."""

    marks: tuple[PictureMark, ...] = ()
    grid_major: tuple[Segment, ...] = ()
    grid_minor: tuple[Segment, ...] = ()
    rooms: tuple[tuple[str, tuple[Segment, ...]], ...] = ()
    residuals: tuple[Segment, ...] = ()


class PictureCanvas(CameraPictureCanvas):
    """The camera's still, scaled to fit (aspect kept), with the overlay drawn over it.

    A left click on the picture asks for a point there; pressing on a point picks it up to
    drag it; a right click on a point (or Delete with a point selected) asks to remove it.
    Coordinates are the picture's own pixels. Without a picture, a grey area of the
    picture's size (or 4:3) says why, and clicks ask for nothing."""

    sig_picture_clicked = Signal(float, float)
    """A left click on the picture away from every point (GUI thread): its (u, v) pixels."""

    sig_point_pressed = Signal(int)
    """A point was pressed, to select or drag it (GUI thread): its row."""

    sig_point_dragged = Signal(int, float, float)
    """A point is being dragged (GUI thread): its row and its new (u, v) pixels."""

    sig_point_remove_requested = Signal(int)
    """A right click on a point, or Delete with one selected (GUI thread): its row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Camera picture for calibration",
            "Click a point on the floor to add it; drag a point to move it; right-click a "
            "point (or select it and press Delete) to remove it",
            parent,
        )
        self._overlay = PictureOverlay()
        self._dragging: int | None = None
        self._selected: int | None = None

    # -- state -----------------------------------------------------------------------------
    def set_overlay(self, overlay: PictureOverlay, selected: int | None) -> None:
        self._overlay = overlay
        self._selected = selected
        self.update()

    def overlay(self) -> PictureOverlay:
        return self._overlay

    # -- geometry --------------------------------------------------------------------------
    def widget_point(self, u: float, v: float) -> QPointF:
        """The widget position of picture pixel (u, v)."""
        rect = self.picture_rect()
        width, height = self._size or (1, 1)
        return QPointF(rect.x() + u * rect.width() / width, rect.y() + v * rect.height() / height)

    def picture_point(self, position: QPointF) -> tuple[float, float] | None:
        """The picture pixel at a widget position; None outside the picture."""
        if self._size is None:
            return None
        rect = self.picture_rect()
        if rect.width() <= 0 or rect.height() <= 0:
            return None
        width, height = self._size
        u = (position.x() - rect.x()) * width / rect.width()
        v = (position.y() - rect.y()) * height / rect.height()
        if not (-0.5 <= u <= width + 0.5 and -0.5 <= v <= height + 0.5):
            return None
        return min(max(u, 0.0), float(width)), min(max(v, 0.0), float(height))

    def mark_at(self, position: QPointF) -> int | None:
        """The row of the point drawn under ``position`` (the nearest within reach)."""
        best: tuple[float, int] | None = None
        for mark in self._overlay.marks:
            at = self.widget_point(mark.u, mark.v)
            distance = math.hypot(at.x() - position.x(), at.y() - position.y())
            if distance <= _GRAB_RADIUS_PX and (best is None or distance < best[0]):
                best = (distance, mark.row)
        return best[1] if best is not None else None

    # -- events ----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self._press_to_act_on(event):
            return
        position = event.position()
        row = self.mark_at(position)
        if event.button() == Qt.MouseButton.RightButton:
            if row is not None:
                self.sig_point_remove_requested.emit(row)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if row is not None:
            self._dragging = row
            self.sig_point_pressed.emit(row)
            return
        point = self.picture_point(position)
        if point is not None:
            self.sig_picture_clicked.emit(*point)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging is None:
            over = self._frame is not None and self.mark_at(event.position()) is not None
            self.setCursor(Qt.CursorShape.OpenHandCursor if over else Qt.CursorShape.CrossCursor)
            return
        point = self.picture_point(event.position())
        if point is not None:
            self.sig_point_dragged.emit(self._dragging, *point)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._dragging = None
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected is not None:
            self.sig_point_remove_requested.emit(self._selected)
            event.accept()
            return
        super().keyPressEvent(event)

    def legend(self) -> list[str]:
        """What the marks drawn now mean, as the legend under the picture says it."""
        overlay = self._overlay
        items = []
        if overlay.marks:
            items.append("point (number as in the table)")
        if any(mark.worst for mark in overlay.marks):
            items.append("the point farthest off (red: more than the target)")
        if overlay.grid_major or overlay.grid_minor:
            items.append("the floor's 1 m grid as the points place it (every 5 m bolder)")
        if overlay.rooms:
            items.append("a sensing room's walls")
        if overlay.residuals:
            items.append("from a click to where its typed floor place falls")
        return items

    # -- internals -------------------------------------------------------------------------
    def _paint_under_picture(self, painter: QPainter, rect: QRectF) -> None:
        """The legend in the space under the picture, when there is room for it."""
        items = self.legend()
        metrics = QFontMetricsF(self.font())
        line = metrics.height() + 4
        if not items or self.height() - rect.bottom() < 2 * line + 8:
            return
        painter.setFont(self.font())
        x, y = rect.left(), rect.bottom() + 8
        swatch = 22.0
        for text in items:
            width = swatch + 6 + metrics.horizontalAdvance(text) + 18
            if x > rect.left() and x + width > rect.right():
                x, y = rect.left(), y + line
            if y + line > self.height():
                return
            middle = QPointF(x + swatch / 2, y + line / 2)
            self._paint_swatch(painter, text, middle, swatch)
            painter.setPen(QColor(MUTED_GREY))
            painter.drawText(QPointF(x + swatch + 6, y + (line + metrics.ascent()) / 2 - 2), text)
            x += width

    def _paint_swatch(self, painter: QPainter, item: str, middle: QPointF, width: float) -> None:
        left, right = middle - QPointF(width / 2, 0), middle + QPointF(width / 2, 0)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if item.startswith("point"):
            painter.setPen(QPen(QColor(CANVAS), 2.0))
            painter.setBrush(QBrush(QColor(ACCENT)))
            painter.drawEllipse(middle, _POINT_RADIUS_PX, _POINT_RADIUS_PX)
        elif item.startswith("the point farthest"):
            painter.setPen(QPen(QColor(CANVAS), 2.0))
            painter.setBrush(QBrush(QColor(WARNING_AMBER)))
            painter.drawEllipse(middle, _POINT_RADIUS_PX, _POINT_RADIUS_PX)
        elif item.startswith("the floor"):
            painter.setPen(QPen(QColor(ACCENT), 2.0))
            painter.drawLine(left, right)
        elif item.startswith("a sensing room"):
            painter.setPen(QPen(QColor(ZONE_ORANGE), 2.5))
            painter.drawLine(left, right)
        else:
            painter.setPen(QPen(QColor(MARK_WHITE), 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(left, right)

    def _line(self, painter: QPainter, segment: Segment) -> None:
        painter.drawLine(self.widget_point(*segment[0]), self.widget_point(*segment[1]))

    def _paint_on_picture(self, painter: QPainter) -> None:
        overlay = self._overlay
        # The grid: a dark casing under a light line reads on bright and dark floors alike.
        for segments, width, alpha in (
            (overlay.grid_minor, 1.0, 150),
            (overlay.grid_major, 2.0, 220),
        ):
            casing = QColor(CANVAS)
            casing.setAlpha(alpha // 2)
            painter.setPen(QPen(casing, width + 2))
            for segment in segments:
                self._line(painter, segment)
            line = QColor(ACCENT)
            line.setAlpha(alpha)
            painter.setPen(QPen(line, width))
            for segment in segments:
                self._line(painter, segment)
        room_pen = QPen(QColor(ZONE_ORANGE), 2.5)
        for name, walls in overlay.rooms:
            painter.setPen(QPen(QColor(CANVAS), 4.5))
            for segment in walls:
                self._line(painter, segment)
            painter.setPen(room_pen)
            for segment in walls:
                self._line(painter, segment)
            if walls and name:
                longest = max(walls, key=lambda s: math.dist(s[0], s[1]))
                middle = (
                    (longest[0][0] + longest[1][0]) / 2,
                    (longest[0][1] + longest[1][1]) / 2,
                )
                self._label(painter, self.widget_point(*middle), name, QColor(ZONE_ORANGE))
        residual_pen = QPen(QColor(MARK_WHITE), 1.5, Qt.PenStyle.DashLine)
        for start, end in overlay.residuals:
            painter.setPen(residual_pen)
            a, b = self.widget_point(*start), self.widget_point(*end)
            painter.drawLine(a, b)
            painter.setPen(QPen(QColor(MARK_WHITE), 1.5))
            painter.drawLine(b + QPointF(-4, -4), b + QPointF(4, 4))
            painter.drawLine(b + QPointF(-4, 4), b + QPointF(4, -4))
        for mark in overlay.marks:
            self._paint_mark(painter, mark)

    def _paint_mark(self, painter: QPainter, mark: PictureMark) -> None:
        centre = self.widget_point(mark.u, mark.v)
        fill = QColor((ALARM_RED if mark.off_target else WARNING_AMBER) if mark.worst else ACCENT)
        radius = _POINT_RADIUS_PX * (1.35 if mark.worst else 1.0)
        if mark.selected or mark.worst:
            painter.setPen(QPen(QColor(MARK_WHITE), 2.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, radius + 4, radius + 4)
        painter.setPen(QPen(QColor(CANVAS), 2.0))
        painter.setBrush(QBrush(fill))
        painter.drawEllipse(centre, radius, radius)
        self._label(painter, centre + QPointF(radius + 4, -radius - 4), str(mark.number), fill)

    def _label(self, painter: QPainter, at: QPointF, text: str, colour: QColor) -> None:
        """``text`` on a dark rounded plate at ``at`` (its bottom-left), readable on any
        picture."""
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        width = metrics.horizontalAdvance(text) + 8
        height = metrics.height() + 2
        plate = QRectF(at.x(), at.y() - height, width, height)
        backing = QColor(CANVAS)
        backing.setAlpha(210)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(backing))
        painter.drawRoundedRect(plate, 3, 3)
        painter.setPen(colour if colour.lightness() > 110 else QColor(TEXT))
        painter.drawText(plate, Qt.AlignmentFlag.AlignCenter, text)


# -------------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class PlanScene:
    """What the plan shows, in floor metres: the area drawn (``extent``), the sensing
    rooms (name, box), the nodes (name, place), the camera's place from the site file
    (None: not given), the point pairs' floor places (number, place, colour), and the floor
    the calibrated camera's picture covers (``footprint``; empty without a fit)."""

    extent: Box
    rooms: tuple[tuple[str, Box], ...] = ()
    nodes: tuple[tuple[str, Point], ...] = ()
    camera: tuple[str, Point] | None = None
    points: tuple[tuple[int, Point, str], ...] = ()
    footprint: tuple[Point, ...] = ()


class FloorPlanView(QWidget):
    """A small top-down plan of the floor (x to the right, y up), metres to scale: the
    sensing rooms as named boxes, their nodes, the camera, the points' floor places and the
    floor the camera's picture covers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene: PlanScene | None = None
        self.setMinimumSize(260, 190)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Floor plan with the camera's view")

    def sizeHint(self) -> QSize:
        return QSize(420, 300)

    def set_scene(self, scene: PlanScene) -> None:
        self._scene = scene
        self.update()

    def scene(self) -> PlanScene | None:
        return self._scene

    def _mapping(self, extent: Box) -> Callable[[float, float], QPointF]:
        font = QFontMetricsF(self.font())
        left = font.horizontalAdvance("-00 m") + 6
        bottom = font.height() + 6
        area = QRectF(self.rect()).adjusted(left, 6, -8, -bottom)
        scale = min(
            area.width() / max(extent.width, 1e-6), area.height() / max(extent.height, 1e-6)
        )
        x_off = area.x() + (area.width() - extent.width * scale) / 2
        y_off = area.y() + (area.height() + extent.height * scale) / 2

        def to_widget(x: float, y: float) -> QPointF:
            return QPointF(x_off + (x - extent.x0) * scale, y_off - (y - extent.y0) * scale)

        return to_widget

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(CANVAS))
        scene = self._scene
        if scene is None:
            painter.end()
            return
        extent = scene.extent
        at = self._mapping(extent)
        self._paint_grid(painter, extent, at)
        if len(scene.footprint) >= 3:
            view = QColor(ACCENT)
            view.setAlpha(60)
            painter.setPen(QPen(QColor(ACCENT), 1.5))
            painter.setBrush(QBrush(view))
            painter.drawPolygon(QPolygonF([at(x, y) for x, y in scene.footprint]))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for name, box in scene.rooms:
            painter.setPen(QPen(QColor(ZONE_ORANGE), 2))
            corners = [at(x, y) for x, y in box.corners()]
            painter.drawPolygon(QPolygonF(corners))
            painter.setPen(QColor(ZONE_ORANGE))
            label_at = at(box.x0, box.y1)
            painter.drawText(label_at + QPointF(4, QFontMetricsF(self.font()).ascent() + 2), name)
        painter.setPen(QPen(QColor(CANVAS), 1))
        painter.setBrush(QBrush(QColor(MUTED_GREY)))
        for _name, (x, y) in scene.nodes:
            painter.drawEllipse(at(x, y), 3.0, 3.0)
        for number, (x, y), colour in scene.points:
            centre = at(x, y)
            painter.setPen(QPen(QColor(CANVAS), 1.5))
            painter.setBrush(QBrush(QColor(colour)))
            painter.drawEllipse(centre, 4.5, 4.5)
            painter.setPen(QColor(TEXT))
            painter.drawText(centre + QPointF(6, -4), str(number))
        if scene.camera is not None:
            name, (x, y) = scene.camera
            centre = at(x, y)
            path = QPainterPath()
            path.addRect(QRectF(centre.x() - 7, centre.y() - 5, 14, 10))
            painter.setPen(QPen(QColor(CANVAS), 1.5))
            painter.setBrush(QBrush(QColor(MARK_WHITE)))
            painter.drawPath(path)
            painter.setPen(QColor(TEXT))
            painter.drawText(centre + QPointF(10, 4), name)
        painter.end()

    def _paint_grid(
        self, painter: QPainter, extent: Box, at: Callable[[float, float], QPointF]
    ) -> None:
        span = max(extent.width, extent.height)
        step = 1.0 if span <= 30 else 5.0 if span <= 150 else 25.0
        label_step = step * (1 if span / step <= 12 else 5)
        metrics = QFontMetricsF(self.font())
        faint = QColor(RAISED)
        x = math.ceil(extent.x0 / step) * step
        while x <= extent.x1 + 1e-9:
            painter.setPen(QPen(faint, 1))
            painter.drawLine(at(x, extent.y0), at(x, extent.y1))
            if abs(x / label_step - round(x / label_step)) < 1e-6:
                painter.setPen(QColor(MUTED_GREY))
                text = f"{x:g} m"
                bottom = at(x, extent.y0)
                painter.drawText(
                    QPointF(
                        bottom.x() - metrics.horizontalAdvance(text) / 2,
                        bottom.y() + metrics.ascent() + 3,
                    ),
                    text,
                )
            x += step
        y = math.ceil(extent.y0 / step) * step
        while y <= extent.y1 + 1e-9:
            painter.setPen(QPen(faint, 1))
            painter.drawLine(at(extent.x0, y), at(extent.x1, y))
            if abs(y / label_step - round(y / label_step)) < 1e-6:
                painter.setPen(QColor(MUTED_GREY))
                text = f"{y:g} m"
                left = at(extent.x0, y)
                painter.drawText(
                    QPointF(
                        left.x() - metrics.horizontalAdvance(text) - 4,
                        left.y() + metrics.ascent() / 2 - 1,
                    ),
                    text,
                )
            y += step


# -------------------------------------------------------------------------------- the page


@dataclass(slots=True)
class _Draft:
    """One camera's table while it is being edited (kept while another camera is shown)."""

    rows: list[PointRow] = field(default_factory=list)
    room: str | None = None  # the room whose corners the rows hold, if any


class FloorCalibrationPane(CameraPicturePage[StoredCalibration, PictureCanvas]):
    """Pick a camera, place point pairs on its picture (or a sensing room's corners), see
    the fit at once, and save it.

    ``cameras``, ``frame_of`` and ``no_picture_reason`` are as for
    :class:`~widgets.camera_picture.CameraPicturePage`; ``site`` gives the sensing rooms,
    the nodes and the cameras' floor positions; ``actions`` block: the page runs them
    through ``client``."""

    sig_fit_changed = Signal()
    """The points were refitted (GUI thread): read :meth:`calibration` and :meth:`problem`."""

    # sig_stored_loaded (a camera's stored calibration was read) and sig_saved (a
    # calibration was stored): the camera's key, from CameraPicturePage.

    sig_save_finished = Signal(bool)
    """A save answered (GUI thread): whether it worked."""

    CHANNEL = "floor-calibration"
    NOT_ALLOWED_TEXT = NOT_ALLOWED_TEXT
    NO_CAMERA_TEXT = NO_CAMERA_TEXT
    REFRESH_TOOLTIP = "Show the camera's newest picture (the points stay where they are)"
    CLEAR_TOOLTIP = "Start again with no points"
    REVERT_TOOLTIP = "Put the stored calibration's points back in the table"
    SAVE_TEXT = "Save calibration"
    SAVED_WHAT = "calibration"
    READING_TEXT = "Reading the stored calibration…"
    STORED_NAME = "stored calibration"
    STORED_REQUEST = "stored floor calibration"
    STORED_TYPE = StoredCalibration

    def __init__(
        self,
        client: QueryClient,
        actions: FloorCalibrationActions,
        *,
        cameras: Sequence[tuple[str, str]],
        site: SiteConfig,
        frame_of: Callable[[str], QImage | None],
        no_picture_reason: Callable[[str], str | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            client,
            cameras=cameras,
            frame_of=frame_of,
            no_picture_reason=no_picture_reason,
            read_stored=actions.stored_calibration,
            canvas=PictureCanvas(),
            parent=parent,
        )
        self._actions = actions
        self._site = site
        self._drafts: dict[str, _Draft] = {}
        self._fit: FloorCalibration | None = None
        self._fitted_rows: list[int] = []  # the table rows the fit was made from, in order
        self._problem = ""
        # Whether the table holds the admin's own changes for this camera (not what was
        # stored or nothing): a stored calibration read later does not replace them.
        self._edited = False
        self._putting = False
        self._corner_room: str | None = None

        # -- the picture -------------------------------------------------------------------
        self.canvas.sig_picture_clicked.connect(self._on_picture_clicked)
        self.canvas.sig_point_pressed.connect(self._on_point_pressed)
        self.canvas.sig_point_dragged.connect(self._on_point_dragged)
        self.canvas.sig_point_remove_requested.connect(self._on_point_remove_requested)
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)
        self.next_label.setObjectName("calibration-next-step")
        next_font = QFont(self.next_label.font())
        next_font.setBold(True)
        self.next_label.setFont(next_font)
        outcome_font = self._outcome_font()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setFont(outcome_font)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label.setFont(outcome_font)
        picture_side = self._picture_side(self.result_label, self.problem_label, self.next_label)

        # -- how points are placed -------------------------------------------------------
        self.points_radio = QRadioButton("Points: click one, then type X and Y")
        self.points_radio.setToolTip(
            "Click a point on the floor in the picture, then type where it is on the floor "
            "plan (X, Y in metres)"
        )
        self.corners_radio = QRadioButton("A sensing room's corners")
        self.corners_radio.setToolTip(
            "Click the room's four floor corners in order: their floor places come from the "
            "site file"
        )
        self._mode_group = QButtonGroup(self)
        self._mode_group.addButton(self.points_radio)
        self._mode_group.addButton(self.corners_radio)
        self.points_radio.setChecked(True)
        self.room_combo = QComboBox()
        self.room_combo.setAccessibleName("Sensing room")
        for room in site.rooms:
            self.room_combo.addItem(printable(room.name), room.id)
        self.corners_radio.setEnabled(bool(site.rooms))
        self.room_combo.setEnabled(False)
        self.points_radio.toggled.connect(self._on_mode_changed)
        self.room_combo.currentIndexChanged.connect(self._on_room_changed)
        mode_layout = QVBoxLayout()
        mode_layout.addWidget(self.points_radio)
        corners_row = QHBoxLayout()
        corners_row.addWidget(self.corners_radio)
        corners_row.addWidget(self.room_combo, 1)
        mode_layout.addLayout(corners_row)
        self.mode_box = QGroupBox("Place")
        self.mode_box.setLayout(mode_layout)

        # -- the point pairs ---------------------------------------------------------------
        self.model = PointsModel(self)
        self.model.sig_rows_changed.connect(self._on_rows_changed)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegate(_MetresDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.remove_button = QPushButton("Remove point")
        self.remove_button.setToolTip(
            "Remove the selected point (a room's corner is cleared, to click again)"
        )
        self.remove_button.clicked.connect(self._on_remove_requested)
        table_buttons = self._work_row(self.remove_button)

        # -- the plan ----------------------------------------------------------------------
        self.plan = FloorPlanView()
        self.sees_label = QLabel()
        self.sees_label.setWordWrap(True)
        plan_layout = QVBoxLayout()
        plan_layout.addWidget(self.plan, 1)
        plan_layout.addWidget(self.sees_label)
        self.plan_box = QGroupBox("On the floor plan")
        self.plan_box.setLayout(plan_layout)

        self._runner.sig_action_finished.connect(self._on_save_finished)
        self._lay_out(
            picture_side,
            [
                (self.mode_box, 0),
                (self.table, 1),
                (table_buttons, 0),
                (self.plan_box, 1),
            ],
            side_min_width=SIDE_MIN_WIDTH_PX,
            side_stretch=2,
        )
        self._open_first_camera()

    # -- public API ------------------------------------------------------------------------
    def set_cameras(self, cameras: Sequence[tuple[str, str]], site: SiteConfig) -> None:  # type: ignore[override]
        """:meth:`CameraPicturePage.set_cameras`, with ``site``, the site running now (its
        cameras' settings); the points placed on a removed camera are dropped."""
        self._site = site
        super().set_cameras(cameras)

    def _cameras_changed(self, keys: set[str]) -> None:
        self._drafts = {key: draft for key, draft in self._drafts.items() if key in keys}

    def rows(self) -> list[PointRow]:
        return self.model.rows()

    def add_point(self, u: float, v: float) -> int | None:
        """Place a point at picture pixel (u, v), as a click does: the next room corner
        waiting for its picture point, else a new row (whose floor place is to be typed).
        Returns its row, or None when the table is full or (u, v) is not in the picture."""
        size = self.image_size()
        if size is None or not (0.0 <= u <= size[0] and 0.0 <= v <= size[1]):
            return None
        rows = self.model.rows()
        waiting = next((i for i, row in enumerate(rows) if not row.has_picture), None)
        if waiting is not None:
            self.model.replace_row(waiting, replace(rows[waiting], u=u, v=v))
            self._select_row(waiting)
            return waiting
        if len(rows) >= MAX_PAIRS:
            return None
        at = self.model.append(PointRow(u=u, v=v))
        self._select_row(at)
        return at

    def set_floor_place(self, row: int, x: float | None, y: float | None) -> None:
        """Type a point's floor place (metres; None clears it)."""
        current = self.model.rows()[row]
        self.model.replace_row(row, replace(current, x=x, y=y))

    def remove_point(self, row: int) -> None:
        self.model.remove(row)

    def use_room_corners(self, room_id: str) -> None:
        """Switch to placing ``room_id``'s four corners (clicked in order)."""
        index = self.room_combo.findData(room_id)
        if index < 0:
            raise KeyError(room_id)
        self.room_combo.setCurrentIndex(index)
        self.corners_radio.setChecked(True)
        self._set_corner_rows()

    def calibration(self) -> FloorCalibration | None:
        """The fit of the points as they stand (None: no fit)."""
        return self._fit

    def problem(self) -> str:
        """Why the points do not fit, as shown ("" when they do, or are not enough yet)."""
        return self._problem

    def next_step(self) -> str:
        return self.next_label.text()

    def result_text(self) -> str:
        return self.result_label.text()

    # -- handlers --------------------------------------------------------------------------
    def _switch_work(self, leaving: str | None, camera: str | None) -> None:
        self._keep_draft(leaving)
        draft = self._drafts.pop(camera or "", None)
        if draft is not None:
            self._put_rows(draft.rows, draft.room, edited=True)
        else:
            self._put_rows([], None, edited=False)

    def _stored_read(self, camera: str, stored: StoredCalibration | None) -> None:
        if camera == self._camera and not self._edited and stored is not None:
            # Nothing edited here for this camera yet: show what is stored.
            self._show_picture()
            self._put_rows(self._rows_from_stored(stored), None, edited=False)
        self._show_stored()
        self._update_controls()

    def _on_picture_clicked(self, u: float, v: float) -> None:
        at = self.add_point(u, v)
        if at is None:
            self.strip.show_error(f"At most {MAX_PAIRS} points: remove one to add another.")
            return
        row = self.model.rows()[at]
        if not row.has_floor:
            # Straight to typing its floor X, then Tab to Y.
            # (The current cell too, so Tab goes on to its Y.)
            index = self.model.index(at, COLUMN_X)
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
            self.table.setCurrentIndex(index)
            self.table.edit(index)

    def _on_point_pressed(self, row: int) -> None:
        self._select_row(row)

    def _on_point_dragged(self, row: int, u: float, v: float) -> None:
        rows = self.model.rows()
        if 0 <= row < len(rows):
            self.model.replace_row(row, replace(rows[row], u=u, v=v))

    def _on_point_remove_requested(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.remove_point(row)

    def _on_remove_requested(self) -> None:
        row = self._selected_row()
        if row is not None:
            self.remove_point(row)

    def _on_clear_requested(self) -> None:
        corners = self.corners_radio.isChecked()
        self._put_rows([], None, edited=True)
        if corners:
            self._set_corner_rows()

    def _on_revert_requested(self) -> None:
        stored = self.stored()
        rows = self._rows_from_stored(stored) if stored is not None else []
        self._put_rows(rows, None, edited=False)

    def _on_mode_changed(self, points_mode: bool) -> None:
        self.room_combo.setEnabled(not points_mode)
        if points_mode:
            # The corners placed stay, as ordinary points with their floor places.
            rows = [replace(r, corner=None) for r in self.model.rows() if r.has_picture]
            self._put_rows(rows, None, edited=True)
        else:
            self._set_corner_rows()

    def _on_room_changed(self, _index: int) -> None:
        if self.corners_radio.isChecked():
            self._set_corner_rows()

    def _on_rows_changed(self) -> None:
        if not self._putting:
            self._changed_here()
        self._refit()

    def _on_selection_changed(self) -> None:
        self._update_overlay()
        self._update_controls()

    def _on_save_requested(self) -> None:
        fit, camera = self._fit, self._camera
        if fit is None or camera is None or not self._changes_allowed or self._runner.is_busy():
            return
        name = self._camera_name(camera)

        def saved(value: object) -> None:
            if not isinstance(value, StoredCalibration):
                return
            self._stored[camera] = value
            self.strip.show_status(f"Saved the calibration of {name}.")
            self._show_stored()
            self.sig_saved.emit(camera)

        self._run_save(camera, partial(self._actions.save_calibration, camera, fit), saved)

    def _on_save_finished(self, _what: str, ok: bool) -> None:
        self.sig_save_finished.emit(ok)

    # -- internals -------------------------------------------------------------------------
    def _room(self) -> SensingRoomConfig | None:
        room_id = self.room_combo.currentData()
        return next((room for room in self._site.rooms if room.id == room_id), None)

    def _set_corner_rows(self) -> None:
        """The points that are not corners, then the chosen room's four corners (to click
        in order): the points' numbers and their fit stay while the corners are placed."""
        room = self._room()
        if room is None:
            return
        corners = [
            PointRow(x=x, y=y, corner=n) for n, (x, y) in enumerate(room_corner_places(room))
        ]
        others = [r for r in self.model.rows() if r.corner is None]
        self._put_rows(others + corners, room.id, edited=True)
        self.table.scrollTo(self.model.index(len(others), 0))  # the corner to click first

    def _put_rows(self, rows: Sequence[PointRow], room: str | None, *, edited: bool) -> None:
        """Show ``rows`` (``room``: the sensing room whose corners they hold), the mode
        that goes with them, and whether they are the admin's own changes."""
        room_config = next((r for r in self._site.rooms if r.id == room), None)
        self._corner_room = room if room_config is not None else None
        self._edited = edited
        if edited:
            self._changed_here()
        self._putting = True
        try:
            self.model.set_rows(rows, room_config.name if room_config else "")
        finally:
            self._putting = False
        if room is not None:
            index = self.room_combo.findData(room)
            if index >= 0 and index != self.room_combo.currentIndex():
                self.room_combo.blockSignals(True)
                self.room_combo.setCurrentIndex(index)
                self.room_combo.blockSignals(False)
        has_corners = any(r.corner is not None for r in rows)
        if has_corners != self.corners_radio.isChecked():
            self._mode_group.blockSignals(True)
            self.points_radio.blockSignals(True)
            (self.corners_radio if has_corners else self.points_radio).setChecked(True)
            self.points_radio.blockSignals(False)
            self._mode_group.blockSignals(False)
            self.room_combo.setEnabled(has_corners)

    def _changed_here(self) -> None:
        """The admin changed the points: they are theirs now, and "Saved …" is over."""
        self._edited = True
        if not self._runner.is_busy():
            self.strip.show_status("")

    def _keep_draft(self, camera: str | None) -> None:
        """Keep the admin's changes to ``camera``'s points (the table's) while another is
        shown."""
        if camera is not None and self._edited:
            self._drafts[camera] = _Draft(self.model.rows(), self._corner_room)

    def _stored_image_size(self, stored: StoredCalibration) -> tuple[int, int]:
        return stored.calibration.image_size

    def _rows_from_stored(self, stored: StoredCalibration) -> list[PointRow]:
        """The stored pairs as rows, in this picture's pixels (scaled when the camera now
        sends another size than the calibration was made on)."""
        width, height = stored.calibration.image_size
        size = self.image_size() or (width, height)
        sx, sy = size[0] / width, size[1] / height
        return [PointRow(p.u * sx, p.v * sy, p.x, p.y) for p in stored.calibration.pairs]

    def _select_row(self, row: int) -> None:
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().select(self.model.index(row, 0), flags)
        self.table.scrollTo(self.model.index(row, 0))

    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _show_all(self) -> None:
        self._refit()

    def _refit(self) -> None:
        """Fit the points as they stand and show the outcome everywhere."""
        rows = self.model.rows()
        size = self.image_size()
        self._fit, self._problem, self._fitted_rows = None, "", []
        first_gap = next((i for i, r in enumerate(rows) if not r.complete), len(rows))
        usable = rows[:first_gap]
        gap_blocks = any(r.complete for r in rows[first_gap:])
        if size is not None and not gap_blocks and len(usable) >= MIN_PAIRS:
            try:
                self._fit = calibrate([r.pair() for r in usable], size)
                self._fitted_rows = list(range(len(usable)))
            except CalibrationError as refused:
                self._problem = f"These points do not fit: {printable(str(refused))}."
        next_step = self._next_step(rows, first_gap, gap_blocks)
        errors: dict[int, float] = {}
        worst: int | None = None
        if self._fit is not None and self._fit.checked:
            errors = dict(zip(self._fitted_rows, self._fit.errors_m, strict=True))
            if self._fit.worst is not None:
                worst = self._fitted_rows[self._fit.worst[0]]
        self.model.set_results(errors, worst)
        self._show_result(next_step)
        self._update_overlay()
        self._update_plan()
        self._show_stored()
        self._update_controls()
        self.sig_fit_changed.emit()

    def _next_step(self, rows: Sequence[PointRow], first_gap: int, gap_blocks: bool) -> str:
        if self._camera is None:
            return "Choose a camera." if self._cameras else NO_CAMERA_TEXT
        if self._frame is None:
            return "No picture to click on yet: press Refresh picture once the camera is online."
        if first_gap < len(rows):
            row = rows[first_gap]
            number = first_gap + 1
            if not row.has_picture and row.corner is not None:
                room = self._room()
                name = printable(room.name) if room is not None else "the room"
                x, y = row.x or 0.0, row.y or 0.0
                return (
                    f"Click corner {row.corner + 1} of 4 of {name}: {CORNER_NAMES[row.corner]}, "
                    f"on the floor at ({x:g}, {y:g}) m. Not in the picture? Place points "
                    "instead."
                )
            if not row.has_floor:
                suffix = " before the points can be checked" if gap_blocks else ""
                return (
                    f"Type point {number}'s floor place: X and Y in metres on the floor plan"
                    f" (or remove it){suffix}."
                )
        complete = sum(1 for r in rows if r.complete)
        if self._problem:
            return "Drag a point, or add one, until the points fit."
        if complete < MIN_PAIRS:
            return (
                f"Click a point on the floor in the picture, then type where it is on the "
                f"floor plan. {complete} of at least {MIN_PAIRS} points so far."
            )
        if complete == MIN_PAIRS:
            return "Click a fifth point (or more) spread over the floor to check the fit."
        return "Drag a point to move it; right-click it to remove it. Save stores the fit."

    def _show_result(self, next_step: str) -> None:
        self.next_label.setText(next_step)
        fit = self._fit
        if fit is None:
            self.result_label.setText("")
            self.result_label.setStyleSheet("")
            self.result_label.hide()
        else:
            self.result_label.setText(_sentence(verdict(fit)) + ".")
            if not fit.checked or not all(math.isfinite(e) for e in fit.errors_m):
                colour = WARNING_AMBER
            elif (fit.error_m or 0.0) <= TARGET_ERROR_M:
                colour = OK_GREEN
            else:
                colour = ALARM_RED
            self.result_label.setStyleSheet(f"color: {colour};")
            self.result_label.show()
        self.problem_label.setText(self._problem)
        self.problem_label.setVisible(bool(self._problem))

    def _stored_text(self, stored: StoredCalibration | None) -> str:
        if stored is None:
            text = "Not calibrated yet: nothing is stored for this camera."
        else:
            text = f"Stored: {verdict(stored.calibration)}; {calibrated_text(stored)}."
            frame = self._frame
            width, height = stored.calibration.image_size
            if frame is not None and (frame.width(), frame.height()) != (width, height):
                text += (
                    f" It was made on a {width} × {height} picture; the camera now sends "
                    f"{frame.width()} × {frame.height()}, so its points are shown scaled."
                )
        if self._unsaved(stored):
            text += " The table has changes not saved."
        return text

    def _unsaved(self, stored: StoredCalibration | None) -> bool:
        """Whether the table's points differ from the stored ones (half-placed points
        count)."""
        rows = self.model.rows()
        if any(r.has_picture and not r.complete for r in rows):
            return True
        table = [r.pair() for r in rows if r.complete]
        if stored is None:
            return bool(table)
        kept = [r.pair() for r in self._rows_from_stored(stored)]
        return len(kept) != len(table) or any(
            abs(a.u - b.u) > 0.01 or abs(a.v - b.v) > 0.01 or a.x != b.x or a.y != b.y
            for a, b in zip(table, kept, strict=True)
        )

    def _extent(self) -> Box:
        """The floor the plan shows: the rooms, nodes, camera and point places, with a
        margin."""
        places: list[Point] = []
        for room in self._site.rooms:
            places += room_corner_places(room)
        rooms = {room.id: room for room in self._site.rooms}
        for node in self._site.sensing_nodes:
            home = rooms.get(node.room)
            if home is not None:
                places.append(home.to_floor(node.position.x_m, node.position.y_m))
        camera = self._camera_config_position()
        if camera is not None:
            places.append(camera)
        places += [(r.x, r.y) for r in self.model.rows() if r.x is not None and r.y is not None]
        box = Box.around(places) or Box(0.0, 0.0, 10.0, 10.0)
        margin = max(_PLAN_MARGIN_M, 0.08 * max(box.width, box.height))
        return box.grown(margin)

    def _camera_config_position(self) -> Point | None:
        config = next((c for c in self._site.cameras if c.id == self._camera), None)
        if config is None or config.position is None:
            return None
        return (config.position.x_m, config.position.y_m)

    def _update_overlay(self) -> None:
        selected = self._selected_row()
        fit = self._fit
        worst = self.model.worst_row()
        marks = tuple(
            PictureMark(
                row=i,
                number=i + 1,
                u=r.u,
                v=r.v,
                worst=i == worst,
                selected=i == selected,
                off_target=(self.model.error_of(i) or 0.0) > TARGET_ERROR_M,
            )
            for i, r in enumerate(self.model.rows())
            if r.u is not None and r.v is not None
        )
        if fit is None:
            self.canvas.set_overlay(PictureOverlay(marks=marks), selected)
            return
        # The grid covers the plan's area only: farther out it climbs walls and verges the
        # floor plane does not describe.
        within = self._extent()
        major, minor = grid_in_picture(fit, within)
        rooms = tuple(
            (
                printable(room.name),
                tuple(outline_in_picture(fit, room_corner_places(room), within)),
            )
            for room in self._site.rooms
        )
        residuals: list[Segment] = []
        for row_index in self._fitted_rows:
            row = self.model.rows()[row_index]
            assert row.u is not None and row.v is not None
            assert row.x is not None and row.y is not None
            fitted = to_picture(fit, row.x, row.y)
            if fitted is not None and math.dist(fitted, (row.u, row.v)) >= 2.0:
                residuals.append(((row.u, row.v), fitted))
        self.canvas.set_overlay(
            PictureOverlay(
                marks=marks,
                grid_major=tuple(major),
                grid_minor=tuple(minor),
                rooms=rooms,
                residuals=tuple(residuals),
            ),
            selected,
        )

    def _mark_colour(self, row: int) -> str:
        """A point's colour on the picture and the plan: the worst one amber (red when it
        is off by more than the target), the others the accent blue."""
        if row != self.model.worst_row():
            return ACCENT
        return ALARM_RED if (self.model.error_of(row) or 0.0) > TARGET_ERROR_M else WARNING_AMBER

    def _update_plan(self) -> None:
        extent = self._extent()
        rooms_by_id = {room.id: room for room in self._site.rooms}
        room_boxes = tuple(
            (
                printable(room.name),
                Box(
                    room.origin.x_m,
                    room.origin.y_m,
                    room.origin.x_m + room.box.width_m,
                    room.origin.y_m + room.box.depth_m,
                ),
            )
            for room in self._site.rooms
        )
        nodes = tuple(
            (
                printable(node.name),
                rooms_by_id[node.room].to_floor(node.position.x_m, node.position.y_m),
            )
            for node in self._site.sensing_nodes
            if node.room in rooms_by_id
        )
        position = self._camera_config_position()
        camera = (
            (self._camera_name(self._camera), position)
            if position is not None and self._camera is not None
            else None
        )
        points = tuple(
            (i + 1, (r.x, r.y), self._mark_colour(i))
            for i, r in enumerate(self.model.rows())
            if r.x is not None and r.y is not None and r.corner is None
        )
        seen = footprint(self._fit, extent) if self._fit is not None else []
        self.plan.set_scene(
            PlanScene(
                extent=extent,
                rooms=room_boxes,
                nodes=nodes,
                camera=camera,
                points=points,
                footprint=tuple(seen),
            )
        )
        self.sees_label.setText(self._sees_text(seen, room_boxes))

    def _sees_text(self, seen: Sequence[Point], rooms: Sequence[tuple[str, Box]]) -> str:
        if self._fit is None:
            return "The floor the picture covers is drawn here once the points fit."
        if not rooms:
            return "The shaded area is the floor the picture covers."
        shares = [(name, share_seen(seen, box)) for name, box in rooms]
        seen_rooms = [f"{share:.0%} of {name}" for name, share in shares if share >= 0.005]
        if not seen_rooms:
            return "The picture covers none of the sensing rooms' floor."
        return "The picture covers " + ", ".join(seen_rooms) + "."

    def _update_controls(self) -> None:
        allowed = self._changes_allowed
        idle = not self._runner.is_busy()
        self.save_button.setEnabled(
            allowed and idle and self._fit is not None and self._camera is not None
        )
        self.remove_button.setEnabled(self._selected_row() is not None)
        self.clear_button.setEnabled(self.model.rowCount() > 0)
        self.revert_button.setEnabled(self.stored() is not None)
        self.refresh_button.setEnabled(self._camera is not None)
        self.camera_combo.setEnabled(idle and bool(self._cameras))
