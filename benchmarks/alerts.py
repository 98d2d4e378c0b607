"""The alert list at scale: 200,000 alerts of 1,000,000 sequences (a year of a 24-camera
site: about 550 alerts a day, five sequences each, confidences skewed low as a detector's
are), on SQLite and (given ``--db postgresql+psycopg://…`` or ``WATCHFLOOR_TEST_PG_URL``)
PostgreSQL. The view is a low-risk day: 8 cameras ``very_low``, 8 ``low``, 8 ``moderate`` or
higher, so the per-camera CASE hides about a third of the alerts.

Each figure is one page of 50 alerts with their passing sequences, through the same request
the console and the CLI run (:class:`engine.alerts.filtering.AlertListRequest`):

- ``keyset_page_p95_ms``: the console's scrolling list: a page after a cursor taken
  anywhere in the history (the last row of the page before). Target < 20 ms.
- ``day_page_p95_ms``: a page of one day's alerts (``alerts list --date``) at a random
  offset within that day. Target < 20 ms.
- ``offset_page_p95_ms``: the CLI's ``--offset K`` over the whole history, K anywhere
  (OFFSET skips K filtered rows, so this grows with K: reported, not a target).
- ``first_page_p95_ms``: the newest page, as the pane opens.
- ``count_ms``: shown and hidden counts over the whole history (median).
- ``exact``: keyset and offset pages hold the same rows, and the count equals the list.

``python -m benchmarks.alerts [--db URL] [--alerts N]`` or ``python -m benchmarks alerts``;
prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

from benchmarks.event_queries import _fresh_pg_database
from engine.alerts.filtering import AlertCountRequest, AlertListRequest, AlertPage, RiskGate
from engine.store.database import Store

ALERTS = 200_000
SEQUENCES_PER_ALERT = 5
CAMERAS = 24
SAMPLES = 200
PAGE = 50
SEED = 12
DAYS = 365
START = datetime(2025, 11, 23, tzinfo=UTC)
CLASSES = ["very_low"] * 8 + ["low"] * 8 + ["moderate", "high", "very_high", "extreme"] * 2


def run(db_url: str | None = None, alerts: int = ALERTS) -> dict[str, Any]:
    """Figures for SQLite, and for PostgreSQL when a server is named. Takes minutes."""
    figures: dict[str, Any] = {
        "alerts": alerts,
        "sequences": alerts * SEQUENCES_PER_ALERT,
        "samples": SAMPLES,
        "page": PAGE,
    }
    with tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp:
        figures["sqlite"] = _measure(f"sqlite:///{Path(tmp) / 'alerts.db'}", alerts)
    pg_url = db_url or os.environ.get("WATCHFLOOR_TEST_PG_URL")
    if pg_url and make_url(pg_url).get_backend_name() == "postgresql":
        with _fresh_pg_database(pg_url) as url:
            figures["postgresql"] = _measure(url, alerts)
    backends = [figures[b] for b in ("sqlite", "postgresql") if b in figures]
    figures["targets_met"] = all(
        b["keyset_page_p95_ms"] < 20.0 and b["day_page_p95_ms"] < 20.0 and b["exact"]
        for b in backends
    )
    return figures


def _p95(values: list[float]) -> float:
    return round(float(np.percentile(values, 95)), 2)


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return (time.perf_counter() - started) * 1000.0, value


def _page(store: Store, gate: RiskGate, **where: Any) -> AlertPage:
    return AlertListRequest(gate=gate, limit=PAGE, **where).run(store)


def _measure(url: str, alerts: int) -> dict[str, Any]:
    store = Store(url)
    try:
        started = time.perf_counter()
        times = _load(store, alerts)
        figures: dict[str, Any] = {"load_s": round(time.perf_counter() - started, 1)}
        gate = RiskGate({f"cam{i:02d}": CLASSES[i] for i in range(CAMERAS)}, note="bench")
        rng = np.random.default_rng(SEED + 1)
        AlertListRequest(gate=gate, limit=PAGE).run(store)  # warm the caches
        first = [_timed(lambda: AlertListRequest(gate=gate, limit=PAGE).run(store))[0]]
        first += [
            _timed(lambda: AlertListRequest(gate=gate, limit=PAGE).run(store))[0]
            for _ in range(SAMPLES // 4)
        ]
        keyset: list[float] = []
        shown_rows = 0
        for _ in range(SAMPLES):
            i = int(rng.integers(0, alerts))
            cursor = (times[i], i + 1)
            ms, page = _timed(partial(_page, store, gate, before=cursor))
            keyset.append(ms)
            shown_rows += len(page.rows)
        day: list[float] = []
        for _ in range(SAMPLES):
            d = (START + timedelta(days=int(rng.integers(0, DAYS)))).date()
            offset = int(rng.integers(0, 400))
            day.append(_timed(partial(_page, store, gate, day=d, offset=offset))[0])
        offset_ms: list[float] = []
        for _ in range(SAMPLES // 4):
            offset = int(rng.integers(0, alerts // 2))
            offset_ms.append(_timed(partial(_page, store, gate, offset=offset))[0])
        counts = [_timed(lambda: AlertCountRequest(gate=gate).run(store)) for _ in range(5)]
        shown, hidden = counts[0][1]
        figures.update(
            first_page_p95_ms=_p95(first),
            keyset_page_p95_ms=_p95(keyset),
            keyset_page_median_ms=round(statistics.median(keyset), 2),
            keyset_rows_per_page=round(shown_rows / SAMPLES, 1),
            day_page_p95_ms=_p95(day),
            offset_page_p95_ms=_p95(offset_ms),
            offset_page_max_ms=round(max(offset_ms), 1),
            count_ms=round(statistics.median(c[0] for c in counts), 1),
            shown=shown,
            hidden=hidden,
            exact=_exact(store, gate, shown),
        )
        return figures
    finally:
        store.close()


def _exact(store: Store, gate: RiskGate, shown: int) -> bool:
    """Keyset and offset pages hold the same rows; a day's count equals its list."""
    ok = True
    before = None
    for page_no in range(3):
        by_key = AlertListRequest(gate=gate, limit=PAGE, before=before).run(store).rows
        by_offset = AlertListRequest(gate=gate, limit=PAGE, offset=page_no * PAGE).run(store).rows
        ok &= [r.alert_id for r in by_key] == [r.alert_id for r in by_offset]
        before = by_key[-1].cursor
    last = AlertListRequest(gate=gate, limit=PAGE, offset=shown - 10).run(store).rows
    ok &= len(last) == 10
    d = (START + timedelta(days=100)).date()
    listed = AlertListRequest(gate=gate, limit=10_000, day=d).run(store).rows
    ok &= AlertCountRequest(gate=gate, day=d).run(store)[0] == len(listed)
    ok &= all(
        s.max_conf is None or _passes(s.max_conf, s.risk_class) for r in listed for s in r.sequences
    )
    return bool(ok)


def _passes(conf: float, risk_class: str | None) -> bool:
    return {"very_low": conf >= 0.6, "low": conf >= 0.45}.get(risk_class or "", True)


def _load(store: Store, alerts: int) -> list[datetime]:
    """Bulk-insert a site, its cameras, the alerts and their sequences (directly: a
    benchmark fixture). Returns each alert's raise time (alert id i + 1 at index i)."""
    sqlite = store.backend == "sqlite"
    rng = np.random.default_rng(SEED)
    span_s = DAYS * 86400
    offsets = np.sort(rng.integers(0, span_s, alerts))
    times = [START + timedelta(seconds=int(s)) for s in offsets.tolist()]
    n_seq = alerts * SEQUENCES_PER_ALERT
    # Every alert has one sequence, the rest fall on alerts at random (1 + Poisson(4) each);
    # most of an alert's sequences are on its "home" camera, as one person crossing a site
    # is seen mostly by one camera.
    alert_of = np.sort(np.concatenate([np.arange(alerts), rng.integers(0, alerts, n_seq - alerts)]))
    home = rng.integers(1, CAMERAS + 1, alerts)
    cameras = np.where(
        rng.random(n_seq) < 0.7, home[alert_of], rng.integers(1, CAMERAS + 1, n_seq)
    ).tolist()
    first_of = np.searchsorted(alert_of, np.arange(alerts)).tolist()
    alert_list = alert_of.tolist()
    confs = np.round(rng.beta(2.0, 2.6, n_seq), 4)
    unknown = rng.random(n_seq) < 0.01
    conf_list = [
        None if u else float(c) for c, u in zip(confs.tolist(), unknown.tolist(), strict=True)
    ]

    def ts(at: datetime) -> Any:
        return at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at

    def alert_rows() -> Iterator[tuple[Any, ...]]:
        for i, at in enumerate(times):
            yield (
                i + 1,
                ts(at),
                ts(at + timedelta(seconds=40)),
                "person",
                "camera:cam00",
                "warning",
                f"Person on camera {i % CAMERAS}",
                1,
                "{}",
            )

    def sequence_rows() -> Iterator[tuple[Any, ...]]:
        for j in range(n_seq):
            a = alert_list[j]
            at = times[a] + timedelta(seconds=8 * (j - first_of[a]))
            cam = cameras[j]
            yield (
                j + 1,
                f"b{j}",
                a + 1,
                cam,
                f"camera:cam{cam - 1:02d}",
                "person",
                j,
                ts(at),
                ts(at + timedelta(seconds=6)),
                12,
                conf_list[j],
            )

    alert_cols = "id, raised_at, last_seen_at, kind, source, severity, title, site_id, detail"
    seq_cols = (
        "id, seq_key, alert_id, camera_id, source, trigger, track_id, started_at, "
        "last_seen_at, detections, max_conf"
    )
    raw = store.engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        site = (
            "INSERT INTO sites (id, name, geo_lat, geo_lon, updated_at) VALUES "
            "(1, 'bench', 51.5, -0.12, {})"
        )
        now = ts(START)
        if sqlite:
            cursor.execute("BEGIN")
            cursor.execute(site.format("?"), (now,))
            cursor.executemany(
                "INSERT INTO cameras (id, site_id, key, name, url, source_kind, enabled) "
                "VALUES (?, 1, ?, ?, 'file:x', 'file', 1)",
                [(i + 1, f"cam{i:02d}", f"Camera {i}") for i in range(CAMERAS)],
            )
            cursor.executemany(
                f"INSERT INTO alerts ({alert_cols}) VALUES ({','.join('?' * 9)})", alert_rows()
            )
            cursor.executemany(
                f"INSERT INTO alert_sequences ({seq_cols}) VALUES ({','.join('?' * 11)})",
                sequence_rows(),
            )
            raw.commit()
            cursor.execute("ANALYZE")
            raw.commit()
        else:
            cursor.execute(site.format("%s"), (now,))
            cursor.executemany(
                "INSERT INTO cameras (id, site_id, key, name, url, source_kind, enabled) "
                "VALUES (%s, 1, %s, %s, 'file:x', 'file', true)",
                [(i + 1, f"cam{i:02d}", f"Camera {i}") for i in range(CAMERAS)],
            )
            with cursor.copy(f"COPY alerts ({alert_cols}) FROM STDIN") as copy:
                for row in alert_rows():
                    copy.write_row(row)
            with cursor.copy(f"COPY alert_sequences ({seq_cols}) FROM STDIN") as copy:
                for row in sequence_rows():
                    copy.write_row(row)
            for table in ("alerts", "alert_sequences", "cameras", "sites"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            raw.commit()
            cursor.execute("ANALYZE")
            raw.commit()
        cursor.close()
    finally:
        raw.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--db", help="a PostgreSQL server URL to measure too (in a throwaway database)"
    )
    parser.add_argument("--alerts", type=int, default=ALERTS)
    args = parser.parse_args()
    print(json.dumps({"benchmark": "alerts", **run(args.db, args.alerts)}), flush=True)


if __name__ == "__main__":
    main()
