"""``watchfloor engines`` and ``watchfloor follow`` as real processes, on real SQLite and
PostgreSQL: who runs what in words, and every engine's events as they are stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from engine.cluster.leases import LeaseBook
from engine.store.cluster_models import EngineRow
from engine.store.commands import InsertEvent
from engine.store.database import Store
from engine.store.models import Site
from engine.store.writer import StoreWriter
from tests.console.cli_runs import watchfloor

pytestmark = pytest.mark.sql


def _site(store: Store) -> int:
    with store.transaction() as session:
        row = Site(name="Shared site", geo_lat=0.0, geo_lon=0.0, updated_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return row.id


def test_engines_says_who_runs_what_and_what_is_wrong(db_url: str) -> None:
    store = Store(db_url)
    try:
        result = watchfloor("--db", db_url, "engines")
        assert result.returncode == 0, result.stderr
        assert "no engine has shared a site" in result.stdout
        site = _site(store)
        running = LeaseBook(store, site, "server-a")
        running.join(8, datetime.now(UTC) + timedelta(seconds=2))  # its clock is 2 s ahead
        running.offer({("camera", "plaza"): None, ("camera", "gate"): None})
        assert running.acquire("camera", "plaza") is not None
        stopped = LeaseBook(store, site, "server-b")
        stopped.pid += 1
        stopped.join(8, datetime.now(UTC))
        stopped.leave({})
        result = watchfloor("--db", db_url, "engines", "--json")
        assert result.returncode == 1  # a clock off, and a camera run nowhere
        status = json.loads(result.stdout)
        by_name = {e["name"]: e for e in status["engines"]}
        assert by_name["server-a"]["state"] == "running"
        assert by_name["server-a"]["cameras"] == ["plaza"]
        assert by_name["server-a"]["clock_off"] is True
        assert by_name["server-b"]["state"] == "stopped"
        assert status["unowned"] == ["Shared site: camera gate"]
        text = watchfloor("--db", db_url, "engines").stdout
        assert "server-a" in text and "running" in text and "1 cameras (plaza)" in text
        assert "its clock is 2.0 s ahead of the database's" in text
        assert "1 not run by any engine (Shared site: camera gate)" in text
    finally:
        store.close()


def test_follow_prints_every_engines_events_as_they_are_stored(db_url: str) -> None:
    """A real process, stopped by a kill while it follows. It is known to follow once it
    prints a probe event, written until it does (no fixed wait for its start: a busy
    machine starts it late); the probes are left out of the lines checked. It runs until
    the kill, not ``--for`` a time: under load its 30 s ran out before the test had
    written and read the six events (it failed at 40 s), and its end is the test's to say."""
    store = Store(db_url)
    command = [sys.executable, "-m", "console", "--db", db_url, "follow", "--json"]
    follower = subprocess.Popen(
        [*command, "--kind", "person."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    followed = threading.Event()

    def probe() -> None:
        with StoreWriter.running(store, engine_name="prober") as prober:
            while not followed.is_set() and follower.poll() is None:
                prober.execute(_event("person.left", "prober", 0), timeout_s=30)
                followed.wait(0.5)

    prober = threading.Thread(target=probe, name="follow-prober", daemon=True)
    prober.start()
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()  # a probe, once it follows ("" if it ended)
        followed.set()
        prober.join(30)
        assert json.loads(first)["engine"] == "prober"
        writers = [StoreWriter(store, engine_name=name) for name in ("server-a", "server-b")]
        for writer in writers:
            writer.start()
        for n in range(3):
            for writer, name in zip(writers, ("server-a", "server-b"), strict=True):
                for kind in ("person.appeared", "camera.online"):
                    writer.execute(_event(kind, name, n), timeout_s=30)
        for writer in writers:
            writer.stop()
        lines: list[dict[str, Any]] = []
        while len(lines) < 6:
            line = json.loads(follower.stdout.readline())
            if line["engine"] != "prober":  # one written as it started to print
                lines.append(line)
    finally:
        followed.set()
        follower.kill()
        follower.wait(30)
        for stream in (follower.stdout, follower.stderr):
            if stream is not None:
                stream.close()
        prober.join(30)
        store.close()
    assert {line["kind"] for line in lines} == {"person.appeared"}  # --kind person.
    assert sorted((line["engine"], line["track_id"]) for line in lines) == [
        ("server-a", 0), ("server-a", 1), ("server-a", 2),
        ("server-b", 0), ("server-b", 1), ("server-b", 2),
    ]  # fmt: skip
    assert all(line["summary"] == f"track {line['track_id']}" for line in lines)


def _event(kind: str, engine: str, n: int) -> InsertEvent:
    return InsertEvent(
        ts=datetime.now(UTC),
        kind=kind,
        source=f"camera:{engine}-cam",
        detail={"track_id": n},
        track_id=n,
        engine=engine,
    )


@pytest.mark.hostile(8)
@pytest.mark.parametrize("heartbeat", ["9999-12-31", "infinity"])
def test_engines_names_a_lease_no_running_engine_wrote_and_fails(
    db_url: str, heartbeat: str
) -> None:
    """A lease row edited to ``engine='ghost', heartbeat_at='9999-12-31'``: ``engines``
    names it and exits 1 (it used to say nothing and exit 0). PostgreSQL's 'infinity',
    which no Python time holds, is read as the latest one kept (no traceback)."""
    store = Store(db_url)
    try:
        site = _site(store)
        running = LeaseBook(store, site, "server-a")
        running.join(8, datetime.now(UTC))
        running.offer({("camera", "plaza"): None})
        assert running.acquire("camera", "plaza") is not None
        assert watchfloor("--db", db_url, "engines").returncode == 0
        with store.write_transaction() as session:
            session.execute(
                text(f"UPDATE leases SET engine = 'ghost', heartbeat_at = '{heartbeat}'")
            )
        result = watchfloor("--db", db_url, "engines")
        assert result.returncode == 1, result.stderr
        assert (
            "problem      Shared site: camera plaza's lease is held by unknown engine 'ghost' "
            "(no engine of that name has joined this site), renewed as of 9999-12-31 00:00:00 "
            "UTC: ahead of the database's clock"
        ) in result.stdout
        assert "not believed; the other engines take it over" in result.stdout
        status = json.loads(watchfloor("--db", db_url, "engines", "--json").stdout)
        assert status["engines"][0]["cameras"] == []
        assert status["unowned"] == ["Shared site: camera plaza"]
    finally:
        store.close()


@pytest.mark.hostile(7)
def test_engines_shows_a_name_taken_over_from_a_process_that_had_not_stopped(
    db_url: str,
) -> None:
    store = Store(db_url)
    try:
        site = _site(store)
        paused = LeaseBook(store, site, "server-a")
        paused.join(8, datetime.now(UTC))
        with store.write_transaction() as session:  # not heard from for 70 s
            for row in session.scalars(select(EngineRow)):
                row.heartbeat_at -= timedelta(seconds=70)
        new = LeaseBook(store, site, "server-a")
        new.pid = paused.pid + 1
        new.join(8, datetime.now(UTC))
        result = watchfloor("--db", db_url, "engines")
        assert result.returncode == 0, result.stdout
        assert f"(pid {new.pid})" in result.stdout
        assert f"took the name over from pid {paused.pid} on {paused.host}" in result.stdout
        assert "which had not stopped: if it comes back it stops itself" in result.stdout
        status = json.loads(watchfloor("--db", db_url, "engines", "--json").stdout)
        assert status["engines"][0]["replaced"]["pid"] == paused.pid
    finally:
        store.close()


@pytest.mark.hostile(8)
def test_engines_reads_an_engine_row_whose_health_was_edited_into_nonsense(db_url: str) -> None:
    """An ``engines.health`` edited to a JSON list (or subsystems that are not a list):
    ``engines`` said nothing useful, it failed with an AttributeError traceback. It reads what
    it can and lists the engine."""
    store = Store(db_url)
    try:
        site = _site(store)
        LeaseBook(store, site, "server-a").join(8, datetime.now(UTC))
        for health in ("[1, 2]", '{"subsystems": 5, "cameras": [1], "media": "x"}'):
            with store.write_transaction() as session:
                session.execute(text(f"UPDATE engines SET health = '{health}'"))
            result = watchfloor("--db", db_url, "engines", "--json")
            assert result.returncode == 0, result.stderr
            assert "Traceback" not in result.stderr
            (engine,) = json.loads(result.stdout)["engines"]
            assert engine["name"] == "server-a"
    finally:
        store.close()
