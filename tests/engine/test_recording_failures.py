"""A live engine whose clips cannot be written (a real OS error: the camera's clip folder
is taken by a file, as a mis-mounted or broken disk leaves it) stores each lost clip as a
``recording.failed`` event, raises one "Recording failing" alert, shows the recording
subsystem down, and when clips are written again says so, clears the alert and shows it
working. No media row names a file that is not there."""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.alerts.records import list_alerts
from engine.alerts.service import AlertChanged, AlertRaised
from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import load_site
from engine.data_dirs import data_dir
from engine.events import HealthState, MediaWriteFailed, MediaWriteRecovered
from engine.record.losses import LOSS_EVERY_S, MediaWriteWatch
from engine.runtime import EngineRuntime
from engine.store import Store
from engine.store.models import Event, Media
from tests.conftest import TESTDATA, cut_video, write_site

CLIP_S = 2.0  # short clips, so a working write shows within seconds
T0 = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
FULL = OSError(errno.ENOSPC, "No space left on device")


def _watched() -> tuple[MediaWriteWatch, list[MediaWriteFailed | MediaWriteRecovered]]:
    bus = EventBus()
    watch = MediaWriteWatch(bus, SimulatedClock(T0))
    seen: list[MediaWriteFailed | MediaWriteRecovered] = []
    bus.subscribe(MediaWriteFailed, seen.append)
    bus.subscribe(MediaWriteRecovered, seen.append)
    return watch, seen


def _lose(watch: MediaWriteWatch, first: int, count: int, every_s: float = 2.0) -> list[str]:
    """``count`` clips of plaza lost every ``every_s`` from ``first`` seconds after T0."""
    paths = []
    for n in range(first, first + count):
        path = f"clips/plaza/plaza_{n:03d}.mp4"
        watch.failed("plaza", "clip", path, FULL, at=T0 + timedelta(seconds=n * every_s))
        paths.append(path)
    return paths


def test_a_camera_losing_a_clip_every_2_s_says_so_at_once_then_once_a_minute() -> None:
    watch, seen = _watched()
    first = _lose(watch, 0, 1)
    assert [e.paths for e in seen] == [tuple(first)]  # the first loss is said at once
    assert seen[0].record().detail["not_written"] == first
    gathered = _lose(watch, 1, 29)  # up to 58 s: within the minute, nothing more is said
    assert len(seen) == 1
    due = _lose(watch, 30, 1)  # 60 s after the first: the gathered ones, with this one
    (batch,) = seen[1:]
    assert isinstance(batch, MediaWriteFailed)
    assert batch.paths == (*gathered, *due) and batch.lost == 31 and batch.since == T0
    assert batch.at == T0 + timedelta(seconds=2) and batch.media == "clip"
    assert batch.record().detail["not_written"] == [*gathered, *due]
    assert LOSS_EVERY_S == 60.0
    _lose(watch, 31, 5)
    watch.written("plaza", "snapshot")  # a kind that never failed: still failing
    assert len(seen) == 2
    watch.written("plaza", "clip")  # recovered: what was gathered first, then the recovery
    batch, recovered = seen[2:]
    assert isinstance(batch, MediaWriteFailed) and isinstance(recovered, MediaWriteRecovered)
    assert len(batch.paths) == 5 and batch.lost == 36 == recovered.lost
    lost = [p for e in seen if isinstance(e, MediaWriteFailed) for p in e.paths]
    assert sorted(lost) == sorted(f.path for f in watch.lost())  # each in exactly one event
    assert watch.total_lost == 36


def test_a_new_spell_is_said_at_once_and_a_stop_publishes_what_was_gathered() -> None:
    watch, seen = _watched()
    _lose(watch, 0, 3)
    watch.written("plaza", "clip")
    assert [type(e).__name__ for e in seen] == [
        "MediaWriteFailed",
        "MediaWriteFailed",
        "MediaWriteRecovered",
    ]
    seen.clear()
    first = _lose(watch, 10, 1)
    watch.failed("plaza", "snapshot", "snapshots/plaza/a.jpg", FULL, at=T0 + timedelta(seconds=21))
    gathered = _lose(watch, 11, 2)
    assert [e.paths for e in seen] == [tuple(first)]  # a new spell: its first loss at once
    watch.flush()  # the engine stops
    (_, batch) = seen
    assert isinstance(batch, MediaWriteFailed)
    assert batch.paths == ("snapshots/plaza/a.jpg", *gathered) and batch.media == "media"
    assert batch.lost == 4
    watch.flush()  # nothing left gathered: nothing more said
    assert len(seen) == 2
    assert all(not place.pending for place in watch.failing().values())


@pytest.fixture(scope="module")
def vtest_8s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cut_video(
        TESTDATA / "video" / "vtest.avi", tmp_path_factory.mktemp("v") / "vtest.avi", 80
    )


def _wait(what: str, done: Callable[[], bool], timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _recording_health(runtime: EngineRuntime) -> tuple[HealthState, str]:
    (report,) = [r for r in runtime.health() if r.subsystem == "recording"]
    return report.state, report.detail


@pytest.mark.slow
def test_a_live_camera_that_cannot_write_clips_raises_an_alert_until_it_can(
    db_url: str, tmp_path: Path, vtest_8s: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        # Event clips as files: a camera without continuous recording (with it, clips are
        # views onto its segments, whose losses test_segments covers).
        f'[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "{vtest_8s}"\nloop = true\n'
        "recording = { continuous = false }\n",
    )
    blocker = data_dir() / "clips" / "gate"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")  # every clip of gate fails: EEXIST
    runtime = EngineRuntime(load_site(site), Store(db_url))
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
        recorder = runtime.cameras.pipelines["gate"].recorder
        assert recorder is not None
        recorder.max_s = CLIP_S  # type: ignore[union-attr]

        _wait(
            "a recording alert", lambda: any(e.alert.kind == "recording" for e in of(AlertRaised))
        )
        failure = of(MediaWriteFailed)[0]
        assert (failure.camera, failure.media, failure.reason) == (
            "gate",
            "clip",
            "file exists",
        )
        (raised,) = [e.alert for e in of(AlertRaised) if e.alert.kind == "recording"]
        assert raised.title == "Recording failing on camera Front gate: file exists"
        state, detail = _recording_health(runtime)
        assert state is HealthState.DOWN and detail.startswith("Front gate: file exists, ")

        blocker.unlink()  # the disk is back
        _wait("the recovery", lambda: bool(of(MediaWriteRecovered)))
        _wait(
            "the alert cleared",
            lambda: any(e.alert.alert_id == raised.alert_id for e in of(AlertChanged)),
        )
        state, detail = _recording_health(runtime)
        assert state is HealthState.OK and "lost earlier" in detail
    finally:
        runtime.stop()
        assert runtime.store is not None
        runtime.store.close()

    failures = of(MediaWriteFailed)
    (recovered,) = of(MediaWriteRecovered)
    lost_paths = [path for f in failures for path in f.paths]
    assert recovered.lost == len(lost_paths) == runtime.media.total_lost
    store = Store(db_url)
    try:
        with store.sessions() as session:
            events = list(session.scalars(select(Event).where(Event.kind.like("recording.%"))))
            media = list(session.scalars(select(Media)))
        alert = next(a for a in list_alerts(store, limit=50) if a.alert_id == raised.alert_id)
    finally:
        store.close()
    stored_failures = [e for e in events if e.kind == "recording.failed"]
    assert sorted(p for e in stored_failures for p in e.detail["not_written"]) == sorted(lost_paths)
    assert [e.detail["lost"] for e in events if e.kind == "recording.recovered"] == [
        len(lost_paths)
    ]
    assert alert.acknowledged_by == "engine:recording-watch"
    assert any(row.kind == "clip" for row in media)  # clips are written again
    for row in media:
        assert (data_dir() / row.path).is_file(), f"media row names missing {row.path}"
    assert not list(data_dir().rglob("*.partial"))


def test_losses_gathered_before_a_camera_stops_losing_are_said_within_the_minute() -> None:
    """Nobody in view any more, the disk still full: no next loss comes to carry the
    gathered ones, so the live engine's watchdog publishes them once a minute is up."""
    watch, seen = _watched()
    _lose(watch, 0, 1)
    gathered = _lose(watch, 1, 4)  # to 8 s, then the camera stops losing files
    watch.flush(due_at=T0 + timedelta(seconds=59))
    assert len(seen) == 1  # within the minute of the first event: still gathered
    watch.flush(due_at=T0 + timedelta(seconds=LOSS_EVERY_S))
    (_, batch) = seen
    assert isinstance(batch, MediaWriteFailed) and batch.paths == tuple(gathered)
    watch.flush(due_at=T0 + timedelta(seconds=600))
    assert len(seen) == 2
