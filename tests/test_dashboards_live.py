"""Every dashboard panel and recording rule against a real Prometheus scraping a live wifimon.

The simulator and `wifimon run` (with a webhook channel and the trap receiver on) run as processes;
Debian's Prometheus scrapes /metrics every second with config/prometheus/rules.yml loaded. One site is
taken down and a trap is sent, so the "something happened" panels have something to show. Then every
panel's PromQL must parse and return at least one series, except the few named below with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from monitor.cli.simulate import send_fault
from tests.alerting_helpers import Receiver
from tests.e2e import Monitor, free_port, sample, simulator, small_city, wait_until
from tests.prom import dashboard_queries, prometheus_binary, recording_rules, run_queries, running_prometheus

pytestmark = pytest.mark.e2e

# Panels whose metric the demo fleet cannot produce, with why. Anything else empty fails the test.
EXCUSED = {
    "wifi_ap_radio_channel": "UBNT-UniFi-MIB's radio table has no channel column (and the generic profile no radios)",
    "wifi_ap_radio_noise_dbm": "neither the UniFi nor the generic profile offers a noise floor",
}


def excused(line: str) -> bool:
    return any(metric in line for metric in EXCUSED)


def test_every_panel_and_recording_rule_returns_data_from_a_live_wifimon(tmp_path):
    if not prometheus_binary():
        pytest.skip("Debian package 'prometheus' is not installed")
    rx = Receiver()
    traps = free_port()
    config = small_city(tmp_path)
    config.write_text(config.read_text() + f"""\
alerting:
  channels:
    hook: {{type: webhook, url: "{rx.url}/hook", timeout: 5}}
traps:
  listen: 127.0.0.1:{traps}
  credentials: [sim]
""")
    with simulator(config, tmp_path) as control:
        mon = Monitor(config, tmp_path).start()
        try:
            target = mon.url.removeprefix("http://").removesuffix("/metrics")
            with running_prometheus([target]) as prom:
                prom.wait_for_target_up(target, timeout=60)
                wait_until("ferry-ap1 fully polled", lambda: sample(
                    mon.metrics(), "wifi_ap_receive_bytes_total", ap="ferry-ap1") is not None, 30)
                # The ferry's MikroTik LTE router polled with its modem table (the ferries dashboard's signal panels).
                wait_until("ferry-lte's LTE signal polled", lambda: sample(
                    mon.metrics(), "wifi_uplink_lte_rsrp_dbm", device="ferry-lte") is not None, 30)
                send_fault("market=down", control=control)
                if shutil.which("snmptrap"):  # from 127.0.0.1, not a device: counted as unknown_source
                    subprocess.run(["snmptrap", "-v2c", "-c", "e2e-community", f"127.0.0.1:{traps}", "",
                                    "1.3.6.1.6.3.1.1.5.3"], check=True, timeout=10)
                wait_until("market down in Prometheus", lambda: prom.query(
                    'wifi_site_up{site="market"} == 0'), 40)
                wait_until("the alert delivered", lambda: rx.received(), 20)
                wait_until("month-to-date availability scraped", lambda: prom.query(
                    "wifi_site_availability_ratio"), 40)
                time.sleep(3)  # a few more scrapes and rule evaluations with everything present
                prom.wait_for_rule_evaluation(timeout=30)

                queries = dashboard_queries(overrides={"site": "ferry", "ap": "ferry-ap1"})
                errors, empties = run_queries(prom, queries)
                assert errors == [], "\n".join(errors)
                unexplained = [e for e in empties if not excused(e)]
                assert unexplained == [], "\n".join(unexplained)
                assert len(queries) >= 80

                for name, expr in recording_rules().items():
                    assert prom.query(expr), f"recording rule {name} returns nothing: {expr}"

                # The overview's down-site queries show the market, and only it.
                down = prom.query('wifi_site_state{state="down"} == 1')
                assert [s["metric"]["site"] for s in down] == ["market"]
        finally:
            mon.stop()
