"""shared sites: each engine process holds its name with a random instance id, and the row
keeps whose name it took over

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"  # renumbered by the lead: 0025 is the node tokens
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table copy on SQLite). Rows from before have no instance: the
    # process that wrote them was stopped to migrate, so the next one of that name joins.
    op.add_column(
        "engines", sa.Column("instance", sa.String(32), nullable=False, server_default="")
    )
    op.add_column("engines", sa.Column("replaced", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("engines") as batch:
        batch.drop_column("replaced")
        batch.drop_column("instance")
