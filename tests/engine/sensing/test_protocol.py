"""The sensing node wire protocol: binary CSI frames, the malformed-frame policy, JSON
messages both ways, and node tokens (issue 9's vectors and spaxel's message examples)."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sensing.nodes.protocol import (
    HEADER_BYTES,
    POLICY_VIOLATION_CLOSE_CODE,
    BleMessage,
    CsiFrame,
    HealthMessage,
    Hello,
    MalformedCounter,
    MalformedFrameError,
    MotionHint,
    OtaStatus,
    ProtocolError,
    UnknownMessage,
    config_message,
    decode_json,
    encode_csi_frame,
    node_token,
    parse_csi_frame,
    parse_hello,
    parse_node_message,
    reject_message,
    role_message,
    token_matches,
)

NODE = bytes.fromhex("246F28A1B2C3")
PEER = bytes.fromhex("246F28D4E5F6")
ISSUE_TIMESTAMP = bytes.fromhex("4E61BC0000000000")  # header bytes 12–19 in issue 9


def frame_bytes(
    *,
    n_sub: int = 64,
    channel: int = 6,
    rssi: int = 0xCC,
    noise: int = 0xA1,
    timestamp: bytes = ISSUE_TIMESTAMP,
    payload: bytes | None = None,
) -> bytes:
    """A frame assembled byte by byte, independently of the encoder under test."""
    header = NODE + PEER + timestamp + bytes([rssi, noise, channel, n_sub])
    if payload is None:
        payload = bytes((i * 7) % 256 for i in range(2 * n_sub))
    return header + payload


# --- binary frames: issue 9's vectors -----------------------------------------------------------


def test_issue_vector_parses_to_its_stated_values() -> None:
    data = frame_bytes()
    assert len(data) == 152  # 64 subcarriers make a 152-byte frame
    frame = parse_csi_frame(data)
    assert frame.timestamp_us == 12_345_678
    assert frame.rssi_dbm == -52
    assert frame.noise_dbm == -95
    assert frame.channel == 6
    assert frame.n_sub == 64
    assert frame.node_mac == "24:6F:28:A1:B2:C3"
    assert frame.peer_mac == "24:6F:28:D4:E5:F6"


def test_iq_is_a_read_only_int8_view_of_i_and_q_per_subcarrier() -> None:
    payload = bytes([1, 2, 0xFF, 0x80, 0x7F, 0x00]) + bytes(2 * 61)
    frame = parse_csi_frame(frame_bytes(payload=payload))
    assert frame.iq.dtype == np.int8
    assert frame.iq.shape == (64, 2)
    assert frame.iq[:3].tolist() == [[1, 2], [-1, -128], [127, 0]]
    assert not frame.iq.flags.writeable
    with pytest.raises(ValueError):
        frame.iq[0, 0] = 5
    complex_iq = frame.complex_iq()
    assert complex_iq.dtype == np.complex64
    assert complex_iq[:3].tolist() == [1 + 2j, -1 - 128j, 127 + 0j]


def test_rssi_zero_means_do_not_normalise() -> None:
    assert parse_csi_frame(frame_bytes(rssi=0)).rssi_dbm is None
    assert parse_csi_frame(frame_bytes(rssi=0xFF)).rssi_dbm == -1


def test_a_frame_without_subcarriers_is_valid() -> None:
    frame = parse_csi_frame(frame_bytes(n_sub=0))
    assert frame.n_sub == 0
    assert frame.iq.shape == (0, 2)
    assert frame.complex_iq().shape == (0,)


def test_all_zero_iq_is_valid() -> None:
    frame = parse_csi_frame(frame_bytes(payload=bytes(128)))
    assert not frame.iq.any()
    assert np.abs(frame.complex_iq()).max() == 0


def test_128_subcarriers_and_channels_1_and_14_are_accepted() -> None:
    assert parse_csi_frame(frame_bytes(n_sub=128)).n_sub == 128
    assert len(frame_bytes(n_sub=128)) == 280
    assert parse_csi_frame(frame_bytes(channel=1)).channel == 1
    assert parse_csi_frame(frame_bytes(channel=14)).channel == 14


@pytest.mark.parametrize("size", [0, 1, 12, 23])
def test_frames_shorter_than_the_header_are_malformed(size: int) -> None:
    with pytest.raises(MalformedFrameError) as caught:
        parse_csi_frame(frame_bytes()[:size])
    assert caught.value.kind == "short"
    assert caught.value.reason == f"frame is {size} bytes, shorter than the 24-byte header"


@pytest.mark.parametrize("size", [24, 151, 153, 200])
def test_length_must_be_24_plus_two_per_subcarrier(size: int) -> None:
    data = (frame_bytes() + bytes(100))[:size]
    with pytest.raises(MalformedFrameError) as caught:
        parse_csi_frame(data)
    assert caught.value.kind == "length"
    assert f"frame is {size} bytes but n_sub 64 needs 152" in caught.value.reason


@pytest.mark.parametrize("n_sub", [129, 200, 255])
def test_more_than_128_subcarriers_is_malformed(n_sub: int) -> None:
    with pytest.raises(MalformedFrameError) as caught:
        parse_csi_frame(frame_bytes(n_sub=n_sub))  # length agrees with n_sub
    assert caught.value.kind == "n_sub"
    assert caught.value.reason == f"n_sub is {n_sub}, more than 128 subcarriers"


@pytest.mark.parametrize("channel", [0, 15, 36, 255])
def test_channel_0_or_above_14_is_malformed(channel: int) -> None:
    with pytest.raises(MalformedFrameError) as caught:
        parse_csi_frame(frame_bytes(channel=channel))
    assert caught.value.kind == "channel"
    assert caught.value.reason == f"channel is {channel}, outside 1–14"


def test_a_mutable_buffer_is_copied_so_the_frame_never_changes() -> None:
    buffer = bytearray(frame_bytes(payload=bytes(128)))
    frame = parse_csi_frame(buffer)
    buffer[24:] = b"\x05" * 128
    assert not frame.iq.any()
    assert parse_csi_frame(memoryview(bytes(buffer))).iq[0, 0] == 5


# --- encoding (the simulator's side) ----------------------------------------------------------


def test_encoded_frames_parse_back_and_reencode_byte_for_byte() -> None:
    iq = np.array([[1, -2], [127, -128], [0, 0]], dtype=np.int16)
    data = encode_csi_frame(
        node_mac="24:6f:28:a1:b2:c3",
        peer_mac="24:6F:28:D4:E5:F6",
        timestamp_us=12_345_678,
        rssi_dbm=-52,
        noise_dbm=-95,
        channel=11,
        iq=iq,
    )
    assert len(data) == HEADER_BYTES + 6
    assert data[12:20] == ISSUE_TIMESTAMP
    assert data[20:24] == bytes([0xCC, 0xA1, 11, 3])
    frame = parse_csi_frame(data)
    assert (frame.node_mac, frame.peer_mac) == ("24:6F:28:A1:B2:C3", "24:6F:28:D4:E5:F6")
    assert frame.iq.tolist() == iq.tolist()
    assert frame.to_bytes() == data


def test_unknown_rssi_is_sent_as_zero() -> None:
    data = encode_csi_frame(
        node_mac="24:6F:28:A1:B2:C3",
        peer_mac="24:6F:28:D4:E5:F6",
        timestamp_us=0,
        rssi_dbm=None,
        noise_dbm=-95,
        channel=6,
        iq=np.zeros((0, 2), dtype=np.int8),
    )
    assert data[20] == 0
    assert len(data) == HEADER_BYTES
    assert parse_csi_frame(data).rssi_dbm is None


def test_complex_iq_is_quantised_to_int8_as_the_radio_does() -> None:
    values = np.array([1.4 - 2.6j, 300 - 300j, -0.4 + 0.5j], dtype=np.complex128)
    data = encode_csi_frame(
        node_mac="24:6F:28:A1:B2:C3",
        peer_mac="24:6F:28:D4:E5:F6",
        timestamp_us=1,
        rssi_dbm=-60,
        noise_dbm=-90,
        channel=6,
        iq=values,
    )
    assert parse_csi_frame(data).iq.tolist() == [[1, -3], [127, -128], [0, 0]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": 0}, "channel 0"),
        ({"channel": 15}, "channel 15"),
        ({"rssi_dbm": -129}, "rssi_dbm -129"),
        ({"noise_dbm": 128}, "noise_dbm 128"),
        ({"timestamp_us": -1}, "timestamp_us -1"),
        ({"timestamp_us": 2**64}, "timestamp_us"),
        ({"node_mac": "24:6F:28:A1:B2"}, "node_mac"),
        ({"iq": np.zeros((129, 2), dtype=np.int8)}, "129 subcarriers"),
        ({"iq": np.array([[128, 0]])}, "int8"),
        ({"iq": np.zeros((4, 3), dtype=np.int8)}, "shape"),
        ({"iq": np.zeros((4, 2), dtype=np.float32)}, "integers"),
    ],
)
def test_encoding_refuses_what_would_be_a_malformed_frame(
    change: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {
        "node_mac": "24:6F:28:A1:B2:C3",
        "peer_mac": "24:6F:28:D4:E5:F6",
        "timestamp_us": 1,
        "rssi_dbm": -60,
        "noise_dbm": -90,
        "channel": 6,
        "iq": np.zeros((64, 2), dtype=np.int8),
    } | change
    with pytest.raises(ValueError, match=message):
        encode_csi_frame(**arguments)


# --- fuzzing ----------------------------------------------------------------------------------


def _check_against_the_rules(data: bytes) -> None:
    """Parse ``data``: a frame consistent with the framing rules, or MalformedFrameError."""
    try:
        frame = parse_csi_frame(data)
    except MalformedFrameError as error:
        assert error.kind in {"short", "length", "n_sub", "channel"}
        assert error.reason
        return
    assert len(data) >= HEADER_BYTES
    n_sub, channel = data[23], data[22]
    assert n_sub <= 128
    assert len(data) == HEADER_BYTES + 2 * n_sub
    assert 1 <= channel <= 14
    assert isinstance(frame, CsiFrame)
    assert frame.iq.shape == (n_sub, 2)
    assert frame.to_bytes() == data


@settings(max_examples=1000, deadline=None, database=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_parse_or_raise_malformed_and_nothing_else(data: bytes) -> None:
    _check_against_the_rules(data)


@settings(max_examples=500, deadline=None, database=None)
@given(
    node=st.binary(min_size=6, max_size=6),
    peer=st.binary(min_size=6, max_size=6),
    timestamp_us=st.integers(0, 2**64 - 1),
    rssi=st.integers(-128, 127),
    noise=st.integers(-128, 127),
    channel=st.integers(1, 14),
    data=st.data(),
)
def test_valid_frames_parse_to_exactly_their_fields(
    node: bytes,
    peer: bytes,
    timestamp_us: int,
    rssi: int,
    noise: int,
    channel: int,
    data: st.DataObject,
) -> None:
    n_sub = data.draw(st.integers(0, 128), label="n_sub")
    payload = data.draw(st.binary(min_size=2 * n_sub, max_size=2 * n_sub), label="payload")
    raw = node + peer + struct.pack("<QbbBB", timestamp_us, rssi, noise, channel, n_sub) + payload
    frame = parse_csi_frame(raw)
    assert frame.node_mac == ":".join(f"{b:02X}" for b in node)
    assert frame.peer_mac == ":".join(f"{b:02X}" for b in peer)
    assert frame.timestamp_us == timestamp_us
    assert frame.rssi_dbm == (rssi or None)
    assert frame.noise_dbm == noise
    assert frame.channel == channel
    assert frame.iq.tobytes() == payload
    assert frame.iq.reshape(-1).tolist() == list(struct.unpack(f"<{2 * n_sub}b", payload))
    assert frame.to_bytes() == raw


@settings(max_examples=500, deadline=None, database=None)
@given(
    channel=st.integers(0, 255) | st.sampled_from([0, 1, 14, 15]),
    n_sub=st.integers(0, 255) | st.sampled_from([0, 1, 128, 129]),
    length_error=st.sampled_from([0, 0, 0, -2, -1, 1, 2]),
)
def test_headers_near_the_limits_follow_the_framing_rules(
    channel: int, n_sub: int, length_error: int
) -> None:
    payload = bytes(max(0, 2 * n_sub + length_error))
    _check_against_the_rules(frame_bytes(channel=channel, n_sub=n_sub, payload=payload))


# --- malformed-frame policy -------------------------------------------------------------------


def test_a_node_goes_over_the_limit_at_the_1001st_malformed_frame_in_a_minute() -> None:
    counter = MalformedCounter()
    assert not any(counter.record("AA:AA:AA:AA:AA:01", 100.0 + i * 0.05) for i in range(1000))
    assert counter.in_window("AA:AA:AA:AA:AA:01", 150.0) == 1000
    assert not counter.over_limit("AA:AA:AA:AA:AA:01", 150.0)
    assert counter.record("AA:AA:AA:AA:AA:01", 150.0)
    assert counter.over_limit("AA:AA:AA:AA:AA:01", 150.0)
    assert POLICY_VIOLATION_CLOSE_CODE == 1008


def test_the_window_slides_so_old_malformed_frames_stop_counting() -> None:
    counter = MalformedCounter()
    for _ in range(1000):
        counter.record("AA:AA:AA:AA:AA:01", 0.0)
    assert counter.record("AA:AA:AA:AA:AA:01", 59.9)  # 1,001 within 60 s
    counter.forget("AA:AA:AA:AA:AA:01")
    for _ in range(1000):
        counter.record("AA:AA:AA:AA:AA:01", 0.0)
    assert not counter.record("AA:AA:AA:AA:AA:01", 60.0)  # the first 1,000 are a minute old
    assert counter.in_window("AA:AA:AA:AA:AA:01", 60.0) == 1
    assert counter.in_window("AA:AA:AA:AA:AA:01", 200.0) == 0
    assert counter.total("AA:AA:AA:AA:AA:01") == 1001


def test_a_steady_trickle_below_the_limit_never_trips() -> None:
    counter = MalformedCounter()
    # 16 a second is 960 a minute: under the limit however long it lasts.
    assert not any(counter.record("n", i / 16) for i in range(16 * 600))
    assert counter.total("n") == 16 * 600


def test_nodes_are_counted_separately() -> None:
    counter = MalformedCounter(limit=3, window_s=10.0)
    for _ in range(3):
        counter.record("a", 1.0)
        counter.record("b", 1.0)
    assert counter.record("a", 2.0)
    assert not counter.over_limit("b", 2.0)
    assert counter.total("a") == 4
    assert counter.total("b") == 3
    assert counter.total("c") == 0
    counter.forget("a")
    assert counter.total("a") == 0
    assert counter.in_window("a", 2.0) == 0


# --- hello ------------------------------------------------------------------------------------

SPAXEL_HELLO: dict[str, Any] = {  # spaxel's documented hello, plus the simulator's position
    "type": "hello",
    "mac": "AA:BB:CC:DD:EE:FF",
    "node_id": "f47ac10b-58cc",
    "firmware_version": "1.2.3",
    "capabilities": ["csi", "ble", "tx", "rx"],
    "chip": "ESP32-S3",
    "flash_mb": 16,
    "uptime_ms": 4200,
    "ap_bssid": "10:20:30:40:50:60",
    "ap_channel": 6,
}


def test_spaxel_firmware_hello_is_accepted() -> None:
    hello = parse_hello(SPAXEL_HELLO)
    assert hello == Hello(
        mac="AA:BB:CC:DD:EE:FF",
        firmware_version="1.2.3",
        capabilities=("csi", "ble", "tx", "rx"),
        node_id="f47ac10b-58cc",
        chip="ESP32-S3",
        flash_mb=16,
        uptime_ms=4200,
        ap_bssid="10:20:30:40:50:60",
        ap_channel=6,
    )
    assert hello.position is None
    assert hello.token is None


def test_minimal_hello_and_lower_case_macs_are_upper_cased() -> None:
    hello = parse_hello(
        {
            "type": "hello",
            "mac": "aa:bb:cc:dd:ee:0f",
            "firmware_version": "",
            "capabilities": [],
            "ap_bssid": "0a:0b:0c:0d:0e:0f",
            "wifi_rssi": -61,
            "ip": "192.168.1.23",
            "node_id": None,  # null is "not given"
        }
    )
    assert hello.mac == "AA:BB:CC:DD:EE:0F"
    assert hello.ap_bssid == "0A:0B:0C:0D:0E:0F"
    assert (hello.wifi_rssi, hello.ip, hello.node_id) == (-61, "192.168.1.23", None)
    assert hello.capabilities == ()


def test_hello_position_takes_integers_and_floats_in_metres() -> None:
    hello = parse_hello(SPAXEL_HELLO | {"pos_x": 0, "pos_y": 2.5, "pos_z": -1})
    assert hello.position == (0.0, 2.5, -1.0)
    assert all(type(v) is float for v in hello.position)


def test_hello_token_stays_out_of_repr() -> None:
    hello = parse_hello(SPAXEL_HELLO | {"token": "s3cr3t-token"})
    assert hello.token == "s3cr3t-token"
    assert "s3cr3t" not in repr(hello)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "health"}, 'type: expected "hello", got string "health"'),
        ({"type": None}, "type: expected"),
        ({"mac": None}, "mac: is null"),
        ({"mac": "AA:BB:CC:DD:EE"}, "mac: expected a MAC like AA:BB:CC:DD:EE:FF"),
        ({"mac": "AABBCCDDEEFF"}, "mac: expected a MAC"),
        ({"mac": "AA-BB-CC-DD-EE-FF"}, "mac: expected a MAC"),
        ({"mac": "GG:BB:CC:DD:EE:FF"}, "mac: expected a MAC"),
        ({"mac": "AA:BB:CC:DD:EE:FF "}, "mac: expected a MAC"),
        ({"mac": 12}, "mac: expected a MAC string, got integer 12"),
        ({"firmware_version": 1}, "firmware_version: expected a string"),
        ({"capabilities": "csi"}, "capabilities: expected a list of strings"),
        ({"capabilities": ["csi", 3]}, "capabilities[1]: expected a string"),
        ({"flash_mb": "16"}, "flash_mb: expected an integer"),
        ({"flash_mb": -1}, "flash_mb: expected an integer ≥ 0"),
        ({"uptime_ms": 1.5}, "uptime_ms: expected an integer"),
        ({"uptime_ms": True}, "uptime_ms: expected an integer, got boolean"),
        ({"ap_bssid": "router"}, "ap_bssid: expected a MAC"),
        ({"ap_channel": 300}, "ap_channel: expected an integer 0…255"),
        ({"wifi_rssi": -200}, "wifi_rssi: expected an integer -128…127"),
        ({"ip": "192.168.1"}, "ip: expected an IP address"),
        ({"token": 5}, "token: expected a string"),
        ({"node_id": ["x"]}, "node_id: expected a string, got list"),
        ({"pos_x": 1.0}, "pos_y: missing (pos_x, pos_y and pos_z come together)"),
        ({"pos_x": 1.0, "pos_y": 2.0}, "pos_z: missing"),
        ({"pos_y": 1.0, "pos_z": 2.0}, "pos_x: missing"),
        ({"pos_x": True, "pos_y": 1, "pos_z": 1}, "pos_x: expected a number, got boolean"),
        ({"pos_x": 1, "pos_y": "2", "pos_z": 1}, "pos_y: expected a number, got string"),
        ({"pos_x": 1, "pos_y": 2, "pos_z": float("nan")}, "pos_z: expected a finite number"),
    ],
)
def test_a_bad_hello_is_rejected_naming_the_field(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_hello(SPAXEL_HELLO | change)
    assert str(caught.value).startswith(reason)
    assert caught.value.field == reason.split(":")[0]


@pytest.mark.parametrize("missing", ["mac", "firmware_version", "capabilities", "type"])
def test_a_hello_without_a_required_field_names_it(missing: str) -> None:
    fields = {k: v for k, v in SPAXEL_HELLO.items() if k != missing}
    with pytest.raises(ProtocolError) as caught:
        parse_hello(fields)
    assert caught.value.field == missing


@pytest.mark.parametrize("obj", [[], "hello", None, 3])
def test_a_hello_that_is_no_object_is_rejected(obj: Any) -> None:
    with pytest.raises(ProtocolError, match=r"^message: expected a JSON object"):
        parse_hello(obj)


# --- messages after hello ---------------------------------------------------------------------


def test_spaxel_health_is_read_and_extra_fields_are_kept() -> None:
    message = parse_node_message(
        json.loads(
            '{"type":"health","mac":"AA:BB:CC:DD:EE:FF","timestamp_ms":1711234567890,'
            '"free_heap_bytes":204800,"wifi_rssi_dbm":-52,"uptime_ms":3600000,'
            '"temperature_c":42.1,"csi_rate_hz":20,"wifi_channel":6,"ip":"192.168.1.123",'
            '"ntp_synced":true}'
        )
    )
    assert isinstance(message, HealthMessage)
    assert message.mac == "AA:BB:CC:DD:EE:FF"
    assert message.timestamp_ms == 1_711_234_567_890
    assert (message.free_heap_bytes, message.wifi_rssi_dbm, message.uptime_ms) == (
        204_800,
        -52,
        3_600_000,
    )
    assert (message.csi_rate_hz, message.wifi_channel) == (20.0, 6)
    assert dict(message.extra) == {"temperature_c": 42.1, "ip": "192.168.1.123", "ntp_synced": True}
    with pytest.raises(TypeError):
        message.extra["ip"] = "changed"  # type: ignore[index]


def test_health_without_optional_readings_still_counts() -> None:
    message = parse_node_message({"type": "health", "mac": "aa:bb:cc:dd:ee:ff", "timestamp_ms": 5})
    assert isinstance(message, HealthMessage)
    assert message.mac == "AA:BB:CC:DD:EE:FF"
    assert message.free_heap_bytes is None
    assert message.csi_rate_hz is None
    assert dict(message.extra) == {}


def test_whole_floats_are_read_as_integers() -> None:
    message = parse_node_message(
        {"type": "health", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 1e3, "wifi_channel": 6.0}
    )
    assert isinstance(message, HealthMessage)
    assert (message.timestamp_ms, message.wifi_channel) == (1000, 6)
    assert type(message.timestamp_ms) is int


def test_spaxel_ble_report_is_read() -> None:
    message = parse_node_message(
        {
            "type": "ble",
            "mac": "AA:BB:CC:DD:EE:FF",
            "timestamp_ms": 1711234567890,
            "devices": [
                {
                    "addr": "c0:ff:ee:00:11:22",
                    "addr_type": "public",
                    "rssi_dbm": -62,
                    "name": "iPhone",
                    "mfr_id": 76,
                    "mfr_data_hex": "0215ab",
                },
                {"addr": "11:22:33:44:55:66", "rssi_dbm": -90},
            ],
        }
    )
    assert isinstance(message, BleMessage)
    first, second = message.devices
    assert first.addr == "C0:FF:EE:00:11:22"
    assert (first.addr_type, first.rssi_dbm, first.name, first.mfr_id) == (
        "public",
        -62,
        "iPhone",
        76,
    )
    assert first.mfr_data_hex == "0215AB"
    assert bytes.fromhex(first.mfr_data_hex) == b"\x02\x15\xab"
    assert (second.addr_type, second.name, second.mfr_id, second.mfr_data_hex) == (None,) * 4


def test_motion_hint_and_ota_status_are_read() -> None:
    hint = parse_node_message(
        {"type": "motion_hint", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 9, "variance": 0.043}
    )
    assert hint == MotionHint(mac="AA:BB:CC:DD:EE:FF", timestamp_ms=9, variance=0.043)
    ota = parse_node_message(
        {
            "type": "ota_status",
            "mac": "AA:BB:CC:DD:EE:FF",
            "state": "failed",
            "progress_pct": 45,
            "error": "sha256_mismatch",
        }
    )
    assert isinstance(ota, OtaStatus)
    assert ota.mac == "AA:BB:CC:DD:EE:FF"
    assert dict(ota.fields) == {"state": "failed", "progress_pct": 45, "error": "sha256_mismatch"}


def test_unknown_types_are_returned_to_be_counted_not_raised() -> None:
    message = parse_node_message({"type": "baseline_dump", "mac": "x", "values": [1, 2]})
    assert isinstance(message, UnknownMessage)
    assert message.type == "baseline_dump"
    assert dict(message.fields) == {"mac": "x", "values": [1, 2]}


def test_a_repeated_hello_is_read_as_a_hello() -> None:
    assert parse_node_message(SPAXEL_HELLO) == parse_hello(SPAXEL_HELLO)


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ([], "message: expected a JSON object, got list"),
        ({"mac": "AA:BB:CC:DD:EE:FF"}, "type: missing"),
        ({"type": 3}, "type: expected a string, got integer 3"),
        ({"type": "health", "timestamp_ms": 1}, "mac: missing"),
        ({"type": "health", "mac": "AA:BB:CC:DD:EE:FF"}, "timestamp_ms: missing"),
        (
            {"type": "health", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": -1},
            "timestamp_ms: expected an integer ≥ 0",
        ),
        (
            {"type": "health", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 1, "wifi_rssi_dbm": "x"},
            "wifi_rssi_dbm: expected an integer",
        ),
        (
            {"type": "health", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 1, "csi_rate_hz": -5},
            "csi_rate_hz: expected a number ≥ 0",
        ),
        (
            {"type": "health", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 1, "uptime_ms": False},
            "uptime_ms: expected an integer, got boolean",
        ),
        ({"type": "ble", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 1}, "devices: missing"),
        (
            {"type": "ble", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 1, "devices": {}},
            "devices: expected a list",
        ),
        (
            {"type": "ble", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 1, "devices": [3]},
            "devices[0]: expected an object",
        ),
        (
            {
                "type": "ble",
                "mac": "AA:BB:CC:DD:EE:FF",
                "timestamp_ms": 1,
                "devices": [{"addr": "11:22:33:44:55:66", "rssi_dbm": -1}, {"addr": "bad"}],
            },
            "devices[1].addr: expected a MAC",
        ),
        (
            {
                "type": "ble",
                "mac": "AA:BB:CC:DD:EE:FF",
                "timestamp_ms": 1,
                "devices": [{"addr": "11:22:33:44:55:66"}],
            },
            "devices[0].rssi_dbm: missing",
        ),
        (
            {
                "type": "ble",
                "mac": "AA:BB:CC:DD:EE:FF",
                "timestamp_ms": 1,
                "devices": [{"addr": "11:22:33:44:55:66", "rssi_dbm": -1, "mfr_data_hex": "abc"}],
            },
            "devices[0].mfr_data_hex: expected hex bytes",
        ),
        (
            {
                "type": "ble",
                "mac": "AA:BB:CC:DD:EE:FF",
                "timestamp_ms": 1,
                "devices": [{"addr": "11:22:33:44:55:66", "rssi_dbm": -1, "mfr_id": 70000}],
            },
            "devices[0].mfr_id: expected an integer 0…65535",
        ),
        (
            {"type": "motion_hint", "mac": "AA:BB:CC:DD:EE:FF", "timestamp_ms": 1},
            "variance: missing",
        ),
        (
            {
                "type": "motion_hint",
                "mac": "AA:BB:CC:DD:EE:FF",
                "timestamp_ms": 1,
                "variance": True,
            },
            "variance: expected a number, got boolean",
        ),
        ({"type": "ota_status", "state": "writing"}, "mac: missing"),
    ],
)
def test_a_malformed_known_message_names_the_field(obj: Any, reason: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_node_message(obj)
    assert str(caught.value).startswith(reason)


def test_text_that_is_not_json_is_a_protocol_error() -> None:
    assert decode_json('{"type": "health"}') == {"type": "health"}
    assert decode_json(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    for text in ("{", "", b"\xff\xfe\x00", '{"variance": NaN}', "[Infinity]"):
        with pytest.raises(ProtocolError, match=r"^message: not valid JSON"):
            decode_json(text)


# --- messages to nodes ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["tx", "rx", "tx_rx", "passive", "idle"])
def test_role_messages(role: str) -> None:
    assert role_message(role) == {"type": "role", "role": role}


def test_role_message_checks_its_role_and_passive_bssid() -> None:
    assert role_message("passive", passive_bssid="aa:bb:cc:dd:ee:ff") == {
        "type": "role",
        "role": "passive",
        "passive_bssid": "AA:BB:CC:DD:EE:FF",
    }
    with pytest.raises(ValueError, match="not one of"):
        role_message("leader")
    with pytest.raises(ValueError, match="only with the passive role"):
        role_message("rx", passive_bssid="AA:BB:CC:DD:EE:FF")


def test_config_message_carries_the_settings_given() -> None:
    message = config_message(rate_hz=20, tx_slot_us=1500, variance_threshold=0.02)
    assert message == {
        "type": "config",
        "rate_hz": 20,
        "tx_slot_us": 1500,
        "variance_threshold": 0.02,
    }
    assert json.loads(json.dumps(message)) == message
    assert config_message(20, 0, 0) == {
        "type": "config",
        "rate_hz": 20,
        "tx_slot_us": 0,
        "variance_threshold": 0.0,
    }
    assert config_message(rate_hz=10) == {"type": "config", "rate_hz": 10}


@pytest.mark.parametrize(
    "arguments",
    [
        {"rate_hz": 0},
        {"rate_hz": 2.5},
        {"rate_hz": True},
        {"tx_slot_us": -1},
        {"variance_threshold": -0.1},
        {"variance_threshold": float("inf")},
    ],
)
def test_config_message_refuses_out_of_range_settings(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        config_message(**arguments)


def test_reject_message_carries_the_reason() -> None:
    error = ProtocolError("pos_y", "missing (pos_x, pos_y and pos_z come together)")
    assert reject_message(str(error)) == {
        "type": "reject",
        "reason": "pos_y: missing (pos_x, pos_y and pos_z come together)",
    }


# --- tokens -----------------------------------------------------------------------------------

SECRET = "watchfloor-install-secret"
# printf 'AABBCCDDEEFF' | openssl dgst -sha256 -hmac 'watchfloor-install-secret'
TOKEN_AABBCCDDEEFF = "64a1d89c0e37136b13aab1b1060e973debd76ed64873335169a62f6655f245a5"


def test_node_token_is_hmac_sha256_of_the_bare_upper_case_mac() -> None:
    assert node_token(SECRET, "AA:BB:CC:DD:EE:FF") == TOKEN_AABBCCDDEEFF
    assert node_token(SECRET.encode(), "aa:bb:cc:dd:ee:ff") == TOKEN_AABBCCDDEEFF
    expected = hmac.new(b"watchfloor-install-secret", b"246F28A1B2C3", hashlib.sha256).hexdigest()
    assert node_token(SECRET, "24:6f:28:a1:b2:c3") == expected
    assert expected == "e5b63dc3ff8ca700a55508c2953d06d579ac8af162844d191ab9a61f62e23aba"
    assert node_token("another-secret", "AA:BB:CC:DD:EE:FF") != TOKEN_AABBCCDDEEFF


def test_node_token_needs_a_mac() -> None:
    with pytest.raises(ProtocolError, match=r"^mac: "):
        node_token(SECRET, "AABBCCDDEEFF")


def test_token_matches_only_the_exact_token() -> None:
    assert token_matches(TOKEN_AABBCCDDEEFF, TOKEN_AABBCCDDEEFF)
    assert not token_matches(TOKEN_AABBCCDDEEFF, TOKEN_AABBCCDDEEFF.upper())
    assert not token_matches(TOKEN_AABBCCDDEEFF, TOKEN_AABBCCDDEEFF[:-1])
    assert not token_matches(TOKEN_AABBCCDDEEFF, "")
    assert not token_matches(TOKEN_AABBCCDDEEFF, None)
    assert not token_matches(TOKEN_AABBCCDDEEFF, "jeton-é-\ud800")  # non-ASCII: no TypeError
