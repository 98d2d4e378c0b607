"""Every listening socket is bounded (issue 64, scenario 1: about 20,000 idle TCP connections,
no credentials, exhausted an engine's file descriptors; clips and snapshots were lost and the
log grew by 135k lines). Real sockets over loopback; the flood test runs the recordings
server, the sensing node server and a real clip recorder in a child process under a low
open-files limit."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from websockets.sync.client import ClientConnection, connect

from engine.listening import (
    EVICTION_SLACK,
    REFUSED_ADDRESS_FULL,
    ConnectionGate,
    ListenLimits,
)
from tests.listening_flood_helper import NODE_MAC, NODE_TOKEN, PASSWORD, RECORDING

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 1024  # a common default open-files limit: the issue says it takes far fewer there
FLOOD = 2000  # idle connections, about twice what the child may open at all
FLOOD_ADDRESSES = [f"127.0.0.{n}" for n in range(2, 12)]  # the client comes from 127.0.0.1
CLIPS = 3
IN_QUEUE = 64  # connections made and not yet taken, per server: half the kernel's queue


@pytest.fixture
def many_descriptors() -> Iterator[None]:
    """This test process may hold the flood's client sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FLOOD + 512
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the flood needs {wanted} descriptors in the test process; hard limit {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class _Child:
    """The flood helper child: one JSON line per command."""

    def __init__(self, work: Path, video: Path) -> None:
        self.stderr = work / "child.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.listening_flood_helper", str(work), str(video),
             str(LIMIT)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr.open("wb"),
            text=True,
        )  # fmt: skip

    def said(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the child ended: {self.stderr.read_text()[-2000:]}"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.said()

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)


def _flood(ports: list[int], child: _Child) -> list[socket.socket]:
    """``FLOOD`` idle connections from ``FLOOD_ADDRESSES`` to ``ports`` in turn, held open,
    never a byte sent.
    A connection the server does not take in time is given up (counted by its absence), and
    the flood ends after ten such in a row (a server that stopped accepting).
    It never has more than ``IN_QUEUE`` connections in a server's kernel queue (made, not
    yet taken by the server: the child says how many it took): on a full queue the kernel
    drops the SYN and the client sends it again only after a second, a wait in real time
    that is no part of what the flood is for."""
    held: list[socket.socket] = []
    made = dict.fromkeys(ports, 0)
    taken = dict.fromkeys(ports, 0)
    failed_in_a_row = 0
    for index in range(FLOOD):
        source = FLOOD_ADDRESSES[index % len(FLOOD_ADDRESSES)]
        port = ports[index % len(ports)]
        while made[port] - taken[port] >= IN_QUEUE:
            said = child.ask("taken")
            taken = {ports[0]: said["port"], ports[1]: said["node_port"]}
        try:
            held.append(socket.create_connection(("127.0.0.1", port), 5, (source, 0)))
        except OSError:
            failed_in_a_row += 1
            if failed_in_a_row == 10:
                break
            continue
        made[port] += 1
        failed_in_a_row = 0
    return held


@pytest.mark.hostile(1)
def test_an_idle_flood_costs_no_recording_and_clients_that_prove_who_they_are_are_served(
    tmp_path: Path, vtest_avi: Path, many_descriptors: None
) -> None:
    child = _Child(tmp_path, vtest_avi)
    held: list[socket.socket] = []
    try:
        ready = child.said()
        port = ready["port"]
        cap = ready["limits"]["max_connections"]
        assert ready["budget"]["limit"] == LIMIT
        assert cap + EVICTION_SLACK + 1 <= ready["budget"]["for_listening"]
        held = _flood([port, ready["node_port"]], child)
        with httpx2.Client(auth=("watchfloor", PASSWORD), timeout=60) as client:
            answer = client.get(f"http://127.0.0.1:{port}/media/{RECORDING}")
        with _node(ready["node_port"]) as node:
            greeted = json.loads(node.recv(timeout=60))
            online = child.ask("nodes")["online"]
        recorded = child.ask(f"record {CLIPS}")
        for connection in held:
            connection.close()
        stopped = child.ask("stop")
        gate, node_gate = stopped["gate"], stopped["node_gate"]
    finally:
        for connection in held:
            connection.close()
        child.end()
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == answer.headers["X-Watchfloor-Sha256"]
    assert greeted["type"] == "role", greeted
    assert online == [NODE_MAC]
    assert recorded["finalised"] == CLIPS and recorded["failed"] == 0 and recorded["lost"] == 0
    assert gate["peak_open"] <= cap + EVICTION_SLACK
    assert node_gate["peak_open"] <= cap + EVICTION_SLACK
    # Every connection the flood made was taken or refused through the gates (the clients
    # came after them in the servers' accept queues).
    flooded = len(held)
    assert flooded > 2 * (cap + EVICTION_SLACK)  # more than both servers may hold at all
    taken = gate["accepted"] + gate["refused_total"] + node_gate["accepted"]
    assert taken + node_gate["refused_total"] >= flooded + 2
    log = child.stderr.read_text()
    assert "Too many open files" not in log
    # Per server, one summary when the refusals began and one at stop: the clock of the
    # summaries stood still, so none was due in between; never a line per connection.
    lines = log.strip().splitlines()
    assert len([line for line in lines if "recordings server on" in line]) == 2, log[-3000:]
    assert len([line for line in lines if "sensing node server on" in line]) == 2, log[-3000:]
    assert len(lines) == 4, log[-3000:]


def _node(port: int) -> ClientConnection:
    """A node with its token: connected, its hello sent."""
    node = connect(f"ws://127.0.0.1:{port}/ws/node", open_timeout=60, close_timeout=1, legacy=True)
    node.send(
        json.dumps(
            {
                "type": "hello",
                "mac": NODE_MAC,
                "firmware_version": "1.2.3",
                "capabilities": ["csi", "ble", "tx", "rx"],
                "token": NODE_TOKEN,
            }
        )
    )
    return node


# --- the gate itself, on a plain asyncio server --------------------------------------------------


class _EchoServer:
    """An asyncio server behind a gate: a connection is heard at its first bytes, which it
    echoes back."""

    def __init__(self, limits: ListenLimits) -> None:
        self.gate = ConnectionGate("echo server", limits)
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),))

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        gate = self.gate

        class Echo(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def data_received(self, data: bytes) -> None:
                gate.heard(self.transport)
                assert isinstance(self.transport, asyncio.Transport)
                self.transport.write(data)

        server = await self._loop.create_server(Echo, sock=gate.listen("127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        gate.close()

    def __enter__(self) -> _EchoServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def _connect(port: int, source: str) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), 10, (source, 0))
    connection.settimeout(30)
    return connection


def _echoes(connection: socket.socket, text: bytes) -> bool:
    connection.sendall(text)
    return connection.recv(100) == text


def _closed_by_server(connection: socket.socket) -> bool:
    """Whether the server ended the connection (waits for it to say either way)."""
    try:
        return connection.recv(100) == b""
    except ConnectionResetError:
        return True


def test_a_newcomer_takes_the_place_of_the_oldest_silent_connection() -> None:
    limits = ListenLimits(max_connections=4, max_per_address=2)
    with _EchoServer(limits) as server:
        silent = _connect(server.port, "127.0.0.2")
        speaking = _connect(server.port, "127.0.0.2")
        assert _echoes(speaking, b"hello")
        newcomer = _connect(server.port, "127.0.0.2")  # the address is at its cap
        assert _closed_by_server(silent)  # the oldest silent one made room
        assert _echoes(newcomer, b"hello")
        assert _echoes(speaking, b"still here")
        refused = _connect(server.port, "127.0.0.2")  # both in the way have spoken
        assert _closed_by_server(refused)
        other = _connect(server.port, "127.0.0.3")  # another address is not held back
        assert _echoes(other, b"hello")
        figures = server.gate.figures()
        for connection in (silent, speaking, newcomer, refused, other):
            connection.close()
    assert figures["evicted"] == 1
    assert figures["refused"] == {REFUSED_ADDRESS_FULL: 1}
    assert figures["open"] == 3


def test_a_full_server_refuses_when_everyone_has_spoken() -> None:
    limits = ListenLimits(max_connections=3, max_per_address=3)
    with _EchoServer(limits) as server:
        held = [_connect(server.port, f"127.0.0.{n}") for n in (2, 3, 4)]
        assert all(_echoes(c, b"hi") for c in held)
        refused = _connect(server.port, "127.0.0.5")
        assert _closed_by_server(refused)
        figures = server.gate.figures()
        for connection in [*held, refused]:
            connection.close()
    assert figures["refused"] == {"server full": 1}
    assert figures["peak_open"] == 3


def test_a_connection_silent_past_the_first_message_time_is_shut() -> None:
    limits = ListenLimits(first_message_s=0.2)
    with _EchoServer(limits) as server:
        silent = _connect(server.port, "127.0.0.2")
        speaking = _connect(server.port, "127.0.0.2")
        assert _echoes(speaking, b"hello")
        assert _closed_by_server(silent)  # waits for the server to end it: no sleep
        figures = server.gate.figures()
        assert _echoes(speaking, b"still here")  # one that spoke is not timed
        silent.close()
        speaking.close()
    assert figures["expired"] == 1


def test_the_engine_raises_its_open_files_limit_and_keeps_half_for_recording() -> None:
    program = (
        "import json, resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (512, 4096))\n"
        "from engine.listening import reserve_descriptors\n"
        "budget = reserve_descriptors()\n"
        "print(json.dumps({**budget.as_dict(),\n"
        "    'soft': resource.getrlimit(resource.RLIMIT_NOFILE)[0],\n"
        "    'limits': budget.limits_for(2).max_connections}))\n"
    )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"the hard open-files limit here is {hard}")
    out = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    ).stdout
    budget = json.loads(out)
    assert budget["soft"] == budget["limit"] == 4096
    spare = 4096 - budget["in_use_at_start"]
    assert budget["reserve"] == spare - spare // 2  # at least half stays for recording
    assert budget["for_listening"] == spare // 2
    assert 2 * (budget["limits"] + EVICTION_SLACK + 1) <= budget["for_listening"]
