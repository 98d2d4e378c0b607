"""cameras on the floor: each camera's picture to floor-plan calibration

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_calibrations",
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("pairs", sa.JSON(), nullable=False),
        sa.Column("homography", sa.JSON(), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("errors_m", sa.JSON(), nullable=False),
        sa.Column("error_m", sa.Float(), nullable=True),
        sa.Column("calibrated_by", sa.String(200), nullable=False),
        sa.Column("calibrated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name="pk_camera_calibrations"),
        sa.CheckConstraint("width_px > 0 AND height_px > 0", name="ck_camera_calibrations_size"),
    )


def downgrade() -> None:
    op.drop_table("camera_calibrations")
