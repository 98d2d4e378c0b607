"""A real clock whose wall time a test can hold still for a moment.

For console tests whose subject is a deadline measured on the wall clock (a login delay):
holding ``now()`` makes "before the deadline" true however long a loaded machine takes to
deliver the next attempt, while the engine's threads, waits and monotonic time stay real.
"""

from __future__ import annotations

import threading
from datetime import datetime

from engine.clock import REAL_CLOCK


class HoldableClock:
    """:data:`REAL_CLOCK`, except that between :meth:`hold` and :meth:`release` ``now()``
    returns the moment it was held."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: datetime | None = None

    def hold(self) -> datetime:
        with self._lock:
            self._held = REAL_CLOCK.now()
            return self._held

    def release(self) -> None:
        with self._lock:
            self._held = None

    def now(self) -> datetime:
        with self._lock:
            held = self._held
        return held if held is not None else REAL_CLOCK.now()

    def monotonic(self) -> float:
        return REAL_CLOCK.monotonic()

    def sleep(self, seconds: float) -> None:
        REAL_CLOCK.sleep(seconds)

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        return REAL_CLOCK.wait(event, timeout_s)
