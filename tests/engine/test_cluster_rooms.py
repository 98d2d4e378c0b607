"""A shared site of two sensing rooms: each room is a lease of its own, so two
``watchfloor engine --name`` processes each run one room; a console attached to the site
lists both rooms and hears both rooms' pictures, each under its room's id; a killed engine's
room is taken over by the other. Real PostgreSQL, real engine processes, simulated rooms."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cluster.status import engines_status
from engine.config import load_site
from engine.runtime import EngineRuntime
from engine.sensing.host import rooms_shown
from engine.sensing.service import SensingUpdated
from engine.store.database import Store
from tests.conftest import write_site
from tests.engine.test_cluster_engines import LEASE_S, Engines, _holders, _wait
from tests.engine.test_sensing_rooms_runtime import TWO_SIMULATED_ROOMS

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def pg_url(tmp_path: Path, migrated_template: dict[str, str]) -> Iterator[str]:
    from tests.conftest import _fresh_database

    yield from _fresh_database("postgresql", tmp_path, migrated_template)


def test_two_engines_each_run_one_room_and_a_console_sees_both(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_file = write_site(tmp_path / "site.toml", extra=TWO_SIMULATED_ROOMS)
    engines = Engines(tmp_path, pg_url, site_file)
    store = Store(pg_url)
    console: EngineRuntime | None = None
    try:
        a = engines.start("server-a")
        engines.start("server-b")

        def one_room_each() -> dict[str, str | None] | None:
            holders = _holders(store)
            rooms = {k: v for k, v in holders.items() if k.startswith("room:")}
            held_by = sorted(str(v) for v in rooms.values())
            return rooms if held_by == ["server-a", "server-b"] else None

        rooms = _wait(one_room_each, 120, "each engine runs one room", engines)
        assert set(rooms) == {"room:lab", "room:office"}

        # Each engine says at its heartbeat which room it runs.
        def said() -> dict[str, tuple[str, ...]] | None:
            lines = {line.name: line.rooms for line in engines_status(store).engines}
            return lines if sorted(sum(lines.values(), ())) == ["lab", "office"] else None

        by_engine = _wait(said, 60, "both engines report their room", engines)
        for name, held in by_engine.items():
            (room_id,) = held
            assert rooms[f"room:{room_id}"] == name

        # An attached console lists both rooms of the site and hears both pictures.
        monkeypatch.setenv("WATCHFLOOR_DATA_DIR", str(tmp_path / "console"))
        console = EngineRuntime(load_site(site_file), Store(pg_url), attach=True, analytics=False)
        heard: dict[str, str] = {}
        lock = threading.Lock()

        def keep(event: SensingUpdated) -> None:
            with lock:
                heard[event.snapshot.room_id] = event.snapshot.room_name

        console.bus.subscribe(SensingUpdated, keep)
        console.start()
        shown = rooms_shown(console.site, attached=True, running=console.sensing.services)
        assert shown == [("lab", "Lab"), ("office", "Front office")]
        assert console.sensing.services == {}  # nothing runs in the console

        def both_heard() -> dict[str, str] | None:
            with lock:
                return dict(heard) if len(heard) == 2 else None

        assert _wait(both_heard, 60, "both rooms' pictures", engines) == {
            "lab": "Lab",
            "office": "Front office",
        }

        # server-a dies: server-b takes its room over, and runs both.
        a_room = next(k for k, v in rooms.items() if v == "server-a")
        a.send_signal(signal.SIGKILL)
        a.wait(30)
        _wait(
            lambda: _holders(store).get(a_room) == "server-b",
            3 * LEASE_S + 10,
            "server-b takes server-a's room over",
            engines,
        )
        with lock:
            heard.clear()
        _wait(both_heard, 60, "both rooms' pictures from server-b", engines)
    finally:
        if console is not None:
            console.stop()
            assert console.store is not None
            console.store.close()
        engines.stop_all()
        store.close()
