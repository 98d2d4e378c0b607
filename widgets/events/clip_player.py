"""Plays one recorded clip: video, play/pause, a position slider and clear error text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer, QVideoFrame
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from widgets.colours import ALARM_RED

_ERROR_STYLE = f"color: {ALARM_RED}; font-weight: bold;"
_READY_STATUSES = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia)


def _title(path: Path, offset_s: float | None) -> str:
    """The player's title: the clip's name, and the moment it was opened at."""
    if offset_s is None:
        return path.name
    return f"{path.name}  @ {format_mmss(round(offset_s * 1000))}"


def format_mmss(ms: int) -> str:
    """``ms`` milliseconds as ``mm:ss`` (minutes keep counting past 59)."""
    seconds = max(0, ms) // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class _ElidedLabel(QLabel):
    """A one-line label that gives up width in a narrow pane: its text (kept whole, in the
    tooltip too) is drawn with "…" in the middle where it does not fit, instead of
    holding the pane as wide as a clip's long file name."""

    def minimumSizeHint(self) -> QSize:
        return QSize(
            self.fontMetrics().horizontalAdvance("…") * 4, super().minimumSizeHint().height()
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideMiddle, rect.width()
        )
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(
            rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text
        )
        painter.end()


class ClipPlayer(QWidget):
    """Shows one clip file, starting at the moment of interest.

    :meth:`open` loads a file and, once the media is loaded, seeks to ``offset_s`` and plays.
    A missing file or a file the backend cannot play is reported in the widget itself (and by
    :attr:`sig_error`) instead of an empty black box. Sound plays when the system has an audio
    output; without one (a headless host, no PulseAudio server) the clip plays muted.
    """

    sig_position_changed = Signal(float)
    """Playback position moved: carries seconds from the start of the clip."""

    sig_error = Signal(str)
    """The clip cannot be shown: carries the text the widget displays."""

    sig_closed = Signal()
    """The operator closed the clip with the player's close button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.media_player = QMediaPlayer(self)
        self.audio_output = self._attach_audio()
        self.video_widget = QVideoWidget(self)
        self.video_widget.setMinimumSize(240, 160)
        self.video_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.media_player.setVideoOutput(self.video_widget)
        # The last picture shown: held at the clip's end (the backend blanks the video when
        # it stops there, which left a black box where the person had just been).
        self._last_frame: QVideoFrame | None = None
        self.video_widget.videoSink().videoFrameChanged.connect(self._on_video_frame)
        self.path: Path | None = None
        self._pending_offset_ms: int | None = None

        self._title = _ElidedLabel("No clip", self)
        self._title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        close_button = QToolButton(self)
        close_button.setText("×")
        close_button.setToolTip("Close clip")
        close_button.setAccessibleName("Close clip")
        close_button.clicked.connect(self._on_close_clicked)

        self._message = QLabel(self)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setStyleSheet(_ERROR_STYLE)
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._pages = QStackedWidget(self)
        self._pages.addWidget(self.video_widget)
        self._pages.addWidget(self._message)

        self.play_button = QToolButton(self)
        self.play_button.clicked.connect(self.toggle_playback)
        self.position_label = QLabel(format_mmss(0), self)
        self.duration_label = QLabel(format_mmss(0), self)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setAccessibleName("Clip position")
        self.slider.setRange(0, 0)
        self.slider.setSingleStep(1000)  # ms: arrow keys step a second
        self.slider.setPageStep(5000)  # ms: a click on the groove jumps five seconds
        # Any operator change (drag, click on the groove, keys) seeks; updates from playback
        # are made with signals blocked so they never seek back.
        self.slider.valueChanged.connect(self._on_slider_value_changed)

        header = QHBoxLayout()
        header.addWidget(self._title, 1)
        header.addWidget(close_button)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.position_label)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.duration_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self._pages, 1)
        layout.addLayout(controls)

        self.media_player.mediaStatusChanged.connect(self._on_media_status_changed)
        self.media_player.errorOccurred.connect(self._on_media_error_occurred)
        self.media_player.positionChanged.connect(self._on_position_changed)
        self.media_player.durationChanged.connect(self._on_duration_changed)
        self.media_player.playbackStateChanged.connect(self._on_playback_state_changed)
        self._on_playback_state_changed(self.media_player.playbackState())
        self._set_controls_enabled(False)

    # -- public API ------------------------------------------------------------------------

    def open(self, path: Path, offset_s: float = 0.0) -> bool:
        """Load ``path`` and play it from ``offset_s`` seconds once the media is loaded.

        Returns False (and shows "clip file missing: …") when the file does not exist; errors
        found while decoding arrive later through :attr:`sig_error`.
        """
        path = Path(path)
        self._pending_offset_ms = None
        self._stop_and_blank()
        self.path = path
        self._title.setText(_title(path, offset_s))
        self._title.setToolTip(str(path))
        self._reset_position()
        if not path.is_file():
            self._show_error(f"clip file missing: {path}")
            return False
        self._pages.setCurrentWidget(self.video_widget)
        self._message.clear()
        self._pending_offset_ms = max(0, round(offset_s * 1000))
        self.media_player.setSource(QUrl.fromLocalFile(str(path.resolve())))
        return True

    def show_waiting(self, path: Path, text: str, offset_s: float | None = None) -> None:
        """Say what is happening before ``path`` can be opened (a clip being fetched from
        the machine that keeps it, or cut from a camera's recording), in the widget's place
        for the picture; the title names it (and the moment asked for, ``offset_s``)."""
        self._pending_offset_ms = None
        self._stop_and_blank()
        self.path = Path(path)
        self._title.setText(_title(self.path, offset_s))
        self._title.setToolTip(str(path))
        self._reset_position()
        self._message.setStyleSheet("font-weight: bold;")
        self._message.setText(text)
        self._pages.setCurrentWidget(self._message)
        self._set_controls_enabled(False)

    def show_problem(self, path: Path, text: str, offset_s: float | None = None) -> None:
        """``path`` cannot be shown, for the reason ``text`` (in the widget, and
        :attr:`sig_error`)."""
        self.path = Path(path)
        self._title.setText(_title(self.path, offset_s))
        self._title.setToolTip(str(path))
        self._show_error(text)

    def close_clip(self) -> None:
        """Stop playback and forget the clip (the widget shows "No clip")."""
        self._pending_offset_ms = None
        self._stop_and_blank()
        self.path = None
        self._title.setText("No clip")
        self._title.setToolTip("")
        self._message.clear()
        self._pages.setCurrentWidget(self.video_widget)
        self._reset_position()
        self._set_controls_enabled(False)

    def toggle_playback(self) -> None:
        """Pause when playing, otherwise play (from the start again after the end)."""
        if self.media_player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.media_player.pause()
        else:
            self.media_player.play()

    def error_text(self) -> str:
        """What the widget says in place of the picture (an error, or that the clip is on its
        way from another machine), or "" while a clip loads or plays normally."""
        return self._message.text() if self._pages.currentWidget() is self._message else ""

    def position_s(self) -> float:
        return self.media_player.position() / 1000.0

    def title_text(self) -> str:
        """The clip's name and the moment it was opened at (``clip.mp4  @ 00:03``)."""
        return self._title.text()

    def duration_s(self) -> float:
        return self.media_player.duration() / 1000.0

    # -- Qt handlers -----------------------------------------------------------------------

    def _attach_audio(self) -> QAudioOutput | None:
        # With no output device, an attached QAudioOutput only logs failures; leaving it off
        # plays the clip muted, which is what a headless host or a muted console wants.
        if not QMediaDevices.audioOutputs():
            return None
        audio_output = QAudioOutput(self)
        self.media_player.setAudioOutput(audio_output)
        return audio_output

    def _stop_and_blank(self) -> None:
        """Stop, forget the source, and show no picture (not the held last one)."""
        self.media_player.stop()
        self.media_player.setSource(QUrl())
        self._last_frame = None
        self.video_widget.videoSink().setVideoFrame(QVideoFrame())

    def _on_video_frame(self, frame: QVideoFrame) -> None:
        if frame.isValid():
            self._last_frame = frame

    def showing_picture(self) -> bool:
        """Whether the video shows a picture (not nothing, not a black blank)."""
        return self.video_widget.videoSink().videoFrame().isValid()

    def _on_media_status_changed(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.EndOfMedia and self._last_frame is not None:
            self.video_widget.videoSink().setVideoFrame(self._last_frame)
        elif status in (
            QMediaPlayer.MediaStatus.NoMedia,
            QMediaPlayer.MediaStatus.LoadingMedia,
        ):
            self._last_frame = None  # another clip: never hold the last one's picture
        if status in _READY_STATUSES and self._pending_offset_ms is not None:
            offset_ms = self._pending_offset_ms
            self._pending_offset_ms = None
            self._set_controls_enabled(True)
            duration = self.media_player.duration()
            if duration > 0:
                offset_ms = min(offset_ms, duration)
            if offset_ms and self.media_player.isSeekable():
                self.media_player.setPosition(offset_ms)
            self.media_player.play()
        elif status == QMediaPlayer.MediaStatus.InvalidMedia and not self.error_text():
            self._show_error(f"cannot play clip: {self.media_player.errorString() or 'invalid'}")

    def _on_media_error_occurred(self, error: QMediaPlayer.Error, message: str) -> None:
        if error == QMediaPlayer.Error.NoError:
            return
        self._pending_offset_ms = None
        self._show_error(f"cannot play clip: {message or error.name}")

    def _on_position_changed(self, position_ms: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(position_ms)
        self.slider.blockSignals(False)
        self.position_label.setText(format_mmss(position_ms))
        self.sig_position_changed.emit(position_ms / 1000.0)

    def _on_duration_changed(self, duration_ms: int) -> None:
        self.slider.blockSignals(True)  # a range change can clamp the value: not a seek
        self.slider.setRange(0, max(0, duration_ms))
        self.slider.blockSignals(False)
        self.duration_label.setText(format_mmss(duration_ms))

    def _on_playback_state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        pixmap = QStyle.StandardPixmap
        icon = pixmap.SP_MediaPause if playing else pixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setToolTip("Pause" if playing else "Play")
        self.play_button.setAccessibleName("Pause" if playing else "Play")

    def _on_slider_value_changed(self, position_ms: int) -> None:
        if self.media_player.isSeekable():
            self.media_player.setPosition(position_ms)

    def _on_close_clicked(self) -> None:
        self.close_clip()
        self.sig_closed.emit()

    # -- helpers -----------------------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.media_player.stop()
        self._message.setStyleSheet(_ERROR_STYLE)
        self._message.setText(text)
        self._pages.setCurrentWidget(self._message)
        self._set_controls_enabled(False)
        self.sig_error.emit(text)

    def _reset_position(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.position_label.setText(format_mmss(0))
        self.duration_label.setText(format_mmss(0))

    def _set_controls_enabled(self, enabled: bool) -> None:
        self.play_button.setEnabled(enabled)
        self.slider.setEnabled(enabled)
