"""End to end: the simulator and `wifimon run` as real processes; a site taken down through the fault
control is reported down within the confirmation window, its outage is in the store, it closes when the
site comes back; a monitor killed during an outage ends it at its last heartbeat and, restarted, opens the
next one from its own evidence."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from monitor.store import Store
from monitor.cli.simulate import send_fault
from tests.e2e import Monitor, duplicate_series, sample, simulator, small_city, wait_until

pytestmark = pytest.mark.e2e


def site_up(mon: Monitor, site: str) -> float | None:
    return sample(mon.metrics(), "wifi_site_up", site=site)


def test_site_down_detected_stored_and_closed_across_a_restart(tmp_path):
    config = small_city(tmp_path)
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")
    with simulator(config, tmp_path) as control:
        mon = Monitor(config, tmp_path).start()
        try:
            # Every AP up, clients and traffic read, the auto profile identified.
            wait_until("all 5 APs up", lambda: sum(
                sample(mon.metrics(), "wifi_ap_up", ap=a) == 1.0
                for a in ("market-ap1", "market-ap2", "park-ap1", "stop-ap1", "ferry-ap1")) == 5, 30)
            def polled() -> str | None:
                text = mon.metrics()
                return text if sample(text, "wifi_ap_receive_bytes_total", ap="market-ap1") is not None else None

            m = wait_until("a full poll of market-ap1", polled, 30)
            assert sample(m, "wifi_ap_clients", ap="market-ap1", level="vap") is not None
            assert sample(m, "wifi_ap_uptime_seconds", ap="park-ap1") > 0
            assert sample(m, "wifi_site_up", site="ferry") == 1.0
            promtool = shutil.which("promtool")
            if promtool:  # the live exposition, not a hand-made one, must satisfy Prometheus' linter
                lint = subprocess.run([promtool, "check", "metrics"], input=m, capture_output=True, text=True,
                                      timeout=30)
                assert lint.returncode == 0 and not (lint.stdout + lint.stderr).strip(), lint.stdout + lint.stderr
            wait_until("stop-ap1 identified as unifi", lambda: sample(
                mon.metrics(), "wifi_ap_info", ap="stop-ap1", profile="unifi"), 30)

            # Take the market down: both APs stop answering.
            t0 = time.monotonic()
            assert sorted(send_fault("market=down", control=control)) == ["market-ap1", "market-ap2"]
            wait_until("market down in /metrics", lambda: site_up(mon, "market") == 0.0, 30)
            took = time.monotonic() - t0
            # probe interval 2 s + 2 re-checks 1 s apart + 0.5 s timeouts, plus publishing: well under 15 s
            assert took < 15, f"site down seen after {took:.1f} s"
            assert site_up(mon, "park") == 1.0  # the others are untouched
            opened = wait_until("open site outage in the store", lambda: [
                o for o in store.open_outages() if o.scope == "site" and o.entity == "market"], 10)
            started = opened[0].started_at

            # Kill the monitor during the outage. The outage ends where the killed run stopped watching (its
            # last heartbeat: the time after is unknown, not downtime); the restarted run finds the market
            # still down and opens a new one from its own first failed probe.
            mon.stop(kill=True)
            mon.start()
            wait_until("market still down after restart", lambda: site_up(mon, "market") == 0.0, 30)
            still = wait_until("the restarted run's outage", lambda: [
                o for o in store.open_outages() if o.scope == "site" and o.entity == "market"], 10)
            dead = store.gaps(started - 1, time.time() + 1)
            assert dead, "the time the monitor was dead is a gap"
            (first,) = [o for o in store.outages(started - 1, time.time() + 1)
                        if o.scope == "site" and o.entity == "market" and o.started_at == started]
            assert first.end_state == "unknown" and first.ended_at == max(dead[0][0], started)
            assert len(still) == 1 and still[0].started_at >= dead[0][1]

            # Bring it back: up again, the outage closed.
            send_fault("market=up", control=control)
            wait_until("market up again", lambda: site_up(mon, "market") == 1.0, 30)
            closed = wait_until("closed outage", lambda: [
                o for o in store.outages(started - 1, time.time() + 1)
                if o.scope == "site" and o.entity == "market" and o.ended_at and o.end_state != "unknown"], 10)
            assert closed[0].ended_at > closed[0].started_at == still[0].started_at

            # /metrics carries the report's own month-to-date figure: below 1 for the market, 1 for the park.
            ratio = wait_until("month-to-date availability exported", lambda: sample(
                mon.metrics(), "wifi_site_availability_ratio", site="market", window="month_to_date"), 40)
            assert 0 < ratio < 1
            assert sample(mon.metrics(), "wifi_site_availability_ratio", site="park", window="month_to_date") == 1.0
        finally:
            mon.stop()


def test_a_reboot_is_an_event_not_an_outage(tmp_path):
    config = small_city(tmp_path)
    store = Store(f"sqlite:///{tmp_path}/wifimon.db")
    with simulator(config, tmp_path) as control:
        mon = Monitor(config, tmp_path).start()
        try:
            wait_until("park-ap1 up", lambda: sample(mon.metrics(), "wifi_ap_up", ap="park-ap1") == 1.0, 30)
            send_fault("park-ap1=reboot", control=control)
            wait_until("reboot counted", lambda: sample(mon.metrics(), "wifi_ap_reboots_total", ap="park-ap1") == 1.0, 30)
            assert sample(mon.metrics(), "wifi_ap_up", ap="park-ap1") == 1.0
            assert not [o for o in store.open_outages() if o.entity in ("park", "park-ap1")]
            ev = wait_until("reboot event stored", lambda: [
                e for e in store.events(0, time.time() + 1) if e.event.entity == "park-ap1"], 10)
            assert ev[0].event.kind == "reboot"
        finally:
            mon.stop()


def test_slow_answers_make_no_reboot_and_a_real_reboot_counts_once(tmp_path):
    """Issue 10: answers late but inside the timeout (probes and full polls overlap, each poll's uptime
    read in its first request) invent no reboot; a real reboot among them is counted exactly once."""
    config = small_city(tmp_path)
    slow = ("market-ap1", "market-ap2", "park-ap1", "ferry-ap1")
    with simulator(config, tmp_path) as control:
        mon = Monitor(config, tmp_path).start()
        try:
            wait_until("the slow-to-be APs up", lambda: all(
                sample(mon.metrics(), "wifi_ap_up", ap=a) == 1.0 for a in slow), 30)
            for ap in slow:
                send_fault(f"{ap}=slow:0.4", control=control)  # timeouts are 0.5 s (0.8 s on the ferry)

            def metrics_rounds() -> float:
                return sample(mon.metrics(), "wifimon_rounds_total", round="metrics") or 0.0

            def reboots() -> dict[str, float | None]:
                text = mon.metrics()
                return {a: sample(text, "wifi_ap_reboots_total", ap=a) for a in slow}

            start = metrics_rounds()
            wait_until("8 metrics rounds of slow answers", lambda: metrics_rounds() >= start + 8, 90)
            assert reboots() == dict.fromkeys(slow, 0.0)
            assert all(sample(mon.metrics(), "wifi_ap_up", ap=a) == 1.0 for a in slow)
            send_fault("park-ap1=reboot", control=control)
            wait_until("the reboot counted", lambda: reboots()["park-ap1"] == 1.0, 30)
            start = metrics_rounds()
            wait_until("4 more metrics rounds", lambda: metrics_rounds() >= start + 4, 60)
            assert reboots() == {**dict.fromkeys(slow, 0.0), "park-ap1": 1.0}
            assert duplicate_series(mon.metrics()) == []  # the simulated fleet's series are unique too
        finally:
            mon.stop()
