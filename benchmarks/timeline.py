"""The investigator's timeline at scale: with 1,000,000 stored events (8 cameras over 30 days, as
:mod:`benchmarks.event_queries` makes them) plus alerts, incidents and bookmarks, the p95 time
of a timeline range query for a visible window of 1 minute, 1 hour, 1 day, 1 week and 1 month
(1400 px wide, every lane; density bars of 5 minutes and wider read ``event_rollup``, the per-
source counts per 5 minutes, 30 minutes and hour that triggers keep), on SQLite and (given ``--db
postgresql+psycopg://…`` or ``WATCHFLOOR_TEST_PG_URL``) PostgreSQL; and the scrubbing redraw
rate of the real :class:`~widgets.timeline.view.TimelinePane` (offscreen, 1400 px wide, a dense
slice loaded): the cursor moved as a drag moves it and the canvas repainted, frame after frame.
Targets: p95 < 50 ms per window, scrubbing ≥ 30 fps.

Windows are placed at random over the month on every run (as panning would), so the figures
are not those of one cached page. ``python -m benchmarks.timeline [--db URL] [--events N]``
or ``python -m benchmarks timeline``; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from benchmarks.event_queries import SPAN, T0, _fresh_pg_database, _generate
from engine.history.timeline import LaneDetail, TimelineRequest, TimelineSlice
from engine.store.alert_models import Alert
from engine.store.database import Store
from engine.store.history_models import Bookmark
from engine.store.incident_models import Incident

EVENTS = 1_000_000
ALERTS = 5_000
INCIDENTS = 500
BOOKMARKS = 300
WIDTH_PX = 1400
REPEATS = 30  # timed runs per window (p95 over these), each at a random place
WINDOWS = {
    "1min": timedelta(minutes=1),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "1w": timedelta(days=7),
    "1mo": timedelta(days=30),
}
TARGET_P95_MS = 50.0
TARGET_FPS = 30.0
SCRUB_FRAMES = 240
SCRUB_RUNS = 5


def run(db_url: str | None = None, events: int = EVENTS) -> dict[str, Any]:
    """Figures for SQLite (with the scrubbing redraw), and for PostgreSQL when a server is
    named. Takes a few minutes (most of it making the million events)."""
    figures: dict[str, Any] = {
        "events": events,
        "width_px": WIDTH_PX,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine
    }
    with tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'timeline.db'}"
        figures["sqlite"] = _measure(sqlite_url, events, gui=True)
    pg_url = db_url or os.environ.get("WATCHFLOOR_TEST_PG_URL")
    if pg_url and make_url(pg_url).get_backend_name() == "postgresql":
        with _fresh_pg_database(pg_url) as url:
            figures["postgresql"] = _measure(url, events, gui=False)
    p95s = {
        f"{backend}.{name}": value
        for backend in ("sqlite", "postgresql")
        if backend in figures
        for name, value in figures[backend].items()
        if name.endswith("_p95_ms")
    }
    figures["windows_over_target"] = sorted(k for k, v in p95s.items() if v >= TARGET_P95_MS)
    figures["targets_met"] = not figures["windows_over_target"] and (
        figures["sqlite"]["scrub_fps"] >= TARGET_FPS
    )
    return figures


def _measure(url: str, events: int, *, gui: bool) -> dict[str, Any]:
    store = Store(url)
    try:
        started = time.perf_counter()
        _generate(store, events)
        _generate_history(store)
        figures: dict[str, Any] = {"generate_s": round(time.perf_counter() - started, 1)}
        # The console runs these queries in a process it has settled once its window is up
        # (what start-up allocated is frozen out of the collector's full passes); without
        # that, a full collection lands in about one request in thirty and adds 20-30 ms.
        from console.app import settle_after_start

        settle_after_start()
        rng = random.Random(11)
        for name, span in WINDOWS.items():
            times, cpu_times, detail = _time_window(store, span, rng)
            figures[f"{name}_p95_ms"] = round(statistics.quantiles(times, n=20)[18], 2)
            figures[f"{name}_median_ms"] = round(statistics.median(times), 2)
            # CPU time of this process (SQLite: the whole query; PostgreSQL: the client's
            # share): what the query costs without the machine's other load.
            figures[f"{name}_cpu_median_ms"] = round(statistics.median(cpu_times), 2)
            figures[f"{name}_lanes"] = detail
        if gui:
            figures.update(_scrub_fps(store))
        return figures
    finally:
        store.close()


def _time_window(
    store: Store, span: timedelta, rng: random.Random
) -> tuple[list[float], list[float], dict[str, int]]:
    """Run :data:`REPEATS` requests of windows ``span`` wide at random places in the month
    (after one untimed run): wall times and CPU times (ms), and how many lanes came as
    markers or bars."""
    room = max(0.0, (SPAN - span).total_seconds())

    def request() -> TimelineRequest:
        start = T0 + timedelta(seconds=rng.uniform(0, room))
        return TimelineRequest(start, start + span, WIDTH_PX)

    found = request().run(store)  # warm the statement cache and the database's pages
    times, cpu_times = [], []
    for _ in range(REPEATS):
        asked = request()
        begin, begin_cpu = time.perf_counter(), time.process_time()
        found = asked.run(store)
        times.append((time.perf_counter() - begin) * 1000)
        cpu_times.append((time.process_time() - begin_cpu) * 1000)
    return times, cpu_times, _lane_details(found)


def _lane_details(found: TimelineSlice) -> dict[str, int]:
    return {
        "markers": sum(1 for lane in found.lanes if lane.detail is LaneDetail.MARKERS),
        "density": sum(1 for lane in found.lanes if lane.detail is LaneDetail.DENSITY),
        "rows": sum(lane.total for lane in found.lanes),
    }


def _generate_history(store: Store) -> None:
    """Alerts, incidents and bookmarks spread over the month (direct inserts: a benchmark
    fixture, not the engine)."""
    rng = random.Random(7)
    span_s = SPAN.total_seconds()

    def at(seconds: float) -> Any:
        return T0 + timedelta(seconds=seconds)

    alerts = []
    for _ in range(ALERTS):
        kind = rng.choice(("person", "loitering", "fall"))
        alerts.append(
            {
                "raised_at": at(rng.uniform(0, span_s)),
                "kind": kind,
                "source": "sensing:room" if kind == "fall" else f"camera:cam{rng.randrange(8)}",
                "severity": "critical" if kind == "fall" else rng.choice(("info", "warning")),
                "title": f"{kind} alert",
                "detail": {},
            }
        )
    incidents = []
    for _ in range(INCIDENTS):
        when = at(rng.uniform(0, span_s))
        incidents.append(
            {
                "occurred_at": when,
                "last_report_at": when,
                "latitude": 51.5,
                "longitude": -0.14,
                "cell": 1,
                "category": rng.choice(("theft", "vandalism", "medical")),
                "severity": rng.randint(1, 5),
                "confidence": 0.8,
                "classifier": "keywords",
                "category_basis": "single",
                "llm_pending": False,
                "report_count": 1,
                "reporter_count": 1,
            }
        )
    bookmarks = []
    for i in range(BOOKMARKS):
        marked = at(rng.uniform(0, span_s))
        bookmarks.append(
            {
                "title": f"Bookmark {i}",
                "note": "",
                "marked_at": marked,
                "pre_s": 10.0,
                "post_s": 20.0,
                "started_at": marked - timedelta(seconds=10),
                "ended_at": marked + timedelta(seconds=20),
                "camera_id": None,
                "room": None,
                "author": "bench",
                "created_at": marked,
            }
        )
    with store.transaction() as session:
        session.execute(insert(Alert), alerts)
        session.execute(insert(Incident), incidents)
        session.execute(insert(Bookmark), bookmarks)
    if store.backend == "postgresql":
        # What autovacuum does soon after a bulk load; index-only scans need the
        # visibility map it sets.
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))


def _scrub_fps(store: Store) -> dict[str, Any]:
    """Frames per second of the real pane while the cursor is dragged along the axis over a
    dense slice (one day: every camera lane as density bars; one hour: ~1,400 markers):
    each frame moves the cursor through the pane's own scrub handling and repaints the
    canvas at once (``repaint``, not a queued ``update``). Median of :data:`SCRUB_RUNS`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from console.queries import QtQueryClient
    from engine.history.query_service import QueryService
    from widgets.timeline.view import AXIS_HEIGHT, LABEL_WIDTH, TimelinePane

    app = QApplication.instance() or QApplication([])
    client = QtQueryClient(QueryService(store))
    figures: dict[str, Any] = {}
    try:
        for name, span in (("1d", timedelta(days=1)), ("1h", timedelta(hours=1))):
            start = T0 + timedelta(days=12)
            pane = TimelinePane(client, None, initial_range=(start, start + span))
            pane.resize(WIDTH_PX, 480)
            pane.show()
            loop = QEventLoop()
            pane.sig_slice_loaded.connect(lambda _slice, loop=loop: loop.quit())
            QTimer.singleShot(30_000, loop.quit)
            loop.exec()
            loaded = pane.current_slice()
            if loaded is None:
                raise TimeoutError(f"the timeline pane did not load its {name} slice")
            canvas = pane.canvas
            canvas.repaint()  # the lanes drawn once, as on screen
            y = AXIS_HEIGHT / 2
            left, right = LABEL_WIDTH + 10, canvas.width() - 10

            def send(kind: QEvent.Type, x: float, canvas: Any = canvas, y: float = y) -> None:
                buttons = (
                    Qt.MouseButton.NoButton
                    if kind == QEvent.Type.MouseButtonRelease
                    else Qt.MouseButton.LeftButton
                )
                button = (
                    Qt.MouseButton.NoButton
                    if kind == QEvent.Type.MouseMove
                    else Qt.MouseButton.LeftButton
                )
                point = QPointF(x, y)
                event = QMouseEvent(
                    kind, point, point, button, buttons, Qt.KeyboardModifier.NoModifier
                )
                QApplication.sendEvent(canvas, event)

            rates = []
            for _ in range(SCRUB_RUNS):
                send(QEvent.Type.MouseButtonPress, left)
                begin = time.perf_counter()
                for frame in range(SCRUB_FRAMES):
                    send(QEvent.Type.MouseMove, left + (right - left) * frame / SCRUB_FRAMES)
                    canvas.repaint()
                elapsed = time.perf_counter() - begin
                send(QEvent.Type.MouseButtonRelease, right)
                app.processEvents()
                rates.append(SCRUB_FRAMES / elapsed)
            figures[f"scrub_fps_{name}"] = round(statistics.median(rates), 1)
            # Panning redraws the lanes every frame (the cached layer is invalidated).
            begin = time.perf_counter()
            for frame in range(60):
                shift = timedelta(seconds=span.total_seconds() * 0.002 * (frame + 1))
                pane.set_range(start + shift, start + span + shift)
                canvas.repaint()
            figures[f"pan_redraw_fps_{name}"] = round(60 / (time.perf_counter() - begin), 1)
            figures[f"scrub_slice_{name}"] = _lane_details(loaded)
            pane.close()
            pane.deleteLater()
            app.processEvents()
    finally:
        client.close()
    figures["scrub_fps"] = min(figures["scrub_fps_1d"], figures["scrub_fps_1h"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", help="a PostgreSQL server URL to measure too (in a throwaway database)"
    )
    parser.add_argument("--events", type=int, default=EVENTS)
    args = parser.parse_args()
    print(json.dumps({"benchmark": "timeline", **run(args.db, args.events)}), flush=True)


if __name__ == "__main__":
    main()
