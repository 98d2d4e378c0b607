"""Cameras on the floor: fitting, checking and storing a camera's picture → floor mapping."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from engine.access import Actor, Role
from engine.clock import REAL_CLOCK
from engine.config import load_site
from engine.fusion.floor import (
    CalibrateCamera,
    CalibrationError,
    PointPair,
    calibrate,
    camera_calibrations,
    room_corner_pairs,
)
from engine.runtime import EngineRuntime
from engine.store import Store
from engine.store.audit_models import AuditEntry
from engine.store.sites import SyncSite
from engine.store.writer import StoreWriter
from tests.conftest import write_site

ADMIN = Actor("ada", frozenset({Role.ADMIN}), "account")
OPERATOR = Actor("olly", frozenset({Role.OPERATOR}), "account")


def pinhole(points: np.ndarray) -> np.ndarray:
    """A camera 2.8 m up at (-1, 3) looking along +x, tilted 30° down, 640×480, 90° across."""
    position = np.array([-1.0, 3.0, 2.8])
    pitch = math.radians(30.0)
    forward = np.array([math.cos(pitch), 0.0, -math.sin(pitch)])
    right = np.array([0.0, -1.0, 0.0])
    down = np.cross(forward, right)
    focal = 320.0 / math.tan(math.radians(45.0))
    rel = np.column_stack([points, np.zeros(len(points))]) - position
    z = rel @ forward
    return np.column_stack([320.0 + focal * (rel @ right) / z, 240.0 + focal * (rel @ down) / z])


def pairs_for(
    floor: list[tuple[float, float]], noise_px: float = 0.0, seed: int = 0
) -> list[PointPair]:
    rng = np.random.default_rng(seed)
    image = pinhole(np.array(floor)) + rng.normal(0.0, noise_px, (len(floor), 2))
    return [
        PointPair(float(u), float(v), x, y) for (u, v), (x, y) in zip(image, floor, strict=True)
    ]


GRID = [(x, y) for x in (2.0, 4.0, 6.0) for y in (1.0, 3.0, 5.0)]
CORNERS = [GRID[0], GRID[2], GRID[6], GRID[8]]  # four, no three on a line


def test_exact_pairs_map_every_floor_point_back() -> None:
    cal = calibrate(pairs_for(GRID), (640, 480))
    assert cal.checked and cal.error_m is not None and cal.error_m < 1e-6
    for x, y in [(3.3, 2.2), (5.5, 4.9), (2.1, 1.4)]:
        ((u, v),) = pinhole(np.array([(x, y)]))
        fx, fy = cal.to_floor(float(u), float(v)) or (math.nan, math.nan)
        assert math.hypot(fx - x, fy - y) < 1e-6


def test_clicks_a_few_pixels_off_give_an_error_of_centimetres() -> None:
    cal = calibrate(pairs_for(GRID, noise_px=2.0, seed=3), (640, 480))
    assert cal.error_m is not None and 0.0 < cal.error_m < 0.3
    assert "within the 0.3 m target" in cal.describe()


def test_a_mistyped_floor_place_is_named_as_the_worst_point() -> None:
    pairs = pairs_for(GRID, noise_px=1.0)
    wrong = pairs[4]
    pairs[4] = PointPair(wrong.u, wrong.v, wrong.x + 0.9, wrong.y + 1.1)
    cal = calibrate(pairs, (640, 480))
    assert cal.worst is not None and cal.worst[0] == 4
    assert "worst is point 5" in cal.describe()


def test_four_pairs_fit_exactly_and_are_said_to_be_unchecked() -> None:
    cal = calibrate(pairs_for([(2.0, 1.0), (6.0, 1.0), (6.0, 5.0), (2.0, 5.0)]), (640, 480))
    assert not cal.checked and cal.error_m is None
    assert "add a fifth point" in cal.describe()


def test_the_feet_of_a_box_are_its_bottom_centre() -> None:
    cal = calibrate(pairs_for(GRID), (640, 480))
    ((u, v),) = pinhole(np.array([(4.0, 3.0)]))
    foot = cal.foot_of((u - 20.0, v - 120.0, 40.0, 120.0))
    assert foot is not None and math.hypot(foot[0] - 4.0, foot[1] - 3.0) < 1e-6


def test_a_point_above_the_horizon_has_no_floor_place() -> None:
    cal = calibrate(pairs_for(GRID), (640, 480))
    assert cal.to_floor(320.0, 0.0) is None  # the sky: 30° down, 45° half-view upwards


@pytest.mark.parametrize(
    ("pairs", "problem"),
    [
        (pairs_for(GRID[:3]), "need at least 4 point pairs"),
        (pairs_for([(2.0, 1.0), (3.0, 1.0), (4.0, 1.0), (5.0, 1.0), (6.0, 1.0)]), "one line"),
        # Three of four on a line fix no floor: the fit was whichever rounding picked.
        (pairs_for(GRID[:4]), "the picture points but point 4 lie on one line"),
        (
            [*pairs_for(GRID[:4]), PointPair(700.0, 10.0, 1.0, 1.0)],
            "point 5: picture point (700, 10) is outside the 640 × 480 picture",
        ),
        ([*pairs_for(GRID[:4]), PointPair(math.nan, 1.0, 1.0, 1.0)], "point 5: every number"),
        ([*pairs_for(GRID[:4]), pairs_for(GRID[:1])[0]], "points 1 and 5: the same picture point"),
    ],
)
def test_bad_pairs_are_refused_naming_the_point(pairs: list[PointPair], problem: str) -> None:
    with pytest.raises(CalibrationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        calibrate(pairs, (640, 480))


def test_room_corners_pair_with_the_room_on_the_floor_plan() -> None:
    corners = pinhole(np.array([(1.0, 0.5), (7.0, 0.5), (7.0, 5.5), (1.0, 5.5)]))
    pairs = room_corner_pairs((1.0, 0.5), (6.0, 5.0), corners.tolist())
    assert [(p.x, p.y) for p in pairs] == [(1.0, 0.5), (7.0, 0.5), (7.0, 5.5), (1.0, 5.5)]
    cal = calibrate(pairs, (640, 480))
    ((u, v),) = pinhole(np.array([(4.0, 3.0)]))
    x, y = cal.to_floor(float(u), float(v)) or (math.nan, math.nan)
    assert math.hypot(x - 4.0, y - 3.0) < 1e-6
    with pytest.raises(CalibrationError, match="four floor corners"):
        room_corner_pairs((0.0, 0.0), (1.0, 1.0), corners.tolist()[:3])


def test_a_calibration_is_stored_audited_and_replaced(db_url: str, tmp_path: Path) -> None:
    site = load_site(
        write_site(tmp_path / "site.toml", '[[cameras]]\nid = "lobby"\nurl = "rtsp://cam/1"\n')
    )
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            ids = writer.execute(SyncSite(site=site, at=datetime.now(UTC)))
            first = calibrate(pairs_for(GRID, noise_px=2.0), (640, 480))
            writer.execute(
                CalibrateCamera(
                    site_id=ids.site_id,
                    camera="lobby",
                    calibration=first,
                    at=datetime.now(UTC),
                    actor=ADMIN,
                )
            )
            stored = camera_calibrations(store, ids.site_id)["lobby"]
            assert stored.calibration.pairs == first.pairs
            assert stored.calibration.error_m == pytest.approx(first.error_m)
            assert np.allclose(stored.calibration.homography, first.homography)
            assert stored.calibrated_by == ADMIN.label
            second = calibrate(pairs_for(CORNERS), (640, 480))
            writer.execute(
                CalibrateCamera(
                    site_id=ids.site_id,
                    camera="lobby",
                    calibration=second,
                    at=datetime.now(UTC),
                    actor=ADMIN,
                )
            )
            assert camera_calibrations(store, ids.site_id)["lobby"].calibration.error_m is None
            with pytest.raises(CalibrationError, match="no camera 'hall'"):
                writer.execute(
                    CalibrateCamera(
                        site_id=ids.site_id,
                        camera="hall",
                        calibration=second,
                        at=datetime.now(UTC),
                        actor=ADMIN,
                    )
                )
            with pytest.raises(
                PermissionError, match=r"olly \(operator\) may not calibrate cameras to the floor"
            ):
                writer.execute(
                    CalibrateCamera(
                        site_id=ids.site_id,
                        camera="lobby",
                        calibration=first,
                        at=datetime.now(UTC),
                        actor=OPERATOR,
                    )
                )
        with store.sessions() as session:
            actions = [e.action for e in session.query(AuditEntry).order_by(AuditEntry.id)]
        assert actions.count("camera.calibrate") >= 2
    finally:
        store.close()


@pytest.mark.slow
def test_a_calibration_stored_elsewhere_reaches_the_running_fusion(
    db_url: str, tmp_path: Path, vtest_avi: Path
) -> None:
    """``watchfloor cameras calibrate`` (its own store writer, as here) or a console on
    another engine of a shared site stores a camera's calibration: the running engine's
    fusion places that camera's people on the floor within seconds. Before, it went on
    saying the camera was not calibrated until the engine restarted."""
    site = load_site(
        write_site(
            tmp_path / "site.toml",
            f'[[cameras]]\nid = "plaza"\nname = "Plaza"\nurl = "{vtest_avi}"\nloop = true\n',
            "[room]\nwidth_m = 8.0\ndepth_m = 6.0\nheight_m = 3.0\n",
        )
    )
    runtime = EngineRuntime(site, Store(db_url), analytics=False)
    elsewhere = Store(db_url)
    try:
        runtime.start()
        fusion = runtime.floor.service
        assert fusion is not None and fusion.calibrated() == frozenset()
        calibration = calibrate(pairs_for(GRID), (768, 576))
        with StoreWriter.running(elsewhere, clock=REAL_CLOCK) as writer:
            ids = writer.execute(SyncSite(site=site, at=datetime.now(UTC)))
            writer.execute(
                CalibrateCamera(
                    site_id=ids.site_id,
                    camera="plaza",
                    calibration=calibration,
                    at=datetime.now(UTC),
                    actor=ADMIN,
                )
            )
        deadline = time.monotonic() + 20
        while "plaza" not in fusion.calibrated() and time.monotonic() < deadline:
            time.sleep(0.05)
        stored = fusion.calibration_of("plaza")
        assert stored is not None and stored.pairs == calibration.pairs
    finally:
        runtime.stop()
        elsewhere.close()
        assert runtime.store is not None
        runtime.store.close()
