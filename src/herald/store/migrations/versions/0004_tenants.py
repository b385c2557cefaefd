"""Tenants: a campaign belongs to one Fineract tenant; office profiles are per tenant.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("tenant", sa.String(100), nullable=False, server_default="default"))
    with op.batch_alter_table("office_profiles", recreate="always") as batch:
        batch.add_column(sa.Column("tenant", sa.String(100), nullable=False, server_default="default"))
        batch.drop_constraint("pk_office_profiles", type_="primary")
        batch.create_primary_key("pk_office_profiles", ["tenant", "office_id"])


def downgrade() -> None:
    with op.batch_alter_table("office_profiles", recreate="always") as batch:
        batch.drop_constraint("pk_office_profiles", type_="primary")
        batch.drop_column("tenant")
        batch.create_primary_key("pk_office_profiles", ["office_id"])
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("tenant")
