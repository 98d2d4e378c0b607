"""Per-subsystem health indicators for the status bar."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from engine.events import HealthState
from widgets.colours import ALARM_RED

_COLOURS = {
    HealthState.OK: "#3fb950",
    HealthState.DEGRADED: "#d8a31a",
    HealthState.DOWN: ALARM_RED,
    HealthState.OFF: "#8b949e",
}


class HealthBar(QWidget):
    """One coloured label per subsystem: ``● cameras 1/1 online``; details in the tooltip.

    The status bar gives it what the window's width leaves. When every detail does not fit,
    subsystems that are OK show their name only (``● store``), then, if that is still too
    wide, every subsystem does: a label is never cut off mid-word. The full detail is
    always in the tooltip and the accessible name."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(14)
        self._layout.addStretch(1)  # labels keep their width, packed towards the clock
        self.labels: dict[str, QLabel] = {}
        self.states: dict[str, HealthState] = {}
        self._details: dict[str, str] = {}
        self._shown = ""  # which details fit: "all", "problems" or "none"
        self._probe = QLabel(self)
        self._probe.hide()

    def on_health_changed(self, subsystem: str, state: HealthState, detail: str) -> None:
        label = self.labels.get(subsystem)
        if label is None:
            label = QLabel(self)
            label.setObjectName(f"health-{subsystem}")
            label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
            self._layout.addWidget(label)
            self.labels[subsystem] = label
        self.states[subsystem] = state
        self._details[subsystem] = detail
        label.setToolTip(f"{subsystem}: {state.value}\n{detail}")
        label.setAccessibleName(f"{subsystem} {state.value}: {detail}")
        self._shown = ""
        self._fit()
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        """Wide enough for every detail (the status bar gives it that when it can)."""
        return QSize(self._width("all"), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self._width("none"), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit()

    def _text(self, subsystem: str, shown: str) -> str:
        state = self.states[subsystem]
        dot = f'<span style="color:{_COLOURS[state]}">●</span> <b>{subsystem}</b>'
        if shown == "none" or (shown == "problems" and state is HealthState.OK):
            return dot
        detail = self._details[subsystem]
        short = detail if len(detail) <= 48 else detail[:47] + "…"
        return f"{dot} {short}"

    def _width(self, shown: str) -> int:
        """The width the labels need when ``shown`` details are written out (measured on a
        hidden label of the same font, so rich text counts as drawn)."""
        if not self.labels:
            return 0
        width = self._layout.spacing() * len(self.labels)  # the stretch before them too
        for subsystem in self.labels:
            self._probe.setText(self._text(subsystem, shown))
            width += self._probe.sizeHint().width()
        return width

    def _fit(self) -> None:
        room = self.width()
        if not self.isVisible():  # not laid out yet: its width means nothing
            shown = "all"
        else:
            shown = next((s for s in ("all", "problems") if self._width(s) <= room), "none")
        if shown == self._shown:
            return
        self._shown = shown
        for subsystem, label in self.labels.items():
            label.setText(self._text(subsystem, shown))
