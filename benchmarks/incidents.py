"""Incidents at scale: 1,000,000 stored incidents (one report each, a year of a city's
generated history: :mod:`benchmarks.incident_generator`), on SQLite and (given ``--db
postgresql+psycopg://…`` or ``WATCHFLOOR_TEST_PG_URL``) PostgreSQL:

- ``correlate_p95_ms``: the candidate search for a new report (time window, box, exact
  distance: :func:`engine.incidents.records.find_candidates`), half of the new reports
  placed beside a stored one (they merge), half anywhere. Target < 5 ms.
- ``risk_update_p95_ms``: raising the risk grid for one new incident, in its own committed
  transaction, on a grid whose every cell already holds a level. Target < 20 ms.
- ``file_p95_ms``: filing one report end to end through the store writer
  (:class:`~engine.incidents.records.FileReports`: correlate, store, recompute the
  incident, raise the risk, audit, commit), for context.
- ``classify_keywords_p95_ms``: the local keyword classifier on the reports' texts.
- ``retrain_s``: the nightly refit on everything stored (read the history, fit, score the
  last week held out with a daily refit, save, class the cameras). Target < 60 s. With its
  held-out quality: hit rate and PAI of the top 10 % of cells, model against yesterday's
  counts.

``python -m benchmarks.incidents [--db URL] [--incidents N]`` or ``python -m benchmarks
incidents``; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import numpy as np
from sqlalchemy.engine import make_url

from benchmarks.event_queries import _fresh_pg_database
from benchmarks.incident_generator import IncidentArrays, generate_incidents, report_text
from engine.access import Actor, Role
from engine.incidents.classify import Classification
from engine.incidents.intake import IntakeSettings
from engine.incidents.nightly import retrain
from engine.incidents.records import (
    CorrelationSettings,
    FileReports,
    NewReport,
    RiskSource,
    find_candidates,
    raise_risk,
)
from engine.incidents.reports import ReportInput
from engine.incidents.risk import CATEGORIES, cells_around
from engine.store.database import Store
from engine.store.writer import StoreWriter

INCIDENTS = 1_000_000
SAMPLES = 200  # new reports timed per figure
CENTRE = (51.5072, -0.1276)
SEED = 11
OPERATOR = Actor("bench", frozenset({Role.OPERATOR}))
M_PER_DEG_LAT = 111_195.0


def run(db_url: str | None = None, incidents: int = INCIDENTS) -> dict[str, Any]:
    """Figures for SQLite, and for PostgreSQL when a server is named. Takes minutes."""
    history = generate_incidents(incidents, seed=SEED, centre_lat=CENTRE[0], centre_lon=CENTRE[1])
    figures: dict[str, Any] = {"incidents": incidents, "samples": SAMPLES}
    figures["classify_keywords_p95_ms"] = _classify_p95(history)
    with tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp:
        figures["sqlite"] = _measure(f"sqlite:///{Path(tmp) / 'incidents.db'}", history)
    pg_url = db_url or os.environ.get("WATCHFLOOR_TEST_PG_URL")
    if pg_url and make_url(pg_url).get_backend_name() == "postgresql":
        with _fresh_pg_database(pg_url) as url:
            figures["postgresql"] = _measure(url, history)
    backends = [figures[b] for b in ("sqlite", "postgresql") if b in figures]
    figures["targets_met"] = all(
        b["correlate_p95_ms"] < 5.0 and b["risk_update_p95_ms"] < 20.0 and b["retrain_s"] < 60
        for b in backends
    )
    return figures


def _measure(url: str, history: IncidentArrays) -> dict[str, Any]:
    store = Store(url)
    try:
        started = time.perf_counter()
        _load(store, history)
        figures: dict[str, Any] = {"load_s": round(time.perf_counter() - started, 1)}
        probes = _probes(history)
        settings = CorrelationSettings()
        merged = 0

        def correlate(probe: ReportInput) -> None:
            nonlocal merged
            with store.sessions() as session:
                found = find_candidates(
                    session, probe.latitude, probe.longitude, probe.at, settings
                )
            merged += bool(found)

        figures["correlate_p95_ms"], figures["correlate_median_ms"] = _timed(correlate, probes)
        figures["correlate_matched"] = f"{merged}/{len(probes)}"
        risk = IntakeSettings().risk_update()

        def update_risk(probe: ReportInput) -> None:
            with store.transaction() as session:
                raise_risk(
                    session,
                    risk,
                    [RiskSource(probe.latitude, probe.longitude, "theft", probe.at)],
                )

        figures["risk_update_p95_ms"], figures["risk_update_median_ms"] = _timed(
            update_risk, probes
        )
        with StoreWriter.running(store) as writer:

            def file(probe: ReportInput) -> None:
                verdict = Classification("theft", 2, 0.6, "keywords")
                item = NewReport(report=probe, verdict=verdict, cell=0, source="cli")
                writer.execute(
                    FileReports(reports=(item,), at=probe.at, actor=OPERATOR, risk=risk),
                    timeout_s=60,
                )

            figures["file_p95_ms"], figures["file_median_ms"] = _timed(file, probes)
            with tempfile.TemporaryDirectory(prefix="watchfloor-models-") as models:
                now = datetime.fromtimestamp(int(history.t_s[-1]) + 3600, UTC)
                started = time.perf_counter()
                report = retrain(
                    store,
                    writer,
                    now=now,
                    models_dir=Path(models),
                    settings=IntakeSettings().risk,
                )
                figures["retrain_s"] = round(time.perf_counter() - started, 2)
                figures["retrain_load_s"] = round(report.load_s, 2)
                figures["retrain_fit_s"] = round(report.fit_s, 2)
                figures["retrain_quality"] = report.quality
        return figures
    finally:
        store.close()


def _timed(action: Callable[[ReportInput], None], probes: list[ReportInput]) -> tuple[float, float]:
    action(probes[0])  # warm caches and the statement compiler
    times = []
    for probe in probes:
        start = time.perf_counter()
        action(probe)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.quantiles(times, n=20)[18], 3), round(statistics.median(times), 3)


def _probes(history: IncidentArrays) -> list[ReportInput]:
    """New reports: every other one 0–40 m and 0–4 min from a stored incident (it should
    merge), the rest at a random place and time of the history (mostly new incidents)."""
    rng = np.random.default_rng(SEED + 1)
    probes = []
    for n in range(SAMPLES):
        k = int(rng.integers(len(history)))
        lat, lon, t = float(history.lat[k]), float(history.lon[k]), int(history.t_s[k])
        if n % 2 == 0:
            lat += float(rng.uniform(-28, 28)) / M_PER_DEG_LAT
            t += int(rng.integers(-240, 240))
        else:
            j = int(rng.integers(len(history)))
            lat, lon = float(history.lat[j]), float(history.lon[j])
            t = int(history.t_s[k]) + 1800  # half an hour off a stored one: its own time
        at = datetime.fromtimestamp(t, UTC)
        probes.append(
            ReportInput(text="Bike stolen from the rack", latitude=lat, longitude=lon, at=at)
        )
    return probes


def _classify_p95(history: IncidentArrays) -> float:
    from engine.incidents.classify import KeywordClassifier

    rng = np.random.default_rng(SEED + 2)
    texts = [report_text(CATEGORIES[int(c)], rng) for c in history.category[: SAMPLES * 5]]
    classifier = KeywordClassifier()
    times = []
    for text in texts:
        start = time.perf_counter()
        classifier.classify(text)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.quantiles(times, n=20)[18], 3)


def _load(store: Store, history: IncidentArrays) -> None:
    """Bulk-insert one incident and one report per generated incident, and a risk level in
    every cell within 2 km of any of them. Writes directly (a benchmark fixture)."""
    sqlite = store.backend == "sqlite"
    n = len(history)
    cells = history.cells(9)
    names = history.category_names()
    rng = np.random.default_rng(SEED + 3)
    text_of = {c: report_text(c, rng) for c in CATEGORIES}
    t0 = datetime(1970, 1, 1, tzinfo=UTC)

    def when(seconds: int) -> Any:
        at = t0 + timedelta(seconds=int(seconds))
        return at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at

    incident_columns = (
        "id, occurred_at, last_report_at, latitude, longitude, cell, category, severity, "
        "confidence, classifier, category_basis, llm_pending, report_count, reporter_count"
    )
    report_columns = (
        "id, incident_id, at, latitude, longitude, text, source, received_at, filed_by, "
        "category, severity, confidence, classifier, llm_pending, merge"
    )
    lats, lons, times = history.lat.tolist(), history.lon.tolist(), history.t_s.tolist()
    severities = history.severity.tolist()

    def incident_rows() -> Any:
        for i in range(n):
            at = when(times[i])
            yield (
                i + 1,
                at,
                at,
                lats[i],
                lons[i],
                int(cells[i]),
                names[i],
                severities[i],
                0.6,
                "keywords",
                "single",
                False,
                1,
                1,
            )

    def report_rows() -> Any:
        for i in range(n):
            at = when(times[i])
            yield (
                i + 1,
                i + 1,
                at,
                lats[i],
                lons[i],
                text_of[names[i]],
                "import",
                at,
                "bench",
                names[i],
                severities[i],
                0.6,
                "keywords",
                False,
                "{}",
            )

    area: dict[int, float] = {}
    for cell in np.unique(cells).tolist():
        lat, lon = h3.cell_to_latlng(h3.int_to_str(cell))
        around, _ = cells_around(lat, lon, IntakeSettings().risk)
        for c in around.tolist():
            area.setdefault(int(c), float(rng.uniform(0.1, 50)))
    as_of = when(int(history.t_s[-1]))
    risk_rows = [(c, v, as_of) for c, v in area.items()]
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO incidents ({incident_columns}) VALUES ({','.join('?' * 14)})",
                incident_rows(),
            )
            cursor.executemany(
                f"INSERT INTO incident_reports ({report_columns}) VALUES ({','.join('?' * 15)})",
                report_rows(),
            )
            cursor.executemany(
                "INSERT INTO risk_cells (cell, level, as_of) VALUES (?,?,?)", risk_rows
            )
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
        else:
            with cursor.copy(f"COPY incidents ({incident_columns}) FROM STDIN") as copy:
                for row in incident_rows():
                    copy.write_row(row)
            with cursor.copy(f"COPY incident_reports ({report_columns}) FROM STDIN") as copy:
                for row in report_rows():
                    copy.write_row(row)
            with cursor.copy("COPY risk_cells (cell, level, as_of) FROM STDIN") as copy:
                for row in risk_rows:
                    copy.write_row(row)
            for table in ("incidents", "incident_reports"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
            raw.commit()
            cursor.execute("ANALYZE")
            raw.commit()
        cursor.close()
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--db", help="a PostgreSQL server URL to measure too (in a throwaway database)"
    )
    parser.add_argument("--incidents", type=int, default=INCIDENTS)
    args = parser.parse_args()
    print(json.dumps({"benchmark": "incidents", **run(args.db, args.incidents)}), flush=True)


if __name__ == "__main__":
    main()
