"""Re-emits engine bus events as Qt signals on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from engine.bus import EventBus
from engine.events import CameraStatusChanged, Event, SubsystemHealth


class QtBridge(QObject):
    """Subscribes to the bus from any thread; every signal below fires on the GUI thread."""

    sig_event_received = Signal(object)
    """Any engine event (internal hop: emitted on the worker, delivered queued)."""
    sig_camera_status_changed = Signal(object)
    """A :class:`CameraStatusChanged`."""
    sig_health_changed = Signal(object)
    """A :class:`SubsystemHealth`."""
    sig_history_event = Signal(object)
    """Any event that is stored in the history (has a record)."""

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sig_event_received.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] = bus.subscribe(Event, self.sig_event_received.emit)

    def close(self) -> None:
        self._unsubscribe()

    @Slot(object)
    def _dispatch(self, event: Event) -> None:
        if isinstance(event, CameraStatusChanged):
            self.sig_camera_status_changed.emit(event)
        elif isinstance(event, SubsystemHealth):
            self.sig_health_changed.emit(event)
        if event.record() is not None:
            self.sig_history_event.emit(event)
