"""The store: the history that must survive a crash (runs, transitions, outages, events, usage, maintenance).

SQLite by default, PostgreSQL in production; the same code and the same migrations on both. The API is
synchronous and speaks unix seconds (``float``), like the state machine; conversion to aware UTC datetimes
happens here, at the edge. Call it from a thread, never from the asyncio loop: ``monitor.store.writer``
runs the writes on one background thread.

Errors: a database failure of any kind raises :class:`StoreError`, which names the database (password
masked) and what failed. Invalid arguments raise ``ValueError`` before the database is touched, so a
caller can tell "retry later" from "this will never work".

The package, one module per concern; import from ``monitor.store`` itself, which re-exports the API:

- ``errors``: :class:`StoreError`, :class:`LeaseFenced` (a fenced write refused: see ``Store.fence``).
- ``records``: the dataclasses the store hands back and takes in.
- ``timestamps``: unix seconds <-> aware UTC datetimes.
- ``core``: :class:`Store` (engine, sessions, migrations, health check, monitor runs), composed of the
  mixins ``outages`` (transitions and outages), ``events``, ``usage`` and ``maintenance``.
- ``report_queries`` and ``alerting``: functions over a Store for the monthly report and for alert state
  and the notification outbox, kept apart from the Store's API but inside the package, so that SQL lives
  only here.
- ``batching``: bounded IN lists.
"""

from monitor.store.alerting import (
    acknowledge_alerts,
    active_alerts,
    list_alerts,
    outbox_delivered,
    outbox_depth,
    outbox_failed,
    outbox_give_up,
    outbox_give_up_channels,
    outbox_messages,
    pending_outbox,
    prune_outbox,
    save_alerting,
    undelivered_messages,
)
from monitor.store.core import MIGRATIONS_DIR, Store
from monitor.store.errors import LeaseFenced, StoreError
from monitor.domain.records import (
    AlertRecord,
    MaintenanceWindow,
    OutageRecord,
    OutboxMessage,
    RunRecord,
    StoredEvent,
    StoredTransition,
    UsageRow,
    UsageTotals,
)
from monitor.store.report_queries import states_at, usage_totals

__all__ = [
    "MIGRATIONS_DIR",
    "AlertRecord",
    "LeaseFenced",
    "MaintenanceWindow",
    "OutageRecord",
    "OutboxMessage",
    "RunRecord",
    "Store",
    "StoreError",
    "StoredEvent",
    "StoredTransition",
    "UsageRow",
    "UsageTotals",
    "acknowledge_alerts",
    "active_alerts",
    "list_alerts",
    "outbox_delivered",
    "outbox_depth",
    "outbox_failed",
    "outbox_give_up",
    "outbox_give_up_channels",
    "outbox_messages",
    "pending_outbox",
    "prune_outbox",
    "save_alerting",
    "states_at",
    "undelivered_messages",
    "usage_totals",
]
