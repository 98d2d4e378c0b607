"""The sensing simulator: walkers, the CSI model as the server sees it (frames parsed with
``parse_csi_frame`` and normalised with ``rssi_scale``), determinism, which node reports, and
the node clients against a small WebSocket server started in the test."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from engine.clock import REAL_CLOCK, SimulatedClock
from engine.sensing.grid.fresnel import fresnel_zone_number, wavelength_m
from engine.sensing.nodes.protocol import (
    HealthMessage,
    config_message,
    node_token,
    parse_csi_frame,
    parse_hello,
    parse_node_message,
    reject_message,
    role_message,
)
from engine.sensing.signal import (
    DATA_SUBCARRIERS_HT20,
    GUARD_SUBCARRIERS,
    NULL_SUBCARRIERS,
    SignalChain,
    link_key,
    rssi_scale,
)
from engine.sim.nodes import (
    NodeSimulation,
    RandomWalker,
    Room,
    ScriptedWalker,
    SimNode,
    Simulator,
    node_endpoint,
    perimeter_nodes,
    random_walkers,
    run_nodes,
)
from tests.waiting import wait_until

DATA = list(DATA_SUBCARRIERS_HT20)
SILENT = sorted(NULL_SUBCARRIERS | GUARD_SUBCARRIERS)
SECRET = "install-secret"
ROOM = Room(6.0, 6.0, 2.5)
# A 5 m link across the middle of the room, and one along the wall 2.5 m away from it.
A = SimNode("24:6F:28:00:00:0A", (0.5, 3.0, 1.0), "a")
B = SimNode("24:6F:28:00:00:0B", (5.5, 3.0, 1.0), "b")
C = SimNode("24:6F:28:00:00:0C", (0.5, 0.5, 1.0), "c")
D = SimNode("24:6F:28:00:00:0D", (5.5, 0.5, 1.0), "d")
NODES = [A, B, C, D]


def normalised_amplitude(frame: bytes) -> np.ndarray:
    """What the server computes: |I + jQ| · 10^((−30 − RSSI)/20), on all 64 columns."""
    parsed = parse_csi_frame(frame)
    return np.abs(parsed.complex_iq()).astype(np.float64) * rssi_scale(parsed.rssi_dbm)


def link_amplitudes(sim: Simulator, node: str, peer: str, times: np.ndarray) -> np.ndarray:
    """Normalised data-subcarrier amplitudes of the frames ``node`` reports about ``peer``,
    one row per time (shape (times, 46))."""
    rows = []
    for t in times:
        frames = {
            parse_csi_frame(frame).peer_mac: frame for frame in sim.frames_for(node, float(t))
        }
        rows.append(normalised_amplitude(frames[peer])[DATA])
    return np.array(rows)


# ------------------------------------------------------------------------------- walkers


def test_random_walkers_stay_in_the_room_at_walking_speed() -> None:
    room = Room(5.0, 4.0, 2.5)
    times = np.arange(0.0, 180.0, 0.05)
    for walker in random_walkers(room, 3, seed=11):
        positions = np.array([walker.position_at(t) for t in times])
        speeds = np.array([math.hypot(*walker.velocity_at(t)[:2]) for t in times])
        assert positions[:, 0].min() >= 0.3 - 1e-9 and positions[:, 0].max() <= 4.7 + 1e-9
        assert positions[:, 1].min() >= 0.3 - 1e-9 and positions[:, 1].max() <= 3.7 + 1e-9
        assert np.all(positions[:, 2] == 1.0)
        assert speeds.min() >= 0.8 and speeds.max() <= 1.2
        # Position differences agree with the speeds (corners cut a little, never faster).
        stepped = np.hypot(*np.diff(positions[:, :2], axis=0).T) / 0.05
        assert stepped.max() <= 1.2 + 1e-9
        assert np.mean(stepped >= 0.8) > 0.9
        # It walks the room: turns at the walls instead of sticking to one.
        assert np.ptp(positions[:, 0]) > 3.0 and np.ptp(positions[:, 1]) > 2.5
        # Speed is drawn per leg, not fixed.
        assert np.ptp(speeds) > 0.2


def test_random_walk_is_reproducible_and_can_go_back_in_time() -> None:
    first = RandomWalker(ROOM, 5, start=(1.0, 1.0))
    second = RandomWalker(ROOM, 5, start=(1.0, 1.0))
    late = first.position_at(60.0)
    assert first.position_at(1.0) == second.position_at(1.0)
    assert first.position_at(60.0) == late == second.position_at(60.0)
    assert first.position_at(0.0) == (1.0, 1.0, 1.0)
    assert RandomWalker(ROOM, 6, start=(1.0, 1.0)).position_at(5.0) != first.position_at(5.0)
    # A demo runs for weeks: old legs are let go, and asking for them says so.
    first.position_at(4 * 3600.0)  # about 7,000 legs
    with pytest.raises(ValueError, match="older than the walk kept"):
        first.position_at(1.0)
    with pytest.raises(ValueError, match="closer than"):
        RandomWalker(ROOM, 5, start=(0.1, 3.0))


def test_scripted_walker_walks_its_waypoints_then_stands() -> None:
    walker = ScriptedWalker([(1.0, 1.0), (4.0, 1.0), (4.0, 5.0)], 1.0)
    assert walker.position_at(0.0) == (1.0, 1.0, 1.0)
    assert walker.position_at(1.5) == pytest.approx((2.5, 1.0, 1.0))
    assert walker.position_at(5.0) == pytest.approx((4.0, 3.0, 1.0))
    assert walker.velocity_at(5.0) == pytest.approx((0.0, 1.0, 0.0))
    assert walker.position_at(100.0) == pytest.approx((4.0, 5.0, 1.0))
    assert walker.velocity_at(100.0) == (0.0, 0.0, 0.0)
    looping = ScriptedWalker([(1.0, 1.0), (4.0, 1.0)], 2.0, loop=True)
    assert looping.position_at(3.0) == pytest.approx((1.0, 1.0, 1.0))  # 6 m: there and back
    with pytest.raises(ValueError, match="outside the room"):
        Simulator(ROOM, NODES, [ScriptedWalker([(1.0, 1.0), (7.0, 1.0)], 1.0)])


def test_truth_is_the_walkers_positions() -> None:
    walkers = [ScriptedWalker([(2.0, 2.0)], 1.0), ScriptedWalker([(1.0, 4.0), (5.0, 4.0)], 1.0)]
    sim = Simulator(ROOM, NODES, walkers)
    assert sim.truth(2.0) == pytest.approx(np.array([[2.0, 2.0, 1.0], [3.0, 4.0, 1.0]]))
    assert Simulator(ROOM, NODES).truth(2.0).shape == (0, 3)


# ------------------------------------------------------------------------------- frames


def test_frames_parse_as_a_node_sends_them() -> None:
    sim = Simulator(ROOM, NODES, random_walkers(ROOM, 2, seed=3), seed=4, channel=11)
    frames = sim.frames_at(1.0)
    assert len(frames) == 12 == len(sim.directed_pairs)
    for (sender, frame), (tx, rx) in zip(frames, sim.directed_pairs, strict=True):
        parsed = parse_csi_frame(frame)
        assert len(frame) == 152 and parsed.n_sub == 64
        assert parsed.channel == 11 and parsed.noise_dbm == -95
        assert (parsed.node_mac, parsed.peer_mac) == (sender, tx) and sender == rx
        assert parsed.rssi_dbm is not None and -75 <= parsed.rssi_dbm <= -25
        assert not parsed.iq[SILENT].any()  # null and guard subcarriers report 0
        peak = int(np.abs(parsed.iq.astype(np.int64)).max())
        assert peak == 0 or 60 <= peak <= 100  # the AGC's working range (zero frames aside)


def test_rssi_reads_the_link_budget_and_the_servers_normalisation_undoes_the_agc() -> None:
    near = SimNode("24:6F:28:00:00:01", (2.5, 3.0, 1.0))
    far = SimNode("24:6F:28:00:00:02", (5.5, 5.5, 2.0))
    walker = ScriptedWalker([(2.0, 1.0), (4.0, 4.0)], 1.0)
    sim = Simulator(ROOM, [A, near, far], [walker], snr_db=None, zero_fraction=0.0)
    lam = wavelength_m(6)
    for t in (0.0, 0.7, 1.9, 3.2):
        channel = sim.channel_at(t)
        for (_, frame), expected in zip(sim.frames_at(t), channel, strict=True):
            # Up to int8 rounding (half a step on I and on Q), the server gets |x| back.
            step = rssi_scale(parse_csi_frame(frame).rssi_dbm)
            assert np.abs(normalised_amplitude(frame) - np.abs(expected)).max() <= 0.75 * step
    # Empty-room RSSI: 20 dBm − 10 dB system loss − free-space loss, within the wall
    # reflection's and the AGC step's reach.
    empty = Simulator(ROOM, [A, near, far], zero_fraction=0.0)
    rssi = {
        (parse_csi_frame(f).node_mac, parse_csi_frame(f).peer_mac): parse_csi_frame(f).rssi_dbm
        for _, f in empty.frames_at(0.0)
    }
    for node in (near, far):
        budget = 10.0 - 20.0 * math.log10(4 * math.pi * math.dist(A.position, node.position) / lam)
        assert rssi[(node.mac, A.mac)] == pytest.approx(budget, abs=6.0)
    assert rssi[(far.mac, A.mac)] < rssi[(near.mac, A.mac)] - 8


def test_same_seed_same_frames_whenever_asked() -> None:
    def build(seed: int) -> Simulator:
        return Simulator(ROOM, NODES, random_walkers(ROOM, 2, seed=9), seed=seed)

    first, second = build(1), build(1)
    times = [0.0, 0.05, 3.25, 0.1]  # out of order on purpose
    assert [first.frames_at(t) for t in times] == [second.frames_at(t) for t in times]
    assert first.frames_at(0.05) == second.frames_at(0.05)
    assert build(2).frames_at(0.05) != first.frames_at(0.05)
    # A node's frames are its part of frames_at, the same bytes.
    for node in NODES:
        mine = [frame for sender, frame in first.frames_at(0.5) if sender == node.mac]
        assert first.frames_for(node.mac, 0.5) == mine


def test_timestamps_follow_each_nodes_own_clock() -> None:
    sim = Simulator(ROOM, NODES, zero_fraction=0.0)
    stamps = {
        t: {
            parse_csi_frame(f).node_mac: parse_csi_frame(f).timestamp_us
            for _, f in sim.frames_at(t)
        }
        for t in (10.0, 10.05)
    }
    for node in NODES:
        step = stamps[10.05][node.mac] - stamps[10.0][node.mac]
        assert step == pytest.approx(50_000, abs=2)  # 20 ppm of 50 ms is 1 µs
        assert stamps[10.0][node.mac] == sim.node_clock_us(node.mac, 10.0)
    starts = sorted(stamps[10.0].values())
    assert min(np.diff(starts)) > 1000  # unsynchronised: boot offsets differ


def test_reporter_rx_or_tx_decides_which_node_sends_and_names_itself() -> None:
    nodes = NODES[:3]
    by_mode = {mode: Simulator(ROOM, nodes, reporter=mode, seed=5) for mode in ("rx", "tx")}
    for mode, sim in by_mode.items():
        for (sender, frame), (tx, rx) in zip(sim.frames_at(0.0), sim.directed_pairs, strict=True):
            parsed = parse_csi_frame(frame)
            reporter, other = (rx, tx) if mode == "rx" else (tx, rx)
            assert sender == parsed.node_mac == reporter
            assert parsed.peer_mac == other
    # The measurement of A → B is the same whoever reports it; B → A differs (the radios'
    # front ends are not reciprocal).
    rx_sim, tx_sim = by_mode["rx"], by_mode["tx"]
    forward = rx_sim.directed_pairs.index((A.mac, B.mac))
    assert np.allclose(
        rx_sim.channel_at(0.0)[forward],
        tx_sim.channel_at(0.0)[tx_sim.directed_pairs.index((A.mac, B.mac))],
    )
    backward = rx_sim.directed_pairs.index((B.mac, A.mac))
    ratio = np.abs(rx_sim.channel_at(0.0)[forward, DATA]) / np.abs(
        rx_sim.channel_at(0.0)[backward, DATA]
    )
    assert 0.01 < np.ptp(20 * np.log10(ratio)) < 4.0  # a dB or so of ripple, not a new channel
    with pytest.raises(ValueError, match="reporter"):
        Simulator(ROOM, nodes, reporter="both")  # type: ignore[arg-type]


def test_empty_room_frames_vary_only_by_noise() -> None:
    times = np.arange(0.0, 2.0, 0.05)
    sim = Simulator(ROOM, NODES, snr_db=40.0, zero_fraction=0.0)
    assert np.array_equal(sim.channel_at(0.0), sim.channel_at(7.0))  # nothing moves
    expected = np.abs(sim.channel_at(0.0)[sim.directed_pairs.index((A.mac, B.mac)), DATA])
    amplitudes = link_amplitudes(sim, B.mac, A.mac, times)
    assert np.abs(amplitudes.mean(axis=0) / expected - 1).max() < 0.01
    relative_std = float(np.mean(amplitudes.std(axis=0) / expected))
    # Without noise only int8 rounding is left, and the frames still differ (phase offsets).
    quiet = Simulator(ROOM, NODES, snr_db=None, zero_fraction=0.0)
    rounding = float(np.mean(link_amplitudes(quiet, B.mac, A.mac, times).std(axis=0) / expected))
    assert 0.0 < rounding < 0.006  # about 0.3 LSB on amplitudes of 40–80 LSB
    # The rest is the Gaussian noise: its radial part at 40 dB SNR, added in power.
    noise = 10 ** (-40 / 20) / math.sqrt(2)
    assert relative_std**2 - rounding**2 == pytest.approx(noise**2, rel=0.35)
    assert quiet.frames_for(B.mac, 0.0) != quiet.frames_for(B.mac, 0.05)


def test_walker_on_the_line_of_sight_shadows_that_link_only() -> None:
    times = np.arange(0.0, 0.5, 0.05)  # ten frames, crossing A–B slowly at its midpoint
    walker = ScriptedWalker([(3.0, 2.9), (3.0, 3.1)], 0.2)
    lam = wavelength_m(6)
    assert fresnel_zone_number(A.position, B.position, walker.position_at(0.25), lam) == 1
    far_zones = [
        fresnel_zone_number(C.position, D.position, walker.position_at(t), lam) for t in times
    ]
    assert min(far_zones) > 5
    walking = Simulator(ROOM, NODES, [walker], seed=8, zero_fraction=0.0)
    empty = Simulator(ROOM, NODES, seed=8, zero_fraction=0.0)

    def change(node: SimNode, peer: SimNode) -> float:
        before = link_amplitudes(empty, node.mac, peer.mac, times)
        during = link_amplitudes(walking, node.mac, peer.mac, times)
        return float(np.sqrt(np.mean((during / before - 1) ** 2)))

    shadowed, untouched = change(B, A), change(D, C)
    assert shadowed > 0.3  # the body in antiphase on the line of sight: several dB down
    assert untouched < 0.01  # past zone 5 the walker adds nothing at all
    assert shadowed > 30 * max(untouched, 1e-3)


def test_moving_walker_makes_a_near_link_fluctuate_and_not_a_far_one() -> None:
    times = np.arange(0.0, 1.6, 0.05)
    walker = ScriptedWalker([(2.5, 2.2), (2.5, 3.8)], 1.0)  # through zones 5…1…5 of A–B
    sim = Simulator(ROOM, NODES, [walker], seed=3, zero_fraction=0.0)

    def fluctuation(node: SimNode, peer: SimNode) -> float:
        amplitudes = link_amplitudes(sim, node.mac, peer.mac, times)
        steps = np.diff(amplitudes, axis=0) / amplitudes.mean(axis=0)
        return float(np.sqrt(np.mean(steps**2)))

    near, far = fluctuation(B, A), fluctuation(D, C)
    assert far < 0.02  # noise only
    assert near > 5 * far


def test_signal_chain_sees_motion_only_where_someone_walks() -> None:
    room = Room(5.0, 5.0, 2.5)
    nodes = perimeter_nodes(room, 4)

    def motion_share(walkers: list[RandomWalker]) -> dict[tuple[str, str], float]:
        sim = Simulator(room, nodes, walkers, seed=2)
        chain = SignalChain()
        seen: dict[tuple[str, str], list[bool]] = {}
        for k in range(200):
            t = k / 20
            for _, frame in sim.frames_at(t):
                chain.push(parse_csi_frame(frame), t)
            if k % 2 == 0 and t > 2.5:  # after the chain's warm-up
                for key, state in chain.activations(t).items():
                    seen.setdefault(key, []).append(state.motion)
        return {key: float(np.mean(flags)) for key, flags in seen.items()}

    quiet = motion_share([])
    assert len(quiet) == 6 and max(quiet.values()) == 0.0
    busy = motion_share(random_walkers(room, 1, seed=3))
    assert max(busy.values()) > 0.5
    assert busy[link_key(nodes[0].mac, nodes[1].mac)] > 0.5


def test_zero_frames_come_at_the_configured_fraction() -> None:
    def zero_share(sim: Simulator, ticks: int) -> float:
        zeros = total = 0
        for k in range(ticks):
            for _, frame in sim.frames_at(k / 20):
                parsed = parse_csi_frame(frame)
                zeros += not parsed.iq.any()
                total += 1
                assert parsed.rssi_dbm is not None  # a zero frame still has its header
        return zeros / total

    assert zero_share(Simulator(ROOM, NODES, zero_fraction=0.2), 200) == pytest.approx(
        0.2, abs=0.03
    )
    assert zero_share(Simulator(ROOM, NODES), 400) == pytest.approx(0.02, abs=0.01)
    assert zero_share(Simulator(ROOM, NODES, zero_fraction=0.0), 50) == 0.0


def test_scene_is_checked() -> None:
    with pytest.raises(ValueError, match="outside the room"):
        Simulator(ROOM, [A, SimNode("24:6F:28:00:00:99", (7.0, 1.0, 1.0))])
    with pytest.raises(ValueError, match="distinct"):
        Simulator(ROOM, [A, SimNode(A.mac.lower(), (1.0, 1.0, 1.0))])
    with pytest.raises(ValueError, match="channel"):
        Simulator(ROOM, NODES, channel=15)
    with pytest.raises(ValueError):
        Room(0.0, 1.0, 1.0)
    assert Simulator(ROOM, [A]).frames_at(0.0) == []
    nodes = perimeter_nodes(Room(10.0, 8.0, 3.0), 16)
    assert len({n.mac for n in nodes}) == 16
    assert all(Room(10.0, 8.0, 3.0).contains(n.position) for n in nodes)
    assert "Simulated CSI" in Simulator(ROOM, NODES).model_summary()


def test_node_endpoint() -> None:
    assert node_endpoint("ws://127.0.0.1:8080") == "ws://127.0.0.1:8080/ws/node"
    assert node_endpoint("ws://127.0.0.1:8080/ws/node") == "ws://127.0.0.1:8080/ws/node"
    assert node_endpoint("http://host:9000/") == "ws://host:9000/ws/node"
    with pytest.raises(ValueError):
        node_endpoint("ftp://host")


# ------------------------------------------------------------------------------ clients


@dataclass
class Connection:
    """What the test server saw on one node connection."""

    path: str
    hello: dict[str, Any] | None = None
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    texts: list[dict[str, Any]] = field(default_factory=list)


Greeting = Callable[[ServerConnection, dict[str, Any]], Awaitable[bool]]


class NodeServer:
    """A tiny node server: reads the hello, greets with ``greeting`` (which returns False
    after rejecting), then records everything until the node closes."""

    def __init__(self, greeting: Greeting) -> None:
        self.greeting = greeting
        self.connections: list[Connection] = []

    async def handler(self, websocket: ServerConnection) -> None:
        seen = Connection(websocket.request.path if websocket.request else "")
        self.connections.append(seen)
        seen.hello = json.loads(await websocket.recv())
        if not await self.greeting(websocket, seen.hello):
            return
        async for message in websocket:
            if isinstance(message, bytes):
                seen.frames.append((time.monotonic(), message))
            else:
                seen.texts.append(json.loads(message))

    def by_mac(self) -> dict[str, Connection]:
        return {c.hello["mac"]: c for c in self.connections if c.hello}


def welcome(rate_hz: int, roles: dict[str, str] | None = None) -> Greeting:
    async def greet(websocket: ServerConnection, hello: dict[str, Any]) -> bool:
        role = (roles or {}).get(hello["mac"], "tx_rx")
        await websocket.send(json.dumps(role_message(role)))
        await websocket.send(json.dumps(config_message(rate_hz=rate_hz, tx_slot_us=0)))
        return True

    return greet


async def with_server(server: NodeServer, run: Callable[[str], Awaitable[Any]]) -> Any:
    async with serve(server.handler, "127.0.0.1", 0) as listening:
        port = next(iter(listening.sockets)).getsockname()[1]
        result = await run(f"ws://127.0.0.1:{port}")
        await asyncio.sleep(0.05)  # let the handlers record the last messages
        return result


def tokens(mac: str) -> str | None:
    return None if mac == C.mac else node_token(SECRET, mac)


def test_nodes_say_hello_then_send_frames_at_the_config_rate_and_health() -> None:
    nodes = [A, B, C]
    sim = Simulator(ROOM, nodes, [ScriptedWalker([(3.0, 2.0), (3.0, 4.0)], 1.0)], rate_hz=50)
    server = NodeServer(welcome(rate_hz=10, roles={C.mac: "idle"}))
    duration = 1.2

    report = asyncio.run(
        with_server(
            server,
            lambda url: run_nodes(
                url, sim, duration_s=duration, token_for=tokens, health_every_s=0.3
            ),
        )
    )
    seen = server.by_mac()
    assert set(seen) == {A.mac, B.mac, C.mac}
    for node in nodes:
        connection = seen[node.mac]
        assert connection.path == "/ws/node"
        hello = parse_hello(connection.hello)
        assert hello.position == pytest.approx(node.position)
        assert hello.firmware_version == "watchfloor-sim"
        assert hello.capabilities == ("csi", "ble") and hello.node_id == node.node_id
        assert hello.token == tokens(node.mac)
        health = [parse_node_message(text) for text in connection.texts]
        assert len(health) >= 2
        assert all(isinstance(h, HealthMessage) and h.mac == node.mac for h in health)
        assert report.node(node.mac).health_sent == len(health)
    assert "token" not in seen[C.mac].hello  # token_for said None

    for node, peer in ((A, B), (B, A)):  # at the config's 10 Hz, not the simulator's 50
        frames = seen[node.mac].frames
        ticks = len(frames)  # one peer: C is idle, so nobody measures it and it measures none
        assert 10 * duration - 3 <= ticks <= 10 * duration + 1
        assert report.frames_by_node[node.mac] == len(frames)
        parsed = [parse_csi_frame(frame) for _, frame in frames]
        assert {(p.node_mac, p.peer_mac) for p in parsed} == {(node.mac, peer.mac)}
        arrivals = [arrival for arrival, _ in frames]
        assert arrivals[-1] - arrivals[0] == pytest.approx((ticks - 1) / 10, abs=0.15)
        stamps = sorted({p.timestamp_us for p in parsed})
        assert np.median(np.diff(stamps)) == pytest.approx(100_000, abs=10)
        assert report.node(node.mac).role == "tx_rx" and report.node(node.mac).rate_hz == 10
    assert seen[C.mac].frames == [] and report.node(C.mac).frames_sent == 0  # idle
    assert report.rejects == {} and all(n.error is None for n in report.nodes)


@pytest.mark.parametrize(("reporter", "sender", "measured"), [("rx", B, A), ("tx", A, B)])
def test_roles_decide_which_links_are_measured_and_who_sends_them(
    reporter: str, sender: SimNode, measured: SimNode
) -> None:
    # A only transmits and B only receives: one link, A → B, whose frames go out on the
    # receiver's connection with reporter "rx" and on the transmitter's with "tx".
    sim = Simulator(ROOM, [A, B], reporter=reporter)  # type: ignore[arg-type]
    server = NodeServer(welcome(rate_hz=20, roles={A.mac: "tx", B.mac: "rx"}))
    report = asyncio.run(
        with_server(server, lambda url: run_nodes(url, sim, duration_s=0.5, token_for=tokens))
    )
    seen = server.by_mac()
    assert report.frames_by_node[measured.mac] == 0 and seen[measured.mac].frames == []
    frames = [parse_csi_frame(frame) for _, frame in seen[sender.mac].frames]
    assert len(frames) >= 4
    assert {(f.node_mac, f.peer_mac) for f in frames} == {(sender.mac, measured.mac)}


def test_a_reject_ends_the_node_and_is_in_the_report() -> None:
    async def refuse(websocket: ServerConnection, hello: dict[str, Any]) -> bool:
        await websocket.send(json.dumps(reject_message("token: does not match")))
        await websocket.close(1008, "rejected")
        return False

    server = NodeServer(refuse)
    sim = Simulator(ROOM, [A, B])
    started = time.monotonic()
    report = asyncio.run(
        with_server(server, lambda url: run_nodes(url, sim, duration_s=30.0, token_for=tokens))
    )
    assert time.monotonic() - started < 5.0  # did not wait out the duration
    assert report.rejects == {A.mac: ("token: does not match",), B.mac: ("token: does not match",)}
    assert report.frames_sent == 0
    assert all(n.error is not None and "token: does not match" in n.error for n in report.nodes)


def test_a_server_that_never_configures_times_out() -> None:
    async def silent(websocket: ServerConnection, hello: dict[str, Any]) -> bool:
        return True

    server = NodeServer(silent)
    sim = Simulator(ROOM, [A, B])
    report = asyncio.run(
        with_server(
            server,
            lambda url: run_nodes(url, sim, duration_s=5.0, token_for=tokens, config_timeout_s=0.3),
        )
    )
    assert report.frames_sent == 0
    assert all("no role and config" in (n.error or "") for n in report.nodes)


@pytest.fixture
def node_server_thread() -> Iterator[tuple[str, NodeServer]]:
    """The test server on an event loop of its own thread, for the blocking client."""
    server = NodeServer(welcome(rate_hz=20))
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    address: list[str] = []

    async def main() -> None:
        async with serve(server.handler, "127.0.0.1", 0) as listening:
            address.append(f"ws://127.0.0.1:{next(iter(listening.sockets)).getsockname()[1]}")
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(5.0)
    yield address[0], server
    loop.call_soon_threadsafe(stop.set)
    thread.join(5.0)
    loop.close()
    assert not thread.is_alive()


def test_node_simulation_runs_on_its_own_thread_until_stopped(
    node_server_thread: tuple[str, NodeServer],
) -> None:
    url, server = node_server_thread
    sim = Simulator(ROOM, [A, B], random_walkers(ROOM, 1, seed=1))
    run = NodeSimulation(url, sim, duration_s=None, token_for=tokens)
    run.start()
    deadline = time.monotonic() + 5.0
    while sum(len(c.frames) for c in server.connections) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.running and run.wait(0.0) is None
    run.stop()
    report = run.wait(5.0)
    assert report is not None and not run.running
    assert report.frames_sent >= 10 and all(n.error is None for n in report.nodes)
    assert not any(t.name == "sensing-sim" and t.is_alive() for t in threading.enumerate())


def test_on_the_machines_clock_nodes_wait_on_their_event_loop_without_a_thread_per_tick(
    node_server_thread: tuple[str, NodeServer],
) -> None:
    """Before: an engine's simulated room (given the engine's real clock) handed every node's
    every tick to a thread of its own to wait in, which cost more CPU than the frames."""
    url, _ = node_server_thread
    sim = Simulator(ROOM, [A, B], random_walkers(ROOM, 1, seed=1))
    run = NodeSimulation(url, sim, duration_s=None, token_for=tokens, clock=REAL_CLOCK)
    run.start()
    try:
        assert wait_until(lambda: run.frames_sent >= 10, 30.0)
        names = [t.name for t in threading.enumerate()]
        assert "sensing-sim" in names
        assert not [n for n in names if n.startswith("sensing-sim-wait")], names
    finally:
        run.stop()
    report = run.wait(30.0)
    assert report is not None and report.frames_sent >= 10
    assert all(n.error is None for n in report.nodes)


def test_on_a_simulated_clock_nodes_send_only_as_time_is_moved_and_exactly_on_the_frame_times(
    node_server_thread: tuple[str, NodeServer],
) -> None:
    # The nodes wait for their next frame on the engine clock: held still, they send
    # nothing, however long real time runs; moved on, they send the frames of the time passed
    # at once, each stamped with its simulated time, as fast as the test moves it.
    url, server = node_server_thread
    clock = SimulatedClock()
    sim = Simulator(ROOM, [A, B], random_walkers(ROOM, 1, seed=1))
    run = NodeSimulation(url, sim, duration_s=None, token_for=tokens, clock=clock)
    run.start()
    try:
        assert clock.wait_for_waiters(2, 30.0)  # both configured, waiting for their first frame
        time.sleep(0.3)  # real time passes: nothing to send on a clock held still
        assert run.frames_sent == 0 and all(c.frames == [] for c in server.connections)
        steps = 0
        while clock.monotonic() < 0.5 - 1e-9:
            step = clock.next_deadline_in()
            assert step is not None and step == pytest.approx(0.05)  # 20 Hz, both on one slot
            clock.advance(step)
            steps += 1
            assert clock.wait_for_waiters(2, 30.0)  # both sent their frame and wait again
        assert steps == 10 and run.frames_sent == 2 * 10  # one link each way, 10 frame times
        assert wait_until(lambda: sum(len(c.frames) for c in server.connections) == 20, 30.0)
        for connection in server.connections:
            stamps = [parse_csi_frame(frame).timestamp_us for _, frame in connection.frames]
            assert np.diff(stamps) == pytest.approx([50_000] * 9, abs=3)  # simulated time
    finally:
        run.stop()
    report = run.wait(30.0)
    assert report is not None and report.frames_sent == 20
    assert all(n.error is None and n.ticks_skipped == 0 for n in report.nodes)
    assert not any(t.name.startswith("sensing-sim") for t in threading.enumerate())
