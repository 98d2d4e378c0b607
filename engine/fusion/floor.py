"""Cameras on the floor: a camera's picture mapped onto the site's floor plan.

An admin gives four or more **point pairs**: a point in the camera's picture (pixels from the
top-left corner, y down) and the place on the floor it shows (metres on the site's floor plan,
the axes the sensing rooms and nodes use), or clicks a sensing room's four floor corners in
the picture. The floor is a plane, so the pairs fix a **homography** H (picture → floor),
fitted by the normalised direct linear transform (Hartley's conditioning, then the SVD's
least-squares solution). A tracked person's feet (the bottom centre of their box) then have
floor coordinates: :meth:`FloorCalibration.to_floor`.

**The check.** With exactly four pairs the fit is exact, so its residual says nothing. With
five or more, each pair is left out in turn, H is fitted on the others and the left-out point
is mapped: the distance from where it lands to where the admin said it is, in metres, is that
point's **error**; their median is the calibration's error, shown to the admin (the target is
0.3 m), and the worst point is named, since a bad click is the usual cause. Four pairs are
accepted but said to be unchecked.

Refused with :class:`CalibrationError` naming the point: fewer than four pairs, numbers that
are not finite, a picture point outside the picture, two pairs at the same picture point or
the same floor point, three points on one line (the plane is not fixed), a fit that puts a
given point behind the camera (the horizon between the points: a mistyped coordinate).

:class:`CalibrateCamera` stores it through the store writer (the configure-cameras
permission, audited as ``camera.calibrate`` with the pairs and the error); a new calibration
replaces the old one. :func:`camera_calibrations` reads them back.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.fusion_models import CameraCalibrationRow
from engine.store.models import Camera

MIN_PAIRS: Final = 4
MAX_PAIRS: Final = 64
TARGET_ERROR_M: Final = 0.3  # the figure: median error on the calibration scene
MIN_IMAGE_SEPARATION_PX: Final = 4.0
MIN_FLOOR_SEPARATION_M: Final = 0.1
COLLINEAR_RATIO: Final = 0.02  # a triangle's area below this share of its longest side² is a line
MAX_FLOOR_M: Final = 10_000.0

FloatArray = npt.NDArray[np.float64]


class CalibrationError(ValueError):
    """The point pairs cannot calibrate a camera; the message says which point and why."""


@dataclass(frozen=True, slots=True)
class PointPair:
    """A point in the picture (``u``, ``v`` pixels from the top-left, v down) and the floor
    place it shows (``x``, ``y`` metres on the site's floor plan)."""

    u: float
    v: float
    x: float
    y: float

    def as_json(self) -> list[float]:
        return [round(self.u, 2), round(self.v, 2), round(self.x, 4), round(self.y, 4)]


@dataclass(frozen=True, slots=True)
class FloorCalibration:
    """A camera's picture → floor mapping. ``homography`` is row-major 3×3 (picture → floor);
    ``errors_m`` the leave-one-out error of each pair (empty with four pairs: unchecked),
    ``image_size`` the picture's (width, height) in pixels."""

    pairs: tuple[PointPair, ...]
    homography: tuple[float, ...]
    image_size: tuple[int, int]
    errors_m: tuple[float, ...]

    @property
    def checked(self) -> bool:
        return bool(self.errors_m)

    @property
    def error_m(self) -> float | None:
        """The median leave-one-out error in metres (None: four pairs, not checked)."""
        return float(np.median(self.errors_m)) if self.errors_m else None

    @property
    def worst(self) -> tuple[int, float] | None:
        """The pair (index from 0) whose error is largest, and that error."""
        if not self.errors_m:
            return None
        index = int(np.argmax(self.errors_m))
        return index, self.errors_m[index]

    def matrix(self) -> FloatArray:
        return np.asarray(self.homography, dtype=np.float64).reshape(3, 3)

    def to_floor(self, u: float, v: float) -> tuple[float, float] | None:
        """Where picture point (u, v) is on the floor, or None when it lies above the
        horizon (the floor does not reach it there)."""
        return _map_one(self.matrix(), self.floor_side(), u, v)

    def to_floor_many(self, points: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """N×2 picture points → (N×2 floor points, mask of those below the horizon)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        mapped, w = _apply(self.matrix(), pts)
        return mapped, (w * self.floor_side()) > 1e-12

    def to_picture(self, x: float, y: float) -> tuple[float, float] | None:
        """Where floor place (x, y) appears in the picture, or None when it is behind the
        camera (the fit puts it beyond the horizon). Not limited to the picture's frame."""
        a, b, c = np.linalg.inv(self.matrix()) @ np.array([x, y, 1.0])
        # H · (a/c, b/c, 1) = (x, y, 1) / c: the picture point's w is 1/c.
        if c * self.floor_side() <= 1e-12:
            return None
        return float(a / c), float(b / c)

    def foot_of(self, box: Sequence[float]) -> tuple[float, float] | None:
        """The floor place of a person whose box (x, y, w, h pixels) is given: the bottom
        centre of the box, where their feet are."""
        x, y, w, h = (float(v) for v in box)
        return self.to_floor(x + w / 2.0, y + h)

    def floor_side(self) -> float:
        """The sign of w on the floor's side of the horizon (every given pair is there)."""
        first = self.pairs[0]
        _, w = _apply(self.matrix(), np.array([[first.u, first.v]]))
        return 1.0 if w[0] > 0 else -1.0

    def describe(self) -> str:
        """One line for an admin: the error, or that it is unchecked."""
        if not self.checked:
            return (
                f"{len(self.pairs)} point pairs fit exactly, so the error is not known: "
                "add a fifth point to check it"
            )
        worst = self.worst
        assert worst is not None
        verdict = "within" if (self.error_m or 0.0) <= TARGET_ERROR_M else "above"
        return (
            f"error {self.error_m:.2f} m median over {len(self.pairs)} points "
            f"({verdict} the {TARGET_ERROR_M:.1f} m target); worst is point {worst[0] + 1} "
            f"at {worst[1]:.2f} m"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "pairs": [p.as_json() for p in self.pairs],
            "homography": [float(v) for v in self.homography],
            "image_size": list(self.image_size),
            "errors_m": [round(e, 4) for e in self.errors_m],
            "error_m": None if self.error_m is None else round(self.error_m, 4),
        }


def calibrate(pairs: Sequence[PointPair], image_size: tuple[int, int]) -> FloorCalibration:
    """Fit and check a calibration from ``pairs`` for a picture of ``image_size`` (width,
    height). Raises :class:`CalibrationError` naming the point that is wrong."""
    width, height = image_size
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise CalibrationError(f"the picture size must be positive pixels, got {image_size!r}")
    pairs = tuple(pairs)
    if len(pairs) < MIN_PAIRS:
        raise CalibrationError(
            f"need at least {MIN_PAIRS} point pairs (picture point and floor place), "
            f"got {len(pairs)}"
        )
    if len(pairs) > MAX_PAIRS:
        raise CalibrationError(f"at most {MAX_PAIRS} point pairs, got {len(pairs)}")
    for n, pair in enumerate(pairs, start=1):
        values = (pair.u, pair.v, pair.x, pair.y)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise CalibrationError(f"point {n}: every number must be finite, got {values!r}")
        if not (0.0 <= pair.u <= width and 0.0 <= pair.v <= height):
            raise CalibrationError(
                f"point {n}: picture point ({pair.u:g}, {pair.v:g}) is outside the "
                f"{width} × {height} picture"
            )
        if abs(pair.x) > MAX_FLOOR_M or abs(pair.y) > MAX_FLOOR_M:
            raise CalibrationError(
                f"point {n}: floor place ({pair.x:g}, {pair.y:g}) m is more than "
                f"{MAX_FLOOR_M:g} m from the plan's origin"
            )
    image = np.array([[p.u, p.v] for p in pairs], dtype=np.float64)
    floor = np.array([[p.x, p.y] for p in pairs], dtype=np.float64)
    _check_distinct(image, MIN_IMAGE_SEPARATION_PX, "picture point", "px")
    _check_distinct(floor, MIN_FLOOR_SEPARATION_M, "floor place", "m")
    _check_spread(image, "picture points")
    _check_spread(floor, "floor places")
    matrix = fit_homography(image, floor)
    _check_one_side(matrix, image)
    errors: list[float] = []
    if len(pairs) > MIN_PAIRS:
        for leave in range(len(pairs)):
            keep = np.arange(len(pairs)) != leave
            try:
                partial = fit_homography(image[keep], floor[keep])
            except CalibrationError:
                errors.append(math.inf)
                continue
            mapped, w = _apply(partial, image[leave : leave + 1])
            side = _apply(partial, image[keep][:1])[1][0]
            if w[0] * side <= 0:  # the others put this point beyond their horizon
                errors.append(math.inf)
            else:
                errors.append(float(np.hypot(*(mapped[0] - floor[leave]))))
    return FloorCalibration(
        pairs=pairs,
        homography=tuple(float(v) for v in matrix.ravel()),
        image_size=(width, height),
        errors_m=tuple(errors),
    )


def fit_homography(source: FloatArray, target: FloatArray) -> FloatArray:
    """The 3×3 H with target ~ H·source (normalised DLT, least squares over all pairs),
    scaled so that H[2,2] = 1 where possible. Raises :class:`CalibrationError` when the
    points do not fix one."""
    src_t, src_n = _normalise(source)
    dst_t, dst_n = _normalise(target)
    rows = []
    for (x, y), (u, v) in zip(src_n, dst_n, strict=True):
        rows.append([-x, -y, -1.0, 0.0, 0.0, 0.0, u * x, u * y, u])
        rows.append([0.0, 0.0, 0.0, -x, -y, -1.0, v * x, v * y, v])
    a = np.asarray(rows)
    # The thin SVD gives the same singular values and right vectors once there are nine rows
    # or more, and skips the 2N×2N left basis: with 64 pairs that basis made each fit take
    # tens of milliseconds (a multi-threaded BLAS on a busy machine), too slow for an admin's
    # page that refits at every click. Four pairs (eight rows) need the full one for the
    # ninth, null, direction.
    _, singular, vt = np.linalg.svd(a, full_matrices=a.shape[0] < a.shape[1])
    # A second null direction means the points leave the mapping undetermined (four pairs
    # give eight singular values: the ninth, null, one is not among them).
    singular = np.concatenate([singular, np.zeros(max(9 - len(singular), 0))])
    if singular[-2] < 1e-9 * singular[0]:
        raise CalibrationError("the points do not fix the floor: spread them over the picture")
    h_n = vt[-1].reshape(3, 3)
    h = np.linalg.inv(dst_t) @ h_n @ src_t
    h = h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h / np.linalg.norm(h)
    if not np.all(np.isfinite(h)) or abs(np.linalg.det(h)) < 1e-15:
        raise CalibrationError("the points do not fix the floor: spread them over the picture")
    return np.asarray(h, dtype=np.float64)


def room_corner_pairs(
    origin: tuple[float, float], size: tuple[float, float], corners_px: Sequence[Sequence[float]]
) -> list[PointPair]:
    """Pairs from a sensing room's four floor corners clicked in the picture, in order: the
    room's origin corner, then along its width (x), the far corner, then along its depth
    (y). ``origin`` is the room's corner on the floor plan, ``size`` its width and depth."""
    if len(corners_px) != 4:
        raise CalibrationError(f"a room has four floor corners, got {len(corners_px)} points")
    ox, oy = origin
    width, depth = size
    places = [(ox, oy), (ox + width, oy), (ox + width, oy + depth), (ox, oy + depth)]
    pairs = []
    for n, (point, (x, y)) in enumerate(zip(corners_px, places, strict=True), start=1):
        if len(point) != 2:
            raise CalibrationError(f"corner {n}: expected a picture point (u, v), got {point!r}")
        pairs.append(PointPair(float(point[0]), float(point[1]), x, y))
    return pairs


def _normalise(points: FloatArray) -> tuple[FloatArray, FloatArray]:
    centre = points.mean(axis=0)
    spread = np.sqrt(((points - centre) ** 2).sum(axis=1)).mean()
    scale = math.sqrt(2.0) / spread if spread > 0 else 1.0
    t = np.array([[scale, 0.0, -scale * centre[0]], [0.0, scale, -scale * centre[1]], [0, 0, 1]])
    homogeneous = np.column_stack([points, np.ones(len(points))])
    return t, (homogeneous @ t.T)[:, :2]


def _apply(matrix: FloatArray, points: FloatArray) -> tuple[FloatArray, FloatArray]:
    homogeneous = np.column_stack([points, np.ones(len(points))]) @ matrix.T
    w = homogeneous[:, 2]
    safe = np.where(np.abs(w) < 1e-12, 1e-12, w)
    return homogeneous[:, :2] / safe[:, None], w


def _map_one(matrix: FloatArray, side: float, u: float, v: float) -> tuple[float, float] | None:
    mapped, w = _apply(matrix, np.array([[u, v]], dtype=np.float64))
    if w[0] * side <= 1e-12:
        return None
    return float(mapped[0, 0]), float(mapped[0, 1])


def _check_distinct(points: FloatArray, least: float, what: str, unit: str) -> None:
    for i in range(len(points)):
        for j in range(i):
            if float(np.hypot(*(points[i] - points[j]))) < least:
                raise CalibrationError(
                    f"points {j + 1} and {i + 1}: the same {what} (closer than {least:g} {unit})"
                )


def _check_spread(points: FloatArray, what: str) -> None:
    """Refuse points that all lie on one line, or all but one: some four of them, no three
    on a line, must make a quadrilateral (every triple is measured at once: 64 points are
    41,664 triangles)."""
    n = len(points)
    triples = np.array(list(itertools.combinations(range(n), 3)), dtype=np.intp).reshape(-1, 3)
    a, b, c = points[triples[:, 0]], points[triples[:, 1]], points[triples[:, 2]]
    ab, ac, bc = b - a, c - a, c - b
    area = np.abs(ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0]) / 2.0
    longest = np.max(np.column_stack([np.hypot(*ab.T), np.hypot(*ac.T), np.hypot(*bc.T)]), axis=1)
    ratio = np.divide(area, longest**2, out=np.zeros_like(area), where=longest > 0)
    best = float(ratio.max()) if len(ratio) else 0.0
    if best < COLLINEAR_RATIO:
        raise CalibrationError(
            f"the {what} lie on one line, which does not fix the floor: "
            "add points away from that line"
        )
    # All but one on a line fixes no floor either (four points, no three on a line, do):
    # the fit is then one of many, and which one rounding picks.
    for off in range(n):
        without = ~(triples == off).any(axis=1)
        if without.any() and float(ratio[without].max()) < COLLINEAR_RATIO:
            raise CalibrationError(
                f"the {what} but point {off + 1} lie on one line, which does not fix the "
                "floor: add a point away from that line and from point "
                f"{off + 1}"
            )


def _check_one_side(matrix: FloatArray, image: FloatArray) -> None:
    """Every given picture point must map to the floor on the camera's side of the horizon."""
    _, w = _apply(matrix, image)
    positive = w > 0
    if positive.all() or (~positive).all():
        return
    minority = positive if positive.sum() < (~positive).sum() else ~positive
    named = ", ".join(str(i + 1) for i in np.flatnonzero(minority))
    raise CalibrationError(
        f"point {named} cannot be where it is said to be with the others: the fit puts it "
        "beyond the horizon (check its floor place)"
    )


# ------------------------------------------------------------------------------ the store


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrateCamera(GuardedCommand, StoreCommand):
    """``actor`` (configure-cameras) stores ``calibration`` for camera ``camera`` (its key)
    of site ``site_id``, replacing any earlier one. Audited as ``camera.calibrate`` with the
    point count and the error. Returns the calibration."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_CAMERAS
    action: ClassVar[str] = "camera.calibrate"

    site_id: int
    camera: str
    calibration: FloorCalibration
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"camera {self.camera}"

    def apply(self, session: Session) -> FloorCalibration:
        camera_id = session.scalar(
            select(Camera.id).where(Camera.site_id == self.site_id, Camera.key == self.camera)
        )
        if camera_id is None:
            raise CalibrationError(f"no camera {self.camera!r} on this site")
        row = session.get(CameraCalibrationRow, camera_id)
        cal = self.calibration
        values: dict[str, Any] = {
            "pairs": [[p.u, p.v, p.x, p.y] for p in cal.pairs],
            "homography": [float(v) for v in cal.homography],
            "width_px": cal.image_size[0],
            "height_px": cal.image_size[1],
            "errors_m": [e if math.isfinite(e) else None for e in cal.errors_m],
            "error_m": cal.error_m if cal.error_m is None or math.isfinite(cal.error_m) else None,
            "calibrated_by": self.actor.label,
            "calibrated_at": self.at,
        }
        if row is None:
            session.add(CameraCalibrationRow(camera_id=camera_id, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        session.flush()
        audit_command(
            session,
            self,
            {
                "points": len(cal.pairs),
                "error": cal.describe(),
                "pairs": [p.as_json() for p in cal.pairs],
            },
        )
        return cal


@dataclass(frozen=True, slots=True)
class StoredCalibration:
    """A camera's stored calibration, who made it and when."""

    camera: str
    calibration: FloorCalibration
    calibrated_by: str
    calibrated_at: datetime


def camera_calibrations(store: Store, site_id: int) -> dict[str, StoredCalibration]:
    """Every calibrated camera of site ``site_id``, by camera key."""
    stmt = (
        select(Camera.key, CameraCalibrationRow)
        .join(CameraCalibrationRow, CameraCalibrationRow.camera_id == Camera.id)
        .where(Camera.site_id == site_id)
    )
    with store.sessions() as session:
        return {key: _stored(key, row) for key, row in session.execute(stmt).all()}


def _stored(key: str, row: CameraCalibrationRow) -> StoredCalibration:
    pairs = tuple(PointPair(*(float(v) for v in p)) for p in row.pairs)
    errors = tuple(math.inf if e is None else float(e) for e in (row.errors_m or ()))
    return StoredCalibration(
        camera=key,
        calibration=FloorCalibration(
            pairs=pairs,
            homography=tuple(float(v) for v in row.homography),
            image_size=(row.width_px, row.height_px),
            errors_m=errors,
        ),
        calibrated_by=row.calibrated_by,
        calibrated_at=row.calibrated_at,
    )
