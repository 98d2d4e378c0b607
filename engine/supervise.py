"""Background threads that come back: a loop that raises is run again, after a backoff.

A service's background loop (the text indexer, retention, escalation, …) used to end for
good on the first unexpected exception: a 30 s database outage stopped meaning search's
indexer until the engine was restarted. :class:`SupervisedThread` is a drop-in for
``threading.Thread(target=…, name=…, daemon=True)`` whose ``run`` calls the target again
when it raises, after a backoff that doubles from :data:`FIRST_BACKOFF_S` to
:data:`MAX_BACKOFF_S` (waited on the service's :class:`~engine.clock.Clock` and its stop
event, so a stop is never held up by a backoff and tests move it with a simulated clock).
A target that returns normally has finished (its stop was asked for) and is not run again.

Each restart is counted and its error kept; :func:`supervised_health` lists the process's
supervised threads for the engine's health (the System pane) and ``engine --report``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from engine.clock import REAL_CLOCK, Clock

log = logging.getLogger(__name__)

FIRST_BACKOFF_S: Final = 1.0  # seconds before the first restart: a blip passes by then
MAX_BACKOFF_S: Final = 60.0  # seconds: a long outage is retried once a minute, not spun on
# A loop that ran this long (clock seconds) before raising starts its backoff afresh: its
# trouble is new, not the same one again.
HEALTHY_AFTER_S: Final = 300.0

_RUNNING: weakref.WeakSet[SupervisedThread] = weakref.WeakSet()
_RUNNING_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class ThreadHealth:
    """One supervised thread: its ``name``, whether it is ``alive``, how many times its loop
    was restarted after an exception, the last such error (``None`` if none) and whether it
    is waiting out a backoff right now."""

    name: str
    alive: bool
    restarts: int
    last_error: str | None
    backing_off: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "alive": self.alive,
            "restarts": self.restarts,
            "last_error": self.last_error,
            "backing_off": self.backing_off,
        }


class SupervisedThread(threading.Thread):
    """A daemon thread running ``target`` until it returns; an exception is logged, counted
    and followed, after a backoff, by ``target`` again (see the module's docstring).

    ``stop`` is the service's stop event: once set, no restart follows and a backoff ends
    at once (a worker ended by a sentinel in its queue passes none). ``on_restart(error)``
    (optional, on this thread) hears each failure before its backoff, for a service that
    shows its own state (the indexer's progress).
    """

    def __init__(
        self,
        target: Callable[[], None],
        *,
        name: str,
        stop: threading.Event | None = None,
        clock: Clock = REAL_CLOCK,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        on_restart: Callable[[BaseException], None] | None = None,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self._loop = target
        # A worker stopped by a sentinel in its queue has no stop event: a private one that
        # is never set lets its backoff be waited on the clock all the same.
        self._stop_event = stop if stop is not None else threading.Event()
        self._clock = clock
        self._first_backoff_s = first_backoff_s
        self._max_backoff_s = max_backoff_s
        self._on_restart = on_restart
        self._lock = threading.Lock()
        self._restarts = 0
        self._last_error: str | None = None
        self._backing_off = False

    def start(self) -> None:
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        super().start()

    @property
    def restarts(self) -> int:
        """How many times the loop was run again after an exception."""
        with self._lock:
            return self._restarts

    def health(self) -> ThreadHealth:
        with self._lock:
            return ThreadHealth(
                self.name, self.is_alive(), self._restarts, self._last_error, self._backing_off
            )

    def run(self) -> None:
        backoff_s = self._first_backoff_s
        while True:  # the first run always happens: a target may report its stop itself
            began = self._clock.monotonic()
            try:
                self._loop()
                return  # finished: it saw its stop
            except Exception as exc:
                log.exception("%s: its loop failed; restarting it", self.name)
                self._heard(exc)
            if self._clock.monotonic() - began >= HEALTHY_AFTER_S:
                backoff_s = self._first_backoff_s
            with self._lock:
                self._backing_off = True
            self._clock.wait(self._stop_event, backoff_s)
            backoff_s = min(backoff_s * 2, self._max_backoff_s)
            with self._lock:
                self._backing_off = False
                if self._stop_event.is_set():
                    return
                self._restarts += 1

    def _heard(self, exc: Exception) -> None:
        with self._lock:
            self._last_error = f"{type(exc).__name__}: {exc}"[:500]
        if self._on_restart is not None:
            try:
                self._on_restart(exc)
            except Exception:
                log.exception("%s: restart listener failed", self.name)


def supervised_health() -> list[ThreadHealth]:
    """Every supervised thread of this process that was started and is still referenced,
    by name (any thread)."""
    with _RUNNING_LOCK:
        threads = list(_RUNNING)
    return sorted((t.health() for t in threads), key=lambda h: h.name)
