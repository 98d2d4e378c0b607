"""What the node server lets in from strangers: provisioning rates, and refused hellos tallied.

Anything on the network may ask for a token or say hello, so neither may cost the site more
than a bounded amount of work, memory, storage or log:

- :class:`ProvisionLimiter`: ``POST /api/provision`` is answered at most
  :data:`PROVISIONS_PER_ADDRESS` times per :data:`PROVISION_WINDOW_S` per client address and
  :data:`PROVISIONS_PER_WINDOW` times overall (refused: 429 with the seconds to wait). A site
  pairs a handful of nodes, each from its own address, so the limits never slow a real
  pairing; they stop a script from minting hundreds of paired MACs in a second. Fixed windows
  on the engine clock; at most :data:`MAX_TRACKED_ADDRESSES` addresses are remembered per
  window (a window that met more refuses new ones until it ends).
- :class:`RejectionTally`: hellos refused before a node proved who it is (no hello, a bad
  one, no token, a wrong one) are counted by reason, by address and by the MAC they named
  (each at most :data:`MAX_TALLIED` kept by name, the rest counted together), and summarised
  at most once per :data:`SUMMARY_INTERVAL_S`: the first refusal after a quiet interval at
  once, the rest in one summary when the interval ends. The node server stores each summary
  as one ``sensing.node_rejected`` event and logs it as one line, so a flood of bad hellos
  cannot bury the history or the log.

Threads: both are used on the node server's event loop thread only, except
:meth:`RejectionTally.totals`, which takes a snapshot under the tally's lock for any thread.
Times are the engine clock's monotonic seconds.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

PROVISION_WINDOW_S: Final = 60.0  # seconds of one provisioning window of counts
PROVISIONS_PER_ADDRESS: Final = 5  # answers per client address per window (a node retries)
PROVISIONS_PER_WINDOW: Final = 30  # answers per window overall (a site pairs a few nodes)
MAX_TRACKED_ADDRESSES: Final = 1024  # addresses remembered per window: bounded memory

SUMMARY_INTERVAL_S: Final = 60.0  # at most one stored summary and log line per interval
MAX_TALLIED: Final = 16  # addresses and MACs named in a summary; the others are counted

# Why a hello was refused, as tallied (the full reason goes with a summary's latest one).
NO_HELLO: Final = "no hello"
BAD_HELLO: Final = "bad hello"
NO_TOKEN: Final = "no token"
WRONG_TOKEN: Final = "wrong token"


class ProvisionLimiter:
    """Counts provisioning requests per fixed window, per address and overall."""

    def __init__(
        self,
        *,
        per_address: int = PROVISIONS_PER_ADDRESS,
        overall: int = PROVISIONS_PER_WINDOW,
        window_s: float = PROVISION_WINDOW_S,
        max_addresses: int = MAX_TRACKED_ADDRESSES,
    ) -> None:
        self.per_address = per_address
        self.overall = overall
        self.window_s = window_s
        self._max_addresses = max_addresses
        self._window_start_s: float | None = None
        self._total = 0
        self._by_address: dict[str, int] = {}
        self.refused = 0  # requests refused since the server started

    def allow(self, address: str, now_s: float) -> float | None:
        """Count a request from ``address`` (a host, no port) at ``now_s``: None when it may
        be answered, else the seconds until the window ends (when it may ask again)."""
        start = self._window_start_s
        if start is None or now_s - start >= self.window_s or now_s < start:
            self._window_start_s = start = now_s
            self._total = 0
            self._by_address.clear()
        seen = self._by_address.get(address)
        if (
            self._total >= self.overall
            or (seen is not None and seen >= self.per_address)
            or (seen is None and len(self._by_address) >= self._max_addresses)
        ):
            self.refused += 1
            return max(0.0, start + self.window_s - now_s)
        self._total += 1
        self._by_address[address] = (seen or 0) + 1
        return None


@dataclass(frozen=True, slots=True)
class RejectionSummary:
    """Hellos refused over one stretch: how many, by reason, by address (the first
    :data:`MAX_TALLIED`; ``other_addresses`` counts the rest), by the MAC they named
    (likewise), and the latest one's full reason and address."""

    count: int
    reasons: dict[str, int]
    addresses: dict[str, int]
    other_addresses: int
    macs: dict[str, int]
    other_macs: int
    latest_reason: str
    latest_address: str
    first_s: float
    last_s: float

    def only_mac(self) -> str:
        """The MAC every refusal named, or "" if they named none or several."""
        if len(self.macs) == 1 and not self.other_macs:
            ((mac, count),) = self.macs.items()
            return mac if count == self.count else ""
        return ""

    def detail(self) -> dict[str, Any]:
        """The stored event's detail; ``reason`` and ``remote`` are the latest refusal's."""
        return {
            "reason": self.latest_reason,
            "remote": self.latest_address,
            "rejections": self.count,
            "reasons": dict(self.reasons),
            "addresses": dict(self.addresses),
            "other_addresses": self.other_addresses,
            "macs": dict(self.macs),
            "other_macs": self.other_macs,
            "over_s": round(self.last_s - self.first_s, 3),
        }

    def line(self) -> str:
        """One log line: the count, the reasons and where from."""
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.reasons.items()))
        addresses = ", ".join(f"{a} ({n})" for a, n in self.addresses.items())
        if self.other_addresses:
            addresses += f" and {self.other_addresses} from other addresses"
        if self.count == 1:
            return f"refused a node from {self.latest_address}: {self.latest_reason}"
        return (
            f"refused {self.count} node connections in {self.last_s - self.first_s:.0f} s "
            f"({reasons}) from {addresses}; the latest: {self.latest_reason}"
        )


@dataclass(slots=True)
class _Pending:
    count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    addresses: dict[str, int] = field(default_factory=dict)
    other_addresses: int = 0
    macs: dict[str, int] = field(default_factory=dict)
    other_macs: int = 0
    latest_reason: str = ""
    latest_address: str = ""
    first_s: float = 0.0
    last_s: float = 0.0


class RejectionTally:
    """Refused hellos counted in memory and summarised at most once per interval."""

    def __init__(self, interval_s: float = SUMMARY_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._pending: _Pending | None = None
        self._last_summary_s: float | None = None
        self._totals: Counter[str] = Counter()  # since the server started, by reason
        self._summaries = 0

    def add(self, kind: str, reason: str, address: str, mac: str, now_s: float) -> None:
        """Count one refusal (``kind``: one of the reasons above; ``reason``: its words;
        ``address`` a host; ``mac`` "" when the hello named none)."""
        with self._lock:
            self._totals[kind] += 1
            pending = self._pending
            if pending is None:
                pending = self._pending = _Pending(first_s=now_s)
            pending.count += 1
            pending.reasons[kind] += 1
            pending.latest_reason, pending.latest_address, pending.last_s = reason, address, now_s
            pending.other_addresses += _tally(pending.addresses, address)
            if mac:
                pending.other_macs += _tally(pending.macs, mac)

    def due(self, now_s: float) -> RejectionSummary | None:
        """The summary to store and log now, if refusals wait and none was given within the
        last interval; it starts the next interval."""
        with self._lock:
            pending = self._pending
            last = self._last_summary_s
            if pending is None or (last is not None and 0 <= now_s - last < self.interval_s):
                return None
            return self._take_locked(now_s)

    def flush(self, now_s: float) -> RejectionSummary | None:
        """Whatever waits, now (the server is stopping)."""
        with self._lock:
            return None if self._pending is None else self._take_locked(now_s)

    def totals(self) -> dict[str, Any]:
        """Refusals since the server started, by reason, and summaries given (any thread)."""
        with self._lock:
            return {
                "rejections": sum(self._totals.values()),
                "reasons": MappingProxyType(dict(self._totals)),
                "summaries": self._summaries,
                "waiting": 0 if self._pending is None else self._pending.count,
            }

    def _take_locked(self, now_s: float) -> RejectionSummary:
        pending = self._pending
        assert pending is not None
        self._pending = None
        self._last_summary_s = now_s
        self._summaries += 1
        return RejectionSummary(
            count=pending.count,
            reasons=dict(pending.reasons),
            addresses=dict(pending.addresses),
            other_addresses=pending.other_addresses,
            macs=dict(pending.macs),
            other_macs=pending.other_macs,
            latest_reason=pending.latest_reason,
            latest_address=pending.latest_address,
            first_s=pending.first_s,
            last_s=pending.last_s,
        )


def _tally(counts: dict[str, int], key: str) -> int:
    """Count ``key`` in ``counts`` if it is there or there is room (0), else 1 for "others"."""
    if key in counts or len(counts) < MAX_TALLIED:
        counts[key] = counts.get(key, 0) + 1
        return 0
    return 1
