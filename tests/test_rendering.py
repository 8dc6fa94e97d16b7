"""/metrics at scale: the fleet's text is what prometheus_client writes for the same snapshot (both formats),
made once per snapshot, a site's lines reused while its view is unchanged, gzip as one valid member; and the
poller publishes a snapshot that replaces only the views of the sites that changed."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import time
import zlib
from dataclasses import fields, replace
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from collectors.snmp import PysnmpClient
from collectors.types import ClientCount, LteSignal, RadioStats
from monitor.config.load import load_config
from monitor.config.model import AccessPoint, Site
from monitor.domain.vocabulary import ApStatus, Event, Reason, SiteStatus, Transition
from monitor.exposition.http import HttpServer
from monitor.exposition.metrics import FleetCollector, ServiceMetrics
from monitor.exposition.rendering import FleetExposition, gzip_body
from monitor.exposition.snapshot import ApView, ControllerView, SiteView, Snapshot, UplinkView
from monitor.polling.poller import Poller
from tests.e2e import free_block, simulator
from tests.ports import free_port


def _ap(ap_id: str, site: str, status: ApStatus, **kw: object) -> ApView:
    base: dict[str, object] = dict(ap=ap_id, site=site, address="127.0.0.1:1161", profile="unifi", model="UAP",
                                   status=status, since=100.0, reason=None, probe_duration=0.012,
                                   last_success_at=90.0, probes=5, probe_failures=1)
    base.update(kw)
    return ApView(**base)  # type: ignore[arg-type]


def _snapshot(taken_at: float = 200.0) -> Snapshot:
    odd = Site(id="s1", name='시장 "동문" \\ 입구\n2층', category="market", district="나운2동", lat=35.95, lon=126.7,
               aps=(AccessPoint(id="a1", address="127.0.0.1", credentials="c"),
                    AccessPoint(id="a2", address="127.0.0.2", credentials="c")))
    ferry = Site(id="f1", name="선유도 여객선", category="ferry", kind="ferry",
                 timetable=({"days": ["mon"], "start": "07:00", "end": "19:00"},),  # type: ignore[arg-type]
                 aps=(AccessPoint(id="f1-ap1", address="127.0.0.3", credentials="c"),))
    aps = (
        _ap("a1", "s1", ApStatus.UP, uptime_seconds=1234.5, uptime_at=150.0, rx_bytes=10**12, tx_bytes=2000,
            cpu_ratio=0.03, memory_ratio=0.5, reboots=2,
            clients=(ClientCount("vap", 4, "ng", 'Free "WiFi"'), ClientCount("vap", 7, "na", "Free WiFi"),
                     ClientCount("vap", 1, "na", "Free WiFi")),
            radios=(RadioStats("ng", 6, 0.4, -95.0), RadioStats("na", None, None, None))),
        _ap("a2", "s1", ApStatus.DOWN, reason=Reason.TIMEOUT, uptime_seconds=50.0, uptime_at=10.0,
            clients=(ClientCount("vap", 3, "ng", "x"),)),
    )
    lte = UplinkView("f1-lte", ApStatus.UP, 0.35, LteSignal(rsrp_dbm=-97.0, rsrq_db=-11.0, sinr_db=None))
    return Snapshot(taken_at, (
        SiteView(odd, SiteStatus.DEGRADED, 150.0, None, True, None, aps, 0.9975),
        SiteView(ferry, SiteStatus.UNKNOWN, None, None, False, lte,
                 (_ap("f1-ap1", "f1", ApStatus.UP, uptime_seconds=7.0, since=None, probe_duration=None),)),
    ), True, (ControllerView("wlc1", aps=("a1",), answered=None), ControllerView("wlc2", aps=(), answered=True,
                                                                                  clients=12, joined=0)))


def _library(snap: Snapshot, openmetrics: bool) -> bytes:
    registry = CollectorRegistry()
    registry.register(FleetCollector(lambda: snap))
    return generate_openmetrics(registry).removesuffix(b"# EOF\n") if openmetrics else generate_latest(registry)


@pytest.mark.parametrize("openmetrics", [False, True])
def test_the_fleet_text_is_byte_for_byte_what_the_library_writes(openmetrics: bool) -> None:
    snap = _snapshot()
    fleet = FleetExposition(lambda: snap)
    text = fleet.exposition(openmetrics).text
    assert text == _library(snap, openmetrics)
    assert b"wifi_ap_uptime_seconds{ap=\"a1\",site=\"s1\"} 1284.5\n" in text  # 1234.5 read at 150, now 200


def test_a_snapshot_is_rendered_once_and_a_new_one_carries_uptimes_and_changed_sites() -> None:
    snaps = [_snapshot()]
    fleet = FleetExposition(lambda: snaps[-1])
    first = fleet.exposition(False)
    assert fleet.exposition(False) is first  # the same snapshot: the kept text
    old = snaps[0]
    changed = replace(old.sites[1], status=SiteStatus.DOWN, aps=(replace(old.sites[1].aps[0], status=ApStatus.DOWN),))
    snaps.append(replace(old, taken_at=260.0, sites=(old.sites[0], changed), version=old.version + 1))
    second = fleet.exposition(False)
    assert second is not first and second.text == _library(snaps[-1], False)
    assert b'wifi_ap_uptime_seconds{ap="a1",site="s1"} 1344.5\n' in second.text  # the clock, not the kept lines
    assert b'wifi_ap_up{ap="f1-ap1",site="f1"} 0.0\n' in second.text


# A different value for every field of the views: a field the kept lines ignore by mistake shows as a stale line.
_AP_CHANGES: dict[str, object] = dict(
    ap="a1-new", site="s9", address="127.0.0.9:161", profile="generic", model="U6-Pro", status=ApStatus.MAINTENANCE,
    since=170.0, reason=Reason.SNMP_ERROR, probe_duration=0.5, last_success_at=190.0, probes=6, probe_failures=2,
    uptime_seconds=99.0, uptime_at=199.0, clients=(ClientCount("radio", 2, "ng"),), rx_bytes=11, tx_bytes=None,
    reboots=3, cpu_ratio=None, memory_ratio=0.75, radios=(RadioStats("ng", 11, 0.9, -80.0),), last_poll_at=195.0)
_UPLINK_CHANGES: dict[str, object] = dict(device="f1-lte2", status=ApStatus.DOWN, probe_duration=0.9,
                                          lte=LteSignal(rsrp_dbm=-110.0, rsrq_db=None, sinr_db=3.0))
_SITE_CHANGES: dict[str, object] = dict(status=SiteStatus.DOWN, since=180.0, reason=Reason.UPLINK_DOWN,
                                        in_service=False, uplink=None, availability_month_to_date=0.5)


def _field_changes(snap: Snapshot) -> list[tuple[str, Snapshot]]:
    """``snap`` with one field of one view changed, for every field of the AP, uplink and site views."""
    odd, ferry = snap.sites
    a1, a2 = odd.aps
    out = []
    for name, value in _AP_CHANGES.items():
        out.append((f"ap.{name}", (replace(odd, aps=(replace(a1, **{name: value}), a2)), ferry)))
    for name, value in _UPLINK_CHANGES.items():
        out.append((f"uplink.{name}", (odd, replace(ferry, uplink=replace(ferry.uplink, **{name: value})))))
    for name, value in _SITE_CHANGES.items():
        out.append((f"site.{name}", (replace(odd, **{name: value}), ferry)))
    out.append(("site.site", (replace(odd, site=odd.site.model_copy(update={"name": "동문시장"})), ferry)))
    out.append(("site.aps", (replace(odd, aps=(a1,)), ferry)))
    return [(what, replace(snap, sites=sites, version=snap.version + 1)) for what, sites in out]


def test_every_field_of_a_view_is_in_the_text_of_the_next_snapshot() -> None:
    """A site's lines are kept while what they show is the same: a change of any field, probed or not, is in the
    next snapshot's text exactly as the library writes it (the kept lines never go stale)."""
    base = _snapshot()
    assert set(_AP_CHANGES) == {f.name for f in fields(ApView)}  # a new field needs a case here
    assert set(_UPLINK_CHANGES) == {f.name for f in fields(UplinkView)}
    assert set(_SITE_CHANGES) | {"site", "aps"} == {f.name for f in fields(SiteView)}
    current = [base]
    for what, changed in _field_changes(base):
        current[0] = base
        fleet = FleetExposition(lambda: current[0])
        assert fleet.exposition(False).text == _library(base, False)  # warm: the base's lines are kept
        current[0] = changed
        assert fleet.exposition(False).text == _library(changed, False), what


def test_a_probe_does_not_write_a_sites_other_lines_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new view that differs only in what probes change (counts, durations, last success, uptime) reuses the
    site's kept lines; a state change writes them again."""
    import monitor.exposition.rendering as rendering

    written: list[str] = []
    real = rendering.site_rows
    monkeypatch.setattr(rendering, "site_rows", lambda sv: (written.append(sv.site.id), real(sv))[1])
    base = _snapshot()
    current = [base]
    fleet = FleetExposition(lambda: current[0])
    fleet.exposition(False)
    assert written == ["s1", "f1"]
    odd, ferry = base.sites
    probed = replace(odd, aps=tuple(replace(a, probes=a.probes + 1, probe_duration=0.02, last_success_at=199.0,
                                            uptime_seconds=2000.0, uptime_at=199.0) for a in odd.aps))
    current[0] = replace(base, sites=(probed, replace(ferry, uplink=replace(ferry.uplink, probe_duration=0.4))),
                         version=2)
    text = fleet.exposition(False).text
    assert written == ["s1", "f1"] and text == _library(current[0], False)
    assert b'wifi_ap_probes_total{ap="a1",site="s1"} 6.0\n' in text
    current[0] = replace(current[0], sites=(replace(probed, status=SiteStatus.DOWN), current[0].sites[1]), version=3)
    assert fleet.exposition(False).text == _library(current[0], False)
    assert written == ["s1", "f1", "s1"]


@pytest.mark.parametrize("openmetrics", [False, True])
def test_gzip_is_one_member_of_the_kept_fleet_stream_and_the_rest(openmetrics: bool) -> None:
    snap = _snapshot()
    fleet = FleetExposition(lambda: snap).exposition(openmetrics, deflated=True)
    rest = b"# HELP wifimon_x a test\n# TYPE wifimon_x gauge\nwifimon_x 1.0\n"
    body = gzip_body(fleet, rest)
    assert gzip.decompress(body) == fleet.text + rest
    single = zlib.decompressobj(16 + zlib.MAX_WBITS)  # what clients that read one member do (aiohttp, curl)
    assert single.decompress(body) == fleet.text + rest and single.eof and not single.unused_data


async def _ready() -> tuple[bool, str]:
    return True, "ready"


async def test_metrics_served_gzip_or_plain_in_either_format_parse_and_pass_promtool() -> None:
    snap = _snapshot()
    registry = CollectorRegistry()
    ServiceMetrics(registry, "test").rounds.labels("probe").inc()
    server = HttpServer(registry, lambda: snap, _ready, fleet=FleetExposition(lambda: snap))
    port = await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        async with httpx.AsyncClient(timeout=10) as web:
            zipped = await web.get(url, headers={"Accept-Encoding": "gzip"})
            plain = await web.get(url, headers={"Accept-Encoding": "identity"})
            om = await web.get(url, headers={"Accept-Encoding": "gzip",
                                             "Accept": "application/openmetrics-text;version=1.0.0,*/*;q=0.1"})
    finally:
        await server.close()
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert om.headers["Content-Type"].startswith("application/openmetrics-text")
    assert zipped.text == plain.text and int(zipped.headers["Content-Length"]) < len(plain.content)
    assert om.text.count("# EOF") == 1 and om.text.endswith("# EOF\n")  # once, after the service's metrics
    assert om.text.index("wifi_ap_up{") < om.text.index('wifimon_rounds_total{round="probe"} 1.0\n')
    families = {f.name for f in text_string_to_metric_families(plain.text)}
    assert {"wifi_ap_up", "wifi_site_info", "wifimon_rounds", "wifi_controller_up"} <= families
    promtool = shutil.which("promtool")
    if promtool:
        out = subprocess.run([promtool, "check", "metrics"], input=plain.content, capture_output=True, timeout=30)
        assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), out.stdout + out.stderr


class _Sink:
    def transitions(self, transitions: list[Transition]) -> None:
        pass

    def events(self, events: list[Event]) -> None:
        pass


async def test_publishing_replaces_only_the_views_of_the_sites_that_changed(tmp_path: Path, profiles) -> None:
    octet = free_block()
    (tmp_path / "c.secret").write_text("render-community\n")
    sites = [{"id": f"s{i}", "name": f"site {i}", "category": "park",
              "aps": [{"id": f"s{i}-ap{j}", "address": f"127.{octet}.{i + 1}.{j + 1}:1161", "credentials": "c"}
                      for j in range(2)]} for i in range(3)]
    doc = {"service": {"listen": f"127.0.0.1:{free_port()}", "spread": 0, "probe_interval": 5},
           "credentials": {"c": {"version": "2c", "community": {"file": "c.secret"}}}, "sites": sites}
    (tmp_path / "wifimon.yaml").write_text(yaml.safe_dump(doc))
    loaded = load_config(tmp_path / "wifimon.yaml")
    client = PysnmpClient()
    poller = Poller(loaded, client, profiles, _Sink(), ServiceMetrics(CollectorRegistry(), "test"), clock=time.time)
    with simulator(tmp_path / "wifimon.yaml", tmp_path):
        try:
            await poller.register()
            await poller.probe_round()
            poller.publish()
            before = poller.snapshot()
            poller.publish()
            assert poller.snapshot() is before  # nothing changed: no new snapshot
            await poller.probe_now("s1-ap0")
            poller.publish()
            after = poller.snapshot()
        finally:
            await poller.close()
            await client.close()
    assert after.version == before.version + 1 and after.taken_at >= before.taken_at
    assert [sv.site.id for sv in after.sites] == ["s0", "s1", "s2"]
    assert after.sites[0] is before.sites[0] and after.sites[2] is before.sites[2]
    assert after.sites[1] is not before.sites[1]
    assert [a.probes for a in after.sites[1].aps] == [2, 1] and after.sites[1].aps[0].status == ApStatus.UP
    up = after.sites[0].aps[0]  # not probed again: its uptime is carried forward by the snapshot's clock
    assert up.uptime_at is not None and up.uptime(after.taken_at) == pytest.approx(
        up.uptime_seconds + after.taken_at - up.uptime_at)  # type: ignore[operator]


def test_numbers_are_spelled_as_the_library_spells_them() -> None:
    from prometheus_client.utils import floatToGoString

    from monitor.exposition.rendering import _number

    for v in (0.0, -0.0, 1.0, 0.9975, 123456.0, 1234567.0, 999999.99, -1e12, 1e12, 1764600000.123, 1e-7, 2.5e-5,
              float("nan"), float("inf"), float("-inf"), 10.0**18, 3.0e22):
        assert _number(v) == floatToGoString(v), v
