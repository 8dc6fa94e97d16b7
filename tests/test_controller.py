"""Controller mode: the APs the inventory expects against the controller's AP table.

The pure part (``monitor.polling.controller``) is tested on rows made here; the poller is tested end to end
against snmpsim serving real controller recordings (Cisco CBW, Aruba Instant) and copies of them
written to tmp with an AP removed or reported down.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from collectors.profile import load_profiles
from collectors.snmp import PysnmpClient
from collectors.types import ClientCount, ControllerAp, V2cCredentials
from monitor.domain.clients import device_total
from monitor.config.load import ConfigError, LoadedConfig, load_config, parse_config
from monitor.config.model import Config
from monitor.alerting.rules import RuleInputs, desired_alerts
from monitor.alerting.settings import Thresholds
from monitor.domain.state import DeviceTrack, Policy, lose_sight
from monitor.polling.controller import ExpectedAp, find_row, table_lost, verdicts
from monitor.domain.vocabulary import ApStatus, Reason
from monitor.exposition.metrics import FleetCollector, ServiceMetrics
from monitor.polling.poller import Poller
from tests.agents import free_udp_port, hostile_agent, shared_dir, snmpsim_agent

# -- pure ----------------------------------------------------------------------------------------

ROWS = (
    ControllerAp(index="1", name="Park-AP1", mac="14:16:9d:24:ec:80", ip="10.0.0.1", status="up", clients=3,
                 radios=(ClientCount("radio", 1, "2.4GHz"), ClientCount("radio", 2, "5GHz"))),
    ControllerAp(index="2", name="Park-AP2", mac="a0:0f:37:1a:08:80", status="down", raw_status="2"),
    ControllerAp(index="3", name="Market-AP1", mac="a0:0f:37:1a:0a:c0", ip="10.0.0.3", status="unknown",
                 raw_status="7", clients=4),
)


def test_an_ap_missing_from_the_table_is_down_absent_from_controller():
    (v,) = verdicts("wlc1", [ExpectedAp("gs-9-ap1", "Pier-AP9")], ROWS)
    assert (v.ok, v.reason) == (False, Reason.ABSENT_FROM_CONTROLLER)
    assert "wlc1" in v.detail and "Pier-AP9" in v.detail and "3 AP(s)" in v.detail
    assert v.clients == ()


def test_controller_reported_down_and_up_map_onto_our_states():
    up, down, unknown = verdicts("wlc1", [ExpectedAp("a", "Park-AP1"), ExpectedAp("b", "park-ap2"),
                                          ExpectedAp("c", "10.0.0.3")], ROWS)
    assert (up.ok, up.reason) == (True, None)
    assert (down.ok, down.reason) == (False, Reason.CONTROLLER_REPORTS_DOWN) and "2" in down.detail
    # A status the profile does not map is no evidence of an outage: listed, so up, with a note.
    assert unknown.ok and "'7'" in unknown.detail


def test_clients_are_attributed_per_radio_or_as_the_ap_total_never_both():
    up, _, unknown = verdicts("wlc1", [ExpectedAp("a", "Park-AP1"), ExpectedAp("b", "Park-AP2"),
                                       ExpectedAp("c", "Market-AP1")], ROWS)
    assert [(c.level, c.radio, c.count) for c in up.clients] == [("radio", "2.4GHz", 1), ("radio", "5GHz", 2)]
    assert [(c.level, c.count) for c in unknown.clients] == [("ap", 4)]
    assert device_total(up.clients) == (3, "radio")


@pytest.mark.parametrize("spelling", ["14:16:9D:24:EC:80", "14-16-9d-24-ec-80", "14169d24ec80", "1416.9d24.ec80"])
def test_macs_match_in_any_notation(spelling):
    row = find_row(spelling, ROWS)  # colons, dashes, bare hex, Cisco's dotted form
    assert row is not None and row.name == "Park-AP1"


def test_device_total_takes_one_level_in_order():
    counts = [ClientCount("radio", 11), ClientCount("radio", 54), ClientCount("ap", 65)]
    assert device_total(counts) == (65, "ap")
    assert device_total([ClientCount("ssid", 2), ClientCount("radio", 2), ClientCount("ssid", 3)]) == (5, "ssid")
    assert device_total([]) is None


def test_an_empty_table_is_lost_with_or_without_a_good_walk_before():
    loss = table_lost("wlc1", 40, 0, 12, now=1000.0)
    assert loss is not None and (loss.rows_before, loss.rows_now, loss.at) == (40, 0, 1000.0)
    assert "wlc1" in loss.detail and "0 row(s) now, last good 40" in loss.detail
    first = table_lost("wlc1", None, 0, 12, now=5.0)  # the first walk of the run already empty
    assert first is not None and first.rows_before is None and "none yet" in first.detail
    assert table_lost("wlc1", None, 0, 0, now=5.0) is None  # nothing expected of it: nothing lost


def test_a_table_below_half_its_last_good_count_is_lost_at_half_it_is_not():
    assert table_lost("wlc1", 40, 19, 12, now=0.0) is not None  # 19 < 20
    assert table_lost("wlc1", 40, 20, 12, now=0.0) is None  # exactly half: APs may really be gone
    assert table_lost("wlc1", 4, 3, 4, now=0.0) is None  # one AP removed: that AP is absent, not the table
    assert table_lost("wlc1", None, 3, 4, now=0.0) is None  # no history: a short table is taken as it is


def test_losing_sight_makes_an_up_or_down_ap_unknown_and_keeps_a_record():
    policy = Policy(confirm_failures=2)
    up = DeviceTrack("a", "s1", status=ApStatus.UP, since=10.0)
    track, transitions, _ = lose_sight(up, 100.0, policy, "table lost")
    assert (track.status, track.since, track.reason) == (ApStatus.UNKNOWN, 100.0, None)
    assert [(t.old, t.new, t.at, t.detail) for t in transitions] == [("up", "unknown", 100.0, "table lost")]
    again, more, _ = lose_sight(track, 130.0, policy, "table lost")
    assert more == [] and again.since == 100.0  # still lost: no new record
    failing = replace(up, failures=1, first_failure_at=90.0)
    assert lose_sight(failing, 100.0, policy, "x")[0].failures == 0  # no half-confirmed outage carried on


# -- config --------------------------------------------------------------------------------------


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "wifimon.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def _doc(controller_ref: str = "wlc1", controller_id: str = "wlc1") -> dict:
    return {
        "credentials": {"c": {"version": "2c", "community": {"env": "X"}}},
        "controllers": [{"id": controller_id, "address": "127.0.0.1:1161", "credentials": "c"}],
        "sites": [{"id": "s1", "name": "Site", "category": "park",
                   "aps": [{"id": "s1-ap1", "address": "127.0.0.1:1162", "credentials": "c",
                            "controller": controller_ref, "controller_ap": "Park-AP1"}]}],
    }


def test_config_accepts_controllers_and_aps_that_name_them(tmp_path):
    config = parse_config(_write(tmp_path, _doc()))
    assert config.controllers[0].id == "wlc1"
    assert config.sites[0].aps[0].controller == "wlc1" and not config.sites[0].aps[0].poll_direct


def test_config_names_an_unknown_controller_with_its_location(tmp_path):
    with pytest.raises(ConfigError) as exc:
        parse_config(_write(tmp_path, _doc(controller_ref="wlc9")))
    (problem,) = exc.value.problems
    assert "sites[0].aps[0].controller" in problem and "wlc9" in problem and "wifimon.yaml:" in problem


def test_config_rejects_a_controller_id_used_by_a_device(tmp_path):
    with pytest.raises(ConfigError) as exc:
        parse_config(_write(tmp_path, _doc(controller_ref="s1-ap1", controller_id="s1-ap1")))
    assert any("controllers[0].id" in p and "duplicate" in p for p in exc.value.problems)


# -- the poller against real controller recordings -------------------------------------------------

SHARED = shared_dir()
SNMPREC = SHARED / "snmprec" if SHARED else None
CISCO, ARUBA = "ciscowlc_cbw240ac", "aruba-instant"
BSN_AP_NAME = "1.3.6.1.4.1.14179.2.2.1.1.3"
BSN_AP_OPER_STATUS = "1.3.6.1.4.1.14179.2.2.1.1.6"
BSN_AP_IF = "1.3.6.1.4.1.14179.2.2.2.1"
BSN_AP_TABLES = "1.3.6.1.4.1.14179.2.2."
AP3 = "160.15.55.26.10.192"  # ap3's index (its MAC) in the Cisco recording
AP4 = "160.15.55.26.16.224"


def _need_recordings(*names: str) -> None:
    if SNMPREC is None or not all((SNMPREC / f"{n}.snmprec").exists() for n in names):
        pytest.skip("controller recordings not found: need ../shared/snmprec or $WIFIMON_SHARED/snmprec")


@pytest.fixture(scope="module")
def controllers(tmp_path_factory: pytest.TempPathFactory):
    """snmpsim serving: the Cisco and Aruba recordings as they are; ``cisco_trimmed``: ap3 removed from
    the AP table (and its radios); ``cisco_down``: bsnAPOperationStatus added, ap4 disassociating."""
    _need_recordings(CISCO, ARUBA)
    work = tmp_path_factory.mktemp("controllers")
    data = work / "data"
    data.mkdir()
    cisco = (SNMPREC / f"{CISCO}.snmprec").read_text(encoding="utf-8").splitlines()
    (data / f"{CISCO}.snmprec").write_text("\n".join(cisco) + "\n", encoding="utf-8")
    (data / f"{ARUBA}.snmprec").write_text((SNMPREC / f"{ARUBA}.snmprec").read_text(encoding="utf-8"), encoding="utf-8")
    def of_ap3(line: str) -> bool:
        oid = line.split("|", 1)[0]
        return oid.endswith(f".{AP3}") or f".{AP3}." in oid

    trimmed = [ln for ln in cisco if not of_ap3(ln)]
    assert len(trimmed) < len(cisco)
    (data / "cisco_trimmed.snmprec").write_text("\n".join(trimmed) + "\n", encoding="utf-8")
    names = [ln.split("|")[0][len(BSN_AP_NAME) + 1:] for ln in cisco if ln.startswith(BSN_AP_NAME + ".")]
    status = [f"{BSN_AP_OPER_STATUS}.{idx}|2|{2 if idx == AP4 else 1}" for idx in names]
    at = max(i for i, ln in enumerate(cisco) if ln.startswith(BSN_AP_NAME + ".")) + 1
    down = cisco[:at] + status + cisco[at:]  # keeps OID order: column 6 follows column 3
    (data / "cisco_down.snmprec").write_text("\n".join(down) + "\n", encoding="utf-8")
    # The same controller after a firmware change: it answers, its AP tables (bsnAPTable, bsnAPIfTable) are gone.
    empty = [ln for ln in cisco if not ln.startswith(BSN_AP_TABLES)]
    assert len(empty) < len(cisco)
    (data / "cisco_empty.snmprec").write_text("\n".join(empty) + "\n", encoding="utf-8")
    with snmpsim_agent(data, work, probe_community=CISCO) as agent:
        yield agent


class _Sink:
    def __init__(self) -> None:
        self.recorded: list = []

    def transitions(self, transitions) -> None:
        self.recorded.extend(transitions)

    def events(self, events) -> None:
        pass


def _poller(tmp_path: Path, address: str, community: str, aps: list[dict], *, confirm: int = 1,
            timeout: float = 3.0, interval: float = 15.0) -> tuple[Poller, _Sink, PysnmpClient]:
    config = Config.model_validate({
        "service": {"spread": 0, "confirm_failures": confirm, "recheck_interval": 0.05, "probe_interval": interval,
                    "snmp": {"timeout": timeout, "retries": 0}},
        "credentials": {"ctl": {"version": "2c", "community": {"env": "UNUSED"}},
                        "ap": {"version": "2c", "community": {"env": "UNUSED"}}},
        "controllers": [{"id": "wlc1", "address": address, "credentials": "ctl"}],
        "sites": [{"id": "s1", "name": "Site", "category": "park",
                   "aps": [{"address": "127.0.0.1:9", "credentials": "ap", "controller": "wlc1", **ap}
                           for ap in aps]}],
    })
    loaded = LoadedConfig(tmp_path / "wifimon.yaml", config,
                          {"ctl": V2cCredentials(community), "ap": V2cCredentials("unused")}, load_profiles())
    sink = _Sink()
    client = PysnmpClient()
    poller = Poller(loaded, client, loaded.profiles, sink, ServiceMetrics(CollectorRegistry(), "test"),
                    clock=time.time)
    return poller, sink, client


async def _run(poller: Poller, client: PysnmpClient, until, deadline_s: float = 15.0) -> None:
    """Probe rounds until ``until()`` holds (re-checks run in between), within a deadline."""
    try:
        await poller.register()
        end = time.monotonic() + deadline_s
        await poller.probe_round()
        while not until():
            assert time.monotonic() < end, "condition not reached before the deadline"
            await asyncio.sleep(0.05)  # let scheduled re-checks run; the condition decides, not the sleep
    finally:
        await poller.close()
        await client.close()


CISCO_APS = [{"id": f"s1-ap{i}", "controller_ap": f"ap{i}"} for i in (1, 2, 3, 4)]


async def test_an_expected_ap_the_controller_does_not_list_goes_down_absent(controllers, tmp_path):
    aps = CISCO_APS + [{"id": "s1-ap5", "controller_ap": "ap5"}]
    poller, sink, client = _poller(tmp_path, f"{controllers.host}:{controllers.port}", CISCO, aps, confirm=2)
    await _run(poller, client, lambda: poller.tracks["s1-ap5"].status == ApStatus.DOWN)
    assert poller.tracks["s1-ap5"].reason == Reason.ABSENT_FROM_CONTROLLER
    assert all(poller.tracks[f"s1-ap{i}"].status == ApStatus.UP for i in (1, 2, 3, 4))
    downs = [t for t in sink.recorded if t.entity == "s1-ap5" and t.new == "down"]
    assert len(downs) == 1 and "ap5" in downs[0].detail and "wlc1" in downs[0].detail
    poller.publish()
    views = {v.ap: v for v in poller.snapshot().aps}
    # Clients come from the controller's per-radio rows (bsnApIfNoOfUsers): ap2 has 3 + 5.
    assert sorted((c.radio, c.count) for c in views["s1-ap2"].clients) == [("2.4GHz", 3), ("5GHz", 5)]
    assert views["s1-ap2"].client_level == "radio" and views["s1-ap5"].clients == ()
    assert sum(v.client_total or 0 for v in views.values()) == 23  # = the controller's own SSID total
    assert views["s1-ap5"].client_total is None  # not listed: its count is unknown, not 0


async def test_an_ap_removed_from_the_table_is_absent_and_the_others_stay_up(controllers, tmp_path):
    poller, _, client = _poller(tmp_path, f"{controllers.host}:{controllers.port}", "cisco_trimmed", CISCO_APS)
    await _run(poller, client, lambda: poller.tracks["s1-ap3"].status != ApStatus.UNKNOWN)
    assert (poller.tracks["s1-ap3"].status, poller.tracks["s1-ap3"].reason) == (ApStatus.DOWN,
                                                                                 Reason.ABSENT_FROM_CONTROLLER)
    assert [poller.tracks[f"s1-ap{i}"].status for i in (1, 2, 4)] == [ApStatus.UP] * 3


async def test_controller_reported_down_is_controller_reports_down(controllers, tmp_path):
    poller, _, client = _poller(tmp_path, f"{controllers.host}:{controllers.port}", "cisco_down", CISCO_APS)
    await _run(poller, client, lambda: poller.tracks["s1-ap4"].status != ApStatus.UNKNOWN)
    assert (poller.tracks["s1-ap4"].status, poller.tracks["s1-ap4"].reason) == (ApStatus.DOWN,
                                                                                 Reason.CONTROLLER_REPORTS_DOWN)
    assert [poller.tracks[f"s1-ap{i}"].status for i in (1, 2, 3)] == [ApStatus.UP] * 3


async def test_aruba_instant_aps_match_by_mac_with_uptime_from_the_controller(controllers, tmp_path):
    aps = [{"id": "ultimo-ap06", "controller_ap": "68-28-CF-C7-E9-C0"},
           {"id": "ultimo-ap14", "controller_ap": "ECA-Ultimo-L11-AP14"},
           {"id": "ultimo-ap99", "controller_ap": "68:28:cf:00:00:99"}]
    poller, _, client = _poller(tmp_path, f"{controllers.host}:{controllers.port}", ARUBA, aps)
    await _run(poller, client, lambda: poller.tracks["ultimo-ap99"].status != ApStatus.UNKNOWN)
    assert poller.tracks["ultimo-ap06"].status == poller.tracks["ultimo-ap14"].status == ApStatus.UP
    assert poller.tracks["ultimo-ap99"].reason == Reason.ABSENT_FROM_CONTROLLER
    poller.publish()
    views = {v.ap: v for v in poller.snapshot().aps}
    assert views["ultimo-ap06"].uptime_seconds == pytest.approx(1220178, abs=30)  # aiAPUptime 122017800 ticks
    assert views["ultimo-ap06"].profile == "auto"  # the AP's own profile; the controller's was identified


async def test_an_unreachable_controller_fails_its_aps_observations_with_its_error(tmp_path):
    port = free_udp_port()  # nothing listens there
    poller, sink, client = _poller(tmp_path, f"127.0.0.1:{port}", "x", CISCO_APS[:2], timeout=0.2)
    await _run(poller, client, lambda: all(poller.tracks[a].status == ApStatus.DOWN for a in ("s1-ap1", "s1-ap2")))
    assert poller.tracks["s1-ap1"].reason == Reason.TIMEOUT
    assert "through controller wlc1" in poller.tracks["s1-ap1"].detail
    # Recorded as the data says (down, timeout), paged once: for the controller, the site's alert under it.
    assert [t.new for t in sink.recorded if t.entity == "s1-ap1"] == ["down"]
    poller.publish()
    (view,) = poller.snapshot().controllers
    assert view.failing_since is not None and view.error.startswith("timeout")
    alerts = desired_alerts(RuleInputs(poller.snapshot()), Thresholds(), time.time())
    assert sorted(alerts) == ["controller_down:wlc1", "site_down:s1"]
    assert alerts["controller_down:wlc1"].aps == ("s1-ap1", "s1-ap2")
    assert alerts["site_down:s1"].parents == ("controller_down:wlc1",)


async def test_a_silent_controller_does_not_hold_the_probe_round_past_its_interval(tmp_path):
    # Waited for after the round, a controller's timeouts (5 s here) stretched a 2 s round past its interval
    # and the scheduler skipped the next probe round for the whole fleet (bench/soak.py, a controller outage).
    async with hostile_agent("silent") as (host, port, agent):
        poller, _, client = _poller(tmp_path, f"{host}:{port}", "x", CISCO_APS[:2], timeout=5.0, interval=2.0)
        try:
            await poller.register()
            loop = asyncio.get_running_loop()
            began = loop.time()
            await poller.probe_round()
            assert loop.time() - began < 2.0 and agent.received >= 1  # asked within the round, not waited out
            ctl = poller._watch.controllers["wlc1"]
            assert ctl.answered is None and poller._watch.in_flight()  # its walk goes on in the background
            end = loop.time() + 30
            while ctl.answered is None:  # the walk ends on its own and hands its APs the failure
                assert loop.time() < end, "the controller's walk never ended"
                await asyncio.sleep(0.05)
            assert ctl.answered is False and ctl.error.startswith("timeout")
            assert "through controller wlc1" in poller.tracks["s1-ap1"].detail
        finally:
            await poller.close()
            await client.close()


async def test_a_table_that_comes_back_empty_is_one_controller_alert_and_unknown_aps(controllers, tmp_path):
    poller, sink, client = _poller(tmp_path, f"{controllers.host}:{controllers.port}", CISCO, CISCO_APS)
    try:
        await poller.register()
        await poller.probe_round()
        assert [poller.tracks[f"s1-ap{i}"].status for i in (1, 2, 3, 4)] == [ApStatus.UP] * 4
        ctl = poller._watch.controllers["wlc1"]  # the controller now serves the recording without its tables
        ctl.target = replace(ctl.target, credentials=V2cCredentials("cisco_empty"))
        await client.register([ctl.target])
        await poller.probe_round()
        lost = dict(poller.tracks)
        poller.publish()
        snap = poller.snapshot()
        ctl.target = replace(ctl.target, credentials=V2cCredentials(CISCO))  # the table is back
        await client.register([ctl.target])
        await poller.probe_round()
    finally:
        await poller.close()
        await client.close()
    assert [poller.tracks[f"s1-ap{i}"].status for i in (1, 2, 3, 4)] == [ApStatus.UP] * 4
    assert poller.snapshot().controllers[0].table_lost_since is not None  # not republished yet
    poller.publish()
    assert poller.snapshot().controllers[0].table_lost_since is None
    assert desired_alerts(RuleInputs(poller.snapshot()), Thresholds(), time.time()) == {}
    assert [lost[f"s1-ap{i}"].status for i in (1, 2, 3, 4)] == [ApStatus.UNKNOWN] * 4
    assert not [t for t in sink.recorded if t.new == "down"]
    unknowns = [t for t in sink.recorded if t.entity.startswith("s1-ap") and t.new == "unknown"]
    assert len(unknowns) == 4 and all("0 row(s) now, last good 4" in t.detail for t in unknowns)
    assert [t.new for t in sink.recorded if t.entity == "s1"] == ["up", "unknown", "up"]
    (view,) = snap.controllers
    assert (view.controller, view.rows_before, view.rows_now) == ("wlc1", 4, 0)
    alerts = desired_alerts(RuleInputs(snap), Thresholds(), time.time())
    assert list(alerts) == ["controller_table_lost:wlc1"]  # one page for the controller, none per site
    assert alerts["controller_table_lost:wlc1"].detail == "wlc1|4|0"


def _controller_samples(poller: Poller) -> dict[str, float | None]:
    registry = CollectorRegistry()
    registry.register(FleetCollector(poller.snapshot))
    c = {"controller": "wlc1"}
    return {"up": registry.get_sample_value("wifi_controller_up", c),
            "clients": registry.get_sample_value("wifi_controller_clients", c),
            "joined": registry.get_sample_value("wifi_controller_aps", {**c, "state": "joined"}),
            "expected": registry.get_sample_value("wifi_controller_aps", {**c, "state": "expected"})}


async def test_the_controllers_own_figures_are_exported(controllers, tmp_path):
    aps = CISCO_APS + [{"id": "s1-ap5", "controller_ap": "ap5"}]  # expected, not joined
    poller, _, client = _poller(tmp_path, f"{controllers.host}:{controllers.port}", CISCO, aps)
    poller.publish()
    before = _controller_samples(poller)
    assert before["expected"] == 5 and before["joined"] is None and before["clients"] is None
    assert before["up"] is not None and before["up"] != before["up"]  # NaN: not polled yet, not 0
    await _run(poller, client, lambda: poller.tracks["s1-ap5"].status != ApStatus.UNKNOWN)
    poller.publish()
    # The recording's own SSID total (bsnDot11EssNumberOfMobileStations) is 23; its table lists ap1..ap4.
    assert _controller_samples(poller) == {"up": 1.0, "clients": 23.0, "joined": 4.0, "expected": 5.0}


async def test_an_unreachable_controller_exports_up_0_and_no_figures(tmp_path):
    poller, _, client = _poller(tmp_path, f"127.0.0.1:{free_udp_port()}", "x", CISCO_APS[:2], timeout=0.2)
    await _run(poller, client, lambda: poller.tracks["s1-ap1"].status == ApStatus.DOWN)
    poller.publish()
    assert _controller_samples(poller) == {"up": 0.0, "clients": None, "joined": None, "expected": 2.0}


def test_check_config_names_a_controller_profile_without_an_ap_table(tmp_path, monkeypatch):
    monkeypatch.setenv("X", "community")
    doc = _doc()
    doc["controllers"][0]["profile"] = "unifi"
    path = _write(tmp_path, doc)
    with pytest.raises(ConfigError) as exc:
        load_config(path)  # what run and check-config both call
    (problem,) = exc.value.problems
    assert "controllers[0].profile" in problem and "no controller AP table" in problem and "cisco_wlc" in problem
