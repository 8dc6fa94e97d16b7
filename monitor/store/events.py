"""Events: what happened that is not a state change (the Store's methods, as a mixin)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.domain.vocabulary import Event, EventKind
from monitor.store.schema import EventRow
from monitor.store.batching import chunks
from monitor.domain.records import StoredEvent
from monitor.store.timestamps import to_datetime, to_unix


class EventsMixin:
    """Recording and reading events. Part of :class:`Store`."""

    _transaction: Callable[[str], AbstractContextManager[Session]]  # provided by Store

    def record_events(self, events: Iterable[Event], run_id: int) -> int:
        """Record events in one transaction; one already recorded (same kind, entity, time and detail) is
        skipped, so a retried batch adds nothing. Returns how many were new."""
        batch = [(e, to_datetime(e.at)) for e in events]
        if not batch:
            return 0
        entities = sorted({e.entity for e, _ in batch})
        lo, hi = min(at for _, at in batch), max(at for _, at in batch)
        with self._transaction("record events") as s:
            seen: set[tuple[str, str, datetime, str]] = set()
            for chunk in chunks(entities):
                seen.update(
                    (r[0], r[1], r[2], r[3])
                    for r in s.execute(
                        select(EventRow.kind, EventRow.entity, EventRow.at, EventRow.detail).where(
                            EventRow.entity.in_(chunk), EventRow.at >= lo, EventRow.at <= hi
                        )
                    )
                )
            fresh = []
            for e, at in batch:
                key = (str(e.kind), e.entity, at, e.detail)
                if key not in seen:
                    seen.add(key)
                    fresh.append(
                        EventRow(
                            run_id=run_id, kind=key[0], entity=e.entity, site=e.site, at=at, detail=e.detail
                        )
                    )
            s.add_all(fresh)
        return len(fresh)

    def events(self, since: float, until: float) -> list[StoredEvent]:
        """Events at times in [since, until), in order."""
        lo, hi = to_datetime(since), to_datetime(until)
        with self._transaction("read events") as s:
            rows = s.scalars(
                select(EventRow).where(EventRow.at >= lo, EventRow.at < hi).order_by(EventRow.at, EventRow.id)
            ).all()
        return [
            StoredEvent(r.id, r.run_id, Event(EventKind(r.kind), r.entity, r.site, to_unix(r.at), r.detail))
            for r in rows
        ]
