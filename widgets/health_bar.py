"""Per-subsystem health indicators for the status bar."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from engine.events import HealthState
from widgets.colours import ALARM_RED

_COLOURS = {
    HealthState.OK: "#3fb950",
    HealthState.DEGRADED: "#d8a31a",
    HealthState.DOWN: ALARM_RED,
    HealthState.OFF: "#8b949e",
}


class HealthBar(QWidget):
    """One coloured label per subsystem: ``● cameras 1/1 online``; details in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(14)
        self.labels: dict[str, QLabel] = {}
        self.states: dict[str, HealthState] = {}

    def on_health_changed(self, subsystem: str, state: HealthState, detail: str) -> None:
        label = self.labels.get(subsystem)
        if label is None:
            label = QLabel(self)
            label.setObjectName(f"health-{subsystem}")
            self._layout.addWidget(label)
            self.labels[subsystem] = label
        self.states[subsystem] = state
        short = detail if len(detail) <= 48 else detail[:47] + "…"
        label.setText(f'<span style="color:{_COLOURS[state]}">●</span> <b>{subsystem}</b> {short}')
        label.setToolTip(f"{subsystem}: {state.value}\n{detail}")
        label.setAccessibleName(f"{subsystem} {state.value}: {detail}")
