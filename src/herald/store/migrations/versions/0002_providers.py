"""Providers: parked delivery reports, the opt-out list, a fallback provider per campaign.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.store.tables import Id, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("fallback_provider", sa.String(50)))
    op.create_table(
        "parked_reports",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("external_id", sa.String(120), nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error_text", sa.String(300)),
        sa.Column("opted_out", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_parked_reports"),
    )
    op.create_index("ix_parked_reports_provider_external_id", "parked_reports", ["provider", "external_id"])
    op.create_table(
        "opt_outs",
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("detail", sa.String(200)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_opt_outs"),
    )


def downgrade() -> None:
    op.drop_table("opt_outs")
    op.drop_index("ix_parked_reports_provider_external_id", "parked_reports")
    op.drop_table("parked_reports")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("fallback_provider")
