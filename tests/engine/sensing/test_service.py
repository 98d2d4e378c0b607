"""The sensing service: one room from node frames to tracked blobs and history events.

Tick-level tests drive the real service on simulated time: the simulator's frames are parsed
with the real parser and handed to the service as the node server would (``_on_frame``), and
the test calls :meth:`SensingService.tick` every 0.1 s instead of starting the fusion thread.
Live tests run the real node server on a loopback port with real simulated-node WebSocket
clients, and the fusion thread on the real clock."""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.events import PeopleSeenInRoom
from engine.identity.ble import NAME_SCORE, KnownDevice
from engine.sensing.nodes.protocol import CsiFrame, encode_csi_frame, node_token, parse_csi_frame
from engine.sensing.nodes.server import NODE_BLE, NODE_OFFLINE, NODE_ONLINE
from engine.sensing.service import (
    BLOB_HISTORY_S,
    NodeSpec,
    RoomSpec,
    SensingRecord,
    SensingService,
    SensingUpdated,
)
from engine.sensing.view import BlobExplanation, SensingSnapshot
from engine.sim.nodes import (
    ABSENT,
    EnteringWalker,
    NodeSimulation,
    Room,
    ScriptedWalker,
    SimNode,
    Simulator,
    random_walkers,
    sim_ble_address,
    sim_mac,
)
from engine.sim.room import RoomSimulation, SimulationPlan, SimulationSpec
from engine.sim.sensing_score import (
    IdentityScorer,
    Scorer,
    advised_room,
    simulated_room,
    walker_name,
)
from tests.engine.sensing.stepping import SteppedRoom

SECRET = b"test install secret"
SIZE = (5.0, 5.0, 2.5)
# sim-1 … sim-4 in the corners (0.1 m off the walls, alternately 0.8 and 1.3 m high), MACs
# 02:57:46:53:00:0N: the geometry these tests reason about, whatever `sense simulate` uses.
ROOM = RoomSpec(
    "sim",
    "Simulated room",
    SIZE,
    tuple(
        NodeSpec(f"sim-{i}", f"sim-{i}", (x, y, 0.8 if i % 2 else 1.3), sim_mac(i))
        for i, (x, y) in enumerate([(0.1, 0.1), (4.9, 0.1), (4.9, 4.9), (0.1, 4.9)], start=1)
    ),
)
NODE_IDS = {n.node_id for n in ROOM.nodes}
MAC = {n.node_id: n.mac for n in ROOM.nodes if n.mac is not None}
FRAME_HZ = 20  # frames per directed pair per second, as the simulated nodes send
TICKS_PER_FRAME_STEP = 2  # fusion at 10 Hz
ENTER_S = 4.0  # the links have learned the empty room by then (2 s warm-up)
COAST_S = 3.0  # a blob without detection coasts this long before it ends
TICK_S = 0.1
# A walk along three walls, 0.5 m in from them: it crosses the corner-to-corner links and
# runs close to the wall links, so several links see the walker most of the time.
ZIGZAG = [(1.0, 0.6), (4.4, 1.0), (4.4, 4.0), (1.0, 4.4)]


class Visit:
    """A walker who walks in at ``enter_s`` and is gone (far outside every link) from
    ``leave_s`` on, like the service's own simulated walkers before they enter."""

    def __init__(self, walker: ScriptedWalker, enter_s: float, leave_s: float = math.inf) -> None:
        self.walker, self.enter_s, self.leave_s = walker, enter_s, leave_s

    def inside(self, t_s: float) -> bool:
        return self.enter_s <= t_s < self.leave_s

    def position_at(self, t_s: float) -> tuple[float, float, float]:
        return self.walker.position_at(t_s - self.enter_s) if self.inside(t_s) else ABSENT

    def velocity_at(self, t_s: float) -> tuple[float, float, float]:
        return self.walker.velocity_at(t_s - self.enter_s) if self.inside(t_s) else (0, 0, 0)


def walk_length(waypoints: list[tuple[float, float]]) -> float:
    return sum(math.dist(a, b) for a, b in itertools.pairwise(waypoints))


def simulator(room: RoomSpec, walkers: list[Any], seed: int = 2) -> Simulator:
    width, depth, height = room.size
    nodes = [SimNode(n.mac or "", n.position, n.node_id) for n in room.nodes]
    return Simulator(Room(width, depth, height), nodes, walkers, seed=seed)


def floor_distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class TickDriver:
    """Feeds a service (not started: no server, no fusion thread) the simulator's frames at
    20 Hz of simulated time and ticks it at 10 Hz; keeps every tick's snapshot and every
    history event."""

    def __init__(self, service: SensingService, sim: Simulator, bus: EventBus) -> None:
        self.service, self.sim = service, sim
        self.step = 0
        self.ticks: list[tuple[float, SensingSnapshot]] = []
        self.records: list[SensingRecord] = []
        self.published: list[SensingSnapshot] = []
        bus.subscribe(SensingRecord, self.records.append)
        bus.subscribe(SensingUpdated, lambda event: self.published.append(event.snapshot))

    def run_until(
        self,
        end_s: float,
        *,
        keep: Callable[[CsiFrame], bool] = lambda _frame: True,
        extra: Callable[[float], list[CsiFrame]] | None = None,
    ) -> None:
        """Frames up to and including ``end_s``: the simulator's (those ``keep`` accepts),
        then ``extra(t)`` half a frame period later, after the tick."""
        while self.step <= round(end_s * FRAME_HZ):
            t = self.step / FRAME_HZ
            for _, data in self.sim.frames_at(t):
                frame = parse_csi_frame(data)
                if keep(frame):
                    self.service._on_frame(frame, t)
            if self.step % TICKS_PER_FRAME_STEP == 0:
                self.ticks.append((t, self.service.tick(t)))
            if extra is not None:
                for frame in extra(t):
                    self.service._on_frame(frame, t + 0.5 / FRAME_HZ)
            self.step += 1

    def kinds(self) -> list[str]:
        return [r.kind for r in self.records]


def make_service(bus: EventBus, **options: Any) -> SensingService:
    return SensingService(
        options.pop("room", ROOM),
        bus=bus,
        clock=SimulatedClock(),
        install_secret=SECRET,
        port=0,
        run_thread=False,
        **options,
    )


def check_explanation(shares: list[dict[str, Any]]) -> None:
    """A stored explanation: real node pairs, shares of a whole, Fresnel zones."""
    assert shares, "a shown blob is explained by at least one link"
    assert sum(s["share"] for s in shares) == pytest.approx(1.0, abs=2e-3)
    pairs = [tuple(s["link"]) for s in shares]
    assert len(set(pairs)) == len(pairs)
    for share, (a, b) in zip(shares, pairs, strict=True):
        assert {a, b} <= NODE_IDS and a != b
        assert 0.0 < share["share"] <= 1.0
        assert share["zone"] >= 1 and share["activation"] > 0.0
        assert share["ellipsoid"]["semi_major_m"] > share["ellipsoid"]["semi_minor_m"] > 0.0


# ------------------------------------------------------------------------ tick level


def test_a_walker_is_found_followed_and_let_go() -> None:
    bus = EventBus()
    service = make_service(bus, first_blob_id=41)
    length = walk_length(ZIGZAG)
    leave_s = ENTER_S + length / 1.0
    visit = Visit(ScriptedWalker(ZIGZAG, 1.0), ENTER_S, leave_s)
    driver = TickDriver(service, simulator(ROOM, [visit]), bus)

    driver.run_until(ENTER_S + 3.0)
    mid_walk = service.snapshot()
    assert mid_walk is not None and [b.track_id for b in mid_walk.blobs] == [41]
    explanation = service.explain(41)
    assert isinstance(explanation, BlobExplanation)
    assert explanation.track_id == 41 and explanation.position == mid_walk.blobs[0].position
    assert sum(s.share for s in explanation.shares) == pytest.approx(1.0, abs=1e-6)
    assert service.explain(40) is None
    driver.run_until(leave_s + COAST_S + 2.0)

    # Every tick published its snapshot on the bus.
    assert driver.published == [snapshot for _, snapshot in driver.ticks]
    assert not any(s.blobs for t, s in driver.ticks if t < ENTER_S), "a blob in an empty room"
    shown = [(t, s) for t, s in driver.ticks if s.blobs]
    first_s, first = shown[0]
    assert first_s - ENTER_S <= 1.0, f"first blob {first_s - ENTER_S:.1f} s after entering"
    assert floor_distance(first.blobs[0].position, visit.position_at(first_s)) <= 1.0
    assert {b.track_id for _, s in shown for b in s.blobs} == {41}, "one walker, one id"

    errors = []
    for t, snapshot in driver.ticks:
        if visit.inside(t):
            truth = visit.position_at(t)
            errors.append(
                min((floor_distance(b.position, truth) for b in snapshot.blobs), default=math.inf)
            )
    assert np.median(errors) < 1.0, f"median error {np.median(errors):.2f} m"
    assert np.mean(np.asarray(errors) <= 1.0) >= 0.75
    assert np.mean(np.isfinite(errors)) >= 0.9, "the blob is shown while the walker walks"

    # Once the walker has gone, the blob coasts for 3 s and ends.
    detected = [t for t, s in driver.ticks if any(not b.coasting for b in s.blobs)]
    gone_s = next(t for t, s in driver.ticks if t > detected[-1] and not s.blobs)
    assert detected[-1] < leave_s + 1.0
    assert COAST_S - TICK_S <= gone_s - detected[-1] <= COAST_S + TICK_S + 1e-6
    assert service.explain(41) is None

    assert driver.kinds() == ["sensing.blob_appeared", "sensing.blob_left"]
    appeared, left = driver.records
    assert appeared.blob_id == left.blob_id == 41
    assert appeared.detail["blob"] == 41 and appeared.room == "sim"
    assert appeared.record().source == "sensing:sim" and appeared.record().track_id == 41
    check_explanation(appeared.detail["explanation"])
    check_explanation(left.detail["explanation"])
    assert length <= left.detail["duration_s"] <= gone_s - ENTER_S + 1e-6
    # The blob's path: at least most of the walk (it followed the walker), and not wildly
    # more (it coasts 3 s and its positions jitter within the Fresnel-zone plateaus).
    assert 0.8 * length <= left.detail["path_m"] <= 2.0 * length
    assert len(left.detail["position"]) == 3


def test_blob_ids_number_on_from_the_first_id_given() -> None:
    bus = EventBus()
    service = make_service(bus, first_blob_id=1000)
    first = Visit(ScriptedWalker([(1.0, 0.6), (4.4, 1.0)], 1.0), ENTER_S, ENTER_S + 3.0)
    second = Visit(ScriptedWalker([(4.4, 4.0), (1.0, 4.4)], 1.0), 12.0, 15.0)
    driver = TickDriver(service, simulator(ROOM, [first, second]), bus)
    driver.run_until(ENTER_S + 2.0)
    snapshot = service.snapshot()
    assert snapshot is not None and [b.track_id for b in snapshot.blobs] == [1000]
    driver.run_until(16.0)  # the second visitor has been sensed for 3 s: history
    appeared = [r for r in driver.records if r.kind == "sensing.blob_appeared"]
    assert [r.blob_id for r in appeared][:1] == [1000]
    assert len(appeared) >= 2, "the second visitor is a new blob"
    assert appeared[-1].blob_id is not None and appeared[-1].blob_id > 1000
    assert [r.detail["blob"] for r in appeared] == [r.blob_id for r in appeared]


def test_a_blob_becomes_history_only_once_it_has_lasted() -> None:
    # A visitor sensed for under BLOB_HISTORY_S leaves no rows; one sensed longer has its
    # appearance stamped when it appeared, and its leaving.
    bus = EventBus()
    service = make_service(bus)
    brief = Visit(ScriptedWalker([(1.0, 0.6), (2.0, 1.0)], 1.0), ENTER_S, ENTER_S + 1.5)
    driver = TickDriver(service, simulator(ROOM, [brief]), bus)
    driver.run_until(ENTER_S + 8.0)
    shown = [b.track_id for _t, s in driver.ticks for b in s.blobs]
    assert shown, "the brief visitor was shown"
    assert [r for r in driver.records if r.kind.startswith("sensing.blob_")] == []

    bus = EventBus()
    service = make_service(bus)
    stay = Visit(ScriptedWalker([(1.0, 0.6), (4.4, 1.0)], 0.5), ENTER_S, ENTER_S + 6.0)
    driver = TickDriver(service, simulator(ROOM, [stay]), bus)
    driver.run_until(ENTER_S + 12.0)
    appeared = [r for r in driver.records if r.kind == "sensing.blob_appeared"]
    left = [r for r in driver.records if r.kind == "sensing.blob_left"]
    assert len(appeared) == 1 and len(left) == 1
    assert left[0].detail["duration_s"] >= BLOB_HISTORY_S
    # Stamped when it appeared: the two rows are its whole duration apart.
    apart = (left[0].at - appeared[0].at).total_seconds()
    assert apart == pytest.approx(left[0].detail["duration_s"], abs=0.15)


def test_an_offline_node_stops_contributing_on_the_next_tick() -> None:
    bus = EventBus()
    service = make_service(bus)
    # The walker stands where the corner-to-corner links cross; sim-2–sim-4 sees them.
    visit = Visit(ScriptedWalker([(1.0, 0.6), (2.5, 2.5)], 1.0), ENTER_S)
    driver = TickDriver(service, simulator(ROOM, [visit]), bus)
    driver.run_until(ENTER_S + 5.0)

    def links(snapshot: SensingSnapshot) -> dict[frozenset[str], Any]:
        return {frozenset((link.node_a, link.node_b)): link for link in snapshot.links}

    watched = frozenset(("sim-2", "sim-4"))
    recent = [links(s)[watched] for t, s in driver.ticks if t >= ENTER_S + 4.0]
    assert all(link.motion and link.activation > 0.1 for link in recent), "standing in it"
    last = driver.ticks[-1][1]
    assert last.blobs and not last.blobs[0].coasting

    offline = MAC["sim-4"]
    service._on_node_event(NODE_OFFLINE, offline, {"reason": "no frames for 10 s"})
    # An offline node sends nothing, and nobody measures its packets any more.
    driver.run_until(ENTER_S + 5.0 + TICK_S, keep=lambda f: offline not in (f.node_mac, f.peer_mac))
    after = driver.ticks[-1][1]
    for key, link in links(after).items():
        if "sim-4" in key:
            assert (link.activation, link.motion) == (0.0, False), sorted(key)
    # The fusion no longer sees the walker either: the blob coasts.
    assert after.blobs and all(b.coasting for b in after.blobs)
    (record,) = [r for r in driver.records if r.kind == "sensing.node_offline"]
    assert record.detail["node"] == "sim-4" and record.detail["mac"] == offline
    assert record.detail["links_dropped"] == 3
    assert record.detail["reason"] == "no frames for 10 s"
    assert record.blob_id is None and record.record().source == "sensing:sim"


def test_zero_and_empty_frames_between_real_ones_do_not_break_a_tick() -> None:
    bus = EventBus()
    service = make_service(bus)
    leave_s = ENTER_S + walk_length(ZIGZAG)
    visit = Visit(ScriptedWalker(ZIGZAG, 1.0), ENTER_S, leave_s)
    sim = simulator(ROOM, [visit])
    pairs = [(rx, tx) for tx, rx in sim.directed_pairs]  # the receiving end reports
    extra_frames = 0

    def nothing_frames(t_s: float) -> list[CsiFrame]:
        nonlocal extra_frames
        frames = []
        for node, peer in pairs:
            for iq in (np.zeros((64, 2), np.int8), np.zeros((0, 2), np.int8)):
                data = encode_csi_frame(
                    node_mac=node,
                    peer_mac=peer,
                    timestamp_us=int(t_s * 1e6),
                    rssi_dbm=-60,
                    noise_dbm=-95,
                    channel=6,
                    iq=iq,
                )
                frames.append(parse_csi_frame(data))
        extra_frames += len(frames)
        return frames

    driver = TickDriver(service, sim, bus)
    driver.run_until(leave_s, extra=nothing_frames)
    # A tick may also see no frames at all, or nothing but such frames.
    t = driver.step / FRAME_HZ + TICK_S
    service.tick(t)
    for frame in nothing_frames(t + 0.05):
        service._on_frame(frame, t + 0.05)
    snapshot = service.tick(t + TICK_S)

    errors = [
        min((floor_distance(b.position, visit.position_at(t)) for b in s.blobs), default=math.inf)
        for t, s in driver.ticks
        if visit.inside(t)
    ]
    assert np.median(errors) < 1.0, f"median error {np.median(errors):.2f} m"
    assert not any(link.degraded for link in snapshot.links)
    report = service.report()
    real = len(sim.directed_pairs) * driver.step
    assert report["frames_processed"] == real + extra_frames
    assert report["ticks"] == len(driver.ticks) + 2
    assert [r.kind for r in driver.records].count("sensing.blob_appeared") >= 1


def test_frames_of_a_node_the_site_does_not_place_are_counted_and_ignored() -> None:
    bus = EventBus()
    service = make_service(bus)
    stranger = SimNode("24:6F:28:00:00:0A", (2.5, 0.1, 1.0))
    other = SimNode("24:6F:28:00:00:0B", (2.5, 4.9, 1.0))
    walker = Visit(ScriptedWalker([(1.0, 2.5), (4.0, 2.5)], 1.0), 3.0)
    sim = Simulator(Room(*SIZE), [stranger, other], [walker], seed=1)
    driver = TickDriver(service, sim, bus)
    driver.run_until(6.0)
    snapshot = service.snapshot()
    assert snapshot is not None and not snapshot.blobs
    assert {frozenset((link.node_a, link.node_b)) for link in snapshot.links} == {
        frozenset((a, b)) for a in NODE_IDS for b in NODE_IDS if a < b
    }
    assert all(link.activation == 0.0 for link in snapshot.links)
    report = service.report()
    sent = len(sim.directed_pairs) * driver.step
    assert report["frames_processed"] == sent
    # The module doc: "Frames of nodes with no position are counted and ignored."
    assert report["frames_without_position"] == sent


def test_the_name_stays_with_the_walker_when_their_track_loses_them() -> None:
    """Seed 9 of the identity benchmark: 7 s in, the named track stays on a place that
    explained the walker's links until they walked on, and a new track starts where they
    really are. The named track continues there, so the name is never on a ghost; before,
    the ghost kept "Walker 1" 1.5–3 m from them for 5.1 s."""
    room = simulated_room(SIZE, 4)
    bus = EventBus()
    records: list[SensingRecord] = []
    bus.subscribe(SensingRecord, records.append)
    service = make_service(bus, room=room)
    walker_room = Room(*SIZE)
    address = sim_ble_address(1)
    sim = Simulator(
        walker_room,
        [SimNode(n.mac or "", n.position, n.node_id) for n in room.nodes],
        [EnteringWalker(w, 5.0) for w in random_walkers(walker_room, 1, 9)],
        rate_hz=FRAME_HZ,
        seed=9,
        ble_devices=[address],
    )
    service.set_ble_registry([KnownDevice(address, "tag", walker_name(0), None, "#FFFFFF")])
    macs = [n.mac or "" for n in room.nodes]
    every = 5.0
    next_report = {mac: every * (i + 1) / len(macs) for i, mac in enumerate(macs)}
    scorer = IdentityScorer(1)
    for step in range(round(25.0 * FRAME_HZ)):
        t = step / FRAME_HZ
        for _, data in sim.frames_at(t):
            service._on_frame(parse_csi_frame(data), t)
        for mac in macs:
            if t >= next_report[mac]:
                heard = [[d["addr"], d["rssi_dbm"]] for d in sim.ble_report(mac, t)]
                service._on_node_event(NODE_BLE, mac, {"at_s": t, "devices": heard})
                next_report[mac] += every
        if step % TICKS_PER_FRAME_STEP == 0:
            truth = tuple(p for p in (tuple(x) for x in sim.truth(t)) if p != ABSENT)
            scorer.add(dataclasses.replace(service.tick(t), truth=truth))
    summary = scorer.summary()
    assert summary["time_to_name_s"][walker_name(0)] is not None
    assert summary["longest_wrong_name_s"] <= 2.0, summary
    # Named once: by its identification, or in its appearance when the device named it
    # before it became history.
    named = [
        r.detail["name"]
        for r in records
        if r.kind == "sensing.blob_identified"
        or (r.kind == "sensing.blob_appeared" and r.detail.get("name"))
    ]
    assert named == [walker_name(0)], "named once, and the name went on with the walker"


@pytest.mark.parametrize("seed", [9103, 9104])
def test_two_people_apart_are_each_followed_by_their_own_track(seed: int) -> None:
    """Two walkers in the 12 × 9 m room on its advised ten-node layout, 30 s: while they are
    more than 1.5 m apart, each has a shown blob within 1 m of them at least 82 % of the time,
    and no more than two ID switches. Before, a track the fused grid lost for a tick (its
    person explained too little of the links' energy beside the other) coasted on its
    prediction and drifted off: 75 % and 72 % of the time, 4 and 5 switches; now its
    person is fitted from the prediction together with the other (94 % and 86 %, 0 and 2)."""
    size = (12.0, 9.0, 3.0)
    room = advised_room(size, 10)
    bus = EventBus()
    service = make_service(bus, room=room)
    plan = SimulationPlan(
        room=size,
        nodes=tuple((n.mac or "", n.position, n.node_id) for n in room.nodes),
        walkers=2,
        seed=seed,
        enter_after_s=4.0,
        rate_hz=FRAME_HZ,
        channel=room.channel,
        node_tokens=(),
    )
    walkers = plan.posed(random_walkers(Room(*size), 2, seed))
    service._simulation = RoomSimulation(
        tuple(EnteringWalker(w, 4.0) for w in walkers), origin_s=0.0
    )
    driver = TickDriver(service, plan.build(), bus)
    driver.run_until(34.0)
    scorer = Scorer(2)
    for _, snapshot in driver.ticks:
        if snapshot is not None:
            scorer.add(snapshot)
    summary = scorer.summary()
    assert summary["tracked_when_apart"] >= 0.82, summary
    assert summary["id_switches"] <= 2, summary


def test_two_people_walking_a_metre_apart_keep_a_blob_each_where_a_camera_sees_them() -> None:
    """Two walkers side by side, 1 m apart, up and down an 8 × 6 m room on its advised
    eight-node layout, 30 s. Where a camera places them (PeopleSeenInRoom, its feet 0.1 m
    off), each has a blob of their own within 0.7 m nearly all the time, with one id each
    (99.8 % of walker-ticks); the links alone make one blob of the two much of the time
    (50.6 %)."""
    size = (8.0, 6.0, 3.0)
    room = advised_room(size, 8)
    walkers = [
        ScriptedWalker([(1.5, 2.5), (6.5, 2.5)], 1.0, loop=True),
        ScriptedWalker([(1.5, 3.5), (6.5, 3.5)], 1.0, loop=True),
    ]
    enter_s = 4.0

    def follow(camera: bool) -> tuple[float, int, float]:
        bus = EventBus()
        service = make_service(bus, room=room)
        sim = Simulator(
            Room(*size),
            [SimNode(n.mac or "", n.position, n.node_id) for n in room.nodes],
            [EnteringWalker(w, enter_s) for w in walkers],
            rate_hz=FRAME_HZ,
            seed=5,
        )
        noise = np.random.default_rng(5)
        tracked = judged = seen = 0
        ids: list[set[int]] = [set(), set()]
        for step in range(round(34.0 * FRAME_HZ) + 1):
            t = step / FRAME_HZ
            for _, data in sim.frames_at(t):
                service._on_frame(parse_csi_frame(data), t)
            if step % TICKS_PER_FRAME_STEP:
                continue
            truth = [w.position_at(t - enter_s) for w in walkers]
            if camera and t >= enter_s:
                at = datetime.fromtimestamp(service._wall_anchor_s + t, UTC)
                places = tuple(
                    (i + 1, *(np.asarray(p[:2]) + noise.normal(0.0, 0.1, 2)))
                    for i, p in enumerate(truth)
                )
                bus.publish(
                    PeopleSeenInRoom(
                        at=at, room=room.room_id, camera="c", camera_name="Lobby", places=places
                    )
                )
            snapshot = service.tick(t)
            if t < enter_s + 4.0 or snapshot is None:
                continue
            blobs = [b for b in snapshot.blobs if not b.coasting]
            for i, place in enumerate(truth):
                judged += 1
                mine = [b for b in blobs if floor_distance(b.position, place) <= 0.7]
                if mine:
                    tracked += 1
                    blob = min(mine, key=lambda b: floor_distance(b.position, place))
                    ids[i].add(blob.track_id)
                    seen += blob.seen_by == "Lobby"  # the camera placed them (the tooltip)
        return tracked / judged, max(len(i) for i in ids), seen / max(tracked, 1)

    with_camera = follow(camera=True)
    assert with_camera[0] >= 0.9 and with_camera[1] == 1, with_camera
    assert with_camera[2] >= 0.9, with_camera
    links_only = follow(camera=False)
    assert links_only[0] < with_camera[0] - 0.2, (links_only, with_camera)
    assert links_only[2] == 0.0


# ------------------------------------------------------------------------------- live


def sensing_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.is_alive() and t.name.startswith("sensing")]


@pytest.fixture
def running() -> Iterator[list[SensingService | NodeSimulation]]:
    """Whatever a test starts, stopped at its end (simulations first), leaving no thread."""
    started: list[SensingService | NodeSimulation] = []
    yield started
    for item in sorted(started, key=lambda i: isinstance(i, SensingService)):
        item.stop()
        if isinstance(item, NodeSimulation):
            item.wait(5.0)
    assert not sensing_threads(), f"sensing threads outlived stop(): {sensing_threads()}"


def test_the_sensing_thread_ticks_on_the_engine_clock(
    running: list[SensingService | NodeSimulation],
) -> None:
    # Its ten ticks a second are the clock's: held still, no tick however long real time
    # runs; moved on, one tick per tenth of a second at once.
    bus = EventBus()
    ticks: list[float] = []
    bus.subscribe(SensingUpdated, lambda event: ticks.append(event.snapshot.t_s))
    clock = SimulatedClock()
    service = SensingService(ROOM, bus=bus, clock=clock, install_secret=SECRET, port=0)
    running.append(service)
    service.start()
    assert clock.wait_for_waiters(1, 30.0)  # ticked at once, then waits for the next tick
    threading.Event().wait(0.3)  # real time passes
    assert ticks == [0.0]
    for _ in range(3):
        clock.advance(TICK_S)
        assert clock.wait_for_waiters(1, 30.0)
    assert ticks == pytest.approx([0.0, TICK_S, 2 * TICK_S, 3 * TICK_S])
    service.stop()


def test_live_nodes_join_over_websocket_and_the_site_position_wins(
    running: list[SensingService | NodeSimulation],
) -> None:
    site_c, hello_c = (4.9, 4.9, 0.8), (4.0, 4.5, 1.2)
    listed = [
        NodeSpec("a", "Node A", (0.1, 0.1, 0.8), "24:6F:28:00:00:01"),
        NodeSpec("b", "Node B", (4.9, 0.1, 1.3), "24:6F:28:00:00:02"),
        NodeSpec("c", "Node C", site_c, "24:6F:28:00:00:03"),
    ]
    unlisted_mac, unlisted_position = "24:6F:28:00:00:04", (0.1, 4.9, 1.3)
    room = RoomSpec("lab", "Lab", SIZE, tuple(listed))
    bus = EventBus()
    records: list[SensingRecord] = []
    bus.subscribe(SensingRecord, records.append)
    clock = SimulatedClock()  # real WebSockets, simulated time (stepping.py)
    service = SensingService(
        room, bus=bus, clock=clock, install_secret=SECRET, port=0, run_thread=False
    )
    service.start()
    running.append(service)
    assert service.port > 0
    nodes = [
        SimNode(listed[0].mac or "", listed[0].position, "a"),
        SimNode(listed[1].mac or "", listed[1].position, "b"),
        SimNode(listed[2].mac or "", hello_c, "c"),  # its hello says somewhere else
        SimNode(unlisted_mac, unlisted_position, "porch"),
    ]
    sim = Simulator(Room(*SIZE), nodes, seed=5)
    # The listed nodes are an install of old (their tokens derived from the install secret,
    # kept for them); the one the site does not list paired for a token of its own.
    porch_token = service.server.tokens.grant(unlisted_mac)
    simulation = NodeSimulation(
        f"ws://127.0.0.1:{service.port}",
        sim,
        duration_s=None,
        token_for=lambda mac: porch_token if mac == unlisted_mac else node_token(SECRET, mac),
        health_every_s=1.0,
        clock=clock,
    )
    simulation.start()
    running.append(simulation)
    stepped = SteppedRoom(service, clock, nodes=simulation, count=len(nodes))
    stepped.settle()

    def all_online() -> bool:
        # Everything asserted below, not only the snapshot: a listed node's online state in
        # the snapshot is the server's live status, while its sensing.node_online record is
        # made when the fusion thread handles the node's events at the start of a tick; a
        # hello that arrives between the two shows the node online one tick before its
        # record (and before any of its frames or links). Waiting for the snapshot alone let
        # the assertions below run in that tick: the one failure seen (a full run of the
        # suite, no message kept) fits this race, found by reading, not reproduced.
        snapshot = service.snapshot()
        report = service.report()
        return (
            snapshot is not None
            and len(snapshot.nodes) == 4
            and all(n.online for n in snapshot.nodes)
            and all(n["frames_received"] > 0 for n in report["nodes"])
            and len(report["nodes"]) == 4
            and report["links"] == 6
            and len({r.detail["node"] for r in records if r.kind == "sensing.node_online"}) == 4
        )

    assert stepped.run_until(all_online, 8.0), (service.snapshot(), service.report())
    snapshot = service.snapshot()
    assert snapshot is not None and not snapshot.simulated and snapshot.truth == ()
    views = {n.node_id: n for n in snapshot.nodes}
    assert set(views) == {"a", "b", "c", unlisted_mac}
    assert views["c"].position == site_c  # the site file wins over the hello
    assert views["a"].mac == listed[0].mac and views["c"].mac == listed[2].mac
    porch = views[unlisted_mac]
    assert porch.mac == unlisted_mac and porch.position == pytest.approx(unlisted_position)
    assert porch.firmware_version == "watchfloor-sim"
    report = service.report()
    assert report["links"] == 6  # the joined node has links to the three listed ones
    assert {n["mac"]: n["node"] for n in report["nodes"]} == {
        **{n.mac: n.node_id for n in listed},
        unlisted_mac: unlisted_mac,
    }
    assert all(n["frames_received"] > 0 for n in report["nodes"])
    assert {frozenset((link.node_a, link.node_b)) for link in snapshot.links} >= {
        frozenset(("a", unlisted_mac)),
        frozenset(("c", unlisted_mac)),
    }
    online = [r for r in records if r.kind == "sensing.node_online"]
    assert {r.detail["node"] for r in online} == {"a", "b", "c", unlisted_mac}

    simulation.stop()
    assert simulation.wait(5.0) is not None
    service.stop()
    assert not sensing_threads()


@pytest.mark.slow
def test_a_simulated_room_runs_live_and_finds_its_walker(
    running: list[SensingService | NodeSimulation],
) -> None:
    bus = EventBus()
    snapshots: list[SensingSnapshot] = []
    records: list[SensingRecord] = []
    bus.subscribe(SensingUpdated, lambda event: snapshots.append(event.snapshot))
    bus.subscribe(SensingRecord, records.append)
    # Real WebSockets, simulated time: the room runs as fast as the machine goes
    # (tests/engine/sensing/stepping.py), and alike on a busy one.
    clock = SimulatedClock()
    service = SensingService(
        ROOM,
        bus=bus,
        clock=clock,
        install_secret=None,
        port=0,
        run_thread=False,
        simulation=SimulationSpec(walkers=1, seed=3, enter_after_s=2.0),
    )
    room = SteppedRoom(service, clock)
    running.append(service)
    room.start()
    assert service.simulated

    def entered_and_found() -> bool:
        return any(s.blobs for s in list(snapshots))

    room.run_until(entered_and_found, 8.0)
    # Sensed long enough to be history (BLOB_HISTORY_S after it appeared).
    room.run_until(lambda: any(r.kind == "sensing.blob_appeared" for r in list(records)), 8.0)
    # And followed for a while: a track is shown after 1 s of detections, and in this
    # four-corner room its first second or two can sit on a tie more than 1 m off.
    room.run_until(lambda: (service.sim_time(snapshots[-1].t_s) or 0.0) >= 8.0, 8.0)
    service.stop()

    captured = list(snapshots)
    assert np.median(np.diff([s.t_s for s in captured])) == pytest.approx(TICK_S, abs=0.02)
    assert all(s.simulated for s in captured)

    def sim_time(snapshot: SensingSnapshot) -> float:
        t = service.sim_time(snapshot.t_s)
        assert t is not None
        return t

    entered = [s for s in captured if sim_time(s) >= 2.0 + 0.2]
    before = [s for s in captured if sim_time(s) < 2.0 - 0.2]
    assert entered and before
    assert all(s.truth == () for s in before), "walkers who have not entered are left out"
    assert all(len(s.truth) == 1 for s in entered)
    assert all(Room(*SIZE).contains(s.truth[0]) for s in entered)
    found = [s for s in captured if s.blobs]
    assert found, "no blob within 6 s of the walker entering"
    assert all(s.truth for s in found)
    assert min(floor_distance(b.position, s.truth[0]) for s in found for b in s.blobs) < 1.0
    report = service.report()
    assert report["simulated"] and report["frames_received"] > 0
    assert report["frames_dropped"] == 0
    # Stopping ends what was live, in the history too: every blob that appeared has left,
    # and every node that came online went offline.
    kinds = [r.kind for r in records]
    appeared = {r.blob_id for r in records if r.kind == "sensing.blob_appeared"}
    left = {r.blob_id: r.detail for r in records if r.kind == "sensing.blob_left"}
    assert appeared and appeared == set(left)
    assert any(d["reason"] == "sensing stopped" for d in left.values())
    assert kinds.count("sensing.node_online") == kinds.count("sensing.node_offline") == 4


@pytest.mark.slow
def test_a_simulated_walker_carrying_a_tag_is_named_over_the_live_path(
    running: list[SensingService | NodeSimulation],
) -> None:
    bus = EventBus()
    snapshots: list[SensingSnapshot] = []
    records: list[SensingRecord] = []
    bus.subscribe(SensingUpdated, lambda event: snapshots.append(event.snapshot))
    bus.subscribe(SensingRecord, records.append)
    clock = SimulatedClock()  # real WebSockets, simulated time (stepping.py)
    service = SensingService(
        ROOM,
        bus=bus,
        clock=clock,
        install_secret=None,
        port=0,
        run_thread=False,
        # Nodes report what they hear every second here (5 s on spaxel firmware), so the
        # test is short.
        simulation=SimulationSpec(walkers=1, seed=3, enter_after_s=2.0, ble=True, ble_every_s=1.0),
    )
    room = SteppedRoom(service, clock)
    running.append(service)
    room.start()

    def named() -> bool:
        return any(b.identity is not None for s in list(snapshots) for b in s.blobs)

    def named_in_history() -> bool:
        return any(
            r.kind in ("sensing.blob_identified", "sensing.blob_appeared") and r.detail.get("name")
            for r in list(records)
        )

    room.run_until(named, 15.0)
    room.run_until(named_in_history, 10.0)
    service.stop()
    blob = next(b for s in snapshots for b in s.blobs if b.identity is not None)
    assert blob.identity is not None and blob.identity.name == "Walker 1"
    assert blob.identity.score >= NAME_SCORE and blob.identity.person_id is None
    # Named in the history: by an identification, or in its appearance when the tag named
    # it before it had lasted long enough to be history.
    identified = [
        r
        for r in records
        if r.kind in ("sensing.blob_identified", "sensing.blob_appeared") and r.detail.get("name")
    ]
    assert identified and identified[0].detail["name"] == "Walker 1"
    # A blob named while shown; the first one named may have ended before it was history.
    named_blobs = {
        b.track_id
        for s in snapshots
        for b in s.blobs
        if b.identity is not None and b.identity.name == "Walker 1"
    }
    assert identified[0].blob_id in named_blobs
    left = [
        r for r in records if r.kind == "sensing.blob_left" and r.blob_id == identified[0].blob_id
    ]
    assert left and left[0].detail["name"] == "Walker 1"


def test_a_node_that_joins_is_in_the_rooms_coverage_from_the_next_tick() -> None:
    """Four nodes at body height see no height, so no fall can be confirmed anywhere; a fifth
    node that joins at skirting height (its hello places it) changes what the layout can see,
    and the room's coverage (the map, the health line, where falls are alerted) says so at once
    instead of keeping the map rated when the room started."""
    size = (5.0, 5.0, 2.5)
    body_height = tuple(
        NodeSpec(f"n{i}", f"Node {i}", position, f"24:6F:28:00:01:0{i}")
        for i, position in enumerate(
            [(2.5, 0.1, 1.0), (4.9, 2.5, 1.0), (2.5, 4.9, 1.0), (0.1, 2.5, 1.0)], start=1
        )
    )
    service = make_service(EventBus(), room=RoomSpec("lab", "Lab", size, body_height))
    before = service.coverage()
    assert before.fall_capable_fraction == 0.0
    assert "falls cannot be confirmed anywhere" in before.health
    service._on_node_event(
        NODE_ONLINE,
        "24:6F:28:00:01:09",
        {"hello_position": [2.5, 0.1, 0.15], "hello_node_id": "skirting"},
    )
    service.tick(0.1)
    after = service.coverage()
    assert after is not before
    assert after.fall_capable_fraction > 0.0
    assert "falls cannot be confirmed anywhere" not in after.health
