"""Messages remember an attempt in flight, so a crash mid-send is detected rather than silently repeated.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from herald.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("in_flight_since", UTCDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("in_flight_since")
