"""What one sender of MQTT commands may cost the engine: a token bucket per sender for the
commands it sends, and a ledger of its refusals that reaches the audit trail and the log at
most once a minute.

A sender is the ``<broker user>`` level of a command's topic. Until a command's token
proves who sent it, that level is only a name anyone may write on a broker without an ACL,
so whatever a sender does is bounded here, before it reaches the store or the log:

- each sender may send :data:`COMMANDS_PER_MINUTE` commands a minute (a bucket of that
  many, refilled continuously); the excess is refused without being looked at;
- a sender's first refusal is audited and logged at once and opens a window of
  :data:`SUMMARY_S`; the refusals in it are counted, by reason, and audited and logged as
  one summary when it ends (a window with none closes quietly). So a sender costs at most
  one audit entry and one log line a minute, however much it sends;
- at most :data:`MAX_SENDERS` senders are followed one by one; a sender beyond them (or a
  topic level that is no broker user's name) counts under :data:`OTHERS`, which has one
  bucket and one ledger for them all. Senders with a full bucket and no open window are
  forgotten first.

Times are the engine clock's monotonic seconds (a simulated clock drives them in tests).
Thread-safe: the broker's network thread takes from the buckets, the command thread counts
refusals and asks which summaries are due.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Final

from engine.clock import Clock

COMMANDS_PER_MINUTE: Final = 10
SUMMARY_S: Final = 60.0  # a sender's refusals reach the audit trail at most this often
MAX_SENDERS: Final = 256
OTHERS: Final = "*"  # the senders not followed one by one


class Admission(Enum):
    """Whether a command is within its sender's rate: ``ADMITTED``; ``LIMITED_FIRST``, the
    first over the rate since the last admitted one (answered, so the sender learns why);
    ``LIMITED``, the others (not answered: an answer each would be a flood of its own)."""

    ADMITTED = "admitted"
    LIMITED_FIRST = "limited_first"
    LIMITED = "limited"


@dataclass(frozen=True, slots=True)
class RefusalSummary:
    """What to audit and log for ``sender``: ``refused`` commands since ``since`` (wall
    time, UTC), by reason; ``example``, the words of the first of them. ``first``: the
    refusal that opened a window (one command), not a window's summary."""

    sender: str
    refused: int
    reasons: dict[str, int]
    since: datetime
    example: str
    first: bool


@dataclass(slots=True)
class _Sender:
    tokens: float
    filled_at: float  # monotonic s
    told_limited: bool = False
    window_ends: float | None = None  # monotonic s; None: no window open
    window_since: datetime | None = None
    refused: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    example: str = ""


class SenderLimits:
    """See the module doc. ``per_minute``: commands a sender may send a minute;
    ``window_s``: how often a sender's refusals may reach the audit trail (seconds);
    ``max_senders``: how many senders are followed one by one."""

    def __init__(
        self,
        clock: Clock,
        *,
        per_minute: int = COMMANDS_PER_MINUTE,
        window_s: float = SUMMARY_S,
        max_senders: int = MAX_SENDERS,
    ) -> None:
        self._clock = clock
        self._capacity = float(per_minute)
        self._per_s = per_minute / 60.0
        self._window_s = window_s
        self._max = max_senders
        self._lock = threading.Lock()
        self._senders: dict[str, _Sender] = {}
        self.per_minute = per_minute

    def key(self, sender: str | None) -> str:
        """The ledger ``sender`` counts under: itself while it is followed or there is room,
        else :data:`OTHERS` (None: a topic level that names no broker user)."""
        if sender is None:
            return OTHERS
        with self._lock:
            return self._key_locked(sender)

    def take(self, sender: str) -> Admission:
        """A command from ``sender`` (a :meth:`key`): whether it is within the rate."""
        now = self._clock.monotonic()
        with self._lock:
            state = self._state_locked(sender, now)
            state.tokens = min(self._capacity, state.tokens + (now - state.filled_at) * self._per_s)
            state.filled_at = now
            if state.tokens >= 1.0:
                state.tokens -= 1.0
                state.told_limited = False
                return Admission.ADMITTED
            if state.told_limited:
                return Admission.LIMITED
            state.told_limited = True
            return Admission.LIMITED_FIRST

    def refuse(self, sender: str, reason: str, words: str) -> RefusalSummary | None:
        """Count a refusal of ``sender``'s command (``reason``: a short key such as "no
        grant"; ``words``: what the sender was told). Returns what to audit and log now
        when this refusal opens a window, else None (it is in the window's summary)."""
        now = self._clock.monotonic()
        with self._lock:
            state = self._state_locked(sender, now)
            if state.window_ends is not None and now < state.window_ends:
                state.refused += 1
                state.reasons[reason] += 1
                if not state.example:
                    state.example = words
                return None
            if state.window_ends is not None and state.refused:
                # A window ended unseen (no tick since): its summary first, this one in
                # the next window, so that two entries are never a minute apart.
                summary = self._summary_locked(sender, state, first=False)
                self._open_locked(state, now)
                state.refused, state.reasons, state.example = 1, Counter({reason: 1}), words
                return summary
            self._open_locked(state, now)
            return RefusalSummary(
                sender=sender,
                refused=1,
                reasons={reason: 1},
                since=self._clock.now(),
                example=words,
                first=True,
            )

    def due(self) -> list[RefusalSummary]:
        """The summaries of windows that have ended with refusals in them (each opens the
        next window); windows that ended with none close."""
        now = self._clock.monotonic()
        out: list[RefusalSummary] = []
        with self._lock:
            for sender, state in self._senders.items():
                if state.window_ends is None or now < state.window_ends:
                    continue
                if state.refused:
                    out.append(self._summary_locked(sender, state, first=False))
                    self._open_locked(state, now)
                else:
                    state.window_ends, state.window_since = None, None
        return out

    def flush(self) -> list[RefusalSummary]:
        """Every refusal counted and not yet summarised (the engine is stopping)."""
        with self._lock:
            out = [
                self._summary_locked(sender, state, first=False)
                for sender, state in self._senders.items()
                if state.refused
            ]
            for state in self._senders.values():
                state.window_ends, state.window_since = None, None
        return out

    def next_due_in(self) -> float | None:
        """Seconds until the earliest open window ends (None: no window is open)."""
        now = self._clock.monotonic()
        with self._lock:
            ends = [s.window_ends for s in self._senders.values() if s.window_ends is not None]
        return max(0.0, min(ends) - now) if ends else None

    @property
    def followed(self) -> int:
        """How many senders are followed one by one (:data:`OTHERS` included)."""
        with self._lock:
            return len(self._senders)

    # -- under the lock ---------------------------------------------------------------------
    def _key_locked(self, sender: str) -> str:
        if sender in self._senders or sender == OTHERS:
            return sender
        if len(self._senders) >= self._max:
            self._forget_idle_locked()
        return sender if len(self._senders) < self._max else OTHERS

    def _forget_idle_locked(self) -> None:
        """Forget senders that have nothing pending: a full bucket and no open window."""
        now = self._clock.monotonic()
        idle = [
            name
            for name, state in self._senders.items()
            if state.window_ends is None
            and state.tokens + (now - state.filled_at) * self._per_s >= self._capacity
        ]
        for name in idle:
            del self._senders[name]

    def _state_locked(self, sender: str, now: float) -> _Sender:
        state = self._senders.get(sender)
        if state is None:
            state = self._senders[sender] = _Sender(tokens=self._capacity, filled_at=now)
        return state

    def _open_locked(self, state: _Sender, now: float) -> None:
        state.window_ends = now + self._window_s
        state.window_since = self._clock.now()
        state.refused, state.reasons, state.example = 0, Counter(), ""

    def _summary_locked(self, sender: str, state: _Sender, *, first: bool) -> RefusalSummary:
        return RefusalSummary(
            sender=sender,
            refused=state.refused,
            reasons=dict(state.reasons),
            since=state.window_since or self._clock.now(),
            example=state.example,
            first=first,
        )
