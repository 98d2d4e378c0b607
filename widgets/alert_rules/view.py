"""The alert rules pane: what an admin says should raise an alert, where and when.

A rule names a camera (or a sensing room), an optional zone drawn on the camera's picture, a
trigger (a person; loitering longer than N seconds; anyone sensed in a room that should be
empty; a gesture marked as alerting) and when it is armed (days of the week, a span of the
site's wall-clock day that may run past midnight). Falls always alert, so they need no rule.

The pane never touches the store: the console gives it an :class:`AlertRulesActions` object
(blocking calls made as the person logged in, whose permission the engine checks) and a
query client, and the pane runs every call on the client's workers; the answers come back on
the GUI thread. The form is checked with the engine's own :func:`~engine.alerts.rules.
check_rule` before anything is sent, and refusals (a field that is wrong, a name in use, a
missing permission) are shown beside the form as the engine words them. :class:`ZoneEditor`
draws the zone on the camera's latest picture, which the console hands over already in
memory. Every method here runs on the GUI thread; nothing here starts a thread or reads a
file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.alerts.rules import (
    DAY_NAMES,
    MAX_ZONE_POINTS,
    MINUTES_PER_DAY,
    RuleError,
    RuleSpec,
    check_rule,
    describe_schedule,
    validate_zone,
)
from engine.history.query_service import CallRequest, QueryResult
from engine.sitetime import display
from engine.text import printable
from engine.vocabulary import ALERT_SEVERITIES
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.alert_rules.api import AlertRulesActions
from widgets.colours import CANVAS, CONTROL_EDGE, RAISED, TEXT, ZONE_ORANGE
from widgets.queries import QueryClient
from widgets.scrolling import scrolling_layout
from widgets.table_model import RowsTableModel, show_rows_read_only

_log = logging.getLogger(__name__)

Zone = tuple[tuple[float, float], ...]
"""A polygon of (x, y) fractions (0-1) of the frame's width and height."""

NOT_ALLOWED_TEXT = "Adding and removing alert rules needs the configure_rules permission (admins)."
NO_PICTURE_TEXT = "No picture from this camera yet"
NO_CAMERA_TEXT = "Zones are drawn on a camera's view; a room rule covers the whole room"
WHOLE_VIEW = "whole view"
WHOLE_ROOM = "whole room"
DEFAULT_SEVERITY = "warning"
MAX_LOITER_S = 86400  # check_rule's limit: a day
_PLACEHOLDER_ASPECT = 16 / 9  # the frame area drawn on before a camera has sent a picture
_HANDLE_RADIUS_PX = 4.0
_SAME_POINT_PX = 3.0  # a click this close to the last point repeats it
CLOSE_RADIUS_PX = 12.0  # a click this close to the first corner closes the zone
CLOSE_ZONE_TEXT = "Close zone"
DRAWING_HINT = (
    "Click to add a corner of the zone; close it by clicking its first corner again, "
    "double-clicking, pressing Enter or Close zone; right-click or Backspace removes the "
    "last corner."
)
"""How a zone is drawn and closed: the privacy masks' area editor says the same of an area
(one way to close a polygon everywhere)."""
_ZONE_COLOUR = QColor(ZONE_ORANGE)
_ZONE_FILL_ALPHA = 70

CAMERA_TRIGGERS = ("person", "loitering", "gesture")
ROOM_TRIGGERS = ("sensing_blob",)
TRIGGER_TEXTS = {
    "person": "Person detected",
    "loitering": "Loitering longer than…",
    "sensing_blob": "Anyone sensed (the room should be empty)",
    "gesture": "Gesture marked as alerting",
}

COLUMN_NAME, COLUMN_WHERE, COLUMN_TRIGGER, COLUMN_ZONE, COLUMN_SCHEDULE, COLUMN_SEVERITY = range(6)
_HEADERS = ("Name", "Where", "Trigger", "Zone", "Schedule", "Severity")
COMMENT_REQUIRED_TEXT = "A comment is required to close its alerts"
ENABLED_TEXT = "Switched on (raises alerts in its armed days and hours)"
ADD_TITLE = "Add a rule"
INSTRUCTIONS_PLACEHOLDER = "What the operator should do, e.g. Call the site manager on 555-0100"


def trigger_text(rule: RuleSpec) -> str:
    """How the table shows a rule's trigger: ``loitering > 30 s``, ``gesture: wave``…"""
    if rule.trigger == "loitering":
        return f"loitering > {rule.loiter_s or 0:g} s"
    if rule.trigger == "gesture":
        return f"gesture: {printable(rule.gesture or '')}"
    if rule.trigger == "sensing_blob":
        return "anyone sensed"
    return rule.trigger


def zone_text(rule: RuleSpec) -> str:
    """``whole view``, ``4 points``, or ``whole room`` for a room rule."""
    if rule.camera is None:
        return WHOLE_ROOM
    return f"{len(rule.zone)} points" if rule.zone else WHOLE_VIEW


def camera_offline_text(camera_offline_s: float | None) -> str:
    """The camera-offline alert the site file sets (``[alerts] camera_offline_s``), said as
    a rule: ``Camera offline for 60 s (site file)``; "" when unknown."""
    if camera_offline_s is None:
        return ""
    if camera_offline_s <= 0:
        return "Camera offline: raises no alert (site file: [alerts] camera_offline_s = 0)"
    return (
        f"Camera offline for {camera_offline_s:g} s (site file): every camera, always; "
        "change or switch it off with [alerts] camera_offline_s (0: off)"
    )


def _minutes(time: QTime) -> int:
    return time.hour() * 60 + time.minute()


class _RulesModel(RowsTableModel[RuleSpec]):
    """One row per rule, in the engine's order (by name)."""

    def __init__(
        self,
        camera_names: dict[str, str],
        room_names: dict[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_HEADERS, parent)
        self._camera_names = camera_names
        self._room_names = room_names or {}

    def rules(self) -> list[RuleSpec]:
        return list(self._rows)

    def set_camera_names(self, names: Mapping[str, str]) -> None:
        """Name cameras by ``names`` from now on (a camera not in it keeps its last name)."""
        self._camera_names.update(names)
        if self._rows:
            last = self.index(len(self._rows) - 1, len(_HEADERS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def where_text(self, rule: RuleSpec) -> str:
        if rule.camera is not None:
            return printable(self._camera_names.get(rule.camera, rule.camera))
        room = rule.room or ""
        return f"room {printable(self._room_names.get(room, room))}"

    def text(self, rule: RuleSpec, column: int) -> str:
        if column == COLUMN_NAME:
            return printable(rule.name)
        if column == COLUMN_WHERE:
            return self.where_text(rule)
        if column == COLUMN_TRIGGER:
            return trigger_text(rule)
        if column == COLUMN_ZONE:
            return zone_text(rule)
        if column == COLUMN_SCHEDULE:
            schedule = describe_schedule(rule)
            return schedule if rule.enabled else f"off ({schedule})"
        return rule.severity

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        rule = self.row(index)
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(rule, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            by = f"; added by {printable(rule.created_by)}" if rule.created_by else ""
            off = " (disabled)" if not rule.enabled else ""
            handling = handling_text(rule)
            return f"{printable(rule.describe())}{off}{by}" + (f"\n{handling}" if handling else "")
        return None


def handling_text(rule: RuleSpec) -> str:
    """How a rule's alerts are handled, in words: its instructions and whether closing one
    needs a comment ("" when neither is set)."""
    lines = []
    if rule.instructions:
        lines.append(f"Instructions: {printable(rule.instructions)}")
    if rule.comment_required:
        lines.append("A comment is required to close its alerts")
    return "\n".join(lines)


class ZoneCanvas(QWidget):
    """The camera's picture, scaled to fit (aspect kept), with the zone drawn over it.

    Left-click adds a point, right-click or Backspace removes the last one; clicking the
    first corner again, a double-click or Enter closes the polygon (no more points until one
    is removed or the zone is cleared), as the privacy masks' editor closes an area. Points
    are kept as fractions of the picture; clicks outside the picture are ignored. With no
    picture yet, a grey 16:9 area stands in for it and can be drawn on all the same."""

    sig_points_changed = Signal()
    """The points changed (GUI thread); read them with :meth:`points`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frame: QImage | None = None
        self._placeholder = NO_PICTURE_TEXT
        self._points: list[tuple[float, float]] = []
        self._closed = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(240, 135)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Zone on the camera's view")
        self.setToolTip(f"{DRAWING_HINT} No zone: the whole view.")

    def sizeHint(self) -> QSize:
        return QSize(384, 216)

    # -- state -----------------------------------------------------------------------------
    def set_frame(self, frame: QImage | None, placeholder: str = NO_PICTURE_TEXT) -> None:
        """Show ``frame``, or with None the grey stand-in saying ``placeholder``. The zone
        stays, in fractions."""
        self._frame = None if frame is None or frame.isNull() else frame
        self._placeholder = placeholder
        self.update()

    def has_frame(self) -> bool:
        return self._frame is not None

    def points(self) -> list[tuple[float, float]]:
        return list(self._points)

    def is_closed(self) -> bool:
        """Whether the polygon was closed (first corner again, double-click, Enter or
        :meth:`close_zone`)."""
        return self._closed

    def close_zone(self) -> bool:
        """Close the polygon if it has three corners or more; whether it is closed now."""
        if len(self._points) < 3:
            return False
        if not self._closed:
            self._closed = True
            self.update()
            self.sig_points_changed.emit()
        return True

    def set_points(self, points: Sequence[tuple[float, float]], *, closed: bool) -> None:
        self._points = [(float(x), float(y)) for x, y in points][:MAX_ZONE_POINTS]
        self._closed = closed and len(self._points) >= 3
        self.update()
        self.sig_points_changed.emit()

    def remove_last_point(self) -> None:
        if self._points:
            self._points.pop()
            self._closed = False
            self.update()
            self.sig_points_changed.emit()

    # -- geometry --------------------------------------------------------------------------
    def picture_rect(self) -> QRectF:
        """Where the picture (or its 16:9 stand-in) is drawn: as large as fits, centred."""
        aspect = (
            self._frame.width() / self._frame.height()
            if self._frame is not None and self._frame.height() > 0
            else _PLACEHOLDER_ASPECT
        )
        area = QRectF(self.rect())
        width = min(area.width(), area.height() * aspect)
        height = width / aspect
        return QRectF(
            area.x() + (area.width() - width) / 2,
            area.y() + (area.height() - height) / 2,
            width,
            height,
        )

    def position_of(self, x: float, y: float) -> QPoint:
        """The widget pixel at fractions (``x``, ``y``) of the picture (for tests, or to
        place a tool tip)."""
        rect = self.picture_rect()
        return QPointF(rect.x() + x * rect.width(), rect.y() + y * rect.height()).toPoint()

    def fraction_at(self, position: QPointF) -> tuple[float, float] | None:
        """Fractions of the picture at a widget position; None outside the picture."""
        rect = self.picture_rect()
        if rect.width() <= 0 or rect.height() <= 0:
            return None
        x = (position.x() - rect.x()) / rect.width()
        y = (position.y() - rect.y()) / rect.height()
        slack = 0.5 / max(rect.width(), rect.height())  # the last pixel row/column counts
        if not (-slack <= x <= 1 + slack and -slack <= y <= 1 + slack):
            return None
        return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)

    # -- events ----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.isEnabled():
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.RightButton:
            self.remove_last_point()
        elif event.button() == Qt.MouseButton.LeftButton:
            if not self._closed and self._on_first_corner(event.position()):
                self.close_zone()
            else:
                self._add_point(event.position())
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # The first click of the pair added the corner already (a second press, where the
        # platform sends one, repeats it and is ignored); the double-click closes the zone.
        # QWidget's default would treat it as one more press.
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            self.close_zone()
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Backspace:
            self.remove_last_point()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.close_zone()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = self.picture_rect()
        if self._frame is not None:
            painter.drawImage(rect, self._frame)
        else:
            # The theme's raised grey with a control's edge: the hint reads at 13:1 (white
            # on the old mid grey was 4.2:1) and a zone drawn here stays 3:1 or more.
            painter.fillRect(rect, QColor(RAISED))
            painter.setPen(QColor(CONTROL_EDGE))
            painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
            painter.setPen(QColor(TEXT))
            painter.drawText(
                rect,
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._placeholder,
            )
        if not self.isEnabled():
            painter.fillRect(rect, QColor(0, 0, 0, 110))
        if self._points:
            self._paint_zone(painter, rect)
        painter.end()

    # -- internals -------------------------------------------------------------------------
    def _add_point(self, position: QPointF) -> None:
        if self._closed or len(self._points) >= MAX_ZONE_POINTS:
            return
        fraction = self.fraction_at(position)
        if fraction is None or self._repeats_last_point(position):
            return
        self._points.append(fraction)
        self.update()
        self.sig_points_changed.emit()

    def _on_first_corner(self, position: QPointF) -> bool:
        """Whether ``position`` is on the first corner of a zone of three corners or more:
        clicking it closes the zone."""
        if len(self._points) < 3:
            return False
        first = QPointF(self.position_of(*self._points[0]))
        distance = first - position
        return math.hypot(distance.x(), distance.y()) <= CLOSE_RADIUS_PX

    def _repeats_last_point(self, position: QPointF) -> bool:
        """Whether ``position`` is (within a few pixels) the last point: the second press
        of a double-click, which closes the zone rather than adding a corner."""
        if not self._points:
            return False
        last = QPointF(self.position_of(*self._points[-1]))
        return (position - last).manhattanLength() <= _SAME_POINT_PX

    def _paint_zone(self, painter: QPainter, rect: QRectF) -> None:
        corners = [
            QPointF(rect.x() + x * rect.width(), rect.y() + y * rect.height())
            for x, y in self._points
        ]
        outline = QPen(_ZONE_COLOUR, 2)
        if len(corners) >= 3:
            fill = QColor(_ZONE_COLOUR)
            fill.setAlpha(_ZONE_FILL_ALPHA)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(fill))
            painter.drawPolygon(QPolygonF(corners))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(outline)
        painter.drawPolyline(QPolygonF(corners))
        if len(corners) >= 3:
            closing = QPen(_ZONE_COLOUR, 2)
            if not self._closed:
                closing.setStyle(Qt.PenStyle.DashLine)  # where the zone closes if left so
            painter.setPen(closing)
            painter.drawLine(corners[-1], corners[0])
        painter.setPen(QPen(QColor(CANVAS), 1))
        painter.setBrush(QBrush(_ZONE_COLOUR))
        for number, corner in enumerate(corners):
            radius = _HANDLE_RADIUS_PX * (1.5 if number == 0 else 1.0)
            painter.drawEllipse(corner, radius, radius)


class ZoneEditor(QWidget):
    """The zone of a camera rule, drawn on the camera's latest picture.

    ``frame_of(camera_key)`` gives that picture (already in memory, or None); it is asked
    again on :meth:`set_camera` and by "Refresh picture". The zone is a polygon in fractions
    of the picture (see :class:`ZoneCanvas` for the mouse and keys); :meth:`zone` is None
    (the whole view) until it has three points. A degenerate polygon is reported under the
    picture as :func:`~engine.alerts.rules.validate_zone` words it. Disabled (and cleared)
    while no camera is chosen."""

    sig_zone_changed = Signal(object)
    """The zone changed (GUI thread): the new :meth:`zone`, a tuple of (x, y) fractions,
    or None for the whole view."""

    def __init__(
        self,
        frame_of: Callable[[str], QImage | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._frame_of = frame_of
        self._camera: str | None = None
        self._zone: Zone | None = None  # as last announced
        self.canvas = ZoneCanvas()
        self.canvas.sig_points_changed.connect(self._on_points_changed)
        self.close_button = QPushButton(CLOSE_ZONE_TEXT)
        self.close_button.setToolTip(
            "Finish the zone being drawn (three corners or more); so do clicking its first "
            "corner again, a double-click and Enter"
        )
        self.close_button.clicked.connect(self.canvas.close_zone)
        self.clear_button = QPushButton("Clear zone")
        self.clear_button.setToolTip("Remove every point: the rule covers the whole view")
        self.clear_button.clicked.connect(self.clear)
        self.refresh_button = QPushButton("Refresh picture")
        self.refresh_button.setToolTip("Show the camera's latest picture")
        self.refresh_button.clicked.connect(self.refresh_picture)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        # The words on a row of their own, the width of the picture: beside the buttons they
        # wrapped into a column a word wide and ran out of the box.
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self.setEnabled(False)
        self._show_status()

    # -- public API ------------------------------------------------------------------------
    def set_camera(self, camera: str | None) -> None:
        """Draw on ``camera``'s view (its key), or on none (a room rule: disabled). A zone
        belongs to one camera's view, so choosing another camera clears it."""
        if camera != self._camera:
            self._camera = camera
            self.clear()
        self.setEnabled(camera is not None)
        self.refresh_picture()

    def camera(self) -> str | None:
        return self._camera

    def refresh_picture(self) -> None:
        """Ask ``frame_of`` for the camera's latest picture again."""
        if self._camera is None:
            self.canvas.set_frame(None, NO_CAMERA_TEXT)
        else:
            self.canvas.set_frame(self._frame_of(self._camera))

    def zone(self) -> Zone | None:
        """The polygon in fractions of the picture, or None (fewer than three points: the
        whole view). Not checked: see :meth:`zone_error`."""
        points = self.canvas.points()
        return tuple(points) if len(points) >= 3 else None

    def set_zone(self, zone: Sequence[tuple[float, float]] | None) -> None:
        """Show ``zone`` (closed), or clear it with None."""
        self.canvas.set_points(list(zone or ()), closed=zone is not None)

    def zone_error(self) -> str:
        """Why the zone drawn is not a usable polygon ("" when it is, or when there is none)."""
        zone = self.zone()
        if zone is None:
            return ""
        try:
            validate_zone(zone)
        except RuleError as refused:
            return str(refused)
        return ""

    def clear(self) -> None:
        """No zone: the whole view."""
        self.canvas.set_points([], closed=False)

    # -- handlers --------------------------------------------------------------------------
    def _on_points_changed(self) -> None:
        self._show_status()
        zone = self.zone()
        if zone != self._zone:
            self._zone = zone
            self.sig_zone_changed.emit(zone)

    def _show_status(self) -> None:
        count = len(self.canvas.points())
        self.close_button.setEnabled(count >= 3 and not self.canvas.is_closed())
        error = self.zone_error()
        if error:
            show_as_error(self.status_label)
            self.status_label.setText(error)
            return
        show_as_error(self.status_label, False)
        if self._camera is None:
            text = "No zone: a room rule covers the whole room."
        elif count == 0:
            text = f"Whole view. {DRAWING_HINT}"
        elif count < 3:
            text = (
                f"{count} point{'' if count == 1 else 's'}: the whole view until there are 3. "
                f"{DRAWING_HINT}"
            )
        elif self.canvas.is_closed():
            text = f"Zone of {count} points (closed)."
        else:
            text = f"Zone of {count} points. {DRAWING_HINT}"
        self.status_label.setText(text)


class AlertRulesPane(QWidget):
    """The alert rules (name, where, trigger, zone, schedule, severity), a form to add one
    (where, trigger, zone on the camera's picture, armed days and site hours, severity) and
    Remove….

    ``actions`` block: the pane runs them through ``client`` and lists the rules again after
    each change. It loads when first shown (or on :meth:`refresh`). ``cameras`` are (key,
    display name) pairs, and so are ``rooms`` (the sensing rooms' ids and names);
    ``frame_of(key)`` a camera's latest picture (see :class:`ZoneEditor`).
    ``confirm(question)`` asks before a removal (a Yes/Cancel box unless given).
    ``camera_offline_s``: the site file's camera-offline alert, listed under the rules as
    one (None: not said). Selecting a rule fills the form (its zone drawn on its camera's
    picture); Save changes stores the form over it, Add rule as a new one. The console
    says with :meth:`set_changes_allowed` whether the person at it may change the rules; the
    engine refuses anyone else anyway."""

    sig_rule_added = Signal(str)
    """A rule was stored (GUI thread): its name."""

    sig_rule_removed = Signal(str)
    """A rule was removed (GUI thread): its name."""

    sig_rules_listed = Signal(int)
    """A listing arrived and is shown (GUI thread): the number of rules."""

    sig_action_finished = Signal(str, bool)
    """A change answered (GUI thread): what it was ("add", "update", "handling" or
    "remove") and whether it worked."""

    def __init__(
        self,
        client: QueryClient,
        actions: AlertRulesActions,
        *,
        cameras: Sequence[tuple[str, str]],
        rooms: Sequence[tuple[str, str]],
        frame_of: Callable[[str], QImage | None],
        confirm: Callable[[str], bool] | None = None,
        camera_offline_s: float | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._actions = actions
        self._cameras = [(str(key), str(name)) for key, name in cameras]
        self._rooms = [(str(room_id), str(name)) for room_id, name in rooms]
        self._confirm = confirm if confirm is not None else self._ask_to_remove
        self._action_key = ""  # which change runs: add or remove
        self._loaded_once = False
        self._changes_allowed = True
        self._why_not = NOT_ALLOWED_TEXT
        self._select_after_listing: str | None = None

        # -- the rules -------------------------------------------------------------------
        self._model = _RulesModel(dict(self._cameras), dict(self._rooms), self)
        self.view = QTableView()
        self.view.setModel(self._model)
        show_rows_read_only(self.view)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.count_label = QLabel("Not loaded yet")
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(self._on_remove_requested)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(self.remove_button)
        top.addWidget(self.refresh_button)
        self.list_error_label = _error_label()
        # The camera-offline alert is set in the site file, not a stored rule: said here so
        # the admin sees every way the site raises alerts.
        self.site_rules_label = QLabel(camera_offline_text(camera_offline_s))
        self.site_rules_label.setWordWrap(True)
        self.site_rules_label.setVisible(camera_offline_s is not None)

        # -- the form --------------------------------------------------------------------
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(100)
        self.name_edit.setPlaceholderText("e.g. Gate at night")
        self.name_edit.setAccessibleName("Rule name")
        self.camera_radio = QRadioButton("Camera")
        self.room_radio = QRadioButton("Room")
        self.camera_radio.setEnabled(bool(self._cameras))
        self.room_radio.setEnabled(bool(self._rooms))
        self.room_radio.setToolTip("A sensing room: alerts when anyone is sensed in it")
        self._place_group = QButtonGroup(self)
        self._place_group.addButton(self.camera_radio)
        self._place_group.addButton(self.room_radio)
        self.place_combo = QComboBox()
        self.place_combo.setAccessibleName("Camera or room")
        place_row = QHBoxLayout()
        place_row.addWidget(self.camera_radio)
        place_row.addWidget(self.room_radio)
        place_row.addWidget(self.place_combo, 1)
        self.trigger_combo = QComboBox()
        self.trigger_combo.setAccessibleName("Trigger")
        self.loiter_spin = QSpinBox()
        self.loiter_spin.setRange(0, MAX_LOITER_S)
        self.loiter_spin.setSuffix(" s")
        self.loiter_spin.setSpecialValueText("not set")  # shown at 0: the admin must choose
        self.loiter_spin.setAccessibleName("Loitering longer than, seconds")
        self.gesture_edit = QLineEdit()
        self.gesture_edit.setMaxLength(100)
        self.gesture_edit.setPlaceholderText("the gesture's name, e.g. wave")
        self.gesture_edit.setAccessibleName("Gesture")
        self.day_checks = [QCheckBox(day.capitalize()) for day in DAY_NAMES]
        days_row = QHBoxLayout()
        for check in self.day_checks:
            days_row.addWidget(check)
        days_row.addStretch(1)
        self.all_day_check = QCheckBox("All day")
        self.all_day_check.toggled.connect(self._on_all_day_changed)
        self.from_time = QTimeEdit()
        self.until_time = QTimeEdit()
        for edit, what in ((self.from_time, "Armed from"), (self.until_time, "Armed until")):
            edit.setDisplayFormat("HH:mm")
            edit.setAccessibleName(f"{what} (site time)")
        self.until_time.setToolTip("00:00 is midnight, the end of the day")
        hours_row = QHBoxLayout()
        hours_row.addWidget(self.all_day_check)
        hours_row.addWidget(QLabel("from"))
        hours_row.addWidget(self.from_time)
        hours_row.addWidget(QLabel("until"))
        hours_row.addWidget(self.until_time)
        # The zone is said once, here: the hours are the site's wall clock, whatever zone
        # the console's machine is in.
        hours_row.addStretch(1)
        # On a line of its own: beside the times it made the form wider than the page.
        self.hours_note = QLabel(f"{display().name} time; the hours may run past midnight")
        self.severity_combo = QComboBox()
        self.severity_combo.addItems(list(ALERT_SEVERITIES))
        self.severity_combo.setAccessibleName("Severity")
        self.instructions_edit = QPlainTextEdit()
        self.instructions_edit.setAccessibleName("Operating instructions")
        self.instructions_edit.setPlaceholderText(INSTRUCTIONS_PLACEHOLDER)
        self.instructions_edit.setToolTip("Shown to the operator with every alert of this rule")
        self.instructions_edit.setFixedHeight(54)
        self.comment_required_check = QCheckBox(COMMENT_REQUIRED_TEXT)
        self.enabled_check = QCheckBox(ENABLED_TEXT)
        self.enabled_check.setToolTip("Untick to keep the rule but raise nothing from it")
        # The selected rule's handling: instructions and the closing comment, changed in place.
        self.handling_edit = QPlainTextEdit()
        self.handling_edit.setAccessibleName("Operating instructions of the selected rule")
        self.handling_edit.setPlaceholderText(INSTRUCTIONS_PLACEHOLDER)
        self.handling_edit.setFixedHeight(54)
        self.handling_check = QCheckBox(COMMENT_REQUIRED_TEXT)
        self.handling_button = QPushButton("Save handling")
        self.handling_button.setToolTip(
            "Store the selected rule's instructions and closing comment; its alerts follow at once"
        )
        self.handling_button.clicked.connect(self._on_handling_requested)
        handling_row = QHBoxLayout()
        handling_row.addWidget(self.handling_edit, 1)
        handling_buttons = QVBoxLayout()
        handling_buttons.addWidget(self.handling_check)
        handling_buttons.addWidget(self.handling_button)
        handling_row.addLayout(handling_buttons)
        self.handling_box = QGroupBox("How the selected rule's alerts are handled")
        self.handling_box.setLayout(handling_row)
        self.zone_editor = ZoneEditor(frame_of)
        self.add_button = QPushButton("Add rule")
        self.add_button.clicked.connect(self._on_add_requested)
        # The selected rule fills the form: Save changes stores it under the same rule;
        # New rule empties the form for another one.
        self.save_button = QPushButton("Save changes")
        self.save_button.clicked.connect(self._on_save_requested)
        self.new_button = QPushButton("New rule")
        self.new_button.setToolTip("Clear the selection and the form to add another rule")
        self.new_button.clicked.connect(self._on_new_requested)
        self.name_edit.returnPressed.connect(self._on_add_requested)
        # Beside Add: what runs or was done, and the form's or the engine's refusal.
        self.strip = ActionStrip()
        self.form_error_label = self.strip.error_label
        self.status_label = self.strip.status_label
        self._runner = ActionRunner(
            client,
            self.strip,
            channel="alert_rules.change",
            update_controls=self._update_controls,
            parent=self,
        )
        self._runner.sig_action_finished.connect(self._on_action_finished)
        self.permission_label = QLabel()
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Where", place_row)
        form.addRow("Trigger", self.trigger_combo)
        form.addRow("Loitering longer than", self.loiter_spin)
        form.addRow("Gesture", self.gesture_edit)
        form.addRow("Armed on", days_row)
        form.addRow("Armed hours", hours_row)
        form.addRow("", self.hours_note)
        form.addRow("Severity", self.severity_combo)
        form.addRow("Operating instructions", self.instructions_edit)
        form.addRow("", self.comment_required_check)
        form.addRow("", self.enabled_check)
        add_row = QHBoxLayout()
        for button in (self.save_button, self.add_button, self.new_button):
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            add_row.addWidget(button)
        add_row.addWidget(self.strip, 1)
        form.addRow("", add_row)
        form_column = QVBoxLayout()
        form_column.addLayout(form)
        form_column.addStretch(1)
        zone_box = QGroupBox("Zone (optional)")
        zone_layout = QVBoxLayout(zone_box)
        zone_layout.addWidget(self.zone_editor)
        editor = QHBoxLayout()
        editor.addLayout(form_column, 3)
        editor.addWidget(zone_box, 2)
        self.editor_box = QGroupBox(ADD_TITLE)
        self.editor_box.setLayout(editor)

        layout = scrolling_layout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 2)
        layout.addWidget(self.site_rules_label)
        layout.addWidget(self.list_error_label)
        layout.addWidget(self.permission_label)
        layout.addWidget(self.handling_box)
        layout.addWidget(self.editor_box, 3)

        self.camera_radio.toggled.connect(self._on_place_kind_changed)
        self.place_combo.currentIndexChanged.connect(self._on_place_changed)
        self.trigger_combo.currentIndexChanged.connect(self._on_trigger_changed)
        self._clear_form()
        (self.camera_radio if self._cameras else self.room_radio).setChecked(True)
        self._on_place_kind_changed()
        self._update_controls()

    # -- public API ------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the rules again (on a worker); a newer refresh supersedes one underway. The
        selection is kept by name."""
        self._loaded_once = True
        self.count_label.setText("Loading…")
        self._client.submit(
            "alert_rules.list",
            CallRequest(self._actions.list_rules, name="list alert rules"),
            self._on_rules_listed,
        )

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): rules are for who may configure them."""
        self.set_changes_allowed(actor is not None and actor.may(Permission.CONFIGURE_RULES))

    def set_changes_allowed(self, allowed: bool, why_not: str = NOT_ALLOWED_TEXT) -> None:
        """Whether the person at the console may add and remove rules: when not, the form
        and buttons are disabled and ``why_not`` says so (the list stays readable). The
        engine refuses a change from anyone without the permission anyway."""
        self._changes_allowed = allowed
        self.permission_label.setText("" if allowed else why_not)
        self.permission_label.setVisible(not allowed and bool(why_not))
        self._why_not = why_not
        self._update_controls()

    @property
    def changes_allowed(self) -> bool:
        return self._changes_allowed

    def set_cameras(self, cameras: Sequence[tuple[str, str]]) -> None:
        """The site's cameras changed while the console runs (added, removed, renamed):
        a new rule may be for an added camera, rules name cameras by their names now (a
        removed camera's rules keep its last name), and a form on a removed camera moves to
        the first camera (or to rooms when no camera is left). GUI thread, memory only."""
        self._cameras = [(str(key), str(name)) for key, name in cameras]
        self._model.set_camera_names(dict(self._cameras))
        self.camera_radio.setEnabled(bool(self._cameras))
        if not self.camera_radio.isChecked():
            return
        if not self._cameras and self._rooms:
            self.room_radio.setChecked(True)  # lists the rooms (_on_place_kind_changed)
            return
        chosen = self._chosen_camera()
        self.place_combo.blockSignals(True)
        self.place_combo.clear()
        for key, name in self._cameras:
            self.place_combo.addItem(printable(name), key)
        self.place_combo.setCurrentIndex(max(self.place_combo.findData(chosen), 0))
        self.place_combo.blockSignals(False)
        # The same camera keeps the zone drawn on it; another one starts without.
        self._on_place_changed()

    def rules(self) -> list[RuleSpec]:
        """The rules listed now."""
        return self._model.rules()

    def cell_text(self, name: str, column: int) -> str:
        """What the table shows for rule ``name`` in ``column`` ("" if not listed)."""
        for rule in self._model.rules():
            if rule.name == name:
                return self._model.text(rule, column)
        return ""

    def selected_rule(self) -> RuleSpec | None:
        rows = self.view.selectionModel().selectedRows()
        return self._model.row(rows[0].row()) if rows else None

    def select_rule(self, name: str) -> None:
        """Select the rule named ``name`` (nothing if it is not listed)."""
        self.view.clearSelection()
        for row, rule in enumerate(self._model.rules()):
            if rule.name == name:
                flags = (
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows
                )
                self.view.selectionModel().select(self._model.index(row, 0), flags)
                return

    def error_text(self) -> str:
        """The errors shown now (the form's, then the listing's), one a line; "" if none."""
        labels = (self.form_error_label, self.list_error_label)
        return "\n".join(label.text() for label in labels if not label.isHidden())

    def is_busy(self) -> bool:
        """Whether an add or a removal is still running."""
        return self._runner.is_busy()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    # -- dialogs ---------------------------------------------------------------------------
    def _ask_to_remove(self, question: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove alert rule",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- handlers --------------------------------------------------------------------------
    def _on_selection_changed(self) -> None:
        rule = self.selected_rule()
        self.handling_edit.setPlainText(rule.instructions if rule is not None else "")
        self.handling_check.setChecked(rule.comment_required if rule is not None else False)
        if rule is not None:
            self._fill_form(rule)
            self.editor_box.setTitle(
                f"Rule {printable(rule.name)}: change it and Save changes, or Add it as a new rule"
            )
        else:
            self.editor_box.setTitle(ADD_TITLE)
        self._update_controls()

    def _on_new_requested(self) -> None:
        self.view.clearSelection()
        self._clear_form()
        self.name_edit.setFocus()

    def _on_save_requested(self) -> None:
        rule = self.selected_rule()
        if rule is None or not self._changes_allowed or self._runner.is_busy():
            return
        try:
            spec = self._form_rule()
            check_rule(spec)
        except RuleError as refused:
            _log.info("alert rule change refused: %s", refused)
            self.strip.show_status("")
            self.strip.show_error(str(refused))
            return

        def saved(stored: object) -> None:
            name = stored.name if isinstance(stored, RuleSpec) else spec.name
            self.strip.show_status(f"Saved rule {printable(name)}.")
            self._select_after_listing = name

        self._run(
            "update",
            f"Saving rule {printable(rule.name)}…",
            partial(self._actions.update_rule, rule.name, spec),
            saved,
            failure=f"Could not change rule {printable(rule.name)}",
        )

    def _on_handling_requested(self) -> None:
        rule = self.selected_rule()
        if rule is None or not self._changes_allowed or self._runner.is_busy():
            return
        instructions = self.handling_edit.toPlainText().strip()
        required = self.handling_check.isChecked()

        def saved(_value: object) -> None:
            self.strip.show_status(f"Saved how alerts of {printable(rule.name)} are handled.")
            self._select_after_listing = rule.name

        self._run(
            "handling",
            f"Saving how alerts of {printable(rule.name)} are handled…",
            partial(self._actions.set_handling, rule.name, instructions, required),
            saved,
            failure=f"Could not change rule {printable(rule.name)}",
        )

    def _on_place_kind_changed(self) -> None:
        on_camera = self.camera_radio.isChecked()
        self.place_combo.blockSignals(True)
        self.place_combo.clear()
        if on_camera:
            for key, name in self._cameras:
                self.place_combo.addItem(printable(name), key)
        else:
            for room_id, name in self._rooms:
                self.place_combo.addItem(printable(name), room_id)
        self.place_combo.blockSignals(False)
        self.trigger_combo.blockSignals(True)
        self.trigger_combo.clear()
        for trigger in CAMERA_TRIGGERS if on_camera else ROOM_TRIGGERS:
            self.trigger_combo.addItem(TRIGGER_TEXTS[trigger], trigger)
        self.trigger_combo.blockSignals(False)
        self._on_place_changed()
        self._on_trigger_changed()

    def _on_place_changed(self) -> None:
        self.zone_editor.set_camera(self._chosen_camera())
        self._update_controls()

    def _on_trigger_changed(self) -> None:
        self._update_controls()

    def _on_all_day_changed(self) -> None:
        self._update_controls()

    def _on_add_requested(self) -> None:
        if not self._changes_allowed or self._runner.is_busy():
            return
        try:
            spec = self._form_rule()
            check_rule(spec)
        except RuleError as refused:
            _log.info("alert rule refused: %s", refused)
            self.strip.show_status("")
            self.strip.show_error(str(refused))
            return

        def added(stored: object) -> None:
            name = stored.name if isinstance(stored, RuleSpec) else spec.name
            self.strip.show_status(f"Added rule {printable(name)}.")
            self._select_after_listing = name
            self._clear_form()
            self.sig_rule_added.emit(name)

        self._run(
            "add",
            f"Adding rule {printable(spec.name)}…",
            partial(self._actions.add_rule, spec),
            added,
            failure=f"Could not add rule {printable(spec.name)}",
        )

    def _on_remove_requested(self) -> None:
        rule = self.selected_rule()
        if rule is None or not self._changes_allowed or self._runner.is_busy():
            return
        if not self._confirm(
            f"Remove the alert rule {printable(rule.name)} ({printable(rule.describe())})? "
            "Alerts it raised stay."
        ):
            return

        def removed(_value: object) -> None:
            self.strip.show_status(f"Removed rule {printable(rule.name)}.")
            self.sig_rule_removed.emit(rule.name)

        self._run(
            "remove",
            f"Removing rule {printable(rule.name)}…",
            partial(self._actions.remove_rule, rule.name),
            removed,
            failure=f"Could not remove rule {printable(rule.name)}",
        )

    def _on_rules_listed(self, result: QueryResult[Any]) -> None:
        if result.error is not None or result.value is None:
            message = f"Could not list the alert rules: {printable(str(result.error))}"
            _log.warning("%s", message)
            self.count_label.setText("Not loaded")
            self.list_error_label.setText(message)
            self.list_error_label.show()
            return
        self.list_error_label.hide()
        selected = self.selected_rule()
        rules: Sequence[RuleSpec] = result.value
        self._model.set_rows(rules)
        wanted = self._select_after_listing or (selected.name if selected else None)
        self._select_after_listing = None
        if wanted is not None:
            self.select_rule(wanted)
        count = len(rules)
        self.count_label.setText(f"{count} alert rule{'' if count == 1 else 's'}")
        self._update_controls()
        self.sig_rules_listed.emit(count)

    def _on_action_finished(self, _doing: str, ok: bool) -> None:
        self.sig_action_finished.emit(self._action_key, ok)
        self.refresh()  # list again after every change, worked or refused

    # -- internals -------------------------------------------------------------------------
    def _chosen_camera(self) -> str | None:
        if not self.camera_radio.isChecked() or self.place_combo.currentIndex() < 0:
            return None
        return str(self.place_combo.currentData())

    def _chosen_trigger(self) -> str:
        data = self.trigger_combo.currentData()
        return str(data) if data is not None else ""

    def _form_rule(self) -> RuleSpec:
        """The rule the form describes (not checked yet). RuleError for what check_rule
        cannot see: an armed span that starts and ends at the same minute."""
        on_camera = self.camera_radio.isChecked()
        place = self.place_combo.currentData() if self.place_combo.currentIndex() >= 0 else None
        trigger = self._chosen_trigger()
        days = sum(1 << day for day, check in enumerate(self.day_checks) if check.isChecked())
        if self.all_day_check.isChecked():
            armed_from, armed_until = 0, MINUTES_PER_DAY
        else:
            armed_from = _minutes(self.from_time.time())
            armed_until = _minutes(self.until_time.time()) or MINUTES_PER_DAY  # 00:00: midnight
            if armed_from == armed_until:
                raise RuleError("armed: from and until are the same time (tick All day instead)")
        loiter = self.loiter_spin.value()
        return RuleSpec(
            rule_id=0,
            name=self.name_edit.text().strip(),
            camera=str(place) if on_camera and place is not None else None,
            room=str(place) if not on_camera and place is not None else None,
            trigger=trigger,
            loiter_s=float(loiter) if trigger == "loitering" and loiter > 0 else None,
            gesture=(self.gesture_edit.text().strip() or None) if trigger == "gesture" else None,
            zone=self.zone_editor.zone() if on_camera else None,
            days=days,
            armed_from_min=armed_from,
            armed_until_min=armed_until,
            severity=self.severity_combo.currentText(),
            enabled=self.enabled_check.isChecked(),
            instructions=self.instructions_edit.toPlainText().strip(),
            comment_required=self.comment_required_check.isChecked(),
        )

    def _fill_form(self, rule: RuleSpec) -> None:
        """Show ``rule`` in the form: where, trigger, zone on its camera's picture, armed
        days and hours, severity, handling, and whether it is on."""
        on_camera = rule.camera is not None
        (self.camera_radio if on_camera else self.room_radio).setChecked(True)
        self._on_place_kind_changed()  # lists the cameras or rooms and their triggers
        place = rule.camera if on_camera else rule.room
        index = self.place_combo.findData(place)
        if index < 0:  # a camera or room no longer in the site: named by its key
            self.place_combo.addItem(printable(str(place)), place)
            index = self.place_combo.count() - 1
        self.place_combo.setCurrentIndex(index)
        self._on_place_changed()  # the zone editor shows this camera's picture
        self.name_edit.setText(rule.name)
        self.trigger_combo.setCurrentIndex(max(self.trigger_combo.findData(rule.trigger), 0))
        self.loiter_spin.setValue(int(rule.loiter_s or 0))
        self.gesture_edit.setText(rule.gesture or "")
        for day, check in enumerate(self.day_checks):
            check.setChecked(bool(rule.days >> day & 1))
        all_day = (rule.armed_from_min, rule.armed_until_min) == (0, MINUTES_PER_DAY)
        self.all_day_check.setChecked(all_day)
        self.from_time.setTime(QTime(rule.armed_from_min // 60, rule.armed_from_min % 60))
        until = rule.armed_until_min % MINUTES_PER_DAY  # 24:00 reads 00:00, midnight
        self.until_time.setTime(QTime(until // 60, until % 60))
        severity = self.severity_combo.findText(rule.severity)
        self.severity_combo.setCurrentIndex(max(severity, 0))
        self.instructions_edit.setPlainText(rule.instructions)
        self.comment_required_check.setChecked(rule.comment_required)
        self.enabled_check.setChecked(rule.enabled)
        self.zone_editor.set_zone(rule.zone)

    def _clear_form(self) -> None:
        """Back to a blank rule; where it is (camera or room, which one) is kept, as the
        next rule is often for the same place."""
        self.name_edit.clear()
        if self.trigger_combo.count():
            self.trigger_combo.setCurrentIndex(0)
        self.loiter_spin.setValue(0)
        self.gesture_edit.clear()
        for check in self.day_checks:
            check.setChecked(True)
        self.all_day_check.setChecked(True)
        self.from_time.setTime(QTime(0, 0))
        self.until_time.setTime(QTime(0, 0))
        self.severity_combo.setCurrentIndex(ALERT_SEVERITIES.index(DEFAULT_SEVERITY))
        self.instructions_edit.clear()
        self.comment_required_check.setChecked(False)
        self.enabled_check.setChecked(True)
        self.zone_editor.clear()

    def _run(
        self,
        what: str,
        doing: str,
        action: Callable[[], Any],
        success: Callable[[Any], object],
        *,
        failure: str,
    ) -> None:
        """Run a blocking change (``what``: add or remove) on a worker; show ``doing``
        until it answers, then ``success(value)`` or the engine's refusal as
        ``failure: …``, and list again."""
        if self._runner.run(doing, action, success, failure=failure, channel=f"alert_rules.{what}"):
            self._action_key = what

    def _update_controls(self) -> None:
        allowed = self._changes_allowed
        idle = not self._runner.is_busy()
        trigger = self._chosen_trigger()
        self.editor_box.setEnabled(allowed)
        self.camera_radio.setEnabled(bool(self._cameras))
        self.room_radio.setEnabled(bool(self._rooms))
        self.loiter_spin.setEnabled(trigger == "loitering")
        self.gesture_edit.setEnabled(trigger == "gesture")
        all_day = self.all_day_check.isChecked()
        self.from_time.setEnabled(not all_day)
        self.until_time.setEnabled(not all_day)
        self.add_button.setEnabled(allowed and idle)
        self.save_button.setEnabled(allowed and idle and self.selected_rule() is not None)
        self.new_button.setEnabled(allowed and self.selected_rule() is not None)
        self.remove_button.setEnabled(allowed and idle and self.selected_rule() is not None)
        self.handling_box.setEnabled(allowed and self.selected_rule() is not None)
        self.handling_button.setEnabled(allowed and idle and self.selected_rule() is not None)
        if allowed:
            self.add_button.setToolTip("Check the rule and store it as a new rule")
            self.save_button.setToolTip("Store the form's changes to the selected rule")
            self.remove_button.setToolTip("Remove the selected rule (alerts it raised stay)")
        else:
            self.add_button.setToolTip(self._why_not)
            self.save_button.setToolTip(self._why_not)
            self.remove_button.setToolTip(self._why_not)


def _error_label() -> QLabel:
    label = QLabel()
    show_as_error(label)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label
