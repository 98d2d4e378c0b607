"""BLE devices registered to people, and a person's display colour

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22

``ble_devices`` holds the phones and tags an admin registered: the device's address (upper
case, colon separated, unique), a label, and the person who carries it (a row of
``persons``, the face memory's people; deleting or erasing the person deletes their devices).
``persons.colour`` is how the console draws that person (``#RRGGBB``, or NULL for the
default palette).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ble_devices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("address", sa.String(17), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("persons.id", ondelete="CASCADE", name="fk_ble_devices_person_id"),
            nullable=False,
        ),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("address", name="uq_ble_devices_address"),
    )
    op.create_index("ix_ble_devices_person_id", "ble_devices", ["person_id"])
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("colour", sa.String(7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("colour")
    op.drop_index("ix_ble_devices_person_id", table_name="ble_devices")
    op.drop_table("ble_devices")
