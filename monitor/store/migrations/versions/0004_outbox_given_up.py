"""The outbox's given-up state: a message delivery gave up (too old, or its channel was removed).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Frozen like 0001: types spelt out here, not imported from ``monitor.store.schema``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:  # SQLite alters a table by copying it
        batch.add_column(sa.Column("given_up_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_outbox_channel_delivered_at_given_up_at"), "outbox",
                    ["channel", "delivered_at", "given_up_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_channel_delivered_at_given_up_at"), "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("given_up_at")
