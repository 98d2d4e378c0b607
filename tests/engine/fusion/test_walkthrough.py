"""The walkthrough scene's walkers: on the floor plan, seen by each room only inside its
walls, walking from room to room through the door they share."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from engine.config import SensingRoomConfig, SiteConfigError, load_site
from engine.sim.nodes import ABSENT
from engine.sim.walkthrough import InRoom, doors, walkthrough
from tests.conftest import write_site

ROOMS = """
[[rooms]]
id = "lobby"
width_m = 8.0
depth_m = 6.0
height_m = 3.0

[[rooms]]
id = "store"
width_m = 5.0
depth_m = 6.0
height_m = 3.0
origin = { x = 8.0, y = 0.0 }
""" + "".join(
    f'\n[[sensing_nodes]]\nid = "{room}-{n}"\nroom = "{room}"\n'
    f"position = {{ x = {x}, y = 0.1, z = 1.0 }}\n"
    for room in ("lobby", "store")
    for n, x in ((1, 0.1), (2, 4.0))
)


def rooms(tmp_path: Path) -> tuple[SensingRoomConfig, ...]:
    simulated = "\n[sensing]\nsimulate = true\n"  # real nodes would need a port per room
    return load_site(write_site(tmp_path / "site.toml", "", ROOMS + simulated)).rooms


def test_rooms_sharing_a_wall_have_a_door_in_its_middle(tmp_path: Path) -> None:
    (door,) = doors(rooms(tmp_path))
    assert door.rooms == ("lobby", "store") and door.point == (8.0, 3.0)


def test_the_first_walker_goes_into_the_next_room_and_each_room_sees_only_its_own(
    tmp_path: Path,
) -> None:
    lobby, store = rooms(tmp_path)
    walkers = walkthrough((lobby, store), 3, seed=7)
    assert [w.enter_at_s for w in walkers] == [8.0, 14.0, 20.0]
    first = walkers[0]
    assert first.position_at(7.9) == ABSENT and first.floor_at(7.9) is None
    places = [first.floor_at(t / 2) for t in range(16, 400)]
    in_store = [p for p in places if p is not None and store.contains_floor(*p)]
    assert in_store, "walker 1 never reached the store room"
    seen_by_lobby, seen_by_store = InRoom(first, lobby), InRoom(first, store)
    for t in (t / 2 for t in range(16, 400)):
        floor = first.floor_at(t)
        assert floor is not None
        by_lobby, by_store = seen_by_lobby.position_at(t), seen_by_store.position_at(t)
        assert (by_lobby != ABSENT) == lobby.contains_floor(*floor)
        assert (by_store != ABSENT) == store.contains_floor(*floor)
        if by_store != ABSENT:  # in the room's own metres
            assert by_store[0] == pytest.approx(floor[0] - 8.0)
    # Every step between rooms goes through the door.
    for a, b in pairwise(places):
        assert a is not None and b is not None
        if lobby.contains_floor(*a) != lobby.contains_floor(*b):
            assert abs(a[1] - 3.0) < 0.6 and abs(b[1] - 3.0) < 0.6
    again = walkthrough((lobby, store), 3, seed=7)
    assert [w.floor_at(60.0) for w in again] == [w.floor_at(60.0) for w in walkers]


def test_the_scene_is_checked_in_the_site_file(tmp_path: Path) -> None:
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            "",
            ROOMS + '\n[sensing]\nsimulate = true\nscene = "walkthrough"\nwalkers = 3\n',
        )
    )
    assert site.sensing.scene == "walkthrough"
    for sensing, problem in (
        ('simulate = true\nscene = "party"', "expected one of walkthrough, got 'party'"),
        ('scene = "walkthrough"', "needs simulate = true"),
        ('simulate = true\nscene = "walkthrough"\nwalkers = 7', "1 to 5 walkers, got 7"),
    ):
        with pytest.raises(SiteConfigError, match=problem):
            load_site(write_site(tmp_path / "bad.toml", "", ROOMS + f"\n[sensing]\n{sensing}\n"))
