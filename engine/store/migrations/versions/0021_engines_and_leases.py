"""several engines share a site: engines, leases, and the engine that stored each event

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "engines",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("heartbeat_at", TIME, nullable=False),
        sa.Column("clock_offset_ms", sa.Float(), nullable=False),
        sa.Column("stopped_at", TIME, nullable=True),
        sa.Column("health", sa.JSON(), nullable=False),
        sa.UniqueConstraint("site_id", "name", name="uq_engines_site_name"),
    )
    op.create_table(
        "leases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(64), nullable=True),
        sa.Column("pinned", sa.String(64), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("acquired_at", TIME, nullable=True),
        sa.Column("heartbeat_at", TIME, nullable=True),
        sa.UniqueConstraint("site_id", "kind", "key", name="uq_leases_site_kind_key"),
        sa.CheckConstraint("kind IN ('camera', 'room', 'service')", name="ck_leases_kind"),
    )
    # A plain ADD COLUMN (no table copy on SQLite, so the rollup triggers stay).
    op.add_column("events", sa.Column("engine", sa.String(64), nullable=True))
    # Followers of a shared site read each engine's events after the last they saw.
    op.create_index("ix_events_engine_id", "events", ["engine", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_engine_id", "events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("engine")
    op.drop_table("leases")
    op.drop_table("engines")
