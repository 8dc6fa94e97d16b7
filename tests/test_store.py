"""The store and its writer, on SQLite and on PostgreSQL (same tests, see tests/dbs.py)."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.domain.maintenance import occurrences
from monitor.domain.vocabulary import Event, EventKind, Reason, Scope, Transition
from monitor.store.schema import Base, OutageRow, TransitionRow, to_datetime
from monitor.store import MaintenanceWindow, Store, StoreError, UsageRow
from monitor.store.writer import StoreWriter, StoreWriterClosed
from tests import dbs
from tests.dbs import (
    BACKENDS,
    create_pg_database,
    drop_pg_database,
    pg_url,
    rename_pg_database,
    require_postgres,
    unique_name,
)
from tests.ports import free_port

# The shared fixtures: every test taking `store` or `store_url` runs on SQLite and on PostgreSQL.
store = dbs.store
store_url = dbs.store_url

T0 = 1_790_000_000.0  # 2026-09-21, any fixed instant will do


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not true after {timeout}s")
        time.sleep(0.01)


def ap(
    entity: str, old: str, new: str, at: float, reason: Reason | None = None, site: str = "s1"
) -> Transition:
    return Transition(Scope.AP, entity, site, old, new, at, reason)




# -- schema ---------------------------------------------------------------------------------------------


def test_migrate_from_empty_creates_schema_matching_models(store_url: str) -> None:
    s = Store(store_url)
    try:
        assert s.revision() is None
        s.migrate()
        assert s.revision() == "0005"
        s.migrate()  # a second start changes nothing
        assert s.revision() == "0005"
        tables = set(inspect(s.engine).get_table_names())
        assert {"monitor_runs", "transitions", "outages", "events", "usage_hourly", "maintenance"} <= tables
        # The hand-written migration and the models describe the same schema.
        with s.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
        s.check()
    finally:
        s.close()


def test_outages_left_open_end_where_the_last_run_stopped_watching(store: Store) -> None:
    run1 = store.start_run(T0)
    store.record_transitions([ap("a1", "up", "down", T0 + 30), ap("a2", "up", "down", T0 + 40),
                              Transition(Scope.SITE, "s1", "s1", "up", "down", T0 + 40)], run1)
    store.stop_run(run1, T0 + 100)  # a clean stop during the outage
    run2 = store.start_run(T0 + 900)
    ended = store.end_outages_at_stop([(Scope.AP, "a1"), (Scope.SITE, "s1")], run2)  # a2: not ours
    assert sorted((t.entity, t.new, t.at) for t in ended) == [("a1", "unknown", T0 + 100), ("s1", "unknown", T0 + 100)]
    assert {o.entity: (o.ended_at, o.end_state) for o in store.outages(T0, T0 + 900)} == {
        "a1": (T0 + 100, "unknown"), "s1": (T0 + 100, "unknown"), "a2": (None, None)}
    assert store.last_states()[(Scope.AP, "a1")] == ("unknown", T0 + 100, None)
    assert [t.run_id for t in store.transitions(T0 + 100, T0 + 101)] == [run1, run1]  # the stopped run's
    assert store.end_outages_at_stop([(Scope.AP, "a1"), (Scope.SITE, "s1")], run2) == []  # nothing left open


def test_migration_0003_keeps_the_windows_of_a_0002_store(store_url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from monitor.store.core import MIGRATIONS_DIR

    s = Store(store_url)
    try:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with s.engine.begin() as conn:  # the store as the previous release left it
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
            conn.execute(text(
                "INSERT INTO maintenance (scope_kind, scope_value, starts_at, ends_at, recurrence, timezone,"
                " comment, created_by, created_at) VALUES ('site', 's1', :a, :b, 'daily', 'Asia/Seoul', '점검',"
                " 'kim', :a)"), {"a": to_datetime(T0), "b": to_datetime(T0 + 3600)})
        s.migrate()
        assert s.revision() == "0005"
        (window,) = s.list_maintenance()
        assert (window.starts_at, window.ends_at, window.comment, window.retired_at) == (T0, T0 + 3600, "점검", None)
        assert s.remove_maintenance(window.id, T0 + 7200) == ("retired", replace(window, retired_at=T0 + 7200))
        with s.engine.begin() as conn, pytest.raises(IntegrityError):  # the constraint came with the column
            conn.execute(text("UPDATE maintenance SET retired_at = starts_at"))
    finally:
        s.close()


def test_unreachable_postgres_error_names_url_and_hides_password() -> None:
    port = free_port()  # nothing listens there now
    s = Store(f"postgresql://wifimon:pa55-w0rd@127.0.0.1:{port}/wifimon", timeout=2)
    with pytest.raises(StoreError) as info:
        s.migrate()
    message = str(info.value)
    assert "pa55-w0rd" not in message
    assert f"postgresql+psycopg://wifimon:***@127.0.0.1:{port}/wifimon" in message
    assert "migrate failed" in message
    assert "refused" in message.lower()
    with pytest.raises(StoreError, match="check failed") as info:
        s.check()
    assert "pa55-w0rd" not in str(info.value)


def test_unopenable_sqlite_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "wifimon.db"
    with pytest.raises(StoreError) as info:
        Store(f"sqlite:///{path}").migrate()
    assert str(path) in str(info.value)
    assert "unable to open database file" in str(info.value)


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(StoreError, match="only sqlite and postgresql"):
        Store("mysql://u:secret@127.0.0.1/x")
    with pytest.raises(StoreError) as info:
        Store("not a url://u:secret@x")
    assert "secret" not in str(info.value)


# -- timestamps -----------------------------------------------------------------------------------------


def test_timestamps_round_trip_exactly_and_aware_utc(store: Store) -> None:
    rng = random.Random(20261125)
    instants = [0.0, 0.000001, T0, T0 + 0.000001, T0 + 0.999999, 4_102_444_800.123456, 951_782_400.5]
    # Any value with microsecond resolution: what a float built from a clock reading holds after rounding.
    instants += [rng.randrange(0, 4_000_000_000_000_000) / 1_000_000 for _ in range(200)]
    run = store.start_run(T0)
    written = store.record_transitions(
        [ap(f"ap{i}", "unknown", "up", at) for i, at in enumerate(instants)], run
    )
    assert written == len(instants)
    back = {t.transition.entity: t.transition.at for t in store.transitions(-1, 5e9)}
    assert back == {f"ap{i}": at for i, at in enumerate(instants)}
    # Below the API: the column hands back aware UTC datetimes with every microsecond.
    with Session(store.engine) as session:
        raw = dict(session.execute(select(TransitionRow.entity, TransitionRow.at)).all())
    for i, at in enumerate(instants):
        got = raw[f"ap{i}"]
        assert got.tzinfo is UTC, got
        assert got == to_datetime(at)
        assert got.microsecond == round(at * 1_000_000) % 1_000_000


def test_naive_datetimes_are_refused(store: Store) -> None:
    with Session(store.engine) as session, pytest.raises(Exception, match="naive datetime"):
        session.execute(select(TransitionRow).where(TransitionRow.at > datetime(2026, 1, 1))).all()


# -- transitions and outages ----------------------------------------------------------------------------


def test_outage_opens_on_down_and_closes_on_leaving_down(store: Store) -> None:
    run = store.start_run(T0)
    assert store.record_transitions([ap("a1", "unknown", "up", T0)], run) == 1
    assert store.open_outages() == []

    store.record_transitions([ap("a1", "up", "down", T0 + 30.25, Reason.TIMEOUT)], run)
    (outage,) = store.open_outages()
    assert (outage.scope, outage.entity, outage.site) == (Scope.AP, "a1", "s1")
    assert outage.started_at == T0 + 30.25
    assert outage.ended_at is None and outage.end_state is None
    assert outage.reason is Reason.TIMEOUT
    assert outage.run_id == run

    store.record_transitions([ap("a1", "down", "up", T0 + 95.5)], run)
    assert store.open_outages() == []
    (closed,) = store.outages(T0, T0 + 1000)
    assert closed.id == outage.id
    assert (closed.started_at, closed.ended_at, closed.end_state) == (T0 + 30.25, T0 + 95.5, "up")
    # The outage traces to the transitions that opened and closed it.
    by_id = {t.id: t.transition for t in store.transitions(T0, T0 + 1000)}
    assert by_id[closed.open_transition_id].new == "down"
    assert by_id[closed.close_transition_id].new == "up"


def test_leaving_down_for_any_state_closes_and_keeps_end_state(store: Store) -> None:
    run = store.start_run(T0)
    site = Transition(Scope.SITE, "s1", "s1", "up", "down", T0 + 1, Reason.UPLINK_DOWN)
    uplink = Transition(Scope.UPLINK, "sw1", "s1", "up", "down", T0 + 1, Reason.TIMEOUT)
    store.record_transitions([site, uplink, ap("a1", "up", "down", T0 + 1, Reason.UPLINK_DOWN)], run)
    assert {(o.scope, o.entity) for o in store.open_outages()} == {
        (Scope.SITE, "s1"),
        (Scope.UPLINK, "sw1"),
        (Scope.AP, "a1"),
    }
    store.record_transitions(
        [
            Transition(Scope.SITE, "s1", "s1", "down", "maintenance", T0 + 50),
            Transition(Scope.UPLINK, "sw1", "s1", "down", "unknown", T0 + 60),
            ap("a1", "down", "out_of_service", T0 + 70),
        ],
        run,
    )
    assert store.open_outages() == []
    ends = {o.entity: (o.ended_at, o.end_state) for o in store.outages(T0, T0 + 100)}
    assert ends == {
        "s1": (T0 + 50, "maintenance"),
        "sw1": (T0 + 60, "unknown"),
        "a1": (T0 + 70, "out_of_service"),
    }


def test_replayed_transitions_change_nothing(store: Store) -> None:
    run = store.start_run(T0)
    batch = [
        ap("a1", "up", "down", T0 + 1, Reason.TIMEOUT),
        ap("a1", "down", "up", T0 + 2),
        ap("a1", "up", "down", T0 + 3, Reason.SNMP_ERROR),
    ]
    assert store.record_transitions(batch, run) == 3
    before = (store.transitions(T0, T0 + 10), store.outages(T0, T0 + 10))
    assert store.record_transitions(batch, run) == 0  # a whole batch retried
    assert store.record_transitions(batch[:1], run) == 0  # the first down alone, after its outage closed
    assert store.record_transitions(batch[2:], run) == 0  # the open outage's own transition
    assert (store.transitions(T0, T0 + 10), store.outages(T0, T0 + 10)) == before
    outages = before[1]
    assert [(o.started_at, o.ended_at) for o in outages] == [(T0 + 1, T0 + 2), (T0 + 3, None)]


def test_close_and_reopen_of_an_open_outage_in_one_batch(store: Store) -> None:
    run = store.start_run(T0)
    store.record_transitions([ap("a1", "up", "down", T0 + 1, Reason.TIMEOUT)], run)
    batch = [ap("a1", "down", "up", T0 + 2), ap("a1", "up", "down", T0 + 3, Reason.AUTH_ERROR)]
    assert store.record_transitions(batch, run) == 2
    assert [(o.started_at, o.ended_at, o.reason) for o in store.outages(T0, T0 + 10)] == [
        (T0 + 1, T0 + 2, Reason.TIMEOUT),
        (T0 + 3, None, Reason.AUTH_ERROR),
    ]


def test_a_second_down_while_down_does_not_open_a_second_outage(store: Store) -> None:
    run = store.start_run(T0)
    store.record_transitions([ap("a1", "up", "down", T0 + 1, Reason.TIMEOUT)], run)
    # The reason changed (the uplink turned out to be down): recorded, but the outage stays the same one.
    assert store.record_transitions([ap("a1", "down", "down", T0 + 5, Reason.UPLINK_DOWN)], run) == 1
    (outage,) = store.open_outages()
    assert (outage.started_at, outage.reason) == (T0 + 1, Reason.TIMEOUT)
    assert len(store.transitions(T0, T0 + 10)) == 2


def test_database_refuses_two_open_outages_for_one_entity(store: Store) -> None:
    run = store.start_run(T0)
    store.record_transitions([ap("a1", "up", "down", T0 + 1, Reason.TIMEOUT)], run)
    (outage,) = store.open_outages()
    with Session(store.engine) as session, pytest.raises(IntegrityError):
        session.add(
            OutageRow(
                scope="ap",
                entity="a1",
                site="s1",
                started_at=to_datetime(T0 + 9),
                run_id=run,
                open_transition_id=outage.open_transition_id,
            )
        )
        session.commit()


def test_outages_overlapping_a_period(store: Store) -> None:
    run = store.start_run(T0)
    store.record_transitions(
        [
            ap("before", "up", "down", T0 + 0),
            ap("before", "down", "up", T0 + 10),
            ap("across", "up", "down", T0 + 50),
            ap("across", "down", "up", T0 + 150),
            ap("inside", "up", "down", T0 + 110),
            ap("inside", "down", "up", T0 + 120),
            ap("still", "up", "down", T0 + 190),
            ap("after", "up", "down", T0 + 200),
        ],
        run,
    )
    period = (T0 + 100, T0 + 200)
    assert [o.entity for o in store.outages(*period)] == ["across", "inside", "still"]
    assert [t.transition.entity for t in store.transitions(*period)] == [
        "inside",
        "inside",
        "across",
        "still",
    ]


def test_acknowledge_outage(store: Store) -> None:
    run = store.start_run(T0)
    store.record_transitions([ap("a1", "up", "down", T0 + 1, Reason.TIMEOUT)], run)
    (outage,) = store.open_outages()
    acked = store.acknowledge_outage(outage.id, "kim", "crew on the way", T0 + 60.5)
    assert acked is not None
    assert (acked.acknowledged_by, acked.ack_comment, acked.acknowledged_at) == (
        "kim",
        "crew on the way",
        T0 + 60.5,
    )
    assert store.open_outages() == [acked]
    assert store.acknowledge_outage(outage.id + 1000, "kim", "", T0) is None


# -- restart --------------------------------------------------------------------------------------------


def test_restart_resumes_last_states_and_keeps_outages_open(store_url: str) -> None:
    first = Store(store_url)
    first.migrate()
    run1 = first.start_run(T0, host="host-a", version="1.0")
    first.record_transitions(
        [
            ap("a1", "unknown", "up", T0),
            ap("a2", "unknown", "up", T0),
            Transition(Scope.SITE, "s1", "s1", "unknown", "up", T0),
            ap("a2", "up", "down", T0 + 30, Reason.AUTH_ERROR),
            Transition(Scope.SITE, "s1", "s1", "up", "degraded", T0 + 30),
        ],
        run1,
    )
    first.heartbeat(run1, T0 + 40)
    first.close()  # a crash: no stop_run, the process is gone

    second = Store(store_url)
    second.migrate()
    assert second.last_states() == {
        (Scope.AP, "a1"): ("up", T0, None),
        (Scope.AP, "a2"): ("down", T0 + 30, Reason.AUTH_ERROR),
        (Scope.SITE, "s1"): ("degraded", T0 + 30, None),
    }
    (outage,) = second.open_outages()
    assert (outage.entity, outage.started_at, outage.run_id) == ("a2", T0 + 30, run1)

    run2 = second.start_run(T0 + 300, host="host-a", version="1.0")
    assert run2 != run1
    second.record_transitions([ap("a2", "down", "up", T0 + 310)], run2)
    (closed,) = second.outages(T0, T0 + 400)
    assert (closed.id, closed.started_at, closed.ended_at, closed.end_state) == (
        outage.id,
        T0 + 30,
        T0 + 310,
        "up",
    )
    assert second.last_states()[(Scope.AP, "a2")] == ("up", T0 + 310, None)
    # The monitor was not watching between the crashed run's last heartbeat and the new start.
    assert second.gaps(T0, T0 + 300) == [(T0 + 40, T0 + 300)]
    second.close()


def test_gaps_between_runs(store: Store) -> None:
    r1 = store.start_run(T0 + 1000)
    store.heartbeat(r1, T0 + 1050)
    store.heartbeat(r1, T0 + 1100)  # then it crashed
    r2 = store.start_run(T0 + 1200)
    store.stop_run(r2, T0 + 1300)
    r3 = store.start_run(T0 + 1250)  # a second instance, overlapping
    store.heartbeat(r3, T0 + 1400.5)
    assert store.gaps(T0 + 900, T0 + 1500) == [
        (T0 + 900, T0 + 1000),
        (T0 + 1100, T0 + 1200),
        (T0 + 1400.5, T0 + 1500),
    ]
    assert store.gaps(T0 + 1010, T0 + 1090) == []
    assert store.gaps(T0 + 1100, T0 + 1200) == [(T0 + 1100, T0 + 1200)]
    assert store.gaps(T0, T0 + 500) == [(T0, T0 + 500)]
    (run,) = store.runs(T0 + 1210, T0 + 1220)
    assert (run.id, run.started_at, run.stopped_at, run.watched_until) == (
        r2,
        T0 + 1200,
        T0 + 1300,
        T0 + 1300,
    )
    with pytest.raises(ValueError, match="no monitor run"):
        store.heartbeat(r3 + 1000, T0)


# -- events, usage, maintenance ---------------------------------------------------------------------------


def test_events_are_recorded_once(store: Store) -> None:
    run = store.start_run(T0)
    events = [
        Event(EventKind.REBOOT, "a1", "s1", T0 + 5, "uptime 12s < 3600s"),
        Event(EventKind.COUNTER_RESET, "a1", "s1", T0 + 5, "ifInOctets"),
        Event(EventKind.COUNTER_RESET, "a1", "s1", T0 + 5, "ifOutOctets"),  # same instant, another counter
        Event(EventKind.FLAPPING, "a2", "s1", T0 + 7.125),
    ]
    assert store.record_events(events + events[:1], run) == 4
    assert store.record_events(events, run) == 0
    assert [e.event for e in store.events(T0, T0 + 10)] == events
    assert all(e.run_id == run for e in store.events(T0, T0 + 10))


def test_usage_merges_additively(store: Store) -> None:
    h = T0 - T0 % 3600
    big = 5_000_000_000_000  # bytes past 2**32 and 2**31: BIGINT on both backends
    store.add_usage([UsageRow("a1", "s1", h, 7, 40, 10, big, 1_000)])
    store.add_usage(
        [
            UsageRow("a1", "s1", h, 5, 30, 10, 2, 3),  # the rest of the same hour: after a restart, say
            UsageRow("a1", "s1", h + 3600, 1, 1, 1, 0, 0),
            UsageRow("a2", "s1", h, 3, 3, 1, 10, 20),
            UsageRow("a2", "s1", h, 9, 9, 1, 1, 2),  # twice in one flush: merged before the upsert
        ]
    )
    got = {(u.ap, u.hour): u for u in store.usage(h, h + 7200)}
    assert got[("a1", h)] == UsageRow("a1", "s1", h, 7, 70, 20, big + 2, 1_003)
    assert got[("a1", h + 3600)] == UsageRow("a1", "s1", h + 3600, 1, 1, 1, 0, 0)
    assert got[("a2", h)] == UsageRow("a2", "s1", h, 9, 12, 2, 11, 22)
    assert [u.hour for u in store.usage(h, h + 7200, ap="a1")] == [h, h + 3600]


def test_usage_flush_id_makes_a_retry_harmless(store: Store) -> None:
    h = T0 - T0 % 3600
    rows = [UsageRow("a1", "s1", h, 4, 8, 2, 100, 200)]
    assert store.add_usage(rows, flush_id="inst1-42") == 1
    assert store.add_usage(rows, flush_id="inst1-42") == 0
    assert store.add_usage(rows, flush_id="inst1-43") == 1
    (u,) = store.usage(h, h + 3600)
    assert (u.client_samples_sum, u.samples, u.rx_bytes) == (16, 4, 200)


def test_usage_rows_are_validated() -> None:
    with pytest.raises(ValueError, match="start of a UTC hour"):
        UsageRow("a1", "s1", T0 + 1, 0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="rx_bytes must be >= 0"):
        UsageRow("a1", "s1", 3600.0, 0, 0, 0, -1, 0)


def test_maintenance_crud(store: Store) -> None:
    nightly = MaintenanceWindow(
        "site", "s1", T0 + 3600, T0 + 7200, "Asia/Seoul", "kim", recurrence="daily", comment="firmware"
    )
    once = MaintenanceWindow("district", "Haemang-dong", T0 + 100, T0 + 200, "Asia/Seoul", "lee")
    everything = MaintenanceWindow("all", None, T0 + 10_000, T0 + 20_000, "UTC", "park")
    a = store.add_maintenance(nightly, now=T0 + 0.5)
    b = store.add_maintenance(once, now=T0 + 1)
    c = store.add_maintenance(everything, now=T0 + 2)
    assert a.id is not None and a.created_at == T0 + 0.5
    assert store.get_maintenance(a.id) == a
    assert a == MaintenanceWindow(**{**nightly.__dict__, "id": a.id, "created_at": T0 + 0.5})
    assert store.list_maintenance() == [b, a, c]
    # One-off windows must overlap the period; a recurring one applies from its start on.
    assert store.list_maintenance(T0 + 300, T0 + 9000) == [a]
    assert store.list_maintenance(T0 + 150, T0 + 160) == [b]
    assert store.list_maintenance(T0 + 50_000, T0 + 60_000) == [a]

    moved = store.update_maintenance(b.id, T0, starts_at=T0 + 150, ends_at=T0 + 400.25, comment="moved")
    assert moved is not None and (moved.starts_at, moved.ends_at, moved.comment) == (
        T0 + 150,
        T0 + 400.25,
        "moved",
    )
    assert store.get_maintenance(b.id) == moved
    with pytest.raises(ValueError, match="must be after"):
        store.update_maintenance(b.id, T0, ends_at=T0)
    assert store.get_maintenance(b.id) == moved  # a refused update changes nothing
    assert store.update_maintenance(9999, T0, comment="x") is None

    # Removed before it began: deleted, nothing of it remains.
    assert store.remove_maintenance(a.id, now=T0) == ("deleted", a)
    assert store.remove_maintenance(a.id, now=T0) is None
    assert store.get_maintenance(a.id) is None
    assert store.list_maintenance() == [moved, c]


def test_a_window_removed_after_it_began_keeps_its_past(store: Store) -> None:
    nightly = store.add_maintenance(MaintenanceWindow(
        "site", "s1", T0, T0 + 3600, "Asia/Seoul", "kim", recurrence="daily", comment="firmware"), now=T0 - 10)
    now = T0 + 2 * 86400 + 1800  # half-way through the third occurrence
    done, removed = store.remove_maintenance(nightly.id, now=now)
    assert done == "retired" and removed == replace(nightly, retired_at=now) == store.get_maintenance(nightly.id)
    assert list(occurrences(removed, T0 - 86400, T0 + 10 * 86400)) == [
        (T0, T0 + 3600), (T0 + 86400, T0 + 86400 + 3600), (T0 + 2 * 86400, now)]  # ends at the removal
    assert store.remove_maintenance(nightly.id, now=now + 60) == ("already_retired", removed)  # left as it was
    # Gone for the service (from now on), still there for a report of the days before.
    assert store.list_maintenance(since=now + 1) == []
    assert store.list_maintenance(T0, T0 + 86400) == [removed]

    # Edited after it began: the future may change, the past may not.
    once = store.add_maintenance(MaintenanceWindow("site", "s1", T0, T0 + 600, "UTC", "lee"), now=T0 - 10)
    longer = store.update_maintenance(once.id, T0 + 300, ends_at=T0 + 900, comment="took longer")
    assert longer is not None and (longer.starts_at, longer.ends_at) == (T0, T0 + 900)
    for changes in ({"starts_at": T0 + 60}, {"ends_at": T0 + 200}, {"scope_value": "s2"},
                    {"scope_kind": "all", "scope_value": None}):
        with pytest.raises(ValueError, match="has begun"):
            store.update_maintenance(once.id, T0 + 300, **changes)
    with pytest.raises(ValueError, match="retired_at cannot be changed"):
        store.update_maintenance(once.id, T0 + 300, retired_at=T0 + 400)
    assert store.get_maintenance(once.id) == longer


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scope_kind": "street"}, "scope_kind"),
        ({"scope_kind": "all"}, "scope_value must be None"),
        ({"scope_value": None}, "scope_value must be None"),
        ({"recurrence": "hourly"}, "recurrence"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"ends_at": T0}, "must be after"),
    ],
)
def test_maintenance_windows_are_validated(changes: dict, message: str) -> None:
    base = {
        "scope_kind": "ap",
        "scope_value": "a1",
        "starts_at": T0,
        "ends_at": T0 + 60,
        "timezone": "Asia/Seoul",
        "created_by": "kim",
    }
    with pytest.raises(ValueError, match=message):
        MaintenanceWindow(**{**base, **changes})


# -- the writer -----------------------------------------------------------------------------------------


def test_writer_runs_writes_in_order_and_reports_latency(store: Store) -> None:
    latencies: list[float] = []
    writer = StoreWriter(store, on_latency=latencies.append)
    run = writer.submit(store.start_run, T0).result(timeout=10)
    states = ["up", "down"] * 20
    futures = [
        writer.submit(
            store.record_transitions, [ap("a1", states[i - 1] if i else "unknown", new, T0 + i)], run
        )
        for i, new in enumerate(states)
    ]
    assert [f.result(timeout=30) for f in futures] == [1] * len(states)
    assert writer.close(timeout=10) is True
    recorded = store.transitions(T0, T0 + 100)
    assert [t.transition.at for t in recorded] == [T0 + i for i in range(len(states))]
    assert [t.id for t in recorded] == sorted(t.id for t in recorded)  # written in submission order
    assert len(store.outages(T0, T0 + 100)) == 20 and store.open_outages()[0].started_at == T0 + 39
    assert len(latencies) == 1 + len(states) and all(x > 0 for x in latencies)
    assert writer.depth == 0 and writer.failures == 0


def test_writer_fails_a_bad_job_and_goes_on(store: Store) -> None:
    writer = StoreWriter(store)
    run = writer.submit(store.start_run, T0).result(timeout=10)
    bad = writer.submit(store.record_transitions, [ap("a1", "up", "down", float("nan"))], run)
    worse = writer.submit(store.record_transitions, [Transition("street", "a1", "s1", "up", "down", T0)], run)
    good = writer.submit(store.record_transitions, [ap("a1", "up", "down", T0 + 1)], run)
    with pytest.raises(ValueError, match="finite"):
        bad.result(timeout=10)
    with pytest.raises(ValueError, match="street"):
        worse.result(timeout=10)
    assert good.result(timeout=10) == 1
    assert writer.close(timeout=10) is True
    assert writer.failures == 0


async def test_writer_call_from_asyncio(store: Store) -> None:
    writer = StoreWriter(store)
    try:
        run = await writer.call(store.start_run, T0)
        assert await writer.call(store.record_transitions, [ap("a1", "up", "down", T0 + 1)], run) == 1
    finally:
        assert writer.close(timeout=10)


async def test_a_cancelled_caller_does_not_cancel_the_write(store: Store) -> None:
    run = store.start_run(T0)
    gate = threading.Event()
    writer = StoreWriter(store)
    try:
        blocker = writer.submit(gate.wait, 10)  # holds the queue so the next job cannot have started
        task = asyncio.create_task(
            writer.call(store.record_transitions, [ap("a1", "up", "down", T0 + 1)], run)
        )
        await asyncio.sleep(0)  # let the task submit
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        assert blocker.result(timeout=10) is True
    finally:
        assert writer.close(timeout=10)
    assert [o.entity for o in store.open_outages()] == ["a1"]
    assert writer.written == 2


def test_a_job_cancelled_before_it_started_is_skipped(store: Store) -> None:
    gate = threading.Event()
    writer = StoreWriter(store)
    writer.submit(gate.wait, 10)
    skipped = writer.submit(store.start_run, T0)
    assert skipped.cancel() is True
    gate.set()
    assert writer.close(timeout=10)
    assert store.runs(T0 - 1, T0 + 1) == [] and writer.written == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_writer_keeps_a_transition_until_the_database_is_reachable(backend: str, tmp_path: Path) -> None:
    """Transitions submitted while the database cannot be opened are written once it can, exactly once.

    The database is really unreachable: a SQLite file whose directory does not exist yet, or a PostgreSQL
    database that does not exist yet. Then a prepared, migrated database is moved into place.
    """
    if backend == "sqlite":
        ready_dir, late_dir = tmp_path / "ready", tmp_path / "late"
        ready_dir.mkdir()
        ready_url, late_url = f"sqlite:///{ready_dir / 'w.db'}", f"sqlite:///{late_dir / 'w.db'}"

        def make_reachable() -> None:
            ready_dir.rename(late_dir)

        def cleanup() -> None:
            pass
    else:
        require_postgres()
        ready_db, late_db = unique_name("wifimon_ready"), unique_name("wifimon_late")
        create_pg_database(ready_db)
        ready_url, late_url = pg_url(ready_db), pg_url(late_db)

        def make_reachable() -> None:
            rename_pg_database(ready_db, late_db)

        def cleanup() -> None:
            drop_pg_database(ready_db)
            drop_pg_database(late_db)

    try:
        prepared = Store(ready_url)
        prepared.migrate()
        run = prepared.start_run(T0)
        prepared.close()  # nobody may hold the database while it is moved

        late = Store(late_url, timeout=2)
        writer = StoreWriter(late, backoff=0.05, max_backoff=0.2)
        down = writer.submit(late.record_transitions, [ap("a1", "up", "down", T0 + 1, Reason.TIMEOUT)], run)
        beat = writer.submit(late.heartbeat, run, T0 + 2)
        wait_for(lambda: writer.failures >= 2, 20, "writer retrying against the unreachable database")
        assert not down.done() and writer.depth == 2

        make_reachable()
        assert down.result(timeout=20) == 1
        beat.result(timeout=20)
        assert writer.close(timeout=10) is True

        assert [t.transition for t in late.transitions(T0, T0 + 10)] == [
            ap("a1", "up", "down", T0 + 1, Reason.TIMEOUT)
        ]
        (outage,) = late.open_outages()
        assert outage.started_at == T0 + 1
        assert late.runs(T0, T0 + 10)[0].last_heartbeat_at == T0 + 2
        late.close()
    finally:
        cleanup()


def test_writer_close_gives_up_on_an_unreachable_database(tmp_path: Path) -> None:
    gone = Store(f"sqlite:///{tmp_path / 'missing' / 'w.db'}", timeout=1)
    writer = StoreWriter(gone, backoff=0.05, max_backoff=0.1)
    first = writer.submit(gone.start_run, T0)
    second = writer.submit(gone.start_run, T0 + 1)
    wait_for(lambda: writer.failures >= 1, 10, "a failed attempt")
    started = time.monotonic()
    assert writer.close(timeout=0.3) is False
    assert time.monotonic() - started < 5
    for future in (first, second):
        with pytest.raises(StoreWriterClosed, match="closed before"):
            future.result(timeout=5)
    with pytest.raises(StoreWriterClosed):
        writer.submit(gone.start_run, T0)
