"""What raised the selected alert, in place: its picture, its clip, its words.

The Alerts pane shows the :class:`~widgets.alerts.api.AlertEvidence` of the alert the
operator selected, so that they judge it before acknowledging: the clip covering its event
plays at once (from a few seconds before), else its picture shows; a caption says what
happened and where. Nothing here reads a file: the picture's bytes come with the evidence
(read on a worker), and the clip player streams from its own backend.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from engine.text import printable
from widgets.alerts.api import AlertEvidence
from widgets.colours import MUTED_GREY
from widgets.events.clip_player import ClipPlayer

LEAD_IN_S = 3.0  # the clip starts this long before the event: what led up to it
PLACEHOLDER = "Select an alert to see what raised it"
LOADING = "Loading what raised it…"
STILL_RECORDING = "Still recording: double-click the alert for the footage since."


class AlertPreview(QWidget):
    """The selected alert's evidence: a clip player or a picture over a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evidence: AlertEvidence | None = None
        self._image = QImage()
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.caption)

    def clear(self, text: str = PLACEHOLDER) -> None:
        """Show nothing (no alert selected, or its evidence on its way: ``text``)."""
        self.evidence = None
        if self.player is not None:
            self.player.close_clip()
        self._image = QImage()
        self.picture.setPixmap(QPixmap())
        self.picture.setText(text)
        self.stack.setCurrentWidget(self.picture)
        self.caption.clear()

    def show_evidence(self, evidence: AlertEvidence) -> None:
        """Play the clip (from :data:`LEAD_IN_S` before the event) when there is one, else
        show the picture, else say there is none; the caption says what happened."""
        self.evidence = evidence
        caption = printable(evidence.caption)
        if evidence.clip is not None and evidence.recording:
            caption += f"\n{STILL_RECORDING}"
        self.caption.setText(caption)
        self._image = QImage.fromData(evidence.snapshot) if evidence.snapshot else QImage()
        if evidence.clip is not None:
            self.replay()
            return
        if self.player is not None:
            self.player.close_clip()
        self.stack.setCurrentWidget(self.picture)
        if self._image.isNull():
            self.picture.setPixmap(QPixmap())
            self.picture.setText(
                "No picture or clip of this alert (sensed, not seen by a camera)"
                if evidence.camera is None
                else "No picture or clip of this alert was kept"
            )
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

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._image.isNull():
            self._fit_picture()

    def _fit_picture(self) -> None:
        size = self.picture.size()
        self.picture.setText("")
        self.picture.setPixmap(
            QPixmap.fromImage(self._image).scaled(
                size,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
