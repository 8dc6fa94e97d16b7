"""The store: the history that must survive a crash (runs, transitions, outages, events, usage, maintenance).

SQLite by default, PostgreSQL in production; the same code and the same migrations on both. The API is
synchronous and speaks unix seconds (``float``), like the state machine; conversion to aware UTC datetimes
happens here, at the edge. Call it from a thread, never from the asyncio loop: ``monitor.store_writer``
runs the writes on one background thread.

Errors: a database failure of any kind raises :class:`StoreError`, which names the database (password
masked) and what failed. Invalid arguments raise ``ValueError`` before the database is touched, so a
caller can tell "retry later" from "this will never work".
"""

from __future__ import annotations

import logging
import math
import re
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, case, create_engine, event, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from monitor.domain import ApStatus, Event, EventKind, Reason, Scope, Transition
from monitor.schema import (
    MAINTENANCE_SCOPES,
    RECURRENCES,
    EventRow,
    MaintenanceRow,
    MonitorRun,
    OutageRow,
    TransitionRow,
    UsageFlushRow,
    UsageHourlyRow,
    to_datetime,
    to_unix,
)

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any constant will do: it only has to be the same for every wifimon process sharing one PostgreSQL.
_MIGRATION_LOCK_KEY = 0x77_69_66_69  # "wifi"
_DOWN = ApStatus.DOWN.value  # "down" is spelt the same for APs, sites and uplinks


class StoreError(Exception):
    """The database failed: unreachable, refused, timed out, or rejected a statement.

    ``url`` is the database with its password masked, ``action`` what the store was doing, ``detail``
    the driver's own words. Callers that retry (the store writer) retry on this and only this.
    """

    def __init__(self, url: str, action: str, detail: str) -> None:
        super().__init__(f"store {url}: {action} failed: {detail}")
        self.url = url
        self.action = action
        self.detail = detail


# -- records the store hands back -------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRecord:
    """One run of the monitor process (unix seconds)."""

    id: int
    started_at: float
    last_heartbeat_at: float
    stopped_at: float | None
    host: str
    version: str

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
        if self.recurrence is not None and self.recurrence not in RECURRENCES:
            raise ValueError(f"maintenance recurrence {self.recurrence!r} is not one of None, {RECURRENCES}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"maintenance timezone {self.timezone!r} is not a known time zone") from None


# -- the store --------------------------------------------------------------------------------------------


class Store:
    """History on SQLite or PostgreSQL. Thread-safe: every call runs in its own session and transaction.

    ``timeout`` bounds each wait for the database: connecting, a locked SQLite file, a free pooled
    connection. Constructing a Store does not connect; :meth:`migrate` (at start-up) is the first call that
    does, and a database that cannot be reached fails there with a :class:`StoreError`.
    """

    def __init__(self, url: str, *, timeout: float = 5.0, echo: bool = False) -> None:
        if timeout <= 0:
            raise ValueError(f"store timeout must be > 0 seconds, got {timeout}")
        self.timeout = timeout
        try:
            parsed = make_url(url)
        except SQLAlchemyError as exc:
            raise StoreError(_mask_unparsed(url), "parse URL", str(exc)) from None
        self.url = _normalise(parsed)
        self.display_url = self.url.render_as_string(hide_password=True)
        self._password = self.url.password if isinstance(self.url.password, str) else None
        if self.url.get_backend_name() not in ("sqlite", "postgresql"):
            raise StoreError(self.display_url, "open", "only sqlite and postgresql URLs are supported")
        try:
            self._engine = _make_engine(self.url, timeout, echo)
        except SQLAlchemyError as exc:  # e.g. a driver that is not installed
            raise StoreError(self.display_url, "open", self._describe(exc)) from None
        self._dialect = self._engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations and tests; the rest of the service uses the methods)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    # -- plumbing -----------------------------------------------------------------------------------------

    def _describe(self, exc: BaseException) -> str:
        """The driver's message on one line, without the SQL and parameters SQLAlchemy appends."""
        orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        message = " ".join(str(orig).split()) or type(orig).__name__
        if self._password:
            message = message.replace(self._password, "***")
        return message[:500]

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Session]:
        """A session in one transaction, committed on success; database errors become StoreError."""
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(self.display_url, action, self._describe(exc)) from exc

    # -- schema ------------------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest revision (``alembic upgrade head``), in one transaction.

        On PostgreSQL an advisory lock serialises several instances starting at once against one database.
        """
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.util import CommandError

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self._engine.begin() as conn:
                if self._dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise StoreError(self.display_url, "migrate", self._describe(exc)) from exc
        except CommandError as exc:  # e.g. the database is at a revision this version does not know
            raise StoreError(self.display_url, "migrate", str(exc)) from exc
        log.info("store_migrated url=%s revision=%s", self.display_url, self.revision())

    def revision(self) -> str | None:
        """The schema revision the database is at (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        try:
            with self._engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except SQLAlchemyError as exc:
            raise StoreError(self.display_url, "read schema revision", self._describe(exc)) from exc

    def check(self) -> None:
        """Raise StoreError unless the database answers a trivial query within ``timeout`` (for /readyz)."""
        try:
            with self._engine.connect() as conn:
                if self._dialect == "postgresql":
                    # SET LOCAL lasts until the end of this transaction, which the context manager rolls back.
                    conn.execute(text(f"SET LOCAL statement_timeout = {int(self.timeout * 1000)}"))
                conn.execute(text("SELECT 1")).scalar_one()
        except SQLAlchemyError as exc:
            raise StoreError(self.display_url, "check", self._describe(exc)) from exc

    # -- runs --------------------------------------------------------------------------------------------

    def start_run(self, now: float, *, host: str | None = None, version: str | None = None) -> int:
        """Record the start of a monitor run; returns its id."""
        at = to_datetime(now)
        row = MonitorRun(
            started_at=at,
            last_heartbeat_at=at,
            stopped_at=None,
            host=(host if host is not None else socket.gethostname())[:255],
            version=(version if version is not None else _package_version())[:64],
        )
        with self._transaction("start run") as s:
            s.add(row)
            s.flush()
            run_id = row.id
        log.info("run_started run=%d host=%s version=%s", run_id, row.host, row.version)
        return run_id

    def heartbeat(self, run_id: int, now: float) -> None:
        """The run is still watching at ``now``."""
        self._touch_run(run_id, "heartbeat", last_heartbeat_at=to_datetime(now))

    def stop_run(self, run_id: int, now: float) -> None:
        """The run stopped cleanly at ``now``."""
        at = to_datetime(now)
        self._touch_run(run_id, "stop run", last_heartbeat_at=at, stopped_at=at)
        log.info("run_stopped run=%d", run_id)

    def _touch_run(self, run_id: int, action: str, **values: datetime) -> None:
        with self._transaction(action) as s:
            run = s.get(MonitorRun, run_id)
            if run is None:
                raise ValueError(f"{action}: no monitor run with id {run_id}")
            for name, value in values.items():
                setattr(run, name, value)

    def runs(self, since: float, until: float) -> list[RunRecord]:
        """Runs that watched at some moment of [since, until), oldest first."""
        lo, hi = to_datetime(since), to_datetime(until)
        with self._transaction("read runs") as s:
            rows = s.scalars(
                select(MonitorRun)
                .where(MonitorRun.started_at < hi)
                .where(func.coalesce(MonitorRun.stopped_at, MonitorRun.last_heartbeat_at) > lo)
                .order_by(MonitorRun.started_at, MonitorRun.id)
            ).all()
        return [_run_record(r) for r in rows]

    def gaps(self, since: float, until: float) -> list[tuple[float, float]]:
        """Periods within [since, until) when no run was watching: the availability report's 'unknown'.

        A run watched from its start to its stop, or, if it crashed, to its last heartbeat. A run that is
        still going counts as watching up to its latest heartbeat only. Overlapping runs (several instances)
        are merged.
        """
        if until <= since:
            return []
        cursor, gaps = since, []
        for run in self.runs(since, until):
            start, end = max(run.started_at, since), min(run.watched_until, until)
            if start > cursor:
                gaps.append((cursor, start))
            cursor = max(cursor, end)
        if cursor < until:
            gaps.append((cursor, until))
        return gaps

    # -- transitions and outages ---------------------------------------------------------------------------

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
                for chunk in _chunks(entities)
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
        keys = set()
        for chunk in _chunks(entities):
            keys.update(
                tuple(r)
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

    # -- events ------------------------------------------------------------------------------------------

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
            for chunk in _chunks(entities):
                seen.update(
                    tuple(r)
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

    # -- usage -------------------------------------------------------------------------------------------

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
        if self._dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        table = UsageHourlyRow.__table__
        stmt = insert(table)
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

    # -- maintenance -------------------------------------------------------------------------------------

    def add_maintenance(self, window: MaintenanceWindow, now: float) -> MaintenanceWindow:
        """Store a new window (its ``id`` is ignored); returns it with ``id`` and ``created_at`` set."""
        row = MaintenanceRow(created_at=to_datetime(now))
        _fill_maintenance(row, window)
        with self._transaction("add maintenance") as s:
            s.add(row)
            s.flush()
        return _maintenance(row)

    def get_maintenance(self, window_id: int) -> MaintenanceWindow | None:
        """One window by id, or None."""
        with self._transaction("read maintenance") as s:
            row = s.get(MaintenanceRow, window_id)
            return _maintenance(row) if row is not None else None

    def list_maintenance(
        self, since: float | None = None, until: float | None = None
    ) -> list[MaintenanceWindow]:
        """Windows that may apply within [since, until): one-off windows overlapping it and recurring
        windows that started before ``until`` (whether an occurrence falls inside is for the caller to expand).
        Without bounds, all windows. Ordered by start."""
        query = select(MaintenanceRow)
        if until is not None:
            query = query.where(MaintenanceRow.starts_at < to_datetime(until))
        if since is not None:
            query = query.where(
                MaintenanceRow.recurrence.is_not(None) | (MaintenanceRow.ends_at > to_datetime(since))
            )
        with self._transaction("list maintenance") as s:
            rows = s.scalars(query.order_by(MaintenanceRow.starts_at, MaintenanceRow.id)).all()
        return [_maintenance(r) for r in rows]

    def update_maintenance(self, window_id: int, **changes: Any) -> MaintenanceWindow | None:
        """Change fields of a window (validated as a whole); returns the new window, None if no such id."""
        if {"id", "created_at"} & changes.keys():
            raise ValueError("a maintenance window's id and created_at cannot be changed")
        with self._transaction("update maintenance") as s:
            row = s.get(MaintenanceRow, window_id)
            if row is None:
                return None
            window = replace(_maintenance(row), **changes)  # validates, or raises ValueError
            _fill_maintenance(row, window)
        return _maintenance(row)

    def delete_maintenance(self, window_id: int) -> bool:
        """Delete a window; False if there was none with that id."""
        with self._transaction("delete maintenance") as s:
            row = s.get(MaintenanceRow, window_id)
            if row is None:
                return False
            s.delete(row)
        return True


# -- helpers ---------------------------------------------------------------------------------------------


def _normalise(url: URL) -> URL:
    # psycopg 3 is the PostgreSQL driver this project installs; a bare postgresql:// would mean psycopg2
    # under SQLAlchemy 2.0.
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    """Bounded IN lists: SQLite limits the number of parameters in one statement."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _mask_unparsed(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _make_engine(url: URL, timeout: float, echo: bool) -> Engine:
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": timeout, "check_same_thread": False},
            # One shared connection for an in-memory database, or every thread would see its own empty one.
            **({"poolclass": StaticPool} if memory else {"pool_timeout": timeout}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite opens transactions on its own, late and not for DDL; hand that job to SQLAlchemy
            # (the 'begin' hook below) so a transaction means exactly what it says.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            # WAL: a report reading the file never blocks the monitor writing it, and a crash loses nothing
            # committed.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,  # a server restart leaves dead pooled connections; find out before using one
        pool_timeout=timeout,
        connect_args={"connect_timeout": max(2, math.ceil(timeout))},  # libpq's minimum is 2 s
    )


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wifimon")
    except PackageNotFoundError:
        return "unknown"


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


def _run_record(r: MonitorRun) -> RunRecord:
    return RunRecord(
        r.id,
        to_unix(r.started_at),
        to_unix(r.last_heartbeat_at),
        to_unix(r.stopped_at) if r.stopped_at is not None else None,
        r.host,
        r.version,
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


def _fill_maintenance(row: MaintenanceRow, w: MaintenanceWindow) -> None:
    row.scope_kind = w.scope_kind
    row.scope_value = w.scope_value
    row.starts_at = to_datetime(w.starts_at)
    row.ends_at = to_datetime(w.ends_at)
    row.recurrence = w.recurrence
    row.timezone = w.timezone
    row.comment = w.comment
    row.created_by = w.created_by[:128]


def _maintenance(r: MaintenanceRow) -> MaintenanceWindow:
    return MaintenanceWindow(
        scope_kind=r.scope_kind,
        scope_value=r.scope_value,
        starts_at=to_unix(r.starts_at),
        ends_at=to_unix(r.ends_at),
        timezone=r.timezone,
        created_by=r.created_by,
        recurrence=r.recurrence,
        comment=r.comment,
        id=r.id,
        created_at=to_unix(r.created_at),
    )


# -- report queries ----------------------------------------------------------------------------------------
# Read-only queries of the monthly availability report (monitor/report.py) beyond what the service itself
# needs. Kept as functions over a Store, apart from its API, so that SQL still lives only in this module.


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


def states_at(store: Store, at: float) -> dict[tuple[Scope, str], str]:
    """Each entity's state just before ``at``: the new state of its latest transition strictly before it.

    Entities with no transition before ``at`` are absent (their state was never recorded: unknown).
    """
    ranked = (
        select(
            TransitionRow.scope,
            TransitionRow.entity,
            TransitionRow.new,
            func.row_number()
            .over(
                partition_by=(TransitionRow.scope, TransitionRow.entity),
                order_by=(TransitionRow.at.desc(), TransitionRow.id.desc()),
            )
            .label("rank"),
        ).where(TransitionRow.at < to_datetime(at))
    ).subquery()
    with store._transaction("read states at a time") as s:
        rows = s.execute(
            select(ranked.c.scope, ranked.c.entity, ranked.c.new).where(ranked.c.rank == 1)
        ).all()
    return {(Scope(r.scope), r.entity): r.new for r in rows}


def usage_totals(
    store: Store, since: float, until: float
) -> tuple[dict[str, UsageTotals], dict[str, UsageTotals]]:
    """Usage per AP and per site (as recorded in each hourly row) for hours starting in [since, until).

    Aggregated in the database: a month of 10,000 APs is 7.4 million hourly rows.
    """
    u = UsageHourlyRow
    window = (u.hour >= to_datetime(since), u.hour < to_datetime(until))
    per_ap = (
        select(u.ap, func.max(u.max_clients), func.sum(u.rx_bytes), func.sum(u.tx_bytes))
        .where(*window)
        .group_by(u.ap)
    )
    per_hour = (
        select(
            u.site,
            u.hour,
            func.sum(u.max_clients).label("clients"),
            func.sum(u.rx_bytes).label("rx"),
            func.sum(u.tx_bytes).label("tx"),
        )
        .where(*window)
        .group_by(u.site, u.hour)
        .subquery()
    )
    per_site = select(
        per_hour.c.site, func.max(per_hour.c.clients), func.sum(per_hour.c.rx), func.sum(per_hour.c.tx)
    ).group_by(per_hour.c.site)
    with store._transaction("read usage totals") as s:
        aps = s.execute(per_ap).all()
        sites = s.execute(per_site).all()
    # PostgreSQL sums bigints into numeric (Decimal): make every figure a plain int.
    return (
        {k: UsageTotals(k, int(c or 0), int(rx or 0), int(tx or 0)) for k, c, rx, tx in aps},
        {k: UsageTotals(k, int(c or 0), int(rx or 0), int(tx or 0)) for k, c, rx, tx in sites},
    )


# -- alerting ----------------------------------------------------------------------------------------------
# Alert state and the notification outbox (monitor/alerting). Functions over a Store, like the report
# queries above, so that SQL still lives only in this module. Imports are local to this section so that
# it can be read (and merged) on its own.

import json  # noqa: E402

from sqlalchemy import update  # noqa: E402

from monitor.schema import AlertRow, OutboxRow  # noqa: E402


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
    """A message to one channel. ``message_id`` is its idempotency key; ``id`` orders it (set by the store)."""

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


def _ts(value: float | None) -> datetime | None:
    return None if value is None else to_datetime(value)


def _unix(value: datetime | None) -> float | None:
    return None if value is None else to_unix(value)


def _alert_record(r: AlertRow) -> AlertRecord:
    return AlertRecord(
        key=r.key, rule=r.rule, severity=r.severity, site=r.site, ap=r.ap, status=r.status,
        opened_at=to_unix(r.opened_at), since=to_unix(r.since), reason=r.reason, fired_at=_unix(r.fired_at),
        last_sent_at=_unix(r.last_sent_at), resolved_at=_unix(r.resolved_at), sends=r.sends,
        escalation=r.escalation, notified=tuple(json.loads(r.notified)), gravity=r.gravity,
        ack_gravity=r.ack_gravity, alert=json.loads(r.alert), acked_by=r.acked_by, acked_at=_unix(r.acked_at),
        ack_until=_unix(r.ack_until), ack_comment=r.ack_comment, id=r.id,
    )


def _outbox_message(r: OutboxRow) -> OutboxMessage:
    return OutboxMessage(
        message_id=r.message_id, alert_key=r.alert_key, channel=r.channel, kind=r.kind,
        payload=json.loads(r.payload), created_at=to_unix(r.created_at), attempts=r.attempts,
        next_attempt_at=to_unix(r.next_attempt_at), delivered_at=_unix(r.delivered_at), last_error=r.last_error,
        id=r.id,
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
        for chunk in _chunks(keys) if batch else ():
            for row in s.scalars(select(AlertRow).where(AlertRow.key.in_(chunk))
                                 .where(AlertRow.opened_at >= min(to_datetime(a.opened_at) for a in batch))):
                existing[(row.key, row.opened_at)] = row
        # Resolutions first: within one flush the ORM orders UPDATEs before INSERTs anyway, and an instance
        # closed here must be closed before a new one of the same key is opened (the unique active index).
        for a in sorted(batch, key=lambda a: a.resolved_at is None):
            opened = to_datetime(a.opened_at)
            row = existing.get((a.key, opened))
            if row is None:
                row = AlertRow(key=a.key, opened_at=opened)
                s.add(row)
                existing[(a.key, opened)] = row
            row.rule, row.severity, row.site, row.ap, row.status = a.rule, a.severity, a.site, a.ap, a.status
            row.since, row.reason = to_datetime(a.since), a.reason
            row.fired_at, row.last_sent_at, row.resolved_at = _ts(a.fired_at), _ts(a.last_sent_at), _ts(a.resolved_at)
            row.sends, row.escalation, row.notified = a.sends, a.escalation, json.dumps(list(a.notified))
            row.gravity, row.ack_gravity = a.gravity, a.ack_gravity
            row.alert = json.dumps(a.alert, ensure_ascii=False)
        for key, acked_at in voided_acks:
            s.execute(
                update(AlertRow)
                .where(AlertRow.key == key, AlertRow.resolved_at.is_(None), AlertRow.acked_at == to_datetime(acked_at))
                .values(acked_by=None, acked_at=None, ack_until=None, ack_comment=None)
            )
        new = 0
        if queued:
            ids = [m.message_id for m in queued]
            seen: set[str] = set()
            for chunk in _chunks(ids):
                seen.update(s.scalars(select(OutboxRow.message_id).where(OutboxRow.message_id.in_(chunk))))
            for m in queued:
                if m.message_id in seen:
                    continue
                seen.add(m.message_id)
                s.add(OutboxRow(
                    message_id=m.message_id, alert_key=m.alert_key, channel=m.channel, kind=m.kind,
                    payload=json.dumps(m.payload, ensure_ascii=False), created_at=to_datetime(m.created_at),
                    attempts=m.attempts, next_attempt_at=to_datetime(m.next_attempt_at or m.created_at),
                    delivered_at=None, last_error=None,
                ))
                new += 1
    return new


def active_alerts(store: Store) -> list[AlertRecord]:
    """Alert instances not yet resolved (what a restarted service resumes from), oldest first."""
    with store._transaction("read active alerts") as s:
        rows = s.scalars(
            select(AlertRow).where(AlertRow.resolved_at.is_(None)).order_by(AlertRow.opened_at, AlertRow.id)
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
            row.acked_by, row.acked_at, row.ack_until, row.ack_comment = by[:128], when, _ts(until), comment
            if row.site and row.rule in ("site_down", "ferry_backhaul_lost", "site_degraded"):
                sites.add(row.site)
        for chunk in _chunks(sorted(sites)):
            for outage in s.scalars(select(OutageRow).where(
                    OutageRow.ended_at.is_(None), OutageRow.scope == "site", OutageRow.entity.in_(chunk))):
                outage.acknowledged_by, outage.ack_comment, outage.acknowledged_at = by[:128], comment, when
        s.flush()
        return [_alert_record(r) for r in rows]


def pending_outbox(store: Store, limit: int = 1000) -> list[OutboxMessage]:
    """Undelivered messages, oldest first (the delivery order), at most ``limit``."""
    with store._transaction("read outbox") as s:
        rows = s.scalars(
            select(OutboxRow).where(OutboxRow.delivered_at.is_(None)).order_by(OutboxRow.id).limit(limit)
        ).all()
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
        for chunk in _chunks(ids):
            result = s.execute(
                update(OutboxRow)
                .where(OutboxRow.message_id.in_(chunk), OutboxRow.delivered_at.is_(None))
                .values(delivered_at=to_datetime(at), last_error=None)
            )
            done += result.rowcount or 0
    return done


def outbox_failed(store: Store, message_id: str, error: str, next_attempt_at: float) -> None:
    """Record a failed attempt: one more attempt, when to try again, and why it failed."""
    with store._transaction("mark outbox failed") as s:
        s.execute(
            update(OutboxRow)
            .where(OutboxRow.message_id == message_id, OutboxRow.delivered_at.is_(None))
            .values(attempts=OutboxRow.attempts + 1, next_attempt_at=to_datetime(next_attempt_at),
                    last_error=error[:2000])
        )


def outbox_depth(store: Store) -> int:
    """Messages not yet delivered."""
    with store._transaction("count outbox") as s:
        return int(s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None)))
                   or 0)


def prune_outbox(store: Store, before: float) -> int:
    """Delete messages delivered before ``before`` (undelivered ones are never deleted); returns how many."""
    from sqlalchemy import delete

    with store._transaction("prune outbox") as s:
        result = s.execute(
            delete(OutboxRow).where(OutboxRow.delivered_at.is_not(None), OutboxRow.delivered_at < to_datetime(before))
        )
        return result.rowcount or 0
