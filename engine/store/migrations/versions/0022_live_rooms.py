"""consoles attached to a shared site: the latest picture of each sensing room; the engine
whose data dir keeps each media file

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_rooms",
        sa.Column(
            "site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("room", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "room", name="pk_live_rooms"),
    )
    # A plain ADD COLUMN (no table copy on SQLite).
    op.add_column("media", sa.Column("engine", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.drop_column("engine")
    op.drop_table("live_rooms")
