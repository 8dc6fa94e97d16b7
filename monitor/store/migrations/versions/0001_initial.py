"""Initial schema: runs, transitions, outages, events, hourly usage, maintenance.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Frozen on purpose: it spells out its types instead of importing ``monitor.store.schema``, so that later
changes to the models cannot change what this revision did. Timestamps are ``timestamptz`` on
PostgreSQL and fixed-width UTC text on SQLite (see ``monitor.store.schema.UtcDateTime``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "monitor_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        _ts("started_at"),
        _ts("last_heartbeat_at"),
        _ts("stopped_at", nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_runs")),
    )
    op.create_index(op.f("ix_monitor_runs_started_at"), "monitor_runs", ["started_at"])

    op.create_table(
        "transitions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("site", sa.String(length=128), nullable=False),
        sa.Column("old", sa.String(length=32), nullable=False),
        sa.Column("new", sa.String(length=32), nullable=False),
        _ts("at"),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint("scope IN ('ap', 'site', 'uplink')", name=op.f("ck_transitions_scope")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["monitor_runs.id"], name=op.f("fk_transitions_run_id_monitor_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
        sa.UniqueConstraint(
            "scope", "entity", "at", "old", "new", name=op.f("uq_transitions_scope_entity_at_old_new")
        ),
    )
    op.create_index(op.f("ix_transitions_at"), "transitions", ["at"])
    op.create_index(op.f("ix_transitions_run_id"), "transitions", ["run_id"])

    op.create_table(
        "outages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("site", sa.String(length=128), nullable=False),
        _ts("started_at"),
        _ts("ended_at", nullable=True),
        sa.Column("end_state", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("open_transition_id", BigId, nullable=False),
        sa.Column("close_transition_id", BigId, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        _ts("acknowledged_at", nullable=True),
        sa.CheckConstraint("scope IN ('ap', 'site', 'uplink')", name=op.f("ck_outages_scope")),
        sa.ForeignKeyConstraint(
            ["close_transition_id"],
            ["transitions.id"],
            name=op.f("fk_outages_close_transition_id_transitions"),
        ),
        sa.ForeignKeyConstraint(
            ["open_transition_id"], ["transitions.id"], name=op.f("fk_outages_open_transition_id_transitions")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["monitor_runs.id"], name=op.f("fk_outages_run_id_monitor_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outages")),
    )
    op.create_index(op.f("ix_outages_started_at"), "outages", ["started_at"])
    op.create_index(op.f("ix_outages_ended_at"), "outages", ["ended_at"])
    # At most one open outage per entity, enforced by the database.
    op.create_index(
        "uq_outages_open",
        "outages",
        ["scope", "entity"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )

    op.create_table(
        "events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("site", sa.String(length=128), nullable=False),
        _ts("at"),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["monitor_runs.id"], name=op.f("fk_events_run_id_monitor_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_entity_at"), "events", ["entity", "at"])
    op.create_index(op.f("ix_events_at"), "events", ["at"])
    op.create_index(op.f("ix_events_run_id"), "events", ["run_id"])

    op.create_table(
        "usage_hourly",
        sa.Column("ap", sa.String(length=128), nullable=False),
        _ts("hour"),
        sa.Column("site", sa.String(length=128), nullable=False),
        sa.Column("max_clients", sa.Integer(), nullable=False),
        sa.Column("client_samples_sum", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("rx_bytes", sa.BigInteger(), nullable=False),
        sa.Column("tx_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ap", "hour", name=op.f("pk_usage_hourly")),
    )
    op.create_index(op.f("ix_usage_hourly_hour"), "usage_hourly", ["hour"])

    op.create_table(
        "usage_flushes",
        sa.Column("flush_id", sa.String(length=64), nullable=False),
        _ts("applied_at"),
        sa.PrimaryKeyConstraint("flush_id", name=op.f("pk_usage_flushes")),
    )
    op.create_index(op.f("ix_usage_flushes_applied_at"), "usage_flushes", ["applied_at"])

    op.create_table(
        "maintenance",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("scope_value", sa.String(length=128), nullable=True),
        _ts("starts_at"),
        _ts("ends_at"),
        sa.Column("recurrence", sa.String(length=16), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(
            "scope_kind IN ('ap', 'site', 'category', 'district', 'all')",
            name=op.f("ck_maintenance_scope_kind"),
        ),
        sa.CheckConstraint(
            "recurrence IS NULL OR recurrence IN ('daily', 'weekly', 'monthly')",
            name=op.f("ck_maintenance_recurrence"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_maintenance_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance")),
    )
    op.create_index(op.f("ix_maintenance_starts_at"), "maintenance", ["starts_at"])


def downgrade() -> None:
    for table in (
        "maintenance",
        "usage_flushes",
        "usage_hourly",
        "events",
        "outages",
        "transitions",
        "monitor_runs",
    ):
        op.drop_table(table)
