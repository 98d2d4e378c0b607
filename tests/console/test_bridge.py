from __future__ import annotations

import threading
from datetime import UTC, datetime

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from engine.events import CameraStatus, CameraStatusChanged, HealthState, SubsystemHealth

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_worker_events_arrive_on_the_gui_thread(qtbot: QtBot, qapp: QApplication) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    received: list[tuple[str, bool]] = []

    def on_status(event: CameraStatusChanged) -> None:
        received.append((event.camera_id, QThread.currentThread() is qapp.thread()))

    bridge.sig_camera_status_changed.connect(on_status)
    health: list[SubsystemHealth] = []
    bridge.sig_health_changed.connect(health.append)
    status = CameraStatusChanged(at=T0, camera_id="gate", status=CameraStatus.ONLINE, since=T0)
    worker = threading.Thread(
        target=lambda: [
            bus.publish(status),
            bus.publish(SubsystemHealth(at=T0, subsystem="store", state=HealthState.OK, detail="")),
        ]
    )
    with qtbot.waitSignal(bridge.sig_history_event, timeout=2000) as history:
        worker.start()
        worker.join()
    qtbot.waitUntil(lambda: len(health) == 1, timeout=2000)
    assert received == [("gate", True)]
    assert history.args == [status]  # camera status is history; health is not
    bridge.close()
    bus.publish(status)
    qtbot.wait(50)
    assert len(received) == 1  # closed bridges stop listening
