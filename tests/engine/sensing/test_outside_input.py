"""Sensing input from outside, as a hostile tester makes it: a node whose hello carries a
400-digit position or JSON nested thousands deep, and recordings (``sense replay
--recording``) holding a zlib bomb, a deeply nested node event, a ``session.start`` whose
``macs`` is a list, or times in the year 9999. Each is refused with a reason that names it;
the server stays up, the replay stops where the recording goes wrong, nothing raises.

Recordings are written here byte by byte from the format the recording module documents."""

from __future__ import annotations

import json
import struct
import tracemalloc
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from console import exit_codes
from console.cli import main
from engine.sensing.nodes.server import NodeServer
from engine.sensing.recording.recorder import RecordingReader, RecordKind
from engine.sensing.recording.replay import replay_recording
from tests.engine.sensing import test_server as server_tests
from tests.engine.sensing.test_server import (
    MAC,
    Recorder,
    closed_by_server,
    hello,
    join,
    open_socket,
    recv_json,
    status,
)
from tests.engine.sensing.test_service import ROOM
from tests.waiting import wait_until

ANCHOR = 1_750_000_000.0  # wall epoch seconds at engine monotonic 0 (June 2025)
HEADER_BODY = struct.Struct("<4sHHIIIIdd16sd")  # the documented block header, CRC apart
RECORD = struct.Struct("<BdI")  # the documented record header
MiB = 1024 * 1024

Record = tuple[int, float, bytes]

# The node server tests' fixtures: a server on a loopback port and what it called back.
clock = server_tests.clock
recorder = server_tests.recorder
make_server = server_tests.make_server


def node_event(kind: str, mac: str, detail: object) -> bytes:
    return json.dumps([kind, mac, detail]).encode()


def block(
    records: list[Record],
    *,
    anchor: float = ANCHOR,
    payload: bytes | None = None,
    uncompressed: int | None = None,
) -> bytes:
    """One block of ``records`` (stored, level 0), or of a given compressed ``payload``
    whose header claims ``uncompressed`` bytes."""
    packed = b"".join(RECORD.pack(kind, t, len(data)) + data for kind, t, data in records)
    if payload is None:
        payload = zlib.compress(packed, 0)
    times = [t for _, t, _ in records]
    body = HEADER_BODY.pack(
        b"WFRB",
        1,
        0,
        len(payload),
        len(packed) if uncompressed is None else uncompressed,
        zlib.crc32(payload),
        len(records),
        min(times),
        max(times),
        uuid.uuid4().bytes,
        anchor,
    )
    return body + struct.pack("<I", zlib.crc32(body)) + payload


def recording(directory: Path, *blocks: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "seg-000001.wfr").write_bytes(b"".join(blocks))
    return directory


def session_start(detail: object) -> Record:
    return (RecordKind.NODE_EVENT, 0.0, node_event("session.start", "", detail))


TICK: Record = (RecordKind.TICK, 0.1, b"")


# --- recordings ---------------------------------------------------------------------------------


def test_a_zlib_bomb_block_is_damage_found_without_inflating_it(tmp_path: Path) -> None:
    """256 MiB of zeros in a 256 KiB payload whose header says 13 bytes: the reader inflates
    at most 14 bytes of it and says the block inflates past its stated length."""
    squeeze = zlib.compressobj(9)
    zeros = bytes(16 * MiB)
    bomb = b"".join(squeeze.compress(zeros) for _ in range(16)) + squeeze.flush()
    assert len(bomb) < MiB
    directory = recording(tmp_path / "bomb", block([TICK], payload=bomb, uncompressed=13))
    reader = RecordingReader(directory)
    tracemalloc.start()
    try:
        items = list(reader.records())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert items == []
    assert reader.damage is not None and "inflates past its stated 13 bytes" in reader.damage.reason
    assert peak < 16 * MiB  # the bomb itself is under 1 MiB; inflated it would be 256


def test_a_deeply_nested_node_event_is_damage_and_the_replay_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = b'["node.online", "AA:BB:CC:DD:EE:FF", ' + b'{"a": ' * 100_000 + b"1"
    deep += b"}" * 100_000 + b"]"
    directory = recording(
        tmp_path / "deep",
        block(
            [
                session_start({"room": "r", "macs": {}}),
                (RecordKind.NODE_EVENT, 0.05, deep),
                TICK,
            ]
        ),
    )
    report = replay_recording(directory, ROOM)
    assert report.stopped_at is not None
    assert "node event: nested deeper than 32 levels" in report.stopped_at
    assert "seg-000001.wfr" in report.stopped_at
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["--db", db, "sense", "replay", "--recording", str(directory)]) == (
        exit_codes.FAILED
    )
    err = capsys.readouterr().err
    assert "nested deeper than 32 levels" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        ([session_start({"room": "r", "macs": [1, 2]}), TICK], "macs: expected an object"),
        ([session_start({"macs": {"AA:BB:CC:DD:EE:FF": ["x"]}}), TICK], "macs: expected"),
        (
            [
                session_start({"macs": {}}),
                (
                    RecordKind.NODE_EVENT,
                    0.05,
                    node_event("node.online", "AA:BB:CC:DD:EE:FF", {"hello_position": [1, 2]}),
                ),
                TICK,
            ],
            "hello_position: expected three coordinates",
        ),
        (
            [
                session_start({"macs": {}}),
                (
                    RecordKind.NODE_EVENT,
                    0.05,
                    node_event("node.ble", "AA:BB:CC:DD:EE:FF", {"at_s": 1, "devices": 5}),
                ),
                TICK,
            ],
            "devices: expected a list",
        ),
    ],
    ids=["macs-list", "macs-values", "short-position", "ble-devices"],
)
def test_a_node_event_unlike_the_live_services_stops_the_replay_naming_the_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    records: list[Record],
    problem: str,
) -> None:
    directory = recording(tmp_path / "odd", block(records))
    report = replay_recording(directory, ROOM)
    assert report.stopped_at is not None and problem in report.stopped_at
    assert "node event in the recording at 2025-06-15T" in report.stopped_at
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["--db", db, "sense", "replay", "--recording", str(directory)]) == (
        exit_codes.FAILED
    )
    err = capsys.readouterr().err
    assert problem in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("anchor", "problem"),
    [
        (253_402_300_000.0, "more than a day after now"),  # the year 9999 (and a bit)
        (1e300, "more than a day after now"),
        (900_000_000.0, "before 2000-01-01"),  # 1998
        (float("nan"), "implausible record times"),
    ],
    ids=["year-9999", "1e300", "1998", "nan"],
)
def test_a_recording_dated_outside_the_plausible_window_is_damage(
    tmp_path: Path, anchor: float, problem: str
) -> None:
    directory = recording(
        tmp_path / "dated", block([session_start({"macs": {}}), TICK], anchor=anchor)
    )
    reader = RecordingReader(directory)
    assert list(reader.records()) == [] and reader.extent() is None
    assert reader.damage is not None and problem in reader.damage.reason
    report = replay_recording(directory, ROOM)
    assert report.stopped_at is not None and problem in report.stopped_at


# --- the node server ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"pos_x": int("4" * 400), "pos_y": 1, "pos_z": 1}, "pos_x: expected a finite number"),
        ({"pos_x": 1, "pos_y": 1e308, "pos_z": 1}, "pos_y: expected metres within ±10000"),
        ({"uptime_ms": int("9" * 400)}, "uptime_ms: expected an integer ≤ 9223372036854775807"),
    ],
    ids=["400-digit-position", "far-position", "400-digit-uptime"],
)
def test_a_hello_with_an_impossible_number_is_rejected_every_time_and_the_server_stays_up(
    server: NodeServer, recorder: Recorder, fields: dict[str, object], reason: str
) -> None:
    for attempt in range(1, 4):  # no token needed to try again: the hello is refused first
        with open_socket(server) as ws:
            ws.send(json.dumps(hello(token=None, **fields)))
            reply = recv_json(ws)
            assert reply["type"] == "reject" and reason in reply["reason"]
            assert closed_by_server(ws).rcvd is not None
        assert server.rejections()["rejections"] == attempt  # counted every time
    # Stored and logged once: the first at once, the others in the minute's summary.
    assert recorder.kinds() == ["node.rejected"]
    assert reason in recorder.events[-1][2]["reason"]
    with join(server) as ws:  # the server still takes a good node
        assert status(server).online
        ws.close()


def test_a_deeply_nested_hello_is_rejected_with_a_reason(
    server: NodeServer, recorder: Recorder
) -> None:
    with open_socket(server) as ws:
        ws.send('{"type": "hello", "x": ' + "[" * 50 + "]" * 50 + "}")
        reply = recv_json(ws)
        assert reply["type"] == "reject" and "nested deeper than 32 levels" in reply["reason"]
    assert wait_until(lambda: recorder.kinds() == ["node.rejected"])


def test_a_report_with_a_400_digit_number_is_a_protocol_error_not_a_dropped_connection(
    server: NodeServer,
) -> None:
    with join(server) as ws:
        huge = int("7" * 400)
        ws.send(json.dumps({"type": "health", "mac": MAC, "timestamp_ms": 1, "csi_rate_hz": huge}))
        ws.send(
            json.dumps({"type": "motion_hint", "mac": MAC, "timestamp_ms": 2, "variance": huge})
        )
        assert wait_until(lambda: status(server).protocol_errors == 2)
        assert "variance: expected a finite number" in (status(server).last_protocol_error or "")
        assert status(server).online


@pytest.fixture
def server(make_server: Callable[..., NodeServer]) -> NodeServer:
    return make_server()
