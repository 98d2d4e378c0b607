"""A site bigger than one engine, on this machine: several ``watchfloor engine --name``
processes (each its own data dir) sharing one throwaway PostgreSQL server over loopback,
and :data:`CONSOLES` consoles attached to it (``watchfloor --attach``'s runtime and Qt
bridge without a window: :mod:`benchmarks.attached_console`).

The site: :data:`CAMERAS` file cameras looping the shared videos made 640×480 (vtest.avi at
its 10 fps, the Hamilton clip at 15 fps), split evenly over :data:`ENGINES` engines (no
``--capacity``: when one stops, the others share its cameras), and two simulated sensing
rooms (:data:`ROOM_IDS`, each a lease of its own, so two engines may run one each). Runs of
:data:`RUN_S` seconds:

- ``undisturbed``: the engines run.
- ``disturbed`` (and ``small_site_disturbed``, :data:`SMALL_SITE` cameras, which this
  machine's cores analyse in real time): one engine is killed with SIGKILL
  :data:`KILL_AT_S` into the run; later the PostgreSQL server is stopped for
  :data:`DB_DOWN_S` and started again.

Figures per run: per camera, frames analysed a second against the video's own rate (from the
engines' reports: real time means ≥ 90 % of it), ``person.appeared`` events per camera-minute,
events stored twice (same camera, track and kind: must be 0), and for each console the
latency from an event's time (the frame it was seen in) to its GUI thread receiving it (p50,
p95, max; events seen while the database was down are left out of these and counted as
``after_outage``, their latency being the outage's), whether it received every event stored
(``missed``), how many alerts, camera states and room pictures (each room's too) reached it,
and for the one camera it watches (RTSP from the engine running it, ``--rtsp-port``) each
frame's delay from its capture time to the console and the share of frames with the engine's
boxes. The disturbed run adds: when the killed engine's cameras were taken over (lease
acquired by another engine, seconds after the kill), lease hand-overs while the database was
down and after it came back (0: nobody lost a camera), whether every engine survived the
outage, and whether the consoles said the database was away and then received what was
stored meanwhile.

``python -m benchmarks cluster`` (needs PostgreSQL's server binaries: Debian's postgresql).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import cv2
from sqlalchemy import create_engine, func, select, text

from benchmarks.inputs import SHARED_HAMILTON, vtest_path
from benchmarks.store_outage import _postgres_bindir, _postgres_server
from engine.store.cluster_models import EngineRow, Lease
from engine.store.models import Event

ROOT = Path(__file__).resolve().parents[1]
CAMERAS: Final = 12
SMALL_SITE: Final = 3  # cameras 2 cores analyse in real time beside PostgreSQL and consoles
ENGINES: Final = 3
CONSOLES: Final = 2
RUN_S: Final = 150.0
KILL_AT_S: Final = 45.0
DB_DOWN_AT_S: Final = 95.0
DB_DOWN_S: Final = 30.0
SIZE: Final = (640, 480)
RTSP_PORT: Final = 18554  # engine i re-streams on RTSP_PORT + i
MEDIA_ENV: Final = {"WATCHFLOOR_MEDIA_PASSWORD": "cluster-bench-media"}
ROOM_IDS: Final = ("lab", "office")  # the target: two simulated rooms
ROOMS: Final = (
    "[sensing]\nsimulate = true\nwalkers = 2\nseed = 3\n"
    + "".join(
        f'[[rooms]]\nid = "{room_id}"\nname = "{room_id.title()}"\n'
        "width_m = 6.0\ndepth_m = 5.0\nheight_m = 2.5\n"
        for room_id in ROOM_IDS
    )
    + "".join(
        f'[[sensing_nodes]]\nid = "{room_id}{i}"\nname = "{room_id.title()} node {i}"\n'
        f'room = "{room_id}"\nposition = {{ x = {x}, y = {y}, z = {z} }}\n'
        for room_id in ROOM_IDS
        for i, (x, y, z) in enumerate(
            [(0.1, 0.1, 0.8), (5.9, 0.1, 1.3), (5.9, 4.9, 0.8), (0.1, 4.9, 1.3)], start=1
        )
    )
    + "\n"
)


def run(scenarios: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Every scenario, or those named (``undisturbed``, ``disturbed``,
    ``small_site_disturbed``)."""
    bindir = _postgres_bindir()
    if bindir is None:
        return {"skipped": "no PostgreSQL server binaries (install Debian's postgresql)"}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wf-cluster-") as folder:
        work = Path(folder)
        videos = _videos(work)
        figures: dict[str, Any] = {
            "cameras": CAMERAS,
            "engines": ENGINES,
            "consoles": CONSOLES,
            "cores": os.cpu_count(),
            "run_s": RUN_S,
            "videos": {str(p.name): fps for p, fps in videos},
        }
        # The site (12 cameras), undisturbed and disturbed; and a site this
        # machine's cores can analyse in real time, disturbed.
        for name, cameras, disturbed in (
            ("undisturbed", CAMERAS, False),
            ("disturbed", CAMERAS, True),
            ("small_site_disturbed", SMALL_SITE, True),
        ):
            if scenarios is not None and name not in scenarios:
                continue
            site = _site(work, videos, cameras, name)
            with _postgres_server(bindir) as (url, start_db, stop_db):
                figures[name] = {
                    "cameras": cameras,
                    **_run(work / name, url, site, start_db if disturbed else None, stop_db),
                }
    figures["seconds"] = round(time.monotonic() - started, 1)
    return figures


def _videos(work: Path) -> list[tuple[Path, float]]:
    """The shared videos at 640×480: vtest at 10 fps, the Hamilton clip at 15 fps."""
    out = []
    for source, every in ((vtest_path(), 1), (SHARED_HAMILTON, 2)):
        capture = cv2.VideoCapture(str(source))
        fps = capture.get(cv2.CAP_PROP_FPS) / every
        target = work / f"{source.stem}_640x480.avi"
        writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"MJPG"), fps, SIZE)
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                writer.write(cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA))
            index += 1
        writer.release()
        capture.release()
        out.append((target, round(fps, 2)))
    return out


def _site(work: Path, videos: list[tuple[Path, float]], count: int, name: str) -> Path:
    cameras = "".join(
        f'[[cameras]]\nid = "cam{i:02d}"\nurl = "{videos[i % len(videos)][0]}"\nloop = true\n\n'
        for i in range(count)
    )
    path = work / f"{name}.toml"
    path.write_text(
        '[site]\nname = "Cluster bench"\ngeo = { lat = 51.5, lon = -0.14 }\n\n' + ROOMS + cameras,
        encoding="utf-8",
    )
    return path


def _run(work: Path, base_url: str, site: Path, start_db: Any, stop_db: Any) -> dict[str, Any]:
    work.mkdir(parents=True)
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE wf_cluster"))
    admin.dispose()
    url = base_url.rsplit("/", 1)[0] + "/wf_cluster"
    subprocess.run([sys.executable, "-m", "console", "--db", url, "db", "upgrade"],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    engines = {
        f"server-{c}": _engine(work, url, site, f"server-{c}", RTSP_PORT + i)
        for i, c in enumerate("abc"[:ENGINES])
    }
    t0 = time.monotonic()
    db = create_engine(url, pool_pre_ping=True)
    while time.monotonic() - t0 < 60:  # a console attaches to a site an engine has run
        with db.connect() as connection:
            if connection.scalar(select(func.count()).select_from(EngineRow)):
                break
        time.sleep(0.2)
    consoles = [_console(work, url, site, i) for i in range(CONSOLES)]
    killed_at: datetime | None = None
    taken: dict[str, float] = {}
    victim = "server-a"
    held_at_kill: list[str] = []
    epochs_before_outage: dict[str, int] = {}
    outage: dict[str, Any] = {}
    try:
        if start_db is not None:
            _sleep_until(t0 + KILL_AT_S)
            with db.connect() as connection:
                held_at_kill = list(connection.scalars(
                    select(Lease.key).where(Lease.engine == victim, Lease.kind == "camera")
                ))  # fmt: skip
            engines[victim].send_signal(signal.SIGKILL)
            killed_at = datetime.now(UTC)
            taken = _watch_takeover(db, victim, held_at_kill, t0 + DB_DOWN_AT_S)
            _sleep_until(t0 + DB_DOWN_AT_S)
            epochs_before_outage = _epochs(db)
            stop_db()
            down_at, down_wall = time.monotonic(), datetime.now(UTC)
            time.sleep(DB_DOWN_S)
            start_db()
            outage["down_s"] = round(time.monotonic() - down_at, 1)
            # Events seen from the outage until the engines' journals are written back.
            outage["window"] = (down_wall, datetime.now(UTC) + timedelta(seconds=10))
            time.sleep(3 * 15.0)  # leases would have churned by now
            after = _epochs(db)
            outage["lease_handovers"] = sum(
                after.get(k, 0) != v for k, v in epochs_before_outage.items()
            )
        _sleep_until(t0 + RUN_S)
    finally:
        stopping_at = datetime.now(UTC)  # the engines are told to stop
        for proc in engines.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {name: proc.wait(180) for name, proc in engines.items()}
        time.sleep(2)  # consoles receive the last events
        for proc in consoles:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    figures: dict[str, Any] = {"exit_codes": codes}
    failed = {
        name: _tail(work / f"{name}.log") for name, code in codes.items() if code not in (0, -9)
    }
    if failed:  # why an engine stopped, in its own words
        figures["failed_engines_said"] = failed
    figures.update(_reports(work, engines))
    figures.update(_stored(db))
    figures["consoles"] = [
        _console_figures(work, i, db, outage.get("window"), stopping_at) for i in range(CONSOLES)
    ]
    outage.pop("window", None)
    if killed_at is not None:
        figures["killed"] = {"engine": victim, "cameras": held_at_kill}
        figures["takeover_s"] = {
            "taken_over": len(taken),
            "of": len(held_at_kill),
            "seconds_max": round(max(taken.values()), 1) if taken else None,
            "seconds_median": round(statistics.median(taken.values()), 1) if taken else None,
        }
        figures["outage"] = outage
        figures["engines_survived_outage"] = all(
            code == 0 for name, code in codes.items() if name != victim
        )
    db.dispose()
    return figures


def _engine(work: Path, url: str, site: Path, name: str, port: int) -> subprocess.Popen[bytes]:
    data = work / name
    data.mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "console", "--db", url, "engine", "--site", str(site),
         "--name", name, "--report", str(work / f"{name}.json"),
         "--rtsp-port", str(port), "--rtsp-host", "127.0.0.1"],
        cwd=ROOT,
        env={**os.environ, "WATCHFLOOR_DATA_DIR": str(data), **MEDIA_ENV},
        stdout=subprocess.DEVNULL,
        stderr=(work / f"{name}.log").open("wb"),
    )  # fmt: skip


def _console(work: Path, url: str, site: Path, index: int) -> subprocess.Popen[bytes]:
    out = work / f"console{index}.jsonl"
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.attached_console", url, str(site), str(out)],
        cwd=ROOT,
        env={**os.environ, "WATCHFLOOR_DATA_DIR": str(work / f"console{index}"), **MEDIA_ENV},
        stdout=subprocess.DEVNULL,
        stderr=(work / f"console{index}.log").open("wb"),
    )


def _tail(path: Path, lines: int = 12) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def _epochs(db: Any) -> dict[str, int]:
    with db.connect() as connection:
        return {
            f"{kind}:{key}": epoch
            for kind, key, epoch in connection.execute(select(Lease.kind, Lease.key, Lease.epoch))
        }


def _reports(work: Path, engines: dict[str, Any]) -> dict[str, Any]:
    """Per camera, the frames a second analysed against the video's rate, from every engine
    that ran it (a camera handed over is in two reports: weighted by time online)."""
    frames: dict[str, float] = {}
    online: dict[str, float] = {}
    native: dict[str, float] = {}
    for name in engines:
        path = work / f"{name}.json"
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        for cam, entry in report["cameras"].items():
            frames[cam] = frames.get(cam, 0.0) + entry["frames"]
            online[cam] = online.get(cam, 0.0) + entry["online_seconds"]
            native[cam] = entry["native_fps"] or 0.0
    share = {
        cam: round(frames[cam] / online[cam] / native[cam], 3)
        for cam in frames
        if online.get(cam) and native.get(cam)
    }
    return {
        "real_time_share": share,  # analysed fps / the video's fps, per camera
        "cameras_in_real_time": sum(v >= 0.9 for v in share.values()),
        "real_time_share_median": round(statistics.median(share.values()), 3) if share else None,
    }


def _stored(db: Any) -> dict[str, Any]:
    with db.connect() as connection:
        twice = connection.execute(
            select(func.count()).select_from(
                select(Event.source, Event.track_id, Event.kind)
                .where(Event.kind.in_(("person.appeared", "person.left")))
                .group_by(Event.source, Event.track_id, Event.kind)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar()
        appeared = connection.execute(
            select(Event.source, func.count(), func.min(Event.ts), func.max(Event.ts))
            .where(Event.kind == "person.appeared")
            .group_by(Event.source)
        ).all()
        by_engine = dict(
            connection.execute(select(Event.engine, func.count()).group_by(Event.engine)).all()
        )
    per_minute = {
        source: round(n / max((last - first).total_seconds() / 60.0, 1e-9), 1)
        for source, n, first, last in appeared
    }
    return {
        "stored_twice": int(twice or 0),
        "appeared_per_camera_minute_median": (
            round(statistics.median(per_minute.values()), 1) if per_minute else None
        ),
        "events_by_engine": {str(k): int(v) for k, v in by_engine.items()},
    }


def _missed(db: Any, ids: list[int], stopping_at: datetime, last_seen: int) -> list[dict[str, Any]]:
    """What a console did not receive: each event's kind, engine, its time against the
    moment the engines were told to stop (seconds, + after; an engine's backlog puts frames'
    times behind), and whether it was stored after the last event the console received."""
    if not ids:
        return []
    with db.connect() as connection:
        rows = connection.execute(
            select(Event.id, Event.kind, Event.engine, Event.ts).where(Event.id.in_(ids))
        ).all()
    return [
        {
            "id": int(row.id),
            "kind": str(row.kind),
            "engine": row.engine,
            "after_stop_s": round((row.ts - stopping_at).total_seconds(), 1),
            "after_last_received": int(row.id) > last_seen,
        }
        for row in rows
    ]


def _console_figures(
    work: Path,
    index: int,
    db: Any,
    outage: tuple[datetime, datetime] | None,
    stopping_at: datetime,
) -> dict[str, Any]:
    lines = [
        json.loads(line)
        for line in (work / f"console{index}.jsonl").read_text().splitlines()
        if line.strip()
    ]

    def in_outage(x: dict[str, Any]) -> bool:
        return outage is not None and outage[0] <= datetime.fromisoformat(x["ts"]) <= outage[1]

    appeared = [x for x in lines if x["kind"] == "person.appeared"]
    latency = sorted(
        (datetime.fromisoformat(x["received_at"]) - datetime.fromisoformat(x["ts"])).total_seconds()
        * 1000.0
        for x in appeared
        if not in_outage(x)
    )
    seen = {x["id"] for x in lines}
    first = min(seen) if seen else 0
    with db.connect() as connection:
        stored = set(connection.scalars(select(Event.id).where(Event.id >= first)))
    log = (work / f"console{index}.log").read_text()
    counts_file = work / f"console{index}.counts.json"
    counts = json.loads(counts_file.read_text()) if counts_file.exists() else {}
    return {
        **counts,
        "received": len(lines),
        "after_outage": sum(in_outage(x) for x in appeared),
        "missed": len(stored - seen),
        "missed_detail": _missed(db, sorted(stored - seen)[:10], stopping_at, max(seen, default=0)),
        "received_twice": len(lines) - len(seen),
        "latency_ms_p50": round(statistics.median(latency), 1) if latency else None,
        "latency_ms_p95": round(latency[int(0.95 * (len(latency) - 1))], 1) if latency else None,
        "latency_ms_max": round(latency[-1], 1) if latency else None,
        "said_database_away": "database away" in log,
        "reconnected": "connected again" in log,
    }


def _watch_takeover(db: Any, victim: str, cameras: list[str], until: float) -> dict[str, float]:
    """Seconds from the kill until each of the victim's cameras is held by another engine
    (polled twice a second)."""
    killed = time.monotonic()
    taken: dict[str, float] = {}
    while len(taken) < len(cameras) and time.monotonic() < until:
        with db.connect() as connection:
            rows = connection.execute(
                select(Lease.key, Lease.engine).where(
                    Lease.kind == "camera", Lease.key.in_(cameras)
                )
            ).all()
        for key, engine in rows:
            if engine not in (None, victim) and key not in taken:
                taken[key] = time.monotonic() - killed
        time.sleep(0.5)
    return taken


if __name__ == "__main__":
    print(json.dumps({"benchmark": "cluster", **run()}))
