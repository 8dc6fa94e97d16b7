"""Alertmanager channel against Debian's real prometheus-alertmanager, started by the test and routing to
a local webhook receiver: alerts pushed by wifimon (through the outbox) appear in its API v2 and reach the
receiver; resolves too."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from monitor.alerting.alerter import Alerter
from monitor.alerting.channels import build_channels
from monitor.alerting.delivery import Delivery
from monitor.alerting.settings import AlertingSettings
from monitor.domain.vocabulary import Reason, SiteStatus
from monitor.store import Store, outbox_depth
from monitor.store.writer import StoreWriter
from tests.alerting_helpers import Receiver, make_site, site_view, snapshot
from tests.e2e import free_port

pytestmark = pytest.mark.integration

BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"


@pytest.fixture
def alertmanager(tmp_path: Path):
    if not Path(BINARY).exists():
        pytest.skip("prometheus-alertmanager is not installed (Debian package prometheus-alertmanager)")
    hook = Receiver()
    port = free_port()
    (tmp_path / "am.yml").write_text(f"""\
route:
  receiver: wifimon-test
  group_by: [alertname, site]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: wifimon-test
    webhook_configs:
      - url: {hook.url}/am
        send_resolved: true
""")
    log = (tmp_path / "am.log").open("w")
    proc = subprocess.Popen([BINARY, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am-data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"alertmanager exited: {(tmp_path / 'am.log').read_text()[-2000:]}"
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "alertmanager not ready after 20 s"
            time.sleep(0.1)
        yield url, hook
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        hook.close()


async def _until(what: str, check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        await asyncio.sleep(0.1)


async def test_alertmanager_receives_pushed_alerts_and_resolves(alertmanager, tmp_path: Path):
    am_url, hook = alertmanager
    store = Store(f"sqlite:///{tmp_path}/w.db")
    store.migrate()
    writer = StoreWriter(store)
    settings = AlertingSettings.model_validate({
        "channels": {"am": {"type": "alertmanager", "url": am_url, "resend_interval": 30}},
        "delivery": {"backoff": 0.2, "max_backoff": 1}})
    delivery = Delivery(store, build_channels(settings, tmp_path), settings.delivery, writer=writer)
    market, park = make_site("market", 2), make_site("park", 1)
    current = [snapshot(site_view(market, SiteStatus.DOWN, time.time() - 20, reason=Reason.TIMEOUT),
                        site_view(park, SiteStatus.UP, time.time() - 900))]
    alerter = Alerter(settings, store, writer, delivery, lambda: current[0], ZoneInfo("Asia/Seoul"))
    stop = asyncio.Event()
    task = asyncio.create_task(delivery.run(stop))
    try:
        assert [n.kind for n in alerter.evaluate().notifications] == ["firing"]

        def in_api():
            alerts = httpx.get(f"{am_url}/api/v2/alerts", timeout=5).json()
            return [a for a in alerts if a["labels"].get("alertname") == "WifiSiteDown"]

        [shown] = await _until("the alert in Alertmanager's API", in_api)
        assert shown["labels"]["site"] == "market" and shown["labels"]["severity"] == "critical"
        assert shown["labels"]["alert_key"] == "site_down:market" and shown["status"]["state"] == "active"
        assert shown["annotations"]["summary"] == "[장애] market 공원 (market) 사이트 장애"
        assert shown["annotations"]["idempotency_key"]

        def hooked(status: str):
            return lambda: [a for r in hook.received() for a in r.json()["alerts"] if a["status"] == status]

        [fired] = await _until("Alertmanager's webhook with the firing alert", hooked("firing"))
        assert fired["labels"]["alertname"] == "WifiSiteDown" and fired["labels"]["site"] == "market"

        # The re-push keeps it alive (Alertmanager would time it out otherwise).
        await delivery.channels["am"].refresh(alerter.firing_payloads("am"))

        current[0] = snapshot(site_view(market, SiteStatus.UP, time.time()), site_view(park, SiteStatus.UP, 0))
        assert [n.kind for n in alerter.evaluate().notifications] == ["resolved"]
        [resolved] = await _until("Alertmanager's webhook with the resolved alert", hooked("resolved"))
        assert resolved["labels"]["alert_key"] == "site_down:market"
        assert await _until("the alert gone from the API", lambda: not in_api())
        assert await asyncio.to_thread(outbox_depth, store) == 0
    finally:
        stop.set()
        await task
        await delivery.aclose()
        writer.close(5)
