"""Whether a message's failure passes (the provider said so in its report), so the re-send policy can pick it,
and the same on reports parked until their message is known.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("transient_failure", sa.Boolean, nullable=False, server_default="0"))
    with op.batch_alter_table("parked_reports") as batch:
        batch.add_column(sa.Column("transient", sa.Boolean, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("parked_reports") as batch:
        batch.drop_column("transient")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("transient_failure")
