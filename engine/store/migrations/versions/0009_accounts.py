"""accounts (people and service accounts with roles), and the audit chain's anchor

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

``accounts`` holds who may log in: a person's password as a scrypt hash, or a service
account's token as its SHA-256, never the secret itself; the failed-login count and the
time before which no further attempt is heard (the brute-force delay). ``audit_head`` gains
the anchor: the seq and hash of the newest entry retention has pruned (0 and the genesis
hash while none has been), which the next entry's ``prev_hash`` is checked against.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(300), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("retry_after_us", sa.BigInteger(), nullable=True),
        sa.Column("last_login_us", sa.BigInteger(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("secret_changed_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'service')", name="ck_accounts_kind"),
        sa.UniqueConstraint("name_key", name="uq_accounts_name_key"),
    )
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(
            sa.Column("anchor_seq", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("anchor_hash", sa.String(64), nullable=False, server_default=GENESIS)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("anchor_hash")
        batch.drop_column("anchor_seq")
    op.drop_table("accounts")
