"""Alerting: alert instances (with acknowledgements) and the notification outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Frozen like 0001: types spelt out here, not imported from ``monitor.store.schema``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=128), nullable=True),
        sa.Column("ap", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _ts("opened_at"),
        _ts("since"),
        sa.Column("reason", sa.String(length=128), nullable=True),
        _ts("fired_at", nullable=True),
        _ts("last_sent_at", nullable=True),
        _ts("resolved_at", nullable=True),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("escalation", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Text(), nullable=False),
        sa.Column("gravity", sa.Integer(), nullable=False),
        sa.Column("ack_gravity", sa.Integer(), nullable=True),
        sa.Column("alert", sa.Text(), nullable=False),
        sa.Column("acked_by", sa.String(length=128), nullable=True),
        _ts("acked_at", nullable=True),
        _ts("ack_until", nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('firing', 'suppressed', 'held', 'resolved')", name=op.f("ck_alerts_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("key", "opened_at", name=op.f("uq_alerts_key_opened_at")),
    )
    op.create_index(op.f("ix_alerts_site"), "alerts", ["site"])
    op.create_index(op.f("ix_alerts_opened_at"), "alerts", ["opened_at"])
    op.create_index(
        "uq_alerts_active",
        "alerts",
        ["key"],
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("alert_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        _ts("delivered_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index(op.f("ix_outbox_delivered_at"), "outbox", ["delivered_at"])
    op.create_index(op.f("ix_outbox_alert_key_channel"), "outbox", ["alert_key", "channel"])
    op.create_index(op.f("ix_outbox_created_at"), "outbox", ["created_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("alerts")
