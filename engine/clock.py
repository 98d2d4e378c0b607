"""Clocks: the only place the engine reads the time or waits for it to pass.

Every module takes a :class:`Clock` rather than calling ``time.time()`` or waiting on an
event with a timeout, so that replays and tests can run on a :class:`SimulatedClock`:
backoff, stall detection, pacing and schedules then move only when the test moves time.
Wall time is always timezone-aware UTC.
"""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

EVENT_POLL_S = 0.02  # SimulatedClock: real seconds between checks of a waiter's event


class Clock(Protocol):
    """What the engine needs to know about time."""

    def now(self) -> datetime:
        """Current wall time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards. For durations and rates."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds`` of this clock's time."""
        ...

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        """Block until ``event`` is set (True) or ``timeout_s`` seconds of this clock's time
        have passed (False; ``None`` waits for the event only). Any thread."""
        ...


class RealClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        if timeout_s is not None and timeout_s <= 0:
            return event.is_set()
        return event.wait(timeout_s)


class SimulatedClock:
    """A clock that moves only when told to: for replay and deterministic tests.

    ``sleep`` advances the clock instead of blocking, so a simulated day passes instantly.
    ``wait`` blocks until its event is set or :meth:`advance` moves time past its deadline;
    a blocked waiter sleeps on a condition (woken by ``advance`` at once, and every
    ``EVENT_POLL_S`` real seconds to look at its event), it never spins. Tests drive engine
    threads with :meth:`wait_for_waiters` (real time: until N threads are blocked in
    ``wait``), :meth:`next_deadline_in` and :meth:`advance`.
    Thread-safe: several workers may read or wait on it while one advances it.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("SimulatedClock start must be timezone-aware")
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._start = start.astimezone(UTC)
        self._elapsed_s = 0.0
        self._ids = itertools.count()
        self._waiters: dict[int, tuple[threading.Event, float]] = {}  # id → (event, deadline)

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed_s)

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed_s

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (negative values are refused); waiters whose
        deadline has come return from ``wait``."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards ({seconds} s)")
        with self._changed:
            self._elapsed_s += seconds
            self._changed.notify_all()

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        with self._changed:
            deadline = self._elapsed_s + timeout_s if timeout_s is not None else float("inf")
            key = next(self._ids)
            self._waiters[key] = (event, deadline)
            self._changed.notify_all()  # wait_for_waiters may be watching
            try:
                while not event.is_set() and self._elapsed_s < deadline:
                    self._changed.wait(EVENT_POLL_S)
                return event.is_set()
            finally:
                del self._waiters[key]
                self._changed.notify_all()

    def _blocked(self) -> list[float]:
        """Deadlines of waiters that are still blocked (caller holds the lock)."""
        return [
            deadline
            for event, deadline in self._waiters.values()
            if not event.is_set() and deadline > self._elapsed_s
        ]

    def waiters(self) -> int:
        """How many threads are blocked in :meth:`wait` right now."""
        with self._lock:
            return len(self._blocked())

    def wait_for_waiters(self, count: int, timeout_s: float = 10.0) -> bool:
        """Block (real time, at most ``timeout_s``) until at least ``count`` threads are
        blocked in :meth:`wait` with their deadline still ahead. False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._blocked()) >= count, timeout_s)

    def next_deadline_in(self) -> float | None:
        """Simulated seconds until the earliest blocked waiter's deadline (None: nobody
        waits with a deadline)."""
        with self._lock:
            finite = [d for d in self._blocked() if d != float("inf")]
            return min(finite) - self._elapsed_s if finite else None


REAL_CLOCK = RealClock()
