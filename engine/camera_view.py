"""A pinhole camera over the site's floor: where a floor point shows in its picture and back.

Site axes: x east, y north, z up, metres; the floor is the plane z = 0. The camera is mounted
at (x, y, z), looks along ``yaw_deg`` on the floor (0 = +x, 90 = +y) tilted down by
``pitch_deg``, has a horizontal field of view ``hfov_deg`` and square pixels, no lens
distortion and no roll, and gives pictures of ``width`` × ``height`` pixels (pixel
coordinates from the picture's top-left corner, u right, v down; pixel (i, j) covers
[i, i+1) × [j, j+1)).

Camera coordinates follow OpenCV: x right, y down, z along the optical axis, so a point is in
front of the camera when its camera z is positive.

This is the site file's ``view`` of a simulated camera (engine.config), hence a basic module
that knows nothing else of the engine; :mod:`engine.sim.scene` renders pictures through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

NEAR_M: Final = 0.05  # points closer than this in front of the lens are not pictured
MAX_COORDINATE_M: Final = 10_000.0  # as a floor plan's (engine.fusion.floor)
MAX_MOUNT_HEIGHT_M: Final = 100.0
PITCH_RANGE_DEG: Final = (0.0, 90.0)  # open: level cameras never see the floor's horizon end
HFOV_RANGE_DEG: Final = (20.0, 150.0)  # open: telephoto to wide angle without fisheye
SIZE_RANGE_PX: Final = (16, 8192)
DEFAULT_WIDTH_PX: Final = 640
DEFAULT_HEIGHT_PX: Final = 480


@dataclass(frozen=True, slots=True)
class CameraView:
    """A pinhole camera over the floor (see the module docstring for the axes).

    Raises ValueError naming the field for a value that is not a finite number, a mount at
    or below the floor, a pitch outside (0, 90) degrees, a field of view outside (20, 150)
    degrees or a picture size outside 16..8192 pixels."""

    x: float
    y: float
    z: float
    yaw_deg: float
    pitch_deg: float
    hfov_deg: float
    width: int = DEFAULT_WIDTH_PX
    height: int = DEFAULT_HEIGHT_PX

    def __post_init__(self) -> None:
        for name in ("x", "y", "z", "yaw_deg", "pitch_deg", "hfov_deg"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name}: expected a number, got {type(value).__name__}")
            if not math.isfinite(value):
                raise ValueError(f"{name}: expected a finite number, got {value}")
        for name in ("x", "y"):
            if abs(getattr(self, name)) > MAX_COORDINATE_M:
                raise ValueError(f"{name}: {getattr(self, name)} m is beyond ±{MAX_COORDINATE_M:g}")
        if not 0.0 < self.z <= MAX_MOUNT_HEIGHT_M:
            raise ValueError(
                f"z: {self.z} m is not above the floor (0 < z ≤ {MAX_MOUNT_HEIGHT_M:g} m)"
            )
        low, high = PITCH_RANGE_DEG
        if not low < self.pitch_deg < high:
            raise ValueError(
                f"pitch_deg: {self.pitch_deg} is outside ({low:g}, {high:g}): the camera "
                "must look down at the floor, short of straight down"
            )
        low, high = HFOV_RANGE_DEG
        if not low < self.hfov_deg < high:
            raise ValueError(f"hfov_deg: {self.hfov_deg} is outside ({low:g}, {high:g})")
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name}: expected a whole number, got {type(value).__name__}")
            if not SIZE_RANGE_PX[0] <= value <= SIZE_RANGE_PX[1]:
                raise ValueError(
                    f"{name}: {value} px is outside {SIZE_RANGE_PX[0]}..{SIZE_RANGE_PX[1]}"
                )

    # -- the camera's matrices ------------------------------------------------------------
    @property
    def focal_px(self) -> float:
        """Focal length in pixels (the same across and down: square pixels)."""
        return (self.width / 2.0) / math.tan(math.radians(self.hfov_deg) / 2.0)

    @property
    def vfov_deg(self) -> float:
        """The vertical field of view that the picture's height gives, degrees."""
        return math.degrees(2.0 * math.atan((self.height / 2.0) / self.focal_px))

    def intrinsics(self) -> FloatArray:
        """K, 3×3: focal length and principal point (the picture's centre) in pixels."""
        f = self.focal_px
        return np.array([[f, 0.0, self.width / 2.0], [0.0, f, self.height / 2.0], [0, 0, 1.0]])

    def rotation(self) -> FloatArray:
        """R, 3×3, site → camera axes: its rows are the camera's right, down and forward
        directions in site axes."""
        yaw, pitch = math.radians(self.yaw_deg), math.radians(self.pitch_deg)
        forward = np.array(
            [math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), -math.sin(pitch)]
        )
        right = np.array([math.sin(yaw), -math.cos(yaw), 0.0])  # level: no roll
        down = np.cross(forward, right)
        return np.vstack([right, down, forward])

    @property
    def position(self) -> FloatArray:
        """The mount point (x, y, z), metres."""
        return np.array([self.x, self.y, self.z], dtype=np.float64)

    def to_camera(self, points: npt.ArrayLike) -> FloatArray:
        """N×3 site points (or N×2 floor points, z = 0) → N×3 camera coordinates, metres."""
        pts = _as_points(points)
        result: FloatArray = (pts - self.position) @ self.rotation().T
        return result

    # -- projection -----------------------------------------------------------------------
    def project(self, points: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Where N×3 site points (N×2: points on the floor) show in the picture: N×2 pixel
        coordinates (u, v) and a mask of the points in front of the camera (at least
        :data:`NEAR_M` ahead); points behind it get NaN. A point in front may still fall
        outside the picture."""
        cam = self.to_camera(points)
        ahead = cam[:, 2] >= NEAR_M
        pixels = np.full((len(cam), 2), np.nan)
        if np.any(ahead):
            k = self.intrinsics()
            depth = cam[ahead, 2]
            pixels[ahead, 0] = k[0, 0] * cam[ahead, 0] / depth + k[0, 2]
            pixels[ahead, 1] = k[1, 1] * cam[ahead, 1] / depth + k[1, 2]
        return pixels, ahead

    def floor_to_image(self) -> FloatArray:
        """H, 3×3: the homography of the floor plane, (x, y, 1) → (u·w, v·w, w). It is not
        rescaled: w is the point's depth along the optical axis, positive in front."""
        r = self.rotation()
        t = -r @ self.position
        result: FloatArray = self.intrinsics() @ np.column_stack([r[:, 0], r[:, 1], t])
        return result

    def image_to_floor(self, pixels: npt.ArrayLike) -> FloatArray:
        """N×2 pixels (u, v) → N×2 floor points (x, y) in metres through the inverse of
        :meth:`floor_to_image`; pixels on or above the horizon, whose rays never reach the
        floor, give NaN."""
        pts = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
        homogeneous = np.column_stack([pts, np.ones(len(pts))])
        mapped = homogeneous @ np.linalg.inv(self.floor_to_image()).T
        scale = mapped[:, 2]
        # depth ∝ 1/scale (H·H⁻¹ = I with w = depth): the ray meets the floor ahead only
        # where scale > 0; a ray near the horizon meets it absurdly far away.
        floor = np.full((len(pts), 2), np.nan)
        ahead = scale > 1e-12
        floor[ahead] = mapped[ahead, :2] / scale[ahead, None]
        far = np.any(np.abs(floor) > 1e9, axis=1)
        floor[far] = np.nan
        return floor

    def person_box(
        self, x: float, y: float, height_m: float, width_m: float = 0.5
    ) -> tuple[float, float, float, float] | None:
        """The picture box (x, y, w, h pixels, left and top from the picture's top-left)
        of a person standing with their feet at floor point (x, y): the box around their
        feet and the top of their head, ``width_m`` wide across the camera's view. Not
        clipped to the picture; None when any of it is behind the camera or all of it
        outside the picture."""
        right = self.rotation()[0]  # level, so it runs across the view on the floor
        half = right * (width_m / 2.0)
        feet, head = np.array([x, y, 0.0]), np.array([x, y, height_m])
        corners = np.array([feet - half, feet + half, head - half, head + half])
        pixels, ahead = self.project(corners)
        if not np.all(ahead):
            return None
        u0, v0 = pixels.min(axis=0)
        u1, v1 = pixels.max(axis=0)
        if u1 <= 0 or v1 <= 0 or u0 >= self.width or v0 >= self.height:
            return None
        return float(u0), float(v0), float(u1 - u0), float(v1 - v0)


def _as_points(points: npt.ArrayLike) -> FloatArray:
    """N×3 site points from N×3 or N×2 (on the floor, z = 0)."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts.reshape(1, -1)
    if pts.ndim != 2 or pts.shape[1] not in (2, 3):
        raise ValueError(f"expected N×3 or N×2 points, got shape {pts.shape}")
    if pts.shape[1] == 2:
        pts = np.column_stack([pts, np.zeros(len(pts))])
    return pts
