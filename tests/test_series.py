"""Every series true: no two samples of a metric family share a label set, and what a device does not
offer is absent, never 0. Checked on /metrics as served, parsed with prometheus_client's own parser,
for every recording of a real device in ``shared/snmprec`` (served by snmpsim, polled by the poller)."""

from __future__ import annotations

import time

import httpx
import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry

from collectors.snmp import PysnmpClient
from collectors.types import V2cCredentials
from monitor.config.load import LoadedConfig
from monitor.config.model import Config
from monitor.exposition.http import HttpServer
from monitor.exposition.metrics import ServiceMetrics
from monitor.exposition.rendering import FleetExposition
from monitor.polling.poller import Poller
from tests.agents import shared_dir, snmpsim_agent
from tests.e2e import duplicate_series

SHARED = shared_dir()
SNMPREC = SHARED / "snmprec" if SHARED else None
if SNMPREC is None or not SNMPREC.is_dir():
    pytest.skip("recordings not found: need ../shared/snmprec next to the repo or $WIFIMON_SHARED/snmprec",
                allow_module_level=True)
RECORDINGS = sorted(p.stem for p in SNMPREC.glob("*.snmprec"))


class _Sink:
    def transitions(self, transitions: list) -> None:
        pass

    def events(self, events: list) -> None:
        pass


@pytest.fixture(scope="module")
def recordings_agent(tmp_path_factory: pytest.TempPathFactory):
    """snmpsim over sorted copies of the recordings (snmpsim answers GETNEXT in file order)."""
    work = tmp_path_factory.mktemp("series")
    data = work / "data"
    data.mkdir()
    for name in RECORDINGS:
        src = SNMPREC / f"{name}.snmprec"
        lines = [ln for ln in src.read_text(encoding="utf-8", errors="surrogateescape").splitlines() if ln.strip()]
        lines.sort(key=lambda ln: tuple(int(x) for x in ln.split("|", 1)[0].split(".")))
        (data / src.name).write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    probe = "unifi_nanohd" if "unifi_nanohd" in RECORDINGS else RECORDINGS[0]
    with snmpsim_agent(data, work, probe_community=probe) as agent:
        yield agent


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served_metrics(recordings_agent, tmp_path_factory: pytest.TempPathFactory, profiles) -> str:
    """/metrics after one probe round and two metrics rounds of every recording as an AP (``profile: auto``)."""
    agent = recordings_agent
    config = Config.model_validate({
        "service": {"spread": 0, "confirm_failures": 1, "snmp": {"timeout": 3, "retries": 1}},
        "credentials": {name: {"version": "2c", "community": {"env": "UNUSED"}} for name in RECORDINGS},
        "sites": [{"id": f"site-{i}", "name": name, "category": "other", "aps": [
            {"id": f"ap-{i}", "address": f"{agent.host}:{agent.port}", "credentials": name}]}
            for i, name in enumerate(RECORDINGS)],
    })
    loaded = LoadedConfig(tmp_path_factory.mktemp("cfg") / "wifimon.yaml", config,
                          {n: V2cCredentials(n) for n in RECORDINGS}, profiles)
    registry = CollectorRegistry()
    client = PysnmpClient()
    poller = Poller(loaded, client, profiles, _Sink(), ServiceMetrics(registry, "test"), clock=time.time)

    async def ready() -> tuple[bool, str]:
        return True, "ready"

    http = HttpServer(registry, poller.snapshot, ready, fleet=FleetExposition(poller.snapshot))  # as the service serves it
    try:
        await poller.register()
        await poller.probe_round()
        await poller.metrics_round()
        await poller.metrics_round()  # a second poll: counters have a baseline, totals exist
        poller.publish()
        port = await http.start("127.0.0.1", 0)
        async with httpx.AsyncClient() as web:
            return (await web.get(f"http://127.0.0.1:{port}/metrics", timeout=10)).text
    finally:
        await http.close()
        await poller.close()
        await client.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_no_two_samples_share_a_label_set_for_any_recording(served_metrics):
    assert "wifi_ap_clients{" in served_metrics
    assert duplicate_series(served_metrics) == []


def _samples(metrics: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


@pytest.mark.asyncio(loop_scope="module")
async def test_per_ssid_samples_add_up_to_the_ap_total_and_absent_counts_are_absent(served_metrics):
    """What Prometheus keeps adds up: the samples at the level an AP's total was taken sum to that total
    (the ZoneDirector's eight '<private>' WLANs once summed to 0 beside a total of 23). A device without
    client counts has no client sample, and its site no total but one uncounted AP."""
    s = _samples(served_metrics)
    stations = {labels["ap"]: (labels["level"], v) for labels, v in s["wifi_ap_stations"]}
    site_total = {labels["site"]: v for labels, v in s.get("wifi_site_clients", [])}
    uncounted = {labels["site"]: v for labels, v in s["wifi_site_clients_uncounted_aps"]}
    for i, name in enumerate(RECORDINGS):
        ap, site = f"ap-{i}", f"site-{i}"
        rows = [(labels, v) for labels, v in s.get("wifi_ap_clients", []) if labels["ap"] == ap]
        if ap not in stations:
            assert rows == [] and site not in site_total and uncounted[site] == 1.0, name
            continue
        level, total = stations[ap]
        assert sum(v for labels, v in rows if labels["level"] == level) == total, name
        assert site_total[site] == total and uncounted[site] == 0.0, name
    merged = {(labels["ap"], labels["ssid"]): v for labels, v in s.get("wifi_ap_client_rows", [])}
    if "ruckuswireless_zd1200" in RECORDINGS:
        assert merged[(f"ap-{RECORDINGS.index('ruckuswireless_zd1200')}", "<private>")] == 8.0
