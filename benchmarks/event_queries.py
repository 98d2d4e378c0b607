"""The event list at scale: 1,000,000 stored events (8 cameras, 2,000 persons, clips), the p95
time of the first page, a deep page (by cursor) and a person filter, on SQLite and (given
``--db postgresql+psycopg://…`` or ``WATCHFLOOR_TEST_PG_URL``) PostgreSQL; and the longest
GUI-thread stall while the Events pane (offscreen, real query client) takes a storm of 50
filter changes. Targets: p95 < 50 ms each, stall < 16 ms.

``python -m benchmarks.event_queries [--db URL] [--events N]`` or ``python -m benchmarks
event_queries``; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from engine.history.events import EventCursor, EventFilter, EventPageRequest
from engine.store.database import Store
from engine.store.models import Camera, Site
from engine.store.person_models import Person

EVENTS = 1_000_000
CAMERAS = 8
PERSONS = 2_000
SPAN = timedelta(days=30)  # the events spread over a month
CLIPS_PER_CAMERA_HOUR = 10
CLIP_S = 8.0
REPEATS = 40  # timed runs per query (p95 over these)
STORM_CHANGES = 50
STORM_SPACING_MS = 10  # an operator clicking and typing fast
TICK_MS = 1
IDLE_S = 1.0  # ticks measured with nothing to do: the machine's own noise
T0 = datetime(2026, 1, 1, tzinfo=UTC)
KINDS_WITH_PERSON = ("person.appeared", "person.left", "face.recognised")
KINDS_WITHOUT = ("camera.online", "camera.offline", "clip.finalised", "analysis.error")


def run(db_url: str | None = None, events: int = EVENTS) -> dict[str, Any]:
    """Figures for SQLite, and for PostgreSQL when a server is named. Takes minutes."""
    figures: dict[str, Any] = {"events": events}
    with tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'events.db'}"
        figures["sqlite"] = _measure(sqlite_url, events, gui=True)
    pg_url = db_url or os.environ.get("WATCHFLOOR_TEST_PG_URL")
    if pg_url and make_url(pg_url).get_backend_name() == "postgresql":
        with _fresh_pg_database(pg_url) as url:
            figures["postgresql"] = _measure(url, events, gui=False)
    checks = [
        v
        for backend in ("sqlite", "postgresql")
        if backend in figures
        for k, v in figures[backend].items()
        if k.endswith("_p95_ms")
    ]
    figures["targets_met"] = all(v < 50.0 for v in checks) and (
        figures["sqlite"]["gui_stall_max_ms"] < 16.0
    )
    return figures


def _measure(url: str, events: int, *, gui: bool) -> dict[str, Any]:
    store = Store(url)
    try:
        started = time.perf_counter()
        person_name = _generate(store, events)
        figures: dict[str, Any] = {"generate_s": round(time.perf_counter() - started, 1)}
        deep = _cursor_at(store, int(events * 0.9))
        figures["first_page_p95_ms"] = _p95(
            lambda: EventPageRequest(EventFilter(), None).run(store)
        )
        figures["deep_page_p95_ms"] = _p95(lambda: EventPageRequest(EventFilter(), deep).run(store))
        figures["person_filter_p95_ms"] = _p95(
            lambda: EventPageRequest(EventFilter(person=person_name)).run(store)
        )
        figures["camera_kind_deep_page_p95_ms"] = _p95(
            lambda: EventPageRequest(EventFilter(camera="cam3", kind="person.left"), deep).run(
                store
            )
        )
        page = EventPageRequest(EventFilter()).run(store)
        figures["first_page_rows_with_clip"] = sum(1 for row in page.rows if row.clip_path)
        if gui:
            figures.update(_gui_stall(store))
        return figures
    finally:
        store.close()


def _p95(query: Callable[[], object]) -> float:
    query()  # warm the cache and the statement compiler
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        query()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.quantiles(times, n=20)[18], 2)


def _cursor_at(store: Store, offset: int) -> EventCursor:
    with store.sessions() as session:
        row = session.execute(
            text("SELECT ts, id FROM events ORDER BY ts DESC, id DESC LIMIT 1 OFFSET :n"),
            {"n": offset},
        ).one()
    ts = row.ts if isinstance(row.ts, datetime) else datetime.fromisoformat(row.ts)
    return EventCursor(ts if ts.tzinfo else ts.replace(tzinfo=UTC), int(row.id))


def _generate(store: Store, count: int) -> str:
    """Bulk-insert the site, cameras, persons, ``count`` events and the clips; returns the
    name of a person to filter by. Writes directly (a benchmark fixture, not the engine)."""
    rng = random.Random(6)
    with store.transaction() as session:
        site_id = session.execute(
            insert(Site).returning(Site.id),
            [{"name": "Bench", "geo_lat": 0.0, "geo_lon": 0.0, "updated_at": T0}],
        ).scalar_one()
        camera_ids = [
            session.execute(
                insert(Camera).returning(Camera.id),
                [
                    {
                        "site_id": site_id,
                        "key": f"cam{i}",
                        "name": f"Camera {i}",
                        "url": f"cam{i}.mp4",
                        "source_kind": "file",
                    }
                ],
            ).scalar_one()
            for i in range(CAMERAS)
        ]
        session.execute(
            insert(Person),
            [
                {
                    "public_id": f"Person_{i:08X}",
                    "name": f"Visitor {i}" if i % 3 == 0 else None,
                    "appearances": 1,
                }
                for i in range(PERSONS)
            ],
        )
        person_ids = list(session.scalars(text("SELECT id FROM persons ORDER BY id")))
    step_s = SPAN.total_seconds() / count
    sqlite = store.backend == "sqlite"

    def when(seconds: float) -> Any:
        at = T0 + timedelta(seconds=seconds)
        return at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at

    events = []
    for i in range(count):
        camera = rng.randrange(CAMERAS)
        with_person = rng.random() < 0.6
        kind = rng.choice(KINDS_WITH_PERSON if with_person else KINDS_WITHOUT)
        ts = when((i // 3) * 3 * step_s)  # in threes sharing a timestamp, as bursts do
        events.append(
            (
                ts,
                kind,
                f"camera:cam{camera}",
                site_id,
                camera_ids[camera],
                rng.randrange(1, 50_000),
                rng.choice(person_ids) if with_person else None,
                '{"detail": "bench"}',
            )
        )
    clips = []
    clip_every_s = 3600 / CLIPS_PER_CAMERA_HOUR
    for camera in range(CAMERAS):
        start = rng.uniform(0, clip_every_s)
        while start < SPAN.total_seconds():
            clips.append(
                (
                    "clip",
                    f"clips/cam{camera}/{int(start)}.mp4",
                    "0" * 64,
                    1,
                    when(start),
                    camera_ids[camera],
                    False,
                    when(start),
                    when(start + CLIP_S),
                )
            )
            start += clip_every_s
    bulk_load(store, events, clips, analyze=True)
    return "Visitor 300"


def bulk_load(
    store: Store, events: list[tuple[Any, ...]], clips: list[tuple[Any, ...]], *, analyze: bool
) -> None:
    """Insert benchmark ``events`` rows (ts, kind, source, site_id, camera_id, track_id,
    person_id, detail) and ``clips`` media rows (kind, path, sha256, size_bytes, created_at,
    camera_id, locked, started_at, ended_at) in one transaction: ``executemany`` on SQLite,
    ``COPY`` on PostgreSQL (then ``ANALYZE`` when ``analyze``, as autovacuum would soon)."""
    columns = "ts, kind, source, site_id, camera_id, track_id, person_id, detail"
    clip_columns = (
        "kind, path, sha256, size_bytes, created_at, camera_id, locked, started_at, ended_at"
    )
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.backend == "sqlite":
            cursor.execute("BEGIN")
            cursor.executemany(f"INSERT INTO events ({columns}) VALUES (?,?,?,?,?,?,?,?)", events)
            cursor.executemany(
                f"INSERT INTO media ({clip_columns}) VALUES (?,?,?,?,?,?,?,?,?)", clips
            )
            cursor.execute("COMMIT")
        else:
            with cursor.copy(f"COPY events ({columns}) FROM STDIN") as copy:
                for event_row in events:
                    copy.write_row(event_row)
            with cursor.copy(f"COPY media ({clip_columns}) FROM STDIN") as copy:
                for clip_row in clips:
                    copy.write_row(clip_row)
            raw.commit()
            if analyze:
                cursor.execute("ANALYZE")
                raw.commit()
        cursor.close()
    finally:
        raw.close()


def _gui_stall(store: Store) -> dict[str, Any]:
    """The longest gap between 1 ms timer ticks on the GUI thread while the Events pane
    takes :data:`STORM_CHANGES` filter changes, until the last page is shown; and the same
    gap with the pane idle, for the machine's own noise. The GUI thread runs a real event
    loop (``QEventLoop.exec``), so Python runs on it only in slots, as in the console."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from console.app import prefer_gui_thread, settle_after_start
    from console.queries import QtQueryClient
    from engine.history.query_service import QueryService
    from widgets.events.view import EventHistoryPane

    prefer_gui_thread()  # as the console does
    app = QApplication.instance() or QApplication([])
    client = QtQueryClient(QueryService(store))
    pane = EventHistoryPane(client, [(f"cam{i}", f"Camera {i}") for i in range(CAMERAS)], Path())
    pane.resize(1000, 700)
    pane.show()
    clock = QElapsedTimer()
    clock.start()
    gaps: list[float] = []
    last = [clock.nsecsElapsed()]

    def on_tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(on_tick)
    loop = QEventLoop()

    def run_loop(seconds: float) -> None:
        guard = QTimer()
        guard.setSingleShot(True)
        guard.timeout.connect(loop.quit)
        guard.start(int(seconds * 1000))
        loop.exec()
        guard.stop()

    pane.sig_page_loaded.connect(lambda _rows: loop.quit() if not pane.is_loading() else None)
    run_loop(30)  # the first page
    settle_after_start()  # as the console does once its window is up
    last[0] = clock.nsecsElapsed()
    ticker.start()
    run_loop(IDLE_S)
    idle = list(gaps)
    gaps.clear()

    filters = [
        {"camera": f"cam{i % CAMERAS}"}
        if i % 3 == 0
        else {"kind": KINDS_WITH_PERSON[i % 3]}
        if i % 3 == 1
        else {"person": f"Visitor {3 * (i % 200)}"}
        for i in range(STORM_CHANGES)
    ]
    pages: list[int] = []
    remaining = list(reversed(filters))

    def on_page_loaded(rows: int) -> None:
        pages.append(rows)
        if not remaining and not pane.is_loading():
            loop.quit()

    def next_change() -> None:
        pane.set_filter(**remaining.pop())
        if remaining:
            QTimer.singleShot(STORM_SPACING_MS, next_change)

    pane.sig_page_loaded.disconnect()
    pane.sig_page_loaded.connect(on_page_loaded)
    started = time.perf_counter()
    last[0] = clock.nsecsElapsed()
    QTimer.singleShot(0, next_change)
    run_loop(60)
    elapsed = time.perf_counter() - started
    ticker.stop()
    if remaining or pane.is_loading():
        raise TimeoutError("the Events pane did not settle after the storm")
    client.close()
    pane.close()
    pane.deleteLater()
    app.processEvents()
    return {
        "gui_stall_max_ms": round(max(gaps), 2),
        "gui_stall_p99_ms": round(statistics.quantiles(gaps, n=100)[98], 2),
        "gui_idle_stall_max_ms": round(max(idle), 2),
        "storm_filter_changes": STORM_CHANGES,
        "storm_pages_shown": len(pages),
        "storm_s": round(elapsed, 2),
        "stale_answers_dropped": client.dropped + client.service.superseded,
    }


@contextmanager
def _fresh_pg_database(url: str) -> Iterator[str]:
    """A throwaway database on the server ``url`` names (dropped afterwards)."""
    name = f"wf_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", help="a PostgreSQL server URL to measure too (in a throwaway database)"
    )
    parser.add_argument("--events", type=int, default=EVENTS)
    args = parser.parse_args()
    print(json.dumps({"benchmark": "event_queries", **run(args.db, args.events)}), flush=True)


if __name__ == "__main__":
    main()
