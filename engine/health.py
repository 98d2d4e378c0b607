"""One line of health per subsystem, and the lines every engine shares.

Each capability's host says its own line (``health()``); the runtime gathers them in a
fixed order for the status bar, ``--selftest`` and the heartbeat of a shared site's
engine, and publishes a :class:`~engine.events.SubsystemHealth` when one changes, from its
watchdog thread (:func:`watchdog`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from engine.bus import EventBus
from engine.clock import Clock
from engine.events import HealthState, SubsystemHealth
from engine.store.database import Store, short_url
from engine.store.writer import WriterHealth
from engine.supervise import SupervisedThread, supervised_health
from engine.wording import counted

log = logging.getLogger(__name__)

WATCHDOG_INTERVAL_S = 0.5


@dataclass(frozen=True, slots=True)
class HealthReport:
    subsystem: str
    state: HealthState
    detail: str


def threads_health() -> HealthReport | None:
    """Background threads whose loop failed and was restarted (or waits to be): named
    with their restarts and last error; degraded while one waits to restart. None while
    none has failed (nothing to show)."""
    troubled = [h for h in supervised_health() if h.alive and (h.restarts or h.backing_off)]
    if not troubled:
        return None
    troubled.sort(key=lambda h: not h.backing_off)  # one waiting to restart comes first
    first = troubled[0]
    now = "waits to restart" if first.backing_off else "runs again"
    more = f" (+{len(troubled) - 1} more)" if len(troubled) > 1 else ""
    detail = (
        f"{first.name} failed ({first.last_error}); {now}, "
        f"{counted(first.restarts, 'restart')}{more}"
    )
    state = HealthState.DEGRADED if first.backing_off else HealthState.OK
    return HealthReport("threads", state, detail)


def gathered(sources: Iterable[Callable[[], HealthReport]]) -> list[HealthReport]:
    """Each of ``sources``' report; one that fails is logged and left out, never letting a
    report stop the others."""
    reports = []
    for source in sources:
        try:
            reports.append(source())
        except Exception:  # never let a report stop the others
            log.exception("a subsystem's health could not be read")
    return reports


def watchdog(round_: Callable[[], None], stop: threading.Event, clock: Clock) -> SupervisedThread:
    """The engine's watchdog thread (not started): a ``round_`` (stall checks, losses due,
    health published) every :data:`WATCHDOG_INTERVAL_S` of ``clock`` until ``stop`` is set.
    Supervised: the rounds go on after an unexpected error in one."""

    def watch() -> None:
        while not clock.wait(stop, WATCHDOG_INTERVAL_S):
            round_()

    return SupervisedThread(watch, name="engine-watchdog", stop=stop, clock=clock)


class HealthPublisher:
    """Publishes a subsystem's health on ``bus`` when its line changes."""

    def __init__(self, bus: EventBus, now: Callable[[], datetime]) -> None:
        self._bus = bus
        self._now = now
        self._last: dict[str, HealthReport] = {}

    def publish(self, reports: Iterable[HealthReport]) -> None:
        for report in reports:
            if self._last.get(report.subsystem) != report:
                self._last[report.subsystem] = report
                self._bus.publish(
                    SubsystemHealth(
                        at=self._now(),
                        subsystem=report.subsystem,
                        state=report.state,
                        detail=report.detail,
                    )
                )


def store_health(
    store: Store | None, writer: WriterHealth | None, *problems: str | None
) -> HealthReport:
    """The ``store`` line: the database and its writer (``writer``: its health), then
    the first of ``problems`` (retention's, the audit checkpoints')."""
    if store is None:
        return HealthReport("store", HealthState.OFF, "no database")
    if writer is not None and writer.fatal:
        return HealthReport("store", HealthState.DOWN, writer.fatal)
    if writer is not None and writer.last_error:
        return HealthReport(
            "store",
            HealthState.DEGRADED,
            f"retrying: {writer.last_error} ({writer.queued} queued, "
            f"{writer.retried} retries, {writer.spilled} spilled)",
        )
    problem = next((p for p in problems if p), None)
    if problem:
        return HealthReport("store", HealthState.DEGRADED, problem)
    # Short: the status bar has room for every subsystem (System names the URL).
    return HealthReport("store", HealthState.OK, short_url(str(store.engine.url)))
