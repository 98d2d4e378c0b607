"""Typed models of taught gestures (revision ``0017``). See :mod:`engine.gestures.library`.

A *gesture* is a name an admin taught from 2–5 examples, whether it alerts (feeds the alert
rules' ``gesture`` trigger) and whether its mirror image counts too (a wave with either
hand). Each *example* is one recorded repetition: its landmarks normalised to
``frames`` × 33 × 3 float32 (torso-centred and torso-scaled, see
:mod:`engine.gestures.sequence`), stored as bytes, with how long it lasted before resampling
and where it came from. ``detections`` and ``last_detected_at`` are the usage statistics,
counted as detections are stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId


class Gesture(Base):
    __tablename__ = "gestures"
    __table_args__ = (
        UniqueConstraint("name", name="uq_gestures_name"),
        CheckConstraint("detections >= 0", name="ck_gestures_detections"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    alerting: Mapped[bool] = mapped_column(Boolean, default=False)
    mirror_invariant: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    detections: Mapped[int] = mapped_column(Integer, default=0)
    last_detected_at: Mapped[datetime | None]


class GestureExample(Base):
    __tablename__ = "gesture_examples"
    __table_args__ = (
        UniqueConstraint("gesture_id", "position", name="uq_gesture_examples_position"),
        CheckConstraint("frames > 0", name="ck_gesture_examples_frames"),
        CheckConstraint("duration_s > 0", name="ck_gesture_examples_duration"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    gesture_id: Mapped[int] = mapped_column(ForeignKey("gestures.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 0-based order in which it was recorded
    frames: Mapped[int] = mapped_column(Integer)
    landmarks: Mapped[bytes] = mapped_column(LargeBinary)  # float32 frames × 33 × 3, C order
    duration_s: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(500))  # a video file, or camera key and time
