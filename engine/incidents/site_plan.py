"""The site plan under the risk map: a PNG or JPEG picture of the site (a site plan, a floor
plan) that an admin pins to the ground with two points.

An admin picks two points on the picture and says where each is: its latitude and
longitude, or metres east and north of the site's centre (the site file's ``[site] geo``,
the centre the risk map is drawn around). Two point pairs fix a **similarity transform**
(uniform scale, rotation, offset; no shear): picture pixels → metres east and north of the
centre, as :func:`transform_from_pins` computes it. A plan drawn to scale needs no more; a
third point would only be needed for a skewed photograph, which a plan is not.

:func:`load_site_plan` checks the file (a regular file, not a symlink, FIFO or device, at
most :data:`MAX_PLAN_BYTES`, a PNG or JPEG that decodes, at most :data:`MAX_PLAN_SIDE_PX` on
a side) and refuses it with :class:`SitePlanError` naming the problem; copies it into
``<data dir>/site_plans/`` under a temp name renamed when complete; and stores the row and
its two pins through the store writer (:class:`PinSitePlan`: the change-settings permission,
audited as ``site_plan.pin`` with who, the file and the pins). A new plan replaces the old
one, whose file is removed once the new row has committed.

:func:`site_plan_shown` reads the plan for display (the row and the image's bytes): the
console's risk-map backend calls it on a query worker.

Places are converted with the same equirectangular projection the risk map draws with
(:func:`metres_of`, :func:`degrees_of`): exact to centimetres over the few kilometres shown.
"""

from __future__ import annotations

import cmath
import hashlib
import math
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.data_dirs import private_dir
from engine.inbound import file_kind
from engine.incidents.geo import EARTH_RADIUS_M
from engine.instance import write_private_file
from engine.media import read_small_file
from engine.store.audit import AppendAudit, audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.site_plan_models import SitePlanRow
from engine.store.writer import StoreWriter

MAX_PLAN_BYTES = 30 * 1024 * 1024  # a large scanned plan as PNG; a bigger file is a mistake
MAX_PLAN_SIDE_PX = 12_000  # ~100 MB decoded as RGB: more would not fit a console's memory
MIN_PLAN_SIDE_PX = 16
MIN_PIN_SEPARATION_PX = 20.0  # closer pins make the scale and rotation a guess
MIN_PIN_SEPARATION_M = 1.0
MAX_PLAN_EXTENT_M = 10_000.0  # the risk map shows ~3 km; a plan 10 km across is a wrong pin
PLAN_FOLDER = "site_plans"

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


class SitePlanError(ValueError):
    """The plan or its pins cannot be used; the message says what was wrong in words for
    the admin who chose them. Nothing was stored."""


@dataclass(frozen=True, slots=True)
class PlanImage:
    """A checked plan picture: its bytes, ``png`` or ``jpg``, and its size in pixels."""

    data: bytes
    ext: str
    width_px: int
    height_px: int


def check_plan_image(path: Path) -> PlanImage:
    """Read and check the plan picture at ``path`` (see the module): its bytes and size.
    Raises :class:`SitePlanError` naming the file and what is wrong with it. Never follows
    a symlink, never waits on a FIFO, reads at most :data:`MAX_PLAN_BYTES` + 1 bytes.
    Blocks on the disk: not on the GUI thread."""
    source = Path(path)
    name = source.name or str(source)
    try:
        info = os.lstat(source)
    except FileNotFoundError:
        raise SitePlanError(f"{name}: no such file") from None
    except OSError as exc:
        raise SitePlanError(f"{name}: cannot be read ({exc.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise SitePlanError(f"{name} is a symbolic link: choose the picture itself")
    if not stat.S_ISREG(info.st_mode):
        raise SitePlanError(f"{name} is {file_kind(info.st_mode)}, not a picture file")
    try:
        fd = os.open(
            source,
            os.O_RDONLY
            | os.O_NONBLOCK
            | getattr(os, "O_NOFOLLOW", 0)
            | getattr(os, "O_CLOEXEC", 0),
        )
    except OSError as exc:
        raise SitePlanError(f"{name}: cannot be read ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped between the lstat and the open
            raise SitePlanError(f"{name} is {file_kind(mode)}, not a picture file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_PLAN_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_PLAN_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise SitePlanError(f"{name}: cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if size > MAX_PLAN_BYTES:
        raise SitePlanError(
            f"{name} is larger than {MAX_PLAN_BYTES // (1024 * 1024)} MB: "
            "save the plan smaller (a PNG or JPEG of a few thousand pixels is plenty)"
        )
    data = b"".join(chunks)
    return decode_plan_image(name, data)


def decode_plan_image(name: str, data: bytes) -> PlanImage:
    """Check ``data`` (the bytes of file ``name``) is a PNG or JPEG of a usable size."""
    if not data:
        raise SitePlanError(f"{name} is empty (0 bytes)")
    if data.startswith(_PNG_MAGIC):
        ext = "png"
    elif data.startswith(_JPEG_MAGIC):
        ext = "jpg"
    else:
        raise SitePlanError(f"{name} is not a PNG or JPEG picture")
    import cv2  # heavy: imported where used
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise SitePlanError(f"{name} is a damaged {ext.upper()} picture (it does not decode)")
    height, width = int(image.shape[0]), int(image.shape[1])
    if min(width, height) < MIN_PLAN_SIDE_PX:
        raise SitePlanError(f"{name} is only {width} × {height} pixels: too small for a plan")
    if max(width, height) > MAX_PLAN_SIDE_PX:
        raise SitePlanError(
            f"{name} is {width} × {height} pixels: at most {MAX_PLAN_SIDE_PX:,} on a side"
        )
    return PlanImage(data, ext, width, height)


# -- places ----------------------------------------------------------------------------------
def _metres_per_degree(latitude: float) -> tuple[float, float]:
    per_lat = EARTH_RADIUS_M * math.pi / 180.0
    return per_lat * math.cos(math.radians(latitude)), per_lat


def metres_of(
    centre: tuple[float, float], latitude: float, longitude: float
) -> tuple[float, float]:
    """(east, north) in metres of (``latitude``, ``longitude``) from ``centre`` (lat, lon
    degrees): the risk map's equirectangular projection."""
    per_lon, per_lat = _metres_per_degree(centre[0])
    return (longitude - centre[1]) * per_lon, (latitude - centre[0]) * per_lat


def degrees_of(centre: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) in degrees of the point ``east_m`` east and ``north_m`` north of
    ``centre``: the inverse of :func:`metres_of`."""
    per_lon, per_lat = _metres_per_degree(centre[0])
    return centre[0] + north_m / per_lat, centre[1] + east_m / per_lon


@dataclass(frozen=True, slots=True)
class PlanPin:
    """One pin: a point of the picture (pixels from its top-left corner, y down) and the
    place it shows (degrees WGS84)."""

    image_x_px: float
    image_y_px: float
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class PinPlace:
    """A pin as an admin gives it: the picture point, and its place either as latitude and
    longitude (degrees) or as metres east and north of the site's centre."""

    image_x_px: float
    image_y_px: float
    latitude: float | None = None
    longitude: float | None = None
    east_m: float | None = None
    north_m: float | None = None

    def resolve(self, centre: tuple[float, float], which: str) -> PlanPin:
        """This pin with its place in degrees; ``which`` names it in errors ("point 1")."""
        numbers = (self.image_x_px, self.image_y_px)
        if not all(math.isfinite(v) for v in numbers):
            raise SitePlanError(f"{which}: pick it on the picture")
        if self.latitude is not None and self.longitude is not None:
            lat, lon = float(self.latitude), float(self.longitude)
            if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
                raise SitePlanError(f"{which}: latitude must be between -90 and 90 degrees")
            if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
                raise SitePlanError(f"{which}: longitude must be between -180 and 180 degrees")
            east, north = metres_of(centre, lat, lon)
            if math.hypot(east, north) > MAX_PLAN_EXTENT_M:
                raise SitePlanError(
                    f"{which}: that place is {math.hypot(east, north) / 1000:,.1f} km from the "
                    "site's centre; a plan's points lie on the site"
                )
            return PlanPin(self.image_x_px, self.image_y_px, lat, lon)
        if self.east_m is not None and self.north_m is not None:
            east, north = float(self.east_m), float(self.north_m)
            if not (math.isfinite(east) and math.isfinite(north)):
                raise SitePlanError(f"{which}: metres east and north must be numbers")
            if math.hypot(east, north) > MAX_PLAN_EXTENT_M:
                raise SitePlanError(
                    f"{which}: {math.hypot(east, north):,.0f} m from the site's centre; a "
                    "plan's points lie on the site"
                )
            lat, lon = degrees_of(centre, east, north)
            return PlanPin(self.image_x_px, self.image_y_px, lat, lon)
        raise SitePlanError(
            f"{which}: say where it is (latitude and longitude, or metres east and north)"
        )


@dataclass(frozen=True, slots=True)
class PlanTransform:
    """Picture pixels → metres east and north of the site's centre: ``x = p·u + q·v + e``,
    ``y = q·u − p·v + n`` for pixel (u, v) (v down the picture), where ``p + iq`` is the
    scale (metres per pixel) turned by the rotation. ``rotation_deg`` is the angle from east
    to the picture's rightward edge, anticlockwise (0: a north-up plan)."""

    scale_m_per_px: float
    rotation_deg: float
    east_m: float
    north_m: float

    @property
    def _pq(self) -> tuple[float, float]:
        turn = math.radians(self.rotation_deg)
        return self.scale_m_per_px * math.cos(turn), self.scale_m_per_px * math.sin(turn)

    def to_metres(self, x_px: float, y_px: float) -> tuple[float, float]:
        """(east, north) metres of picture pixel (``x_px``, ``y_px``)."""
        p, q = self._pq
        return p * x_px + q * y_px + self.east_m, q * x_px - p * y_px + self.north_m

    def matrix(self) -> tuple[float, float, float, float, float, float]:
        """(m11, m12, m21, m22, dx, dy) as Qt's ``QTransform`` takes them."""
        p, q = self._pq
        return p, q, q, -p, self.east_m, self.north_m


def transform_from_pins(
    image_points: Sequence[tuple[float, float]], places_m: Sequence[tuple[float, float]]
) -> PlanTransform:
    """The similarity transform that takes the two ``image_points`` (pixels, y down) to the
    two ``places_m`` (metres east, north). Raises :class:`SitePlanError` when the points are
    too close on the picture or on the ground to fix a scale and a rotation."""
    if len(image_points) != 2 or len(places_m) != 2:
        raise SitePlanError("a plan is pinned by exactly two points")
    # Pixels as complex numbers with y flipped (the picture's y runs down, north runs up):
    # then the transform is w = a·z + b with one complex a (scale and rotation).
    z1, z2 = (complex(u, -v) for u, v in image_points)
    w1, w2 = (complex(x, y) for x, y in places_m)
    if abs(z2 - z1) < MIN_PIN_SEPARATION_PX:
        raise SitePlanError(
            f"the two points are {abs(z2 - z1):.0f} pixels apart on the picture: pick two "
            f"points at least {MIN_PIN_SEPARATION_PX:.0f} pixels apart, far apart is best"
        )
    if abs(w2 - w1) < MIN_PIN_SEPARATION_M:
        raise SitePlanError(
            f"the two points' places are {abs(w2 - w1):.1f} m apart: give two places at "
            f"least {MIN_PIN_SEPARATION_M:.0f} m apart"
        )
    a = (w2 - w1) / (z2 - z1)
    b = w1 - a * z1
    return PlanTransform(abs(a), math.degrees(cmath.phase(a)), b.real, b.imag)


def pins_transform(centre: tuple[float, float], pins: Sequence[PlanPin]) -> PlanTransform:
    """:func:`transform_from_pins` of stored ``pins`` around ``centre`` (lat, lon)."""
    return transform_from_pins(
        [(p.image_x_px, p.image_y_px) for p in pins],
        [metres_of(centre, p.latitude, p.longitude) for p in pins],
    )


def _check_extent(transform: PlanTransform, width_px: int, height_px: int) -> None:
    corners = [(0, 0), (width_px, 0), (0, height_px), (width_px, height_px)]
    far = max(math.hypot(*transform.to_metres(u, v)) for u, v in corners)
    if far > MAX_PLAN_EXTENT_M:
        raise SitePlanError(
            f"pinned like this the plan would reach {far / 1000:,.1f} km from the site's "
            "centre: check the two places (are east and north, or the two points, swapped?)"
        )


# -- storing ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SitePlanView:
    """A stored plan: its file (relative to the data dir), the file's name as chosen, its
    size in pixels, its two pins, and who pinned it when."""

    site_id: int
    path: str
    original_name: str
    width_px: int
    height_px: int
    pins: tuple[PlanPin, PlanPin]
    pinned_by: str
    pinned_at: datetime


def _view(row: SitePlanRow) -> SitePlanView:
    return SitePlanView(
        site_id=row.site_id,
        path=row.path,
        original_name=row.original_name,
        width_px=row.width_px,
        height_px=row.height_px,
        pins=(
            PlanPin(row.pin1_x_px, row.pin1_y_px, row.pin1_lat, row.pin1_lon),
            PlanPin(row.pin2_x_px, row.pin2_y_px, row.pin2_lat, row.pin2_lon),
        ),
        pinned_by=row.pinned_by,
        pinned_at=row.pinned_at,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PinSitePlan(GuardedCommand, StoreCommand):
    """``actor`` (who must hold the change-settings permission) makes the picture at
    ``path`` (relative to the data dir, already copied there) site ``site_id``'s plan,
    pinned by ``pins``; replaces any earlier plan. Audited as ``site_plan.pin`` with the
    file, its size, the pins and the scale and rotation they give. Returns the earlier
    plan's path (None: there was none), whose file the caller removes after the commit."""

    permission: ClassVar[Permission] = Permission.CHANGE_SETTINGS
    action: ClassVar[str] = "site_plan.pin"

    site_id: int
    path: str
    original_name: str
    sha256: str
    size_bytes: int
    width_px: int
    height_px: int
    pins: tuple[PlanPin, PlanPin]
    transform: PlanTransform
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"site plan {self.original_name}"

    def apply(self, session: Session) -> str | None:
        row = session.get(SitePlanRow, self.site_id)
        previous = None if row is None else row.path
        first, second = self.pins
        values = {
            "path": self.path,
            "original_name": self.original_name[:255],
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "width_px": self.width_px,
            "height_px": self.height_px,
            "pin1_x_px": first.image_x_px,
            "pin1_y_px": first.image_y_px,
            "pin1_lat": first.latitude,
            "pin1_lon": first.longitude,
            "pin2_x_px": second.image_x_px,
            "pin2_y_px": second.image_y_px,
            "pin2_lat": second.latitude,
            "pin2_lon": second.longitude,
            "pinned_by": self.actor.label,
            "pinned_at": self.at,
        }
        if row is None:
            session.add(SitePlanRow(site_id=self.site_id, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        session.flush()
        audit_command(
            session,
            self,
            {
                "file": self.original_name,
                "size": f"{self.width_px} × {self.height_px} pixels",
                **{
                    f"point_{n}": f"pixel {p.image_x_px:.0f} across, {p.image_y_px:.0f} down "
                    f"at latitude {p.latitude:.6f}, longitude {p.longitude:.6f}"
                    for n, p in enumerate(self.pins, start=1)
                },
                "scale": f"{self.transform.scale_m_per_px * 100:.2f} cm per pixel",
                "rotation": f"{self.transform.rotation_deg:.1f} degrees anticlockwise",
                "replaced": previous is not None,
            },
        )
        return previous if previous != self.path else None


def load_site_plan(
    writer: StoreWriter,
    *,
    actor: Actor,
    site_id: int,
    centre: tuple[float, float],
    source: Path,
    pins: Sequence[PinPlace],
    at: datetime,
    root: Path,
) -> SitePlanView:
    """Make the picture at ``source`` site ``site_id``'s plan, pinned by two ``pins``
    around the site's ``centre`` (lat, lon), as ``actor`` at ``at`` (UTC), with the copy
    under ``root`` (the data dir). Raises PermissionDeniedError before reading anything
    when ``actor`` may not change settings, :class:`SitePlanError` for a bad file or bad
    pins (nothing stored, no file left). Blocks on the disk and the writer: not on the GUI
    thread."""
    if not actor.may(PinSitePlan.permission):
        # Refused before the file is read or copied; audited as the writer audits refusals.
        writer.post(
            AppendAudit(
                at=at,
                actor=actor,
                action=PinSitePlan.action,
                target="site plan",
                outcome="denied",
                detail={"needs": str(PinSitePlan.permission)},
            )
        )
        actor.require(PinSitePlan.permission, "pin the site plan")
    if len(pins) != 2:
        raise SitePlanError("a plan is pinned by exactly two points")
    resolved = (pins[0].resolve(centre, "point 1"), pins[1].resolve(centre, "point 2"))
    image = check_plan_image(source)
    for which, pin in zip(("point 1", "point 2"), resolved, strict=True):
        if not (0 <= pin.image_x_px <= image.width_px and 0 <= pin.image_y_px <= image.height_px):
            raise SitePlanError(f"{which} is outside the picture")
    transform = pins_transform(centre, resolved)
    _check_extent(transform, image.width_px, image.height_px)
    digest = hashlib.sha256(image.data).hexdigest()
    name = f"{digest[:16]}.{image.ext}"
    relative = f"{PLAN_FOLDER}/{name}"
    target = private_dir(root / PLAN_FOLDER) / name  # the folder made owner-only
    existed = target.exists()  # the same picture pinned before: its row still names it
    write_private_file(target, image.data)
    command = PinSitePlan(
        site_id=site_id,
        path=relative,
        original_name=Path(source).name,
        sha256=digest,
        size_bytes=len(image.data),
        width_px=image.width_px,
        height_px=image.height_px,
        pins=resolved,
        transform=transform,
        at=at,
        actor=actor,
    )
    try:
        previous = writer.execute(command)
    except BaseException:
        if not existed:
            target.unlink(missing_ok=True)
        raise
    if previous:
        (root / previous).unlink(missing_ok=True)
    return SitePlanView(
        site_id=site_id,
        path=relative,
        original_name=command.original_name,
        width_px=image.width_px,
        height_px=image.height_px,
        pins=resolved,
        pinned_by=actor.label,
        pinned_at=at,
    )


def read_site_plan(store: Store, site_id: int) -> SitePlanView | None:
    """Site ``site_id``'s plan as stored (None: no plan). Any thread."""
    with store.sessions() as session:
        row = session.get(SitePlanRow, site_id)
        return None if row is None else _view(row)


@dataclass(frozen=True, slots=True)
class SitePlanShown:
    """What the risk map draws: the plan, the picture's bytes (None when the file is gone
    or unreadable: ``problem`` says so), and the site's centre the pins are measured from."""

    plan: SitePlanView
    image: bytes | None
    centre: tuple[float, float]
    problem: str | None = None

    def transform(self) -> PlanTransform:
        """Picture pixels → metres east and north of :attr:`centre`."""
        return pins_transform(self.centre, self.plan.pins)


def site_plan_shown(
    store: Store, site_id: int, centre: tuple[float, float], root: Path
) -> SitePlanShown | None:
    """The plan of site ``site_id`` with its picture read from under ``root`` (the data
    dir), bounded to :data:`MAX_PLAN_BYTES`; None when the site has no plan. Blocks on the
    store and the disk: a query worker."""
    plan = read_site_plan(store, site_id)
    if plan is None:
        return None
    data = read_small_file(root / plan.path, MAX_PLAN_BYTES)
    if data is None:
        return SitePlanShown(
            plan,
            None,
            centre,
            f"the plan's picture ({plan.original_name}) is missing from the data folder: "
            "load the plan again",
        )
    return SitePlanShown(plan, data, centre)
