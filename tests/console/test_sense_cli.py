"""``watchfloor sense token`` and ``watchfloor sense serve`` as an installer uses them: a
node's token issued, shown once, rotated and revoked, and the node server run alone, fed
by a real WebSocket client."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.sync.client import connect

from console import exit_codes
from console.cli import main
from engine.accounts import create_account
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.sensing.nodes.protocol import encode_csi_frame, node_token
from engine.sensing.nodes.tokens import stored_node_tokens, token_sha256
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN
from tests.clocks import ClockDriver
from tests.console.cli_runs import wait_for_line, watchfloor

SECRET = "c0ffee" * 10
NODE, PEER = "AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"


@pytest.fixture(autouse=True)
def node_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_NODE_SECRET", SECRET)


@pytest.mark.hostile(5)
def test_token_rotate_issues_a_random_token_once_and_revoke_removes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    token = ["--db", db, "sense", "token"]
    assert main([*token, "aa:bb:cc:dd:ee:01"]) == exit_codes.OK
    assert capsys.readouterr().out == f"{NODE}: no token (not paired, or revoked)\n"
    assert main([*token, NODE, "--rotate"]) == exit_codes.OK
    out, err = capsys.readouterr()
    first = out.strip()
    assert len(first) == 43 and first != node_token(SECRET.encode(), NODE)  # random
    assert "shown once" in err
    store = Store(db)
    try:
        assert stored_node_tokens(store)[NODE].token_sha256 == token_sha256(first)
        assert main([*token, NODE]) == exit_codes.OK  # the state, never the token
        out = capsys.readouterr().out
        assert out.startswith(f"{NODE}: token issued ") and first not in out
        assert main([*token, NODE, "--rotate"]) == exit_codes.OK
        second = capsys.readouterr().out.strip()
        assert second != first
        assert stored_node_tokens(store)[NODE].token_sha256 == token_sha256(second)
        assert main([*token, NODE, "--revoke"]) == exit_codes.OK
        assert capsys.readouterr().out == f"{NODE}: token revoked\n"
        assert NODE not in stored_node_tokens(store)
        assert main([*token, "not-a-mac", "--rotate"]) == exit_codes.USAGE
        assert "MAC" in capsys.readouterr().err
        with StoreWriter.running(store) as writer:
            create_account(writer, ADMIN, "olga", "operator", REAL_CLOCK.now(), password="pw 12345")
        monkeypatch.setattr("sys.stdin", io.StringIO("pw 12345\n"))
        assert main(["--user", "olga", *token, NODE, "--rotate"]) == exit_codes.NOT_ALLOWED
        assert "olga (operator) may not" in capsys.readouterr().err
        assert NODE not in stored_node_tokens(store)
        audit = AuditListRequest(reader=ADMIN).run(store)
    finally:
        store.close()
    assert [(e.action, e.outcome) for e in reversed(audit) if e.target == NODE] == [
        ("node.token_rotated", "ok"),
        ("node.token_rotated", "ok"),
        ("node.token_revoked", "ok"),
    ]
    assert (audit[0].action, audit[0].actor, audit[0].outcome) == (
        "sense.token",
        "account:olga",
        "denied",
    )


@pytest.mark.slow
def test_serve_runs_the_node_server_and_reports_each_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["--db", db, "sense", "token", NODE, "--rotate"]) == exit_codes.OK
    token = capsys.readouterr().out.strip()  # issued by hand, as for a node flashed by hand
    serve = ["sense", "serve", "--port", "0", "--duration", "6", "--json"]
    # The 6 s run out on the command's clock once the server has handled the node's last
    # message (it says the node went offline after its connection's messages), not slept.
    driver = ClockDriver(SimulatedClock(REAL_CLOCK.now()))

    def node(stderr: Callable[[], str]) -> None:
        line = wait_for_line(stderr, "(/ws/node)")  # ours, not a log
        assert "listening on 127.0.0.1:" in line, line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        with connect(f"ws://127.0.0.1:{port}/ws/node", open_timeout=10) as ws:
            hello = {
                "type": "hello",
                "mac": NODE,
                "firmware_version": "1.0",
                "capabilities": ["csi"],
                "token": token,
            }
            ws.send(json.dumps(hello))
            assert json.loads(ws.recv(timeout=10))["type"] == "role"
            assert json.loads(ws.recv(timeout=10))["type"] == "config"
            iq = np.ones((64, 2), np.int8)
            frame = encode_csi_frame(
                node_mac=NODE,
                peer_mac=PEER,
                timestamp_us=1,
                rssi_dbm=-50,
                noise_dbm=-95,
                channel=6,
                iq=iq,
            )
            ws.send(frame)
            ws.send(frame[:-1])  # one byte short: malformed, counted
        wait_for_line(stderr, f"node.offline {NODE}")
        driver.start()

    with driver:
        result = watchfloor(
            "--db", db, *serve, env={"WATCHFLOOR_NODE_SECRET": SECRET}, beside=node,
            clock=driver.clock,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (node_report,) = report["nodes"]
    assert node_report["mac"] == NODE and node_report["frames_received"] == 1
    assert sum(node_report["malformed"].values()) == 1
    assert report["rejected"]["rejections"] == 0


@pytest.mark.slow
def test_replay_reads_the_recording_folder_it_is_given(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    live_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, _ = live_run
    db = f"sqlite:///{tmp_path / 's.db'}"
    args = ["--db", db, "sense", "replay", "--json", "--recording"]
    assert main([*args, str(directory)]) == exit_codes.OK
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] > 1000 and report["sessions"] == 1  # that folder's frames
    missing = tmp_path / "nowhere"
    assert main([*args, str(missing)]) == exit_codes.FAILED
    assert f"--recording {missing}: no such folder" in capsys.readouterr().err
