"""identity as columns on events (person, track, camera), keyset indexes, dotted kinds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Backfill: ``track_id`` and, for ``face.recognised``, ``person_id`` come from the JSON
detail; ``camera_id`` from ``source`` (``camera:<key>``) where only one camera has that key;
the appeared/left events of a recognised track get its person by the old rule (same camera
and track within 15 minutes of the face), because track ids of earlier runs were not unique.
From this revision on, track ids are unique per camera and the writer fills the columns.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KIND_RENAMES = {
    "person_appeared": "person.appeared",
    "person_left": "person.left",
    "face_recognised": "face.recognised",
    "analysis_error": "analysis.error",
}
LEGACY_TRACK_WINDOW = timedelta(minutes=15)
BATCH = 1000

events = sa.table(
    "events",
    sa.column("id", sa.BigInteger()),
    sa.column("ts", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String()),
    sa.column("source", sa.String()),
    sa.column("camera_id", sa.Integer()),
    sa.column("track_id", sa.BigInteger()),
    sa.column("person_id", sa.Integer()),
    sa.column("detail", sa.JSON()),
)
cameras = sa.table("cameras", sa.column("id", sa.Integer()), sa.column("key", sa.String()))
persons = sa.table("persons", sa.column("id", sa.Integer()), sa.column("public_id", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("track_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_events_person_id_persons", "persons", ["person_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.drop_index("ix_events_ts")
        batch_op.drop_index("ix_events_kind_ts")
        batch_op.drop_index("ix_events_camera_ts")
        batch_op.create_index("ix_events_ts_id", ["ts", "id"])
        batch_op.create_index("ix_events_kind_ts_id", ["kind", "ts", "id"])
        batch_op.create_index("ix_events_camera_ts_id", ["camera_id", "ts", "id"])
        batch_op.create_index("ix_events_person_ts_id", ["person_id", "ts", "id"])
        batch_op.create_index("ix_events_camera_track", ["camera_id", "track_id"])
    connection = op.get_bind()
    for old, new in KIND_RENAMES.items():
        connection.execute(events.update().where(events.c.kind == old).values(kind=new))
    _backfill(connection)


def _backfill(connection: sa.Connection) -> None:
    keys: dict[str, list[int]] = {}
    for camera_id, key in connection.execute(sa.select(cameras.c.id, cameras.c.key)):
        keys.setdefault(key, []).append(camera_id)
    unique_key = {key: ids[0] for key, ids in keys.items() if len(ids) == 1}
    person_ids = dict(connection.execute(sa.select(persons.c.public_id, persons.c.id)).all())

    updates: list[dict[str, object]] = []
    faces: list[tuple[datetime, object, str, int, int]] = []  # ts, camera, source, track, person
    rows = connection.execute(
        sa.select(
            events.c.id,
            events.c.ts,
            events.c.kind,
            events.c.source,
            events.c.camera_id,
            events.c.detail,
        ).where(events.c.source.like("camera:%"))
    )
    for event_id, ts, kind, source, camera_id, detail in rows:
        detail = detail or {}
        track = detail.get("track_id") if isinstance(detail, dict) else None
        track = track if isinstance(track, int) and track > 0 else None
        camera = camera_id or unique_key.get(source.removeprefix("camera:"))
        person = None
        if kind == "face.recognised":
            person = person_ids.get(detail.get("person_id"))
            if person is not None and track is not None:
                faces.append((ts, camera, source, track, person))
        if camera != camera_id or track is not None or person is not None:
            updates.append(
                {"b_id": event_id, "b_camera": camera, "b_track": track, "b_person": person}
            )
    stmt = (
        events.update()
        .where(events.c.id == sa.bindparam("b_id"))
        .values(
            camera_id=sa.bindparam("b_camera"),
            track_id=sa.bindparam("b_track"),
            person_id=sa.bindparam("b_person"),
        )
    )
    for start in range(0, len(updates), BATCH):
        connection.execute(stmt, updates[start : start + BATCH])
    for ts, _camera, source, track, person in faces:
        connection.execute(
            events.update()
            .where(
                events.c.source == source,
                events.c.track_id == track,
                events.c.person_id.is_(None),
                events.c.ts.between(ts - LEGACY_TRACK_WINDOW, ts + LEGACY_TRACK_WINDOW),
            )
            .values(person_id=person)
        )


def downgrade() -> None:
    connection = op.get_bind()
    for old, new in KIND_RENAMES.items():
        connection.execute(events.update().where(events.c.kind == new).values(kind=old))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_camera_track")
        batch_op.drop_index("ix_events_person_ts_id")
        batch_op.drop_index("ix_events_camera_ts_id")
        batch_op.drop_index("ix_events_kind_ts_id")
        batch_op.drop_index("ix_events_ts_id")
        batch_op.create_index("ix_events_ts", ["ts"])
        batch_op.create_index("ix_events_kind_ts", ["kind", "ts"])
        batch_op.create_index("ix_events_camera_ts", ["camera_id", "ts"])
        batch_op.drop_constraint("fk_events_person_id_persons", type_="foreignkey")
        batch_op.drop_column("person_id")
        batch_op.drop_column("track_id")
