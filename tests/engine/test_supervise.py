"""Supervised background threads: a loop that raises runs again after a backoff on the
engine's clock, each restart counted; a stop ends a backoff at once."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.clock import SimulatedClock
from engine.supervise import FIRST_BACKOFF_S, SupervisedThread, supervised_health
from tests.waiting import wait_for


def test_a_failing_loop_is_restarted_with_a_growing_backoff_and_its_restarts_shown() -> None:
    clock = SimulatedClock()
    stop = threading.Event()
    runs: list[float] = []
    heard: list[str] = []

    def loop() -> None:
        runs.append(clock.monotonic())
        if len(runs) <= 2:
            raise ConnectionError(f"database away ({len(runs)})")
        stop.wait()  # the third run keeps going until stopped, then returns

    thread = SupervisedThread(
        loop, name="test-loop", stop=stop, clock=clock, on_restart=lambda e: heard.append(str(e))
    )
    thread.start()
    assert clock.wait_for_waiters(1)  # the first backoff
    assert thread.health().backing_off and thread.restarts == 0
    clock.advance(FIRST_BACKOFF_S)
    wait_for(lambda: len(runs) == 2, what="the second run")
    assert clock.wait_for_waiters(1)
    assert clock.next_deadline_in() == 2 * FIRST_BACKOFF_S  # the backoff doubled
    clock.advance(2 * FIRST_BACKOFF_S)
    wait_for(lambda: len(runs) == 3, what="the third run")
    assert runs == [0.0, FIRST_BACKOFF_S, 3 * FIRST_BACKOFF_S]
    assert heard == ["database away (1)", "database away (2)"]
    [health] = [h for h in supervised_health() if h.name == "test-loop"]
    assert health.alive and health.restarts == 2 and not health.backing_off
    assert health.last_error == "ConnectionError: database away (2)"
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def test_a_stop_during_a_backoff_ends_the_thread_without_another_run() -> None:
    clock = SimulatedClock()
    stop = threading.Event()
    runs: list[int] = []

    def loop() -> None:
        runs.append(1)
        raise RuntimeError("always")

    thread = SupervisedThread(loop, name="test-stop", stop=stop, clock=clock)
    thread.start()
    assert clock.wait_for_waiters(1)
    stop.set()
    thread.join(10)
    assert not thread.is_alive() and runs == [1] and thread.restarts == 0


def test_the_engines_health_names_a_thread_waiting_to_restart(tmp_path: Path) -> None:
    from engine.config import load_site
    from engine.events import HealthState
    from engine.runtime import EngineRuntime
    from tests.conftest import write_site

    runtime = EngineRuntime(load_site(write_site(tmp_path / "site.toml")), None, analytics=False)
    assert not [h for h in runtime.health() if h.subsystem == "threads"]  # nothing failed
    clock = SimulatedClock()
    stop = threading.Event()
    runs: list[int] = []

    def loop() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise OSError("disk away")
        stop.wait()

    thread = SupervisedThread(loop, name="test-health", stop=stop, clock=clock)
    thread.start()
    try:
        assert clock.wait_for_waiters(1)
        [row] = [h for h in runtime.health() if h.subsystem == "threads"]
        assert row.state is HealthState.DEGRADED
        assert row.detail == "test-health failed (OSError: disk away); waits to restart, 0 restarts"
        clock.advance(FIRST_BACKOFF_S)
        wait_for(lambda: len(runs) == 2, what="the second run")
        [row] = [h for h in runtime.health() if h.subsystem == "threads"]
        assert row.state is HealthState.OK
        assert row.detail == "test-health failed (OSError: disk away); runs again, 1 restart"
        threads = runtime.report()["background_threads"]
        assert {"name": "test-health", "alive": True, "restarts": 1}.items() <= next(
            t for t in threads if t["name"] == "test-health"
        ).items()
    finally:
        stop.set()
        thread.join(10)
