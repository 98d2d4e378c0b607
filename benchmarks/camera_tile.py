"""End-to-end display rate of a camera tile: file source → frame slot → CameraTile paint.

Two runs on vtest.avi, offscreen at 768×576:
- ``max``: source decodes as fast as it can, the tile refreshes as fast as the event loop
  allows; frames the tile never got to are dropped (by design), not queued.
- ``native``: the source plays at its own 10 fps, the grid's 30 Hz display timer; every
  frame should be shown, and we measure capture-to-paint latency.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication

from benchmarks.inputs import vtest_path
from engine.bus import EventBus
from engine.clock import REAL_CLOCK
from engine.config import CameraConfig, SourceKind
from engine.vision.source import CameraSource
from widgets.cameras.tile import CameraTile


def run(seconds: float = 6.0) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([])
    camera = CameraConfig("bench", "bench", str(vtest_path()), SourceKind.FILE, True, None, None)
    figures: dict[str, Any] = {"input": camera.url, "seconds_per_run": seconds}
    for mode, realtime, interval_ms in (("max", False, 0), ("native", True, 33)):
        tile = _CountingTile()
        tile.resize(768, 576)
        source = CameraSource(camera, EventBus(), REAL_CLOCK, realtime=realtime)
        tile.set_camera("bench", "bench", source.slot.latest)
        tile.show()
        timer = QTimer()
        timer.setInterval(interval_ms)
        timer.timeout.connect(tile.refresh)
        source.start()
        while source.slot.latest() is None:
            app.processEvents()
        timer.start()
        start = time.perf_counter()
        frames_before = source.stats().frames
        while time.perf_counter() - start < seconds:
            app.processEvents()
            if interval_ms:
                time.sleep(0.001)
        elapsed = time.perf_counter() - start
        decoded = source.stats().frames - frames_before
        timer.stop()
        source.stop()
        tile.close()
        latencies = sorted(tile.latencies_ms)
        figures[mode] = {
            "source_fps": round(decoded / elapsed, 1),
            "displayed_fps": round(tile.paints / elapsed, 1),
            "dropped_pct": round(100 * max(0, decoded - tile.paints) / max(decoded, 1), 1),
            "latency_ms_median": round(statistics.median(latencies), 2) if latencies else None,
            "latency_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2)
            if latencies
            else None,
        }
    app.processEvents()
    return figures


class _CountingTile(CameraTile):
    """Counts paints that showed a new frame and how old that frame was."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0
        self.latencies_ms: list[float] = []
        self._painted_seq = -1

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        frame = self._frame
        if frame is not None and frame.seq != self._painted_seq:
            self._painted_seq = frame.seq
            self.paints += 1
            self.latencies_ms.append((REAL_CLOCK.monotonic() - frame.captured_at) * 1000)
