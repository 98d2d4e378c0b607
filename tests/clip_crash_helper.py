"""Child process for the clip crash test: records one clip to completion, then keeps a
second clip open and encoding until it is killed.

Run as ``python -m tests.clip_crash_helper DB_URL CLIPS_DIR VIDEO``. Prints, flushed:
``FIRST <relative path>`` once the first clip is finalised, then
``SECOND <partial path>`` once the second clip's temp file (named with this process's pid)
has data on disk. After that it feeds frames in (slowed) real time forever, like a
``watchfloor analyze`` beside an engine; the parent SIGKILLs it. Media rows go through a
store writer, as in the engine.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.cv import import_cv2
from engine.frames import Frame
from engine.record import PARTIAL_SUFFIX, ClipFinalised, ClipRecorder
from engine.store import Store
from engine.store.writer import StoreWriter

FPS = 10.0


def main(db_url: str, clips_dir: Path, video: Path) -> None:
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(video), cv2.CAP_FFMPEG)
    store = Store(db_url)
    writer = StoreWriter(store)
    writer.start()
    bus = EventBus()
    finalised = threading.Event()

    def on_finalised(event: ClipFinalised) -> None:
        print("FIRST", event.path, flush=True)
        finalised.set()

    bus.subscribe(ClipFinalised, on_finalised)
    recorder = ClipRecorder(
        "crashcam",
        None,
        writer,
        bus,
        SimulatedClock(),
        clips_dir=clips_dir,
        fps_hint=FPS,
        pre_s=1.0,
        post_s=0.5,
        max_s=600.0,  # the second clip must not end by itself before the kill
        queue_frames=1000,
        blocking=True,  # every frame encoded, as `watchfloor analyze` does
    )
    seq = 0
    announced_second = False
    while True:
        ok, image = capture.read()
        if not ok:  # loop the file: the second clip must still be running when killed
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        frame = Frame(seq, image, seq / FPS, FPS)
        recorder.push(frame)
        if seq == 20:
            recorder.mark_activity(frame.captured_at)  # first clip: frames 10..25
        if seq == 40:
            assert finalised.wait(30), "first clip was not finalised"
        if seq >= 60:
            recorder.mark_activity(frame.captured_at)  # second clip: never ends
            partials = list(clips_dir.rglob(f"*{PARTIAL_SUFFIX}"))
            if not announced_second and partials and partials[0].stat().st_size > 0:
                print("SECOND", partials[0], flush=True)
                announced_second = True
            time.sleep(0.02)
        seq += 1


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
