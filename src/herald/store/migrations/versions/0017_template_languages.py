"""A message in the client's language: a campaign's templates per language, the language each message got,
and each office's default language.

Existing campaigns keep their one template, unnamed (NULL language): they send exactly as before.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable, no default): SQLite adds them without copying the messages table.
    op.add_column("campaigns", sa.Column("template_language", sa.String(8)))
    op.add_column("campaigns", sa.Column("translations", sa.JSON))
    op.add_column("messages", sa.Column("language", sa.String(8)))
    op.add_column("office_profiles", sa.Column("language", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("office_profiles") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("translations")
        batch.drop_column("template_language")
