"""Pairing without the console: ``sense serve --pair`` and ``sense pair`` reaching a real
node server through the store; a non-admin refused; no engine named as the reason."""

from __future__ import annotations

import http.client
import io
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from console import exit_codes
from console.cli import main
from engine.accounts import create_account
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.sensing.nodes.pairing import ANSWER_WAIT_S, PairingDesk
from engine.sensing.nodes.server import NOT_PROVISIONED, NodeServer
from engine.sensing.nodes.tokens import NodeTokenBook, stored_node_tokens, token_sha256
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN
from tests.clocks import ClockDriver
from tests.console.cli_runs import wait_for_line, watchfloor

SECRET = "c0ffee" * 10
MAC = "AA:BB:CC:DD:EE:09"
PASSWORD = "correct horse 1"


@pytest.fixture(autouse=True)
def node_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_NODE_SECRET", SECRET)


def provision(port: int) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/api/provision", body=json.dumps({"mac": MAC}).encode())
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.slow
def test_serve_pair_provisions_a_node_that_was_never_given_a_token(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    serve = ["sense", "serve", "--port", "0", "--duration", "8", "--pair", "60"]
    # The 8 s run out on the command's clock once the node is in (not in real time).
    driver = ClockDriver(SimulatedClock(REAL_CLOCK.now()))

    def node(stderr: Callable[[], str]) -> None:
        line = wait_for_line(stderr, "(/ws/node)")  # ours, not a log
        assert "listening on 127.0.0.1:" in line, line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        following = wait_for_line(stderr, "", after=line)
        assert "pairing open for 60 s" in following  # said once it is open
        code, reply = provision(port)  # the node knows only its MAC
        assert code == 200, reply
        with connect(f"ws://127.0.0.1:{port}/ws/node", open_timeout=10) as ws:
            hello = {
                "type": "hello",
                "mac": MAC,
                "firmware_version": "1.0",
                "capabilities": ["csi"],
            }
            ws.send(json.dumps({**hello, "token": reply["node_token"]}))
            assert json.loads(ws.recv(timeout=10))["type"] == "role"  # accepted
        driver.start()

    with driver:
        result = watchfloor(
            "--db", db, *serve, env={"WATCHFLOOR_NODE_SECRET": SECRET}, beside=node,
            clock=driver.clock,
        )  # fmt: skip
    out, err = result.stdout, result.stderr
    assert result.returncode == exit_codes.OK, err
    assert f"{MAC}:" in out
    store = Store(db)
    try:
        provisioned = AuditListRequest(reader=ADMIN, action="node.provisioned").run(store)
        opened = AuditListRequest(reader=ADMIN, action="node.pairing_opened").run(store)
    finally:
        store.close()
    assert [e.target for e in provisioned] == [MAC]
    assert provisioned[0].detail["address"].startswith("127.0.0.1:")
    assert [(e.target, e.detail["seconds"]) for e in opened] == [("sensing:room", 60.0)]


@pytest.fixture
def running(db_url: str) -> Iterator[NodeServer]:
    """A node server and its pairing desk, as an engine runs them, on the test's store."""
    store = Store(db_url)
    server = NodeServer(
        tokens=NodeTokenBook(),
        clock=REAL_CLOCK,
        on_frame=lambda _f, _a: None,
        on_node_event=lambda _k, _m, _d: None,
        port=0,
    )
    try:
        with StoreWriter.running(store) as writer, server:
            desk = PairingDesk(server, room="room", store=store, writer=writer, clock=REAL_CLOCK)
            desk.start()
            try:
                yield server
            finally:
                desk.stop()
    finally:
        store.close()


def test_sense_pair_opens_the_window_of_a_running_server_through_the_store(
    db_url: str, running: NodeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert provision(running.port)[0] == 403
    code = main(["--db", db_url, "sense", "pair", "--seconds", "45"])
    out, err = capsys.readouterr()
    assert code == exit_codes.OK, err
    assert f"pairing open for 45 s on the node server on 127.0.0.1:{running.port}" in out
    code, reply = provision(running.port)
    assert code == 200
    store = Store(db_url)
    try:
        assert stored_node_tokens(store)[MAC].token_sha256 == token_sha256(reply["node_token"])
    finally:
        store.close()
    assert provision(running.port) == (403, {"error": NOT_PROVISIONED})  # once only


def test_sense_pair_with_no_engine_says_so(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """It gives up after its answer wait, measured on its clock: one that moves only as the
    command sleeps between looks (a simulated clock), so the wait costs no real time."""
    clock = SimulatedClock(REAL_CLOCK.now())
    started = clock.monotonic()
    code = main(
        ["--db", db_url, "sense", "pair", "--seconds", "30", "--room", "attic"], clock=clock
    )
    assert ANSWER_WAIT_S <= clock.monotonic() - started < ANSWER_WAIT_S + 1
    err = capsys.readouterr().err
    assert code == exit_codes.FAILED
    assert "no running engine serves room attic" in err
    assert main(["--db", db_url, "sense", "pair", "--seconds", "0"]) == exit_codes.USAGE
    assert "--seconds 0: more than 0" in capsys.readouterr().err


def test_a_non_admin_is_refused_and_the_refusal_audited(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(db_url)
    with StoreWriter.running(store) as writer:
        create_account(writer, ADMIN, "olga", "operator", REAL_CLOCK.now(), password=PASSWORD)
    for argv in (
        ["sense", "pair", "--seconds", "30"],
        ["sense", "serve", "--port", "0", "--duration", "1", "--pair", "30"],
    ):
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        code = main(["--db", db_url, "--user", "olga", *argv])
        err = capsys.readouterr().err
        assert code == exit_codes.NOT_ALLOWED, err
        assert "olga (operator) may not open node pairing" in err
    try:
        refused = [e for e in AuditListRequest(reader=ADMIN, limit=20).run(store)]
    finally:
        store.close()
    denied = [e for e in refused if e.outcome == "denied"]
    assert len(denied) == 2, [(e.action, e.outcome) for e in refused]


def test_serve_takes_the_port_of_the_room_it_is_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.console.test_sensing_rooms_console import TWO_REAL_ROOMS

    probes = [socket.socket(), socket.socket()]  # two free ports, told apart while bound
    for probe in probes:
        probe.bind(("127.0.0.1", 0))
    lab, office = (probe.getsockname()[1] for probe in probes)
    for probe in probes:
        probe.close()  # the server binds the office's a moment later
    site = tmp_path / "rooms.toml"
    site.write_text(
        '[site]\nname = "Two rooms"\ngeo = { lat = 51.5, lon = -0.14 }\n'
        + TWO_REAL_ROOMS.replace("port = 0\n", f"port = {lab}\n", 1).replace(
            "port = 0\n", f"port = {office}\n", 1
        ),
        encoding="utf-8",
    )
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    serve = [*db, "sense", "serve", "--site", str(site), "--duration", "0.5", "--json"]
    assert main(serve) == exit_codes.USAGE
    assert "has 2 sensing rooms (lab, office): name one with --room" in capsys.readouterr().err
    assert main([*serve, "--room", "office"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out)["port"] == office
