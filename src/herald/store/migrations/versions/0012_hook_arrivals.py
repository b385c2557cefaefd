"""When Fineract's hooks last arrived, per tenant and event (entity, action): the triggered campaign page shows it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.store.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hook_arrivals",
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(60), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("last_succeeded", sa.Boolean, nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tenant", "entity", "action", name="pk_hook_arrivals"),
    )


def downgrade() -> None:
    op.drop_table("hook_arrivals")
