"""sensing node tokens: random per-node tokens, stored as their SHA-256

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensing_node_tokens",
        sa.Column("mac", sa.String(17), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("issued_by", sa.String(200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mac", name="pk_sensing_node_tokens"),
        sa.CheckConstraint(
            "origin IN ('paired', 'rotated', 'derived')", name="ck_sensing_node_tokens_origin"
        ),
    )


def downgrade() -> None:
    op.drop_table("sensing_node_tokens")
