"""mask camera passwords already stored: camera URLs and event details

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Before this revision a camera URL such as ``rtsp://admin:secret@host/stream`` was stored,
reported and written into event details as given. The password is replaced by ``***`` in
``cameras.url`` and in every event detail that carries a URL with one.
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# scheme://user:password@ -> scheme://user:***@ (the user name stays: it is not a secret)
USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*):(?P<password>[^\s@/]+)@")
MASK = "***"

cameras = sa.table("cameras", sa.column("id", sa.Integer()), sa.column("url", sa.String()))
events = sa.table("events", sa.column("id", sa.BigInteger()), sa.column("detail", sa.JSON()))


def _mask(text: str) -> str:
    return USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", text)


def upgrade() -> None:
    connection = op.get_bind()
    for camera_id, url in connection.execute(sa.select(cameras.c.id, cameras.c.url)).all():
        masked = _mask(url or "")
        if masked != url:
            connection.execute(cameras.update().where(cameras.c.id == camera_id).values(url=masked))
    suspects = connection.execute(
        sa.select(events.c.id, events.c.detail).where(
            sa.cast(events.c.detail, sa.Text()).like("%://%@%")
        )
    ).all()
    for event_id, detail in suspects:
        text = json.dumps(detail)
        masked = _mask(text)
        if masked != text:
            connection.execute(
                events.update().where(events.c.id == event_id).values(detail=json.loads(masked))
            )


def downgrade() -> None:
    pass  # a masked password cannot be brought back
