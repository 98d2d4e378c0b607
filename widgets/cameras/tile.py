"""One camera tile: newest frame, name, frame rate and status, or the replayed frame."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.events import CameraStatus
from engine.frames import Frame
from engine.sitetime import display
from widgets.cameras.api import FrameGetter
from widgets.colours import ALARM_FILL, ALARM_RED, ON_ALARM_FILL

_TRACK_COLOUR = QColor("#39d353")
_REPLAY_COLOUR = QColor(ALARM_RED)
_RECORDING_FAILING_COLOUR = QColor(ALARM_FILL)  # white text on it: 6.5:1
_STATUS_COLOURS = {
    CameraStatus.STARTING: QColor("#d8a31a"),
    CameraStatus.ONLINE: QColor("#3fb950"),
    CameraStatus.OFFLINE: QColor(ALARM_RED),
    CameraStatus.ERROR: QColor(ALARM_RED),
    CameraStatus.NO_FOOTAGE: QColor("#8b949e"),
    CameraStatus.STOPPED: QColor("#8b949e"),
}


class CameraTile(QWidget):
    """Draws the newest frame of one camera when :meth:`refresh` finds a new one.

    The tile pulls frames at display rate through ``frame_getter``; frames it never got to
    are simply skipped, so a slow display never builds a queue.

    In replay (:meth:`set_replay`) the getter gives replayed frames: the tile wears a red
    border and a ``REPLAY 09:14:03 ×4`` badge, ignores the live camera status, and when
    the getter has no frame it shows why (``No recording at 09:14:05``).

    A camera whose clips or snapshots cannot be written (:meth:`set_recording_problem`)
    wears a red band along its bottom edge saying so ("Recording failing: disk full (at
    least 3 files lost)"), live or not, until they are written again.
    """

    sig_activated = Signal(str)
    """Double-clicked: carries the camera id (the grid shows that camera alone)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.camera_id: str | None = None
        self.camera_name = ""
        self.empty_hint = ""
        self._frame_getter: FrameGetter | None = None
        self._frame: Frame | None = None
        self._image: QImage | None = None
        self.status = CameraStatus.STARTING
        self.status_detail = ""
        self.status_since: datetime | None = None
        self.frames_shown = 0
        self.replay_label: str | None = None
        self.replay_status = ""
        self.recording_problem: str | None = None

    def set_camera(
        self, camera_id: str | None, name: str, frame_getter: FrameGetter | None
    ) -> None:
        """Show ``camera_id`` (None: an empty tile with :attr:`empty_hint`)."""
        self.camera_id, self.camera_name, self._frame_getter = camera_id, name, frame_getter
        self._frame, self._image = None, None
        self.setAccessibleName(f"Camera {name}" if camera_id else "Empty camera tile")
        self.update()

    def set_status(self, status: CameraStatus, detail: str, since: datetime | None) -> None:
        self.status, self.status_detail, self.status_since = status, detail, since
        self._update_tooltip()
        self.update()

    def set_recording_problem(self, problem: str | None) -> None:
        """Show why the camera's recording is failing (None: it records)."""
        if problem == self.recording_problem:
            return
        self.recording_problem = problem
        self.setAccessibleDescription(problem or self.replay_label or "")
        self._update_tooltip()
        self.update()

    def _update_tooltip(self) -> None:
        tip = f"{self.camera_name}: {self.status.value} — {self.status_detail}"
        if self.recording_problem:
            tip += f"\n{self.recording_problem}"
        self.setToolTip(tip)

    def set_replay(self, label: str | None, status: str = "") -> None:
        """Show replayed frames: ``label`` (``REPLAY 09:14:03 ×4``) in the header badge
        and ``status`` (why there is no frame) when the getter has none; None: live."""
        if label == self.replay_label and status == self.replay_status:
            return
        self.replay_label, self.replay_status = label, status if label is not None else ""
        self.setAccessibleDescription(label or "")
        self.update()

    def refresh(self) -> bool:
        """Take the newest frame if it is new; returns True if the tile will repaint."""
        if self._frame_getter is None or not self.isVisible():
            return False
        frame = self._frame_getter()
        if frame is None and self.replay_label is not None and self._frame is not None:
            self._frame, self._image = None, None  # nothing recorded at this moment
            self.update()
            return True
        if frame is None or (self._frame is not None and frame.seq == self._frame.seq):
            return False
        self._frame = frame
        image = frame.image
        height, width = image.shape[:2]
        # Wraps the numpy buffer without copying; self._frame keeps it alive.
        self._image = QImage(
            image.data, width, height, image.strides[0], QImage.Format.Format_BGR888
        )
        self.frames_shown += 1
        self.update()
        return True

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.camera_id is not None:
            self.sig_activated.emit(self.camera_id)
        super().mouseDoubleClickEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.rect()
        painter.fillRect(rect, QColor("#0d1117"))
        if self.camera_id is None:
            self._draw_centered(painter, rect, "No camera", self.empty_hint, QColor("#8b949e"))
            return
        if self._image is not None:
            target = self._fit(self._image.width(), self._image.height())
            painter.drawImage(target, self._image)
            self._draw_tracks(painter, target)
        if self.replay_label is not None:
            self._draw_replay(painter, rect)
            return
        live = self.status is CameraStatus.ONLINE
        if not live:
            painter.fillRect(rect, QColor(13, 17, 23, 170 if self._image is not None else 255))
            title = {
                CameraStatus.STARTING: "Connecting…",
                CameraStatus.OFFLINE: "OFFLINE",
                CameraStatus.ERROR: "Cannot open camera",
                CameraStatus.NO_FOOTAGE: "No footage",
                CameraStatus.STOPPED: "Stopped",
            }[self.status]
            if self.status is CameraStatus.OFFLINE and self.status_since is not None:
                title += f" since {display().clock(self.status_since)}"
            body = self.status_detail
            if self.status is CameraStatus.NO_FOOTAGE:
                body += (
                    "\n\nTo add a camera, edit the site file's [[cameras]] table: "
                    'url = "/path/video.mp4", "rtsp://host/stream" or a webcam index.'
                )
            self._draw_centered(painter, rect, title, body, _STATUS_COLOURS[self.status])
        self._draw_header(painter, rect)
        self._draw_recording_problem(painter, rect)

    def _draw_recording_problem(self, painter: QPainter, rect: QRect) -> None:
        """A red band along the bottom: clips and snapshots of this camera are lost."""
        if not self.recording_problem:
            return
        band = QRect(rect.left(), rect.bottom() - 23, rect.width(), 24)
        painter.fillRect(band, _RECORDING_FAILING_COLOUR)
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(ON_ALARM_FILL))
        text = painter.fontMetrics().elidedText(
            self.recording_problem, Qt.TextElideMode.ElideRight, band.width() - 16
        )
        painter.drawText(band.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter, text)

    def _draw_replay(self, painter: QPainter, rect: QRect) -> None:
        """The replay state: why there is no frame (if so), a red border, the badge."""
        if self._image is None:
            title = self.replay_status or "Loading the replay…"
            self._draw_centered(painter, rect, title, "", QColor("#d29922"))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(_REPLAY_COLOUR, 4))
        painter.drawRect(rect.adjusted(2, 2, -2, -2))
        self._draw_header(painter, rect)

    def _draw_tracks(self, painter: QPainter, target: QRectF) -> None:
        """Boxes of tracked people: solid when seen this frame, dashed while coasting."""
        frame = self._frame
        if frame is None or frame.analysis is None or self._image is None:
            return
        scale = target.width() / self._image.width()
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for track in frame.analysis.tracks:
            box = track.box
            rect = QRectF(
                target.x() + box.x * scale, target.y() + box.y * scale, box.w * scale, box.h * scale
            )
            pen = QPen(_TRACK_COLOUR, 2)
            if track.coasting:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(rect)
            label = f"#{track.track_id} {track.confidence:.2f}"
            if track.person:
                label = f"{track.person} · {label}"
            painter.fillRect(
                QRectF(rect.x(), rect.y() - 16, 9 + 7 * len(label), 16), QColor(0, 0, 0, 160)
            )
            painter.setPen(_TRACK_COLOUR)
            painter.drawText(
                QRectF(rect.x() + 3, rect.y() - 16, 200, 16),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                label,
            )

    def _fit(self, width: int, height: int) -> QRectF:
        rect = self.rect()
        scale = min(rect.width() / width, rect.height() / height)
        w, h = width * scale, height * scale
        return QRectF((rect.width() - w) / 2, (rect.height() - h) / 2, w, h)

    def _draw_header(self, painter: QPainter, rect: QRect) -> None:
        bar = QRect(rect.left(), rect.top(), rect.width(), 24)
        painter.fillRect(bar, QColor(0, 0, 0, 150))
        replay = self.replay_label
        dot = _REPLAY_COLOUR if replay is not None else _STATUS_COLOURS[self.status]
        painter.setPen(dot)
        painter.setBrush(dot)
        painter.drawEllipse(bar.left() + 8, bar.top() + 8, 8, 8)
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#e6edf3"))
        badge_w = painter.fontMetrics().horizontalAdvance(replay) + 16 if replay else 82
        painter.drawText(
            bar.adjusted(24, 0, -8 - badge_w, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            self.camera_name,
        )
        if replay is not None:
            badge = QRect(bar.right() - 4 - badge_w, bar.top() + 3, badge_w, bar.height() - 6)
            painter.fillRect(badge, _REPLAY_COLOUR)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, replay)
        elif self._frame is not None and self.status is CameraStatus.ONLINE:
            painter.setFont(self.font())
            painter.drawText(
                bar.adjusted(0, 0, -8, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                f"{self._frame.source_fps:4.1f} fps",
            )

    def _draw_centered(
        self, painter: QPainter, rect: QRect, title: str, body: str, colour: QColor
    ) -> None:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(colour)
        inner = rect.adjusted(16, 32, -16, -16)
        painter.drawText(
            inner.adjusted(0, 0, 0, -inner.height() // 2),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
            title,
        )
        painter.setFont(self.font())
        painter.setPen(QColor("#c9d1d9"))
        painter.drawText(
            inner.adjusted(0, inner.height() // 2 + 6, 0, 0),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
            body,
        )
