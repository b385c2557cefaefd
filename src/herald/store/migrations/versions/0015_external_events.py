"""Fineract's external events: those acted on (by idempotency key), those kept aside, and when each kind last came.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.store.tables import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_arrivals",
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(60), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("last_succeeded", sa.Boolean, nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tenant", "entity", "action", name="pk_event_arrivals"),
    )
    op.create_table(
        "external_events",
        sa.Column("event_key", sa.String(120), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("event_key", name="pk_external_events"),
    )
    op.create_index("ix_external_events_received_at", "external_events", ["received_at"])
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("type", sa.String(100), nullable=True),
        sa.Column("broker_message_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("ref", name="uq_dead_letters_ref"),
        sqlite_autoincrement=True,  # ids never given again: a command typed from an old listing
    )


def downgrade() -> None:
    op.drop_table("dead_letters")
    op.drop_index("ix_external_events_received_at", table_name="external_events")
    op.drop_table("external_events")
    op.drop_table("event_arrivals")
