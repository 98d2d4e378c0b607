from __future__ import annotations

import threading
import time
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime

import pytest

from engine.bus import EventBus
from engine.clock import RealClock, SimulatedClock
from engine.events import CameraStatus, CameraStatusChanged, Event, HealthState, SubsystemHealth

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def status_event(camera: str = "a") -> CameraStatusChanged:
    return CameraStatusChanged(at=T0, camera_id=camera, status=CameraStatus.ONLINE, since=T0)


def test_simulated_clock_moves_only_when_told() -> None:
    clock = SimulatedClock(T0)
    assert clock.now() == T0
    clock.sleep(90)
    assert clock.now() == datetime(2026, 3, 1, 12, 1, 30, tzinfo=UTC)
    assert clock.monotonic() == 90
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 1, 1))


def test_simulated_wait_returns_when_time_passes_or_the_event_is_set() -> None:
    clock = SimulatedClock(T0)
    stop = threading.Event()
    results: list[bool] = []
    waiter = threading.Thread(target=lambda: results.append(clock.wait(stop, 5.0)))
    waiter.start()
    assert clock.wait_for_waiters(1, 10.0)
    assert clock.next_deadline_in() == 5.0
    clock.advance(4.9)
    assert clock.wait_for_waiters(1, 10.0) and results == []  # not yet: still blocked
    clock.advance(0.1)
    waiter.join(10.0)
    assert results == [False] and clock.waiters() == 0

    waiter = threading.Thread(target=lambda: results.append(clock.wait(stop, None)))
    waiter.start()
    assert clock.wait_for_waiters(1, 10.0) and clock.next_deadline_in() is None
    clock.advance(3600)  # no deadline: only the event ends this wait
    assert clock.wait_for_waiters(1, 10.0)
    stop.set()
    waiter.join(10.0)
    assert results == [False, True]
    assert clock.wait(stop, 1.0) is True  # already set: no blocking
    assert clock.monotonic() == 3605.0  # waiting never moves simulated time


def test_simulated_waiters_sleep_instead_of_spinning() -> None:
    clock = SimulatedClock(T0)
    stop = threading.Event()
    waiter = threading.Thread(target=clock.wait, args=(stop, 10.0))
    started = time.process_time()
    waiter.start()
    assert clock.wait_for_waiters(1, 10.0)
    time.sleep(0.3)  # this test measures the waiter, not engine timing
    stop.set()
    waiter.join(10.0)
    assert time.process_time() - started < 0.1  # a spinning waiter would burn ~0.3 s


def test_real_clock_wait_uses_the_event() -> None:
    stop = threading.Event()
    assert RealClock().wait(stop, 0.0) is False
    stop.set()
    assert RealClock().wait(stop, 5.0) is True


def test_real_clock_is_utc_and_monotonic() -> None:
    clock = RealClock()
    assert clock.now().tzinfo is UTC
    first = clock.monotonic()
    assert clock.monotonic() >= first


def test_events_are_immutable() -> None:
    event = status_event()
    with pytest.raises(FrozenInstanceError):
        event.camera_id = "b"  # type: ignore[misc]


def test_subscribers_get_their_type_and_subclasses_only() -> None:
    bus = EventBus()
    everything: list[Event] = []
    statuses: list[CameraStatusChanged] = []
    bus.subscribe(Event, everything.append)
    bus.subscribe(CameraStatusChanged, statuses.append)
    health = SubsystemHealth(at=T0, subsystem="store", state=HealthState.OK, detail="")
    bus.publish(status_event())
    bus.publish(health)
    assert len(everything) == 2
    assert statuses == [status_event()]


def test_unsubscribe_and_failing_handler_do_not_disturb_others() -> None:
    bus = EventBus()
    received: list[Event] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("handler bug")

    bus.subscribe(Event, broken)
    unsubscribe = bus.subscribe(Event, received.append)
    bus.publish(status_event())
    assert len(received) == 1
    assert bus.handler_errors == 1
    unsubscribe()
    bus.publish(status_event())
    assert len(received) == 1


def test_publish_from_many_threads_delivers_every_event() -> None:
    bus = EventBus()
    lock = threading.Lock()
    seen: list[str] = []

    def record(event: CameraStatusChanged) -> None:
        with lock:
            seen.append(event.camera_id)

    bus.subscribe(CameraStatusChanged, record)
    threads = [
        threading.Thread(
            target=lambda n=n: [bus.publish(status_event(f"{n}-{i}")) for i in range(500)]
        )
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4000
    assert len(set(seen)) == 4000


def test_status_event_record_names_kind_and_source() -> None:
    record = CameraStatusChanged(
        at=T0,
        camera_id="gate",
        status=CameraStatus.OFFLINE,
        detail="no frames",
        since=T0,
        retry_in_s=2.0,
    ).record()
    assert record.kind == "camera.offline"
    assert record.source == "camera:gate"
    assert record.detail["retry_in_s"] == 2.0


def test_importing_opencv_leaves_qt_plugin_path_alone() -> None:
    # opencv-contrib-python points QT_QPA_PLATFORM_PLUGIN_PATH at its own Qt when imported,
    # which would make the console load an incompatible platform plugin.
    import os
    import subprocess
    import sys

    code = (
        "import os; from engine.cv import import_cv2; import_cv2(); "
        "print(os.environ.get('QT_QPA_PLATFORM_PLUGIN_PATH'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM_PLUGIN_PATH"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "None"
