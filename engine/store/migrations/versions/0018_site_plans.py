"""a site plan pinned to the ground by two points

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_plans",
        sa.Column(
            "site_id",
            sa.Integer(),
            sa.ForeignKey("sites.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("pin1_x_px", sa.Float(), nullable=False),
        sa.Column("pin1_y_px", sa.Float(), nullable=False),
        sa.Column("pin1_lat", sa.Float(), nullable=False),
        sa.Column("pin1_lon", sa.Float(), nullable=False),
        sa.Column("pin2_x_px", sa.Float(), nullable=False),
        sa.Column("pin2_y_px", sa.Float(), nullable=False),
        sa.Column("pin2_lat", sa.Float(), nullable=False),
        sa.Column("pin2_lon", sa.Float(), nullable=False),
        sa.Column("pinned_by", sa.String(200), nullable=False),
        sa.Column("pinned_at", TIME, nullable=False),
        sa.CheckConstraint("width_px > 0 AND height_px > 0", name="ck_site_plans_size"),
        sa.CheckConstraint("size_bytes > 0", name="ck_site_plans_bytes"),
    )


def downgrade() -> None:
    op.drop_table("site_plans")
