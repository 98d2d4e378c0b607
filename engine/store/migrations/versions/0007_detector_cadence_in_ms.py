"""the detector cadence in milliseconds instead of frames

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

Before this revision the ``analytics`` settings row held ``detect_every`` (run the people
detector on every Nth frame), so a 30 fps camera ran it three times as often as a 10 fps
one. It now holds ``detect_interval_ms``. A stored N becomes N × 100 ms: the cadence it
gave at 10 fps, where the tracker was measured (the old default, 3, becomes the new
default, 300 ms). The old field is kept beside it so a downgrade finds it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

settings = sa.table("settings", sa.column("key", sa.String()), sa.column("value", sa.JSON()))
MS_PER_FRAME = 100  # the old cadence at 10 fps
MAX_INTERVAL_MS = 5000


def upgrade() -> None:
    connection = op.get_bind()
    value = connection.execute(
        sa.select(settings.c.value).where(settings.c.key == "analytics")
    ).scalar_one_or_none()
    if not isinstance(value, dict) or "detect_every" not in value:
        return
    frames = value["detect_every"]
    if isinstance(frames, int) and not isinstance(frames, bool) and frames >= 1:
        interval_ms = min(frames * MS_PER_FRAME, MAX_INTERVAL_MS)
        connection.execute(
            settings.update()
            .where(settings.c.key == "analytics")
            .values(value={**value, "detect_interval_ms": interval_ms})
        )


def downgrade() -> None:
    pass  # the old field was kept
