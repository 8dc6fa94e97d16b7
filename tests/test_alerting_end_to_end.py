"""Alerting end to end: the simulator and `wifimon run` as real processes, a webhook receiver on loopback.

- one site down → exactly one critical alert within the confirmation window plus a few seconds; an ack over
  HTTP reaches the running service; the site back → one resolve;
- fifty sites down at once → fifty alerts, one per site, no per-AP storm;
- the outbox across SIGKILL: the channel down when the alert is decided, the service killed, the channel
  back, the service restarted → the pending message is delivered, with the idempotency key it was written with.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from monitor.store import Store, outbox_messages
from monitor.cli.simulate import send_fault
from tests.alerting_helpers import Receiver
from tests.faults import fill_beside, own_postgres, postgres_cluster_unavailable, small_tmpfs, tmpfs_unavailable
from tests.e2e import Monitor, free_block, free_port, sample, simulator, small_city, wait_until

pytestmark = pytest.mark.e2e

PROBE, RECHECK, CONFIRM, TIMEOUT = 2.0, 1.0, 3, 0.5
# Worst case from the fault to a confirmed down: a probe interval, then CONFIRM failed probes RECHECK apart.
CONFIRMATION_WINDOW = PROBE + (CONFIRM - 1) * RECHECK + CONFIRM * TIMEOUT
SLACK = 5.0  # publishing (0.5 s), evaluation (1 s), the outbox write and the POST, with room for a busy CI


def fleet(tmp: Path, hook: str, sites: int = 50, token: str = "e2e-t0ken") -> Path:
    """``sites`` sites, every fifth with two APs (60 APs for 50 sites), on their own 127.x block."""
    octet = free_block()
    (tmp / "community.secret").write_text("e2e-community\n")
    (tmp / "api.token").write_text(token + "\n")
    lines = [f"""\
service:
  listen: 127.0.0.1:{free_port()}
  store_url: sqlite:///{tmp}/wifimon.db
  probe_interval: {PROBE}
  metrics_interval: 30
  recheck_interval: {RECHECK}
  confirm_failures: {CONFIRM}
  # Rounds spread over 1 s + a 0.5 s timeout stay inside the 2 s interval even with every AP down; the
  # default 0.8 would overrun (1.6 s + 0.5 s) and rightly raise a service_overrun alert, which is not
  # what this test is about (and which it would then count as a storm).
  spread: 0.5
  snmp: {{timeout: {TIMEOUT}, retries: 0}}
credentials:
  sim: {{version: "2c", community: {{file: community.secret}}}}
alerting:
  api_token: {{file: api.token}}
  ack_poll_interval: 1
  channels:
    hook: {{type: webhook, url: "{hook}/hook", timeout: 5}}
  delivery: {{backoff: 0.5, max_backoff: 2}}
sites:
"""]
    for s in range(1, sites + 1):
        aps = 2 if s % 5 == 0 else 1
        lines.append(f"  - {{id: s{s:02d}, name: 정류장{s:02d}, category: bus_stop, address: 군산시 {s}번길, aps: [")
        lines.append(", ".join(f'{{id: s{s:02d}-ap{a}, address: "127.{octet}.{s}.{a}:1161", credentials: sim,'
                               f' profile: generic}}' for a in range(1, aps + 1)) + "]}\n")
    path = tmp / "wifimon.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def kinds(rx: Receiver, key: str | None = None) -> Counter[tuple[str, str]]:
    return Counter((r.json()["kind"], r.json()["alert"]["key"]) for r in rx.received()
                   if key is None or r.json()["alert"]["key"] == key)


def test_one_alert_per_site_down_ack_resolve_and_no_storm_for_fifty_sites(tmp_path):
    rx = Receiver()
    config = fleet(tmp_path, rx.url)
    sites = [f"s{s:02d}" for s in range(1, 51)]
    try:
        with simulator(config, tmp_path) as control:
            mon = Monitor(config, tmp_path).start()
            try:
                wait_until("all 50 sites up", lambda: sum(
                    sample(text, "wifi_site_up", site=s) == 1.0 for text in [mon.metrics()] for s in sites) == 50, 60)
                assert rx.received() == []

                # One site down: one critical alert, in time.
                t0 = time.monotonic()
                send_fault("s07=down", control=control)
                wait_until("the s07 alert", lambda: rx.received(), CONFIRMATION_WINDOW + SLACK + 10)
                took = time.monotonic() - t0
                [first] = rx.received()
                doc = first.json()
                assert (doc["kind"], doc["alert"]["key"], doc["alert"]["severity"]) == (
                    "firing", "site_down:s07", "critical")
                assert doc["title"] == "[장애] 정류장07 (s07) 사이트 장애" and "군산시 7번길" in doc["text"]
                assert took <= CONFIRMATION_WINDOW + SLACK, f"alert after {took:.1f} s"

                # Acknowledged over HTTP: the running service hears of it and says so.
                api = mon.url.replace("/metrics", "/api/ack")
                r = httpx.post(api, json={"target": "s07", "comment": "출동", "by": "kim"},
                               headers={"Authorization": "Bearer e2e-t0ken"}, timeout=5)
                assert r.status_code == 200 and r.json() == {"acknowledged": ["site_down:s07"]}
                wait_until("the acknowledgement message", lambda: kinds(rx)[("acknowledged", "site_down:s07")], 15)

                send_fault("s07=up", control=control)
                wait_until("the s07 resolve", lambda: kinds(rx)[("resolved", "site_down:s07")], 20)
                assert kinds(rx) == Counter({("firing", "site_down:s07"): 1, ("acknowledged", "site_down:s07"): 1,
                                             ("resolved", "site_down:s07"): 1})

                # Fifty sites down at once: fifty alerts, one per site.
                t0 = time.monotonic()
                for s in sites:
                    send_fault(f"{s}=down", control=control)
                wait_until("50 site alerts", lambda: sum(
                    kinds(rx)[("firing", f"site_down:{s}")] for s in sites) >= 51, 60)
                took = time.monotonic() - t0
                for s in sites:
                    send_fault(f"{s}=up", control=control)
                wait_until("50 resolves", lambda: sum(
                    kinds(rx)[("resolved", f"site_down:{s}")] for s in sites) >= 51, 60)
                got = kinds(rx)
                expected = Counter({("firing", f"site_down:{s}"): 1 for s in sites})
                expected += Counter({("resolved", f"site_down:{s}"): 1 for s in sites})
                expected += Counter({("firing", "site_down:s07"): 1, ("acknowledged", "site_down:s07"): 1,
                                     ("resolved", "site_down:s07"): 1})
                assert got == expected, "only site alerts, one fire and one resolve each: no per-AP storm"
                assert len({r.headers["idempotency-key"] for r in rx.received()}) == len(rx.received())
                print(f"50 sites down: all 50 alerts within {took:.1f} s")
            finally:
                mon.stop()
    finally:
        rx.close()


def test_outbox_survives_sigkill_while_the_channel_is_down(tmp_path):
    down = [True]
    rx = Receiver(respond=lambda r: (503, b"channel down") if down[0] else (200, b"{}"))
    config = small_city(tmp_path, probe=PROBE, recheck=RECHECK)
    config.write_text(config.read_text() + f"""\
alerting:
  channels:
    hook: {{type: webhook, url: "{rx.url}/hook", timeout: 2}}
  delivery: {{backoff: 0.5, max_backoff: 2}}
""", encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")
    try:
        with simulator(config, tmp_path) as control:
            mon = Monitor(config, tmp_path).start()
            try:
                wait_until("market up", lambda: sample(mon.metrics(), "wifi_site_up", site="market") == 1.0, 30)
                send_fault("market=down", control=control)

                def pending_and_tried():
                    return [m for m in outbox_messages(store, "site_down:market")
                            if m.delivered_at is None and m.attempts >= 1]

                [pending] = wait_until("the firing message written and tried", pending_and_tried, 30)
                assert not rx.received(status=200)
                mon.stop(kill=True)  # SIGKILL: no clean shutdown, nothing flushed
                assert mon.proc is not None and mon.proc.returncode == -9

                down[0] = False
                mon.start()
                def delivered_firing():
                    return [r for r in rx.received() if r.json()["alert"]["key"] == "site_down:market"]

                wait_until("the pending message delivered after the restart", delivered_firing, 30)
                [delivered] = delivered_firing()
                assert delivered.headers["idempotency-key"] == pending.message_id
                assert delivered.json()["kind"] == "firing" and delivered.json()["alert"]["key"] == "site_down:market"
                wait_until("marked delivered in the store", lambda: all(
                    m.delivered_at for m in outbox_messages(store, "site_down:market")), 15)

                send_fault("market=up", control=control)
                wait_until("the resolve", lambda: kinds(rx)[("resolved", "site_down:market")], 30)
                # The restarted service resumed the alert instead of firing it again. (Only this alert's
                # messages are counted: a service_overrun alert may come too, see fleet().)
                assert kinds(rx, "site_down:market") == Counter({("firing", "site_down:market"): 1, ("resolved", "site_down:market"): 1})
            finally:
                mon.stop()
    finally:
        rx.close()
        store.close()


def pages_while_the_store_is_cut(tmp: Path, cut: Callable[[], object], mend: Callable[[], object], *,
                                 store_url: str | None = None, state_dir: Path | None = None,
                                 kill: bool = True) -> None:
    """The store cut (``cut``) while two sites go down: their pages are sent within the confirmation window
    all the same; /readyz says not ready; the store-health alert fires; one site comes back and its resolve is
    sent, the store still cut. With ``kill`` the service is SIGKILLed while the store is still cut and
    restarted once it is mended (``mend``): the restarted service writes what its journal kept, the other
    site stays down without a second page. The store-health alert resolves once, the other site's resolve
    comes once: exactly one firing and one resolve per key, both outages in the store, no other."""
    rx = Receiver()
    config = small_city(tmp, probe=PROBE, recheck=RECHECK)
    text = config.read_text() + f"""\
alerting:
  channels:
    hook: {{type: webhook, url: "{rx.url}/hook", timeout: 2}}
  thresholds: {{store_failing_after: 3}}
"""
    service = "  spread: 0.5\n" + (f'  state_dir: "{state_dir}"\n' if state_dir else "")
    text = text.replace("  snmp: {timeout: 0.5, retries: 0}\n", "  snmp: {timeout: 0.5, retries: 0}\n" + service, 1)
    store_url = store_url or f"sqlite:///{tmp}/wifimon.db"
    config.write_text(text.replace(f"sqlite:///{tmp}/wifimon.db", store_url), encoding="utf-8")
    try:
        with simulator(config, tmp) as control:
            mon = Monitor(config, tmp).start()
            try:
                ready = mon.url.replace("/metrics", "/readyz")
                wait_until("ready", lambda: httpx.get(ready, timeout=5).status_code == 200, 30)
                cut()
                send_fault("market=down", control=control)
                send_fault("park=down", control=control)
                faulted = time.monotonic()
                wait_until("the site-down pages", lambda: kinds(rx)[("firing", "site_down:market")]
                           and kinds(rx)[("firing", "site_down:park")], CONFIRMATION_WINDOW + SLACK)
                assert time.monotonic() - faulted < CONFIRMATION_WINDOW + SLACK
                not_ready = wait_until("/readyz not ready", lambda: (r := httpx.get(ready, timeout=10)).status_code
                                       == 503 and r.text, 30)
                assert "store writes failing" in not_ready
                wait_until("the store-health page", lambda: kinds(rx)[("firing", "service_store:store")], 30)
                send_fault("park=up", control=control)
                wait_until("park's resolve, the store still cut", lambda: kinds(rx)[("resolved", "site_down:park")],
                           30)
                assert httpx.get(ready, timeout=10).status_code == 503
                if kill:
                    mon.stop(kill=True)
                    assert mon.proc is not None and mon.proc.returncode == -9
                mend()
                if kill:
                    mon.start()
                wait_until("the store-health resolve", lambda: kinds(rx)[("resolved", "service_store:store")], 30)
                wait_until("ready again", lambda: httpx.get(ready, timeout=5).status_code == 200, 30)
                # The (restarted) service knows market is down and judges it for a few rounds: no second page.
                wait_until("market down", lambda: sample(mon.metrics(), "wifi_site_up", site="market") == 0.0, 30)
                rounds = sample(mon.metrics(), "wifimon_rounds_total", round="probe") or 0.0
                wait_until("two more probe rounds", lambda: (sample(mon.metrics(), "wifimon_rounds_total",
                                                                    round="probe") or 0.0) >= rounds + 2, 30)
                assert kinds(rx)[("firing", "site_down:market")] == 1
                send_fault("market=up", control=control)
                wait_until("the resolve", lambda: kinds(rx)[("resolved", "site_down:market")], 30)
                mon.stop()
                assert mon.proc is not None and mon.proc.returncode == 0
            finally:
                mon.stop()
        store = Store(store_url)
        try:
            outages = [o for o in store.outages(0, 4e9) if o.scope == "site"]
        finally:
            store.close()
    finally:
        rx.close()
    for site in ("market", "park"):
        assert kinds(rx, f"site_down:{site}") == Counter({("firing", f"site_down:{site}"): 1,
                                                          ("resolved", f"site_down:{site}"): 1})
    assert kinds(rx, "service_store:store") == Counter({("firing", "service_store:store"): 1,
                                                        ("resolved", "service_store:store"): 1})
    # Each outage recorded and closed, no false down. A restart splits market's: the killed run's part ends
    # where its watching ended (its last heartbeat, journaled while the store was cut), the gap is unknown.
    rows = {site: [o for o in outages if o.entity == site] for site in ("market", "park")}
    assert {o.entity for o in outages} == set(rows) and all(o.ended_at is not None for o in outages)
    assert len(rows["park"]) == 1 and len(rows["market"]) == (2 if kill else 1)
    assert rows["market"][0].ended_at > rows["market"][0].started_at  # type: ignore[operator]
    log = (tmp / f"wifimon-{mon.runs}.log").read_text()
    assert "Traceback" not in log and (not kill or "store_journal_replayed" in log)


def test_pages_do_not_wait_for_a_store_that_cannot_be_written_even_across_sigkill(tmp_path):
    """Another process holds SQLite's write lock (writes fail; reads still work)."""
    import sqlite3

    lock = sqlite3.connect(tmp_path / "wifimon.db", isolation_level=None, timeout=10)
    try:
        pages_while_the_store_is_cut(tmp_path, lambda: lock.execute("BEGIN EXCLUSIVE"),
                                     lambda: lock.execute("COMMIT"))
    finally:
        lock.close()


def test_pages_do_not_wait_for_a_stopped_postgresql_even_across_sigkill(tmp_path):
    """The store in a PostgreSQL cluster of the test's own, stopped (pg_ctl -m fast) and started again."""
    if reason := postgres_cluster_unavailable():
        pytest.skip(reason)
    with own_postgres() as pg:
        # For a server database the journal is in service.state_dir.
        journal = Store(pg.url).journal_path(tmp_path / "state")
        assert journal is not None
        pages_while_the_store_is_cut(tmp_path, pg.stop, pg.start, store_url=pg.url, state_dir=tmp_path / "state")
        assert journal.read_bytes() == b"", "everything journaled was written"


def test_pages_do_not_wait_for_a_full_disk(tmp_path):
    """The SQLite store on a small tmpfs, filled until ENOSPC, then freed. (No SIGKILL: the store writer's
    journal lives beside the database, on the same full disk: a crash in that state loses what it holds.)"""
    if reason := tmpfs_unavailable():
        pytest.skip(reason)
    with small_tmpfs(16) as disk:
        assert disk is not None
        filler: list[Path] = []
        pages_while_the_store_is_cut(tmp_path, lambda: filler.append(fill_beside(disk / "wifimon.db")),
                                     lambda: filler.pop().unlink(), store_url=f"sqlite:///{disk}/wifimon.db",
                                     kill=False)
