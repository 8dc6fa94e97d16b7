"""The channel-neutral message kept in the outbox: built once, when the notification is decided.

Each channel turns it into its own wire format at send time. The generic webhook sends it as is; its
schema (``wifimon.alert/v1``) is documented in :mod:`monitor.alerting.channels.webhook`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.alerting import messages
from monitor.alerting.model import Notification

SCHEMA = "wifimon.alert/v1"


def iso(ts: float | None) -> str | None:
    """Unix seconds as RFC 3339 UTC (what Alertmanager and most receivers parse)."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def new_message_id() -> str:
    """The idempotency key of one message to one channel: unique, stable across retries and restarts
    (it is stored with the message)."""
    return uuid.uuid4().hex


def build(n: Notification, message_id: str, language: str, tz: ZoneInfo) -> dict[str, Any]:
    a = n.alert
    return {
        "schema": SCHEMA,
        "id": message_id,
        "idempotency_key": message_id,
        "kind": n.kind,
        "sequence": n.sequence,
        "created_at": iso(n.at),
        "language": language,
        "title": messages.title(n, language),
        "text": messages.body(n, language, tz),
        "alert": {
            "key": a.key,
            "rule": str(a.rule),
            "severity": a.severity,
            "status": "resolved" if n.kind == "resolved" else "firing",
            "site": a.site,
            "site_name": a.site_name,
            "address": a.address,
            "district": a.district,
            "ap": a.ap,
            "aps": list(a.aps),
            "total_aps": a.total_aps,
            "reason": a.reason,
            "reason_text": messages.reason_text(a.reason, language),
            "detail": a.detail,
            "since": iso(a.since),
            "since_unix": a.since,
            "opened_at": iso(n.opened_at),
            "resolved_at": iso(n.resolved_at),
            "resolved_at_unix": n.resolved_at,
            "escalation": n.escalation,
            "acknowledged": None if n.ack is None else {
                "by": n.ack.by, "at": iso(n.ack.at), "until": iso(n.ack.until), "comment": n.ack.comment},
        },
    }
