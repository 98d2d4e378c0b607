"""The headless engine's stop is audited with who or what caused it (issue 64, scenario 4:
before, a stop showed at most as a logout, and a headless engine's not at all)."""

from __future__ import annotations

import getpass
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.store import Store
from engine.store.audit import AuditListRequest
from tests.actors import ADMIN
from tests.conftest import write_site
from tests.waiting import wait_for


def _stops(db: Path) -> list[tuple[str, str, dict[str, object]]]:
    store = Store(f"sqlite:///{db}")
    try:
        entries = AuditListRequest(reader=ADMIN, limit=100, action="engine.stop").run(store)
    finally:
        store.close()
    return [(e.actor, e.outcome, e.detail) for e in entries]


@pytest.mark.hostile(4)
def test_sigterm_and_the_end_of_duration_are_audited_as_stops(
    tmp_path: Path, vtest_avi: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml", f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{vtest_avi}"\n'
    )
    db = tmp_path / "e.db"
    argv = [sys.executable, "-m", "console", "--db", f"sqlite:///{db}", "engine", "--site"]
    log = (tmp_path / "engine.log").open("w")  # a file: a full pipe would block the engine
    engine = subprocess.Popen([*argv, str(site)], stdout=subprocess.DEVNULL, stderr=log)
    try:

        def started() -> bool:
            assert engine.poll() is None, "the engine ended before its start-up"
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
                    row = connection.execute(
                        "SELECT count(*) FROM events WHERE kind = 'camera.online'"
                    ).fetchone()
            except sqlite3.Error:  # not there or not migrated yet
                return False
            return bool(row[0])

        wait_for(started, what="the engine's camera to be online")
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=120)
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait()
        log.close()
    assert engine.returncode == 0, (tmp_path / "engine.log").read_text()[-3000:]
    machine = f"machine:{getpass.getuser()}"
    stops = {"stops": "recording stops on 1 camera"}
    assert _stops(db) == [(machine, "ok", {"cause": "signal SIGTERM", **stops, "session": machine})]

    ended = subprocess.run(
        [*argv, str(site), "--duration", "1"], capture_output=True, text=True, timeout=120
    )
    assert ended.returncode == 0, ended.stderr[-3000:]
    assert _stops(db)[0] == (
        machine,
        "ok",
        {"cause": "duration ended", **stops, "session": machine},
    )
