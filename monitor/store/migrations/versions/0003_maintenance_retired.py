"""Maintenance windows keep their past: ``retired_at`` instead of deleting a window that had begun.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Removing a window that has already taken effect used to delete its row, and with it the maintenance that
past reports had counted. Now such a window is retired at the moment of removal: it applies no more from
then on, and what it covered before stays covered. Frozen like 0001: types spelt out here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance") as batch:  # SQLite rebuilds the table; PostgreSQL alters it
        batch.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(
            op.f("ck_maintenance_retired_after_start"), "retired_at IS NULL OR retired_at > starts_at")


def downgrade() -> None:
    with op.batch_alter_table("maintenance") as batch:
        batch.drop_constraint(op.f("ck_maintenance_retired_after_start"), type_="check")
        batch.drop_column("retired_at")
