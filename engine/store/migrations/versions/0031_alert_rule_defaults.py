"""default alert rules: which cameras were given them

A new site starts with default alert rules per camera (a person after hours, loitering);
``alert_rule_defaults`` remembers the cameras given them, so rules an admin removed are not
given again. The cameras stored before this revision belong to sites set up without
defaults: they count as given, and an upgrade adds no rule.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_rule_defaults",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("given_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("camera_id"),
    )
    op.execute(
        "INSERT INTO alert_rule_defaults (camera_id, given_at) "
        "SELECT id, CURRENT_TIMESTAMP FROM cameras"
    )


def downgrade() -> None:
    op.drop_table("alert_rule_defaults")
