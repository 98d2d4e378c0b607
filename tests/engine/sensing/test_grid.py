"""The Fresnel voxel grid: geometry, the sparse weights, blobs, explanations and the tracker."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from engine.sensing.grid.fresnel import (
    MAX_FRESNEL_ZONE,
    Blob,
    GridModel,
    VoxelGrid,
    excess_path_m,
    explain,
    find_blobs,
    fresnel_ellipsoid,
    fresnel_zone_number,
    fresnel_zone_weight,
    wavelength_m,
)
from engine.sensing.grid.tracker import BlobTracker

# The synthetic scene of the issue: 4 nodes at the corners of a 5 × 5 m room, 1 m up.
CORNERS = {"A": (0.0, 0.0, 1.0), "B": (5.0, 0.0, 1.0), "C": (5.0, 5.0, 1.0), "D": (0.0, 5.0, 1.0)}
ROOM = ((0.0, 0.0, 0.0), (5.0, 5.0, 2.5))
LAMBDA_CH6 = wavelength_m(6)


@pytest.fixture(scope="module")
def corner_model() -> GridModel:
    return GridModel.all_pairs(VoxelGrid(*ROOM, voxel_m=0.2), CORNERS)


def person_activation(model: GridModel, position: tuple[float, float, float]) -> np.ndarray:
    """The simple forward model: each link is activated by the 1/n² factor of the Fresnel
    zone the person is in (0 past zone 5)."""
    values = []
    for link in model.links:
        a = model.node_positions[link.node_a]
        b = model.node_positions[link.node_b]
        zone = fresnel_zone_number(a, b, position, link.wavelength_m)
        values.append(float(fresnel_zone_weight(zone)))
    return np.array(values)


def point_on_bisector(length: float, excess: float) -> tuple[float, float, float]:
    """A point above the middle of the link (0,0,0)–(length,0,0) with ΔL = ``excess``."""
    height = math.sqrt(((length + excess) / 2) ** 2 - (length / 2) ** 2)
    return (length / 2, 0.0, height)


# ----------------------------------------------------------------------------- geometry


def test_wavelength_of_24ghz_channels() -> None:
    assert wavelength_m(6) == pytest.approx(299_792_458 / 2.437e9)
    assert round(wavelength_m(6), 4) == 0.1230
    assert wavelength_m(1) == pytest.approx(299_792_458 / 2.412e9)
    assert wavelength_m(13) == pytest.approx(299_792_458 / 2.472e9)
    assert wavelength_m(14) == pytest.approx(299_792_458 / 2.484e9)  # off the 5 MHz raster
    for bad in (0, 15, -1):
        with pytest.raises(ValueError):
            wavelength_m(bad)


def test_fresnel_ellipsoid_vector_from_the_issue() -> None:
    # A 5 m link at λ = 0.125 m, first zone: a = 2.531 m, b = 0.397 m.
    ellipsoid = fresnel_ellipsoid((0, 0, 1), (3, 4, 1), 0.125, 1)
    assert round(ellipsoid.semi_major_m, 3) == 2.531
    assert round(ellipsoid.semi_minor_m, 3) == 0.397
    assert ellipsoid.centre == pytest.approx((1.5, 2.0, 1.0))
    assert ellipsoid.axis == pytest.approx((0.6, 0.8, 0.0))
    assert ellipsoid.focus_a == (0.0, 0.0, 1.0) and ellipsoid.focus_b == (3.0, 4.0, 1.0)
    third = fresnel_ellipsoid((0, 0, 1), (3, 4, 1), 0.125, 3)
    assert third.semi_major_m == pytest.approx((5 + 3 * 0.125 / 2) / 2)


def test_zone_numbers_at_chosen_points() -> None:
    a, b = (0.0, 0.0, 0.0), (4.0, 0.0, 0.0)
    half = LAMBDA_CH6 / 2
    on_line_of_sight = [(2.0, 0.0, 0.0), (0.01, 0.0, 0.0), (3.999, 0.0, 0.0)]
    assert fresnel_zone_number(a, b, on_line_of_sight, LAMBDA_CH6).tolist() == [1, 1, 1]
    assert excess_path_m(a, b, (2.0, 0.0, 0.0)) == pytest.approx(0.0)

    def zone_at(excess: float) -> int:
        return int(fresnel_zone_number(a, b, point_on_bisector(4.0, excess), LAMBDA_CH6))

    assert zone_at(0.5 * half) == 1
    assert zone_at(1.001 * half) == 2
    assert zone_at(2.5 * half) == 3
    assert zone_at(5 * half - 1e-6) == 5
    assert zone_at(5 * half + 1e-6) == 6
    weights = fresnel_zone_weight([1, 2, 3, 5, 6, 40])
    assert weights.tolist() == pytest.approx([1.0, 0.25, 1 / 9, 1 / 25, 0.0, 0.0])
    beyond = point_on_bisector(4.0, MAX_FRESNEL_ZONE * half + 1e-6)
    assert fresnel_zone_weight(fresnel_zone_number(a, b, beyond, LAMBDA_CH6)) == 0.0


# ------------------------------------------------------------------------- weight matrix


def test_weights_are_sparse_and_match_a_point_by_point_reference() -> None:
    grid = VoxelGrid((0.0, 0.0, 0.0), (1.2, 0.8, 0.6), voxel_m=0.1)
    nodes = {"n1": (0.05, 0.1, 0.3), "n2": (1.15, 0.7, 0.3), "n3": (0.6, 0.05, 0.55)}
    links = [("n1", "n2"), ("n3", "n1"), ("n2", "n3")]
    wavelengths = [wavelength_m(1), wavelength_m(6), wavelength_m(13)]
    model = GridModel(grid, nodes, links, wavelengths)

    reference = np.zeros((grid.size, len(links)))
    for v, centre in enumerate(grid.centres):
        for column, ((na, nb), wavelength) in enumerate(zip(links, wavelengths, strict=True)):
            a, b = nodes[na], nodes[nb]
            excess = math.dist(a, centre) + math.dist(centre, b) - math.dist(a, b)
            zone = max(1, math.ceil(excess / (wavelength / 2) - 1e-9))
            reference[v, column] = 1 / zone**2 if zone <= 5 else 0.0

    assert sparse.issparse(model.weights)
    assert model.weights.shape == (grid.size, 3)
    assert model.weights.nnz == np.count_nonzero(reference) < reference.size
    np.testing.assert_allclose(model.weights.toarray(), reference, rtol=1e-6)
    values = model.tick([0.5, 0.0, 2.0])
    expected = reference @ [0.5, 0.0, 2.0]
    norms = np.sqrt((reference**2).sum(axis=1))
    normalised = np.divide(expected, norms, out=np.zeros_like(expected), where=norms > 0)
    np.testing.assert_allclose(values, normalised, rtol=1e-5)


def test_grid_centres_and_links_are_undirected() -> None:
    grid = VoxelGrid((0.0, 0.0, 0.0), (1.0, 0.6, 0.5), voxel_m=0.2)
    assert grid.shape == (5, 3, 3)
    assert grid.centres.shape == (45, 3)
    assert grid.centres[0].tolist() == pytest.approx([0.1, 0.1, 0.1])
    assert grid.centres[1].tolist() == pytest.approx([0.3, 0.1, 0.1])  # x fastest
    assert grid.nearest_voxel((0.95, 0.5, 0.45)) == grid.size - 1

    nodes = {"a": (0.0, 0.0, 0.2), "b": (1.0, 0.6, 0.2)}
    model = GridModel(grid, nodes, [("a", "b"), ("b", "a")])
    assert model.link_count == 1
    assert model.link_index("b", "a") == model.link_index("a", "b") == 0
    assert model.activation_vector({("b", "a"): 0.7}).tolist() == pytest.approx([0.7])
    with pytest.raises(ValueError, match="different wavelengths"):
        GridModel(grid, nodes, [("a", "b"), ("b", "a")], [0.12, 0.125])
    with pytest.raises(ValueError, match="no position"):
        GridModel(grid, nodes, [("a", "z")])


def test_a_broken_link_does_not_poison_the_grid(corner_model: GridModel) -> None:
    activation = person_activation(corner_model, (2.5, 2.5, 1.0))
    broken = activation.copy()
    broken[corner_model.link_index("A", "B")] = np.nan
    broken[corner_model.link_index("C", "D")] = -3.0
    np.testing.assert_array_equal(corner_model.tick(broken), corner_model.tick(activation))


# --------------------------------------------------------------------------------- blobs


def test_blobs_by_non_maximum_suppression() -> None:
    grid = VoxelGrid((0.0, 0.0, 0.0), (6.0, 4.0, 2.0), voxel_m=0.2)

    def bump(centre: tuple[float, float, float], height: float, sigma: float = 0.3) -> np.ndarray:
        distance_sq = np.sum((grid.centres - np.array(centre)) ** 2, axis=1)
        return height * np.exp(-distance_sq / (2 * sigma**2))

    values = bump((1.5, 1.5, 1.1), 2.0) + bump((4.5, 2.5, 0.9), 1.0)
    blobs = find_blobs(values, grid, threshold=0.3)
    assert [round(b.value, 1) for b in blobs] == [2.0, 1.0]  # strongest first
    assert blobs[0].position == pytest.approx((1.5, 1.5, 1.1), abs=0.1)
    assert blobs[1].position == pytest.approx((4.5, 2.5, 0.9), abs=0.1)

    assert len(find_blobs(values, grid, threshold=0.3, max_blobs=1)) == 1
    assert find_blobs(values, grid, threshold=2.5) == []
    close = bump((2.1, 2.1, 1.1), 1.0, 0.1) + bump((2.7, 2.1, 1.1), 0.9, 0.1)  # 0.6 m apart
    assert len(find_blobs(close, grid, threshold=0.3, min_separation_m=0.8)) == 1
    apart = find_blobs(close, grid, threshold=0.3, min_separation_m=0.4)
    assert [b.position for b in apart] == [
        pytest.approx((2.1, 2.1, 1.1), abs=0.05),
        pytest.approx((2.7, 2.1, 1.1), abs=0.05),
    ]


def test_normalisation_favours_where_links_agree(corner_model: GridModel) -> None:
    # Both diagonals active: where they cross (the room's centre) must beat any point lying
    # on one diagonal only. The value is scale-free, so every voxel where the two diagonals
    # are in the same zone (the planes x = 2.5 and y = 2.5 near the centre) explains this
    # equally well: the blob lies on them.
    activation = corner_model.activation_vector({("A", "C"): 1.0, ("B", "D"): 1.0})
    values = corner_model.tick(activation)
    grid = corner_model.grid
    centre = values[grid.nearest_voxel((2.5, 2.5, 1.0))]
    on_one_diagonal = values[grid.nearest_voxel((1.0, 1.0, 1.0))]
    assert centre == pytest.approx(math.sqrt(2), rel=1e-5)  # two links agree: √2 · 1
    assert on_one_diagonal == pytest.approx(1.0, rel=1e-5)  # one link alone: 1
    blob = find_blobs(values, grid, threshold=0.5 * float(values.max()))[0]
    assert min(abs(blob.position[0] - 2.5), abs(blob.position[1] - 2.5)) <= 0.2
    assert math.dist(blob.position[:2], (2.5, 2.5)) <= 1.0


# ------------------------------------------------------------------ synthetic localisation


def test_synthetic_scene_localises_within_half_a_metre(corner_model: GridModel) -> None:
    """A person at each point of a 0.25 m grid over the room, at node height, activates each
    link by its 1/n² zone factor. Four corner nodes give six links whose zones 1–5 are thin:
    about half the room is seen by one link only, where a position along that link cannot be
    told from the activations, and the layout's symmetry makes some patterns repeat. So the
    0.5 m bound is asserted where the geometry determines the position (every voxel with the
    person's zone pattern lies within 0.5 m of them); elsewhere the blob must still be one
    consistent with the activations, and the figures are reported."""
    model = corner_model
    grid = model.grid
    dense = model.weights.toarray()
    steps = np.arange(0.25, 5.0, 0.25)
    resolvable_errors, multi_link_errors, all_errors = [], [], []
    failures = []
    for x in steps:
        for y in steps:
            truth = (float(x), float(y), 1.0)
            activation = person_activation(model, truth)
            if not activation.any():
                continue  # no link sees this spot: nothing to localise
            blobs = find_blobs(model.tick(activation), grid, threshold=1e-6, max_blobs=1)
            assert blobs, f"no blob for a person at {truth}"
            blob = blobs[0]
            error = math.hypot(blob.position[0] - x, blob.position[1] - y)
            all_errors.append(error)
            # The blob's peak is a voxel whose zone pattern explains the activations.
            peak_row = dense[blob.voxel]
            cosine = peak_row @ activation / np.linalg.norm(peak_row) / np.linalg.norm(activation)
            assert cosine > 0.999, f"blob at {blob.position} does not explain {truth}"
            if np.count_nonzero(activation) >= 2:
                multi_link_errors.append(error)
            same_pattern = np.all(np.abs(dense - activation) < 1e-6, axis=1)
            spread = np.hypot(grid.centres[same_pattern, 0] - x, grid.centres[same_pattern, 1] - y)
            if spread.max() <= 0.5:
                resolvable_errors.append(error)
                if error > 0.5:
                    failures.append((truth, blob.position, round(error, 3)))

    figures = (
        f"median error {np.median(resolvable_errors):.3f} m over {len(resolvable_errors)} "
        f"resolvable positions (max {max(resolvable_errors):.3f}); "
        f"{np.median(multi_link_errors):.3f} m over {len(multi_link_errors)} positions seen "
        f"by ≥ 2 links; {np.median(all_errors):.3f} m over all {len(all_errors)} seen positions"
    )
    print(figures)
    assert len(resolvable_errors) >= 40, figures
    assert not failures, f"{figures}; off by more than 0.5 m: {failures}"
    assert np.median(resolvable_errors) <= 0.25, figures
    assert np.median(multi_link_errors) <= 0.5, figures


def test_l2_normalisation_localises_better_than_the_alternatives(
    corner_model: GridModel,
) -> None:
    """The documented choice, measured: dividing by each voxel's weight-row norm beats no
    division and division by the row sum (or the count of covering links)."""
    weights = corner_model.weights
    row_sum = np.asarray(weights.sum(axis=1)).ravel()
    row_count = np.asarray((weights > 0).sum(axis=1)).ravel()
    scales = {
        "l2": None,
        "none": np.ones(corner_model.grid.size),
        "sum": np.divide(1.0, row_sum, out=np.zeros_like(row_sum), where=row_sum > 0),
        "count": np.divide(1.0, row_count, out=np.zeros(row_count.shape), where=row_count > 0),
    }
    errors: dict[str, list[float]] = {name: [] for name in scales}
    steps = np.arange(0.25, 5.0, 0.5)
    for x in steps:
        for y in steps:
            activation = person_activation(corner_model, (float(x), float(y), 1.0))
            if not activation.any():
                continue
            for name, scale in scales.items():
                values = (
                    corner_model.tick(activation)
                    if scale is None
                    else (weights @ activation) * scale
                )
                blob = find_blobs(values, corner_model.grid, 1e-6, max_blobs=1)[0]
                errors[name].append(math.hypot(blob.position[0] - x, blob.position[1] - y))
    medians = {name: round(float(np.median(e)), 3) for name, e in errors.items()}
    assert all(medians["l2"] < medians[name] for name in ("none", "sum", "count")), medians


# ------------------------------------------------------------------------- explanations


def test_explanation_shares_zones_and_ellipsoids(corner_model: GridModel) -> None:
    activation = person_activation(corner_model, (0.5, 0.5, 1.0))
    values = corner_model.tick(activation)
    blob = find_blobs(values, corner_model.grid, threshold=1e-6, max_blobs=1)[0]
    shares = explain(corner_model, activation, blob)
    assert len(shares) >= 2
    assert sum(s.share for s in shares) == pytest.approx(1.0)
    assert [s.share for s in shares] == sorted((s.share for s in shares), reverse=True)
    assert {frozenset((s.node_a, s.node_b)) for s in shares} >= {
        frozenset("AC"),
        frozenset("AB"),
    }
    centre = corner_model.grid.centres[blob.voxel]
    fused = 0.0
    for share in shares:
        a = corner_model.node_positions[share.node_a]
        b = corner_model.node_positions[share.node_b]
        ellipsoid = share.ellipsoid
        assert ellipsoid.zone == share.zone == int(fresnel_zone_number(a, b, centre, LAMBDA_CH6))
        assert share.weight == pytest.approx(1 / share.zone**2)
        # The voxel lies inside its zone's ellipsoid and outside the one before.
        path = math.dist(a, centre) + math.dist(centre, b)
        assert path <= 2 * ellipsoid.semi_major_m + 1e-9
        if share.zone > 1:
            inner = fresnel_ellipsoid(a, b, LAMBDA_CH6, share.zone - 1)
            assert path > 2 * inner.semi_major_m
        fused += share.weight * share.activation
    assert fused / corner_model.voxel_norm[blob.voxel] == pytest.approx(blob.value, rel=1e-5)

    # A position in metres is explained at its voxel; a quiet spot has no explanation.
    assert explain(corner_model, activation, centre) == shares
    assert explain(corner_model, np.zeros(corner_model.link_count), centre) == []


# ------------------------------------------------------------------------------ tracker


def walk(
    start: tuple[float, float, float], velocity: tuple[float, float, float], t_s: float
) -> np.ndarray:
    return np.array(start) + np.array(velocity) * t_s


def test_tracker_keeps_one_id_through_missed_ticks() -> None:
    rng = np.random.default_rng(7)
    tracker = BlobTracker()
    missing = {5, 12, 13, 14, 15, 16, 17, 30, 31}  # one tick, 0.6 s, and two ticks
    ids = set()
    for tick in range(50):  # 10 Hz, 5 s at about 1 m/s
        t = tick * 0.1
        if tick in missing:
            tracks = tracker.update(np.empty((0, 3)), t)
            assert len(tracks) == 1 and tracks[0].coasting, f"dropped at {t:.1f} s"
        else:
            position = walk((0.5, 1.0, 1.0), (0.8, 0.6, 0.0), t) + rng.normal(0, 0.1, 3)
            tracks = tracker.update([position], t)
            assert len(tracks) == 1 and not tracks[0].coasting
        ids.add(tracks[0].track_id)
    assert ids == {1}
    assert tracks[0].velocity == pytest.approx((0.8, 0.6, 0.0), abs=0.25)
    assert tracks[0].position == pytest.approx(
        tuple(walk((0.5, 1.0, 1.0), (0.8, 0.6, 0), 4.9)), abs=0.3
    )


def test_tracker_gives_two_separated_walkers_two_ids() -> None:
    rng = np.random.default_rng(3)
    tracker = BlobTracker()
    owner: dict[int, set[int]] = {0: set(), 1: set()}
    for tick in range(60):  # 20 Hz for 3 s: the walkers pass each other 2.5 m apart
        t = tick * 0.05
        walkers = [
            walk((0.5, 1.0, 1.0), (1.0, 0.0, 0.0), t),
            walk((3.5, 3.5, 1.0), (-1.0, 0.0, 0.0), t),
        ]
        detections = [w + rng.normal(0, 0.1, 3) for w in walkers]
        if tick % 7 == 3:
            detections = detections[::-1]  # blob order carries no identity
        tracks = tracker.update(detections, t)
        assert len(tracks) == 2
        for track in tracks:
            nearest = int(
                np.argmin([np.linalg.norm(np.array(track.position) - w) for w in walkers])
            )
            owner[nearest].add(track.track_id)
    assert owner == {0: {1}, 1: {2}}


def test_tracker_ends_a_track_after_three_seconds_without_detections() -> None:
    for rate_hz in (5.0, 20.0):  # the same in seconds whatever the tick rate
        tracker = BlobTracker(max_coast_s=3.0)
        dt = 1.0 / rate_hz
        ticks = round(1.0 / dt)
        for tick in range(ticks + 1):
            tracker.update([(1.0, 1.0, 1.0)], tick * dt)
        last_seen = ticks * dt
        t = last_seen
        while t + dt <= last_seen + 3.0 + 1e-9:
            t += dt
            tracks = tracker.update([], t)
            assert [tr.track_id for tr in tracks] == [1], f"ended early at {t - last_seen:.2f} s"
        assert tracker.update([], last_seen + 3.0 + dt) == []
        reborn = tracker.update([(1.0, 1.0, 1.0)], last_seen + 3.0 + 2 * dt)
        assert [tr.track_id for tr in reborn] == [2]


def test_a_track_names_the_detection_it_took() -> None:
    """Each track says which of the update's detections it took (what the service explains
    it at), whatever the order of the detections; None while it coasts."""
    tracker = BlobTracker()
    first = tracker.update([(1.0, 1.0, 1.0), (4.0, 4.0, 1.0)], 0.0)
    assert [(t.track_id, t.detection) for t in first] == [(1, 0), (2, 1)]
    swapped = tracker.update([(4.05, 4.0, 1.0), (1.05, 1.0, 1.0)], 0.1)
    assert [(t.track_id, t.detection) for t in swapped] == [(1, 1), (2, 0)]
    coasting = tracker.update([(1.1, 1.0, 1.0)], 0.2)
    assert [(t.track_id, t.detection, t.coasting) for t in coasting] == [
        (1, 0, False),
        (2, None, True),
    ]


def test_a_blob_is_explained_at_its_peak_not_its_filtered_position(
    corner_model: GridModel,
) -> None:
    """The tracker's filtered position can fall in a voxel where no link has weight; the
    stored explanation is computed at the detection's peak voxel, so it names the links."""
    from engine.sensing.service import explain_blob

    activation = person_activation(corner_model, (0.5, 0.5, 1.0)).astype(np.float32)
    values = corner_model.tick(activation)
    blob = find_blobs(values, corner_model.grid, threshold=1e-6, max_blobs=1)[0]
    # A spot in the room where no active link has weight (zones > 5 dropped).
    quiet = next(
        tuple(float(c) for c in centre)
        for centre in corner_model.grid.centres
        if explain(corner_model, activation, centre) == []
    )
    at_quiet = explain_blob("r", corner_model, activation, 1, quiet, blob.value, 0.0)
    assert at_quiet.shares == ()
    at_peak = explain_blob(
        "r", corner_model, activation, 1, quiet, blob.value, 0.0, peak=blob.voxel
    )
    assert [(s.node_a, s.node_b, s.share) for s in at_peak.shares] == [
        (s.node_a, s.node_b, pytest.approx(s.share))
        for s in explain(corner_model, activation, blob)
    ]


def test_tracker_rejects_time_going_backwards() -> None:
    tracker = BlobTracker()
    tracker.update([(1.0, 1.0, 1.0)], 2.0)
    with pytest.raises(ValueError):
        tracker.update([], 1.0)


WALKS = {
    # Along the wall link A–B, then where B's links join in: mostly one link sees the walker.
    "along_a_wall": lambda t: (1.0 + 0.8 * t, 0.5, 1.0),
    "along_a_diagonal": lambda t: (0.8 + 0.8 * t, 0.8 + 0.8 * t, 1.0),
}


@pytest.mark.parametrize("walk_name", sorted(WALKS))
def test_fused_walk_is_tracked_with_one_id(corner_model: GridModel, walk_name: str) -> None:
    """Fusion, blobs and tracker together, with the tracker's predictions breaking ties among
    voxels that explain the activations equally well (along a single link)."""
    path = WALKS[walk_name]
    tracker = BlobTracker()
    ids = set()
    errors = []
    for tick in range(45):  # 10 Hz, 4.5 s at about 0.8 m/s, three ticks with no blob
        t = tick * 0.1
        truth = path(t)
        blobs = []
        if tick not in (10, 11, 25):
            values = corner_model.tick(person_activation(corner_model, truth))
            expected = tracker.predicted_positions(t)
            blobs = find_blobs(values, corner_model.grid, 0.05, max_blobs=1, prefer_near=expected)
        tracks = tracker.update([b.position for b in blobs], t, [b.value for b in blobs])
        assert len(tracks) == 1, f"{len(tracks)} tracks at {t:.1f} s"
        ids.add(tracks[0].track_id)
        errors.append(math.dist(tracks[0].position[:2], truth[:2]))
    assert ids == {1}
    assert float(np.median(errors)) <= 0.5, f"median tracked error {np.median(errors):.3f} m"


def test_blob_is_frozen() -> None:
    blob = Blob((1.0, 2.0, 1.0), 0.5, 3)
    with pytest.raises(AttributeError):
        blob.value = 1.0  # type: ignore[misc]
