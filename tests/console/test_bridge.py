from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from engine.events import (
    CameraStatus,
    CameraStatusChanged,
    Event,
    HealthState,
    SubsystemHealth,
    to_console,
    to_console_newest,
)
from engine.store.event_views import EventsStored, EventView

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_worker_events_arrive_on_the_gui_thread(qtbot: QtBot, qapp: QApplication) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    received: list[tuple[str, bool]] = []

    def on_status(event: CameraStatusChanged) -> None:
        received.append((event.camera_id, QThread.currentThread() is qapp.thread()))

    bridge.on(CameraStatusChanged, on_status)
    health: list[SubsystemHealth] = []
    bridge.on(SubsystemHealth, health.append)
    stored_batches: list[tuple[tuple[EventView, ...], bool]] = []
    bridge.on(
        EventsStored,
        lambda event: stored_batches.append(
            (event.views, QThread.currentThread() is qapp.thread())
        ),
    )
    status = CameraStatusChanged(at=T0, camera_id="gate", status=CameraStatus.ONLINE, since=T0)
    stored = EventView(
        id=7,
        ts=T0,
        kind="camera.online",
        source="camera:gate",
        camera="gate",
        detail={},
        clip_path=None,
        clip_offset_s=None,
    )
    worker = threading.Thread(
        target=lambda: [
            bus.publish(status),
            bus.publish(SubsystemHealth(at=T0, subsystem="store", state=HealthState.OK, detail="")),
            bus.publish(EventsStored(at=T0, views=(stored,))),
        ]
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(health) == 1 and len(stored_batches) == 1, timeout=2000)
    assert received == [("gate", True)]
    # The event list is fed by the store writer's announcement only, never the live copy.
    assert stored_batches == [((stored,), True)]
    bridge.close()
    bus.publish(status)
    qtbot.wait(50)
    assert len(received) == 1  # closed bridges stop listening


def test_fusion_updates_reach_the_gui_thread_and_placed_people_do_not(
    qtbot: QtBot, qapp: QApplication
) -> None:
    from engine.events import PeoplePlaced, PeopleSensedInView
    from engine.fusion.service import FusionUpdated

    bus = EventBus()
    bridge = QtBridge(bus)
    fused: list[FusionUpdated] = []
    others: list[object] = []
    bridge.on(FusionUpdated, fused.append)
    bridge.sig_event.connect(others.append)
    bus.publish(PeoplePlaced(at=T0, room="lab", people=(1,)))  # for the alert rules only
    bus.publish(PeopleSensedInView(at=T0, camera="gate", people=((-1, (0.5, 0.9)),)))
    update = FusionUpdated(at=T0, people=(), links=())
    threading.Thread(target=bus.publish, args=(update,)).start()
    qtbot.waitUntil(lambda: bool(fused))
    assert fused == [update]
    assert all(not isinstance(o, PeoplePlaced | PeopleSensedInView) for o in others)
    bridge.close()


@to_console
@dataclass(frozen=True, slots=True, kw_only=True)
class _Rang(Event):
    """A kind only this test knows: declared, it reaches a handler with no bridge change."""

    bell: str


@to_console_newest(per=lambda event: event.room)
@dataclass(frozen=True, slots=True, kw_only=True)
class _Counted(Event):
    room: str
    n: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Undeclared(Event):
    pass


def test_a_declared_kind_reaches_its_handlers_on_the_gui_thread_and_others_are_refused(
    qtbot: QtBot, qapp: QApplication
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    rang: list[tuple[str, bool]] = []
    bridge.on(
        _Rang, lambda event: rang.append((event.bell, QThread.currentThread() is qapp.thread()))
    )
    with pytest.raises(ValueError, match="not declared to the console"):
        bridge.on(_Undeclared, lambda _event: None)
    worker = threading.Thread(
        target=lambda: [bus.publish(_Rang(at=T0, bell=b)) for b in ("front", "back")]
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(rang) == 2, timeout=2000)
    assert rang == [("front", True), ("back", True)]  # every one, in the order published
    bridge.close()


def test_a_coalesced_kind_gives_a_busy_gui_thread_the_newest_per_key(qtbot: QtBot) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    got: list[tuple[str, int]] = []
    bridge.on(_Counted, lambda event: got.append((event.room, event.n)))
    # The GUI thread is busy (it runs this test) while a worker publishes ten of each room.
    worker = threading.Thread(
        target=lambda: [
            bus.publish(_Counted(at=T0, room=room, n=n)) for n in range(10) for room in ("a", "b")
        ]
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(got) >= 2, timeout=2000)
    qtbot.wait(50)
    assert got == [("a", 9), ("b", 9)]
    bridge.close()
