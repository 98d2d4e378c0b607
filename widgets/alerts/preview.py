"""What raised the selected alert, in place: its picture, its clip, its words.

The Alerts pane shows the :class:`~widgets.alerts.api.AlertEvidence` of the alert the
operator selected, so that they judge it before acknowledging. Its picture (the snapshot of
the triggering detection) shows at once with the person's box and the rule's zone drawn
over it, and a map of the camera's whole view in a corner (the zone, where the person is);
the clip covering its event plays as soon as there is one (from a few seconds before), the
marked picture then beside the caption. While the clip is still being recorded the preview
says so with the seconds until it is ready ("Recording… about 12 s until the clip is
ready", counted down), asks for the evidence again then (``ask_again``), and plays the
clip when it comes; it never says that nothing was kept while footage is on its way.

The box and the zone are drawn on the picture, not over the playing clip: the engine keeps
no track positions per moment to follow the person through the clip, and the clip player's
video surface takes no overlay. Nothing here reads a file: the picture's bytes come with
the evidence (read on a worker), and the clip player streams from its own backend.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.text import printable
from widgets.alerts.api import AlertEvidence, clip_pending_text
from widgets.colours import ALARM_RED, CANVAS, MUTED_GREY, TEXT, WARNING_AMBER, ZONE_ORANGE
from widgets.events.clip_player import ClipPlayer

LEAD_IN_S = 3.0  # the clip starts this long before the event: what led up to it
PLACEHOLDER = "Select an alert to see what raised it"
LOADING = "Loading what raised it…"
STILL_RECORDING = "Still recording: double-click the alert for the footage since."
COUNTDOWN_MS = 1000  # the seconds until the clip count down once a second
ASK_AGAIN_EVERY_S = 2  # once due, the evidence is asked for again this often
STILL_HEIGHT = 120  # the marked picture beside the caption while the clip plays (pixels)
INSET_SHARE = 0.3  # the map of the whole view takes this share of the picture's width


class AlertPreview(QWidget):
    """The selected alert's evidence: a clip player or a marked picture over a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evidence: AlertEvidence | None = None
        self._image = QImage()
        self._ask_again: Callable[[], object] | None = None
        self._ready_in_s: int | None = None  # seconds until the clip (counting down)
        self.picture = QLabel(PLACEHOLDER)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setWordWrap(True)
        self.picture.setMinimumSize(160, 90)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setStyleSheet(f"color: {MUTED_GREY}; background: #010409")
        self.player: ClipPlayer | None = None  # made for the first clip (QtMultimedia is slow)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.picture)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # While the clip is on its way: "Recording… about N s until the clip is ready".
        self.recording_note = QLabel()
        self.recording_note.setWordWrap(True)
        self.recording_note.setStyleSheet(f"color: {WARNING_AMBER}; font-weight: bold")
        self.recording_note.hide()
        # The marked picture, small, beside the caption while the clip plays.
        self.still = QLabel()
        self.still.setFixedHeight(STILL_HEIGHT)
        self.still.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.still.setToolTip("The picture of what raised the alert: the person's box, the zone")
        self.still.hide()
        self.countdown = QTimer(self)
        self.countdown.setInterval(COUNTDOWN_MS)
        self.countdown.timeout.connect(self._on_countdown_timeout)
        words = QVBoxLayout()
        words.setContentsMargins(0, 0, 0, 0)
        words.addWidget(self.recording_note)
        words.addWidget(self.caption)
        below = QHBoxLayout()
        below.setContentsMargins(0, 0, 0, 0)
        below.addLayout(words, 1)
        below.addWidget(self.still)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addLayout(below)

    def clear(self, text: str = PLACEHOLDER) -> None:
        """Show nothing (no alert selected, or its evidence on its way: ``text``)."""
        self.evidence = None
        self._ask_again = None
        self._stop_countdown()
        if self.player is not None:
            self.player.close_clip()
        self._image = QImage()
        self.picture.setPixmap(QPixmap())
        self.picture.setText(text)
        self.stack.setCurrentWidget(self.picture)
        self.caption.clear()
        self.still.clear()
        self.still.hide()

    def show_evidence(
        self, evidence: AlertEvidence, ask_again: Callable[[], object] | None = None
    ) -> None:
        """Play the clip (from :data:`LEAD_IN_S` before the event) when there is one, else
        show the marked picture at once and, while the clip is being recorded, the seconds
        until it is ready; the caption says what happened. ``ask_again``: asks for this
        alert's evidence again (its answer comes back here), called when the clip should
        be ready and every :data:`ASK_AGAIN_EVERY_S` after until it is."""
        same_clip = (
            self.evidence is not None
            and self.evidence.alert_id == evidence.alert_id
            and self.evidence.clip == evidence.clip
            and self.showing() == "clip"
        )
        self.evidence = evidence
        self._ask_again = ask_again
        caption = printable(evidence.caption)
        if evidence.clip is not None and evidence.recording:
            caption += f"\n{STILL_RECORDING}"
        self.caption.setText(caption)
        self._image = QImage.fromData(evidence.snapshot) if evidence.snapshot else QImage()
        self._stop_countdown()
        if evidence.clip is not None:
            if not same_clip:
                self.replay()
            self._fit_still()
            return
        if self.player is not None:
            self.player.close_clip()
        self.still.hide()
        self.stack.setCurrentWidget(self.picture)
        if evidence.clip_ready_in_s is not None:
            self._ready_in_s = round(evidence.clip_ready_in_s)
            self._say_recording()
            self.countdown.start()
        if self._image.isNull():
            self.picture.setPixmap(QPixmap())
            if self._ready_in_s is not None:
                self.picture.setText(self.recording_note.text())
            elif evidence.camera is None:
                self.picture.setText(
                    "No picture or clip of this alert (sensed, not seen by a camera)"
                )
            else:
                self.picture.setText("No picture or clip of this alert was kept")
        else:
            self._fit_picture()

    def replay(self) -> bool:
        """Play the evidence's clip again from :data:`LEAD_IN_S` before the event; False
        without a clip."""
        evidence = self.evidence
        if evidence is None or evidence.clip is None:
            return False
        if self.player is None:
            self.player = ClipPlayer()
            self.stack.addWidget(self.player)
        self.stack.setCurrentWidget(self.player)
        return self.player.open(evidence.clip, max(0.0, evidence.clip_offset_s - LEAD_IN_S))

    def showing(self) -> str:
        """What the preview shows: ``clip``, ``picture`` or ``nothing``."""
        if self.player is not None and self.stack.currentWidget() is self.player:
            return "clip"
        return "picture" if not self._image.isNull() else "nothing"

    def recording_text(self) -> str:
        """What the preview says of the clip being recorded ("" when it says nothing)."""
        return self.recording_note.text() if self._ready_in_s is not None else ""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._image.isNull() and self.stack.currentWidget() is self.picture:
            self._fit_picture()

    def _say_recording(self) -> None:
        text = clip_pending_text(self._ready_in_s or 0)
        self.recording_note.setText(text)
        self.recording_note.show()
        if self._image.isNull() and self.stack.currentWidget() is self.picture:
            self.picture.setText(text)

    def _stop_countdown(self) -> None:
        self.countdown.stop()
        self._ready_in_s = None
        self.recording_note.clear()
        self.recording_note.hide()

    def _on_countdown_timeout(self) -> None:
        """A second less until the clip; once it is due, ask for the evidence again (every
        :data:`ASK_AGAIN_EVERY_S`): the answer shows the clip, or a new estimate."""
        if self._ready_in_s is None:
            self.countdown.stop()
            return
        self._ready_in_s -= 1
        self._say_recording()
        due = self._ready_in_s <= 0 and self._ready_in_s % ASK_AGAIN_EVERY_S == 0
        if due and self._ask_again is not None:
            self._ask_again()

    def _fit_picture(self) -> None:
        self.picture.setText("")
        self.picture.setPixmap(self._marked(self.picture.size(), with_map=True))

    def _fit_still(self) -> None:
        if self._image.isNull():
            self.still.hide()
            return
        height = STILL_HEIGHT
        width = max(1, round(self._image.width() * height / max(1, self._image.height())))
        self.still.setPixmap(self._marked(QSize(width, height), with_map=False))
        self.still.show()

    def _marked(self, size: QSize, *, with_map: bool) -> QPixmap:
        """The picture fitted in ``size`` with the person's box and the part of the zone it
        shows drawn over it, and (``with_map``) the camera's whole view in the corner."""
        evidence = self.evidence
        canvas = QPixmap(size.expandedTo(QSize(1, 1)))
        canvas.fill(QColor(CANVAS))
        image = self._image
        scale = min(canvas.width() / image.width(), canvas.height() / image.height())
        target = QRectF(0, 0, image.width() * scale, image.height() * scale)
        target.moveCenter(QRectF(canvas.rect()).center())
        painter = QPainter(canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, image)
        if evidence is not None:
            frame, origin = evidence.frame_size, evidence.picture_origin
            if evidence.zone and frame is not None and origin is not None:
                zone = QPolygonF(
                    [
                        QPointF(
                            target.x() + (x * frame[0] - origin[0]) * scale,
                            target.y() + (y * frame[1] - origin[1]) * scale,
                        )
                        for x, y in evidence.zone
                    ]
                )
                painter.save()
                painter.setClipRect(target)
                _draw_zone(painter, zone, 2.0)
                painter.restore()
            if evidence.box is not None:
                x, y, w, h = evidence.box
                box = QRectF(target.x() + x * scale, target.y() + y * scale, w * scale, h * scale)
                _draw_box(painter, box, 3.0)
            if with_map and frame is not None:
                _draw_view_map(painter, QRectF(canvas.rect()), evidence, frame)
        painter.end()
        return canvas


def _draw_zone(painter: QPainter, zone: QPolygonF, width: float) -> None:
    fill = QColor(ZONE_ORANGE)
    fill.setAlpha(60)
    painter.setBrush(QBrush(fill))
    pen = QPen(QColor(ZONE_ORANGE), width)
    pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.drawPolygon(zone)


def _draw_box(painter: QPainter, box: QRectF, width: float) -> None:
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(ALARM_RED), width))
    painter.drawRect(box)


def _draw_view_map(
    painter: QPainter, canvas: QRectF, evidence: AlertEvidence, frame: tuple[int, int]
) -> None:
    """The camera's whole view, small, in the bottom-right corner: the rule's zone and
    where the person's box is in it, so the operator sees where in the view they were."""
    width = max(60.0, canvas.width() * INSET_SHARE)
    height = width * frame[1] / max(1, frame[0])
    if height > canvas.height() * 0.5:
        height = canvas.height() * 0.5
        width = height * frame[0] / max(1, frame[1])
    margin = 6.0
    view = QRectF(canvas.right() - width - margin, canvas.bottom() - height - margin, width, height)
    backdrop = QColor(CANVAS)
    backdrop.setAlpha(220)
    painter.setBrush(QBrush(backdrop))
    painter.setPen(QPen(QColor(MUTED_GREY), 1.0))
    painter.drawRect(view)
    sx, sy = width / max(1, frame[0]), height / max(1, frame[1])
    if evidence.zone:
        zone = QPolygonF(
            [QPointF(view.x() + x * width, view.y() + y * height) for x, y in evidence.zone]
        )
        _draw_zone(painter, zone, 1.5)
    if evidence.box is not None and evidence.picture_origin is not None:
        x, y, w, h = evidence.box
        ox, oy = evidence.picture_origin
        _draw_box(
            painter, QRectF(view.x() + (x + ox) * sx, view.y() + (y + oy) * sy, w * sx, h * sy), 2.0
        )
    painter.setPen(QColor(TEXT))
    font = painter.font()
    font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
    painter.setFont(font)
    painter.drawText(
        view.adjusted(3, 1, -3, -1),
        int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
        "whole view",
    )
