"""What a layout can see, from its geometry: the facts of issue 32 about real layouts."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import load_site
from engine.sensing.falls import RECOMMENDED_HEIGHTS_M
from engine.sensing.grid.capability import room_capability
from engine.sensing.host import sensing_rooms
from engine.sim.sensing_score import simulated_room
from resources import DEMO_SITE
from tests.machine_text import machine_text

CORNERS_AT_2M = {
    "a": (0.0, 0.0, 2.0),
    "b": (5.0, 0.0, 2.0),
    "c": (5.0, 5.0, 2.0),
    "d": (0.0, 5.0, 2.0),
}


def _sim(size: tuple[float, float, float], count: int, heights: tuple[float, ...] | None = None):
    room = simulated_room(size, count) if heights is None else simulated_room(size, count, heights)
    return {node.node_id: node.position for node in room.nodes}


def test_four_corner_nodes_at_two_metres_are_poor_ambiguous_in_the_middle_and_see_no_falls() -> (
    None
):
    cap = room_capability((5.0, 5.0, 2.5), CORNERS_AT_2M)
    assert cap.rating == "poor"
    centre = (np.argmin(np.abs(cap.ys - 2.5)), np.argmin(np.abs(cap.xs - 2.5)))
    # Beside the crossing of the diagonals a body matches other places as well as its own.
    near_centre = cap.ambiguous[centre[0] - 2 : centre[0] + 3, centre[1] - 2 : centre[1] + 3]
    assert near_centre.any()
    assert cap.ambiguous_fraction > 0.25
    assert cap.fall_capable_fraction < 0.05
    assert any("ambiguous" in reason for reason in cap.reasons)
    assert "falls not confirmed in 100% of this room" in cap.advice


def test_the_tuned_eight_node_layout_confirms_falls_over_half_the_floor() -> None:
    cap = room_capability((5.0, 5.0, 2.5), _sim((5.0, 5.0, 2.5), 8, RECOMMENDED_HEIGHTS_M))
    # 0.74 with the standing check alone; a seated body looks like a lying one on a fifth.
    assert 0.45 < cap.fall_capable_fraction < 0.65
    assert 0.1 < cap.seat_limited_fraction < 0.3
    assert cap.within_one_m > 0.9
    assert cap.ambiguous_fraction < 0.05
    assert cap.rating in ("good", "fair")


def test_six_nodes_at_body_height_in_the_demo_room_show_no_falls_and_coarse_placing() -> None:
    # The demo site's layout until round 6: six nodes at 0.9/1.1 m around a 12 x 9 m room.
    cap = room_capability((12.0, 9.0, 3.0), _sim((12.0, 9.0, 3.0), 6))
    assert cap.fall_capable_fraction < 0.1
    assert cap.rating == "poor"
    # The simulator: demo 12x9 room median 0.76 m, p90 3.05 m; 8x6 room with six nodes
    # 0.34 / 0.67 m. The map orders them the same way.
    small = room_capability((8.0, 6.0, 2.7), _sim((8.0, 6.0, 2.7), 6))
    assert small.median_accuracy_m < cap.median_accuracy_m
    assert small.within_one_m > cap.within_one_m


def test_more_well_spread_nodes_never_make_accuracy_worse() -> None:
    size = (6.0, 5.0, 2.5)
    previous = None
    for count in (4, 6, 8, 12, 16):
        cap = room_capability(size, _sim(size, count, RECOMMENDED_HEIGHTS_M))
        figures = (cap.median_accuracy_m, cap.within_half_m, cap.within_one_m)
        if previous is not None:
            assert figures[0] <= previous[0] + 1e-9, count
            assert figures[1] >= previous[1] - 1e-9, count
            assert figures[2] >= previous[2] - 1e-9, count
        previous = figures


def test_a_single_link_places_a_body_only_along_it_and_sees_no_height() -> None:
    cap = room_capability((4.0, 3.0, 2.5), {"a": (0.1, 1.5, 1.0), "b": (3.9, 1.5, 1.0)})
    row = int(np.argmin(np.abs(cap.ys - 1.5)))
    on_link = cap.accuracy_m[row, 2:-2]
    assert np.all(np.isfinite(on_link)) and np.all(on_link > 1.0)  # blurred along the link
    assert not np.isfinite(cap.accuracy_m[0, 0])  # a corner cell no zone reaches
    assert not cap.fall_capable.any()


def test_words_and_json_hold_no_machine_text() -> None:
    cap = room_capability((12.0, 9.0, 3.0), _sim((12.0, 9.0, 3.0), 6))
    for text in (*cap.reasons, cap.advice):
        assert machine_text(text) is None, text
    data = cap.as_json()
    assert data["rating"] == cap.rating
    assert len(data["accuracy_m_map"]) == cap.ys.size
    assert len(data["accuracy_m_map"][0]) == cap.xs.size


@pytest.mark.parametrize(
    ("size", "nodes", "words"),
    [
        ((5.0, 5.0, 2.5), {"a": (0.0, 0.0, 1.0)}, "at least two nodes"),
        ((5.0, 5.0, 2.5), {"a": (0.0, 0.0, 1.0), "b": (6.0, 0.0, 1.0)}, "outside"),
        ((5.0, 5.0, 2.5), {"a": (1.0, 1.0, 1.0), "b": (1.0, 1.0, 1.0)}, "same place"),
        ((0.0, 5.0, 2.5), {"a": (0.0, 0.0, 1.0), "b": (0.0, 1.0, 1.0)}, "0.5-100 m"),
    ],
)
def test_bad_layouts_are_named(size, nodes, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=words):
        room_capability(size, nodes)


def test_the_advisor_places_nodes_on_the_walls_at_two_heights_and_beats_the_demo_layout() -> None:
    from engine.sensing.grid.capability import advise_layout, layout_score

    size = (12.0, 9.0, 3.0)
    advice = advise_layout(size, 8)
    assert len(advice.positions) == len(advice.places) == 8
    assert advice.compared >= 8
    for (x, y, z), place in zip(advice.positions, advice.places, strict=True):
        assert 0.0 <= x <= 12.0 and 0.0 <= y <= 9.0
        assert min(x, y, 12.0 - x, 9.0 - y) <= 0.1 + 1e-9  # on a wall
        assert z in (0.15, 1.9)
        assert ("skirting" in place) == (z == 0.15) and " m high" in place
        assert machine_text(place) is None, place
    assert sorted(z for *_, z in advice.positions) == [0.15] * 4 + [1.9] * 4
    demo = room_capability(size, _sim(size, 6))  # six nodes at 0.9/1.1 m: no height
    assert layout_score(advice.capability) > layout_score(demo)
    assert advice.capability.fall_capable_fraction > 0.01 > demo.fall_capable_fraction
    # It is the best of its candidates: a plain perimeter layout of the same nodes is no better.
    plain = room_capability(size, _sim(size, 8, RECOMMENDED_HEIGHTS_M))
    assert layout_score(advice.capability) >= layout_score(plain) - 0.05


@pytest.mark.parametrize(
    ("size", "count", "words"),
    [
        ((5.0, 5.0, 2.5), 2, "3-16 nodes"),
        ((5.0, 5.0, 2.5), 17, "3-16 nodes"),
        ((5.0, 5.0, 0.6), 4, "no room for nodes at two heights"),
        ((5.0, 5.0), 4, "width, depth and height"),
    ],
)
def test_the_advisor_says_what_is_wrong(size: tuple[float, ...], count: int, words: str) -> None:
    from engine.sensing.grid.capability import advise_layout

    with pytest.raises(ValueError, match=words):
        advise_layout(size, count)


def test_the_demo_site_uses_the_advised_layout() -> None:
    from engine.sensing.grid.capability import advise_layout

    (room,) = sensing_rooms(load_site(DEMO_SITE))
    advised = advise_layout(room.size, len(room.nodes))
    assert sorted(n.position for n in room.nodes) == sorted(advised.positions)
    cap = room_capability(room.size, {n.node_id: n.position for n in room.nodes}, room.channel)
    # 77 % with the standing check alone, 25 % with the seated one; 9 % where the capable
    # floor is not specks smaller than the error of a body's place.
    assert cap.rating in ("good", "fair") and 0.05 < cap.fall_capable_fraction < 0.15
    assert cap.seat_limited_fraction > 0.4
    assert "sitting down there looks to these links like one falling" in cap.advice


def test_the_demo_sites_comment_gives_the_figures_sense_plan_gives_its_layout() -> None:
    """resources/demo_site.toml says what `watchfloor sense plan` makes of its nodes; it said
    falls were confirmed in about three quarters of the floor (the standing check alone)."""
    import re

    (room,) = sensing_rooms(load_site(DEMO_SITE))
    cap = room_capability(room.size, {n.node_id: n.position for n in room.nodes}, room.channel)
    comment = " ".join(
        line.removeprefix("#").strip()
        for line in DEMO_SITE.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    )
    said = re.search(
        r'rates this layout "(\w+)": expected error median ([\d.]+) m \(within 0\.5 m over '
        r"(\d+)% of the floor\), falls confirmed in (\d+)% of it",
        comment,
    )
    assert said is not None, comment
    assert said.groups() == (
        cap.rating,
        f"{cap.median_accuracy_m:.2f}",
        f"{cap.within_half_m * 100:.0f}",
        f"{cap.fall_capable_fraction * 100:.0f}",
    )


def test_no_fall_is_confirmed_where_a_seated_body_looks_like_a_lying_one() -> None:
    # The false fall alerts of the hidden rooms were sit-downs at spots the map called
    # fall-capable: there a seated body (0.5-0.7 m) changed the links as a lying one did.
    from engine.sensing.grid import capability as c

    (room,) = sensing_rooms(load_site(DEMO_SITE))
    nodes = {n.node_id: n.position for n in room.nodes}
    cap = room_capability(room.size, nodes, room.channel)
    yy, xx = np.meshgrid(cap.ys, cap.xs, indexing="ij")
    floor = np.stack([xx.ravel(), yy.ravel()], axis=1)
    positions = [np.asarray(p, dtype=np.float64) for p in nodes.values()]
    links = [(a, b) for i, a in enumerate(positions) for b in positions[i + 1 :]]
    wavelength = c.wavelength_m(room.channel)
    seated, _ = c._unit_rows(
        c._band_pattern(floor, links, wavelength, c.SEATED_BAND_M, room.size[2])
    )
    lying, _ = c._unit_rows(c._band_pattern(floor, links, wavelength, c.LYING_BAND_M, room.size[2]))
    alike = (np.sum(seated * lying, axis=1) > 1.0 - c.FALL_SCORE_MIN).reshape(cap.ys.size, -1)
    assert alike.any()
    assert not (alike & cap.fall_capable).any()
    # Those cells tell standing from lying: the seated check is what withholds them.
    assert (alike & cap.seat_limited).any()


def test_a_capable_speck_is_no_fall_area_and_a_capable_patch_is() -> None:
    from engine.sensing.grid.capability import FALL_AREA_RADIUS_M, _fall_area

    shape = (12, 12)
    capable = np.zeros(shape, dtype=bool)
    capable[2, 2] = True  # a speck: a fall beside it is placed off it, a sit-down on it
    capable[5:10, 5:10] = True  # a patch 1.25 m across at 0.25 m cells
    area = _fall_area(capable.ravel(), shape, 0.25).reshape(shape)
    assert not area[2, 2]
    assert area[7, 7] and area[6, 7] and area[7, 5]  # its middle and the middle of a side
    assert not area[5, 5]  # a corner: most of the floor within 0.5 m is not capable
    assert not (area & ~capable).any()  # the area never grows past the capable cells
    assert FALL_AREA_RADIUS_M == 0.5
