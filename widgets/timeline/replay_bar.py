"""The replay bar: the REPLAY badge with the replayed time and speed, and the transport.

A view only: it shows what the console's replay controller tells it (:meth:`set_position`,
:meth:`set_playing`, :meth:`set_speed`, :meth:`set_message`) and asks for changes through
its signals; the controller owns the playback clock. Keyboard, while the bar or a child
has focus: space plays/pauses, ←/→ step one frame, Shift+←/→ jump to the previous/next
event.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from engine.history.replay import SPEEDS, speed_text
from engine.sitetime import display
from widgets.colours import ALARM_RED
from widgets.timeline.api import MessageLevel
from widgets.timeline.icons import icon

REPLAY_RED = ALARM_RED
_COLOURS = {"info": "#c9d1d9", "warning": "#d29922", "error": REPLAY_RED}


class ReplayBar(QWidget):
    """A red "REPLAY" badge (site date and time, speed), play/pause, a speed menu
    (0.25×–16×), one-frame steps, previous/next event, "Back to live" and a message line.
    All signals are emitted on the GUI thread."""

    sig_play_toggled = Signal(bool)
    """Play (True) or pause (False) was asked for."""

    sig_speed_changed = Signal(float)
    """A speed was chosen from the menu (× real time, one of ``SPEEDS``)."""

    sig_step_requested = Signal(int)
    """Step by this many frames (+1 forward, -1 back); playback pauses."""

    sig_event_jump_requested = Signal(int)
    """Jump to the next (+1) or previous (-1) event."""

    sig_live_requested = Signal()
    """Leave the replay and show live again."""

    sig_sensing_requested = Signal()
    """Open the re-run of the range's sensing with other settings (shown only when the
    replay has a sensing recording: :meth:`set_sensing_available`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Replay controls")
        self._position: datetime | None = None
        self._playing = False
        self._speed = 1.0
        self.message_level = MessageLevel.INFO

        self.badge = QLabel("REPLAY")
        self.badge.setObjectName("replay-badge")
        self.badge.setStyleSheet(
            f"background: {REPLAY_RED}; color: white; font-weight: bold; "
            "padding: 2px 8px; border-radius: 3px"
        )
        self.badge.setAccessibleName("Replay position")
        # Drawn icons, not ⏮/⏭/⏸ glyphs: stock Debian fonts have none of those (empty
        # boxes). The words stay as the buttons' text, for screen readers and as fallback.
        self.play_button = self._button("Play", "Play (Space)", "play")
        self.play_button.clicked.connect(self._on_play_clicked)
        self.step_back_button = self._button("Back one frame", "Back one frame (←)", "frame-back")
        self.step_back_button.clicked.connect(lambda: self.sig_step_requested.emit(-1))
        self.step_forward_button = self._button(
            "Forward one frame", "Forward one frame (→)", "frame-forward"
        )
        self.step_forward_button.clicked.connect(lambda: self.sig_step_requested.emit(1))
        self.previous_event_button = self._button(
            "Event", "Previous event (Shift+←)", "event-previous", beside=True
        )
        self.previous_event_button.clicked.connect(lambda: self.sig_event_jump_requested.emit(-1))
        self.next_event_button = self._button(
            "Event", "Next event (Shift+→)", "event-next", beside=True
        )
        self.next_event_button.clicked.connect(lambda: self.sig_event_jump_requested.emit(1))

        self.speed_button = self._button("1×", "Playback speed")
        self.speed_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.speed_menu = QMenu(self.speed_button)
        group = QActionGroup(self.speed_menu)
        self.speed_actions: dict[float, QAction] = {}
        for speed in SPEEDS:
            action = QAction(speed_text(speed), self.speed_menu)
            action.setCheckable(True)
            action.setChecked(speed == 1.0)
            action.triggered.connect(lambda _=False, s=speed: self._on_speed_chosen(s))
            group.addAction(action)
            self.speed_menu.addAction(action)
            self.speed_actions[speed] = action
        self.speed_button.setMenu(self.speed_menu)

        self.sensing_button = self._button(
            "Sensing settings…", "Re-run the range's sensing with other settings and compare"
        )
        self.sensing_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.sensing_button.clicked.connect(self.sig_sensing_requested)
        self.sensing_button.hide()

        self.live_button = self._button("Back to live", "Leave the replay and show live")
        self.live_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.live_button.clicked.connect(self.sig_live_requested)

        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()

        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.badge)
        for button in (
            self.previous_event_button,
            self.step_back_button,
            self.play_button,
            self.step_forward_button,
            self.next_event_button,
            self.speed_button,
        ):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.sensing_button)
        row.addWidget(self.live_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.message_label)
        self._update_badge()

    def _button(
        self, text: str, tip: str, icon_name: str | None = None, *, beside: bool = False
    ) -> QToolButton:
        """A tool button saying ``text``; with ``icon_name`` it shows that icon (and the
        text beside it when ``beside``), or the text alone if the icon cannot be drawn."""
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        if icon_name is not None:
            drawn = icon(icon_name)
            if not drawn.isNull():
                button.setIcon(drawn)
                button.setIconSize(QSize(20, 20))
                button.setToolButtonStyle(
                    Qt.ToolButtonStyle.ToolButtonTextBesideIcon
                    if beside
                    else Qt.ToolButtonStyle.ToolButtonIconOnly
                )
        return button

    # -- what the controller shows -------------------------------------------------------

    def set_sensing_available(self, available: bool) -> None:
        """Whether the replay re-runs a sensing recording ("Sensing settings…" shows)."""
        self.sensing_button.setVisible(available)

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    def badge_text(self) -> str:
        return self.badge.text()

    def set_position(self, position: datetime) -> None:
        """The replayed moment (shown in site time, to the second)."""
        self._position = position
        self._update_badge()

    def set_playing(self, playing: bool) -> None:
        """Whether playback runs (the play button shows pause while it does)."""
        self._playing = playing
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(icon("pause" if playing else "play"))
        tip = "Pause (Space)" if playing else "Play (Space)"
        self.play_button.setToolTip(tip)
        self.play_button.setAccessibleName(tip)

    def set_speed(self, speed: float) -> None:
        """The playback speed (× real time); the menu ticks it."""
        self._speed = speed
        self.speed_button.setText(speed_text(speed))
        action = self.speed_actions.get(speed)
        if action is not None:
            action.setChecked(True)
        self._update_badge()

    def set_message(self, text: str, level: MessageLevel | str = MessageLevel.INFO) -> None:
        """A line under the controls: missing clips in amber (``warning``), errors in red
        (``error``); "" hides it."""
        self.message_level = MessageLevel(level)
        self.message_label.setText(text)
        self.message_label.setStyleSheet(f"color: {_COLOURS[self.message_level.value]}")
        self.message_label.setVisible(bool(text))

    def _update_badge(self) -> None:
        if self._position is None:
            self.badge.setText(f"REPLAY ×{self._speed:g}")
            return
        self.badge.setText(f"REPLAY {display().full(self._position)} ×{self._speed:g}")

    # -- input ---------------------------------------------------------------------------

    def _on_play_clicked(self) -> None:
        self.sig_play_toggled.emit(not self._playing)

    def _on_speed_chosen(self, speed: float) -> None:
        self.sig_speed_changed.emit(speed)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if key == Qt.Key.Key_Space:
            self.sig_play_toggled.emit(not self._playing)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            direction = 1 if key == Qt.Key.Key_Right else -1
            if shift:
                self.sig_event_jump_requested.emit(direction)
            else:
                self.sig_step_requested.emit(direction)
        else:
            super().keyPressEvent(event)
            return
        event.accept()
