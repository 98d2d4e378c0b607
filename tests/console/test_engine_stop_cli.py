"""The headless engine's stop is audited with who or what caused it (issue 64, scenario 4:
before, a stop showed at most as a logout, and a headless engine's not at all)."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from engine.store import Store
from engine.store.audit import AuditListRequest
from tests.actors import ADMIN
from tests.conftest import write_site
from tests.console.cli_runs import watchfloor
from tests.console.test_cli import sigterm_engine_once_ready


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
    argv = ["--db", f"sqlite:///{db}", "engine", "--site", str(site)]
    code, log = sigterm_engine_once_ready(
        argv,
        db,
        "SELECT count(*) FROM events WHERE kind = 'camera.online'",
        lambda online: online > 0,
        "the engine's camera to be online",
    )
    assert code == 0, log
    machine = f"machine:{getpass.getuser()}"
    stops = {"stops": "recording stops on 1 camera"}
    assert _stops(db) == [(machine, "ok", {"cause": "signal SIGTERM", **stops, "session": machine})]

    ended = watchfloor(*argv, "--duration", "1")  # in this process
    assert ended.returncode == 0, ended.stderr[-3000:]
    assert _stops(db)[0] == (
        machine,
        "ok",
        {"cause": "duration ended", **stops, "session": machine},
    )
