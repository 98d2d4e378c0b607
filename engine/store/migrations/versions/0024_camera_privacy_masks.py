"""privacy masks: each camera's areas blacked out at the source

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_privacy_masks",
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("masked_by", sa.String(200), nullable=False),
        sa.Column("masked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name="pk_camera_privacy_masks"),
        sa.CheckConstraint("width_px > 0 AND height_px > 0", name="ck_camera_privacy_masks_size"),
    )


def downgrade() -> None:
    op.drop_table("camera_privacy_masks")
