"""Chaos on the demo fleet (392 simulated devices, default intervals): wifimon under faults, load and
hostile input, each scenario with its figures. Prints one Markdown table.

    .venv/bin/python bench/chaos.py [--only sigkill,dead-channel,...] [--quick]

Scenarios (the simulator and `wifimon run` as child processes on loopback, a webhook receiver in this
process, the monitor's SQLite store in a scratch folder):

- ``sigkill``: sites down and paged, the monitor SIGKILLed mid-outage, restarted, the sites back.
- ``store-locked``: another process holds SQLite's write lock (writes fail as on a full disk or a stopped
  PostgreSQL; reads still work) for ``--lock-for`` seconds; sites go down meanwhile; the monitor is SIGKILLed
  while the lock is held; lock released, restart, sites back.
- ``pg-stopped``: the store in a PostgreSQL cluster of its own (tests/faults.py: initdb in a scratch folder,
  another port), stopped (``pg_ctl -m fast``) for ``--pg-down-for`` seconds; 10 sites go down meanwhile and
  5 of them come back within it; at its end the monitor is SIGKILLed, a restart is tried while the server is
  still stopped, then the server is started and the monitor with it; the other 5 sites come back.
- ``disk-full``: the SQLite store on a tmpfs of ``--tmpfs-mb`` MiB, its WAL checkpointed, then a file
  written until ENOSPC, for ``--full-for`` seconds; 10 sites down meanwhile, 5 back within it; the file
  deleted, the other 5 back.
- ``dead-channel``: a webhook that refuses connections beside a live one, ``delivery: {batch: 10}``, 2,000
  messages of the dead channel queued before the start; 30 sites down and back.
- ``channel-500``: the only webhook answers 500 for ``--fail-for`` seconds (default 300, the issue's hour
  compressed: the retry backoff reaches its cap within 5 minutes; beyond that an hour only repeats it;
  ``--fail-for 3600`` runs the hour), while 20 sites go down and come back; then 200.
- ``trap-flood``: ``--datagrams`` hostile datagrams (tests/hostile.py: random bytes, 60 KB, truncated and
  bit-flipped v2c/v3 traps, random engine IDs) from the APs' addresses and strangers, as fast as one process
  sends them, at the trap receiver.
- ``slow-clients``: 200 connections ask for /metrics and never read.

For each: notifications lost (a site-down or resolve never received), duplicated (a second firing for one
outage, or one idempotency key received twice), outage rows lost (a faulted site without its closed outage
in the store), false downs (outage rows of sites not faulted), page latency (fault to the firing at the
webhook), RSS of the monitor before and after. The store scenarios also say whether every page went out
while the store was cut, when /readyz said 503 and when 200 again, and how often the store alert fired.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.alerting import payload  # noqa: E402
from monitor.alerting.model import Alert, Notification, Rule  # noqa: E402
from monitor.cli.simulate import send_fault  # noqa: E402
from monitor.store import OutageRecord, OutboxMessage, Store, save_alerting  # noqa: E402
from tests.e2e import Exited, Monitor, free_block, free_port, sample, simulator, wait_until  # noqa: E402
from tests.faults import fill_beside, own_postgres, small_tmpfs, tmpfs_unavailable  # noqa: E402
from tests.hostile import flood_command, hostile_datagrams  # noqa: E402
from tests.ports import free_udp_port  # noqa: E402

FLEET = 380  # APs up before a scenario starts (of 392 devices; ferries off their timetable do not count)


@dataclass
class Hook:
    """A webhook receiver on loopback; ``failing`` makes it answer 500."""

    failing: bool = False
    got: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                doc = json.loads(body)
                hook.got.append({"at": time.time(), "key": doc["alert"]["key"], "kind": doc["kind"],
                                 "id": doc["id"], "opened": doc["alert"]["opened_at"]})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kinds(self, key: str) -> list[str]:
        return [g["kind"] for g in self.got if g["key"] == key]


@dataclass
class Run:
    """One scenario's scratch folder, config and figures."""

    name: str
    tmp: Path
    config: Path
    data: dict[str, Any]
    row: dict[str, str] = field(default_factory=dict)

    @property
    def store_url(self) -> str:
        return str(self.data["service"]["store_url"])


def prepare(name: str, channels: dict[str, Any], *, delivery: dict[str, Any] | None = None,
            traps: bool = False, store_url: str | None = None) -> Run:
    """The demo config on free loopback blocks, its own store (SQLite in the scratch folder unless
    ``store_url``) and port, the given channels."""
    tmp = Path(tempfile.mkdtemp(prefix=f"wifimon-chaos-{name}-"))
    demo = ROOT / "config/demo/wifimon.yaml"
    land = free_block()
    ferry = next(b for b in iter(free_block, None) if b != land)
    text = demo.read_text(encoding="utf-8").replace("127.20.", f"127.{land}.").replace("127.30.", f"127.{ferry}.")
    data = yaml.safe_load(text)
    data["service"].update(listen=f"127.0.0.1:{free_port()}", store_url=store_url or f"sqlite:///{tmp}/chaos.db")
    data["alerting"] = {"channels": channels, "thresholds": {"store_failing_after": 30}}
    if delivery:
        data["alerting"]["delivery"] = delivery
    if traps:
        data["traps"] = {"listen": f"127.0.0.1:{free_udp_port()}", "credentials": data["traps"]["credentials"]}
    else:
        data["traps"] = None
    for secret in demo.parent.glob("*.secret"):
        (tmp / secret.name).write_text(secret.read_text())
    config = tmp / "wifimon.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return Run(name, tmp, config, data)


def land_sites(run: Run) -> list[str]:
    return [s["id"] for s in run.data["sites"] if s.get("kind", "land") == "land"]


def fleet_up(mon: Monitor) -> None:
    wait_until("the fleet up", lambda: sum(1 for line in mon.metrics().splitlines()
                                           if line.startswith("wifi_ap_up{") and line.endswith(" 1.0")) >= FLEET, 180)


def rss(mon: Monitor) -> int:
    assert mon.proc is not None
    status = Path(f"/proc/{mon.proc.pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) // 1024  # type: ignore[union-attr]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mean_round(before: str, after: str, name: str) -> float:
    """Mean duration of the rounds of ``name`` between two scrapes."""
    def total(m: str, what: str) -> float:
        return sample(m, f"wifimon_round_duration_seconds_{what}", round=name) or 0.0
    n = total(after, "count") - total(before, "count")
    return (total(after, "sum") - total(before, "sum")) / n if n else float("nan")


def judge(run: Run, hook: Hook, faulted: dict[str, float], *, resolves: bool = True) -> list[OutageRecord]:
    """Lost, duplicated, outage rows lost, false downs, page latency: from the webhook and the store. Returns
    the store's site outages."""
    lost = dup = 0
    latency = []
    for site, at in faulted.items():
        key = f"site_down:{site}"
        kinds = Counter(hook.kinds(key))
        lost += (kinds["firing"] == 0) + (resolves and kinds["resolved"] == 0)
        dup += max(0, kinds["firing"] - 1) + max(0, kinds["resolved"] - 1)
        first = min((g["at"] for g in hook.got if g["key"] == key and g["kind"] == "firing"), default=None)
        if first is not None:
            latency.append(first - at)
    ids = Counter(g["id"] for g in hook.got)
    dup += sum(n - 1 for n in ids.values() if n > 1)
    store = Store(run.store_url)
    try:
        outages = [o for o in store.outages(0, 4e9) if o.scope == "site"]
    finally:
        store.close()
    closed = {o.entity for o in outages if o.ended_at is not None}
    rows_lost = sum(1 for s in faulted if s not in closed) if resolves else sum(
        1 for s in faulted if s not in {o.entity for o in outages})
    false = sorted({o.entity for o in outages} - set(faulted))
    run.row.update(lost=str(lost), duplicated=str(dup), rows_lost=str(rows_lost), false_downs=str(len(false)),
                   latency=f"{statistics.median(latency):.1f} / {max(latency):.1f} s" if latency else "-")
    return outages


# -- the scenarios ---------------------------------------------------------------------------------------


def sigkill(args: argparse.Namespace) -> Run:
    hook = Hook()
    run = prepare("sigkill", {"hook": {"type": "webhook", "url": hook.url, "timeout": 5}})
    sites = random.Random(1).sample(land_sites(run), 10)
    with simulator(run.config, run.tmp) as control:
        mon = Monitor(run.config, run.tmp).start()
        try:
            fleet_up(mon)
            before = rss(mon)
            faulted = {}
            for s in sites:
                send_fault(f"{s}=down", control=control)
                faulted[s] = time.time()
            wait_until("every page", lambda: all(hook.kinds(f"site_down:{s}") for s in sites), 120)
            mon.stop(kill=True)
            mon.start()
            fleet_up_except(mon, len(sites))
            for s in sites:
                send_fault(f"{s}=up", control=control)
            wait_until("every resolve", lambda: all("resolved" in hook.kinds(f"site_down:{s}") for s in sites), 120)
            after = rss(mon)
        finally:
            mon.stop()
    judge(run, hook, faulted)
    run.row.update(rss=f"{before} → {after} MB (restarted)", notes="SIGKILL with 10 sites down and paged; restarted")
    return run


def fleet_up_except(mon: Monitor, down: int) -> None:
    wait_until("the fleet up again", lambda: sum(1 for line in mon.metrics().splitlines()
                                                 if line.startswith("wifi_ap_up{") and line.endswith(" 1.0"))
               >= FLEET - 2 * down, 180)


@dataclass
class StoreFault:
    """How a scenario takes the store's writes away (``cut``) and gives them back (``mend``)."""

    what: str  # for the notes: "writes refused 300 s (...)"
    cut: Callable[[], object]
    mend: Callable[[], object]
    kill: bool = True  # SIGKILL the monitor at the end of the outage, restart it once the store is back
    restart_while_cut: bool = False  # and try a restart before that, while the store is still cut


def store_outage(run: Run, hook: Hook, fault: StoreFault, down_for: float, sites: list[str],
                 back_during: int) -> None:
    """The store cut for ``down_for`` seconds; ``sites`` go down meanwhile, the first ``back_during`` of them
    come back within it, the rest after it. Pages and resolves are due while the store is cut."""
    with simulator(run.config, run.tmp) as control:
        mon = Monitor(run.config, run.tmp).start()
        try:
            fleet_up(mon)
            before = rss(mon)
            ready = mon.url.replace("/metrics", "/readyz")
            fault.cut()
            cut = time.time()
            faulted = {}
            for s in sites:
                send_fault(f"{s}=down", control=control)
                faulted[s] = time.time()
            wait_until("every page", lambda: all(hook.kinds(f"site_down:{s}") for s in sites), 120)
            why = wait_until("/readyz 503", lambda: (r := httpx.get(ready, timeout=10)).status_code == 503
                             and r.text.strip(), 120)
            not_ready_after = time.time() - cut
            back = {}
            for s in sites[:back_during]:
                send_fault(f"{s}=up", control=control)
                back[s] = time.time()
            wait_until("the resolves within the outage", lambda: all(
                "resolved" in hook.kinds(f"site_down:{s}") for s in sites[:back_during]), 120)
            time.sleep(max(0.0, cut + down_for - time.time()))  # the outage of the store lasts this long
            during = rss(mon)
            restart = ""
            if fault.kill:
                mon.stop(kill=True)
                if fault.restart_while_cut:
                    try:
                        mon.start()
                        restart = "; a restart while cut started"
                    except Exited as exc:
                        said = str(exc).split(" exited with ", 1)[-1].strip().splitlines()[-1]
                        restart = f"; a restart while cut exited {said[:110]}…"
            sent_while_cut = [g for g in hook.got if g["key"].startswith("site_down:")]
            fault.mend()
            mended = time.time()
            if fault.kill and (mon.proc is None or mon.proc.poll() is not None):
                mon.start()
            wait_until("/readyz 200 again", lambda: httpx.get(ready, timeout=10).status_code == 200, 120)
            ready_after = time.time() - mended
            fleet_up_except(mon, len(sites) - back_during)
            for s in sites[back_during:]:
                send_fault(f"{s}=up", control=control)
                back[s] = time.time()
            wait_until("every resolve", lambda: all("resolved" in hook.kinds(f"site_down:{s}") for s in sites), 120)
            wait_until("the store alert resolved", lambda: "resolved" in hook.kinds("service_store:store"), 120)
            after = rss(mon)
        finally:
            mon.stop()
    outages = judge(run, hook, faulted)
    recorded = sum(o.ended_at - o.started_at for o in outages if o.ended_at is not None)
    store_alert = Counter(hook.kinds("service_store:store"))
    firing_while_cut = sum(1 for g in sent_while_cut if g["kind"] == "firing" and g["at"] < mended)
    run.row.update(rss=f"{before} → {after} MB" + (" (restarted)" if fault.kill else ""), notes=(
        f"{fault.what}; {len(sites)} sites down, {back_during} back within it"
        + (", SIGKILL at its end" if fault.kill else "") + restart
        + f"; pages sent while cut {firing_while_cut} of {len(sites)}; {len(outages)} outage rows, "
        f"{recorded:.0f} s of downtime recorded of {sum(back[s] - faulted[s] for s in sites):.0f} s faulted; "
        f"/readyz 503 after {not_ready_after:.0f} s (\"{str(why)[:60]}…\"), 200 {ready_after:.0f} s after mending; RSS at the outage's end {during} MB; store alert "
        f"fired {store_alert['firing']}, resolved {store_alert['resolved']}"))


def store_locked(args: argparse.Namespace) -> Run:
    hook = Hook()
    run = prepare("store-locked", {"hook": {"type": "webhook", "url": hook.url, "timeout": 5}})
    lock = sqlite3.connect(run.tmp / "chaos.db", isolation_level=None, timeout=30)
    try:
        store_outage(run, hook, StoreFault(
            f"writes refused {args.lock_for:.0f} s (another process holds SQLite's write lock)",
            lambda: lock.execute("BEGIN EXCLUSIVE"), lambda: lock.execute("COMMIT")),
            args.lock_for, random.Random(2).sample(land_sites(run), 10), 0)
    finally:
        lock.close()
    return run


def pg_stopped(args: argparse.Namespace) -> Run:
    hook = Hook()
    with own_postgres() as pg:
        run = prepare("pg-stopped", {"hook": {"type": "webhook", "url": hook.url, "timeout": 5}}, store_url=pg.url)
        journal = ROOT / Store(pg.url).journal_path().name  # type: ignore[union-attr]  # the monitor's cwd
        try:
            store_outage(run, hook, StoreFault(
                f"PostgreSQL (a cluster of its own, port {pg.port}) stopped {args.pg_down_for:.0f} s (pg_ctl -m fast)",
                pg.stop, pg.start, restart_while_cut=True),
                args.pg_down_for, random.Random(6).sample(land_sites(run), 10), 5)
            run.row["notes"] += f"; journal left {journal.stat().st_size} bytes"
        finally:
            journal.unlink(missing_ok=True)
    return run


def disk_full(args: argparse.Namespace) -> Run:
    hook = Hook()
    with small_tmpfs(args.tmpfs_mb) as disk:
        if disk is None:
            raise SystemExit(f"disk-full: {tmpfs_unavailable()}")
        run = prepare("disk-full", {"hook": {"type": "webhook", "url": hook.url, "timeout": 5}},
                      store_url=f"sqlite:///{disk}/chaos.db")
        filler: list[Path] = []
        store_outage(run, hook, StoreFault(
            f"SQLite on a {args.tmpfs_mb} MiB tmpfs (its WAL just checkpointed) filled to ENOSPC for "
            f"{args.full_for:.0f} s",
            lambda: filler.append(fill_beside(disk / "chaos.db")), lambda: filler.pop().unlink(), kill=False),
            args.full_for, random.Random(7).sample(land_sites(run), 10), 5)
    return run


def dead_channel(args: argparse.Namespace) -> Run:
    hook = Hook()
    dead = f"http://127.0.0.1:{free_port()}/hook"
    run = prepare("dead-channel", {"dead": {"type": "webhook", "url": dead, "timeout": 2},
                                   "live": {"type": "webhook", "url": hook.url, "timeout": 5}},
                  delivery={"batch": 10})
    store = Store(run.store_url)
    store.migrate()
    now = time.time()
    backlog = []
    for i in range(2000):
        alert = Alert(key=f"site_down:old-{i}", rule=Rule.SITE_DOWN, severity="critical", since=now - 60)
        n = Notification("firing", alert, ("dead",), now - 30, now - 30, 1)
        mid = f"backlog-{i}"
        backlog.append(OutboxMessage(message_id=mid, alert_key=alert.key, channel="dead", kind="firing",
                                     payload=payload.build(n, mid, "ko", ZoneInfo("UTC")),
                                     created_at=now - 30))
    save_alerting(store, [], backlog)
    store.close()
    sites = random.Random(3).sample(land_sites(run), 30)
    with simulator(run.config, run.tmp) as control:
        mon = Monitor(run.config, run.tmp).start()
        try:
            fleet_up(mon)
            before = rss(mon)
            faulted = {}
            for s in sites:
                send_fault(f"{s}=down", control=control)
                faulted[s] = time.time()
            wait_until("30 pages on the live channel", lambda: all(hook.kinds(f"site_down:{s}") for s in sites), 180)
            for s in sites:
                send_fault(f"{s}=up", control=control)
            wait_until("30 resolves", lambda: all("resolved" in hook.kinds(f"site_down:{s}") for s in sites), 180)
            after = rss(mon)
        finally:
            mon.stop()
    judge(run, hook, faulted)
    run.row.update(rss=f"{before} → {after} MB",
                   notes="live channel beside a refused one with 2,000 queued, batch 10")
    return run


def channel_500(args: argparse.Namespace) -> Run:
    hook = Hook(failing=True)
    run = prepare("channel-500", {"hook": {"type": "webhook", "url": hook.url, "timeout": 5}})
    sites = random.Random(4).sample(land_sites(run), 20)
    with simulator(run.config, run.tmp) as control:
        mon = Monitor(run.config, run.tmp).start()
        try:
            fleet_up(mon)
            before = rss(mon)
            failing_since = time.time()
            faulted = {}
            for s in sites:
                send_fault(f"{s}=down", control=control)
                faulted[s] = time.time()
            time.sleep(args.fail_for / 2)  # the sites stay down half the failure, then come back within it
            for s in sites:
                send_fault(f"{s}=up", control=control)
            time.sleep(max(0.0, failing_since + args.fail_for - time.time()))
            hook.failing = False
            healed = time.time()
            wait_until("40 deliveries", lambda: all(len(hook.kinds(f"site_down:{s}")) >= 2 for s in sites), 600)
            drained = max(g["at"] for g in hook.got if g["key"].startswith("site_down:")) - healed
            after = rss(mon)
        finally:
            mon.stop()
    judge(run, hook, faulted)
    order = all(hook.kinds(f"site_down:{s}") == ["firing", "resolved"] for s in sites)
    run.row.update(latency="(queued)", rss=f"{before} → {after} MB", notes=(
        f"500 for {args.fail_for:.0f} s; queue drained {drained:.1f} s after healing; firing before resolved "
        f"for every site: {order}"))
    return run


def trap_flood(args: argparse.Namespace) -> Run:
    hook = Hook()
    run = prepare("trap-flood", {"hook": {"type": "webhook", "url": hook.url, "timeout": 5}}, traps=True)
    port = int(run.data["traps"]["listen"].rsplit(":", 1)[1])
    community = (run.tmp / "demo-community.secret").read_text().strip()
    kinds = hostile_datagrams(run.tmp, random.Random(5), community)
    aps = [ap["address"].rsplit(":", 1)[0] for s in run.data["sites"] for ap in s["aps"]][:50]
    strangers = [f"127.{random.randint(1, 99)}.{random.randint(0, 250)}.{random.randint(1, 250)}" for _ in range(50)]
    with simulator(run.config, run.tmp):
        mon = Monitor(run.config, run.tmp).start()
        try:
            fleet_up(mon)
            before = rss(mon)
            m0 = mon.metrics()
            assert mon.proc is not None
            cpu0, started = cpu_seconds(mon.proc.pid), time.time()
            subprocess.run(flood_command(run.tmp, kinds, "127.0.0.1", port, args.datagrams,
                                         [a for pair in zip(aps, strangers, strict=True) for a in pair]),
                           check=True, timeout=3600)
            took = time.time() - started
            cpu = (cpu_seconds(mon.proc.pid) - cpu0) / took
            m_flood = mon.metrics()
            rounds = sample(mon.metrics(), "wifimon_rounds_total", round="probe") or 0.0
            wait_until("two more probe rounds", lambda: (sample(mon.metrics(), "wifimon_rounds_total", round="probe")
                                                         or 0) >= rounds + 2, 120)
            m1 = mon.metrics()
            after = rss(mon)
        finally:
            mon.stop()
    judge(run, hook, {}, resolves=False)
    overruns = sum((sample(m1, "wifimon_round_overruns_total", round=r) or 0)
                   - (sample(m0, "wifimon_round_overruns_total", round=r) or 0) for r in ("probe", "metrics"))
    counted = {r: int(sample(m1, "wifimon_traps_received_total", result=r) or 0)
               for r in ("rate_limited", "unknown_source", "malformed", "bad_auth", "accepted", "unrecognised")}
    pages = sum(1 for g in hook.got if g["key"].startswith("site_down:"))
    run.row.update(lost="-", duplicated="-", latency="-", rss=f"{before} → {after} MB", notes=(
        f"{args.datagrams:,} datagrams in {took:.0f} s; monitor CPU {cpu:.0%} meanwhile; mean probe round "
        f"{mean_round(m0, m_flood, 'probe'):.1f} s during the flood (interval {run.data['service'].get('probe_interval', 15)} s), "
        f"overruns {overruns:.0f}; site-down pages {pages}; counted {counted}"))
    return run


def slow_clients(args: argparse.Namespace) -> Run:
    hook = Hook()
    run = prepare("slow-clients", {"hook": {"type": "webhook", "url": hook.url, "timeout": 5}})
    with simulator(run.config, run.tmp):
        mon = Monitor(run.config, run.tmp).start()
        stuck: list[socket.socket] = []
        try:
            fleet_up(mon)
            before = rss(mon)
            port = int(mon.url.split(":")[2].split("/")[0])

            def scrape() -> float:
                t = time.monotonic()
                httpx.get(mon.url, timeout=60).raise_for_status()
                return time.monotonic() - t

            alone = statistics.median(scrape() for _ in range(5))
            for _ in range(200):
                s = socket.create_connection(("127.0.0.1", port))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                stuck.append(s)
            beside = statistics.median(scrape() for _ in range(5))
            after = rss(mon)
        finally:
            for s in stuck:
                s.close()
            mon.stop()
    judge(run, hook, {}, resolves=False)
    run.row.update(lost="-", duplicated="-", latency="-", rss=f"{before} → {after} MB", notes=(
        f"/metrics median {alone * 1000:.0f} ms alone, {beside * 1000:.0f} ms beside 200 clients that never read"))
    return run


SCENARIOS: dict[str, Callable[[argparse.Namespace], Run]] = {
    "sigkill": sigkill, "store-locked": store_locked, "pg-stopped": pg_stopped, "disk-full": disk_full,
    "dead-channel": dead_channel, "channel-500": channel_500,
    "trap-flood": trap_flood, "slow-clients": slow_clients,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    ap.add_argument("--quick", action="store_true", help="shorter store outage and channel failure, 10^5 datagrams")
    ap.add_argument("--lock-for", type=float, default=300.0, help="seconds the store refuses writes")
    ap.add_argument("--pg-down-for", type=float, default=600.0, help="seconds PostgreSQL is stopped")
    ap.add_argument("--full-for", type=float, default=300.0, help="seconds the store's disk is full")
    ap.add_argument("--tmpfs-mb", type=int, default=64, help="size of the store's tmpfs for disk-full")
    ap.add_argument("--fail-for", type=float, default=300.0, help="seconds the channel answers 500")
    ap.add_argument("--datagrams", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.quick:
        args.lock_for, args.pg_down_for, args.full_for, args.fail_for, args.datagrams = 60.0, 60.0, 60.0, 90.0, 100_000
    rows = []
    for name in args.only.split(","):
        started = time.time()
        run = SCENARIOS[name](args)
        run.row["took"] = f"{time.time() - started:.0f} s"
        rows.append(run)
        print(f"{name}: {run.row}", file=sys.stderr, flush=True)
    cols = ("lost", "duplicated", "rows_lost", "false_downs", "latency", "rss", "took", "notes")
    print("| scenario | notifications lost | duplicated | outage rows lost | false downs | page latency median / max "
          "| RSS before → after | took | notes |")
    print("|" + " --- |" * (len(cols) + 1))
    for run in rows:
        print(f"| {run.name} | " + " | ".join(run.row.get(c, "-") for c in cols) + " |")


if __name__ == "__main__":
    main()
