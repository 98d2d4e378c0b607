"""How long a command waits for the store writer: what every action a person takes and waits
for (a bookmark, an acknowledgement, a login's audit line, a CLI command) costs on top of its
own SQL.

``execute`` is one setting written and its result waited for, 200 times one after another;
``posted_burst`` is 2,000 events posted at once and then flushed (the camera's and the
sensing room's path, which the writer gathers into batches). On a fresh SQLite file in a
temporary folder; per-command figures are the median of the run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.store import Store
from engine.store.commands import InsertEvent, PutSetting
from engine.store.writer import StoreWriter

EXECUTES = 200
POSTS = 2_000


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-bench-writer-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            with StoreWriter.running(store) as writer:
                waits = []
                for n in range(EXECUTES):
                    started = time.perf_counter()
                    writer.execute(
                        PutSetting(key=f"bench.{n % 10}", value={"n": n}, at=datetime.now(UTC))
                    )
                    waits.append(time.perf_counter() - started)
                started = time.perf_counter()
                for n in range(POSTS):
                    writer.post(
                        InsertEvent(
                            ts=datetime.now(UTC),
                            kind="person.appeared",
                            source="camera:bench",
                            detail={"track_id": n},
                        )
                    )
                flushed = writer.flush(60.0)
                burst_s = time.perf_counter() - started
        finally:
            store.close()
    return {
        "store": "sqlite (a file in a temporary folder)",
        "execute": {
            "commands": EXECUTES,
            "ms_median": round(statistics.median(waits) * 1000, 2),
            "ms_p90": round(sorted(waits)[int(0.9 * len(waits))] * 1000, 2),
            "total_s": round(sum(waits), 2),
        },
        "posted_burst": {
            "events": POSTS,
            "flushed": flushed,
            "total_s": round(burst_s, 2),
            "ms_per_event": round(burst_s / POSTS * 1000, 3),
        },
    }
