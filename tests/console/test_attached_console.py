"""What a console attached to a shared site (``watchfloor --attach``) lists and says: the
site file's cameras and room (its engines run them; this console runs none), which engine
holds the room, and wording that names the site's engines where a service runs there.
Plain data stands in for the attached runtime (the real one is in the PostgreSQL tests of
tests/engine/test_cluster_attached.py and tests/e2e/test_screenshots.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from console.backends.incidents import IncidentsBackend
from console.backends.sensing import SensingBackend
from console.pane_host import _cameras_of, _rooms_of
from engine.cluster.status import RUNNING, STOPPED, EngineLine
from engine.config import load_site
from tests.conftest import write_site

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
CAMERAS = (
    '[[cameras]]\nid = "gate"\nname = "Front gate"\nurl = "gate.mp4"\n'
    '[[cameras]]\nid = "yard"\nname = "Yard"\nurl = "yard.mp4"\n'
)
ROOM = (
    "[room]\nwidth_m = 5.0\ndepth_m = 5.0\nheight_m = 2.5\n"
    "[sensing]\nsimulate = {simulate}\n"
    '[[sensing_nodes]]\nid = "n1"\nname = "Node 1"\nposition = {{ x = 0.1, y = 0.1, z = 0.8 }}\n'
    '[[sensing_nodes]]\nid = "n2"\nname = "Node 2"\nposition = {{ x = 4.9, y = 4.9, z = 1.3 }}\n'
)


def _line(name: str, state: str, rooms: tuple[str, ...]) -> EngineLine:
    return EngineLine(
        site="Test site",
        name=name,
        host="rack-1",
        pid=1,
        state=state,
        capacity=None,
        started_at=T0,
        last_heard_at=T0,
        clock_offset_ms=0.0,
        cameras=(),
        rooms=rooms,
        site_services=False,
    )


def _attached(tmp_path: Path, *, room: bool = True, simulate: bool = False) -> SimpleNamespace:
    extra = ROOM.format(simulate=str(simulate).lower()) if room else ""
    site = load_site(write_site(tmp_path / "site.toml", CAMERAS, extra))
    return SimpleNamespace(
        attached=True,
        site=site,
        cameras=SimpleNamespace(sources={}),
        sensing=SimpleNamespace(services={}),
        site_services=SimpleNamespace(incidents=None),
        shared=SimpleNamespace(
            follower=SimpleNamespace(
                engines=(
                    _line("server-b", STOPPED, ("room",)),
                    _line("server-a", RUNNING, ("room",)),
                )
            )
        ),
    )


def test_an_attached_console_lists_the_site_files_cameras_and_room(tmp_path: Path) -> None:
    runtime = _attached(tmp_path)
    assert _cameras_of(runtime) == [("gate", "Front gate"), ("yard", "Yard")]  # type: ignore[arg-type]
    assert _rooms_of(runtime) == [("room", "Test site sensing")]  # type: ignore[arg-type]
    assert SensingBackend(runtime, None).rooms() == [("room", "Test site sensing")]  # type: ignore[arg-type]
    without = _attached(tmp_path, room=False)
    assert _rooms_of(without) == []  # type: ignore[arg-type]
    assert SensingBackend(without, None).runs_elsewhere() == ""  # type: ignore[arg-type]


def test_a_console_running_nothing_and_not_attached_lists_nothing(tmp_path: Path) -> None:
    runtime = _attached(tmp_path)
    runtime.attached = False
    assert _cameras_of(runtime) == [] and _rooms_of(runtime) == []  # type: ignore[arg-type]
    backend = SensingBackend(runtime, None)  # type: ignore[arg-type]
    assert backend.runs_elsewhere() == ""
    assert backend.pairing_unavailable() == "This site has no sensing room"


def test_the_attached_sensing_backend_names_the_engine_holding_the_room(tmp_path: Path) -> None:
    runtime = _attached(tmp_path)
    backend = SensingBackend(runtime, None)  # type: ignore[arg-type]
    assert backend.runs_elsewhere() == (
        "The room runs on engine server-a, not in this attached console: blob explanations "
        "and node pairing are done there"
    )
    assert backend.pairing_unavailable().startswith("Pairing is opened on engine server-a")
    assert backend.explain("room", 7) is None
    runtime.shared.follower.engines = ()  # no engine holds it (yet)
    assert "on the engine holding the room" in backend.runs_elsewhere()
    simulated = SensingBackend(_attached(tmp_path, simulate=True), None)  # type: ignore[arg-type]
    assert simulated.pairing_unavailable() == "The room is simulated: no real nodes to pair"


def test_incidents_in_an_attached_console_say_where_the_service_runs(tmp_path: Path) -> None:
    backend = IncidentsBackend(_attached(tmp_path), None, None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError) as raised:
        backend.risk_map()
    assert str(raised.value) == (
        "the risk map needs the incident service, which runs on the site's engines, not in "
        "this attached console"
    )


TWO_ROOMS = (
    "[sensing]\nsimulate = true\n"
    '[[rooms]]\nid = "lab"\nname = "Lab"\nwidth_m = 5.0\ndepth_m = 5.0\nheight_m = 2.5\n'
    '[[rooms]]\nid = "office"\nname = "Front office"\nwidth_m = 5.0\ndepth_m = 5.0\n'
    "height_m = 2.5\n"
    + "".join(
        f'[[sensing_nodes]]\nid = "{room}{i}"\nroom = "{room}"\n'
        f"position = {{ x = {x}, y = 0.1, z = 1.0 }}\n"
        for room in ("lab", "office")
        for i, x in ((1, 0.1), (2, 4.9))
    )
)


def test_an_attached_console_lists_every_room_and_names_each_ones_engine(
    tmp_path: Path,
) -> None:
    site = load_site(write_site(tmp_path / "site.toml", CAMERAS, TWO_ROOMS))
    runtime = SimpleNamespace(
        attached=True,
        site=site,
        cameras=SimpleNamespace(sources={}),
        sensing=SimpleNamespace(services={}),
        shared=SimpleNamespace(
            follower=SimpleNamespace(
                engines=(
                    _line("server-a", RUNNING, ("lab",)),
                    _line("server-b", RUNNING, ("office",)),
                )
            )
        ),
    )
    assert _rooms_of(runtime) == [("lab", "Lab"), ("office", "Front office")]  # type: ignore[arg-type]
    backend = SensingBackend(runtime, None)  # type: ignore[arg-type]
    assert backend.rooms() == [("lab", "Lab"), ("office", "Front office")]
    assert backend.runs_elsewhere("lab").startswith("The room runs on engine server-a,")
    assert backend.runs_elsewhere("office").startswith("The room runs on engine server-b,")
    assert backend.runs_elsewhere().startswith("The room runs on engines server-a, server-b,")
    assert backend.explain("lab", 7) is None  # explained on server-a
