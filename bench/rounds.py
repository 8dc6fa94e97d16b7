"""Benchmark: a probe round and metrics rounds over the demo fleet, against snmp_exporter on the same agents.

Starts the simulator (a separate process, so its CPU is not counted), then in this process runs the
service's SNMP client (``--engine``: auto, gufo or pysnmp, as ``service.snmp_engine``) under the real
Poller for one probe round and two metrics rounds with no spreading (the first identifies the devices; the
second is the steady state), recording wall time, CPU seconds of this process, CPU ms per AP and peak RSS.
Then starts Debian's prometheus-snmp-exporter with one module per profile asking for the same OIDs, and a
``probe`` module asking sysUpTime.0 only, and scrapes every AP through each at the same concurrency,
measuring the exporter's CPU from /proc. ``ratio_poll_cpu`` is wifimon's CPU per full poll (second metrics
round) over the exporter's per full scrape; ``ratio_probe_cpu`` the same for a probe.

    .venv/bin/python bench/rounds.py [--config config/demo/wifimon.yaml] [--engine auto] [--json]

``--json`` prints, as the last line, one JSON object with every figure (what /work/shared/checks/scale reads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.profile import Profile  # noqa: E402
from collectors.reader import SYS_DESCR, SYS_OBJECT_ID  # noqa: E402
from collectors.engines import EngineSetting, RoutedClient  # noqa: E402
from monitor.config.load import LoadedConfig, load_config  # noqa: E402
from monitor.exposition.metrics import ServiceMetrics  # noqa: E402
from monitor.polling.poller import Poller  # noqa: E402
from tests.ports import free_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


class Counted:
    """The client, counting the results that came back ok: a cheap round of failures would flatter the ratio."""

    def __init__(self, inner: RoutedClient) -> None:
        self.inner = inner
        self.ok: dict[str, int] = {"probe": 0, "poll": 0}

    async def register(self, targets: Any) -> None:
        await self.inner.register(targets)

    async def probe(self, target: Any) -> Any:
        result = await self.inner.probe(target)
        self.ok["probe"] += result.ok
        return result

    async def poll(self, target: Any, profile: Profile) -> Any:
        result = await self.inner.poll(target, profile)
        self.ok["poll"] += result.ok
        return result

    async def close(self) -> None:
        await self.inner.close()


class NullSink:
    def transitions(self, transitions: list) -> None:
        pass

    def events(self, events: list) -> None:
        pass




def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def wifimon_rounds(loaded: LoadedConfig, profiles: dict[str, Profile], engine: EngineSetting) -> dict[str, float]:
    service = loaded.config.service.model_copy(update={"spread": 0.0})
    loaded = replace(loaded, config=loaded.config.model_copy(update={"service": service}))
    client = Counted(RoutedClient(engine, max_in_flight=service.concurrency))
    poller = Poller(loaded, client, profiles, NullSink(), ServiceMetrics(CollectorRegistry(), "bench"))
    out: dict[str, float] = {}
    t0, c0 = time.perf_counter(), cpu()
    await poller.register()
    out["register_s"], out["register_cpu_s"] = time.perf_counter() - t0, cpu() - c0
    n = len(poller.tracks)
    for name, fn in (("probe", poller.probe_round), ("metrics", poller.metrics_round), ("metrics2", poller.metrics_round)):
        client.ok = {"probe": 0, "poll": 0}
        t0, c0 = time.perf_counter(), cpu()
        await fn()
        out[f"{name}_ok"] = client.ok["probe" if name == "probe" else "poll"]
        out[f"{name}_wall_s"], out[f"{name}_cpu_s"] = time.perf_counter() - t0, cpu() - c0
        out[f"{name}_cpu_ms_per_device"] = 1000 * out[f"{name}_cpu_s"] / n
    snap_up = sum(1 for t in poller.tracks.values() if t.status.value == "up")
    out["devices"], out["up"] = n, snap_up
    out.update({f"targets_{name}": count for name, count in client.inner.counts.items()})
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await poller.close()
    await client.close()
    return out


def exporter_module(profiles: dict[str, Profile], community: str) -> dict:
    """An old-format snmp.yml with one module per profile, walking the profile's columns."""
    modules = {}
    for name, p in profiles.items():
        modules[name] = {
            "version": 2, "auth": {"community": community}, "max_repetitions": 25, "retries": 1, "timeout": "2s",
            "get": list(dict.fromkeys([p.uptime, SYS_DESCR, SYS_OBJECT_ID, *p.scalars])),
            "walk": list(p.columns),
            "metrics": [{"name": "up_ticks", "oid": p.uptime, "type": "gauge"}]
            + [{"name": f"col{i}", "oid": c, "type": "gauge", "indexes": [{"labelname": "i", "type": "gauge"}]}
               for i, c in enumerate(p.columns)],
        }
    modules["probe"] = {  # what a wifimon probe asks: sysUpTime.0 alone
        "version": 2, "auth": {"community": community}, "retries": 1, "timeout": "2s",
        "get": ["1.3.6.1.2.1.1.3.0"], "metrics": [{"name": "up_ticks", "oid": "1.3.6.1.2.1.1.3.0", "type": "gauge"}],
    }
    return modules


async def exporter_round(loaded: LoadedConfig, profiles: dict[str, Profile], concurrency: int) -> dict[str, float]:
    binary = shutil.which("prometheus-snmp-exporter")
    if not binary:
        return {}
    community = next(iter(loaded.credentials.values())).community  # type: ignore[union-attr]
    tmp = Path(tempfile.mkdtemp())
    (tmp / "snmp.yml").write_text(yaml.safe_dump(exporter_module(profiles, community)))
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={tmp / 'snmp.yml'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(100):
                try:
                    await http.get(f"http://127.0.0.1:{port}/")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            sem = asyncio.Semaphore(concurrency)
            targets = [(ap.address, ap.profile if ap.profile in profiles else "generic")
                       for s in loaded.config.sites for ap in s.aps]
            out: dict[str, float] = {}
            for name, modules in (("probe", ["probe"] * len(targets)), ("poll", [m for _, m in targets])):
                ok = 0

                async def one(addr: str, module: str) -> None:
                    nonlocal ok
                    async with sem:
                        r = await http.get(f"http://127.0.0.1:{port}/snmp", params={"target": addr, "module": module})
                        ok += r.status_code == 200 and "snmp_scrape_duration_seconds" in r.text

                c0, t0 = proc_cpu(proc.pid), time.perf_counter()
                await asyncio.gather(*(one(a, m) for (a, _), m in zip(targets, modules, strict=True)))
                wall, used = time.perf_counter() - t0, proc_cpu(proc.pid) - c0
                out.update({f"exporter_{name}_wall_s": wall, f"exporter_{name}_cpu_s": used, f"exporter_{name}_ok": ok,
                            f"exporter_{name}_cpu_ms_per_ap": 1000 * used / len(targets)})
            return out
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, default=ROOT / "config/demo/wifimon.yaml")
    ap.add_argument("--engine", choices=["auto", "gufo", "pysnmp"], default=None,
                    help="the SNMP engine (default: the config's service.snmp_engine)")
    ap.add_argument("--json", action="store_true", help="end with one JSON object of every figure")
    args = ap.parse_args()
    loaded = load_config(args.config)
    profiles = loaded.profiles
    engine: EngineSetting = args.engine or loaded.config.service.snmp_engine
    control = f"127.0.0.1:{free_port()}"
    sim = subprocess.Popen([sys.executable, "-m", "simulator", "--config", str(args.config), "--control", control],
                           stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert sim.stdout is not None
        for line in sim.stdout:
            if line.startswith("simulator: serving"):
                break
        sim_c0 = proc_cpu(sim.pid)
        res = asyncio.run(wifimon_rounds(loaded, profiles, engine))
        res.update(asyncio.run(exporter_round(loaded, profiles, loaded.config.service.concurrency)))
        res["simulator_cpu_s"] = proc_cpu(sim.pid) - sim_c0
    finally:
        sim.terminate()
        sim.wait(10)
    figures: dict[str, object] = {"engine": engine, **res}
    if res.get("exporter_poll_cpu_ms_per_ap"):
        figures["wifimon_poll_cpu_ms"] = res["metrics2_cpu_ms_per_device"]
        figures["wifimon_probe_cpu_ms"] = res["probe_cpu_ms_per_device"]
        figures["exporter_poll_cpu_ms"] = res["exporter_poll_cpu_ms_per_ap"]
        figures["exporter_probe_cpu_ms"] = res["exporter_probe_cpu_ms_per_ap"]
        figures["ratio_poll_cpu"] = res["metrics2_cpu_ms_per_device"] / res["exporter_poll_cpu_ms_per_ap"]
        figures["ratio_probe_cpu"] = res["probe_cpu_ms_per_device"] / res["exporter_probe_cpu_ms_per_ap"]
    for k, v in figures.items():
        print(f"{k:28} {v:10.3f}" if isinstance(v, float) else f"{k:28} {v!s:>10}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
