"""CPU the simulator spends serving a city at the demo rate.

Starts ``python -m simulator`` on a generated inventory (by default 400 agents: 396 APs at 370 land
sites and 4 ferries, plus the ferries' LTE routers) or on ``--config``, polls every agent with the
monitor's own SNMP client (``collectors.snmp.PysnmpClient``) on the demo schedule - a liveness probe
(GET sysUpTime.0) every 15 s and a full poll (GET of the scalars + GETBULKs of the profile's columns)
every 60 s, each round spread over the interval - and reads the simulator's CPU time from
/proc/<pid>/stat before and after the measured window.

    .venv/bin/python bench/simulator_cpu.py [--seconds 60] [--config config/demo/wifimon.yaml]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors.profile import Profile  # noqa: E402
from collectors.types import Target  # noqa: E402
from monitor.config.load import load_config  # noqa: E402
from simulator.inventory import read_inventory  # noqa: E402

CATEGORIES = ["bus_stop", "park", "market", "tourist_site", "welfare", "rental_yard", "public_office",
              "library", "street", "port", "sports", "culture", "school", "health"]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def generate_inventory(folder: Path, land_sites: int, land_aps: int, ferries: int) -> Path:
    """A Gunsan-sized city on loopback: one address per device on a random 127.x block, port 1161."""
    second = random.randint(100, 250)
    n = 0

    def address() -> str:
        nonlocal n
        n += 1
        return f"127.{second}.{n // 250}.{n % 250 + 1}:1161"

    lines = ["credentials:", '  city: {version: "2c", community: {file: community.secret}}', "sites:"]
    for s in range(land_sites):
        lines += [f"  - id: gs-{s:04d}", f"    name: 사이트 {s}", f"    category: {CATEGORIES[s % len(CATEGORIES)]}",
                  "    aps:"]
        count = 1 + (s < land_aps - land_sites)  # the first sites get a second AP
        for a in range(count):
            lines.append(f'      - {{id: gs-{s:04d}-ap{a + 1}, address: "{address()}", credentials: city,'
                         f' profile: unifi, ssids: ["Public WiFi Free", "Gunsan City WiFi"]}}')
    for f in range(ferries):
        lines += [f"  - id: ferry-{f}", f"    name: 여객선 {f}", "    category: ferry", "    kind: ferry",
                  '    timetable: [{days: [mon, tue, wed, thu, fri, sat, sun], start: "06:00", end: "20:00"}]',
                  "    snmp: {timeout: 5, retries: 2}",
                  f'    uplink: {{id: ferry-{f}-lte, address: "{address()}", credentials: city}}',
                  "    aps:",
                  f'      - {{id: ferry-{f}-ap1, address: "{address()}", credentials: city, profile: unifi}}']
    (folder / "community.secret").write_text("bench-community\n", encoding="utf-8")
    path = folder / "wifimon.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def targets_of(config_path: Path) -> list[tuple[Target, Profile]]:
    """Every device the simulator serves, as the monitor would poll it (its profile as the simulator sees it)."""
    loaded = load_config(config_path)
    served = {spec.id: spec.profile for spec in read_inventory(config_path).specs}
    out = []
    for site in loaded.config.sites:
        for device in ([site.uplink] if site.uplink else []) + list(site.aps):
            if device.id in served:
                out.append((loaded.target(site, device), served[device.id]))
    return out


def health(control: str) -> dict:
    return httpx.get(f"http://{control}/healthz", timeout=5, trust_env=False).json()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, help="inventory to serve (default: a generated 400-agent city)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window")
    parser.add_argument("--probe-interval", type=float, default=15.0)
    parser.add_argument("--metrics-interval", type=float, default=60.0)
    parser.add_argument("--spread", type=float, default=0.8, help="fraction of an interval a round is spread over")
    args = parser.parse_args()

    from collectors.snmp import PysnmpClient  # the monitor's client: the same requests the demo sends

    tmp = tempfile.TemporaryDirectory(prefix="simbench-")
    config = args.config or generate_inventory(Path(tmp.name), land_sites=370, land_aps=396 - 4, ferries=4)
    targets = targets_of(config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        control = f"127.0.0.1:{s.getsockname()[1]}"
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "--config", str(config), "--control", control, "--log-level", "WARNING",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    client = PysnmpClient()
    try:
        ready = await asyncio.wait_for(sim.stdout.readline(), timeout=60)
        if not ready.startswith(b"simulator: serving"):
            print(f"simulator did not start: {ready!r}", file=sys.stderr)
            return 1
        cpu_start_up = cpu_seconds(sim.pid)
        await client.register([t for t, _ in targets])
        warm = time.monotonic()
        await asyncio.gather(*(client.poll(t, p) for t, p in targets))  # one round before measuring
        warm = time.monotonic() - warm

        n = len(targets)
        events: list[tuple[float, str, int]] = []
        for i in range(n):
            for interval, kind in ((args.probe_interval, "probe"), (args.metrics_interval, "poll")):
                at = args.spread * interval * i / n
                while at < args.seconds:
                    events.append((at, kind, i))
                    at += interval
        events.sort()
        outcomes = {"probe": [0, 0], "poll": [0, 0]}  # [ok, failed]
        pending: set[asyncio.Task] = set()

        async def run(kind: str, i: int) -> None:
            target, profile = targets[i]
            result = await (client.probe(target) if kind == "probe" else client.poll(target, profile))
            outcomes[kind][0 if result.ok else 1] += 1

        idle_cpu = cpu_seconds(sim.pid)
        await asyncio.sleep(2.0)
        idle_cpu = (cpu_seconds(sim.pid) - idle_cpu) / 2.0

        traffic0 = await asyncio.to_thread(health, control)
        cpu0, own0, t0 = cpu_seconds(sim.pid), time.process_time(), time.monotonic()
        for at, kind, i in events:
            delay = t0 + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(run(kind, i))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.sleep(max(0.0, t0 + args.seconds - time.monotonic()))
        cpu1, own1, t1 = cpu_seconds(sim.pid), time.process_time(), time.monotonic()
        traffic1 = await asyncio.to_thread(health, control)
        if pending:
            await asyncio.wait(pending, timeout=30)
    finally:
        await client.close()
        if sim.returncode is None:
            sim.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(sim.wait(), timeout=10)
            except TimeoutError:
                sim.kill()
        tmp.cleanup()

    window = t1 - t0
    sim_cpu = cpu1 - cpu0
    requests = traffic1["requests"] - traffic0["requests"]
    result = {
        "agents": n,
        "window_s": round(window, 1),
        "probes_ok": outcomes["probe"][0], "probes_failed": outcomes["probe"][1],
        "polls_ok": outcomes["poll"][0], "polls_failed": outcomes["poll"][1],
        "simulator_cpu_s": round(sim_cpu, 2),
        "simulator_core_percent": round(100 * sim_cpu / window, 2),
        "requests": requests,
        "replies": traffic1["replies"] - traffic0["replies"],
        "cpu_us_per_request": round(1e6 * sim_cpu / requests, 1) if requests else None,
        "simulator_idle_core_percent": round(100 * idle_cpu, 2),
        "simulator_startup_cpu_s": round(cpu_start_up, 2),
        "load_generator_cpu_s": round(own1 - own0, 2),
        "warm_up_round_s": round(warm, 1),
    }
    print(
        f"simulator: {sim_cpu:.2f} CPU s over {window:.0f} s = {100 * sim_cpu / window:.1f} % of one core "
        f"serving {n} agents, {requests} requests ({result['cpu_us_per_request']} µs each; {result['probes_ok']} probes + {result['polls_ok']} full polls answered; "
        f"{result['probes_failed']} probes and {result['polls_failed']} polls failed; idle "
        f"{100 * idle_cpu:.2f} %; start-up {cpu_start_up:.2f} CPU s; load generator {own1 - own0:.1f} CPU s)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
