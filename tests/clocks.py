"""Clocks for tests: a real clock whose wall time a test can hold still for a moment
(:class:`HoldableClock`), a simulated one a test lets run fast once it is ready
(:class:`ClockDriver`), and a whole engine with simulated rooms run on a simulated clock as
fast as it goes, never ahead of its threads or its nodes (:class:`EngineTimeDriver`).

For console tests whose subject is a deadline measured on the wall clock (a login delay):
holding ``now()`` makes "before the deadline" true however long a loaded machine takes to
deliver the next attempt, while the engine's threads, waits and monotonic time stay real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from engine.clock import REAL_CLOCK, SimulatedClock
from engine.sensing.service import SensingService
from engine.sim.nodes import NodeSimulation
from engine.sim.room import RoomSimulation
from tests.waiting import WAIT_S


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

    def __enter__(self) -> ClockDriver:
        """``with driver:`` around what waits on its clock; it stops at the end whatever
        happened (it starts when :meth:`start` is called, by the test's client)."""
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            self.clock.advance(self._step_s)


class EngineTimeDriver:
    """Runs a whole engine on a :class:`SimulatedClock` as fast as it goes, never ahead of
    it: from :meth:`start` to :meth:`stop` it moves time to the earliest deadline anyone waits
    for, but first waits (real time, bounded) until every thread that time woke waits on the
    clock again (as many blocked waiters as before the move) and every frame the rooms'
    simulated nodes sent has reached their node server. However busy the machine, the
    engine sees the time the nodes were simulated at (no node falls silent for want of CPU),
    and a simulated room's seconds of calibration pass in a fraction of a real second.
    ``each_step`` (optional) runs at every instant before time moves on: what a test plays
    into the engine keeps pace with engine time, not with the test thread.
    A thread that leaves its wait on the clock for good (its event set) while the engine
    runs would leave one waiter short: the driver then fails after ``WAIT_S``, it does not
    move time without it."""

    def __init__(
        self,
        clock: SimulatedClock,
        rooms: Callable[[], list[SensingService]],
        each_step: Callable[[], None] | None = None,
    ) -> None:
        self.clock, self._rooms, self._each_step = clock, rooms, each_step
        self._stop = threading.Event()
        self._failure: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="engine-time", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop moving time; raises what went wrong if time could not be moved honestly."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        blocked = 0
        try:
            while not self._stop.is_set():
                # Everyone time woke waits again (threads that start waiting only add).
                if not self.clock.wait_for_waiters(blocked, WAIT_S):
                    raise AssertionError(f"the engine's {blocked} waiters never waited again")
                self._delivered()
                if self._each_step is not None:
                    self._each_step()
                due = self.clock.next_deadline_in()
                blocked = self.clock.waiters()
                if due is None:  # nobody waits for a time yet: look again shortly
                    self._stop.wait(0.001)
                    continue
                self.clock.advance(max(due, 0.0))
        except Exception as failure:  # said by stop(), in the test's thread
            self._failure = failure

    def _delivered(self) -> None:
        deadline = time.monotonic() + WAIT_S
        for service in self._rooms():
            run = service.simulation
            assert isinstance(run, RoomSimulation) and isinstance(run.nodes, NodeSimulation)
            sim, server = run.nodes, service.server
            while sim.frames_sent != sum(n.frames_received for n in server.nodes()):
                if time.monotonic() >= deadline:
                    raise AssertionError("frames sent by the simulated nodes never arrived")
                time.sleep(0.0005)
