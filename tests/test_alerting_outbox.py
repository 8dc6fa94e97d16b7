"""The alert store and the durable outbox (SQLite and PostgreSQL), and delivery through a channel that
fails for a while: every message arrives once per idempotency key, in order per alert."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from monitor.alerting.alerter import Alerter, from_record, to_record
from monitor.alerting.channels import build_channels
from monitor.alerting.delivery import Delivery
from monitor.alerting.model import Alert, AlertState, Rule
from monitor.alerting.settings import AlertingSettings
from monitor.domain.vocabulary import ApStatus, Reason, SiteStatus, Transition, Scope
from monitor.store.schema import Base
from monitor.store import (
    OutboxMessage,
    Store,
    acknowledge_alerts,
    active_alerts,
    list_alerts,
    outbox_delivered,
    outbox_depth,
    outbox_failed,
    outbox_messages,
    pending_outbox,
    prune_outbox,
    save_alerting,
)
from monitor.store.writer import StoreWriter
from tests import dbs
from tests.alerting_helpers import T0, Receiver, make_site, site_view, snapshot

store = dbs.store
store_url = dbs.store_url


def state(key: str = "site_down:market", site: str = "market", opened: float = T0, **kw) -> AlertState:
    alert = Alert(key=key, rule=Rule.SITE_DOWN, severity="critical", since=opened - 30, site=site,
                  site_name="공설시장", aps=("market-ap1",), reason="timeout", gravity=1)
    return AlertState(alert=alert, opened_at=opened, status="firing", fired_at=opened, last_sent_at=opened, sends=1,
                      notified=("hook",), **kw)


def message(mid: str, key: str = "site_down:market", channel: str = "hook", at: float = T0) -> OutboxMessage:
    return OutboxMessage(message_id=mid, alert_key=key, channel=channel, kind="firing",
                         payload={"id": mid, "text": "공설시장"}, created_at=at)


def test_migration_0002_creates_the_outbox_and_alerts_tables_matching_the_models(store_url: str) -> None:
    s = Store(store_url)
    try:
        s.migrate()
        assert s.revision() == "0005"  # the head
        with s.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        s.close()


def test_alert_state_round_trips_and_a_replayed_write_changes_nothing(store: Store) -> None:
    st = state()
    assert save_alerting(store, [to_record(st)], [message("m1")]) == 1
    assert save_alerting(store, [to_record(st)], [message("m1")]) == 0  # the writer retried: no duplicate
    [rec] = active_alerts(store)
    back = from_record(rec)
    assert back == st
    assert back.alert.site_name == "공설시장"
    # Resolved: no longer active, listed as history.
    save_alerting(store, [to_record(st, resolved_at=T0 + 100)])
    assert active_alerts(store) == []
    assert [(a.key, a.status, a.resolved_at) for a in list_alerts(store, since=T0)] == [
        ("site_down:market", "resolved", T0 + 100)]
    # The same key fires again: a new instance.
    save_alerting(store, [to_record(state(opened=T0 + 200))])
    assert [a.opened_at for a in active_alerts(store)] == [T0 + 200]


def test_the_database_refuses_two_active_instances_of_one_key(store: Store) -> None:
    save_alerting(store, [to_record(state(opened=T0))])
    with pytest.raises(Exception) as exc:
        save_alerting(store, [to_record(state(opened=T0 + 1))])
    assert isinstance(exc.value.__cause__, IntegrityError) or "uq_alerts_active" in str(exc.value) or \
        "UNIQUE" in str(exc.value).upper()


def test_ack_by_key_or_site_and_the_site_outage_is_acknowledged_too(store: Store) -> None:
    run = store.start_run(T0 - 100)
    store.record_transitions([Transition(Scope.SITE, "market", "market", "up", "down", T0 - 30, Reason.TIMEOUT)], run)
    save_alerting(store, [to_record(state()), to_record(state("ap_silent:park-ap1", site="park"))])
    assert acknowledge_alerts(store, "nothing-like-it", "kim", "", T0 + 5) == []
    acked = acknowledge_alerts(store, "market", "kim", "현장 출동", T0 + 10, until=T0 + 7200)
    assert [a.key for a in acked] == ["site_down:market"]
    rec = {a.key: a for a in active_alerts(store)}["site_down:market"]
    assert (rec.acked_by, rec.acked_at, rec.ack_until, rec.ack_comment) == ("kim", T0 + 10, T0 + 7200, "현장 출동")
    [outage] = store.open_outages()
    assert (outage.acknowledged_by, outage.ack_comment) == ("kim", "현장 출동")
    # The service writing the alert again does not touch the ack ...
    save_alerting(store, [to_record(state())])
    assert {a.key: a for a in active_alerts(store)}["site_down:market"].acked_by == "kim"
    # ... a voided ack is cleared only if it is still the same ack.
    save_alerting(store, [], voided_acks=[("site_down:market", T0 + 9)])
    assert {a.key: a for a in active_alerts(store)}["site_down:market"].acked_by == "kim"
    save_alerting(store, [], voided_acks=[("site_down:market", T0 + 10)])
    assert {a.key: a for a in active_alerts(store)}["site_down:market"].acked_by is None
    with pytest.raises(ValueError, match="future"):
        acknowledge_alerts(store, "market", "kim", "", T0 + 10, until=T0)


def test_outbox_order_attempts_delivery_and_pruning(store: Store) -> None:
    save_alerting(store, [], [message("a1", at=T0), message("b1", key="site_down:park", at=T0), message("a2", at=T0 + 1)])
    assert [m.message_id for m in pending_outbox(store)] == ["a1", "b1", "a2"]
    assert outbox_depth(store) == 3
    outbox_failed(store, "a1", "channel hook (http://127.0.0.1:1/hook): HTTP 500", T0 + 30)
    outbox_failed(store, "a1", "channel hook (http://127.0.0.1:1/hook): HTTP 502", T0 + 90)
    a1 = pending_outbox(store)[0]
    assert (a1.attempts, a1.next_attempt_at, a1.last_error) == (2, T0 + 90, "channel hook (http://127.0.0.1:1/hook): HTTP 502")
    assert outbox_delivered(store, ["a1", "b1"], T0 + 100) == 2
    assert outbox_delivered(store, ["a1"], T0 + 200) == 0  # the first delivery time stays
    assert [m.message_id for m in pending_outbox(store)] == ["a2"]
    assert [(m.message_id, m.delivered_at) for m in outbox_messages(store, "site_down:market")] == [
        ("a1", T0 + 100), ("a2", None)]
    assert prune_outbox(store, T0 + 150) == 2
    assert [m.message_id for m in outbox_messages(store)] == ["a2"]  # undelivered is never pruned


async def test_outbox_delivery_through_a_channel_returning_500_then_200_arrives_once_per_key(tmp_path: Path) -> None:
    """A webhook answering 500 for a while, then 200: every message is delivered exactly once per
    idempotency key (counting the 200s), and each alert's messages arrive in order (firing before resolved).
    (The issue says 'for a minute'; a few seconds exercise the same backoff path without a minute's wait.)"""
    st = Store(f"sqlite:///{tmp_path}/w.db")
    st.migrate()
    writer = StoreWriter(st)
    failing_until = time.time() + 3.0
    rx = Receiver(respond=lambda r: (500, b"down for maintenance") if time.time() < failing_until else (200, b"{}"))
    settings = AlertingSettings.model_validate({
        "channels": {"hook": {"type": "webhook", "url": f"{rx.url}/hook", "timeout": 2}},
        # The alerts are decided at T0, long ago by the wall clock: far from the give-up age all the same.
        "delivery": {"backoff": 0.2, "max_backoff": 1.0, "concurrency": 4, "give_up_after": 1e10}})
    results: Counter[tuple[str, str]] = Counter()
    delivery = Delivery(st, build_channels(settings, tmp_path), settings.delivery, writer=writer,
                        on_result=lambda c, r: results.update([(c, r)]))
    sites = [make_site(f"s{i}", 2) for i in range(8)]
    current = [snapshot(*(site_view(s, SiteStatus.DOWN, T0 - 20, reason=Reason.TIMEOUT) for s in sites))]
    alerter = Alerter(settings, st, writer, delivery, lambda: current[0], ZoneInfo("Asia/Seoul"))
    stop = asyncio.Event()
    task = asyncio.create_task(delivery.run(stop))
    try:
        assert len(alerter.evaluate(T0).notifications) == 8
        current[0] = snapshot(*(site_view(s, SiteStatus.UP, T0 + 50) for s in sites))
        assert len(alerter.evaluate(T0 + 60).notifications) == 8
        deadline = time.monotonic() + 30
        while await asyncio.to_thread(outbox_depth, st) or len(rx.received()) < 16:
            assert time.monotonic() < deadline, f"outbox not drained: {await asyncio.to_thread(outbox_depth, st)} left"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await delivery.aclose()
        writer.close(5)
        rx.close()
    failed = rx.received(status=500)
    ok = rx.received(status=200)
    assert failed, "the channel never failed: the test did not test the retry path"
    assert results[("hook", "failed")] == len(failed) and results[("hook", "delivered")] == 16
    per_key = Counter(r.headers["idempotency-key"] for r in ok)
    assert len(per_key) == 16 and set(per_key.values()) == {1}
    stored = {m.message_id: m for m in outbox_messages(st)}
    assert set(per_key) == set(stored) and all(m.delivered_at for m in stored.values())
    assert any(m.attempts > 0 for m in stored.values())
    order: dict[str, list[str]] = {}
    for r in ok:
        order.setdefault(r.json()["alert"]["key"], []).append(r.json()["kind"])
    assert order == {f"site_down:s{i}": ["firing", "resolved"] for i in range(8)}


async def test_store_failure_alert_is_sent_directly_when_the_outbox_cannot_be_written(tmp_path: Path) -> None:
    """The outbox lives in the store; when the store fails, its own alert cannot wait for it. (Every message is
    handed to delivery as it is decided now, so the delivery loop runs here: it sends from memory.)"""
    broken = Store(f"sqlite:///{tmp_path}/no-such-dir/w.db", timeout=0.5)  # every write fails: StoreError
    writer = StoreWriter(broken, backoff=0.05, max_backoff=0.1)
    rx = Receiver()
    settings = AlertingSettings.model_validate({
        "channels": {"hook": {"type": "webhook", "url": f"{rx.url}/hook", "timeout": 2}},
        "thresholds": {"store_failing_after": 0}})
    delivery = Delivery(broken, build_channels(settings, tmp_path), settings.delivery, writer=writer)
    alerter = Alerter(settings, broken, writer, delivery, lambda: snapshot(), ZoneInfo("Asia/Seoul"))
    stop = asyncio.Event()
    task = asyncio.create_task(delivery.run(stop))
    try:
        assert alerter.evaluate().notifications == []
        writer.submit(broken.heartbeat, 1, time.time())  # a write that keeps failing, as the service's would
        deadline = time.monotonic() + 10
        while writer.failures == 0:
            assert time.monotonic() < deadline, "the broken store never failed a write"
            await asyncio.sleep(0.02)
        result = alerter.evaluate()
        assert [(n.kind, n.alert.key) for n in result.notifications] == [("firing", "service_store:store")]
        while not rx.received():
            assert time.monotonic() < deadline, "the store alert was not sent directly"
            await asyncio.sleep(0.02)
        [req] = rx.received()
        assert req.json()["alert"]["severity"] == "critical" and "저장소" in req.json()["title"]
        assert "no-such-dir" in req.json()["text"]  # which store
    finally:
        stop.set()
        await task
        writer.close(1)
        await delivery.aclose()
        rx.close()


def test_a_restored_alert_waits_while_its_site_is_unknown_then_one_resolve(tmp_path: Path) -> None:
    """A restart: the alerter restores a firing site-down alert; the first probe round ends before the site's
    slow AP is judged (it is 'unknown'): the alert is kept, not resolved. Once the AP is confirmed down it is
    the same alert (no second firing); once it is up, one resolve. (Seen in bench/chaos.py store-locked: a
    resolve and a new firing for 3 of 10 sites down across a restart.)"""
    st = Store(f"sqlite:///{tmp_path}/w.db")
    st.migrate()
    writer = StoreWriter(st)
    settings = AlertingSettings.model_validate({"channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:1/h"}}})
    delivery = Delivery(st, build_channels(settings, tmp_path), settings.delivery, writer=writer)
    site = make_site("s1", 1)
    down = snapshot(site_view(site, SiteStatus.DOWN, T0 - 20, reason=Reason.TIMEOUT))
    current = [down]
    try:
        first = Alerter(settings, st, writer, delivery, lambda: current[0], ZoneInfo("Asia/Seoul"))
        assert [(n.kind, n.alert.key) for n in first.evaluate(T0).notifications] == [("firing", "site_down:s1")]
        writer.submit(lambda: None).result(timeout=10)  # the alert state is in the store
        restarted = Alerter(settings, st, writer, delivery, lambda: current[0], ZoneInfo("Asia/Seoul"))
        restarted.restore()
        current[0] = snapshot(site_view(site, SiteStatus.UNKNOWN, T0 + 60, ap_status={"s1-ap1": ApStatus.UNKNOWN}))
        assert restarted.evaluate(T0 + 61).notifications == [] and "site_down:s1" in restarted.states
        current[0] = down
        assert restarted.evaluate(T0 + 70).notifications == []
        current[0] = snapshot(site_view(site, SiteStatus.UP, T0 + 80))
        assert [(n.kind, n.alert.key) for n in restarted.evaluate(T0 + 81).notifications] == [
            ("resolved", "site_down:s1")]
    finally:
        writer.close(5)
        st.close()
