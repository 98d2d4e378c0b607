"""The sensing node server: where spaxel-compatible ESP32 nodes connect, over WebSocket.

:class:`NodeServer` listens on one port (default 8080, loopback unless the site says
otherwise) and runs an asyncio event loop on its own ``sensing-server`` thread. It serves:

- ``/ws/node``, the node WebSocket. The first message must be a JSON ``hello`` carrying
  the node's token (in the hello, else in the ``X-Spaxel-Token`` upgrade header; the hello
  wins), checked against the room's :class:`~engine.sensing.nodes.tokens.NodeTokenBook`; anything
  else is answered with ``reject`` and the connection closed (code 1008). Refusals are
  counted, never stored or logged one by one: at most one ``node.rejected`` summary and one
  log line a minute (:class:`~engine.sensing.nodes.admission.RejectionTally`). An
  accepted node is sent its ``role`` and ``config``, then the config again every
  ``keepalive_interval_s`` (20 s): nodes drop a connection that stays silent for 60 s, and
  spaxel applies a config as a partial update, so resending the same values keeps the
  connection alive and should change nothing on the node (not yet tried on real firmware).
  WebSocket pings go out every 30 s. Binary messages are CSI frames, handed to
  ``on_frame``; a frame is taken only from the node its connection authenticated as (its
  ``node_mac``, the node that received it); others are dropped and counted as foreign, and
  above :data:`FOREIGN_FRAME_LIMIT` the connection is closed (1008). Text messages are
  health, BLE, motion hints and OTA status, kept in the node's :class:`NodeStatus`. Bad
  input is counted per node, never raised; above 1,000 malformed frames a minute the node
  is closed with code 1008. A new connection from the same MAC replaces the old one; a node
  whose token was rotated or revoked is closed (:meth:`NodeServer.close_node`).
- ``POST /api/provision`` ``{"mac": ...}``: answers ``{"node_token": ...}`` only while an
  admin has opened a pairing window (:meth:`NodeServer.open_pairing`), which closes by
  itself at its deadline (spaxel leaves it open forever), and only to a MAC with no token
  yet (a new random one; a paired node is "not provisioned"), at a rate limited per client
  address and overall (:class:`~engine.sensing.nodes.admission.ProvisionLimiter`).

Online and offline. A node is online from its accepted hello until its connection closes
(offline at once), or until it has been silent (no message of any kind) for
``silence_timeout_s`` (4 s) while its role makes it send CSI (``rx``, ``tx_rx``,
``passive``) at a configured ``rate_hz``: a vanished TCP peer then shows offline within
4.25 s (the watchdog looks four times a second), inside the 5 s the sensing issue allows,
long before the ping timeout (30 s + 20 s) closes its connection. A silent node that speaks
again is online again (``node.online`` with ``resumed``). Nodes in the ``tx`` or ``idle``
role send no frames, only health every 10 s, so for them the ping timeout decides. A
receiving node with no transmitter to hear sends only health too, so it shows offline
between its health reports: true for sensing, as it has no live link.

Time. A frame is timed by its arrival (``clock.monotonic()`` when received: node clocks are
not synchronised), and so are ``last_seen``, the silence watchdog, the malformed-frame
window and the pairing window: a :class:`~engine.clock.SimulatedClock` drives them in
tests. The keepalive, WebSocket pings and the 10 s hello deadline are about the network and
the node's own timers, so they run on the event loop's real time.

Threads. Everything happens on the server thread: ``on_frame``, ``on_node_event`` and
``role_for`` are called there and must not block (hand work to a queue). :meth:`nodes`,
:meth:`open_pairing`, :meth:`close_pairing` and the properties may be called from any
thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Final

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from engine.clock import Clock
from engine.listening import ConnectionGate, ListenLimits
from engine.sensing.nodes.admission import (
    BAD_HELLO,
    NO_HELLO,
    NO_TOKEN,
    WRONG_TOKEN,
    ProvisionLimiter,
    RejectionSummary,
    RejectionTally,
)
from engine.sensing.nodes.protocol import (
    POLICY_VIOLATION_CLOSE_CODE,
    BleDevice,
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
    normalise_mac,
    parse_csi_frame,
    parse_hello,
    parse_node_message,
    reject_message,
    role_message,
)
from engine.sensing.nodes.tokens import NodeTokenBook

log = logging.getLogger(__name__)
# websockets says "connection open" and "connection closed" at INFO for every TCP
# connection, so a flood of them would write a line each: the connection gate summarises
# connections instead (engine.listening), and the library's warnings still show.
_wire_log = logging.getLogger(f"{__name__}.wire")
_wire_log.setLevel(logging.WARNING)

THREAD_NAME: Final = "sensing-server"
NODE_PATH: Final = "/ws/node"
PROVISION_PATH: Final = "/api/provision"
TOKEN_HEADER: Final = "X-Spaxel-Token"
DEFAULT_PORT: Final = 8080  # spaxel's port

KEEPALIVE_INTERVAL_S: Final = 20.0  # a JSON message at least every 30 s; nodes drop at 60 s
PING_INTERVAL_S: Final = 30.0  # WebSocket pings (spaxel pings every 30 s)
PING_TIMEOUT_S: Final = 20.0  # no pong this long after a ping: the connection is closed
SILENCE_TIMEOUT_S: Final = 4.0  # a sending node silent this long is offline (issue: ≤ 5 s)
WATCHDOG_TICK_S: Final = 0.25  # real seconds between silence checks
HELLO_TIMEOUT_S: Final = 10.0  # a connection must say hello within this
# From accept to an accepted hello: websockets' 10 s handshake, then the hello's 10 s.
FIRST_MESSAGE_S: Final = 10.0 + HELLO_TIMEOUT_S + 5.0
START_TIMEOUT_S: Final = 10.0  # start() waits this long for the socket to listen
STOP_TIMEOUT_S: Final = 10.0  # stop() waits this long for the thread to end
MAX_MESSAGE_BYTES: Final = 64 * 1024  # a CSI frame is ≤ 280 bytes; a BLE report a few KiB
MAX_PROVISION_BODY_BYTES: Final = 16 * 1024  # larger bodies are dropped without an answer
MAX_CLOSE_REASON_BYTES: Final = 123  # RFC 6455 §5.5: control frame payload ≤ 125 bytes
# Frames naming another node as their receiver one connection may send before it is closed:
# a real node never sends one, so a few are a bug and many are someone posing as another.
FOREIGN_FRAME_LIMIT: Final = 20
PROVISION_STORE_TIMEOUT_S: Final = 8.0  # inside websockets' 10 s handshake timeout
NOT_PROVISIONED: Final = (
    "not provisioned: a node that already has a token gets no other; an admin issues a new "
    "one with `watchfloor sense token MAC --rotate`"
)

# Roles whose nodes send CSI frames at rate_hz, so that silence means trouble.
SENDING_ROLES: Final = frozenset({"rx", "tx_rx", "passive"})

DEFAULT_CONFIG: Final[Mapping[str, Any]] = MappingProxyType(
    # tx_slot_us is left out: it is a per-node slot offset and one value for every node
    # would make them collide, so nodes keep their own until a slot planner assigns them.
    {"rate_hz": 20, "variance_threshold": 0.02}
)

# on_node_event kinds
NODE_ONLINE: Final = "node.online"
NODE_OFFLINE: Final = "node.offline"
NODE_REJECTED: Final = "node.rejected"
NODE_REPLACED: Final = "node.replaced"
NODE_PROVISIONED: Final = "node.provisioned"
# A node's BLE report: detail {"at_s": arrival (engine monotonic s), "devices": [[addr, rssi]]}
NODE_BLE: Final = "node.ble"

FrameHandler = Callable[[CsiFrame, float], None]
NodeEventHandler = Callable[[str, str, dict[str, Any]], None]


class NodeServerError(RuntimeError):
    """The node server cannot start (the message names ``host:port`` and the cause)."""


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """One node as the server knows it, a snapshot (:meth:`NodeServer.nodes`).

    From the node's latest hello: ``node_id``, ``firmware_version``, ``chip``,
    ``capabilities`` and ``position`` ((x, y, z) metres on the site's axes, or None; the
    site file's position wins over it). ``role`` is the role it was sent.

    ``online`` is False once its connection closed or it went silent (``offline_reason``
    says which). ``connected_since`` and ``last_seen`` are wall times (UTC; ``last_seen`` is
    the last message of any kind); ``last_seen_s`` is the same instant on the engine clock's
    monotonic scale, the scale of ``on_frame``'s arrival times.

    Counters run from the server's start, across reconnections: ``frames_received`` (valid
    frames passed to ``on_frame``), ``malformed`` (dropped frames by kind: ``short``,
    ``length``, ``n_sub``, ``channel``), ``foreign_frames`` (valid frames naming another
    node as the one that received them, dropped), ``protocol_errors`` (bad JSON or
    messages, with the latest in ``last_protocol_error``) and ``unknown_messages`` (types
    this server does not know).

    Latest reports: ``health`` (the whole health message), ``ble_devices`` (the last BLE
    report's devices), ``motion_variance`` (the last motion hint) and ``ota_status`` (the
    last OTA status fields).
    """

    mac: str
    node_id: str | None
    firmware_version: str
    chip: str | None
    capabilities: tuple[str, ...]
    position: tuple[float, float, float] | None
    role: str
    online: bool
    offline_reason: str | None
    remote_address: str | None
    connected_since: datetime | None
    last_seen: datetime | None
    last_seen_s: float | None
    frames_received: int
    malformed: Mapping[str, int]
    foreign_frames: int
    protocol_errors: int
    last_protocol_error: str | None
    unknown_messages: int
    health: HealthMessage | None
    ble_devices: tuple[BleDevice, ...]
    motion_variance: float | None
    ota_status: Mapping[str, Any] | None

    @property
    def malformed_total(self) -> int:
        """Malformed frames of every kind."""
        return sum(self.malformed.values())


class NodeServer:
    """The node WebSocket server and provisioning endpoint on one port; see the module
    docstring for the protocol, online/offline rules and threads.

    ``tokens`` is the book of the node tokens accepted (:class:`~engine.sensing.nodes.tokens.
    NodeTokenBook`); provisioning adds to it. ``on_frame(frame, arrival_s)`` gets every
    valid frame with its arrival time (engine clock, monotonic seconds); ``on_node_event(kind,
    mac, detail)`` gets ``node.online``, ``node.offline`` (``reason``), ``node.rejected`` (a
    summary of refused hellos, at most one a minute: ``reason`` and ``remote`` of the latest,
    ``rejections`` counted, ``reasons``, ``addresses``, ``macs``, see :meth:`~engine.sensing.
    admission.RejectionSummary.detail`; ``mac`` is the MAC they all named, else ""),
    ``node.replaced``, ``node.provisioned`` and ``node.ble`` (a BLE report: ``at_s`` its
    arrival, ``devices`` ``[[address, rssi_dbm], …]``). ``role_for(mac)`` picks each node's
    role at hello (an invalid role is logged and ``idle`` sent). ``config`` holds the
    ``config`` message's settings (``rate_hz``, ``tx_slot_us``, ``variance_threshold``),
    default :data:`DEFAULT_CONFIG`. ``port`` 0 binds any free port (see :attr:`port`). All
    callbacks run on the server thread and must not block.
    """

    def __init__(
        self,
        *,
        tokens: NodeTokenBook,
        clock: Clock,
        on_frame: FrameHandler,
        on_node_event: NodeEventHandler | None = None,
        role_for: Callable[[str], str] = lambda mac: "tx_rx",
        config: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        keepalive_interval_s: float = KEEPALIVE_INTERVAL_S,
        silence_timeout_s: float = SILENCE_TIMEOUT_S,
        ping_interval_s: float = PING_INTERVAL_S,
        ping_timeout_s: float = PING_TIMEOUT_S,
        limits: ListenLimits | None = None,
    ) -> None:
        settings = dict(DEFAULT_CONFIG if config is None else config)
        try:
            config_message(**settings)  # refuse a bad config now, not at the first node
        except TypeError as error:
            raise ValueError(
                f"config accepts rate_hz, tx_slot_us and variance_threshold: {error}"
            ) from None
        for name, value in (
            ("keepalive_interval_s", keepalive_interval_s),
            ("silence_timeout_s", silence_timeout_s),
            ("ping_interval_s", ping_interval_s),
            ("ping_timeout_s", ping_timeout_s),
        ):
            if value <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {value}")
        self.host = host
        self._requested_port = port
        self._tokens = tokens
        self._clock = clock
        self._on_frame = on_frame
        self._on_node_event = on_node_event
        self._role_for = role_for
        self._config = settings
        self._keepalive_interval_s = keepalive_interval_s
        self._silence_timeout_s = silence_timeout_s
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s
        # Caps connections per server and per address at accept (engine.listening).
        self.gate = ConnectionGate(
            "sensing node server", limits or ListenLimits(first_message_s=FIRST_MESSAGE_S)
        )
        # The silence watchdog needs a known frame rate to mean anything.
        self._watch_silence = settings.get("rate_hz") is not None

        self._lock = threading.Lock()  # guards _records, _connections and the pairing window
        self._records: dict[str, _NodeRecord] = {}
        self._connections = 0  # node connection handlers running
        self._pairing_deadline_s: float | None = None
        self._pairing_until: datetime | None = None
        self._malformed = MalformedCounter()  # loop thread only
        self._provision_limiter = ProvisionLimiter()  # loop thread only
        self._rejections = RejectionTally()

        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._stopping = False
        self._stopped = False
        self._port: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the ``sensing-server`` thread and return once the port is listening.
        Raises :class:`NodeServerError` naming ``host:port`` if it cannot bind."""
        if self._thread is not None:
            raise RuntimeError("the node server was already started")
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self.stop()
            raise NodeServerError(
                f"node server on {self.host}:{self._requested_port} did not start within "
                f"{START_TIMEOUT_S:g} s"
            )
        if self._start_error is not None:
            self._thread.join(STOP_TIMEOUT_S)
            self._stopped = True
            raise NodeServerError(
                f"cannot listen for sensing nodes on {self.host}:{self._requested_port}: "
                f"{self._start_error}"
            ) from self._start_error
        log.info("sensing node server listening on %s:%s%s", self.host, self.port, NODE_PATH)

    def stop(self) -> None:
        """Close every node connection (code 1001, going away) and end the thread. Nodes
        go offline with reason "server stopped". Idempotent; a no-op before :meth:`start`."""
        if self._thread is None or self._stopped:
            return
        self._stopped = True
        loop, stop_requested = self._loop, self._stop_requested
        if loop is not None and stop_requested is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stop_requested.set)
        if self._thread is not threading.current_thread():
            self._thread.join(STOP_TIMEOUT_S)
            if self._thread.is_alive():
                log.error("sensing node server thread did not end within %g s", STOP_TIMEOUT_S)

    def __enter__(self) -> NodeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on (the bound one when started with port 0)."""
        if self._port is None:
            raise RuntimeError("the node server is not listening (call start() first)")
        return self._port

    # --- registry -----------------------------------------------------------------------------

    def nodes(self) -> list[NodeStatus]:
        """Every node that has said a valid hello since the server started, online or not,
        sorted by MAC. A snapshot of frozen values; any thread."""
        now_s = self._clock.monotonic()
        now = self._clock.now()
        with self._lock:
            return [self._records[mac].snapshot(now, now_s) for mac in sorted(self._records)]

    def node(self, mac: str) -> NodeStatus | None:
        """One node's status by MAC (either case), or None if it never said hello."""
        key = normalise_mac(mac)
        now_s = self._clock.monotonic()
        now = self._clock.now()
        with self._lock:
            record = self._records.get(key)
            return None if record is None else record.snapshot(now, now_s)

    @property
    def connections(self) -> int:
        """Node connections being handled: from the upgrade until the handler has ended,
        so a replaced or refused connection counts until it has let go of its node (and
        a replaced one has left the node to its successor). Any thread."""
        with self._lock:
            return self._connections

    @property
    def tokens(self) -> NodeTokenBook:
        """The node tokens this server accepts."""
        return self._tokens

    def rejections(self) -> dict[str, Any]:
        """Hellos refused since the start (``rejections``, by ``reasons``), summaries given
        and refusals ``waiting`` for the next one; provisioning requests refused for their
        rate (``provisions_refused``). Any thread."""
        return {
            **self._rejections.totals(),
            "provisions_refused": self._provision_limiter.refused,
        }

    def close_node(self, mac: str, reason: str) -> bool:
        """Close ``mac``'s connection, if it has one, with code 1008 and ``reason`` (its
        token was rotated or revoked). Returns whether it had one; any thread."""
        key = normalise_mac(mac)
        with self._lock:
            record = self._records.get(key)
            session = None if record is None else record.session
        loop = self._loop
        if session is None or loop is None:
            return False
        session.close_reason = reason

        def close() -> None:
            self._spawn(_close_quietly(session.ws, POLICY_VIOLATION_CLOSE_CODE, reason))

        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(close)
        log.warning("sensing node %s: closing: %s", key, reason)
        return True

    # --- pairing ------------------------------------------------------------------------------

    def open_pairing(self, seconds: float) -> datetime:
        """Let nodes fetch their token from ``POST /api/provision`` for the next ``seconds``
        (engine clock); returns the wall time the window closes by itself. Any thread."""
        if seconds <= 0:
            raise ValueError(f"a pairing window must last > 0 seconds, got {seconds}")
        with self._lock:
            self._pairing_deadline_s = self._clock.monotonic() + seconds
            self._pairing_until = self._clock.now() + timedelta(seconds=seconds)
            until = self._pairing_until
        log.info("sensing node pairing open until %s", until.isoformat())
        return until

    def close_pairing(self) -> None:
        """Close the pairing window now (nothing happens if it is closed). Any thread."""
        with self._lock:
            was_open = self._pairing_open_locked()
            self._pairing_deadline_s = None
            self._pairing_until = None
        if was_open:
            log.info("sensing node pairing closed")

    @property
    def pairing_open_until(self) -> datetime | None:
        """When the pairing window closes (UTC), or None when it is closed."""
        with self._lock:
            return self._pairing_until if self._pairing_open_locked() else None

    def _pairing_open_locked(self) -> bool:
        deadline = self._pairing_deadline_s
        return deadline is not None and self._clock.monotonic() < deadline

    # --- the server thread --------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except Exception:
            log.exception("sensing node server failed")
        finally:
            self._ready.set()  # never leave start() waiting
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    async def _main(self) -> None:
        self._stop_requested = asyncio.Event()
        try:
            server = await serve(
                self._handle_connection,
                sock=self.gate.listen(self.host, self._requested_port),
                logger=_wire_log,
                process_request=self._process_request,
                create_connection=_NodeConnection,
                compression=None,  # nodes send small binary frames; deflate only costs CPU
                ping_interval=self._ping_interval_s,
                ping_timeout=self._ping_timeout_s,
                max_size=MAX_MESSAGE_BYTES,
            )
        except (OSError, ValueError) as error:
            self._start_error = error
            self._ready.set()
            return
        self._port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        if self._stopped:  # stop() came while starting, before the event existed
            self._stop_requested.set()
        watchdog = asyncio.create_task(self._watch_silence_loop())
        try:
            await self._stop_requested.wait()
        finally:
            self._stopping = True
            watchdog.cancel()
            server.close()  # closes node connections with 1001 and waits for handlers
            await server.wait_closed()
            # Refusals not yet summarised are not lost with the server.
            self._summarise_rejections(self._rejections.flush(self._clock.monotonic()))
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            self.gate.close()
            log.info("sensing node server stopped")

    def _spawn(self, coroutine: Any) -> None:
        """Run a coroutine as a task the server cancels when it stops."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- HTTP ---------------------------------------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Route the HTTP request: the node WebSocket continues the handshake (None);
        provisioning and errors are answered here with JSON."""
        try:
            path = request.path.split("?", 1)[0]
            if path == NODE_PATH:
                if request.method != "GET":
                    return _json_response(
                        connection,
                        HTTPStatus.METHOD_NOT_ALLOWED,
                        {"error": f"{NODE_PATH} is a WebSocket: use GET with Upgrade"},
                        allow="GET",
                    )
                return None
            if path == PROVISION_PATH:
                if request.method != "POST":
                    return _json_response(
                        connection,
                        HTTPStatus.METHOD_NOT_ALLOWED,
                        {"error": f'use POST {PROVISION_PATH} with {{"mac": ...}}'},
                        allow="POST",
                    )
                body = connection.request_body if isinstance(connection, _NodeConnection) else b""
                return await self._provision(connection, body)
            return _json_response(
                connection, HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {path}"}
            )
        except Exception:
            log.exception("node server: HTTP request %s %s failed", request.method, request.path)
            return _json_response(
                connection, HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"}
            )

    async def _provision(self, connection: ServerConnection, body: bytes) -> Response:
        remote = _address(connection)
        with self._lock:
            pairing_open = self._pairing_open_locked()
        if not pairing_open:
            # Not logged: anyone may ask at any rate, and the answer says it all.
            return _json_response(
                connection,
                HTTPStatus.FORBIDDEN,
                {"error": "pairing is closed: an admin must open a pairing window first"},
            )
        wait_s = self._provision_limiter.allow(_host(connection), self._clock.monotonic())
        if wait_s is not None:
            response = _json_response(
                connection,
                HTTPStatus.TOO_MANY_REQUESTS,
                {"error": f"too many provisioning requests: ask again in {wait_s:.0f} s"},
            )
            response.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
            return response
        try:
            if not body:
                raise ProtocolError("body", 'empty: send JSON {"mac": "AA:BB:CC:DD:EE:FF"}')
            try:
                fields = decode_json(body)
            except ProtocolError as error:
                raise ProtocolError("body", error.problem) from None
            if not isinstance(fields, dict):
                raise ProtocolError("body", 'expected a JSON object {"mac": ...}')
            if fields.get("mac") is None:
                raise ProtocolError("mac", "missing")
            mac = normalise_mac(fields["mac"])
        except ProtocolError as error:
            return _json_response(connection, HTTPStatus.BAD_REQUEST, {"error": str(error)})
        try:
            # The book stores the token's hash through the store writer first: off the loop.
            async with asyncio.timeout(PROVISION_STORE_TIMEOUT_S):
                token = await asyncio.to_thread(self._tokens.provision, mac, remote)
        except Exception as error:
            log.error("sensing node %s: provisioning could not be stored: %s", mac, error)
            return _json_response(
                connection,
                HTTPStatus.SERVICE_UNAVAILABLE,
                {"error": "provisioning could not be stored; ask again later"},
            )
        if token is None:
            # The same words whatever the reason, so the answer tells nobody more.
            return _json_response(connection, HTTPStatus.FORBIDDEN, {"error": NOT_PROVISIONED})
        log.info("sensing node %s provisioned from %s", mac, remote)
        self._emit(NODE_PROVISIONED, mac, {"remote": remote})
        return _json_response(connection, HTTPStatus.OK, {"node_token": token})

    # --- node connections ---------------------------------------------------------------------

    async def _handle_connection(self, ws: ServerConnection) -> None:
        """One node connection, from hello to close. Nothing escapes into the loop."""
        session: _Session | None = None
        mac = "?"
        with self._lock:
            self._connections += 1
        try:
            hello = await self._accept_hello(ws)
            if hello is None:
                return
            mac = hello.mac
            session = self._register(ws, hello)
            await self._greet(session)
            await self._serve_messages(session)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("sensing node %s (%s): connection handler failed", mac, _address(ws))
        finally:
            try:
                if session is not None:
                    session.keepalive_task_cancel()
                    self._unregister(session)
            finally:
                with self._lock:
                    self._connections -= 1

    async def _accept_hello(self, ws: ServerConnection) -> Hello | None:
        """Read and check the first message; on any problem reject, close and return None."""
        remote = _address(ws)
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                first = await ws.recv()
        except TimeoutError:
            await self._reject(ws, "", f"no hello within {HELLO_TIMEOUT_S:g} s", NO_HELLO)
            return None
        if isinstance(first, bytes):
            await self._reject(
                ws, "", "the first message must be a JSON hello, not binary", BAD_HELLO
            )
            return None
        try:
            hello = parse_hello(decode_json(first))
        except ProtocolError as error:
            await self._reject(ws, "", f"bad hello: {error}", BAD_HELLO)
            return None
        except (ArithmeticError, TypeError, ValueError, RecursionError):
            # A hello the parser should have named but did not: still a rejected hello
            # (reject, node.rejected), never a dead handler.
            log.debug("sensing node hello from %s: unexpected parse failure", remote, exc_info=True)
            await self._reject(ws, "", "bad hello: it could not be read", BAD_HELLO)
            return None
        header_token = ws.request.headers.get(TOKEN_HEADER) if ws.request is not None else None
        given = hello.token or header_token  # the hello wins; an empty token counts as none
        if not given:
            await self._reject(
                ws,
                hello.mac,
                f"no token: send it in the hello or the {TOKEN_HEADER} header "
                f"(a node gets one from POST {PROVISION_PATH} while pairing is open)",
                NO_TOKEN,
            )
            return None
        if not self._tokens.check(hello.mac, given):
            source = "hello" if hello.token else f"{TOKEN_HEADER} header"
            await self._reject(
                ws, hello.mac, f"wrong token for {hello.mac} (from the {source})", WRONG_TOKEN
            )
            return None
        log.debug("sensing node %s hello accepted from %s", hello.mac, remote)
        self.gate.heard(ws.transport)  # no longer evicted to make room for newcomers
        return hello

    async def _reject(self, ws: ServerConnection, mac: str, reason: str, kind: str) -> None:
        """Refuse a hello: counted (``kind``, a reason of :mod:`engine.sensing.nodes.admission`),
        summarised at most once a minute (:meth:`_summarise_rejections`), answered and
        closed. Never one stored event or log line per refusal: anyone may say hello."""
        remote = _address(ws)
        log.debug("sensing node %s from %s rejected: %s", mac or "(no MAC)", remote, reason)
        self._rejections.add(kind, reason, _host(ws), mac, self._clock.monotonic())
        self._summarise_rejections(self._rejections.due(self._clock.monotonic()))
        try:
            await ws.send(json.dumps(reject_message(reason)))
        except ConnectionClosed:
            return
        await ws.close(POLICY_VIOLATION_CLOSE_CODE, _close_reason(reason))

    def _summarise_rejections(self, summary: RejectionSummary | None) -> None:
        """Log and announce one summary of refused hellos (nothing for None)."""
        if summary is None:
            return
        log.warning("sensing node server: %s", summary.line())
        self._emit(NODE_REJECTED, summary.only_mac(), summary.detail())

    def _register(self, ws: ServerConnection, hello: Hello) -> _Session:
        """Make this connection the node's current one, closing any older one."""
        mac = hello.mac
        role = self._role_for_node(mac)
        now_s = self._clock.monotonic()
        now = self._clock.now()
        session = _Session(ws=ws, mac=mac, remote=_address(ws))
        with self._lock:
            record = self._records.get(mac)
            if record is None:
                record = self._records[mac] = _NodeRecord(mac=mac, hello=hello, role=role)
            old = record.session
            record.hello = hello
            record.role = role
            record.session = session
            record.online = True
            record.offline_reason = None
            record.remote = session.remote
            record.connected_since = now
            record.last_seen_s = now_s
        session.record = record
        if old is not None:
            reason = f"replaced by a new connection from the same MAC ({session.remote})"
            old.close_reason = reason
            log.info("sensing node %s: %s", mac, reason)
            self._emit(NODE_REPLACED, mac, {"old_remote": old.remote, "remote": session.remote})
            self._spawn(_close_quietly(old.ws, 1000, reason))
        log.info(
            "sensing node %s online from %s (firmware %s, role %s)",
            mac,
            session.remote,
            hello.firmware_version,
            role,
        )
        self._emit(
            NODE_ONLINE,
            mac,
            {
                "remote": session.remote,
                "firmware_version": hello.firmware_version,
                "role": role,
                "resumed": False,
            },
        )
        return session

    async def _greet(self, session: _Session) -> None:
        """Send the node its role and config, then keep it alive."""
        record = session.record
        assert record is not None
        await session.ws.send(json.dumps(role_message(record.role)))
        await session.ws.send(json.dumps(config_message(**self._config)))
        session.keepalive = asyncio.get_running_loop().create_task(self._keepalive(session))

    def _role_for_node(self, mac: str) -> str:
        try:
            role = self._role_for(mac)
            role_message(role)  # validates
            return role
        except Exception:
            log.exception("sensing node %s: no valid role from role_for; sending idle", mac)
            return "idle"

    async def _keepalive(self, session: _Session) -> None:
        """Resend the config every keepalive interval (real time: the node's own timer)."""
        text = json.dumps(config_message(**self._config))
        try:
            while True:
                await asyncio.sleep(self._keepalive_interval_s)
                await session.ws.send(text)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("sensing node %s: keepalive failed", session.mac)

    async def _serve_messages(self, session: _Session) -> None:
        async for message in session.ws:
            if session.record is None or session.record.session is not session:
                return  # replaced: the newer connection owns the node now
            if isinstance(message, bytes):
                reason = self._on_binary(session, message)
                if reason is not None:
                    session.close_reason = reason
                    log.warning("sensing node %s: %s; closing", session.mac, reason)
                    await session.ws.close(POLICY_VIOLATION_CLOSE_CODE, _close_reason(reason))
                    return
            else:
                self._on_text(session, message)

    def _on_binary(self, session: _Session, data: bytes) -> str | None:
        """Handle one binary message; why the connection must close (over the malformed
        or the foreign frame limit), else None."""
        arrival_s = self._clock.monotonic()
        record = session.record
        assert record is not None
        try:
            frame = parse_csi_frame(data)
        except MalformedFrameError as error:
            with self._lock:
                record.malformed[error.kind] = record.malformed.get(error.kind, 0) + 1
                resumed = self._seen_locked(record, session, arrival_s)
            self._announce_resumed(resumed, session)
            if self._malformed.record(session.mac, arrival_s):
                return (
                    f"more than {self._malformed.limit} malformed frames in "
                    f"{self._malformed.window_s:g} s"
                )
            return None
        if frame.node_mac != session.mac:
            # A frame is the receiving node's report (node_mac): only that node's own
            # connection may deliver it, or one node could speak for another.
            session.foreign_frames += 1
            with self._lock:
                record.foreign_frames += 1
                resumed = self._seen_locked(record, session, arrival_s)
            self._announce_resumed(resumed, session)
            if session.foreign_frames > FOREIGN_FRAME_LIMIT:
                return (
                    f"more than {FOREIGN_FRAME_LIMIT} frames naming another node "
                    f"({frame.node_mac}) as their receiver"
                )
            return None
        with self._lock:
            record.frames_received += 1
            resumed = self._seen_locked(record, session, arrival_s)
        self._announce_resumed(resumed, session)
        try:
            self._on_frame(frame, arrival_s)
        except Exception:
            if not session.frame_handler_failed:  # once per connection: frames come at 20 Hz
                session.frame_handler_failed = True
                log.exception("sensing node %s: on_frame failed (logged once)", session.mac)
        return None

    def _on_text(self, session: _Session, text: str) -> None:
        arrival_s = self._clock.monotonic()
        record = session.record
        assert record is not None
        problem: str | None = None
        try:
            message = parse_node_message(decode_json(text))
        except ProtocolError as error:
            problem = str(error)
            message = None
        if message is not None and not isinstance(message, UnknownMessage):
            if isinstance(message, Hello):
                problem = "hello: repeated on an open connection (ignored)"
            elif message.mac != session.mac:
                problem = f"mac: {message.mac} is not this connection's node {session.mac}"
        with self._lock:
            resumed = self._seen_locked(record, session, arrival_s)
            if problem is not None:
                record.protocol_errors += 1
                record.last_protocol_error = problem
            elif isinstance(message, UnknownMessage):
                record.unknown_messages += 1
            elif isinstance(message, HealthMessage):
                record.health = message
            elif isinstance(message, BleMessage):
                record.ble_devices = message.devices
            elif isinstance(message, MotionHint):
                record.motion_variance = message.variance
            elif isinstance(message, OtaStatus):
                record.ota_status = message.fields
        self._announce_resumed(resumed, session)
        if problem is None and isinstance(message, BleMessage):
            self._emit(
                NODE_BLE,
                session.mac,
                {"at_s": arrival_s, "devices": [[d.addr, d.rssi_dbm] for d in message.devices]},
            )
        if problem is not None:
            log.debug("sensing node %s: protocol error: %s", session.mac, problem)

    def _seen_locked(self, record: _NodeRecord, session: _Session, now_s: float) -> bool:
        """Note a message; True if it brought a silent node back online (caller holds the
        lock and announces it after releasing)."""
        record.last_seen_s = now_s
        if record.online or record.session is not session:
            return False
        record.online = True
        record.offline_reason = None
        return True

    def _announce_resumed(self, resumed: bool, session: _Session) -> None:
        if resumed:
            log.info("sensing node %s is sending again", session.mac)
            self._emit(NODE_ONLINE, session.mac, {"remote": session.remote, "resumed": True})

    def _unregister(self, session: _Session) -> None:
        """The connection ended: the node is offline at once, unless a newer connection
        already replaced this one."""
        ws = session.ws
        if session.close_reason is not None:
            reason = session.close_reason
        elif self._stopping:
            reason = "server stopped"
        else:
            code = ws.close_code
            detail = f": {ws.close_reason}" if ws.close_reason else ""
            reason = f"connection closed (code {code if code is not None else 'none'}{detail})"
        record = session.record
        if record is None:
            return
        with self._lock:
            if record.session is not session:
                return
            record.session = None
            was_online = record.online
            record.online = False
            record.offline_reason = reason
        log.info("sensing node %s offline: %s", session.mac, reason)
        if was_online:
            self._emit(NODE_OFFLINE, session.mac, {"reason": reason})

    async def _watch_silence_loop(self) -> None:
        """Mark sending nodes that went silent offline (see the module docstring), and
        summarise the hellos refused over the last minute once it has passed."""
        while True:
            await asyncio.sleep(WATCHDOG_TICK_S)
            try:
                self._check_silence()
                self._summarise_rejections(self._rejections.due(self._clock.monotonic()))
            except Exception:
                log.exception("sensing node silence watchdog failed")

    def _check_silence(self) -> None:
        if not self._watch_silence:
            return
        now_s = self._clock.monotonic()
        went_silent: list[tuple[str, str]] = []
        with self._lock:
            for record in self._records.values():
                if (
                    not record.online
                    or record.session is None
                    or record.role not in SENDING_ROLES
                    or record.last_seen_s is None
                ):
                    continue
                silent_s = now_s - record.last_seen_s
                if silent_s >= self._silence_timeout_s:
                    reason = f"silent for {silent_s:.1f} s"
                    record.online = False
                    record.offline_reason = reason
                    went_silent.append((record.mac, reason))
        for mac, reason in went_silent:
            log.warning("sensing node %s offline: %s", mac, reason)
            self._emit(NODE_OFFLINE, mac, {"reason": reason})

    def _emit(self, kind: str, mac: str, detail: dict[str, Any]) -> None:
        if self._on_node_event is None:
            return
        try:
            self._on_node_event(kind, mac, detail)
        except Exception:
            log.exception("sensing node %s: on_node_event(%s) failed", mac or "(no MAC)", kind)


# --- per-node state (server thread writes, under the lock) -------------------------------------


@dataclass(slots=True, eq=False)
class _Session:
    """One accepted connection."""

    ws: ServerConnection
    mac: str
    remote: str
    record: _NodeRecord | None = None
    keepalive: asyncio.Task[None] | None = None
    close_reason: str | None = None  # set when the server closes it on purpose
    frame_handler_failed: bool = False
    foreign_frames: int = 0  # frames of another node sent on this connection

    def keepalive_task_cancel(self) -> None:
        if self.keepalive is not None:
            self.keepalive.cancel()


@dataclass(slots=True, eq=False)
class _NodeRecord:
    """A node's mutable state; :meth:`snapshot` freezes it."""

    mac: str
    hello: Hello
    role: str
    session: _Session | None = None
    online: bool = False
    offline_reason: str | None = None
    remote: str | None = None
    connected_since: datetime | None = None
    last_seen_s: float | None = None
    frames_received: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    foreign_frames: int = 0
    protocol_errors: int = 0
    last_protocol_error: str | None = None
    unknown_messages: int = 0
    health: HealthMessage | None = None
    ble_devices: tuple[BleDevice, ...] = ()
    motion_variance: float | None = None
    ota_status: Mapping[str, Any] | None = None

    def snapshot(self, now: datetime, now_s: float) -> NodeStatus:
        last_seen = (
            None
            if self.last_seen_s is None
            else now - timedelta(seconds=max(0.0, now_s - self.last_seen_s))
        )
        return NodeStatus(
            mac=self.mac,
            node_id=self.hello.node_id,
            firmware_version=self.hello.firmware_version,
            chip=self.hello.chip,
            capabilities=self.hello.capabilities,
            position=self.hello.position,
            role=self.role,
            online=self.online,
            offline_reason=self.offline_reason,
            remote_address=self.remote,
            connected_since=self.connected_since,
            last_seen=last_seen,
            last_seen_s=self.last_seen_s,
            frames_received=self.frames_received,
            malformed=MappingProxyType(dict(self.malformed)),
            foreign_frames=self.foreign_frames,
            protocol_errors=self.protocol_errors,
            last_protocol_error=self.last_protocol_error,
            unknown_messages=self.unknown_messages,
            health=self.health,
            ble_devices=self.ble_devices,
            motion_variance=self.motion_variance,
            ota_status=self.ota_status,
        )


# --- HTTP plumbing -------------------------------------------------------------------------------


class _BodyReader(StreamReader):
    """The handshake's stream reader, letting a non-GET request carry a small body.

    websockets parses only bodiless handshake requests (it drops any request with a
    ``Content-Length`` above 0 without an answer), but a node asks for its token with
    ``POST /api/provision`` and a JSON body on the same port. This reader sits under
    websockets' own request parser: for a non-GET request it reads the body of up to
    :data:`MAX_PROVISION_BODY_BYTES` right after the headers, keeps it in :attr:`body`, and
    shows the parser ``Content-Length: 0``. Anything else (a GET with a body, a larger or
    malformed length, ``Transfer-Encoding``) passes through unchanged and websockets refuses
    it as before. Relies on websockets' sans-I/O parser reading the request head through
    ``reader.read_line`` (websockets 17.4, pinned); the provisioning tests would catch a
    change.
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = b""
        self._in_head = True
        self._method: bytes | None = None
        self._length: int | None = None

    def read_line(
        self, m: int, too_long_exc_type: type[Exception] = RuntimeError
    ) -> Generator[None, None, bytearray]:
        line = yield from super().read_line(m, too_long_exc_type)
        if not self._in_head:
            return line
        if self._method is None:  # the request line
            self._method = bytes(line.split(b" ", 1)[0])
            return line
        if line == b"\r\n":  # end of the head: take the body out of the stream
            self._in_head = False
            if self._length:
                self.body = bytes((yield from self.read_exact(self._length)))
            return line
        if self._method != b"GET":
            name, colon, value = line.partition(b":")
            if colon and name.strip().lower() == b"content-length":
                value = value.strip()
                if (
                    self._length is None
                    and value.isdigit()
                    and len(value) <= 6
                    and int(value) <= MAX_PROVISION_BODY_BYTES
                ):
                    self._length = int(value)
                    return bytearray(b"Content-Length: 0\r\n")
        return line


class _NodeConnection(ServerConnection):
    """A server connection whose handshake may carry a small request body (see
    :class:`_BodyReader`); websockets builds one per TCP connection."""

    def __init__(self, protocol: ServerProtocol, server: Server, **kwargs: Any) -> None:
        # No byte has arrived yet: swap the reader and restart the parser on it.
        self._body_reader = _BodyReader()
        protocol.reader = self._body_reader
        protocol.parser = protocol.parse()
        next(protocol.parser)
        super().__init__(protocol, server, **kwargs)

    @property
    def request_body(self) -> bytes:
        """The handshake request's body (empty for GET)."""
        return self._body_reader.body


def _json_response(
    connection: ServerConnection,
    status: HTTPStatus,
    payload: Mapping[str, Any],
    *,
    allow: str | None = None,
) -> Response:
    response = connection.respond(status, json.dumps(payload) + "\n")
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    if allow is not None:
        response.headers["Allow"] = allow
    return response


def _host(connection: ServerConnection) -> str:
    """The client's address without its port (what provisioning is limited by)."""
    try:
        address = connection.remote_address
    except Exception:
        return "?"
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


def _address(connection: ServerConnection) -> str:
    try:
        address = connection.remote_address
    except Exception:
        return "?"
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


def _close_reason(reason: str) -> str:
    """``reason`` cut to what a close frame may carry (UTF-8 bytes, whole characters)."""
    encoded = reason.encode()
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."


async def _close_quietly(ws: ServerConnection, code: int, reason: str) -> None:
    try:
        await ws.close(code, _close_reason(reason))
    except Exception:
        log.debug("closing a replaced node connection failed", exc_info=True)
