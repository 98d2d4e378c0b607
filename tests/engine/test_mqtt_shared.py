"""MQTT on a site shared by several engines: the engine holding the site services publishes
the whole site (it follows every engine over LISTEN/NOTIFY, as an attached console does),
and when it is killed another engine takes the site services and publishes again. Real
engine processes, a real PostgreSQL and a real mosquitto."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cluster.leases import read_cluster
from engine.store.database import Store
from engine.store.models import Site
from tests.conftest import write_site
from tests.mosquitto import PASSWORDS, Broker, Subscriber, mosquitto_installed

REPO = Path(__file__).resolve().parents[2]
BASE = "watchfloor/test_site"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not mosquitto_installed(), reason="mosquitto is not installed"),
]


@pytest.fixture
def pg_url(tmp_path: Path, migrated_template: dict[str, str]) -> Iterator[str]:
    from tests.conftest import _fresh_database

    yield from _fresh_database("postgresql", tmp_path, migrated_template)


def _holder_of_site_services(url: str) -> str | None:
    from sqlalchemy import select

    store = Store(url)
    try:
        with store.transaction() as session:
            site_id = session.scalar(select(Site.id))
        if site_id is None:
            return None
        view = read_cluster(store, site_id)
        return next((lease.holder for lease in view.leases if lease.kind == "service"), None)
    finally:
        store.close()


def test_the_site_services_engine_publishes_the_whole_site_and_another_takes_over(
    tmp_path: Path, pg_url: str
) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    cameras = "".join(
        f'[[cameras]]\nid = "{cam}"\nname = "{cam.title()}"\nurl = "{tmp_path / "none.mp4"}"\n'
        for cam in ("gate", "yard")
    )
    site = write_site(
        tmp_path / "site.toml",
        cameras,
        extra=(
            f'[alerts]\ncamera_offline_s = 1\n[mqtt]\nurl = "{broker.url}"\nuser = "watchfloor"\n'
        ),
    )
    procs: dict[str, subprocess.Popen[str]] = {}
    watcher = Subscriber(broker, "homeassistant", [f"{BASE}/#"])
    try:
        for name in ("server-a", "server-b"):
            # stderr to a file: an unread pipe that fills blocks the engine mid-write
            with (tmp_path / f"{name}.stderr").open("w") as log:
                procs[name] = subprocess.Popen(
                    [
                        *(sys.executable, "-m", "console", "--db", pg_url, "engine"),
                        *("--site", str(site), "--name", name, "--lease-s", "3"),
                    ],
                    cwd=REPO,
                    env={
                        **os.environ,
                        "WATCHFLOOR_DATA_DIR": str(tmp_path / name),
                        "WATCHFLOOR_MQTT_PASSWORD": PASSWORDS["watchfloor"],
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    text=True,
                )

        def open_alerts() -> list[int] | None:
            told = watcher.latest(f"{BASE}/alerts/open")
            alerts = json.loads(told.payload)["alerts"] if told is not None else []
            return alerts if len(alerts) == 2 else None

        # Each camera's file is missing: each engine raises its camera's alert; the one
        # holding the site services publishes both, and both cameras' states.
        watcher.wait(open_alerts, timeout_s=120)
        for camera in ("gate", "yard"):
            state = watcher.wait(lambda c=camera: watcher.latest(f"{BASE}/camera/{c}/state"))
            assert json.loads(state.payload)["status"] in ("no_footage", "error", "starting")
        # An alert's retained state goes before its event: wait for both events.
        new = watcher.wait(
            lambda: (
                sorted(
                    json.loads(m.payload)["alert"]["source"]
                    for m in watcher.on(f"{BASE}/alerts/event")
                    if json.loads(m.payload)["event"] == "new"
                )
                or None
                if len(watcher.on(f"{BASE}/alerts/event")) >= 2
                else None
            )
        )
        assert new == ["camera:gate", "camera:yard"]
        # Home Assistant finds both cameras, wherever each runs.
        ha = Subscriber(broker, "homeassistant", ["homeassistant/+/+/+/config"])
        try:
            ha.wait(lambda: len({m.topic for m in ha.received}) >= 7)
            people = sorted(m.topic for m in ha.received if m.topic.endswith("_people/config"))
            assert people == [
                "homeassistant/sensor/watchfloor_test_site/gate_people/config",
                "homeassistant/sensor/watchfloor_test_site/yard_people/config",
            ]
        finally:
            ha.close()
        assert watcher.latest(f"{BASE}/availability").payload == b"online"

        # The engine holding the site services dies: its will says offline, and the other
        # takes the site services and says online again.
        holder = _holder_of_site_services(pg_url)
        assert holder in procs
        survivor = next(name for name in procs if name != holder)
        heard_before = len(watcher.on(f"{BASE}/availability"))
        procs[holder].send_signal(signal.SIGKILL)
        procs[holder].wait(30)

        # The will and the survivor's takeover race: the broker may deliver the will's
        # offline after the survivor said online, which the survivor then says again (it
        # gives its own retained topics their value back). Either way: offline was said,
        # and online is said after it and is the last word.
        def offline_then_online() -> bool:
            said = [m.payload for m in watcher.on(f"{BASE}/availability")[heard_before:]]
            return (
                b"offline" in said
                and said[-1] == b"online"
                and said.index(b"offline") < (len(said) - 1)
            )

        watcher.wait(offline_then_online, timeout_s=60)
        assert _holder_of_site_services(pg_url) == survivor
        later = Subscriber(broker, "homeassistant", [f"{BASE}/#"])
        try:
            kept = later.wait(lambda: later.latest(f"{BASE}/alerts/open"), timeout_s=20)
            assert len(json.loads(kept.payload)["alerts"]) == 2
        finally:
            later.close()
    finally:
        watcher.close()
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        broker.stop()
