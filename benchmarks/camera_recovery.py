"""Headless engine on vtest.avi: native-rate playback, then the file is taken away and
given back. Measures fps while online, time to show offline, and time to recover."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.inputs import vtest_path
from engine.config import CameraConfig, GeoPoint, SiteConfig, SourceKind
from engine.events import CameraStatus, CameraStatusChanged
from engine.runtime import EngineRuntime
from engine.store import Store


def run(play_s: float = 10.0, away_s: float = 3.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wf-bench-") as tmp:
        video = Path(tmp) / "plaza.avi"
        shutil.copyfile(vtest_path(), video)
        camera = CameraConfig("plaza", "Plaza", str(video), SourceKind.FILE, True, None, None)
        site = SiteConfig("Bench", Path(tmp) / "site.toml", GeoPoint(0, 0), (), (camera,), ())
        store = Store(f"sqlite:///{tmp}/bench.db")
        runtime = EngineRuntime(site, store)
        changed = threading.Condition()
        seen: list[tuple[float, CameraStatus]] = []

        def on_status(event: CameraStatusChanged) -> None:
            with changed:
                seen.append((time.monotonic(), event.status))
                changed.notify_all()

        def wait_for(status: CameraStatus, after: float, timeout: float) -> float | None:
            with changed:
                changed.wait_for(lambda: any(t >= after and s is status for t, s in seen), timeout)
                hits = [t for t, s in seen if t >= after and s is status]
            return hits[0] - after if hits else None

        runtime.bus.subscribe(CameraStatusChanged, on_status)
        runtime.start()
        try:
            wait_for(CameraStatus.ONLINE, 0.0, 10)
            time.sleep(play_s)
            source = runtime.cameras.sources["plaza"]
            stats = source.stats()
            fps_online = stats.frames / stats.online_seconds
            taken = time.monotonic()
            video.rename(video.with_suffix(".away"))
            offline_after = wait_for(CameraStatus.OFFLINE, taken, 15)
            time.sleep(away_s)
            returned = time.monotonic()
            video.with_suffix(".away").rename(video)
            online_after = wait_for(CameraStatus.ONLINE, returned, 30)
        finally:
            runtime.stop()
            store.close()
        report = runtime.report()["cameras"]["plaza"]
    return {
        "input": str(vtest_path()),
        "native_fps": report["native_fps"],
        "fps_while_online": round(fps_online, 2),
        "offline_detected_after_s": round(offline_after, 2) if offline_after else None,
        "recovered_after_s": round(online_after, 2) if online_after else None,
        "offline_periods": len(report["offline_periods"]),
        "events_written": runtime.writer.health().written if runtime.writer else 0,
    }
