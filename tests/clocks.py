"""Clocks for tests: a real clock whose wall time a test can hold still for a moment
(:class:`HoldableClock`), and a simulated one a test lets run fast once it is ready
(:class:`ClockDriver`).

For console tests whose subject is a deadline measured on the wall clock (a login delay):
holding ``now()`` makes "before the deadline" true however long a loaded machine takes to
deliver the next attempt, while the engine's threads, waits and monotonic time stay real.
"""

from __future__ import annotations

import threading
from datetime import datetime

from engine.clock import REAL_CLOCK, SimulatedClock


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


class ClockDriver:
    """Moves a :class:`SimulatedClock` on by ``step_s`` every ``every_s`` real seconds from
    :meth:`start` to :meth:`stop`: a command waiting out its ``--duration`` on that clock
    ends once the test has done what it came for, whenever its wait began, instead of after
    the duration in real time (a fail-safe bound is the caller's)."""

    def __init__(self, clock: SimulatedClock, step_s: float = 1.0, every_s: float = 0.01) -> None:
        self.clock = clock
        self._step_s = step_s
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clock-driver", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            self.clock.advance(self._step_s)
