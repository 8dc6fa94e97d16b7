"""The Store itself: engine and sessions, schema migration, health check, and monitor runs.

The other groups of methods (outages, events, usage, maintenance) are mixins composed into :class:`Store`;
they share its one transaction helper, so every call runs in its own session and transaction, or, inside
:meth:`Store.batch` (the store writer's batches), in the batch's.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.pool import StaticPool

from monitor.store.schema import LeaseRow, MonitorRun
from monitor.store.errors import LeaseFenced, StoreError
from monitor.store.events import EventsMixin
from monitor.store.maintenance import MaintenanceMixin
from monitor.store.outages import OutagesMixin
from monitor.domain.records import RunRecord
from monitor.domain.shards import Lease, LeaseAction, Shard, covers, lease_action, unwatched
from monitor.domain.vocabulary import Scope, Transition
from monitor.store.timestamps import to_datetime, to_unix
from monitor.store.usage import UsageMixin

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_THREADS = 4  # concurrent calls of the running service (reads, acks): see Store.call

T = TypeVar("T")
# Any constant will do: it only has to be the same for every wifimon process sharing one PostgreSQL.
_MIGRATION_LOCK_KEY = 0x77_69_66_69  # "wifi"
_WROTE = "wifimon_wrote"  # Session.info key: the transaction wrote something (see Store.fence)


class Store(OutagesMixin, EventsMixin, UsageMixin, MaintenanceMixin):
    """History on SQLite or PostgreSQL. Thread-safe: every call runs in its own session and transaction (or
    in the one of a :meth:`batch` open on the calling thread).

    ``timeout`` bounds each wait for the database: connecting, a locked SQLite file, a free pooled
    connection. Constructing a Store does not connect; :meth:`migrate` (at start-up) is the first call that
    does, and a database that cannot be reached fails there with a :class:`StoreError`.
    """

    def __init__(self, url: str, *, timeout: float = 5.0, echo: bool = False, shard: Shard | None = None) -> None:
        """``shard``: the part of the inventory the running service watches (its runs, alerts and outbox are
        that shard's); None for the whole inventory, and for the commands that read or act on all of it."""
        if timeout <= 0:
            raise ValueError(f"store timeout must be > 0 seconds, got {timeout}")
        self.timeout = timeout
        self.shard = shard
        self.partition = shard.label if shard is not None else ""  # the alerts' and outbox rows' shard column
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
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        event.listen(self._sessions, "after_flush", _note_flush)
        event.listen(self._sessions, "do_orm_execute", _note_statement)
        self._fence: tuple[str, str] | None = None  # (lease, holder): see fence()
        # Threads start on first use: a CLI that never calls call() starts none.
        self._readers = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="store-read")
        self._batch = threading.local()  # .session: the batch open on this thread (see batch)

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    def journal_path(self, state_dir: Path | None = None) -> Path | None:
        """Where the store writer journals the writes that must survive a crash while the store cannot take
        them: beside a SQLite file; for a server database, in ``state_dir`` (``service.state_dir``; default the
        working directory), named after the database and the shard (None for an in-memory database, which a
        crash loses anyway)."""
        if self._dialect == "sqlite":
            db = self.url.database
            return None if db in (None, "", ":memory:") else Path(f"{db}.wifimon-journal")
        # Several shards may run in one directory against one database: one journal each.
        digest = hashlib.sha256(f"{self.display_url} {self.partition}".encode()).hexdigest()[:12]
        return (state_dir or Path.cwd()) / f"wifimon-{self.url.database or 'store'}-{digest}.journal"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations and tests; the rest of the service uses the methods)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection (and the reader threads)."""
        self._readers.shutdown(wait=False, cancel_futures=True)
        self._engine.dispose()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """From asyncio: run a blocking store call, ``fn(*args)`` (a method of this store, or a function over it),
        on the store's own threads: the running service's reads, and an acknowledgement that a caller waits
        for. A hung database then holds up these, never /metrics, never the loop's shared pool. The service's
        other writes go through the store writer."""
        return await asyncio.get_running_loop().run_in_executor(self._readers, functools.partial(fn, *args))

    # -- plumbing -----------------------------------------------------------------------------------------

    def _describe(self, exc: BaseException) -> str:
        """The driver's message on one line, without the SQL and parameters SQLAlchemy appends."""
        orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        message = " ".join(str(orig).split()) or type(orig).__name__
        if self._password:
            message = message.replace(self._password, "***")
        return message[:500]

    @contextmanager
    def _transaction(self, action: str, *, fenced: bool = True) -> Iterator[Session]:
        """A session in one transaction, committed on success; database errors become StoreError. Once
        :meth:`fence` was called, a transaction that wrote anything commits only if the lease is still this
        store's holder's (else :class:`LeaseFenced`, rolled back); ``fenced=False`` for the lease's own. Within
        :meth:`batch` on this thread, the batch's session and transaction instead (the batch checks the fence,
        once, before its commit)."""
        shared: Session | None = getattr(self._batch, "session", None)
        try:
            if shared is not None:
                yield shared
                shared.flush()  # what the database refuses fails here, naming this action, as a commit would
            else:
                with self._sessions() as session, session.begin():
                    yield session
                    self._check_fence_before_commit(session, action, self._fence if fenced else None)
        except SQLAlchemyError as exc:
            raise StoreError(self.display_url, action, self._describe(exc)) from exc

    @contextmanager
    def batch(self) -> Iterator[Callable[..., Any]]:
        """One transaction for several calls on this thread (the store writer's queued jobs): yields ``run``;
        ``run(fn, *args)`` calls ``fn`` (a method of this store, or a function over it) inside the batch's
        transaction and returns its result. All of them commit together when the block ends, or none do (a
        fenced store checks its lease once, before that commit: :class:`LeaseFenced` rolls the whole batch back).

        Each call's changes are flushed at the end of its ``_transaction`` block, so a statement the database
        refuses fails in the call that made it, with the same StoreError as alone; after each call the session
        forgets the rows it loaded, so the next reads the database afresh, as in a transaction of its own.
        After a failure the block must end: the transaction is rolled back (on PostgreSQL it takes no more
        statements).
        """
        if getattr(self._batch, "session", None) is not None:
            raise RuntimeError("Store.batch: already in a batch on this thread")
        action = "commit a batch of writes"
        try:
            with self._sessions() as session, session.begin():
                self._batch.session = session

                def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
                    result = fn(*args, **kwargs)
                    session.expunge_all()
                    return result

                try:
                    yield run
                finally:
                    self._batch.session = None
                self._check_fence_before_commit(session, action, self._fence)
        except SQLAlchemyError as exc:  # the fence's statement, the commit or the rollback failed
            raise StoreError(self.display_url, action, self._describe(exc)) from exc

    def fence(self, lease: str, holder: str) -> None:
        """From now on, fence this store's writes by the lease ``lease``: every transaction that writes checks,
        last before its commit and in the same transaction, that ``holder`` still holds it, and holds the lease
        row (FOR SHARE) until the commit. A takeover (``lease``: SELECT … FOR UPDATE) therefore waits for a
        write in flight and every later write of this store is refused: a process that stalled past its lease
        never writes over the new holder's rows, whatever its own clock says. Costs one statement per write
        transaction (bench/fence.py)."""
        self._fence = (lease, holder)

    def _check_fence_before_commit(self, s: Session, action: str, fence: tuple[str, str] | None) -> None:
        if fence is None:
            return
        s.flush()  # what the ORM would write at the commit counts as written
        if s.info.get(_WROTE):
            self._check_fence(s, action, *fence)

    def _check_fence(self, s: Session, action: str, lease: str, holder: str) -> None:
        current = s.scalar(select(LeaseRow.holder).where(LeaseRow.name == lease).with_for_update(read=True))
        if current != holder:
            log.error("store_write_fenced url=%s action=%s lease=%s holder=%s current=%s", self.display_url,
                      action, lease, holder, current or "-")
            raise LeaseFenced(self.display_url, action, lease, holder, current or "")

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
            before = self.revision()
        except StoreError as exc:  # unreachable before anything began: it is the migration that failed
            raise StoreError(self.display_url, "migrate", exc.detail) from exc
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
        after = self.revision()
        # Every CLI command migrates the store it opens: a line only when the schema changed, not on every ack.
        (log.info if after != before else log.debug)(
            "store_migrated url=%s from=%s revision=%s", self.display_url, before or "-", after)

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
            shard_index=self.shard.index if self.shard is not None else None,
            shard_count=self.shard.count if self.shard is not None else None,
        )
        with self._transaction("start run") as s:
            s.add(row)
            s.flush()
            run_id = row.id
        log.info("run_started run=%d host=%s version=%s shard=%s", run_id, row.host, row.version,
                 self.partition or "whole")
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

    def end_outages_at_stop(self, entities: Collection[tuple[Scope, str]], current_run: int) -> list[Transition]:
        """At start-up, before the new run starts: end the open outages of these entities where the last
        run's watching ended (its stop, or its last heartbeat after a crash), the state after it 'unknown'.

        Nobody watched from then until ``current_run`` began: that time is unknown, not downtime (the report
        counts it so), and whether the device is still down is for the new run to find out. One transition per
        outage, recorded under the run that stopped; returned. Outages of entities another instance watches
        are not touched (``entities`` are this instance's).
        """
        wanted = {(str(scope), entity) for scope, entity in entities}
        open_here = [o for o in self.open_outages() if (str(o.scope), o.entity) in wanted]
        if not open_here:
            return []
        mine: ColumnElement[bool] = MonitorRun.shard_count.is_(None)  # a run of the whole inventory watched this shard too
        if self.shard is not None:
            mine = mine | ((MonitorRun.shard_index == self.shard.index) & (MonitorRun.shard_count == self.shard.count))
        with self._transaction("read the last run") as s:
            row = s.scalars(
                select(MonitorRun).where(MonitorRun.id != current_run).where(mine)
                .order_by(func.coalesce(MonitorRun.stopped_at, MonitorRun.last_heartbeat_at).desc()).limit(1)
            ).first()
            if row is None:
                return []
            last = _run_record(row)
        ended = [Transition(o.scope, o.entity, o.site, "down", "unknown", max(last.watched_until, o.started_at),
                            detail="the monitor stopped watching") for o in open_here]
        self.record_transitions(ended, last.id)
        log.info("outages_ended_at_stop count=%d run=%d at=%s", len(ended), last.id,
                 to_datetime(last.watched_until).isoformat())
        return ended

    def gaps(self, since: float, until: float, site: str | None = None) -> list[tuple[float, float]]:
        """Periods within [since, until) when no run was watching (``site``: no run of the shard that owns
        it): the availability report's 'unknown'.

        A run watched from its start to its stop, or, if it crashed, to its last heartbeat. A run that is
        still going counts as watching up to its latest heartbeat only. Overlapping runs (several instances)
        are merged. Without ``site``, any run counts (the whole inventory's view before shards).
        """
        if until <= since:
            return []
        runs = self.runs(since, until)
        return unwatched([r for r in runs if site is None or covers(r, site)], since, until)

    # -- leases and locks: work that one instance does --------------------------------------------------

    def lease(self, name: str, holder: str, ttl: float) -> tuple[LeaseAction, Lease | None, float]:
        """Take or renew the lease ``name`` for ``holder`` for ``ttl`` seconds, unless another holder's is still
        valid: (what was done — 'acquire', 'renew' or 'wait' —, the lease as found, the database's clock).

        The database's clock decides, so that instances on machines whose clocks differ agree. One row per
        lease, locked for the decision (SELECT … FOR UPDATE): two standbys never both acquire it.
        """
        with self._transaction(f"lease {name}", fenced=False) as s:
            now = self._db_now(s)
            epoch = to_datetime(0.0)
            if self._dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                s.execute(pg_insert(LeaseRow).values(name=name, holder="", acquired_at=epoch, expires_at=epoch)
                          .on_conflict_do_nothing(index_elements=["name"]))
            elif s.get(LeaseRow, name) is None:
                s.add(LeaseRow(name=name, holder="", acquired_at=epoch, expires_at=epoch))
                s.flush()
            row = s.scalars(select(LeaseRow).where(LeaseRow.name == name).with_for_update()).one()
            found = Lease(row.holder, to_unix(row.expires_at)) if row.holder else None
            action = lease_action(found, holder, now)
            if action == "acquire":
                row.holder, row.acquired_at = holder, to_datetime(now)
            if action != "wait":
                row.expires_at = to_datetime(now + ttl)
        return action, found, now

    def release(self, name: str, holder: str) -> bool:
        """Give the lease up now (a clean stop), if ``holder`` still holds it: a standby need not wait it out.
        Whether it did (False: another holds it by now)."""
        with self._transaction(f"release lease {name}", fenced=False) as s:
            row = s.scalars(select(LeaseRow).where(LeaseRow.name == name).with_for_update()).first()
            if row is None or row.holder != holder:
                return False
            row.expires_at = to_datetime(self._db_now(s))
            return True

    def holds(self, name: str, holder: str) -> bool:
        """Whether the lease ``name`` names ``holder`` now (a read: see :meth:`fence` for the writes)."""
        with self._transaction(f"read lease {name}", fenced=False) as s:
            return s.scalar(select(LeaseRow.holder).where(LeaseRow.name == name)) == holder

    def _db_now(self, s: Session) -> float:
        if self._dialect == "postgresql":
            return float(s.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one())
        return time.time()


# -- helpers ---------------------------------------------------------------------------------------------


def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True  # a flush that had nothing to write does not get here


def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _normalise(url: URL) -> URL:
    # psycopg 3 is the PostgreSQL driver this project installs; a bare postgresql:// would mean psycopg2
    # under SQLAlchemy 2.0.
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


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


def _run_record(r: MonitorRun) -> RunRecord:
    return RunRecord(
        r.id,
        to_unix(r.started_at),
        to_unix(r.last_heartbeat_at),
        to_unix(r.stopped_at) if r.stopped_at is not None else None,
        r.host,
        r.version,
        (r.shard_index, r.shard_count) if r.shard_index is not None and r.shard_count is not None else None,
    )
