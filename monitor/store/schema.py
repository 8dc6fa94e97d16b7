"""The store's tables, as SQLAlchemy 2 models. Only the store (``monitor/store/``) and the migrations use them.

Every timestamp column is :class:`UtcDateTime`: it takes and returns timezone-aware UTC datetimes on SQLite
and PostgreSQL alike, with microsecond precision. The rest of the service speaks unix seconds (float);
:func:`to_datetime` and :func:`to_unix` convert at the store's edge.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from monitor.domain.vocabulary import MAINTENANCE_SCOPES, RECURRENCES

# Stable constraint names, so Alembic can alter them later (SQLite batch mode needs names to find them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit id on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer, "sqlite")

SCOPES = ("ap", "site", "uplink")


def to_datetime(ts: float) -> datetime:
    """Unix seconds to an aware UTC datetime, rounded to the microsecond (what both backends keep)."""
    if not math.isfinite(ts):
        raise ValueError(f"timestamp must be a finite number of unix seconds, got {ts!r}")
    return datetime.fromtimestamp(ts, UTC)


def to_unix(dt: datetime) -> float:
    """An aware datetime back to unix seconds."""
    return dt.timestamp()


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL keeps ``timestamptz`` and hands it back in the session's time zone, so results are converted
    to UTC. SQLite has no time zone type: values are stored as naive UTC text (SQLAlchemy's fixed-width
    ``YYYY-MM-DD HH:MM:SS.ffffff``, so text order is time order) and made aware again on the way out.
    Naive datetimes are refused on the way in: guessing their zone is how reports go wrong by 9 hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC timestamps only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class MonitorRun(Base):
    """One run of the monitor process. Between one run's last heartbeat and the next's start nobody watched."""

    __tablename__ = "monitor_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    host: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    # The shard it watched (see monitor.domain.shards); both NULL: the whole inventory (and every run before 0005).
    shard_index: Mapped[int | None] = mapped_column(Integer)
    shard_count: Mapped[int | None] = mapped_column(Integer)


class LeaseRow(Base):
    """Who may act for a shard (poll it, deliver its messages) until ``expires_at``: the active of an
    active/standby pair renews it every few seconds; a standby takes it once it lapses."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # 'shard 0/2', 'whole'
    holder: Mapped[str] = mapped_column(String(255))  # host, pid and a random token of the instance
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TransitionRow(Base):
    """A state change of an AP, site or uplink, exactly as the state machine emitted it."""

    __tablename__ = "transitions"
    __table_args__ = (
        # A replayed transition (a retry after a commit whose answer was lost) is the same row, not a new one.
        UniqueConstraint("scope", "entity", "at", "old", "new"),
        Index(None, "at"),
        CheckConstraint(f"scope IN {SCOPES!r}", name="scope"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(128))
    site: Mapped[str] = mapped_column(String(128))
    old: Mapped[str] = mapped_column(String(32))
    new: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class OutageRow(Base):
    """A period an entity was down: from the first failed probe to the transition that left ``down``."""

    __tablename__ = "outages"
    __table_args__ = (
        # At most one open outage per entity, enforced by the database itself (both backends have partial
        # indexes), so a bug or a replay can never leave two open outages to double-count downtime.
        Index(
            "uq_outages_open",
            "scope",
            "entity",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index(None, "started_at"),
        Index(None, "ended_at"),
        CheckConstraint(f"scope IN {SCOPES!r}", name="scope"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(128))
    site: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(32))
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id"))
    # The transitions that opened and closed it: the report's figures trace back to these rows.
    open_transition_id: Mapped[int] = mapped_column(ForeignKey("transitions.id"))
    close_transition_id: Mapped[int | None] = mapped_column(ForeignKey("transitions.id"))
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    ack_comment: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EventRow(Base):
    """Something that happened without a state change: a reboot, flapping, a counter reset."""

    __tablename__ = "events"
    # Replays are recognised by the store on (kind, entity, at, detail); no unique index, since an index
    # over free text has a size limit on PostgreSQL and a refused row would block the writer for good.
    __table_args__ = (Index(None, "entity", "at"), Index(None, "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(128))
    site: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str] = mapped_column(Text, default="")


class UsageHourlyRow(Base):
    """Usage of one AP in one UTC hour. Writes merge additively (see ``Store.add_usage``)."""

    __tablename__ = "usage_hourly"
    __table_args__ = (Index(None, "hour"),)

    ap: Mapped[str] = mapped_column(String(128), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)  # start of the hour, UTC
    site: Mapped[str] = mapped_column(String(128))
    max_clients: Mapped[int] = mapped_column(Integer)
    client_samples_sum: Mapped[int] = mapped_column(BigInteger)  # sum of client counts over the samples
    samples: Mapped[int] = mapped_column(Integer)  # mean clients = client_samples_sum / samples
    rx_bytes: Mapped[int] = mapped_column(BigInteger)
    tx_bytes: Mapped[int] = mapped_column(BigInteger)


class UsageFlushRow(Base):
    """Flush ids already merged into ``usage_hourly``: a retried flush is recognised and not added twice."""

    __tablename__ = "usage_flushes"

    flush_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class MaintenanceRow(Base):
    """A planned maintenance window, possibly recurring in a local time zone."""

    __tablename__ = "maintenance"
    __table_args__ = (
        CheckConstraint(f"scope_kind IN {MAINTENANCE_SCOPES!r}", name="scope_kind"),
        CheckConstraint(f"recurrence IS NULL OR recurrence IN {RECURRENCES!r}", name="recurrence"),
        CheckConstraint("ends_at > starts_at", name="ordered"),
        CheckConstraint("retired_at IS NULL OR retired_at > starts_at", name="retired_after_start"),
        Index(None, "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_value: Mapped[str | None] = mapped_column(String(128))  # None only for scope_kind 'all'
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recurrence: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Removed after it began: it applies no more from then on; its past stays (reports never change).
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# -- alerting --------------------------------------------------------------------------------------------

ALERT_STATUSES = ("firing", "suppressed", "held", "resolved")


class AlertRow(Base):
    """One alert instance, from first seen to resolved: what the alert engine remembers, and the ack.

    The service writes everything but the ``ack_*``/``acked_*`` columns, which only an acknowledgement
    (``wifimon ack``, ``POST /api/ack``) sets; the service clears them only when the alert got worse.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("key", "opened_at"),  # a replayed write of the same instance is an update
        # At most one active instance per key and shard, enforced by the database (like open outages); the
        # service's own alerts (store failing, overruns) have the same key in every shard.
        Index(
            "uq_alerts_active",
            "shard",
            "key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index(None, "site"),
        Index(None, "opened_at"),
        CheckConstraint(f"status IN {ALERT_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(128))
    ap: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    since: Mapped[datetime] = mapped_column(UtcDateTime)  # when the problem began (first failed probe)
    reason: Mapped[str | None] = mapped_column(String(128))
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sends: Mapped[int] = mapped_column(Integer)
    escalation: Mapped[int] = mapped_column(Integer)
    notified: Mapped[str] = mapped_column(Text)  # JSON list of channel names
    gravity: Mapped[int] = mapped_column(Integer)
    ack_gravity: Mapped[int | None] = mapped_column(Integer)
    alert: Mapped[str] = mapped_column(Text)  # JSON: the alert's text inputs (site name, APs, reason, …)
    acked_by: Mapped[str | None] = mapped_column(String(128))
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ack_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ack_comment: Mapped[str | None] = mapped_column(Text)
    shard: Mapped[str] = mapped_column(String(16), default="", server_default="")  # '0/2'; '': whole inventory


class OutboxRow(Base):
    """A notification to one channel, written before it is sent and kept until delivered (and a while after).

    ``message_id`` is the idempotency key the receiver sees; messages of one alert to one channel are
    delivered in ``id`` order. ``given_up_at`` is set when delivery gave the message up (undeliverable for
    ``alerting.delivery.give_up_after``, or its channel was removed from the config), ``last_error`` says why:
    it is no longer pending, ``wifimon alerts --undelivered`` lists it, and it is pruned like a delivered one.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "delivered_at"),
        Index(None, "alert_key", "channel"),
        Index(None, "created_at"),
        Index(None, "channel", "delivered_at", "given_up_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    alert_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)  # JSON, see monitor.alerting.payload
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    given_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shard: Mapped[str] = mapped_column(String(16), default="", server_default="")  # whose instance delivers it
