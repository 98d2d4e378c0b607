"""continuous recording: media rows of kind 'segment', with what each segment holds

A segment is a few seconds of one camera's continuous recording (engine.record.segments).
It is a media row like a clip, so evidence locks, the store journal and retention's
disk-pressure purge treat it as footage; ``motion_share`` (0..1 of the analysed frames
that had motion) and ``people_seen`` (most people in view at once) let retention keep
segments by tier.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_constraint("ck_media_kind", type_="check")
        batch_op.create_check_constraint(
            "ck_media_kind", "kind IN ('clip', 'snapshot', 'csi', 'segment')"
        )
        batch_op.add_column(sa.Column("motion_share", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("people_seen", sa.Integer(), nullable=True))
        batch_op.create_index("ix_media_kind_camera_start", ["kind", "camera_id", "started_at"])


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_kind_camera_start")
        batch_op.drop_column("people_seen")
        batch_op.drop_column("motion_share")
        batch_op.drop_constraint("ck_media_kind", type_="check")
        batch_op.create_check_constraint("ck_media_kind", "kind IN ('clip', 'snapshot', 'csi')")
