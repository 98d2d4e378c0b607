"""The dialog in which an admin pins a site or floor plan to the ground: the picture they
chose is shown (read and checked on a query worker: a bad file is named with its problem),
they click two points on it and say where each is, as metres east and north of the site's
centre or as latitude and longitude, and save. Saving runs on a query worker through the
risk map's :class:`~widgets.risk_map.api.SitePlanActions` (the engine checks the permission,
copies the picture and audits it); an error is shown in the dialog, which stays open.

Every method runs on the GUI thread.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.history.query_service import CallRequest, QueryResult
from engine.incidents.site_plan import PinPlace, PlanImage, SitePlanView
from engine.text import printable
from widgets.action_strip import show_as_error
from widgets.queries import QueryClient
from widgets.risk_map.api import SitePlanActions

METRES_MODE: Final = 0
DEGREES_MODE: Final = 1
PIN_COLOURS: Final = ("#ff4d4f", "#2f8fe0")  # point 1 red, point 2 blue: told apart by name too
CHECKING_TEXT: Final = "Checking the picture…"
SAVING_TEXT: Final = "Saving the plan…"


def _decode(image: PlanImage) -> tuple[PlanImage, QImage]:
    """Query worker: the checked picture decoded for display (QImage is safe off the GUI
    thread; a QPixmap is made from it on the GUI thread)."""
    decoded = QImage.fromData(image.data)
    return image, decoded


class PlanPicture(QWidget):
    """The plan picture scaled to fit, with the two pins drawn on it; a left click asks
    for a pin at that point (:attr:`sig_point_clicked`, in picture pixels)."""

    sig_point_clicked = Signal(float, float)
    """A left click on the picture: the point in the picture's own pixels (GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._pins: list[tuple[float, float] | None] = [None, None]
        self.setMinimumSize(480, 320)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def set_image(self, image: QImage) -> None:
        self._pixmap = QPixmap.fromImage(image)
        self.update()

    def set_pin(self, index: int, point: tuple[float, float] | None) -> None:
        self._pins[index] = point
        self.update()

    def picture_rect(self) -> QRectF:
        """Where the picture is drawn in this widget (scaled to fit, centred)."""
        if self._pixmap is None or self._pixmap.isNull():
            return QRectF()
        width, height = self._pixmap.width(), self._pixmap.height()
        scale = min(self.width() / width, self.height() / height)
        shown_w, shown_h = width * scale, height * scale
        return QRectF((self.width() - shown_w) / 2, (self.height() - shown_h) / 2, shown_w, shown_h)

    def widget_point(self, x_px: float, y_px: float) -> QPointF:
        """Where picture pixel (``x_px``, ``y_px``) is drawn in this widget."""
        rect = self.picture_rect()
        assert self._pixmap is not None
        scale = rect.width() / self._pixmap.width()
        return QPointF(rect.left() + x_px * scale, rect.top() + y_px * scale)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        rect = self.picture_rect()
        position = event.position()
        if (
            event.button() != Qt.MouseButton.LeftButton
            or self._pixmap is None
            or not rect.contains(position)
        ):
            super().mousePressEvent(event)
            return
        scale = self._pixmap.width() / rect.width()
        self.sig_point_clicked.emit(
            (position.x() - rect.left()) * scale, (position.y() - rect.top()) * scale
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0d1117"))
        if self._pixmap is None or self._pixmap.isNull():
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(self.picture_rect(), self._pixmap, QRectF(self._pixmap.rect()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for index, pin in enumerate(self._pins):
            if pin is None:
                continue
            at = self.widget_point(*pin)
            painter.setPen(QPen(QColor("#000000"), 5))
            painter.drawEllipse(at, 9, 9)
            painter.setPen(QPen(QColor(PIN_COLOURS[index]), 3))
            painter.drawEllipse(at, 9, 9)
            painter.drawLine(at + QPointF(-14, 0), at + QPointF(14, 0))
            painter.drawLine(at + QPointF(0, -14), at + QPointF(0, 14))
            label = str(index + 1)
            painter.setPen(QColor("#000000"))
            painter.drawText(at + QPointF(13, -11), label)
            painter.setPen(QColor(PIN_COLOURS[index]))
            painter.drawText(at + QPointF(12, -12), label)
        painter.end()


class PinPlanDialog(QDialog):
    """Pin the picture at ``path`` as the site's plan (see the module)."""

    sig_plan_pinned = Signal(object)
    """The plan was stored: its :class:`~engine.incidents.site_plan.SitePlanView` (GUI
    thread)."""

    sig_picture_checked = Signal(bool)
    """The chosen picture was read: True if it can be used, False if it was refused (the
    dialog says why) (GUI thread)."""

    sig_save_failed = Signal(str)
    """Saving was refused or failed: the message shown (GUI thread)."""

    def __init__(
        self,
        queries: QueryClient,
        actions: SitePlanActions,
        path: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._queries = queries
        self._actions = actions
        self._path = Path(path)
        self._channel = f"site-plan-{id(self):x}"
        self._image: PlanImage | None = None
        self._points: list[tuple[float, float] | None] = [None, None]
        self._saving = False
        self.setWindowTitle("Pin the site plan")
        self.setModal(False)

        self.intro_label = QLabel(
            f"<b>{printable(self._path.name)}</b>: click a point on the plan you can place "
            "on the ground (a building corner, a gate), say where it is, then do the same "
            "for a second point far from the first."
        )
        self.intro_label.setWordWrap(True)
        self.picture = PlanPicture()
        self.picture.sig_point_clicked.connect(self._on_picture_clicked)
        self.status_label = QLabel(CHECKING_TEXT)
        self.status_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        show_as_error(self.error_label)
        self.error_label.hide()

        self.mode_box = QComboBox()
        self.mode_box.addItem("metres east and north of the site's centre")
        self.mode_box.addItem("latitude and longitude (degrees)")
        self.mode_box.currentIndexChanged.connect(self._on_mode_changed)

        grid = QGridLayout()
        grid.addWidget(QLabel("Places given as:"), 0, 0)
        grid.addWidget(self.mode_box, 0, 1, 1, 4)
        self.point_buttons: list[QRadioButton] = []
        self.pixel_labels: list[QLabel] = []
        self.first_boxes: list[QDoubleSpinBox] = []
        self.second_boxes: list[QDoubleSpinBox] = []
        self.first_captions: list[QLabel] = []
        self.second_captions: list[QLabel] = []
        for index in range(2):
            button = QRadioButton(f"Point {index + 1}")
            button.setStyleSheet(f"color: {PIN_COLOURS[index]}; font-weight: bold;")
            button.setToolTip("The next click on the picture places this point")
            pixel = QLabel("click the picture")
            first, second = QDoubleSpinBox(), QDoubleSpinBox()
            first_caption, second_caption = QLabel(), QLabel()
            for box in (first, second):
                box.setMinimumWidth(130)
                box.valueChanged.connect(self._update_buttons)
            row = index + 1
            grid.addWidget(button, row, 0)
            grid.addWidget(pixel, row, 1)
            grid.addWidget(first_caption, row, 2)
            grid.addWidget(first, row, 3)
            grid.addWidget(second_caption, row, 4)
            grid.addWidget(second, row, 5)
            self.point_buttons.append(button)
            self.pixel_labels.append(pixel)
            self.first_boxes.append(first)
            self.second_boxes.append(second)
            self.first_captions.append(first_caption)
            self.second_captions.append(second_caption)
        self.point_buttons[0].setChecked(True)
        self._on_mode_changed(METRES_MODE)

        self.save_button = QPushButton("Save plan")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro_label)
        layout.addWidget(self.picture, 1)
        layout.addLayout(grid)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.resize(900, 720)
        self._update_buttons()
        self._queries.submit(
            f"{self._channel}.check",
            CallRequest(
                lambda: _decode(self._actions.check_plan_image(self._path)), "site plan picture"
            ),
            self._on_picture_checked,
        )

    # -- public API --------------------------------------------------------------------
    def picture_size(self) -> tuple[int, int] | None:
        """(width, height) in pixels of the checked picture (None: not yet, or refused)."""
        return None if self._image is None else (self._image.width_px, self._image.height_px)

    def point(self, index: int) -> tuple[float, float] | None:
        """Where point ``index`` (0 or 1) is on the picture, in its pixels."""
        return self._points[index]

    def set_place(self, index: int, first: float, second: float) -> None:
        """Point ``index``'s place: east and north metres, or latitude and longitude,
        as the mode box says."""
        self.first_boxes[index].setValue(first)
        self.second_boxes[index].setValue(second)

    def set_degrees_mode(self, degrees: bool) -> None:
        self.mode_box.setCurrentIndex(DEGREES_MODE if degrees else METRES_MODE)

    def pins(self) -> tuple[PinPlace, PinPlace] | None:
        """The two pins as given now (None until both points are on the picture)."""
        first, second = self._points
        if first is None or second is None:
            return None
        degrees = self.mode_box.currentIndex() == DEGREES_MODE
        made = []
        for index, (x_px, y_px) in enumerate((first, second)):
            a, b = self.first_boxes[index].value(), self.second_boxes[index].value()
            if degrees:
                made.append(PinPlace(x_px, y_px, latitude=a, longitude=b))
            else:
                made.append(PinPlace(x_px, y_px, east_m=a, north_m=b))
        return made[0], made[1]

    def save(self) -> None:
        """Store the plan with the two pins (on a query worker)."""
        pins = self.pins()
        if pins is None or self._saving:
            return
        self._saving = True
        self.error_label.hide()
        self.status_label.setText(SAVING_TEXT)
        self._update_buttons()
        self._queries.submit_action(
            f"{self._channel}.save",
            partial(self._actions.pin_site_plan, self._path, pins),
            self._on_saved,
            name="pin the site plan",
        )

    # -- handlers ----------------------------------------------------------------------
    def _on_picture_checked(self, result: QueryResult[Any]) -> None:
        value = result.value
        if result.error is not None or not isinstance(value, tuple):
            self._show_error(f"This picture cannot be the plan: {printable(str(result.error))}")
            self.status_label.setText("Choose another picture.")
            self.sig_picture_checked.emit(False)
            return
        image, decoded = value
        self._image = image
        self.picture.set_image(decoded)
        self.status_label.setText(
            f"{image.width_px:,} × {image.height_px:,} pixels. Click point 1 on the picture."
        )
        self._update_buttons()
        self.sig_picture_checked.emit(True)

    def _on_picture_clicked(self, x_px: float, y_px: float) -> None:
        if self._image is None:
            return
        index = 0 if self.point_buttons[0].isChecked() else 1
        self._points[index] = (x_px, y_px)
        self.picture.set_pin(index, (x_px, y_px))
        self.pixel_labels[index].setText(f"at pixel {x_px:,.0f}, {y_px:,.0f}")
        if index == 0 and self._points[1] is None:
            self.point_buttons[1].setChecked(True)
            self.status_label.setText("Now say where point 1 is, and click point 2.")
        elif self._points[0] is not None and self._points[1] is not None:
            self.status_label.setText("Say where both points are, then save.")
        self._update_buttons()

    def _on_mode_changed(self, mode: int) -> None:
        degrees = mode == DEGREES_MODE
        for index in range(2):
            first, second = self.first_boxes[index], self.second_boxes[index]
            if degrees:
                first.setRange(-90.0, 90.0)
                second.setRange(-180.0, 180.0)
                for box in (first, second):
                    box.setDecimals(6)
                    box.setSingleStep(0.00001)
                    box.setSuffix("°")
                self.first_captions[index].setText("latitude")
                self.second_captions[index].setText("longitude")
            else:
                for box in (first, second):
                    box.setDecimals(1)
                    box.setRange(-10_000.0, 10_000.0)
                    box.setSingleStep(1.0)
                    box.setSuffix(" m")
                self.first_captions[index].setText("east")
                self.second_captions[index].setText("north")

    def _on_saved(self, result: QueryResult[Any]) -> None:
        self._saving = False
        self._update_buttons()
        if result.error is not None or not isinstance(result.value, SitePlanView):
            message = f"The plan was not saved: {printable(str(result.error))}"
            self._show_error(message)
            self.status_label.setText("")
            self.sig_save_failed.emit(message)
            return
        self.status_label.setText("Saved.")
        self.sig_plan_pinned.emit(result.value)
        self.accept()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _update_buttons(self) -> None:
        ready = self._image is not None and None not in self._points and not self._saving
        self.save_button.setEnabled(ready)
        self.save_button.setToolTip("" if ready else "Pick both points on the picture first")
