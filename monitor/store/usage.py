"""Hourly usage rollups per AP (the Store's methods, as a mixin)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, case, select
from sqlalchemy.orm import Session

from monitor.store.schema import UsageFlushRow, UsageHourlyRow
from monitor.domain.records import UsageRow
from monitor.store.timestamps import to_datetime, to_unix

log = logging.getLogger(__name__)


class UsageMixin:
    """Merging usage into the hourly table and reading it back. Part of :class:`Store`."""

    _dialect: str  # provided by Store
    _transaction: Callable[[str], AbstractContextManager[Session]]  # provided by Store

    def add_usage(self, rows: Iterable[UsageRow], flush_id: str | None = None) -> int:
        """Merge usage into the hourly table, additively; returns the number of (AP, hour) rows touched.

        Additive, not idempotent: a row for an (AP, hour) already present is merged with the new one
        (max of maxima, sums of sums, counts and bytes), so the rollup writes what it gathered since its
        last successful flush and then forgets it, and an hour split across a restart adds up. To make a
        retried flush safe, pass a unique ``flush_id``: a flush id already applied is a no-op (returns 0).
        """
        merged: dict[tuple[str, float], UsageRow] = {}
        for row in rows:  # one statement may not touch the same row twice (PostgreSQL refuses)
            key = (row.ap, row.hour)
            merged[key] = merged[key].merged(row) if key in merged else row
        if flush_id is not None and not 0 < len(flush_id) <= 64:
            raise ValueError(f"usage flush_id must be 1..64 characters, got {flush_id!r}")
        if not merged:
            return 0
        from sqlalchemy.dialects import postgresql, sqlite

        table = cast(Table, UsageHourlyRow.__table__)
        # Both dialects' INSERT … ON CONFLICT take the same arguments; their classes differ, hence Any.
        stmt: Any = (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)
        new = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.ap, table.c.hour],
            set_={
                "site": new.site,
                "max_clients": case(
                    (new.max_clients > table.c.max_clients, new.max_clients), else_=table.c.max_clients
                ),
                "client_samples_sum": table.c.client_samples_sum + new.client_samples_sum,
                "samples": table.c.samples + new.samples,
                "rx_bytes": table.c.rx_bytes + new.rx_bytes,
                "tx_bytes": table.c.tx_bytes + new.tx_bytes,
            },
        )
        params = [
            {
                "ap": r.ap,
                "hour": to_datetime(r.hour),
                "site": r.site,
                "max_clients": r.max_clients,
                "client_samples_sum": r.client_samples_sum,
                "samples": r.samples,
                "rx_bytes": r.rx_bytes,
                "tx_bytes": r.tx_bytes,
            }
            for r in merged.values()
        ]
        with self._transaction("add usage") as s:
            if flush_id is not None:
                if s.get(UsageFlushRow, flush_id) is not None:
                    log.info("usage_flush_replayed flush_id=%s", flush_id)
                    return 0
                s.add(UsageFlushRow(flush_id=flush_id, applied_at=datetime.now(UTC)))
            s.execute(stmt, params)
        return len(params)

    def usage(self, since: float, until: float, ap: str | None = None) -> list[UsageRow]:
        """Hourly usage for hours starting in [since, until), optionally of one AP, by hour then AP."""
        lo, hi = to_datetime(since), to_datetime(until)
        query = select(UsageHourlyRow).where(UsageHourlyRow.hour >= lo, UsageHourlyRow.hour < hi)
        if ap is not None:
            query = query.where(UsageHourlyRow.ap == ap)
        with self._transaction("read usage") as s:
            rows = s.scalars(query.order_by(UsageHourlyRow.hour, UsageHourlyRow.ap)).all()
        return [
            UsageRow(
                r.ap,
                r.site,
                to_unix(r.hour),
                r.max_clients,
                r.client_samples_sum,
                r.samples,
                r.rx_bytes,
                r.tx_bytes,
            )
            for r in rows
        ]
