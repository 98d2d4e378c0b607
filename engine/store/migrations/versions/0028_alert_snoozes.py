"""alert snoozes: an operator's "no alerts from this camera until …", kept after they end

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_snoozes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("snoozed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snoozed_by", sa.String(200), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_snoozes"),
        sa.CheckConstraint("until > snoozed_at", name="ck_alert_snoozes_span"),
    )
    op.create_index("ix_alert_snoozes_camera_until", "alert_snoozes", ["camera_id", "until"])


def downgrade() -> None:
    op.drop_index("ix_alert_snoozes_camera_until", table_name="alert_snoozes")
    op.drop_table("alert_snoozes")
