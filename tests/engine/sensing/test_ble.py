"""BLE identities: path-loss distance, weighted trilateration, sightings and the blob match."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.identity.ble import (
    MAX_AGE_S,
    NAME_SCORE,
    REFERENCE_RSSI_DBM,
    BleSightings,
    Reading,
    assign_identities,
    blob_match_score,
    distance_sigma_m,
    locate,
    path_misfit,
    rssi_distance_m,
)
from engine.sensing.nodes.protocol import ProtocolError

TRIANGLE = [(0.0, 0.0, 1.5), (4.0, 0.0, 1.5), (2.0, 3.46, 1.5)]
PHONE = "AA:BB:CC:00:00:01"
TAG = "AA:BB:CC:00:00:02"


@pytest.mark.parametrize(("rssi", "metres"), [(-65, 1.0), (-75, 2.512), (-55, 0.398), (-85, 6.31)])
def test_the_issue_path_loss_vectors(rssi: float, metres: float) -> None:
    assert rssi_distance_m(rssi) == pytest.approx(metres, abs=0.001)


def test_a_non_finite_rssi_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        rssi_distance_m(math.nan)


def test_distance_uncertainty_grows_with_distance() -> None:
    assert distance_sigma_m(4.0) == pytest.approx(2 * distance_sigma_m(2.0))
    assert distance_sigma_m(1.0) == pytest.approx(math.log(10) / 25 * 4.0)


def test_three_nodes_hearing_the_same_rssi_put_the_device_at_their_centre() -> None:
    (x, y), confidence, _residual = locate([Reading(p, -73.0) for p in TRIANGLE])
    assert math.hypot(x - 2.0, y - 1.15) < 0.5  # the issue's vector
    assert math.hypot(x - 2.0, y - 1.153) < 0.01  # and in fact its centre, by symmetry
    assert confidence > 0.9


def test_trilateration_finds_a_device_from_noisy_rssi() -> None:
    rng = np.random.default_rng(4)
    nodes = [(0.1, 0.1, 1.2), (4.9, 0.1, 1.2), (4.9, 4.9, 1.2), (0.1, 4.9, 1.2)]
    errors = []
    for _ in range(200):
        truth = rng.uniform(0.5, 4.5, size=2)
        readings = []
        for node in nodes:
            d = math.dist((*truth, 1.0), node)
            rssi = -65.0 - 25.0 * math.log10(d) + rng.normal(0.0, 2.0)
            readings.append(Reading(node, rssi))
        (x, y), _c, _r = locate(readings)
        errors.append(math.hypot(x - truth[0], y - truth[1]))
    assert float(np.median(errors)) < 0.6
    assert float(np.percentile(errors, 90)) < 1.5


def test_confidence_falls_with_fewer_nodes_and_disagreeing_distances() -> None:
    three = locate([Reading(p, -73.0) for p in TRIANGLE])[1]
    two = locate([Reading(p, -73.0) for p in TRIANGLE[:2]])[1]
    one = locate([Reading(TRIANGLE[0], -73.0)])[1]
    assert three > two > one > 0
    # Distances that cannot all hold (two nodes say "right here", one says "far away").
    clash = locate(
        [Reading(TRIANGLE[0], -50.0), Reading(TRIANGLE[1], -50.0), Reading(TRIANGLE[2], -90.0)]
    )
    assert clash[1] < three and clash[2] > 1.0


def test_sightings_use_fresh_readings_of_placed_nodes_and_forget_stale_devices() -> None:
    sightings = BleSightings()
    positions = {"a": TRIANGLE[0], "b": TRIANGLE[1], "c": TRIANGLE[2]}
    for t in (0.0, 1.0, 2.0):
        for node in "abc":
            sightings.add(node, PHONE.lower(), -73.0 if t != 1.0 else -40.0, t)  # one outlier
        sightings.add("unplaced", PHONE, -40.0, t)
    (estimate,) = sightings.estimates(positions, now_s=2.5)
    assert estimate.address == PHONE and estimate.nodes == 3
    assert math.hypot(estimate.position[0] - 2.0, estimate.position[1] - 1.15) < 0.5  # median
    assert estimate.age_s == pytest.approx(0.5)
    assert sightings.estimates(positions, now_s=2.0 + MAX_AGE_S + 0.1) == []
    assert sightings.estimates(positions, now_s=100.0) == []
    with pytest.raises(ProtocolError):
        sightings.add("a", "not-an-address", -60.0, 3.0)


NODES = ((0.0, 0.0, 1.0), (5.0, 0.0, 1.0), (5.0, 5.0, 1.0), (0.0, 5.0, 1.0))


def heard_at(
    x: float, y: float, t_s: float = 0.0, offset_db: float = 0.0
) -> list[tuple[tuple[float, float, float], float, float]]:
    """What the four NODES hear of a device at (x, y) at ``t_s``: exact path loss."""
    return [
        (
            node,
            t_s,
            REFERENCE_RSSI_DBM - 25.0 * math.log10(math.dist(node, (x, y, 1.0))) + offset_db,
        )
        for node in NODES
    ]


def standing(x: float, y: float) -> list[tuple[float, tuple[float, float, float]]]:
    return [(t / 10, (x, y, 1.0)) for t in range(101)]


def test_the_match_score_weighs_freshness_node_count_and_the_residual() -> None:
    assert blob_match_score(heard_at(1.0, 1.0), standing(1.0, 1.0), 0.0) == pytest.approx(1.0)
    # Half as fresh at half the readings' lifetime; one node gives only a ring.
    assert blob_match_score(heard_at(1.0, 1.0), standing(1.0, 1.0), MAX_AGE_S / 2) == (
        pytest.approx(0.5)
    )
    assert blob_match_score(heard_at(1.0, 1.0)[:1], standing(1.0, 1.0), 0.0) == pytest.approx(0.2)
    near = blob_match_score(heard_at(1.0, 1.0), standing(1.4, 1.0), 0.0)
    far = blob_match_score(heard_at(1.0, 1.0), standing(3.0, 2.5), 0.0)
    assert near > NAME_SCORE > far
    assert blob_match_score(heard_at(1.0, 1.0), standing(1.0, 1.0), MAX_AGE_S + 0.1) == 0.0
    assert blob_match_score(heard_at(1.0, 1.0), [], 0.0) == 0.0


def test_a_walking_blob_is_matched_along_its_path() -> None:
    # Readings taken while the person walked diagonally across the room over 8 s, each
    # against the blob where it was then: a match; against where it ended up only: none.
    def at(t: float) -> float:
        return 0.5 + 0.5 * t

    walk = [(t / 10, (at(t / 10), at(t / 10), 1.0)) for t in range(81)]
    readings = [r for t in range(0, 81, 10) for r in heard_at(at(t / 10), at(t / 10), t / 10)]
    assert blob_match_score(readings, walk, 8.0) == pytest.approx(1.0)
    assert blob_match_score(readings, standing(4.5, 4.5), 8.0) < NAME_SCORE


def test_the_path_misfit_adds_every_reading_within_the_way_and_since_the_start() -> None:
    def at(t: float) -> float:
        return 0.5 + 0.5 * t

    walk = [(t / 10, at(t / 10), at(t / 10)) for t in range(81)]
    beside = [(t, x + 1.0, y - 1.0) for t, x, y in walk]  # 1.4 m to one side all along
    readings = [r for t in range(0, 81, 10) for r in heard_at(at(t / 10), at(t / 10), t / 10)]
    carrier = path_misfit(readings, walk, 0.0, 0.4)
    # Exact readings: each is 0 σ off the carrier's way, so each adds r² - 1 = -1.
    assert (carrier.readings, carrier.excess, carrier.mean_square) == (36, -36.0, 0.0)
    other = path_misfit(readings, beside, 0.0, 0.4)
    # 1.4 m aside each reading is under 1 σ off (noise alone could do that), but 36 of
    # them are 22 apart from the carrier's: the sum, not one reading, tells two people apart.
    assert other.readings == 36 and 0.4 < other.mean_square < 1.0
    assert other.excess - carrier.excess > 20
    assert path_misfit(readings, walk, 4.0, 0.4).readings == 20  # since 4 s: 4 s to 8 s
    assert path_misfit(readings, walk[:41], 0.0, 0.4).readings == 20  # the way to 4 s, 0.5 s on
    noisy = [(node, t, rssi + 6.0) for node, t, rssi in readings]
    assert path_misfit(noisy, walk, 0.0, 0.4).excess > 0  # 6 dB off each: more than noise
    assert path_misfit(readings, [], 0.0, 0.4).readings == 0


def test_each_device_names_at_most_one_blob_and_only_a_good_match_names() -> None:
    scores = {PHONE: {7: 0.9, 8: 0.1, 9: 0.85}, TAG: {7: 0.2, 8: 0.4, 9: 0.3}}
    names = assign_identities(scores, {})
    assert names == {7: (PHONE, 0.9)}  # the tag's best is 0.4: not good enough to name


def test_a_blob_keeps_its_name_until_another_device_matches_it_clearly_better() -> None:
    # The phone's match weakened (between KEEP_SCORE and NAME_SCORE): the blob keeps it.
    assert assign_identities({PHONE: {7: 0.45}}, {7: PHONE}) == {7: (PHONE, 0.45)}
    assert assign_identities({PHONE: {7: 0.45}}, {}) == {}  # but it would not name it afresh
    # A tag that matches far better than the margin takes it.
    assert assign_identities({PHONE: {7: 0.45}, TAG: {7: 0.95}}, {7: PHONE}) == {7: (TAG, 0.95)}
    # A little better is not enough.
    assert assign_identities({PHONE: {7: 0.7}, TAG: {7: 0.8}}, {7: PHONE}) == {7: (PHONE, 0.7)}
    # The phone gone quiet: the name goes.
    assert assign_identities({PHONE: {7: 0.0}}, {7: PHONE}) == {}
