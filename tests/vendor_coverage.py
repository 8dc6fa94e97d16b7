"""The coverage harness: every real recording in ``shared/snmprec`` through the product path, LibreNMS as the oracle.

Each recording is served by snmpsim and watched by the real :class:`~monitor.polling.poller.Poller` with
``profile: auto``, exactly as ``wifimon run`` does it (a probe round, then a metrics round that identifies
the device and polls it). A recording whose profile has a controller table is also entered as a
controller, with each AP it lists watched through it, so per-AP radio counts come the product's way too.
Each LibreNMS ``clients`` sensor (``librenms_expected/<name>.wireless.json``) is then compared with the
counts wifimon read from the same object instances (``ClientCount.oid`` against ``sensor_oids``; a
sensor LibreNMS computes without an OID is compared by SSID or as the total), and LibreNMS's device
total with wifimon's. The result is ``collectors/profiles/COVERAGE.md``, which ``tests/test_coverage.py``
keeps equal to what this produces. Regenerate it with::

    .venv/bin/python -m tests.vendor_coverage --write

Recordings are served from sorted copies: snmpsim answers GETNEXT in file order, and ``zyxelnwa.snmprec``
is not in OID order. Sorting changes no value.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from collectors.identify import explain, identify_device
from collectors.profile import PROFILE_DIR, Profile, load_profiles
from collectors.snmp import PysnmpClient
from collectors.types import ClientCount, PollResult, Target, V2cCredentials
from monitor.config.load import LoadedConfig
from monitor.config.model import Config
from monitor.domain.clients import device_total
from monitor.domain.vocabulary import ApStatus
from monitor.exposition.metrics import ServiceMetrics
from monitor.polling.poller import Poller
from tests.agents import Agent, shared_dir, snmpsim_agent

COVERAGE_MD = PROFILE_DIR / "COVERAGE.md"
SHARED = shared_dir()
SNMPREC = SHARED / "snmprec" if SHARED else None

# Why a LibreNMS client sensor is not matched, per (recording, sensor description). A sensor listed here
# that matches after all fails the test too: the reasons stay true.
NOT_MATCHED: dict[tuple[str, str], str] = {
    **{("openwrt", d): "LibreNMS reads the output of its own shell script installed on the AP as a net-snmp"
       " extend (nsExtendOutput1Line \"clients-wlan*\"); OpenWrt has no wireless MIB, a city's AP no such script"
       for d in ("wl-5G", "wl-2.4G", "wlan")},
    ("pepwave", "Online APs"): "LibreNMS files WLC::wlcNumApOnline (APs online, 1) as clients; wifimon reads the"
    " stations, wlcNumAssocSta (0)",
}
# Why the device totals differ (or one is absent), per recording.
TOTAL_DIFFERS: dict[str, str] = {
    "openwrt": "no client count offered (see the sensors)",
    "pepwave": "LibreNMS's figure is the number of APs online, not stations",
}


def oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(x) for x in oid.split("."))


def recordings() -> list[str]:
    return sorted(p.stem for p in SNMPREC.glob("*.snmprec")) if SNMPREC and SNMPREC.is_dir() else []


def read_recording(name: str) -> dict[str, tuple[str, str]]:
    """OID → (snmprec type, raw value)."""
    assert SNMPREC is not None
    out = {}
    for line in (SNMPREC / f"{name}.snmprec").read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip() and not line.startswith("#"):
            oid, kind, raw = line.split("|", 2)
            out[oid] = (kind, raw)
    return out


def write_sorted(names: Sequence[str], data: Path) -> None:
    """Copies of the recordings in OID order, for snmpsim to serve."""
    assert SNMPREC is not None
    data.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = SNMPREC / f"{name}.snmprec"
        lines = [ln for ln in src.read_text(encoding="utf-8", errors="surrogateescape").splitlines() if ln.strip()]
        lines.sort(key=lambda ln: oid_key(ln.split("|", 1)[0]))
        (data / src.name).write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")


def librenms_client_sensors(name: str) -> list[dict[str, Any]]:
    assert SNMPREC is not None
    path = SNMPREC / "librenms_expected" / f"{name}.wireless.json"
    if not path.exists():
        return []
    return [s for s in json.loads(path.read_text())["wireless_sensors"] if s["sensor_class"] == "clients"]


def sensor_oids(sensor: dict[str, Any]) -> list[str]:
    return [o.lstrip(".") for o in json.loads(sensor["sensor_oids"])]


# -- the comparison (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SensorCheck:
    recording: str
    descr: str
    theirs: int
    ours: int | None  # None: wifimon read none of the sensor's objects
    how: str  # which of our counts it was compared with

    @property
    def matched(self) -> bool:
        return self.ours == self.theirs

    @property
    def reason(self) -> str:
        return NOT_MATCHED.get((self.recording, self.descr), "")


def check_sensor(recording: str, sensor: dict[str, Any], counts: Sequence[ClientCount]) -> SensorCheck:
    """One LibreNMS sensor against our counts: by object instance, or (sensors LibreNMS computes in PHP,
    with no OID: Grandstream, Stellar) by SSID and as the device total."""
    oids = sensor_oids(sensor)
    theirs = int(sensor["sensor_current"])
    if oids:
        by_oid: dict[str, int] = {}
        for c in counts:
            by_oid[c.oid] = by_oid.get(c.oid, 0) + c.count
        read = [o for o in oids if o in by_oid]
        ours = sum(by_oid[o] for o in read) if len(read) == len(oids) else None
        return SensorCheck(recording, sensor["sensor_descr"], theirs, ours, f"{len(read)}/{len(oids)} objects")
    if sensor["sensor_index"] == "total-clients":
        total = device_total(counts)
        return SensorCheck(recording, sensor["sensor_descr"], theirs, total[0] if total else None, "device total")
    same = [c.count for c in counts if c.level == "ssid" and c.ssid == sensor["sensor_index"]]
    return SensorCheck(recording, sensor["sensor_descr"], theirs, sum(same) if same else None,
                       f"ssid {sensor['sensor_index']}")


def librenms_total(sensors: Sequence[dict[str, Any]]) -> int | None:
    """LibreNMS's device total: its total sensor where it has one, else the sum over a set of sensors that
    covers every object it reads exactly once (per SSID or per radio: the same stations)."""
    for s in sensors:
        if s["sensor_index"] == "total-clients" or "total" in s["sensor_descr"].lower():
            return int(s["sensor_current"])
    values = [int(s["sensor_current"]) for s in sensors]
    if len(values) > 2 and any(2 * v == sum(values) for v in values):
        return max(values)  # one sensor is the sum of the others (OpenWrt's "wlan" over wlan0 and wlan1)
    with_oids = [(frozenset(sensor_oids(s)), int(s["sensor_current"])) for s in sensors if sensor_oids(s)]
    everything = frozenset().union(*(o for o, _ in with_oids)) if with_oids else frozenset()
    for n in range(1, len(with_oids) + 1):
        for group in itertools.combinations(with_oids, n):
            sets = [o for o, _ in group]
            if sum(map(len, sets)) == len(everything) and frozenset().union(*sets) == everything:
                return sum(v for _, v in group)
    return None


# -- observing the fleet of recordings ----------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    name: str
    profile: str  # what the poller picked
    picked_by: str
    runner_up: str
    status: ApStatus
    counts: tuple[ClientCount, ...]  # the AP's own, then those of the APs watched through it
    total: tuple[int, str] | None
    uptime: bool
    traffic: bool
    interfaces: str
    missing: tuple[str, ...]


class _Sink:
    def transitions(self, transitions: object) -> None:
        pass

    def events(self, events: object) -> None:
        pass


def _rule(fit: Any) -> str:
    return "; ".join(fit.reasons) if fit else "nothing specific matches: generic"


async def _survey(agent: Agent, names: Sequence[str], profiles: dict[str, Profile]) -> dict[str, tuple[Any, ...]]:
    """What ``wifimon identify`` finds: the rule, the runner-up, and one poll with the chosen profile."""
    client = PysnmpClient()
    out = {}
    try:
        for name in names:
            target = Target(f"survey-{name}", agent.host, agent.port, V2cCredentials(name), timeout=3.0, retries=1)
            await client.register([target])
            profile, identity = await identify_device(client, target, profiles)
            best, second = explain(profiles, identity)
            out[name] = (profile, best, second, await client.poll(target, profile))
    finally:
        await client.close()
    return out


def _interfaces(result: PollResult) -> str:
    with_counters = [i for i in result.interfaces if i.in_octets is not None or i.out_octets is not None]
    if not with_counters:
        return "none"
    bits = sorted({i.counter_bits for i in with_counters})
    return f"{len(with_counters)} ({'/'.join(map(str, bits))}-bit)"


def _absent(result: PollResult) -> tuple[str, ...]:
    """Profile objects the device lacks, as a reader thinks of them."""
    missing = set(result.missing)
    groups = []
    for label in result.missing:
        head, _, field = label.partition(".")
        if label == "uptime":
            groups.append("sysUpTime")
        elif head == "interfaces":
            if not result.interfaces:
                groups.append("IF-MIB counters")
            elif not field.startswith("fallback.") and f"interfaces.fallback.{field}" not in missing:
                groups.append("ifXTable (ifTable read instead)")
        elif label == "controller.aps.name":
            groups.append("AP table")
        elif head == "controller" and "controller.aps.name" not in missing:
            groups.append(f"AP table column {field.rpartition('.')[2]}")
        elif head.startswith("clients["):
            groups.append({"count": f"count {head}", "stations": "station table (no station)"}.get(
                field, f"{field} names of {head}"))
        elif head in ("radios", "lte", "cpu_load_percent", "memory"):
            groups.append({"radios": "radio readings", "lte": "LTE signal", "cpu_load_percent": "CPU",
                           "memory": "memory"}[head])
    return tuple(dict.fromkeys(groups))


async def observe(agent: Agent, names: Sequence[str], workdir: Path) -> dict[str, Observed]:
    """Every recording through the poller (``profile: auto``); controllers' APs through their controller."""
    profiles = load_profiles()
    survey = await _survey(agent, names, profiles)
    address = f"{agent.host}:{agent.port}"
    aps: list[dict[str, Any]] = [{"id": f"rec-{i}", "address": address, "credentials": name}
                                 for i, name in enumerate(names)]
    controllers = []
    for i, name in enumerate(names):
        listed = survey[name][3].controller_aps or ()
        if listed:
            controllers.append({"id": f"ctl-{i}", "address": address, "credentials": name})
            aps += [{"id": f"ctl-{i}-ap{j}", "address": address, "credentials": name, "controller": f"ctl-{i}",
                     "controller_ap": ap.mac or ap.name} for j, ap in enumerate(listed)]
    config = Config.model_validate({
        "service": {"spread": 0, "confirm_failures": 1},
        "credentials": {name: {"version": "2c", "community": {"env": "UNUSED"}} for name in names},
        "controllers": controllers,
        "sites": [{"id": "lab", "name": "Lab", "category": "other", "aps": aps}],
    })
    loaded = LoadedConfig(workdir / "wifimon.yaml", config, {n: V2cCredentials(n) for n in names}, profiles)
    client = PysnmpClient()
    poller = Poller(loaded, client, profiles, _Sink(), ServiceMetrics(CollectorRegistry(), "coverage"), clock=time.time)
    try:
        await poller.register()
        await poller.probe_round()
        await poller.metrics_round()
    finally:
        await poller.close()
        await client.close()
    poller.publish()
    views = {v.ap: v for v in poller.snapshot().aps}
    out = {}
    for i, name in enumerate(names):
        view = views[f"rec-{i}"]
        profile, best, second, result = survey[name]
        watched = [c for v in views.values() if v.ap.startswith(f"ctl-{i}-") for c in v.clients]
        out[name] = Observed(
            name=name,
            profile=view.profile if view.profile == profile.name else f"{view.profile} (identify: {profile.name})",
            picked_by=_rule(best),
            runner_up=f"{second.profile.name} ({_rule(second)})" if second else "none",
            status=view.status,
            counts=tuple(view.clients) + tuple(watched),
            total=device_total(view.clients),
            uptime=view.uptime_seconds is not None,
            traffic=view.rx_bytes is not None,
            interfaces=_interfaces(result),
            missing=_absent(result),
        )
    return out


def run(names: Sequence[str] | None = None) -> dict[str, Observed]:
    """Serve the recordings and observe them (blocking); {} when the recordings are not there."""
    names = list(names) if names is not None else recordings()
    if not names:
        return {}
    with tempfile.TemporaryDirectory(prefix="wifimon-coverage-") as tmp:
        work = Path(tmp)
        write_sorted(names, work / "data")
        with snmpsim_agent(work / "data", work, probe_community=names[0]) as agent:
            return asyncio.run(observe(agent, names, work))


# -- the table ----------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(observed: dict[str, Observed]) -> str:
    """COVERAGE.md: the summary, a row per recording, and every sensor not matched with its reason."""
    rows, unmatched = [], []
    sensors_total = sensors_matched = sensors_documented = totals_equal = totals_compared = 0
    for name, o in observed.items():
        sensors = librenms_client_sensors(name)
        checks = [check_sensor(name, s, o.counts) for s in sensors]
        matched = sum(c.matched for c in checks)
        sensors_total += len(checks)
        sensors_matched += matched
        sensors_documented += sum(bool(c.reason) and not c.matched for c in checks)
        unmatched += [c for c in checks if not c.matched]
        theirs = librenms_total(sensors)
        ours = o.total[0] if o.total else None
        if theirs is None and ours is None:
            total = "none / none"
        else:
            totals_compared += 1
            equal = ours == theirs
            totals_equal += equal
            mark = "equal" if equal else f"differs: {TOTAL_DIFFERS.get(name, 'UNEXPLAINED')}"
            total = f"{'none' if ours is None else ours} / {'none' if theirs is None else theirs}, {mark}"
            if o.total:
                total += f" (level {o.total[1]})"
        rows.append(
            f"| {name} | {o.profile} | {_cell(o.picked_by)} | {matched}/{len(checks)} | {total} |"
            f" {'yes' if o.uptime else 'no'} | {o.interfaces}{'' if o.traffic or o.interfaces == 'none' else ' (no traffic)'} |"
            f" {_cell(', '.join(o.missing)) or '-'} |"
        )
    lines = [
        "# Coverage of the real recordings",
        "",
        "Generated by `tests/vendor_coverage.py` (`.venv/bin/python -m tests.vendor_coverage --write`) from the",
        "recordings in `shared/snmprec`, each served by snmpsim and polled by the real poller with `profile: auto`;",
        "`tests/test_coverage.py` fails when this file differs from what it produces. The oracle is LibreNMS's own",
        "test expectations for the same files (`librenms_expected/*.wireless.json`): a sensor is matched when",
        "wifimon read the same object instances and the same sum (sensors LibreNMS computes without an OID: by",
        "SSID, or as the total).",
        "",
        f"**{sensors_matched} of {sensors_total} LibreNMS client sensors matched** on {len(observed)} recordings;"
        f" {sensors_documented} not matched, each for the reason below. Device totals equal on {totals_equal} of"
        f" {totals_compared} recordings with a count.",
        "",
        "| recording | profile | picked by | LibreNMS client sensors matched | clients: wifimon / LibreNMS |"
        " uptime | interface counters | the device lacks |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "## Not matched",
        "",
        "| recording | LibreNMS sensor | LibreNMS | wifimon | why |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {c.recording} | {_cell(c.descr)} | {c.theirs} | {'not read' if c.ours is None else c.ours} |"
          f" {_cell(c.reason or 'UNEXPLAINED')} |" for c in unmatched),
        "",
        "Runner-up profile per recording (what would have been picked next):",
        "",
        *(f"- {name}: {_cell(o.runner_up)}" for name, o in observed.items()),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="poll every recording, compare with LibreNMS, print COVERAGE.md")
    parser.add_argument("--write", action="store_true", help=f"write {COVERAGE_MD} instead of printing it")
    args = parser.parse_args(argv)
    observed = run()
    if not observed:
        print("vendor_coverage: no recordings (need ../shared/snmprec or $WIFIMON_SHARED/snmprec)", file=sys.stderr)
        return 1
    text = render(observed)
    if args.write:
        COVERAGE_MD.write_text(text, encoding="utf-8")
        print(f"vendor_coverage: wrote {COVERAGE_MD}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
