"""What the provider says it charged for a message (Africa's Talking's send answer, "KES 0.8000"), and its
currency: the statistics show it beside the estimate.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("provider_cost", sa.Numeric(14, 6), nullable=True))
        batch.add_column(sa.Column("provider_cost_currency", sa.String(3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("provider_cost_currency")
        batch.drop_column("provider_cost")
