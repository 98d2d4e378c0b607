"""Privacy masks: areas of a camera's picture blacked out at the source.

An admin marks areas of a camera's picture as private (a neighbour's window, a desk screen).
Each area is a polygon. The camera's worker fills every area black in each decoded frame
(:meth:`MaskSlot.apply`, ``cv2.fillPoly``) before anything else sees the frame: the live
tiles, the re-streamed video, clips, snapshots, person detection, faces and gestures all get
the masked picture, so nothing there is shown, stored or analysed. A camera that sends
H.264/H.265 is normally recorded from its own packets, which hold the unmasked picture; while
it is masked its clips are encoded from the masked frames instead (see
:mod:`engine.vision.source`).

**Coordinates.** Areas are given in picture pixels (from the top-left corner, y down) of the
picture the admin drew on, and stored as fractions of the picture's width and height (0-1).
A camera may later send another size (its substream or main stream chosen, its resolution
changed): fractions keep covering the same part of the scene at any size, where pixels
would leave part of the private area bare on a larger picture. The picture size drawn on is
stored too, so the areas can be shown back in its pixels.

**Checks.** Refused with :class:`PrivacyMaskError` naming the area and point: more than
:data:`MAX_AREAS` areas, an area with fewer than three or more than :data:`MAX_POINTS`
points, a number that is not finite, a point outside the picture, two consecutive points at
one place, an outline that crosses itself (fillPoly would leave part of it bare), or an area
of (almost) no size.

**Cost.** The areas are turned into the frame size's pixel polygons once per mask and frame
size; each frame then costs one ``cv2.fillPoly`` per area. Measured on this machine (one
OpenCV thread, two four-cornered areas covering 22 % of the picture): 0.04 ms a frame at
640×480, 0.05 ms at 1280×720, 0.10-0.14 ms at 1920×1080, against 3.6 / 6.9 / 16-22 ms for
``np.where`` with a precomputed boolean mask (``benchmarks/privacy_masks.py``).

:class:`SetPrivacyMasks` stores a camera's areas through the store writer (the
configure-cameras permission, audited as ``camera.mask``); no areas clears them.
:func:`privacy_masks` reads them back.
"""

from __future__ import annotations

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
from engine.cv import import_cv2
from engine.frames import Image
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.models import Camera
from engine.store.privacy_models import CameraPrivacyMaskRow

MAX_AREAS: Final = 16
MAX_POINTS: Final = 64  # per area
MIN_AREA_PX2: Final = 16.0  # smaller than 4 × 4 pixels: a slip of the mouse, not an area
SAME_POINT_PX: Final = 1.0
_SHARE_RASTER: Final = 1000  # the union's share is measured on a 1000 × 1000 raster (±0.1 %)
_DECIMALS: Final = 6  # fractions stored to a millionth: under a pixel at any camera size

Point = tuple[float, float]


class PrivacyMaskError(ValueError):
    """The areas cannot be a privacy mask; the message names the area and point."""


@dataclass(frozen=True, slots=True)
class PrivacyMask:
    """A camera's private areas, each a polygon of (x, y) fractions of the picture's width
    and height (0-1, from the top-left, y down), and the picture size they were drawn on
    (``image_size``, width and height in pixels). No areas: nothing is masked."""

    areas: tuple[tuple[Point, ...], ...]
    image_size: tuple[int, int]

    @property
    def empty(self) -> bool:
        return not self.areas

    def pixel_areas(self, width: int, height: int) -> list[npt.NDArray[np.int32]]:
        """Each area as an N×2 int32 array of pixels of a ``width`` × ``height`` picture
        (what ``cv2.fillPoly`` takes)."""
        scale = np.array([width, height], dtype=np.float64)
        return [
            np.rint(np.asarray(area, dtype=np.float64) * scale).astype(np.int32)
            for area in self.areas
        ]

    def pixel_points(self) -> list[list[Point]]:
        """The areas in pixels of the picture they were drawn on."""
        width, height = self.image_size
        return [[(x * width, y * height) for x, y in area] for area in self.areas]

    def covered(self, width: int, height: int) -> npt.NDArray[np.bool_]:
        """Which pixels of a ``width`` × ``height`` picture are masked (True)."""
        cv2 = import_cv2()
        raster = np.zeros((height, width), dtype=np.uint8)
        for area in self.pixel_areas(width, height):
            cv2.fillPoly(raster, [area], 255)  # one call each: one call makes overlaps holes
        return raster > 0

    def covered_share(self) -> float:
        """The share of the picture masked (0-1), overlaps counted once. A share of area is
        the same at any picture size, so it is measured on a fixed raster."""
        if self.empty:
            return 0.0
        return float(self.covered(_SHARE_RASTER, _SHARE_RASTER).mean())

    def describe(self) -> str:
        """One plain sentence for an admin: how many areas, how much of the picture."""
        if self.empty:
            return "Nothing masked: the whole picture is shown, recorded and analysed"
        count = len(self.areas)
        areas = "1 area" if count == 1 else f"{count} areas"
        return (
            f"{areas} masked, {share_text(self.covered_share())} of the picture; "
            "nothing there is shown, recorded or analysed"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "areas": [[[x, y] for x, y in area] for area in self.areas],
            "areas_px": [
                [[round(x, 1), round(y, 1)] for x, y in area] for area in self.pixel_points()
            ],
            "image_size": list(self.image_size),
            "share": round(self.covered_share(), 4),
        }


def share_text(share: float) -> str:
    """``0.137`` → ``14 %``; a sliver under half a percent is ``under 1 %``, not ``0 %``."""
    percent = share * 100.0
    if 0.0 < percent < 0.5:
        return "under 1 %"
    return f"{percent:.0f} %"


NO_MASK_SIZE: Final = (1, 1)


def no_mask() -> PrivacyMask:
    """Nothing masked."""
    return PrivacyMask((), NO_MASK_SIZE)


def privacy_mask(
    areas: Sequence[Sequence[Sequence[float]]], image_size: tuple[int, int]
) -> PrivacyMask:
    """Check ``areas`` (each a sequence of (x, y) picture pixels of a picture of
    ``image_size`` = (width, height)) and make them a mask. Raises
    :class:`PrivacyMaskError` naming the area (from 1) and point (from 1) that is wrong."""
    width, height = image_size
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in image_size):
        raise PrivacyMaskError(f"the picture size must be positive pixels, got {image_size!r}")
    if len(areas) > MAX_AREAS:
        raise PrivacyMaskError(f"at most {MAX_AREAS} masked areas a camera, got {len(areas)}")
    kept: list[tuple[Point, ...]] = []
    for n, area in enumerate(areas, start=1):
        points = _checked_points(n, area, width, height)
        _check_outline(n, points)
        kept.append(
            tuple((round(x / width, _DECIMALS), round(y / height, _DECIMALS)) for x, y in points)
        )
    return PrivacyMask(tuple(kept), (width, height))


def _checked_points(
    n: int, area: Sequence[Sequence[float]], width: int, height: int
) -> list[Point]:
    if len(area) < 3:
        raise PrivacyMaskError(f"area {n}: an area needs at least 3 points, got {len(area)}")
    if len(area) > MAX_POINTS:
        raise PrivacyMaskError(f"area {n}: at most {MAX_POINTS} points, got {len(area)}")
    points: list[Point] = []
    for m, point in enumerate(area, start=1):
        if len(point) != 2:
            raise PrivacyMaskError(f"area {n}, point {m}: expected x,y, got {point!r}")
        x, y = point
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in (x, y)
        ):
            raise PrivacyMaskError(f"area {n}, point {m}: not finite numbers: {point!r}")
        if not (0.0 <= x <= width and 0.0 <= y <= height):
            raise PrivacyMaskError(
                f"area {n}, point {m}: ({x:g}, {y:g}) is outside the {width} × {height} picture"
            )
        points.append((float(x), float(y)))
    return points


def _check_outline(n: int, points: list[Point]) -> None:
    count = len(points)
    for i in range(count):
        a, b = points[i], points[(i + 1) % count]
        if math.dist(a, b) < SAME_POINT_PX:
            raise PrivacyMaskError(
                f"area {n}: points {i + 1} and {(i + 1) % count + 1} are at the same place"
            )
    # Edges i and j cross (neither shares a corner with the other): the outline crosses
    # itself, and fillPoly would leave part of the area bare.
    for i in range(count):
        for j in range(i + 2, count):
            if i == 0 and j == count - 1:
                continue  # the closing edge shares point 1 with the first
            if _segments_cross(
                points[i], points[(i + 1) % count], points[j], points[(j + 1) % count]
            ):
                raise PrivacyMaskError(
                    f"area {n}: its edges {i + 1}-{i + 2} and {j + 1}-{(j + 1) % count + 1} "
                    "cross; give the points in order around the area"
                )
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    area_px2 = 0.5 * abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))))
    if area_px2 < MIN_AREA_PX2:
        raise PrivacyMaskError(
            f"area {n} has almost no size ({area_px2:.1f} square pixels): its points lie on "
            "a line or too close together"
        )


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments a-b and c-d touch or cross (collinear overlaps included)."""

    def orient(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    def on(p: Point, q: Point, r: Point) -> bool:
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(
            p[1], q[1]
        )

    d1, d2, d3, d4 = orient(c, d, a), orient(c, d, b), orient(a, b, c), orient(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and on(c, d, a))
        or (d2 == 0 and on(c, d, b))
        or (d3 == 0 and on(a, b, c))
        or (d4 == 0 and on(a, b, d))
    )


class MaskSlot:
    """One camera's privacy mask as its worker applies it.

    :meth:`set` from any thread (the engine at start and when an admin saves); :meth:`apply`
    on the camera's worker thread, for every frame. The pixel polygons are made once per
    mask and frame size. No lock: each reads and replaces one attribute, which is atomic,
    and a frame being masked while a new mask is set gets the old or the new one whole."""

    def __init__(self, mask: PrivacyMask | None = None) -> None:
        self._mask: PrivacyMask | None = None
        self._prepared: tuple[PrivacyMask, tuple[int, int], list[npt.NDArray[np.int32]]] | None
        self._prepared = None
        self.set(mask)

    def set(self, mask: PrivacyMask | None) -> None:
        """Mask frames with ``mask`` from the next frame on (None or no areas: none)."""
        self._mask = mask if mask is not None and not mask.empty else None

    @property
    def mask(self) -> PrivacyMask | None:
        return self._mask

    def apply(self, image: Image) -> bool:
        """Black out the masked areas of ``image`` (BGR, H×W×3) in place; True when it was
        masked. Camera worker thread."""
        mask = self._mask
        if mask is None:
            return False
        height, width = image.shape[:2]
        prepared = self._prepared
        if prepared is None or prepared[0] is not mask or prepared[1] != (width, height):
            prepared = (mask, (width, height), mask.pixel_areas(width, height))
            self._prepared = prepared
        cv2 = import_cv2()
        black = (0,) * (image.shape[2] if image.ndim == 3 else 1)
        for area in prepared[2]:
            cv2.fillPoly(image, [area], black)  # one call each: one call makes overlaps holes
        return True


# ------------------------------------------------------------------------------ the store


@dataclass(frozen=True, slots=True, kw_only=True)
class SetPrivacyMasks(GuardedCommand, StoreCommand):
    """``actor`` (configure-cameras) sets the privacy mask of camera ``camera`` (its key)
    of site ``site_id``, replacing any earlier one; a mask without areas clears it.
    Audited as ``camera.mask`` with the areas and the share of the picture. Returns the
    mask."""

    permission: ClassVar[Permission] = Permission.CONFIGURE_CAMERAS
    action: ClassVar[str] = "camera.mask"

    site_id: int
    camera: str
    mask: PrivacyMask
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"camera {self.camera}"

    def apply(self, session: Session) -> PrivacyMask:
        camera_id = session.scalar(
            select(Camera.id).where(Camera.site_id == self.site_id, Camera.key == self.camera)
        )
        if camera_id is None:
            raise PrivacyMaskError(f"no camera {self.camera!r} on this site")
        row = session.get(CameraPrivacyMaskRow, camera_id)
        mask = self.mask
        if mask.empty:
            if row is not None:
                session.delete(row)
        else:
            values: dict[str, Any] = {
                "areas": [[[x, y] for x, y in area] for area in mask.areas],
                "width_px": mask.image_size[0],
                "height_px": mask.image_size[1],
                "masked_by": self.actor.label,
                "masked_at": self.at,
            }
            if row is None:
                session.add(CameraPrivacyMaskRow(camera_id=camera_id, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
        session.flush()
        audit_command(
            session,
            self,
            {
                "areas": len(mask.areas),
                "share": share_text(mask.covered_share()),
                "cleared": mask.empty,
                "polygons": [[[round(x, 4), round(y, 4)] for x, y in a] for a in mask.areas],
            },
        )
        return mask


@dataclass(frozen=True, slots=True)
class StoredPrivacyMask:
    """A camera's stored privacy mask, who set it and when."""

    camera: str
    mask: PrivacyMask
    masked_by: str
    masked_at: datetime


def privacy_masks(store: Store, site_id: int) -> dict[str, StoredPrivacyMask]:
    """Every masked camera of site ``site_id``, by camera key."""
    stmt = (
        select(Camera.key, CameraPrivacyMaskRow)
        .join(CameraPrivacyMaskRow, CameraPrivacyMaskRow.camera_id == Camera.id)
        .where(Camera.site_id == site_id)
    )
    with store.sessions() as session:
        return {key: _stored(key, row) for key, row in session.execute(stmt).all()}


def _stored(key: str, row: CameraPrivacyMaskRow) -> StoredPrivacyMask:
    areas = tuple(tuple((float(x), float(y)) for x, y in area) for area in row.areas)
    return StoredPrivacyMask(
        camera=key,
        mask=PrivacyMask(areas, (row.width_px, row.height_px)),
        masked_by=row.masked_by,
        masked_at=row.masked_at,
    )
