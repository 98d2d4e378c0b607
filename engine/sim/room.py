"""A simulated sensing room: what to simulate, and the simulated nodes running for a room.

- :class:`SimulationSpec`: what a room simulates (random or scripted walkers, their postures,
  BLE tags, a separate process or not). It is what a
  :class:`~engine.sensing.service.SensingService` is handed as its ``simulation``
  (:class:`~engine.sensing.service.SimulatedNodes`): the service asks it for its nodes' MACs
  and starts it once its node server listens, getting a :class:`RoomSimulation` back.
- :class:`SimulationPlan`: everything a separate process needs to build the same simulation
  (:mod:`engine.sim.nodes`'s walkers and channel, posed by :mod:`engine.sim.postures`).
- :class:`NodeSimulationProcess`: the simulated nodes in a process of their own.
- :class:`RoomSimulation`: the nodes while they run, where the walkers truly are, and the
  simulated BLE tags the room knows.

This module is above both :mod:`engine.sim.nodes` and :mod:`engine.sim.postures` (postures build
on the walkers of the first), so neither imports the other's dependants.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from engine.clock import Clock
from engine.identity.ble import KnownDevice
from engine.sensing.service import RoomSpec
from engine.sim.nodes import (
    ABSENT,
    DEFAULT_BLE_EVERY_S,
    EnteringWalker,
    NodeSimulation,
    Room,
    RunReport,
    SimNode,
    Simulator,
    Vec3,
    Walker,
    random_walkers,
    run_nodes_blocking,
    sim_ble_address,
    sim_mac,
)
from engine.sim.postures import Fall, LieDown, SitDown, walk_to_fall

# The colours the room draws the simulated walkers' tags in, in walker order (Okabe-Ito).
WALKER_COLOURS: Final = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#CC79A7", "#D55E00")


@dataclass(frozen=True, slots=True)
class SimulationPlan:
    """Everything a separate process needs to build the same simulation: the room, the
    nodes ((MAC, position, node id)), ``walkers`` random walkers from ``seed`` entering after
    ``enter_after_s``, the frame rate and channel, and each node's token (``(MAC, token)``,
    granted by the room's token book for this run)."""

    room: tuple[float, float, float]
    nodes: tuple[tuple[str, Vec3, str | None], ...]
    walkers: int
    seed: int
    enter_after_s: float
    rate_hz: float
    channel: int
    node_tokens: tuple[tuple[str, str], ...]
    ble: bool = False  # each walker carries a tag (sim_ble_address(1), (2), …)
    ble_every_s: float = DEFAULT_BLE_EVERY_S
    # Walker 1 falls this many seconds after entering; the next walker (walker 1 when nobody
    # falls) sits down (engine.sim.postures).
    fall_at_s: float | None = None
    sit_at_s: float | None = None
    lie_at_s: float | None = None  # the next walker again lies down slowly (a sofa)
    # With fall_at_s: walker 1 instead walks in so that the fall lands here (x, y metres; see
    # engine.sim.postures.walk_to_fall).
    fall_spot: tuple[float, float] | None = None

    def posed(self, walkers: Sequence[Walker]) -> list[Walker]:
        """``walkers`` with the plan's fall, sit-down and lie-down applied, in that order to
        walkers 1, 2, 3 (those asked for; their own time); with :attr:`fall_spot`, walker 1
        is first replaced by one who walks to it."""
        posed = list(walkers)
        room = Room(*self.room)
        if self.fall_spot is not None and self.fall_at_s is not None and posed:
            posed[0] = walk_to_fall(room, self.fall_spot, self.fall_at_s, self.seed)
        moves = [
            (at, make)
            for at, make in (
                (self.fall_at_s, lambda w, at: Fall(w, at, room=room)),
                (self.sit_at_s, lambda w, at: SitDown(w, at, seed=self.seed)),
                (self.lie_at_s, lambda w, at: LieDown(w, at, room=room)),
            )
            if at is not None
        ]
        for index, (at, make) in enumerate(moves[: len(posed)]):
            posed[index] = make(posed[index], at)
        return posed

    def build(self, walkers: Sequence[Walker] | None = None) -> Simulator:
        """The plan's simulator: its random walkers, or ``walkers`` (scripted ones) instead,
        with the plan's postures, entering after :attr:`enter_after_s`."""
        room = Room(*self.room)
        chosen = random_walkers(room, self.walkers, self.seed) if walkers is None else walkers
        chosen = self.posed(chosen)
        return Simulator(
            room,
            [SimNode(mac, position, node_id) for mac, position, node_id in self.nodes],
            [EnteringWalker(w, self.enter_after_s) for w in chosen],
            rate_hz=self.rate_hz,
            seed=self.seed,
            channel=self.channel,
            ble_devices=[sim_ble_address(i + 1) for i in range(len(chosen))] if self.ble else (),
            ble_every_s=self.ble_every_s,
        )


def _run_plan(
    url: str, plan: SimulationPlan, origin: Any, stop: Any, reports: Any
) -> None:  # pragma: no cover - runs in the child process (its effects are tested)
    simulator = plan.build()
    tokens = dict(plan.node_tokens)

    def time_source() -> float:  # run_nodes reads it first for its time origin
        now = time.monotonic()
        if origin.value < 0:
            origin.value = now
        return now

    report = run_nodes_blocking(
        url,
        simulator,
        duration_s=None,
        token_for=tokens.get,
        stop_event=stop,
        time_source=time_source,
    )
    reports.put(report)


class NodeSimulationProcess:
    """:class:`NodeSimulation` in a process of its own (``spawn``), so that the simulated
    nodes' CSI generation and WebSocket clients do not share the engine's interpreter lock:
    the engine then runs as it would with real nodes on the network. Same interface;
    :attr:`origin_s` is the simulation's time origin on ``time.monotonic()`` (one clock for
    every process on the machine), None until the nodes have started."""

    def __init__(self, url: str, plan: SimulationPlan) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._origin = context.Value("d", -1.0)
        self._stop = context.Event()
        self._reports = context.Queue()
        self._process = context.Process(
            target=_run_plan,
            args=(url, plan, self._origin, self._stop, self._reports),
            name="sensing-sim-process",
            daemon=True,
        )
        self._report: RunReport | None = None

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def origin_s(self) -> float | None:
        value = float(self._origin.value)
        return None if value < 0 else value

    @property
    def running(self) -> bool:
        return self._process.is_alive()

    def wait(self, timeout_s: float | None = None) -> RunReport | None:
        """The report once the process has ended (None if it is still running after
        ``timeout_s``, or ended without one)."""
        import queue

        if self._report is None:
            try:
                self._report = self._reports.get(timeout=timeout_s)
            except queue.Empty:
                return None
        self._process.join(5.0)
        return self._report


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    """Simulated nodes for a room: ``walkers`` random walkers from ``seed``, who enter
    after ``enter_after_s`` seconds (the room is empty before, so every link learns its
    baseline as a real installation does), sending at ``rate_hz``. Handed to a
    :class:`~engine.sensing.service.SensingService` as its ``simulation``."""

    walkers: int = 1
    seed: int = 0
    enter_after_s: float = 0.0
    rate_hz: float = 20.0
    walker_list: tuple[Walker, ...] | None = None  # scripted walkers instead of random ones
    truth_walkers: tuple[Walker, ...] | None = None  # an identical copy read for ground truth
    # Run the simulated nodes in a process of their own (random walkers only), as real nodes
    # would be: the engine's threads then do not share the interpreter lock with them.
    separate_process: bool = False
    # Each walker carries a BLE tag the nodes report (sim_ble_address(1), (2), …); the room
    # knows them as "Walker 1", "Walker 2", … (simulated: nobody in the face memory).
    ble: bool = False
    ble_every_s: float = 5.0
    # Walker 1 falls, the next one sits down, the next lies down slowly, this many seconds
    # after entering (engine.sim.postures).
    fall_at_s: float | None = None
    sit_at_s: float | None = None
    lie_at_s: float | None = None
    fall_spot: tuple[float, float] | None = None  # walker 1 walks in to fall here
    # The engine clock's monotonic time at the simulation's t = 0 (None: when the nodes
    # start): a scene shared with simulated cameras and other rooms runs on one origin.
    time_origin_s: float | None = None

    def node_macs(self, room: RoomSpec) -> dict[str, str]:
        """``{MAC: node id}`` of the simulated nodes: one at each of the room's nodes, with
        its MAC from the site file, else :func:`~engine.sim.nodes.sim_mac`."""
        return {node.mac: node.node_id or "" for node in _simulated_nodes(room)}

    def devices(self) -> dict[str, KnownDevice]:
        """The walkers' BLE tags as the room knows them (none without :attr:`ble`)."""
        if not self.ble:
            return {}
        count = len(self.walker_list) if self.walker_list is not None else self.walkers
        return {
            sim_ble_address(i + 1): KnownDevice(
                address=sim_ble_address(i + 1),
                label=f"simulated tag {i + 1}",
                name=f"Walker {i + 1}",
                person_id=None,
                colour=WALKER_COLOURS[i % len(WALKER_COLOURS)],
            )
            for i in range(count)
        }

    def start(
        self,
        room: RoomSpec,
        *,
        url: str,
        grant: Callable[[str], str],
        token_for: Callable[[str], str | None],
        clock: Clock,
    ) -> RoomSimulation:
        """Start the nodes, which connect to the node server at ``url`` (each with the token
        ``grant`` gives it; a thread's nodes ask ``token_for`` at hello). A thread's nodes
        run on ``clock`` (their time and their waits for the next frame); a separate process's
        on real time."""
        nodes = _simulated_nodes(room)
        plan = SimulationPlan(
            room=room.size,
            nodes=tuple((n.mac, n.position, n.node_id) for n in nodes),
            walkers=self.walkers,
            seed=self.seed,
            enter_after_s=self.enter_after_s,
            rate_hz=self.rate_hz,
            channel=room.channel,
            node_tokens=tuple((n.mac, grant(n.mac)) for n in nodes),
            ble=self.ble,
            ble_every_s=self.ble_every_s,
            fall_at_s=self.fall_at_s,
            sit_at_s=self.sit_at_s,
            lie_at_s=self.lie_at_s,
            fall_spot=self.fall_spot,
        )
        truth = self.truth_walkers or tuple(
            plan.posed(random_walkers(Room(*room.size), self.walkers, self.seed))
        )
        simulation = RoomSimulation(tuple(EnteringWalker(w, self.enter_after_s) for w in truth))
        if self.separate_process:
            if self.walker_list is not None:
                raise ValueError("a separate simulation process takes random walkers only")
            process = NodeSimulationProcess(url, plan)
            simulation.run(process)
            process.start()
            return simulation

        def time_source() -> float:  # run_nodes reads it first for its time origin
            now = clock.monotonic()
            if simulation.origin_s is None:
                first = self.time_origin_s if self.time_origin_s is not None else now
                simulation.origin_s = first
                return first
            return now

        nodes_thread = NodeSimulation(
            url,
            plan.build(self.walker_list),
            duration_s=None,
            token_for=token_for,
            time_source=time_source,
            clock=clock,  # the nodes wait on the engine's clock: a simulated one drives them
        )
        simulation.run(nodes_thread)
        nodes_thread.start()
        return simulation


def _simulated_nodes(room: RoomSpec) -> list[SimNode]:
    return [
        SimNode(n.mac or sim_mac(i + 1), n.position, n.node_id) for i, n in enumerate(room.nodes)
    ]


class RoomSimulation:
    """A room's simulated nodes while they run (a
    :class:`~engine.sensing.service.SimulationRun`): where the walkers truly are (``truth``,
    each an :class:`~engine.sim.nodes.EnteringWalker`) at a time of the simulation, whose
    origin on the engine clock (``origin_s``) the nodes set when they start (None before; a
    test driving a room itself gives it)."""

    def __init__(self, truth: Sequence[Walker], *, origin_s: float | None = None) -> None:
        self.truth_walkers = tuple(truth)
        self.origin_s = origin_s
        self._nodes: NodeSimulation | NodeSimulationProcess | None = None

    def run(self, nodes: NodeSimulation | NodeSimulationProcess) -> None:
        self._nodes = nodes

    @property
    def nodes(self) -> NodeSimulation | NodeSimulationProcess | None:
        return self._nodes

    def sim_time(self, now_s: float) -> float | None:
        """Seconds of simulated time at engine time ``now_s`` (None before the nodes start)."""
        if self.origin_s is None and isinstance(self._nodes, NodeSimulationProcess):
            self.origin_s = self._nodes.origin_s  # the engine clock is monotonic()
        if self.origin_s is None:
            return None
        return now_s - self.origin_s

    def truth(self, sim_s: float) -> tuple[Vec3, ...]:
        """Where the walkers who have entered are at simulated time ``sim_s``."""
        spots = (walker.position_at(max(sim_s, 0.0)) for walker in self.truth_walkers)
        return tuple(p for p in spots if p != ABSENT)

    def stop(self) -> None:
        if self._nodes is not None:
            self._nodes.stop()

    def wait(self, timeout_s: float | None = None) -> RunReport | None:
        """The nodes' report once they have stopped (None while they run)."""
        return None if self._nodes is None else self._nodes.wait(timeout_s)
