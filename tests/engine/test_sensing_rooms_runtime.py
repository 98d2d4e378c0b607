"""A live engine runs every sensing room of its site: one sensing service per room, each
simulated from a seed of its own, publishing its own snapshots, recording into its own
folder, numbering its blobs apart from the other room's, and named in the sensing health
line. No mocks inside the engine: a real store, bus, node servers and simulated nodes."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.sync.client import connect

from engine.access import Actor, Role
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.config import load_site
from engine.data_dirs import sensing_recording_dir
from engine.events import HealthState
from engine.runtime import EngineRuntime
from engine.sensing import actions as sensing_actions
from engine.sensing.host import rooms_shown
from engine.sensing.nodes.protocol import node_token
from engine.sensing.nodes.tokens import IssueNodeToken, new_node_token, token_sha256
from engine.sensing.service import SensingUpdated
from engine.sensing.view import SensingSnapshot
from engine.store import Store
from tests.clocks import EngineTimeDriver
from tests.conftest import write_site

ADMIN = Actor("ada", frozenset({Role.ADMIN}))


def nodes(room: str, prefix: str) -> str:
    return "".join(
        f'[[sensing_nodes]]\nid = "{prefix}{i}"\nname = "{prefix.upper()}{i}"\nroom = "{room}"\n'
        f"position = {{ x = {x}, y = {y}, z = {z} }}\n"
        for i, (x, y, z) in enumerate(
            [(0.1, 0.1, 0.8), (4.9, 0.1, 1.3), (4.9, 4.9, 0.8), (0.1, 4.9, 1.3)], start=1
        )
    )


TWO_SIMULATED_ROOMS = (
    "[sensing]\nsimulate = true\nwalkers = 1\nseed = 3\n"
    '[[rooms]]\nid = "lab"\nname = "Lab"\nwidth_m = 5.0\ndepth_m = 5.0\nheight_m = 2.5\n'
    '[[rooms]]\nid = "office"\nname = "Front office"\nwidth_m = 5.0\ndepth_m = 5.0\n'
    "height_m = 2.5\n" + nodes("lab", "l") + nodes("office", "o")
)


def _wait(what: str, done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_an_engine_runs_both_rooms_of_its_site(db_url: str, tmp_path: Path) -> None:
    site = load_site(write_site(tmp_path / "site.toml", extra=TWO_SIMULATED_ROOMS))
    clock = SimulatedClock()
    runtime = EngineRuntime(site, Store(db_url), clock=clock)
    driver = EngineTimeDriver(clock, lambda: list(runtime.sensing.services.values()))
    lock = threading.Lock()
    latest: dict[str, SensingSnapshot] = {}

    def keep(event: SensingUpdated) -> None:
        with lock:
            latest[event.snapshot.room_id] = event.snapshot

    def snapshot(room_id: str) -> SensingSnapshot | None:
        with lock:
            return latest.get(room_id)

    runtime.bus.subscribe(SensingUpdated, keep)
    try:
        runtime.start()
        driver.start()
        assert list(runtime.sensing.services) == ["lab", "office"]
        shown = rooms_shown(site, attached=False, running=runtime.sensing.services)
        assert shown == [("lab", "Lab"), ("office", "Front office")]
        lab, office = runtime.sensing.services["lab"], runtime.sensing.services["office"]
        assert lab.port != office.port  # each room's nodes find their own server
        _wait("both rooms' snapshots", lambda: bool(snapshot("lab") and snapshot("office")))
        lab_view, office_view = snapshot("lab"), snapshot("office")
        assert lab_view is not None and office_view is not None
        assert (lab_view.room_name, office_view.room_name) == ("Lab", "Front office")
        assert {n.node_id for n in lab_view.nodes} == {"l1", "l2", "l3", "l4"}
        assert {n.node_id for n in office_view.nodes} == {"o1", "o2", "o3", "o4"}

        # Each room is simulated from its own seed: their walkers walk differently.
        now = runtime.clock.monotonic
        _wait("walkers in both rooms", lambda: bool(lab.truth(now()) and office.truth(now())))
        at = now()
        assert lab.truth(at) != office.truth(at)

        # Blobs of the two rooms never share an id: the lab's are odd, the office's even.
        _wait(
            "a blob in each room",
            lambda: all((s := snapshot(r)) is not None and s.blobs for r in ("lab", "office")),
        )
        lab_view, office_view = snapshot("lab"), snapshot("office")
        assert lab_view is not None and office_view is not None
        assert {b.track_id % 2 for b in lab_view.blobs} == {1}
        assert {b.track_id % 2 for b in office_view.blobs} == {0}

        # One health line names both rooms.
        _wait(
            "both rooms' nodes online",
            lambda: all(
                (s := snapshot(r)) is not None and all(n.online for n in s.nodes)
                for r in ("lab", "office")
            ),
        )
        (health,) = [r for r in runtime.health() if r.subsystem == "sensing"]
        assert health.detail.startswith("2 rooms, all nodes online: Lab: simulated, 4/4 nodes")
        assert "; Front office: simulated, 4/4 nodes online, " in health.detail

        # Pairing names its room; a simulated room has no real nodes but opens all the same.
        with pytest.raises(RuntimeError, match="runs 2 sensing rooms: say which one"):
            sensing_actions.open_pairing(
                runtime.sensing.services, runtime.writer, runtime.clock, ADMIN, 30
            )
        with pytest.raises(RuntimeError, match="sensing room attic does not run"):
            sensing_actions.open_pairing(
                runtime.sensing.services, runtime.writer, runtime.clock, ADMIN, 30, "attic"
            )
        sensing_actions.open_pairing(
            runtime.sensing.services, runtime.writer, runtime.clock, ADMIN, 30, "office"
        )
        assert office.server.pairing_open_until is not None
        assert lab.server.pairing_open_until is None
    finally:
        try:
            driver.stop()
        finally:
            runtime.stop()
            assert runtime.store is not None
            runtime.store.close()

    report = runtime.report()
    assert list(report["sensing_rooms"]) == ["lab", "office"]
    for room_id in ("lab", "office"):
        room = report["sensing_rooms"][room_id]
        assert room["sensing"]["room"] == room_id and room["sensing"]["ticks"] > 0
        directory = sensing_recording_dir(site.name, room_id)
        assert room["recording"]["directory"] == str(directory)
        assert any(directory.iterdir())  # each room records into its own folder
    assert report["sensing"] == report["sensing_rooms"]["lab"]["sensing"]


def test_a_room_that_cannot_start_is_named_and_the_other_runs(db_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = TWO_SIMULATED_ROOMS.replace(
            'name = "Front office"\n', f'name = "Front office"\nport = {port}\n'
        )
        site = load_site(write_site(tmp_path / "site.toml", extra=text))
        runtime = EngineRuntime(site, Store(db_url))
        try:
            runtime.start()
            assert list(runtime.sensing.services) == ["lab"]
            shown = rooms_shown(site, attached=False, running=runtime.sensing.services)
            assert shown == [("lab", "Lab")]
            (health,) = [r for r in runtime.health() if r.subsystem == "sensing"]
            assert health.state is HealthState.DOWN
            assert health.detail.startswith("Front office: sensing off: ")
            assert "; Lab: simulated, " in health.detail
        finally:
            runtime.stop()
            assert runtime.store is not None
            runtime.store.close()


REAL_ROOM = (
    '[sensing]\nhost = "127.0.0.1"\n'
    '[[rooms]]\nid = "lab"\nname = "Lab"\nwidth_m = 5.0\ndepth_m = 5.0\nheight_m = 2.5\n'
    "port = 0\n"
    + "".join(
        f'[[sensing_nodes]]\nid = "n{i}"\nroom = "lab"\nmac = "AA:BB:CC:DD:10:0{i}"\n'
        f"position = {{ x = {x}, y = {y}, z = 1.0 }}\n"
        for i, (x, y) in enumerate([(0.1, 0.1), (4.9, 4.9)], start=1)
    )
)


def test_an_upgraded_install_keeps_its_nodes_derived_tokens_and_says_so_until_rotated(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nodes flashed with a token derived from the install secret keep working after the
    upgrade (adopted into the store once), and the sensing health names them until an
    admin rotates each; a rotated node is never taken back onto its derived token."""
    secret = "install secret of an old site"
    monkeypatch.setenv("WATCHFLOOR_NODE_SECRET", secret)
    site = load_site(write_site(tmp_path / "site.toml", extra=REAL_ROOM))
    first_mac = "AA:BB:CC:DD:10:01"
    runtime = EngineRuntime(site, Store(db_url))
    try:
        runtime.start()
        service = runtime.sensing.services["lab"]
        (health,) = [r for r in runtime.health() if r.subsystem == "sensing"]
        assert "2 nodes on a token derived from the install secret" in health.detail
        hello = {
            "type": "hello",
            "mac": first_mac,
            "firmware_version": "1",
            "capabilities": ["csi"],
            "token": node_token(secret.encode(), first_mac),
        }
        with connect(f"ws://127.0.0.1:{service.port}/ws/node", open_timeout=10) as ws:
            ws.send(json.dumps(hello))
            assert json.loads(ws.recv(timeout=10))["type"] == "role"  # still accepted
        assert runtime.writer is not None
        runtime.writer.execute(
            IssueNodeToken(
                mac=first_mac,
                token_sha256=token_sha256(new_node_token()),
                at=REAL_CLOCK.now(),
                actor=ADMIN,
            )
        )
    finally:
        runtime.stop()
        assert runtime.store is not None
        runtime.store.close()
    runtime = EngineRuntime(site, Store(db_url))
    try:
        runtime.start()
        (health,) = [r for r in runtime.health() if r.subsystem == "sensing"]
        assert "1 node on a token derived from the install secret" in health.detail
        port = runtime.sensing.services["lab"].port
        with connect(f"ws://127.0.0.1:{port}/ws/node", open_timeout=10) as ws:
            ws.send(json.dumps(hello))
            assert json.loads(ws.recv(timeout=10))["type"] == "reject"
    finally:
        runtime.stop()
        assert runtime.store is not None
        runtime.store.close()
