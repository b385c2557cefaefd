"""This installation's own id, made once, and when herald last looked a message's report up at its provider.

Infobip keeps one namespace of client message ids per account: two herald databases on one account
(two installations, or a rebuilt database) both sending `herald-<row id>-<attempt>` collide. The
installation id, generated here for new and existing databases alike, goes into every reference
sent from now on; messages already sent under the old form keep their stored external id.
`report_lookup_at` paces the lookup of messages whose report never came (see services/reports.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from herald.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    # 64 random bits as hex: unique among the installations that will ever share an account.
    op.bulk_insert(installation, [{"id": secrets.token_hex(8), "created_at": datetime.now(UTC)}])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("report_lookup_at", UTCDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("report_lookup_at")
    op.drop_table("installation")
