"""Thread-safe publish/subscribe bus carrying immutable event dataclasses.

Handlers run synchronously on the publishing thread (usually a worker thread); a handler
that must touch Qt is re-emitted onto the GUI thread by the console's bridge. Publishing
never raises because of a subscriber: a failing handler is logged and the others still run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from engine.events import Event

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]


class EventBus:
    """Routes each published event to the handlers subscribed to its class or a base class."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[type[Event], tuple[Handler, ...]] = {}
        self.handler_errors = 0

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler(event)`` for every published instance of ``event_type`` (or subclass).

        Returns a function that removes the subscription. Safe from any thread.
        """
        with self._lock:
            self._handlers[event_type] = (*self._handlers.get(event_type, ()), handler)

        def unsubscribe() -> None:
            with self._lock:
                remaining = tuple(h for h in self._handlers.get(event_type, ()) if h is not handler)
                if remaining:
                    self._handlers[event_type] = remaining
                else:
                    self._handlers.pop(event_type, None)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to its subscribers on the calling thread."""
        with self._lock:
            targets = [
                h
                for cls in type(event).__mro__
                if cls in self._handlers
                for h in self._handlers[cls]
            ]
        for handler in targets:
            try:
                handler(event)
            except Exception:
                self.handler_errors += 1
                log.exception("event handler %r failed on %r", handler, type(event).__name__)
