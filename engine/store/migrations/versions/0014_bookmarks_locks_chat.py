"""bookmarks, evidence locks with their sources, and chat conversations

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bookmarks",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("marked_at", TIME, nullable=False),
        sa.Column("pre_s", sa.Float(), nullable=False),
        sa.Column("post_s", sa.Float(), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("ended_at", TIME, nullable=False),
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("room", sa.String(64), nullable=True),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint("ended_at >= started_at", name="ck_bookmarks_range"),
        sa.CheckConstraint("pre_s >= 0 AND post_s >= 0", name="ck_bookmarks_padding"),
    )
    op.create_index("ix_bookmarks_started_at", "bookmarks", ["started_at", "ended_at"])
    op.create_index("ix_bookmarks_author", "bookmarks", ["author"])
    op.create_table(
        "evidence_locks",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("ended_at", TIME, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column(
            "bookmark_id", BIG_ID, sa.ForeignKey("bookmarks.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("export_path", sa.String(1000), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("released_by", sa.String(100), nullable=True),
        sa.Column("released_at", TIME, nullable=True),
        sa.CheckConstraint("ended_at >= started_at", name="ck_evidence_locks_range"),
    )
    op.create_index(
        "ix_evidence_locks_active", "evidence_locks", ["released_at", "started_at", "ended_at"]
    )
    op.create_table(
        "evidence_lock_sources",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "lock_id",
            BIG_ID,
            sa.ForeignKey("evidence_locks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("room", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "(camera_id IS NULL) <> (room IS NULL)", name="ck_evidence_lock_sources_one"
        ),
    )
    op.create_index("ix_evidence_lock_sources_lock", "evidence_lock_sources", ["lock_id"])
    op.create_index("ix_evidence_lock_sources_camera", "evidence_lock_sources", ["camera_id"])
    op.create_table(
        "chat_messages",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=True),
        sa.Column("cited", sa.JSON(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.CheckConstraint("role IN ('user', 'assistant')", name="ck_chat_messages_role"),
        sa.CheckConstraint(
            "mode IS NULL OR mode IN ('llm', 'offline')", name="ck_chat_messages_mode"
        ),
    )
    op.create_index("ix_chat_messages_account_id", "chat_messages", ["account", "id"])


def downgrade() -> None:
    op.drop_table("chat_messages")
    op.drop_table("evidence_lock_sources")
    op.drop_table("evidence_locks")
    op.drop_table("bookmarks")
