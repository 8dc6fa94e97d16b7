"""Benchmark: one probe round and one metrics round over the demo fleet, against snmp_exporter.

Starts the simulator (a separate process, so its CPU is not counted), then in this process runs the
real PysnmpClient + Poller for one probe round and one metrics round with no spreading, and records
wall time, CPU seconds of this process, CPU ms per AP poll and peak RSS. Then starts Debian's
prometheus-snmp-exporter with a module asking for the same OIDs and scrapes every AP through it at
the same concurrency, measuring the exporter's CPU from /proc. Prints a Markdown table row set.

    .venv/bin/python bench/rounds.py [--config config/demo/wifimon.yaml]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
import yaml
from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.profile import Profile  # noqa: E402
from collectors.snmp import PysnmpClient  # noqa: E402
from monitor.config.load import LoadedConfig, load_config  # noqa: E402
from monitor.exposition.metrics import ServiceMetrics  # noqa: E402
from monitor.polling.poller import Poller  # noqa: E402
from tests.ports import free_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


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


async def wifimon_rounds(loaded: LoadedConfig, profiles: dict[str, Profile]) -> dict[str, float]:
    service = loaded.config.service.model_copy(update={"spread": 0.0})
    loaded = replace(loaded, config=loaded.config.model_copy(update={"service": service}))
    client = PysnmpClient(max_in_flight=service.concurrency)
    poller = Poller(loaded, client, profiles, NullSink(), ServiceMetrics(CollectorRegistry(), "bench"))
    out: dict[str, float] = {}
    t0, c0 = time.perf_counter(), cpu()
    await poller.register()
    out["register_s"], out["register_cpu_s"] = time.perf_counter() - t0, cpu() - c0
    n = len(poller.tracks)
    for name, fn in (("probe", poller.probe_round), ("metrics", poller.metrics_round), ("metrics2", poller.metrics_round)):
        t0, c0 = time.perf_counter(), cpu()
        await fn()
        out[f"{name}_wall_s"], out[f"{name}_cpu_s"] = time.perf_counter() - t0, cpu() - c0
        out[f"{name}_cpu_ms_per_device"] = 1000 * out[f"{name}_cpu_s"] / n
    snap_up = sum(1 for t in poller.tracks.values() if t.status.value == "up")
    out["devices"], out["up"] = n, snap_up
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
            "get": [p.uptime],
            "walk": list(p.columns),
            "metrics": [{"name": "up_ticks", "oid": p.uptime, "type": "gauge"}]
            + [{"name": f"col{i}", "oid": c, "type": "gauge", "indexes": [{"labelname": "i", "type": "gauge"}]}
               for i, c in enumerate(p.columns)],
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
            ok = 0

            async def one(addr: str, module: str) -> None:
                nonlocal ok
                async with sem:
                    r = await http.get(f"http://127.0.0.1:{port}/snmp", params={"target": addr, "module": module})
                    ok += r.status_code == 200 and "snmp_scrape_duration_seconds" in r.text

            c0, t0 = proc_cpu(proc.pid), time.perf_counter()
            await asyncio.gather(*(one(a, m) for a, m in targets))
            wall, used = time.perf_counter() - t0, proc_cpu(proc.pid) - c0
            return {"exporter_wall_s": wall, "exporter_cpu_s": used, "exporter_ok": ok,
                    "exporter_cpu_ms_per_ap": 1000 * used / len(targets)}
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, default=ROOT / "config/demo/wifimon.yaml")
    args = ap.parse_args()
    loaded = load_config(args.config)
    profiles = loaded.profiles
    control = f"127.0.0.1:{free_port()}"
    sim = subprocess.Popen([sys.executable, "-m", "simulator", "--config", str(args.config), "--control", control],
                           stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert sim.stdout is not None
        for line in sim.stdout:
            if line.startswith("simulator: serving"):
                break
        sim_c0 = proc_cpu(sim.pid)
        res = asyncio.run(wifimon_rounds(loaded, profiles))
        res.update(asyncio.run(exporter_round(loaded, profiles, loaded.config.service.concurrency)))
        res["simulator_cpu_s"] = proc_cpu(sim.pid) - sim_c0
    finally:
        sim.terminate()
        sim.wait(10)
    for k, v in res.items():
        print(f"{k:28} {v:10.3f}")
    if res.get("exporter_cpu_ms_per_ap"):
        print(f"{'ratio_cpu_per_ap_metrics':28} {res['metrics2_cpu_ms_per_device'] / res['exporter_cpu_ms_per_ap']:10.1f}")


if __name__ == "__main__":
    main()
