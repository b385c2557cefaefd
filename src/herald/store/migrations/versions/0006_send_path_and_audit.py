"""Workers with heartbeats and claims that name them, in-doubt times kept across reclaims, the audit log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.store.tables import Id, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("in_doubt_since", UTCDateTime()))
        batch.add_column(sa.Column("claimed_by", sa.String(64)))
    op.create_index("ix_messages_status_provider_not_before", "messages", ["status", "provider", "not_before"])
    op.create_table(
        "workers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("stopping", sa.Boolean, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_workers"),
    )
    op.create_index("ix_workers_heartbeat_at", "workers", ["heartbeat_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("address", sa.String(64)),
        sa.Column("tenant", sa.String(100)),
        sa.Column("detail", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("workers")
    op.drop_index("ix_messages_status_provider_not_before", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("in_doubt_since")
