"""The parts of long messages sent as several parts with their own provider ids (SMPP), kept in the
database instead of the adapter's memory so their receipts still combine after a restart.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_parts",
        sa.Column("provider", sa.String(50), primary_key=True),
        sa.Column("part_id", sa.String(120), primary_key=True),
        sa.Column(
            "message_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(120), nullable=False),
        sa.Column("status", sa.SmallInteger()),
    )
    op.create_index("ix_message_parts_message_id", "message_parts", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_message_parts_message_id", "message_parts")
    op.drop_table("message_parts")
