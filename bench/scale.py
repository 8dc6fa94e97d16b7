"""Benchmark: wifimon at fleet scale (388, 2,000, 10,000 simulated APs) at its default intervals.

    .venv/bin/python bench/scale.py --aps 10000 --minutes 10 [--engine pysnmp] [--json]

Generates a fleet config (sites of one to three APs, a quarter on the generic profile, the rest UniFi, each
AP on its own loopback address in 127.40.0.0–127.59.255.255, SNMP v2c), starts the simulator sharded over
several processes (``--sim-procs``; each serves a slice of the sites), then ``wifimon run`` on it with probe
15 s and full poll 60 s, and scrapes its /metrics every 15 s (gzip, as Prometheus asks) for ``--minutes``.
Recorded, from /proc and from wifimon's own /metrics: its CPU in cores (after start-up), rounds and overruns
after the first of each kind, false downs (no fault is injected, so any AP or site that is down at any
scrape is one), /metrics scrape time and size, start-up to /readyz, peak RSS; the simulator's CPU
separately. Then, in the same run, Debian's prometheus-snmp-exporter polls a sample of the same agents
with a module asking for the same OIDs (and a one-GET probe module) on wifimon's schedule, and wifimon's CPU
(from /proc, with its exchanges counted from its /metrics) is set against the exporter's: CPU per SNMP exchange (probe or full poll) of each, all of it counted
(wifimon's state, store and /metrics too; the exporter's HTTP). The two mixes differ (the exporter does
wifimon's schedule, four probes a poll; wifimon does what it manages, shown as coverage), so the ratio is a
rough one: ``bench/rounds.py`` has the clean per-poll and per-probe ratios.

``--engine`` writes ``service.snmp_engine`` into the generated config (for the engines the branch that
adds it offers); without it the config says nothing and wifimon uses its default.
Prints a Markdown table, or one JSON object with ``--json`` (last line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import gzip
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.rounds import exporter_module, proc_cpu  # noqa: E402
from monitor.config.load import load_config  # noqa: E402
from tests.e2e import free_block  # noqa: E402
from tests.ports import free_port  # noqa: E402

PORT = 1161
COMMUNITY = "scale-community"
OCTETS = range(40, 60)  # 127.40.0.0–127.59.255.255: this benchmark's loopback range (tests use 100–199)
HOSTS_PER_OCTET = 254 * 254
SCRAPE_EVERY = 15.0
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"


def _address(octet: int, index: int) -> str:
    return f"127.{octet + index // HOSTS_PER_OCTET}.{1 + index // 254 % 254}.{1 + index % 254}:{PORT}"


def fleet_sites(n_aps: int, octet: int, seed: int = 13) -> list[dict[str, Any]]:
    """``n_aps`` APs over sites of one to three APs (seeded, so every run polls the same fleet)."""
    rng = random.Random(seed)
    sites: list[dict[str, Any]] = []
    index = 0
    while index < n_aps:
        count = min(n_aps - index, rng.choice((1, 1, 1, 2, 2, 3)))
        n = len(sites) + 1
        aps = [{"id": f"s{n:05d}-ap{j + 1}", "address": _address(octet, index + j),
                "profile": "generic" if rng.random() < 0.25 else "unifi", "credentials": "sim",
                "ssids": ["Public WiFi Free"]} for j in range(count)]
        sites.append({"id": f"s{n:05d}", "name": f"사이트 {n}", "category": "bus_stop", "district": f"구역{n % 40}",
                      "lat": round(35.9 + rng.random() * 0.1, 6), "lon": round(126.6 + rng.random() * 0.2, 6),
                      "aps": aps})
        index += count
    return sites


def write_config(path: Path, sites: list[dict[str, Any]], service: dict[str, Any]) -> Path:
    (path.parent / "sim-community.secret").write_text(COMMUNITY + "\n")
    doc = {"service": service,
           "credentials": {"sim": {"version": "2c", "community": {"file": "sim-community.secret"}}},
           "sites": sites}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    return path


def _wait_line(proc: subprocess.Popen[str], marker: str, timeout: float) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        if marker in line:
            return
        if time.monotonic() > deadline:
            break
    raise SystemExit(f"scale.py: {proc.args!r} did not print {marker!r} (exit {proc.poll()})")


def start_simulators(workdir: Path, sites: list[dict[str, Any]], procs: int) -> list[subprocess.Popen[str]]:
    """The fleet's agents in ``procs`` simulator processes, each serving every ``procs``-th site."""
    started = []
    for i in range(procs):
        shard = write_config(workdir / f"sim-{i}.yaml", sites[i::procs], {})
        proc = subprocess.Popen([sys.executable, "-m", "simulator", "--config", str(shard), "--control",
                                 f"127.0.0.1:{free_port()}", "--log-level", "WARNING"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        started.append(proc)
    for proc in started:
        _wait_line(proc, "simulator: serving", 300)
    return started


@dataclass
class Scrape:
    at: float
    seconds: float
    wire_bytes: int
    text_bytes: int
    down_aps: set[str]
    down_sites: set[str]
    counters: dict[str, float]


_DOWN_AP = re.compile(rb'^wifi_ap_state\{ap="([^"]+)",site="[^"]+",state="down"\} 1\.0$', re.M)
_DOWN_SITE = re.compile(rb'^wifi_site_state\{site="([^"]+)",state="down"\} 1\.0$', re.M)
_SERVICE = re.compile(rb'^(wifimon_(?:rounds_total|round_overruns_total|snmp_requests_total|snmp_errors_total'
                      rb'|round_duration_seconds_sum|round_duration_seconds_count)\{[^}]*\}) (\S+)$', re.M)


async def scrape(http: httpx.AsyncClient, url: str) -> Scrape:
    started = time.perf_counter()
    async with http.stream("GET", url, headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}) as response:
        response.raise_for_status()
        wire = b"".join([chunk async for chunk in response.aiter_raw()])  # the body as sent, before decoding
    seconds = time.perf_counter() - started
    text = gzip.decompress(wire) if response.headers.get("Content-Encoding") == "gzip" else wire
    counters = {k.decode(): float(v) for k, v in _SERVICE.findall(text)}
    return Scrape(time.time(), seconds, len(wire), len(text), {m.decode() for m in _DOWN_AP.findall(text)},
                  {m.decode() for m in _DOWN_SITE.findall(text)}, counters)


def _count(s: Scrape, name: str, **labels: str) -> float:
    return sum(v for k, v in s.counters.items() if k.startswith(name + "{")
               and all(f'{lk}="{lv}"' in k for lk, lv in labels.items()))


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Exporter:
    """Debian's snmp_exporter polling a sample of the same agents on wifimon's schedule (a full poll each
    metrics interval, a one-GET probe each probe interval), as Prometheus would drive it."""

    binary: str
    workdir: Path
    targets: list[tuple[str, str]]  # (address, module)
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    polls: int = 0
    probes: int = 0
    failures: int = 0
    cpu0: float = 0.0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, profiles: dict[str, Any]) -> None:
        modules = exporter_module(profiles, COMMUNITY)
        modules["probe"] = {"version": 2, "auth": {"community": COMMUNITY}, "retries": 1, "timeout": "2s",
                            "get": [SYS_UPTIME], "metrics": [{"name": "up_ticks", "oid": SYS_UPTIME, "type": "gauge"}]}
        (self.workdir / "snmp.yml").write_text(yaml.safe_dump(modules))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/snmp"
        self.proc = subprocess.Popen([self.binary, f"--config.file={self.workdir / 'snmp.yml'}",
                                      f"--web.listen-address=127.0.0.1:{port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(100):
                try:
                    await http.get(f"http://127.0.0.1:{port}/")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        self.cpu0 = proc_cpu(self.proc.pid)

    async def run(self, http: httpx.AsyncClient, probe_every: float, poll_every: float) -> None:
        async def one(address: str, module: str, every: float, offset: float) -> None:
            await asyncio.sleep(offset)
            while True:
                r = await http.get(self.url, params={"target": address, "module": module}, timeout=30)
                ok = r.status_code == 200 and "snmp_scrape_duration_seconds" in r.text
                self.failures += not ok
                if module == "probe":
                    self.probes += 1
                else:
                    self.polls += 1
                await asyncio.sleep(every)

        n = len(self.targets)
        for i, (address, module) in enumerate(self.targets):  # spread over the intervals as wifimon spreads
            self.tasks.append(asyncio.create_task(one(address, module, poll_every, 3.0 + poll_every * 0.8 * i / n)))
            self.tasks.append(asyncio.create_task(one(address, "probe", probe_every, probe_every * 0.8 * i / n)))

    async def stop(self) -> float:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        assert self.proc is not None
        used = proc_cpu(self.proc.pid) - self.cpu0
        self.proc.terminate()
        self.proc.wait(10)
        return used


async def measure(args: argparse.Namespace, n_aps: int, workdir: Path) -> dict[str, Any]:
    octet = free_block(PORT, range(OCTETS.start, OCTETS.stop - (n_aps - 1) // HOSTS_PER_OCTET))
    sites = fleet_sites(n_aps, octet)
    listen = f"127.0.0.1:{free_port()}"
    service: dict[str, Any] = {"listen": listen, "store_url": args.store_url or f"sqlite:///{workdir}/wifimon.db"}
    if args.engine:
        service["snmp_engine"] = args.engine
    config = write_config(workdir / "wifimon.yaml", sites, service)
    loaded = load_config(config)
    probe_every, poll_every = loaded.config.service.probe_interval, loaded.config.service.metrics_interval
    procs = args.sim_procs or max(1, -(-n_aps // 2500))
    sims = start_simulators(workdir, sites, procs)
    out: dict[str, Any] = {"aps": n_aps, "sites": len(sites), "engine": args.engine or "default",
                           "simulator_processes": procs, "minutes": args.minutes}
    log = (workdir / "wifimon.log").open("w")
    started = time.monotonic()
    wifimon = subprocess.Popen([sys.executable, "-m", "monitor.cli.main", "run", str(config)],
                               stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    exporter: Exporter | None = None
    try:
        base = f"http://{listen}"
        async with httpx.AsyncClient(timeout=60) as http:
            while True:
                if wifimon.poll() is not None:
                    raise SystemExit(f"scale.py: wifimon exited {wifimon.returncode}; see {workdir / 'wifimon.log'}")
                try:
                    if (await http.get(f"{base}/readyz", timeout=5)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            out["startup_to_readyz_s"] = time.monotonic() - started
            cpu0, wall0 = proc_cpu(wifimon.pid), time.monotonic()
            sim0 = sum(proc_cpu(p.pid) for p in sims)
            binary = shutil.which("prometheus-snmp-exporter")
            if binary:
                rng = random.Random(n_aps)
                aps = [ap for s in sites for ap in s["aps"]]
                sample = rng.sample(aps, min(args.exporter_sample, len(aps)))
                exporter = Exporter(binary, workdir, [(a["address"], a["profile"]) for a in sample])
                await exporter.start(loaded.profiles)
                await exporter.run(http, probe_every, poll_every)
            scrapes: list[Scrape] = []
            deadline = wall0 + args.minutes * 60
            while time.monotonic() < deadline:
                tick = time.monotonic()
                scrapes.append(await scrape(http, f"{base}/metrics"))
                await asyncio.sleep(max(0.0, SCRAPE_EVERY - (time.monotonic() - tick)))
            scrapes.append(await scrape(http, f"{base}/metrics"))
            wall = time.monotonic() - wall0
            used = proc_cpu(wifimon.pid) - cpu0
            out["wifimon_cpu_cores"] = used / wall
            out["simulator_cpu_cores"] = (sum(proc_cpu(p.pid) for p in sims) - sim0) / wall
            out["peak_rss_mb"] = peak_rss_mb(wifimon.pid)
            out.update(_rounds(scrapes))
            out["false_downs"] = len(set().union(*(s.down_aps for s in scrapes)))
            out["false_site_downs"] = len(set().union(*(s.down_sites for s in scrapes)))
            times = [s.seconds for s in scrapes]
            out["scrapes"] = len(times)
            out["scrape_s_median"], out["scrape_s_max"] = statistics.median(times), max(times)
            out["scrape_s_p90"] = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
            out["scrape_s_first"] = times[0]  # the first after /readyz: every site's lines written, none kept
            out["scrapes_over_1s"] = sum(t > 1.0 for t in times)
            out["scrape_mb_text"] = scrapes[-1].text_bytes / 1e6
            out["scrape_mb_gzip"] = scrapes[-1].wire_bytes / 1e6
            first, last = scrapes[0], scrapes[-1]
            polls = _count(last, "wifimon_snmp_requests_total", op="poll") - _count(first, "wifimon_snmp_requests_total", op="poll")
            probes = _count(last, "wifimon_snmp_requests_total", op="probe") - _count(first, "wifimon_snmp_requests_total", op="probe")
            out["wifimon_polls"], out["wifimon_probes"] = polls, probes
            # Of what its schedule asks (every AP probed each probe interval, polled each metrics interval).
            out["probe_coverage"] = probes / (n_aps * wall / probe_every)
            out["poll_coverage"] = polls / (n_aps * wall / poll_every)
            # Everything it does (probes, polls, state, store, /metrics) per SNMP exchange it made.
            out["wifimon_cpu_ms_per_exchange"] = 1000 * used / max(1.0, polls + probes)
            if exporter is not None:
                exporter_cpu = await exporter.stop()
                out["exporter_sample"] = len(exporter.targets)
                out["exporter_polls"], out["exporter_probes"] = exporter.polls, exporter.probes
                out["exporter_failures"] = exporter.failures
                out["exporter_cpu_ms_per_exchange"] = 1000 * exporter_cpu / max(1, exporter.polls + exporter.probes)
                out["ratio_cpu_per_exchange"] = out["wifimon_cpu_ms_per_exchange"] / out["exporter_cpu_ms_per_exchange"]
                exporter = None
    finally:
        if exporter is not None and exporter.proc is not None:
            exporter.proc.terminate()
        wifimon.send_signal(signal.SIGTERM)
        try:
            wifimon.wait(60)
        except subprocess.TimeoutExpired:
            wifimon.kill()
        for p in sims:
            p.terminate()
        for p in sims:
            p.wait(30)
        log.close()
    return out


def _rounds(scrapes: list[Scrape]) -> dict[str, float]:
    """Rounds and overruns of each kind after its first round (the baseline: the first scrape that saw one)."""
    out: dict[str, float] = {}
    last = scrapes[-1]
    for kind in ("probe", "metrics"):
        base = next((s for s in scrapes if _count(s, "wifimon_rounds_total", round=kind) >= 1), last)
        out[f"{kind}_rounds"] = _count(last, "wifimon_rounds_total", round=kind) - _count(base, "wifimon_rounds_total", round=kind)
        out[f"{kind}_overruns"] = (_count(last, "wifimon_round_overruns_total", round=kind)
                                   - _count(base, "wifimon_round_overruns_total", round=kind))
        total = _count(last, "wifimon_round_duration_seconds_count", round=kind)
        out[f"{kind}_round_mean_s"] = _count(last, "wifimon_round_duration_seconds_sum", round=kind) / total if total else 0.0
    return out


COLUMNS = [
    ("APs", "aps", "{:,}"), ("engine", "engine", "{}"), ("start-up to /readyz", "startup_to_readyz_s", "{:.1f} s"),
    ("wifimon CPU", "wifimon_cpu_cores", "{:.2f} core"), ("peak RSS", "peak_rss_mb", "{:.0f} MB"),
    ("probe rounds / overruns", None, "{probe_rounds:.0f} / {probe_overruns:.0f}"),
    ("metrics rounds / overruns", None, "{metrics_rounds:.0f} / {metrics_overruns:.0f}"),
    ("mean round (probe / metrics)", None, "{probe_round_mean_s:.1f} / {metrics_round_mean_s:.1f} s"),
    ("false downs (APs / sites)", None, "{false_downs} / {false_site_downs}"),
    ("/metrics scrape (median / p90 / max)", None, "{scrape_s_median:.2f} / {scrape_s_p90:.2f} / {scrape_s_max:.2f} s"),
    ("/metrics scrapes over 1 s (first scrape)", None, "{scrapes_over_1s} of {scrapes} ({scrape_s_first:.2f} s)"),
    ("/metrics size (text / gzip)", None, "{scrape_mb_text:.1f} / {scrape_mb_gzip:.2f} MB"),
    ("probes / polls made, of those due", None, "{probe_coverage:.0%} / {poll_coverage:.0%}"),
    ("CPU ms per SNMP exchange: wifimon / exporter", None,
     "{wifimon_cpu_ms_per_exchange:.2f} / {exporter_cpu_ms_per_exchange:.2f} (×{ratio_cpu_per_exchange:.2f})"),
    ("simulator CPU", "simulator_cpu_cores", "{:.2f} core ({simulator_processes} processes)"),
]


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["| | " + " | ".join(f"{r['aps']:,} APs" for r in results) + " |",
             "| --- |" + " --- |" * len(results)]
    for title, key, fmt in COLUMNS[1:]:
        cells = []
        for r in results:
            try:
                cells.append(fmt.format(r[key], **r) if key else fmt.format(**r))
            except KeyError:
                cells.append("—")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aps", type=int, nargs="+", default=[388, 2000, 10000])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--engine", help="service.snmp_engine for the generated config (default: say nothing)")
    parser.add_argument("--sim-procs", type=int, default=0, help="simulator processes (default: one per 2,500 APs)")
    parser.add_argument("--exporter-sample", type=int, default=200, help="agents snmp_exporter polls beside wifimon")
    parser.add_argument("--store-url", help="wifimon's store (default: SQLite in the work directory)")
    parser.add_argument("--workdir", type=Path, help="keep configs and logs here (default: a temporary directory)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (last line) instead of the table")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(args.aps) // max(1, args.sim_procs or max(1, -(-max(args.aps) // 2500))) + 1024
    if soft < need:  # the children inherit it: every simulated agent is a socket
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    results = []
    for n in args.aps:
        workdir = args.workdir / str(n) if args.workdir else Path(tempfile.mkdtemp(prefix=f"scale-{n}-"))
        workdir.mkdir(parents=True, exist_ok=True)
        results.append(asyncio.run(measure(args, n, workdir)))
        print(f"scale.py: {n} APs done: {json.dumps(results[-1])}", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"results": results}))
    else:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
