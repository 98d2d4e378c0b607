"""taught gestures and their examples

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gestures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("alerting", sa.Boolean(), nullable=False),
        sa.Column("mirror_invariant", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column("last_detected_at", TIME, nullable=True),
        sa.UniqueConstraint("name", name="uq_gestures_name"),
        sa.CheckConstraint("detections >= 0", name="ck_gestures_detections"),
    )
    op.create_table(
        "gesture_examples",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "gesture_id",
            sa.Integer(),
            sa.ForeignKey("gestures.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("landmarks", sa.LargeBinary(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.UniqueConstraint("gesture_id", "position", name="uq_gesture_examples_position"),
        sa.CheckConstraint("frames > 0", name="ck_gesture_examples_frames"),
        sa.CheckConstraint("duration_s > 0", name="ck_gesture_examples_duration"),
    )


def downgrade() -> None:
    op.drop_table("gesture_examples")
    op.drop_table("gestures")
