"""The simulator, queried by independent clients: net-snmp's command-line tools, pyasn1, httpx.

The in-process fleet runs in the test's event loop with a clock the test moves, so counters and
sysUpTime are compared across a known time difference without sleeping; one test runs
``python -m simulator`` as a user would, on the real clock.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import socket
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.profile import identify, load_profiles
from simulator import ber
from monitor.cli.simulate import ControlError, active_faults, send_fault
from simulator.daily import DailyCurve, curve_for, utc_offset
from simulator.device import DeviceModel
from simulator.faults import FaultError, parse_fault
from simulator.fleet import Fleet, FleetError
from simulator.inventory import read_inventory
from simulator.spec import AgentSpec
from tests.ports import free_port, free_udp_port

ROOT = Path(__file__).resolve().parent.parent
PROFILES = load_profiles()
UNIFI, GENERIC, MIKROTIK = PROFILES["unifi"], PROFILES["generic"], PROFILES["mikrotik"]
SEOUL = ZoneInfo("Asia/Seoul")
# Wednesday 08:00 in Gunsan: the morning rush at bus stops.
MORNING = datetime(2026, 11, 25, 8, 0, tzinfo=SEOUL).timestamp()
COMMUNITY = "s3cret-Comm"

SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME = (f"1.3.6.1.2.1.1.{n}.0" for n in (1, 2, 3, 5))
IF_DESCR, IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.8"
ENGINE_BOOTS = "1.3.6.1.6.3.10.2.1.2.0"

needs_netsnmp = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("snmpget", "snmpwalk", "snmpbulkwalk", "snmpbulkget")),
    reason="net-snmp command-line tools (Debian package 'snmp') are not installed",
)


# ---------------------------------------------------------------------------------------------------
# Helpers


class FakeClock:
    """The fleet's notion of now; the test moves it."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds






INVENTORY = """\
service:
  timezone: Asia/Seoul
credentials:
  city: {{version: "2c", community: {{file: community.secret}}}}
  secure: {{version: "3", user: monitor}}
sites:
  - id: t-bus
    name: 군산역 버스정류장
    category: bus_stop
    aps:
      - {{id: t-bus-ap1, address: "{a[0]}", credentials: city, profile: unifi, model: UAP-AC-Lite,
          ssids: ["Public WiFi Free", "Gunsan City WiFi"]}}
      - {{id: t-bus-ap2, address: "{a[1]}", credentials: city, profile: generic}}
      - {{id: t-bus-ap3, address: "{a[2]}", credentials: secure, profile: unifi}}
  - id: t-park
    name: 은파호수공원
    category: park
    uplink: {{id: t-park-sw, address: "{a[3]}", credentials: city, profile: generic}}
    aps:
      - {{id: t-park-ap1, address: "{a[4]}", credentials: city}}
  - id: t-ferry
    name: 선유도 여객선
    category: ferry
    kind: ferry
    timetable: [{{days: [mon, tue, wed, thu, fri, sat, sun], start: "07:00", end: "19:00"}}]
    snmp: {{timeout: 3, retries: 3}}
    uplink: {{id: t-ferry-lte, address: "{a[5]}", credentials: city, profile: mikrotik}}
    aps:
      - {{id: t-ferry-ap1, address: "{a[6]}", credentials: city, profile: unifi}}
"""
SERVED = ["t-bus-ap1", "t-bus-ap2", "t-park-sw", "t-park-ap1", "t-ferry-lte", "t-ferry-ap1"]  # not the v3 AP


def write_inventory(folder: Path) -> Path:
    """A small city on loopback addresses of its own (127.x.y.z), with ports free right now."""
    prefix = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}."
    addresses = []
    for i in range(7):
        host = f"{prefix}{i + 1}"
        addresses.append(f"{host}:{free_udp_port(host)}")
    (folder / "community.secret").write_text(COMMUNITY + "\n", encoding="utf-8")
    path = folder / "wifimon.yaml"
    path.write_text(INVENTORY.format(a=addresses), encoding="utf-8")
    return path


@dataclass
class Sim:
    fleet: Fleet
    clock: FakeClock
    specs: dict[str, AgentSpec]
    warnings: list[str]


@pytest.fixture
async def sim(tmp_path: Path):
    inventory = read_inventory(write_inventory(tmp_path))
    specs, warnings = inventory.specs, inventory.warnings
    clock = FakeClock(MORNING)
    async with Fleet.start(specs, control="127.0.0.1:0", clock=clock) as fleet:
        yield Sim(fleet, clock, {s.id: s for s in specs}, warnings)


@dataclass
class Reply:
    rc: int
    values: dict[str, tuple[str, str]]  # oid → (type, value text)
    stdout: str
    stderr: str
    elapsed: float

    def value(self, oid: str) -> str:
        return self.values["." + oid.lstrip(".")][1]

    def number(self, oid: str) -> int:
        text = self.value(oid)
        m = re.match(r"\((\d+)\)", text)  # Timeticks: (12345) 0:02:03.45
        return int(m.group(1) if m else text)

    def column(self, column: str) -> dict[str, tuple[str, str]]:
        """Index (dotted) → (type, value) of the rows of one column."""
        prefix = "." + column.lstrip(".") + "."
        return {oid[len(prefix):]: tv for oid, tv in self.values.items() if oid.startswith(prefix)}


_LINE = re.compile(r"^(\.[0-9.]+) = (?:([A-Za-z0-9-]+): )?(.*)$")


async def snmp(tool: str, fleet: Fleet, device: str, *oids: str, community: str = COMMUNITY,
               timeout: float = 1.0, retries: int = 0, options: tuple[str, ...] = (), version: str = "2c") -> Reply:
    """Run a net-snmp tool against a device of the fleet without blocking the fleet's event loop."""
    host, port = fleet.endpoint(device)
    args = [tool, f"-v{version}", "-c", community, "-On", "-t", f"{timeout:g}", "-r", str(retries), *options,
            f"{host}:{port}", *oids]
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout * (retries + 1) + 15)
    except TimeoutError:
        proc.kill()
        raise AssertionError(f"{' '.join(args)} did not finish") from None
    elapsed = time.monotonic() - started
    values = {}
    for line in out.decode("utf-8", "replace").splitlines():
        m = _LINE.match(line)
        if m:
            values[m.group(1)] = (m.group(2) or "", m.group(3).strip().strip('"'))
    return Reply(proc.returncode or 0, values, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), elapsed)


def timed_out(reply: Reply) -> bool:
    return reply.rc != 0 and "Timeout" in reply.stderr and not reply.values


# ---------------------------------------------------------------------------------------------------
# BER, checked against pyasn1 (pysnmp's codec) as an independent oracle


def test_response_encoding_decodes_with_pyasn1():
    from pyasn1.codec.ber import decoder
    from pysnmp.proto import api

    v2c = api.v2c
    varbinds = b"".join(
        ber.varbind(ber.oid(o), v)
        for o, v in [
            ("1.3.6.1.2.1.1.1.0", ber.octets("UAP-AC-Pro 6.5.28 한글")),
            ("1.3.6.1.2.1.1.2.0", ber.oid("1.3.6.1.4.1.41112.1.6")),
            ("1.3.6.1.2.1.1.3.0", ber.timeticks(2**32 - 1)),
            ("1.3.6.1.2.1.2.2.1.10.2", ber.counter32(2**31)),
            ("1.3.6.1.2.1.2.2.1.5.2", ber.gauge32(1_000_000_000)),
            ("1.3.6.1.2.1.31.1.1.1.6.2", ber.counter64(2**64 - 1)),
            ("1.3.6.1.2.1.4.20.1.1.127.0.0.1", ber.ip_address("127.0.0.1")),
            ("1.3.6.1.2.1.25.3.3.1.2.196608", ber.integer(-129)),
            ("1.3.6.1.2.1.1.9.0", ber.NULL_VALUE),
            ("1.3.6.1.2.1.1.9.1", ber.NO_SUCH_OBJECT_VALUE),
            ("1.3.6.1.2.1.1.3.1", ber.NO_SUCH_INSTANCE_VALUE),
            ("1.3.6.1.6.3.10.2.1.4.0", ber.END_OF_MIB_VIEW_VALUE),
        ]
    )
    data = ber.message(b"public", ber.RESPONSE, -123456, 0, 0, varbinds)
    msg, rest = decoder.decode(data, asn1Spec=v2c.Message())
    assert rest == b""
    assert str(v2c.apiMessage.get_community(msg)) == "public"
    pdu = v2c.apiMessage.get_pdu(msg)
    assert int(v2c.apiPDU.get_request_id(pdu)) == -123456
    got = [(str(o), v) for o, v in v2c.apiPDU.get_varbinds(pdu)]
    assert bytes(got[0][1]).decode() == "UAP-AC-Pro 6.5.28 한글"
    assert str(got[1][1]) == "1.3.6.1.4.1.41112.1.6"
    assert [int(v) for _, v in got[2:6]] == [2**32 - 1, 2**31, 1_000_000_000, 2**64 - 1]
    assert tuple(got[6][1].asNumbers()) == (127, 0, 0, 1) and int(got[7][1]) == -129
    assert [type(v).__name__ for _, v in got[2:]] == [
        "TimeTicks", "Counter32", "Gauge32", "Counter64", "IpAddress", "Integer", "Null",
        "NoSuchObject", "NoSuchInstance", "EndOfMibView",
    ]
    assert got[7][0] == "1.3.6.1.2.1.25.3.3.1.2.196608"


def test_request_encoded_by_pyasn1_decodes():
    from pyasn1.codec.ber import encoder
    from pysnmp.proto import api

    v2c = api.v2c
    pdu = v2c.GetBulkRequestPDU()
    v2c.apiBulkPDU.set_defaults(pdu)
    v2c.apiBulkPDU.set_request_id(pdu, 2**31 - 1)
    v2c.apiBulkPDU.set_non_repeaters(pdu, 1)
    v2c.apiBulkPDU.set_max_repetitions(pdu, 25)
    v2c.apiBulkPDU.set_varbinds(pdu, [((1, 3, 6, 1, 2, 1, 1, 3, 0), v2c.null), ((1, 3, 6, 1, 4, 1, 41112, 300000), v2c.null)])
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, "c0mm")
    v2c.apiMessage.set_pdu(msg, pdu)
    decoded = ber.decode_message(encoder.encode(msg))
    assert decoded.version == ber.VERSION_V2C and decoded.community == b"c0mm"
    assert decoded.pdu.tag == ber.GET_BULK
    assert (decoded.pdu.request_id, decoded.pdu.error_status, decoded.pdu.error_index) == (2**31 - 1, 1, 25)
    assert decoded.pdu.oids == ((1, 3, 6, 1, 2, 1, 1, 3, 0), (1, 3, 6, 1, 4, 1, 41112, 300000))


@given(st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=12), st.integers(0, 2), st.integers(0, 39))
def test_oid_round_trip(tail, first, second):
    oid = (first, second, *tail)
    data = ber.message(b"x", ber.GET, 1, 0, 0, ber.varbind(ber.oid(oid), ber.NULL_VALUE))
    assert ber.decode_message(data).pdu.oids == (oid,)


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_decoder_rejects_noise_cleanly(noise):
    try:
        ber.decode_message(noise)
    except ber.BerError:
        pass


def test_every_truncation_of_a_request_is_rejected():
    data = ber.message(b"public", ber.GET, 7, 0, 0, ber.varbind(ber.oid(SYS_UPTIME), ber.NULL_VALUE))
    ber.decode_message(data)
    for cut in range(len(data)):
        with pytest.raises(ber.BerError):
            ber.decode_message(data[:cut])


# ---------------------------------------------------------------------------------------------------
# Behaviour over the day (pure)


def test_daily_curve_integral_matches_its_values():
    curve = DailyCurve(curve_for("bus_stop"), utc_offset("Asia/Seoul", MORNING), shift=600)
    for start in (MORNING - 5 * 3600, MORNING, MORNING + 11.5 * 3600):
        step = 30.0
        numeric = sum(curve.value(start + (i + 0.5) * step) * step for i in range(240))
        exact = curve.integral(start + 240 * step) - curve.integral(start)
        assert exact == pytest.approx(numeric, rel=1e-3)


def _spec(device_id: str, category: str, profile=UNIFI) -> AgentSpec:
    return AgentSpec(id=device_id, site="s", host="127.0.0.1", port=0, community="c", profile=profile,
                     category=category, ssids=("Public WiFi Free", "Gunsan City WiFi"))


def _clients(model: DeviceModel, at: float) -> int:
    return sum(model.clients(r, s, at) for r in range(2) for s in range(2))


def test_clients_follow_the_day_and_the_category():
    offset = utc_offset("Asia/Seoul", MORNING)
    bus, market = DeviceModel(_spec("b1", "bus_stop"), MORNING, offset), DeviceModel(_spec("m1", "market"), MORNING, offset)

    def mean(model: DeviceModel, hour: float) -> float:
        at = MORNING + (hour - 8) * 3600
        return sum(_clients(model, at + 60 * i) for i in range(30)) / 30

    assert mean(bus, 3) < 2 and mean(market, 3) < 2  # nobody at 03:00
    assert mean(bus, 8) > 1.8 * mean(bus, 11)  # commuters at 08:00, fewer at 11:00
    assert mean(market, 12) > 2 * mean(market, 7)  # a market fills by midday
    assert mean(bus, 8) > mean(bus, 3) + 5


def test_behaviour_is_deterministic_per_ap():
    offset = utc_offset("Asia/Seoul", MORNING)
    a1, a2 = (DeviceModel(_spec("gs-0001", "park"), MORNING, offset) for _ in range(2))
    b = DeviceModel(_spec("gs-0002", "park"), MORNING, offset)
    later = MORNING + 7 * 3600
    series = [_clients(a1, later + 60 * i) for i in range(20)]
    assert series == [_clients(a2, later + 60 * i) for i in range(20)]
    assert series != [_clients(b, later + 60 * i) for i in range(20)]
    assert a1.boot == a2.boot != b.boot
    iface = a1.interfaces[1]
    assert a1.octets(iface, True, later) == a2.octets(iface, True, later)


def _lte_router(device_id: str) -> DeviceModel:
    spec = AgentSpec(id=device_id, site="s", host="127.0.0.1", port=0, community="c", profile=MIKROTIK,
                     role="uplink", category="ferry", ferry=True)
    return DeviceModel(spec, MORNING, utc_offset("Asia/Seoul", MORNING))


def test_lte_signal_is_worse_at_sea_and_stays_in_range():
    model = _lte_router("ferry-a-lte")
    times = [MORNING + 30 * i for i in range(int(2 * model.voyage / 30))]  # two voyages, a reading per 30 s
    readings = [(model.distance_from_port(t), model.lte_signal(t)) for t in times]
    for _, s in readings:
        assert -115 <= s.rsrp_dbm <= -75 and -18 <= s.rsrq_db <= -5
        assert 0 <= s.sinr_db <= 25 and -90 <= s.rssi_dbm <= -50
    moored = [s for d, s in readings if d == 0.0]
    at_sea = [s for d, s in readings if d == 1.0]
    assert moored and at_sea  # the voyage has both ends
    assert max(s.rsrp_dbm for s in at_sea) < min(s.rsrp_dbm for s in moored)
    assert max(s.sinr_db for s in at_sea) < min(s.sinr_db for s in moored)
    # Fading: the signal moves while the boat stands still in port.
    assert len({s.rsrp_dbm for s in moored}) > 1
    # The same router gives the same series; another ferry sails on another schedule.
    again, other = _lte_router("ferry-a-lte"), _lte_router("ferry-b-lte")
    assert [again.lte_signal(t) for t in times] == [s for _, s in readings]
    assert [other.lte_signal(t) for t in times] != [s for _, s in readings]


def test_fault_parsing():
    assert str(parse_fault("slow")) == "slow:1.5"
    assert str(parse_fault("slow:3")) == "slow:3"
    assert str(parse_fault(" Loss ")) == "loss:0.3"
    assert str(parse_fault("reboot")) == "reboot"
    for bad in ("dwn", "slow:-1", "slow:x", "loss:1.5", "down:3", "slow:nan"):
        with pytest.raises(FaultError):
            parse_fault(bad)


# ---------------------------------------------------------------------------------------------------
# Inventory → agents


async def test_inventory_serves_v2c_devices_with_their_profiles(sim: Sim):
    assert sorted(sim.specs) == sorted(SERVED)
    assert any("t-bus-ap3" in w and "v3" in w for w in sim.warnings)
    assert sim.specs["t-bus-ap1"].community == COMMUNITY  # from the file secret, newline stripped
    assert sim.specs["t-park-ap1"].profile.name == "unifi"  # profile auto on an AP
    assert sim.specs["t-park-sw"].profile.name == "generic"
    assert sim.specs["t-ferry-lte"].profile.name == "mikrotik" and sim.specs["t-ferry-lte"].ferry
    assert sim.specs["t-park-ap1"].ssids == ("Public WiFi Free",)  # the default SSID
    assert sim.fleet.resolve("t-ferry") == ["t-ferry-lte", "t-ferry-ap1"]


async def test_bind_failure_names_agent_and_address():
    host = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.9"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((host, 0))
        port = taken.getsockname()[1]
        spec = AgentSpec(id="clash-ap", site="s", host=host, port=port, community="c", profile=GENERIC)
        with pytest.raises(FleetError, match=rf"clash-ap at {re.escape(host)}:{port}"):
            await Fleet.open([spec], control=None)


# ---------------------------------------------------------------------------------------------------
# What a real client reads


@needs_netsnmp
async def test_system_group_identifies_the_profile(sim: Sim):
    for device in ("t-bus-ap1", "t-bus-ap2", "t-ferry-lte"):
        reply = await snmp("snmpget", sim.fleet, device, SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME)
        assert reply.rc == 0, reply.stderr
        assert reply.values["." + SYS_UPTIME][0] == "Timeticks"
        assert reply.value(SYS_NAME) == device
        descr, object_id = reply.value(SYS_DESCR), reply.value(SYS_OBJECT_ID).lstrip(".")
        # The monitor's own identification picks the profile the inventory asked for.
        assert identify(PROFILES, object_id, descr).name == sim.specs[device].profile.name, (device, descr)
    reply = await snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_DESCR)
    assert reply.value(SYS_DESCR).startswith("UAP-AC-Lite ")  # the model from the inventory


@needs_netsnmp
async def test_missing_objects_and_end_of_mib(sim: Sim):
    reply = await snmp("snmpget", sim.fleet, "t-bus-ap2", "1.3.6.1.2.1.1.3.1", "1.3.6.1.4.1.9.9.9.0")
    assert "No Such Instance" in reply.value("1.3.6.1.2.1.1.3.1")
    assert "No Such Object" in reply.value("1.3.6.1.4.1.9.9.9.0")
    reply = await snmp("snmpgetnext", sim.fleet, "t-bus-ap2", "1.3.6.1.6.3.10.2.1.4.0")
    assert "No more variables" in reply.value("1.3.6.1.6.3.10.2.1.4.0")


@needs_netsnmp
async def test_getbulk_interleaves_columns_with_non_repeaters(sim: Sim):
    name = GENERIC.interfaces.name
    reply = await snmp("snmpbulkget", sim.fleet, "t-bus-ap2", SYS_UPTIME, name, IF_DESCR, options=("-Cn1", "-Cr3"))
    oids = [line.split(" = ")[0] for line in reply.stdout.splitlines() if " = " in line]
    assert oids == [
        ".1.3.6.1.2.1.1.4.0",  # the non-repeater: the object after sysUpTime.0
        f".{name}.1", f".{IF_DESCR}.1", f".{name}.2", f".{IF_DESCR}.2", f".{name}.3", f".{IF_DESCR}.3",
    ]


@needs_netsnmp
async def test_interface_tables(sim: Sim):
    cols = GENERIC.interfaces
    for device in ("t-bus-ap1", "t-bus-ap2"):
        reply = await snmp("snmpbulkwalk", sim.fleet, device, "1.3.6.1.2.1.31.1.1.1")
        names = {i: v for i, (_, v) in reply.column(cols.name).items()}
        assert names == {"1": "lo", "2": "eth0", "3": "wifi0", "4": "wifi1", "5": "br0"}
        for column in (cols.in_octets, cols.out_octets):
            rows = reply.column(column)
            assert set(rows) == set(names)
            assert all(t == "Counter64" for t, _ in rows.values())
            assert int(rows["2"][1]) > 0
        table = await snmp("snmpwalk", sim.fleet, device, "1.3.6.1.2.1.2.2.1")
        assert {i: v for i, (_, v) in table.column(IF_DESCR).items()} == names
        assert {v for _, v in table.column(IF_OPER_STATUS).values()} == {"1"}  # up(1)
    lte = await snmp("snmpbulkwalk", sim.fleet, "t-ferry-lte", cols.name, retries=3, timeout=2)
    assert {i: v for i, (_, v) in lte.column(cols.name).items()} == {"1": "ether1", "2": "lte1"}  # RouterOS


@needs_netsnmp
async def test_unifi_vap_and_radio_tables(sim: Sim):
    vap = UNIFI.clients[0]
    assert vap.level == "vap"
    reply = await snmp("snmpwalk", sim.fleet, "t-bus-ap1", "1.3.6.1.4.1.41112.1.6.1")
    ssids = {i: v for i, (_, v) in reply.column(vap.ssid).items()}
    radios = {i: v for i, (_, v) in reply.column(vap.radio).items()}
    counts = {i: int(v) for i, (_, v) in reply.column(vap.count).items()}
    assert set(ssids) == set(radios) == set(counts) and len(counts) == 4  # 2 SSIDs × 2 radios
    assert sorted(zip(radios.values(), ssids.values(), strict=True)) == sorted(
        (r, s) for r in ("ng", "na") for s in ("Public WiFi Free", "Gunsan City WiFi")
    )
    assert all(c >= 0 for c in counts.values())
    assert sum(counts.values()) > 0  # 08:00 at a bus stop
    names = {i: v for i, (_, v) in reply.column(UNIFI.radios.name).items()}
    util = {i: int(v) for i, (_, v) in reply.column(UNIFI.radios.utilisation_percent).items()}
    assert sorted(names.values()) == ["na", "ng"] and set(util) == set(names)
    assert all(0 <= u <= 100 for u in util.values())
    cpu = await snmp("snmpwalk", sim.fleet, "t-bus-ap1", UNIFI.cpu_load_percent)
    assert cpu.values and all(0 <= int(v) <= 100 for _, v in cpu.values.values())
    # A generic AP has no vendor tables at all.
    generic = await snmp("snmpwalk", sim.fleet, "t-bus-ap2", "1.3.6.1.4.1.41112")
    assert not generic.values or all("No Such" in v or "No more" in v for _, v in generic.values.values())


@needs_netsnmp
async def test_counters_grow_and_uptime_ticks(sim: Sim):
    in_octets = GENERIC.interfaces.in_octets + ".2"
    first = await snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME, in_octets)
    sim.clock.advance(60)
    second = await snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME, in_octets)
    assert second.number(SYS_UPTIME) - first.number(SYS_UPTIME) == 6000
    grown = second.number(in_octets) - first.number(in_octets)
    assert 0 < grown < 1_000_000_000 / 8 * 60  # grows, and no faster than the 1 Gbit/s port allows


@needs_netsnmp
async def test_wrong_community_and_v1_get_no_reply(sim: Sim):
    wrong, v1, right = await asyncio.gather(
        snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME, community="public", timeout=0.5),
        snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME, version="1", timeout=0.5),
        snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME),
    )
    assert timed_out(wrong) and timed_out(v1)
    assert right.rc == 0


# ---------------------------------------------------------------------------------------------------
# Faults


@needs_netsnmp
async def test_down_then_up(sim: Sim):
    assert sim.fleet.apply_fault("t-bus-ap1", "down") == ["t-bus-ap1"]
    down, other = await asyncio.gather(
        snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME, timeout=0.5),
        snmp("snmpget", sim.fleet, "t-bus-ap2", SYS_UPTIME),
    )
    assert timed_out(down), down
    assert other.rc == 0  # the same site's other AP is fine
    sim.fleet.apply_fault("t-bus-ap1", "up")
    assert (await snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME)).rc == 0


@needs_netsnmp
async def test_site_fault_takes_aps_and_uplink(sim: Sim):
    assert sim.fleet.apply_fault("t-park", "down") == ["t-park-sw", "t-park-ap1"]
    replies = await asyncio.gather(
        *(snmp("snmpget", sim.fleet, d, SYS_UPTIME, timeout=0.5) for d in ("t-park-sw", "t-park-ap1"))
    )
    assert all(timed_out(r) for r in replies)
    assert sim.fleet.active_faults() == {"t-park-sw": ["down"], "t-park-ap1": ["down"]}


@needs_netsnmp
async def test_slow_reply_arrives_late(sim: Sim):
    sim.fleet.apply_fault("t-bus-ap2", "slow:0.6")
    reply = await snmp("snmpget", sim.fleet, "t-bus-ap2", SYS_UPTIME, timeout=3)
    assert reply.rc == 0 and reply.elapsed >= 0.6


@needs_netsnmp
async def test_reboot_restarts_uptime_and_counters(sim: Sim):
    in_octets = GENERIC.interfaces.in_octets + ".2"
    before = await snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME, in_octets, ENGINE_BOOTS)
    sim.fleet.apply_fault("t-bus-ap1", "reboot")
    sim.clock.advance(30)
    after = await snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME, in_octets, ENGINE_BOOTS)
    assert after.number(SYS_UPTIME) == 3000 < before.number(SYS_UPTIME)
    assert 0 < after.number(in_octets) < before.number(in_octets)
    assert after.number(ENGINE_BOOTS) == before.number(ENGINE_BOOTS) + 1
    assert sim.fleet.active_faults() == {}  # a reboot is an event, not a lasting fault


@needs_netsnmp
async def test_garbage_reply_is_not_accepted_then_up(sim: Sim):
    sim.fleet.apply_fault("t-bus-ap1", "garbage")
    for _ in range(3):  # each garbling style in turn is refused by net-snmp's decoder
        reply = await snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME, timeout=0.4)
        assert reply.rc != 0 and not reply.values, reply
    sim.fleet.apply_fault("t-bus", "up")
    assert (await snmp("snmpget", sim.fleet, "t-bus-ap1", SYS_UPTIME)).rc == 0


async def test_garbage_never_decodes(sim: Sim):
    agent = sim.fleet.agent("t-bus-ap1")
    sim.fleet.apply_fault("t-bus-ap1", "garbage")
    request = ber.message(COMMUNITY.encode(), ber.GET, 1, 0, 0, ber.varbind(ber.oid(SYS_UPTIME), ber.NULL_VALUE))
    for _ in range(30):
        reply = agent.answer(request)
        assert reply is not None
        with pytest.raises(ber.BerError):
            ber.decode_message(reply)


async def test_loss_drops_a_share_of_requests(sim: Sim):
    agent = sim.fleet.agent("t-bus-ap2")
    request = ber.message(COMMUNITY.encode(), ber.GET, 1, 0, 0, ber.varbind(ber.oid(SYS_UPTIME), ber.NULL_VALUE))
    assert all(agent.answer(request) for _ in range(200))
    sim.fleet.apply_fault("t-bus-ap2", "loss:0.3")
    answered = sum(agent.answer(request) is not None for _ in range(2000))
    assert 1250 < answered < 1550  # 70 % of 2000 is 1400
    sim.fleet.apply_fault("t-bus-ap2", "loss:1")
    assert not any(agent.answer(request) for _ in range(100))


@needs_netsnmp
async def test_ferry_answers_late_and_loses_a_few(sim: Sim):
    reply = await snmp("snmpget", sim.fleet, "t-ferry-ap1", SYS_UPTIME, timeout=2, retries=3)
    assert reply.rc == 0 and reply.elapsed >= 0.15
    # Many requests over a real socket: every reply 150-600 ms late, about 3 % never come.
    host, port = sim.fleet.endpoint("t-ferry-lte")
    loop = asyncio.get_running_loop()
    sent: dict[int, float] = {}
    delays: list[float] = []

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):
            rid = ber.decode_message(data).pdu.request_id
            delays.append(time.monotonic() - sent[rid])

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=(host, port))
    try:
        for rid in range(400):
            sent[rid] = time.monotonic()
            transport.sendto(ber.message(COMMUNITY.encode(), ber.GET, rid, 0, 0,
                                         ber.varbind(ber.oid(SYS_UPTIME), ber.NULL_VALUE)))
            # Let the agent (same loop) read it: 400 datagrams at once would overflow its socket buffer.
            await asyncio.sleep(0)
        deadline = time.monotonic() + 0.6 + 0.6  # the longest LTE latency, and some slack
        while len(delays) < 400 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # poll for the replies, bounded by the deadline
    finally:
        transport.close()
    assert 360 <= len(delays) <= 399
    assert min(delays) >= 0.15 and max(delays) < 0.6 + 0.5


@needs_netsnmp
async def test_mikrotik_lte_modem_table(sim: Sim):
    lte = MIKROTIK.lte
    assert lte is not None
    model = sim.fleet.agent("t-ferry-lte").model
    names = await snmp("snmpwalk", sim.fleet, "t-ferry-lte", MIKROTIK.interfaces.name, timeout=2, retries=3)
    lte1 = next(i for i, (_, v) in names.column(MIKROTIK.interfaces.name).items() if v == "lte1")
    table = await snmp("snmpwalk", sim.fleet, "t-ferry-lte", lte.rsrp_dbm.rsplit(".", 1)[0], timeout=2, retries=3)
    assert table.rc == 0, table.stderr
    expected = model.lte_signal(sim.clock.now)
    columns = {"rssi_dbm": (-90, -50), "rsrq_db": (-18, -5), "rsrp_dbm": (-115, -75), "sinr_db": (0, 25)}
    for field, (low, high) in columns.items():
        rows = table.column(getattr(lte, field))
        assert list(rows) == [lte1], (field, rows)  # one modem, indexed by lte1's ifIndex
        kind, text = rows[lte1]
        assert kind == "INTEGER"
        assert low <= int(text) <= high and int(text) == getattr(expected, field)
    # A quarter of a voyage later the boat is elsewhere and the signal has moved.
    sim.clock.advance(model.voyage / 4)
    oids = [f"{getattr(lte, f)}.{lte1}" for f in columns]
    later = await snmp("snmpget", sim.fleet, "t-ferry-lte", *oids, timeout=2, retries=3)
    now = model.lte_signal(sim.clock.now)
    assert [later.number(o) for o in oids] == [getattr(now, f) for f in columns]
    assert now != expected


async def test_mikrotik_lte_router_polls_with_its_profile(sim: Sim):
    from collectors.snmp import PysnmpClient
    from collectors.types import Target, V2cCredentials

    host, port = sim.fleet.endpoint("t-ferry-lte")
    target = Target("t-ferry-lte", host, port, V2cCredentials(COMMUNITY), timeout=2.0, retries=3)
    client = PysnmpClient()
    try:
        await client.register([target])
        result = await client.poll(target, MIKROTIK)
    finally:
        await client.close()
    assert result.ok, result.detail
    assert identify(PROFILES, result.sys_object_id or "", result.sys_descr or "").name == "mikrotik"
    expected = sim.fleet.agent("t-ferry-lte").model.lte_signal(sim.clock.now)
    assert result.lte is not None
    assert (result.lte.rsrp_dbm, result.lte.rsrq_db, result.lte.sinr_db, result.lte.rssi_dbm) == (
        expected.rsrp_dbm, expected.rsrq_db, expected.sinr_db, expected.rssi_dbm)
    assert [i.name for i in result.interfaces] == ["ether1", "lte1"]
    # The wireless tables a RouterOS AP has are absent here, and that is not an error; nothing else is missing.
    assert result.missing and all(m.startswith(("clients[", "radios.")) for m in result.missing), result.missing


# ---------------------------------------------------------------------------------------------------
# Control API


async def test_control_http_api(sim: Sim):
    async with httpx.AsyncClient(base_url=sim.fleet.control_url, timeout=5, trust_env=False) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "agents": len(SERVED), "requests": 0, "replies": 0}
        ok = await http.post("/faults", json={"target": "t-ferry", "fault": "slow"})
        assert ok.status_code == 200
        assert ok.json() == {"target": "t-ferry", "fault": "slow:1.5", "affected": ["t-ferry-lte", "t-ferry-ap1"]}
        listed = await http.get("/faults")
        assert listed.json() == {"faults": {"t-ferry-lte": ["slow:1.5"], "t-ferry-ap1": ["slow:1.5"]}}
        unknown = await http.post("/faults", json={"target": "no-such-site", "fault": "down"})
        assert unknown.status_code == 404 and "no-such-site" in unknown.json()["error"]
        bad = await http.post("/faults", json={"target": "t-bus", "fault": "explode"})
        assert bad.status_code == 400 and "explode" in bad.json()["error"]
        not_json = await http.post("/faults", content=b"{nope")
        assert not_json.status_code == 400
        shape = await http.post("/faults", json=["t-bus", "down"])
        assert shape.status_code == 400
        assert (await http.get("/nowhere")).status_code == 404
        assert (await http.delete("/faults")).status_code == 405
        cleared = await http.post("/faults", json={"target": "t-ferry", "fault": "up"})
        assert cleared.status_code == 200 and (await http.get("/faults")).json() == {"faults": {}}


async def test_send_fault_client(sim: Sim):
    control = sim.fleet.control_address
    # The client is synchronous (it is for the CLI): run it off the loop the fleet serves on.
    assert await asyncio.to_thread(send_fault, "t-bus=down", control) == ["t-bus-ap1", "t-bus-ap2"]
    assert await asyncio.to_thread(active_faults, control) == {"t-bus-ap1": ["down"], "t-bus-ap2": ["down"]}
    with pytest.raises(ControlError, match="nobody"):
        await asyncio.to_thread(send_fault, "nobody=down", control)
    with pytest.raises(ControlError, match="TARGET=FAULT"):
        await asyncio.to_thread(send_fault, "t-bus", control)


def test_send_fault_without_a_simulator_names_the_address():
    control = f"127.0.0.1:{free_port()}"
    with pytest.raises(ControlError, match=re.escape(control)):
        send_fault("gs-0001=down", control, timeout=2)


# ---------------------------------------------------------------------------------------------------
# As a user runs it


async def _line(stream: asyncio.StreamReader, deadline: float, what: str) -> str:
    try:
        line = await asyncio.wait_for(stream.readline(), timeout=max(0.1, deadline - time.monotonic()))
    except TimeoutError:
        raise AssertionError(f"no {what} before the deadline") from None
    return line.decode()


@needs_netsnmp
async def test_python_m_simulator_serves_and_stops_on_sigint(tmp_path: Path):
    config = write_inventory(tmp_path)
    control = f"127.0.0.1:{free_port()}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "--config", str(config), "--control", control,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        line = await _line(proc.stdout, time.monotonic() + 30, "ready line")
        assert line.strip() == f"simulator: serving {len(SERVED)} agents, control on http://{control}", line
        spec = next(s for s in read_inventory(config).specs if s.id == "t-bus-ap2")
        address = f"{spec.host}:{spec.port}"
        args = ["snmpget", "-v2c", "-c", COMMUNITY, "-On", "-t", "1", "-r", "0", address, SYS_UPTIME]

        async def uptime() -> tuple[int, float, float]:
            before = time.time()
            p = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
            out, _ = await asyncio.wait_for(p.communicate(), timeout=10)
            return int(re.search(rb"\((\d+)\)", out).group(1)), before, time.time()

        u1, a1, b1 = await uptime()
        u2, a2, b2 = await uptime()
        while b2 - a1 < 0.3:  # ensure a measurable gap on a fast machine; bounded by the loop itself
            u2, a2, b2 = await uptime()
        # sysUpTime moved with the wall clock, within the reads' own time windows.
        assert (a2 - b1) * 100 - 1 <= u2 - u1 <= (b2 - a1) * 100 + 1
        assert await asyncio.to_thread(send_fault, "t-bus-ap2=down", control) == ["t-bus-ap2"]
        p = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(p.communicate(), timeout=10)
        assert p.returncode != 0 and b"Timeout" in err
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
        stderr = (await proc.stderr.read()).decode()
        assert "t-bus-ap3" in stderr and "fleet_stopped" in stderr
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_bad_config_exits_2_naming_the_problem(tmp_path: Path):
    import subprocess

    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        sites:
          - id: x
            name: x
            category: park
            aps: [{id: x1, address: "127.0.0.1:1161", credentials: c, profile: bogus_profile}]
        credentials:
          c: {version: 2c, community: {env: WIFIMON_TEST_COMMUNITY}}
        """))
    done = subprocess.run([sys.executable, "-m", "simulator", "--config", str(bad)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "WIFIMON_TEST_COMMUNITY": "public"})
    assert done.returncode == 2
    assert "bogus_profile" in done.stderr and str(bad) in done.stderr
