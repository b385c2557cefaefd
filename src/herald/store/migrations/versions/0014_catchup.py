"""Triggered campaigns: how late is too late (campaigns.too_late_after, a day for those already there), and the
catch-up job's per-campaign marks (catchup_marks): how far Fineract has been read for events hooks missed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.store.tables import Id, UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TRIGGERED = 3
A_DAY = 24 * 60


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("too_late_after", sa.Integer, nullable=True))
    op.execute(sa.text(f"UPDATE campaigns SET too_late_after = {A_DAY} WHERE trigger_type = {TRIGGERED}"))
    op.create_table(
        "catchup_marks",
        sa.Column("campaign_id", Id, nullable=False, autoincrement=False),
        sa.Column("last_id", sa.BigInteger),
        sa.Column("last_date", sa.Date),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("ran_at", UTCDateTime()),
        sa.Column("events", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("too_late", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("campaign_id", name="pk_catchup_marks"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_catchup_marks_campaign_id_campaigns", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("catchup_marks")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("too_late_after")
