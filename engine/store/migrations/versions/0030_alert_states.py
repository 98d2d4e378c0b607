"""alert states and handling: who took an alert (in progress), its history of notes, and
per rule the operating instructions and whether closing needs a comment

An alert is new, in progress (``taken_at``/``taken_by``) or closed (the acknowledgement
columns of revision 0011: closing is what acknowledging was). ``alert_notes`` keeps its
history. The acknowledgements stored before this revision, with the notes operators wrote
(kept until now only in the audit trail's detail, which retention prunes after a year), are
copied in as closings, so every note shows with its alert.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-29
"""

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("taken_at", TIME, nullable=True))
        batch.add_column(sa.Column("taken_by", sa.String(100), nullable=True))
    with op.batch_alter_table("alert_rules") as batch:
        batch.add_column(sa.Column("instructions", sa.String(2000), nullable=True))
        batch.add_column(
            sa.Column("comment_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "alert_notes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column(
            "alert_id", BIG_ID, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", TIME, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_notes"),
        sa.CheckConstraint(
            "kind IN ('took', 'note', 'closed', 'escalated')", name="ck_alert_notes_kind"
        ),
    )
    op.create_index("ix_alert_notes_alert_at", "alert_notes", ["alert_id", "at"])
    _copy_acknowledgements()


def _copy_acknowledgements() -> None:
    """Each stored acknowledgement (audit action ``alert.acknowledge``, allowed) of an alert
    still stored becomes its closing entry, with the note it carried."""
    bind = op.get_bind()
    entries = sa.table(
        "audit_entries",
        sa.column("ts_us", sa.BigInteger()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("target", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("detail", sa.Text()),
    )
    alerts = sa.table("alerts", sa.column("id", BIG_ID))
    notes = sa.table(
        "alert_notes",
        sa.column("alert_id", BIG_ID),
        sa.column("at", TIME),
        sa.column("author", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("text", sa.String()),
    )
    stored = {int(i) for (i,) in bind.execute(sa.select(alerts.c.id))}
    rows = bind.execute(
        sa.select(entries.c.ts_us, entries.c.actor, entries.c.target, entries.c.detail)
        .where(entries.c.action == "alert.acknowledge", entries.c.outcome == "ok")
        .order_by(entries.c.ts_us)
    ).all()
    copied = []
    for ts_us, actor, target, detail in rows:
        prefix, _, number = str(target).partition(":")
        if prefix != "alert" or not number.isdigit() or int(number) not in stored:
            continue
        try:
            note = json.loads(detail).get("note", "")
        except (ValueError, AttributeError):
            note = ""
        copied.append(
            {
                "alert_id": int(number),
                "at": EPOCH + timedelta(microseconds=int(ts_us)),
                "author": str(actor)[:200],
                "kind": "closed",
                "text": str(note or "")[:2000],
            }
        )
    if copied:
        op.bulk_insert(notes, copied)


def downgrade() -> None:
    op.drop_index("ix_alert_notes_alert_at", table_name="alert_notes")
    op.drop_table("alert_notes")
    with op.batch_alter_table("alert_rules") as batch:
        batch.drop_column("comment_required")
        batch.drop_column("instructions")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("taken_by")
        batch.drop_column("taken_at")
