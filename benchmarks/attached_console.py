"""A console attached to a shared site, without a window, for the cluster benchmark.

``python -m benchmarks.attached_console URL SITE_FILE OUT.jsonl`` runs what
``watchfloor --attach URL --site SITE_FILE`` runs under its window: the attached engine
runtime (:class:`engine.runtime.EngineRuntime` with ``attach=True``) and the Qt bridge that
hands its bus events to the GUI thread. Each stored event the GUI thread receives (the
moment the event list would show it) is written as a JSON line with ``received_at``; alerts
raised, camera states and room pictures are counted. Like a desk showing one camera, it
watches the first camera's video (:class:`console.remote_video.RemoteVideo`, from the RTSP
stream of whichever engine runs it) and records each frame's delay from its capture time
and whether the engine's boxes of that frame were there to draw. SIGTERM stops it. Its log
(stderr) says when the database went away and came back.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str]) -> int:
    from PySide6.QtCore import QCoreApplication

    from console.bridge import QtBridge
    from engine.config import load_site
    from engine.runtime import EngineRuntime
    from engine.store.database import Store

    url, site_file, out_path = argv
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    app = QCoreApplication([])
    runtime = EngineRuntime(load_site(Path(site_file)), Store(url), attach=True, analytics=False)
    bridge = QtBridge(runtime.bus)
    counts: dict[str, Any] = {
        "alerts_raised": 0,
        "camera_states": 0,
        "room_pictures": 0,
        "room_pictures_by_room": {},  # room id → pictures of that room
    }
    with Path(out_path).open("w", encoding="utf-8") as out:
        _run(app, runtime, bridge, counts, out)
    Path(out_path).with_suffix(".counts.json").write_text(json.dumps(counts))
    return 0


def _run(app: Any, runtime: Any, bridge: Any, counts: dict[str, Any], out: Any) -> None:
    from PySide6.QtCore import QTimer

    from console.remote_video import RemoteVideo
    from engine.alerts.service import AlertRaised
    from engine.events import CameraStatusChanged
    from engine.sensing.service import SensingUpdated
    from engine.store.event_views import EventsStored

    def stored(views: Any) -> None:
        now = datetime.now(UTC).isoformat()
        for view in views:
            line = {"id": view.id, "kind": view.kind, "ts": view.ts.isoformat()}
            out.write(json.dumps({**line, "engine": view.engine, "received_at": now}) + "\n")
        out.flush()

    def count(key: str) -> Any:
        def add(_event: Any) -> None:
            counts[key] += 1

        return add

    bridge.on(EventsStored, lambda event: stored(event.views))
    bridge.on(AlertRaised, count("alerts_raised"))
    bridge.on(CameraStatusChanged, count("camera_states"))
    bridge.on(SensingUpdated, count("room_pictures"))

    def room_picture(event: Any) -> None:
        by_room = counts["room_pictures_by_room"]
        room_id = event.snapshot.room_id
        by_room[room_id] = by_room.get(room_id, 0) + 1

    bridge.on(SensingUpdated, room_picture)
    connected = [True]

    def watch() -> None:  # what the status bar would say
        follower = runtime.shared.follower
        if follower is not None and follower.connected != connected[0]:
            connected[0] = follower.connected
            logging.info("database %s", "connected again" if connected[0] else "away")

    timer = QTimer()
    timer.timeout.connect(watch)
    timer.start(200)
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    runtime.start()
    watched = runtime.site.cameras[0].id
    video = RemoteVideo(runtime.shared.follower, [watched])
    video.start()
    lags: list[float] = []
    boxed = [0]
    last = [0]

    def sample() -> None:  # as a tile refreshes: each new frame once
        frame = video.frame_of(watched)
        if frame is None or frame.seq == last[0] or frame.wall_at is None:
            return
        last[0] = frame.seq
        lags.append((datetime.now(UTC) - frame.wall_at).total_seconds() * 1000.0)
        boxed[0] += frame.analysis is not None

    frames = QTimer()
    frames.timeout.connect(sample)
    frames.start(15)
    try:
        app.exec()
    finally:
        video.stop()
        runtime.stop()
        bridge.close()
        lags.sort()
        counts["video"] = {
            "camera": watched,
            "frames": len(lags),
            "lag_ms_p50": round(lags[len(lags) // 2], 1) if lags else None,
            "lag_ms_p95": round(lags[int(0.95 * (len(lags) - 1))], 1) if lags else None,
            "with_boxes": round(boxed[0] / len(lags), 3) if lags else None,
        }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
