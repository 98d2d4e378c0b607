"""A sensing room whose recording cannot be written is never silent. A real OS error (the
room's recording folder taken by a file, as a mis-mounted or broken disk leaves it) makes
the recorder tell the engine's media watch: a ``recording.failed`` event from the room
(``sensing:<room>``), one "Recording failing in sensing room …" alert, the status bar's
``recording`` light down; records it has to drop are counted as lost and said; and when it
writes again, ``recording.recovered``, the alert acknowledged by the engine and the light
back to normal. No mocks inside the engine: a real recorder, watch, bus, store and engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.alerts.records import list_alerts
from engine.alerts.service import AlertChanged, AlertRaised
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.data_dirs import data_dir, sensing_recording_dir
from engine.events import HealthState, MediaWriteFailed, MediaWriteRecovered
from engine.record.losses import MediaWriteWatch
from engine.runtime import EngineRuntime
from engine.sensing.recording.recorder import RecordingReader, SensingRecorder
from engine.store import Store
from engine.store.models import Event
from tests.conftest import write_site

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
FRAME = bytes(range(152))  # a CSI frame's size (24 + 2·64 bytes)
ROOM = "[room]\nwidth_m = 5.0\ndepth_m = 5.0\nheight_m = 2.5\n"
NODES = "".join(
    f'[[sensing_nodes]]\nid = "n{i}"\nname = "Node {i}"\n'
    f"position = {{ x = {x}, y = {y}, z = {z} }}\n"
    for i, (x, y, z) in enumerate(
        [(0.1, 0.1, 0.8), (4.9, 0.1, 1.3), (4.9, 4.9, 0.8), (0.1, 4.9, 1.3)], start=1
    )
)
SIMULATED_ROOM = ROOM + "[sensing]\nsimulate = true\nwalkers = 1\nseed = 2\n" + NODES


def _wait(what: str, done: Callable[[], bool], timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_recording_that_cannot_write_says_so_counts_what_it_drops_and_recovers(
    tmp_path: Path,
) -> None:
    bus = EventBus()
    watch = MediaWriteWatch(bus, SimulatedClock(T0))
    seen: list[MediaWriteFailed | MediaWriteRecovered] = []
    bus.subscribe(MediaWriteFailed, seen.append)
    bus.subscribe(MediaWriteRecovered, seen.append)
    directory = tmp_path / "sensing" / "lab"
    directory.parent.mkdir(parents=True)
    directory.write_text("not a folder")  # every write fails: EEXIST
    # Small blocks and a small pending cap, so a few hundred frames overflow it.
    recorder = SensingRecorder(
        directory,
        block_bytes=1024,
        max_pending_bytes=4096,
        watch=watch.room("lab", "sensing/lab"),
    )
    try:
        start = time.monotonic()
        for i in range(300):
            recorder.append_frame(start + i * 0.01, FRAME)
        recorder.flush()
        stats = recorder.stats()
        assert stats.dropped > 0 and stats.dropped_blocks > 0  # past the pending cap

        failures = [e for e in seen if isinstance(e, MediaWriteFailed)]
        # The spell starts with nothing lost (the data is kept to retry) ...
        first = failures[0]
        assert (first.camera, first.room, first.media, first.path) == (
            None,
            "lab",
            "csi",
            "sensing/lab",
        )
        assert (first.reason, first.lost) == ("file exists", 0)
        assert first.record().source == "sensing:lab"
        assert first.record().kind == "recording.failed"
        # ... the first records dropped are said at once, and later drops are counted
        # (said again a minute later at most: not one event per dropped block).
        assert len(failures) == 2 and 0 < failures[-1].lost <= stats.dropped
        assert watch.rooms_lost() == {"lab": (stats.dropped, stats.dropped_blocks)}
        (losses,) = watch.failing().values()
        assert (losses.reason, losses.lost, losses.unit) == ("file exists", stats.dropped, "record")
        assert "sensing:lab" in watch.failing()

        directory.unlink()  # the disk is back
        recorder.append_frame(start + 3.5, FRAME)
        recorder.flush()
        recovered = [e for e in seen if isinstance(e, MediaWriteRecovered)]
        assert [(e.room, e.camera, e.lost) for e in recovered] == [("lab", None, stats.dropped)]
        assert recovered[0].record().source == "sensing:lab"
        assert recovered[0].record().kind == "recording.recovered"
        assert watch.failing() == {}
    finally:
        recorder.close()
    final = recorder.stats()
    assert final.dropped == stats.dropped  # nothing more lost once it could write
    assert final.last_error is None
    written = sum(1 for _ in RecordingReader(directory).records())
    assert written == final.appended - final.dropped


def test_records_unwritable_at_close_are_lost_and_said(tmp_path: Path) -> None:
    bus = EventBus()
    watch = MediaWriteWatch(bus, SimulatedClock(T0))
    seen: list[MediaWriteFailed] = []
    bus.subscribe(MediaWriteFailed, seen.append)
    directory = tmp_path / "lab"
    directory.write_text("not a folder")
    recorder = SensingRecorder(directory, watch=watch.room("lab", str(directory)))
    start = time.monotonic()
    for i in range(50):
        recorder.append_frame(start + i * 0.01, FRAME)
    recorder.close()  # nothing could be written: all of it is lost
    stats = recorder.stats()
    assert stats.dropped == 50
    assert seen[-1].lost == 50 and seen[-1].room == "lab"
    assert watch.rooms_lost() == {"lab": (50, stats.dropped_blocks)}


def _recording_health(runtime: EngineRuntime) -> tuple[HealthState, str]:
    (report,) = [r for r in runtime.health() if r.subsystem == "recording"]
    return report.state, report.detail


@pytest.mark.slow
def test_a_live_sensing_room_that_cannot_record_raises_an_alert_until_it_can(
    db_url: str, tmp_path: Path
) -> None:
    site = load_site(write_site(tmp_path / "site.toml", extra=SIMULATED_ROOM))
    blocker = sensing_recording_dir(site.name, "room")
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")  # every write of the room's recording fails: EEXIST
    runtime = EngineRuntime(site, Store(db_url))
    lock = threading.Lock()
    seen: list[object] = []

    def keep(event: object) -> None:
        with lock:
            seen.append(event)

    for kind in (MediaWriteFailed, MediaWriteRecovered, AlertRaised, AlertChanged):
        runtime.bus.subscribe(kind, keep)

    def of(kind: type) -> list:  # type: ignore[type-arg]
        with lock:
            return [e for e in seen if isinstance(e, kind)]

    try:
        runtime.start()
        assert runtime.sensing.service() is not None and "room" in runtime.sensing.recorders
        _wait(
            "a recording alert", lambda: any(e.alert.kind == "recording" for e in of(AlertRaised))
        )
        failure = of(MediaWriteFailed)[0]
        assert (failure.camera, failure.room, failure.media, failure.reason, failure.lost) == (
            None,
            "room",
            "csi",
            "file exists",
            0,
        )
        (raised,) = [e.alert for e in of(AlertRaised) if e.alert.kind == "recording"]
        assert raised.title == "Recording failing in sensing room Test site sensing: file exists"
        assert raised.severity == "critical"
        state, detail = _recording_health(runtime)
        assert (state, detail) == (
            HealthState.DOWN,
            "Test site sensing: file exists, no records lost yet",
        )

        blocker.unlink()  # the disk is back
        _wait("the recovery", lambda: bool(of(MediaWriteRecovered)))
        _wait(
            "the alert cleared",
            lambda: any(e.alert.alert_id == raised.alert_id for e in of(AlertChanged)),
        )
        assert _recording_health(runtime) == (HealthState.OK, "saving")
    finally:
        runtime.stop()
        assert runtime.store is not None
        runtime.store.close()

    (recovered,) = of(MediaWriteRecovered)
    assert (recovered.room, recovered.lost) == ("room", 0)
    report = runtime.report()["sensing_recording"]
    assert report["lost_records"] == 0 and report["write_errors"] > 0
    assert report["last_error"] is None and not report["failing"]
    store = Store(db_url)
    try:
        with store.sessions() as session:
            events = list(session.scalars(select(Event).where(Event.kind.like("recording.%"))))
        alert = next(a for a in list_alerts(store, limit=50) if a.alert_id == raised.alert_id)
    finally:
        store.close()
    failed = [e for e in events if e.kind == "recording.failed"]
    assert [(e.source, e.detail["media"], e.detail["reason"]) for e in failed] == [
        ("sensing:room", "csi", "file exists")
    ]
    assert failed[0].detail["not_written"] == "sensing/Test_site/room"
    assert [(e.source, e.detail["lost"]) for e in events if e.kind == "recording.recovered"] == [
        ("sensing:room", 0)
    ]
    assert alert.source == "sensing:room" and alert.event_id in {e.id for e in failed}
    assert alert.acknowledged_by == "engine:recording-watch"
    # What was kept in memory while the folder was taken is on disk now.
    assert sum(1 for _ in RecordingReader(blocker).records()) > 0
    assert blocker.is_relative_to(data_dir())
