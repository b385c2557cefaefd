"""Initial schema: campaigns, messages (unique dedup key per campaign), office profiles, job runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.store.tables import Id, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("trigger_type", sa.SmallInteger, nullable=False),
        sa.Column("rule_id", sa.Integer, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("recurrence", sa.String(200)),
        sa.Column("recurrence_start", sa.DateTime),
        sa.Column("timezone", sa.String(64)),
        sa.Column("next_trigger_at", UTCDateTime()),
        sa.Column("last_trigger_at", UTCDateTime()),
        sa.Column("activation_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("name", name="uq_campaigns_name"),
    )
    op.create_table(
        "messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("client_id", sa.BigInteger),
        sa.Column("office_id", sa.BigInteger),
        sa.Column("mobile_no", sa.String(50)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.String(300)),
        sa.Column("encoding", sa.String(8), nullable=False),
        sa.Column("segments", sa.SmallInteger, nullable=False),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("external_id", sa.String(120)),
        sa.Column("attempts", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("not_before", UTCDateTime()),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error_text", sa.String(300)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("delivered_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_messages_campaign_id_campaigns", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("campaign_id", "dedup_key", name="uq_messages_campaign_id_dedup_key"),
    )
    op.create_index("ix_messages_status_not_before", "messages", ["status", "not_before"])
    op.create_index("ix_messages_campaign_id_status", "messages", ["campaign_id", "status"])
    op.create_index("ix_messages_external_id", "messages", ["external_id"])
    op.create_table(
        "office_profiles",
        sa.Column("office_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("region", sa.String(2), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("office_id", name="pk_office_profiles"),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(80), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("counts", sa.JSON),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
    )
    op.create_index("ix_job_runs_job_started_at", "job_runs", ["job", "started_at"])


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_table("office_profiles")
    op.drop_table("messages")
    op.drop_table("campaigns")
