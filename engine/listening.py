"""What a listening socket may take from the engine: connections, time and descriptors.

Anyone on the network can open TCP connections to a port the engine listens on, without a
password, and each one costs a file descriptor; idle ones used to exhaust the process, and
recording then failed with "Too many open files" (issue 64, scenario 1). Every server that
listens (the recordings server, the sensing node server) therefore listens through a
:class:`ConnectionGate`:

- at most ``max_connections`` open connections per server and ``max_per_address`` per
  client address. A connection over either cap first takes the place of the oldest one that
  has not yet delivered a complete first message (an HTTP request head, a node's accepted
  hello): that one is shut at once. Only when every connection in the way has spoken is the
  newcomer refused, closed at once without reading a byte. So an idle flood can hold no
  slot for long, and a client that speaks promptly (a console fetching a clip, a node
  saying hello) is served during it.
- a connection that has not delivered its first message within ``first_message_s`` is shut
  (the server's own idle timeout, ``idle_s``, closes connections idle between requests).
- refusals, evictions and expiries are counted (:meth:`ConnectionGate.figures`, for the
  engine's health and report) and logged as one summary line per ``summary_every_s``, never
  one line each.

The cap works at ``accept()``: the gate's listening socket is a ``socket.socket`` whose
``accept`` admits or refuses, so a refused connection never reaches the server library (no
transport, no task, no buffer), whatever library serves the port (aiohttp's ``SockSite``,
websockets' ``serve(sock=...)``).

File descriptors. :func:`reserve_descriptors`, called once at engine start, raises the soft
``RLIMIT_NOFILE`` to the hard limit and splits what is left: at least half (and never less
than :data:`RESERVE_FLOOR`) stays for recording, the store and cameras; the listening
servers share the rest (:meth:`DescriptorBudget.limits_for`), each capped at
:data:`MAX_CONNECTIONS_PER_SERVER`. A server's descriptors are its cap, plus at most
:data:`EVICTION_SLACK` connections being shut, plus its listening socket; so however many
connections arrive, the listening servers cannot take the descriptors recording needs.

Threads: a gate is driven by its server's event loop thread (accept, close, timers);
:meth:`ConnectionGate.figures` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from engine.clock import REAL_CLOCK, Clock

log = logging.getLogger(__name__)

# Descriptors always kept for recording (segment files, snapshots), the store (SQLite's
# database, WAL and shared-memory files; PostgreSQL's sockets) and cameras (one or two
# sockets or files each): a 50-camera engine with its store needs well under 256.
RESERVE_FLOOR: Final = 256
# No site needs more: a room has tens of nodes, a site tens of consoles fetching clips; more
# connections than this per server only cost memory (~30 KiB each in aiohttp/websockets).
MAX_CONNECTIONS_PER_SERVER: Final = 4096
MAX_PER_ADDRESS: Final = 64  # consoles open a few connections each; a NAT may hide several
MIN_CONNECTIONS_PER_SERVER: Final = 8  # below this a server is useless; warned about
EVICTION_SLACK: Final = 32  # connections being shut, not yet closed by their server
# Accepting waits (the kernel queues newcomers) while EVICTION_SLACK connections are being
# shut, unless none of them has closed for this long: then newcomers are refused instead.
SHUT_STUCK_S: Final = 5.0
SOFT_LIMIT_CEILING: Final = 1 << 20  # when the hard limit is unlimited
MAX_REFUSALS_PER_ACCEPT: Final = 256  # then the event loop runs other work before more
SUMMARY_EVERY_S: Final = 60.0
MAX_ADDRESSES_NAMED: Final = 3  # in a summary line: the busiest refused addresses
MAX_ADDRESSES_COUNTED: Final = 1024  # distinct refused addresses counted between summaries
FIRST_MESSAGE_S: Final = 10.0  # an HTTP request head, from the accept
IDLE_S: Final = 30.0  # between two HTTP requests on one connection

REFUSED_SERVER_FULL: Final = "server full"
REFUSED_ADDRESS_FULL: Final = "address full"
REFUSED_NO_DESCRIPTORS: Final = "no descriptors"
ACCEPT_OUT_OF_RESOURCES: Final = "socket.accept() out of system resource"  # asyncio's words


@dataclass(frozen=True, slots=True)
class ListenLimits:
    """What one listening server may hold: ``max_connections`` open connections,
    ``max_per_address`` from one client address; ``first_message_s`` seconds from accept to
    a complete first message; ``idle_s`` seconds idle between messages (for the server
    library's own knob); a refusal summary every ``summary_every_s`` seconds (engine clock)."""

    max_connections: int = 256
    max_per_address: int = 32
    first_message_s: float = FIRST_MESSAGE_S
    idle_s: float = IDLE_S
    summary_every_s: float = SUMMARY_EVERY_S

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.max_per_address < 1:
            raise ValueError(
                f"connection caps must be >= 1: max_connections {self.max_connections}, "
                f"max_per_address {self.max_per_address}"
            )
        if self.first_message_s <= 0 or self.idle_s <= 0 or self.summary_every_s <= 0:
            raise ValueError("first_message_s, idle_s and summary_every_s must be > 0 seconds")

    @property
    def descriptors(self) -> int:
        """The most descriptors a server under these limits holds: its connections, those
        being shut, its listening socket."""
        return self.max_connections + EVICTION_SLACK + 1


@dataclass(frozen=True, slots=True)
class DescriptorBudget:
    """The process's descriptors as split at start: ``limit`` (the soft ``RLIMIT_NOFILE``
    after raising it), ``in_use_at_start``, ``reserve`` (kept for recording, the store and
    cameras beyond those in use) and ``for_listening`` (shared by the listening servers)."""

    limit: int
    in_use_at_start: int
    reserve: int
    for_listening: int

    def limits_for(
        self,
        servers: int,
        *,
        first_message_s: float = FIRST_MESSAGE_S,
        idle_s: float = IDLE_S,
    ) -> ListenLimits:
        """The limits of each of ``servers`` listening servers sharing this budget evenly."""
        share = self.for_listening // max(1, servers)
        cap = min(MAX_CONNECTIONS_PER_SERVER, share - EVICTION_SLACK - 1)
        if cap < MIN_CONNECTIONS_PER_SERVER:
            log.warning(
                "only %d file descriptors for %d listening servers (limit %d): each takes %d "
                "connections; raise the open-files limit (ulimit -n)",
                self.for_listening,
                servers,
                self.limit,
                MIN_CONNECTIONS_PER_SERVER,
            )
            cap = MIN_CONNECTIONS_PER_SERVER
        return ListenLimits(
            max_connections=cap,
            max_per_address=max(2, min(MAX_PER_ADDRESS, cap // 4)),
            first_message_s=first_message_s,
            idle_s=idle_s,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "limit": self.limit,
            "in_use_at_start": self.in_use_at_start,
            "reserve": self.reserve,
            "for_listening": self.for_listening,
        }


def open_descriptors() -> int | None:
    """How many file descriptors this process has open now (None where the system does
    not say: no ``/proc/self/fd`` or ``/dev/fd``)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder)) - 1  # listdir's own descriptor
        except OSError:
            continue
    return None


def reserve_descriptors() -> DescriptorBudget:
    """Raise the soft open-files limit to the hard one (where the system allows) and split
    the descriptors not in use now: half, at least :data:`RESERVE_FLOOR`, stay for
    recording, the store and cameras; the other half is the listening servers'. Call once
    at engine start, before cameras and servers open anything. Any thread."""
    try:
        import resource
    except ImportError:  # not a POSIX system: nothing to raise, assume the common 1,024
        soft = 1024
    else:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = SOFT_LIMIT_CEILING if hard == resource.RLIM_INFINITY else hard
        target = min(target, SOFT_LIMIT_CEILING)
        if soft == resource.RLIM_INFINITY:
            soft = SOFT_LIMIT_CEILING
        elif target > soft:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
                log.info("open-files limit raised from %d to %d", soft, target)
                soft = target
            except (ValueError, OSError) as exc:
                log.warning("open-files limit stays %d (could not raise it: %s)", soft, exc)
    in_use = open_descriptors() or 0
    spare = max(0, soft - in_use)
    reserve = max(RESERVE_FLOOR, spare - spare // 2)  # the larger half, when odd
    return DescriptorBudget(
        limit=soft,
        in_use_at_start=in_use,
        reserve=min(reserve, spare),
        for_listening=max(0, spare - reserve),
    )


@dataclass(slots=True, eq=False)
class _Slot:
    """One admitted connection."""

    fd: int
    address: str
    connection: weakref.ref[_AdmittedSocket]
    heard: bool = False
    shutting: bool = False
    timer: asyncio.TimerHandle | None = None


@dataclass(slots=True)
class _Tally:
    """Refusals since the last summary line."""

    refused: Counter[str] = field(default_factory=Counter)
    addresses: Counter[str] = field(default_factory=Counter)
    evicted: int = 0
    expired: int = 0

    def __bool__(self) -> bool:
        return bool(self.refused) or self.evicted > 0 or self.expired > 0


class ConnectionGate:
    """Admits, refuses and times connections to one listening server; see the module doc.
    ``name`` says which server in log lines ("recordings server"). :meth:`listen` makes the
    listening socket to hand to the server library; the server calls :meth:`heard` when a
    connection's first complete message arrived."""

    def __init__(self, name: str, limits: ListenLimits, *, clock: Clock = REAL_CLOCK) -> None:
        self.name = name
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()  # figures() reads from any thread
        self._slots: dict[int, _Slot] = {}  # by descriptor, in order of admission
        self._by_address: dict[str, dict[int, _Slot]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._where = name
        self.accepted = 0
        self.peak_open = 0
        self.refused: Counter[str] = Counter()
        self.evicted = 0  # shut to make room for a newcomer, before their first message
        self.expired = 0  # shut for no first message within first_message_s
        self._shutting = 0  # connections shut, not yet closed by their server
        self._shut_progress_at = 0.0  # loop time a shut connection last closed (or was shut)
        self._tally = _Tally()
        self._last_summary_s: float | None = None
        self._flush: asyncio.TimerHandle | None = None

    # --- the listening socket -----------------------------------------------------------------

    def listen(self, host: str, port: int, *, backlog: int = 128) -> socket.socket:
        """A non-blocking socket bound to ``host:port`` (0: any free port) and listening,
        whose ``accept`` goes through this gate. Call on the server's event loop thread,
        with the loop running; raises ``OSError`` when the address cannot be bound."""
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(self._on_loop_exception)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = _GatedListener(self, family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(backlog)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self._where = f"{self.name} on {host}:{listener.getsockname()[1]}"
        return listener

    def heard(self, transport: asyncio.BaseTransport | None) -> None:
        """The connection of ``transport`` delivered a complete first message: it is no
        longer timed nor evicted to make room. Server loop thread."""
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is None:
            return
        with self._lock:
            slot = self._slots.get(sock.fileno())
            if slot is None or slot.heard:
                return
            slot.heard = True
            timer, slot.timer = slot.timer, None
        if timer is not None:
            timer.cancel()

    def figures(self) -> dict[str, Any]:
        """Counts for the engine's health and report: ``open`` and ``peak_open``
        connections, ``accepted``, ``refused`` (by reason), ``evicted``, ``expired``, and
        the limits. Any thread."""
        with self._lock:
            return {
                "open": len(self._slots),
                "peak_open": self.peak_open,
                "accepted": self.accepted,
                "refused": dict(self.refused),
                "refused_total": sum(self.refused.values()),
                "evicted": self.evicted,
                "expired": self.expired,
                "max_connections": self.limits.max_connections,
                "max_per_address": self.limits.max_per_address,
            }

    def close(self) -> None:
        """Log what was refused since the last summary (the server stops). Loop thread."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._summarise()

    # --- admission (loop thread, from _GatedListener.accept) -----------------------------------

    def _admit(self, address: str) -> str | None:
        """Make room for a connection from ``address`` if it may have one: None when it
        may, else the reason it is refused."""
        evicted = self.evicted
        reason = self._admit_locked(address)
        if self.evicted != evicted:
            self._note()
        return reason

    def _admit_locked(self, address: str) -> str | None:
        with self._lock:
            if len(self._slots) >= self.limits.max_connections + EVICTION_SLACK:
                return REFUSED_SERVER_FULL  # too many being shut, and they do not close
            mine = self._by_address.get(address, {})
            if self._live(mine) >= self.limits.max_per_address and not self._evict_one(mine):
                return REFUSED_ADDRESS_FULL
            live = len(self._slots) - self._shutting
            if live >= self.limits.max_connections and not self._evict_one(self._slots):
                return REFUSED_SERVER_FULL
            return None

    def _must_wait(self) -> bool:
        """Whether to leave newcomers in the kernel's queue for now: so many connections
        are being shut that their servers must close some first (they do on the event loop's
        next round). Not when they have stopped closing: then newcomers are refused."""
        with self._lock:
            if self._shutting < EVICTION_SLACK or self._loop is None:
                return False
            return self._loop.time() - self._shut_progress_at < SHUT_STUCK_S

    @staticmethod
    def _live(slots: dict[int, _Slot]) -> int:
        return sum(1 for slot in slots.values() if not slot.shutting)

    def _evict_one(self, slots: dict[int, _Slot]) -> bool:
        """Shut the oldest connection among ``slots`` that has not spoken (caller holds the
        lock); False when every one has."""
        for slot in slots.values():
            if not slot.heard and not slot.shutting:
                self.evicted += 1
                self._tally.evicted += 1
                self._shut(slot)
                return True
        return False

    def _shut(self, slot: _Slot) -> None:
        """Shut a connection's socket: its server reads the end of the stream and closes
        it, which frees the slot."""
        slot.shutting = True
        if self._shutting == 0 and self._loop is not None:
            self._shut_progress_at = self._loop.time()
        self._shutting += 1
        if slot.timer is not None:
            slot.timer.cancel()
            slot.timer = None
        connection = slot.connection()
        if connection is None:
            return
        with contextlib.suppress(OSError):  # the peer already went: its server closes it
            connection.shutdown(socket.SHUT_RDWR)

    def _opened(self, connection: _AdmittedSocket, fd: int, address: str) -> None:
        slot = _Slot(fd=fd, address=address, connection=weakref.ref(connection))
        with self._lock:
            self._slots[fd] = slot
            self._by_address.setdefault(address, {})[fd] = slot
            self.accepted += 1
            self.peak_open = max(self.peak_open, len(self._slots))
        loop = self._loop
        if loop is not None:
            slot.timer = loop.call_later(self.limits.first_message_s, self._expire, slot)
        # Closing frees the slot; so does a connection dropped unclosed (garbage collected).
        connection.on_release = weakref.finalize(connection, self._closed, fd, slot)

    def _closed(self, fd: int, slot: _Slot) -> None:
        """The server closed a connection (or dropped it): its slot is free. Any thread."""
        with self._lock:
            if self._slots.get(fd) is not slot:
                return
            del self._slots[fd]
            if slot.shutting:
                self._shutting -= 1
                if self._loop is not None:
                    self._shut_progress_at = self._loop.time()
            mine = self._by_address.get(slot.address)
            if mine is not None:
                mine.pop(fd, None)
                if not mine:
                    del self._by_address[slot.address]
            timer, slot.timer = slot.timer, None
        if timer is not None:
            timer.cancel()

    def _expire(self, slot: _Slot) -> None:
        with self._lock:
            if slot.heard or slot.shutting or self._slots.get(slot.fd) is not slot:
                return
            slot.timer = None
            self.expired += 1
            self._tally.expired += 1
            self._shut(slot)
        self._note()

    # --- refusals and their summary --------------------------------------------------------------

    def _refuse(self, address: str, reason: str) -> None:
        with self._lock:
            self.refused[reason] += 1
            self._tally.refused[reason] += 1
            if address in self._tally.addresses or len(self._tally.addresses) < (
                MAX_ADDRESSES_COUNTED
            ):
                self._tally.addresses[address] += 1
        self._note()

    def _note(self) -> None:
        """Something was refused or shut: log the summary when one is due, else make sure
        one will be."""
        now_s = self._clock.monotonic()
        last = self._last_summary_s
        if last is None or now_s - last >= self.limits.summary_every_s:
            self._summarise()
        elif self._flush is None and self._loop is not None:
            self._flush = self._loop.call_later(self.limits.summary_every_s, self._flushed)

    def _flushed(self) -> None:
        self._flush = None
        now_s = self._clock.monotonic()
        last = self._last_summary_s
        if last is not None and now_s - last < self.limits.summary_every_s:
            # The engine clock (simulated in tests) has not moved on: look again later.
            if self._loop is not None:
                self._flush = self._loop.call_later(self.limits.summary_every_s, self._flushed)
            return
        self._summarise()

    def _summarise(self) -> None:
        with self._lock:
            tally, self._tally = self._tally, _Tally()
            open_now = len(self._slots)
        self._last_summary_s = self._clock.monotonic()
        if not tally:
            return
        parts: list[str] = []
        if tally.refused:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in tally.refused.most_common())
            parts.append(f"refused {sum(tally.refused.values())} connections ({reasons})")
        if tally.evicted:
            parts.append(f"shut {tally.evicted} silent ones to make room")
        if tally.expired:
            parts.append(
                f"shut {tally.expired} with no request within {self.limits.first_message_s:g} s"
            )
        busiest = ", ".join(
            f"{address} ({n})" for address, n in tally.addresses.most_common(MAX_ADDRESSES_NAMED)
        )
        log.warning(
            "%s: %s%s; %d open of %d (further refusals are summarised every %g s)",
            self._where,
            "; ".join(parts),
            f"; from {busiest}" if busiest else "",
            open_now,
            self.limits.max_connections,
            self.limits.summary_every_s,
        )

    def _on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio reports an accept that ran out of descriptors once per accept (it then
        pauses accepting for a second): count it as a refusal, summarised like the others."""
        if context.get("message") == ACCEPT_OUT_OF_RESOURCES:
            self._refuse("?", REFUSED_NO_DESCRIPTORS)
            return
        loop.default_exception_handler(context)


class _GatedListener(socket.socket):
    """A listening socket whose ``accept`` asks its gate first (see the module doc)."""

    def __init__(self, gate: ConnectionGate, family: int, kind: int) -> None:
        super().__init__(family, kind)
        self._gate = gate

    def accept(self) -> tuple[socket.socket, Any]:
        """The next admitted connection; refused ones are closed at once, unread. Raises
        ``BlockingIOError`` when none is waiting (or after a burst of refusals, so the event
        loop serves others before it comes back)."""
        for _ in range(MAX_REFUSALS_PER_ACCEPT):
            if self._gate._must_wait():
                raise BlockingIOError(errno.EAGAIN, "waiting for shut connections to close")
            fd, address = self._accept()  # type: ignore[attr-defined]
            host = str(address[0]) if isinstance(address, tuple) and address else "?"
            reason = self._gate._admit(host)
            if reason is not None:
                self._gate._refuse(host, reason)  # counted before the client can see it
                os.close(fd)
                continue
            connection = _AdmittedSocket(self.family, self.type, self.proto, fileno=fd)
            self._gate._opened(connection, fd, host)
            return connection, address
        raise BlockingIOError(errno.EAGAIN, "refused a burst of connections; more next round")


class _AdmittedSocket(socket.socket):
    """An admitted connection: closing it frees its place at its gate."""

    def __init__(self, family: int, kind: int, proto: int, *, fileno: int) -> None:
        super().__init__(family, kind, proto, fileno=fileno)
        self.on_release: weakref.finalize[Any, Any] | None = None

    def close(self) -> None:
        self._release()
        super().close()

    def detach(self) -> int:
        self._release()
        return super().detach()

    def _release(self) -> None:
        if self.on_release is not None:
            self.on_release()  # runs ConnectionGate._closed once
