"""Engines sharing a site, as processes: ``watchfloor engine --name`` on one database, each
with its own data dir. They split the cameras, a killed one's cameras are taken over within
its lease, tracks number on after the dead engine's, a second process of a live engine's name
is refused, and a clean stop gives every lease back. Real SQLite and PostgreSQL, real video."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from engine.cluster.leases import read_cluster
from engine.cluster.status import EngineLine, engines_status
from engine.store.cluster_models import EngineRow, Lease
from engine.store.database import Store
from engine.store.models import Event, Site
from tests.conftest import write_site

REPO = Path(__file__).resolve().parents[2]
LEASE_S = 3.0  # --lease-s: heartbeats every second

pytestmark = [pytest.mark.slow, pytest.mark.sql]


def _site(tmp_path: Path, video: Path) -> Path:
    cameras = "".join(
        f'[[cameras]]\nid = "cam{i}"\nurl = "{video}"\nloop = true\n\n' for i in (1, 2)
    )
    return write_site(tmp_path / "site.toml", cameras)


class Engines:
    def __init__(self, tmp_path: Path, db_url: str, site: Path) -> None:
        self.tmp_path, self.db_url, self.site = tmp_path, db_url, site
        self.procs: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str, *, data: str | None = None) -> subprocess.Popen[str]:
        env = {**os.environ, "WATCHFLOOR_DATA_DIR": str(self.tmp_path / (data or name))}
        # stderr to a file: an unread pipe that fills (a busy machine's warnings) blocks
        # the engine mid-write, heartbeats and all.
        with self._log(data or name).open("w") as log:
            proc = self._popen(name, env, log)
        # Keyed by data dir: a second process under a live engine's name (the twin) must
        # not hide the first from stop_all, or a failing test leaves it running.
        self.procs[data or name] = proc
        return proc

    def _log(self, key: str) -> Path:
        return self.tmp_path / f"{key}.stderr"

    def said(self, key: str) -> str:
        """What the engine started under ``key`` (its data dir's name) wrote on stderr."""
        return self._log(key).read_text()

    def _popen(self, name: str, env: dict[str, str], log: IO[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "console", "--db", self.db_url, "engine"),
                *("--site", str(self.site), "--name", name),
                *("--lease-s", str(LEASE_S), "--report", str(self.tmp_path / f"{name}.json")),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )

    def describe(self) -> str:
        """Each engine's state, and what an engine that exited said (for a failure)."""
        lines = []
        for name, proc in self.procs.items():
            code = proc.poll()
            said = self.said(name)[-3000:] if code is not None else ""
            lines.append(f"{name}: {'running' if code is None else f'exited {code}'} {said}")
        return "\n".join(lines)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)


@pytest.fixture
def engines(tmp_path: Path, db_url: str, vtest_avi: Path) -> Iterator[Engines]:
    running = Engines(tmp_path, db_url, _site(tmp_path, vtest_avi))
    try:
        yield running
    finally:
        running.stop_all()


def _holders(store: Store) -> dict[str, str | None]:
    with store.transaction() as session:
        site_id = session.scalar(select(Site.id))
    if site_id is None:
        return {}
    view = read_cluster(store, site_id)
    return {f"{lease.kind}:{lease.key}": lease.holder for lease in view.leases}


def _wait(condition, timeout_s: float, what: str, engines: Engines):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout_s} s: {what}\n{engines.describe()}")


def test_engines_split_a_site_and_one_takes_over_a_killed_ones_cameras(
    engines: Engines, db_url: str
) -> None:
    a = engines.start("server-a")
    b = engines.start("server-b")
    store = Store(db_url)
    try:
        # Each runs one camera: with no limit set, an even split.
        def split_one_each() -> dict[str, str | None] | None:
            holders = _holders(store)
            cameras = sorted(str(v) for k, v in holders.items() if k.startswith("camera:"))
            return holders if cameras == ["server-a", "server-b"] else None

        split = _wait(split_one_each, 90, "each engine runs one camera", engines)

        # Each says how it is doing at its heartbeats: its subsystems and its camera.
        def reported() -> dict[str, EngineLine] | None:
            lines = {line.name: line for line in engines_status(store).engines}
            ok = all(
                line.camera_states
                and all(c["status"] == "online" for c in line.camera_states.values())
                and any(name == "cameras" for name, _, _ in line.subsystems)
                for line in lines.values()
            )
            return lines if len(lines) == 2 and ok else None

        lines = _wait(reported, 60, "both engines report an online camera", engines)
        for line in lines.values():
            (camera,) = line.camera_states
            assert split[f"camera:{camera}"] == line.name
        a_camera = next(k for k, v in split.items() if v == "server-a" and k.startswith("camera:"))
        # A second process under a live engine's name is refused, saying where it runs.
        twin = engines.start("server-b", data="twin")
        assert twin.wait(120) == 1
        said = engines.said("twin")
        assert "an engine named 'server-b' is already running" in said, said
        # server-a has stored a track on its camera before it dies.
        camera_key = a_camera.removeprefix("camera:")

        def a_tracks() -> int | None:
            with store.transaction() as session:
                return session.scalar(
                    select(func.max(Event.track_id)).where(
                        Event.engine == "server-a", Event.source == f"camera:{camera_key}"
                    )
                )

        last_by_a = _wait(a_tracks, 60, "server-a stores a track", engines)

        # server-a's tracks on its camera that no person.left ended (yet).
        def left_open_by_a() -> set[int]:
            with store.transaction() as session:
                rows = session.execute(
                    select(Event.track_id, Event.kind).where(
                        Event.source == f"camera:{camera_key}",
                        Event.kind.in_(("person.appeared", "person.left")),
                    )
                ).all()
                by_a = set(
                    session.scalars(
                        select(Event.track_id).where(
                            Event.engine == "server-a", Event.source == f"camera:{camera_key}"
                        )
                    )
                )
            appeared = {t for t, k in rows if k == "person.appeared"} & by_a
            return appeared - {t for t, k in rows if k == "person.left"}

        # Killed while it has a person in view, not at a moment the looping video may have
        # nobody (the kill once came when every track of server-a's was ended, under load).
        _wait(left_open_by_a, 60, "server-a has a person in view", engines)
        a.send_signal(signal.SIGKILL)
        a.wait(30)
        open_at_kill = left_open_by_a()
        assert open_at_kill  # people were in view when it died
        killed = time.monotonic()
        with store.transaction() as session:
            stored_before = session.scalar(select(func.max(Event.id))) or 0
        _wait(
            lambda: _holders(store).get(a_camera) == "server-b",
            3 * LEASE_S + 5,
            "takeover",
            engines,
        )
        took = time.monotonic() - killed
        assert took < LEASE_S + LEASE_S / 3 + 3, took  # the lease, a heartbeat, start-up slack

        def b_tracks_after() -> int | None:
            with store.transaction() as session:
                return session.scalar(
                    select(func.min(Event.track_id)).where(
                        Event.engine == "server-b",
                        Event.source == f"camera:{camera_key}",
                        Event.kind == "person.appeared",  # tracks it started (not ended)
                        Event.id > stored_before,
                    )
                )

        first_by_b = _wait(
            b_tracks_after, 60, "server-b stores a track on the taken camera", engines
        )
        assert first_by_b > last_by_a  # (camera, track id) still names one track

        # They do not stay "appeared" for ever: server-b ended them when it took over.
        _wait(lambda: not left_open_by_a(), 30, "server-a's open tracks ended", engines)
        with store.transaction() as session:
            endings = list(
                session.scalars(
                    select(Event.detail).where(
                        Event.engine == "server-b",
                        Event.kind == "person.left",
                        Event.source == f"camera:{camera_key}",
                        # server-a's tracks it died with (not server-b's own earlier ones,
                        # had server-b run this camera before server-a joined)
                        Event.track_id.in_(sorted(open_at_kill)),
                    )
                )
            )
        assert len(endings) == len(open_at_kill)  # each once
        assert all("engine server-a stopped" in d["ended"] for d in endings), endings
        b.send_signal(signal.SIGTERM)
        assert b.wait(120) == 0
        # A clean stop gives every lease back and says so.
        assert set(_holders(store).values()) == {None}
        report = json.loads((engines.tmp_path / "server-b.json").read_text())
        assert report["cluster"]["engine"] == "server-b"
        assert set(report["cameras"]) == {"cam1", "cam2"}
        assert all(cam["handed_over"] for cam in report["cameras"].values())
        with store.transaction() as session:
            twice = session.execute(
                select(Event.source, Event.track_id, func.count())
                .where(Event.kind == "person.appeared")
                .group_by(Event.source, Event.track_id)
                .having(func.count() > 1)
            ).all()
        assert twice == []
    finally:
        store.close()


@pytest.mark.hostile(7)
def test_an_engine_whose_name_another_process_took_over_stops_and_exits_1(
    engines: Engines, db_url: str
) -> None:
    """Scenario 7 as processes: a running engine's name is taken over (the engines row is
    rewritten as a new process of that name writes it when it joins after the first was
    paused past its lease). At its next heartbeat the first engine stops all it ran, says
    why on stderr and exits 1; it leaves the name's row and leases to the new holder."""
    first = engines.start("server-a")
    store = Store(db_url)
    try:

        def runs_all() -> bool:
            # Every lease, not only the cameras': it takes the site services' lease after
            # the cameras', each in its own transaction, and a takeover between the two
            # leaves that lease with nobody (seen on a loaded machine).
            holders = _holders(store)
            cameras = [v for k, v in holders.items() if k.startswith("camera:")]
            return cameras == ["server-a", "server-a"] and set(holders.values()) == {"server-a"}

        _wait(runs_all, 90, "server-a runs both cameras and the site services", engines)
        with store.write_transaction() as session:
            row = session.scalars(select(EngineRow).where(EngineRow.name == "server-a")).one()
            row.instance, row.pid = "another-process", row.pid + 1
        assert first.wait(60) == 1, engines.describe()
        said = engines.said("server-a")
        assert "watchfloor engine: stopped: engine 'server-a' was taken over" in said, said
        assert "this process stops everything it ran" in said
        with store.transaction() as session:
            row = session.scalars(select(EngineRow).where(EngineRow.name == "server-a")).one()
            assert (row.instance, row.stopped_at) == ("another-process", None)
            # It gave nothing back: the leases are the name's, for its new process to renew.
            assert set(session.scalars(select(Lease.engine))) == {"server-a"}
    finally:
        store.close()
