"""PysnmpClient against recordings of real APs and controllers, served by snmpsim.

The expected values come from the recordings themselves (parsed here, independently of pysnmp) and,
for client counts, from LibreNMS's own test expectations (``librenms_expected``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from statistics import fmean

import pytest

from collectors.types import ErrorKind, Target, V2cCredentials
from tests.agents import copy_recordings, shared_dir, snmpsim_agent

SHARED = shared_dir()
SNMPREC = SHARED / "snmprec" if SHARED else None
if SNMPREC is None or not SNMPREC.is_dir():
    pytest.skip(
        "recordings not found: need ../shared/snmprec next to the repo or $WIFIMON_SHARED/snmprec",
        allow_module_level=True,
    )
RECORDINGS = sorted(p.stem for p in SNMPREC.glob("*.snmprec"))

SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0"


def read_snmprec(path: Path) -> dict[str, object]:
    """OID → value (int, bytes or dotted str) from an snmpsim ``OID|type|value`` file."""
    values: dict[str, object] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        oid, kind, raw = line.split("|", 2)
        if kind == "4x":
            values[oid] = bytes.fromhex(raw)
        elif kind == "4":
            values[oid] = raw.encode("utf-8")
        elif kind in ("2", "65", "66", "67", "70"):
            values[oid] = int(raw)
        else:
            values[oid] = raw
    return values


def column(values: dict[str, object], col: str) -> dict[str, object]:
    """Rows of one column: index suffix → value, in OID order."""
    prefix = col + "."
    rows = {oid[len(prefix) :]: v for oid, v in values.items() if oid.startswith(prefix)}
    return dict(sorted(rows.items(), key=lambda kv: tuple(int(x) for x in kv[0].split("."))))


def text(value: object) -> str:
    return (
        value.decode("utf-8", errors="replace").strip("\x00 \t\r\n")
        if isinstance(value, bytes)
        else str(value)
    )


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("snmpsim")
    data = work / "data"
    names = copy_recordings(SNMPREC, data)  # a scratch copy: snmpsim indexes beside its data
    probe = "unifi_nanohd" if "unifi_nanohd" in names else names[0]
    with snmpsim_agent(data, work, probe_community=probe) as agent:
        yield agent


def target_for(agent, name: str) -> Target:
    return Target(f"rec-{name}", agent.host, agent.port, V2cCredentials(name), timeout=3.0, retries=1)


@pytest.mark.parametrize("name", RECORDINGS)
async def test_generic_profile_reads_what_the_recording_holds(simulator, client, profiles, name):
    values = read_snmprec(SNMPREC / f"{name}.snmprec")
    generic = profiles["generic"]
    target = target_for(simulator, name)
    await client.register([target])

    probe = await client.probe(target)
    if SYS_UPTIME in values:
        assert probe.ok, probe.detail
        assert probe.uptime_ticks == values[SYS_UPTIME]
    else:  # e.g. fortiap_fap831f has no sysUpTime at all
        assert probe.error is ErrorKind.NO_SUCH_OBJECT, probe.detail
        assert f"{simulator.host}:{simulator.port}" in probe.detail and "sysUpTime.0" in probe.detail

    poll = await client.poll(target, generic)
    assert poll.ok, poll.detail  # a device lacking objects is not a failed poll
    assert poll.uptime_ticks == values.get(SYS_UPTIME)
    assert ("uptime" in poll.missing) == (SYS_UPTIME not in values)
    assert poll.sys_descr == (text(values[SYS_DESCR]) if SYS_DESCR in values else None)
    assert poll.sys_object_id == values.get(SYS_OBJECT_ID)

    spec, fallback = generic.interfaces, generic.interfaces.fallback
    names, ins, outs = (column(values, c) for c in (spec.name, spec.in_octets, spec.out_octets))
    # Where the agent lacks an ifXTable column the generic profile reads ifTable's instead (32-bit
    # counters, fortiap_fap831f, fortiwlc); an interface is a row with a counter (a name alone is no reading).
    names_read = names or column(values, fallback.name)
    ins_read = ins or column(values, fallback.in_octets)
    outs_read = outs or column(values, fallback.out_octets)
    expected = {
        idx: (text(names_read.get(idx)) or idx, ins_read.get(idx), outs_read.get(idx))
        for idx in dict.fromkeys([*ins_read, *outs_read])
    }
    got = {i.index: (i.name, i.in_octets, i.out_octets) for i in poll.interfaces}
    assert got == expected
    for label, rows in (
        ("interfaces.name", names),
        ("interfaces.in_octets", ins),
        ("interfaces.out_octets", outs),
    ):
        assert (label in poll.missing) == (not rows), label

    loads = column(values, generic.cpu_load_percent)
    if loads:
        assert poll.cpu_ratio == pytest.approx(fmean(loads.values()) / 100)
    else:
        assert poll.cpu_ratio is None and "cpu_load_percent" in poll.missing


def _librenms_client_sensors(name: str) -> list[dict]:
    path = SNMPREC / "librenms_expected" / f"{name}.wireless.json"
    if not path.exists():
        pytest.skip(f"no LibreNMS expectations for {name}")
    data = json.loads(path.read_text())
    return [s for s in data["wireless_sensors"] if s["sensor_class"] == "clients"]


async def test_unifi_profile_client_counts_match_librenms(simulator, client, profiles):
    if "unifi_nanohd" not in RECORDINGS:
        pytest.skip("unifi_nanohd.snmprec is not among the recordings")
    target = target_for(simulator, "unifi_nanohd")
    await client.register([target])
    unifi = profiles["unifi"]
    poll = await client.poll(target, unifi)
    assert poll.ok, poll.detail
    assert poll.profile == "unifi"
    assert all(c.level == "vap" for c in poll.clients)

    # Each LibreNMS sensor sums a set of unifiVapNumStations rows; our per-VAP counts (found by the
    # VAP's SSID and radio as the recording names them) must add up to the same figure for each.
    values = read_snmprec(SNMPREC / "unifi_nanohd.snmprec")
    table = unifi.clients[0]
    ssid_of, radio_of = column(values, table.ssid), column(values, table.radio)
    ours = {(c.ssid, c.radio): c.count for c in poll.clients}
    assert len(ours) == len(poll.clients) == len(column(values, table.count))
    sensors = _librenms_client_sensors("unifi_nanohd")
    assert sensors
    for sensor in sensors:
        rows = [oid.lstrip(".").removeprefix(table.count + ".") for oid in json.loads(sensor["sensor_oids"])]
        total = sum(ours[(text(ssid_of[r]), text(radio_of[r]))] for r in rows)
        assert total == sensor["sensor_current"], sensor["sensor_descr"]

    by_ssid: dict[str, int] = defaultdict(int)
    by_radio: dict[str, int] = defaultdict(int)
    for c in poll.clients:
        by_ssid[c.ssid] += c.count
        by_radio[c.radio] += c.count
    for sensor in sensors:
        descr = sensor["sensor_descr"]
        if descr.startswith("SSID: "):
            assert by_ssid[descr.removeprefix("SSID: ")] == sensor["sensor_current"]
        elif descr.startswith("Clients ("):
            assert by_radio[descr[len("Clients (") : -1]] == sensor["sensor_current"]
    assert by_ssid["homewifi_ac"] == 18
    assert sorted(c.count for c in poll.clients) == [0, 0, 4, 14]

    # Radio table and interfaces come along in the same poll.
    assert [r.radio for r in poll.radios] == ["ng", "na"]
    assert all(r.utilisation_ratio == 0.0 for r in poll.radios)
    assert {i.name for i in poll.interfaces} >= {"eth0", "br0"}
    assert poll.missing == ()
