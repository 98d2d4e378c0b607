"""A sensing room's snapshot stored as bytes for consoles on other machines.

The snapshot is a real one: the sensing service on simulated time, fed the simulator's
frames and BLE reports, until it has named its walker's blob. Bad bytes are made by editing
a real encoding (its JSON, its header, its length) the way corruption or an attacker could.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.cluster.snapshots import (
    FORMAT_VERSION,
    MAGIC,
    MAX_DECODED_BYTES,
    decode_snapshot,
    encode_snapshot,
)
from engine.identity.ble import KnownDevice
from engine.sensing.nodes.protocol import parse_csi_frame
from engine.sensing.nodes.server import NODE_BLE
from engine.sensing.service import SensingService
from engine.sensing.view import NodeView, SensingSnapshot
from engine.sim.nodes import (
    EnteringWalker,
    Room,
    SimNode,
    Simulator,
    random_walkers,
    sim_ble_address,
)
from engine.sim.sensing_score import simulated_room, walker_name

SIZE = (5.0, 5.0, 2.5)
FRAME_HZ = 20
HEADER = 6  # magic and version


@pytest.fixture(scope="module")
def snapshot() -> SensingSnapshot:
    """A tick of a simulated room once its walker, carrying a tag, is named and has a trail."""
    room = simulated_room(SIZE, 4)
    service = SensingService(
        room,
        bus=EventBus(),
        clock=SimulatedClock(),
        install_secret=b"test install secret",
        port=0,
        run_thread=False,
    )
    walker_room = Room(*SIZE)
    address = sim_ble_address(1)
    sim = Simulator(
        walker_room,
        [SimNode(n.mac or "", n.position, n.node_id) for n in room.nodes],
        [EnteringWalker(w, 2.0) for w in random_walkers(walker_room, 1, 9)],
        rate_hz=FRAME_HZ,
        seed=9,
        ble_devices=[address],
    )
    service.set_ble_registry([KnownDevice(address, "tag", walker_name(0), None, "#FFFFFF")])
    macs = [n.mac or "" for n in room.nodes]
    next_report = {mac: 5.0 * (i + 1) / len(macs) for i, mac in enumerate(macs)}
    for step in range(round(20.0 * FRAME_HZ)):
        t = step / FRAME_HZ
        for _, data in sim.frames_at(t):
            service._on_frame(parse_csi_frame(data), t)
        for mac in macs:
            if t >= next_report[mac]:
                heard = [[d["addr"], d["rssi_dbm"]] for d in sim.ble_report(mac, t)]
                service._on_node_event(NODE_BLE, mac, {"at_s": t, "devices": heard})
                next_report[mac] += 5.0
        if step % 2 == 0:
            tick = service.tick(t)
            if tick is not None and any(
                b.identity is not None and len(b.trail) >= 5 for b in tick.blobs
            ):
                truth = tuple((float(x), float(y), float(z)) for x, y, z in sim.truth(t))
                return dataclasses.replace(tick, truth=truth)
    raise AssertionError("the simulated walker was never named")


def assert_same(expected: object, actual: object, path: str = "snapshot") -> None:
    """Field by field: arrays by dtype, shape and values; floats by value (nan is nan)."""
    assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
    if dataclasses.is_dataclass(expected):
        for f in dataclasses.fields(expected):
            assert_same(getattr(expected, f.name), getattr(actual, f.name), f"{path}.{f.name}")
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray)
        assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape), path
        assert np.array_equal(actual, expected, equal_nan=actual.dtype.kind == "f"), path
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected), path
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_same(e, a, f"{path}[{i}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual), path
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def as_json(value: object) -> Any:
    """What the snapshot would be as plain JSON, arrays as lists of numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [as_json(v) for v in value]
    return value


def rewrite_json(data: bytes, change: Callable[[dict[str, Any]], object]) -> bytes:
    """``data`` with its JSON changed by ``change`` and everything else kept."""
    body = zlib.decompress(data[HEADER:])
    (length,) = struct.unpack(">I", body[:4])
    tree = json.loads(body[4 : 4 + length])
    change(tree)
    text = json.dumps(tree).encode()
    return data[:HEADER] + zlib.compress(struct.pack(">I", len(text)) + text + body[4 + length :])


# ------------------------------------------------------------------------ round trips


def test_a_live_rooms_snapshot_comes_back_as_it_was(snapshot: SensingSnapshot) -> None:
    # The snapshot has every part a console draws, so the round trip covers them.
    assert snapshot.nodes and snapshot.links and snapshot.truth
    blob = next(b for b in snapshot.blobs if b.identity is not None)
    assert blob.trail and blob.peak_voxel is not None
    assert snapshot.voxels is not None and snapshot.voxels.values.dtype == np.float32
    assert snapshot.coverage is not None and np.isinf(snapshot.coverage.accuracy_m).any()
    assert snapshot.coverage.fall_capable.dtype == np.bool_

    data = encode_snapshot(snapshot)
    assert data[:4] == MAGIC

    decoded = decode_snapshot(data)
    assert_same(snapshot, decoded)
    assert decoded.voxels is not None and decoded.voxels.values.flags.writeable


def test_every_optional_field_and_odd_float_survives(snapshot: SensingSnapshot) -> None:
    assert snapshot.coverage is not None
    node = NodeView(
        "north",
        "North wall",
        "02:57:46:53:00:09",
        (1, 2.5, 0.8),  # an int from a config file
        True,
        role="sensor",
        firmware_version="1.4.2",
        frames_received=123456,
        frame_rate_hz=19.8,
        malformed=2,
        protocol_errors=1,
        wifi_rssi_dbm=-61,
        free_heap_bytes=81234,
        uptime_s=3600.5,
        offline_reason="",
        seconds_since_seen=0.05,
    )
    blob = dataclasses.replace(snapshot.blobs[0], value=math.nan, uncertainty_m=math.inf)
    odd = dataclasses.replace(
        snapshot,
        room_name="Lager Ü — 北",
        nodes=(*snapshot.nodes, node),
        blobs=(blob,),
        pairing_open_s=-0.0,
        coverage=dataclasses.replace(snapshot.coverage, problem="two nodes at one place"),
    )
    decoded = decode_snapshot(encode_snapshot(odd))
    as_floats = dataclasses.replace(node, position=(1.0, 2.5, 0.8))
    assert_same(dataclasses.replace(odd, nodes=(*snapshot.nodes, as_floats)), decoded)
    assert math.copysign(1.0, decoded.pairing_open_s) == -1.0


def test_a_room_before_its_first_grid_has_no_voxels_or_coverage(
    snapshot: SensingSnapshot,
) -> None:
    empty = dataclasses.replace(
        snapshot, nodes=(), links=(), blobs=(), voxels=None, coverage=None, truth=()
    )
    assert_same(empty, decode_snapshot(encode_snapshot(empty)))


def test_the_stored_snapshot_is_far_smaller_than_its_json(snapshot: SensingSnapshot) -> None:
    data = encode_snapshot(snapshot)
    raw_json = json.dumps(as_json(snapshot)).encode()
    assert len(data) * 5 < len(raw_json), f"{len(data)} bytes vs {len(raw_json)} of JSON"
    assert snapshot.voxels is not None
    assert len(data) < snapshot.voxels.values.nbytes, "smaller than the raw grid alone"


def test_an_array_of_another_dtype_than_declared_is_not_stored(
    snapshot: SensingSnapshot,
) -> None:
    assert snapshot.voxels is not None
    voxels = dataclasses.replace(snapshot.voxels, values=snapshot.voxels.values.astype(float))
    with pytest.raises(ValueError, match=r"snapshot\.voxels\.values: expected a float32 array"):
        encode_snapshot(dataclasses.replace(snapshot, voxels=voxels))


# ------------------------------------------------------------------------ bad bytes


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (3, "shorter than the header"),
        (HEADER, "truncated: the compressed data ends early"),
        (40, "truncated|corrupt"),
        (-1, "truncated: the compressed data ends early"),
    ],
)
def test_truncated_bytes_are_refused(snapshot: SensingSnapshot, cut: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_snapshot(encode_snapshot(snapshot)[:cut])


def test_every_truncation_is_a_value_error(snapshot: SensingSnapshot) -> None:
    data = encode_snapshot(snapshot)
    for cut in range(0, len(data), 97):
        with pytest.raises(ValueError):
            decode_snapshot(data[:cut])


def test_an_unknown_version_says_so(snapshot: SensingSnapshot) -> None:
    data = encode_snapshot(snapshot)
    newer = data[:4] + struct.pack(">H", FORMAT_VERSION + 1) + data[HEADER:]
    message = f"unknown sensing snapshot format version {FORMAT_VERSION + 1}"
    with pytest.raises(ValueError, match=message):
        decode_snapshot(newer)


@pytest.mark.parametrize(
    "data",
    [b"\x80\x04\x95" + b"pickle" * 10, b"{}", b""],
    ids=["pickle", "json", "empty"],
)
def test_bytes_that_are_not_a_snapshot_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a sensing snapshot"):
        decode_snapshot(data)


def test_corrupt_and_padded_data_are_refused(snapshot: SensingSnapshot) -> None:
    data = encode_snapshot(snapshot)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    with pytest.raises(ValueError, match="corrupt"):
        decode_snapshot(bytes(flipped))
    with pytest.raises(ValueError, match="trailing bytes"):
        decode_snapshot(data + b"more")


def test_a_decompression_bomb_is_refused() -> None:
    bomb = MAGIC + struct.pack(">H", FORMAT_VERSION) + zlib.compress(bytes(MAX_DECODED_BYTES + 1))
    with pytest.raises(ValueError, match="larger than"):
        decode_snapshot(bomb)


def set_path(*path: str | int, to: object) -> Callable[[dict[str, Any]], object]:
    def change(tree: Any) -> None:
        for key in path[:-1]:
            tree = tree[key]
        tree[path[-1]] = to

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            set_path("blobs", 0, "identity", "score", to="high"),
            r"snapshot\.blobs\[0\]\.identity\.score: expected float, got str",
        ),
        (set_path("nodes", 1, "online", to=1), r"snapshot\.nodes\[1\]\.online: expected bool"),
        (set_path("channel", to=6.0), r"snapshot\.channel: expected int, got float"),
        (set_path("room_size", to=[5.0, 5.0]), r"snapshot\.room_size: expected 3 items, got 2"),
        (set_path("links", to={"a": 1}), r"snapshot\.links: expected a list, got dict"),
        (set_path("nodes", 0, to="sim-1"), r"snapshot\.nodes\[0\]: expected a NodeView object"),
        (set_path("voxels", "values", "dtype", to="<f8"), r"expected dtype <f4, got '<f8'"),
        (set_path("voxels", "values", "shape", to=[10**9]), r"voxels\.values: .* runs past"),
        (set_path("voxels", "values", "shape", to=[-1]), r"non-negative ints"),
        (set_path("coverage", "xs", "offset", to=10**7), r"coverage\.xs: .* runs past"),
        (set_path("coverage", "ys", to=[0.5, 1.0]), r"coverage\.ys: expected an array reference"),
        (set_path("__class__", to="os.system"), r"unknown fields for SensingSnapshot: __class__"),
        (lambda tree: tree.pop("room_id"), r"SensingSnapshot is missing field 'room_id'"),
    ],
    ids=[
        "str-for-float",
        "int-for-bool",
        "float-for-int",
        "short-tuple",
        "dict-for-tuple",
        "str-for-dataclass",
        "wrong-dtype",
        "shape-past-end",
        "negative-shape",
        "offset-past-end",
        "list-for-array",
        "unknown-field",
        "missing-field",
    ],
)
def test_a_field_of_the_wrong_shape_or_type_is_named(
    snapshot: SensingSnapshot, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        decode_snapshot(rewrite_json(encode_snapshot(snapshot), change))


def test_json_that_does_not_parse_is_refused() -> None:
    text = b'{"room_id": '
    body = struct.pack(">I", len(text)) + text
    data = MAGIC + struct.pack(">H", FORMAT_VERSION) + zlib.compress(body)
    with pytest.raises(ValueError, match="malformed JSON"):
        decode_snapshot(data)
    too_long = MAGIC + struct.pack(">H", FORMAT_VERSION) + zlib.compress(struct.pack(">I", 99))
    with pytest.raises(ValueError, match="JSON of 99 bytes does not fit"):
        decode_snapshot(too_long)
