"""MQTT command grants: which broker user may send commands as which service account

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-28

A site file used to map broker users to accounts (``[mqtt.commands]``), so whoever could
run an engine with a site file could act as any account. An admin grants it now, in the
store (``watchfloor mqtt grant``, audited); a command also carries the account's token.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"  # renumbered by the lead: 0026 is the engine instances
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mqtt_grants",
        sa.Column("broker_user", sa.String(64), nullable=False),
        sa.Column(
            "account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("broker_user", name="pk_mqtt_grants"),
    )


def downgrade() -> None:
    op.drop_table("mqtt_grants")
