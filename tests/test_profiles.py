"""Vendor profiles as data: validation with located errors, identification rules, the pure mapping, and the
OIDs of the profiles no recording can check, compared with the vendor MIB definitions.

Profiles are validated like config: a bad file fails to load with a message naming the file and the key
path. One test per kind of mistake below.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from collectors.poll_mapping import Counter32, channel_of, index_text, map_tables, mac_text
from collectors.profile import (
    PROFILE_DIR,
    Profile,
    ProfileError,
    identify,
    load_profile,
    load_profiles,
    object_labels,
    ranked,
)
from monitor.domain.counters import counter_delta

# -- the built-in profiles -------------------------------------------------------------------------

FAMILIES = {
    "generic", "unifi", "cisco_wlc", "aruba_instant", "arubaos_controller", "ruckus_zd", "ruckus_smartzone",
    "mikrotik", "fortiap", "zyxel_nwa", "zyxel_nxc", "cambium_epmp", "huawei_ac",
    "airos", "albentia", "cambium_pmp", "fortiwlc", "grandstream_gwn", "hiveos", "pepwave",
    "ruckus_standalone", "ruckus_unleashed", "stellar_ap1321", "tachyon", "xirrus", "cisco_c9800", "meraki_mr",
    "extreme_ewc",
}


def test_every_family_has_a_profile_that_loads():
    profiles = load_profiles()
    assert FAMILIES <= set(profiles)
    for path in PROFILE_DIR.glob("*.yaml"):
        assert load_profile(path).name == path.stem, "a profile's file is named after it"


def test_no_two_profiles_claim_a_device_equally():
    """For each profile's own sysObjectID prefixes and sysDescr, that profile (and no other) wins."""
    profiles = load_profiles()
    for p in profiles.values():
        for oid in p.match.sys_object_id:
            descr = {"zyxel_nxc": "NXC5500", "zyxel_nwa": "NWA5123-AC", "mikrotik": "RouterOS RB952",
                     "ruckus_zd": "Ruckus Wireless ZD1200", "cambium_pmp": "CANOPY 15.0 AP",
                     "hiveos": "AP230, HiveOS 8.1"}.get(p.name, "")
            assert identify(profiles, oid + ".1", descr).name == p.name, (p.name, oid)


# -- validation: one bad profile per kind of mistake -----------------------------------------------


def _bad(tmp_path: Path, body: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(body))
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    message = str(exc.value)
    assert str(path) in message
    return message


def test_unknown_key_is_named(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        clients:
          - {level: ssid, count: 1.3.6.1.4.1.9.1, ssids: 1.3.6.1.4.1.9.2}
    """)
    assert "clients.0.ssids" in msg and "Extra inputs are not permitted" in msg


def test_bad_oid_is_named(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        interfaces: {name: 1.3.6.1.2.1.31.1.1.1.1, in_octets: ifHCInOctets, out_octets: 1.3.6.1.2.1.31.1.1.1.10}
    """)
    assert "interfaces.in_octets" in msg and "not a numeric OID" in msg


def test_bad_type_is_named(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        interfaces: {name: 1.3.6.1.2.1.31.1.1.1.1, in_octets: 1.3.6.1.2.1.31.1.1.1.6,
                     out_octets: 1.3.6.1.2.1.31.1.1.1.10, counter_bits: 48}
        clients: [{level: floor, count: 1.3.6.1.4.1.9.1}]
    """)
    assert "interfaces.counter_bits" in msg and "clients.0.level" in msg  # every error at once


def test_bad_label_source_is_named(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        clients: [{level: vap, count: 1.3.6.1.4.1.9.1, radio: "index[one]"}]
    """)
    assert "clients.0.radio" in msg and "index[N]" in msg


def test_scalar_where_a_column_belongs_is_named(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        radios: {channel: 1.3.6.1.4.1.9.9.1.0}
    """)
    assert "radios.channel" in msg and "scalar" in msg


def test_probe_must_be_a_scalar_and_regex_must_compile(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        match: {probe: [1.3.6.1.4.1.9.9.618.1.8], sys_descr: ["(unclosed"]}
    """)
    assert "match.probe" in msg and "match.sys_descr" in msg


def test_incomplete_sections_are_named(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        memory: {total: 1.3.6.1.4.1.9.1.0}
        controller:
          aps: {name: 1.3.6.1.4.1.9.2, status: 1.3.6.1.4.1.9.3}
    """)
    assert "memory" in msg and "'used_percent'" in msg
    assert "controller.aps" in msg and "'status_map'" in msg


def test_bad_status_value_is_named(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        controller:
          aps: {name: 1.3.6.1.4.1.9.2, status: 1.3.6.1.4.1.9.3, status_map: {1: up, 2: sideways}}
    """)
    assert "controller.aps.status_map.2" in msg


def test_not_yaml_is_named(tmp_path):
    msg = _bad(tmp_path, "name: [x\n")
    assert "not valid YAML" in msg


def test_station_table_sources_are_checked(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        clients:
          - {level: ssid}
          - {level: radio, stations: 1.3.6.1.4.1.9.1}
          - {level: ssid, count: 1.3.6.1.4.1.9.2, served: 1.3.6.1.4.1.9.3}
    """)
    assert "clients.0" in msg and "exactly one of 'count'" in msg
    assert "clients.1" in msg and "level ssid" in msg
    assert "clients.2" in msg and "'served' goes with 'stations'" in msg


def test_probe_column_and_interface_fallback_are_checked(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        match: {probe_column: [1.3.6.1.4.1.9.1.0]}
        interfaces:
          name: 1.3.6.1.2.1.31.1.1.1.1
          in_octets: 1.3.6.1.2.1.31.1.1.1.6
          out_octets: 1.3.6.1.2.1.31.1.1.1.10
          fallback: {name: 1.3.6.1.2.1.2.2.1.2, in_octets: 1.3.6.1.2.1.2.2.1.10, out_octets: x, wrap: 32}
    """)
    assert "match.probe_column" in msg and "table column" in msg
    assert "interfaces.fallback.out_octets" in msg and "not a numeric OID" in msg
    assert "interfaces.fallback.wrap" in msg and "Extra inputs" in msg
    msg = _bad(tmp_path, """
        name: x
        interfaces:
          name: 1.3.6.1.2.1.31.1.1.1.1
          in_octets: 1.3.6.1.2.1.31.1.1.1.6
          out_octets: 1.3.6.1.2.1.31.1.1.1.10
          fallback: {name: 1.3.6.1.2.1.2.2.1.2, in_octets: 1.3.6.1.2.1.2.2.1.10.0, out_octets: 1.3.6.1.2.1.2.2.1.16}
    """)
    assert "interfaces.fallback.in_octets" in msg and "scalar" in msg


# -- identification rules --------------------------------------------------------------------------


def test_sysdescr_tells_apart_two_profiles_on_one_vendor_oid():
    profiles = load_profiles()
    assert identify(profiles, "1.3.6.1.4.1.890.1.15", "NXC5500").name == "zyxel_nxc"
    assert identify(profiles, "1.3.6.1.4.1.890.1.15", "NWA-").name == "zyxel_nwa"


def test_a_vendor_probe_identifies_a_device_with_a_generic_oid():
    profiles = load_profiles()
    netsnmp = "1.3.6.1.4.1.8072.3.2.10"
    assert identify(profiles, netsnmp, "Linux ap 4.4").name == "generic"
    probe = profiles["ruckus_smartzone"].match.probe[0]
    assert identify(profiles, netsnmp, "Linux ap 4.4", {probe}).name == "ruckus_smartzone"
    # an OID match outranks a probe
    assert identify(profiles, "1.3.6.1.4.1.14988.1", "", {probe}).name == "mikrotik"


def test_vendor_objects_tell_apart_devices_with_the_same_generic_identity():
    """airOS and older UniFi firmware both say Frogfoot's sysObjectID and "Linux …": the vendor MIB decides."""
    profiles = load_profiles()
    frogfoot, linux = "1.3.6.1.4.1.10002.1", "Linux 3.3.8 #1 Wed Jan 18 09:26:53 PST 2017 mips"
    unifi_radio, airos_cpu = profiles["unifi"].match.probe_column[0], profiles["airos"].match.probe[0]
    assert identify(profiles, frogfoot, linux).name == "generic"
    assert identify(profiles, frogfoot, linux, {unifi_radio}).name == "unifi"
    assert identify(profiles, frogfoot, linux, {airos_cpu}).name == "airos"


def test_ranking_says_which_rule_spoke():
    profiles = load_profiles()
    best, second = ranked(profiles, "1.3.6.1.4.1.25053.3.1.5.20", "Ruckus Wireless T300")[:2]
    assert best.profile.name == "ruckus_unleashed" and best.reasons == ("sysObjectID under 1.3.6.1.4.1.25053.3.1.5",)
    assert second.profile.name == "ruckus_zd" and second.score[1] == -1
    assert "sysDescr matches none of" in second.reasons[1]
    assert ranked(profiles, "1.3.6.1.4.1.8072.3.2.10", "Linux OpenWrt 5.4") == []  # generic, never ranked
    zd = ranked(profiles, "1.3.6.1.4.1.25053.3.1.5.15", "Ruckus Wireless ZD1200")[0]
    assert zd.profile.name == "ruckus_zd" and zd.reasons[1] == "sysDescr matches /\\bZD ?\\d{3,4}\\b/"


# -- the pure mapping --------------------------------------------------------------------------------


def _profile(**kw) -> Profile:
    return Profile.model_validate({"name": "t", **kw})


def test_scalars_and_index_labels_map_to_clients_with_their_source():
    p = _profile(clients=[
        {"level": "ap", "count": "1.3.6.1.4.1.9.9.1.0"},
        {"level": "ssid", "count": "1.3.6.1.4.1.9.9.2", "ssid": "index"},
        {"level": "radio", "count": "1.3.6.1.4.1.9.9.3", "radio": "index[1]", "radio_map": {2: "5GHz"}},
    ])
    tables = {
        "1.3.6.1.4.1.9.9.1.0": {"0": 7},
        "1.3.6.1.4.1.9.9.2": {"4.70.114.101.101": Counter32(5)},  # ESSID "Free" as an OID-encoded index
        "1.3.6.1.4.1.9.9.3": {"1.2": 2},
    }
    ap, ssid, radio = map_tables(p, tables, set()).clients
    assert (ap.level, ap.count, ap.oid) == ("ap", 7, "1.3.6.1.4.1.9.9.1.0")
    assert (ssid.ssid, ssid.count, type(ssid.count)) == ("Free", 5, int)
    assert (radio.radio, radio.oid) == ("5GHz", "1.3.6.1.4.1.9.9.3.1.2")


def test_controller_rows_join_radios_and_map_status():
    p = _profile(controller={
        "aps": {"name": "1.3.6.1.4.1.9.9.1", "ip": "1.3.6.1.4.1.9.9.2", "status": "1.3.6.1.4.1.9.9.3",
                "status_map": {"Connect": "up", "Disconnect": "down"}},
        "radios": {"clients": "1.3.6.1.4.1.9.9.4", "radio": "index", "radio_map": {"1": "5GHz"}},
    })
    mac_a, mac_b = "1.2.3.4.5.6", "1.2.3.4.5.7"
    tables = {
        "1.3.6.1.4.1.9.9.1": {mac_a: b"ap-a", mac_b: b"ap-b"},
        "1.3.6.1.4.1.9.9.2": {mac_a: "10.0.0.1"},
        "1.3.6.1.4.1.9.9.3": {mac_a: b"Connect", mac_b: b"Rebooting"},
        "1.3.6.1.4.1.9.9.4": {f"{mac_a}.0": 3, f"{mac_a}.1": 4, "9.9.9.9.9.9.0": 1},
    }
    a, b = map_tables(p, tables, set()).controller_aps
    assert (a.name, a.mac, a.ip, a.status, a.clients) == ("ap-a", "01:02:03:04:05:06", "10.0.0.1", "up", 7)
    assert [(c.radio, c.count) for c in a.radios] == [("radio0", 3), ("5GHz", 4)]
    assert (b.status, b.raw_status, b.clients) == ("unknown", "Rebooting", None)
    # The status column absent altogether: the table lists joined APs, so presence reads as up.
    (a2, _) = map_tables(p, {k: v for k, v in tables.items() if k != "1.3.6.1.4.1.9.9.3"},
                         {"1.3.6.1.4.1.9.9.3"}).controller_aps
    assert a2.status == "up"


def test_profile_without_controller_section_has_no_controller_rows():
    assert map_tables(_profile(), {}, set()).controller_aps is None


def test_lte_memory_cpu_and_radio_readings():
    p = _profile(
        cpu_load_percent="1.3.6.1.4.1.9.9.9.0", cpu_divisor=10,
        memory={"total": "1.3.6.1.4.1.9.9.10.0", "free": "1.3.6.1.4.1.9.9.11.0"},
        lte={"rsrp_dbm": "1.3.6.1.4.1.9.9.20", "sinr_db": "1.3.6.1.4.1.9.9.21", "divisor": 10},
        radios={"name": "1.3.6.1.4.1.9.9.30", "frequency_mhz": "1.3.6.1.4.1.9.9.31", "channel": "1.3.6.1.4.1.9.9.32",
                "noise_dbm": "1.3.6.1.4.1.9.9.33"},
    )
    tables = {
        "1.3.6.1.4.1.9.9.9.0": {"0": 420},
        "1.3.6.1.4.1.9.9.10.0": {"0": 1000}, "1.3.6.1.4.1.9.9.11.0": {"0": 250},
        "1.3.6.1.4.1.9.9.20": {"7": -1055}, "1.3.6.1.4.1.9.9.21": {"7": 125},
        "1.3.6.1.4.1.9.9.30": {"1": b"wlan1", "2": b"wlan2", "3": b"ether1"},
        "1.3.6.1.4.1.9.9.31": {"1": 2412, "2": 0},
        "1.3.6.1.4.1.9.9.32": {"2": b"53S"},
        "1.3.6.1.4.1.9.9.33": {"1": -105, "2": 0},
    }
    f = map_tables(p, tables, set())
    assert f.cpu_ratio == pytest.approx(0.42) and f.memory_ratio == pytest.approx(0.75)
    assert (f.lte.rsrp_dbm, f.lte.sinr_db, f.lte.rsrq_db) == (-105.5, 12.5, None)
    r1, r2 = f.radios  # ether1 is named by the name column but has no radio data: not a radio
    assert (r1.radio, r1.channel, r1.noise_dbm) == ("wlan1", 1, -105.0)
    assert (r2.radio, r2.channel, r2.noise_dbm) == ("wlan2", 53, None)  # 0 dBm noise: no reading


def test_missing_objects_are_named_not_zeroed():
    p = load_profiles()["zyxel_nwa"]
    f = map_tables(p, {}, {"1.3.6.1.4.1.890.1.15.3.5.15.0", "1.3.6.1.4.1.890.1.15.3.5.1.1.2"})
    assert f.clients == () and {"clients[0].count", "clients[1].count"} <= set(f.missing)


def test_station_tables_count_rows_per_ssid_and_served_ssids_count_zero():
    p = _profile(clients=[{"level": "ssid", "stations": "1.3.6.1.4.1.9.9.1", "served": "1.3.6.1.4.1.9.9.2"}])
    stations = {"1": b"guest", "2": b"guest", "3": b"<private>", "4": b""}  # real agents: redacted, empty
    served = {"1": b"guest", "2": b"staff", "3": b"guest"}  # one SSID on two radios: listed twice
    counts = map_tables(p, {"1.3.6.1.4.1.9.9.1": stations, "1.3.6.1.4.1.9.9.2": served}, set()).clients
    assert [(c.ssid, c.count) for c in counts] == [("guest", 2), ("staff", 0), ("<private>", 1), ("", 1)]
    assert {c.level for c in counts} == {"ssid"} and {c.oid for c in counts} == {"1.3.6.1.4.1.9.9.1"}
    # No station: the served SSIDs count 0. Neither table: no count at all (absent, not zero).
    none_on = map_tables(p, {"1.3.6.1.4.1.9.9.2": served}, {"1.3.6.1.4.1.9.9.1"}).clients
    assert [(c.ssid, c.count) for c in none_on] == [("guest", 0), ("staff", 0)]
    assert map_tables(p, {}, {"1.3.6.1.4.1.9.9.1", "1.3.6.1.4.1.9.9.2"}).clients == ()


def test_interfaces_fall_back_to_the_32_bit_iftable_and_wrap_at_32_bits():
    generic = load_profiles()["generic"]
    legacy = {
        "1.3.6.1.2.1.2.2.1.2": {"1": b"eth0", "2": b"ath0", "3": b"lo"},
        "1.3.6.1.2.1.2.2.1.10": {"1": Counter32(4294967290), "2": Counter32(7)},
        "1.3.6.1.2.1.2.2.1.16": {"1": Counter32(12), "2": Counter32(9)},
    }
    hc = {"1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"}
    fields = map_tables(generic, legacy, hc)
    assert [(i.name, i.in_octets, i.counter_bits) for i in fields.interfaces] == [
        ("eth0", 4294967290, 32), ("ath0", 7, 32)]  # lo has a name and no counter: no reading
    assert {"interfaces.in_octets", "interfaces.name"} <= set(fields.missing)
    # The monitor then bridges the 32-bit wrap: 4294967290 → 20 is 26 octets, not a reset.
    assert counter_delta(4294967290, 20, fields.interfaces[0].counter_bits, 60.0, False, 1.25e9) == (26, False)
    # Where ifXTable answers, the fallback is ignored even if present.
    both = {**legacy, "1.3.6.1.2.1.31.1.1.1.1": {"1": b"eth0"}, "1.3.6.1.2.1.31.1.1.1.6": {"1": 2**40},
            "1.3.6.1.2.1.31.1.1.1.10": {"1": 5}}
    (eth0,) = map_tables(generic, both, set()).interfaces
    assert (eth0.in_octets, eth0.counter_bits) == (2**40, 64)


def test_tables_with_holes_and_odd_values_give_what_the_device_said():
    p = _profile(clients=[{"level": "vap", "count": "1.3.6.1.4.1.9.9.1", "ssid": "1.3.6.1.4.1.9.9.2",
                           "radio": "index[0]"}])
    tables = {
        "1.3.6.1.4.1.9.9.1": {"1.1": 3, "1.2": Counter32(4), "2.1": b"n/a", "2.2": 0},  # a text "count": skipped
        "1.3.6.1.4.1.9.9.2": {"1.1": b"Free WiFi", "2.2": b"<private>", "3.1": b"orphan"},  # 1.2: no SSID
    }
    counts = map_tables(p, tables, set()).clients
    assert [(c.radio, c.ssid, c.count) for c in counts] == [("1", "Free WiFi", 3), ("1", "", 4), ("2", "<private>", 0)]
    assert all(type(c.count) is int for c in counts)  # a Counter32-typed gauge is read as a plain count


def test_tables_kept_per_band_get_the_band_as_their_radio():
    """Huawei's AC counts stations per SSID in one table per band: each row is an SSID on a band (a VAP level
    row), and the two together count every station once."""
    huawei = load_profiles()["huawei_ac"]
    guest, staff = "5.103.117.101.115.116", "5.115.116.97.102.102"  # "guest", "staff" as string indexes
    tables = {"1.3.6.1.4.1.2011.6.139.17.1.2.1.2": {guest: 7, staff: 1},
              "1.3.6.1.4.1.2011.6.139.17.1.2.1.3": {guest: 12}}
    counts = map_tables(huawei, tables, set()).clients
    assert [(c.ssid, c.radio, c.count) for c in counts] == [("guest", "2.4GHz", 7), ("staff", "2.4GHz", 1),
                                                             ("guest", "5GHz", 12)]
    assert {c.level for c in counts} == {"vap"} and len({(c.ssid, c.radio) for c in counts}) == 3


def test_an_extreme_controller_is_identified_and_its_ap_table_joins_the_stats_table():
    """EWC (HiPath) controllers: no recording, so a made-up C35 (control 17 in HIPATH-WIRELESS-PRODUCTS-MIB). Its
    apTable is indexed by apIndex, not the MAC: the MAC is a column, and apStatsTable's rows join by apIndex."""
    profiles = load_profiles()
    ewc = profiles["extreme_ewc"]
    best = ranked(profiles, "1.3.6.1.4.1.4329.15.1.1.17", "Extreme Wireless Controller C35")[0]
    assert best.profile.name == "extreme_ewc" and best.reasons[0] == "sysObjectID under 1.3.6.1.4.1.4329.15.1.1"
    # one of its APs (HIPATH-WIRELESS-PRODUCTS-MIB access, 1.3.6.1.4.1.4329.15.1.2) is not the controller
    assert identify(profiles, "1.3.6.1.4.1.4329.15.1.2.41", "AP3765e").name == "generic"
    # a controller behind a generic sysObjectID still answers apActiveCount
    assert identify(profiles, "1.3.6.1.4.1.8072.3.2.10", "Linux", {ewc.match.probe[0]}).name == "extreme_ewc"
    aps = "1.3.6.1.4.1.4329.15.3.5.1.2.1"
    stats = "1.3.6.1.4.1.4329.15.3.5.2.2.1"
    tables = {
        "1.3.6.1.4.1.4329.15.3.6.1.0": {"0": 9},
        f"{aps}.2": {"1": b"Park-AP1", "2": b"Pier-AP2"},
        f"{aps}.13": {"1": b"\x00\x1f\x45\x01\x02\x03", "2": b"\x00\x1f\x45\x01\x02\x04"},
        f"{aps}.14": {"1": "10.20.1.11", "2": "10.20.2.11"},
        f"{aps}.22": {"1": 1, "2": 2},
        f"{stats}.14": {"1": 9},  # only the active AP has a stats row
        f"{stats}.11": {"1": 360000},
    }
    fields = map_tables(ewc, tables, set())
    (total,) = fields.clients
    assert (total.level, total.count, total.oid) == ("ap", 9, "1.3.6.1.4.1.4329.15.3.6.1.0")
    park, pier = fields.controller_aps
    assert (park.name, park.mac, park.ip, park.status, park.clients, park.uptime_ticks) == (
        "Park-AP1", "00:1f:45:01:02:03", "10.20.1.11", "up", 9, 360000)
    # inactive(2): the AP lost its connection to the controller; no stats row, so no count (absent, not 0)
    assert (pier.name, pier.mac, pier.status, pier.raw_status, pier.clients) == (
        "Pier-AP2", "00:1f:45:01:02:04", "down", "2", None)


def test_a_fixed_radio_name_excludes_a_radio_source(tmp_path):
    msg = _bad(tmp_path, """
        name: x
        clients: [{level: vap, count: 1.3.6.1.4.1.9.1, radio: index, radio_name: 5GHz}]
    """)
    assert "clients.0" in msg and "'radio_name'" in msg


def test_octet_string_indexes_decode_to_their_text():
    korean = "공공와이파이".encode()
    index = ".".join([str(len(korean)), *map(str, korean)])
    assert index_text(index) == "공공와이파이"
    assert index_text("9.60.112.114.105.118.97.116.101.62") == "<private>"
    assert index_text("3.1.2.3") == "3.1.2.3"  # control bytes: not a string, left as the index


def test_small_helpers():
    assert index_text("4.70.114.101.101") == "Free" and index_text("1.5") == "1.5" and index_text("7") == "7"
    assert mac_text(b"\x00\x11\x22\x33\x44\x55") == "00:11:22:33:44:55" and mac_text(b"ap-1") == ""
    assert [channel_of(m) for m in (2412, 2484, 5180, 5805, 5955, 0)] == [1, 14, 36, 161, 1, None]


# -- profiles the recordings cannot check, against the vendor MIB definitions ------------------------
#
# pysmi cannot fetch MIBs here (no internet for mibs.pysnmp.com) and the vendor MIBs are not shipped
# with the project, so the objects these profiles rely on are written out below with MIB module, object
# name, OID and SMI type, as read on 2026-11-25 from the MIB text in LibreNMS's repository (mibs/…).
# What each entry's "source" says is what was checked; entries marked "secondary" were NOT compared with
# MIB text (the MIB was not available to read) and come from the sources named.

MIB = "MIB text"
SECONDARY = "secondary"
MIB_OBJECTS: dict[tuple[str, str], tuple[str, str, str, str, str]] = {
    # (profile, field) → (MIB module, object, OID, SMI type, source)
    # ArubaOS controller: WLSX-WLAN-MIB (ArubaOS 8.5), ARUBA-TC for ArubaAPStatus/ArubaPhyType values.
    # wlsxWlanMIB = wlsxEnterpriseMibModules 5 = 1.3.6.1.4.1.14823.2.2.1.5 (WLSX-SWITCH-MIB at .1 matches
    # LibreNMS's numeric wlsxSwitchTotalNumStationsAssociated 1.3.6.1.4.1.14823.2.2.1.1.3.2.0).
    # The total moved to WLSX-SWITCH-MIB's, which both ArubaOS recordings have (compared with the MIB as
    # compiled by pysmi, scottpeterman/python-librenms-mibs): WLSX-WLAN-MIB's is in neither recording.
    ("arubaos_controller", "clients[0].count"): ("WLSX-SWITCH-MIB", "wlsxSwitchTotalNumStationsAssociated", "1.3.6.1.4.1.14823.2.2.1.1.3.2.0", "Unsigned32", MIB),
    ("arubaos_controller", "clients[1].count"): ("WLSX-WLAN-MIB", "wlanESSIDNumStations", "1.3.6.1.4.1.14823.2.2.1.5.2.1.8.1.2", "Unsigned32", MIB),
    ("arubaos_controller", "controller.aps.name"): ("WLSX-WLAN-MIB", "wlanAPName", "1.3.6.1.4.1.14823.2.2.1.5.2.1.4.1.3", "DisplayString", MIB),
    ("arubaos_controller", "controller.aps.ip"): ("WLSX-WLAN-MIB", "wlanAPIpAddress", "1.3.6.1.4.1.14823.2.2.1.5.2.1.4.1.2", "IpAddress", MIB),
    ("arubaos_controller", "controller.aps.status"): ("WLSX-WLAN-MIB", "wlanAPStatus", "1.3.6.1.4.1.14823.2.2.1.5.2.1.4.1.19", "INTEGER {up(1), down(2)}", MIB),
    ("arubaos_controller", "controller.aps.uptime"): ("WLSX-WLAN-MIB", "wlanAPUpTime", "1.3.6.1.4.1.14823.2.2.1.5.2.1.4.1.12", "TimeTicks", MIB),
    ("arubaos_controller", "controller.radios.clients"): ("WLSX-WLAN-MIB", "wlanAPRadioNumAssociatedClients", "1.3.6.1.4.1.14823.2.2.1.5.2.1.5.1.7", "Integer32", MIB),
    ("arubaos_controller", "controller.radios.radio"): ("WLSX-WLAN-MIB", "wlanAPRadioType", "1.3.6.1.4.1.14823.2.2.1.5.2.1.5.1.2", "INTEGER {dot11a(1), dot11b(2), dot11g(3), dot11ag(4), wired(5)}", MIB),
    ("arubaos_controller", "match.probe[0]"): ("WLSX-WLAN-MIB", "wlsxWlanTotalNumAccessPoints", "1.3.6.1.4.1.14823.2.2.1.5.2.1.1.0", "Unsigned32", MIB),
    # Ruckus ZoneDirector AP table: RUCKUS-ZD-WLAN-MIB (ruckusZDWLANObjects = 1.3.6.1.4.1.25053.1.2.2.1.1, which
    # the recording's ruckusZDWLANTable confirms). System and WLAN objects are checked on the recording.
    ("ruckus_zd", "controller.aps.name"): ("RUCKUS-ZD-WLAN-MIB", "ruckusZDWLANAPDescription", "1.3.6.1.4.1.25053.1.2.2.1.1.2.1.1.2", "DisplayString", MIB),
    ("ruckus_zd", "controller.aps.status"): ("RUCKUS-ZD-WLAN-MIB", "ruckusZDWLANAPStatus", "1.3.6.1.4.1.25053.1.2.2.1.1.2.1.1.3", "INTEGER {disconnected(0), connected(1), approvalPending(2), upgradingFirmware(3), provisioning(4)}", MIB),
    ("ruckus_zd", "controller.aps.uptime"): ("RUCKUS-ZD-WLAN-MIB", "ruckusZDWLANAPUptime", "1.3.6.1.4.1.25053.1.2.2.1.1.2.1.1.6", "TimeTicks", MIB),
    ("ruckus_zd", "controller.aps.ip"): ("RUCKUS-ZD-WLAN-MIB", "ruckusZDWLANAPIPAddr", "1.3.6.1.4.1.25053.1.2.2.1.1.2.1.1.10", "IpAddress", MIB),
    ("ruckus_zd", "controller.aps.clients"): ("RUCKUS-ZD-WLAN-MIB", "ruckusZDWLANAPNumSta", "1.3.6.1.4.1.25053.1.2.2.1.1.2.1.1.15", "Unsigned32", MIB),
    # Ruckus SmartZone: RUCKUS-SZ-WLAN-MIB read in full; ruckusSZWLANNumSta's numeric OID as LibreNMS polls
    # it fixes ruckusSZWLANObjects = 1.3.6.1.4.1.25053.1.4.2.1.1. RUCKUS-SZ-SYSTEM-MIB was not read: its two
    # scalars are LibreNMS's numeric OIDs (LibreNMS/OS/RuckuswirelessSz.php comments).
    ("ruckus_smartzone", "clients[0].count"): ("RUCKUS-SZ-SYSTEM-MIB", "ruckusSZSystemStatsNumSta", "1.3.6.1.4.1.25053.1.4.1.1.1.15.2.0", "Unsigned32", SECONDARY),
    ("ruckus_smartzone", "match.probe[0]"): ("RUCKUS-SZ-SYSTEM-MIB", "ruckusSZSystemStatsNumAP", "1.3.6.1.4.1.25053.1.4.1.1.1.15.1.0", "Unsigned32", SECONDARY),
    ("ruckus_smartzone", "clients[1].count"): ("RUCKUS-SZ-WLAN-MIB", "ruckusSZWLANNumSta", "1.3.6.1.4.1.25053.1.4.2.1.1.1.2.1.12", "Unsigned32", MIB),
    ("ruckus_smartzone", "clients[1].ssid"): ("RUCKUS-SZ-WLAN-MIB", "ruckusSZWLANSSID", "1.3.6.1.4.1.25053.1.4.2.1.1.1.2.1.1", "RuckusSSID (OCTET STRING)", MIB),
    ("ruckus_smartzone", "controller.aps.name"): ("RUCKUS-SZ-WLAN-MIB", "ruckusSZAPName", "1.3.6.1.4.1.25053.1.4.2.1.1.2.2.1.5", "DisplayString", MIB),
    ("ruckus_smartzone", "controller.aps.uptime"): ("RUCKUS-SZ-WLAN-MIB", "ruckusSZAPUptime", "1.3.6.1.4.1.25053.1.4.2.1.1.2.2.1.6", "TimeTicks", MIB),
    ("ruckus_smartzone", "controller.aps.ip"): ("RUCKUS-SZ-WLAN-MIB", "ruckusSZAPIp", "1.3.6.1.4.1.25053.1.4.2.1.1.2.2.1.10", "IpAddress", MIB),
    ("ruckus_smartzone", "controller.aps.clients"): ("RUCKUS-SZ-WLAN-MIB", "ruckusSZAPNumSta", "1.3.6.1.4.1.25053.1.4.2.1.1.2.2.1.15", "Unsigned32", MIB),
    # The MIB says DisplayString and no values; "Connect"/"Disconnect" are what SmartZone shows (not in the MIB).
    ("ruckus_smartzone", "controller.aps.status"): ("RUCKUS-SZ-WLAN-MIB", "ruckusSZAPConnStatus", "1.3.6.1.4.1.25053.1.4.2.1.1.2.2.1.16", "DisplayString", MIB),
    # Zyxel NXC: ZYXEL-ES-CAPWAP read in full (esCAPWAP = esMgmt 3). esMgmt = 1.3.6.1.4.1.890.1.15.3 is taken
    # from the NWA recording's annotation (ZYXEL-ES-SMI itself was not read). No per-AP table exists there.
    ("zyxel_nxc", "clients[0].count"): ("ZYXEL-ES-CAPWAP", "capwapTotalStation", "1.3.6.1.4.1.890.1.15.3.3.1.4.0", "Unsigned32", MIB),
    ("zyxel_nxc", "match.probe[0]"): ("ZYXEL-ES-CAPWAP", "capwapOnlineAP", "1.3.6.1.4.1.890.1.15.3.3.1.1.0", "Unsigned32", MIB),
    ("zyxel_nxc", "cpu_load_percent"): ("ZYXEL-ES-COMMON", "sysCPUUsage", "1.3.6.1.4.1.890.1.6.22.1.1.0", "Integer32", SECONDARY),
    # Huawei AC: HUAWEI-WLAN-AP-MIB hwWlanApTable. NOT compared with MIB text (not available here): column
    # numbers from constants in a public AP scanner citing Huawei's MIB reference (EDOC1000178181), the
    # hwWlanApRunState values from a check_mk plugin; hwWlanApRunState's column (6) is from memory.
    ("huawei_ac", "controller.aps.name"): ("HUAWEI-WLAN-AP-MIB", "hwWlanApName", "1.3.6.1.4.1.2011.6.139.13.3.3.1.4", "OCTET STRING", SECONDARY),
    ("huawei_ac", "controller.aps.ip"): ("HUAWEI-WLAN-AP-MIB", "hwWlanApIpAddress", "1.3.6.1.4.1.2011.6.139.13.3.3.1.13", "IpAddress", SECONDARY),
    ("huawei_ac", "controller.aps.status"): ("HUAWEI-WLAN-AP-MIB", "hwWlanApRunState", "1.3.6.1.4.1.2011.6.139.13.3.3.1.6", "INTEGER {…, normal(8), …}", SECONDARY),
    # Stations per SSID and band: HUAWEI-WLAN-VAP-MIB was not available; numeric OIDs and names as LibreNMS's
    # LibreNMS/OS/Vrp.php polls them (INDEX the SSID as a length-prefixed string), the type from the same
    # source's use of them as gauges.
    ("huawei_ac", "clients[0].count"): ("HUAWEI-WLAN-VAP-MIB", "hwWlanSsid2gStaCnt", "1.3.6.1.4.1.2011.6.139.17.1.2.1.2", "Integer32", SECONDARY),
    ("huawei_ac", "clients[1].count"): ("HUAWEI-WLAN-VAP-MIB", "hwWlanSsid5gStaCnt", "1.3.6.1.4.1.2011.6.139.17.1.2.1.3", "Integer32", SECONDARY),
    # Catalyst 9800 AP table: CISCO-LWAPP-AP-MIB (revision 2022-06-06) as compiled by pysmi, cLApTable INDEX
    # cLApSysMacAddress. Its WLAN counts are the AIRESPACE objects the CBW recording checks for cisco_wlc.
    ("cisco_c9800", "controller.aps.name"): ("CISCO-LWAPP-AP-MIB", "cLApName", "1.3.6.1.4.1.9.9.513.1.1.1.1.5", "SnmpAdminString", MIB),
    ("cisco_c9800", "controller.aps.uptime"): ("CISCO-LWAPP-AP-MIB", "cLApUpTime", "1.3.6.1.4.1.9.9.513.1.1.1.1.6", "TimeTicks", MIB),
    ("cisco_c9800", "controller.aps.clients"): ("CISCO-LWAPP-AP-MIB", "cLApAssociatedClientCount", "1.3.6.1.4.1.9.9.513.1.1.1.1.54", "Unsigned32", MIB),
    # Extreme wireless controllers (EWC, formerly HiPath): HIPATH-WIRELESS-HWC-MIB (revision 2016-04-13) read in
    # LibreNMS's mibs/ewc, whose "-- 1.3.6.1.4.1.4329.15.3…" comments give each object's OID; hiPathWirelessMgmt
    # = 1.3.6.1.4.1.4329.15.3 per HIPATH-WIRELESS-SMI, and the controllers' sysObjectIDs sit under
    # HIPATH-WIRELESS-PRODUCTS-MIB's control = 1.3.6.1.4.1.4329.15.1.1 (LibreNMS's os ewc discovers on it).
    # apTable and apStatsTable are both INDEX apIndex, so the per-AP count and uptime join the AP's row.
    ("extreme_ewc", "clients[0].count"): ("HIPATH-WIRELESS-HWC-MIB", "mobileUnitCount", "1.3.6.1.4.1.4329.15.3.6.1.0", "Integer32", MIB),
    ("extreme_ewc", "match.probe[0]"): ("HIPATH-WIRELESS-HWC-MIB", "apActiveCount", "1.3.6.1.4.1.4329.15.3.5.2.1.0", "Integer32", MIB),
    ("extreme_ewc", "controller.aps.name"): ("HIPATH-WIRELESS-HWC-MIB", "apName", "1.3.6.1.4.1.4329.15.3.5.1.2.1.2", "DisplayString", MIB),
    ("extreme_ewc", "controller.aps.mac"): ("HIPATH-WIRELESS-HWC-MIB", "apIfMAC", "1.3.6.1.4.1.4329.15.3.5.1.2.1.13", "MacAddress", MIB),
    ("extreme_ewc", "controller.aps.ip"): ("HIPATH-WIRELESS-HWC-MIB", "apIPAddress", "1.3.6.1.4.1.4329.15.3.5.1.2.1.14", "IpAddress", MIB),
    ("extreme_ewc", "controller.aps.status"): ("HIPATH-WIRELESS-HWC-MIB", "apState", "1.3.6.1.4.1.4329.15.3.5.1.2.1.22", "INTEGER {active(1), inactive(2)}", MIB),
    ("extreme_ewc", "controller.aps.clients"): ("HIPATH-WIRELESS-HWC-MIB", "apStatsMuCounts", "1.3.6.1.4.1.4329.15.3.5.2.2.1.14", "Unsigned32", MIB),
    ("extreme_ewc", "controller.aps.uptime"): ("HIPATH-WIRELESS-HWC-MIB", "apUpTime", "1.3.6.1.4.1.4329.15.3.5.2.2.1.11", "TimeTicks", MIB),
    # MikroTik LTE modem (the ferries): MIKROTIK-MIB mtxrLTEModemTable, compared on 2026-11-25 with the
    # MIB as compiled by pysmi (OIDs, Integer32 syntax); the routeros recording has no LTE modem.
    ("mikrotik", "lte.rssi_dbm"): ("MIKROTIK-MIB", "mtxrLTEModemSignalRSSI", "1.3.6.1.4.1.14988.1.1.16.1.1.2", "Integer32", MIB),
    ("mikrotik", "lte.rsrq_db"): ("MIKROTIK-MIB", "mtxrLTEModemSignalRSRQ", "1.3.6.1.4.1.14988.1.1.16.1.1.3", "Integer32", MIB),
    ("mikrotik", "lte.rsrp_dbm"): ("MIKROTIK-MIB", "mtxrLTEModemSignalRSRP", "1.3.6.1.4.1.14988.1.1.16.1.1.4", "Integer32", MIB),
    ("mikrotik", "lte.sinr_db"): ("MIKROTIK-MIB", "mtxrLTEModemSignalSINR", "1.3.6.1.4.1.14988.1.1.16.1.1.7", "Integer32", MIB),
    # Cisco: bsnAPOperationStatus is absent from the CBW recording; OID and values as in Datadog's
    # cisco-wlc profile (secondary), the AIRESPACE-WIRELESS-MIB text was not searched for it.
    ("cisco_wlc", "controller.aps.status"): ("AIRESPACE-WIRELESS-MIB", "bsnAPOperationStatus", "1.3.6.1.4.1.14179.2.2.1.1.6", "INTEGER {associated(1), disassociating(2), downloading(3)}", SECONDARY),
}

# Profiles (or parts) no recording exercises: every object they name must be in MIB_OBJECTS, so an OID
# added without being checked fails here. IF-MIB columns (ifXTable, ifTable) are standard and left out.
UNRECORDED = {"arubaos_controller": "", "ruckus_smartzone": "", "zyxel_nxc": "", "huawei_ac": "",
              "ruckus_zd": "controller.", "mikrotik": "lte.", "cisco_wlc": "controller.aps.status",
              "cisco_c9800": "controller.", "meraki_mr": "", "extreme_ewc": ""}
INTEGER_TYPES = ("Unsigned32", "Integer32", "Gauge32", "INTEGER")


def test_unrecorded_objects_are_all_listed_with_their_mib_definition():
    profiles = load_profiles()
    for name, prefix in UNRECORDED.items():
        labels = object_labels(profiles[name])
        for label, oid in labels.items():
            if not label.startswith(prefix) or oid.startswith(("1.3.6.1.2.1.31.", "1.3.6.1.2.1.2.2.1.")):
                continue
            assert (name, label) in MIB_OBJECTS, f"{name}.{label} = {oid} is not checked against a MIB"


@pytest.mark.parametrize("key", sorted(MIB_OBJECTS))
def test_profile_oid_and_use_agree_with_the_mib(key):
    name, label = key
    module, obj, oid, smi_type, source = MIB_OBJECTS[key]
    profile = load_profiles()[name]
    assert object_labels(profile)[label] == oid, f"{name}.{label} should be {module}::{obj} {oid}"
    # The way a field is read must suit the object's type.
    if label.endswith((".count", ".clients")) or label.startswith(("lte.", "cpu_load_percent", "match.probe")):
        assert smi_type.startswith(INTEGER_TYPES), (key, smi_type)
    elif label.endswith(".uptime"):
        assert smi_type == "TimeTicks"
    elif label.endswith(".ip"):
        assert smi_type == "IpAddress"
    elif label.endswith(".mac"):
        assert smi_type == "MacAddress"
    elif label.endswith((".name", ".ssid")):
        assert "String" in smi_type or "STRING" in smi_type or "RuckusSSID" in smi_type
    elif label.endswith(".status"):
        status_map = profile.controller.aps.status_map
        if smi_type.startswith("INTEGER {") and "…" not in smi_type:
            # every value of the MIB's enumeration is mapped, and nothing that is not in it
            values = {part.split("(")[1].rstrip(")") for part in smi_type[9:-1].split(", ")}
            assert set(status_map) == values, (key, sorted(status_map), sorted(values))
    assert source in (MIB, SECONDARY)


def test_which_unrecorded_objects_were_compared_with_mib_text():
    """Say it plainly (and keep it true): the counts of what was and was not checked against MIB text."""
    checked = sorted(k for k, v in MIB_OBJECTS.items() if v[4] == MIB)
    secondary = sorted(k for k, v in MIB_OBJECTS.items() if v[4] == SECONDARY)
    assert len(checked) == 38 and len(secondary) == 9, (len(checked), len(secondary))
    assert all(k[0] in ("ruckus_smartzone", "zyxel_nxc", "huawei_ac", "mikrotik", "cisco_wlc") for k in secondary)
