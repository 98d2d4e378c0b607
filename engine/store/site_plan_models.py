"""The site plan: one picture of the site (a site or floor plan) pinned to the ground by two
points (revision 0018). Written by :class:`engine.incidents.site_plan.PinSitePlan`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base


class SitePlanRow(Base):
    """A site's plan: the image file under the data dir (``path`` relative to it), its size
    in pixels, and two pins, each an image point (pixels from the top-left corner, y down)
    and the place it shows (degrees WGS84). Who pinned it last and when."""

    __tablename__ = "site_plans"
    __table_args__ = (
        CheckConstraint("width_px > 0 AND height_px > 0", name="ck_site_plans_size"),
        CheckConstraint("size_bytes > 0", name="ck_site_plans_bytes"),
    )

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    path: Mapped[str] = mapped_column(String(1000))
    original_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width_px: Mapped[int]
    height_px: Mapped[int]
    pin1_x_px: Mapped[float] = mapped_column(Float)
    pin1_y_px: Mapped[float] = mapped_column(Float)
    pin1_lat: Mapped[float] = mapped_column(Float)
    pin1_lon: Mapped[float] = mapped_column(Float)
    pin2_x_px: Mapped[float] = mapped_column(Float)
    pin2_y_px: Mapped[float] = mapped_column(Float)
    pin2_lat: Mapped[float] = mapped_column(Float)
    pin2_lon: Mapped[float] = mapped_column(Float)
    pinned_by: Mapped[str] = mapped_column(String(200))
    pinned_at: Mapped[datetime]
