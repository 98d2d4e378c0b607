"""The kill -9 drill of continuous recording: a recorder killed at random moments, then
the restart's sweep; what was lost and whether the index and the disk agree.

Each drill starts ``tests.segment_crash_helper`` (an H.264 camera, 2 s segments, packets
fed at 8× real time, rows through a real store writer on SQLite) in a fresh data dir,
kills it with SIGKILL after a random number of keyframes plus a random part of a second,
and runs the orphan sweep a restarting engine runs (:func:`engine.record.sweep.sweep_media`),
in a new process: ``watchfloor retention run``.
Per drill: seconds of footage lost (the newest keyframe the child had handed over, minus
the end of the footage kept; the child may have handed over up to one keyframe interval,
1 s, more), whether the unfinished segment was cut to its whole
fragments or removed, index rows naming missing files, files without rows, temp files
left. Targets (issue 66): loss at most one segment per camera, 0 rows naming missing
files, 0 unindexed files.

``python -m benchmarks recording_crash`` (20 drills; ``WATCHFLOOR_DRILLS`` to change).
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
DRILLS = int(os.environ.get("WATCHFLOOR_DRILLS", "20"))
SEGMENT_S = 2.0  # the helper's segment length
_SWEEP = ("retention", "run", "--json")


def _camera_video(folder: Path) -> Path:
    """12 s of the pedestrian sample as an H.264 camera sends it (320×240, 15 fps, a
    keyframe a second, no B-frames)."""
    import av

    from benchmarks.inputs import vtest_path
    from engine.cv import import_cv2

    cv2 = import_cv2()
    path = folder / "camera.mp4"
    capture = cv2.VideoCapture(str(vtest_path()))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.gop_size = 15
        stream.codec_context.max_b_frames = 0
        for index in range(180):
            ok, image = capture.read()
            if not ok:
                raise RuntimeError("vtest.avi is shorter than 12 s")
            frame = av.VideoFrame.from_ndarray(cv2.resize(image, (320, 240)), format="bgr24")
            frame.pts, frame.time_base = index, Fraction(1, 15)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    capture.release()
    return path


def sweep_as_restart(
    db_url: str, folder: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """The orphan sweep of an engine restarting after a crash, in a new process:
    ``watchfloor retention run`` sweeps as the engine's start does. Its site (written in
    ``folder``) keeps the drill's footage of 2026-05 by its tiers. Returns the sweep's
    report; raises RuntimeError with the command's output if it fails."""
    site = folder / "drill.toml"
    site.write_text(
        '[site]\nname = "Drill"\ngeo = { lat = 51.5, lon = -0.14 }\n'
        "[recording]\nkeep_all_days = 3650\n",
        encoding="utf-8",
    )
    ran = subprocess.run(
        [sys.executable, "-m", "console", "--db", db_url, "--site", str(site), *_SWEEP],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    if ran.returncode != 0:
        raise RuntimeError(f"the sweep failed: {ran.stdout}{ran.stderr}")
    report: dict[str, Any] = json.loads(ran.stdout)["sweep"]
    return report


def _drill(video: Path, folder: Path, keyframes: int, extra_s: float) -> dict[str, Any]:
    from engine.record.segments import RECORDINGS_DIR
    from engine.store import Store
    from engine.store.models import Media
    from tests.segment_crash_helper import T0

    data = folder / "data"
    db_url = f"sqlite:///{folder / 'drill.db'}"
    Store(db_url).close()  # migrated before the child starts
    env = {**os.environ, "WATCHFLOOR_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.segment_crash_helper", db_url, str(video)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    last_at = 0.0
    try:
        seen = 0
        for line in child.stdout:
            if line.startswith("AT "):
                last_at = float(line.split()[1])
                seen += 1
                if seen >= keyframes:
                    break
        time.sleep(extra_s)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        for line in child.stdout:  # keyframes it handed over before the kill
            if line.startswith("AT "):
                last_at = float(line.split()[1])
        child.stdout.close()
    partials_before = len(list((data / RECORDINGS_DIR).rglob("*.partial")))
    report = sweep_as_restart(db_url, folder, env)
    store = Store(db_url)
    try:
        with store.sessions() as session:
            rows = list(session.scalars(select(Media).order_by(Media.started_at)))
    finally:
        store.close()
    files = {p.relative_to(data).as_posix() for p in (data / RECORDINGS_DIR).rglob("*.mp4")}
    paths = {r.path for r in rows}
    last_end = rows[-1].ended_at if rows else None
    kept_to = (last_end - T0).total_seconds() if last_end is not None else 0.0
    return {
        "killed_at_s": round(last_at, 2),
        "kept_to_s": round(kept_to, 2),
        "lost_s": round(max(last_at - kept_to, 0.0), 2),
        "partial_at_kill": partials_before,
        "recovered": len(report["segments_recovered"]),
        "indexed": len(report["segments_indexed"]),
        "removed": len(report["partials_removed"]),
        "rows_missing_files": len(paths - files),
        "files_without_rows": len(files - paths),
        "partials_left": len(list((data / RECORDINGS_DIR).rglob("*.partial"))),
        "problems": report["problems"],
    }


def run() -> dict[str, Any]:
    rng = random.Random(66)
    drills: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="wf-crash-drill-") as tmp:
        video = _camera_video(Path(tmp))
        for index in range(DRILLS):
            folder = Path(tmp) / f"drill{index}"
            folder.mkdir()
            drills.append(_drill(video, folder, rng.randint(3, 40), rng.uniform(0.0, 0.9)))
    lost = [d["lost_s"] for d in drills]
    return {
        "benchmark": "recording_crash",
        "drills": len(drills),
        "segment_s": SEGMENT_S,
        "lost_s_median": statistics.median(lost),
        "lost_s_max": max(lost),
        "loss_within_one_segment": sum(1 for x in lost if x <= SEGMENT_S),
        "recovered": sum(d["recovered"] for d in drills),
        "indexed": sum(d["indexed"] for d in drills),
        "removed": sum(d["removed"] for d in drills),
        "rows_missing_files": sum(d["rows_missing_files"] for d in drills),
        "files_without_rows": sum(d["files_without_rows"] for d in drills),
        "partials_left": sum(d["partials_left"] for d in drills),
        "problems": [p for d in drills for p in d["problems"]],
        "per_drill": drills,
    }
