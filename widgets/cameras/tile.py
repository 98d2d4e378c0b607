"""One camera tile: newest frame, name, frame rate and status, or the replayed frame."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from engine.events import CameraStatus
from engine.frames import Frame
from engine.sitetime import display
from widgets.cameras.api import EngineGetter, FrameGetter, VideoStateGetter
from widgets.colours import (
    ALARM_FILL,
    ALARM_RED,
    CANVAS,
    MUTED_GREY,
    ON_ALARM_FILL,
    TEXT,
    WARNING_AMBER,
)

_TRACK_COLOUR = QColor("#39d353")
_REPLAY_COLOUR = QColor(ALARM_RED)
_RECORDING_FAILING_COLOUR = QColor(ALARM_FILL)  # white text on it: 6.5:1
_SIMULATED_FILL = QColor(WARNING_AMBER)  # dark text on it: 7.5:1, as the sensing pane's banner
_SIMULATED_TEXT = QColor(CANVAS)
SIMULATED_BADGE = "SIMULATED"
PRIVACY_NOTE = "Privacy masked"
MAX_ZOOM = 8.0  # digital zoom: beyond this a picture is only bigger pixels
ZOOM_STEP = 1.25  # per notch of the mouse wheel
_STATUS_COLOURS = {
    CameraStatus.STARTING: QColor("#d8a31a"),
    CameraStatus.ONLINE: QColor("#3fb950"),
    CameraStatus.OFFLINE: QColor(ALARM_RED),
    CameraStatus.ERROR: QColor(ALARM_RED),
    CameraStatus.NO_FOOTAGE: QColor("#8b949e"),
    CameraStatus.STOPPED: QColor("#8b949e"),
}


_STATUS_TITLES = {
    CameraStatus.ONLINE: "Online",
    CameraStatus.OFFLINE: "OFFLINE",
    CameraStatus.ERROR: "Cannot open camera",
    CameraStatus.NO_FOOTAGE: "No footage",
    CameraStatus.STOPPED: "Stopped",
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

    A simulated camera (``simulated`` given to :meth:`set_camera`: it films the site's
    simulated walkers) wears an amber ``SIMULATED`` badge in its header, as the Sensing
    pane's simulated room does, whatever its state.

    A live frame blacked out in part by the camera's privacy mask (``Frame.privacy_masked``)
    carries a small "Privacy masked" note in the tile's bottom-left corner, so a black area
    reads as masked on purpose, not as a fault.

    The mouse wheel zooms into the picture (up to :data:`MAX_ZOOM`, about the point under
    the pointer), dragging moves the zoomed picture, and the context menu's "Reset zoom"
    (or wheeling back) shows it whole: live and in replay alike, boxes included. The
    header says the zoom ("2.4×"); another camera on the tile starts whole.

    A camera another process runs (``engine_of`` given to :meth:`set_camera`: a console
    attached to a shared site) has no frames here: the tile says its state as its engine
    told it, which engine analyses it ("Analysed on server-a") and, until the engine's
    stream shows (``video_state``), why there is no picture ("Connecting to server-a's
    stream…", "server-a does not re-stream its cameras …"). Its picture, once it comes, is
    drawn with the engine's boxes like any camera's.
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
        self._engine_of: EngineGetter | None = None
        self._video_state: VideoStateGetter | None = None
        self._video_said: str | None = None  # what the tile last said of the missing video
        self._frame: Frame | None = None
        self._image: QImage | None = None
        self.status = CameraStatus.STARTING
        self.status_detail = ""
        self.status_since: datetime | None = None
        self.frames_shown = 0
        self.replay_label: str | None = None
        self.replay_status = ""
        self.recording_problem: str | None = None
        self.simulated = False
        # Names other senses gave this camera's tracked people (by track id), kept current
        # by the grid from the fusion of cameras and sensing rooms.
        self.fused_names: dict[int, str] = {}
        # Digital zoom: how much, and the picture's point at the centre (fractions).
        self.zoom = 1.0
        self._centre = QPointF(0.5, 0.5)
        self._drag: tuple[QPointF, QPointF] | None = None  # pointer and centre at press

    def set_camera(
        self,
        camera_id: str | None,
        name: str,
        frame_getter: FrameGetter | None,
        engine_of: EngineGetter | None = None,
        video_state: VideoStateGetter | None = None,
        *,
        simulated: bool = False,
    ) -> None:
        """Show ``camera_id`` (None: an empty tile with :attr:`empty_hint`); ``engine_of``:
        the camera runs in another process, which engine, and ``video_state`` why its
        picture is not here; ``simulated``: it films simulated walkers (see the class
        doc)."""
        if camera_id != self.camera_id:
            self.reset_zoom()  # the same camera (live ↔ replay) keeps its zoom
        self.camera_id, self.camera_name, self._frame_getter = camera_id, name, frame_getter
        self.simulated = simulated and camera_id is not None
        self._engine_of, self._video_state = engine_of, video_state
        self._video_said = video_state() if video_state is not None else None
        self._frame, self._image = None, None
        shown = f"Camera {name}{' (simulated)' if self.simulated else ''}"
        self.setAccessibleName(shown if camera_id else "Empty camera tile")
        if engine_of is not None or self.simulated:
            self._update_tooltip()
        self.update()

    def set_frame_getter(self, frame_getter: FrameGetter) -> None:
        """Draw the same camera's pictures from ``frame_getter`` from now on (its main
        stream, shown alone); the picture shown stays until the next one."""
        self._frame_getter = frame_getter

    @property
    def runs_elsewhere(self) -> bool:
        """The camera runs in another process (an attached console): no frames here."""
        return self._engine_of is not None

    @property
    def engine(self) -> str | None:
        """The engine running the camera as last told (None: none, or it runs here)."""
        return self._engine_of() if self._engine_of is not None else None

    def elsewhere_lines(self) -> tuple[str, str, str, str]:
        """What the tile of a camera run elsewhere says: its state, where it is analysed,
        the state's reason, and where its video is seen."""
        engine = self.engine
        title = self._status_title("Starting" if self.status_since else "No report yet")
        said = self._video_state() if self._video_state is not None else None
        if engine is not None:
            where = f"Analysed on {engine}"
            video = said or f"Waiting for {engine}'s video…"
        else:
            where = (
                "No engine runs this camera now"
                if self.status_since is not None
                else "Waiting for the site's engines to report it"
            )
            video = said or "No video until an engine runs this camera."
        return title, where, self.status_detail, video

    def _status_title(self, starting: str) -> str:
        """The camera's state in a word or two (``starting`` while it starts), an offline
        one with since when."""
        title = starting if self.status is CameraStatus.STARTING else _STATUS_TITLES[self.status]
        if self.status is CameraStatus.OFFLINE and self.status_since is not None:
            title += f" since {display().clock(self.status_since)}"
        return title

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
        if self.simulated:
            tip += "\nSimulated camera: it films the site's simulated walkers, not a real scene"
        if self._engine_of is not None:
            _title, where, _detail, video = self.elsewhere_lines()
            tip += f"\n{where}\n{video}"
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
        if frame is None and self._engine_of is not None and self.replay_label is None:
            # Run elsewhere: its stream stopped (the picture goes), or why there is none
            # changed (the words do).
            said = self._video_state() if self._video_state is not None else None
            if self._frame is None and said == self._video_said:
                return False
            self._frame, self._image, self._video_said = None, None, said
            self._update_tooltip()
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
            source = self._source_rect()
            painter.drawImage(target, self._image, source)
            painter.save()
            painter.setClipRect(target)
            self._draw_tracks(painter, target, source)
            painter.restore()
        if self.replay_label is not None:
            self._draw_replay(painter, rect)
            return
        if self._engine_of is not None and self._image is None:
            self._draw_elsewhere(painter, rect)
            self._draw_header(painter, rect)
            self._draw_recording_problem(painter, rect)
            return
        live = self.status is CameraStatus.ONLINE
        if not live:
            painter.fillRect(rect, QColor(13, 17, 23, 170 if self._image is not None else 255))
            title = self._status_title("Connecting…")
            body = self.status_detail
            if self.status is CameraStatus.NO_FOOTAGE:
                body += (
                    "\n\nCheck or change the camera's address in Administration → Cameras, "
                    "or with `watchfloor cameras edit`."
                )
            self._draw_centered(painter, rect, title, body, _STATUS_COLOURS[self.status])
        self._draw_header(painter, rect)
        if live and self.privacy_masked():
            self._draw_privacy_note(painter, rect)
        self._draw_recording_problem(painter, rect)

    def privacy_masked(self) -> bool:
        """Whether the frame shown was blacked out in part by the camera's privacy mask."""
        return self._frame is not None and self._frame.privacy_masked

    def _draw_privacy_note(self, painter: QPainter, rect: QRect) -> None:
        """A small plate in the bottom-left corner of the picture (above the recording
        band, if any), so that it reads as said of the picture, not of the tile."""
        painter.setFont(self.font())
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(PRIVACY_NOTE) + 12, metrics.height() + 4
        picture = rect
        if self._image is not None:
            picture = self._fit(self._image.width(), self._image.height()).toRect()
        bottom = min(picture.bottom(), rect.bottom() - (24 if self.recording_problem else 0)) - 6
        plate = QRect(picture.left() + 6, bottom - height, width, height)
        backing = QColor(CANVAS)
        backing.setAlpha(190)
        painter.fillRect(plate, backing)
        painter.setPen(QColor(TEXT))
        painter.drawText(plate, Qt.AlignmentFlag.AlignCenter, PRIVACY_NOTE)

    def _draw_elsewhere(self, painter: QPainter, rect: QRect) -> None:
        """A camera run by another process, in one block at the tile's centre: its state
        in its colour, where it is analysed and the reason, then (muted) where its video
        is seen. A tile too small for all of it drops the reason, then the video line."""
        title, where, detail, video = self.elsewhere_lines()
        flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap)
        bottom = 16 + (24 if self.recording_problem else 0)
        inner = rect.adjusted(16, 32, -16, -bottom)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.4)
        big.setBold(True)
        small = QFont(self.font())
        gap = 6

        def height(font: QFont, text: str) -> int:
            painter.setFont(font)
            return painter.fontMetrics().boundingRect(inner, flags, text).height()

        body = f"{where}\n{detail}" if detail else where
        blocks = [(big, title, _STATUS_COLOURS[self.status]), (small, body, QColor(TEXT))]
        blocks.append((small, video, QColor(MUTED_GREY)))
        heights = [height(font, text) for font, text, _ in blocks]
        if sum(heights) + 3 * gap > inner.height() and detail:
            blocks[1] = (small, where, QColor(TEXT))
            heights[1] = height(small, where)
        if sum(heights) + 3 * gap > inner.height():
            blocks, heights = blocks[:2], heights[:2]
        total = sum(heights) + gap * (len(blocks) - 1) + (gap if len(blocks) > 2 else 0)
        top = inner.top() + max(0, (inner.height() - total) // 2)
        for index, ((font, text, colour), h) in enumerate(zip(blocks, heights, strict=True)):
            if index == 2:
                top += gap  # the video line stands apart from the camera's state
            painter.setFont(font)
            painter.setPen(colour)
            painter.drawText(QRect(inner.left(), top, inner.width(), h), flags, text)
            top += h + gap

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

    # -- digital zoom ----------------------------------------------------------------------
    def _source_rect(self) -> QRectF:
        """The part of the picture shown: all of it, or at a zoom the part around the
        centre (kept inside the picture)."""
        if self._image is None:
            return QRectF()
        width, height = self._image.width(), self._image.height()
        shown_w, shown_h = width / self.zoom, height / self.zoom
        x = min(max(self._centre.x() * width - shown_w / 2, 0.0), width - shown_w)
        y = min(max(self._centre.y() * height - shown_h / 2, 0.0), height - shown_h)
        return QRectF(x, y, shown_w, shown_h)

    def reset_zoom(self) -> None:
        """Show the whole picture again."""
        self.zoom, self._centre, self._drag = 1.0, QPointF(0.5, 0.5), None
        self.update()

    def zoom_at(self, factor: float, at: QPointF) -> None:
        """Zoom by ``factor`` (within 1× and :data:`MAX_ZOOM`) keeping the picture's point
        under ``at`` (tile coordinates) where it is."""
        if self._image is None:
            return
        target, source = self._fit(self._image.width(), self._image.height()), self._source_rect()
        zoom = min(max(self.zoom * factor, 1.0), MAX_ZOOM)
        if zoom == self.zoom or target.width() <= 0 or target.height() <= 0:
            return
        # The picture's point under the pointer, then where the view must start for it to
        # stay under the pointer at the new zoom.
        ax = min(max(at.x(), target.left()), target.right()) - target.x()
        ay = min(max(at.y(), target.top()), target.bottom()) - target.y()
        px = source.x() + ax * source.width() / target.width()
        py = source.y() + ay * source.height() / target.height()
        width, height = self._image.width(), self._image.height()
        shown_w, shown_h = width / zoom, height / zoom
        left = px - ax * shown_w / target.width()
        top = py - ay * shown_h / target.height()
        self.zoom = zoom
        self._centre = QPointF((left + shown_w / 2) / width, (top + shown_h / 2) / height)
        self._centre = self._clamped_centre()
        self.update()

    def _clamped_centre(self) -> QPointF:
        source = self._source_rect()
        if self._image is None or source.isEmpty():
            return self._centre
        return QPointF(
            source.center().x() / self._image.width(), source.center().y() / self._image.height()
        )

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120
        if self._image is None or notches == 0:
            event.ignore()
            return
        self.zoom_at(ZOOM_STEP**notches, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.zoom > 1.0:
            self._drag = (event.position(), QPointF(self._centre))
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None or self._image is None:
            super().mouseMoveEvent(event)
            return
        start, centre = self._drag
        target = self._fit(self._image.width(), self._image.height())
        moved = event.position() - start
        # Dragging moves the picture with the pointer: the view's centre goes the other way.
        self._centre = QPointF(
            centre.x() - moved.x() / (target.width() * self.zoom),
            centre.y() - moved.y() / (target.height() * self.zoom),
        )
        self._centre = self._clamped_centre()
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            self._drag = None
            self.unsetCursor()
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self.zoom <= 1.0:
            event.ignore()  # the grid's menu, if any
            return
        menu = QMenu(self)
        menu.addAction("Reset zoom", self.reset_zoom)
        menu.exec(event.globalPos())

    def _draw_tracks(self, painter: QPainter, target: QRectF, source: QRectF) -> None:
        """Boxes of tracked people: solid when seen this frame, dashed while coasting."""
        frame = self._frame
        if frame is None or frame.analysis is None or self._image is None:
            return
        # Boxes are in the picture the camera analysed (its sub stream's, under a main one),
        # then in the part of the picture shown (zoomed).
        analysed_width = (frame.analysis_size or (self._image.width(), 0))[0]
        to_picture = self._image.width() / analysed_width
        scale = target.width() / source.width()
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for track in frame.analysis.tracks:
            box = track.box
            rect = QRectF(
                target.x() + (box.x * to_picture - source.x()) * scale,
                target.y() + (box.y * to_picture - source.y()) * scale,
                box.w * to_picture * scale,
                box.h * to_picture * scale,
            )
            pen = QPen(_TRACK_COLOUR, 2)
            if track.coasting:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(rect)
            label = f"#{track.track_id} {track.confidence:.2f}"
            # Its face's name, else the name another sense gave the same person (a
            # registered device a sensing room placed with them).
            person = track.person or self.fused_names.get(track.track_id)
            if person:
                label = f"{person} · {label}"
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
        rate = self._rate_text()
        if replay:
            badge_w = painter.fontMetrics().horizontalAdvance(replay) + 16
        elif rate:
            badge_w = max(82, QFontMetrics(self.font()).horizontalAdvance(rate) + 16)
        else:
            badge_w = 82
        simulated_w = 0
        if self.simulated:
            simulated_w = painter.fontMetrics().horizontalAdvance(SIMULATED_BADGE) + 12
            simulated = QRect(
                bar.right() - 8 - badge_w - simulated_w, bar.top() + 4, simulated_w, 16
            )
            painter.fillRect(simulated, _SIMULATED_FILL)
            painter.setPen(_SIMULATED_TEXT)
            painter.drawText(simulated, Qt.AlignmentFlag.AlignCenter, SIMULATED_BADGE)
            painter.setPen(QColor(TEXT))
            simulated_w += 6
        painter.drawText(
            bar.adjusted(24, 0, -8 - badge_w - simulated_w, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            self.camera_name,
        )
        if replay is not None:
            badge = QRect(bar.right() - 4 - badge_w, bar.top() + 3, badge_w, bar.height() - 6)
            painter.fillRect(badge, _REPLAY_COLOUR)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, replay)
        elif self._engine_of is not None:
            engine = self.engine
            if engine is not None:
                painter.setFont(self.font())
                painter.setPen(QColor(TEXT))
                painter.drawText(
                    bar.adjusted(0, 0, -8, 0),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                    painter.fontMetrics().elidedText(engine, Qt.TextElideMode.ElideRight, 74),
                )
        elif rate:
            painter.setFont(self.font())
            painter.drawText(
                bar.adjusted(0, 0, -8, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                rate,
            )

    def _rate_text(self) -> str:
        """The header's right side for a live picture: its frame rate, and its size when it
        is the camera's main stream at full size (the wall's tiles show the sub stream)."""
        frame = self._frame
        if frame is None or self.status is not CameraStatus.ONLINE:
            return ""
        rate = f"{frame.source_fps:4.1f} fps"
        if frame.analysis_size is not None:
            height, width = frame.image.shape[:2]
            rate = f"{width}×{height} · {rate}"
        return f"{self.zoom:.1f}× · {rate}" if self.zoom > 1.0 else rate

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
