"""Typed models of the face memory: people the cameras know, their face embeddings, and the
BLE devices they carry.

Schema changes go through a new Alembic revision (these tables: ``0002_persons_and_faces``,
``0010_ble_devices``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId

EMBEDDING_SOURCES = ("enrolled", "observed")
"""``enrolled``: from a photo an admin gave a name; ``observed``: seen by a camera."""


class Person(Base):
    """Someone the face memory knows: enrolled by name, or seen and given an automatic
    ``public_id`` (``Person_`` and 8 uppercase hex digits) until someone names them.

    ``first_seen``/``last_seen`` are camera sightings (UTC) and stay None for a person who has
    only been enrolled from photos; ``appearances`` counts those sightings.
    """

    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint("appearances >= 0", name="ck_persons_appearances"),
        Index("ix_persons_last_seen", "last_seen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    appearances: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    archived_at: Mapped[datetime | None]
    snapshot_media_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("media.id", ondelete="SET NULL")
    )
    colour: Mapped[str | None] = mapped_column(String(7))  # "#RRGGBB"; None: palette


class BleDevice(Base):
    """A phone or tag an admin registered to a person (``0010_ble_devices``): a blob that
    carries it takes the person's name. ``address`` is upper case and colon separated.
    Deleting the person deletes their devices (ON DELETE CASCADE)."""

    __tablename__ = "ble_devices"
    __table_args__ = (UniqueConstraint("address", name="uq_ble_devices_address"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(17))
    label: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE", name="fk_ble_devices_person_id"),
        index=True,
    )
    registered_at: Mapped[datetime]
    registered_by: Mapped[str] = mapped_column(String(100))


class FaceEmbedding(Base):
    """One 128-d dlib face descriptor of a person, stored as 512 bytes (128 little-endian
    float32). Deleting the person deletes these rows (ON DELETE CASCADE)."""

    __tablename__ = "face_embeddings"
    __table_args__ = (
        CheckConstraint("source IN ('enrolled', 'observed')", name="ck_face_embeddings_source"),
        CheckConstraint("length(embedding) = 512", name="ck_face_embeddings_size"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    media_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("media.id", ondelete="SET NULL"))
