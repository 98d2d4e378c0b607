"""Re-emits engine bus events as Qt signals on the GUI thread.

Which events cross, and how, is declared by each event kind where it is defined
(:func:`engine.events.to_console`, :func:`engine.events.to_console_newest`): the bridge
knows no kind by name. A pane subscribes by class, ``ctx.events.on(AlertRaised, handler)``;
the handler runs on the GUI thread with the event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance, Slot

from engine.bus import EventBus
from engine.events import Event, console_delivery

E = TypeVar("E", bound=Event)


class _Kind(QObject):
    """The GUI-thread signal of one event kind (Qt signals are declared per class, so one
    small object per kind that someone subscribed to)."""

    fired = Signal(object)


class QtBridge(QObject):
    """Subscribes to the bus from any thread; every signal it gives fires on the GUI thread."""

    sig_event = Signal(object)
    """Every event declared to the console, as it reaches the GUI thread (before the
    subscribers of its kind)."""
    _sig_forward = Signal(object)
    """Internal hop: emitted on the publishing thread, delivered queued."""
    _sig_newest_ready = Signal()

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sig_forward.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._sig_newest_ready.connect(self._deliver_newest, Qt.ConnectionType.QueuedConnection)
        self._kinds: dict[type[Event], _Kind] = {}  # GUI thread only
        self._newest_lock = threading.Lock()
        self._newest: dict[tuple[type[Event], Hashable], Event] = {}
        self._newest_pending = False
        self._unsubscribe: Callable[[], None] = bus.subscribe(Event, self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    def on(self, kind: type[E], handler: Callable[[E], object]) -> None:
        """Call ``handler(event)`` on the GUI thread for every event of ``kind`` (exactly
        that class) the engine publishes, as its declaration delivers them. GUI thread."""
        self.signal_of(kind).connect(handler)

    def signal_of(self, kind: type[Event]) -> SignalInstance:
        """The GUI-thread signal carrying the events of ``kind`` (a test waits on it). A
        kind not declared to the console is refused: its events never cross. GUI thread."""
        if console_delivery(kind) is None:
            raise ValueError(
                f"{kind.__qualname__} is not declared to the console "
                "(engine.events.to_console): its events never reach the GUI thread"
            )
        channel = self._kinds.get(kind)
        if channel is None:
            channel = self._kinds[kind] = _Kind(self)
        return channel.fired

    def _on_event(self, event: Event) -> None:
        """Any thread: hand a declared event to the GUI thread (coalesced kinds keep only
        their newest per key until it takes them); other events stay in the engine (the
        detector's per-frame people are for the alert rules, not for the screen)."""
        delivery = console_delivery(type(event))
        if delivery is None:
            return
        if delivery.newest_per is not None:
            with self._newest_lock:
                self._newest[(type(event), delivery.newest_per(event))] = event
                if self._newest_pending:
                    return
                self._newest_pending = True
            self._sig_newest_ready.emit()
            return
        self._sig_forward.emit(event)

    @Slot()
    def _deliver_newest(self) -> None:
        with self._newest_lock:
            latest = list(self._newest.values())
            self._newest.clear()
            self._newest_pending = False
        for event in latest:
            self._dispatch(event)

    @Slot(object)
    def _dispatch(self, event: Event) -> None:
        self.sig_event.emit(event)
        channel = self._kinds.get(type(event))
        if channel is not None:
            channel.fired.emit(event)
