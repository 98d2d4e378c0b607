"""how each finished track looked: colours, size, embedding

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "track_appearances",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("track_id", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("snapshot_media_id", BIG_ID, sa.ForeignKey("media.id", ondelete="SET NULL")),
        sa.Column("upper_colour", sa.String(16)),
        sa.Column("lower_colour", sa.String(16)),
        sa.Column("colour_fractions", sa.LargeBinary(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("feature_version", sa.SmallInteger(), nullable=False),
        sa.Column("crops", sa.Integer(), nullable=False),
        sa.Column("height_frac", sa.Float()),
        sa.Column("foot_y_frac", sa.Float()),
        sa.UniqueConstraint("camera_id", "track_id", name="uq_track_appearances_camera_track"),
        sa.CheckConstraint("crops > 0", name="ck_track_appearances_crops"),
        sqlite_autoincrement=True,  # ids never reused: see the model
    )
    op.create_index("ix_track_appearances_last_seen", "track_appearances", ["last_seen"])


def downgrade() -> None:
    op.drop_index("ix_track_appearances_last_seen", table_name="track_appearances")
    op.drop_table("track_appearances")
