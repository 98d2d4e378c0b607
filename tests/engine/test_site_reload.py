"""Cameras added, removed, changed and disabled in the site file while a live engine runs
(engine.site_reload): each starts or stops alone, the others run on untouched; the store's
rows follow; a file that does not load, or parts that need a restart, are said in the
``site`` health line; events reach the console."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.config import load_site
from engine.events import CameraStatus, CameraStatusChanged, HealthState
from engine.runtime import EngineRuntime
from engine.site_edit import open_site_file
from engine.site_reload import SiteCamerasChanged, SiteChange, site_change
from engine.store import Store
from engine.store.models import Camera
from tests.engine.test_recording import write_video

pytestmark = pytest.mark.slow


class Online:
    """Which cameras have said they are online (event-driven waits, no sleeps)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.cameras: dict[str, int] = {}

    def heard(self, event: CameraStatusChanged) -> None:
        if event.status is CameraStatus.ONLINE:
            with self._cond:
                self.cameras[event.camera_id] = self.cameras.get(event.camera_id, 0) + 1
                self._cond.notify_all()

    def wait(self, camera: str, times: int = 1) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.cameras.get(camera, 0) >= times, 60), (
                camera,
                self.cameras,
            )


@pytest.fixture
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cameras")
    return {
        name: write_video(folder / f"{name}.mp4", "libx264", seconds=3.0, fps=10, gop=10)
        for name in ("gate", "yard", "lobby", "dock")
    }


@pytest.fixture
def running(db_url: str, tmp_path: Path, videos: dict[str, Path]) -> Iterator[EngineRuntime]:
    site_file = tmp_path / "site.toml"
    site_file.write_text(
        '[site]\nname = "Depot"\ngeo = { lat = 51.5, lon = -0.14 }\n'
        "# Three cameras to start with.\n"
        + "".join(
            f'[[cameras]]\nid = "{name}"\nurl = "{videos[name]}"\n'
            for name in ("gate", "yard", "lobby")
        ),
        encoding="utf-8",
    )
    runtime = EngineRuntime(load_site(site_file), Store(db_url), analytics=False)
    yield runtime
    runtime.stop()
    assert runtime.store is not None
    runtime.store.close()


def test_cameras_changed_in_the_file_start_and_stop_alone(
    running: EngineRuntime, videos: dict[str, Path]
) -> None:
    rt = running
    online = Online()
    rt.bus.subscribe(CameraStatusChanged, online.heard)
    told: list[SiteCamerasChanged] = []
    rt.bus.subscribe(SiteCamerasChanged, told.append)
    rt.start()
    for camera in ("gate", "yard", "lobby"):
        online.wait(camera)
    gate = rt.cameras.sources["gate"]
    lobby = rt.cameras.sources["lobby"]
    # Nothing changed yet: nothing happens.
    assert rt.reload_site_file() is None

    edit = open_site_file(rt.site.file)
    edit.add_camera({"id": "dock", "name": "Loading dock", "url": str(videos["dock"])})
    edit.remove_camera("yard")
    edit.edit_camera("lobby", {"name": "Front lobby"})
    edit.save()
    change = rt.reload_site_file()

    assert change == SiteChange(added=("dock",), removed=("yard",), renamed=("lobby",))
    online.wait("dock")
    assert rt.cameras.sources["gate"] is gate and gate.running  # untouched
    # A new name costs no video: the lobby runs on, under its new name.
    assert rt.cameras.sources["lobby"] is lobby and lobby.running
    assert lobby.camera.name == "Front lobby" and online.cameras["lobby"] == 1
    assert "yard" not in rt.cameras.sources
    assert [c.id for c in rt.site.cameras] == ["gate", "lobby", "dock"]
    assert told and told[-1].added == ("dock",) and told[-1].removed == ("yard",)
    assert rt.store is not None
    with rt.store.sessions() as session:
        rows = {c.key: c.enabled for c in session.scalars(select(Camera))}
        names = {c.key: c.name for c in session.scalars(select(Camera))}
    assert rows == {"gate": True, "yard": False, "lobby": True, "dock": True}
    assert names["lobby"] == "Front lobby" and names["dock"] == "Loading dock"
    assert rt.site_ids is not None and "dock" in rt.site_ids.cameras
    site_line = next(r for r in rt.health() if r.subsystem == "site")
    assert site_line.state is HealthState.OK
    assert "added dock; removed yard; renamed lobby" in site_line.detail
    assert told[-1].renamed == ("lobby",) and told[-1].changed == ()

    # A file that does not load: said, and the cameras run on as they were.
    text = Path(rt.site.file).read_text(encoding="utf-8")
    Path(rt.site.file).write_text(text.replace('id = "dock"', 'id = "dock"\nfps = 5'))
    assert rt.reload_site_file() is None
    site_line = next(r for r in rt.health() if r.subsystem == "site")
    assert site_line.state is HealthState.DEGRADED
    assert "does not load" in site_line.detail and "fps" in site_line.detail
    assert set(rt.cameras.sources) == {"gate", "lobby", "dock"}

    # Fixed, with the dock switched off and alerting changed (taken at the next start).
    Path(rt.site.file).write_text(
        text.replace('id = "dock"', 'id = "dock"\nenabled = false')
        + "[alerts]\nescalate_after_s = 300\n",
        encoding="utf-8",
    )
    change = rt.reload_site_file()
    assert change is not None and change.removed == ("dock",)
    assert change.restart_needed == ("alerting",)
    assert set(rt.cameras.sources) == {"gate", "lobby"}
    assert [c.id for c in rt.site.disabled_cameras] == ["dock"]
    site_line = next(r for r in rt.health() if r.subsystem == "site")
    assert site_line.state is HealthState.DEGRADED and "alerting" in site_line.detail
    assert rt.site.alerts.escalate_after_s == 120  # as at the start, until a restart


def test_a_password_source_change_restarts_the_camera(tmp_path: Path) -> None:
    base = '[site]\nname = "S"\ngeo = { lat = 1, lon = 1 }\n[[cameras]]\nid = "gate"\n'
    url = 'url = "rtsp://admin@192.0.2.5/main"\n'
    first = tmp_path / "a.toml"
    first.write_text(base + url + 'password_env = "GATE_A"\n')
    second = tmp_path / "b.toml"
    second.write_text(base + url + 'password_env = "GATE_B"\n')
    assert site_change(load_site(first), load_site(second)).changed == ("gate",)
    assert not site_change(load_site(first), load_site(first)).cameras
