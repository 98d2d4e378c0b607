"""SQLAlchemy 2.0 typed models. Schema changes go through a new Alembic revision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back timezone-aware UTC datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use the engine clock (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    geo_lat: Mapped[float] = mapped_column(Float)
    geo_lon: Mapped[float] = mapped_column(Float)
    config_path: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime]


class Camera(Base):
    __tablename__ = "cameras"
    __table_args__ = (UniqueConstraint("site_id", "key", name="uq_cameras_site_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    source_kind: Mapped[str] = mapped_column(String(16))
    floor_x_m: Mapped[float | None]
    floor_y_m: Mapped[float | None]
    geo_lat: Mapped[float | None]
    geo_lon: Mapped[float | None]
    enabled: Mapped[bool] = mapped_column(default=True)


class SensingNode(Base):
    __tablename__ = "sensing_nodes"
    __table_args__ = (UniqueConstraint("site_id", "key", name="uq_sensing_nodes_site_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    x_m: Mapped[float]
    y_m: Mapped[float]
    z_m: Mapped[float]
    enabled: Mapped[bool] = mapped_column(default=True)


class Event(Base):
    """Anything that happened: ``kind`` is dotted ``<noun>.<verb>`` (``camera.offline``,
    ``person.appeared``), ``source`` names who reported it (``camera:plaza``), ``detail``
    carries the rest as JSON. Identity is in columns, never searched for inside ``detail``:
    ``camera_id``, ``track_id`` (unique per camera across runs) and ``person_id``.

    The indexes end in ``id`` so that lists page by keyset ``(ts, id)`` in every filter.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_ts_id", "ts", "id"),
        Index("ix_events_kind_ts_id", "kind", "ts", "id"),
        Index("ix_events_camera_ts_id", "camera_id", "ts", "id"),
        Index("ix_events_camera_kind_ts_id", "camera_id", "kind", "ts", "id"),
        Index("ix_events_person_ts_id", "person_id", "ts", "id"),
        Index("ix_events_camera_track", "camera_id", "track_id"),
        Index("ix_events_engine_id", "engine", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ts: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="SET NULL"))
    track_id: Mapped[int | None] = mapped_column(BigInteger)
    # use_alter: events → persons → media → events is a cycle of foreign keys.
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "persons.id", ondelete="SET NULL", use_alter=True, name="fk_events_person_id_persons"
        )
    )
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The engine that stored it (``watchfloor engine --name``; None: a single engine).
    engine: Mapped[str | None] = mapped_column(String(64))


class EventRollup(Base):
    """How many events each source stored per ``span_s`` seconds (UTC buckets aligned to
    the epoch, numbered ``bucket`` = epoch seconds // ``span_s``), for each span of
    :data:`ROLLUP_SPANS_S`: what the timeline's wide windows draw their density bars from
    instead of counting a million index entries.

    Kept by database triggers on ``events`` (revisions 0015, 0016), so every write path keeps it
    (the store writer, bulk loads, retention's purge, a camera's removal setting its events'
    camera to NULL) in the same transaction as the rows. A camera's events are counted under
    its ``camera_id`` with ``source`` ``''``; events without a camera under ``camera_id`` 0
    and their ``source`` (``sensing:ROOM``…). Rows whose count falls to 0 are deleted.
    The key leads with the source so that a lane's buckets of a span are one index range
    (SQLite: a WITHOUT ROWID table, the rows stored in key order).

    SQLite's ``batch_alter_table`` copies a table and drops its triggers: a later revision
    that alters ``events`` that way must create them again (``create_triggers`` of 0015,
    with the spans of :data:`ROLLUP_SPANS_S`).
    """

    __tablename__ = "event_rollup"
    __table_args__ = ({"sqlite_with_rowid": False},)

    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    span_s: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger)


# The rollup's bucket spans, widest first: each divides the next wider one, and together they
# divide every density bucket of 5 minutes and more (10, 15, 30 min; 1, 2, 3, 6, 12 h; days).
ROLLUP_SPANS_S: tuple[int, ...] = (3600, 1800, 300)


class Media(Base):
    """A file on disk under the data dir (clip, snapshot, CSI recording, or a segment of
    a camera's continuous recording)."""

    __tablename__ = "media"
    __table_args__ = (
        CheckConstraint("kind IN ('clip', 'snapshot', 'csi', 'segment')", name="ck_media_kind"),
        CheckConstraint("size_bytes >= 0", name="ck_media_size"),
        Index("ix_media_created_at", "created_at"),
        Index("ix_media_camera_span", "camera_id", "started_at", "ended_at"),
        Index("ix_media_kind_camera_start", "kind", "camera_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("events.id", ondelete="SET NULL"),
    )
    locked: Mapped[bool] = mapped_column(default=False)
    # The footage a clip covers (wall time, UTC); None for snapshots.
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # A shared site's engine whose data dir keeps the file (None: a site's only engine);
    # each engine's retention purges only its own (revision 0022).
    engine: Mapped[str | None] = mapped_column(String(64))
    # A segment's content (revision 0029), None for other kinds or when no analysis ran:
    # the share of its analysed frames with motion (0..1) and the most people in view at
    # once. Retention keeps segments by these (engine.record.retention_tiers).
    motion_share: Mapped[float | None] = mapped_column(Float)
    people_seen: Mapped[int | None]


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


# Models that live in their own modules register on Base.metadata when imported; Alembic
# and everything else that reads the metadata import this module.
import engine.store.account_models  # noqa: E402
import engine.store.alert_models  # noqa: E402
import engine.store.appearance_models  # noqa: E402
import engine.store.audit_models  # noqa: E402
import engine.store.cluster_models  # noqa: E402
import engine.store.fusion_models  # noqa: E402
import engine.store.gesture_models  # noqa: E402
import engine.store.history_models  # noqa: E402
import engine.store.incident_models  # noqa: E402
import engine.store.mqtt_models  # noqa: E402
import engine.store.node_token_models  # noqa: E402
import engine.store.person_models  # noqa: E402
import engine.store.privacy_models  # noqa: E402
import engine.store.site_plan_models  # noqa: E402
import engine.store.snooze_models  # noqa: E402
import engine.store.text_vector_models  # noqa: E402, F401
