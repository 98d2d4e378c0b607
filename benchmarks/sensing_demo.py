"""The demo site's sensing room as a user first meets it: ``watchfloor engine --site
resources/demo_site.toml`` (store, cameras, faces and clips on, the room simulated with its two
walkers who never fall) for ten minutes, then what its event history holds.

Figures: blob ids stored (``sensing.blob_appeared``), per walker per minute (target ≤ 1), how
the blobs ended (``sensing.blob_left`` reasons), fall alerts (``sensing.fall_detected`` rows and
alerts; target 0), falls the detector confirmed but the room's policy withheld, frames dropped
and the fusion tick. ``WATCHFLOOR_DEMO_S`` shortens the run (default 600 s).
"""

from __future__ import annotations

import collections
import json
import os
import sqlite3
import subprocess
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from benchmarks.soak import demo_engine_command
from resources import DEMO_SITE

DEMO_S = float(os.environ.get("WATCHFLOOR_DEMO_S", "600"))


def _walkers() -> int:
    site = tomllib.loads(Path(DEMO_SITE).read_text(encoding="utf-8"))
    return int(site.get("sensing", {}).get("walkers", 0))


def _history(database: Path) -> dict[str, Any]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT kind, detail FROM events WHERE kind LIKE 'sensing.%'"
        ).fetchall()
        alerts = connection.execute("SELECT count(*) FROM alerts").fetchone()[0]
    kinds = collections.Counter(kind for kind, _ in rows)
    appeared = {json.loads(d)["blob"] for k, d in rows if k == "sensing.blob_appeared"}
    ended = collections.Counter(
        str(json.loads(d).get("reason", "")).split(" blob")[0]
        for k, d in rows
        if k == "sensing.blob_left"
    )
    return {"kinds": dict(kinds), "blob_ids": len(appeared), "ended": dict(ended), "alerts": alerts}


def run() -> dict[str, Any]:
    walkers = _walkers()
    with tempfile.TemporaryDirectory(prefix="wf-demo-") as tmp:
        database = Path(tmp) / "demo.db"
        report = Path(tmp) / "report.json"
        completed = subprocess.run(
            demo_engine_command(database, DEMO_S, report),
            env={**os.environ, "WATCHFLOOR_DATA_DIR": tmp},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        history = _history(database)
        sensing = json.loads(report.read_text()).get("sensing", {}) if report.exists() else {}
    minutes = DEMO_S / 60.0
    return {
        "duration_s": DEMO_S,
        "exit_code": completed.returncode,
        "walkers": walkers,
        "blob_ids": history["blob_ids"],
        "blob_ids_per_walker_per_min": (
            round(history["blob_ids"] / walkers / minutes, 2) if walkers else None
        ),
        "blobs_ended": history["ended"],
        "fall_events": history["kinds"].get("sensing.fall_detected", 0),
        "alerts": history["alerts"],
        "sensing": {
            key: sensing.get(key)
            for key in ("falls_withheld", "frames_received", "frames_dropped", "fusion_tick_ms")
        },
    }


if __name__ == "__main__":
    print(json.dumps({"benchmark": "sensing_demo", **run()}))
