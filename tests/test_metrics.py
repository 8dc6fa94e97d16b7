"""The Prometheus side of the snapshot: names, labels, a down AP kept at 0, and promtool's opinion."""

import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from collectors.types import ClientCount, LteSignal, RadioStats
from monitor.config.model import AccessPoint, Site
from monitor.domain.vocabulary import ApStatus, Reason, SiteStatus
from monitor.exposition.http import status_document
from monitor.exposition.metric_names import METRICS
from monitor.exposition.metrics import FleetCollector, ServiceMetrics
from monitor.exposition.snapshot import ApView, SiteView, Snapshot, UplinkView


def ap(ap_id, status, **kw):
    base = dict(ap=ap_id, site="s1", address="127.0.0.1:1161", profile="unifi", model="UAP", status=status,
                since=100.0, reason=None, probe_duration=0.01, last_success_at=90.0, probes=5, probe_failures=1)
    base.update(kw)
    return ApView(**base)


def snapshot():
    site = Site(id="s1", name="은파호수공원", category="park", district="나운2동", lat=35.95, lon=126.70,
                aps=(AccessPoint(id="a1", address="127.0.0.1", credentials="c"),
                     AccessPoint(id="a2", address="127.0.0.2", credentials="c")))
    aps = (
        ap("a1", ApStatus.UP, uptime_seconds=1234.5, rx_bytes=1000, tx_bytes=2000, cpu_ratio=0.03,
           clients=(ClientCount("vap", 4, "ng", "Free WiFi"), ClientCount("vap", 7, "na", "Free WiFi")),
           radios=(RadioStats("ng", 6, 0.4, None),)),
        ap("a2", ApStatus.DOWN, reason=Reason.TIMEOUT, rx_bytes=500, clients=(ClientCount("vap", 3, "ng", "x"),)),
    )
    ferry = Site(id="f1", name="선유도 여객선", category="ferry", kind="ferry",
                 timetable=({"days": ["mon"], "start": "07:00", "end": "19:00"},),
                 aps=(AccessPoint(id="f1-ap1", address="127.0.0.3", credentials="c"),))
    lte = UplinkView("f1-lte", ApStatus.UP, 0.35, LteSignal(rsrp_dbm=-97.0, rsrq_db=-11.0, sinr_db=None))
    return Snapshot(200.0, (SiteView(site, SiteStatus.DEGRADED, 150.0, None, True, None, aps),
                            SiteView(ferry, SiteStatus.UP, 100.0, None, True, lte, (ap("f1-ap1", ApStatus.UP, site="f1"),))),
                    True)


@pytest.fixture
def registry():
    reg = CollectorRegistry()
    ServiceMetrics(reg, "test")
    reg.register(FleetCollector(snapshot))
    return reg


def test_values(registry):
    g = registry.get_sample_value
    assert g("wifi_ap_up", {"site": "s1", "ap": "a1"}) == 1.0
    assert g("wifi_ap_up", {"site": "s1", "ap": "a2"}) == 0.0  # a down AP stays, at 0
    assert g("wifi_ap_state", {"site": "s1", "ap": "a2", "state": "down"}) == 1.0
    assert g("wifi_ap_clients", {"site": "s1", "ap": "a1", "radio": "na", "ssid": "Free WiFi", "level": "vap"}) == 7
    assert g("wifi_ap_receive_bytes_total", {"site": "s1", "ap": "a1"}) == 1000
    assert g("wifi_site_up", {"site": "s1"}) == 1.0  # degraded still serves
    assert g("wifi_site_state", {"site": "s1", "state": "degraded"}) == 1.0
    assert g("wifi_site_aps", {"site": "s1", "state": "down"}) == 1.0
    assert g("wifi_site_info", {"site": "s1", "name": "은파호수공원", "category": "park", "district": "나운2동",
                                "lat": "35.950000", "lon": "126.700000", "kind": "land"}) == 1.0


def test_uplink_lte_signal_where_the_router_reads_it(registry):
    g = registry.get_sample_value
    assert g("wifi_uplink_up", {"site": "f1", "device": "f1-lte"}) == 1.0
    assert g("wifi_uplink_lte_rsrp_dbm", {"site": "f1", "device": "f1-lte"}) == -97.0
    assert g("wifi_uplink_lte_rsrq_db", {"site": "f1", "device": "f1-lte"}) == -11.0
    assert g("wifi_uplink_lte_sinr_db", {"site": "f1", "device": "f1-lte"}) is None  # not read: not exported


def test_stale_readings_of_a_down_ap_are_not_exported(registry):
    assert registry.get_sample_value("wifi_ap_clients", {"site": "s1", "ap": "a2", "radio": "ng", "ssid": "x",
                                                         "level": "vap"}) is None
    assert registry.get_sample_value("wifi_ap_last_success_timestamp_seconds", {"site": "s1", "ap": "a2"}) == 90.0


def test_promtool_check_metrics_is_quiet(registry):
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (Debian package prometheus)")
    out = subprocess.run([promtool, "check", "metrics"], input=generate_latest(registry),
                         capture_output=True, timeout=30)
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), out.stdout + out.stderr


def _one_site(*aps: ApView) -> Snapshot:
    site = Site(id="s1", name="시장", category="market",
                aps=tuple(AccessPoint(id=a.ap, address=a.address, credentials="c") for a in aps))
    return Snapshot(200.0, (SiteView(site, SiteStatus.UP, 100.0, None, True, None, aps),), True)


def _registry(snap: Snapshot) -> CollectorRegistry:
    reg = CollectorRegistry()
    reg.register(FleetCollector(lambda: snap))
    return reg


def test_repeated_ssids_on_one_radio_are_one_sample_summed_with_its_row_count():
    # A ZoneDirector lists hidden WLANs as "<private>", several on one radio: one label set, summed.
    clients = (ClientCount("ssid", 5, "", "<private>"), ClientCount("ssid", 0, "", "<private>"),
               ClientCount("ssid", 18, "", "<private>"), ClientCount("ssid", 2, "", "Free WiFi"))
    reg = _registry(_one_site(ap("a1", ApStatus.UP, clients=clients)))
    key = {"site": "s1", "ap": "a1", "radio": "", "level": "ssid"}
    assert reg.get_sample_value("wifi_ap_clients", {**key, "ssid": "<private>"}) == 23
    assert reg.get_sample_value("wifi_ap_client_rows", {**key, "ssid": "<private>"}) == 3
    assert reg.get_sample_value("wifi_ap_client_rows", {**key, "ssid": "Free WiFi"}) is None  # one row
    assert reg.get_sample_value("wifi_ap_stations", {"site": "s1", "ap": "a1", "level": "ssid"}) == 25
    text = generate_latest(reg).decode()
    assert text.count('wifi_ap_clients{ap="a1"') == 2


def test_a_count_nobody_offers_is_absent_not_zero():
    counted = ap("a1", ApStatus.UP, clients=(ClientCount("ap", 7),))
    silent = ap("a2", ApStatus.UP)  # up, but its device offers no client count
    down = ap("a3", ApStatus.DOWN, reason=Reason.TIMEOUT)
    g = _registry(_one_site(counted, silent, down)).get_sample_value
    assert g("wifi_site_clients", {"site": "s1"}) == 7  # of the one AP whose count is known
    assert g("wifi_site_clients_uncounted_aps", {"site": "s1"}) == 2  # partial, and says so
    assert g("wifi_ap_stations", {"site": "s1", "ap": "a2", "level": "ap"}) is None
    g = _registry(_one_site(silent, down)).get_sample_value
    assert g("wifi_site_clients", {"site": "s1"}) is None  # nothing known: no total, not 0
    assert g("wifi_site_clients_uncounted_aps", {"site": "s1"}) == 2
    doc = status_document(_one_site(counted, silent, down))
    assert [a["clients"] for a in doc["sites"][0]["aps"]] == [7, None, None]


def test_complete_site_total_says_nothing_is_left_out(registry):
    assert registry.get_sample_value("wifi_site_clients", {"site": "f1"}) is None  # f1-ap1 has no counts
    assert registry.get_sample_value("wifi_site_clients_uncounted_aps", {"site": "f1"}) == 1
    assert registry.get_sample_value("wifi_site_clients", {"site": "s1"}) == 11  # a1's; a2 is down
    assert registry.get_sample_value("wifi_site_clients_uncounted_aps", {"site": "s1"}) == 1


def test_the_readme_lists_every_metric_of_the_one_table():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [name for name in METRICS if f"`{name}`" not in readme and f"`{name}{{" not in readme]
    assert not missing, f"README's metric list lacks {missing}"
