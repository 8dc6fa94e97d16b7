"""Shards: the shard each monitor run watched, the shard each alert and outbox message belongs to, and the
leases that make one instance per shard active.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Old rows keep their meaning: a run without a shard watched the whole inventory; alerts and messages with
the empty shard ('') are those of an instance that runs the whole inventory.

Frozen like 0001: types spelt out here, not imported from ``monitor.store.schema``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _active_index(columns: list[str]) -> None:
    op.create_index("uq_alerts_active", "alerts", columns, unique=True,
                    sqlite_where=sa.text("resolved_at IS NULL"), postgresql_where=sa.text("resolved_at IS NULL"))


def upgrade() -> None:
    with op.batch_alter_table("monitor_runs") as batch:  # SQLite alters a table by copying it
        batch.add_column(sa.Column("shard_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("shard_count", sa.Integer(), nullable=True))
    op.drop_index("uq_alerts_active", "alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("shard", sa.String(length=16), server_default="", nullable=False))
    _active_index(["shard", "key"])  # one active instance per key *per shard*: service alerts share keys
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("shard", sa.String(length=16), server_default="", nullable=False))
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("shard")
    op.drop_index("uq_alerts_active", "alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("shard")
    _active_index(["key"])
    with op.batch_alter_table("monitor_runs") as batch:
        batch.drop_column("shard_count")
        batch.drop_column("shard_index")
