"""Live latency: from a detection to its stored row in the Events pane's model.

The real engine (as the console hosts it: store, camera, detector, tracker, store writer)
plays vtest.avi in real time; the console's Qt bridge feeds an Events pane (offscreen, with
the console's query client) from the store writer's announcements, exactly as the main
window wires it. For each row the pane's model gains, on the GUI thread, the latency is the
engine clock's time then minus the event's ``at`` (the frame's capture time, read once from
the engine clock). The time each event is published on the bus and the store writer's
announcement time are recorded too, so the figure splits into "published" (capture →
detected and on the bus), "stored" (→ committed and announced) and "shown" (→ row in the
model, on the GUI thread).

Figures: p50/p95/max ms for detections (person.appeared, face.*, gesture.detected) and for
every row; target p95 < 300 ms for detections. ``--seconds`` sets the run (default 40).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.inputs import private_dirs, vtest_path

DETECTION_KINDS = frozenset(
    {"person.appeared", "face.recognised", "face.unknown", "gesture.detected"}
)
TARGET_P95_MS = 300.0


def run(seconds: float = 40.0, site: Path | None = None) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with private_dirs("wf-latency-") as tmp:
        return _run(seconds, site, tmp)


def _plaza_site(tmp: Path) -> Path:
    """One camera playing vtest.avi in real time, looping (the demo plaza without its
    simulated sensing room, so the figure is the camera path's)."""
    path = tmp / "site.toml"
    path.write_text(
        '[site]\nname = "Latency plaza"\ngeo = { lat = 51.50135, lon = -0.14189 }\n'
        f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{vtest_path()}"\nloop = true\n',
        encoding="utf-8",
    )
    return path


def _run(seconds: float, site_file: Path | None, tmp: Path) -> dict[str, Any]:
    from PySide6.QtCore import QModelIndex, QTimer
    from PySide6.QtWidgets import QApplication

    from console.host import EngineHost
    from console.queries import QtQueryClient
    from engine.events import Event
    from engine.history.query_service import QueryService
    from engine.store.event_views import EventsStored
    from widgets.events.view import EventHistoryPane

    app = QApplication.instance() or QApplication([])
    site = site_file or _plaza_site(tmp)
    host = EngineHost.open(site, f"sqlite:///{tmp / 'latency.db'}")
    clock = host.runtime.clock
    announced_at: dict[int, float] = {}  # event id -> seconds after capture, on the writer
    published_at: dict[tuple[str, datetime], float] = {}  # (source, at) -> seconds after
    lock = threading.Lock()

    def on_event(event: Event) -> None:  # the publishing (camera worker) thread
        record = event.record()
        if record is not None:
            delay = (clock.now() - event.at).total_seconds()
            with lock:
                published_at[(record.source, event.at)] = delay

    def on_events_stored(event: EventsStored) -> None:  # the store-writer thread
        now = clock.now()
        with lock:
            for view in event.views:
                announced_at[view.id] = (now - view.ts).total_seconds()

    unsubscribe = host.runtime.bus.subscribe(EventsStored, on_events_stored)
    unsubscribe_all = host.runtime.bus.subscribe(Event, on_event)
    client = QtQueryClient(QueryService(host.store, workers=2))
    cameras = [(camera.id, camera.name) for camera in host.site.cameras]
    pane = EventHistoryPane(client, cameras, tmp / "data")
    pane.set_summary(False)  # every row: each detection's own, not the activities they make
    pane.resize(900, 600)
    pane.show()
    # As the Events pane's plugin links it.
    host.bridge.on(EventsStored, lambda event: pane.on_events_stored(event.views))
    rows: list[_Row] = []

    def on_rows_inserted(_parent: QModelIndex, first: int, last: int) -> None:
        now = clock.now()  # on the GUI thread: the rows are in the model now
        for row in range(first, last + 1):
            view = pane.event_at(row)
            if view is None:
                continue
            with lock:
                stored = announced_at.get(view.id)
                published = published_at.get((view.source, view.ts))
            rows.append(
                _Row(
                    view.kind,
                    shown_ms=(now - view.ts).total_seconds() * 1000,
                    stored_ms=None if stored is None else stored * 1000,
                    published_ms=None if published is None else published * 1000,
                )
            )

    pane.model.rowsInserted.connect(on_rows_inserted)
    QTimer.singleShot(int(seconds * 1000), app.quit)
    try:
        app.exec()
    finally:
        unsubscribe()
        unsubscribe_all()
        pane.close()
        client.close()
        client.service.close()
        health = host.runtime.writer.health() if host.runtime.writer else None
        host.close()
    detections = [r for r in rows if r.kind in DETECTION_KINDS]
    figures: dict[str, Any] = {
        "input": str(site_file or vtest_path()),
        "seconds": seconds,
        "detections": _summary(detections),
        "all_rows": _summary(rows),
        "kinds": sorted({r.kind for r in rows}),
        "writer_written": health.written if health else None,
        "target_p95_ms": TARGET_P95_MS,
    }
    figures["meets_target"] = (
        figures["detections"]["count"] > 0 and figures["detections"]["p95_ms"] < TARGET_P95_MS
    )
    return figures


@dataclass(frozen=True, slots=True)
class _Row:
    """One row the pane's model gained: its kind and how long after the frame's capture it
    was on the bus, announced as stored, and in the model."""

    kind: str
    shown_ms: float
    stored_ms: float | None
    published_ms: float | None


def _summary(rows: list[_Row]) -> dict[str, Any]:
    shown = sorted(r.shown_ms for r in rows)
    stored = sorted(r.stored_ms for r in rows if r.stored_ms is not None)
    published = sorted(r.published_ms for r in rows if r.published_ms is not None)
    return {
        "count": len(shown),
        "p50_ms": _round(statistics.median(shown)) if shown else None,
        "p95_ms": _round(_percentile(shown, 0.95)) if shown else None,
        "max_ms": _round(shown[-1]) if shown else None,
        "published_p50_ms": _round(statistics.median(published)) if published else None,
        "stored_p50_ms": _round(statistics.median(stored)) if stored else None,
        "stored_p95_ms": _round(_percentile(stored, 0.95)) if stored else None,
    }


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    return values[max(0, min(len(values) - 1, round(fraction * len(values) + 0.5) - 1))]


def _round(value: float) -> float:
    return round(value, 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--site", type=Path, default=None, help="a site file (default: vtest)")
    args = parser.parse_args()
    print(json.dumps({"benchmark": "live_latency", **run(args.seconds, args.site)}), flush=True)
