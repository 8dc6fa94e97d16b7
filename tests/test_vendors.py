"""Vendor profiles against recordings of real devices, served by snmpsim, with LibreNMS as the oracle.

For every recording in ``shared/snmprec``: the profile is picked automatically (sysObjectID, sysDescr,
vendor probes), client counts equal what LibreNMS's own tests expect from the same file
(``librenms_expected/*.wireless.json``, parsed in tests/vendor_coverage.py: every client sensor LibreNMS
reads must be read by us, from the same object instances, with the same sum, unless a reason is written
there), uptime and interface counters are read where the recording has them, and objects a device lacks
give no value, no metric and no error.

The recordings are served from sorted copies: snmpsim answers GETNEXT in file order, and
``zyxelnwa.snmprec`` is not in OID order (its 5 GHz row would be invisible to any walk). Sorting
changes no value.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from prometheus_client import CollectorRegistry

from collectors.identify import identify_device
from collectors.profile import Profile, identify
from collectors.snmp import PysnmpClient
from collectors.types import ClientCount, ErrorKind, PollResult, Target, V2cCredentials
from monitor.domain.clients import device_total
from monitor.config.load import LoadedConfig
from monitor.config.model import Config
from monitor.domain.vocabulary import ApStatus
from monitor.exposition.metrics import FleetCollector, ServiceMetrics
from monitor.polling.poller import Poller
from tests import vendor_coverage as vc
from tests.agents import snmpsim_agent

SNMPREC = vc.SNMPREC
if SNMPREC is None or not SNMPREC.is_dir():
    pytest.skip("recordings not found: need ../shared/snmprec next to the repo or $WIFIMON_SHARED/snmprec",
                allow_module_level=True)
RECORDINGS = vc.recordings()

# The device each recording is (shared/snmprec/README.md) and the profile written for it.
PROFILE_OF = {
    "airos": "airos",
    "albentiaaos": "albentia",
    "aruba-instant": "aruba_instant",
    "arubaos": "arubaos_controller",
    "arubaos_vmc": "arubaos_controller",
    "ciscowlc_cbw240ac": "cisco_wlc",
    "epmp": "cambium_epmp",
    "fortiap_fap831f": "fortiap",
    "fortiwlc": "fortiwlc",
    "grandstream-ap_gwn7660": "grandstream_gwn",
    "hiveos-wireless": "hiveos",
    "hiveos-wireless_ap130": "hiveos",
    "openwrt": "generic",  # no wireless MIB: what the generic profile reads is all it offers
    "pepwave": "pepwave",
    "pmp_450": "cambium_pmp",
    "pmp_450m": "cambium_pmp",
    "routeros": "mikrotik",
    "routeros_rb433gl": "mikrotik",
    "ruckuswireless-hotzone": "ruckus_standalone",
    "ruckuswireless-unleashed": "ruckus_unleashed",
    "ruckuswireless_zd1200": "ruckus_zd",
    "stellar_oaw-ap1321": "stellar_ap1321",
    "tachyon": "tachyon",
    "unifi": "unifi",
    "unifi_nanohd": "unifi",
    "xirrus_aos": "xirrus",
    "zyxelnwa": "zyxel_nwa",
}
# Devices sysObjectID and sysDescr cannot tell apart: both report Frogfoot's 1.3.6.1.4.1.10002.1 and a bare
# "Linux …". The poller's first step leaves them generic and asks the vendor objects (airOS's
# ubntHostCpuLoad, the UniFi radio table), as LibreNMS does.
NEEDS_VENDOR_PROBE = {"airos", "unifi"}
# Devices offering no client count at all: absent, never zero (see tests/vendor_coverage.py NOT_MATCHED).
NO_CLIENT_COUNT = {"openwrt"}
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
read_recording = vc.read_recording


def column_of(values: dict[str, tuple[str, str]], col: str | None) -> dict[str, tuple[str, str]]:
    return {oid[len(col) + 1:]: v for oid, v in values.items() if oid.startswith(col + ".")} if col else {}


def librenms_client_sensors(name: str) -> list[dict]:
    sensors = vc.librenms_client_sensors(name)
    if not sensors:
        pytest.skip(f"no LibreNMS expectations for {name}")
    return sensors


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("vendors")
    vc.write_sorted(RECORDINGS, work / "data")
    probe = "unifi_nanohd" if "unifi_nanohd" in RECORDINGS else RECORDINGS[0]
    with snmpsim_agent(work / "data", work, probe_community=probe) as agent:
        yield agent


def target_for(agent, name: str) -> Target:
    return Target(f"rec-{name}", agent.host, agent.port, V2cCredentials(name), timeout=3.0, retries=1)


async def identified_poll(client: PysnmpClient, agent, profiles, name: str) -> tuple[Profile, PollResult]:
    target = target_for(agent, name)
    await client.register([target])
    profile, identity = await identify_device(client, target, profiles)
    assert identity.ok, identity.detail
    result = await client.poll(target, profile)
    assert result.ok, result.detail
    return profile, result


def every_count(result: PollResult) -> list[ClientCount]:
    """The device's own counts and, for a controller, its APs' per-radio counts."""
    return list(result.clients) + [c for ap in result.controller_aps or () for c in ap.radios]


def test_every_recording_has_a_profile_written_for_it():
    assert set(RECORDINGS) <= set(PROFILE_OF), f"recordings without an expected profile: {set(RECORDINGS) - set(PROFILE_OF)}"


@pytest.mark.parametrize("name", RECORDINGS)
async def test_profile_is_picked_automatically(simulator, client, profiles, name):
    target = target_for(simulator, name)
    await client.register([target])
    profile, identity = await identify_device(client, target, profiles)
    assert identity.ok, identity.detail
    assert profile.name == PROFILE_OF[name], (identity.sys_object_id, identity.sys_descr)
    # sysObjectID/sysDescr alone decide for every recording but two (the poller's first step); the probes
    # are for devices that report a generic OID and sysDescr. The first step never picks a wrong profile:
    # where it cannot tell, it says generic and the vendor objects decide.
    first = identify(profiles, identity.sys_object_id or "", identity.sys_descr or "").name
    assert first == (PROFILE_OF[name] if name not in NEEDS_VENDOR_PROBE else "generic")


@pytest.mark.parametrize("name", RECORDINGS)
async def test_client_counts_equal_librenms(simulator, client, profiles, name):
    sensors = librenms_client_sensors(name)
    assert sensors, f"LibreNMS expects no client sensor for {name}"
    _, result = await identified_poll(client, simulator, profiles, name)
    ours = every_count(result)
    by_oid: dict[str, int] = defaultdict(int)
    for c in ours:
        assert c.oid, c
        by_oid[c.oid] += c.count
    assert all(type(c.count) is int for c in ours)  # Counter32-typed counts are read as plain gauges
    for sensor in sensors:
        check = vc.check_sensor(name, sensor, ours)
        if check.reason:  # not offered, for the reason written in tests/vendor_coverage.py
            assert not check.matched, f"{check.descr}: matched after all, drop its reason"
            continue
        oids = vc.sensor_oids(sensor)  # none: LibreNMS counts in PHP (by SSID, or the total)
        unread = [o for o in oids if o not in by_oid]
        assert not unread, f"{sensor['sensor_descr']}: LibreNMS reads {unread}, we do not"
        assert check.ours == sensor["sensor_current"], check


@pytest.mark.parametrize("name", RECORDINGS)
async def test_every_level_counts_every_station_once(simulator, client, profiles, name):
    """A device reporting several levels (SSID and radio, radio and total) gives the same sum at each:
    the reason a device's total is taken at one level only (monitor/domain/clients.py)."""
    _, result = await identified_poll(client, simulator, profiles, name)
    sums: dict[str, int] = defaultdict(int)
    for c in result.clients:
        sums[c.level] += c.count
    if result.controller_aps:
        sums["controller radios"] = sum(ap.clients or 0 for ap in result.controller_aps)
    assert len(set(sums.values())) <= 1, sums
    total = device_total(result.clients)
    if name in NO_CLIENT_COUNT:  # no count offered: absent, not zero
        assert total is None and not sums
        return
    assert total is not None and total[0] == next(iter(sums.values()))


@pytest.mark.parametrize("name", RECORDINGS)
async def test_uptime_and_interface_counters_where_the_recording_has_them(simulator, client, profiles, name):
    values = read_recording(name)
    profile, result = await identified_poll(client, simulator, profiles, name)
    # sysUpTime.0, or the vendor's uptime where the profile reads that (Grandstream has no sysUpTime)
    if profile.uptime in values:
        assert result.uptime_ticks == int(values[profile.uptime][1])
    else:
        assert result.uptime_ticks is None and "uptime" in result.missing
    spec = profile.interfaces
    assert spec is not None
    fallback = spec.fallback
    # ifXTable's 64-bit columns, or where the agent has none the 32-bit ifTable ones (the generic fallback)
    ins = column_of(values, spec.in_octets) or column_of(values, fallback and fallback.in_octets)
    outs = column_of(values, spec.out_octets) or column_of(values, fallback and fallback.out_octets)
    got = {i.index: i for i in result.interfaces}
    assert set(got) == set(ins) | set(outs)
    for idx, (kind, raw) in ins.items():
        assert got[idx].in_octets == int(raw)
        assert got[idx].counter_bits == (64 if kind == "70" else 32)
    for idx, (_, raw) in outs.items():
        assert got[idx].out_octets == int(raw)
    if not column_of(values, spec.in_octets):
        assert "interfaces.in_octets" in result.missing


async def test_fortiap_reads_32_bit_counters_and_has_no_uptime(simulator, client, profiles):
    if "fortiap_fap831f" not in RECORDINGS:
        pytest.skip("fortiap_fap831f.snmprec is not among the recordings")
    _, result = await identified_poll(client, simulator, profiles, "fortiap_fap831f")
    assert result.interfaces and all(i.counter_bits == 32 for i in result.interfaces)
    assert result.uptime_ticks is None
    assert {(c.ssid, c.radio): c.count for c in result.clients}[("CORP", "radio1")] == 16


async def test_absent_objects_cost_one_request_each_and_no_error(simulator, client, profiles):
    """The ZoneDirector recording lacks IF-MIB and the AP table: the poll succeeds, names what is
    missing, and the next poll asks each absent column once (no walk storm, no error)."""
    if "ruckuswireless_zd1200" not in RECORDINGS:
        pytest.skip("ruckuswireless_zd1200.snmprec is not among the recordings")
    profile, first = await identified_poll(client, simulator, profiles, "ruckuswireless_zd1200")
    assert {"interfaces.in_octets", "controller.aps.name"} <= set(first.missing)
    assert first.interfaces == () and first.controller_aps == () and first.detail == ""
    before = client.stats.requests
    second = await client.poll(target_for(simulator, "ruckuswireless_zd1200"), profile)
    assert second.ok and second.missing == first.missing and second.clients == first.clients
    assert client.stats.requests - before <= 2  # one GET of the scalars, one GETBULK for every column


async def test_the_poller_picks_profiles_and_exports_only_what_devices_have(simulator, tmp_path, profiles):
    """Every recording as an AP with ``profile: auto``: one probe round and one metrics round through the
    real poller. All come up (FortiAP and the Zyxel have no sysUpTime: answered, so alive), each gets its
    profile, and objects a device lacks produce no metric and no counted SNMP error."""
    ids = {name: name.replace("_", "-") for name in RECORDINGS}
    config = Config.model_validate({
        "service": {"spread": 0, "confirm_failures": 1},
        "credentials": {name: {"version": "2c", "community": {"env": "UNUSED"}} for name in RECORDINGS},
        "sites": [{"id": "lab", "name": "Lab", "category": "other", "aps": [
            {"id": ids[name], "address": f"{simulator.host}:{simulator.port}", "credentials": name}
            for name in RECORDINGS]}],
    })
    loaded = LoadedConfig(tmp_path / "wifimon.yaml", config, {n: V2cCredentials(n) for n in RECORDINGS}, profiles)

    class Sink:
        def transitions(self, transitions):
            pass

        def events(self, events):
            pass

    registry = CollectorRegistry()
    client = PysnmpClient()
    poller = Poller(loaded, client, profiles, Sink(), ServiceMetrics(registry, "test"), clock=time.time)
    try:
        await poller.register()
        await poller.probe_round()
        await poller.metrics_round()
    finally:
        await poller.close()
        await client.close()
    poller.publish()
    views = {ap.ap: ap for ap in poller.snapshot().aps}
    samples: dict[str, dict[tuple, float]] = defaultdict(dict)
    for family in FleetCollector(poller.snapshot).collect():
        for s in family.samples:
            samples[s.name][tuple(sorted(s.labels.items()))] = s.value

    def series(metric: str, ap: str) -> list[float]:
        return [v for labels, v in samples[metric].items() if ("ap", ap) in labels]

    for name in RECORDINGS:
        view = views[ids[name]]
        values = read_recording(name)
        assert view.status == ApStatus.UP, (name, view.reason)
        assert view.profile == PROFILE_OF[name]
        uptime_oid = profiles[PROFILE_OF[name]].uptime  # sysUpTime.0, or the vendor's (Grandstream)
        assert bool(series("wifi_ap_uptime_seconds", ids[name])) == (uptime_oid in values), name
        has_ifaces = any(oid.startswith(("1.3.6.1.2.1.31.1.1.1.6.", "1.3.6.1.2.1.2.2.1.10.")) for oid in values)
        assert bool(series("wifi_ap_receive_bytes_total", ids[name])) == has_ifaces, name
        total = device_total(view.clients)
        if name in NO_CLIENT_COUNT:  # absent, not zero: no stations series at all
            assert total is None and series("wifi_ap_stations", ids[name]) == [], name
            continue
        assert total is not None
        assert series("wifi_ap_stations", ids[name]) == [float(total[0])]
    site_total = samples["wifi_site_clients"][(("site", "lab"),)]
    # The site's figure counts the APs that gave one; the others are counted apart (absent is not zero).
    assert site_total == sum(v.client_total for v in views.values() if v.client_total is not None)
    errors = [s for f in registry.collect() if f.name == "wifimon_snmp_errors"
              for s in f.samples if s.name.endswith("_total") and s.value]
    assert not errors, errors
    assert ErrorKind.NO_SUCH_OBJECT.value not in {v.reason for v in views.values()}


@pytest.mark.parametrize("name", ["fortiap_fap831f", "ciscowlc_cbw240ac", "ruckuswireless-unleashed", "openwrt"])
def test_wifimon_identify_prints_what_it_found(simulator, capsys, name):
    if name not in RECORDINGS:
        pytest.skip(f"{name}.snmprec is not among the recordings")
    from monitor.cli.main import main

    assert main(["identify", f"{simulator.host}:{simulator.port}", "--community", name, "--timeout", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"profile: {PROFILE_OF[name]}"
    assert [ln for ln in lines if ln.startswith("profile: ")] == [lines[-1]]
    values = read_recording(name)
    assert lines[1] == f"sysObjectID: {values['1.3.6.1.2.1.1.2.0'][1]}"
    assert lines[2].startswith("uptime: ") and ("(none" in lines[2]) == (SYS_UPTIME not in values)
    assert any(ln.startswith("objects answered: ") for ln in lines)
    # Which rule picked the profile, and the runner-up (the profile that would have been picked next).
    picked_by, runner_up = lines[3], lines[4]
    assert picked_by.startswith("picked by: ") and runner_up.startswith("runner-up: ")
    if name == "fortiap_fap831f":
        assert picked_by == ("picked by: sysObjectID under 1.3.6.1.4.1.12356.120;"
                             " vendor object 1.3.6.1.4.1.12356.120.1.1.0 answered")
        assert runner_up == "runner-up: none (generic)"
    if name == "ruckuswireless-unleashed":  # the ZoneDirector profile claims the same products tree
        assert picked_by.startswith("picked by: sysObjectID under 1.3.6.1.4.1.25053.3.1.5;")
        assert runner_up.startswith("runner-up: ruckus_zd (sysObjectID under 1.3.6.1.4.1.25053.3.1.5;"
                                    " sysDescr matches none of ")
    if name == "openwrt":  # nothing specific: generic, said once, and no error
        assert picked_by == "picked by: no specific profile matches (sysObjectID, sysDescr, vendor objects): generic"
        assert "clients: none reported" in lines and not capsys.readouterr().err
    if name == "ciscowlc_cbw240ac":
        assert "clients: 23 (counted at level ssid)" in lines
        assert "  controller.aps.status 1.3.6.1.4.1.14179.2.2.1.1.6" in lines  # listed under missing
        assert any(ln.startswith("controller APs: 4 listed") for ln in lines)


def test_wifimon_identify_usage_errors_exit_2(capsys):
    from monitor.cli.main import main

    assert main(["identify", "127.0.0.1:notaport"]) == 2
    assert main(["identify", "127.0.0.1", "--auth-protocol", "sha"]) == 2
    err = capsys.readouterr().err
    assert "notaport" in err and "--v3-user" in err


async def test_the_big_controller_recording_is_polled_in_a_bounded_number_of_requests(simulator, client, profiles):
    """ArubaOS 6.4 with 690 APs, 1.7 MB of walk: its radio table (1,380 rows) has no AP table beside it in
    the recording, so it is not walked (its rows would attach to nothing). The poll reads the total and 97
    interfaces in a handful of requests, well inside a 60 s interval, and the next poll, sized from this
    one, in fewer; no cap is hit, so nothing is cut short."""
    if "arubaos" not in RECORDINGS:
        pytest.skip("arubaos.snmprec is not among the recordings")
    target = target_for(simulator, "arubaos")
    await client.register([target])
    profile = profiles["arubaos_controller"]
    costs = []
    for _ in range(2):
        requests, varbinds = client.stats.requests, client.stats.varbinds
        result = await client.poll(target, profile)
        costs.append((client.stats.requests - requests, client.stats.varbinds - varbinds))
        assert result.ok and result.detail == "", result.detail
        assert device_total(result.clients) == (2654, "ap") and len(result.interfaces) == 97
        assert result.controller_aps == ()  # wlsxWlanAPTable is not in the recording
        assert result.duration < 10
    (first, first_values), (second, second_values) = costs
    assert first <= 12 and second <= 7 and second <= first, costs
    assert first_values < 1000 and second_values < 1000, costs  # the radio table alone is 2,760 values


async def test_what_real_agents_say_is_kept_as_it_is(simulator, client, profiles):
    """Redacted and empty SSID names, a label column the agent lacks, Counter32-typed gauges: read faithfully.
    (That repeated names make distinct series is the exposition's business, not the collector's.)"""
    needed = {"ruckuswireless_zd1200", "unifi", "airos", "ruckuswireless-hotzone"}
    if not needed <= set(RECORDINGS):
        pytest.skip(f"needs the recordings {sorted(needed)}")
    # ZoneDirector: every WLAN's SSID is "<private>" in the recording; eight WLANs, eight rows, not one.
    _, zd = await identified_poll(client, simulator, profiles, "ruckuswireless_zd1200")
    wlans = [c for c in zd.clients if c.level == "ssid"]
    assert len(wlans) == 8 and {c.ssid for c in wlans} == {"<private>"} and len({c.oid for c in wlans}) == 8
    assert sum(c.count for c in wlans) == 6 == device_total(zd.clients)[0]
    # Older UniFi: a VAP with an empty SSID is still a row of its own.
    _, unifi = await identified_poll(client, simulator, profiles, "unifi")
    assert [(c.ssid, c.count) for c in unifi.clients] == [("", 0), ("Main SSID", 1), ("guest", 3), ("Maintenance", 0)]
    # airOS: no ubntWlStatSsid in the recording (a hole): the count is read, its SSID label is empty.
    _, airos = await identified_poll(client, simulator, profiles, "airos")
    assert [(c.ssid, c.radio, c.count) for c in airos.clients] == [("", "1", 22)]
    assert "clients[0].ssid" in airos.missing
    # Ruckus standalone: ruckusRadioStatsNumSta is Counter32 on the wire, a count of stations all the same.
    values = read_recording("ruckuswireless-hotzone")
    assert values["1.3.6.1.4.1.25053.1.1.12.1.1.1.3.1.2.1"][0] == "65"
    _, hotzone = await identified_poll(client, simulator, profiles, "ruckuswireless-hotzone")
    assert [(c.radio, c.count, type(c.count)) for c in hotzone.clients] == [("2.4GHz", 1, int), ("5GHz", 0, int)]
