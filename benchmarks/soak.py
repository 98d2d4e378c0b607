"""Soak: the demo site's engine for 30 minutes (``watchfloor engine`` as a user runs it, with
store, faces, snapshots and clips), sampling the process's resident memory.

Figures: RSS at 5 minutes (after warm-up: models loaded, buffers filled) and at the end, the
growth between them in percent (target < 5 %), the peak, and samples every 30 s.
``WATCHFLOOR_SOAK_S`` shortens the run (default 1800 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from resources import DEMO_SITE

SOAK_S = float(os.environ.get("WATCHFLOOR_SOAK_S", "1800"))
WARM_UP_S = min(300.0, SOAK_S / 3)
SAMPLE_EVERY_S = 5.0


def _rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def demo_engine_command(database: Path, duration_s: float, report: Path) -> list[str]:
    """``watchfloor engine`` on the demo site as a user runs it, with a fresh SQLite store at
    ``database``, for ``duration_s`` seconds, writing its report to ``report``."""
    return [
        sys.executable,
        "-m",
        "console",
        "--db",
        f"sqlite:///{database}",
        "engine",
        "--site",
        str(DEMO_SITE),
        "--duration",
        str(duration_s),
        "--report",
        str(report),
    ]


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-soak-") as tmp:
        env = {**os.environ, "WATCHFLOOR_DATA_DIR": tmp}
        report = Path(tmp) / "report.json"
        process = subprocess.Popen(
            demo_engine_command(Path(tmp) / "soak.db", SOAK_S, report),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.monotonic()
        samples: list[tuple[float, int]] = []
        while process.poll() is None:
            rss = _rss_bytes(process.pid)
            elapsed = time.monotonic() - started
            if rss is not None and elapsed < SOAK_S:
                samples.append((elapsed, rss))
            time.sleep(SAMPLE_EVERY_S)
        engine_report = json.loads(report.read_text()) if report.exists() else {}
    warm = [rss for t, rss in samples if t >= WARM_UP_S]
    mib = 2**20
    at_warm = warm[0] if warm else None
    at_end = samples[-1][1] if samples else None
    growth = (
        round(100 * (at_end - at_warm) / at_warm, 2) if at_warm and at_end is not None else None
    )
    return {
        "duration_s": SOAK_S,
        "exit_code": process.returncode,
        "rss_mib_after_warm_up": round(at_warm / mib, 1) if at_warm else None,
        "rss_mib_at_end": round(at_end / mib, 1) if at_end else None,
        "rss_growth_after_warm_up_pct": growth,
        "rss_mib_peak": round(max(r for _t, r in samples) / mib, 1) if samples else None,
        "rss_mib_every_30s": [
            round(rss / mib, 1) for t, rss in samples if int(t) % 30 < SAMPLE_EVERY_S
        ],
        "frames": sum(c.get("frames", 0) for c in engine_report.get("cameras", {}).values()),
        "events_written": engine_report.get("events_written"),
        "store_writer": engine_report.get("store_writer"),
    }


if __name__ == "__main__":
    print(json.dumps({"benchmark": "soak", **run()}))
