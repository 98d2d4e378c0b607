"""Waiting in tests for what another thread or process does: poll a condition with a bound.

The bound is when a test gives up and fails, never a timing a test relies on: a condition
that comes true returns at once, so a generous bound costs nothing on a passing run. Waiting
for engine time to pass is a :class:`engine.clock.SimulatedClock`'s job, not a sleep's."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT_S = 60.0  # real seconds before a wait gives up (a machine under load is slow, not wrong)
POLL_S = 0.01


def wait_until(predicate: Callable[[], object], timeout_s: float = WAIT_S) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` real seconds have passed; whether
    it came true (for ``assert wait_until(...)``)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(POLL_S)
    return True


def wait_for(
    predicate: Callable[[], object], timeout_s: float = WAIT_S, what: str = "the condition"
) -> None:
    """:func:`wait_until`, failing the test with ``what`` it waited for if it never came."""
    if not wait_until(predicate, timeout_s):
        raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
