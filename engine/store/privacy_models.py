"""Privacy masks (revision 0024): each camera's areas blacked out at the source. Written by
:class:`engine.vision.privacy.SetPrivacyMasks`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base


class CameraPrivacyMaskRow(Base):
    """A camera's masked areas: polygons of ``[x, y]`` fractions of the picture's width and
    height (0-1, y down; fractions so that they cover the same part of the scene at any
    size the camera sends), the picture size they were drawn on, who set them and when.
    A camera without areas has no row."""

    __tablename__ = "camera_privacy_masks"
    __table_args__ = (
        CheckConstraint("width_px > 0 AND height_px > 0", name="ck_camera_privacy_masks_size"),
    )

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    areas: Mapped[list[Any]] = mapped_column(JSON)
    width_px: Mapped[int]
    height_px: Mapped[int]
    masked_by: Mapped[str] = mapped_column(String(200))
    masked_at: Mapped[datetime]
