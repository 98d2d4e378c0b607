"""The sensing node wire protocol, wire-compatible with spaxel's ESP32 nodes and simulator.

Pure functions and value types, no I/O: the node server (WebSocket ``/ws/node``) feeds them
what it receives and sends what they build. Everything here may be called from any thread;
only :class:`MalformedCounter` keeps state, and it belongs to one owner (the server's loop).

Binary CSI frame, little-endian (spaxel ``ingestion/frame.go``)::

    offset  size  field
     0       6    node MAC (the node that sent the frame)
     6       6    peer MAC (the other end of the link)
    12       8    timestamp, µs since the node booted (uint64; node clocks are not in sync)
    20       1    RSSI, dBm (int8; 0 = unknown: do not normalise amplitudes by it)
    21       1    noise floor, dBm (int8)
    22       1    WiFi channel (uint8, 1–14)
    23       1    n_sub, subcarrier count (uint8, at most 128; 0 is valid)
    24   2·n_sub  per subcarrier: int8 I, int8 Q

Which MAC transmitted is not assumed (spaxel's firmware and simulator disagree): a link's
geometry is the pair of node positions.

Text messages are JSON objects with a ``type``. A node's first message is ``hello``
(:func:`parse_hello`); afterwards :func:`parse_node_message` reads ``health``, ``ble``,
``motion_hint`` and ``ota_status``, and returns :class:`UnknownMessage` for other types (to be
counted and ignored). Malformed messages raise :class:`ProtocolError`, whose text names the
field and goes into the ``reject`` reason. :func:`role_message`, :func:`config_message` and
:func:`reject_message` build what the server sends.

Nodes authenticate with a random token of their own (:mod:`engine.sensing.nodes.tokens`);
:func:`node_token` is the token an install of old derived from its install secret, still
accepted for its site file's nodes until they are rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import re
import struct
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

from engine.inbound import JsonInputError, loads_json

# --- binary CSI frames ------------------------------------------------------------------------

HEADER_BYTES: Final = 24
MAX_SUBCARRIERS: Final = 128  # spaxel MaxPayloadSize / 2; an ESP32 reports at most 128
MIN_CHANNEL: Final = 1
MAX_CHANNEL: Final = 14  # 2.4 GHz band
_HEADER = struct.Struct("<6s6sQbbBB")
_UINT64_MAX: Final = 2**64 - 1
_INT64_MAX: Final = 2**63 - 1  # a JSON integer beyond this fits no store column or C long
MAX_POSITION_M: Final = 10_000.0  # a hello's pos_x/y/z farther from the origin is no room's
_INT8: Final = np.dtype(np.int8)

# A frame with no subcarriers shares one read-only empty array.
_NO_IQ: Final = np.zeros((0, 2), dtype=np.int8)
_NO_IQ.flags.writeable = False


class MalformedFrameError(ValueError):
    """A binary CSI frame broke a framing rule; the frame is dropped and counted.

    ``reason`` is a sentence for logs and health; ``kind`` one of ``short``, ``length``,
    ``n_sub``, ``channel`` for counting by cause."""

    def __init__(self, reason: str, *, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True, slots=True, eq=False)
class CsiFrame:
    """One parsed CSI frame.

    MACs are upper-case ``AA:BB:CC:DD:EE:FF``. ``rssi_dbm`` is None when the node sent 0
    ("do not normalise"). ``iq`` is a read-only int8 array of shape ``(n_sub, 2)``, columns
    I and Q, viewing the frame's bytes (no copy); :meth:`complex_iq` gives ``I + jQ``. All-zero
    I/Q is valid. Compared by identity (``eq=False``): the array has no single truth value.
    ``raw``: the message as received, for a parsed frame (what a recording keeps).
    """

    node_mac: str
    peer_mac: str
    timestamp_us: int
    rssi_dbm: int | None
    noise_dbm: int
    channel: int
    iq: npt.NDArray[np.int8]
    raw: bytes | None = None

    @property
    def n_sub(self) -> int:
        return int(self.iq.shape[0])

    def complex_iq(self) -> npt.NDArray[np.complex64]:
        """``I + jQ`` per subcarrier, complex64 of shape ``(n_sub,)`` (a new array)."""
        values = np.empty(self.iq.shape[0], dtype=np.complex64)
        values.real = self.iq[:, 0]
        values.imag = self.iq[:, 1]
        return values

    def to_bytes(self) -> bytes:
        """This frame on the wire again (``parse_csi_frame(f.to_bytes())`` round-trips): the
        bytes it was parsed from, else encoded."""
        if self.raw is not None:
            return self.raw
        return encode_csi_frame(
            node_mac=self.node_mac,
            peer_mac=self.peer_mac,
            timestamp_us=self.timestamp_us,
            rssi_dbm=self.rssi_dbm,
            noise_dbm=self.noise_dbm,
            channel=self.channel,
            iq=self.iq,
        )


def parse_csi_frame(data: bytes | bytearray | memoryview) -> CsiFrame:
    """Parse one binary WebSocket message as a CSI frame, or raise
    :class:`MalformedFrameError` saying which rule it broke: shorter than the 24-byte header,
    n_sub above 128, length other than ``24 + 2·n_sub``, channel 0 or above 14.

    A few microseconds per frame (``python -m benchmarks csi_parse``): the header is one
    ``struct`` unpack and the I/Q a zero-copy numpy view of the bytes. A mutable buffer is
    copied first so the frame never changes under the caller. Any thread.
    """
    if type(data) is not bytes:
        data = bytes(data)
    size = len(data)
    if size < HEADER_BYTES:
        raise MalformedFrameError(
            f"frame is {size} bytes, shorter than the {HEADER_BYTES}-byte header", kind="short"
        )
    node, peer, timestamp_us, rssi, noise, channel, n_sub = _HEADER.unpack_from(data)
    if n_sub > MAX_SUBCARRIERS:
        raise MalformedFrameError(
            f"n_sub is {n_sub}, more than {MAX_SUBCARRIERS} subcarriers", kind="n_sub"
        )
    expected = HEADER_BYTES + 2 * n_sub
    if size != expected:
        raise MalformedFrameError(
            f"frame is {size} bytes but n_sub {n_sub} needs {expected} (24 + 2·n_sub)",
            kind="length",
        )
    if channel < MIN_CHANNEL or channel > MAX_CHANNEL:
        raise MalformedFrameError(
            f"channel is {channel}, outside {MIN_CHANNEL}–{MAX_CHANNEL}", kind="channel"
        )
    # np.ndarray over the bytes object: one call, no copy, read-only (bytes are immutable).
    iq = np.ndarray((n_sub, 2), _INT8, data, HEADER_BYTES) if n_sub else _NO_IQ
    return CsiFrame(
        node.hex(":").upper(),
        peer.hex(":").upper(),
        timestamp_us,
        rssi or None,
        noise,
        channel,
        iq,
        data,
    )


def encode_csi_frame(
    *,
    node_mac: str,
    peer_mac: str,
    timestamp_us: int,
    rssi_dbm: int | None,
    noise_dbm: int,
    channel: int,
    iq: npt.ArrayLike,
) -> bytes:
    """Build a binary CSI frame as a node sends it (the simulator's encoder).

    ``iq`` is either integers of shape ``(n_sub, 2)`` (I, Q; each within −128…127) or a 1-D
    complex array of ``n_sub`` values, which is quantised as the radio does: rounded to the
    nearest integer and saturated to int8. ``rssi_dbm`` None (or 0) is sent as 0, "do not
    normalise". Raises ValueError for anything that would make a malformed frame.
    """
    node = _mac_bytes(node_mac, "node_mac")
    peer = _mac_bytes(peer_mac, "peer_mac")
    if not 0 <= timestamp_us <= _UINT64_MAX:
        raise ValueError(f"timestamp_us {timestamp_us} does not fit an unsigned 64-bit integer")
    rssi = 0 if rssi_dbm is None else rssi_dbm
    for name, value in (("rssi_dbm", rssi), ("noise_dbm", noise_dbm)):
        if not -128 <= value <= 127:
            raise ValueError(f"{name} {value} does not fit a signed byte")
    if not MIN_CHANNEL <= channel <= MAX_CHANNEL:
        raise ValueError(f"channel {channel} is outside {MIN_CHANNEL}–{MAX_CHANNEL}")
    pairs = _iq_pairs(iq)
    n_sub = pairs.shape[0]
    if n_sub > MAX_SUBCARRIERS:
        raise ValueError(f"{n_sub} subcarriers, more than {MAX_SUBCARRIERS}")
    header = _HEADER.pack(node, peer, timestamp_us, rssi, noise_dbm, channel, n_sub)
    return header + pairs.tobytes()


def _iq_pairs(iq: npt.ArrayLike) -> npt.NDArray[np.int8]:
    values = np.asarray(iq)
    if np.iscomplexobj(values):
        if values.ndim != 1:
            raise ValueError(f"complex iq must be 1-D (n_sub,), got shape {values.shape}")
        pairs = np.empty((values.shape[0], 2), dtype=np.float64)
        pairs[:, 0] = values.real
        pairs[:, 1] = values.imag
        return np.clip(np.rint(pairs), -128, 127).astype(np.int8)
    if values.ndim != 2 or values.shape[1] != 2:
        raise ValueError(f"iq must have shape (n_sub, 2), got {values.shape}")
    if not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"iq pairs must be integers, got {values.dtype}")
    if values.size and (int(values.min()) < -128 or int(values.max()) > 127):
        raise ValueError("iq values must lie within −128…127 (int8)")
    return np.ascontiguousarray(values, dtype=np.int8)


# --- malformed-frame policy -------------------------------------------------------------------

MALFORMED_LIMIT: Final = 1000  # malformed frames per window a node may send before it is closed
MALFORMED_WINDOW_S: Final = 60.0
POLICY_VIOLATION_CLOSE_CODE: Final = 1008  # WebSocket close code (RFC 6455 §7.4.1)


class MalformedCounter:
    """Malformed frames per node over a sliding window, and whether a node went over the limit.

    The server records each malformed frame with :meth:`record` and closes the connection with
    :data:`POLICY_VIOLATION_CLOSE_CODE` when it returns True: more than ``limit`` (1,000)
    malformed frames within the last ``window_s`` (60) seconds. Times are monotonic seconds
    passed in (the engine clock), so tests drive it without waiting. Memory per node is
    bounded: only the newest ``limit + 1`` times are kept, which is all the decision needs.
    Not thread-safe: one owner (the server's event loop).
    """

    def __init__(self, limit: int = MALFORMED_LIMIT, window_s: float = MALFORMED_WINDOW_S) -> None:
        if limit < 0 or window_s <= 0:
            raise ValueError("limit must be ≥ 0 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._recent: dict[str, deque[float]] = {}
        self._totals: dict[str, int] = {}

    def record(self, node: str, now: float) -> bool:
        """Count one malformed frame from ``node`` at ``now``; True when the node is over the
        limit (more than ``limit`` in the last ``window_s`` seconds, ``now`` included)."""
        recent = self._recent.get(node)
        if recent is None:
            recent = self._recent[node] = deque(maxlen=self.limit + 1)
        recent.append(now)
        self._totals[node] = self._totals.get(node, 0) + 1
        self._drop_old(recent, now)
        return len(recent) > self.limit

    def in_window(self, node: str, now: float) -> int:
        """Malformed frames from ``node`` in the window ending at ``now``. Exact up to
        ``limit + 1``; a node past that is over the limit anyway."""
        recent = self._recent.get(node)
        if recent is None:
            return 0
        self._drop_old(recent, now)
        return len(recent)

    def over_limit(self, node: str, now: float) -> bool:
        """Whether ``node`` is over the limit at ``now`` (without counting a frame)."""
        return self.in_window(node, now) > self.limit

    def total(self, node: str) -> int:
        """Malformed frames from ``node`` since it was first seen (or last forgotten)."""
        return self._totals.get(node, 0)

    def forget(self, node: str) -> None:
        """Drop everything about ``node`` (it was removed from the site)."""
        self._recent.pop(node, None)
        self._totals.pop(node, None)

    def _drop_old(self, recent: deque[float], now: float) -> None:
        horizon = now - self.window_s
        while recent and recent[0] <= horizon:
            recent.popleft()


# --- JSON text messages -----------------------------------------------------------------------

ROLES: Final = ("tx", "rx", "tx_rx", "passive", "idle")
_MAC_PATTERN = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_HEX_PATTERN = re.compile(r"(?:[0-9A-Fa-f]{2})*")


class ProtocolError(ValueError):
    """A JSON message broke the protocol. ``str(error)`` is ``"<field>: <problem>"`` (for
    example ``"pos_y: missing (pos_x, pos_y and pos_z come together)"``), ready for a
    ``reject`` reason; ``field`` names the field (``devices[2].rssi_dbm`` inside lists)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Hello:
    """A node's first message. ``mac`` and ``ap_bssid`` are upper case, colon separated.
    ``position`` is ``(pos_x, pos_y, pos_z)`` in metres on the site's axes (x, y on the floor,
    z up), or None when the node did not announce one; the site file's positions win.
    ``token`` is kept out of ``repr`` so it never reaches a log."""

    mac: str
    firmware_version: str
    capabilities: tuple[str, ...]
    node_id: str | None = None
    chip: str | None = None
    flash_mb: int | None = None
    uptime_ms: int | None = None
    ap_bssid: str | None = None
    ap_channel: int | None = None
    wifi_rssi: int | None = None
    ip: str | None = None
    token: str | None = field(default=None, repr=False)
    position: tuple[float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class HealthMessage:
    """A node's periodic health (every 10 s on spaxel firmware). Only ``mac`` and
    ``timestamp_ms`` (node uptime clock, not wall time) are required; a field the node left
    out is None. Fields beyond the known ones (``temperature_c``, ``ip``, ``ntp_synced``, …)
    are kept as sent in ``extra``."""

    mac: str
    timestamp_ms: int
    free_heap_bytes: int | None
    wifi_rssi_dbm: int | None
    uptime_ms: int | None
    csi_rate_hz: float | None
    wifi_channel: int | None
    extra: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BleDevice:
    """One BLE advertiser a node heard. ``addr`` is upper case, colon separated;
    ``mfr_data_hex`` upper-case hex (``bytes.fromhex`` reads it)."""

    addr: str
    rssi_dbm: int
    addr_type: str | None = None
    name: str | None = None
    mfr_id: int | None = None
    mfr_data_hex: str | None = None


@dataclass(frozen=True, slots=True)
class BleMessage:
    """BLE devices a node heard since its last report (every 5 s on spaxel firmware)."""

    mac: str
    timestamp_ms: int
    devices: tuple[BleDevice, ...]


@dataclass(frozen=True, slots=True)
class MotionHint:
    """The node's own CSI variance went over its ``variance_threshold``."""

    mac: str
    timestamp_ms: int
    variance: float


@dataclass(frozen=True, slots=True)
class OtaStatus:
    """Firmware update progress. ``fields`` holds everything the node sent except ``type``
    and ``mac`` (``state``, ``progress_pct``, ``error``, …), unvalidated beyond being JSON."""

    mac: str
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message of a type this server does not know: counted and ignored, never an error."""

    type: str
    fields: Mapping[str, Any]


NodeMessage = Hello | HealthMessage | BleMessage | MotionHint | OtaStatus | UnknownMessage


def decode_json(text: str | bytes) -> Any:
    """A WebSocket text message as JSON, or :class:`ProtocolError` (field ``message``).
    ``NaN`` and ``Infinity``, which Python's json would accept, are refused, and so is JSON
    nested more than :data:`~engine.inbound.JSON_MAX_DEPTH` levels (what a node sends is
    kept and shown: it must not break whatever walks it later)."""
    try:
        return loads_json(text, parse_constant=_refuse_constant)
    except JsonInputError as error:
        if error.parser_message is None:  # too deep
            raise ProtocolError("message", str(error)) from None
        raise ProtocolError("message", f"not valid JSON ({error.parser_message})") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_hello(obj: Any) -> Hello:
    """Validate a node's ``hello`` (the decoded JSON object) or raise :class:`ProtocolError`
    naming the first bad field. Required: ``type`` "hello", ``mac`` (upper- or lower-case hex,
    colon separated; returned upper case), ``firmware_version`` (string), ``capabilities``
    (list of strings). Optional (absent or null = not given): ``node_id``, ``chip``, ``ip``,
    ``token`` (strings; ``ip`` an IPv4/IPv6 address), ``flash_mb``, ``uptime_ms``
    (non-negative integers), ``ap_bssid`` (a MAC), ``ap_channel`` (0–255), ``wifi_rssi``
    (dBm, −128…127), and ``pos_x``, ``pos_y``, ``pos_z`` (metres; all three or none; JSON
    integers or floats, finite and within ±:data:`MAX_POSITION_M`; a boolean is not a
    number). Integers are at most 2⁶³ − 1. Unknown fields are ignored.
    """
    fields = _object(obj)
    kind = fields.get("type")
    if kind != "hello":
        raise ProtocolError("type", f'expected "hello", got {_shown(kind)}')
    return _hello(fields)


def _hello(fields: Mapping[str, Any]) -> Hello:
    return Hello(
        mac=_mac(_required(fields, "mac"), "mac"),
        firmware_version=_string(_required(fields, "firmware_version"), "firmware_version"),
        capabilities=_strings(_required(fields, "capabilities"), "capabilities"),
        node_id=_optional(fields, "node_id", _string),
        chip=_optional(fields, "chip", _string),
        flash_mb=_optional(fields, "flash_mb", _non_negative_int),
        uptime_ms=_optional(fields, "uptime_ms", _non_negative_int),
        ap_bssid=_optional(fields, "ap_bssid", _mac),
        ap_channel=_optional(fields, "ap_channel", _byte),
        wifi_rssi=_optional(fields, "wifi_rssi", _dbm),
        ip=_optional(fields, "ip", _ip),
        token=_optional(fields, "token", _string),
        position=_position(fields),
    )


def _position(fields: Mapping[str, Any]) -> tuple[float, float, float] | None:
    names = ("pos_x", "pos_y", "pos_z")
    given = [fields.get(name) is not None for name in names]
    if not any(given):
        return None
    if not all(given):
        absent = names[given.index(False)]
        raise ProtocolError(absent, "missing (pos_x, pos_y and pos_z come together)")
    x, y, z = (_coordinate(fields[name], name) for name in names)
    return (x, y, z)


def _coordinate(value: Any, name: str) -> float:
    number = _number(value, name)
    if abs(number) > MAX_POSITION_M:
        raise ProtocolError(
            name, f"expected metres within ±{MAX_POSITION_M:g}, got {_shown(value)}"
        )
    return number


def parse_node_message(obj: Any) -> NodeMessage:
    """Read a message a node sent after its hello (the decoded JSON object).

    ``health``, ``ble``, ``motion_hint`` and ``ota_status`` are validated (see their types for
    what is required) and a bad one raises :class:`ProtocolError` naming the field; each needs
    ``mac``. A repeated ``hello`` is validated like the first and returned as :class:`Hello`.
    Any other ``type`` comes back as :class:`UnknownMessage`. An object without a string
    ``type`` is malformed.
    """
    fields = _object(obj)
    kind = fields.get("type")
    if kind is None:
        raise ProtocolError("type", "missing")
    if not isinstance(kind, str):
        raise ProtocolError("type", f"expected a string, got {_shown(kind)}")
    reader = _READERS.get(kind)
    if reader is None:
        return UnknownMessage(type=kind, fields=_frozen_fields(fields, ("type",)))
    return reader(fields)


def _health(fields: Mapping[str, Any]) -> HealthMessage:
    known = (
        "type",
        "mac",
        "timestamp_ms",
        "free_heap_bytes",
        "wifi_rssi_dbm",
        "uptime_ms",
        "csi_rate_hz",
        "wifi_channel",
    )
    return HealthMessage(
        mac=_mac(_required(fields, "mac"), "mac"),
        timestamp_ms=_non_negative_int(_required(fields, "timestamp_ms"), "timestamp_ms"),
        free_heap_bytes=_optional(fields, "free_heap_bytes", _non_negative_int),
        wifi_rssi_dbm=_optional(fields, "wifi_rssi_dbm", _dbm),
        uptime_ms=_optional(fields, "uptime_ms", _non_negative_int),
        csi_rate_hz=_optional(fields, "csi_rate_hz", _non_negative_number),
        wifi_channel=_optional(fields, "wifi_channel", _byte),
        extra=_frozen_fields(fields, known),
    )


def _ble(fields: Mapping[str, Any]) -> BleMessage:
    devices = _required(fields, "devices")
    if not isinstance(devices, list):
        raise ProtocolError("devices", f"expected a list, got {_shown(devices)}")
    return BleMessage(
        mac=_mac(_required(fields, "mac"), "mac"),
        timestamp_ms=_non_negative_int(_required(fields, "timestamp_ms"), "timestamp_ms"),
        devices=tuple(_ble_device(d, f"devices[{i}]") for i, d in enumerate(devices)),
    )


def _ble_device(obj: Any, where: str) -> BleDevice:
    if not isinstance(obj, dict):
        raise ProtocolError(where, f"expected an object, got {_shown(obj)}")
    hex_data = _optional(obj, "mfr_data_hex", _hex, where)
    return BleDevice(
        addr=_mac(_required(obj, "addr", where), f"{where}.addr"),
        rssi_dbm=_dbm(_required(obj, "rssi_dbm", where), f"{where}.rssi_dbm"),
        addr_type=_optional(obj, "addr_type", _string, where),
        name=_optional(obj, "name", _string, where),
        mfr_id=_optional(obj, "mfr_id", _company_id, where),
        mfr_data_hex=hex_data,
    )


def _motion_hint(fields: Mapping[str, Any]) -> MotionHint:
    return MotionHint(
        mac=_mac(_required(fields, "mac"), "mac"),
        timestamp_ms=_non_negative_int(_required(fields, "timestamp_ms"), "timestamp_ms"),
        variance=_non_negative_number(_required(fields, "variance"), "variance"),
    )


def _ota_status(fields: Mapping[str, Any]) -> OtaStatus:
    return OtaStatus(
        mac=_mac(_required(fields, "mac"), "mac"),
        fields=_frozen_fields(fields, ("type", "mac")),
    )


_READERS: Final[dict[str, Callable[[Mapping[str, Any]], NodeMessage]]] = {
    "hello": _hello,
    "health": _health,
    "ble": _ble,
    "motion_hint": _motion_hint,
    "ota_status": _ota_status,
}


# --- messages to nodes ------------------------------------------------------------------------


def role_message(role: str, passive_bssid: str | None = None) -> dict[str, Any]:
    """``{"type": "role", "role": ...}`` for ``tx``, ``rx``, ``tx_rx``, ``passive`` or
    ``idle``; a ``passive`` node may be given the access point to listen to
    (``passive_bssid``). ValueError for anything else."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    message: dict[str, Any] = {"type": "role", "role": role}
    if passive_bssid is not None:
        if role != "passive":
            raise ValueError("passive_bssid goes only with the passive role")
        message["passive_bssid"] = normalise_mac(passive_bssid)
    return message


def config_message(
    rate_hz: int | None = None,
    tx_slot_us: int | None = None,
    variance_threshold: float | None = None,
) -> dict[str, Any]:
    """``{"type": "config", ...}``: CSI frames per second per link (``rate_hz`` > 0), the
    node's transmit slot offset in µs (``tx_slot_us`` ≥ 0) and the on-node motion-hint
    ``variance_threshold`` (≥ 0). A None setting is left out, and the node keeps its current
    value (spaxel's config is a partial update). ValueError for an out-of-range value."""
    message: dict[str, Any] = {"type": "config"}
    if rate_hz is not None:
        if _is_bool(rate_hz) or not isinstance(rate_hz, int) or rate_hz <= 0:
            raise ValueError(f"rate_hz must be a positive integer, got {rate_hz!r}")
        message["rate_hz"] = rate_hz
    if tx_slot_us is not None:
        if _is_bool(tx_slot_us) or not isinstance(tx_slot_us, int) or tx_slot_us < 0:
            raise ValueError(f"tx_slot_us must be a non-negative integer, got {tx_slot_us!r}")
        message["tx_slot_us"] = tx_slot_us
    if variance_threshold is not None:
        if (
            _is_bool(variance_threshold)
            or not isinstance(variance_threshold, int | float)
            or not math.isfinite(variance_threshold)
            or variance_threshold < 0
        ):
            raise ValueError(
                f"variance_threshold must be a finite number ≥ 0, got {variance_threshold!r}"
            )
        message["variance_threshold"] = float(variance_threshold)
    return message


def reject_message(reason: str) -> dict[str, Any]:
    """``{"type": "reject", "reason": ...}``, sent just before the server closes."""
    return {"type": "reject", "reason": reason}


# --- tokens -----------------------------------------------------------------------------------


def node_token(install_secret: bytes | str, mac: str) -> str:
    """The token a node with ``mac`` presents: lower-case hex HMAC-SHA256 keyed with the
    install secret (a str is taken as UTF-8) over the MAC in upper case without colons
    (``AABBCCDDEEFF``). ``mac`` may be given in either case; ProtocolError if it is no MAC."""
    key = install_secret.encode() if isinstance(install_secret, str) else install_secret
    message = normalise_mac(mac).replace(":", "").encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def token_matches(expected: str, given: str | None) -> bool:
    """Whether a node's token equals the expected one, compared in constant time. None (no
    token sent) never matches; any text is accepted, non-ASCII included."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def normalise_mac(value: Any, name: str = "mac") -> str:
    """A MAC as ``AA:BB:CC:DD:EE:FF`` from upper- or lower-case colon-separated hex, or
    :class:`ProtocolError` naming ``name``."""
    return _mac(value, name)


# --- field readers ----------------------------------------------------------------------------

T = TypeVar("T")


def _object(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ProtocolError("message", f"expected a JSON object, got {_shown(obj)}")
    return obj


def _required(fields: Mapping[str, Any], key: str, where: str = "") -> Any:
    value = fields.get(key)
    if value is None:
        raise ProtocolError(_name(where, key), "missing" if key not in fields else "is null")
    return value


def _optional(
    fields: Mapping[str, Any], key: str, read: Callable[[Any, str], T], where: str = ""
) -> T | None:
    value = fields.get(key)
    return None if value is None else read(value, _name(where, key))


def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _shown(value: Any) -> str:
    """A value for an error message: its JSON type, and the value itself when short."""
    kind = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)
    if isinstance(value, list | dict):
        return kind
    text = json.dumps(value) if isinstance(value, str | int | float | bool) else repr(value)
    return f"{kind} {text[:40]}{'…' if len(text) > 40 else ''}"


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(name, f"expected a string, got {_shown(value)}")
    return value


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ProtocolError(name, f"expected a list of strings, got {_shown(value)}")
    return tuple(_string(item, f"{name}[{i}]") for i, item in enumerate(value))


def _number(value: Any, name: str) -> float:
    if _is_bool(value) or not isinstance(value, int | float):
        raise ProtocolError(name, f"expected a number, got {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits: no float holds it
        raise ProtocolError(name, f"expected a finite number, got {_shown(value)}") from None
    if not math.isfinite(number):
        raise ProtocolError(name, f"expected a finite number, got {_shown(value)}")
    return number


def _non_negative_number(value: Any, name: str) -> float:
    number = _number(value, name)
    if number < 0:
        raise ProtocolError(name, f"expected a number ≥ 0, got {_shown(value)}")
    return number


def _int(value: Any, name: str, low: int | None = None, high: int = _INT64_MAX) -> int:
    """A JSON integer; a whole float (``20.0``, as some encoders print) is accepted too.
    At most ``high`` (2⁶³ − 1 unless narrower)."""
    if _is_bool(value) or not isinstance(value, int | float):
        raise ProtocolError(name, f"expected an integer, got {_shown(value)}")
    if isinstance(value, float) and not value.is_integer():
        raise ProtocolError(name, f"expected an integer, got {_shown(value)}")
    number = int(value)
    if (low is not None and number < low) or number > high:
        if high == _INT64_MAX:  # the bound only a hostile number meets is named alone
            bounds = f"≥ {low}" if low is not None and number < low else f"≤ {high}"
        else:
            bounds = f"{low}…{high}" if low is not None else f"≤ {high}"
        raise ProtocolError(name, f"expected an integer {bounds}, got {_shown(number)}")
    return number


def _non_negative_int(value: Any, name: str) -> int:
    return _int(value, name, low=0)


def _byte(value: Any, name: str) -> int:
    return _int(value, name, 0, 255)


def _dbm(value: Any, name: str) -> int:
    return _int(value, name, -128, 127)


def _company_id(value: Any, name: str) -> int:
    return _int(value, name, 0, 0xFFFF)  # Bluetooth SIG company identifiers are 16-bit


def _mac(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(name, f"expected a MAC string, got {_shown(value)}")
    if not _MAC_PATTERN.fullmatch(value):
        raise ProtocolError(name, f"expected a MAC like AA:BB:CC:DD:EE:FF, got {_shown(value)}")
    return value.upper()


def _mac_bytes(value: str, name: str) -> bytes:
    return bytes.fromhex(_mac(value, name).replace(":", ""))


def _hex(value: Any, name: str) -> str:
    text = _string(value, name)
    if not _HEX_PATTERN.fullmatch(text):
        raise ProtocolError(name, f"expected hex bytes, got {_shown(text)}")
    return text.upper()


def _ip(value: Any, name: str) -> str:
    text = _string(value, name)
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ProtocolError(name, f"expected an IP address, got {_shown(text)}") from None
    return text


def _frozen_fields(fields: Mapping[str, Any], leave_out: tuple[str, ...]) -> Mapping[str, Any]:
    return MappingProxyType({k: v for k, v in fields.items() if k not in leave_out})
