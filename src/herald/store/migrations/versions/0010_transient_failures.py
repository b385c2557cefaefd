"""Messages whose failure passes (the provider said so in its report) until the re-send policy has settled
them, with a partial index on just those; and whether a report parked until its message is known says so.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("resend_pending", sa.Boolean, nullable=False, server_default="0"))
    with op.batch_alter_table("parked_reports") as batch:
        batch.add_column(sa.Column("transient", sa.Boolean, nullable=False, server_default="0"))
    # Partial: only the failures still to settle, the few the re-send policy reads every report pass.
    # Spelled as the query spells it (`= 1` on SQLite), which is when SQLite's planner takes a partial index.
    op.create_index(
        "ix_messages_resend_pending",
        "messages",
        ["updated_at"],
        sqlite_where=sa.text("resend_pending = 1"),
        postgresql_where=sa.text("resend_pending = true"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_resend_pending", "messages")
    with op.batch_alter_table("parked_reports") as batch:
        batch.drop_column("transient")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("resend_pending")
