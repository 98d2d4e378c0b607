"""Fall detection: the detector on synthetic track series, the postures' trajectories, and the
own-link-activity helpers."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

from engine.sensing.falls import (
    FallCancelled,
    FallConfirmed,
    FallDetector,
    FallEvent,
    FallSettings,
    FallSuspected,
    HeightEstimator,
    LinkChangeMeter,
    TrackObservation,
    track_link_activity,
)
from engine.sensing.grid.fresnel import GridModel, VoxelGrid, fresnel_zone_number
from engine.sim.nodes import (
    Room,
    ScriptedWalker,
    SimNode,
    Simulator,
    Walker,
)
from engine.sim.postures import DroppedObject, Fall, LieDown, SitDown, walk_to_fall

TICK_S = 0.1
FALL_AT_S = 10.0
ROOM = Room(5.0, 5.0, 2.5)

Height = Callable[[float], float]


def fall_height(t: float, start: float = FALL_AT_S, duration: float = 0.6) -> float:
    """Standing 1.05 m, then down to 0.2 m with constant acceleration, then lying."""
    u = min(max((t - start) / duration, 0.0), 1.0)
    return 1.05 - 0.85 * u * u


def noisy(height: Height, sigma: float = 0.05, seed: int = 0) -> Height:
    rng = np.random.default_rng(seed)
    cache: dict[float, float] = {}

    def measured(t: float) -> float:
        key = round(t, 3)
        if key not in cache:
            cache[key] = height(t) + float(rng.normal(0.0, sigma))
        return cache[key]

    return measured


def drive(
    height: Height,
    *,
    until_s: float = 40.0,
    activity: Callable[[float], float] = lambda t: 0.0 if t > FALL_AT_S + 1 else 0.3,
    lost_after_s: float | None = None,
    xy: Callable[[float], tuple[float, float]] = lambda t: (2.0, 2.0),
    settings: FallSettings | None = None,
    others: Callable[[float], list[TrackObservation]] = lambda t: [],
) -> list[tuple[float, FallEvent]]:
    """Run one track (id 1) through a detector at 10 Hz; its events with their tick times."""
    detector = FallDetector(settings)
    events: list[tuple[float, FallEvent]] = []
    present = True
    for i in range(int(until_s / TICK_S) + 1):
        t = i * TICK_S
        observations = list(others(t))
        ended: list[int] = []
        if present and lost_after_s is not None and t >= lost_after_s:
            present = False
            ended = [1]
        if present:
            x, y = xy(t)
            observations.insert(0, TrackObservation(1, (x, y, height(t)), activity(t)))
        events.extend((t, e) for e in detector.update(t, observations, ended))
    return events


def kinds(events: list[tuple[float, FallEvent]]) -> list[type]:
    return [type(e) for _, e in events]


def test_a_fall_is_suspected_at_the_descent_and_confirmed_within_15_s() -> None:
    events = drive(noisy(fall_height))
    assert kinds(events) == [FallSuspected, FallConfirmed]
    (t_suspected, suspected), (t_confirmed, confirmed) = events
    assert FALL_AT_S < t_suspected <= FALL_AT_S + 1.5
    assert isinstance(suspected, FallSuspected) and suspected.speed_m_s < -1.5
    assert t_confirmed - FALL_AT_S <= 15.0
    assert isinstance(confirmed, FallConfirmed) and not confirmed.lost


@pytest.mark.parametrize(
    "height",
    [
        # Sitting down: 1.0 → 0.6 m in 1.2 s (cosine), then seated.
        lambda t: 1.0 - 0.4 * (1 - math.cos(math.pi * min(max((t - 10) / 1.2, 0), 1))) / 2,
        # Lying down slowly on a sofa: 1.0 → 0.45 m in 4 s.
        lambda t: 1.0 - 0.55 * (1 - math.cos(math.pi * min(max((t - 10) / 4.0, 0), 1))) / 2,
        # Standing and walking: z jitters around 1.0 m.
        lambda t: 1.0,
    ],
    ids=["sit", "lie-slowly", "standing"],
)
def test_no_alert_for_sitting_lying_slowly_or_standing(height: Height) -> None:
    for seed in range(5):
        events = drive(noisy(height, sigma=0.08, seed=seed), activity=lambda t: 0.0)
        assert FallConfirmed not in kinds(events)
        assert FallSuspected not in kinds(events)


def test_a_slow_descent_with_a_single_noisy_spike_is_not_a_fall() -> None:
    # A one-tick jump of the plateau to 1.6 m while walking, then back: the running median
    # removes it, so there is no 0.8 m drop.
    def height(t: float) -> float:
        return 1.6 if abs(t - 12.0) < 0.05 else 1.0

    assert drive(height) == []


def test_getting_up_cancels_the_suspicion() -> None:
    def height(t: float) -> float:
        return fall_height(t) if t < 14.0 else 1.0  # lay 3 s, then stood up

    events = drive(height)
    assert kinds(events) == [FallSuspected, FallCancelled]
    cancelled = events[-1][1]
    assert isinstance(cancelled, FallCancelled) and cancelled.reason == "got up"
    assert events[-1][0] <= 15.5


def test_walking_away_from_the_spot_cancels() -> None:
    def xy(t: float) -> tuple[float, float]:
        return (2.0 + max(t - 14.0, 0.0) * 0.5, 2.0)  # crawls/walks off after 4 s

    events = drive(fall_height, xy=xy)
    assert kinds(events) == [FallSuspected, FallCancelled]
    cancelled = events[-1][1]
    assert isinstance(cancelled, FallCancelled) and cancelled.reason == "moved away"


def test_a_lost_track_after_the_descent_confirms() -> None:
    # The body on the floor changes no link: the tracker ends the blob 2 s after the fall.
    events = drive(fall_height, lost_after_s=FALL_AT_S + 2.0)
    assert kinds(events) == [FallSuspected, FallConfirmed]
    t_confirmed, confirmed = events[-1]
    assert isinstance(confirmed, FallConfirmed) and confirmed.lost
    assert t_confirmed - FALL_AT_S <= 15.0


def test_a_person_found_again_standing_near_the_spot_cancels_a_lost_fall() -> None:
    def others(t: float) -> list[TrackObservation]:
        if t < 14.0:
            return []
        return [TrackObservation(7, (2.3, 2.0, 1.0), 0.3)]  # a new track, standing, at the spot

    events = drive(fall_height, lost_after_s=FALL_AT_S + 2.0, others=others)
    assert kinds(events) == [FallSuspected, FallCancelled]
    cancelled = events[-1][1]
    assert isinstance(cancelled, FallCancelled) and cancelled.reason == "got up"


def test_a_bystander_elsewhere_does_not_cancel() -> None:
    def others(t: float) -> list[TrackObservation]:
        return [TrackObservation(5, (4.0, 4.0, 1.0), 0.3)]  # in the room all along

    events = drive(fall_height, lost_after_s=FALL_AT_S + 2.0, others=others)
    assert kinds(events) == [FallSuspected, FallConfirmed]


def test_moving_on_the_floor_is_not_confirmed_until_still() -> None:
    def activity(t: float) -> float:
        return 0.3 if t < 20.0 else 0.0  # struggles for 10 s, then lies still

    events = drive(fall_height, activity=activity)
    assert kinds(events) == [FallSuspected, FallConfirmed]
    assert events[-1][0] >= 20.0 + FallSettings().confirm_s * FallSettings().still_fraction


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        FallSettings(descent_speed_m_s=1.5)
    with pytest.raises(ValueError):
        FallSettings(getup_height_m=0.4)
    with pytest.raises(ValueError):
        FallSettings(still_fraction=0.0)


def test_time_must_not_go_backwards() -> None:
    detector = FallDetector()
    detector.update(1.0, [])
    with pytest.raises(ValueError):
        detector.update(0.5, [])


# ------------------------------------------------------------------------------- postures


def _standing(x: float = 2.5, y: float = 2.5) -> ScriptedWalker:
    return ScriptedWalker([(x, y)], 1.0)


def _heights(walker: Walker, start: float, stop: float, step: float = 0.01) -> np.ndarray:
    times = np.arange(start, stop, step)
    return np.array([walker.position_at(float(t))[2] for t in times])


def _peak_descent_and_drop(walker: Walker, at_s: float) -> tuple[float, float]:
    """The most negative vertical speed (m/s) and the largest drop within 1 s (m)."""
    step = 0.01
    z = _heights(walker, at_s - 1.0, at_s + 8.0, step)
    speed = float(np.min(np.diff(z) / step))
    window = int(1.0 / step)
    drop = max(float(z[i] - z[i : i + window + 1].min()) for i in range(len(z) - window))
    return speed, drop


@pytest.mark.parametrize("lying", [0.15, 0.2])
@pytest.mark.parametrize("duration", [0.5, 0.6, 0.8])
def test_a_fall_meets_the_fall_definition(lying: float, duration: float) -> None:
    fall = Fall(_standing(), 5.0, lying_height_m=lying, duration_s=duration, room=ROOM)
    speed, drop = _peak_descent_and_drop(fall, 5.0)
    assert -4.0 <= speed < -1.5
    assert drop > 0.8 - 1e-9 if lying <= 0.2 else drop > 0.74
    assert fall.position_at(30.0)[2] == pytest.approx(lying)
    assert fall.velocity_at(30.0) == (0.0, 0.0, 0.0)
    x0, y0, _ = fall.position_at(4.0)
    x1, y1, _ = fall.position_at(30.0)
    assert 0.3 <= math.hypot(x1 - x0, y1 - y0) <= 0.8  # moved a little in the fall direction


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("spot", [(2.5, 2.5), (0.3, 0.3), (4.7, 1.0), (1.0, 4.7)])
def test_a_walk_to_a_fall_lands_on_the_spot_at_a_walking_pace(
    seed: int, spot: tuple[float, float]
) -> None:
    walker = walk_to_fall(ROOM, spot, 8.0, seed)
    fall = Fall(walker, 8.0, room=ROOM)
    assert fall.position_at(30.0) == pytest.approx((*spot, 0.2), abs=1e-6)
    times = np.arange(0.0, 8.0, 0.05)
    for t in times:  # walking, inside the walls, until the fall
        x, y, z = walker.position_at(float(t))
        assert 0.3 - 1e-9 <= x <= 4.7 + 1e-9 and 0.3 - 1e-9 <= y <= 4.7 + 1e-9 and z == 1.0
    speed = math.hypot(*walker.velocity_at(7.9)[:2])
    assert 0.0 < speed <= 1.2 + 1e-9
    start, at_fall = walker.position_at(0.0), walker.position_at(8.0)
    assert math.dist(start[:2], at_fall[:2]) == pytest.approx(speed * 8.0)
    # falls the way it walks, so the slide ends on the spot
    assert math.dist(at_fall[:2], spot) == pytest.approx(0.6)


def test_a_walk_to_a_fall_is_reproducible_and_refuses_what_cannot_be() -> None:
    one, two = walk_to_fall(ROOM, (2.0, 3.0), 8.0, 5), walk_to_fall(ROOM, (2.0, 3.0), 8.0, 5)
    assert one.waypoints == two.waypoints
    assert one.waypoints != walk_to_fall(ROOM, (2.0, 3.0), 8.0, 6).waypoints
    with pytest.raises(ValueError, match=r"closer than 0\.3 m to a wall"):
        walk_to_fall(ROOM, (0.1, 2.0), 8.0, 1)
    with pytest.raises(ValueError, match="after walking in"):
        walk_to_fall(ROOM, (2.0, 2.0), 0.0, 1)


def test_fall_velocity_matches_its_positions() -> None:
    fall = Fall(_standing(), 5.0, direction_rad=0.5, room=ROOM)
    for t in (5.1, 5.3, 5.55):
        (x0, y0, z0), (x1, y1, z1) = fall.position_at(t - 1e-4), fall.position_at(t + 1e-4)
        vx, vy, vz = fall.velocity_at(t)
        assert (x1 - x0) / 2e-4 == pytest.approx(vx, rel=1e-3)
        assert (y1 - y0) / 2e-4 == pytest.approx(vy, rel=1e-3)
        assert (z1 - z0) / 2e-4 == pytest.approx(vz, rel=1e-3)
    assert -4.0 <= -fall.peak_speed_m_s < -1.5


def test_sitting_and_lying_slowly_do_not_meet_the_fall_definition() -> None:
    sit = SitDown(_standing(), 5.0, room=ROOM, seed=3)
    speed, drop = _peak_descent_and_drop(sit, 5.0)
    assert speed > -1.5 and drop < 0.8
    assert 0.5 < sit.position_at(30.0)[2] < 0.7  # seated, above the low height
    lie = LieDown(_standing(), 5.0, room=ROOM)
    speed, drop = _peak_descent_and_drop(lie, 5.0)
    assert speed > -1.5 and drop < 0.8
    assert lie.position_at(30.0)[2] == pytest.approx(0.45)


def test_a_sitter_fidgets_a_little_and_deterministically() -> None:
    a = SitDown(_standing(), 5.0, seed=1)
    b = SitDown(_standing(), 5.0, seed=1)
    times = np.arange(7.0, 60.0, 0.1)
    pa = np.array([a.position_at(float(t)) for t in times])
    pb = np.array([b.position_at(float(t)) for t in times])
    assert np.array_equal(pa, pb)
    sway = np.hypot(pa[:, 0] - 2.5, pa[:, 1] - 2.5)
    assert 0.0 < sway.max() <= 0.05 + 1e-9
    still = SitDown(_standing(), 5.0, fidget_m=0.0)
    assert still.position_at(40.0) == pytest.approx((2.5, 2.5, 0.6))


def test_a_dropped_object_falls_freely_while_its_holder_stands() -> None:
    holder = _standing()
    bag = DroppedObject(holder, 5.0)
    assert bag.position_at(4.0) == (2.75, 2.5, 1.0)  # carried beside the holder
    speed, drop = _peak_descent_and_drop(bag, 5.0)
    assert speed < -4.0 and drop > 0.9  # it really falls (unlike a person, g all the way)
    assert bag.position_at(10.0)[2] == pytest.approx(0.05)
    assert bag.reflectivity < 1.0
    assert holder.position_at(10.0)[2] == 1.0


def test_the_simulator_scales_a_walkers_reflection_by_its_reflectivity() -> None:
    nodes = [
        SimNode("02:00:00:00:00:01", (0.1, 2.5, 1.0)),
        SimNode("02:00:00:00:00:02", (4.9, 2.5, 1.0)),
    ]
    empty = Simulator(ROOM, nodes, [], snr_db=None).channel_at(0.0)

    def change(walker: Walker) -> float:
        channel = Simulator(ROOM, nodes, [walker], snr_db=None).channel_at(0.0)
        return float(np.abs(channel - empty).max())

    person = _standing(2.5, 2.55)
    bag = DroppedObject(ScriptedWalker([(2.25, 2.55)], 1.0), 100.0)  # carried at (2.5, 2.55)
    assert change(bag) == pytest.approx(bag.reflectivity * change(person), rel=1e-6)


# ------------------------------------------------------------------------ link activity


def test_link_change_meter_sees_change_not_level() -> None:
    meter = LinkChangeMeter(tau_s=0.5)
    for i in range(50):  # link 0 held up by a still body, link 1 fluctuating
        rate = meter.update(i * 0.1, [0.2, 0.2 + 0.05 * (-1) ** i])
    assert rate[0] == pytest.approx(0.0)
    assert rate[1] > 0.5


def test_track_link_activity_weights_the_links_around_the_track() -> None:
    grid = VoxelGrid((0.0, 0.0, 0.0), (5.0, 5.0, 2.5), 0.2)
    positions = {
        "a": (0.1, 2.5, 1.0),
        "b": (4.9, 2.5, 1.0),
        "c": (2.5, 0.1, 1.0),
        "d": (2.5, 4.9, 1.0),
    }
    model = GridModel(grid, positions, [("a", "b"), ("c", "d")])
    change = np.array([1.0, 0.0])
    on_first = track_link_activity(model, (1.0, 2.5, 1.0), change)  # on a–b only
    assert on_first == pytest.approx(1.0)
    assert track_link_activity(model, (2.5, 1.0, 1.0), change) == pytest.approx(0.0)
    assert track_link_activity(model, (0.5, 0.5, 2.4), change) == 0.0  # no link's zones 1–3


@pytest.mark.parametrize(
    ("fitted", "low_either", "confirmed"),
    [(0.3, False, True), (0.6, False, False), (0.6, True, True)],
)
def test_a_suspected_track_s_fitted_height_decides_whether_it_is_low(
    fitted: float, low_either: bool, confirmed: bool
) -> None:
    """The track's z snaps to 0.2 m; the fitted height steps down to 0.4 m (a fall's step)
    and settles at ``fitted``. With ``low_either`` off the fit alone decides whether the
    body is low (0.6 m, a seat, is not); by default either height reading low is enough."""
    detector = FallDetector(FallSettings(low_either=low_either))
    events: list[FallEvent] = []
    for i in range(400):
        t = i * TICK_S
        height = 1.0 if t < FALL_AT_S else 0.4 if t < FALL_AT_S + 1.5 else fitted
        obs = TrackObservation(
            1, (2.0, 2.0, fall_height(t)), 0.0 if t > FALL_AT_S + 1 else 0.3, height_m=height
        )
        events.extend(detector.update(t, [obs]))
    expected = [FallSuspected, FallConfirmed] if confirmed else [FallSuspected]
    assert [type(e) for e in events] == expected


def test_with_a_fitted_height_the_track_s_z_alone_raises_no_suspicion() -> None:
    """The track's z snaps from 1.0 to 0.2 m as fast as a fall, but the fitted height steps
    only from 1.0 to 0.6 m (a sit-down read right): the fit, when given, decides whether
    there was a descent. Without a fitted height the same z is a fall."""
    for fitted, expected in ((0.6, []), (None, [FallSuspected, FallConfirmed])):
        detector = FallDetector()
        events: list[FallEvent] = []
        for i in range(400):
            t = i * TICK_S
            height = None if fitted is None else (1.0 if t < FALL_AT_S else fitted)
            obs = TrackObservation(
                1, (2.0, 2.0, fall_height(t)), 0.0 if t > FALL_AT_S + 1 else 0.3, height_m=height
            )
            events.extend(detector.update(t, [obs]))
        assert [type(e) for e in events] == expected, fitted


def _fitted_run(
    fitted: Height, *, track_z: float = 1.0, until_s: float = 40.0, start_s: float = 0.0
) -> list[FallEvent]:
    """One track whose z stays at ``track_z`` (the fused grid missed the drop) while its
    fitted height follows ``fitted``; still after the event."""
    detector = FallDetector()
    events: list[FallEvent] = []
    for i in range(int(start_s / TICK_S), int(until_s / TICK_S) + 1):
        t = i * TICK_S
        activity = 0.0 if t > FALL_AT_S + 1 else 0.3
        obs = TrackObservation(1, (2.0, 2.0, track_z), activity, height_m=fitted(t))
        events.extend(detector.update(t, [obs]))
    return events


def test_a_step_down_of_the_fitted_height_is_a_descent_even_when_the_track_z_misses_it() -> None:
    events = _fitted_run(noisy(lambda t: fall_height(t) + 0.1, sigma=0.05))
    assert [type(e) for e in events] == [FallSuspected, FallConfirmed]
    suspected, confirmed = events
    assert isinstance(suspected, FallSuspected) and suspected.t_s <= FALL_AT_S + 1.5
    assert suspected.drop_m >= FallSettings().fit_drop_m
    assert confirmed.t_s - FALL_AT_S <= 15.0


@pytest.mark.parametrize(
    "fitted",
    [
        # Sofa: 1.0 → 0.4 m in 3 s (the fit reads a sofa a little low).
        lambda t: 1.0 - 0.6 * (1 - math.cos(math.pi * min(max((t - 10) / 3.0, 0), 1))) / 2,
        # Seat: 1.0 → 0.6 m in 1.2 s.
        lambda t: 1.0 - 0.4 * (1 - math.cos(math.pi * min(max((t - 10) / 1.2, 0), 1))) / 2,
    ],
    ids=["sofa", "seat"],
)
def test_a_slow_or_short_fitted_descent_is_not_a_fall(fitted: Height) -> None:
    for seed in range(5):
        assert _fitted_run(noisy(fitted, sigma=0.05, seed=seed)) == []


def test_a_young_track_s_fitted_descent_is_not_trusted() -> None:
    # A track that started 1.5 s before the step (a tracker ghost, a person just found).
    events = _fitted_run(lambda t: fall_height(t) + 0.1, start_s=FALL_AT_S - 1.5)
    assert events == []


def test_an_established_track_that_vanishes_while_up_is_suspected_and_confirmed() -> None:
    # No descent is seen at all: the body drops out of every link's zones and the tracker
    # ends the track 3 s later.
    settings = FallSettings(lost_track_age_s=6.0)
    events = drive(lambda t: 1.0, lost_after_s=FALL_AT_S + 3.0, settings=settings)
    assert kinds(events) == [FallSuspected, FallConfirmed]
    # Off by default: a person leaving the room vanishes while up just the same.
    assert drive(lambda t: 1.0, lost_after_s=FALL_AT_S + 3.0) == []
    t_confirmed, confirmed = events[-1]
    assert isinstance(confirmed, FallConfirmed) and confirmed.lost
    assert t_confirmed - FALL_AT_S <= 15.0


def test_a_vanishing_track_that_was_low_or_young_or_a_ghost_is_not_a_fall() -> None:
    # Lay down slowly first (low when it vanished).
    settings = FallSettings(lost_track_age_s=6.0)
    slow = drive(
        lambda t: 1.0 - 0.6 * min(max((t - 10) / 4.0, 0), 1),
        lost_after_s=FALL_AT_S + 8.0,
        settings=settings,
    )
    assert FallSuspected not in kinds(slow)
    # Too young to count as an established track.
    young = drive(
        lambda t: 1.0, lost_after_s=FALL_AT_S + 3.0, settings=FallSettings(lost_track_age_s=20.0)
    )
    assert young == []
    # A ghost: its height read near the ceiling, not a body.
    ghost = drive(lambda t: 2.1, lost_after_s=FALL_AT_S + 3.0, settings=settings)
    assert ghost == []


# ------------------------------------------------------------------------------- height


def _eight_node_model() -> GridModel:
    grid = VoxelGrid((0.0, 0.0, 0.0), (5.0, 5.0, 2.5), 0.2)
    spots = [
        (2.5, 0.1),
        (4.9, 0.1),
        (4.9, 2.5),
        (4.9, 4.9),
        (2.5, 4.9),
        (0.1, 4.9),
        (0.1, 2.5),
        (0.1, 0.1),
    ]
    positions = {f"n{i}": (x, y, (0.4, 1.9)[i % 2]) for i, (x, y) in enumerate(spots)}
    return GridModel.all_pairs(grid, positions)


def _link_values(model: GridModel, body: tuple[float, float, float]) -> np.ndarray:
    """What the simulator's links read for a still body: 0.47/n² over the quiet level."""
    values = []
    for link in model.links:
        zone = int(
            fresnel_zone_number(
                model.node_positions[link.node_a],
                model.node_positions[link.node_b],
                body,
                link.wavelength_m,
            )
        )
        values.append(0.008 + (0.47 / zone**2 if zone <= 5 else 0.0))
    return np.array(values)


@pytest.mark.parametrize("height", [0.2, 0.45, 0.6, 1.0])
def test_the_height_fit_finds_a_body_at_its_height(height: float) -> None:
    model = _eight_node_model()
    estimator = HeightEstimator(model)
    for x, y in [(2.0, 2.3), (3.1, 1.6), (1.4, 3.4)]:
        estimate = estimator.estimate(_link_values(model, (x, y, height)), (x + 0.2, y - 0.1))
        assert estimate.z_m == pytest.approx(height, abs=0.15)
        assert estimate.evidence > 1.0


def test_the_height_fit_sees_no_body_in_a_quiet_room() -> None:
    model = _eight_node_model()
    estimate = HeightEstimator(model).estimate(np.full(model.link_count, 0.008), (2.5, 2.5))
    assert estimate.evidence == pytest.approx(0.0)
    with pytest.raises(ValueError):
        HeightEstimator(model).estimate([0.1, 0.2], (2.5, 2.5))


def test_a_track_z_descent_from_above_any_body_is_not_a_fall() -> None:
    """Without a fitted height the track's z decides; a z that rose to 2.2 m (the fused
    grid's mirror solution above a link, during a slow lie-down) and crashes to the floor is
    as fast and deep as a fall, but no standing body's centre is above ``up_max_m``."""
    for top, expected in ((2.2, []), (1.0, [FallSuspected])):
        detector = FallDetector()
        events: list[FallEvent] = []
        for i in range(int((FALL_AT_S + 3.0) / TICK_S)):
            t = i * TICK_S
            u = min(max((t - FALL_AT_S) / 0.6, 0.0), 1.0)
            z = 1.0 if t < FALL_AT_S - 1.0 else top - (top - 0.2) * u * u
            events.extend(detector.update(t, [TrackObservation(1, (2.0, 2.0, z), 0.3)]))
        assert [type(e) for e in events] == expected, top


def test_the_simulation_report_counts_an_alert_for_the_fall_only_if_the_fall_raised_it() -> None:
    """``sense simulate --fall-at 8``: an alert at 10.4 s whose descent was seen 8 s before
    it (at 2.4 s, while the walker still walked) is a false alert that happened to be
    confirmed after the fall, not the fall's alert; the one at 16.8 s seen 8 s before is."""
    from engine.sim.sensing_score import fall_summary

    early = fall_summary([10.4], 8.0, None, None, [8.0])
    assert early["fall_alert_latency_s"] is None and early["false_alerts"] == 1
    both = fall_summary([10.4, 16.8], 8.0, None, None, [8.0, 8.0])
    assert both["fall_alert_latency_s"] == 8.8 and both["false_alerts"] == 1
    assert both["fall_alerted_within_15s"] is True
    late = fall_summary([24.0], 8.0, None, None, [8.0])
    assert late["fall_alert_latency_s"] is None, "16 s after the fall is too late"
    assert fall_summary([16.8], 8.0, None)["fall_alert_latency_s"] == 8.8


@pytest.mark.parametrize("body", [(2.0, 2.3, 1.0), (3.1, 1.6, 1.0), (1.4, 3.4, 0.6)])
def test_the_link_fit_places_a_body_the_plateau_put_half_a_metre_off(
    body: tuple[float, float, float],
) -> None:
    """The service places a detected person by the links (``locate``): started 0.6 m from
    the body (a plateau centre of the fused grid is often that far off), the fit finds it
    within a lattice step or two, and what it says the body adds to each link is k / n²."""
    model = _eight_node_model()
    values = _link_values(model, body)
    fit = HeightEstimator(model).locate(values, (body[0] + 0.5, body[1] - 0.35), 0.9)
    assert math.dist(fit.position[:2], body[:2]) < 0.2
    assert fit.position[2] == pytest.approx(body[2], abs=0.2)
    assert fit.evidence > 1.0
    seen = values > 0.008 + 1e-6
    assert np.all(fit.contribution[~seen] < 0.05)
    assert np.corrcoef(fit.contribution[seen], values[seen] - 0.008)[0, 1] > 0.9


def test_the_link_fit_finds_one_body_when_another_is_taken_out() -> None:
    """Two people: the links of both, less what the fit says the first adds, place the
    second, even started between them."""
    model = _eight_node_model()
    first, second = (1.5, 1.5, 1.0), (3.4, 3.2, 1.0)
    both = _link_values(model, first) + _link_values(model, second) - 0.008
    estimator = HeightEstimator(model)
    one = estimator.locate(both, (1.7, 1.4), 0.9)
    assert math.dist(one.position[:2], first[:2]) < 0.3
    rest = np.maximum(both - one.contribution, 0.008)
    other = estimator.locate(rest, (2.8, 2.6), 0.9)
    assert math.dist(other.position[:2], second[:2]) < 0.3


def test_the_link_fit_among_others_adds_the_bodies_before_the_logarithm() -> None:
    """``locate(..., others=)``: with nothing from others it is the plain fit; with the
    first body's share as ``others`` it finds the second, even started between them; and a
    body the others already explain adds no evidence (a track whose person has gone)."""
    model = _eight_node_model()
    first, second = (1.5, 1.5, 1.0), (3.4, 3.2, 1.0)
    both = _link_values(model, first) + _link_values(model, second) - 0.008
    estimator = HeightEstimator(model)
    plain = estimator.locate(both, (1.7, 1.4), 0.9)
    among = estimator.locate(both, (1.7, 1.4), 0.9, np.zeros(model.link_count))
    assert among.position == pytest.approx(plain.position, abs=1e-9)
    assert among.evidence == pytest.approx(plain.evidence, rel=1e-9)
    assert np.allclose(among.contribution, plain.contribution)
    other = estimator.locate(both, (2.8, 2.6), 0.9, plain.contribution)
    assert math.dist(other.position[:2], second[:2]) < 0.3
    assert other.evidence > 3.0
    gone = estimator.locate(both, (2.8, 2.6), 0.9, plain.contribution + other.contribution)
    assert gone.evidence < 0.5 * other.evidence
    with pytest.raises(ValueError, match="others"):
        estimator.locate(both, (2.8, 2.6), 0.9, np.zeros(3))


def test_a_simulation_plan_with_a_fall_spot_makes_walker_1_fall_there() -> None:
    from engine.sim.nodes import random_walkers
    from engine.sim.room import SimulationPlan

    plan = SimulationPlan(
        room=(5.0, 5.0, 2.5),
        nodes=(),
        walkers=2,
        seed=4,
        enter_after_s=0.0,
        rate_hz=20.0,
        channel=6,
        node_tokens=(),
        fall_at_s=8.0,
        sit_at_s=8.0,
        fall_spot=(1.5, 3.5),
    )
    walkers = plan.posed(random_walkers(ROOM, 2, 4))
    assert walkers[0].position_at(30.0) == pytest.approx((1.5, 3.5, 0.2), abs=1e-6)
    assert isinstance(walkers[1], SitDown)  # the others keep their postures
    # without a fall the spot means nothing
    unposed = dataclasses.replace(plan, fall_at_s=None, sit_at_s=None)
    assert unposed.posed(random_walkers(ROOM, 2, 4))[0].position_at(30.0)[2] == 1.0
