"""The sensing node server over real WebSockets on loopback: hello, tokens, role and config,
frames to ``on_frame``, bad input counted per node, replacement, offline detection,
keepalive, and provisioning on the same port (issue 9's node protocol)."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from engine.clock import SimulatedClock
from engine.sensing.nodes.admission import (
    PROVISION_WINDOW_S,
    PROVISIONS_PER_ADDRESS,
    PROVISIONS_PER_WINDOW,
    SUMMARY_INTERVAL_S,
)
from engine.sensing.nodes.protocol import CsiFrame, encode_csi_frame
from engine.sensing.nodes.server import (
    FOREIGN_FRAME_LIMIT,
    KEEPALIVE_INTERVAL_S,
    NOT_PROVISIONED,
    SILENCE_TIMEOUT_S,
    THREAD_NAME,
    NodeServer,
    NodeServerError,
    NodeStatus,
)
from engine.sensing.nodes.tokens import NodeTokenBook
from tests.waiting import wait_until

MAC = "24:6F:28:A1:B2:C3"
PEER = "24:6F:28:D4:E5:F6"
OTHER = "24:6F:28:00:00:01"
# Each node's token, as provisioning would have handed them out.
TOKENS = {MAC: "token of C3 " + "x" * 31, PEER: "token of F6 " + "y" * 31, OTHER: "token of 01"}
TOKEN = TOKENS[MAC]
WAIT_S = 3.0  # real seconds a test waits for the server thread to act


class Recorder:
    """What the server handed to its callbacks (called on the server thread)."""

    def __init__(self) -> None:
        self.frames: list[tuple[CsiFrame, float]] = []
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def on_frame(self, frame: CsiFrame, arrival_s: float) -> None:
        self.frames.append((frame, arrival_s))

    def on_event(self, kind: str, mac: str, detail: dict[str, Any]) -> None:
        self.events.append((kind, mac, detail))

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.events]


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_server(clock: SimulatedClock, recorder: Recorder) -> Iterator[Callable[..., NodeServer]]:
    servers: list[NodeServer] = []

    def make(**kwargs: Any) -> NodeServer:
        server = NodeServer(
            tokens=NodeTokenBook(TOKENS),
            clock=clock,
            on_frame=recorder.on_frame,
            on_node_event=recorder.on_event,
            port=0,
            **kwargs,
        )
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    leaked = [t.name for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
    assert not leaked, "the node server thread outlived stop()"


@pytest.fixture
def server(make_server: Callable[..., NodeServer]) -> NodeServer:
    return make_server()


def hello(mac: str = MAC, **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "hello",
        "mac": mac,
        "firmware_version": "1.2.3",
        "capabilities": ["csi", "ble", "tx", "rx"],
        "token": TOKENS.get(mac),
    }
    message.update(fields)
    return {k: v for k, v in message.items() if v is not None}


def open_socket(server: NodeServer, headers: dict[str, str] | None = None) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/node",
        additional_headers=headers,
        open_timeout=WAIT_S,
        close_timeout=1,
        legacy=True,  # a connection we may close by hand (websockets 17's opt-in)
    )


def recv_json(ws: ClientConnection, timeout_s: float = WAIT_S) -> dict[str, Any]:
    message = ws.recv(timeout=timeout_s)
    assert isinstance(message, str), f"expected a JSON text message, got {message!r}"
    decoded: dict[str, Any] = json.loads(message)
    return decoded


def join(server: NodeServer, mac: str = MAC, **fields: Any) -> ClientConnection:
    """A node connected and accepted: hello sent, role and config read."""
    ws = open_socket(server)
    ws.send(json.dumps(hello(mac, **fields)))
    assert recv_json(ws)["type"] == "role"
    assert recv_json(ws)["type"] == "config"
    return ws


def closed_by_server(ws: ClientConnection) -> ConnectionClosed:
    """Read until the server closes; the close it sent."""
    with pytest.raises(ConnectionClosed) as caught:
        while True:
            ws.recv(timeout=WAIT_S)
    return caught.value


def status(server: NodeServer, mac: str = MAC) -> NodeStatus:
    found = server.node(mac)
    assert found is not None, f"{mac} is not in the registry"
    return found


def frame(node: str = MAC, peer: str = PEER, n_sub: int = 64) -> bytes:
    return encode_csi_frame(
        node_mac=node,
        peer_mac=peer,
        timestamp_us=12_345_678,
        rssi_dbm=-52,
        noise_dbm=-95,
        channel=6,
        iq=np.array([[i % 100, -(i % 50)] for i in range(n_sub)], dtype=np.int8).reshape(-1, 2),
    )


def http_request(
    server: NodeServer, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT_S)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


# --- hello, role and config ---------------------------------------------------------------------


def test_an_accepted_hello_gets_its_role_then_the_config(
    make_server: Callable[..., NodeServer], recorder: Recorder
) -> None:
    server = make_server(
        role_for=lambda mac: "rx" if mac == MAC else "tx",
        config={"rate_hz": 10, "tx_slot_us": 500, "variance_threshold": 0.05},
    )
    with open_socket(server) as ws:
        ws.send(json.dumps(hello(node_id="hall-1", chip="ESP32-S3")))
        assert recv_json(ws) == {"type": "role", "role": "rx"}
        assert recv_json(ws) == {
            "type": "config",
            "rate_hz": 10,
            "tx_slot_us": 500,
            "variance_threshold": 0.05,
        }
        node = status(server)
        assert (node.online, node.role, node.node_id, node.chip) == (
            True,
            "rx",
            "hall-1",
            "ESP32-S3",
        )
        assert node.firmware_version == "1.2.3"
        assert node.connected_since is not None
        assert recorder.kinds() == ["node.online"]
        assert recorder.events[0][1] == MAC


def test_the_issue_hello_with_integer_positions_is_accepted(server: NodeServer) -> None:
    # A lower-case MAC (the registry keys by upper case) and all three positions as JSON
    # integers, as the issue allows.
    with open_socket(server) as ws:
        ws.send(
            json.dumps(
                {
                    "type": "hello",
                    "mac": MAC.lower(),
                    "firmware_version": "0.9.0",
                    "capabilities": ["csi"],
                    "token": TOKEN,
                    "pos_x": 1,
                    "pos_y": 4,
                    "pos_z": 0,
                }
            )
        )
        assert recv_json(ws)["type"] == "role"
        assert status(server).position == (1.0, 4.0, 0.0)


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (b"\x01\x02\x03", "not binary"),
        ("this is not json", "bad hello: message: not valid JSON"),
        (json.dumps({"type": "health", "mac": MAC, "timestamp_ms": 1}), "bad hello: type"),
        (json.dumps({k: v for k, v in hello().items() if k != "firmware_version"}), "firmware"),
        (json.dumps(hello(pos_x=1.0)), "pos_y"),
    ],
    ids=["binary", "bad-json", "other-type", "missing-field", "partial-position"],
)
def test_anything_but_a_good_hello_first_is_rejected_and_closed(
    server: NodeServer, recorder: Recorder, first: str | bytes, reason: str
) -> None:
    with open_socket(server) as ws:
        ws.send(first)
        reply = recv_json(ws)
        assert reply["type"] == "reject"
        assert reason in reply["reason"]
        assert closed_by_server(ws).rcvd is not None
    assert server.nodes() == []
    assert recorder.kinds() == ["node.rejected"]


@pytest.mark.parametrize(
    ("token", "reason"),
    [(None, "no token"), ("0" * 64, "wrong token"), (TOKENS[OTHER], "wrong token")],
    ids=["missing", "garbage", "another-node's"],
)
def test_a_missing_or_wrong_token_is_rejected_without_revealing_the_right_one(
    server: NodeServer, recorder: Recorder, token: str | None, reason: str
) -> None:
    with open_socket(server) as ws:
        ws.send(json.dumps(hello(token=None) | ({"token": token} if token else {})))
        reply = recv_json(ws)
        assert reply["type"] == "reject"
        assert reason in reply["reason"]
        assert TOKEN not in reply["reason"]
        closed = closed_by_server(ws)
        assert closed.rcvd is not None and closed.rcvd.code == 1008
    assert server.nodes() == []
    assert recorder.events[-1][:2] == ("node.rejected", MAC)


def test_a_token_in_the_upgrade_header_is_accepted(server: NodeServer) -> None:
    with open_socket(server, headers={"X-Spaxel-Token": TOKEN}) as ws:
        ws.send(json.dumps(hello(token=None)))
        assert recv_json(ws)["type"] == "role"
        assert status(server).online


def test_the_hello_token_wins_over_the_header(server: NodeServer) -> None:
    with open_socket(server, headers={"X-Spaxel-Token": "0" * 64}) as ws:
        ws.send(json.dumps(hello()))  # right token in the hello
        assert recv_json(ws)["type"] == "role"
    with open_socket(server, headers={"X-Spaxel-Token": TOKEN}) as ws:
        ws.send(json.dumps(hello(token="0" * 64)))  # wrong token in the hello
        reply = recv_json(ws)
        assert reply["type"] == "reject" and "wrong token" in reply["reason"]


def test_a_second_connection_from_the_same_mac_replaces_the_first(
    server: NodeServer, recorder: Recorder
) -> None:
    with join(server) as first, join(server) as second:
        closed = closed_by_server(first)
        assert closed.rcvd is not None and "replaced" in closed.rcvd.reason
        assert wait_until(lambda: "node.replaced" in recorder.kinds())
        # The first connection's handler has ended, and left the node to the second.
        assert wait_until(lambda: server.connections == 1)
        assert status(server).online
        assert "node.offline" not in recorder.kinds()
        second.send(frame())
        assert wait_until(lambda: len(recorder.frames) == 1)
        assert status(server).frames_received == 1
    assert wait_until(lambda: not status(server).online)


# --- frames ---------------------------------------------------------------------------------------


def test_valid_frames_reach_on_frame_timed_by_arrival(
    server: NodeServer, clock: SimulatedClock, recorder: Recorder
) -> None:
    with join(server) as ws:
        clock.advance(12.5)
        ws.send(frame())  # this node sent it
        assert wait_until(lambda: len(recorder.frames) == 1)
        clock.advance(0.25)
        ws.send(frame(node=MAC, peer=OTHER, n_sub=0))  # heard from another transmitter
        assert wait_until(lambda: len(recorder.frames) == 2)
    (first, first_s), (second, second_s) = recorder.frames
    assert (first.node_mac, first.peer_mac, first.n_sub, first.rssi_dbm) == (MAC, PEER, 64, -52)
    assert first.timestamp_us == 12_345_678
    assert (first_s, second_s) == (12.5, 12.75)  # arrival on the engine clock, not node time
    assert (second.node_mac, second.peer_mac, second.n_sub) == (MAC, OTHER, 0)
    assert status(server).frames_received == 2


def test_a_frame_another_node_received_is_counted_foreign_and_dropped(
    server: NodeServer, recorder: Recorder
) -> None:
    with join(server) as ws:
        ws.send(frame(node=PEER, peer=OTHER))  # names neither end as this node
        ws.send(frame(node=PEER, peer=MAC))  # names this node only as the transmitter
        ws.send(frame())
        assert wait_until(lambda: len(recorder.frames) == 1)
        assert recorder.frames[0][0].node_mac == MAC
        node = status(server)
        assert (node.foreign_frames, node.frames_received) == (2, 1)


def test_malformed_frames_are_counted_by_kind_and_never_break_the_connection(
    server: NodeServer, recorder: Recorder
) -> None:
    good = frame()
    bad_channel = bytearray(good)
    bad_channel[22] = 0
    too_many = bytearray(good[:24])
    too_many[23] = 200
    with join(server) as ws:
        for bad in (good[:10], good[:-1], bytes(too_many), bytes(bad_channel), good[:5]):
            ws.send(bad)
        ws.send(good)
        assert wait_until(lambda: len(recorder.frames) == 1)
        node = status(server)
        assert dict(node.malformed) == {"short": 2, "length": 1, "n_sub": 1, "channel": 1}
        assert node.malformed_total == 5
        assert node.online


def test_a_thousand_malformed_frames_are_tolerated_but_one_more_closes_with_1008(
    server: NodeServer, recorder: Recorder
) -> None:
    with join(server) as ws:
        for _ in range(1000):
            ws.send(b"\x00" * 10)
        ws.send(frame())
        assert wait_until(lambda: len(recorder.frames) == 1)  # still open after 1,000
        ws.send(b"\x00" * 10)
        closed = closed_by_server(ws)
        assert closed.rcvd is not None and closed.rcvd.code == 1008
        assert "malformed" in closed.rcvd.reason
    assert wait_until(lambda: not status(server).online)
    node = status(server)
    assert node.malformed == {"short": 1001}
    assert node.offline_reason is not None and "malformed" in node.offline_reason


# --- text messages --------------------------------------------------------------------------------


def test_health_ble_and_motion_reports_are_kept_in_the_node_status(server: NodeServer) -> None:
    with join(server) as ws:
        ws.send(
            json.dumps(
                {
                    "type": "health",
                    "mac": MAC,
                    "timestamp_ms": 9000,
                    "free_heap_bytes": 81234,
                    "wifi_rssi_dbm": -58,
                }
            )
        )
        ws.send(
            json.dumps(
                {
                    "type": "ble",
                    "mac": MAC,
                    "timestamp_ms": 9100,
                    "devices": [{"addr": "c0:ff:ee:00:00:01", "rssi_dbm": -70, "name": "tag"}],
                }
            )
        )
        ws.send(
            json.dumps({"type": "motion_hint", "mac": MAC, "timestamp_ms": 9200, "variance": 0.31})
        )
        ws.send(json.dumps({"type": "ota_status", "mac": MAC, "state": "idle"}))
        assert wait_until(lambda: status(server).ota_status is not None)
    node = status(server)
    assert node.health is not None
    assert (node.health.free_heap_bytes, node.health.wifi_rssi_dbm) == (81234, -58)
    assert [(d.addr, d.rssi_dbm, d.name) for d in node.ble_devices] == [
        ("C0:FF:EE:00:00:01", -70, "tag")
    ]
    assert node.motion_variance == 0.31
    assert dict(node.ota_status or {}) == {"state": "idle"}
    assert node.protocol_errors == 0


def test_unknown_message_types_are_counted_and_ignored(
    server: NodeServer, recorder: Recorder
) -> None:
    with join(server) as ws:
        ws.send(json.dumps({"type": "frobnicate", "mac": MAC}))
        ws.send(json.dumps({"type": "calibrate"}))
        ws.send(frame())
        assert wait_until(lambda: len(recorder.frames) == 1)
        node = status(server)
        assert (node.unknown_messages, node.protocol_errors) == (2, 0)


def test_bad_messages_and_another_nodes_mac_are_counted_as_protocol_errors(
    server: NodeServer, recorder: Recorder
) -> None:
    with join(server) as ws:
        ws.send(json.dumps({"type": "health", "mac": OTHER, "timestamp_ms": 1}))
        assert wait_until(lambda: status(server).protocol_errors == 1)
        assert OTHER in (status(server).last_protocol_error or "")
        assert status(server).health is None  # the foreign report was not taken
        ws.send("{not json")
        ws.send(json.dumps({"type": "motion_hint", "mac": MAC, "timestamp_ms": 5}))  # no variance
        ws.send(frame())
        assert wait_until(lambda: len(recorder.frames) == 1)
        node = status(server)
        assert node.protocol_errors == 3
        assert "variance" in (node.last_protocol_error or "")
        assert node.online


# --- online and offline ---------------------------------------------------------------------------


def test_a_disconnected_node_is_offline_at_once(server: NodeServer, recorder: Recorder) -> None:
    ws = join(server)
    assert status(server).online
    ws.close()
    assert wait_until(lambda: not status(server).online, timeout_s=1.0)
    assert recorder.kinds() == ["node.online", "node.offline"]
    _, mac, detail = recorder.events[-1]
    assert mac == MAC and "closed" in detail["reason"]
    assert status(server).offline_reason == detail["reason"]


def test_a_silent_node_goes_offline_within_the_limit_and_back_when_it_speaks(
    server: NodeServer, clock: SimulatedClock, recorder: Recorder
) -> None:
    assert SILENCE_TIMEOUT_S <= 5.0  # the issue: offline within 5 s
    # A marker node that joined 0.5 s earlier reaches the limit first: once the watchdog
    # has taken it offline, it has looked at the node under test at that same instant.
    marker = join(server, OTHER)
    clock.advance(0.5)
    with marker, join(server) as ws:
        clock.advance(SILENCE_TIMEOUT_S - 0.5)
        assert wait_until(lambda: not status(server, OTHER).online)
        assert "silent" in (status(server, OTHER).offline_reason or "")
        assert status(server).online
        clock.advance(0.5)
        assert wait_until(lambda: not status(server).online, timeout_s=1.0)
        assert recorder.events[-1][0] == "node.offline"
        assert "silent" in recorder.events[-1][2]["reason"]
        ws.send(frame())
        assert wait_until(lambda: status(server).online)
        assert recorder.events[-1][0] == "node.online"
        assert recorder.events[-1][2]["resumed"] is True
        assert len(recorder.frames) == 1


def test_a_tx_only_node_sends_no_frames_and_is_not_called_silent(
    make_server: Callable[..., NodeServer], clock: SimulatedClock
) -> None:
    # A receiving marker node, as silent: once the watchdog has taken it offline, it has
    # looked at the transmitter at that same instant.
    server = make_server(role_for=lambda mac: "tx" if mac == MAC else "rx")
    with join(server), join(server, OTHER):
        clock.advance(10 * SILENCE_TIMEOUT_S)
        assert wait_until(lambda: not status(server, OTHER).online)
        assert "silent" in (status(server, OTHER).offline_reason or "")
        assert status(server).online


def test_the_config_is_resent_as_a_keepalive(make_server: Callable[..., NodeServer]) -> None:
    assert KEEPALIVE_INTERVAL_S < 30.0  # nodes want a JSON message at least every 30 s
    server = make_server(keepalive_interval_s=0.2)
    with join(server) as ws:
        started = time.monotonic()
        assert recv_json(ws, timeout_s=1.0) == {
            "type": "config",
            "rate_hz": 20,
            "variance_threshold": 0.02,
        }
        assert recv_json(ws, timeout_s=1.0)["type"] == "config"
        assert time.monotonic() - started < 1.0


def test_stop_closes_every_node_and_is_idempotent(server: NodeServer, recorder: Recorder) -> None:
    with join(server) as ws:
        server.stop()
        closed = closed_by_server(ws)
        assert closed.rcvd is not None and closed.rcvd.code == 1001
    assert not status(server).online
    assert status(server).offline_reason == "server stopped"
    assert recorder.kinds() == ["node.online", "node.offline"]
    server.stop()
    assert not any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate())


def test_a_port_in_use_is_a_clear_error(server: NodeServer, clock: SimulatedClock) -> None:
    other = NodeServer(
        tokens=NodeTokenBook(), clock=clock, on_frame=lambda f, t: None, port=server.port
    )
    with pytest.raises(NodeServerError, match=f"127.0.0.1:{server.port}"):
        other.start()
    other.stop()


# --- HTTP: provisioning and routing ---------------------------------------------------------------


def test_provisioning_answers_only_while_the_pairing_window_is_open(
    server: NodeServer, clock: SimulatedClock, recorder: Recorder
) -> None:
    fresh = "24:6F:28:00:00:77"  # a node not paired yet
    body = json.dumps({"mac": fresh.lower()}).encode()
    code, reply = http_request(server, "POST", "/api/provision", body)
    assert code == 403 and "pairing" in reply["error"]
    assert server.pairing_open_until is None

    until = server.open_pairing(60)
    assert server.pairing_open_until == until
    code, reply = http_request(server, "POST", "/api/provision", body)
    assert code == 200 and list(reply) == ["node_token"]
    assert server.tokens.check(fresh, reply["node_token"])
    assert ("node.provisioned", fresh) in [(k, m) for k, m, _ in recorder.events]
    body = json.dumps({"mac": "24:6F:28:00:00:78"}).encode()

    clock.advance(60)  # the window closes by itself at its deadline
    assert server.pairing_open_until is None
    code, _ = http_request(server, "POST", "/api/provision", body)
    assert code == 403

    server.open_pairing(60)
    server.close_pairing()
    assert http_request(server, "POST", "/api/provision", body)[0] == 403


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty"),
        (b"{not json", "body: not valid JSON"),
        (b"[1, 2]", "body: expected a JSON object"),
        (b"{}", "mac: missing"),
        (b'{"mac": "not-a-mac"}', "mac: expected a MAC"),
    ],
    ids=["empty", "bad-json", "not-object", "no-mac", "bad-mac"],
)
def test_a_bad_provisioning_body_is_a_400_naming_the_problem(
    server: NodeServer, body: bytes, problem: str
) -> None:
    server.open_pairing(60)
    code, reply = http_request(server, "POST", "/api/provision", body)
    assert code == 400
    assert problem in reply["error"]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [("GET", "/api/provision", 405), ("GET", "/", 404), ("POST", "/ws/node", 405)],
)
def test_other_methods_and_paths_are_refused(
    server: NodeServer, method: str, path: str, expected: int
) -> None:
    server.open_pairing(60)
    code, reply = http_request(server, method, path, b"{}" if method == "POST" else None)
    assert code == expected
    assert reply["error"]


# --- hostile round (issue 64) ---------------------------------------------------------------------


def provision_from(
    server: NodeServer, mac: str, source: str = "127.0.0.1"
) -> tuple[int, dict[str, Any], str | None]:
    """POST /api/provision for ``mac`` from loopback address ``source``: status, reply and
    its Retry-After header."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=WAIT_S, source_address=(source, 0)
    )
    try:
        conn.request("POST", "/api/provision", body=json.dumps({"mac": mac}).encode())
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.getheader("Retry-After")
    finally:
        conn.close()


def provisioned(recorder: Recorder) -> list[str]:
    return [mac for kind, mac, _ in recorder.events if kind == "node.provisioned"]


@pytest.mark.hostile(5)
def test_a_paired_node_gets_nothing_from_provisioning_and_a_new_one_a_random_token(
    make_server: Callable[..., NodeServer], server: NodeServer, recorder: Recorder
) -> None:
    server.open_pairing(60)
    code, reply, _ = provision_from(server, MAC)  # a paired node: during the window
    assert (code, reply) == (403, {"error": NOT_PROVISIONED})
    fresh = "24:6F:28:00:00:42"
    code, reply, _ = provision_from(server, fresh)
    assert code == 200
    token = reply["node_token"]
    assert len(token) >= 43 and token not in TOKENS.values()
    # Once paired, asking again gets the same answer as any paired node: nothing.
    assert provision_from(server, fresh)[:2] == (403, {"error": NOT_PROVISIONED})
    assert provisioned(recorder) == [fresh]
    with join(server, fresh, token=token):
        assert status(server, fresh).online
    # Random, not derived from anything: another server gives the same MAC another token.
    other = make_server()
    other.open_pairing(60)
    code, reply, _ = provision_from(other, fresh)
    assert code == 200 and reply["node_token"] != token


@pytest.mark.hostile(5)
def test_provisioning_is_rate_limited_per_address_and_overall(
    server: NodeServer, clock: SimulatedClock, recorder: Recorder
) -> None:
    server.open_pairing(600)
    answers = [
        provision_from(server, f"02:00:00:00:{i // 256:02X}:{i % 256:02X}") for i in range(300)
    ]
    granted = [reply for code, reply, _ in answers if code == 200]
    assert len(granted) == PROVISIONS_PER_ADDRESS
    refused = [(code, wait) for code, _, wait in answers if code != 200]
    assert refused == [(429, "60")] * (300 - PROVISIONS_PER_ADDRESS)
    assert "too many provisioning requests" in answers[-1][1]["error"]
    # Other addresses each have their own share, until the overall limit.
    for n in range(2, 2 + PROVISIONS_PER_WINDOW // PROVISIONS_PER_ADDRESS):
        for i in range(PROVISIONS_PER_ADDRESS):
            provision_from(server, f"02:00:00:01:{n:02X}:{i:02X}", source=f"127.0.0.{n}")
    assert len(provisioned(recorder)) == PROVISIONS_PER_WINDOW
    assert provision_from(server, "02:00:00:02:00:01", source="127.0.0.99")[0] == 429
    assert server.rejections()["provisions_refused"] == 300 - PROVISIONS_PER_ADDRESS + 6
    clock.advance(PROVISION_WINDOW_S)  # a new window: a node retrying later is answered
    assert provision_from(server, "02:00:00:02:00:01")[0] == 200
    assert len(provisioned(recorder)) == PROVISIONS_PER_WINDOW + 1


@pytest.mark.hostile(6)
def test_refused_hellos_are_counted_and_summarised_once_a_minute_not_stored_one_each(
    server: NodeServer,
    clock: SimulatedClock,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="engine.sensing.nodes.server")

    def rejected() -> list[dict[str, Any]]:
        return [detail for kind, _, detail in recorder.events if kind == "node.rejected"]

    for i in range(60):
        with open_socket(server) as ws:
            ws.send(json.dumps(hello(token=None if i % 3 == 0 else "0" * 64)))
            assert recv_json(ws)["type"] == "reject"
            closed_by_server(ws)
    # The first refusal is told at once; the other 59 wait for the minute's summary.
    assert [d["rejections"] for d in rejected()] == [1]
    assert server.rejections()["rejections"] == 60
    assert server.rejections()["waiting"] == 59
    with join(server):  # a real node is not held up
        assert status(server).online
    clock.advance(SUMMARY_INTERVAL_S)
    assert wait_until(lambda: len(rejected()) == 2)
    summary = rejected()[1]
    assert summary["rejections"] == 59
    assert summary["reasons"] == {"no token": 19, "wrong token": 40}
    assert summary["addresses"] == {"127.0.0.1": 59}
    assert summary["macs"] == {MAC: 59}
    lines = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(lines) == 2 and "refused 59 node connections" in lines[1].getMessage()
    # Whatever waits when the server stops is summarised then, not lost.
    with open_socket(server) as ws:
        ws.send(json.dumps(hello(token="0" * 64)))
        assert recv_json(ws)["type"] == "reject"
    assert len(rejected()) == 2
    server.stop()
    assert [d["rejections"] for d in rejected()] == [1, 59, 1]


@pytest.mark.hostile(16)
def test_a_node_cannot_send_frames_as_another_node(server: NodeServer, recorder: Recorder) -> None:
    with join(server, MAC), join(server, PEER) as impostor:
        for _ in range(FOREIGN_FRAME_LIMIT):  # frames N1 "received" from N2, sent by N2
            impostor.send(frame(node=MAC, peer=PEER))
        impostor.send(frame(node=PEER, peer=MAC))  # its own frame is its own
        assert wait_until(lambda: len(recorder.frames) == 1)
        assert recorder.frames[0][0].node_mac == PEER
        assert status(server, MAC).frames_received == 0
        assert status(server, PEER).foreign_frames == FOREIGN_FRAME_LIMIT
        impostor.send(frame(node=MAC, peer=PEER))  # one too many: closed
        closed = closed_by_server(impostor)
        assert closed.rcvd is not None and closed.rcvd.code == 1008
        assert "another node" in closed.rcvd.reason
        assert status(server, MAC).online
        assert status(server, MAC).frames_received == 0
    assert len(recorder.frames) == 1
