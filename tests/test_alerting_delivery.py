"""Delivery under trouble, against real HTTP peers and a real SQLite store: a dead channel beside a live one,
a channel that heals, a channel removed from the config, a store that cannot be written."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.alerting import payload
from monitor.alerting.alerter import Alerter
from monitor.alerting.channels import build_channels
from monitor.alerting.delivery import Delivery
from monitor.alerting.model import Alert, Notification, Rule
from monitor.alerting.settings import AlertingSettings
from monitor.domain.vocabulary import Reason, SiteStatus
from monitor.exposition.snapshot import Snapshot
from monitor.store import (
    OutboxMessage,
    Store,
    active_alerts,
    outbox_depth,
    outbox_messages,
    save_alerting,
    undelivered_messages,
)
from monitor.store.writer import StoreWriter
from tests.alerting_helpers import Receiver, make_site, site_view, snapshot, until
from tests.ports import free_port

TZ = ZoneInfo("Asia/Seoul")


class Rig:
    """A store, its writer, delivery running, and an alerter over a snapshot the test sets."""

    def __init__(self, store: Store, settings: AlertingSettings, tmp_path: Path, writer_backoff: float = 0.5):
        self.store = store
        self.writer = StoreWriter(store, backoff=writer_backoff, max_backoff=writer_backoff)
        self.results: Counter[tuple[str, str]] = Counter()
        self.delivery = Delivery(store, build_channels(settings, tmp_path), settings.delivery, writer=self.writer,
                                 on_result=lambda c, r: self.results.update([(c, r)]))
        self.current: list[Snapshot] = [snapshot(at=time.time())]
        self.alerter = Alerter(settings, store, self.writer, self.delivery, lambda: self.current[0], TZ)

    def down(self, sites: list[Any], now: float) -> None:
        self.current[0] = snapshot(*(site_view(s, SiteStatus.DOWN, now - 20, reason=Reason.TIMEOUT) for s in sites),
                                   at=now)

    def up(self, sites: list[Any], now: float) -> None:
        self.current[0] = snapshot(*(site_view(s, SiteStatus.UP, now) for s in sites), at=now)


@asynccontextmanager
async def running(store: Store, settings: AlertingSettings, tmp_path: Path, **kw: Any) -> AsyncIterator[Rig]:
    rig = Rig(store, settings, tmp_path, **kw)
    stop = asyncio.Event()
    task = asyncio.create_task(rig.delivery.run(stop))
    try:
        yield rig
    finally:
        stop.set()
        await task
        await rig.delivery.aclose()
        rig.writer.close(5)


def _store(tmp_path: Path, timeout: float = 5.0) -> Store:
    st = Store(f"sqlite:///{tmp_path}/w.db", timeout=timeout)
    st.migrate()
    return st


def _old(mid: str, channel: str, key: str, at: float) -> OutboxMessage:
    """A firing message queued earlier (by an earlier run)."""
    alert = Alert(key=key, rule=Rule.SITE_DOWN, severity="critical", since=at - 30, site=key.partition(":")[2])
    n = Notification("firing", alert, (channel,), at, at, 1)
    return OutboxMessage(message_id=mid, alert_key=key, channel=channel, kind="firing",
                         payload=payload.build(n, mid, "ko", TZ), created_at=at)


async def test_a_dead_channel_delays_nothing_of_a_live_one_and_its_messages_are_given_up(tmp_path: Path) -> None:
    """The acceptance check's case, small: `delivery: {batch: 10}`, a backlog of the dead channel older than
    everything (it used to fill every read of the outbox), then 30 sites down. The live channel gets all 30 at
    once; the dead channel's messages are given up after ``give_up_after``, and the other channel hears of it."""
    live = Receiver()
    dead_url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there: every attempt is refused
    settings = AlertingSettings.model_validate({
        "channels": {"dead": {"type": "webhook", "url": dead_url, "timeout": 2},
                     "live": {"type": "webhook", "url": f"{live.url}/hook", "timeout": 2}},
        "delivery": {"batch": 10, "backoff": 0.2, "max_backoff": 1.0, "give_up_after": 6}})
    st = _store(tmp_path)
    now = time.time()
    save_alerting(st, [], [_old(f"old{i}", "dead", f"site_down:old{i}", now - 1) for i in range(12)])
    sites = [make_site(f"s{i}", 1) for i in range(30)]
    try:
        async with running(st, settings, tmp_path) as rig:
            rig.down(sites, now)
            started = time.monotonic()
            assert len(rig.alerter.evaluate(now).notifications) == 30
            pages = await until("30 pages on the live channel", lambda: len(live.received()) >= 30 and live.received(),
                                timeout=10)
            took = time.monotonic() - started
            assert {r.json()["alert"]["key"] for r in pages} == {f"site_down:s{i}" for i in range(30)}
            assert took < 5, f"the live channel waited {took:.1f} s behind the dead one"
            # The dead channel's messages: tried, failing, then given up; none stays pending for ever.
            await until("the dead channel's messages given up", lambda: outbox_depth(st) == 0, timeout=20)
            assert rig.results[("dead", "delivered")] == 0 and rig.results[("dead", "failed")] > 0
            assert rig.results[("dead", "given_up")] == 42 and rig.results[("live", "delivered")] == 30
            rows = undelivered_messages(st)
            assert len(rows) == 42 and {m.channel for m in rows} == {"dead"}
            assert all(m.given_up_at is not None for m in rows)
            assert all("undelivered for 6 s" in (m.last_error or "") and "ConnectError" in (m.last_error or "")
                       for m in rows)
            # ... and the live channel is told, once.
            rig.alerter.evaluate()
            told = await until("the given-up alert on the live channel", lambda: [
                r for r in live.received() if r.json()["alert"]["rule"] == "service_undelivered"], timeout=10)
            assert len(told) == 1 and "dead" in told[0].json()["text"] and "42" in told[0].json()["text"]
            rig.alerter.evaluate()
            await asyncio.sleep(0.3)
            assert len([r for r in live.received() if r.json()["alert"]["rule"] == "service_undelivered"]) == 1
    finally:
        live.close()


async def test_a_channel_that_heals_drains_its_queue_at_once_in_order_per_alert(tmp_path: Path) -> None:
    """A webhook answering 500 for 3 s while 10 sites go down and come back: once it answers 200 the 20 queued
    messages go within a second of the first success (not each after its own backoff), firing before
    resolved for every alert, each exactly once."""
    healed_at: list[float] = []
    rx = Receiver(respond=lambda r: (200, b"{}") if healed_at else (500, b"down"))
    settings = AlertingSettings.model_validate({
        "channels": {"hook": {"type": "webhook", "url": f"{rx.url}/hook", "timeout": 2}},
        "delivery": {"backoff": 0.5, "max_backoff": 60}})
    st = _store(tmp_path)
    sites = [make_site(f"s{i}", 1) for i in range(10)]
    try:
        async with running(st, settings, tmp_path) as rig:
            now = time.time()
            rig.down(sites, now)
            assert len(rig.alerter.evaluate(now).notifications) == 10
            await until("the channel failing", lambda: rig.delivery.channel_health(), timeout=5)
            rig.up(sites, now + 1)
            assert len(rig.alerter.evaluate(now + 1).notifications) == 10
            await asyncio.sleep(3)  # a few failed attempts each: their own backoffs grow to seconds
            healed_at.append(time.time())
            ok = await until("20 deliveries", lambda: len(rx.received()) >= 20 and rx.received(), timeout=30)
            assert ok[-1].at - ok[0].at < 1.0, f"the queue drained over {ok[-1].at - ok[0].at:.1f} s"
            assert rig.delivery.channel_health() == {}
    finally:
        rx.close()
    assert rx.received(status=500), "the channel never failed: the test did not test healing"
    per_key: dict[str, list[str]] = {}
    for r in ok:
        per_key.setdefault(r.json()["alert"]["key"], []).append(r.json()["kind"])
    assert per_key == {f"site_down:s{i}": ["firing", "resolved"] for i in range(10)}
    assert len({r.headers["idempotency-key"] for r in ok}) == 20


async def test_messages_of_a_channel_removed_from_the_config_are_given_up_not_kept(tmp_path: Path) -> None:
    rx = Receiver()
    settings = AlertingSettings.model_validate({
        "channels": {"hook": {"type": "webhook", "url": f"{rx.url}/hook", "timeout": 2}}})
    st = _store(tmp_path)
    now = time.time()
    save_alerting(st, [], [_old("g1", "gone", "site_down:a", now), _old("g2", "gone", "site_down:b", now),
                           _old("h1", "hook", "site_down:a", now)])
    try:
        async with running(st, settings, tmp_path) as rig:
            await until("the removed channel's rows marked", lambda: outbox_depth(st) == 0, timeout=10)
            assert rig.results[("gone", "given_up")] == 2 and rig.results[("hook", "delivered")] == 1
    finally:
        rx.close()
    gone = {m.message_id: m for m in undelivered_messages(st)}
    assert set(gone) == {"g1", "g2"}
    assert all(m.last_error == "channel removed from the config" and m.given_up_at for m in gone.values())


async def test_a_page_goes_out_while_the_store_cannot_be_written_and_is_recorded_once_after(tmp_path: Path) -> None:
    """Another connection holds SQLite's write lock (as a full disk or a stopped PostgreSQL would refuse
    writes): the site-down page is sent at once all the same; when the lock goes, the alert and its message
    are written once, and marked delivered."""
    rx = Receiver()
    settings = AlertingSettings.model_validate({
        "channels": {"hook": {"type": "webhook", "url": f"{rx.url}/hook", "timeout": 2}}})
    st = _store(tmp_path, timeout=0.3)
    lock = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:
        async with running(st, settings, tmp_path, writer_backoff=0.2) as rig:
            await until("the start-up write done", lambda: rig.writer.depth == 0, timeout=5)
            lock.execute("BEGIN EXCLUSIVE")
            now = time.time()
            site = make_site("market", 2)
            rig.down([site], now)
            started = time.monotonic()
            assert [n.kind for n in rig.alerter.evaluate(now).notifications] == ["firing"]
            [page] = await until("the page", rx.received, timeout=5)
            assert time.monotonic() - started < 2 and page.json()["alert"]["key"] == "site_down:market"
            await until("the write failing", lambda: rig.writer.failures > 0, timeout=5)
            assert active_alerts(st) == [] and outbox_messages(st) == []  # nothing written yet
            lock.execute("COMMIT")
            await until("the alert recorded", lambda: active_alerts(st), timeout=10)
            await until("its message marked delivered", lambda: [m for m in outbox_messages(st) if m.delivered_at],
                        timeout=10)
            rig.alerter.evaluate()
            await asyncio.sleep(0.5)
    finally:
        lock.close()
        rx.close()
    [stored] = outbox_messages(st)
    assert stored.message_id == page.headers["idempotency-key"] and len(rx.received()) == 1
