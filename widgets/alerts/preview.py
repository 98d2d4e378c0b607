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

While the clip plays, its picture is drawn here (:class:`MarkedVideo`, fed by the player's
frames) with the rule's zone over it and the people's boxes of the moment: the clip's track
sidecar (:mod:`engine.record.tracks`) holds each frame's boxes, and the box of the alert's
person is drawn bold and red, the others thin, so the operator sees who loitered, followed
through the footage. The clip player's own video surface (a native window in Qt 6, which
takes no overlay) is left out; its controls stay. A clip without usable boxes (its sidecar
missing or damaged) plays without them, with a quiet note saying so.

Nothing here reads a file: the picture's bytes and the clip's boxes come with the evidence
(read on a worker), and the clip player streams from its own backend.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.record.tracks import TrackSample, sample_at
from engine.text import printable
from widgets.alerts.api import AlertEvidence, clip_pending_text
from widgets.colours import (
    ALARM_RED,
    CANVAS,
    MUTED_GREY,
    OTHER_PEOPLE,
    PICTURE_BLACK,
    TEXT,
    WARNING_AMBER,
    ZONE_ORANGE,
)
from widgets.events.clip_player import ClipPlayer

LEAD_IN_S = 3.0  # the clip starts this long before the event: what led up to it
PLACEHOLDER = "Select an alert to see what raised it"
LOADING = "Loading what raised it…"
STILL_RECORDING = "Still recording: the footage since follows when this ends."
COUNTDOWN_MS = 1000  # the seconds until the clip count down once a second
ASK_AGAIN_EVERY_S = 2  # once due, the evidence is asked for again this often
STILL_HEIGHT = 120  # the marked picture beside the caption while the clip plays (pixels)
INSET_SHARE = 0.3  # the map of the whole view takes this share of the picture's width
# A frame's boxes stay drawn until this long after it: the analysis may skip frames (a busy
# detector), and a person does not vanish between two analysed frames.
BOX_HOLD_S = 0.5
OTHER_TRACK = OTHER_PEOPLE  # the boxes of the other people in view: thin and pale


class AlertPreview(QWidget):
    """The selected alert's evidence: a clip player or a marked picture over a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evidence: AlertEvidence | None = None
        self._image = QImage()
        self._ask_again: Callable[[], object] | None = None
        self._ready_in_s: int | None = None  # seconds until the clip (counting down)
        # More footage of the alert shown, asked for while the footage so far still plays:
        # shown when that ends.
        self._follow_on: AlertEvidence | None = None
        self._at_once = False  # the next evidence shown replaces what plays (a double-click)
        self.picture = QLabel(PLACEHOLDER)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setWordWrap(True)
        self.picture.setMinimumSize(160, 90)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setStyleSheet(f"color: {MUTED_GREY}; background: {PICTURE_BLACK}")
        self.player: ClipPlayer | None = None  # made for the first clip (QtMultimedia is slow)
        self.video: MarkedVideo | None = None  # the playing clip's picture, marked; with it
        self.clip_page: QWidget | None = None  # the marked video over the player's controls
        # Why the clip plays without boxes (its sidecar missing or damaged), said quietly.
        self.boxes_note = QLabel()
        self.boxes_note.setWordWrap(True)
        self.boxes_note.setStyleSheet(f"color: {MUTED_GREY}; font-style: italic")
        self.boxes_note.hide()
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
        # The marked picture, small, beside the clip while it plays.
        self.still = QLabel()
        self.still.setFixedHeight(STILL_HEIGHT)
        self.still.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.still.setToolTip("The picture of what raised the alert: the person's box, the zone")
        self.still.hide()
        self.countdown = QTimer(self)
        self.countdown.setInterval(COUNTDOWN_MS)
        self.countdown.timeout.connect(self._on_countdown_timeout)
        # The still beside the clip, not under it: in a short pane (1400×860) a row of its
        # own took the height the clip needed, which shrank to a thumbnail.
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.stack, 1)
        top.addWidget(self.still, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top, 1)
        layout.addWidget(self.recording_note)
        layout.addWidget(self.caption)

    def clear(self, text: str = PLACEHOLDER) -> None:
        """Show nothing (no alert selected, or its evidence on its way: ``text``)."""
        self.evidence = None
        self._ask_again = None
        self._follow_on = None
        self._stop_countdown()
        if self.player is not None:
            self.player.close_clip()
        if self.video is not None:
            self.video.clear()
        self.boxes_note.clear()
        self.boxes_note.hide()
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
        before = self.evidence
        playing_it = (
            before is not None
            and before.alert_id == evidence.alert_id
            and before.clip is not None
            and self.showing() == "clip"
        )
        same_clip = playing_it and before is not None and before.clip == evidence.clip
        at_once, self._at_once = self._at_once, False
        if (
            playing_it
            and not same_clip
            and before is not None
            and evidence.recording
            and not at_once
            and self._still_playing()
        ):
            # Asked again while footage of it still plays: more of the same recording.
            # It takes over where this one ends, not in the middle of what is watched.
            self._follow_on = evidence
            self._ask_again = ask_again
            return
        self._follow_on = None
        self.evidence = evidence
        self._ask_again = ask_again
        caption = printable(evidence.caption)
        if evidence.clip is not None and evidence.recording:
            caption += f"\n{STILL_RECORDING}"
        self.caption.setText(caption)
        self._image = QImage.fromData(evidence.snapshot) if evidence.snapshot else QImage()
        self._stop_countdown()
        if evidence.clip is not None:
            if same_clip:
                self._mark_video(evidence)  # asked again: the boxes of the footage since
            elif playing_it and before is not None and self.player is not None:
                # The whole clip (or more of the recording) in place of the footage so far,
                # from the moment on screen: both are placed by the event's offset in them.
                moment = self.player.position_s() + evidence.clip_offset_s - before.clip_offset_s
                self._open_clip(evidence, max(0.0, moment))
            else:
                self.replay()
            if evidence.recording and evidence.clip_ready_in_s is not None:
                # The camera goes on recording it: the whole clip, with the people's boxes,
                # is asked for when it should be ready.
                self._ready_in_s = round(evidence.clip_ready_in_s)
                self._say_recording()
                self.countdown.start()
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

    def show_next_at_once(self) -> None:
        """The next evidence shown takes over at once, even from footage still playing
        (the operator asked for the footage since)."""
        self._at_once = True

    def replay(self) -> bool:
        """Play the evidence's clip again from :data:`LEAD_IN_S` before the event; False
        without a clip."""
        evidence = self.evidence
        if evidence is None or evidence.clip is None:
            return False
        return self._open_clip(evidence, max(0.0, evidence.clip_offset_s - LEAD_IN_S))

    def _open_clip(self, evidence: AlertEvidence, from_s: float) -> bool:
        assert evidence.clip is not None
        player, video, page = self._clip_player()
        video.clear()
        self._mark_video(evidence)
        self.stack.setCurrentWidget(page)
        return player.open(evidence.clip, from_s)

    def _still_playing(self) -> bool:
        """Whether the clip shown is playing and has more to show."""
        player = self.player
        if player is None:
            return False
        media = player.media_player
        return media.playbackState() == QMediaPlayer.PlaybackState.PlayingState and (
            media.mediaStatus() != QMediaPlayer.MediaStatus.EndOfMedia
        )

    def _on_player_status(self, status: QMediaPlayer.MediaStatus) -> None:
        """The footage so far has played out: more of it, asked for meanwhile, follows on."""
        follow_on = self._follow_on
        if status == QMediaPlayer.MediaStatus.EndOfMedia and follow_on is not None:
            self.show_evidence(follow_on, self._ask_again)

    def showing(self) -> str:
        """What the preview shows: ``clip``, ``picture`` or ``nothing``."""
        if self.clip_page is not None and self.stack.currentWidget() is self.clip_page:
            return "clip"
        return "picture" if not self._image.isNull() else "nothing"

    def recording_text(self) -> str:
        """What the preview says of the clip being recorded ("" when it says nothing)."""
        return self.recording_note.text() if self._ready_in_s is not None else ""

    def _clip_player(self) -> tuple[ClipPlayer, MarkedVideo, QWidget]:
        """The clip player, made with the first clip: its frames go to :class:`MarkedVideo`
        (drawn with the zone and the boxes), its own video surface is left out, its
        controls (play, the position, the clip's name) stay under the picture."""
        if self.player is None or self.video is None or self.clip_page is None:
            player = ClipPlayer()
            video = MarkedVideo()
            player.media_player.setVideoOutput(video.sink)
            surface = player.video_widget.parentWidget()  # its pages: video, or error words
            (surface or player.video_widget).hide()  # errors are shown by the MarkedVideo
            player.sig_position_changed.connect(video.set_position)
            player.media_player.mediaStatusChanged.connect(self._on_player_status)
            player.sig_error.connect(video.show_message)
            page = QWidget()
            column = QVBoxLayout(page)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(video, 1)
            column.addWidget(self.boxes_note)
            column.addWidget(player)
            self.stack.addWidget(page)
            self.player, self.video, self.clip_page = player, video, page
        return self.player, self.video, self.clip_page

    def _mark_video(self, evidence: AlertEvidence) -> None:
        """Give the playing clip's picture the rule's zone and the clip's boxes, and say
        quietly when it has none to draw."""
        if self.video is not None:
            self.video.set_marks(
                evidence.zone, evidence.clip_boxes, evidence.clip_size, evidence.track_id
            )
        self.boxes_note.setText(evidence.boxes_note)
        self.boxes_note.setVisible(bool(evidence.boxes_note))

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


class MarkedVideo(QWidget):
    """The playing clip's picture, fitted, with the rule's zone and the people's boxes of
    the moment drawn over it: the player's frames arrive at :attr:`sink` (GUI thread),
    each with its time in the clip, and the boxes drawn are those of the newest analysed
    frame at or before it (at most :data:`BOX_HOLD_S` older). The alert's person (its
    track) is drawn bold and red, the others thin and pale; the zone is given in fractions
    of the camera's view, the boxes in pixels of the clip's picture (``clip_size``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sink = QVideoSink(self)
        self.sink.videoFrameChanged.connect(self._on_video_frame_changed)
        self._image = QImage()
        self._t_s: float | None = None  # the shown frame's time in the clip (seconds)
        self._position_s = 0.0  # the player's, for frames that carry no time
        self._message = ""
        self._zone: tuple[tuple[float, float], ...] | None = None
        self._samples: tuple[TrackSample, ...] = ()
        self._clip_size: tuple[int, int] | None = None
        self._track_id: int | None = None
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_marks(
        self,
        zone: tuple[tuple[float, float], ...] | None,
        samples: tuple[TrackSample, ...],
        clip_size: tuple[int, int] | None,
        track_id: int | None,
    ) -> None:
        """What to draw over the clip: ``zone`` (fractions of the view; None: none), the
        boxes of its frames (``samples``, seconds of the clip, pixels of ``clip_size``) and
        which track is the alert's person (None: all drawn alike)."""
        self._zone = zone
        self._samples = samples if clip_size is not None else ()
        self._clip_size = clip_size
        self._track_id = track_id
        self.update()

    def clear(self) -> None:
        """No frame shown, no words (a new clip is opening)."""
        self._image = QImage()
        self._t_s = None
        self._position_s = 0.0
        self._message = ""
        self.update()

    def show_frame(self, image: QImage, t_s: float) -> None:
        """Show ``image``, the clip's frame at ``t_s`` seconds, with the marks of then."""
        self._image = image
        self._t_s = t_s
        self._message = ""
        self.update()

    def set_position(self, position_s: float) -> None:
        """The player's position (seconds): the time of frames that carry none."""
        self._position_s = position_s

    def show_message(self, text: str) -> None:
        """Say ``text`` in place of the picture (the clip cannot be played)."""
        self._message = text
        self.update()

    def message(self) -> str:
        return self._message

    def frame_time_s(self) -> float | None:
        """The time in the clip of the frame shown (None: none yet)."""
        return self._t_s if not self._image.isNull() else None

    def boxes_now(self) -> TrackSample | None:
        """The boxes drawn over the frame shown (None: none)."""
        if self._t_s is None or self._image.isNull():
            return None
        return sample_at(self._samples, self._t_s, BOX_HOLD_S)

    def picture_rect(self) -> QRectF:
        """Where the frame is drawn in the widget (fitted, centred); empty without one."""
        image = self._image
        if image.isNull() or image.width() <= 0 or image.height() <= 0:
            return QRectF()
        scale = min(self.width() / image.width(), self.height() / image.height())
        target = QRectF(0, 0, image.width() * scale, image.height() * scale)
        target.moveCenter(QRectF(self.rect()).center())
        return target

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(PICTURE_BLACK))
        if self._message:
            painter.setPen(QColor(ALARM_RED))
            painter.drawText(
                QRectF(self.rect()).adjusted(8, 8, -8, -8),
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                self._message,
            )
            painter.end()
            return
        target = self.picture_rect()
        if target.isEmpty():
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setClipRect(target)
        if self._zone:
            zone = QPolygonF(
                [
                    QPointF(target.x() + x * target.width(), target.y() + y * target.height())
                    for x, y in self._zone
                ]
            )
            _draw_zone(painter, zone, 2.0)
        sample = self.boxes_now()
        if sample is not None and self._clip_size is not None:
            sx = target.width() / max(1, self._clip_size[0])
            sy = target.height() / max(1, self._clip_size[1])
            mine = self._track_id
            # The others first, thin: the alert's person is drawn over them.
            for box in sorted(sample.boxes, key=lambda b: b.track_id == mine):
                rect = QRectF(
                    target.x() + box.x * sx, target.y() + box.y * sy, box.w * sx, box.h * sy
                )
                if mine is None or box.track_id == mine:
                    _draw_box(painter, rect, 3.0 if mine is not None else 2.0)
                else:  # crisp on whole pixels: a 1-px line blended away at some sizes
                    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.setPen(QPen(QColor(OTHER_TRACK), 2))
                    painter.drawRect(rect.toRect())
                    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.end()

    def _on_video_frame_changed(self, frame: QVideoFrame) -> None:
        if not frame.isValid():
            return
        start_us = frame.startTime()
        self.show_frame(frame.toImage(), start_us / 1e6 if start_us >= 0 else self._position_s)


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
