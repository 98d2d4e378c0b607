"""A live engine whose clips cannot be written (a real OS error: the camera's clip folder
is taken by a file, as a mis-mounted or broken disk leaves it) stores each lost clip as a
``recording.failed`` event, raises one "Recording failing" alert, shows the recording
subsystem down, and when clips are written again says so, clears the alert and shows it
working. No media row names a file that is not there."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.alerts.records import list_alerts
from engine.alerts.service import AlertChanged, AlertRaised
from engine.config import load_site
from engine.events import HealthState, MediaWriteFailed, MediaWriteRecovered
from engine.paths import data_dir
from engine.runtime import EngineRuntime
from engine.store import Store
from engine.store.models import Event, Media
from tests.conftest import TESTDATA, cut_video, write_site

CLIP_S = 2.0  # short clips, so a working write shows within seconds


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
        f'[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "{vtest_8s}"\nloop = true\n',
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
        recorder = runtime.pipelines["gate"].recorder
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
    assert recovered.lost == len(failures) == runtime.media.total_lost
    store = Store(db_url)
    try:
        with store.sessions() as session:
            events = list(session.scalars(select(Event).where(Event.kind.like("recording.%"))))
            media = list(session.scalars(select(Media)))
        alert = next(a for a in list_alerts(store, limit=50) if a.alert_id == raised.alert_id)
    finally:
        store.close()
    stored_failures = [e for e in events if e.kind == "recording.failed"]
    assert sorted(e.detail["not_written"] for e in stored_failures) == sorted(
        f.path for f in failures
    )
    assert [e.detail["lost"] for e in events if e.kind == "recording.recovered"] == [len(failures)]
    assert alert.acknowledged_by == "engine:recording-watch"
    assert any(row.kind == "clip" for row in media)  # clips are written again
    for row in media:
        assert (data_dir() / row.path).is_file(), f"media row names missing {row.path}"
    assert not list(data_dir().rglob("*.partial"))
