"""The store writer's batches, on real SQLite files and real PostgreSQL: queued jobs are written several to a
transaction, in order; a job that fails inside a batch is found and dealt with alone (set aside, or failed at
once) while the others are written once; a database error in the middle of a batch (PostgreSQL: the writer's
connection killed between two jobs) is retried without losing or doubling a row.

Doubled writes would show: usage merged without a flush id is additive (two writes of one row add up twice),
so every batch here carries usage rows whose sums must come out exactly."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from monitor.alerting.alerter import to_record
from monitor.store import Store, UsageRow, active_alerts, save_alerting
from monitor.store.writer import StoreJobSetAside, StoreWriter
from tests import dbs
from tests.test_store_writer import T0, _alert, ap, hold

store = dbs.store
store_url = dbs.store_url

HOUR = 1_789_999_200.0  # an hour's start, before T0


def usage(i: int) -> UsageRow:
    """One AP's usage over part of the hour: sums 1, 10, 100 (a second write of it would double them)."""
    return UsageRow(f"ap{i:03d}", "s1", HOUR, max_clients=1, client_samples_sum=1, samples=10, rx_bytes=100,
                    tx_bytes=100)


def test_queued_jobs_are_written_in_batches_in_order(store: Store) -> None:
    """40 transitions of one AP (down, up, down, ...: each closes the outage the one before opened, so order
    matters) and 40 usage rows, queued behind a held job: written in a few transactions, in order, each once."""
    run = store.start_run(T0)
    writer = StoreWriter(store, batch_jobs=16)
    try:
        gate = hold(writer)
        futures: list[Future[Any]] = []
        for i in range(40):
            old, new = ("up", "down") if i % 2 == 0 else ("down", "up")
            futures.append(writer.submit_durable(store.record_transitions, [ap("a1", old, new, T0 + i)], run))
            futures.append(writer.submit_durable(store.add_usage, [usage(i)]))
        gate.set()
        assert [f.result(timeout=30) for f in futures] == [1] * 80
    finally:
        assert writer.close(timeout=10)
    assert writer.batches >= 5 and writer.written == 81  # 80 jobs in batches of at most 16, and the held one
    assert [t.transition.at for t in store.transitions(T0, T0 + 100)] == [T0 + i for i in range(40)]
    outages = store.outages(T0, T0 + 100)
    assert [(o.started_at, o.ended_at) for o in outages] == [(T0 + i, T0 + i + 1) for i in range(0, 40, 2)]
    assert [(u.ap, u.samples, u.rx_bytes) for u in store.usage(HOUR, HOUR + 1)] == [
        (f"ap{i:03d}", 10, 100) for i in range(40)]


def test_a_job_refused_for_good_inside_a_batch_is_set_aside_alone(store: Store) -> None:
    """In one queued batch: usage, a second active instance of an alert key (the unique index refuses it every
    time: a StoreError), usage and a transition, a stop of a run that does not exist (a ValueError: bad input),
    usage. Only the two bad jobs fail, each with its own error; the rest are written exactly once, in order."""
    run = store.start_run(T0)
    save_alerting(store, [to_record(_alert(T0))])
    writer = StoreWriter(store, backoff=0.01, max_backoff=0.02, set_aside_after=3)
    try:
        gate = hold(writer)
        good = [writer.submit_durable(store.add_usage, [usage(i)]) for i in (1, 2)]
        poison = writer.submit_durable(save_alerting, store, [to_record(_alert(T0 + 1))])
        good += [writer.submit_durable(store.add_usage, [usage(3)]),
                 writer.submit_durable(store.record_transitions, [ap("a1", "up", "down", T0 + 2)], run),
                 writer.submit_durable(store.add_usage, [usage(4)])]
        bad = writer.submit_durable(store.stop_run, run + 100, T0 + 3)
        good += [writer.submit_durable(store.add_usage, [usage(i)]) for i in (5, 6)]
        gate.set()
        with pytest.raises(StoreJobSetAside, match="failed 3 times"):
            poison.result(timeout=20)
        with pytest.raises(ValueError, match="no monitor run"):
            bad.result(timeout=20)
        assert [f.result(timeout=20) for f in good] == [1] * 7
    finally:
        assert writer.close(timeout=10)
    assert writer.set_aside == 2 and writer.failures == 3  # the poison's 3 attempts; the ValueError is not retried
    # Committed batches: usage 1-2 (again, without the poison); usage 3 went alone, out of turn, to show that
    # the database takes other writes; the transition and usage 4 (again, without the bad stop); usage 5-6.
    assert writer.batches == 3
    assert [(u.ap, u.samples) for u in store.usage(HOUR, HOUR + 1)] == [(f"ap{i:03d}", 10) for i in range(1, 7)]
    assert [t.transition.at for t in store.transitions(T0, T0 + 10)] == [T0 + 2]
    assert [a.opened_at for a in active_alerts(store)] == [T0]
    assert store.runs(T0 - 1, T0 + 10)[0].stopped_at is None


def test_a_connection_lost_in_the_middle_of_a_batch_loses_and_doubles_nothing() -> None:
    """PostgreSQL: the writer's connection is terminated by the server between two jobs of a batch (a real
    StoreError at the next statement). The batch is rolled back; what came before the failure is written again
    without it, the failed job is retried alone and passes on a new connection, the rest follow: every row
    once, in order."""
    with dbs.pg_schema() as url:
        name = f"wifimon_batch_{uuid.uuid4().hex[:8]}"
        st = Store(make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False))
        st.migrate()
        run = st.start_run(T0)
        writer = StoreWriter(st, backoff=0.01, max_backoff=0.02)
        admin = Store(url)
        try:
            gate = hold(writer)
            paused, resume = threading.Event(), threading.Event()

            def pause(_: Store) -> None:  # a job of the batch that waits, its transaction open, for the kill
                paused.set()
                resume.wait(30)

            futures: list[Future[Any]] = [writer.submit_durable(st.add_usage, [usage(i)]) for i in range(5)]
            futures.append(writer.submit(pause, st))
            futures += [writer.submit_durable(st.record_transitions, [ap("a1", "up", "down", T0 + 1)], run)]
            futures += [writer.submit_durable(st.add_usage, [usage(i)]) for i in range(5, 10)]
            gate.set()
            assert paused.wait(20)
            with admin.engine.begin() as conn:
                killed = conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                           "WHERE application_name = :name AND state = 'idle in transaction'"),
                                      {"name": name}).scalars().all()
            assert killed == [True]
            resume.set()
            results = [f.result(timeout=30) for f in futures]
            assert results == [1] * 5 + [None, 1] + [1] * 5
        finally:
            resume.set()
            assert writer.close(timeout=10)
            admin.close()
        assert writer.failures >= 1 and writer.set_aside == 0 and writer.batches >= 2
        assert [(u.ap, u.samples, u.rx_bytes) for u in st.usage(HOUR, HOUR + 1)] == [
            (f"ap{i:03d}", 10, 100) for i in range(10)]
        assert [t.transition.at for t in st.transitions(T0, T0 + 10)] == [T0 + 1]
        assert len(st.open_outages()) == 1
        st.close()
