"""Store outage drills on the user's path: ``watchfloor analyze vtest.avi`` (store, faces,
snapshots and clips on) while the database is unavailable, compared with an undisturbed run.

- ``sqlite_lock``: another process holds SQLite's write lock for 15 s mid-run.
- ``postgres_restart``: the PostgreSQL server is stopped for 30 s mid-run and started again
  (a throwaway server of the benchmark's own; skipped when no server binaries are installed).

Figures per drill: events and media rows of the disturbed run vs. the undisturbed one
(``lost`` must be 0), orphan files (media on disk without a row, leftover partial files),
analyze's exit code, its wall time, and the writer's retry/spill counters from the report.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from benchmarks.inputs import vtest_path
from engine.store.models import Event, Media

SQLITE_LOCK_S = 15.0
POSTGRES_DOWN_S = 30.0
DISTURB_AFTER_S = 3.0  # into the run: after migration, while frames are being analysed


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {"sqlite_lock": _sqlite_drill()}
    bindir = _postgres_bindir()
    figures["postgres_restart"] = _postgres_drill(bindir) if bindir else "skipped: no server"
    return figures


def _analyze(db_url: str, data: Path, during: Callable[[], None] | None) -> dict[str, Any]:
    """Run analyze as a user does, calling ``during`` on a thread meanwhile."""
    env = {**os.environ, "WATCHFLOOR_DATA_DIR": str(data)}
    report = data / "report.json"
    data.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console",
            "--db",
            db_url,
            "analyze",
            str(vtest_path()),
            "--report",
            str(report),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    disturber = threading.Thread(target=during) if during else None
    if disturber:
        disturber.start()
    _out, err = process.communicate(timeout=900)
    if disturber:
        disturber.join()
    elapsed = time.monotonic() - started
    engine = create_engine(db_url)
    with engine.connect() as connection:
        events = connection.scalar(select(func.count()).select_from(Event))
        media_paths = set(connection.scalars(select(Media.path)))
    engine.dispose()
    on_disk = {
        p.relative_to(data).as_posix()
        for folder in ("clips", "snapshots")
        for p in (data / folder).rglob("*")
        if p.is_file()
    }
    partial = sorted(p for p in on_disk if ".partial" in p)
    orphans = sorted(p for p in on_disk - media_paths if ".partial" not in p)
    writer: dict[str, Any] = {}
    if report.exists():
        writer = json.loads(report.read_text()).get("store_writer") or {}
    return {
        "exit_code": process.returncode,
        "seconds": round(elapsed, 1),
        "events": int(events or 0),
        "media": len(media_paths),
        "orphan_files": len(orphans),
        "partial_files": len(partial),
        "retried": writer.get("retried"),
        "spilled": writer.get("spilled"),
        "stderr_tail": err.strip().splitlines()[-1:] if process.returncode else [],
    }


def _compare(baseline: dict[str, Any], drill: dict[str, Any]) -> dict[str, Any]:
    return {
        "baseline": baseline,
        "drill": drill,
        "events_lost": baseline["events"] - drill["events"],
        "media_lost": baseline["media"] - drill["media"],
    }


def _sqlite_drill() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-outage-") as tmp:
        root = Path(tmp)
        baseline = _analyze(f"sqlite:///{root / 'a.db'}", root / "a", None)
        db = root / "b.db"

        def hold_lock() -> None:
            deadline = time.monotonic() + 60
            while not db.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(DISTURB_AFTER_S)
            connection = sqlite3.connect(db, timeout=60, isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            time.sleep(SQLITE_LOCK_S)
            connection.execute("COMMIT")
            connection.close()

        drill = _analyze(f"sqlite:///{db}", root / "b", hold_lock)
    return {"lock_s": SQLITE_LOCK_S, **_compare(baseline, drill)}


def _postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return candidates[-1] if candidates else None


@contextmanager
def _postgres_server(bindir: Path) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    datadir = Path(tempfile.mkdtemp(prefix="wf-outage-pg-"))
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(
        [
            *as_pg,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {datadir} -c fsync=off"

    def start() -> None:
        subprocess.run(
            [
                *as_pg,
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-l",
                str(datadir / "log"),
                "-w",
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def stop() -> None:
        subprocess.run(
            [*as_pg, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"],
            check=True,
            capture_output=True,
        )

    start()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", start, stop
    finally:
        with suppress(subprocess.CalledProcessError):
            stop()
        shutil.rmtree(datadir, ignore_errors=True)


def _postgres_drill(bindir: Path) -> dict[str, Any]:
    with _postgres_server(bindir) as (url, start, stop):
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE wf_a"))
            connection.execute(text("CREATE DATABASE wf_b"))
        admin.dispose()
        base_url = url.rsplit("/", 1)[0]
        with tempfile.TemporaryDirectory(prefix="wf-outage-") as tmp:
            root = Path(tmp)
            baseline = _analyze(f"{base_url}/wf_a", root / "a", None)

            def restart() -> None:
                time.sleep(DISTURB_AFTER_S + 2)  # connect + migrate first
                stop()
                time.sleep(POSTGRES_DOWN_S)
                start()

            drill = _analyze(f"{base_url}/wf_b", root / "b", restart)
    return {"down_s": POSTGRES_DOWN_S, **_compare(baseline, drill)}


if __name__ == "__main__":
    print(json.dumps({"benchmark": "store_outage", **run()}))
