"""Scoring simulated rooms (engine.sim.sensing_score): the figures the sensing benchmarks
report, on hand-made snapshots whose answer is known."""

from __future__ import annotations

import pytest

from engine.sensing.view import BlobView, SensingSnapshot
from engine.sim.sensing_score import Scorer

Vec3 = tuple[float, float, float]


def _snapshot(
    t_s: float, truth: tuple[Vec3, ...], blobs: list[tuple[int, Vec3]]
) -> SensingSnapshot:
    return SensingSnapshot(
        room_id="r",
        room_name="Room",
        room_size=(10.0, 10.0, 3.0),
        simulated=True,
        t_s=t_s,
        nodes=(),
        links=(),
        blobs=tuple(
            BlobView(track_id=i, position=p, velocity=(0.0, 0.0, 0.0), value=1.0, coasting=False)
            for i, p in blobs
        ),
        voxels=None,
        channel=6,
        wavelength_m=0.125,
        truth=truth,
    )


def test_walkers_apart_count_as_tracked_only_with_a_blob_of_their_own_within_1_m() -> None:
    scorer = Scorer(walkers=2)
    apart = ((1.0, 1.0, 1.0), (5.0, 1.0, 1.0))  # 4 m apart
    together = ((1.0, 1.0, 1.0), (1.5, 1.0, 1.0))  # 0.5 m: not counted
    scorer.add(_snapshot(0.0, apart, [(1, (1.2, 1.0, 1.0)), (2, (5.3, 1.0, 1.0))]))  # both
    scorer.add(_snapshot(0.1, apart, [(1, (1.2, 1.0, 1.0))]))  # only the first
    scorer.add(_snapshot(0.2, apart, [(1, (1.2, 1.0, 1.0)), (2, (7.0, 1.0, 1.0))]))  # 2 m off
    scorer.add(_snapshot(0.3, together, [(1, (1.2, 1.0, 1.0))]))
    summary = scorer.summary()
    # Six apart walker-ticks: tracked on ticks 0 (both), 1 (first), 2 (first).
    assert summary["tracked_when_apart"] == round(4 / 6, 4)
    assert Scorer(walkers=1).summary()["tracked_when_apart"] is None  # nothing scored yet


def test_a_confirmable_fall_spot_is_one_the_layout_can_confirm() -> None:
    from engine.sensing.grid.capability import layout_capability
    from engine.sim.sensing_score import advised_room, confirmable_fall_spot, simulated_room

    room = advised_room((12.0, 9.0, 3.0), 10)  # the demo room's layout
    capability = layout_capability(
        room.size, tuple((n.node_id, n.position) for n in room.nodes), room.channel
    )
    spots = {confirmable_fall_spot(room, seed) for seed in range(20)}
    assert len(spots) > 10  # drawn over the whole capable floor
    for spot in spots:
        assert spot is not None and capability.fall_capable_at(*spot)
        assert 0.3 <= spot[0] <= 11.7 and 0.3 <= spot[1] <= 8.7
    assert confirmable_fall_spot(room, 3) == confirmable_fall_spot(room, 3)
    # nodes all near body height see no lying body: nowhere to confirm a fall
    assert confirmable_fall_spot(simulated_room((5.0, 5.0, 2.5), 4, (1.0, 1.1)), 0) is None


def test_a_simulated_walk_lasts_its_duration_however_late_the_nodes_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On a busy machine the spawned node process takes seconds to start, and the walk was
    # timed from the service's start: CI scored 45 walker ticks of a 6 s walk instead of 60.
    import threading

    from engine.sim.room import NodeSimulationProcess
    from engine.sim.sensing_score import simulate_room, simulated_room

    start = NodeSimulationProcess.start

    def slow_spawn(self: NodeSimulationProcess) -> None:  # as a loaded machine spawns
        threading.Timer(2.0, start, args=(self,)).start()

    monkeypatch.setattr(NodeSimulationProcess, "start", slow_spawn)
    report = simulate_room(
        simulated_room((5.0, 5.0, 2.5), 4), walkers=1, duration_s=3.0, seed=1, enter_after_s=1.0
    )
    assert report["walker_ticks"] >= 25  # 10 ticks a second for the 3 s of the walk
