"""Alert state and the notification outbox (monitor/alerting).

Functions over a Store, like the report queries, so that SQL still lives only in this package.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import CursorResult

from monitor.store.schema import AlertRow, OutageRow, OutboxRow
from monitor.store.batching import chunks
from monitor.store.core import Store
from monitor.domain.records import AlertRecord, OutboxMessage
from monitor.store.timestamps import optional_datetime, optional_unix, to_datetime, to_unix


def _alert_record(r: AlertRow) -> AlertRecord:
    return AlertRecord(
        key=r.key, rule=r.rule, severity=r.severity, site=r.site, ap=r.ap, status=r.status,
        opened_at=to_unix(r.opened_at), since=to_unix(r.since), reason=r.reason,
        fired_at=optional_unix(r.fired_at), last_sent_at=optional_unix(r.last_sent_at),
        resolved_at=optional_unix(r.resolved_at), sends=r.sends, escalation=r.escalation,
        notified=tuple(json.loads(r.notified)), gravity=r.gravity, ack_gravity=r.ack_gravity,
        alert=json.loads(r.alert), acked_by=r.acked_by, acked_at=optional_unix(r.acked_at),
        ack_until=optional_unix(r.ack_until), ack_comment=r.ack_comment, id=r.id,
    )


def _outbox_message(r: OutboxRow) -> OutboxMessage:
    return OutboxMessage(
        message_id=r.message_id, alert_key=r.alert_key, channel=r.channel, kind=r.kind,
        payload=json.loads(r.payload), created_at=to_unix(r.created_at), attempts=r.attempts,
        next_attempt_at=to_unix(r.next_attempt_at), delivered_at=optional_unix(r.delivered_at),
        last_error=r.last_error, id=r.id, given_up_at=optional_unix(r.given_up_at),
    )


def save_alerting(
    store: Store,
    alerts: Iterable[AlertRecord],
    messages: Iterable[OutboxMessage] = (),
    voided_acks: Iterable[tuple[str, float]] = (),
) -> int:
    """Write alert states and queue their messages in ONE transaction; returns how many messages were new.

    Idempotent, so the store writer may retry it: an alert is identified by (key, opened_at) and updated in
    place; a message whose ``message_id`` is already queued is skipped. The ack columns are never written
    here, except that ``voided_acks`` ((key, acked_at) pairs: the alert got worse) clears an ack still
    carrying that exact time, so an ack given meanwhile survives.
    """
    batch = list(alerts)
    queued = list(messages)
    for a in batch:
        if a.status not in ("firing", "suppressed", "held", "resolved"):
            raise ValueError(f"alert {a.key!r}: unknown status {a.status!r}")
    with store._transaction("save alerting") as s:
        keys = sorted({a.key for a in batch})
        existing: dict[tuple[str, datetime], AlertRow] = {}
        for chunk in chunks(keys) if batch else ():
            for row in s.scalars(select(AlertRow).where(AlertRow.key.in_(chunk), AlertRow.shard == store.partition)
                                 .where(AlertRow.opened_at >= min(to_datetime(a.opened_at) for a in batch))):
                existing[(row.key, row.opened_at)] = row
        # Resolutions first: within one flush the ORM orders UPDATEs before INSERTs anyway, and an instance
        # closed here must be closed before a new one of the same key is opened (the unique active index).
        for a in sorted(batch, key=lambda a: a.resolved_at is None):
            opened = to_datetime(a.opened_at)
            found = existing.get((a.key, opened))
            if found is None:
                row = AlertRow(key=a.key, opened_at=opened, shard=store.partition)
                s.add(row)
                existing[(a.key, opened)] = row
            else:
                row = found
            row.rule, row.severity, row.site, row.ap, row.status = a.rule, a.severity, a.site, a.ap, a.status
            row.since, row.reason = to_datetime(a.since), a.reason
            row.fired_at, row.last_sent_at, row.resolved_at = (
                optional_datetime(a.fired_at), optional_datetime(a.last_sent_at), optional_datetime(a.resolved_at)
            )
            row.sends, row.escalation, row.notified = a.sends, a.escalation, json.dumps(list(a.notified))
            row.gravity, row.ack_gravity = a.gravity, a.ack_gravity
            row.alert = json.dumps(a.alert, ensure_ascii=False)
        for key, acked_at in voided_acks:
            s.execute(
                update(AlertRow)
                .where(AlertRow.key == key, AlertRow.shard == store.partition, AlertRow.resolved_at.is_(None),
                       AlertRow.acked_at == to_datetime(acked_at))
                .values(acked_by=None, acked_at=None, ack_until=None, ack_comment=None)
            )
        new = 0
        if queued:
            ids = [m.message_id for m in queued]
            seen: set[str] = set()
            for chunk in chunks(ids):
                seen.update(s.scalars(select(OutboxRow.message_id).where(OutboxRow.message_id.in_(chunk))))
            for m in queued:
                if m.message_id in seen:
                    continue
                seen.add(m.message_id)
                s.add(OutboxRow(
                    message_id=m.message_id, alert_key=m.alert_key, channel=m.channel, kind=m.kind,
                    payload=json.dumps(m.payload, ensure_ascii=False), created_at=to_datetime(m.created_at),
                    attempts=m.attempts, next_attempt_at=to_datetime(m.next_attempt_at or m.created_at),
                    delivered_at=None, last_error=None, shard=store.partition,
                ))
                new += 1
    return new


def active_alerts(store: Store) -> list[AlertRecord]:
    """Alert instances of the store's shard not yet resolved (what a restarted service resumes from), oldest
    first. Each shard's instance resumes and evaluates its own alerts only."""
    with store._transaction("read active alerts") as s:
        rows = s.scalars(
            select(AlertRow).where(AlertRow.resolved_at.is_(None), AlertRow.shard == store.partition)
            .order_by(AlertRow.opened_at, AlertRow.id)
        ).all()
    return [_alert_record(r) for r in rows]


def list_alerts(store: Store, since: float | None = None, limit: int = 200) -> list[AlertRecord]:
    """Active alerts and, with ``since``, those resolved after it; newest first, at most ``limit``."""
    query = select(AlertRow)
    if since is None:
        query = query.where(AlertRow.resolved_at.is_(None))
    else:
        query = query.where(AlertRow.resolved_at.is_(None) | (AlertRow.resolved_at >= to_datetime(since)))
    with store._transaction("list alerts") as s:
        rows = s.scalars(query.order_by(AlertRow.opened_at.desc(), AlertRow.id.desc()).limit(limit)).all()
    return [_alert_record(r) for r in rows]


def acknowledge_alerts(
    store: Store, target: str, by: str, comment: str, at: float, until: float | None = None
) -> list[AlertRecord]:
    """Acknowledge every active alert whose key is ``target``, or whose site or AP is ``target``.

    A later acknowledgement replaces an earlier one. The open site outages of acknowledged site alerts
    are acknowledged too (the availability report shows who knew). Returns the alerts acknowledged.
    """
    if not target:
        raise ValueError("acknowledge: empty alert key or site")
    if until is not None and until <= at:
        raise ValueError(f"acknowledge {target!r}: 'until' must be in the future")
    when = to_datetime(at)
    with store._transaction("acknowledge alerts") as s:
        rows = s.scalars(
            select(AlertRow)
            .where(AlertRow.resolved_at.is_(None))
            .where((AlertRow.key == target) | (AlertRow.site == target) | (AlertRow.ap == target))
            .order_by(AlertRow.opened_at, AlertRow.id)
        ).all()
        sites = set()
        for row in rows:
            row.acked_by, row.acked_at, row.ack_until, row.ack_comment = (
                by[:128], when, optional_datetime(until), comment
            )
            if row.site and row.rule in ("site_down", "ferry_backhaul_lost", "site_degraded"):
                sites.add(row.site)
        for chunk in chunks(sorted(sites)):
            for outage in s.scalars(select(OutageRow).where(
                    OutageRow.ended_at.is_(None), OutageRow.scope == "site", OutageRow.entity.in_(chunk))):
                outage.acknowledged_by, outage.ack_comment, outage.acknowledged_at = by[:128], comment, when
        s.flush()
        return [_alert_record(r) for r in rows]


def _pending() -> tuple[Any, ...]:
    return OutboxRow.delivered_at.is_(None), OutboxRow.given_up_at.is_(None)


def _mine(store: Store) -> Any:
    """The store's shard's messages: an instance delivers its own shard's outbox, never another's."""
    return OutboxRow.shard == store.partition


def pending_outbox(store: Store, limit: int = 1000, channel: str | None = None,
                   skip: Collection[str] = ()) -> list[OutboxMessage]:
    """Undelivered messages of the store's shard not given up, oldest first (the delivery order), at most
    ``limit``; with ``channel``, of that channel only; ``skip``: message ids left out (sent, their mark not yet
    written)."""
    query = select(OutboxRow).where(*_pending(), _mine(store))
    if channel is not None:
        query = query.where(OutboxRow.channel == channel)
    with store._transaction("read outbox") as s:
        rows = s.scalars(query.order_by(OutboxRow.id).limit(limit + len(skip))).all()
    return [_outbox_message(r) for r in rows if r.message_id not in skip][:limit]


def undelivered_messages(store: Store, limit: int = 200) -> list[OutboxMessage]:
    """Messages not delivered, pending or given up, newest first, at most ``limit`` (``wifimon alerts
    --undelivered``)."""
    with store._transaction("read outbox") as s:
        rows = s.scalars(select(OutboxRow).where(OutboxRow.delivered_at.is_(None))
                         .order_by(OutboxRow.id.desc()).limit(limit)).all()
    return [_outbox_message(r) for r in rows]


def outbox_messages(store: Store, alert_key: str | None = None) -> list[OutboxMessage]:
    """Every message in the outbox (delivered or not), optionally of one alert, in order."""
    query = select(OutboxRow)
    if alert_key is not None:
        query = query.where(OutboxRow.alert_key == alert_key)
    with store._transaction("read outbox") as s:
        rows = s.scalars(query.order_by(OutboxRow.id)).all()
    return [_outbox_message(r) for r in rows]


def outbox_delivered(store: Store, message_ids: Iterable[str], at: float) -> int:
    """Mark messages delivered (a repeated mark keeps the first time); returns how many were pending."""
    ids = list(message_ids)
    done = 0
    with store._transaction("mark outbox delivered") as s:
        for chunk in chunks(ids):
            result = s.execute(
                update(OutboxRow)
                .where(OutboxRow.message_id.in_(chunk), OutboxRow.delivered_at.is_(None))
                .values(delivered_at=to_datetime(at), last_error=None)
            )
            done += cast(CursorResult[Any], result).rowcount or 0
    return done


def outbox_failed(store: Store, message_id: str, error: str, next_attempt_at: float) -> None:
    """Record a failed attempt: one more attempt, when to try again, and why it failed."""
    with store._transaction("mark outbox failed") as s:
        s.execute(
            update(OutboxRow)
            .where(OutboxRow.message_id == message_id, *_pending())
            .values(attempts=OutboxRow.attempts + 1, next_attempt_at=to_datetime(next_attempt_at),
                    last_error=error[:2000])
        )


def outbox_give_up(store: Store, message_ids: Iterable[str], at: float, reason: str) -> int:
    """Give pending messages up (they are no longer sent; ``reason`` becomes their last error); returns how many
    were pending."""
    done = 0
    with store._transaction("give up outbox messages") as s:
        for chunk in chunks(list(message_ids)):
            result = s.execute(update(OutboxRow).where(OutboxRow.message_id.in_(chunk), *_pending())
                               .values(given_up_at=to_datetime(at), last_error=reason[:2000]))
            done += cast(CursorResult[Any], result).rowcount or 0
    return done


def outbox_give_up_channels(store: Store, keep: Collection[str], at: float, reason: str) -> dict[str, int]:
    """Give up the pending messages of every channel not in ``keep`` (removed from the config); returns how
    many per channel."""
    with store._transaction("give up outbox messages of removed channels") as s:
        counts = {channel: n for channel, n in s.execute(
            select(OutboxRow.channel, func.count()).where(*_pending(), _mine(store),
                                                          OutboxRow.channel.not_in(list(keep)))
            .group_by(OutboxRow.channel))}
        if counts:
            s.execute(update(OutboxRow).where(*_pending(), _mine(store), OutboxRow.channel.in_(list(counts)))
                      .values(given_up_at=to_datetime(at), last_error=reason[:2000]))
    return counts


def outbox_depth(store: Store, channel: str | None = None) -> int:
    """Messages of the store's shard pending (not yet delivered, not given up); with ``channel``, of that
    channel."""
    query = select(func.count()).select_from(OutboxRow).where(*_pending(), _mine(store))
    if channel is not None:
        query = query.where(OutboxRow.channel == channel)
    with store._transaction("count outbox") as s:
        return int(s.scalar(query) or 0)


def prune_outbox(store: Store, before: float) -> int:
    """Delete messages delivered or given up before ``before`` (pending ones are never deleted); returns how
    many."""
    cut = to_datetime(before)
    with store._transaction("prune outbox") as s:
        result = s.execute(delete(OutboxRow).where(or_(OutboxRow.delivered_at < cut, OutboxRow.given_up_at < cut)))
        return cast(CursorResult[Any], result).rowcount or 0
