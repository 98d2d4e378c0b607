"""Falls only where the layout can confirm them, and ghosts that never become people.

Tick-level runs of the real sensing service on simulated time (see test_service): the
simulator's walker falls, the real detector confirms it, and the room's fall policy and its
layout's capability map (engine.sensing.grid.capability) decide whether it is stored."""

from __future__ import annotations

import dataclasses

import pytest

from engine.bus import EventBus
from engine.sensing.falls import FallAlerts, FallPolicy
from engine.sensing.grid.capability import layout_capability
from engine.sensing.service import NodeSpec, RoomSpec, SensingService, SensingUpdated
from engine.sim.nodes import EnteringWalker, Room, ScriptedWalker, Simulator, sim_mac
from engine.sim.postures import Fall
from engine.sim.sensing_score import simulated_room
from tests.engine.sensing.test_service import TickDriver, make_service, simulator

SIZE = (5.0, 5.0, 2.5)
ENTER_S = 4.0
FALL_AFTER_S = 8.0  # after walking in: the detector has seen the walker standing first
RUN_S = 30.0  # the fall is confirmed about 9 s after it


def _room(heights: tuple[float, ...], nodes: int, alerts: FallAlerts) -> RoomSpec:
    room = simulated_room(SIZE, nodes, heights)
    return dataclasses.replace(room, falls=FallPolicy(alerts=alerts))


def _fall_run(room: RoomSpec, x: float, y: float) -> tuple[SensingService, list[str], Fall]:
    """A walker loops a 2.5 × 1 m rectangle around (x, y) and falls FALL_AFTER_S after
    walking in; returns the service, the stored kinds and the fall."""
    walk = ScriptedWalker(
        [(x - 1.5, y - 1.0), (x + 1.0, y - 1.0), (x + 1.0, y), (x - 1.5, y)], 0.8, loop=True
    )
    fall = Fall(walk, FALL_AFTER_S, room=Room(*SIZE))
    bus = EventBus()
    service = make_service(bus, room=room)
    driver = TickDriver(service, simulator(room, [EnteringWalker(fall, ENTER_S)]), bus)
    driver.run_until(RUN_S)
    return service, driver.kinds(), fall


def _capable(room: RoomSpec, fall: Fall) -> bool:
    capability = layout_capability(
        room.size, tuple((n.node_id, n.position) for n in room.nodes), room.channel
    )
    x, y, _ = fall.position_at(RUN_S)
    return capability.fall_capable_at(x, y)


def test_a_fall_where_the_layout_sees_height_is_alerted() -> None:
    room = _room((0.15, 1.9), 8, "confirmable")
    # Lands at 1.3, 1.8 m: there a lying body differs from a standing and a seated one.
    service, kinds, fall = _fall_run(room, 2.8, 2.8)
    assert _capable(room, fall), "the scene's landing spot is one the layout can confirm"
    assert kinds.count("sensing.fall_detected") == 1
    assert service.report()["falls_withheld"] == 0


@pytest.mark.parametrize(
    ("heights", "nodes", "centre"),
    [
        ((0.15, 1.9), 8, (1.6, 1.2)),  # lands in the south-west corner, beside two nodes
        ((0.15, 1.9), 8, (2.8, 1.4)),  # lands 0.4 m from the south wall
    ],
)
def test_a_fall_the_layout_cannot_confirm_is_not_alerted(
    heights: tuple[float, ...], nodes: int, centre: tuple[float, float]
) -> None:
    # The detector alone calls these falls (policy "everywhere" stores them); with the
    # default policy they are withheld and counted, so nobody is sent running on a guess.
    everywhere, kinds, fall = _fall_run(_room(heights, nodes, "everywhere"), *centre)
    assert kinds.count("sensing.fall_detected") == 1
    room = _room(heights, nodes, "confirmable")
    assert not _capable(room, fall)
    service, kinds, _ = _fall_run(room, *centre)
    assert "sensing.fall_detected" not in kinds
    assert service.report()["falls_withheld"] == 1
    assert everywhere.report()["falls_withheld"] == 0


def test_fall_alerts_off_store_no_fall() -> None:
    service, kinds, _ = _fall_run(_room((0.15, 1.9), 8, "off"), 2.5, 2.5)
    assert "sensing.fall_detected" not in kinds
    assert service.report()["falls_withheld"] == 1


# Four nodes in the corners at 2 m: the two diagonals are the only links across the middle,
# so a person near their crossing also appears mirrored across it.
CORNERS = RoomSpec(
    "corners",
    "Corners at 2 m",
    SIZE,
    tuple(
        NodeSpec(f"n{i}", f"n{i}", (x, y, 2.0), sim_mac(i))
        for i, (x, y) in enumerate([(0.0, 0.0), (5.0, 0.0), (5.0, 5.0), (0.0, 5.0)], start=1)
    ),
)


class _Counting(TickDriver):
    """Also notes, per tick, how many history events had been stored by then."""

    def __init__(self, service: SensingService, sim: Simulator, bus: EventBus) -> None:
        super().__init__(service, sim, bus)
        self.stored_by_tick: list[int] = []
        bus.subscribe(SensingUpdated, lambda _e: self.stored_by_tick.append(len(self.records)))


def _walk_the_diagonal(service: SensingService, bus: EventBus) -> _Counting:
    walker = ScriptedWalker([(1.5, 1.5), (3.5, 3.5)], 0.8, loop=True)
    driver = _Counting(service, simulator(CORNERS, [EnteringWalker(walker, ENTER_S)]), bus)
    driver.run_until(RUN_S)
    return driver


def test_a_blob_only_seen_where_links_cross_is_uncertain_until_placed_elsewhere() -> None:
    # Walking the diagonal, the person crosses the middle, where the two diagonals are the
    # only links and a place looks like its mirror image: a blob first seen there may be
    # a ghost. It is drawn as uncertain, and becomes history only once it has been
    # detected somewhere the layout places a person unambiguously.
    bus = EventBus()
    service = make_service(bus, room=CORNERS)
    driver = _walk_the_diagonal(service, bus)
    assert len(driver.published) == len(driver.stored_by_tick)
    uncertain = [b for s in driver.published for b in s.blobs if b.ambiguous]
    assert uncertain, "the scene shows an unplaced blob"
    assert all(b.uncertainty_m is not None for s in driver.published for b in s.blobs)
    placed_at: dict[int, int] = {}
    for tick, snapshot in enumerate(driver.published):
        for blob in snapshot.blobs:
            if blob.track_id in placed_at:
                assert not blob.ambiguous, "once placed, a blob stays placed"
            elif not blob.ambiguous:
                placed_at[blob.track_id] = tick
    for record in driver.records:
        if record.kind == "sensing.blob_appeared":
            assert record.blob_id in placed_at
            stored_at = next(
                tick
                for tick, count in enumerate(driver.stored_by_tick)
                if count > driver.records.index(record)
            )
            assert stored_at >= placed_at[record.blob_id]


def test_the_snapshot_carries_the_layouts_coverage_and_health() -> None:
    bus = EventBus()
    service = make_service(bus, room=_room((0.9, 1.1), 6, "confirmable"))
    coverage = service.coverage()
    assert coverage.rating in {"good", "fair", "poor"}
    assert coverage.fall_capable_fraction == 0.0
    assert "falls cannot be confirmed anywhere in this room, so none is alerted" in coverage.health
    assert "skirting height" in coverage.health
    assert coverage.accuracy_m.shape == (coverage.ys.size, coverage.xs.size)
    assert service.coverage() is coverage  # rated once


def test_a_layout_that_cannot_be_rated_says_why_and_withholds_falls() -> None:
    outside = dataclasses.replace(
        CORNERS, nodes=(*CORNERS.nodes[:3], NodeSpec("n4", "n4", (-1.0, 5.0, 2.0), sim_mac(4)))
    )
    coverage = make_service(EventBus(), room=outside).coverage()
    assert coverage.problem is not None and "outside" in coverage.problem
    assert coverage.health.startswith("The node layout cannot be rated (node n4")
    assert coverage.health.endswith("no fall is alerted until it can.")


@pytest.mark.parametrize(
    ("alerts", "fraction", "expected"),
    [
        ("confirmable", 0.38, "falls are confirmed in 38% of this room and alerted only there"),
        ("confirmable", 1.0, "falls are confirmed and alerted across the room"),
        ("everywhere", 0.38, "though this layout confirms them in only 38% of the room"),
        ("off", 0.38, "fall alerts are off for this room (site file)"),
    ],
)
def test_the_health_line_says_where_falls_are_alerted(
    alerts: FallAlerts, fraction: float, expected: str
) -> None:
    from engine.sensing.grid.capability import health_line

    line = health_line("fair", fraction, "add a node", FallPolicy(alerts=alerts))
    assert line.startswith("Fair layout; ")
    assert expected in line


def test_fall_policies_are_checked() -> None:
    with pytest.raises(ValueError, match="fall alerts must be one of"):
        FallPolicy(alerts="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="3-14 s"):
        FallPolicy(confirm_s=20.0)
