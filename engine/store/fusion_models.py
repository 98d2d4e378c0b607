"""Cameras on the floor (revision 0023): each camera's picture → floor-plan calibration.
Written by :class:`engine.fusion.floor.CalibrateCamera`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base


class CameraCalibrationRow(Base):
    """A camera's calibration: its point pairs (``[u, v, x, y]``: picture pixels, floor
    metres), the fitted homography (9 numbers, row-major, picture → floor), the picture's
    size, each pair's leave-one-out error and their median in metres (None with four
    pairs: unchecked), who calibrated it and when."""

    __tablename__ = "camera_calibrations"
    __table_args__ = (
        CheckConstraint("width_px > 0 AND height_px > 0", name="ck_camera_calibrations_size"),
    )

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    pairs: Mapped[list[Any]] = mapped_column(JSON)
    homography: Mapped[list[Any]] = mapped_column(JSON)
    width_px: Mapped[int]
    height_px: Mapped[int]
    errors_m: Mapped[list[Any]] = mapped_column(JSON)
    error_m: Mapped[float | None] = mapped_column(Float)
    calibrated_by: Mapped[str] = mapped_column(String(200))
    calibrated_at: Mapped[datetime]
