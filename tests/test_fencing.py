"""Fencing at the database: a lease holder's store refuses every write once another holder has the lease
(``Store.fence``), whatever the stalled process's own clock says; the store writer stops at the first refusal
(``LeaseFenced``: not retried, not set aside) and drops what it held, leaving a shared journal to its other
user.

Two holders, ``a`` and ``b``, each with its own Store (as two processes would) on one database; ``a`` holds
the lease with a TTL of 0, so that ``b`` may take it at once (the database's clock decides: no sleep).
"""

from __future__ import annotations

import asyncio
import fcntl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from monitor.domain.records import OutboxMessage
from monitor.domain.vocabulary import Reason, Scope, Transition
from monitor.store import LeaseFenced, Store, StoreError, outbox_delivered, save_alerting
from monitor.lease import ShardLease
from monitor.store.schema import LeaseRow, MonitorRun, TransitionRow
from monitor.store.timestamps import to_datetime
from monitor.store.writer import StoreWriter
from tests import dbs
from tests.e2e import wait_until
from tests.test_store_writer import hold

store_url = dbs.store_url
LEASE = "shard 0/2"
T0 = 1_790_000_000.0


@pytest.fixture
def pair(store_url: str) -> Iterator[tuple[Store, Store]]:
    a, b = Store(store_url), Store(store_url)
    a.migrate()
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def down(entity: str, at: float) -> Transition:
    return Transition(Scope.SITE, entity, entity, "up", "down", at, Reason.TIMEOUT)


def transitions_of(store: Store, run_id: int) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(TransitionRow).where(TransitionRow.run_id == run_id))
                   or 0)


def take(store: Store, holder: str, ttl: float) -> None:
    """``holder`` takes the lease (it must be free or lapsed) and fences its store by it."""
    action, _, _ = store.lease(LEASE, holder, ttl)
    assert action == "acquire", action
    store.fence(LEASE, holder)


def test_once_another_holds_the_lease_every_write_of_the_old_holder_is_refused(pair: tuple[Store, Store]):
    a, b = pair
    take(a, "a", 0.0)  # lapses at once: as if a had stalled past its TTL
    run = a.start_run(T0)
    assert a.record_transitions([down("s1", T0 + 1)], run) == 1  # nobody else holds it yet: a still writes
    take(b, "b", 60.0)

    refused = [
        lambda: a.record_transitions([down("s2", T0 + 2)], run),  # Core statements and ORM inserts
        lambda: a.heartbeat(run, T0 + 3),  # an ORM update, flushed at the commit
        lambda: a.start_run(T0 + 4),
        lambda: save_alerting(a, [], [OutboxMessage(message_id="m1", alert_key="site_down:s1", channel="hook",
                                                         kind="firing", payload={}, created_at=T0)]),
        lambda: outbox_delivered(a, ["m1"], T0 + 5),  # an UPDATE that matches no row is a write all the same
    ]
    for write in refused:
        with pytest.raises(LeaseFenced, match="lease 'shard 0/2' is held by b, not by this instance") as info:
            write()
        assert not isinstance(info.value, StoreError)  # the writer must not retry it
        assert (info.value.lease, info.value.holder, info.value.current) == (LEASE, "a", "b")
    assert transitions_of(a, run) == 1  # rolled back: nothing of a's after the takeover
    with a.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(MonitorRun)) == 1
        assert conn.scalar(select(MonitorRun.last_heartbeat_at)) == conn.scalar(select(MonitorRun.started_at))
    assert [o.entity for o in a.open_outages()] == ["s1"]  # reads are not fenced
    assert a.lease(LEASE, "a", 60.0)[0] == "wait"  # nor is the lease itself: a finds out as a standby would

    brun = b.start_run(T0 + 10)  # the new holder writes as before
    assert b.record_transitions([down("s2", T0 + 11)], brun) == 1


def test_the_old_holder_writes_again_if_it_takes_the_lease_back(pair: tuple[Store, Store]):
    """The fence names the holder, not a moment: a process whose lease lapsed with nobody taking it over
    wrote nothing anyone else's; renewing it is taking it back."""
    a, _ = pair
    take(a, "a", 0.0)
    run = a.start_run(T0)
    assert a.lease(LEASE, "a", 60.0)[0] == "acquire"  # lapsed, free: back
    assert a.record_transitions([down("s1", T0 + 1)], run) == 1


@pytest.mark.integration
def test_a_takeover_waits_for_a_write_in_flight_and_the_next_write_is_refused():
    """The check holds the lease row (FOR SHARE) to the commit: a standby taking the lease (FOR UPDATE) in the
    middle of a write waits for that commit, so every write of the old holder is ordered before the takeover."""
    with dbs.pg_schema() as url:
        a, b = Store(url), Store(url)
        a.migrate()
        try:
            take(a, "a", 0.0)
            run = a.start_run(T0)
            taken: Future[None] = Future()

            def takeover() -> None:
                try:
                    take(b, "b", 60.0)
                    taken.set_result(None)
                except BaseException as exc:  # handed to the test thread
                    taken.set_exception(exc)

            def waiting_for_a_lock() -> bool:
                with b.engine.connect() as conn:
                    return bool(conn.scalar(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()")))

            committing = threading.Event()

            def before_commit(conn: object) -> None:  # after the fence check, before the commit
                if committing.is_set():
                    return
                committing.set()
                threading.Thread(target=takeover, daemon=True).start()
                wait_until("the takeover to wait for the lease row", waiting_for_a_lock, 20, every=0.05)
                assert not taken.done()

            from sqlalchemy import event

            event.listen(a.engine, "commit", before_commit)
            assert a.record_transitions([down("s1", T0 + 1)], run) == 1
            event.remove(a.engine, "commit", before_commit)
            taken.result(20)
            assert transitions_of(a, run) == 1  # committed before the takeover
            with pytest.raises(LeaseFenced):
                a.record_transitions([down("s2", T0 + 2)], run)
        finally:
            a.close()
            b.close()


# -- the store writer -------------------------------------------------------------------------------------


def test_a_fenced_writer_stops_drops_its_jobs_and_empties_its_own_journal(pair: tuple[Store, Store],
                                                                          tmp_path: Path):
    a, b = pair
    take(a, "a", 0.0)
    run = a.start_run(T0)
    fenced: list[LeaseFenced] = []
    journal = tmp_path / "a.journal"
    writer = StoreWriter(a, journal=journal, backoff=0.01, max_backoff=0.02, on_fenced=fenced.append)
    writer.submit_durable(a.record_transitions, [down("s1", T0 + 1)], run).result(10)
    take(b, "b", 60.0)

    gate = hold(writer)  # holds the queue so that the next jobs wait behind it
    queued = [writer.submit_durable(a.record_transitions, [down(f"s{i}", T0 + i)], run) for i in range(2, 5)]
    queued.append(writer.submit_latest(a.heartbeat, run, T0 + 5))
    assert journal.stat().st_size > 0
    gate.set()
    for f in queued:
        with pytest.raises(LeaseFenced):
            f.result(10)
    assert len(fenced) == 1 and fenced[0].current == "b"
    assert writer.failures == 0 and writer.set_aside == 0  # not a database failure, not the job's fault
    later = writer.submit_durable(a.record_transitions, [down("s9", T0 + 9)], run)
    with pytest.raises(LeaseFenced):
        later.result(0)  # refused at once, never journaled
    assert journal.stat().st_size == 0  # alone with it: emptied, so no later start replays stale decisions
    assert writer.close(5) is False  # not everything was written
    assert transitions_of(a, run) == 1


def test_a_fenced_writer_leaves_a_journal_another_process_has_open(pair: tuple[Store, Store], tmp_path: Path):
    """Active and standby started in one directory share the journal: the new holder replayed it at its
    takeover and goes on using it; the fenced one must not empty it under it."""
    a, b = pair
    take(a, "a", 0.0)
    run = a.start_run(T0)
    journal = tmp_path / "shared.journal"
    writer = StoreWriter(a, journal=journal, backoff=0.01, max_backoff=0.02)
    take(b, "b", 60.0)
    with journal.open("a+b") as other:  # the other process's handle, as StoreWriter holds it
        fcntl.flock(other.fileno(), fcntl.LOCK_SH)
        other.write(b"the new holder's frames")
        other.flush()
        job = writer.submit_durable(a.record_transitions, [down("s1", T0 + 1)], run)
        size = journal.stat().st_size  # the other's frames and the job's own
        with pytest.raises(LeaseFenced):
            job.result(10)
        assert writer.fenced is not None
        assert journal.stat().st_size == size and journal.read_bytes().startswith(b"the new holder's frames")
    writer.close(5)


def test_a_writer_journals_nothing_while_the_lease_is_not_known_to_be_held(pair: tuple[Store, Store],
                                                                          tmp_path: Path):
    """``journal_if`` (the lease's own clock): a process that wakes up after its lease ran out journals nothing, so
    nothing of it reaches a journal that the new holder may replay. The job is still queued: if the lease is still
    its own (a process that was only slow), it is written; if not, the fence refuses it."""
    a, b = pair
    take(a, "a", 0.0)
    run = a.start_run(T0)
    held = True
    journal = tmp_path / "a.journal"
    writer = StoreWriter(a, journal=journal, journal_if=lambda: held)
    gate = hold(writer)  # holds the queue: what follows waits, journaled or not
    writer.submit_durable(a.heartbeat, run, T0 + 1)
    journaled = journal.stat().st_size
    assert journaled > 0
    held = False
    slow = writer.submit_durable(a.record_transitions, [down("s1", T0 + 2)], run)
    assert journal.stat().st_size == journaled  # queued, not journaled
    gate.set()
    assert slow.result(10) == 1  # nobody took the lease: a slow process's write goes in
    take(b, "b", 60.0)
    stale = writer.submit_durable(a.record_transitions, [down("s2", T0 + 3)], run)
    with pytest.raises(LeaseFenced):
        stale.result(10)
    assert transitions_of(a, run) == 1
    writer.close(5)


# -- sending ----------------------------------------------------------------------------------------------


async def test_before_sending_the_database_is_asked_so_a_pause_that_stopped_the_clock_sends_nothing(
        pair: tuple[Store, Store]):
    """Delivery's gate (``ShardLease.confirm``): the lease's own clock cannot see a pause that stopped it (a
    paused VM); the database can."""
    a, b = pair
    lease = ShardLease(a, LEASE, 60.0)
    assert await lease.acquire(asyncio.Event(), standby=False)
    assert lease.held() and await lease.confirm(1.0)
    with a.engine.begin() as conn:  # the lease lapses by the database's clock while the holder's clock stood still
        conn.execute(update(LeaseRow).where(LeaseRow.name == LEASE).values(expires_at=to_datetime(T0)))
    take(b, "b", 60.0)
    assert lease.held()  # its clock cannot tell
    assert not await lease.confirm(1.0)  # the database can: nothing is sent


async def test_while_the_database_does_not_answer_the_lease_clock_decides_whether_to_send():
    """A page must not wait for a dead store: unreachable, ``confirm`` falls back on ``held`` (a renewal that
    keeps failing stops the instance within a TTL anyway)."""
    from tests.ports import free_port

    dead = Store(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none", timeout=1.0)
    try:
        lease = ShardLease(dead, LEASE, 60.0)
        assert not await lease.confirm(1.0)  # never held
        lease.last_renewed = time.monotonic()  # as after a renewal that succeeded just now
        assert await lease.confirm(1.0)
        lease.last_renewed = time.monotonic() - 60.0  # a lease's age ago
        assert not await lease.confirm(1.0)
    finally:
        dead.close()
