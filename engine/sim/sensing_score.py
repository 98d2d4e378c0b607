"""How well the sensing room finds people: the simulator's walkers against the live blobs.

:func:`simulate_room` runs the real path (simulated nodes → loopback WebSocket → node server →
signal chain → fusion → tracker, in a :class:`~engine.sensing.service.SensingService`) for a
while in real time and scores every fusion tick against the walkers' true positions
(:class:`Scorer`). ``watchfloor sense simulate`` and the ``sensing_localisation`` benchmark
are built on it.

Scoring, per fusion tick while walkers are in the room (they enter after the links have
learned the empty room):

- Each walker is paired with at most one shown (confirmed) blob by the Hungarian method on
  floor distance, with no distance gate, so a blob far from everyone still counts against the
  error. **Error** is the floor (x, y) distance of each pair; its median and 90th percentile
  are over all walker-ticks that have a pair.
- **Presence**: the share of walker-ticks that have a pair (a blob is shown for the walker);
  ``within_1m`` the share whose pair is within 1 m.
- **First blob**: seconds from the walkers' entry to the first tick with a shown blob.
- **ID switches**: per walker, how often the id of its paired blob changes from one paired tick
  to the next; ``blob_ids`` how many different ids were paired with anyone.

Identities (``--ble``, :class:`IdentityScorer`): walker i carries the BLE tag the room knows as
"Walker i". On each tick the walkers are paired with blobs as above (pairs further apart than
1.5 m do not count). **Time to name**: seconds from the entry to the first tick on which the
walker's blob shows its name. **Wrong name**: a shown blob whose name is a walker who is more
than 1.5 m from it (two people walking together are one blob, and either name is right for
it); the longest run of consecutive ticks one blob shows a wrong name, in seconds, is
``longest_wrong_name_s``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.bus import EventBus
from engine.clock import REAL_CLOCK, Clock
from engine.sensing.grid.capability import RoomCapability, advise_layout, layout_capability
from engine.sensing.recording.recorder import SensingRecorder
from engine.sensing.service import (
    ENTER_AFTER_S,
    NodeSpec,
    RoomSpec,
    SensingRecord,
    SensingService,
    SensingUpdated,
    describe,
)
from engine.sensing.view import SensingSnapshot
from engine.sim.nodes import Room, perimeter_nodes, sim_mac
from engine.sim.room import RoomSimulation, SimulationSpec

# Where simulated rooms put their nodes: spread evenly around the walls starting from the middle
# of the first wall (4 nodes: one in the middle of each wall), alternately 0.9 and 1.1 m high,
# around a walking person's body centre (1.0 m). Measured with `sense simulate`, 1 walker in a
# 5 × 5 m room, seeds 1-3, 60 s each (fast tick-level runs of the same engine code):
#   corners, 0.5/2.0 m: links far above or below the body miss it; only 72 % of the room is
#                       within some link's fifth Fresnel zone at body height
#   corners, 0.8/1.3 m: median 0.52-0.66 m, p90 1.24-1.95 m
#   walls,   0.8/1.3 m: median 0.53-0.56 m, p90 0.96-1.02 m
#   walls,   0.9/1.1 m: median 0.47-0.50 m, p90 0.89-0.92 m (1.0 m for all: about the same,
#                       but then nothing tells above from below the links)
SIM_NODE_HEIGHTS_M = (0.9, 1.1)


SEPARATED_M = 1.5  # walkers further apart than this should be tracked as separate blobs


@dataclass
class Scorer:
    """Scores snapshots against the truth they carry (see the module docstring)."""

    walkers: int
    entered_s: float | None = None
    errors: list[float] = field(default_factory=list)
    walker_ticks: int = 0
    paired: int = 0
    within_1m: int = 0
    first_blob_s: float | None = None
    id_switches: int = 0
    blob_ids: set[int] = field(default_factory=set)
    _last_id: dict[int, int] = field(default_factory=dict)
    per_walker_errors: dict[int, list[float]] = field(default_factory=dict)
    # Walker-ticks with every other walker more than SEPARATED_M away, and of those the
    # ones whose paired blob is within 1 m (the walker is tracked as a person of their own).
    apart_ticks: int = 0
    apart_tracked: int = 0

    def add(self, snapshot: SensingSnapshot) -> None:
        truth = snapshot.truth
        if not truth:
            return
        if self.entered_s is None:
            self.entered_s = snapshot.t_s
        self.walker_ticks += len(truth)
        apart = [
            all(
                float(np.hypot(t[0] - o[0], t[1] - o[1])) > SEPARATED_M
                for j, o in enumerate(truth)
                if j != i
            )
            for i, t in enumerate(truth)
        ]
        self.apart_ticks += sum(apart)
        blobs = snapshot.blobs
        if not blobs:
            return
        if self.first_blob_s is None:
            self.first_blob_s = snapshot.t_s - self.entered_s
        cost = np.array(
            [
                [float(np.hypot(b.position[0] - t[0], b.position[1] - t[1])) for b in blobs]
                for t in truth
            ]
        )
        rows, cols = linear_sum_assignment(cost)
        for walker, blob_index in zip(rows, cols, strict=True):
            error = float(cost[walker, blob_index])
            track_id = blobs[blob_index].track_id
            self.paired += 1
            self.within_1m += error <= 1.0
            self.apart_tracked += bool(apart[int(walker)]) and error <= 1.0
            self.errors.append(error)
            self.per_walker_errors.setdefault(int(walker), []).append(error)
            self.blob_ids.add(track_id)
            previous = self._last_id.get(int(walker))
            if previous is not None and previous != track_id:
                self.id_switches += 1
            self._last_id[int(walker)] = track_id

    def summary(self) -> dict[str, Any]:
        ticks = max(self.walker_ticks, 1)
        return {
            "walker_ticks": self.walker_ticks,
            "error_m": describe(self.errors),
            "error_m_per_walker": {
                str(w): describe(e) for w, e in sorted(self.per_walker_errors.items())
            },
            "presence": round(self.paired / ticks, 4),
            "within_1m": round(self.within_1m / ticks, 4),
            "first_blob_s": None if self.first_blob_s is None else round(self.first_blob_s, 2),
            "id_switches": self.id_switches,
            "blob_ids": len(self.blob_ids),
            "tracked_when_apart": (
                round(self.apart_tracked / self.apart_ticks, 4) if self.apart_ticks else None
            ),
        }


FALL_ALERT_WITHIN_S = 15.0
FALL_SEEN_BEFORE_S = 0.5  # a descent seen this long before the scripted fall is still the fall


def fall_summary(
    alerts_at_s: list[float | None],
    fall_at_s: float | None,
    sit_at_s: float | None,
    lie_at_s: float | None = None,
    fell_s_ago: list[float] | None = None,
) -> dict[str, Any]:
    """Fall alerts against the script (walker time, seconds after entering): the latency of
    the first alert within :data:`FALL_ALERT_WITHIN_S` of the fall whose descent was seen at
    or after the fall (``fell_s_ago``: per alert, how long before it the fall was suspected;
    an alert for a descent seen while the walker still walked is a false one that happened
    to be confirmed in time), and every other alert as a false one."""
    ago = fell_s_ago or [0.0] * len(alerts_at_s)
    timed = [(t, a) for t, a in zip(alerts_at_s, ago, strict=True) if t is not None]
    times = [t for t, _ in timed]
    hits = (
        [
            t
            for t, a in timed
            if fall_at_s <= t <= fall_at_s + FALL_ALERT_WITHIN_S
            and t - a >= fall_at_s - FALL_SEEN_BEFORE_S
        ]
        if fall_at_s is not None
        else []
    )
    latency = None if not hits or fall_at_s is None else round(min(hits) - fall_at_s, 2)
    false = [t for t in times if t not in hits[:1]]
    return {
        "fall_at_s": fall_at_s,
        "sit_at_s": sit_at_s,
        "lie_at_s": lie_at_s,
        "alerts_at_s": [round(t, 2) for t in times],
        "fall_alert_latency_s": latency,
        "fall_alerted_within_15s": None if fall_at_s is None else latency is not None,
        "false_alerts": len(false),
    }


IDENTITY_PAIR_M = 1.5


@dataclass
class IdentityScorer:
    """Scores the names on blobs against the walkers' tags (see the module docstring)."""

    walkers: int
    entered_s: float | None = None
    named_at_s: dict[int, float] = field(default_factory=dict)
    right_ticks: int = 0
    walker_ticks: int = 0
    wrong_ticks: int = 0
    longest_wrong_s: float = 0.0
    _wrong_since: dict[int, float] = field(default_factory=dict)

    def add(self, snapshot: SensingSnapshot) -> None:
        truth = snapshot.truth
        if not truth:
            return
        if self.entered_s is None:
            self.entered_s = snapshot.t_s
        now = snapshot.t_s
        self.walker_ticks += len(truth)
        blobs = snapshot.blobs
        paired: dict[int, int] = {}  # blob index → walker
        if blobs:
            cost = np.array([[math.dist(b.position[:2], w[:2]) for b in blobs] for w in truth])
            for walker, blob_index in zip(*linear_sum_assignment(cost), strict=True):
                if cost[walker, blob_index] <= IDENTITY_PAIR_M:
                    paired[int(blob_index)] = int(walker)
        for index, blob in enumerate(blobs):
            walker = paired.get(index)
            name = None if blob.identity is None else blob.identity.name
            if walker is not None and name == walker_name(walker):
                self.right_ticks += 1
                self.named_at_s.setdefault(walker, now - self.entered_s)
            named = None if name is None else _walker_index(name, len(truth))
            if (
                named is not None
                and math.dist(blob.position[:2], truth[named][:2]) > IDENTITY_PAIR_M
            ):
                self.wrong_ticks += 1
                since = self._wrong_since.setdefault(blob.track_id, now)
                self.longest_wrong_s = max(self.longest_wrong_s, now - since)
            else:
                self._wrong_since.pop(blob.track_id, None)

    def summary(self) -> dict[str, Any]:
        return {
            "time_to_name_s": {
                walker_name(w): (round(self.named_at_s[w], 2) if w in self.named_at_s else None)
                for w in range(self.walkers)
            },
            "named_share": round(self.right_ticks / max(self.walker_ticks, 1), 4),
            "wrong_name_ticks": self.wrong_ticks,
            "longest_wrong_name_s": round(self.longest_wrong_s, 2),
        }


def _walker_index(name: str, walkers: int) -> int | None:
    for index in range(walkers):
        if walker_name(index) == name:
            return index
    return None


def walker_name(index: int) -> str:
    """What the room calls simulated walker ``index`` (0-based) by their BLE tag."""
    return f"Walker {index + 1}"


def simulated_room(
    size: tuple[float, float, float], nodes: int, heights: tuple[float, ...] = SIM_NODE_HEIGHTS_M
) -> RoomSpec:
    """A room of ``size`` with ``nodes`` nodes spread around its walls (0.1 m off them),
    the first in the middle of the first wall, alternately at the ``heights`` given."""
    width, depth, height = size
    spots = perimeter_nodes(Room(width, depth, height), nodes, start_m=(width - 0.2) / 2)
    return RoomSpec(
        room_id="sim",
        name="Simulated room",
        size=size,
        nodes=tuple(
            NodeSpec(
                node.node_id or node.mac,
                node.node_id or node.mac,
                (node.position[0], node.position[1], min(heights[i % len(heights)], height)),
                node.mac,
            )
            for i, node in enumerate(spots)
        ),
    )


def advised_room(size: tuple[float, float, float], nodes: int) -> RoomSpec:
    """A room of ``size`` with ``nodes`` simulated nodes where the placement advisor
    (:func:`~engine.sensing.grid.capability.advise_layout`) puts them."""
    advice = advise_layout(size, nodes)
    return RoomSpec(
        room_id="sim",
        name="Simulated room",
        size=size,
        nodes=tuple(
            NodeSpec(f"sim-{i}", f"sim-{i}", position, sim_mac(i))
            for i, position in enumerate(advice.positions, start=1)
        ),
    )


SIM_START_TIMEOUT_S = 60.0  # a node process that has not started by then is not coming


def _wait_for_the_walk(
    service: SensingService, clock: Clock, stop: threading.Event, walk_s: float
) -> None:
    """Wait until ``walk_s`` seconds of the simulation have passed, counted from when its
    nodes started (a spawned node process takes a second or more to start on a busy
    machine; counting from the service's start cut the walk short by as much). Returns early
    when ``stop`` is set; RuntimeError when the nodes do not start within
    :data:`SIM_START_TIMEOUT_S`."""
    give_up = clock.monotonic() + SIM_START_TIMEOUT_S
    while (elapsed := service.sim_time(clock.monotonic())) is None:
        if clock.monotonic() > give_up:
            raise RuntimeError(f"the simulated nodes did not start in {SIM_START_TIMEOUT_S:g} s")
        if clock.wait(stop, 0.05):
            return
    clock.wait(stop, max(walk_s - elapsed, 0.0))


def room_layout_capability(room: RoomSpec) -> RoomCapability:
    """The capability map of ``room``'s nodes where the site puts them (cached per layout)."""
    return layout_capability(
        room.size, tuple((n.node_id, n.position) for n in room.nodes), room.channel
    )


def confirmable_fall_spot(room: RoomSpec, seed: int) -> tuple[float, float] | None:
    """A floor point of ``room`` where its layout can confirm a fall (the centre of a
    fall-capable cell the capability summaries count, drawn with ``seed``), or None where
    the layout can confirm none."""
    capability = room_layout_capability(room)
    rows, columns = np.nonzero(capability.fall_capable & capability.counted)
    if rows.size == 0:
        return None
    pick = int(np.random.default_rng(seed).integers(rows.size))
    return float(capability.xs[columns[pick]]), float(capability.ys[rows[pick]])


def simulate_room(
    room: RoomSpec,
    *,
    walkers: int,
    duration_s: float,
    seed: int = 0,
    bus: EventBus | None = None,
    clock: Clock = REAL_CLOCK,
    first_blob_id: int = 1,
    enter_after_s: float = ENTER_AFTER_S,
    stop: threading.Event | None = None,
    ble: bool = False,
    recorder: SensingRecorder | None = None,
    fall_at_s: float | None = None,
    sit_at_s: float | None = None,
    lie_at_s: float | None = None,
    fall_spot: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Run ``room`` with ``walkers`` simulated people for ``enter_after_s`` + ``duration_s``
    seconds of real time and return the report (scores, fusion tick times, frames). Events go
    to ``bus`` (attach a store writer to it to keep them). With ``fall_at_s`` and
    ``fall_spot``, walker 1 walks in to fall at that floor point."""
    bus = bus or EventBus()
    scorer = Scorer(walkers)
    identities = IdentityScorer(walkers) if ble else None
    lock = threading.Lock()

    walk_s = enter_after_s + duration_s

    def on_update(event: SensingUpdated) -> None:
        # Only the ticks of the walk are scored: the sensing thread goes on ticking until
        # the service's stop lands, which on a busy machine is a second or more after the
        # walk's end (a 6 s walk was scored on 68 ticks).
        sim_s = service.sim_time(event.snapshot.t_s)
        if sim_s is None or sim_s > walk_s:
            return
        with lock:
            scorer.add(event.snapshot)
            if identities is not None:
                identities.add(event.snapshot)

    falls_seen: list[float | None] = []  # walker time of each fall alert
    fell_ago: list[float] = []  # how long before each alert its descent was seen

    def on_record(event: SensingRecord) -> None:
        if event.kind == "sensing.fall_detected":
            sim_s = service.sim_time(clock.monotonic())
            with lock:
                falls_seen.append(None if sim_s is None else sim_s - enter_after_s)
                fell_ago.append(float(event.detail.get("fell_s_ago") or 0.0))

    unsubscribe = bus.subscribe(SensingUpdated, on_update)
    unsubscribe_records = bus.subscribe(SensingRecord, on_record)
    service = SensingService(
        room,
        bus=bus,
        clock=clock,
        install_secret=None,
        port=0,
        simulation=SimulationSpec(
            walkers=walkers,
            seed=seed,
            enter_after_s=enter_after_s,
            separate_process=True,
            ble=ble,
            fall_at_s=fall_at_s,
            sit_at_s=sit_at_s,
            lie_at_s=lie_at_s,
            fall_spot=fall_spot,
        ),
        first_blob_id=first_blob_id,
        recorder=recorder,
    )
    cpu_started = time.process_time()
    service.start()
    landing: tuple[float, float, float] | None = None
    try:
        _wait_for_the_walk(service, clock, stop or threading.Event(), walk_s)
        truth = service.truth(clock.monotonic())
        landing = truth[0] if truth else None  # walker 1, where a fall left them
    finally:
        simulation = service.simulation
        service.stop()
        unsubscribe()
        unsubscribe_records()
    process_cpu_s = time.process_time() - cpu_started
    run = simulation.wait(0) if isinstance(simulation, RoomSimulation) else None
    figures = service.report()
    frames_sent = run.frames_sent if run is not None else None
    with lock:
        scores = scorer.summary()
        if identities is not None:
            scores["identity"] = identities.summary()
        scores["falls"] = fall_summary(
            list(falls_seen), fall_at_s, sit_at_s, lie_at_s, list(fell_ago)
        )
    coverage = service.coverage()
    scores["falls"]["withheld"] = figures["falls_withheld"]
    scores["falls"]["fall_spot_m"] = None if fall_spot is None else list(fall_spot)
    scores["falls"]["fall_spot_confirmable"] = (
        None
        if fall_at_s is None or landing is None or coverage.problem is not None
        else room_layout_capability(room).fall_capable_at(landing[0], landing[1])
    )
    scores["layout"] = {
        "rating": coverage.rating,
        "fall_capable": round(coverage.fall_capable_fraction, 3),
        "ambiguous": round(coverage.ambiguous_fraction, 3),
        "expected_median_m": (
            round(coverage.median_accuracy_m, 3)
            if math.isfinite(coverage.median_accuracy_m)
            else None
        ),
    }
    return {
        "room": list(room.size),
        "nodes": [
            {"id": n.node_id, "mac": n.mac, "position": [round(c, 3) for c in n.position]}
            for n in room.nodes
        ],
        "links": figures["links"],
        "walkers": walkers,
        "seed": seed,
        "duration_s": duration_s,
        "enter_after_s": enter_after_s,
        **scores,
        "fusion_tick_ms": figures["fusion_tick_ms"],
        "fusion_tick_cpu_ms": figures["fusion_tick_cpu_ms"],
        "signal_tick_ms": figures["signal_tick_ms"],
        "ticks": figures["ticks"],
        "frames_sent": frames_sent,
        "frames_received": figures["frames_received"],
        "frames_dropped": (
            None if frames_sent is None else frames_sent - figures["frames_received"]
        ),
        "frames_shed": figures["frames_dropped"],
        "malformed": figures["malformed"],
        # The engine process's CPU over the run (node server, signal chain, fusion, store
        # hand-over and, when recording, the recorder; the simulated nodes run elsewhere).
        "process_cpu_s": round(process_cpu_s, 3),
        "recording": None if recorder is None else _recorder_figures(recorder),
    }


def _recorder_figures(recorder: SensingRecorder) -> dict[str, Any]:
    """The recording's figures and, in ``lost_records``/``lost_blocks``, what it could not
    write (after the service has closed it: nothing more is pending)."""
    stats = recorder.stats()
    return {
        "directory": str(recorder.directory),
        "bytes_on_disk": stats.bytes_on_disk,
        "records": stats.records,
        "dropped": stats.dropped,
        "write_errors": stats.write_errors,
        "last_error": stats.last_error,
        "lost_records": stats.dropped,
        "lost_blocks": stats.dropped_blocks,
    }
