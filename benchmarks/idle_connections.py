"""An idle-connection flood against a recording engine (issue 64, scenario 1).

``watchfloor engine --site <demo site> --name srv-a --clip-port P`` records the demo video
(clips, snapshots) with its simulated sensing room on a fixed node port; once it has stored
its first recording, :data:`FLOOD_PROCESSES` child processes (this module's ``flood`` mode;
the hard limit here is 20,000 descriptors per process) open :data:`FLOOD` idle TCP
connections in all, half to the recordings server and half to the node server, from many
loopback addresses, never sending a byte, and reopen each one the engine closes, for
:data:`FLOOD_S` seconds. Meanwhile a client with the media password fetches the stored
recording once a second, and the engine's open descriptors are counted from
``/proc/<pid>/fd`` four times a second.

Figures (median of :data:`RUNS` runs, and each run's): media lost (the engine report's
``media_lost_count``; target 0), the engine's peak open descriptors against its budget
(``limit``; ``reserve`` kept for recording; the listening servers' share), the password's
fetches served during the flood (target: all), connections the flood opened and had closed,
what each server refused and evicted, "Too many open files" lines and the engine log's lines
during the flood, recordings and sensing events stored during it, sensing nodes that went
offline during it (the simulated nodes' connections; target 0) and the engine's exit code.

``python -m benchmarks idle_connections``. ``WATCHFLOOR_FLOOD_CONNECTIONS``,
``WATCHFLOOR_FLOOD_S`` and ``WATCHFLOOR_FLOOD_RUNS`` change the defaults.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx2

from resources import DEMO_SITE

ROOT = Path(__file__).resolve().parents[1]
FLOOD: Final = int(os.environ.get("WATCHFLOOR_FLOOD_CONNECTIONS", "20000"))
FLOOD_S: Final = float(os.environ.get("WATCHFLOOR_FLOOD_S", "45"))
RUNS: Final = int(os.environ.get("WATCHFLOOR_FLOOD_RUNS", "3"))
FLOOD_PROCESSES: Final = 5  # 4,000 sockets each, well inside 20,000 a process
ADDRESSES_PER_PROCESS: Final = 200
PASSWORD: Final = "idle-bench-media"
ENGINE: Final = "srv-a"
FIRST_RECORDING_S: Final = 180.0  # the engine starts and stores its first recording
STOP_S: Final = 60.0


def run() -> dict[str, Any]:
    runs = [_once() for _ in range(RUNS)]
    numeric = [
        k for k, v in runs[0].items() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    median = {k: statistics.median(r[k] for r in runs) for k in numeric}
    return {
        "connections": FLOOD,
        "flood_s": FLOOD_S,
        "runs": RUNS,
        "median": median,
        "each": runs,
    }


def _free_ports(count: int) -> list[int]:
    """``count`` different ports free on every address (the recordings server listens on
    0.0.0.0, so a port a flood client of an earlier run holds on 127.0.x.y will not do);
    each probe is held until all are chosen."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("0.0.0.0", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _site(work: Path, node_port: int) -> Path:
    text = Path(DEMO_SITE).read_text(encoding="utf-8")
    assert "[sensing]\n" in text
    site = work / "site.toml"
    site.write_text(text.replace("[sensing]\n", f"[sensing]\nport = {node_port}\n", 1))
    return site


def _first_recording(database: Path, engine: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + FIRST_RECORDING_S
    while time.monotonic() < deadline and engine.poll() is None:
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
                row = db.execute(
                    "SELECT path FROM media WHERE engine = ? ORDER BY id LIMIT 1", (ENGINE,)
                ).fetchone()
        except sqlite3.Error:
            row = None
        if row is not None:
            return str(row[0])
        time.sleep(1.0)
    raise RuntimeError("the engine stored no recording in time")


def _utc() -> str:
    """Now as the store writes event times (UTC, naive, space-separated)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _stored_during(database: Path, began: str, ended: str) -> dict[str, int]:
    """What the engine stored during the flood: recordings, sensing node events (a node
    that went offline lost its connection) and sensing events at all."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:

        def count(sql: str) -> int:
            return int(db.execute(sql, (began, ended)).fetchone()[0])

        return {
            "recordings_stored_during_flood": count(
                "SELECT count(*) FROM media WHERE created_at BETWEEN ? AND ?"
            ),
            "sensing_nodes_offline_during_flood": count(
                "SELECT count(*) FROM events WHERE kind = 'sensing.node_offline' "
                "AND ts BETWEEN ? AND ?"
            ),
            "sensing_events_during_flood": count(
                "SELECT count(*) FROM events WHERE kind LIKE 'sensing.%' AND ts BETWEEN ? AND ?"
            ),
        }


def _descriptors(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def _once() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-idle-") as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        clip_port, node_port = _free_ports(2)
        database = work / "engine.db"
        report = work / "report.json"
        log = work / "engine.log"
        engine = subprocess.Popen(
            [sys.executable, "-m", "console", "--db", f"sqlite:///{database}", "engine",
             "--site", str(_site(work, node_port)), "--name", ENGINE,
             "--clip-port", str(clip_port), "--rtsp-host", "127.0.0.1",
             "--report", str(report)],
            cwd=ROOT,
            env={**os.environ, "WATCHFLOOR_DATA_DIR": str(data),
                 "WATCHFLOOR_MEDIA_PASSWORD": PASSWORD},
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )  # fmt: skip
        try:
            recording = _first_recording(database, engine)
            log_lines_before = len(log.read_bytes().splitlines())
            began = _utc()
            figures = _flood(engine.pid, clip_port, node_port, recording)
            ended = _utc()
            log_lines_during = len(log.read_bytes().splitlines()) - log_lines_before
        finally:
            engine.send_signal(signal.SIGINT)
            try:
                engine.wait(STOP_S)
            except subprocess.TimeoutExpired:
                engine.kill()
                engine.wait()
        said = json.loads(report.read_text()) if report.exists() else {}
        text = log.read_text(errors="replace")
        stored = _stored_during(database, began, ended)
    listening = said.get("listening") or {}
    budget = listening.get("descriptors") or {}
    servers = listening.get("servers") or {}
    return {
        **figures,
        "media_lost": said.get("media_lost_count"),
        "descriptor_limit": budget.get("limit"),
        "descriptors_reserved_for_recording": budget.get("reserve"),
        "descriptors_for_listening": budget.get("for_listening"),
        "descriptors_in_use_at_start": budget.get("in_use_at_start"),
        # The flood's descriptors came out of the listening servers' share, never the reserve.
        "within_budget": budget.get("for_listening") is not None
        and figures["peak_open_descriptors"] - figures["descriptors_before_flood"]
        <= budget["for_listening"],
        "recordings_server_ran": "recordings" in servers,
        "recordings_problem": next(
            (line for line in text.splitlines() if "recordings not served" in line), None
        ),
        "servers": servers,
        "too_many_open_files_lines": text.count("Too many open files"),
        "engine_log_lines_during_flood": log_lines_during,
        **stored,
        "engine_exit_code": engine.returncode,
    }


def _flood(pid: int, clip_port: int, node_port: int, recording: str) -> dict[str, Any]:
    """Flood the two ports from child processes while fetching ``recording`` once a second
    and counting the engine's descriptors; the figures of the flood."""
    before = _descriptors(pid) or 0
    peak = [before]
    stop = threading.Event()

    def count_descriptors() -> None:
        while not stop.wait(0.25):
            now = _descriptors(pid)
            if now is not None:
                peak[0] = max(peak[0], now)

    counter = threading.Thread(target=count_descriptors, daemon=True)
    counter.start()
    each = FLOOD // FLOOD_PROCESSES
    floods = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.idle_connections",
                "flood",
                str(index),
                str(clip_port),
                str(node_port),
                str(each),
                str(FLOOD_S),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(FLOOD_PROCESSES)
    ]
    url = f"http://127.0.0.1:{clip_port}/media/{recording}"
    asked = served = 0
    slowest_s = 0.0
    started = time.monotonic()
    with httpx2.Client(auth=("watchfloor", PASSWORD), timeout=10) as client:
        while any(f.poll() is None for f in floods):
            asked += 1
            began = time.monotonic()
            try:
                answer = client.get(url)
                if answer.status_code == 200 and answer.content:
                    served += 1
            except httpx2.HTTPError:
                pass
            slowest_s = max(slowest_s, time.monotonic() - began)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
    flood_s = time.monotonic() - started
    stop.set()
    counter.join()
    opened = closed = failed = 0
    for flood in floods:
        out, _ = flood.communicate()
        said = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        opened += said.get("opened", 0)
        closed += said.get("closed_by_engine", 0)
        failed += said.get("failed", 0)
    return {
        "flood_s": round(flood_s, 1),
        "flood_connections_opened": opened,
        "flood_connections_closed_by_engine": closed,
        "flood_connects_failed": failed,
        "descriptors_before_flood": before,
        "peak_open_descriptors": peak[0],
        "password_fetches": asked,
        "password_fetches_served": served,
        "password_fetch_slowest_s": round(slowest_s, 2),
    }


def flood(index: int, clip_port: int, node_port: int, count: int, seconds: float) -> None:
    """One flood process: ``count`` idle connections, alternately to the two ports, from
    127.0.<10+index>.1–200; each one the engine closes is opened again until ``seconds``
    have passed. Prints ``{"opened", "closed_by_engine", "failed"}``."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sources = [f"127.0.{10 + index}.{n}" for n in range(1, ADDRESSES_PER_PROCESS + 1)]
    selector = selectors.DefaultSelector()
    opened = closed = failed = 0
    end = time.monotonic() + seconds

    def connect(slot: int) -> None:
        nonlocal opened, failed
        port = clip_port if slot % 2 == 0 else node_port
        try:
            connection = socket.create_connection(
                ("127.0.0.1", port), 2, (sources[slot % len(sources)], 0)
            )
        except OSError:
            failed += 1
            return
        opened += 1
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ, slot)

    for slot in range(count):
        if time.monotonic() >= end:
            break
        connect(slot)
    while time.monotonic() < end:
        for key, _ in selector.select(timeout=0.5):
            connection = key.fileobj
            assert isinstance(connection, socket.socket)
            try:
                gone = connection.recv(4096) == b""
            except BlockingIOError:
                continue
            except OSError:
                gone = True
            if gone:
                closed += 1
                selector.unregister(connection)
                connection.close()
                if time.monotonic() < end:
                    connect(key.data)
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    print(json.dumps({"opened": opened, "closed_by_engine": closed, "failed": failed}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "flood":
        index, clip_port, node_port, count = (int(a) for a in sys.argv[2:6])
        flood(index, clip_port, node_port, count, float(sys.argv[6]))
    else:
        print(json.dumps({"benchmark": "idle_connections", **run()}))
