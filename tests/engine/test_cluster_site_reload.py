"""A shared site's engines follow their site file while they run (engine.site_reload with
the leases of engine.cluster): an added camera is taken by exactly one engine, the one with
room; a renamed one runs on where it runs; a changed one is restarted by its holder; a
removed or switched-off one is stopped by the engine running it and its lease deleted, so
that no engine takes it again. Real SQLite and PostgreSQL; members in one process with
their rounds by hand, then an engine process beside an engine runtime on one database."""

from __future__ import annotations

import json
import re
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.cluster.leases import LeaseBook, Resource, resources_of
from engine.cluster.member import CHANGED_WHY, REMOVED_WHY, ClusterMember
from engine.cluster.status import EngineLine, engines_status
from engine.config import load_site
from engine.events import CameraStatus, CameraStatusChanged
from engine.runtime import EngineRuntime
from engine.site_edit import open_site_file
from engine.site_reload import SiteCamerasChanged
from engine.store.cluster_models import Lease
from engine.store.database import Store
from engine.store.models import Camera, Site
from tests.engine.test_cluster_engines import LEASE_S, Engines, _holders, _wait
from tests.engine.test_recording import write_video
from tests.waiting import wait_for

pytestmark = pytest.mark.sql


# -- members in one process, rounds by hand ----------------------------------------------


def _site_row(store: Store) -> int:
    with store.transaction() as session:
        row = Site(name="Shared site", geo_lat=0.0, geo_lon=0.0, updated_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return row.id


class Runs:
    """What each member runs and why each stopped (its on_acquire/on_release); a resource
    never runs on two members at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by: dict[str, set[Resource]] = {}
        self.stops: list[tuple[str, Resource, str]] = []
        self.starts: list[tuple[str, Resource]] = []

    def member(
        self, store: Store, site_id: int, who: str, wanted: dict[Resource, str | None], cap: int
    ) -> ClusterMember:
        self.by[who] = set()

        def acquire(resource: Resource) -> None:
            with self.lock:
                for other, held in self.by.items():
                    assert resource not in held, f"{resource} already runs on {other}"
                self.by[who].add(resource)
                self.starts.append((who, resource))

        def release(resource: Resource, why: str) -> None:
            with self.lock:
                self.by[who].discard(resource)
                self.stops.append((who, resource, why))

        book = LeaseBook(store, site_id, who)
        book.pid = hash(who) & 0xFFFF  # several "processes" in one test
        member = ClusterMember(book, wanted, capacity=cap, on_acquire=acquire, on_release=release)
        book.join(cap, datetime.now(UTC))
        book.offer(wanted)
        member._worker.start()  # starts and stops; the rounds are by hand
        return member


def _round(*members: ClusterMember) -> None:
    for m in members:
        m.tick()
        assert m.settle(30)


def _lease_row(store: Store, key: str) -> tuple[str | None, int] | None:
    with store.transaction() as session:
        row = session.execute(
            select(Lease.engine, Lease.epoch).where(Lease.kind == "camera", Lease.key == key)
        ).first()
    return (row.engine, row.epoch) if row is not None else None


def test_members_follow_cameras_added_changed_and_removed(store: Store) -> None:
    site = _site_row(store)
    cams = lambda *keys: resources_of([(k, None) for k in keys], [], services=False)  # noqa: E731
    runs = Runs()
    a = runs.member(store, site, "a", cams("cam1", "cam2"), cap=1)  # room for one camera
    b = runs.member(store, site, "b", cams("cam1", "cam2"), cap=8)
    try:
        _round(a, b)
        assert runs.by == {"a": {("camera", "cam1")}, "b": {("camera", "cam2")}}

        # Added: each engine sees the file change in its own time; only b has room.
        a.change_wanted(cams("cam1", "cam2", "cam3"))
        _round(a)
        assert ("camera", "cam3") not in runs.by["a"]
        assert _lease_row(store, "cam3") == (None, 0)  # offered by the first to see it
        b.change_wanted(cams("cam1", "cam2", "cam3"))
        _round(a, b, a, b)
        assert runs.by == {"a": {("camera", "cam1")}, "b": {("camera", "cam2"), ("camera", "cam3")}}
        held = _lease_row(store, "cam3")
        assert held is not None and held[0] == "b"

        # Changed: restarted by its holder alone, its lease kept.
        a.change_wanted(cams("cam1", "cam2", "cam3"), restart=[("camera", "cam3")])
        b.change_wanted(cams("cam1", "cam2", "cam3"), restart=[("camera", "cam3")])
        _round(a, b)
        assert runs.stops == [("b", ("camera", "cam3"), CHANGED_WHY)]
        assert runs.starts[-1] == ("b", ("camera", "cam3"))
        assert _lease_row(store, "cam3") == held

        # Removed: an engine not running it leaves the lease of the engine that does...
        a.change_wanted(cams("cam1", "cam2"))
        _round(a)
        assert _lease_row(store, "cam3") == held
        # ...which stops it and deletes its lease when it sees the change.
        b.change_wanted(cams("cam1", "cam2"))
        assert b.settle(30)
        assert runs.stops[-1] == ("b", ("camera", "cam3"), REMOVED_WHY)
        assert _lease_row(store, "cam3") is None
        _round(a, b, a, b)
        assert _lease_row(store, "cam3") is None  # no engine takes it again
        assert runs.by == {"a": {("camera", "cam1")}, "b": {("camera", "cam2")}}
        # Added and removed again before anyone took it: its free lease goes too.
        a.change_wanted(cams("cam1", "cam2", "cam3"))
        assert _lease_row(store, "cam3") == (None, 0)
        a.change_wanted(cams("cam1", "cam2"))
        assert a.settle(30)
        assert _lease_row(store, "cam3") is None

        # a's camera removed: b, seeing it first, leaves it to a, which stops it and
        # deletes its lease; the shares rebalance (one camera: a, first by name, takes it).
        b.change_wanted(cams("cam2"))
        assert b.settle(30)
        assert _lease_row(store, "cam1") is not None and ("camera", "cam1") in runs.by["a"]
        a.change_wanted(cams("cam2"))
        _round(a, b, a, b, a, b)
        assert _lease_row(store, "cam1") is None
        assert ("a", ("camera", "cam1"), REMOVED_WHY) in runs.stops
        assert runs.by == {"a": {("camera", "cam2")}, "b": set()}
    finally:
        for m in (a, b):
            m.stop()
    assert runs.by == {"a": set(), "b": set()}


# -- an engine process beside an engine runtime ------------------------------------------


class Heard:
    """What the in-process engine's bus told (event-driven waits)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.online: dict[str, int] = {}
        self.changes: list[SiteCamerasChanged] = []

    def status(self, event: CameraStatusChanged) -> None:
        if event.status is CameraStatus.ONLINE:
            with self.cond:
                self.online[event.camera_id] = self.online.get(event.camera_id, 0) + 1
                self.cond.notify_all()

    def changed(self, event: SiteCamerasChanged) -> None:
        with self.cond:
            self.changes.append(event)
            self.cond.notify_all()

    def wait(self, what: str, predicate: Any) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, 90), (what, self.online, self.changes)


@pytest.fixture
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cameras")
    return {
        name: write_video(folder / f"{name}.mp4", "libx264", seconds=3.0, fps=10, gop=10)
        for name in ("cam1", "cam2", "cam3", "other")
    }


class CapacityOneEngines(Engines):
    """Engine processes as test_cluster_engines starts them, ``server-a`` with room for one
    camera."""

    def _popen(self, name: str, env: dict[str, str], log: Any) -> Any:
        import subprocess
        import sys

        from tests.engine.test_cluster_engines import REPO

        return subprocess.Popen(
            [
                *(sys.executable, "-m", "console", "--db", self.db_url, "engine"),
                *("--site", str(self.site), "--name", name, "--capacity", "1"),
                *("--lease-s", str(LEASE_S), "--report", str(self.tmp_path / f"{name}.json")),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )


@pytest.fixture
def site_file(tmp_path: Path, videos: dict[str, Path]) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(
        '[site]\nname = "Depot"\ngeo = { lat = 51.5, lon = -0.14 }\n'
        + "".join(
            f'[[cameras]]\nid = "{cam}"\nurl = "{videos[cam]}"\nloop = true\n\n'
            for cam in ("cam1", "cam2")
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def server_b(
    db_url: str, tmp_path: Path, site_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EngineRuntime]:
    """``server-b`` as a runtime in this process (its own data dir; no analysis, to spare
    the machine), not started."""
    from engine.cluster.member import ClusterOptions

    monkeypatch.setenv("WATCHFLOOR_DATA_DIR", str(tmp_path / "server-b"))
    options = ClusterOptions(name="server-b", heartbeat_s=LEASE_S / 3, lease_ttl_s=LEASE_S)
    runtime = EngineRuntime(load_site(site_file), Store(db_url), analytics=False, cluster=options)
    yield runtime
    runtime.stop()
    assert runtime.store is not None
    runtime.store.close()


def _line(store: Store, name: str) -> EngineLine | None:
    return next((e for e in engines_status(store).engines if e.name == name), None)


def _said(line: EngineLine | None, subsystem: str) -> str:
    if line is None:
        return ""
    return next((d for n, _, d in line.subsystems if n == subsystem), "")


def _runs_only_its_leases(line: EngineLine | None) -> bool:
    """Whether the engine runs as many cameras as it holds leases for, as its heartbeat
    says (its ``cameras`` line counts the cameras running there; ``cameras`` its leases)."""
    said = _said(line, "cameras")
    if line is None or not said:
        return False
    if said.startswith("none here"):
        return line.cameras == ()
    match = re.match(r"(\d+)/(\d+) online", said)
    return match is not None and int(match.group(2)) == len(line.cameras)


@pytest.mark.slow
def test_a_shared_sites_engines_follow_cameras_added_renamed_changed_and_removed(
    db_url: str,
    tmp_path: Path,
    site_file: Path,
    videos: dict[str, Path],
    server_b: EngineRuntime,
) -> None:
    engines = CapacityOneEngines(tmp_path, db_url, site_file)
    store = Store(db_url)
    heard = Heard()
    rt = server_b
    rt.bus.subscribe(CameraStatusChanged, heard.status)
    rt.bus.subscribe(SiteCamerasChanged, heard.changed)
    try:
        engines.start("server-a")  # room for one camera
        rt.start()

        def split() -> dict[str, str | None] | None:
            holders = _holders(store)
            cameras = sorted(str(v) for k, v in holders.items() if k.startswith("camera:"))
            line = _line(store, "server-a")
            a_online = line is not None and any(
                s["status"] == "online" for s in line.camera_states.values()
            )
            return holders if cameras == ["server-a", "server-b"] and a_online else None

        holders = _wait(split, 120, "each engine runs one camera", engines)
        a_cam = next(k for k, v in holders.items() if v == "server-a").removeprefix("camera:")
        b_cam = next(k for k, v in holders.items() if v == "server-b").removeprefix("camera:")
        heard.wait("b's camera online", lambda: heard.online.get(b_cam, 0) >= 1)

        # Added: server-a is full, so server-b, with room, runs it; server-a does not.
        edit = open_site_file(site_file)
        edit.add_camera({"id": "cam3", "name": "Dock", "url": str(videos["cam3"]), "loop": True})
        edit.save()
        heard.wait("cam3 online on server-b", lambda: heard.online.get("cam3", 0) == 1)
        assert any(c.added == ("cam3",) for c in heard.changes)
        assert set(rt.cameras.sources) == {b_cam, "cam3"}
        assert _holders(store)["camera:cam3"] == "server-b"
        _wait(
            lambda: "added cam3" in _said(_line(store, "server-a"), "site"),
            60,
            "server-a took the change",
            engines,
        )
        line = _line(store, "server-a")
        assert line is not None and line.cameras == (a_cam,)
        assert _runs_only_its_leases(line)  # its one camera, not cam3
        with store.transaction() as session:
            rows = {c.key: (c.name, c.enabled) for c in session.scalars(select(Camera))}
        assert rows["cam3"] == ("Dock", True)
        source, epoch = rt.cameras.sources["cam3"], _lease_row(store, "cam3")

        # Renamed: it runs on, unstopped, under its new name.
        edit = open_site_file(site_file)
        edit.edit_camera("cam3", {"name": "Loading dock"})
        edit.save()
        heard.wait("the rename", lambda: any(c.renamed == ("cam3",) for c in heard.changes))
        assert rt.cameras.sources["cam3"] is source and source.running
        assert source.camera.name == "Loading dock"
        assert heard.online["cam3"] == 1 and _lease_row(store, "cam3") == epoch
        _wait(
            lambda: "renamed cam3" in _said(_line(store, "server-a"), "site"),
            60,
            "server-a took the rename",
            engines,
        )

        # Changed: its holder restarts it; its lease stays.
        edit = open_site_file(site_file)
        edit.edit_camera("cam3", {"url": str(videos["other"])})
        edit.save()
        heard.wait("cam3 restarted", lambda: heard.online.get("cam3", 0) == 2)
        assert rt.cameras.sources["cam3"] is not source
        assert _lease_row(store, "cam3") == epoch

        # Removed: server-b stops it; its lease is gone; no engine takes it again.
        edit = open_site_file(site_file)
        edit.remove_camera("cam3")
        edit.save()
        heard.wait("the removal", lambda: any(c.removed == ("cam3",) for c in heard.changes))
        member = rt.shared.member
        assert member is not None
        wait_for(lambda: "cam3" not in rt.cameras.sources, what="cam3 stopped")
        wait_for(lambda: _lease_row(store, "cam3") is None, what="cam3's lease deleted")
        _wait(
            lambda: "removed cam3" in _said(_line(store, "server-a"), "site"),
            60,
            "server-a took the removal",
            engines,
        )
        # Two more rounds of each engine: still nobody runs it.
        after = {name: _line(store, name) for name in ("server-a", "server-b")}
        _wait(
            lambda: all(
                (line := _line(store, name)) is not None
                and before is not None
                and line.last_heard_at > before.last_heard_at
                for name, before in after.items()
            ),
            30,
            "a heartbeat of each engine",
            engines,
        )
        assert _lease_row(store, "cam3") is None and "cam3" not in rt.cameras.sources

        # Switched off where server-a runs it: server-a stops it, its lease is gone, and
        # the site's one camera left runs on exactly one engine.
        edit = open_site_file(site_file)
        edit.edit_camera(a_cam, {"enabled": False})
        edit.save()

        def switched_off() -> list[str | None] | None:
            line = _line(store, "server-a")
            holders = [v for k, v in _holders(store).items() if k.startswith("camera:")]
            done = (
                _lease_row(store, a_cam) is None
                and line is not None
                and "removed " + a_cam in _said(line, "site")
                and a_cam not in line.cameras
                and _runs_only_its_leases(line)
            )
            return holders if done and holders and holders[0] is not None else None

        last = _wait(switched_off, 60, f"server-a stopped {a_cam} and its lease went", engines)
        assert last in (["server-a"], ["server-b"])
        proc = engines.procs["server-a"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 0, engines.describe()
        report = json.loads((tmp_path / "server-a.json").read_text())
        assert report["cameras"][a_cam]["handed_over"] is False  # switched off, not handed
    finally:
        engines.stop_all()
        store.close()
