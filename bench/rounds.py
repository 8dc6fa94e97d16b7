"""Benchmark: probe and metrics rounds over the demo fleet, against snmp_exporter on the same agents.

Starts the simulator (a separate process, so its CPU is not counted), and Debian's prometheus-snmp-exporter
with one module per profile asking for the same OIDs (the scalars, and the columns wifimon walks in the
steady state) and a ``probe`` module asking sysUpTime.0 only. In this process it runs the service's SNMP
client (``--engine``: auto, gufo or pysnmp, as ``service.snmp_engine``) under the real Poller, no spreading:
a first probe round and a first metrics round (which identifies the devices and learns their table sizes),
then ``--rounds`` times a probe round of each side and a steady metrics round of each side, interleaved so a
change of load on the (shared) machine hits both alike. It records wall time, CPU seconds (this process's;
the exporter's from /proc), CPU ms per device and peak RSS; steady figures are medians over the rounds.
``ratio_poll_cpu`` is wifimon's CPU per full poll over the exporter's per full scrape (through its HTTP,
as Prometheus would); ``ratio_probe_cpu`` the same for a probe.

    .venv/bin/python bench/rounds.py [--config config/demo/wifimon.yaml] [--engine auto] [--rounds 3] [--json]

``--json`` prints, as the last line, one JSON object with every figure (what /work/shared/checks/scale reads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
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


class Wifimon:
    """The service's client under the real Poller, rounds measured in CPU seconds of this process."""

    def __init__(self, loaded: LoadedConfig, profiles: dict[str, Profile], engine: EngineSetting) -> None:
        service = loaded.config.service.model_copy(update={"spread": 0.0})
        loaded = replace(loaded, config=loaded.config.model_copy(update={"service": service}))
        self.client = Counted(RoutedClient(engine, max_in_flight=service.concurrency))
        self.poller = Poller(loaded, self.client, profiles, NullSink(), ServiceMetrics(CollectorRegistry(), "bench"))

    async def register(self) -> dict[str, float]:
        t0, c0 = time.perf_counter(), cpu()
        await self.poller.register()
        return {"register_s": time.perf_counter() - t0, "register_cpu_s": cpu() - c0}

    async def round(self, name: str) -> dict[str, float]:
        """One probe round (``probe``) or metrics round (anything else): wall, CPU, CPU ms per device, answers."""
        probing = name.endswith("probe")
        fn = self.poller.probe_round if probing else self.poller.metrics_round
        self.client.ok = {"probe": 0, "poll": 0}
        t0, c0 = time.perf_counter(), cpu()
        await fn()
        wall, used = time.perf_counter() - t0, cpu() - c0
        return {f"{name}_wall_s": wall, f"{name}_cpu_s": used, f"{name}_cpu_ms_per_device": 1000 * used / self.devices,
                f"{name}_ok": self.client.ok["probe" if probing else "poll"]}

    @property
    def devices(self) -> int:
        return len(self.poller.tracks)

    async def close(self) -> dict[str, float]:
        out: dict[str, float] = {"devices": self.devices,
                                 "up": sum(1 for t in self.poller.tracks.values() if t.status.value == "up")}
        out.update({f"targets_{name}": count for name, count in self.client.inner.counts.items()})
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        await self.poller.close()
        await self.client.close()
        return out


def exporter_module(profiles: dict[str, Profile], community: str) -> dict:
    """An old-format snmp.yml with one module per profile, walking the profile's columns."""
    modules = {}
    for name, p in profiles.items():
        modules[name] = {
            "version": 2, "auth": {"community": community}, "max_repetitions": 25, "retries": 1, "timeout": "2s",
            "get": list(dict.fromkeys([p.uptime, SYS_DESCR, SYS_OBJECT_ID, *p.scalars])),
            # The stand-by columns (an ifTable fallback) wifimon walks only when the main one is missing: not here.
            "walk": [c for c in p.columns if c not in p.waits],
            "metrics": [{"name": "up_ticks", "oid": p.uptime, "type": "gauge"}]
            + [{"name": f"col{i}", "oid": c, "type": "gauge", "indexes": [{"labelname": "i", "type": "gauge"}]}
               for i, c in enumerate(p.columns) if c not in p.waits],
        }
    modules["probe"] = {  # what a wifimon probe asks: sysUpTime.0 alone
        "version": 2, "auth": {"community": community}, "retries": 1, "timeout": "2s",
        "get": ["1.3.6.1.2.1.1.3.0"], "metrics": [{"name": "up_ticks", "oid": "1.3.6.1.2.1.1.3.0", "type": "gauge"}],
    }
    return modules


class Exporter:
    """Debian's prometheus-snmp-exporter with the modules above, scraped for every AP; its CPU read from /proc."""

    def __init__(self, loaded: LoadedConfig, profiles: dict[str, Profile], binary: str) -> None:
        community = next(iter(loaded.credentials.values())).community  # type: ignore[union-attr]
        tmp = Path(tempfile.mkdtemp())
        (tmp / "snmp.yml").write_text(yaml.safe_dump(exporter_module(profiles, community)))
        self.port = free_port()
        self.proc = subprocess.Popen([binary, f"--config.file={tmp / 'snmp.yml'}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.targets = [(ap.address, ap.profile if ap.profile in profiles else "generic")
                        for s in loaded.config.sites for ap in s.aps]
        self.http = httpx.AsyncClient(timeout=30)

    async def ready(self) -> None:
        for _ in range(100):
            try:
                await self.http.get(f"http://127.0.0.1:{self.port}/")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)

    async def round(self, name: str, concurrency: int) -> dict[str, float]:
        """Every AP through the ``probe`` module (``name`` probe) or its profile's module (``poll``)."""
        sem = asyncio.Semaphore(concurrency)
        ok = 0

        async def one(addr: str, module: str) -> None:
            nonlocal ok
            async with sem:
                r = await self.http.get(f"http://127.0.0.1:{self.port}/snmp", params={"target": addr, "module": module})
                ok += r.status_code == 200 and "snmp_scrape_duration_seconds" in r.text

        c0, t0 = proc_cpu(self.proc.pid), time.perf_counter()
        await asyncio.gather(*(one(a, "probe" if name == "probe" else m) for a, m in self.targets))
        wall, used = time.perf_counter() - t0, proc_cpu(self.proc.pid) - c0
        return {f"exporter_{name}_wall_s": wall, f"exporter_{name}_cpu_s": used, f"exporter_{name}_ok": ok,
                f"exporter_{name}_cpu_ms_per_ap": 1000 * used / len(self.targets)}

    async def close(self) -> None:
        await self.http.aclose()
        self.proc.terminate()
        self.proc.wait(10)


async def measure(loaded: LoadedConfig, profiles: dict[str, Profile], engine: EngineSetting,
                  rounds: int) -> dict[str, float]:
    """Wifimon's rounds and the exporter's, interleaved so that a change of load on the machine hits both alike;
    each steady figure is the median over ``rounds``."""
    binary = shutil.which("prometheus-snmp-exporter")
    exporter = Exporter(loaded, profiles, binary) if binary else None
    wifimon = Wifimon(loaded, profiles, engine)
    concurrency = loaded.config.service.concurrency
    try:
        if exporter:
            await exporter.ready()
        out = await wifimon.register()
        out.update(await wifimon.round("first_probe"))
        out.update(await wifimon.round("metrics"))  # the first: identifies the devices, learns the table sizes
        runs: dict[str, list[dict[str, float]]] = {"probe": [], "metrics2": [], "exporter_probe": [], "exporter_poll": []}
        for _ in range(rounds):
            runs["probe"].append(await wifimon.round("probe"))
            if exporter:
                runs["exporter_probe"].append(await exporter.round("probe", concurrency))
            runs["metrics2"].append(await wifimon.round("metrics2"))
            if exporter:
                runs["exporter_poll"].append(await exporter.round("poll", concurrency))
        for results in runs.values():
            if results:
                out.update({k: statistics.median(r[k] for r in results) for k in results[0]})
        out.update(await wifimon.close())
        return out
    finally:
        if exporter:
            await exporter.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, default=ROOT / "config/demo/wifimon.yaml")
    ap.add_argument("--engine", choices=["auto", "gufo", "pysnmp"], default=None,
                    help="the SNMP engine (default: the config's service.snmp_engine)")
    ap.add_argument("--json", action="store_true", help="end with one JSON object of every figure")
    ap.add_argument("--rounds", type=int, default=3, help="steady probe and metrics rounds of each side (medians)")
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
        res = asyncio.run(measure(loaded, profiles, engine, args.rounds))
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
