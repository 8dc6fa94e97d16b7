"""Ground-truth soak (issue 10's proof): a seeded fault schedule against the demo fleet, compared with what
wifimon said about it.

The schedule is drawn from ``--seed`` and written to ``--schedule`` before anything runs: whole-site
outages, blips shorter than the confirmation window, single-AP outages and garbage replies at multi-AP
sites, slow replies below the timeout, real reboots, LTE loss bursts on the ferries, controller outages
(its snmpsim SIGSTOPped, then continued), a monitor restart (SIGTERM, down for ``--restart-down`` s) and a
SIGKILL. The simulator and `wifimon run` (the demo config with its own store and a webhook channel to a
receiver here) run as processes with default intervals. The soak's copy of the config adds a controller:
snmpsim serving the Cisco Business Wireless recording of ../shared/snmprec, watching four APs of three
land sites by the names in its AP table (a two-AP site wholly, a one-AP site, one AP of another two-AP site).
Afterwards the alerts received, the store's outages, reboot events and monitoring gaps (the report's
'unknown') are compared with the schedule:

* every site outage alerted once (site_down) and resolved once; its stored downtime within one probe
  interval of the truth;
* no site_down or site_degraded alert for blips, slow replies, single-AP faults or loss bursts, and
  none for sites without a fault;
* every controller outage is one controller_down alert, fired once and resolved once; no site alert is
  sent for the sites it watches, yet their records stay, as monitor.alerting.rules documents: its APs are
  down (an unanswered controller is no proof of life), each with one stored AP outage, a site it watches
  wholly has one stored site outage within a probe interval of the truth and its site_down alert stored
  as recorded but never sent; no controller_down without an outage and no controller_table_lost at all;
* reboot events = reboots injected, exactly (the ap_rebooted alerts they cause are expected);
* unknown time = the time the monitor was down (within a heartbeat and a start-up);
* the monitor's RSS, sampled every 30 s, flat within 10 % in each monitor process once it is warm (from
  WARM_UP after its first sample; a restarted process starts small again, so processes are not compared).

    .venv/bin/python bench/soak.py --minutes 60 --faults 220 --results bench/RESULTS.md   # the hour
    .venv/bin/python bench/soak.py --minutes 5 --faults 30 --json out.json                # the test's

Prints the per-fault table and the summary (Markdown); ``--json`` writes the verdicts for a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.cli.simulate import send_fault  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.alerting import list_alerts  # noqa: E402
from tests.agents import copy_recordings, shared_dir, snmpsim_agent  # noqa: E402
from tests.e2e import Monitor, free_block, free_port, simulator, wait_until  # noqa: E402

PROBE_INTERVAL = 15.0  # the demo's (default) intervals; the tolerances below are stated in them
SITE_KINDS = ("site_outage", "blip", "lte_loss")  # faults of a whole site
AP_KINDS = ("ap_outage", "garbage", "slow", "reboot")  # faults of one AP
MONITOR_KINDS = ("restart", "kill")
CONTROLLER = "soak-wlc"
RECORDING = "ciscowlc_cbw240ac"  # a Cisco Business Wireless 240AC master AP: four APs in its bsnAPTable
BSN_AP_NAME = "1.3.6.1.4.1.14179.2.2.1.1.3."  # AIRESPACE-WIRELESS-MIB::bsnAPName, indexed by the AP's MAC
ALERTING = {"site_outage"}  # the only faults that must page
MARGIN = 60.0  # quiet time around every fault on the same site, and around monitor downtime
KILL_DOWN = 15.0  # seconds the SIGKILLed monitor stays down
WARM_UP = 600.0  # a monitor process's first seconds (caches, first rounds, month-to-date) are not judged for RSS
RSS_LIMIT = 0.10  # growth of a warm process's RSS, max / min - 1


@dataclass(frozen=True)
class Fault:
    kind: str
    target: str  # a site or AP id; "" for the monitor's own faults
    site: str
    start: float  # seconds after the soak began
    duration: float  # 0 for a reboot


def plan(seed: int, seconds: float, faults: int, inventory: dict[str, Any],
         restart_down: float) -> tuple[list[Fault], float]:
    """A seeded schedule of ``faults`` faults (two of them the monitor's) and how long the soak runs.

    Device faults happen in ``[60, seconds - 2 × MARGIN]``. In a long soak the monitor's restart and kill
    fall inside that span (at 40 % and 70 %, no device fault near them); a short one has no room for
    both with their margins, so they follow the device faults and the soak runs that much longer.
    """
    rng = random.Random(seed)
    hour = seconds >= 1800
    controllers = [c["id"] for c in inventory.get("controllers") or []]
    watched = {s["id"] for s in inventory["sites"] if any(a.get("controller") for a in s["aps"])}
    # A site watched through a controller has the controller's outages as its only faults.
    land = [s for s in inventory["sites"] if s.get("kind", "land") == "land" and s["id"] not in watched]
    multi = [s for s in land if len(s["aps"]) > 1]
    ferries = [s for s in inventory["sites"] if s.get("kind") == "ferry"]
    end = seconds - 2 * MARGIN  # every fault is over (and its recovery seen) before the soak ends
    restart_at = round(seconds * 0.4) if hour else seconds
    kill_at = round(seconds * 0.7) if hour else restart_at + restart_down + MARGIN
    monitor = [Fault("restart", "", "", restart_at, restart_down), Fault("kill", "", "", kill_at, KILL_DOWN)]
    total = seconds if hour else kill_at + KILL_DOWN + MARGIN
    blocked = [(f.start - MARGIN, f.start + f.duration + MARGIN) for f in monitor]
    busy: dict[str, list[tuple[float, float]]] = {}
    out: list[Fault] = []
    weights = {"site_outage": 5, "blip": 3, "ap_outage": 3, "garbage": 2, "slow": 3, "reboot": 2, "lte_loss": 1,
               "controller_outage": 1}
    attempts = 0
    while len(out) < faults - len(monitor) and attempts < 100 * faults:
        attempts += 1
        placed = any(f.kind == "controller_outage" for f in out)
        kind = "controller_outage" if controllers and not placed else rng.choices(list(weights), list(weights.values()))[0]
        if kind == "controller_outage":  # the first fault drawn, so that every soak has one
            if not controllers:
                continue
            target = rng.choice(controllers)
            site_id, key = "", f"controller:{target}"
        else:
            pool = ferries if kind == "lte_loss" else multi if kind in ("ap_outage", "garbage") else land
            if not pool:
                continue
            site = rng.choice(pool)
            target = rng.choice(site["aps"])["id"] if kind in AP_KINDS else site["id"]
            site_id = key = site["id"]
        duration = {"site_outage": rng.uniform(30, 600 if hour else 90), "blip": rng.uniform(2, 4),
                    "controller_outage": rng.uniform(60, 300 if hour else 90),
                    "reboot": 0.0}.get(kind, rng.uniform(30, 300 if hour else 60))
        start = rng.uniform(60, end - duration)
        span = (start - MARGIN, start + duration + MARGIN)
        if any(a < span[1] and span[0] < b for a, b in blocked + busy.get(key, [])):
            continue
        busy.setdefault(key, []).append(span)
        out.append(Fault(kind, target, site_id, round(start, 1), round(duration, 1)))
    return sorted(out + monitor, key=lambda f: f.start), total


def recorded_aps(recording: Path) -> list[str]:
    """The AP names in a Cisco controller recording's AP table (bsnAPName), in table order."""
    return [line.rsplit("|", 1)[1] for line in recording.read_text(encoding="utf-8").splitlines()
            if line.startswith(BSN_AP_NAME)]


def attach_controller(data: dict[str, Any], names: list[str], address: str, seed: int) -> None:
    """Add the controller to the config and watch four land APs through it, by the names its table lists.

    A multi-AP site wholly (its site outage is the controller's), a one-AP site, and one AP of another
    multi-AP site, whose other AP keeps answering: three sites, drawn from ``seed``.
    """
    if len(names) < 4:
        raise SystemExit(f"soak: {RECORDING} lists {len(names)} AP(s); the soak needs 4")
    rng = random.Random(seed)
    land = [s for s in data["sites"] if s.get("kind", "land") == "land"]
    whole, part = rng.sample([s for s in land if len(s["aps"]) > 1], 2)
    one = rng.choice([s for s in land if len(s["aps"]) == 1])
    for ap, name in zip(whole["aps"] + one["aps"] + part["aps"][:1], names, strict=False):
        ap.update(controller=CONTROLLER, controller_ap=name)
    data["credentials"]["soak-controller"] = {"version": "2c", "community": {"file": "controller-community.secret"}}
    data["controllers"] = [{"id": CONTROLLER, "address": address, "credentials": "soak-controller",
                            "profile": "cisco_wlc"}]


class Receiver:
    """The webhook receiver: every wifimon.alert/v1 message with the time it arrived."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.messages.append((time.time(), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@dataclass
class Run:
    """What happened, in unix seconds: when each fault really began and ended, the monitor's downtime."""

    t0: float = 0.0
    began: dict[int, float] = field(default_factory=dict)
    ended: dict[int, float] = field(default_factory=dict)
    monitor_down: list[tuple[float, float]] = field(default_factory=list)
    rss: list[tuple[int, float, int]] = field(default_factory=list)  # (monitor pid, unix time, RSS KiB)


def _rss_kib(mon: Monitor) -> int | None:
    try:
        text = Path(f"/proc/{mon.proc.pid}/status").read_text()  # type: ignore[union-attr]
    except OSError:
        return None
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("VmRSS:")), None)


def rss_growths(samples: list[tuple[int, float, int]], warm_up: float) -> dict[str, float]:
    """Per monitor process (pid) with at least two warm samples: max / min - 1 of its RSS from ``warm_up`` s
    after its first sample, keyed "pid (from–to min of the run)"."""
    by_pid: dict[int, list[tuple[float, int]]] = {}
    for pid, at, kib in samples:
        by_pid.setdefault(pid, []).append((at, kib))
    t0 = min((at for _, at, _ in samples), default=0.0)
    out: dict[str, float] = {}
    for pid, rows in by_pid.items():
        warm = [(at, kib) for at, kib in rows if at >= rows[0][0] + warm_up]
        if len(warm) > 1:
            kibs = [kib for _, kib in warm]
            key = f"{pid} ({(warm[0][0] - t0) / 60:.0f}-{(warm[-1][0] - t0) / 60:.0f} min)"
            out[key] = round(max(kibs) / min(kibs) - 1, 4)
    return out


def execute(schedule: list[Fault], config: Path, tmp: Path, seconds: float, fleet_size: int,
            controllers: dict[str, int]) -> Run:
    """Run simulator and monitor, apply the schedule at its times; returns when every fault is over.

    ``controllers``: controller id → the pid of the agent serving it (stopped and continued for its outages).
    """
    run = Run()
    actions: list[tuple[float, int, str]] = []  # (offset, fault index, "begin" | "end")
    for i, f in enumerate(schedule):
        actions.append((f.start, i, "begin"))
        if f.kind != "reboot":
            actions.append((f.start + f.duration, i, "end"))
    actions.sort()
    with simulator(config, tmp) as control:
        mon = Monitor(config, tmp).start()
        try:
            wait_until("the fleet up", lambda: sum(
                1 for line in mon.metrics().splitlines()
                if line.startswith("wifi_ap_up{") and line.endswith(" 1.0")) >= fleet_size, 180)
            run.t0 = time.time()
            next_rss = run.t0
            for offset, i, step in actions:
                while time.time() < run.t0 + offset:
                    if time.time() >= next_rss and mon.proc and mon.proc.poll() is None:
                        if (rss := _rss_kib(mon)) is not None:
                            run.rss.append((mon.proc.pid, time.time(), rss))
                        next_rss += 30
                    time.sleep(min(0.2, max(0.0, run.t0 + offset - time.time())))
                f = schedule[i]
                if f.kind == "controller_outage":  # silent while stopped, as a hung or unplugged controller
                    os.kill(controllers[f.target], signal.SIGSTOP if step == "begin" else signal.SIGCONT)
                elif f.kind in MONITOR_KINDS:
                    if step == "begin":
                        mon.stop(kill=f.kind == "kill")
                    else:
                        mon.start()
                        run.monitor_down.append((run.began[i], time.time()))
                else:
                    spec = {"site_outage": "down", "blip": "down", "ap_outage": "down", "garbage": "garbage",
                            "slow": "slow:1.5", "reboot": "reboot", "lte_loss": "loss:0.3"}[f.kind]
                    send_fault(f"{f.target}={spec if step == 'begin' else 'up'}", control=control)
                (run.began if step == "begin" else run.ended)[i] = time.time()
            # Recoveries are seen within a probe round and a re-check; the outbox delivers within seconds.
            time.sleep(max(0.0, run.t0 + seconds - time.time()))
        finally:
            mon.stop()
            for pid in controllers.values():  # an interrupted soak leaves no agent stopped
                os.kill(pid, signal.SIGCONT)
    return run


def watched_sites(inventory: dict[str, Any], controller: str) -> dict[str, tuple[list[str], bool]]:
    """Site → (its APs watched through ``controller``, whether that is all of the site's APs)."""
    out: dict[str, tuple[list[str], bool]] = {}
    for s in inventory["sites"]:
        aps = [a["id"] for a in s["aps"] if a.get("controller") == controller]
        if aps:
            out[s["id"]] = (aps, len(aps) == len(s["aps"]))
    return out


def judge(schedule: list[Fault], run: Run, receiver: Receiver, store: Store, end: float,
          inventory: dict[str, Any]) -> dict[str, Any]:
    """Compare what wifimon said with the schedule: per-fault rows and the verdicts."""
    firing: dict[str, list[float]] = {}
    resolved: dict[str, list[float]] = {}
    seen: set[str] = set()
    for at, m in receiver.messages:
        if m["id"] in seen:  # a retried delivery carries the same id
            continue
        seen.add(m["id"])
        key = m["alert"]["key"]
        if m["kind"] == "firing":
            firing.setdefault(key, []).append(at)
        elif m["kind"] == "resolved":
            resolved.setdefault(key, []).append(at)
    everything = store.outages(run.t0, end)
    outages = [o for o in everything if o.scope.value == "site"]
    ap_outages = [o for o in everything if o.scope.value == "ap"]
    records = list_alerts(store, since=run.t0, limit=100_000)
    reboots = [e.event for e in store.events(run.t0 - 60, end) if e.event.kind == "reboot"]
    rows: list[dict[str, Any]] = []
    faulted_sites = {f.site for f in schedule if f.site}
    problems: list[str] = []
    for i, f in enumerate(schedule):
        row: dict[str, Any] = {"fault": i, **asdict(f)}
        if f.kind in MONITOR_KINDS:
            rows.append(row)
            continue
        began, ended = run.began[i], run.ended.get(i, run.began[i])
        if f.kind == "controller_outage":
            row.update(_controller_verdict(f, i, began, ended, end, watched_sites(inventory, f.target), firing,
                                           resolved, outages, ap_outages, records, problems))
            rows.append(row)
            continue
        pages = _site_pages(firing, f.site, began, ended)
        if f.kind in ALERTING:
            stored = _stored(outages, f.site, began, ended, end)
            resolves = [t for t in resolved.get(f"site_down:{f.site}", []) if began <= t <= ended + 4 * PROBE_INTERVAL]
            row["alert_latency_s"] = round(pages[0] - began, 1) if pages else None
            row["alerts"], row["resolves"] = len(pages), len(resolves)
            row["detected"] = [(round(o.started_at - began, 1), round((o.ended_at or end) - began, 1)) for o in stored]
            downtime = sum((o.ended_at or end) - o.started_at for o in stored)
            row["downtime_s"], row["truth_s"] = round(downtime, 1), round(ended - began, 1)
            if len(pages) != 1 or len(resolves) != 1:
                problems.append(f"fault {i} {f.kind} {f.site}: {len(pages)} alert(s), {len(resolves)} resolve(s)")
            if len(stored) != 1 or abs(downtime - (ended - began)) > PROBE_INTERVAL:
                problems.append(f"fault {i} {f.kind} {f.site}: stored downtime {downtime:.0f} s for"
                                f" {ended - began:.0f} s in {len(stored)} outage(s)")
        else:
            row["alerts"] = len(pages)
            if pages:
                problems.append(f"fault {i} {f.kind} {f.target}: {len(pages)} alert(s), expected none")
        if f.kind == "reboot":  # a reboot event is dated at the boot it found: the moment of the fault
            counted = [e for e in reboots if e.entity == f.target and began - 5 <= e.at <= began + 5]
            row["reboots_reported"] = len(counted)
        rows.append(row)
    injected = sum(f.kind == "reboot" for f in schedule)
    reported = len(reboots)
    if reported != injected or any(r.get("reboots_reported", 1) != 1 for r in rows if r["kind"] == "reboot"):
        problems.append(f"reboots: {reported} reported for {injected} injected"
                        f" ({sorted({e.entity for e in reboots} - {f.target for f in schedule if f.kind == 'reboot'})}"
                        " without one)")
    strays = sorted(k for k in firing if k.split(":", 1)[0] in ("site_down", "site_degraded")
                    and k.split(":", 1)[1] not in faulted_sites)
    if strays:
        problems.append(f"alerts for sites without a fault: {strays}")
    outage_rows = [r for r in rows if r["kind"] == "controller_outage"]
    controller_pages = sum(len(v) for k, v in firing.items() if k.startswith("controller_down:"))
    if controller_pages != sum(r["alerts"] for r in outage_rows):
        problems.append(f"controller_down: {controller_pages} alert(s) in all, for"
                        f" {sum(r['alerts'] for r in outage_rows)} matched to the {len(outage_rows)} outage(s)")
    if lost := sorted(k for k in firing if k.startswith("controller_table_lost:")):
        problems.append(f"controller_table_lost for a controller whose table never changed: {lost}")
    unknown = sum(b - a for a, b in store.gaps(run.t0, end))
    down = sum(b - a for a, b in run.monitor_down)
    if abs(unknown - down) > 10.0:  # a heartbeat (5 s) and the start-up of the new run
        problems.append(f"unknown time {unknown:.0f} s for {down:.0f} s of monitor downtime")
    span = end - run.t0
    rss_growth = rss_growths(run.rss, min(WARM_UP, span / 3))
    if any(g > RSS_LIMIT for g in rss_growth.values()) and span >= 3 * WARM_UP:  # a short soak is all warm-up
        problems.append(f"RSS grew more than {RSS_LIMIT:.0%} in a warm monitor process: {rss_growth}")
    return {"rows": rows, "problems": problems, "reboots_injected": injected, "reboots_reported": reported,
            "unknown_s": round(unknown, 1), "monitor_down_s": round(down, 1), "rss_growth": rss_growth,
            "alerts_received": len(seen), "controller_outages": len(outage_rows),
            "controller_alerts": sum(r["alerts"] for r in outage_rows),
            "controller_resolves": sum(r["resolves"] for r in outage_rows),
            "controller_child_pages": sum(r["child_pages"] for r in outage_rows)}


def _site_pages(firing: dict[str, list[float]], site: str, began: float, ended: float) -> list[float]:
    """When site_down or site_degraded for ``site`` was sent between a fault's start and its recovery's."""
    return [t for rule in ("site_down", "site_degraded") for t in firing.get(f"{rule}:{site}", [])
            if began - 5 <= t <= ended + 4 * PROBE_INTERVAL]


def _stored(outages: list[Any], entity: str, began: float, ended: float, end: float) -> list[Any]:
    """The stored outages of ``entity`` that overlap a fault."""
    return [o for o in outages if o.entity == entity and o.started_at < ended + 2 * PROBE_INTERVAL
            and (o.ended_at or end) > began - 5]


def _controller_verdict(f: Fault, i: int, began: float, ended: float, end: float,
                        children: dict[str, tuple[list[str], bool]], firing: dict[str, list[float]],
                        resolved: dict[str, list[float]], outages: list[Any], ap_outages: list[Any],
                        records: list[Any], problems: list[str]) -> dict[str, Any]:
    """A controller outage: one controller_down, fired and resolved once; its children's records, no pages."""
    key = f"controller_down:{f.target}"
    pages = [t for t in firing.get(key, []) if began - 5 <= t <= ended + 4 * PROBE_INTERVAL]
    resolves = [t for t in resolved.get(key, []) if began <= t <= ended + 4 * PROBE_INTERVAL]
    child_pages = {site: len(_site_pages(firing, site, began, ended)) for site in children}
    row: dict[str, Any] = {"alerts": len(pages), "resolves": len(resolves),
                           "alert_latency_s": round(pages[0] - began, 1) if pages else None,
                           "child_pages": sum(child_pages.values()), "truth_s": round(ended - began, 1)}
    what = f"fault {i} controller_outage {f.target}"
    if len(pages) != 1 or len(resolves) != 1:
        problems.append(f"{what}: {len(pages)} controller_down alert(s), {len(resolves)} resolve(s)")
    if row["child_pages"]:
        problems.append(f"{what}: site alerts sent for the sites it watches: {child_pages}")
    detected, worst = [], None
    for site, (aps, wholly) in sorted(children.items()):
        for ap in aps:  # each AP it watches is down while it is silent: one stored AP outage
            if len(stored_ap := _stored(ap_outages, ap, began, ended, end)) != 1:
                problems.append(f"{what}: {len(stored_ap)} stored outage(s) of {ap}, expected 1")
        if not wholly:  # a site with other APs answering is degraded only after site_degraded_after
            continue
        stored = _stored(outages, site, began, ended, end)
        detected += [(round(o.started_at - began, 1), round((o.ended_at or end) - began, 1)) for o in stored]
        downtime = sum((o.ended_at or end) - o.started_at for o in stored)
        if worst is None or abs(downtime - (ended - began)) > abs(worst - (ended - began)):
            worst = downtime
        if len(stored) != 1 or abs(downtime - (ended - began)) > PROBE_INTERVAL:
            problems.append(f"{what}: stored downtime of {site} {downtime:.0f} s for {ended - began:.0f} s"
                            f" in {len(stored)} outage(s)")
        kept = [r for r in records if r.key == f"site_down:{site}" and began - 5 <= r.opened_at
                <= ended + 4 * PROBE_INTERVAL and r.fired_at is None]
        if len(kept) != 1:
            problems.append(f"{what}: {len(kept)} recorded-but-not-sent site_down record(s) of {site}, expected 1")
    row["detected"], row["downtime_s"] = detected, round(worst or 0.0, 1)
    return row


def markdown(result: dict[str, Any], seed: int, minutes: float) -> str:
    lines = [f"### Soak: {minutes:g} min, {len(result['rows'])} faults, seed {seed}", "",
             "| # | fault | target | start s | duration s | alerts | latency s | stored outage (s from fault)"
             " | stored downtime / truth s | reboots |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in result["rows"]:
        detected = "; ".join(f"{a:+.0f} → {b:+.0f}" for a, b in r.get("detected", []))
        if r["kind"] == "controller_outage":  # its alert is controller_down; the outages are its sites'
            detected = f"{detected} (its sites; site alerts sent: {r['child_pages']})"
        truth = f"{r['downtime_s']:.0f} / {r['truth_s']:.0f}" if "truth_s" in r else ""
        lines.append(f"| {r['fault']} | {r['kind']} | {r['target'] or 'monitor'} | {r['start']:.0f} |"
                     f" {r['duration']:.0f} | {r.get('alerts', '')} | {r.get('alert_latency_s') or ''} | {detected} |"
                     f" {truth} | {r.get('reboots_reported', '')} |")
    growth = "; ".join(f"{k}: {g:.1%}" for k, g in result["rss_growth"].items()) or "n/a"
    lines += ["", "| measure | value |", "| --- | --- |",
              f"| reboots reported / injected | {result['reboots_reported']} / {result['reboots_injected']} |",
              f"| unknown time / monitor down | {result['unknown_s']:.0f} s / {result['monitor_down_s']:.0f} s |",
              f"| controller outages: controller_down fired / resolved / site alerts sent for its sites |"
              f" {result['controller_outages']}: {result['controller_alerts']} / {result['controller_resolves']} /"
              f" {result['controller_child_pages']} |",
              f"| RSS growth of each warm monitor process (pid, minutes of the run) | {growth} |",
              f"| problems | {len(result['problems'])} |"]
    lines += [f"- {p}" for p in result["problems"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--faults", type=int, default=220)
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--restart-down", type=float, default=None, help="seconds the SIGTERMed monitor stays down"
                    " (default 120 for the hour, 30 for shorter soaks)")
    ap.add_argument("--schedule", type=Path, default=None, help="where the schedule is written (default: work dir)")
    ap.add_argument("--json", type=Path, default=None, help="write the verdicts here")
    ap.add_argument("--results", type=Path, default=None, help="append the Markdown tables to this file")
    args = ap.parse_args(argv)
    seconds = args.minutes * 60
    restart_down = args.restart_down if args.restart_down is not None else (120.0 if seconds >= 1800 else 30.0)

    tmp = Path(tempfile.mkdtemp(prefix="wifimon-soak-"))
    demo = ROOT / "config/demo/wifimon.yaml"
    # The demo fleet moved to loopback blocks of its own, so a soak runs beside the demo and the tests.
    land = free_block()
    ferry = next(b for b in iter(free_block, None) if b != land)
    text = demo.read_text(encoding="utf-8").replace("'127.20.", f"'127.{land}.").replace("'127.30.", f"'127.{ferry}.")
    data = yaml.safe_load(text)
    receiver = Receiver()
    data["service"].update(listen=f"127.0.0.1:{free_port()}", store_url=f"sqlite:///{tmp}/soak.db")
    data["traps"] = None
    data["alerting"] = {"channels": {"hook": {"type": "webhook", "url": receiver.url, "timeout": 5}}}
    (tmp / "demo-community.secret").write_text((demo.parent / "demo-community.secret").read_text())
    shared = shared_dir()
    if shared is None or not (shared / "snmprec" / f"{RECORDING}.snmprec").exists():
        print(f"soak: the controller recording {RECORDING}.snmprec is not in ../shared/snmprec"
              " (or $WIFIMON_SHARED/snmprec)", file=sys.stderr)
        return 2
    copy_recordings(shared / "snmprec", tmp / "snmprec", [RECORDING])
    with snmpsim_agent(tmp / "snmprec", tmp / "snmpsim", probe_community=RECORDING) as agent:
        attach_controller(data, recorded_aps(tmp / "snmprec" / f"{RECORDING}.snmprec"),
                          f"{agent.host}:{agent.port}", args.seed)
        (tmp / "controller-community.secret").write_text(RECORDING + "\n")
        config = tmp / "wifimon.yaml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

        schedule, total = plan(args.seed, seconds, args.faults, data, restart_down)
        schedule_file = args.schedule or tmp / "schedule.json"
        schedule_file.write_text(json.dumps([asdict(f) for f in schedule], indent=1) + "\n")
        print(f"soak: {len(schedule)} faults, {total / 60:.1f} min, schedule in {schedule_file}", flush=True)
        fleet_size = sum(len(s["aps"]) for s in data["sites"] if s.get("kind", "land") == "land")
        run = execute(schedule, config, tmp, total, fleet_size, {CONTROLLER: agent.pid})
    # What the verdicts rest on, kept beside the store for a second look.
    (tmp / "webhook.jsonl").write_text("".join(json.dumps([at, m]) + "\n" for at, m in receiver.messages))
    (tmp / "run.json").write_text(json.dumps(asdict(run)))
    result = judge(schedule, run, receiver, Store(f"sqlite:///{tmp}/soak.db"), run.t0 + total, data)
    text = markdown(result, args.seed, args.minutes)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    if args.results:
        with args.results.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
