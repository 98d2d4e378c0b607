"""A live simulated room driven by a :class:`~engine.clock.SimulatedClock`, as fast as it goes.

The room is the product's: a :class:`~engine.sensing.service.SensingService` with its node
server on loopback and its simulated nodes (:class:`~engine.sim.room.SimulationSpec`), which
connect and send their frames over real WebSockets. Only time is the test's: the nodes wait
for their next frame on the clock, and :class:`SteppedRoom` ticks the service itself
(``run_thread=False``) at the times its sensing thread would. Before it moves time on it
waits (real time, bounded) until every node waits on the clock again and the server has
received every frame the nodes sent, so each frame arrives at the simulated instant it was
sent for and each tick takes exactly the frames of its time, however busy the machine is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.clock import SimulatedClock
from engine.sensing.service import TICK_HZ, SensingService
from engine.sim.nodes import NodeSimulation
from engine.sim.room import RoomSimulation
from tests.waiting import WAIT_S

SETTLE_POLL_S = 0.0005  # real seconds between looks at the server's frame count
TIME_EPSILON_S = 1e-9


class SteppedRoom:
    """A started simulated room (service made with ``clock`` and ``run_thread=False``),
    moved through simulated time by :meth:`run_for` and :meth:`run_until`. Its nodes are the
    service's simulated ones, or ``nodes`` (``count`` of them, made with the same clock)
    connecting to it as outside nodes would."""

    def __init__(
        self,
        service: SensingService,
        clock: SimulatedClock,
        *,
        nodes: NodeSimulation | None = None,
        count: int | None = None,
    ) -> None:
        self.service, self.clock = service, clock
        self._next_tick_s = clock.monotonic()  # the sensing thread's first tick: at once
        self._tick_s = 1.0 / TICK_HZ
        self._outside = nodes
        self._nodes = len(service.room.nodes) if count is None else count

    def start(self) -> None:
        """Start the service and its simulated nodes; back once every node is configured
        and waits for its first frame (with outside ``nodes``, start them and call
        :meth:`settle` instead)."""
        self.service.start()
        self.settle()

    @property
    def simulation(self) -> NodeSimulation:
        if self._outside is not None:
            return self._outside
        run = self.service.simulation
        assert isinstance(run, RoomSimulation) and isinstance(run.nodes, NodeSimulation)
        return run.nodes

    def sim_time(self) -> float:
        t = self.service.sim_time(self.clock.monotonic())
        assert t is not None, "the nodes have not started"
        return t

    def run_for(self, seconds: float) -> None:
        """Run ``seconds`` of simulated time on from now."""
        end = self.clock.monotonic() + seconds
        self.run_until(lambda: self.clock.monotonic() >= end - TIME_EPSILON_S)

    def run_until(self, done: Callable[[], object], limit_s: float = 120.0) -> bool:
        """Step until ``done()`` (asked after each tick) is true, or ``limit_s`` simulated
        seconds have passed (False)."""
        limit = self.clock.monotonic() + limit_s
        while True:
            self.settle()
            now = self.clock.monotonic()
            if now >= self._next_tick_s - TIME_EPSILON_S:
                self.service.tick(now)
                self._next_tick_s = max(self._next_tick_s + self._tick_s, now)
                if done():
                    return True
            if now >= limit:
                return False
            to_tick = self._next_tick_s - now
            due = self.clock.next_deadline_in()
            self.clock.advance(max(to_tick if due is None else min(due, to_tick), 0.0))

    def settle(self) -> None:
        """Wait (real time, bounded) until every node waits on the clock and every frame
        they sent has reached the service."""
        if not self.clock.wait_for_waiters(self._nodes, WAIT_S):
            raise AssertionError(f"the {self._nodes} simulated nodes never waited on the clock")
        simulation, server = self.simulation, self.service.server
        deadline = time.monotonic() + WAIT_S
        while simulation.frames_sent != sum(n.frames_received for n in server.nodes()):
            if time.monotonic() >= deadline:
                raise AssertionError("frames sent by the simulated nodes never arrived")
            time.sleep(SETTLE_POLL_S)
