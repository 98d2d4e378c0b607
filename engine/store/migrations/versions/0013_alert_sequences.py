"""alert rules, alert sequences (grouped into alerts, monotonic max_conf, labels), and the
alerts' latest activity for grouping

Every alert stored before this revision becomes an alert of one sequence with an unknown
confidence (a fall), so every alert has at least one sequence and the risk-class filter,
which looks at sequences, keeps them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("last_seen_at", TIME, nullable=True))
    op.execute("UPDATE alerts SET last_seen_at = raised_at")
    op.create_index("ix_alerts_site_last_seen", "alerts", ["site_id", "last_seen_at"])
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("room", sa.String(64), nullable=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("loiter_s", sa.Float(), nullable=True),
        sa.Column("gesture", sa.String(100), nullable=True),
        sa.Column("zone", sa.JSON(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("armed_from_min", sa.Integer(), nullable=False),
        sa.Column("armed_until_min", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.CheckConstraint(
            "trigger IN ('person', 'loitering', 'sensing_blob', 'gesture')",
            name="ck_alert_rules_trigger",
        ),
        sa.CheckConstraint(
            "(camera_id IS NULL) <> (room IS NULL)", name="ck_alert_rules_camera_or_room"
        ),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name="ck_alert_rules_severity"
        ),
    )
    op.create_index("ix_alert_rules_camera_id", "alert_rules", ["camera_id"])
    op.create_table(
        "alert_sequences",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("seq_key", sa.String(40), nullable=False, unique=True),
        sa.Column(
            "alert_id", BIG_ID, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "rule_id",
            sa.Integer(),
            sa.ForeignKey("alert_rules.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("track_id", sa.BigInteger(), nullable=True),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column("max_conf", sa.Float(), nullable=True),
        sa.Column("snapshot", sa.String(1000), nullable=True),
        sa.Column("label", sa.String(16), nullable=True),
        sa.Column("labelled_by", sa.String(100), nullable=True),
        sa.Column("labelled_at", TIME, nullable=True),
        sa.CheckConstraint(
            "label IS NULL OR label IN ('true_alarm', 'false_alarm')",
            name="ck_alert_sequences_label",
        ),
    )
    op.create_index("ix_alert_sequences_alert", "alert_sequences", ["alert_id", "max_conf"])
    op.create_index(
        "ix_alert_sequences_camera_started", "alert_sequences", ["camera_id", "started_at"]
    )
    op.execute(
        "INSERT INTO alert_sequences (seq_key, alert_id, source, trigger, started_at,"
        " last_seen_at, detections) SELECT 'alert-' || id, id, source, SUBSTR(kind, 1, 16),"
        " raised_at, raised_at, 1 FROM alerts"
    )


def downgrade() -> None:
    op.drop_table("alert_sequences")
    op.drop_table("alert_rules")
    op.drop_index("ix_alerts_site_last_seen", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("last_seen_at")
