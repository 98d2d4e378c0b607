"""Child process for the idle-connection flood test (issue 64, scenario 1): an engine's
recordings server, its sensing node server and clip recording under a low open-files limit.

Run as ``python -m tests.listening_flood_helper WORK VIDEO LIMIT``. It sets both the soft
and the hard ``RLIMIT_NOFILE`` to LIMIT (so the engine cannot raise it), splits its
descriptors as the engine does at start (:func:`engine.listening.reserve_descriptors`; two
listening servers), stores one recording in WORK/data and serves it with
:class:`~engine.cluster.files.MediaFileServer` on 127.0.0.1, and listens for sensing nodes
with a :class:`~engine.sensing.nodes.server.NodeServer` that knows node :data:`NODE_MAC`'s token.
Prints, flushed, one JSON line ``{"port": …, "node_port": …, "budget": …}`` once listening.
Then it reads commands on stdin:

- ``record N``: records N event clips of VIDEO with a real :class:`ClipRecorder` (encoded,
  written to a temp name, renamed, a media row each) and prints ``{"finalised": …,
  "failed": …, "lost": …, "open_descriptors": …}``;
- ``nodes``: prints ``{"online": [MAC, …]}``, the nodes connected now;
- ``taken``: prints ``{"port": N, "node_port": M}``: how many connections each server has
  taken from its kernel queue so far (accepted or refused), for a flood that keeps within
  the queue (a SYN the kernel drops on a full queue is sent again only a second later);
- ``stop``: stops the servers and prints ``{"gate": …, "node_gate": …}`` (their figures),
  then exits.

The refusal summaries are timed by a simulated clock that never moves, so the log holds
exactly one summary during the flood and one at stop, whatever the machine's speed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import resource
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.cluster.files import FileOptions, MediaFileServer
from engine.cv import import_cv2
from engine.frames import Frame
from engine.listening import open_descriptors, reserve_descriptors
from engine.media import MediaFile
from engine.record import ClipFinalised, ClipRecorder
from engine.record.losses import MediaWriteWatch
from engine.sensing.nodes.server import FIRST_MESSAGE_S as NODE_FIRST_MESSAGE_S
from engine.sensing.nodes.server import NodeServer
from engine.sensing.nodes.tokens import NodeTokenBook
from engine.store import Store
from engine.store.commands import InsertMedia
from engine.store.writer import StoreWriter

ENGINE = "flood-engine"
PASSWORD = "flood-test-password"
RECORDING = "clips/plaza/served.bin"
NODE_MAC = "24:6F:28:A1:B2:C3"
NODE_TOKEN = "flood-test-node-token-" + "n" * 20
FPS = 10.0


def _say(figures: dict[str, object]) -> None:
    print(json.dumps(figures), flush=True)


def main(work: Path, video: Path, limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    root = work / "data"
    (root / "clips/plaza").mkdir(parents=True)
    data = bytes(range(256)) * 256
    (root / RECORDING).write_bytes(data)
    store = Store(f"sqlite:///{work / 'engine.db'}")
    writer = StoreWriter(store, engine_name=ENGINE)
    writer.start()
    writer.execute(
        InsertMedia(
            file=MediaFile("clip", RECORDING, hashlib.sha256(data).hexdigest(), len(data)),
            created_at=datetime.now(UTC),
        )
    )
    budget = reserve_descriptors()
    clock = SimulatedClock()
    server = MediaFileServer(
        store,
        FileOptions(port=0, host="127.0.0.1", bind="127.0.0.1"),
        engine=ENGINE,
        root=root,
        password=PASSWORD,
        limits=budget.limits_for(2),
        clock=clock,
    )
    server.start()
    nodes = NodeServer(
        tokens=NodeTokenBook({NODE_MAC: NODE_TOKEN}),
        clock=clock,
        on_frame=lambda _frame, _at: None,
        port=0,
        limits=budget.limits_for(2, first_message_s=NODE_FIRST_MESSAGE_S),
    )
    nodes.start()
    _say(
        {
            "port": server.port,
            "node_port": nodes.port,
            "budget": budget.as_dict(),
            "limits": server.gate.figures(),
        }
    )
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "record":
            _say(_record(writer, clock, root, video, int(argument)))
        elif command == "taken":
            _say({"port": _taken(server.gate.figures()), "node_port": _taken(nodes.gate.figures())})
        elif command == "nodes":
            _say({"online": [node.mac for node in nodes.nodes() if node.online]})
        elif command == "stop":
            server.stop()
            nodes.stop()
            writer.stop()
            _say({"gate": server.gate.figures(), "node_gate": nodes.gate.figures()})
            return


def _taken(figures: dict[str, Any]) -> int:
    """Connections a gate has taken from its listening socket's queue."""
    return int(figures["accepted"]) + int(figures["refused_total"])


def _record(
    writer: StoreWriter, clock: SimulatedClock, root: Path, video: Path, clips: int
) -> dict[str, object]:
    """Record ``clips`` event clips of ``video``, each of about one second."""
    cv2 = import_cv2()
    bus = EventBus()
    done = threading.Semaphore(0)
    bus.subscribe(ClipFinalised, lambda _event: done.release())
    watch = MediaWriteWatch(bus, clock)
    recorder = ClipRecorder(
        "plaza",
        None,
        writer,
        bus,
        clock,
        clips_dir=root / "clips",
        media_root=root,
        fps_hint=FPS,
        pre_s=0.5,
        post_s=0.5,
        max_s=60.0,
        queue_frames=1000,
        blocking=True,  # every frame encoded, as `watchfloor analyze` does
        media_watch=watch,
    )
    capture = cv2.VideoCapture(str(video), cv2.CAP_FFMPEG)
    seq = 0
    for _clip in range(clips):
        for index in range(30):  # 3 s of video: activity at 1 s, the clip ends by 2 s
            ok, image = capture.read()
            if not ok:
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, image = capture.read()
            frame = Frame(seq, image, seq / FPS, FPS)
            recorder.push(frame)
            if index == 10:
                recorder.mark_activity(frame.captured_at)
            seq += 1
    recorder.close()
    capture.release()
    stats = recorder.stats()
    return {
        "finalised": stats.clips_finalised,
        "failed": stats.clips_failed,
        "lost": watch.total_lost,
        "open_descriptors": open_descriptors(),
    }


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
