"""What the administration pages about one camera's picture share (Floor calibration,
Privacy masks).

Such a page has a camera combo with Refresh picture and a line about what is stored for
the camera; a still of the camera's newest frame to work on (or a grey stand-in of the
picture's size saying why there is none); the page's own panel beside it; and the
permission line, the action strip and the Save button under that panel. What is stored is
read, and saved, through the console's actions run on the query client's workers; the
answers come back on the GUI thread.

:class:`CameraPictureCanvas` draws the still, scaled to fit, and the stand-in; a page's
canvas draws its own marks over it and reads the clicks. :class:`CameraPicturePage` is the
page around it: the camera, the picture, the stored record, the permission and the save
row; a page adds what it places on the picture and how it is saved.

Every method here runs on the GUI thread; nothing here starts a thread or reads a file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar, Final, Generic, TypeVar

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.access import Actor, Permission
from engine.history.query_service import CallRequest, QueryResult
from engine.text import printable
from widgets.action_strip import ActionRunner, ActionStrip, show_as_error
from widgets.colours import CONTROL_EDGE, RAISED, TEXT
from widgets.pane import PaneContext
from widgets.queries import QueryClient

_log = logging.getLogger(__name__)

NO_PICTURE_TEXT = (
    "No picture from this camera yet: it has not sent this console a frame. "
    "Press Refresh picture once it is online."
)
_PLACEHOLDER_ASPECT: Final = 4 / 3


def newest_pictures(ctx: PaneContext) -> Callable[[str], QImage | None]:
    """A page's ``frame_of``: a camera's newest decoded frame as a picture, by camera id."""

    def latest_picture(camera: str) -> QImage | None:
        """The camera's newest decoded frame, copied (in memory: no I/O)."""
        frame = ctx.frame_of(camera)
        if frame is None:
            return None
        image = frame.image
        height, width = image.shape[:2]
        return QImage(
            image.data, width, height, image.strides[0], QImage.Format.Format_BGR888
        ).copy()

    return latest_picture


class CameraPictureCanvas(QWidget):
    """A camera's still, scaled to fit (aspect kept), with what a page draws over it.

    Without a picture, a grey area of the picture's size (or 4:3) says why, and clicks ask
    for nothing. A page's canvas draws its marks in :meth:`_paint_on_picture` (clipped to
    the picture) and, where it has one, a legend in :meth:`_paint_under_picture`."""

    def __init__(self, accessible_name: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frame: QImage | None = None
        self._size: tuple[int, int] | None = None
        self._placeholder = NO_PICTURE_TEXT
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setAccessibleName(accessible_name)
        self.setToolTip(tooltip)

    def sizeHint(self) -> QSize:
        return QSize(640, 480)

    # -- state -----------------------------------------------------------------------------
    def set_picture(
        self, frame: QImage | None, size: tuple[int, int] | None, placeholder: str = ""
    ) -> None:
        """Show ``frame`` (None: the grey stand-in, ``size`` pixels if known, saying
        ``placeholder``)."""
        self._frame = None if frame is None or frame.isNull() else frame
        self._size = (
            (self._frame.width(), self._frame.height()) if self._frame is not None else size
        )
        self._placeholder = placeholder or NO_PICTURE_TEXT
        self.update()

    def has_picture(self) -> bool:
        return self._frame is not None

    def placeholder(self) -> str:
        """What the picture area says instead of a picture ("" while it shows one)."""
        return "" if self._frame is not None else self._placeholder

    def picture_size(self) -> tuple[int, int] | None:
        return self._size

    # -- geometry --------------------------------------------------------------------------
    def picture_rect(self) -> QRectF:
        """Where the picture (or its stand-in) is drawn: as large as fits, at the top (right
        under what the page says about it), centred across."""
        if self._size is not None and self._size[1] > 0:
            aspect = self._size[0] / self._size[1]
        else:
            aspect = _PLACEHOLDER_ASPECT
        area = QRectF(self.rect())
        width = min(area.width(), area.height() * aspect)
        height = width / aspect
        return QRectF(area.x() + (area.width() - width) / 2, area.y(), width, height)

    def widget_point(self, x: float, y: float) -> QPointF:
        """The widget position of picture point (x, y), in the canvas's own terms (the
        picture's pixels, or fractions of it)."""
        raise NotImplementedError

    # -- events ----------------------------------------------------------------------------
    def _press_to_act_on(self, event: QMouseEvent) -> bool:
        """Take a mouse press: whether it acts on the picture (the canvas is enabled and
        shows a picture), in which case the canvas takes the focus for the keys."""
        event.accept()
        if not self.isEnabled() or self._frame is None:
            return False
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        return True

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        event.accept()  # a double click is two clicks at one place: the second adds nothing

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = self.picture_rect()
        if self._frame is not None:
            painter.drawImage(rect, self._frame)
        else:
            painter.fillRect(rect, QColor(RAISED))
            painter.setPen(QColor(CONTROL_EDGE))
            painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.save()
        painter.setClipRect(rect)
        self._paint_on_picture(painter)
        painter.restore()
        if self._frame is None:
            self._paint_placeholder(painter, rect)
        else:
            self._paint_under_picture(painter, rect)
        painter.end()

    # -- what a page's canvas draws --------------------------------------------------------
    def _paint_on_picture(self, painter: QPainter) -> None:
        """Draw the page's marks over the picture (clipped to it)."""

    def _paint_under_picture(self, painter: QPainter, rect: QRectF) -> None:
        """Draw in the space under the picture (at ``rect``), while there is a picture."""

    def _paint_placeholder(self, painter: QPainter, rect: QRectF) -> None:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        painter.setFont(font)
        painter.setPen(QColor(TEXT))
        inner = rect.adjusted(rect.width() * 0.12, 0, -rect.width() * 0.12, 0)
        painter.drawText(
            inner, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder
        )


StoredT = TypeVar("StoredT")
"""What is stored for a camera (a floor calibration, a privacy mask)."""

CanvasT = TypeVar("CanvasT", bound=CameraPictureCanvas)


class CameraPicturePage(QWidget, Generic[StoredT, CanvasT]):
    """An administration page about one camera's picture: pick a camera, work on a still of
    its picture on ``canvas``, see what is stored for it, and save.

    ``cameras`` are the site's (key, display name) pairs; ``frame_of(key)`` the camera's
    newest picture (already in memory, or None); ``no_picture_reason(key)`` why there is
    none, in one line (None: say the usual); ``read_stored(key)`` (blocking: the page runs
    it through ``client``) what is stored for the camera, or None. The console says with
    :meth:`on_actor_changed` whether the person at it may save; the engine refuses anyone
    else anyway.

    A page gives its words as the class attributes below, builds its own widgets after this
    class's, lays them out with :meth:`_picture_side`, :meth:`_work_row` and
    :meth:`_lay_out`, then calls :meth:`_open_first_camera`; it says what is stored in
    :meth:`_stored_text`, keeps everything it shows in line in :meth:`_show_all` and
    :meth:`_update_controls`, and saves with :meth:`_run_save`."""

    sig_stored_loaded = Signal(str)
    """What is stored for a camera was read (GUI thread): the camera's key."""

    sig_saved = Signal(str)
    """The page's work was stored (GUI thread): the camera's key."""

    CHANNEL: ClassVar[str]
    """The prefix of the page's query channels (``floor-calibration``)."""
    NOT_ALLOWED_TEXT: ClassVar[str]
    """Why the person at the console may not save (the permission line)."""
    NO_CAMERA_TEXT: ClassVar[str]
    """What the page says when the site has no cameras."""
    REFRESH_TOOLTIP: ClassVar[str]
    """What Refresh picture does to the page's work."""
    CLEAR_TOOLTIP: ClassVar[str]
    """What Clear all does."""
    REVERT_TOOLTIP: ClassVar[str]
    """What Back to stored does."""
    SAVE_TEXT: ClassVar[str]
    """The Save button's text."""
    SAVED_WHAT: ClassVar[str]
    """What is saved, for "Saving the … of Yard…" (``calibration``)."""
    READING_TEXT: ClassVar[str]
    """The stored line while what is stored is being read."""
    STORED_NAME: ClassVar[str]
    """What is stored, for "Could not read the …" (``stored calibration``)."""
    STORED_REQUEST: ClassVar[str]
    """The description of the worker call that reads it."""
    STORED_TYPE: ClassVar[type[Any]]
    """The type of what ``read_stored`` answers (anything else is taken as None)."""

    def __init__(
        self,
        client: QueryClient,
        *,
        cameras: Sequence[tuple[str, str]],
        frame_of: Callable[[str], QImage | None],
        no_picture_reason: Callable[[str], str | None] | None,
        read_stored: Callable[[str], StoredT | None],
        canvas: CanvasT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._cameras = [(str(key), str(name)) for key, name in cameras]
        self._frame_of = frame_of
        self._no_picture_reason = no_picture_reason
        self._read_stored = read_stored
        self._channel = f"{self.CHANNEL}-{id(self):x}"
        self._camera: str | None = None
        self._frame: QImage | None = None
        self._placeholder = NO_PICTURE_TEXT
        self._stored: dict[str, StoredT | None] = {}
        self._changes_allowed = True
        self._loaded_once = False

        # -- the camera ----------------------------------------------------------------------
        self.camera_combo = QComboBox()
        self.camera_combo.setAccessibleName("Camera")
        self.camera_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for key, name in self._cameras:
            self.camera_combo.addItem(printable(name), key)
        self.camera_combo.currentIndexChanged.connect(self._on_camera_changed)
        self.refresh_button = QPushButton("Refresh picture")
        self.refresh_button.setToolTip(self.REFRESH_TOOLTIP)
        self.refresh_button.clicked.connect(self.refresh_picture)
        self.stored_label = QLabel()
        self.stored_label.setWordWrap(True)
        self.stored_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._camera_row = QHBoxLayout()
        self._camera_row.addWidget(QLabel("Camera"))
        self._camera_row.addWidget(self.camera_combo)
        self._camera_row.addWidget(self.refresh_button)
        self._camera_row.addWidget(self.stored_label, 1)

        # -- the picture -----------------------------------------------------------------------
        self.canvas = canvas
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        show_as_error(self.problem_label)
        self.problem_label.hide()

        # -- the page's work as a whole --------------------------------------------------------
        self.clear_button = QPushButton("Clear all")
        self.clear_button.setToolTip(self.CLEAR_TOOLTIP)
        self.clear_button.clicked.connect(self._on_clear_requested)
        self.revert_button = QPushButton("Back to stored")
        self.revert_button.setToolTip(self.REVERT_TOOLTIP)
        self.revert_button.clicked.connect(self._on_revert_requested)

        # -- saving ----------------------------------------------------------------------------
        self.permission_label = QLabel()
        self.permission_label.setWordWrap(True)
        self.permission_label.hide()
        self.save_button = QPushButton(self.SAVE_TEXT)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._on_save_requested)
        self.strip = ActionStrip()
        self._runner = ActionRunner(
            client,
            self.strip,
            channel=f"{self._channel}.save",
            update_controls=self._update_controls,
            parent=self,
        )
        self._save_row = QHBoxLayout()
        self._save_row.addWidget(self.strip, 1)
        self._save_row.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignTop)

    # -- building (for the pages) ----------------------------------------------------------
    def _outcome_font(self) -> QFont:
        """The page's outcome line, a size up: the one thing the admin is after."""
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        return font

    def _picture_side(self, *above: QWidget) -> QWidget:
        """The picture with the lines ``above`` it, in that order."""
        picture_side = QWidget()
        picture_layout = QVBoxLayout(picture_side)
        picture_layout.setContentsMargins(0, 0, 0, 0)
        for widget in above:
            picture_layout.addWidget(widget)
        picture_layout.addWidget(self.canvas, 1)
        return picture_side

    def _work_row(self, *buttons: QPushButton) -> QHBoxLayout:
        """The page's ``buttons``, then Clear all, and Back to stored at the right."""
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        row.addWidget(self.revert_button)
        return row

    def _lay_out(
        self,
        picture_side: QWidget,
        side_parts: Sequence[tuple[QWidget | QLayout, int]],
        *,
        side_min_width: int,
        side_stretch: int,
    ) -> None:
        """The camera row over the picture and, beside it (``side_stretch`` to the
        picture's 3), the page's own ``side_parts`` (each with its stretch) over the
        permission line and the save row."""
        side = QWidget()
        side.setMinimumWidth(side_min_width)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        for part, stretch in side_parts:
            if isinstance(part, QLayout):
                side_layout.addLayout(part, stretch)
            else:
                side_layout.addWidget(part, stretch)
        side_layout.addWidget(self.permission_label)
        side_layout.addLayout(self._save_row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(picture_side)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, side_stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._camera_row)
        layout.addWidget(self.splitter, 1)

    def _open_first_camera(self) -> None:
        """Show the site's first camera (if it has one) and bring everything in line."""
        if self._cameras:
            self._camera = self._cameras[0][0]
            self.refresh_picture()
        self._show_all()

    # -- public API ------------------------------------------------------------------------
    def set_cameras(self, cameras: Sequence[tuple[str, str]]) -> None:
        """The site's cameras changed while the console runs (added, removed, renamed):
        the camera choice offers them by their names now. The camera shown stays, with
        the work on it; when it was removed, the page shows the first camera. GUI thread,
        memory only (a page forgets its work on removed cameras in :meth:`_show_all`'s
        caller, :meth:`_cameras_changed`)."""
        self._cameras = [(str(key), str(name)) for key, name in cameras]
        combo = self.camera_combo
        combo.blockSignals(True)
        combo.clear()
        for key, name in self._cameras:
            combo.addItem(printable(name), key)
        index = combo.findData(self._camera) if self._camera is not None else -1
        combo.setCurrentIndex(index if index >= 0 else 0 if self._cameras else -1)
        combo.blockSignals(False)
        if index < 0:
            self._on_camera_changed(combo.currentIndex())
        self._cameras_changed({key for key, _name in self._cameras})
        self._show_all()

    def _cameras_changed(self, keys: set[str]) -> None:
        """The site's cameras are ``keys`` now: a page drops its work on any other."""

    def on_actor_changed(self, actor: Actor | None) -> None:
        """Who is logged in changed (None: nobody): saving is for who may configure
        cameras."""
        self.set_changes_allowed(actor is not None and actor.may(Permission.CONFIGURE_CAMERAS))

    def set_changes_allowed(self, allowed: bool, why_not: str | None = None) -> None:
        """Whether the person at the console may save; ``why_not`` (default: the page's
        :attr:`NOT_ALLOWED_TEXT`) is shown when they may not."""
        self._changes_allowed = allowed
        self.permission_label.setText(
            "" if allowed else why_not if why_not is not None else self.NOT_ALLOWED_TEXT
        )
        self.permission_label.setVisible(not allowed)
        self._update_controls()

    def on_page_shown(self) -> None:
        """The page came into view: read what is stored for the camera again, and look for
        a picture if there was none."""
        self._loaded_once = True
        if self._camera is not None and self._frame is None:
            self.refresh_picture()
        self.load_stored()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self.on_page_shown()

    def camera(self) -> str | None:
        return self._camera

    def select_camera(self, camera: str) -> None:
        index = self.camera_combo.findData(camera)
        if index < 0:
            raise KeyError(camera)
        self.camera_combo.setCurrentIndex(index)

    def refresh_picture(self) -> None:
        """Show the camera's newest picture; what was placed on it stays where it is."""
        if self._camera is None:
            self._frame = None
            self.canvas.set_picture(None, None, self.NO_CAMERA_TEXT)
            return
        frame = self._frame_of(self._camera)
        self._frame = None if frame is None or frame.isNull() else frame
        reason = self._no_picture_reason(self._camera) if self._no_picture_reason else None
        self._placeholder = (
            f"No picture from this camera: {printable(reason)}" if reason else NO_PICTURE_TEXT
        )
        self._show_picture()
        self._show_all()

    def load_stored(self) -> None:
        """Read what is stored for the camera (on a worker); shown when it answers."""
        camera = self._camera
        if camera is None:
            return
        self._show_stored()
        self._client.submit(
            f"{self._channel}.stored",
            CallRequest(partial(self._read_stored, camera), self.STORED_REQUEST),
            partial(self._on_stored_loaded, camera),
        )

    def image_size(self) -> tuple[int, int] | None:
        """The picture's size in pixels: the camera's picture, else the stored one's."""
        if self._frame is not None:
            return self._frame.width(), self._frame.height()
        return self._stored_size()

    def stored(self, camera: str | None = None) -> StoredT | None:
        """What is stored for ``camera`` (default: the one shown), as last read."""
        return self._stored.get(camera or self._camera or "")

    def has_read_stored(self, camera: str | None = None) -> bool:
        """Whether what is stored for ``camera`` (default: the one shown) has been read."""
        return (camera or self._camera or "") in self._stored

    def is_busy(self) -> bool:
        return self._runner.is_busy()

    # -- handlers --------------------------------------------------------------------------
    def _on_camera_changed(self, index: int) -> None:
        camera = self.camera_combo.itemData(index) if index >= 0 else None
        if camera == self._camera:
            return
        leaving, self._camera = self._camera, camera
        self._switch_work(leaving, camera)
        self.refresh_picture()
        self.load_stored()

    def _on_stored_loaded(self, camera: str, result: QueryResult[Any]) -> None:
        if result.error is not None:
            message = f"Could not read the {self.STORED_NAME}: {printable(str(result.error))}"
            _log.warning("%s", message)
            self.strip.show_error(message)
            self._show_stored()
            return
        stored = result.value if isinstance(result.value, self.STORED_TYPE) else None
        self._stored[camera] = stored
        self._stored_read(camera, stored)
        self.sig_stored_loaded.emit(camera)

    def _on_save_requested(self) -> None:
        raise NotImplementedError

    def _on_clear_requested(self) -> None:
        raise NotImplementedError

    def _on_revert_requested(self) -> None:
        raise NotImplementedError

    # -- what a page does --------------------------------------------------------------------
    def _switch_work(self, leaving: str | None, camera: str | None) -> None:
        """The camera shown is now ``camera`` (was ``leaving``): show the work for it."""
        raise NotImplementedError

    def _stored_read(self, camera: str, stored: StoredT | None) -> None:
        """What is stored for ``camera`` was read (already kept): show it where it
        belongs."""
        raise NotImplementedError

    def _stored_image_size(self, stored: StoredT) -> tuple[int, int]:
        """The size (pixels) of the picture ``stored`` was made on."""
        raise NotImplementedError

    def _stored_text(self, stored: StoredT | None) -> str:
        """The stored line for what was read for the camera shown (None: nothing stored)."""
        raise NotImplementedError

    def _show_all(self) -> None:
        """Bring everything the page shows in line with its work and the picture."""
        raise NotImplementedError

    def _update_controls(self) -> None:
        raise NotImplementedError

    # -- internals -------------------------------------------------------------------------
    def _run_save(
        self, camera: str, save: Callable[[], object], saved: Callable[[object], None]
    ) -> None:
        """Run ``save`` (blocking: it stores the page's work for ``camera``) on a worker,
        shown in the strip; ``saved`` gets its answer on the GUI thread."""
        name = self._camera_name(camera)
        self._runner.run(
            f"Saving the {self.SAVED_WHAT} of {name}…",
            save,
            saved,
            failure=f"Could not save the {self.SAVED_WHAT} of {name}",
        )

    def _show_picture(self) -> None:
        self.canvas.set_picture(self._frame, self._stored_size(), self._placeholder)

    def _show_stored(self) -> None:
        camera = self._camera
        if camera is None:
            self.stored_label.setText(self.NO_CAMERA_TEXT)
        elif camera not in self._stored:
            self.stored_label.setText(self.READING_TEXT)
        else:
            self.stored_label.setText(self._stored_text(self._stored[camera]))

    def _stored_size(self) -> tuple[int, int] | None:
        stored = self.stored()
        return self._stored_image_size(stored) if stored is not None else None

    def _camera_name(self, camera: str) -> str:
        return printable(dict(self._cameras).get(camera, camera))
