"""Typed model of how each finished track looked (revision ``0019``). See
:mod:`engine.vision.appearance` for the features and :mod:`engine.history.appearance` for
the search over them.

One row per track of a camera (``camera_id`` + ``track_id``, unique: a camera's track id
names one track across runs), with its time span, its thumbnail (the track's best snapshot,
a ``media`` row; NULL once retention removed it), the named colours of torso and legs, the
colour fractions (2 × 13 float16) and the embedding (float16, L2-normalised) as bytes, and
the box height and foot row as fractions of the frame height for the relative size.
``feature_version`` says which recipe made the vectors; rows of another version are not
compared with these.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId

# The layout of the stored vectors, shared by what makes them (engine.vision.appearance)
# and what searches them (engine.history.appearance).
FEATURE_VERSION = 1  # a new feature recipe gets a new number; older rows are not compared
COLOUR_NAMES: tuple[str, ...] = (
    "black",
    "grey",
    "white",
    "red",
    "orange",
    "yellow",
    "beige",
    "brown",
    "green",
    "blue",
    "navy",
    "purple",
    "pink",
)
N_COLOURS = len(COLOUR_NAMES)  # colour fractions: torso then legs, 2 × N_COLOURS float16
EMBEDDING_DIMS = 100  # float16, L2-normalised


class TrackAppearance(Base):
    __tablename__ = "track_appearances"
    __table_args__ = (
        UniqueConstraint("camera_id", "track_id", name="uq_track_appearances_camera_track"),
        Index("ix_track_appearances_last_seen", "last_seen"),
        CheckConstraint("crops > 0", name="ck_track_appearances_crops"),
        # Ids are never reused (SQLite would reuse the highest after a delete): a row
        # recorded again gets a new id, which is how the search's index notices it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(BigInteger)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    snapshot_media_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("media.id", ondelete="SET NULL"),
    )
    upper_colour: Mapped[str | None] = mapped_column(String(16))
    lower_colour: Mapped[str | None] = mapped_column(String(16))
    colour_fractions: Mapped[bytes] = mapped_column(LargeBinary)  # float16 × 26
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float16, L2-normalised
    feature_version: Mapped[int] = mapped_column(SmallInteger)
    crops: Mapped[int] = mapped_column(Integer)
    height_frac: Mapped[float | None] = mapped_column(Float)
    foot_y_frac: Mapped[float | None] = mapped_column(Float)
