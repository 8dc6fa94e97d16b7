"""Transitions and the outages they open and close (the Store's methods, as a mixin)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.domain.vocabulary import ApStatus, Reason, Scope, Transition
from monitor.store.schema import OutageRow, TransitionRow
from monitor.store.batching import chunks
from monitor.domain.records import OutageRecord, StoredTransition
from monitor.store.timestamps import to_datetime, to_unix

log = logging.getLogger(__name__)

_DOWN = ApStatus.DOWN.value  # "down" is spelt the same for APs, sites and uplinks


class OutagesMixin:
    """Recording transitions (which open and close outages) and reading both back. Part of Store."""

    _transaction: Callable[[str], AbstractContextManager[Session]]  # provided by Store

    def record_transitions(self, transitions: Iterable[Transition], run_id: int) -> int:
        """Record transitions and open/close outages, all in one transaction. Returns how many were new.

        Idempotent: a transition already recorded (same scope, entity, time, old and new state) is skipped,
        so a batch retried after a commit whose acknowledgement was lost changes nothing. Going to ``down``
        opens an outage unless one is open for the entity; leaving ``down`` for any state closes it.
        Transitions are applied in the order given. The work is set-wise (a few statements per batch,
        whatever its size), so a city-wide power cut is one quick transaction.
        """
        # Bad input fails here, as ValueError, before any write: a row the database refused would be
        # retried by the writer for ever.
        batch = [(t, to_datetime(t.at)) for t in transitions]
        for t, _ in batch:
            Scope(t.scope)  # ValueError for a scope the schema's CHECK constraint would refuse
        if not batch:
            return 0
        entities = sorted({t.entity for t, _ in batch})
        with self._transaction("record transitions") as s:
            seen = self._recorded_transition_keys(
                s, entities, min(at for _, at in batch), max(at for _, at in batch)
            )
            open_outages = {
                (o.scope, o.entity): o
                for chunk in chunks(entities)
                for o in s.scalars(
                    select(OutageRow).where(OutageRow.ended_at.is_(None), OutageRow.entity.in_(chunk))
                )
            }
            fresh: list[TransitionRow] = []
            for t, at in batch:
                key = (str(t.scope), t.entity, at, t.old, t.new)
                if key in seen:
                    log.debug("transition_replayed scope=%s entity=%s new=%s", t.scope, t.entity, t.new)
                    continue
                seen.add(key)
                fresh.append(
                    TransitionRow(
                        run_id=run_id,
                        scope=key[0],
                        entity=t.entity,
                        site=t.site,
                        old=t.old,
                        new=t.new,
                        at=at,
                        reason=str(t.reason) if t.reason is not None else None,
                        detail=t.detail,
                    )
                )
            s.add_all(fresh)
            s.flush()  # one batched INSERT ... RETURNING: the ids the outages refer to
            for row in fresh:
                self._apply_to_outages(s, open_outages, row, run_id)
            # The commit flushes the outages. Within one flush the ORM emits UPDATEs before INSERTs, so an
            # outage closed here is closed before a new one for the same entity is opened: the
            # one-open-outage index is never crossed (a test holds this).
        return len(fresh)

    def _recorded_transition_keys(
        self, s: Session, entities: list[str], lo: datetime, hi: datetime
    ) -> set[tuple[str, str, datetime, str, str]]:
        keys: set[tuple[str, str, datetime, str, str]] = set()
        for chunk in chunks(entities):
            keys.update(
                (r[0], r[1], r[2], r[3], r[4])
                for r in s.execute(
                    select(
                        TransitionRow.scope,
                        TransitionRow.entity,
                        TransitionRow.at,
                        TransitionRow.old,
                        TransitionRow.new,
                    ).where(TransitionRow.entity.in_(chunk), TransitionRow.at >= lo, TransitionRow.at <= hi)
                )
            )
        return keys

    @staticmethod
    def _apply_to_outages(
        s: Session, open_outages: dict[tuple[str, str], OutageRow], row: TransitionRow, run_id: int
    ) -> None:
        key = (row.scope, row.entity)
        outage = open_outages.get(key)
        if row.new == _DOWN:
            if outage is None:
                outage = OutageRow(
                    scope=row.scope,
                    entity=row.entity,
                    site=row.site,
                    started_at=row.at,
                    reason=row.reason,
                    run_id=run_id,
                    open_transition_id=row.id,
                )
                s.add(outage)
                open_outages[key] = outage
                log.debug("outage_opened scope=%s entity=%s reason=%s", row.scope, row.entity, row.reason)
            return
        if outage is None:
            return
        ended = row.at
        if ended < outage.started_at:
            # Only a clock stepping back can do this; a negative outage would corrupt every sum over it.
            log.warning(
                "outage_end_before_start scope=%s entity=%s started=%s ended=%s",
                row.scope,
                row.entity,
                outage.started_at.isoformat(),
                ended.isoformat(),
            )
            ended = outage.started_at
        outage.ended_at = ended
        outage.end_state = row.new
        outage.close_transition_id = row.id
        del open_outages[key]
        log.debug("outage_closed scope=%s entity=%s end_state=%s", row.scope, row.entity, row.new)

    def transitions(self, since: float, until: float) -> list[StoredTransition]:
        """Transitions at times in [since, until), in the order they happened."""
        lo, hi = to_datetime(since), to_datetime(until)
        with self._transaction("read transitions") as s:
            rows = s.scalars(
                select(TransitionRow)
                .where(TransitionRow.at >= lo, TransitionRow.at < hi)
                .order_by(TransitionRow.at, TransitionRow.id)
            ).all()
        return [StoredTransition(r.id, r.run_id, _transition(r)) for r in rows]

    def last_states(self) -> dict[tuple[Scope, str], tuple[str, float, Reason | None]]:
        """Each entity's latest state, since when, and why: what a restarted monitor resumes from."""
        ranked = (
            select(
                TransitionRow.scope,
                TransitionRow.entity,
                TransitionRow.new,
                TransitionRow.at,
                TransitionRow.reason,
                func.row_number()
                .over(
                    partition_by=(TransitionRow.scope, TransitionRow.entity),
                    order_by=(TransitionRow.at.desc(), TransitionRow.id.desc()),
                )
                .label("rank"),
            )
        ).subquery()
        with self._transaction("read last states") as s:
            rows = s.execute(
                select(ranked.c.scope, ranked.c.entity, ranked.c.new, ranked.c.at, ranked.c.reason).where(
                    ranked.c.rank == 1
                )
            ).all()
        return {(Scope(r.scope), r.entity): (r.new, to_unix(r.at), _reason(r.reason)) for r in rows}

    def open_outages(self) -> list[OutageRecord]:
        """Outages not yet ended, oldest first."""
        with self._transaction("read open outages") as s:
            rows = s.scalars(
                select(OutageRow)
                .where(OutageRow.ended_at.is_(None))
                .order_by(OutageRow.started_at, OutageRow.id)
            ).all()
        return [_outage(r) for r in rows]

    def outages(self, since: float, until: float) -> list[OutageRecord]:
        """Outages overlapping [since, until) (open ones included), oldest first. Times are not clipped."""
        lo, hi = to_datetime(since), to_datetime(until)
        with self._transaction("read outages") as s:
            rows = s.scalars(
                select(OutageRow)
                .where(OutageRow.started_at < hi)
                .where((OutageRow.ended_at.is_(None)) | (OutageRow.ended_at > lo))
                .order_by(OutageRow.started_at, OutageRow.id)
            ).all()
        return [_outage(r) for r in rows]

    def acknowledge_outage(self, outage_id: int, by: str, comment: str, at: float) -> OutageRecord | None:
        """Mark an outage acknowledged (a later acknowledgement replaces an earlier one). None if no such id."""
        when = to_datetime(at)
        with self._transaction("acknowledge outage") as s:
            row = s.get(OutageRow, outage_id)
            if row is None:
                return None
            row.acknowledged_by, row.ack_comment, row.acknowledged_at = by[:128], comment, when
        return _outage(row)


def _reason(value: str | None) -> Reason | None:
    if value is None:
        return None
    try:
        return Reason(value)
    except ValueError:  # a reason written by a newer version: keep its text rather than lose it
        return value  # type: ignore[return-value]


def _transition(r: TransitionRow) -> Transition:
    return Transition(
        Scope(r.scope), r.entity, r.site, r.old, r.new, to_unix(r.at), _reason(r.reason), r.detail
    )


def _outage(r: OutageRow) -> OutageRecord:
    return OutageRecord(
        id=r.id,
        scope=Scope(r.scope),
        entity=r.entity,
        site=r.site,
        started_at=to_unix(r.started_at),
        ended_at=to_unix(r.ended_at) if r.ended_at is not None else None,
        end_state=r.end_state,
        reason=_reason(r.reason),
        run_id=r.run_id,
        open_transition_id=r.open_transition_id,
        close_transition_id=r.close_transition_id,
        acknowledged_by=r.acknowledged_by,
        ack_comment=r.ack_comment,
        acknowledged_at=to_unix(r.acknowledged_at) if r.acknowledged_at is not None else None,
    )
