"""A console attached to a shared site (``EngineRuntime(attach=True)``): it runs nothing of
its own, yet its bus carries what a site's engine stores and tells — events, camera states,
the sensing room's picture, alerts — and what it changes (an acknowledgement) reaches the
other consoles. A real engine process on a real PostgreSQL, real video, a simulated room."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.access import Actor, Role
from engine.alerts import actions as alert_actions
from engine.alerts.rules import RuleSpec
from engine.alerts.service import AlertChanged, AlertRaised, SequenceAdded
from engine.cluster.live import NotAttachableError
from engine.cluster.status import engines_status
from engine.config import load_site
from engine.events import CameraStatus, CameraStatusChanged, Event, HealthState
from engine.runtime import EngineRuntime
from engine.sensing.service import SensingUpdated
from engine.store.database import Store
from engine.store.event_views import EventsStored
from tests.conftest import write_site

REPO = Path(__file__).resolve().parents[2]
ADMIN = Actor("ada", frozenset({Role.ADMIN}))
ROOM = (
    "[room]\nwidth_m = 5.0\ndepth_m = 5.0\nheight_m = 2.5\n"
    "[sensing]\nsimulate = true\nwalkers = 1\nseed = 2\n"
    + "".join(
        f'[[sensing_nodes]]\nid = "n{i}"\nname = "Node {i}"\n'
        f"position = {{ x = {x}, y = {y}, z = {z} }}\n"
        for i, (x, y, z) in enumerate(
            [(0.1, 0.1, 0.8), (4.9, 0.1, 1.3), (4.9, 4.9, 0.8), (0.1, 4.9, 1.3)], start=1
        )
    )
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
E = TypeVar("E", bound=Event)


class Heard:
    """Everything a console's bus carried."""

    def __init__(self, runtime: EngineRuntime) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()
        runtime.bus.subscribe(Event, self._add)

    def _add(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: type[E], where: Callable[[E], bool] = lambda _e: True) -> list[E]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind) and where(e)]

    def wait(
        self, kind: type[E], where: Callable[[E], bool], what: str, timeout_s: float = 90.0
    ) -> E:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.of(kind, where)
            if found:
                return found[0]
            time.sleep(0.05)
        with self.lock:
            kinds = sorted({type(e).__name__ for e in self.events})
        raise AssertionError(f"not within {timeout_s} s: {what} (heard {kinds})")


@pytest.fixture
def pg_url(tmp_path: Path, migrated_template: dict[str, str]) -> Iterator[str]:
    from tests.conftest import _fresh_database

    yield from _fresh_database("postgresql", tmp_path, migrated_template)


def _console(site_file: Path, url: str, data: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("WATCHFLOOR_DATA_DIR", str(data))
    runtime = EngineRuntime(load_site(site_file), Store(url), attach=True, analytics=False)
    heard = Heard(runtime)
    runtime.start()
    return runtime, heard


def test_an_attached_console_hears_the_engines_and_tells_the_other_consoles(
    tmp_path: Path, pg_url: str, vtest_avi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_file = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "cam1"\nname = "Plaza"\nurl = "{vtest_avi}"\nloop = true\n',
        ROOM,
    )
    # An attached console creates no site: it needs one an engine has run.
    with pytest.raises(NotAttachableError, match="no engine has run site 'Test site'"):
        _console(site_file, pg_url, tmp_path / "console-a", monkeypatch)
    engine = _engine(site_file, pg_url, tmp_path)
    a, heard_a = _console(site_file, pg_url, tmp_path / "console-a", monkeypatch)
    b, heard_b = _console(site_file, pg_url, tmp_path / "console-b", monkeypatch)
    try:
        assert a.cameras.sources == {} and a.sensing.services == {}  # nothing runs in the console
        # A rule written through the console (its own writer), read by the engine when it
        # starts again.
        alert_actions.add_rule(
            a.alerts,
            a.writer,
            a.clock,
            ADMIN,
            RuleSpec(
                rule_id=0, name="anyone in the plaza", camera="cam1", room=None, trigger="person"
            ),
        )
        _stop(engine)
        engine = _engine(site_file, pg_url, tmp_path)
        heard_a.wait(
            CameraStatusChanged,
            lambda e: e.camera_id == "cam1" and e.status is CameraStatus.ONLINE,
            "the engine's camera online",
        )
        stored = heard_a.wait(
            EventsStored,
            lambda e: any(v.engine == "server-a" and v.kind.startswith("person.") for v in e.views),
            "a person event the engine stored",
        )
        assert stored.views
        room = heard_a.wait(SensingUpdated, lambda e: True, "the sensing room's picture")
        assert room.snapshot.room_id == "room" and room.snapshot.simulated
        assert room.snapshot.voxels is not None and room.snapshot.voxels.values.size > 0
        raised = heard_a.wait(
            AlertRaised, lambda e: e.alert.source == "camera:cam1", "the rule's alert"
        )
        heard_b.wait(AlertRaised, lambda e: e.alert.alert_id == raised.alert.alert_id, "b too")
        assert heard_a.of(SequenceAdded, lambda e: e.alert.alert_id == raised.alert.alert_id)
        # Heard from an engine not yet known to run: the engines are read again at once,
        # not at the next heartbeat (5 s).
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and a.shared.follower.engines_running() != ("server-a",):
            time.sleep(0.05)
        health = {r.subsystem: r for r in a.health()}
        assert health["cluster"].state is HealthState.OK, health["cluster"]
        assert "1 engine running" in health["cluster"].detail
        assert health["cameras"].detail == "1/1 online on the site's engines"
        assert "recording" not in health  # nothing is recorded in an attached console

        # Console a is cut off from the database (its connection ended, no new one let in)
        # while console b acknowledges the alert: when a is back, it is told.
        _let_in(pg_url, False)
        try:
            _cut_off(pg_url, a.shared.follower.sender)
            deadline = time.monotonic() + 10
            while a.shared.follower.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            away = {r.subsystem: r for r in a.health()}["cluster"]
            assert away.state is HealthState.DOWN and "database away" in away.detail
            alert_actions.acknowledge_alert(
                b.alerts, ADMIN, raised.alert.alert_id, "seen on the wall"
            )
            time.sleep(1.0)
            assert not heard_a.of(AlertChanged)  # not told while away
        finally:
            _let_in(pg_url, True)
        changed = heard_a.wait(
            AlertChanged,
            lambda e: e.alert.alert_id == raised.alert.alert_id and e.change == "acknowledged",
            "the acknowledgement made on console b while a was away",
            timeout_s=30,
        )
        assert {r.subsystem: r for r in a.health()}["cluster"].state is HealthState.OK
        assert changed.alert.acknowledged_by == "account:ada"
        time.sleep(1.0)  # b's own note comes back to b over the database: not told twice
        assert len(heard_b.of(AlertChanged, lambda e: e.change == "acknowledged")) == 1
        # Nothing the console heard was stored again by it (it has no bus-attached writer).
        with Store(pg_url).engine.connect() as connection:
            doubles = connection.execute(
                text("SELECT count(*) FROM events WHERE kind LIKE 'camera.%' AND engine IS NULL")
            ).scalar()
        assert doubles == 0
    finally:
        a.stop()
        b.stop()
        _stop(engine)


def _engine(site_file: Path, url: str, tmp_path: Path, *more: str) -> subprocess.Popen[str]:
    """``watchfloor engine --name server-a`` (with ``more`` options), once it runs."""
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "console", "--db", url, "engine"),
            *("--site", str(site_file), "--name", "server-a", "--lease-s", "3", *more),
        ],
        cwd=REPO,
        env={**os.environ, "WATCHFLOOR_DATA_DIR": str(tmp_path / "server-a")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = Store(url)
    try:
        deadline = time.monotonic() + 90
        while not any(line.state == "running" for line in engines_status(store).engines):
            if proc.poll() is not None or time.monotonic() > deadline:
                said = proc.stderr.read()[-2000:] if proc.stderr else ""
                proc.kill()
                raise AssertionError(f"the engine did not start: {said}")
            time.sleep(0.1)
    finally:
        store.close()
    return proc


def _let_in(url: str, allowed: bool) -> None:
    """Let new connections into the test's database, or refuse them all (as a server
    that is restarting does); connections already open stay."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
    finally:
        admin.dispose()


def _cut_off(url: str, application_name: str) -> None:
    """End the one connection named ``application_name`` (a console's feed)."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": application_name[:63]},
            ).scalar()
        assert ended == 1
    finally:
        admin.dispose()


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(60)
    finally:
        if proc.stderr is not None:
            proc.stderr.close()


def test_a_sqlite_site_cannot_be_attached_to(tmp_path: Path) -> None:
    site = load_site(write_site(tmp_path / "site.toml"))
    with pytest.raises(ValueError, match="PostgreSQL"):
        EngineRuntime(site, Store(f"sqlite:///{tmp_path / 'x.db'}"), attach=True)
