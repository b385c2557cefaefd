"""A sender id per campaign: the alphanumeric name or number its messages come from (empty: the provider's own),
and on each message the sender id it was first claimed under, so a retry or a lookup uses the same name.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("sender_id", sa.String(24)))  # "+" and 20 digits fit (SMPP)
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("sender_id", sa.String(24)))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sender_id")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("sender_id")
