"""incidents, their reports and media, training labels, the risk grid, risk refits and
cameras' daily risk classes

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
CATEGORIES = (
    "'violence', 'weapons', 'theft', 'fire', 'medical', 'vandalism', 'suspicious_activity', 'other'"
)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("occurred_at", TIME, nullable=False),
        sa.Column("last_report_at", TIME, nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column(
            "site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("classifier", sa.String(100), nullable=False),
        sa.Column("category_basis", sa.String(32), nullable=False),
        sa.Column("llm_pending", sa.Boolean(), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("reporter_count", sa.Integer(), nullable=False),
        sa.Column("validated_by", sa.String(100), nullable=True),
        sa.Column("validated_at", TIME, nullable=True),
        sa.CheckConstraint(f"category IN ({CATEGORIES})", name="ck_incidents_category"),
        sa.CheckConstraint("severity BETWEEN 1 AND 5", name="ck_incidents_severity"),
    )
    op.create_index("ix_incidents_occurred_at_id", "incidents", ["occurred_at", "id"])
    op.create_index("ix_incidents_category_occurred_at", "incidents", ["category", "occurred_at"])
    op.create_index("ix_incidents_llm_pending", "incidents", ["llm_pending"])
    op.create_table(
        "incident_reports",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "incident_id",
            BIG_ID,
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", TIME, nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reporter", sa.String(200), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column(
            "event_id", BIG_ID, sa.ForeignKey("events.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("filed_by", sa.String(100), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("classifier", sa.String(100), nullable=False),
        sa.Column("fallback_reason", sa.String(300), nullable=True),
        sa.Column("llm_pending", sa.Boolean(), nullable=False),
        sa.Column("merge", sa.JSON(), nullable=False),
        sa.CheckConstraint(f"category IN ({CATEGORIES})", name="ck_incident_reports_category"),
        sa.CheckConstraint("severity BETWEEN 1 AND 5", name="ck_incident_reports_severity"),
    )
    op.create_index(
        "ix_incident_reports_at_lat_lon", "incident_reports", ["at", "latitude", "longitude"]
    )
    op.create_index("ix_incident_reports_incident_id", "incident_reports", ["incident_id"])
    op.create_table(
        "incident_media",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "report_id",
            BIG_ID,
            sa.ForeignKey("incident_reports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("thumbnail_path", sa.String(1000), nullable=True),
        sa.Column("analysis", sa.JSON(), nullable=False),
        sa.Column("signature", sa.JSON(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint("kind IN ('photo', 'video')", name="ck_incident_media_kind"),
    )
    op.create_index("ix_incident_media_report_id", "incident_media", ["report_id"])
    op.create_table(
        "incident_labels",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "incident_id",
            BIG_ID,
            sa.ForeignKey("incidents.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("previous_category", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.CheckConstraint(f"category IN ({CATEGORIES})", name="ck_incident_labels_category"),
        sa.CheckConstraint("kind IN ('validated', 'corrected')", name="ck_incident_labels_kind"),
    )
    op.create_index("ix_incident_labels_at", "incident_labels", ["at"])
    op.create_index("ix_incident_labels_incident_id", "incident_labels", ["incident_id"])
    op.create_table(
        "risk_cells",
        sa.Column("cell", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("as_of", TIME, nullable=False),
    )
    op.create_table(
        "risk_models",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("slot", TIME, nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("finished_at", TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(1000), nullable=True),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.CheckConstraint("status IN ('ok', 'failed')", name="ck_risk_models_status"),
    )
    op.create_index("ix_risk_models_slot", "risk_models", ["slot"])
    op.create_table(
        "camera_risk_days",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "camera_id",
            sa.Integer(),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("risk_class", sa.String(16), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column(
            "model_id", BIG_ID, sa.ForeignKey("risk_models.id", ondelete="SET NULL"), nullable=True
        ),
        sa.UniqueConstraint("camera_id", "day", name="uq_camera_risk_days_camera_day"),
        sa.CheckConstraint(
            "risk_class IN ('very_low', 'low', 'moderate', 'high', 'very_high', 'extreme')",
            name="ck_camera_risk_days_class",
        ),
    )
    op.create_index("ix_camera_risk_days_day", "camera_risk_days", ["day"])


def downgrade() -> None:
    op.drop_index("ix_camera_risk_days_day", table_name="camera_risk_days")
    op.drop_table("camera_risk_days")
    op.drop_index("ix_risk_models_slot", table_name="risk_models")
    op.drop_table("risk_models")
    op.drop_table("risk_cells")
    op.drop_index("ix_incident_labels_incident_id", table_name="incident_labels")
    op.drop_index("ix_incident_labels_at", table_name="incident_labels")
    op.drop_table("incident_labels")
    op.drop_index("ix_incident_media_report_id", table_name="incident_media")
    op.drop_table("incident_media")
    op.drop_index("ix_incident_reports_incident_id", table_name="incident_reports")
    op.drop_index("ix_incident_reports_at_lat_lon", table_name="incident_reports")
    op.drop_table("incident_reports")
    op.drop_index("ix_incidents_llm_pending", table_name="incidents")
    op.drop_index("ix_incidents_category_occurred_at", table_name="incidents")
    op.drop_index("ix_incidents_occurred_at_id", table_name="incidents")
    op.drop_table("incidents")
