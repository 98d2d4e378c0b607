"""Child process for the continuous-recording drills: records an H.264 file, looped, into
2-second segments.

Run as ``python -m tests.segment_crash_helper DB_URL VIDEO [SECONDS]``; the data dir is
``WATCHFLOOR_DATA_DIR``. Prints, flushed, ``AT <seconds>`` each time it has handed the
recorder a keyframe (the recording's time, from 0), and feeds the camera's packets
eight times faster than real time, as a camera would deliver them: until SIGKILLed, or,
given SECONDS, until that much is recorded, then closes the recorder and prints
``DONE <json>``: the recorder's figures and the losses and gaps it published. Segment rows
go through a store writer, as in the engine.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.data_dirs import data_dir
from engine.events import MediaWriteFailed, RecordingGap
from engine.record.losses import MediaWriteWatch
from engine.record.segments import RECORDINGS_DIR, SegmentRecorder
from engine.store import Store
from engine.store.writer import StoreWriter
from engine.vision.capture import open_pyav

T0 = datetime(2026, 5, 4, 3, 0, 0, tzinfo=UTC)
SEGMENT_S = 2.0
SPEED = 8.0


def main(db_url: str, video: Path, seconds: float | None = None) -> None:
    store = Store(db_url)
    writer = StoreWriter(store)
    writer.start()
    root = data_dir()
    bus = EventBus()
    clock = SimulatedClock(T0)
    published: list[object] = []
    bus.subscribe(MediaWriteFailed, published.append)
    bus.subscribe(RecordingGap, published.append)
    recorder = SegmentRecorder(
        "drillcam",
        None,
        writer,
        bus,
        clock,
        recordings_dir=root / RECORDINGS_DIR,
        media_root=root,
        segment_s=SEGMENT_S,
        media_watch=(watch := MediaWriteWatch(bus, clock)),
    )
    capture = open_pyav(str(video), live=False, shown_url=video.name)
    stream = capture.stream
    assert stream is not None
    began = time.monotonic()
    while True:
        decoded = capture.read()
        if decoded is None:
            assert capture.rewind()
            continue
        if seconds is not None and decoded.pts_s >= seconds:
            break
        for packet in decoded.packets or ():
            at = packet.pts_s
            recorder.offer(packet.stamped(stream, at, T0 + timedelta(seconds=at)))
            if packet.keyframe:
                print("AT", at, flush=True)
            delay = began + at / SPEED - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    assert recorder.close(30)
    watch.flush()  # losses gathered since the last published one
    writer.stop()
    failures = [e for e in published if isinstance(e, MediaWriteFailed)]
    gaps = [e for e in published if isinstance(e, RecordingGap)]
    summary = {
        **recorder.stats().as_dict(),
        "lost": [path for failure in failures for path in failure.paths],
        "reasons": sorted({failure.reason for failure in failures}),
        "gaps": [gap.reason for gap in gaps],
    }
    print("DONE", json.dumps(summary), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else None)
