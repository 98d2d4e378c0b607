"""meaning search: one sentence vector per incident report, bookmark and event summary

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "text_vectors",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "incident_report_id",
            BIG_ID,
            sa.ForeignKey("incident_reports.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "bookmark_id", BIG_ID, sa.ForeignKey("bookmarks.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "event_id", BIG_ID, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("indexed_at", TIME, nullable=False),
        sa.CheckConstraint(
            "kind IN ('incident', 'bookmark', 'event')", name="ck_text_vectors_kind"
        ),
        sa.CheckConstraint(
            "(kind = 'incident' AND incident_report_id IS NOT NULL AND bookmark_id IS NULL"
            " AND event_id IS NULL)"
            " OR (kind = 'bookmark' AND bookmark_id IS NOT NULL AND incident_report_id IS NULL"
            " AND event_id IS NULL)"
            " OR (kind = 'event' AND event_id IS NOT NULL AND incident_report_id IS NULL"
            " AND bookmark_id IS NULL)",
            name="ck_text_vectors_one_source",
        ),
    )
    op.create_index(
        "ix_text_vectors_incident_report", "text_vectors", ["incident_report_id"], unique=True
    )
    op.create_index("ix_text_vectors_bookmark", "text_vectors", ["bookmark_id"], unique=True)
    op.create_index("ix_text_vectors_event", "text_vectors", ["event_id"], unique=True)


def downgrade() -> None:
    op.drop_table("text_vectors")
