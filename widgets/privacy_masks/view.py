"""The Privacy masks page: areas of a camera's picture blacked out at the source.

An admin picks a camera and draws areas on a still of its picture: each click places a
corner; clicking the first corner again, a double-click, Enter or Close area closes the area
(as an alert rule's zone closes). A click on an area
selects it, to delete it. Masked areas are drawn darkened and hatched over the picture, and
one sentence says what is masked ("2 areas masked, 14 % of the picture; nothing there is
shown, recorded or analysed"). Save stores them through the engine's
:class:`~engine.vision.privacy.SetPrivacyMasks` and the running camera masks its next frame
with them. The still is the camera's newest frame as the engine sees it: areas already
saved are black in it.

Areas are kept here as fractions of the picture's width and height (as the engine stores
them), so they stay in place whatever size the picture is drawn at or the camera sends;
they are checked (:func:`~engine.vision.privacy.privacy_mask`, pure Python over at most
16 × 64 points: on the GUI thread) in the picture's pixels when an area is closed, and the
problem is said in the page's words.

The page never touches the store: the console gives it a :class:`PrivacyMaskActions` object
(blocking calls made as the person logged in, whose permission the engine checks) and a
query client, and runs every call on the client's workers; the answers come back on the GUI
thread. Every method here runs on the GUI thread; nothing here starts a thread or reads a
file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Final

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
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
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.sitetime import display
from engine.vision.privacy import (
    MAX_AREAS,
    MAX_POINTS,
    PrivacyMask,
    PrivacyMaskError,
    StoredPrivacyMask,
    no_mask,
    privacy_mask,
    share_text,
)
from engine.wording import display_actor
from widgets.camera_picture import CameraPictureCanvas, CameraPicturePage
from widgets.colours import ACCENT, CANVAS, MARK_WHITE, ZONE_ORANGE
from widgets.privacy_masks.api import PrivacyMaskActions
from widgets.queries import QueryClient

NOT_ALLOWED_TEXT = "Saving privacy masks needs the configure_cameras permission (admins)."
NO_CAMERA_TEXT = "The site has no cameras to mask."
DRAWING_HINT = (
    "Click to add a corner of the area; close it by clicking its first corner again, "
    "double-clicking, pressing Enter or Close area; right-click or Backspace removes the "
    "last corner."
)
"""How an area is drawn and closed: the alert rules' zone editor says the same of a zone
(one way to close a polygon everywhere)."""
START_HINT = f"{DRAWING_HINT} Click an area to select it."
_CORNER_RADIUS_PX: Final = 5.0
_CLOSE_RADIUS_PX: Final = 12.0  # a click this close to the first corner closes the area
SIDE_MIN_WIDTH_PX: Final = 320

Fraction = tuple[float, float]  # (x, y) as fractions of the picture's width and height


class MaskCanvas(CameraPictureCanvas):
    """The camera's still, scaled to fit (aspect kept), with the masked areas drawn over
    it darkened and hatched, and the area being drawn as a line of corners.

    Coordinates in signals are fractions of the picture (0-1, from the top-left, y down).
    Without a picture, a grey area of the picture's size (or 4:3) says why, and clicks ask
    for nothing."""

    sig_picture_clicked = Signal(float, float)
    """A left click on the picture, not on an area and not on the first corner (GUI
    thread): its (x, y) fractions."""

    sig_close_requested = Signal()
    """Close the area being drawn (GUI thread): its first corner was clicked again, or a
    double-click or Enter."""

    sig_area_clicked = Signal(int)
    """A click on a masked area while none is being drawn (GUI thread): its index."""

    sig_undo_requested = Signal()
    """A right click or Backspace while drawing: remove the last corner (GUI thread)."""

    sig_delete_requested = Signal()
    """Delete with an area selected (GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Camera picture for privacy masks",
            f"{DRAWING_HINT} Click an area to select it (Delete removes it).",
            parent,
        )
        self._areas: list[list[Fraction]] = []
        self._drawing: list[Fraction] = []
        self._selected: int | None = None
        self._hover: QPointF | None = None

    # -- state -----------------------------------------------------------------------------
    def set_areas(
        self, areas: Sequence[Sequence[Fraction]], drawing: Sequence[Fraction], selected: int | None
    ) -> None:
        self._areas = [list(area) for area in areas]
        self._drawing = list(drawing)
        self._selected = selected
        self.update()

    # -- geometry --------------------------------------------------------------------------
    def widget_point(self, x: float, y: float) -> QPointF:
        """The widget position of picture fraction (x, y)."""
        rect = self.picture_rect()
        return QPointF(rect.x() + x * rect.width(), rect.y() + y * rect.height())

    def fraction_at(self, position: QPointF) -> Fraction | None:
        """The picture fraction at a widget position; None outside the picture."""
        rect = self.picture_rect()
        if self._size is None or rect.width() <= 0 or rect.height() <= 0:
            return None
        x = (position.x() - rect.x()) / rect.width()
        y = (position.y() - rect.y()) / rect.height()
        if not (-0.01 <= x <= 1.01 and -0.01 <= y <= 1.01):
            return None
        return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)

    def area_at(self, position: QPointF) -> int | None:
        """The index of the area under ``position`` (the last drawn, if they overlap)."""
        for index in range(len(self._areas) - 1, -1, -1):
            if self._polygon(self._areas[index]).containsPoint(position, Qt.FillRule.OddEvenFill):
                return index
        return None

    # -- events ----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self._press_to_act_on(event):
            return
        position = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            if self._drawing:
                self.sig_undo_requested.emit()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._drawing:
            first = self.widget_point(*self._drawing[0])
            near = math.hypot(first.x() - position.x(), first.y() - position.y())
            if len(self._drawing) >= 3 and near <= _CLOSE_RADIUS_PX:
                self.sig_close_requested.emit()
                return
        else:
            index = self.area_at(position)
            if index is not None:
                self.sig_area_clicked.emit(index)
                return
        point = self.fraction_at(position)
        if point is not None:
            self.sig_picture_clicked.emit(*point)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # The first press of the pair placed a corner already; the double-click closes the
        # area (QWidget's default would treat it as one more press, placing it twice).
        if event.button() == Qt.MouseButton.LeftButton and len(self._drawing) >= 3:
            self.sig_close_requested.emit()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._hover = event.position() if self._drawing else None
        over = not self._drawing and self.area_at(event.position()) is not None
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.CrossCursor)
        if self._drawing:
            self.update()

    def leaveEvent(self, event: Any) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Backspace and self._drawing:
            self.sig_undo_requested.emit()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._drawing:
            self.sig_close_requested.emit()
        elif key == Qt.Key.Key_Delete and self._selected is not None and not self._drawing:
            self.sig_delete_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- internals -------------------------------------------------------------------------
    def _paint_on_picture(self, painter: QPainter) -> None:
        for index, area in enumerate(self._areas):
            self._paint_area(painter, index, area)
        self._paint_drawing(painter)

    def _polygon(self, area: Sequence[Fraction]) -> QPolygonF:
        return QPolygonF([self.widget_point(x, y) for x, y in area])

    def _paint_area(self, painter: QPainter, index: int, area: Sequence[Fraction]) -> None:
        polygon = self._polygon(area)
        path = QPainterPath()
        path.addPolygon(polygon)
        path.closeSubpath()
        shade = QColor(CANVAS)
        shade.setAlpha(170)
        painter.fillPath(path, shade)
        hatch = QColor(MARK_WHITE)
        hatch.setAlpha(120)
        painter.fillPath(path, QBrush(hatch, Qt.BrushStyle.BDiagPattern))
        selected = index == self._selected
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(ACCENT if selected else ZONE_ORANGE), 3.0 if selected else 2.0))
        painter.drawPath(path)
        centre = polygon.boundingRect().center()
        self._label(painter, centre, str(index + 1), QColor(ACCENT if selected else ZONE_ORANGE))

    def _paint_drawing(self, painter: QPainter) -> None:
        if not self._drawing:
            return
        points = [self.widget_point(x, y) for x, y in self._drawing]
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(CANVAS), 4.0))
        painter.drawPolyline(QPolygonF(points))
        painter.setPen(QPen(QColor(ACCENT), 2.0))
        painter.drawPolyline(QPolygonF(points))
        if self._hover is not None:
            painter.setPen(QPen(QColor(ACCENT), 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(points[-1], self._hover)
        for n, point in enumerate(points):
            painter.setPen(QPen(QColor(CANVAS), 2.0))
            painter.setBrush(QBrush(QColor(ACCENT)))
            painter.drawEllipse(point, _CORNER_RADIUS_PX, _CORNER_RADIUS_PX)
            if n == 0 and len(points) >= 3:  # where a click closes the area
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(QColor(MARK_WHITE), 2.0))
                painter.drawEllipse(point, _CLOSE_RADIUS_PX - 2, _CLOSE_RADIUS_PX - 2)

    def _label(self, painter: QPainter, centre: QPointF, text: str, colour: QColor) -> None:
        """``text`` on a dark rounded plate centred at ``centre``."""
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        width = metrics.horizontalAdvance(text) + 12
        height = metrics.height() + 2
        plate = QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height)
        backing = QColor(CANVAS)
        backing.setAlpha(220)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(backing))
        painter.drawRoundedRect(plate, 3, 3)
        painter.setPen(colour)
        painter.drawText(plate, Qt.AlignmentFlag.AlignCenter, text)


class PrivacyMasksPane(CameraPicturePage[StoredPrivacyMask, MaskCanvas]):
    """Pick a camera, draw the areas of its picture to black out, see how much is masked,
    and save.

    ``cameras``, ``frame_of`` and ``no_picture_reason`` are as for
    :class:`~widgets.camera_picture.CameraPicturePage`; ``actions`` block: the page runs
    them through ``client``."""

    sig_areas_changed = Signal()
    """The areas or the area being drawn changed (GUI thread)."""

    # sig_stored_loaded (a camera's stored mask was read) and sig_saved (a mask was stored
    # and applied): the camera's key, from CameraPicturePage.

    CHANNEL = "privacy-masks"
    NOT_ALLOWED_TEXT = NOT_ALLOWED_TEXT
    NO_CAMERA_TEXT = NO_CAMERA_TEXT
    REFRESH_TOOLTIP = "Show the camera's newest picture (the areas stay)"
    CLEAR_TOOLTIP = "Remove every area (Save to unmask the camera)"
    REVERT_TOOLTIP = "Put the stored areas back"
    SAVE_TEXT = "Save privacy masks"
    SAVED_WHAT = "privacy masks"
    READING_TEXT = "Reading the stored privacy masks…"
    STORED_NAME = "stored privacy mask"
    STORED_REQUEST = "stored privacy mask"
    STORED_TYPE = StoredPrivacyMask

    def __init__(
        self,
        client: QueryClient,
        actions: PrivacyMaskActions,
        *,
        cameras: Sequence[tuple[str, str]],
        frame_of: Callable[[str], QImage | None],
        no_picture_reason: Callable[[str], str | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            client,
            cameras=cameras,
            frame_of=frame_of,
            no_picture_reason=no_picture_reason,
            read_stored=actions.stored_mask,
            canvas=MaskCanvas(),
            parent=parent,
        )
        self._actions = actions
        self._areas: list[list[Fraction]] = []
        self._drawing: list[Fraction] = []
        self._selected: int | None = None
        self._edited = False  # the areas hold the admin's changes, not what is stored
        self._problem = ""

        # -- the picture -----------------------------------------------------------------------
        self.canvas.sig_picture_clicked.connect(self._on_picture_clicked)
        self.canvas.sig_close_requested.connect(self.close_area)
        self.canvas.sig_area_clicked.connect(self.select_area)
        self.canvas.sig_undo_requested.connect(self.undo_corner)
        self.canvas.sig_delete_requested.connect(self.delete_selected)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("privacy-masks-summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setFont(self._outcome_font())
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        picture_side = self._picture_side(self.summary_label, self.problem_label, self.hint_label)

        # -- the areas -------------------------------------------------------------------------
        self.area_list = QListWidget()
        self.area_list.setAccessibleName("Masked areas")
        self.area_list.currentRowChanged.connect(self._on_list_row_changed)
        self.close_button = QPushButton("Close area")
        self.close_button.setToolTip(
            "Finish the area being drawn (three corners or more); so do clicking its first "
            "corner again, a double-click and Enter"
        )
        self.close_button.clicked.connect(self.close_area)
        self.undo_button = QPushButton("Undo corner")
        self.undo_button.setToolTip("Remove the last corner placed (Backspace)")
        self.undo_button.clicked.connect(self.undo_corner)
        self.cancel_button = QPushButton("Cancel area")
        self.cancel_button.setToolTip("Drop the area being drawn")
        self.cancel_button.clicked.connect(self.cancel_area)
        self.delete_button = QPushButton("Delete area")
        self.delete_button.setToolTip("Remove the selected area (Delete)")
        self.delete_button.clicked.connect(self.delete_selected)
        drawing_row = QHBoxLayout()
        drawing_row.addWidget(self.close_button)
        drawing_row.addWidget(self.undo_button)
        drawing_row.addWidget(self.cancel_button)
        areas_layout = QVBoxLayout()
        areas_layout.addWidget(self.area_list, 1)
        areas_layout.addLayout(drawing_row)
        areas_layout.addLayout(self._work_row(self.delete_button))
        self.areas_box = QGroupBox("Masked areas")
        self.areas_box.setLayout(areas_layout)
        self.note_label = QLabel(
            "Masked areas are blacked out in every frame right after capture: the live "
            "view, recorded clips, snapshots, person detection, faces and gestures all get "
            "the masked picture. The picture here is as the engine sees it, so areas "
            "already saved are black in it."
        )
        self.note_label.setWordWrap(True)

        self._lay_out(
            picture_side,
            [(self.areas_box, 1), (self.note_label, 0)],
            side_min_width=SIDE_MIN_WIDTH_PX,
            side_stretch=1,
        )
        self._open_first_camera()

    # -- public API ------------------------------------------------------------------------
    def areas(self) -> list[list[Fraction]]:
        """The closed areas, as fractions of the picture."""
        return [list(area) for area in self._areas]

    def drawing(self) -> list[Fraction]:
        """The corners of the area being drawn (not closed yet)."""
        return list(self._drawing)

    def selected_area(self) -> int | None:
        return self._selected

    def problem(self) -> str:
        """Why the last area could not be closed ("" when it could)."""
        return self._problem

    def summary(self) -> str:
        return self.summary_label.text()

    def add_corner(self, x: float, y: float) -> bool:
        """Place a corner of the area being drawn at picture fraction (x, y) (starting an
        area if none is); False when the area already has the most corners allowed or the
        camera the most areas."""
        if not self._drawing and len(self._areas) >= MAX_AREAS:
            self._say_problem(f"At most {MAX_AREAS} areas a camera: delete one to add another.")
            return False
        if len(self._drawing) >= MAX_POINTS:
            self._say_problem(f"At most {MAX_POINTS} corners an area: close this one.")
            return False
        self._drawing.append((min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)))
        self._selected = None
        self._problem = ""
        self._show()
        return True

    def close_area(self) -> bool:
        """Close the area being drawn, if it is a valid area with the others; otherwise
        say why (:meth:`problem`) and keep drawing."""
        if len(self._drawing) < 3:
            self._say_problem("An area needs at least 3 corners: click more of them first.")
            return False
        candidate = [*self._areas, self._drawing]
        try:
            self._check(candidate)
        except PrivacyMaskError as exc:
            self._say_problem(f"This area cannot be closed: {exc}.")
            return False
        self._areas = [list(area) for area in candidate]
        self._drawing = []
        self._selected = len(self._areas) - 1
        self._problem = ""
        self._edited = True
        self._show()
        return True

    def undo_corner(self) -> None:
        if self._drawing:
            self._drawing.pop()
            self._problem = ""
            self._show()

    def cancel_area(self) -> None:
        if self._drawing:
            self._drawing = []
            self._problem = ""
            self._show()

    def select_area(self, index: int | None) -> None:
        self._selected = index if index is not None and 0 <= index < len(self._areas) else None
        self._show()

    def delete_selected(self) -> None:
        index = self._selected
        if index is None or not 0 <= index < len(self._areas):
            return
        del self._areas[index]
        self._selected = None
        self._edited = True
        self._show()

    def draft_mask(self) -> PrivacyMask | None:
        """The closed areas as a mask for the picture (None: no picture size known)."""
        size = self.image_size()
        if size is None:
            return None
        if not self._areas:
            return no_mask()
        return self._check(self._areas)

    # -- handlers --------------------------------------------------------------------------
    def _switch_work(self, leaving: str | None, camera: str | None) -> None:
        self._areas, self._drawing, self._selected = [], [], None
        self._edited = False
        self._problem = ""
        stored = self._stored.get(camera or "")
        if stored is not None:
            self._put_stored(stored)

    def _stored_read(self, camera: str, stored: StoredPrivacyMask | None) -> None:
        if camera == self._camera and not self._edited and not self._drawing:
            self._areas, self._selected = [], None
            if stored is not None:
                self._put_stored(stored)
            self._show_picture()
        self._show()

    def _on_picture_clicked(self, x: float, y: float) -> None:
        if not self._drawing and self._selected is not None:
            self._selected = None  # a click away from the areas: start a new one there
        self.add_corner(x, y)

    def _on_list_row_changed(self, row: int) -> None:
        if row < len(self._areas) and row != (self._selected if self._selected is not None else -1):
            self.select_area(row if row >= 0 else None)

    def _on_clear_requested(self) -> None:
        self._areas, self._drawing, self._selected = [], [], None
        self._edited = True
        self._problem = ""
        self._show()

    def _on_revert_requested(self) -> None:
        stored = self.stored()
        self._areas, self._drawing, self._selected = [], [], None
        if stored is not None:
            self._put_stored(stored)
        self._edited = False
        self._problem = ""
        self._show()

    def _on_save_requested(self) -> None:
        camera = self._camera
        if camera is None or not self._changes_allowed or self._runner.is_busy():
            return
        try:
            mask = self.draft_mask()
        except PrivacyMaskError as exc:  # the areas were checked as they closed
            self._say_problem(f"These areas cannot be saved: {exc}.")
            return
        if mask is None:
            return
        name = self._camera_name(camera)

        def saved(value: object) -> None:
            stored = value if isinstance(value, StoredPrivacyMask) else None
            self._stored[camera] = stored
            if camera == self._camera:
                self._edited = False
            self.strip.show_status(
                f"Saved: {name} is masked from its next frame."
                if stored is not None
                else f"Saved: nothing of {name} is masked from its next frame."
            )
            self._show()
            self.sig_saved.emit(camera)

        self._run_save(camera, partial(self._actions.save_mask, camera, mask), saved)

    # -- internals -------------------------------------------------------------------------
    def _check(self, areas: Sequence[Sequence[Fraction]]) -> PrivacyMask:
        size = self.image_size() or (1000, 1000)
        width, height = size
        return privacy_mask([[(x * width, y * height) for x, y in area] for area in areas], size)

    def _put_stored(self, stored: StoredPrivacyMask) -> None:
        self._areas = [list(area) for area in stored.mask.areas]

    def _stored_image_size(self, stored: StoredPrivacyMask) -> tuple[int, int]:
        return stored.mask.image_size

    def _say_problem(self, text: str) -> None:
        self._problem = text
        self._show()

    def _unsaved(self) -> bool:
        if self._camera not in self._stored:  # not read (yet): what was drawn here is new
            return self._edited or bool(self._areas)
        stored = self.stored()
        kept = [list(area) for area in stored.mask.areas] if stored is not None else []
        if len(kept) != len(self._areas):
            return True
        return any(
            len(a) != len(b) or any(math.dist(p, q) > 1e-5 for p, q in zip(a, b, strict=True))
            for a, b in zip(self._areas, kept, strict=True)
        )

    def _show_all(self) -> None:
        self._show()

    def _show(self) -> None:
        """Bring every label, the list and the canvas in line with the areas."""
        self.canvas.set_areas(self._areas, self._drawing, self._selected)
        self._show_summary()
        self._show_stored()
        self._show_list()
        self._update_controls()
        self.sig_areas_changed.emit()

    def _show_summary(self) -> None:
        try:
            mask = self.draft_mask()
        except PrivacyMaskError as exc:
            mask, self._problem = None, f"These areas cannot be saved: {exc}."
        if self._camera is None:
            text = NO_CAMERA_TEXT
        elif mask is None:
            text = "No picture to draw on yet."
        else:
            text = mask.describe() + "."
            if self._camera in self._stored and self._unsaved():
                text += " Not saved yet."
        self.summary_label.setText(text)
        self.problem_label.setText(self._problem)
        self.problem_label.setVisible(bool(self._problem))
        if self._drawing:
            count = len(self._drawing)
            corners = "1 corner" if count == 1 else f"{count} corners"
            more = "" if count >= 3 else " (an area needs at least 3)"
            self.hint_label.setText(
                f"Drawing area {len(self._areas) + 1}: {corners} placed{more}. {DRAWING_HINT}"
            )
        elif self._selected is not None:
            self.hint_label.setText(
                f"Area {self._selected + 1} selected: Delete area (or the Delete key) removes "
                "it. Click elsewhere on the picture to start another area."
            )
        else:
            self.hint_label.setText(START_HINT)

    def _stored_text(self, stored: StoredPrivacyMask | None) -> str:
        if stored is None:
            return "Stored: nothing masked on this camera."
        count = len(stored.mask.areas)
        areas = "1 area" if count == 1 else f"{count} areas"
        at, shown = stored.masked_at, display()
        return (
            f"Stored: {areas}, {share_text(stored.mask.covered_share())} of the picture; "
            f"set by {display_actor(stored.masked_by)} at {shown.full_minutes(at)} "
            f"{shown.zone_label(at)}."
        )

    def _show_list(self) -> None:
        self.area_list.blockSignals(True)
        try:
            self.area_list.clear()
            size = self.image_size() or (1000, 1000)
            for n, area in enumerate(self._areas, start=1):
                share = share_text(PrivacyMask((tuple(area),), size).covered_share())
                corners = len(area)
                QListWidgetItem(
                    f"Area {n}: {corners} corners, {share} of the picture", self.area_list
                )
            if self._drawing:
                item = QListWidgetItem(
                    f"Area {len(self._areas) + 1}: being drawn ({len(self._drawing)} corners)",
                    self.area_list,
                )
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            if not self._areas and not self._drawing:
                item = QListWidgetItem(
                    "No areas: click the picture to place the first corner of one.",
                    self.area_list,
                )
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            if self._selected is not None:
                self.area_list.setCurrentRow(self._selected)
            else:
                self.area_list.clearSelection()
                self.area_list.setCurrentRow(-1)
        finally:
            self.area_list.blockSignals(False)

    def _update_controls(self) -> None:
        allowed = self._changes_allowed
        idle = not self._runner.is_busy()
        drawing = bool(self._drawing)
        self.canvas.setEnabled(idle and self._camera is not None)
        self.close_button.setEnabled(len(self._drawing) >= 3)
        self.undo_button.setEnabled(drawing)
        self.cancel_button.setEnabled(drawing)
        self.delete_button.setEnabled(self._selected is not None and not drawing)
        self.clear_button.setEnabled(bool(self._areas) or drawing)
        self.revert_button.setEnabled(self._camera in self._stored and self._unsaved())
        self.refresh_button.setEnabled(self._camera is not None)
        self.camera_combo.setEnabled(idle and bool(self._cameras) and not drawing)
        self.save_button.setEnabled(
            allowed
            and idle
            and not drawing
            and self._camera is not None
            and self.image_size() is not None
            and self._unsaved()
        )
