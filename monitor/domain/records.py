"""The records the store hands back and takes in (unix seconds); the inputs validate themselves."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.domain.vocabulary import MAINTENANCE_SCOPES, RECURRENCES, Event, Reason, Scope, Transition

# -- the Store's records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRecord:
    """One run of the monitor process (unix seconds)."""

    id: int
    started_at: float
    last_heartbeat_at: float
    stopped_at: float | None
    host: str
    version: str
    shard: tuple[int, int] | None = None  # (index, count) it watched; None: the whole inventory

    @property
    def watched_until(self) -> float:
        """The last moment this run is known to have been watching."""
        return self.stopped_at if self.stopped_at is not None else self.last_heartbeat_at


@dataclass(frozen=True)
class StoredTransition:
    """A transition as recorded, with its row id and the run that recorded it."""

    id: int
    run_id: int
    transition: Transition


@dataclass(frozen=True)
class StoredEvent:
    """An event as recorded, with its row id and the run that recorded it."""

    id: int
    run_id: int
    event: Event


@dataclass(frozen=True)
class OutageRecord:
    """An outage: ``ended_at`` is None while it lasts; ``end_state`` is the state it ended in."""

    id: int
    scope: Scope
    entity: str
    site: str
    started_at: float
    ended_at: float | None
    end_state: str | None
    reason: Reason | None
    run_id: int
    open_transition_id: int
    close_transition_id: int | None
    acknowledged_by: str | None
    ack_comment: str | None
    acknowledged_at: float | None


@dataclass(frozen=True)
class UsageRow:
    """Usage of one AP over (part of) one UTC hour; ``hour`` is the hour's start in unix seconds.

    Mean clients over the hour = ``client_samples_sum / samples``.
    """

    ap: str
    site: str
    hour: float
    max_clients: int
    client_samples_sum: int
    samples: int
    rx_bytes: int
    tx_bytes: int

    def __post_init__(self) -> None:
        if not math.isfinite(self.hour) or self.hour % 3600 != 0:
            raise ValueError(f"usage of AP {self.ap!r}: hour {self.hour!r} is not the start of a UTC hour")
        for name in ("max_clients", "client_samples_sum", "samples", "rx_bytes", "tx_bytes"):
            if getattr(self, name) < 0:
                raise ValueError(f"usage of AP {self.ap!r}: {name} must be >= 0, got {getattr(self, name)}")

    def merged(self, other: UsageRow) -> UsageRow:
        """The same arithmetic the database applies when a row for the same AP and hour exists."""
        return replace(
            self,
            site=other.site,
            max_clients=max(self.max_clients, other.max_clients),
            client_samples_sum=self.client_samples_sum + other.client_samples_sum,
            samples=self.samples + other.samples,
            rx_bytes=self.rx_bytes + other.rx_bytes,
            tx_bytes=self.tx_bytes + other.tx_bytes,
        )


@dataclass(frozen=True)
class MaintenanceWindow:
    """A planned maintenance window (unix seconds).

    ``scope_kind`` is one of ap/site/category/district/all and ``scope_value`` the AP id, site id, category
    or district (None for 'all'). ``starts_at``/``ends_at`` bound the first occurrence; ``recurrence``
    (None, 'daily', 'weekly', 'monthly') repeats it in ``timezone`` (local wall-clock time, so a window at
    02:00 stays at 02:00 across a DST change). ``id`` and ``created_at`` are set by the store.

    ``retired_at``: when the window was removed after it had begun. It applies no more from then on, and
    its occurrences before stay as they were, so a report of a past month never changes by a removal.
    """

    scope_kind: str
    scope_value: str | None
    starts_at: float
    ends_at: float
    timezone: str
    created_by: str
    recurrence: str | None = None
    comment: str = ""
    id: int | None = None
    created_at: float | None = None
    retired_at: float | None = None

    def __post_init__(self) -> None:
        if self.scope_kind not in MAINTENANCE_SCOPES:
            raise ValueError(f"maintenance scope_kind {self.scope_kind!r} is not one of {MAINTENANCE_SCOPES}")
        if (self.scope_kind == "all") != (self.scope_value is None):
            raise ValueError("maintenance scope_value must be None exactly when scope_kind is 'all'")
        if (
            not (math.isfinite(self.starts_at) and math.isfinite(self.ends_at))
            or self.ends_at <= self.starts_at
        ):
            raise ValueError(
                f"maintenance ends_at {self.ends_at!r} must be after starts_at {self.starts_at!r}"
            )
        if self.retired_at is not None and not (math.isfinite(self.retired_at) and self.retired_at > self.starts_at):
            raise ValueError(f"maintenance retired_at {self.retired_at!r} must be after starts_at {self.starts_at!r}"
                             " (a window removed before it began is deleted, not retired)")
        if self.recurrence is not None and self.recurrence not in RECURRENCES:
            raise ValueError(f"maintenance recurrence {self.recurrence!r} is not one of None, {RECURRENCES}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"maintenance timezone {self.timezone!r} is not a known time zone") from None


# -- report queries (monitor.store.report_queries) ----------------------------------------------------


@dataclass(frozen=True)
class UsageTotals:
    """Usage of one AP or one site over a period, from the hourly rollups.

    ``peak_clients``: for an AP its highest hourly maximum; for a site the highest, over the hours, of the
    sum of its APs' hourly maxima (an upper bound of the true concurrent peak: the APs' maxima within an
    hour need not coincide, and the rollups keep nothing finer).
    """

    key: str
    peak_clients: int
    rx_bytes: int
    tx_bytes: int
    client_samples_sum: int = 0  # client counts summed over the samples
    samples: int = 0

    @property
    def mean_clients(self) -> float | None:
        """Mean clients over the samples taken (None: none taken)."""
        return self.client_samples_sum / self.samples if self.samples else None


# -- alerting (monitor.store.alerting) --------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRecord:
    """One alert instance as stored (unix seconds). ``alert`` is the engine's Alert as a dict.

    The ``ack*`` fields are read-only for the service: only :func:`acknowledge_alerts` sets them.
    """

    key: str
    rule: str
    severity: str
    site: str | None
    ap: str | None
    status: str
    opened_at: float
    since: float
    reason: str | None
    fired_at: float | None
    last_sent_at: float | None
    resolved_at: float | None
    sends: int
    escalation: int
    notified: tuple[str, ...]
    gravity: int
    ack_gravity: int | None
    alert: dict[str, Any]
    acked_by: str | None = None
    acked_at: float | None = None
    ack_until: float | None = None
    ack_comment: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class OutboxMessage:
    """A message to one channel. ``message_id`` is its idempotency key; ``id`` orders it (set by the store).
    ``given_up_at``: when delivery gave it up (``last_error`` says why); it is then no longer pending."""

    message_id: str
    alert_key: str
    channel: str
    kind: str
    payload: dict[str, Any]
    created_at: float
    attempts: int = 0
    next_attempt_at: float | None = None
    delivered_at: float | None = None
    last_error: str | None = None
    id: int | None = None
    given_up_at: float | None = None
